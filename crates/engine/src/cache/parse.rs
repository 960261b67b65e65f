//! The persistent parse cache: facts by (blob id, language), kept between runs.
//!
//! A blob's facts depend only on its bytes, its language and the front end that read it, so they
//! are keyed by (blob id, language) and the whole file is tagged with the cache format and the tool
//! version: a file written by another version is ignored and rebuilt. The cache lives in
//! `<git-dir>/pr-risk/cache/` by default (the common git dir, so every worktree shares it);
//! `--cache-dir` or `PR_RISK_CACHE_DIR` moves it (for CI: keep that directory with `actions/cache`).
//!
//! File layout (`parse-v<FORMAT>.bin`): one header line of JSON
//! `{"magic","format","tool","entries","checksum"}` then the body, records in the compact binary
//! encoding of [`crate::cache::binfmt`]: blob id, language, bytes, last used (unix seconds), outcome
//! (facts: import specifiers, lines and kinds; Rust module facts field by field). Loading
//! 10,000 entries takes a few milliseconds (JSON took ~80 ms). The checksum (FNV-1a 64 of the
//! body) catches truncation and bit rot; any mismatch or parse error means "no cache", never a
//! failed run.
//!
//! Writes are atomic: the new file is written under a unique temporary name in the same directory
//! and renamed over the old one, so a reader sees either the old or the new file, whole. Before
//! writing, the current file is read again and merged, so concurrent runs lose at most the other
//! run's newest entries (which the next run re-parses), never the file. The cache is bounded to
//! [`DEFAULT_MAX_ENTRIES`] entries: the least recently used are evicted first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::binfmt::{Parsed, Reader, Writer};
use super::store::{self, Key, Kind};
use crate::git::Oid;
use crate::lang::rust::{
    ExternCrate, InlineMod, ItemName, ModDecl, PathRef, RustFacts, UseBinding, UsePath,
};
use crate::lang::symbols::{
    Binding, Decl, DeclKind, Export, ExportTarget, Imported, Ref, RefAt, Scope, Symbols, Unknown,
    Vis,
};
use crate::lang::{FileFacts, Import, ImportKind, Lang};
use crate::parse::{FactsMemo, Outcome, Skipped};

/// Bump when the cached facts change shape or meaning (a front end extracts differently).
pub const FORMAT: u32 = 6;
/// The parse cache in the store.
pub const KIND: Kind = Kind {
    name: "parse",
    format: FORMAT,
};
/// Entries kept at most (≈ 300–500 bytes each on disk).
pub const DEFAULT_MAX_ENTRIES: usize = 200_000;
/// A hit refreshes its entry's "last used" time (and so rewrites the file) at most this often.
const TOUCH_AFTER: u64 = 3600;

/// What is cached: facts, or a skip that depends only on the bytes.
#[derive(Debug, Clone)]
enum CachedOutcome {
    Facts(Arc<FileFacts>),
    Binary,
    NonUtf8,
}

#[derive(Debug, Clone)]
struct Entry {
    bytes: u64,
    used: u64,
    outcome: CachedOutcome,
}

/// What happened to the cache in one run (for `--timings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub loaded: usize,
    pub hits: usize,
    pub misses: usize,
    pub written: bool,
    /// Why the file on disk was not used (absent files are not a reason).
    pub rebuilt: Option<String>,
    /// Why the new file could not be written.
    pub write_error: Option<String>,
    pub evicted: usize,
}

/// The parse cache of one run: loaded at the start, saved once after parsing.
pub struct ParseCache {
    dir: PathBuf,
    version: String,
    key: Key,
    max_entries: usize,
    now: u64,
    entries: HashMap<(Oid, Lang), Entry>,
    dirty: bool,
    pub stats: Stats,
}

impl ParseCache {
    /// Load the cache in `dir` (missing, corrupt or from another version: start empty).
    pub fn open(dir: &Path, key: &Key) -> ParseCache {
        ParseCache::open_versioned(dir, store::tool_version(), key)
    }

    /// [`ParseCache::open`] with an explicit version tag (tests simulate upgrades with it).
    pub fn open_versioned(dir: &Path, version: &str, key: &Key) -> ParseCache {
        let mut c = ParseCache {
            dir: dir.to_path_buf(),
            version: version.to_string(),
            key: *key,
            max_entries: DEFAULT_MAX_ENTRIES,
            now: store::unix_now(),
            entries: HashMap::new(),
            dirty: false,
            stats: Stats::default(),
        };
        match read_file(dir, version, key) {
            Ok(entries) => {
                c.stats.loaded = entries.len();
                c.entries = entries;
            }
            Err(Some(why)) => c.stats.rebuilt = Some(why),
            Err(None) => {}
        }
        c
    }

    /// Keep at most `n` entries (least recently used evicted first).
    pub fn with_max_entries(mut self, n: usize) -> ParseCache {
        self.max_entries = n.max(1);
        self
    }

    /// The cache file.
    pub fn file(&self) -> PathBuf {
        KIND.file_in(&self.dir)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The cached outcome of (blob, language), as the parser would give it under `max_size`,
    /// and the blob's size; counts a hit or a miss.
    pub fn get(&mut self, oid: Oid, lang: Lang, max_size: u64) -> Option<(Outcome, u64)> {
        let Some(e) = self.entries.get_mut(&(oid, lang)) else {
            self.stats.misses += 1;
            return None;
        };
        self.stats.hits += 1;
        if self.now.saturating_sub(e.used) > TOUCH_AFTER {
            e.used = self.now;
            self.dirty = true;
        }
        if e.bytes > max_size {
            return Some((
                Err(Skipped::Oversize {
                    bytes: e.bytes,
                    limit: max_size,
                }),
                0,
            ));
        }
        Some(match &e.outcome {
            CachedOutcome::Facts(f) => (Ok(f.clone()), e.bytes),
            CachedOutcome::Binary => (Err(Skipped::Binary), 0),
            CachedOutcome::NonUtf8 => (Err(Skipped::NonUtf8), 0),
        })
    }

    /// Remember a fresh parse. Outcomes that depend on more than the bytes (oversize under this
    /// run's limit, unreadable) are not cached.
    pub fn put(&mut self, oid: Oid, lang: Lang, bytes: u64, outcome: &Outcome) {
        let cached = match outcome {
            Ok(f) => CachedOutcome::Facts(f.clone()),
            Err(Skipped::Binary) => CachedOutcome::Binary,
            Err(Skipped::NonUtf8) => CachedOutcome::NonUtf8,
            Err(_) => return,
        };
        self.entries.insert(
            (oid, lang),
            Entry {
                bytes,
                used: self.now,
                outcome: cached,
            },
        );
        self.dirty = true;
    }

    /// Write the cache back if anything changed: merge with what another run may have written
    /// meanwhile, evict down to the bound, write a temporary file and rename it into place.
    /// Never fails the run: a write error is kept in [`Stats::write_error`].
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        if let Err(e) = self.try_save() {
            self.stats.write_error = Some(e.to_string());
        } else {
            self.stats.written = true;
            self.dirty = false;
        }
    }

    fn try_save(&mut self) -> std::io::Result<()> {
        if let Ok(theirs) = read_file(&self.dir, &self.version, &self.key) {
            for (k, e) in theirs {
                match self.entries.get_mut(&k) {
                    Some(mine) => mine.used = mine.used.max(e.used),
                    None => {
                        self.entries.insert(k, e);
                    }
                }
            }
        }
        if self.entries.len() > self.max_entries {
            let mut by_age: Vec<((Oid, Lang), u64)> =
                self.entries.iter().map(|(k, e)| (*k, e.used)).collect();
            by_age.sort_by_key(|&(k, used)| (std::cmp::Reverse(used), k));
            for (k, _) in by_age.drain(self.max_entries..) {
                self.entries.remove(&k);
                self.stats.evicted += 1;
            }
        }
        let mut records: Vec<(&(Oid, Lang), &Entry)> = self.entries.iter().collect();
        records.sort_by_key(|(k, _)| **k);
        let mut w = Writer::default();
        for ((oid, lang), e) in &records {
            encode(&mut w, *oid, *lang, e);
        }
        store::write(
            &self.dir,
            KIND,
            &self.version,
            &self.key,
            0,
            records.len() as u64,
            &w.buf,
        )
    }
}

impl FactsMemo for ParseCache {
    fn get(&mut self, oid: Oid, lang: Lang, max_size: u64) -> Option<(Outcome, u64)> {
        ParseCache::get(self, oid, lang, max_size)
    }

    fn put(&mut self, oid: Oid, lang: Lang, bytes: u64, outcome: &Outcome) {
        ParseCache::put(self, oid, lang, bytes, outcome)
    }
}

/// The entries of the cache file in `dir`; `Err(None)` when there is none, `Err(Some(why))` when
/// it is unusable.
fn read_file(
    dir: &Path,
    version: &str,
    key: &Key,
) -> Result<HashMap<(Oid, Lang), Entry>, Option<String>> {
    let loaded = store::read(dir, KIND, version, key)?;
    let mut r = Reader::new(&loaded.body);
    let mut out = HashMap::with_capacity((loaded.entries as usize).min(1 << 20));
    while !r.is_empty() {
        let (key, entry) = decode(&mut r).map_err(|e| Some(format!("corrupt body: {e}")))?;
        out.insert(key, entry);
    }
    if out.len() as u64 != loaded.entries {
        return Err(Some("entry count mismatch".into()));
    }
    Ok(out)
}

const LANGS: [Lang; 3] = [Lang::TypeScript, Lang::Tsx, Lang::Rust];
const KINDS: [ImportKind; 13] = [
    ImportKind::Import,
    ImportKind::SideEffect,
    ImportKind::ReExport,
    ImportKind::Dynamic,
    ImportKind::Require,
    ImportKind::ImportEquals,
    ImportKind::TypeImport,
    ImportKind::Reference,
    ImportKind::Mod,
    ImportKind::Use,
    ImportKind::Path,
    ImportKind::ExternCrate,
    ImportKind::PubUse,
];

fn index_of<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).unwrap_or(0) as u8
}

fn encode(w: &mut Writer, oid: Oid, lang: Lang, e: &Entry) {
    w.oid(&oid);
    w.u8(index_of(&LANGS, &lang));
    w.u64(e.bytes);
    w.u64(e.used);
    match &e.outcome {
        CachedOutcome::Binary => w.u8(1),
        CachedOutcome::NonUtf8 => w.u8(2),
        CachedOutcome::Facts(f) => {
            w.u8(0);
            w.u32(f.syntax_errors);
            w.u32(f.lines);
            w.varint(f.imports.len() as u64);
            for i in &f.imports {
                w.str(&i.specifier);
                w.varint(u64::from(i.line));
                w.u8(index_of(&KINDS, &i.kind));
                w.u8(u8::from(i.type_only));
            }
            match &f.rust {
                Some(r) => {
                    w.u8(1);
                    encode_rust(w, r);
                }
                None => w.u8(0),
            }
            match &f.symbols {
                Some(s) => {
                    w.u8(1);
                    encode_symbols(w, s);
                }
                None => w.u8(0),
            }
        }
    }
}

fn decode(r: &mut Reader) -> Parsed<((Oid, Lang), Entry)> {
    let oid = r.oid()?;
    let lang = *r.index(&LANGS)?;
    let bytes = r.u64()?;
    let used = r.u64()?;
    let outcome = match r.u8()? {
        1 => CachedOutcome::Binary,
        2 => CachedOutcome::NonUtf8,
        0 => {
            let syntax_errors = r.u32()?;
            let lines = r.u32()?;
            let n = r.count()?;
            let mut imports = Vec::with_capacity(n);
            for _ in 0..n {
                imports.push(Import {
                    specifier: r.str()?.to_string(),
                    line: u32::try_from(r.varint()?).map_err(|_| "line out of range")?,
                    kind: *r.index(&KINDS)?,
                    type_only: r.u8()? != 0,
                });
            }
            let rust = match r.u8()? {
                0 => None,
                _ => Some(decode_rust(r)?),
            };
            let symbols = match r.u8()? {
                0 => None,
                _ => Some(Arc::new(decode_symbols(r)?)),
            };
            CachedOutcome::Facts(Arc::new(FileFacts {
                imports,
                syntax_errors,
                lines,
                rust,
                symbols,
            }))
        }
        _ => return Err("bad outcome tag".into()),
    };
    Ok((
        (oid, lang),
        Entry {
            bytes,
            used,
            outcome,
        },
    ))
}

fn put_strs(w: &mut Writer, v: &[String]) {
    w.varint(v.len() as u64);
    for x in v {
        w.str(x);
    }
}

fn put_opt(w: &mut Writer, v: &Option<String>) {
    match v {
        Some(x) => {
            w.u8(1);
            w.str(x);
        }
        None => w.u8(0),
    }
}

fn get_strs(r: &mut Reader) -> Parsed<Vec<String>> {
    let n = r.count()?;
    (0..n).map(|_| Ok(r.str()?.to_string())).collect()
}

fn get_opt(r: &mut Reader) -> Parsed<Option<String>> {
    Ok(match r.u8()? {
        0 => None,
        _ => Some(r.str()?.to_string()),
    })
}

fn get_u32(r: &mut Reader) -> Parsed<u32> {
    u32::try_from(r.varint()?).map_err(|_| "number out of range".into())
}

/// Rust module facts, field by field (JSON was most of the load and save time of a Rust cache).
fn encode_rust(w: &mut Writer, f: &RustFacts) {
    w.varint(f.inline_mods.len() as u64);
    for m in &f.inline_mods {
        w.str(&m.name);
        w.varint(u64::from(m.parent));
        put_opt(w, &m.path_attr);
        put_strs(w, &m.cfg);
        w.varint(u64::from(m.line));
    }
    w.varint(f.mods.len() as u64);
    for m in &f.mods {
        w.str(&m.name);
        w.varint(u64::from(m.scope));
        put_opt(w, &m.path_attr);
        put_strs(w, &m.cfg_attr_paths);
        put_strs(w, &m.cfg);
        w.u8(u8::from(m.public) | u8::from(m.in_macro) << 1);
        w.varint(u64::from(m.line));
    }
    w.varint(f.uses.len() as u64);
    for u in &f.uses {
        w.varint(u64::from(u.scope));
        put_strs(w, &u.segments);
        match &u.binding {
            UseBinding::Name(n) => {
                w.u8(0);
                w.str(n);
            }
            UseBinding::Underscore => w.u8(1),
            UseBinding::Glob => w.u8(2),
        }
        w.u8(u8::from(u.public));
        w.varint(u64::from(u.line));
    }
    w.varint(f.paths.len() as u64);
    for p in &f.paths {
        w.varint(u64::from(p.scope));
        put_strs(w, &p.segments);
        w.varint(u64::from(p.line));
    }
    w.varint(f.extern_crates.len() as u64);
    for e in &f.extern_crates {
        w.varint(u64::from(e.scope));
        w.str(&e.name);
        put_opt(w, &e.alias);
        w.varint(u64::from(e.line));
    }
    w.varint(f.items.len() as u64);
    for i in &f.items {
        w.varint(u64::from(i.scope));
        w.str(&i.name);
    }
}

fn decode_rust(r: &mut Reader) -> Parsed<RustFacts> {
    let mut f = RustFacts::default();
    for _ in 0..r.count()? {
        f.inline_mods.push(InlineMod {
            name: r.str()?.to_string(),
            parent: get_u32(r)?,
            path_attr: get_opt(r)?,
            cfg: get_strs(r)?,
            line: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        let name = r.str()?.to_string();
        let scope = get_u32(r)?;
        let path_attr = get_opt(r)?;
        let cfg_attr_paths = get_strs(r)?;
        let cfg = get_strs(r)?;
        let flags = r.u8()?;
        f.mods.push(ModDecl {
            name,
            scope,
            path_attr,
            cfg_attr_paths,
            cfg,
            public: flags & 1 != 0,
            in_macro: flags & 2 != 0,
            line: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        let scope = get_u32(r)?;
        let segments = get_strs(r)?;
        let binding = match r.u8()? {
            0 => UseBinding::Name(r.str()?.to_string()),
            1 => UseBinding::Underscore,
            2 => UseBinding::Glob,
            _ => return Err("bad use binding".into()),
        };
        f.uses.push(UsePath {
            scope,
            segments,
            binding,
            public: r.u8()? != 0,
            line: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        f.paths.push(PathRef {
            scope: get_u32(r)?,
            segments: get_strs(r)?,
            line: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        f.extern_crates.push(ExternCrate {
            scope: get_u32(r)?,
            name: r.str()?.to_string(),
            alias: get_opt(r)?,
            line: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        f.items.push(ItemName {
            scope: get_u32(r)?,
            name: r.str()?.to_string(),
        });
    }
    Ok(f)
}

/// Symbols, field by field.
fn encode_symbols(w: &mut Writer, s: &Symbols) {
    w.varint(s.decls.len() as u64);
    for d in &s.decls {
        w.str(&d.name);
        w.u8(index_of(&DeclKind::ALL, &d.kind));
        w.u8(index_of(&VIS, &d.vis));
        w.varint(u64::from(d.scope));
        for o in [&d.owner, &d.via_trait] {
            match o {
                Some(o) => {
                    w.u8(1);
                    encode_ref(w, o);
                }
                None => w.u8(0),
            }
        }
        w.varint(u64::from(d.start));
        w.varint(u64::from(d.end));
        w.u64(d.hash);
        w.u64(d.sig);
        w.u64(d.runtime);
        w.u8(u8::from(d.type_level) | u8::from(d.test) << 1);
        w.varint(d.refs.len() as u64);
        for r in &d.refs {
            w.u8(u8::from(r.sig));
            encode_ref(w, &r.target);
        }
        put_strs(w, &d.members_used);
    }
    w.varint(s.bindings.len() as u64);
    for b in &s.bindings {
        w.str(&b.local);
        w.str(&b.specifier);
        match &b.imported {
            Imported::Name(n) => {
                w.u8(0);
                w.str(n);
            }
            Imported::Namespace => w.u8(1),
            Imported::SideEffect => w.u8(2),
        }
        w.u8(u8::from(b.type_only));
        w.varint(u64::from(b.line));
    }
    w.varint(s.exports.len() as u64);
    for e in &s.exports {
        w.str(&e.name);
        let (tag, i) = match e.target {
            ExportTarget::Decl(i) => (0, i),
            ExportTarget::Binding(i) => (1, i),
            ExportTarget::Star(i) => (2, i),
        };
        w.u8(tag);
        w.varint(u64::from(i));
    }
    w.varint(s.scopes.len() as u64);
    for sc in &s.scopes {
        w.str(&sc.name);
        w.varint(u64::from(sc.parent));
    }
    w.varint(s.unknown.len() as u64);
    for u in &s.unknown {
        w.varint(u64::from(u.line));
        w.str(&u.what);
    }
    w.u8(u8::from(s.syntax_errors) | u8::from(s.commonjs) << 1);
}

fn encode_ref(w: &mut Writer, r: &Ref) {
    match r {
        Ref::Decl(i) => {
            w.u8(0);
            w.varint(u64::from(*i));
        }
        Ref::Binding { binding, member } => {
            w.u8(1);
            w.varint(u64::from(*binding));
            put_opt(w, member);
        }
        Ref::Path(p) => {
            w.u8(2);
            put_strs(w, p);
        }
    }
}

fn decode_ref(r: &mut Reader) -> Parsed<Ref> {
    Ok(match r.u8()? {
        0 => Ref::Decl(get_u32(r)?),
        1 => Ref::Binding {
            binding: get_u32(r)?,
            member: get_opt(r)?,
        },
        2 => Ref::Path(get_strs(r)?),
        _ => return Err("bad reference tag".into()),
    })
}

const VIS: [Vis; 4] = [Vis::Private, Vis::Super, Vis::Crate, Vis::Public];

fn decode_symbols(r: &mut Reader) -> Parsed<Symbols> {
    let mut s = Symbols::default();
    for _ in 0..r.count()? {
        let name = r.str()?.to_string();
        let kind = *r.index(&DeclKind::ALL)?;
        let vis = *r.index(&VIS)?;
        let scope = get_u32(r)?;
        let owner = match r.u8()? {
            0 => None,
            _ => Some(decode_ref(r)?),
        };
        let via_trait = match r.u8()? {
            0 => None,
            _ => Some(decode_ref(r)?),
        };
        let start = get_u32(r)?;
        let end = get_u32(r)?;
        let hash = r.u64()?;
        let sig = r.u64()?;
        let runtime = r.u64()?;
        let flags = r.u8()?;
        let (type_level, test) = (flags & 1 != 0, flags & 2 != 0);
        let mut refs = Vec::new();
        for _ in 0..r.count()? {
            let sig = r.u8()? != 0;
            refs.push(RefAt {
                target: decode_ref(r)?,
                sig,
            });
        }
        let members_used = get_strs(r)?;
        s.decls.push(Decl {
            name,
            kind,
            vis,
            scope,
            owner,
            via_trait,
            start,
            end,
            hash,
            sig,
            runtime,
            type_level,
            test,
            refs,
            members_used,
        });
    }
    for _ in 0..r.count()? {
        let local = r.str()?.to_string();
        let specifier = r.str()?.to_string();
        let imported = match r.u8()? {
            0 => Imported::Name(r.str()?.to_string()),
            1 => Imported::Namespace,
            2 => Imported::SideEffect,
            _ => return Err("bad binding".into()),
        };
        s.bindings.push(Binding {
            local,
            specifier,
            imported,
            type_only: r.u8()? != 0,
            line: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        let name = r.str()?.to_string();
        let tag = r.u8()?;
        let i = get_u32(r)?;
        let target = match tag {
            0 => ExportTarget::Decl(i),
            1 => ExportTarget::Binding(i),
            2 => ExportTarget::Star(i),
            _ => return Err("bad export".into()),
        };
        s.exports.push(Export { name, target });
    }
    for _ in 0..r.count()? {
        s.scopes.push(Scope {
            name: r.str()?.to_string(),
            parent: get_u32(r)?,
        });
    }
    for _ in 0..r.count()? {
        s.unknown.push(Unknown {
            line: get_u32(r)?,
            what: r.str()?.to_string(),
        });
    }
    let flags = r.u8()?;
    s.syntax_errors = flags & 1 != 0;
    s.commonjs = flags & 2 != 0;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_key() -> Key {
        Key::from_secret(b"test")
    }
    use crate::lang::{self, Lang};

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn facts(src: &str) -> Outcome {
        Ok(Arc::new(lang::extract(Lang::TypeScript, src)))
    }

    #[test]
    fn round_trip_and_hit() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = ParseCache::open(dir.path(), &test_key());
        assert!(c.is_empty());
        assert!(c.get(oid(1), Lang::TypeScript, 1000).is_none());
        c.put(
            oid(1),
            Lang::TypeScript,
            30,
            &facts("import { a } from './a';\n"),
        );
        c.put(oid(2), Lang::Tsx, 5, &Err(Skipped::Binary));
        c.put(
            oid(3),
            Lang::Tsx,
            5,
            &Err(Skipped::Unreadable { error: "x".into() }),
        );
        c.save();
        assert!(c.stats.written, "{:?}", c.stats);
        let mut again = ParseCache::open(dir.path(), &test_key());
        assert_eq!(again.stats.loaded, 2, "unreadable is not cached");
        let (got, bytes) = again.get(oid(1), Lang::TypeScript, 1000).unwrap();
        assert_eq!(bytes, 30);
        assert_eq!(got.unwrap().imports[0].specifier, "./a");
        assert_eq!(
            again.get(oid(2), Lang::Tsx, 1000).unwrap().0.unwrap_err(),
            Skipped::Binary
        );
        // Same blob, other language: a different key.
        assert!(again.get(oid(1), Lang::Tsx, 1000).is_none());
        // A smaller limit than the blob: oversize, from the cached size.
        assert!(matches!(
            again.get(oid(1), Lang::TypeScript, 10).unwrap().0,
            Err(Skipped::Oversize { bytes: 30, .. })
        ));
        assert_eq!(again.stats.hits, 3);
        assert_eq!(again.stats.misses, 1);
    }

    /// Every import kind and Rust module facts come back exactly as they were saved.
    #[test]
    fn binary_body_round_trips_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        let src = concat!(
            "#[cfg(unix)]\n#[cfg_attr(test, path = \"t.rs\")]\npub mod a;\n",
            "#[path = \"x.rs\"]\nmod inline { pub struct S; fn f() { crate::b::g(); } }\n",
            "extern crate alloc as al;\nuse crate::b::C;\npub use d::E;\nuse e::*;\nuse f::T as _;\n",
            "pub fn run() -> u32 { other::h() }\nstruct Item;\n",
        );
        let mut rust = crate::lang::extract(Lang::Rust, src);
        let rf = rust.rust.clone().unwrap();
        assert!(
            !rf.inline_mods.is_empty()
                && !rf.mods.is_empty()
                && rf.uses.len() >= 4
                && !rf.paths.is_empty()
                && !rf.extern_crates.is_empty()
                && !rf.items.is_empty(),
            "{rf:?}"
        );
        rust.imports = KINDS
            .iter()
            .enumerate()
            .map(|(n, k)| Import {
                specifier: format!("./spec-{n}-é"),
                line: n as u32 + 1,
                kind: *k,
                type_only: n % 2 == 0,
            })
            .collect();
        rust.syntax_errors = 3;
        assert!(rust.rust.is_some());
        rust.symbols = Some(Arc::new(crate::lang::symbols::extract(Lang::Rust, src)));
        let mut ts = crate::lang::symbols::extract(
            Lang::Tsx,
            "import d, * as ns from './x';\nexport { a as b } from './y';\nexport * from './z';\nexport default class C { m() { return ns.f(d); } }\nmodule.exports.q = require('./r');\nimport('./dyn');\n",
        );
        ts.syntax_errors = true;
        assert!(!ts.bindings.is_empty() && !ts.exports.is_empty() && ts.commonjs);
        let mut c = ParseCache::open(dir.path(), &test_key());
        c.put(oid(9), Lang::Rust, 77, &Ok(Arc::new(rust.clone())));
        c.put(oid(8), Lang::Tsx, 5, &Err(Skipped::Binary));
        c.put(oid(7), Lang::TypeScript, 6, &Err(Skipped::NonUtf8));
        c.save();
        let mut again = ParseCache::open(dir.path(), &test_key());
        assert_eq!(again.len(), 3);
        let Some((Ok(got), 77)) = again.get(oid(9), Lang::Rust, 1000) else {
            panic!("rust facts not cached");
        };
        assert_eq!(got.imports, rust.imports);
        assert_eq!(got.rust, rust.rust);
        assert_eq!(got.symbols, rust.symbols);
        assert_eq!((got.lines, got.syntax_errors), (rust.lines, 3));
        assert!(matches!(
            again.get(oid(8), Lang::Tsx, 1000),
            Some((Err(Skipped::Binary), _))
        ));
        assert!(matches!(
            again.get(oid(7), Lang::TypeScript, 1000),
            Some((Err(Skipped::NonUtf8), _))
        ));
        let with_ts = FileFacts {
            symbols: Some(Arc::new(ts)),
            ..FileFacts::default()
        };
        c.put(oid(6), Lang::Tsx, 9, &Ok(Arc::new(with_ts.clone())));
        c.save();
        let mut again = ParseCache::open(dir.path(), &test_key());
        let Some((Ok(got), 9)) = again.get(oid(6), Lang::Tsx, 1000) else {
            panic!("symbols not cached");
        };
        assert_eq!(got.symbols, with_ts.symbols);
    }

    /// Saving removes the same cache's files of other formats, and nothing else.
    #[test]
    fn older_formats_are_removed_on_save() {
        let dir = tempfile::tempdir().unwrap();
        let keep = [
            "history-v1.bin",
            "resolve-v1.bin",
            "parse-notes.txt",
            "parse-vx.json",
            "parse-v1.json.bak.old",
        ];
        for f in ["parse-v1.json", "parse-v2.bin"].iter().chain(keep.iter()) {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let mut c = ParseCache::open(dir.path(), &test_key());
        c.put(oid(1), Lang::TypeScript, 1, &facts("let a = 1;\n"));
        c.save();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        want.push(format!("parse-v{FORMAT}.bin"));
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn version_change_and_corruption_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = ParseCache::open_versioned(dir.path(), "old", &test_key());
        c.put(oid(1), Lang::TypeScript, 1, &facts("let a = 1;\n"));
        c.save();
        let newer = ParseCache::open_versioned(dir.path(), "new", &test_key());
        assert!(newer.is_empty());
        assert!(newer.stats.rebuilt.as_deref().unwrap().contains("old"));
        // Flip one byte of the body: the checksum catches it.
        let path = c.file();
        let mut data = std::fs::read(&path).unwrap();
        let last = data.len() - 3;
        data[last] ^= 0x20;
        std::fs::write(&path, &data).unwrap();
        let broken = ParseCache::open_versioned(dir.path(), "old", &test_key());
        assert!(broken.is_empty());
        assert!(broken.stats.rebuilt.is_some());
        // Garbage and truncation too.
        std::fs::write(&path, b"\x00\x01garbage").unwrap();
        assert!(ParseCache::open_versioned(dir.path(), "old", &test_key()).is_empty());
        std::fs::write(&path, &data[..data.len() / 2]).unwrap();
        let mut cut = ParseCache::open_versioned(dir.path(), "old", &test_key());
        assert!(cut.is_empty());
        // A rebuilt cache overwrites the bad file.
        cut.put(oid(4), Lang::TypeScript, 1, &facts("let b = 2;\n"));
        cut.save();
        assert_eq!(
            ParseCache::open_versioned(dir.path(), "old", &test_key()).len(),
            1
        );
    }

    #[test]
    fn bounded_evicts_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = ParseCache::open(dir.path(), &test_key()).with_max_entries(2);
        for n in 1..=3u8 {
            c.put(oid(n), Lang::TypeScript, 1, &facts("let a = 1;\n"));
            c.entries.get_mut(&(oid(n), Lang::TypeScript)).unwrap().used = u64::from(n);
        }
        c.save();
        assert_eq!(c.stats.evicted, 1);
        let mut again = ParseCache::open(dir.path(), &test_key());
        assert_eq!(again.len(), 2);
        assert!(
            again.get(oid(1), Lang::TypeScript, 100).is_none(),
            "oldest evicted"
        );
        assert!(again.get(oid(3), Lang::TypeScript, 100).is_some());
    }

    #[test]
    fn save_merges_with_a_concurrent_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = ParseCache::open(dir.path(), &test_key());
        let mut b = ParseCache::open(dir.path(), &test_key());
        a.put(oid(1), Lang::TypeScript, 1, &facts("let a = 1;\n"));
        b.put(oid(2), Lang::TypeScript, 1, &facts("let b = 1;\n"));
        a.save();
        b.save();
        assert_eq!(ParseCache::open(dir.path(), &test_key()).len(), 2);
    }

    #[test]
    fn unwritable_dir_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let mut c = ParseCache::open(&file.join("cache"), &test_key());
        c.put(oid(1), Lang::TypeScript, 1, &facts("let a = 1;\n"));
        c.save();
        assert!(!c.stats.written);
        assert!(c.stats.write_error.is_some());
    }
}
