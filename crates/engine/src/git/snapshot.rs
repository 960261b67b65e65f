//! Snapshots: the files of a commit, read straight from git objects.
//!
//! Nothing is checked out: base and head are both available at once and the working tree is never
//! touched. Blob contents are read on demand; a blob that is the same at base and head has one id,
//! which is what lets later stages parse it once.

use std::collections::BTreeMap;

use git2::{TreeWalkMode, TreeWalkResult};

use super::{Oid, Repo};

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    File,
    Executable,
    Symlink,
    Submodule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub oid: Oid,
    pub kind: EntryKind,
}

impl Entry {
    pub fn is_regular(&self) -> bool {
        matches!(self.kind, EntryKind::File | EntryKind::Executable)
    }
}

/// Every path of a commit's tree with its blob id (or submodule commit id).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub commit: Option<Oid>,
    pub entries: BTreeMap<String, Entry>,
    /// Tree entries whose names are not valid UTF-8: listed, never analysed.
    pub non_utf8_paths: usize,
}

impl Snapshot {
    /// Read the tree of `commit`.
    pub fn of_commit(repo: &Repo, commit: Oid) -> Result<Snapshot> {
        let c = repo
            .raw()
            .find_commit(commit)
            .map_err(crate::git::err(format!("reading commit {commit}")))?;
        let tree = c
            .tree()
            .map_err(crate::git::err(format!("reading the tree of {commit}")))?;
        let mut entries = BTreeMap::new();
        let mut non_utf8 = 0usize;
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            let kind = match entry.filemode() {
                0o100644 | 0o100664 => EntryKind::File,
                0o100755 => EntryKind::Executable,
                0o120000 => EntryKind::Symlink,
                0o160000 => EntryKind::Submodule,
                _ => return TreeWalkResult::Ok,
            };
            match entry.name() {
                Ok(name) => {
                    entries.insert(
                        format!("{root}{name}"),
                        Entry {
                            oid: entry.id(),
                            kind,
                        },
                    );
                }
                Err(_) => non_utf8 += 1,
            }
            TreeWalkResult::Ok
        })
        .map_err(crate::git::err(format!("walking the tree of {commit}")))?;
        Ok(Snapshot {
            commit: Some(commit),
            entries,
            non_utf8_paths: non_utf8,
        })
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Regular files (not symlinks, not submodules).
    pub fn files(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries
            .iter()
            .filter(|(_, e)| e.is_regular())
            .map(|(p, e)| (p.as_str(), e))
    }
}

/// Content looks binary when a NUL byte appears in its first 8000 bytes (git's own heuristic).
pub fn looks_binary(content: &[u8]) -> bool {
    content.iter().take(8000).any(|b| *b == 0)
}

/// Binary by content, as the change set and the security scan classify files: more than 5 % of
/// the first 8000 bytes are control bytes (NUL and the other C0 controls except tab, line feed,
/// form feed, carriage return and escape, plus DEL). Compressed and encoded data has about 11 %;
/// a source file with a stray NUL or Latin-1 byte in a comment stays text. Git attributes are
/// never consulted: in action mode they would come from the pull request.
pub fn binary_by_content(content: &[u8]) -> bool {
    let sample = &content[..content.len().min(8000)];
    if sample.is_empty() {
        return false;
    }
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | 0x1b)) || b == 0x7f)
        .count();
    control * 20 > sample.len()
}

/// Bytes as text for scanning: invalid UTF-8 is replaced (never a reason to skip a file), NUL
/// bytes become spaces.
pub fn lossy_text(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.contains('\0') {
        s.replace('\0', " ")
    } else {
        s.into_owned()
    }
}
