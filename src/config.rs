//! `.pr-risk.yml`: every key optional, unknown keys rejected with file, line and the nearest valid key.
//!
//! The schema gathers the settings types that live beside their users (as ruff does): the engine's
//! sections ([`engine::pipeline::Settings`]: weights, files, impact, regression, security,
//! coupling, and the advisory check's `security.osv`/`security.osv-url`), the outlets' (`github`,
//! `cloud`) and the binary's own (`hook`). YAML stays behind
//! this one module (serde_yaml is feature-complete but unmaintained upstream; a fork with the same
//! API can replace it here alone). Values are validated after reading, and every error carries the
//! file, line and column.

use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use engine::deps::AdvisorySettings;
use engine::error::{Error, Result};
use engine::git::files::{repo_relative, FileSource};
use engine::glob::Pattern;
use engine::guide::GuidanceSettings;
use engine::parse::{self, FileSettings};
use engine::pipeline::Settings;
use engine::report::gate::{GateSettings, Mode, PathThreshold};
use engine::score::coupling::rules::{self, CouplingSettings};
use engine::score::impact::ImpactSettings;
use engine::score::regression::RegressionSettings;
use engine::score::security::SecuritySettings;
use engine::score::Weights;
use outlets::cloud::CloudSettings;
use outlets::github::GithubSettings;

/// Where a configuration was found, in order of preference.
pub const CONFIG_FILES: &[&str] = &[".pr-risk.yml", ".pr-risk.yaml", ".github/pr-risk.yml"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// A composite score above this blocks (0–100).
    pub threshold: u8,
    /// Any new critical security finding blocks, whatever the score.
    pub fail_on_critical_security: bool,
    /// `gate` (a block fails the check and the step) or `advisory` (reported, never enforced).
    pub mode: Mode,
    /// The pull-request label that turns a block into a pass, recorded with who applied it.
    pub override_label: String,
    /// Who may apply the override label (GitHub logins; empty: whoever can label the PR).
    pub override_actors: Vec<String>,
    /// A pass this many points or fewer under the threshold says so (0: never).
    pub near_threshold: u8,
    /// A change whose regression probability is higher than this share (%) of the
    /// repository's recent commits blocks, whatever the composite (100: never).
    pub history_percentile: f64,
    /// Lower thresholds for changes that touch some paths: `[{paths: [globs], threshold: N}]`.
    pub thresholds: Vec<PathThreshold>,
    /// Globs of code that deserves a careful review: a change that touches one gets
    /// `critical-threshold` and is flagged for review.
    pub critical_paths: Vec<Pattern>,
    pub critical_threshold: u8,
    /// Weights of the four dimensions in the composite.
    pub weights: Weights,
    /// Only paths matching these globs are analysed (empty: everything).
    pub include: Vec<Pattern>,
    /// Paths never analysed (vendored code, build output, generated files).
    pub exclude: Vec<Pattern>,
    /// Test files: counted apart, never scored as production dependents.
    pub tests: Vec<Pattern>,
    pub limits: Limits,
    pub impact: ImpactSettings,
    /// Architectural rules and the built-in cycle / deep-import rules.
    pub coupling: CouplingSettings,
    /// The GitHub Action: PR comment and template overrides.
    pub github: GithubSettings,
    /// Sync to the Massu cloud.
    pub cloud: CloudSettings,
    pub hook: HookConfig,
    pub regression: RegressionSettings,
    pub security: SecuritySection,
    /// Reviewer guidance: suggested reviewers and affected tests.
    pub guidance: GuidanceSettings,
}

/// `security:` — the security dimension's settings ([`SecuritySettings`], beside the scorer) and,
/// in the same section, the advisory check's keys `osv` and `osv-url` ([`AdvisorySettings`],
/// beside the dependency stage). Each type keeps its own fields and defaults; this section
/// dispatches the keys while the YAML is read, so errors keep their line and column, and
/// unknown keys are still rejected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecuritySection {
    pub rules: SecuritySettings,
    pub advisories: AdvisorySettings,
}

/// The keys of `security:` that belong to [`AdvisorySettings`].
pub const ADVISORY_KEYS: &[&str] = &["osv", "osv-url"];

impl std::ops::Deref for SecuritySection {
    type Target = SecuritySettings;

    fn deref(&self) -> &SecuritySettings {
        &self.rules
    }
}

impl std::ops::DerefMut for SecuritySection {
    fn deref_mut(&mut self) -> &mut SecuritySettings {
        &mut self.rules
    }
}

impl Serialize for SecuritySection {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut v = serde_yaml::to_value(&self.rules).map_err(S::Error::custom)?;
        let extra = serde_yaml::to_value(&self.advisories).map_err(S::Error::custom)?;
        if let (serde_yaml::Value::Mapping(m), serde_yaml::Value::Mapping(x)) = (&mut v, extra) {
            m.extend(x);
        }
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SecuritySection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct SectionVisitor;
        impl<'de> Visitor<'de> for SectionVisitor {
            type Value = SecuritySection;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the `security` section (a mapping)")
            }

            fn visit_unit<E>(self) -> std::result::Result<SecuritySection, E> {
                Ok(SecuritySection::default())
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<SecuritySection, A::Error> {
                let mut advisories = AdvisorySettings::default();
                let rules = SecuritySettings::deserialize(
                    serde::de::value::MapAccessDeserializer::new(Split {
                        inner: map,
                        advisories: &mut advisories,
                    }),
                )?;
                Ok(SecuritySection { rules, advisories })
            }
        }
        d.deserialize_map(SectionVisitor)
    }
}

/// The `security:` mapping as [`SecuritySettings`] sees it: the advisory keys are taken out (and
/// read into [`AdvisorySettings`]) on the way.
struct Split<'a, A> {
    inner: A,
    advisories: &'a mut AdvisorySettings,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Split<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, A::Error> {
        let mut seed = seed;
        loop {
            // The key is read through the YAML deserializer itself, so an unknown key's error
            // carries its line and column.
            match self.inner.next_key_seed(KeySeed(seed))? {
                None => return Ok(None),
                Some(Key::Other(v)) => return Ok(Some(v)),
                Some(Key::Advisory(name, back)) => {
                    match name {
                        "osv" => self.advisories.osv = self.inner.next_value()?,
                        _ => self.advisories.osv_url = self.inner.next_value()?,
                    }
                    seed = back;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

/// A key of `security:`: one of [`ADVISORY_KEYS`] (with the unused seed handed back), or one
/// for [`SecuritySettings`].
enum Key<K, V> {
    Advisory(&'static str, K),
    Other(V),
}

struct KeySeed<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<K> {
    type Value = Key<K, K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<K> {
    type Value = Key<K, K::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key of the `security` section")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        match ADVISORY_KEYS.iter().find(|k| **k == v) {
            Some(k) => Ok(Key::Advisory(k, self.0)),
            None => self.0.deserialize(v.into_deserializer()).map(Key::Other),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Limits {
    /// Files larger than this (bytes) are listed but never parsed.
    pub max_file_size: u64,
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
        let engine = Settings::default();
        Config {
            threshold: engine.gate.threshold,
            fail_on_critical_security: engine.gate.fail_on_critical_security,
            mode: engine.gate.mode,
            override_label: engine.gate.override_label,
            override_actors: engine.gate.override_actors,
            near_threshold: engine.gate.near_threshold,
            history_percentile: engine.gate.history_percentile,
            thresholds: engine.gate.thresholds,
            critical_paths: engine.gate.critical_paths,
            critical_threshold: engine.gate.critical_threshold,
            weights: engine.weights,
            include: engine.files.include,
            exclude: engine.files.exclude,
            tests: engine.files.tests,
            limits: Limits {
                max_file_size: engine.files.max_file_size,
            },
            impact: engine.impact,
            coupling: engine.coupling,
            github: Default::default(),
            cloud: Default::default(),
            hook: HookConfig::default(),
            regression: engine.regression,
            security: SecuritySection {
                rules: engine.security,
                advisories: engine.advisories,
            },
            guidance: engine.guidance,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: parse::FileSettings::default().max_file_size,
        }
    }
}

impl Config {
    /// The same configuration with every default that is implied filled in (two configurations
    /// that behave alike compare equal).
    pub fn resolved(&self) -> Config {
        let mut c = self.clone();
        c.coupling = self.coupling.resolved();
        c
    }

    /// Every key path of the configuration schema (`regression.fix-patterns`, `coupling.net`, …),
    /// read from the defaults, with whether its default is unset (`null`).
    pub fn key_paths() -> Vec<(String, bool)> {
        fn walk(prefix: &str, v: &serde_yaml::Value, out: &mut Vec<(String, bool)>) {
            if let serde_yaml::Value::Mapping(m) = v {
                for (k, v) in m {
                    let Some(k) = k.as_str() else { continue };
                    let path = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.push((path.clone(), v.is_null()));
                    walk(&path, v, out);
                }
            }
        }
        let v = serde_yaml::to_value(Config::default().resolved()).unwrap_or_default();
        let mut out = Vec::new();
        walk("", &v, &mut out);
        out
    }

    /// The engine's sections.
    pub fn engine_settings(&self) -> Settings {
        Settings {
            gate: self.gate(),
            weights: self.weights,
            files: self.files(),
            impact: self.impact.clone(),
            regression: self.regression.clone(),
            security: self.security.rules.clone(),
            coupling: self.coupling.clone(),
            guidance: self.guidance.clone(),
            advisories: self.security.advisories.clone(),
        }
    }

    /// The gate's keys: `threshold`, `fail-on-critical-security`, `mode`, `override-label`,
    /// `override-actors`, `near-threshold`, `history-percentile`, `thresholds`, `critical-paths`,
    /// `critical-threshold`.
    pub fn gate(&self) -> GateSettings {
        GateSettings {
            threshold: self.threshold,
            fail_on_critical_security: self.fail_on_critical_security,
            mode: self.mode,
            override_label: self.override_label.clone(),
            override_actors: self.override_actors.clone(),
            near_threshold: self.near_threshold,
            history_percentile: self.history_percentile,
            thresholds: self.thresholds.clone(),
            critical_paths: self.critical_paths.clone(),
            critical_threshold: self.critical_threshold,
        }
    }

    /// `include`, `exclude`, `tests` and `limits.max-file-size`.
    pub fn files(&self) -> FileSettings {
        FileSettings {
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            tests: self.tests.clone(),
            max_file_size: self.limits.max_file_size,
        }
    }
}

/// Load the configuration from a file source: the explicit path, else the first of
/// [`CONFIG_FILES`] that exists, else the embedded defaults. Returns the path read.
pub fn load_config(src: &FileSource, explicit: Option<&Path>) -> Result<LoadedConfig> {
    if let FileSource::WorkTree(root) = src {
        return load(Some(root), explicit);
    }
    let at = src.commit().map(|c| c.to_string()).unwrap_or_default();
    if let Some(p) = explicit {
        let rel = repo_relative(p);
        return match src.read(&rel)? {
            Some(text) => Ok(LoadedConfig {
                config: Config::parse(&text, Path::new(&rel))?,
                source: Some(PathBuf::from(rel)),
            }),
            None => Err(Error::Usage(format!(
                "config file {rel} does not exist in the base commit {}\n  hint: in action mode the configuration is read from the branch the pull request merges into; merge the file there first, or leave the `config` input empty",
                &at[..at.len().min(12)]
            ))),
        };
    }
    for name in CONFIG_FILES {
        if let Some(text) = src.read(name)? {
            return Ok(LoadedConfig {
                config: Config::parse(&text, Path::new(name))?,
                source: Some(PathBuf::from(name)),
            });
        }
    }
    Ok(LoadedConfig {
        config: Config::default(),
        source: None,
    })
}

/// The paths that hold settings: every configuration file name (a PR adding `.pr-risk.yml` where
/// the base has `.github/pr-risk.yml` changes which one applies), the explicit config path and the
/// template override directory, and the custom security rule directories.
pub fn settings_paths(explicit: Option<&Path>, cfg: &Config) -> Vec<String> {
    let mut v: Vec<String> = CONFIG_FILES.iter().map(|s| s.to_string()).collect();
    if let Some(p) = explicit {
        v.push(repo_relative(p));
    }
    if let Some(t) = &cfg.github.templates {
        v.push(repo_relative(Path::new(t)));
    }
    // Custom security rule directories: a PR that edits them is named in the notice.
    for d in &cfg.security.rule_dirs {
        v.push(repo_relative(Path::new(d)));
    }
    v.sort();
    v.dedup();
    v
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
        if let Err(e) = self.gate().validate() {
            let (line, column) = match e.entry {
                Some(i) => find_list_item(text, e.key, i),
                None => find_key(text, e.key),
            }
            .unwrap_or((1, 1));
            return Err(Error::Config {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message,
            });
        }
        self.weights.validate().map_err(|(key, m)| at(key, m))?;
        self.impact.validate().map_err(|(key, m)| at(key, m))?;
        if let Some((name, nth, message)) = self.coupling.check_names() {
            let (line, column) = rules::find_rule_name(text, &name, nth).unwrap_or((1, 1));
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
        self.github
            .validate()
            .map_err(|m| at("timeout-seconds", m))?;
        self.regression.validate().map_err(|(key, m)| at(key, m))?;
        self.security.validate().map_err(|(key, m)| at(key, m))?;
        self.security
            .advisories
            .validate()
            .map_err(|(key, m)| at(key, m))?;
        self.guidance.validate().map_err(|(key, m)| at(key, m))?;
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
        // Read without following a symbolic link (see `FileSource`).
        let src = FileSource::WorkTree(w.to_path_buf());
        for name in CONFIG_FILES {
            if let Some(text) = src.read(name)? {
                return Ok(LoadedConfig {
                    config: Config::parse(&text, &w.join(name))?,
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
    // Values quoted from the file are dropped: an error never repeats the file's content.
    let raw = engine::error::redact_yaml(&e.to_string());
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
        let mut expected: Vec<&str> = rest
            .split("expected ")
            .nth(1)
            .map(|s| s.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        // `security:` is two settings types in one section (see [`SecuritySection`]).
        if prefix == "security" {
            expected.extend(ADVISORY_KEYS);
        }
        let mut m = if prefix.is_empty() {
            format!("unknown key `{unknown}`")
        } else {
            format!("unknown key `{unknown}` in `{prefix}`")
        };
        if let Some(best) = engine::error::nearest(unknown, &expected) {
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

/// 1-based line and column of the `nth` item (`- …`) of the top-level list `key:` (block
/// style), else of the `key:` line itself.
fn find_list_item(text: &str, key: &str, nth: usize) -> Option<(usize, usize)> {
    let start = text
        .lines()
        .position(|l| l.starts_with(&format!("{key}:")))?;
    let items = text
        .lines()
        .enumerate()
        .skip(start + 1)
        .take_while(|(_, l)| l.trim().is_empty() || l.starts_with([' ', '-', '#']))
        .filter(|(_, l)| {
            let t = l.trim_start();
            // Items of the list itself: the least indented `- ` lines.
            t.starts_with("- ") || t == "-"
        })
        .map(|(i, l)| (i, l.len() - l.trim_start().len()))
        .collect::<Vec<_>>();
    let indent = items.iter().map(|i| i.1).min();
    let hit = items
        .iter()
        .filter(|i| Some(i.1) == indent)
        .nth(nth)
        .map(|(i, col)| (i + 1, col + 1));
    hit.or_else(|| Some((start + 1, 1)))
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

    #[test]
    fn rule_dirs_are_settings() {
        let mut cfg = Config::default();
        cfg.security.rule_dirs = vec!["./security/rules/".into()];
        let paths = settings_paths(None, &cfg);
        assert!(paths.contains(&"security/rules".to_string()), "{paths:?}");
        assert!(paths.contains(&".pr-risk.yml".to_string()));
    }

    fn config_err(text: &str) -> String {
        Config::parse(text, std::path::Path::new(".pr-risk.yml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn config_errors_carry_file_and_line() {
        let e = config_err(
            "coupling:\n  rules:\n    - name: a\n      from: src/\n      to: lib/\n      too-not: x/\n",
        );
        assert!(
            e.starts_with(".pr-risk.yml:6:7: unknown key `too-not`"),
            "{e}"
        );
        assert!(e.contains("did you mean `to-not`?"), "{e}");
        let e = config_err(
            "coupling:\n  rules:\n    - name: a\n      from: \"src/(a\"\n      to: lib/\n",
        );
        assert!(e.starts_with(".pr-risk.yml:4:13: "), "{e}");
        assert!(e.contains("invalid regex `src/(a`"), "{e}");
        let e = config_err(
            "coupling:\n  rules:\n    - name: a\n      from: src/\n      to: lib/\n    - name: a\n      from: src/\n      to: lib/\n",
        );
        assert!(e.starts_with(".pr-risk.yml:6:5: two coupling rules"), "{e}");
        let e = config_err("coupling:\n  rules:\n    - name: a\n      from: src/\n      severity: fatal\n      to: x/\n");
        assert!(e.starts_with(".pr-risk.yml:5:17: "), "{e}");
        let e = config_err("coupling:\n  rules:\n    - name: a\n      from: src/\n      to-not: src/$1/\n      to: x/\n");
        assert!(e.starts_with(".pr-risk.yml:3:7: "), "{e}");
        assert!(e.contains("`to-not` uses $1"), "{e}");
        let e = config_err("coupling:\n  cycle:\n    severity: warn\n");
        assert!(e.contains("did you mean `cycles`?"), "{e}");
    }

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
        let e = err("regression:\n  l2: -1\n");
        assert!(e.contains("`regression.l2` must be a number ≥ 0"), "{e}");
        let e = err("regression:\n  features: [code_lines_added, recent_fix]\n");
        assert!(e.contains("unknown feature `recent_fix`"), "{e}");
        assert!(e.contains("did you mean `recent_fixes`"), "{e}");
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
    fn security_holds_the_advisory_keys_beside_the_rule_settings() {
        let c = Config::parse(
            "security:\n  secrets: false\n  osv: false\n  osv-url: https://osv.internal/\n  disable: [a]\n",
            Path::new("x"),
        )
        .unwrap();
        assert!(!c.security.secrets);
        assert_eq!(c.security.disable, vec!["a".to_string()]);
        assert!(!c.security.advisories.osv);
        assert_eq!(c.security.advisories.url(), "https://osv.internal");
        assert_eq!(
            Config::default().security.advisories.url(),
            "https://api.osv.dev"
        );
        let e = err("security:\n  secrets: true\n  osv-ulr: x\n");
        assert!(e.starts_with(".pr-risk.yml:3:"), "{e}");
        assert!(e.contains("did you mean `osv-url`?"), "{e}");
        let e = err("security:\n  osv: maybe\n");
        assert!(e.starts_with(".pr-risk.yml:2:"), "{e}");
        let e = err("security:\n  osv-url: ftp://x\n");
        assert!(
            e.starts_with(".pr-risk.yml:2:3: `security.osv-url` must be"),
            "{e}"
        );
        let e = err("security:\n  trpc:\n    public-procedurs: []\n");
        assert!(e.starts_with(".pr-risk.yml:3:"), "{e}");
        // Written back, both halves are there.
        let keys: Vec<String> = Config::key_paths().into_iter().map(|k| k.0).collect();
        for k in ["security.osv", "security.osv-url", "security.secrets"] {
            assert!(keys.contains(&k.to_string()), "{k}");
        }
        assert_eq!(
            Config::parse("security:\n", Path::new("x")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn gate_keys() {
        let c = Config::parse(
            "mode: advisory\noverride-label: ship-it\nnear-threshold: 5\nthresholds:\n  - paths: [\"packages/billing/**\"]\n    threshold: 50\ncritical-paths: [\"**/auth/**\"]\ncritical-threshold: 40\n",
            Path::new("x"),
        )
        .unwrap();
        let g = c.gate();
        assert_eq!(g.mode, Mode::Advisory);
        assert_eq!(g.override_label, "ship-it");
        assert_eq!(g.near_threshold, 5);
        assert_eq!(g.thresholds.len(), 1);
        assert_eq!(g.thresholds[0].threshold, 50);
        assert_eq!(g.thresholds[0].paths[0].as_str(), "packages/billing/**");
        assert_eq!(g.critical_paths[0].as_str(), "**/auth/**");
        assert_eq!(g.critical_threshold, 40);
        let d = Config::default().gate();
        assert_eq!(d.mode, Mode::Gate);
        assert_eq!(d.override_label, "pr-risk:accepted");
        assert!(d.thresholds.is_empty() && d.critical_paths.is_empty());

        // Errors name the file, the line of the entry and the key.
        let e = err("threshold: 60\nthresholds:\n  - paths: [a/**]\n    threshold: 50\n  - paths: [b/**]\n    threshold: 150\n");
        assert!(
            e.starts_with(
                ".pr-risk.yml:5:3: `thresholds[1].threshold` must be between 0 and 100, got 150"
            ),
            "{e}"
        );
        let e = err("thresholds:\n  - paths: []\n    threshold: 50\n");
        assert!(
            e.starts_with(".pr-risk.yml:2:3: `thresholds[0].paths` is empty"),
            "{e}"
        );
        let e = err("thresholds:\n  - path: [a/**]\n    threshold: 50\n");
        assert!(e.starts_with(".pr-risk.yml:2:5: "), "{e}");
        assert!(e.contains("did you mean `paths`?"), "{e}");
        let e = err("mode: warn\n");
        assert!(e.starts_with(".pr-risk.yml:1:"), "{e}");
        assert!(e.contains("gate") && e.contains("advisory"), "{e}");
        let e = err("critical-paths: [\"src/[a\"]\n");
        assert!(e.starts_with(".pr-risk.yml:1:"), "{e}");
        assert!(e.contains("invalid glob"), "{e}");
        let e = err("fail-on-critical-security: true\ncritical-threshold: 101\n");
        assert!(
            e.starts_with(".pr-risk.yml:2:1: `critical-threshold` must be between 0 and 100"),
            "{e}"
        );
        let e = err("override-label: \" x\"\n");
        assert!(
            e.starts_with(".pr-risk.yml:1:1: `override-label` must be"),
            "{e}"
        );
        let e = err("override-actors:\n  - lead\n  - \"@ops\"\n");
        assert!(
            e.starts_with(".pr-risk.yml:3:3: `override-actors[1]` must be a GitHub login"),
            "{e}"
        );
        let c =
            Config::parse("override-actors: [lead, \"deploy[bot]\"]\n", Path::new("x")).unwrap();
        assert_eq!(c.gate().override_actors, vec!["lead", "deploy[bot]"]);
        let e = err("critical_paths: []\n");
        assert!(e.contains("did you mean `critical-paths`?"), "{e}");
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
