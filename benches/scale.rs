//! The performance table of the README: `pr-risk score` cold and warm, peak RSS, the whole-repo
//! dependency graph against dependency-cruiser, and history mining against `git log`, on
//! generated TypeScript monorepos with history.
//!
//! ```text
//! cargo bench --bench scale -- [FILES…] [--commits N] [--runs N] [--depcruise PATH] [--rust]
//! ```
//! Default: 1,000 and 10,000 files, history of min(files, 10,000) commits, 5 runs (median).
//! `--rust`: generated Rust workspaces (`testkit::synth::rust_workspace`) instead of TypeScript
//! monorepos (no dependency-cruiser column then).
//! The repositories are written with `git fast-import` and repacked with `git repack -a -d -f`
//! like a clone's pack (deterministic seed: same bytes, same commit ids everywhere): the synthetic monorepo of `testkit::synth` as the first commit, then
//! fix and feature commits by 20 authors touching 1–4 files each, then a `feature` branch that
//! changes 12 files (the pull request scored).
//!
//! - cold: `pr-risk score --no-cache` (every file of both sides parsed);
//! - warm: the cache filled by scoring an earlier pull request (`main~1..main`), then the PR;
//! - peak RSS: `/usr/bin/time -f %M` of the cold run;
//! - graph: `pr-risk graph --format json` of the whole `main` (no cache) against
//!   `depcruise --ts-pre-compilation-deps --ts-config tsconfig.json --output-type json packages`
//!   over a checkout of the same tree (with `--depcruise PATH` or `$DEPCRUISE`;
//!   `npm install dependency-cruiser typescript@5` into a temp dir: dependency-cruiser 17 does not
//!   read `.ts` with TypeScript 7 and then silently finds no modules);
//! - history: the `history` stage of `pr-risk score --timings` against
//!   `git log --name-only --no-merges -n <commits> main` (the same window), cold (no cache), and
//!   warm (`history load` + `history` of the warm run; `history save*` runs alongside: the history cache filled at
//!   `main~1`, so one new commit is read).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use testkit::synth::{self, Lcg};

mod support;
use support::{measure, median, secs};

const BIN: &str = env!("CARGO_BIN_EXE_pr-risk");

struct Args {
    sizes: Vec<usize>,
    commits: Option<usize>,
    runs: usize,
    depcruise: Option<PathBuf>,
    rust: bool,
}

fn args() -> Args {
    let mut a = Args {
        sizes: Vec::new(),
        commits: None,
        runs: 5,
        depcruise: std::env::var_os("DEPCRUISE").map(PathBuf::from),
        rust: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--commits" => a.commits = it.next().and_then(|v| v.parse().ok()),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(5),
            "--depcruise" => a.depcruise = it.next().map(PathBuf::from),
            "--rust" => a.rust = true,
            _ => {
                if let Ok(n) = x.replace('_', "").parse() {
                    a.sizes.push(n)
                }
            }
        }
    }
    if a.sizes.is_empty() {
        a.sizes = if a.rust {
            vec![3_000]
        } else {
            vec![1_000, 10_000]
        };
    }
    if a.rust {
        a.depcruise = None;
    }
    a.runs = a.runs.max(1);
    a
}

/// Generate the repository: fast-import stream of the monorepo, its history and the PR branch.
fn generate(dir: &Path, files: usize, commits: usize, rust: bool) -> (usize, usize) {
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .expect("git");
        assert!(st.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let mut tree: BTreeMap<String, String> = if rust {
        synth::rust_workspace(files).into_iter().collect()
    } else {
        synth::typescript_monorepo(files, 42).into_iter().collect()
    };
    let bytes: usize = tree.values().map(String::len).sum();
    // Leaf modules: what feature and fix commits edit.
    let sources: Vec<String> = tree
        .keys()
        .filter(|p| {
            if rust {
                p.ends_with(".rs") && p.contains("/src/g") && !p.ends_with("mod.rs")
            } else {
                p.ends_with(".ts") && p.contains("/src/d")
            }
        })
        .cloned()
        .collect();
    let mut rng = Lcg::new(7);
    let mut s: Vec<u8> = Vec::with_capacity(bytes * 2);
    let mut time: i64 = 1_690_000_000;
    let mut mark = 0usize;
    let data = |s: &mut Vec<u8>, text: &str| {
        writeln!(s, "data {}", text.len()).unwrap();
        s.extend_from_slice(text.as_bytes());
        s.push(b'\n');
    };
    let mut commit = |s: &mut Vec<u8>,
                      branch: &str,
                      author: u64,
                      time: i64,
                      msg: &str,
                      from: Option<&str>,
                      changes: &[(String, String)]| {
        mark += 1;
        writeln!(s, "commit refs/heads/{branch}\nmark :{mark}").unwrap();
        writeln!(
            s,
            "author Dev {author} <dev{author}@example.com> {time} +0000\ncommitter Dev {author} <dev{author}@example.com> {time} +0000"
        )
        .unwrap();
        data(s, msg);
        if let Some(f) = from {
            writeln!(s, "from {f}").unwrap();
        }
        for (p, c) in changes {
            writeln!(s, "M 100644 inline {p}").unwrap();
            data(s, c);
        }
    };
    let all: Vec<(String, String)> = tree.iter().map(|(p, c)| (p.clone(), c.clone())).collect();
    commit(&mut s, "main", 0, time, "initial import", None, &all);
    for i in 1..commits {
        time += 1800;
        let n = 1 + rng.below(4) as usize;
        let mut changes = Vec::with_capacity(n);
        for _ in 0..n {
            let p = &sources[rng.below(sources.len() as u64) as usize];
            let c = tree.get_mut(p).unwrap();
            c.push_str(&if rust {
                format!("pub const V{i}: u32 = {i};\n")
            } else {
                format!("export const v{i} = {i};\n")
            });
            changes.push((p.clone(), c.clone()));
        }
        let msg = if rng.below(4) == 0 {
            format!("fix: off-by-one in change {i}")
        } else {
            format!("feat: change {i}")
        };
        commit(&mut s, "main", rng.below(20), time, &msg, None, &changes);
    }
    // The pull request: 12 files, branched from the tip of main.
    let changes: Vec<(String, String)> = sources
        .iter()
        .step_by(sources.len() / 12 + 1)
        .take(12)
        .map(|p| {
            (
                p.clone(),
                if rust {
                    format!("{}\npub const CHANGED: u32 = 1;\n", tree[p])
                } else {
                    format!("{}\nexport const changed = 1;\n", tree[p])
                },
            )
        })
        .collect();
    commit(
        &mut s,
        "feature",
        3,
        time + 1800,
        "feat: the pull request",
        Some("refs/heads/main"),
        &changes,
    );
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child.stdin.take().unwrap().write_all(&s).unwrap();
    assert!(child.wait().unwrap().success());
    // fast-import writes one long delta chain per stream (its docs say to repack afterwards); a
    // clone gets a pack made by `git pack-objects` with a real delta search, as here.
    git(&["repack", "-a", "-d", "-f", "-q"]);
    (tree.len(), bytes)
}

fn main() {
    let a = args();
    println!(
        "pr-risk scale bench: {} runs per point (median); binary {BIN}",
        a.runs
    );
    if a.depcruise.is_none() {
        println!(
            "dependency-cruiser: not given (--depcruise PATH or $DEPCRUISE); graph ratio skipped"
        );
    }
    let mut rows = Vec::new();
    for &files in &a.sizes {
        let commits = a.commits.unwrap_or(files.min(10_000)).max(2);
        // No dot in the path: dependency-cruiser skips files under hidden directories.
        let tmp = tempfile::Builder::new()
            .prefix("pr-risk-scale-")
            .disable_cleanup(std::env::var_os("SCALE_KEEP").is_some())
            .tempdir()
            .expect("tempdir");
        let dir = tmp.path();
        let t = Instant::now();
        let (n, bytes) = generate(dir, files, commits, a.rust);
        println!(
            "\n== {} of {n} files ({:.1} MB), {commits} commits: generated in {}",
            if a.rust {
                "Rust workspace"
            } else {
                "TypeScript monorepo"
            },
            bytes as f64 / 1e6,
            secs(t.elapsed().as_secs_f64())
        );
        let score = [
            "score",
            "--base",
            "main",
            "--head",
            "feature",
            "--format",
            "json",
            "--timings",
        ];
        let mut cold_args = score.to_vec();
        cold_args.push("--no-cache");
        let cache = dir.join(".bench-cache");
        let cache_s = cache.to_str().unwrap().to_string();
        let mut warm_args = score.to_vec();
        warm_args.extend(["--cache-dir", &cache_s]);
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut hist = Vec::new();
        let mut hist_warm = Vec::new();
        let mut hist_file = 0u64;
        let mut gitlog = Vec::new();
        let mut graph = Vec::new();
        let mut dc = Vec::new();
        let mut cold_stages: Vec<BTreeMap<String, f64>> = Vec::new();
        let mut warm_stages: Vec<BTreeMap<String, f64>> = Vec::new();
        let n_commits = commits.to_string();
        for run in 0..a.runs {
            let m = measure(dir, BIN, &cold_args);
            hist.push(m.stages.get("history").copied().unwrap_or(f64::NAN) / 1000.0);
            cold.push((m.wall, m.rss_mb));
            cold_stages.push(m.stages);
            // Warm: a cache filled by an earlier pull request (main~1..main), then this one.
            let _ = std::fs::remove_dir_all(&cache);
            measure(
                dir,
                BIN,
                &[
                    "score",
                    "--base",
                    "main~1",
                    "--head",
                    "main",
                    "--format",
                    "json",
                    "--cache-dir",
                    &cache_s,
                ],
            );
            let m = measure(dir, BIN, &warm_args);
            hist_warm.push(
                ["history load", "history"]
                    .iter()
                    .map(|k| m.stages.get(*k).copied().unwrap_or(f64::NAN))
                    .sum::<f64>()
                    / 1000.0,
            );
            hist_file = std::fs::metadata(cache.join("history-v1.bin")).map_or(0, |m| m.len());
            warm.push((m.wall, m.rss_mb));
            warm_stages.push(m.stages);
            let m = measure(
                dir,
                "git",
                &[
                    "log",
                    "--name-only",
                    "--no-merges",
                    "-n",
                    &n_commits,
                    "main",
                ],
            );
            gitlog.push(m.wall);
            let m = measure(
                dir,
                BIN,
                &[
                    "graph",
                    "--rev",
                    "main",
                    "--format",
                    "json",
                    "-o",
                    "/dev/null",
                ],
            );
            graph.push(m.wall);
            if let Some(dcb) = &a.depcruise {
                let work = dir.join("checkout");
                if run == 0 {
                    std::fs::create_dir_all(&work).unwrap();
                    let st = Command::new("sh")
                        .arg("-c")
                        .arg(format!("git archive main | tar -x -C '{}'", work.display()))
                        .current_dir(dir)
                        .status()
                        .unwrap();
                    assert!(st.success());
                }
                let dc_out = dir.join(".depcruise.json");
                let m = measure(
                    &work,
                    dcb.to_str().unwrap(),
                    &[
                        "--no-config",
                        // Count imports TypeScript would elide as unused, as pr-risk does.
                        "--ts-pre-compilation-deps",
                        "--ts-config",
                        "tsconfig.json",
                        "--output-type",
                        "json",
                        "--output-to",
                        dc_out.to_str().unwrap(),
                        "packages",
                    ],
                );
                let modules = std::fs::read(&dc_out)
                    .ok()
                    .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
                    .and_then(|v| v["modules"].as_array().map(Vec::len))
                    .unwrap_or(0);
                if run == 0 {
                    println!("dependency-cruiser: {modules} modules");
                    if modules == 0 {
                        let head: String = std::fs::read_to_string(&dc_out)
                            .unwrap_or_default()
                            .chars()
                            .take(800)
                            .collect();
                        println!("{head}");
                        let _ = Command::new("ls").arg("-la").arg(&work).status();
                    }
                }
                assert!(
                    modules >= files / 2,
                    "dependency-cruiser did not cruise the tree ({modules} modules)"
                );
                dc.push(m.wall);
            }
        }
        let stage_medians = |all: &[BTreeMap<String, f64>]| -> Vec<(String, f64)> {
            let names: Vec<String> = all[0].keys().cloned().collect();
            let mut v: Vec<(String, f64)> = names
                .into_iter()
                .map(|k| {
                    let m = median(all.iter().filter_map(|s| s.get(&k).copied()).collect());
                    (k, m)
                })
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1));
            v
        };
        let cold_wall = median(cold.iter().map(|c| c.0).collect());
        let cold_rss = median(cold.iter().map(|c| c.1).collect());
        let warm_wall = median(warm.iter().map(|c| c.0).collect());
        let warm_rss = median(warm.iter().map(|c| c.1).collect());
        let hist_m = median(hist);
        let hist_warm_m = median(hist_warm);
        let log_m = median(gitlog);
        let graph_m = median(graph);
        println!(
            "score cold (no cache)     {:>9}   peak RSS {cold_rss:.0} MB",
            secs(cold_wall)
        );
        println!(
            "score warm (cache)        {:>9}   peak RSS {warm_rss:.0} MB",
            secs(warm_wall)
        );
        println!(
            "history mining            {:>9}   git log --name-only --no-merges: {}  (ratio {:.2}×)",
            secs(hist_m),
            secs(log_m),
            hist_m / log_m
        );
        println!(
            "history mining, warm      {:>9}   (load + mine; the save runs alongside; history cache file {:.1} MB)",
            secs(hist_warm_m),
            hist_file as f64 / 1e6
        );
        let dc_m = (!dc.is_empty()).then(|| median(dc));
        match dc_m {
            Some(d) => println!(
                "whole-repo graph          {:>9}   dependency-cruiser: {}  ({:.1}× faster)",
                secs(graph_m),
                secs(d),
                d / graph_m
            ),
            None => println!("whole-repo graph          {:>9}", secs(graph_m)),
        }
        let show = |label: &str, st: &[(String, f64)]| {
            let parts: Vec<String> = st
                .iter()
                .filter(|(k, _)| k != "total")
                .take(8)
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect();
            println!("  {label} stages (ms, top 8): {}", parts.join(", "));
        };
        show("cold", &stage_medians(&cold_stages));
        show("warm", &stage_medians(&warm_stages));
        rows.push((
            n, commits, cold_wall, warm_wall, cold_rss, graph_m, dc_m, hist_m, log_m,
        ));
    }
    println!("\n| files | commits | score cold | score warm | peak RSS | graph | dependency-cruiser | ratio | history | git log | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, c, cold, warm, rss, g, dc, h, l) in rows {
        println!(
            "| {n} | {c} | {} | {} | {rss:.0} MB | {} | {} | {} | {} | {} | {:.2}× |",
            secs(cold),
            secs(warm),
            secs(g),
            dc.map(secs).unwrap_or_else(|| "–".into()),
            dc.map(|d| format!("{:.1}×", d / g))
                .unwrap_or_else(|| "–".into()),
            secs(h),
            secs(l),
            h / l
        );
    }
}
