//! A pull request is hostile input: it must not be able to change how it is scanned. Each test
//! reproduces an attack on the security scan (issue 15: attributes, odd bytes, padding, excluded
//! paths, self-suppression) and checks that the finding still shows.
//!
//! Other hardening tests live in this module too; these are prefixed `scan_`.

use serde_json::Value;

use crate::support::{RunPrRisk, TestRepo};

/// An AWS access key id, split so this file holds none.
fn key() -> String {
    format!("AKIA{}", "Z3MHDLQ7TR4QWXYV")
}

/// A repository with `src/config.ts` at base, on branch `feature`.
fn repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("src/config.ts", "export const region = 'eu-west-1';\n");
    r.commit("config");
    r.branch("feature");
    r
}

/// (rule, path) of the new findings.
fn new_rules(v: &Value) -> Vec<(String, String)> {
    v["dimensions"]["security"]["evidence"]["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(rule: &str, path: &str) -> (String, String) {
    (rule.to_string(), path.to_string())
}

/// The key is found in `path` and blocks.
fn assert_key_found(r: &TestRepo, path: &str) -> Value {
    let (run, v) = r.score_json(&["--base", "main"]);
    let new = new_rules(&v);
    assert!(
        new.contains(&pair("secrets/aws-access-key", path)),
        "{new:?}\n{}",
        run.stderr
    );
    run.assert_code(1);
    assert!(!run.stdout.contains(&key()[4..]), "the key leaked");
    v
}

#[test]
fn scan_gitattributes_binary_does_not_hide_a_file() {
    for attrs in ["*.ts binary\n", "*.ts -diff\n", "* -text -diff\n"] {
        let r = repo();
        r.write(".gitattributes", attrs);
        r.write(
            "src/config.ts",
            format!(
                "export const region = 'eu-west-1';\nexport const key = '{}';\n",
                key()
            ),
        );
        r.commit("attributes and a key");
        let v = assert_key_found(&r, "src/config.ts");
        // The change set still has the file's lines.
        let files = v["change"]["files"].as_array().unwrap();
        let f = files.iter().find(|f| f["path"] == "src/config.ts").unwrap();
        assert_eq!(f["binary"], false, "{attrs}");
        assert_eq!(f["additions"], 1, "{attrs}");
    }
}

#[test]
fn scan_latin1_and_nul_bytes_do_not_skip_a_file() {
    for odd in [&b"// caf\xe9 au lait\n"[..], &b"// end of table \x00\n"[..]] {
        let r = repo();
        let mut content = b"export const region = 'eu-west-1';\n".to_vec();
        content.extend_from_slice(odd);
        content.extend_from_slice(format!("export const key = '{}';\n", key()).as_bytes());
        r.write("src/config.ts", content);
        r.commit("odd byte and a key");
        assert_key_found(&r, "src/config.ts");
    }
}

#[test]
fn scan_secrets_are_found_in_excluded_paths_and_long_lines() {
    for path in ["dist/app.js", "build/main.js", "public/vendor.min.js"] {
        let r = repo();
        r.write(path, format!("var k=\"{}\";\n", key()));
        r.commit("bundle");
        assert_key_found(&r, path);
    }
    // A minified line of 10 000 characters.
    let r = repo();
    let line = format!(
        "{}var k=\"{}\";{}\n",
        "a=1;".repeat(2000),
        key(),
        "b=2;".repeat(500)
    );
    r.write(
        "src/config.ts",
        format!("export const region = 'eu-west-1';\n{line}"),
    );
    r.commit("long line");
    assert_key_found(&r, "src/config.ts");
}

#[test]
fn scan_padding_past_the_size_limit_does_not_hide_a_secret() {
    let r = repo();
    r.write(".pr-risk.yml", "limits:\n  max-file-size: 2000\n");
    r.commit("small limit");
    r.branch("feature2");
    // 5 kB: over max-file-size (code rules do not run), under the secret scan limit (16×).
    let padding = "// padding padding padding padding padding padding padding padding\n".repeat(70);
    r.write(
        "src/config.ts",
        format!(
            "export const region = 'eu-west-1';\n{padding}export const key = '{}';\n",
            key()
        ),
    );
    r.commit("padded key");
    let (run, v) = r.score_json(&["--base", "feature"]);
    run.assert_code(1);
    let new = new_rules(&v);
    assert!(
        new.contains(&pair("secrets/aws-access-key", "src/config.ts")),
        "{new:?}"
    );
    // …and the code rules that could not run say so.
    assert!(
        new.contains(&pair("security/unscanned-file", "src/config.ts")),
        "{new:?}"
    );

    // Past the secret scan limit too: the file itself is a finding.
    let big = "x".repeat(40_000);
    r.write("data/blob.txt", format!("{big}\n{}\n", key()));
    r.commit("huge");
    let (_, v) = r.score_json(&["--base", "feature"]);
    let list = v["dimensions"]["security"]["evidence"]["new"]
        .as_array()
        .unwrap();
    let f = list
        .iter()
        .find(|f| f["path"] == "data/blob.txt")
        .expect("a finding for the unscannable file");
    assert_eq!(f["rule"], "security/unscanned-file");
    assert_eq!(f["severity"], "high");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("larger than the scan limit (32000 bytes)"));
}

#[test]
fn scan_source_file_binary_by_content_is_a_visible_finding() {
    let r = repo();
    // A .ts file of control bytes: the code rules cannot read it.
    let mut content: Vec<u8> = (0u8..32).cycle().take(4000).collect();
    content
        .extend_from_slice(format!("\neval(req.body.code); const k = '{}';\n", key()).as_bytes());
    r.write("src/loader.ts", content);
    r.commit("binary source");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    let new = new_rules(&v);
    assert!(
        new.contains(&pair("security/unscanned-file", "src/loader.ts")),
        "{new:?}"
    );
    // Secrets are still looked for in its text.
    assert!(
        new.contains(&pair("secrets/aws-access-key", "src/loader.ts")),
        "{new:?}"
    );
    // A real image is not a finding: it is not a source file.
    let r = repo();
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n"
        .iter()
        .copied()
        .chain((0u8..=255).cycle().take(3000))
        .collect();
    r.write("public/logo.png", png);
    r.commit("logo");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(new_rules(&v), vec![]);
}

/// A branch that adds a critical finding and suppresses it itself, with `policy` in the base
/// settings (`None`: the default).
fn self_suppressed(policy: Option<&str>) -> TestRepo {
    let r = TestRepo::new();
    r.write("src/config.ts", "export const region = 'eu-west-1';\n");
    if let Some(p) = policy {
        r.write(
            ".pr-risk.yml",
            format!("security:\n  pr-suppressions: {p}\n"),
        );
    }
    r.commit("config");
    r.branch("feature");
    r.write(
        "src/config.ts",
        format!(
            "export const region = 'eu-west-1';\n// pr-risk-ignore[secrets/aws-access-key]: test key, not real\nexport const key = '{}';\n",
            key()
        ),
    );
    r.commit("key, suppressed");
    r
}

#[test]
fn scan_a_critical_finding_suppressed_by_the_pr_still_blocks_and_is_listed() {
    let r = self_suppressed(None);
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(new_rules(&v), vec![]);
    assert_eq!(ev["suppressed"][0]["rule"], "secrets/aws-access-key");
    assert_eq!(ev["suppressed"][0]["suppressed_by_pr"], true);
    assert_eq!(
        ev["pr_suppressions"],
        serde_json::json!([{
            "rule": "secrets/aws-access-key",
            "path": "src/config.ts",
            "line": 2,
            "reason": "test key, not real",
            "suppresses": 1,
            "policy": "show"
        }])
    );
    assert_eq!(v["gate"]["reasons"][0]["code"], "critical-suppressed-by-pr");
    // The comment lists it with rule, path and reason.
    let md = r.run(&["score", "--base", "main", "--format", "markdown"]);
    assert!(
        md.stdout
            .contains("**Suppressions added by this pull request**"),
        "{}",
        md.stdout
    );
    assert!(md
        .stdout
        .contains("- `secrets/aws-access-key` at `src/config.ts:2` — test key, not real"));
    assert!(!md.stdout.contains(&key()[4..]));
}

#[test]
fn scan_pr_suppressions_allow_and_deny() {
    // `allow` in the base settings: the suppression counts and nothing blocks.
    let r = self_suppressed(Some("allow"));
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(new_rules(&v), vec![]);
    assert_eq!(
        v["dimensions"]["security"]["evidence"]["pr_suppressions"][0]["policy"],
        "allow"
    );
    // `deny`: the suppression is ignored, the key is a new critical finding.
    let r = self_suppressed(Some("deny"));
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(1);
    assert_eq!(
        new_rules(&v),
        vec![pair("secrets/aws-access-key", "src/config.ts")]
    );
    assert_eq!(v["gate"]["reasons"][0]["code"], "new-critical-finding");
    assert_eq!(
        v["dimensions"]["security"]["evidence"]["pr_suppressions"][0]["suppresses"],
        0
    );
    // A suppression that was already at base is not the pull request's.
    let r = TestRepo::new();
    r.write(
        "src/config.ts",
        "// pr-risk-ignore[ts/eval]: the expression comes from our own table\nexport const f = (x) => eval(x);\n",
    );
    r.commit("reviewed eval");
    r.branch("feature");
    r.write(
        "src/config.ts",
        "// pr-risk-ignore[ts/eval]: the expression comes from our own table\nexport const f = (x) => eval(x + '');\n",
    );
    r.commit("touch");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["security"]["evidence"];
    assert_eq!(ev["pr_suppressions"], serde_json::json!([]));
    assert!(ev["suppressed"][0].get("suppressed_by_pr").is_none());
}
