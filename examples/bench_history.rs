//! Bench: mining a generated history of 20,000 commits over 5,000 files.
//!
//! ```text
//! cargo run --example bench_history [--release] [-- DIR]
//! ```
//! The repository is generated once with git2 objects directly (an in-memory object database
//! dumped into one pack, so generation takes seconds) and kept in DIR (default
//! `target/bench-history-repo`). Each measurement runs in a child process so its peak memory
//! (VmHWM) is its own. Reports the median of 5 runs for the default window (10,000 commits) and
//! for the whole history (20,000 commits).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use engine::git::history::{self, FixMatcher, MineOptions};
use git2::{FileMode, Oid, Repository, Signature, Time};

const COMMITS: usize = 20_000;
const DIRS: usize = 50;
const FILES_PER_DIR: usize = 100;
/// 2023-01-01; commits 45 minutes apart span ~625 days.
const START: i64 = 1_672_531_200;
const STEP: i64 = 45 * 60;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn content(dir: usize, file: usize, version: usize) -> String {
    let mut s = String::with_capacity(1024);
    for l in 0..30 {
        // One line in ten changes with the version: diffs are small, like real edits.
        let v = if l % 10 == version % 10 { version } else { 0 };
        s.push_str(&format!("export const v{dir}_{file}_{l} = {v};\n"));
    }
    s
}

fn generate(dir: &Path) -> Result<(), git2::Error> {
    let t = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    let repo = Repository::init_bare(dir)?;
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut names: Vec<Vec<String>> = (0..DIRS)
        .map(|_| (0..FILES_PER_DIR).map(|f| format!("f{f:03}.ts")).collect())
        .collect();
    let mut versions = vec![vec![0usize; FILES_PER_DIR]; DIRS];
    let mut blobs: Vec<Vec<Oid>> = Vec::with_capacity(DIRS);
    for (d, dir_versions) in versions.iter().enumerate() {
        let mut v = Vec::with_capacity(FILES_PER_DIR);
        for (f, ver) in dir_versions.iter().enumerate() {
            v.push(repo.blob(content(d, f, *ver).as_bytes())?);
        }
        blobs.push(v);
    }
    let dir_tree =
        |repo: &Repository, names: &[String], blobs: &[Oid]| -> Result<Oid, git2::Error> {
            let mut b = repo.treebuilder(None)?;
            for (n, o) in names.iter().zip(blobs) {
                b.insert(n, *o, FileMode::Blob.into())?;
            }
            b.write()
        };
    let mut dir_trees: Vec<Oid> = Vec::with_capacity(DIRS);
    for d in 0..DIRS {
        dir_trees.push(dir_tree(&repo, &names[d], &blobs[d])?);
    }
    let root_tree = |repo: &Repository, dir_trees: &[Oid]| -> Result<Oid, git2::Error> {
        let mut src = repo.treebuilder(None)?;
        for (d, o) in dir_trees.iter().enumerate() {
            src.insert(format!("d{d:02}"), *o, FileMode::Tree.into())?;
        }
        let src = src.write()?;
        let mut root = repo.treebuilder(None)?;
        root.insert("src", src, FileMode::Tree.into())?;
        root.write()
    };
    let authors: Vec<String> = (0..40).map(|a| format!("dev{a}")).collect();
    let mut parent: Option<Oid> = None;
    for i in 0..COMMITS {
        let mut message = format!("update batch {i}");
        if i > 0 {
            let touched = 1 + rng.below(4);
            let d = rng.below(DIRS);
            let mut dirs_touched = HashSet::new();
            for k in 0..touched {
                // Mostly one directory, sometimes another.
                let dd = if k > 0 && rng.below(3) == 0 {
                    rng.below(DIRS)
                } else {
                    d
                };
                // Skewed towards a few hot files per directory.
                let f = if rng.below(2) == 0 {
                    rng.below(10)
                } else {
                    rng.below(FILES_PER_DIR)
                };
                versions[dd][f] += 1;
                blobs[dd][f] = repo.blob(content(dd, f, versions[dd][f]).as_bytes())?;
                dirs_touched.insert(dd);
            }
            if i % 1000 == 0 {
                let f = rng.below(FILES_PER_DIR);
                names[d][f] = format!("r{i}_{f:03}.ts");
                message = format!("rename a file in d{d:02}");
                dirs_touched.insert(d);
            } else if rng.below(100) < 15 {
                message = format!("fix: bug #{i} in d{d:02}");
            }
            for dd in dirs_touched {
                dir_trees[dd] = dir_tree(&repo, &names[dd], &blobs[dd])?;
            }
        } else {
            message = "initial import".to_string();
        }
        let tree = repo.find_tree(root_tree(&repo, &dir_trees)?)?;
        let who = &authors[rng.below(authors.len())];
        let sig = Signature::new(
            who,
            &format!("{who}@example.com"),
            &Time::new(START + i as i64 * STEP, 0),
        )?;
        let parents: Vec<git2::Commit> = match parent {
            Some(p) => vec![repo.find_commit(p)?],
            None => vec![],
        };
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        parent = Some(repo.commit(None, &sig, &sig, &message, &tree, &refs)?);
    }
    let mut buf = git2::Buf::new();
    mempack.dump(&repo, &mut buf)?;
    {
        let mut w = odb.packwriter()?;
        w.write_all(&buf)
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
        w.commit()?;
    }
    mempack.reset()?;
    drop(odb);
    let repo = Repository::open_bare(dir)?;
    repo.reference("refs/heads/main", parent.expect("commits"), true, "bench")?;
    repo.set_head("refs/heads/main")?;
    eprintln!(
        "generated {COMMITS} commits over {} files in {:.1}s ({} MiB pack)",
        DIRS * FILES_PER_DIR,
        t.elapsed().as_secs_f64(),
        buf.len() / (1024 * 1024)
    );
    Ok(())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Child: mine once and print `seconds peak_kib commits files`.
fn mine_once(dir: &Path, max_commits: usize) {
    // As the pr-risk binary does (see cli::main).
    engine::git::init_process();
    let raw = Repository::open_bare(dir).expect("open bench repo");
    let head = raw.head().unwrap().peel_to_commit().unwrap().id();
    let repo = engine::git::Repo::from(raw);
    let matcher = FixMatcher::defaults();
    // What a pull request asks about: a handful of changed files and callers.
    let churn_for: HashSet<String> = (0..10)
        .map(|f| format!("src/d{:02}/f{f:03}.ts", f * 3))
        .collect();
    let opts = MineOptions {
        max_commits,
        max_age_days: 730,
        min_commits: 50,
        follow_renames: true,
        matcher: &matcher,
        churn_for: &churn_for,
    };
    let t = Instant::now();
    let h = history::mine(&repo, head, &opts, None).expect("mine");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{secs} {} {} {} {}",
        peak_rss_kib(),
        h.commits.len(),
        h.files.len(),
        h.fix_commits()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--mine") {
        mine_once(Path::new(&args[2]), args[3].parse().unwrap());
        return;
    }
    let dir = args.get(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-history-repo")
    });
    let ready = Repository::open_bare(&dir)
        .ok()
        .and_then(|r| r.head().ok().and_then(|h| h.target()))
        .is_some();
    if !ready {
        generate(&dir).expect("generate the bench repository");
    }
    let exe = std::env::current_exe().unwrap();
    for (label, max) in [("default window", 10_000usize), ("whole history", 20_000)] {
        let mut runs: Vec<(f64, u64, String)> = Vec::new();
        for _ in 0..5 {
            let out = Command::new(&exe)
                .args(["--mine", dir.to_str().unwrap(), &max.to_string()])
                .output()
                .expect("run the child");
            let s = String::from_utf8_lossy(&out.stdout).to_string();
            let mut it = s.split_whitespace();
            let secs: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            let kib: u64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            runs.push((secs, kib, it.collect::<Vec<_>>().join(" ")));
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let med = &runs[runs.len() / 2];
        let rest: Vec<&str> = med.2.split(' ').collect();
        println!(
            "{label:>15}: median {:.3}s (min {:.3}s, max {:.3}s), peak RSS {:.1} MiB; {} commits mined, {} files, {} fix commits",
            med.0,
            runs[0].0,
            runs[runs.len() - 1].0,
            med.1 as f64 / 1024.0,
            rest.first().unwrap_or(&"?"),
            rest.get(1).unwrap_or(&"?"),
            rest.get(2).unwrap_or(&"?"),
        );
    }
}
