//! Graph building on a generated Rust workspace of ~2,000 files.
//!
//! `cargo bench --bench rust_graph` builds a git repository with 10 crates × 201 files (mod.rs
//! directories, `pub use` chains, globs, `crate::`/`super::` paths, a path dependency on the
//! previous crate, one renamed), then times, each over several runs, reporting the median:
//! - `full`: what `score` does for one side — snapshot, parse every file, resolve, build the graph;
//! - `resolve`: resolution and graph building alone, on facts parsed once.
//!
//! Set `PR_RISK_BENCH_RUNS` to change the number of runs (default 7).

use std::path::Path;
use std::time::{Duration, Instant};

use engine::git::snapshot::Snapshot;
use engine::git::Repo;
use engine::parse::{select_sources, FileSettings, Filters, ParseStore};
use engine::pipeline::{build_side, side_at};
use git2::{IndexAddOption, Repository, Signature};

/// Write the generated workspace (10 crates × 10 groups × 19 files + mod.rs/lib.rs = 2,010
/// files) into `root`.
fn generate(root: &Path) -> usize {
    let files = testkit::synth::rust_workspace(2_010);
    for (rel, text) in &files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    files.iter().filter(|(p, _)| p.ends_with(".rs")).count()
}

fn commit(root: &Path) {
    let repo = Repository::init(root).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("bench", "bench@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "generated", &tree, &[])
        .unwrap();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("PR_RISK_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(1);
    let dir = tempfile::tempdir().unwrap();
    let files = generate(dir.path());
    commit(dir.path());
    let cfg = FileSettings::default();

    let mut full = Vec::new();
    let mut edges = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let side = side_at(&Repo::discover(dir.path()).unwrap(), "HEAD", &cfg).unwrap();
        full.push(t.elapsed());
        edges = side.graph.edge_count();
    }

    let raw = Repository::open(dir.path()).unwrap();
    let head = raw.head().unwrap().peel_to_commit().unwrap().id();
    let repo = Repo::from(raw);
    let git_dir = repo.git_dir().to_path_buf();
    let snap = Snapshot::of_commit(&repo, head).unwrap();
    let filters = Filters::new(&cfg);
    let sources = select_sources(&snap, &filters);
    let mut store = ParseStore::default();
    store.parse(&git_dir, sources.iter(), cfg.max_file_size);
    let mut resolve = Vec::new();
    for _ in 0..runs {
        let (s, f) = (snap.clone(), sources.clone());
        let t = Instant::now();
        let side = build_side(&git_dir, s, f, &store);
        resolve.push(t.elapsed());
        assert_eq!(side.graph.edge_count(), edges);
    }
    println!(
        "rust_graph: {files} files, {edges} edges, {runs} runs\n  full (snapshot + parse + resolve + graph): median {:.1} ms\n  resolve + graph (facts parsed once):       median {:.1} ms",
        median(full).as_secs_f64() * 1e3,
        median(resolve).as_secs_f64() * 1e3,
    );
}
