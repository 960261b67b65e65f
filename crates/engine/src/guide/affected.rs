//! Affected tests: the test files that reach a changed file through the dependency graph.
//!
//! A breadth-first walk from every changed file over the importers (the edges impact follows: a
//! Rust `mod` declaration alone is no dependency, a `pub use` re-export does not propagate),
//! through production files only; a test file that is reached is listed with its distance and the
//! chain of imports that reaches it, nearest first. Changed test files are listed too (distance 0):
//! they are what the change itself tests. For Rust, each test file is also named as a `cargo
//! nextest` filter: an integration test `tests/x.rs` of package `p` is `package(p) &
//! binary(x)`; a changed or reached source file with an inline `#[cfg(test)]` module is the unit
//! tests of its module, `package(p) & test(/^module::path::/)`.

use std::collections::{BTreeMap, VecDeque};

use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::Serialize;

use crate::glob::GlobList;
use crate::graph::{DepGraph, NodeIndex};

/// A test that reaches the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedTest {
    /// The test file.
    pub path: String,
    /// Imports between the test and the changed file it reaches (0: the test itself changed).
    pub distance: u32,
    /// The chain from the test to the changed file (`test → … → changed`).
    pub via: Vec<String>,
    /// The `cargo nextest` filter for it (Rust only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nextest: Option<String>,
}

/// What the walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AffectedTests {
    /// Nearest first, then by path.
    pub tests: Vec<AffectedTest>,
    /// Changed production files that no test reaches.
    pub unreached: Vec<String>,
    /// Rust unit-test modules (inline `#[cfg(test)]`) of changed and reached source files, as
    /// `cargo nextest` filters.
    pub rust_units: Vec<String>,
}

/// How a Rust file maps to `cargo nextest` names: its package and module path, and whether it
/// has an inline test module. The pipeline fills it from the Cargo model and the parse facts.
pub trait RustTestNames {
    /// `package(p) & binary(x)` for an integration test file.
    fn integration_test(&self, path: &str) -> Option<String>;
    /// `package(p) & test(/^a::b::/)` for a source file with an inline `#[cfg(test)]` module.
    fn unit_tests(&self, path: &str) -> Option<String>;
}

/// No Rust names (a repository without Rust, or a caller that does not need them).
pub struct NoRust;

impl RustTestNames for NoRust {
    fn integration_test(&self, _: &str) -> Option<String> {
        None
    }
    fn unit_tests(&self, _: &str) -> Option<String> {
        None
    }
}

/// The tests of `graph` (the head graph) that reach the `changed` files.
pub fn affected(
    graph: &DepGraph,
    changed: &[&str],
    tests: &GlobList,
    rust: &dyn RustTestNames,
) -> AffectedTests {
    // Multi-source BFS over importers; `parent[m]` is the file m imports on its shortest way to a
    // changed file, and `origin[m]` that changed file.
    let mut parent: BTreeMap<NodeIndex, Option<NodeIndex>> = BTreeMap::new();
    let mut dist: BTreeMap<NodeIndex, u32> = BTreeMap::new();
    let mut queue = VecDeque::new();
    let mut starts: Vec<NodeIndex> = changed.iter().filter_map(|p| graph.node(p)).collect();
    starts.sort_by(|a, b| graph.path(*a).cmp(graph.path(*b)));
    starts.dedup();
    for &s in &starts {
        parent.insert(s, None);
        dist.insert(s, 0);
        queue.push_back(s);
    }
    while let Some(n) = queue.pop_front() {
        let d = dist[&n];
        // Tests are reached, never walked through (their importers are not affected by them).
        if tests.is_match(graph.path(n)) && d > 0 {
            continue;
        }
        let mut importers: Vec<(NodeIndex, bool)> = graph
            .graph
            .edges_directed(n, Direction::Incoming)
            .filter(|e| e.weight().kind.is_use())
            .map(|e| (e.source(), e.weight().kind.propagates()))
            .collect();
        importers.sort_by(|a, b| graph.path(a.0).cmp(graph.path(b.0)));
        for (m, propagates) in importers {
            if dist.contains_key(&m) {
                continue;
            }
            dist.insert(m, d + 1);
            parent.insert(m, Some(n));
            if propagates {
                queue.push_back(m);
            }
        }
    }
    let chain = |mut n: NodeIndex| {
        let mut via = vec![graph.path(n).to_string()];
        while let Some(Some(p)) = parent.get(&n) {
            via.push(graph.path(*p).to_string());
            n = *p;
        }
        via
    };
    let mut out = AffectedTests::default();
    for (&n, &d) in &dist {
        let path = graph.path(n);
        if !tests.is_match(path) {
            continue;
        }
        out.tests.push(AffectedTest {
            path: path.to_string(),
            distance: d,
            via: chain(n),
            nextest: rust.integration_test(path),
        });
    }
    out.tests
        .sort_by(|a, b| (a.distance, &a.path).cmp(&(b.distance, &b.path)));
    let mut units: Vec<String> = dist
        .keys()
        .map(|&n| graph.path(n))
        .filter(|p| !tests.is_match(p))
        .filter_map(|p| rust.unit_tests(p))
        .collect();
    units.sort();
    units.dedup();
    out.rust_units = units;
    // A changed production file is reached when some test depends on it (the walk above keeps
    // only each test's nearest changed file, so ask per file).
    let reaches_a_test = |n: NodeIndex| {
        graph
            .dependents_of(n, |m| !tests.is_match(graph.path(m)))
            .keys()
            .any(|m| tests.is_match(graph.path(*m)))
    };
    let mut unreached: Vec<String> = changed
        .iter()
        .filter(|p| !tests.is_match(p))
        .filter_map(|p| graph.node(p).map(|n| (*p, n)))
        .filter(|(p, _)| rust.unit_tests(p).is_none())
        .filter(|(_, n)| !reaches_a_test(*n))
        .map(|(p, _)| p.to_string())
        .collect();
    unreached.sort();
    unreached.dedup();
    out.unreached = unreached;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ResolvedImport;
    use crate::lang::{Import, ImportKind};
    use crate::resolve::Target;

    fn imp(from: &str, to: &str) -> ResolvedImport {
        ResolvedImport {
            from: from.into(),
            import: Import {
                specifier: format!("./{to}"),
                line: 1,
                kind: ImportKind::Import,
                type_only: false,
            },
            target: Target::File { path: to.into() },
        }
    }

    #[test]
    fn nearest_first_with_the_chain_and_unreached_files() {
        let files = [
            "src/a.ts",
            "src/b.ts",
            "src/c.ts",
            "src/lonely.ts",
            "src/a.test.ts",
            "src/b.test.ts",
            "e2e/flow.spec.ts",
        ];
        let g = DepGraph::build(
            files,
            vec![
                imp("src/b.ts", "src/a.ts"),
                imp("src/c.ts", "src/b.ts"),
                imp("src/a.test.ts", "src/a.ts"),
                imp("src/b.test.ts", "src/b.ts"),
                imp("e2e/flow.spec.ts", "src/c.ts"),
                // A test importing a test does not make the outer test affected twice.
                imp("e2e/flow.spec.ts", "src/b.test.ts"),
            ],
        );
        let tests = GlobList::from_strs(&["**/*.test.*", "**/*.spec.*", "e2e/**"]);
        let a = affected(&g, &["src/a.ts", "src/lonely.ts"], &tests, &NoRust);
        let got: Vec<(&str, u32)> = a
            .tests
            .iter()
            .map(|t| (t.path.as_str(), t.distance))
            .collect();
        assert_eq!(
            got,
            [
                ("src/a.test.ts", 1),
                ("src/b.test.ts", 2),
                ("e2e/flow.spec.ts", 3)
            ]
        );
        assert_eq!(
            a.tests[2].via,
            ["e2e/flow.spec.ts", "src/c.ts", "src/b.ts", "src/a.ts"]
        );
        assert_eq!(a.unreached, ["src/lonely.ts"]);
        // A changed test is its own affected test.
        let a = affected(&g, &["src/b.test.ts"], &tests, &NoRust);
        assert_eq!(a.tests[0].path, "src/b.test.ts");
        assert_eq!(a.tests[0].distance, 0);
    }
}
