//! The gate from the command line: reasons that say what to do for every dimension, the
//! near-threshold note, advisory mode, per-path thresholds and critical paths, and located
//! configuration errors. Real repositories, the real binary. In action mode (the event, a fake
//! GitHub on 127.0.0.1, `action.rs`'s runner): the override label counts only from an allowed
//! actor, and advisory mode never fails the check. (The override label's record in every output
//! and the cloud is in `action.rs`.)

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::action::{fake_github, outputs_map, pr_repo, Gh, OWNER_REPO};
use crate::support::{RunPrRisk, TestRepo};

/// `main`: a small app with a core module many files import, a web layer and a database layer.
/// `feature`: a change that raises every dimension — core's interface changes (impact), the
/// web layer imports the database (a boundary rule), a page evaluates a string (security), and
/// the change is large and spread over three subsystems (regression).
fn every_dimension(config: &str) -> TestRepo {
    let r = TestRepo::new();
    r.write(".pr-risk.yml", config)
        .write(
            "src/core/money.ts",
            "export const cents = (n: number) => n * 100;\n",
        )
        .write(
            "src/db/client.ts",
            "export const query = (q: string) => q.length;\n",
        )
        .write(
            "src/web/page.ts",
            "import { cents } from '../core/money';\nexport const page = () => cents(1);\n",
        );
    for i in 0..12 {
        r.write(
            &format!("src/features/f{i}.ts"),
            format!("import {{ cents }} from '../core/money';\nexport const f{i} = cents({i});\n"),
        );
    }
    r.write(
        "src/index.ts",
        (0..12)
            .map(|i| format!("import {{ f{i} }} from './features/f{i}';\nconsole.log(f{i});\n"))
            .collect::<String>(),
    );
    r.commit("app");
    r.branch("feature");
    r.write(
        "src/core/money.ts",
        "export const cents = (n: number, rate = 1) => Math.round(n * 100 * rate);\nexport const euros = (c: number) => c / 100;\n",
    );
    r.write(
        "src/web/page.ts",
        "import { cents } from '../core/money';\nimport { query } from '../db/client';\nexport const page = (expr: string) => eval(expr) + cents(query('x'));\n",
    );
    for pkg in ["billing", "search", "admin"] {
        for i in 0..4 {
            let body: String = (0..30)
                .map(|j| format!("export const {pkg}{i}_{j} = (x: number) => x + {j};\n"))
                .collect();
            r.write(&format!("packages/{pkg}/src/m{i}.ts"), body);
        }
    }
    r.commit("a big change");
    r
}

const RULES: &str = "coupling:\n  rules:\n    - name: no-web-to-db\n      description: the web layer talks to the API, never to the database\n      from: src/web/\n      to: src/db/\n";

fn reasons(v: &Value) -> Vec<Value> {
    v["gate"]["reasons"].as_array().unwrap().clone()
}

fn with_code<'a>(reasons: &'a [Value], code: &str) -> &'a Value {
    reasons
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no `{code}` reason in {reasons:#?}"))
}

#[test]
fn a_block_names_every_dimension_with_its_findings_and_what_to_do() {
    let r = every_dimension(RULES);
    let (run, v) = r.score_json(&["--base", "main", "--threshold", "0"]);
    run.assert_code(1);
    let rs = reasons(&v);
    assert_eq!(rs[0]["code"], "score-above-threshold", "{rs:#?}");
    assert!(rs[0]["dimension"].is_null());

    // One or more reasons per dimension, dimensions by contribution to the composite.
    let contributions = &v["composite"]["contributions"];
    let order: Vec<&str> =
        rs.iter()
            .filter_map(|r| r["dimension"].as_str())
            .fold(Vec::new(), |mut acc, d| {
                if acc.last() != Some(&d) {
                    acc.push(d);
                }
                acc
            });
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| {
        contributions[b]
            .as_f64()
            .unwrap()
            .total_cmp(&contributions[a].as_f64().unwrap())
    });
    assert_eq!(order, sorted, "{rs:#?}");
    let mut names = order.clone();
    names.sort();
    assert_eq!(
        names,
        vec!["coupling", "impact", "regression", "security"],
        "{rs:#?}"
    );
    for r in rs.iter().filter(|r| !r["dimension"].is_null()) {
        let d = r["dimension"].as_str().unwrap();
        let points = (contributions[d].as_f64().unwrap() * 10.0).round() / 10.0;
        assert_eq!(r["points"].as_f64().unwrap(), points, "{r:#}");
    }

    let security = with_code(&rs, "security-finding");
    assert_eq!(security["dimension"], "security");
    assert_eq!(
        security["message"],
        "new finding `ts/eval` (high) at `src/web/page.ts:3`: eval() runs a string built at run time as code"
    );
    let fix = security["action"].as_str().unwrap();
    assert!(fix.starts_with("Do not evaluate strings"), "{fix}");
    assert!(
        fix.ends_with(
            "; or, if intended, justify it with `pr-risk-ignore[ts/eval]: <reason>` on the line"
        ),
        "{fix}"
    );

    let coupling = with_code(&rs, "boundary-violation");
    assert_eq!(coupling["dimension"], "coupling");
    assert_eq!(
        coupling["message"],
        "new boundary violation: `src/web/page.ts` imports `src/db/client.ts` at line 2 (rule no-web-to-db: the web layer talks to the API, never to the database)"
    );
    assert_eq!(
        coupling["action"],
        "remove the import at `src/web/page.ts:2`, or move the code so that rule no-web-to-db holds"
    );

    let impact = with_code(&rs, "reach");
    assert_eq!(impact["dimension"], "impact");
    let reach = v["dimensions"]["impact"]["evidence"]["reached_files"]
        .as_u64()
        .unwrap();
    assert!(reach >= 13, "{reach}");
    // `cents` is used by the 12 features and the page; `src/index.ts` depends on money.ts only
    // through the features, whose exports did not change.
    assert!(
        impact["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "the changed code reaches {reach} production files; 13 of the 14 dependents of `src/core/money.ts` (13 direct) use what changed in it (`cents`, `euros`)"
            )),
        "{impact:#}"
    );
    assert!(impact["action"]
        .as_str()
        .unwrap()
        .starts_with("keep `cents`, `euros` compatible for the code that uses it"));

    let size = with_code(&rs, "change-size");
    assert_eq!(size["dimension"], "regression");
    let msg = size["message"].as_str().unwrap();
    assert!(msg.contains("across 14 files in"), "{msg}");
    assert!(
        size["action"]
            .as_str()
            .unwrap()
            .starts_with("split it: one pull request per subsystem"),
        "{size:#}"
    );

    // The terminal and the Markdown say the same, from the same fields.
    let text = r.run(&["score", "--base", "main", "--threshold", "0"]);
    assert!(
        text.stdout
            .contains("What drives the score, and what would lower it:"),
        "{}",
        text.stdout
    );
    assert!(text
        .stdout
        .contains("        → remove the import at `src/web/page.ts:2`"));
    let md = r.run(&[
        "score",
        "--base",
        "main",
        "--threshold",
        "0",
        "--format",
        "markdown",
    ]);
    assert!(
        md.stdout.contains("**Blocked** (this check fails):"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("- **Coupling** (+"), "{}", md.stdout);
    assert!(md
        .stdout
        .contains("<br>→ remove the import at `src/web/page.ts:2`"));
}

#[test]
fn a_pass_near_the_threshold_says_so_and_what_drives_it() {
    let r = every_dimension(RULES);
    let (_, v) = r.score_json(&["--base", "main"]);
    let score = v["composite"]["score"].as_u64().unwrap();
    assert!(score > 5, "{score}");
    let threshold = (score + 4).to_string();
    let (run, v) = r.score_json(&["--base", "main", "--threshold", &threshold]);
    run.assert_code(0);
    let rs = reasons(&v);
    assert_eq!(rs[0]["code"], "near-threshold");
    assert_eq!(
        rs[0]["message"],
        format!("risk score {score} passes, 4 points under the threshold {threshold}")
    );
    assert!(rs.len() > 1);
    assert_eq!(v["gate"]["verdict"], "pass");
    // Further away, or with `near-threshold: 0`, a pass has nothing to add.
    let far = (score + 11).to_string();
    let (_, v) = r.score_json(&["--base", "main", "--threshold", &far]);
    assert!(reasons(&v).is_empty());
    let r = every_dimension(&format!("{RULES}near-threshold: 0\n"));
    let (_, v) = r.score_json(&["--base", "main", "--threshold", &threshold]);
    assert!(reasons(&v).is_empty());
}

#[test]
fn per_path_thresholds_and_critical_paths_lower_the_bar_and_say_why() {
    let base = "threshold: 100\nthresholds:\n  - paths: [\"docs/**\"]\n    threshold: 1\n  - paths: [\"packages/billing/**\"]\n    threshold: 99\n";
    let r = every_dimension(base);
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let g = &v["gate"];
    assert_eq!(g["threshold"], 99);
    assert_eq!(g["threshold_source"]["configured"], 100);
    let applied = g["threshold_source"]["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1, "docs/** matches nothing: {applied:#?}");
    assert_eq!(applied[0]["source"], "thresholds[1]");
    assert_eq!(applied[0]["files_total"], 4);
    assert_eq!(
        g["threshold_source"]["why"],
        "`thresholds[1]` 99: the change touches `packages/billing/**` (`packages/billing/src/m0.ts`, `packages/billing/src/m1.ts`, `packages/billing/src/m2.ts` and 1 more); the configured `threshold` is 100"
    );
    assert!(g["critical_paths"].as_array().unwrap().is_empty());

    // A critical path: the lower critical threshold, and the files flagged for review.
    let r = every_dimension(&format!(
        "{base}critical-paths: [\"**/auth/**\", \"**/db/**\", \"**/web/**\"]\ncritical-threshold: 3\n"
    ));
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    let g = &v["gate"];
    assert_eq!(g["threshold"], 3);
    assert_eq!(
        g["critical_paths"],
        serde_json::json!([{"pattern": "**/web/**", "files": ["src/web/page.ts"], "files_total": 1}])
    );
    assert_eq!(
        g["threshold_source"]["why"],
        "`critical-threshold` 3: the change touches critical paths (`src/web/page.ts`); the configured `threshold` is 100"
    );
    let md = r.run(&["score", "--base", "main", "--format", "markdown"]);
    assert!(
        md.stdout.contains(
            "> **Critical paths: review carefully.** This change touches `**/web/**` (`src/web/page.ts`)."
        ),
        "{}",
        md.stdout
    );
    assert!(md
        .stdout
        .contains("<sub>Threshold 3: `critical-threshold` 3"));
    let text = r.run(&["score", "--base", "main", "--color", "never"]);
    assert!(
        text.stdout
            .contains("  critical path **/web/**: src/web/page.ts — review carefully"),
        "{}",
        text.stdout
    );
    // `--threshold` sets the configured threshold; a lower per-path one still applies.
    let (_, v) = r.score_json(&["--base", "main", "--threshold", "2"]);
    assert_eq!(v["gate"]["threshold"], 2);
    assert_eq!(v["gate"]["threshold_source"]["configured"], 2);
}

#[test]
fn advisory_mode_reports_and_never_fails() {
    let r = every_dimension(&format!("{RULES}mode: advisory\nthreshold: 0\n"));
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(v["gate"]["mode"], "advisory");
    assert_eq!(v["gate"]["verdict"], "advisory");
    assert_eq!(v["gate"]["blocked"], false);
    assert_eq!(v["gate"]["would_block"], true);
    assert!(v["gate"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("advisory mode (not enforced): would block: risk score"));
    assert!(reasons(&v).len() > 1, "the reasons are all there");
    // `--mode gate` enforces it.
    r.run(&["score", "--base", "main", "--mode", "gate"])
        .assert_code(1);
}

#[test]
fn malformed_gate_settings_name_the_file_line_and_key() {
    let r = every_dimension("threshold: 70\nthresholds:\n  - paths: [\"a/**\"]\n    threshold: 40\n  - paths: [\"b/**\"]\n    threshold: 400\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(run.stderr.contains(".pr-risk.yml:6:16: "), "{}", run.stderr);
    let r = every_dimension("thresholds:\n  - paths: [\"a/**\"]\n    threshold: 40\n  - paths: [\"b/**\"]\n    threshold: 101\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            ".pr-risk.yml:4:3: `thresholds[1].threshold` must be between 0 and 100, got 101"
        ),
        "{}",
        run.stderr
    );
    let r = every_dimension("mode: strict\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(run.stderr.contains(".pr-risk.yml:1:7: "), "{}", run.stderr);
    assert!(run.stderr.contains("`gate`"), "{}", run.stderr);
    let r = every_dimension("critical-path: [\"**/auth/**\"]\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("did you mean `critical-paths`?"),
        "{}",
        run.stderr
    );
    let r = every_dimension("override-actors: [\"@lead\"]\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(".pr-risk.yml:1:1: `override-actors[0]` must be a GitHub login"),
        "{}",
        run.stderr
    );
}

/// `main`: 60 small commits, one or two lines each; `feature`: 300 new lines over six files.
fn long_history(config: &str) -> TestRepo {
    let r = TestRepo::new();
    r.write(".pr-risk.yml", config);
    for i in 0..60 {
        let lines: String = (0..=(i % 2))
            .map(|j| format!("export const v{i}_{j} = {j};\n"))
            .collect();
        r.write(&format!("src/m{}.ts", i % 7), lines);
        r.commit(&format!("tweak m{}", i % 7));
    }
    r.branch("feature");
    for f in 0..6 {
        let body: String = (0..50)
            .map(|j| format!("export const n{f}_{j} = (x: number) => x * {j};\n"))
            .collect();
        r.write(&format!("src/new{f}.ts"), body);
    }
    r.commit("a change far larger than any before it");
    r
}

#[test]
fn a_change_riskier_than_the_repositorys_recent_commits_blocks() {
    let r = long_history("");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    let rel = &v["dimensions"]["regression"]["evidence"]["relative"];
    assert_eq!(rel["commits"], 60, "{rel:#}");
    assert_eq!(rel["higher_than"], 100.0, "{rel:#}");
    // The composite alone would pass: this rule is what blocks.
    assert!(v["composite"]["score"].as_u64().unwrap() <= 70);
    let rs = reasons(&v);
    let why = with_code(&rs, "above-recent-commits");
    assert!(why["dimension"].is_null());
    let p = v["dimensions"]["regression"]["evidence"]["probability"]
        .as_f64()
        .unwrap();
    // The prior model learnt from commits 18.5 % of which were bug-inducing: p is above that too.
    let average = rel["average"].as_f64().unwrap();
    assert!(p > average, "{p} {average}");
    assert_eq!(
        why["message"],
        format!("regression risk p = {p} is higher than 100 % of this repository's last 60 commits and above the average commit's {average:.2} (history-percentile 95: the riskiest 5 % block)")
    );
    // The regression dimension's reasons follow, with what would lower the risk.
    assert!(
        rs.iter()
            .any(|r| r["dimension"] == "regression" && r["action"].is_string()),
        "{rs:#?}"
    );
    assert!(
        v["dimensions"]["regression"]["summary"]
            .as_str()
            .unwrap()
            .contains("higher than 100 % of the last 60 commits"),
        "{v:#}"
    );

    // `history-percentile: 100` turns the rule off; a pass then.
    let r = long_history("history-percentile: 100\n");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert!(reasons(&v)
        .iter()
        .all(|r| r["code"] != "above-recent-commits"));

    // A small change of the same history stays under the bar.
    let r = long_history("");
    r.checkout("main").branch("small");
    r.write("src/m3.ts", "export const tiny = 1;\n");
    r.commit("tweak m3 again");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let rel = &v["dimensions"]["regression"]["evidence"]["relative"];
    assert!(rel["higher_than"].as_f64().unwrap() < 95.0, "{rel:#}");

    // Out of range: the key, file and line.
    let r = long_history("threshold: 70\nhistory-percentile: 30\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(".pr-risk.yml")
            && run
                .stderr
                .contains("`history-percentile` must be between 50 and 100 (100: off), got 30"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Action mode: the override label from the event, who may apply it, advisory mode.

/// `override-actors` names who may lift a block. A label applied by anyone else, or present
/// without its actor in the event (a push after the label), does not count, and every output
/// says so and who may; applied by one of them, the block becomes a pass recorded with the actor.
#[test]
fn the_override_label_lifts_a_block_only_when_an_allowed_actor_applied_it() {
    // The pull request adds itself to the allowed actors: its own settings do not count.
    let pr = pr_repo(
        Some("threshold: 0\noverride-actors: [Lead, \"release[bot]\"]\n"),
        Some("threshold: 0\noverride-actors: [author]\n"),
    );
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let last_check = || {
        server
            .requests()
            .into_iter()
            .rfind(|r| r.line() == format!("POST /repos/{OWNER_REPO}/check-runs"))
            .unwrap()
            .json()
    };

    // The PR's author labels it: still blocked.
    pr.set_event(
        "labeled",
        &["pr-risk:accepted"],
        Some(("pr-risk:accepted", "author")),
    );
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(1);
    let out = outputs_map(&a.outputs);
    assert_eq!(
        (
            out["blocked"].as_str(),
            out["verdict"].as_str(),
            out["overridden-by"].as_str()
        ),
        ("true", "blocked", "")
    );
    let g = pr.report()["gate"].clone();
    assert_eq!(g["verdict"], "blocked");
    let refused = "the label `pr-risk:accepted` was applied by @author, who is not in `override-actors`: it does not lift the block; ask @Lead, @release[bot] to apply it";
    assert_eq!(
        g["override"],
        json!({"label": "pr-risk:accepted", "actor": "author", "applied": false, "refused": refused})
    );
    assert_eq!(g["reasons"][0]["code"], "score-above-threshold");
    assert_eq!(g["reasons"][1]["code"], "override-refused");
    assert_eq!(g["reasons"][1]["message"], refused);
    let check = last_check();
    assert_eq!(check["conclusion"], "failure");
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("- ✗ the label `pr-risk:accepted` was applied by @&#8203;author, who is not in `override-actors`"),
        "{summary}"
    );
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(body.contains("⛔ Merge blocked"), "{body}");
    assert!(body.contains("who is not in `override-actors`"), "{body}");

    // An allowed actor (logins compare case-insensitively): a pass, recorded with who.
    pr.set_event(
        "labeled",
        &["pr-risk:accepted"],
        Some(("pr-risk:accepted", "lead")),
    );
    let b = pr.action(&server.url(), &[]);
    b.run.assert_code(0);
    let out = outputs_map(&b.outputs);
    assert_eq!(
        (
            out["blocked"].as_str(),
            out["verdict"].as_str(),
            out["overridden-by"].as_str()
        ),
        ("false", "overridden", "lead")
    );
    let g = pr.report()["gate"].clone();
    assert_eq!(
        g["override"],
        json!({"label": "pr-risk:accepted", "actor": "lead", "applied": true})
    );
    assert!(
        g["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["code"] != "override-refused"),
        "{g:#}"
    );
    let check = last_check();
    assert_eq!(check["conclusion"], "success");
    assert!(check["output"]["title"]
        .as_str()
        .unwrap()
        .ends_with(" — overridden by @lead"));
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("**Block overridden**: @&#8203;lead applied the label `pr-risk:accepted`"),
        "{body}"
    );

    // A later push: the label is still there, who applied it is not in the event. With
    // `override-actors` set that does not count: the new commits need a new approval.
    pr.set_event("synchronize", &["pr-risk:accepted"], None);
    let c = pr.action(&server.url(), &[]);
    c.run.assert_code(1);
    let g = pr.report()["gate"].clone();
    assert_eq!(g["verdict"], "blocked");
    assert!(
        g["override"]["refused"]
            .as_str()
            .unwrap()
            .contains("who applied it is not in this run's event"),
        "{g:#}"
    );
    assert_eq!(last_check()["conclusion"], "failure");
}

/// Advisory mode posts everything and never fails, even for what always blocks in gate mode (a
/// new critical security finding); the outputs say what the gate would have done.
#[test]
fn advisory_mode_never_fails_the_check_even_on_a_critical_finding() {
    // Threshold 100: only the critical finding would block.
    let mut pr = pr_repo(Some("mode: advisory\nthreshold: 100\n"), None);
    // A critical finding (an AWS access key) on top of the pull request's change.
    pr.repo.write(
        "src/lib/pricing.ts",
        concat!(
            "export const price = 2;\nexport const tax = 0.2;\nexport const awsKey = 'AKIA",
            "Z3MHDLQ7TR4QWXYV';\n"
        ),
    );
    pr.head = pr.repo.commit("add a key").to_string();
    pr.set_event("synchronize", &[], None);
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(0);
    let g = pr.report()["gate"].clone();
    assert_eq!(
        (&g["verdict"], &g["blocked"], &g["would_block"]),
        (&json!("advisory"), &json!(false), &json!(true)),
        "{g:#}"
    );
    assert!(
        g["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "new-critical-finding"),
        "{g:#}"
    );
    let check = server.requests()[0].json();
    assert_eq!(check["conclusion"], "neutral");
    assert!(check["output"]["title"]
        .as_str()
        .unwrap()
        .ends_with(" — advisory: would block"));
    let out = outputs_map(&a.outputs);
    assert_eq!(
        (out["blocked"].as_str(), out["verdict"].as_str()),
        ("false", "advisory")
    );
    // The same change in gate mode fails.
    let b = pr.action(&server.url(), &[("INPUT_MODE", "gate")]);
    b.run.assert_code(1);
    assert_eq!(outputs_map(&b.outputs)["verdict"], "blocked");
}
