//! Odd repositories never crash pr-risk: each case gets a clear result or a clear error.

use std::process::Command;

use serde_json::Value;

use crate::support::{run_in, RunPrRisk, TestRepo};

fn base_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n").write(
        "src/b.ts",
        "import { a } from './a';\nexport const b = a;\n",
    );
    r.commit("initial");
    r
}

fn notes(v: &Value) -> Vec<String> {
    v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn empty_repository_is_a_clear_error() {
    let r = TestRepo::new();
    let run = r.run(&["score"]);
    run.assert_code(2);
    assert!(run.stderr.contains("no commits yet"), "{}", run.stderr);
}

#[test]
fn not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["score"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("no git repository found"),
        "{}",
        run.stderr
    );
}

#[test]
fn root_commit_as_base() {
    let r = base_repo();
    let root = r.head().to_string();
    r.write("src/a.ts", "export const a = 2;\n");
    r.commit("change a");
    let (run, v) = r.score_json(&["--base", &root]);
    run.assert_code(0);
    assert_eq!(v["revisions"]["merge_base"], root.as_str());
    assert_eq!(v["change"]["files_changed"], 1);
}

#[test]
fn base_equal_to_head_is_an_empty_change() {
    let r = base_repo();
    let (run, v) = r.score_json(&["--base", "HEAD"]);
    run.assert_code(0);
    assert_eq!(v["change"]["files_changed"], 0);
    assert_eq!(v["dimensions"]["impact"]["score"], 0);
}

#[test]
fn binary_invalid_utf8_syntax_errors_and_oversize() {
    let r = base_repo();
    r.branch("feature");
    r.write(
        "assets/logo.png",
        [0x89u8, b'P', b'N', b'G', 0, 0, 0, 1, 2, 3],
    );
    r.write(
        "src/latin1.ts",
        b"export const s = \"caf\xe9\";\nimport { a } from './a';\n",
    );
    r.write(
        "src/broken.ts",
        "import { a } from './a';\nexport function (((\nimport { b } from './b';\n",
    );
    let big: String = (0..200_000)
        .map(|i| format!("export const v{i} = {i};\n"))
        .collect();
    assert!(big.len() > 5 * 1000 * 1000);
    r.write("src/generated.ts", &big);
    r.commit("odd files");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let files = v["change"]["files"].as_array().unwrap();
    let get = |p: &str| files.iter().find(|f| f["path"] == p).unwrap().clone();
    assert_eq!(get("assets/logo.png")["binary"], true);
    assert_eq!(get("src/generated.ts")["oversize"], true);
    assert_eq!(get("src/generated.ts")["binary"], false);
    let n = notes(&v);
    assert!(
        n.contains(&"assets/logo.png: binary file, not analysed".to_string()),
        "{n:?}"
    );
    assert!(
        n.contains(&"src/generated.ts: larger than limits.max-file-size, not parsed".to_string()),
        "{n:?}"
    );
    assert!(
        n.contains(&"src/latin1.ts: not parsed (not valid UTF-8)".to_string()),
        "{n:?}"
    );
    // The file with syntax errors still contributes the imports that can be read.
    let side = engine::pipeline::side_at(
        &engine::git::Repo::discover(r.path()).unwrap(),
        "HEAD",
        &engine::parse::FileSettings::default(),
    )
    .unwrap();
    let from_broken: Vec<&str> = side
        .graph
        .edges()
        .into_iter()
        .filter(|(a, _, _)| *a == "src/broken.ts")
        .map(|(_, b, _)| b)
        .collect();
    assert!(from_broken.contains(&"src/a.ts"), "{from_broken:?}");
}

#[test]
fn symlinks_are_listed_not_followed() {
    let r = base_repo();
    r.branch("feature");
    std::os::unix::fs::symlink("a.ts", r.path().join("src/alias.ts")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", r.path().join("src/outside.ts")).unwrap();
    r.write("src/c.ts", "import { a } from './alias';\n");
    r.commit("symlinks");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let n = notes(&v);
    assert!(
        n.contains(&"src/alias.ts: symbolic link, not analysed".to_string()),
        "{n:?}"
    );
    // An import through a link inside the repository reaches the real file.
    let side = engine::pipeline::side_at(
        &engine::git::Repo::discover(r.path()).unwrap(),
        "HEAD",
        &engine::parse::FileSettings::default(),
    )
    .unwrap();
    let edges: Vec<(&str, &str)> = side
        .graph
        .edges()
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect();
    assert!(edges.contains(&("src/c.ts", "src/a.ts")), "{edges:?}");
}

#[test]
fn submodule_entries_are_listed() {
    let r = base_repo();
    r.branch("feature");
    // A gitlink entry pointing at some commit, as `git submodule add` records it.
    let target = r.head();
    let mut index = r.repo.index().unwrap();
    let entry = git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o160000,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: target,
        flags: 0,
        flags_extended: 0,
        path: b"vendor/lib".to_vec(),
    };
    index.add(&entry).unwrap();
    let tree = r.repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig =
        git2::Signature::new("T", "t@example.com", &git2::Time::new(1_800_000_000, 0)).unwrap();
    let parent = r.repo.head().unwrap().peel_to_commit().unwrap();
    r.repo
        .commit(Some("HEAD"), &sig, &sig, "add submodule", &tree, &[&parent])
        .unwrap();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(v["change"]["files"][0]["submodule"], true);
    assert!(notes(&v).contains(&"vendor/lib: submodule entry, not analysed".to_string()));
}

#[test]
fn paths_with_spaces_and_unicode() {
    let r = base_repo();
    r.branch("feature");
    r.write("src/my file ü.ts", "export const u = 1;\n");
    r.write("src/c.ts", "import { u } from './my file ü';\n");
    r.commit("unicode");
    r.write("src/my file ü.ts", "export const u = 2;\n");
    r.commit("change unicode");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let files = v["dimensions"]["impact"]["evidence"]["files"]
        .as_array()
        .unwrap();
    let f = files
        .iter()
        .find(|f| f["path"] == "src/my file ü.ts")
        .unwrap();
    assert_eq!(f["dependents"], serde_json::json!(["src/c.ts"]));
}

#[test]
fn shallow_clone_without_base_says_how_to_fix() {
    let r = base_repo();
    let base = r.head().to_string();
    r.branch("feature");
    for i in 0..3 {
        r.write("src/a.ts", format!("export const a = {i};\n"));
        r.commit(&format!("step {i}"));
    }
    let clone = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature"])
        .arg(format!("file://{}", r.path().display()))
        .arg(clone.path().join("c"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success());
    let run = run_in(&clone.path().join("c"), &["score", "--base", &base]);
    run.assert_code(2);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
    assert!(
        run.stderr.contains("git fetch --unshallow"),
        "{}",
        run.stderr
    );
}

#[test]
fn unrelated_histories_are_a_clear_error() {
    let r = base_repo();
    let tree = r.repo.head().unwrap().peel_to_tree().unwrap();
    let sig =
        git2::Signature::new("T", "t@example.com", &git2::Time::new(1_800_000_000, 0)).unwrap();
    r.repo
        .commit(Some("refs/heads/orphan"), &sig, &sig, "orphan", &tree, &[])
        .unwrap();
    let run = r.run(&["score", "--base", "orphan"]);
    run.assert_code(2);
    assert!(run.stderr.contains("no common ancestor"), "{}", run.stderr);
}

#[test]
fn bare_repository_works_without_a_checkout() {
    let r = base_repo();
    r.branch("feature");
    r.write("src/a.ts", "export const a = 3;\n");
    r.commit("change");
    let bare = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(r.path())
        .arg(bare.path().join("b.git"))
        .status()
        .unwrap();
    assert!(status.success());
    let run = run_in(
        &bare.path().join("b.git"),
        &[
            "score", "--base", "main", "--head", "feature", "--format", "json",
        ],
    );
    run.assert_code(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["dimensions"]["impact"]["evidence"]["files"][0]["dependents"][0],
        "src/b.ts"
    );
}
