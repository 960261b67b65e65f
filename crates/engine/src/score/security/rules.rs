//! Rules as data: the YAML schema, compilation to tree-sitter queries, and validation.
//!
//! A rule file holds `rules:`, a list of entries in one schema shared by the embedded packs and by
//! a repository's own rule files (`security.rule-dirs`), so both take the same loading and
//! matching path. Every rule is compiled for each grammar its languages need when it is loaded: a
//! query that does not compile is an error naming the file, the rule and the position in the
//! query (and in the file). Unknown keys, unknown predicates, a missing `@match` capture and
//! conditions that name captures the query does not have are errors too.
//!
//! Queries may use variables written `{{name}}`, filled from the configuration before compiling:
//! `{{public-procedures}}`, `{{authenticated-procedures}}` (regex alternations of the configured
//! tRPC procedure names) and `{{auth-middleware}}` (the configured regex).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tree_sitter::Query;

/// How serious a finding is; the weight it has in the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The weight in `W = 4·critical + 2·high + 1·medium + 0.25·low`.
    pub fn weight(self) -> f64 {
        match self {
            Severity::Critical => 4.0,
            Severity::High => 2.0,
            Severity::Medium => 1.0,
            Severity::Low => 0.25,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        })
    }
}

/// A language a rule applies to. Each maps to one grammar and one set of file extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// `.ts .mts .cts` (TypeScript grammar).
    Typescript,
    /// `.tsx .jsx` (TSX grammar).
    Tsx,
    /// `.js .mjs .cjs` (parsed with the TSX grammar, which reads plain JavaScript and JSX).
    Javascript,
    /// `.rs`
    Rust,
}

/// The grammars behind the languages (JavaScript and TSX share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grammar {
    TypeScript,
    Tsx,
    Rust,
}

pub const GRAMMARS: [Grammar; 3] = [Grammar::TypeScript, Grammar::Tsx, Grammar::Rust];

impl Grammar {
    pub fn language(self) -> tree_sitter::Language {
        match self {
            Grammar::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Grammar::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Grammar::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl Language {
    pub fn of_path(path: &str) -> Option<Language> {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name.rsplit_once('.')?.1 {
            "ts" | "mts" | "cts" => Some(Language::Typescript),
            "tsx" | "jsx" => Some(Language::Tsx),
            "js" | "mjs" | "cjs" => Some(Language::Javascript),
            "rs" => Some(Language::Rust),
            _ => None,
        }
    }

    pub fn grammar(self) -> Grammar {
        match self {
            Language::Typescript => Grammar::TypeScript,
            Language::Tsx | Language::Javascript => Grammar::Tsx,
            Language::Rust => Grammar::Rust,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::Typescript => "typescript",
            Language::Tsx => "tsx",
            Language::Javascript => "javascript",
            Language::Rust => "rust",
        }
    }
}

/// A rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Named source sets (`taint.sources` of a rule names them).
    #[serde(default)]
    pub sources: Vec<TaintSetSpec>,
    #[serde(default)]
    pub sanitizers: Vec<TaintSetSpec>,
    #[serde(default)]
    pub propagators: Vec<TaintSetSpec>,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// A named, reusable set of taint patterns (sources, sanitizers or propagators) with examples.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TaintSetSpec {
    pub id: String,
    pub languages: Vec<Language>,
    /// Tree-sitter queries. Sources capture `@source`, sanitizers `@sanitizer`, propagators
    /// `@to` (the result) and `@from` (the inputs it carries).
    pub patterns: Vec<String>,
    #[serde(default)]
    pub examples: Examples,
}

/// `callee-from`: where the called function must come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CalleeFrom {
    /// The capture holding the callee (an identifier or `ns.name`).
    pub capture: String,
    /// A regex on the module specifier (`^(node:)?child_process$`).
    pub module: String,
    /// A regex on the exported name (`^(exec|execSync)$`).
    pub names: String,
}

/// [`CalleeFrom`], compiled.
#[derive(Debug, Clone)]
pub struct CalleeCheck {
    pub capture: String,
    pub module: regex::Regex,
    pub names: regex::Regex,
}

/// A rule's data flow: which sets (by id, or inline queries) it uses, and its sinks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TaintSpec {
    /// Set ids or inline queries; `non-constant` makes every value that is not built from
    /// literals a source, `parameters` the enclosing functions' parameters.
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub sanitizers: Vec<String>,
    #[serde(default)]
    pub propagators: Vec<String>,
    /// Queries capturing `@match` (reported) and `@sink` (the expression that must not be
    /// tainted).
    #[serde(default)]
    pub sinks: Vec<String>,
}

/// One rule as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSpec {
    /// Unique id, `pack/name` by convention (`ts/eval`, `rust/transmute`).
    pub id: String,
    /// Languages the rule runs on.
    pub languages: Vec<Language>,
    pub severity: Severity,
    /// One sentence a reviewer reads next to the code.
    pub message: String,
    /// `CWE-nnn`.
    pub cwe: String,
    #[serde(default)]
    pub owasp: Option<String>,
    /// How to fix it.
    pub fix: String,
    /// A tree-sitter query; the `@match` capture is the node reported. Patterns that capture
    /// `@sink` report only when the sink is tainted (see `taint`).
    #[serde(default)]
    pub query: Option<String>,
    /// The capture whose normalised text is the finding's anchor (its identity); default: the
    /// call or keyword of `@match`.
    #[serde(default)]
    pub anchor: Option<String>,
    /// Data flow: sources, sanitizers, propagators and sinks.
    #[serde(default)]
    pub taint: Option<TaintSpec>,
    /// The callee must come from a module: a named import or destructured `require` of it, or
    /// a member of its namespace (`import * as cp`, `const cp = require(…)`).
    #[serde(default)]
    pub callee_from: Option<CalleeFrom>,
    /// Structural conditions the query language lacks; all must hold.
    #[serde(default)]
    pub conditions: Vec<ConditionSpec>,
    /// Mask string literals in the reported snippet (rules about literal secrets).
    #[serde(default)]
    pub mask: bool,
    /// Where the rule applies (repository paths); default everywhere.
    #[serde(default)]
    pub paths: PathsSpec,
    #[serde(default)]
    pub examples: Examples,
}

/// `paths:` of a rule: globs (the `.pr-risk.yml` syntax) on the repository path. A file is
/// scanned by the rule when it matches `include` (or `include` is empty) and no `exclude`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsSpec {
    #[serde(default)]
    pub include: Vec<crate::glob::Pattern>,
    #[serde(default)]
    pub exclude: Vec<crate::glob::Pattern>,
}

/// A condition: exactly one of `inside`, `not-inside`, `has`, `not-has` (a query), on the node of
/// capture `of` (default `match`), optionally requiring captured texts to agree (`same`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConditionSpec {
    pub inside: Option<String>,
    pub not_inside: Option<String>,
    pub has: Option<String>,
    pub not_has: Option<String>,
    #[serde(default)]
    pub of: Option<String>,
    /// `rule-capture: condition-capture`: the condition's capture must have the same text as the
    /// rule's capture, or as an identifier inside it.
    #[serde(default)]
    pub same: BTreeMap<String, String>,
}

impl ConditionSpec {
    /// The one pattern a condition holds (`inside`, `not-inside`, `has` or `not-has`), or `None`
    /// when it holds none or several.
    fn only_pattern(&self) -> Option<(ConditionKind, &String)> {
        let set: Vec<(ConditionKind, &String)> = [
            (ConditionKind::Inside, &self.inside),
            (ConditionKind::NotInside, &self.not_inside),
            (ConditionKind::Has, &self.has),
            (ConditionKind::NotHas, &self.not_has),
        ]
        .into_iter()
        .filter_map(|(k, q)| q.as_ref().map(|q| (k, q)))
        .collect();
        match set[..] {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The error for the `i`-th (0-based) condition when [`Self::only_pattern`] is `None`.
    fn one_pattern_message(i: usize) -> String {
        format!(
            "condition {} must have exactly one of inside, not-inside, has, not-has",
            i + 1
        )
    }
}

/// Inline test cases: code that must produce a finding, code that must not.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Examples {
    #[serde(default, rename = "match")]
    pub matching: Vec<String>,
    #[serde(default)]
    pub no_match: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    Inside,
    NotInside,
    Has,
    NotHas,
}

impl ConditionKind {
    pub fn name(self) -> &'static str {
        match self {
            ConditionKind::Inside => "inside",
            ConditionKind::NotInside => "not-inside",
            ConditionKind::Has => "has",
            ConditionKind::NotHas => "not-has",
        }
    }
}

/// What a taint set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetKind {
    Source,
    Sanitizer,
    Propagator,
}

impl SetKind {
    pub fn name(self) -> &'static str {
        match self {
            SetKind::Source => "source",
            SetKind::Sanitizer => "sanitizer",
            SetKind::Propagator => "propagator",
        }
    }

    /// The captures each pattern of this kind must have.
    pub fn captures(self) -> &'static [&'static str] {
        match self {
            SetKind::Source => &["source"],
            SetKind::Sanitizer => &["sanitizer"],
            SetKind::Propagator => &["to", "from"],
        }
    }
}

/// A named taint set after loading.
#[derive(Debug, Clone)]
pub struct TaintSet {
    pub id: String,
    pub kind: SetKind,
    pub languages: Vec<Language>,
    /// Query texts (variables substituted).
    pub patterns: Vec<String>,
    pub examples: Examples,
    /// Where it came from (`embedded:typescript.yml` or a file path).
    pub source: String,
}

/// Every named set known so far (the embedded packs' first, then the rule dirs').
#[derive(Debug, Clone, Default)]
pub struct Sets(pub Vec<TaintSet>);

impl Sets {
    fn find(&self, kind: SetKind, id: &str) -> Option<&TaintSet> {
        self.0.iter().find(|s| s.kind == kind && s.id == id)
    }
}

/// One taint pattern of a rule: the languages it applies to and its query.
#[derive(Debug, Clone)]
pub struct TaintPattern {
    pub languages: Vec<Language>,
    pub text: String,
    /// The set it came from (`inline` for a query written in the rule).
    pub set: String,
}

/// A rule's taint patterns, resolved from their sets.
#[derive(Debug, Clone, Default)]
pub struct RuleTaint {
    pub sources: Vec<TaintPattern>,
    pub sanitizers: Vec<TaintPattern>,
    pub propagators: Vec<TaintPattern>,
    /// `sources: [non-constant]`: every value not built from literals is tainted.
    pub non_constant: bool,
    /// `sources: [parameters]`: the enclosing functions' parameters are tainted.
    pub parameters: bool,
}

impl RuleTaint {
    /// Every pattern with its kind, for grammar `g`.
    pub fn patterns(&self, g: Grammar) -> impl Iterator<Item = (SetKind, &TaintPattern)> {
        self.sources
            .iter()
            .map(|p| (SetKind::Source, p))
            .chain(self.sanitizers.iter().map(|p| (SetKind::Sanitizer, p)))
            .chain(self.propagators.iter().map(|p| (SetKind::Propagator, p)))
            .filter(move |(_, p)| p.languages.iter().any(|l| l.grammar() == g))
    }
}

/// A condition as the matcher needs it: kind, the rule capture it is checked on, its query text
/// (variables substituted) and the `same` pairs.
#[derive(Debug, Clone)]
pub struct CondMeta {
    pub kind: ConditionKind,
    pub of: String,
    pub text: String,
    pub same: Vec<(String, String)>,
}

/// A compiled condition.
#[derive(Debug)]
pub struct Condition {
    pub kind: ConditionKind,
    /// The rule capture whose node the condition is checked on.
    pub of: String,
    pub query: Query,
    pub same: Vec<(String, String)>,
}

/// A rule's queries compiled for one grammar.
#[derive(Debug)]
pub struct Compiled {
    pub query: Query,
    pub conditions: Vec<Condition>,
}

/// A rule: metadata plus its queries, compiled per grammar on first use.
///
/// Compiling a query against the TypeScript grammar costs tens of milliseconds (tree-sitter
/// analyses the pattern against the whole parse table), so a run compiles only the grammars of
/// the files it scans. Rules from a repository's rule dirs are compiled for all their grammars at
/// load, so a bad query is reported even before a file of that language changes; the embedded
/// packs are checked the same way by the test suite.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub languages: Vec<Language>,
    pub severity: Severity,
    /// The severity the rule file gave, before any `.pr-risk.yml` override.
    pub default_severity: Severity,
    pub message: String,
    pub cwe: String,
    pub owasp: Option<String>,
    pub fix: String,
    pub mask: bool,
    pub examples: Examples,
    /// Where the rule came from: `embedded:typescript.yml` or a file path.
    pub source: String,
    /// The anchor capture (see [`RuleSpec::anchor`]).
    pub anchor: Option<String>,
    /// The taint patterns, resolved from their sets (`None`: a pattern rule).
    pub taint: Option<RuleTaint>,
    /// `callee-from`, compiled.
    pub callee_from: Option<CalleeCheck>,
    /// The conditions, in order.
    pub conds: Vec<CondMeta>,
    /// `paths.include` / `paths.exclude`, compiled.
    include: crate::glob::GlobList,
    exclude: crate::glob::GlobList,
    spec: RuleSpec,
    /// The query with variables substituted, and its first line in the rule file.
    pub query_text: String,
    /// Strings a file must contain for the query to match (see [`super::anchors`]); `None`: any
    /// file may match.
    pub anchors: Option<super::anchors::Anchors>,
    query_line: Option<usize>,
    id_line: Option<usize>,
    compiled: [OnceLock<Result<Compiled, RuleError>>; 3],
}

impl Rule {
    /// The rule's queries for grammar `g` (compiled now if needed). `None` when the rule has no
    /// language of that grammar, or its query does not compile (see [`Rule::validate`]).
    pub fn compiled(&self, g: Grammar) -> Option<&Compiled> {
        if !self.languages.iter().any(|l| l.grammar() == g) {
            return None;
        }
        self.compiled[g.index()]
            .get_or_init(|| self.compile_for(g))
            .as_ref()
            .ok()
    }

    /// Compile for every grammar the rule names; the first error, if any.
    pub fn validate(&self) -> Result<(), RuleError> {
        for g in GRAMMARS {
            if self.languages.iter().any(|l| l.grammar() == g) {
                let r = self.compiled[g.index()].get_or_init(|| self.compile_for(g));
                if let Err(e) = r {
                    return Err(e.clone());
                }
            }
        }
        Ok(())
    }

    pub fn applies_to(&self, lang: Language) -> bool {
        self.languages.contains(&lang)
    }

    /// Whether the rule's `paths` let it report in the file at repository path `path`.
    pub fn applies_to_path(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.is_match(path)) && !self.exclude.is_match(path)
    }

    fn err(&self, line: Option<usize>, message: String) -> RuleError {
        RuleError {
            source: self.source.clone(),
            line: line.or(self.id_line),
            rule: Some(self.id.clone()),
            message,
        }
    }

    fn compile_query(
        &self,
        g: Grammar,
        text: &str,
        what: &str,
        base_line: Option<usize>,
    ) -> Result<Query, RuleError> {
        let query = Query::new(&g.language(), text).map_err(|e| {
            self.err(
                base_line.map(|b| b + e.row),
                format!(
                    "{what} does not compile for {:?} at query line {}, column {}: {:?} error: {}",
                    g,
                    e.row + 1,
                    e.column + 1,
                    e.kind,
                    e.message.trim()
                ),
            )
        })?;
        for p in 0..query.pattern_count() {
            if let Some(pred) = query.general_predicates(p).first() {
                return Err(self.err(
                    base_line,
                    format!(
                        "{what}: unsupported predicate `#{}` (supported: #eq?, #not-eq?, #match?, #not-match?, #any-of?, #not-any-of?)",
                        pred.operator
                    ),
                ));
            }
        }
        Ok(query)
    }

    fn compile_for(&self, g: Grammar) -> Result<Compiled, RuleError> {
        let query = self.compile_query(g, &self.query_text, "the query", self.query_line)?;
        let names: Vec<&str> = query.capture_names().to_vec();
        if !names.contains(&"match") {
            return Err(self.err(
                self.query_line,
                "the query has no `@match` capture (the node a finding reports)".into(),
            ));
        }
        if let Some(c) = &self.callee_from {
            if !names.contains(&c.capture.as_str()) {
                return Err(self.err(
                    self.query_line,
                    format!("callee-from: `{}` is not a capture of the query", c.capture),
                ));
            }
        }
        if let Some(t) = &self.taint {
            if !names.contains(&"sink") {
                return Err(self.err(
                    self.query_line,
                    "a rule with `taint` needs sink patterns that capture `@sink` (the expression that must not be tainted)".into(),
                ));
            }
            for (kind, p) in t.patterns(g) {
                let what = format!("{} `{}`", kind.name(), p.set);
                let q = self.compile_query(g, &p.text, &what, None)?;
                for c in kind.captures() {
                    if !q.capture_names().contains(c) {
                        return Err(self.err(
                            None,
                            format!("{what}: a {} pattern must capture `@{c}`", kind.name()),
                        ));
                    }
                }
            }
        }
        let mut conditions = Vec::new();
        for (i, c) in self.spec.conditions.iter().enumerate() {
            let Some((kind, q)) = c.only_pattern() else {
                return Err(self.err(None, ConditionSpec::one_pattern_message(i)));
            };
            let what = format!("condition {} ({})", i + 1, kind.name());
            let of = c.of.clone().unwrap_or_else(|| "match".to_string());
            if !names.contains(&of.as_str()) {
                return Err(self.err(
                    None,
                    format!("{what}: `of: {of}` is not a capture of the query"),
                ));
            }
            let cq = self.compile_query(g, q, &what, None)?;
            for (a, b) in &c.same {
                if !names.contains(&a.as_str()) {
                    return Err(self.err(
                        None,
                        format!("{what}: `same` names `{a}`, which is not a capture of the query"),
                    ));
                }
                if !cq.capture_names().contains(&b.as_str()) {
                    return Err(self.err(
                        None,
                        format!(
                            "{what}: `same` names `{b}`, which is not a capture of the condition"
                        ),
                    ));
                }
            }
            conditions.push(Condition {
                kind,
                of,
                query: cq,
                same: c.same.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
            });
        }
        Ok(Compiled { query, conditions })
    }
}

/// Values for the `{{…}}` variables in queries.
#[derive(Debug, Clone)]
pub struct Vars(pub BTreeMap<&'static str, String>);

impl Vars {
    pub fn new(public: &[String], authed: &[String], auth_middleware: &str) -> Vars {
        let alt = |names: &[String]| {
            if names.is_empty() {
                // Matches nothing: an empty alternation would match everything.
                "[^\\s\\S]".to_string()
            } else {
                names
                    .iter()
                    .map(|n| regex::escape(n))
                    .collect::<Vec<_>>()
                    .join("|")
            }
        };
        let mut m = BTreeMap::new();
        m.insert("public-procedures", alt(public));
        m.insert("authenticated-procedures", alt(authed));
        m.insert("auth-middleware", auth_middleware.to_string());
        Vars(m)
    }

    /// Substitute `{{name}}`; a query string literal needs `\` and `"` escaped.
    fn apply(&self, query: &str) -> Result<String, String> {
        let mut out = String::with_capacity(query.len());
        let mut rest = query;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else {
                return Err("unclosed `{{` in the query".to_string());
            };
            let name = after[..j].trim();
            let Some(v) = self.0.get(name) else {
                let known: Vec<&str> = self.0.keys().copied().collect();
                return Err(format!(
                    "unknown variable `{{{{{name}}}}}` in the query; known: {}",
                    known.join(", ")
                ));
            };
            out.push_str(&v.replace('\\', "\\\\").replace('"', "\\\""));
            rest = &after[j + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

impl Default for Vars {
    fn default() -> Self {
        Vars::new(
            &crate::score::security::SecuritySettings::default()
                .trpc
                .public_procedures,
            &crate::score::security::SecuritySettings::default()
                .trpc
                .authenticated_procedures,
            &crate::score::security::SecuritySettings::default()
                .trpc
                .auth_middleware,
        )
    }
}

/// An error in a rule file: where, which rule, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub source: String,
    pub line: Option<usize>,
    pub rule: Option<String>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(r) = &self.rule {
            write!(f, ": rule `{r}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Parse and compile every rule of one file's text (its taint sets are added to `sets` first, so
/// its rules can name them and the sets of the files before it).
pub fn compile_file(
    text: &str,
    source: &str,
    vars: &Vars,
    sets: &mut Sets,
) -> Result<Vec<Rule>, RuleError> {
    let file: RuleFile = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        // Never repeat the file's content in the error.
        let raw = crate::error::redact_yaml(&e.to_string());
        let message = match raw.rfind(" at line ") {
            Some(i) => raw[..i].to_string(),
            None => raw,
        };
        RuleError {
            source: source.to_string(),
            line,
            rule: None,
            message,
        }
    })?;
    for (kind, list) in [
        (SetKind::Source, &file.sources),
        (SetKind::Sanitizer, &file.sanitizers),
        (SetKind::Propagator, &file.propagators),
    ] {
        for spec in list {
            let (line, _) = locate(text, &spec.id, "patterns");
            let err = |message: String| RuleError {
                source: source.to_string(),
                line,
                rule: None,
                message: format!("{} set `{}`: {message}", kind.name(), spec.id),
            };
            if sets.find(kind, &spec.id).is_some() {
                return Err(err("is defined twice".into()));
            }
            if spec.patterns.is_empty() || spec.languages.is_empty() {
                return Err(err("needs `languages` and at least one pattern".into()));
            }
            let patterns = spec
                .patterns
                .iter()
                .map(|p| vars.apply(p).map_err(&err))
                .collect::<Result<Vec<_>, _>>()?;
            sets.0.push(TaintSet {
                id: spec.id.clone(),
                kind,
                languages: spec.languages.clone(),
                patterns,
                examples: spec.examples.clone(),
                source: source.to_string(),
            });
        }
    }
    file.rules
        .into_iter()
        .map(|spec| compile(spec, text, source, vars, sets))
        .collect()
}

/// Resolve a rule's `taint:` block against the known sets.
fn resolve_taint(
    spec: &TaintSpec,
    languages: &[Language],
    sets: &Sets,
    vars: &Vars,
) -> Result<RuleTaint, String> {
    let mut out = RuleTaint::default();
    for (kind, names) in [
        (SetKind::Source, &spec.sources),
        (SetKind::Sanitizer, &spec.sanitizers),
        (SetKind::Propagator, &spec.propagators),
    ] {
        for name in names {
            let t = name.trim();
            let mut pats = Vec::new();
            if t.starts_with('(') || t.starts_with('[') {
                pats.push(TaintPattern {
                    languages: languages.to_vec(),
                    text: vars.apply(t)?,
                    set: "inline".into(),
                });
            } else if kind == SetKind::Source && t == "non-constant" {
                out.non_constant = true;
            } else if kind == SetKind::Source && t == "parameters" {
                out.parameters = true;
            } else {
                let Some(set) = sets.find(kind, t) else {
                    let known: Vec<&str> = sets
                        .0
                        .iter()
                        .filter(|s| s.kind == kind)
                        .map(|s| s.id.as_str())
                        .collect();
                    let hint = crate::error::nearest(t, &known)
                        .map(|b| format!(" (did you mean `{b}`?)"))
                        .unwrap_or_default();
                    return Err(format!("unknown {} set `{t}`{hint}", kind.name()));
                };
                for p in &set.patterns {
                    pats.push(TaintPattern {
                        languages: set.languages.clone(),
                        text: p.clone(),
                        set: set.id.clone(),
                    });
                }
            }
            match kind {
                SetKind::Source => out.sources.extend(pats),
                SetKind::Sanitizer => out.sanitizers.extend(pats),
                SetKind::Propagator => out.propagators.extend(pats),
            }
        }
    }
    Ok(out)
}

/// The 1-based file line of the rule's `id:` and of the first line of a key's block after it.
fn locate(text: &str, id: &str, key: &str) -> (Option<usize>, Option<usize>) {
    let lines: Vec<&str> = text.lines().collect();
    let id_line = lines.iter().position(|l| {
        let t = l.trim_start().trim_start_matches("- ").trim_start();
        t.strip_prefix("id:")
            .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
            .unwrap_or(false)
    });
    let Some(i) = id_line else {
        return (None, None);
    };
    let key_line = lines.iter().enumerate().skip(i + 1).find_map(|(n, l)| {
        let t = l.trim_start().trim_start_matches("- ").trim_start();
        if t.starts_with("id:") {
            return Some(None);
        }
        t.strip_prefix(key).filter(|r| r.starts_with(':')).map(|r| {
            // A block scalar (`|`, `>`) starts on the next line.
            let v = r[1..].trim();
            Some(if v.starts_with('|') || v.starts_with('>') {
                n + 2
            } else {
                n + 1
            })
        })
    });
    (Some(i + 1), key_line.flatten())
}

fn compile(
    mut spec: RuleSpec,
    text: &str,
    source: &str,
    vars: &Vars,
    sets: &Sets,
) -> Result<Rule, RuleError> {
    let (id_line, query_line) = locate(text, &spec.id, "query");
    let err = |line: Option<usize>, message: String| RuleError {
        source: source.to_string(),
        line: line.or(id_line),
        rule: Some(spec.id.clone()),
        message,
    };
    if spec.id.trim().is_empty() || spec.id.chars().any(char::is_whitespace) {
        return Err(err(None, "`id` must be non-empty, without spaces".into()));
    }
    if spec.languages.is_empty() {
        return Err(err(
            None,
            "`languages` must name at least one language".into(),
        ));
    }
    if !spec.cwe.starts_with("CWE-") || spec.cwe[4..].parse::<u32>().is_err() {
        return Err(err(
            None,
            format!("`cwe` must look like `CWE-79`, got `{}`", spec.cwe),
        ));
    }
    let mut query = spec.query.clone().unwrap_or_default();
    if let Some(t) = &spec.taint {
        for sink in &t.sinks {
            query.push('\n');
            query.push_str(sink);
        }
    }
    if query.trim().is_empty() {
        return Err(err(
            None,
            "needs a `query` or `taint.sinks` (tree-sitter queries)".into(),
        ));
    }
    let query_text = vars
        .apply(&query)
        .map_err(|m| err(query_line, format!("the query: {m}")))?;
    let callee_from = match &spec.callee_from {
        Some(c) => {
            let re = |what: &str, r: &str| {
                regex::Regex::new(r)
                    .map_err(|e| err(None, format!("callee-from.{what}: invalid regex: {e}")))
            };
            Some(CalleeCheck {
                capture: c.capture.clone(),
                module: re("module", &c.module)?,
                names: re("names", &c.names)?,
            })
        }
        None => None,
    };
    let taint = match &spec.taint {
        Some(t) => Some(
            resolve_taint(t, &spec.languages, sets, vars)
                .map_err(|m| err(None, format!("taint: {m}")))?,
        ),
        None => None,
    };
    for (i, c) in spec.conditions.iter_mut().enumerate() {
        for q in [&mut c.inside, &mut c.not_inside, &mut c.has, &mut c.not_has]
            .into_iter()
            .flatten()
        {
            *q = vars
                .apply(q)
                .map_err(|m| err(None, format!("condition {}: {m}", i + 1)))?;
        }
    }
    let mut conds = Vec::new();
    for (i, c) in spec.conditions.iter().enumerate() {
        let Some((kind, q)) = c.only_pattern() else {
            return Err(err(None, ConditionSpec::one_pattern_message(i)));
        };
        conds.push(CondMeta {
            kind,
            of: c.of.clone().unwrap_or_else(|| "match".to_string()),
            text: q.clone(),
            same: c.same.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
        });
    }
    Ok(Rule {
        conds,
        include: crate::glob::GlobList::new(&spec.paths.include),
        exclude: crate::glob::GlobList::new(&spec.paths.exclude),
        id: spec.id.clone(),
        languages: spec.languages.clone(),
        severity: spec.severity,
        default_severity: spec.severity,
        message: spec.message.trim().to_string(),
        cwe: spec.cwe.clone(),
        owasp: spec.owasp.clone(),
        fix: spec.fix.trim().to_string(),
        mask: spec.mask,
        examples: spec.examples.clone(),
        source: source.to_string(),
        anchor: spec.anchor.clone(),
        taint,
        callee_from,
        spec,
        anchors: super::anchors::Anchors::of_query(&query_text),
        query_text,
        query_line,
        id_line,
        compiled: Default::default(),
    })
}

/// The embedded packs: (name, YAML).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("typescript.yml", include_str!("rules/typescript.yml")),
    ("rust.yml", include_str!("rules/rust.yml")),
];

/// Compile the embedded packs.
pub fn embedded(vars: &Vars) -> Result<Vec<Rule>, RuleError> {
    Ok(embedded_with_sets(vars)?.0)
}

/// Compile the embedded packs; also return their taint sets.
pub fn embedded_with_sets(vars: &Vars) -> Result<(Vec<Rule>, Sets), RuleError> {
    let mut out = Vec::new();
    let mut sets = Sets::default();
    for (name, text) in EMBEDDED {
        out.extend(compile_file(
            text,
            &format!("embedded:{name}"),
            vars,
            &mut sets,
        )?);
    }
    Ok((out, sets))
}

/// Compile rule files read from the repository's rule dirs (in the order given). Their rules
/// may name the embedded packs' taint sets.
pub fn from_files(files: &[super::RuleFile], vars: &Vars) -> Result<Vec<Rule>, RuleError> {
    Ok(from_files_with_sets(files, vars)?.0)
}

/// [`from_files`], also returning the taint sets the files define.
pub fn from_files_with_sets(
    files: &[super::RuleFile],
    vars: &Vars,
) -> Result<(Vec<Rule>, Sets), RuleError> {
    let (_, mut sets) = embedded_with_sets(vars)?;
    let first_own = sets.0.len();
    let mut out = Vec::new();
    for f in files {
        for rule in compile_file(&f.text, &f.source, vars, &mut sets)? {
            rule.validate()?;
            out.push(rule);
        }
    }
    let own = Sets(sets.0.split_off(first_own));
    Ok((out, own))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(yaml: &str) -> Result<Vec<Rule>, RuleError> {
        let rules = compile_file(yaml, "t.yml", &Vars::default(), &mut Sets::default())?;
        for r in &rules {
            r.validate()?;
        }
        Ok(rules)
    }

    #[test]
    fn bad_query_names_rule_and_position() {
        let e = one(
            "rules:\n  - id: x/bad\n    languages: [typescript]\n    severity: high\n    message: m\n    cwe: CWE-1\n    fix: f\n    query: |\n      (call_expression\n        function: (nonsense_node)) @match\n",
        )
        .unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("t.yml:10: rule `x/bad`"), "{s}");
        assert!(s.contains("query line 2, column"), "{s}");
    }

    #[test]
    fn missing_match_capture_is_an_error() {
        let e = one("rules:\n  - id: x/a\n    languages: [rust]\n    severity: low\n    message: m\n    cwe: CWE-1\n    fix: f\n    query: (unsafe_block) @u\n").unwrap_err();
        assert!(e.to_string().contains("@match"), "{e}");
    }

    #[test]
    fn unknown_key_and_predicate() {
        let e =
            one("rules:\n  - id: x/a\n    languages: [rust]\n    severity: low\n    mesage: m\n")
                .unwrap_err();
        assert!(e.to_string().contains("unknown field `mesage`"), "{e}");
        let e = one("rules:\n  - id: x/a\n    languages: [rust]\n    severity: low\n    message: m\n    cwe: CWE-1\n    fix: f\n    query: ((identifier) @match (#frob? @match \"x\"))\n").unwrap_err();
        assert!(
            e.to_string().contains("unsupported predicate `#frob?`"),
            "{e}"
        );
    }

    #[test]
    fn condition_captures_are_checked() {
        let e = one("rules:\n  - id: x/a\n    languages: [rust]\n    severity: low\n    message: m\n    cwe: CWE-1\n    fix: f\n    query: (unsafe_block) @match\n    conditions:\n      - has: (identifier) @i\n        of: nope\n").unwrap_err();
        assert!(e.to_string().contains("`of: nope`"), "{e}");
    }

    #[test]
    fn variables_are_substituted() {
        let v = Vars::new(&["publicProcedure".into()], &[], "(?i)auth");
        assert_eq!(
            v.apply("(#match? @x \"^({{public-procedures}})$\")")
                .unwrap(),
            "(#match? @x \"^(publicProcedure)$\")"
        );
        assert!(v
            .apply("{{nope}}")
            .unwrap_err()
            .contains("unknown variable"));
    }
}
