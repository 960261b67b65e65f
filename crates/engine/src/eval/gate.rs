//! `pr-risk eval gate`: how the gate would have treated the repository's own history.
//!
//! 1. Mine and label the history that ends at a revision exactly as `pr-risk eval regression`
//!    does ([`super::prepare`]: the same walk, history cache and SZZ labels).
//! 2. Take the last `--commits` non-merge commits (older than `--maturity`) and score each
//!    against its first parent with the whole pipeline — the caller's `score` runs it, with the
//!    settings read from the base commit as `pr-risk score` in the Action does.
//! 3. Tabulate, for clean and bug-inducing commits: the share the gate blocks at the configured
//!    threshold, the lift (how many times more often a bug-inducing commit is blocked), the ROC
//!    AUC of the composite and of each dimension against that of lines added, the distribution
//!    of composite scores, and every threshold's block rates (so the lowest threshold that blocks
//!    at most [`TARGET_CLEAN_RATE`] of clean commits can be read off).

use serde::Serialize;

use super::{roc_auc, round4, EvalTimings, Tick};
use crate::error::{Error, Result};
use crate::git::history;
use crate::git::{Oid, Repo};
use crate::parse::FileSettings;
use crate::report::gate::GateCode;
use crate::report::Report;
use crate::score::regression::RegressionSettings;

/// The calibration target: at most this share of clean commits blocked.
pub const TARGET_CLEAN_RATE: f64 = 0.03;
/// The calibration target: bug-inducing commits blocked at least this many times as often.
pub const TARGET_LIFT: f64 = 3.0;

#[derive(Debug, Clone)]
pub struct GateOptions {
    pub rev: String,
    /// Score this many non-merge commits (the most recent ones older than `maturity`).
    pub commits: usize,
    /// Walk at most this many commits back from `rev` for the labels.
    pub max_commits: usize,
    /// Commits younger than this (seconds before the revision) are not scored.
    pub maturity: i64,
    pub caches: Option<crate::cache::Location>,
}

/// Scores of the four dimensions (`None`: unavailable).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct DimensionScores {
    pub impact: Option<u8>,
    pub regression: Option<u8>,
    pub security: Option<u8>,
    pub coupling: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateCommit {
    pub sha: String,
    pub subject: String,
    pub bug_inducing: bool,
    pub lines_added: u32,
    /// `None` when no dimension could be computed.
    pub composite: Option<u8>,
    pub dimensions: DimensionScores,
    /// The threshold the gate applied (per-path thresholds and critical paths included).
    pub threshold: u8,
    /// The gate's rules say block (whatever the mode).
    pub blocked: bool,
    /// Blocked whatever the threshold (a new critical security finding, or a regression risk
    /// above `history-percentile` of the repository's recent commits).
    pub blocked_regardless: bool,
    /// The share (%) of the repository's recent commits with a lower regression probability
    /// (`null` when the history was too short to say).
    pub regression_higher_than: Option<f64>,
    /// Blocked whatever the thresholds: a new critical security finding.
    pub critical: bool,
}

/// Block rates with `history-percentile` set to `history_percentile` (the composite at each
/// commit's own threshold, and critical findings, as configured).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PercentileRates {
    pub history_percentile: u8,
    #[serde(flatten)]
    pub rates: Rates,
}

/// The `history-percentile` values the sweep reports (100: the rule off).
pub const PERCENTILES: [u8; 8] = [90, 93, 95, 96, 97, 98, 99, 100];

/// Block rates at one threshold (a composite above it blocks).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rates {
    pub threshold: u8,
    pub blocked_clean: usize,
    pub blocked_bug_inducing: usize,
    /// Shares of clean and of bug-inducing commits blocked (`null` when there are none).
    pub clean_rate: Option<f64>,
    pub bug_inducing_rate: Option<f64>,
    /// `bug_inducing_rate / clean_rate` (`null` when either is 0 or unknown).
    pub lift: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct DimensionAuc {
    pub impact: Option<f64>,
    pub regression: Option<f64>,
    pub security: Option<f64>,
    pub coupling: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub p50: Option<u8>,
    pub p90: Option<u8>,
    pub p99: Option<u8>,
    pub max: Option<u8>,
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateEvalReport {
    pub rev: String,
    pub sha: String,
    /// Commits walked for the labels (merges included).
    pub commits_walked: usize,
    pub fix_commits: usize,
    pub reverts: usize,
    /// Commits scored, and how many of them are bug-inducing / clean.
    pub scored: usize,
    pub bug_inducing: usize,
    pub clean: usize,
    /// Commits the pipeline could not score (each named in a note).
    pub failed: usize,
    /// The threshold of the most recent commit's settings (a composite above it blocks).
    pub threshold: u8,
    /// What the gate did with the settings as configured (per-path thresholds, critical paths
    /// and `fail-on-critical-security` included).
    pub configured: Rates,
    pub composite_auc: Option<f64>,
    pub lines_added_auc: Option<f64>,
    pub dimension_auc: DimensionAuc,
    pub distribution: Distribution,
    /// The targets: at most `target_clean_rate` of clean commits blocked, bug-inducing ones
    /// `target_lift` times as often.
    pub target_clean_rate: f64,
    pub target_lift: f64,
    /// The lowest uniform threshold that blocks at most `target_clean_rate` of clean commits
    /// (every higher one does too), and the rates there.
    pub lowest_meeting_target: Option<Rates>,
    /// Every uniform threshold 0–100 (a composite above it, or a critical finding, blocks).
    pub thresholds: Vec<Rates>,
    /// `history-percentile` at each of [`PERCENTILES`], the rest as configured.
    pub history_percentiles: Vec<PercentileRates>,
    /// Every scored commit, oldest first.
    pub commits: Vec<GateCommit>,
    pub notes: Vec<String>,
}

/// Score one commit against its first parent: `(parent, commit)` → the report.
pub type ScoreFn<'a> = &'a mut dyn FnMut(Oid, Oid) -> Result<Report>;

/// Pick, score and tabulate (see the module documentation).
pub fn run(
    repo: &Repo,
    rc: &RegressionSettings,
    files: &FileSettings,
    opts: &GateOptions,
    score: ScoreFn,
    tick: Tick,
    timings: &mut EvalTimings,
) -> Result<GateEvalReport> {
    if opts.commits < 2 {
        return Err(Error::Usage(format!(
            "--commits {}: score at least 2 commits",
            opts.commits
        )));
    }
    let p = super::prepare(
        repo,
        rc,
        files,
        &opts.rev,
        opts.max_commits.max(opts.commits),
        opts.caches.as_ref(),
        timings,
    )?;
    let started = std::time::Instant::now();
    let labels = &p.dataset.labels;
    let cutoff = p.tip_time - opts.maturity;
    // Newest first: the last `commits` non-merge commits with a parent, old enough.
    let mut picked: Vec<usize> = (0..p.records.len())
        .rev()
        .filter(|i| {
            let r = &p.records[*i].1;
            r.parents.len() == 1 && r.time <= cutoff
        })
        .take(opts.commits)
        .collect();
    picked.reverse();
    if picked.len() < 2 {
        return Err(Error::Usage(format!(
            "only {} non-merge commit{} with a parent{} in the history of {}: too few to evaluate the gate (need at least 2)",
            picked.len(),
            if picked.len() == 1 { "" } else { "s" },
            if opts.maturity > 0 {
                format!(" older than {} days", opts.maturity / 86_400)
            } else {
                String::new()
            },
            opts.rev
        )));
    }
    let mut commits = Vec::new();
    let mut notes = Vec::new();
    let mut failed = 0;
    for (n, i) in picked.iter().enumerate() {
        tick("scoring", n + 1, picked.len());
        let (id, record) = &p.records[*i];
        let short = id.to_string()[..7].to_string();
        let report = match score(record.parents[0], *id) {
            Ok(r) => r,
            Err(e) => {
                failed += 1;
                let first = e.to_string();
                notes.push(format!(
                    "{short} was not scored: {}",
                    first.lines().next().unwrap_or("")
                ));
                continue;
            }
        };
        let d = &report.dimensions;
        commits.push(GateCommit {
            sha: short,
            subject: history::subject(&record.message),
            bug_inducing: labels.inducing.contains_key(i),
            lines_added: report.change.additions,
            composite: report.composite.score,
            dimensions: DimensionScores {
                impact: d.impact.score,
                regression: d.regression.score,
                security: d.security.score,
                coupling: d.coupling.score,
            },
            threshold: report.gate.threshold,
            blocked: report.gate.would_block,
            regression_higher_than: d
                .regression
                .evidence
                .relative
                .as_ref()
                .map(|r| r.higher_than),
            critical: report.gate.reasons.iter().any(|r| {
                matches!(
                    r.code,
                    GateCode::NewCriticalFinding | GateCode::CriticalSuppressedByPr
                )
            }),
            blocked_regardless: report.gate.reasons.iter().any(|r| {
                matches!(
                    r.code,
                    GateCode::NewCriticalFinding
                        | GateCode::CriticalSuppressedByPr
                        | GateCode::AboveRecentCommits
                )
            }),
        });
    }
    timings.phases.push(("scoring", started.elapsed()));
    if commits.len() < 2 {
        return Err(Error::Usage(format!(
            "only {} of {} commits could be scored: too few to evaluate the gate\n  {}",
            commits.len(),
            picked.len(),
            notes.join("\n  ")
        )));
    }
    let threshold = commits.last().map_or(70, |c| c.threshold);
    if commits.iter().any(|c| c.threshold != threshold) {
        notes.insert(
            0,
            "the threshold differs between commits (settings changed over time, or per-path thresholds and critical paths applied); the configured rates use each commit's own, the sweep one threshold for all".to_string(),
        );
    }
    if labels.fixes == 0 {
        notes.push("no fix commit was found (see regression.fix-types and regression.fix-patterns), so only reverts label commits bug-inducing".to_string());
    }
    Ok(tabulate(&p, opts, commits, threshold, failed, notes))
}

fn tabulate(
    p: &super::Prepared,
    opts: &GateOptions,
    commits: Vec<GateCommit>,
    threshold: u8,
    failed: usize,
    mut notes: Vec<String>,
) -> GateEvalReport {
    let labels: Vec<bool> = commits.iter().map(|c| c.bug_inducing).collect();
    let bug = labels.iter().filter(|b| **b).count();
    let clean = labels.len() - bug;
    let configured = rates(&commits, threshold, |c| c.blocked);
    let thresholds: Vec<Rates> = (0..=100u8)
        .map(|t| {
            rates(&commits, t, |c| {
                c.blocked_regardless || c.composite.is_some_and(|s| s > t)
            })
        })
        .collect();
    let history_percentiles = PERCENTILES
        .iter()
        .map(|&hp| PercentileRates {
            history_percentile: hp,
            rates: rates(&commits, threshold, |c| {
                c.critical
                    || c.composite.is_some_and(|s| s > c.threshold)
                    || (hp < 100 && c.regression_higher_than.is_some_and(|h| h > f64::from(hp)))
            }),
        })
        .collect();
    let lowest_meeting_target = thresholds
        .iter()
        .find(|r| r.clean_rate.is_some_and(|c| c <= TARGET_CLEAN_RATE))
        .cloned();
    // Unavailable scores rank lowest (a gate cannot block on them).
    let auc_of = |f: &dyn Fn(&GateCommit) -> Option<u8>| {
        let s: Vec<f64> = commits
            .iter()
            .map(|c| f(c).map_or(-1.0, f64::from))
            .collect();
        roc_auc(&s, &labels).map(round4)
    };
    let lines: Vec<f64> = commits.iter().map(|c| f64::from(c.lines_added)).collect();
    let mut scores: Vec<u8> = commits.iter().filter_map(|c| c.composite).collect();
    scores.sort_unstable();
    let pct = |q: f64| -> Option<u8> {
        // Nearest rank.
        let n = scores.len();
        (n > 0).then(|| scores[((q * n as f64).ceil() as usize).clamp(1, n) - 1])
    };
    let distribution = Distribution {
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        max: scores.last().copied(),
        mean: (!scores.is_empty()).then(|| {
            round4(scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64)
        }),
    };
    if bug == 0 {
        notes.push("no scored commit is bug-inducing: the rates among bug-inducing commits, the lift and the AUCs are unknown".to_string());
    }
    let unavailable = commits.iter().filter(|c| c.composite.is_none()).count();
    if unavailable > 0 {
        notes.push(format!(
            "{unavailable} commit(s) had no composite score (no dimension could be computed)"
        ));
    }
    GateEvalReport {
        rev: opts.rev.clone(),
        sha: p.tip.to_string(),
        commits_walked: p.records.len(),
        fix_commits: p.dataset.labels.fixes,
        reverts: p.dataset.labels.reverts,
        scored: commits.len(),
        bug_inducing: bug,
        clean,
        failed,
        threshold,
        configured,
        composite_auc: auc_of(&|c| c.composite),
        lines_added_auc: roc_auc(&lines, &labels).map(round4),
        dimension_auc: DimensionAuc {
            impact: auc_of(&|c| c.dimensions.impact),
            regression: auc_of(&|c| c.dimensions.regression),
            security: auc_of(&|c| c.dimensions.security),
            coupling: auc_of(&|c| c.dimensions.coupling),
        },
        distribution,
        target_clean_rate: TARGET_CLEAN_RATE,
        target_lift: TARGET_LIFT,
        lowest_meeting_target,
        thresholds,
        history_percentiles,
        commits,
        notes,
    }
}

/// Block rates when `blocked` says which commits are blocked.
fn rates(commits: &[GateCommit], threshold: u8, blocked: impl Fn(&GateCommit) -> bool) -> Rates {
    let count = |bug: bool| {
        let all = commits.iter().filter(|c| c.bug_inducing == bug);
        let n = all.clone().count();
        let b = all.filter(|c| blocked(c)).count();
        (n, b)
    };
    let (nc, bc) = count(false);
    let (nb, bb) = count(true);
    let rate = |n: usize, b: usize| (n > 0).then(|| round4(b as f64 / n as f64));
    let (clean_rate, bug_inducing_rate) = (rate(nc, bc), rate(nb, bb));
    let lift = match (clean_rate, bug_inducing_rate) {
        (Some(c), Some(b)) if c > 0.0 && b > 0.0 => Some(round4(b / c)),
        _ => None,
    };
    Rates {
        threshold,
        blocked_clean: bc,
        blocked_bug_inducing: bb,
        clean_rate,
        bug_inducing_rate,
        lift,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(bug: bool, score: u8, regardless: bool) -> GateCommit {
        GateCommit {
            sha: String::new(),
            subject: String::new(),
            bug_inducing: bug,
            lines_added: 0,
            composite: Some(score),
            dimensions: DimensionScores::default(),
            threshold: 70,
            blocked: score > 70 || regardless,
            blocked_regardless: regardless,
            regression_higher_than: None,
            critical: regardless,
        }
    }

    #[test]
    fn rates_and_lift() {
        let commits = [
            c(false, 10, false),
            c(false, 80, false),
            c(false, 20, false),
            c(false, 30, true),
            c(true, 90, false),
            c(true, 40, false),
        ];
        let r = rates(&commits, 70, |c| c.blocked);
        assert_eq!((r.blocked_clean, r.blocked_bug_inducing), (2, 1));
        assert_eq!(r.clean_rate, Some(0.5));
        assert_eq!(r.bug_inducing_rate, Some(0.5));
        assert_eq!(r.lift, Some(1.0));
        let r = rates(&commits, 35, |c| c.composite.is_some_and(|s| s > 35));
        assert_eq!(r.clean_rate, Some(0.25));
        assert_eq!(r.bug_inducing_rate, Some(1.0));
        assert_eq!(r.lift, Some(4.0));
        let r = rates(&commits, 95, |c| c.composite.is_some_and(|s| s > 95));
        assert_eq!(r.lift, None);
    }
}
