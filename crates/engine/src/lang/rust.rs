//! Rust front end.
//!
//! One walk over the syntax tree collects what module resolution needs, per module scope of the
//! file (scope 0 is the file itself, every inline `mod x { … }` opens a new scope):
//! - `mod x;` declarations with their `#[path = "…"]`, `#[cfg_attr(…, path = "…")]` and `#[cfg(…)]`
//!   attributes kept as facts;
//! - inline modules (with their own `#[path]`, which moves the directory of nested file modules);
//! - every `use` tree flattened into paths (nested groups, `self`, globs, renames, `pub use`);
//! - multi-segment paths in expressions, types, patterns, attributes and macro paths
//!   (`crate::a::f()`, `super::T`, `other_crate::x::Y`), once per scope and path;
//! - `extern crate x [as y];`
//! - the names of items a module defines (to tell an item from a re-export or a glob import).
//!
//! Macros: tree-sitter leaves macro arguments as token trees. An item-position macro call
//! (`cfg_rt! { pub mod runtime; pub use … }`) has its body parsed again as items, so `mod`, `use`
//! and inline modules inside it count; any other token tree is scanned for `mod IDENT;` and for
//! `crate::`/`self::`/`super::`/`name::` paths. `$crate::…` paths in `macro_rules!` bodies count as
//! `crate::…` paths of the defining file.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Parser};

use super::FileFacts;

/// How deep item-position macro bodies are re-parsed (macros inside macros).
const MAX_MACRO_DEPTH: u32 = 4;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustFacts {
    /// Inline modules: scope `i + 1` is `inline_mods[i]`; scope 0 is the file's top level.
    pub inline_mods: Vec<InlineMod>,
    /// `mod x;` declarations (modules in other files).
    pub mods: Vec<ModDecl>,
    pub uses: Vec<UsePath>,
    pub paths: Vec<PathRef>,
    pub extern_crates: Vec<ExternCrate>,
    /// Items a scope defines by name (functions, types, traits, constants, statics, macros).
    pub items: Vec<ItemName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineMod {
    pub name: String,
    /// The scope it is declared in.
    pub parent: u32,
    pub path_attr: Option<String>,
    pub cfg: Vec<String>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModDecl {
    pub name: String,
    pub scope: u32,
    /// `#[path = "…"]`.
    pub path_attr: Option<String>,
    /// `#[cfg_attr(pred, path = "…")]`: alternative files, each under its own condition.
    pub cfg_attr_paths: Vec<String>,
    /// `#[cfg(…)]` conditions, as written.
    pub cfg: Vec<String>,
    pub public: bool,
    /// Found in a macro's token tree.
    pub in_macro: bool,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum UseBinding {
    /// `use a::b;` binds `b`; `use a::b as c;` binds `c`; `use a::{self}` binds `a`.
    Name(String),
    /// `use a::b as _;`
    Underscore,
    /// `use a::*;`
    Glob,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsePath {
    pub scope: u32,
    /// Path segments; a leading `::` is an empty first segment.
    pub segments: Vec<String>,
    pub binding: UseBinding,
    /// `pub use` (any visibility): a re-export.
    pub public: bool,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRef {
    pub scope: u32,
    pub segments: Vec<String>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternCrate {
    pub scope: u32,
    pub name: String,
    pub alias: Option<String>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemName {
    pub scope: u32,
    pub name: String,
}

pub fn extract(source: &str) -> FileFacts {
    let lines = source.lines().count() as u32;
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .is_err()
    {
        return FileFacts {
            syntax_errors: 1,
            lines,
            ..FileFacts::default()
        };
    }
    let Some(tree) = parser.parse(source, None) else {
        return FileFacts {
            syntax_errors: 1,
            lines,
            ..FileFacts::default()
        };
    };
    let mut ex = Extractor {
        parser,
        facts: RustFacts::default(),
        seen_paths: HashSet::new(),
        syntax_errors: 0,
    };
    ex.walk(tree.root_node(), source.as_bytes(), 0, 0, 0);
    FileFacts {
        syntax_errors: ex.syntax_errors,
        lines,
        rust: Some(ex.facts),
        ..FileFacts::default()
    }
}

struct Extractor {
    parser: Parser,
    facts: RustFacts,
    seen_paths: HashSet<(u32, Vec<String>)>,
    syntax_errors: u32,
}

fn text<'a>(node: Node, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

/// Node kinds that define a named item in a module.
const ITEM_KINDS: &[&str] = &[
    "function_item",
    "function_signature_item",
    "struct_item",
    "enum_item",
    "union_item",
    "type_item",
    "trait_item",
    "const_item",
    "static_item",
    "macro_definition",
];

impl Extractor {
    /// Walk `root` (a whole file, or a re-parsed macro body) with `scope` as its module scope.
    /// `line_offset` maps the lines of a re-parsed body back to the file.
    fn walk(&mut self, root: Node, src: &[u8], scope: u32, line_offset: u32, depth: u32) {
        // Each entry carries its parent and grandparent: `Node::parent` walks down from the root
        // every time, which made it the hottest call of the whole front end.
        let mut stack: Vec<Frame> = vec![(root, scope, None, None, Vec::new())];
        while let Some((node, scope, parent, grand, attributes)) = stack.pop() {
            if depth == 0 && (node.is_error() || node.is_missing()) {
                self.syntax_errors = self.syntax_errors.saturating_add(1);
            }
            let line = node.start_position().row as u32 + 1 + line_offset;
            let kind = node.kind();
            let module_level = parent
                .is_some_and(|p| p.kind() == "source_file" || p.kind() == "declaration_list")
                && grand.is_none_or(|g| g.kind() == "mod_item" || g.kind() == "foreign_mod_item");
            match kind {
                "mod_item" => {
                    let Some(name) = node.child_by_field_name("name") else {
                        continue;
                    };
                    let name = text(name, src).to_string();
                    let attrs = Attrs::of(&attributes, src);
                    match node.child_by_field_name("body") {
                        Some(body) => {
                            self.facts.inline_mods.push(InlineMod {
                                name,
                                parent: scope,
                                path_attr: attrs.path,
                                cfg: attrs.cfg,
                                line,
                            });
                            let inner = self.facts.inline_mods.len() as u32;
                            push_children(&mut stack, body, inner, Some(node));
                        }
                        None => self.facts.mods.push(ModDecl {
                            name,
                            scope,
                            path_attr: attrs.path,
                            cfg_attr_paths: attrs.cfg_attr_paths,
                            cfg: attrs.cfg,
                            public: has_visibility(node),
                            in_macro: false,
                            line,
                        }),
                    }
                    continue;
                }
                "use_declaration" => {
                    let public = has_visibility(node);
                    if let Some(arg) = node.child_by_field_name("argument") {
                        let mut out = Vec::new();
                        flatten_use(arg, src, &[], &mut out, 0);
                        for (segments, binding) in out {
                            self.facts.uses.push(UsePath {
                                scope,
                                segments,
                                binding,
                                public,
                                line,
                            });
                        }
                    }
                    continue;
                }
                "extern_crate_declaration" => {
                    if let Some(name) = node.child_by_field_name("name") {
                        self.facts.extern_crates.push(ExternCrate {
                            scope,
                            name: text(name, src).to_string(),
                            alias: node
                                .child_by_field_name("alias")
                                .map(|a| text(a, src).to_string()),
                            line,
                        });
                    }
                    continue;
                }
                "scoped_identifier" | "scoped_type_identifier" => {
                    let nested = parent.is_some_and(|p| {
                        matches!(
                            p.kind(),
                            "scoped_identifier"
                                | "scoped_type_identifier"
                                | "scoped_use_list"
                                | "use_as_clause"
                                | "use_wildcard"
                                | "use_list"
                                | "use_declaration"
                                | "visibility_modifier"
                        ) && p
                            .child_by_field_name("path")
                            .is_none_or(|pp| pp.id() == node.id())
                    });
                    if !nested {
                        let segments = path_segments(text(node, src));
                        self.add_path(scope, segments, line);
                    }
                    // Generic arguments inside the path can hold paths of their own.
                }
                "macro_invocation" => {
                    if let Some(m) = node.child_by_field_name("macro") {
                        if m.kind() == "scoped_identifier" {
                            let segments = path_segments(text(m, src));
                            self.add_path(scope, segments, line);
                        }
                    }
                    let mut c = node.walk();
                    let tt = node.children(&mut c).find(|n| n.kind() == "token_tree");
                    if let Some(tt) = tt {
                        if module_level && depth < MAX_MACRO_DEPTH {
                            self.reparse_items(tt, src, scope, line_offset, depth);
                        } else {
                            self.scan_tokens(tt, src, scope, line_offset, false);
                        }
                    }
                    continue;
                }
                "macro_definition" => {
                    if module_level {
                        if let Some(name) = node.child_by_field_name("name") {
                            self.add_item(scope, text(name, src));
                        }
                    }
                    self.scan_tokens(node, src, scope, line_offset, true);
                    continue;
                }
                "token_tree" => {
                    // A token tree outside a macro call (attribute arguments).
                    self.scan_tokens(node, src, scope, line_offset, false);
                    continue;
                }
                _ => {
                    if module_level && ITEM_KINDS.contains(&kind) {
                        if let Some(name) = node.child_by_field_name("name") {
                            self.add_item(scope, text(name, src));
                        }
                    }
                }
            }
            push_children(&mut stack, node, scope, parent);
        }
    }

    fn add_item(&mut self, scope: u32, name: &str) {
        if !name.is_empty() {
            self.facts.items.push(ItemName {
                scope,
                name: name.to_string(),
            });
        }
    }

    fn add_path(&mut self, scope: u32, segments: Vec<String>, line: u32) {
        // `::name` alone names a crate root, which no code path can use by itself.
        if segments.len() < 2 || (segments[0].is_empty() && segments.len() < 3) {
            return;
        }
        let first = segments[0].as_str();
        let relevant = first.is_empty()
            || matches!(first, "crate" | "self" | "super")
            || first
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        if !relevant || segments.iter().any(|s| s.is_empty() && s != &segments[0]) {
            return;
        }
        if self.seen_paths.insert((scope, segments.clone())) {
            self.facts.paths.push(PathRef {
                scope,
                segments,
                line,
            });
        }
    }

    /// Parse an item-position macro body as items (`cfg_rt! { pub mod rt; }`).
    fn reparse_items(&mut self, tt: Node, src: &[u8], scope: u32, line_offset: u32, depth: u32) {
        let (start, end) = (tt.start_byte() + 1, tt.end_byte().saturating_sub(1));
        if start >= end || end > src.len() {
            return;
        }
        let inner = &src[start..end];
        let Some(tree) = self.parser.parse(inner, None) else {
            self.scan_tokens(tt, src, scope, line_offset, false);
            return;
        };
        let offset = line_offset + tt.start_position().row as u32;
        // Body text starts mid-line: rows of the re-parse are relative to the `{` line.
        self.walk(tree.root_node(), inner, scope, offset, depth + 1);
    }

    /// Scan a token tree for `mod IDENT;` and multi-segment paths. In a `macro_rules!` body
    /// (`definition`), only `$crate::…` paths are the defining crate's: others resolve where the
    /// macro is called.
    fn scan_tokens(
        &mut self,
        tt: Node,
        src: &[u8],
        scope: u32,
        line_offset: u32,
        definition: bool,
    ) {
        let mut tokens: Vec<(String, &'static str, u32)> = Vec::new();
        collect_tokens(tt, src, line_offset, &mut tokens);
        let n = tokens.len();
        let mut i = 0;
        while i < n {
            let (t, k, line) = (&tokens[i].0, tokens[i].1, tokens[i].2);
            if !definition
                && k == "mod"
                && i + 2 < n
                && tokens[i + 1].1 == "identifier"
                && tokens[i + 2].0 == ";"
            {
                let public = i > 0 && (tokens[i - 1].0 == "pub" || tokens[i - 1].0 == ")");
                self.facts.mods.push(ModDecl {
                    name: tokens[i + 1].0.clone(),
                    scope,
                    path_attr: None,
                    cfg_attr_paths: Vec::new(),
                    cfg: Vec::new(),
                    public,
                    in_macro: true,
                    line,
                });
                i += 3;
                continue;
            }
            let starts = matches!(
                k,
                "identifier" | "crate" | "self" | "super" | "metavariable"
            );
            let after_colons = i > 0 && tokens[i - 1].0 == "::";
            if starts && !after_colons && i + 2 < n && tokens[i + 1].0 == "::" {
                let mut segs = vec![if t == "$crate" {
                    "crate".to_string()
                } else {
                    t.clone()
                }];
                let mut j = i + 1;
                while j + 1 < n
                    && tokens[j].0 == "::"
                    && matches!(tokens[j + 1].1, "identifier" | "self" | "super")
                {
                    segs.push(tokens[j + 1].0.clone());
                    j += 2;
                }
                let keep = if definition {
                    t == "$crate"
                } else {
                    k != "metavariable"
                };
                if keep {
                    self.add_path(scope, segs, line);
                }
                i = j;
                continue;
            }
            i += 1;
        }
    }
}

/// A node to visit: the node, its module scope, its parent, its grandparent and, for a `mod` item,
/// the attribute items written right before it (nearest first).
type Frame<'t> = (
    Node<'t>,
    u32,
    Option<Node<'t>>,
    Option<Node<'t>>,
    Vec<Node<'t>>,
);

/// Push `node`'s children (visited in order); `parent` is `node`'s parent.
///
/// A `mod` item's attributes are collected here, from the siblings in hand: `Node::prev_sibling`
/// finds the parent by walking down from the root, which made 20,000 nested inline modules cost
/// time quadratic in the depth.
fn push_children<'t>(
    stack: &mut Vec<Frame<'t>>,
    node: Node<'t>,
    scope: u32,
    parent: Option<Node<'t>>,
) {
    let mut c = node.walk();
    let mut children: Vec<(Node, Vec<Node>)> = Vec::new();
    let mut run: Vec<Node> = Vec::new();
    for ch in node.children(&mut c) {
        match ch.kind() {
            "attribute_item" => run.push(ch),
            "line_comment" | "block_comment" => {}
            kind => {
                let attributes = if kind == "mod_item" {
                    run.iter().rev().copied().collect()
                } else {
                    Vec::new()
                };
                run.clear();
                children.push((ch, attributes));
                continue;
            }
        }
        children.push((ch, Vec::new()));
    }
    for (ch, attributes) in children.into_iter().rev() {
        stack.push((ch, scope, Some(node), parent, attributes));
    }
}

/// Leaf tokens of a token tree, in order, as (text, kind, line). Nested delimiters are kept as
/// tokens so paths never run across them.
fn collect_tokens(
    node: Node,
    src: &[u8],
    line_offset: u32,
    out: &mut Vec<(String, &'static str, u32)>,
) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.child_count() == 0 || n.kind() == "string_literal" || n.kind() == "raw_string_literal"
        {
            let kind = match n.kind() {
                "identifier" => "identifier",
                "crate" => "crate",
                "self" => "self",
                "super" => "super",
                "metavariable" => "metavariable",
                "mod" => "mod",
                _ => "other",
            };
            out.push((
                text(n, src).to_string(),
                kind,
                n.start_position().row as u32 + 1 + line_offset,
            ));
            continue;
        }
        let mut c = n.walk();
        let children: Vec<Node> = n.children(&mut c).collect();
        for ch in children.into_iter().rev() {
            stack.push(ch);
        }
    }
}

fn has_visibility(node: Node) -> bool {
    let mut c = node.walk();
    let found = node
        .children(&mut c)
        .any(|n| n.kind() == "visibility_modifier");
    found
}

/// The attributes written before an item (its preceding siblings in tree-sitter's tree).
#[derive(Default)]
struct Attrs {
    path: Option<String>,
    cfg_attr_paths: Vec<String>,
    cfg: Vec<String>,
}

impl Attrs {
    /// The attributes of an item from its attribute items, nearest first.
    fn of(items: &[Node], src: &[u8]) -> Attrs {
        let mut a = Attrs::default();
        for p in items {
            let mut c = p.walk();
            let attr = p.named_children(&mut c).find(|n| n.kind() == "attribute");
            if let Some(attr) = attr {
                a.read(attr, src);
            }
        }
        a
    }

    fn read(&mut self, attr: Node, src: &[u8]) {
        let mut c = attr.walk();
        let Some(name) = attr.named_children(&mut c).next() else {
            return;
        };
        match text(name, src) {
            "path" => {
                if let Some(v) = attr.child_by_field_name("value") {
                    if let Some(s) = string_value(v, src) {
                        self.path = Some(s);
                    }
                }
            }
            "cfg" => {
                if let Some(args) = attr.child_by_field_name("arguments") {
                    let t = text(args, src);
                    let inner = t
                        .strip_prefix('(')
                        .and_then(|t| t.strip_suffix(')'))
                        .unwrap_or(t);
                    self.cfg.push(inner.trim().to_string());
                }
            }
            "cfg_attr" => {
                if let Some(args) = attr.child_by_field_name("arguments") {
                    if let Some(p) = cfg_attr_path(text(args, src)) {
                        self.cfg_attr_paths.push(p);
                    }
                }
            }
            _ => {}
        }
    }
}

fn string_value(node: Node, src: &[u8]) -> Option<String> {
    if node.kind() != "string_literal" && node.kind() != "raw_string_literal" {
        return None;
    }
    let t = text(node, src);
    let t = t.trim_start_matches('r').trim_matches('#');
    let t = t.strip_prefix('"')?.strip_suffix('"')?;
    Some(t.to_string())
}

/// `(unix, path = "unix.rs")` → `unix.rs`.
fn cfg_attr_path(args: &str) -> Option<String> {
    let at = args.find("path")?;
    let rest = args[at + 4..].trim_start().strip_prefix('=')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_string())
}

/// `crate :: a :: Foo::<T> :: new` → `["crate", "a", "Foo", "new"]`; a leading `::` gives an
/// empty first segment. Generic arguments and whitespace are dropped. A qualified path
/// (`<T as Trait>::x`) gives nothing.
pub fn path_segments(text: &str) -> Vec<String> {
    let t = text.trim();
    if t.starts_with('<') {
        return Vec::new();
    }
    let mut clean = String::with_capacity(t.len());
    let mut angle = 0usize;
    for ch in t.chars() {
        match ch {
            '<' => angle += 1,
            '>' if angle > 0 => angle -= 1,
            c if angle == 0 && !c.is_whitespace() => clean.push(c),
            _ => {}
        }
    }
    let mut segs: Vec<String> = clean.split("::").map(str::to_string).collect();
    // `Foo::<T>::new` leaves an empty segment where the turbofish was.
    let leading = segs.first().is_some_and(|s| s.is_empty());
    let mut out: Vec<String> = Vec::with_capacity(segs.len());
    for (i, s) in segs.drain(..).enumerate() {
        if s.is_empty() && !(i == 0 && leading) {
            continue;
        }
        match s.strip_prefix("r#") {
            Some(raw) => out.push(raw.to_string()),
            None => out.push(s),
        }
    }
    if out.iter().skip(usize::from(leading)).any(|s| {
        !s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    }) {
        return Vec::new();
    }
    out
}

/// Nesting of `use` groups followed (real code nests a few levels).
const MAX_USE_DEPTH: usize = 64;

/// Flatten a use tree into (path, binding) pairs.
pub(super) fn flatten_use(
    node: Node,
    src: &[u8],
    prefix: &[String],
    out: &mut Vec<(Vec<String>, UseBinding)>,
    depth: usize,
) {
    if depth > MAX_USE_DEPTH {
        return;
    }
    let join = |p: &[String], more: Vec<String>| {
        let mut v = p.to_vec();
        v.extend(more);
        v
    };
    match node.kind() {
        "use_as_clause" => {
            let Some(path) = node.child_by_field_name("path") else {
                return;
            };
            let segs = join(prefix, path_segments(text(path, src)));
            let alias = node
                .child_by_field_name("alias")
                .map(|a| text(a, src).to_string())
                .unwrap_or_default();
            let segs = strip_trailing_self(segs);
            if segs.is_empty() {
                return;
            }
            let binding = if alias == "_" {
                UseBinding::Underscore
            } else {
                UseBinding::Name(alias)
            };
            out.push((segs, binding));
        }
        "use_wildcard" => {
            let mut c = node.walk();
            let path = node.named_children(&mut c).next();
            let segs = match path {
                Some(p) => join(prefix, path_segments(text(p, src))),
                None => prefix.to_vec(),
            };
            out.push((segs, UseBinding::Glob));
        }
        "use_list" => {
            let mut c = node.walk();
            for child in node.named_children(&mut c) {
                flatten_use(child, src, prefix, out, depth + 1);
            }
        }
        "scoped_use_list" => {
            let segs = match node.child_by_field_name("path") {
                Some(p) => join(prefix, path_segments(text(p, src))),
                // `::{a, b}`
                None if prefix.is_empty() => vec![String::new()],
                None => prefix.to_vec(),
            };
            if let Some(list) = node.child_by_field_name("list") {
                flatten_use(list, src, &segs, out, depth + 1);
            }
        }
        "identifier" | "crate" | "self" | "super" | "scoped_identifier" | "metavariable" => {
            let segs = strip_trailing_self(join(prefix, path_segments(text(node, src))));
            let Some(last) = segs.last().cloned() else {
                return;
            };
            if last.is_empty() {
                return;
            }
            out.push((segs, UseBinding::Name(last)));
        }
        _ => {}
    }
}

/// `a::b::self` (from `a::b::{self}`) is the module `a::b`.
fn strip_trailing_self(mut segs: Vec<String>) -> Vec<String> {
    if segs.len() > 1 && segs.last().is_some_and(|s| s == "self") {
        segs.pop();
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> RustFacts {
        extract(src).rust.unwrap()
    }

    fn uses(f: &RustFacts) -> Vec<(String, String, bool)> {
        f.uses
            .iter()
            .map(|u| {
                let b = match &u.binding {
                    UseBinding::Name(n) => n.clone(),
                    UseBinding::Underscore => "_".into(),
                    UseBinding::Glob => "*".into(),
                };
                (u.segments.join("::"), b, u.public)
            })
            .collect()
    }

    #[test]
    fn mod_declarations_with_attributes() {
        let f = facts(
            "#[cfg(test)]\n#[path = \"x_impl.rs\"]\npub(crate) mod x;\nmod y;\n#[cfg_attr(unix, path = \"unix.rs\")]\nmod sys;\nmod inline {\n    #[path = \"deep.rs\"] mod deeper;\n    mod nested { mod leaf; }\n}\n",
        );
        let m: Vec<_> = f
            .mods
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.scope,
                    m.path_attr.clone(),
                    m.cfg.clone(),
                    m.public,
                )
            })
            .collect();
        assert_eq!(
            m,
            vec![
                (
                    "x",
                    0,
                    Some("x_impl.rs".into()),
                    vec!["test".to_string()],
                    true
                ),
                ("y", 0, None, vec![], false),
                ("sys", 0, None, vec![], false),
                ("deeper", 1, Some("deep.rs".into()), vec![], false),
                ("leaf", 2, None, vec![], false),
            ]
        );
        assert_eq!(f.mods[2].cfg_attr_paths, vec!["unix.rs".to_string()]);
        assert_eq!(f.inline_mods.len(), 2);
        assert_eq!(f.inline_mods[1].name, "nested");
        assert_eq!(f.inline_mods[1].parent, 1);
        assert_eq!(f.mods[4].line, 9);
    }

    #[test]
    fn use_trees_flatten() {
        let f = facts(
            "use crate::a::{self, b::{c, d as e}, f::*};\npub use super::g::H;\nuse ::ext::x as _;\nuse std::io;\npub(crate) use self::m::*;\n",
        );
        assert_eq!(
            uses(&f),
            vec![
                ("crate::a".into(), "a".into(), false),
                ("crate::a::b::c".into(), "c".into(), false),
                ("crate::a::b::d".into(), "e".into(), false),
                ("crate::a::f".into(), "*".into(), false),
                ("super::g::H".into(), "H".into(), true),
                ("::ext::x".into(), "_".into(), false),
                ("std::io".into(), "io".into(), false),
                ("self::m".into(), "*".into(), true),
            ]
        );
    }

    #[test]
    fn paths_in_code_types_and_macros() {
        let f = facts(
            "fn f(x: crate::a::T) -> super::b::U {\n    crate::a::g::<u8>();\n    println!(\"{}\", self::c::h());\n    let v: Vec<crate::d::V> = Vec::new();\n    other::thing();\n}\n#[tokio::main]\nasync fn main() {}\nmacro_rules! m { () => { $crate::e::k(); crate::not_mine::z() } }\n",
        );
        let p: Vec<(String, u32)> = f
            .paths
            .iter()
            .map(|p| (p.segments.join("::"), p.line))
            .collect();
        assert_eq!(
            p,
            vec![
                ("crate::a::T".to_string(), 1),
                ("super::b::U".into(), 1),
                ("crate::a::g".into(), 2),
                ("self::c::h".into(), 3),
                ("crate::d::V".into(), 4),
                ("other::thing".into(), 5),
                ("tokio::main".into(), 7),
                ("crate::e::k".into(), 9),
            ]
        );
    }

    #[test]
    fn item_macros_are_parsed_as_items() {
        let f = facts("cfg_rt! {\n    pub mod runtime;\n    pub use crate::runtime::spawn;\n    mod inner { mod leaf; }\n}\n");
        assert_eq!(f.mods.len(), 2);
        assert_eq!(f.mods[0].name, "runtime");
        assert_eq!(f.mods[0].line, 2);
        assert_eq!(f.mods[1].name, "leaf");
        assert_eq!(f.mods[1].scope, 1);
        assert_eq!(
            uses(&f),
            vec![("crate::runtime::spawn".into(), "spawn".into(), true)]
        );
        assert_eq!(f.uses[0].line, 3);
    }

    #[test]
    fn expression_macros_are_scanned_for_mod_declarations() {
        let f = facts("fn x() { weird!(pub mod hidden; 1 + 2) }\n");
        assert_eq!(f.mods.len(), 1);
        assert!(f.mods[0].in_macro);
        assert!(f.mods[0].public);
    }

    #[test]
    fn items_and_extern_crates() {
        let f = facts("extern crate alloc as al;\npub struct S;\nfn f() { struct Local; }\nmod m { pub enum E { A } }\n");
        assert_eq!(f.extern_crates[0].name, "alloc");
        assert_eq!(f.extern_crates[0].alias.as_deref(), Some("al"));
        let items: Vec<_> = f.items.iter().map(|i| (i.scope, i.name.as_str())).collect();
        assert_eq!(items, vec![(0, "S"), (0, "f"), (1, "E")]);
    }

    #[test]
    fn broken_code_never_panics() {
        for src in [
            "mod ;",
            "use crate::{;",
            "fn f( { crate::",
            "macro_rules! { ( }",
            "mod a { mod b { mod",
            "cfg_x! { mod }",
            "use ::{a, b};",
            "#[path = ] mod x;",
        ] {
            let f = extract(src);
            assert!(f.rust.is_some());
        }
    }

    #[test]
    fn segments() {
        assert_eq!(
            path_segments("crate :: a::Foo::<T>::new"),
            vec!["crate", "a", "Foo", "new"]
        );
        assert_eq!(path_segments("::std::mem"), vec!["", "std", "mem"]);
        assert!(path_segments("<T as X>::y").is_empty());
        assert_eq!(path_segments("r#type::x"), vec!["type", "x"]);
    }
}
