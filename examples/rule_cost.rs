//! Where the security scan's time goes: compiling the rules (per grammar, all of them and each
//! alone) versus scanning one file (parse + one match pass), on the files of a real commit.
//!
//! `cargo run --release --example rule_cost -- REPO [REV] [--top N]`
//!
//! Prints, per grammar, the time to compile every rule into the combined queries (as a run does
//! when every rule's anchors are present) and the rules whose queries cost the most to compile on
//! their own; then the median and 90th percentile of scanning one source file of `REV` with the
//! compiled rules (no compilation), over up to 300 files.

use std::time::{Duration, Instant};

use engine::score::security::rules::{Grammar, Language, GRAMMARS};
use engine::score::security::{scan_text, RuleSet, SecuritySettings};
use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let repo_path = args.next().expect("usage: rule_cost REPO [REV] [--top N]");
    let mut rev = "HEAD".to_string();
    let mut top = 10usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--top" => top = args.next().and_then(|n| n.parse().ok()).unwrap_or(10),
            "--bench" => {}
            _ => rev = a,
        }
    }
    let set = RuleSet::load(&SecuritySettings::default(), &[]).expect("rules load");
    for g in GRAMMARS {
        let started = Instant::now();
        let chunks = set.compile(g, |_| true);
        let all = started.elapsed();
        let n: usize = chunks.iter().map(|(i, _)| i.len()).sum();
        let mut alone: Vec<(Duration, &str)> = set
            .rules
            .iter()
            .filter(|r| r.languages.iter().any(|l| l.grammar() == g))
            .map(|r| {
                let t = Instant::now();
                let _ = engine::score::security::engine::Combined::build(&[r], g);
                (t.elapsed(), r.id.as_str())
            })
            .collect();
        let sum: Duration = alone.iter().map(|(d, _)| *d).sum();
        alone.sort_by_key(|b| std::cmp::Reverse(b.0));
        println!(
            "{g:?}: {n} rules compiled in {} chunks: {} (each alone: {} in total)",
            chunks.len(),
            ms(all),
            ms(sum)
        );
        for (d, id) in alone.iter().take(top) {
            println!("    {:>9}  {id}", ms(*d));
        }
    }
    // Scanning: compile once (as `scan_text` does), then time each file.
    let repo = Repository::open(&repo_path).expect("a git repository");
    let tree = repo
        .revparse_single(&rev)
        .and_then(|o| o.peel_to_commit())
        .and_then(|c| c.tree())
        .expect("a commit");
    let mut files: Vec<(String, git2::Oid)> = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(ObjectType::Blob) {
            if let Ok(name) = e.name() {
                let path = format!("{dir}{name}");
                if Language::of_path(&path).is_some() {
                    files.push((path, e.id()));
                }
            }
        }
        TreeWalkResult::Ok
    })
    .expect("walk");
    files.truncate(300);
    let warm = Instant::now();
    for g in [Grammar::TypeScript, Grammar::Tsx, Grammar::Rust] {
        let _ = set.combined(g);
    }
    println!("combined queries of every grammar: {}", ms(warm.elapsed()));
    let mut times: Vec<(Duration, usize, String)> = Vec::new();
    for (path, oid) in &files {
        let Ok(blob) = repo.find_blob(*oid) else {
            continue;
        };
        let text = String::from_utf8_lossy(blob.content()).into_owned();
        let t = Instant::now();
        let _ = scan_text(&set, path, path, &text, true);
        times.push((t.elapsed(), text.len(), path.clone()));
    }
    if times.is_empty() {
        return;
    }
    times.sort();
    let total: Duration = times.iter().map(|t| t.0).sum();
    let bytes: usize = times.iter().map(|t| t.1).sum();
    println!(
        "scan of {} source files (compiled rules): median {}, p90 {}, max {} ({}), mean {} for {:.1} KB",
        times.len(),
        ms(times[times.len() / 2].0),
        ms(times[times.len() * 9 / 10].0),
        ms(times[times.len() - 1].0),
        times[times.len() - 1].2,
        ms(total / times.len() as u32),
        bytes as f64 / times.len() as f64 / 1024.0
    );
}
