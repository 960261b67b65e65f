//! Coupling rules as users write them in `.pr-risk.yml` (`coupling:`), validated while they are
//! read so that every mistake is reported with the file and line the YAML reader knows.
//!
//! A rule says which imports are forbidden, in the form users of dependency-cruiser or Nx module
//! boundaries know:
//!
//! ```yaml
//! coupling:
//!   rules:
//!     - name: feature-isolation
//!       severity: error
//!       description: a feature may import only itself
//!       from: src/features/([^/]+)/        # a regex: its capture groups feed $1 below
//!       to: src/features/
//!       to-not: src/features/$1/
//! ```
//!
//! An import `a → b` violates a rule when `a` matches `from` (and not `from-not`), `b` matches
//! `to` (when given), `b` matches neither `to-not` nor any `allow` pattern, and — when the rule
//! says `type-only: ignore` — the import is not type-only.
//!
//! Patterns are globs (the `.pr-risk.yml` glob dialect of [`crate::glob`]) unless they contain
//! regex syntax (`^ $ ( ) | + \`, `.*`, `.+`, `.?`); `{ glob: … }` / `{ regex: … }` says it
//! explicitly. Regexes match from the start of the repository-relative path (an implicit `^`) and
//! need not match all of it. `$1`, `${1}` and `${name}` in `to`, `to-not` and `allow` are replaced by
//! the capture groups of `from` (escaped, so a captured `.` is a literal dot).

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use regex::Regex;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::glob::{GlobList, Pattern};

/// Names of the built-in rules, as they appear in reports.
pub const CYCLE_RULE: &str = "no-cycle";
pub const DEEP_IMPORT_RULE: &str = "no-deep-import";

/// How much a violation weighs, or `off` to disable a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warn,
    Off,
}

impl Severity {
    /// Units a violation adds to the coupling score (see `score::coupling`).
    pub fn units(self) -> f64 {
        match self {
            Severity::Error => 1.0,
            Severity::Warn => 0.4,
            Severity::Off => 0.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
            Severity::Off => "off",
        }
    }
}

/// Whether type-only imports (`import type`, erased at compile time) are judged by a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TypeOnly {
    #[default]
    Count,
    Ignore,
}

/// The `coupling:` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct CouplingSettings {
    /// Built-in rule `no-cycle`: a change that creates a dependency cycle or grows one.
    /// Defaults: severity error, type-only ignore (type-only cycles do not exist at run time).
    pub cycles: BuiltinRule,
    /// Built-in rule `no-deep-import`: an import into another workspace package past its public
    /// entry. Defaults: severity warn, type-only count.
    pub deep_imports: BuiltinRule,
    /// The repository's own rules.
    pub rules: Vec<Rule>,
    /// Score the net change: the units of the violations the change introduces minus those of the
    /// violations it removes (never below 0). Default: only introduced violations count.
    pub net: bool,
}

/// Settings of a built-in rule; unset fields take the rule's defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct BuiltinRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_only: Option<TypeOnly>,
}

impl CouplingSettings {
    pub fn cycle_severity(&self) -> Severity {
        self.cycles.severity.unwrap_or(Severity::Error)
    }
    pub fn cycle_type_only(&self) -> TypeOnly {
        self.cycles.type_only.unwrap_or(TypeOnly::Ignore)
    }
    pub fn deep_import_severity(&self) -> Severity {
        self.deep_imports.severity.unwrap_or(Severity::Warn)
    }
    pub fn deep_import_type_only(&self) -> TypeOnly {
        self.deep_imports.type_only.unwrap_or(TypeOnly::Count)
    }

    /// The same settings with every unset built-in field filled with its default (two settings
    /// that behave alike compare equal).
    pub fn resolved(&self) -> CouplingSettings {
        let mut r = self.clone();
        r.cycles = BuiltinRule {
            severity: Some(self.cycle_severity()),
            type_only: Some(self.cycle_type_only()),
        };
        r.deep_imports = BuiltinRule {
            severity: Some(self.deep_import_severity()),
            type_only: Some(self.deep_import_type_only()),
        };
        r
    }

    /// Checks across rules (duplicate or reserved names): the offending name, which occurrence of
    /// it is at fault, and the message.
    pub fn check_names(&self) -> Option<(String, usize, String)> {
        let mut seen = BTreeSet::new();
        for r in &self.rules {
            if r.name == CYCLE_RULE || r.name == DEEP_IMPORT_RULE {
                return Some((
                    r.name.clone(),
                    1,
                    format!(
                        "rule name `{}` is reserved for a built-in rule; configure it under `coupling.{}` or pick another name",
                        r.name,
                        if r.name == CYCLE_RULE { "cycles" } else { "deep-imports" }
                    ),
                ));
            }
            if !seen.insert(r.name.as_str()) {
                return Some((
                    r.name.clone(),
                    2,
                    format!(
                        "two coupling rules are named `{}`; rule names must be unique (violations are matched between base and head by name)",
                        r.name
                    ),
                ));
            }
        }
        None
    }
}

/// One user rule, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Rule {
    pub name: String,
    pub severity: Severity,
    pub description: String,
    pub from: PathPattern,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_not: Option<PathPattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<PathPattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_not: Option<PathPattern>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<PathPattern>,
    pub type_only: TypeOnly,
}

/// The rule as written, before the checks across its fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    name: String,
    #[serde(default = "default_severity")]
    severity: Severity,
    #[serde(default)]
    description: String,
    from: PathPattern,
    #[serde(default)]
    from_not: Option<PathPattern>,
    #[serde(default)]
    to: Option<PathPattern>,
    #[serde(default)]
    to_not: Option<PathPattern>,
    #[serde(default)]
    allow: Vec<PathPattern>,
    #[serde(default)]
    type_only: TypeOnly,
}

fn default_severity() -> Severity {
    Severity::Error
}

impl RawRule {
    fn validate(self) -> Result<Rule, String> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err("a coupling rule needs a non-empty `name`".into());
        }
        if self.to.is_none() && self.allow.is_empty() {
            return Err(format!(
                "coupling rule `{name}` needs `to` (the imports it forbids) or `allow` (the only imports it permits)"
            ));
        }
        for (key, p) in [
            ("from", Some(&self.from)),
            ("from-not", self.from_not.as_ref()),
        ] {
            if let Some(p) = p {
                if !p.refs.is_empty() {
                    return Err(format!(
                        "coupling rule `{name}`: `{key}` cannot use `$…` references (capture groups come from `from`)"
                    ));
                }
            }
        }
        let (count, names) = match &self.from.kind {
            Kind::Regex => {
                let re = self.from.fixed.as_ref().and_then(|m| match m {
                    Matcher::Regex(r) => Some(r),
                    Matcher::Glob(_) => None,
                });
                match re {
                    Some(r) => (
                        r.captures_len(),
                        r.capture_names().flatten().map(str::to_string).collect(),
                    ),
                    None => (1, Vec::new()),
                }
            }
            Kind::Glob => (1, Vec::new()),
        };
        let templated = [("to", self.to.as_ref()), ("to-not", self.to_not.as_ref())]
            .into_iter()
            .chain(self.allow.iter().map(|a| ("allow", Some(a))));
        for (key, p) in templated {
            let Some(p) = p else { continue };
            for r in &p.refs {
                let ok = match r {
                    Ref::Index(i) => *i < count,
                    Ref::Name(n) => names.contains(n),
                };
                if !ok {
                    let what = match r {
                        Ref::Index(i) => format!("${i}"),
                        Ref::Name(n) => format!("${{{n}}}"),
                    };
                    let has = if self.from.kind == Kind::Glob {
                        "`from` is a glob, which has no capture groups (write it as a regex, e.g. `src/features/([^/]+)/`)".to_string()
                    } else {
                        format!(
                            "`from` has {} capture group(s){}",
                            count - 1,
                            if names.is_empty() {
                                String::new()
                            } else {
                                format!(" (named: {})", names.join(", "))
                            }
                        )
                    };
                    return Err(format!(
                        "coupling rule `{name}`: `{key}` uses {what} but {has}"
                    ));
                }
            }
        }
        Ok(Rule {
            name,
            severity: self.severity,
            description: self.description.trim().to_string(),
            from: self.from,
            from_not: self.from_not,
            to: self.to,
            to_not: self.to_not,
            allow: self.allow,
            type_only: self.type_only,
        })
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Rule;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a coupling rule (a mapping with `name`, `from`, `to`, …)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rule, A::Error> {
                // The fields are read by the derived reader (unknown keys and bad values are
                // reported at their own line); the checks across fields are reported at the rule.
                let raw = RawRule::deserialize(de::value::MapAccessDeserializer::new(map))?;
                raw.validate().map_err(de::Error::custom)
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether a pattern is a glob or a regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Glob,
    Regex,
}

/// A `$…` reference to a capture group of `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Index(usize),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Ref(Ref),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub enum Matcher {
    Glob(GlobList),
    Regex(Regex),
}

impl Matcher {
    pub fn is_match(&self, path: &str) -> bool {
        match self {
            Matcher::Glob(g) => g.is_match(path),
            Matcher::Regex(r) => r.is_match(path),
        }
    }
}

/// A path pattern, possibly with `$…` references to be filled from `from`'s capture groups.
#[derive(Debug, Clone)]
pub struct PathPattern {
    text: String,
    kind: Kind,
    segments: Vec<Segment>,
    refs: Vec<Ref>,
    /// Compiled once when there are no references.
    fixed: Option<Matcher>,
}

impl PartialEq for PathPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.kind == other.kind
    }
}

impl Serialize for PathPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// Characters that make a pattern a regex rather than a glob.
fn looks_like_regex(literal: &str) -> bool {
    literal.contains(['^', '$', '(', ')', '|', '+', '\\'])
        || literal.contains(".*")
        || literal.contains(".+")
        || literal.contains(".?")
}

/// Split `text` into literal text and `$1` / `${1}` / `${name}` / `$name` references (`$$` is a
/// literal `$`; a `$` not followed by a digit, letter, `_` or `{` is literal too — a regex anchor).
fn segments(text: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            let next = b[i + 1];
            if next == b'$' {
                lit.push('$');
                i += 2;
                continue;
            }
            let (name, len) = if next == b'{' {
                let Some(end) = text[i + 2..].find('}') else {
                    return Err(format!("unclosed `${{` in `{text}`"));
                };
                (&text[i + 2..i + 2 + end], end + 3)
            } else if next.is_ascii_alphanumeric() || next == b'_' {
                let end = text[i + 1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map(|e| i + 1 + e)
                    .unwrap_or(text.len());
                (&text[i + 1..end], end - i)
            } else {
                lit.push('$');
                i += 1;
                continue;
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "invalid capture reference `${{{name}}}` in `{text}`"
                ));
            }
            if !lit.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut lit)));
            }
            out.push(Segment::Ref(match name.parse::<usize>() {
                Ok(n) => Ref::Index(n),
                Err(_) => Ref::Name(name.to_string()),
            }));
            i += len;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or('\0');
        lit.push(c);
        i += c.len_utf8().max(1);
    }
    if !lit.is_empty() {
        out.push(Segment::Text(lit));
    }
    Ok(out)
}

fn compile(kind: Kind, text: &str, original: &str) -> Result<Matcher, String> {
    match kind {
        Kind::Glob => {
            let p = Pattern::new(text)?;
            Ok(Matcher::Glob(GlobList::new(std::iter::once(&p))))
        }
        Kind::Regex => Regex::new(&format!("^(?:{text})"))
            .map(Matcher::Regex)
            .map_err(|e| {
                // The regex crate's message spans lines (a caret diagram); keep its last line.
                let msg = e.to_string();
                let last = msg
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                format!("invalid regex `{original}`: {last}")
            }),
    }
}

fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The capture groups of a `from` match, to fill references with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Captures {
    by_index: Vec<Option<String>>,
    by_name: Vec<(String, String)>,
}

impl Captures {
    fn get(&self, r: &Ref) -> &str {
        match r {
            Ref::Index(i) => self.by_index.get(*i).and_then(|v| v.as_deref()),
            Ref::Name(n) => self
                .by_name
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str()),
        }
        .unwrap_or("")
    }
}

impl PathPattern {
    pub fn new(text: &str, kind: Option<Kind>) -> Result<PathPattern, String> {
        if text.trim().is_empty() {
            return Err("empty path pattern".into());
        }
        let segments = segments(text)?;
        let literal: String = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Text(t) => Some(t.as_str()),
                Segment::Ref(_) => None,
            })
            .collect();
        let kind = kind.unwrap_or(if looks_like_regex(&literal) {
            Kind::Regex
        } else {
            Kind::Glob
        });
        let refs: Vec<Ref> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Ref(r) => Some(r.clone()),
                Segment::Text(_) => None,
            })
            .collect();
        let mut p = PathPattern {
            text: text.to_string(),
            kind,
            segments,
            refs,
            fixed: None,
        };
        if p.refs.is_empty() {
            p.fixed = Some(compile(kind, &p.expand(&Captures::default()), text)?);
        } else {
            // Check the syntax now, with a harmless value in every reference.
            let probe = Captures {
                by_index: vec![Some("x".into()); 100],
                by_name: Vec::new(),
            };
            let mut t = String::new();
            for s in &p.segments {
                match s {
                    Segment::Text(x) => t.push_str(x),
                    Segment::Ref(Ref::Index(_)) => t.push_str(probe.get(&Ref::Index(0))),
                    Segment::Ref(Ref::Name(_)) => t.push('x'),
                }
            }
            compile(kind, &t, text)?;
        }
        Ok(p)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn has_refs(&self) -> bool {
        !self.refs.is_empty()
    }

    fn expand(&self, caps: &Captures) -> String {
        let mut t = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(x) => t.push_str(x),
                Segment::Ref(r) => {
                    let v = caps.get(r);
                    match self.kind {
                        Kind::Regex => t.push_str(&regex::escape(v)),
                        Kind::Glob => t.push_str(&escape_glob(v)),
                    }
                }
            }
        }
        t
    }

    /// The compiled pattern, with references filled from `caps`.
    pub fn matcher(&self, caps: &Captures) -> Matcher {
        if let Some(m) = &self.fixed {
            return m.clone();
        }
        let text = self.expand(caps);
        // Captured text is escaped, so the expansion compiles whenever the probe did; an
        // unexpected failure matches nothing rather than everything.
        compile(self.kind, &text, &self.text)
            .unwrap_or_else(|_| Matcher::Glob(GlobList::new(std::iter::empty::<&Pattern>())))
    }

    /// Whether `path` matches (no references), and the capture groups when it is a regex.
    pub fn captures(&self, path: &str) -> Option<Captures> {
        match self.fixed.as_ref()? {
            Matcher::Glob(g) => g.is_match(path).then(Captures::default),
            Matcher::Regex(r) => {
                let c = r.captures(path)?;
                Some(Captures {
                    by_index: c
                        .iter()
                        .map(|m| m.map(|m| m.as_str().to_string()))
                        .collect(),
                    by_name: r
                        .capture_names()
                        .flatten()
                        .filter_map(|n| Some((n.to_string(), c.name(n)?.as_str().to_string())))
                        .collect(),
                })
            }
        }
    }
}

impl<'de> Deserialize<'de> for PathPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PathPattern;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a path pattern: a glob or regex string, or `{ glob: … }` / `{ regex: … }`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PathPattern, E> {
                PathPattern::new(v, None).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PathPattern, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "an explicit pattern needs `glob: …` or `regex: …`",
                    ));
                };
                let kind = match key.as_str() {
                    "glob" => Kind::Glob,
                    "regex" => Kind::Regex,
                    other => return Err(de::Error::unknown_field(other, &["glob", "regex"])),
                };
                let text: String = map.next_value()?;
                let p = PathPattern::new(&text, Some(kind)).map_err(de::Error::custom)?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a pattern is either `glob` or `regex`, not both (extra key `{extra}`)"
                    )));
                }
                Ok(p)
            }
        }
        d.deserialize_any(V)
    }
}

/// What one rule says about one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeFacts<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub type_only: bool,
}

impl Rule {
    /// Whether the import violates this rule (compiles templates afresh; use [`RuleMatcher`] for
    /// many imports).
    pub fn violated_by(&self, e: EdgeFacts) -> bool {
        RuleMatcher::new(self).violated_by(e)
    }
}

/// A rule ready to judge many imports: patterns filled from capture groups are compiled once per
/// distinct set of captured values (once per feature, not once per import).
pub struct RuleMatcher<'a> {
    pub rule: &'a Rule,
    cache: HashMap<(usize, Captures), Matcher>,
}

impl<'a> RuleMatcher<'a> {
    pub fn new(rule: &'a Rule) -> Self {
        RuleMatcher {
            rule,
            cache: HashMap::new(),
        }
    }

    fn test(&mut self, slot: usize, p: &PathPattern, caps: &Captures, path: &str) -> bool {
        if !p.has_refs() {
            return p.matcher(caps).is_match(path);
        }
        self.cache
            .entry((slot, caps.clone()))
            .or_insert_with(|| p.matcher(caps))
            .is_match(path)
    }

    /// Whether the import violates the rule.
    pub fn violated_by(&mut self, e: EdgeFacts) -> bool {
        let r = self.rule;
        if r.severity == Severity::Off || (e.type_only && r.type_only == TypeOnly::Ignore) {
            return false;
        }
        let Some(caps) = r.from.captures(e.from) else {
            return false;
        };
        if let Some(n) = &r.from_not {
            if self.test(0, n, &caps, e.from) {
                return false;
            }
        }
        if let Some(to) = &r.to {
            if !self.test(1, to, &caps, e.to) {
                return false;
            }
        }
        if let Some(n) = &r.to_not {
            if self.test(2, n, &caps, e.to) {
                return false;
            }
        }
        for (i, a) in r.allow.iter().enumerate() {
            if self.test(3 + i, a, &caps, e.to) {
                return false;
            }
        }
        true
    }
}

/// 1-based line and column of the `name: <name>` of a rule (for checks across rules).
pub fn find_rule_name(text: &str, name: &str, occurrence: usize) -> Option<(usize, usize)> {
    let mut seen = 0;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start().trim_start_matches("- ").trim_start();
        if let Some(v) = t.strip_prefix("name:") {
            let v = v.trim().trim_matches(['"', '\'']);
            if v == name {
                seen += 1;
                if seen == occurrence {
                    let col = l.len() - l.trim_start().len() + 1;
                    return Some((i + 1, col));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> Result<Rule, String> {
        serde_yaml::from_str::<Rule>(yaml).map_err(|e| e.to_string())
    }

    fn edge<'a>(from: &'a str, to: &'a str) -> EdgeFacts<'a> {
        EdgeFacts {
            from,
            to,
            type_only: false,
        }
    }

    #[test]
    fn kinds_are_detected() {
        assert_eq!(
            PathPattern::new("src/*.ts", None).unwrap().kind(),
            Kind::Glob
        );
        assert_eq!(
            PathPattern::new("src/features/([^/]+)/", None)
                .unwrap()
                .kind(),
            Kind::Regex
        );
        assert_eq!(
            PathPattern::new("src/features/$1/", None).unwrap().kind(),
            Kind::Glob
        );
        assert_eq!(
            PathPattern::new("^src/.*$", None).unwrap().kind(),
            Kind::Regex
        );
    }

    #[test]
    fn feature_isolation_with_capture() {
        let r = rule(
            "name: features\nfrom: src/features/([^/]+)/\nto: src/features/\nto-not: src/features/$1/\n",
        )
        .unwrap();
        assert!(r.violated_by(edge("src/features/orders/a.ts", "src/features/users/b.ts")));
        assert!(!r.violated_by(edge(
            "src/features/orders/a.ts",
            "src/features/orders/x/b.ts"
        )));
        assert!(!r.violated_by(edge("src/features/orders/a.ts", "src/shared/b.ts")));
        assert!(!r.violated_by(edge("src/app.ts", "src/features/users/b.ts")));
    }

    #[test]
    fn captured_text_is_escaped() {
        let r = rule("name: n\nfrom: \"pkg/(.+)/src/\"\nto: pkg/\nto-not: \"pkg/$1/\"\n").unwrap();
        // `a.b` must not match `axb` through an unescaped dot.
        assert!(r.violated_by(edge("pkg/a.b/src/x.ts", "pkg/axb/y.ts")));
        assert!(!r.violated_by(edge("pkg/a.b/src/x.ts", "pkg/a.b/y.ts")));
    }

    #[test]
    fn allow_list_for_layers() {
        let r =
            rule("name: domain\nfrom: src/domain/\nto: src/\nallow: [src/domain/, src/data/]\n")
                .unwrap();
        assert!(r.violated_by(edge("src/domain/a.ts", "src/ui/b.ts")));
        assert!(!r.violated_by(edge("src/domain/a.ts", "src/data/b.ts")));
        assert!(!r.violated_by(edge("src/domain/a.ts", "lib/x.ts")));
    }

    #[test]
    fn type_only_ignored_per_rule() {
        let r = rule("name: n\nfrom: a/\nto: b/\ntype-only: ignore\n").unwrap();
        let mut e = edge("a/x.ts", "b/y.ts");
        assert!(r.violated_by(e));
        e.type_only = true;
        assert!(!r.violated_by(e));
    }

    #[test]
    fn explicit_kinds() {
        let r = rule("name: n\nfrom: { glob: \"src/(x)/*.ts\" }\nto: { regex: src/y }\n").unwrap();
        assert!(r.violated_by(edge("src/(x)/a.ts", "src/yz.ts")));
    }

    #[test]
    fn bad_regex_is_located() {
        let e = rule("name: n\nfrom: src/features/([^/]+/\nto: src/\n").unwrap_err();
        assert!(e.contains("invalid regex"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn reference_to_missing_group() {
        let e = rule("name: n\nfrom: src/features/\nto: src/\nto-not: src/$1/\n").unwrap_err();
        assert!(e.contains("`from` is a glob"), "{e}");
        let e = rule("name: n\nfrom: src/(a)/\nto: src/\nto-not: src/$2/\n").unwrap_err();
        assert!(e.contains("has 1 capture group"), "{e}");
    }

    #[test]
    fn needs_to_or_allow() {
        let e = rule("name: n\nfrom: src/\n").unwrap_err();
        assert!(e.contains("needs `to`"), "{e}");
    }

    #[test]
    fn named_groups() {
        let r = rule("name: n\nfrom: \"src/(?P<f>[^/]+)/\"\nto: src/\nto-not: \"src/${f}/\"\n")
            .unwrap();
        assert!(r.violated_by(edge("src/a/x.ts", "src/b/y.ts")));
        assert!(!r.violated_by(edge("src/a/x.ts", "src/a/y.ts")));
    }
}
