//! The scan cache: the security findings of one text, so a warm run does not scan it again.
//!
//! What the security scan finds in a text is a pure function of the text's blob, the paths it is
//! reported and read under, two flags (code rules on, test file) — together
//! [`ScanKey`] — and the rule set ([`RuleSet::version`](crate::score::security::RuleSet), a
//! hash of the `security:` settings and the rule dirs' files; the embedded packs come with the
//! tool version, which the store's header checks). Entries are keyed by (rule set version,
//! [`ScanKey`]), so runs with other settings (another branch's `.pr-risk.yml`) keep their own
//! entries side by side.
//!
//! File: `scan-v<FORMAT>.bin` in the cache directory, the store's header ([`super::store`],
//! sealed with the host key) and a body of records in [`super::binfmt`]: rule set version, blob
//! id, path, language path, flags, last use (unix seconds), then each finding. Saving merges with
//! what another run wrote meanwhile and keeps at most [`DEFAULT_MAX_ENTRIES`], most recently
//! used first. A corrupt or foreign file is rebuilt with the reason, never a failed run; a run
//! that only reads writes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::binfmt::{Parsed, Reader, Writer};
use super::store::{self, Kind};
use crate::score::security::fingerprint::Identity;
use crate::score::security::rules::Severity;
use crate::score::security::{Finding, ScanKey, ScanMemo};

/// Bump when the records change shape.
pub const FORMAT: u32 = 1;
/// The scan cache in the store.
pub const KIND: Kind = Kind {
    name: "scan",
    format: FORMAT,
};
/// Entries kept at most (one per scanned text side).
pub const DEFAULT_MAX_ENTRIES: usize = 20_000;

type Key = (u64, ScanKey);

#[derive(Debug, Clone)]
struct Entry {
    used: u64,
    findings: Vec<Finding>,
}

/// What the cache did in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub loaded: usize,
    pub hits: usize,
    pub misses: usize,
    pub written: bool,
    pub rebuilt: Option<String>,
    pub write_error: Option<String>,
}

/// The scan cache of one run (shared by the parallel scans).
pub struct ScanCache {
    dir: PathBuf,
    version: String,
    secret: store::Key,
    now: u64,
    entries: Mutex<HashMap<Key, Entry>>,
    dirty: AtomicBool,
    hits: AtomicUsize,
    misses: AtomicUsize,
    max_entries: usize,
    pub stats: Stats,
}

impl ScanCache {
    /// Load the cache in `dir` (missing, corrupt or from another version: start empty).
    pub fn open(dir: &Path, secret: &store::Key) -> ScanCache {
        ScanCache::open_at(dir, store::tool_version(), secret, store::unix_now())
    }

    /// [`ScanCache::open`] with an explicit tool version and clock.
    pub fn open_at(dir: &Path, version: &str, secret: &store::Key, now: u64) -> ScanCache {
        let mut c = ScanCache {
            dir: dir.to_path_buf(),
            version: version.to_string(),
            secret: *secret,
            now,
            entries: Mutex::new(HashMap::new()),
            dirty: AtomicBool::new(false),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            max_entries: DEFAULT_MAX_ENTRIES,
            stats: Stats::default(),
        };
        match read_file(dir, version, secret) {
            Ok(e) => {
                c.stats.loaded = e.len();
                c.entries = Mutex::new(e);
            }
            Err(Some(why)) => c.stats.rebuilt = Some(why),
            Err(None) => {}
        }
        c
    }

    /// Keep at most `n` entries on save (tests).
    pub fn with_max_entries(mut self, n: usize) -> ScanCache {
        self.max_entries = n;
        self
    }

    pub fn file(&self) -> PathBuf {
        KIND.file_in(&self.dir)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Write the cache back if anything was scanned (merged with another run's, bounded), and
    /// fill in [`Stats`]. Never fails the run: a write error is kept in [`Stats::write_error`].
    pub fn save(&mut self) {
        self.stats.hits = self.hits.load(Ordering::Relaxed);
        self.stats.misses = self.misses.load(Ordering::Relaxed);
        if !self.dirty.load(Ordering::Relaxed) {
            return;
        }
        match self.try_save() {
            Ok(()) => {
                self.stats.written = true;
                self.dirty.store(false, Ordering::Relaxed);
            }
            Err(e) => self.stats.write_error = Some(e.to_string()),
        }
    }

    fn try_save(&mut self) -> std::io::Result<()> {
        let entries = self
            .entries
            .get_mut()
            .map_err(|_| std::io::Error::other("the scan cache's lock was poisoned"))?;
        if let Ok(theirs) = read_file(&self.dir, &self.version, &self.secret) {
            for (k, e) in theirs {
                match entries.get(&k) {
                    Some(mine) if mine.used >= e.used => {}
                    _ => {
                        entries.insert(k, e);
                    }
                }
            }
        }
        let mut records: Vec<(&Key, &Entry)> = entries.iter().collect();
        records.sort_by(|a, b| b.1.used.cmp(&a.1.used).then_with(|| a.0.cmp(b.0)));
        records.truncate(self.max_entries);
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

impl ScanMemo for ScanCache {
    fn get(&self, rules: u64, key: &ScanKey) -> Option<Vec<Finding>> {
        let mut entries = self.entries.lock().ok()?;
        match entries.get_mut(&(rules, key.clone())) {
            Some(e) => {
                e.used = self.now;
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(e.findings.clone())
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn put(&self, rules: u64, key: ScanKey, findings: &[Finding]) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                (rules, key),
                Entry {
                    used: self.now,
                    findings: findings.to_vec(),
                },
            );
            self.dirty.store(true, Ordering::Relaxed);
        }
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

const SEVERITIES: [Severity; 4] = [
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

fn opt_str(w: &mut Writer, v: &Option<String>) {
    match v {
        Some(s) => {
            w.u8(1);
            w.str(s);
        }
        None => w.u8(0),
    }
}

fn read_opt_str(r: &mut Reader) -> Parsed<Option<String>> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(r.str()?.to_string())),
        _ => Err("bad option tag".into()),
    }
}

fn encode(w: &mut Writer, (rules, k): &Key, e: &Entry) {
    w.u64(*rules);
    w.oid(&k.blob);
    w.str(&k.path);
    w.str(&k.lang_path);
    w.u8(u8::from(k.code_rules) | (u8::from(k.test_file) << 1));
    w.u64(e.used);
    w.varint(e.findings.len() as u64);
    for f in &e.findings {
        w.str(&f.rule);
        w.u8(SEVERITIES
            .iter()
            .position(|s| *s == f.severity)
            .unwrap_or(0) as u8);
        w.str(&f.path);
        w.u32(f.line);
        w.u32(f.column);
        w.u32(f.end_line);
        w.str(&f.message);
        w.str(&f.cwe);
        opt_str(w, &f.owasp);
        w.str(&f.fix);
        w.str(&f.snippet);
        w.str(&f.identity.item);
        w.str(&f.identity.anchor);
        w.u32(f.identity.ordinal);
        w.str(&f.fingerprint);
        opt_str(w, &f.source);
        opt_str(w, &f.suppressed);
        w.u8(u8::from(f.suppressed_by_pr));
        w.str(&f.norm);
    }
}

fn decode(r: &mut Reader) -> Parsed<(Key, Entry)> {
    let rules = r.u64()?;
    let blob = r.oid()?;
    let path = r.str()?.to_string();
    let lang_path = r.str()?.to_string();
    let flags = r.u8()?;
    if flags > 3 {
        return Err("bad flags".into());
    }
    let used = r.u64()?;
    let n = r.count()?;
    let mut findings = Vec::with_capacity(n);
    for _ in 0..n {
        let rule = r.str()?.to_string();
        let severity = *r.index(&SEVERITIES)?;
        let path = r.str()?.to_string();
        let line = r.u32()?;
        let column = r.u32()?;
        let end_line = r.u32()?;
        let message = r.str()?.to_string();
        let cwe = r.str()?.to_string();
        let owasp = read_opt_str(r)?;
        let fix = r.str()?.to_string();
        let snippet = r.str()?.to_string();
        let item = r.str()?.to_string();
        let anchor = r.str()?.to_string();
        let ordinal = r.u32()?;
        let fingerprint = r.str()?.to_string();
        let source = read_opt_str(r)?;
        let suppressed = read_opt_str(r)?;
        let suppressed_by_pr = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err("bad flag".into()),
        };
        let norm = r.str()?.to_string();
        findings.push(Finding {
            rule,
            severity,
            path,
            line,
            column,
            end_line,
            message,
            cwe,
            owasp,
            fix,
            snippet,
            identity: Identity {
                item,
                anchor,
                ordinal,
            },
            fingerprint,
            source,
            suppressed,
            suppressed_by_pr,
            norm,
        });
    }
    Ok((
        (
            rules,
            ScanKey {
                blob,
                path,
                lang_path,
                code_rules: flags & 1 != 0,
                test_file: flags & 2 != 0,
            },
        ),
        Entry { used, findings },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::Oid;

    fn key(n: u8, path: &str) -> ScanKey {
        ScanKey {
            blob: Oid::from_bytes(&[n; 20]).unwrap(),
            path: path.into(),
            lang_path: path.into(),
            code_rules: true,
            test_file: n.is_multiple_of(2),
        }
    }

    fn finding(rule: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::High,
            path: "src/a.ts".into(),
            line: 3,
            column: 7,
            end_line: 4,
            message: "Command injection".into(),
            cwe: "CWE-78".into(),
            owasp: Some("A03:2021".into()),
            fix: "Pass arguments as an array".into(),
            snippet: "exec(`ls ${dir}`)".into(),
            identity: Identity {
                item: "run › inner".into(),
                anchor: "exec".into(),
                ordinal: 1,
            },
            fingerprint: "abc123".into(),
            source: Some("`req.query.dir` (line 2)".into()),
            suppressed: None,
            suppressed_by_pr: false,
            norm: "exec(`ls${dir}`)".into(),
        }
    }

    fn test_key() -> store::Key {
        store::Key::from_secret(b"test")
    }

    #[test]
    fn findings_round_trip_per_rule_set_version() {
        let dir = tempfile::tempdir().unwrap();
        let c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 100);
        assert_eq!(c.get(7, &key(1, "src/a.ts")), None);
        c.put(
            7,
            key(1, "src/a.ts"),
            &[finding("ts/exec"), finding("ts/eval")],
        );
        c.put(7, key(2, "src/b.test.ts"), &[]);
        let mut c = c;
        c.save();
        assert!(c.stats.written, "{:?}", c.stats);
        assert_eq!((c.stats.hits, c.stats.misses), (0, 1));
        let mut again = ScanCache::open_at(dir.path(), "1.0", &test_key(), 200);
        assert_eq!(again.stats.loaded, 2);
        assert_eq!(
            again.get(7, &key(1, "src/a.ts")),
            Some(vec![finding("ts/exec"), finding("ts/eval")])
        );
        assert_eq!(again.get(7, &key(2, "src/b.test.ts")), Some(vec![]));
        // Another rule set, another path, another blob: not the same scan.
        assert_eq!(again.get(8, &key(1, "src/a.ts")), None);
        assert_eq!(again.get(7, &key(1, "src/c.ts")), None);
        assert_eq!(again.get(7, &key(3, "src/a.ts")), None);
        again.save();
        assert!(!again.stats.written, "a run that only reads writes nothing");
        assert_eq!((again.stats.hits, again.stats.misses), (2, 3));
        // Another tool version rebuilds.
        let other = ScanCache::open_at(dir.path(), "2.0", &test_key(), 300);
        assert!(other.is_empty());
        assert!(other.stats.rebuilt.is_some());
    }

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 100).with_max_entries(2);
        c.put(1, key(1, "a.ts"), &[]);
        c.save();
        let mut c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 200).with_max_entries(2);
        c.put(1, key(2, "b.ts"), &[]);
        c.save();
        let mut c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 300).with_max_entries(2);
        assert!(c.get(1, &key(1, "a.ts")).is_some(), "used again at 300");
        c.put(1, key(3, "c.ts"), &[]);
        c.save();
        let c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 400);
        assert_eq!(c.len(), 2);
        assert!(c.get(1, &key(1, "a.ts")).is_some());
        assert!(c.get(1, &key(3, "c.ts")).is_some());
        assert!(
            c.get(1, &key(2, "b.ts")).is_none(),
            "b was used least recently"
        );
    }

    #[test]
    fn a_file_sealed_with_another_key_or_corrupt_is_rebuilt_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 100);
        c.put(1, key(1, "a.ts"), &[finding("ts/exec")]);
        c.save();
        let foreign = ScanCache::open_at(
            dir.path(),
            "1.0",
            &store::Key::from_secret(b"other host"),
            100,
        );
        assert!(foreign.is_empty());
        assert!(foreign
            .stats
            .rebuilt
            .as_deref()
            .unwrap()
            .contains("cache key"));
        let file = c.file();
        let mut data = std::fs::read(&file).unwrap();
        let n = data.len();
        data[n - 3] ^= 0x55;
        std::fs::write(&file, &data).unwrap();
        let c = ScanCache::open_at(dir.path(), "1.0", &test_key(), 100);
        assert!(c.is_empty());
        assert!(c
            .stats
            .rebuilt
            .as_deref()
            .unwrap()
            .starts_with("checksum mismatch"));
    }
}
