//! The artifact that carries a result from a fork's `pull_request` run to the `workflow_run` job
//! that publishes it (GitHub's recommended split for pull requests from forks: the run that reads
//! the pull request has a read-only token and no secrets; the run that has them never touches the
//! pull request's code).
//!
//! The directory holds exactly two files:
//! - [`MANIFEST_FILE`]: what the publisher needs besides the report ([`Manifest`]: repository,
//!   pull request number, head and base SHA, head repository);
//! - [`REPORT_FILE`]: the report JSON, as `pr-risk score --format json` writes it.
//!
//! Writing ([`write`]) happens in the pull request's workspace, so it follows the action's rules
//! for files there (inside the workspace, never through a symbolic link). Reading ([`read`])
//! treats the directory as hostile — the pull request's workflow produced it and may have forged
//! it: no other entry, no link, size caps, a manifest with no unknown field, a report whose
//! top-level fields are exactly the report model's, whose facts the publisher acts on parse into
//! typed values ([`Core`]) and agree with each other and with the manifest. Nothing in it is ever
//! printed as it is: the comment and the check are rendered again from the report by pr-risk's
//! own templates, which escape every value.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use engine::error::{Error, Result};
use engine::report::{Report, SCHEMA_VERSION};
use engine::score::coupling::rules::Severity as CouplingSeverity;
use engine::score::security::rules::Severity as SecuritySeverity;
use engine::score::Rating;

use super::workflow;

pub const MANIFEST_FILE: &str = "pr-risk-publish.json";
pub const REPORT_FILE: &str = "pr-risk-report.json";
/// The manifest's `format`.
pub const FORMAT: &str = "pr-risk-artifact/1";
/// Size caps: a manifest is a few hundred bytes; a report with thousands of findings a few MiB.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
pub const MAX_REPORT_BYTES: u64 = 16 * 1024 * 1024;

/// What the publisher needs besides the report. Every field is a claim of the run that wrote it:
/// the publisher checks each against the `workflow_run` event (and GitHub's API) before using it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// `owner/name` of the repository the pull request targets (`GITHUB_REPOSITORY`).
    pub repository: String,
    /// The event that was scored (`pull_request`).
    pub event: String,
    pub pr_number: u64,
    pub head_sha: String,
    pub base_sha: String,
    /// `owner/name` the pull request's commits come from (the fork).
    pub head_repository: String,
    /// The pr-risk version that scored it.
    pub tool_version: String,
}

/// The facts of the report the publisher acts on (the check's conclusion and title, the
/// annotations, the outputs, the reviewers), typed: a wrong type, an out-of-range score or an
/// unknown rating or severity is refused.
#[derive(Debug, Clone, Deserialize)]
pub struct Core {
    pub schema_version: u32,
    pub tool: CoreTool,
    pub revisions: CoreRevisions,
    pub composite: CoreComposite,
    pub gate: CoreGate,
    pub dimensions: CoreDimensions,
    pub guidance: CoreGuidance,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreTool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreRevisions {
    pub base: CoreRevision,
    pub head: CoreRevision,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreRevision {
    pub sha: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoreRating {
    Low,
    Medium,
    High,
    Critical,
}

impl CoreRating {
    fn of(r: Rating) -> CoreRating {
        match r {
            Rating::Low => CoreRating::Low,
            Rating::Medium => CoreRating::Medium,
            Rating::High => CoreRating::High,
            Rating::Critical => CoreRating::Critical,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreComposite {
    pub score: Option<u8>,
    pub rating: Option<CoreRating>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreGate {
    pub threshold: u8,
    pub blocked: bool,
    /// `pass`, `blocked`, `overridden` or `advisory` (absent in reports of older versions).
    #[serde(default)]
    pub verdict: Option<String>,
    pub reasons: Vec<CoreReason>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreReason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreDimensions {
    pub impact: CoreDimension<Value>,
    pub regression: CoreDimension<Value>,
    pub security: CoreDimension<CoreSecurity>,
    pub coupling: CoreDimension<CoreCoupling>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreDimension<E> {
    pub available: bool,
    pub score: Option<u8>,
    pub evidence: E,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CoreSecurity {
    #[serde(default)]
    pub new: Vec<CoreFinding>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreFinding {
    pub rule: String,
    pub severity: SecuritySeverity,
    pub path: String,
    pub line: u32,
    pub end_line: u32,
    pub message: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CoreCoupling {
    #[serde(default)]
    pub introduced: Vec<CoreViolation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreViolation {
    pub rule: String,
    pub severity: CouplingSeverity,
    pub from: String,
    pub to: String,
    pub line: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreGuidance {
    pub reviewers: Vec<CoreReviewer>,
    pub affected_tests: CoreAffected,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreReviewer {
    pub who: String,
    #[serde(default)]
    pub login: Option<String>,
    pub team: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreAffected {
    pub tests: Vec<CoreTest>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoreTest {
    pub path: String,
}

/// A read and checked artifact.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The report JSON, for the templates.
    pub report: Value,
    pub core: Core,
}

/// Write the artifact of `report` into `dir` (inside `workspace`): the report JSON and the
/// manifest. `dir` may exist, but then may hold nothing but an earlier artifact.
pub fn write(
    workspace: &Path,
    dir: &Path,
    manifest: &Manifest,
    report: &Report,
) -> Result<PathBuf> {
    let bad = |e: String| Error::Usage(format!("`publish-to`: {e}"));
    let manifest_path = workflow::output_path(workspace, &dir.join(MANIFEST_FILE)).map_err(bad)?;
    let dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| bad(format!("`{}` names no directory", dir.display())))?;
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    for e in entries.flatten() {
        let name = e.file_name();
        if name != MANIFEST_FILE && name != REPORT_FILE {
            return Err(bad(format!(
                "{} already holds `{}`; the artifact directory must hold only pr-risk's two files (name a new directory)",
                dir.display(),
                name.to_string_lossy()
            )));
        }
    }
    let json = outlets::render::json(report)?;
    let manifest_json = serde_json::to_string_pretty(manifest)
        .map_err(|e| Error::Internal(format!("serializing the manifest: {e}")))?;
    for (name, text) in [(REPORT_FILE, json), (MANIFEST_FILE, manifest_json + "\n")] {
        let path = dir.join(name);
        workflow::write_replacing(&path, &text).map_err(|source| Error::Io { path, source })?;
    }
    Ok(dir)
}

/// Why an artifact is refused: the directory, then what is wrong.
fn refused(dir: &Path, what: impl std::fmt::Display) -> Error {
    Error::Usage(format!(
        "the artifact in {} is refused: {what}; nothing was published",
        dir.display()
    ))
}

/// Read `dir` as a hostile artifact and check it (see the module documentation).
pub fn read(dir: &Path) -> Result<Artifact> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| {
        refused(
            dir,
            format!("{e} (did the download-artifact step run, with the same `path`?)"),
        )
    })?;
    if !meta.is_dir() {
        return Err(refused(dir, "it is not a directory"));
    }
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| refused(dir, e))? {
        let e = e.map_err(|e| refused(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ft = e.file_type().map_err(|e| refused(dir, e))?;
        if name != MANIFEST_FILE && name != REPORT_FILE {
            return Err(refused(
                dir,
                format!(
                    "it holds `{}`, which is not one of pr-risk's files ({MANIFEST_FILE}, {REPORT_FILE})",
                    name.escape_debug()
                ),
            ));
        }
        if !ft.is_file() {
            return Err(refused(
                dir,
                format!("`{name}` is not a regular file (a link or a directory)"),
            ));
        }
        names.push(name);
    }
    for needed in [MANIFEST_FILE, REPORT_FILE] {
        if !names.iter().any(|n| n == needed) {
            return Err(refused(dir, format!("`{needed}` is missing")));
        }
    }
    let manifest_bytes = read_capped(dir, MANIFEST_FILE, MAX_MANIFEST_BYTES)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| refused(dir, format!("{MANIFEST_FILE}: {e}")))?;
    check_manifest(&manifest).map_err(|e| refused(dir, format!("{MANIFEST_FILE}: {e}")))?;
    let report_bytes = read_capped(dir, REPORT_FILE, MAX_REPORT_BYTES)?;
    let report: Value = serde_json::from_slice(&report_bytes)
        .map_err(|e| refused(dir, format!("{REPORT_FILE}: {e}")))?;
    let core = check_report(&report, &manifest)
        .map_err(|e| refused(dir, format!("{REPORT_FILE}: {e}")))?;
    Ok(Artifact {
        dir: dir.to_path_buf(),
        manifest,
        report,
        core,
    })
}

fn read_capped(dir: &Path, name: &str, cap: u64) -> Result<Vec<u8>> {
    let f =
        std::fs::File::open(dir.join(name)).map_err(|e| refused(dir, format!("{name}: {e}")))?;
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refused(dir, format!("{name}: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(refused(
            dir,
            format!("{name} is larger than {} KiB", cap / 1024),
        ));
    }
    Ok(bytes)
}

/// `owner/name` with GitHub's characters.
pub fn is_repository(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 100
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    s.split_once('/').is_some_and(|(o, n)| part(o) && part(n))
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits.
pub fn is_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_manifest(m: &Manifest) -> std::result::Result<(), String> {
    if m.format != FORMAT {
        return Err(format!(
            "`format` is `{}`, this pr-risk reads `{FORMAT}`",
            m.format.escape_debug()
        ));
    }
    if m.event != "pull_request" {
        return Err(format!(
            "`event` is `{}`; only `pull_request` results are published this way",
            m.event.escape_debug()
        ));
    }
    for (key, v) in [
        ("repository", &m.repository),
        ("head_repository", &m.head_repository),
    ] {
        if !is_repository(v) {
            return Err(format!("`{key}` is not `owner/name`"));
        }
    }
    for (key, v) in [("head_sha", &m.head_sha), ("base_sha", &m.base_sha)] {
        if !is_sha(v) {
            return Err(format!("`{key}` is not a full commit id"));
        }
    }
    if m.pr_number == 0 {
        return Err("`pr_number` is 0".into());
    }
    Ok(())
}

/// The report's top-level fields: the model's own (from a serialised empty report), so the list
/// follows the model.
fn report_fields() -> Vec<String> {
    match serde_json::to_value(Report::empty("", "")) {
        Ok(Value::Object(o)) => o.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Keys that name a line or column: their values must be whole numbers wherever they occur (the
/// templates put them into links).
const NUMERIC_KEYS: &[&str] = &["line", "end_line", "start_line", "column"];

fn check_numbers(v: &Value, at: &str) -> std::result::Result<(), String> {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if NUMERIC_KEYS.contains(&k.as_str()) && !(x.is_u64() || x.is_null()) {
                    return Err(format!("`{at}.{k}` is not a whole number"));
                }
                check_numbers(x, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_numbers(x, &format!("{at}[{i}]"))),
        _ => Ok(()),
    }
}

fn check_report(v: &Value, m: &Manifest) -> std::result::Result<Core, String> {
    let Value::Object(o) = v else {
        return Err("not a JSON object".into());
    };
    let mut expected = report_fields();
    expected.sort();
    let mut got: Vec<String> = o.keys().cloned().collect();
    got.sort();
    if let Some(k) = got.iter().find(|k| !expected.contains(k)) {
        return Err(format!("unknown field `{}`", k.escape_debug()));
    }
    if let Some(k) = expected.iter().find(|k| !got.contains(k)) {
        return Err(format!("missing field `{k}`"));
    }
    check_numbers(v, "report")?;
    let core: Core = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    if core.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "`schema_version` is {}, this pr-risk reads {SCHEMA_VERSION}",
            core.schema_version
        ));
    }
    if core.tool.name != "pr-risk" {
        return Err("`tool.name` is not pr-risk".into());
    }
    if core.revisions.head.sha != m.head_sha || core.revisions.base.sha != m.base_sha {
        return Err("its revisions are not the manifest's head_sha and base_sha".into());
    }
    let c = &core.composite;
    let scores = [
        c.score,
        core.dimensions.impact.score,
        core.dimensions.regression.score,
        core.dimensions.security.score,
        core.dimensions.coupling.score,
    ];
    if scores.iter().flatten().any(|s| *s > 100) || core.gate.threshold > 100 {
        return Err("a score or the threshold is above 100".into());
    }
    if c.rating != c.score.map(|s| CoreRating::of(Rating::of(s))) {
        return Err("`composite.rating` does not match `composite.score`".into());
    }
    Ok(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            repository: "acme/shop".into(),
            event: "pull_request".into(),
            pr_number: 7,
            head_sha: "b".repeat(40),
            base_sha: "a".repeat(40),
            head_repository: "fork/shop".into(),
            tool_version: "0.1.0".into(),
        }
    }

    fn report() -> Value {
        serde_json::to_value(Report::empty(&"a".repeat(40), &"b".repeat(40))).unwrap()
    }

    #[test]
    fn an_empty_report_passes_and_forgeries_do_not() {
        let m = manifest();
        assert!(check_report(&report(), &m).is_ok());
        let mut r = report();
        r["composite"]["score"] = 250.into();
        assert!(check_report(&r, &m).is_err());
        let mut r = report();
        r["composite"]["score"] = 10.into();
        r["composite"]["rating"] = "high".into();
        assert_eq!(
            check_report(&r, &m).unwrap_err(),
            "`composite.rating` does not match `composite.score`"
        );
        let mut r = report();
        r["extra"] = 1.into();
        assert_eq!(check_report(&r, &m).unwrap_err(), "unknown field `extra`");
        let mut r = report();
        r["dimensions"]["security"]["evidence"]["new"] =
            serde_json::json!([{"line": ") ![x](http://e/x.png", "rule": "r"}]);
        assert!(check_report(&r, &m)
            .unwrap_err()
            .contains("dimensions.security.evidence.new[0].line"));
        let mut other = manifest();
        other.head_sha = "c".repeat(40);
        assert!(check_report(&report(), &other).is_err());
    }

    #[test]
    fn manifests_are_checked() {
        assert!(check_manifest(&manifest()).is_ok());
        let mut m = manifest();
        m.head_sha = "HEAD".into();
        assert!(check_manifest(&m).is_err());
        let mut m = manifest();
        m.repository = "acme/shop/../x".into();
        assert!(check_manifest(&m).is_err());
        let unknown = serde_json::json!({"format": FORMAT, "repository": "a/b", "event": "pull_request",
            "pr_number": 1, "head_sha": "b".repeat(40), "base_sha": "a".repeat(40),
            "head_repository": "a/b", "tool_version": "1", "comment_markdown": "hi"});
        assert!(serde_json::from_value::<Manifest>(unknown).is_err());
    }
}
