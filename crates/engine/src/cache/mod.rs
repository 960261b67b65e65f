//! Caches kept between runs: parse facts by blob, history records (and their line facts) by
//! commit, the resolution memo, the trained regression model, and advisory answers by package
//! version ([`osv`], kept for a day).
//!
//! One store ([`store`]) holds them all: each cache is one file `<name>-v<format>.bin` in the cache
//! directory with the same header (magic, cache name, the cache's own format, tool version, a key,
//! entry count, body length, FNV-1a checksum of the body) and a body in [`binfmt`]. A file of
//! another format, another tool version, truncated or corrupt is rebuilt with the reason
//! (`--timings` shows it), never a failed run. Each cache has its own format number, so bumping
//! one leaves the others' files valid. Writes are atomic and merged with what another run wrote
//! meanwhile, and each cache is bounded.
//!
//! A cache is trusted as if pr-risk had just computed it, so it must only ever hold what pr-risk
//! computed: every file is sealed with a MAC under the host's key ([`store`]), the directory must
//! not be a symbolic link, and in action mode it must not be inside the checkout, which is the
//! pull request's own code ([`location`]).
//!
//! Only the pipeline opens caches. Domain code sees the memo it needs:
//! [`crate::parse::FactsMemo`], [`crate::git::history::CommitMemo`],
//! [`crate::resolve::memo::Memo`] and [`crate::deps::AdvisoryMemo`].

pub mod binfmt;
pub mod history;
pub mod model;
pub mod osv;
pub mod parse;
pub mod resolve;
pub mod scan;
pub mod store;

use std::path::{Component, Path, PathBuf};

pub use history::HistoryCache;
pub use parse::ParseCache;
pub use store::Key;

/// Where this run's caches are and the key that seals them.
#[derive(Debug, Clone)]
pub struct Location {
    pub dir: PathBuf,
    pub key: Key,
    /// Why the host's key could not be had (this run then seals with a key of its own, which no
    /// later run has: the caches are rebuilt every time).
    pub key_problem: Option<String>,
}

/// The caches of `repo` (see [`dir_for`]), or why they must not be used: the directory is a
/// symbolic link, or `untrusted` (the checkout in action mode) holds it — outside the repository's
/// git directory, which a pull request cannot write.
pub fn location(
    repo: &crate::git::Repo,
    explicit: Option<&Path>,
    untrusted: Option<&Path>,
) -> Result<Location, String> {
    let dir = dir_for(repo, explicit);
    if let Some(checkout) = untrusted {
        let at = absolute(&dir);
        let inside =
            |root: &Path| absolute(root).map(|r| at.as_ref().is_some_and(|a| a.starts_with(&r)));
        let in_checkout = inside(checkout).unwrap_or(true);
        let in_git_dir = inside(repo.common_dir()).unwrap_or(false);
        if in_checkout && !in_git_dir {
            return Err(format!(
                "the cache directory {} is inside the checkout, which is the pull request's own code; in action mode caches are kept outside it (e.g. PR_RISK_CACHE_DIR=${{{{ runner.temp }}}}/pr-risk-cache, see docs/caches.md)",
                dir.display()
            ));
        }
    }
    if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "the cache directory {} is a symbolic link; pr-risk never reads or writes caches through a link",
            dir.display()
        ));
    }
    let (key, key_problem) = match Key::for_host(&repo.common_dir().join("pr-risk")) {
        Ok(k) => (k, None),
        Err(why) => (
            Key::random().map_err(|e| format!("caches not used: {e}"))?,
            Some(why),
        ),
    };
    Ok(Location {
        dir,
        key,
        key_problem,
    })
}

/// `p` made absolute with every symbolic link of its existing part resolved (a part that does
/// not exist yet is appended as written, without `..`). `None` when that cannot be done.
fn absolute(p: &Path) -> Option<PathBuf> {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(p)
    };
    let mut existing = p.as_path();
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(existing) {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        let name = existing.file_name()?;
        if Path::new(name)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return None;
        }
        rest.push(name);
        existing = existing.parent()?;
    }
}

/// Where the caches live for a repository: `explicit` (`--cache-dir`), else `$PR_RISK_CACHE_DIR`,
/// else `<common git dir>/pr-risk/cache` (every worktree shares it).
pub fn dir_for(repo: &crate::git::Repo, explicit: Option<&Path>) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    if let Some(d) = std::env::var_os("PR_RISK_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    repo.common_dir().join("pr-risk").join("cache")
}
