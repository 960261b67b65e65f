//! TypeScript / JavaScript symbols (see [`super::symbols`]), from a tree-sitter parse.
//!
//! Two passes over the top-level statements. The first names things: declarations (one per
//! declared name; overloads and declaration merging fold into one), class members
//! (`Class::member`), import bindings, exports (ES modules, `export =`, CommonJS `module.exports` and
//! `exports.x`), and the `<top-level>` pseudo-declaration of the remaining statements. The second
//! walks each declaration's nodes once, hashing its tokens (see [`super::symbols::Hashes`]) and
//! collecting the names it references: identifiers, type names, JSX element names, `ns.f` on a
//! namespace binding, `this.m` inside a class, dynamic `import()` and inline `require()`.
//!
//! A name is looked up among the file's top-level names only: a local variable that shadows one
//! counts as a use of it (an over-approximation: never a missed use).

use std::collections::HashMap;

use tree_sitter::Node;

use super::symbols::{
    squash, Binding, Decl, DeclKind, Export, ExportTarget, Hashes, Imported, Ref, RefAt, Symbols,
    Unknown, Vis, TOP_LEVEL,
};
use super::Lang;

/// Symbols of one file. A file tree-sitter cannot parse at all yields no declarations and
/// `syntax_errors`.
pub fn extract(lang: Lang, source: &str) -> Symbols {
    let Some(tree) = super::typescript::parse_tree(lang, source) else {
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
        names: HashMap::new(),
        members: HashMap::new(),
        effects: None,
        deferred: Vec::new(),
        seen_refs: Vec::new(),
        seen_members: Vec::new(),
        unparsed: 0,
    };
    let mut c = root.walk();
    let children: Vec<Node> = root.named_children(&mut c).collect();
    for child in children {
        r.statement(child, None);
    }
    r.finish_exports();
    r.hash_and_refs();
    r.syms
}

/// What part of a node a declaration covers.
#[derive(Clone, Copy)]
struct Part<'t> {
    node: Node<'t>,
    /// Hash the class header only (members are declarations of their own).
    header_only: bool,
    /// The whole part is type-level (interfaces, type aliases, `declare`).
    in_type: bool,
    /// The whole part is a body (an initialiser, an `export default` expression).
    in_body: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Name {
    Decl(u32),
    Binding(u32),
}

struct Reader<'s, 't> {
    src: &'s [u8],
    syms: Symbols,
    /// The nodes of each declaration.
    parts: Vec<Vec<Part<'t>>>,
    /// Top-level names.
    names: HashMap<String, Name>,
    /// (class declaration, member name) → member declaration.
    members: HashMap<(u32, String), u32>,
    effects: Option<u32>,
    /// `export { a as b }` and `export default a`: (exported, local, line), resolved after pass 1.
    deferred: Vec<(String, String, u32)>,
    seen_refs: Vec<RefAt>,
    /// Member names the declaration being walked accesses.
    seen_members: Vec<String>,
    /// Top-level regions the parser could not read, so far.
    unparsed: u32,
}

fn line(n: Node) -> u32 {
    n.start_position().row as u32 + 1
}

fn end_line(n: Node) -> u32 {
    n.end_position().row as u32 + 1
}

fn has_token(node: Node, kw: &str) -> bool {
    let mut c = node.walk();
    let found = node
        .children(&mut c)
        .any(|n| !n.is_named() && n.kind() == kw);
    found
}

const FUNCTION_LIKE: &[&str] = &[
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "function",
    "generator_function",
    "arrow_function",
    "method_definition",
];

/// Nodes whose `name` field declares a name (elsewhere, `name` is a use: `generic_type`, JSX
/// elements).
const DECLARING: &[&str] = &[
    "function_declaration",
    "generator_function_declaration",
    "function_signature",
    "function_expression",
    "generator_function",
    "class_declaration",
    "abstract_class_declaration",
    "class",
    "interface_declaration",
    "type_alias_declaration",
    "enum_declaration",
    "variable_declarator",
    "method_definition",
    "method_signature",
    "abstract_method_signature",
    "public_field_definition",
    "property_signature",
    "internal_module",
    "module",
    "type_parameter",
    "enum_assignment",
];

/// Subtrees that are erased at compile time.
const TYPE_KINDS: &[&str] = &[
    "type_annotation",
    "type_arguments",
    "type_parameters",
    "implements_clause",
    "accessibility_modifier",
    "override_modifier",
    "asserts_annotation",
    "type_predicate_annotation",
    "opting_type_annotation",
    "omitting_type_annotation",
    "adding_type_annotation",
    "interface_declaration",
    "type_alias_declaration",
    "abstract_method_signature",
    "method_signature",
    "function_signature",
    "index_signature",
    "ambient_declaration",
];

impl<'s, 't> Reader<'s, 't> {
    fn text(&self, n: Node) -> &'s str {
        n.utf8_text(self.src).unwrap_or("")
    }

    fn literal(&self, n: Node) -> Option<String> {
        match n.kind() {
            "string" => {
                let t = self.text(n);
                (t.len() >= 2).then(|| t[1..t.len() - 1].to_string())
            }
            "template_string" => {
                let mut c = n.walk();
                if n.named_children(&mut c)
                    .any(|x| x.kind() == "template_substitution")
                {
                    return None;
                }
                let t = self.text(n);
                (t.len() >= 2).then(|| t[1..t.len() - 1].to_string())
            }
            _ => None,
        }
    }

    fn unknown(&mut self, n: Node, what: &str) {
        self.syms.unknown.push(Unknown {
            line: line(n),
            what: what.to_string(),
        });
    }

    fn binding(&mut self, b: Binding) -> u32 {
        self.syms.bindings.push(b);
        (self.syms.bindings.len() - 1) as u32
    }

    fn named_binding(&mut self, local: &str, spec: &str, imported: Imported, ty: bool, at: Node) {
        let i = self.binding(Binding {
            local: local.to_string(),
            specifier: spec.to_string(),
            imported,
            type_only: ty,
            line: line(at),
        });
        if !local.is_empty() {
            self.names.insert(local.to_string(), Name::Binding(i));
        }
    }

    /// Add (or extend: overloads, declaration merging) the declaration `name`.
    #[allow(clippy::too_many_arguments)]
    fn decl(
        &mut self,
        name: &str,
        kind: DeclKind,
        part: Part<'t>,
        type_level: bool,
        owner: Option<u32>,
        vis: Vis,
    ) -> u32 {
        let existing = match owner {
            None => match self.names.get(name) {
                Some(Name::Decl(i)) => Some(*i),
                _ => None,
            },
            Some(o) => self.members.get(&(o, name.to_string())).copied(),
        };
        if let Some(i) = existing {
            let d = &mut self.syms.decls[i as usize];
            d.start = d.start.min(line(part.node));
            d.end = d.end.max(end_line(part.node));
            d.type_level &= type_level;
            self.parts[i as usize].push(part);
            return i;
        }
        let full = match owner {
            Some(o) => format!("{}::{name}", self.syms.decls[o as usize].name),
            None => name.to_string(),
        };
        self.syms.decls.push(Decl {
            name: full,
            kind,
            vis,
            scope: 0,
            owner: owner.map(Ref::Decl),
            via_trait: None,
            start: line(part.node),
            end: end_line(part.node),
            hash: 0,
            sig: 0,
            runtime: 0,
            type_level,
            test: false,
            refs: Vec::new(),
            members_used: Vec::new(),
        });
        self.parts.push(vec![part]);
        let i = (self.syms.decls.len() - 1) as u32;
        match owner {
            None => {
                self.names.insert(name.to_string(), Name::Decl(i));
            }
            Some(o) => {
                self.members.insert((o, name.to_string()), i);
            }
        }
        i
    }

    fn export(&mut self, name: &str, target: ExportTarget) {
        if let ExportTarget::Decl(i) = target {
            self.syms.decls[i as usize].vis = Vis::Public;
        }
        self.syms.exports.push(Export {
            name: name.to_string(),
            target,
        });
    }

    fn part(node: Node<'t>) -> Part<'t> {
        Part {
            node,
            header_only: false,
            in_type: false,
            in_body: false,
        }
    }

    fn add_effect(&mut self, node: Node<'t>) {
        let part = Self::part(node);
        match self.effects {
            Some(i) => {
                let d = &mut self.syms.decls[i as usize];
                d.start = d.start.min(line(node));
                d.end = d.end.max(end_line(node));
                self.parts[i as usize].push(part);
            }
            None => {
                let i = self.decl(
                    TOP_LEVEL,
                    DeclKind::Effects,
                    part,
                    false,
                    None,
                    Vis::Private,
                );
                self.effects = Some(i);
            }
        }
    }

    /// One top-level statement; `export` is the exported name when it sits in `export …`
    /// (`Some("")`: exported under its own name).
    fn statement(&mut self, node: Node<'t>, export: Option<&str>) {
        if node.is_error() {
            self.unparsed += 1;
            let name = format!("<unparsed {}>", self.unparsed);
            self.decl(
                &name,
                DeclKind::Unparsed,
                Self::part(node),
                false,
                None,
                Vis::Private,
            );
            return;
        }
        match node.kind() {
            "comment" | "hash_bang_line" | "empty_statement" => {}
            "import_statement" => self.import(node),
            "export_statement" => self.export_statement(node),
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                let name = node
                    .child_by_field_name("name")
                    .map(|n| self.text(n).to_string())
                    .unwrap_or_else(|| "default".to_string());
                let sig = node.kind() == "function_signature";
                let i = self.decl(
                    &name,
                    DeclKind::Function,
                    Self::part(node),
                    sig,
                    None,
                    Vis::Private,
                );
                self.exported(i, &name, export);
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                self.class(node, export);
            }
            "lexical_declaration" | "variable_declaration" => self.variables(node, export),
            "type_alias_declaration" | "interface_declaration" => {
                let Some(n) = node.child_by_field_name("name") else {
                    return self.add_effect(node);
                };
                let name = self.text(n).to_string();
                let kind = if node.kind() == "interface_declaration" {
                    DeclKind::Interface
                } else {
                    DeclKind::Type
                };
                let mut part = Self::part(node);
                part.in_type = true;
                let i = self.decl(&name, kind, part, true, None, Vis::Private);
                self.exported(i, &name, export);
            }
            "enum_declaration" => {
                if let Some(n) = node.child_by_field_name("name") {
                    let name = self.text(n).to_string();
                    let i = self.decl(
                        &name,
                        DeclKind::Enum,
                        Self::part(node),
                        false,
                        None,
                        Vis::Private,
                    );
                    self.exported(i, &name, export);
                }
            }
            "internal_module" | "module" => {
                let Some(n) = node.child_by_field_name("name") else {
                    return self.add_effect(node);
                };
                let name = match self.literal(n) {
                    Some(s) => format!("module {s}"),
                    None => self.text(n).to_string(),
                };
                let i = self.decl(
                    &name,
                    DeclKind::Namespace,
                    Self::part(node),
                    false,
                    None,
                    Vis::Private,
                );
                self.exported(i, &name, export);
            }
            "ambient_declaration" => self.ambient(node, export),
            "expression_statement" => self.expression_statement(node, export),
            _ => self.add_effect(node),
        }
    }

    /// Export declaration `i` named `name` when in `export …`.
    fn exported(&mut self, i: u32, name: &str, export: Option<&str>) {
        match export {
            Some("") => self.export(name, ExportTarget::Decl(i)),
            Some(as_name) => self.export(as_name, ExportTarget::Decl(i)),
            None => {}
        }
    }

    fn ambient(&mut self, node: Node<'t>, export: Option<&str>) {
        // `declare function f(): T;`, `declare const x: T;`, `declare module "m" {}`,
        // `declare global {}`: all type-level.
        let mut c = node.walk();
        let inner = node.named_children(&mut c).find(|n| n.kind() != "comment");
        let name = inner.and_then(|n| {
            n.child_by_field_name("name")
                .map(|x| match self.literal(x) {
                    Some(s) => format!("declare module {s}"),
                    None => self.text(x).to_string(),
                })
                .or_else(|| {
                    // `declare const a: T, b: U;`
                    let mut c2 = n.walk();
                    let d = n
                        .named_children(&mut c2)
                        .find(|x| x.kind() == "variable_declarator");
                    d.and_then(|d| d.child_by_field_name("name"))
                        .map(|x| self.text(x).to_string())
                })
        });
        let name = name.unwrap_or_else(|| {
            if self.text(node).contains("global") {
                "declare global".to_string()
            } else {
                "declare".to_string()
            }
        });
        let mut part = Self::part(node);
        part.in_type = true;
        let i = self.decl(&name, DeclKind::Declare, part, true, None, Vis::Private);
        self.exported(i, &name, export);
    }

    fn import(&mut self, node: Node<'t>) {
        let statement_type = has_token(node, "type");
        let Some(source) = node.child_by_field_name("source") else {
            // `import x = require("y")` or `import x = N.y`
            let mut c = node.walk();
            let req = node
                .named_children(&mut c)
                .find(|n| n.kind() == "import_require_clause");
            match req {
                Some(rc) => {
                    let local = rc
                        .named_children(&mut rc.walk())
                        .find(|n| n.kind() == "identifier")
                        .map(|n| self.text(n).to_string())
                        .unwrap_or_default();
                    if let Some(spec) = rc
                        .child_by_field_name("source")
                        .and_then(|s| self.literal(s))
                    {
                        self.named_binding(&local, &spec, Imported::Namespace, statement_type, rc);
                    }
                }
                None => {
                    // `import A = N.B`: an alias of a namespace member, a declaration.
                    let mut c = node.walk();
                    let name = node
                        .named_children(&mut c)
                        .find(|n| n.kind() == "identifier")
                        .map(|n| self.text(n).to_string());
                    if let Some(name) = name {
                        self.decl(
                            &name,
                            DeclKind::Variable,
                            Self::part(node),
                            false,
                            None,
                            Vis::Private,
                        );
                    }
                }
            }
            return;
        };
        let Some(spec) = self.literal(source) else {
            return;
        };
        let mut c = node.walk();
        let clause = node
            .named_children(&mut c)
            .find(|n| n.kind() == "import_clause");
        let Some(clause) = clause else {
            // `import "x"`: its side effects, part of this file's top level.
            let i = self.binding(Binding {
                local: String::new(),
                specifier: spec,
                imported: Imported::SideEffect,
                type_only: false,
                line: line(node),
            });
            self.add_effect(node);
            let e = self.effects.unwrap_or(0);
            self.syms.decls[e as usize].refs.push(RefAt {
                target: Ref::Binding {
                    binding: i,
                    member: None,
                },
                sig: false,
            });
            return;
        };
        let before = self.syms.bindings.len();
        let mut c = clause.walk();
        for part in clause.named_children(&mut c) {
            match part.kind() {
                "identifier" => {
                    let local = self.text(part).to_string();
                    self.named_binding(
                        &local,
                        &spec,
                        Imported::Name("default".into()),
                        statement_type,
                        part,
                    );
                }
                "namespace_import" => {
                    let local = part
                        .named_children(&mut part.walk())
                        .find(|n| n.kind() == "identifier")
                        .map(|n| self.text(n).to_string())
                        .unwrap_or_default();
                    self.named_binding(&local, &spec, Imported::Namespace, statement_type, part);
                }
                "named_imports" => {
                    let mut c2 = part.walk();
                    for s in part.named_children(&mut c2) {
                        if s.kind() != "import_specifier" {
                            continue;
                        }
                        let Some(name) = s.child_by_field_name("name") else {
                            continue;
                        };
                        let imported = self
                            .literal(name)
                            .unwrap_or_else(|| self.text(name).to_string());
                        let local = s
                            .child_by_field_name("alias")
                            .map(|a| self.text(a).to_string())
                            .unwrap_or_else(|| imported.clone());
                        let ty = statement_type || has_token(s, "type");
                        self.named_binding(&local, &spec, Imported::Name(imported), ty, s);
                    }
                }
                _ => {}
            }
        }
        if self.syms.bindings.len() == before {
            // `import type {} from "x"` (for a module augmentation): it names the module, and
            // uses nothing of it.
            self.binding(Binding {
                local: String::new(),
                specifier: spec,
                imported: Imported::SideEffect,
                type_only: true,
                line: line(node),
            });
        }
    }

    fn export_statement(&mut self, node: Node<'t>) {
        let statement_type = has_token(node, "type");
        if let Some(source) = node.child_by_field_name("source") {
            let Some(spec) = self.literal(source) else {
                return;
            };
            let mut c = node.walk();
            let mut handled = false;
            for child in node.named_children(&mut c) {
                match child.kind() {
                    "export_clause" => {
                        handled = true;
                        let mut c2 = child.walk();
                        for s in child.named_children(&mut c2) {
                            if s.kind() != "export_specifier" {
                                continue;
                            }
                            let Some(name) = s.child_by_field_name("name") else {
                                continue;
                            };
                            let imported = self
                                .literal(name)
                                .unwrap_or_else(|| self.text(name).to_string());
                            let exported = s
                                .child_by_field_name("alias")
                                .map(|a| {
                                    self.literal(a).unwrap_or_else(|| self.text(a).to_string())
                                })
                                .unwrap_or_else(|| imported.clone());
                            let ty = statement_type || has_token(s, "type");
                            let b = self.binding(Binding {
                                local: String::new(),
                                specifier: spec.clone(),
                                imported: Imported::Name(imported),
                                type_only: ty,
                                line: line(s),
                            });
                            self.export(&exported, ExportTarget::Binding(b));
                        }
                    }
                    "namespace_export" => {
                        handled = true;
                        let name = child
                            .named_children(&mut child.walk())
                            .next()
                            .map(|n| self.literal(n).unwrap_or_else(|| self.text(n).to_string()))
                            .unwrap_or_default();
                        let b = self.binding(Binding {
                            local: String::new(),
                            specifier: spec.clone(),
                            imported: Imported::Namespace,
                            type_only: statement_type,
                            line: line(child),
                        });
                        self.export(&name, ExportTarget::Binding(b));
                    }
                    _ => {}
                }
            }
            if !handled {
                // `export * from "x"`
                let b = self.binding(Binding {
                    local: String::new(),
                    specifier: spec,
                    imported: Imported::Namespace,
                    type_only: statement_type,
                    line: line(node),
                });
                self.export("*", ExportTarget::Star(b));
            }
            return;
        }
        let default = has_token(node, "default");
        if let Some(decl) = node.child_by_field_name("declaration") {
            let as_name = if default { "default" } else { "" };
            self.statement(decl, Some(as_name));
            return;
        }
        if default {
            if let Some(value) = node.child_by_field_name("value") {
                match value.kind() {
                    "identifier" => {
                        let local = self.text(value).to_string();
                        self.deferred.push(("default".into(), local, line(value)));
                    }
                    "class"
                    | "function_expression"
                    | "function"
                    | "arrow_function"
                    | "generator_function" => {
                        if value.kind() == "class" {
                            self.class(value, Some("default"));
                        } else {
                            let i = self.decl(
                                "default",
                                DeclKind::Function,
                                Self::part(value),
                                false,
                                None,
                                Vis::Private,
                            );
                            self.export("default", ExportTarget::Decl(i));
                        }
                    }
                    _ => {
                        let mut part = Self::part(value);
                        part.in_body = true;
                        let i = self.decl(
                            "default",
                            DeclKind::Variable,
                            part,
                            false,
                            None,
                            Vis::Private,
                        );
                        self.export("default", ExportTarget::Decl(i));
                    }
                }
            }
            return;
        }
        let mut c = node.walk();
        let clause = node
            .named_children(&mut c)
            .find(|n| n.kind() == "export_clause");
        if let Some(clause) = clause {
            let mut c2 = clause.walk();
            for s in clause.named_children(&mut c2) {
                if s.kind() != "export_specifier" {
                    continue;
                }
                let Some(name) = s.child_by_field_name("name") else {
                    continue;
                };
                let local = self.text(name).to_string();
                let exported = s
                    .child_by_field_name("alias")
                    .map(|a| self.literal(a).unwrap_or_else(|| self.text(a).to_string()))
                    .unwrap_or_else(|| local.clone());
                self.deferred.push((exported, local, line(s)));
            }
            return;
        }
        if has_token(node, "=") {
            // `export = x`
            self.syms.commonjs = true;
            let mut c = node.walk();
            let value = node.named_children(&mut c).find(|n| n.kind() != "comment");
            match value {
                Some(v) if v.kind() == "identifier" => {
                    let local = self.text(v).to_string();
                    self.deferred.push(("default".into(), local, line(v)));
                }
                Some(v) => {
                    let mut part = Self::part(v);
                    part.in_body = true;
                    let i = self.decl(
                        "default",
                        DeclKind::Variable,
                        part,
                        false,
                        None,
                        Vis::Private,
                    );
                    self.export("default", ExportTarget::Decl(i));
                }
                None => {}
            }
            return;
        }
        // `export as namespace X`, `export import A = B`: not followed.
        self.unknown(node, "export form");
        self.add_effect(node);
    }

    fn class(&mut self, node: Node<'t>, export: Option<&str>) {
        let name = node
            .child_by_field_name("name")
            .map(|n| self.text(n).to_string())
            .unwrap_or_else(|| "default".to_string());
        let mut part = Self::part(node);
        part.header_only = true;
        let i = self.decl(&name, DeclKind::Class, part, false, None, Vis::Private);
        self.exported(i, &name, export);
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut c = body.walk();
        for m in body.named_children(&mut c) {
            let member_name = match m.kind() {
                "method_definition"
                | "method_signature"
                | "abstract_method_signature"
                | "public_field_definition"
                | "property_signature" => m
                    .child_by_field_name("name")
                    .map(|n| self.text(n).to_string()),
                "class_static_block" => Some("static".to_string()),
                "index_signature" => Some("[index]".to_string()),
                _ => None,
            };
            let Some(member_name) = member_name else {
                continue;
            };
            let private = member_name.starts_with('#') || {
                let mut c2 = m.walk();
                let p = m
                    .named_children(&mut c2)
                    .any(|x| x.kind() == "accessibility_modifier" && self.text(x) == "private");
                p
            };
            let type_level = matches!(
                m.kind(),
                "method_signature" | "abstract_method_signature" | "index_signature"
            ) || has_token(m, "declare");
            let mut part = Self::part(m);
            part.in_type = type_level;
            self.decl(
                &member_name,
                DeclKind::Member,
                part,
                type_level,
                Some(i),
                if private { Vis::Private } else { Vis::Public },
            );
        }
    }

    fn variables(&mut self, node: Node<'t>, export: Option<&str>) {
        let mut c = node.walk();
        let declarators: Vec<Node> = node
            .named_children(&mut c)
            .filter(|n| n.kind() == "variable_declarator")
            .collect();
        for d in declarators {
            let Some(pattern) = d.child_by_field_name("name") else {
                continue;
            };
            let value = d.child_by_field_name("value");
            // `const x = require("y")`, `const { a, b: c } = require("y")`,
            // `const x = require("y").z`: bindings, not declarations.
            if export.is_none() {
                if let Some((spec, member)) = value.and_then(|v| self.require_of(v)) {
                    match pattern.kind() {
                        "identifier" => {
                            let local = self.text(pattern).to_string();
                            let imported = match member {
                                Some(m) => Imported::Name(m),
                                None => Imported::Namespace,
                            };
                            self.named_binding(&local, &spec, imported, false, d);
                            continue;
                        }
                        "object_pattern"
                            if member.is_none() && self.destructured_require(pattern, &spec) =>
                        {
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            let mut names = Vec::new();
            self.pattern_names(pattern, &mut names);
            for name in names {
                let i = self.decl(
                    &name,
                    DeclKind::Variable,
                    Self::part(d),
                    false,
                    None,
                    Vis::Private,
                );
                self.exported(i, &name, export.map(|_| ""));
            }
        }
    }

    /// `const { a, b: c } = require("y")`: a binding per name; false (nothing bound) when the
    /// pattern has forms other than plain names.
    fn destructured_require(&mut self, pattern: Node<'t>, spec: &str) -> bool {
        let mut c = pattern.walk();
        let parts: Vec<Node> = pattern.named_children(&mut c).collect();
        let mut out = Vec::new();
        for p in &parts {
            match p.kind() {
                "shorthand_property_identifier_pattern" => {
                    let n = self.text(*p).to_string();
                    out.push((n.clone(), n));
                }
                "pair_pattern" => {
                    let (Some(k), Some(v)) =
                        (p.child_by_field_name("key"), p.child_by_field_name("value"))
                    else {
                        return false;
                    };
                    if v.kind() != "identifier" {
                        return false;
                    }
                    let key = self.literal(k).unwrap_or_else(|| self.text(k).to_string());
                    out.push((self.text(v).to_string(), key));
                }
                "comment" => {}
                _ => return false,
            }
        }
        for (local, imported) in out {
            self.named_binding(&local, spec, Imported::Name(imported), false, pattern);
        }
        true
    }

    /// `require("x")` → ("x", None); `require("x").y` → ("x", Some("y")).
    fn require_of(&self, v: Node) -> Option<(String, Option<String>)> {
        match v.kind() {
            "call_expression" => {
                let f = v.child_by_field_name("function")?;
                if f.kind() != "identifier" || self.text(f) != "require" {
                    return None;
                }
                let args = v.child_by_field_name("arguments")?;
                let mut c = args.walk();
                let first = args
                    .named_children(&mut c)
                    .find(|n| n.kind() != "comment")?;
                Some((self.literal(first)?, None))
            }
            "member_expression" => {
                let obj = v.child_by_field_name("object")?;
                let prop = v.child_by_field_name("property")?;
                let (spec, None) = self.require_of(obj)? else {
                    return None;
                };
                Some((spec, Some(self.text(prop).to_string())))
            }
            _ => None,
        }
    }

    /// The specifier of `import("x")` or `require("x")`.
    fn import_call(&self, n: Node) -> Option<String> {
        if n.kind() != "call_expression" {
            return None;
        }
        let f = n.child_by_field_name("function")?;
        let dynamic =
            f.kind() == "import" || (f.kind() == "identifier" && self.text(f) == "require");
        if !dynamic {
            return None;
        }
        let args = n.child_by_field_name("arguments")?;
        let mut c = args.walk();
        let first = args.named_children(&mut c).find(|x| x.kind() != "comment");
        first.and_then(|x| self.literal(x))
    }

    /// Names a declaration pattern binds.
    fn pattern_names(&self, p: Node, out: &mut Vec<String>) {
        match p.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                out.push(self.text(p).to_string())
            }
            _ => {
                let mut c = p.walk();
                for ch in p.named_children(&mut c) {
                    match ch.kind() {
                        "pair_pattern" => {
                            if let Some(v) = ch.child_by_field_name("value") {
                                self.pattern_names(v, out);
                            }
                        }
                        "assignment_pattern" | "object_assignment_pattern" => {
                            if let Some(l) = ch.child_by_field_name("left") {
                                self.pattern_names(l, out);
                            }
                        }
                        "identifier"
                        | "shorthand_property_identifier_pattern"
                        | "object_pattern"
                        | "array_pattern"
                        | "rest_pattern" => self.pattern_names(ch, out),
                        _ => {}
                    }
                }
            }
        }
    }

    fn expression_statement(&mut self, node: Node<'t>, export: Option<&str>) {
        let mut c = node.walk();
        let Some(e) = node.named_children(&mut c).find(|n| n.kind() != "comment") else {
            return;
        };
        match e.kind() {
            "internal_module" | "module" => self.statement(e, export),
            "assignment_expression" => {
                let (Some(left), Some(right)) = (
                    e.child_by_field_name("left"),
                    e.child_by_field_name("right"),
                ) else {
                    return self.add_effect(node);
                };
                match self.commonjs_target(left) {
                    Some(CjsTarget::Whole) => {
                        self.syms.commonjs = true;
                        let mut part = Self::part(right);
                        part.in_body = !FUNCTION_LIKE.contains(&right.kind());
                        let i = self.decl(
                            "default",
                            DeclKind::Variable,
                            part,
                            false,
                            None,
                            Vis::Private,
                        );
                        self.export("default", ExportTarget::Decl(i));
                        if right.kind() == "object" {
                            self.commonjs_object(right);
                        }
                        return;
                    }
                    Some(CjsTarget::Name(name)) => {
                        self.syms.commonjs = true;
                        let mut part = Self::part(right);
                        part.in_body = !FUNCTION_LIKE.contains(&right.kind());
                        let i =
                            self.decl(&name, DeclKind::Variable, part, false, None, Vis::Private);
                        self.export(&name, ExportTarget::Decl(i));
                        return;
                    }
                    Some(CjsTarget::Computed) => {
                        self.unknown(node, "computed module.exports property");
                    }
                    None => {}
                }
                self.add_effect(node);
            }
            _ => self.add_effect(node),
        }
    }

    /// `module.exports = { a, b: c }`: each key is also a named export of the value it names.
    fn commonjs_object(&mut self, obj: Node<'t>) {
        let mut c = obj.walk();
        for p in obj.named_children(&mut c) {
            let (key, local) = match p.kind() {
                "shorthand_property_identifier" => {
                    let n = self.text(p).to_string();
                    (n.clone(), n)
                }
                "pair" => {
                    let (Some(k), Some(v)) =
                        (p.child_by_field_name("key"), p.child_by_field_name("value"))
                    else {
                        continue;
                    };
                    if v.kind() != "identifier" {
                        continue;
                    }
                    (
                        self.literal(k).unwrap_or_else(|| self.text(k).to_string()),
                        self.text(v).to_string(),
                    )
                }
                _ => continue,
            };
            self.deferred.push((key, local, line(p)));
        }
    }

    fn commonjs_target(&self, left: Node) -> Option<CjsTarget> {
        let t = self.text(left);
        if t == "module.exports" {
            return Some(CjsTarget::Whole);
        }
        if left.kind() == "member_expression" {
            let obj = left.child_by_field_name("object")?;
            let prop = left.child_by_field_name("property")?;
            let o = self.text(obj);
            if o == "exports" || o == "module.exports" {
                return Some(CjsTarget::Name(self.text(prop).to_string()));
            }
        }
        if left.kind() == "subscript_expression" {
            let obj = left.child_by_field_name("object")?;
            let o = self.text(obj);
            if o == "exports" || o == "module.exports" {
                return Some(CjsTarget::Computed);
            }
        }
        None
    }

    fn finish_exports(&mut self) {
        for (exported, local, at) in std::mem::take(&mut self.deferred) {
            match self.names.get(&local).copied() {
                Some(Name::Decl(i)) => self.export(&exported, ExportTarget::Decl(i)),
                Some(Name::Binding(b)) => self.export(&exported, ExportTarget::Binding(b)),
                None => self.syms.unknown.push(Unknown {
                    line: at,
                    what: format!("export of `{local}`, which the file does not declare"),
                }),
            }
        }
        // Public members of exported classes are visible outside the file.
        for i in 0..self.syms.decls.len() {
            if let Some(Ref::Decl(o)) = self.syms.decls[i].owner {
                if self.syms.decls[o as usize].vis == Vis::Private {
                    self.syms.decls[i].vis = Vis::Private;
                }
            }
        }
    }

    /// Pass 2: hash each declaration and collect its references.
    fn hash_and_refs(&mut self) {
        for i in 0..self.syms.decls.len() {
            let parts = self.parts[i].clone();
            let mut h = Hashes::new();
            self.seen_refs = std::mem::take(&mut self.syms.decls[i].refs);
            let class = match self.syms.decls[i].owner {
                Some(Ref::Decl(o)) => Some(o),
                _ if self.syms.decls[i].kind == DeclKind::Class => Some(i as u32),
                _ => None,
            };
            for p in parts {
                h.text(p.node.kind(), false, false);
                self.walk(p, &mut h, i as u32, class);
            }
            let (hash, sig, runtime) = h.finish();
            let mut members = std::mem::take(&mut self.seen_members);
            members.sort();
            members.dedup();
            self.syms.decls[i].members_used = members;
            let mut refs = std::mem::take(&mut self.seen_refs);
            refs.sort();
            // One entry per target: `sig` when any use is outside the body.
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

    fn add_ref(&mut self, target: Ref, sig: bool, me: u32) {
        if target == Ref::Decl(me) {
            return;
        }
        self.seen_refs.push(RefAt { target, sig });
    }

    fn lookup(&self, name: &str) -> Option<Name> {
        self.names.get(name).copied()
    }

    fn walk(&mut self, part: Part<'t>, h: &mut Hashes, me: u32, class: Option<u32>) {
        // (node, field in parent, in_body, in_type) or the end of a node.
        enum Step<'t> {
            Enter(Node<'t>, Option<&'t str>, &'t str, bool, bool),
            Exit(bool, bool),
        }
        let mut stack = vec![Step::Enter(
            part.node,
            None,
            "program",
            part.in_body,
            part.in_type,
        )];
        let root = part.node;
        while let Some(step) = stack.pop() {
            let (node, field, parent, in_body, in_type) = match step {
                Step::Exit(b, t) => {
                    h.mark(0xffff, b, t);
                    continue;
                }
                Step::Enter(n, f, p, b, t) => (n, f, p, b, t),
            };
            let kind = node.kind();
            if kind == "comment" {
                continue;
            }
            let in_type = in_type || TYPE_KINDS.contains(&kind);
            if node.child_count() == 0 {
                if !node.is_named() {
                    // Formatting: statement terminators, separators, quote style.
                    if matches!(kind, ";" | "," | "\"" | "'") {
                        continue;
                    }
                    h.text(kind, in_body, in_type);
                    continue;
                }
                let text = self.text(node);
                if kind == "jsx_text" {
                    let s = squash(text);
                    if !s.is_empty() {
                        h.text(&s, in_body, in_type);
                    }
                    continue;
                }
                h.text(kind, in_body, in_type);
                h.text(text, in_body, in_type);
                self.leaf_ref(node, field, parent, in_body, in_type, me);
                continue;
            }
            // Redundant parentheses are formatting (the tree already says how things group).
            if kind == "parenthesized_expression" {
                let mut c = node.walk();
                let inner: Vec<Node> = node.named_children(&mut c).collect();
                for ch in inner.into_iter().rev() {
                    stack.push(Step::Enter(ch, None, kind, in_body, in_type));
                }
                continue;
            }
            // Member access: `ns.f` on a namespace binding, `this.m` in a class.
            if kind == "member_expression" || kind == "nested_type_identifier" {
                let (obj, prop) = if kind == "member_expression" {
                    (
                        node.child_by_field_name("object"),
                        node.child_by_field_name("property"),
                    )
                } else {
                    (
                        node.child_by_field_name("module"),
                        node.child_by_field_name("name"),
                    )
                };
                if let (Some(obj), Some(prop)) = (obj, prop) {
                    let member = self.text(prop).to_string();
                    if kind == "member_expression" {
                        self.seen_members.push(member.clone());
                    }
                    // `import("x").T`, `require("x").f`: one name of the module.
                    if let Some(spec) = self.import_call(obj) {
                        let b = self.binding(Binding {
                            local: String::new(),
                            specifier: spec,
                            imported: Imported::Namespace,
                            type_only: in_type,
                            line: line(node),
                        });
                        self.add_ref(
                            Ref::Binding {
                                binding: b,
                                member: Some(member.clone()),
                            },
                            !in_body || in_type,
                            me,
                        );
                        h.text(kind, in_body, in_type);
                        h.text(self.text(node), in_body, in_type);
                        continue;
                    }
                    if obj.kind() == "identifier" {
                        if let Some(Name::Binding(b)) = self.lookup(self.text(obj)) {
                            if self.syms.bindings[b as usize].imported == Imported::Namespace {
                                self.add_ref(
                                    Ref::Binding {
                                        binding: b,
                                        member: Some(member.clone()),
                                    },
                                    !in_body || in_type,
                                    me,
                                );
                                h.text(kind, in_body, in_type);
                                h.text(self.text(obj), in_body, in_type);
                                h.text(&member, in_body, in_type);
                                continue;
                            }
                        }
                    }
                    if obj.kind() == "this" {
                        if let Some(c) = class {
                            if let Some(&m) = self.members.get(&(c, member.clone())) {
                                self.add_ref(Ref::Decl(m), !in_body || in_type, me);
                            }
                        }
                    }
                }
            }
            // Dynamic `import("x")` and `require("x")` inside a declaration: the whole module.
            if let Some(spec) = self.import_call(node) {
                let b = self.binding(Binding {
                    local: String::new(),
                    specifier: spec,
                    imported: Imported::Namespace,
                    type_only: in_type,
                    line: line(node),
                });
                self.add_ref(
                    Ref::Binding {
                        binding: b,
                        member: None,
                    },
                    !in_body || in_type,
                    me,
                );
            }
            h.mark(kind_mark(kind), in_body, in_type);
            stack.push(Step::Exit(in_body, in_type));
            // `x => …` and `(x) => …` are the same function.
            if kind == "arrow_function" {
                let params = node
                    .child_by_field_name("parameters")
                    .or_else(|| node.child_by_field_name("parameter"));
                if let Some(p) = params {
                    if let Some(id) = single_plain_parameter(p) {
                        let body = node.child_by_field_name("body");
                        if let Some(b) = body {
                            stack.push(Step::Enter(b, Some("body"), kind, true, in_type));
                        }
                        stack.push(Step::Enter(id, Some("pattern"), kind, in_body, in_type));
                        continue;
                    }
                }
            }
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
            let skip_after_first = matches!(kind, "as_expression" | "satisfies_expression");
            let first_named = node.named_child(0);
            for (ch, f) in children.into_iter().rev() {
                // A class header: its members are declarations of their own.
                if part.header_only && node == root && f == Some("body") {
                    continue;
                }
                let mut b = in_body;
                let mut t = in_type;
                if f == Some("body") && FUNCTION_LIKE.contains(&kind) {
                    b = true;
                }
                if f == Some("value")
                    && matches!(kind, "variable_declarator" | "public_field_definition")
                    && !FUNCTION_LIKE.contains(&ch.kind())
                    && ch.kind() != "class"
                {
                    b = true;
                }
                if kind == "non_null_expression" && !ch.is_named() {
                    t = true;
                }
                if skip_after_first {
                    // Children are visited last to first here: every child but the first
                    // expression is the type.
                    if first_named != Some(ch) {
                        t = true;
                    }
                }
                stack.push(Step::Enter(ch, f, kind, b, t));
            }
        }
    }

    /// A leaf that may name a top-level declaration or binding.
    fn leaf_ref(
        &mut self,
        node: Node,
        field: Option<&str>,
        parent: &str,
        in_body: bool,
        in_type: bool,
        me: u32,
    ) {
        let kind = node.kind();
        let names = matches!(
            kind,
            "identifier" | "type_identifier" | "shorthand_property_identifier"
        );
        if !names {
            return;
        }
        // Names being declared, not used.
        let declares = match field {
            Some("name") => DECLARING.contains(&parent),
            Some("pattern") | Some("label") | Some("parameter") | Some("alias") => true,
            _ => matches!(parent, "type_parameter" | "array_pattern" | "rest_pattern"),
        };
        if declares {
            return;
        }
        let sig = !in_body || in_type;
        match self.lookup(self.text(node)) {
            Some(Name::Decl(d)) => self.add_ref(Ref::Decl(d), sig, me),
            Some(Name::Binding(b)) => self.add_ref(
                Ref::Binding {
                    binding: b,
                    member: None,
                },
                sig,
                me,
            ),
            None => {}
        }
    }
}

enum CjsTarget {
    Whole,
    Name(String),
    Computed,
}

/// A structural marker for a node kind (stable: hashed from the kind's name, so the TypeScript
/// and TSX grammars agree).
fn kind_mark(kind: &str) -> u16 {
    let h = crate::hash::fnv1a(kind.as_bytes());
    (h as u16) ^ ((h >> 16) as u16) ^ ((h >> 32) as u16)
}

/// `(x)` with no type, default or modifier: the identifier.
fn single_plain_parameter(p: Node) -> Option<Node> {
    if p.kind() == "identifier" {
        return Some(p);
    }
    if p.kind() != "formal_parameters" || p.named_child_count() != 1 {
        return None;
    }
    let only = p.named_child(0)?;
    if only.kind() != "required_parameter" || only.named_child_count() != 1 {
        return None;
    }
    let id = only.child_by_field_name("pattern")?;
    (id.kind() == "identifier").then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syms(src: &str) -> Symbols {
        extract(Lang::TypeScript, src)
    }

    fn names(s: &Symbols) -> Vec<(String, DeclKind, Vis)> {
        s.decls
            .iter()
            .map(|d| (d.name.clone(), d.kind, d.vis))
            .collect()
    }

    fn refs_of(s: &Symbols, name: &str) -> Vec<String> {
        let d = s.decls.iter().find(|d| d.name == name).unwrap();
        d.refs
            .iter()
            .map(|r| match &r.target {
                Ref::Decl(i) => s.decls[*i as usize].name.clone(),
                Ref::Binding { binding, member } => {
                    let b = &s.bindings[*binding as usize];
                    match member {
                        Some(m) => format!("{}#{}.{m}", b.specifier, b.local),
                        None => format!("{}#{}", b.specifier, b.local),
                    }
                }
                Ref::Path(p) => p.join("::"),
            })
            .collect()
    }

    #[test]
    fn declarations_exports_and_members() {
        let s = syms(
            "import d, { a as b } from './x';\nimport * as ns from './ns';\nexport { q as r } from './q';\nexport * from './s';\nexport default function f(x: T) { return ns.g(x) + b; }\nexport const k = (y) => y, m = 2;\nclass C { private h() { this.k(); } k() { return d; } }\ninterface I { a: string }\ntype U = I;\nfunction helper() { return k; }\nexport { helper as h2 };\nrun(helper);\n",
        );
        use DeclKind::*;
        use Vis::*;
        assert_eq!(
            names(&s),
            vec![
                ("f".to_string(), Function, Public),
                ("k".into(), Variable, Public),
                ("m".into(), Variable, Public),
                ("C".into(), Class, Private),
                ("C::h".into(), Member, Private),
                ("C::k".into(), Member, Private),
                ("I".into(), Interface, Private),
                ("U".into(), Type, Private),
                ("helper".into(), Function, Public),
                ("<top-level>".into(), Effects, Private),
            ]
        );
        assert_eq!(refs_of(&s, "f"), vec!["./x#b", "./ns#ns.g"]);
        assert_eq!(refs_of(&s, "C::h"), vec!["C::k"]);
        assert_eq!(refs_of(&s, "C::k"), vec!["./x#d"]);
        assert_eq!(refs_of(&s, "U"), vec!["I"]);
        assert_eq!(refs_of(&s, "helper"), vec!["k"]);
        assert_eq!(refs_of(&s, "<top-level>"), vec!["helper"]);
        let ex: Vec<&str> = s.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(ex, vec!["r", "*", "default", "k", "m", "h2"]);
        assert!(s.decls.iter().find(|d| d.name == "I").unwrap().type_level);
    }

    #[test]
    fn commonjs_and_requires() {
        let s = extract(
            Lang::Tsx,
            "const { aa, bb: cc } = require('./cjs');\nconst lib = require('./lib');\nfunction f() { return aa + cc + lib.x + require('./late'); }\nmodule.exports = { f };\nexports.g = () => import('./dyn');\n",
        );
        assert!(s.commonjs);
        assert_eq!(
            refs_of(&s, "f"),
            vec!["./cjs#aa", "./cjs#cc", "./lib#lib.x", "./late#"]
        );
        assert_eq!(refs_of(&s, "g"), vec!["./dyn#"]);
        let ex: Vec<&str> = s.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(ex, vec!["default", "g", "f"]);
        let cjs = &s.bindings[1];
        assert_eq!(
            (cjs.local.as_str(), &cjs.imported),
            ("cc", &Imported::Name("bb".into()))
        );
    }

    #[test]
    fn jsx_names_are_references() {
        let s = extract(
            Lang::Tsx,
            "import { Button } from './button';\nimport * as UI from './ui';\nexport const Page = () => <div><Button label=\"x\" /><UI.Card>hi   there</UI.Card></div>;\n",
        );
        assert_eq!(refs_of(&s, "Page"), vec!["./button#Button", "./ui#UI.Card"]);
    }

    #[test]
    fn import_type_members_name_one_export() {
        let s = syms("export type Page = import('./checkout').default;\nexport const f = () => require('./x').y;\n");
        assert_eq!(refs_of(&s, "Page"), vec!["./checkout#.default"]);
        assert_eq!(refs_of(&s, "f"), vec!["./x#.y"]);
    }

    #[test]
    fn generic_type_names_are_uses() {
        let s = syms(
            "import type { P } from './p';\ntype R<T> = Box<P<T>>;\ninterface I<T> { r: R<T> }\n",
        );
        assert_eq!(refs_of(&s, "R"), vec!["./p#P"]);
        assert_eq!(refs_of(&s, "I"), vec!["R"]);
    }

    #[test]
    fn broken_code_never_panics() {
        for src in [
            "export {",
            "import { a as } from",
            "class { m( }",
            "module.exports[",
            "export default",
            "const { a } = require(",
            "export * as from 'x'",
        ] {
            let _ = extract(Lang::TypeScript, src);
            let _ = extract(Lang::Tsx, src);
        }
    }
}
