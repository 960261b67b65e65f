//! Benchmark of the security dimension: rule compilation per grammar, scanning of changed files,
//! and the security stage of a full run on a generated repository.
//!
//! `cargo run --release --example bench_security [FILES] [CHANGED]` (default 400 files, 60 changed).
//! Prints medians; the machine may be loaded by other builds, so read them as orders of magnitude.

use std::time::{Duration, Instant};

use engine::pipeline::{self, Request};
use engine::score::security::rules::Grammar;
use engine::score::security::{scan_text, RuleSet, SecuritySettings};
use git2::{Repository, Signature};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ts_file(i: usize, changed: bool) -> String {
    let mut s = String::from(
        "import { z } from \"zod\";\nimport { router, publicProcedure, protectedProcedure } from \"../trpc\";\nimport { prisma } from \"../db\";\n\n",
    );
    for f in 0..40 {
        s.push_str(&format!(
            "export async function handler{i}_{f}(req: Request, id: string) {{\n  const user = await prisma.user.findUnique({{ where: {{ id }} }});\n  if (!user) {{\n    throw new Error(`missing ${{id}}`);\n  }}\n  const total = user.items.reduce((a, b) => a + b.price, 0);\n  return {{ id: user.id, total, name: user.name.trim() }};\n}}\n\n"
        ));
    }
    s.push_str(&format!(
        "export const r{i} = router({{\n  list: publicProcedure.query(() => prisma.post.findMany()),\n  save: protectedProcedure.input(z.string()).mutation(({{ input }}) => prisma.post.create({{ data: {{ title: input }} }})),\n}});\n"
    ));
    if changed {
        s.push_str("export const boom = router({ drop: publicProcedure.mutation(() => prisma.post.deleteMany()) });\n");
        s.push_str(concat!(
            "const apiKey = \"q7Zp",
            "3LmX9vT2rW8sK4nB6yHc\";\n"
        ));
    }
    s
}

fn commit(repo: &Repository, msg: &str) {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("bench", "bench@example.com").unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .map(|h| vec![h.peel_to_commit().unwrap()])
        .unwrap_or_default();
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
        .unwrap();
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let files = args.first().copied().unwrap_or(400);
    let changed = args.get(1).copied().unwrap_or(60).min(files);
    let cfg = SecuritySettings::default();

    // 1. Compiling the rules, per grammar (a fresh rule set each time: OnceLock caches): the
    //    combined, chunked query the scanner uses, and one query per rule for comparison.
    for (name, g) in [
        ("typescript", Grammar::TypeScript),
        ("tsx", Grammar::Tsx),
        ("rust", Grammar::Rust),
    ] {
        let combined: Vec<Duration> = (0..3)
            .map(|_| {
                let set = RuleSet::load(&cfg, &[]).unwrap();
                let t = Instant::now();
                let _ = set.combined(g);
                t.elapsed()
            })
            .collect();
        let per_rule: Vec<Duration> = (0..3)
            .map(|_| {
                let set = RuleSet::load(&cfg, &[]).unwrap();
                let t = Instant::now();
                for r in &set.rules {
                    let _ = r.compiled(g);
                }
                t.elapsed()
            })
            .collect();
        println!(
            "compile rules for {name:<10}: combined+chunked median {:>7.1} ms ({} threads); one query per rule {:>7.1} ms (1 thread)",
            median(combined).as_secs_f64() * 1e3,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            median(per_rule).as_secs_f64() * 1e3
        );
    }

    // 2. Scanning changed files with compiled rules (head and base of each).
    let set = RuleSet::load(&cfg, &[]).unwrap();
    let _ = set.combined(Grammar::TypeScript);
    let heads: Vec<String> = (0..changed).map(|i| ts_file(i, true)).collect();
    let bases: Vec<String> = (0..changed).map(|i| ts_file(i, false)).collect();
    let bytes: usize = heads.iter().chain(&bases).map(String::len).sum();
    let mut findings = 0;
    let times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            findings = 0;
            for (i, (h, b)) in heads.iter().zip(&bases).enumerate() {
                let p = format!("src/routers/r{i}.ts");
                findings += scan_text(&set, &p, &p, h, true).len();
                let _ = scan_text(&set, &p, &p, b, true);
            }
            t.elapsed()
        })
        .collect();
    let m = median(times);
    println!(
        "scan {} changed files (head+base, {:.1} MB, {} findings at head): median {:.1} ms = {:.1} MB/s (1 thread)",
        changed,
        bytes as f64 / 1e6,
        findings,
        m.as_secs_f64() * 1e3,
        bytes as f64 / 1e6 / m.as_secs_f64()
    );

    // 3. A full run on a generated repository: the `security` stage (compile + scan, parallel).
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    for i in 0..files {
        let p = dir.path().join(format!("src/routers/r{i}.ts"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, ts_file(i, false)).unwrap();
    }
    commit(&repo, "base");
    let base = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    for i in 0..changed {
        std::fs::write(
            dir.path().join(format!("src/routers/r{i}.ts")),
            ts_file(i, true),
        )
        .unwrap();
    }
    commit(&repo, "head");
    let repo = engine::git::Repo::discover(dir.path()).unwrap();
    let req = Request {
        base: Some(base),
        head: Some("HEAD".into()),
        ..Request::new(&repo)
    };
    let mut sec = Vec::new();
    let mut total = Vec::new();
    let mut new = 0;
    for _ in 0..3 {
        let out = pipeline::run(&repo, &req, &pipeline::Quiet).unwrap();
        new = out.report.dimensions.security.evidence.new.len();
        for (name, d) in &out.timings.stages {
            if *name == "security" {
                sec.push(*d);
            }
        }
        total.push(out.timings.stages.iter().map(|s| s.1).sum());
    }
    println!(
        "full run, {files} files / {changed} changed: security stage median {:.1} ms, whole run median {:.1} ms, {new} new findings",
        median(sec).as_secs_f64() * 1e3,
        median(total).as_secs_f64() * 1e3
    );
}
