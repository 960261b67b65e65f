//! Front-end cost of TypeScript / JavaScript files in a checked-out directory, single-threaded:
//! the import facts as the pipeline reads them (the lexical scanner, tree-sitter where it falls
//! back) against the tree-sitter walk alone, split into JSX files (`.tsx` / `.jsx`) and the rest.
//!
//! `cargo run --release --example scan_speed -- DIR [RUNS]` (`node_modules` is skipped).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engine::lang::{ts_scan, typescript, Family, Lang};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "node_modules" && n != ".git")
            {
                files(&p, out);
            }
        } else if p
            .to_str()
            .and_then(Lang::of_path)
            .is_some_and(|l| l.family() == Family::JavaScript)
        {
            out.push(p);
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: scan_speed DIR [RUNS]"));
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    let all: Vec<(bool, Lang, String)> = paths
        .iter()
        .filter_map(|p| {
            let src = std::fs::read_to_string(p).ok()?;
            let lang = Lang::of_path(p.to_str()?)?;
            let jsx = p.extension().is_some_and(|e| e == "tsx" || e == "jsx");
            Some((jsx, lang, src))
        })
        .collect();
    for (label, want_jsx) in [(".tsx/.jsx", true), ("other", false)] {
        let set: Vec<(Lang, &str)> = all
            .iter()
            .filter(|(j, _, _)| *j == want_jsx)
            .map(|(_, l, s)| (*l, s.as_str()))
            .collect();
        let mb = set.iter().map(|(_, s)| s.len()).sum::<usize>() as f64 / 1e6;
        let fell_back = set
            .iter()
            .filter(|(l, s)| ts_scan::scan(*l, s).is_none())
            .count();
        let time = |f: &dyn Fn(Lang, &str)| {
            let samples = (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    for (l, s) in &set {
                        f(*l, s);
                    }
                    t.elapsed()
                })
                .collect();
            median(samples)
        };
        let front = time(&|l, s| {
            std::hint::black_box(typescript::extract(l, s));
        });
        let tree = time(&|l, s| {
            std::hint::black_box(typescript::extract_tree_sitter(l, s));
        });
        println!(
            "{label:<10} {:>5} files {mb:>6.1} MB  fell back {fell_back:>4}  front end {:>8.1} ms  tree-sitter {:>8.1} ms  ({:.1}x)",
            set.len(),
            front.as_secs_f64() * 1e3,
            tree.as_secs_f64() * 1e3,
            tree.as_secs_f64() / front.as_secs_f64().max(1e-9),
        );
    }
}
