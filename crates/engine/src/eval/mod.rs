//! `pr-risk eval regression`: a time-respecting backtest of the regression model on the
//! repository's own history, and the offline training of the prior model (`--train-prior`).
//!
//! 1. Mine up to `--max-commits` commits back from a revision (the same walk `pr-risk score`
//!    uses), read every commit's line facts (cached by commit id), label the window (fixes,
//!    reverts, SZZ bug-inducing commits) and compute every commit's features against the history
//!    before it — exactly what `pr-risk score` does at its merge-base.
//! 2. Keep the commits that change source and whose labels are mature at the revision
//!    (`--maturity`), in history order, and cut them into `--folds` + 1 equal blocks. For each
//!    block after the first, train at the block's first commit — on the commits at least
//!    `regression.maturity-days` older, labelled with the fixes and reverts known by then — and
//!    predict the block. Blocks whose training set is too small are left out (said in a note).
//! 3. Score the predictions against the labels known at the revision: ROC AUC, Brier score, and
//!    the share of bug-inducing commits caught when the riskiest 5 / 10 / 20 % are flagged, for
//!    the model, for lines added alone (ranked by the count; its Brier from a one-feature model
//!    trained the same way) and for random
//!    (seeded; its Brier is that of predicting the training base rate). The prior model shipped
//!    with pr-risk is scored on the same commits for comparison, and the reliability of the
//!    model's probabilities is tabulated.

pub mod gate;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cache::HistoryCache;
use crate::error::Result;
use crate::git::history::{self, CommitMemo, CommitRecord, Commits, MineOptions};
use crate::git::{revisions, Oid, Repo};
use crate::parse::FileSettings;
use crate::pipeline;
use crate::score::regression::features::{Context, GraphReach};
use crate::score::regression::model::{self, Model, PriorFile, Trained};
use crate::score::regression::{self, Dataset, RegressionSettings, Sample};

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub rev: String,
    pub max_commits: usize,
    /// Commits younger than this (seconds before the revision) are not evaluated.
    pub maturity: i64,
    /// Time-ordered folds predicted (each trained on what precedes it).
    pub folds: usize,
    /// Where the history cache is kept and its key (`None`: no cache).
    pub caches: Option<crate::cache::Location>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    /// `null` when the evaluation has no bug-inducing or no clean commit.
    pub roc_auc: Option<f64>,
    pub brier: Option<f64>,
    /// Share of bug-inducing commits among the riskiest 5 / 10 / 20 % of commits.
    pub catch_5: Option<f64>,
    pub catch_10: Option<f64>,
    pub catch_20: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    /// Predicted probabilities in `[from, to)`.
    pub from: f64,
    pub to: f64,
    pub commits: usize,
    pub mean_predicted: f64,
    pub observed: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub rev: String,
    pub sha: String,
    /// Commits walked (merges included).
    pub commits_walked: usize,
    pub merges: usize,
    pub fix_commits: usize,
    pub reverts: usize,
    /// Bug-inducing commits found in the whole walk.
    pub bug_inducing_found: usize,
    /// Commits dropped because they are younger than the maturity period.
    pub immature: usize,
    /// Commits that change no source file (or are bulk).
    pub no_source: usize,
    /// Commits predicted (in the folds used) and how many are bug-inducing.
    pub evaluated: usize,
    pub bug_introducing: usize,
    pub maturity_days: i64,
    pub folds: usize,
    pub folds_used: usize,
    pub model: Metrics,
    pub lines_added: Metrics,
    pub random: Metrics,
    /// The prior model shipped with pr-risk, on the same commits.
    pub prior: Metrics,
    pub reliability: Vec<Bin>,
    /// The model `pr-risk score` would train at the revision.
    pub final_model: Option<Model>,
    /// Every bug-inducing commit found, oldest first.
    pub labels: Vec<Label>,
    /// Every commit that changes source and is mature at the revision, oldest first; fold 0 (and
    /// no probabilities) for those not predicted: the first block, and folds left out.
    pub commits: Vec<ScoredCommit>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub sha: String,
    pub subject: String,
    /// The fixes (and reverts) that say so.
    pub fixed_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoredCommit {
    pub sha: String,
    /// Committer time (Unix seconds), and when a fix or revert first said it is bug-inducing.
    pub time: i64,
    pub bug_known_at: Option<i64>,
    pub subject: String,
    pub lines_added: u32,
    pub lines_deleted: u32,
    pub fold: usize,
    /// The model's probability, and the lines-added model's.
    pub probability: Option<f64>,
    pub lines_added_probability: Option<f64>,
    pub bug_introducing: bool,
    /// The raw values behind its features.
    pub features: crate::score::regression::features::Raw,
}

/// Wall time of each phase (for `--timings`).
#[derive(Debug, Clone, Default)]
pub struct EvalTimings {
    pub phases: Vec<(&'static str, Duration)>,
}

/// A predicted commit: fold, sample, model, lines-added model and prior probabilities, and the
/// training base rate.
type Row<'a> = (usize, &'a Sample, f64, f64, f64, f64);

/// Progress of a long pass: (what, done, total).
pub type Tick<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// A mined, labelled history with every commit's features.
pub struct Prepared {
    pub tip: Oid,
    pub tip_time: i64,
    pub records: Vec<(Oid, CommitRecord)>,
    pub merges: usize,
    pub dataset: Dataset,
}

/// Mine, read the line facts of, label and featurise the history that ends at `rev`.
pub fn prepare(
    repo: &Repo,
    rc: &RegressionSettings,
    files: &FileSettings,
    rev: &str,
    max_commits: usize,
    caches: Option<&crate::cache::Location>,
    timings: &mut EvalTimings,
) -> Result<Prepared> {
    let matcher = rc.matcher()?;
    let filter = rc.source_filter(&files.exclude);
    let tests = files.test_globs();
    let ctx = Context {
        filter: &filter,
        tests: &tests,
        follow_renames: rc.follow_renames,
    };
    let tip = revisions::commit_of(repo, rev, "revision")?;
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, t: &mut EvalTimings| {
        t.phases.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let mut cache = caches.map(|l| HistoryCache::open(&l.dir, &l.key));
    let mut scratch = Commits::default();
    let memo: &mut dyn CommitMemo = match cache.as_mut() {
        Some(c) => c,
        None => &mut scratch,
    };
    let no_churn = Default::default();
    let opts = MineOptions {
        max_commits,
        max_age_days: u32::MAX / 86_400 / 2,
        min_commits: 1,
        follow_renames: rc.follow_renames,
        matcher: &matcher,
        churn_for: &no_churn,
    };
    let mined = history::mine(repo, tip, &opts, Some(&mut *memo))?;
    lap("walk and compare trees", timings);
    history::fill_facts(repo, &mined.window, &mut *memo)?;
    lap("line facts", timings);
    let side = pipeline::side_at(repo, &tip.to_string(), files)?;
    lap("graph at the revision", timings);
    let records: Vec<(Oid, CommitRecord)> = mined
        .window
        .iter()
        .rev()
        .filter_map(|id| memo.get(*id).map(|r| (*id, r.clone())))
        .collect();
    if let Some(c) = cache.as_mut() {
        c.save();
    }
    let commits: Vec<(Oid, &CommitRecord)> = records.iter().map(|(id, r)| (*id, r)).collect();
    let graph = GraphReach::new(&side.graph, &tests);
    let dataset = regression::dataset(&commits, &matcher, &ctx, &graph, rc.bulk_files);
    lap("labels and features", timings);
    Ok(Prepared {
        tip,
        tip_time: mined.base_time,
        merges: mined.merges,
        records,
        dataset,
    })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A deterministic generator for the random baseline.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn run(
    repo: &Repo,
    rc: &RegressionSettings,
    files: &FileSettings,
    opts: &EvalOptions,
    timings: &mut EvalTimings,
) -> Result<EvalReport> {
    let p = prepare(
        repo,
        rc,
        files,
        &opts.rev,
        opts.max_commits,
        opts.caches.as_ref(),
        timings,
    )?;
    let started = Instant::now();
    let ds = &p.dataset;
    let cutoff_eval = p.tip_time - opts.maturity;
    let non_merge = p.records.len() - p.merges;
    let immature = ds.samples.iter().filter(|s| s.time > cutoff_eval).count();
    let eligible: Vec<&Sample> = ds
        .samples
        .iter()
        .filter(|s| s.time <= cutoff_eval)
        .collect();
    let folds = opts.folds.max(1);
    let block = eligible.len().div_ceil(folds + 1).max(1);
    let prior = model::prior();
    let maturity = i64::from(rc.maturity_days) * 86_400;
    let mut rows: Vec<Row> = Vec::new();
    let mut skipped = Vec::new();
    let mut used = 0;
    let mut unpredicted: Vec<&Sample> = eligible.iter().take(block).copied().collect();
    for k in 1..=folds {
        let chunk: Vec<&Sample> = eligible
            .iter()
            .skip(k * block)
            .take(block)
            .copied()
            .collect();
        let Some(first) = chunk.first() else {
            continue;
        };
        let cutoff = first.time - 1;
        let (m, base) = match (
            regression::fit(ds, cutoff, rc, &rc.feature_names()),
            regression::fit(ds, cutoff, rc, &["lines_added"]),
        ) {
            (Ok(m), Ok(b)) => (m, b),
            (Err(why), _) | (_, Err(why)) => {
                skipped.push(format!("fold {k}: {why}"));
                unpredicted.extend(chunk);
                continue;
            }
        };
        used += 1;
        let (train_rows, train_labels) = regression::training_set(ds, cutoff, maturity);
        let rate =
            train_labels.iter().filter(|b| **b).count() as f64 / train_rows.len().max(1) as f64;
        for s in chunk {
            rows.push((
                k,
                s,
                m.probability(&s.x),
                base.probability(&s.x),
                prior.full.probability(&s.x),
                rate,
            ));
        }
    }
    let labels: Vec<bool> = rows
        .iter()
        .map(|r| ds.labels.inducing.contains_key(&r.1.index))
        .collect();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let random: Vec<f64> = rows.iter().map(|_| rng.next()).collect();
    let col = |f: &dyn Fn(&Row) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
    let model_p = col(&|r| r.2);
    let base_p = col(&|r| r.3);
    let prior_p = col(&|r| r.4);
    let rate_p = col(&|r| r.5);
    let lines = col(&|r| f64::from(r.1.raw.lines_added));
    let metrics = |scores: &[f64], probs: &[f64]| Metrics {
        roc_auc: roc_auc(scores, &labels).map(round4),
        brier: brier(probs, &labels).map(round4),
        catch_5: catch_at(scores, &labels, 0.05).map(round4),
        catch_10: catch_at(scores, &labels, 0.10).map(round4),
        catch_20: catch_at(scores, &labels, 0.20).map(round4),
    };
    let final_model = regression::fit(ds, p.tip_time, rc, &rc.feature_names()).ok();
    timings.phases.push(("folds", started.elapsed()));
    let short = |id: &Oid| id.to_string()[..7].to_string();
    let subject = |i: usize| history::subject(&p.records[i].1.message);
    let mut notes = Vec::new();
    if ds.labels.fixes == 0 {
        notes.push("no fix commit was found (see regression.fix-types and regression.fix-patterns), so only reverts label commits bug-inducing".to_string());
    }
    for s in &skipped {
        notes.push(format!("left out {s}"));
    }
    if p.records.len() >= opts.max_commits {
        notes.push(format!(
            "only the last {} commits were walked (--max-commits)",
            opts.max_commits
        ));
    }
    Ok(EvalReport {
        rev: opts.rev.clone(),
        sha: p.tip.to_string(),
        commits_walked: p.records.len(),
        merges: p.merges,
        fix_commits: ds.labels.fixes,
        reverts: ds.labels.reverts,
        bug_inducing_found: ds.labels.inducing.len(),
        immature,
        no_source: non_merge - ds.samples.len(),
        evaluated: rows.len(),
        bug_introducing: labels.iter().filter(|b| **b).count(),
        maturity_days: opts.maturity / 86_400,
        folds,
        folds_used: used,
        model: metrics(&model_p, &model_p),
        // Lines added ranks by the count itself (no training can improve on its own order);
        // its Brier score is that of the one-feature model trained like the full one.
        lines_added: metrics(&lines, &base_p),
        random: metrics(&random, &rate_p),
        prior: metrics(&prior_p, &prior_p),
        reliability: reliability(&model_p, &labels),
        final_model,
        labels: ds
            .labels
            .inducing
            .iter()
            .map(|(i, by)| Label {
                sha: short(&p.records[*i].0),
                subject: subject(*i),
                fixed_by: by.iter().map(|b| short(&p.records[b.by].0)).collect(),
            })
            .collect(),
        commits: {
            let scored = |s: &Sample, fold: usize, p: Option<(f64, f64)>| ScoredCommit {
                sha: short(&s.id),
                time: s.time,
                bug_known_at: ds.labels.known_at(s.index),
                subject: subject(s.index),
                lines_added: s.raw.lines_added,
                lines_deleted: s.raw.lines_deleted,
                fold,
                probability: p.map(|p| round4(p.0)),
                lines_added_probability: p.map(|p| round4(p.1)),
                bug_introducing: ds.labels.inducing.contains_key(&s.index),
                features: s.raw.clone(),
            };
            let mut all: Vec<(usize, ScoredCommit)> = rows
                .iter()
                .map(|r| (r.1.index, scored(r.1, r.0, Some((r.2, r.3)))))
                .chain(unpredicted.iter().map(|s| (s.index, scored(s, 0, None))))
                .collect();
            all.sort_by_key(|(i, _)| *i);
            all.into_iter().map(|(_, c)| c).collect()
        },
        notes,
    })
}

/// Train the prior models on several repositories (`(name, repository)`), each at its tip on
/// the commits whose labels are mature there, every repository weighing the same in total.
pub fn train_prior(
    repos: &[(String, Repo)],
    rc: &RegressionSettings,
    files: &FileSettings,
    max_commits: usize,
    command: &str,
    tick: Tick,
) -> Result<PriorFile> {
    let maturity = i64::from(rc.maturity_days) * 86_400;
    let mut x: Vec<Vec<f64>> = Vec::new();
    let mut y: Vec<bool> = Vec::new();
    let mut w: Vec<f64> = Vec::new();
    let mut names = Vec::new();
    let (mut from, mut to) = (String::new(), String::new());
    for (i, (name, repo)) in repos.iter().enumerate() {
        tick("preparing", i + 1, repos.len());
        let mut t = EvalTimings::default();
        let p = prepare(repo, rc, files, "HEAD", max_commits, None, &mut t)?;
        let (rows, labels) = regression::training_set(&p.dataset, p.tip_time, maturity);
        if rows.is_empty() {
            continue;
        }
        let weight = 1.0 / rows.len() as f64;
        for (r, l) in rows.iter().zip(&labels) {
            x.push(r.x.clone());
            y.push(*l);
            w.push(weight);
        }
        let (a, b) = (
            history::date(rows[0].time),
            history::date(rows[rows.len() - 1].time),
        );
        if from.is_empty() || a < from {
            from = a;
        }
        if b > to {
            to = b;
        }
        names.push(name.clone());
    }
    // Weights sum to the number of repositories' mean size, so the penalty means what it does
    // for one repository.
    let scale = x.len() as f64 / names.len().max(1) as f64;
    w.iter_mut().for_each(|v| *v *= scale);
    let trained = Trained {
        commits: x.len(),
        bug_inducing: y.iter().filter(|b| **b).count(),
        from,
        to,
        repositories: names,
    };
    let mut full = model::train(&rc.feature_names(), &x, &y, Some(&w), rc.l2);
    full.trained = trained.clone();
    let mut change_only = model::train(&rc.change_only_names(), &x, &y, Some(&w), rc.l2);
    change_only.trained = trained;
    Ok(PriorFile {
        command: command.to_string(),
        full,
        change_only,
    })
}

/// The labels a report lists, by window index (for tests).
pub fn labelled(p: &Prepared) -> BTreeMap<String, Vec<String>> {
    p.dataset
        .labels
        .inducing
        .iter()
        .map(|(i, by)| {
            (
                p.records[*i].0.to_string(),
                by.iter().map(|b| p.records[b.by].0.to_string()).collect(),
            )
        })
        .collect()
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

/// Mean squared error of probabilities.
pub fn brier(probs: &[f64], labels: &[bool]) -> Option<f64> {
    if probs.is_empty() {
        return None;
    }
    let s: f64 = probs
        .iter()
        .zip(labels)
        .map(|(p, l)| (p - f64::from(u8::from(*l))).powi(2))
        .sum();
    Some(s / probs.len() as f64)
}

/// Share of positives among the riskiest `share` of commits (ceil; ties: earlier first).
pub fn catch_at(scores: &[f64], labels: &[bool], share: f64) -> Option<f64> {
    let pos = labels.iter().filter(|l| **l).count();
    if pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    let take = ((share * scores.len() as f64).ceil() as usize).min(scores.len());
    let found = idx[..take].iter().filter(|i| labels[**i]).count();
    Some(found as f64 / pos as f64)
}

/// Ten equal-width bins of predicted probability: mean predicted vs observed rate.
pub fn reliability(probs: &[f64], labels: &[bool]) -> Vec<Bin> {
    let mut out = Vec::new();
    for b in 0..10 {
        let (from, to) = (b as f64 / 10.0, (b + 1) as f64 / 10.0);
        let inside: Vec<usize> = (0..probs.len())
            .filter(|i| probs[*i] >= from && (probs[*i] < to || (b == 9 && probs[*i] <= 1.0)))
            .collect();
        if inside.is_empty() {
            continue;
        }
        let n = inside.len() as f64;
        out.push(Bin {
            from,
            to,
            commits: inside.len(),
            mean_predicted: round4(inside.iter().map(|i| probs[*i]).sum::<f64>() / n),
            observed: round4(inside.iter().filter(|i| labels[**i]).count() as f64 / n),
        });
    }
    out
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
    fn catch_and_brier() {
        let scores = [0.9, 0.8, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.05];
        let labels = [
            true, false, true, false, false, false, false, false, false, false,
        ];
        // The riskiest 10 % is one commit (0.9, bug-inducing): half the positives.
        assert_eq!(catch_at(&scores, &labels, 0.10), Some(0.5));
        assert_eq!(catch_at(&scores, &labels, 0.05), Some(0.5));
        assert_eq!(catch_at(&scores, &labels, 0.20), Some(0.5));
        assert_eq!(catch_at(&scores, &[false; 10], 0.2), None);
        assert_eq!(brier(&[1.0, 0.0], &[true, false]), Some(0.0));
        assert_eq!(brier(&[0.5, 0.5], &[true, false]), Some(0.25));
        let bins = reliability(&[0.05, 0.07, 0.95], &[false, true, true]);
        assert_eq!(bins.len(), 2);
        assert_eq!(bins[0].commits, 2);
        assert_eq!(bins[0].observed, 0.5);
        assert_eq!(bins[1].observed, 1.0);
    }
}
