//! Path globs as users write them in `.pr-risk.yml`.
//!
//! Semantics follow `.gitignore` closely enough to be unsurprising: `*` and `?` never cross a `/`,
//! `**` spans directories, and a pattern without any `/` matches at any depth (`*.snap` is
//! `**/*.snap`). A trailing `/` matches everything under that directory.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One validated glob pattern. Deserializing checks the syntax, so a bad glob in a config file is
/// reported with the file, line and column by the YAML reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        build(text)?;
        Ok(Pattern(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn normalise(text: &str) -> String {
    let mut t = text.trim().trim_start_matches("./").to_string();
    if t.ends_with('/') {
        t.push_str("**");
    }
    if let Some(rest) = t.strip_prefix('/') {
        return rest.to_string();
    }
    if !t.contains('/') {
        t = format!("**/{t}");
    }
    t
}

fn build(text: &str) -> Result<globset::Glob, String> {
    if text.trim().is_empty() {
        return Err("empty glob pattern".to_string());
    }
    GlobBuilder::new(&normalise(text))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob `{text}`: {}", e.kind()))
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pattern::new(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A compiled set of patterns.
#[derive(Debug, Clone)]
pub struct GlobList {
    set: GlobSet,
    len: usize,
}

impl GlobList {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a Pattern>) -> GlobList {
        let mut b = GlobSetBuilder::new();
        let mut len = 0;
        for p in patterns {
            // Patterns were validated when they were read.
            if let Ok(g) = build(&p.0) {
                b.add(g);
                len += 1;
            }
        }
        GlobList {
            set: b.build().unwrap_or_else(|_| GlobSet::empty()),
            len,
        }
    }

    pub fn from_strs(patterns: &[&str]) -> GlobList {
        let ps: Vec<Pattern> = patterns
            .iter()
            .filter_map(|p| Pattern::new(p).ok())
            .collect();
        GlobList::new(ps.iter())
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.len > 0 && self.set.is_match(path)
    }
}

/// Built-in globs (valid by construction).
pub fn patterns(p: &[&str]) -> Vec<Pattern> {
    p.iter()
        .map(|s| Pattern::new(s).expect("built-in glob is valid"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_does_not_cross_directories() {
        let g = GlobList::from_strs(&["src/*.ts"]);
        assert!(g.is_match("src/a.ts"));
        assert!(!g.is_match("src/x/a.ts"));
    }

    #[test]
    fn bare_pattern_matches_at_any_depth() {
        let g = GlobList::from_strs(&["*.test.*"]);
        assert!(g.is_match("a.test.ts"));
        assert!(g.is_match("src/deep/a.test.tsx"));
        assert!(!g.is_match("src/atest.ts"));
    }

    #[test]
    fn trailing_slash_is_a_directory() {
        let g = GlobList::from_strs(&["generated/"]);
        assert!(g.is_match("generated/a/b.ts"));
        assert!(!g.is_match("src/generated.ts"));
    }

    #[test]
    fn double_star_prefix() {
        let g = GlobList::from_strs(&["**/__tests__/**"]);
        assert!(g.is_match("__tests__/a.ts"));
        assert!(g.is_match("pkg/src/__tests__/x/a.ts"));
    }

    #[test]
    fn invalid_glob_is_rejected() {
        assert!(Pattern::new("src/[a").is_err());
        assert!(Pattern::new("").is_err());
    }
}
