//! Language front ends: from source bytes to the facts later stages need.
//!
//! Each front end extracts import facts (with their line and whether they are type-only) from a
//! tree-sitter parse. Files with syntax errors still yield what can be read: tree-sitter recovers,
//! and the error count is kept as a fact. TypeScript / JavaScript files first go through a lexical
//! import scanner ([`ts_scan`]) that yields the same imports far faster, and falls back to
//! tree-sitter whenever it is not sure.
//!
//! Symbols (declarations, what they reference, import bindings and exports: [`symbols`]) need a
//! real parse, so they are extracted on demand for the files a change can reach, not for every
//! file, and kept with the file's facts once extracted.

pub mod json;
pub mod rust;
pub mod rust_symbols;
pub mod symbols;
pub mod ts_scan;
pub mod ts_symbols;
pub mod typescript;

use serde::{Deserialize, Serialize};

/// A grammar pr-risk parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    /// `.ts .mts .cts` (the TypeScript grammar: `<T>x` casts parse).
    TypeScript,
    /// `.tsx .js .jsx .mjs .cjs` (the TSX grammar, which reads plain JavaScript too).
    Tsx,
    /// `.rs` (tree-sitter-rust).
    Rust,
}

/// The family a language belongs to, for module resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    JavaScript,
    Rust,
}

impl Lang {
    pub fn of_path(path: &str) -> Option<Lang> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.')?.1;
        match ext {
            "ts" | "mts" | "cts" => Some(Lang::TypeScript),
            "tsx" | "js" | "jsx" | "mjs" | "cjs" => Some(Lang::Tsx),
            "rs" => Some(Lang::Rust),
            _ => None,
        }
    }

    pub fn family(self) -> Family {
        match self {
            Lang::TypeScript | Lang::Tsx => Family::JavaScript,
            Lang::Rust => Family::Rust,
        }
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }
}

/// How a dependency was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// `import … from "x"`
    Import,
    /// `import "x"`
    SideEffect,
    /// `export … from "x"`, `export * from "x"`
    ReExport,
    /// `import("x")`
    Dynamic,
    /// `require("x")`
    Require,
    /// `import x = require("x")`
    ImportEquals,
    /// `import("x").T` in a type position
    TypeImport,
    /// `/// <reference path="x" />`
    Reference,
    /// Rust `mod x;`: the declaring module owns the file. A containment edge, not a use: it
    /// makes no dependent (see [`ImportKind::is_use`]).
    Mod,
    /// Rust `use a::b;`
    Use,
    /// Rust path in code or types: `crate::a::f()`, `other_crate::T`
    Path,
    /// Rust `extern crate x;`
    ExternCrate,
    /// Rust `pub use a::b;` (any visibility). Unlike a TypeScript re-export it does not
    /// propagate: resolution follows re-exports, so every user of the name also has a direct edge
    /// to the file that defines it.
    PubUse,
}

impl ImportKind {
    /// Whether a dependent through this edge is itself affected by what the target affects.
    /// A Rust `mod x;` declaration only includes the file in the crate, and a Rust `pub use`
    /// only forwards a name whose users get their own edge to its definition: the declaring or
    /// re-exporting module's dependents are not affected through it.
    pub fn propagates(self) -> bool {
        !matches!(self, ImportKind::Mod | ImportKind::PubUse)
    }

    /// Whether the importing file depends on the target at all. A Rust `mod x;` declaration is
    /// structure (it says where `x` sits in the crate), not use: the declaring module is not a
    /// dependent of `x` unless it also uses or re-exports it.
    pub fn is_use(self) -> bool {
        self != ImportKind::Mod
    }
}

/// One dependency a file declares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Import {
    pub specifier: String,
    /// 1-based line of the specifier.
    pub line: u32,
    pub kind: ImportKind,
    /// Erased at compile time (`import type`, `export type … from`, type positions).
    pub type_only: bool,
}

/// What a front end extracted from one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileFacts {
    pub imports: Vec<Import>,
    /// Number of ERROR / MISSING nodes tree-sitter recovered from. Only counted for files
    /// tree-sitter parsed: TypeScript / JavaScript files read by the lexical import scanner
    /// report 0 (nothing outside the front ends reads this count).
    pub syntax_errors: u32,
    pub lines: u32,
    /// Rust module facts (resolved against the whole crate, not one import at a time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust: Option<rust::RustFacts>,
    /// Declarations and references, once extracted ([`symbols::extract`]): not by the ordinary
    /// parse, only for the files impact visits (see [`symbols`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols: Option<std::sync::Arc<symbols::Symbols>>,
}

/// Parse `source` as `lang` and extract its facts. Never fails: a file tree-sitter cannot parse at
/// all yields empty facts with one syntax error.
pub fn extract(lang: Lang, source: &str) -> FileFacts {
    match lang {
        Lang::TypeScript | Lang::Tsx => typescript::extract(lang, source),
        Lang::Rust => rust::extract(source),
    }
}
