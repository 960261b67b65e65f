//! TypeScript / JavaScript front end.
//!
//! One pass over the syntax tree collects every way a module can name another: static imports
//! (`import … from`, side-effect `import "x"`, `import type`), re-exports (`export … from`,
//! `export * from`), dynamic `import("x")`, `require("x")`, `import x = require("x")`, type
//! references `import("x").T`, and triple-slash `/// <reference path="x" />` directives.
//! Only literal specifiers count (a string, or a template literal without substitutions).

use tree_sitter::{Node, Parser, Tree};

use super::{FileFacts, Import, ImportKind, Lang};

thread_local! {
    /// One parser per thread and grammar: creating a parser and loading a grammar per file is
    /// measurable on repositories of thousands of small files.
    static PARSERS: std::cell::RefCell<Vec<(Lang, Parser)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Facts of one file: from the lexical scanner ([`super::ts_scan`]) when it is sure of them,
/// else from the tree-sitter walk. Both give the same imports; `syntax_errors` is only counted
/// for files that went through tree-sitter.
pub fn extract(lang: Lang, source: &str) -> FileFacts {
    super::ts_scan::scan(lang, source).unwrap_or_else(|| extract_tree_sitter(lang, source))
}

/// Facts of one file from the tree-sitter parse, always (the reference the scanner is tested
/// against).
pub fn extract_tree_sitter(lang: Lang, source: &str) -> FileFacts {
    let lines = source.lines().count() as u32;
    let tree = parse_tree(lang, source);
    let Some(tree) = tree else {
        return FileFacts {
            syntax_errors: 1,
            lines,
            ..FileFacts::default()
        };
    };
    let mut facts = FileFacts {
        lines,
        ..FileFacts::default()
    };
    let src = source.as_bytes();
    let mut cursor = tree.walk();
    // Iterative pre-order walk: no recursion, so deeply nested generated code cannot overflow.
    'walk: loop {
        let node = cursor.node();
        visit(node, src, &mut facts);
        if (node.is_error() || node.is_missing()) && facts.syntax_errors < u32::MAX {
            facts.syntax_errors += 1;
        }
        if node.child_count() > 0 && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    facts
}

/// The tree-sitter parse of `source` with this thread's parser for `lang`.
pub(super) fn parse_tree(lang: Lang, source: &str) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let idx = match parsers.iter().position(|(l, _)| *l == lang) {
            Some(i) => i,
            None => {
                let mut p = Parser::new();
                p.set_language(&lang.grammar()).ok()?;
                parsers.push((lang, p));
                parsers.len() - 1
            }
        };
        parsers[idx].1.parse(source, None)
    })
}

fn text<'a>(node: Node, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

/// The value of a string literal or a template literal without substitutions.
fn literal(node: Node, src: &[u8]) -> Option<String> {
    match node.kind() {
        "string" => {
            let t = text(node, src);
            if t.len() >= 2 {
                Some(t[1..t.len() - 1].to_string())
            } else {
                None
            }
        }
        "template_string" => {
            let mut c = node.walk();
            if node
                .named_children(&mut c)
                .any(|n| n.kind() == "template_substitution")
            {
                return None;
            }
            let t = text(node, src);
            (t.len() >= 2).then(|| t[1..t.len() - 1].to_string())
        }
        _ => None,
    }
}

fn line_of(node: Node) -> u32 {
    node.start_position().row as u32 + 1
}

fn has_keyword(node: Node, kw: &str) -> bool {
    let mut c = node.walk();
    let found = node
        .children(&mut c)
        .any(|n| !n.is_named() && n.kind() == kw);
    found
}

fn push(facts: &mut FileFacts, spec: String, at: Node, kind: ImportKind, type_only: bool) {
    if spec.is_empty() {
        return;
    }
    facts.imports.push(Import {
        specifier: spec,
        line: line_of(at),
        kind,
        type_only,
    });
}

fn visit(node: Node, src: &[u8], facts: &mut FileFacts) {
    match node.kind() {
        "import_statement" => import_statement(node, src, facts),
        "export_statement" => {
            if let Some(source) = node.child_by_field_name("source") {
                if let Some(spec) = literal(source, src) {
                    let type_only = has_keyword(node, "type") || all_specifiers_type(node);
                    push(facts, spec, source, ImportKind::ReExport, type_only);
                }
            }
        }
        "call_expression" => {
            let Some(func) = node.child_by_field_name("function") else {
                return;
            };
            let kind = match func.kind() {
                // `import("x").T` and `typeof import("x")` in a type position.
                "import" if in_type_position(node) => ImportKind::TypeImport,
                "import" => ImportKind::Dynamic,
                "identifier" if text(func, src) == "require" => ImportKind::Require,
                _ => return,
            };
            if let Some(arg) = first_argument(node) {
                if let Some(spec) = literal(arg, src) {
                    push(facts, spec, arg, kind, kind == ImportKind::TypeImport);
                }
            }
        }
        "comment" => {
            let t = text(node, src);
            if let Some(spec) = reference_path(t) {
                push(facts, spec, node, ImportKind::Reference, true);
            }
        }
        _ => {}
    }
}

fn import_statement(node: Node, src: &[u8], facts: &mut FileFacts) {
    let statement_type = has_keyword(node, "type");
    if let Some(source) = node.child_by_field_name("source") {
        let Some(spec) = literal(source, src) else {
            return;
        };
        let mut c = node.walk();
        let clause = node
            .named_children(&mut c)
            .find(|n| n.kind() == "import_clause");
        let kind = if clause.is_some() {
            ImportKind::Import
        } else {
            ImportKind::SideEffect
        };
        let type_only = statement_type || clause.is_some_and(|cl| clause_all_type(cl));
        push(facts, spec, source, kind, type_only);
        return;
    }
    // `import x = require("x")`
    let mut c = node.walk();
    for child in node.named_children(&mut c) {
        if child.kind() == "import_require_clause" {
            if let Some(source) = child.child_by_field_name("source") {
                if let Some(spec) = literal(source, src) {
                    push(
                        facts,
                        spec,
                        source,
                        ImportKind::ImportEquals,
                        statement_type,
                    );
                }
            }
        }
    }
}

/// `import { type A, type B } from "x"`: every binding is type-only and there is no default or
/// namespace binding.
fn clause_all_type(clause: Node) -> bool {
    let mut c = clause.walk();
    let mut any = false;
    for child in clause.named_children(&mut c) {
        match child.kind() {
            "named_imports" => {
                let mut c2 = child.walk();
                for spec in child.named_children(&mut c2) {
                    if spec.kind() == "import_specifier" {
                        any = true;
                        if !has_keyword(spec, "type") {
                            return false;
                        }
                    }
                }
            }
            _ => return false,
        }
    }
    any
}

/// `export { type A } from "x"`.
fn all_specifiers_type(node: Node) -> bool {
    let mut c = node.walk();
    let Some(clause) = node
        .named_children(&mut c)
        .find(|n| n.kind() == "export_clause")
    else {
        return false;
    };
    let mut c2 = clause.walk();
    let mut any = false;
    for spec in clause.named_children(&mut c2) {
        if spec.kind() == "export_specifier" {
            any = true;
            if !has_keyword(spec, "type") {
                return false;
            }
        }
    }
    any
}

fn first_argument(call: Node) -> Option<Node> {
    let args = call.child_by_field_name("arguments")?;
    let mut c = args.walk();
    let first = args.named_children(&mut c).find(|n| n.kind() != "comment");
    first
}

/// Whether a node sits inside a type (annotation, alias, `typeof`, type arguments, signatures).
fn in_type_position(node: Node) -> bool {
    const TYPE_KINDS: &[&str] = &[
        "type_annotation",
        "type_alias_declaration",
        "type_query",
        "type_arguments",
        "interface_body",
        "property_signature",
        "method_signature",
        "index_signature",
        "generic_type",
        "union_type",
        "intersection_type",
        "array_type",
        "tuple_type",
        "lookup_type",
        "conditional_type",
        "function_type",
        "asserts_annotation",
        "type_predicate_annotation",
    ];
    let mut p = node.parent();
    while let Some(n) = p {
        let k = n.kind();
        if TYPE_KINDS.contains(&k) {
            return true;
        }
        if matches!(
            k,
            "statement_block" | "program" | "class_body" | "arguments"
        ) {
            return false;
        }
        p = n.parent();
    }
    false
}

/// `/// <reference path="./x.d.ts" />` → `./x.d.ts`.
pub(super) fn reference_path(comment: &str) -> Option<String> {
    let rest = comment.strip_prefix("///")?.trim_start();
    let rest = rest.strip_prefix("<reference")?;
    let at = rest.find("path")?;
    let rest = rest[at + 4..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let body = &rest[1..];
    let end = body.find(quote)?;
    let p = &body[..end];
    // A reference path is always a relative file name in TypeScript's own rules.
    if p.starts_with('.') || p.starts_with('/') {
        Some(p.to_string())
    } else {
        Some(format!("./{p}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(lang: Lang, src: &str) -> Vec<(String, u32, ImportKind, bool)> {
        extract(lang, src)
            .imports
            .into_iter()
            .map(|i| (i.specifier, i.line, i.kind, i.type_only))
            .collect()
    }

    #[test]
    fn every_import_form() {
        let src = r#"/// <reference path="./globals.d.ts" />
import a from "./a";
import "./side";
import type { T } from "./types";
import { type U, type V } from "./uv";
import { type W, x } from "./wx";
export { b } from "./b";
export * from "./c";
export type { D } from "./d";
const e = await import("./e");
const f = require("./f");
import g = require("./g");
type H = import("./h").H;
function q(a: typeof import("./m")) {}
const i = require(`./i`);
const j = require(`./${name}`);
const k = <any>foo;
"#;
        let got = imports(Lang::TypeScript, src);
        use ImportKind::*;
        let want = vec![
            ("./globals.d.ts".to_string(), 1, Reference, true),
            ("./a".to_string(), 2, Import, false),
            ("./side".to_string(), 3, SideEffect, false),
            ("./types".to_string(), 4, Import, true),
            ("./uv".to_string(), 5, Import, true),
            ("./wx".to_string(), 6, Import, false),
            ("./b".to_string(), 7, ReExport, false),
            ("./c".to_string(), 8, ReExport, false),
            ("./d".to_string(), 9, ReExport, true),
            ("./e".to_string(), 10, Dynamic, false),
            ("./f".to_string(), 11, Require, false),
            ("./g".to_string(), 12, ImportEquals, false),
            ("./h".to_string(), 13, TypeImport, true),
            ("./m".to_string(), 14, TypeImport, true),
            ("./i".to_string(), 15, Require, false),
        ];
        assert_eq!(got, want);
        assert_eq!(extract(Lang::TypeScript, src).syntax_errors, 0);
    }

    #[test]
    fn jsx_and_commonjs_with_tsx_grammar() {
        let src = "const React = require('react');\nexport const A = () => <div>{require('./x')}</div>;\n";
        let got = imports(Lang::Tsx, src);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, "./x");
        assert_eq!(extract(Lang::Tsx, src).syntax_errors, 0);
    }

    #[test]
    fn syntax_errors_still_yield_imports() {
        let src = "import a from './a';\nfunction ( {\nimport b from './b';\n";
        let f = extract(Lang::TypeScript, src);
        assert!(f.syntax_errors > 0);
        assert!(f.imports.iter().any(|i| i.specifier == "./a"));
    }

    #[test]
    fn non_import_calls_are_ignored() {
        let got = imports(Lang::Tsx, "foo('./x'); obj.require('./y'); require(x);");
        assert!(got.is_empty(), "{got:?}");
    }
}
