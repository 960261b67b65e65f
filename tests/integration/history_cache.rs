//! The persistent history cache: hits, incremental extension to a newer merge-base, version bumps,
//! corruption and concurrent writers. Reports must be identical with and without the cache.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{rewrite_cache_header, run_concurrently, Run, RunPrRisk, TestRepo};

/// The ts-monorepo fixture with 60 commits of history on `main` (fixes, features, a rename), and
/// a branch `pr` that changes the renamed file.
fn repo() -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture("ts-monorepo");
    r.commit("initial monorepo");
    let mut pricing =
        std::fs::read_to_string(r.path().join("packages/lib/src/pricing.ts")).unwrap();
    for i in 0..60 {
        if i == 30 {
            r.rename("apps/web/src/util.ts", "apps/web/src/helpers.ts");
            r.commit("move util to helpers");
            continue;
        }
        let (path, msg) = match i % 3 {
            0 => (
                "packages/lib/src/pricing.ts",
                format!("fix: rounding bug {i}"),
            ),
            1 => (
                "packages/lib/src/pricing.ts",
                format!("feat: price rule {i}"),
            ),
            _ => ("packages/ui/src/button.tsx", format!("style: button {i}")),
        };
        if path.ends_with("pricing.ts") {
            pricing.push_str(&format!("export const rule{i} = {i};\n"));
            r.write(path, &pricing);
        } else {
            r.write(path, format!("export const Button = () => {i};\n"));
        }
        r.commit(&msg);
    }
    r.branch("pr");
    pricing.push_str("export const fee = 2;\n");
    r.write("packages/lib/src/pricing.ts", &pricing);
    r.write("apps/web/src/helpers.ts", "export const help = 1;\n");
    r.commit("feat: fee");
    r
}

fn cache_file(r: &TestRepo) -> PathBuf {
    r.path().join(format!(
        ".git/pr-risk/cache/history-v{}.bin",
        engine::cache::history::FORMAT
    ))
}

/// What the history cache line of `--timings` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    loaded: usize,
    hits: usize,
    read: usize,
    compared: usize,
    facts: usize,
}

fn counts(stderr: &str) -> Counts {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("history cache:"))
        .unwrap_or_else(|| panic!("no history cache line in:\n{stderr}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    Counts {
        loaded: n[0],
        hits: n[1],
        read: n[2],
        compared: n[3],
        facts: n[4],
    }
}

/// `score --format json --timings` from `base` to `pr`.
fn score(r: &TestRepo, base: &str) -> (Run, Value, Counts) {
    let (run, v) = r.score_json(&["--base", base, "--head", "pr", "--timings"]);
    run.assert_code(0);
    let c = counts(&run.stderr);
    (run, v, c)
}

/// The report without what legitimately differs between runs.
fn stable(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("tool");
    v
}

fn regression_available(v: &Value) -> bool {
    v["dimensions"]["regression"]["available"].as_bool() == Some(true)
}

#[test]
fn second_run_reads_no_cached_commit_and_reports_the_same() {
    let r = repo();
    let (_, cold, first) = score(&r, "main");
    assert!(
        regression_available(&cold),
        "{}",
        cold["dimensions"]["regression"]
    );
    assert_eq!((first.loaded, first.hits), (0, 0));
    assert_eq!(first.read, 61, "every commit up to the merge-base");
    assert_eq!(first.compared, 61);
    assert_eq!(first.facts, 61, "every commit's line facts, once");
    assert!(cache_file(&r).is_file(), "cache under the git dir");
    let (run, warm, second) = score(&r, "main");
    assert!(
        !run.stderr.contains("written"),
        "nothing new: {}",
        run.stderr
    );
    assert_eq!(second.loaded, 61);
    assert_eq!(
        (second.read, second.compared, second.facts),
        (0, 0, 0),
        "{second:?}"
    );
    assert_eq!(second.hits, 61);
    assert_eq!(stable(cold.clone()), stable(warm));
    // And the same as a run that does not use the caches at all.
    let (run, none) = r.score_json(&["--base", "main", "--head", "pr", "--no-cache", "--timings"]);
    assert!(!run.stderr.contains("history cache:"), "{}", run.stderr);
    assert_eq!(stable(cold), stable(none));
}

#[test]
fn a_newer_merge_base_only_reads_the_new_commits() {
    let r = repo();
    // An earlier pull request, merged at main~7.
    let (run, _) = r.score_json(&["--base", "main~7", "--head", "main~7", "--timings"]);
    run.assert_code(0);
    assert_eq!(counts(&run.stderr).read, 54);
    let (_, v, c) = score(&r, "main");
    assert_eq!((c.loaded, c.hits), (54, 54));
    assert_eq!((c.read, c.compared), (7, 7), "only main~6..main");
    let (_, none) = r.score_json(&["--base", "main", "--head", "pr", "--no-cache"]);
    assert_eq!(stable(v), stable(none));
}

/// Replace the version tag in the header; returns the new tag.
fn retag(r: &TestRepo) -> String {
    let mut tag = String::new();
    rewrite_cache_header(&cache_file(r), |h| {
        h.tool = format!("X{}", h.tool);
        tag = h.tool.clone();
    });
    tag
}

#[test]
fn a_cache_from_another_version_is_rebuilt() {
    let r = repo();
    let (_, cold, _) = score(&r, "main");
    let tag = retag(&r);
    let (run, v, c) = score(&r, "main");
    assert!(
        run.stderr
            .contains(&format!("rebuilt (written by version {tag}")),
        "{}",
        run.stderr
    );
    assert_eq!((c.loaded, c.read, c.compared), (0, 61, 61));
    assert_eq!(stable(cold), stable(v));
    // Rebuilt with this version: the next run reads nothing again.
    let again = score(&r, "main").2;
    assert_eq!((again.loaded, again.read), (61, 0));
}

#[test]
fn a_corrupt_cache_is_rebuilt_not_fatal() {
    let r = repo();
    let (_, cold, _) = score(&r, "main");
    let file = cache_file(&r);
    let data = std::fs::read(&file).unwrap();
    let mut flipped = data.clone();
    let at = flipped.len() - 10;
    flipped[at] ^= 0x55;
    for (broken, why) in [
        (data[..data.len() / 3].to_vec(), "truncated"),
        (flipped, "checksum mismatch"),
        (
            b"\xff\xfe not a cache at all".to_vec(),
            "not a pr-risk cache file",
        ),
        (Vec::new(), "not a pr-risk cache file"),
    ] {
        std::fs::write(&file, &broken).unwrap();
        let (run, v, c) = score(&r, "main");
        assert!(
            run.stderr.contains(&format!("rebuilt ({why}")),
            "{why}: {}",
            run.stderr
        );
        assert_eq!((c.loaded, c.read), (0, 61));
        assert_eq!(stable(cold.clone()), stable(v));
        assert_eq!(score(&r, "main").2.read, 0, "rewritten whole");
    }
}

#[test]
fn concurrent_runs_leave_a_valid_cache() {
    let r = repo();
    let reports: Vec<Value> = run_concurrently(
        r.path(),
        &[
            "score", "--base", "main", "--head", "pr", "--format", "json",
        ],
        4,
    )
    .into_iter()
    .map(stable)
    .collect();
    assert!(reports.windows(2).all(|w| w[0] == w[1]));
    let (run, v, c) = score(&r, "main");
    assert!(!run.stderr.contains("rebuilt"), "{}", run.stderr);
    assert_eq!((c.loaded, c.read, c.compared), (61, 0, 0));
    assert_eq!(stable(v), reports[0]);
    let leftovers = std::fs::read_dir(cache_file(&r).parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .count();
    assert_eq!(leftovers, 0, "temporary files are renamed away");
}
