//! Missing objects: the `git` CLI fetches what libgit2 cannot (commits absent from a shallow
//! checkout, the blobs of a partial clone).
//!
//! Inside the Action's container the workspace belongs to the runner's user, not to the
//! container's root, and libgit2 refuses such a repository (the `safe.directory` protection).
//! [`trust_workspace`] turns that check off — a process-wide libgit2 option — only when running in
//! GitHub Actions and only when the repository is the job's workspace, which the runner itself
//! checked out. The `git` CLI gets the same exemption through `-c safe.directory=<workspace>`.
//!
//! The child process is given as little as it needs: a cleared environment with only what finding
//! `git` and reaching the remote need ([`KEPT_ENV`]: no token, no API key, no `GIT_*` variable),
//! `core.fsmonitor` and `core.hooksPath` switched off (a repository's configuration must not make
//! pr-risk run a program), and no submodule recursion.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Oid, Repo};
use crate::error::{Error, Result};

/// True when `repo` is the Actions workspace (`in_actions`: `GITHUB_ACTIONS` is `true`;
/// `workspace`: `GITHUB_WORKSPACE`); then libgit2's owner validation is switched off.
pub fn trust_workspace(in_actions: bool, workspace: Option<&Path>, repo: &Path) -> bool {
    if !in_actions {
        return false;
    }
    let Some(ws) = workspace else {
        return false;
    };
    let (Ok(a), Ok(b)) = (std::fs::canonicalize(repo), std::fs::canonicalize(ws)) else {
        return false;
    };
    if a != b {
        return false;
    }
    if let Err(e) = super::trust_other_owners() {
        tracing::warn!("could not relax libgit2's owner check: {e}");
        return false;
    }
    tracing::info!("trusting the Actions workspace {}", a.display());
    true
}

/// The `git` command line, run in the repository (trusted like the workspace when `trusted`).
pub struct GitCli {
    pub dir: PathBuf,
    pub trusted: bool,
}

/// The environment variables the `git` child keeps: finding programs, a home for its own
/// configuration, temporary files, the locale, and reaching the remote through a proxy or with a
/// custom certificate store. Everything else (the GitHub token, the Massu key, `GIT_*`
/// overrides) is dropped.
pub const KEPT_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// `-c` settings every `git` invocation gets: no file-system monitor and no hooks (both run
/// programs named by the repository's configuration), no submodule recursion, no prompts.
pub const SAFE_CONFIG: &[&str] = &[
    "core.fsmonitor=",
    "core.hooksPath=/dev/null",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "credential.interactive=false",
];

impl GitCli {
    fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.env_clear();
        for k in KEPT_ENV {
            if let Some(v) = std::env::var_os(k) {
                c.env(k, v);
            }
        }
        c.env("GIT_TERMINAL_PROMPT", "0");
        for setting in SAFE_CONFIG {
            c.arg("-c").arg(setting);
        }
        if self.trusted {
            c.arg("-c")
                .arg(format!("safe.directory={}", self.dir.display()));
        }
        c.arg("-C").arg(&self.dir);
        c.stdin(Stdio::null());
        c
    }

    /// Run git; Err with its stderr when it fails or is not installed.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> std::result::Result<String, String> {
        let mut c = self.command();
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().map_err(|e| format!("cannot run `git` ({e})"))?;
        if let Some(input) = stdin {
            use std::io::Write;
            if let Some(mut s) = child.stdin.take() {
                let _ = s.write_all(input.as_bytes());
            }
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

/// A partial clone (`actions/checkout` with `filter: blob:none`): blobs are fetched on demand by
/// the `git` CLI, which libgit2 cannot do.
pub fn is_partial_clone(repo: &Repo) -> bool {
    let Ok(cfg) = repo.raw().config() else {
        return false;
    };
    if cfg.get_string("extensions.partialclone").is_ok() {
        return true;
    }
    let Ok(remotes) = repo.raw().remotes() else {
        return false;
    };
    let promisor = remotes.iter().any(|r| match r {
        Ok(Some(r)) => cfg
            .get_bool(&format!("remote.{r}.promisor"))
            .unwrap_or(false),
        _ => false,
    });
    promisor
}

/// Make sure the commits exist locally, fetching the missing ones from `origin`.
pub fn ensure_commits(repo: &Repo, git: &GitCli, revs: &[&str]) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    for rev in revs {
        if repo
            .raw()
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .is_ok()
        {
            continue;
        }
        let is_sha = rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit());
        if !is_sha {
            continue; // a branch name: the pipeline reports it with its own hint
        }
        tracing::info!("commit {rev} is not in the checkout; fetching it");
        let fetched = git.run(
            &[
                "fetch",
                "--no-tags",
                "--quiet",
                "--recurse-submodules=no",
                "origin",
                rev,
            ],
            None,
        );
        match fetched {
            Ok(_) => notes.push(format!(
                "commit {} was not in the checkout and was fetched",
                &rev[..rev.len().min(12)]
            )),
            Err(e) => {
                let shallow = repo.raw().is_shallow();
                return Err(Error::RevisionNotFound {
                    what: "pull request",
                    rev: rev.to_string(),
                    detail: format!(
                        " (not in the checkout{}, and `git fetch origin {rev}` failed: {e})",
                        if shallow { ", which is shallow" } else { "" }
                    ),
                    hint: "check out the full history: actions/checkout with `fetch-depth: 0`"
                        .into(),
                });
            }
        }
    }
    Ok(notes)
}

/// In a partial clone, fetch the blobs of the given commits' trees in one batch (libgit2 reads
/// objects only locally). Errors name the cause and the fix.
pub fn fetch_missing_blobs(git: &GitCli, commits: &[Oid]) -> Result<usize> {
    let fail = |why: String| {
        Error::Usage(format!(
            "the checkout is a partial clone (actions/checkout with `filter: blob:none`) and the file contents pr-risk needs could not be fetched: {why}\n  hint: drop the `filter:` option of actions/checkout (keep `fetch-depth: 0`), or make `git` and the checkout's credentials available to the step"
        ))
    };
    let mut args = vec!["rev-list", "--objects", "--no-walk", "--missing=print"];
    let shas: Vec<String> = commits.iter().map(|c| c.to_string()).collect();
    args.extend(shas.iter().map(|s| s.as_str()));
    let listed = git.run(&args, None).map_err(fail)?;
    let missing: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.strip_prefix('?'))
        .map(|l| l.split_whitespace().next().unwrap_or(l))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    tracing::info!("partial clone: fetching {} missing objects", missing.len());
    let mut input = missing.join("\n");
    input.push('\n');
    git.run(
        &[
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            "origin",
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "--stdin",
        ],
        Some(&input),
    )
    .map_err(fail)?;
    Ok(missing.len())
}
