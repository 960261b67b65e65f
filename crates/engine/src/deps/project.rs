//! Projects: where the lock files and manifests of a snapshot are, and reading them.
//!
//! A project is one lock file and the manifests of the workspace around it:
//!
//! - npm: a `pnpm-lock.yaml`, `yarn.lock`, `npm-shrinkwrap.json` or `package-lock.json` (in that
//!   order of preference when a directory has several) with the `package.json` beside it and the
//!   workspace packages it declares (`workspaces` in that `package.json`, `packages` in a
//!   `pnpm-workspace.yaml` beside it). A repository whose root `package.json` has no lock file is
//!   a project too, read from its manifests alone (versions are then ranges, not resolved).
//! - Cargo: a `Cargo.lock` with every `Cargo.toml` under its directory (up to a deeper
//!   `Cargo.lock`); a root `Cargo.toml` without a lock file is a manifest-only project.
//!
//! Lock files and manifests under `node_modules`, or matching the `exclude` or `tests` globs
//! (vendored code, fixtures, e2e harnesses) are not read: their dependencies are not the
//! project's. A project whose files have the same blob ids at base and head is not read at all.

use std::collections::{BTreeMap, BTreeSet};

use crate::git::snapshot::Snapshot;
use crate::git::{Oid, Repo};
use crate::glob::GlobList;

use super::lockyaml;
use super::model::{Ecosystem, Lock, Manifest};
use super::{cargo, npm, pnpm, yarn, Problem};

/// Which paths are never read.
pub struct Scope<'a> {
    pub exclude: &'a GlobList,
    pub tests: &'a GlobList,
}

impl Scope<'_> {
    pub fn skips(&self, path: &str) -> bool {
        path.split('/').any(|c| c == "node_modules")
            || self.exclude.is_match(path)
            || self.tests.is_match(path)
    }
}

/// npm lock files by preference.
pub const NPM_LOCKS: &[&str] = &[
    "pnpm-lock.yaml",
    "yarn.lock",
    "npm-shrinkwrap.json",
    "package-lock.json",
];

/// The files of one project in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFiles {
    pub ecosystem: Ecosystem,
    /// The project's directory (`""` at the root).
    pub root: String,
    pub lockfile: Option<String>,
    pub manifests: Vec<String>,
    /// Every file whose content matters, with its blob id (lock, manifests, workspace
    /// declarations, build scripts): equal fingerprints at base and head mean nothing changed.
    pub fingerprint: Vec<(String, Oid)>,
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Whether `path` is inside the directory `dir` (`""` holds everything).
pub fn under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn read_text(repo: &Repo, snapshot: &Snapshot, path: &str) -> Option<String> {
    repo.read_text(snapshot.get(path)?.oid)
}

/// The largest lock file or manifest read (bytes): real lock files stay under a few MB; a larger
/// one is a note, not a memory spike (the content is the pull request's).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A file's text, or why it cannot be had.
fn read_bounded(repo: &Repo, snapshot: &Snapshot, path: &str) -> Result<String, String> {
    let oid = snapshot.get(path).ok_or("missing")?.oid;
    if let Some(size) = repo.blob_size(oid).filter(|s| *s > MAX_BYTES) {
        return Err(format!(
            "{size} bytes, larger than the {} MB read at most",
            MAX_BYTES / (1024 * 1024)
        ));
    }
    repo.read_text(oid)
        .ok_or_else(|| "not readable as UTF-8 text".to_string())
}

/// Every project of a snapshot, ordered by ecosystem and root.
pub fn discover(repo: &Repo, snapshot: &Snapshot, scope: &Scope) -> Vec<ProjectFiles> {
    let mut npm_locks: BTreeMap<String, &str> = BTreeMap::new();
    let mut cargo_locks: BTreeSet<String> = BTreeSet::new();
    let mut package_jsons: Vec<&str> = Vec::new();
    let mut cargo_tomls: Vec<&str> = Vec::new();
    let mut build_rs: Vec<&str> = Vec::new();
    for (path, _) in snapshot.files() {
        let (dir, name) = split(path);
        match name {
            "package.json" | "Cargo.toml" | "Cargo.lock" | "build.rs" => {}
            n if NPM_LOCKS.contains(&n) => {}
            _ => continue,
        }
        if scope.skips(path) {
            continue;
        }
        match name {
            "package.json" => package_jsons.push(path),
            "Cargo.toml" => cargo_tomls.push(path),
            "Cargo.lock" => {
                cargo_locks.insert(dir.to_string());
            }
            "build.rs" => build_rs.push(path),
            lock => {
                let rank = |n: &str| NPM_LOCKS.iter().position(|x| *x == n).unwrap_or(9);
                let e = npm_locks.entry(dir.to_string()).or_insert(lock);
                if rank(lock) < rank(e) {
                    *e = NPM_LOCKS[rank(lock)];
                }
            }
        }
    }
    let mut out = Vec::new();
    // npm.
    let mut roots: BTreeMap<String, Option<String>> = npm_locks
        .iter()
        .map(|(d, n)| (d.clone(), Some(join(d, n))))
        .collect();
    if package_jsons.contains(&"package.json") {
        roots.entry(String::new()).or_insert(None);
    }
    for (root, lockfile) in roots {
        let own = join(&root, "package.json");
        let mut manifests: Vec<String> = Vec::new();
        let mut extra: Vec<String> = Vec::new();
        if package_jsons.contains(&own.as_str()) {
            manifests.push(own.clone());
        }
        let pats = workspace_patterns(repo, snapshot, &root);
        if !pats.is_empty() {
            let ws_yaml = join(&root, "pnpm-workspace.yaml");
            if snapshot.get(&ws_yaml).is_some() {
                extra.push(ws_yaml);
            }
            let anchored = |p: &str| {
                let p = p.trim().trim_start_matches("./").trim_end_matches('/');
                format!("/{}", join(&root, p))
            };
            let include: Vec<String> = pats
                .iter()
                .filter(|p| !p.starts_with('!'))
                .map(|p| anchored(p))
                .collect();
            let exclude: Vec<String> = pats
                .iter()
                .filter_map(|p| p.strip_prefix('!'))
                .map(anchored)
                .collect();
            let inc = GlobList::from_strs(&include.iter().map(String::as_str).collect::<Vec<_>>());
            let exc = GlobList::from_strs(&exclude.iter().map(String::as_str).collect::<Vec<_>>());
            for p in &package_jsons {
                let dir = split(p).0;
                if *p != own && under(p, &root) && inc.is_match(dir) && !exc.is_match(dir) {
                    manifests.push(p.to_string());
                }
            }
        }
        if manifests.is_empty() && lockfile.is_none() {
            continue;
        }
        manifests.sort();
        out.push(files(
            snapshot,
            Ecosystem::Npm,
            root,
            lockfile,
            manifests,
            extra,
        ));
    }
    // Cargo.
    let mut roots: Vec<(String, Option<String>)> = cargo_locks
        .iter()
        .map(|d| (d.clone(), Some(join(d, "Cargo.lock"))))
        .collect();
    if cargo_tomls.contains(&"Cargo.toml") && !cargo_locks.contains("") {
        roots.push((String::new(), None));
    }
    roots.sort();
    let all_roots: Vec<String> = roots.iter().map(|r| r.0.clone()).collect();
    let owner = |path: &str| {
        all_roots
            .iter()
            .filter(|r| under(path, r))
            .max_by_key(|r| r.len())
            .cloned()
    };
    for (root, lockfile) in roots {
        let manifests: Vec<String> = cargo_tomls
            .iter()
            .filter(|p| owner(p).as_deref() == Some(root.as_str()))
            .map(|p| p.to_string())
            .collect();
        let extra: Vec<String> = build_rs
            .iter()
            .filter(|p| owner(p).as_deref() == Some(root.as_str()))
            .map(|p| p.to_string())
            .collect();
        if manifests.is_empty() {
            continue;
        }
        out.push(files(
            snapshot,
            Ecosystem::Cargo,
            root,
            lockfile,
            manifests,
            extra,
        ));
    }
    out
}

fn files(
    snapshot: &Snapshot,
    ecosystem: Ecosystem,
    root: String,
    lockfile: Option<String>,
    manifests: Vec<String>,
    extra: Vec<String>,
) -> ProjectFiles {
    let mut fingerprint: Vec<(String, Oid)> = lockfile
        .iter()
        .chain(&manifests)
        .chain(&extra)
        .filter_map(|p| snapshot.get(p).map(|e| (p.clone(), e.oid)))
        .collect();
    fingerprint.sort();
    ProjectFiles {
        ecosystem,
        root,
        lockfile,
        manifests,
        fingerprint,
    }
}

/// The workspace patterns a project root declares: `workspaces` of its `package.json` (an array,
/// or Yarn's `{ "packages": [...] }`) and `packages` of a `pnpm-workspace.yaml` beside it.
fn workspace_patterns(repo: &Repo, snapshot: &Snapshot, root: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(text) = read_text(repo, snapshot, &join(root, "package.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let list = match v.get("workspaces") {
                Some(serde_json::Value::Array(a)) => Some(a.clone()),
                Some(serde_json::Value::Object(o)) => {
                    o.get("packages").and_then(|p| p.as_array()).cloned()
                }
                _ => None,
            };
            out.extend(
                list.unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_string)),
            );
        }
    }
    if let Some(text) = read_text(repo, snapshot, &join(root, "pnpm-workspace.yaml")) {
        if let Ok((doc, _)) = lockyaml::parse(&text) {
            if let Some(lockyaml::Node::Seq(items)) = doc.get("packages") {
                out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)));
            }
        }
    }
    out
}

/// One side of a project, read.
#[derive(Debug, Clone)]
pub struct Read {
    pub lock: Option<Lock>,
    /// The lock file's text (to locate entries that have no line from the parser).
    pub lock_text: Option<String>,
    pub manifests: Vec<Manifest>,
    /// The lock file exists but could not be read (the project's changes are not reported).
    pub unreadable: bool,
}

/// Parse a lock file of the given file name.
pub fn parse_lock(file_name: &str, text: &str) -> Result<Lock, String> {
    match file_name {
        "package-lock.json" | "npm-shrinkwrap.json" => npm::lock(text),
        "pnpm-lock.yaml" => pnpm::lock(text),
        "yarn.lock" => yarn::lock(text),
        "Cargo.lock" => cargo::lock(text),
        other => Err(format!("`{other}` is not a lock file pr-risk reads")),
    }
}

/// Read a project's lock file and manifests; what cannot be read becomes a [`Problem`] and is
/// left out (a lock file that cannot be read leaves the project's changes unreported: comparing
/// one side's lock file with nothing would list every package).
pub fn read(
    repo: &Repo,
    snapshot: &Snapshot,
    pf: &ProjectFiles,
    side: &str,
    problems: &mut Vec<Problem>,
) -> Read {
    let mut problem = |path: &str, message: String| {
        problems.push(Problem {
            path: path.to_string(),
            side: side.to_string(),
            message,
        })
    };
    let mut lock = None;
    let mut lock_text = None;
    let mut unreadable = false;
    if let Some(path) = &pf.lockfile {
        match read_bounded(repo, snapshot, path) {
            Err(why) => {
                unreadable = true;
                problem(path, why);
            }
            Ok(text) => match parse_lock(split(path).1, &text) {
                Ok(l) => {
                    lock = Some(l);
                    lock_text = Some(text);
                }
                Err(e) => {
                    unreadable = true;
                    problem(path, e);
                }
            },
        }
    }
    let mut manifests = Vec::new();
    match pf.ecosystem {
        Ecosystem::Npm => {
            for path in &pf.manifests {
                let text = match read_bounded(repo, snapshot, path) {
                    Ok(t) => t,
                    Err(why) => {
                        problem(path, why);
                        continue;
                    }
                };
                match npm::manifest(path, &text, &|_| false) {
                    Ok(m) => manifests.push(m),
                    Err(e) => problem(path, e),
                }
            }
            let names: BTreeSet<String> = manifests
                .iter()
                .filter_map(|m: &Manifest| m.name.clone())
                .collect();
            for m in &mut manifests {
                for d in &mut m.deps {
                    d.local |= names.contains(&d.package);
                }
            }
        }
        Ecosystem::Cargo => {
            let root_toml = join(&pf.root, "Cargo.toml");
            let ws = read_text(repo, snapshot, &root_toml)
                .as_deref()
                .and_then(cargo::workspace_deps);
            for path in &pf.manifests {
                let text = match read_bounded(repo, snapshot, path) {
                    Ok(t) => t,
                    Err(why) => {
                        problem(path, why);
                        continue;
                    }
                };
                match cargo::manifest(path, &text, ws.as_ref(), &|p| snapshot.get(p).is_some()) {
                    Ok(m) => manifests.push(m),
                    Err(e) => problem(path, e),
                }
            }
        }
    }
    Read {
        lock,
        lock_text,
        manifests,
        unreadable,
    }
}
