//! `--worktree`: score uncommitted changes as if they were committed.
//!
//! The rest of the pipeline reads commits from git objects, never the working tree. So instead of
//! teaching every stage about files on disk, this writes the working tree into the object database
//! as a tree (index + tracked changes + untracked files that are not ignored) and a commit on top
//! of `HEAD` that no ref points to, and hands that commit to the normal pipeline as the head.
//!
//! Nothing visible changes: no ref moves, the index file is not written (the in-memory index is
//! thrown away), the working tree is not touched. The new blob, tree and commit objects are
//! unreferenced and go away with the next `git gc`, like `git stash create`'s. The commit's
//! identity and time are fixed (the `HEAD` commit's time), so the same working tree gives the same
//! sha.

use git2::{IndexAddOption, Signature};

use super::{Oid, Repo};

use crate::error::{Error, Result};

/// Write the working tree as a dangling commit whose parent is `HEAD`; returns its id.
pub fn snapshot_commit(repo: &Repo) -> Result<Oid> {
    if repo.raw().is_bare() {
        return Err(Error::Usage(
            "--worktree needs a working tree, and this repository is bare\n  hint: run pr-risk inside a checkout".to_string(),
        ));
    }
    let head = repo
        .raw()
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|_| Error::EmptyRepository)?;
    let mut index = repo
        .raw()
        .index()
        .map_err(crate::git::err("reading the index for --worktree"))?;
    // Stage everything in memory only: new files (respecting .gitignore), modifications and
    // deletions. `index.write()` is never called, so the index file on disk is unchanged.
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .map_err(crate::git::err("adding working-tree files for --worktree"))?;
    index
        .update_all(["*"].iter(), None)
        .map_err(crate::git::err(
            "staging working-tree deletions for --worktree",
        ))?;
    let tree_id = index
        .write_tree()
        .map_err(crate::git::err("writing the working tree as a tree object"))?;
    // Forget the in-memory changes (another user of this handle must see the real index).
    let _ = index.read(true);
    let tree = repo
        .raw()
        .find_tree(tree_id)
        .map_err(crate::git::err("reading the working-tree tree"))?;
    let sig = Signature::new("pr-risk", "pr-risk@localhost", &head.time()).map_err(
        crate::git::err("making the working-tree commit's signature"),
    )?;
    repo.raw()
        .commit(
            None,
            &sig,
            &sig,
            "pr-risk: uncommitted working-tree changes",
            &tree,
            &[&head],
        )
        .map_err(crate::git::err("writing the working-tree commit"))
}
