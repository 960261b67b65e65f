//! Reviewer guidance: suggested reviewers from CODEOWNERS (of the base commit) and the history
//! (time-decayed authorship, the base's `.mailmap`, bots and the author excluded), expected
//! partners (co-change with an import or test link), and the tests that reach the change —
//! `pr-risk affected-tests` and the report.

use serde_json::Value;

use crate::support::{Author, RunPrRisk, TestRepo, EPOCH};

const DAY: i64 = 86_400;

/// `who` and `kind` of each suggested reviewer.
fn reviewers(v: &Value) -> Vec<(String, String)> {
    v["guidance"]["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["who"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An author with a given e-mail.
fn person(name: &str, email: &str, time: i64) -> Author {
    Author {
        name: name.to_string(),
        email: email.to_string(),
        time,
    }
}

fn append(r: &TestRepo, path: &str, line: &str) {
    let p = r.path().join(path);
    let mut text = std::fs::read_to_string(&p).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    r.write(path, text);
}

/// A TypeScript project with vitest-style `*.test.ts`, jest-style `__tests__/` and an e2e spec.
fn ts_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("package.json", r#"{"name":"shop"}"#)
        .write("src/pricing.ts", "export const price = (n: number) => n * 2;\n")
        .write("src/tax.ts", "export const tax = 0.2;\n")
        .write(
            "src/cart.ts",
            "import { price } from './pricing';\nexport const total = (ns: number[]) => ns.map(price);\n",
        )
        .write(
            "src/pricing.test.ts",
            "import { price } from './pricing';\ntest('p', () => price(1));\n",
        )
        .write(
            "src/__tests__/cart.ts",
            "import { total } from '../cart';\ntest('c', () => total([1]));\n",
        )
        .write(
            "e2e/checkout.spec.ts",
            "import { total } from '../src/cart';\nexport const flow = total;\n",
        )
        .write(
            ".github/CODEOWNERS",
            "* @acme/core\nsrc/ @ana @bo\nsrc/pricing.ts @cy\n",
        );
    r.commit("shop");
    r.branch("feature");
    r.write(
        "src/pricing.ts",
        "export const price = (n: number) => n * 3;\n",
    )
    .write("src/tax.ts", "export const tax = 0.25;\n")
    // The pull request cannot name its own reviewers: CODEOWNERS comes from the base.
    .write(".github/CODEOWNERS", "* @mallory\n");
    r.commit("reprice, retax");
    r
}

#[test]
fn affected_tests_nearest_first_for_typescript_layouts() {
    let r = ts_repo();
    let run = r.run(&["affected-tests", "--base", "main"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "src/pricing.test.ts\ne2e/checkout.spec.ts\nsrc/__tests__/cart.ts\n"
    );
    let run = r.run(&["affected-tests", "--base", "main", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["tests"][1]["distance"], 2);
    assert_eq!(
        v["tests"][1]["via"],
        serde_json::json!(["e2e/checkout.spec.ts", "src/cart.ts", "src/pricing.ts"])
    );
    assert_eq!(v["unreached"], serde_json::json!(["src/tax.ts"]));
    let run = r.run(&["affected-tests", "--base", "main", "--format", "nextest"]);
    assert_eq!(run.stdout, "none()\n", "no Rust test to select");
}

#[test]
fn the_report_suggests_owners_from_the_base_and_says_what_no_test_reaches() {
    let r = ts_repo();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let g = &v["guidance"];
    assert_eq!(g["codeowners"], ".github/CODEOWNERS");
    let who: Vec<&str> = g["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["who"].as_str().unwrap())
        .collect();
    // src/pricing.ts → @cy (last match); src/tax.ts → @ana @bo; .github/CODEOWNERS → @acme/core.
    assert_eq!(who, ["@acme/core", "@ana", "@bo"]);
    assert!(
        !who.contains(&"@mallory"),
        "the PR's own CODEOWNERS is not used"
    );
    let text = r.run(&["score", "--base", "main"]).stdout;
    assert!(text.contains("! no test reaches src/tax.ts"), "{text}");
    assert!(text.contains("Suggested reviewers:"), "{text}");
    let md = r
        .run(&["score", "--base", "main", "--format", "markdown"])
        .stdout;
    assert!(md.contains("⚠️ no test reaches `src/tax.ts`"), "{md}");
    assert!(
        md.contains("**Suggested reviewers**:\n- `@acme/core` — owns `*`"),
        "{md}"
    );
}

#[test]
fn max_reviewers_and_switching_guidance_off() {
    let r = ts_repo();
    r.write(
        ".pr-risk.yml",
        "guidance:\n  max-reviewers: 1\n  affected-tests: false\n",
    );
    r.commit("config");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(v["guidance"]["reviewers"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["guidance"]["affected_tests"]["tests"],
        serde_json::json!([])
    );
}

/// Rust: an integration test in `tests/` reaches the library through the crate name; a source file
/// with an inline `#[cfg(test)]` module names its unit tests; both as `cargo nextest` filters.
#[test]
fn affected_tests_for_rust_integration_and_unit_tests() {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/geo\"]\nresolver = \"2\"\n",
    )
    .write(
        "crates/geo/Cargo.toml",
        "[package]\nname = \"geo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .write("crates/geo/src/lib.rs", "pub mod shapes;\npub mod units;\n")
    .write(
        "crates/geo/src/shapes.rs",
        "pub fn area(r: f64) -> f64 {\n    r * r\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn unit() {\n        assert_eq!(super::area(1.0), 1.0);\n    }\n}\n",
    )
    .write("crates/geo/src/units.rs", "pub const M: f64 = 1.0;\n")
    .write(
        "crates/geo/tests/area.rs",
        "use geo::shapes::area;\n\n#[test]\nfn it() {\n    assert_eq!(area(2.0), 4.0);\n}\n",
    );
    r.commit("geo");
    r.branch("feature");
    r.write(
        "crates/geo/src/shapes.rs",
        "pub fn area(r: f64) -> f64 {\n    r * r * 1.0\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn unit() {\n        assert_eq!(super::area(1.0), 1.0);\n    }\n}\n",
    );
    r.commit("area");
    let run = r.run(&["affected-tests", "--base", "main"]);
    run.assert_code(0);
    assert_eq!(run.stdout, "crates/geo/tests/area.rs\n");
    let run = r.run(&["affected-tests", "--base", "main", "--format", "nextest"]);
    assert_eq!(
        run.stdout,
        "(package(geo) & binary(area)) | (package(geo) & kind(lib) & test(/^shapes::/))\n"
    );
}

/// Two years of history, then a PR by Pat that edits `src/pricing.ts` and `src/tax.ts`:
/// - Olga wrote `pricing.ts` 700 days ago (eleven commits): with a 180-day half-life she counts
///   for little, with a very long one she is the main author;
/// - Ana (`101+ana-dev@users.noreply.github.com`: login `ana-dev`) changed it four times a month
///   ago, and CODEOWNERS names `@ana-dev` for it: one reviewer, both reasons;
/// - dependabot changed it five times last week: a bot, never suggested;
/// - Bo committed to `tax.ts` as `bo@old-laptop` and `bo@example.com`: the base's `.mailmap` makes
///   them one person, "Bo Real" (no login: shown by name, never requestable); the PR's own
///   `.mailmap` (which renames Bo) is not read;
/// - Pat, the PR's author, wrote most of `tax.ts`: never suggested.
fn history_repo() -> TestRepo {
    let r = TestRepo::new();
    let start = EPOCH;
    let olga = |d: i64| person("Olga", "olga@example.com", start + d * DAY);
    r.write("package.json", r#"{"name":"shop"}"#)
        .write("src/pricing.ts", "export const price = 1;\n")
        .write("src/tax.ts", "export const tax = 1;\n")
        .write(".github/CODEOWNERS", "src/pricing.ts @ana-dev\n")
        .write(".mailmap", "Bo Real <bo@example.com> <bo@old-laptop>\n");
    r.commit_as("shop", &olga(0));
    for k in 1..=10 {
        append(&r, "src/pricing.ts", &format!("export const p{k} = {k};"));
        r.commit_as(&format!("feat: price {k}"), &olga(k));
    }
    for k in 0..6 {
        append(&r, "src/tax.ts", &format!("export const pat{k} = {k};"));
        r.commit_as(
            &format!("feat: tax {k}"),
            &person("Pat", "pat@example.com", start + (600 + k) * DAY),
        );
    }
    for (k, email) in ["bo@old-laptop", "bo@old-laptop", "bo@example.com"]
        .iter()
        .enumerate()
    {
        append(&r, "src/tax.ts", &format!("export const bo{k} = {k};"));
        r.commit_as(
            &format!("feat: bo {k}"),
            &person("bo", email, start + (650 + k as i64) * DAY),
        );
    }
    for k in 0..4 {
        append(&r, "src/pricing.ts", &format!("export const ana{k} = {k};"));
        r.commit_as(
            &format!("feat: ana {k}"),
            &person(
                "Ana",
                "101+ana-dev@users.noreply.github.com",
                start + (670 + k) * DAY,
            ),
        );
    }
    for k in 0..5 {
        append(&r, "src/pricing.ts", &format!("export const dep{k} = {k};"));
        r.commit_as(
            &format!("chore(deps): bump {k}"),
            &person(
                "dependabot[bot]",
                "49699333+dependabot[bot]@users.noreply.github.com",
                start + (690 + k) * DAY,
            ),
        );
    }
    r.branch("feature");
    append(&r, "src/pricing.ts", "export const pr = 1;");
    append(&r, "src/tax.ts", "export const pr = 1;");
    r.write(".mailmap", "Mallory <bo@example.com> <bo@old-laptop>\n");
    r.commit_as(
        "pr: price and tax",
        &person("Pat", "pat@example.com", start + 700 * DAY),
    );
    r
}

#[test]
fn reviewers_from_history_decay_mailmap_bots_and_the_author() {
    let r = history_repo();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(
        reviewers(&v),
        [
            ("@ana-dev".to_string(), "login".to_string()),
            ("Bo Real".to_string(), "name".to_string()),
        ]
    );
    let ana = &v["guidance"]["reviewers"][0];
    assert_eq!(ana["login"], "ana-dev");
    assert_eq!(
        ana["reasons"][0],
        "owns `src/pricing.ts` (1 of the changed files, .github/CODEOWNERS:1)"
    );
    let why = ana["reasons"][1].as_str().unwrap();
    assert!(
        why.starts_with("made ")
            && why.contains("of the recent commits to `src/pricing.ts` (4 of 20"),
        "{why}"
    );
    let bo = &v["guidance"]["reviewers"][1];
    assert!(bo.get("login").is_none(), "a name is never a login: {bo}");
    assert!(
        bo["reasons"][0]
            .as_str()
            .unwrap()
            .contains("(3 of 10, weighted by recency)"),
        "both e-mails count for Bo: {bo}"
    );
    let text = r.run(&["score", "--base", "main"]).stdout;
    assert!(
        text.contains("- Bo Real (git author name, not a GitHub login) — made"),
        "{text}"
    );

    // Without decay, Olga's eleven old commits make her the main author of pricing.ts.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pr-risk.yml");
    std::fs::write(&config, "guidance:\n  half-life-days: 100000\n").unwrap();
    let (_, v) = r.score_json(&["--base", "main", "--config", config.to_str().unwrap()]);
    let who: Vec<String> = reviewers(&v).into_iter().map(|(w, _)| w).collect();
    assert_eq!(who, ["@ana-dev", "Olga", "Bo Real"]);
    // CODEOWNERS only.
    std::fs::write(&config, "guidance:\n  authorship: false\n").unwrap();
    let (_, v) = r.score_json(&["--base", "main", "--config", config.to_str().unwrap()]);
    assert_eq!(
        reviewers(&v),
        [("@ana-dev".to_string(), "login".to_string())]
    );
    assert_eq!(
        v["guidance"]["reviewers"][0]["reasons"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Eight commits change `src/handler.ts` (the first adds every file): its test changed with it in
/// 7, `src/db.ts` (which the handler imports) in 6, `CHANGELOG.md` in all 8 (no link: not a
/// partner), `src/cache.ts` (imported too) in 4 (50 %: too few). The PR changes the handler and
/// the changelog only.
fn partners_repo() -> TestRepo {
    let r = partners_history();
    r.branch("feature");
    append(&r, "src/handler.ts", "export const v2 = 2;");
    append(&r, "CHANGELOG.md", "- v2");
    r.commit("handler v2");
    r
}

/// The history of [`partners_repo`], on `main`.
fn partners_history() -> TestRepo {
    let r = TestRepo::new();
    r.write("package.json", r#"{"name":"api"}"#)
        .write(
            "src/handler.ts",
            "import { db } from './db';\nimport { cache } from './cache';\nexport const handle = () => db + cache;\n",
        )
        .write(
            "src/handler.test.ts",
            "import { handle } from './handler';\ntest('h', () => handle());\n",
        )
        .write("src/db.ts", "export const db = 1;\n")
        .write("src/cache.ts", "export const cache = 1;\n")
        .write("CHANGELOG.md", "# changes\n");
    r.commit("api");
    for k in 0..7 {
        append(&r, "src/handler.ts", &format!("// {k}"));
        append(&r, "CHANGELOG.md", &format!("- {k}"));
        if k < 6 {
            append(&r, "src/handler.test.ts", &format!("// {k}"));
        }
        if k < 5 {
            append(&r, "src/db.ts", &format!("// {k}"));
        }
        if k < 3 {
            append(&r, "src/cache.ts", &format!("// {k}"));
        }
        r.commit(&format!("feat: handler {k}"));
    }
    r
}

#[test]
fn expected_partners_need_support_confidence_and_a_link() {
    let r = partners_repo();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(
        v["guidance"]["partners"],
        serde_json::json!([
            {"path": "src/handler.test.ts", "changed": "src/handler.ts", "together": 7,
             "commits": 8, "percent": 88, "link": "test"},
            {"path": "src/db.ts", "changed": "src/handler.ts", "together": 6,
             "commits": 8, "percent": 75, "link": "imports"},
        ])
    );
    let text = r.run(&["score", "--base", "main"]).stdout;
    assert!(
        text.contains("~ you changed src/handler.ts but not src/handler.test.ts (its test; changed together in 88 % of 8 commits)"),
        "{text}"
    );
    let md = r
        .run(&["score", "--base", "main", "--format", "markdown"])
        .stdout;
    assert!(
        md.contains("- you changed `src/handler.ts` but not `src/db.ts` (it imports it; changed together in 75 % of 8 commits)"),
        "{md}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pr-risk.yml");
    let with = |yaml: &str| {
        std::fs::write(&config, yaml).unwrap();
        let (run, v) = r.score_json(&["--base", "main", "--config", config.to_str().unwrap()]);
        run.assert_code(0);
        v["guidance"]["partners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["path"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        with("guidance:\n  partners-min-support: 3\n  partners-min-confidence: 0.4\n"),
        ["src/handler.test.ts", "src/db.ts", "src/cache.ts"]
    );
    assert_eq!(
        with("guidance:\n  partners-min-confidence: 0.8\n  partners-min-support: 7\n"),
        ["src/handler.test.ts"]
    );
    assert_eq!(
        with("guidance:\n  partners-min-support: 8\n"),
        Vec::<String>::new()
    );
    assert_eq!(with("guidance:\n  partners: false\n"), Vec::<String>::new());
    // Bulk commits (over regression.bulk-files files) do not count.
    assert_eq!(
        with("regression:\n  bulk-files: 2\n"),
        Vec::<String>::new(),
        "all but one of the handler's commits changed 3 or more files"
    );
    // Bad values are refused with the key.
    std::fs::write(&config, "guidance:\n  partners-min-confidence: 60\n").unwrap();
    let run = r.run(&[
        "score",
        "--base",
        "main",
        "--config",
        config.to_str().unwrap(),
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("partners-min-confidence"),
        "{}",
        run.stderr
    );
}

/// A partner the pull request changes itself is not listed; nor is a frequent co-change without a
/// link from the changed file (the test does not import `src/db.ts`).
#[test]
fn expected_partners_the_pr_changes_are_not_listed() {
    let partners_of = |r: &TestRepo| {
        let (run, v) = r.score_json(&["--base", "main"]);
        run.assert_code(0);
        v["guidance"]["partners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} for {} ({})",
                    p["path"].as_str().unwrap(),
                    p["changed"].as_str().unwrap(),
                    p["link"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
    };

    // The handler and its test: only the imported db is missing.
    let r = partners_history();
    r.branch("feature");
    append(&r, "src/handler.ts", "export const v2 = 2;");
    append(&r, "src/handler.test.ts", "test('v2', () => 2);");
    r.commit("handler v2 with its test");
    assert_eq!(partners_of(&r), ["src/db.ts for src/handler.ts (imports)"]);

    // Everything that usually changes with the handler is in the PR: nothing to say.
    append(&r, "src/db.ts", "export const v2 = 2;");
    r.commit("db v2");
    assert_eq!(partners_of(&r), Vec::<String>::new());
    let text = r.run(&["score", "--base", "main"]).stdout;
    assert!(!text.contains("you changed"), "{text}");
    let md = r
        .run(&["score", "--base", "main", "--format", "markdown"])
        .stdout;
    assert!(!md.contains("you changed"), "{md}");

    // Only the test: its source is the partner (7 of 7 commits); db.ts changed with the test in 6
    // of 7, but the test does not import it.
    let r = partners_history();
    r.branch("feature");
    append(&r, "src/handler.test.ts", "test('more', () => 3);");
    r.commit("more tests");
    assert_eq!(
        partners_of(&r),
        ["src/handler.ts for src/handler.test.ts (source)"]
    );
}

/// CODEOWNERS names a team for `src/`; the history knows Ana (a no-reply e-mail: `@ana-dev`) on
/// `tax.ts` and Carl (a plain e-mail: shown by name) on both files; Pat, the PR's author, made
/// most of the recent commits to `pricing.ts` as `pat@laptop`, which the base's `.mailmap` (when
/// `mailmap`) maps to the e-mail the PR is authored with.
fn team_repo(mailmap: bool) -> TestRepo {
    let r = TestRepo::new();
    let carl = |d: i64| person("Carl", "carl@example.com", EPOCH + d * DAY);
    r.write("package.json", r#"{"name":"shop"}"#)
        .write("src/pricing.ts", "export const price = 1;\n")
        .write("src/tax.ts", "export const tax = 1;\n")
        .write(".github/CODEOWNERS", "# billing\nsrc/ @shop/billing\n");
    if mailmap {
        r.write(".mailmap", "Pat <pat@example.com> <pat@laptop>\n");
    }
    r.commit_as("shop", &carl(0));
    for k in 0..3 {
        append(&r, "src/pricing.ts", &format!("export const c{k} = {k};"));
        r.commit_as(&format!("feat: carl {k}"), &carl(100 + k));
    }
    for k in 0..2 {
        append(&r, "src/tax.ts", &format!("export const a{k} = {k};"));
        r.commit_as(
            &format!("feat: ana {k}"),
            &person(
                "Ana",
                "101+ana-dev@users.noreply.github.com",
                EPOCH + (150 + k) * DAY,
            ),
        );
    }
    for k in 0..8 {
        append(&r, "src/pricing.ts", &format!("export const p{k} = {k};"));
        r.commit_as(
            &format!("feat: pat {k}"),
            &person("Pat Laptop", "pat@laptop", EPOCH + (180 + k) * DAY),
        );
    }
    r.branch("feature");
    append(&r, "src/pricing.ts", "export const pr = 1;");
    append(&r, "src/tax.ts", "export const pr = 1;");
    r.commit_as("pr", &person("Pat", "pat@example.com", EPOCH + 190 * DAY));
    r
}

#[test]
fn owners_team_and_authors_merge_and_the_author_is_known_through_the_mailmap() {
    let r = team_repo(true);
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(
        reviewers(&v),
        [
            ("@shop/billing".to_string(), "team".to_string()),
            ("@ana-dev".to_string(), "login".to_string()),
            ("Carl".to_string(), "name".to_string()),
        ]
    );
    let team = &v["guidance"]["reviewers"][0];
    assert_eq!(team["team"], true);
    assert_eq!(team["login"], "shop/billing");
    assert_eq!(
        team["reasons"],
        serde_json::json!(["owns `src/` (2 of the changed files, .github/CODEOWNERS:2)"])
    );
    let ana = v["guidance"]["reviewers"][1]["reasons"][0]
        .as_str()
        .unwrap();
    assert!(
        ana.contains("of the recent commits to `src/tax.ts` (2 of 3, weighted by recency)"),
        "{ana}"
    );
    let md = r
        .run(&["score", "--base", "main", "--format", "markdown"])
        .stdout;
    assert!(
        md.contains("- `@shop/billing` — owns `src/` (2 of the changed files"),
        "{md}"
    );
    assert!(!md.contains("Pat"), "the author is never suggested: {md}");

    // Without the mailmap, `pat@laptop` is somebody else, and the main author of pricing.ts.
    let r = team_repo(false);
    let (_, v) = r.score_json(&["--base", "main"]);
    let who: Vec<String> = reviewers(&v).into_iter().map(|(w, _)| w).collect();
    assert!(who.contains(&"Pat Laptop".to_string()), "{who:?}");
}
