//! Caches kept between runs: parse facts by blob, history records (and their line facts) by
//! commit, the resolution memo, the trained regression model.
//!
//! One store ([`store`]) holds them all: each cache is one file `<name>-v<format>.bin` in the cache
//! directory with the same header (magic, cache name, the cache's own format, tool version, a key,
//! entry count, body length, FNV-1a checksum of the body) and a body in [`binfmt`]. A file of
//! another format, another tool version, truncated or corrupt is rebuilt with the reason
//! (`--timings` shows it), never a failed run. Each cache has its own format number, so bumping
//! one leaves the others' files valid. Writes are atomic and merged with what another run wrote
//! meanwhile, and each cache is bounded.
//!
//! Only the pipeline opens caches. Domain code sees the memo it needs:
//! [`crate::parse::FactsMemo`], [`crate::git::history::CommitMemo`] and
//! [`crate::resolve::memo::Memo`].

pub mod binfmt;
pub mod history;
pub mod model;
pub mod parse;
pub mod resolve;
pub mod store;

use std::path::{Path, PathBuf};

pub use history::HistoryCache;
pub use parse::ParseCache;

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
