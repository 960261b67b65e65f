//! Literal anchors of a rule: strings a file must contain for the rule's query to match at all.
//!
//! Compiling a tree-sitter query is the dominant cost of the security stage (tree-sitter checks
//! each pattern against the grammar's whole parse table: ≈25 ms per pattern for TypeScript).
//! Most rules name what they look for with a text predicate on a capture (`(#eq? @fn "eval")`,
//! `(#any-of? @m "get" "post")`, `(#match? @f "^(exec|execSync)$")`). When such a capture is
//! mandatory in the pattern, no file without one of those strings can match, so a rule none of
//! whose patterns can match any of the texts about to be scanned is not compiled.
//!
//! The analysis is conservative: anything it does not understand (a query it cannot read, a
//! predicate on an optional capture or inside an alternation branch only some matches take, a
//! regex without a finite set of literal prefixes) means "no anchor", and the rule always runs.

use std::collections::HashSet;

use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// For each pattern of a query, the literal sets a matching file must contain: the file must
/// contain one string of every set of a pattern (a conjunction of disjunctions).
/// `None`: some pattern has no anchor (or the query could not be analysed), so any file may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchors(Vec<Vec<Vec<String>>>);

impl Anchors {
    /// The anchors of a query text, `None` when some pattern has none.
    pub fn of_query(query: &str) -> Option<Anchors> {
        let tokens = tokenize(query)?;
        let mut p = Reader { t: &tokens, i: 0 };
        let mut patterns = Vec::new();
        while p.i < tokens.len() {
            let mut preds = Vec::new();
            let item = p.item(&mut preds)?;
            let sets: Vec<Vec<String>> = preds
                .iter()
                .filter(|pr| item.contains(&pr.capture))
                .filter_map(|pr| pr.literals.clone())
                .collect();
            if sets.is_empty() {
                return None;
            }
            patterns.push(sets);
        }
        (!patterns.is_empty()).then_some(Anchors(patterns))
    }

    /// Whether a text could match: some pattern has all its literal sets present.
    pub fn admit(&self, text: &str) -> bool {
        self.0.iter().any(|sets| {
            sets.iter()
                .all(|set| set.iter().any(|lit| text.contains(lit.as_str())))
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    OpenAlt,
    CloseAlt,
    Str(String),
    Capture(String),
    Quant,
    Dot,
    Field,
    NegField,
    Word(String),
}

fn tokenize(q: &str) -> Option<Vec<Tok>> {
    let b = q.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let name_char =
        |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'?' | b'!' | b'#');
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b';' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                out.push(Tok::Open);
                i += 1
            }
            b')' => {
                out.push(Tok::Close);
                i += 1
            }
            b'[' => {
                out.push(Tok::OpenAlt);
                i += 1
            }
            b']' => {
                out.push(Tok::CloseAlt);
                i += 1
            }
            b'?' | b'*' | b'+' => {
                out.push(Tok::Quant);
                i += 1
            }
            b'.' => {
                out.push(Tok::Dot);
                i += 1
            }
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                loop {
                    let c = *b.get(i)?;
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = *b.get(i)?;
                            i += 1;
                            s.push(match e {
                                b'n' => b'\n',
                                b't' => b'\t',
                                b'r' => b'\r',
                                b'0' => 0,
                                other => other,
                            });
                        }
                        other => s.push(other),
                    }
                }
                out.push(Tok::Str(String::from_utf8(s).ok()?));
            }
            b'@' => {
                let start = i + 1;
                i = start;
                while i < b.len() && name_char(b[i]) {
                    i += 1;
                }
                out.push(Tok::Capture(q[start..i].to_string()));
            }
            b'!' => {
                i += 1;
                while i < b.len() && name_char(b[i]) {
                    i += 1;
                }
                out.push(Tok::NegField);
            }
            _ if name_char(c) => {
                let start = i;
                while i < b.len() && name_char(b[i]) {
                    i += 1;
                }
                if b.get(i) == Some(&b':') {
                    i += 1;
                    out.push(Tok::Field);
                } else {
                    out.push(Tok::Word(q[start..i].to_string()));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A text predicate on one capture and the literals it implies (`None`: no literal implied).
struct Pred {
    capture: String,
    literals: Option<Vec<String>>,
}

struct Reader<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn next(&mut self) -> Option<&Tok> {
        let t = self.t.get(self.i);
        self.i += 1;
        t
    }

    /// One item (with its field prefix, quantifier and captures); returns the captures every
    /// match of the item binds. Predicates met anywhere inside go to `preds`.
    fn item(&mut self, preds: &mut Vec<Pred>) -> Option<HashSet<String>> {
        while matches!(self.peek(), Some(Tok::Field)) {
            self.i += 1;
        }
        let mut caps = match self.next()?.clone() {
            Tok::Open => {
                if let Some(Tok::Word(w)) = self.peek() {
                    if w.starts_with('#') {
                        let name = w.clone();
                        self.i += 1;
                        preds.push(self.predicate(&name)?);
                        return Some(HashSet::new());
                    }
                }
                // A node `(kind …)`, a wildcard `(_ …)`, or a group `(… …)`.
                if let Some(Tok::Word(_)) = self.peek() {
                    self.i += 1;
                }
                let mut caps = HashSet::new();
                loop {
                    match self.peek()? {
                        Tok::Close => {
                            self.i += 1;
                            break;
                        }
                        Tok::Dot | Tok::NegField => self.i += 1,
                        _ => caps.extend(self.item(preds)?),
                    }
                }
                caps
            }
            Tok::OpenAlt => {
                let mut common: Option<HashSet<String>> = None;
                loop {
                    match self.peek()? {
                        Tok::CloseAlt => {
                            self.i += 1;
                            break;
                        }
                        _ => {
                            let branch = self.item(preds)?;
                            common = Some(match common {
                                None => branch,
                                Some(c) => c.intersection(&branch).cloned().collect(),
                            });
                        }
                    }
                }
                common.unwrap_or_default()
            }
            Tok::Str(_) | Tok::Word(_) => HashSet::new(),
            _ => return None,
        };
        let mut optional = false;
        loop {
            match self.peek() {
                // `?` or `*`: the item may be absent (with its captures, before or after the
                // quantifier). `+` keeps them, but one rule for all three is simpler and safe.
                Some(Tok::Quant) => {
                    self.i += 1;
                    optional = true;
                }
                Some(Tok::Capture(c)) => {
                    caps.insert(c.clone());
                    self.i += 1;
                }
                _ => break,
            }
        }
        if optional {
            caps.clear();
        }
        Some(caps)
    }

    /// The rest of `(#name args…)` after its name.
    fn predicate(&mut self, name: &str) -> Option<Pred> {
        let mut args = Vec::new();
        loop {
            match self.next()? {
                Tok::Close => break,
                t => args.push(t.clone()),
            }
        }
        let Some(Tok::Capture(capture)) = args.first().cloned() else {
            return Some(Pred {
                capture: String::new(),
                literals: None,
            });
        };
        let strings: Option<Vec<String>> = args[1..]
            .iter()
            .map(|a| match a {
                Tok::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let literals = match (name, strings) {
            ("#eq?", Some(s)) if s.len() == 1 => Some(s),
            ("#any-of?", Some(s)) if !s.is_empty() => Some(s),
            ("#match?", Some(s)) if s.len() == 1 => regex_literals(&s[0]),
            _ => None,
        };
        Some(Pred {
            capture,
            literals: literals.filter(|l| l.iter().all(|s| !s.is_empty())),
        })
    }
}

/// Literals one of which starts every match of `re` (`None`: no finite non-empty set).
fn regex_literals(re: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::Parser::new().parse(re).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    lits.iter()
        .map(|l| {
            let s = std::str::from_utf8(l.as_bytes()).ok()?;
            (!s.is_empty()).then(|| s.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(q: &str) -> Option<Vec<Vec<Vec<String>>>> {
        Anchors::of_query(q).map(|a| a.0)
    }

    #[test]
    fn eq_on_a_mandatory_capture() {
        let a = sets(r#"(call_expression function: (identifier) @f (#eq? @f "eval")) @match"#);
        assert_eq!(a, Some(vec![vec![vec!["eval".to_string()]]]));
    }

    #[test]
    fn capture_in_every_branch_of_an_alternation() {
        let q = r#"(call_expression
            function: [(identifier) @f (member_expression object: (identifier) @w property: (property_identifier) @f (#match? @w "^(window|globalThis|global)$"))]
            (#eq? @f "eval")
            arguments: (arguments . (_) @arg)) @match"#;
        // @w is only in one branch: its literals do not count; @f is in both.
        assert_eq!(sets(q), Some(vec![vec![vec!["eval".to_string()]]]));
    }

    #[test]
    fn regex_alternatives_become_a_set() {
        let q = r#"(call_expression function: (identifier) @f (#match? @f "^(exec|execSync)$")) @match"#;
        let a = Anchors::of_query(q).unwrap();
        assert!(a.admit("cp.execSync(cmd)"));
        assert!(!a.admit("run(cmd)"));
    }

    #[test]
    fn optional_captures_and_negations_give_no_anchor() {
        assert_eq!(
            sets(r#"(call_expression (identifier)? @f (#eq? @f "eval")) @match"#),
            None
        );
        assert_eq!(
            sets(r#"(call_expression (identifier) @f (#not-eq? @f "eval")) @match"#),
            None
        );
        assert_eq!(sets(r#"(call_expression) @match"#), None);
        assert_eq!(
            sets(r#"(call_expression (identifier) @f (#match? @f "^.*$")) @match"#),
            None
        );
    }

    #[test]
    fn every_pattern_needs_an_anchor() {
        let q = r#"(call_expression (identifier) @f (#eq? @f "eval")) @match
                   (new_expression (identifier) @c) @match"#;
        assert_eq!(sets(q), None);
        let q = r#"(call_expression (identifier) @f (#eq? @f "eval")) @match
                   (new_expression (identifier) @c (#any-of? @c "Function" "Worker")) @match"#;
        let a = Anchors::of_query(q).unwrap();
        assert!(a.admit("new Worker(x)"));
        assert!(a.admit("eval(x)"));
        assert!(!a.admit("call(x)"));
    }

    #[test]
    fn predicates_in_one_branch_do_not_count() {
        let q = r#"[
            (new_expression constructor: (identifier) @c (#eq? @c "Function"))
            (call_expression function: (identifier) @d)
        ] @match"#;
        assert_eq!(sets(q), None);
    }

    /// The anchors of every embedded rule admit every example the rule must match (a wrong
    /// anchor would silently switch a rule off), and most rules have one.
    #[test]
    fn embedded_rules_admit_their_matching_examples() {
        let rules = crate::score::security::rules::embedded(&Default::default()).unwrap();
        let mut anchored = 0;
        for r in &rules {
            let Some(a) = &r.anchors else { continue };
            anchored += 1;
            for ex in &r.examples.matching {
                assert!(a.admit(ex), "{}: {a:?} does not admit {ex:?}", r.id);
            }
        }
        assert!(anchored * 2 > rules.len(), "{anchored} of {}", rules.len());
    }

    #[test]
    fn unreadable_queries_give_no_anchor() {
        assert_eq!(sets(r#"(call_expression (#eq? @f "x""#), None);
        assert_eq!(sets("{ nonsense }"), None);
    }
}
