//! Local use: the pre-push hook through a real `git push` to a local bare remote, output formats
//! (SARIF validated against the official 2.1.0 schema, Markdown), terminal behaviour on a pty and
//! on pipes, `--worktree`, `--quiet`, `init`, completions and `--version`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{command, RunPrRisk, TestRepo};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A TypeScript project on `main` with a remote `origin` (a bare repository in its own temp dir)
/// that already has `main`. Changing `price` in `src/lib/pricing.ts` reaches two modules (nonzero
/// impact).
struct Pushable {
    repo: TestRepo,
    remote: tempfile::TempDir,
}

impl Pushable {
    fn new() -> Pushable {
        let repo = TestRepo::new();
        repo.write("src/lib/pricing.ts", "export const price = 1;\n")
            .write(
                "src/cart.ts",
                "import { price } from './lib/pricing';\nexport const cart = price;\n",
            )
            .write(
                "src/index.ts",
                "import { cart } from './cart';\nconsole.log(cart);\n",
            );
        repo.commit("initial");
        let remote = tempfile::tempdir().unwrap();
        git2::Repository::init_bare(remote.path()).unwrap();
        let p = Pushable { repo, remote };
        p.git(&["remote", "add", "origin", p.remote.path().to_str().unwrap()])
            .assert_ok();
        p.git(&["push", "origin", "main"]).assert_ok();
        p
    }

    fn path(&self) -> &Path {
        self.repo.path()
    }

    /// Run the `git` CLI in the repository with a clean environment (no user or system config).
    fn git(&self, args: &[&str]) -> GitRun {
        self.git_env(args, &[])
    }

    fn git_env(&self, args: &[&str], env: &[(&str, &str)]) -> GitRun {
        let mut c = git_command(self.path());
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("run git");
        GitRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The sha of `refs/heads/<branch>` on the remote, if it exists.
    fn remote_branch(&self, branch: &str) -> Option<String> {
        let r = git2::Repository::open_bare(self.remote.path()).unwrap();
        r.find_reference(&format!("refs/heads/{branch}"))
            .ok()
            .and_then(|x| x.target())
            .map(|o| o.to_string())
    }

    /// A feature branch that changes the shared pricing module.
    fn feature(&self, name: &str) -> String {
        self.repo.branch(name);
        self.repo
            .write("src/lib/pricing.ts", "export const price = 2;\n");
        self.repo.commit("change price").to_string()
    }

    fn install(&self) {
        self.repo.run(&["hook", "install"]).assert_code(0);
    }
}

fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GIT_")
            || k.starts_with("PR_RISK_")
            || k.starts_with("PRE_COMMIT_")
            || k == "NO_COLOR"
        {
            c.env_remove(k);
        }
    }
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir.join(".no-home"))
        .env("XDG_CONFIG_HOME", dir.join(".no-home"))
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .stdin(Stdio::null());
    c
}

#[derive(Debug)]
struct GitRun {
    code: i32,
    stdout: String,
    stderr: String,
}

impl GitRun {
    #[track_caller]
    fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "git failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn assert_failed(&self) -> &Self {
        assert_ne!(
            self.code, 0,
            "git succeeded\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

fn block_everything(p: &Pushable) {
    // Untracked: the hook reads the configuration from the working tree.
    p.repo.write(".pr-risk.yml", "threshold: 0\n");
}

// ---------------------------------------------------------------------------------------------
// The pre-push hook, through real pushes

#[test]
fn hook_allows_a_new_branch_under_the_threshold() {
    let p = Pushable::new();
    p.install();
    let head = p.feature("feature");
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_ok();
    assert_eq!(p.remote_branch("feature").as_deref(), Some(head.as_str()));
    assert!(
        run.stderr
            .contains("pr-risk: feature (vs origin/main (new branch)): risk "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("pass (blocks above 70)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "top impact: src/lib/pricing.ts — what changed in it reaches 2 of its 2 dependents"
        ),
        "{}",
        run.stderr
    );
    // No colour: git's hook stderr is not a terminal here.
    assert!(!run.stderr.contains('\x1b'), "{}", run.stderr);
}

#[test]
fn hook_blocks_and_says_how_to_bypass() {
    let p = Pushable::new();
    p.install();
    block_everything(&p);
    p.feature("feature");
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_failed();
    assert_eq!(p.remote_branch("feature"), None, "the push must not land");
    assert!(
        run.stderr.contains("BLOCKED (blocks above 0)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("is above the threshold 0"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("pr-risk: push blocked"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("git push --no-verify"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("PR_RISK_SKIP=1 git push"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--explain"), "{}", run.stderr);
}

#[test]
fn hook_bypasses() {
    let p = Pushable::new();
    p.install();
    block_everything(&p);
    let head = p.feature("feature");
    let run = p.git_env(&["push", "origin", "feature"], &[("PR_RISK_SKIP", "1")]);
    run.assert_ok();
    assert!(
        run.stderr.contains("skipped (PR_RISK_SKIP is set)"),
        "{}",
        run.stderr
    );
    assert_eq!(p.remote_branch("feature").as_deref(), Some(head.as_str()));

    p.repo.branch("other");
    p.repo.write(
        "src/cart.ts",
        "import { price } from './lib/pricing';\nexport const cart = price * 2;\n",
    );
    let other = p.repo.commit("double").to_string();
    p.git(&["push", "origin", "other"]).assert_failed();
    let run = p.git(&["push", "--no-verify", "origin", "other"]);
    run.assert_ok();
    assert!(!run.stderr.contains("pr-risk"), "{}", run.stderr);
    assert_eq!(p.remote_branch("other").as_deref(), Some(other.as_str()));
}

#[test]
fn hook_scores_an_existing_branch_from_the_remote_tip_and_skips_deletions_and_tags() {
    let p = Pushable::new();
    p.install();
    p.feature("feature");
    p.git(&["push", "origin", "feature"]).assert_ok();
    // A second push of the same branch compares with what the remote has.
    p.repo.write(
        "src/cart.ts",
        "import { price } from './lib/pricing';\nexport const cart = price * 3;\n",
    );
    p.repo.commit("triple");
    block_everything(&p);
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_failed();
    assert!(
        run.stderr
            .contains("pr-risk: feature (vs origin/feature): risk"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 file(s), +1 −1"), "{}", run.stderr);

    // Deleting the branch is never scored, even with threshold 0.
    let run = p.git(&["push", "origin", ":feature"]);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("pr-risk: feature: skipped (deleted on the remote"),
        "{}",
        run.stderr
    );
    assert_eq!(p.remote_branch("feature"), None);

    // Tags are skipped.
    p.git(&["tag", "v1.0"]).assert_ok();
    let run = p.git(&["push", "origin", "v1.0"]);
    run.assert_ok();
    assert!(
        run.stderr.contains("skipped (tags are not scored)"),
        "{}",
        run.stderr
    );
}

#[test]
fn hook_handles_several_refs_in_one_push() {
    let p = Pushable::new();
    p.install();
    p.feature("a");
    p.repo.branch("b");
    p.repo.write(
        "src/cart.ts",
        "import { price } from './lib/pricing';\nexport const cart = price + 1;\n",
    );
    p.repo.commit("b");
    let run = p.git(&["push", "origin", "a", "b"]);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("pr-risk: a (vs origin/main (new branch))"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("pr-risk: b (vs origin/main (new branch))"),
        "{}",
        run.stderr
    );
    assert!(p.remote_branch("a").is_some() && p.remote_branch("b").is_some());
}

#[test]
fn hook_warn_mode_reports_and_pushes() {
    let p = Pushable::new();
    p.install();
    p.repo
        .write(".pr-risk.yml", "threshold: 0\nhook:\n  mode: warn\n");
    let head = p.feature("feature");
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_ok();
    assert!(run.stderr.contains("BLOCKED"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning only (hook.mode: warn); pushing anyway"),
        "{}",
        run.stderr
    );
    assert_eq!(p.remote_branch("feature").as_deref(), Some(head.as_str()));
}

const USER_HOOK: &str = "#!/bin/sh\n# the team's own hook\ncat > \"$(git rev-parse --git-dir)/user-hook-saw\"\necho \"$1 $2\" >> \"$(git rev-parse --git-dir)/user-hook-saw\"\nexit 0\n";

fn write_hook(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn hook_keeps_an_existing_hook_and_restores_it() {
    let p = Pushable::new();
    let hooks = p.path().join(".git/hooks");
    write_hook(&hooks.join("pre-push"), USER_HOOK);
    let run = p.repo.run(&["hook", "install"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("existing hook was kept"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push.pr-risk-saved")).unwrap(),
        USER_HOOK
    );

    let head = p.feature("feature");
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_ok();
    // Both ran: the user's hook got git's input and arguments, pr-risk scored the branch.
    let saw = std::fs::read_to_string(p.path().join(".git/user-hook-saw")).unwrap();
    assert!(
        saw.starts_with(&format!(
            "refs/heads/feature {head} refs/heads/feature {}",
            "0".repeat(40)
        )),
        "{saw}"
    );
    assert!(
        saw.contains(&format!("origin {}", p.remote.path().display())),
        "{saw}"
    );
    assert!(
        run.stderr
            .contains("pr-risk: feature (vs origin/main (new branch))"),
        "{}",
        run.stderr
    );

    // Re-installing keeps the chain (and does not save our own script over the user's).
    p.repo.run(&["hook", "install"]).assert_code(0);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push.pr-risk-saved")).unwrap(),
        USER_HOOK
    );
    assert!(std::fs::read_to_string(hooks.join("pre-push"))
        .unwrap()
        .contains("PR_RISK_CHAIN=1"));

    // A failing user hook still stops the push.
    write_hook(
        &hooks.join("pre-push.pr-risk-saved"),
        "#!/bin/sh\necho 'team hook says no' >&2\nexit 1\n",
    );
    p.repo.write(
        "src/cart.ts",
        "import { price } from './lib/pricing';\nexport const cart = price + 3;\n",
    );
    p.repo.commit("more");
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_failed();
    assert!(run.stderr.contains("team hook says no"), "{}", run.stderr);
    write_hook(&hooks.join("pre-push.pr-risk-saved"), USER_HOOK);

    let run = p.repo.run(&["hook", "uninstall"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("restored the previous one"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        USER_HOOK
    );
    assert!(!hooks.join("pre-push.pr-risk-saved").exists());
}

#[test]
fn hook_force_replaces_without_chaining_and_uninstall_restores() {
    let p = Pushable::new();
    let hooks = p.path().join(".git/hooks");
    write_hook(
        &hooks.join("pre-push"),
        "#!/bin/sh\necho 'old hook ran' >&2\nexit 0\n",
    );
    let run = p.repo.run(&["hook", "install", "--force"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("replaced the pre-push hook"),
        "{}",
        run.stderr
    );
    p.feature("feature");
    let run = p.git(&["push", "origin", "feature"]);
    run.assert_ok();
    assert!(!run.stderr.contains("old hook ran"), "{}", run.stderr);
    p.repo.run(&["hook", "uninstall"]).assert_code(0);
    assert!(std::fs::read_to_string(hooks.join("pre-push"))
        .unwrap()
        .contains("old hook ran"));
}

#[test]
fn hook_honours_core_hooks_path_and_refuses_foreign_uninstall() {
    let p = Pushable::new();
    p.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    let run = p.repo.run(&["hook", "install"]);
    run.assert_code(0);
    let hook = p.path().join(".githooks/pre-push");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(
        text.starts_with("#!/bin/sh\n# pr-risk: managed pre-push hook"),
        "{text}"
    );
    assert!(
        text.contains(env!("CARGO_BIN_EXE_pr-risk")),
        "absolute binary path:\n{text}"
    );
    assert!(!p.path().join(".git/hooks/pre-push").exists());
    block_everything(&p);
    p.feature("feature");
    p.git(&["push", "origin", "feature"]).assert_failed();

    p.repo.run(&["hook", "uninstall"]).assert_code(0);
    assert!(!hook.exists());
    write_hook(&hook, "#!/bin/sh\nexit 0\n");
    let run = p.repo.run(&["hook", "uninstall"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("was not installed by pr-risk"),
        "{}",
        run.stderr
    );
    assert!(hook.exists());
}

#[test]
fn hook_falls_back_to_path_when_the_binary_moved() {
    let p = Pushable::new();
    p.install();
    let hook = p.path().join(".git/hooks/pre-push");
    let text = std::fs::read_to_string(&hook)
        .unwrap()
        .replace(env!("CARGO_BIN_EXE_pr-risk"), "/nonexistent/pr-risk");
    write_hook(&hook, &text);
    p.feature("feature");
    // Not on PATH either: the push goes through with a message (unless this machine has a
    // pr-risk installed system-wide, which would be found instead).
    let system_path = "/usr/bin:/bin:/usr/local/bin";
    if !system_path
        .split(':')
        .any(|d| Path::new(d).join("pr-risk").exists())
    {
        let run = p.git_env(&["push", "origin", "feature"], &[("PATH", system_path)]);
        run.assert_ok();
        assert!(run.stderr.contains("binary not found"), "{}", run.stderr);
    }
    // On PATH: it is used.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_pr-risk")).parent().unwrap();
    let path = format!("{}:/usr/bin:/bin:/usr/local/bin", bin_dir.display());
    p.repo.write(
        "src/cart.ts",
        "import { price } from './lib/pricing';\nexport const cart = price + 9;\n",
    );
    p.repo.commit("more");
    let run = p.git_env(&["push", "origin", "feature"], &[("PATH", &path)]);
    run.assert_ok();
    assert!(
        run.stderr.contains("pr-risk: feature (vs origin/"),
        "{}",
        run.stderr
    );
}

#[test]
fn pre_push_rejects_malformed_input() {
    let p = Pushable::new();
    let mut child = command(p.path())
        .args(["hook", "pre-push", "origin", "x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"not four fields\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected pre-push input line"), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
}

#[test]
fn pre_push_reads_the_pre_commit_frameworks_variables() {
    // pre-commit reads git's input itself and exports the first pushed ref; stdin is empty.
    let p = Pushable::new();
    let base = p.repo.head().to_string();
    let head = p.feature("feature");
    let out = command(p.path())
        .args(["hook", "pre-push"])
        .env("PRE_COMMIT_FROM_REF", &base)
        .env("PRE_COMMIT_TO_REF", &head)
        .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/feature")
        .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/feature")
        .env("PRE_COMMIT_REMOTE_NAME", "origin")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("pr-risk: feature (vs origin/feature): risk "),
        "{err}"
    );
    assert!(err.contains("1 file(s), +1 −1"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Formats

pub(crate) fn sarif_validator() -> jsonschema::Validator {
    let mut schema: serde_json::Value =
        serde_json::from_str(include_str!("../sarif-schema-2.1.0.json")).unwrap();
    // The official file has a malformed regex (a stray `]`) in the `language` patterns of `run`
    // and `toolComponent`, which the meta-schema's `format: regex` rejects. pr-risk writes no
    // `language`; patch those patterns in memory to what they mean and keep the rest as published.
    fn patch(v: &mut serde_json::Value, n: &mut usize) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                        *n += 1;
                    } else {
                        patch(x, n);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| patch(x, n)),
            _ => {}
        }
    }
    let mut patched = 0;
    patch(&mut schema, &mut patched);
    assert_eq!(patched, 2, "the schema file changed");
    // This copy keeps the log-file object under `definitions.Root` with nothing at the top level
    // pointing to it, so as shipped it would accept any JSON at all. Validate against Root.
    assert!(schema.get("$ref").is_none() && schema.get("properties").is_none());
    assert_eq!(
        schema["definitions"]["Root"]["required"],
        serde_json::json!(["version", "runs"])
    );
    schema["$ref"] = serde_json::json!("#/definitions/Root");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

#[track_caller]
fn assert_valid_sarif(doc: &serde_json::Value) {
    let v = sarif_validator();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

#[test]
fn sarif_from_the_binary_validates() {
    let p = Pushable::new();
    p.feature("feature");
    let out = p.path().join("out.sarif");
    let run = p.repo.run(&[
        "score",
        "--base",
        "main",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    run.assert_code(0);
    assert_eq!(run.stdout, "");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_valid_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["tool"]["driver"]["name"], "pr-risk");
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(doc["runs"][0]["properties"]["pr-risk"]["blocked"], false);
}

#[test]
fn sarif_with_findings_and_violations_validates() {
    use outlets::render::sarif::{
        document, Category, SarifResult, SarifRule, Severity, FINGERPRINT_KEY,
    };
    let rule = |id: &str, sev, cat| SarifRule {
        id: id.to_string(),
        name: "Rule".to_string(),
        short_description: format!("{id} short"),
        full_description: String::new(),
        help: format!("How to fix {id}."),
        help_uri: Some("https://example.com/rules".to_string()),
        severity: sev,
        category: cat,
        tags: vec!["external/cwe/cwe-79".to_string()],
    };
    let results = vec![
        SarifResult {
            rule: rule("js/xss", Severity::High, Category::Security),
            severity: None,
            message: "innerHTML set from user input".to_string(),
            path: "src/ui/page.ts".to_string(),
            start_line: 12,
            start_column: Some(5),
            end_line: Some(12),
            end_column: Some(40),
            snippet: Some("el.innerHTML = params.get('q');".to_string()),
            fingerprint: None,
        },
        SarifResult {
            rule: rule("js/eval", Severity::Critical, Category::Security),
            severity: Some(Severity::Medium),
            message: "eval".to_string(),
            path: "src/a.ts".to_string(),
            start_line: 1,
            start_column: None,
            end_line: None,
            end_column: None,
            snippet: None,
            fingerprint: None,
        },
        SarifResult {
            rule: rule(
                "coupling/ui-must-not-import-db",
                Severity::Low,
                Category::Coupling,
            ),
            severity: None,
            message:
                "src/ui/page.ts imports src/db/client.ts (forbidden by rule ui-must-not-import-db)"
                    .to_string(),
            path: "src/ui/page.ts".to_string(),
            start_line: 1,
            start_column: Some(1),
            end_line: None,
            end_column: None,
            snippet: Some("import { db } from '../db/client';".to_string()),
            fingerprint: None,
        },
    ];
    let doc = document(&results, "0.1.0", serde_json::Map::new());
    assert_valid_sarif(&doc);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["coupling/ui-must-not-import-db", "js/eval", "js/xss"]);
    assert_eq!(rules[2]["properties"]["security-severity"], "8.0");
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "note");
    let res = run["results"].as_array().unwrap();
    assert_eq!(res[0]["ruleId"], "js/eval");
    assert_eq!(res[0]["level"], "warning", "the result's own severity wins");
    assert_eq!(res[1]["ruleId"], "coupling/ui-must-not-import-db");
    assert_eq!(res[1]["ruleIndex"], 0);
    assert_eq!(
        res[2]["locations"][0]["physicalLocation"]["region"]["startColumn"],
        5
    );
    for r in res {
        assert_eq!(
            r["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .len(),
            32
        );
    }
    // Same input, same bytes.
    assert_eq!(doc, document(&results, "0.1.0", serde_json::Map::new()));

    // Broken documents are caught by the validator (the test can fail).
    let v = sarif_validator();
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!v.is_valid(&broken));
    let mut broken = doc.clone();
    broken["runs"][0]["tool"]["driver"]["rules"][0]["unknownField"] = serde_json::json!(1);
    assert!(!v.is_valid(&broken));
    assert!(!v.is_valid(&serde_json::json!({"version": "2.1.0"})));
    assert!(!v.is_valid(&serde_json::json!([])));
}

#[test]
fn markdown_uses_the_comment_template() {
    let p = Pushable::new();
    p.feature("feature");
    let run = p
        .repo
        .run(&["score", "--base", "main", "--format", "markdown"]);
    run.assert_code(0);
    // The PR comment's template, without the hidden marker (that belongs to the posted comment).
    assert!(!run.stdout.contains("<!--"), "{}", run.stdout);
    assert!(run.stdout.contains("## PR Risk Report"), "{}", run.stdout);
    assert!(run.stdout.contains("### Risk Score: "), "{}", run.stdout);
    assert!(run.stdout.contains("| Impact |"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'));
}

// ---------------------------------------------------------------------------------------------
// Terminal behaviour

/// Run a command with stdout and stderr on a fresh pseudo-terminal; returns exit code and what
/// the terminal received.
fn run_on_pty(mut cmd: Command) -> (i32, String) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain libc calls on a descriptor we own; every return value is checked.
    let (master, slave_path) = unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(fd >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(fd), 0, "grantpt");
        assert_eq!(libc::unlockpt(fd), 0, "unlockpt");
        let mut buf = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(fd, buf.as_mut_ptr(), buf.len()),
            0,
            "ptsname_r"
        );
        let name = std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned();
        (std::fs::File::from_raw_fd(fd), PathBuf::from(name))
    };
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .unwrap();
    cmd.stdin(Stdio::null())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = cmd.spawn().expect("spawn on pty");
    drop(cmd); // closes our copies of the terminal's slave side
    let mut master = master;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux reports EIO on the master once every slave descriptor is closed.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("reading the pty: {e}"),
        }
    }
    let status = child.wait().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out).into_owned(),
    )
}

fn scored_repo() -> Pushable {
    let p = Pushable::new();
    p.feature("feature");
    p
}

#[test]
fn terminal_gets_colour_and_progress() {
    let p = scored_repo();
    let mut c = command(p.path());
    c.args(["score", "--base", "main"]);
    let (code, out) = run_on_pty(c);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("\x1b[1mRisk score:\x1b[0m"),
        "bold heading on a terminal:\n{out:?}"
    );
    assert!(
        out.contains("\x1b[32mpass\x1b[0m"),
        "green verdict:\n{out:?}"
    );
    // The progress line was drawn on stderr and cleared before the report.
    assert!(out.contains("pr-risk: parsing files…"), "{out:?}");
    assert!(out.contains("\r\x1b[2K"), "{out:?}");
    let report_at = out.find("Risk score").unwrap();
    assert!(out.rfind("parsing files").unwrap() < report_at, "{out:?}");
}

#[test]
fn terminal_with_no_color_has_no_colour() {
    let p = scored_repo();
    let mut c = command(p.path());
    c.args(["score", "--base", "main"]).env("NO_COLOR", "1");
    let (code, out) = run_on_pty(c);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Risk score:"), "{out}");
    assert!(
        !out.contains("\x1b[0m") && !out.contains("\x1b[1m") && !out.contains("\x1b[32m"),
        "{out:?}"
    );
}

#[test]
fn quiet_terminal_shows_nothing() {
    let p = scored_repo();
    let mut c = command(p.path());
    c.args(["score", "--base", "main", "--quiet"]);
    let (code, out) = run_on_pty(c);
    assert_eq!(code, 0);
    assert_eq!(out, "", "{out:?}");
    // The exit code still carries the verdict.
    let r = p
        .repo
        .run(&["score", "--base", "main", "--quiet", "--threshold", "0"]);
    r.assert_code(1);
    assert_eq!(r.stdout, "");
}

#[test]
fn pipes_get_plain_text_and_no_progress() {
    let p = scored_repo();
    let r = p.repo.run(&["score", "--base", "main"]);
    r.assert_code(0);
    assert!(r.stdout.contains("Risk score:"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains("parsing files"),
        "{:?}",
        r.stderr
    );
    // --color always forces it even into a pipe.
    let r = p
        .repo
        .run(&["score", "--base", "main", "--color", "always"]);
    assert!(
        r.stdout.contains("\x1b[1mRisk score:\x1b[0m"),
        "{:?}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// --worktree, init, completions, --version

#[test]
fn worktree_scores_uncommitted_changes_without_touching_anything() {
    let p = Pushable::new();
    p.repo.branch("feature");
    p.repo
        .write("src/lib/pricing.ts", "export const price = 3;\n");
    p.repo.write(
        "src/new.ts",
        "import { cart } from './cart';\nexport const n = cart;\n",
    );
    p.repo.write(".gitignore", "ignored.ts\n");
    p.repo.write("ignored.ts", "export const x = 1;\n");
    // GIT_OPTIONAL_LOCKS=0: `git status` must not refresh (rewrite) the index itself.
    let status = || {
        p.git_env(&["status", "--porcelain"], &[("GIT_OPTIONAL_LOCKS", "0")])
            .stdout
    };
    let status_before = status();
    let index_before = std::fs::read(p.path().join(".git/index")).ok();
    let head_before = p.repo.head();

    let (run, v) = p.repo.score_json(&["--base", "main", "--worktree"]);
    run.assert_code(0);
    let paths: Vec<&str> = v["change"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".gitignore", "src/lib/pricing.ts", "src/new.ts"]);
    assert_eq!(v["revisions"]["head"]["rev"], "working tree");
    let files = &v["dimensions"]["impact"]["evidence"]["files"];
    assert_eq!(files[0]["path"], "src/lib/pricing.ts");
    assert_eq!(
        files[0]["downstream"], 3,
        "cart, index and the uncommitted new.ts"
    );

    assert_eq!(p.repo.head(), head_before, "HEAD did not move");
    assert_eq!(
        std::fs::read(p.path().join(".git/index")).ok(),
        index_before,
        "index untouched"
    );
    assert_eq!(status(), status_before);
    // Same working tree, same head sha.
    let (_, v2) = p.repo.score_json(&["--base", "main", "--worktree"]);
    assert_eq!(
        v["revisions"]["head"]["sha"],
        v2["revisions"]["head"]["sha"]
    );
    // --worktree and --head conflict.
    p.repo
        .run(&["score", "--worktree", "--head", "HEAD"])
        .assert_code(2);
}

#[test]
fn init_writes_a_starter_that_validates() {
    let p = Pushable::new();
    let sub = p.path().join("src");
    let r = crate::support::run_in(&sub, &["init"]);
    r.assert_code(0);
    let cfg = p.path().join(".pr-risk.yml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("# A composite risk score"), "{text}");
    assert!(text.contains("hook:\n"), "{text}");
    // The binary accepts it.
    p.feature("feature");
    let (run, v) = p.repo.score_json(&["--base", "main"]);
    run.assert_code(0);
    assert_eq!(v["config"]["source"], ".pr-risk.yml");
    // No silent overwrite.
    let r = p.repo.run(&["init"]);
    r.assert_code(2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    p.repo.run(&["init", "--force"]).assert_code(0);
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_pr__risk()"),
        ("zsh", "#compdef pr-risk"),
        ("fish", "complete -c pr-risk"),
    ] {
        let r = crate::support::run_in(dir.path(), &["completions", shell]);
        r.assert_code(0);
        assert!(r.stdout.contains(marker), "{shell}:\n{}", r.stdout);
        assert!(
            r.stdout.contains("worktree"),
            "{shell} completes --worktree"
        );
    }
    crate::support::run_in(dir.path(), &["completions", "tcsh"]).assert_code(2);
}

#[test]
fn version_names_the_git_revision() {
    let dir = tempfile::tempdir().unwrap();
    let r = crate::support::run_in(dir.path(), &["--version"]);
    r.assert_code(0);
    let line = r.stdout.trim();
    let re = regex::Regex::new(r"^pr-risk \d+\.\d+\.\d+ \(([0-9a-f]{7,}|unknown)\)$").unwrap();
    assert!(re.is_match(line), "{line}");
}
