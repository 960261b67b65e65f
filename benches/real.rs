//! pr-risk on real repositories, with the targets of the speed issue side by side in one run.
//!
//! ```text
//! PR_RISK_REAL_REPOS=/path/to/clones cargo bench --bench real -- [NAME…] [--runs N] [--depcruise PATH]
//! ```
//!
//! Every git repository directly inside `$PR_RISK_REAL_REPOS` (or the ones named) is measured; when
//! the variable is unset or the directory is missing, the bench says so and measures nothing (the
//! repositories are fetched for measurement, never committed). Each repository is cloned into a
//! temporary directory first (objects hard-linked), so its caches and checkouts stay there.
//!
//! Per repository, on commits of its own first-parent history (newest first):
//! - **typical PR**: a commit changing 3–20 files; `pr-risk score --base C^ --head C` cold (a fresh
//!   cache directory) and warm (the same directory again), median of `--runs` (default 3), and the
//!   peak RSS of the cold run;
//! - **10-line PR** and **250-file PR**: a commit changing 5–15 lines, and the commit changing the
//!   most files between 150 and 400 (without one, the shortest range `HEAD~k..HEAD` that changes
//!   150–600 files); both cold;
//! - **dependency-cruiser** (TypeScript repositories, with `--depcruise PATH` or `$DEPCRUISE`; npm
//!   `dependency-cruiser` with `typescript@5` beside it): the whole repository's graph, on a
//!   checkout of `HEAD`;
//! - **eval regression** over 1,500 commits against `git log -p -U0 --no-merges -n 1500`.
//!
//! The targets printed with each value: typical PR cold ≥ 12× faster than dependency-cruiser's
//! whole graph; warm ≤ 0.3 s; peak RSS ≤ 300 MB; the 250-file PR ≤ 2× the 10-line PR (cold);
//! `eval regression` ≤ 10× `git log -p -U0`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod support;
use support::{measure, median, secs};

struct Args {
    names: Vec<String>,
    runs: usize,
    depcruise: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        names: Vec::new(),
        runs: 3,
        depcruise: std::env::var_os("DEPCRUISE").map(PathBuf::from),
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--runs" => a.runs = it.next().and_then(|n| n.parse().ok()).unwrap_or(3).max(1),
            "--depcruise" => a.depcruise = it.next().map(PathBuf::from),
            "--bench" => {}
            s if s.starts_with('-') => {}
            s => a.names.push(s.to_string()),
        }
    }
    a
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// First-parent commits of HEAD (newest first) with their changed files and lines.
fn history(dir: &Path, n: usize) -> Vec<(String, usize, usize)> {
    let log = git(
        dir,
        &[
            "log",
            "--first-parent",
            "--no-merges",
            "--format=@%H",
            "--numstat",
            "-n",
            &n.to_string(),
        ],
    );
    let mut out: Vec<(String, usize, usize)> = Vec::new();
    for line in log.lines() {
        if let Some(sha) = line.strip_prefix('@') {
            out.push((sha.to_string(), 0, 0));
        } else if let Some(last) = out.last_mut() {
            let mut w = line.split_whitespace();
            if let (Some(a), Some(d)) = (w.next(), w.next()) {
                last.1 += 1;
                last.2 += a.parse::<usize>().unwrap_or(0) + d.parse::<usize>().unwrap_or(0);
            }
        }
    }
    out
}

struct Row {
    name: String,
    files: usize,
    typical: Option<(String, f64, f64, f64)>,
    small: Option<(String, f64)>,
    big: Option<(String, usize, f64)>,
    depcruise: Option<f64>,
    eval: Option<(f64, f64)>,
}

fn score(bin: &str, repo: &Path, sha: &str, cache: &Path) -> support::Measured {
    score_range(bin, repo, &format!("{sha}^"), sha, cache)
}

fn score_range(bin: &str, repo: &Path, base: &str, sha: &str, cache: &Path) -> support::Measured {
    measure(
        repo,
        bin,
        &[
            "score",
            "--repo",
            repo.to_str().unwrap(),
            "--base",
            base,
            "--head",
            sha,
            "--format",
            "json",
            "--timings",
            "--cache-dir",
            cache.to_str().unwrap(),
        ],
    )
}

fn main() {
    let a = args();
    let Some(root) = std::env::var_os("PR_RISK_REAL_REPOS").map(PathBuf::from) else {
        println!("real: skipped (set PR_RISK_REAL_REPOS to a directory of cloned repositories)");
        return;
    };
    if !root.is_dir() {
        println!("real: skipped ({} is not a directory)", root.display());
        return;
    }
    let bin = env!("CARGO_BIN_EXE_pr-risk");
    let mut repos: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(".git").exists())
        .filter(|p| {
            a.names.is_empty()
                || a.names
                    .iter()
                    .any(|n| p.file_name().is_some_and(|f| f == n.as_str()))
        })
        .collect();
    repos.sort();
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for src in repos {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tmp.path().join(&name);
        let st = Command::new("git")
            .args(["clone", "-q", "--no-checkout"])
            .arg(&src)
            .arg(&dir)
            .status()
            .unwrap();
        if !st.success() {
            println!("{name}: clone failed, skipped");
            continue;
        }
        let files = git(&dir, &["ls-tree", "-r", "--name-only", "HEAD"])
            .lines()
            .filter(|p| {
                [".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".rs"]
                    .iter()
                    .any(|x| p.ends_with(x))
            })
            .count();
        let ts = git(&dir, &["ls-tree", "-r", "--name-only", "HEAD"])
            .lines()
            .any(|p| p.ends_with(".ts") || p.ends_with(".tsx"));
        let hist = history(&dir, 2000);
        let pick =
            |f: &dyn Fn(&(String, usize, usize)) -> bool| hist.iter().find(|c| f(c)).cloned();
        let mut row = Row {
            name: name.clone(),
            files,
            typical: None,
            small: None,
            big: None,
            depcruise: None,
            eval: None,
        };
        println!(
            "\n{name}: {files} source files, {} commits read",
            hist.len()
        );
        if let Some((sha, n, lines)) = pick(&|c| (3..=20).contains(&c.1) && c.2 >= 10) {
            let (mut cold, mut warm, mut rss) = (Vec::new(), Vec::new(), 0.0f64);
            for run in 0..a.runs {
                let cache = tmp.path().join(format!("cache-{name}-{run}"));
                let c = score(bin, &dir, &sha, &cache);
                let w = score(bin, &dir, &sha, &cache);
                cold.push(c.wall);
                warm.push(w.wall);
                rss = rss.max(c.rss_mb);
            }
            let (c, w) = (median(cold), median(warm));
            println!(
                "  typical PR {} ({n} files, {lines} lines): cold {}, warm {} (target ≤ 0.3 s), peak RSS {rss:.0} MB (target ≤ 300 MB)",
                &sha[..10],
                secs(c),
                secs(w)
            );
            row.typical = Some((sha, c, w, rss));
        }
        if let Some((sha, _, lines)) = pick(&|c| (1..=3).contains(&c.1) && (5..=15).contains(&c.2))
        {
            let walls: Vec<f64> = (0..a.runs)
                .map(|run| {
                    let cache = tmp.path().join(format!("small-{name}-{run}"));
                    score(bin, &dir, &sha, &cache).wall
                })
                .collect();
            let s = median(walls);
            println!(
                "  10-line PR {} ({lines} lines): cold {}",
                &sha[..10],
                secs(s)
            );
            row.small = Some((sha, s));
        }
        // The commit changing the most files between 150 and 400; without one, the shortest range
        // HEAD~k..HEAD that changes at least 150 files (a long-lived branch's pull request).
        let big = hist
            .iter()
            .filter(|c| (150..=400).contains(&c.1))
            .max_by_key(|c| c.1)
            .map(|(sha, n, _)| (format!("{sha}^"), sha.clone(), *n))
            .or_else(|| {
                [10usize, 20, 40, 80, 160, 320, 640].iter().find_map(|k| {
                    let base = format!("HEAD~{k}");
                    let n = git(&dir, &["diff", "--name-only", &base, "HEAD"])
                        .lines()
                        .count();
                    (150..=600)
                        .contains(&n)
                        .then(|| (base, "HEAD".to_string(), n))
                })
            });
        if let Some((base, sha, n)) = big {
            let walls: Vec<f64> = (0..a.runs)
                .map(|run| {
                    let cache = tmp.path().join(format!("big-{name}-{run}"));
                    score_range(bin, &dir, &base, &sha, &cache).wall
                })
                .collect();
            let b = median(walls);
            let ratio = row.small.as_ref().map(|s| b / s.1);
            println!(
                "  {n}-file PR {base}..{}: cold {}{}",
                &sha[..sha.len().min(10)],
                secs(b),
                ratio
                    .map(|r| format!(" = {r:.2}× the 10-line PR (target ≤ 2×)"))
                    .unwrap_or_default()
            );
            row.big = Some((sha, n, b));
        } else {
            println!("  no commit or recent range of 150–600 files");
        }
        if let (true, Some(dc)) = (ts, &a.depcruise) {
            let work = tmp.path().join(format!("checkout-{name}"));
            std::fs::create_dir_all(&work).unwrap();
            let st = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "git -C '{}' archive HEAD | tar -x -C '{}'",
                    dir.display(),
                    work.display()
                ))
                .status()
                .unwrap();
            assert!(st.success());
            let mut argv = vec![
                "--no-config",
                "--ts-pre-compilation-deps",
                "--exclude",
                "node_modules",
                "--output-type",
                "json",
                "--output-to",
                "/dev/null",
            ];
            if work.join("tsconfig.json").exists() {
                argv.extend(["--ts-config", "tsconfig.json"]);
            }
            argv.push(".");
            let walls: Vec<f64> = (0..a.runs)
                .map(|_| measure(&work, dc.to_str().unwrap(), &argv).wall)
                .collect();
            let d = median(walls);
            let ratio = row.typical.as_ref().map(|t| d / t.1);
            println!(
                "  dependency-cruiser, whole graph: {}{}",
                secs(d),
                ratio
                    .map(|r| format!(" — typical PR cold is {r:.1}× faster (target ≥ 12×)"))
                    .unwrap_or_default()
            );
            row.depcruise = Some(d);
        }
        {
            let t = Instant::now();
            let st = Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["log", "-p", "-U0", "--no-merges", "-n", "1500"])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(st.success());
            let g = t.elapsed().as_secs_f64();
            let m = measure(
                &dir,
                bin,
                &[
                    "eval",
                    "regression",
                    "--repo",
                    dir.to_str().unwrap(),
                    "--max-commits",
                    "1500",
                    "--format",
                    "json",
                ],
            );
            println!(
                "  eval regression, 1,500 commits: {} vs git log -p -U0: {} ({:.1}×, target ≤ 10×)",
                secs(m.wall),
                secs(g),
                m.wall / g
            );
            row.eval = Some((m.wall, g));
        }
        rows.push(row);
    }
    println!("\n| repository | files | typical cold | warm | RSS | 10-line | 250-file (ratio) | depcruise (ratio) | eval / git log |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let t = r.typical.as_ref();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.files,
            t.map(|t| secs(t.1)).unwrap_or("–".into()),
            t.map(|t| secs(t.2)).unwrap_or("–".into()),
            t.map(|t| format!("{:.0} MB", t.3)).unwrap_or("–".into()),
            r.small.as_ref().map(|s| secs(s.1)).unwrap_or("–".into()),
            match (&r.big, &r.small) {
                (Some(b), Some(s)) => format!("{} files: {} ({:.2}×)", b.1, secs(b.2), b.2 / s.1),
                (Some(b), None) => format!("{} files: {}", b.1, secs(b.2)),
                _ => "–".into(),
            },
            match (r.depcruise, t) {
                (Some(d), Some(t)) => format!("{} ({:.1}×)", secs(d), d / t.1),
                (Some(d), None) => secs(d),
                _ => "–".into(),
            },
            r.eval
                .map(|(e, g)| format!("{} / {} ({:.1}×)", secs(e), secs(g), e / g))
                .unwrap_or("–".into()),
        );
    }
}
