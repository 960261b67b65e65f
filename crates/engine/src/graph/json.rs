//! The dependency graph as data: every file, every import, every unresolved import.
//!
//! One shape for every consumer (`pr-risk graph --format json`, tests, examples):
//! `{ "files": [{path, source}], "imports": [{from, to, line, kind, specifier, type_only}],
//! "unresolved": [{from, line, specifier, kind}] }`, sorted, so the same graph gives the same
//! bytes.

use serde::Serialize;

use super::{DepGraph, Unresolved};
use crate::lang::ImportKind;

/// A file of the graph.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct File {
    pub path: String,
    /// A parsed source file (as opposed to a JSON or asset file that code imports).
    pub source: bool,
}

/// One import: `from` imports `to` at `line` (the first import of `to` in `from`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Import {
    pub from: String,
    pub to: String,
    pub line: u32,
    pub kind: ImportKind,
    pub specifier: String,
    /// Every import of `to` from `from` is type-only.
    pub type_only: bool,
}

/// The whole graph.
#[derive(Debug, Clone, Serialize)]
pub struct GraphData {
    pub files: Vec<File>,
    pub imports: Vec<Import>,
    pub unresolved: Vec<Unresolved>,
}

impl DepGraph {
    /// Every import of the graph, sorted by (from, to).
    pub fn imports(&self) -> Vec<Import> {
        self.edges()
            .into_iter()
            .map(|(from, to, e)| Import {
                from: from.to_string(),
                to: to.to_string(),
                line: e.line,
                kind: e.kind,
                specifier: e.specifier.clone(),
                type_only: e.type_only,
            })
            .collect()
    }

    /// The graph as data.
    pub fn data(&self) -> GraphData {
        let mut files: Vec<File> = self
            .graph
            .node_weights()
            .map(|n| File {
                path: n.path.clone(),
                source: n.source,
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        GraphData {
            files,
            imports: self.imports(),
            unresolved: self.unresolved.clone(),
        }
    }
}
