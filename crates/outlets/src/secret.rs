//! Secrets (GitHub tokens, Massu API keys) redacted at the type level.
//!
//! A [`Secret`] prints as `***` through `Debug` and `Display`, so it cannot leak into a log line,
//! an error message or a report by accident; the value is only reachable through
//! [`Secret::expose`], at the one place that puts it into an HTTP header.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// `None` for an empty or all-whitespace value (an unset action input is the empty string).
    pub fn new(value: impl Into<String>) -> Option<Secret> {
        let v = value.into();
        let t = v.trim();
        if t.is_empty() {
            None
        } else {
            Some(Secret(t.to_string()))
        }
    }

    /// The value itself: only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Remove the secret from a text that might quote it (an echoed error body, say).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("mk_live_abcdef").unwrap();
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(***))");
        assert_eq!(s.expose(), "mk_live_abcdef");
        assert_eq!(s.scrub("bad key mk_live_abcdef"), "bad key ***");
    }

    #[test]
    fn empty_is_none() {
        assert!(Secret::new("  ").is_none());
        assert!(Secret::new("").is_none());
    }
}
