//! Features of a change, computed the same way for every commit of the history (training) and
//! for the pull request (scoring): one [`HistoryState`] is built forward through the window, and
//! [`HistoryState::features`] reads a change's line facts against it. A historical commit is
//! read against the state just before it; the pull request against the state at the merge-base.
//!
//! Counts are log-scaled (`ln(1 + n)`); shares and the entropy are in [0, 1]; `fix` is 0 or 1.
//! Size counts only production source files (code, not `not-source`, not a test); test lines
//! and other files (docs, CI, manifests, lock files) are counted apart.
//!
//! Graph features come from the dependency graph ([`GraphFeatures`]): at scoring time the head
//! graph; at training time the graph at the merge-base (the one input that is not rebuilt per
//! commit — structure only, no labels). Symbol-level reach (issue 16) plugs in at
//! [`GraphFeatures::symbol_reach`] and the `symbol_reach` slot of [`Raw`].

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::labels::CommitKind;
use crate::git::diff::Status;
use crate::git::history::{Change, SourceFilter};
use crate::git::hunks::{self, FileDiff};
use crate::glob::GlobList;
use crate::graph::DepGraph;

/// Every feature a model can use, in vector order.
pub const FEATURES: [&str; 25] = [
    "lines_added",
    "code_lines_added",
    "hunks",
    "lines_deleted",
    "files",
    "directories",
    "subsystems",
    "entropy",
    "lines_before",
    "new_files",
    "test_share",
    "other_files",
    "file_age",
    "prior_changes",
    "developers",
    "recent_fixes",
    "recent_reverts",
    "author_commits",
    "author_file_commits",
    "author_subsystem_commits",
    "file_bugs",
    "author_bug_share",
    "fix",
    "fan_in",
    "reach",
];

/// The features that need no history (the prior for shallow clones uses only these).
pub const CHANGE_ONLY: [&str; 15] = [
    "lines_added",
    "code_lines_added",
    "hunks",
    "lines_deleted",
    "files",
    "directories",
    "subsystems",
    "entropy",
    "lines_before",
    "new_files",
    "test_share",
    "other_files",
    "fix",
    "fan_in",
    "reach",
];

/// Time constant of the fix and revert decay: a fix 90 days before the change weighs 1/e.
pub const DECAY_DAYS: f64 = 90.0;
const DAY: f64 = 86_400.0;

/// Top-level directories that hold packages: their subsystems are one level deeper
/// (`packages/server`, `crates/engine`).
const CONTAINERS: &[&str] = &[
    "packages",
    "apps",
    "crates",
    "libs",
    "services",
    "modules",
    "plugins",
    "extensions",
];

/// The subsystem of a path: its top-level directory, or two levels under a package container.
pub fn subsystem(path: &str) -> &str {
    let mut parts = path.splitn(3, '/');
    let first = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (Some(second), Some(_)) if CONTAINERS.contains(&first) => {
            &path[..first.len() + 1 + second.len()]
        }
        (Some(_), _) => first,
        _ => "",
    }
}

fn directory(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Graph facts of changed files. Symbol-level reach (issue 16) plugs in at
/// [`GraphFeatures::symbol_reach`].
pub trait GraphFeatures {
    /// Production files that import `path` directly.
    fn fan_in(&self, path: &str) -> usize;
    /// Production files that depend on `path`, directly or transitively.
    fn reach(&self, path: &str) -> usize;
    /// Symbol-level reach of a change (the code that uses the changed symbols); `None` until the
    /// impact dimension computes it.
    fn symbol_reach(&self, _files: &[&FileDiff]) -> Option<f64> {
        None
    }
}

/// No graph: every graph feature is 0.
pub struct NoGraph;

impl GraphFeatures for NoGraph {
    fn fan_in(&self, _: &str) -> usize {
        0
    }
    fn reach(&self, _: &str) -> usize {
        0
    }
}

/// Graph features from a dependency graph (tests never count), memoised per path.
pub struct GraphReach<'a> {
    graph: &'a DepGraph,
    /// Whether each node is a test (matched once, not at every step of every walk).
    test: Vec<bool>,
    memo: RefCell<HashMap<String, (usize, usize)>>,
}

impl<'a> GraphReach<'a> {
    pub fn new(graph: &'a DepGraph, tests: &'a GlobList) -> GraphReach<'a> {
        let test = graph
            .graph
            .node_indices()
            .map(|n| tests.is_match(graph.path(n)))
            .collect();
        GraphReach {
            graph,
            test,
            memo: RefCell::new(HashMap::new()),
        }
    }

    fn both(&self, path: &str) -> (usize, usize) {
        if let Some(v) = self.memo.borrow().get(path) {
            return *v;
        }
        let test = |n: crate::graph::NodeIndex| self.test.get(n.index()).copied().unwrap_or(false);
        let v = match self.graph.node(path) {
            None => (0, 0),
            Some(n) => {
                let fan_in = self
                    .graph
                    .direct_dependents(n)
                    .filter(|d| !test(*d))
                    .count();
                let reach = self
                    .graph
                    .dependents_of(n, |m| !test(m))
                    .keys()
                    .filter(|d| !test(**d))
                    .count();
                (fan_in, reach)
            }
        };
        self.memo.borrow_mut().insert(path.to_string(), v);
        v
    }
}

impl GraphFeatures for GraphReach<'_> {
    fn fan_in(&self, path: &str) -> usize {
        self.both(path).0
    }
    fn reach(&self, path: &str) -> usize {
        self.both(path).1
    }
}

/// How a changed path counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Production source code.
    Source,
    Test,
    /// Docs, CI, manifests, lock files, generated files, assets.
    Other,
}

/// What decides a path's category.
pub struct Context<'a> {
    pub filter: &'a SourceFilter,
    pub tests: &'a GlobList,
    /// A renamed file keeps its history (`regression.follow-renames`).
    pub follow_renames: bool,
}

impl Context<'_> {
    pub fn category(&self, path: &str) -> Category {
        if !hunks::is_code(path) {
            Category::Other
        } else if self.tests.is_match(path) {
            Category::Test
        } else if self.filter.is_source(path) {
            Category::Source
        } else {
            Category::Other
        }
    }

    /// Production code: what a fix must change, and whose lines SZZ traces.
    pub fn production(&self, path: &str) -> bool {
        self.category(path) == Category::Source
    }
}

/// The history of one file (keyed by its current path; renames move it).
#[derive(Debug, Clone, Default)]
pub struct FileHistory {
    pub commits: u32,
    pub first: i64,
    /// `(author, commits)`.
    pub authors: Vec<(u32, u32)>,
    /// Fix commits touching it: `(time, index into the window)`.
    pub fixes: Vec<(i64, u32)>,
    /// Revert commits touching it (times).
    pub reverts: Vec<i64>,
    /// Every commit touching it (indexes into the window).
    pub ids: Vec<u32>,
}

/// The history before a change, built forward commit by commit.
#[derive(Debug, Clone, Default)]
pub struct HistoryState {
    pub files: HashMap<String, FileHistory>,
    authors: HashMap<String, u32>,
    author_commits: Vec<u32>,
    /// Each author's commits (indexes into the window).
    author_ids: Vec<Vec<u32>>,
    author_subsystems: HashMap<(u32, String), u32>,
    pub commits: u32,
}

/// One path a commit touched, as the state needs it.
#[derive(Debug, Clone)]
pub struct Touch {
    pub path: String,
    pub old_path: Option<String>,
    pub status: Status,
}

impl Touch {
    /// The touches of a commit's changes; without `follow_renames`, a rename is a deletion and
    /// an addition.
    pub fn of_changes(changes: &[Change], follow_renames: bool) -> Vec<Touch> {
        let mut out = Vec::with_capacity(changes.len());
        for c in changes {
            match (c.status, &c.old_path) {
                (Status::Renamed, Some(old)) if !follow_renames => {
                    out.push(Touch {
                        path: old.clone(),
                        old_path: None,
                        status: Status::Deleted,
                    });
                    out.push(Touch {
                        path: c.path().to_string(),
                        old_path: None,
                        status: Status::Added,
                    });
                }
                (Status::Renamed, old) => out.push(Touch {
                    path: c.path().to_string(),
                    old_path: old.clone(),
                    status: c.status,
                }),
                _ => out.push(Touch {
                    path: c.path().to_string(),
                    old_path: None,
                    status: c.status,
                }),
            }
        }
        out
    }
}

/// The raw values behind the features (what the explanations quote).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Raw {
    pub lines_added: u32,
    /// Added source lines that say something (not blank, not only a comment).
    pub code_lines_added: u32,
    /// Hunks of the source diff (how scattered the change is).
    pub hunks: usize,
    pub lines_deleted: u32,
    pub files: usize,
    pub directories: usize,
    pub subsystems: usize,
    /// Shannon entropy of the changed lines over the files, normalised to 0–1.
    pub entropy: f64,
    /// Lines the modified source files had before the change.
    pub lines_before: u64,
    pub new_files: usize,
    /// Test lines added (counted apart from source).
    pub test_lines: u32,
    /// Changed files that are neither source nor tests (docs, CI, manifests, lock files).
    pub other_files: usize,
    /// Mean days since the changed files were first changed in the window (0 for new files).
    pub file_age_days: f64,
    /// Earlier commits to the changed files (summed over the files).
    pub prior_changes: u32,
    /// Distinct authors of earlier commits to the changed files.
    pub developers: usize,
    /// Fix commits to the changed files, each weighted e^(−age/90 days).
    pub recent_fixes: f64,
    /// Fix commits to the changed files in the last 90 days.
    pub fixes_90d: u32,
    /// Revert commits to the changed files, weighted like fixes.
    pub recent_reverts: f64,
    /// The author's earlier commits in the window, to these files, and in these subsystems.
    pub author_commits: u32,
    pub author_file_commits: u32,
    pub author_subsystem_commits: u32,
    /// Earlier commits to the changed files known (at the change's time) to be bug-inducing.
    pub file_bugs: u32,
    /// The share of the author's earlier commits known to be bug-inducing.
    pub author_bug_share: f64,
    /// The change is a bug fix.
    pub fix: bool,
    /// Production files importing the changed files directly (summed), and reaching them
    /// transitively (the largest of the files).
    pub fan_in: usize,
    pub reach: usize,
    /// Symbol-level reach (issue 16); not yet a model feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol_reach: Option<f64>,
    /// The changed file with the most fixes in the last 90 days, and how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub most_fixed: Option<(String, u32)>,
}

fn ln1p(x: f64) -> f64 {
    x.max(0.0).ln_1p()
}

impl Raw {
    /// The feature vector, in [`FEATURES`] order.
    pub fn vector(&self) -> Vec<f64> {
        vec![
            ln1p(f64::from(self.lines_added)),
            ln1p(f64::from(self.code_lines_added)),
            ln1p(self.hunks as f64),
            ln1p(f64::from(self.lines_deleted)),
            ln1p(self.files as f64),
            ln1p(self.directories as f64),
            ln1p(self.subsystems as f64),
            self.entropy,
            ln1p(self.lines_before as f64),
            ln1p(self.new_files as f64),
            {
                let all = f64::from(self.test_lines) + f64::from(self.lines_added);
                if all > 0.0 {
                    f64::from(self.test_lines) / all
                } else {
                    0.0
                }
            },
            ln1p(self.other_files as f64),
            ln1p(self.file_age_days),
            ln1p(f64::from(self.prior_changes)),
            ln1p(self.developers as f64),
            ln1p(self.recent_fixes),
            ln1p(self.recent_reverts),
            ln1p(f64::from(self.author_commits)),
            ln1p(f64::from(self.author_file_commits)),
            ln1p(f64::from(self.author_subsystem_commits)),
            ln1p(f64::from(self.file_bugs)),
            self.author_bug_share,
            f64::from(u8::from(self.fix)),
            ln1p(self.fan_in as f64),
            ln1p(self.reach as f64),
        ]
    }
}

/// Normalised Shannon entropy of line counts.
pub fn entropy(lines: &[u64]) -> f64 {
    let total: u64 = lines.iter().sum();
    if lines.len() < 2 || total == 0 {
        return 0.0;
    }
    let h: f64 = lines
        .iter()
        .filter(|n| **n > 0)
        .map(|n| {
            let p = *n as f64 / total as f64;
            -p * p.log2()
        })
        .sum();
    h / (lines.len() as f64).log2()
}

impl HistoryState {
    fn author(&mut self, who: &str) -> u32 {
        if let Some(a) = self.authors.get(who) {
            return *a;
        }
        let a = self.author_commits.len() as u32;
        self.authors.insert(who.to_string(), a);
        self.author_commits.push(0);
        self.author_ids.push(Vec::new());
        a
    }

    /// Add one non-merge commit (index `index` of the window) to the history.
    pub fn apply(&mut self, index: u32, time: i64, who: &str, kind: CommitKind, touches: &[Touch]) {
        if kind.merge {
            return;
        }
        let a = self.author(who);
        self.commits += 1;
        self.author_commits[a as usize] += 1;
        self.author_ids[a as usize].push(index);
        let mut subsystems: BTreeSet<&str> = BTreeSet::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for t in touches {
            if !seen.insert(t.path.as_str()) {
                continue;
            }
            subsystems.insert(subsystem(&t.path));
            if t.status == Status::Deleted {
                self.files.remove(&t.path);
                continue;
            }
            let mut h = match &t.old_path {
                Some(old) => self.files.remove(old).unwrap_or_default(),
                None => self.files.remove(&t.path).unwrap_or_default(),
            };
            if h.commits == 0 {
                h.first = time;
            }
            h.commits += 1;
            h.ids.push(index);
            match h.authors.iter_mut().find(|(x, _)| *x == a) {
                Some((_, n)) => *n += 1,
                None => h.authors.push((a, 1)),
            }
            if kind.fix {
                h.fixes.push((time, index));
            }
            if kind.revert {
                h.reverts.push(time);
            }
            self.files.insert(t.path.clone(), h);
        }
        for s in subsystems {
            *self
                .author_subsystems
                .entry((a, s.to_string()))
                .or_default() += 1;
        }
    }

    /// The history of a file at `path` (its path before the change).
    pub fn file(&self, path: &str) -> Option<&FileHistory> {
        self.files.get(path)
    }

    /// The raw features of a change (`files`: its line facts) made by `who` at `time`; `known`
    /// says whether the window's commit `i` is known to be bug-inducing at `time`.
    #[allow(clippy::too_many_arguments)]
    pub fn features(
        &self,
        files: &[FileDiff],
        who: &str,
        time: i64,
        fix: bool,
        ctx: &Context,
        graph: &dyn GraphFeatures,
        known: &dyn Fn(u32, i64) -> bool,
    ) -> Raw {
        let mut raw = Raw {
            fix,
            ..Raw::default()
        };
        let a = self.authors.get(who).copied();
        let mut sources: Vec<&FileDiff> = Vec::new();
        for f in files {
            match ctx.category(&f.path) {
                Category::Source => sources.push(f),
                Category::Test => raw.test_lines += f.added,
                Category::Other => raw.other_files += 1,
            }
        }
        raw.files = sources.len();
        let mut dirs = BTreeSet::new();
        let mut subs = BTreeSet::new();
        let mut lines = Vec::new();
        let mut devs = BTreeSet::new();
        let mut age = 0.0;
        let mut most: Option<(String, u32)> = None;
        for f in &sources {
            raw.lines_added += f.added;
            raw.code_lines_added += f.code_added;
            raw.hunks += f.hunks.len();
            raw.lines_deleted += f.deleted;
            if f.old_id.is_some() && f.status != Status::Added {
                raw.lines_before += u64::from(f.old_total);
            }
            if f.status == Status::Added {
                raw.new_files += 1;
            }
            dirs.insert(directory(&f.path));
            subs.insert(subsystem(&f.path));
            lines.push(u64::from(f.added) + u64::from(f.deleted));
            let before = match (&f.old_path, ctx.follow_renames) {
                (Some(old), true) => old.as_str(),
                (Some(_), false) if f.status == Status::Renamed => continue,
                _ => f.path.as_str(),
            };
            let Some(h) = (f.status != Status::Added)
                .then(|| self.files.get(before))
                .flatten()
            else {
                continue;
            };
            age += (time - h.first).max(0) as f64 / DAY;
            raw.prior_changes += h.commits;
            raw.file_bugs += h.ids.iter().filter(|i| known(**i, time)).count() as u32;
            devs.extend(h.authors.iter().map(|(x, _)| *x));
            if let Some(a) = a {
                raw.author_file_commits += h
                    .authors
                    .iter()
                    .find(|(x, _)| *x == a)
                    .map_or(0, |(_, n)| *n);
            }
            let decay = |t: i64| (-((time - t).max(0) as f64 / DAY) / DECAY_DAYS).exp();
            raw.recent_fixes += h.fixes.iter().map(|(t, _)| decay(*t)).sum::<f64>();
            raw.recent_reverts += h.reverts.iter().map(|t| decay(*t)).sum::<f64>();
            let recent = h
                .fixes
                .iter()
                .filter(|(t, _)| ((time - t) as f64) <= DECAY_DAYS * DAY)
                .count() as u32;
            raw.fixes_90d += recent;
            if recent > 0
                && most
                    .as_ref()
                    .is_none_or(|(p, n)| recent > *n || (recent == *n && f.path < *p))
            {
                most = Some((f.path.clone(), recent));
            }
        }
        raw.most_fixed = most;
        raw.directories = dirs.len();
        raw.subsystems = subs.len();
        raw.entropy = entropy(&lines);
        raw.developers = devs.len();
        raw.file_age_days = if sources.is_empty() {
            0.0
        } else {
            age / sources.len() as f64
        };
        if let Some(a) = a {
            raw.author_commits = self.author_commits[a as usize];
            let ids = &self.author_ids[a as usize];
            raw.author_bug_share =
                ids.iter().filter(|i| known(**i, time)).count() as f64 / ids.len().max(1) as f64;
            raw.author_subsystem_commits = subs
                .iter()
                .map(|s| {
                    self.author_subsystems
                        .get(&(a, s.to_string()))
                        .copied()
                        .unwrap_or(0)
                })
                .sum();
        }
        for f in &sources {
            if f.status == Status::Deleted {
                continue;
            }
            raw.fan_in += graph.fan_in(&f.path);
            raw.reach = raw.reach.max(graph.reach(&f.path));
        }
        raw.symbol_reach = graph.symbol_reach(&sources);
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsystems_look_inside_package_containers() {
        assert_eq!(subsystem("packages/server/src/a.ts"), "packages/server");
        assert_eq!(subsystem("crates/engine/src/lib.rs"), "crates/engine");
        assert_eq!(subsystem("src/a/b.ts"), "src");
        assert_eq!(subsystem("packages/x.ts"), "packages");
        assert_eq!(subsystem("main.rs"), "");
    }

    #[test]
    fn entropy_is_normalised() {
        assert_eq!(entropy(&[5]), 0.0);
        assert!((entropy(&[10, 10]) - 1.0).abs() < 1e-12);
        assert!(entropy(&[10, 1]) < 1.0);
    }
}
