//! The regression dimension: history mining, the model, degradation, and `pr-risk eval regression`.
//!
//! Histories are scripted with fixed authors and dates (one commit per day from `EPOCH`), so every
//! number below is known by construction.

use git2::{Oid, Signature, Time};
use serde_json::Value;

use crate::support::{Author, RunPrRisk, TestRepo, EPOCH};

const DAY: i64 = 86_400;

fn who(name: &str, day: i64) -> Author {
    Author::new(name, EPOCH + day * DAY)
}

/// `n` numbered lines of TypeScript.
fn lines(prefix: &str, n: usize) -> String {
    (1..=n)
        .map(|i| format!("export const {prefix}{i} = {i};\n"))
        .collect()
}

/// Append a line to `path` and commit it as `name` on `day`.
fn touch(r: &TestRepo, path: &str, line: &str, msg: &str, name: &str, day: i64) -> Oid {
    let p = r.path().join(path);
    let mut text = std::fs::read_to_string(&p).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    r.write(path, text);
    r.commit_as(msg, &who(name, day))
}

/// `count` filler commits by Erin appending to `path`, one a day from `from_day`.
fn filler(r: &TestRepo, path: &str, from_day: i64, count: i64) {
    for d in 0..count {
        touch(
            r,
            path,
            &format!("export const v{} = {};", from_day + d, d),
            &format!("update {path} step {d}"),
            "Erin",
            from_day + d,
        );
    }
}

fn merge(r: &TestRepo, branch: &str, msg: &str, a: &Author) -> Oid {
    let repo = &r.repo;
    let ours = repo.head().unwrap().peel_to_commit().unwrap();
    let theirs = repo
        .revparse_single(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut idx = repo.merge_commits(&ours, &theirs, None).unwrap();
    assert!(!idx.has_conflicts());
    let tree = repo.find_tree(idx.write_tree_to(repo).unwrap()).unwrap();
    let sig = Signature::new(&a.name, &a.email, &Time::new(a.time, 0)).unwrap();
    let id = repo
        .commit(Some("HEAD"), &sig, &sig, msg, &tree, &[&ours, &theirs])
        .unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    id
}

fn regression(v: &Value) -> &Value {
    &v["dimensions"]["regression"]
}

fn score(v: &Value) -> u64 {
    regression(v)["score"]
        .as_u64()
        .unwrap_or_else(|| panic!("no regression score: {}", regression(v)))
}

fn file<'a>(v: &'a Value, path: &str) -> &'a Value {
    regression(v)["evidence"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {}", regression(v)["evidence"]["files"]))
}

fn date(day: i64) -> String {
    engine::git::history::date(EPOCH + day * DAY)
}

#[test]
fn frequently_fixed_file_ranks_above_stable_file() {
    let r = TestRepo::new();
    r.write("src/hot.ts", lines("h", 5))
        .write("src/stable.ts", lines("s", 5))
        .write("src/other.ts", lines("o", 5));
    r.commit_as("initial import", &who("Alice", 0));
    touch(
        &r,
        "src/stable.ts",
        "export const s6 = 6;",
        "add s6",
        "Alice",
        1,
    );
    filler(&r, "src/other.ts", 2, 50);
    let subjects: Vec<String> = (0..5)
        .map(|i| format!("fix: rounding in hot #{i}"))
        .collect();
    for (i, s) in subjects.iter().enumerate() {
        touch(
            &r,
            "src/hot.ts",
            &format!("// fix {i}"),
            s,
            "Bob",
            52 + i as i64,
        );
    }
    r.branch("hot");
    r.write(
        "src/hot.ts",
        std::fs::read_to_string(r.path().join("src/hot.ts")).unwrap() + &lines("hx", 5),
    );
    r.commit_as("extend hot", &who("Alice", 60));
    r.checkout("main").branch("stable");
    r.write(
        "src/stable.ts",
        std::fs::read_to_string(r.path().join("src/stable.ts")).unwrap() + &lines("sx", 5),
    );
    r.commit_as("extend stable", &who("Alice", 60));

    let (run, hot) = r.score_json(&["--base", "main", "--head", "hot"]);
    run.assert_code(0);
    let (_, stable) = r.score_json(&["--base", "main", "--head", "stable"]);
    assert_eq!(regression(&hot)["available"], true, "{}", regression(&hot));
    assert!(
        score(&hot) > score(&stable),
        "hot {} vs stable {}",
        regression(&hot),
        regression(&stable)
    );
    let f = file(&hot, "src/hot.ts");
    assert_eq!(f["fixes"], 5);
    assert_eq!(f["commits"], 6);
    assert_eq!(f["authors"], 2);
    assert_eq!(f["age_days"], 56);
    assert_eq!(f["last_change_days"], 0);
    let recent = f["recent_fixes"].as_array().unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0]["subject"], "fix: rounding in hot #4");
    assert_eq!(recent[0]["date"], date(56));
    assert_eq!(recent[0]["sha"].as_str().unwrap().len(), 7);
    assert!(f["risk"].as_f64().unwrap() > 0.5);
    let s = file(&stable, "src/stable.ts");
    assert_eq!(s["fixes"], 0);
    assert_eq!(s["commits"], 2);
    // The same shape: five source lines in one file.
    for v in [&hot, &stable] {
        let shape = &regression(v)["evidence"]["shape"];
        assert_eq!(shape["lines_added"], 5);
        assert_eq!(shape["files"], 1);
    }
    // The terminal shows the evidence.
    let text = r.run(&["score", "--base", "main", "--head", "hot"]);
    assert!(
        text.stdout.contains("Regression: +5 −0 source lines"),
        "{}{}",
        text.stdout,
        text.stderr
    );
    assert!(text.stdout.contains("Riskiest files:"), "{}", text.stdout);
    assert!(
        text.stdout.contains("fix: rounding in hot #4"),
        "{}",
        text.stdout
    );
}

#[test]
fn history_factors_renames_merges_and_reverts() {
    let r = TestRepo::new();
    r.write("src/old.ts", lines("a", 3))
        .write("src/a/x.ts", lines("x", 3))
        .write("lib/z.ts", lines("z", 3))
        .write("README.md", "# demo\n");
    r.commit_as("initial import", &who("Alice", 0));
    filler(&r, "lib/z.ts", 1, 50);
    // A fix under the old name, a pure rename, a fix under the new name.
    r.write("src/old.ts", lines("a", 2) + "export const a3 = 33;\n");
    r.commit_as("fix: wrong constant in old", &who("Bob", 51));
    r.rename("src/old.ts", "src/new.ts");
    r.commit_as("move old to new", &who("Alice", 52));
    r.write(
        "src/new.ts",
        lines("a", 1) + "export const a2 = 22;\nexport const a3 = 33;\n",
    );
    r.commit_as("fix: another bug in new", &who("Carol", 53));
    // A side branch merged back.
    r.branch("side");
    let feature = touch(
        &r,
        "src/new.ts",
        "export const f = 1;",
        "add feature to new",
        "Dave",
        54,
    );
    r.checkout("main");
    touch(
        &r,
        "lib/z.ts",
        "export const m = 1;",
        "update z on main",
        "Erin",
        55,
    );
    merge(&r, "side", "Merge branch 'side'", &who("Alice", 56));
    // Revert the feature.
    r.write(
        "src/new.ts",
        lines("a", 1) + "export const a2 = 22;\nexport const a3 = 33;\n",
    );
    r.commit_as(
        &format!("Revert \"add feature to new\"\n\nThis reverts commit {feature}.\n"),
        &who("Alice", 57),
    );
    // The pull request, by Carol.
    r.branch("pr");
    touch(
        &r,
        "src/new.ts",
        "export const p1 = 1;\nexport const p2 = 2;",
        "pr",
        "Carol",
        60,
    );
    r.write(
        "src/a/x.ts",
        lines("x", 3) + "export const x4 = 4;\nexport const x5 = 5;\n",
    );
    touch(&r, "lib/z.ts", "export const pz = 1;", "pr 2", "Carol", 61);
    r.write("README.md", "# demo\n\nmore docs\n")
        .write("package-lock.json", "{}\n");
    r.commit_as("pr 3", &who("Carol", 62));

    let (run, v) = r.score_json(&["--base", "main", "--head", "pr"]);
    run.assert_code(0);
    let reg = regression(&v);
    assert_eq!(reg["available"], true, "{reg}");
    let w = &reg["evidence"]["window"];
    assert_eq!(w["commits"], 57, "{w}");
    assert_eq!(w["merges"], 1);
    assert_eq!(w["reachable"], 58);
    assert_eq!(w["fix_commits"], 3);
    assert_eq!(w["from"], date(0));
    assert_eq!(w["to"], date(57));
    assert_eq!(w["cut_by"], Value::Null);

    let f = file(&v, "src/new.ts");
    // initial (as old.ts), fix, rename, fix, feature (via the merged branch), revert.
    assert_eq!(f["commits"], 6, "{f}");
    assert_eq!(f["fixes"], 3, "{f}");
    assert_eq!(f["reverts"], 1);
    assert_eq!(f["authors"], 4);
    assert_eq!(f["age_days"], 57);
    assert_eq!(f["last_change_days"], 0);
    // +3 initial, +1 −1, rename 0, +1 −1, +1 feature, −1 revert.
    assert_eq!(f["lines_churned"], 9);
    let subjects: Vec<&str> = f["recent_fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "Revert \"add feature to new\"",
            "fix: another bug in new",
            "fix: wrong constant in old"
        ]
    );

    let shape = &reg["evidence"]["shape"];
    assert_eq!(shape["lines_added"], 5, "{shape}");
    assert_eq!(shape["lines_deleted"], 0);
    assert_eq!(shape["files"], 3);
    assert_eq!(shape["directories"], 3);
    assert_eq!(shape["subsystems"], 2);
    let (p1, p2) = (0.4f64, 0.2f64);
    let entropy = -(2.0 * p1 * p1.log2() + p2 * p2.log2()) / 3f64.log2();
    assert_eq!(shape["entropy"], (entropy * 1000.0).round() / 1000.0);
    // Alice, Bob, Carol, Dave on new.ts; Alice on x.ts; Alice and Erin on z.ts.
    assert_eq!(shape["prior_developers"], 5);
    assert_eq!(shape["author"], "carol@example.com");
    assert_eq!(shape["author_experience"], 1);
    assert_eq!(shape["non_source_files"], 2);
    let formula = reg["formula"].as_str().unwrap();
    assert!(formula.contains("ln(1+5)/ln(1+2000)"), "{formula}");
}

#[test]
fn renames_are_not_followed_when_turned_off() {
    let r = TestRepo::new();
    r.write("src/old.ts", lines("a", 3)).write("lib/z.ts", "\n");
    r.commit_as("initial import", &who("Alice", 0));
    filler(&r, "lib/z.ts", 1, 50);
    r.write("src/old.ts", lines("a", 4));
    r.commit_as("fix: bug in old", &who("Bob", 51));
    // An inexact rename: moved and edited in one commit (similarity above 50 %).
    r.rename("src/old.ts", "src/new.ts");
    r.write("src/new.ts", lines("a", 4) + "export const moved = true;\n");
    r.commit_as("move", &who("Bob", 52));
    r.branch("pr");
    touch(&r, "src/new.ts", "export const n = 1;", "pr", "Bob", 53);
    let cfg = r.path().join("..").join(format!(
        "{}-norename.yml",
        r.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&cfg, "regression:\n  follow-renames: false\n").unwrap();
    let (_, on) = r.score_json(&["--base", "main", "--head", "pr"]);
    let (_, off) = r.score_json(&[
        "--base",
        "main",
        "--head",
        "pr",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    std::fs::remove_file(&cfg).unwrap();
    assert_eq!(file(&on, "src/new.ts")["fixes"], 1);
    assert_eq!(file(&on, "src/new.ts")["commits"], 3);
    assert_eq!(file(&off, "src/new.ts")["fixes"], 0);
    assert_eq!(file(&off, "src/new.ts")["commits"], 1);
    assert!(score(&on) > score(&off));
}

#[test]
fn callers_count_at_a_lower_weight() {
    let r = TestRepo::new();
    r.write("src/lib.ts", lines("l", 3))
        .write("src/lib2.ts", lines("l", 3))
        .write(
            "src/caller.ts",
            "import { l1 } from './lib';\nexport const c = l1;\n",
        )
        .write(
            "src/caller2.ts",
            "import { l1 } from './lib2';\nexport const c = l1;\n",
        )
        .write("src/misc.ts", "\n");
    r.commit_as("initial import", &who("Alice", 0));
    filler(&r, "src/misc.ts", 1, 50);
    for i in 0..4 {
        touch(
            &r,
            "src/caller.ts",
            &format!("// {i}"),
            &format!("fix bug {i} in caller"),
            "Bob",
            51 + i,
        );
    }
    r.branch("a");
    touch(
        &r,
        "src/lib.ts",
        "export const l4 = 4;\nexport const l5 = 5;",
        "grow lib",
        "Alice",
        60,
    );
    r.checkout("main").branch("b");
    touch(
        &r,
        "src/lib2.ts",
        "export const l4 = 4;\nexport const l5 = 5;",
        "grow lib2",
        "Alice",
        60,
    );

    let (_, a) = r.score_json(&["--base", "main", "--head", "a"]);
    let (_, b) = r.score_json(&["--base", "main", "--head", "b"]);
    let ea = &regression(&a)["evidence"];
    let eb = &regression(&b)["evidence"];
    assert_eq!(ea["callers"], 1);
    assert_eq!(eb["callers"], 1);
    let c = file(&a, "src/caller.ts");
    assert_eq!(c["role"], "caller");
    assert_eq!(c["calls"], serde_json::json!(["src/lib.ts"]));
    assert_eq!(c["fixes"], 4);
    let caller_history = ea["factors"]["callers_history"].as_f64().unwrap();
    assert!(caller_history > 0.0 && caller_history <= 0.25, "{ea}");
    assert_eq!(eb["factors"]["callers_history"], 0.0);
    assert_eq!(ea["factors"]["files_history"], 0.0);
    assert_eq!(ea["factors"]["size"], eb["factors"]["size"]);
    assert_eq!(ea["factors"]["shape"], eb["factors"]["shape"]);
    assert!(score(&a) > score(&b), "{ea}\n{eb}");
}

#[test]
fn nothing_after_the_merge_base_is_read() {
    let r = TestRepo::new();
    r.write("src/hot.ts", lines("h", 3))
        .write("src/misc.ts", "\n");
    r.commit_as("initial import", &who("Alice", 0));
    filler(&r, "src/misc.ts", 1, 55);
    touch(&r, "src/hot.ts", "// a", "fix: first", "Bob", 56);
    touch(&r, "src/hot.ts", "// b", "fix: second", "Bob", 57);
    r.branch("feature");
    // The pull request's own commits: a "fix" that must not count.
    touch(&r, "src/hot.ts", "// c", "fix: made in the PR", "Carol", 60);
    touch(
        &r,
        "src/hot.ts",
        "export const f = 1;",
        "feature",
        "Carol",
        61,
    );
    // The base branch moves on after the merge-base with more fixes.
    r.checkout("main");
    for i in 0..3 {
        touch(
            &r,
            "src/hot.ts",
            &format!("// later {i}"),
            &format!("fix: later {i}"),
            "Dave",
            62 + i,
        );
    }
    let (run, v) = r.score_json(&["--base", "main", "--head", "feature"]);
    run.assert_code(0);
    let w = &regression(&v)["evidence"]["window"];
    assert_eq!(w["to"], date(57), "{w}");
    assert_eq!(w["commits"], 58);
    assert_eq!(w["fix_commits"], 2);
    let f = file(&v, "src/hot.ts");
    assert_eq!(f["fixes"], 2);
    assert_eq!(f["commits"], 3);
    assert_eq!(f["authors"], 2);
    let subjects: Vec<&str> = f["recent_fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["fix: second", "fix: first"]);
}

#[test]
fn too_little_history_is_unavailable() {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n");
    r.commit("initial");
    for i in 0..8 {
        touch(
            &r,
            "src/a.ts",
            &format!("// {i}"),
            &format!("fix {i}"),
            "Bob",
            1 + i,
        );
    }
    r.branch("pr");
    touch(&r, "src/a.ts", "export const b = 2;", "pr", "Bob", 20);
    let (run, v) = r.score_json(&["--base", "main", "--head", "pr"]);
    run.assert_code(0);
    let reg = regression(&v);
    assert_eq!(reg["available"], false);
    assert_eq!(reg["score"], Value::Null);
    let reason = reg["reason"].as_str().unwrap();
    assert!(reason.contains("only 9 commit(s)"), "{reason}");
    assert!(reason.contains("regression.min-commits (50)"), "{reason}");
    assert!(reason.contains("fetch-depth: 0"), "{reason}");
    assert!(v["composite"]["note"]
        .as_str()
        .unwrap()
        .contains("regression"));
    let text = r.run(&["score", "--base", "main", "--head", "pr"]);
    assert!(
        text.stdout.contains("unavailable: only 9 commit(s)"),
        "{}",
        text.stdout
    );
}

#[test]
fn shallow_clone_is_unavailable() {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n");
    r.commit("initial");
    filler(&r, "src/a.ts", 1, 59);
    let cut = r.head();
    r.branch("pr");
    touch(&r, "src/a.ts", "export const b = 2;", "pr", "Bob", 70);
    // What `git clone --depth` leaves: the boundary commits listed in .git/shallow.
    std::fs::write(r.path().join(".git/shallow"), format!("{cut}\n")).unwrap();
    let (run, v) = r.score_json(&["--base", "main", "--head", "pr"]);
    run.assert_code(0);
    let reg = regression(&v);
    assert_eq!(reg["available"], false, "{reg}");
    let reason = reg["reason"].as_str().unwrap();
    assert!(reason.contains("shallow clone"), "{reason}");
    assert!(reason.contains("fetch-depth: 0"), "{reason}");
}

/// A history with two known bug-introducing commits, fixes that blame to them, and fixes that
/// must not produce labels (a comment-only change, a whitespace-only change).
fn eval_history() -> (TestRepo, Vec<Oid>) {
    let r = TestRepo::new();
    let mut c = Vec::new();
    r.write("src/a.ts", lines("a", 10))
        .write("src/b.ts", lines("b", 10))
        .write("src/c.ts", lines("c", 10));
    c.push(r.commit_as("initial import", &who("Alice", 1))); // c1: +30
    r.write("src/a.ts", lines("a", 10) + &lines("x", 20));
    c.push(r.commit_as("add feature x", &who("Alice", 2))); // c2: +20, buggy
    r.write(
        "src/b.ts",
        lines("b", 10) + "// tweak note\nexport const t = 1;\n",
    );
    c.push(r.commit_as("tweak b", &who("Alice", 3))); // c3: +2
    r.write("src/c.ts", lines("c", 10) + &lines("y", 5));
    c.push(r.commit_as("add feature y", &who("Alice", 4))); // c4: +5, buggy
    r.write(
        "src/a.ts",
        lines("a", 10)
            + &lines("x", 4)
            + "export const x5 = 500;\n"
            + &lines("x", 20)[lines("x", 5).len()..],
    );
    c.push(r.commit_as("fix: crash in feature x", &who("Bob", 5))); // c5: +1 −1 → c2
    r.write(
        "src/c.ts",
        lines("c", 10)
            + "export const y1 = 1;\nexport const y2 = 20;\n"
            + &lines("y", 5)[lines("y", 2).len()..],
    );
    c.push(r.commit_as("fix: off-by-one in y", &who("Bob", 6))); // c6: +1 −1 → c4
    r.write("README.md", "# docs\n");
    c.push(r.commit_as("add docs", &who("Alice", 7))); // c7: no source
    let b_now = lines("b", 10) + "// tweak note\nexport const t = 1;\n";
    r.write(
        "src/b.ts",
        b_now.clone() + "export const m1 = 1;\nexport const m2 = 2;\nexport const m3 = 3;\n",
    );
    c.push(r.commit_as("more b", &who("Alice", 8))); // c8: +3
    r.write(
        "src/b.ts",
        lines("b", 10) + "// tweak notes\nexport const t = 1;\nexport const m1 = 1;\nexport const m2 = 2;\nexport const m3 = 3;\n",
    );
    c.push(r.commit_as("fix: typo in a comment", &who("Bob", 9))); // c9: comment only
    r.write(
        "src/b.ts",
        lines("b", 10) + "// tweak notes\n    export const t = 1;\nexport const m1 = 1;\nexport const m2 = 2;\nexport const m3 = 3;\n",
    );
    c.push(r.commit_as("fix: indentation", &who("Bob", 10))); // c10: whitespace only
    (r, c)
}

fn short(o: Oid) -> String {
    o.to_string()[..7].to_string()
}

fn eval_json(r: &TestRepo, args: &[&str]) -> Value {
    let mut all = vec!["eval", "regression", "--format", "json"];
    all.extend_from_slice(args);
    let run = r.run(&all);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn eval_labels_bug_introducing_commits_and_reports_auc() {
    let (r, c) = eval_history();
    let v = eval_json(&r, &["--maturity", "0d"]);
    assert_eq!(v["commits_walked"], 10);
    assert_eq!(v["fix_commits"], 4);
    assert_eq!(v["no_source"], 1);
    assert_eq!(v["immature"], 0);
    assert_eq!(v["evaluated"], 9);
    assert_eq!(v["bug_introducing"], 2);
    assert_eq!(
        v["labels"],
        serde_json::json!([
            {"sha": short(c[1]), "subject": "add feature x", "fixed_by": [short(c[4])]},
            {"sha": short(c[3]), "subject": "add feature y", "fixed_by": [short(c[5])]},
        ])
    );
    // Lines added: c1 30, c2 20 (buggy), c3 2, c4 5 (buggy), c5 1, c6 1, c8 3, c9 1, c10 1.
    // c2 and c4 each outrank 6 of the 7 clean commits (not c1): AUC = 12/14.
    assert_eq!(v["baseline"]["roc_auc"], 0.8571);
    // The model's AUC is what its per-commit scores say.
    let commits = v["commits"].as_array().unwrap();
    let scores: Vec<f64> = commits
        .iter()
        .map(|x| x["score"].as_f64().unwrap())
        .collect();
    let labels: Vec<bool> = commits
        .iter()
        .map(|x| x["bug_introducing"].as_bool().unwrap())
        .collect();
    let auc = engine::eval::roc_auc(&scores, &labels).unwrap();
    assert_eq!(v["model"]["roc_auc"], (auc * 10_000.0).round() / 10_000.0);
    // Scored with prior history only: c10 adds as many lines as c9 but follows a fix to b.ts.
    let by = |sha: &str| commits.iter().find(|x| x["sha"] == sha).unwrap();
    assert_eq!(
        by(&short(c[8]))["lines_added"],
        by(&short(c[9]))["lines_added"]
    );
    assert!(by(&short(c[9]))["score"].as_f64() > by(&short(c[8]))["score"].as_f64());
    // …and a commit's score does not depend on anything after it.
    let upto = eval_json(&r, &["--maturity", "0d", "--rev", &c[1].to_string()]);
    let early = upto["commits"].as_array().unwrap();
    assert_eq!(early.last().unwrap()["sha"], short(c[1]));
    assert_eq!(early.last().unwrap()["score"], by(&short(c[1]))["score"]);
    // Recall at 20% of the 68 changed lines (13.6): the baseline takes nothing (c1 alone is 30
    // lines), so it finds no bug-introducing commit.
    assert_eq!(v["baseline"]["recall_at_20pct_lines"], 0.0);
}

#[test]
fn eval_drops_immature_commits_and_bounds_the_walk() {
    let (r, _) = eval_history();
    let v = eval_json(&r, &["--maturity", "3d"]);
    // The newest commit is on day 10: days 8, 9 and 10 are younger than 3 days.
    assert_eq!(v["immature"], 3);
    assert_eq!(v["maturity_days"], 3);
    let v = eval_json(&r, &["--maturity", "0d", "--max-commits", "4"]);
    assert_eq!(v["commits_walked"], 4);
    assert_eq!(v["bug_introducing"], 0);
    let text = r.run(&["eval", "regression", "--maturity", "0d"]);
    text.assert_code(0);
    assert!(text.stdout.contains("lines added only"), "{}", text.stdout);
    assert!(text.stdout.contains("0.857"), "{}", text.stdout);
    let bad = r.run(&["eval", "regression", "--maturity", "soon"]);
    bad.assert_code(2);
}

/// Equal-sized commits that lines added cannot tell apart, where only the history can: the
/// bug-introducing ones touch a file that was fixed recently.
#[test]
fn eval_shows_history_beating_lines_added_when_it_should() {
    use engine::score::regression::{decay, file_risk, model, ShapeInput};
    let r = TestRepo::new();
    let mut c = Vec::new();
    // The first fix only adds a guard: nothing to blame, so the initial import stays clean.
    let hot = |extra: &str| lines("h", 5) + "export const guard = true;\n" + extra;
    r.write("src/hot.ts", lines("h", 5))
        .write("src/ca.ts", lines("a", 5))
        .write("src/cb.ts", lines("b", 5));
    c.push(r.commit_as("initial import", &who("Alice", 0))); // c0: +15
    r.write("src/hot.ts", hot(""));
    c.push(r.commit_as("fix: hot crash", &who("Alice", 100))); // c1: +1, labels nothing
    let f1 = "export const f1 = 1;\nexport const f2 = 2;\nexport const f3 = 3;\n";
    r.write("src/hot.ts", hot(f1));
    c.push(r.commit_as("add h feature", &who("Alice", 101))); // c2: +3, buggy
    r.write(
        "src/ca.ts",
        lines("a", 5) + "export const q1 = 1;\nexport const q2 = 2;\nexport const q3 = 3;\n",
    );
    c.push(r.commit_as("add a feature", &who("Alice", 102))); // c3: +3
    let f1_fixed = f1.replace("f1 = 1", "f1 = 100");
    r.write("src/hot.ts", hot(&f1_fixed));
    c.push(r.commit_as("fix: h feature", &who("Alice", 103))); // c4: +1 −1 → c2
    r.write(
        "src/cb.ts",
        lines("b", 5) + "export const w1 = 1;\nexport const w2 = 2;\nexport const w3 = 3;\n",
    );
    c.push(r.commit_as("add b feature", &who("Alice", 104))); // c5: +3
    let g = "export const g1 = 1;\nexport const g2 = 2;\nexport const g3 = 3;\n";
    r.write("src/hot.ts", hot(&(f1_fixed.clone() + g)));
    c.push(r.commit_as("add h2", &who("Alice", 105))); // c6: +3, buggy
    let g_fixed = g.replace("g2 = 2", "g2 = 20");
    r.write("src/hot.ts", hot(&(f1_fixed + &g_fixed)));
    c.push(r.commit_as("fix: h2", &who("Alice", 106))); // c7: +1 −1 → c6

    let v = eval_json(&r, &["--maturity", "0d"]);
    let labelled: Vec<&str> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["subject"].as_str().unwrap())
        .collect();
    assert_eq!(labelled, ["add h feature", "add h2"]);
    // Baseline: c2 and c6 (3 lines each) lose to c0 (15), beat the three 1-line fixes and tie
    // with c3 and c5: (3 + 1) / 6 each, 8 / 12 in all.
    assert_eq!(v["baseline"]["roc_auc"], 0.6667);
    // The model puts c2 and c6 above everything except that c2 trails the fix c7 (which touches
    // the same file after two fixes to it): (5 + 6) / 12.
    assert_eq!(
        v["model"]["roc_auc"], 0.9167,
        "{}\n{:#}",
        v["model"], v["commits"]
    );
    // c2's score, by hand: hot.ts has one fix (day 100) in the window [day 0, day 101]; Alice
    // made both earlier commits to it.
    let p = decay(100.0 / 101.0);
    let expected = model(
        &ShapeInput {
            lines_added: 3,
            files: 1,
            directories: 1,
            subsystems: 1,
            entropy: 0.0,
            prior_developers: 1,
            author_experience: 2,
        },
        [file_risk(p)],
        [],
        2000,
        0.0,
    );
    let c2 = v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["sha"] == short(c[2]))
        .unwrap();
    assert_eq!(c2["score"], (expected.risk * 100_000.0).round() / 1000.0);
}
