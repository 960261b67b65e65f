//! Parsing: which files of a snapshot are sources, and their facts, parsed once per blob.
//!
//! Parse results are keyed by (blob id, language): a file unchanged between base and head is
//! parsed once for both. Blobs are read and parsed in parallel, each worker with its own git
//! handle (libgit2 handles are not shared between threads).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use git2::Oid;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cache::ParseCache;
use crate::glob::GlobList;
use crate::lang::{self, FileFacts, Lang};
use crate::snapshot::{self, looks_binary, Snapshot};

/// A source file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub oid: Oid,
    pub lang: Lang,
}

/// Why a source file was not parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Skipped {
    Oversize { bytes: u64, limit: u64 },
    Binary,
    NonUtf8,
    Unreadable { error: String },
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::Oversize { bytes, limit } => {
                write!(f, "larger than the size limit ({bytes} > {limit} bytes)")
            }
            Skipped::Binary => write!(f, "binary content"),
            Skipped::NonUtf8 => write!(f, "not valid UTF-8"),
            Skipped::Unreadable { error } => write!(f, "unreadable: {error}"),
        }
    }
}

/// Path filters from the configuration.
pub struct Filters {
    pub include: GlobList,
    pub exclude: GlobList,
}

impl Filters {
    /// The configuration's `include` and `exclude` globs.
    pub fn from_config(cfg: &crate::config::Config) -> Filters {
        Filters {
            include: GlobList::new(cfg.include.iter()),
            exclude: GlobList::new(cfg.exclude.iter()),
        }
    }

    pub fn allows(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.is_match(path)) && !self.exclude.is_match(path)
    }
}

/// The source files of a snapshot that the filters allow.
pub fn select_sources(snapshot: &Snapshot, filters: &Filters) -> Vec<SourceFile> {
    snapshot
        .files()
        .filter_map(|(path, e)| {
            let lang = Lang::of_path(path)?;
            filters.allows(path).then(|| SourceFile {
                path: path.to_string(),
                oid: e.oid,
                lang,
            })
        })
        .collect()
}

pub type Outcome = Result<Arc<FileFacts>, Skipped>;

/// Parsed facts by (blob id, language).
#[derive(Default)]
pub struct ParseStore {
    results: HashMap<(Oid, Lang), Outcome>,
    pub bytes_parsed: u64,
}

impl ParseStore {
    pub fn get(&self, file: &SourceFile) -> Option<&Outcome> {
        self.results.get(&(file.oid, file.lang))
    }

    pub fn facts(&self, file: &SourceFile) -> Option<&Arc<FileFacts>> {
        self.get(file).and_then(|r| r.as_ref().ok())
    }

    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// Parse every (blob, language) of `files` not parsed yet.
    pub fn parse<'a>(
        &mut self,
        git_dir: &Path,
        files: impl IntoIterator<Item = &'a SourceFile>,
        max_size: u64,
    ) {
        self.parse_cached(git_dir, files, max_size, None)
    }

    /// [`ParseStore::parse`], taking what it can from `cache` and adding what it parsed to it.
    pub fn parse_cached<'a>(
        &mut self,
        git_dir: &Path,
        files: impl IntoIterator<Item = &'a SourceFile>,
        max_size: u64,
        mut cache: Option<&mut ParseCache>,
    ) {
        let mut jobs: Vec<(Oid, Lang)> = files
            .into_iter()
            .map(|f| (f.oid, f.lang))
            .filter(|k| !self.results.contains_key(k))
            .collect();
        jobs.sort_unstable();
        jobs.dedup();
        if let Some(cache) = cache.as_deref_mut() {
            jobs.retain(|&(oid, lang)| match cache.get(oid, lang, max_size) {
                Some((outcome, bytes)) => {
                    self.bytes_parsed += bytes;
                    self.results.insert((oid, lang), outcome);
                    false
                }
                None => true,
            });
        }
        let done: Vec<((Oid, Lang), Outcome, u64)> = jobs
            .par_iter()
            .map(|&(oid, lang)| {
                let (outcome, bytes) = with_thread_repo(git_dir, |repo| match repo {
                    Some(repo) => parse_blob(repo, oid, lang, max_size),
                    None => (
                        Err(Skipped::Unreadable {
                            error: "repository could not be opened".into(),
                        }),
                        0,
                    ),
                });
                ((oid, lang), outcome, bytes)
            })
            .collect();
        for ((oid, lang), outcome, bytes) in done {
            if outcome.is_ok() {
                self.bytes_parsed += bytes;
            }
            if let Some(cache) = cache.as_deref_mut() {
                cache.put(oid, lang, bytes, &outcome);
            }
            self.results.insert((oid, lang), outcome);
        }
    }
}

thread_local! {
    /// One git handle per worker thread (libgit2 handles are not shared between threads, and
    /// opening one per file would cost more than parsing it).
    static REPO: std::cell::RefCell<Option<(std::path::PathBuf, git2::Repository)>> =
        const { std::cell::RefCell::new(None) };
}

pub(crate) fn with_thread_repo<T>(
    git_dir: &Path,
    f: impl FnOnce(Option<&git2::Repository>) -> T,
) -> T {
    REPO.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().map(|(p, _)| p.as_path()) != Some(git_dir) {
            *slot = snapshot::reopen(git_dir)
                .ok()
                .map(|r| (git_dir.to_path_buf(), r));
        }
        f(slot.as_ref().map(|(_, r)| r))
    })
}

/// The outcome and the blob's size in bytes (0 when it was not read).
fn parse_blob(repo: &git2::Repository, oid: Oid, lang: Lang, max_size: u64) -> (Outcome, u64) {
    if let Some(size) = snapshot::blob_size(repo, oid) {
        if size > max_size {
            return (
                Err(Skipped::Oversize {
                    bytes: size,
                    limit: max_size,
                }),
                0,
            );
        }
    }
    let content = match snapshot::read_blob(repo, oid) {
        Ok(c) => c,
        Err(e) => {
            return (
                Err(Skipped::Unreadable {
                    error: e.to_string(),
                }),
                0,
            )
        }
    };
    if looks_binary(&content) {
        return (Err(Skipped::Binary), content.len() as u64);
    }
    let Ok(text) = std::str::from_utf8(&content) else {
        return (Err(Skipped::NonUtf8), content.len() as u64);
    };
    let facts = lang::extract(lang, text);
    (Ok(Arc::new(facts)), content.len() as u64)
}
