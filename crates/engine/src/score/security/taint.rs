//! Data flow inside a function: does a value that reaches a sink come from a source?
//!
//! The analysis is demand-driven and intra-procedural. A rule's sink pattern captures `@sink`,
//! the expression that must not carry tainted data; [`Flow::tainted`] evaluates that expression
//! backwards over the syntax tree:
//!
//! - a node matched by a **sanitizer** pattern is clean; a node matched by a **source** pattern
//!   is tainted (a source that captures a binding — a parameter, `catch (err)` — taints the
//!   variable it declares);
//! - a node matched by a **propagator** pattern (`@to`) is tainted when one of its `@from`
//!   captures is (`String(x)`, `x.trim()`, `parts.join()`, `path.join(root, x)`);
//! - the language's own forms propagate: string concatenation and template literals, object and
//!   array literals and spread, member access and indexing, `as` / `satisfies` / `!` / `<T>x` /
//!   parentheses, `await`, `?:`, `||` / `??`, assignments; in Rust field access, `&x`, `*x`, `x?`,
//!   `.await`, tuples, struct literals and `format!`-like macros (their arguments and inline
//!   `{name}` captures);
//! - an identifier is looked up in the enclosing functions (closures see their outer function):
//!   the last visible declaration before the use (`const`/`let`/`var`, destructuring, parameters,
//!   `for … of`, `catch`, Rust `let` and `if let` patterns), then every later assignment before
//!   the use — one at the declaration's level replaces the value, one under a condition or loop
//!   adds to it;
//! - anything else (a call of an unknown function, a literal, an import) is clean. With the
//!   `non-constant` source, everything that is not built from literals is tainted instead:
//!   parameters, imports, calls, `this.x` — constant-only strings never are.
//!
//! Calls are not followed into other functions (the analysis is intra-procedural), and control
//! flow is approximated by source order, which is what keeps it linear and predictable.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

/// Byte range of a node: the key under which pattern captures are recorded.
pub type Span = (usize, usize);

pub fn span(n: Node) -> Span {
    (n.start_byte(), n.end_byte())
}

/// What the taint patterns of one rule matched in one file.
#[derive(Debug, Default, Clone)]
pub struct Marks {
    pub sources: HashSet<Span>,
    pub sanitizers: HashSet<Span>,
    /// `@to` → its `@from` captures.
    pub propagators: HashMap<Span, Vec<Span>>,
    /// Everything not built from literals is tainted (`sources: [non-constant]`).
    pub non_constant: bool,
    /// The parameters of the enclosing functions are tainted (`sources: [parameters]`): the
    /// caller decides them.
    pub parameters: bool,
}

/// Where tainted data came from: the source node's first line and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub line: u32,
    pub text: String,
}

/// The evaluator for one file and one rule's marks.
pub struct Flow<'a> {
    root: Node<'a>,
    src: &'a [u8],
    marks: &'a Marks,
    /// Definitions being evaluated (cycle guard: `q = q + x`).
    active: HashSet<usize>,
    depth: usize,
}

const MAX_DEPTH: usize = 48;

/// Kinds that open a function scope (parameters, own locals).
fn is_function(kind: &str) -> bool {
    matches!(
        kind,
        "function_declaration"
            | "function_expression"
            | "function"
            | "generator_function_declaration"
            | "generator_function"
            | "arrow_function"
            | "method_definition"
            | "function_item"
            | "closure_expression"
    )
}

/// Kinds under which an assignment only may happen.
fn is_conditional(kind: &str) -> bool {
    matches!(
        kind,
        "if_statement"
            | "else_clause"
            | "switch_statement"
            | "switch_case"
            | "for_statement"
            | "for_in_statement"
            | "while_statement"
            | "do_statement"
            | "try_statement"
            | "catch_clause"
            | "ternary_expression"
            | "if_expression"
            | "match_expression"
            | "match_arm"
            | "for_expression"
            | "while_expression"
            | "loop_expression"
            | "binary_expression"
    )
}

/// A place where a name gets a value.
#[derive(Clone, Copy)]
struct Def<'t> {
    /// Start byte (definitions are ordered by it).
    at: usize,
    kind: DefKind,
    /// The value expression (None for parameters and `catch` bindings).
    value: Option<Node<'t>>,
    /// The binding identifier (for source checks on parameters).
    binding: Node<'t>,
    /// The statement or expression that defines it (for the conditional check).
    node: Node<'t>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DefKind {
    Declare,
    Assign,
    /// `+=`: adds to the value.
    Augment,
    Param,
}

impl<'a> Flow<'a> {
    pub fn new(root: Node<'a>, src: &'a [u8], marks: &'a Marks) -> Flow<'a> {
        Flow {
            root,
            src,
            marks,
            active: HashSet::new(),
            depth: 0,
        }
    }

    fn text(&self, n: Node) -> &'a str {
        n.utf8_text(self.src).unwrap_or("")
    }

    fn origin(&self, n: Node) -> Origin {
        let t = self.text(n);
        let first = t.lines().next().unwrap_or("").trim();
        let mut text: String = first.chars().take(80).collect();
        if first.chars().count() > 80 || t.lines().nth(1).is_some() {
            text.push('…');
        }
        Origin {
            line: n.start_position().row as u32 + 1,
            text,
        }
    }

    /// Unknown data: tainted only with the `non-constant` source.
    fn unknown(&self, n: Node) -> Option<Origin> {
        self.marks.non_constant.then(|| self.origin(n))
    }

    /// Whether `n` carries tainted data, and from where.
    pub fn tainted(&mut self, n: Node<'a>) -> Option<Origin> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = self.eval(n);
        self.depth -= 1;
        r
    }

    fn any(&mut self, nodes: impl IntoIterator<Item = Node<'a>>) -> Option<Origin> {
        for c in nodes {
            if let Some(o) = self.tainted(c) {
                return Some(o);
            }
        }
        None
    }

    fn named_children(n: Node<'a>) -> Vec<Node<'a>> {
        let mut c = n.walk();
        n.named_children(&mut c)
            .filter(|x| !x.kind().contains("comment"))
            .collect()
    }

    fn eval(&mut self, n: Node<'a>) -> Option<Origin> {
        let key = span(n);
        if self.marks.sanitizers.contains(&key) {
            return None;
        }
        if self.marks.sources.contains(&key) {
            return Some(self.origin(n));
        }
        if let Some(froms) = self.marks.propagators.get(&key) {
            let froms = froms.clone();
            for f in froms {
                if let Some(x) = self.root.descendant_for_byte_range(f.0, f.1) {
                    // The smallest node with exactly that range.
                    let x = widest_with_range(x, f);
                    if let Some(o) = self.tainted(x) {
                        return Some(o);
                    }
                }
            }
            return None;
        }
        let field = |name: &str| n.child_by_field_name(name);
        match n.kind() {
            // Literals never carry taint.
            "string" | "number" | "true" | "false" | "null" | "undefined" | "regex"
            | "string_literal" | "raw_string_literal" | "integer_literal" | "float_literal"
            | "boolean_literal" | "char_literal" | "unit_expression" => None,
            "template_string" => {
                let subs: Vec<Node> = Self::named_children(n)
                    .into_iter()
                    .filter(|c| c.kind() == "template_substitution")
                    .collect();
                self.any(subs)
            }
            "identifier" | "shorthand_property_identifier" => {
                let name = self.text(n);
                if matches!(name, "undefined" | "NaN" | "Infinity") {
                    return None;
                }
                self.resolve(name, n)
            }
            "self" => self.resolve("self", n),
            "this" | "super" => self.unknown(n),
            "member_expression" | "subscript_expression" => {
                let obj = field("object")?;
                let obj_text = self.text(obj);
                self.tainted(obj)
                    // `req` as a parameter says less than `req.body.address`.
                    .map(|o| {
                        if o.text == obj_text {
                            self.origin(n)
                        } else {
                            o
                        }
                    })
                    .or_else(|| {
                        // `this.x`, `config.cmd`: unknown data.
                        if self.marks.non_constant {
                            Some(self.origin(n))
                        } else {
                            None
                        }
                    })
            }
            "field_expression" => {
                let v = field("value")?;
                self.tainted(v)
            }
            "index_expression" => {
                let v = n.named_child(0)?;
                self.tainted(v)
            }
            "binary_expression" => {
                let op = field("operator").map(|o| self.text(o)).unwrap_or("");
                match op {
                    "+" | "||" | "??" | "&&" => {
                        let l = field("left");
                        let r = field("right");
                        self.any(l.into_iter().chain(r))
                    }
                    // Comparisons and arithmetic give numbers and booleans.
                    _ => None,
                }
            }
            "template_substitution"
            | "parenthesized_expression"
            | "await_expression"
            | "non_null_expression"
            | "spread_element"
            | "reference_expression"
            | "try_expression"
            | "as_expression"
            | "satisfies_expression"
            | "type_assertion"
            | "sequence_expression" => {
                // The value is the first named child that is not a type (the last for `a, b`).
                let kids: Vec<Node> = Self::named_children(n)
                    .into_iter()
                    .filter(|c| !is_type(c.kind()))
                    .collect();
                let pick = if n.kind() == "sequence_expression" {
                    kids.last().copied()
                } else {
                    kids.first().copied()
                };
                pick.and_then(|c| self.tainted(c))
            }
            "unary_expression" => {
                // `*x` propagates; `!x`, `-x`, `typeof x` give booleans, numbers, type names.
                let op = n.child(0).map(|o| self.text(o)).unwrap_or("");
                if op == "*" {
                    n.named_child(0).and_then(|c| self.tainted(c))
                } else {
                    None
                }
            }
            "ternary_expression" => {
                let c = field("consequence");
                let a = field("alternative");
                self.any(c.into_iter().chain(a))
            }
            "assignment_expression" | "augmented_assignment_expression" => {
                field("right").and_then(|r| self.tainted(r))
            }
            "object" | "array" | "tuple_expression" | "array_expression" => {
                let kids = Self::named_children(n);
                self.any(kids)
            }
            "pair" | "field_initializer" => field("value").and_then(|v| self.tainted(v)),
            "shorthand_field_initializer" => {
                let id = n.named_child(0)?;
                self.tainted(id)
            }
            "struct_expression" => {
                let body = field("body")?;
                let kids = Self::named_children(body);
                self.any(kids)
            }
            "base_field_initializer" => n.named_child(0).and_then(|c| self.tainted(c)),
            "macro_invocation" => self.macro_taint(n),
            "call_expression" | "new_expression" => {
                // Unknown calls: their result is clean (only propagators carry taint), or
                // unknown data for `non-constant`. A tagged template is a call too.
                self.unknown(n)
            }
            "jsx_expression" => n.named_child(0).and_then(|c| self.tainted(c)),
            _ => self.unknown(n),
        }
    }

    /// `format!("… {}", a)`, `format!("{a}")`: the arguments and inline captures.
    fn macro_taint(&mut self, n: Node<'a>) -> Option<Origin> {
        let name = n
            .child_by_field_name("macro")
            .map(|m| self.text(m))
            .unwrap_or("");
        let name = name.rsplit("::").next().unwrap_or(name);
        if !matches!(
            name,
            "format" | "format_args" | "concat" | "vec" | "write" | "writeln" | "print"
        ) {
            return self.unknown(n);
        }
        let mut out = None;
        let mut stack = vec![n];
        let mut ids: Vec<Node> = Vec::new();
        let mut inline: Vec<(String, Node)> = Vec::new();
        while let Some(x) = stack.pop() {
            match x.kind() {
                "identifier" if x.parent().map(|p| p.id()) != Some(n.id()) => ids.push(x),
                "string_literal" | "raw_string_literal" => {
                    for name in inline_captures(self.text(x)) {
                        inline.push((name, x));
                    }
                }
                _ => {
                    let mut c = x.walk();
                    stack.extend(x.children(&mut c));
                }
            }
        }
        for id in ids {
            // `a.b` in a token tree: the first identifier is the variable; skip field names
            // (an identifier right after a `.`).
            if id.prev_sibling().is_some_and(|p| self.text(p) == ".") {
                continue;
            }
            let name = self.text(id);
            if let Some(o) = self.resolve(name, id) {
                out = Some(o);
                break;
            }
        }
        if out.is_none() {
            for (name, at) in inline {
                if let Some(o) = self.resolve(&name, at) {
                    out = Some(o);
                    break;
                }
            }
        }
        out
    }

    /// The taint of `name` where `use_` reads it.
    fn resolve(&mut self, name: &str, use_: Node<'a>) -> Option<Origin> {
        let at = use_.start_byte();
        // Scopes from the innermost function outwards (the file last).
        let mut scope = enclosing_function(use_);
        loop {
            let (defs, owner) = match scope {
                Some(f) => (self.defs_in(f, name, at, use_), f),
                None => (self.defs_in(self.root, name, at, use_), self.root),
            };
            if !defs.is_empty() {
                return self.value_of(&defs, owner, use_);
            }
            match scope {
                Some(f) => scope = enclosing_function(f),
                None => break,
            }
        }
        // Not declared here: an import, a global, a name from another file.
        self.unknown(use_)
    }

    /// The definitions of `name` inside `scope` (not inside nested functions, except the
    /// parameters of `scope` itself) that come before `at` and are visible from `use_`.
    fn defs_in(&self, scope: Node<'a>, name: &str, at: usize, use_: Node<'a>) -> Vec<Def<'a>> {
        let mut out = Vec::new();
        // Parameters of the function itself.
        if scope.id() != self.root.id() {
            for p in params_of(scope) {
                let mut ids = Vec::new();
                bound_names(p, &mut ids);
                for id in ids {
                    if self.text(id) == name {
                        out.push(Def {
                            at: id.start_byte(),
                            kind: DefKind::Param,
                            value: None,
                            binding: id,
                            node: p,
                        });
                    }
                }
            }
        }
        let body = if scope.id() == self.root.id() {
            Some(scope)
        } else {
            scope.child_by_field_name("body")
        };
        let Some(body) = body else {
            return out;
        };
        let mut stack = vec![body];
        while let Some(x) = stack.pop() {
            if x.start_byte() >= at {
                continue;
            }
            if x.id() != body.id() && is_function(x.kind()) {
                continue;
            }
            match x.kind() {
                "variable_declarator" | "let_declaration" => {
                    let pat = x
                        .child_by_field_name("name")
                        .or_else(|| x.child_by_field_name("pattern"));
                    if let Some(pat) = pat {
                        let mut ids = Vec::new();
                        bound_names(pat, &mut ids);
                        if let Some(id) = ids.into_iter().find(|i| self.text(*i) == name) {
                            if visible(x, use_) {
                                out.push(Def {
                                    at: x.start_byte(),
                                    kind: DefKind::Declare,
                                    value: x.child_by_field_name("value"),
                                    binding: id,
                                    node: x,
                                });
                            }
                        }
                    }
                }
                "let_condition" => {
                    if let Some(pat) = x.child_by_field_name("pattern") {
                        let mut ids = Vec::new();
                        bound_names(pat, &mut ids);
                        if let Some(id) = ids.into_iter().find(|i| self.text(*i) == name) {
                            if x.parent().is_some_and(|p| contains(p, use_)) {
                                out.push(Def {
                                    at: x.start_byte(),
                                    kind: DefKind::Declare,
                                    value: x.child_by_field_name("value"),
                                    binding: id,
                                    node: x,
                                });
                            }
                        }
                    }
                }
                "for_in_statement" | "for_expression" => {
                    let pat = x
                        .child_by_field_name("left")
                        .or_else(|| x.child_by_field_name("pattern"));
                    let val = x
                        .child_by_field_name("right")
                        .or_else(|| x.child_by_field_name("value"));
                    if let Some(pat) = pat {
                        let mut ids = Vec::new();
                        bound_names(pat, &mut ids);
                        if let Some(id) = ids.into_iter().find(|i| self.text(*i) == name) {
                            if contains(x, use_) {
                                out.push(Def {
                                    at: x.start_byte(),
                                    kind: DefKind::Declare,
                                    value: val,
                                    binding: id,
                                    node: x,
                                });
                            }
                        }
                    }
                }
                "catch_clause" => {
                    if let Some(p) = x.child_by_field_name("parameter") {
                        let mut ids = Vec::new();
                        bound_names(p, &mut ids);
                        if let Some(id) = ids.into_iter().find(|i| self.text(*i) == name) {
                            if contains(x, use_) {
                                out.push(Def {
                                    at: p.start_byte(),
                                    kind: DefKind::Param,
                                    value: None,
                                    binding: id,
                                    node: p,
                                });
                            }
                        }
                    }
                }
                "assignment_expression"
                | "augmented_assignment_expression"
                | "compound_assignment_expr" => {
                    if let Some(left) = x.child_by_field_name("left") {
                        if left.kind() == "identifier" && self.text(left) == name {
                            let aug = x.kind() != "assignment_expression";
                            out.push(Def {
                                at: x.start_byte(),
                                kind: if aug {
                                    DefKind::Augment
                                } else {
                                    DefKind::Assign
                                },
                                value: x.child_by_field_name("right"),
                                binding: left,
                                node: x,
                            });
                        }
                    }
                }
                _ => {}
            }
            let mut c = x.walk();
            stack.extend(x.children(&mut c));
        }
        out.sort_by_key(|d| d.at);
        out
    }

    /// The value of a variable from its definitions (in source order) at `use_`.
    fn value_of(&mut self, defs: &[Def<'a>], scope: Node<'a>, use_: Node<'a>) -> Option<Origin> {
        // The last declaration (or parameter) starts the chain; assignments before it belong to
        // an earlier binding of the same name.
        let start = defs
            .iter()
            .rposition(|d| matches!(d.kind, DefKind::Declare | DefKind::Param))
            .unwrap_or(0);
        let mut state: Option<Origin> = None;
        for (i, d) in defs.iter().enumerate().skip(start) {
            // A definition that contains the use (`q = q + x`, `const x = f(x)`) reads the
            // previous value: it is not a definition of this use.
            if contains(d.node, use_) && d.kind != DefKind::Param {
                continue;
            }
            if !self.active.insert(d.node.id()) {
                continue;
            }
            let v = match (d.kind, d.value) {
                (DefKind::Param, _) => self.binding_taint(d.binding, d.node),
                (_, Some(v)) => self.tainted(v),
                (_, None) => None,
            };
            self.active.remove(&d.node.id());
            let strong =
                i == start || (d.kind == DefKind::Assign && !under_condition(d.node, scope, use_));
            state = if strong { v } else { state.or(v) };
        }
        state
    }

    /// A parameter or `catch` binding: tainted when a source pattern captured it (or the
    /// pattern, parameter or parameter list around it).
    fn binding_taint(&self, id: Node<'a>, param: Node<'a>) -> Option<Origin> {
        let mut n = Some(id);
        while let Some(x) = n {
            if self.marks.sources.contains(&span(x)) {
                return Some(self.origin(id));
            }
            if x.id() == param.id() {
                break;
            }
            n = x.parent();
        }
        // The parameter list itself.
        if let Some(p) = param.parent() {
            if self.marks.sources.contains(&span(p)) {
                return Some(self.origin(id));
            }
        }
        // Parameters are unknown data for `non-constant`, and sources for `parameters` (not a
        // `catch` binding, which the code itself produces).
        let is_catch = param.parent().is_some_and(|p| p.kind() == "catch_clause");
        if self.marks.parameters && !is_catch {
            return Some(self.origin(id));
        }
        self.unknown(id)
    }
}

fn is_type(kind: &str) -> bool {
    kind.ends_with("_type")
        || matches!(
            kind,
            "type_annotation"
                | "type_identifier"
                | "predefined_type"
                | "type_arguments"
                | "generic_type"
                | "primitive_type"
        )
}

/// The node with range `s` that is the widest one starting at `n` going up.
fn widest_with_range(n: Node, s: Span) -> Node {
    let mut best = n;
    let mut cur = n.parent();
    while let Some(p) = cur {
        if span(p) == s {
            best = p;
            cur = p.parent();
        } else {
            break;
        }
    }
    best
}

/// Names inside a Rust format string: `{name}`, `{name:?}`, `{name:>8}` (not `{}`, `{0}`, `{{`).
fn inline_captures(lit: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = lit.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if b.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && !b[start].is_ascii_digit() && matches!(b.get(j), Some(b'}' | b':')) {
                out.push(lit[start..j].to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// The innermost function-like node strictly around `n`.
fn enclosing_function(n: Node) -> Option<Node> {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if is_function(p.kind()) {
            return Some(p);
        }
        cur = p.parent();
    }
    None
}

/// Whether a declaration is visible at `use_`: its block (or the statement list it is in)
/// contains the use.
fn visible(decl: Node, use_: Node) -> bool {
    let mut cur = decl.parent();
    while let Some(p) = cur {
        match p.kind() {
            "statement_block" | "block" | "program" | "source_file" | "switch_body"
            | "class_body" => return contains(p, use_),
            k if is_function(k) => return contains(p, use_),
            _ => cur = p.parent(),
        }
    }
    true
}

/// Whether an assignment sits under a condition or loop (below `scope`) that does not also
/// contain the use: then it only may have happened.
fn under_condition(node: Node, scope: Node, use_: Node) -> bool {
    let mut cur = node.parent();
    while let Some(p) = cur {
        if p.id() == scope.id() {
            return false;
        }
        if is_conditional(p.kind()) && !contains(p, use_) {
            return true;
        }
        cur = p.parent();
    }
    false
}

/// The parameter nodes of a function-like node.
fn params_of(f: Node) -> Vec<Node> {
    let mut out = Vec::new();
    if let Some(p) = f.child_by_field_name("parameter") {
        // `x => …`
        out.push(p);
    }
    if let Some(ps) = f.child_by_field_name("parameters") {
        let mut c = ps.walk();
        out.extend(
            ps.named_children(&mut c)
                .filter(|x| !x.kind().contains("comment")),
        );
    }
    out
}

/// The identifiers a pattern binds (`x`, `{ a, b: c, ...rest }`, `[x, y]`, `Json(p)`, `(a, b)`,
/// `Foo { a, b: c }`, `mut x`, `&x`). Types and default values are skipped.
fn bound_names<'t>(pat: Node<'t>, out: &mut Vec<Node<'t>>) {
    bound_names_at(pat, out, 0);
}

/// [`bound_names`], at most 64 patterns deep.
fn bound_names_at<'t>(pat: Node<'t>, out: &mut Vec<Node<'t>>, depth: usize) {
    if depth > 64 {
        return;
    }
    let bound_names = |p: Node<'t>, out: &mut Vec<Node<'t>>| bound_names_at(p, out, depth + 1);
    match pat.kind() {
        "identifier" | "shorthand_property_identifier_pattern" => out.push(pat),
        "required_parameter" | "optional_parameter" => {
            if let Some(p) = pat.child_by_field_name("pattern") {
                bound_names(p, out);
            }
        }
        "parameter" => {
            if let Some(p) = pat.child_by_field_name("pattern") {
                bound_names(p, out);
            }
        }
        "pair_pattern" => {
            if let Some(v) = pat.child_by_field_name("value") {
                bound_names(v, out);
            }
        }
        "object_assignment_pattern" | "assignment_pattern" => {
            if let Some(l) = pat.child_by_field_name("left") {
                bound_names(l, out);
            }
        }
        "field_pattern" => {
            // `Foo { a }` binds `a`; `Foo { a: b }` binds `b`.
            match pat.child_by_field_name("pattern") {
                Some(p) => bound_names(p, out),
                None => {
                    if let Some(n) = pat.child_by_field_name("name") {
                        out.push(n);
                    }
                }
            }
        }
        "tuple_struct_pattern" => {
            // The first child is the constructor path (`Json`), not a binding.
            let mut c = pat.walk();
            for (i, k) in pat.named_children(&mut c).enumerate() {
                if i > 0 {
                    bound_names(k, out);
                }
            }
        }
        "struct_pattern" => {
            let mut c = pat.walk();
            for k in pat.named_children(&mut c) {
                if k.kind() == "field_pattern" {
                    bound_names(k, out);
                }
            }
        }
        "type_annotation" | "type_identifier" | "scoped_type_identifier" | "generic_type" => {}
        _ => {
            if pat.kind().ends_with("_type") {
                return;
            }
            let mut c = pat.walk();
            for k in pat.named_children(&mut c) {
                bound_names(k, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_format_captures() {
        assert_eq!(
            inline_captures("\"SELECT {name} {0} {} {{x}} {a_b:?}\""),
            vec!["name".to_string(), "a_b".to_string()]
        );
    }
}
