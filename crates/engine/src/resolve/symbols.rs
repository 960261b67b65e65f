//! Linking a file's symbols: what each declaration's references and each export lead to, in
//! this file or in another (TypeScript / JavaScript through the import bindings' specifiers;
//! Rust through the crate's module tree, see [`super::rust::RustWorld::link`]).

use std::collections::BTreeSet;

use super::Target;
use crate::lang::symbols::{ExportTarget, Imported, Ref, Symbols};

/// Why a reference is read at file level (every export of the target counts as used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Coarse {
    /// `import * as ns` (or `const ns = require(…)`) used as a value, not as `ns.member`.
    NamespaceValue,
    /// `import("x")` or an inline `require("x")`.
    Dynamic,
    /// `export * as ns from "x"`.
    NamespaceReexport,
}

impl Coarse {
    pub fn label(self) -> &'static str {
        match self {
            Coarse::NamespaceValue => "namespace import used as a value",
            Coarse::Dynamic => "dynamic import() or require()",
            Coarse::NamespaceReexport => "namespace re-export (export * as ns)",
        }
    }
}

/// Where a reference leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkTo {
    /// A declaration of the same file.
    Local(u32),
    /// A name another file exports (TypeScript), or an item of another file by its qualified
    /// name (Rust).
    Name { file: String, name: String },
    /// Every export of another file.
    All { file: String, why: Coarse },
    /// The side effects of another file (`import "x"`).
    Effects { file: String },
    /// A package outside the repository.
    External { package: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub to: LinkTo,
    /// Used outside the declaration's body.
    pub sig: bool,
}

/// What an exported name stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkExport {
    Local(u32),
    Name {
        file: String,
        name: String,
    },
    All {
        file: String,
    },
    /// `export * from "x"`: every name of `file` that this file does not export itself.
    Star {
        file: String,
    },
}

/// A Rust module: its crate, and its path from the crate root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModLoc {
    pub krate: u32,
    pub path: Vec<String>,
}

/// A file's symbols, linked.
#[derive(Debug, Clone, Default)]
pub struct Linked {
    /// Per declaration, what its references lead to.
    pub refs: Vec<Vec<Link>>,
    /// Per declaration, the type it is a member of (its owner), when linked.
    pub owners: Vec<Option<LinkTo>>,
    /// Per declaration: a member of an implementation of a trait from outside the repository
    /// (`Display`, `From`, `Drop`, …), which code calls without naming it (`format!`, `?`).
    pub implicit: Vec<bool>,
    /// Exported names (TypeScript).
    pub exports: Vec<(String, LinkExport)>,
    /// Files this file's import forms lead to. An import edge of the dependency graph from this
    /// file to a file not listed is read at file level. Rust files read every edge through paths,
    /// so they list none and set `rust`.
    pub covered: BTreeSet<String>,
    /// Rust: the module of each scope of the file (scope 0 first); empty when unknown.
    pub scopes: Vec<ModLoc>,
    pub rust: bool,
}

/// Link a TypeScript / JavaScript file: `resolve` maps a specifier to its target.
pub fn link_js(syms: &Symbols, resolve: impl Fn(&str) -> Target) -> Linked {
    let targets: Vec<Target> = syms
        .bindings
        .iter()
        .map(|b| resolve(&b.specifier))
        .collect();
    let mut out = Linked::default();
    for t in &targets {
        if let Target::File { path } = t {
            out.covered.insert(path.clone());
        }
    }
    let binding_link = |b: u32, member: Option<&String>| -> Option<LinkTo> {
        let binding = syms.bindings.get(b as usize)?;
        match targets.get(b as usize)? {
            Target::File { path } => Some(match (&binding.imported, member) {
                (Imported::Name(n), _) => LinkTo::Name {
                    file: path.clone(),
                    name: n.clone(),
                },
                (Imported::Namespace, Some(m)) => LinkTo::Name {
                    file: path.clone(),
                    name: m.clone(),
                },
                (Imported::Namespace, None) => LinkTo::All {
                    file: path.clone(),
                    why: if binding.local.is_empty() {
                        Coarse::Dynamic
                    } else {
                        Coarse::NamespaceValue
                    },
                },
                (Imported::SideEffect, _) => LinkTo::Effects { file: path.clone() },
            }),
            Target::External { package } => Some(LinkTo::External {
                package: package.clone(),
            }),
            _ => None,
        }
    };
    for d in &syms.decls {
        let mut links: Vec<Link> = d
            .refs
            .iter()
            .filter_map(|r| {
                let to = match &r.target {
                    Ref::Decl(i) => Some(LinkTo::Local(*i)),
                    Ref::Binding { binding, member } => binding_link(*binding, member.as_ref()),
                    Ref::Path(_) => None,
                };
                to.map(|to| Link { to, sig: r.sig })
            })
            .collect();
        links.sort();
        links.dedup();
        out.refs.push(links);
        out.owners.push(match &d.owner {
            Some(Ref::Decl(i)) => Some(LinkTo::Local(*i)),
            _ => None,
        });
        out.implicit.push(false);
    }
    for e in &syms.exports {
        let link = match e.target {
            ExportTarget::Decl(i) => Some(LinkExport::Local(i)),
            ExportTarget::Binding(b) => match binding_link(b, None) {
                Some(LinkTo::Name { file, name }) => Some(LinkExport::Name { file, name }),
                Some(LinkTo::All { file, .. }) => Some(LinkExport::All { file }),
                _ => None,
            },
            ExportTarget::Star(b) => match targets.get(b as usize) {
                Some(Target::File { path }) => Some(LinkExport::Star { file: path.clone() }),
                _ => None,
            },
        };
        if let Some(l) = link {
            out.exports.push((e.name.clone(), l));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{symbols, Lang};

    #[test]
    fn links_bindings_exports_and_namespaces() {
        let s = symbols::extract(
            Lang::TypeScript,
            "import { a } from './a';\nimport * as ns from './ns';\nimport React from 'react';\nexport * from './star';\nexport { b as c } from './b';\nexport function f() { return a() + ns.g + React.x; }\nexport const h = () => [ns, import('./dyn')];\n",
        );
        let l = link_js(&s, |spec| match spec {
            "react" => Target::External {
                package: "react".into(),
            },
            s => Target::File {
                path: format!("src/{}.ts", s.trim_start_matches("./")),
            },
        });
        let name = |f: &str, n: &str| LinkTo::Name {
            file: f.into(),
            name: n.into(),
        };
        let f: Vec<LinkTo> = l.refs[0].iter().map(|x| x.to.clone()).collect();
        assert_eq!(
            f,
            vec![
                name("src/a.ts", "a"),
                name("src/ns.ts", "g"),
                LinkTo::External {
                    package: "react".into()
                },
            ]
        );
        let h: Vec<LinkTo> = l.refs[1].iter().map(|x| x.to.clone()).collect();
        assert_eq!(
            h,
            vec![
                LinkTo::All {
                    file: "src/dyn.ts".into(),
                    why: Coarse::Dynamic
                },
                LinkTo::All {
                    file: "src/ns.ts".into(),
                    why: Coarse::NamespaceValue
                },
            ]
        );
        assert_eq!(
            l.exports,
            vec![
                (
                    "*".to_string(),
                    LinkExport::Star {
                        file: "src/star.ts".into()
                    }
                ),
                (
                    "c".to_string(),
                    LinkExport::Name {
                        file: "src/b.ts".into(),
                        name: "b".into()
                    }
                ),
                ("f".to_string(), LinkExport::Local(0)),
                ("h".to_string(), LinkExport::Local(1)),
            ]
        );
        assert!(l.covered.contains("src/dyn.ts") && !l.covered.contains("react"));
    }
}
