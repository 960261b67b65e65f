//! Rust symbols (see [`super::symbols`]), from a tree-sitter parse.
//!
//! Declarations are the items of the file and of its inline modules (qualified by the module
//! path: `tests::helper`), with their visibility; an `impl` block gives one declaration for its
//! header (`impl Display for Shape`) and one per member (`Shape::area`), all owned by the type
//! they implement, written as a path that resolution follows (the type may live in another file).
//! Outer attributes (`#[derive(…)]`) belong to their item; doc comments do not.
//!
//! References are paths as written (`helper`, `Shape`, `crate::a::f`, `m::T`), resolved later in
//! the declaration's module by the Rust resolver, plus `self.m()` and `Self::m` as uses of the
//! owner's members. Macro arguments are token trees: they are scanned for paths too. A `use` line
//! that changes what a name refers to changes every declaration that uses the name.

use std::collections::HashMap;

use tree_sitter::{Node, Parser};

use super::rust::{flatten_use, path_segments, UseBinding};
use super::symbols::{Decl, DeclKind, Hashes, Ref, RefAt, Scope, Symbols, Unknown, Vis};

thread_local! {
    static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
}

pub fn extract(source: &str) -> Symbols {
    let tree = PARSER.with(|cell| {
        let mut p = cell.borrow_mut();
        if p.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_rust::LANGUAGE.into())
                .ok()?;
            *p = Some(parser);
        }
        p.as_mut()?.parse(source, None)
    });
    let Some(tree) = tree else {
        return Symbols {
            syntax_errors: true,
            ..Symbols::default()
        };
    };
    let root = tree.root_node();
    let mut r = Reader {
        src: source.as_bytes(),
        syms: Symbols::default(),
        parts: Vec::new(),
        by_name: HashMap::new(),
        uses: HashMap::new(),
        refs: Vec::new(),
        members: Vec::new(),
        test_scopes: Vec::new(),
        nesting: 0,
    };
    r.items(root, 0, "");
    r.hash_and_refs();
    r.syms
}

#[derive(Clone, Copy)]
struct Part<'t> {
    node: Node<'t>,
    /// An `impl` header: its members are declarations of their own.
    header_only: bool,
}

struct Reader<'s, 't> {
    src: &'s [u8],
    syms: Symbols,
    /// Each declaration's nodes (attributes, then the item).
    parts: Vec<Vec<Part<'t>>>,
    /// (scope, qualified name) → declaration.
    by_name: HashMap<(u32, String), u32>,
    /// (scope, bound name) → the path its `use` names.
    uses: HashMap<(u32, String), String>,
    refs: Vec<RefAt>,
    /// Member names the declaration being walked accesses (`x.m`, `T::m`).
    members: Vec<String>,
    /// Whether each inline module (scope `i + 1`) is test code (`#[cfg(test)]`).
    test_scopes: Vec<bool>,
    /// How many inline modules enclose the items being read.
    nesting: usize,
}

/// Inline modules nested deeper than this are not read (the resolver's cap,
/// `resolve::rust::MAX_INLINE_DEPTH`, is the same).
const MAX_MODULE_NESTING: usize = 64;

fn line(n: Node) -> u32 {
    n.start_position().row as u32 + 1
}

fn end_line(n: Node) -> u32 {
    n.end_position().row as u32 + 1
}

fn visibility(node: Node, src: &[u8]) -> Vis {
    let mut c = node.walk();
    let v = node
        .children(&mut c)
        .find(|n| n.kind() == "visibility_modifier");
    match v {
        None => Vis::Private,
        Some(v) => {
            let t: String = v
                .utf8_text(src)
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            match t.as_str() {
                "pub" => Vis::Public,
                "pub(super)" => Vis::Super,
                "pub(self)" => Vis::Private,
                _ => Vis::Crate,
            }
        }
    }
}

/// The path of an `impl`'s type: `Foo<T>` → `Foo`, `crate::a::Foo` → `crate::a::Foo`,
/// `&'a Foo` → `Foo`.
fn type_path(node: Node, src: &[u8]) -> Vec<String> {
    let mut n = node;
    loop {
        match n.kind() {
            "generic_type" => match n.child_by_field_name("type") {
                Some(t) => n = t,
                None => return Vec::new(),
            },
            "reference_type" | "pointer_type" => match n.child_by_field_name("type") {
                Some(t) => n = t,
                None => return Vec::new(),
            },
            "type_identifier" | "scoped_type_identifier" | "primitive_type" => {
                return path_segments(n.utf8_text(src).unwrap_or(""));
            }
            _ => return Vec::new(),
        }
    }
}

/// Nodes whose `name` field declares a name.
const DECLARING: &[&str] = &[
    "function_item",
    "function_signature_item",
    "struct_item",
    "union_item",
    "enum_item",
    "enum_variant",
    "type_item",
    "trait_item",
    "const_item",
    "static_item",
    "mod_item",
    "macro_definition",
    "associated_type",
    "constrained_type_parameter",
];

const ITEM_KINDS: &[(&str, DeclKind)] = &[
    ("function_item", DeclKind::Function),
    ("function_signature_item", DeclKind::Function),
    ("struct_item", DeclKind::Struct),
    ("union_item", DeclKind::Struct),
    ("enum_item", DeclKind::Enum),
    ("type_item", DeclKind::Type),
    ("trait_item", DeclKind::Trait),
    ("const_item", DeclKind::Const),
    ("static_item", DeclKind::Static),
    ("macro_definition", DeclKind::Macro),
];

impl<'s, 't> Reader<'s, 't> {
    fn text(&self, n: Node) -> &'s str {
        n.utf8_text(self.src).unwrap_or("")
    }

    fn test_scope(&self, scope: u32) -> bool {
        scope > 0
            && self
                .test_scopes
                .get(scope as usize - 1)
                .copied()
                .unwrap_or(false)
    }

    /// `#[cfg(test)]`, `#[test]`, `#[tokio::test]`, `#[rstest]` …: the item is test code.
    fn is_test_attr(&self, n: Node) -> bool {
        if n.kind() != "attribute_item" {
            return false;
        }
        let t: String = self
            .text(n)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let inner = t.trim_start_matches("#[").trim_end_matches(']');
        inner == "test"
            || inner == "cfg(test)"
            || inner.ends_with("::test")
            || inner.starts_with("rstest")
            || inner.starts_with("test_case")
            || inner.starts_with("cfg(all(test")
    }

    #[allow(clippy::too_many_arguments)]
    fn decl(
        &mut self,
        scope: u32,
        name: String,
        kind: DeclKind,
        vis: Vis,
        owner: Option<Ref>,
        parts: Vec<Part<'t>>,
        item: Node,
    ) -> u32 {
        let key = (scope, name.clone());
        if let Some(&i) = self.by_name.get(&key) {
            // `cfg` variants of one item, several `impl` blocks of one header.
            let d = &mut self.syms.decls[i as usize];
            d.start = d.start.min(line(parts[0].node));
            d.end = d.end.max(end_line(item));
            d.vis = d.vis.max(vis);
            self.parts[i as usize].extend(parts);
            return i;
        }
        self.syms.decls.push(Decl {
            name,
            kind,
            vis,
            scope,
            owner,
            via_trait: None,
            start: line(parts[0].node),
            end: end_line(item),
            hash: 0,
            sig: 0,
            runtime: 0,
            type_level: kind == DeclKind::Type,
            test: self.test_scope(scope) || parts.iter().any(|p| self.is_test_attr(p.node)),
            refs: Vec::new(),
            members_used: Vec::new(),
        });
        self.parts.push(parts);
        let i = (self.syms.decls.len() - 1) as u32;
        self.by_name.insert(key, i);
        i
    }

    /// The items of a file or of an inline module body.
    fn items(&mut self, container: Node<'t>, scope: u32, prefix: &str) {
        let mut attrs: Vec<Node<'t>> = Vec::new();
        let mut macro_calls: HashMap<String, u32> = HashMap::new();
        let mut c = container.walk();
        let children: Vec<Node<'t>> = container.named_children(&mut c).collect();
        for node in children {
            let kind = node.kind();
            match kind {
                "attribute_item" => {
                    attrs.push(node);
                    continue;
                }
                "line_comment" | "block_comment" | "inner_attribute_item" => continue,
                _ => {}
            }
            let mut parts: Vec<Part<'t>> = attrs
                .drain(..)
                .map(|a| Part {
                    node: a,
                    header_only: false,
                })
                .collect();
            if let Some(&(_, dk)) = ITEM_KINDS.iter().find(|(k, _)| *k == kind) {
                let Some(n) = node.child_by_field_name("name") else {
                    continue;
                };
                let name = format!("{prefix}{}", self.text(n));
                let vis = if kind == "macro_definition" {
                    Vis::Private
                } else {
                    visibility(node, self.src)
                };
                parts.push(Part {
                    node,
                    header_only: false,
                });
                self.decl(scope, name, dk, vis, None, parts, node);
                continue;
            }
            match kind {
                "mod_item" => {
                    let (Some(n), Some(body)) = (
                        node.child_by_field_name("name"),
                        node.child_by_field_name("body"),
                    ) else {
                        continue; // `mod x;`: structure, resolved with the crate
                    };
                    let name = self.text(n).to_string();
                    let test =
                        self.test_scope(scope) || parts.iter().any(|p| self.is_test_attr(p.node));
                    self.syms.scopes.push(Scope {
                        name: name.clone(),
                        parent: scope,
                    });
                    self.test_scopes.push(test);
                    let inner = self.syms.scopes.len() as u32;
                    if self.nesting >= MAX_MODULE_NESTING {
                        // Hostile nesting: read no deeper (the stack is finite); the file reads
                        // as one that could not be parsed, so a change in it reaches as a whole.
                        self.syms.syntax_errors = true;
                        continue;
                    }
                    self.nesting += 1;
                    self.items(body, inner, &format!("{prefix}{name}::"));
                    self.nesting -= 1;
                }
                "impl_item" => self.impl_block(node, parts, scope, prefix),
                "foreign_mod_item" => {
                    if let Some(body) = node.child_by_field_name("body") {
                        self.items(body, scope, prefix);
                    }
                }
                "use_declaration" => {
                    if let Some(arg) = node.child_by_field_name("argument") {
                        let mut out = Vec::new();
                        flatten_use(arg, self.src, &[], &mut out, 0);
                        for (segs, binding) in out {
                            if let UseBinding::Name(n) = binding {
                                self.uses.insert((scope, n), segs.join("::"));
                            }
                        }
                    }
                }
                "macro_invocation" => {
                    let name = node
                        .child_by_field_name("macro")
                        .map(|m| self.text(m).to_string())
                        .unwrap_or_default();
                    let n = macro_calls.entry(name.clone()).or_default();
                    *n += 1;
                    let label = if *n == 1 {
                        format!("{prefix}{name}!")
                    } else {
                        format!("{prefix}{name}!#{n}")
                    };
                    parts.push(Part {
                        node,
                        header_only: false,
                    });
                    self.decl(
                        scope,
                        label,
                        DeclKind::MacroCall,
                        Vis::Public,
                        None,
                        parts,
                        node,
                    );
                    self.syms.unknown.push(Unknown {
                        line: line(node),
                        what: format!("items made by the macro `{name}!`"),
                    });
                }
                "extern_crate_declaration" | "empty_statement" => {}
                _ => {
                    if node.is_error() {
                        let n = self
                            .syms
                            .decls
                            .iter()
                            .filter(|d| d.kind == DeclKind::Unparsed)
                            .count();
                        parts.push(Part {
                            node,
                            header_only: false,
                        });
                        self.decl(
                            scope,
                            format!("{prefix}<unparsed {}>", n + 1),
                            DeclKind::Unparsed,
                            Vis::Private,
                            None,
                            parts,
                            node,
                        );
                    }
                }
            }
        }
    }

    fn impl_block(&mut self, node: Node<'t>, mut parts: Vec<Part<'t>>, scope: u32, prefix: &str) {
        let Some(ty) = node.child_by_field_name("type") else {
            return;
        };
        let path = type_path(ty, self.src);
        let Some(type_name) = path.last().cloned() else {
            return;
        };
        let owner = Some(Ref::Path(path));
        let trait_path = node
            .child_by_field_name("trait")
            .map(|t| type_path(t, self.src))
            .filter(|p| !p.is_empty());
        let trait_name = node.child_by_field_name("trait").map(|t| {
            trait_path
                .as_ref()
                .and_then(|p| p.last().cloned())
                .unwrap_or_else(|| self.text(t).to_string())
        });
        let via_trait = trait_path.map(Ref::Path);
        let header = match &trait_name {
            Some(t) => format!("{prefix}impl {t} for {type_name}"),
            None => format!("{prefix}impl {type_name}"),
        };
        parts.push(Part {
            node,
            header_only: true,
        });
        let h = self.decl(
            scope,
            header,
            DeclKind::Impl,
            Vis::Public,
            owner.clone(),
            parts,
            node,
        );
        self.syms.decls[h as usize].via_trait = via_trait.clone();
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut attrs: Vec<Node<'t>> = Vec::new();
        let mut c = body.walk();
        let members: Vec<Node<'t>> = body.named_children(&mut c).collect();
        for m in members {
            match m.kind() {
                "attribute_item" => {
                    attrs.push(m);
                    continue;
                }
                "line_comment" | "block_comment" => continue,
                _ => {}
            }
            let name = match m.kind() {
                "function_item" | "function_signature_item" | "const_item" | "type_item" => m
                    .child_by_field_name("name")
                    .map(|n| self.text(n).to_string()),
                "macro_invocation" => m
                    .child_by_field_name("macro")
                    .map(|n| format!("{}!", self.text(n))),
                _ => None,
            };
            let mut member_parts: Vec<Part<'t>> = attrs
                .drain(..)
                .map(|a| Part {
                    node: a,
                    header_only: false,
                })
                .collect();
            let Some(name) = name else {
                continue;
            };
            // Trait members are as visible as the trait.
            let vis = if trait_name.is_some() {
                Vis::Public
            } else {
                visibility(m, self.src)
            };
            member_parts.push(Part {
                node: m,
                header_only: false,
            });
            let d = self.decl(
                scope,
                format!("{prefix}{type_name}::{name}"),
                DeclKind::Member,
                vis,
                owner.clone(),
                member_parts,
                m,
            );
            self.syms.decls[d as usize].via_trait = via_trait.clone();
        }
    }

    fn hash_and_refs(&mut self) {
        for i in 0..self.syms.decls.len() {
            let parts = self.parts[i].clone();
            let mut h = Hashes::new();
            self.refs.clear();
            let owner_prefix = match &self.syms.decls[i].owner {
                Some(Ref::Path(p)) => {
                    let name = &self.syms.decls[i].name;
                    let last = p.last().cloned().unwrap_or_default();
                    // `a::Foo::m` → `a::Foo::`; an impl header `a::impl X for Foo` → `a::Foo::`.
                    let scope_prefix = match name.rfind(&format!("{last}::")) {
                        Some(at) if self.syms.decls[i].kind == DeclKind::Member => {
                            name[..at].to_string()
                        }
                        _ => match name.rfind("impl ") {
                            Some(at) => name[..at].to_string(),
                            None => String::new(),
                        },
                    };
                    Some(format!("{scope_prefix}{last}::"))
                }
                _ => None,
            };
            let scope = self.syms.decls[i].scope;
            for p in parts {
                h.text(p.node.kind(), false, false);
                self.walk(p, &mut h, scope, owner_prefix.as_deref(), i as u32);
            }
            let (hash, sig, runtime) = h.finish();
            let mut members = std::mem::take(&mut self.members);
            members.sort();
            members.dedup();
            self.syms.decls[i].members_used = members;
            let mut refs = std::mem::take(&mut self.refs);
            refs.sort();
            refs.dedup_by(|b, a| {
                if a.target == b.target {
                    a.sig |= b.sig;
                    true
                } else {
                    false
                }
            });
            let d = &mut self.syms.decls[i];
            d.hash = hash;
            d.sig = sig;
            d.runtime = runtime;
            d.refs = refs;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn path_ref(
        &mut self,
        segs: Vec<String>,
        sig: bool,
        scope: u32,
        owner: Option<&str>,
        me: u32,
        h: &mut Hashes,
        in_body: bool,
    ) {
        let Some(first) = segs.first() else {
            return;
        };
        if first == "Self" || first == "self" && segs.len() == 1 {
            if let (Some(owner), Some(m)) = (owner, segs.get(1)) {
                self.member_ref(owner, m, scope, sig, me);
            }
            return;
        }
        // What a `use` binds the first segment to is part of what the declaration means.
        if let Some(target) = self.uses.get(&(scope, first.clone())) {
            let t = target.clone();
            h.all.str(&t);
            h.runtime.str(&t);
            let _ = in_body;
        }
        let target = Ref::Path(segs);
        self.refs.push(RefAt { target, sig });
    }

    fn member_ref(&mut self, owner: &str, member: &str, scope: u32, sig: bool, me: u32) {
        if let Some(&d) = self.by_name.get(&(scope, format!("{owner}{member}"))) {
            if d != me {
                self.refs.push(RefAt {
                    target: Ref::Decl(d),
                    sig,
                });
            }
        }
    }

    fn walk(&mut self, part: Part<'t>, h: &mut Hashes, scope: u32, owner: Option<&str>, me: u32) {
        enum Step<'t> {
            Enter(Node<'t>, Option<&'t str>, &'t str, bool),
            Exit(bool),
        }
        let root = part.node;
        let mut stack = vec![Step::Enter(root, None, "source_file", false)];
        while let Some(step) = stack.pop() {
            let (node, field, parent, in_body) = match step {
                Step::Exit(b) => {
                    h.mark(0xffff, b, false);
                    continue;
                }
                Step::Enter(n, f, p, b) => (n, f, p, b),
            };
            let kind = node.kind();
            if kind == "line_comment" || kind == "block_comment" {
                continue;
            }
            let sig = !in_body;
            match kind {
                "scoped_identifier" | "scoped_type_identifier" => {
                    let text: String = self
                        .text(node)
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    h.text(kind, in_body, false);
                    h.text(&text, in_body, false);
                    let segs = path_segments(&text);
                    if segs.len() >= 2 {
                        if let Some(last) = segs.last() {
                            self.members.push(last.clone());
                        }
                    }
                    self.path_ref(segs, sig, scope, owner, me, h, in_body);
                    continue;
                }
                "field_expression" => {
                    if let Some(f) = node.child_by_field_name("field") {
                        self.members.push(self.text(f).to_string());
                    }
                }
                "token_tree" => {
                    self.token_tree(node, h, in_body, scope, owner, me);
                    continue;
                }
                "call_expression" => {
                    // `self.m(…)`: a use of the owner's member `m`.
                    if let (Some(owner), Some(f)) = (owner, node.child_by_field_name("function")) {
                        if f.kind() == "field_expression" {
                            let v = f.child_by_field_name("value");
                            let m = f.child_by_field_name("field");
                            if let (Some(v), Some(m)) = (v, m) {
                                if v.kind() == "self" {
                                    let m = self.text(m).to_string();
                                    self.member_ref(owner, &m, scope, sig, me);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            if node.child_count() == 0 {
                if !node.is_named() {
                    if matches!(kind, ";" | ",") {
                        continue;
                    }
                    h.text(kind, in_body, false);
                    continue;
                }
                let text = self.text(node);
                h.text(kind, in_body, false);
                h.text(text, in_body, false);
                if matches!(kind, "identifier" | "type_identifier") {
                    let declares = field == Some("name") && DECLARING.contains(&parent)
                        || field == Some("pattern")
                        || matches!(parent, "type_parameters" | "lifetime");
                    if !declares {
                        self.path_ref(vec![text.to_string()], sig, scope, owner, me, h, in_body);
                    }
                }
                continue;
            }
            h.mark(crate_mark(kind), in_body, false);
            stack.push(Step::Exit(in_body));
            let mut children: Vec<(Node<'t>, Option<&'t str>)> = Vec::new();
            let mut c = node.walk();
            if c.goto_first_child() {
                loop {
                    children.push((c.node(), c.field_name()));
                    if !c.goto_next_sibling() {
                        break;
                    }
                }
            }
            for (ch, f) in children.into_iter().rev() {
                if part.header_only && node == root && f == Some("body") {
                    continue;
                }
                let mut b = in_body;
                if f == Some("body") && kind == "function_item" {
                    b = true;
                }
                if f == Some("value") && matches!(kind, "const_item" | "static_item") {
                    b = true;
                }
                stack.push(Step::Enter(ch, f, kind, b));
            }
        }
    }

    /// A macro's arguments: every token hashed (but `,` and `;`), and `a::b::c` / `name`
    /// sequences taken as paths.
    fn token_tree(
        &mut self,
        tt: Node<'t>,
        h: &mut Hashes,
        in_body: bool,
        scope: u32,
        owner: Option<&str>,
        me: u32,
    ) {
        let mut tokens: Vec<(&'s str, &'t str)> = Vec::new();
        let mut stack = vec![tt];
        while let Some(n) = stack.pop() {
            if n.kind() == "line_comment" || n.kind() == "block_comment" {
                continue;
            }
            if n.child_count() == 0
                || matches!(
                    n.kind(),
                    "string_literal" | "raw_string_literal" | "char_literal"
                )
            {
                tokens.push((self.text(n), n.kind()));
                continue;
            }
            let mut c = n.walk();
            let ch: Vec<Node<'t>> = n.children(&mut c).collect();
            for x in ch.into_iter().rev() {
                stack.push(x);
            }
        }
        let sig = !in_body;
        let mut i = 0;
        while i < tokens.len() {
            let (t, k) = tokens[i];
            if t != "," && t != ";" {
                h.text(t, in_body, false);
            }
            let starts_path = matches!(
                k,
                "identifier" | "crate" | "self" | "super" | "metavariable"
            ) && !(i > 0 && (tokens[i - 1].0 == "." || tokens[i - 1].0 == "::"));
            if !starts_path {
                i += 1;
                continue;
            }
            let mut segs = vec![if t == "$crate" {
                "crate".to_string()
            } else {
                t.to_string()
            }];
            let mut j = i + 1;
            while j + 1 < tokens.len()
                && tokens[j].0 == "::"
                && matches!(tokens[j + 1].1, "identifier" | "self" | "super")
            {
                segs.push(tokens[j + 1].0.to_string());
                h.text("::", in_body, false);
                h.text(tokens[j + 1].0, in_body, false);
                j += 2;
            }
            if k != "metavariable" || t == "$crate" {
                self.path_ref(segs, sig, scope, owner, me, h, in_body);
            }
            i = j;
        }
    }
}

fn crate_mark(kind: &str) -> u16 {
    let h = crate::hash::fnv1a(kind.as_bytes());
    (h as u16) ^ ((h >> 16) as u16) ^ ((h >> 32) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &Symbols) -> Vec<(String, DeclKind, Vis, u32)> {
        s.decls
            .iter()
            .map(|d| (d.name.clone(), d.kind, d.vis, d.scope))
            .collect()
    }

    fn refs_of(s: &Symbols, name: &str) -> Vec<String> {
        let d = s.decls.iter().find(|d| d.name == name).unwrap();
        d.refs
            .iter()
            .map(|r| match &r.target {
                Ref::Decl(i) => format!("#{}", s.decls[*i as usize].name),
                Ref::Path(p) => p.join("::"),
                Ref::Binding { .. } => "binding".into(),
            })
            .collect()
    }

    #[test]
    fn items_members_and_scopes() {
        let s = extract(
            "use crate::m::T;\n#[derive(Debug)]\npub(crate) struct S { pub a: u32 }\nimpl S {\n    pub fn new() -> Self { Self::helper(); S { a: 1 } }\n    fn helper() -> T { crate::m::make(vec![other::x()]) }\n}\nimpl std::fmt::Display for S { fn fmt(&self) { self.helper2() } }\ntype A = Vec<S>;\nmod tests { fn t() { super::S::new(); } }\nlazy_static! { static ref X: u32 = 1; }\n",
        );
        use DeclKind::*;
        assert_eq!(
            names(&s),
            vec![
                ("S".to_string(), Struct, Vis::Crate, 0),
                ("impl S".into(), Impl, Vis::Public, 0),
                ("S::new".into(), Member, Vis::Public, 0),
                ("S::helper".into(), Member, Vis::Private, 0),
                ("impl Display for S".into(), Impl, Vis::Public, 0),
                ("S::fmt".into(), Member, Vis::Public, 0),
                ("A".into(), Type, Vis::Private, 0),
                ("tests::t".into(), Function, Vis::Private, 1),
                ("lazy_static!".into(), MacroCall, Vis::Public, 0),
            ]
        );
        assert_eq!(refs_of(&s, "S::new"), vec!["#S::helper", "S"]);
        assert_eq!(
            refs_of(&s, "S::helper"),
            vec!["T", "crate::m::make", "other::x", "vec"]
        );
        assert_eq!(refs_of(&s, "A"), vec!["S", "Vec"]);
        assert_eq!(refs_of(&s, "tests::t"), vec!["super::S::new"]);
        assert_eq!(s.scopes[0].name, "tests");
        assert!(s.decls[6].type_level);
        assert_eq!(s.decls[2].owner, Some(Ref::Path(vec!["S".into()])));
    }

    #[test]
    fn broken_code_never_panics() {
        for src in [
            "impl {",
            "fn f( {",
            "mod a { impl X for",
            "pub(in) fn",
            "m! {",
            "impl<T> for T {}",
        ] {
            let _ = extract(src);
        }
    }
}
