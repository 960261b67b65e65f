//! Regression: the probability that this change introduces a bug, learned from the repository's
//! own history.
//!
//! 1. **Labels** ([`labels`]): fix commits and reverts from their messages and files; the commits
//!    that introduced the bugs they removed, by SZZ with line origins tracked forward.
//! 2. **Features** ([`features`]): size and spread of the change (source only; tests and other
//!    files apart), the history of the changed files, the author's experience, the change's
//!    purpose, and the dependency graph — computed the same way for every past commit and for
//!    the pull request.
//! 3. **Model** ([`model`]): L2-regularised logistic regression on the log-scaled features,
//!    trained time-respecting on the commits before the merge-base whose labels are mature
//!    (`maturity-days`). With too little history, the prior model shipped with the binary.
//!
//! ```text
//! regression = round(100 · p),   p = σ(b₀ + Σ βᵢ · zᵢ),   zᵢ = (xᵢ − meanᵢ) / scaleᵢ
//! ```
//! Each `βᵢ · zᵢ` is a feature's contribution to the log-odds against the average training
//! commit; the largest positive ones are the reasons the report gives in plain words.
//!
//! The scorer is pure: the labels, features and model come in, the [`Dimension`] goes out.

pub mod features;
pub mod labels;
pub mod model;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Dimension;
use crate::git::history::{self, CommitRecord, FixMatcher, FixPatterns, History, SourceFilter};
use crate::git::hunks::FileDiff;
use crate::git::Oid;
use crate::glob::{GlobList, Pattern};
use features::{Context, GraphFeatures, HistoryState, Raw, Touch, CHANGE_ONLY, FEATURES};
use labels::Labels;
use model::{Model, Trained};

/// `regression:` — history mining, labels and the regression model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RegressionSettings {
    /// At most this many commits are mined, newest first from the merge-base.
    pub max_commits: usize,
    /// Only commits at most this many days older than the merge-base are mined.
    pub max_age_days: u32,
    /// Mature commits needed to train the repository's own model (else the prior model is used).
    pub min_commits: usize,
    /// Bug-inducing commits needed among them.
    pub min_bug_inducing: usize,
    /// A commit's label is mature (its bugs have had time to be found) this many days after it.
    pub maturity_days: u32,
    /// Conventional-commit types that mark a bug fix.
    pub fix_types: Vec<String>,
    /// Conventional-commit types or scopes that never mark a bug fix.
    pub not_fix_types: Vec<String>,
    /// Regexes on the subject that mark a bug fix (case-insensitive).
    pub fix_patterns: Vec<String>,
    /// Regexes on the whole message for issue links that mark a bug fix (`Fixes #12`).
    pub fix_link_patterns: Vec<String>,
    /// Regexes on the subject that veto a fix (releases, version bumps, lint, typos).
    pub not_fix_patterns: Vec<String>,
    /// Regexes that mark a commit as a revert.
    pub revert_patterns: Vec<String>,
    /// Commits changing more files than this are bulk: neither fixes nor bug-inducing.
    pub bulk_files: usize,
    /// The features the repository's model uses (names from the list in docs/scores.md).
    pub features: Vec<String>,
    /// The L2 penalty of the logistic regression (on standardised features).
    pub l2: f64,
    /// Attribute the history of a renamed file to its new name.
    pub follow_renames: bool,
    /// Paths whose lines are not source (lock files, generated files, docs): not counted.
    pub not_source: Vec<Pattern>,
    /// How many files with fix history the report lists.
    pub top: usize,
}

impl Default for RegressionSettings {
    fn default() -> Self {
        let p = FixPatterns::defaults();
        RegressionSettings {
            max_commits: 10_000,
            max_age_days: 730,
            min_commits: 200,
            min_bug_inducing: 20,
            maturity_days: 90,
            fix_types: p.fix_types,
            not_fix_types: p.not_fix_types,
            fix_patterns: p.fix,
            fix_link_patterns: p.fix_links,
            not_fix_patterns: p.not_fix,
            revert_patterns: p.revert,
            bulk_files: 50,
            features: DEFAULT_FEATURES.iter().map(|f| f.to_string()).collect(),
            l2: 30.0,
            follow_renames: true,
            not_source: crate::glob::patterns(history::DEFAULT_NOT_SOURCE),
            top: 5,
        }
    }
}

impl RegressionSettings {
    /// `Err((key, message))` on an invalid value.
    pub fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        for (key, list) in [
            ("fix-patterns", &self.fix_patterns),
            ("fix-link-patterns", &self.fix_link_patterns),
            ("not-fix-patterns", &self.not_fix_patterns),
            ("revert-patterns", &self.revert_patterns),
        ] {
            for p in list {
                if let Err(e) = history::compile_pattern(p) {
                    return Err((key, format!("`regression.{key}`: invalid regex `{p}`: {e}")));
                }
            }
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err((
                "l2",
                format!("`regression.l2` must be a number ≥ 0, got {}", self.l2),
            ));
        }
        if self.max_commits == 0 || self.max_age_days == 0 {
            return Err((
                "regression",
                "`regression.max-commits` and `regression.max-age-days` must be at least 1"
                    .to_string(),
            ));
        }
        if let Some(f) = self
            .features
            .iter()
            .find(|f| !FEATURES.contains(&f.as_str()))
        {
            let near = FEATURES
                .iter()
                .max_by(|a, b| strsim::jaro_winkler(a, f).total_cmp(&strsim::jaro_winkler(b, f)))
                .unwrap_or(&"");
            return Err((
                "features",
                format!("`regression.features`: unknown feature `{f}` (did you mean `{near}`?)"),
            ));
        }
        if self.features.is_empty() {
            return Err((
                "features",
                "`regression.features` must name at least one feature".to_string(),
            ));
        }
        if self.bulk_files == 0 {
            return Err((
                "bulk-files",
                "`regression.bulk-files` must be at least 1".to_string(),
            ));
        }
        Ok(())
    }

    /// Which paths count as source lines: not `not-source`, not excluded.
    pub fn source_filter(&self, exclude: &[Pattern]) -> SourceFilter {
        SourceFilter {
            not_source: GlobList::new(self.not_source.iter()),
            exclude: GlobList::new(exclude.iter()),
        }
    }

    /// The message patterns.
    pub fn patterns(&self) -> FixPatterns {
        FixPatterns {
            fix_types: self.fix_types.clone(),
            not_fix_types: self.not_fix_types.clone(),
            fix: self.fix_patterns.clone(),
            fix_links: self.fix_link_patterns.clone(),
            not_fix: self.not_fix_patterns.clone(),
            revert: self.revert_patterns.clone(),
        }
    }

    /// The features of the repository's model, as names.
    pub fn feature_names(&self) -> Vec<&str> {
        self.features.iter().map(String::as_str).collect()
    }

    /// The features of the change-only prior: those of `features` that need no history.
    pub fn change_only_names(&self) -> Vec<&str> {
        let v: Vec<&str> = self
            .feature_names()
            .into_iter()
            .filter(|f| CHANGE_ONLY.contains(f))
            .collect();
        if v.is_empty() {
            vec!["code_lines_added"]
        } else {
            v
        }
    }

    pub fn matcher(&self) -> crate::error::Result<FixMatcher> {
        FixMatcher::new(&self.patterns())
    }

    /// A fingerprint of everything that changes what a trained model is (labels, features, fit).
    pub fn training_key(&self, exclude: &[Pattern], tests: &[Pattern]) -> u64 {
        let text = format!(
            "{:?}|{:?}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}",
            self.features,
            self.patterns(),
            self.bulk_files,
            self.l2,
            self.maturity_days,
            self.min_commits,
            self.min_bug_inducing,
            self.follow_renames,
            self.not_source,
            exclude,
            tests,
            self.max_age_days,
        );
        crate::hash::fnv1a(text.as_bytes())
    }
}

const DAY: i64 = 86_400;

/// The features the repository's model uses by default: the set that generalised best in the
/// time-respecting backtest over eight repositories (docs/scores.md). Every feature is computed
/// and reported whatever the model uses.
pub const DEFAULT_FEATURES: &[&str] = &["code_lines_added", "recent_fixes", "test_share"];

/// One commit of the history as a training sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Index into the window (oldest first).
    pub index: usize,
    pub id: Oid,
    pub time: i64,
    /// The full feature vector ([`FEATURES`]).
    pub x: Vec<f64>,
    pub raw: Raw,
}

/// Every commit of a window that changes source, with its features and the window's labels.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub samples: Vec<Sample>,
    pub labels: Labels,
    /// The history after the window's last commit (what a change on top of it is read against).
    pub state: HistoryState,
}

/// The window's commits, oldest first, as the labeller and the features read them: `records`
/// gives each id's record (with its changes and, for training, its line facts).
pub fn oldest_first<'a>(
    window: &[Oid],
    records: impl Fn(Oid) -> Option<&'a CommitRecord>,
) -> Vec<(Oid, &'a CommitRecord)> {
    window
        .iter()
        .rev()
        .filter_map(|id| records(*id).map(|r| (*id, r)))
        .collect()
}

/// Build the state forward through `commits` (no line facts needed).
pub fn state_of(
    commits: &[(Oid, &CommitRecord)],
    matcher: &FixMatcher,
    ctx: &Context,
    bulk_files: usize,
) -> HistoryState {
    let mut state = HistoryState::default();
    for (i, (_, r)) in commits.iter().enumerate() {
        let kind = labels::classify(r, matcher, &|p| ctx.production(p), bulk_files);
        let touches =
            Touch::of_changes(r.changes.as_deref().unwrap_or_default(), ctx.follow_renames);
        state.apply(i as u32, r.time, &r.author, kind, &touches);
    }
    state
}

/// Label `commits` (oldest first, with line facts) and compute every commit's features against
/// the history before it.
pub fn dataset(
    commits: &[(Oid, &CommitRecord)],
    matcher: &FixMatcher,
    ctx: &Context,
    graph: &dyn GraphFeatures,
    bulk_files: usize,
) -> Dataset {
    let labels = labels::label(commits, matcher, &|p| ctx.production(p), bulk_files);
    let mut state = HistoryState::default();
    let mut samples = Vec::new();
    for (i, (id, r)) in commits.iter().enumerate() {
        let kind = labels.kinds[i];
        if kind.merge {
            continue;
        }
        if let Some(facts) = &r.facts {
            let known = |j: u32, at: i64| labels.inducing_at(j as usize, at);
            let raw = state.features(
                &facts.files,
                &r.author,
                r.time,
                kind.fix,
                ctx,
                graph,
                &known,
            );
            if raw.files > 0 && !kind.bulk {
                samples.push(Sample {
                    index: i,
                    id: *id,
                    time: r.time,
                    x: raw.vector(),
                    raw,
                });
            }
        }
        let touches =
            Touch::of_changes(r.changes.as_deref().unwrap_or_default(), ctx.follow_renames);
        state.apply(i as u32, r.time, &r.author, kind, &touches);
    }
    Dataset {
        samples,
        labels,
        state,
    }
}

/// The samples a model trained at time `cutoff` may learn from: commits at least `maturity`
/// seconds older than it, labelled with what the fixes and reverts up to `cutoff` say.
pub fn training_set(ds: &Dataset, cutoff: i64, maturity: i64) -> (Vec<&Sample>, Vec<bool>) {
    let rows: Vec<&Sample> = ds
        .samples
        .iter()
        .filter(|s| s.time <= cutoff - maturity)
        .collect();
    let labels = rows
        .iter()
        .map(|s| ds.labels.inducing_at(s.index, cutoff))
        .collect();
    (rows, labels)
}

/// Train the repository's model at `cutoff`; `Err` says why there is too little to learn from.
pub fn fit(
    ds: &Dataset,
    cutoff: i64,
    rc: &RegressionSettings,
    names: &[&str],
) -> std::result::Result<Model, String> {
    let maturity = i64::from(rc.maturity_days) * DAY;
    let (rows, labels) = training_set(ds, cutoff, maturity);
    let positives = labels.iter().filter(|b| **b).count();
    if rows.len() < rc.min_commits || positives < rc.min_bug_inducing {
        return Err(format!(
            "{} commit(s) older than regression.maturity-days ({}) changed source, {} of them bug-inducing; training needs regression.min-commits ({}) and regression.min-bug-inducing ({})",
            rows.len(),
            rc.maturity_days,
            positives,
            rc.min_commits,
            rc.min_bug_inducing
        ));
    }
    let x: Vec<Vec<f64>> = rows.iter().map(|s| s.x.clone()).collect();
    let mut m = model::train(names, &x, &labels, None, rc.l2);
    m.trained = Trained {
        commits: rows.len(),
        bug_inducing: positives,
        from: rows
            .first()
            .map(|s| history::date(s.time))
            .unwrap_or_default(),
        to: rows
            .last()
            .map(|s| history::date(s.time))
            .unwrap_or_default(),
        repositories: Vec::new(),
    };
    Ok(m)
}

/// Whether a cached model (trained at `trained_cutoff`, newest training commit at `newest`, on
/// `learnt` commits) may score a change whose merge-base is at `cutoff`: it must know nothing the
/// merge-base cannot (`trained_cutoff ≤ cutoff`), and the window must not have moved materially —
/// at most max(25, 10 % of `learnt`) commits (`times`) have become mature since its newest.
pub fn still_fresh(
    newest: i64,
    trained_cutoff: i64,
    learnt: usize,
    cutoff: i64,
    maturity: i64,
    times: impl Iterator<Item = i64>,
) -> bool {
    if trained_cutoff > cutoff {
        return false;
    }
    let matured = times
        .filter(|t| *t > newest && *t <= cutoff - maturity)
        .count();
    matured <= (learnt / 10).max(25)
}

/// Which model scored the change.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// Trained on this repository's history.
    Repository,
    /// The prior model shipped with pr-risk, and why it was used.
    Prior(String),
    /// The change-only prior (no history features), and why.
    ChangeOnly(String),
}

impl ModelSource {
    pub fn kind(&self) -> &'static str {
        match self {
            ModelSource::Repository => "repository",
            ModelSource::Prior(_) => "prior",
            ModelSource::ChangeOnly(_) => "prior-change-only",
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            ModelSource::Repository => "this repository's model",
            ModelSource::Prior(_) => "the prior model",
            ModelSource::ChangeOnly(_) => "the change-only prior model",
        }
    }

    fn reason(&self) -> Option<String> {
        match self {
            ModelSource::Repository => None,
            ModelSource::Prior(r) | ModelSource::ChangeOnly(r) => Some(r.clone()),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RegressionEvidence {
    pub model: ModelInfo,
    /// The calibrated probability that the change introduces a bug (0–1).
    pub probability: f64,
    /// Where `probability` stands among the repository's own recent commits (`null` when the
    /// history gives fewer than [`MIN_BASELINE`] of them: a shallow or blobless checkout, a
    /// young repository).
    pub relative: Option<Relative>,
    /// The raw values behind the features.
    pub features: Raw,
    /// Every feature's contribution to the log-odds, largest first.
    pub contributions: Vec<Contribution>,
    /// The largest positive contributions in plain words (at most three).
    pub reasons: Vec<String>,
    pub window: Window,
    /// Changed files with fix or revert history, most recently fixed first.
    pub files: Vec<FileRisk>,
}

/// The change's probability against the repository's recent commits, each scored by the same
/// model on the history before it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Relative {
    /// How many recent commits it is compared with.
    pub commits: usize,
    /// The share (%) of them with a lower probability, one decimal.
    pub higher_than: f64,
    /// The probability of the commit at the 97th percentile, for reference.
    pub p97: f64,
    /// The share of bug-inducing commits the model learnt from: the average commit's risk
    /// (`null` when the model does not say).
    pub average: Option<f64>,
}

/// Recent commits a change's probability is compared with (the newest of the window).
pub const BASELINE_COMMITS: usize = 1000;
/// Fewer recent commits than this give no relative standing.
pub const MIN_BASELINE: usize = 50;

/// The model's probability for each of the newest [`BASELINE_COMMITS`] samples of the window,
/// ascending: the repository's own distribution of regression risk. In-sample for the commits a
/// repository model was trained on (regularised, four parameters: the optimism is small).
pub fn baseline(model: &Model, ds: &Dataset) -> Vec<f64> {
    let from = ds.samples.len().saturating_sub(BASELINE_COMMITS);
    let mut p: Vec<f64> = ds.samples[from..]
        .iter()
        .map(|s| model.probability(&s.x))
        .filter(|p| p.is_finite())
        .collect();
    p.sort_by(f64::total_cmp);
    p
}

/// Where `p` stands in `baseline` (ascending), or `None` when it is too short to say;
/// `trained` gives the average commit's risk.
pub fn relative(p: f64, baseline: &[f64], trained: &Trained) -> Option<Relative> {
    let n = baseline.len();
    if n < MIN_BASELINE {
        return None;
    }
    // Compared at the precision the report prints, so a tie is a tie.
    let lower = baseline.partition_point(|b| round3(*b) < round3(p));
    let at = ((n as f64) * 0.97).ceil() as usize;
    Some(Relative {
        commits: n,
        higher_than: (1000.0 * lower as f64 / n as f64).round() / 10.0,
        p97: round3(baseline[at.clamp(1, n) - 1]),
        average: (trained.commits > 0)
            .then(|| round3(trained.bug_inducing as f64 / trained.commits as f64)),
    })
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelInfo {
    /// `repository`, `prior` or `prior-change-only`.
    pub kind: String,
    /// Why the prior was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub trained: Trained,
    pub intercept: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contribution {
    pub feature: String,
    /// The feature's value (log-scaled for counts).
    pub value: f64,
    /// β·z: its contribution to the log-odds.
    pub contribution: f64,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Window {
    /// Non-merge commits mined.
    pub commits: usize,
    pub merges: usize,
    /// Fix commits, reverts and bug-inducing commits found in the window (when it was labelled).
    pub fix_commits: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bug_inducing: Option<usize>,
    /// Commits reachable from the merge-base (counted up to the minimum needed).
    pub reachable: usize,
    /// Dates (UTC) of the window's start and of the merge-base.
    pub from: String,
    pub to: String,
    /// What bounded the window: `max-commits`, `max-age-days`, or null (the whole history).
    pub cut_by: Option<String>,
}

impl Window {
    pub fn of(h: &History) -> Window {
        Window {
            commits: h.commits.len(),
            merges: h.merges,
            fix_commits: 0,
            reverts: None,
            bug_inducing: None,
            reachable: h.reachable,
            from: history::date(h.window_start),
            to: history::date(h.base_time),
            cut_by: h.cut_by.map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRisk {
    pub path: String,
    pub commits: u32,
    pub fixes: usize,
    /// Fixes in the last 90 days.
    pub fixes_90d: usize,
    pub reverts: usize,
    pub authors: usize,
    /// Days from the first commit touching it in the window to the change.
    pub age_days: i64,
    /// The most recent fix commits touching it.
    pub recent_fixes: Vec<FixRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixRef {
    pub sha: String,
    pub date: String,
    pub subject: String,
}

pub struct RegressionInput<'a> {
    pub model: &'a Model,
    pub source: ModelSource,
    /// The change's line facts (merge-base..head).
    pub change: &'a [FileDiff],
    /// The history up to the merge-base, the window's labels, and the window's commits (oldest
    /// first) both index.
    pub state: &'a HistoryState,
    pub labels: &'a Labels,
    pub commits: &'a [(Oid, &'a CommitRecord)],
    pub window: Window,
    /// The change's author (see [`history::identity`]), time and purpose.
    pub author: String,
    pub time: i64,
    pub fix: bool,
    pub ctx: Context<'a>,
    pub graph: &'a dyn GraphFeatures,
    /// The model's probabilities for the repository's recent commits, ascending ([`baseline`]).
    pub baseline: &'a [f64],
    /// The dimension's weight in the composite.
    pub weight: f64,
}

/// The dimension when not even the change's own features can be read.
pub fn unavailable(weight: f64, reason: impl Into<String>) -> Dimension<RegressionEvidence> {
    Dimension::unavailable(weight, reason)
}

/// Why the change-only prior is used for a shallow clone.
pub const SHALLOW: &str = "the repository is a shallow clone, so the history of the changed files is cut off; the change-only prior model was used (fetch the full history — actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow` — to use the history too)";

fn plural(n: impl Into<f64>, one: &str, many: &str) -> String {
    let n = n.into();
    if (n - 1.0).abs() < 1e-9 {
        format!("1 {one}")
    } else {
        format!("{} {many}", thousands(n.round() as u64))
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Features whose contributions read as one reason: the size and spread of the change.
const SIZE: [&str; 9] = [
    "lines_added",
    "code_lines_added",
    "hunks",
    "lines_deleted",
    "files",
    "directories",
    "subsystems",
    "entropy",
    "new_files",
];

/// A feature's value in plain words.
pub fn describe(feature: &str, r: &Raw) -> String {
    match feature {
        f if SIZE.contains(&f) => {
            let mut s = format!(
                "+{} −{} source lines across {}",
                thousands(u64::from(r.lines_added)),
                thousands(u64::from(r.lines_deleted)),
                plural(r.files as f64, "file", "files")
            );
            if r.subsystems > 1 {
                s.push_str(&format!(" in {} subsystems", r.subsystems));
            } else if r.directories > 1 {
                s.push_str(&format!(" in {} directories", r.directories));
            }
            if r.new_files > 0 {
                s.push_str(&format!(" ({} new)", r.new_files));
            }
            s
        }
        "lines_before" => format!(
            "the changed files had {} before",
            plural(r.lines_before as f64, "line", "lines")
        ),
        "test_share" => {
            let all = f64::from(r.test_lines) + f64::from(r.lines_added);
            if r.test_lines == 0 {
                "no test lines added".to_string()
            } else {
                format!(
                    "{:.0} % of the added lines are tests",
                    100.0 * f64::from(r.test_lines) / all
                )
            }
        }
        "other_files" => format!(
            "{} that are not source (docs, CI, manifests)",
            plural(r.other_files as f64, "changed file", "changed files")
        ),
        "file_age" => {
            if r.prior_changes == 0 {
                "the changed files are new to the history".to_string()
            } else {
                format!(
                    "the changed files were first changed {} ago (on average)",
                    plural(r.file_age_days.round(), "day", "days")
                )
            }
        }
        "prior_changes" => format!(
            "the changed files had {}",
            plural(
                f64::from(r.prior_changes),
                "earlier commit",
                "earlier commits"
            )
        ),
        "developers" => format!(
            "{} changed these files before",
            plural(r.developers as f64, "developer", "developers")
        ),
        "recent_fixes" => match &r.most_fixed {
            Some((p, n)) => format!(
                "`{p}` had {} in the last 90 days",
                plural(f64::from(*n), "fix", "fixes")
            ),
            None if r.recent_fixes > 0.0 => format!(
                "the changed files have older fixes (decayed weight {:.2})",
                r.recent_fixes
            ),
            None => "no fixes to the changed files".to_string(),
        },
        "recent_reverts" => {
            if r.recent_reverts > 0.0 {
                format!(
                    "the changed files were in reverts (decayed weight {:.2})",
                    r.recent_reverts
                )
            } else {
                "no reverts of the changed files".to_string()
            }
        }
        "author_commits" => {
            if r.author_commits == 0 {
                "the author's first commit in the history".to_string()
            } else {
                format!(
                    "the author made {} before",
                    plural(f64::from(r.author_commits), "commit", "commits")
                )
            }
        }
        "author_file_commits" => {
            if r.author_file_commits == 0 {
                "the author's first change to these files".to_string()
            } else {
                format!(
                    "the author changed these files {} before",
                    plural(f64::from(r.author_file_commits), "time", "times")
                )
            }
        }
        "file_bugs" => {
            if r.file_bugs == 0 {
                "no earlier commit to these files is known to have introduced a bug".to_string()
            } else {
                format!(
                    "{} to these files introduced bugs that were fixed later",
                    plural(f64::from(r.file_bugs), "earlier commit", "earlier commits")
                )
            }
        }
        "author_bug_share" => format!(
            "{:.0} % of the author's earlier commits introduced bugs that were fixed later",
            100.0 * r.author_bug_share
        ),
        "author_subsystem_commits" => {
            if r.author_subsystem_commits == 0 {
                "the author's first change in this part of the code".to_string()
            } else {
                format!(
                    "the author made {} in this part of the code",
                    plural(f64::from(r.author_subsystem_commits), "commit", "commits")
                )
            }
        }
        "fix" => {
            if r.fix {
                "the change is a bug fix".to_string()
            } else {
                "the change is not a bug fix".to_string()
            }
        }
        "fan_in" => format!(
            "{} import the changed files directly",
            plural(r.fan_in as f64, "file", "files")
        ),
        "reach" => format!(
            "the changed files reach {} through imports",
            plural(r.reach as f64, "file", "files")
        ),
        other => other.to_string(),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Contributions grouped into reasons (size as one), largest first: `(feature, Σ contribution)`.
fn grouped(contributions: &[(String, f64)]) -> Vec<(String, f64)> {
    let mut groups: BTreeMap<String, f64> = BTreeMap::new();
    for (f, c) in contributions {
        let key = if SIZE.contains(&f.as_str()) {
            "lines_added".to_string()
        } else {
            f.clone()
        };
        *groups.entry(key).or_default() += c;
    }
    let mut v: Vec<(String, f64)> = groups.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

pub fn score(input: RegressionInput, rc: &RegressionSettings) -> Dimension<RegressionEvidence> {
    let known = |j: u32, at: i64| input.labels.inducing_at(j as usize, at);
    let raw = input.state.features(
        input.change,
        &input.author,
        input.time,
        input.fix,
        &input.ctx,
        input.graph,
        &known,
    );
    let x = raw.vector();
    let m = input.model;
    let p = m.probability(&x);
    let value = (100.0 * p).round().clamp(0.0, 100.0) as u8;
    let contributions = m.contributions(&x);
    let mut listed: Vec<Contribution> = contributions
        .iter()
        .map(|(f, c)| Contribution {
            feature: f.clone(),
            value: round3(x[FEATURES.iter().position(|n| n == f).unwrap_or(0)]),
            contribution: round3(*c),
            text: describe(f, &raw),
        })
        .collect();
    listed.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then(a.feature.cmp(&b.feature))
    });
    let reasons: Vec<String> = grouped(&contributions)
        .into_iter()
        .filter(|(_, c)| *c >= 0.05)
        .take(3)
        .map(|(f, _)| describe(&f, &raw))
        .collect();
    let files = file_history(&input, &raw, rc.top);
    let relative = relative(p, input.baseline, &m.trained);
    let source = match &relative {
        Some(r) => format!(
            "{}; higher than {} % of the last {} commits",
            input.source.describe(),
            r.higher_than,
            thousands(r.commits as u64)
        ),
        None => input.source.describe().to_string(),
    };
    let summary = if raw.files == 0 {
        format!("p = {p:.2} ({source}): no source file changed (only tests, docs, CI or manifests)")
    } else if reasons.is_empty() {
        format!(
            "p = {p:.2} ({source}): nothing about this change raises the risk above the average commit"
        )
    } else {
        format!("p = {p:.2} ({source}): {}", reasons.join("; "))
    };
    let terms: String = contributions
        .iter()
        .map(|(f, c)| format!(" {} {:.2}·{f}", if *c < 0.0 { "−" } else { "+" }, c.abs()))
        .collect();
    let formula = format!(
        "regression = round(100 · p), p = σ(b₀ + Σ βᵢ·zᵢ) = σ({:.2}{terms}) = {p:.3} → {value} ({}; {})",
        m.intercept,
        input.source.describe(),
        if input.source == ModelSource::Repository || !m.trained.repositories.is_empty() {
            format!(
                "trained on {} commits, {} bug-inducing{}",
                thousands(m.trained.commits as u64),
                thousands(m.trained.bug_inducing as u64),
                if m.trained.repositories.is_empty() {
                    String::new()
                } else {
                    format!(" from {} repositories", m.trained.repositories.len())
                }
            )
        } else {
            "trained offline".to_string()
        }
    );
    Dimension {
        available: true,
        score: Some(value),
        weight: input.weight,
        reason: None,
        summary,
        formula,
        evidence: RegressionEvidence {
            model: ModelInfo {
                kind: input.source.kind().to_string(),
                reason: input.source.reason(),
                trained: m.trained.clone(),
                intercept: round3(m.intercept),
            },
            probability: round3(p),
            relative,
            features: Raw {
                entropy: round3(raw.entropy),
                author_bug_share: round3(raw.author_bug_share),
                file_age_days: round3(raw.file_age_days),
                recent_fixes: round3(raw.recent_fixes),
                recent_reverts: round3(raw.recent_reverts),
                ..raw.clone()
            },
            contributions: listed,
            reasons,
            window: input.window.clone(),
            files,
        },
    }
}

/// The changed source files with fix or revert history, most recently fixed first.
fn file_history(input: &RegressionInput, raw: &Raw, top: usize) -> Vec<FileRisk> {
    let _ = raw;
    let mut out = Vec::new();
    for f in input.change {
        if input.ctx.category(&f.path) != features::Category::Source
            || f.status == crate::git::diff::Status::Added
        {
            continue;
        }
        let before = match (&f.old_path, input.ctx.follow_renames) {
            (Some(old), true) => old.as_str(),
            (Some(_), false) if f.status == crate::git::diff::Status::Renamed => continue,
            _ => f.path.as_str(),
        };
        let Some(h) = input.state.file(before) else {
            continue;
        };
        if h.fixes.is_empty() && h.reverts.is_empty() {
            continue;
        }
        let mut fixes: Vec<&(i64, u32)> = h.fixes.iter().collect();
        fixes.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        out.push(FileRisk {
            path: f.path.clone(),
            commits: h.commits,
            fixes: h.fixes.len(),
            fixes_90d: h
                .fixes
                .iter()
                .filter(|(t, _)| input.time - t <= 90 * DAY)
                .count(),
            reverts: h.reverts.len(),
            authors: h.authors.len(),
            age_days: (input.time - h.first).max(0) / DAY,
            recent_fixes: fixes
                .iter()
                .take(3)
                .filter_map(|(t, i)| {
                    let (id, r) = input.commits.get(*i as usize)?;
                    Some(FixRef {
                        sha: id.to_string()[..7].to_string(),
                        date: history::date(*t),
                        subject: history::subject(&r.message),
                    })
                })
                .collect(),
        });
    }
    out.sort_by(|a, b| {
        let last = |f: &FileRisk| f.recent_fixes.first().map(|x| x.date.clone());
        b.fixes_90d
            .cmp(&a.fixes_90d)
            .then(last(b).cmp(&last(a)))
            .then(b.fixes.cmp(&a.fixes))
            .then(a.path.cmp(&b.path))
    });
    out.truncate(top.max(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::history::tests::commit_at;
    use crate::git::history::{fill_facts, mine, Commits, MineOptions};
    use crate::git::hunks::facts_between;

    #[test]
    fn relative_standing_counts_lower_probabilities_and_needs_enough_commits() {
        let baseline: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        let t = Trained {
            commits: 400,
            bug_inducing: 70,
            ..Default::default()
        };
        assert_eq!(relative(0.5, &baseline[..MIN_BASELINE - 1], &t), None);
        let r = relative(0.5, &baseline, &t).unwrap();
        assert_eq!((r.commits, r.higher_than, r.p97), (100, 50.0, 0.96));
        assert_eq!(r.average, Some(0.175));
        // Ties do not count as lower; above every commit is 100 %.
        assert_eq!(relative(0.0, &baseline, &t).unwrap().higher_than, 0.0);
        assert_eq!(relative(0.995, &baseline, &t).unwrap().higher_than, 100.0);
        // Compared at the printed precision: 0.5004 ties 0.500.
        assert_eq!(relative(0.5004, &baseline, &t).unwrap().higher_than, 50.0);
        let untrained = Trained::default();
        assert_eq!(relative(0.5, &baseline, &untrained).unwrap().average, None);
    }

    /// A commit's features are the same whether it is read as a training sample (against the
    /// history before it) or scored as a change from its parent (against the history up to the
    /// merge-base, its parent).
    #[test]
    fn features_are_the_same_at_training_and_at_scoring() {
        let dir = tempfile::tempdir().unwrap();
        let repo = crate::git::history::tests::init(dir.path());
        let day = 86_400;
        let mut parent: Option<Oid> = None;
        let mut body = String::from("export const a = 1;\n");
        let mut ids = Vec::new();
        for i in 0..12i64 {
            body.push_str(&format!("export const v{i} = {i}; // {i}\n"));
            let msg = if i % 3 == 0 {
                format!("fix: v{i}")
            } else {
                format!("feat: v{i}")
            };
            let who = ["Ann", "Bob", "Cy"][(i % 3) as usize];
            let test = format!("t{}\n", i % 2);
            let files = [
                ("src/a.ts", body.as_str()),
                ("src/a.test.ts", test.as_str()),
                ("README.md", if i > 6 { "docs" } else { "doc" }),
            ];
            let id = commit_at(
                &repo,
                parent.as_slice(),
                1_700_000_000 + i * day,
                &msg,
                who,
                &files,
            );
            ids.push(id);
            parent = Some(id);
        }
        let last = *ids.last().unwrap();
        let matcher = FixMatcher::defaults();
        let filter = RegressionSettings::default().source_filter(&[]);
        let tests =
            crate::glob::GlobList::new(crate::glob::patterns(crate::parse::DEFAULT_TESTS).iter());
        let ctx = Context {
            filter: &filter,
            tests: &tests,
            follow_renames: true,
        };
        let churn = Default::default();
        let opts = MineOptions {
            max_commits: 100,
            max_age_days: 3650,
            min_commits: 1,
            follow_renames: true,
            matcher: &matcher,
            churn_for: &churn,
        };
        // Training: the whole history, the last commit a sample.
        let mut memo = Commits::default();
        let h = mine(&repo, last, &opts, Some(&mut memo)).unwrap();
        fill_facts(&repo, &h.window, &mut memo).unwrap();
        let commits = oldest_first(&h.window, |id| memo.records.get(&id));
        let ds = dataset(&commits, &matcher, &ctx, &features::NoGraph, 50);
        let trained = ds.samples.iter().find(|s| s.id == last).unwrap();
        // Scoring: the last commit as a change on top of its parent.
        let base = ids[ids.len() - 2];
        let mut memo2 = Commits::default();
        let h2 = mine(&repo, base, &opts, Some(&mut memo2)).unwrap();
        fill_facts(&repo, &h2.window, &mut memo2).unwrap();
        let before = oldest_first(&h2.window, |id| memo2.records.get(&id));
        let labels = labels::label(&before, &matcher, &|p| ctx.production(p), 50);
        let state = state_of(&before, &matcher, &ctx, 50);
        let change = facts_between(&repo, base, last).unwrap();
        let known = |j: u32, at: i64| labels.inducing_at(j as usize, at);
        let scored = state.features(
            &change.files,
            "cy@example.com",
            1_700_000_000 + 11 * 86_400,
            false,
            &ctx,
            &features::NoGraph,
            &known,
        );
        assert_eq!(trained.raw, scored);
        assert_eq!(trained.x, scored.vector());
        // And the values are what the script says.
        assert_eq!(scored.lines_added, 1);
        assert_eq!(scored.code_lines_added, 1);
        assert_eq!(scored.test_lines, 1);
        assert_eq!(
            scored.other_files, 0,
            "README.md did not change in the last commit"
        );
        assert_eq!(scored.prior_changes, 11);
        assert_eq!(scored.developers, 3);
        assert_eq!(scored.author_file_commits, 3);
        assert!(!scored.fix);
        assert_eq!(scored.fixes_90d, 4, "v0, v3, v6 and v9");
    }

    /// A cached model is reused until the window moves materially, and never for an earlier
    /// merge-base than it was trained at.
    #[test]
    fn cached_models_go_stale() {
        let day = 86_400;
        let maturity = 90 * day;
        // Trained at day 1000 on 300 commits, newest day 900; commits one a day since.
        let times = |to: i64| (900..=to).map(move |d| d * day);
        assert!(still_fresh(
            900 * day,
            1000 * day,
            300,
            1000 * day,
            maturity,
            times(1000)
        ));
        // 30 more mature commits (≤ max(25, 30)): still fresh; 31: retrain.
        assert!(still_fresh(
            900 * day,
            1000 * day,
            300,
            1020 * day,
            maturity,
            times(1020)
        ));
        assert!(!still_fresh(
            900 * day,
            1000 * day,
            300,
            1021 * day,
            maturity,
            times(1021)
        ));
        // A merge-base before the training cutoff: the model knows its future.
        assert!(!still_fresh(
            900 * day,
            1000 * day,
            300,
            999 * day,
            maturity,
            times(999)
        ));
    }

    #[test]
    fn numbers_in_words() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(plural(1.0, "file", "files"), "1 file");
        assert_eq!(plural(1200.0, "line", "lines"), "1,200 lines");
    }

    #[test]
    fn size_reads_as_one_reason() {
        let r = Raw {
            lines_added: 412,
            lines_deleted: 3,
            files: 9,
            directories: 4,
            subsystems: 3,
            ..Raw::default()
        };
        assert_eq!(
            describe("files", &r),
            "+412 −3 source lines across 9 files in 3 subsystems"
        );
        let g = grouped(&[
            ("lines_added".into(), 0.4),
            ("files".into(), 0.3),
            ("fix".into(), 0.5),
        ]);
        assert_eq!(g[0].0, "lines_added");
        assert!((g[0].1 - 0.7).abs() < 1e-12);
        let r = Raw {
            most_fixed: Some(("src/x.ts".into(), 4)),
            recent_fixes: 2.0,
            ..Raw::default()
        };
        assert_eq!(
            describe("recent_fixes", &r),
            "`src/x.ts` had 4 fixes in the last 90 days"
        );
        assert_eq!(
            describe("author_subsystem_commits", &Raw::default()),
            "the author's first change in this part of the code"
        );
    }
}
