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

use git2::{IndexAddOption, Repository, Signature};
use pr_risk::config::Config;
use pr_risk::parse::{select_sources, Filters, ParseStore};
use pr_risk::pipeline::{build_side, side_at};
use pr_risk::snapshot::Snapshot;

const CRATES: usize = 10;
const GROUPS: usize = 10;
const FILES: usize = 19;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn generate(root: &Path) -> usize {
    let mut n = 0;
    let members: Vec<String> = (0..CRATES).map(|k| format!("\"crates/c{k}\"")).collect();
    write(
        root,
        "Cargo.toml",
        &format!("[workspace]\nmembers = [{}]\n", members.join(", ")),
    );
    for k in 0..CRATES {
        let dir = format!("crates/c{k}");
        let mut deps = String::from("serde = \"1\"\n");
        if k > 0 {
            deps.push_str(&format!(
                "base = {{ package = \"crate-{}\", path = \"../c{}\" }}\n",
                k - 1,
                k - 1
            ));
        }
        write(
            root,
            &format!("{dir}/Cargo.toml"),
            &format!(
                "[package]\nname = \"crate-{k}\"\nversion = \"0.1.0\"\n\n[dependencies]\n{deps}"
            ),
        );
        let mut lib = String::from("//! Generated crate.\n");
        for j in 0..GROUPS {
            lib.push_str(&format!("pub mod g{j};\n"));
        }
        lib.push_str("pub use g0::*;\npub use g1::Item1 as Root1;\n");
        write(root, &format!("{dir}/src/lib.rs"), &lib);
        n += 1;
        for j in 0..GROUPS {
            let mut m = String::new();
            for i in 0..FILES {
                m.push_str(&format!("pub mod f{i};\n"));
            }
            m.push_str(&format!(
                "pub use f0::Item0;\npub use self::f{}::*;\n",
                FILES - 1
            ));
            write(root, &format!("{dir}/src/g{j}/mod.rs"), &m);
            n += 1;
            for i in 0..FILES {
                let mut f = String::new();
                f.push_str(&format!(
                    "use crate::g{}::f{i}::Item{i} as Other;\n",
                    (j + 1) % GROUPS
                ));
                f.push_str(&format!("use super::f{}::*;\n", (i + 1) % FILES));
                f.push_str("use std::collections::{BTreeMap, HashMap};\n");
                if k > 0 {
                    f.push_str(&format!("use base::g{j}::f{i}::Item{i} as Upstream;\n"));
                }
                f.push_str(&format!(
                    "\npub struct Item{i} {{\n    pub other: Option<Box<Other>>,\n}}\n\n"
                ));
                f.push_str(&format!(
                    "pub fn run_{i}(m: &mut HashMap<u32, u32>) -> usize {{\n    let _b: BTreeMap<u8, u8> = BTreeMap::new();\n    crate::g{j}::f{}::run_{}(m);\n    super::f0::Item0 {{ other: None }};\n    m.len()\n}}\n",
                    (i + 2) % FILES,
                    (i + 2) % FILES
                ));
                f.push_str("\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn works() {\n        assert_eq!(crate::Root1 { other: None }.other.is_none(), true);\n    }\n}\n");
                write(root, &format!("{dir}/src/g{j}/f{i}.rs"), &f);
                n += 1;
            }
        }
    }
    n
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
    let cfg = Config::default();

    let mut full = Vec::new();
    let mut edges = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let side = side_at(dir.path(), "HEAD", &cfg).unwrap();
        full.push(t.elapsed());
        edges = side.graph.edge_count();
    }

    let repo = Repository::open(dir.path()).unwrap();
    let git_dir = repo.path().to_path_buf();
    let head = repo.head().unwrap().peel_to_commit().unwrap().id();
    let snap = Snapshot::of_commit(&repo, head).unwrap();
    let filters = Filters::from_config(&cfg);
    let sources = select_sources(&snap, &filters);
    let mut store = ParseStore::default();
    store.parse(&git_dir, sources.iter(), cfg.limits.max_file_size);
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
