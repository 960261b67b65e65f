//! What a snapshot's specifiers resolved to, kept between runs for snapshots that resolve alike.
//!
//! JavaScript/TypeScript resolution reads nothing but the snapshot's file set (which paths exist,
//! where symlinks point) and its JSON and YAML files (`package.json`, `tsconfig*.json`,
//! `pnpm-workspace.yaml`). The **resolution context** of a snapshot is a hash of exactly that: every
//! path with its kind, plus the blob ids of its `.json`/`.yaml`/`.yml` files and symlinks. Two
//! snapshots with the same context resolve every specifier the same way, so the memo of one is the
//! memo of the other. The pipeline loads a [`Memo`] for the base's context from the cache and
//! hands it to the resolver ([`super::javascript::JsResolver::preload`]).

use super::Target;
use crate::git::snapshot::{EntryKind, Snapshot};

/// The resolution context of a snapshot (see the module doc).
pub fn context(snapshot: &Snapshot) -> u64 {
    let mut data = Vec::with_capacity(snapshot.entries.len() * 48);
    for (path, e) in &snapshot.entries {
        data.extend_from_slice(path.as_bytes());
        data.push(0);
        data.push(match e.kind {
            EntryKind::File => b'f',
            EntryKind::Executable => b'x',
            EntryKind::Symlink => b'l',
            EntryKind::Submodule => b'm',
        });
        let lower = path.to_ascii_lowercase();
        let read = e.kind == EntryKind::Symlink
            || [".json", ".yaml", ".yml"]
                .iter()
                .any(|x| lower.ends_with(x));
        if read {
            data.extend_from_slice(e.oid.as_bytes());
        }
    }
    data.extend_from_slice(snapshot.non_utf8_paths.to_string().as_bytes());
    crate::hash::fnv1a(&data)
}

/// What every (directory or file, specifier) resolved to, and the resolver's notes.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    pub entries: Vec<(String, Target)>,
    pub notes: Vec<String>,
}
