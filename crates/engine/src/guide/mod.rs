//! Reviewer guidance: who should review the change and which tests reach it.
//!
//! - [`codeowners`]: GitHub's `CODEOWNERS` (read from the base commit) with its exact syntax and
//!   last-match-wins precedence;
//! - [`reviewers`]: the suggested reviewers, from the owners of the changed files (and, where the
//!   history is mined, the people who know the changed code);
//! - [`affected`]: the test files that reach the changed files through the dependency graph.
//!
//! Guidance is advice for the reviewer, never part of the score.

pub mod affected;
pub mod codeowners;
pub mod reviewers;

use serde::{Deserialize, Serialize};

pub use affected::AffectedTests;
pub use reviewers::Reviewer;

/// `guidance:` settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct GuidanceSettings {
    /// Suggest reviewers (from CODEOWNERS and the history of the changed files).
    pub reviewers: bool,
    /// How many reviewers to suggest.
    pub max_reviewers: usize,
    /// List the tests that reach the change.
    pub affected_tests: bool,
}

impl Default for GuidanceSettings {
    fn default() -> Self {
        GuidanceSettings {
            reviewers: true,
            max_reviewers: 3,
            affected_tests: true,
        }
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
    /// What could not be used (CODEOWNERS lines GitHub does not support either).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
