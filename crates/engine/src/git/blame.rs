//! What the regression backtest (`pr-risk eval regression`) reads from git: a topological walk,
//! each commit's changed paths with line counts, the lines a fix deleted, and blame.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{BlameOptions, DiffOptions, Sort};

use super::diff::Status;
use super::history::{self, commit_changes};
use super::{Oid, Repo};
use crate::error::{Error, Result};

/// The commit `rev` names and up to `max` commits reachable from it, oldest first (topological,
/// then by time).
pub fn walk(repo: &Repo, rev: &str, max: usize) -> Result<(Oid, Vec<Oid>)> {
    let raw = repo.raw();
    let tip = raw
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| Error::Usage(format!("revision `{rev}` not found: {}", e.message())))?;
    let mut walk = raw.revwalk().map_err(super::err("walking history"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(super::err("walking history"))?;
    walk.push(tip.id()).map_err(super::err("walking history"))?;
    let mut oids = Vec::new();
    for oid in walk.take(max.max(1)) {
        oids.push(oid.map_err(super::err("walking history"))?);
    }
    oids.reverse();
    Ok((tip.id(), oids))
}

/// One path a commit changed, with its line counts.
#[derive(Debug, Clone)]
pub struct Touched {
    pub path: String,
    /// The path before the commit, when it was renamed.
    pub from: Option<String>,
    pub added: u32,
    pub deleted: u32,
    pub binary: bool,
}

/// A commit as the backtest reads it.
#[derive(Debug, Clone)]
pub struct CommitDiff {
    pub message: String,
    /// The author's identity ([`history::identity`]).
    pub author: String,
    pub time: i64,
    pub parent: Option<Oid>,
    pub merge: bool,
    /// What it changed against its first parent (empty for merges).
    pub touched: Vec<Touched>,
}

/// Read commit `id` and (unless it is a merge) what it changed, line counts included.
pub fn commit_diff(repo: &Repo, id: Oid, renames: bool) -> Result<CommitDiff> {
    let commit = repo
        .raw()
        .find_commit(id)
        .map_err(super::err("reading a commit"))?;
    let merge = commit.parent_count() > 1;
    let mut touched = Vec::new();
    if !merge {
        let changes = commit_changes(repo, &commit, renames)
            .map_err(super::err("comparing a commit with its parent"))?;
        for change in changes {
            let (added, deleted, binary) = change.line_counts(repo, true).unwrap_or((0, 0, true));
            touched.push(Touched {
                path: change.path().to_string(),
                from: (change.status == Status::Renamed)
                    .then(|| change.old_path.clone())
                    .flatten(),
                added,
                deleted,
                binary,
            });
        }
    }
    let author = history::identity(&commit.author());
    Ok(CommitDiff {
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        author,
        time: commit.time().seconds(),
        parent: commit.parent_ids().next(),
        merge,
        touched,
    })
}

/// Lines (by path at the parent) that commit `id` deleted or changed, whitespace-only changes
/// excluded, for the paths `keep_path` accepts and the lines `keep_line(text, path)` accepts.
pub fn deleted_lines(
    repo: &Repo,
    id: Oid,
    renames: bool,
    keep_path: &dyn Fn(&str) -> bool,
    keep_line: &dyn Fn(&str, &str) -> bool,
) -> Result<BTreeMap<String, Vec<u32>>> {
    let commit = repo
        .raw()
        .find_commit(id)
        .map_err(super::err("reading a commit"))?;
    let changes = commit_changes(repo, &commit, renames)
        .map_err(super::err("comparing a fix commit with its parent"))?;
    let mut out: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for change in changes {
        if change.status == Status::Added {
            continue;
        }
        let Some(old) = change.old_path.clone() else {
            continue;
        };
        if !keep_path(&old) {
            continue;
        }
        let mut opts = DiffOptions::new();
        opts.context_lines(0).ignore_whitespace(true);
        let lines = change.with_patch(repo, Some(&mut opts), |patch, binary| {
            let mut v = Vec::new();
            if binary {
                return v;
            }
            for h in 0..patch.num_hunks() {
                let n = patch.num_lines_in_hunk(h).unwrap_or(0);
                for l in 0..n {
                    let Ok(line) = patch.line_in_hunk(h, l) else {
                        continue;
                    };
                    if line.origin() != '-' {
                        continue;
                    }
                    if let Some(no) = line.old_lineno() {
                        if keep_line(&String::from_utf8_lossy(line.content()), &old) {
                            v.push(no);
                        }
                    }
                }
            }
            v
        });
        if let Some(v) = lines.filter(|v| !v.is_empty()) {
            out.entry(old).or_default().extend(v);
        }
    }
    Ok(out)
}

/// Which commit last changed each of `lines` of `path` as of `newest` (whitespace ignored): the
/// commit id and whether it is a boundary commit (the walk stopped at `oldest`). `None` when the
/// file cannot be blamed.
pub fn blame(
    repo: &Repo,
    path: &str,
    newest: Oid,
    oldest: Option<Oid>,
    lines: &[u32],
) -> Option<Vec<(Oid, bool)>> {
    let (lo, hi) = (lines.iter().min()?, lines.iter().max()?);
    let mut bo = BlameOptions::new();
    bo.newest_commit(newest)
        .ignore_whitespace(true)
        .min_line(*lo as usize)
        .max_line(*hi as usize);
    if let Some(id) = oldest {
        bo.oldest_commit(id);
    }
    let blame = repo.raw().blame_file(Path::new(path), Some(&mut bo)).ok()?;
    Some(
        lines
            .iter()
            .filter_map(|n| blame.get_line(*n as usize))
            .map(|h| (h.final_commit_id(), h.is_boundary()))
            .collect(),
    )
}
