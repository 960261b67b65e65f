//! Missing objects: the `git` CLI fetches what libgit2 cannot (commits absent from a shallow
//! checkout, the blobs of a partial clone). One module for the Action and the CLI:
//! [`complete_partial_clone`] is the only place blobs are fetched.
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
/// configuration, temporary files, the locale, and reaching the remote through a proxy, with a
/// custom certificate store or through the user's SSH agent (a developer's `git@…` clone). Everything else (the GitHub token, the Massu key, `GIT_*`
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
    "SSH_AUTH_SOCK",
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

/// What [`complete_partial_clone`] did: how many objects of the scored trees were missing, how
/// many of them it fetched, and why the rest could not be fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Objects of the base, merge-base and head trees not in the clone before the fetch.
    pub missing: usize,
    /// Of those, how many are present now.
    pub fetched: usize,
    /// Why some stayed missing (fetching was not allowed, no remote, `git` failed).
    pub problem: Option<String>,
}

impl Completion {
    /// Objects still missing after the fetch.
    pub fn left(&self) -> usize {
        self.missing - self.fetched
    }

    /// What happened, in one sentence for a report note (`None` when nothing was missing).
    pub fn note(&self) -> Option<String> {
        if self.missing == 0 {
            return None;
        }
        Some(match &self.problem {
            None => format!(
                "partial clone: fetched {} missing object(s) with the git CLI; history-based evidence may be incomplete (check out without `filter:` for full history)",
                self.fetched
            ),
            Some(why) => format!(
                "partial clone: {} of {} object(s) of the base and head trees are missing and could not be fetched ({why}); files without their contents are listed but not analysed, and renames among them are not detected",
                self.left(),
                self.missing
            ),
        })
    }
}

/// The objects of the given commits' trees that are not in the repository (`rev-list
/// --missing=print`, which lists without fetching).
pub fn missing_objects(git: &GitCli, commits: &[Oid]) -> std::result::Result<Vec<String>, String> {
    let mut args = vec!["rev-list", "--objects", "--no-walk", "--missing=print"];
    let shas: Vec<String> = commits.iter().map(|c| c.to_string()).collect();
    args.extend(shas.iter().map(|s| s.as_str()));
    let listed = git.run(&args, None)?;
    let mut missing: Vec<String> = listed
        .lines()
        .filter_map(|l| l.strip_prefix('?'))
        .map(|l| l.split_whitespace().next().unwrap_or(l).to_string())
        .collect();
    missing.sort();
    missing.dedup();
    Ok(missing)
}

/// The one place missing objects are fetched, for the Action and the CLI alike: in a partial
/// clone, list the objects of `base`'s, `head`'s and their merge-base's trees that the clone
/// lacks and fetch them from `origin` in one batch (libgit2 reads objects only locally and cannot
/// fetch on demand). `fetch: false` (`--offline`) only counts them. `None`: not a partial clone.
pub fn complete_partial_clone(
    repo: &Repo,
    git: &GitCli,
    base: Oid,
    head: Oid,
    fetch: bool,
) -> Option<Completion> {
    if !is_partial_clone(repo) {
        return None;
    }
    let mut commits = vec![base, head];
    if let Some(mb) = super::revisions::merge_base(repo, base, head) {
        if !commits.contains(&mb) {
            commits.push(mb);
        }
    }
    let missing = match missing_objects(git, &commits) {
        Ok(m) => m,
        Err(why) => {
            // Without the git CLI nothing can be listed; count what libgit2 cannot read.
            let n = unreadable_blobs(repo, &commits);
            return Some(Completion {
                missing: n,
                fetched: 0,
                problem: Some(format!("`git rev-list` failed: {why}")),
            });
        }
    };
    let mut done = Completion {
        missing: missing.len(),
        ..Completion::default()
    };
    if missing.is_empty() {
        return Some(done);
    }
    if !fetch {
        done.problem = Some("--offline".into());
        return Some(done);
    }
    tracing::info!("partial clone: fetching {} missing objects", missing.len());
    let mut input = missing.join("\n");
    input.push('\n');
    let fetched = git.run(
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
    );
    let left = missing_objects(git, &commits).map_or(missing.len(), |m| m.len());
    done.fetched = missing.len().saturating_sub(left);
    if left > 0 {
        done.problem = Some(match fetched {
            Err(e) => format!(
                "`git fetch origin` failed: {}",
                e.lines().next().unwrap_or("").trim()
            ),
            Ok(_) => "`git fetch origin` did not deliver them".into(),
        });
    }
    Some(done)
}

/// How many blobs of the commits' trees libgit2 cannot read.
fn unreadable_blobs(repo: &Repo, commits: &[Oid]) -> usize {
    let odb = match repo.raw().odb() {
        Ok(o) => o,
        Err(_) => return 0,
    };
    let mut seen = std::collections::HashSet::new();
    for c in commits {
        let Ok(tree) = repo.raw().find_commit(*c).and_then(|c| c.tree()) else {
            continue;
        };
        let _ = tree.walk(git2::TreeWalkMode::PreOrder, |_, e| {
            if e.kind() == Some(git2::ObjectType::Blob) && !odb.exists(e.id()) {
                seen.insert(e.id());
            }
            git2::TreeWalkResult::Ok
        });
    }
    seen.len()
}
