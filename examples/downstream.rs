//! Print the dependency graph of a revision and each file's downstream count.
//!
//! `cargo run --example downstream -- [REPO] [REV] [--json]`: one line per source file,
//! `downstream direct path` (transitive dependents, direct dependents), most reached first; with
//! `--json`, the graph itself (`pr_risk::graph_dump::graph_json`).

use std::path::PathBuf;

use pr_risk::config::Config;
use pr_risk::graph_dump::graph_json;
use pr_risk::pipeline::side_at;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let repo = PathBuf::from(pos.first().map(|s| s.as_str()).unwrap_or("."));
    let rev = pos.get(1).map(|s| s.as_str()).unwrap_or("HEAD");
    let side = match side_at(&repo, rev, &Config::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if json {
        println!("{:#}", graph_json(&side));
        return;
    }
    let g = &side.graph;
    let mut rows: Vec<(usize, usize, &str)> = g
        .graph
        .node_indices()
        .filter(|n| g.graph[*n].source)
        .map(|n| {
            (
                g.dependents_of(n, |_| true).len(),
                g.direct_dependents(n).count(),
                g.path(n),
            )
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(b.2)));
    for (d, direct, p) in rows {
        println!("{d:5} {direct:5} {p}");
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
