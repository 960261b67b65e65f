//! Dependency cycles: strongly-connected components of the import graph, and a concrete cycle or
//! path to show for each (the files and import lines a reviewer can follow).
//!
//! Type-only imports are erased at compile time, so they can be left out: a cycle made only of
//! `import type` edges does not exist at run time (`coupling.cycles.type-only`, default `ignore`).
//!
//! Only JavaScript/TypeScript imports form cycles here: Rust modules of one crate may name each
//! other freely (that is how the language works), and Cargo already forbids cycles between crates.

use std::collections::{BTreeSet, HashMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::graph::DepGraph;
use crate::lang::{Family, Lang};

/// The edges a cycle analysis follows.
pub fn follows(g: &DepGraph, a: NodeIndex, b: NodeIndex, type_only: bool) -> bool {
    g.graph
        .edges_connecting(a, b)
        .any(|e| type_only || !e.weight().type_only)
}

/// Whether imports from this file take part in cycle detection (JavaScript/TypeScript sources).
pub fn in_scope(path: &str) -> bool {
    Lang::of_path(path).is_some_and(|l| l.family() == Family::JavaScript)
}

/// Components of two or more files (and files that import themselves never occur: the graph
/// drops self-imports). Members sorted by path; components sorted by their first member.
pub fn components(g: &DepGraph, type_only: bool) -> Vec<Vec<NodeIndex>> {
    let mut filtered: DiGraph<(), ()> = DiGraph::with_capacity(g.node_count(), g.edge_count());
    for _ in g.graph.node_indices() {
        filtered.add_node(());
    }
    for e in g.graph.edge_references() {
        if !in_scope(g.path(e.source())) {
            continue;
        }
        if type_only || !e.weight().type_only {
            filtered.add_edge(e.source(), e.target(), ());
        }
    }
    let mut out: Vec<Vec<NodeIndex>> = petgraph::algo::tarjan_scc(&filtered)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|mut c| {
            c.sort_by(|a, b| g.path(*a).cmp(g.path(*b)));
            c
        })
        .collect();
    out.sort_by(|a, b| g.path(a[0]).cmp(g.path(b[0])));
    out
}

/// Shortest chain of imports from `from` to `to` (breadth first, neighbours in path order),
/// staying inside `within` when given. Returns the files, `from` first and `to` last.
pub fn shortest_path(
    g: &DepGraph,
    from: NodeIndex,
    to: NodeIndex,
    type_only: bool,
    within: Option<&BTreeSet<NodeIndex>>,
) -> Option<Vec<NodeIndex>> {
    let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    'search: while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g
            .direct_dependencies(n)
            .filter(|m| within.is_none_or(|w| w.contains(m)))
            .filter(|m| follows(g, n, *m, type_only))
            .collect();
        next.sort_by(|a, b| g.path(*a).cmp(g.path(*b)));
        next.dedup();
        for m in next {
            // Breadth first: the first time `to` is reached is by a shortest chain. (`to` may be
            // `from` itself: then the chain is a cycle.)
            if m == to {
                prev.insert(to, n);
                break 'search;
            }
            if seen.insert(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    prev.get(&to)?;
    let mut path = vec![to];
    let mut cur = to;
    loop {
        let p = prev[&cur];
        path.push(p);
        if p == from {
            break;
        }
        cur = p;
    }
    path.reverse();
    Some(path)
}

/// A shortest cycle that goes through the import `a → b`, inside `component`: `[a, b, …, a]`.
pub fn cycle_through(
    g: &DepGraph,
    a: NodeIndex,
    b: NodeIndex,
    component: &BTreeSet<NodeIndex>,
    type_only: bool,
) -> Vec<NodeIndex> {
    let mut cycle = vec![a];
    match shortest_path(g, b, a, type_only, Some(component)) {
        Some(back) => cycle.extend(back),
        None => cycle.extend([b, a]),
    }
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ResolvedImport;
    use crate::lang::{Import, ImportKind};
    use crate::resolve::Target;

    fn imp(from: &str, to: &str, type_only: bool) -> ResolvedImport {
        ResolvedImport {
            from: from.into(),
            import: Import {
                specifier: format!("./{to}"),
                line: 1,
                kind: ImportKind::Import,
                type_only,
            },
            target: Target::File { path: to.into() },
        }
    }

    #[test]
    fn finds_components_and_cycles() {
        let g = DepGraph::build(
            ["a.ts", "b.ts", "c.ts", "d.ts"],
            vec![
                imp("a.ts", "b.ts", false),
                imp("b.ts", "c.ts", false),
                imp("c.ts", "a.ts", false),
                imp("c.ts", "d.ts", false),
                imp("d.ts", "c.ts", true),
            ],
        );
        let with_types = components(&g, true);
        assert_eq!(with_types.len(), 1);
        assert_eq!(with_types[0].len(), 4);
        let runtime = components(&g, false);
        assert_eq!(runtime.len(), 1);
        let names: Vec<&str> = runtime[0].iter().map(|n| g.path(*n)).collect();
        assert_eq!(names, ["a.ts", "b.ts", "c.ts"]);
        let set: BTreeSet<NodeIndex> = runtime[0].iter().copied().collect();
        let (c, a) = (g.node("c.ts").unwrap(), g.node("a.ts").unwrap());
        let cyc: Vec<&str> = cycle_through(&g, c, a, &set, false)
            .iter()
            .map(|n| g.path(*n))
            .collect();
        assert_eq!(cyc, ["c.ts", "a.ts", "b.ts", "c.ts"]);
    }

    #[test]
    fn shortest_path_prefers_fewest_hops() {
        let g = DepGraph::build(
            ["a.ts", "b.ts", "c.ts", "d.ts"],
            vec![
                imp("a.ts", "b.ts", false),
                imp("b.ts", "c.ts", false),
                imp("c.ts", "d.ts", false),
                imp("a.ts", "d.ts", false),
            ],
        );
        let p = shortest_path(
            &g,
            g.node("a.ts").unwrap(),
            g.node("d.ts").unwrap(),
            true,
            None,
        );
        let names: Vec<&str> = p.unwrap().iter().map(|n| g.path(*n)).collect();
        assert_eq!(names, ["a.ts", "d.ts"]);
        assert!(shortest_path(
            &g,
            g.node("d.ts").unwrap(),
            g.node("a.ts").unwrap(),
            true,
            None
        )
        .is_none());
    }

    #[test]
    fn shortest_path_is_kept_and_cycles_through_the_start() {
        let g = DepGraph::build(
            ["a.ts", "b.ts", "c.ts", "d.ts", "e.ts"],
            vec![
                imp("a.ts", "b.ts", false),
                imp("a.ts", "c.ts", false),
                imp("b.ts", "d.ts", false),
                imp("c.ts", "e.ts", false),
                imp("e.ts", "d.ts", false),
                imp("d.ts", "a.ts", false),
            ],
        );
        let n = |p: &str| g.node(p).unwrap();
        let names =
            |v: Vec<NodeIndex>| v.iter().map(|x| g.path(*x).to_string()).collect::<Vec<_>>();
        let p = shortest_path(&g, n("a.ts"), n("d.ts"), true, None).unwrap();
        assert_eq!(names(p), ["a.ts", "b.ts", "d.ts"]);
        let p = shortest_path(&g, n("a.ts"), n("a.ts"), true, None).unwrap();
        assert_eq!(names(p), ["a.ts", "b.ts", "d.ts", "a.ts"]);
    }
}
