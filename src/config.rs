//! `.pr-risk.yml`: every key optional, unknown keys rejected with file, line and the nearest valid key.
//!
//! YAML stays behind this one module (serde_yaml is feature-complete but unmaintained upstream; a
//! fork with the same API can replace it here alone). Values are validated while they are read, so
//! every error carries the position the YAML reader knows.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::coupling_rules::CouplingConfig;
use crate::error::{Error, Result};
use crate::glob::Pattern;

/// Where a configuration was found, in order of preference.
pub const CONFIG_FILES: &[&str] = &[".pr-risk.yml", ".pr-risk.yaml", ".github/pr-risk.yml"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// A composite score above this blocks (0–100).
    pub threshold: u8,
    /// Any new critical security finding blocks, whatever the score.
    pub fail_on_critical_security: bool,
    /// Weights of the four dimensions in the composite.
    pub weights: Weights,
    /// Only paths matching these globs are analysed (empty: everything).
    pub include: Vec<Pattern>,
    /// Paths never analysed (vendored code, build output, generated files).
    pub exclude: Vec<Pattern>,
    /// Test files: counted apart, never scored as production dependents.
    pub tests: Vec<Pattern>,
    pub limits: Limits,
    pub impact: ImpactConfig,
    /// Architectural rules and the built-in cycle / deep-import rules.
    pub coupling: CouplingConfig,
    /// The GitHub Action: PR comment and template overrides.
    pub github: crate::github::GithubConfig,
    /// Sync to the Massu cloud.
    pub cloud: crate::cloud::CloudConfig,
    pub hook: HookConfig,
    pub regression: RegressionConfig,
    pub security: SecurityConfig,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Weights {
    pub impact: f64,
    pub regression: f64,
    pub security: f64,
    pub coupling: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Limits {
    /// Files larger than this (bytes) are listed but never parsed.
    pub max_file_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImpactConfig {
    /// Files that count as dependents but do not propagate further (barrels, generated clients).
    pub stop_at: Vec<Pattern>,
    /// Reach (downstream modules) at which the absolute part of the impact score is 63 (1 − 1/e).
    pub scale: f64,
    /// How many high-impact files and entry points the report lists.
    pub top: usize,
}

/// The git pre-push hook (`pr-risk hook install`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct HookConfig {
    /// `block` (default): a blocked gate stops the push. `warn`: report and push anyway.
    pub mode: HookMode,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HookMode {
    #[default]
    Block,
    Warn,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threshold: 70,
            fail_on_critical_security: true,
            weights: Weights::default(),
            include: Vec::new(),
            exclude: patterns(&[
                "**/node_modules/**",
                "**/dist/**",
                "**/build/**",
                "**/out/**",
                "**/coverage/**",
                "**/.next/**",
                "**/vendor/**",
                "**/target/**",
                "**/*.min.js",
            ]),
            tests: patterns(&[
                "**/*.test.*",
                "**/*.spec.*",
                "**/__tests__/**",
                "**/__mocks__/**",
                "tests/**",
                "test/**",
                "**/tests/**",
                "**/e2e/**",
                "**/fixtures/**",
                "**/__fixtures__/**",
                "**/*_test.rs",
                "benches/**",
            ]),
            limits: Limits::default(),
            impact: ImpactConfig::default(),
            coupling: CouplingConfig::default(),
            github: Default::default(),
            cloud: Default::default(),
            hook: HookConfig::default(),
            regression: RegressionConfig::default(),
            security: SecurityConfig::default(),
        }
    }
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            impact: 0.25,
            regression: 0.30,
            security: 0.30,
            coupling: 0.15,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 1024 * 1024,
        }
    }
}

impl Default for ImpactConfig {
    fn default() -> Self {
        ImpactConfig {
            stop_at: Vec::new(),
            scale: 25.0,
            top: 10,
        }
    }
}

/// `regression:` — history mining and the regression model (see `score::regression`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RegressionConfig {
    /// At most this many commits are mined, newest first from the merge-base.
    pub max_commits: usize,
    /// Only commits at most this many days older than the merge-base are mined.
    pub max_age_days: u32,
    /// With fewer commits reachable from the merge-base the dimension is unavailable.
    pub min_commits: usize,
    /// Regexes (case-insensitive unless they say otherwise) that mark a commit message as a bug fix.
    pub fix_patterns: Vec<String>,
    /// Regexes that mark a commit as a revert (a revert also counts as a fix).
    pub revert_patterns: Vec<String>,
    /// Attribute the history of a renamed file to its new name.
    pub follow_renames: bool,
    /// Weight of a direct caller's fix propensity relative to a changed file's (0–1).
    pub caller_weight: f64,
    /// Source lines added at which the size factor reaches 1 (log scale).
    pub lines_saturation: u32,
    /// Paths whose lines are not source (lock files, generated files, docs): not counted.
    pub not_source: Vec<Pattern>,
    /// How many riskiest files the report lists.
    pub top: usize,
}

impl Default for RegressionConfig {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        RegressionConfig {
            max_commits: 10_000,
            max_age_days: 730,
            min_commits: 50,
            fix_patterns: s(crate::history::DEFAULT_FIX_PATTERNS),
            revert_patterns: s(crate::history::DEFAULT_REVERT_PATTERNS),
            follow_renames: true,
            caller_weight: 0.25,
            lines_saturation: 2000,
            not_source: patterns(crate::history::DEFAULT_NOT_SOURCE),
            top: 5,
        }
    }
}

/// `security:` — rule packs, overrides and the names the rules depend on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SecurityConfig {
    /// Directories (relative to the repository root) with extra rule files (`*.yml`).
    pub rule_dirs: Vec<String>,
    /// Rule ids that never run.
    pub disable: Vec<String>,
    /// Severity overrides by rule id (`critical`, `high`, `medium`, `low`).
    pub severity: std::collections::BTreeMap<String, crate::score::security::rules::Severity>,
    /// Scan for secrets in added lines of every text file.
    pub secrets: bool,
    /// Run the code rules on test files too (secrets are always scanned).
    pub scan_tests: bool,
    pub trpc: TrpcConfig,
}

/// Which tRPC procedures are public or authenticated, and what an auth middleware is called.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TrpcConfig {
    pub public_procedures: Vec<String>,
    pub authenticated_procedures: Vec<String>,
    /// A regex: `.use(x)` with a middleware whose name matches makes a chain authenticated.
    pub auth_middleware: String,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            rule_dirs: Vec::new(),
            disable: Vec::new(),
            severity: Default::default(),
            secrets: true,
            scan_tests: false,
            trpc: TrpcConfig::default(),
        }
    }
}

impl RegressionConfig {
    /// `Err((key, message))` on an invalid value.
    fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        for (key, list) in [
            ("fix-patterns", &self.fix_patterns),
            ("revert-patterns", &self.revert_patterns),
        ] {
            for p in list {
                if let Err(e) = crate::history::compile_pattern(p) {
                    return Err((key, format!("`regression.{key}`: invalid regex `{p}`: {e}")));
                }
            }
        }
        if !(self.caller_weight.is_finite() && (0.0..=1.0).contains(&self.caller_weight)) {
            return Err((
                "caller-weight",
                format!(
                    "`regression.caller-weight` must be between 0 and 1, got {}",
                    self.caller_weight
                ),
            ));
        }
        if self.lines_saturation < 2 {
            return Err((
                "lines-saturation",
                "`regression.lines-saturation` must be at least 2".to_string(),
            ));
        }
        if self.max_commits == 0 || self.max_age_days == 0 {
            return Err((
                "regression",
                "`regression.max-commits` and `regression.max-age-days` must be at least 1"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

impl Default for TrpcConfig {
    fn default() -> Self {
        TrpcConfig {
            public_procedures: vec![
                "publicProcedure".into(),
                "baseProcedure".into(),
                "procedure".into(),
            ],
            authenticated_procedures: vec![
                "protectedProcedure".into(),
                "authedProcedure".into(),
                "authenticatedProcedure".into(),
                "privateProcedure".into(),
                "adminProcedure".into(),
                "userProcedure".into(),
            ],
            auth_middleware: "(?i)auth|session|protect|guard|login|require(d)?user|isuser|isadmin"
                .into(),
        }
    }
}

fn patterns(p: &[&str]) -> Vec<Pattern> {
    p.iter()
        .map(|s| Pattern::new(s).expect("built-in glob is valid"))
        .collect()
}

/// A configuration and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// `None`: the embedded defaults.
    pub source: Option<PathBuf>,
}

impl Config {
    /// Parse configuration text; `path` is used in error messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let config: Config = serde_yaml::from_str(text).map_err(|e| yaml_error(e, path))?;
        config.validate(text, path)?;
        Ok(config)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<()> {
        let at = |key: &str, message: String| {
            let (line, column) = find_key(text, key).unwrap_or((1, 1));
            Error::Config {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        if self.threshold > 100 {
            return Err(at(
                "threshold",
                format!(
                    "`threshold` must be between 0 and 100, got {}",
                    self.threshold
                ),
            ));
        }
        let w = &self.weights;
        for (name, v) in [
            ("impact", w.impact),
            ("regression", w.regression),
            ("security", w.security),
            ("coupling", w.coupling),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(at(
                    name,
                    format!("`weights.{name}` must be a number ≥ 0, got {v}"),
                ));
            }
        }
        if w.impact + w.regression + w.security + w.coupling <= 0.0 {
            return Err(at("weights", "the weights must not all be 0".to_string()));
        }
        if !(self.impact.scale.is_finite() && self.impact.scale > 0.0) {
            return Err(at(
                "scale",
                format!("`impact.scale` must be > 0, got {}", self.impact.scale),
            ));
        }
        if let Some((name, nth, message)) = self.coupling.check_names() {
            let (line, column) =
                crate::coupling_rules::find_rule_name(text, &name, nth).unwrap_or((1, 1));
            return Err(Error::Config {
                path: path.to_path_buf(),
                line,
                column,
                message,
            });
        }
        self.cloud
            .validate()
            .map_err(|m| at("timeout-seconds", m))?;
        self.regression.validate().map_err(|(key, m)| at(key, m))?;
        if let Err(e) = regex::Regex::new(&self.security.trpc.auth_middleware) {
            return Err(at(
                "auth-middleware",
                format!("`security.trpc.auth-middleware` is not a valid regex: {e}"),
            ));
        }
        Ok(())
    }

    /// Read a configuration file from disk.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }
}

/// Find the configuration in a working tree: an explicit path, else the first of [`CONFIG_FILES`].
pub fn load(workdir: Option<&Path>, explicit: Option<&Path>) -> Result<LoadedConfig> {
    if let Some(p) = explicit {
        let p = match workdir {
            Some(w) if p.is_relative() && !p.exists() => w.join(p),
            _ => p.to_path_buf(),
        };
        if !p.exists() {
            return Err(Error::Usage(format!(
                "config file {} does not exist\n  hint: check the --config path, or drop it to use .pr-risk.yml / the embedded defaults",
                p.display()
            )));
        }
        return Ok(LoadedConfig {
            config: Config::from_file(&p)?,
            source: Some(p),
        });
    }
    if let Some(w) = workdir {
        for name in CONFIG_FILES {
            let p = w.join(name);
            if p.is_file() {
                return Ok(LoadedConfig {
                    config: Config::from_file(&p)?,
                    source: Some(PathBuf::from(name)),
                });
            }
        }
    }
    Ok(LoadedConfig {
        config: Config::default(),
        source: None,
    })
}

#[allow(clippy::if_same_then_else)]
/// Turn a serde_yaml error into one that names file, line, key and the nearest valid key.
fn yaml_error(e: serde_yaml::Error, path: &Path) -> Error {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let raw = e.to_string();
    // serde_yaml prefixes the message with the key path ("impact.stop-at: …") and appends the
    // location ("… at line 3 column 5"); keep the key path, drop the location we report ourselves.
    let msg = match raw.rfind(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.clone(),
    };
    let message = if let Some(rest) = msg.split("unknown field `").nth(1) {
        let unknown = rest.split('`').next().unwrap_or("");
        let prefix = msg.split("unknown field").next().unwrap_or("").trim();
        let prefix = prefix.trim_end_matches(':');
        let expected: Vec<&str> = rest
            .split("expected ")
            .nth(1)
            .map(|s| s.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let mut m = if prefix.is_empty() {
            format!("unknown key `{unknown}`")
        } else {
            format!("unknown key `{unknown}` in `{prefix}`")
        };
        if let Some(best) = nearest(unknown, &expected) {
            m.push_str(&format!(" (did you mean `{best}`?)"));
        }
        if !expected.is_empty() {
            m.push_str(&format!("; valid keys: {}", expected.join(", ")));
        }
        m
    } else {
        msg
    };
    Error::Config {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// 1-based line and column of the first `key:` in the text (for errors found after parsing).
fn find_key(text: &str, key: &str) -> Option<(usize, usize)> {
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if t.starts_with(&format!("{key}:")) {
            return Some((i + 1, l.len() - t.len() + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, Path::new(".pr-risk.yml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn empty_file_is_defaults() {
        assert_eq!(
            Config::parse("", Path::new("x")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn unknown_key_names_line_and_suggestion() {
        let e = err("threshold: 50\nthreshhold: 60\n");
        assert!(
            e.starts_with(".pr-risk.yml:2:1: unknown key `threshhold`"),
            "{e}"
        );
        assert!(e.contains("did you mean `threshold`?"), "{e}");
    }

    #[test]
    fn nested_unknown_key() {
        let e = err("weights:\n  impact: 0.3\n  securty: 0.2\n");
        assert!(e.starts_with(".pr-risk.yml:3:"), "{e}");
        assert!(e.contains("`securty` in `weights`"), "{e}");
        assert!(e.contains("did you mean `security`?"), "{e}");
    }

    #[test]
    fn wrong_type_names_key() {
        let e = err("threshold: high\n");
        assert!(e.starts_with(".pr-risk.yml:1:"), "{e}");
        assert!(e.contains("threshold"), "{e}");
    }

    #[test]
    fn bad_glob_is_located() {
        let e = err("exclude:\n  - \"src/[a\"\n");
        assert!(e.starts_with(".pr-risk.yml:2:"), "{e}");
        assert!(e.contains("invalid glob"), "{e}");
    }

    #[test]
    fn cloud_and_github_sections() {
        let c = Config::parse(
            "github:\n  post-comment: false\ncloud:\n  api-url: https://x.example\n  timeout-seconds: 5\n",
            Path::new("x"),
        )
        .unwrap();
        assert!(!c.github.post_comment);
        assert_eq!(c.cloud.timeout_seconds, 5.0);
        let e = err("cloud:\n  timeout-seconds: -1\n");
        assert!(e.starts_with(".pr-risk.yml:2:3:"), "{e}");
        assert!(e.contains("cloud.timeout-seconds"), "{e}");
        let e = err("cloud:\n  sync-requred: true\n");
        assert!(e.contains("did you mean `sync-required`?"), "{e}");
    }

    #[test]
    fn out_of_range_threshold() {
        let e = err("threshold: 150\n");
        assert!(e.contains("between 0 and 100"), "{e}");
    }

    #[test]
    fn regression_section() {
        let c = Config::parse(
            "regression:\n  max-commits: 500\n  fix-patterns: [\"^fix\"]\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.regression.max_commits, 500);
        assert_eq!(c.regression.fix_patterns, vec!["^fix".to_string()]);
        let e = err("regression:\n  fix-patterns: [\"(unclosed\"]\n");
        assert!(e.starts_with(".pr-risk.yml:2:"), "{e}");
        assert!(e.contains("invalid regex"), "{e}");
        let e = err("regression:\n  caller-weight: 3\n");
        assert!(e.contains("between 0 and 1"), "{e}");
    }

    #[test]
    fn values_override_defaults() {
        let c = Config::parse(
            "threshold: 40\nimpact:\n  stop-at: [\"src/index.ts\"]\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.threshold, 40);
        assert_eq!(c.impact.stop_at.len(), 1);
        assert_eq!(c.weights, Weights::default());
    }

    #[test]
    fn hook_mode() {
        let c = Config::parse("hook:\n  mode: warn\n", Path::new("x")).unwrap();
        assert_eq!(c.hook.mode, HookMode::Warn);
        assert_eq!(Config::default().hook.mode, HookMode::Block);
        let e = err("hook:\n  mode: loud\n");
        assert!(e.starts_with(".pr-risk.yml:2:"), "{e}");
        assert!(e.contains("block") && e.contains("warn"), "{e}");
    }
}
