//! Graph building on a synthetic TypeScript monorepo.
//!
//! `cargo bench --bench graph [-- FILES]` (default 10,000 files): generates the repository in a
//! temp dir (deterministic seed), then times the stages of building its dependency graph from git
//! objects — snapshot, parse (all cores), resolve + graph — and the whole `pr-risk score` of a
//! small change. Prints the median of 5 runs per stage, and first the single-threaded throughput
//! of the TypeScript import scanner against the tree-sitter walk it replaces.

use std::time::{Duration, Instant};

use engine::git::snapshot::Snapshot;
use engine::git::Repo;
use engine::parse::{select_sources, FileSettings, Filters, ParseStore};
use engine::pipeline;
use testkit::synth;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:>8.1} ms", d.as_secs_f64() * 1000.0)
}

/// Single-threaded: the lexical import scanner against the tree-sitter walk, over every source
/// file of the tree, and how many files the scanner left to tree-sitter.
fn front_end_throughput(tree: &[(String, String)]) {
    use engine::lang::{ts_scan, typescript, Lang};
    let files: Vec<(Lang, &str)> = tree
        .iter()
        .filter_map(|(p, c)| Some((Lang::of_path(p)?, c.as_str())))
        .filter(|(l, _)| matches!(l, Lang::TypeScript | Lang::Tsx))
        .collect();
    let bytes: usize = files.iter().map(|(_, c)| c.len()).sum();
    let mb = bytes as f64 / 1e6;
    let mut scan_t = vec![];
    let mut fell_back = 0;
    for _ in 0..5 {
        let t = Instant::now();
        fell_back = files
            .iter()
            .filter(|(l, c)| std::hint::black_box(ts_scan::scan(*l, c)).is_none())
            .count();
        scan_t.push(t.elapsed());
    }
    let t = Instant::now();
    for (l, c) in &files {
        std::hint::black_box(typescript::extract_tree_sitter(*l, c));
    }
    let ts = t.elapsed();
    let scan = median(scan_t);
    println!(
        "import scanner (1 thread)  {}  {:>7.1} MB/s, {fell_back} of {} files left to tree-sitter",
        ms(scan),
        mb / scan.as_secs_f64(),
        files.len()
    );
    println!(
        "tree-sitter (1 thread)     {}  {:>7.1} MB/s",
        ms(ts),
        mb / ts.as_secs_f64()
    );
}

fn main() {
    let files: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let repo = synth::init(dir.path()).expect("init");
    let tree = synth::typescript_monorepo(files, 42);
    let bytes: usize = tree.iter().map(|(_, c)| c.len()).sum();
    let base = synth::commit_files(
        &repo,
        &tree,
        None,
        "main",
        "synthetic monorepo",
        1_700_000_000,
    )
    .unwrap();
    // A typical PR: 12 changed files.
    let changed: Vec<(String, String)> = tree
        .iter()
        .filter(|(p, _)| p.ends_with(".ts") && p.contains("/d"))
        .step_by(files / 12 + 1)
        .map(|(p, c)| (p.clone(), format!("{c}\nexport const changed = 1;\n")))
        .collect();
    synth::commit_files(
        &repo,
        &changed,
        Some(base),
        "feature",
        "change",
        1_700_003_600,
    )
    .unwrap();
    repo.set_head("refs/heads/feature").unwrap();
    println!(
        "synthetic TypeScript monorepo: {} files ({:.1} MB), generated in {}",
        tree.len(),
        bytes as f64 / 1e6,
        ms(t.elapsed())
    );

    front_end_throughput(&tree);

    let files = FileSettings::default();
    let filters = Filters::new(&files);
    let repo = Repo::discover(dir.path()).unwrap();
    let (mut snap_t, mut parse_t, mut graph_t, mut score_t) = (vec![], vec![], vec![], vec![]);
    let mut edges = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let snap = Snapshot::of_commit(&repo, base).unwrap();
        snap_t.push(t.elapsed());
        let sources = select_sources(&snap, &filters);
        let t = Instant::now();
        let mut store = ParseStore::default();
        store.parse(repo.git_dir(), &sources, files.max_file_size);
        parse_t.push(t.elapsed());
        let t = Instant::now();
        let side = pipeline::build_side(repo.git_dir(), snap, sources, &store);
        graph_t.push(t.elapsed());
        edges = side.graph.edge_count();

        let t = Instant::now();
        let req = pipeline::Request {
            base: Some("main".into()),
            head: Some("feature".into()),
            ..pipeline::Request::new(&repo)
        };
        let out = pipeline::run(&repo, &req, &pipeline::Quiet).unwrap();
        score_t.push(t.elapsed());
        assert!(out.report.dimensions.impact.available);
    }
    println!("edges: {edges}");
    println!("snapshot (tree walk)       {}", ms(median(snap_t)));
    println!("parse (all cores)          {}", ms(median(parse_t.clone())));
    println!("resolve + graph            {}", ms(median(graph_t.clone())));
    let g: Vec<Duration> = parse_t.iter().zip(&graph_t).map(|(a, b)| *a + *b).collect();
    println!("graph from git objects     {}", ms(median(g)));
    println!("pr-risk score (12 files)   {}", ms(median(score_t)));
}
