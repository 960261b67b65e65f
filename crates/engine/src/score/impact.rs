//! Impact: how far the change propagates to downstream modules.
//!
//! For every changed file in the dependency graph (head graph; base graph for deleted files) the
//! transitive dependents are collected by walking imports backwards. Test files are counted apart
//! and never propagate; `impact.stop-at` files count as dependents but do not propagate either.
//!
//! ```text
//! reach  = |⋃ production dependents of the changed files| (changed files themselves excluded)
//! share  = reach / max(N, 50)          N = production files in the graph
//! impact = round(100 · max(1 − e^(−reach/scale), share))     scale = 25 by default
//! ```
//! Bounded 0–100 and monotone in reach: 5 dependents → 18, 25 → 63, 75 → 95.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::NodeIndex;
use serde::Serialize;

use serde::Deserialize;

use super::Dimension;
use crate::git::diff::ChangeSet;
use crate::glob::{GlobList, Pattern};
use crate::graph::DepGraph;

/// `impact:` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImpactSettings {
    /// Files that count as dependents but do not propagate further (barrels, generated clients).
    pub stop_at: Vec<Pattern>,
    /// Reach (downstream modules) at which the absolute part of the impact score is 63 (1 − 1/e).
    pub scale: f64,
    /// How many high-impact files and entry points the report lists.
    pub top: usize,
}

impl Default for ImpactSettings {
    fn default() -> Self {
        ImpactSettings {
            stop_at: Vec::new(),
            scale: 25.0,
            top: 10,
        }
    }
}

impl ImpactSettings {
    /// `Err((key, message))` on an invalid value.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err((
                "scale",
                format!("`impact.scale` must be > 0, got {}", self.scale),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImpactEvidence {
    /// Production files reached from the changed files (union, changed files excluded).
    pub reach: usize,
    /// Production files in the head graph.
    pub production_files: usize,
    /// Test files that depend on the changed files (counted apart, not scored).
    pub tests_affected: usize,
    /// Changed files in the graph, highest downstream count first.
    pub files: Vec<ImpactFile>,
    /// Entry points (production files nothing imports) reached, most reached first.
    pub entry_points: Vec<EntryPoint>,
    /// Changed files outside the dependency graph (not sources, or not imported by any source).
    pub outside_graph: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImpactFile {
    pub path: String,
    /// `head`, or `base` for a deleted file (its dependents at base lose it).
    pub graph: &'static str,
    pub direct: usize,
    pub downstream: usize,
    pub tests: usize,
    /// Production dependents, nearest first then by path (capped at `MAX_LISTED`).
    pub dependents: Vec<String>,
    pub dependents_truncated: bool,
    /// Stop-at files reached that were not propagated through.
    pub stopped_at: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryPoint {
    pub path: String,
    /// How many changed files reach it.
    pub reached_from: usize,
}

pub const MAX_LISTED: usize = 200;

pub struct ImpactInput<'a> {
    pub changes: &'a ChangeSet,
    pub head: &'a DepGraph,
    pub base: &'a DepGraph,
    /// Test files (counted apart, never propagating).
    pub tests: &'a GlobList,
    /// The dimension's weight in the composite.
    pub weight: f64,
}

pub fn score(input: ImpactInput, settings: &ImpactSettings) -> Dimension<ImpactEvidence> {
    let weight = input.weight;
    let tests = input.tests;
    let stop = GlobList::new(settings.stop_at.iter());
    let production = |g: &DepGraph, n: NodeIndex| {
        let node = &g.graph[n];
        !tests.is_match(&node.path)
    };
    let head_sources = input
        .head
        .graph
        .node_indices()
        .filter(|n| input.head.graph[*n].source)
        .count();
    let base_sources = input
        .base
        .graph
        .node_indices()
        .filter(|n| input.base.graph[*n].source)
        .count();
    if head_sources == 0 && base_sources == 0 {
        return Dimension::unavailable(
            weight,
            "no supported source files (TypeScript/JavaScript or Rust) in the repository, so there is no dependency graph",
        );
    }
    let production_files = input
        .head
        .graph
        .node_indices()
        .filter(|n| input.head.graph[*n].source && production(input.head, *n))
        .count();

    let changed: BTreeSet<&str> = input
        .changes
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let mut union: BTreeSet<String> = BTreeSet::new();
    let mut tests_union: BTreeSet<String> = BTreeSet::new();
    let mut entry_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = Vec::new();
    let mut outside = 0;

    for f in &input.changes.files {
        if tests.is_match(&f.path) {
            continue;
        }
        let (g, which, start) = if f.exists_at_head() {
            (input.head, "head", input.head.node(&f.path))
        } else {
            (input.base, "base", input.base.node(&f.path))
        };
        let Some(start) = start else {
            outside += 1;
            continue;
        };
        let mut stopped = Vec::new();
        let reached = g.dependents_of(start, |n| {
            let p = &g.graph[n].path;
            if !production(g, n) {
                return false;
            }
            if stop.is_match(p) {
                stopped.push(p.clone());
                return false;
            }
            true
        });
        let direct = g
            .direct_dependents(start)
            .filter(|n| production(g, *n))
            .count();
        let mut prod: Vec<(u32, &str)> = Vec::new();
        let mut test_count = 0;
        for (n, d) in &reached {
            let p = g.graph[*n].path.as_str();
            if production(g, *n) {
                prod.push((*d, p));
                if !changed.contains(p) {
                    union.insert(p.to_string());
                }
                let is_entry = g.direct_dependents(*n).all(|m| !production(g, m));
                if is_entry && which == "head" {
                    *entry_counts.entry(p.to_string()).or_default() += 1;
                }
            } else {
                test_count += 1;
                tests_union.insert(p.to_string());
            }
        }
        prod.sort();
        stopped.sort();
        stopped.dedup();
        files.push(ImpactFile {
            path: f.path.clone(),
            graph: which,
            direct,
            downstream: prod.len(),
            tests: test_count,
            dependents_truncated: prod.len() > MAX_LISTED,
            dependents: prod
                .iter()
                .take(MAX_LISTED)
                .map(|(_, p)| p.to_string())
                .collect(),
            stopped_at: stopped,
        });
    }
    files.sort_by(|a, b| b.downstream.cmp(&a.downstream).then(a.path.cmp(&b.path)));
    let mut entry_points: Vec<EntryPoint> = entry_counts
        .into_iter()
        .map(|(path, reached_from)| EntryPoint { path, reached_from })
        .collect();
    entry_points.sort_by(|a, b| {
        b.reached_from
            .cmp(&a.reached_from)
            .then(a.path.cmp(&b.path))
    });
    entry_points.truncate(settings.top.max(1) * 2);

    let reach = union.len();
    let scale = settings.scale;
    let absolute = 1.0 - (-(reach as f64) / scale).exp();
    let denominator = production_files.max(50) as f64;
    let share = reach as f64 / denominator;
    let value = (100.0 * absolute.max(share)).round().clamp(0.0, 100.0) as u8;

    let summary = if files.is_empty() {
        "no changed file is part of the dependency graph, so the change cannot propagate"
            .to_string()
    } else if reach == 0 {
        format!(
            "{} changed file(s) in the graph; nothing else in production code depends on them",
            files.len()
        )
    } else {
        format!(
            "the change reaches {reach} downstream module(s) of {production_files} production files{}",
            if tests_union.is_empty() {
                String::new()
            } else {
                format!(" (and {} test file(s))", tests_union.len())
            }
        )
    };
    let formula = format!(
        "impact = round(100 · max(1 − e^(−reach/{scale}), reach / max(N, 50))) with reach = {reach}, N = {production_files}: max({absolute:.3}, {share:.3}) → {value}"
    );
    Dimension {
        available: true,
        score: Some(value),
        weight,
        reason: None,
        summary,
        formula,
        evidence: ImpactEvidence {
            reach,
            production_files,
            tests_affected: tests_union.len(),
            files,
            entry_points,
            outside_graph: outside,
        },
    }
}
