//! The report: one serializable model that holds everything every output needs.
//!
//! Renderers and outlets read it and never compute. Field names are stable (documented in
//! docs/scores.md, "The JSON report", and versioned by `schema_version`); output is deterministic:
//! no timestamps, sorted lists.

pub mod gate;

use serde::Serialize;

pub use self::gate::{Gate, GateCode, GateReason, GateSettings, Mode, Override, PrLabels, Verdict};
pub use crate::deps::Dependencies;
pub use crate::git::diff::ChangedFile;
pub use crate::git::revisions::Revisions;
use crate::guide::Guidance;
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
    /// Who should review and which tests reach the change (advice, not scored).
    pub guidance: Guidance,
    /// The dependencies the change adds, removes, upgrades or moves, who imports them, and their
    /// known vulnerabilities (see docs/dependencies.md).
    pub dependencies: Dependencies,
    /// Things worth knowing about this run: skipped files, resolution problems.
    pub notes: Vec<Note>,
}

/// Something worth knowing about a run, with a stable code (documented in docs/scores.md).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Note {
    pub code: NoteCode,
    pub message: String,
}

impl Note {
    pub fn new(code: NoteCode, message: impl Into<String>) -> Note {
        Note {
            code,
            message: message.into(),
        }
    }
}

/// What a [`Note`] is about.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum NoteCode {
    /// The pull request changes pr-risk's own settings; the base's were used.
    SettingsChangedByPr,
    /// A changed file was listed but not analysed (binary, symlink, submodule, too large,
    /// unparsable).
    FileNotAnalysed,
    /// Module resolution could not follow something (a tsconfig that cannot load, a missing
    /// module file).
    Resolution,
    /// Paths whose names are not valid UTF-8 were skipped.
    NonUtf8Paths,
    /// A commit or object missing from the checkout was fetched.
    Fetched,
    /// The checkout is shallow or partial: history-based evidence may be incomplete.
    IncompleteHistory,
    /// An input exceeded a safety cap (nesting depth, file size, finding count): the part beyond
    /// it was not analysed or not sent, and the note says which.
    LimitReached,
    /// A cache directory was refused (inside the checkout in action mode, or a symbolic link):
    /// the run computed everything afresh.
    CacheNotUsed,
    /// A lock file or manifest could not be read: that project's dependency changes are not
    /// reported.
    Lockfile,
    /// Known vulnerabilities of the changed dependencies were not checked (offline, turned off,
    /// or the advisory database did not answer).
    AdvisoriesNotChecked,
}

impl NoteCode {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteCode::SettingsChangedByPr => "settings-changed-by-pr",
            NoteCode::FileNotAnalysed => "file-not-analysed",
            NoteCode::Resolution => "resolution",
            NoteCode::NonUtf8Paths => "non-utf8-paths",
            NoteCode::Fetched => "fetched",
            NoteCode::IncompleteHistory => "incomplete-history",
            NoteCode::LimitReached => "limit-reached",
            NoteCode::CacheNotUsed => "cache-not-used",
            NoteCode::Lockfile => "lockfile",
            NoteCode::AdvisoriesNotChecked => "advisories-not-checked",
        }
    }
}

impl Report {
    /// A report of an empty change between two revisions with every dimension unavailable: the
    /// starting point for renderer previews and outlet tests, which fill in what they show.
    pub fn empty(base_sha: &str, head_sha: &str) -> Report {
        let weights = crate::score::Weights::default();
        let none = "not computed";
        let dimensions = Dimensions {
            impact: Dimension::unavailable(weights.impact, none),
            regression: Dimension::unavailable(weights.regression, none),
            security: Dimension::unavailable(weights.security, none),
            coupling: Dimension::unavailable(weights.coupling, none),
        };
        let composite = crate::score::composite(&weights, None, None, None, None);
        let gate = Gate::pass(70);
        let revision = |sha: &str| crate::git::revisions::Revision {
            rev: sha.to_string(),
            sha: sha.to_string(),
        };
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            revisions: Revisions {
                base: revision(base_sha),
                head: revision(head_sha),
                merge_base: base_sha.to_string(),
                merge_base_oid: crate::git::Oid::ZERO_SHA1,
                head_oid: crate::git::Oid::ZERO_SHA1,
                workdir: Default::default(),
            },
            config: ConfigInfo {
                source: None,
                threshold: 70,
                read_from: None,
                changed_by_pr: Vec::new(),
            },
            change: ChangeSummary {
                files_changed: 0,
                additions: 0,
                deletions: 0,
                files: Vec::new(),
            },
            graph: GraphSummary {
                files: 0,
                edges: 0,
                unresolved_external: 0,
                unresolved_builtin: 0,
                unresolved_missing: 0,
            },
            dimensions,
            composite,
            gate,
            guidance: Guidance::default(),
            dependencies: Dependencies::default(),
            notes: Vec::new(),
        }
    }
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
            version: crate::VERSION,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigInfo {
    /// The configuration file used; `null` means the embedded defaults.
    pub source: Option<String>,
    /// The configured threshold (the gate's effective one is `gate.threshold`).
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
