//! Parsing: which files of a snapshot are sources, and their facts, parsed once per blob.
//!
//! Parse results are keyed by (blob id, language): a file unchanged between base and head is
//! parsed once for both. Blobs are read and parsed in parallel, each worker with its own git
//! handle (libgit2 handles are not shared between threads).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::git::snapshot::{looks_binary, Snapshot};
use crate::git::{with_thread_repo, Oid, Repo};
use crate::glob::{GlobList, Pattern};
use crate::lang::{self, FileFacts, Lang};

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

/// Which files are analysed and which are tests: the top-level `include`, `exclude`, `tests` and
/// `limits.max-file-size` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSettings {
    /// Only paths matching these globs are analysed (empty: everything).
    pub include: Vec<Pattern>,
    /// Paths never analysed (vendored code, build output, generated files).
    pub exclude: Vec<Pattern>,
    /// Test files: counted apart, never scored as production dependents.
    pub tests: Vec<Pattern>,
    /// Files larger than this (bytes) are listed but never parsed.
    pub max_file_size: u64,
}

/// The built-in `exclude` globs.
pub const DEFAULT_EXCLUDE: &[&str] = &[
    "**/node_modules/**",
    "**/dist/**",
    "**/build/**",
    "**/out/**",
    "**/coverage/**",
    "**/.next/**",
    "**/vendor/**",
    "**/target/**",
    "**/*.min.js",
];

/// The built-in `tests` globs.
pub const DEFAULT_TESTS: &[&str] = &[
    "**/*.test.*",
    "**/*.spec.*",
    "**/__tests__/**",
    "**/__mocks__/**",
    "tests/**",
    "test/**",
    "**/tests/**",
    "**/e2e/**",
    "**/fixtures/**",
    "**/__fixtures__/**",
    "**/*_test.rs",
    "benches/**",
];

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings {
            include: Vec::new(),
            exclude: crate::glob::patterns(DEFAULT_EXCLUDE),
            tests: crate::glob::patterns(DEFAULT_TESTS),
            max_file_size: 1024 * 1024,
        }
    }
}

impl FileSettings {
    /// The test globs, compiled.
    pub fn test_globs(&self) -> GlobList {
        GlobList::new(self.tests.iter())
    }
}

/// Path filters from the configuration.
pub struct Filters {
    pub include: GlobList,
    pub exclude: GlobList,
}

impl Filters {
    /// The configuration's `include` and `exclude` globs.
    pub fn new(files: &FileSettings) -> Filters {
        Filters {
            include: GlobList::new(files.include.iter()),
            exclude: GlobList::new(files.exclude.iter()),
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

/// Parse outcomes kept between runs, keyed by (blob id, language). The pipeline hands the
/// persistent cache in; domain code sees only this.
pub trait FactsMemo {
    /// The outcome and the blob's size, when remembered (and valid under `max_size`).
    fn get(&mut self, oid: Oid, lang: Lang, max_size: u64) -> Option<(Outcome, u64)>;
    /// Remember an outcome.
    fn put(&mut self, oid: Oid, lang: Lang, bytes: u64, outcome: &Outcome);
}

/// Parsed facts by (blob id, language).
#[derive(Default)]
pub struct ParseStore {
    results: HashMap<(Oid, Lang), Outcome>,
    /// Blob sizes (for the cache entries of symbols extracted later).
    sizes: HashMap<(Oid, Lang), u64>,
    pub bytes_parsed: u64,
}

impl ParseStore {
    pub fn get(&self, file: &SourceFile) -> Option<&Outcome> {
        self.results.get(&(file.oid, file.lang))
    }

    pub fn facts(&self, file: &SourceFile) -> Option<&Arc<FileFacts>> {
        self.get(file).and_then(|r| r.as_ref().ok())
    }

    /// The facts of a (blob, language) and the blob's size, when parsed.
    pub fn facts_of(&self, oid: Oid, lang: Lang) -> Option<(Arc<FileFacts>, u64)> {
        match self.results.get(&(oid, lang))? {
            Ok(f) => Some((
                f.clone(),
                self.sizes.get(&(oid, lang)).copied().unwrap_or(0),
            )),
            Err(_) => None,
        }
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
        mut cache: Option<&mut dyn FactsMemo>,
    ) {
        let mut jobs: Vec<(Oid, Lang)> = files
            .into_iter()
            .map(|f| (f.oid, f.lang))
            .filter(|k| !self.results.contains_key(k))
            .collect();
        jobs.sort_unstable();
        jobs.dedup();
        if let Some(cache) = cache.as_mut() {
            jobs.retain(|&(oid, lang)| match cache.get(oid, lang, max_size) {
                Some((outcome, bytes)) => {
                    self.bytes_parsed += bytes;
                    self.sizes.insert((oid, lang), bytes);
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
            if let Some(cache) = cache.as_mut() {
                cache.put(oid, lang, bytes, &outcome);
            }
            self.sizes.insert((oid, lang), bytes);
            self.results.insert((oid, lang), outcome);
        }
    }
}

/// The outcome and the blob's size in bytes (0 when it was not read).
fn parse_blob(repo: &Repo, oid: Oid, lang: Lang, max_size: u64) -> (Outcome, u64) {
    if let Some(size) = repo.blob_size(oid) {
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
    let content = match repo.read_blob(oid) {
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
