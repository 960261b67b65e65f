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

use super::fingerprint;
use super::rules::{ConditionKind, Grammar, Language, Rule, RuleError, SetKind};
use super::taint::{self, Flow, Marks, Origin};

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
    /// The enclosing items (see [`fingerprint::item_path`]).
    pub item: String,
    /// The normalised anchor (the rule's `anchor` capture, or the call or keyword).
    pub anchor: String,
    /// The whole match, normalised (tells equal identities apart when matching base and head).
    pub norm: String,
    /// For a taint finding: where the data came from.
    pub origin: Option<Origin>,
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
    Taint(SetKind),
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
    /// `@source`, `@sanitizer`, `@to`, `@from`.
    taint_ix: [Option<u32>; 4],
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
            let parts = std::iter::once((r.query_text.as_str(), Role::Main))
                .chain(
                    r.conds
                        .iter()
                        .enumerate()
                        .map(|(ci, c)| (c.text.as_str(), Role::Cond(ci))),
                )
                .chain(
                    r.taint
                        .iter()
                        .flat_map(|t| t.patterns(g))
                        .map(|(k, p)| (p.text.as_str(), Role::Taint(k))),
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
                        Role::Taint(k) => format!("a {} pattern", k.name()),
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
            taint_ix: [
                query.capture_index_for_name("source"),
                query.capture_index_for_name("sanitizer"),
                query.capture_index_for_name("to"),
                query.capture_index_for_name("from"),
            ],
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
    let mut marks: Vec<Marks> = rules
        .iter()
        .map(|r| Marks {
            non_constant: r.taint.as_ref().is_some_and(|t| t.non_constant),
            parameters: r.taint.as_ref().is_some_and(|t| t.parameters),
            ..Marks::default()
        })
        .collect();
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
                Role::Taint(kind) => {
                    let [src_ix, san_ix, to_ix, from_ix] = combined.taint_ix;
                    let caps = m.captures();
                    let of = |ix: Option<u32>| {
                        caps.iter()
                            .filter(move |c| Some(c.index) == ix)
                            .map(|c| taint::span(c.node))
                    };
                    let mk = &mut marks[ri];
                    match kind {
                        SetKind::Source => mk.sources.extend(of(src_ix)),
                        SetKind::Sanitizer => mk.sanitizers.extend(of(san_ix)),
                        SetKind::Propagator => {
                            let froms: Vec<_> = of(from_ix).collect();
                            for to in of(to_ix) {
                                mk.propagators
                                    .entry(to)
                                    .or_default()
                                    .extend(froms.iter().copied());
                            }
                        }
                    }
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
    let mut imports: Option<Imports> = None;
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
            // The callee must come from the named module.
            if let Some(check) = &rule.callee_from {
                let Some(callee) = caps.get(&check.capture).and_then(|v| v.first()) else {
                    continue;
                };
                let imports = imports.get_or_insert_with(|| Imports::of(root, src));
                if !imports.callee_from(*callee, src, check) {
                    continue;
                }
            }
            // A pattern with a sink reports only tainted data.
            let origin = match caps.get("sink") {
                Some(sinks) if rule.taint.is_some() => {
                    let mut flow = Flow::new(root, src, &marks[ri]);
                    let Some(o) = sinks.iter().find_map(|s| flow.tainted(*s)) else {
                        continue;
                    };
                    Some(o)
                }
                _ => None,
            };
            seen.insert((node.start_byte(), node.end_byte()));
            let start = node.start_position();
            let anchor = match rule.anchor.as_deref().and_then(|a| caps.get(a)?.first()) {
                Some(a) => fingerprint::normalised(*a, src),
                None => fingerprint::default_anchor(*node, src),
            };
            out.push(RawMatch {
                rule: ri,
                start_byte: node.start_byte(),
                end_byte: node.end_byte(),
                line: start.row as u32 + 1,
                column: start.column as u32 + 1,
                end_line: node.end_position().row as u32 + 1,
                item: fingerprint::item_path(*node, src),
                anchor,
                norm: fingerprint::normalised(*node, src),
                origin,
            });
        }
    }
    out.sort_by_key(|m| (m.start_byte, m.rule));
    out
}

/// The module bindings of a file: `import { a as b } from "m"`, `import * as ns from "m"`,
/// `import d from "m"`, `const { a: b } = require("m")`, `const ns = require("m")`,
/// `const b = require("m").a`.
#[derive(Debug, Default)]
struct Imports {
    /// local name → (module, exported name)
    named: HashMap<String, (String, String)>,
    /// local name → module (namespace or default binding)
    namespaces: HashMap<String, String>,
}

impl Imports {
    fn of(root: Node, src: &[u8]) -> Imports {
        let text = |n: Node| n.utf8_text(src).unwrap_or("").to_string();
        let unquote = |n: Node| {
            let t = text(n);
            t.trim_matches(|c| c == '"' || c == '\'' || c == '`')
                .to_string()
        };
        // `require("m")` → m
        let required = |n: Node| -> Option<String> {
            if n.kind() != "call_expression" {
                return None;
            }
            let f = n.child_by_field_name("function")?;
            if f.kind() != "identifier" || text(f) != "require" {
                return None;
            }
            let arg = n.child_by_field_name("arguments")?.named_child(0)?;
            (arg.kind() == "string").then(|| unquote(arg))
        };
        let mut out = Imports::default();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "import_statement" => {
                    let Some(m) = n.child_by_field_name("source").map(unquote) else {
                        continue;
                    };
                    let mut inner = vec![n];
                    while let Some(x) = inner.pop() {
                        match x.kind() {
                            "import_specifier" => {
                                let name = x.child_by_field_name("name").map(text);
                                let alias = x.child_by_field_name("alias").map(text);
                                if let Some(name) = name {
                                    let local = alias.unwrap_or_else(|| name.clone());
                                    out.named.insert(local, (m.clone(), name));
                                }
                            }
                            "namespace_import" => {
                                if let Some(id) = x.named_child(0) {
                                    out.namespaces.insert(text(id), m.clone());
                                }
                            }
                            "import_clause" => {
                                let mut c = x.walk();
                                for k in x.named_children(&mut c) {
                                    if k.kind() == "identifier" {
                                        out.namespaces.insert(text(k), m.clone());
                                    } else {
                                        inner.push(k);
                                    }
                                }
                            }
                            _ => {
                                let mut c = x.walk();
                                inner.extend(x.named_children(&mut c));
                            }
                        }
                    }
                    continue;
                }
                "variable_declarator" => {
                    if let (Some(name), Some(value)) = (
                        n.child_by_field_name("name"),
                        n.child_by_field_name("value"),
                    ) {
                        if let Some(m) = required(value) {
                            match name.kind() {
                                "identifier" => {
                                    out.namespaces.insert(text(name), m);
                                }
                                "object_pattern" => {
                                    let mut c = name.walk();
                                    for p in name.named_children(&mut c) {
                                        match p.kind() {
                                            "shorthand_property_identifier_pattern" => {
                                                out.named.insert(text(p), (m.clone(), text(p)));
                                            }
                                            "pair_pattern" => {
                                                if let (Some(k), Some(v)) = (
                                                    p.child_by_field_name("key"),
                                                    p.child_by_field_name("value"),
                                                ) {
                                                    out.named.insert(text(v), (m.clone(), text(k)));
                                                }
                                            }
                                            _ => {}
                                        }
                                    }
                                }
                                _ => {}
                            }
                        } else if value.kind() == "member_expression" && name.kind() == "identifier"
                        {
                            // `const exec = require("child_process").exec`
                            if let (Some(obj), Some(prop)) = (
                                value.child_by_field_name("object"),
                                value.child_by_field_name("property"),
                            ) {
                                if let Some(m) = required(obj) {
                                    out.named.insert(text(name), (m, text(prop)));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        out
    }

    /// Whether `callee` (an identifier or `ns.name`, `require("m").name`) is an export of a
    /// module `check` accepts, with a name it accepts.
    fn callee_from(&self, callee: Node, src: &[u8], check: &super::rules::CalleeCheck) -> bool {
        let text = |n: Node| n.utf8_text(src).unwrap_or("").to_string();
        match callee.kind() {
            "identifier" => self
                .named
                .get(&text(callee))
                .is_some_and(|(m, name)| check.module.is_match(m) && check.names.is_match(name)),
            "member_expression" => {
                let (Some(obj), Some(prop)) = (
                    callee.child_by_field_name("object"),
                    callee.child_by_field_name("property"),
                ) else {
                    return false;
                };
                if !check.names.is_match(&text(prop)) {
                    return false;
                }
                match obj.kind() {
                    "identifier" => self
                        .namespaces
                        .get(&text(obj))
                        .is_some_and(|m| check.module.is_match(m)),
                    "call_expression" => {
                        let f = obj.child_by_field_name("function");
                        let arg = obj
                            .child_by_field_name("arguments")
                            .and_then(|a| a.named_child(0));
                        f.is_some_and(|f| text(f) == "require")
                            && arg.is_some_and(|a| {
                                check.module.is_match(
                                    text(a).trim_matches(|c| c == '"' || c == '\'' || c == '`'),
                                )
                            })
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
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

/// Run a taint set's inline examples: every `match` example must give at least one capture of
/// the set's key capture (`@source`, `@sanitizer`, `@to`), every `no-match` example none.
pub fn check_set_examples(set: &super::rules::TaintSet) -> Vec<String> {
    let mut failures = Vec::new();
    let key = set.kind.captures()[0];
    let mut langs: Vec<Language> = Vec::new();
    for l in &set.languages {
        if !langs.iter().any(|x| x.grammar() == l.grammar()) {
            langs.push(*l);
        }
    }
    if set.examples.matching.is_empty() || set.examples.no_match.is_empty() {
        failures.push("needs at least one match and one no-match example".to_string());
    }
    for lang in langs {
        let g = lang.grammar();
        let text = set.patterns.join("\n");
        let query = match Query::new(&g.language(), &text) {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!(
                    "the patterns do not compile for {g:?} at line {}: {}",
                    e.row + 1,
                    e.message.trim()
                ));
                continue;
            }
        };
        for c in set.kind.captures() {
            if query.capture_index_for_name(c).is_none() {
                failures.push(format!("the patterns must capture `@{c}`"));
            }
        }
        let Some(ix) = query.capture_index_for_name(key) else {
            continue;
        };
        let count = |code: &str| -> usize {
            let Some(tree) = parse(lang, code) else {
                return 0;
            };
            let mut cursor = QueryCursor::new();
            let mut n = 0;
            let mut it = cursor.matches(&query, tree.root_node(), code.as_bytes());
            while let Some(m) = it.next() {
                n += m.captures().iter().filter(|c| c.index == ix).count();
            }
            n
        };
        for (i, code) in set.examples.matching.iter().enumerate() {
            if count(code) == 0 {
                failures.push(format!(
                    "match example {} has no @{key} ({}):\n{}",
                    i + 1,
                    lang.name(),
                    indent(code)
                ));
            }
        }
        for (i, code) in set.examples.no_match.iter().enumerate() {
            let n = count(code);
            if n > 0 {
                failures.push(format!(
                    "no-match example {} has {n} @{key} ({}):\n{}",
                    i + 1,
                    lang.name(),
                    indent(code)
                ));
            }
        }
    }
    failures
}
