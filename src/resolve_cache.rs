//! The persistent resolution memo: what every (directory or file, specifier) of a snapshot
//! resolved to, kept between runs for snapshots that resolve alike.
//!
//! JavaScript/TypeScript resolution reads nothing but the snapshot's file set (which paths exist,
//! where symlinks point) and its JSON and YAML files (`package.json`, `tsconfig*.json`,
//! `pnpm-workspace.yaml`). The **resolution context** of a snapshot is a hash of exactly that: every
//! path with its kind, plus the blob ids of its `.json`/`.yaml`/`.yml` files and symlinks. Two
//! snapshots with the same context resolve every specifier the same way, so the memo of one is the
//! memo of the other. Consecutive commits that only edit code (most of them) share a context:
//! scoring the next pull request on the same base, or on a base that moved by such commits, skips
//! resolution entirely. Adding, removing or renaming a file, or editing a JSON/YAML file, makes a
//! new context, and the memo is rebuilt.
//!
//! The file (`resolve-v<FORMAT>.bin`) holds one context: a header (magic, format, tool version,
//! context, entry count, body length, FNV-1a checksum of the body) and the entries and the
//! resolver's notes in [`crate::binfmt`]. Corrupt, truncated or other-version files are ignored
//! (and overwritten by the next save); writes are atomic and merge with a file of the same
//! context another run wrote meanwhile.

use std::path::{Path, PathBuf};

use crate::binfmt::{Parsed, Reader, Writer};
use crate::cache;
use crate::resolve::Target;
use crate::snapshot::{EntryKind, Snapshot};

pub const FORMAT: u32 = 1;
const MAGIC: &[u8] = b"pr-risk resolve memo\n";
/// Entries kept at most (a 50,000-file monorepo has about 150,000).
pub const MAX_ENTRIES: usize = 1_000_000;

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
    cache::fnv1a(&data)
}

/// A memo read from disk.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    pub entries: Vec<(String, Target)>,
    pub notes: Vec<String>,
}

/// What the memo did in one run (for `--timings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries loaded (0 when the file was for another context or absent).
    pub loaded: usize,
    /// Entries resolved in this run.
    pub new: usize,
    pub written: bool,
    /// Why the file on disk was not used (absent files and other contexts are not reasons).
    pub rebuilt: Option<String>,
    pub write_error: Option<String>,
}

pub fn file_in(dir: &Path) -> PathBuf {
    dir.join(format!("resolve-v{FORMAT}.bin"))
}

/// The memo stored for `context` in `dir`, if any; `stats.rebuilt` says why a file was unusable.
pub fn load(dir: &Path, version: &str, context: u64, stats: &mut Stats) -> Option<Memo> {
    let data = std::fs::read(file_in(dir)).ok()?;
    match parse(&data, version) {
        Ok((c, memo)) if c == context => {
            stats.loaded = memo.entries.len();
            Some(memo)
        }
        Ok(_) => None,
        Err(why) => {
            stats.rebuilt = Some(why);
            None
        }
    }
}

/// Store `memo` for `context` in `dir` (merged with a file of the same context on disk).
pub fn save(dir: &Path, version: &str, context: u64, mut memo: Memo) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = file_in(dir);
    if let Some((c, theirs)) = std::fs::read(&file)
        .ok()
        .and_then(|d| parse(&d, version).ok())
    {
        if c == context {
            let mine: std::collections::HashSet<String> =
                memo.entries.iter().map(|(k, _)| k.clone()).collect();
            memo.entries.extend(
                theirs
                    .entries
                    .into_iter()
                    .filter(|(k, _)| !mine.contains(k)),
            );
            for n in theirs.notes {
                if !memo.notes.contains(&n) {
                    memo.notes.push(n);
                }
            }
        }
    }
    memo.entries.sort_by(|a, b| a.0.cmp(&b.0));
    memo.entries.truncate(MAX_ENTRIES);
    let mut body = Writer::default();
    body.varint(memo.notes.len() as u64);
    for n in &memo.notes {
        body.str(n);
    }
    for (k, t) in &memo.entries {
        body.str(k);
        match t {
            Target::File { path } => {
                body.u8(0);
                body.str(path);
            }
            Target::External { package } => {
                body.u8(1);
                body.str(package);
            }
            Target::Builtin { name } => {
                body.u8(2);
                body.str(name);
            }
            Target::Missing => body.u8(3),
        }
    }
    let mut out = Writer::default();
    out.raw(MAGIC);
    out.u32(FORMAT);
    out.str(version);
    out.u64(context);
    out.u64(memo.entries.len() as u64);
    out.u64(body.buf.len() as u64);
    out.u64(cache::fnv1a(&body.buf));
    out.raw(&body.buf);
    cache::write_atomic(dir, &file, &out.buf)
}

fn parse(data: &[u8], version: &str) -> Parsed<(u64, Memo)> {
    let mut r = Reader::new(data);
    if r.take(MAGIC.len()).map_err(|_| "no header")? != MAGIC {
        return Err("not a pr-risk resolve memo".into());
    }
    let format = r.u32()?;
    if format != FORMAT {
        return Err(format!("format {format}, this is {FORMAT}"));
    }
    let tool = r.str()?;
    if tool != version {
        return Err(format!("written by version {tool}, this is {version}"));
    }
    let context = r.u64()?;
    let entries = r.u64()?;
    let body_len = r.u64()?;
    let checksum = r.u64()?;
    let body = r.take(r.left())?;
    if body.len() as u64 != body_len {
        return Err("truncated".into());
    }
    if cache::fnv1a(body) != checksum {
        return Err("checksum mismatch (corrupt)".into());
    }
    let mut r = Reader::new(body);
    let mut memo = Memo::default();
    for _ in 0..r.count()? {
        memo.notes.push(r.str()?.to_string());
    }
    if entries > body.len() as u64 {
        return Err("entry count larger than the file".into());
    }
    memo.entries.reserve(entries as usize);
    for _ in 0..entries {
        let key = r.str()?.to_string();
        let target = match r.u8()? {
            0 => Target::File {
                path: r.str()?.to_string(),
            },
            1 => Target::External {
                package: r.str()?.to_string(),
            },
            2 => Target::Builtin {
                name: r.str()?.to_string(),
            },
            3 => Target::Missing,
            _ => return Err("bad target tag".into()),
        };
        memo.entries.push((key, target));
    }
    if !r.is_empty() {
        return Err("trailing bytes".into());
    }
    Ok((context, memo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo() -> Memo {
        Memo {
            entries: vec![
                (
                    "src\0./a".into(),
                    Target::File {
                        path: "src/a.ts".into(),
                    },
                ),
                (
                    "src/x.ts\0react".into(),
                    Target::External {
                        package: "react".into(),
                    },
                ),
                (
                    "src/x.ts\0node:fs".into(),
                    Target::Builtin { name: "fs".into() },
                ),
                ("src\0./gone".into(), Target::Missing),
            ],
            notes: vec!["tsconfig could not be loaded".into()],
        }
    }

    #[test]
    fn round_trip_context_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), "v", 42, memo()).unwrap();
        let mut st = Stats::default();
        let got = load(dir.path(), "v", 42, &mut st).unwrap();
        let mut want = memo().entries;
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got.entries, want);
        assert_eq!(got.notes, memo().notes);
        assert_eq!(st.loaded, 4);
        // Another context or version: nothing.
        assert!(load(dir.path(), "v", 43, &mut Stats::default()).is_none());
        let mut st = Stats::default();
        assert!(load(dir.path(), "w", 42, &mut st).is_none());
        assert!(st.rebuilt.unwrap().contains("version"));
        // Flipped byte, truncation, garbage: ignored with a reason, never a panic.
        let path = file_in(dir.path());
        let data = std::fs::read(&path).unwrap();
        let mut flipped = data.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0x40;
        for bad in [flipped, data[..data.len() / 2].to_vec(), b"junk".to_vec()] {
            std::fs::write(&path, &bad).unwrap();
            let mut st = Stats::default();
            assert!(load(dir.path(), "v", 42, &mut st).is_none());
            assert!(st.rebuilt.is_some());
        }
    }

    #[test]
    fn saving_merges_the_same_context_and_replaces_another() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), "v", 1, memo()).unwrap();
        let more = Memo {
            entries: vec![("lib\0./b".into(), Target::Missing)],
            notes: vec![],
        };
        save(dir.path(), "v", 1, more.clone()).unwrap();
        let got = load(dir.path(), "v", 1, &mut Stats::default()).unwrap();
        assert_eq!(got.entries.len(), 5);
        assert_eq!(got.notes.len(), 1);
        save(dir.path(), "v", 2, more).unwrap();
        assert!(load(dir.path(), "v", 1, &mut Stats::default()).is_none());
        assert_eq!(
            load(dir.path(), "v", 2, &mut Stats::default())
                .unwrap()
                .entries
                .len(),
            1
        );
    }
}
