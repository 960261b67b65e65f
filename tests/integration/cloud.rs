//! Cloud sync: `pr-risk score --sync` (and the action) against a local stand-in for the Massu API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::server::{Reply, Server};
use crate::support::{command, Run, TestRepo};

const KEY: &str = "mk_test_5ecr3t_key";

fn repo(config: &str) -> TestRepo {
    let r = TestRepo::new();
    r.write("src/lib/pricing.ts", "export const price = 1;\n")
        .write(
            "src/cart.ts",
            "import { price } from './lib/pricing';\nexport const cart = price;\n",
        )
        .write(".pr-risk.yml", config);
    r.commit("initial");
    r.branch("feature");
    r.write("src/lib/pricing.ts", "export const price = 2;\n");
    r.commit("change price");
    r
}

fn sync(r: &TestRepo, server: &Server, extra_args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = command(r.path());
    c.args([
        "score",
        "--format",
        "json",
        "--base",
        "main",
        "--sync",
        "--repo-name",
        "acme/shop",
        "--pr-title",
        "Change price",
    ])
    .args(extra_args)
    .env("MASSU_API_URL", server.url())
    .env("MASSU_API_KEY", KEY);
    for (k, v) in env {
        c.env(k, v);
    }
    if !extra_args.contains(&"--pr") {
        c.args(["--pr", "7"]);
    }
    let out = c.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(KEY) && !run.stderr.contains(KEY),
        "the key leaked:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    // The report is never lost: it is on stdout whatever happened to the sync.
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("no report on stdout ({e}): {}", run.stderr));
    assert!(v["composite"].is_object());
    run
}

const FAST: &str = "cloud:\n  timeout-seconds: 4\n";

fn created() -> Reply {
    Reply::json(201, json!({"id": "rec_123", "risk_score": 10}))
}

#[test]
fn success_sends_the_exact_request() {
    let r = repo(FAST);
    let server = Server::start(|_| created());
    let run = sync(&r, &server, &[], &[]);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("synced to the Massu cloud as record rec_123"),
        "{}",
        run.stderr
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let q = &reqs[0];
    assert_eq!(q.line(), "POST /api/v1/risk/prs");
    assert_eq!(
        q.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(q.header("content-type"), Some("application/json"));
    assert_eq!(
        q.header("user-agent"),
        Some(format!("pr-risk/{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let key = q.header("idempotency-key").unwrap();
    assert_eq!(key.len(), 64);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
    let body = q.json();
    let head = r.head().to_string();
    for (field, kind) in [
        ("repo", "string"),
        ("pr_number", "number"),
        ("pr_title", "string"),
        ("risk_score", "number"),
        ("impact_score", "number"),
        ("regression_score", "score"),
        ("security_score", "score"),
        ("coupling_score", "score"),
        ("files_changed", "number"),
        ("rating", "string"),
        ("blocked", "bool"),
        ("threshold", "number"),
        ("base_sha", "string"),
        ("head_sha", "string"),
        ("head_ref", "string"),
        ("dimensions", "object"),
        ("findings", "object"),
        ("violations", "object"),
        ("tool", "object"),
    ] {
        let v = &body[field];
        let ok = match kind {
            "string" => v.is_string(),
            "number" => v.is_u64(),
            "null" => v.is_null(),
            // A dimension score: a number, or null when the dimension is unavailable.
            "score" => v.is_null() || v.is_u64(),
            "bool" => v.is_boolean(),
            _ => v.is_object(),
        };
        assert!(ok, "{field} should be {kind}: {body:#}");
    }
    assert_eq!(body["repo"], "acme/shop");
    assert_eq!(body["pr_number"], 7);
    assert_eq!(body["head_sha"], head.as_str());
    assert_eq!(body["head_ref"], "feature");
    assert_eq!(body["files_changed"], 1);
    // One commit of history: the prior model scores regression.
    assert_eq!(body["dimensions"]["regression"]["available"], true);
    assert!(body["regression_score"].is_u64(), "{body:#}");
    assert_eq!(
        body["findings"],
        json!({"total": 0, "truncated": false, "items": []})
    );
    assert_eq!(body["tool"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn unauthorized_forbidden_and_rejected_say_what_to_do() {
    let r = repo(FAST);
    let s401 = Server::start(|_| {
        Reply::json(401, json!({"error": "invalid key", "code": "unauthorized"}))
    });
    let run = sync(&r, &s401, &[], &[]);
    run.assert_code(0); // a failed sync never changes the gate
    assert!(
        run.stderr.contains("invalid or has been revoked"),
        "{}",
        run.stderr
    );
    assert_eq!(s401.requests().len(), 1, "401 is not retried");

    let s403 = Server::start(|_| {
        Reply::json(
            403,
            json!({"error": "key lacks risk:write", "code": "forbidden"}),
        )
    });
    let run = sync(&r, &s403, &[], &[]);
    assert!(
        run.stderr.contains("lacks the permission") && run.stderr.contains("key lacks risk:write"),
        "{}",
        run.stderr
    );

    let s422 = Server::start(|_| {
        Reply::json(
            422,
            json!({"error": "pr_title is too long", "code": "validation_failed"}),
        )
    });
    let run = sync(&r, &s422, &[], &[]);
    assert!(
        run.stderr
            .contains("rejected the record (422 validation_failed): pr_title is too long"),
        "{}",
        run.stderr
    );
    assert_eq!(s422.requests().len(), 1);
}

#[test]
fn rate_limit_waits_for_retry_after() {
    let r = repo(FAST);
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = Server::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::json(429, json!({"error": "slow down", "code": "rate_limited"}))
                .header("retry-after", "1")
        } else {
            created()
        }
    });
    let run = sync(&r, &server, &[], &[]);
    run.assert_code(0);
    assert!(run.stderr.contains("2 attempt(s)"), "{}", run.stderr);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].header("idempotency-key"),
        reqs[1].header("idempotency-key")
    );
}

#[test]
fn a_server_error_is_retried_with_the_same_idempotency_key() {
    let r = repo(FAST);
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = Server::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::text(500, "oops")
        } else {
            created()
        }
    });
    sync(&r, &server, &[], &[]).assert_code(0);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, reqs[1].body);
    assert_eq!(
        reqs[0].header("idempotency-key"),
        reqs[1].header("idempotency-key")
    );
}

#[test]
fn a_hanging_server_times_out_within_the_budget() {
    let r = repo("cloud:\n  timeout-seconds: 1.5\n");
    let server = Server::start(|_| Reply::Hang);
    let run = sync(&r, &server, &[], &[]);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("Massu API is unavailable: the request timed out"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_malformed_answer_is_an_error_that_says_a_rerun_is_safe() {
    let r = repo(FAST);
    let server = Server::start(|_| Reply::text(200, "<html>gateway</html>"));
    let run = sync(&r, &server, &[], &[]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("not the expected JSON"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("re-run is safe"), "{}", run.stderr);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_rerun_of_the_same_commit_uses_the_same_idempotency_key() {
    let r = repo(FAST);
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s2 = seen.clone();
    let server = Server::start(move |req| {
        let key = req.header("idempotency-key").unwrap_or("").to_string();
        let mut seen = s2.lock().unwrap();
        let status = if seen.contains(&key) { 200 } else { 201 };
        seen.push(key);
        Reply::json(status, json!({"id": "rec_1"}))
    });
    sync(&r, &server, &[], &[]).assert_code(0);
    let run = sync(&r, &server, &[], &[]);
    assert!(run.stderr.contains("(HTTP 200"), "{}", run.stderr);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1]);
    // Another PR number: another record.
    sync(&r, &server, &["--pr", "8"], &[]);
    assert_ne!(
        server.requests()[2].header("idempotency-key"),
        Some(seen[0].as_str())
    );
}

#[test]
fn sync_required_fails_the_run_and_api_key_env_names_the_variable() {
    let r = repo("cloud:\n  timeout-seconds: 4\n  sync-required: true\n");
    let server = Server::start(|_| Reply::json(401, json!({"error": "nope"})));
    sync(&r, &server, &[], &[]).assert_code(3);

    let ok = Server::start(|_| created());
    let mut c = command(r.path());
    c.args([
        "score",
        "--format",
        "json",
        "--base",
        "main",
        "--sync",
        "--api-key-env",
        "MY_KEY",
    ])
    .env("MASSU_API_URL", ok.url())
    .env("MY_KEY", "mk_other_key");
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ok.requests()[0].header("authorization"),
        Some("Bearer mk_other_key")
    );
}

#[test]
fn the_action_warns_on_a_failed_sync_and_keeps_its_gate() {
    let r = repo("cloud:\n  timeout-seconds: 2\n");
    let base = r.repo.revparse_single("main").unwrap().id().to_string();
    let runner = tempfile::tempdir().unwrap();
    let event = json!({"pull_request": {"number": 3, "title": "t", "base": {"sha": base}, "head": {"sha": r.head().to_string(), "ref": "feature"}}});
    std::fs::write(runner.path().join("event.json"), event.to_string()).unwrap();
    let server = Server::start(|req| {
        if req.route() == "/api/v1/risk/prs" {
            Reply::text(503, "down")
        } else {
            Reply::json(404, json!({"message": "Not Found"}))
        }
    });
    let out = command(runner.path())
        .arg("action")
        .env("GITHUB_WORKSPACE", r.path())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", runner.path().join("event.json"))
        .env("GITHUB_OUTPUT", runner.path().join("out"))
        .env("INPUT_MASSU-API-KEY", KEY)
        .env("INPUT_API-URL", server.url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("::warning title=Massu cloud sync failed::the Massu API is unavailable"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY));
    let outputs = std::fs::read_to_string(runner.path().join("out")).unwrap();
    assert!(outputs.contains("blocked=false"));
    let reqs = server.requests();
    assert!(reqs.len() >= 2, "retried: {}", reqs.len());
    assert_eq!(reqs[0].json()["pr_number"], 3);
}

// ---------------------------------------------------------------------------------------------
// `pr-risk cloud check` and `pr-risk cloud list`: the exact requests, and the key never printed.

/// Run `pr-risk cloud …` in `dir` against `server` with the key in MASSU_API_KEY.
fn cloud(dir: &std::path::Path, server: &Server, args: &[&str]) -> Run {
    let out = command(dir)
        .arg("cloud")
        .args(args)
        .env("MASSU_API_URL", server.url())
        .env("MASSU_API_KEY", KEY)
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(KEY) && !run.stderr.contains(KEY),
        "the key leaked:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

fn record(n: u64) -> Value {
    json!({"id": format!("rec_{n}"), "repo": "acme/shop", "pr_number": n, "risk_score": 71,
        "rating": "high", "blocked": true, "head_sha": format!("{n:040x}"),
        "created_at": "2026-01-02T03:04:05Z", "pr_title": format!("PR {n}")})
}

#[test]
fn cloud_check_validates_the_key_and_prints_the_rate_limit_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(|_| {
        Reply::json(200, json!([record(1)]))
            .header("x-ratelimit-limit", "600")
            .header("x-ratelimit-remaining", "599")
            .header("x-ratelimit-reset", "1767225600")
    });
    let run = cloud(dir.path(), &server, &["check"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!(
            "Massu API: {}/api/v1/risk/prs\nkey: accepted (HTTP 200)\nrate limit:\n  x-ratelimit-limit: 600\n  x-ratelimit-remaining: 599\n  x-ratelimit-reset: 1767225600\n",
            server.url()
        )
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, "/api/v1/risk/prs?per_page=1");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(reqs[0].header("accept"), Some("application/json"));
    assert!(reqs[0].body.is_empty());
}

#[test]
fn cloud_check_exits_2_when_the_api_refuses_the_key_and_3_when_it_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let refused = Server::start(|_| Reply::json(401, json!({"error": "invalid key"})));
    let run = cloud(dir.path(), &refused, &["check"]);
    run.assert_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("the Massu API key was rejected (401 Unauthorized)"),
        "{}",
        run.stderr
    );
    assert_eq!(refused.requests().len(), 1, "a refusal is not retried");

    let scope = Server::start(|_| Reply::json(403, json!({"error": "missing scope risk:read"})));
    let run = cloud(dir.path(), &scope, &["check"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("403 Forbidden): missing scope risk:read"),
        "{}",
        run.stderr
    );

    // No key at all: a usage error that names the variable, and no request.
    let out = command(dir.path())
        .args(["cloud", "check", "--api-key-env", "ACME_KEY"])
        .env("MASSU_API_URL", refused.url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Massu API key in $ACME_KEY"));
    assert_eq!(refused.requests().len(), 1);

    // Unreachable (a port nobody listens on), inside a repository whose settings bound the wait.
    let r = repo("cloud:\n  timeout-seconds: 2\n");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = command(r.path())
        .args([
            "cloud",
            "check",
            "--api-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("MASSU_API_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the Massu API is unavailable: could not connect"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY));
}

#[test]
fn cloud_list_sends_the_filters_and_follows_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(|req| {
        if req.path.contains("page=2") {
            Reply::json(200, json!({"data": [record(3), record(4)]}))
        } else {
            Reply::json(200, json!({"data": [record(1), record(2)]})).header(
                "link",
                "</api/v1/risk/prs?repo=acme%2Fshop&rating=high&per_page=3&page=2>; rel=\"next\"",
            )
        }
    });
    let run = cloud(
        dir.path(),
        &server,
        &[
            "list",
            "--repo",
            "acme/shop",
            "--rating",
            "high",
            "--limit",
            "3",
            "--format",
            "json",
        ],
    );
    run.assert_code(0);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        vec![
            "/api/v1/risk/prs?repo=acme%2Fshop&rating=high&per_page=3",
            "/api/v1/risk/prs?repo=acme%2Fshop&rating=high&per_page=3&page=2",
        ]
    );
    for r in server.requests() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    let listed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        listed,
        json!([record(1), record(2), record(3)]),
        "capped at --limit"
    );
}

#[test]
fn cloud_list_asks_for_the_next_page_while_pages_come_back_full() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(|req| {
        let items: Vec<Value> = if req.path.ends_with("page=2") {
            (101..=110).map(record).collect()
        } else {
            (1..=100).map(record).collect()
        };
        Reply::json(200, Value::Array(items))
    });
    let run = cloud(dir.path(), &server, &["list", "--limit", "500"]);
    run.assert_code(0);
    assert_eq!(
        server
            .requests()
            .iter()
            .map(|r| r.path.clone())
            .collect::<Vec<_>>(),
        vec![
            "/api/v1/risk/prs?per_page=100",
            "/api/v1/risk/prs?per_page=100&page=2"
        ],
        "a short page is the last"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 110);
    assert_eq!(
        lines[0],
        format!(
            "acme/shop#1   71 high      blocked  {}  2026-01-02T03:04:05Z  PR 1",
            &format!("{:040x}", 1)[..7]
        )
    );
}

#[test]
fn cloud_list_refuses_a_next_link_to_another_origin_and_bad_filters() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(|_| {
        Reply::json(200, json!([record(1)])).header(
            "link",
            "<https://elsewhere.example/api/v1/risk/prs?page=2>; rel=\"next\"",
        )
    });
    let run = cloud(dir.path(), &server, &["list"]);
    run.assert_code(3);
    assert!(
        run.stderr
            .contains("points to another origin (https://elsewhere.example)"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
    let run = cloud(dir.path(), &server, &["list", "--repo", "shop"]);
    run.assert_code(2);
    assert!(run.stderr.contains("is not `owner/name`"), "{}", run.stderr);
    let run = cloud(dir.path(), &server, &["list", "--rating", "severe"]);
    run.assert_code(2);
    assert_eq!(server.requests().len(), 1);
}
