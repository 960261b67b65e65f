//! A read-only file system over a git snapshot, for `oxc_resolver`.
//!
//! Paths live under a virtual root (`/repo`). Directories are implied by the files in the tree.
//! Workspace packages appear as symbolic links under `/repo/node_modules/<name>`, the way package
//! managers link them, so bare specifiers (`@acme/ui/button`) go through the package's real
//! `exports`/`main`/`types` resolution. Git symlinks are links too.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::git::{Oid, Repo};
use oxc_resolver::{FileMetadata, FileSystem, ResolveError};

use crate::git::snapshot::{EntryKind, Snapshot};

pub const ROOT: &str = "/repo";

pub fn to_virtual(rel: &str) -> PathBuf {
    Path::new(ROOT).join(rel)
}

/// The repository-relative path of a virtual path, if it is inside the repository.
pub fn to_relative(abs: &Path) -> Option<String> {
    let rel = abs.strip_prefix(ROOT).ok()?;
    let s = rel.to_str()?;
    Some(s.to_string())
}

pub struct SnapshotFs {
    files: HashMap<PathBuf, Oid>,
    dirs: HashSet<PathBuf>,
    links: HashMap<PathBuf, PathBuf>,
    repo: Option<Mutex<Repo>>,
    contents: Mutex<HashMap<Oid, Arc<Vec<u8>>>>,
    /// Workspace package name → its real directory, for tsconfig `extends` into a package.
    packages: HashMap<String, PathBuf>,
}

impl SnapshotFs {
    /// `links`: extra virtual links (absolute link path → absolute target), e.g. workspace packages.
    pub fn new(
        snapshot: &Snapshot,
        git_dir: &Path,
        extra_links: Vec<(PathBuf, PathBuf)>,
    ) -> SnapshotFs {
        let repo = Repo::open(git_dir).ok();
        let mut files = HashMap::with_capacity(snapshot.entries.len());
        let mut dirs = HashSet::new();
        let mut links = HashMap::new();
        dirs.insert(PathBuf::from(ROOT));
        dirs.insert(PathBuf::from("/"));
        for (path, entry) in &snapshot.entries {
            let abs = to_virtual(path);
            add_parents(&abs, &mut dirs);
            match entry.kind {
                EntryKind::File | EntryKind::Executable => {
                    files.insert(abs, entry.oid);
                }
                EntryKind::Symlink => {
                    let target = repo.as_ref().and_then(|r| r.read_text(entry.oid));
                    if let Some(t) = target {
                        let dir = abs.parent().unwrap_or(Path::new(ROOT));
                        let joined = normalize(&dir.join(t.trim()));
                        // Links that leave the repository resolve to nothing.
                        if joined.starts_with(ROOT) {
                            links.insert(abs, joined);
                        }
                    }
                }
                EntryKind::Submodule => {
                    dirs.insert(abs);
                }
            }
        }
        for (link, target) in extra_links {
            add_parents(&link, &mut dirs);
            links.entry(link).or_insert(target);
        }
        SnapshotFs {
            files,
            dirs,
            links,
            repo: repo.map(Mutex::new),
            contents: Mutex::new(HashMap::new()),
            packages: HashMap::new(),
        }
    }

    /// Let tsconfig `extends` name workspace packages (`"@acme/tsconfig/base.json"`).
    ///
    /// TypeScript resolves such an `extends` to the package's real path, so relative paths inside
    /// the extended file are relative to where it really is. The resolver would keep the
    /// `node_modules/` path instead, so `extends` values that name a workspace package are
    /// rewritten to the real file when the JSON is read.
    pub fn with_packages(mut self, packages: HashMap<String, PathBuf>) -> Self {
        self.packages = packages;
        self
    }

    fn rewrite_extends(&self, text: String) -> String {
        if self.packages.is_empty() || !text.contains("\"extends\"") {
            return text;
        }
        static EXTENDS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        static STRING: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let extends = EXTENDS.get_or_init(|| {
            regex::Regex::new(r#""extends"\s*:\s*(\[[^\]]*\]|"[^"]*")"#).expect("valid regex")
        });
        let string = STRING.get_or_init(|| regex::Regex::new(r#""([^"]*)""#).expect("valid regex"));
        extends
            .replace_all(&text, |c: &regex::Captures| {
                let value = string.replace_all(&c[1], |s: &regex::Captures| {
                    let spec = &s[1];
                    let name = super::package_name(spec);
                    match self.packages.get(name) {
                        Some(dir) if !super::is_relative(spec) => {
                            let rest = spec[name.len()..].trim_start_matches('/');
                            let mut p = if rest.is_empty() {
                                dir.join("tsconfig.json")
                            } else {
                                dir.join(rest)
                            };
                            if p.extension().is_none() {
                                p.set_extension("json");
                            }
                            format!("\"{}\"", p.display())
                        }
                        _ => s[0].to_string(),
                    }
                });
                format!("\"extends\": {value}")
            })
            .into_owned()
    }

    /// Follow links in every component of `path`; `None` when it does not exist.
    fn real(&self, path: &Path) -> Option<PathBuf> {
        let mut p = normalize(path);
        for _ in 0..40 {
            if self.files.contains_key(&p) || self.dirs.contains(&p) {
                return Some(p);
            }
            // Find the longest prefix that is a link and rewrite it.
            let mut rewritten = None;
            for anc in p.ancestors() {
                if let Some(t) = self.links.get(anc) {
                    let rest = p.strip_prefix(anc).unwrap_or(Path::new(""));
                    rewritten = Some(normalize(&t.join(rest)));
                    break;
                }
            }
            p = rewritten?;
        }
        None
    }

    fn read_oid(&self, oid: Oid) -> io::Result<Arc<Vec<u8>>> {
        if let Some(c) = self.contents.lock().ok().and_then(|m| m.get(&oid).cloned()) {
            return Ok(c);
        }
        let repo = self
            .repo
            .as_ref()
            .ok_or_else(|| io::Error::other("repository unavailable"))?;
        let bytes = {
            let r = repo.lock().map_err(|_| io::Error::other("poisoned"))?;
            let blob = r.read_blob(oid).map_err(io::Error::other)?;
            Arc::new(blob)
        };
        if let Ok(mut m) = self.contents.lock() {
            m.insert(oid, bytes.clone());
        }
        Ok(bytes)
    }
}

fn add_parents(abs: &Path, dirs: &mut HashSet<PathBuf>) {
    let mut p = abs.parent();
    while let Some(d) = p {
        if !dirs.insert(d.to_path_buf()) {
            break;
        }
        p = d.parent();
    }
}

/// Lexically normalise `.` and `..` components.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "not in snapshot")
}

impl FileSystem for SnapshotFs {
    fn new() -> Self {
        SnapshotFs {
            files: HashMap::new(),
            dirs: HashSet::new(),
            links: HashMap::new(),
            repo: None,
            contents: Mutex::new(HashMap::new()),
            packages: HashMap::new(),
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let real = self.real(path).ok_or_else(not_found)?;
        let oid = self.files.get(&real).ok_or_else(not_found)?;
        Ok(self.read_oid(*oid)?.as_ref().clone())
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        let text = String::from_utf8(self.read(path)?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))?;
        Ok(self.rewrite_extends(text))
    }

    fn metadata(&self, path: &Path) -> io::Result<FileMetadata> {
        let real = self.real(path).ok_or_else(not_found)?;
        Ok(FileMetadata::new(
            self.files.contains_key(&real),
            self.dirs.contains(&real),
            false,
        ))
    }

    fn symlink_metadata(&self, path: &Path) -> io::Result<FileMetadata> {
        let p = normalize(path);
        if self.links.contains_key(&p) {
            return Ok(FileMetadata::new(false, false, true));
        }
        self.metadata(&p)
    }

    fn read_link(&self, path: &Path) -> Result<PathBuf, ResolveError> {
        self.links.get(&normalize(path)).cloned().ok_or_else(|| {
            ResolveError::from(io::Error::new(io::ErrorKind::InvalidInput, "not a link"))
        })
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.real(path).ok_or_else(not_found)
    }
}
