//! Adversarial tests (issue 15): a pull request is hostile input in action mode. Each test
//! reproduces one attack — it failed before the fix — and checks that the attack no longer works.
//!
//! The repositories are real git repositories in temp dirs, the binary is the real `pr-risk`, and
//! every HTTP peer is a server on 127.0.0.1 started by the test.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::{Reply, Request, Server};
use crate::support::{command, Run, RunPrRisk, TestRepo};

use self::hard_kit::*;

/// Helpers of this module (prefixed so that they never clash with other adversarial tests).
mod hard_kit {
    use super::*;

    pub const OWNER_REPO: &str = "acme/shop";
    pub const PR: u64 = 7;
    pub const TOKEN: &str = "ghs_hardtoken0123456789abcdef";

    /// A pull request: `main` has a small TypeScript app (pricing ← cart ← checkout ← index);
    /// `feature` changes `src/lib/pricing.ts` and applies `head` on top. `base` is written to
    /// `main` before its commit.
    pub struct Pr {
        pub repo: TestRepo,
        /// Event file, outputs and step summary (outside the repository, like the runner's).
        pub runner: tempfile::TempDir,
    }

    pub struct ActionRun {
        pub run: Run,
        pub summary: String,
    }

    pub fn pr(base: &dyn Fn(&TestRepo), head: &dyn Fn(&TestRepo)) -> Pr {
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
        base(&r);
        let base = r.commit("initial").to_string();
        r.branch("feature");
        r.write(
            "src/lib/pricing.ts",
            "export const price = 2;\nexport const tax = 0.2;\n",
        );
        head(&r);
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
        Pr { repo: r, runner }
    }

    pub fn nothing(_: &TestRepo) {}

    impl Pr {
        /// Run `pr-risk action` with the runner's environment plus `extra`.
        pub fn action(&self, api: &str, extra: &[(&str, &str)]) -> ActionRun {
            self.action_in(self.repo.path(), api, extra)
        }

        pub fn action_in(&self, workspace: &Path, api: &str, extra: &[(&str, &str)]) -> ActionRun {
            let rp = |n: &str| self.runner.path().join(n).to_string_lossy().into_owned();
            let _ = std::fs::remove_file(rp("output"));
            let _ = std::fs::remove_file(rp("summary"));
            let mut env: BTreeMap<String, String> = [
                ("GITHUB_ACTIONS", "true".to_string()),
                ("GITHUB_WORKSPACE", workspace.to_string_lossy().into_owned()),
                ("GITHUB_EVENT_NAME", "pull_request".into()),
                ("GITHUB_EVENT_PATH", rp("event.json")),
                ("GITHUB_REPOSITORY", OWNER_REPO.into()),
                ("GITHUB_API_URL", api.to_string()),
                ("GITHUB_SERVER_URL", "https://github.com".into()),
                ("GITHUB_OUTPUT", rp("output")),
                ("GITHUB_STEP_SUMMARY", rp("summary")),
                ("INPUT_GITHUB-TOKEN", TOKEN.into()),
                ("INPUT_POST-COMMENT", String::new()),
                ("INPUT_CONFIG", String::new()),
                ("INPUT_MASSU-API-KEY", String::new()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            for (k, v) in extra {
                env.insert(k.to_string(), v.to_string());
            }
            let mut c = command(self.runner.path());
            c.arg("action").envs(&env);
            let out = run_guarded(c);
            ActionRun {
                run: out,
                summary: std::fs::read_to_string(rp("summary")).unwrap_or_default(),
            }
        }

        pub fn report_in(&self, workspace: &Path) -> Value {
            let p = workspace.join("pr-risk-report.json");
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        }

        pub fn report(&self) -> Value {
            self.report_in(self.repo.path())
        }
    }

    /// Run a command, killing it (and failing the test) if it has not finished after two
    /// minutes: a liveness guard for the hang tests, far above any normal run.
    pub fn run_guarded(mut c: std::process::Command) -> Run {
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pr-risk");
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stdout.read_to_end(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            s
        });
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("pr-risk did not finish within two minutes (hung)");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
        }
    }

    /// A permissive GitHub: check runs and comments are accepted, `GET /user` is a 403 (an
    /// installation token), comment listings are empty.
    pub fn github() -> Server {
        Server::start(|req: &Request| match (req.method.as_str(), req.route()) {
            ("POST", r) if r.ends_with("/check-runs") => {
                Reply::json(201, json!({"id": 4242, "html_url": "https://github.com/x"}))
            }
            ("PATCH", r) if r.contains("/check-runs/") => Reply::json(200, json!({"id": 4242})),
            ("GET", r) if r.ends_with("/comments") => Reply::json(200, json!([])),
            ("POST", r) if r.ends_with("/comments") => Reply::json(201, json!({"id": 9})),
            _ => Reply::json(
                403,
                json!({"message": "Resource not accessible by integration"}),
            ),
        })
    }

    /// A server that answers every request with headers announcing a large body, then sends
    /// one byte per second: a read timeout never fires.
    pub fn trickle_server() -> (u16, Arc<Mutex<usize>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(Mutex::new(0));
        let a2 = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                *a2.lock().unwrap() += 1;
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                    let _ = s.read(&mut buf);
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[";
                    if s.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    for _ in 0..600 {
                        std::thread::sleep(Duration::from_secs(1));
                        if s.write_all(b" ").and_then(|_| s.flush()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (port, accepted)
    }

    #[cfg(unix)]
    pub fn symlink(target: &Path, link: &Path) {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
    }

    /// Every form of a secret that must never be printed.
    pub fn forms(secret: &str) -> Vec<String> {
        let json = serde_json::to_string(secret).unwrap();
        let json = json.trim_matches('"').to_string();
        let mut pct = String::new();
        for b in secret.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                pct.push(b as char);
            } else {
                pct.push_str(&format!("%{b:02X}"));
            }
        }
        vec![
            secret.to_string(),
            json.clone(),
            json.replace('/', "\\/"),
            pct.clone(),
            pct.to_ascii_lowercase(),
        ]
    }

    /// What the runner shows of a workflow command's data or properties.
    pub fn unescape_workflow(s: &str) -> String {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    #[track_caller]
    pub fn assert_no_secret(secret: &str, outputs: &[&str]) {
        for f in forms(secret) {
            for o in outputs {
                for shown in [o.to_string(), unescape_workflow(o)] {
                    assert!(!shown.contains(&f), "`{f}` leaked into:\n{o}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Settings files: symlinks are never followed, and parse errors never quote file content.

#[cfg(unix)]
#[test]
fn hard_symlinked_rule_file_is_refused_and_its_target_never_printed() {
    let outside = tempfile::tempdir().unwrap();
    let creds = outside.path().join(".git-credentials");
    std::fs::write(
        &creds,
        "https://octocat:ghp_LEAKEDcredential0123456789@github.com\n",
    )
    .unwrap();
    let r = TestRepo::new();
    r.write(".pr-risk.yml", "security:\n  rule-dirs: [rules]\n")
        .write("rules/ok.yml", "rules: []\n")
        .write("src/a.ts", "export const a = 1;\n");
    r.commit("base");
    r.branch("feature");
    symlink(&creds, &r.path().join("rules/team.yml"));
    r.write("src/a.ts", "export const a = 2;\n");
    r.commit("link a rule file to the runner's credentials");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert_no_secret(
        "ghp_LEAKEDcredential0123456789",
        &[&run.stdout, &run.stderr],
    );
    assert!(
        run.stderr.contains("rules/team.yml") && run.stderr.contains("symbolic link"),
        "{}",
        run.stderr
    );
    // The configuration file itself, linked to the credentials: refused, never quoted.
    r.remove("rules/team.yml");
    r.remove(".pr-risk.yml");
    symlink(&creds, &r.path().join(".pr-risk.yml"));
    r.commit("link the configuration");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert_no_secret(
        "ghp_LEAKEDcredential0123456789",
        &[&run.stdout, &run.stderr],
    );
    assert!(
        run.stderr.contains(".pr-risk.yml") && run.stderr.contains("symbolic link"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn hard_symlinked_config_in_the_base_commit_is_refused_in_action_mode() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yml");
    std::fs::write(&secret, "threshold: 100\n").unwrap();
    let pr = pr(
        &|r: &TestRepo| symlink(&secret, &r.path().join(".pr-risk.yml")),
        &nothing,
    );
    let gh = github();
    let a = pr.action(&gh.url(), &[]);
    a.run.assert_code(2);
    assert!(
        a.run.stderr.contains(".pr-risk.yml") && a.run.stderr.contains("symbolic link"),
        "{}",
        a.run.stderr
    );
    // The link's target (a path on the runner) is not quoted either.
    assert!(!a.run.stderr.contains("secret.yml"), "{}", a.run.stderr);
    assert!(!a.summary.contains("secret.yml"), "{}", a.summary);
}

#[test]
fn hard_parse_errors_never_quote_the_file_content() {
    let r = TestRepo::new();
    r.write(".pr-risk.yml", "security:\n  rule-dirs: [rules]\n")
        .write("rules/team.yml", "ghp_NOTYAMLcontent0123456789abcdef\n")
        .write("src/a.ts", "export const a = 1;\n");
    r.commit("base");
    let run = r.run(&["score", "--base", "HEAD"]);
    run.assert_code(2);
    assert!(run.stderr.contains("rules/team.yml"), "{}", run.stderr);
    assert_no_secret(
        "ghp_NOTYAMLcontent0123456789abcdef",
        &[&run.stdout, &run.stderr],
    );

    // The same for the configuration file itself.
    r.write(".pr-risk.yml", "ghp_CONFIGcontent0123456789abcdef\n");
    r.commit("config");
    let run = r.run(&["score", "--base", "HEAD"]);
    run.assert_code(2);
    assert!(run.stderr.contains(".pr-risk.yml:1"), "{}", run.stderr);
    assert_no_secret(
        "ghp_CONFIGcontent0123456789abcdef",
        &[&run.stdout, &run.stderr],
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Caches: a cache a pull request can write is never trusted.

/// A parse cache that claims that the dependents of `src/lib/pricing.ts` import nothing
/// (which zeroes the impact of the pull request), written with a key the attacker made up.
fn hard_forged_cache(dir: &Path) {
    use engine::lang::{FileFacts, Lang};
    let attacker = engine::cache::Key::from_secret(b"the attacker's own key");
    let mut cache = engine::cache::ParseCache::open(dir, &attacker);
    for text in [
        "import { price } from './lib/pricing';\nexport const cart = price;\n",
        "import { cart } from './cart';\nexport const total = cart;\n",
        "import { total } from './checkout';\nconsole.log(total);\n",
    ] {
        let oid = git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).unwrap();
        let facts = FileFacts {
            lines: 2,
            ..FileFacts::default()
        };
        cache.put(
            oid,
            Lang::TypeScript,
            text.len() as u64,
            &Ok(std::sync::Arc::new(facts)),
        );
    }
    cache.save();
    assert!(cache.stats.written, "{:?}", cache.stats);
}

fn hard_downstream(report: &Value) -> u64 {
    report["dimensions"]["impact"]["evidence"]["files"][0]["downstream"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn hard_a_cache_committed_inside_the_checkout_is_never_read_in_action_mode() {
    let pr = pr(&nothing, &nothing);
    // The forged cache is part of the pull request, where the old docs kept the cache.
    let cache = pr.repo.path().join(".pr-risk-cache");
    hard_forged_cache(&cache);
    pr.repo.commit("add a cache");
    let gh = github();
    let dir = cache.to_string_lossy().into_owned();
    let a = pr.action(&gh.url(), &[("PR_RISK_CACHE_DIR", &dir)]);
    a.run.assert_code(0);
    let report = pr.report();
    assert_eq!(hard_downstream(&report), 3, "{report:#}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("cache-not-used"), "{notes}");
    assert!(notes.contains("inside the checkout"), "{notes}");
}

#[test]
fn hard_a_forged_cache_outside_the_checkout_fails_its_mac() {
    let pr = pr(&nothing, &nothing);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    hard_forged_cache(&cache);
    let c = cache.to_string_lossy().into_owned();
    let run = pr.repo.run(&[
        "score",
        "--base",
        "main",
        "--format",
        "json",
        "--cache-dir",
        &c,
        "--timings",
    ]);
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(hard_downstream(&report), 3, "{report:#}");
    assert!(
        run.stderr
            .contains("rebuilt (not written with this host's cache key"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn hard_a_symlinked_cache_directory_is_refused() {
    let pr = pr(&nothing, &nothing);
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("parse-v1.bin"), "precious").unwrap();
    let link = dir.path().join("cache");
    symlink(&victim, &link);
    let c = link.to_string_lossy().into_owned();
    let run = pr
        .repo
        .run(&["score", "--base", "main", "--cache-dir", &c, "--timings"]);
    run.assert_code(0);
    let names: Vec<String> = std::fs::read_dir(&victim)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["parse-v1.bin".to_string()],
        "nothing written or removed"
    );
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// 4. Tokens: never printed, in any encoding.

/// A GitHub that echoes the `Authorization` header in every error body, as a misbehaving proxy
/// might, and in the own-login lookup the action logs.
fn hard_echoing_github() -> Server {
    Server::start(move |req: &Request| {
        let auth = req.header("authorization").unwrap_or("").to_string();
        match (req.method.as_str(), req.route()) {
            ("GET", "/user") => {
                Reply::json(403, json!({"message": format!("Bad credentials: {auth}")}))
            }
            _ => Reply::json(
                422,
                json!({"message": format!("Validation failed for {auth}")}),
            ),
        }
    })
}

#[test]
fn hard_a_token_echoed_raw_is_scrubbed() {
    let pr = pr(&nothing, &nothing);
    let gh = hard_echoing_github();
    let a = pr.action(&gh.url(), &[("RUST_LOG", "info")]);
    a.run.assert_code(0);
    assert!(
        gh.requests().iter().any(|r| r.route() == "/user"),
        "the own-login lookup ran"
    );
    assert!(
        a.run.stdout.contains("could not create the check run"),
        "{}",
        a.run.stdout
    );
    assert_no_secret(TOKEN, &[&a.run.stdout, &a.run.stderr, &a.summary]);
}

const HARD_KEY: &str = "mk_live/abc+def=0123456789";

/// The action with a Massu API key whose cloud rejects the record, quoting the key as `quote`
/// writes it; nothing of the key is printed.
fn hard_cloud_leak_check(quote: fn(&str) -> String) {
    let cloud = Server::start(move |req: &Request| {
        let auth = req.header("authorization").unwrap_or("").to_string();
        Reply::Respond {
            status: 422,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(
                "{{\"error\": \"bad key {}\", \"code\": \"invalid\"}}",
                quote(&auth)
            ),
        }
    });
    let pr = pr(&nothing, &nothing);
    let gh = github();
    let url = cloud.url();
    let a = pr.action(
        &gh.url(),
        &[("INPUT_MASSU-API-KEY", HARD_KEY), ("INPUT_API-URL", &url)],
    );
    a.run.assert_code(0);
    assert!(
        a.run.stdout.contains("Massu cloud sync failed"),
        "{}",
        a.run.stdout
    );
    assert!(a.run.stdout.contains("bad key"), "{}", a.run.stdout);
    assert_no_secret(HARD_KEY, &[&a.run.stdout, &a.run.stderr, &a.summary]);
    // Nor does the GitHub token reach the cloud, nor the key GitHub.
    for r in gh.requests() {
        assert_no_secret(HARD_KEY, &[&r.body]);
    }
    for r in cloud.requests() {
        assert_no_secret(TOKEN, &[&r.body]);
    }
}

#[test]
fn hard_a_key_echoed_json_escaped_is_scrubbed() {
    // serde_json never escapes `/`; other JSON writers do (`\/`).
    hard_cloud_leak_check(|s| s.replace('/', "\\/"));
}

#[test]
fn hard_a_key_echoed_url_encoded_is_scrubbed() {
    hard_cloud_leak_check(|s| {
        s.replace('/', "%2F")
            .replace('+', "%2B")
            .replace('=', "%3D")
            .replace(' ', "%20")
    });
}

// ---------------------------------------------------------------------------------------------
// 6. Injection: hostile file names in every sink.

/// A file that gets a finding (`ts/eval`), under a hostile name.
fn hard_hostile_pr(name: &str) -> TestRepo {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n");
    r.commit("base");
    r.branch("feature");
    r.write(name, "export const r = eval(userInput);\n");
    r.commit("hostile name");
    r
}

#[test]
fn hard_terminal_output_escapes_ansi_and_osc8_in_file_names() {
    // (No `/` in the link: it would be a directory separator.)
    let name = "src/\u{1b}]8;;https:evil.example\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J.ts";
    let r = hard_hostile_pr(name);
    let run = r.run(&["score", "--base", "main", "--color", "never"]);
    run.assert_code(0);
    assert!(run.stdout.contains("[HIGH]"), "{}", run.stdout);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    assert!(!run.stdout.contains('\u{7}'), "{:?}", run.stdout);
    assert!(
        run.stdout
            .contains("src/\\x1B]8;;https:evil.example\\x07click\\x1B]8;;\\x07\\x1B[2J.ts:1"),
        "{}",
        run.stdout
    );
    // Colour on: only pr-risk's own SGR codes.
    let run = r.run(&["score", "--base", "main", "--color", "always"]);
    assert!(!run.stdout.contains("\u{1b}]"), "{:?}", run.stdout);
    assert!(!run.stdout.contains("\u{1b}[2J"), "{:?}", run.stdout);
}

#[test]
fn hard_markdown_output_escapes_backticks_html_links_and_mentions() {
    let r = hard_hostile_pr("src/x`<img src=x onerror=alert(1)>`.ts");
    // A binary file whose name is a mention, an image and a link: it lands in the notes.
    r.write(
        "assets/@octocat ![p](https:evil.example) [c](https:evil.example).bin",
        [0u8, 159, 146, 150, 0, 1, 2],
    );
    r.commit("binary");
    let run = r.run(&["score", "--base", "main", "--format", "markdown"]);
    run.assert_code(0);
    let md = &run.stdout;
    // The path is one code span whose fence is longer than any backtick run inside it.
    assert!(
        md.contains("`` src/x`<img src=x onerror=alert(1)>`.ts:1 ``"),
        "{md}"
    );
    assert!(!md.contains("`src/x`<img"), "{md}");
    // Notes: no mention, image or link survives.
    assert!(!md.contains("@octocat"), "{md}");
    assert!(md.contains("@&#8203;octocat"), "{md}");
    assert!(!md.contains("[p]("), "{md}");
    assert!(!md.contains("[c]("), "{md}");
    assert!(md.contains("\\[c\\]"), "{md}");
}

#[test]
fn hard_job_log_cannot_receive_workflow_commands_from_file_names() {
    let pr = pr(&nothing, &|r: &TestRepo| {
        r.write(
            "src/x\n::add-mask::ghs_\n::stop-commands::zz\n.ts",
            "export const r = eval(userInput);\n",
        );
    });
    let gh = github();
    let a = pr.action(&gh.url(), &[]);
    a.run.assert_code(0);
    for line in a.run.stdout.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::add-mask::") && !t.starts_with("::stop-commands::zz"),
            "a file name became a workflow command: {line:?}\n{}",
            a.run.stdout
        );
    }
    assert!(a.run.stdout.contains("[HIGH]"), "{}", a.run.stdout);
}

// ---------------------------------------------------------------------------------------------
// 7. Hangs: every GitHub request and the whole GitHub outlet have a deadline.

#[test]
fn hard_a_github_api_that_trickles_is_cut_by_the_deadline() {
    let (port, accepted) = trickle_server();
    let pr = pr(
        &|r: &TestRepo| {
            r.write(".pr-risk.yml", "github:\n  timeout-seconds: 3\n");
        },
        &nothing,
    );
    let a = pr.action(&format!("http://127.0.0.1:{port}"), &[]);
    a.run.assert_code(0);
    assert!(*accepted.lock().unwrap() >= 1);
    assert!(a.run.stdout.contains("deadline"), "{}", a.run.stdout);
    // The gate and the report still come out.
    assert!(pr.report()["composite"]["score"].is_u64());
    assert!(a.summary.contains("PR Risk Report"), "{}", a.summary);
}

#[test]
fn hard_a_github_api_that_never_answers_is_cut_by_the_deadline() {
    let server = Server::start(|_: &Request| Reply::Hang);
    let pr = pr(
        &|r: &TestRepo| {
            r.write(".pr-risk.yml", "github:\n  timeout-seconds: 3\n");
        },
        &nothing,
    );
    let a = pr.action(&server.url(), &[]);
    a.run.assert_code(0);
    assert!(a.run.stdout.contains("deadline"), "{}", a.run.stdout);
    assert!(pr.report()["composite"]["score"].is_u64());
}

// ---------------------------------------------------------------------------------------------
// 8. Output paths never leave the workspace.

#[cfg(unix)]
#[test]
fn hard_sarif_file_through_a_committed_symlink_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().to_path_buf();
    let pr = pr(&nothing, &|r: &TestRepo| {
        symlink(&victim, &r.path().join("reports"));
    });
    let gh = github();
    let a = pr.action(&gh.url(), &[("INPUT_SARIF-FILE", "reports/x.sarif")]);
    a.run.assert_code(0);
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "nothing written outside"
    );
    assert!(a.run.stdout.contains("symbolic link"), "{}", a.run.stdout);

    let a = pr.action(&gh.url(), &[("INPUT_SARIF-FILE", "../escape.sarif")]);
    a.run.assert_code(0);
    assert!(!pr
        .repo
        .path()
        .parent()
        .unwrap()
        .join("escape.sarif")
        .exists());
    assert!(
        a.run.stdout.contains("outside the workspace"),
        "{}",
        a.run.stdout
    );

    // An ordinary path in a new directory works.
    let a = pr.action(&gh.url(), &[("INPUT_SARIF-FILE", "out/x.sarif")]);
    a.run.assert_code(0);
    assert!(
        pr.repo.path().join("out/x.sarif").is_file(),
        "{}",
        a.run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Denial of service: caps with a note.

#[test]
fn hard_deeply_nested_inline_rust_modules_are_capped_with_a_note() {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"deep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .write("src/lib.rs", "pub fn f() {}\n");
    r.commit("base");
    r.branch("feature");
    let depth = 3000;
    let mut src = String::new();
    for _ in 0..depth {
        src.push_str("mod m {\n");
    }
    src.push_str("fn g() {}\n");
    for _ in 0..depth {
        src.push_str("}\n");
    }
    r.write("src/lib.rs", format!("pub fn f() {{}}\n{src}"));
    r.commit("deep");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let notes: Vec<&Value> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["code"] == "limit-reached")
        .collect();
    assert_eq!(notes.len(), 1, "{:#}", v["notes"]);
    assert!(
        notes[0]["message"].as_str().unwrap().contains("src/lib.rs"),
        "{:#}",
        v["notes"]
    );
}

#[test]
fn hard_deeply_nested_pnpm_workspace_is_capped_with_a_note() {
    let r = TestRepo::new();
    r.write("src/a.ts", "export const a = 1;\n");
    r.commit("base");
    r.branch("feature");
    let depth = 5000;
    let yaml = format!("packages: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    r.write("pnpm-workspace.yaml", yaml)
        .write("src/a.ts", "export const a = 2;\n");
    r.commit("deep yaml");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let notes = v["notes"].to_string();
    assert!(notes.contains("limit-reached"), "{notes}");
    assert!(notes.contains("pnpm-workspace.yaml"), "{notes}");
}

#[test]
fn hard_thousands_of_findings_send_a_capped_number_of_annotations() {
    let pr = pr(&nothing, &|r: &TestRepo| {
        let mut src = String::new();
        for i in 0..1500 {
            src.push_str(&format!("export const r{i} = eval(userInput{i});\n"));
        }
        r.write("src/evil.ts", src);
    });
    let gh = github();
    let a = pr.action(&gh.url(), &[("INPUT_POST-COMMENT", "false")]);
    a.run.assert_code(0);
    let requests: Vec<Request> = gh
        .requests()
        .into_iter()
        .filter(|r| r.route().contains("/check-runs"))
        .collect();
    let sent: usize = requests
        .iter()
        .map(|r| {
            r.json()["output"]["annotations"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert!(requests.len() <= 6, "{} check-run requests", requests.len());
    assert!(sent <= 250, "{sent} annotations sent");
    let report = pr.report();
    assert_eq!(
        report["dimensions"]["security"]["evidence"]["new"]
            .as_array()
            .unwrap()
            .len(),
        1500
    );
    let notes = report["notes"].to_string();
    assert!(notes.contains("limit-reached"), "{notes}");
    assert!(notes.contains("1500"), "{notes}");
}

// ---------------------------------------------------------------------------------------------
// 10. The git child process: no secrets in its environment, no repository hooks.

#[cfg(unix)]
#[test]
fn hard_the_git_child_gets_no_secrets_and_no_hooks() {
    use std::os::unix::fs::PermissionsExt;
    let Ok(real) = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
    else {
        eprintln!("skipping: no sh");
        return;
    };
    let real_git = String::from_utf8_lossy(&real.stdout).trim().to_string();
    if real_git.is_empty() {
        eprintln!("skipping: no git CLI");
        return;
    }
    let pr = pr(&nothing, &nothing);
    {
        let mut cfg = pr.repo.repo.config().unwrap();
        cfg.set_bool("uploadpack.allowAnySHA1InWant", true).unwrap();
    }
    // A workspace that has `main` but not the pull request's head: pr-risk fetches it.
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let ok = std::process::Command::new(&real_git)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir.path())
        .args([
            "clone",
            "--quiet",
            "--no-local",
            "--single-branch",
            "--branch=main",
        ])
        .arg(format!("file://{}", pr.repo.path().display()))
        .arg(&ws)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "git clone");
    // Hooks and an fsmonitor in the repository's config: never run.
    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let marker = dir.path().join("hook-ran");
    for hook in ["reference-transaction", "post-checkout", "fsmonitor"] {
        let p = hooks.join(hook);
        std::fs::write(&p, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    {
        let repo = git2::Repository::open(&ws).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("core.hooksPath", &hooks.to_string_lossy())
            .unwrap();
        cfg.set_str("core.fsmonitor", &hooks.join("fsmonitor").to_string_lossy())
            .unwrap();
    }
    // A `git` first on PATH that records its arguments and environment.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("git.log");
    let wrapper = bin.join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n{{ echo \"ARGS: $*\"; env; }} >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_git
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let gh = github();
    let ws_s = ws.to_string_lossy().into_owned();
    let a = pr.action_in(
        &ws,
        &gh.url(),
        &[
            ("GITHUB_WORKSPACE", &ws_s),
            ("PATH", &path),
            ("GITHUB_TOKEN", "ghs_envtoken0123456789"),
            ("MASSU_API_KEY", "mk_envkey0123456789"),
        ],
    );
    a.run.assert_code(0);
    let log = std::fs::read_to_string(&log).expect("git ran");
    assert!(log.contains("ARGS: "), "{log}");
    for secret in [TOKEN, "ghs_envtoken0123456789", "mk_envkey0123456789"] {
        assert!(!log.contains(secret), "{secret} reached git:\n{log}");
    }
    for line in log.lines().filter(|l| l.starts_with("ARGS: ")) {
        assert!(line.contains("core.fsmonitor="), "{line}");
        assert!(line.contains("core.hooksPath=/dev/null"), "{line}");
    }
    assert!(!marker.exists(), "a repository hook ran");
    assert!(pr.report_in(&ws)["composite"]["score"].is_u64());
}

// ---------------------------------------------------------------------------------------------
// 11, 12. Tokens that cannot be sent; redirects and pagination to another origin; `../` config.

#[test]
fn hard_a_token_with_a_control_character_does_not_panic() {
    let pr = pr(&nothing, &nothing);
    let gh = github();
    let a = pr.action(
        &gh.url(),
        &[("INPUT_GITHUB-TOKEN", "ghs_abc\u{7}def0123456789")],
    );
    a.run.assert_code(0);
    assert!(!a.run.stderr.contains("panicked"), "{}", a.run.stderr);
    assert!(a.run.stdout.contains("github-token"), "{}", a.run.stdout);
    assert!(gh.requests().is_empty());
    assert!(pr.report()["composite"]["score"].is_u64());
}

#[test]
fn hard_the_cloud_record_is_never_reposted_to_another_host() {
    let elsewhere = Server::start(|_: &Request| Reply::json(201, json!({"id": "stolen"})));
    // Another origin (another port of the same host).
    let target = format!("{}/api/v1/risk/prs", elsewhere.url());
    let cloud =
        Server::start(move |_: &Request| Reply::text(307, "moved").header("location", &target));
    let pr = pr(&nothing, &nothing);
    let gh = github();
    let url = cloud.url();
    let a = pr.action(
        &gh.url(),
        &[
            ("INPUT_MASSU-API-KEY", "mk_live_redirect0123"),
            ("INPUT_API-URL", &url),
        ],
    );
    a.run.assert_code(0);
    assert!(
        elsewhere.requests().is_empty(),
        "the record was re-posted elsewhere"
    );
    assert!(
        a.run.stdout.contains("Massu cloud sync failed"),
        "{}",
        a.run.stdout
    );
    assert!(a.run.stdout.contains("redirect"), "{}", a.run.stdout);
}

#[test]
fn hard_github_redirects_and_pagination_to_another_origin_are_not_followed() {
    let elsewhere = Server::start(|_: &Request| Reply::json(200, json!([])));
    let o2 = elsewhere.url();
    let gh = Server::start(
        move |req: &Request| match (req.method.as_str(), req.route()) {
            ("POST", r) if r.ends_with("/check-runs") => {
                Reply::text(307, "moved").header("location", &format!("{o2}/check-runs"))
            }
            ("GET", r) if r.ends_with("/comments") => Reply::json(200, json!([])).header(
                "link",
                &format!("<{o2}/repos/{OWNER_REPO}/issues/{PR}/comments?page=2>; rel=\"next\""),
            ),
            ("POST", r) if r.ends_with("/comments") => Reply::json(201, json!({"id": 9})),
            _ => Reply::json(403, json!({"message": "no"})),
        },
    );
    let pr = pr(&nothing, &nothing);
    let a = pr.action(&gh.url(), &[]);
    a.run.assert_code(0);
    assert!(
        elsewhere.requests().is_empty(),
        "followed to another origin: {:?}",
        elsewhere.lines()
    );
    assert!(a.run.stdout.contains("another origin"), "{}", a.run.stdout);
}

#[test]
fn hard_a_config_path_outside_the_repository_is_a_usage_error() {
    let pr = pr(&nothing, &nothing);
    let gh = github();
    let a = pr.action(&gh.url(), &[("INPUT_CONFIG", "../outside.yml")]);
    a.run.assert_code(2);
    assert!(a.run.stderr.contains("../outside.yml"), "{}", a.run.stderr);
    assert!(
        a.run.stderr.contains("inside the repository"),
        "{}",
        a.run.stderr
    );
}
