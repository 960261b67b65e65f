//! Impact: what the change can break — the code that uses the declarations it changed.
//!
//! The reach is symbol-level ([`crate::graph::reach`]): from the declarations a change touched
//! (comment- and formatting-only edits touch none) to the declarations that use them, in the same
//! file and across files, transitively. A file reached only by type-only changes counts
//! `impact.type-weight` (0.25 by default): the compiler checks those uses, runtime behaviour does
//! not change. Test files are counted apart and never propagate; `impact.stop-at` files count but
//! do not propagate either.
//!
//! ```text
//! reach  = runtime files reached + type-weight × files reached only by type-only changes
//!          (production files, the changed files themselves excluded)
//! share  = reach / max(N, 50)          N = production files in the graph
//! impact = round(100 · max(1 − e^(−reach/scale), share))     scale = 25 by default
//! ```
//! Bounded 0–100 and monotone in reach: 1 file → 4, 5 → 18, 10 → 33, 25 → 63, 75 → 95.
//!
//! The structural count (every file downstream of a changed file in the graph, what a reviewer
//! sees in `pr-risk graph --dependents`) is reported beside it, not scored.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::NodeIndex;
use serde::Serialize;

use serde::Deserialize;

use super::Dimension;
use crate::deps::Change;
use crate::git::diff::ChangeSet;
use crate::glob::{GlobList, Pattern};
use crate::graph::reach::Reach;
use crate::graph::DepGraph;
use crate::lang::symbols::{ChangeKind, DeclKind};

/// `impact:` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImpactSettings {
    /// Files that count as dependents but do not propagate further (barrels, generated clients).
    pub stop_at: Vec<Pattern>,
    /// Reach (files) at which the absolute part of the impact score is 63 (1 − 1/e).
    pub scale: f64,
    /// How much a file reached only by type-only changes counts (0–1).
    pub type_weight: f64,
    /// How many high-impact files and entry points the report lists.
    pub top: usize,
}

/// The default `impact.scale`, calibrated on real repositories (see docs/scores.md).
pub const DEFAULT_SCALE: f64 = 25.0;

impl Default for ImpactSettings {
    fn default() -> Self {
        ImpactSettings {
            stop_at: Vec::new(),
            scale: DEFAULT_SCALE,
            type_weight: 0.25,
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
        if !(self.type_weight.is_finite() && (0.0..=1.0).contains(&self.type_weight)) {
            return Err((
                "type-weight",
                format!(
                    "`impact.type-weight` must be between 0 and 1, got {}",
                    self.type_weight
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImpactEvidence {
    /// The scored reach: production files the changed symbols reach, files reached only by
    /// type-only changes weighted by `type-weight` (changed files excluded).
    pub reach: f64,
    /// Production files the changed symbols reach.
    pub reached_files: usize,
    /// Of those, files reached only by type-only changes.
    pub type_only_files: usize,
    /// Production files downstream of the changed files in the dependency graph (structural,
    /// not scored).
    pub downstream: usize,
    /// Production files in the head graph.
    pub production_files: usize,
    /// Test files the changed symbols reach (counted apart, not scored).
    pub tests_affected: usize,
    /// Changed files in the graph, most reached first.
    pub files: Vec<ImpactFile>,
    /// Entry points (production files nothing imports) reached, most reached first.
    pub entry_points: Vec<EntryPoint>,
    /// Changed files outside the dependency graph (not sources, or not imported by any source).
    pub outside_graph: usize,
    /// The production files reached, each with one path of uses from a changed symbol (runtime
    /// first, then by path; capped at `MAX_LISTED`).
    pub paths: Vec<ReachPath>,
    pub paths_truncated: bool,
    /// Uses read at file level (symbols missing or a form not followed), by reason.
    pub fallbacks: Vec<FallbackCount>,
    /// Files whose symbols were read.
    pub symbols_read: usize,
    /// Changed direct dependencies and the files that import them (most importers first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencyReach>,
}

/// A changed direct dependency: the package is the changed "declaration", the files that import
/// it are reached.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DependencyReach {
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `major`, `minor`, `patch`, `prerelease` (`null`: not semver).
    pub semver: Option<String>,
    /// The changed file it is counted under (its manifest, else the lock file).
    pub file: String,
    /// Production files that import it.
    pub importers: usize,
    /// Of those, files that import only its types (counted × `type-weight`).
    pub type_only: usize,
    /// Test files that import it (counted apart).
    pub tests: usize,
    /// `zod 3.22.4 → 4.0.1 (major): imported by 41 files`.
    pub summary: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImpactFile {
    pub path: String,
    /// `head`, or `base` for a deleted file (its dependents at base lose it).
    pub graph: &'static str,
    pub direct: usize,
    /// Production files downstream in the graph (structural).
    pub downstream: usize,
    pub tests: usize,
    /// Production dependents (structural), nearest first then by path (capped at `MAX_LISTED`).
    pub dependents: Vec<String>,
    pub dependents_truncated: bool,
    /// Stop-at files reached that were not propagated through.
    pub stopped_at: Vec<String>,
    /// The declarations that changed (none: comments or formatting only).
    pub changed: Vec<ChangedSymbol>,
    /// Why the whole file counts as changed, when its declarations could not be compared.
    pub whole: Option<String>,
    /// A data file: what changed in it (`package.json` fields, JSON keys).
    pub data: Option<String>,
    /// Production files its changed symbols reach.
    pub reached: usize,
    /// Test files its changed symbols reach.
    pub reached_tests: usize,
}

/// A changed declaration.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedSymbol {
    pub name: String,
    pub kind: DeclKind,
    pub change: ChangeKind,
    pub exported: bool,
    /// First line (at head; at base when removed).
    pub line: u32,
    /// How a reviewer reads it: `total()`, `Cart`, `Cart::add()`.
    pub label: String,
}

/// A reached file and one path of uses to it: `src/a.ts#total → src/b.ts#quote → src/c.tsx#Page`.
#[derive(Debug, Clone, Serialize)]
pub struct ReachPath {
    pub path: String,
    pub via: Vec<String>,
    /// The changed files whose symbols reach it.
    pub from: Vec<String>,
    /// Reached only by type-only changes.
    pub type_only: bool,
    /// The path goes through a use read at file level.
    pub fallback: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FallbackCount {
    pub reason: String,
    pub count: usize,
    /// One use read at file level (`from → to`).
    pub example: String,
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
    /// The symbol-level reach of the change ([`crate::graph::reach::compute`]), seeded with the
    /// changed direct dependencies' importers.
    pub reach: &'a Reach,
    /// The changed direct dependencies (with their head importers).
    pub dependencies: &'a [Change],
    /// The dimension's weight in the composite.
    pub weight: f64,
}

/// `total()` for functions and methods, the name otherwise.
fn label(name: &str, kind: DeclKind) -> String {
    match kind {
        DeclKind::Function => format!("{name}()"),
        DeclKind::Effects => "top-level code".to_string(),
        _ => name.to_string(),
    }
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
    let reach = input.reach;
    let dependencies = dependency_reach(input.dependencies, &changed, tests);
    let mut structural: BTreeSet<String> = BTreeSet::new();
    let mut files = Vec::new();
    let mut outside = 0;

    for (k, f) in input.changes.files.iter().enumerate() {
        if tests.is_match(&f.path) {
            continue;
        }
        let (g, which, start) = if f.exists_at_head() {
            (input.head, "head", input.head.node(&f.path))
        } else {
            (input.base, "base", input.base.node(&f.path))
        };
        let cr = reach.changed.get(k);
        let mut file = ImpactFile {
            path: f.path.clone(),
            graph: which,
            ..ImpactFile::default()
        };
        if let Some(cr) = cr {
            file.changed = cr
                .symbols
                .iter()
                .map(|c| ChangedSymbol {
                    label: label(&c.name, c.kind),
                    name: c.name.clone(),
                    kind: c.kind,
                    change: c.change,
                    exported: c.exported,
                    line: c.start,
                })
                .collect();
            file.whole = cr.whole.clone();
            let mine: Vec<&DependencyReach> =
                dependencies.iter().filter(|d| d.file == f.path).collect();
            let covered: BTreeSet<&str> = mine.iter().map(|d| d.name.as_str()).collect();
            let lines: Vec<&str> = mine.iter().map(|d| d.summary.as_str()).collect();
            file.data = match (lines.is_empty(), data_summary(cr, &covered)) {
                (true, data) => data,
                (false, Some(rest)) if rest != NO_FIELD => {
                    Some(format!("{}; {rest}", lines.join("; ")))
                }
                (false, _) => Some(lines.join("; ")),
            };
        }
        match start {
            Some(start) => {
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
                file.direct = g
                    .direct_dependents(start)
                    .filter(|n| production(g, *n))
                    .count();
                let mut prod: Vec<(u32, &str)> = Vec::new();
                for (n, d) in &reached {
                    let p = g.graph[*n].path.as_str();
                    if production(g, *n) {
                        prod.push((*d, p));
                        if !changed.contains(p) {
                            structural.insert(p.to_string());
                        }
                    } else {
                        file.tests += 1;
                    }
                }
                prod.sort();
                stopped.sort();
                stopped.dedup();
                file.downstream = prod.len();
                file.dependents_truncated = prod.len() > MAX_LISTED;
                file.dependents = prod
                    .iter()
                    .take(MAX_LISTED)
                    .map(|(_, p)| p.to_string())
                    .collect();
                file.stopped_at = stopped;
            }
            None if cr.is_some_and(|c| c.seeded) => {}
            None => {
                outside += 1;
                continue;
            }
        }
        for r in reach.reached.values() {
            if r.origins.contains(&k) {
                if r.test {
                    file.reached_tests += 1;
                } else {
                    file.reached += 1;
                }
            }
        }
        files.push(file);
    }
    files.sort_by(|a, b| {
        b.reached
            .cmp(&a.reached)
            .then(b.downstream.cmp(&a.downstream))
            .then(a.path.cmp(&b.path))
    });

    let mut runtime_files = 0usize;
    let mut type_files = 0usize;
    let mut tests_affected = 0usize;
    let mut entry_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut paths: Vec<ReachPath> = Vec::new();
    for (path, r) in &reach.reached {
        if r.test || tests.is_match(path) {
            tests_affected += 1;
            continue;
        }
        paths.push(ReachPath {
            path: path.clone(),
            via: r.path.clone(),
            from: r
                .origins
                .iter()
                .filter_map(|k| input.changes.files.get(*k).map(|f| f.path.clone()))
                .collect(),
            type_only: !r.runtime,
            fallback: r.fallback,
        });
        if r.runtime {
            runtime_files += 1;
        } else {
            type_files += 1;
        }
        if let Some(n) = input.head.node(path) {
            let g = input.head;
            if g.direct_dependents(n).all(|m| !production(g, m)) {
                entry_counts.insert(path.clone(), r.origins.len());
            }
        }
    }
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
    // Runtime first, then the shortest paths, then by path.
    paths.sort_by(|a, b| {
        (a.type_only, a.via.len(), &a.path).cmp(&(b.type_only, b.via.len(), &b.path))
    });
    let paths_truncated = paths.len() > MAX_LISTED;
    paths.truncate(MAX_LISTED);

    let tw = settings.type_weight;
    let value_reach = runtime_files as f64 + tw * type_files as f64;
    let reached_files = runtime_files + type_files;
    let scale = settings.scale;
    let absolute = 1.0 - (-value_reach / scale).exp();
    let denominator = production_files.max(50) as f64;
    let share = value_reach / denominator;
    let value = (100.0 * absolute.max(share)).round().clamp(0.0, 100.0) as u8;

    let symbols_changed = files
        .iter()
        .any(|f| !f.changed.is_empty() || f.whole.is_some());
    let what = match (symbols_changed, dependencies.is_empty()) {
        (_, true) => "the changed symbols",
        (true, false) => "the changed symbols and dependencies",
        (false, false) => "the changed dependencies",
    };
    let downstream = structural.len();
    let tests_note = if tests_affected == 0 {
        String::new()
    } else {
        format!(
            ", and {tests_affected} test file{}",
            if tests_affected == 1 { "" } else { "s" }
        )
    };
    let summary = if files.is_empty() {
        "no changed file is part of the dependency graph, so the change cannot propagate"
            .to_string()
    } else if !symbols_changed && files.iter().all(|f| f.data.is_none()) {
        format!(
            "{} changed file(s) in the graph, but no declaration changed (comments or formatting only): nothing that uses them is affected",
            files.len()
        )
    } else if reached_files == 0 {
        format!(
            "nothing in production code uses what changed{}{tests_note}",
            if downstream > 0 {
                format!(" ({downstream} file(s) depend on the changed files)")
            } else {
                String::new()
            },
        )
    } else {
        format!(
            "{what} reach {reached_files} of {production_files} production files{}{tests_note}; {downstream} depend on the changed files",
            if type_files > 0 {
                format!(", {type_files} only through types")
            } else {
                String::new()
            }
        )
    };
    let reach_text = if type_files > 0 {
        format!("{runtime_files} + {tw}·{type_files} = {value_reach}")
    } else {
        format!("{value_reach}")
    };
    let formula = format!(
        "impact = round(100 · max(1 − e^(−reach/{scale}), reach / max(N, 50))) with reach = {reach_text} (files the changed symbols reach; type-only × {tw}), N = {production_files}: max({absolute:.3}, {share:.3}) → {value}"
    );
    let fallbacks = reach
        .fallbacks
        .iter()
        .map(|(reason, f)| FallbackCount {
            reason: reason.to_string(),
            count: f.count,
            example: f.example.clone(),
        })
        .collect();
    Dimension {
        available: true,
        score: Some(value),
        weight,
        reason: None,
        summary,
        formula,
        evidence: ImpactEvidence {
            reach: value_reach,
            reached_files,
            type_only_files: type_files,
            downstream,
            production_files,
            tests_affected,
            files,
            entry_points,
            outside_graph: outside,
            paths,
            paths_truncated,
            fallbacks,
            symbols_read: reach.loaded,
            dependencies,
        },
    }
}

/// One line per changed direct dependency that belongs to a changed file of the change set:
/// `zod 3.22.4 → 4.0.1 (major): imported by 41 files (3 only for types)` (test importers are
/// counted in `tests`; the outputs add the test files reached).
fn dependency_reach(
    direct: &[Change],
    changed: &BTreeSet<&str>,
    tests: &GlobList,
) -> Vec<DependencyReach> {
    let mut out: Vec<DependencyReach> = direct
        .iter()
        .filter_map(|c| {
            let file = c.changed_file(&|p| changed.contains(p))?;
            let production: Vec<&String> = c
                .importers
                .iter()
                .filter(|p| !tests.is_match(p) && !changed.contains(p.as_str()))
                .collect();
            let type_only = production
                .iter()
                .filter(|p| c.type_only_importers.contains(p))
                .count();
            let test_files = c.importers.iter().filter(|p| tests.is_match(p)).count();
            let versions = match (&c.from, &c.to) {
                (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
                (None, Some(b)) => format!("{b} (added)"),
                (_, Some(b)) => b.clone(),
                (_, None) => String::new(),
            };
            let semver = c.semver.map(|s| s.as_str().to_string());
            let n = production.len();
            let mut summary = format!(
                "{} {versions}{}: imported by {n} file{}",
                c.name,
                semver
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                if n == 1 { "" } else { "s" }
            );
            if type_only > 0 {
                summary.push_str(&format!(" ({type_only} only for types)"));
            }
            Some(DependencyReach {
                name: c.name.clone(),
                from: c.from.clone(),
                to: c.to.clone(),
                semver,
                file: file.to_string(),
                importers: n,
                type_only,
                tests: test_files,
                summary: crate::deps::model::printable(&summary),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.importers
            .cmp(&a.importers)
            .then_with(|| (&a.name, &a.file).cmp(&(&b.name, &b.file)))
    });
    out
}

const NO_FIELD: &str = "no field changed";

/// What changed in a data file, in words (`covered`: dependencies already told by
/// [`DependencyReach`] lines).
fn data_summary(
    cr: &crate::graph::reach::ChangedReach,
    covered: &BTreeSet<&str>,
) -> Option<String> {
    if let Some(p) = &cr.package {
        let mut parts = Vec::new();
        let list = |deps: &[crate::lang::json::DependencyChange]| -> String {
            let mut seen: Vec<String> = Vec::new();
            for d in deps {
                let t = match (&d.from, &d.to) {
                    (Some(a), Some(b)) => format!("{} {a} → {b}", d.package),
                    (None, Some(b)) => format!("{} added ({b})", d.package),
                    (Some(a), None) => format!("{} removed ({a})", d.package),
                    (None, None) => d.package.clone(),
                };
                if !seen.contains(&t) {
                    seen.push(t);
                }
            }
            seen.join(", ")
        };
        let deps: Vec<crate::lang::json::DependencyChange> = p
            .dependencies
            .iter()
            .filter(|d| !covered.contains(d.package.as_str()))
            .cloned()
            .collect();
        if !deps.is_empty() {
            parts.push(format!("dependencies: {}", list(&deps)));
        }
        if !p.workspace.is_empty() {
            parts.push(format!(
                "ranges on the repository's own packages (reach nothing): {}",
                list(&p.workspace)
            ));
        }
        if !p.resolution.is_empty() {
            parts.push(format!("resolution fields: {}", p.resolution.join(", ")));
        }
        if !p.metadata.is_empty() {
            parts.push(format!(
                "metadata (reaches nothing): {}",
                p.metadata.join(", ")
            ));
        }
        return Some(if parts.is_empty() {
            NO_FIELD.to_string()
        } else {
            parts.join("; ")
        });
    }
    cr.json_keys.as_ref().map(|k| {
        if k.is_empty() {
            "no key changed (formatting only)".to_string()
        } else {
            format!("keys changed: {}", k.join(", "))
        }
    })
}
