//! The persistent parse cache: hits, incremental reuse, moving it, version bumps, corruption and
//! concurrent writers. Reports must be identical with and without the cache.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{command, rewrite_cache_header, run_concurrently, Run, RunPrRisk, TestRepo};

/// The ts-monorepo fixture on `main`, and a branch `pr` that changes two files.
fn repo() -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture("ts-monorepo");
    r.commit("initial monorepo");
    r.branch("pr");
    r.write(
        "packages/lib/src/pricing.ts",
        "import type { Price } from './types';\nimport { round } from '@shared/math';\nexport const total = (p: Price[]) => round(p.length);\nexport const fee = 2;\n",
    );
    r.write(
        "packages/ui/src/card.tsx",
        "import { Button } from './button';\nexport const Card = () => Button;\n",
    );
    r.commit("feat: fee");
    r
}

fn default_file(r: &TestRepo) -> PathBuf {
    r.path().join(".git/pr-risk/cache").join(parse_file())
}

/// `score --format json --timings` and the cache line of its timings: (loaded, hits, misses).
fn score(r: &TestRepo, extra: &[&str]) -> (Run, Value, (usize, usize, usize)) {
    let mut args = vec!["--base", "main", "--timings"];
    args.extend_from_slice(extra);
    let (run, v) = r.score_json(&args);
    run.assert_code(0);
    let c = counts(&run.stderr);
    (run, v, c)
}

fn counts(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("parse cache:"))
        .unwrap_or_else(|| panic!("no cache line in:\n{stderr}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums[0], nums[1], nums[2])
}

/// The report without what legitimately differs between runs.
fn stable(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("tool");
    v
}

#[test]
fn second_run_hits_and_reports_the_same() {
    let r = repo();
    let (_, cold, (loaded, hits, misses)) = score(&r, &[]);
    assert_eq!((loaded, hits), (0, 0));
    assert!(misses > 10, "{misses}");
    assert!(default_file(&r).is_file(), "cache under the git dir");
    let (_, warm, (loaded2, hits2, misses2)) = score(&r, &[]);
    assert_eq!(loaded2, misses);
    assert_eq!((hits2, misses2), (misses, 0));
    assert_eq!(stable(cold.clone()), stable(warm));
    // And the same as a run that does not use the cache at all.
    let (run, none) = r.score_json(&["--base", "main", "--no-cache", "--timings"]);
    assert!(!run.stderr.contains("parse cache:"));
    assert_eq!(stable(cold), stable(none));
}

#[test]
fn a_new_commit_only_parses_what_changed() {
    let r = repo();
    let (_, _, (_, _, first)) = score(&r, &[]);
    r.write(
        "packages/ui/src/card.tsx",
        "import { Button } from './button';\nexport const Card = () => [Button, Button];\n",
    );
    r.commit("feat: two buttons");
    let (_, _, (loaded, hits, misses)) = score(&r, &[]);
    assert_eq!(loaded, first);
    assert_eq!(misses, 1, "only the new blob of card.tsx");
    assert_eq!(hits, first - 1, "everything else, base side included");
}

#[test]
fn cache_dir_flag_and_env_move_it() {
    let r = repo();
    let elsewhere = tempfile::tempdir().unwrap();
    let flag_dir = elsewhere.path().join("flag");
    score(&r, &["--cache-dir", flag_dir.to_str().unwrap()]);
    assert!(flag_dir.join(parse_file()).is_file());
    assert!(!default_file(&r).exists());

    let env_dir = elsewhere.path().join("env");
    let out = command(r.path())
        .env("PR_RISK_CACHE_DIR", &env_dir)
        .args(["score", "--base", "main", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(env_dir.join(parse_file()).is_file());
    assert!(!default_file(&r).exists());

    r.score_json(&["--base", "main", "--no-cache"])
        .0
        .assert_code(0);
    assert!(!default_file(&r).exists(), "--no-cache writes nothing");
}

#[test]
fn a_cache_from_another_version_is_rebuilt() {
    let r = repo();
    let (_, cold, (_, _, misses)) = score(&r, &[]);
    rewrite_cache_header(&default_file(&r), |h| h.tool = "0.0.0-older".into());
    let (run, v, (loaded, hits, misses2)) = score(&r, &[]);
    assert!(run
        .stderr
        .contains("rebuilt (written by version 0.0.0-older"));
    assert_eq!((loaded, hits, misses2), (0, 0, misses));
    assert_eq!(stable(cold), stable(v));
    // Rebuilt with this version: the next run hits again.
    assert_eq!(score(&r, &[]).2, (misses, misses, 0));
}

#[test]
fn a_corrupt_cache_is_rebuilt_not_fatal() {
    let r = repo();
    let (_, cold, (_, _, misses)) = score(&r, &[]);
    let file = default_file(&r);
    let data = std::fs::read(&file).unwrap();
    for broken in [
        data[..data.len() / 3].to_vec(),
        b"\xff\xfe not json at all".to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&file, &broken).unwrap();
        let (run, v, (loaded, _, m)) = score(&r, &[]);
        assert!(run.stderr.contains("rebuilt ("), "{}", run.stderr);
        assert_eq!((loaded, m), (0, misses));
        assert_eq!(stable(cold.clone()), stable(v));
    }
    // A header that lies about the body.
    rewrite_cache_header(&file, |h| h.checksum = 0);
    let (run, _, _) = score(&r, &[]);
    assert!(run.stderr.contains("checksum mismatch"), "{}", run.stderr);
}

#[test]
fn concurrent_runs_leave_a_valid_cache() {
    let r = repo();
    let reports: Vec<Value> = run_concurrently(
        r.path(),
        &["score", "--base", "main", "--format", "json", "--timings"],
        4,
    )
    .into_iter()
    .map(stable)
    .collect();
    assert!(reports.windows(2).all(|w| w[0] == w[1]));
    // Whoever renamed last, the file is whole and complete.
    let (run, _, (loaded, hits, misses)) = score(&r, &[]);
    assert!(!run.stderr.contains("rebuilt"), "{}", run.stderr);
    assert_eq!((hits, misses), (loaded, 0));
    let leftovers: Vec<_> = std::fs::read_dir(default_file(&r).parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "temporary files are renamed away");
}

/// The parse cache's file name in this format version.
fn parse_file() -> String {
    format!("parse-v{}.bin", engine::cache::parse::FORMAT)
}

/// The `resolve memo:` line of `--timings`: (loaded, new).
fn memo_counts(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("resolve memo:"))
        .unwrap_or_else(|| panic!("no resolve memo line in:\n{stderr}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums[0], nums[1])
}

/// The resolution memo is reused while the file set and the JSON files stay the same, and
/// rebuilt when they change; reports are identical to runs without any cache.
#[test]
fn resolution_memo_follows_the_resolution_context() {
    let r = repo();
    let (run, first, _) = score(&r, &[]);
    let (loaded, new) = memo_counts(&run.stderr);
    assert_eq!(loaded, 0);
    assert!(new > 10, "{new}");
    let (run, second, _) = score(&r, &[]);
    assert_eq!(
        memo_counts(&run.stderr),
        (new, 0),
        "everything from the memo"
    );
    assert_eq!(stable(first.clone()), stable(second));
    let (_, none) = r.score_json(&["--base", "main", "--no-cache"]);
    assert_eq!(stable(first), stable(none));

    // main moves by a commit that only edits code: same context, the memo still applies to the
    // next pull request branched from it.
    r.checkout("main");
    r.write(
        "packages/lib/src/types.ts",
        "export type Price = number;\n// edited\n",
    );
    r.commit("docs: comment");
    r.branch("pr2");
    r.write("packages/ui/src/card.tsx", "export const Card = 2;\n");
    r.commit("feat: card");
    let (run, moved, _) = score(&r, &[]);
    assert_eq!(memo_counts(&run.stderr).0, new);
    let (_, none) = r.score_json(&["--base", "main", "--no-cache"]);
    assert_eq!(stable(moved), stable(none));

    // A new file on main is a new context: resolved afresh, and still the same report.
    r.checkout("main");
    r.write("packages/lib/src/extra.ts", "export const extra = 1;\n");
    r.commit("feat: extra");
    r.branch("pr3");
    r.write("packages/ui/src/card.tsx", "export const Card = 3;\n");
    r.commit("feat: card 3");
    let (run, added, _) = score(&r, &[]);
    assert_eq!(memo_counts(&run.stderr).0, 0);
    let (_, none) = r.score_json(&["--base", "main", "--no-cache"]);
    assert_eq!(stable(added), stable(none.clone()));

    // A corrupt memo is ignored with a reason.
    let file = r
        .path()
        .join(".git/pr-risk/cache")
        .join(format!("resolve-v{}.bin", engine::cache::resolve::FORMAT));
    let mut data = std::fs::read(&file).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0xff;
    std::fs::write(&file, &data).unwrap();
    let (run, broken, _) = score(&r, &[]);
    assert!(
        run.stderr.contains("resolve memo: 0 loaded"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("rebuilt (checksum mismatch"),
        "{}",
        run.stderr
    );
    assert_eq!(stable(broken), stable(none));
}

/// The `scan cache:` line of `--timings`: (loaded, hits, misses).
fn scan_counts(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("scan cache:"))
        .unwrap_or_else(|| panic!("no scan cache line in:\n{stderr}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums[0], nums[1], nums[2])
}

#[test]
fn security_findings_are_scanned_once_per_text_and_rule_set() {
    let r = TestRepo::new();
    r.write(
        "src/run.js",
        "const { exec } = require('child_process');\nfunction run(cmd) {\n  exec('ls');\n}\nmodule.exports = run;\n",
    )
    .write("src/a.ts", "export const a = 1;\n");
    r.commit("initial");
    r.branch("pr");
    r.write(
        "src/run.js",
        "const { exec } = require('child_process');\nfunction run(cmd) {\n  exec('sh ' + cmd);\n}\nmodule.exports = run;\n",
    )
    .write(
        "src/a.ts",
        "export const a = 1;\nexport const f = (input: string) => eval(input);\n",
    );
    r.commit("feat: run");
    let (run, cold) = r.score_json(&["--base", "main", "--timings"]);
    run.assert_code(0);
    // Two files, each at head and at base.
    assert_eq!(scan_counts(&run.stderr), (0, 0, 4), "{}", run.stderr);
    let new = cold["dimensions"]["security"]["evidence"]["new"].to_string();
    assert!(
        new.contains("ts/eval") && new.contains("src/a.ts") && new.contains("src/run.js"),
        "{new}"
    );
    let (run, warm) = r.score_json(&["--base", "main", "--timings"]);
    run.assert_code(0);
    assert_eq!(scan_counts(&run.stderr), (4, 4, 0), "{}", run.stderr);
    assert_eq!(stable(cold.clone()), stable(warm));
    let (_, none) = r.score_json(&["--base", "main", "--no-cache"]);
    assert_eq!(stable(cold.clone()), stable(none));

    // A new commit: only the file it changes is scanned again (at head; its base is unchanged).
    r.write(
        "src/a.ts",
        "export const a = 2;\nexport const f = (input: string) => eval(input);\n",
    );
    r.commit("a = 2");
    let (run, _) = r.score_json(&["--base", "main", "--timings"]);
    assert_eq!(scan_counts(&run.stderr), (4, 3, 1), "{}", run.stderr);

    // Other rule settings are another rule set: scanned afresh, and the answer follows them.
    r.write(".pr-risk.yml", "security:\n  disable: [ts/eval]\n");
    let (run, other) = r.score_json(&["--base", "main", "--timings"]);
    run.assert_code(0);
    let (_, hits, misses) = scan_counts(&run.stderr);
    assert_eq!((hits, misses), (0, 4), "{}", run.stderr);
    let new = other["dimensions"]["security"]["evidence"]["new"].to_string();
    assert!(
        !new.contains("ts/eval") && new.contains("src/run.js"),
        "{new}"
    );
}
