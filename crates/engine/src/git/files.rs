//! Settings a pull request must not be able to change for itself.
//!
//! In action mode the configuration, custom rules and template overrides are read from the
//! **base** commit (the branch the PR merges into), straight from git objects, never from the
//! checkout — which is the PR's own code. A PR that edits them is scored with the base's settings
//! and gets a notice; its new settings apply once it is merged. Nothing from the repository is
//! ever executed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::ObjectType;

use super::{Oid, Repo};
use crate::error::{Error, Result};

/// Where settings files are read from.
#[derive(Debug, Clone)]
pub enum FileSource {
    /// The working tree (local CLI use).
    WorkTree(PathBuf),
    /// A commit's tree, read from git objects (action mode: the base commit).
    Commit { git_dir: PathBuf, commit: Oid },
}

impl FileSource {
    /// Read a file by repository-relative path (`/`-separated). `Ok(None)` when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<String>> {
        match self {
            FileSource::WorkTree(root) => {
                let p = root.join(rel);
                if !p.is_file() {
                    return Ok(None);
                }
                std::fs::read_to_string(&p)
                    .map(Some)
                    .map_err(|source| Error::Io { path: p, source })
            }
            FileSource::Commit { git_dir, commit } => {
                let repo = Repo::open(git_dir)?;
                let oid = match entry_at(&repo, *commit, rel)? {
                    Some((oid, ObjectType::Blob)) => oid,
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
    pub fn read_dir(&self, rel_dir: &str) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let rel_dir = rel_dir.trim_end_matches('/');
        match self {
            FileSource::WorkTree(root) => {
                let d = root.join(rel_dir);
                let Ok(entries) = std::fs::read_dir(&d) else {
                    return Ok(out);
                };
                for e in entries.flatten() {
                    if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                        if let Some(name) = e.file_name().to_str() {
                            if let Some(text) = self.read(&format!("{rel_dir}/{name}"))? {
                                out.insert(name.to_string(), text);
                            }
                        }
                    }
                }
            }
            FileSource::Commit { git_dir, commit } => {
                let repo = Repo::open(git_dir)?;
                let Some((oid, ObjectType::Tree)) = entry_at(&repo, *commit, rel_dir)? else {
                    return Ok(out);
                };
                let tree = repo
                    .raw()
                    .find_tree(oid)
                    .map_err(crate::git::err("reading a tree"))?;
                for e in tree.iter() {
                    if e.kind() == Some(ObjectType::Blob) {
                        if let Ok(name) = e.name() {
                            if let Some(text) = self.read(&format!("{rel_dir}/{name}"))? {
                                out.insert(name.to_string(), text);
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether `rel` is a directory.
    pub fn is_dir(&self, rel: &str) -> Result<bool> {
        let rel = rel.trim_end_matches('/');
        match self {
            FileSource::WorkTree(root) => Ok(root.join(rel).is_dir()),
            FileSource::Commit { git_dir, commit } => {
                let repo = Repo::open(git_dir)?;
                Ok(matches!(
                    entry_at(&repo, *commit, rel)?,
                    Some((_, ObjectType::Tree))
                ))
            }
        }
    }

    pub fn commit(&self) -> Option<Oid> {
        match self {
            FileSource::Commit { commit, .. } => Some(*commit),
            FileSource::WorkTree(_) => None,
        }
    }
}

/// The object at `rel` in a commit's tree (`rel` may name a blob or a tree).
fn entry_at(repo: &Repo, commit: Oid, rel: &str) -> Result<Option<(Oid, ObjectType)>> {
    let c = repo
        .raw()
        .find_commit(commit)
        .map_err(crate::git::err(format!("reading commit {commit}")))?;
    let tree = c
        .tree()
        .map_err(crate::git::err(format!("reading the tree of {commit}")))?;
    match tree.get_path(Path::new(rel)) {
        Ok(e) => Ok(e.kind().map(|k| (e.id(), k))),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(crate::git::err(format!("looking up {rel} at {commit}"))(e)),
    }
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
        let a = entry_at(repo, base, p).ok().flatten().map(|e| e.0);
        let b = entry_at(repo, head, p).ok().flatten().map(|e| e.0);
        if a != b && !changed.contains(p) {
            changed.push(p.clone());
        }
    }
    changed
}
