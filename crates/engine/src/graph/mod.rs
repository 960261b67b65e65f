//! The dependency graph: files as nodes, resolved imports as edges (importer → imported).
//!
//! Built from the resolved imports of one snapshot. Imports that resolve to no file in the
//! repository are kept beside the graph as facts. Traversals that answer "who depends on this"
//! walk the edges backwards.

use std::collections::{BTreeMap, HashMap, VecDeque};

use petgraph::graph::DiGraph;
pub use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::Serialize;

pub mod json;
pub mod reach;

use crate::lang::ImportKind;
pub use crate::resolve::ResolvedImport;
use crate::resolve::Target;

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub path: String,
    /// A parsed source file (as opposed to a JSON or asset file that code imports).
    pub source: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Line of the first import of the target in the importing file (the first that propagates,
    /// when there is one: see [`ImportKind::propagates`]).
    pub line: u32,
    pub kind: ImportKind,
    /// Every import of the target from this file is type-only.
    pub type_only: bool,
    pub specifier: String,
}

/// An import that names no file of the repository.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unresolved {
    pub from: String,
    pub line: u32,
    pub specifier: String,
    pub kind: UnresolvedKind,
    /// Erased at compile time (`import type`): the importer uses the package's types only.
    #[serde(skip)]
    pub type_only: bool,
}

/// Why an import names no file of the repository.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum UnresolvedKind {
    /// A package that is not part of the repository.
    External,
    /// A runtime built-in (`node:fs`).
    Builtin,
    /// A relative or workspace path that names no file.
    Missing,
}

#[derive(Debug, Default)]
pub struct DepGraph {
    pub graph: DiGraph<Node, Edge>,
    index: HashMap<String, NodeIndex>,
    pub unresolved: Vec<Unresolved>,
}

fn strength(kind: ImportKind) -> u8 {
    match kind {
        k if k.propagates() => 2,
        ImportKind::Mod => 0,
        _ => 1,
    }
}

impl DepGraph {
    /// `sources`: every parsed source file (nodes even without edges); `imports`: their imports.
    pub fn build<'a>(
        sources: impl IntoIterator<Item = &'a str>,
        imports: Vec<ResolvedImport>,
    ) -> DepGraph {
        let mut g = DepGraph::default();
        for s in sources {
            g.add_node(s, true);
        }
        let mut edges: BTreeMap<(NodeIndex, NodeIndex), Edge> = BTreeMap::new();
        for r in imports {
            match r.target {
                Target::File { path } => {
                    if path == r.from {
                        continue;
                    }
                    let from = g.add_node(&r.from, true);
                    let to = g.add_node(&path, false);
                    edges
                        .entry((from, to))
                        .and_modify(|e| {
                            e.type_only &= r.import.type_only;
                            // The first import that propagates wins over one that does not
                            // (a Rust module that is declared and also used), a re-export over
                            // a bare `mod` declaration.
                            let (new_s, old_s) = (strength(r.import.kind), strength(e.kind));
                            if new_s > old_s || (new_s == old_s && r.import.line < e.line) {
                                e.line = r.import.line;
                                e.kind = r.import.kind;
                                e.specifier = r.import.specifier.clone();
                            }
                        })
                        .or_insert(Edge {
                            line: r.import.line,
                            kind: r.import.kind,
                            type_only: r.import.type_only,
                            specifier: r.import.specifier,
                        });
                }
                other => g.unresolved.push(Unresolved {
                    from: r.from,
                    type_only: r.import.type_only,
                    line: r.import.line,
                    specifier: r.import.specifier,
                    kind: match other {
                        Target::External { .. } => UnresolvedKind::External,
                        Target::Builtin { .. } => UnresolvedKind::Builtin,
                        _ => UnresolvedKind::Missing,
                    },
                }),
            }
        }
        for ((a, b), e) in edges {
            g.graph.add_edge(a, b, e);
        }
        g.unresolved.sort();
        g
    }

    fn add_node(&mut self, path: &str, source: bool) -> NodeIndex {
        if let Some(&i) = self.index.get(path) {
            if source {
                self.graph[i].source = true;
            }
            return i;
        }
        let i = self.graph.add_node(Node {
            path: path.to_string(),
            source,
        });
        self.index.insert(path.to_string(), i);
        i
    }

    pub fn node(&self, path: &str) -> Option<NodeIndex> {
        self.index.get(path).copied()
    }

    pub fn path(&self, n: NodeIndex) -> &str {
        &self.graph[n].path
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every edge as (importer, imported, edge), sorted.
    pub fn edges(&self) -> Vec<(&str, &str, &Edge)> {
        let mut v: Vec<_> = self
            .graph
            .edge_references()
            .map(|e| (self.path(e.source()), self.path(e.target()), e.weight()))
            .collect();
        v.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v
    }

    /// Files that import `n` directly (a Rust `mod` declaration alone is not an import).
    pub fn direct_dependents(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph
            .edges_directed(n, Direction::Incoming)
            .filter(|e| e.weight().kind.is_use())
            .map(|e| e.source())
    }

    /// Files `n` imports directly.
    pub fn direct_dependencies(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.neighbors_directed(n, Direction::Outgoing)
    }

    /// Files `n` uses directly (a Rust `mod` declaration alone is not a use).
    pub fn direct_dependencies_used(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph
            .edges_directed(n, Direction::Outgoing)
            .filter(|e| e.weight().kind.is_use())
            .map(|e| e.target())
    }

    /// Every file that depends on `start` transitively, with its distance. `expand` decides
    /// whether the walk continues past a reached file (stop-at files and tests do not propagate).
    pub fn dependents_of(
        &self,
        start: NodeIndex,
        mut expand: impl FnMut(NodeIndex) -> bool,
    ) -> BTreeMap<NodeIndex, u32> {
        let mut seen = BTreeMap::new();
        let mut queued = std::collections::HashSet::new();
        let mut queue = VecDeque::new();
        queue.push_back((start, 0u32));
        while let Some((n, d)) = queue.pop_front() {
            if n != start && !expand(n) {
                continue;
            }
            for e in self.graph.edges_directed(n, Direction::Incoming) {
                let m = e.source();
                if m == start || !e.weight().kind.is_use() {
                    continue;
                }
                seen.entry(m).or_insert(d + 1);
                // A Rust re-export makes its source a dependent without propagating further
                // through it (see `ImportKind::propagates`).
                if e.weight().kind.propagates() && queued.insert(m) {
                    queue.push_back((m, d + 1));
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imp(from: &str, to: &str, line: u32) -> ResolvedImport {
        ResolvedImport {
            from: from.into(),
            import: crate::lang::Import {
                specifier: format!("./{to}"),
                line,
                kind: ImportKind::Import,
                type_only: false,
            },
            target: Target::File { path: to.into() },
        }
    }

    #[test]
    fn transitive_dependents_with_stop() {
        // a ← b ← c ← d ; c is a stop.
        let g = DepGraph::build(
            ["a", "b", "c", "d"],
            vec![imp("b", "a", 1), imp("c", "b", 1), imp("d", "c", 1)],
        );
        let a = g.node("a").unwrap();
        let all = g.dependents_of(a, |_| true);
        assert_eq!(all.len(), 3);
        let c = g.node("c").unwrap();
        let stopped = g.dependents_of(a, |n| n != c);
        let names: Vec<&str> = stopped.keys().map(|n| g.path(*n)).collect();
        assert_eq!(names, vec!["b", "c"]);
    }

    #[test]
    fn duplicate_imports_make_one_edge_with_first_line() {
        let g = DepGraph::build(["a", "b"], vec![imp("b", "a", 5), imp("b", "a", 2)]);
        assert_eq!(g.edge_count(), 1);
        assert_eq!(g.edges()[0].2.line, 2);
    }

    #[test]
    fn containment_and_reexport_edges() {
        // lib.rs declares `mod a;` (structure, not a use) and main.rs uses lib.rs: a change to
        // a reaches neither. b uses a, and c uses b: both reached.
        let mut m = imp("lib.rs", "a.rs", 1);
        m.import.kind = ImportKind::Mod;
        let g = DepGraph::build(
            ["lib.rs", "a.rs", "main.rs", "b.rs", "c.rs"],
            vec![
                m.clone(),
                imp("main.rs", "lib.rs", 1),
                imp("b.rs", "a.rs", 1),
                imp("c.rs", "b.rs", 1),
            ],
        );
        let a = g.node("a.rs").unwrap();
        let names: Vec<&str> = g
            .dependents_of(a, |_| true)
            .keys()
            .map(|n| g.path(*n))
            .collect();
        assert_eq!(names, vec!["b.rs", "c.rs"]);
        assert_eq!(g.direct_dependents(a).count(), 1);
        // A Rust `pub use` is a dependent that does not propagate.
        let mut r = imp("lib.rs", "a.rs", 2);
        r.import.kind = ImportKind::PubUse;
        let g = DepGraph::build(
            ["lib.rs", "a.rs", "main.rs"],
            vec![m.clone(), r, imp("main.rs", "lib.rs", 1)],
        );
        let a = g.node("a.rs").unwrap();
        assert_eq!(g.edges()[0].2.kind, ImportKind::PubUse);
        assert_eq!(g.dependents_of(a, |_| true).len(), 1);
        // Declared and re-exported: the re-export propagates, and is the edge kept.
        let g = DepGraph::build(
            ["lib.rs", "a.rs", "main.rs"],
            vec![m, imp("lib.rs", "a.rs", 4), imp("main.rs", "lib.rs", 1)],
        );
        assert_eq!(g.edges()[0].2.kind, ImportKind::Import);
        assert_eq!(g.edges()[0].2.line, 4);
        let a = g.node("a.rs").unwrap();
        assert_eq!(g.dependents_of(a, |_| true).len(), 2);
    }

    #[test]
    fn cycles_terminate() {
        let g = DepGraph::build(["a", "b"], vec![imp("b", "a", 1), imp("a", "b", 1)]);
        let a = g.node("a").unwrap();
        assert_eq!(g.dependents_of(a, |_| true).len(), 1);
    }
}
