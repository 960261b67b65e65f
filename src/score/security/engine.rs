//! Matching: run compiled rules over one parsed file.
//!
//! A file is parsed once per grammar and every rule for its language runs over that one tree.
//! A rule's query yields candidate matches; each candidate's `@match` node is then checked
//! against the rule's conditions:
//!
//! - `inside` / `not-inside`: some strict ancestor of the node is the node of a match of the
//!   condition query (its `@cond` capture, else the widest capture of that match). Ancestor sets
//!   are computed once per file and condition.
//! - `has` / `not-has`: the condition query matches inside the node (the node itself included).
//! - `same`: the texts of the named captures agree (the condition's capture equals the rule's
//!   capture, or an identifier inside it).
//!
//! Several patterns of one query can match the same node: a node is reported once per rule.

use std::collections::{HashMap, HashSet};

use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, Parser, Query, QueryCursor, Tree};

use super::rules::{ConditionKind, Grammar, Language, Rule};

/// One rule match in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the slice given to [`run`].
    pub rule: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    /// 1-based.
    pub line: u32,
    /// 1-based, in bytes.
    pub column: u32,
    pub end_line: u32,
}

/// Parse `source` with the grammar of `lang`. `None` only when the grammar cannot be loaded.
pub fn parse(lang: Language, source: &str) -> Option<Tree> {
    let mut parser = Parser::new();
    parser.set_language(&lang.grammar().language()).ok()?;
    parser.parse(source, None)
}

/// A matched node with the captured texts of its match.
struct CondMatch {
    node: usize,
    texts: HashMap<String, Vec<String>>,
}

fn captures_of(
    query: &Query,
    m: &tree_sitter::QueryMatch,
    src: &[u8],
) -> HashMap<String, Vec<String>> {
    let mut texts: HashMap<String, Vec<String>> = HashMap::new();
    for c in m.captures() {
        let name = query.capture_names()[c.index as usize].to_string();
        texts
            .entry(name)
            .or_default()
            .push(c.node.utf8_text(src).unwrap_or("").to_string());
    }
    texts
}

/// The node a condition match stands for: `@cond`, else the widest capture.
fn cond_node<'t>(query: &Query, m: &tree_sitter::QueryMatch<'_, 't>) -> Option<Node<'t>> {
    let cond = query.capture_index_for_name("cond");
    if let Some(ci) = cond {
        if let Some(c) = m.captures().iter().find(|c| c.index == ci) {
            return Some(c.node);
        }
    }
    m.captures().iter().map(|c| c.node).max_by_key(|n| {
        (
            n.end_byte() - n.start_byte(),
            std::cmp::Reverse(n.start_byte()),
        )
    })
}

/// Text of the node and of every identifier-like node inside it.
fn identifier_texts(node: Node, src: &[u8]) -> HashSet<String> {
    let mut out = HashSet::new();
    out.insert(node.utf8_text(src).unwrap_or("").to_string());
    let mut cursor = node.walk();
    'walk: loop {
        let n = cursor.node();
        if n.kind().ends_with("identifier") {
            out.insert(n.utf8_text(src).unwrap_or("").to_string());
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == node {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

fn same_ok(
    same: &[(String, String)],
    main: &HashMap<String, Vec<Node>>,
    cond: &HashMap<String, Vec<String>>,
    src: &[u8],
) -> bool {
    same.iter().all(|(a, b)| {
        let Some(cond_texts) = cond.get(b) else {
            return false;
        };
        main.get(a).into_iter().flatten().any(|n| {
            let ids = identifier_texts(*n, src);
            cond_texts.iter().any(|t| ids.contains(t))
        })
    })
}

/// Run `rules` (already filtered to `lang`) over one parsed file.
pub fn run(rules: &[&Rule], lang: Language, tree: &Tree, source: &str) -> Vec<RawMatch> {
    let src = source.as_bytes();
    let grammar: Grammar = lang.grammar();
    let root = tree.root_node();
    let mut cursor = QueryCursor::new();
    cursor.set_match_limit(10_000);
    let mut out = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        if !rule.applies_to(lang) {
            continue;
        }
        let Some(compiled) = rule.compiled(grammar) else {
            continue;
        };
        let query = &compiled.query;
        let Some(match_ix) = query.capture_index_for_name("match") else {
            continue;
        };
        // Ancestor-condition matches, computed on first use.
        let mut inside_cache: HashMap<usize, Vec<CondMatch>> = HashMap::new();
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        // Collect candidates first (the streaming iterator borrows the cursor).
        let mut candidates: Vec<(Node, HashMap<String, Vec<Node>>)> = Vec::new();
        let mut matches = cursor.matches(query, root, src);
        while let Some(m) = matches.next() {
            let Some(target) = m.captures().iter().find(|c| c.index == match_ix) else {
                continue;
            };
            let mut caps: HashMap<String, Vec<Node>> = HashMap::new();
            for c in m.captures() {
                caps.entry(query.capture_names()[c.index as usize].to_string())
                    .or_default()
                    .push(c.node);
            }
            candidates.push((target.node, caps));
        }
        for (node, caps) in candidates {
            if seen.contains(&(node.start_byte(), node.end_byte())) {
                continue;
            }
            let mut ok = true;
            for (ci, cond) in compiled.conditions.iter().enumerate() {
                let cq = &cond.query;
                let Some(of) = caps.get(&cond.of).and_then(|v| v.first()).copied() else {
                    ok = false;
                    break;
                };
                let holds = match cond.kind {
                    ConditionKind::Inside | ConditionKind::NotInside => {
                        let list = inside_cache.entry(ci).or_insert_with(|| {
                            let mut c = QueryCursor::new();
                            c.set_match_limit(10_000);
                            let mut v = Vec::new();
                            let mut it = c.matches(cq, root, src);
                            while let Some(m) = it.next() {
                                if let Some(n) = cond_node(cq, m) {
                                    v.push(CondMatch {
                                        node: n.id(),
                                        texts: captures_of(cq, m, src),
                                    });
                                }
                            }
                            v
                        });
                        let mut found = false;
                        let mut anc = of.parent();
                        while let Some(a) = anc {
                            if list.iter().any(|cm| {
                                cm.node == a.id() && same_ok(&cond.same, &caps, &cm.texts, src)
                            }) {
                                found = true;
                                break;
                            }
                            anc = a.parent();
                        }
                        found
                    }
                    ConditionKind::Has | ConditionKind::NotHas => {
                        let mut c = QueryCursor::new();
                        c.set_match_limit(10_000);
                        let mut it = c.matches(cq, of, src);
                        let mut found = false;
                        while let Some(m) = it.next() {
                            // `matches(…, node, …)` may report matches that start before the
                            // node; keep those within it.
                            let within = m.captures().iter().all(|c| {
                                c.node.start_byte() >= of.start_byte()
                                    && c.node.end_byte() <= of.end_byte()
                            });
                            if within && same_ok(&cond.same, &caps, &captures_of(cq, m, src), src) {
                                found = true;
                                break;
                            }
                        }
                        found
                    }
                };
                let want = matches!(cond.kind, ConditionKind::Inside | ConditionKind::Has);
                if holds != want {
                    ok = false;
                    break;
                }
            }
            if !ok {
                continue;
            }
            seen.insert((node.start_byte(), node.end_byte()));
            let start = node.start_position();
            out.push(RawMatch {
                rule: ri,
                start_byte: node.start_byte(),
                end_byte: node.end_byte(),
                line: start.row as u32 + 1,
                column: start.column as u32 + 1,
                end_line: node.end_position().row as u32 + 1,
            });
        }
    }
    out.sort_by_key(|m| (m.start_byte, m.rule));
    out
}

/// Run one rule's inline examples, once per grammar the rule's languages use (TypeScript, and
/// TSX for `.tsx`/`.js`). Returns the failures (empty when all pass).
pub fn check_examples(rule: &Rule) -> Vec<String> {
    let mut failures = Vec::new();
    let mut langs: Vec<Language> = Vec::new();
    for l in &rule.languages {
        if !langs.iter().any(|x| x.grammar() == l.grammar()) {
            langs.push(*l);
        }
    }
    for lang in langs {
        let run_one = |code: &str| -> usize {
            match parse(lang, code) {
                Some(tree) => run(&[rule], lang, &tree, code).len(),
                None => 0,
            }
        };
        for (i, code) in rule.examples.matching.iter().enumerate() {
            if run_one(code) == 0 {
                failures.push(format!(
                    "match example {} produced no finding ({}):\n{}",
                    i + 1,
                    lang.name(),
                    indent(code)
                ));
            }
        }
        for (i, code) in rule.examples.no_match.iter().enumerate() {
            let n = run_one(code);
            if n > 0 {
                failures.push(format!(
                    "no-match example {} produced {n} finding(s) ({}):\n{}",
                    i + 1,
                    lang.name(),
                    indent(code)
                ));
            }
        }
    }
    failures
}

fn indent(code: &str) -> String {
    code.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
