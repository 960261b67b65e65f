//! Dependency changes through the real binary: a bump reaches the files that import the package
//! (generated npm and Cargo workspaces), and known vulnerabilities come from a local stand-in for
//! the OSV API on 127.0.0.1 (exact requests, batching, paging, the cache, failures, `--offline`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::server::{Reply, Server};
use crate::support::{command, Run, RunPrRisk, TestRepo};

/// Replace the working tree (all but `.git`) with a fixture.
fn replace_with(r: &TestRepo, fixture: &str) {
    for e in std::fs::read_dir(r.path()).unwrap().flatten() {
        if e.file_name() != ".git" && e.file_name() != ".pr-risk.yml" {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    r.copy_fixture(fixture);
}

/// The npm fixture scenario (zod 3 → 4, typescript downgraded, esbuild added with an install
/// script, lodash removed, left-pad moved to git, supports-color bumped under chalk), with
/// `config` committed at the base.
fn npm_pr(config: &str) -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture("lockfiles/npm/base");
    r.write(".pr-risk.yml", config);
    r.commit("base");
    r.branch("feature");
    replace_with(&r, "lockfiles/npm/head");
    r.commit("bump dependencies");
    r
}

/// `pr-risk score --format json --base main` with the network allowed (the support module sets
/// `PR_RISK_OFFLINE=1` for every other test).
fn score_online(r: &TestRepo, extra: &[&str]) -> (Run, Value) {
    let out = command(r.path())
        .env_remove("PR_RISK_OFFLINE")
        .args(["score", "--format", "json", "--base", "main"])
        .args(extra)
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let v = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, v)
}

fn osv_config(server: &Server) -> String {
    format!("security:\n  osv-url: {}\n", server.url())
}

fn change<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["dependencies"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no change of {name}: {:#}", report["dependencies"]))
}

fn note_codes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap().to_string())
        .collect()
}

/// The queries of a `querybatch` body as `name@version` (with `#token` when paged).
fn queries(body: &Value) -> Vec<String> {
    body["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            assert_eq!(q["package"]["ecosystem"], "npm");
            let mut s = format!(
                "{}@{}",
                q["package"]["name"].as_str().unwrap(),
                q["version"].as_str().unwrap()
            );
            if let Some(t) = q["page_token"].as_str() {
                s.push('#');
                s.push_str(t);
            }
            s
        })
        .collect()
}

const ZOD_ADVISORY: &str = "GHSA-zod4-test-0001";
const TS_ADVISORY: &str = "GHSA-tsc5-test-0002";

/// The OSV stand-in: zod 4.0.1 has one advisory (on a second page), both typescript versions
/// share another; everything else is clean.
fn osv_handler(req: &crate::server::Request) -> Reply {
    match (req.method.as_str(), req.route()) {
        ("POST", "/v1/querybatch") => {
            let body = req.json();
            let results: Vec<Value> = queries(&body)
                .iter()
                .map(|q| match q.as_str() {
                    "zod@4.0.1" => json!({"next_page_token": "p2"}),
                    "zod@4.0.1#p2" => {
                        json!({"vulns": [{"id": ZOD_ADVISORY, "modified": "2025-01-01T00:00:00Z"}]})
                    }
                    "typescript@5.2.2" | "typescript@5.3.3" => {
                        json!({"vulns": [{"id": TS_ADVISORY, "modified": "2025-01-01T00:00:00Z"}]})
                    }
                    _ => json!({}),
                })
                .collect();
            Reply::json(200, json!({ "results": results }))
        }
        ("GET", p) if p == format!("/v1/vulns/{ZOD_ADVISORY}") => Reply::json(
            200,
            json!({
                "id": ZOD_ADVISORY,
                "summary": "Prototype pollution in schema parsing",
                "aliases": ["CVE-2099-0001"],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                "affected": [{"package": {"name": "zod", "ecosystem": "npm"},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": "4.0.0"}, {"fixed": "4.0.2"}]}]}]
            }),
        ),
        ("GET", p) if p == format!("/v1/vulns/{TS_ADVISORY}") => Reply::json(
            200,
            json!({
                "id": TS_ADVISORY,
                "summary": "Path traversal in tsserver",
                "database_specific": {"severity": "MODERATE"},
                "affected": [{"package": {"name": "typescript", "ecosystem": "npm"}}]
            }),
        ),
        _ => Reply::json(404, json!({"code": 5, "message": "Not Found"})),
    }
}

#[test]
fn advisories_come_from_exact_osv_requests() {
    let server = Server::start(osv_handler);
    let r = npm_pr(&osv_config(&server));
    let (run, report) = score_online(&r, &["--no-cache"]);
    // The critical advisory zod 4.0.1 introduces blocks (fail-on-critical-security).
    run.assert_code(1);
    let reqs = server.requests();
    let lines: Vec<String> = reqs.iter().map(|q| q.line()).collect();
    assert_eq!(
        lines[..2],
        ["POST /v1/querybatch", "POST /v1/querybatch"],
        "{lines:?}"
    );
    // The head versions a change brings in and the base versions they replace, public-registry
    // packages only (left-pad moved to git; lodash is gone), sorted; then the paged one alone.
    assert_eq!(
        queries(&reqs[0].json()),
        [
            "esbuild@0.19.12",
            "supports-color@7.1.0",
            "supports-color@7.2.0",
            "typescript@5.2.2",
            "typescript@5.3.3",
            "zod@3.22.4",
            "zod@4.0.1"
        ]
    );
    assert_eq!(queries(&reqs[1].json()), ["zod@4.0.1#p2"]);
    for q in &reqs[..2] {
        assert_eq!(q.header("content-type"), Some("application/json"));
        assert_eq!(
            q.header("user-agent"),
            Some(format!("pr-risk/{}", env!("CARGO_PKG_VERSION")).as_str())
        );
    }
    let mut gets: Vec<&str> = lines[2..].iter().map(String::as_str).collect();
    gets.sort();
    assert_eq!(
        gets,
        [
            format!("GET /v1/vulns/{TS_ADVISORY}"),
            format!("GET /v1/vulns/{ZOD_ADVISORY}")
        ]
    );
    assert_eq!(reqs.len(), 4, "one detail request per distinct advisory");

    let zod = change(&report, "zod");
    assert_eq!(
        zod["advisories"],
        json!([{
            "id": ZOD_ADVISORY,
            "aliases": ["CVE-2099-0001"],
            "summary": "Prototype pollution in schema parsing",
            "severity": "critical",
            "severity_from": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H = 9.8",
            "cvss_score": 9.8,
            "url": format!("https://osv.dev/vulnerability/{ZOD_ADVISORY}"),
            "fixed": ["4.0.2"],
            "introduced": true
        }])
    );
    // The downgraded typescript keeps an advisory its base version had: not introduced.
    let ts = &change(&report, "typescript")["advisories"][0];
    assert_eq!(
        (
            ts["id"].as_str(),
            ts["severity"].as_str(),
            ts["introduced"].as_bool()
        ),
        (Some(TS_ADVISORY), Some("medium"), Some(false))
    );
    assert_eq!(ts["severity_from"], "database: MODERATE");
    assert_eq!(
        report["dependencies"]["advisories"],
        json!({"status": "checked", "source": server.url(), "queried": 7, "cached": 0,
               "found": 2, "introduced": 1})
    );
    assert!(!note_codes(&report).contains(&"advisories-not-checked".to_string()));

    // The comment and the terminal show them.
    let md = r.run(&[
        "score",
        "--base",
        "main",
        "--format",
        "markdown",
        "--no-cache",
    ]);
    assert!(
        md.stdout
            .contains("- `zod` 3.22.4 → 4.0.1 (major): imported by 3 files\n"),
        "{}",
        md.stdout
    );
}

/// (rule, severity, path, line) of each new security finding.
fn security_findings(report: &Value) -> Vec<(String, String, String, u64)> {
    report["dimensions"]["security"]["evidence"]["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn sec(rule: &str, severity: &str, path: &str, line: u64) -> (String, String, String, u64) {
    (rule.into(), severity.into(), path.into(), line)
}

/// What the head introduces is a security finding at the manifest line that declares the
/// package: the vulnerable zod (critical, from its CVSS vector), esbuild's new install script,
/// left-pad's new git source, the typescript downgrade. typescript's advisory affects its base
/// version too: not new, no finding.
#[test]
fn dependency_changes_are_security_findings_at_the_manifest_line() {
    let server = Server::start(osv_handler);
    let r = npm_pr(&osv_config(&server));
    let (run, report) = score_online(&r, &["--no-cache"]);
    run.assert_code(1);
    assert_eq!(
        security_findings(&report),
        [
            sec(
                "deps/vulnerable-version",
                "critical",
                "packages/web/package.json",
                7
            ),
            sec("deps/git-source", "medium", "packages/ui/package.json", 5),
            sec(
                "deps/install-script",
                "medium",
                "packages/web/package.json",
                10
            ),
            sec("deps/downgrade", "low", "package.json", 9),
        ]
    );
    let security = &report["dimensions"]["security"];
    let new = security["evidence"]["new"].as_array().unwrap();
    let msg = new[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("zod 3.22.4 → 4.0.1") && msg.contains(ZOD_ADVISORY),
        "{msg}"
    );
    assert!(
        !new.iter()
            .any(|f| f["message"].as_str().unwrap().contains(TS_ADVISORY)),
        "an advisory of the base version is not new"
    );
    assert!(new[1]["message"].as_str().unwrap().contains("git "));
    assert!(new[3]["message"]
        .as_str()
        .unwrap()
        .contains("typescript is downgraded 5.3.3 → 5.2.2 (dev-only)"));
    // Scored with the same weights: 4 + 1 + 1 + 0.25 = 6.25 → min(100, 125).
    assert_eq!(security["score"], 100);
    assert_eq!(security["evidence"]["counts"]["critical"], 1);
    // The gate names the vulnerability with an action.
    let reasons = report["gate"]["reasons"].as_array().unwrap();
    let vuln = reasons
        .iter()
        .find(|g| {
            g["message"]
                .as_str()
                .unwrap()
                .starts_with("new finding `deps/vulnerable-version` (critical)")
        })
        .unwrap_or_else(|| panic!("{reasons:#?}"));
    let action = vuln["action"].as_str().unwrap();
    assert!(
        action.contains(&format!(
            "Upgrade `zod` to a version outside {ZOD_ADVISORY} (fixed in 4.0.2"
        )),
        "{action}"
    );
    assert!(!action.contains("pr-risk-ignore"), "{action}");

    // SARIF points at the manifest lines.
    let out = command(r.path())
        .env_remove("PR_RISK_OFFLINE")
        .args(["score", "--format", "sarif", "--base", "main", "--no-cache"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = crate::local::sarif_validator()
        .iter_errors(&doc)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut results: Vec<(String, String, u64)> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let l = &x["locations"][0]["physicalLocation"];
            (
                x["ruleId"].as_str().unwrap().to_string(),
                l["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                l["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    results.sort();
    assert_eq!(
        results,
        [
            ("deps/downgrade".to_string(), "package.json".to_string(), 9),
            (
                "deps/git-source".into(),
                "packages/ui/package.json".into(),
                5
            ),
            (
                "deps/install-script".into(),
                "packages/web/package.json".into(),
                10
            ),
            (
                "deps/vulnerable-version".into(),
                "packages/web/package.json".into(),
                7
            ),
        ]
    );
    // The comment lists them with the other security findings.
    let md = command(r.path())
        .env_remove("PR_RISK_OFFLINE")
        .args([
            "score",
            "--format",
            "markdown",
            "--base",
            "main",
            "--no-cache",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("deps/vulnerable-version"), "{md}");
}

/// Offline, nothing is asked: the note says so, and no vulnerability is claimed or denied.
#[test]
fn offline_gives_the_note_and_no_vulnerability_finding() {
    let server = Server::start(osv_handler);
    let r = npm_pr(&osv_config(&server));
    let (_, report) = score_online(&r, &["--no-cache", "--offline"]);
    assert!(server.requests().is_empty());
    assert!(note_codes(&report).contains(&"advisories-not-checked".to_string()));
    let rules: Vec<String> = security_findings(&report)
        .into_iter()
        .map(|f| f.0)
        .collect();
    // What the lock files say alone is still found; vulnerabilities need the database.
    assert_eq!(
        rules,
        ["deps/git-source", "deps/install-script", "deps/downgrade"]
    );
}

#[test]
fn answers_are_cached_for_a_day() {
    let server = Server::start(osv_handler);
    let r = npm_pr(&osv_config(&server));
    let cache = r.path().join(".cache-dir");
    let dir = cache.to_str().unwrap();
    let (first, a) = score_online(&r, &["--cache-dir", dir]);
    // Blocked by the critical advisory zod 4.0.1 introduces.
    first.assert_code(1);
    let asked = server.requests().len();
    assert_eq!(asked, 4);
    assert!(cache.join("osv-v1.bin").is_file());
    let (second, b) = score_online(&r, &["--cache-dir", dir]);
    second.assert_code(1);
    assert_eq!(
        server.requests().len(),
        asked,
        "the second run asks nothing"
    );
    assert_eq!(b["dependencies"]["advisories"]["cached"], 7);
    assert_eq!(
        change(&a, "zod")["advisories"],
        change(&b, "zod")["advisories"]
    );
    // Another source (a mirror) is another cache key: it is asked.
    let other = Server::start(osv_handler);
    r.write(".pr-risk.yml", osv_config(&other));
    let (run, _) = score_online(&r, &["--cache-dir", dir]);
    run.assert_code(1);
    assert_eq!(other.requests().len(), 4);
    assert_eq!(server.requests().len(), asked);
}

#[test]
fn querybatch_is_split_at_the_api_limit() {
    let server = Server::start(|req| match req.route() {
        "/v1/querybatch" => {
            let n = req.json()["queries"].as_array().unwrap().len();
            Reply::json(200, json!({ "results": vec![json!({}); n] }))
        }
        _ => Reply::json(404, json!({})),
    });
    let r = TestRepo::new();
    r.write(".pr-risk.yml", osv_config(&server));
    r.write("package.json", "{\n  \"name\": \"big\"\n}\n");
    r.commit("base");
    r.branch("feature");
    // A lock file of 1,500 packages appears: every one is new.
    let mut entries = String::new();
    for i in 0..1500 {
        entries.push_str(&format!(
            ",\n    \"node_modules/pkg-{i:04}\": {{\n      \"version\": \"1.0.{}\",\n      \"resolved\": \"https://registry.npmjs.org/pkg-{i:04}/-/pkg-{i:04}-1.0.{}.tgz\"\n    }}",
            i % 7,
            i % 7
        ));
    }
    r.write(
        "package-lock.json",
        format!("{{\n  \"name\": \"big\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{\n    \"\": {{ \"name\": \"big\" }}{entries}\n  }}\n}}\n"),
    );
    r.commit("add a lock file");
    let (run, report) = score_online(&r, &["--no-cache"]);
    run.assert_code(0);
    let reqs = server.requests();
    assert_eq!(
        reqs.iter().map(|q| q.line()).collect::<Vec<_>>(),
        ["POST /v1/querybatch", "POST /v1/querybatch"]
    );
    let (a, b) = (queries(&reqs[0].json()), queries(&reqs[1].json()));
    assert_eq!((a.len(), b.len()), (1000, 500));
    let expected: Vec<String> = (0..1500)
        .map(|i| format!("pkg-{i:04}@1.0.{}", i % 7))
        .collect();
    assert_eq!([a, b].concat(), expected, "every version once, in order");
    assert_eq!(report["dependencies"]["advisories"]["queried"], 1500);
    assert_eq!(
        report["dependencies"]["changes"].as_array().unwrap().len(),
        1500
    );
}

#[test]
fn an_unreachable_database_is_a_note_not_a_failure() {
    // Every answer a 503: retried by the policy, then given up.
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = Server::start(move |_| {
        n2.fetch_add(1, Ordering::SeqCst);
        Reply::json(503, json!({"error": "down"}))
    });
    let r = npm_pr(&osv_config(&server));
    let (run, report) = score_online(&r, &["--no-cache"]);
    run.assert_code(0);
    assert_eq!(
        n.load(Ordering::SeqCst),
        3,
        "three attempts (the OSV policy)"
    );
    let adv = &report["dependencies"]["advisories"];
    assert_eq!(adv["status"], "failed");
    assert_eq!(
        adv["reason"],
        "POST /v1/querybatch: HTTP 503 (after 3 attempts)"
    );
    assert!(note_codes(&report).contains(&"advisories-not-checked".to_string()));
    assert!(change(&report, "zod")["advisories"]
        .as_array()
        .unwrap()
        .is_empty());
    // Nothing listening at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = npm_pr(&format!(
        "security:\n  osv-url: http://127.0.0.1:{closed}\n"
    ));
    let (run, report) = score_online(&r, &["--no-cache"]);
    run.assert_code(0);
    assert_eq!(report["dependencies"]["advisories"]["status"], "failed");
    assert!(report["dependencies"]["advisories"]["reason"]
        .as_str()
        .unwrap()
        .contains("could not connect"));
    // A malformed answer is a failure too, never "no vulnerabilities".
    let bad = Server::start(|_| Reply::json(200, json!({"results": []})));
    let r = npm_pr(&osv_config(&bad));
    let (_, report) = score_online(&r, &["--no-cache"]);
    assert_eq!(
        report["dependencies"]["advisories"]["reason"],
        "POST /v1/querybatch: 0 results for 7 queries"
    );
}

#[test]
fn offline_and_turned_off_ask_nothing_and_say_so() {
    let server = Server::start(osv_handler);
    let r = npm_pr(&osv_config(&server));
    let (run, report) = score_online(&r, &["--offline"]);
    run.assert_code(0);
    assert_eq!(
        report["dependencies"]["advisories"],
        json!({"status": "skipped", "reason": "--offline"})
    );
    assert!(note_codes(&report).contains(&"advisories-not-checked".to_string()));
    let r = npm_pr(&format!("{}  osv: false\n", osv_config(&server)));
    let (_, report) = score_online(&r, &[]);
    assert_eq!(
        report["dependencies"]["advisories"]["reason"],
        "`security.osv` is false"
    );
    assert_eq!(server.requests().len(), 0);
    // Nothing changed in the dependencies: nothing to check, no note.
    let quiet = TestRepo::new();
    quiet.copy_fixture("lockfiles/npm/base");
    quiet.write(".pr-risk.yml", osv_config(&server));
    quiet.commit("base");
    quiet.branch("feature");
    quiet.write("packages/web/src/index.ts", "export const x = 1;\n");
    quiet.commit("code only");
    let (_, report) = score_online(&quiet, &[]);
    assert_eq!(report["dependencies"]["advisories"]["status"], "not-needed");
    assert!(report["notes"].as_array().unwrap().is_empty());
    assert_eq!(server.requests().len(), 0);
}

/// A generated npm workspace: `packages` packages of `files` files each; file `j` of package `i`
/// imports zod when `(i + j) % 3 == 0` (every fourth of those through `zod/v4`, some as tests),
/// lodash when `j % 5 == 1`. Returns the files that import zod, and those that are tests.
fn npm_workspace(r: &TestRepo, packages: usize, files: usize, zod: &str) -> (Vec<String>, usize) {
    let mut importers = Vec::new();
    let mut tests = 0;
    r.write(
        "package.json",
        "{\n  \"name\": \"mono\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"]\n}\n",
    );
    let mut lock_entries = String::new();
    for i in 0..packages {
        let dir = format!("packages/p{i}");
        let deps = if i % 2 == 0 {
            format!(
                "\"zod\": \"^{}\", \"lodash\": \"^4.17.21\"",
                zod.split('.').next().unwrap()
            )
        } else {
            "\"lodash\": \"^4.17.21\"".to_string()
        };
        r.write(
            &format!("{dir}/package.json"),
            format!("{{\n  \"name\": \"@mono/p{i}\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {{ {deps} }}\n}}\n"),
        );
        lock_entries.push_str(&format!(
            ",\n    \"{dir}\": {{ \"name\": \"@mono/p{i}\", \"version\": \"1.0.0\" }},\n    \"node_modules/@mono/p{i}\": {{ \"resolved\": \"{dir}\", \"link\": true }}"
        ));
        for j in 0..files {
            let test = j % 7 == 6;
            let path = if test {
                format!("{dir}/src/f{j}.test.ts")
            } else {
                format!("{dir}/src/f{j}.ts")
            };
            let mut text = String::new();
            if (i + j) % 3 == 0 {
                let spec = if j % 4 == 0 { "zod/v4" } else { "zod" };
                text.push_str(&format!("import {{ z }} from \"{spec}\";\n"));
                importers.push(path.clone());
                tests += usize::from(test);
            }
            if j % 5 == 1 {
                text.push_str("import fp from \"lodash/fp\";\n");
            }
            if j > 0 {
                text.push_str(&format!("import {{ v{} }} from \"./f{}\";\n", j - 1, j - 1));
            }
            text.push_str(&format!("export const v{j} = {j};\n"));
            r.write(&path, text);
        }
    }
    r.write(
        "package-lock.json",
        format!(
            "{{\n  \"name\": \"mono\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n    \"\": {{ \"name\": \"mono\", \"workspaces\": [\"packages/*\"] }},\n    \"node_modules/zod\": {{ \"version\": \"{zod}\", \"resolved\": \"https://registry.npmjs.org/zod/-/zod-{zod}.tgz\" }},\n    \"node_modules/lodash\": {{ \"version\": \"4.17.21\", \"resolved\": \"https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz\" }}{lock_entries}\n  }}\n}}\n"
        ),
    );
    importers.sort();
    (importers, tests)
}

#[test]
fn a_bump_reaches_the_files_that_import_it_in_a_generated_npm_workspace() {
    let r = TestRepo::new();
    npm_workspace(&r, 6, 14, "3.22.4");
    r.commit("workspace");
    r.branch("feature");
    let (importers, tests) = npm_workspace(&r, 6, 14, "4.0.1");
    r.commit("zod 4");
    let (run, report) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let changes = report["dependencies"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let zod = &changes[0];
    assert_eq!(
        (
            zod["name"].as_str(),
            zod["kind"].as_str(),
            zod["semver"].as_str()
        ),
        (Some("zod"), Some("upgraded"), Some("major"))
    );
    let got: Vec<String> = serde_json::from_value(zod["importers"].clone()).unwrap();
    assert_eq!(got, importers);
    assert_eq!(zod["test_importers"], tests);
    assert!(
        got.len() > 20 && tests > 0,
        "{} importers, {tests} tests",
        got.len()
    );
    // Every manifest that declares it (the even packages), with its line.
    let manifests: BTreeSet<String> = zod["direct"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["line"], 4);
            d["manifest"].as_str().unwrap().to_string()
        })
        .collect();
    let expected: BTreeSet<String> = (0..6)
        .step_by(2)
        .map(|i| format!("packages/p{i}/package.json"))
        .collect();
    assert_eq!(manifests, expected);
    let text = r.run(&["score", "--base", "main"]);
    assert!(
        text.stdout.contains(&format!(
            "  - zod 3.22.4 → 4.0.1 (major): imported by {} files ({tests} test",
            importers.len()
        )),
        "{}",
        text.stdout
    );
    // Impact counts the production importers as reached, and says so per manifest.
    let production = importers.len() - tests;
    let impact = &report["dimensions"]["impact"]["evidence"];
    assert_eq!(impact["reached_files"], production, "{impact:#}");
    let lines: Vec<&Value> = impact["dependencies"].as_array().unwrap().iter().collect();
    assert_eq!(
        lines.len(),
        1,
        "counted under the first changed manifest: {lines:#?}"
    );
    assert_eq!(lines[0]["file"], "packages/p0/package.json");
    assert_eq!(lines[0]["importers"], production);
}

/// A lock-file-only bump (the range is unchanged) reaches the files that import the package:
/// runtime importers count 1, type-only importers `impact.type-weight`, tests apart. A
/// `package.json` change of its own `version` field reaches nothing.
#[test]
fn a_direct_bump_reaches_its_importers_in_impact() {
    let lock = |zod: &str| {
        format!(
            "{{\n  \"name\": \"app\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n    \"\": {{ \"name\": \"app\", \"version\": \"1.0.0\", \"dependencies\": {{ \"zod\": \"^3.22.0\" }} }},\n    \"node_modules/zod\": {{ \"version\": \"{zod}\", \"resolved\": \"https://registry.npmjs.org/zod/-/zod-{zod}.tgz\" }}\n  }}\n}}\n"
        )
    };
    let manifest = |version: &str| {
        format!(
            "{{\n  \"name\": \"app\",\n  \"version\": \"{version}\",\n  \"dependencies\": {{\n    \"zod\": \"^3.22.0\"\n  }}\n}}\n"
        )
    };
    let r = TestRepo::new();
    r.write("package.json", manifest("1.0.0"));
    r.write("package-lock.json", lock("3.22.4"));
    r.write(
        "src/schema.ts",
        "import { z } from \"zod\";\nexport const User = z.object({ name: z.string() });\n",
    );
    r.write(
        "src/types.ts",
        "import type { ZodType } from \"zod\";\nexport type Schema = ZodType;\n",
    );
    r.write(
        "src/app.ts",
        "import { User } from \"./schema\";\nexport const parse = (x: unknown) => User.parse(x);\n",
    );
    r.write(
        "src/schema.test.ts",
        "import { z } from \"zod\";\nexport const t = z.string();\n",
    );
    r.commit("app");
    r.branch("feature");
    r.write("package-lock.json", lock("3.23.8"));
    r.commit("zod 3.23.8");
    let (run, report) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let dim = &report["dimensions"]["impact"];
    let ev = &dim["evidence"];
    assert_eq!(
        (
            ev["reached_files"].as_u64(),
            ev["type_only_files"].as_u64(),
            ev["reach"].as_f64(),
            ev["tests_affected"].as_u64()
        ),
        (Some(2), Some(1), Some(1.25), Some(1)),
        "{ev:#}"
    );
    let line = "zod 3.22.4 → 3.23.8 (minor): imported by 2 files (1 only for types)";
    assert_eq!(ev["dependencies"][0]["summary"], line);
    assert_eq!(ev["dependencies"][0]["tests"], 1);
    let lock_file = ev["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "package-lock.json")
        .unwrap_or_else(|| panic!("{ev:#}"));
    assert_eq!(lock_file["data"], line);
    assert_eq!(lock_file["reached"], 2);
    assert!(dim["score"].as_u64().unwrap() > 0);
    assert!(
        dim["summary"]
            .as_str()
            .unwrap()
            .starts_with("the changed dependencies reach 2 of "),
        "{}",
        dim["summary"]
    );
    let md = r.run(&["score", "--base", "main", "--format", "markdown"]);
    assert!(
        md.stdout.contains(&format!(
            "- `package-lock.json` — {line}; reaches 2 files, and 1 test file\n"
        )),
        "{}",
        md.stdout
    );

    // Above a threshold, the gate's reach reason names the bump.
    let (_, gated) = r.score_json(&["--base", "main", "--threshold", "0"]);
    let reach = gated["gate"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == "reach")
        .unwrap_or_else(|| panic!("{:#}", gated["gate"]));
    assert_eq!(
        reach["message"].as_str().unwrap(),
        format!("the changed dependencies reach 2 production files: {line}")
    );
    assert!(reach["action"]
        .as_str()
        .unwrap()
        .starts_with("read the release notes of `zod`"));

    // The package's own version field: nothing is reached, no dependency line.
    r.checkout("main");
    r.branch("release");
    r.write("package.json", manifest("1.0.1"));
    r.commit("release 1.0.1");
    let (run, report) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &report["dimensions"]["impact"]["evidence"];
    assert_eq!(ev["reached_files"], 0, "{ev:#}");
    assert!(ev["dependencies"].is_null(), "{ev:#}");
    assert!(report["dependencies"]["changes"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// A generated Cargo workspace: `crates` crates; crate `i` depends on serde_json (renamed as
/// `json` in the last crate) when `i % 2 == 0`; its file `j` uses it when `j % 2 == 0`.
fn cargo_workspace(r: &TestRepo, crates: usize, files: usize, version: &str) -> Vec<String> {
    let mut importers = Vec::new();
    r.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
    );
    let mut lock = String::from("version = 4\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
    lock.push_str(&format!("\n[[package]]\nname = \"serde_json\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\ndependencies = [\n \"itoa\",\n]\n"));
    for i in 0..crates {
        let uses = i % 2 == 0;
        let renamed = uses && i == crates - 1;
        let dep = match (uses, renamed) {
            (true, false) => "serde_json = \"1.0\"\n",
            (true, true) => "json = { package = \"serde_json\", version = \"1.0\" }\n",
            _ => "",
        };
        r.write(
            &format!("crates/c{i}/Cargo.toml"),
            format!("[package]\nname = \"c{i}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{dep}"),
        );
        let mut lib = String::new();
        for j in 0..files {
            lib.push_str(&format!("pub mod m{j};\n"));
            let path = format!("crates/c{i}/src/m{j}.rs");
            let text = if uses && j % 2 == 0 {
                importers.push(path.clone());
                let krate = if renamed { "json" } else { "serde_json" };
                format!(
                    "use {krate}::Value;\n\npub fn f(v: &Value) -> bool {{\n    v.is_null()\n}}\n"
                )
            } else {
                "pub fn f() {}\n".to_string()
            };
            r.write(&path, text);
        }
        r.write(&format!("crates/c{i}/src/lib.rs"), lib);
        lock.push_str(&format!(
            "\n[[package]]\nname = \"c{i}\"\nversion = \"0.1.0\"\n"
        ));
        if uses {
            lock.push_str("dependencies = [\n \"serde_json\",\n]\n");
        }
    }
    r.write("Cargo.lock", lock);
    importers.sort();
    importers
}

#[test]
fn a_bump_reaches_the_files_that_use_the_crate_in_a_generated_cargo_workspace() {
    let r = TestRepo::new();
    cargo_workspace(&r, 5, 6, "1.0.108");
    r.commit("workspace");
    r.branch("feature");
    let importers = cargo_workspace(&r, 5, 6, "1.0.120");
    r.commit("serde_json 1.0.120");
    let (run, report) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let sj = change(&report, "serde_json");
    assert_eq!(
        (
            sj["kind"].as_str(),
            sj["semver"].as_str(),
            sj["breaking"].as_bool()
        ),
        (Some("upgraded"), Some("patch"), Some(false))
    );
    let got: Vec<String> = serde_json::from_value(sj["importers"].clone()).unwrap();
    assert_eq!(got, importers, "{sj:#}");
    assert_eq!(got.len(), 9, "three crates (one renaming it) × three files");
    assert_eq!(sj["direct"].as_array().unwrap().len(), 3);
    assert_eq!(
        report["dependencies"]["changes"].as_array().unwrap().len(),
        1
    );
    // Impact: the bump (Cargo.lock only) reaches the nine files that use the crate.
    let impact = &report["dimensions"]["impact"]["evidence"];
    assert_eq!(impact["reached_files"], 9, "{impact:#}");
    assert_eq!(
        impact["dependencies"][0]["summary"],
        "serde_json 1.0.108 → 1.0.120 (patch): imported by 9 files"
    );
}

#[test]
fn a_lock_file_that_cannot_be_read_is_a_coded_note() {
    let r = TestRepo::new();
    r.copy_fixture("lockfiles/pnpm9/base");
    r.commit("base");
    r.branch("feature");
    r.write("pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters: [\n");
    r.commit("broken lock file");
    let (run, report) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let notes = report["notes"].as_array().unwrap();
    let note = notes.iter().find(|n| n["code"] == "lockfile").unwrap();
    assert_eq!(
        note["message"],
        "pnpm-lock.yaml (head): not YAML: line 3: did not find expected node content; its dependency changes are not reported"
    );
    assert!(report["dependencies"]["changes"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(Path::new(&r.path().join("pnpm-lock.yaml")).is_file());
}

/// A workspace crate that gains a build script, and a new procedural-macro crate: code that runs
/// at build time, a `deps/install-script` finding each (no network needed).
#[test]
fn new_build_time_code_is_an_install_script_finding() {
    let r = TestRepo::new();
    r.copy_fixture("lockfiles/cargo/base");
    r.commit("base");
    r.branch("feature");
    replace_with(&r, "lockfiles/cargo/head");
    r.commit("build script, proc macro, bumps");
    let (_, report) = r.score_json(&["--base", "main"]);
    let found: Vec<(String, String, String, u64)> = security_findings(&report)
        .into_iter()
        .filter(|f| f.0.starts_with("deps/"))
        .collect();
    assert_eq!(
        found,
        [
            sec("deps/install-script", "medium", "crates/core/build.rs", 1),
            sec(
                "deps/install-script",
                "medium",
                "crates/macros/Cargo.toml",
                1
            ),
        ]
    );
    let new = report["dimensions"]["security"]["evidence"]["new"]
        .as_array()
        .unwrap();
    let messages: Vec<&str> = new
        .iter()
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.starts_with("crate "))
        .collect();
    assert_eq!(
        messages,
        [
            "crate shop-core gained a build script crates/core/build.rs: its code runs at build time",
            "crate shop-macros (new) became a procedural macro: its code runs at build time"
        ]
    );
}

#[test]
fn a_lock_file_over_the_parse_limit_is_read_and_not_called_unparsed() {
    // Lock files are far larger than source files; the parse limit is for source code.
    let r = npm_pr("limits:\n  max-file-size: 64\n");
    let (_, report) = score_online(&r, &["--no-cache", "--offline"]);
    assert_eq!(change(&report, "zod")["to"], "4.0.1", "{report:#}");
    let notes = report["notes"].to_string();
    assert!(!notes.contains("package-lock.json: larger than"), "{notes}");
}
