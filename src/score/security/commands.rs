//! `pr-risk rules list` and `pr-risk rules test [DIR]`: the rule packs as a user sees them.
//!
//! `list` prints every rule (embedded, the repository's `security.rule-dirs`, the secret
//! detectors) with its severity after overrides and whether it is enabled. `test` runs every
//! rule's inline examples — the same check the test suite runs on the embedded packs — so people
//! writing their own rules get the same loop: a `match` example that produces no finding, or a
//! `no-match` example that does, is a failure.

use std::fmt::Write as _;
use std::path::Path;

use super::rules::{self, Rule};
use super::{engine, list, vars};
use crate::config::SecurityConfig;
use crate::error::{Error, Result};

/// The rule table (text) or JSON.
pub fn list_rules(cfg: &SecurityConfig, root: Option<&Path>, json: bool) -> Result<String> {
    let rules = list(cfg, root)?;
    if json {
        let mut s = serde_json::to_string_pretty(&rules)
            .map_err(|e| Error::Internal(format!("serializing the rules: {e}")))?;
        s.push('\n');
        return Ok(s);
    }
    let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(10);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<w$}  {:<8}  {:<8}  {:<30}  message",
        "id", "severity", "cwe", "languages"
    );
    for r in &rules {
        let _ = writeln!(
            out,
            "{:<w$}  {:<8}  {:<8}  {:<30}  {}{}",
            r.id,
            r.severity.to_string(),
            r.cwe,
            r.languages.join(","),
            r.message,
            if r.enabled { "" } else { "  [disabled]" }
        );
    }
    let on = rules.iter().filter(|r| r.enabled).count();
    let _ = writeln!(out, "\n{} rules, {} enabled", rules.len(), on);
    Ok(out)
}

/// Run the examples of the rules in `dir` (or of every configured rule when `None`).
/// Returns the text to print and whether every example passed.
pub fn test_rules(
    cfg: &SecurityConfig,
    root: Option<&Path>,
    dir: Option<&Path>,
) -> Result<(String, bool)> {
    let v = vars(cfg);
    let rules: Vec<Rule> = match dir {
        Some(d) => {
            if !d.is_dir() {
                return Err(Error::Usage(format!(
                    "{} is not a directory\n  hint: pass the directory that holds your rule files (*.yml)",
                    d.display()
                )));
            }
            rules::from_dir(d, &v).map_err(|e| Error::Usage(e.to_string()))?
        }
        None => {
            let mut all = cfg.clone();
            all.disable.clear();
            super::RuleSet::load(&all, root)?.rules
        }
    };
    let mut out = String::new();
    let mut failed = 0usize;
    let mut examples = 0usize;
    for r in &rules {
        let n_match = r.examples.matching.len();
        let n_no = r.examples.no_match.len();
        examples += n_match + n_no;
        let failures = match r.validate() {
            Ok(()) => engine::check_examples(r),
            Err(e) => vec![e.to_string()],
        };
        if failures.is_empty() {
            let warn = if n_match == 0 || n_no == 0 {
                "  (warning: add both `match` and `no-match` examples)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "ok    {} ({n_match} match, {n_no} no-match){warn}",
                r.id
            );
        } else {
            failed += 1;
            let _ = writeln!(out, "FAIL  {} ({})", r.id, r.source);
            for f in failures {
                let _ = writeln!(out, "  {f}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} rules, {} examples: {} passed, {} failed",
        rules.len(),
        examples,
        rules.len() - failed,
        failed
    );
    Ok((out, failed == 0))
}
