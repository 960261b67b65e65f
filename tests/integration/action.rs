//! `pr-risk action` end to end: the real binary in action mode against a local stand-in for the
//! GitHub API, a real git repository and a synthetic event file. Every request body is validated
//! against GitHub's published OpenAPI schema for its operation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::server::{Reply, Request, Server};
use crate::support::{command, Run, TestRepo};

pub(crate) const OWNER_REPO: &str = "acme/shop";
pub(crate) const PR: u64 = 7;

// ---------------------------------------------------------------------------------------------
// A fake GitHub with state: comments, check runs, and scripted failures.

#[derive(Default)]
pub(crate) struct Gh {
    /// `GET /user` answers this login; `None`: 403 like an installation token.
    login: Option<String>,
    forbid_checks: bool,
    forbid_comments: bool,
    /// The next N check-run creates answer 502 without creating anything.
    check_create_502: usize,
    /// The next N check-run creates answer 429 with `retry-after: 1`.
    check_create_429: usize,
    /// The next N comment creates store the comment and then answer 502 (the answer got lost).
    comment_create_lands_then_502: usize,
    pub(crate) comments: Vec<Value>,
    next_id: u64,
    /// `GET /repos/acme/shop/pulls/7` answers this (404 when `None`).
    pub(crate) pull: Option<Value>,
    /// The status `POST …/pulls/7/requested_reviewers` answers (0: 201).
    pub(crate) reviewers_status: u16,
}

impl Gh {
    fn comment(&mut self, login: &str, body: &str) {
        self.next_id += 1;
        self.comments
            .push(json!({"id": self.next_id, "user": {"login": login}, "body": body}));
    }
}

pub(crate) fn fake_github(state: Arc<Mutex<Gh>>) -> Server {
    let base = Arc::new(Mutex::new(String::new()));
    let b2 = base.clone();
    let server = Server::start(move |req: &Request| {
        let mut s = state.lock().unwrap();
        let route = req.route().to_string();
        let comments_route = format!("/repos/{OWNER_REPO}/issues/{PR}/comments");
        match (req.method.as_str(), route.as_str()) {
            ("GET", "/user") => match &s.login {
                Some(l) => Reply::json(200, json!({"login": l, "id": 1, "type": "User"})),
                None => Reply::json(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                ),
            },
            ("GET", r) if r == comments_route => {
                let page: usize = query(&req.path, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let per: usize = query(&req.path, "per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(30);
                let items: Vec<Value> = s
                    .comments
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .cloned()
                    .collect();
                let mut reply = Reply::json(200, Value::Array(items));
                if page * per < s.comments.len() {
                    let next = format!(
                        "<{}{comments_route}?per_page={per}&page={}>; rel=\"next\"",
                        b2.lock().unwrap(),
                        page + 1
                    );
                    reply = reply.header("link", &next);
                }
                reply
            }
            ("POST", r) if r == comments_route => {
                if s.forbid_comments {
                    return Reply::json(
                        403,
                        json!({"message": "Resource not accessible by integration"}),
                    );
                }
                let body = req.json()["body"].as_str().unwrap().to_string();
                let author = s
                    .login
                    .clone()
                    .unwrap_or_else(|| "github-actions[bot]".into());
                s.comment(&author, &body);
                let id = s.next_id;
                if s.comment_create_lands_then_502 > 0 {
                    s.comment_create_lands_then_502 -= 1;
                    return Reply::text(502, "Bad Gateway");
                }
                Reply::json(
                    201,
                    json!({"id": id, "html_url": format!("https://github.com/{OWNER_REPO}/pull/{PR}#issuecomment-{id}")}),
                )
            }
            ("PATCH", r) if r.starts_with(&format!("/repos/{OWNER_REPO}/issues/comments/")) => {
                if s.forbid_comments {
                    return Reply::json(
                        403,
                        json!({"message": "Resource not accessible by integration"}),
                    );
                }
                let id: u64 = r.rsplit('/').next().unwrap().parse().unwrap();
                let body = req.json()["body"].as_str().unwrap().to_string();
                match s.comments.iter_mut().find(|c| c["id"] == id) {
                    Some(c) => {
                        c["body"] = json!(body);
                        Reply::json(200, json!({"id": id}))
                    }
                    None => Reply::json(404, json!({"message": "Not Found"})),
                }
            }
            ("POST", r) if r == format!("/repos/{OWNER_REPO}/check-runs") => {
                if s.forbid_checks {
                    return Reply::json(
                        403,
                        json!({"message": "Resource not accessible by integration"}),
                    );
                }
                if s.check_create_429 > 0 {
                    s.check_create_429 -= 1;
                    return Reply::json(429, json!({"message": "API rate limit exceeded"}))
                        .header("retry-after", "1")
                        .header("x-ratelimit-remaining", "0");
                }
                if s.check_create_502 > 0 {
                    s.check_create_502 -= 1;
                    return Reply::text(502, "Bad Gateway");
                }
                Reply::json(
                    201,
                    json!({"id": 4242, "html_url": "https://github.com/acme/shop/runs/4242"}),
                )
            }
            ("PATCH", r) if r == format!("/repos/{OWNER_REPO}/check-runs/4242") => {
                Reply::json(200, json!({"id": 4242}))
            }
            ("GET", r) if r == format!("/repos/{OWNER_REPO}/pulls/{PR}") => match &s.pull {
                Some(p) => Reply::json(200, p.clone()),
                None => Reply::json(404, json!({"message": "Not Found"})),
            },
            ("POST", r) if r == format!("/repos/{OWNER_REPO}/pulls/{PR}/requested_reviewers") => {
                match s.reviewers_status {
                    0 | 201 => Reply::json(201, json!({"number": PR})),
                    status => Reply::json(
                        status,
                        json!({"message": "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the acme/shop repository."}),
                    ),
                }
            }
            _ => Reply::json(404, json!({"message": "Not Found"})),
        }
    });
    *base.lock().unwrap() = server.url();
    server
}

fn query<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

// ---------------------------------------------------------------------------------------------
// Schema validation against GitHub's OpenAPI description: ../shared/github-rest/operations.json
// beside the clone, or the file $PR_RISK_GITHUB_OPENAPI names (the project's GitHub CI extracts
// it from the `@octokit/openapi` npm package, where operations.json was taken from).

fn operations() -> Value {
    let p = std::env::var_os("PR_RISK_GITHUB_OPENAPI")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/github-rest/operations.json")
        });
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every request with a body validates against its operation's `requestBody` schema.
pub(crate) fn assert_bodies_valid(requests: &[Request]) {
    let mut ops = operations();
    // Operations the trimmed operations.json beside the clone lacks (the full description CI
    // reads has them): their request schema as GitHub's OpenAPI description states it.
    let paths = ops["paths"].as_object_mut().unwrap();
    paths
        .entry("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
        .or_insert_with(|| {
            json!({"post": {"requestBody": {"content": {"application/json": {"schema": {
                "type": "object",
                "properties": {
                    "reviewers": {"type": "array", "items": {"type": "string"}},
                    "team_reviewers": {"type": "array", "items": {"type": "string"}}
                }
            }}}}}})
        });
    for r in requests.iter().filter(|r| !r.body.is_empty()) {
        let (template, op) = ops["paths"]
            .as_object()
            .unwrap()
            .iter()
            .find_map(|(t, item)| {
                let op = item.get(r.method.to_ascii_lowercase())?;
                path_matches(t, r.route()).then_some((t.clone(), op.clone()))
            })
            .unwrap_or_else(|| panic!("{} is not an operation in operations.json", r.line()));
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{template} has no JSON request body schema"
        );
        let validator = jsonschema::validator_for(schema).expect("schema compiles");
        let body = r.json();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} body does not match {template}: {errors:#?}\n{body:#}",
            r.line()
        );
    }
}

fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

// ---------------------------------------------------------------------------------------------
// A repository with a pull request, and a runner-like environment.

pub(crate) struct Pr {
    pub(crate) repo: TestRepo,
    pub(crate) base: String,
    pub(crate) head: String,
    /// Event file, outputs and step summary live here (outside the repository).
    pub(crate) runner: tempfile::TempDir,
}

/// `main` with a small TypeScript app; `feature` changes a widely imported module.
pub(crate) fn pr_repo(base_config: Option<&str>, head_config: Option<&str>) -> Pr {
    let r = TestRepo::new();
    r.write("src/lib/pricing.ts", "export const price = 1;\n")
        .write(
            "src/cart.ts",
            "import { price } from './lib/pricing';\nexport const cart = price;\n",
        )
        .write(
            "src/checkout.ts",
            "import { cart } from './cart';\nexport const total = cart;\n",
        )
        .write(
            "src/index.ts",
            "import { total } from './checkout';\nconsole.log(total);\n",
        );
    if let Some(c) = base_config {
        r.write(".pr-risk.yml", c);
    }
    let base = r.commit("initial").to_string();
    r.branch("feature");
    r.write(
        "src/lib/pricing.ts",
        "export const price = 2;\nexport const tax = 0.2;\n",
    );
    if let Some(c) = head_config {
        r.write(".pr-risk.yml", c);
    }
    let head = r.commit("change pricing").to_string();
    let runner = tempfile::tempdir().unwrap();
    let event = json!({
        "action": "synchronize",
        "number": PR,
        "pull_request": {
            "number": PR,
            "title": "Change pricing",
            "base": {"sha": base, "ref": "main", "repo": {"full_name": OWNER_REPO}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": OWNER_REPO}},
        },
        "repository": {"full_name": OWNER_REPO},
    });
    std::fs::write(runner.path().join("event.json"), event.to_string()).unwrap();
    Pr {
        repo: r,
        base,
        head,
        runner,
    }
}

pub(crate) struct ActionRun {
    pub(crate) run: Run,
    pub(crate) outputs: String,
    pub(crate) summary: String,
}

impl Pr {
    pub(crate) fn env(&self, api: &str) -> Vec<(String, String)> {
        let rp = |n: &str| self.runner.path().join(n).to_string_lossy().into_owned();
        let mut v: Vec<(String, String)> = [
            ("GITHUB_ACTIONS", "true".to_string()),
            (
                "GITHUB_WORKSPACE",
                self.repo.path().to_string_lossy().into_owned(),
            ),
            ("GITHUB_EVENT_NAME", "pull_request".into()),
            ("GITHUB_EVENT_PATH", rp("event.json")),
            ("GITHUB_REPOSITORY", OWNER_REPO.into()),
            ("GITHUB_API_URL", api.to_string()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            // The merge commit: must never be used as head.
            (
                "GITHUB_SHA",
                "0123456789abcdef0123456789abcdef01234567".into(),
            ),
            ("GITHUB_OUTPUT", rp("output")),
            ("GITHUB_STEP_SUMMARY", rp("summary")),
            // As the runner sets them from action.yml: empty defaults.
            ("INPUT_GITHUB-TOKEN", "ghs_testtoken123".into()),
            ("INPUT_BLOCK-THRESHOLD", String::new()),
            ("INPUT_POST-COMMENT", String::new()),
            ("INPUT_FAIL-ON-CRITICAL-SECURITY", String::new()),
            ("INPUT_CONFIG", String::new()),
            ("INPUT_MASSU-API-KEY", String::new()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        v.sort();
        v
    }

    pub(crate) fn action(&self, api: &str, extra: &[(&str, &str)]) -> ActionRun {
        let _ = std::fs::remove_file(self.runner.path().join("output"));
        let _ = std::fs::remove_file(self.runner.path().join("summary"));
        let mut env: BTreeMap<String, String> = self.env(api).into_iter().collect();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        // Run from elsewhere: the workspace comes from GITHUB_WORKSPACE, as in the container.
        let mut c = command(self.runner.path());
        c.arg("action").envs(&env);
        let out = c.output().expect("run pr-risk action");
        let read =
            |n: &str| std::fs::read_to_string(self.runner.path().join(n)).unwrap_or_default();
        ActionRun {
            run: Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            outputs: read("output"),
            summary: read("summary"),
        }
    }

    /// Rewrite the event: its `action`, the pull request's labels, and for a `labeled` event the
    /// label and who applied it (`sender.login`).
    pub(crate) fn set_event(&self, action: &str, labels: &[&str], labeled: Option<(&str, &str)>) {
        let mut event = json!({
            "action": action,
            "number": PR,
            "pull_request": {
                "number": PR,
                "title": "Change pricing",
                "base": {"sha": self.base, "ref": "main", "repo": {"full_name": OWNER_REPO}},
                "head": {"sha": self.head, "ref": "feature", "repo": {"full_name": OWNER_REPO}},
                "labels": labels.iter().map(|l| json!({"name": l, "color": "ededed"})).collect::<Vec<_>>(),
            },
            "repository": {"full_name": OWNER_REPO},
            "sender": {"login": "author"},
        });
        if let Some((label, who)) = labeled {
            event["label"] = json!({"name": label});
            event["sender"] = json!({"login": who});
        }
        std::fs::write(self.runner.path().join("event.json"), event.to_string()).unwrap();
    }

    pub(crate) fn report(&self) -> Value {
        let p = self.repo.path().join("pr-risk-report.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }
}

pub(crate) fn outputs_map(s: &str) -> BTreeMap<String, String> {
    s.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn first_run_creates_the_check_and_comment_rerun_updates_in_place() {
    let pr = pr_repo(None, None);
    let gh = Arc::new(Mutex::new(Gh {
        login: Some("pr-risk-bot".into()),
        ..Gh::default()
    }));
    // Someone else's comment that quotes the marker must not be taken over.
    gh.lock()
        .unwrap()
        .comment("mallory", "<!-- pr-risk:sticky-comment --> fake");
    let server = fake_github(gh.clone());

    let a = pr.action(&server.url(), &[("RUST_LOG", "trace")]);
    a.run.assert_code(0);
    assert_eq!(
        server.lines(),
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            "GET /user".to_string(),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("POST /repos/{OWNER_REPO}/issues/{PR}/comments"),
        ]
    );
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer ghs_testtoken123")
    );
    let check = reqs[0].json();
    let report = pr.report();
    let score = report["composite"]["score"].as_u64().unwrap();
    assert!(score > 0, "{report:#}");
    assert_eq!(check["name"], "PR Risk Score");
    assert_eq!(check["head_sha"], pr.head.as_str());
    assert_eq!(check["status"], "completed");
    assert_eq!(check["conclusion"], "success");
    let rating = report["composite"]["rating"].as_str().unwrap();
    let label = format!("{}{}", rating[..1].to_uppercase(), &rating[1..]);
    assert_eq!(
        check["output"]["title"],
        format!("Risk {score}/100 ({label})")
    );
    assert!(check["output"]["summary"]
        .as_str()
        .unwrap()
        .contains("| Impact |"));
    assert_eq!(report["revisions"]["base"]["sha"], pr.base.as_str());
    assert_eq!(report["revisions"]["head"]["sha"], pr.head.as_str());

    let body = reqs[3].json()["body"].as_str().unwrap().to_string();
    assert!(
        body.starts_with("<!-- pr-risk:sticky-comment -->"),
        "{body}"
    );
    assert!(
        body.contains(&format!("Risk Score: {score}/100 ({label})")),
        "{body}"
    );
    assert!(
        body.contains("| Dimension | Score | Weight | Contribution |"),
        "{body}"
    );
    // A short history: regression is scored by the prior model, and the comment says so.
    assert!(body.contains("### Regression"), "{body}");
    assert!(body.contains("(the prior model)"), "{body}");
    assert!(
        body.contains(&format!(
            "(https://github.com/{OWNER_REPO}/blob/{}/src/lib/pricing.ts)",
            pr.head
        )),
        "links point at the head commit: {body}"
    );
    assert!(
        body.contains("3 of its 3 dependents use it (1 direct)"),
        "{body}"
    );
    assert!(body.chars().count() < 65_536);

    // Outputs, step summary, report file.
    let out = outputs_map(&a.outputs);
    assert_eq!(out["risk-score"], score.to_string());
    assert_eq!(out["rating"], rating);
    assert_eq!(out["blocked"], "false");
    assert_eq!(
        out["impact-score"],
        report["dimensions"]["impact"]["score"].to_string()
    );
    for d in ["regression", "security", "coupling"] {
        let want = match &report["dimensions"][d]["score"] {
            serde_json::Value::Null => String::new(),
            v => v.to_string(),
        };
        assert_eq!(out[format!("{d}-score").as_str()], want, "{d}");
    }
    assert_eq!(out["report-json"], "pr-risk-report.json");
    assert_eq!(
        a.outputs
            .lines()
            .map(|l| l.split('=').next().unwrap())
            .collect::<Vec<_>>(),
        vec![
            "risk-score",
            "rating",
            "blocked",
            "verdict",
            "overridden-by",
            "impact-score",
            "regression-score",
            "security-score",
            "coupling-score",
            "report-json",
            "affected-tests",
            "suggested-reviewers"
        ]
    );
    assert!(
        a.summary.contains(&format!("Risk Score: {score}/100")),
        "{}",
        a.summary
    );
    assert!(!a.summary.contains("pr-risk:sticky-comment"));
    assert!(
        !a.run.stdout.contains("ghs_testtoken123") && !a.run.stderr.contains("ghs_testtoken123")
    );

    // Re-run: the comment is updated in place, not posted again.
    let b = pr.action(&server.url(), &[]);
    b.run.assert_code(0);
    let lines = server.lines();
    assert_eq!(
        lines[4..].to_vec(),
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            "GET /user".to_string(),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("PATCH /repos/{OWNER_REPO}/issues/comments/2"),
        ]
    );
    assert_bodies_valid(&server.requests());
    let s = gh.lock().unwrap();
    assert_eq!(s.comments.len(), 2, "mallory's and ours");
    assert_eq!(
        s.comments[0]["body"],
        "<!-- pr-risk:sticky-comment --> fake"
    );
}

#[test]
fn the_comment_is_found_on_a_later_page_with_a_bot_login() {
    let pr = pr_repo(None, None);
    let gh = Arc::new(Mutex::new(Gh::default())); // GET /user → 403: an installation token
    {
        let mut s = gh.lock().unwrap();
        for i in 0..130 {
            s.comment("reviewer", &format!("comment {i}"));
        }
        s.comment(
            "github-actions[bot]",
            "<!-- pr-risk:sticky-comment -->\nold",
        );
    }
    let server = fake_github(gh.clone());
    pr.action(&server.url(), &[]).run.assert_code(0);
    let lines = server.lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with(&format!("/issues/{PR}/comments")))
            .count(),
        2,
        "two pages listed: {lines:#?}"
    );
    assert!(
        lines.contains(&format!("PATCH /repos/{OWNER_REPO}/issues/comments/131")),
        "{lines:#?}"
    );
    assert!(!lines.contains(&format!("POST /repos/{OWNER_REPO}/issues/{PR}/comments")));
    assert_bodies_valid(&server.requests());
}

#[test]
fn post_comment_false_posts_no_comment() {
    let pr = pr_repo(None, None);
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    pr.action(&server.url(), &[("INPUT_POST-COMMENT", "false")])
        .run
        .assert_code(0);
    assert_eq!(
        server.lines(),
        vec![format!("POST /repos/{OWNER_REPO}/check-runs")]
    );
}

#[test]
fn a_read_only_token_falls_back_to_annotations_summary_and_outputs() {
    let pr = pr_repo(None, None);
    let server = fake_github(Arc::new(Mutex::new(Gh {
        forbid_checks: true,
        forbid_comments: true,
        ..Gh::default()
    })));
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(0);
    assert!(
        a.run
            .stdout
            .contains("::warning title=pr-risk::could not create the check run"),
        "{}",
        a.run.stdout
    );
    assert!(a.run.stdout.contains("`checks: write`"), "{}", a.run.stdout);
    assert!(
        a.run.stdout.contains("`pull-requests: write`"),
        "{}",
        a.run.stdout
    );
    assert!(a.summary.contains("Risk Score:"));
    assert_eq!(outputs_map(&a.outputs)["blocked"], "false");
    // No retries of a 403 that is not a rate limit.
    assert_eq!(
        server
            .lines()
            .iter()
            .filter(|l| l.contains("check-runs"))
            .count(),
        1
    );
}

#[test]
fn github_5xx_is_retried_and_a_lost_comment_create_is_not_repeated() {
    let pr = pr_repo(None, None);
    let gh = Arc::new(Mutex::new(Gh {
        login: Some("github-actions[bot]".into()),
        check_create_502: 1,
        comment_create_lands_then_502: 1,
        ..Gh::default()
    }));
    let server = fake_github(gh.clone());
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(0);
    let lines = server.lines();
    assert_eq!(
        lines,
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            "GET /user".to_string(),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("POST /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("PATCH /repos/{OWNER_REPO}/issues/comments/1"),
        ]
    );
    assert_eq!(gh.lock().unwrap().comments.len(), 1, "posted exactly once");
    assert_bodies_valid(&server.requests());
}

#[test]
fn blocked_exits_1_with_a_failing_check_and_the_input_wins_over_the_config() {
    let pr = pr_repo(Some("threshold: 100\n"), None);
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let a = pr.action(
        &server.url(),
        &[
            ("INPUT_BLOCK-THRESHOLD", "0"),
            ("INPUT_POST-COMMENT", "false"),
        ],
    );
    a.run.assert_code(1);
    let check = server.requests()[0].json();
    assert_eq!(check["conclusion"], "failure");
    assert!(check["output"]["title"]
        .as_str()
        .unwrap()
        .ends_with("— blocked"));
    assert_eq!(outputs_map(&a.outputs)["blocked"], "true");
    assert!(
        a.run.stdout.contains("::error title=Risk"),
        "{}",
        a.run.stdout
    );
}

#[test]
fn advisory_mode_posts_everything_with_a_neutral_check_and_never_fails() {
    let pr = pr_repo(Some("threshold: 0\nmode: advisory\n"), None);
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(0);
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    let check = reqs[0].json();
    assert_eq!(check["conclusion"], "neutral");
    let title = check["output"]["title"].as_str().unwrap();
    assert!(title.ends_with(" — advisory: would block"), "{title}");
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("Advisory mode, not enforced: this would block:\n\n- ✗ risk score"),
        "{summary}"
    );
    let out = outputs_map(&a.outputs);
    assert_eq!(out["blocked"], "false");
    assert_eq!(out["verdict"], "advisory");
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("**Advisory mode, not enforced**: this would block:"),
        "{body}"
    );
    assert!(body.contains("What drives the score, and what would lower it:"));
    let g = &pr.report()["gate"];
    assert_eq!(
        (&g["mode"], &g["verdict"], &g["would_block"]),
        (&json!("advisory"), &json!("advisory"), &json!(true))
    );
    assert!(
        a.run.stdout.contains("::warning title=Risk"),
        "{}",
        a.run.stdout
    );
    // The input wins over the configuration: `mode: gate` enforces the same result.
    let b = pr.action(&server.url(), &[("INPUT_MODE", "gate")]);
    b.run.assert_code(1);
    let check = server
        .requests()
        .into_iter()
        .rfind(|r| r.line() == format!("POST /repos/{OWNER_REPO}/check-runs"))
        .unwrap()
        .json();
    assert_eq!(check["conclusion"], "failure");
    assert_eq!(outputs_map(&b.outputs)["verdict"], "blocked");
}

#[test]
fn the_override_label_passes_a_block_and_records_who_applied_it_everywhere() {
    // The base blocks everything. The pull request's own settings name a label it carries
    // (`wip`): they are not the settings it is scored with, so that label overrides nothing.
    let pr = pr_repo(
        Some("threshold: 0\n"),
        Some("threshold: 0\noverride-label: wip\n"),
    );
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let cloud = Server::start(|_| Reply::json(201, json!({"id": "rec_1"})));
    let cloud_url = cloud.url();
    let env = [
        ("INPUT_MASSU-API-KEY", "mk_test_key"),
        ("INPUT_API-URL", cloud_url.as_str()),
    ];

    // `labeled`: the label was just applied, by `lead`.
    pr.set_event(
        "labeled",
        &["wip", "pr-risk:accepted"],
        Some(("pr-risk:accepted", "lead")),
    );
    let a = pr.action(&server.url(), &env);
    a.run.assert_code(0);
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    let check = reqs[0].json();
    assert_eq!(check["conclusion"], "success");
    let title = check["output"]["title"].as_str().unwrap();
    assert!(title.ends_with(" — overridden by @lead"), "{title}");
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("Block overridden: @&#8203;lead applied the label `pr-risk:accepted`, so this passes; without it, it would block:\n\n- ✗ risk score"),
        "{summary}"
    );
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(body.contains("🔓 Block overridden"), "{body}");
    assert!(
        body.contains("**Block overridden**: @&#8203;lead applied the label `pr-risk:accepted`, so this passes; without it, it would block:\n- risk score"),
        "{body}"
    );
    let out = outputs_map(&a.outputs);
    assert_eq!(
        (
            out["blocked"].as_str(),
            out["verdict"].as_str(),
            out["overridden-by"].as_str()
        ),
        ("false", "overridden", "lead")
    );
    let report = pr.report();
    assert_eq!(report["gate"]["verdict"], "overridden");
    assert_eq!(report["gate"]["would_block"], true);
    assert_eq!(
        report["gate"]["override"],
        json!({"label": "pr-risk:accepted", "actor": "lead", "applied": true})
    );
    assert_eq!(report["gate"]["headline"], "overridden by @lead");
    assert!(
        a.run.stdout.contains("::warning title=Risk"),
        "{}",
        a.run.stdout
    );
    let sent = cloud.requests();
    assert_eq!(sent.len(), 1);
    let record = sent[0].json();
    assert_eq!(record["verdict"], "overridden");
    assert_eq!(record["blocked"], false);
    assert_eq!(record["would_block"], true);
    assert_eq!(
        record["override"],
        json!({"label": "pr-risk:accepted", "actor": "lead", "applied": true})
    );
    assert_eq!(record["reasons"][0]["code"], "score-above-threshold");
    let labeled_key = sent[0].header("idempotency-key").unwrap().to_string();

    // A later push (`synchronize`): the label is still on the pull request; who applied it is
    // not in this event, and the record says so.
    pr.set_event("synchronize", &["pr-risk:accepted"], None);
    let b = pr.action(&server.url(), &env);
    b.run.assert_code(0);
    let out = outputs_map(&b.outputs);
    assert_eq!(out["verdict"], "overridden");
    assert_eq!(out["overridden-by"], "");
    let report = pr.report();
    assert_eq!(
        report["gate"]["override"],
        json!({"label": "pr-risk:accepted", "actor": null, "applied": true})
    );
    let check = server
        .requests()
        .into_iter()
        .rfind(|r| r.line() == format!("POST /repos/{OWNER_REPO}/check-runs"))
        .unwrap()
        .json();
    assert!(check["output"]["title"]
        .as_str()
        .unwrap()
        .ends_with(" — overridden by the label `pr-risk:accepted`"));
    let sent = cloud.requests();
    assert_eq!(sent[1].json()["override"]["actor"], Value::Null);
    assert_ne!(sent[1].header("idempotency-key").unwrap(), labeled_key);

    // `unlabeled`: the label is gone and the block is back. The PR's own `wip` label, named by
    // its own settings, changes nothing.
    pr.set_event("unlabeled", &["wip"], Some(("pr-risk:accepted", "lead")));
    let c = pr.action(&server.url(), &env);
    c.run.assert_code(1);
    assert_eq!(outputs_map(&c.outputs)["verdict"], "blocked");
    let report = pr.report();
    assert_eq!(report["gate"]["verdict"], "blocked");
    assert!(
        report["gate"].get("override").is_none(),
        "{:#}",
        report["gate"]
    );
    let sent = cloud.requests();
    assert_eq!(sent[2].json()["override"], Value::Null);
}

#[test]
fn critical_paths_lower_the_threshold_and_flag_the_files_for_review() {
    let pr = pr_repo(
        Some("threshold: 95\ncritical-paths: [\"**/auth/**\", \"src/lib/**\"]\ncritical-threshold: 1\n"),
        None,
    );
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(1);
    let report = pr.report();
    let g = &report["gate"];
    assert_eq!(g["threshold"], 1);
    assert_eq!(
        g["critical_paths"],
        json!([{"pattern": "src/lib/**", "files": ["src/lib/pricing.ts"], "files_total": 1}])
    );
    assert_eq!(
        g["threshold_source"]["why"],
        "`critical-threshold` 1: the change touches critical paths (`src/lib/pricing.ts`); the configured `threshold` is 95"
    );
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("> **Critical paths: review carefully.** This change touches `src/lib/**` (`src/lib/pricing.ts`)."),
        "{body}"
    );
    let check = server.requests()[0].json();
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(
        summary
            .contains("**Critical paths: review carefully.** `src/lib/**` (`src/lib/pricing.ts`)"),
        "{summary}"
    );
    assert!(
        summary.contains("Threshold 1: `critical-threshold` 1"),
        "{summary}"
    );
}

#[test]
fn a_pull_request_cannot_lower_its_own_bar() {
    // The base says threshold 0; the PR raises it to 100 for itself. The base wins, with a notice.
    let pr = pr_repo(Some("threshold: 0\n"), Some("threshold: 100\n"));
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(1);
    let report = pr.report();
    assert_eq!(report["gate"]["threshold"], 0);
    assert_eq!(report["config"]["changed_by_pr"], json!([".pr-risk.yml"]));
    assert_eq!(report["config"]["read_from"], pr.base.as_str());
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("This pull request changes pr-risk settings (`.pr-risk.yml`)"),
        "{body}"
    );
    assert!(a
        .summary
        .contains("scored with the settings of the base branch"));
}

#[test]
fn an_empty_input_leaves_the_threshold_to_the_config() {
    let pr = pr_repo(Some("threshold: 0\ngithub:\n  post-comment: false\n"), None);
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(1);
    assert_eq!(pr.report()["gate"]["threshold"], 0);
    assert_eq!(
        server.lines().len(),
        1,
        "post-comment: false from the config"
    );
}

#[test]
fn workflow_dispatch_needs_a_base_input_and_hyphen_or_underscore_spellings_work() {
    let pr = pr_repo(None, None);
    std::fs::write(pr.runner.path().join("event.json"), "{}").unwrap();
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let a = pr.action(&server.url(), &[("GITHUB_EVENT_NAME", "workflow_dispatch")]);
    a.run.assert_code(2);
    assert!(
        a.run.stdout.contains("::error title=pr-risk::"),
        "{}",
        a.run.stdout
    );
    assert!(a.run.stderr.contains("`base` input"), "{}", a.run.stderr);

    let a = pr.action(
        &server.url(),
        &[
            ("GITHUB_EVENT_NAME", "workflow_dispatch"),
            ("INPUT_BASE", "main"),
            ("INPUT_HEAD", "feature"),
            ("INPUT_BLOCK_THRESHOLD", "0"),
        ],
    );
    a.run.assert_code(1);
    assert_eq!(pr.report()["revisions"]["head"]["sha"], pr.head.as_str());
}

#[test]
fn check_run_annotations_go_in_batches_of_50() {
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let token = outlets::secret::Secret::new("ghs_x").unwrap();
    let annotations: Vec<outlets::github::Annotation> = (1..=120)
        .map(|i| outlets::github::Annotation {
            path: format!("src/f{i}.ts"),
            start_line: i,
            end_line: i,
            annotation_level: "warning",
            message: format!("finding {i}"),
            title: "[MEDIUM] ts/rule".into(),
        })
        .collect();
    let run = outlets::github::CheckRun {
        head_sha: "0123456789abcdef0123456789abcdef01234567",
        conclusion: "failure",
        title: "Risk 90/100 (Critical) — blocked".into(),
        summary: "summary".into(),
        annotations,
        details_url: None,
    };
    let out = outlets::http::block_on(async {
        // octocrab's client needs a runtime when it is built.
        let gh = outlets::github::GitHub::new(&server.url(), &token, OWNER_REPO).unwrap();
        gh.publish_check(&run).await
    })
    .unwrap()
    .unwrap();
    assert_eq!(out.requests, 3);
    let reqs = server.requests();
    assert_eq!(
        server.lines(),
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            format!("PATCH /repos/{OWNER_REPO}/check-runs/4242"),
            format!("PATCH /repos/{OWNER_REPO}/check-runs/4242"),
        ]
    );
    let counts: Vec<usize> = reqs
        .iter()
        .map(|r| r.json()["output"]["annotations"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, vec![50, 50, 20]);
    assert_eq!(
        reqs[2].json()["output"]["annotations"][19]["path"],
        "src/f120.ts"
    );
    assert_eq!(reqs[0].json()["conclusion"], "failure");
    assert_bodies_valid(&reqs);
}

#[test]
fn a_workspace_owned_by_another_user_is_trusted_only_in_actions() {
    let pr = pr_repo(None, None);
    let chown = std::process::Command::new("chown")
        .args(["-R", "4242:4242"])
        .arg(pr.repo.path())
        .status();
    if !matches!(chown, Ok(s) if s.success()) || unsafe_geteuid() != 0 {
        eprintln!("skipping: needs root to chown the repository");
        return;
    }
    // The CLI outside Actions refuses it, like git does.
    let r = crate::support::run_in(pr.repo.path(), &["score", "--base", "main"]);
    r.assert_code(2);
    assert!(r.stderr.contains("owned by another user"), "{}", r.stderr);
    // The action, in Actions, on the workspace: trusted.
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let a = pr.action(&server.url(), &[("INPUT_POST-COMMENT", "false")]);
    a.run.assert_code(0);
    assert!(outputs_map(&a.outputs)["risk-score"].parse::<u8>().is_ok());
    // Not in Actions: not trusted.
    let a = pr.action(&server.url(), &[("GITHUB_ACTIONS", "")]);
    a.run.assert_code(2);
}

fn unsafe_geteuid() -> u32 {
    // The effective uid without a libc dependency: the owner of a file we just created.
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let p: PathBuf = d.path().join("probe");
    std::fs::write(&p, "x").unwrap();
    std::fs::metadata(&p).unwrap().uid()
}

// ---------------------------------------------------------------------------------------------
// Template snapshots: a low, a medium and a blocked critical report, built as typed reports.

use engine::lang::symbols::{ChangeKind, DeclKind};
use engine::report::gate::{self, GateSettings, Override};
use engine::report::{Note, NoteCode, Report};
use engine::score::coupling::rules::Severity as Level;
use engine::score::coupling::{CouplingEvidence, Violation};
use engine::score::impact::{ChangedSymbol, ImpactEvidence, ImpactFile};
use engine::score::security::rules::Severity;
use engine::score::security::SecuritySettings;
use engine::score::security::{Finding, SecurityEvidence};
use engine::score::{Dimension, Rating, Weights};

fn available<E>(d: &mut Dimension<E>, score: u8, summary: &str, evidence: E) {
    d.available = true;
    d.score = Some(score);
    d.reason = None;
    d.summary = summary.to_string();
    d.formula = format!("{summary} → {score}");
    d.evidence = evidence;
}

fn unavailable<E>(d: &mut Dimension<E>, reason: &str) {
    d.summary = format!("unavailable: {reason}");
    d.reason = Some(reason.to_string());
}

fn finding(rule: &str, severity: Severity, path: &str, line: u32, message: &str) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        path: path.into(),
        line,
        column: 1,
        end_line: line,
        message: message.into(),
        cwe: "CWE-89".into(),
        owasp: None,
        fix: "use a parameterised query".into(),
        snippet: String::new(),
        fingerprint: String::new(),
        identity: Default::default(),
        source: None,
        suppressed_by_pr: false,
        norm: String::new(),
        suppressed: None,
    }
}

fn violation(rule: &str, severity: Level, from: &str, line: u32, to: &str) -> Violation {
    Violation {
        rule: rule.into(),
        severity,
        builtin: false,
        from: from.into(),
        line,
        to: to.into(),
        specifier: to.into(),
        type_only: false,
        description: "layers import one way".into(),
        detail: None,
        cycle: Vec::new(),
    }
}

fn impact_files(n: usize) -> ImpactEvidence {
    ImpactEvidence {
        files: (0..n)
            .map(|i| ImpactFile {
                path: format!("src/mod_{i}/index.ts"),
                graph: "head",
                direct: 2,
                downstream: 12 - i.min(11),
                tests: 1,
                dependents: Vec::new(),
                dependents_truncated: false,
                stopped_at: Vec::new(),
                reached: 9 - i.min(8),
                changed: vec![ChangedSymbol {
                    name: "render".into(),
                    kind: DeclKind::Function,
                    change: ChangeKind::Body,
                    exported: true,
                    line: 3,
                    label: "render()".into(),
                }],
                ..ImpactFile::default()
            })
            .collect(),
        reach: (12 + n) as f64,
        reached_files: 12 + n,
        ..ImpactEvidence::default()
    }
}

fn weights(impact: f64, regression: f64, security: f64, coupling: f64) -> Weights {
    Weights {
        impact,
        regression,
        security,
        coupling,
    }
}

/// A report with the common parts filled in; the caller sets the dimensions.
fn synthetic(score: u8, rating: Rating, used: Weights, contrib: Weights) -> Report {
    let mut r = Report::empty(
        "1111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222",
    );
    r.revisions.base.rev = "b".into();
    r.revisions.head.rev = "h".into();
    r.revisions.merge_base = "3333333333333333333333333333333333333333".into();
    r.config.source = Some(".pr-risk.yml".into());
    r.config.read_from = Some("1111111111111111111111111111111111111111".into());
    r.change.files_changed = 3;
    r.change.additions = 40;
    r.change.deletions = 12;
    r.graph.files = 20;
    r.graph.edges = 31;
    r.graph.unresolved_external = 2;
    r.composite.score = Some(score);
    r.composite.rating = Some(rating);
    r.composite.weights_used = used;
    r.composite.renormalized = false;
    r.composite.contributions = contrib;
    r.composite.note = None;
    r
}

fn changed_file(path: &str) -> engine::report::ChangedFile {
    engine::report::ChangedFile {
        path: path.into(),
        old_path: None,
        status: engine::git::diff::Status::Modified,
        similarity: None,
        additions: 10,
        deletions: 2,
        added_lines: Vec::new(),
        removed_lines: Vec::new(),
        binary: false,
        oversize: false,
        symlink: false,
        submodule: false,
        missing: false,
        old_oid: None,
        new_oid: None,
    }
}

/// The gate of a synthetic report, decided by the engine as the pipeline does it.
fn gated(mut r: Report, settings: &GateSettings, accepted: Option<&Override>) -> Report {
    r.gate = gate::decide(&r, settings, &SecuritySettings::default(), accepted);
    r
}

fn low_report() -> Report {
    let mut r = synthetic(
        5,
        Rating::Low,
        weights(0.357, 0.0, 0.429, 0.214),
        weights(4.3, 0.0, 0.0, 0.0),
    );
    let d = &mut r.dimensions;
    available(
        &mut d.impact,
        12,
        "2 changed files reach 3 modules",
        impact_files(2),
    );
    unavailable(
        &mut d.regression,
        "the checkout is shallow; use actions/checkout with `fetch-depth: 0`",
    );
    available(&mut d.security, 0, "no new findings", Default::default());
    available(&mut d.coupling, 0, "no new violations", Default::default());
    r.composite.renormalized = true;
    r.composite.note = Some("computed from 3 of 4 dimensions (regression unavailable); their weights were renormalised to sum to 100%".into());
    r
}

fn medium_report() -> Report {
    let mut r = synthetic(
        62,
        Rating::Medium,
        weights(0.25, 0.30, 0.30, 0.15),
        weights(14.5, 21.0, 15.0, 12.0),
    );
    let d = &mut r.dimensions;
    available(
        &mut d.impact,
        58,
        "1 changed file reaches 14 modules",
        impact_files(3),
    );
    available(
        &mut d.regression,
        70,
        "src/cart.ts changed in 4 fix commits in the last 90 days",
        Default::default(),
    );
    let security = SecurityEvidence {
        new: vec![
            finding(
                "ts/sql-injection",
                Severity::High,
                "src/db/query.ts",
                42,
                "SQL built from `req.query` | string concat",
            ),
            finding(
                "ts/weak-hash",
                Severity::Medium,
                "src/auth/hash.ts",
                7,
                "md5 used for passwords",
            ),
        ],
        ..SecurityEvidence::default()
    };
    available(
        &mut d.security,
        50,
        "2 new findings (1 high, 1 medium)",
        security,
    );
    let coupling = CouplingEvidence {
        introduced: vec![violation(
            "ui-must-not-import-db",
            Level::Error,
            "src/ui/cart.tsx",
            3,
            "src/db/query.ts",
        )],
        ..CouplingEvidence::default()
    };
    available(&mut d.coupling, 80, "1 new violation", coupling);
    r.notes = vec![Note::new(
        NoteCode::FileNotAnalysed,
        "src/gen/big.ts: larger than limits.max-file-size, not parsed",
    )];
    r
}

fn critical_report() -> Report {
    let mut r = synthetic(
        91,
        Rating::Critical,
        weights(0.25, 0.30, 0.30, 0.15),
        weights(23.75, 26.4, 30.0, 10.5),
    );
    let d = &mut r.dimensions;
    available(
        &mut d.impact,
        95,
        "3 changed files reach 180 modules",
        impact_files(14),
    );
    available(
        &mut d.regression,
        88,
        "hot files with recent reverts",
        Default::default(),
    );
    let security = SecurityEvidence {
        new: (0..30u32)
            .map(|i| {
                finding(
                    if i == 0 { "ts/eval" } else { "ts/xss" },
                    if i == 0 {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    &format!("src/views/page_{i}.tsx"),
                    i + 1,
                    &format!("untrusted input reaches a sink (#{i})"),
                )
            })
            .collect(),
        ..SecurityEvidence::default()
    };
    available(
        &mut d.security,
        100,
        "30 new findings (1 critical, 29 high)",
        security,
    );
    let coupling = CouplingEvidence {
        introduced: vec![violation(
            "no-cycle",
            Level::Warn,
            "src/a.ts",
            1,
            "src/b.ts",
        )],
        ..CouplingEvidence::default()
    };
    available(&mut d.coupling, 70, "new cycle", coupling);
    r.config.changed_by_pr = vec![".pr-risk.yml".into()];
    r
}

#[test]
fn template_snapshots() {
    use outlets::render::markdown::{Links, Markdown};
    let md = Markdown::new(&BTreeMap::new()).unwrap();
    let links = Links {
        blob: Some(
            "https://github.com/acme/shop/blob/2222222222222222222222222222222222222222".into(),
        ),
        run: None,
    };
    let defaults = GateSettings::default();
    // The critical report with an override applied by `lead` and a critical path touched.
    let accepted = Override {
        label: "pr-risk:accepted".into(),
        actor: Some("lead".into()),
        applied: false,
        refused: None,
    };
    let critical_paths = GateSettings {
        critical_paths: engine::glob::patterns(&["**/views/**"]),
        ..GateSettings::default()
    };
    let mut overridden = critical_report();
    overridden.change.files = ["src/views/page_0.tsx", "src/views/page_1.tsx", "src/a.ts"]
        .iter()
        .map(|p| changed_file(p))
        .collect();
    for (name, report) in [
        ("low", gated(low_report(), &defaults, None)),
        ("medium", gated(medium_report(), &defaults, None)),
        ("critical", gated(critical_report(), &defaults, None)),
        (
            "overridden",
            gated(overridden, &critical_paths, Some(&accepted)),
        ),
    ] {
        let comment = md
            .comment(&report, &links, outlets::github::COMMENT_MARKER)
            .unwrap();
        let check = md.check_summary(&report, &links).unwrap();
        insta::assert_snapshot!(format!("{name}.comment.md"), comment);
        insta::assert_snapshot!(format!("{name}.check.md"), check);
    }
    let c = md.comment(&medium_report(), &links, "").unwrap();
    assert!(
        c.contains("Risk Score: 62/100 (Medium) ⚠️ Review recommended"),
        "{c}"
    );
    assert!(c.contains("- [HIGH] [src/db/query.ts:42](https://github.com/acme/shop/blob/2222222222222222222222222222222222222222/src/db/query.ts#L42) — SQL built from \\`req.query\\` \\| string concat"), "{c}");
    assert!(c.contains("violates ui-must-not-import-db"), "{c}");
    let c = md
        .comment(&gated(critical_report(), &defaults, None), &links, "")
        .unwrap();
    assert!(c.contains("### Security Findings (30)"), "{c}");
    assert!(c.contains("- …and 5 more"), "{c}");
    assert!(c.contains("⛔ Merge blocked"), "{c}");
}

#[test]
fn huge_reports_are_capped_under_githubs_limits() {
    use outlets::render::markdown::{Links, Markdown};
    let mut r = critical_report();
    let long = "x".repeat(2000);
    r.dimensions.security.evidence.new = (0..5000)
        .map(|i| finding("r", Severity::High, &format!("src/{i}.ts"), 1, &long))
        .collect();
    let md = Markdown::new(&BTreeMap::new()).unwrap();
    let c = md
        .comment(&r, &Links::default(), outlets::github::COMMENT_MARKER)
        .unwrap();
    assert!(c.chars().count() <= 65_536);
    assert!(c.contains("…and "));
    let s = md.check_summary(&r, &Links::default()).unwrap();
    assert!(s.chars().count() <= 65_535);
}

#[test]
fn a_partial_clone_gets_its_missing_blobs_with_the_git_cli() {
    let pr = pr_repo(None, None);
    let has_git = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok();
    if !has_git {
        eprintln!("skipping: no git CLI");
        return;
    }
    {
        let mut cfg = pr.repo.repo.config().unwrap();
        cfg.set_bool("uploadpack.allowFilter", true).unwrap();
        cfg.set_bool("uploadpack.allowAnySHA1InWant", true).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let status = std::process::Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir.path())
        .args(["clone", "--quiet", "--filter=blob:none", "--no-local"])
        .arg(format!("file://{}", pr.repo.path().display()))
        .arg(&ws)
        .status()
        .unwrap();
    assert!(status.success());
    let clone = git2::Repository::open(&ws).unwrap();
    let promisor = clone
        .config()
        .unwrap()
        .get_bool("remote.origin.promisor")
        .unwrap_or(false);
    assert!(promisor, "the clone is partial");
    // The base version of the changed file is not in the clone yet.
    let base_tree = clone
        .find_commit(pr.base.parse().unwrap())
        .unwrap()
        .tree()
        .unwrap();
    let blob = base_tree
        .get_path(Path::new("src/lib/pricing.ts"))
        .unwrap()
        .id();
    assert!(
        clone.find_blob(blob).is_err(),
        "the base blob should be missing"
    );
    drop(base_tree);
    drop(clone);

    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let ws_s = ws.to_string_lossy().into_owned();
    let a = pr.action(
        &server.url(),
        &[("GITHUB_WORKSPACE", &ws_s), ("INPUT_POST-COMMENT", "false")],
    );
    a.run.assert_code(0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("pr-risk-report.json")).unwrap())
            .unwrap();
    let notes = report["notes"].to_string();
    assert!(notes.contains("partial clone: fetched"), "{notes}");
    assert_eq!(
        report["dimensions"]["impact"]["evidence"]["files"][0]["downstream"],
        3
    );
    // The history's blobs are not there to train on: the prior model, and why.
    let model = &report["dimensions"]["regression"]["evidence"]["model"];
    assert_eq!(model["kind"], "prior", "{model}");
    assert!(
        model["reason"].as_str().unwrap().contains("partial clone"),
        "{model}"
    );
}

#[test]
fn a_rate_limited_request_waits_for_retry_after() {
    let pr = pr_repo(None, None);
    let server = fake_github(Arc::new(Mutex::new(Gh {
        check_create_429: 1,
        ..Gh::default()
    })));
    let a = pr.action(&server.url(), &[("INPUT_POST-COMMENT", "false")]);
    a.run.assert_code(0);
    assert_eq!(
        server.lines(),
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            format!("POST /repos/{OWNER_REPO}/check-runs"),
        ]
    );
    assert!(
        a.run.stdout.contains("check run \"PR Risk Score\" written"),
        "{}",
        a.run.stdout
    );
}

#[test]
fn template_overrides_come_from_the_base_commit() {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n")
        .write(
            "src/b.ts",
            "import { a } from './a';\nexport const b = a;\n",
        )
        .write(".pr-risk.yml", "github:\n  templates: .github/pr-risk\n")
        .write(
            ".github/pr-risk/comment.md.j2",
            "{{ marker }}\nBASE TEMPLATE {{ report.composite.score }}\n",
        );
    let base = r.commit("initial").to_string();
    r.branch("feature");
    r.write("src/a.ts", "export const a = 2;\n").write(
        ".github/pr-risk/comment.md.j2",
        "{{ marker }}\nPR TEMPLATE\n",
    );
    let head = r.commit("change").to_string();
    let runner = tempfile::tempdir().unwrap();
    let event = json!({"pull_request": {"number": PR, "title": "t",
        "base": {"sha": base, "repo": {"full_name": OWNER_REPO}},
        "head": {"sha": head, "ref": "feature", "repo": {"full_name": OWNER_REPO}}}});
    std::fs::write(runner.path().join("event.json"), event.to_string()).unwrap();
    let pr = Pr {
        repo: r,
        base,
        head,
        runner,
    };
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(0);
    let body = gh.lock().unwrap().comments[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.starts_with("<!-- pr-risk:sticky-comment -->\nBASE TEMPLATE "),
        "{body}"
    );
    assert_eq!(
        pr.report()["config"]["changed_by_pr"],
        json!([".github/pr-risk"])
    );
    // The check summary still uses the embedded template (no override for it).
    assert!(server.requests()[0].json()["output"]["summary"]
        .as_str()
        .unwrap()
        .contains("| Dimension |"));
}

#[test]
fn a_shallow_checkout_without_the_base_names_fetch_depth_0() {
    let pr = pr_repo(None, None);
    {
        let mut cfg = pr.repo.repo.config().unwrap();
        cfg.set_bool("uploadpack.allowAnySHA1InWant", true).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let ok = std::process::Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir.path())
        .args([
            "clone",
            "--quiet",
            "--depth=1",
            "--no-local",
            "--branch=feature",
        ])
        .arg(format!("file://{}", pr.repo.path().display()))
        .arg(&ws)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: no git CLI");
        return;
    }
    assert!(git2::Repository::open(&ws).unwrap().is_shallow());
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let ws_s = ws.to_string_lossy().into_owned();
    let a = pr.action(&server.url(), &[("GITHUB_WORKSPACE", &ws_s)]);
    a.run.assert_code(2);
    assert!(a.run.stderr.contains("fetch-depth: 0"), "{}", a.run.stderr);
    assert!(
        a.run.stdout.contains("::error title=pr-risk::"),
        "{}",
        a.run.stdout
    );
    assert!(
        a.summary.contains("could not score this change"),
        "{}",
        a.summary
    );
    assert!(server.requests().is_empty());
}
