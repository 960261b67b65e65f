//! The report: one serializable model that holds everything every output needs.
//!
//! Renderers and outlets read it and never compute. Field names are stable (documented in the
//! README, versioned by `schema_version`); output is deterministic — no timestamps, sorted lists.

use serde::Serialize;

use crate::diff::ChangedFile;
use crate::revisions::Revisions;
use crate::score::coupling::CouplingEvidence;
use crate::score::impact::ImpactEvidence;
use crate::score::regression::RegressionEvidence;
use crate::score::security::SecurityEvidence;
use crate::score::{Composite, Dimension};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub revisions: Revisions,
    pub config: ConfigInfo,
    pub change: ChangeSummary,
    pub graph: GraphSummary,
    pub dimensions: Dimensions,
    pub composite: Composite,
    pub gate: Gate,
    /// Things worth knowing about this run: skipped files, resolution problems.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: "pr-risk",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigInfo {
    /// The configuration file used; `null` means the embedded defaults.
    pub source: Option<String>,
    pub threshold: u8,
    /// The commit the settings were read from (action mode: the base), `null` for the working tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_from: Option<String>,
    /// Settings files the pull request changes; not applied until merged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_by_pr: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeSummary {
    pub files_changed: usize,
    pub additions: u32,
    pub deletions: u32,
    pub files: Vec<ChangedFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphSummary {
    /// Files (nodes) in the head graph.
    pub files: usize,
    /// Resolved imports (edges) in the head graph.
    pub edges: usize,
    pub unresolved_external: usize,
    pub unresolved_builtin: usize,
    pub unresolved_missing: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dimensions {
    pub impact: Dimension<ImpactEvidence>,
    pub regression: Dimension<RegressionEvidence>,
    pub security: Dimension<SecurityEvidence>,
    pub coupling: Dimension<CouplingEvidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub threshold: u8,
    pub blocked: bool,
    /// Why it blocked (empty when it passed).
    pub reasons: Vec<String>,
}

/// The gate: blocked when the composite is above the threshold, or (with
/// `fail-on-critical-security`) when the change introduces a critical security finding.
/// `new_critical` describes those findings (`rule at path:line`); pass it empty when the option
/// is off.
pub fn decide(composite: &Composite, threshold: u8, new_critical: &[String]) -> Gate {
    let mut reasons = Vec::new();
    if let Some(s) = composite.score {
        if s > threshold {
            reasons.push(format!("risk score {s} is above the threshold {threshold}"));
        }
    }
    if !new_critical.is_empty() {
        reasons.push(format!(
            "{} new critical security finding{} (fail-on-critical-security): {}",
            new_critical.len(),
            if new_critical.len() == 1 { "" } else { "s" },
            new_critical.join(", ")
        ));
    }
    Gate {
        threshold,
        blocked: !reasons.is_empty(),
        reasons,
    }
}
