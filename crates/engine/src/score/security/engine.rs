//! Matching: run compiled rules over one parsed file.
//!
//! A file is parsed once and every rule for its language runs over that one tree, in one pass of
//! one [`Combined`] query that holds every rule's query and condition queries. A rule's patterns
//! yield candidate matches; each candidate's `@match` node is then checked against the rule's
//! conditions, from the matches of the condition patterns in the same pass:
//!
//! - `inside` / `not-inside`: some strict ancestor of the node is the node of a match of the
//!   condition query (its `@cond` capture, else the widest capture of that match).
//! - `has` / `not-has`: a match of the condition query lies within the node (all its captures
//!   inside the node's byte range, the node itself included).
//! - `same`: the texts of the named captures agree (the condition's capture equals the rule's
//!   capture, or an identifier inside it).
//!
//! Several patterns of one query can match the same node: a node is reported once per rule.

use std::collections::{HashMap, HashSet};

use streaming_iterator::StreamingIterator;
use tree_sitter::{Node, Parser, Query, QueryCursor, Tree};

use super::rules::{ConditionKind, Grammar, Language, Rule, RuleError};

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
    hit: &CondHit,
    names: &[&str],
    src: &[u8],
) -> bool {
    same.iter().all(|(a, b)| {
        let cond_texts: Vec<&str> = hit
            .captures
            .iter()
            .filter(|(i, _)| names[*i as usize] == b.as_str())
            .map(|(_, n)| n.utf8_text(src).unwrap_or(""))
            .collect();
        if cond_texts.is_empty() {
            return false;
        }
        main.get(a).into_iter().flatten().any(|n| {
            let ids = identifier_texts(*n, src);
            cond_texts.iter().any(|t| ids.contains(*t))
        })
    })
}

/// What a pattern of a combined query belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Main,
    Cond(usize),
}

/// Every query of a set of rules (main queries and conditions) compiled into one tree-sitter query
/// for one grammar.
///
/// Compiling a query against a large grammar has a high fixed cost (tree-sitter analyses it
/// against the whole parse table), and a match pass walks the tree once per query. One query per
/// grammar pays the fixed cost once and walks each tree once for all rules. Each pattern is mapped
/// back to its rule and role by its start offset in the concatenated source.
pub struct Combined {
    query: Query,
    /// `(rule index, role)` of each pattern: every rule that uses it.
    owners: Vec<Vec<(usize, Role)>>,
    /// Capture index of `@match` / `@cond` in the combined query.
    match_ix: Option<u32>,
    cond_ix: Option<u32>,
    grammar: Grammar,
}

impl Combined {
    /// Combine the queries of `rules` (those with a language of grammar `g`).
    pub fn build(rules: &[&Rule], g: Grammar) -> Result<Combined, RuleError> {
        let mut text = String::new();
        // (start byte, owners): a query text used by several rules (a common condition such as
        // "has an identifier") is compiled once and its matches feed every owner.
        let mut segments: Vec<(usize, Vec<(usize, Role)>)> = Vec::new();
        let mut by_text: HashMap<&str, usize> = HashMap::new();
        for (ri, r) in rules.iter().enumerate() {
            if !r.languages.iter().any(|l| l.grammar() == g) {
                continue;
            }
            let parts = std::iter::once((r.query_text.as_str(), Role::Main)).chain(
                r.conds
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| (c.text.as_str(), Role::Cond(ci))),
            );
            for (q, role) in parts {
                if let Some(&i) = by_text.get(q.trim()) {
                    segments[i].1.push((ri, role));
                    continue;
                }
                by_text.insert(q.trim(), segments.len());
                segments.push((text.len(), vec![(ri, role)]));
                text.push_str(q);
                text.push('\n');
            }
        }
        let owner_at = |offset: usize| -> Option<(&Vec<(usize, Role)>, usize)> {
            let i = segments.partition_point(|s| s.0 <= offset).checked_sub(1)?;
            Some((&segments[i].1, segments[i].0))
        };
        let query = Query::new(&g.language(), &text).map_err(|e| {
            let (rule, what, row) = match owner_at(e.offset) {
                Some((owners, start)) => {
                    let (ri, role) = owners[0];
                    let row = text[start..e.offset.min(text.len())].matches('\n').count() + 1;
                    let what = match role {
                        Role::Main => "the query".to_string(),
                        Role::Cond(c) => format!("condition {}", c + 1),
                    };
                    (Some(rules[ri]), what, row)
                }
                None => (None, "a query".to_string(), e.row + 1),
            };
            RuleError {
                source: rule.map(|r| r.source.clone()).unwrap_or_default(),
                line: None,
                rule: rule.map(|r| r.id.clone()),
                message: format!(
                    "{what} does not compile for {g:?} at query line {row}: {:?} error: {}",
                    e.kind,
                    e.message.trim()
                ),
            }
        })?;
        let mut owners = Vec::with_capacity(query.pattern_count());
        for p in 0..query.pattern_count() {
            let (o, _) = owner_at(query.start_byte_for_pattern(p)).ok_or_else(|| RuleError {
                source: String::new(),
                line: None,
                rule: None,
                message: format!("pattern {p} of the combined query has no rule"),
            })?;
            owners.push(o.clone());
        }
        Ok(Combined {
            match_ix: query.capture_index_for_name("match"),
            cond_ix: query.capture_index_for_name("cond"),
            query,
            owners,
            grammar: g,
        })
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    pub fn grammar(&self) -> Grammar {
        self.grammar
    }
}

/// A candidate: the `@match` node and every capture of its match, by name.
type Candidate<'t> = (Node<'t>, HashMap<String, Vec<Node<'t>>>);

/// A match of a condition pattern.
struct CondHit<'t> {
    /// `@cond`, else the widest capture.
    node: usize,
    start: usize,
    end: usize,
    /// Captures as (capture index, node); texts are read only when a `same` needs them.
    captures: Vec<(u32, Node<'t>)>,
}

/// Run `rules` over one parsed file with their combined query (built from the same `rules`).
pub fn run(
    rules: &[&Rule],
    combined: &Combined,
    lang: Language,
    tree: &Tree,
    source: &str,
) -> Vec<RawMatch> {
    let src = source.as_bytes();
    let root = tree.root_node();
    let query = &combined.query;
    let names = query.capture_names();
    // One pass over the tree for every pattern of every rule.
    let mut candidates: Vec<Vec<Candidate>> = vec![Vec::new(); rules.len()];
    let mut hits: HashMap<(usize, usize), Vec<CondHit>> = HashMap::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, root, src);
    while let Some(m) = matches.next() {
        for &(ri, role) in &combined.owners[m.pattern_index] {
            if !rules[ri].applies_to(lang) {
                continue;
            }
            match role {
                Role::Main => {
                    let Some(target) = m
                        .captures()
                        .iter()
                        .find(|c| Some(c.index) == combined.match_ix)
                    else {
                        continue;
                    };
                    let mut caps: HashMap<String, Vec<Node>> = HashMap::new();
                    for c in m.captures() {
                        caps.entry(names[c.index as usize].to_string())
                            .or_default()
                            .push(c.node);
                    }
                    candidates[ri].push((target.node, caps));
                }
                Role::Cond(ci) => {
                    let caps = m.captures();
                    let node = caps
                        .iter()
                        .find(|c| Some(c.index) == combined.cond_ix)
                        .map(|c| c.node)
                        .or_else(|| {
                            caps.iter().map(|c| c.node).max_by_key(|n| {
                                (
                                    n.end_byte() - n.start_byte(),
                                    std::cmp::Reverse(n.start_byte()),
                                )
                            })
                        });
                    let Some(node) = node else {
                        continue;
                    };
                    hits.entry((ri, ci)).or_default().push(CondHit {
                        node: node.id(),
                        start: caps.iter().map(|c| c.node.start_byte()).min().unwrap_or(0),
                        end: caps.iter().map(|c| c.node.end_byte()).max().unwrap_or(0),
                        captures: caps.iter().map(|c| (c.index, c.node)).collect(),
                    });
                }
            }
        }
    }
    // Index the condition hits once, so that checking a candidate costs what it finds rather
    // than a scan of every hit: by start byte for `has` (hits inside the node's span), by node
    // for `inside` (an ancestor's hits). A file with tens of thousands of findings stays linear.
    let mut by_node: HashMap<(usize, usize), HashMap<usize, Vec<usize>>> = HashMap::new();
    for (k, list) in hits.iter_mut() {
        list.sort_by_key(|h| (h.start, h.end));
        let index = by_node.entry(*k).or_default();
        for (i, h) in list.iter().enumerate() {
            index.entry(h.node).or_default().push(i);
        }
    }
    let none: Vec<CondHit> = Vec::new();
    let no_nodes: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut out = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        for (node, caps) in &candidates[ri] {
            if seen.contains(&(node.start_byte(), node.end_byte())) {
                continue;
            }
            let ok = rule.conds.iter().enumerate().all(|(ci, cond)| {
                let Some(of) = caps.get(&cond.of).and_then(|v| v.first()).copied() else {
                    return false;
                };
                let list = hits.get(&(ri, ci)).unwrap_or(&none);
                let holds = match cond.kind {
                    ConditionKind::Inside | ConditionKind::NotInside => {
                        let nodes = by_node.get(&(ri, ci)).unwrap_or(&no_nodes);
                        let mut found = false;
                        let mut anc = of.parent();
                        while let Some(a) = anc {
                            let at = nodes.get(&a.id()).map(Vec::as_slice).unwrap_or(&[]);
                            if at
                                .iter()
                                .any(|&i| same_ok(&cond.same, caps, &list[i], names, src))
                            {
                                found = true;
                                break;
                            }
                            anc = a.parent();
                        }
                        found
                    }
                    ConditionKind::Has | ConditionKind::NotHas => {
                        let (start, end) = (of.start_byte(), of.end_byte());
                        let from = list.partition_point(|h| h.start < start);
                        list[from..]
                            .iter()
                            .take_while(|h| h.start <= end)
                            .any(|h| h.end <= end && same_ok(&cond.same, caps, h, names, src))
                    }
                };
                holds == matches!(cond.kind, ConditionKind::Inside | ConditionKind::Has)
            });
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
        let combined = match Combined::build(&[rule], lang.grammar()) {
            Ok(c) => c,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        let run_one = |code: &str| -> usize {
            match parse(lang, code) {
                Some(tree) => run(&[rule], &combined, lang, &tree, code).len(),
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
