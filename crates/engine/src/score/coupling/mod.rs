//! Coupling: the architectural rule violations a change introduces, compared with the base.
//!
//! Every rule — the repository's `coupling.rules` and the built-in `no-cycle` and
//! `no-deep-import` — is evaluated on the base graph and on the head graph:
//!
//! - an import rule's violation is identified by (rule, importing file, imported file), with base
//!   paths mapped through the change set's renames, so a renamed file keeps its old violations;
//! - a cycle is a strongly-connected component of two or more files. A head component that lies
//!   inside one base component is pre-existing; one that does not (a new cycle, a grown one, or
//!   two merged) is introduced, shown through an import the change added to it.
//!
//! Introduced = head − base (scored), removed = base − head (improvements, shown beside them),
//! pre-existing = both (listed apart, never scored). Imports from test and fixture files never
//! count, and a package without an `exports` field is public throughout (`no-deep-import` applies
//! only to packages that declare their public entries).
//!
//! ```text
//! units    = Σ over introduced violations of  error → 1.0, warn → 0.4
//!            (with `coupling.net: true`: max(0, introduced units − removed units))
//! coupling = round(100 · (1 − e^(−k·units)))     k = ln 2.5 ≈ 0.916
//! ```
//! Bounded 0–100 and monotone in units: one error → 60, one warning → 31, an error and a warning
//! → 72, two errors → 84, three → 94.

pub mod cycles;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::graph::NodeIndex;
use serde::Serialize;

use super::Dimension;
use crate::git::diff::{ChangeSet, Status};
use crate::glob::GlobList;
use crate::graph::DepGraph;
use crate::resolve::packages::{self, PackageSurface};
use crate::score::coupling::rules::{
    CouplingSettings, EdgeFacts, RuleMatcher, Severity, TypeOnly, CYCLE_RULE, DEEP_IMPORT_RULE,
};

/// `k` in `1 − e^(−k·units)`: one error-level violation scores 60.
pub const K: f64 = 0.916_290_731_874_155; // ln 2.5

/// At most this many pre-existing violations are listed (all are counted).
pub const MAX_PRE_EXISTING: usize = 200;

const CYCLE_DESCRIPTION: &str =
    "imports must not form a cycle: files in a cycle cannot be understood, tested or loaded one at a time";
const DEEP_IMPORT_DESCRIPTION: &str =
    "import a workspace package through its public entry (its name or an `exports` subpath), not its internal files";

#[derive(Debug, Clone, Default, Serialize)]
pub struct CouplingEvidence {
    /// The rules that were evaluated.
    pub rules: Vec<RuleSummary>,
    /// Σ severity units of the introduced violations.
    pub units: f64,
    /// Violations at head and not at base: these are scored.
    pub introduced: Vec<Violation>,
    /// Violations at base that the change removes (paths and lines are the base's).
    pub removed: Vec<Violation>,
    /// Violations at both base and head (not scored), capped at `MAX_PRE_EXISTING`.
    pub pre_existing: Vec<Violation>,
    pub pre_existing_total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    pub name: String,
    pub severity: Severity,
    pub builtin: bool,
    pub description: String,
}

/// One import (or cycle) that breaks a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: String,
    pub severity: Severity,
    pub builtin: bool,
    /// The importing file.
    pub from: String,
    /// Line of the import in `from`.
    pub line: u32,
    /// The imported file.
    pub to: String,
    pub specifier: String,
    pub type_only: bool,
    pub description: String,
    /// What is specific to this violation (the package reached into, the size of the cycle).
    pub detail: Option<String>,
    /// For cycles: a shortest cycle through the import, first file repeated at the end (empty
    /// for import rules).
    pub cycle: Vec<String>,
}

pub struct CouplingInput<'a> {
    pub changes: &'a ChangeSet,
    pub head: &'a DepGraph,
    pub base: &'a DepGraph,
    pub head_packages: &'a [PackageSurface],
    pub base_packages: &'a [PackageSurface],
    /// Test files (cycles among them are ignored).
    pub tests: &'a GlobList,
    /// The dimension's weight in the composite.
    pub weight: f64,
}

/// Every import-rule violation of one graph (user rules and `no-deep-import`), sorted.
pub fn import_violations(
    g: &DepGraph,
    packages: &[PackageSurface],
    cfg: &CouplingSettings,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let deep = cfg.deep_import_severity();
    let mut matchers: Vec<RuleMatcher> = cfg.rules.iter().map(RuleMatcher::new).collect();
    for (from, to, e) in g.edges() {
        let facts = EdgeFacts {
            from,
            to,
            type_only: e.type_only,
        };
        let base = |rule: &str, severity: Severity, builtin: bool, description: &str| Violation {
            rule: rule.to_string(),
            severity,
            builtin,
            from: from.to_string(),
            line: e.line,
            to: to.to_string(),
            specifier: e.specifier.clone(),
            type_only: e.type_only,
            description: description.to_string(),
            detail: None,
            cycle: Vec::new(),
        };
        for m in &mut matchers {
            if m.violated_by(facts) {
                let r = m.rule;
                out.push(base(&r.name, r.severity, false, &r.description));
            }
        }
        if deep != Severity::Off
            && !(e.type_only && cfg.deep_import_type_only() == TypeOnly::Ignore)
        {
            if let Some(p) = packages::deep_import(packages, from, to, &e.specifier) {
                let mut v = base(DEEP_IMPORT_RULE, deep, true, DEEP_IMPORT_DESCRIPTION);
                let entries: Vec<&str> = p.entries.iter().map(String::as_str).collect();
                v.detail = Some(if entries.is_empty() {
                    format!("reaches into package `{}` ({}/)", p.name, p.dir)
                } else {
                    format!(
                        "reaches into package `{}` past its public entry ({})",
                        p.name,
                        entries.join(", ")
                    )
                });
                out.push(v);
            }
        }
    }
    out.sort_by(|a, b| key(a).cmp(&key(b)));
    out
}

fn key(v: &Violation) -> (&str, &str, &str) {
    (&v.rule, &v.from, &v.to)
}

/// A component and the violation that shows it.
struct Component {
    members: BTreeSet<String>,
    nodes: BTreeSet<NodeIndex>,
}

fn components(g: &DepGraph, type_only: bool) -> Vec<Component> {
    cycles::components(g, type_only)
        .into_iter()
        .map(|c| Component {
            members: c.iter().map(|n| g.path(*n).to_string()).collect(),
            nodes: c.into_iter().collect(),
        })
        .collect()
}

/// A cycle violation through the import `a → b` of a component.
fn cycle_violation(
    g: &DepGraph,
    comp: &Component,
    a: NodeIndex,
    b: NodeIndex,
    severity: Severity,
    type_only: bool,
    detail: String,
) -> Violation {
    let e = g
        .graph
        .edges_connecting(a, b)
        .next()
        .map(|e| e.weight().clone());
    let cycle = cycles::cycle_through(g, a, b, &comp.nodes, type_only);
    Violation {
        rule: CYCLE_RULE.to_string(),
        severity,
        builtin: true,
        from: g.path(a).to_string(),
        line: e.as_ref().map_or(0, |e| e.line),
        to: g.path(b).to_string(),
        specifier: e.as_ref().map(|e| e.specifier.clone()).unwrap_or_default(),
        type_only: e.as_ref().is_some_and(|e| e.type_only),
        description: CYCLE_DESCRIPTION.to_string(),
        detail: Some(detail),
        cycle: cycle.iter().map(|n| g.path(*n).to_string()).collect(),
    }
}

/// The first import (by path) inside a component.
fn first_edge(g: &DepGraph, comp: &Component, type_only: bool) -> (NodeIndex, NodeIndex) {
    for &a in &comp.nodes {
        let mut next: Vec<NodeIndex> = g
            .direct_dependencies(a)
            .filter(|b| comp.nodes.contains(b) && cycles::follows(g, a, *b, type_only))
            .collect();
        next.sort_by(|x, y| g.path(*x).cmp(g.path(*y)));
        if let Some(&b) = next.first() {
            return (a, b);
        }
    }
    let a = *comp.nodes.iter().next().expect("a component has members");
    (a, a)
}

/// Paths renamed by the change: base → head, and head → base.
struct Renames {
    forward: HashMap<String, String>,
    backward: HashMap<String, String>,
}

impl Renames {
    fn of(changes: &ChangeSet) -> Renames {
        let mut forward = HashMap::new();
        let mut backward = HashMap::new();
        for f in &changes.files {
            if f.status == Status::Renamed {
                if let Some(old) = &f.old_path {
                    forward.insert(old.clone(), f.path.clone());
                    backward.insert(f.path.clone(), old.clone());
                }
            }
        }
        Renames { forward, backward }
    }
    fn to_head<'a>(&'a self, base: &'a str) -> &'a str {
        self.forward.get(base).map_or(base, String::as_str)
    }
    fn to_base<'a>(&'a self, head: &'a str) -> &'a str {
        self.backward.get(head).map_or(head, String::as_str)
    }
}

struct Compared {
    introduced: Vec<Violation>,
    removed: Vec<Violation>,
    pre_existing: Vec<Violation>,
}

fn compare_imports(head: Vec<Violation>, base: Vec<Violation>, renames: &Renames) -> Compared {
    let base_keys: BTreeSet<(String, String, String)> = base
        .iter()
        .map(|v| {
            (
                v.rule.clone(),
                renames.to_head(&v.from).to_string(),
                renames.to_head(&v.to).to_string(),
            )
        })
        .collect();
    let head_keys: BTreeSet<(&str, &str, &str)> = head.iter().map(key).collect();
    let removed = base
        .into_iter()
        .filter(|v| {
            !head_keys.contains(&(
                v.rule.as_str(),
                renames.to_head(&v.from),
                renames.to_head(&v.to),
            ))
        })
        .collect();
    let (pre_existing, introduced) = head
        .into_iter()
        .partition(|v| base_keys.contains(&(v.rule.clone(), v.from.clone(), v.to.clone())));
    Compared {
        introduced,
        removed,
        pre_existing,
    }
}

fn compare_cycles(
    head: &DepGraph,
    base: &DepGraph,
    renames: &Renames,
    severity: Severity,
    type_only: bool,
) -> Compared {
    let mut out = Compared {
        introduced: Vec::new(),
        removed: Vec::new(),
        pre_existing: Vec::new(),
    };
    if severity == Severity::Off {
        return out;
    }
    let head_comps = components(head, type_only);
    let base_comps = components(base, type_only);
    // Which component each file is in, by head path.
    let mut base_of: HashMap<&str, usize> = HashMap::new();
    for (i, c) in base_comps.iter().enumerate() {
        for m in &c.members {
            base_of.insert(renames.to_head(m), i);
        }
    }
    let mut head_of: HashMap<&str, usize> = HashMap::new();
    for (i, c) in head_comps.iter().enumerate() {
        for m in &c.members {
            head_of.insert(m.as_str(), i);
        }
    }
    let inside_one =
        |members: &mut dyn Iterator<Item = &str>, of: &HashMap<&str, usize>| -> Option<usize> {
            let mut which = None;
            for m in members {
                let i = *of.get(m)?;
                if which.is_some_and(|w| w != i) {
                    return None;
                }
                which = Some(i);
            }
            which
        };
    for c in &head_comps {
        let covered = inside_one(&mut c.members.iter().map(String::as_str), &base_of);
        if covered.is_some() {
            let (a, b) = first_edge(head, c, type_only);
            out.pre_existing.push(cycle_violation(
                head,
                c,
                a,
                b,
                severity,
                type_only,
                format!("a cycle through {} files", c.members.len()),
            ));
            continue;
        }
        // The imports the change added inside the component; the first one shows the cycle.
        let added = c.nodes.iter().flat_map(|&a| {
            let mut next: Vec<NodeIndex> = head
                .direct_dependencies(a)
                .filter(|b| c.nodes.contains(b) && cycles::follows(head, a, *b, type_only))
                .filter(|b| {
                    let (fa, fb) = (
                        renames.to_base(head.path(a)),
                        renames.to_base(head.path(*b)),
                    );
                    match (base.node(fa), base.node(fb)) {
                        (Some(x), Some(y)) => !cycles::follows(base, x, y, type_only),
                        _ => true,
                    }
                })
                .collect();
            next.sort_by(|x, y| head.path(*x).cmp(head.path(*y)));
            next.into_iter().map(move |b| (a, b))
        });
        let mut added: Vec<(NodeIndex, NodeIndex)> = added.collect();
        added.sort_by(|x, y| {
            (head.path(x.0), head.path(x.1)).cmp(&(head.path(y.0), head.path(y.1)))
        });
        let (a, b) = added
            .first()
            .copied()
            .unwrap_or_else(|| first_edge(head, c, type_only));
        let before: BTreeSet<usize> = c
            .members
            .iter()
            .filter_map(|m| base_of.get(m.as_str()).copied())
            .collect();
        let detail = if before.is_empty() {
            format!(
                "creates a dependency cycle through {} files",
                c.members.len()
            )
        } else {
            let was: Vec<String> = before
                .iter()
                .map(|i| base_comps[*i].members.len().to_string())
                .collect();
            format!(
                "grows a dependency cycle to {} files (was {} file{})",
                c.members.len(),
                was.join(" + "),
                if was.len() == 1 && was[0] == "1" {
                    ""
                } else {
                    "s"
                }
            )
        };
        out.introduced
            .push(cycle_violation(head, c, a, b, severity, type_only, detail));
    }
    for c in &base_comps {
        let mut mapped = c.members.iter().map(|m| renames.to_head(m));
        if inside_one(&mut mapped, &head_of).is_some() {
            continue;
        }
        let (a, b) = first_edge(base, c, type_only);
        out.removed.push(cycle_violation(
            base,
            c,
            a,
            b,
            severity,
            type_only,
            format!(
                "the cycle through {} files is broken or smaller",
                c.members.len()
            ),
        ));
    }
    out
}

pub fn score(input: CouplingInput, cfg: &CouplingSettings) -> Dimension<CouplingEvidence> {
    let weight = input.weight;
    let sources = |g: &DepGraph| g.graph.node_weights().filter(|n| n.source).count();
    if sources(input.head) == 0 && sources(input.base) == 0 {
        return Dimension::unavailable(
            weight,
            "no supported source files (TypeScript/JavaScript) in the repository, so there is no dependency graph to check rules on",
        );
    }
    let mut rules: Vec<RuleSummary> = Vec::new();
    if cfg.cycle_severity() != Severity::Off {
        rules.push(RuleSummary {
            name: CYCLE_RULE.into(),
            severity: cfg.cycle_severity(),
            builtin: true,
            description: CYCLE_DESCRIPTION.into(),
        });
    }
    if cfg.deep_import_severity() != Severity::Off {
        rules.push(RuleSummary {
            name: DEEP_IMPORT_RULE.into(),
            severity: cfg.deep_import_severity(),
            builtin: true,
            description: DEEP_IMPORT_DESCRIPTION.into(),
        });
    }
    rules.extend(
        cfg.rules
            .iter()
            .filter(|r| r.severity != Severity::Off)
            .map(|r| RuleSummary {
                name: r.name.clone(),
                severity: r.severity,
                builtin: false,
                description: r.description.clone(),
            }),
    );
    if rules.is_empty() {
        return Dimension::unavailable(
            weight,
            "no coupling rule is active (the built-in rules are `off` and `coupling.rules` is empty); add rules or turn a built-in back on",
        );
    }
    let renames = Renames::of(input.changes);
    let head_v = import_violations(input.head, input.head_packages, cfg);
    let base_v = import_violations(input.base, input.base_packages, cfg);
    let mut c = compare_imports(head_v, base_v, &renames);
    let cy = compare_cycles(
        input.head,
        input.base,
        &renames,
        cfg.cycle_severity(),
        cfg.cycle_type_only() == TypeOnly::Count,
    );
    // Test and fixture files are not architecture: an import from one breaks no boundary, and a
    // cycle through one is not a cycle of production code (like impact, coupling looks at
    // production code only).
    let tests = input.tests;
    let production_import = |v: &Violation| !tests.is_match(&v.from);
    let production_cycle = |v: &Violation| !(tests.is_match(&v.from) || tests.is_match(&v.to));
    for list in [&mut c.introduced, &mut c.removed, &mut c.pre_existing] {
        list.retain(production_import);
    }
    c.introduced
        .extend(cy.introduced.into_iter().filter(production_cycle));
    c.removed
        .extend(cy.removed.into_iter().filter(production_cycle));
    c.pre_existing
        .extend(cy.pre_existing.into_iter().filter(production_cycle));
    let order = |v: &Violation| (v.severity, v.rule.clone(), v.from.clone(), v.to.clone());
    for list in [&mut c.introduced, &mut c.removed, &mut c.pre_existing] {
        list.sort_by_key(order);
    }

    // A fold from +0.0, not `sum()` (which starts at −0.0 and would print "-0.0" for nothing).
    let units_of = |l: &[_]| {
        l.iter()
            .fold(0.0, |a, v: &Violation| a + v.severity.units())
    };
    let introduced_units: f64 = units_of(&c.introduced);
    let removed_units: f64 = units_of(&c.removed);
    let units = if cfg.net {
        (introduced_units - removed_units).max(0.0)
    } else {
        introduced_units
    };
    let value = (100.0 * (1.0 - (-K * units).exp()))
        .round()
        .clamp(0.0, 100.0) as u8;
    let count = |s: Severity| c.introduced.iter().filter(|v| v.severity == s).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warn));
    let pre_total = c.pre_existing.len();
    let mut summary = if c.introduced.is_empty() {
        "the change introduces no coupling violation".to_string()
    } else {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &c.introduced {
            *by_rule.entry(v.rule.as_str()).or_default() += 1;
        }
        format!(
            "the change introduces {} coupling violation{} ({} error{}, {} warning{}: {})",
            c.introduced.len(),
            plural(c.introduced.len()),
            errors,
            plural(errors),
            warnings,
            plural(warnings),
            by_rule
                .iter()
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if !c.removed.is_empty() {
        summary.push_str(&format!("; removes {}", c.removed.len()));
    }
    if pre_total > 0 {
        summary.push_str(&format!("; {pre_total} pre-existing (not scored)"));
    }
    let formula = if cfg.net {
        let removed_count = |s: Severity| c.removed.iter().filter(|v| v.severity == s).count();
        format!(
            "coupling = round(100 · (1 − e^(−{K:.3}·units))) with units = max(0, introduced − removed) = max(0, ({errors} error × 1.0 + {warnings} warn × 0.4) − ({} error × 1.0 + {} warn × 0.4)) = {units:.1} → {value}",
            removed_count(Severity::Error),
            removed_count(Severity::Warn)
        )
    } else {
        format!(
            "coupling = round(100 · (1 − e^(−{K:.3}·units))) with units = {errors} error × 1.0 + {warnings} warn × 0.4 = {units:.1} → {value}"
        )
    };
    c.pre_existing.truncate(MAX_PRE_EXISTING);
    Dimension {
        available: true,
        score: Some(value),
        weight,
        reason: None,
        summary,
        formula,
        evidence: CouplingEvidence {
            rules,
            units,
            introduced: c.introduced,
            removed: c.removed,
            pre_existing: c.pre_existing,
            pre_existing_total: pre_total,
        },
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_is_sixty() {
        let s = |u: f64| (100.0 * (1.0 - (-K * u).exp())).round() as u8;
        assert_eq!(s(0.0), 0);
        assert_eq!(s(1.0), 60);
        assert_eq!(s(0.4), 31);
        assert_eq!(s(1.4), 72);
        assert_eq!(s(2.0), 84);
        assert_eq!(s(3.0), 94);
        assert_eq!(s(100.0), 100);
    }
}
