//! The advisory cache: what an advisory database (OSV) answered about one package version, kept for
//! a day.
//!
//! Keyed by (source URL, ecosystem, package, version): a mirror's answers are never taken for
//! another source's. An answer older than [`TTL`] is not used (advisories are published and
//! amended every day; a day bounds how stale a "no known vulnerability" can be) and is dropped on
//! the next save. An empty answer is cached too: "none known" is an answer.
//!
//! File: `osv-v<FORMAT>.bin` in the cache directory, the store's header ([`super::store`]) and a
//! body of records in [`super::binfmt`]: source, ecosystem, name, version, fetched (unix
//! seconds), then each advisory's id, aliases, summary, severity, where the severity came from,
//! CVSS score, URL and fixed versions. Saving merges with what another run wrote meanwhile (the
//! newer answer wins), drops expired entries and keeps at most [`DEFAULT_MAX_ENTRIES`], newest
//! first. A corrupt or foreign file is rebuilt with the reason, never a failed run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::binfmt::{Parsed, Reader, Writer};
use super::store::{self, Kind};
use crate::deps::advisories::{Advisory, AdvisoryMemo, PackageVersion, Severity};
use crate::deps::Ecosystem;

/// Bump when the records change shape.
pub const FORMAT: u32 = 1;
/// The advisory cache in the store.
pub const KIND: Kind = Kind {
    name: "osv",
    format: FORMAT,
};
/// How long an answer is used (seconds).
pub const TTL: u64 = 86_400;
/// Entries kept at most.
pub const DEFAULT_MAX_ENTRIES: usize = 50_000;

type Key = (String, Ecosystem, String, String);

#[derive(Debug, Clone)]
struct Entry {
    fetched: u64,
    advisories: Vec<Advisory>,
}

/// What the cache did in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub loaded: usize,
    pub hits: usize,
    pub misses: usize,
    /// Entries found but older than [`TTL`].
    pub expired: usize,
    pub written: bool,
    pub rebuilt: Option<String>,
    pub write_error: Option<String>,
}

/// The advisory cache of one run.
pub struct OsvCache {
    dir: PathBuf,
    version: String,
    secret: store::Key,
    now: u64,
    entries: HashMap<Key, Entry>,
    dirty: bool,
    pub stats: Stats,
}

impl OsvCache {
    /// Load the cache in `dir` (missing, corrupt or from another version: start empty).
    pub fn open(dir: &Path, secret: &store::Key) -> OsvCache {
        OsvCache::open_at(dir, store::tool_version(), secret, store::unix_now())
    }

    /// [`OsvCache::open`] with an explicit version and clock (tests age entries with it).
    pub fn open_at(dir: &Path, version: &str, secret: &store::Key, now: u64) -> OsvCache {
        let mut c = OsvCache {
            dir: dir.to_path_buf(),
            version: version.to_string(),
            secret: *secret,
            now,
            entries: HashMap::new(),
            dirty: false,
            stats: Stats::default(),
        };
        match read_file(dir, version, secret) {
            Ok(e) => {
                c.stats.loaded = e.len();
                c.entries = e;
            }
            Err(Some(why)) => c.stats.rebuilt = Some(why),
            Err(None) => {}
        }
        c
    }

    pub fn file(&self) -> PathBuf {
        KIND.file_in(&self.dir)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn fresh(&self, fetched: u64) -> bool {
        self.now.saturating_sub(fetched) < TTL && fetched <= self.now + 60
    }

    /// Write the cache back if anything was added (merged, expired entries dropped, bounded).
    /// Never fails the run: a write error is kept in [`Stats::write_error`].
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        match self.try_save() {
            Ok(()) => {
                self.stats.written = true;
                self.dirty = false;
            }
            Err(e) => self.stats.write_error = Some(e.to_string()),
        }
    }

    fn try_save(&mut self) -> std::io::Result<()> {
        if let Ok(theirs) = read_file(&self.dir, &self.version, &self.secret) {
            for (k, e) in theirs {
                match self.entries.get(&k) {
                    Some(mine) if mine.fetched >= e.fetched => {}
                    _ => {
                        self.entries.insert(k, e);
                    }
                }
            }
        }
        let now = self.now;
        self.entries
            .retain(|_, e| now.saturating_sub(e.fetched) < TTL && e.fetched <= now + 60);
        let mut records: Vec<(&Key, &Entry)> = self.entries.iter().collect();
        records.sort_by(|a, b| b.1.fetched.cmp(&a.1.fetched).then_with(|| a.0.cmp(b.0)));
        records.truncate(DEFAULT_MAX_ENTRIES);
        records.sort_by(|a, b| a.0.cmp(b.0));
        let mut w = Writer::default();
        for (k, e) in &records {
            encode(&mut w, k, e);
        }
        store::write(
            &self.dir,
            KIND,
            &self.version,
            &self.secret,
            0,
            records.len() as u64,
            &w.buf,
        )
    }
}

impl AdvisoryMemo for OsvCache {
    fn get(&mut self, source: &str, p: &PackageVersion) -> Option<Vec<Advisory>> {
        let key = (
            source.to_string(),
            p.ecosystem,
            p.name.clone(),
            p.version.clone(),
        );
        match self.entries.get(&key) {
            Some(e) if self.fresh(e.fetched) => {
                self.stats.hits += 1;
                Some(e.advisories.clone())
            }
            Some(_) => {
                self.stats.expired += 1;
                self.stats.misses += 1;
                None
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    fn put(&mut self, source: &str, p: &PackageVersion, found: &[Advisory]) {
        self.entries.insert(
            (
                source.to_string(),
                p.ecosystem,
                p.name.clone(),
                p.version.clone(),
            ),
            Entry {
                fetched: self.now,
                advisories: found.to_vec(),
            },
        );
        self.dirty = true;
    }
}

fn read_file(
    dir: &Path,
    version: &str,
    secret: &store::Key,
) -> Result<HashMap<Key, Entry>, Option<String>> {
    let loaded = store::read(dir, KIND, version, secret)?;
    let mut r = Reader::new(&loaded.body);
    let mut out = HashMap::new();
    while !r.is_empty() {
        let (k, e) = decode(&mut r).map_err(|e| Some(format!("corrupt body: {e}")))?;
        out.insert(k, e);
    }
    if out.len() as u64 != loaded.entries {
        return Err(Some("entry count mismatch".into()));
    }
    Ok(out)
}

const ECOSYSTEMS: [Ecosystem; 2] = [Ecosystem::Npm, Ecosystem::Cargo];
const SEVERITIES: [Severity; 4] = [
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

fn index_of<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).unwrap_or(0) as u8
}

fn encode(w: &mut Writer, (source, eco, name, version): &Key, e: &Entry) {
    w.str(source);
    w.u8(index_of(&ECOSYSTEMS, eco));
    w.str(name);
    w.str(version);
    w.u64(e.fetched);
    w.varint(e.advisories.len() as u64);
    for a in &e.advisories {
        w.str(&a.id);
        w.varint(a.aliases.len() as u64);
        for x in &a.aliases {
            w.str(x);
        }
        w.str(&a.summary);
        w.u8(index_of(&SEVERITIES, &a.severity));
        w.str(&a.severity_from);
        match a.cvss_score {
            Some(s) => {
                w.u8(1);
                w.u64(s.to_bits());
            }
            None => w.u8(0),
        }
        w.str(&a.url);
        w.varint(a.fixed.len() as u64);
        for x in &a.fixed {
            w.str(x);
        }
    }
}

fn strings(r: &mut Reader) -> Parsed<Vec<String>> {
    let n = r.count()?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(r.str()?.to_string());
    }
    Ok(v)
}

fn decode(r: &mut Reader) -> Parsed<(Key, Entry)> {
    let source = r.str()?.to_string();
    let eco = *r.index(&ECOSYSTEMS)?;
    let name = r.str()?.to_string();
    let version = r.str()?.to_string();
    let fetched = r.u64()?;
    let n = r.count()?;
    let mut advisories = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.str()?.to_string();
        let aliases = strings(r)?;
        let summary = r.str()?.to_string();
        let severity = *r.index(&SEVERITIES)?;
        let severity_from = r.str()?.to_string();
        let cvss_score = match r.u8()? {
            0 => None,
            1 => Some(f64::from_bits(r.u64()?)),
            _ => return Err("bad score tag".into()),
        };
        let url = r.str()?.to_string();
        let fixed = strings(r)?;
        advisories.push(Advisory {
            id,
            aliases,
            summary,
            severity,
            severity_from,
            cvss_score,
            url,
            fixed,
            introduced: false,
        });
    }
    Ok((
        (source, eco, name, version),
        Entry {
            fetched,
            advisories,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(name: &str, version: &str) -> PackageVersion {
        PackageVersion {
            ecosystem: Ecosystem::Npm,
            name: name.into(),
            version: version.into(),
        }
    }

    fn advisory(id: &str) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: vec!["CVE-2021-23337".into()],
            summary: "Command injection".into(),
            severity: Severity::High,
            severity_from: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H = 7.2".into(),
            cvss_score: Some(7.2),
            url: format!("https://osv.dev/vulnerability/{id}"),
            fixed: vec!["4.17.21".into()],
            introduced: false,
        }
    }

    const SRC: &str = "https://api.osv.dev";

    fn test_key() -> store::Key {
        store::Key::from_secret(b"test")
    }

    #[test]
    fn answers_round_trip_for_a_day_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_700_000_000;
        let mut c = OsvCache::open_at(dir.path(), "1.0", &test_key(), t0);
        assert_eq!(c.get(SRC, &pv("lodash", "4.17.20")), None);
        c.put(
            SRC,
            &pv("lodash", "4.17.20"),
            &[advisory("GHSA-35jh-r3h4-6jhm")],
        );
        c.put(SRC, &pv("zod", "4.0.1"), &[]);
        c.save();
        assert!(c.stats.written, "{:?}", c.stats);
        let mut again = OsvCache::open_at(dir.path(), "1.0", &test_key(), t0 + 3600);
        assert_eq!(again.stats.loaded, 2);
        assert_eq!(
            again.get(SRC, &pv("lodash", "4.17.20")),
            Some(vec![advisory("GHSA-35jh-r3h4-6jhm")])
        );
        assert_eq!(
            again.get(SRC, &pv("zod", "4.0.1")),
            Some(vec![]),
            "none known is an answer"
        );
        assert_eq!(again.get("http://mirror", &pv("zod", "4.0.1")), None);
        let mut later = OsvCache::open_at(dir.path(), "1.0", &test_key(), t0 + TTL + 1);
        assert_eq!(later.get(SRC, &pv("zod", "4.0.1")), None);
        assert_eq!(later.stats.expired, 1);
        later.put(SRC, &pv("left-pad", "1.3.0"), &[]);
        later.save();
        let reread = OsvCache::open_at(dir.path(), "1.0", &test_key(), t0 + TTL + 2);
        assert_eq!(reread.len(), 1, "expired entries are dropped on save");
    }

    #[test]
    fn a_corrupt_file_is_rebuilt_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = OsvCache::open_at(dir.path(), "1.0", &test_key(), 100);
        c.put(SRC, &pv("a", "1.0.0"), &[advisory("GHSA-x")]);
        c.save();
        let file = c.file();
        let mut data = std::fs::read(&file).unwrap();
        let n = data.len();
        data[n - 3] ^= 0x55;
        std::fs::write(&file, &data).unwrap();
        let c = OsvCache::open_at(dir.path(), "1.0", &test_key(), 100);
        assert!(c.is_empty());
        assert!(c
            .stats
            .rebuilt
            .as_deref()
            .unwrap()
            .starts_with("checksum mismatch"));
    }
}
