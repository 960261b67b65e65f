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

/// What resolution reads that differs between a base and a head snapshot (see [`delta`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// A resolution-config input changed: a `.json`/`.yaml`/`.yml` file (added, removed or
    /// edited), a symlink or a submodule, a path under `node_modules/`, or the count of non-UTF-8
    /// paths. Nothing of the base's JavaScript resolution carries over then.
    pub config: bool,
    /// Paths that exist on one side only (added, removed, the two ends of a rename). Edits in
    /// place of other files do not change what any specifier resolves to.
    pub paths: std::collections::BTreeSet<String>,
    /// A Rust resolution input changed: a `.rs` or `.toml` file (added, removed or edited), or
    /// anything that sets `config`. Otherwise the Rust sources, their facts and the Cargo
    /// manifests are the same on both sides, and so is their resolution.
    pub rust: bool,
}

impl Delta {
    /// Both sides resolve every JavaScript specifier alike (one resolver can serve both).
    pub fn same_js(&self) -> bool {
        !self.config && self.paths.is_empty()
    }
}

fn is_config(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".json", ".yaml", ".yml"]
        .iter()
        .any(|x| lower.ends_with(x))
        || path.split('/').any(|c| c == "node_modules")
}

fn is_rust_input(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".rs") || lower.ends_with(".toml")
}

/// How `head` differs from `base` in what module resolution reads (one merge walk of the trees).
pub fn delta(base: &Snapshot, head: &Snapshot) -> Delta {
    use std::cmp::Ordering;
    let mut d = Delta {
        config: base.non_utf8_paths != head.non_utf8_paths,
        ..Delta::default()
    };
    let special = |k: EntryKind| matches!(k, EntryKind::Symlink | EntryKind::Submodule);
    let one_side = |d: &mut Delta, path: &str, kind: EntryKind| {
        d.config |= special(kind) || is_config(path);
        d.rust |= is_rust_input(path);
        d.paths.insert(path.to_string());
    };
    let (mut b, mut h) = (
        base.entries.iter().peekable(),
        head.entries.iter().peekable(),
    );
    loop {
        let order = match (b.peek(), h.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((bp, _)), Some((hp, _))) => bp.cmp(hp),
        };
        match order {
            Ordering::Less => {
                let (p, e) = b.next().expect("peeked");
                one_side(&mut d, p, e.kind);
            }
            Ordering::Greater => {
                let (p, e) = h.next().expect("peeked");
                one_side(&mut d, p, e.kind);
            }
            Ordering::Equal => {
                let ((p, be), (_, he)) = (b.next().expect("peeked"), h.next().expect("peeked"));
                // A file turning executable (or back) is still a file to the resolver.
                let retyped = be.kind != he.kind && (special(be.kind) || special(he.kind));
                if retyped || (be.oid != he.oid && (special(be.kind) || is_config(p))) {
                    d.config = true;
                }
                if retyped || (be.oid != he.oid && is_rust_input(p)) {
                    d.rust = true;
                }
            }
        }
    }
    d.rust |= d.config;
    d
}

/// The entries of a base snapshot's memo that hold at head as well, given their [`delta`] (which
/// must not have `config` set) and the head snapshot. What is dropped is resolved again at head.
///
/// - A bare specifier (`react`, `@acme/ui`, `~/x`) may reach any path through tsconfig
///   `paths`/`baseUrl` or a workspace package's `exports`: every bare entry is dropped.
/// - A relative specifier of a directory probes only paths that start with its **stem** (the
///   joined path up to the first `.` of its last component: `./foo.js` from `src` probes
///   `src/foo.ts`, `src/foo.d.ts`, `src/foo/index.ts`, … all under `src/foo`). The entry holds
///   unless a path that exists on one side only starts with the stem. It is dropped as well when
///   the stem reaches through a symlink or `node_modules`, or a `package.json` lies under it (its
///   `main` may point anywhere), or the specifier is absolute or climbs above the root.
pub fn carry<N>(
    entries: Vec<(String, Target, N)>,
    delta: &Delta,
    head: &Snapshot,
) -> Vec<(String, Target, N)> {
    use std::collections::BTreeSet;
    if delta.paths.is_empty() {
        return entries;
    }
    let mut symlinks = BTreeSet::new();
    let mut package_dirs = BTreeSet::new();
    for (path, e) in &head.entries {
        if e.kind == EntryKind::Symlink {
            symlinks.insert(path.as_str());
        }
        if path == "package.json" {
            package_dirs.insert("");
        } else if let Some(dir) = path.strip_suffix("/package.json") {
            package_dirs.insert(dir);
        }
    }
    let starts = |set: &BTreeSet<&str>, stem: &str| {
        set.range(stem..)
            .next()
            .is_some_and(|p| p.starts_with(stem))
    };
    let holds = |key: &str| -> bool {
        let Some((scope, spec)) = key.split_once('\0') else {
            return false;
        };
        if !super::is_relative(spec) || spec.starts_with('/') {
            return false;
        }
        let Some(stem) = stem(scope, spec) else {
            return false;
        };
        if stem.split('/').any(|c| c == "node_modules") {
            return false;
        }
        // A symlink on the way (an ancestor of the stem), or one the stem would match.
        let through_link = stem
            .match_indices('/')
            .any(|(i, _)| symlinks.contains(&stem[..i]))
            || starts(&symlinks, &stem);
        let changed = delta
            .paths
            .range(stem.clone()..)
            .next()
            .is_some_and(|p| p.starts_with(&stem));
        !through_link && !changed && !starts(&package_dirs, &stem)
    };
    entries.into_iter().filter(|(k, _, _)| holds(k)).collect()
}

/// The stem of a relative specifier written in directory `dir` (see [`carry`]); None when it climbs
/// above the repository root.
fn stem(dir: &str, spec: &str) -> Option<String> {
    // A query or fragment (`./x.svg?raw`) is not part of the path (cutting at a `#` that is part
    // of a name only shortens the stem).
    let spec = spec.split(['?', '#']).next().unwrap_or("");
    let mut parts: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for c in spec.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    // `./x/`, `.` and `..` name a directory: its name is cut the same way (every path under it
    // still starts with the stem).
    let mut s = parts.join("/");
    let last = parts.last().copied().unwrap_or("");
    let cut = last.find('.').unwrap_or(last.len());
    s.truncate(s.len() - (last.len() - cut));
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(stem("src/a", "./foo.js").as_deref(), Some("src/a/foo"));
        assert_eq!(stem("src/a", "../b/x.service").as_deref(), Some("src/b/x"));
        assert_eq!(stem("src/a", "./.hidden").as_deref(), Some("src/a/"));
        assert_eq!(stem("src/a", ".").as_deref(), Some("src/a"));
        assert_eq!(stem("src/a", "./x/").as_deref(), Some("src/a/x"));
        assert_eq!(stem("src/a", "..").as_deref(), Some("src"));
        assert_eq!(stem("src", "../..").as_deref(), None);
        assert_eq!(stem("", "./x").as_deref(), Some("x"));
        assert_eq!(stem("", "..").as_deref(), None);
        assert_eq!(stem("src", "./x?raw").as_deref(), Some("src/x"));
    }
}
