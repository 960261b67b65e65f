//! Module resolution: from an import specifier in a file to the file it names.
//!
//! Resolution runs against a git snapshot, never a checkout. What does not resolve is kept as a
//! fact — an external package, a Node built-in or a missing file — never dropped silently.

pub mod cargo;
pub mod javascript;
pub mod memo;
pub mod packages;
pub mod rust;
pub mod symbols;
pub mod vfs;
pub mod workspaces;

use serde::Serialize;

use crate::lang::Import;

/// Where a specifier leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// A file in the repository (repository-relative path).
    File { path: String },
    /// A package that is not part of the repository.
    External { package: String },
    /// A runtime built-in (`node:fs`, `fs`).
    Builtin { name: String },
    /// A relative or workspace path that names no file in the snapshot.
    Missing,
}

/// One import and where it led.
#[derive(Debug, Clone)]
pub struct ResolvedImport {
    pub from: String,
    pub import: Import,
    pub target: Target,
}

/// The package name of a bare specifier: `@scope/name/x` → `@scope/name`, `lodash/fp` → `lodash`.
pub fn package_name(specifier: &str) -> &str {
    let mut parts = specifier.splitn(3, '/');
    let first = parts.next().unwrap_or("");
    if first.starts_with('@') {
        match parts.next() {
            Some(second) => &specifier[..first.len() + 1 + second.len()],
            None => first,
        }
    } else {
        first
    }
}

pub fn is_relative(specifier: &str) -> bool {
    specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier == "."
        || specifier == ".."
        || specifier.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        assert_eq!(package_name("@acme/ui/button"), "@acme/ui");
        assert_eq!(package_name("@acme/ui"), "@acme/ui");
        assert_eq!(package_name("lodash/fp"), "lodash");
        assert_eq!(package_name("react"), "react");
    }
}
