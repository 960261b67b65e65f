//! Labels from history: which commits are bug fixes, which are reverts, and which introduced the
//! bugs that later fixes and reverts removed.
//!
//! - **Fixes**: the commit message says so ([`FixMatcher`]: conventional `fix`/`hotfix` types,
//!   fix keywords in the subject, issue links in the body; never releases, version bumps, chores,
//!   docs, style, lint, CI or dependency commits) **and** the commit changes production code: a
//!   commit that only touches tests, docs, CI or manifests is not a fix.
//! - **Reverts**: `This reverts commit <sha>` labels the reverted commit bug-inducing directly —
//!   the strongest signal there is. The revert itself is not a fix.
//! - **Bug-inducing commits** (SZZ): the meaningful lines a fix deletes or changes (whitespace
//!   ignored, blank and comment-only lines skipped) are traced to the commits that last wrote
//!   them, and the **most recent** of those candidates is labelled. Bulk commits (more than
//!   `bulk-files` files) are neither fixes nor candidates: they are imports, renames and
//!   reformattings far more often than bugs.
//!
//! Line origins are tracked **forward** through the window rather than with one `blame` per fix:
//! every blob a commit writes gets the origin of each of its lines (run-length encoded), computed
//! from its parent's blob and the commit's hunks ([`crate::git::hunks`]); a fix looks its deleted
//! lines up in its parent's blob. Origins are keyed by blob id, so branches and merges need no
//! special walk: a merge that combines both sides' edits of a file takes every line from the
//! parent it matches. Lines older than the window have an unknown origin and label nothing.

use std::collections::BTreeMap;

use crate::git::diff::Status;
use crate::git::history::{CommitRecord, FixMatcher, IdMap, IdSet};
use crate::git::hunks::{FileDiff, Hunk};
use crate::git::Oid;

/// A line written before the window (or by a blob the walk never saw written).
const BEFORE: u32 = u32::MAX;
/// A line a merge wrote itself (neither parent had it).
const MERGED: u32 = u32::MAX - 1;
/// A placeholder while combining a merge's two sides.
const NONE: u32 = u32::MAX - 2;

/// Line origins of one blob: `(origin, run length)`, origin an index into the window.
type Runs = Vec<(u32, u32)>;

fn push_run(out: &mut Runs, origin: u32, len: u32) {
    if len == 0 {
        return;
    }
    match out.last_mut() {
        Some((o, n)) if *o == origin => *n += len,
        _ => out.push((origin, len)),
    }
}

/// Append the origins of old lines `[from, to)`.
fn copy_range(out: &mut Runs, old: &Runs, from: u32, to: u32) {
    if to <= from {
        return;
    }
    let mut at = 0u32;
    for (o, n) in old {
        let (start, end) = (at, at + n);
        at = end;
        if end <= from {
            continue;
        }
        if start >= to {
            break;
        }
        push_run(out, *o, end.min(to) - start.max(from));
    }
    // Lines past the end of what is known (a blob whose length was guessed): unknown.
    if at < to {
        push_run(out, BEFORE, to - at.max(from));
    }
}

/// The origin of old line `line` (0-based).
fn origin_at(old: &Runs, line: u32) -> u32 {
    let mut at = 0u32;
    for (o, n) in old {
        if line < at + n {
            return *o;
        }
        at += n;
    }
    BEFORE
}

fn total(runs: &Runs) -> u32 {
    runs.iter().map(|r| r.1).sum()
}

/// The origins of the new blob: unchanged lines keep theirs, the hunks' new lines get `fill`.
fn apply(old: &Runs, old_total: u32, hunks: &[Hunk], fill: u32) -> Runs {
    let mut out = Runs::with_capacity(old.len() + 2 * hunks.len());
    let mut pos = 0u32;
    for h in hunks {
        let begin = if h.old_lines == 0 {
            h.old_start
        } else {
            h.old_start.saturating_sub(1)
        };
        copy_range(&mut out, old, pos, begin);
        push_run(&mut out, fill, h.new_lines);
        pos = pos.max(begin + h.old_lines);
    }
    copy_range(&mut out, old, pos, old_total.max(total(old)));
    out
}

fn expand(runs: &Runs) -> Vec<u32> {
    let mut v = Vec::with_capacity(total(runs) as usize);
    for (o, n) in runs {
        v.extend(std::iter::repeat_n(*o, *n as usize));
    }
    v
}

/// What one commit is, for the labeller and the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitKind {
    /// A bug fix: its message says so and it changes production code (and it is not bulk).
    pub fix: bool,
    pub revert: bool,
    pub merge: bool,
    /// It changes more than `bulk-files` files.
    pub bulk: bool,
}

/// Classify one commit. `production` says whether a path is production code (code, source, not
/// a test).
pub fn classify(
    record: &CommitRecord,
    matcher: &FixMatcher,
    production: &dyn Fn(&str) -> bool,
    bulk_files: usize,
) -> CommitKind {
    let merge = record.parents.len() > 1;
    let kind = matcher.kind(&record.message);
    let paths: Vec<&str> = match (&record.changes, &record.facts) {
        (Some(c), _) => c.iter().map(|c| c.path()).collect(),
        (None, Some(f)) if !merge => f.files.iter().map(|f| f.path.as_str()).collect(),
        _ => Vec::new(),
    };
    let bulk = paths.len() > bulk_files;
    let touches_code = paths.iter().any(|p| production(p));
    CommitKind {
        fix: kind.fix && !merge && !bulk && touches_code,
        revert: kind.revert && !merge,
        merge,
        bulk,
    }
}

/// Why a commit is labelled bug-inducing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blame {
    /// The fix or revert (index into the window).
    pub by: usize,
    /// Its time: the label is known from then on.
    pub time: i64,
    pub revert: bool,
}

/// The labels of a window.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Per commit of the window (oldest first).
    pub kinds: Vec<CommitKind>,
    /// Bug-inducing commits (index into the window) and the fixes and reverts that say so.
    pub inducing: BTreeMap<usize, Vec<Blame>>,
    /// Fix commits, and those whose deleted lines could be traced to a commit in the window.
    pub fixes: usize,
    pub fixes_traced: usize,
    pub reverts: usize,
}

impl Labels {
    /// Whether commit `i` is known to be bug-inducing at time `at`.
    pub fn inducing_at(&self, i: usize, at: i64) -> bool {
        self.inducing
            .get(&i)
            .is_some_and(|v| v.iter().any(|b| b.time <= at))
    }

    /// The earliest time commit `i` is known to be bug-inducing.
    pub fn known_at(&self, i: usize) -> Option<i64> {
        self.inducing
            .get(&i)
            .and_then(|v| v.iter().map(|b| b.time).min())
    }
}

/// Label the window `commits` (oldest first, merges included, each with its line facts).
pub fn label(
    commits: &[(Oid, &CommitRecord)],
    matcher: &FixMatcher,
    production: &dyn Fn(&str) -> bool,
    bulk_files: usize,
) -> Labels {
    let mut labels = Labels {
        kinds: commits
            .iter()
            .map(|(_, r)| classify(r, matcher, production, bulk_files))
            .collect(),
        ..Labels::default()
    };
    let mut origins: IdMap<Runs> = IdMap::default();
    let hex: BTreeMap<String, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.to_string(), i))
        .collect();
    for (i, (_, record)) in commits.iter().enumerate() {
        let kind = labels.kinds[i];
        let Some(facts) = &record.facts else {
            continue;
        };
        if kind.merge {
            for f in &facts.files {
                merge_file(&mut origins, f);
            }
            continue;
        }
        let mut candidates: Vec<u32> = Vec::new();
        for f in &facts.files {
            if !f.lines {
                continue;
            }
            let empty = Runs::new();
            let before: Option<Runs> = f.old_id.map(|o| {
                origins
                    .get(&o)
                    .cloned()
                    .unwrap_or_else(|| vec![(BEFORE, f.old_total)])
            });
            let old = before.as_ref().unwrap_or(&empty);
            let old_path = f.old_path.as_deref().unwrap_or(&f.path);
            if kind.fix && f.old_id.is_some() && production(old_path) {
                for h in &f.hunks {
                    let first = h.old_start.saturating_sub(1);
                    for k in &h.meaningful {
                        candidates.push(origin_at(old, first + k));
                    }
                }
            }
            if let (Some(new), true) = (f.new_id, f.status != Status::Deleted) {
                origins
                    .entry(new)
                    .or_insert_with(|| apply(old, f.old_total, &f.hunks, i as u32));
            }
        }
        if kind.fix {
            labels.fixes += 1;
            let best = candidates
                .into_iter()
                .filter(|o| (*o as usize) < i && !labels.kinds[*o as usize].bulk)
                .max_by_key(|o| (commits[*o as usize].1.time, *o));
            if let Some(b) = best {
                labels.fixes_traced += 1;
                labels.inducing.entry(b as usize).or_default().push(Blame {
                    by: i,
                    time: record.time,
                    revert: false,
                });
            }
        }
        if kind.revert {
            labels.reverts += 1;
            for prefix in matcher.reverted(&record.message) {
                let hit = hex
                    .range(prefix.clone()..)
                    .next()
                    .filter(|(h, _)| h.starts_with(&prefix))
                    .map(|(_, j)| *j);
                if let Some(j) = hit.filter(|j| *j < i && !labels.kinds[*j].revert) {
                    labels.inducing.entry(j).or_default().push(Blame {
                        by: i,
                        time: record.time,
                        revert: true,
                    });
                }
            }
        }
    }
    labels
}

/// Who wrote each line of the blobs `wanted`, tracked forward through `commits` (the window, oldest
/// first, with line facts) exactly as [`label`] tracks them: for each wanted blob the window
/// writes, its lines as `(origin, run length)` runs, the origin an index into `commits`, or `None`
/// for a line older than the window (or written by a merge itself). Reviewer guidance reads the
/// origins of the lines a change edits at its merge-base.
pub fn line_origins(
    commits: &[(Oid, &CommitRecord)],
    wanted: &IdSet,
) -> IdMap<Vec<(Option<u32>, u32)>> {
    let mut origins: IdMap<Runs> = IdMap::default();
    if wanted.is_empty() {
        return IdMap::default();
    }
    for (i, (_, record)) in commits.iter().enumerate() {
        let Some(facts) = &record.facts else {
            continue;
        };
        if record.parents.len() > 1 {
            for f in &facts.files {
                merge_file(&mut origins, f);
            }
            continue;
        }
        for f in &facts.files {
            let Some(new) = f.new_id.filter(|_| f.lines && f.status != Status::Deleted) else {
                continue;
            };
            if origins.contains_key(&new) {
                continue;
            }
            let empty = Runs::new();
            let before: Option<Runs> = f.old_id.map(|o| {
                origins
                    .get(&o)
                    .cloned()
                    .unwrap_or_else(|| vec![(BEFORE, f.old_total)])
            });
            let runs = apply(
                before.as_ref().unwrap_or(&empty),
                f.old_total,
                &f.hunks,
                i as u32,
            );
            origins.insert(new, runs);
        }
    }
    wanted
        .iter()
        .filter_map(|id| {
            let runs = origins.get(id)?;
            let known = runs
                .iter()
                .map(|(o, n)| ((*o < NONE).then_some(*o), *n))
                .collect();
            Some((*id, known))
        })
        .collect()
}

/// The origins of a merged blob that differs from both parents: each line from the first parent
/// it matches, else from the second, else written by the merge.
fn merge_file(origins: &mut IdMap<Runs>, f: &FileDiff) {
    let (Some(new), Some((other_id, other_hunks))) = (f.new_id, &f.other) else {
        return;
    };
    if origins.contains_key(&new) {
        return;
    }
    let new_total = (f.old_total + f.added).saturating_sub(f.deleted);
    let other_total = (new_total + other_hunks.iter().map(|h| h.old_lines).sum::<u32>())
        .saturating_sub(other_hunks.iter().map(|h| h.new_lines).sum::<u32>());
    let known = |id: Option<Oid>, n: u32| -> Runs {
        id.and_then(|o| origins.get(&o).cloned())
            .unwrap_or_else(|| if n > 0 { vec![(BEFORE, n)] } else { Vec::new() })
    };
    let one = apply(&known(f.old_id, f.old_total), f.old_total, &f.hunks, NONE);
    let two = apply(
        &known(Some(*other_id), other_total),
        other_total,
        other_hunks,
        NONE,
    );
    let (a, b) = (expand(&one), expand(&two));
    let mut out = Runs::new();
    for k in 0..a.len().max(b.len()) {
        let o = match (a.get(k).copied(), b.get(k).copied()) {
            (Some(x), _) if x != NONE => x,
            (_, Some(y)) if y != NONE => y,
            _ => MERGED,
        };
        push_run(&mut out, o, 1);
    }
    origins.insert(new, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::history::tests::commit_at;
    use crate::git::history::{fill_facts, mine, Commits, MineOptions};

    fn text(lines: &[&str]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// A scripted history: a feature whose line a later fix changes, a fix that only touches a
    /// comment and whitespace, a revert, a test-only "fix", a bulk "fix", a fix of lines from
    /// two commits (the most recent is blamed) and a merge that combines both sides' edits.
    #[test]
    fn labels_a_scripted_history() {
        let dir = tempfile::tempdir().unwrap();
        let repo = crate::git::history::tests::init(dir.path());
        let a0 = ["const a = 1;", "// note", "const b = 2;", "const c = 3;"];
        let c0 = commit_at(
            &repo,
            &[],
            1_000,
            "initial import",
            "Ann",
            &[("a.ts", &text(&a0)), ("b.ts", "b\n")],
        );
        let a1 = [
            "const a = 1;",
            "// note",
            "const b = 2;",
            "const c = 3;",
            "const x1 = 1;",
            "const x2 = 2;",
        ];
        let c1 = commit_at(
            &repo,
            &[c0],
            2_000,
            "add feature x",
            "Bob",
            &[("a.ts", &text(&a1)), ("b.ts", "b\n")],
        );
        // Replaces c (from c0) and x2 (from c1): the most recent candidate, c1, is blamed.
        let a2 = [
            "const a = 1;",
            "// note",
            "const b = 2;",
            "const c = 30;",
            "const x1 = 1;",
            "const x2 = 20;",
        ];
        let c2 = commit_at(
            &repo,
            &[c1],
            3_000,
            "fix: c and x2",
            "Cy",
            &[("a.ts", &text(&a2)), ("b.ts", "b\n")],
        );
        // Only a comment and indentation change: nothing meaningful is deleted.
        let a3 = [
            "const a = 1;",
            "// a better note",
            "const b = 2;",
            "const c = 30;",
            "    const x1 = 1;",
            "const x2 = 20;",
        ];
        let c3 = commit_at(
            &repo,
            &[c2],
            4_000,
            "fix: wording",
            "Cy",
            &[("a.ts", &text(&a3)), ("b.ts", "b\n")],
        );
        let c4 = commit_at(
            &repo,
            &[c3],
            5_000,
            "feat: more b",
            "Dan",
            &[("a.ts", &text(&a3)), ("b.ts", "b\nmore\n")],
        );
        let revert = format!("Revert \"feat: more b\"\n\nThis reverts commit {c4}.");
        let c5 = commit_at(
            &repo,
            &[c4],
            6_000,
            &revert,
            "Ann",
            &[("a.ts", &text(&a3)), ("b.ts", "b\n")],
        );
        // A "fix" that only changes a test: not a fix.
        let c6 = commit_at(
            &repo,
            &[c5],
            7_000,
            "fix: flaky test",
            "Ann",
            &[("a.ts", &text(&a3)), ("b.ts", "b\n"), ("a.test.ts", "t\n")],
        );
        // A side branch edits the top of a.ts, main edits the bottom, the merge has both.
        let mut side = a3;
        side[0] = "const a = 100;";
        let s1 = commit_at(
            &repo,
            &[c6],
            7_500,
            "tweak a",
            "Eve",
            &[
                ("a.ts", &text(&side)),
                ("b.ts", "b\n"),
                ("a.test.ts", "t\n"),
            ],
        );
        let mut main = a3;
        main[5] = "const x2 = 21;";
        let c7 = commit_at(
            &repo,
            &[c6],
            7_600,
            "tune x2",
            "Bob",
            &[
                ("a.ts", &text(&main)),
                ("b.ts", "b\n"),
                ("a.test.ts", "t\n"),
            ],
        );
        let mut both = main;
        both[0] = "const a = 100;";
        let m = commit_at(
            &repo,
            &[c7, s1],
            8_000,
            "Merge branch 'side'",
            "Ann",
            &[
                ("a.ts", &text(&both)),
                ("b.ts", "b\n"),
                ("a.test.ts", "t\n"),
            ],
        );
        let mut fixed = both;
        fixed[0] = "const a = 101;";
        let f = commit_at(
            &repo,
            &[m],
            9_000,
            "fix: a",
            "Cy",
            &[
                ("a.ts", &text(&fixed)),
                ("b.ts", "b\n"),
                ("a.test.ts", "t\n"),
            ],
        );
        // A bulk "fix" over many files.
        let mut many: Vec<(String, String)> = (0..6)
            .map(|i| (format!("f{i}.ts"), "x\n".to_string()))
            .collect();
        many.push(("a.ts".into(), text(&a0)));
        let many_ref: Vec<(&str, &str)> =
            many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let bulk = commit_at(&repo, &[f], 10_000, "fix: everything", "Ann", &many_ref);

        let matcher = FixMatcher::defaults();
        let churn = Default::default();
        let opts = MineOptions {
            max_commits: 100,
            max_age_days: 3650,
            min_commits: 1,
            follow_renames: true,
            matcher: &matcher,
            churn_for: &churn,
        };
        let mut memo = Commits::default();
        let h = mine(&repo, bulk, &opts, Some(&mut memo)).unwrap();
        fill_facts(&repo, &h.window, &mut memo).unwrap();
        let commits: Vec<(Oid, &CommitRecord)> = h
            .window
            .iter()
            .rev()
            .map(|id| (*id, memo.records.get(id).unwrap()))
            .collect();
        let index = |id: Oid| commits.iter().position(|c| c.0 == id).unwrap();
        let production = |p: &str| p.ends_with(".ts") && !p.ends_with(".test.ts");
        let labels = label(&commits, &matcher, &production, 5);
        let kind = |id: Oid| labels.kinds[index(id)];
        assert!(kind(c2).fix && kind(c3).fix && kind(f).fix);
        assert!(!kind(c6).fix, "test-only");
        assert!(kind(bulk).bulk && !kind(bulk).fix, "bulk");
        assert!(kind(c5).revert && !kind(c5).fix);
        assert!(kind(m).merge);
        let inducing: Vec<(usize, Vec<(usize, bool)>)> = labels
            .inducing
            .iter()
            .map(|(i, v)| (*i, v.iter().map(|b| (b.by, b.revert)).collect()))
            .collect();
        assert_eq!(
            inducing,
            vec![
                (index(c1), vec![(index(c2), false)]),
                (index(c4), vec![(index(c5), true)]),
                (index(s1), vec![(index(f), false)]),
            ],
            "c1 by the fix c2 (most recent of c0 and c1), c4 by its revert, s1 through the merge; the comment and whitespace fix c3 labels nothing"
        );
        assert_eq!(
            (labels.fixes, labels.fixes_traced, labels.reverts),
            (3, 2, 1)
        );
        // Known from the fix's time on.
        assert!(!labels.inducing_at(index(c1), 2_999));
        assert!(labels.inducing_at(index(c1), 3_000));
        assert_eq!(labels.known_at(index(c4)), Some(6_000));
    }

    #[test]
    fn runs_follow_hunks() {
        // Old: 5 lines from commit 0. Replace line 2, add two lines after line 4, delete line 5.
        let old = vec![(0, 5)];
        let hunks = [
            Hunk {
                old_start: 2,
                old_lines: 1,
                new_start: 2,
                new_lines: 1,
                meaningful: vec![0],
            },
            Hunk {
                old_start: 4,
                old_lines: 0,
                new_start: 5,
                new_lines: 2,
                meaningful: vec![],
            },
            Hunk {
                old_start: 5,
                old_lines: 1,
                new_start: 6,
                new_lines: 0,
                meaningful: vec![0],
            },
        ];
        let new = apply(&old, 5, &hunks, 7);
        assert_eq!(expand(&new), vec![0, 7, 0, 0, 7, 7]);
        assert_eq!(origin_at(&new, 1), 7);
        assert_eq!(origin_at(&new, 9), BEFORE);
        // A pure addition at the top.
        let top = [Hunk {
            old_start: 0,
            old_lines: 0,
            new_start: 1,
            new_lines: 1,
            meaningful: vec![],
        }];
        assert_eq!(expand(&apply(&old, 5, &top, 3)), vec![3, 0, 0, 0, 0, 0]);
    }
}
