//! The one cache file format: a header, then a body.
//!
//! ```text
//! magic      "pr-risk cache\n"   14 bytes
//! cache      string              "parse", "history", "resolve"
//! format     u32                 the cache's own format (bumping one leaves the others)
//! tool       string              the pr-risk version that wrote it
//! key        u64                 what the body is for (the resolution context; 0 otherwise)
//! entries    u64                 records in the body
//! body-len   u64
//! checksum   u64                 FNV-1a 64 of the body
//! body       …                   the cache's records in [`super::binfmt`]
//! ```
//! (strings are varint-length-prefixed UTF-8, integers little-endian.)
//!
//! [`read`] checks everything and says why a file is unusable; [`write`] writes under a unique
//! temporary name in the same directory, syncs and renames, so a reader sees the old or the new
//! file whole, then removes the files older formats of the same cache left behind and temporary
//! files of runs that were killed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::binfmt::{Parsed, Reader, Writer};

const MAGIC: &[u8; 14] = b"pr-risk cache\n";
/// Leftover temporary files (a run killed between write and rename) older than this are removed.
const STALE_TMP: Duration = Duration::from_secs(3600);

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
}

impl Header {
    /// Encode the header followed by `body`.
    pub fn encode(&self, body: &[u8]) -> Vec<u8> {
        let mut w = Writer {
            buf: Vec::with_capacity(body.len() + 64),
        };
        w.raw(MAGIC);
        w.str(&self.cache);
        w.u32(self.format);
        w.str(&self.tool);
        w.u64(self.key);
        w.u64(self.entries);
        w.u64(self.body_len);
        w.u64(self.checksum);
        w.raw(body);
        w.buf
    }

    /// Split a file into its header and body (nothing is checked but the layout).
    pub fn decode(data: &[u8]) -> Parsed<(Header, &[u8])> {
        if !data.starts_with(MAGIC) {
            return Err("not a pr-risk cache file".into());
        }
        let mut r = Reader::new(&data[MAGIC.len()..]);
        let header = Header {
            cache: r.str()?.to_string(),
            format: r.u32()?,
            tool: r.str()?.to_string(),
            key: r.u64()?,
            entries: r.u64()?,
            body_len: r.u64()?,
            checksum: r.u64()?,
        };
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

/// Read `kind`'s file in `dir` written by `tool`. `Err(None)`: there is none; `Err(Some(why))`:
/// it is unusable and will be rebuilt.
pub fn read(dir: &Path, kind: Kind, tool: &str) -> Result<Loaded, Option<String>> {
    let data = match std::fs::read(kind.file_in(dir)) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("unreadable: {e}"))),
    };
    check(&data, kind, tool).map_err(Some)
}

fn check(data: &[u8], kind: Kind, tool: &str) -> Parsed<Loaded> {
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
    if h.entries > body.len() as u64 {
        return Err("entry count larger than the file".into());
    }
    Ok(Loaded {
        key: h.key,
        entries: h.entries,
        body: body.to_vec(),
    })
}

/// Write `kind`'s file in `dir` atomically (see the module doc).
pub fn write(
    dir: &Path,
    kind: Kind,
    tool: &str,
    key: u64,
    entries: u64,
    body: &[u8],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let header = Header {
        cache: kind.name.to_string(),
        format: kind.format,
        tool: tool.to_string(),
        key,
        entries,
        body_len: body.len() as u64,
        checksum: crate::hash::fnv1a(body),
    };
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
        let mut f = std::fs::File::create(&tmp)?;
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

    #[test]
    fn round_trip_and_every_rejection() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), K, "1.0").unwrap_err(), None);
        write(dir.path(), K, "1.0", 42, 2, b"body!").unwrap();
        let l = read(dir.path(), K, "1.0").unwrap();
        assert_eq!(
            (l.key, l.entries, l.body.as_slice()),
            (42, 2, &b"body!"[..])
        );
        let why = |tool: &str, kind: Kind| read(dir.path(), kind, tool).unwrap_err().unwrap();
        assert!(why("2.0", K).starts_with("written by version 1.0"));
        // Another format of the same cache is another file name: simply absent.
        let other = Kind { format: 4, ..K };
        assert_eq!(read(dir.path(), other, "1.0").unwrap_err(), None);
        let file = K.file_in(dir.path());
        let data = std::fs::read(&file).unwrap();
        std::fs::write(&file, &data[..data.len() - 1]).unwrap();
        assert_eq!(why("1.0", K), "truncated");
        let mut flipped = data.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&file, &flipped).unwrap();
        assert!(why("1.0", K).starts_with("checksum mismatch"));
        std::fs::write(&file, b"junk").unwrap();
        assert_eq!(why("1.0", K), "not a pr-risk cache file");
        let (mut h, body) = Header::decode(&data).map(|(h, b)| (h, b.to_vec())).unwrap();
        h.cache = "other".into();
        std::fs::write(&file, h.encode(&body)).unwrap();
        assert_eq!(why("1.0", K), "a other cache, not a test cache");
    }

    #[test]
    fn bumping_one_format_leaves_the_other_caches() {
        let dir = tempfile::tempdir().unwrap();
        let a = Kind {
            name: "alpha",
            format: 1,
        };
        let b = Kind {
            name: "beta",
            format: 1,
        };
        write(dir.path(), a, "1.0", 0, 0, b"").unwrap();
        write(dir.path(), b, "1.0", 0, 0, b"").unwrap();
        let a2 = Kind { format: 2, ..a };
        write(dir.path(), a2, "1.0", 0, 0, b"").unwrap();
        assert!(!a.file_in(dir.path()).exists(), "old alpha removed");
        assert!(a2.file_in(dir.path()).exists());
        assert!(read(dir.path(), b, "1.0").is_ok(), "beta untouched");
    }
}
