//! Reviewer guidance: who should review the change, which tests reach it, and which files usually
//! change with it but were left alone.
//!
//! - [`codeowners`]: GitHub's `CODEOWNERS` (read from the base commit) with its exact syntax and
//!   last-match-wins precedence;
//! - [`people`]: commit authors as people (the base's `.mailmap`, GitHub logins from no-reply
//!   e-mails, bots, co-authors);
//! - [`authorship`]: who knows the changed code, from the mined history (time-decayed commits to
//!   the changed files, and who wrote the lines the change edits);
//! - [`reviewers`]: the suggested reviewers, owners and authors merged;
//! - [`partners`]: expected partners (files that usually change with a changed file, linked to it
//!   by an import or as its test, that the change leaves alone);
//! - [`affected`]: the test files that reach the changed files through the dependency graph.
//!
//! Guidance is advice for the reviewer, never part of the score.

pub mod affected;
pub mod authorship;
pub mod codeowners;
pub mod partners;
pub mod people;
pub mod reviewers;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::git::diff::ChangeSet;
use crate::git::mailmap::Mailmap;
use crate::glob::GlobList;
use crate::graph::DepGraph;

pub use affected::AffectedTests;
pub use authorship::HistoryInput;
pub use partners::Partner;
pub use reviewers::Reviewer;

/// `guidance:` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct GuidanceSettings {
    /// Suggest reviewers (from CODEOWNERS and the history of the changed files).
    pub reviewers: bool,
    /// How many reviewers to suggest.
    pub max_reviewers: usize,
    /// Rank the people who know the changed code (from the history) with the owners; off:
    /// CODEOWNERS only.
    pub authorship: bool,
    /// Authorship decays with this half-life: a commit this many days older than the merge-base
    /// counts half.
    pub half_life_days: u32,
    /// List the tests that reach the change.
    pub affected_tests: bool,
    /// List the expected partners (files that usually change with a changed file).
    pub partners: bool,
    /// Commits that changed both files, at least.
    pub partners_min_support: u32,
    /// Share of the changed file's commits that also changed the partner, at least (0–1).
    pub partners_min_confidence: f64,
}

impl Default for GuidanceSettings {
    fn default() -> Self {
        GuidanceSettings {
            reviewers: true,
            max_reviewers: 3,
            authorship: true,
            half_life_days: 180,
            affected_tests: true,
            partners: true,
            partners_min_support: 5,
            partners_min_confidence: 0.6,
        }
    }
}

impl GuidanceSettings {
    /// `Err((key, message))` on an invalid value.
    pub fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        if self.half_life_days == 0 {
            return Err((
                "half-life-days",
                "`guidance.half-life-days` must be at least 1".to_string(),
            ));
        }
        if self.partners_min_support == 0 {
            return Err((
                "partners-min-support",
                "`guidance.partners-min-support` must be at least 1".to_string(),
            ));
        }
        let c = self.partners_min_confidence;
        if !(c > 0.0 && c <= 1.0) {
            return Err((
                "partners-min-confidence",
                format!("`guidance.partners-min-confidence` must be above 0 and at most 1 (a share, 0.6 for 60 %), not {c}"),
            ));
        }
        Ok(())
    }
}

/// Everything the report says to guide the review.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Guidance {
    /// Suggested reviewers, best first.
    pub reviewers: Vec<Reviewer>,
    /// Where the owners came from (`.github/CODEOWNERS`), when a CODEOWNERS file exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codeowners: Option<String>,
    pub affected_tests: AffectedTests,
    /// Files that usually change with a changed file and were not changed, best first.
    pub partners: Vec<Partner>,
    /// What could not be used (CODEOWNERS lines GitHub does not support either, a history that
    /// could not be read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the reviewer suggestions and the expected partners read.
pub struct ReviewInput<'a> {
    pub changes: &'a ChangeSet,
    /// `CODEOWNERS` of the base commit, if it has one.
    pub owners: Option<&'a codeowners::CodeOwners>,
    /// `.mailmap` of the base commit (empty when it has none).
    pub mailmap: Mailmap,
    pub author: reviewers::Author,
    /// The mined history, or why there is none.
    pub history: std::result::Result<HistoryInput<'a>, String>,
    /// The merge-base's dependency graph (partners must be linked in it).
    pub base_graph: &'a DepGraph,
    pub tests: &'a GlobList,
    /// Whether a changed file counts for authorship (source and test files).
    pub code: &'a dyn Fn(&str) -> bool,
}

/// The suggested reviewers and the expected partners of a change, and notes on what could not be
/// used; `settings` says which to compute.
pub fn review(
    input: ReviewInput,
    settings: &GuidanceSettings,
) -> (Vec<Reviewer>, Vec<Partner>, Vec<String>) {
    let mut notes = Vec::new();
    let wanted = settings.reviewers && settings.authorship || settings.partners;
    let history = match (&input.history, wanted) {
        (Ok(h), true) if !h.commits.is_empty() => Some(h),
        (Ok(_), true) => {
            notes.push(
                "the history before the merge-base is empty: reviewers come from CODEOWNERS only, and no expected partners are listed".to_string(),
            );
            None
        }
        (Err(why), true) => {
            notes.push(format!(
                "the history could not be read ({why}): reviewers come from CODEOWNERS only, and no expected partners are listed"
            ));
            None
        }
        (_, false) => None,
    };
    let mut reviewers = Vec::new();
    if settings.reviewers {
        let all: Vec<&str> = input
            .changes
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        let mut people = people::People::new(input.mailmap);
        let known = match history.filter(|_| settings.authorship) {
            Some(h) => {
                let with_base: Vec<&str> = input
                    .changes
                    .files
                    .iter()
                    .filter_map(|f| f.base_path())
                    .collect();
                let code: Vec<&str> = with_base
                    .iter()
                    .copied()
                    .filter(|p| (input.code)(p))
                    .collect();
                let considered = if code.is_empty() { with_base } else { code };
                authorship::knowledge(h, &considered, settings.half_life_days, &mut people)
            }
            None => Vec::new(),
        };
        reviewers = reviewers::suggest(
            input.owners,
            &all,
            &known,
            &mut people,
            &input.author,
            settings.max_reviewers,
        );
    }
    let mut partners = Vec::new();
    if let (true, Some(h)) = (settings.partners, history) {
        let changed: Vec<(&str, Option<&str>)> = input
            .changes
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.base_path()))
            .collect();
        let touched: HashSet<&str> = input
            .changes
            .files
            .iter()
            .flat_map(|f| [Some(f.path.as_str()), f.old_path.as_deref()])
            .flatten()
            .collect();
        partners = partners::partners(
            h,
            &changed,
            &touched,
            input.base_graph,
            input.tests,
            partners::Thresholds {
                min_support: settings.partners_min_support,
                min_confidence: settings.partners_min_confidence,
            },
        );
    }
    (reviewers, partners, notes)
}
