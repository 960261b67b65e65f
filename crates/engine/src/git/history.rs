//! History: what the repository's own past says about the files a change touches.
//!
//! Mined with git2 from the merge-base **backwards only** — the pull request's own commits and
//! anything on the base branch after the merge-base are never read. The walk is bounded by a
//! window (`regression.max-commits`, `regression.max-age-days` before the merge-base, whichever
//! is smaller), newest first by commit time so it can stop at the window's edge. Each non-merge
//! commit is compared with its first parent by walking both trees and skipping every subtree whose
//! id is unchanged ([`commit_changes`]): tree objects only, never blob content, except where an
//! added and a deleted file with different ids must be compared to pair an inexact rename, and for
//! the line counts ("lines churned") of the few files a caller asks about. Merge commits are
//! counted but not diffed (their changes are the changes of the commits they merge).
//!
//! Renames are followed: walking from new to old, a commit that renames `a` to `b` makes every
//! older commit touching `a` count for `b` (the path at the merge-base).
//!
//! What a commit is and changed never changes, so [`mine`] keeps it in a [`HistoryCache`] (on
//! disk between runs when the caller gives one): a later run walks the cached part of the graph
//! without reading commit objects and compares only the new commits, in parallel. Aggregation
//! (classifying messages, following renames, line counts) always happens at use time, in walk
//! order, so the result is the same with or without the cache.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use git2::{DiffFindOptions, DiffOptions, Patch};
use rayon::prelude::*;
use regex::{Regex, RegexBuilder};

use super::diff::Status;
use super::hunks::{self, CommitFacts};
use super::{Oid, Repo};
use crate::error::{Error, Result};
use crate::glob::GlobList;

/// Conventional-commit types that mark a bug fix.
pub const DEFAULT_FIX_TYPES: &[&str] = &["fix", "hotfix", "bugfix"];

/// Conventional-commit types (or scopes) that never mark a bug fix, whatever the subject says.
pub const DEFAULT_NOT_FIX_TYPES: &[&str] = &[
    "release",
    "chore",
    "docs",
    "doc",
    "style",
    "lint",
    "ci",
    "build",
    "deps",
    "deps-dev",
    "test",
    "tests",
    "bump",
    "version",
    "changelog",
    "typo",
    "format",
    "fmt",
];

/// Default bug-fix patterns, matched against the **subject** (case-insensitive).
pub const DEFAULT_FIX_PATTERNS: &[&str] = &[
    r"\b(fix|fixes|fixed|fixing|bugfix|bugfixes|hotfix|hotfixes)\b",
    r"\bbugs?\b",
];

/// Default issue-link patterns, matched against the whole message: `Fixes #12`,
/// `Closes org/repo#3`, `resolves GH-7`.
pub const DEFAULT_FIX_LINK_PATTERNS: &[&str] =
    &[r"\b(fix(e[sd])?|close[sd]?|resolve[sd]?)\s*:?\s+([\w.-]+/[\w.-]+)?(#|gh-)\d+"];

/// Subjects that are never bug fixes: releases, version bumps, lint, formatting, typos.
pub const DEFAULT_NOT_FIX_PATTERNS: &[&str] = &[
    r"^\s*(release|releasing|prepare release|version packages|bump version|publish)\b",
    r"^\s*v?\d+\.\d+\.\d+\S*\s*$",
    r"\b(bump|bumps|bumped|upgrade|update)\b.*\b(from|to) v?\d+\.\d+",
    r"\b(lint|linting|linter|clippy|eslint|prettier|rustfmt|formatting|typos?|spelling)\b",
];

/// Default revert patterns (`^` matches at the start of every line of the message).
pub const DEFAULT_REVERT_PATTERNS: &[&str] =
    &[r#"^Revert ""#, r"^This reverts commit [0-9a-f]{7,}"];

/// Conventional-commit types that are not fixes but are not excluded either (a `feat:` is a
/// feature, whatever its subject says).
const OTHER_TYPES: &[&str] = &[
    "feat",
    "feature",
    "refactor",
    "perf",
    "revert",
    "improvement",
];

/// Paths whose lines are not counted as source: lock files, generated files, docs.
pub const DEFAULT_NOT_SOURCE: &[&str] = &[
    "*.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "go.sum",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.snap",
    "*.generated.*",
    "*_generated.*",
    "*.pb.go",
    "*.pb.rs",
    "*.g.dart",
    "*.md",
    "*.mdx",
    "*.rst",
    "*.adoc",
    "*.txt",
    "*.svg",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.ico",
    "*.pdf",
    "docs/",
    "doc/",
    "LICENSE*",
    "CHANGELOG*",
    "AUTHORS*",
];

/// Compile one message pattern: case-insensitive, `^`/`$` at line boundaries.
pub fn compile_pattern(p: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(p)
        .case_insensitive(true)
        .multi_line(true)
        .size_limit(1 << 20)
        .build()
}

/// What [`FixMatcher`] reads from a commit message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageKind {
    /// A bug fix by its message (the labeller also requires it to change production code).
    pub fix: bool,
    /// A revert (never a fix: the commit it reverts is bug-inducing instead).
    pub revert: bool,
}

/// The patterns that say what a commit message is.
#[derive(Debug, Clone, Default)]
pub struct FixPatterns {
    pub fix_types: Vec<String>,
    pub not_fix_types: Vec<String>,
    pub fix: Vec<String>,
    pub fix_links: Vec<String>,
    pub not_fix: Vec<String>,
    pub revert: Vec<String>,
}

impl FixPatterns {
    pub fn defaults() -> FixPatterns {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        FixPatterns {
            fix_types: s(DEFAULT_FIX_TYPES),
            not_fix_types: s(DEFAULT_NOT_FIX_TYPES),
            fix: s(DEFAULT_FIX_PATTERNS),
            fix_links: s(DEFAULT_FIX_LINK_PATTERNS),
            not_fix: s(DEFAULT_NOT_FIX_PATTERNS),
            revert: s(DEFAULT_REVERT_PATTERNS),
        }
    }
}

/// Classifies commit messages as bug fixes and reverts.
///
/// A conventional-commit subject (`type(scope)!: text`) decides by its type: a fix type is a fix,
/// an excluded type (or scope: `fix(deps)` is a dependency bump) never is, another known type
/// (`feat`, `refactor`, `perf`) is not. Any other subject — `printer: fix …` is a component,
/// not a type — is a fix when the subject matches a fix pattern or the message links an issue it
/// fixes. The not-fix patterns (releases, version bumps, lint, typos) veto all of that. A revert is
/// never a fix.
#[derive(Debug, Clone)]
pub struct FixMatcher {
    fix_types: Vec<String>,
    not_fix_types: Vec<String>,
    fix: Vec<Regex>,
    links: Vec<Regex>,
    not_fix: Vec<Regex>,
    revert: Vec<Regex>,
    reverts_commit: Regex,
    conventional: Regex,
}

impl FixMatcher {
    /// Patterns are validated by the configuration; an invalid one here is an error.
    pub fn new(p: &FixPatterns) -> Result<FixMatcher> {
        let compile = |ps: &[String]| -> Result<Vec<Regex>> {
            ps.iter()
                .map(|p| {
                    compile_pattern(p)
                        .map_err(|e| Error::Usage(format!("invalid regex `{p}`: {e}")))
                })
                .collect()
        };
        let lower = |v: &[String]| v.iter().map(|t| t.to_lowercase()).collect();
        Ok(FixMatcher {
            fix_types: lower(&p.fix_types),
            not_fix_types: lower(&p.not_fix_types),
            fix: compile(&p.fix)?,
            links: compile(&p.fix_links)?,
            not_fix: compile(&p.not_fix)?,
            revert: compile(&p.revert)?,
            reverts_commit: compile_pattern(r"This reverts commit ([0-9a-f]{7,40})")
                .expect("a valid pattern"),
            conventional: Regex::new(r"^([A-Za-z][\w-]*)(?:\(([^)]*)\))?!?:\s")
                .expect("a valid pattern"),
        })
    }

    pub fn defaults() -> FixMatcher {
        FixMatcher::new(&FixPatterns::defaults()).expect("built-in patterns are valid")
    }

    /// What the message says the commit is.
    pub fn kind(&self, message: &str) -> MessageKind {
        if self.revert.iter().any(|r| r.is_match(message)) {
            return MessageKind {
                fix: false,
                revert: true,
            };
        }
        let subject = message.lines().next().unwrap_or("").trim();
        if self.not_fix.iter().any(|r| r.is_match(subject)) {
            return MessageKind::default();
        }
        let linked = || self.links.iter().any(|r| r.is_match(message));
        let fix = match self.conventional.captures(subject) {
            Some(c) => {
                let ty = c[1].to_lowercase();
                let scopes: Vec<String> = c
                    .get(2)
                    .map(|s| {
                        s.as_str()
                            .split([',', '/'])
                            .map(|x| x.trim().to_lowercase())
                            .collect()
                    })
                    .unwrap_or_default();
                let known = |t: &str| {
                    self.fix_types.iter().any(|x| x == t)
                        || self.not_fix_types.iter().any(|x| x == t)
                        || OTHER_TYPES.contains(&t)
                };
                if self.not_fix_types.contains(&ty)
                    || scopes
                        .iter()
                        .any(|s| self.not_fix_types.iter().any(|x| x == s))
                {
                    false
                } else if self.fix_types.contains(&ty) {
                    true
                } else if known(&ty) {
                    false
                } else {
                    self.fix.iter().any(|r| r.is_match(subject)) || linked()
                }
            }
            None => self.fix.iter().any(|r| r.is_match(subject)) || linked(),
        };
        MessageKind { fix, revert: false }
    }

    /// `(fix, revert)`.
    pub fn classify(&self, message: &str) -> (bool, bool) {
        let k = self.kind(message);
        (k.fix, k.revert)
    }

    /// The (possibly abbreviated) ids of the commits a revert message names
    /// (`This reverts commit <sha>`).
    pub fn reverted(&self, message: &str) -> Vec<String> {
        self.reverts_commit
            .captures_iter(message)
            .map(|c| c[1].to_lowercase())
            .collect()
    }
}

/// Which paths hold source lines.
#[derive(Debug, Clone)]
pub struct SourceFilter {
    pub not_source: GlobList,
    pub exclude: GlobList,
}

impl SourceFilter {
    pub fn is_source(&self, path: &str) -> bool {
        !(self.not_source.is_match(path) || self.exclude.is_match(path))
    }
}

/// One mined commit.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: Oid,
    pub subject: String,
    /// Index into [`History::authors`].
    pub author: u32,
    /// Committer time, seconds since the Unix epoch.
    pub time: i64,
    pub fix: bool,
    pub revert: bool,
}

impl CommitInfo {
    pub fn short(&self) -> String {
        let s = self.id.to_string();
        s[..s.len().min(7)].to_string()
    }
}

/// What the window says about one file (keyed by its path at the merge-base).
#[derive(Debug, Clone, Default)]
pub struct FileStats {
    pub commits: u32,
    /// Fix commits touching the file, as indexes into the commit list.
    pub fixes: Vec<u32>,
    pub reverts: u32,
    /// `(author, commits)` pairs.
    pub authors: Vec<(u32, u32)>,
    /// Time of the oldest and newest commit touching the file in the window.
    pub first: i64,
    pub last: i64,
    /// Lines added and deleted by those commits (only counted when asked for).
    pub added: u64,
    pub deleted: u64,
    pub churn_counted: bool,
}

impl FileStats {
    /// Count one commit touching the file.
    pub fn record(&mut self, index: u32, c: &CommitInfo) {
        if self.commits == 0 {
            self.first = c.time;
            self.last = c.time;
        } else {
            self.first = self.first.min(c.time);
            self.last = self.last.max(c.time);
        }
        self.commits += 1;
        if c.fix {
            self.fixes.push(index);
        }
        if c.revert {
            self.reverts += 1;
        }
        match self.authors.iter_mut().find(|(a, _)| *a == c.author) {
            Some((_, n)) => *n += 1,
            None => self.authors.push((c.author, 1)),
        }
    }

    /// Commits by `author` touching the file.
    pub fn commits_by(&self, author: u32) -> u32 {
        self.authors
            .iter()
            .find(|(a, _)| *a == author)
            .map_or(0, |(_, n)| *n)
    }
}

/// Interned author identities (lower-cased e-mail, else the name).
#[derive(Debug, Clone, Default)]
pub struct Authors {
    pub names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Authors {
    pub fn intern(&mut self, sig: &git2::Signature) -> u32 {
        self.intern_identity(&identity(sig))
    }

    /// Intern an identity as [`identity`] gives it.
    pub fn intern_identity(&mut self, key: &str) -> u32 {
        if let Some(i) = self.index.get(key) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(key.to_string());
        self.index.insert(key.to_string(), i);
        i
    }

    pub fn get(&self, key: &str) -> Option<u32> {
        self.index.get(key).copied()
    }
}

/// The identity of the author of commit `id`.
pub fn author_of(repo: &Repo, id: Oid) -> Option<String> {
    let c = repo.raw().find_commit(id).ok()?;
    let who = identity(&c.author());
    Some(who)
}

/// The author identity, committer time and message of commit `id`.
pub fn head_commit(repo: &Repo, id: Oid) -> Option<(String, i64, String)> {
    let c = repo.raw().find_commit(id).ok()?;
    let who = identity(&c.author());
    let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
    Some((who, c.time().seconds(), message))
}

/// How an author is identified: the lower-cased e-mail, or the name when there is none.
pub fn identity(sig: &git2::Signature) -> String {
    let email = String::from_utf8_lossy(sig.email_bytes())
        .trim()
        .to_lowercase();
    if email.is_empty() {
        String::from_utf8_lossy(sig.name_bytes()).trim().to_string()
    } else {
        email
    }
}

/// The author's name as a signature spells it, trimmed.
pub fn author_name(sig: &git2::Signature) -> String {
    String::from_utf8_lossy(sig.name_bytes()).trim().to_string()
}

/// The author's name and identity ([`identity`]) of commit `id`.
pub fn author_name_of(repo: &Repo, id: Oid) -> Option<(String, String)> {
    let c = repo.raw().find_commit(id).ok()?;
    let sig = c.author();
    Some((author_name(&sig), identity(&sig)))
}

/// What to mine.
#[derive(Debug, Clone)]
pub struct MineOptions<'a> {
    pub max_commits: usize,
    pub max_age_days: u32,
    /// Keep counting reachable commits (without mining them) up to this many.
    pub min_commits: usize,
    pub follow_renames: bool,
    pub matcher: &'a FixMatcher,
    /// Paths (at the merge-base) whose lines churned are counted; this reads their blobs.
    pub churn_for: &'a HashSet<String>,
}

/// The mined window.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub base: Option<Oid>,
    /// Committer time of the merge-base.
    pub base_time: i64,
    /// Time at which normalised time is 0: the oldest mined commit, or the window's start.
    pub window_start: i64,
    /// Mined commits, newest first (merges excluded).
    pub commits: Vec<CommitInfo>,
    /// Every commit of the window, merges included, in walk order (newest first).
    pub window: Vec<Oid>,
    pub merges: usize,
    pub authors: Authors,
    pub files: HashMap<String, FileStats>,
    /// Commits reachable from the merge-base (counted up to `max(min_commits, mined)`).
    pub reachable: usize,
    /// Why the walk stopped before the root: `max-commits` or `max-age-days`.
    pub cut_by: Option<&'static str>,
    pub shallow: bool,
}

impl History {
    pub fn fix_commits(&self) -> usize {
        self.commits.iter().filter(|c| c.fix).count()
    }
}

/// Hashes object ids by their first bytes: they are already uniformly distributed, so SipHash's
/// work (a large share of a warm walk over tens of thousands of ids) buys nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 =
            (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by object ids.
pub type IdMap<V> = HashMap<Oid, V, std::hash::BuildHasherDefault<IdHasher>>;
/// A set of object ids.
pub type IdSet = std::collections::HashSet<Oid, std::hash::BuildHasherDefault<IdHasher>>;

/// One commit, as the history walk needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    pub parents: Vec<Oid>,
    /// Committer time, seconds since the Unix epoch.
    pub time: i64,
    /// The author's identity ([`identity`]).
    pub author: String,
    /// The author's name as the commit spells it (for display and the mailmap; may be empty).
    pub author_name: String,
    /// The whole message.
    pub message: String,
    /// What the commit changed against its first parent, renames paired; `None` when not computed
    /// yet (merge commits, and commits only walked past, are never compared).
    pub changes: Option<Vec<Change>>,
    /// The line facts of its code files ([`super::hunks`]); `None` when not read yet.
    pub facts: Option<CommitFacts>,
}

impl CommitRecord {
    /// Everything but the changes, from the commit object.
    fn of(commit: &git2::Commit) -> CommitRecord {
        CommitRecord {
            parents: commit.parent_ids().collect(),
            time: commit.time().seconds(),
            author: identity(&commit.author()),
            author_name: author_name(&commit.author()),
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            changes: None,
            facts: None,
        }
    }
}

/// Commits remembered between walks (the history cache, or a scratch map for one walk). What a
/// commit is and changed never changes, so a record is valid forever.
pub trait CommitMemo {
    fn get(&self, id: Oid) -> Option<&CommitRecord>;
    /// Remember a commit just read from the repository.
    fn insert(&mut self, id: Oid, record: CommitRecord);
    /// Remember the changes of a remembered commit.
    fn set_changes(&mut self, id: Oid, changes: Vec<Change>);
    /// Remember the line facts of a remembered commit.
    fn set_facts(&mut self, id: Oid, facts: CommitFacts);
    /// The walk found a commit remembered (for `--timings`).
    fn hit(&mut self) {}
}

/// Commit records in memory, for one walk.
#[derive(Debug, Default)]
pub struct Commits {
    pub records: IdMap<CommitRecord>,
}

impl CommitMemo for Commits {
    fn get(&self, id: Oid) -> Option<&CommitRecord> {
        self.records.get(&id)
    }

    fn insert(&mut self, id: Oid, record: CommitRecord) {
        self.records.insert(id, record);
    }

    fn set_changes(&mut self, id: Oid, changes: Vec<Change>) {
        if let Some(r) = self.records.get_mut(&id) {
            r.changes = Some(changes);
        }
    }

    fn set_facts(&mut self, id: Oid, facts: CommitFacts) {
        if let Some(r) = self.records.get_mut(&id) {
            r.facts = Some(facts);
        }
    }
}

/// The record of `id`, read from the repository when `memo` does not have it.
fn record<'m>(
    memo: &'m mut dyn CommitMemo,
    repo: &Repo,
    id: Oid,
) -> std::result::Result<&'m CommitRecord, git2::Error> {
    if memo.get(id).is_some() {
        memo.hit();
    } else {
        let r = CommitRecord::of(&repo.raw().find_commit(id)?);
        memo.insert(id, r);
    }
    Ok(memo.get(id).expect("remembered just now"))
}

/// One path a commit changed, from a tree-to-tree comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `Added`, `Deleted`, `Modified` or `Renamed`.
    pub status: Status,
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub old_id: Option<Oid>,
    pub new_id: Option<Oid>,
    /// A submodule entry (a commit id, not a blob).
    pub submodule: bool,
}

impl Change {
    /// The path after the change (before it, for a deletion).
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }

    /// Run `f` on the patch of this change and whether either side is binary; reads both blobs.
    pub fn with_patch<R>(
        &self,
        repo: &Repo,
        opts: Option<&mut DiffOptions>,
        f: impl FnOnce(&Patch, bool) -> R,
    ) -> Option<R> {
        if self.submodule {
            return None;
        }
        let old = match self.old_id {
            Some(o) => Some(repo.raw().find_blob(o).ok()?),
            None => None,
        };
        let new = match self.new_id {
            Some(o) => Some(repo.raw().find_blob(o).ok()?),
            None => None,
        };
        let patch = Patch::from_buffers(
            old.as_ref().map_or(&[][..], |b| b.content()),
            self.old_path.as_deref().map(std::path::Path::new),
            new.as_ref().map_or(&[][..], |b| b.content()),
            self.new_path.as_deref().map(std::path::Path::new),
            opts,
        )
        .ok()?;
        let binary = patch.delta().flags().is_binary()
            || old.as_ref().is_some_and(|b| b.is_binary())
            || new.as_ref().is_some_and(|b| b.is_binary());
        Some(f(&patch, binary))
    }

    /// `(added, deleted, binary)` line counts.
    pub fn line_counts(&self, repo: &Repo, context0: bool) -> Option<(u32, u32, bool)> {
        let mut opts = DiffOptions::new();
        if context0 {
            opts.context_lines(0);
        }
        self.with_patch(repo, Some(&mut opts), |p, binary| {
            let (_, a, d) = p.line_stats().unwrap_or((0, 0, 0));
            (a as u32, d as u32, binary)
        })
    }
}

/// Git's tree order: names compared bytewise, a tree's name as if it ended in `/`.
fn git_order(a: &git2::TreeEntry, b: &git2::TreeEntry) -> std::cmp::Ordering {
    let (x, y) = (a.name_bytes(), b.name_bytes());
    let n = x.len().min(y.len());
    x[..n].cmp(&y[..n]).then_with(|| {
        let end = |name: &[u8], e: &git2::TreeEntry| {
            name.get(n)
                .copied()
                .unwrap_or(if is_tree(e) { b'/' } else { 0 })
        };
        end(x, a).cmp(&end(y, b))
    })
}

fn is_tree(e: &git2::TreeEntry) -> bool {
    e.kind() == Some(git2::ObjectType::Tree)
}

fn is_submodule(e: &git2::TreeEntry) -> bool {
    e.kind() == Some(git2::ObjectType::Commit)
}

/// Compare two trees recursively, skipping every subtree whose id is the same on both sides:
/// only the trees along changed paths are read, never a blob. Entries are merged in git's tree
/// order; a path that is a file on one side and a directory on the other is a deletion plus
/// additions.
fn compare(
    repo: &Repo,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &str,
    out: &mut Vec<Change>,
) -> std::result::Result<(), git2::Error> {
    let old_tree = old.map(|o| repo.raw().find_tree(o)).transpose()?;
    let new_tree = new.map(|o| repo.raw().find_tree(o)).transpose()?;
    let mut olds = old_tree.iter().flat_map(|t| t.iter()).peekable();
    let mut news = new_tree.iter().flat_map(|t| t.iter()).peekable();
    let path = |e: &git2::TreeEntry| format!("{prefix}{}", String::from_utf8_lossy(e.name_bytes()));
    loop {
        let (o, n) = match (olds.peek(), news.peek()) {
            (None, None) => break,
            (Some(_), None) => (olds.next(), None),
            (None, Some(_)) => (None, news.next()),
            (Some(a), Some(b)) => match git_order(a, b) {
                std::cmp::Ordering::Less => (olds.next(), None),
                std::cmp::Ordering::Greater => (None, news.next()),
                std::cmp::Ordering::Equal => (olds.next(), news.next()),
            },
        };
        if let (Some(a), Some(b)) = (&o, &n) {
            if a.id() == b.id() && a.filemode_raw() == b.filemode_raw() {
                continue;
            }
        }
        let tree_id =
            |e: &Option<git2::TreeEntry>| e.as_ref().filter(|e| is_tree(e)).map(|e| e.id());
        if tree_id(&o).is_some() || tree_id(&n).is_some() {
            let p = path(o.as_ref().or(n.as_ref()).expect("one side"));
            compare(repo, tree_id(&o), tree_id(&n), &format!("{p}/"), out)?;
        }
        match (o.filter(|e| !is_tree(e)), n.filter(|e| !is_tree(e))) {
            (Some(a), Some(b)) => out.push(Change {
                status: Status::Modified,
                old_path: Some(path(&a)),
                new_path: Some(path(&b)),
                old_id: Some(a.id()),
                new_id: Some(b.id()),
                submodule: is_submodule(&a) || is_submodule(&b),
            }),
            (Some(a), None) => out.push(Change {
                status: Status::Deleted,
                old_path: Some(path(&a)),
                new_path: None,
                old_id: Some(a.id()),
                new_id: None,
                submodule: is_submodule(&a),
            }),
            (None, Some(b)) => out.push(Change {
                status: Status::Added,
                old_path: None,
                new_path: Some(path(&b)),
                old_id: None,
                new_id: Some(b.id()),
                submodule: is_submodule(&b),
            }),
            (None, None) => {}
        }
    }
    Ok(())
}

/// What a commit changed against its first parent (everything, for a root commit).
///
/// With `renames`, an added file whose blob id equals a deleted file's is an exact rename (no
/// content read); when added and deleted files remain, libgit2's similarity detection (which reads
/// those blobs) pairs inexact renames at 50 % similarity, limited to those paths.
pub fn commit_changes(
    repo: &Repo,
    commit: &git2::Commit,
    renames: bool,
) -> std::result::Result<Vec<Change>, git2::Error> {
    let new = commit.tree_id();
    let old = if commit.parent_count() > 0 {
        Some(commit.parent(0)?.tree_id())
    } else {
        None
    };
    let mut out = Vec::new();
    compare(repo, old, Some(new), "", &mut out)?;
    match old {
        // A blob that cannot be read (a clone missing some objects) leaves renames unpaired.
        Some(old) if renames => Ok(pair_renames(repo, old, new, out.clone()).unwrap_or(out)),
        _ => Ok(out),
    }
}

/// Every path that differs between two trees (no rename pairing), in git's tree order.
pub fn compare_trees(
    repo: &Repo,
    old: Option<Oid>,
    new: Option<Oid>,
    out: &mut Vec<Change>,
) -> std::result::Result<(), git2::Error> {
    compare(repo, old, new, "", out)
}

/// What changed between two trees, renames paired as [`commit_changes`] pairs them.
pub fn changes_between_trees(
    repo: &Repo,
    old: Oid,
    new: Oid,
) -> std::result::Result<Vec<Change>, git2::Error> {
    let mut out = Vec::new();
    compare(repo, Some(old), Some(new), "", &mut out)?;
    Ok(pair_renames(repo, old, new, out.clone()).unwrap_or(out))
}

/// Pair the additions and deletions of `out` (the comparison of tree `old` with tree `new`) into
/// renames: exact ones by blob id, inexact ones by libgit2's similarity.
fn pair_renames(
    repo: &Repo,
    old: Oid,
    new: Oid,
    out: Vec<Change>,
) -> std::result::Result<Vec<Change>, git2::Error> {
    let mut out = out;
    let is = |c: &Change, d: Status| c.status == d && !c.submodule;
    if !(out.iter().any(|c| is(c, Status::Added)) && out.iter().any(|c| is(c, Status::Deleted))) {
        return Ok(out);
    }
    // Exact renames by blob id.
    let mut deleted: HashMap<Oid, Vec<usize>> = HashMap::new();
    for (i, c) in out.iter().enumerate() {
        if is(c, Status::Deleted) {
            deleted
                .entry(c.old_id.unwrap_or(Oid::ZERO_SHA1))
                .or_default()
                .push(i);
        }
    }
    let mut gone: HashSet<usize> = HashSet::new();
    for i in 0..out.len() {
        if !is(&out[i], Status::Added) {
            continue;
        }
        let id = out[i].new_id.unwrap_or(Oid::ZERO_SHA1);
        if let Some(d) = deleted.get_mut(&id).and_then(|v| v.pop()) {
            out[i].status = Status::Renamed;
            out[i].old_path = out[d].old_path.clone();
            out[i].old_id = out[d].old_id;
            gone.insert(d);
        }
    }
    let mut out: Vec<Change> = out
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .map(|(_, c)| c)
        .collect();
    // Inexact renames among what is left.
    let adds: Vec<usize> = (0..out.len())
        .filter(|i| is(&out[*i], Status::Added))
        .collect();
    let dels: Vec<usize> = (0..out.len())
        .filter(|i| is(&out[*i], Status::Deleted))
        .collect();
    if adds.is_empty() || dels.is_empty() || adds.len() * dels.len() > 250_000 {
        return Ok(out);
    }
    let mut opts = DiffOptions::new();
    opts.disable_pathspec_match(true);
    for i in adds.iter().chain(dels.iter()) {
        opts.pathspec(out[*i].path());
    }
    let old_tree = repo.raw().find_tree(old)?;
    let new_tree = repo.raw().find_tree(new)?;
    let mut diff =
        repo.raw()
            .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut opts))?;
    let mut find = DiffFindOptions::new();
    find.renames(true).rename_threshold(50).rename_limit(1000);
    diff.find_similar(Some(&mut find))?;
    let mut pairs: HashMap<String, String> = HashMap::new();
    for d in diff.deltas() {
        if d.status() == git2::Delta::Renamed {
            if let (Some(o), Some(n)) =
                (path_str(d.old_file().path()), path_str(d.new_file().path()))
            {
                pairs.insert(n, o);
            }
        }
    }
    if pairs.is_empty() {
        return Ok(out);
    }
    let renamed_from: HashSet<&String> = pairs.values().collect();
    let old_ids: HashMap<String, Option<Oid>> = out
        .iter()
        .filter(|c| c.status == Status::Deleted)
        .filter_map(|c| c.old_path.clone().map(|p| (p, c.old_id)))
        .collect();
    let mut result: Vec<Change> = out
        .iter()
        .filter(|c| {
            !(c.status == Status::Deleted
                && c.old_path
                    .as_ref()
                    .is_some_and(|p| renamed_from.contains(p)))
        })
        .cloned()
        .collect();
    for c in &mut result {
        if c.status == Status::Added {
            if let Some(o) = c.new_path.as_ref().and_then(|n| pairs.get(n)) {
                c.status = Status::Renamed;
                c.old_id = old_ids.get(o).copied().flatten();
                c.old_path = Some(o.clone());
            }
        }
    }
    out = result;
    Ok(out)
}

fn path_str(p: Option<&std::path::Path>) -> Option<String> {
    p.map(|p| p.to_string_lossy().into_owned())
}

/// The first line of a message.
pub fn subject(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}

/// Mine the window that ends at `base`, using and extending `cache` (without one, a cache that
/// lives only for this call: the same walk, so the same [`History`] either way).
///
/// The walk is git's date-ordered walk: from the merge-base, always the newest commit not yet
/// shown whose child was shown (ties in the order they were reached), read from the cache when it
/// has the commit. The window's commits whose changes are not cached are then compared with their
/// parents in parallel, and everything is aggregated in walk order.
pub fn mine(
    repo: &Repo,
    base: Oid,
    opts: &MineOptions,
    cache: Option<&mut dyn CommitMemo>,
) -> Result<History> {
    let mut scratch;
    // A shallow clone's grafted parents must neither come from nor go into the shared cache.
    let cache: &mut dyn CommitMemo = match cache {
        Some(c) if !repo.is_shallow() => c,
        _ => {
            scratch = Commits::default();
            &mut scratch
        }
    };
    let (base_time, base_parents) = record(cache, repo, base)
        .map(|r| (r.time, r.parents.clone()))
        .map_err(crate::git::err("reading the merge-base commit"))?;
    let cutoff = base_time - i64::from(opts.max_age_days) * 86_400;
    let mut h = History {
        base: Some(base),
        base_time,
        window_start: base_time,
        shallow: repo.raw().is_shallow(),
        ..History::default()
    };
    let (window, all) = walk(repo, (base, base_parents), cutoff, opts, cache, &mut h)?;
    h.window = all;
    let missing: Vec<Oid> = window
        .iter()
        .copied()
        .filter(|id| cache.get(*id).is_some_and(|r| r.changes.is_none()))
        .collect();
    for (id, changes) in changes_of(repo, &missing)? {
        cache.set_changes(id, changes);
    }
    let mut alias: HashMap<String, String> = HashMap::new();
    // (path at the base, change) whose lines are counted, once the walk is aggregated.
    let mut churn: Vec<(String, Change)> = Vec::new();
    for id in window {
        let Some(record) = cache.get(id) else {
            continue;
        };
        let (fix, revert) = opts.matcher.classify(&record.message);
        let info = CommitInfo {
            id,
            subject: subject(&record.message),
            author: h.authors.intern_identity(&record.author),
            time: record.time,
            fix,
            revert,
        };
        let index = h.commits.len() as u32;
        let cached: &[Change] = record.changes.as_deref().unwrap_or_default();
        let split;
        let changes = if !opts.follow_renames && cached.iter().any(|c| c.status == Status::Renamed)
        {
            split = without_renames(cached);
            &split
        } else {
            cached
        };
        let mut touched: HashSet<String> = HashSet::new();
        for change in changes {
            let at_commit = change.path();
            let key = alias
                .get(at_commit)
                .cloned()
                .unwrap_or_else(|| at_commit.to_string());
            if change.status == Status::Renamed {
                if let Some(old) = &change.old_path {
                    alias.insert(old.clone(), key.clone());
                }
            }
            if !touched.insert(key.clone()) {
                continue;
            }
            if opts.churn_for.contains(&key) {
                churn.push((key.clone(), change.clone()));
            }
            h.files.entry(key).or_default().record(index, &info);
        }
        h.commits.push(info);
    }
    for ((key, _), counts) in churn.iter().zip(line_counts_of(repo, &churn)) {
        if let Some(stats) = h.files.get_mut(key) {
            if let Some((a, d, _)) = counts {
                stats.added += u64::from(a);
                stats.deleted += u64::from(d);
            }
            stats.churn_counted = true;
        }
    }
    Ok(h)
}

/// Walk from `base` newest first, counting reachable commits and merges in `h` and setting its
/// cut and window start; the window's non-merge commits, in walk order.
fn walk(
    repo: &Repo,
    (base, base_parents): (Oid, Vec<Oid>),
    cutoff: i64,
    opts: &MineOptions,
    cache: &mut dyn CommitMemo,
    h: &mut History,
) -> Result<(Vec<Oid>, Vec<Oid>)> {
    // Newest first; among equal times, the first reached (a smaller sequence number, unique, so
    // the id and parents never take part in the order).
    let mut queue: BinaryHeap<(i64, Reverse<u64>, Oid, Vec<Oid>)> = BinaryHeap::new();
    let mut seen = IdSet::default();
    let mut seq = 0u64;
    queue.push((h.base_time, Reverse(seq), base, base_parents));
    seen.insert(base);
    let mut window = Vec::new();
    let mut all = Vec::new();
    let mut mining = true;
    let mut oldest = h.base_time;
    while let Some((time, _, id, parents)) = queue.pop() {
        h.reachable += 1;
        if mining && time < cutoff {
            h.cut_by = Some("max-age-days");
            mining = false;
        } else if mining && window.len() + h.merges >= opts.max_commits {
            h.cut_by = Some("max-commits");
            mining = false;
        }
        if !mining && h.reachable >= opts.min_commits {
            break;
        }
        for p in &parents {
            if seen.insert(*p) {
                seq += 1;
                let (t, pp) = record(cache, repo, *p)
                    .map(|r| (r.time, r.parents.clone()))
                    .map_err(crate::git::err("walking history"))?;
                queue.push((t, Reverse(seq), *p, pp));
            }
        }
        if !mining {
            continue;
        }
        oldest = oldest.min(time);
        all.push(id);
        if parents.len() > 1 {
            h.merges += 1;
        } else {
            window.push(id);
        }
    }
    h.window_start = if h.cut_by == Some("max-age-days") {
        cutoff
    } else {
        oldest
    };
    Ok((window, all))
}

/// Read the line facts ([`hunks`]) of the commits of `ids` that `memo` has no facts for (in
/// parallel), and remember them; returns how many were read.
pub fn fill_facts(repo: &Repo, ids: &[Oid], memo: &mut dyn CommitMemo) -> Result<usize> {
    let jobs: Vec<(Oid, Option<Vec<Change>>)> = ids
        .iter()
        .filter_map(|id| {
            let r = memo.get(*id)?;
            r.facts.is_none().then(|| (*id, r.changes.clone()))
        })
        .collect();
    let n = jobs.len();
    for (id, facts) in hunks::facts_of(repo, &jobs)? {
        memo.set_facts(id, facts);
    }
    Ok(n)
}

/// How many distinct file versions named by the records' line facts are not in the repository
/// (an object missing from the clone): those code files were counted without lines. Cheap: one
/// index lookup per blob id, only for files whose lines were not read.
pub fn unreadable_blobs<'a>(repo: &Repo, records: impl Iterator<Item = &'a CommitRecord>) -> usize {
    let Ok(odb) = repo.raw().odb() else {
        return 0;
    };
    let mut missing = HashSet::new();
    for r in records {
        let Some(facts) = &r.facts else { continue };
        for f in facts
            .files
            .iter()
            .filter(|f| !f.lines && super::hunks::is_code(&f.path))
        {
            for id in [f.old_id, f.new_id].into_iter().flatten() {
                if !missing.contains(&id) && !odb.exists(id) {
                    missing.insert(id);
                }
            }
        }
    }
    missing.len()
}

/// A rename as git reports it without rename detection: a deletion and an addition.
fn without_renames(changes: &[Change]) -> Vec<Change> {
    let mut out = Vec::with_capacity(changes.len() + 1);
    for c in changes {
        if c.status != Status::Renamed {
            out.push(c.clone());
            continue;
        }
        out.push(Change {
            status: Status::Deleted,
            old_path: c.old_path.clone(),
            new_path: None,
            old_id: c.old_id,
            new_id: None,
            submodule: c.submodule,
        });
        out.push(Change {
            status: Status::Added,
            old_path: None,
            new_path: c.new_path.clone(),
            old_id: None,
            new_id: c.new_id,
            submodule: c.submodule,
        });
    }
    out
}

/// The `(added, deleted, binary)` line counts of each change (reads both blobs and diffs them), in
/// parallel beyond a handful.
fn line_counts_of(repo: &Repo, jobs: &[(String, Change)]) -> Vec<Option<(u32, u32, bool)>> {
    if jobs.len() < 16 {
        return jobs
            .iter()
            .map(|(_, c)| c.line_counts(repo, true))
            .collect();
    }
    let git_dir = repo.raw().path();
    jobs.par_iter()
        .map(|(_, c)| super::with_thread_repo(git_dir, |r| r.and_then(|r| c.line_counts(r, true))))
        .collect()
}

/// The changes (renames paired) of each of `ids` against its first parent. The comparisons are
/// independent, so beyond a handful they run in parallel, one repository handle per worker.
pub fn changes_of(repo: &Repo, ids: &[Oid]) -> Result<Vec<(Oid, Vec<Change>)>> {
    let one = |repo: &Repo, id: Oid| -> std::result::Result<Vec<Change>, git2::Error> {
        commit_changes(repo, &repo.raw().find_commit(id)?, true)
    };
    let compared: Vec<(Oid, std::result::Result<Vec<Change>, git2::Error>)> = if ids.len() < 16 {
        ids.iter().map(|id| (*id, one(repo, *id))).collect()
    } else {
        let git_dir = repo.raw().path();
        ids.par_iter()
            .map(|id| {
                let changes = super::with_thread_repo(git_dir, |r| match r {
                    Some(r) => one(r, *id),
                    None => Err(git2::Error::from_str("the repository could not be opened")),
                });
                (*id, changes)
            })
            .collect()
    };
    compared
        .into_iter()
        .map(|(id, c)| {
            c.map(|c| (id, c))
                .map_err(crate::git::err("comparing a commit with its parent"))
        })
        .collect()
}

/// Normalised time `t ∈ [0, 1]` of `time` in the window `[start, now]`.
pub fn normalised_time(time: i64, start: i64, now: i64) -> f64 {
    if now <= start {
        return 1.0;
    }
    ((time - start) as f64 / (now - start) as f64).clamp(0.0, 1.0)
}

/// Civil date `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date(time: i64) -> String {
    let days = time.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        let m = FixMatcher::defaults();
        let fix = |msg: &str| m.kind(msg).fix;
        // Conventional fix types, fix keywords in the subject, issue links in the body.
        assert!(fix("fix: crash on empty cart"));
        assert!(fix("fix(router)!: wrong params"));
        assert!(fix("hotfix: prod"));
        assert!(fix("Fixes a race in the scheduler"));
        assert!(
            fix("printer: fix a panic with -o"),
            "a component, not a type"
        );
        assert!(fix("Bug in totals"));
        assert!(fix("handle empty input\n\nFixes #123"));
        assert!(fix("handle empty input\n\nCloses acme/widgets#3"));
        assert!(fix("cleanup, closes #12"));
        // Never: releases, version bumps, chores, docs, style, lint, CI, dependencies, typos.
        assert!(!fix("fix: lint project"));
        assert!(!fix("chore: fix the release script"));
        assert!(!fix("docs: fix a broken link"));
        assert!(!fix("ci: fix the workflow"));
        assert!(!fix("fix(deps): update dependency vite to v5"));
        assert!(!fix("Version Packages\n\n- Fixed a revert (#123)"));
        assert!(!fix("v1.2.3"));
        assert!(!fix("Release 4.0.0\n\nFixes #99"));
        assert!(!fix("fix typo in README"));
        assert!(!fix("style: fix formatting"));
        // A typed feature is not a fix, whatever its subject says.
        assert!(!fix("feat: fix-free mode"));
        assert!(!fix("add feature flags"));
        assert!(!fix("debugging output, prefix fixture"));
        assert!(!fix("Add a regression test harness"));
        // A revert is a revert, not a fix, and names what it reverts.
        let r = "Revert \"add cache\"\n\nThis reverts commit abcdef1234.";
        assert_eq!(m.classify(r), (false, true));
        assert_eq!(m.reverted(r), vec!["abcdef1234".to_string()]);
        // Configurable: a strict matcher that only knows `bug:`.
        let strict = FixMatcher::new(&FixPatterns {
            fix_types: vec!["bug".into()],
            ..FixPatterns::default()
        })
        .unwrap();
        assert!(strict.kind("bug: off by one").fix);
        assert!(!strict.kind("fix: off by one").fix);
    }

    /// A commit on top of HEAD whose tree has exactly `files` (path → content).
    fn commit_files(repo: &Repo, files: &[(&str, &str)]) -> Oid {
        let mut idx = git2::Index::new().unwrap();
        for (path, content) in files {
            let blob = repo.raw().blob(content.as_bytes()).unwrap();
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: content.len() as u32,
                id: blob,
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            };
            idx.add(&entry).unwrap();
        }
        let tree = repo
            .raw()
            .find_tree(idx.write_tree_to(repo.raw()).unwrap())
            .unwrap();
        let sig = git2::Signature::new("A", "a@example.com", &git2::Time::new(0, 0)).unwrap();
        let parents: Vec<git2::Commit> = repo
            .raw()
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        repo.raw()
            .commit(Some("HEAD"), &sig, &sig, "c", &tree, &refs)
            .unwrap()
    }

    fn summary(changes: &[Change]) -> Vec<String> {
        let mut v: Vec<String> = changes
            .iter()
            .map(|c| match (&c.old_path, &c.new_path) {
                (Some(o), Some(n)) if o != n => format!("{:?} {o} -> {n}", c.status),
                _ => format!("{:?} {}", c.status, c.path()),
            })
            .collect();
        v.sort();
        v
    }

    /// The tree comparison agrees with libgit2's diff, and finds exact and inexact renames.
    #[test]
    fn tree_comparison_matches_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::from(git2::Repository::init(dir.path()).unwrap());
        let long = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";
        let root = commit_files(
            &repo,
            &[
                ("a.ts", "a"),
                ("x", "file that becomes a dir"),
                ("d/e/f.ts", "f"),
                ("d/g.ts", "g"),
                ("d-h.ts", "h"),
                ("m/long.ts", long),
                ("m/same.ts", "same"),
            ],
        );
        let c = repo.raw().find_commit(root).unwrap();
        assert_eq!(commit_changes(&repo, &c, true).unwrap().len(), 7);
        let next = commit_files(
            &repo,
            &[
                ("a.ts", "a2"),
                ("x/inner.ts", "now a directory"),
                ("d/e/f.ts", "f"),
                ("d-h.ts", "h2"),
                ("n/moved.ts", "same"),
                ("m/renamed.ts", &format!("{long}nine\n")),
            ],
        );
        let c = repo.raw().find_commit(next).unwrap();
        let plain = commit_changes(&repo, &c, false).unwrap();
        let diff = repo
            .raw()
            .diff_tree_to_tree(
                Some(&c.parent(0).unwrap().tree().unwrap()),
                Some(&c.tree().unwrap()),
                None,
            )
            .unwrap();
        let mut expected: Vec<String> = diff
            .deltas()
            .map(|d| {
                let p = d.new_file().path().or(d.old_file().path()).unwrap();
                format!("{:?} {}", d.status(), p.display())
            })
            .collect();
        expected.sort();
        assert_eq!(summary(&plain), expected);
        let renamed = commit_changes(&repo, &c, true).unwrap();
        assert_eq!(
            summary(&renamed),
            [
                "Added x/inner.ts",
                "Deleted d/g.ts",
                "Deleted x",
                "Modified a.ts",
                "Modified d-h.ts",
                "Renamed m/long.ts -> m/renamed.ts",
                "Renamed m/same.ts -> n/moved.ts",
            ]
        );
    }

    /// A new repository in `dir` (for tests of other layers, which may not name git2).
    pub(crate) fn init(dir: &std::path::Path) -> Repo {
        Repo::from(git2::Repository::init(dir).unwrap())
    }

    /// A commit with exactly `files` (path → content), `parents` and committer time `time`; no ref
    /// moves.
    pub(crate) fn commit_at(
        repo: &Repo,
        parents: &[Oid],
        time: i64,
        message: &str,
        author: &str,
        files: &[(&str, &str)],
    ) -> Oid {
        let mut tb = repo.raw().treebuilder(None).unwrap();
        let mut dirs: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
        for (path, content) in files {
            match path.split_once('/') {
                Some((d, rest)) => dirs.entry(d).or_default().push((rest, content)),
                None => {
                    let blob = repo.raw().blob(content.as_bytes()).unwrap();
                    tb.insert(path, blob, 0o100644).unwrap();
                }
            }
        }
        for (d, inner) in dirs {
            let mut sub = repo.raw().treebuilder(None).unwrap();
            for (name, content) in inner {
                let blob = repo.raw().blob(content.as_bytes()).unwrap();
                sub.insert(name, blob, 0o100644).unwrap();
            }
            tb.insert(d, sub.write().unwrap(), 0o040000).unwrap();
        }
        let tree = repo.raw().find_tree(tb.write().unwrap()).unwrap();
        let sig = git2::Signature::new(
            author,
            &format!("{}@example.com", author.to_lowercase()),
            &git2::Time::new(time, 0),
        )
        .unwrap();
        let parents: Vec<git2::Commit> = parents
            .iter()
            .map(|p| repo.raw().find_commit(*p).unwrap())
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        repo.raw()
            .commit(None, &sig, &sig, message, &tree, &refs)
            .unwrap()
    }

    /// A scripted history with exact and inexact renames, a merge, fixes, a revert, a deletion and
    /// two commits with the same time; (repository, [root, c1, c2, c3, s1, s2, m, c4, c5]).
    pub(crate) fn scripted() -> (tempfile::TempDir, Repo, Vec<Oid>) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::from(git2::Repository::init(dir.path()).unwrap());
        let long: String = (0..30)
            .map(|i| format!("export const v{i} = {i};\n"))
            .collect();
        let longer = format!("{long}export const extra = 1;\n");
        let root = commit_at(
            &repo,
            &[],
            1_000,
            "initial import",
            "Ann",
            &[
                ("a.ts", "a"),
                ("b.ts", "b"),
                ("lib/long.ts", &long),
                ("c.ts", "c"),
            ],
        );
        let c1 = commit_at(
            &repo,
            &[root],
            2_000,
            "feat: a2",
            "Bob",
            &[
                ("a.ts", "a2"),
                ("b.ts", "b"),
                ("lib/long.ts", &long),
                ("c.ts", "c"),
            ],
        );
        let c2 = commit_at(
            &repo,
            &[c1],
            3_000,
            "fix: bug in b",
            "Ann",
            &[
                ("a.ts", "a2"),
                ("b.ts", "b2"),
                ("lib/long.ts", &long),
                ("c.ts", "c"),
            ],
        );
        // Main: an exact rename; side branch from c2: a fix, then an inexact rename, both at
        // times that interleave with main's (c3 and s2 share a time).
        let c3 = commit_at(
            &repo,
            &[c2],
            4_500,
            "move a under src",
            "Bob",
            &[
                ("src/a.ts", "a2"),
                ("b.ts", "b2"),
                ("lib/long.ts", &long),
                ("c.ts", "c"),
            ],
        );
        let s1 = commit_at(
            &repo,
            &[c2],
            3_500,
            "fix: regression in long",
            "Cy",
            &[
                ("a.ts", "a2"),
                ("b.ts", "b2"),
                ("lib/long.ts", &format!("{long}//\n")),
                ("c.ts", "c"),
            ],
        );
        let s2 = commit_at(
            &repo,
            &[s1],
            4_500,
            "longer",
            "Cy",
            &[
                ("a.ts", "a2"),
                ("b.ts", "b2"),
                ("lib/longer.ts", &longer),
                ("c.ts", "c"),
            ],
        );
        let merged = [
            ("src/a.ts", "a2"),
            ("b.ts", "b2"),
            ("lib/longer.ts", longer.as_str()),
            ("c.ts", "c"),
        ];
        let m = commit_at(
            &repo,
            &[c3, s2],
            5_000,
            "Merge branch 'side'",
            "Ann",
            &merged,
        );
        let mut after = merged.to_vec();
        after[0].1 = "a3";
        let c4 = commit_at(
            &repo,
            &[m],
            5_500,
            "Revert \"x\"\n\nThis reverts commit abcdef1234.",
            "Bob",
            &after,
        );
        after.pop();
        let c5 = commit_at(&repo, &[c4], 6_000, "cleanup, closes #12", "Ann", &after);
        (dir, repo, vec![root, c1, c2, c3, s1, s2, m, c4, c5])
    }

    /// Everything a [`History`] holds, in a comparable form.
    pub(crate) fn fingerprint(h: &History) -> String {
        let files: std::collections::BTreeMap<_, _> = h.files.iter().collect();
        format!(
            "{:?} {} {} {:?} {} {} {:?} {:?} {:?} {:?}",
            h.base,
            h.base_time,
            h.window_start,
            h.cut_by,
            h.reachable,
            h.merges,
            h.authors.names,
            h.commits,
            files,
            h.shallow
        )
    }

    /// Mining a scripted history: git's date order, renames followed, merges counted but not
    /// mined. (`cache::history` checks that mining with the history cache gives the same.)
    #[test]
    fn mining_a_scripted_history() {
        let (_dir, repo, ids) = scripted();
        let base = ids[8];
        let matcher = FixMatcher::defaults();
        let churn: HashSet<String> = ["lib/longer.ts", "src/a.ts"].map(String::from).into();
        // The whole window, in detail: git's date order (c3 before s2 at the same time: reached
        // first), renames followed to the path at the base, the merge counted but not mined.
        let opts = MineOptions {
            max_commits: 100,
            max_age_days: 3650,
            min_commits: 1,
            follow_renames: true,
            matcher: &matcher,
            churn_for: &churn,
        };
        let h = mine(&repo, base, &opts, None).unwrap();
        let order: Vec<Oid> = h.commits.iter().map(|c| c.id).collect();
        let [root, c1, c2, c3, s1, s2, _m, c4, c5] = ids[..] else {
            unreachable!()
        };
        assert_eq!(order, [c5, c4, c3, s2, s1, c2, c1, root]);
        assert_eq!(h.merges, 1);
        assert_eq!(h.reachable, 9);
        assert_eq!(h.files["src/a.ts"].commits, 4, "c4, c3, c1, root");
        assert_eq!(h.files["lib/longer.ts"].commits, 3, "s2, s1, root");
        assert_eq!(h.files["lib/longer.ts"].fixes.len(), 1);
        assert_eq!(h.window.len(), 9, "the merge is in the window's walk order");
        assert!(h.files["lib/longer.ts"].churn_counted);
        assert!(!h.files.contains_key("a.ts"));
        assert_eq!(h.files["c.ts"].commits, 2);
        assert_eq!(
            h.fix_commits(),
            3,
            "c5 (closes #12), s1, c2; the revert c4 is not a fix"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_704_067_200), "2024-01-01");
        assert_eq!(date(1_709_164_800), "2024-02-29");
    }

    #[test]
    fn normalised() {
        assert_eq!(normalised_time(5, 0, 10), 0.5);
        assert_eq!(normalised_time(5, 10, 10), 1.0);
        assert_eq!(normalised_time(-5, 0, 10), 0.0);
    }
}
