//! Known vulnerabilities of the versions a change brings in, without HTTP in the engine.
//!
//! The engine asks an [`Advisories`] implementation (the OSV client of the outlets crate, or a
//! test's fake) about the head versions that are new or changed, and about the base versions they
//! replace: an advisory that already affected the replaced version is not *introduced* by the
//! change ([`Advisory::introduced`]). Only packages of the ecosystem's public registry are asked
//! about; a private registry's package names are never sent anywhere.
//!
//! Answers are memoised per (source, ecosystem, package, version) through [`AdvisoryMemo`] (the
//! pipeline hands in the `osv` cache, which keeps them for a day). A source that cannot be reached
//! is an [`AdvisoryCheck::Failed`] with the reason — the caller turns it into a note — never a
//! failed run and never an empty answer passed off as "no vulnerabilities".

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::model::Ecosystem;
use super::Dependencies;

/// `.pr-risk.yml` → `security.osv` and `security.osv-url`: whether the versions a change brings in
/// are checked against the OSV database, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AdvisorySettings {
    /// Ask OSV about new and changed dependency versions (their names and versions are sent to
    /// it). `--offline` turns it off for one run.
    pub osv: bool,
    /// The OSV API's base URL (a mirror); `null`: <https://api.osv.dev>.
    pub osv_url: Option<String>,
}

impl Default for AdvisorySettings {
    fn default() -> Self {
        AdvisorySettings {
            osv: true,
            osv_url: None,
        }
    }
}

/// The production OSV API.
pub const DEFAULT_OSV_URL: &str = "https://api.osv.dev";

impl AdvisorySettings {
    /// The OSV base URL to use.
    pub fn url(&self) -> &str {
        self.osv_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_OSV_URL)
    }

    /// Checked when the configuration is read: `(key, message)`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(u) = &self.osv_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err((
                    "osv-url",
                    format!("`security.osv-url` must be an http(s) URL, got `{u}`"),
                ));
            }
        }
        Ok(())
    }
}

/// One version of one package, as an advisory database is asked about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PackageVersion {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
}

/// How severe an advisory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// CVSS v3 qualitative ratings: 9.0–10 critical, 7.0–8.9 high, 4.0–6.9 medium, below low (a
    /// 0.0 "none" included: the database still lists it as a vulnerability).
    pub fn from_cvss(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// A database's own word (`CRITICAL`, `HIGH`, `MODERATE`/`MEDIUM`, `LOW`), any case.
    pub fn from_word(word: &str) -> Option<Severity> {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" | "important" => Some(Severity::High),
            "moderate" | "medium" => Some(Severity::Medium),
            "low" | "negligible" => Some(Severity::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A known vulnerability of one package version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advisory {
    /// The database's id (`GHSA-…`, `RUSTSEC-…`).
    pub id: String,
    /// Other ids of the same vulnerability (`CVE-…`).
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    /// Where the severity came from: `CVSS:3.1/AV:N/… = 9.8`, `database: HIGH`, or `none given
    /// (counted as medium)`.
    pub severity_from: String,
    /// The CVSS v3 base score, when a vector was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// The advisory's page.
    pub url: String,
    /// Versions of the package that fix it (from the advisory's ranges).
    pub fixed: Vec<String>,
    /// The change introduces it: the version it replaces (if any) is not affected.
    pub introduced: bool,
}

impl Advisory {
    /// The same advisory with control characters replaced (its text comes from the network and
    /// reaches terminals and comments).
    pub fn printable(mut self) -> Advisory {
        use super::model::printable;
        self.id = printable(&self.id);
        self.summary = printable(&self.summary);
        self.severity_from = printable(&self.severity_from);
        self.url = printable(&self.url);
        for s in self.aliases.iter_mut().chain(self.fixed.iter_mut()) {
            *s = printable(s);
        }
        self
    }
}

/// Why an advisory source could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryError(pub String);

impl std::fmt::Display for AdvisoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An advisory database (the outlets' OSV client; a fake in tests).
pub trait Advisories: Send + Sync {
    /// Where the answers come from (a URL): shown in the report and part of the memo key.
    fn source(&self) -> String;

    /// The advisories of each package version, in the order asked (one list per version; an empty
    /// list means the database knows of none). `Err` when the database could not answer (all or
    /// nothing: a partial answer is an error).
    fn query(&self, packages: &[PackageVersion]) -> Result<Vec<Vec<Advisory>>, AdvisoryError>;
}

/// Answers kept between runs (the pipeline's `osv` cache).
pub trait AdvisoryMemo {
    /// A fresh answer for `package` from `source`.
    fn get(&mut self, source: &str, package: &PackageVersion) -> Option<Vec<Advisory>>;
    fn put(&mut self, source: &str, package: &PackageVersion, found: &[Advisory]);
}

/// Whether and how the advisory database was consulted.
#[derive(Debug, Clone, Default)]
pub enum AdvisoryMode {
    /// Not consulted, and why (`security.osv is false`, `--offline`).
    Off(String),
    On(Arc<dyn Advisories>),
    /// No database was given (library use and tests of the pipeline).
    #[default]
    Unset,
}

impl std::fmt::Debug for dyn Advisories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Advisories({})", self.source())
    }
}

/// What the vulnerability check did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum AdvisoryCheck {
    /// No new or changed version of a public-registry package: nothing to ask.
    #[default]
    NotNeeded,
    /// Asked `source` about `queried` versions (`cached` of them answered from the cache).
    Checked {
        source: String,
        queried: usize,
        cached: usize,
        /// Advisories found on head versions, and how many of them the change introduces.
        found: usize,
        introduced: usize,
    },
    /// Not asked (`security.osv: false`, `--offline`, no database configured).
    Skipped { reason: String },
    /// The database could not be reached or answered badly.
    Failed { source: String, reason: String },
}

impl AdvisoryCheck {
    /// The note to give when the check did not run though there was something to check.
    pub fn note(&self) -> Option<String> {
        match self {
            AdvisoryCheck::Skipped { reason } => Some(format!(
                "known vulnerabilities of the changed dependencies were not checked: {reason}"
            )),
            AdvisoryCheck::Failed { source, reason } => Some(format!(
                "known vulnerabilities of the changed dependencies were not checked: {source} did not answer ({reason})"
            )),
            _ => None,
        }
    }
}

/// The versions to ask about: each head version a change brings in, and the base version it
/// replaces (to tell introduced advisories from inherited ones). Public-registry packages with a
/// parseable version only.
pub fn queries(deps: &Dependencies) -> Vec<PackageVersion> {
    let mut out = BTreeSet::new();
    for c in &deps.changes {
        let Some(to) = &c.to else { continue };
        if !c.resolved || !c.source.is_public_registry() {
            continue;
        }
        let pv = |v: &str| PackageVersion {
            ecosystem: c.ecosystem,
            name: c.name.clone(),
            version: v.to_string(),
        };
        out.insert(pv(to));
        let base_source = c.previous_source.as_ref().unwrap_or(&c.source);
        if let (Some(from), true) = (&c.from, base_source.is_public_registry()) {
            out.insert(pv(from));
        }
    }
    out.into_iter().collect()
}

/// Ask `db` about the changes' versions (through `memo` when given) and attach what it finds to
/// each change; sets [`Dependencies::advisories`].
pub fn check(deps: &mut Dependencies, db: &dyn Advisories, memo: Option<&mut dyn AdvisoryMemo>) {
    let asked = queries(deps);
    if asked.is_empty() {
        deps.advisories = AdvisoryCheck::NotNeeded;
        return;
    }
    let source = db.source();
    let mut answers: BTreeMap<PackageVersion, Vec<Advisory>> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut memo = memo;
    for p in &asked {
        match memo.as_mut().and_then(|m| m.get(&source, p)) {
            Some(found) => {
                answers.insert(p.clone(), found);
            }
            None => missing.push(p.clone()),
        }
    }
    let cached = asked.len() - missing.len();
    if !missing.is_empty() {
        match db.query(&missing) {
            Ok(found) if found.len() == missing.len() => {
                for (p, f) in missing.into_iter().zip(found) {
                    if let Some(m) = memo.as_mut() {
                        m.put(&source, &p, &f);
                    }
                    answers.insert(p, f);
                }
            }
            Ok(found) => {
                deps.advisories = AdvisoryCheck::Failed {
                    source,
                    reason: format!("{} answers for {} questions", found.len(), missing.len()),
                };
                return;
            }
            Err(e) => {
                deps.advisories = AdvisoryCheck::Failed {
                    source,
                    reason: e.0,
                };
                return;
            }
        }
    }
    let (mut found, mut introduced) = (0, 0);
    for c in &mut deps.changes {
        let Some(to) = &c.to else { continue };
        let key = |v: &str| PackageVersion {
            ecosystem: c.ecosystem,
            name: c.name.clone(),
            version: v.to_string(),
        };
        let Some(head) = answers.get(&key(to)) else {
            continue;
        };
        let base: Vec<&Advisory> = c
            .from
            .as_ref()
            .and_then(|f| answers.get(&key(f)))
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let mut list: Vec<Advisory> = head
            .iter()
            .map(|a| {
                let mut a = a.clone();
                a.introduced = !base.iter().any(|b| same_vulnerability(&a, b));
                a
            })
            .collect();
        list.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        found += list.len();
        introduced += list.iter().filter(|a| a.introduced).count();
        c.advisories = list;
    }
    deps.advisories = AdvisoryCheck::Checked {
        source,
        queried: asked.len(),
        cached,
        found,
        introduced,
    };
}

/// The same vulnerability: the same id, or a shared alias.
fn same_vulnerability(a: &Advisory, b: &Advisory) -> bool {
    a.id == b.id
        || b.aliases.contains(&a.id)
        || a.aliases.contains(&b.id)
        || a.aliases.iter().any(|x| b.aliases.contains(x))
}

/// Mark the check as not run, when there was something to check.
pub fn skip(deps: &mut Dependencies, reason: &str) {
    deps.advisories = if queries(deps).is_empty() {
        AdvisoryCheck::NotNeeded
    } else {
        AdvisoryCheck::Skipped {
            reason: reason.to_string(),
        }
    };
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::deps::{Change, ChangeKind, Source};

    fn change(name: &str, from: Option<&str>, to: Option<&str>, source: Source) -> Change {
        Change {
            ecosystem: Ecosystem::Npm,
            project: String::new(),
            name: name.into(),
            kind: ChangeKind::Upgraded,
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            semver: None,
            breaking: false,
            resolved: true,
            direct: Vec::new(),
            via: Vec::new(),
            dev_only: false,
            source,
            previous_source: None,
            install_script: None,
            new_install_script: false,
            lockfile: None,
            importers: Vec::new(),
            test_importers: 0,
            type_only_importers: Vec::new(),
            advisories: Vec::new(),
        }
    }

    fn advisory(id: &str, alias: &str, severity: Severity) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: vec![alias.into()],
            summary: "s".into(),
            severity,
            severity_from: "database: X".into(),
            cvss_score: None,
            url: String::new(),
            fixed: Vec::new(),
            introduced: false,
        }
    }

    /// A database that knows a few versions and records what it was asked.
    struct Fake {
        known: HashMap<String, Vec<Advisory>>,
        asked: Mutex<Vec<String>>,
        fail: bool,
    }

    impl Advisories for Fake {
        fn source(&self) -> String {
            "fake://db".into()
        }

        fn query(&self, p: &[PackageVersion]) -> Result<Vec<Vec<Advisory>>, AdvisoryError> {
            let keys: Vec<String> = p
                .iter()
                .map(|p| format!("{}@{}", p.name, p.version))
                .collect();
            self.asked.lock().unwrap().extend(keys.iter().cloned());
            if self.fail {
                return Err(AdvisoryError("connection refused".into()));
            }
            Ok(keys
                .iter()
                .map(|k| self.known.get(k).cloned().unwrap_or_default())
                .collect())
        }
    }

    #[derive(Default)]
    struct Memo(HashMap<String, Vec<Advisory>>);

    impl AdvisoryMemo for Memo {
        fn get(&mut self, source: &str, p: &PackageVersion) -> Option<Vec<Advisory>> {
            self.0
                .get(&format!("{source} {}@{}", p.name, p.version))
                .cloned()
        }
        fn put(&mut self, source: &str, p: &PackageVersion, found: &[Advisory]) {
            self.0
                .insert(format!("{source} {}@{}", p.name, p.version), found.to_vec());
        }
    }

    fn deps() -> Dependencies {
        Dependencies {
            changes: vec![
                change("a", Some("1.0.0"), Some("2.0.0"), Source::DEFAULT),
                change("b", None, Some("1.0.0"), Source::DEFAULT),
                change("c", Some("1.0.0"), None, Source::DEFAULT),
                change(
                    "d",
                    None,
                    Some("1.0.0"),
                    Source::Registry {
                        registry: Some("https://npm.internal".into()),
                    },
                ),
            ],
            ..Dependencies::default()
        }
    }

    #[test]
    fn introduced_means_the_replaced_version_was_not_affected() {
        let known: HashMap<String, Vec<Advisory>> = [
            // `a` keeps GHSA-1 (under another id at base, sharing the CVE) and gains GHSA-2.
            ("a@1.0.0", vec![advisory("OSV-1", "CVE-1", Severity::High)]),
            (
                "a@2.0.0",
                vec![
                    advisory("GHSA-1", "CVE-1", Severity::High),
                    advisory("GHSA-2", "CVE-2", Severity::Critical),
                ],
            ),
            ("b@1.0.0", vec![advisory("GHSA-3", "CVE-3", Severity::Low)]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let db = Fake {
            known,
            asked: Mutex::new(Vec::new()),
            fail: false,
        };
        let mut d = deps();
        let mut memo = Memo::default();
        check(&mut d, &db, Some(&mut memo));
        // A removed version and a private registry's package are never asked about.
        assert_eq!(*db.asked.lock().unwrap(), ["a@1.0.0", "a@2.0.0", "b@1.0.0"]);
        let a: Vec<(&str, bool)> = d.changes[0]
            .advisories
            .iter()
            .map(|x| (x.id.as_str(), x.introduced))
            .collect();
        assert_eq!(
            a,
            [("GHSA-2", true), ("GHSA-1", false)],
            "most severe first"
        );
        assert!(d.changes[1].advisories[0].introduced);
        assert_eq!(
            d.advisories,
            AdvisoryCheck::Checked {
                source: "fake://db".into(),
                queried: 3,
                cached: 0,
                found: 3,
                introduced: 2
            }
        );
        // The memo answers the second time.
        let mut again = deps();
        check(&mut again, &db, Some(&mut memo));
        assert_eq!(db.asked.lock().unwrap().len(), 3);
        assert!(matches!(
            again.advisories,
            AdvisoryCheck::Checked { cached: 3, .. }
        ));
    }

    #[test]
    fn a_failing_database_is_a_failed_check_not_an_empty_answer() {
        let db = Fake {
            known: HashMap::new(),
            asked: Mutex::new(Vec::new()),
            fail: true,
        };
        let mut d = deps();
        check(&mut d, &db, None);
        assert_eq!(
            d.advisories,
            AdvisoryCheck::Failed {
                source: "fake://db".into(),
                reason: "connection refused".into()
            }
        );
        assert_eq!(
            d.advisories.note().unwrap(),
            "known vulnerabilities of the changed dependencies were not checked: fake://db did not answer (connection refused)"
        );
        let mut quiet = Dependencies::default();
        check(&mut quiet, &db, None);
        assert_eq!(quiet.advisories, AdvisoryCheck::NotNeeded);
        assert_eq!(quiet.advisories.note(), None);
        skip(&mut d, "--offline");
        assert_eq!(
            d.advisories,
            AdvisoryCheck::Skipped {
                reason: "--offline".into()
            }
        );
    }
}
