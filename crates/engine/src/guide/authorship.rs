//! Who knows the changed code: time-decayed authorship from the mined history.
//!
//! Two signals, both read from the history window the regression dimension mines (from the
//! merge-base backwards, `regression.max-commits` / `max-age-days`; merges and bulk commits —
//! more than `regression.bulk-files` files — never count):
//!
//! - **Recent changes to each changed file.** Every commit that touched the file (renames
//!   followed) weighs `w = 0.5^(age / half-life)`, its age taken from the merge-base
//!   (`guidance.half-life-days`, 180 by default: a commit six months older than the merge-base
//!   counts half, a year older a quarter). A person's share of the file is the weight of their
//!   commits over the weight of all its commits; a commit with `Co-authored-by:` trailers is
//!   shared equally between its author and co-authors.
//! - **The lines the change edits.** The lines the pull request deletes or rewrites (those that
//!   say something: not blank, not only a comment; for a pure insertion, the two lines around it)
//!   are traced to the commits that wrote them, forward through the window as the SZZ labeller
//!   does ([`crate::score::regression::labels::line_origins`]). A person's share is the lines
//!   they wrote over all those lines (lines older than the window count in the total and for
//!   nobody). This needs the window's line facts; a partial clone has none, and then only the
//!   first signal is used.
//!
//! A person's knowledge of a file mixes the two shares: `(1 − λ) · commits + λ · lines` with
//! `λ = ½ · L / (L + 5)` for the `L` lines the change edits (the commit share alone when it edits
//! none: a pure addition at the end of a file, a new file). Their knowledge of the change is the
//! mean over the changed files that have any history in the window. Which files count: the changed source and test files
//! (by the `tests` globs, the regression's not-source globs and the language of the file); when
//! the change has none, every changed file. Someone is a candidate when they hold at least
//! [`MIN_SHARE`] of one file.

use std::collections::{BTreeMap, HashMap};

use crate::git::history::{CommitRecord, IdSet};
use crate::git::hunks::CommitFacts;
use crate::git::Oid;
use crate::score::regression::features::FileHistory;
use crate::score::regression::labels::line_origins;

use super::people::People;

/// The least knowledge of one changed file that makes someone a candidate.
pub const MIN_SHARE: f64 = 0.2;
/// How many traced lines it takes for the line share to weigh a third ([`FileShare::knowledge`]).
pub const LINES_PRIOR: f64 = 5.0;

/// The history the guidance reads: the regression dimension's mined window.
pub struct HistoryInput<'a> {
    /// The window's non-merge commits, oldest first (with their changes, and their line facts
    /// unless the clone is partial).
    pub commits: &'a [(Oid, CommitRecord)],
    /// Each file's commits (indexes into `commits`), keyed by its path at the merge-base.
    pub files: &'a HashMap<String, FileHistory>,
    /// Committer time of the merge-base: ages are taken from here.
    pub base_time: i64,
    /// Commits changing more files than this are bulk and never count.
    pub bulk_files: usize,
    /// The change's line facts against the merge-base.
    pub change: &'a CommitFacts,
}

impl HistoryInput<'_> {
    /// Whether commit `i` counts: not bulk (more than `bulk-files` files).
    pub fn counts(&self, i: u32) -> bool {
        self.commits
            .get(i as usize)
            .and_then(|(_, r)| r.changes.as_ref())
            .is_some_and(|c| c.len() <= self.bulk_files)
    }
}

/// One person's share of one changed file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileShare {
    /// The file's path at the merge-base.
    pub path: String,
    /// Recency-weighted share of the file's recent commits (0–1).
    pub share: f64,
    /// Their commits to it, and all of its commits, in the window.
    pub commits: u32,
    pub total: u32,
    /// Lines of the change's edit they wrote, and all the traced lines of it (`total` 0: none).
    pub lines: u32,
    pub lines_total: u32,
}

impl FileShare {
    /// Knowledge of the file: the two shares mixed, the line share weighing
    /// `λ = ½ · L / (L + LINES_PRIOR)` for `L` traced lines (a change that edits one line says
    /// little about who knows the file; one that rewrites fifty says as much as its history).
    pub fn knowledge(&self) -> f64 {
        if self.lines_total == 0 {
            return self.share;
        }
        let l = f64::from(self.lines_total);
        let lambda = 0.5 * l / (l + LINES_PRIOR);
        (1.0 - lambda) * self.share + lambda * f64::from(self.lines) / l
    }
}

/// What one person knows of the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Knowledge {
    /// Index into [`People`].
    pub person: u32,
    /// Mean knowledge over the changed files with history (0–1).
    pub score: f64,
    /// Their files, best first.
    pub files: Vec<FileShare>,
}

/// The people who know the `changed` files (paths at the merge-base), best first; bots are left
/// in (the caller decides who may be suggested). `half_life_days` must be at least 1.
pub fn knowledge(
    input: &HistoryInput,
    changed: &[&str],
    half_life_days: u32,
    people: &mut People,
) -> Vec<Knowledge> {
    let half = f64::from(half_life_days.max(1)) * 86_400.0;
    let decay = |time: i64| 0.5f64.powf((input.base_time - time).max(0) as f64 / half);
    let lines = edited_lines(input, changed, people);
    // person → path → share
    let mut shares: BTreeMap<u32, Vec<FileShare>> = BTreeMap::new();
    let mut with_history = 0usize;
    for path in changed {
        let mut weights: BTreeMap<u32, (f64, u32)> = BTreeMap::new();
        let (mut total_w, mut total) = (0.0, 0u32);
        if let Some(h) = input.files.get(*path) {
            for &i in &h.ids {
                if !input.counts(i) {
                    continue;
                }
                let record = &input.commits[i as usize].1;
                let w = decay(record.time);
                let credited = people.of_commit(record);
                for p in &credited {
                    let e = weights.entry(*p).or_default();
                    e.0 += w / credited.len() as f64;
                    e.1 += 1;
                }
                total_w += w;
                total += 1;
            }
        }
        let traced = lines.get(*path);
        let lines_total = traced.map_or(0, |t| t.total);
        if total == 0 && lines_total == 0 {
            continue;
        }
        with_history += 1;
        let mut people_here: Vec<u32> = weights.keys().copied().collect();
        if let Some(t) = traced {
            people_here.extend(t.by.keys().copied());
        }
        people_here.sort_unstable();
        people_here.dedup();
        for p in people_here {
            let (w, commits) = weights.get(&p).copied().unwrap_or_default();
            let written = traced.and_then(|t| t.by.get(&p)).copied().unwrap_or(0.0);
            shares.entry(p).or_default().push(FileShare {
                path: path.to_string(),
                share: if total_w > 0.0 { w / total_w } else { 0.0 },
                commits,
                total,
                lines: written.round() as u32,
                lines_total,
            });
        }
    }
    let mut out: Vec<Knowledge> = shares
        .into_iter()
        .filter(|(_, files)| files.iter().any(|f| f.knowledge() >= MIN_SHARE))
        .map(|(person, mut files)| {
            let score = files.iter().map(FileShare::knowledge).sum::<f64>() / with_history as f64;
            files.sort_by(|a, b| {
                b.knowledge()
                    .total_cmp(&a.knowledge())
                    .then_with(|| a.path.cmp(&b.path))
            });
            Knowledge {
                person,
                score,
                files,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| people.get(a.person).key.cmp(&people.get(b.person).key))
    });
    out
}

/// The traced lines of a change's edit of one file.
#[derive(Debug, Default)]
struct Traced {
    /// Lines considered (traced to a commit of the window or not).
    total: u32,
    /// Person → lines they wrote (a co-authored line is shared).
    by: BTreeMap<u32, f64>,
}

/// Who wrote the lines the change edits, per changed file (path at the merge-base).
fn edited_lines(
    input: &HistoryInput,
    changed: &[&str],
    people: &mut People,
) -> HashMap<String, Traced> {
    // The change's files that existed at the merge-base, with their blob and the lines it edits.
    let mut jobs: Vec<(&str, Oid, Vec<u32>)> = Vec::new();
    for f in &input.change.files {
        let path = f.old_path.as_deref().unwrap_or(&f.path);
        let (Some(old), true) = (f.old_id, f.lines) else {
            continue;
        };
        if !changed.contains(&path) {
            continue;
        }
        let mut at: Vec<u32> = Vec::new();
        for h in &f.hunks {
            if h.old_lines == 0 {
                // A pure insertion after line `old_start` (1-based): the lines around it.
                for l in [h.old_start.checked_sub(1), Some(h.old_start)]
                    .into_iter()
                    .flatten()
                {
                    if l < f.old_total {
                        at.push(l);
                    }
                }
            } else {
                let first = h.old_start.saturating_sub(1);
                at.extend(h.meaningful.iter().map(|k| first + k));
            }
        }
        at.sort_unstable();
        at.dedup();
        if !at.is_empty() {
            jobs.push((path, old, at));
        }
    }
    if jobs.is_empty() {
        return HashMap::new();
    }
    let wanted: IdSet = jobs.iter().map(|(_, id, _)| *id).collect();
    let commits: Vec<(Oid, &CommitRecord)> = input.commits.iter().map(|(id, r)| (*id, r)).collect();
    let origins = line_origins(&commits, &wanted);
    let mut out: HashMap<String, Traced> = HashMap::new();
    for (path, blob, at) in jobs {
        let t = out.entry(path.to_string()).or_default();
        t.total += at.len() as u32;
        let Some(runs) = origins.get(&blob) else {
            continue;
        };
        let mut runs = runs.iter();
        let (mut start, mut current) = (0u32, runs.next());
        for line in at {
            while let Some((_, n)) = current {
                if line < start + n {
                    break;
                }
                start += n;
                current = runs.next();
            }
            let Some((Some(origin), _)) = current else {
                continue;
            };
            if !input.counts(*origin) {
                continue;
            }
            let credited = people.of_commit(&input.commits[*origin as usize].1);
            for p in &credited {
                *t.by.entry(*p).or_default() += 1.0 / credited.len() as f64;
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::git::history::tests::{commit_at, init};
    use crate::git::history::{fill_facts, mine, Commits, FixMatcher, MineOptions};
    use crate::git::hunks::facts_between;
    use crate::git::mailmap::Mailmap;
    use crate::git::Repo;
    use crate::score::regression::features::HistoryState;

    pub const DAY: i64 = 86_400;
    /// The merge-base of the scripted histories.
    pub const BASE: i64 = 1_800_000_000;

    /// The window ending at `base`, oldest first, with its state (as the pipeline mines it).
    pub fn window(repo: &Repo, base: Oid) -> (Vec<(Oid, CommitRecord)>, HistoryState) {
        let matcher = FixMatcher::defaults();
        let churn = Default::default();
        let opts = MineOptions {
            max_commits: 1000,
            max_age_days: 3650,
            min_commits: 1,
            follow_renames: true,
            matcher: &matcher,
            churn_for: &churn,
        };
        let mut memo = Commits::default();
        let h = mine(repo, base, &opts, Some(&mut memo)).unwrap();
        fill_facts(repo, &h.window, &mut memo).unwrap();
        let records: Vec<(Oid, CommitRecord)> = h
            .window
            .iter()
            .rev()
            .map(|id| (*id, memo.records[id].clone()))
            .collect();
        let refs: Vec<(Oid, &CommitRecord)> = records.iter().map(|(id, r)| (*id, r)).collect();
        let tests = crate::glob::GlobList::new(&[]);
        let filter = crate::git::history::SourceFilter {
            not_source: crate::glob::GlobList::new(&[]),
            exclude: crate::glob::GlobList::new(&[]),
        };
        let ctx = crate::score::regression::features::Context {
            filter: &filter,
            tests: &tests,
            follow_renames: true,
        };
        let state = crate::score::regression::state_of(&refs, &matcher, &ctx, 50);
        (records, state)
    }

    fn lines(n: usize, tag: &str) -> String {
        (0..n).map(|i| format!("const {tag}{i} = {i};\n")).collect()
    }

    /// Ann wrote `a.ts` long ago (three commits, 400–380 days before the merge-base), Bob changed
    /// it once ten days before; with a half-life of 180 days Bob's one recent commit outweighs
    /// Ann's three old ones, with a very long half-life it does not.
    #[test]
    fn authorship_decays_with_age() {
        let dir = tempfile::tempdir().unwrap();
        let repo = init(dir.path());
        let mut text = lines(4, "a");
        let mut parent = commit_at(
            &repo,
            &[],
            BASE - 400 * DAY,
            "add a",
            "Ann",
            &[("a.ts", &text)],
        );
        for (k, age) in [390, 380].iter().enumerate() {
            text.push_str(&format!("const ann{k} = 0;\n"));
            parent = commit_at(
                &repo,
                &[parent],
                BASE - age * DAY,
                "more a",
                "Ann",
                &[("a.ts", &text)],
            );
        }
        text.push_str("const bob = 1;\n");
        let base = commit_at(
            &repo,
            &[parent],
            BASE - 10 * DAY,
            "bob's a",
            "Bob",
            &[("a.ts", &text)],
        );
        let (records, state) = window(&repo, base);
        let change = CommitFacts::default();
        let input = HistoryInput {
            commits: &records,
            files: &state.files,
            base_time: BASE,
            bulk_files: 50,
            change: &change,
        };
        let who = |half: u32| {
            let mut people = People::new(Mailmap::empty());
            knowledge(&input, &["a.ts"], half, &mut people)
                .iter()
                .map(|k| {
                    (
                        people.get(k.person).name.clone(),
                        (k.score * 100.0).round() as u32,
                    )
                })
                .collect::<Vec<_>>()
        };
        // Weights 0.5^(age/180): Ann 0.214 + 0.223 + 0.231 = 0.668, Bob 0.962.
        assert_eq!(who(180), [("Bob".to_string(), 59), ("Ann".to_string(), 41)]);
        assert_eq!(
            who(1_000_000),
            [("Ann".to_string(), 75), ("Bob".to_string(), 25)]
        );
        let mut people = People::new(Mailmap::empty());
        let k = knowledge(&input, &["a.ts"], 180, &mut people);
        assert_eq!((k[0].files[0].commits, k[0].files[0].total), (1, 4));
    }

    /// The lines a change edits are traced to who wrote them; bulk commits and lines older than
    /// the window count for nobody; co-authors share a commit.
    #[test]
    fn the_lines_a_change_edits_credit_their_authors() {
        let dir = tempfile::tempdir().unwrap();
        let repo = init(dir.path());
        let v1 = lines(6, "x");
        let c1 = commit_at(
            &repo,
            &[],
            BASE - 50 * DAY,
            "add x",
            "Ann",
            &[("x.ts", &v1)],
        );
        // Cy rewrites lines 4–6, with Dee as co-author.
        let v2 = format!("{}{}", lines(3, "x"), lines(3, "cy"));
        let c2 = commit_at(
            &repo,
            &[c1],
            BASE - 40 * DAY,
            "rework\n\nCo-authored-by: Dee <dee@example.com>",
            "Cy",
            &[("x.ts", &v2)],
        );
        let base = commit_at(
            &repo,
            &[c2],
            BASE,
            "y",
            "Bob",
            &[("x.ts", &v2), ("y.ts", "y\n")],
        );
        // The change rewrites line 1 (Ann's) and lines 5–6 (Cy's and Dee's).
        let kept: String = v2
            .lines()
            .skip(1)
            .take(3)
            .map(|l| format!("{l}\n"))
            .collect();
        let head_text = format!("const changed = 0;\n{kept}const other = 1;\n");
        let head = commit_at(
            &repo,
            &[base],
            BASE + DAY,
            "pr",
            "Pat",
            &[("x.ts", &head_text), ("y.ts", "y\n")],
        );
        let (records, state) = window(&repo, base);
        let change = facts_between(&repo, base, head).unwrap();
        let input = HistoryInput {
            commits: &records,
            files: &state.files,
            base_time: BASE,
            bulk_files: 50,
            change: &change,
        };
        let mut people = People::new(Mailmap::empty());
        let k = knowledge(&input, &["x.ts"], 180, &mut people);
        let got: Vec<(String, u32, u32)> = k
            .iter()
            .map(|k| {
                let f = &k.files[0];
                (people.get(k.person).name.clone(), f.lines, f.lines_total)
            })
            .collect();
        // Line 1 by Ann; lines 5 and 6 by Cy and Dee together (1 line each, rounded).
        assert_eq!(
            got,
            [
                ("Ann".to_string(), 1, 3),
                ("Cy".to_string(), 1, 3),
                ("Dee".to_string(), 1, 3)
            ]
        );
        // Every commit bulk: nobody is credited with anything.
        let bulk = HistoryInput {
            bulk_files: 0,
            ..input
        };
        assert_eq!(knowledge(&bulk, &["x.ts"], 180, &mut people), []);
    }
}
