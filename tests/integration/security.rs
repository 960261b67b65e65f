//! The security dimension end to end: rule packs on a fixture app, diff-aware classification,
//! suppression, the score, the critical-finding gate, overrides and user rule dirs.

use serde_json::Value;

use crate::support::{RunPrRisk, TestRepo};

/// (rule, path, line) of each finding in a list.
fn found(list: &Value) -> Vec<(String, String, u64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn f(rule: &str, path: &str, line: u64) -> (String, String, u64) {
    (rule.to_string(), path.to_string(), line)
}

pub(crate) fn fixture_repo() -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture("security-app/base");
    r.commit("security app");
    r.branch("feature");
    r.copy_fixture("security-app/head");
    r.commit("users endpoint, post removal, bio html, rust handler");
    r
}

#[test]
fn fixture_app_new_pre_existing_and_suppressed_findings() {
    let r = fixture_repo();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let sec = &v["dimensions"]["security"];
    assert_eq!(sec["available"], true);
    let ev = &sec["evidence"];
    // The two findings of the example comment: a HIGH public tRPC mutation and a MEDIUM error
    // detail sent in a response.
    assert_eq!(
        found(&ev["new"]),
        vec![
            f("ts/trpc-public-mutation", "src/server/routers/post.ts", 14),
            f("ts/error-details-in-response", "server/app.js", 13),
        ]
    );
    // Edits inside pre-existing findings (a re-indented exec, a moved procedure, a log line and a
    // reformat inside a handler that unwraps request input) are not new: listed apart.
    assert_eq!(
        found(&ev["changed"]),
        vec![
            f("ts/child-process-exec", "server/app.js", 23),
            f("ts/trpc-public-mutation", "src/server/routers/post.ts", 17),
            f("rust/unwrap-request-input", "service/src/handlers.rs", 16),
        ]
    );
    assert_eq!(found(&ev["pre_existing"]), vec![]);
    assert_eq!(
        found(&ev["suppressed"]),
        vec![f("ts/open-redirect", "server/app.js", 19)]
    );
    assert_eq!(
        ev["suppressed"][0]["suppressed"],
        "`next` is checked against ALLOWED_REDIRECTS by the allowRedirects middleware"
    );
    // The suppression is one the branch added: listed with rule, path and reason.
    assert_eq!(ev["suppressed"][0]["suppressed_by_pr"], true);
    assert_eq!(
        ev["pr_suppressions"],
        serde_json::json!([{
            "rule": "ts/open-redirect",
            "path": "server/app.js",
            "line": 18,
            "reason": "`next` is checked against ALLOWED_REDIRECTS by the allowRedirects middleware",
            "suppresses": 1,
            "policy": "show"
        }])
    );
    // Identity: rule, enclosing item, anchor, ordinal.
    assert_eq!(
        ev["new"][0]["identity"],
        serde_json::json!({"item": "postRouter › remove", "anchor": "mutation", "ordinal": 0})
    );
    assert_eq!(
        ev["new"][1]["identity"],
        serde_json::json!({"item": "app.post(\"/api/users\")", "anchor": "json", "ordinal": 0})
    );
    // A data-flow finding says where the data comes from.
    assert_eq!(ev["new"][1]["source"], "`err.message` (line 13)");
    // Every finding carries what a reviewer needs.
    let first = &ev["new"][0];
    assert_eq!(first["severity"], "high");
    assert_eq!(first["cwe"], "CWE-862");
    assert!(first["message"]
        .as_str()
        .unwrap()
        .contains("publicProcedure mutation (no auth)"));
    assert!(first["fix"]
        .as_str()
        .unwrap()
        .contains("protectedProcedure"));
    // W = 2·1 (high) + 1·1 (medium) = 3 → 60
    assert_eq!(
        ev["counts"],
        serde_json::json!({"critical": 0, "high": 1, "medium": 1, "low": 0})
    );
    assert_eq!(ev["weighted"], 3.0);
    assert_eq!(sec["score"], 60);
    assert_eq!(
        sec["formula"],
        "min(100, 20·W), W = 4·0 + 2·1 + 1·1 + 0.25·0 = 3 → 60"
    );

    // The terminal report lists them.
    let text = r.run(&["score", "--base", "main"]);
    assert!(
        text.stdout.contains(
            "- [HIGH] src/server/routers/post.ts:14 — publicProcedure mutation (no auth)"
        ),
        "{}",
        text.stdout
    );
    assert!(text
        .stdout
        .contains("- [MEDIUM] server/app.js:13 — Error details"));
    assert!(text
        .stdout
        .contains("Pre-existing, changed by this branch (not scored):"));
    assert!(text.stdout.contains("ts/open-redirect: `next` is checked"));
}

#[test]
fn new_critical_secret_blocks_unless_disabled() {
    let r = TestRepo::new();
    r.write("src/config.ts", "export const region = 'eu-west-1';\n");
    r.commit("config");
    r.branch("feature");
    r.write(
        "src/config.ts",
        concat!(
            "export const region = 'eu-west-1';\nexport const awsKey = 'AKIA",
            "Z3MHDLQ7TR4QWXYV';\n"
        ),
    );
    r.commit("add key");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(
        found(&ev["new"]),
        vec![f("secrets/aws-access-key", "src/config.ts", 2)]
    );
    assert_eq!(v["dimensions"]["security"]["score"], 80);
    let reasons = v["gate"]["reasons"].to_string();
    assert!(
        reasons.contains("1 new critical security finding (fail-on-critical-security): secrets/aws-access-key at src/config.ts:2"),
        "{reasons}"
    );
    // The value never appears in any output.
    assert!(!run.stdout.contains("Z3MHDLQ7TR4QWXYV"));
    let text = r.run(&["score", "--base", "main"]);
    assert!(!text.stdout.contains("Z3MHDLQ7TR4QWXYV"));

    r.write(".pr-risk.yml", "fail-on-critical-security: false\n");
    let (run, v) = r.score_json(&["--base", "main"]);
    // Composite (impact 0, security 80, renormalised) stays under 70.
    run.assert_code(0);
    assert_eq!(v["gate"]["blocked"], false);
}

#[test]
fn moved_and_renamed_code_is_not_new() {
    let r = TestRepo::new();
    r.write(
        "src/run.js",
        "const { exec } = require('child_process');\nfunction run(cmd) {\n  exec('sh ' + cmd);\n}\nmodule.exports = run;\n",
    );
    r.commit("runner");
    r.branch("feature");
    r.rename("src/run.js", "lib/runner.js");
    r.write(
        "lib/runner.js",
        "const { exec } = require('child_process');\n\n// runs things\nfunction run(cmd) {\n    exec('sh ' +  cmd);\n}\nmodule.exports = run;\n",
    );
    r.commit("move runner");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(found(&ev["new"]), vec![]);
    // Re-indented and re-spaced in a renamed file: the same finding, changed.
    assert_eq!(
        found(&ev["changed"]),
        vec![f("ts/child-process-exec", "lib/runner.js", 5)]
    );
    assert_eq!(v["dimensions"]["security"]["score"], 0);

    // A second copy of the same vulnerable line is new.
    r.write(
        "lib/runner.js",
        "const { exec } = require('child_process');\nfunction run(cmd) {\n  exec('sh ' + cmd);\n  exec('sh ' + cmd);\n}\nmodule.exports = run;\n",
    );
    r.commit("twice");
    let (_, v) = r.score_json(&["--base", "main"]);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(
        found(&ev["new"]),
        vec![f("ts/child-process-exec", "lib/runner.js", 4)]
    );
}

#[test]
fn overrides_custom_rules_and_suppressions_without_reason() {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n");
    r.commit("a");
    r.branch("feature");
    r.write(
        "src/a.ts",
        "export const a = 1;\nexport const f = eval(input); // pr-risk-ignore[ts/eval]\nconsole.log(debugDump(a));\nlocalStorage.setItem('token', t);\n",
    );
    r.write(
        "rules/team.yml",
        r#"rules:
  - id: team/no-debug-dump
    languages: [typescript]
    severity: low
    message: "debugDump() must not ship"
    cwe: CWE-489
    fix: "Remove the call."
    query: |
      (call_expression function: (identifier) @f (#eq? @f "debugDump")) @match
    examples:
      match: ["debugDump(x);", "const y = debugDump(state);"]
      no-match: ["debug(x);", "obj.debugDump(x);"]
"#,
    );
    r.write(
        ".pr-risk.yml",
        "security:\n  rule-dirs: [rules]\n  severity:\n    ts/eval: critical\n  disable: [secrets/jwt]\n",
    );
    r.commit("eval and debug");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(
        found(&ev["new"]),
        vec![
            f("ts/eval", "src/a.ts", 2),
            f("team/no-debug-dump", "src/a.ts", 3)
        ]
    );
    assert_eq!(ev["new"][0]["severity"], "critical");
    assert!(ev["notes"][0]
        .as_str()
        .unwrap()
        .contains("src/a.ts:2: pr-risk-ignore[ts/eval] has no reason"));

    // `rules list` and `rules test` see the repository's rules.
    let list = r.run(&["rules", "list"]);
    list.assert_code(0);
    assert!(list.stdout.contains("team/no-debug-dump"));
    assert!(list.stdout.contains("[disabled]"));
    let test = r.run(&["rules", "test", "rules"]);
    test.assert_code(0);
    assert!(
        test.stdout
            .contains("ok    team/no-debug-dump (2 match, 2 no-match)"),
        "{}",
        test.stdout
    );

    // A failing example fails `rules test`; a bad query is an input error naming rule and position.
    r.write(
        "bad/r.yml",
        "rules:\n  - id: team/x\n    languages: [typescript]\n    severity: low\n    message: m\n    cwe: CWE-1\n    fix: f\n    query: |\n      ((identifier) @match (#eq? @match \"x\"))\n    examples:\n      match: [\"y;\"]\n",
    );
    let test = r.run(&["rules", "test", "bad"]);
    test.assert_code(1);
    assert!(test.stdout.contains("FAIL  team/x"), "{}", test.stdout);
    r.write(
        "bad/r.yml",
        "rules:\n  - id: team/x\n    languages: [typescript]\n    severity: low\n    message: m\n    cwe: CWE-1\n    fix: f\n    query: |\n      (call_expression\n        nope: (identifier)) @match\n",
    );
    let test = r.run(&["rules", "test", "bad"]);
    test.assert_code(2);
    assert!(
        test.stderr.contains("bad/r.yml:10: rule `team/x`"),
        "{}",
        test.stderr
    );
    assert!(test.stderr.contains("query line 2"), "{}", test.stderr);

    r.write(".pr-risk.yml", "security:\n  disable: [ts/evl]\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("did you mean `ts/eval`?"),
        "{}",
        run.stderr
    );
}

/// `--format sarif` carries the new security findings (and only those), with rule metadata, and
/// validates against the SARIF 2.1.0 schema.
#[test]
fn sarif_carries_the_new_findings() {
    let r = fixture_repo();
    let run = r.run(&["score", "--base", "main", "--format", "sarif"]);
    run.assert_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let v = crate::local::sarif_validator();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let mut got: Vec<(String, String, u64)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            f("ts/error-details-in-response", "server/app.js", 13),
            f("ts/trpc-public-mutation", "src/server/routers/post.ts", 14),
        ]
    );
    // partialFingerprints are the findings' identity fingerprints.
    let (_, v) = r.score_json(&["--base", "main"]);
    let mut fps: Vec<String> = v["dimensions"]["security"]["evidence"]["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    fps.sort();
    let mut sarif_fps: Vec<String> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["prRisk/v2"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    sarif_fps.sort();
    assert_eq!(fps, sarif_fps);
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let trpc = rules
        .iter()
        .find(|r| r["id"] == "ts/trpc-public-mutation")
        .unwrap();
    assert_eq!(trpc["properties"]["security-severity"], "8.0");
    assert!(results[0]["partialFingerprints"].is_object());
}

/// A repository with one flagged construct per rule kind at base: a tRPC public mutation, a
/// Rust `unsafe` block in a method, and an Express handler sending error details.
fn flagged_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write(
        "src/orders.ts",
        "import { router, publicProcedure } from './trpc';\n\nexport const ordersRouter = router({\n  refund: publicProcedure.input(schema).mutation(async ({ input, ctx }) => {\n    await ctx.db.refund(input.id);\n  }),\n});\n",
    );
    r.write(
        "src/ctx.rs",
        "pub struct Context { p: *const u8 }\n\nimpl Context {\n    pub fn is_tracing(&self) -> bool {\n        unsafe { *self.p != 0 }\n    }\n}\n",
    );
    r.write(
        "server/users.js",
        "app.post('/users', async (req, res) => {\n  try {\n    await create(req.body);\n  } catch (err) {\n    res.status(500).json({ error: err.message });\n  }\n});\n",
    );
    r.commit("flagged code");
    r.branch("feature");
    r
}

/// (rule, path, line) of each finding.
type Found = Vec<(String, String, u64)>;

/// The new and changed findings and the security score.
fn new_and_changed(r: &TestRepo) -> (Found, Found, u64) {
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["security"]["evidence"];
    (
        found(&ev["new"]),
        found(&ev["changed"]),
        v["dimensions"]["security"]["score"].as_u64().unwrap(),
    )
}

#[test]
fn edits_inside_pre_existing_findings_bring_no_new_findings() {
    // Reformatting, a comment, a log line: the same three findings, changed, not new.
    let r = flagged_repo();
    r.write(
        "src/orders.ts",
        "import { router, publicProcedure } from './trpc';\n\nexport const ordersRouter = router({\n  refund: publicProcedure\n    .input(schema)\n    .mutation(async ({ input, ctx }) => {\n      // refunds are idempotent\n      logger.info('refund', { id: input.id });\n      await ctx.db.refund(input.id);\n    }),\n});\n",
    );
    r.write(
        "src/ctx.rs",
        "pub struct Context { p: *const u8 }\n\nimpl Context {\n    pub fn is_tracing(&self) -> bool {\n        // SAFETY: p points into the static table\n        unsafe {\n            *self.p != 0\n        }\n    }\n}\n",
    );
    r.write(
        "server/users.js",
        "app.post('/users', async (req, res) => {\n  try {\n    await create(req.body);\n  } catch (err) {\n    console.error('create failed', err);\n    res.status(500).json({ error: err.message });\n  }\n});\n",
    );
    r.commit("reformat, comment, log");
    let (new, changed, score) = new_and_changed(&r);
    assert_eq!(new, vec![]);
    // Lines inside the construct changed: changed pre-existing.
    assert_eq!(
        changed,
        vec![
            f("ts/trpc-public-mutation", "src/orders.ts", 4),
            f("rust/unsafe", "src/ctx.rs", 6),
        ]
    );
    // A log line before the sink leaves the sink's own line alone: pre-existing.
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(
        found(&v["dimensions"]["security"]["evidence"]["pre_existing"]),
        vec![f("ts/error-details-in-response", "server/users.js", 6)]
    );
    assert_eq!(score, 0);
    // A pre-existing finding never says "new".
    let text = r.run(&["score", "--base", "main"]);
    assert!(!text.stdout.contains("New `unsafe`"), "{}", text.stdout);
    assert!(text
        .stdout
        .contains("`unsafe` code: the compiler does not check"));

    // `security.changed-weight` scores them when a team wants to.
    r.write(".pr-risk.yml", "security:\n  changed-weight: 0.5\n");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    // W = 0.5 · (2 + 1) = 1.5 → 30
    assert_eq!(v["dimensions"]["security"]["score"], 30);
}

#[test]
fn renaming_the_file_keeps_identity_and_a_second_sink_is_new() {
    let r = flagged_repo();
    r.rename("src/orders.ts", "src/routers/orders.ts");
    r.rename("server/users.js", "server/routes/users.js");
    r.commit("move files");
    let (new, changed, _) = new_and_changed(&r);
    assert_eq!(new, vec![]);
    assert_eq!(changed, vec![]);

    // A second sink in the same function is new; the old one is not.
    r.write(
        "server/routes/users.js",
        "app.post('/users', async (req, res) => {\n  try {\n    await create(req.body);\n  } catch (err) {\n    if (err.retry) return res.json({ retry: true, detail: err.stack });\n    res.status(500).json({ error: err.message });\n  }\n});\n",
    );
    r.commit("second sink");
    let (new, _, score) = new_and_changed(&r);
    assert_eq!(
        new,
        vec![f(
            "ts/error-details-in-response",
            "server/routes/users.js",
            5
        )]
    );
    assert_eq!(score, 20);
}

#[test]
fn an_item_moved_to_another_file_keeps_its_identity() {
    let r = flagged_repo();
    r.write("src/ctx.rs", "pub struct Context { p: *const u8 }\n");
    r.write(
        "src/tracing.rs",
        "use crate::ctx::Context;\n\nimpl Context {\n    pub fn is_tracing(&self) -> bool {\n        unsafe { *self.p != 0 }\n    }\n}\n",
    );
    r.commit("move the impl");
    let (new, changed, _) = new_and_changed(&r);
    assert_eq!(new, vec![]);
    assert_eq!(changed, vec![f("rust/unsafe", "src/tracing.rs", 5)]);
}

#[test]
fn regexp_exec_is_not_child_process_exec() {
    let r = TestRepo::new();
    r.write("src/parse.js", "module.exports = {};\n");
    r.commit("base");
    r.branch("feature");
    r.write(
        "src/parse.js",
        "const { exec } = require('child_process');\nconst re = /(\\d+)-(\\d+)/g;\nfunction ranges(s) {\n  const out = [];\n  let m;\n  while ((m = re.exec(s)) !== null) out.push(m);\n  return out;\n}\nfunction status(cb) { exec('git status --short', cb); }\nfunction run(cmd, cb) { exec('sh -c ' + cmd, cb); }\nmodule.exports = { ranges, status, run };\n",
    );
    r.commit("parse");
    let (new, _, _) = new_and_changed(&r);
    // Only the real child_process exec with a non-constant command.
    assert_eq!(new, vec![f("ts/child-process-exec", "src/parse.js", 10)]);
}

#[test]
fn data_flow_finds_sql_built_in_a_variable_and_errors_through_a_cast() {
    let r = TestRepo::new();
    r.write("src/login.ts", "export {};\n");
    r.commit("base");
    r.branch("feature");
    r.write(
        "src/login.ts",
        "export async function login(req, res) {\n  const q = \"SELECT * FROM users WHERE login = '\" + req.body.login + \"'\";\n  const rows = await db.query(q);\n  res.json(rows);\n}\n\nexport async function POST(request: Request) {\n  try {\n    return Response.json(await save(await request.json()));\n  } catch (err) {\n    return Response.json({ error: (err as Error).message }, { status: 500 });\n  }\n}\n",
    );
    r.commit("login");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(
        found(&ev["new"]),
        vec![
            f("ts/sql-injection", "src/login.ts", 3),
            f("ts/error-details-in-response", "src/login.ts", 11),
        ]
    );
    assert_eq!(ev["new"][0]["source"], "`req.body.login` (line 2)");
}
