//! Fingerprints: how a finding at head is recognised as one that already existed at base.
//!
//! A fingerprint is a hash of the rule id, the file's head path (a base file that was renamed is
//! fingerprinted under its new name), the matched code with all whitespace and `pr-risk-ignore`
//! comments removed, and the finding's index among identical matches in that file. There are no
//! line numbers in it: code that moves, or is re-indented, keeps its fingerprint; a second copy of
//! the same vulnerable line gets index 1 and counts as new.

use std::collections::HashMap;

/// Matched code without whitespace or suppression comments.
pub fn normalise(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for line in code.lines() {
        let line = strip_suppression(line);
        out.extend(line.chars().filter(|c| !c.is_whitespace()));
    }
    out
}

/// A line without its `pr-risk-ignore[…]` comment (`// …`, `# …`, `/* … */`).
fn strip_suppression(line: &str) -> &str {
    let Some(i) = line.find("pr-risk-ignore[") else {
        return line;
    };
    let before = &line[..i];
    let cut = ["//", "/*", "#", "<!--", "--"]
        .iter()
        .filter_map(|m| before.rfind(m))
        .min()
        .unwrap_or(i);
    &line[..cut]
}

/// FNV-1a, 64 bits: stable across runs, platforms and versions (unlike `DefaultHasher`).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Assigns fingerprints to the findings of one file, in source order.
#[derive(Default)]
pub struct Fingerprinter {
    seen: HashMap<(String, String), usize>,
}

impl Fingerprinter {
    pub fn next(&mut self, rule: &str, path: &str, code: &str) -> String {
        let norm = normalise(code);
        let n = self
            .seen
            .entry((rule.to_string(), norm.clone()))
            .or_insert(0);
        let index = *n;
        *n += 1;
        format!("{:016x}", fnv1a(&[rule, path, &norm, &index.to_string()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_suppressions_do_not_change_it() {
        let mut a = Fingerprinter::default();
        let mut b = Fingerprinter::default();
        assert_eq!(
            a.next("r", "p", "eval(x)"),
            b.next("r", "p", "eval( x ) // pr-risk-ignore[r]: reviewed")
        );
    }

    #[test]
    fn identical_matches_are_indexed() {
        let mut a = Fingerprinter::default();
        let first = a.next("r", "p", "eval(x)");
        let second = a.next("r", "p", "eval(x)");
        assert_ne!(first, second);
        assert_ne!(first, Fingerprinter::default().next("r", "q", "eval(x)"));
    }
}
