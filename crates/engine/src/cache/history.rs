//! The persistent history cache: what each commit is and changed, by commit id, kept between runs.
//!
//! A commit never changes, so everything the history walk needs from it can be kept: its parents
//! and committer time (to walk the graph without reading commit objects), its author identity
//! ([`history::identity`]) and name (reviewer guidance shows it, through the mailmap), its whole message (classified as a fix or revert at use time, so
//! changing `regression.fix-patterns` needs no rebuild) and the paths it changed against its first
//! parent ([`history::Change`], with rename detection; a run with `follow-renames: false` splits
//! each rename into a deletion and an addition). Line counts are not kept: they are read from the
//! blob ids at use time, for the few paths a run asks about. A new merge-base only walks and
//! compares the commits that are not cached yet, and the file is written back when it grew.
//!
//! The file is `<cache dir>/history-v<FORMAT>.bin` (the same directory as the parse cache), a
//! hand-written binary encoding: a header (magic, format, tool version, entry count, body length,
//! FNV-1a 64 checksum of the body), then the body: a string table (paths and authors, each stored
//! once) and the records, with lengths and indexes as LEB128 varints. A file from another version,
//! truncated or corrupt is ignored and rebuilt, never a failed run; the reason is in [`Stats`].
//!
//! Writes are atomic ([`cache::write_atomic`]) after merging with the file on disk, so concurrent
//! runs keep each other's commits. The cache is bounded to [`DEFAULT_MAX_COMMITS`] commits: when
//! there are more, the oldest by committer time are evicted first (the history window only ever
//! reaches back from a recent merge-base, so old commits are the least likely to be walked again).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::binfmt::{Parsed, Reader, Writer};
use super::store::{self, Key, Kind};
use crate::git::diff::Status;
use crate::git::history::{Change, CommitMemo, CommitRecord, IdMap};
use crate::git::hunks::{CommitFacts, FileDiff, Hunk};
use crate::git::Oid;

/// Bump when what is cached changes shape or meaning (say, how changes are computed).
pub const FORMAT: u32 = 4;
/// The history cache in the store.
pub const KIND: Kind = Kind {
    name: "history",
    format: FORMAT,
};
/// Commits kept at most (≈ 100–300 bytes each on disk).
pub const DEFAULT_MAX_COMMITS: usize = 200_000;

/// What happened to the history cache in one run (for `--timings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Commits in the file when it was loaded.
    pub loaded: usize,
    /// Commits walked that were found in the cache (no commit object read).
    pub hits: usize,
    /// Commit objects read from the repository during the walk (not cached).
    pub read: usize,
    /// Commits compared with their parent in this run (their changes were not cached).
    pub computed: usize,
    /// Commits whose line facts were read in this run (they were not cached).
    pub facts: usize,
    pub written: bool,
    /// Why the file on disk was not used (absent files are not a reason).
    pub rebuilt: Option<String>,
    /// Why the new file could not be written.
    pub write_error: Option<String>,
    pub evicted: usize,
}

/// The history cache of one run: loaded before mining, saved after it.
pub struct HistoryCache {
    dir: PathBuf,
    version: String,
    key: Key,
    max_commits: usize,
    records: IdMap<CommitRecord>,
    grown: bool,
    /// Length and modification time of the file as loaded: when they are unchanged at save time,
    /// no other run wrote meanwhile and the file need not be read again to merge.
    loaded_stamp: Option<(u64, std::time::SystemTime)>,
    pub stats: Stats,
}

impl HistoryCache {
    /// Load the cache in `dir` (missing, corrupt or from another version: start empty).
    pub fn open(dir: &Path, key: &Key) -> HistoryCache {
        HistoryCache::open_versioned(dir, store::tool_version(), key)
    }

    /// [`HistoryCache::open`] with an explicit version tag (tests simulate upgrades with it).
    pub fn open_versioned(dir: &Path, version: &str, key: &Key) -> HistoryCache {
        let mut c = HistoryCache {
            dir: dir.to_path_buf(),
            version: version.to_string(),
            key: *key,
            max_commits: DEFAULT_MAX_COMMITS,
            records: IdMap::default(),
            grown: false,
            loaded_stamp: None,
            stats: Stats::default(),
        };
        let stamp = store::stamp(dir, KIND);
        match read_file(dir, version, key) {
            Ok(records) => {
                c.stats.loaded = records.len();
                c.records = records;
                c.loaded_stamp = stamp;
            }
            Err(Some(why)) => c.stats.rebuilt = Some(why),
            Err(None) => {}
        }
        c
    }

    /// Keep at most `n` commits (oldest evicted first).
    pub fn with_max_commits(mut self, n: usize) -> HistoryCache {
        self.max_commits = n.max(1);
        self
    }

    /// The cache file.
    pub fn file(&self) -> PathBuf {
        KIND.file_in(&self.dir)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Write the cache back if it grew: merge with what another run may have written meanwhile,
    /// evict down to the bound, write a temporary file and rename it into place. Never fails the
    /// run: a write error is kept in [`Stats::write_error`].
    pub fn save(&mut self) {
        if !self.grown {
            return;
        }
        match self.try_save() {
            Ok(()) => {
                self.stats.written = true;
                self.grown = false;
            }
            Err(e) => self.stats.write_error = Some(e.to_string()),
        }
    }

    fn try_save(&mut self) -> std::io::Result<()> {
        let unchanged =
            self.loaded_stamp.is_some() && store::stamp(&self.dir, KIND) == self.loaded_stamp;
        if let Some(theirs) = (!unchanged)
            .then(|| read_file(&self.dir, &self.version, &self.key).ok())
            .flatten()
        {
            for (id, r) in theirs {
                match self.records.get_mut(&id) {
                    Some(mine) => {
                        if mine.changes.is_none() {
                            mine.changes = r.changes;
                        }
                        if mine.facts.is_none() {
                            mine.facts = r.facts;
                        }
                    }
                    None => {
                        self.records.insert(id, r);
                    }
                }
            }
        }
        let mut ids: Vec<(i64, Oid)> = self.records.iter().map(|(id, r)| (r.time, *id)).collect();
        // Newest first; the id breaks ties so the file's bytes are reproducible.
        ids.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        if ids.len() > self.max_commits {
            for (_, id) in ids.drain(self.max_commits..) {
                self.records.remove(&id);
                self.stats.evicted += 1;
            }
        }
        let body = encode(ids.iter().map(|(_, id)| (*id, &self.records[id])));
        store::write(
            &self.dir,
            KIND,
            &self.version,
            &self.key,
            0,
            ids.len() as u64,
            &body,
        )
    }
}

impl CommitMemo for HistoryCache {
    fn get(&self, id: Oid) -> Option<&CommitRecord> {
        self.records.get(&id)
    }

    fn insert(&mut self, id: Oid, record: CommitRecord) {
        self.stats.read += 1;
        self.grown = true;
        self.records.insert(id, record);
    }

    fn set_changes(&mut self, id: Oid, changes: Vec<Change>) {
        if let Some(r) = self.records.get_mut(&id) {
            r.changes = Some(changes);
            self.stats.computed += 1;
            self.grown = true;
        }
    }

    fn set_facts(&mut self, id: Oid, facts: CommitFacts) {
        if let Some(r) = self.records.get_mut(&id) {
            r.facts = Some(facts);
            self.stats.facts += 1;
            self.grown = true;
        }
    }

    fn hit(&mut self) {
        self.stats.hits += 1;
    }
}

/// Every status, by its code on disk.
const STATUSES: [Status; 6] = [
    Status::Added,
    Status::Deleted,
    Status::Modified,
    Status::Renamed,
    Status::Copied,
    Status::TypeChanged,
];

fn status_code(d: Status) -> u8 {
    STATUSES.iter().position(|s| *s == d).unwrap_or(0) as u8
}

fn status_of(code: u8) -> Option<Status> {
    STATUSES.get(usize::from(code)).copied()
}

const OLD_PATH: u8 = 1;
const NEW_PATH: u8 = 2;
const OLD_ID: u8 = 4;
const NEW_ID: u8 = 8;
const SUBMODULE: u8 = 16;
const LINES: u8 = 32;
const OTHER: u8 = 64;

fn hunks_out(w: &mut Writer, hunks: &[Hunk]) {
    w.varint(hunks.len() as u64);
    for h in hunks {
        for v in [h.old_start, h.old_lines, h.new_start, h.new_lines] {
            w.varint(u64::from(v));
        }
        w.varint(h.meaningful.len() as u64);
        let mut last = 0u32;
        for m in &h.meaningful {
            w.varint(u64::from(m - last));
            last = *m;
        }
    }
}

fn u32_of(r: &mut Reader) -> Parsed<u32> {
    u32::try_from(r.varint()?).map_err(|_| "a line number out of range".into())
}

fn hunks_in(r: &mut Reader) -> Parsed<Vec<Hunk>> {
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (old_start, old_lines, new_start, new_lines) =
            (u32_of(r)?, u32_of(r)?, u32_of(r)?, u32_of(r)?);
        let k = r.count()?;
        let mut meaningful = Vec::with_capacity(k);
        let mut last = 0u32;
        for _ in 0..k {
            last = last
                .checked_add(u32_of(r)?)
                .ok_or("a line offset out of range")?;
            meaningful.push(last);
        }
        out.push(Hunk {
            old_start,
            old_lines,
            new_start,
            new_lines,
            meaningful,
        });
    }
    Ok(out)
}

/// The body: the string table (paths and authors), then the records.
fn encode<'a>(records: impl Iterator<Item = (Oid, &'a CommitRecord)> + Clone) -> Vec<u8> {
    let mut strings: Vec<&'a str> = Vec::new();
    let mut index: HashMap<&'a str, u64> = HashMap::new();
    let mut intern = |s: &'a str| -> u64 {
        *index.entry(s).or_insert_with(|| {
            strings.push(s);
            strings.len() as u64 - 1
        })
    };
    let mut recs = Writer::default();
    for (id, r) in records {
        recs.oid(&id);
        recs.varint(r.parents.len() as u64);
        for p in &r.parents {
            recs.oid(p);
        }
        recs.i64(r.time);
        recs.varint(intern(&r.author));
        recs.varint(intern(&r.author_name));
        recs.str(&r.message);
        match &r.changes {
            None => recs.u8(0),
            Some(changes) => {
                recs.u8(1);
                recs.varint(changes.len() as u64);
                for c in changes {
                    let flags = if c.old_path.is_some() { OLD_PATH } else { 0 }
                        | if c.new_path.is_some() { NEW_PATH } else { 0 }
                        | if c.old_id.is_some() { OLD_ID } else { 0 }
                        | if c.new_id.is_some() { NEW_ID } else { 0 }
                        | if c.submodule { SUBMODULE } else { 0 };
                    recs.u8(status_code(c.status));
                    recs.u8(flags);
                    for p in [&c.old_path, &c.new_path].into_iter().flatten() {
                        recs.varint(intern(p));
                    }
                    for o in [&c.old_id, &c.new_id].into_iter().flatten() {
                        recs.oid(o);
                    }
                }
            }
        }
        match &r.facts {
            None => recs.u8(0),
            Some(f) => {
                recs.u8(1);
                recs.varint(f.files.len() as u64);
                for d in &f.files {
                    let flags = if d.old_path.is_some() { OLD_PATH } else { 0 }
                        | if d.old_id.is_some() { OLD_ID } else { 0 }
                        | if d.new_id.is_some() { NEW_ID } else { 0 }
                        | if d.lines { LINES } else { 0 }
                        | if d.other.is_some() { OTHER } else { 0 };
                    recs.u8(status_code(d.status));
                    recs.u8(flags);
                    recs.varint(intern(&d.path));
                    if let Some(o) = &d.old_path {
                        recs.varint(intern(o));
                    }
                    for o in [&d.old_id, &d.new_id].into_iter().flatten() {
                        recs.oid(o);
                    }
                    if d.lines {
                        recs.varint(u64::from(d.old_total));
                        recs.varint(u64::from(d.added));
                        recs.varint(u64::from(d.deleted));
                        recs.varint(u64::from(d.code_added));
                        hunks_out(&mut recs, &d.hunks);
                    }
                    if let Some((o, h)) = &d.other {
                        recs.oid(o);
                        hunks_out(&mut recs, h);
                    }
                }
            }
        }
    }
    let mut body = Writer {
        buf: Vec::with_capacity(recs.buf.len() + strings.len() * 32 + 16),
    };
    body.varint(strings.len() as u64);
    for s in &strings {
        body.str(s);
    }
    body.raw(&recs.buf);
    body.buf
}

/// The records of the cache file in `dir`; `Err(None)` when there is none, `Err(Some(why))` when
/// it is unusable.
fn read_file(dir: &Path, version: &str, key: &Key) -> Result<IdMap<CommitRecord>, Option<String>> {
    let loaded = store::read(dir, KIND, version, key)?;
    decode(&loaded.body, loaded.entries).map_err(|e| Some(format!("corrupt body: {e}")))
}

fn decode(body: &[u8], entries: u64) -> Parsed<IdMap<CommitRecord>> {
    let mut r = Reader::new(body);
    let n = r.count()?;
    let mut strings = Vec::with_capacity(n);
    for _ in 0..n {
        strings.push(r.str()?.to_string());
    }
    if entries > body.len() as u64 {
        return Err("entry count larger than the file".into());
    }
    let mut out = IdMap::with_capacity_and_hasher(entries as usize, Default::default());
    for _ in 0..entries {
        let id = r.oid()?;
        let np = r.count()?;
        let mut parents = Vec::with_capacity(np);
        for _ in 0..np {
            parents.push(r.oid()?);
        }
        let time = r.i64()?;
        let author = r.index(&strings)?.clone();
        let author_name = r.index(&strings)?.clone();
        let message = r.str()?.to_string();
        let changes = match r.u8()? {
            0 => None,
            1 => {
                let nc = r.count()?;
                let mut changes = Vec::with_capacity(nc);
                for _ in 0..nc {
                    let status = status_of(r.u8()?).ok_or("unknown change status")?;
                    let flags = r.u8()?;
                    let path = |bit: u8, r: &mut Reader| -> Parsed<Option<String>> {
                        Ok(if flags & bit != 0 {
                            Some(r.index(&strings)?.clone())
                        } else {
                            None
                        })
                    };
                    let old_path = path(OLD_PATH, &mut r)?;
                    let new_path = path(NEW_PATH, &mut r)?;
                    let old_id = if flags & OLD_ID != 0 {
                        Some(r.oid()?)
                    } else {
                        None
                    };
                    let new_id = if flags & NEW_ID != 0 {
                        Some(r.oid()?)
                    } else {
                        None
                    };
                    changes.push(Change {
                        status,
                        old_path,
                        new_path,
                        old_id,
                        new_id,
                        submodule: flags & SUBMODULE != 0,
                    });
                }
                Some(changes)
            }
            _ => return Err("bad changes marker".into()),
        };
        let facts = match r.u8()? {
            0 => None,
            1 => {
                let nf = r.count()?;
                let mut files = Vec::with_capacity(nf);
                for _ in 0..nf {
                    let status = status_of(r.u8()?).ok_or("unknown change status")?;
                    let flags = r.u8()?;
                    let path = r.index(&strings)?.clone();
                    let old_path = if flags & OLD_PATH != 0 {
                        Some(r.index(&strings)?.clone())
                    } else {
                        None
                    };
                    let old_id = if flags & OLD_ID != 0 {
                        Some(r.oid()?)
                    } else {
                        None
                    };
                    let new_id = if flags & NEW_ID != 0 {
                        Some(r.oid()?)
                    } else {
                        None
                    };
                    let mut d = FileDiff {
                        path,
                        old_path,
                        status,
                        old_id,
                        new_id,
                        lines: flags & LINES != 0,
                        ..FileDiff::default()
                    };
                    if d.lines {
                        d.old_total = u32_of(&mut r)?;
                        d.added = u32_of(&mut r)?;
                        d.deleted = u32_of(&mut r)?;
                        d.code_added = u32_of(&mut r)?;
                        d.hunks = hunks_in(&mut r)?;
                    }
                    if flags & OTHER != 0 {
                        let o = r.oid()?;
                        d.other = Some((o, hunks_in(&mut r)?));
                    }
                    files.push(d);
                }
                Some(CommitFacts { files })
            }
            _ => return Err("bad facts marker".into()),
        };
        out.insert(
            id,
            CommitRecord {
                parents,
                time,
                author,
                author_name,
                message,
                changes,
                facts,
            },
        );
    }
    if !r.is_empty() {
        return Err("trailing bytes".into());
    }
    if out.len() as u64 != entries {
        return Err("duplicate commit ids".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_key() -> Key {
        Key::from_secret(b"test")
    }

    fn oid(n: u32) -> Oid {
        let mut b = [7u8; 20];
        b[..4].copy_from_slice(&n.to_be_bytes());
        Oid::from_bytes(&b).unwrap()
    }

    /// Commit `n`: a merge every fifth, otherwise a rename, a modification and an addition.
    fn record(n: u32) -> CommitRecord {
        let merge = n.is_multiple_of(5);
        CommitRecord {
            parents: if merge {
                vec![oid(n + 1), oid(n + 2)]
            } else {
                vec![oid(n + 1)]
            },
            time: 1_700_000_000 + i64::from(n) * 60,
            author: format!("dev{}@example.com", n % 3),
            author_name: format!("Dev {}", n % 3),
            message: format!("fix: change {n}\n\nbody ünïcode"),
            changes: (!merge).then(|| {
                vec![
                    Change {
                        status: Status::Renamed,
                        old_path: Some("src/old.ts".into()),
                        new_path: Some(format!("src/new{n}.ts")),
                        old_id: Some(oid(1000 + n)),
                        new_id: Some(oid(2000 + n)),
                        submodule: false,
                    },
                    Change {
                        status: Status::Modified,
                        old_path: Some("vendor/sub".into()),
                        new_path: Some("vendor/sub".into()),
                        old_id: Some(oid(3000)),
                        new_id: Some(oid(3001 + n)),
                        submodule: true,
                    },
                    Change {
                        status: Status::Added,
                        old_path: None,
                        new_path: Some("README.md".into()),
                        old_id: None,
                        new_id: Some(oid(4000)),
                        submodule: false,
                    },
                ]
            }),
            facts: (!n.is_multiple_of(3)).then(|| CommitFacts {
                files: vec![
                    FileDiff {
                        path: format!("src/new{n}.ts"),
                        old_path: Some("src/old.ts".into()),
                        status: Status::Renamed,
                        old_id: Some(oid(1000 + n)),
                        new_id: Some(oid(2000 + n)),
                        lines: true,
                        old_total: 40 + n,
                        added: 3,
                        deleted: 2,
                        code_added: 2,
                        hunks: vec![Hunk {
                            old_start: 5,
                            old_lines: 2,
                            new_start: 5,
                            new_lines: 3,
                            meaningful: vec![0, 1],
                        }],
                        other: merge.then(|| (oid(9), vec![Hunk::default()])),
                    },
                    FileDiff {
                        path: "README.md".into(),
                        status: Status::Added,
                        new_id: Some(oid(4000)),
                        ..FileDiff::default()
                    },
                ],
            }),
        }
    }

    fn fill(c: &mut HistoryCache, ns: impl Iterator<Item = u32>) {
        for n in ns {
            c.records.insert(oid(n), record(n));
        }
        c.grown = true;
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = HistoryCache::open(dir.path(), &test_key());
        assert!(c.is_empty());
        assert_eq!(c.stats.rebuilt, None, "an absent file is not a reason");
        fill(&mut c, 1..=20);
        c.save();
        assert!(c.stats.written, "{:?}", c.stats);
        let again = HistoryCache::open(dir.path(), &test_key());
        assert_eq!(again.stats.loaded, 20);
        assert_eq!(again.records, c.records);
        // Nothing new: nothing written.
        let mut same = HistoryCache::open(dir.path(), &test_key());
        same.save();
        assert!(!same.stats.written);
    }

    #[test]
    fn version_change_and_corruption_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = HistoryCache::open_versioned(dir.path(), "old", &test_key());
        fill(&mut c, 1..=10);
        c.save();
        let reason = |version: &str| {
            let c = HistoryCache::open_versioned(dir.path(), version, &test_key());
            assert!(c.is_empty());
            c.stats.rebuilt.unwrap_or_default()
        };
        assert!(reason("new").contains("written by version old"));
        let path = c.file();
        let data = std::fs::read(&path).unwrap();
        let mut flipped = data.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x20;
        std::fs::write(&path, &flipped).unwrap();
        assert!(reason("old").contains("checksum mismatch"));
        std::fs::write(&path, &data[..data.len() / 2]).unwrap();
        assert!(reason("old").contains("truncated"));
        std::fs::write(&path, &data[..20]).unwrap();
        assert!(!reason("old").is_empty());
        std::fs::write(&path, b"\x00\x01garbage").unwrap();
        assert!(reason("old").contains("not a pr-risk cache file"));
        std::fs::write(&path, b"").unwrap();
        assert!(!reason("old").is_empty());
        // A body that matches its checksum and MAC but lies about its records: still no panic.
        let (mut header, good) = store::Header::decode(&data).unwrap();
        let body = vec![0xffu8; good.len()];
        header.checksum = crate::hash::fnv1a(&body);
        header.seal(&test_key(), &body);
        std::fs::write(&path, header.encode(&body)).unwrap();
        assert!(reason("old").contains("corrupt body"));
        // A rebuilt cache overwrites the bad file.
        let mut cut = HistoryCache::open_versioned(dir.path(), "old", &test_key());
        fill(&mut cut, 1..=2);
        cut.save();
        assert_eq!(
            HistoryCache::open_versioned(dir.path(), "old", &test_key()).len(),
            2
        );
    }

    #[test]
    fn bounded_evicts_the_oldest_commits() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = HistoryCache::open(dir.path(), &test_key()).with_max_commits(3);
        fill(&mut c, 1..=5);
        c.save();
        assert_eq!(c.stats.evicted, 2);
        let again = HistoryCache::open(dir.path(), &test_key());
        let mut kept: Vec<i64> = again.records.values().map(|r| r.time).collect();
        kept.sort();
        assert_eq!(kept, [3, 4, 5].map(|n| record(n).time), "newest kept");
    }

    #[test]
    fn save_merges_with_concurrent_writers() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = HistoryCache::open(dir.path(), &test_key());
        let mut b = HistoryCache::open(dir.path(), &test_key());
        fill(&mut a, 1..=3);
        fill(&mut b, 3..=6);
        a.save();
        b.save();
        assert_eq!(HistoryCache::open(dir.path(), &test_key()).len(), 6);
        // Four writers at once: whoever renames last, the file is whole.
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let (barrier, dir) = (&barrier, dir.path());
                s.spawn(move || {
                    let mut c = HistoryCache::open(dir, &test_key());
                    fill(&mut c, (100 * (t + 1))..(100 * (t + 1) + 50));
                    barrier.wait();
                    c.save();
                    assert!(c.stats.written, "{:?}", c.stats);
                });
            }
        });
        let after = HistoryCache::open(dir.path(), &test_key());
        assert_eq!(after.stats.rebuilt, None);
        assert!(after.len() >= 56, "{}", after.len());
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn unwritable_dir_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let mut c = HistoryCache::open(&file.join("cache"), &test_key());
        fill(&mut c, 1..=2);
        c.save();
        assert!(!c.stats.written);
        assert!(c.stats.write_error.is_some());
    }

    /// Mining with the cache (empty, filled at an older base, full) gives exactly what mining
    /// without one gives, for every window and both rename settings; only uncached commits are
    /// read and compared.
    #[test]
    fn cached_mining_equals_uncached() {
        use crate::git::history::tests::{fingerprint, scripted};
        use crate::git::history::{mine, FixMatcher, MineOptions};
        use std::collections::HashSet;
        let (_dir, repo, ids) = scripted();
        let [_, _, _, c3, _, _, _, _, base] = ids[..] else {
            unreachable!()
        };
        let matcher = FixMatcher::defaults();
        let churn: HashSet<String> = ["lib/longer.ts", "src/a.ts"].map(String::from).into();
        let windows = [(100, 3650, 1), (3, 3650, 1), (3, 3650, 7), (100, 0, 1)];
        for (max_commits, max_age_days, min_commits) in windows {
            for follow_renames in [true, false] {
                let opts = MineOptions {
                    max_commits,
                    max_age_days,
                    min_commits,
                    follow_renames,
                    matcher: &matcher,
                    churn_for: &churn,
                };
                let cache_dir = tempfile::tempdir().unwrap();
                let plain = fingerprint(&mine(&repo, base, &opts, None).unwrap());
                let mut old = HistoryCache::open(cache_dir.path(), &test_key());
                mine(&repo, c3, &opts, Some(&mut old)).unwrap();
                old.save();
                let mut grown = HistoryCache::open(cache_dir.path(), &test_key());
                let h = mine(&repo, base, &opts, Some(&mut grown)).unwrap();
                assert_eq!(plain, fingerprint(&h), "{opts:?}");
                grown.save();
                let mut full = HistoryCache::open(cache_dir.path(), &test_key());
                let h = mine(&repo, base, &opts, Some(&mut full)).unwrap();
                assert_eq!(plain, fingerprint(&h), "{opts:?}");
                assert_eq!((full.stats.read, full.stats.computed), (0, 0));
                assert!(full.stats.hits >= h.reachable, "{:?}", full.stats);
            }
        }
        let opts = MineOptions {
            max_commits: 100,
            max_age_days: 3650,
            min_commits: 1,
            follow_renames: true,
            matcher: &matcher,
            churn_for: &churn,
        };
        // Incremental: a cache filled at c3 makes mining at the base read and compare only the
        // five newer commits (the merge is read, never compared).
        let cache_dir = tempfile::tempdir().unwrap();
        let mut c = HistoryCache::open(cache_dir.path(), &test_key());
        mine(&repo, c3, &opts, Some(&mut c)).unwrap();
        assert_eq!((c.stats.read, c.stats.computed), (4, 4));
        c.save();
        let mut c = HistoryCache::open(cache_dir.path(), &test_key());
        assert_eq!(c.stats.loaded, 4);
        mine(&repo, base, &opts, Some(&mut c)).unwrap();
        assert_eq!((c.stats.read, c.stats.computed), (5, 4), "{:?}", c.stats);
    }

    /// Line facts are read once, kept by commit id, and the same as without the cache; a newer
    /// merge-base reads only the new commits' facts.
    #[test]
    fn line_facts_are_cached_and_extended() {
        use crate::git::history::tests::scripted;
        use crate::git::history::{fill_facts, mine, Commits, FixMatcher, MineOptions};
        let (_dir, repo, ids) = scripted();
        let [_, _, _, c3, _, _, _, _, base] = ids[..] else {
            unreachable!()
        };
        let matcher = FixMatcher::defaults();
        let churn = Default::default();
        let opts = MineOptions {
            max_commits: 100,
            max_age_days: 3650,
            min_commits: 1,
            follow_renames: true,
            matcher: &matcher,
            churn_for: &churn,
        };
        let mut plain = Commits::default();
        let h = mine(&repo, base, &opts, Some(&mut plain)).unwrap();
        assert_eq!(fill_facts(&repo, &h.window, &mut plain).unwrap(), 9);
        let cache_dir = tempfile::tempdir().unwrap();
        let mut c = HistoryCache::open(cache_dir.path(), &test_key());
        let old = mine(&repo, c3, &opts, Some(&mut c)).unwrap();
        assert_eq!(fill_facts(&repo, &old.window, &mut c).unwrap(), 4);
        c.save();
        let mut c = HistoryCache::open(cache_dir.path(), &test_key());
        let h2 = mine(&repo, base, &opts, Some(&mut c)).unwrap();
        assert_eq!(
            fill_facts(&repo, &h2.window, &mut c).unwrap(),
            5,
            "only the newer commits"
        );
        assert_eq!(c.stats.facts, 5);
        c.save();
        let full = HistoryCache::open(cache_dir.path(), &test_key());
        for id in &h.window {
            assert_eq!(
                full.get(*id).unwrap().facts,
                plain.records[id].facts,
                "{id}"
            );
        }
        // The merge's facts: only files whose merged content differs from both parents (none).
        let merge = ids[6];
        assert_eq!(
            full.get(merge).unwrap().facts.as_ref().unwrap().files.len(),
            0
        );
        // The renamed file's facts carry its old path.
        let s2 = ids[5];
        let f = &full.get(s2).unwrap().facts.as_ref().unwrap().files;
        assert!(f.iter().any(|d| d.path == "lib/longer.ts"
            && d.old_path.as_deref() == Some("lib/long.ts")
            && d.added == 1
            && d.lines));
    }
}
