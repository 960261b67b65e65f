//! Missing objects: a real `git clone --filter=blob:none` of a generated repository (served over
//! `file://` with `uploadpack.allowFilter`), scored by the real binary; and a full clone that
//! lost one blob of its history.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{command, RunPrRisk, TestRepo};

fn has_git() -> bool {
    Command::new("git").arg("--version").output().is_ok()
}

/// An origin with some history, then a pull request that edits a file, renames-and-edits another
/// and adds a third that imports the first.
fn origin() -> TestRepo {
    let r = TestRepo::new();
    r.write(
        "src/pricing.ts",
        "export function price(n: number) {\n  return n * 2;\n}\n",
    )
    .write(
        "src/cart.ts",
        "import { price } from './pricing';\nexport const total = (xs: number[]) => xs.map(price).reduce((a, b) => a + b, 0);\n",
    )
    .write(
        "src/util/format.ts",
        "export function format(n: number): string {\n  const s = n.toFixed(2);\n  return `$${s}`;\n}\nexport const ZERO = format(0);\n",
    );
    r.commit("initial");
    for i in 0..4 {
        r.write(
            "src/pricing.ts",
            format!(
                "export function price(n: number) {{\n  return n * {};\n}}\n",
                i + 3
            ),
        );
        r.commit(&format!("fix: pricing step {i}"));
    }
    r.write(
        "src/pricing.ts",
        "export function price(n: number) {\n  if (n < 0) throw new Error('negative');\n  return n * 7;\n}\n",
    )
    .rename("src/util/format.ts", "src/util/money.ts")
    .write(
        "src/util/money.ts",
        "export function format(n: number): string {\n  const s = n.toFixed(2);\n  return `$${s}`;\n}\nexport const ZERO = format(0);\nexport const ONE = format(1);\n",
    )
    .write(
        "src/checkout.ts",
        "import { total } from './cart';\nexport const pay = (xs: number[]) => total(xs);\n",
    );
    r.commit("pricing: reject negative amounts");
    {
        let mut cfg = r.repo.config().unwrap();
        cfg.set_bool("uploadpack.allowFilter", true).unwrap();
    }
    r
}

/// `git clone --filter=blob:none` of `origin` into a fresh directory (with a checkout of HEAD,
/// like a developer's clone: the head's blobs are there, the base's and history's are not).
fn blobless_clone(origin: &TestRepo, dir: &Path) -> PathBuf {
    let ws = dir.join("clone");
    let status = Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .args(["clone", "--quiet", "--filter=blob:none", "--no-local"])
        .arg(format!("file://{}", origin.path().display()))
        .arg(&ws)
        .status()
        .unwrap();
    assert!(status.success());
    let clone = git2::Repository::open(&ws).unwrap();
    assert!(
        clone
            .config()
            .unwrap()
            .get_bool("remote.origin.promisor")
            .unwrap_or(false),
        "the clone is partial"
    );
    let base = clone
        .revparse_single("HEAD~1")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let blob = base
        .tree()
        .unwrap()
        .get_path(Path::new("src/pricing.ts"))
        .unwrap()
        .id();
    assert!(
        clone.find_blob(blob).is_err(),
        "the base blob should be missing before pr-risk runs"
    );
    ws
}

fn score(dir: &Path, extra: &[&str], offline: bool) -> (i32, Value, String) {
    let mut c = command(dir);
    if !offline {
        c.env_remove("PR_RISK_OFFLINE");
    }
    c.env("HOME", dir.parent().unwrap());
    let out = c
        .args([
            "score", "--format", "json", "--base", "HEAD~1", "--head", "HEAD",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr:\n{stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn notes(v: &Value) -> String {
    v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}: {}",
                n["code"].as_str().unwrap(),
                n["message"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn unavailable(v: &Value) -> Vec<String> {
    ["impact", "regression", "security", "coupling"]
        .iter()
        .filter(|d| v["dimensions"][**d]["score"].is_null())
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn a_blobless_clone_is_scored_with_its_missing_blobs_fetched() {
    if !has_git() {
        eprintln!("skipping: no git CLI");
        return;
    }
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let ws = blobless_clone(&origin, dir.path());
    let (code, v, stderr) = score(&ws, &[], false);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("object not found"), "{stderr}");
    let n = notes(&v);
    assert!(n.contains("fetched: partial clone: fetched"), "{n}");
    assert!(unavailable(&v).is_empty(), "all dimensions: {v}");
    // The rename was detected by similarity: the base side's contents were fetched.
    let files = v["change"]["files"].to_string();
    assert!(files.contains("src/util/format.ts"), "{files}");
    assert!(files.contains("\"renamed\""), "{files}");
    // The history's contents are not there: the prior model, and why.
    let model = &v["dimensions"]["regression"]["evidence"]["model"];
    assert_eq!(model["kind"], "prior", "{model}");
    // What the change reaches was computed: checkout.ts and cart.ts use pricing.ts.
    assert!(
        v["dimensions"]["impact"]["evidence"]["files"]
            .to_string()
            .contains("src/pricing.ts"),
        "{v}"
    );
    // A second run has nothing left to fetch and says nothing about it.
    let (code, v, _) = score(&ws, &[], false);
    assert_eq!(code, 0);
    assert!(!notes(&v).contains("partial clone"), "{}", notes(&v));
}

#[test]
fn a_blobless_clone_that_cannot_fetch_still_completes_with_notes() {
    if !has_git() {
        eprintln!("skipping: no git CLI");
        return;
    }
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    // `--offline`: nothing is fetched.
    let ws = blobless_clone(&origin, dir.path());
    let (code, v, stderr) = score(&ws, &[], true);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("object not found"), "{stderr}");
    let n = notes(&v);
    assert!(n.contains("could not be fetched (--offline)"), "{n}");
    assert!(
        n.contains("src/util/format.ts")
            || n.contains("src/util/money.ts")
            || n.contains("src/pricing.ts"),
        "the files without contents are named: {n}"
    );
    assert!(!unavailable(&v).contains(&"regression".to_string()), "{v}");
    // The scan could not read the changed files: security is unavailable (not a made-up score,
    // not a finding per file), said plainly, never a libgit2 message.
    assert!(unavailable(&v).contains(&"security".to_string()), "{v}");
    let security = v["dimensions"]["security"].to_string();
    assert!(
        security.contains("no contents in this partial clone"),
        "{security}"
    );
    assert!(!v.to_string().contains("object not found"), "{v}");

    // No reachable remote: the fetch fails, the run completes and says why.
    let other = tempfile::tempdir().unwrap();
    let ws = blobless_clone(&origin, other.path());
    let status = Command::new("git")
        .args(["-C"])
        .arg(&ws)
        .args(["remote", "set-url", "origin"])
        .arg(format!("file://{}", other.path().join("gone").display()))
        .status()
        .unwrap();
    assert!(status.success());
    let (code, v, stderr) = score(&ws, &[], false);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("object not found"), "{stderr}");
    let n = notes(&v);
    assert!(
        n.contains("could not be fetched (`git fetch origin` failed"),
        "{n}"
    );
    assert!(n.contains("contents missing"), "{n}");
}

#[test]
fn one_unreadable_blob_in_history_is_skipped_with_a_note() {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n").write(
        "src/b.ts",
        "import { a } from './a';\nexport const b = a;\n",
    );
    r.commit("initial");
    r.write(
        "src/a.ts",
        "export const a = 2;\nexport const lost = true;\n",
    );
    r.commit("fix: the lost version");
    let lost = r
        .repo
        .find_commit(r.head())
        .unwrap()
        .tree()
        .unwrap()
        .get_path(Path::new("src/a.ts"))
        .unwrap()
        .id();
    for i in 0..3 {
        r.write("src/a.ts", format!("export const a = {};\n", i + 3));
        r.commit(&format!("step {i}"));
    }
    r.write(
        "src/b.ts",
        "import { a } from './a';\nexport const b = a + 1;\n",
    );
    r.commit("change b");
    // The repository loses one blob of its history (a loose object, as libgit2 wrote it).
    let hex = lost.to_string();
    let file = r
        .path()
        .join(".git/objects")
        .join(&hex[..2])
        .join(&hex[2..]);
    std::fs::remove_file(&file).unwrap();
    assert!(r.repo.find_blob(lost).is_err());
    let (run, v) = r.score_json(&["--base", "HEAD~1", "--no-cache"]);
    run.assert_code(0);
    assert!(
        v["dimensions"]["regression"]["score"].is_number(),
        "regression stays available: {}",
        v["dimensions"]["regression"]
    );
    let n = notes(&v);
    assert!(
        n.contains(
            "incomplete-history: history: 1 file version(s) in the mined commits could not be read"
        ),
        "{n}"
    );
}

#[test]
fn graph_and_affected_tests_fetch_what_they_read_in_a_blobless_clone() {
    if !has_git() {
        eprintln!("skipping: no git CLI");
        return;
    }
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let ws = blobless_clone(&origin, dir.path());
    // The checkout has the head's blobs; the base side (HEAD~1) has none of the changed ones.
    let out = command(&ws)
        .args(["graph", "--rev", "HEAD~1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("partial clone: fetched"), "{stderr}");
    assert!(stdout.starts_with("3 files, 1 imports"), "{stdout}");
    let out = command(&ws)
        .args(["affected-tests", "--base", "HEAD~1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("object not found"), "{stderr}");
}
