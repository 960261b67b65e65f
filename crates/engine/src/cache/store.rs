//! The one cache file format: a header, then a body.
//!
//! ```text
//! magic      "pr-risk cache 2\n" 16 bytes
//! cache      string              "parse", "history", "resolve"
//! format     u32                 the cache's own format (bumping one leaves the others)
//! tool       string              the pr-risk version that wrote it
//! key        u64                 what the body is for (the resolution context; 0 otherwise)
//! entries    u64                 records in the body
//! body-len   u64
//! checksum   u64                 FNV-1a 64 of the body
//! mac        32 bytes            HMAC-SHA256, under the host's cache key, of everything above
//!                                and the body
//! body       …                   the cache's records in [`super::binfmt`]
//! ```
//! (strings are varint-length-prefixed UTF-8, integers little-endian.)
//!
//! [`read`] checks everything and says why a file is unusable; [`write`] writes under a unique
//! temporary name in the same directory, syncs and renames, so a reader sees the old or the new
//! file whole, then removes the files older formats of the same cache left behind and temporary
//! files of runs that were killed.
//!
//! **Unforgeable.** A cache entry is trusted as if pr-risk had computed it (the facts of a blob,
//! the record of a commit), and nothing about an entry can be checked more cheaply than computing
//! it again. So every file carries a MAC under a [`Key`] that only this host holds (or that the
//! workflow passes as a secret): a file that anyone else wrote — a pull request that commits a
//! cache, a job that saves a forged one under the same `actions/cache` key — fails the MAC and is
//! rebuilt. Files are read and written only as regular files in a directory that is not a
//! symbolic link (the caller checks the directory; see [`super::location`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::binfmt::{Parsed, Reader, Writer};

const MAGIC: &[u8; 16] = b"pr-risk cache 2\n";
/// Leftover temporary files (a run killed between write and rename) older than this are removed.
const STALE_TMP: Duration = Duration::from_secs(3600);
/// The environment variable that sets the cache key (a secret, so that runners that share caches
/// through `actions/cache` share the key too).
pub const KEY_ENV: &str = "PR_RISK_CACHE_KEY";
/// The file that holds the host's cache key, in `<common git dir>/pr-risk/`.
pub const KEY_FILE: &str = "cache.key";

/// The key cache files are authenticated with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    /// A key derived from a secret (the value of [`KEY_ENV`]).
    pub fn from_secret(secret: &[u8]) -> Key {
        let mut h = Sha256::new();
        h.update(b"pr-risk cache key v1\n");
        h.update(secret);
        Key(h.finalize().into())
    }

    /// A fresh random key.
    pub fn random() -> Result<Key, String> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| format!("no random source: {e}"))?;
        Ok(Key(k))
    }

    /// The cache key of this host: [`KEY_ENV`] when set, else the key in `dir/cache.key`
    /// (created at random, readable by its owner only, on first use). `Err` says why neither
    /// could be had; the caller then uses a [`Key::random`] key for this run alone.
    pub fn for_host(dir: &Path) -> Result<Key, String> {
        if let Some(v) = std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) {
            return Ok(Key::from_secret(v.as_encoded_bytes()));
        }
        let file = dir.join(KEY_FILE);
        match read_key(&file) {
            Ok(Some(k)) => return Ok(k),
            Ok(None) => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let key = Key::random()?;
        // Written whole under a unique name, then linked into place: a concurrent first run
        // either wins the link or reads the winner's complete key, never a half-written file
        // (which would make it seal its caches with a key of its own).
        let tmp = dir.join(format!(
            "{KEY_FILE}.tmp.{}.{:016x}",
            std::process::id(),
            crate::hash::fnv1a(&key.0)
        ));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let written = opts
            .open(&tmp)
            .and_then(|mut f| f.write_all(&key.0).and_then(|_| f.sync_all()));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: {e}", tmp.display()));
        }
        let linked = std::fs::hard_link(&tmp, &file);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key),
            // Another run created it meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read_key(&file)?.ok_or_else(|| format!("{} vanished", file.display()))
            }
            Err(e) => Err(format!("{}: {e}", file.display())),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

/// The key in `file` (`None`: there is none); a link or a file of the wrong size is an error.
fn read_key(file: &Path) -> Result<Option<Key>, String> {
    match std::fs::symlink_metadata(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", file.display())),
        Ok(m) if !m.file_type().is_file() => {
            return Err(format!("{} is not a regular file", file.display()))
        }
        Ok(_) => {}
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let k: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("{} is not a cache key (32 bytes)", file.display()))?;
    Ok(Some(Key(k)))
}

/// One kind of cache: its file name and its format number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub format: u32,
}

impl Kind {
    /// The cache's file in `dir`: `<name>-v<format>.bin`.
    pub fn file_in(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}-v{}.bin", self.name, self.format))
    }
}

/// The version every cache file must carry: the tool's (a new pr-risk may compute facts
/// differently even when a cache's format is unchanged).
pub fn tool_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// A file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub cache: String,
    pub format: u32,
    pub tool: String,
    pub key: u64,
    pub entries: u64,
    pub body_len: u64,
    pub checksum: u64,
    /// HMAC-SHA256 of the fields above and the body ([`Header::seal`] computes it).
    pub mac: [u8; 32],
}

impl Header {
    /// The header's fields before the MAC.
    fn fields(&self) -> Vec<u8> {
        let mut w = Writer {
            buf: Vec::with_capacity(64),
        };
        w.raw(MAGIC);
        w.str(&self.cache);
        w.u32(self.format);
        w.str(&self.tool);
        w.u64(self.key);
        w.u64(self.entries);
        w.u64(self.body_len);
        w.u64(self.checksum);
        w.buf
    }

    /// The MAC of this header (its other fields) and `body` under `key`.
    pub fn mac_of(&self, key: &Key, body: &[u8]) -> [u8; 32] {
        let mut m = key.mac();
        m.update(&self.fields());
        m.update(body);
        m.finalize().into_bytes().into()
    }

    /// Set the MAC for `body` under `key`.
    pub fn seal(&mut self, key: &Key, body: &[u8]) {
        self.mac = self.mac_of(key, body);
    }

    /// Encode the header followed by `body` (the MAC as it is: [`Header::seal`] first).
    pub fn encode(&self, body: &[u8]) -> Vec<u8> {
        let mut buf = self.fields();
        buf.reserve(body.len() + 32);
        buf.extend_from_slice(&self.mac);
        buf.extend_from_slice(body);
        buf
    }

    /// Split a file into its header and body (nothing is checked but the layout).
    pub fn decode(data: &[u8]) -> Parsed<(Header, &[u8])> {
        if !data.starts_with(MAGIC) {
            return Err("not a pr-risk cache file (or one of an older layout)".into());
        }
        let mut r = Reader::new(&data[MAGIC.len()..]);
        let mut header = Header {
            cache: r.str()?.to_string(),
            format: r.u32()?,
            tool: r.str()?.to_string(),
            key: r.u64()?,
            entries: r.u64()?,
            body_len: r.u64()?,
            checksum: r.u64()?,
            mac: [0; 32],
        };
        header.mac.copy_from_slice(r.take(32)?);
        let body = r.take(r.left())?;
        Ok((header, body))
    }
}

/// A usable file: its key, entry count and body.
#[derive(Debug)]
pub struct Loaded {
    pub key: u64,
    pub entries: u64,
    pub body: Vec<u8>,
}

/// Read `kind`'s file in `dir` written by `tool` under `secret`. `Err(None)`: there is none;
/// `Err(Some(why))`: it is unusable and will be rebuilt.
pub fn read(dir: &Path, kind: Kind, tool: &str, secret: &Key) -> Result<Loaded, Option<String>> {
    let file = kind.file_in(dir);
    match std::fs::symlink_metadata(&file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("unreadable: {e}"))),
        Ok(m) if !m.file_type().is_file() => {
            return Err(Some(
                "not a regular file (a symbolic link, a directory or a device)".into(),
            ))
        }
        Ok(_) => {}
    }
    let data = match std::fs::read(&file) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("unreadable: {e}"))),
    };
    check(&data, kind, tool, secret).map_err(Some)
}

fn check(data: &[u8], kind: Kind, tool: &str, secret: &Key) -> Parsed<Loaded> {
    let (h, body) = Header::decode(data)?;
    if h.cache != kind.name {
        return Err(format!("a {} cache, not a {} cache", h.cache, kind.name));
    }
    if h.format != kind.format {
        return Err(format!("format {}, this is {}", h.format, kind.format));
    }
    if h.tool != tool {
        return Err(format!("written by version {}, this is {tool}", h.tool));
    }
    if body.len() as u64 != h.body_len {
        return Err("truncated".into());
    }
    if crate::hash::fnv1a(body) != h.checksum {
        return Err("checksum mismatch (truncated or corrupt)".into());
    }
    // Constant-time comparison.
    let mut m = secret.mac();
    m.update(&h.fields());
    m.update(body);
    if m.verify_slice(&h.mac).is_err() {
        return Err(format!(
            "not written with this host's cache key: another machine or another {KEY_ENV} wrote it, or it was tampered with"
        ));
    }
    if h.entries > body.len() as u64 {
        return Err("entry count larger than the file".into());
    }
    Ok(Loaded {
        key: h.key,
        entries: h.entries,
        body: body.to_vec(),
    })
}

/// Write `kind`'s file in `dir` atomically (see the module doc), sealed with `secret`.
pub fn write(
    dir: &Path,
    kind: Kind,
    tool: &str,
    secret: &Key,
    key: u64,
    entries: u64,
    body: &[u8],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if std::fs::symlink_metadata(dir)?.file_type().is_symlink() {
        return Err(std::io::Error::other(format!(
            "{} is a symbolic link",
            dir.display()
        )));
    }
    let mut header = Header {
        cache: kind.name.to_string(),
        format: kind.format,
        tool: tool.to_string(),
        key,
        entries,
        body_len: body.len() as u64,
        checksum: crate::hash::fnv1a(body),
        mac: [0; 32],
    };
    header.seal(secret, body);
    write_atomic(dir, &kind.file_in(dir), &header.encode(body))
}

/// Length and modification time of `kind`'s file: unchanged between load and save means no
/// other run wrote meanwhile, so there is nothing to merge.
pub fn stamp(dir: &Path, kind: Kind) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(kind.file_in(dir)).ok()?;
    Some((m.len(), m.modified().ok()?))
}

fn write_atomic(dir: &Path, file: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(
        "{}.tmp.{}.{}",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("cache"),
        std::process::id(),
        unique()
    ));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        remove_other_formats(dir, file);
    }
    remove_stale_tmp(dir);
    written
}

/// Remove `<stem>-v<digits>.<ext>` files in `dir` other than `file` (`<stem>-v<N>.<ext>`): what an
/// older pr-risk with another cache format left behind. Other files are never touched.
fn remove_other_formats(dir: &Path, file: &Path) {
    let Some(keep) = file.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let Some((stem, _)) = keep.split_once("-v") else {
        return;
    };
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    for e in list.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == keep || name.contains(".tmp.") {
            continue;
        }
        let other_format = name
            .strip_prefix(stem)
            .and_then(|r| r.strip_prefix("-v"))
            .and_then(|r| r.split_once('.'))
            .is_some_and(|(n, ext)| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !ext.contains('.')
            });
        if other_format {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn remove_stale_tmp(dir: &Path) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    for e in list.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().contains(".tmp.") {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    (nanos << 16) ^ N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: Kind = Kind {
        name: "test",
        format: 3,
    };

    fn key() -> Key {
        Key::from_secret(b"test")
    }

    #[test]
    fn round_trip_and_every_rejection() {
        let dir = tempfile::tempdir().unwrap();
        let k = key();
        assert_eq!(read(dir.path(), K, "1.0", &k).unwrap_err(), None);
        write(dir.path(), K, "1.0", &k, 42, 2, b"body!").unwrap();
        let l = read(dir.path(), K, "1.0", &k).unwrap();
        assert_eq!(
            (l.key, l.entries, l.body.as_slice()),
            (42, 2, &b"body!"[..])
        );
        let why =
            |tool: &str, kind: Kind| read(dir.path(), kind, tool, &key()).unwrap_err().unwrap();
        assert!(why("2.0", K).starts_with("written by version 1.0"));
        // Another format of the same cache is another file name: simply absent.
        let other = Kind { format: 4, ..K };
        assert_eq!(read(dir.path(), other, "1.0", &k).unwrap_err(), None);
        let file = K.file_in(dir.path());
        let data = std::fs::read(&file).unwrap();
        std::fs::write(&file, &data[..data.len() - 1]).unwrap();
        assert_eq!(why("1.0", K), "truncated");
        let mut flipped = data.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&file, &flipped).unwrap();
        assert!(why("1.0", K).starts_with("checksum mismatch"));
        std::fs::write(&file, b"junk").unwrap();
        assert!(why("1.0", K).starts_with("not a pr-risk cache file"));
        let (mut h, body) = Header::decode(&data).map(|(h, b)| (h, b.to_vec())).unwrap();
        h.cache = "other".into();
        std::fs::write(&file, h.encode(&body)).unwrap();
        assert_eq!(why("1.0", K), "a other cache, not a test cache");
    }

    #[test]
    fn a_file_sealed_with_another_key_or_edited_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = Key::from_secret(b"someone else");
        write(dir.path(), K, "1.0", &theirs, 0, 1, b"forged facts").unwrap();
        let why = read(dir.path(), K, "1.0", &key()).unwrap_err().unwrap();
        assert!(
            why.starts_with("not written with this host's cache key"),
            "{why}"
        );
        // A body edited with its checksum fixed up still fails the MAC.
        write(dir.path(), K, "1.0", &key(), 0, 1, b"honest facts").unwrap();
        let file = K.file_in(dir.path());
        let data = std::fs::read(&file).unwrap();
        let (mut h, _) = Header::decode(&data).unwrap();
        let body = b"forged facts";
        h.body_len = body.len() as u64;
        h.checksum = crate::hash::fnv1a(body);
        std::fs::write(&file, h.encode(body)).unwrap();
        let why = read(dir.path(), K, "1.0", &key()).unwrap_err().unwrap();
        assert!(
            why.starts_with("not written with this host's cache key"),
            "{why}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_neither_read_nor_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        write(elsewhere.path(), K, "1.0", &key(), 0, 0, b"").unwrap();
        std::os::unix::fs::symlink(K.file_in(elsewhere.path()), K.file_in(dir.path())).unwrap();
        let why = read(dir.path(), K, "1.0", &key()).unwrap_err().unwrap();
        assert!(why.starts_with("not a regular file"), "{why}");
        let link = dir.path().join("linked");
        std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
        assert!(write(&link, K, "1.0", &key(), 0, 0, b"").is_err());
    }

    #[test]
    fn the_host_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = Key::for_host(dir.path()).unwrap();
        let b = Key::for_host(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        assert_ne!(
            a,
            Key::for_host(tempfile::tempdir().unwrap().path()).unwrap()
        );
        assert_eq!(format!("{a:?}"), "Key(***)");
    }

    #[test]
    fn bumping_one_format_leaves_the_other_caches() {
        let dir = tempfile::tempdir().unwrap();
        let k = key();
        let a = Kind {
            name: "alpha",
            format: 1,
        };
        let b = Kind {
            name: "beta",
            format: 1,
        };
        write(dir.path(), a, "1.0", &k, 0, 0, b"").unwrap();
        write(dir.path(), b, "1.0", &k, 0, 0, b"").unwrap();
        let a2 = Kind { format: 2, ..a };
        write(dir.path(), a2, "1.0", &k, 0, 0, b"").unwrap();
        assert!(!a.file_in(dir.path()).exists(), "old alpha removed");
        assert!(a2.file_in(dir.path()).exists());
        assert!(read(dir.path(), b, "1.0", &k).is_ok(), "beta untouched");
    }
}
