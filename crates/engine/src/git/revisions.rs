//! Revisions: which repository, which base and head, and the merge-base between them.
//!
//! A pull request is `merge-base..head`: what the branch adds on top of the point where it left
//! the base, not the difference to wherever the base branch has moved since.

use std::path::{Path, PathBuf};

use git2::{BranchType, ErrorCode, Repository};

use super::{Oid, Repo};
use serde::Serialize;

use crate::error::{Error, Result};

const SHALLOW_HINT: &str = "this is a shallow clone: fetch the full history (actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow`)";

/// Open the repository at or above `path`.
pub fn open(path: &Path) -> Result<Repo> {
    Repository::discover(path).map(Repo::from).map_err(|e| match e.code() {
        ErrorCode::NotFound => Error::NoRepository {
            path: path.to_path_buf(),
        },
        ErrorCode::Owner => Error::Usage(format!(
            "git refuses to open {}: it is owned by another user ({})\n  hint: run `git config --global --add safe.directory {}` if you trust it",
            path.display(),
            e.message(),
            path.display()
        )),
        _ => crate::git::err(format!("opening the repository at {}", path.display()))(e),
    })
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Revision {
    /// What the user asked for (`HEAD`, `origin/main`, a sha).
    pub rev: String,
    /// The commit it names.
    pub sha: String,
}

/// Base, head and the merge-base: the pull request is `merge_base..head`.
#[derive(Debug, Clone, Serialize)]
pub struct Revisions {
    pub base: Revision,
    pub head: Revision,
    pub merge_base: String,
    #[serde(skip)]
    pub merge_base_oid: Oid,
    #[serde(skip)]
    pub head_oid: Oid,
    /// Where the repository's working tree (or git dir, when bare) is.
    #[serde(skip)]
    pub workdir: PathBuf,
}

/// Resolve base and head (applying the defaults) and compute their merge-base.
pub fn resolve(repo: &Repo, base: Option<&str>, head: Option<&str>) -> Result<Revisions> {
    let unborn = matches!(repo.raw().head(), Err(e) if e.code() == ErrorCode::UnbornBranch);
    let no_refs = repo
        .raw()
        .references()
        .map(|mut r| r.next().is_none())
        .unwrap_or(false);
    if repo.raw().is_empty().unwrap_or(false) || (unborn && no_refs) {
        return Err(Error::EmptyRepository);
    }
    let head_rev = head.unwrap_or("HEAD").to_string();
    let head_oid = commit_of(repo, &head_rev, "head")?;
    let base_rev = match base {
        Some(b) => b.to_string(),
        None => default_base(repo)?,
    };
    let base_oid = commit_of(repo, &base_rev, "base")?;
    let merge_base_oid = match repo.raw().merge_base(base_oid, head_oid) {
        Ok(m) => m,
        Err(e) if e.code() == ErrorCode::NotFound => {
            if repo.raw().is_shallow() {
                return Err(Error::RevisionNotFound {
                    what: "the merge-base of base",
                    rev: base_rev,
                    detail: " (the shared history is cut off)".to_string(),
                    hint: SHALLOW_HINT.to_string(),
                });
            }
            return Err(Error::UnrelatedHistories {
                base: base_rev,
                head: head_rev,
            });
        }
        Err(e) => return Err(crate::git::err("computing the merge-base")(e)),
    };
    let workdir = repo.root();
    Ok(Revisions {
        base: Revision {
            rev: base_rev,
            sha: base_oid.to_string(),
        },
        head: Revision {
            rev: head_rev,
            sha: head_oid.to_string(),
        },
        merge_base: merge_base_oid.to_string(),
        merge_base_oid,
        head_oid,
        workdir,
    })
}

/// The merge-base of two commits, when they have one.
pub fn merge_base(repo: &Repo, a: Oid, b: Oid) -> Option<Oid> {
    repo.raw().merge_base(a, b).ok()
}

pub fn commit_of(repo: &Repo, rev: &str, what: &'static str) -> Result<Oid> {
    let obj = repo.raw().revparse_single(rev).map_err(|e| {
        let shallow = repo.raw().is_shallow();
        Error::RevisionNotFound {
            what,
            rev: rev.to_string(),
            detail: if shallow {
                " (the repository is a shallow clone)".to_string()
            } else {
                String::new()
            },
            hint: if shallow {
                SHALLOW_HINT.to_string()
            } else if e.code() == ErrorCode::UnbornBranch {
                "the branch has no commits yet".to_string()
            } else {
                format!(
                    "fetch it (`git fetch origin {rev}`), or with actions/checkout use `fetch-depth: 0` so the base is present"
                )
            },
        }
    })?;
    let commit = obj.peel_to_commit().map_err(|_| Error::RevisionNotFound {
        what,
        rev: rev.to_string(),
        detail: " (it does not name a commit)".to_string(),
        hint: "pass a branch, tag or commit sha".to_string(),
    })?;
    Ok(commit.id())
}

/// The branch's upstream, else `origin/HEAD`, else `main`/`master` (local or on origin).
pub fn default_base(repo: &Repo) -> Result<String> {
    if let Ok(head) = repo.raw().head() {
        if head.is_branch() {
            if let Ok(name) = head.shorthand() {
                if let Ok(branch) = repo.raw().find_branch(name, BranchType::Local) {
                    if let Ok(up) = branch.upstream() {
                        if let Ok(Some(n)) = up.name() {
                            return Ok(n.to_string());
                        }
                    }
                }
            }
        }
    }
    if let Ok(r) = repo.raw().find_reference("refs/remotes/origin/HEAD") {
        if let Ok(resolved) = r.resolve() {
            if let Ok(n) = resolved.shorthand() {
                return Ok(n.to_string());
            }
        }
    }
    for cand in ["main", "master", "origin/main", "origin/master"] {
        if repo.raw().revparse_single(cand).is_ok() {
            return Ok(cand.to_string());
        }
    }
    Err(Error::NoDefaultBase)
}
