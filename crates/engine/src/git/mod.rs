//! The git layer: the only module of pr-risk that names `git2`.
//!
//! Everything the other stages know about a repository comes through here: [`Repo`] (a handle on
//! one repository), [`revisions`] (base, head, merge-base), [`diff`] (the change set),
//! [`snapshot`] (a commit's files, read from objects), [`worktree`] (uncommitted changes as a
//! commit), [`history`] (the commit walk that regression mining reads), [`hunks`] (each commit's
//! line facts, which the SZZ labeller and the size features read), [`mailmap`] (canonical author
//! identities), [`push`] (the pre-push hook's refs), [`fetch`] (the `git` CLI for missing objects)
//! and [`files::FileSource`], the one reader of settings, rules and templates.
//!
//! A `Repo` is not shared between threads (libgit2 handles are not `Sync`); a worker opens its own
//! with [`Repo::open`] or borrows one per thread with [`with_thread_repo`].

pub mod diff;
pub mod fetch;
pub mod files;
pub mod history;
pub mod hunks;
pub mod mailmap;
pub mod push;
pub mod revisions;
pub mod snapshot;
pub mod worktree;

use std::path::{Path, PathBuf};

pub use git2::Oid;

use crate::error::{Error, Result};

/// A handle on one repository.
pub struct Repo {
    raw: git2::Repository,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("git_dir", &self.git_dir())
            .finish()
    }
}

impl Repo {
    /// The repository at or above `path` (see [`revisions::open`] for the errors).
    pub fn discover(path: &Path) -> Result<Repo> {
        revisions::open(path)
    }

    /// Another handle on the repository whose git directory is `git_dir`.
    pub fn open(git_dir: &Path) -> Result<Repo> {
        git2::Repository::open(git_dir)
            .map(Repo::from)
            .map_err(err(format!(
                "re-opening the repository at {}",
                git_dir.display()
            )))
    }

    /// The repository named by git's environment (`GIT_DIR`, as in a hook), else the one at or
    /// above the current directory.
    pub fn from_env() -> Option<Repo> {
        git2::Repository::open_from_env()
            .or_else(|_| git2::Repository::discover("."))
            .ok()
            .map(Repo::from)
    }

    pub(in crate::git) fn raw(&self) -> &git2::Repository {
        &self.raw
    }

    /// The git directory (`.git`, or the repository itself when bare).
    pub fn git_dir(&self) -> &Path {
        self.raw.path()
    }

    /// The shared git directory of a worktree (the git directory otherwise).
    pub fn common_dir(&self) -> &Path {
        self.raw.commondir()
    }

    /// The working tree, `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.raw.workdir()
    }

    /// The working tree, else the git directory.
    pub fn root(&self) -> PathBuf {
        self.workdir().unwrap_or(self.git_dir()).to_path_buf()
    }

    pub fn is_bare(&self) -> bool {
        self.raw.is_bare()
    }

    pub fn is_shallow(&self) -> bool {
        self.raw.is_shallow()
    }

    /// A blob's bytes.
    pub fn read_blob(&self, oid: Oid) -> Result<Vec<u8>> {
        let blob = self
            .raw
            .find_blob(oid)
            .map_err(err(format!("reading blob {oid}")))?;
        Ok(blob.content().to_vec())
    }

    /// A blob's bytes as UTF-8 text (`None` when missing or not UTF-8).
    pub fn read_text(&self, oid: Oid) -> Option<String> {
        let blob = self.raw.find_blob(oid).ok()?;
        std::str::from_utf8(blob.content()).ok().map(str::to_string)
    }

    /// A blob's size without inflating it.
    pub fn blob_size(&self, oid: Oid) -> Option<u64> {
        let odb = self.raw.odb().ok()?;
        match odb.read_header(oid) {
            Ok((size, git2::ObjectType::Blob)) => Some(size as u64),
            _ => None,
        }
    }

    /// The URL of a remote.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let remote = self.raw.find_remote(name).ok()?;
        remote.url().ok().map(str::to_string)
    }

    /// The short name of the checked-out branch (`None` when detached or unborn).
    pub fn current_branch(&self) -> Option<String> {
        let h = self.raw.head().ok()?;
        if !h.is_branch() {
            return None;
        }
        h.shorthand().ok().map(str::to_string)
    }
}

impl From<git2::Repository> for Repo {
    fn from(raw: git2::Repository) -> Repo {
        Repo { raw }
    }
}

/// Turn a git2 error into [`Error::Git`] with what was being done.
pub(crate) fn err(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
    let context = context.into();
    move |e| Error::Git {
        context,
        message: e.message().to_string(),
    }
}

/// Process-wide libgit2 settings, set once at start-up before any repository is opened.
///
/// Objects are read by id from the repository's own database; re-hashing every object read
/// (libgit2's default, unlike git) costs ~20 % of history mining.
pub fn init_process() {
    git2::opts::strict_hash_verification(false);
}

/// Switch libgit2's owner check off for this process (a repository owned by another user, as the
/// Actions workspace is inside the container). Call before any repository is opened.
pub fn trust_other_owners() -> std::result::Result<(), String> {
    // SAFETY: called once, before any repository is opened and before other threads use libgit2.
    unsafe { git2::opts::set_verify_owner_validation(false) }.map_err(|e| e.to_string())
}

thread_local! {
    /// One handle per worker thread (libgit2 handles are not shared between threads, and
    /// opening one per file would cost more than the read).
    static THREAD_REPO: std::cell::RefCell<Option<(PathBuf, Repo)>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `f` with this thread's handle on the repository at `git_dir` (opened on first use;
/// `None` when it cannot be opened).
pub fn with_thread_repo<T>(git_dir: &Path, f: impl FnOnce(Option<&Repo>) -> T) -> T {
    THREAD_REPO.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(p, _)| p != git_dir) {
            *slot = git2::Repository::open(git_dir)
                .ok()
                .map(|r| (git_dir.to_path_buf(), Repo::from(r)));
        }
        f(slot.as_ref().map(|(_, r)| r))
    })
}
