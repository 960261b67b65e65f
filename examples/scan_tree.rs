//! Precision measurement: run every security rule over every file of one commit of a repository
//! (not a diff: the whole tree), and print the findings per rule.
//!
//! `cargo run --release --example scan_tree -- REPO [REV] [--all-files] [--sample N] [--rule ID]`
//!
//! Files are read from git objects (nothing is checked out). By default the `exclude` and `tests`
//! defaults of `.pr-risk.yml` apply as in a real run (generated and vendored paths skipped, test
//! files get the secret scan only); `--all-files` scans test files with the code rules too. The
//! output is a table of findings per rule followed by up to N findings per rule (path:line, the
//! snippet), which is what the precision review in docs/rules.md reads.

use std::collections::BTreeMap;

use engine::parse::{FileSettings, Filters};
use engine::score::security::{scan_text, RuleSet, SecuritySettings};
use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

fn main() {
    let mut args = std::env::args().skip(1);
    let repo_path = args
        .next()
        .expect("usage: scan_tree REPO [REV] [--sample N]");
    let mut rev = "HEAD".to_string();
    let mut sample = 5usize;
    let mut all_files = false;
    let mut only: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sample" => sample = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            "--all-files" => all_files = true,
            "--rule" => only = args.next(),
            _ => rev = a,
        }
    }
    let repo = Repository::open(&repo_path).expect("a git repository");
    let commit = repo
        .revparse_single(&rev)
        .and_then(|o| o.peel_to_commit())
        .expect("a commit");
    let tree = commit.tree().expect("a tree");
    let files = FileSettings::default();
    let filters = Filters::new(&files);
    let tests = files.test_globs();
    let set = RuleSet::load(&SecuritySettings::default(), &[]).expect("rules load");
    let mut paths: Vec<(String, git2::Oid)> = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(ObjectType::Blob) {
            if let Ok(name) = e.name() {
                paths.push((format!("{dir}{name}"), e.id()));
            }
        }
        TreeWalkResult::Ok
    })
    .expect("walk");
    let mut by_rule: BTreeMap<String, Vec<(String, u32, String)>> = BTreeMap::new();
    let mut scanned = 0usize;
    let mut source_files = 0usize;
    for (path, oid) in &paths {
        let Ok(blob) = repo.find_blob(*oid) else {
            continue;
        };
        if blob.size() as u64 > files.max_file_size {
            continue;
        }
        let text = String::from_utf8_lossy(blob.content()).into_owned();
        let code = filters.allows(path) && (all_files || !tests.is_match(path));
        if code && engine::score::security::rules::Language::of_path(path).is_some() {
            source_files += 1;
        }
        scanned += 1;
        for f in scan_text(&set, path, path, &text, code) {
            by_rule
                .entry(f.rule.clone())
                .or_default()
                .push((f.path, f.line, f.snippet));
        }
    }
    println!(
        "{repo_path} @ {}: {scanned} files scanned, {source_files} source files with code rules",
        &commit.id().to_string()[..12]
    );
    let total: usize = by_rule.values().map(Vec::len).sum();
    println!("{total} findings");
    for (rule, list) in &by_rule {
        println!("{:>5}  {rule}", list.len());
    }
    for (rule, list) in &by_rule {
        if only.as_deref().is_some_and(|o| o != rule) {
            continue;
        }
        println!("\n## {rule} ({})", list.len());
        // An even spread over the list, so a sample is not one file's findings.
        let step = (list.len() / sample.max(1)).max(1);
        for (path, line, snippet) in list.iter().step_by(step).take(sample) {
            println!("  {path}:{line}  {snippet}");
        }
    }
}
