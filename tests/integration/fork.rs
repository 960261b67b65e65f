//! Pull requests from forks, the merge queue and reviewer requests, against the fake GitHub of
//! [`crate::action`]:
//! - `publish-to` (the `pull_request` half) writes the artifact and posts nothing;
//! - `publish-from` (the `workflow_run` half) checks the artifact against the event (and, for
//!   forks, the API) and posts the check run and the comment — or refuses and posts nothing;
//! - `merge_group` runs post the check on the merge group's head commit;
//! - `request-reviewers` asks for the suggested reviewers; a 422 is a note.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::action::{
    assert_bodies_valid, fake_github, outputs_map, pr_repo, ActionRun, Gh, Pr, OWNER_REPO, PR,
};
use crate::server::Server;
use crate::support::{command, Author, Run, TestRepo, EPOCH};

const FORK: &str = "mallory/shop";
const ARTIFACT: &str = "pr-risk-artifact";
const RUN_ID: u64 = 9001;

/// The `pull_request` half on `pr`: the artifact in the workspace, nothing posted.
fn scored_artifact(pr: &Pr, server: &Server) -> PathBuf {
    let a = pr.action(&server.url(), &[("INPUT_PUBLISH-TO", ARTIFACT)]);
    a.run.assert_code(0);
    pr.repo.path().join(ARTIFACT)
}

/// A `workflow_run` event for the run that scored `pr` (`pull_requests` empty for a fork).
fn workflow_run(pr: &Pr, head_repo: &str, pull_requests: Value) -> Value {
    json!({
        "action": "completed",
        "workflow_run": {
            "id": RUN_ID,
            "name": "PR risk",
            "event": "pull_request",
            "status": "completed",
            "conclusion": "success",
            "head_sha": pr.head,
            "head_branch": "feature",
            "head_repository": {"full_name": head_repo},
            "repository": {"full_name": OWNER_REPO},
            "pull_requests": pull_requests,
        },
        "repository": {"full_name": OWNER_REPO},
    })
}

fn same_repo_pulls(pr: &Pr) -> Value {
    json!([{"number": PR, "head": {"sha": pr.head, "ref": "feature"}, "base": {"sha": pr.base, "ref": "main"}}])
}

/// The publisher's job: a fresh workspace holding only the downloaded artifact (no checkout).
struct Publisher {
    ws: tempfile::TempDir,
    runner: tempfile::TempDir,
}

impl Publisher {
    fn new(artifact: &Path) -> Publisher {
        let ws = tempfile::tempdir().unwrap();
        let runner = tempfile::tempdir().unwrap();
        let dir = ws.path().join(ARTIFACT);
        std::fs::create_dir(&dir).unwrap();
        for e in std::fs::read_dir(artifact).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
        Publisher { ws, runner }
    }

    fn artifact(&self) -> PathBuf {
        self.ws.path().join(ARTIFACT)
    }

    fn edit_json(&self, file: &str, f: impl FnOnce(&mut Value)) {
        let p = self.artifact().join(file);
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&p, v.to_string()).unwrap();
    }

    fn publish(&self, api: &str, event: &Value, extra: &[(&str, &str)]) -> ActionRun {
        let rp = |n: &str| self.runner.path().join(n);
        std::fs::write(rp("event.json"), event.to_string()).unwrap();
        let _ = std::fs::remove_file(rp("output"));
        let _ = std::fs::remove_file(rp("summary"));
        let mut c = command(self.runner.path());
        c.args(["action", "--publish-from", ARTIFACT])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", self.ws.path())
            .env("GITHUB_EVENT_NAME", "workflow_run")
            .env("GITHUB_EVENT_PATH", rp("event.json"))
            .env("GITHUB_REPOSITORY", OWNER_REPO)
            .env("GITHUB_API_URL", api)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_RUN_ID", "9999")
            .env("GITHUB_OUTPUT", rp("output"))
            .env("GITHUB_STEP_SUMMARY", rp("summary"))
            .env("INPUT_GITHUB-TOKEN", "ghs_publishertoken9")
            .env("INPUT_POST-COMMENT", "");
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let read = |n: &str| std::fs::read_to_string(rp(n)).unwrap_or_default();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stdout.contains("ghs_publishertoken9")
                && !run.stderr.contains("ghs_publishertoken9")
        );
        ActionRun {
            run,
            outputs: read("output"),
            summary: read("summary"),
        }
    }
}

/// A PR from the fork `FORK`: the event says so.
fn fork_pr() -> Pr {
    let pr = pr_repo(None, None);
    let p = pr.runner.path().join("event.json");
    let mut ev: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    ev["pull_request"]["head"]["repo"]["full_name"] = json!(FORK);
    ev["pull_request"]["user"] = json!({"login": "mallory"});
    std::fs::write(&p, ev.to_string()).unwrap();
    pr
}

const BANNER: &str = "> [!WARNING]\n> **Reported by the pull request's own workflow run.** This result was computed by [workflow run 9001](https://github.com/acme/shop/actions/runs/9001), which ran the `pull_request` workflow as pull request #7 defines it";

#[test]
fn publish_to_writes_the_artifact_and_posts_nothing() {
    let pr = fork_pr();
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let a = pr.action(&server.url(), &[("INPUT_PUBLISH-TO", ARTIFACT)]);
    a.run.assert_code(0);
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing is posted");
    let dir = pr.repo.path().join(ARTIFACT);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pr-risk-publish.json", "pr-risk-report.json"]);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pr-risk-publish.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest,
        json!({
            "format": "pr-risk-artifact/1",
            "repository": OWNER_REPO,
            "event": "pull_request",
            "pr_number": PR,
            "head_sha": pr.head,
            "base_sha": pr.base,
            "head_repository": FORK,
            "tool_version": env!("CARGO_PKG_VERSION"),
        })
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("pr-risk-report.json")).unwrap(),
        std::fs::read_to_string(pr.repo.path().join("pr-risk-report.json")).unwrap(),
        "the artifact's report is the run's report"
    );
    assert!(
        a.run.stdout.contains("for the workflow_run job to publish"),
        "{}",
        a.run.stdout
    );
    assert!(
        a.summary.contains("Risk Score:"),
        "the step summary is still written"
    );
    assert_eq!(outputs_map(&a.outputs)["blocked"], "false");

    // Only pull_request runs: a push has no pull request to publish for.
    let push = pr.action(
        &server.url(),
        &[
            ("INPUT_PUBLISH-TO", ARTIFACT),
            ("GITHUB_EVENT_NAME", "push"),
            ("INPUT_BASE", pr.base.as_str()),
        ],
    );
    push.run.assert_code(2);
    assert!(
        push.run
            .stdout
            .contains("`publish-to` is for `pull_request` runs"),
        "{}",
        push.run.stdout
    );
    // A directory the pull request filled with other files is refused.
    std::fs::write(dir.join("comment.md"), "hi").unwrap();
    let again = pr.action(&server.url(), &[("INPUT_PUBLISH-TO", ARTIFACT)]);
    again.run.assert_code(2);
    assert!(
        again.run.stdout.contains("already holds `comment.md`"),
        "{}",
        again.run.stdout
    );
    assert_eq!(server.lines(), Vec::<String>::new());
}

#[test]
fn publish_from_posts_the_check_and_the_comment_of_a_verified_artifact() {
    let pr = pr_repo(None, None);
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let publisher = Publisher::new(&scored_artifact(&pr, &server));
    let report = pr.report();

    let a = publisher.publish(
        &server.url(),
        &workflow_run(&pr, OWNER_REPO, same_repo_pulls(&pr)),
        &[],
    );
    a.run.assert_code(0);
    assert_eq!(
        server.lines(),
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            "GET /user".to_string(),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("POST /repos/{OWNER_REPO}/issues/{PR}/comments"),
        ],
        "the event names the pull request: no API check needed"
    );
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer ghs_publishertoken9")
    );
    let check = reqs[0].json();
    let score = report["composite"]["score"].as_u64().unwrap();
    let rating = report["composite"]["rating"].as_str().unwrap();
    let label = format!("{}{}", rating[..1].to_uppercase(), &rating[1..]);
    assert_eq!(check["head_sha"], pr.head.as_str());
    assert_eq!(check["name"], "PR Risk Score");
    assert_eq!(check["conclusion"], "success");
    assert_eq!(
        check["output"]["title"],
        format!("Risk {score}/100 ({label}) — reported by the PR's run")
    );
    assert_eq!(
        check["details_url"],
        format!("https://github.com/{OWNER_REPO}/actions/runs/{RUN_ID}")
    );
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(summary.starts_with(BANNER), "{summary}");
    assert!(
        summary.contains("| Impact |"),
        "re-rendered by the templates: {summary}"
    );
    let body = reqs[3].json()["body"].as_str().unwrap().to_string();
    assert!(
        body.starts_with(&format!("<!-- pr-risk:sticky-comment -->\n{BANNER}")),
        "{body}"
    );
    assert!(
        body.contains(&format!("Risk Score: {score}/100 ({label})")),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "(https://github.com/{OWNER_REPO}/blob/{}/src/lib/pricing.ts)",
            pr.head
        )),
        "{body}"
    );
    assert!(a.summary.starts_with(BANNER), "{}", a.summary);
    let out = outputs_map(&a.outputs);
    assert_eq!(out["risk-score"], score.to_string());
    assert_eq!(out["rating"], rating);
    assert_eq!(out["blocked"], "false");
    assert_eq!(out["report-json"], "pr-risk-artifact/pr-risk-report.json");
    assert_eq!(gh.lock().unwrap().comments.len(), 1);
}

#[test]
fn publish_from_a_fork_checks_the_pull_request_with_the_api() {
    let pr = fork_pr();
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let publisher = Publisher::new(&scored_artifact(&pr, &server));
    let pull = |head: &str, from: &str| {
        json!({"number": PR, "user": {"login": "mallory"},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": from}},
            "base": {"sha": pr.base, "ref": "main", "repo": {"full_name": OWNER_REPO}}})
    };
    gh.lock().unwrap().pull = Some(pull(&pr.head, FORK));
    // GitHub leaves `pull_requests` empty for a fork's run.
    let event = workflow_run(&pr, FORK, json!([]));
    let a = publisher.publish(&server.url(), &event, &[]);
    a.run.assert_code(0);
    assert_eq!(
        server.lines(),
        vec![
            format!("GET /repos/{OWNER_REPO}/pulls/{PR}"),
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            "GET /user".to_string(),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("POST /repos/{OWNER_REPO}/issues/{PR}/comments"),
        ]
    );
    assert_eq!(server.requests()[1].json()["head_sha"], pr.head.as_str());

    // The pull request moved on (or the artifact names someone else's PR): refused after the
    // API check, nothing posted.
    for (head, from, says) in [
        (
            "1".repeat(40),
            FORK.to_string(),
            "a newer push publishes its own result",
        ),
        (
            pr.head.clone(),
            "eve/shop".to_string(),
            "comes from eve/shop, the run from mallory/shop",
        ),
    ] {
        gh.lock().unwrap().pull = Some(pull(&head, &from));
        let before = server.lines().len();
        let a = publisher.publish(&server.url(), &event, &[]);
        a.run.assert_code(2);
        assert!(a.run.stderr.contains(says), "{}", a.run.stderr);
        assert!(
            a.run.stderr.contains("nothing was published"),
            "{}",
            a.run.stderr
        );
        assert_eq!(
            server.lines()[before..],
            [format!("GET /repos/{OWNER_REPO}/pulls/{PR}")]
        );
        assert_eq!(a.outputs, "");
    }
}

#[test]
fn publish_from_refuses_an_artifact_that_is_not_the_runs() {
    let pr = pr_repo(None, None);
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let publisher = Publisher::new(&scored_artifact(&pr, &server));
    let other_sha = "2".repeat(40);
    let cases: Vec<(Value, &str)> = vec![
        // The run was for another commit than the artifact claims.
        (
            {
                let mut e = workflow_run(&pr, OWNER_REPO, same_repo_pulls(&pr));
                e["workflow_run"]["head_sha"] = json!(other_sha);
                e
            },
            "it claims commit",
        ),
        // The run belongs to another pull request.
        (
            workflow_run(
                &pr,
                OWNER_REPO,
                json!([{"number": 8, "head": {"sha": pr.head}}]),
            ),
            "it claims pull request #7, the run belongs to #8",
        ),
        // The run's commit came from another repository than the artifact claims.
        (
            workflow_run(&pr, FORK, same_repo_pulls(&pr)),
            "it claims head repository acme/shop, the run's is mallory/shop",
        ),
        // The triggering run was not a pull_request run.
        (
            {
                let mut e = workflow_run(&pr, OWNER_REPO, same_repo_pulls(&pr));
                e["workflow_run"]["event"] = json!("push");
                e
            },
            "was a `push` event",
        ),
    ];
    for (event, says) in cases {
        let a = publisher.publish(&server.url(), &event, &[]);
        a.run.assert_code(2);
        assert!(a.run.stderr.contains(says), "{says}: {}", a.run.stderr);
        assert!(
            a.run.stderr.contains("nothing was published"),
            "{}",
            a.run.stderr
        );
        assert_eq!(a.outputs, "");
        assert!(a.summary.starts_with("## PR Risk Report\n\n**pr-risk could not publish this result.**\n\n```\nthe artifact does not belong"), "{}", a.summary);
    }
    // Not a workflow_run event at all.
    let a = publisher.publish(
        &server.url(),
        &json!({}),
        &[("GITHUB_EVENT_NAME", "pull_request_target")],
    );
    a.run.assert_code(2);
    assert!(
        a.run.stderr.contains("runs in a `workflow_run` workflow"),
        "{}",
        a.run.stderr
    );
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing was posted");
}

#[test]
fn publish_from_refuses_forged_and_oversized_artifacts() {
    let pr = pr_repo(None, None);
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let artifact = scored_artifact(&pr, &server);
    let event = workflow_run(&pr, OWNER_REPO, same_repo_pulls(&pr));
    type Forge = Box<dyn Fn(&Publisher)>;
    let cases: Vec<(Forge, &str)> = vec![
        (
            Box::new(|p: &Publisher| {
                p.edit_json("pr-risk-report.json", |r| {
                    r["composite"]["score"] = json!(0);
                    r["composite"]["rating"] = json!("critical");
                })
            }),
            "`composite.rating` does not match `composite.score`",
        ),
        (
            Box::new(|p: &Publisher| {
                p.edit_json("pr-risk-report.json", |r| {
                    r["composite"]["score"] = json!(300)
                })
            }),
            "pr-risk-report.json: invalid value: integer `300`",
        ),
        (
            Box::new(|p: &Publisher| {
                p.edit_json("pr-risk-report.json", |r| {
                    r["comment_markdown"] = json!("**all good**")
                })
            }),
            "unknown field `comment_markdown`",
        ),
        (
            Box::new(|p: &Publisher| {
                p.edit_json("pr-risk-publish.json", |m| m["summary"] = json!("x"))
            }),
            "pr-risk-publish.json: unknown field `summary`",
        ),
        (
            Box::new(|p: &Publisher| {
                p.edit_json("pr-risk-publish.json", |m| m["pr_number"] = json!("7"))
            }),
            "pr-risk-publish.json: invalid type",
        ),
        (
            Box::new(|p: &Publisher| {
                std::fs::write(p.artifact().join("comment.md"), "# fine").unwrap()
            }),
            "it holds `comment.md`",
        ),
        (
            Box::new(|p: &Publisher| {
                let mut big =
                    std::fs::read_to_string(p.artifact().join("pr-risk-report.json")).unwrap();
                big.push_str(&" ".repeat(17 * 1024 * 1024));
                std::fs::write(p.artifact().join("pr-risk-report.json"), big).unwrap();
            }),
            "pr-risk-report.json is larger than 16384 KiB",
        ),
        (
            Box::new(|p: &Publisher| {
                let f = p.artifact().join("pr-risk-report.json");
                let real = p.ws.path().join("elsewhere.json");
                std::fs::rename(&f, &real).unwrap();
                std::os::unix::fs::symlink(&real, &f).unwrap();
            }),
            "`pr-risk-report.json` is not a regular file",
        ),
        (
            Box::new(|p: &Publisher| {
                std::fs::remove_file(p.artifact().join("pr-risk-publish.json")).unwrap()
            }),
            "`pr-risk-publish.json` is missing",
        ),
    ];
    for (forge, says) in cases {
        let publisher = Publisher::new(&artifact);
        forge(&publisher);
        let a = publisher.publish(&server.url(), &event, &[]);
        a.run.assert_code(2);
        assert!(a.run.stderr.contains(says), "{says}: {}", a.run.stderr);
        assert!(
            a.run.stderr.contains("nothing was published"),
            "{}",
            a.run.stderr
        );
        assert_eq!(a.outputs, "");
    }
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing was posted");

    // A forged score that is consistent passes the checks: the check says whose claim it is.
    let publisher = Publisher::new(&artifact);
    publisher.edit_json("pr-risk-report.json", |r| {
        r["composite"]["score"] = json!(0);
        r["composite"]["rating"] = json!("low");
    });
    let a = publisher.publish(&server.url(), &event, &[("INPUT_POST-COMMENT", "false")]);
    a.run.assert_code(0);
    let check = server.requests()[0].json();
    assert_eq!(
        check["output"]["title"],
        "Risk 0/100 (Low) — reported by the PR's run"
    );
    assert!(check["output"]["summary"]
        .as_str()
        .unwrap()
        .starts_with(BANNER));
}

#[test]
fn merge_group_posts_the_check_on_the_merge_groups_head_and_no_comment() {
    let pr = pr_repo(None, None);
    let server = fake_github(Arc::new(Mutex::new(Gh::default())));
    let event = json!({
        "action": "checks_requested",
        "merge_group": {
            "head_sha": pr.head,
            "head_ref": format!("refs/heads/gh-readonly-queue/main/pr-{PR}-{}", pr.base),
            "base_sha": pr.base,
            "base_ref": "refs/heads/main",
            "head_commit": {"id": pr.head, "message": "change pricing"},
        },
        "repository": {"full_name": OWNER_REPO},
    });
    std::fs::write(pr.runner.path().join("event.json"), event.to_string()).unwrap();
    let a = pr.action(&server.url(), &[("GITHUB_EVENT_NAME", "merge_group")]);
    a.run.assert_code(0);
    assert_eq!(
        server.lines(),
        vec![format!("POST /repos/{OWNER_REPO}/check-runs")]
    );
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    let check = reqs[0].json();
    let report = pr.report();
    let score = report["composite"]["score"].as_u64().unwrap();
    let rating = report["composite"]["rating"].as_str().unwrap();
    let label = format!("{}{}", rating[..1].to_uppercase(), &rating[1..]);
    let mut without_summary = check.clone();
    without_summary["output"]["summary"] = json!("…");
    assert_eq!(
        without_summary,
        json!({
            "name": "PR Risk Score",
            "head_sha": pr.head,
            "status": "completed",
            "conclusion": "success",
            "external_id": "pr-risk",
            "output": {"title": format!("Risk {score}/100 ({label})"), "summary": "…", "annotations": []},
        }),
        "the exact check-run request"
    );
    assert!(check["output"]["summary"]
        .as_str()
        .unwrap()
        .contains("| Impact |"));
    assert_eq!(report["revisions"]["head"]["sha"], pr.head.as_str());
}

/// `main` with CODEOWNERS naming a user, a team of the organisation and the PR's author.
fn codeowners_pr() -> Pr {
    codeowners_pr_with(None)
}

fn codeowners_pr_with(config: Option<&str>) -> Pr {
    let r = TestRepo::new();
    if let Some(c) = config {
        r.write(".pr-risk.yml", c);
    }
    r.write("src/lib/pricing.ts", "export const price = 1;\n")
        .write(
            "src/cart.ts",
            "import { price } from './lib/pricing';\nexport const cart = price;\n",
        )
        .write(".github/CODEOWNERS", "src/ @alice @acme/web @bob\n");
    let base = r.commit("initial").to_string();
    r.branch("feature");
    r.write("src/lib/pricing.ts", "export const price = 2;\n");
    let head = r.commit("change pricing").to_string();
    let runner = tempfile::tempdir().unwrap();
    let event = json!({
        "number": PR,
        "pull_request": {
            "number": PR, "title": "Change pricing", "user": {"login": "bob"},
            "base": {"sha": base, "ref": "main", "repo": {"full_name": OWNER_REPO}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": OWNER_REPO}},
        },
    });
    std::fs::write(runner.path().join("event.json"), event.to_string()).unwrap();
    Pr {
        repo: r,
        base,
        head,
        runner,
    }
}

#[test]
fn request_reviewers_asks_the_suggested_reviewers_but_not_the_author() {
    let pr = codeowners_pr();
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(
        &server.url(),
        &[
            ("INPUT_REQUEST-REVIEWERS", "true"),
            ("INPUT_POST-COMMENT", "false"),
        ],
    );
    a.run.assert_code(0);
    assert_eq!(
        server.lines(),
        vec![
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            format!("POST /repos/{OWNER_REPO}/pulls/{PR}/requested_reviewers"),
        ]
    );
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    assert_eq!(
        reqs[1].json(),
        json!({"reviewers": ["alice"], "team_reviewers": ["web"]})
    );
    assert!(
        a.run
            .stdout
            .contains("review requested from @alice, @acme/web"),
        "{}",
        a.run.stdout
    );
    assert_eq!(
        outputs_map(&a.outputs)["suggested-reviewers"],
        "@acme/web @alice"
    );

    // Off by default.
    let before = server.lines().len();
    pr.action(&server.url(), &[("INPUT_POST-COMMENT", "false")])
        .run
        .assert_code(0);
    assert_eq!(
        server.lines()[before..],
        [format!("POST /repos/{OWNER_REPO}/check-runs")]
    );
}

/// No CODEOWNERS: the reviewers come from the history. Ana commits with a GitHub no-reply
/// e-mail (login `ana-dev`), Cy with a plain one (a name, never requested), and Bob — the PR's
/// author, as the event says — made most of the recent commits.
fn history_pr() -> Pr {
    let r = TestRepo::new();
    let at = |name: &str, email: &str, day: i64| Author {
        name: name.to_string(),
        email: email.to_string(),
        time: EPOCH + day * 86_400,
    };
    let mut text = "export const price = 1;\n".to_string();
    r.write("src/pricing.ts", &text);
    r.commit_as("initial", &at("Cy", "cy@example.com", 0));
    let authors = [
        ("Cy", "cy@example.com"),
        ("Ana", "9+ana-dev@users.noreply.github.com"),
        ("Ana", "9+ana-dev@users.noreply.github.com"),
        ("Bob", "4+bob@users.noreply.github.com"),
        ("Bob", "4+bob@users.noreply.github.com"),
        ("Bob", "4+bob@users.noreply.github.com"),
    ];
    for (k, (name, email)) in authors.iter().enumerate() {
        text.push_str(&format!("export const p{k} = {k};\n"));
        r.write("src/pricing.ts", &text);
        r.commit_as(&format!("price {k}"), &at(name, email, 10 + k as i64));
    }
    let base = r.head().to_string();
    r.branch("feature");
    text.push_str("export const pr = 1;\n");
    r.write("src/pricing.ts", &text);
    let head = r
        .commit_as("pr", &at("Bob", "4+bob@users.noreply.github.com", 20))
        .to_string();
    let runner = tempfile::tempdir().unwrap();
    let event = json!({
        "number": PR,
        "pull_request": {
            "number": PR, "title": "Reprice", "user": {"login": "bob"},
            "base": {"sha": base, "ref": "main", "repo": {"full_name": OWNER_REPO}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": OWNER_REPO}},
        },
    });
    std::fs::write(runner.path().join("event.json"), event.to_string()).unwrap();
    Pr {
        repo: r,
        base,
        head,
        runner,
    }
}

#[test]
fn request_reviewers_asks_people_of_the_history_by_login_only() {
    let pr = history_pr();
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    let a = pr.action(
        &server.url(),
        &[
            ("INPUT_REQUEST-REVIEWERS", "true"),
            ("INPUT_POST-COMMENT", "false"),
        ],
    );
    a.run.assert_code(0);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(pr.repo.path().join("pr-risk-report.json")).unwrap(),
    )
    .unwrap();
    let who: Vec<&str> = report["guidance"]["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["who"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["@ana-dev", "Cy"], "Bob wrote the PR: never suggested");
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    assert_eq!(
        reqs.last().unwrap().json(),
        json!({"reviewers": ["ana-dev"]})
    );
    assert!(
        a.run.stdout.contains(
            "not requesting a review from Cy (a name from the git history, not a GitHub login)"
        ),
        "{}",
        a.run.stdout
    );
    assert_eq!(outputs_map(&a.outputs)["suggested-reviewers"], "@ana-dev");
}

#[test]
fn a_422_on_the_reviewer_request_is_a_note_not_a_failure() {
    let pr = codeowners_pr();
    let gh = Arc::new(Mutex::new(Gh::default()));
    gh.lock().unwrap().reviewers_status = 422;
    let server = fake_github(gh);
    let a = pr.action(
        &server.url(),
        &[
            ("INPUT_REQUEST-REVIEWERS", "true"),
            ("INPUT_POST-COMMENT", "false"),
        ],
    );
    a.run.assert_code(0);
    assert_eq!(
        server.lines().last().unwrap(),
        &format!("POST /repos/{OWNER_REPO}/pulls/{PR}/requested_reviewers")
    );
    assert_eq!(
        server
            .lines()
            .iter()
            .filter(|l| l.contains("requested_reviewers"))
            .count(),
        1,
        "a 422 is not retried"
    );
    assert!(
        a.run.stdout.contains("::notice title=pr-risk reviewers::Reviews were not requested from @alice, @acme/web: GitHub refused the request (422: Reviews may only be requested from collaborators"),
        "{}",
        a.run.stdout
    );
    assert!(
        a.summary.contains("> Reviews were not requested from @alice, @acme/web: GitHub refused the request (422: Reviews may only be requested from collaborators."),
        "{}",
        a.summary
    );
    assert_eq!(outputs_map(&a.outputs)["blocked"], "false");
}

#[test]
fn publish_from_a_blocked_result_fails_the_check_and_never_asks_the_author() {
    let pr = codeowners_pr_with(Some("threshold: 0\n"));
    let gh = Arc::new(Mutex::new(Gh::default()));
    let server = fake_github(gh.clone());
    // The pull_request half: blocked (exit 1), and the artifact is written all the same.
    let a = pr.action(&server.url(), &[("INPUT_PUBLISH-TO", ARTIFACT)]);
    a.run.assert_code(1);
    assert_eq!(server.lines(), Vec::<String>::new());
    let publisher = Publisher::new(&pr.repo.path().join(ARTIFACT));
    // A forged artifact can name anyone, the author included: the author comes from GitHub.
    publisher.edit_json("pr-risk-report.json", |r| {
        r["guidance"]["reviewers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"who": "@bob", "login": "bob", "team": false, "reasons": []}))
    });
    gh.lock().unwrap().pull = Some(json!({"number": PR, "user": {"login": "bob"},
        "head": {"sha": pr.head, "repo": {"full_name": OWNER_REPO}},
        "base": {"sha": pr.base, "repo": {"full_name": OWNER_REPO}}}));
    let event = workflow_run(&pr, OWNER_REPO, same_repo_pulls(&pr));
    let a = publisher.publish(
        &server.url(),
        &event,
        &[("INPUT_REQUEST-REVIEWERS", "true")],
    );
    a.run.assert_code(1);
    assert_eq!(
        server.lines(),
        vec![
            format!("GET /repos/{OWNER_REPO}/pulls/{PR}"),
            format!("POST /repos/{OWNER_REPO}/check-runs"),
            "GET /user".to_string(),
            format!("GET /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("POST /repos/{OWNER_REPO}/issues/{PR}/comments"),
            format!("POST /repos/{OWNER_REPO}/pulls/{PR}/requested_reviewers"),
        ]
    );
    let reqs = server.requests();
    assert_bodies_valid(&reqs);
    assert_eq!(reqs[1].json()["conclusion"], "failure");
    assert!(reqs[1].json()["output"]["title"]
        .as_str()
        .unwrap()
        .ends_with("— blocked — reported by the PR's run"));
    assert_eq!(
        reqs[5].json(),
        json!({"reviewers": ["alice"], "team_reviewers": ["web"]})
    );
    assert!(
        a.run
            .stdout
            .contains("not requesting a review from @bob (the pull request's author)"),
        "{}",
        a.run.stdout
    );
    assert_eq!(outputs_map(&a.outputs)["blocked"], "true");
}
