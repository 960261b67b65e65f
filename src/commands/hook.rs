/*!
The git pre-push hook: install, uninstall, and the run git triggers on `git push`.

`pr-risk hook install` writes a POSIX `sh` script as `pre-push` in the hooks directory (git's
`core.hooksPath` when set, else `<git common dir>/hooks`). The script calls
`pr-risk hook pre-push <remote> <url>` with git's standard input, naming the binary by the absolute
path it had at install time and falling back to `pr-risk` on `PATH`.

An existing hook is never silently lost:
- by default it is **chained**: moved to `pre-push.pr-risk-saved` and run first by the new script
  with the same arguments and input (its failure stops the push, as before);
- `--force` replaces it without chaining, still keeping it as `pre-push.pr-risk-saved`;
- `pr-risk hook uninstall` removes our script and moves the saved hook back.

A hook that is already ours is rewritten in place (re-install after moving the binary).

`pr-risk hook pre-push` reads lines `<local ref> <local sha> <remote ref> <remote sha>`. Deletions
(local sha all zeros) and tags are skipped. A branch the remote already has is scored from the
remote's sha to the local one; a new branch (remote sha all zeros, or a remote sha this clone does
not have) against the remote's default branch (`refs/remotes/<remote>/HEAD`, then its `main`,
`master`, then local `main`, `master`) — the pipeline takes the merge-base, so only the branch's own
commits count. Each ref gets a compact report on stderr; the push is blocked (exit 1) when any gate
blocks and `hook.mode` is `block` (the default); with `hook.mode: warn` it reports and lets the push
through. `PR_RISK_SKIP=1` or `git push --no-verify` bypass it, and every blocking message says so.
*/

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use engine::error::{Error, ExitCode, Result};
use engine::git::{push, Oid, Repo};
use engine::report::{Report, Verdict};
use outlets::render::style::{escape, paint};

use crate::args::Globals;
use crate::config::{self, HookMode};

#[derive(Debug, clap::Subcommand)]
pub enum HookAction {
    /// Install the pre-push hook (an existing hook is kept and run first).
    Install {
        /// Repository (default: the one containing the current directory).
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
        /// Replace an existing hook instead of chaining it (it is still kept for `uninstall`).
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-push hook and restore the one it replaced.
    Uninstall {
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
    },
    /// Run by the hook: read git's pre-push input on stdin and score each pushed ref.
    PrePush {
        /// Name of the remote being pushed to.
        remote: Option<String>,
        /// URL of the remote.
        url: Option<String>,
    },
}

pub fn run(action: &HookAction, cli: &Globals) -> Result<ExitCode> {
    let say = |s: String| {
        if !cli.quiet {
            eprintln!("{s}");
        }
    };
    match action {
        HookAction::Install { repo, force } => {
            let repo = Repo::discover(repo)?;
            let binary = std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .map_err(|e| Error::Internal(format!("finding the pr-risk binary's path: {e}")))?;
            let (path, what) = install(&repo, &binary, *force)?;
            let inside = [repo.workdir(), Some(repo.common_dir())]
                .into_iter()
                .flatten()
                .filter_map(|d| d.canonicalize().ok())
                .any(|d| path.canonicalize().is_ok_and(|p| p.starts_with(d)));
            if !inside {
                say(format!(
                    "pr-risk: note: core.hooksPath puts the hook outside this repository ({}); it runs for every repository that uses that directory",
                    path.parent().unwrap_or(&path).display()
                ));
            }
            let saved = path.with_file_name(SAVED_NAME);
            match what {
                Installed::Fresh => say(format!("pr-risk: installed the pre-push hook at {}", path.display())),
                Installed::Updated => say(format!("pr-risk: updated the pre-push hook at {}", path.display())),
                Installed::Chained => say(format!(
                    "pr-risk: installed the pre-push hook at {}\npr-risk: your existing hook was kept as {} and runs first",
                    path.display(),
                    saved.display()
                )),
                Installed::Replaced => say(format!(
                    "pr-risk: replaced the pre-push hook at {} (--force); the old one is saved as {} and comes back with `pr-risk hook uninstall`",
                    path.display(),
                    saved.display()
                )),
            }
            say(format!("pr-risk: the hook runs {}; bypass once with `git push --no-verify` or `PR_RISK_SKIP=1 git push`", binary.display()));
            Ok(ExitCode::Pass)
        }
        HookAction::Uninstall { repo } => {
            let repo = Repo::discover(repo)?;
            let (path, what) = uninstall(&repo)?;
            match what {
                Uninstalled::Restored => say(format!(
                    "pr-risk: removed the pre-push hook and restored the previous one at {}",
                    path.display()
                )),
                Uninstalled::Removed => say(format!(
                    "pr-risk: removed the pre-push hook at {}",
                    path.display()
                )),
                Uninstalled::NotInstalled => say(format!(
                    "pr-risk: no pr-risk hook at {}; nothing to do",
                    path.display()
                )),
            }
            Ok(ExitCode::Pass)
        }
        HookAction::PrePush { remote, url } => {
            let stderr_tty = std::io::stderr().is_terminal();
            let opts = PrePush {
                remote: remote.as_deref().unwrap_or(""),
                url: url.as_deref().unwrap_or(""),
                quiet: cli.quiet,
                color: cli.color().enabled_for(stderr_tty),
                progress: cli.show_progress(),
                stdin_is_terminal: std::io::stdin().is_terminal(),
                offline: cli.offline,
            };
            let stdin = std::io::stdin();
            match pre_push(&opts, stdin.lock()) {
                Ok(code) => Ok(code),
                Err(e) => {
                    eprintln!("pr-risk: error: {e}");
                    if hook_mode_is_warn() {
                        eprintln!("pr-risk: the check failed; pushing anyway (hook.mode: warn)");
                        return Ok(ExitCode::Pass);
                    }
                    eprintln!("pr-risk: the push was stopped because the check failed. To push anyway: `git push --no-verify`, or `PR_RISK_SKIP=1 git push`");
                    Ok(e.exit_code())
                }
            }
        }
    }
}

/// `hook.mode: warn` in the repository's configuration (false when it cannot be read).
fn hook_mode_is_warn() -> bool {
    let Some(repo) = Repo::from_env() else {
        return false;
    };
    config::load(repo.workdir(), None)
        .map(|l| l.config.hook.mode == HookMode::Warn)
        .unwrap_or(false)
}

pub const HOOK_NAME: &str = "pre-push";
/// Where a pre-existing hook is kept.
pub const SAVED_NAME: &str = "pre-push.pr-risk-saved";
/// The line that marks a hook as ours.
pub const MARKER: &str = "# pr-risk: managed pre-push hook";

/// The hooks directory git uses for this repository.
pub fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    engine::git::push::hooks_dir(repo)
}

/// What `install` did, for the message.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    Fresh,
    /// Our hook was already there and was rewritten.
    Updated,
    /// An existing hook was kept and is called first.
    Chained,
    /// An existing hook was replaced (kept on disk for `uninstall`).
    Replaced,
}

/// Install the hook. `binary` is the absolute path the script will call first.
pub fn install(repo: &Repo, binary: &Path, force: bool) -> Result<(PathBuf, Installed)> {
    let dir = hooks_dir(repo)?;
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let hook = dir.join(HOOK_NAME);
    let saved = dir.join(SAVED_NAME);
    let existing = read_if_exists(&hook)?;
    let outcome = match &existing {
        None => Installed::Fresh,
        Some(text) if is_ours(text) => Installed::Updated,
        Some(_) => {
            if saved.exists() {
                return Err(Error::Usage(format!(
                    "{} exists and is not pr-risk's, and {} is already taken, so the existing hook cannot be kept\n  hint: move one of them away, then run `pr-risk hook install` again",
                    hook.display(),
                    saved.display()
                )));
            }
            std::fs::rename(&hook, &saved).map_err(|source| Error::Io {
                path: hook.clone(),
                source,
            })?;
            if force {
                Installed::Replaced
            } else {
                Installed::Chained
            }
        }
    };
    let chain = match outcome {
        Installed::Chained => true,
        Installed::Updated => existing.as_deref().is_some_and(script_chains),
        _ => false,
    };
    write_executable(&hook, &script(binary, chain))?;
    Ok((hook, outcome))
}

/// What `uninstall` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Uninstalled {
    /// Our hook was removed and the saved one put back.
    Restored,
    Removed,
    NotInstalled,
}

pub fn uninstall(repo: &Repo) -> Result<(PathBuf, Uninstalled)> {
    let dir = hooks_dir(repo)?;
    let hook = dir.join(HOOK_NAME);
    let saved = dir.join(SAVED_NAME);
    match read_if_exists(&hook)? {
        Some(text) if !is_ours(&text) => {
            return Err(Error::Usage(format!(
                "{} was not installed by pr-risk; leaving it alone\n  hint: remove it by hand if you want it gone",
                hook.display()
            )))
        }
        Some(_) => std::fs::remove_file(&hook).map_err(|source| Error::Io {
            path: hook.clone(),
            source,
        })?,
        None if !saved.exists() => return Ok((hook, Uninstalled::NotInstalled)),
        None => {}
    }
    if saved.exists() {
        std::fs::rename(&saved, &hook).map_err(|source| Error::Io {
            path: saved.clone(),
            source,
        })?;
        return Ok((hook, Uninstalled::Restored));
    }
    Ok((hook, Uninstalled::Removed))
}

fn read_if_exists(p: &Path) -> Result<Option<String>> {
    match std::fs::read(p) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: p.to_path_buf(),
            source,
        }),
    }
}

fn is_ours(text: &str) -> bool {
    text.lines().any(|l| l.trim() == MARKER)
}

fn script_chains(text: &str) -> bool {
    text.contains("PR_RISK_CHAIN=1")
}

fn write_executable(p: &Path, text: &str) -> Result<()> {
    let io = |source| Error::Io {
        path: p.to_path_buf(),
        source,
    };
    std::fs::write(p, text).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    }
    Ok(())
}

/// Quote a string for POSIX sh (single quotes; `'` becomes `'\''`).
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script.
pub fn script(binary: &Path, chain: bool) -> String {
    let bin = sh_quote(&binary.to_string_lossy());
    format!(
        r#"#!/bin/sh
{MARKER}
# Installed by `pr-risk hook install`; remove with `pr-risk hook uninstall`.
# Scores what is about to be pushed and blocks the push when the risk gate says so.
# Bypass once: `git push --no-verify`, or `PR_RISK_SKIP=1 git push`.
PR_RISK={bin}
if [ ! -x "$PR_RISK" ]; then
  PR_RISK=$(command -v pr-risk 2>/dev/null) || PR_RISK=
fi
PR_RISK_CHAIN={chain}
input=$(cat)
if [ "$PR_RISK_CHAIN" = 1 ]; then
  saved="$(dirname -- "$0")/{SAVED_NAME}"
  if [ -x "$saved" ]; then
    if [ -n "$input" ]; then printf '%s\n' "$input"; fi | "$saved" "$@" || exit $?
  fi
fi
if [ -z "$PR_RISK" ]; then
  echo "pr-risk: binary not found (installed as "{bin}", and not on PATH); this push was not scored." >&2
  echo "pr-risk: reinstall pr-risk, or remove the hook with 'pr-risk hook uninstall'." >&2
  exit 0
fi
if [ -n "$input" ]; then printf '%s\n' "$input"; fi | "$PR_RISK" hook pre-push "$@"
"#,
        chain = if chain { 1 } else { 0 },
    )
}

/// One line of git's pre-push input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local_sha: String,
    pub remote_ref: String,
    pub remote_sha: String,
}

impl PushedRef {
    pub fn parse(line: &str) -> Result<PushedRef> {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [lr, ls, rr, rs] => Ok(PushedRef {
                local_ref: lr.to_string(),
                local_sha: ls.to_string(),
                remote_ref: rr.to_string(),
                remote_sha: rs.to_string(),
            }),
            _ => Err(Error::Usage(format!(
                "unexpected pre-push input line `{line}` (expected `<local ref> <local sha> <remote ref> <remote sha>`)\n  hint: `pr-risk hook pre-push` is meant to be run by git's pre-push hook"
            ))),
        }
    }

    fn display_name(&self) -> &str {
        let r = if self.remote_ref.is_empty() {
            &self.local_ref
        } else {
            &self.remote_ref
        };
        r.strip_prefix("refs/heads/").unwrap_or(r)
    }
}

fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// What to do with one pushed ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Score {
        name: String,
        base: Oid,
        /// Where the base came from (`origin/feature`, `origin/main (new branch)`).
        base_label: String,
        head: Oid,
    },
    Skip {
        name: String,
        why: String,
    },
}

/// Decide, for each pushed ref, what to compare (or why not).
pub fn plan(repo: &Repo, remote: &str, refs: &[PushedRef]) -> Vec<Plan> {
    refs.iter().map(|r| plan_one(repo, remote, r)).collect()
}

fn plan_one(repo: &Repo, remote: &str, r: &PushedRef) -> Plan {
    let name = r.display_name().to_string();
    let skip = |why: &str| Plan::Skip {
        name: name.clone(),
        why: why.to_string(),
    };
    if is_zero(&r.local_sha) {
        return skip("deleted on the remote, nothing to score");
    }
    if r.local_ref.starts_with("refs/tags/") || r.remote_ref.starts_with("refs/tags/") {
        return skip("tags are not scored");
    }
    let head = match push::commit_of_sha(repo, &r.local_sha) {
        Some(c) => c,
        None => return skip("does not name a commit"),
    };
    if !is_zero(&r.remote_sha) {
        if let Some(base) = push::has_commit(repo, &r.remote_sha) {
            return Plan::Score {
                name,
                base,
                base_label: format!("{remote}/{}", r.display_name()),
                head,
            };
        }
    }
    let new = is_zero(&r.remote_sha);
    match default_branch(repo, remote, &r.local_ref) {
        Some((label, base)) => Plan::Score {
            name,
            base,
            base_label: if new {
                format!("{label} (new branch)")
            } else {
                format!("{label} (remote tip not fetched)")
            },
            head,
        },
        None => skip(
            "new branch and no default branch to compare with (fetch the remote, or set its HEAD with `git remote set-head <remote> --auto`)",
        ),
    }
}

/// The remote's default branch, as (label, commit).
fn default_branch(repo: &Repo, remote: &str, pushing: &str) -> Option<(String, Oid)> {
    let mut candidates = vec![
        format!("refs/remotes/{remote}/HEAD"),
        format!("refs/remotes/{remote}/main"),
        format!("refs/remotes/{remote}/master"),
    ];
    for local in ["refs/heads/main", "refs/heads/master"] {
        if local != pushing {
            candidates.push(local.to_string());
        }
    }
    push::first_ref(repo, &candidates)
}

/// Options of `pr-risk hook pre-push`.
pub struct PrePush<'a> {
    pub remote: &'a str,
    pub url: &'a str,
    pub quiet: bool,
    pub color: bool,
    pub progress: bool,
    /// Standard input is a terminal (run by hand, not by git): do not wait for input.
    pub stdin_is_terminal: bool,
    /// `--offline`: no advisory lookups.
    pub offline: bool,
}

/// The pre-commit framework reads git's input itself and passes the first pushed ref as
/// `PRE_COMMIT_FROM_REF` (what the remote has, or the parent of the first new commit),
/// `PRE_COMMIT_TO_REF`, `PRE_COMMIT_LOCAL_BRANCH`, `PRE_COMMIT_REMOTE_BRANCH` and
/// `PRE_COMMIT_REMOTE_NAME`. Returns the remote name and the ref, when set.
pub fn pre_commit_ref(var: impl Fn(&str) -> Option<String>) -> Option<(Option<String>, PushedRef)> {
    let from = var("PRE_COMMIT_FROM_REF").filter(|s| !s.is_empty())?;
    let to = var("PRE_COMMIT_TO_REF").filter(|s| !s.is_empty())?;
    let local_ref = var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".to_string());
    let remote_ref = var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|| local_ref.clone());
    Some((
        var("PRE_COMMIT_REMOTE_NAME").filter(|s| !s.is_empty()),
        PushedRef {
            local_ref,
            local_sha: to,
            remote_ref,
            remote_sha: from,
        },
    ))
}

/// Whether `PR_RISK_SKIP` asks to skip (set, and not empty/0/false/no).
pub fn skip_requested(value: Option<&str>) -> bool {
    match value {
        None => false,
        Some(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        ),
    }
}

/// Run the pre-push check: read git's input, score each ref, print, decide.
pub fn pre_push(opts: &PrePush, input: impl BufRead) -> Result<ExitCode> {
    let err = |s: String| eprintln!("{s}");
    let p = |text: &str, spec: &str| paint(text, spec, opts.color);
    if skip_requested(std::env::var("PR_RISK_SKIP").ok().as_deref()) {
        err(format!(
            "pr-risk: {} (PR_RISK_SKIP is set); this push was not scored",
            p("skipped", "yellow")
        ));
        return Ok(ExitCode::Pass);
    }
    let repo = Repo::from_env().ok_or_else(|| Error::NoRepository {
        path: std::env::current_dir().unwrap_or_default(),
    })?;
    let mode = config::load(repo.workdir(), None)?.config.hook.mode;
    let from_pre_commit = pre_commit_ref(|k| std::env::var(k).ok());
    let mut refs = Vec::new();
    if let Some((_, r)) = &from_pre_commit {
        refs.push(r.clone());
    } else if opts.stdin_is_terminal {
        return Err(Error::Usage(
            "`pr-risk hook pre-push` reads git's pre-push input (`<local ref> <local sha> <remote ref> <remote sha>` lines) on stdin\n  hint: install it with `pr-risk hook install`, or use `pr-risk score` by hand".to_string(),
        ));
    }
    for line in input.lines().take_while(|_| from_pre_commit.is_none()) {
        let line = line.map_err(|source| Error::Io {
            path: PathBuf::from("<stdin>"),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        refs.push(PushedRef::parse(&line)?);
    }
    let remote = match &from_pre_commit {
        Some((Some(name), _)) if opts.remote.is_empty() => name.as_str(),
        _ if opts.remote.is_empty() => opts.url,
        _ => opts.remote,
    };
    let mut blocked: Vec<(String, Report)> = Vec::new();
    for plan in plan(&repo, remote, &refs) {
        match plan {
            Plan::Skip { name, why } => {
                if !opts.quiet {
                    err(format!("pr-risk: {name}: skipped ({why})"));
                }
            }
            Plan::Score {
                name,
                base,
                base_label,
                head,
            } => {
                let progress = crate::progress::start(opts.progress);
                let req = super::ScoreRequest {
                    base: Some(base.to_string()),
                    head: Some(head.to_string()),
                    offline: opts.offline,
                    complete_partial_clone: true,
                    ..super::ScoreRequest::default()
                };
                let scored = super::score_change(&repo, &req, &progress)?;
                drop(progress);
                let report = scored.outcome.report;
                if !opts.quiet || report.gate.blocked {
                    err(compact(&name, &base_label, &report, opts.color));
                }
                if report.gate.blocked {
                    blocked.push((name, report));
                }
            }
        }
    }
    if blocked.is_empty() {
        return Ok(ExitCode::Pass);
    }
    for (name, r) in &blocked {
        err(format!(
            "pr-risk: see why for {name}: pr-risk score --base {} --head {} --explain",
            &r.revisions.base.sha[..12.min(r.revisions.base.sha.len())],
            &r.revisions.head.sha[..12.min(r.revisions.head.sha.len())],
        ));
    }
    match mode {
        HookMode::Warn => {
            err(format!(
                "pr-risk: {} only (hook.mode: warn); pushing anyway",
                p("warning", "yellow bold")
            ));
            Ok(ExitCode::Pass)
        }
        HookMode::Block => {
            err(format!(
                "pr-risk: {}. To push anyway: `git push --no-verify`, or `PR_RISK_SKIP=1 git push`",
                p("push blocked", "red bold")
            ));
            Ok(ExitCode::Blocked)
        }
    }
}

/// One ref's verdict in two to four lines. Names, reasons and paths (which a pushed commit can
/// choose) are escaped for the terminal.
pub fn compact(name: &str, base_label: &str, r: &Report, color: bool) -> String {
    let p = |text: &str, spec: &str| paint(text, spec, color);
    let (name, base_label) = (escape(name), escape(base_label));
    let score = match (r.composite.score, r.composite.rating) {
        (Some(s), Some(rating)) => {
            let spec = match rating {
                engine::score::Rating::Low => "green",
                engine::score::Rating::Medium => "yellow",
                engine::score::Rating::High => "yellow bold",
                engine::score::Rating::Critical => "red bold",
            };
            p(&format!("{s}/100 ({})", rating.label()), spec)
        }
        _ => "unavailable".to_string(),
    };
    let verdict = match r.gate.verdict {
        Verdict::Blocked => p("BLOCKED", "red bold"),
        Verdict::Pass => p("pass", "green"),
        _ if r.gate.would_block => p(&escape(&r.gate.headline), "yellow bold"),
        _ => p(&escape(&r.gate.headline), "green"),
    };
    let mut out = format!(
        "pr-risk: {name} (vs {base_label}): risk {score} — {verdict} (blocks above {}) · {} file(s), +{} −{}",
        r.gate.threshold, r.change.files_changed, r.change.additions, r.change.deletions
    );
    for (i, reason) in r.gate.reasons.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| &r.gate.reasons[p]);
        let (mark, spec) = match (reason.dimension, reason.code) {
            (None, engine::report::GateCode::NearThreshold) => ("!", "yellow"),
            (None, _) => ("✗", "red"),
            (Some(_), _) => ("·", ""),
        };
        out.push_str(&format!(
            "\n  {} {}",
            p(mark, spec),
            escape(&outlets::render::reason_line(reason, previous))
        ));
    }
    if let Some(f) = r
        .dimensions
        .impact
        .evidence
        .files
        .iter()
        .find(|f| f.reached > 0)
    {
        out.push_str(&format!(
            "\n  top impact: {} — what changed in it reaches {} of its {} dependent{}",
            escape(&f.path),
            f.reached,
            f.downstream,
            if f.downstream == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Whether stderr is a terminal (for colour and the progress line in the hook).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_escapes_what_a_push_can_choose() {
        let mut r = Report::empty("a", "b");
        r.gate.blocked = true;
        r.gate.verdict = Verdict::Blocked;
        r.gate.reasons.push(engine::report::GateReason::new(
            engine::report::GateCode::NewCriticalFinding,
            "ts/eval at src/\u{1b}]8;;x\u{7}a.ts:1",
        ));
        let text = compact("refs/heads/\u{1b}[2J", "main", &r, false);
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.contains("src/\\x1B]8;;x\\x07a.ts:1"), "{text}");
    }

    #[test]
    fn parses_lines() {
        let r = PushedRef::parse("refs/heads/a 1111 refs/heads/a 0000").unwrap();
        assert_eq!(r.local_ref, "refs/heads/a");
        assert_eq!(r.remote_sha, "0000");
        assert!(PushedRef::parse("garbage").is_err());
    }

    #[test]
    fn zeros() {
        assert!(is_zero(&"0".repeat(40)));
        assert!(is_zero(&"0".repeat(64)));
        assert!(!is_zero(""));
        assert!(!is_zero("0001"));
    }

    #[test]
    fn skip_values() {
        assert!(skip_requested(Some("1")));
        assert!(skip_requested(Some("yes")));
        assert!(!skip_requested(Some("0")));
        assert!(!skip_requested(Some("")));
        assert!(!skip_requested(None));
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("/a b/c"), "'/a b/c'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn script_is_marked_and_chains_on_request() {
        let s = script(Path::new("/opt/pr-risk"), true);
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(is_ours(&s));
        assert!(script_chains(&s));
        assert!(!script_chains(&script(Path::new("/opt/pr-risk"), false)));
    }
}
