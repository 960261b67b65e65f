//! Symbols: a file's declarations, what each of them references, and (TypeScript / JavaScript)
//! its import bindings and exports. Impact reads them to tell what a change can really break:
//! which declarations changed, and which declarations (in this file and in the files that import
//! it) use them.
//!
//! Symbols need a real parse (tree-sitter), which the fast import scanner avoids. So they are not
//! part of every file's facts: they are extracted on demand, for the files a change can reach
//! (the changed files and, level by level, the importers of what changed), and cached with the
//! file's facts once extracted ([`super::FileFacts::symbols`]).
//!
//! **Declarations** are the top-level ones (TypeScript: functions, classes, variables, types,
//! interfaces, enums, namespaces, `export default …`, CommonJS `module.exports`/`exports.x`;
//! Rust: items of the file and of its inline modules), class and `impl` members as
//! `Type::member`, and one `<top-level>` pseudo-declaration for a TypeScript file's top-level
//! statements that are not declarations (their side effects run when the file is loaded).
//!
//! **Token hashes.** Each declaration carries three hashes of its syntax tree — comments,
//! whitespace and formatting (semicolons, trailing commas, quote style, redundant parentheses,
//! `x => …` versus `(x) => …`) do not enter them: `hash` (everything), `sig` (everything outside
//! function bodies and initialisers) and `runtime` (everything outside TypeScript type positions:
//! annotations, type arguments, `as T`, `implements`, accessibility modifiers). Comparing them
//! classifies a change ([`diff`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::Lang;

/// What one file declares and references.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbols {
    pub decls: Vec<Decl>,
    /// TypeScript / JavaScript: every way the file names another module (imports, re-exports,
    /// `require`, dynamic `import()`), each as a binding (unnamed ones have an empty `local`).
    pub bindings: Vec<Binding>,
    /// TypeScript / JavaScript: what the file exports, by exported name.
    pub exports: Vec<Export>,
    /// Rust: the inline modules (`mod x { … }`) the declarations sit in; a declaration's `scope`
    /// is 0 for the file itself, `i + 1` for `scopes[i]`.
    pub scopes: Vec<Scope>,
    /// Forms read only at file level (an `export import`, a computed `module.exports[…]`, …).
    pub unknown: Vec<Unknown>,
    /// The parser could not read the file at all (no declarations). Top-level code it could not
    /// read is an [`DeclKind::Unparsed`] declaration; errors inside a declaration stay in its
    /// tokens.
    pub syntax_errors: bool,
    /// The file assigns `module.exports` (CommonJS): a name it does not export by itself is a
    /// property of its default export.
    pub commonjs: bool,
}

/// A Rust inline module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub name: String,
    /// 0 for the file, `i + 1` for `scopes[i]`.
    pub parent: u32,
}

/// A form the symbol reader does not follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unknown {
    pub line: u32,
    pub what: String,
}

/// One declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decl {
    /// `total`, `Cart::add`, `default`, `<top-level>`; Rust items in inline modules are
    /// qualified by the module path (`tests::helper`).
    pub name: String,
    pub kind: DeclKind,
    pub vis: Vis,
    /// Rust: the inline module it sits in (see [`Symbols::scopes`]); 0 otherwise.
    pub scope: u32,
    /// The type a member belongs to: a declaration of this file (TypeScript classes), or a path
    /// resolved like a reference (Rust `impl` blocks, whose type may live elsewhere).
    pub owner: Option<Ref>,
    /// Rust members of `impl Trait for Type`: the trait. When the trait is the repository's
    /// own, the method is reached only through it (callers must have it in scope), so the
    /// trait is the owner that matters; a foreign trait's methods (`Display`, `From`) are called
    /// through the type.
    pub via_trait: Option<Ref>,
    /// First and last line (1-based).
    pub start: u32,
    pub end: u32,
    pub hash: u64,
    pub sig: u64,
    pub runtime: u64,
    /// Erased at compile time (TypeScript `type`, `interface`, `declare`; Rust `type` aliases).
    pub type_level: bool,
    /// Test code inside a production file (Rust `#[cfg(test)]` modules, `#[test]` functions):
    /// reached like a test file, never propagating.
    pub test: bool,
    /// What it references (each target once; `sig` when one use is outside its body).
    pub refs: Vec<RefAt>,
    /// The member names it accesses on values (`x.total()`, `T::new`, `obj.price`), sorted: a
    /// type affected by a change to one of its members reaches only the code that names it and
    /// accesses a member of that name.
    pub members_used: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeclKind {
    Function,
    Class,
    Variable,
    Type,
    Interface,
    Enum,
    Namespace,
    /// A class or `impl` member (method, field, associated item).
    Member,
    /// TypeScript top-level statements that are not declarations.
    Effects,
    /// TypeScript `declare module`/`declare global` blocks.
    Declare,
    Struct,
    Trait,
    /// The header of a Rust `impl` block (`impl Display for S`).
    Impl,
    Const,
    Static,
    /// `macro_rules!`.
    Macro,
    /// An item-position macro call (`lazy_static! { … }`): the items it makes are unknown.
    MacroCall,
    /// Top-level code the parser could not read (`<unparsed 1>`): a change inside it changes
    /// the file as a whole.
    Unparsed,
}

impl DeclKind {
    pub const ALL: [DeclKind; 18] = [
        DeclKind::Function,
        DeclKind::Class,
        DeclKind::Variable,
        DeclKind::Type,
        DeclKind::Interface,
        DeclKind::Enum,
        DeclKind::Namespace,
        DeclKind::Member,
        DeclKind::Effects,
        DeclKind::Declare,
        DeclKind::Struct,
        DeclKind::Trait,
        DeclKind::Impl,
        DeclKind::Const,
        DeclKind::Static,
        DeclKind::Macro,
        DeclKind::MacroCall,
        DeclKind::Unparsed,
    ];
}

/// Who may name a declaration from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Vis {
    /// TypeScript: not exported (or a `private`/`#` member); Rust: no `pub` (the module and its
    /// children).
    Private,
    /// Rust `pub(super)`: the parent module and its children.
    Super,
    /// Rust `pub(crate)` / `pub(in …)`: the crate.
    Crate,
    /// TypeScript: exported (or a public member); Rust: `pub`.
    Public,
}

/// What a declaration references.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ref {
    /// A declaration of the same file (by index).
    Decl(u32),
    /// An import binding (by index); `member` for `ns.f` on a namespace binding. A namespace
    /// binding without a member is used as a whole (`f(ns)`, `ns[k]`).
    Binding {
        binding: u32,
        member: Option<String>,
    },
    /// Rust: a path (one or more segments), resolved in the declaration's module.
    Path(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefAt {
    pub target: Ref,
    /// Used outside the declaration's body (its signature, type, or a type-level declaration).
    pub sig: bool,
}

/// TypeScript / JavaScript: one name a module takes from another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The local name (empty for re-exports, side-effect imports, `import()` and inline
    /// `require()`).
    pub local: String,
    pub specifier: String,
    pub imported: Imported,
    pub type_only: bool,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Imported {
    /// A named export (`default` for a default import).
    Name(String),
    /// The whole module: `import * as ns`, `import x = require()`, `const x = require()`,
    /// `import()`, `export * from`.
    Namespace,
    /// `import "x"`: only the module's side effects.
    SideEffect,
}

/// TypeScript / JavaScript: one exported name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// The exported name (`default` for `export default`, `export =`, `module.exports =`; `*` for
    /// `export * from`).
    pub name: String,
    pub target: ExportTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "index", rename_all = "kebab-case")]
pub enum ExportTarget {
    /// A declaration of the file.
    Decl(u32),
    /// An import binding re-exported (`export { a as b } from`, `export * as ns from`, or an
    /// imported name exported again).
    Binding(u32),
    /// `export * from` (the binding of the module re-exported).
    Star(u32),
}

/// The name of the pseudo-declaration that holds a TypeScript file's top-level statements.
pub const TOP_LEVEL: &str = "<top-level>";

/// Symbols of a file, from a tree-sitter parse.
pub fn extract(lang: Lang, source: &str) -> Symbols {
    match lang {
        Lang::TypeScript | Lang::Tsx => super::ts_symbols::extract(lang, source),
        Lang::Rust => super::rust_symbols::extract(source),
    }
}

impl Symbols {
    /// The declarations an exported name stands for (TypeScript exports; Rust: the item of that
    /// qualified name).
    pub fn decls_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.decls
            .iter()
            .enumerate()
            .filter(move |(_, d)| d.name == name)
            .map(|(i, _)| i as u32)
    }

    /// The names under which a declaration is exported (TypeScript), or its own name (Rust).
    pub fn export_names(&self, decl: u32, rust: bool) -> Vec<&str> {
        if rust {
            return vec![self.decls[decl as usize].name.as_str()];
        }
        self.exports
            .iter()
            .filter(|e| e.target == ExportTarget::Decl(decl))
            .map(|e| e.name.as_str())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// What changed

/// How a declaration changed between base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// Its signature (parameters, types, initialiser, heritage) changed.
    Signature,
    /// Only its body changed.
    Body,
    /// Only type-level tokens changed (a `type`, an `interface`, type annotations, a Rust type
    /// alias): the compiler checks the uses, runtime behaviour does not change.
    TypeOnly,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Signature => "signature changed",
            ChangeKind::Body => "changed",
            ChangeKind::TypeOnly => "type changed",
        }
    }
}

/// One changed declaration of a changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclChange {
    pub name: String,
    pub kind: DeclKind,
    pub change: ChangeKind,
    /// Visible outside its file (TypeScript: exported; Rust: any `pub`).
    pub exported: bool,
    /// The declaration at head (`None` when removed) and at base (`None` when added).
    pub head: Option<u32>,
    pub base: Option<u32>,
    /// Lines at head (at base when removed).
    pub start: u32,
    pub end: u32,
}

/// The identity of a declaration across revisions: its name, and its ordinal among the
/// declarations of the same name (overloads and `cfg` variants are merged already, so this is
/// almost always 0).
fn keyed(s: &Symbols) -> BTreeMap<(&str, usize), u32> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = BTreeMap::new();
    for (i, d) in s.decls.iter().enumerate() {
        let n = seen.entry(d.name.as_str()).or_default();
        out.insert((d.name.as_str(), *n), i as u32);
        *n += 1;
    }
    out
}

/// A declaration's hash with what its import bindings name mixed in: `import { a } from "./x"`
/// becoming `from "./y"` changes every declaration that uses `a`.
fn effective(s: &Symbols, d: &Decl, h: u64) -> u64 {
    let mut out = h;
    for r in &d.refs {
        if let Ref::Binding { binding, .. } = &r.target {
            if let Some(b) = s.bindings.get(*binding as usize) {
                let mut x = Fnv::new();
                x.str(&b.specifier);
                match &b.imported {
                    Imported::Name(n) => x.str(n),
                    Imported::Namespace => x.str("*"),
                    Imported::SideEffect => x.str("!"),
                }
                out = out.rotate_left(5) ^ x.finish();
            }
        }
    }
    out
}

/// The declarations that changed between `base` and `head` (either may be absent: an added or a
/// deleted file), in head order then removed ones. Comment- and formatting-only edits change no
/// hash, so they yield nothing.
pub fn diff(base: Option<&Symbols>, head: Option<&Symbols>) -> Vec<DeclChange> {
    let empty = Symbols::default();
    let b = base.unwrap_or(&empty);
    let h = head.unwrap_or(&empty);
    let bk = keyed(b);
    let hk = keyed(h);
    let exported = |s: &Symbols, i: u32| s.decls[i as usize].vis != Vis::Private;
    let mut out = Vec::new();
    for (key, &hi) in &hk {
        let hd = &h.decls[hi as usize];
        let change = match bk.get(key) {
            None => Some(ChangeKind::Added),
            Some(&bi) => {
                let bd = &b.decls[bi as usize];
                let (hh, bh) = (effective(h, hd, hd.hash), effective(b, bd, bd.hash));
                let type_level = hd.type_level && bd.type_level;
                let same_runtime = hd.vis == bd.vis
                    && hd.kind == bd.kind
                    && effective(h, hd, hd.runtime) == effective(b, bd, bd.runtime);
                if hh == bh && hd.vis == bd.vis {
                    None
                } else if type_level || same_runtime {
                    Some(ChangeKind::TypeOnly)
                } else if (hd.sig != bd.sig && hd.kind != DeclKind::Effects)
                    || hd.vis != bd.vis
                    || hd.kind != bd.kind
                {
                    // Top-level statements have no signature: they run, or they do not.
                    Some(ChangeKind::Signature)
                } else {
                    Some(ChangeKind::Body)
                }
            }
        };
        if let Some(change) = change {
            out.push(DeclChange {
                name: hd.name.clone(),
                kind: hd.kind,
                change,
                exported: exported(h, hi),
                head: Some(hi),
                base: bk.get(key).copied(),
                start: hd.start,
                end: hd.end,
            });
        }
    }
    for (key, &bi) in &bk {
        if hk.contains_key(key) {
            continue;
        }
        let bd = &b.decls[bi as usize];
        out.push(DeclChange {
            name: bd.name.clone(),
            kind: bd.kind,
            change: ChangeKind::Removed,
            exported: exported(b, bi),
            head: None,
            base: Some(bi),
            start: bd.start,
            end: bd.end,
        });
    }
    out.sort_by_key(|c| (c.head.is_none(), c.head.or(c.base)));
    out
}

// ---------------------------------------------------------------------------------------------
// Hashing

/// FNV-1a 64, fed piece by piece (stable across runs and platforms: hashes are cached).
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
        self.bytes(&[0xff]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// The three hashes of a declaration, fed together during one walk.
#[derive(Clone, Copy)]
pub(crate) struct Hashes {
    pub(crate) all: Fnv,
    pub(crate) sig: Fnv,
    pub(crate) runtime: Fnv,
}

impl Hashes {
    pub(crate) fn new() -> Hashes {
        Hashes {
            all: Fnv::new(),
            sig: Fnv::new(),
            runtime: Fnv::new(),
        }
    }

    /// Feed a structural marker (a node kind, or the end of a node).
    pub(crate) fn mark(&mut self, v: u16, in_body: bool, in_type: bool) {
        self.all.u16(v);
        if !in_body {
            self.sig.u16(v);
        }
        if !in_type {
            self.runtime.u16(v);
        }
    }

    /// Feed a token's text.
    pub(crate) fn text(&mut self, t: &str, in_body: bool, in_type: bool) {
        self.all.str(t);
        if !in_body {
            self.sig.str(t);
        }
        if !in_type {
            self.runtime.str(t);
        }
    }

    pub(crate) fn finish(self) -> (u64, u64, u64) {
        (self.all.finish(), self.sig.finish(), self.runtime.finish())
    }
}

/// Collapse whitespace runs to one space and trim (JSX text: its layout is not its meaning).
pub(crate) fn squash(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(lang: Lang, base: &str, head: &str) -> Vec<(String, ChangeKind)> {
        let (b, h) = (extract(lang, base), extract(lang, head));
        diff(Some(&b), Some(&h))
            .into_iter()
            .map(|c| (c.name, c.change))
            .collect()
    }

    #[test]
    fn comments_and_formatting_are_no_change() {
        let base = "import { a } from './a';\nexport function f(x: number) {\n  return a(x, 1);\n}\nexport const g = (y) => ({ y: 'q' });\n";
        let head = "// a comment\nimport { a } from \"./a\"\n/** doc */\nexport function f(\n  x: number,\n) { return (a(x, 1,)) }\n\nexport const g = y => ({ y: \"q\", });\n";
        assert_eq!(changes(Lang::TypeScript, base, head), vec![]);
        let base = "pub fn f(x: u32) -> u32 {\n    x + 1\n}\n";
        let head = "/// doc\npub fn f(x: u32)\n    -> u32 { x + 1 } // trailing\n";
        assert_eq!(changes(Lang::Rust, base, head), vec![]);
    }

    #[test]
    fn classifies_changes() {
        let base = "export function f(x: number) { return x; }\nexport function g() { return 1; }\nexport type T = string;\nexport function h(x: number) { return x; }\nexport const gone = 1;\n";
        let head = "export function f(x: number) { return x + 1; }\nexport function g(y) { return 1; }\nexport type T = number;\nexport function h(x: string) { return x; }\nexport const added = 2;\n";
        assert_eq!(
            changes(Lang::TypeScript, base, head),
            vec![
                ("f".to_string(), ChangeKind::Body),
                ("g".to_string(), ChangeKind::Signature),
                ("T".to_string(), ChangeKind::TypeOnly),
                ("h".to_string(), ChangeKind::TypeOnly),
                ("added".to_string(), ChangeKind::Added),
                ("gone".to_string(), ChangeKind::Removed),
            ]
        );
    }

    #[test]
    fn a_changed_import_changes_its_users() {
        let base = "import { a } from './x';\nexport function f() { return a(); }\nexport function g() { return 1; }\n";
        let head = "import { a } from './y';\nexport function f() { return a(); }\nexport function g() { return 1; }\n";
        assert_eq!(
            changes(Lang::TypeScript, base, head),
            vec![("f".to_string(), ChangeKind::Body)]
        );
    }
}
