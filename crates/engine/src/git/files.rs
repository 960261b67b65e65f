//! Settings a pull request must not be able to change for itself.
//!
//! In action mode the configuration, custom rules and template overrides are read from the
//! **base** commit (the branch the PR merges into), straight from git objects, never from the
//! checkout — which is the PR's own code. A PR that edits them is scored with the base's settings
//! and gets a notice; its new settings apply once it is merged. Nothing from the repository is
//! ever executed.
//!
//! Paths are repository-relative and never leave the repository: a path with a `..` component or
//! an absolute path is a usage error, and a symbolic link — at the path itself or at any directory
//! on the way to it, in the working tree or in a commit's tree — is refused with an error that
//! names the path and never its target. (A link committed by a pull request could otherwise make
//! pr-risk read, and quote in an error, a file of the runner such as `~/.git-credentials`.)

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use git2::ObjectType;

use super::{Oid, Repo};
use crate::error::{Error, Result};

/// A tree entry's mode for a symbolic link.
const LINK_MODE: i32 = 0o120000;

/// Where settings files are read from.
#[derive(Debug, Clone)]
pub enum FileSource {
    /// The working tree (local CLI use).
    WorkTree(PathBuf),
    /// A commit's tree, read from git objects (action mode: the base commit).
    Commit { git_dir: PathBuf, commit: Oid },
}

/// What is at a path.
enum Found {
    Missing,
    File,
    Dir,
    /// Something else (a FIFO, a device, a submodule): never read.
    Other,
}

impl FileSource {
    /// Read a file by repository-relative path (`/`-separated). `Ok(None)` when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<String>> {
        let rel = inside(rel)?;
        match self {
            FileSource::WorkTree(root) => {
                if !matches!(self.lookup(&rel)?, Found::File) {
                    return Ok(None);
                }
                let p = root.join(&rel);
                std::fs::read_to_string(&p)
                    .map(Some)
                    .map_err(|source| Error::Io { path: p, source })
            }
            FileSource::Commit { git_dir, commit } => {
                let repo = Repo::open(git_dir)?;
                let oid = match entry_at(&repo, *commit, &rel)? {
                    Some(e) if e.mode == LINK_MODE => {
                        return Err(self.link(&link_prefix(&repo, *commit, &rel)))
                    }
                    Some(e) if e.kind == ObjectType::Blob => e.oid,
                    _ => return Ok(None),
                };
                let blob = repo.read_blob(oid)?;
                match String::from_utf8(blob) {
                    Ok(s) => Ok(Some(s)),
                    Err(_) => Err(Error::Usage(format!(
                        "{rel} at commit {commit} is not valid UTF-8\n  hint: save it as UTF-8"
                    ))),
                }
            }
        }
    }

    /// The files directly inside a directory (name → content); empty when it does not exist.
    /// A symbolic link among them is an error.
    pub fn read_dir(&self, rel_dir: &str) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let rel_dir = inside(rel_dir)?;
        match self {
            FileSource::WorkTree(root) => {
                if !matches!(self.lookup(&rel_dir)?, Found::Dir) {
                    return Ok(out);
                }
                let d = root.join(&rel_dir);
                let Ok(entries) = std::fs::read_dir(&d) else {
                    return Ok(out);
                };
                let mut names: Vec<(String, std::fs::FileType)> = entries
                    .flatten()
                    .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
                    .collect();
                names.sort_by(|a, b| a.0.cmp(&b.0));
                for (name, kind) in names {
                    let rel = join(&rel_dir, &name);
                    if kind.is_symlink() {
                        return Err(self.link(&rel));
                    }
                    if kind.is_file() {
                        if let Some(text) = self.read(&rel)? {
                            out.insert(name, text);
                        }
                    }
                }
            }
            FileSource::Commit { git_dir, commit } => {
                let repo = Repo::open(git_dir)?;
                let tree_oid = match entry_at(&repo, *commit, &rel_dir)? {
                    Some(e) if e.mode == LINK_MODE => {
                        return Err(self.link(&link_prefix(&repo, *commit, &rel_dir)))
                    }
                    Some(e) if e.kind == ObjectType::Tree => e.oid,
                    _ => return Ok(out),
                };
                let tree = repo
                    .raw()
                    .find_tree(tree_oid)
                    .map_err(crate::git::err("reading a tree"))?;
                for e in tree.iter() {
                    let Ok(name) = e.name() else { continue };
                    let rel = join(&rel_dir, name);
                    if e.filemode() == LINK_MODE {
                        return Err(self.link(&rel));
                    }
                    if e.kind() == Some(ObjectType::Blob) {
                        if let Some(text) = self.read(&rel)? {
                            out.insert(name.to_string(), text);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether `rel` is a directory (a symbolic link is an error).
    pub fn is_dir(&self, rel: &str) -> Result<bool> {
        let rel = inside(rel)?;
        match self {
            FileSource::WorkTree(_) => Ok(matches!(self.lookup(&rel)?, Found::Dir)),
            FileSource::Commit { git_dir, commit } => {
                let repo = Repo::open(git_dir)?;
                match entry_at(&repo, *commit, &rel)? {
                    Some(e) if e.mode == LINK_MODE => {
                        Err(self.link(&link_prefix(&repo, *commit, &rel)))
                    }
                    Some(e) => Ok(e.kind == ObjectType::Tree),
                    None => Ok(false),
                }
            }
        }
    }

    pub fn commit(&self) -> Option<Oid> {
        match self {
            FileSource::Commit { commit, .. } => Some(*commit),
            FileSource::WorkTree(_) => None,
        }
    }

    /// What is at `rel` in the working tree, without following a symbolic link anywhere on the
    /// way (`rel` is already checked by [`inside`]).
    fn lookup(&self, rel: &str) -> Result<Found> {
        let FileSource::WorkTree(root) = self else {
            return Ok(Found::Missing);
        };
        if rel.is_empty() {
            return Ok(Found::Dir);
        }
        let mut p = root.clone();
        let mut walked = String::new();
        let parts: Vec<&str> = rel.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            p.push(part);
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(part);
            let meta = match std::fs::symlink_metadata(&p) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
                Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                    return Ok(Found::Missing)
                }
                Err(source) => return Err(Error::Io { path: p, source }),
            };
            let t = meta.file_type();
            if t.is_symlink() {
                return Err(self.link(&walked));
            }
            let last = i + 1 == parts.len();
            if !last && !t.is_dir() {
                return Ok(Found::Missing);
            }
            if last {
                return Ok(if t.is_file() {
                    Found::File
                } else if t.is_dir() {
                    Found::Dir
                } else {
                    Found::Other
                });
            }
        }
        Ok(Found::Missing)
    }

    /// The error for a symbolic link at `rel` (its target is never named).
    fn link(&self, rel: &str) -> Error {
        let at = match self.commit() {
            Some(c) => format!(" in commit {}", &c.to_string()[..12]),
            None => String::new(),
        };
        Error::Usage(format!(
            "{rel}{at} is a symbolic link; pr-risk never follows links when it reads settings, rules or templates\n  hint: commit the file itself in place of the link"
        ))
    }
}

/// `rel` normalised (`/`-separated, no `.` components, no trailing `/`), or a usage error when it
/// is absolute or climbs out of the repository with `..`.
fn inside(rel: &str) -> Result<String> {
    let norm = rel.replace('\\', "/");
    let outside = || {
        Error::Usage(format!(
            "`{rel}` is not a path inside the repository: settings, rules and templates are read by repository-relative paths without `..`\n  hint: give a path inside the repository, relative to its root"
        ))
    };
    if norm.starts_with('/') || Path::new(&norm).is_absolute() {
        return Err(outside());
    }
    let mut parts = Vec::new();
    for c in Path::new(&norm).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(outside)?.to_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(outside())
            }
        }
    }
    Ok(parts.join("/"))
}

/// The shortest prefix of `rel` that is a symbolic link in the commit (`rel` when none is).
fn link_prefix(repo: &Repo, commit: Oid, rel: &str) -> String {
    let mut prefix = String::new();
    for part in rel.split('/') {
        prefix = join(&prefix, part);
        if matches!(entry_at(repo, commit, &prefix), Ok(Some(e)) if e.mode == LINK_MODE) {
            return prefix;
        }
    }
    rel.to_string()
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// A tree entry: its object, kind and mode.
struct Entry {
    oid: Oid,
    kind: ObjectType,
    mode: i32,
}

/// The entry at `rel` in a commit's tree (`rel` may name a blob, a tree or a link; the root is a
/// tree). A link on the way to `rel` is returned as that link's entry, with `mode` [`LINK_MODE`];
/// [`link_prefix`] names it.
fn entry_at(repo: &Repo, commit: Oid, rel: &str) -> Result<Option<Entry>> {
    let c = repo
        .raw()
        .find_commit(commit)
        .map_err(crate::git::err(format!("reading commit {commit}")))?;
    let mut tree = c
        .tree()
        .map_err(crate::git::err(format!("reading the tree of {commit}")))?;
    let mut found = Entry {
        oid: tree.id(),
        kind: ObjectType::Tree,
        mode: 0o040000,
    };
    if rel.is_empty() {
        return Ok(Some(found));
    }
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let Some((oid, kind, mode)) = tree
            .get_name(part)
            .and_then(|e| Some((e.id(), e.kind()?, e.filemode())))
        else {
            return Ok(None);
        };
        found = Entry { oid, kind, mode };
        if i + 1 == parts.len() || found.mode == LINK_MODE {
            return Ok(Some(found));
        }
        if kind != ObjectType::Tree {
            return Ok(None);
        }
        tree = repo
            .raw()
            .find_tree(found.oid)
            .map_err(crate::git::err(format!("looking up {rel} at {commit}")))?;
    }
    Ok(Some(found))
}

/// A path given by the user as repository-relative, `/`-separated, without a leading `./`.
pub fn repo_relative(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

/// The settings paths (files or directories) whose content differs between two commits.
pub fn changed_between(repo: &Repo, base: Oid, head: Oid, paths: &[String]) -> Vec<String> {
    let mut changed = Vec::new();
    for p in paths {
        let a = entry_at(repo, base, p)
            .ok()
            .flatten()
            .map(|e| (e.oid, e.mode));
        let b = entry_at(repo, head, p)
            .ok()
            .flatten()
            .map(|e| (e.oid, e.mode));
        if a != b && !changed.contains(p) {
            changed.push(p.clone());
        }
    }
    changed
}
