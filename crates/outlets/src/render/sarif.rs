//! SARIF 2.1.0: security findings and coupling violations for GitHub code scanning.
//!
//! The renderer takes a small neutral input — [`SarifResult`]s, each carrying its [`SarifRule`] —
//! built from the report in one adapter function, [`results_from_report`]. That keeps this module
//! independent of how the security and coupling dimensions shape their evidence: connecting a new
//! kind of finding means adding a few lines to the adapter, nothing else.
//!
//! What GitHub needs and what this writes:
//! - rule metadata in `tool.driver.rules` (id, name, short and full description, help text and
//!   markdown, `defaultConfiguration.level`, `properties.security-severity` and tags);
//! - `level` from the severity (critical/high → `error`, medium → `warning`, low → `note`);
//! - a physical location per result, relative to the repository root (`%SRCROOT%`);
//! - `partialFingerprints` that survive unrelated edits: for security findings the finding's
//!   identity (a hash of rule, path, enclosing item, normalised anchor and ordinal, computed by
//!   the engine), so reformatting or editing inside a flagged construct keeps its alert; for
//!   coupling violations a hash of the rule id, the path, the whitespace-normalised text of the
//!   flagged line (or the message) and the occurrence index — no line numbers either way.
//!
//! Output is deterministic: results sorted by path, line, rule; rules sorted by id.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use engine::error::{Error, Result};
use engine::report::Report;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/massu-ai/pr-risk";
/// The key under `partialFingerprints`; bump the suffix if the recipe ever changes.
pub const FINGERPRINT_KEY: &str = "prRisk/v2";

/// How serious a finding is, in the product's four steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parse `critical|high|medium|low` (any case).
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }

    /// SARIF `level`.
    pub fn level(self) -> &'static str {
        match self {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low => "note",
        }
    }

    /// GitHub's `security-severity` (a CVSS-like score as a string): it maps > 9.0 to critical,
    /// 7.0–8.9 to high, 4.0–6.9 to medium and 0.1–3.9 to low; each step gets a value inside its band.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// Which dimension a result comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Security,
    Coupling,
}

impl Category {
    fn tag(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Coupling => "maintainability",
        }
    }
}

/// A rule: what GitHub shows in the alert's side panel.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifRule {
    /// Stable id, e.g. `js/eval-call` or `coupling/ui-imports-db`.
    pub id: String,
    /// PascalCase-ish short name, e.g. `EvalCall`.
    pub name: String,
    /// One line.
    pub short_description: String,
    /// A paragraph; defaults to the short description when empty.
    pub full_description: String,
    /// Help shown under the alert (plain text; also used as markdown).
    pub help: String,
    pub help_uri: Option<String>,
    pub severity: Severity,
    pub category: Category,
    /// Extra tags (CWE ids such as `external/cwe/cwe-95`, rule families).
    pub tags: Vec<String>,
}

/// One finding or violation at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifResult {
    pub rule: SarifRule,
    /// Overrides the rule's severity for this result (a repository may re-grade a rule).
    pub severity: Option<Severity>,
    pub message: String,
    /// Repository-relative path with `/` separators.
    pub path: String,
    /// 1-based.
    pub start_line: u32,
    pub start_column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    /// The flagged source text (used for the fingerprint and shown as the region snippet).
    pub snippet: Option<String>,
    /// A stable identity computed upstream (security findings: the hash of rule, path, enclosing
    /// item, anchor and ordinal); when absent, one is derived from the snippet.
    pub fingerprint: Option<String>,
}

/// The adapter: every SARIF-worthy item of a report as a neutral [`SarifResult`]: the security
/// findings and the coupling violations the change **introduces** (pre-existing ones are not
/// alerts of this change).
pub fn results_from_report(report: &Report) -> Vec<SarifResult> {
    use engine::score::coupling::rules::Severity as Level;
    use engine::score::security::rules::Severity as Sec;
    let mut out = Vec::new();
    for f in &report.dimensions.security.evidence.new {
        let severity = match f.severity {
            Sec::Critical => Severity::Critical,
            Sec::High => Severity::High,
            Sec::Medium => Severity::Medium,
            Sec::Low => Severity::Low,
        };
        let mut tags = Vec::new();
        if let Some(n) = f.cwe.strip_prefix("CWE-") {
            tags.push(format!("external/cwe/cwe-{n}"));
        }
        if let Some(o) = &f.owasp {
            tags.push(format!("owasp/{o}"));
        }
        out.push(SarifResult {
            rule: SarifRule {
                id: f.rule.clone(),
                name: rule_name(&f.rule),
                short_description: f.message.clone(),
                full_description: format!("{} ({})", f.message, f.cwe),
                help: f.fix.clone(),
                help_uri: None,
                severity,
                category: Category::Security,
                tags,
            },
            severity: None,
            message: f.message.clone(),
            path: f.path.clone(),
            start_line: f.line.max(1),
            start_column: (f.column > 0).then_some(f.column),
            end_line: (f.end_line > f.line).then_some(f.end_line),
            end_column: None,
            snippet: (!f.snippet.is_empty()).then(|| f.snippet.clone()),
            fingerprint: Some(f.fingerprint.clone()),
        });
    }
    for v in &report.dimensions.coupling.evidence.introduced {
        let severity = match v.severity {
            Level::Error => Severity::High,
            Level::Warn => Severity::Medium,
            Level::Off => Severity::Low,
        };
        let id = format!("coupling/{}", v.rule);
        out.push(SarifResult {
            rule: SarifRule {
                name: rule_name(&id),
                id,
                short_description: format!("architectural rule {}", v.rule),
                full_description: v.description.clone(),
                help: v.description.clone(),
                help_uri: None,
                severity,
                category: Category::Coupling,
                tags: vec!["coupling".into()],
            },
            severity: None,
            message: match &v.detail {
                Some(d) => format!("{} → {} violates {}: {d}", v.from, v.to, v.rule),
                None => format!("{} → {} violates {}", v.from, v.to, v.rule),
            },
            path: v.from.clone(),
            start_line: v.line.max(1),
            start_column: None,
            end_line: None,
            end_column: None,
            snippet: Some(v.specifier.clone()),
            fingerprint: None,
        });
    }
    out
}

/// `ts/publicprocedure-mutation` → `TsPublicprocedureMutation`.
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Render a report as SARIF 2.1.0.
pub fn render(report: &Report) -> Result<String> {
    let results = results_from_report(report);
    let mut run_props = Map::new();
    run_props.insert(
        "pr-risk".to_string(),
        json!({
            "score": report.composite.score,
            "rating": report.composite.rating,
            "blocked": report.gate.blocked,
            "verdict": report.gate.verdict,
            "threshold": report.gate.threshold,
            "base": report.revisions.base.sha,
            "head": report.revisions.head.sha,
            "mergeBase": report.revisions.merge_base,
        }),
    );
    let doc = document(&results, report.tool.version, run_props);
    let mut s = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::Internal(format!("serializing SARIF: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// Build the SARIF document from neutral results.
pub fn document(
    results: &[SarifResult],
    version: &str,
    run_properties: Map<String, Value>,
) -> Value {
    let mut sorted: Vec<&SarifResult> = results.iter().collect();
    sorted.sort_by(|a, b| {
        (
            &a.path,
            a.start_line,
            a.start_column,
            &a.rule.id,
            &a.message,
        )
            .cmp(&(
                &b.path,
                b.start_line,
                b.start_column,
                &b.rule.id,
                &b.message,
            ))
    });
    // Rules, deduplicated by id, sorted; the first definition of an id wins.
    let mut rules: BTreeMap<&str, &SarifRule> = BTreeMap::new();
    for r in &sorted {
        rules.entry(r.rule.id.as_str()).or_insert(&r.rule);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut occurrences: BTreeMap<(String, String, String), u32> = BTreeMap::new();
    let results_json: Vec<Value> = sorted
        .iter()
        .map(|r| {
            let anchor = r
                .snippet
                .as_deref()
                .map(normalise)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| normalise(&r.message));
            let key = (r.rule.id.clone(), r.path.clone(), anchor.clone());
            let n = occurrences.entry(key).or_insert(0);
            *n += 1;
            let fp = match &r.fingerprint {
                Some(f) => f.clone(),
                None => fingerprint(&[&r.rule.id, &r.path, &anchor, &n.to_string()]),
            };
            let severity = r.severity.unwrap_or(r.rule.severity);
            let mut region = Map::new();
            region.insert("startLine".into(), json!(r.start_line.max(1)));
            if let Some(c) = r.start_column {
                region.insert("startColumn".into(), json!(c.max(1)));
            }
            if let Some(l) = r.end_line {
                region.insert("endLine".into(), json!(l.max(r.start_line.max(1))));
            }
            if let Some(c) = r.end_column {
                region.insert("endColumn".into(), json!(c.max(1)));
            }
            if let Some(s) = &r.snippet {
                region.insert("snippet".into(), json!({ "text": s }));
            }
            json!({
                "ruleId": r.rule.id,
                "ruleIndex": index[r.rule.id.as_str()],
                "level": severity.level(),
                "message": { "text": r.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": r.path, "uriBaseId": "%SRCROOT%" },
                        "region": Value::Object(region),
                    }
                }],
                "partialFingerprints": { FINGERPRINT_KEY: fp },
                "properties": {
                    "severity": severity.as_str(),
                    "security-severity": severity.security_severity(),
                },
            })
        })
        .collect();
    let rules_json: Vec<Value> = rules.values().map(|r| rule_json(r)).collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "pr-risk",
                    "version": version,
                    "semanticVersion": version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules_json,
                }
            },
            "originalUriBaseIds": {
                "%SRCROOT%": { "description": { "text": "The root of the repository." } }
            },
            "columnKind": "unicodeCodePoints",
            "results": results_json,
            "properties": Value::Object(run_properties),
        }]
    })
}

fn rule_json(r: &SarifRule) -> Value {
    let full = if r.full_description.is_empty() {
        &r.short_description
    } else {
        &r.full_description
    };
    let mut tags = vec![r.category.tag().to_string()];
    for t in &r.tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    let mut v = json!({
        "id": r.id,
        "name": r.name,
        "shortDescription": { "text": r.short_description },
        "fullDescription": { "text": full },
        "help": { "text": r.help, "markdown": r.help },
        "defaultConfiguration": { "level": r.severity.level() },
        "properties": {
            "tags": tags,
            "precision": "high",
            "problem.severity": match r.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Low => "recommendation",
            },
            "security-severity": r.severity.security_severity(),
        },
    });
    if let Some(u) = &r.help_uri {
        v["helpUri"] = json!(u);
    }
    v
}

/// Collapse runs of whitespace and trim: indentation and trailing spaces do not move alerts.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 128-bit FNV-1a over the parts (separated by a 0 byte), as 32 hex digits. Stable across
/// platforms and Rust versions (unlike `DefaultHasher`).
pub fn fingerprint(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // A 0 byte between parts: XOR with 0 is the identity, so only the multiply remains.
            h = h.wrapping_mul(PRIME);
        }
        for b in p.bytes() {
            h ^= b as u128;
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn rule(id: &str, sev: Severity, cat: Category) -> SarifRule {
        SarifRule {
            id: id.to_string(),
            name: "EvalCall".to_string(),
            short_description: "eval() of dynamic input".to_string(),
            full_description: String::new(),
            help: "Do not pass untrusted input to eval.".to_string(),
            help_uri: None,
            severity: sev,
            category: cat,
            tags: vec!["external/cwe/cwe-95".to_string()],
        }
    }

    fn result(line: u32, snippet: &str) -> SarifResult {
        SarifResult {
            rule: rule("js/eval", Severity::Critical, Category::Security),
            severity: None,
            message: "eval() called with a request parameter".to_string(),
            path: "src/a.ts".to_string(),
            start_line: line,
            start_column: Some(3),
            end_line: None,
            end_column: None,
            snippet: Some(snippet.to_string()),
            fingerprint: None,
        }
    }

    fn fp(v: &Value, i: usize) -> String {
        v["runs"][0]["results"][i]["partialFingerprints"][FINGERPRINT_KEY]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn levels_and_security_severity() {
        assert_eq!(Severity::Critical.level(), "error");
        assert_eq!(Severity::High.level(), "error");
        assert_eq!(Severity::Medium.level(), "warning");
        assert_eq!(Severity::Low.level(), "note");
        for s in [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            let v: f64 = s.security_severity().parse().unwrap();
            let band = match s {
                Severity::Critical => v > 9.0,
                Severity::High => (7.0..9.0).contains(&v),
                Severity::Medium => (4.0..7.0).contains(&v),
                Severity::Low => (0.1..4.0).contains(&v),
            };
            assert!(band, "{s:?} {v}");
        }
    }

    #[test]
    fn fingerprints_ignore_line_moves_and_indentation() {
        let a = document(&[result(10, "  eval(req.query.x)")], "0", Map::new());
        let b = document(&[result(42, "eval(req.query.x)   ")], "0", Map::new());
        assert_eq!(fp(&a, 0), fp(&b, 0));
        let c = document(&[result(10, "eval(req.body.y)")], "0", Map::new());
        assert_ne!(fp(&a, 0), fp(&c, 0));
    }

    #[test]
    fn identical_lines_get_distinct_fingerprints() {
        let v = document(
            &[result(3, "eval(x)"), result(9, "eval(x)")],
            "0",
            Map::new(),
        );
        assert_ne!(fp(&v, 0), fp(&v, 1));
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(v["runs"][0]["results"][1]["ruleIndex"], 0);
    }

    #[test]
    fn fingerprint_is_stable() {
        // Pinned: changing the recipe silently would re-open every alert on GitHub.
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint(&[""]), "6c62272e07bb014262b821756295c58d");
    }
}
