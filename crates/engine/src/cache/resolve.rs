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
//! The file (`resolve-v<FORMAT>.bin`, in the [`super::store`] format) holds one context (the
//! header's key): the resolver's notes and the entries. Corrupt, truncated or other-version files
//! are ignored (and overwritten by the next save); writes merge with a file of the same context
//! another run wrote meanwhile.

use std::path::{Path, PathBuf};

use super::binfmt::{Parsed, Reader, Writer};
use super::store::{self, Key, Kind};
pub use crate::resolve::memo::{context, Memo};
use crate::resolve::Target;

pub const FORMAT: u32 = 2;
/// The resolution memo in the store.
pub const KIND: Kind = Kind {
    name: "resolve",
    format: FORMAT,
};
/// Entries kept at most (a 50,000-file monorepo has about 150,000).
pub const MAX_ENTRIES: usize = 1_000_000;

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
    KIND.file_in(dir)
}

/// The memo stored for `context` in `dir`, if any; `stats.rebuilt` says why a file was unusable.
pub fn load(dir: &Path, version: &str, key: &Key, context: u64, stats: &mut Stats) -> Option<Memo> {
    let loaded = match store::read(dir, KIND, version, key) {
        Ok(l) => l,
        Err(why) => {
            stats.rebuilt = why;
            return None;
        }
    };
    if loaded.key != context {
        return None;
    }
    match decode(&loaded.body, loaded.entries) {
        Ok(memo) => {
            stats.loaded = memo.entries.len();
            Some(memo)
        }
        Err(why) => {
            stats.rebuilt = Some(format!("corrupt body: {why}"));
            None
        }
    }
}

/// Store `memo` for `context` in `dir` (merged with a file of the same context on disk).
pub fn save(
    dir: &Path,
    version: &str,
    key: &Key,
    context: u64,
    mut memo: Memo,
) -> std::io::Result<()> {
    if let Some(theirs) = store::read(dir, KIND, version, key)
        .ok()
        .filter(|l| l.key == context)
        .and_then(|l| decode(&l.body, l.entries).ok())
    {
        {
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
    store::write(
        dir,
        KIND,
        version,
        key,
        context,
        memo.entries.len() as u64,
        &body.buf,
    )
}

fn decode(body: &[u8], entries: u64) -> Parsed<Memo> {
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
    Ok(memo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_key() -> Key {
        Key::from_secret(b"test")
    }

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
        save(dir.path(), "v", &test_key(), 42, memo()).unwrap();
        let mut st = Stats::default();
        let got = load(dir.path(), "v", &test_key(), 42, &mut st).unwrap();
        let mut want = memo().entries;
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got.entries, want);
        assert_eq!(got.notes, memo().notes);
        assert_eq!(st.loaded, 4);
        // Another context or version: nothing.
        assert!(load(dir.path(), "v", &test_key(), 43, &mut Stats::default()).is_none());
        let mut st = Stats::default();
        assert!(load(dir.path(), "w", &test_key(), 42, &mut st).is_none());
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
            assert!(load(dir.path(), "v", &test_key(), 42, &mut st).is_none());
            assert!(st.rebuilt.is_some());
        }
    }

    #[test]
    fn saving_merges_the_same_context_and_replaces_another() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), "v", &test_key(), 1, memo()).unwrap();
        let more = Memo {
            entries: vec![("lib\0./b".into(), Target::Missing)],
            notes: vec![],
        };
        save(dir.path(), "v", &test_key(), 1, more.clone()).unwrap();
        let got = load(dir.path(), "v", &test_key(), 1, &mut Stats::default()).unwrap();
        assert_eq!(got.entries.len(), 5);
        assert_eq!(got.notes.len(), 1);
        save(dir.path(), "v", &test_key(), 2, more).unwrap();
        assert!(load(dir.path(), "v", &test_key(), 1, &mut Stats::default()).is_none());
        assert_eq!(
            load(dir.path(), "v", &test_key(), 2, &mut Stats::default())
                .unwrap()
                .entries
                .len(),
            1
        );
    }
}
