//! Security: new findings in the changed files, from declarative rules and a secrets scanner.
//!
//! Every changed file present at head is read from git objects and decoded lossily (an odd byte
//! never skips a file; git attributes are never consulted). Secrets ([`secrets`]) are looked for
//! in all of them; code rules ([`rules`], matched by [`engine`], with data flow by [`taint`]) run
//! on the source files the filters allow, at head and (under their base path, renames followed)
//! at base. A file the scan could not read is a finding itself ([`UNSCANNED_ID`]).
//!
//! Head and base findings are paired by [`fingerprint::Identity`] — (rule, enclosing item,
//! anchor, ordinal), no line numbers — so edits inside old debt are not new debt: a head finding
//! with no base partner is *new* (scored); one with a partner is *pre-existing*, or *changed
//! pre-existing* when the change touched its lines (listed apart, `changed-weight`, default 0).
//! A `pr-risk-ignore[rule-id]: reason` comment on the finding's line or the line above
//! *suppresses* it (the reason is required); one the pull request added itself is listed, and
//! `security.pr-suppressions` in the base settings decides whether it counts.
//!
//! ```text
//! W        = 4·critical + 2·high + 1·medium + 0.25·low      (new findings;
//!            + changed-weight · the same over changed pre-existing ones)
//! security = min(100, 20·W)                                  one high + one medium → 60
//! ```

pub mod anchors;
pub mod dependencies;
pub mod engine;
pub mod fingerprint;
pub mod rules;
pub mod secrets;
pub mod taint;

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use rayon::prelude::*;
use regex::Regex;
use serde::{Deserialize, Serialize};

use self::fingerprint::Identity;
use self::rules::{Language, Rule, Severity, Vars};
use super::Dimension;
use crate::error::{Error, Result};
use crate::git::diff::{ChangeSet, ChangedFile, ChangedTexts, LineRange};
use crate::glob::GlobList;
use crate::parse::Filters;

/// `security:` — rule packs, overrides and the names the rules depend on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SecuritySettings {
    /// Directories (relative to the repository root) with extra rule files (`*.yml`).
    pub rule_dirs: Vec<String>,
    /// Rule ids that never run.
    pub disable: Vec<String>,
    /// Severity overrides by rule id (`critical`, `high`, `medium`, `low`).
    pub severity: BTreeMap<String, Severity>,
    /// Scan for secrets in added lines of every text file.
    pub secrets: bool,
    /// Run the code rules on test files too (secrets are always scanned).
    pub scan_tests: bool,
    /// Weight (0–1) of *changed pre-existing* findings — old findings whose lines the change
    /// touched — in the score; 0: listed, not scored.
    pub changed_weight: f64,
    /// What suppression comments the pull request adds itself do: `allow` (they count),
    /// `show` (they count, are listed apart, and a suppressed critical finding still blocks),
    /// `deny` (they are ignored).
    pub pr_suppressions: PrSuppressions,
    pub trpc: TrpcSettings,
}

/// `security.pr-suppressions`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PrSuppressions {
    Allow,
    #[default]
    Show,
    Deny,
}

/// Which tRPC procedures are public or authenticated, and what an auth middleware is called.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TrpcSettings {
    pub public_procedures: Vec<String>,
    pub authenticated_procedures: Vec<String>,
    /// A regex: `.use(x)` with a middleware whose name matches makes a chain authenticated.
    pub auth_middleware: String,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            rule_dirs: Vec::new(),
            disable: Vec::new(),
            severity: Default::default(),
            secrets: true,
            scan_tests: false,
            changed_weight: 0.0,
            pr_suppressions: PrSuppressions::Show,
            trpc: TrpcSettings::default(),
        }
    }
}

impl Default for TrpcSettings {
    fn default() -> Self {
        TrpcSettings {
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

impl SecuritySettings {
    /// `Err((key, message))` on an invalid value.
    pub fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        if !(0.0..=1.0).contains(&self.changed_weight) {
            return Err((
                "changed-weight",
                format!(
                    "`security.changed-weight` must be between 0 and 1, got {}",
                    self.changed_weight
                ),
            ));
        }
        if let Err(e) = regex::Regex::new(&self.trpc.auth_middleware) {
            return Err((
                "auth-middleware",
                format!("`security.trpc.auth-middleware` is not a valid regex: {e}"),
            ));
        }
        Ok(())
    }
}

/// A rule file from a `security.rule-dirs` directory: where it came from (for messages) and its
/// text.
#[derive(Debug, Clone)]
pub struct RuleFile {
    pub source: String,
    pub text: String,
}

/// Every finding of the change, split by what counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SecurityEvidence {
    /// Findings at head and not at base: these are scored.
    pub new: Vec<Finding>,
    /// Findings that were already there at base (same identity) and whose lines the change
    /// touched: listed apart, scored with `security.changed-weight` (default 0).
    pub changed: Vec<Finding>,
    /// Findings in changed files that were already there at base, untouched: reported, not
    /// scored.
    pub pre_existing: Vec<Finding>,
    /// Findings silenced with `pr-risk-ignore[rule-id]: reason`: reported, not scored.
    pub suppressed: Vec<Finding>,
    /// Suppression comments on lines the pull request added (with `security.pr-suppressions`
    /// saying what they do).
    pub pr_suppressions: Vec<PrSuppression>,
    /// New findings by severity.
    pub counts: Counts,
    /// Changed pre-existing findings by severity.
    pub changed_counts: Counts,
    /// `4·critical + 2·high + 1·medium + 0.25·low` over the new findings, plus
    /// `changed-weight` × the same over the changed pre-existing ones.
    pub weighted: f64,
    /// Changed files scanned (head or base side).
    pub files_scanned: usize,
    /// Rules that ran (code rules plus secret detectors).
    pub rules: usize,
    /// Suppression comments without a reason (ignored), unreadable files.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl Counts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
        }
    }

    pub fn weighted(&self) -> f64 {
        4.0 * self.critical as f64
            + 2.0 * self.high as f64
            + self.medium as f64
            + 0.25 * self.low as f64
    }
}

/// A `pr-risk-ignore[rule]: reason` comment on a line the pull request added.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PrSuppression {
    pub rule: String,
    pub path: String,
    pub line: u32,
    pub reason: String,
    /// Findings it silences (0 when `security.pr-suppressions: deny`, or nothing matches).
    pub suppresses: usize,
    /// `allow`, `show` or `deny` (from the base settings).
    pub policy: PrSuppressions,
}

/// One finding, as every output shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    /// Head path (base path for a base-only finding is never reported).
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// The last line of the matched code (`line` for a one-line match).
    pub end_line: u32,
    pub message: String,
    pub cwe: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owasp: Option<String>,
    pub fix: String,
    /// The first line of the matched code, secrets masked.
    pub snippet: String,
    /// (rule, enclosing item, anchor, ordinal): what "the same finding" means at base and head.
    pub identity: Identity,
    /// A hash of the rule, the head path and the identity.
    pub fingerprint: String,
    /// For a data-flow finding: where the tainted data comes from (`req.body.login` (line 3)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The reason given in the suppression comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// The suppression comment is on a line the pull request added.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed_by_pr: bool,
    /// The whole match, normalised (pairs equal identities at base and head).
    #[serde(skip)]
    pub norm: String,
}

/// The loaded rules: code rules and the secret detectors, with overrides applied.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Severity of each secret detector (index like [`secrets::DETECTORS`]); `None` = disabled.
    pub secrets: Vec<Option<Severity>>,
    /// `security.scan-tests`.
    pub scan_tests: bool,
    /// Severity of [`UNSCANNED_ID`]; `None` = disabled.
    pub unscanned: Option<Severity>,
    /// The taint sets of the embedded packs and of the rule dirs (for `pr-risk rules test`).
    pub sets: rules::Sets,
    /// Every rule's queries combined, per grammar (built on first use), in chunks.
    combined: [OnceLock<Vec<Chunk>>; 3],
    /// A hash of everything the rules were loaded from (the `security:` settings and the rule
    /// dirs' files; the embedded packs come with the tool's version): two runs whose rule sets
    /// have the same `version` find the same findings in the same text ([`ScanMemo`]).
    pub version: u64,
}

/// Rules compiled into one combined query: their indexes in [`RuleSet::rules`] and the query.
pub type Chunk = (Vec<usize>, engine::Combined);

/// Id, severity, languages, CWE and message of every rule, for `pr-risk rules list`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub severity: Severity,
    pub languages: Vec<String>,
    pub cwe: String,
    pub message: String,
    pub source: String,
    pub enabled: bool,
}

impl RuleSet {
    /// Embedded packs plus the files of the repository's rule dirs (read by the caller through
    /// the settings' file source), with `.pr-risk.yml` overrides applied.
    pub fn load(cfg: &SecuritySettings, extra: &[RuleFile]) -> Result<RuleSet> {
        let vars = vars(cfg);
        let (mut rules, mut sets) =
            rules::embedded_with_sets(&vars).map_err(|e| Error::Internal(e.to_string()))?;
        let (own, own_sets) =
            rules::from_files_with_sets(extra, &vars).map_err(|e| Error::Usage(e.to_string()))?;
        rules.extend(own);
        sets.0.extend(own_sets.0);
        let mut seen = HashSet::new();
        for r in &rules {
            if !seen.insert(r.id.clone()) {
                return Err(Error::Usage(format!(
                    "{}: rule id `{}` is defined twice\n  hint: rule ids must be unique across the embedded packs and security.rule-dirs",
                    r.source, r.id
                )));
            }
        }
        let mut all_ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        all_ids.extend(secrets::DETECTORS.iter().map(|d| d.id));
        all_ids.push(UNSCANNED_ID);
        all_ids.extend(dependencies::RULES.iter().map(|r| r.id));
        let check = |key: &str, id: &str| -> Result<()> {
            if all_ids.contains(&id) {
                return Ok(());
            }
            let hint = crate::error::nearest(id, &all_ids)
                .map(|b| format!(" (did you mean `{b}`?)"))
                .unwrap_or_default();
            Err(Error::Usage(format!(
                "security.{key} names unknown rule `{id}`{hint}\n  hint: `pr-risk rules list` shows every rule id"
            )))
        };
        for id in &cfg.disable {
            check("disable", id)?;
        }
        for id in cfg.severity.keys() {
            check("severity", id)?;
        }
        rules.retain(|r| !cfg.disable.contains(&r.id));
        for r in &mut rules {
            if let Some(s) = cfg.severity.get(&r.id) {
                r.severity = *s;
            }
        }
        let secrets = secrets::DETECTORS
            .iter()
            .map(|d| {
                (cfg.secrets && !cfg.disable.iter().any(|x| x == d.id))
                    .then(|| cfg.severity.get(d.id).copied().unwrap_or(d.severity))
            })
            .collect();
        let unscanned = (!cfg.disable.iter().any(|x| x == UNSCANNED_ID)).then(|| {
            cfg.severity
                .get(UNSCANNED_ID)
                .copied()
                .unwrap_or(Severity::High)
        });
        Ok(RuleSet {
            rules,
            secrets,
            scan_tests: cfg.scan_tests,
            unscanned,
            sets,
            combined: Default::default(),
            version: rules_version(cfg, extra),
        })
    }

    /// The combined queries of every rule for grammar `g`, compiled on first use.
    pub fn combined(&self, g: rules::Grammar) -> &[Chunk] {
        let Some(i) = rules::GRAMMARS.iter().position(|x| *x == g) else {
            return &[];
        };
        self.combined[i].get_or_init(|| self.compile(g, |_| true))
    }

    /// Compile the rules for grammar `g` that `admit` accepts.
    ///
    /// Compilation cost grows with the number of patterns, and one `Query::new` runs on one
    /// thread, so the rules are split into one chunk per worker thread and the chunks compile in
    /// parallel. Each chunk is one pass over a file's tree.
    pub fn compile(&self, g: rules::Grammar, admit: impl Fn(&Rule) -> bool) -> Vec<Chunk> {
        let of_g: Vec<usize> = (0..self.rules.len())
            .filter(|&r| self.rules[r].languages.iter().any(|l| l.grammar() == g))
            .filter(|&r| admit(&self.rules[r]))
            .collect();
        if of_g.is_empty() {
            return Vec::new();
        }
        let n = rayon::current_num_threads().clamp(1, 8).min(of_g.len());
        let per = of_g.len().div_ceil(n);
        of_g.par_chunks(per)
            .filter_map(|idx| {
                let refs: Vec<&Rule> = idx.iter().map(|&i| &self.rules[i]).collect();
                match engine::Combined::build(&refs, g) {
                    Ok(c) => Some((idx.to_vec(), c)),
                    Err(e) => {
                        tracing::warn!("security rules for {g:?} could not be combined: {e}");
                        None
                    }
                }
            })
            .collect()
    }

    pub fn count(&self) -> usize {
        self.rules.len()
            + self.secrets.iter().flatten().count()
            + usize::from(self.unscanned.is_some())
    }
}

/// The hash [`RuleSet::version`]: the settings as JSON, then each rule file's name and text.
fn rules_version(cfg: &SecuritySettings, extra: &[RuleFile]) -> u64 {
    let mut data = serde_json::to_vec(cfg).unwrap_or_default();
    for f in extra {
        data.push(0);
        data.extend_from_slice(f.source.as_bytes());
        data.push(0);
        data.extend_from_slice(f.text.as_bytes());
    }
    crate::hash::fnv1a(&data)
}

/// What one scan of one text is a pure function of, besides the rule set
/// ([`RuleSet::version`]): the blob, the path its findings are reported (and fingerprinted, and
/// path-filtered) under, the path its language and docs-ness come from (the base path of a
/// rename), whether the code rules run, and whether it is a test file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanKey {
    pub blob: crate::git::Oid,
    pub path: String,
    pub lang_path: String,
    pub code_rules: bool,
    pub test_file: bool,
}

/// Findings already computed for a (rule set version, [`ScanKey`]) — the scan cache
/// (`cache::scan`). Shared by the parallel scans, so `&self`.
pub trait ScanMemo: Sync {
    fn get(&self, rules: u64, key: &ScanKey) -> Option<Vec<Finding>>;
    fn put(&self, rules: u64, key: ScanKey, findings: &[Finding]);
}

/// The `{{…}}` variables from the configuration.
pub fn vars(cfg: &SecuritySettings) -> Vars {
    Vars::new(
        &cfg.trpc.public_procedures,
        &cfg.trpc.authenticated_procedures,
        &cfg.trpc.auth_middleware,
    )
}

/// Every rule (enabled or not) for `pr-risk rules list`.
pub fn list(cfg: &SecuritySettings, extra: &[RuleFile]) -> Result<Vec<RuleInfo>> {
    let mut off = cfg.clone();
    off.disable.clear();
    off.secrets = true;
    let set = RuleSet::load(&off, extra)?;
    let enabled = |id: &str| !cfg.disable.iter().any(|d| d == id);
    let mut out: Vec<RuleInfo> = set
        .rules
        .iter()
        .map(|r| RuleInfo {
            id: r.id.clone(),
            severity: r.severity,
            languages: r.languages.iter().map(|l| l.name().to_string()).collect(),
            cwe: r.cwe.clone(),
            message: r.message.clone(),
            source: r.source.clone(),
            enabled: enabled(&r.id),
        })
        .collect();
    for (d, s) in secrets::DETECTORS.iter().zip(&set.secrets) {
        out.push(RuleInfo {
            id: d.id.to_string(),
            severity: s.unwrap_or(d.severity),
            languages: vec!["any text".into()],
            cwe: secrets::CWE.into(),
            message: d.message.into(),
            source: "built-in:secrets".into(),
            enabled: cfg.secrets && enabled(d.id),
        });
    }
    out.push(RuleInfo {
        id: UNSCANNED_ID.to_string(),
        severity: set.unscanned.unwrap_or(Severity::High),
        languages: vec!["any file".into()],
        cwe: UNSCANNED_CWE.into(),
        message: UNSCANNED_MESSAGE.into(),
        source: "built-in:scan".into(),
        enabled: enabled(UNSCANNED_ID),
    });
    for r in &dependencies::RULES {
        out.push(RuleInfo {
            id: r.id.to_string(),
            severity: cfg.severity.get(r.id).copied().unwrap_or(r.severity),
            languages: vec!["dependency changes".into()],
            cwe: r.cwe.into(),
            message: r.message.into(),
            source: "built-in:dependencies".into(),
            enabled: enabled(r.id),
        });
    }
    Ok(out)
}

pub struct SecurityInput<'a> {
    /// The changed files to scan ([`files_to_scan`]) and their texts, in the same order.
    pub files: &'a [&'a ChangedFile],
    pub texts: &'a [ChangedTexts],
    pub rules: &'a RuleSet,
    /// Test files (code rules skip them unless `security.scan-tests`).
    pub tests: &'a GlobList,
    /// `include` / `exclude`: code rules run only on files they allow (secrets on every file).
    pub filters: &'a Filters,
    /// `limits.max-file-size`: larger files get the secret scan only.
    pub max_code_size: u64,
    /// The dimension's weight in the composite.
    pub weight: f64,
    /// Findings of texts scanned by earlier runs (`None`: scan everything).
    pub memo: Option<&'a dyn ScanMemo>,
}

/// The rule ids of the findings from dependency changes start with it.
pub const DEPENDENCY_PREFIX: &str = "deps/";

/// The id of the built-in finding for a changed file the scan could not read.
pub const UNSCANNED_ID: &str = "security/unscanned-file";
const UNSCANNED_CWE: &str = "CWE-693";
const UNSCANNED_MESSAGE: &str = "A changed file could not be scanned";
const UNSCANNED_FIX: &str = "Keep sources as text under limits.max-file-size (split generated files, store large data outside the repository); a reviewer has to read this file by hand.";

/// How many times `limits.max-file-size` a file may be for the secret scan (which reads text
/// line by line and is cheap): larger files are [`UNSCANNED_ID`] findings.
pub const SECRET_SCAN_FACTOR: u64 = 16;

/// The changed files the scan reads: every file present at head that is a regular file (not a
/// symlink or submodule). Binary, oversize and excluded files are included: secrets are looked
/// for in all of them, and what cannot be read is reported, never skipped in silence.
pub fn files_to_scan(changes: &ChangeSet) -> Vec<&ChangedFile> {
    changes
        .files
        .iter()
        .filter(|f| f.exists_at_head() && !f.symlink && !f.submodule)
        .collect()
}

/// Documentation files: example tokens in them are not secrets unless they have a provider's
/// exact format.
fn is_docs(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    [".md", ".mdx", ".rst", ".adoc", ".txt"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// Scan one text as `lang_path` (its language from the extension) with every applicable rule,
/// fingerprinting findings under `path_for_fingerprint`.
/// `code_rules` is false for test files (unless `security.scan-tests`); test files get the
/// provider-format secret detectors only (no JWTs, not the entropy-gated generic one).
pub fn scan_text(
    set: &RuleSet,
    path_for_fingerprint: &str,
    lang_path: &str,
    text: &str,
    code_rules: bool,
) -> Vec<Finding> {
    scan_text_with(
        set,
        &|g| set.combined(g),
        path_for_fingerprint,
        lang_path,
        text,
        code_rules,
        !code_rules,
    )
}

/// [`scan_text`] with the compiled rules given per grammar (a subset of the set's rules).
/// `test_file`: only the exact provider formats of secrets count.
fn scan_text_with<'a>(
    set: &'a RuleSet,
    compiled: &dyn Fn(rules::Grammar) -> &'a [Chunk],
    path_for_fingerprint: &str,
    lang_path: &str,
    text: &str,
    code_rules: bool,
    test_file: bool,
) -> Vec<Finding> {
    let mut hits: Vec<(u32, u32, usize, Finding)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let line_at = |l: u32| lines.get(l as usize - 1).copied().unwrap_or("");
    let finding = |rule: &str, severity: Severity, line: u32, column: u32| Finding {
        rule: rule.to_string(),
        severity,
        path: path_for_fingerprint.to_string(),
        line,
        column,
        end_line: line,
        message: String::new(),
        cwe: String::new(),
        owasp: None,
        fix: String::new(),
        snippet: String::new(),
        identity: Identity::default(),
        fingerprint: String::new(),
        source: None,
        suppressed: None,
        suppressed_by_pr: false,
        norm: String::new(),
    };
    if code_rules {
        if let Some(lang) = Language::of_path(lang_path) {
            let chunks = compiled(lang.grammar());
            let applies = chunks
                .iter()
                .any(|(idx, _)| idx.iter().any(|&i| set.rules[i].applies_to(lang)));
            let tree = if applies {
                engine::parse(lang, text)
            } else {
                None
            };
            if let Some(tree) = tree {
                let matches = chunks.iter().flat_map(|(idx, c)| {
                    let refs: Vec<&Rule> = idx.iter().map(|&i| &set.rules[i]).collect();
                    engine::run(&refs, c, lang, &tree, text)
                        .into_iter()
                        .map(move |mut m| {
                            m.rule = idx[m.rule];
                            m
                        })
                });
                for m in matches {
                    let r = &set.rules[m.rule];
                    if !r.applies_to_path(path_for_fingerprint) {
                        continue;
                    }
                    let mut snippet = line_at(m.line).trim().to_string();
                    if r.mask {
                        snippet = mask_literals(&snippet);
                    }
                    let mut f = finding(&r.id, r.severity, m.line, m.column);
                    f.end_line = m.end_line;
                    f.message = r.message.clone();
                    f.cwe = r.cwe.clone();
                    f.owasp = r.owasp.clone();
                    f.fix = r.fix.clone();
                    f.snippet = secrets::mask_all(&shorten(&snippet));
                    f.identity = Identity {
                        item: m.item,
                        anchor: m.anchor,
                        ordinal: 0,
                    };
                    f.norm = m.norm;
                    f.source = m.origin.map(|o| {
                        format!(
                            "`{}` (line {})",
                            secrets::mask_all(&o.text).replace('`', "'"),
                            o.line
                        )
                    });
                    hits.push((m.line, m.column, 0, f));
                }
            }
        }
    }
    if set.secrets.iter().any(Option::is_some) {
        let docs = is_docs(lang_path);
        for h in secrets::scan(text) {
            let Some(sev) = set.secrets[h.detector] else {
                continue;
            };
            let d = &secrets::DETECTORS[h.detector];
            // Test files and docs are full of made-up tokens: only exact provider formats count
            // (in tests not JWTs either, which test suites sign with test keys).
            let generic = d.id == secrets::GENERIC_ID;
            if ((test_file || docs) && generic && !set.scan_tests)
                || (test_file && d.id == secrets::JWT_ID && !set.scan_tests)
            {
                continue;
            }
            let line = line_at(h.line);
            let value = &line[h.start..h.end];
            let masked_line = format!(
                "{}{}{}",
                &line[..h.start],
                secrets::mask(value),
                &line[h.end..]
            );
            let mut f = finding(d.id, sev, h.line, h.column);
            f.message = d.message.to_string();
            f.cwe = secrets::CWE.to_string();
            f.owasp = Some(secrets::OWASP.to_string());
            f.fix = d.fix.to_string();
            f.snippet = secrets::mask_all(&shorten(around(&masked_line, h.start).trim()));
            f.identity = Identity {
                item: String::new(),
                anchor: fingerprint::secret_anchor(value),
                ordinal: 0,
            };
            f.norm = f.identity.anchor.clone();
            hits.push((h.line, h.column, 1, f));
        }
    }
    hits.sort_by(|a, b| (a.0, a.1, a.2, &a.3.rule).cmp(&(b.0, b.1, b.2, &b.3.rule)));
    let mut seen: BTreeMap<(String, String, String), u32> = BTreeMap::new();
    hits.into_iter()
        .map(|(_, _, _, mut f)| {
            let n = seen
                .entry((
                    f.rule.clone(),
                    f.identity.item.clone(),
                    f.identity.anchor.clone(),
                ))
                .or_insert(0);
            f.identity.ordinal = *n;
            *n += 1;
            f.fingerprint = fingerprint::fingerprint(&f.rule, path_for_fingerprint, &f.identity);
            f.suppressed = suppression(&lines, f.line, &f.rule).map(|(reason, _)| reason);
            f
        })
        .collect()
}

/// At most 160 characters of a line, around byte offset `at` (minified files have long lines).
fn around(line: &str, at: usize) -> &str {
    if line.len() <= 160 {
        return line;
    }
    let mut start = at.saturating_sub(40);
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    &line[start..]
}

fn shorten(s: &str) -> String {
    const MAX: usize = 160;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let t: String = s.chars().take(MAX).collect();
        format!("{t}…")
    }
}

/// Mask the contents of string literals (for rules about literal secrets).
fn mask_literals(s: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"(["'`])([^"'`]{1,})(["'`])"#).expect("valid"));
    re.replace_all(s, |c: &regex::Captures| {
        format!("{}{}{}", &c[1], secrets::mask(&c[2]), &c[3])
    })
    .into_owned()
}

fn suppression_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"pr-risk-ignore\[([^\]]*)\](?:\s*:\s*(.*))?").expect("valid suppression regex")
    })
}

/// Parse a suppression comment: (rule ids, reason without comment terminators).
fn parse_suppression(line: &str) -> Option<(Vec<String>, String)> {
    let c = suppression_re().captures(line)?;
    let ids = c[1].split(',').map(|s| s.trim().to_string()).collect();
    let reason = c
        .get(2)
        .map(|m| {
            m.as_str()
                .trim()
                .trim_end_matches("*/")
                .trim_end_matches("-->")
                .trim_end_matches("*}")
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    Some((ids, reason))
}

/// The reason of a `pr-risk-ignore[rule]: reason` on `line` or the line above, and the line the
/// comment is on.
fn suppression(lines: &[&str], line: u32, rule: &str) -> Option<(String, u32)> {
    for l in [line, line.saturating_sub(1)] {
        if l == 0 {
            continue;
        }
        if let Some((ids, reason)) = lines.get(l as usize - 1).and_then(|t| parse_suppression(t)) {
            if ids.iter().any(|i| i == rule) && !reason.is_empty() {
                return Some((reason, l));
            }
        }
    }
    None
}

/// Suppression comments without a reason, which are ignored (reported as notes).
fn reasonless(path: &str, text: &str, added: &dyn Fn(u32) -> bool) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(i, _)| added(*i as u32 + 1))
        .filter_map(|(i, l)| {
            let (ids, reason) = parse_suppression(l)?;
            reason.is_empty().then(|| {
                format!(
                    "{path}:{}: pr-risk-ignore[{}] has no reason, so it suppresses nothing (write `pr-risk-ignore[{}]: why`)",
                    i + 1,
                    ids.join(","),
                    ids.join(",")
                )
            })
        })
        .collect()
}

/// What one changed file contributed.
#[derive(Default)]
struct FileResult {
    new: Vec<Finding>,
    changed: Vec<Finding>,
    pre: Vec<Finding>,
    suppressed: Vec<Finding>,
    pr_suppressions: Vec<PrSuppression>,
    /// Base findings no head finding took (for moves between files).
    orphans: Vec<Finding>,
    notes: Vec<String>,
    scanned: bool,
}

/// The finding for a file (or side) the scan could not read.
fn unscanned(path: &str, severity: Severity, why: &str, kind: &str) -> Finding {
    let identity = Identity {
        item: String::new(),
        anchor: kind.to_string(),
        ordinal: 0,
    };
    Finding {
        rule: UNSCANNED_ID.to_string(),
        severity,
        path: path.to_string(),
        line: 1,
        column: 1,
        end_line: 1,
        message: format!("{UNSCANNED_MESSAGE}: {why}"),
        cwe: UNSCANNED_CWE.to_string(),
        owasp: None,
        fix: UNSCANNED_FIX.to_string(),
        snippet: String::new(),
        fingerprint: fingerprint::fingerprint(UNSCANNED_ID, path, &identity),
        identity,
        source: None,
        suppressed: None,
        suppressed_by_pr: false,
        norm: kind.to_string(),
    }
}

fn in_ranges(ranges: &[LineRange], from: u32, to: u32) -> bool {
    ranges.iter().any(|r| r.start <= to && from <= r.end)
}

/// Pair head findings with base findings of the same identity (rule, item, anchor): equal
/// matched code first, then in source order. Returns, per head finding, the base finding it
/// pairs with; and the base findings left over.
fn pair(head: &[Finding], base: Vec<Finding>) -> (Vec<Option<Finding>>, Vec<Finding>) {
    type Key = (String, String, String);
    let key = |f: &Finding| -> Key {
        (
            f.rule.clone(),
            f.identity.item.clone(),
            f.identity.anchor.clone(),
        )
    };
    let mut pool: BTreeMap<Key, Vec<Option<Finding>>> = BTreeMap::new();
    for b in base {
        pool.entry(key(&b)).or_default().push(Some(b));
    }
    let mut out: Vec<Option<Finding>> = vec![None; head.len()];
    // Equal code first, so the finding reported as new is the one that was added.
    for (i, h) in head.iter().enumerate() {
        if let Some(list) = pool.get_mut(&key(h)) {
            if let Some(slot) = list
                .iter_mut()
                .find(|b| b.as_ref().is_some_and(|b| b.norm == h.norm))
            {
                out[i] = slot.take();
            }
        }
    }
    for (i, h) in head.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        if let Some(list) = pool.get_mut(&key(h)) {
            if let Some(slot) = list.iter_mut().find(|b| b.is_some()) {
                out[i] = slot.take();
            }
        }
    }
    let left = pool.into_values().flatten().flatten().collect();
    (out, left)
}

/// The keys of a changed file's two scans (head, base) for the [`ScanMemo`], when that side is
/// scanned at all; the same decisions as [`scan_file`] makes.
fn scan_keys(
    f: &ChangedFile,
    texts: &ChangedTexts,
    input: &SecurityInput,
    cfg: &SecuritySettings,
) -> [Option<ScanKey>; 2] {
    let code_ok = |path: &str, binary: bool, size_ok: bool| {
        input.filters.allows(path)
            && (cfg.scan_tests || !input.tests.is_match(path))
            && !binary
            && size_ok
    };
    let head = match (&texts.unscannable, &texts.head, f.new_oid) {
        (None, Some(_), Some(blob)) => Some(ScanKey {
            blob,
            path: f.path.clone(),
            lang_path: f.path.clone(),
            code_rules: code_ok(
                &f.path,
                texts.head_binary,
                texts.head_size <= input.max_code_size,
            ),
            test_file: input.tests.is_match(&f.path),
        }),
        _ => None,
    };
    let base = match (head.is_some(), f.base_path(), &texts.base, f.old_oid) {
        (true, Some(base_path), Some(base), Some(blob)) => Some(ScanKey {
            blob,
            path: f.path.clone(),
            lang_path: base_path.to_string(),
            code_rules: code_ok(
                base_path,
                texts.base_binary,
                base.len() as u64 <= input.max_code_size,
            ),
            test_file: input.tests.is_match(base_path),
        }),
        _ => None,
    };
    [head, base]
}

fn scan_file(
    f: &ChangedFile,
    texts: &ChangedTexts,
    input: &SecurityInput,
    cfg: &SecuritySettings,
    compiled: &[Vec<Chunk>; 3],
    (keys, cached): (&[Option<ScanKey>; 2], [Option<Vec<Finding>>; 2]),
) -> FileResult {
    let set = input.rules;
    let tests = input.tests;
    let mut out = FileResult::default();
    out.notes.extend(texts.note.clone());
    let added = |l: u32| in_ranges(&f.added_lines, l, l);
    if let Some(why) = &texts.unscannable {
        if let Some(sev) = set.unscanned {
            let mut x = unscanned(&f.path, sev, why, "too-large");
            if texts.base_unscannable {
                out.changed.push(x);
            } else {
                x.message = format!("{UNSCANNED_MESSAGE}: {why}");
                out.new.push(x);
            }
        }
        return out;
    }
    let Some(head) = &texts.head else {
        return out;
    };
    out.scanned = true;
    let chunks = |g: rules::Grammar| compiled[g.index()].as_slice();
    // Code rules: source files the filters allow, not test files (unless scan-tests), as text
    // under the size limit. Secrets: every file.
    let code_ok = |path: &str, binary: bool, size_ok: bool| {
        input.filters.allows(path)
            && (cfg.scan_tests || !tests.is_match(path))
            && !binary
            && size_ok
    };
    let head_small = texts.head_size <= input.max_code_size;
    let head_code = code_ok(&f.path, texts.head_binary, head_small);
    let test_file = tests.is_match(&f.path);
    // A side's findings come from the memo when an earlier run scanned the same text under the
    // same key with the same rules; what is scanned now is remembered.
    let [cached_head, cached_base] = cached;
    let scan = |cached: Option<Vec<Finding>>,
                key: &Option<ScanKey>,
                lang_path: &str,
                text: &str,
                code: bool,
                test: bool| {
        if let Some(found) = cached {
            return found;
        }
        let found = scan_text_with(set, &chunks, &f.path, lang_path, text, code, test);
        if let (Some(memo), Some(key)) = (input.memo, key) {
            memo.put(set.version, key.clone(), &found);
        }
        found
    };
    let mut head_findings = scan(cached_head, &keys[0], &f.path, head, head_code, test_file);
    // A source file the code rules should have read but could not is a finding itself.
    if let (Some(sev), Some(_)) = (set.unscanned, Language::of_path(&f.path)) {
        let wanted = input.filters.allows(&f.path) && (cfg.scan_tests || !test_file);
        if wanted && (texts.head_binary || !head_small) {
            let (why, kind) = if texts.head_binary {
                (
                    "binary by content, the code rules could not run".to_string(),
                    "binary",
                )
            } else {
                (
                    format!(
                        "{} bytes, larger than limits.max-file-size ({}): only secrets were scanned",
                        texts.head_size, input.max_code_size
                    ),
                    "too-large-for-code",
                )
            };
            head_findings.insert(0, unscanned(&f.path, sev, &why, kind));
        }
    }
    let base_findings = match (f.base_path(), &texts.base) {
        (Some(base_path), Some(base)) => {
            let base_code = code_ok(
                base_path,
                texts.base_binary,
                base.len() as u64 <= input.max_code_size,
            );
            // Fingerprinted under the head path, so a rename keeps its findings.
            let mut b = scan(
                cached_base,
                &keys[1],
                base_path,
                base,
                base_code,
                tests.is_match(base_path),
            );
            if let (Some(sev), Some(_)) = (set.unscanned, Language::of_path(base_path)) {
                if texts.base_binary || base.len() as u64 > input.max_code_size {
                    let kind = if texts.base_binary {
                        "binary"
                    } else {
                        "too-large-for-code"
                    };
                    b.push(unscanned(&f.path, sev, "", kind));
                }
            }
            b
        }
        _ => Vec::new(),
    };
    out.notes.extend(reasonless(&f.path, head, &added));
    let lines: Vec<&str> = head.lines().collect();
    // Suppressions the pull request adds.
    for (i, l) in lines.iter().enumerate() {
        let n = i as u32 + 1;
        if !added(n) {
            continue;
        }
        if let Some((ids, reason)) = parse_suppression(l) {
            if reason.is_empty() {
                continue;
            }
            for id in ids {
                out.pr_suppressions.push(PrSuppression {
                    rule: id,
                    path: f.path.clone(),
                    line: n,
                    reason: reason.clone(),
                    suppresses: 0,
                    policy: cfg.pr_suppressions,
                });
            }
        }
    }
    let (paired, orphans) = pair(&head_findings, base_findings);
    out.orphans = orphans;
    for (mut finding, base) in head_findings.into_iter().zip(paired) {
        if finding.suppressed.is_some() {
            let at = suppression(&lines, finding.line, &finding.rule).map(|(_, l)| l);
            finding.suppressed_by_pr = at.is_some_and(added);
            if finding.suppressed_by_pr {
                if let Some(p) = out
                    .pr_suppressions
                    .iter_mut()
                    .find(|p| Some(p.line) == at && p.rule == finding.rule)
                {
                    if cfg.pr_suppressions != PrSuppressions::Deny {
                        p.suppresses += 1;
                    }
                }
            }
            let ignored = finding.suppressed_by_pr && cfg.pr_suppressions == PrSuppressions::Deny;
            if !ignored {
                out.suppressed.push(finding);
                continue;
            }
        }
        match base {
            None => out.new.push(finding),
            Some(b) => {
                let touched = in_ranges(&f.added_lines, finding.line, finding.end_line)
                    || (b.line > 0 && in_ranges(&f.removed_lines, b.line, b.end_line));
                if touched {
                    out.changed.push(finding);
                } else {
                    out.pre.push(finding);
                }
            }
        }
    }
    out
}

/// Score the change.
pub fn score(input: SecurityInput, cfg: &SecuritySettings) -> Dimension<SecurityEvidence> {
    let weight = input.weight;
    let tests = input.tests;
    let files = input.files;
    // A partial clone whose changed blobs could not be fetched: without both sides of a file
    // the scan cannot tell a new finding from an old one, and a guess either way would be a
    // made-up score. (In action mode a failed fetch already stops the run.)
    let missing: Vec<&str> = files
        .iter()
        .filter(|f| f.missing)
        .map(|f| f.path.as_str())
        .collect();
    if !missing.is_empty() {
        return Dimension::unavailable(
            weight,
            format!(
                "{} changed file{} ({}{}) {} no contents in this partial clone (they could not be fetched), so new findings cannot be told from old ones; run where the remote is reachable, without --offline",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                missing[..missing.len().min(3)].join(", "),
                if missing.len() > 3 { ", …" } else { "" },
                if missing.len() == 1 { "has" } else { "have" },
            ),
        );
    }
    let texts = input.texts;
    // The code texts to scan per grammar (test files only with `security.scan-tests`).
    // Texts an earlier run scanned with the same rules are not scanned (nor compiled for).
    let keys: Vec<[Option<ScanKey>; 2]> = files
        .iter()
        .zip(texts)
        .map(|(f, t)| scan_keys(f, t, &input, cfg))
        .collect();
    let version = input.rules.version;
    let cached: Vec<[Option<Vec<Finding>>; 2]> = keys
        .iter()
        .map(|k| {
            k.clone()
                .map(|k| input.memo.zip(k).and_then(|(m, k)| m.get(version, &k)))
        })
        .collect();
    let mut by_grammar: [Vec<&str>; 3] = Default::default();
    for ((f, t), hit) in files.iter().zip(texts).zip(&cached) {
        let sides = [
            (Some(f.path.as_str()), t.head.as_deref(), hit[0].is_some()),
            (f.base_path(), t.base.as_deref(), hit[1].is_some()),
        ];
        for (path, text, hit) in sides {
            let (Some(path), Some(text), false) = (path, text, hit) else {
                continue;
            };
            if !cfg.scan_tests && tests.is_match(path) {
                continue;
            }
            if let Some(lang) = Language::of_path(path) {
                by_grammar[lang.grammar().index()].push(text);
            }
        }
    }
    // Compile, per grammar, only the rules that can match one of those texts (their literal
    // anchors are present), the grammars in parallel.
    let compiled: Vec<Vec<Chunk>> = rules::GRAMMARS
        .par_iter()
        .map(|g| {
            let texts = &by_grammar[g.index()];
            if texts.is_empty() {
                return Vec::new();
            }
            input.rules.compile(*g, |r| {
                r.anchors
                    .as_ref()
                    .is_none_or(|a| texts.iter().any(|t| a.admit(t)))
            })
        })
        .collect();
    let compiled: [Vec<Chunk>; 3] = compiled.try_into().unwrap_or_default();
    let results: Vec<FileResult> = files
        .par_iter()
        .zip(texts)
        .zip(keys.par_iter().zip(cached))
        .map(|((f, t), (k, c))| scan_file(f, t, &input, cfg, &compiled, (k, c)))
        .collect();
    let mut ev = SecurityEvidence {
        rules: input.rules.count(),
        ..SecurityEvidence::default()
    };
    let mut orphans: Vec<Finding> = Vec::new();
    for r in results {
        ev.files_scanned += usize::from(r.scanned);
        ev.new.extend(r.new);
        ev.changed.extend(r.changed);
        ev.pre_existing.extend(r.pre);
        ev.suppressed.extend(r.suppressed);
        ev.pr_suppressions.extend(r.pr_suppressions);
        ev.notes.extend(r.notes);
        orphans.extend(r.orphans);
    }
    // Items moved to another file keep their identity: a new finding whose (rule, item,
    // anchor) a base finding of another changed file lost is a changed pre-existing one.
    if !orphans.is_empty() {
        let mut keep = Vec::new();
        for f in std::mem::take(&mut ev.new) {
            let moved = if f.identity.item.is_empty() {
                None
            } else {
                orphans.iter().position(|o| {
                    o.path != f.path
                        && o.rule == f.rule
                        && o.identity.item == f.identity.item
                        && o.identity.anchor == f.identity.anchor
                })
            };
            match moved {
                Some(i) => {
                    orphans.swap_remove(i);
                    ev.changed.push(f);
                }
                _ => keep.push(f),
            }
        }
        ev.new = keep;
    }
    conclude(ev, cfg, weight)
}

/// Add the findings of the dependency changes ([`dependencies::findings`]) to the scan's: they
/// are new by construction (the dependency diff keeps only what the head introduces), and are
/// scored with the same weights.
pub fn add_dependency_findings(
    dim: Dimension<SecurityEvidence>,
    findings: Vec<Finding>,
    cfg: &SecuritySettings,
) -> Dimension<SecurityEvidence> {
    if findings.is_empty() || !dim.available {
        return dim;
    }
    let mut ev = dim.evidence;
    ev.new.extend(findings);
    conclude(ev, cfg, dim.weight)
}

/// Order, count and score the findings.
fn conclude(
    mut ev: SecurityEvidence,
    cfg: &SecuritySettings,
    weight: f64,
) -> Dimension<SecurityEvidence> {
    let order = |a: &Finding, b: &Finding| {
        (
            std::cmp::Reverse(a.severity),
            &a.path,
            a.line,
            a.column,
            &a.rule,
        )
            .cmp(&(
                std::cmp::Reverse(b.severity),
                &b.path,
                b.line,
                b.column,
                &b.rule,
            ))
    };
    ev.new.sort_by(order);
    ev.changed.sort_by(order);
    ev.pre_existing.sort_by(order);
    ev.suppressed.sort_by(order);
    ev.pr_suppressions
        .sort_by(|a, b| (&a.path, a.line, &a.rule).cmp(&(&b.path, b.line, &b.rule)));
    ev.counts = Counts::default();
    ev.changed_counts = Counts::default();
    for f in &ev.new {
        ev.counts.add(f.severity);
    }
    for f in &ev.changed {
        ev.changed_counts.add(f.severity);
    }
    ev.weighted = ev.counts.weighted() + cfg.changed_weight * ev.changed_counts.weighted();
    let score = (20.0 * ev.weighted).round().min(100.0) as u8;
    let c = &ev.counts;
    let breakdown = breakdown(c);
    let mut summary = match ev.new.len() {
        0 => "no new findings".to_string(),
        1 => format!("1 new finding ({breakdown})"),
        n => format!("{n} new findings ({breakdown})"),
    };
    let from_deps = ev
        .new
        .iter()
        .filter(|f| f.rule.starts_with(DEPENDENCY_PREFIX))
        .count();
    if from_deps > 0 {
        summary.push_str(&format!(
            ": {} in {} scanned file{}, {from_deps} from the dependency changes",
            ev.new.len() - from_deps,
            ev.files_scanned,
            if ev.files_scanned == 1 { "" } else { "s" }
        ));
    } else {
        summary.push_str(&format!(
            " in {} scanned file{}",
            ev.files_scanned,
            if ev.files_scanned == 1 { "" } else { "s" }
        ));
    }
    if !ev.changed.is_empty() {
        summary.push_str(&format!(
            "; {} pre-existing changed ({})",
            ev.changed.len(),
            if cfg.changed_weight > 0.0 {
                format!("scored ×{}", fmt_num(cfg.changed_weight))
            } else {
                "not scored".to_string()
            }
        ));
    }
    if !ev.pre_existing.is_empty() {
        summary.push_str(&format!(
            "; {} pre-existing (not scored)",
            ev.pre_existing.len()
        ));
    }
    if !ev.suppressed.is_empty() {
        summary.push_str(&format!("; {} suppressed", ev.suppressed.len()));
        let by_pr = ev.suppressed.iter().filter(|f| f.suppressed_by_pr).count();
        if by_pr > 0 {
            summary.push_str(&format!(" ({by_pr} by this pull request)"));
        }
    }
    let mut formula = format!(
        "min(100, 20·W), W = 4·{} + 2·{} + 1·{} + 0.25·{}",
        c.critical, c.high, c.medium, c.low
    );
    if cfg.changed_weight > 0.0 && !ev.changed.is_empty() {
        formula.push_str(&format!(
            " + {}·{}",
            fmt_num(cfg.changed_weight),
            fmt_num(ev.changed_counts.weighted())
        ));
    }
    formula.push_str(&format!(" = {} → {}", fmt_num(ev.weighted), score));
    Dimension {
        available: true,
        score: Some(score),
        weight,
        reason: None,
        summary,
        formula,
        evidence: ev,
    }
}

/// `1 high, 1 medium`.
fn breakdown(c: &Counts) -> String {
    [
        ("critical", c.critical),
        ("high", c.high),
        ("medium", c.medium),
        ("low", c.low),
    ]
    .iter()
    .filter(|(_, v)| *v > 0)
    .map(|(k, v)| format!("{v} {k}"))
    .collect::<Vec<_>>()
    .join(", ")
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Descriptions of the new critical findings (for the gate).
pub fn critical_reasons(ev: &SecurityEvidence) -> Vec<String> {
    ev.new
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(|f| format!("{} at {}:{}", f.rule, f.path, f.line))
        .collect()
}

/// Critical findings the pull request suppressed itself, which still block unless the base
/// settings say `security.pr-suppressions: allow`.
pub fn pr_suppressed_critical(ev: &SecurityEvidence, cfg: &SecuritySettings) -> Vec<String> {
    if cfg.pr_suppressions == PrSuppressions::Allow {
        return Vec::new();
    }
    ev.suppressed
        .iter()
        .filter(|f| f.severity == Severity::Critical && f.suppressed_by_pr)
        .map(|f| format!("{} at {}:{}", f.rule, f.path, f.line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> RuleSet {
        RuleSet::load(&SecuritySettings::default(), &[]).unwrap()
    }

    #[test]
    fn every_embedded_rule_passes_its_examples() {
        let set = set();
        assert!(set.rules.len() >= 30, "only {} rules", set.rules.len());
        let mut failures = Vec::new();
        for r in &set.rules {
            if let Err(e) = r.validate() {
                failures.push(e.to_string());
                continue;
            }
            if r.examples.matching.len() < 2 || r.examples.no_match.len() < 2 {
                failures.push(format!(
                    "{}: needs at least 2 match and 2 no-match examples (has {} and {})",
                    r.id,
                    r.examples.matching.len(),
                    r.examples.no_match.len()
                ));
            }
            for f in engine::check_examples(r) {
                failures.push(format!("{}: {f}", r.id));
            }
        }
        assert!(
            set.sets.0.len() >= 10,
            "only {} taint sets",
            set.sets.0.len()
        );
        for t in &set.sets.0 {
            for f in engine::check_set_examples(t) {
                failures.push(format!("{} set {}: {f}", t.kind.name(), t.id));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    }

    #[test]
    fn suppression_needs_a_reason() {
        let lines = vec!["// pr-risk-ignore[ts/eval]: input is a constant", "eval(x)"];
        assert_eq!(
            suppression(&lines, 2, "ts/eval"),
            Some(("input is a constant".to_string(), 1))
        );
        assert_eq!(suppression(&lines, 2, "ts/other"), None);
        let lines = vec!["eval(x) // pr-risk-ignore[ts/eval]"];
        assert_eq!(suppression(&lines, 1, "ts/eval"), None);
        let notes = reasonless("a.ts", lines[0], &|_| true);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn weights_follow_the_formula() {
        let c = Counts {
            critical: 0,
            high: 1,
            medium: 1,
            low: 0,
        };
        assert_eq!((20.0 * c.weighted()).min(100.0), 60.0);
        let c = Counts {
            critical: 0,
            high: 0,
            medium: 0,
            low: 1,
        };
        assert_eq!(20.0 * c.weighted(), 5.0);
    }

    #[test]
    fn secrets_in_snippets_are_masked() {
        let f = scan_text(
            &set(),
            "config.ts",
            "config.ts",
            concat!("const k = 'AKIA", "Z3MHDLQ7TR4QWXYV';\n"),
            true,
        );
        assert_eq!(f.len(), 1);
        assert!(!f[0].snippet.contains("Z3MHDLQ7"), "{}", f[0].snippet);
    }

    #[test]
    fn rule_paths_limit_where_a_rule_reports() {
        let s = set();
        let seed = "export const invite = { token: Math.random().toString(36).slice(2) };\n";
        let rule = |path: &str| -> Vec<String> {
            scan_text(&s, path, path, seed, true)
                .into_iter()
                .map(|f| f.rule)
                .collect()
        };
        assert_eq!(rule("src/invites.ts"), ["ts/insecure-random"]);
        assert!(rule("packages/prisma/seed/users.ts").is_empty());
        assert!(rule("db/seed.ts").is_empty());
        let exec = "import { execSync } from 'child_process';\nexport function tag(v: string) { execSync(`git tag ${v}`); }\n";
        let run = |path: &str| scan_text(&s, path, path, exec, true).len();
        assert_eq!(run("src/git.ts"), 1);
        assert_eq!(run("scripts/release.ts"), 0);
        assert_eq!(run("packages/cli/scripts/build.ts"), 0);
    }

    #[test]
    fn overrides_and_unknown_ids() {
        let mut cfg = SecuritySettings::default();
        cfg.disable.push("ts/eval".into());
        cfg.severity.insert("rust/unsafe".into(), Severity::Low);
        let s = RuleSet::load(&cfg, &[]).unwrap();
        assert!(!s.rules.iter().any(|r| r.id == "ts/eval"));
        assert_eq!(
            s.rules
                .iter()
                .find(|r| r.id == "rust/unsafe")
                .unwrap()
                .severity,
            Severity::Low
        );
        cfg.disable.push("ts/evl".into());
        let e = RuleSet::load(&cfg, &[]).err().unwrap().to_string();
        assert!(e.contains("did you mean `ts/eval`"), "{e}");
    }
}

#[cfg(test)]
mod flow_tests {
    //! Data flow through each propagation form, stopped by each sanitizer kind, with the
    //! embedded packs' sets and a test rule whose sink is `sink(x)`.

    use super::rules::{self, Language, Vars};
    use super::{engine, RuleFile};

    const RULE: &str = r#"
rules:
  - id: test/flow
    languages: [typescript, tsx, javascript]
    severity: high
    message: m
    cwe: CWE-20
    fix: f
    taint:
      sources: [http-request, trpc-input]
      sanitizers: [numeric, escaping, schema-validation, path-basename]
      propagators: [js-strings, url-building, path-building]
      sinks:
        - "(call_expression function: (identifier) @f (#eq? @f \"sink\") arguments: (arguments . (_) @sink)) @match"
  - id: test/rust-flow
    languages: [rust]
    severity: high
    message: m
    cwe: CWE-20
    fix: f
    taint:
      sources: [rust-http-extractors, env-args]
      propagators: [rust-strings]
      sinks:
        - "(call_expression function: (identifier) @f (#eq? @f \"sink\") arguments: (arguments . (_) @sink)) @match"
"#;

    fn findings(lang: Language, code: &str) -> usize {
        let (rules, _) = rules::from_files_with_sets(
            &[RuleFile {
                source: "test.yml".into(),
                text: RULE.into(),
            }],
            &Vars::default(),
        )
        .unwrap();
        let rule = rules
            .iter()
            .find(|r| r.applies_to(lang))
            .expect("a rule for the language");
        let combined = engine::Combined::build(&[rule], lang.grammar()).unwrap();
        let tree = engine::parse(lang, code).unwrap();
        engine::run(&[rule], &combined, lang, &tree, code).len()
    }

    fn ts(body: &str) -> usize {
        findings(
            Language::Typescript,
            &format!("app.post('/x', async (req, res) => {{\n{body}\n}});"),
        )
    }

    #[test]
    fn taint_flows_through_every_form() {
        let cases = [
            ("direct", "sink(req.body.q);"),
            ("const", "const q = req.body.q; sink(q);"),
            (
                "let and reassignment",
                "let q = 'x'; q = req.query.q; sink(q);",
            ),
            (
                "augmented assignment",
                "let q = 'a'; q += req.query.q; sink(q);",
            ),
            ("object destructuring", "const { q } = req.body; sink(q);"),
            (
                "renamed destructuring",
                "const { q: term } = req.body; sink(term);",
            ),
            (
                "array destructuring",
                "const [first] = req.body.list; sink(first);",
            ),
            (
                "concatenation",
                "const s = \"SELECT '\" + req.body.login + \"'\"; sink(s);",
            ),
            (
                "template literal",
                "const s = `id = ${req.params.id}`; sink(s);",
            ),
            (
                "object literal",
                "const o = { where: { id: req.params.id } }; sink(o);",
            ),
            ("array literal", "const a = ['x', req.query.q]; sink(a);"),
            ("spread", "const o = { ...req.body }; sink(o);"),
            ("as", "sink(req.body.q as string);"),
            ("satisfies", "sink(req.body satisfies object);"),
            ("non-null", "sink(req.body.q!);"),
            ("angle cast", "sink(<string>req.body.q);"),
            ("parentheses", "sink((req.body.q));"),
            ("await", "const b = await req.json(); sink(b.q);"),
            (
                "ternary",
                "const q = req.query.q ? req.query.q : ''; sink(q);",
            ),
            ("nullish", "const q = req.query.q ?? 'all'; sink(q);"),
            ("String()", "sink(String(req.query.q));"),
            (".trim()", "sink(req.query.q.trim());"),
            (".toString()", "sink(req.query.q.toString());"),
            ("join", "sink([req.query.a, 'b'].join(' '));"),
            ("path.join", "sink(path.join(root, req.params.name));"),
            ("new URL", "sink(new URL(req.query.target));"),
            (
                "closure",
                "const q = req.query.q; const run = () => sink(q); run();",
            ),
            (
                "searchParams",
                "const next = new URL(req.url).searchParams.get('next'); sink(next);",
            ),
            (
                "chain of variables",
                "const a = req.body; const b = a.login; const c = `${b}!`; sink(c);",
            ),
        ];
        for (name, body) in cases {
            assert_eq!(ts(body), 1, "{name}: {body}");
        }
        // tRPC input.
        let trpc = "export const r = router({ f: publicProcedure.input(z.string()).mutation(({ input }) => sink(`q ${input}`)) });";
        assert_eq!(findings(Language::Typescript, trpc), 1);
    }

    #[test]
    fn sanitizers_and_constants_stop_it() {
        let cases = [
            ("constant", "const q = 'SELECT 1'; sink(q);"),
            ("constant template", "const q = `SELECT ${'1'}`; sink(q);"),
            (
                "reassigned to a constant",
                "let q = req.query.q; q = 'all'; sink(q);",
            ),
            ("parseInt", "sink(parseInt(req.params.id, 10));"),
            (
                "Number",
                "const id = Number(req.params.id); sink(`id = ${id}`);",
            ),
            ("escape", "sink('<p>' + escapeHtml(req.query.q));"),
            (
                "encodeURIComponent",
                "sink('/x?q=' + encodeURIComponent(req.query.q));",
            ),
            (
                "zod parse",
                "const body = Body.parse(req.body); sink(body.q);",
            ),
            (
                "basename",
                "sink(path.join(root, path.basename(req.params.name)));",
            ),
            (
                "unknown call",
                "const user = await User.findById(req.params.id); sink(user.name);",
            ),
            ("comparison", "sink(req.query.q === 'yes');"),
            ("typeof", "sink(typeof req.query.q);"),
            ("length", "sink(req.query.q.length > 3 ? 'long' : 'short');"),
            (
                "other variable",
                "const q = req.query.q; const other = 'x'; sink(other);",
            ),
        ];
        for (name, body) in cases {
            assert_eq!(ts(body), 0, "{name}: {body}");
        }
        // A conditional reassignment adds to the value, it does not replace it.
        assert_eq!(
            ts("let q = req.query.q; if (!q) { q = 'all'; } sink(q);"),
            1
        );
        // A declaration in another block is not visible.
        assert_eq!(
            ts("if (a) { const q = req.query.q; } { const q = 'x'; sink(q); }"),
            0
        );
    }

    #[test]
    fn rust_flows() {
        let rs = |body: &str| {
            findings(
                Language::Rust,
                &format!("async fn h(Json(p): Json<Body>, State(db): State<Db>) {{\n{body}\n}}"),
            )
        };
        assert_eq!(rs("sink(&p.name);"), 1);
        assert_eq!(rs("let q = format!(\"SELECT {}\", p.name); sink(&q);"), 1);
        assert_eq!(
            rs("let q = format!(\"SELECT {name}\", name = p.name); sink(q.as_str());"),
            1
        );
        assert_eq!(
            rs("let name = p.name.trim().to_string(); let q = format!(\"x {name}\"); sink(&q);"),
            1
        );
        assert_eq!(rs("let Body { name, .. } = p; sink(name);"), 1);
        assert_eq!(rs("let q = format!(\"SELECT 1\"); sink(&q);"), 0);
        assert_eq!(rs("let q = db.name(); sink(&q);"), 0);
        assert_eq!(rs("let n = p.name.len(); sink(n);"), 0);
        assert_eq!(
            findings(
                Language::Rust,
                "fn main() { let file = std::env::args().nth(1).unwrap(); sink(&file); }"
            ),
            1
        );
    }
}
