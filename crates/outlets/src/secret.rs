//! Secrets (GitHub tokens, Massu API keys): redacted at the type level, and scrubbed from every
//! outgoing message at one choke point.
//!
//! A [`Secret`] prints as `***` through `Debug` and `Display`, so it cannot leak into a log line,
//! an error message or a report by accident; the value is only reachable through
//! [`Secret::expose`], at the one place that puts it into an HTTP header.
//!
//! A secret can still come back from the outside: an API (or a proxy in front of it) that echoes
//! the `Authorization` header in an error body, raw, JSON-escaped (`ab\/cd`, `\u0061…`) or
//! URL-encoded (`ab%2Fcd`). Every secret is registered when it is created, and [`scrub`] replaces
//! each of those forms of every registered secret with `***`. Every sink calls it: the job log and
//! the terminal, the log lines, the step summary, the outputs and files the action writes, and
//! the bodies sent to GitHub and to the Massu cloud.

use std::fmt;
use std::sync::RwLock;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The forms of every secret created in this process, longest first.
static REGISTERED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Secrets shorter than this are not scrubbed (replacing a two-letter "secret" everywhere would
/// garble every message; no real token is that short).
const MIN_SCRUB_LEN: usize = 4;

impl Secret {
    /// `None` for an empty or all-whitespace value (an unset action input is the empty string).
    /// The value is registered for [`scrub`].
    pub fn new(value: impl Into<String>) -> Option<Secret> {
        let v = value.into();
        let t = v.trim();
        if t.is_empty() {
            None
        } else {
            register(t);
            Some(Secret(t.to_string()))
        }
    }

    /// The value itself: only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value can be sent in an HTTP header: visible ASCII only (no control
    /// character, space or non-ASCII character, which HTTP libraries reject — some by panicking).
    pub fn header_safe(&self) -> bool {
        self.0.bytes().all(|b| (0x21..=0x7e).contains(&b))
    }

    /// Remove this secret (in every form) from a text that might quote it.
    pub fn scrub(&self, text: &str) -> String {
        replace_forms(text, &forms(&self.0))
    }
}

/// Remember a secret's forms for [`scrub`].
fn register(value: &str) {
    if value.len() < MIN_SCRUB_LEN {
        return;
    }
    let mut all = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    for f in forms(value) {
        if !all.contains(&f) {
            all.push(f);
        }
    }
    all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
}

/// `text` with every form of every secret created so far replaced by `***`: the one choke point
/// every outgoing message passes.
pub fn scrub(text: &str) -> String {
    let all = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    if all.is_empty() {
        return text.to_string();
    }
    replace_forms(text, &all)
}

fn replace_forms(text: &str, forms: &[String]) -> String {
    let mut out = text.to_string();
    for f in forms {
        if f.len() >= MIN_SCRUB_LEN && out.contains(f.as_str()) {
            out = out.replace(f.as_str(), "***");
        }
    }
    out
}

/// The forms a value may be echoed in: raw; JSON-escaped (serde's escaping, with `\/` for `/`,
/// and every non-alphanumeric character — or every character — as `\uXXXX` in either case);
/// URL-encoded (upper- or lower-case hex, `+` or `%20` for a space). Longest first.
fn forms(v: &str) -> Vec<String> {
    let mut out = vec![v.to_string()];
    let json = serde_json::to_string(v).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(v)
        .to_string();
    out.push(json.replace('/', "\\/"));
    out.push(json);
    for upper in [false, true] {
        let hex = |c: char| {
            if upper {
                format!("\\u{:04X}", c as u32)
            } else {
                format!("\\u{:04x}", c as u32)
            }
        };
        let some: String = v
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    hex(c)
                }
            })
            .collect();
        let all: String = v.chars().map(hex).collect();
        out.push(some);
        out.push(all);
    }
    let mut pct = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            pct.push(b as char);
        } else {
            pct.push_str(&format!("%{b:02X}"));
        }
    }
    out.push(pct.replace("%20", "+"));
    out.push(lower_hex(&pct));
    out.push(pct);
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// `%2F` → `%2f`.
fn lower_hex(pct: &str) -> String {
    let mut out = String::with_capacity(pct.len());
    let mut chars = pct.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
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

    #[test]
    fn every_form_is_scrubbed_everywhere() {
        let _s = Secret::new("ab/cd+ef=gh \"q\"").unwrap();
        for echoed in [
            "ab/cd+ef=gh \"q\"",
            r#"ab\/cd+ef=gh \"q\""#,
            r#"ab/cd+ef=gh \"q\""#,
            r"ab\u002fcd\u002bef\u003dgh\u0020\u0022q\u0022",
            r"ab\u002Fcd\u002Bef\u003Dgh\u0020\u0022q\u0022",
            r"\u0061\u0062\u002f\u0063\u0064\u002b\u0065\u0066\u003d\u0067\u0068\u0020\u0022\u0071\u0022",
            "ab%2Fcd%2Bef%3Dgh%20%22q%22",
            "ab%2fcd%2bef%3dgh%20%22q%22",
            "ab%2Fcd%2Bef%3Dgh+%22q%22",
        ] {
            assert_eq!(scrub(&format!("echo: {echoed}!")), "echo: ***!", "{echoed}");
        }
        assert_eq!(scrub("nothing here"), "nothing here");
    }

    #[test]
    fn header_safety() {
        assert!(Secret::new("ghs_abc123").unwrap().header_safe());
        assert!(!Secret::new("ghs_abc\u{7}123").unwrap().header_safe());
        assert!(!Secret::new("ghs abc").unwrap().header_safe());
        assert!(!Secret::new("ghs_é").unwrap().header_safe());
    }
}
