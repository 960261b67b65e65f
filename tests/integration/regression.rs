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
    assert_eq!(f["fixes_90d"], 5);
    assert_eq!(f["commits"], 6);
    assert_eq!(f["authors"], 2);
    assert_eq!(f["age_days"], 60);
    let recent = f["recent_fixes"].as_array().unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0]["subject"], "fix: rounding in hot #4");
    assert_eq!(recent[0]["date"], date(56));
    assert_eq!(recent[0]["sha"].as_str().unwrap().len(), 7);
    // A file without fixes is not listed.
    assert_eq!(
        regression(&stable)["evidence"]["files"],
        serde_json::json!([])
    );
    // The same shape: five source lines in one file.
    for v in [&hot, &stable] {
        let x = &regression(v)["evidence"]["features"];
        assert_eq!(x["lines_added"], 5);
        assert_eq!(x["code_lines_added"], 5);
        assert_eq!(x["files"], 1);
    }
    // 61 commits are too few to train on: the prior model, named as such.
    let model = &regression(&hot)["evidence"]["model"];
    assert_eq!(model["kind"], "prior", "{model}");
    assert!(
        model["reason"]
            .as_str()
            .unwrap()
            .contains("too little history"),
        "{model}"
    );
    let reasons = regression(&hot)["evidence"]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r == "`src/hot.ts` had 5 fixes in the last 90 days"),
        "{reasons:?}"
    );
    // The terminal shows the evidence.
    let text = r.run(&["score", "--base", "main", "--head", "hot"]);
    // With its standing among the 57 of those commits that changed source (enough to rank).
    assert!(
        text.stdout.contains("(the prior model; higher than ")
            && text.stdout.contains(" % of the last 57 commits): "),
        "{}{}",
        text.stdout,
        text.stderr
    );
    assert!(
        text.stdout.contains("Files with fix history:"),
        "{}",
        text.stdout
    );
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
    assert_eq!(w["fix_commits"], 2);
    assert_eq!(w["from"], date(0));
    assert_eq!(w["to"], date(57));
    assert_eq!(w["cut_by"], Value::Null);

    let f = file(&v, "src/new.ts");
    // initial (as old.ts), fix, rename, fix, feature (via the merged branch), revert.
    assert_eq!(f["commits"], 6, "{f}");
    assert_eq!(f["fixes"], 2, "a revert is not a fix: {f}");
    assert_eq!(f["reverts"], 1);
    assert_eq!(f["authors"], 4);
    assert_eq!(f["age_days"], 62, "from day 0 to the head commit on day 62");
    let subjects: Vec<&str> = f["recent_fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["fix: another bug in new", "fix: wrong constant in old"]
    );
    // The revert labels the feature it reverts bug-inducing.
    assert_eq!(w["reverts"], 1);
    assert!(w["bug_inducing"].as_u64().unwrap() >= 1, "{w}");

    let x = &reg["evidence"]["features"];
    assert_eq!(x["lines_added"], 5, "{x}");
    assert_eq!(x["lines_deleted"], 0);
    assert_eq!(x["files"], 3);
    assert_eq!(x["directories"], 3);
    assert_eq!(x["subsystems"], 2);
    let (p1, p2) = (0.4f64, 0.2f64);
    let entropy = -(2.0 * p1 * p1.log2() + p2 * p2.log2()) / 3f64.log2();
    assert_eq!(x["entropy"], (entropy * 1000.0).round() / 1000.0);
    // Alice, Bob, Carol, Dave on new.ts; Alice on x.ts; Alice and Erin on z.ts.
    assert_eq!(x["developers"], 5);
    // Carol's earlier commit: the fix to new.ts (in new.ts and in src/).
    assert_eq!(x["author_commits"], 1);
    assert_eq!(x["author_file_commits"], 1);
    assert_eq!(x["author_subsystem_commits"], 1);
    // README.md and package-lock.json are counted apart.
    assert_eq!(x["other_files"], 2);
    let formula = reg["formula"].as_str().unwrap();
    assert!(
        formula.starts_with("regression = round(100 · p), p = σ("),
        "{formula}"
    );
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
    assert_eq!(regression(&off)["evidence"]["files"], serde_json::json!([]));
    assert_eq!(regression(&off)["evidence"]["features"]["prior_changes"], 1);
    assert!(score(&on) > score(&off));
}

/// Graph features: the files that import the changed file (fan-in) and reach it transitively.
#[test]
fn graph_features_count_importers() {
    let r = TestRepo::new();
    r.write("src/lib.ts", lines("l", 3))
        .write(
            "src/caller.ts",
            "import { l1 } from './lib';\nexport const c = l1;\n",
        )
        .write(
            "src/top.ts",
            "import { c } from './caller';\nexport const t = c;\n",
        )
        .write("src/lib.test.ts", "import { l1 } from './lib';\n")
        .write("src/misc.ts", "\n");
    r.commit_as("initial import", &who("Alice", 0));
    filler(&r, "src/misc.ts", 1, 50);
    r.branch("a");
    touch(
        &r,
        "src/lib.ts",
        "export const l4 = 4;\nexport const l5 = 5;",
        "grow lib",
        "Alice",
        60,
    );
    let (_, a) = r.score_json(&["--base", "main", "--head", "a"]);
    let x = &regression(&a)["evidence"]["features"];
    assert_eq!(x["fan_in"], 1, "tests do not count: {x}");
    assert_eq!(x["reach"], 2, "caller and top: {x}");
    assert!(x.get("symbol_reach").is_none(), "not computed yet: {x}");
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
    assert_eq!(regression(&v)["evidence"]["features"]["fix"], false);
    let f = file(&v, "src/hot.ts");
    assert_eq!(f["fixes"], 2);
    assert_eq!(f["commits"], 3);
    assert_eq!(f["authors"], 2);
    // The pull request's own "fix" commit is not the head: the change is not a fix.
    let subjects: Vec<&str> = f["recent_fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["fix: second", "fix: first"]);
}

#[test]
fn too_little_history_uses_the_prior_model() {
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
    assert_eq!(reg["available"], true, "{reg}");
    let model = &reg["evidence"]["model"];
    assert_eq!(model["kind"], "prior");
    let reason = model["reason"].as_str().unwrap();
    assert!(reason.contains("too little history"), "{reason}");
    assert!(reason.contains("regression.min-commits (200)"), "{reason}");
    assert!(!model["trained"]["repositories"]
        .as_array()
        .unwrap()
        .is_empty());
    let p = reg["evidence"]["probability"].as_f64().unwrap();
    assert_eq!(reg["score"].as_u64().unwrap(), (100.0 * p).round() as u64);
    assert_eq!(v["composite"]["renormalized"], false);
    let text = r.run(&["score", "--base", "main", "--head", "pr", "--explain"]);
    assert!(text.stdout.contains("(the prior model)"), "{}", text.stdout);
    assert!(
        text.stdout.contains("Regression contributions"),
        "{}",
        text.stdout
    );
}

#[test]
fn shallow_clone_uses_the_change_only_prior() {
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
    assert_eq!(reg["available"], true, "{reg}");
    assert_eq!(reg["evidence"]["model"]["kind"], "prior-change-only");
    let reason = reg["evidence"]["model"]["reason"].as_str().unwrap();
    assert!(reason.contains("shallow clone"), "{reason}");
    assert!(reason.contains("fetch-depth: 0"), "{reason}");
    let used: Vec<&str> = reg["evidence"]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["feature"].as_str().unwrap())
        .collect();
    assert!(!used.contains(&"recent_fixes"), "{used:?}");
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

/// A configuration that lets the backtest train on a tiny history.
fn tiny_training(r: &TestRepo) -> String {
    let cfg = r.path().join("..").join(format!(
        "{}-tiny.yml",
        r.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &cfg,
        "regression:\n  min-commits: 2\n  min-bug-inducing: 1\n  maturity-days: 0\n",
    )
    .unwrap();
    cfg.to_string_lossy().into_owned()
}

#[test]
fn eval_labels_bug_introducing_commits_and_reports_metrics() {
    let (r, c) = eval_history();
    let v = eval_json(&r, &["--maturity", "0d"]);
    assert_eq!(v["commits_walked"], 10);
    // c5, c6 and the whitespace fix c10; "fix: typo in a comment" is never a fix.
    assert_eq!(v["fix_commits"], 3);
    assert_eq!(v["no_source"], 1);
    assert_eq!(v["immature"], 0);
    assert_eq!(v["bug_inducing_found"], 2);
    assert_eq!(
        v["labels"],
        serde_json::json!([
            {"sha": short(c[1]), "subject": "add feature x", "fixed_by": [short(c[4])]},
            {"sha": short(c[3]), "subject": "add feature y", "fixed_by": [short(c[5])]},
        ])
    );
    // Ten commits are too few for the default training minimum: every fold is left out, said so.
    assert_eq!(v["evaluated"], 0);
    assert_eq!(v["folds_used"], 0);
    assert!(v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("regression.min-commits (200)")));
    // With a tiny minimum, folds are trained on what precedes them and predicted.
    let cfg = tiny_training(&r);
    let v = eval_json(&r, &["--maturity", "0d", "--folds", "2", "--config", &cfg]);
    let commits = v["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 9, "every source commit is listed");
    let predicted: Vec<&Value> = commits.iter().filter(|x| x["fold"] != 0).collect();
    assert_eq!(predicted.len(), v["evaluated"].as_u64().unwrap() as usize);
    assert!(!predicted.is_empty(), "{v:#}");
    let probs: Vec<f64> = predicted
        .iter()
        .map(|x| x["probability"].as_f64().unwrap())
        .collect();
    assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
    let labels: Vec<bool> = predicted
        .iter()
        .map(|x| x["bug_introducing"].as_bool().unwrap())
        .collect();
    let auc = engine::eval::roc_auc(&probs, &labels).map(|a| (a * 10_000.0).round() / 10_000.0);
    assert_eq!(v["model"]["roc_auc"].as_f64(), auc);
    let brier = engine::eval::brier(&probs, &labels).map(|a| (a * 10_000.0).round() / 10_000.0);
    assert_eq!(v["model"]["brier"].as_f64(), brier);
    for m in ["model", "lines_added", "random", "prior"] {
        for k in ["catch_5", "catch_10", "catch_20"] {
            assert!(v[m].get(k).is_some(), "{m}.{k}");
        }
    }
    // A commit labelled later is known bug-inducing only from its fix's time.
    let c2 = commits.iter().find(|x| x["sha"] == short(c[1])).unwrap();
    assert!(c2["bug_known_at"].as_i64().unwrap() > c2["time"].as_i64().unwrap());
    std::fs::remove_file(&cfg).unwrap();
}

#[test]
fn eval_drops_immature_commits_and_bounds_the_walk() {
    let (r, _) = eval_history();
    let v = eval_json(&r, &["--maturity", "3d"]);
    // The newest commit is on day 10: the source commits of days 8, 9 and 10 are too young.
    assert_eq!(v["immature"], 3);
    assert_eq!(v["maturity_days"], 3);
    let v = eval_json(&r, &["--maturity", "0d", "--max-commits", "4"]);
    assert_eq!(v["commits_walked"], 4);
    assert_eq!(v["bug_inducing_found"], 0);
    let text = r.run(&["eval", "regression", "--maturity", "0d"]);
    text.assert_code(0);
    assert!(text.stdout.contains("lines added only"), "{}", text.stdout);
    assert!(text.stdout.contains("catch@10%"), "{}", text.stdout);
    let bad = r.run(&["eval", "regression", "--maturity", "soon"]);
    bad.assert_code(2);
    let two = r.run(&["eval", "regression", "--repo", ".", "--repo", "."]);
    two.assert_code(2);
}

/// `--train-prior` trains the shipped models' shape on several repositories.
#[test]
fn train_prior_writes_both_models() {
    let (a, _) = eval_history();
    let (b, _) = eval_history();
    let cfg = tiny_training(&a);
    let run = a.run(&[
        "eval",
        "regression",
        "--train-prior",
        "--config",
        &cfg,
        "--repo",
        a.path().to_str().unwrap(),
        "--repo",
        b.path().to_str().unwrap(),
    ]);
    run.assert_code(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v["command"]
        .as_str()
        .unwrap()
        .starts_with("pr-risk eval regression --train-prior"));
    for m in ["full", "change_only"] {
        let model: engine::score::regression::model::Model =
            serde_json::from_value(v[m].clone()).unwrap();
        model.validate().unwrap();
        assert_eq!(model.trained.repositories.len(), 2);
    }
    assert!(!v["change_only"]["features"]
        .as_array()
        .unwrap()
        .contains(&Value::from("recent_fixes")));
}

fn gate_json(r: &TestRepo, args: &[&str]) -> Value {
    let mut all = vec!["eval", "gate", "--format", "json"];
    all.extend_from_slice(args);
    let run = r.run(&all);
    run.assert_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// `pr-risk eval gate` scores every non-merge commit against its first parent and tabulates
/// the gate's block rates for the SZZ-labelled bug-inducing and clean commits.
#[test]
fn eval_gate_scores_history_and_tabulates_block_rates() {
    let (r, c) = eval_history();
    let v = gate_json(&r, &[]);
    // The root commit has no parent: the other nine are scored, oldest first.
    assert_eq!(v["scored"], 9, "{v:#}");
    assert_eq!(v["commits_walked"], 10);
    assert_eq!(v["fix_commits"], 3);
    assert_eq!(
        (v["bug_inducing"].as_u64(), v["clean"].as_u64()),
        (Some(2), Some(7))
    );
    assert_eq!(v["failed"], 0);
    let commits = v["commits"].as_array().unwrap();
    let shas: Vec<&str> = commits.iter().map(|x| x["sha"].as_str().unwrap()).collect();
    let want: Vec<String> = c[1..].iter().map(|o| short(*o)).collect();
    assert_eq!(shas, want);
    let bugs: Vec<&str> = commits
        .iter()
        .filter(|x| x["bug_inducing"] == true)
        .map(|x| x["sha"].as_str().unwrap())
        .collect();
    assert_eq!(bugs, [short(c[1]), short(c[3])]);
    // Each commit is the pipeline's score of the commit against its parent.
    let (_, one) = r.score_json(&[
        "--base",
        &c[1].to_string(),
        "--head",
        &c[2].to_string(),
        "--offline",
    ]);
    assert_eq!(commits[1]["composite"], one["composite"]["score"]);
    assert_eq!(
        commits[1]["dimensions"]["regression"],
        one["dimensions"]["regression"]["score"]
    );
    assert_eq!(commits[0]["lines_added"], 20);
    for k in [
        "composite_auc",
        "lines_added_auc",
        "dimension_auc",
        "distribution",
        "configured",
        "lowest_meeting_target",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    for d in ["impact", "regression", "security", "coupling"] {
        assert!(v["dimension_auc"].get(d).is_some(), "{d}");
    }
    // The sweep agrees with the scores listed.
    let thresholds = v["thresholds"].as_array().unwrap();
    assert_eq!(thresholds.len(), 101);
    let above = |t: u64, bug: bool| {
        commits
            .iter()
            .filter(|x| x["bug_inducing"] == bug)
            .filter(|x| x["composite"].as_u64().is_some_and(|s| s > t))
            .count() as u64
    };
    for t in [0u64, 5, 10, 20, 40, 70] {
        let row = &thresholds[t as usize];
        assert_eq!(row["blocked_clean"].as_u64(), Some(above(t, false)), "{t}");
        assert_eq!(
            row["blocked_bug_inducing"].as_u64(),
            Some(above(t, true)),
            "{t}"
        );
    }
    let scores: Vec<u64> = commits
        .iter()
        .filter_map(|x| x["composite"].as_u64())
        .collect();
    assert_eq!(
        v["distribution"]["max"].as_u64(),
        scores.iter().max().copied()
    );
    // Lowering the threshold blocks more: the configured rates follow --threshold.
    let low = gate_json(&r, &["--threshold", "0"]);
    assert_eq!(low["threshold"], 0);
    assert_eq!(
        low["configured"]["blocked_clean"].as_u64(),
        Some(above(0, false))
    );
    assert!(above(0, false) > v["configured"]["blocked_clean"].as_u64().unwrap());
    assert_eq!(low["configured"]["clean_rate"], thresholds[0]["clean_rate"]);
    // Fewer commits: the most recent ones.
    let four = gate_json(&r, &["--commits", "4"]);
    assert_eq!(four["scored"], 4);
    assert_eq!(four["commits"][0]["sha"], short(c[6]));
    assert_eq!(four["bug_inducing"], 0);
    assert!(four["composite_auc"].is_null());
    // The text names the table's rows.
    let text = r.run(&["eval", "gate"]);
    text.assert_code(0);
    for want in [
        "9 commits scored against their first parent (2 bug-inducing, 7 clean",
        "blocked bug-inducing",
        "lift",
        "composite",
        "lines added",
        "p50",
    ] {
        assert!(text.stdout.contains(want), "{want}: {}", text.stdout);
    }
}

#[test]
fn eval_gate_errors_are_clear() {
    let r = TestRepo::new();
    r.write("src/a.ts", lines("a", 3));
    r.commit_as("initial", &who("Alice", 1));
    let one = r.run(&["eval", "gate"]);
    one.assert_code(2);
    assert!(one.stderr.contains("too few"), "{}", one.stderr);
    let dir = tempfile::tempdir().unwrap();
    let none = crate::support::run_in(dir.path(), &["eval", "gate"]);
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("no git repository"), "{}", none.stderr);
}
