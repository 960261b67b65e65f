//! What the pre-push hook needs from git: the hooks directory, commits named by sha, and a
//! remote's default branch.

use std::path::PathBuf;

use super::{Oid, Repo};
use crate::error::Result;

/// The hooks directory git uses for this repository: `core.hooksPath` (relative to the top of
/// the working tree, where hooks run), else `<git common dir>/hooks`.
pub fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    let raw = repo.raw();
    let cfg = raw
        .config()
        .map_err(super::err("reading the git configuration"))?;
    if let Ok(p) = cfg.get_path("core.hooksPath") {
        if p.as_os_str().is_empty() {
            return Ok(raw.commondir().join("hooks"));
        }
        if p.is_absolute() {
            return Ok(p);
        }
        let base = raw.workdir().unwrap_or_else(|| raw.commondir());
        return Ok(base.join(p));
    }
    Ok(raw.commondir().join("hooks"))
}

/// The commit `sha` names (an annotated tag is peeled), if this clone has it.
pub fn commit_of_sha(repo: &Repo, sha: &str) -> Option<Oid> {
    let o = Oid::from_str(sha).ok()?;
    let obj = repo.raw().find_object(o, None).ok()?;
    obj.peel_to_commit().ok().map(|c| c.id())
}

/// Whether `sha` is a commit this clone has (not peeled).
pub fn has_commit(repo: &Repo, sha: &str) -> Option<Oid> {
    let o = Oid::from_str(sha).ok()?;
    repo.raw().find_commit(o).ok().map(|c| c.id())
}

/// The first of `refs` that exists, as (short name, commit).
pub fn first_ref(repo: &Repo, refs: &[String]) -> Option<(String, Oid)> {
    for c in refs {
        if let Ok(r) = repo.raw().find_reference(c) {
            let resolved = r.resolve().ok()?;
            let label = resolved
                .shorthand()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| c.clone());
            if let Ok(commit) = resolved.peel_to_commit() {
                return Some((label, commit.id()));
            }
        }
    }
    None
}
