//! `pr-risk eval regression`: a backtest of the regression model on the repository's own history.
//!
//! 1. Walk back from a revision (default `HEAD`) over at most `--max-commits` commits; merges are
//!    skipped (their changes are the changes of the commits they merge).
//! 2. Oldest first, score every commit with the model using **only the commits before it** in the
//!    walked range (time-decayed fix history, prior developers, the author's experience, the shape
//!    of the commit), then add the commit to that history. The caller term is not used: it needs a
//!    dependency graph per commit. The baseline scores each commit by its source lines added.
//! 3. Label bug-introducing commits SZZ-style: for each fix commit (the `regression.fix-patterns`),
//!    take the source lines it deleted or changed — ignoring whitespace-only changes, blank lines and
//!    comment-only lines — and `git blame` them at the fix's parent; of the blamed commits, the most
//!    recent one is labelled bug-introducing.
//! 4. Drop the youngest commits, whose bugs may not have been found yet (`--maturity`, default
//!    6 months before the revision), and the commits that change no source file.
//! 5. Report ROC AUC (Mann–Whitney, ties counted half) and recall at 20 % of changed lines (commits
//!    taken riskiest first until the next would exceed 20 % of all changed source lines), for the
//!    model and for the baseline, on the same commits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::blame;
use crate::git::history::{self, Authors, CommitInfo, FileStats, FixMatcher, SourceFilter};
use crate::git::{Oid, Repo};
use crate::glob::Pattern;
use crate::score::regression::{self, RegressionSettings, ShapeInput};

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub rev: String,
    pub max_commits: usize,
    /// Commits younger than this (seconds before the revision) are not evaluated.
    pub maturity: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub rev: String,
    pub sha: String,
    /// Commits walked (merges included) and non-merge commits scored.
    pub commits_walked: usize,
    pub merges: usize,
    pub fix_commits: usize,
    /// Commits dropped because they are younger than the maturity period.
    pub immature: usize,
    /// Commits dropped because they change no source file.
    pub no_source: usize,
    /// Commits in the evaluation and how many of them are labelled bug-introducing.
    pub evaluated: usize,
    pub bug_introducing: usize,
    pub maturity_days: i64,
    pub model: Metrics,
    pub baseline: Metrics,
    /// Every bug-introducing commit found (evaluated or not), oldest first.
    pub labels: Vec<Label>,
    /// Every evaluated commit with its scores, oldest first.
    pub commits: Vec<ScoredCommit>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    /// `null` when the evaluation has no bug-introducing or no clean commit.
    pub roc_auc: Option<f64>,
    pub recall_at_20pct_lines: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub sha: String,
    pub subject: String,
    /// The fix commits whose deleted lines blame to it.
    pub fixed_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoredCommit {
    pub sha: String,
    pub subject: String,
    pub lines_added: u32,
    pub lines_deleted: u32,
    /// The model's risk (0–100, unrounded).
    pub score: f64,
    pub bug_introducing: bool,
}

/// One file touched by a commit.
struct Touch {
    path: String,
    /// The path before the commit, when it was renamed.
    from: Option<String>,
    added: u32,
    deleted: u32,
    source: bool,
}

/// A deleted line that says something: not blank, not only a comment.
fn meaningful(line: &str, path: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    let hash_comments = [
        ".py", ".sh", ".bash", ".rb", ".yml", ".yaml", ".toml", ".pl", ".r",
    ]
    .iter()
    .any(|e| path.ends_with(e));
    if hash_comments {
        return !t.starts_with('#');
    }
    !(t.starts_with("//")
        || t.starts_with("/*")
        || t.starts_with("*/")
        || t == "*"
        || t.starts_with("* "))
}

struct Walked {
    info: CommitInfo,
    parent: Option<Oid>,
    touches: Vec<Touch>,
    merge: bool,
}

/// Progress of a long pass: (what, done, total).
pub type Tick<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

pub fn run(
    repo: &Repo,
    rc: &RegressionSettings,
    exclude: &[Pattern],
    opts: &EvalOptions,
    tick: Tick,
) -> Result<EvalReport> {
    let matcher = FixMatcher::new(&rc.fix_patterns, &rc.revert_patterns)?;
    let filter = rc.source_filter(exclude);
    let (tip, oids) = blame::walk(repo, &opts.rev, opts.max_commits)?;
    let total = oids.len();

    // Pass 1: read every commit's diff (line counts need blob content here).
    let mut authors = Authors::default();
    let mut walked: Vec<Walked> = Vec::with_capacity(total);
    for (i, oid) in oids.iter().enumerate() {
        tick("reading commits", i + 1, total);
        let c = blame::commit_diff(repo, *oid, rc.follow_renames)?;
        let (fix, revert) = matcher.classify(&c.message);
        let info = CommitInfo {
            id: *oid,
            subject: history::subject(&c.message),
            author: authors.intern_identity(&c.author),
            time: c.time,
            fix,
            revert,
        };
        let touches = c
            .touched
            .into_iter()
            .map(|t| Touch {
                source: !t.binary && filter.is_source(&t.path),
                from: t.from,
                path: t.path,
                added: t.added,
                deleted: t.deleted,
            })
            .collect();
        walked.push(Walked {
            info,
            parent: c.parent,
            touches,
            merge: c.merge,
        });
    }

    // Pass 2: score each commit with the history before it, then add it to that history.
    let first_time = walked.iter().map(|w| w.info.time).min().unwrap_or(0);
    let max_age = i64::from(rc.max_age_days) * 86_400;
    let mut files: HashMap<String, FileStats> = HashMap::new();
    let mut commits: Vec<CommitInfo> = Vec::with_capacity(total);
    let mut scores: Vec<(f64, u32, u32)> = Vec::with_capacity(total);
    for (i, w) in walked.iter().enumerate() {
        tick("scoring commits", i + 1, total);
        if w.merge {
            scores.push((0.0, 0, 0));
            continue;
        }
        let now = w.info.time;
        let start = first_time.max(now - max_age);
        let src: Vec<&Touch> = w.touches.iter().filter(|t| t.source).collect();
        let prior = |t: &Touch| files.get(t.from.as_deref().unwrap_or(&t.path));
        let mut devs = HashSet::new();
        let mut experience = 0;
        let mut risks = Vec::new();
        for t in &src {
            if let Some(s) = prior(t) {
                devs.extend(s.authors.iter().map(|(a, _)| *a));
                experience += s.commits_by(w.info.author);
                risks.push(regression::file_risk(regression::propensity(
                    s, &commits, start, now,
                )));
            }
        }
        let (directories, subsystems, entropy) = regression::spread(
            src.iter()
                .map(|t| (t.path.as_str(), u64::from(t.added) + u64::from(t.deleted))),
        );
        let la: u32 = src.iter().map(|t| t.added).sum();
        let ld: u32 = src.iter().map(|t| t.deleted).sum();
        let shape = ShapeInput {
            lines_added: la,
            files: src.len(),
            directories,
            subsystems,
            entropy,
            prior_developers: devs.len(),
            author_experience: experience,
        };
        let f = regression::model(&shape, risks, [], rc.lines_saturation, 0.0);
        scores.push((100.0 * f.risk, la, ld));
        let index = commits.len() as u32;
        for t in &w.touches {
            let mut stats = t
                .from
                .as_ref()
                .and_then(|from| files.remove(from))
                .unwrap_or_else(|| files.remove(&t.path).unwrap_or_default());
            stats.record(index, &w.info);
            stats.added += u64::from(t.added);
            stats.deleted += u64::from(t.deleted);
            files.insert(t.path.clone(), stats);
        }
        commits.push(w.info.clone());
    }

    // Pass 3: SZZ labels.
    let index_of: HashMap<Oid, usize> = walked
        .iter()
        .enumerate()
        .map(|(i, w)| (w.info.id, i))
        .collect();
    let oldest = walked.first().map(|w| (w.info.id, w.parent.is_some()));
    let mut fixed_by: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let fixes: Vec<usize> = (0..walked.len())
        .filter(|i| walked[*i].info.fix && !walked[*i].merge && walked[*i].parent.is_some())
        .collect();
    // Blame in parallel: one repository handle per worker (a handle is not shared across threads).
    let git_dir = repo.git_dir().to_path_buf();
    let done = AtomicUsize::new(0);
    let blamed: Vec<Result<(usize, Option<usize>)>> = fixes
        .par_iter()
        .map_init(
            || Repo::open(&git_dir),
            |r, &i| {
                let r = r.as_ref().map_err(|e| {
                    Error::Internal(format!("opening the repository for blame: {e}"))
                })?;
                let best = blame_fix(r, &walked, &index_of, i, oldest, &filter, rc.follow_renames)?;
                tick(
                    "blaming fix commits",
                    done.fetch_add(1, Ordering::Relaxed) + 1,
                    fixes.len(),
                );
                Ok((i, best))
            },
        )
        .collect();
    for res in blamed {
        if let (i, Some(b)) = res? {
            fixed_by.entry(b).or_default().push(walked[i].info.short());
        }
    }

    // Evaluate.
    let newest = walked.iter().map(|w| w.info.time).max().unwrap_or(0);
    let cutoff = newest - opts.maturity;
    let (mut immature, mut no_source, mut merges) = (0, 0, 0);
    let mut rows = Vec::new();
    for (i, w) in walked.iter().enumerate() {
        if w.merge {
            merges += 1;
            continue;
        }
        if w.info.time > cutoff {
            immature += 1;
            continue;
        }
        if !w.touches.iter().any(|t| t.source) {
            no_source += 1;
            continue;
        }
        let (score, la, ld) = scores[i];
        rows.push(ScoredCommit {
            sha: w.info.short(),
            subject: w.info.subject.clone(),
            lines_added: la,
            lines_deleted: ld,
            score: (score * 1000.0).round() / 1000.0,
            bug_introducing: fixed_by.contains_key(&i),
        });
    }
    let labels_of: Vec<bool> = rows.iter().map(|r| r.bug_introducing).collect();
    let lines: Vec<u64> = rows
        .iter()
        .map(|r| u64::from(r.lines_added) + u64::from(r.lines_deleted))
        .collect();
    let model_scores: Vec<f64> = rows.iter().map(|r| r.score).collect();
    let base_scores: Vec<f64> = rows.iter().map(|r| f64::from(r.lines_added)).collect();
    let metrics = |s: &[f64]| Metrics {
        roc_auc: roc_auc(s, &labels_of).map(round4),
        recall_at_20pct_lines: recall_at_effort(s, &labels_of, &lines, 0.2).map(round4),
    };
    let bug_introducing = labels_of.iter().filter(|b| **b).count();
    let mut notes = vec![
        "the caller term of the model is not used here (it needs a dependency graph per commit)"
            .to_string(),
    ];
    if fixes.is_empty() {
        notes.push("no fix commit matched regression.fix-patterns, so nothing is labelled bug-introducing; check the patterns against your commit messages".to_string());
    }
    if total >= opts.max_commits {
        notes.push(format!(
            "only the last {} commits were walked (--max-commits)",
            opts.max_commits
        ));
    }
    Ok(EvalReport {
        rev: opts.rev.clone(),
        sha: tip.to_string(),
        commits_walked: total,
        merges,
        fix_commits: fixes.len(),
        immature,
        no_source,
        evaluated: rows.len(),
        bug_introducing,
        maturity_days: opts.maturity / 86_400,
        model: metrics(&model_scores),
        baseline: metrics(&base_scores),
        labels: fixed_by
            .iter()
            .map(|(i, by)| Label {
                sha: walked[*i].info.short(),
                subject: walked[*i].info.subject.clone(),
                fixed_by: by.clone(),
            })
            .collect(),
        commits: rows,
        notes,
    })
}

/// The most recent earlier commit that the fix at `i` blames (SZZ), if any.
fn blame_fix(
    repo: &Repo,
    walked: &[Walked],
    index_of: &HashMap<Oid, usize>,
    i: usize,
    oldest: Option<(Oid, bool)>,
    filter: &SourceFilter,
    renames: bool,
) -> Result<Option<usize>> {
    let w = &walked[i];
    let Some(parent) = w.parent else {
        return Ok(None);
    };
    let targets = blame::deleted_lines(
        repo,
        w.info.id,
        renames,
        &|p| filter.is_source(p),
        &meaningful,
    )?;
    let mut best: Option<usize> = None;
    let stop = oldest.filter(|o| o.1).map(|o| o.0);
    for (path, lines) in targets {
        let Some(blamed) = blame::blame(repo, &path, parent, stop, &lines) else {
            continue;
        };
        for (commit, boundary) in blamed {
            if boundary && oldest.is_some_and(|o| o.1) {
                continue;
            }
            if let Some(&j) = index_of.get(&commit) {
                if j < i && best.is_none_or(|b| (walked[j].info.time, j) > (walked[b].info.time, b))
                {
                    best = Some(j);
                }
            }
        }
    }
    Ok(best)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// ROC AUC by Mann–Whitney: the chance a random positive scores above a random negative (ties ½).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let pos = labels.iter().filter(|l| **l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // Average ranks over ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            if labels[*k] {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let u = rank_sum - (pos * (pos + 1)) as f64 / 2.0;
    Some(u / (pos as f64 * neg as f64))
}

/// Share of positives found when taking commits riskiest first (ties: older first) until the next
/// one would exceed `share` of all changed lines.
pub fn recall_at_effort(scores: &[f64], labels: &[bool], lines: &[u64], share: f64) -> Option<f64> {
    let pos = labels.iter().filter(|l| **l).count();
    if pos == 0 {
        return None;
    }
    let total: u64 = lines.iter().sum();
    let budget = share * total as f64;
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    let (mut spent, mut found) = (0u64, 0usize);
    for i in idx {
        if (spent + lines[i]) as f64 > budget {
            break;
        }
        spent += lines[i];
        if labels[i] {
            found += 1;
        }
    }
    Some(found as f64 / pos as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_with_ties() {
        assert_eq!(
            roc_auc(&[1.0, 2.0, 3.0, 4.0], &[false, false, true, true]),
            Some(1.0)
        );
        assert_eq!(roc_auc(&[1.0, 1.0], &[false, true]), Some(0.5));
        assert_eq!(
            roc_auc(&[1.0, 2.0, 3.0, 4.0], &[false, true, false, true]),
            Some(0.75)
        );
        assert_eq!(roc_auc(&[1.0], &[true]), None);
    }

    #[test]
    fn recall_under_budget() {
        // Total 100 lines, budget 20: takes the 10-line commit (score 9) and the 10-line one
        // (score 8), then stops before the 80-line one.
        let r = recall_at_effort(&[9.0, 8.0, 7.0], &[true, false, true], &[10, 10, 80], 0.2);
        assert_eq!(r, Some(0.5));
    }

    #[test]
    fn meaningful_lines() {
        assert!(!meaningful("   ", "a.ts"));
        assert!(!meaningful("  // note", "a.ts"));
        assert!(meaningful("#[derive(Debug)]", "a.rs"));
        assert!(!meaningful("# note", "a.py"));
        assert!(meaningful("let x = 1;", "a.rs"));
    }
}
