//! Print the dependency graph of a revision and each file's downstream count.
//!
//! `cargo run --example downstream -- [REPO] [REV] [--json]`: one line per source file,
//! `downstream direct tests path`, most reached first, counted the way the impact report's
//! structural count counts them (production dependents, transitively; direct production
//! dependents; test files reached, which do not propagate; test files are the default `tests`
//! globs) — the upper bound of what a change to the file can reach, not the symbol-level reach
//! impact scores; with `--json`, the graph itself (`engine::graph::DepGraph::data`).

use std::path::PathBuf;

use engine::git::Repo;
use engine::graph::NodeIndex;
use engine::parse::FileSettings;
use engine::pipeline::side_at;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let repo = PathBuf::from(pos.first().map(|s| s.as_str()).unwrap_or("."));
    let rev = pos.get(1).map(|s| s.as_str()).unwrap_or("HEAD");
    let side = match Repo::discover(&repo).and_then(|r| side_at(&r, rev, &FileSettings::default()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if json {
        println!("{:#}", serde_json::to_value(side.graph.data()).unwrap());
        return;
    }
    let g = &side.graph;
    let tests = FileSettings::default().test_globs();
    let production = |n: NodeIndex| !tests.is_match(g.path(n));
    let mut rows: Vec<(usize, usize, usize, &str)> = g
        .graph
        .node_indices()
        .filter(|n| g.graph[*n].source)
        .map(|n| {
            let reached = g.dependents_of(n, production);
            let prod = reached.keys().filter(|m| production(**m)).count();
            let direct = g.direct_dependents(n).filter(|m| production(*m)).count();
            (prod, direct, reached.len() - prod, g.path(n))
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.3.cmp(b.3)));
    println!("downstream direct tests path");
    for (d, direct, t, p) in rows {
        println!("{d:10} {direct:6} {t:5} {p}");
    }
    for n in &side.notes {
        eprintln!("note: {n}");
    }
    eprintln!(
        "{} files, {} edges, {} unresolved",
        g.node_count(),
        g.edge_count(),
        g.unresolved.len()
    );
}
