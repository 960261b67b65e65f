//! The gate: whether a change blocks, why, and what would lower its score.
//!
//! [`decide`] is a pure function of the report (dimensions and their evidence, the composite,
//! the guidance, the changed files) and the gate's settings. It gives:
//!
//! - the **effective threshold**: the configured `threshold`, lowered by every `thresholds` entry
//!   whose paths the change touches and by `critical-threshold` when it touches a
//!   `critical-paths` glob (the lowest wins, so touching a file can never raise the bar), with
//!   the files that matched and one sentence saying why;
//! - the **verdict**: `pass`, `blocked`, `overridden` (the override label turned a block into a
//!   pass; who applied it is recorded when the event says so) or `advisory` (`mode: advisory`:
//!   everything is reported, nothing is enforced);
//! - **coded reasons** ([`GateReason`]): what trips the gate (or nearly does, within
//!   `near-threshold` points), then, for each dimension that adds to the score — largest
//!   contribution to the composite first — the findings or facts that drove it and what would
//!   lower it. A clear pass has no reasons.
//!
//! Renderers print these fields; they never decide anything themselves.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Report;
use crate::glob::{GlobList, Pattern};
use crate::score::coupling::rules::{CYCLE_RULE, DEEP_IMPORT_RULE};
use crate::score::coupling::Violation;
use crate::score::regression;
use crate::score::security::rules::Severity;
use crate::score::security::{self, Finding, PrSuppressions, SecuritySettings};

/// The override label's default name.
pub const DEFAULT_OVERRIDE_LABEL: &str = "pr-risk:accepted";
/// A pass this many points (or fewer) under the threshold says so, by default.
pub const DEFAULT_NEAR_THRESHOLD: u8 = 10;
/// The threshold of a change that touches a critical path, by default.
pub const DEFAULT_CRITICAL_THRESHOLD: u8 = 50;
/// A change whose regression probability is higher than this share (%) of the repository's
/// recent commits blocks, by default: calibrated on five real repositories (docs/gate.md).
pub const DEFAULT_HISTORY_PERCENTILE: f64 = 95.0;
/// Findings or violations named one by one per dimension (the rest are counted).
pub const LISTED: usize = 3;
/// Matched files listed per threshold entry or critical path (the rest are counted).
pub const MATCHED_FILES: usize = 20;

/// `mode:` — whether the gate is enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A block fails the check run (`failure`) and the step (exit 1).
    #[default]
    Gate,
    /// Everything is posted, the check run's conclusion is `neutral`, the exit code is 0.
    Advisory,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Gate => "gate",
            Mode::Advisory => "advisory",
        }
    }
}

/// One `thresholds:` entry: a lower threshold for changes that touch these paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PathThreshold {
    pub paths: Vec<Pattern>,
    pub threshold: u8,
}

/// The gate's settings: the top-level keys of `.pr-risk.yml` beside `threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSettings {
    /// A composite score above this blocks (0–100).
    pub threshold: u8,
    /// Any new critical security finding blocks, whatever the score.
    pub fail_on_critical_security: bool,
    pub mode: Mode,
    /// The pull-request label that turns a block into a pass.
    pub override_label: String,
    /// Who may apply it (GitHub logins, compared case-insensitively). Empty: whoever can label
    /// the pull request (GitHub's triage permission). When set, the label counts only on the
    /// `labeled` event of one of them: a later push re-runs without that actor and blocks again.
    pub override_actors: Vec<String>,
    /// A pass this many points or fewer under the threshold says so (0: never).
    pub near_threshold: u8,
    /// A change whose regression probability is higher than this share (%) of the repository's
    /// recent commits blocks, whatever the composite (100: never).
    pub history_percentile: f64,
    /// Lower thresholds for changes that touch some paths.
    pub thresholds: Vec<PathThreshold>,
    /// Globs of code that deserves a careful review (auth, payments, migrations): a change that
    /// touches one gets `critical_threshold` and is flagged for review.
    pub critical_paths: Vec<Pattern>,
    pub critical_threshold: u8,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            threshold: 70,
            fail_on_critical_security: true,
            mode: Mode::Gate,
            override_label: DEFAULT_OVERRIDE_LABEL.to_string(),
            override_actors: Vec::new(),
            near_threshold: DEFAULT_NEAR_THRESHOLD,
            history_percentile: DEFAULT_HISTORY_PERCENTILE,
            thresholds: Vec::new(),
            critical_paths: Vec::new(),
            critical_threshold: DEFAULT_CRITICAL_THRESHOLD,
        }
    }
}

/// A setting [`GateSettings::validate`] refused: the key, which `thresholds` entry (when it is
/// one), and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: &'static str,
    pub entry: Option<usize>,
    pub message: String,
}

impl GateSettings {
    pub fn validate(&self) -> Result<(), Invalid> {
        let bad = |key, entry, message| {
            Err(Invalid {
                key,
                entry,
                message,
            })
        };
        let hp = self.history_percentile;
        if !(hp.is_finite() && (50.0..=100.0).contains(&hp)) {
            return bad(
                "history-percentile",
                None,
                format!("`history-percentile` must be between 50 and 100 (100: off), got {hp}"),
            );
        }
        for (key, v) in [
            ("threshold", self.threshold),
            ("near-threshold", self.near_threshold),
            ("critical-threshold", self.critical_threshold),
        ] {
            if v > 100 {
                return bad(
                    key,
                    None,
                    format!("`{key}` must be between 0 and 100, got {v}"),
                );
            }
        }
        let label = &self.override_label;
        if label.trim().is_empty() || label.trim() != label || label.chars().count() > 50 {
            return bad(
                "override-label",
                None,
                format!("`override-label` must be a GitHub label name: 1 to 50 characters without leading or trailing spaces, got {label:?}"),
            );
        }
        for (i, a) in self.override_actors.iter().enumerate() {
            if !is_login(a) {
                return bad(
                    "override-actors",
                    Some(i),
                    format!("`override-actors[{i}]` must be a GitHub login (letters, digits and single hyphens, at most 39 characters, optionally ending in `[bot]`, without `@`), got {a:?}"),
                );
            }
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.threshold > 100 {
                return bad(
                    "thresholds",
                    Some(i),
                    format!(
                        "`thresholds[{i}].threshold` must be between 0 and 100, got {}",
                        t.threshold
                    ),
                );
            }
            if t.paths.is_empty() {
                return bad(
                    "thresholds",
                    Some(i),
                    format!("`thresholds[{i}].paths` is empty: the entry would never apply; list the globs it is for"),
                );
            }
        }
        Ok(())
    }
}

/// A GitHub login: 1–39 letters, digits and single hyphens, not starting or ending with one;
/// apps act as `name[bot]`.
fn is_login(s: &str) -> bool {
    let name = s.strip_suffix("[bot]").unwrap_or(s);
    !name.is_empty()
        && name.len() <= 39
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// The override label on the pull request, and who applied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Override {
    /// The label's name (as configured).
    pub label: String,
    /// Who applied it: the sender of the `labeled` event that triggered this run. `null` when the
    /// run was triggered otherwise (a push, a reopen): the label is present, the actor is not in
    /// the event.
    pub actor: Option<String>,
    /// True when the label turned a block into a pass (false: nothing would block, advisory
    /// mode, or the label does not count: see `refused`).
    pub applied: bool,
    /// Why the label does not count (`override-actors` is set and the actor is not in it, or
    /// is not known from this run's event); `null` when it counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// The labels of a pull request as its event tells them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrLabels {
    /// `pull_request.labels[].name`.
    pub names: Vec<String>,
    /// For a `labeled` event: the label just applied and the event's `sender.login`.
    pub labeled: Option<(String, String)>,
}

impl PrLabels {
    /// The override, when the pull request carries `label` (GitHub label names are compared
    /// case-insensitively, as GitHub does). The actor is known only when this run's event is the
    /// labelling itself.
    pub fn override_for(&self, label: &str) -> Option<Override> {
        let same = |a: &str| a.to_lowercase() == label.to_lowercase();
        let just_applied = self.labeled.as_ref().filter(|(l, _)| same(l));
        if !self.names.iter().any(|n| same(n)) && just_applied.is_none() {
            return None;
        }
        Some(Override {
            label: label.to_string(),
            actor: just_applied.map(|(_, who)| who.clone()),
            applied: false,
            refused: None,
        })
    }
}

/// The gate's decision, with everything every output shows about it.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub mode: Mode,
    pub verdict: Verdict,
    /// The change is blocked: the check run fails and the step exits 1 (`verdict` is `blocked`).
    pub blocked: bool,
    /// The rules say block (a score above the threshold, a new critical finding), whether or not
    /// that is enforced (`overridden`, `advisory`).
    pub would_block: bool,
    /// The effective threshold: a score above it blocks.
    pub threshold: u8,
    /// Where the threshold comes from.
    pub threshold_source: ThresholdSource,
    /// Critical paths the change touches (flagged for a careful review).
    pub critical_paths: Vec<CriticalMatch>,
    /// The verdict in a few words, for titles: `blocked`, `overridden by @x`, `advisory: would
    /// block`, `passes`.
    pub headline: String,
    /// The verdict in one sentence.
    pub summary: String,
    /// Why it blocks (or would, or nearly does): the verdict's own reasons first, then per
    /// dimension, largest contribution first. Empty on a clear pass.
    pub reasons: Vec<GateReason>,
    /// The override label, when the pull request carries it.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_: Option<Override>,
}

impl Gate {
    /// A passing gate at `threshold` with nothing to say (a starting point for previews).
    pub fn pass(threshold: u8) -> Gate {
        Gate {
            mode: Mode::Gate,
            verdict: Verdict::Pass,
            blocked: false,
            would_block: false,
            threshold,
            threshold_source: ThresholdSource {
                configured: threshold,
                applied: Vec::new(),
                why: format!("the configured `threshold` {threshold}"),
            },
            critical_paths: Vec::new(),
            headline: "passes".into(),
            summary: format!("passes (blocks above {threshold})"),
            reasons: Vec::new(),
            override_: None,
        }
    }
}

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Blocked,
    /// It would block, and the override label lets it pass.
    Overridden,
    /// `mode: advisory`: reported, never enforced (`would_block` says what the gate would do).
    Advisory,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Blocked => "blocked",
            Verdict::Overridden => "overridden",
            Verdict::Advisory => "advisory",
        }
    }

    /// The check run's conclusion: `failure` only for a block, `neutral` in advisory mode.
    pub fn conclusion(self) -> &'static str {
        match self {
            Verdict::Blocked => "failure",
            Verdict::Advisory => "neutral",
            Verdict::Pass | Verdict::Overridden => "success",
        }
    }
}

/// Why the threshold is what it is.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdSource {
    /// The configured `threshold` (or `--threshold` / the `block-threshold` input).
    pub configured: u8,
    /// The lower thresholds whose paths the change touches (`thresholds[i]`, `critical-threshold`).
    pub applied: Vec<AppliedThreshold>,
    /// One sentence: which threshold is used and why.
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppliedThreshold {
    /// `thresholds[0]`, or `critical-threshold`.
    pub source: String,
    pub threshold: u8,
    /// The globs that matched.
    pub paths: Vec<String>,
    /// Changed files that matched (at most [`MATCHED_FILES`]).
    pub files: Vec<String>,
    pub files_total: usize,
}

/// A critical-path glob and the changed files it matched.
#[derive(Debug, Clone, Serialize)]
pub struct CriticalMatch {
    pub pattern: String,
    /// At most [`MATCHED_FILES`].
    pub files: Vec<String>,
    pub files_total: usize,
}

/// One reason the gate blocks (or nearly does), with what would help.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GateReason {
    pub code: GateCode,
    /// The dimension the reason is about (`null` for the verdict's own reasons).
    pub dimension: Option<DimensionName>,
    /// The dimension's contribution to the composite, in points (`null` for the verdict's own
    /// reasons).
    pub points: Option<f64>,
    /// The finding or fact.
    pub message: String,
    /// What would lower the score or lift the block (`null` when there is nothing to do).
    pub action: Option<String>,
}

impl GateReason {
    /// A reason of the verdict itself, with no dimension and no action.
    pub fn new(code: GateCode, message: impl Into<String>) -> GateReason {
        GateReason {
            code,
            dimension: None,
            points: None,
            message: message.into(),
            action: None,
        }
    }
}

/// The four dimensions, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DimensionName {
    Impact,
    Regression,
    Security,
    Coupling,
}

impl DimensionName {
    pub fn as_str(self) -> &'static str {
        match self {
            DimensionName::Impact => "impact",
            DimensionName::Regression => "regression",
            DimensionName::Security => "security",
            DimensionName::Coupling => "coupling",
        }
    }
}

/// What a [`GateReason`] is about (documented in docs/scores.md, "The gate").
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum GateCode {
    /// The composite score is above the threshold.
    ScoreAboveThreshold,
    /// The change introduces a critical security finding (`fail-on-critical-security`).
    NewCriticalFinding,
    /// The pull request suppresses a critical finding itself (`pr-risk-ignore` on a line it
    /// added) and the base settings do not say `security.pr-suppressions: allow`.
    CriticalSuppressedByPr,
    /// The regression probability is higher than `history-percentile` % of the repository's
    /// recent commits.
    AboveRecentCommits,
    /// A pass within `near-threshold` points of the threshold.
    NearThreshold,
    /// The override label is on the pull request but does not count: who applied it is not in
    /// `override-actors` (or is not known from this run's event).
    OverrideRefused,
    /// Impact: how far the change reaches downstream.
    Reach,
    /// Regression: the size and spread of the change.
    ChangeSize,
    /// Regression: the changed files keep needing fixes (or were reverted, or introduced bugs).
    FixHistory,
    /// Regression: the changed files change often, or by many people.
    Churn,
    /// Regression: the author is new to the code or to the repository.
    Unfamiliar,
    /// Regression: no tests come with the change, or no test reaches the changed files.
    Untested,
    /// Regression: what the model weighs that none of the above names.
    RegressionModel,
    /// Security: a new finding.
    SecurityFinding,
    /// Coupling: a new violation of a configured boundary rule.
    BoundaryViolation,
    /// Coupling: a new import cycle.
    ImportCycle,
    /// Coupling: a new import of a workspace package's internals.
    DeepImport,
}

/// The gate for `report` under `settings`: the effective threshold, the verdict, the reasons.
/// `security` gives `pr-suppressions` (whether a critical finding the PR suppresses itself still
/// blocks); `accepted` is the override label when the pull request carries it.
pub fn decide(
    report: &Report,
    settings: &GateSettings,
    security: &SecuritySettings,
    accepted: Option<&Override>,
) -> Gate {
    let (threshold, threshold_source, critical_paths) = threshold_for(report, settings);
    let score = report.composite.score;
    let mut triggers = Vec::new();
    if let Some(s) = score.filter(|s| *s > threshold) {
        triggers.push(GateReason::new(
            GateCode::ScoreAboveThreshold,
            format!("risk score {s} is above the threshold {threshold}"),
        ));
    }
    let regression = &report.dimensions.regression.evidence;
    if let Some(r) = regression.relative.as_ref() {
        let p = regression.probability;
        // Riskier than most of this repository's commits, and than the average commit the model
        // learnt from: a history of tiny commits does not make a low risk a block.
        if settings.history_percentile < 100.0
            && r.higher_than > settings.history_percentile
            && r.average.is_none_or(|a| p > a)
        {
            triggers.push(GateReason::new(
                GateCode::AboveRecentCommits,
                format!(
                    "regression risk p = {p} is higher than {} % of this repository's last {} commits{} (history-percentile {}: the riskiest {} % block)",
                    r.higher_than,
                    r.commits,
                    r.average
                        .map(|a| format!(" and above the average commit's {a:.2}"))
                        .unwrap_or_default(),
                    settings.history_percentile,
                    (1000.0 - 10.0 * settings.history_percentile).round() / 10.0
                ),
            ));
        }
    }
    let evidence = &report.dimensions.security.evidence;
    if settings.fail_on_critical_security {
        let critical = security::critical_reasons(evidence);
        if !critical.is_empty() {
            triggers.push(GateReason::new(
                GateCode::NewCriticalFinding,
                format!(
                    "{} new critical security finding{} (fail-on-critical-security): {}",
                    critical.len(),
                    plural_s(critical.len()),
                    critical.join(", ")
                ),
            ));
        }
        let suppressed = security::pr_suppressed_critical(evidence, security);
        if !suppressed.is_empty() {
            triggers.push(GateReason::new(
                GateCode::CriticalSuppressedByPr,
                format!(
                    "{} critical security finding{} suppressed by this pull request itself (security.pr-suppressions allows that only when set to `allow` in the base settings): {}",
                    suppressed.len(),
                    plural_s(suppressed.len()),
                    suppressed.join(", ")
                ),
            ));
        }
    }
    let would_block = !triggers.is_empty();
    let security_triggered = triggers.iter().any(|t| {
        matches!(
            t.code,
            GateCode::NewCriticalFinding | GateCode::CriticalSuppressedByPr
        )
    });
    let near = match score {
        Some(s) if !would_block && settings.near_threshold > 0 => {
            let under = threshold - s;
            (under <= settings.near_threshold).then(|| {
                GateReason::new(
                    GateCode::NearThreshold,
                    if under == 0 {
                        format!("risk score {s} passes at the threshold {threshold}: one more point blocks")
                    } else {
                        format!(
                            "risk score {s} passes, {under} point{} under the threshold {threshold}",
                            plural_s(usize::from(under))
                        )
                    },
                )
            })
        }
        _ => None,
    };
    let mut reasons = triggers;
    reasons.extend(near.clone());
    if !reasons.is_empty() {
        reasons.extend(dimension_reasons(report, security, security_triggered));
    }

    let refused = accepted.and_then(|o| override_refusal(o, &settings.override_actors));
    let (verdict, applied) = match (settings.mode, would_block, accepted) {
        (Mode::Advisory, _, _) => (Verdict::Advisory, false),
        (Mode::Gate, true, Some(_)) if refused.is_none() => (Verdict::Overridden, true),
        (Mode::Gate, true, _) => (Verdict::Blocked, false),
        (Mode::Gate, false, _) => (Verdict::Pass, false),
    };
    if let (Verdict::Blocked, Some(why)) = (verdict, &refused) {
        // Said right after what blocks, before the dimensions.
        let at = reasons
            .iter()
            .position(|r| r.dimension.is_some())
            .unwrap_or(reasons.len());
        reasons.insert(at, GateReason::new(GateCode::OverrideRefused, why.clone()));
    }
    let override_ = accepted.map(|o| Override {
        applied,
        refused: refused.clone(),
        ..o.clone()
    });
    let why_blocks = || {
        reasons
            .iter()
            .filter(|r| r.dimension.is_none() && r.code != GateCode::OverrideRefused)
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let passes = || match (score, &near) {
        (_, Some(n)) => n.message.clone(),
        (Some(s), None) => format!("risk score {s} is under the threshold {threshold}"),
        (None, None) => "there is no risk score (no dimension could be computed)".to_string(),
    };
    let by = |o: &Override| match &o.actor {
        Some(a) => format!("by @{a}"),
        None => format!("by the label `{}`", o.label),
    };
    let (headline, summary) = match verdict {
        Verdict::Pass => ("passes".to_string(), format!("passes: {}", passes())),
        Verdict::Blocked => ("blocked".to_string(), format!("blocked: {}", why_blocks())),
        Verdict::Overridden => {
            let o = override_
                .as_ref()
                .expect("an overridden gate has its override");
            let who = match &o.actor {
                Some(a) => format!("@{a} applied the label `{}`", o.label),
                None => format!(
                    "the pull request carries the label `{}` (who applied it is not in this run's event)",
                    o.label
                ),
            };
            (
                format!("overridden {}", by(o)),
                format!(
                    "overridden: {who}; without it this would block: {}",
                    why_blocks()
                ),
            )
        }
        Verdict::Advisory if would_block => (
            "advisory: would block".to_string(),
            format!(
                "advisory mode (not enforced): would block: {}",
                why_blocks()
            ),
        ),
        Verdict::Advisory => (
            "advisory".to_string(),
            format!("advisory mode (not enforced): {}", passes()),
        ),
    };
    Gate {
        mode: settings.mode,
        verdict,
        blocked: verdict == Verdict::Blocked,
        would_block,
        threshold,
        threshold_source,
        critical_paths,
        headline,
        summary,
        reasons,
        override_,
    }
}

/// Why the override label does not count under `override-actors` (`None`: it counts).
fn override_refusal(o: &Override, actors: &[String]) -> Option<String> {
    if actors.is_empty() {
        return None;
    }
    let allowed = actors
        .iter()
        .map(|a| format!("@{a}"))
        .collect::<Vec<_>>()
        .join(", ");
    match &o.actor {
        Some(a) if actors.iter().any(|x| x.eq_ignore_ascii_case(a)) => None,
        Some(a) => Some(format!(
            "the label `{}` was applied by @{a}, who is not in `override-actors`: it does not lift the block; ask {allowed} to apply it",
            o.label
        )),
        None => Some(format!(
            "the label `{}` is on the pull request, but who applied it is not in this run's event, and only {allowed} (`override-actors`) may: it does not lift the block; ask one of them to remove and re-apply it",
            o.label
        )),
    }
}

/// The effective threshold, where it comes from, and the critical paths the change touches.
fn threshold_for(
    report: &Report,
    settings: &GateSettings,
) -> (u8, ThresholdSource, Vec<CriticalMatch>) {
    let paths: BTreeSet<&str> = report
        .change
        .files
        .iter()
        .flat_map(|f| std::iter::once(f.path.as_str()).chain(f.old_path.as_deref()))
        .collect();
    let matching = |globs: &GlobList| -> Vec<&str> {
        paths
            .iter()
            .copied()
            .filter(|p| globs.is_match(p))
            .collect()
    };
    let capped = |files: &[&str]| -> Vec<String> {
        files
            .iter()
            .take(MATCHED_FILES)
            .map(|s| s.to_string())
            .collect()
    };
    let mut applied = Vec::new();
    for (i, t) in settings.thresholds.iter().enumerate() {
        let files = matching(&GlobList::new(t.paths.iter()));
        if !files.is_empty() {
            applied.push(AppliedThreshold {
                source: format!("thresholds[{i}]"),
                threshold: t.threshold,
                paths: t.paths.iter().map(|p| p.as_str().to_string()).collect(),
                files: capped(&files),
                files_total: files.len(),
            });
        }
    }
    let mut critical = Vec::new();
    let mut critical_files: BTreeSet<&str> = BTreeSet::new();
    for p in &settings.critical_paths {
        let files = matching(&GlobList::new(std::iter::once(p)));
        if !files.is_empty() {
            critical_files.extend(files.iter().copied());
            critical.push(CriticalMatch {
                pattern: p.as_str().to_string(),
                files: capped(&files),
                files_total: files.len(),
            });
        }
    }
    if !critical.is_empty() {
        let files: Vec<&str> = critical_files.into_iter().collect();
        applied.push(AppliedThreshold {
            source: "critical-threshold".into(),
            threshold: settings.critical_threshold,
            paths: critical.iter().map(|c| c.pattern.clone()).collect(),
            files: capped(&files),
            files_total: files.len(),
        });
    }
    let configured = settings.threshold;
    let lowest = applied
        .iter()
        .filter(|a| a.threshold < configured)
        .min_by_key(|a| a.threshold);
    let (threshold, why) = match lowest {
        None if applied.is_empty() => (configured, format!("the configured `threshold` {configured}")),
        None => (
            configured,
            format!(
                "the configured `threshold` {configured} (the per-path thresholds that apply are not lower)"
            ),
        ),
        Some(a) => {
            let what = if a.source == "critical-threshold" {
                format!(
                    "`critical-threshold` {}: the change touches critical paths",
                    a.threshold
                )
            } else {
                format!(
                    "`{}` {}: the change touches {}",
                    a.source,
                    a.threshold,
                    a.paths
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            (
                a.threshold,
                format!(
                    "{what} ({}); the configured `threshold` is {configured}",
                    files_phrase(&a.files, a.files_total)
                ),
            )
        }
    };
    (
        threshold,
        ThresholdSource {
            configured,
            applied,
            why,
        },
        critical,
    )
}

/// `` `a.ts`, `b.ts` and 3 more `` — the first three of the files.
fn files_phrase(files: &[String], total: usize) -> String {
    let shown: Vec<String> = files.iter().take(3).map(|f| format!("`{f}`")).collect();
    let rest = total.saturating_sub(shown.len());
    if rest > 0 {
        format!("{} and {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn plural_s(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The reasons of every dimension that adds to the score (and of security when a critical
/// finding trips the gate on its own), largest contribution first.
fn dimension_reasons(
    report: &Report,
    security: &SecuritySettings,
    security_triggered: bool,
) -> Vec<GateReason> {
    let c = &report.composite.contributions;
    let d = &report.dimensions;
    let mut dims = [
        (DimensionName::Impact, c.impact, d.impact.score),
        (DimensionName::Regression, c.regression, d.regression.score),
        (DimensionName::Security, c.security, d.security.score),
        (DimensionName::Coupling, c.coupling, d.coupling.score),
    ];
    // Stable: equal contributions keep the order above.
    dims.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = Vec::new();
    for (name, points, score) in dims {
        let adds = score.is_some_and(|s| s > 0) && points > 0.0;
        let flagged = name == DimensionName::Security && security_triggered;
        if !adds && !flagged {
            continue;
        }
        let mut reasons = match name {
            DimensionName::Impact => impact_reasons(report),
            DimensionName::Regression => regression_reasons(report),
            DimensionName::Security => security_reasons(report, security),
            DimensionName::Coupling => coupling_reasons(report),
        };
        for r in &mut reasons {
            r.dimension = Some(name);
            r.points = Some(round1(points));
        }
        out.extend(reasons);
    }
    out
}

fn reason(code: GateCode, message: String, action: Option<String>) -> GateReason {
    GateReason {
        code,
        dimension: None,
        points: None,
        message,
        action,
    }
}

fn impact_reasons(report: &Report) -> Vec<GateReason> {
    let dim = &report.dimensions.impact;
    let ev = &dim.evidence;
    // The changed file whose changes reach the most code.
    let top = ev
        .files
        .iter()
        .filter(|f| f.reached > 0)
        .max_by_key(|f| (f.reached, std::cmp::Reverse(f.path.as_str())));
    let Some(top) = top else {
        return vec![reason(GateCode::Reach, dim.summary.clone(), None)];
    };
    let others = ev.files.iter().filter(|f| f.reached > 0).count() - 1;
    // A manifest or lock file whose changed dependencies reach their importers.
    let bumps: Vec<&crate::score::impact::DependencyReach> = ev
        .dependencies
        .iter()
        .filter(|d| d.file == top.path && d.importers > 0)
        .collect();
    if top.changed.is_empty() && !bumps.is_empty() {
        let lines: Vec<&str> = bumps.iter().take(3).map(|d| d.summary.as_str()).collect();
        let mut message = format!(
            "the changed dependencies reach {} production file{}: {}",
            ev.reached_files,
            plural_s(ev.reached_files),
            lines.join("; ")
        );
        if bumps.len() > 3 {
            message.push_str(&format!("; and {} more", bumps.len() - 3));
        }
        let names: Vec<String> = bumps
            .iter()
            .take(3)
            .map(|d| format!("`{}`", d.name))
            .collect();
        let mut action = format!(
            "read the release notes of {} for breaking changes and run the tests that reach the files that import {} (`pr-risk affected-tests`)",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        );
        if bumps.iter().any(|d| d.semver.as_deref() == Some("major")) {
            action.push_str("; bump a major version in a pull request of its own");
        }
        return vec![reason(GateCode::Reach, message, Some(action))];
    }
    let names: Vec<String> = top
        .changed
        .iter()
        .take(3)
        .map(|c| format!("`{}`", c.label))
        .collect();
    let names = names.join(", ");
    let mut message = format!(
        "the changed code reaches {} production file{}; {} of the {} dependent{} of `{}` ({} direct) use what changed in it{}",
        ev.reached_files,
        plural_s(ev.reached_files),
        top.reached,
        top.downstream,
        plural_s(top.downstream),
        top.path,
        top.direct,
        if names.is_empty() { String::new() } else { format!(" ({names})") },
    );
    if others > 0 {
        message.push_str(&format!(
            "; {others} other changed file{} reach{} further",
            plural_s(others),
            if others == 1 { "es" } else { "" }
        ));
    }
    let what = if names.is_empty() {
        format!("what `{}` exports", top.path)
    } else {
        names
    };
    let action = format!(
        "keep {what} compatible for the code that uses it, or change the interface in a pull request of its own so its users can be checked one by one; run the tests that reach it (`pr-risk affected-tests`)"
    );
    vec![reason(GateCode::Reach, message, Some(action))]
}

/// Which reason a regression feature speaks for.
fn feature_group(feature: &str) -> GateCode {
    match feature {
        "lines_added" | "code_lines_added" | "hunks" | "lines_deleted" | "files"
        | "directories" | "subsystems" | "entropy" | "new_files" => GateCode::ChangeSize,
        "recent_fixes" | "recent_reverts" | "file_bugs" => GateCode::FixHistory,
        "prior_changes" | "developers" | "file_age" | "lines_before" => GateCode::Churn,
        "author_commits"
        | "author_file_commits"
        | "author_subsystem_commits"
        | "author_bug_share" => GateCode::Unfamiliar,
        "test_share" => GateCode::Untested,
        _ => GateCode::RegressionModel,
    }
}

fn regression_reasons(report: &Report) -> Vec<GateReason> {
    let dim = &report.dimensions.regression;
    let ev = &dim.evidence;
    let raw = &ev.features;
    // Positive contributions, grouped into reasons, largest group first (as the scorer's own
    // reasons are, with the same cut-off).
    let mut groups: Vec<(GateCode, f64, String)> = Vec::new();
    for c in ev.contributions.iter().filter(|c| c.contribution > 0.0) {
        let code = feature_group(&c.feature);
        match groups.iter_mut().find(|g| g.0 == code) {
            Some(g) => g.1 += c.contribution,
            // Contributions are listed largest first: the first of a group speaks for it.
            None => groups.push((code, c.contribution, c.text.clone())),
        }
    }
    groups.retain(|g| g.1 >= 0.05);
    groups.sort_by(|a, b| b.1.total_cmp(&a.1));
    let unreached = &report.guidance.affected_tests.unreached;
    let reviewers: Vec<String> = report
        .guidance
        .reviewers
        .iter()
        .take(2)
        .map(|r| format!("`{}`", r.who))
        .collect();
    let mut out = Vec::new();
    for (code, _, text) in groups.into_iter().take(3) {
        let (message, action) = match code {
            GateCode::ChangeSize => (
                regression::describe("lines_added", raw),
                Some(if raw.subsystems > 1 {
                    format!(
                        "split it: one pull request per subsystem ({} here), each with its tests",
                        raw.subsystems
                    )
                } else if raw.files > 1 {
                    "split it into smaller pull requests that can be reviewed and reverted one by one".to_string()
                } else {
                    "make it smaller: land preparatory refactors separately from the behaviour change".to_string()
                }),
            ),
            GateCode::FixHistory => {
                let fixed = ev
                    .files
                    .iter()
                    .find(|f| !f.recent_fixes.is_empty())
                    .map(|f| {
                        (
                            f.path.clone(),
                            f.recent_fixes[0].sha.clone(),
                            f.recent_fixes[0].subject.clone(),
                        )
                    });
                (
                    text,
                    Some(match fixed {
                        Some((path, sha, subject)) => format!(
                            "add tests for what the earlier fixes of `{path}` repaired (latest: {sha} \"{subject}\"), and ask someone who fixed it to review"
                        ),
                        None => "add tests for what the earlier fixes repaired, and ask someone who fixed this code to review".to_string(),
                    }),
                )
            }
            GateCode::Churn => (
                text,
                Some("ask one of the people who changed these files most to review".to_string()),
            ),
            GateCode::Unfamiliar => (
                text,
                Some(if reviewers.is_empty() {
                    "ask someone who knows this code to review".to_string()
                } else {
                    format!(
                        "ask someone who knows this code to review ({})",
                        reviewers.join(", ")
                    )
                }),
            ),
            GateCode::Untested => {
                let mut message = text;
                if !unreached.is_empty() {
                    message.push_str(&format!(
                        "; no test reaches {}",
                        files_phrase(unreached, unreached.len())
                    ));
                }
                (
                    message,
                    Some(match unreached.first() {
                        Some(p) => format!("add tests: none reaches `{p}`"),
                        None => "add or update tests with the change".to_string(),
                    }),
                )
            }
            _ => (text, None),
        };
        out.push(reason(code, message, action));
    }
    // Changed files no test reaches, when the model did not already say so.
    if !unreached.is_empty() && !out.iter().any(|r| r.code == GateCode::Untested) {
        out.push(reason(
            GateCode::Untested,
            format!(
                "no test reaches {}",
                files_phrase(unreached, unreached.len())
            ),
            Some(format!("add tests: none reaches `{}`", unreached[0])),
        ));
    }
    if out.is_empty() {
        out.push(reason(
            GateCode::RegressionModel,
            dim.summary.clone(),
            Some("smaller changes that come with tests score lower".to_string()),
        ));
    }
    out
}

fn security_reasons(report: &Report, settings: &SecuritySettings) -> Vec<GateReason> {
    let dim = &report.dimensions.security;
    let ev = &dim.evidence;
    // New findings, most severe first; changed pre-existing ones only score with a
    // `changed-weight`, and are named only when there is nothing new.
    let (list, what): (Vec<&Finding>, &str) = if ev.new.is_empty() {
        (
            ev.changed.iter().collect(),
            "pre-existing finding in code this change touched",
        )
    } else {
        (ev.new.iter().collect(), "new finding")
    };
    let mut list = list;
    list.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.path.cmp(&b.path))
            .then(a.line.cmp(&b.line))
    });
    let mut out: Vec<GateReason> = list
        .iter()
        .take(LISTED)
        .map(|f| {
            let fix = f.fix.trim().trim_end_matches('.');
            let justify = match settings.pr_suppressions {
                // A manifest has no comments to justify a dependency finding with.
                _ if f.rule.starts_with(security::DEPENDENCY_PREFIX) => String::new(),
                PrSuppressions::Deny => String::new(),
                _ if f.severity == Severity::Critical
                    && settings.pr_suppressions != PrSuppressions::Allow =>
                {
                    String::new()
                }
                _ => format!(
                    "; or, if intended, justify it with `pr-risk-ignore[{}]: <reason>` on the line",
                    f.rule
                ),
            };
            let action = if fix.is_empty() {
                format!("remove it{justify}")
            } else {
                format!("{fix}{justify}")
            };
            reason(
                GateCode::SecurityFinding,
                format!(
                    "{what} `{}` ({}) at `{}:{}`: {}",
                    f.rule, f.severity, f.path, f.line, f.message
                ),
                Some(action),
            )
        })
        .collect();
    if list.len() > LISTED {
        out.push(reason(
            GateCode::SecurityFinding,
            format!(
                "and {} more {what}{} (all of them are in the report)",
                list.len() - LISTED,
                plural_s(list.len() - LISTED)
            ),
            None,
        ));
    }
    if out.is_empty() {
        out.push(reason(GateCode::SecurityFinding, dim.summary.clone(), None));
    }
    out
}

fn coupling_reasons(report: &Report) -> Vec<GateReason> {
    let dim = &report.dimensions.coupling;
    let ev = &dim.evidence;
    let mut list: Vec<&Violation> = ev.introduced.iter().collect();
    // Errors before warnings, then as the scorer sorted them.
    list.sort_by_key(|v| v.severity);
    let removed = ev.removed.len();
    let mut out: Vec<GateReason> = list
        .iter()
        .take(LISTED)
        .map(|v| {
            let at = format!("`{}:{}`", v.from, v.line);
            match v.rule.as_str() {
                CYCLE_RULE => reason(
                    GateCode::ImportCycle,
                    if v.cycle.is_empty() {
                        format!("new import cycle through `{}` → `{}`", v.from, v.to)
                    } else {
                        format!(
                            "new import cycle: {}",
                            v.cycle
                                .iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(" → ")
                        )
                    },
                    Some(format!(
                        "break it: remove or invert the import of `{}` at {at} (move what both need into a module of its own)",
                        v.to
                    )),
                ),
                DEEP_IMPORT_RULE => reason(
                    GateCode::DeepImport,
                    format!(
                        "new deep import at {at}: `{}`{}",
                        v.to,
                        v.detail
                            .as_ref()
                            .map(|d| format!(" {d}"))
                            .unwrap_or_default()
                    ),
                    Some("import it through the package's public entry (its name or an `exports` subpath)".to_string()),
                ),
                rule => reason(
                    GateCode::BoundaryViolation,
                    format!(
                        "new boundary violation: `{}` imports `{}` at line {} (rule {rule}{})",
                        v.from,
                        v.to,
                        v.line,
                        if v.description.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", v.description)
                        }
                    ),
                    Some(format!(
                        "remove the import at {at}, or move the code so that rule {rule} holds"
                    )),
                ),
            }
        })
        .collect();
    if list.len() > LISTED {
        out.push(reason(
            GateCode::BoundaryViolation,
            format!(
                "and {} more new violation{} (all of them are in the report)",
                list.len() - LISTED,
                plural_s(list.len() - LISTED)
            ),
            None,
        ));
    }
    if let (Some(first), true) = (out.first_mut(), removed > 0) {
        first.message.push_str(&format!(
            " (the change also removes {removed} violation{})",
            plural_s(removed)
        ));
    }
    if out.is_empty() {
        out.push(reason(
            GateCode::BoundaryViolation,
            dim.summary.clone(),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::diff::{ChangedFile, Status};
    use crate::score::coupling::rules::Severity as Level;
    use crate::score::impact::ImpactFile;
    use crate::score::regression::Contribution;
    use crate::score::{composite, Weights};

    fn changed(path: &str) -> ChangedFile {
        ChangedFile {
            path: path.into(),
            old_path: None,
            status: Status::Modified,
            similarity: None,
            additions: 3,
            deletions: 1,
            added_lines: Vec::new(),
            removed_lines: Vec::new(),
            binary: false,
            oversize: false,
            symlink: false,
            submodule: false,
            missing: false,
            old_oid: None,
            new_oid: None,
        }
    }

    fn finding(rule: &str, severity: Severity, path: &str, line: u32) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            path: path.into(),
            line,
            column: 1,
            end_line: line,
            message: "bad thing".into(),
            cwe: "CWE-95".into(),
            owasp: None,
            fix: "Do not do the bad thing.".into(),
            snippet: String::new(),
            identity: Default::default(),
            fingerprint: String::new(),
            source: None,
            suppressed: None,
            suppressed_by_pr: false,
            norm: String::new(),
        }
    }

    fn violation(rule: &str, from: &str, to: &str) -> Violation {
        Violation {
            rule: rule.into(),
            severity: Level::Error,
            builtin: rule != "no-web-to-db",
            from: from.into(),
            line: 4,
            to: to.into(),
            specifier: to.into(),
            type_only: false,
            description: "web talks to the API, never to the database".into(),
            detail: (rule == DEEP_IMPORT_RULE)
                .then(|| "reaches into package `@acme/db` (packages/db/)".to_string()),
            cycle: if rule == CYCLE_RULE {
                vec![from.into(), to.into(), from.into()]
            } else {
                Vec::new()
            },
        }
    }

    /// A report with the four dimensions at these scores and evidence behind each.
    fn report(impact: u8, regression: u8, security: u8, coupling: u8) -> Report {
        let mut r = Report::empty("a", "b");
        r.change.files = vec![
            changed("src/auth/login.ts"),
            changed("packages/billing/src/invoice.ts"),
            changed("src/web/page.ts"),
        ];
        let d = &mut r.dimensions;
        d.impact.available = true;
        d.regression.available = true;
        d.security.available = true;
        d.coupling.available = true;
        d.impact.score = Some(impact);
        d.regression.score = Some(regression);
        d.security.score = Some(security);
        d.coupling.score = Some(coupling);
        d.impact.evidence.reach = 41.0;
        d.impact.evidence.reached_files = 41;
        d.impact.evidence.files = vec![ImpactFile {
            path: "src/auth/login.ts".into(),
            graph: "head",
            direct: 6,
            downstream: 41,
            tests: 2,
            dependents: Vec::new(),
            dependents_truncated: false,
            stopped_at: Vec::new(),
            changed: Vec::new(),
            whole: None,
            data: None,
            reached: 41,
            reached_tests: 2,
        }];
        let ev = &mut d.regression.evidence;
        ev.features.files = 9;
        ev.features.directories = 5;
        ev.features.subsystems = 3;
        ev.features.lines_added = 420;
        ev.features.lines_deleted = 30;
        ev.contributions = vec![
            Contribution {
                feature: "code_lines_added".into(),
                value: 1.0,
                contribution: 0.8,
                text: "+420 −30".into(),
            },
            Contribution {
                feature: "subsystems".into(),
                value: 1.0,
                contribution: 0.3,
                text: "3 subsystems".into(),
            },
            Contribution {
                feature: "test_share".into(),
                value: 0.0,
                contribution: 0.2,
                text: "no test lines added".into(),
            },
            Contribution {
                feature: "author_commits".into(),
                value: 0.0,
                contribution: -0.4,
                text: "the author made 300 commits before".into(),
            },
        ];
        d.security.evidence.new = vec![
            finding("rust/unsafe", Severity::Medium, "src/x.rs", 12),
            finding("ts/eval", Severity::High, "src/web/page.ts", 3),
        ];
        d.coupling.evidence.introduced = vec![
            violation("no-web-to-db", "src/web/page.ts", "src/db/client.ts"),
            violation(CYCLE_RULE, "src/a.ts", "src/b.ts"),
            violation(
                DEEP_IMPORT_RULE,
                "src/web/page.ts",
                "packages/db/src/internal.ts",
            ),
        ];
        d.coupling.evidence.removed =
            vec![violation("no-web-to-db", "src/web/old.ts", "src/db/x.ts")];
        r.guidance.affected_tests.unreached = vec!["src/web/page.ts".into()];
        r.composite = composite(
            &Weights::default(),
            Some(impact),
            Some(regression),
            Some(security),
            Some(coupling),
        );
        r
    }

    fn gate(r: &Report, s: &GateSettings) -> Gate {
        decide(r, s, &SecuritySettings::default(), None)
    }

    #[test]
    fn a_clear_pass_has_nothing_to_say() {
        let r = report(10, 10, 10, 0);
        let g = gate(&r, &GateSettings::default());
        assert_eq!(g.verdict, Verdict::Pass);
        assert!(!g.blocked && !g.would_block);
        assert!(g.reasons.is_empty());
        assert_eq!(g.headline, "passes");
        assert_eq!(g.summary, "passes: risk score 9 is under the threshold 70");
        assert_eq!(g.verdict.conclusion(), "success");
    }

    #[test]
    fn a_block_names_each_dimension_by_contribution_with_what_to_do() {
        // 0.25·60 + 0.30·90 + 0.30·60 + 0.15·84 = 15 + 27 + 18 + 12.6 = 72.6 → 73
        let r = report(60, 90, 60, 84);
        let g = gate(&r, &GateSettings::default());
        assert_eq!(g.verdict, Verdict::Blocked);
        assert!(g.blocked);
        assert_eq!(g.verdict.conclusion(), "failure");
        assert_eq!(g.reasons[0].code, GateCode::ScoreAboveThreshold);
        assert_eq!(
            g.reasons[0].message,
            "risk score 73 is above the threshold 70"
        );
        let dims: Vec<DimensionName> = g.reasons.iter().filter_map(|r| r.dimension).collect();
        let mut order = dims.clone();
        order.dedup();
        assert_eq!(
            order,
            vec![
                DimensionName::Regression,
                DimensionName::Security,
                DimensionName::Impact,
                DimensionName::Coupling
            ]
        );
        let find = |code| g.reasons.iter().find(|r| r.code == code).unwrap();
        let size = find(GateCode::ChangeSize);
        assert_eq!(size.points, Some(27.0));
        assert!(
            size.message.contains("across 9 files in 3 subsystems"),
            "{}",
            size.message
        );
        assert_eq!(
            size.action.as_deref(),
            Some("split it: one pull request per subsystem (3 here), each with its tests")
        );
        let tests = find(GateCode::Untested);
        assert_eq!(
            tests.message,
            "no test lines added; no test reaches `src/web/page.ts`"
        );
        assert_eq!(
            tests.action.as_deref(),
            Some("add tests: none reaches `src/web/page.ts`")
        );
        // A negative contribution is never a reason.
        assert!(g.reasons.iter().all(|r| r.code != GateCode::Unfamiliar));
        // Security: most severe first, with the rule's fix and how to justify it.
        let sec: Vec<&GateReason> = g
            .reasons
            .iter()
            .filter(|r| r.code == GateCode::SecurityFinding)
            .collect();
        assert_eq!(
            sec[0].message,
            "new finding `ts/eval` (high) at `src/web/page.ts:3`: bad thing"
        );
        assert_eq!(
            sec[0].action.as_deref(),
            Some("Do not do the bad thing; or, if intended, justify it with `pr-risk-ignore[ts/eval]: <reason>` on the line")
        );
        assert!(sec[1]
            .message
            .contains("`rust/unsafe` (medium) at `src/x.rs:12`"));
        let reach = find(GateCode::Reach);
        assert_eq!(
            reach.message,
            "the changed code reaches 41 production files; 41 of the 41 dependents of `src/auth/login.ts` (6 direct) use what changed in it"
        );
        let boundary = find(GateCode::BoundaryViolation);
        assert_eq!(
            boundary.message,
            "new boundary violation: `src/web/page.ts` imports `src/db/client.ts` at line 4 (rule no-web-to-db: web talks to the API, never to the database) (the change also removes 1 violation)"
        );
        assert_eq!(
            find(GateCode::ImportCycle).message,
            "new import cycle: `src/a.ts` → `src/b.ts` → `src/a.ts`"
        );
        assert!(find(GateCode::DeepImport)
            .message
            .contains("reaches into package `@acme/db`"));
        assert!(g.summary.starts_with("blocked: risk score 73 is above"));
    }

    #[test]
    fn a_pass_near_the_threshold_says_so() {
        // 0.25·60 + 0.30·70 + 0.30·60 + 0.15·60 = 15 + 21 + 18 + 9 = 63
        let r = report(60, 70, 60, 60);
        let g = gate(&r, &GateSettings::default());
        assert_eq!(g.verdict, Verdict::Pass);
        assert_eq!(g.reasons[0].code, GateCode::NearThreshold);
        assert_eq!(
            g.reasons[0].message,
            "risk score 63 passes, 7 points under the threshold 70"
        );
        assert!(g.reasons.len() > 1, "the drivers follow");
        assert_eq!(
            g.summary,
            "passes: risk score 63 passes, 7 points under the threshold 70"
        );
        let off = GateSettings {
            near_threshold: 5,
            ..GateSettings::default()
        };
        assert!(gate(&r, &off).reasons.is_empty());
    }

    #[test]
    fn a_critical_finding_blocks_and_is_named_even_with_no_security_weight() {
        let mut r = report(0, 0, 80, 0);
        r.dimensions.security.evidence.new = vec![finding(
            "secrets/aws",
            Severity::Critical,
            "src/config.ts",
            2,
        )];
        let w = Weights {
            security: 0.0,
            ..Weights::default()
        };
        r.composite = composite(&w, Some(0), Some(0), Some(80), Some(0));
        let g = gate(&r, &GateSettings::default());
        assert!(g.blocked);
        assert_eq!(g.reasons[0].code, GateCode::NewCriticalFinding);
        let sec = &g.reasons[1];
        assert_eq!(sec.dimension, Some(DimensionName::Security));
        // A critical finding the PR suppresses itself still blocks: no advice to suppress it.
        assert_eq!(sec.action.as_deref(), Some("Do not do the bad thing"));
    }

    #[test]
    fn the_override_label_turns_a_block_into_a_recorded_pass() {
        let r = report(60, 90, 60, 84);
        let labels = PrLabels {
            names: vec!["pr-risk:accepted".into()],
            labeled: Some(("pr-risk:accepted".into(), "lead".into())),
        };
        let o = labels.override_for(DEFAULT_OVERRIDE_LABEL).unwrap();
        let g = decide(
            &r,
            &GateSettings::default(),
            &SecuritySettings::default(),
            Some(&o),
        );
        assert_eq!(g.verdict, Verdict::Overridden);
        assert!(!g.blocked && g.would_block);
        assert_eq!(g.verdict.conclusion(), "success");
        assert_eq!(g.headline, "overridden by @lead");
        assert!(g.summary.starts_with("overridden: @lead applied the label `pr-risk:accepted`; without it this would block: risk score 73"), "{}", g.summary);
        assert!(g.override_.as_ref().unwrap().applied);
        assert!(!g.reasons.is_empty(), "what was overridden stays on record");
        // Without the actor (a push after the label was applied).
        let o = PrLabels {
            names: vec!["PR-Risk:Accepted".into()],
            labeled: None,
        }
        .override_for(DEFAULT_OVERRIDE_LABEL)
        .unwrap();
        let g = decide(
            &r,
            &GateSettings::default(),
            &SecuritySettings::default(),
            Some(&o),
        );
        assert_eq!(g.headline, "overridden by the label `pr-risk:accepted`");
        // Present but not needed: recorded, not applied.
        let pass = report(10, 10, 10, 0);
        let g = decide(
            &pass,
            &GateSettings::default(),
            &SecuritySettings::default(),
            Some(&o),
        );
        assert_eq!(g.verdict, Verdict::Pass);
        assert!(!g.override_.unwrap().applied);
    }

    #[test]
    fn the_override_label_counts_only_from_an_allowed_actor() {
        let r = report(60, 90, 60, 84);
        let s = GateSettings {
            override_actors: vec!["Lead".into(), "release[bot]".into()],
            ..GateSettings::default()
        };
        let by = |who: Option<&str>| Override {
            label: DEFAULT_OVERRIDE_LABEL.into(),
            actor: who.map(str::to_string),
            applied: false,
            refused: None,
        };
        let sec = SecuritySettings::default();
        // An allowed actor (logins compare case-insensitively).
        let g = decide(&r, &s, &sec, Some(&by(Some("lead"))));
        assert_eq!(g.verdict, Verdict::Overridden);
        assert!(g.override_.as_ref().unwrap().refused.is_none());
        // Anyone else: still blocked, and the report says why and who may.
        let g = decide(&r, &s, &sec, Some(&by(Some("author"))));
        assert_eq!(g.verdict, Verdict::Blocked);
        assert!(g.blocked);
        let o = g.override_.as_ref().unwrap();
        assert!(!o.applied);
        let why = o.refused.as_deref().unwrap();
        assert_eq!(why, "the label `pr-risk:accepted` was applied by @author, who is not in `override-actors`: it does not lift the block; ask @Lead, @release[bot] to apply it");
        let own: Vec<GateCode> = g
            .reasons
            .iter()
            .take_while(|r| r.dimension.is_none())
            .map(|r| r.code)
            .collect();
        assert_eq!(
            own,
            vec![GateCode::ScoreAboveThreshold, GateCode::OverrideRefused]
        );
        assert!(
            !g.summary.contains("override-actors"),
            "the summary says what blocks: {}",
            g.summary
        );
        // An unknown actor (a push after the label) does not count either.
        let g = decide(&r, &s, &sec, Some(&by(None)));
        assert_eq!(g.verdict, Verdict::Blocked);
        assert!(g.override_.unwrap().refused.unwrap().contains("re-apply"));
        // Nothing to override: a pass stays a pass, with no refusal reason.
        let g = decide(&report(10, 10, 10, 0), &s, &sec, Some(&by(Some("author"))));
        assert_eq!(g.verdict, Verdict::Pass);
        assert!(g.reasons.is_empty());
        // Logins are checked.
        for bad in ["@lead", "", "a b", "-x", "x--y", &"a".repeat(40)] {
            let s = GateSettings {
                override_actors: vec![bad.to_string()],
                ..GateSettings::default()
            };
            assert_eq!(s.validate().unwrap_err().key, "override-actors", "{bad:?}");
        }
    }

    #[test]
    fn advisory_mode_never_blocks_and_says_what_it_would_do() {
        let r = report(60, 90, 60, 84);
        let s = GateSettings {
            mode: Mode::Advisory,
            ..GateSettings::default()
        };
        let g = gate(&r, &s);
        assert_eq!(g.verdict, Verdict::Advisory);
        assert!(!g.blocked && g.would_block);
        assert_eq!(g.verdict.conclusion(), "neutral");
        assert_eq!(g.headline, "advisory: would block");
        let g = gate(&report(10, 10, 10, 0), &s);
        assert_eq!(g.verdict, Verdict::Advisory);
        assert!(!g.would_block);
        assert_eq!(g.headline, "advisory");
    }

    #[test]
    fn per_path_and_critical_thresholds_lower_the_bar_and_say_why() {
        let r = report(60, 70, 60, 60); // 63
        let s = GateSettings {
            thresholds: vec![
                PathThreshold {
                    paths: crate::glob::patterns(&["packages/billing/**"]),
                    threshold: 60,
                },
                PathThreshold {
                    paths: crate::glob::patterns(&["docs/**"]),
                    threshold: 10,
                },
            ],
            critical_paths: crate::glob::patterns(&["**/auth/**", "**/payments/**"]),
            ..GateSettings::default()
        };
        let g = gate(&r, &s);
        assert_eq!(g.threshold, 50);
        assert!(g.blocked);
        assert_eq!(
            g.reasons[0].message,
            "risk score 63 is above the threshold 50"
        );
        let applied: Vec<(&str, u8)> = g
            .threshold_source
            .applied
            .iter()
            .map(|a| (a.source.as_str(), a.threshold))
            .collect();
        assert_eq!(
            applied,
            vec![("thresholds[0]", 60), ("critical-threshold", 50)]
        );
        assert_eq!(
            g.threshold_source.why,
            "`critical-threshold` 50: the change touches critical paths (`src/auth/login.ts`); the configured `threshold` is 70"
        );
        assert_eq!(g.critical_paths.len(), 1);
        assert_eq!(g.critical_paths[0].pattern, "**/auth/**");
        assert_eq!(g.critical_paths[0].files, vec!["src/auth/login.ts"]);
        // Only the per-path entry: its globs and files are named.
        let s = GateSettings {
            critical_paths: Vec::new(),
            ..s
        };
        let g = gate(&r, &s);
        assert_eq!(g.threshold, 60);
        assert_eq!(
            g.threshold_source.why,
            "`thresholds[0]` 60: the change touches `packages/billing/**` (`packages/billing/src/invoice.ts`); the configured `threshold` is 70"
        );
        // A per-path threshold never raises the bar.
        let s = GateSettings {
            thresholds: vec![PathThreshold {
                paths: crate::glob::patterns(&["src/**"]),
                threshold: 90,
            }],
            ..GateSettings::default()
        };
        let g = gate(&r, &s);
        assert_eq!(g.threshold, 70);
        assert!(g.threshold_source.why.contains("not lower"));
    }

    #[test]
    fn settings_are_validated() {
        assert!(GateSettings::default().validate().is_ok());
        let bad = GateSettings {
            thresholds: vec![PathThreshold {
                paths: Vec::new(),
                threshold: 50,
            }],
            ..GateSettings::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!((e.key, e.entry), ("thresholds", Some(0)));
        let bad = GateSettings {
            override_label: String::new(),
            ..GateSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "override-label");
    }
}
