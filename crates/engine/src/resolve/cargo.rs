//! Cargo manifests: packages, their crate targets and dependencies, and workspaces.
//!
//! Every `Cargo.toml` of the snapshot is read (with the `toml` crate). A manifest with
//! `[package]` gives a package; its targets follow Cargo's rules: `[lib]` (`path`, `name`) or
//! `src/lib.rs`; `src/main.rs`, `src/bin/*.rs`, `src/bin/*/main.rs` and `[[bin]]`; `examples/`,
//! `tests/`, `benches/` the same way with `[[example]]`, `[[test]]`, `[[bench]]`, each honouring
//! `autobins`/`autoexamples`/`autotests`/`autobenches = false`; `build.rs` or `package.build`.
//!
//! Dependencies (normal, dev, build, and the `[target.'…'.*]` variants) name a crate in code by
//! their key when renamed with `package = "…"`, otherwise by the dependency's lib name (`[lib]
//! name`, or the package name with `-` turned into `_`). A dependency is a workspace package when
//! it has a `path`, when it is `workspace = true` and the workspace's `[workspace.dependencies]`
//! entry has one, or when a `[patch.*]` table of its workspace redirects the package to a path.
//! Everything else is external.

use std::collections::BTreeMap;

use crate::git::Repo;
use toml::{Table, Value};

use crate::git::snapshot::Snapshot;
use crate::glob::GlobList;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    Lib,
    Bin,
    Example,
    Test,
    Bench,
    Build,
}

/// One crate a package builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
    /// Repository-relative path of the crate root file.
    pub root: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Dev,
    Build,
}

/// Where a dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepSource {
    /// A package directory in the repository (repository-relative, no trailing slash).
    Path(String),
    /// A registry or git dependency.
    External,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The key in the manifest.
    pub key: String,
    /// The package it names (`package = "…"`, or the key).
    pub package: String,
    /// Renamed with `package = "…"`: the code name is the key.
    pub renamed: bool,
    pub source: DepSource,
    pub kind: DepKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// Repository-relative directory ("" at the root).
    pub dir: String,
    /// The name of its library crate in code.
    pub lib_name: String,
    pub targets: Vec<Target>,
    pub deps: Vec<Dependency>,
}

impl Package {
    pub fn lib(&self) -> Option<&Target> {
        self.targets.iter().find(|t| t.kind == TargetKind::Lib)
    }
}

#[derive(Debug, Default)]
pub struct CargoModel {
    pub packages: Vec<Package>,
    pub notes: Vec<String>,
}

impl CargoModel {
    pub fn package_at(&self, dir: &str) -> Option<usize> {
        self.packages.iter().position(|p| p.dir == dir)
    }
}

/// The name a crate has in code: `foo-bar` → `foo_bar`.
pub fn code_name(name: &str) -> String {
    name.replace('-', "_")
}

fn read_text(repo: &Repo, snapshot: &Snapshot, path: &str) -> Option<String> {
    let e = snapshot.get(path)?;
    repo.read_text(e.oid)
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

/// `a/b` + `../c/./d` → `a/c/d`; `None` when the path leaves the repository.
pub fn normalize(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        return None;
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

struct Workspace {
    dir: String,
    members: GlobList,
    exclude: GlobList,
    deps: Table,
    /// Patched package name → directory.
    patches: BTreeMap<String, String>,
}

/// Read every manifest of the snapshot. `is_source` says whether a file is a parsed source (crate
/// roots must be).
pub fn load(repo: &Repo, snapshot: &Snapshot, is_source: &dyn Fn(&str) -> bool) -> CargoModel {
    let mut model = CargoModel::default();
    let mut manifests: Vec<(String, Table)> = Vec::new();
    for (path, _) in snapshot.files() {
        if path != "Cargo.toml" && !path.ends_with("/Cargo.toml") {
            continue;
        }
        let Some(text) = read_text(repo, snapshot, path) else {
            continue;
        };
        match text.parse::<Table>() {
            Ok(t) => manifests.push((parent_dir(path).to_string(), t)),
            Err(e) => model.notes.push(format!(
                "{path}: not a valid Cargo manifest ({}); its crates were not analysed",
                e.message()
            )),
        }
    }
    let mut workspaces: Vec<Workspace> = Vec::new();
    for (dir, t) in &manifests {
        let Some(ws) = t.get("workspace").and_then(Value::as_table) else {
            continue;
        };
        let list = |key: &str| -> Vec<String> {
            ws.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|m| format!("/{}", m.trim_start_matches("./").trim_end_matches('/')))
                        .collect()
                })
                .unwrap_or_default()
        };
        let members = list("members");
        let exclude = list("exclude");
        let mut patches = BTreeMap::new();
        if let Some(patch) = t.get("patch").and_then(Value::as_table) {
            for (_, source) in patch {
                for (key, spec) in source.as_table().into_iter().flatten() {
                    if let Some(p) = spec.get("path").and_then(Value::as_str) {
                        if let Some(d) = normalize(dir, p) {
                            let pkg = spec.get("package").and_then(Value::as_str).unwrap_or(key);
                            patches.insert(pkg.to_string(), d);
                        }
                    }
                }
            }
        }
        workspaces.push(Workspace {
            dir: dir.clone(),
            members: GlobList::from_strs(&members.iter().map(String::as_str).collect::<Vec<_>>()),
            exclude: GlobList::from_strs(&exclude.iter().map(String::as_str).collect::<Vec<_>>()),
            deps: ws
                .get("dependencies")
                .and_then(Value::as_table)
                .cloned()
                .unwrap_or_default(),
            patches,
        });
    }
    // Packages first by name, to apply the lib-name rule to path dependencies.
    for (dir, t) in &manifests {
        let Some(pkg) = t.get("package").and_then(Value::as_table) else {
            continue;
        };
        let Some(name) = pkg.get("name").and_then(Value::as_str) else {
            model.notes.push(format!(
                "{}: [package] without a name; its crates were not analysed",
                join(dir, "Cargo.toml")
            ));
            continue;
        };
        let ws = workspace_of(&workspaces, dir, pkg);
        let targets = targets(snapshot, dir, name, t, is_source);
        let lib_name = t
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(Value::as_str)
            .map(code_name)
            .unwrap_or_else(|| code_name(name));
        let deps = dependencies(dir, t, ws.map(|i| &workspaces[i]));
        model.packages.push(Package {
            name: name.to_string(),
            dir: dir.clone(),
            lib_name,
            targets,
            deps,
        });
    }
    model.packages.sort_by(|a, b| a.dir.cmp(&b.dir));
    model
}

/// The workspace a package belongs to: `package.workspace`, or the nearest enclosing workspace
/// whose members include it (and whose `exclude` does not).
fn workspace_of(workspaces: &[Workspace], dir: &str, pkg: &Table) -> Option<usize> {
    if let Some(p) = pkg.get("workspace").and_then(Value::as_str) {
        let target = normalize(dir, p)?;
        return workspaces.iter().position(|w| w.dir == target);
    }
    let mut best: Option<usize> = None;
    for (i, w) in workspaces.iter().enumerate() {
        let inside = w.dir.is_empty() || dir == w.dir || dir.starts_with(&format!("{}/", w.dir));
        if !inside {
            continue;
        }
        let rel = if w.dir.is_empty() {
            dir.to_string()
        } else {
            dir.strip_prefix(&w.dir)
                .unwrap_or(dir)
                .trim_start_matches('/')
                .to_string()
        };
        let member = rel.is_empty() || (w.members.is_match(&rel) && !w.exclude.is_match(&rel));
        if member && best.is_none_or(|b| workspaces[b].dir.len() < w.dir.len()) {
            best = Some(i);
        }
    }
    best
}

fn dependencies(dir: &str, t: &Table, ws: Option<&Workspace>) -> Vec<Dependency> {
    let mut tables: Vec<(&Table, DepKind)> = Vec::new();
    let sections = [
        ("dependencies", DepKind::Normal),
        ("dev-dependencies", DepKind::Dev),
        ("dev_dependencies", DepKind::Dev),
        ("build-dependencies", DepKind::Build),
        ("build_dependencies", DepKind::Build),
    ];
    for (key, kind) in sections {
        if let Some(d) = t.get(key).and_then(Value::as_table) {
            tables.push((d, kind));
        }
    }
    if let Some(targets) = t.get("target").and_then(Value::as_table) {
        for (_, spec) in targets {
            for (key, kind) in sections {
                if let Some(d) = spec.get(key).and_then(Value::as_table) {
                    tables.push((d, kind));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (table, kind) in tables {
        for (key, spec) in table {
            let mut package = spec
                .get("package")
                .and_then(Value::as_str)
                .map(str::to_string);
            let mut path = spec
                .get("path")
                .and_then(Value::as_str)
                .and_then(|p| normalize(dir, p));
            if spec.get("workspace").and_then(Value::as_bool) == Some(true) {
                if let Some(w) = ws {
                    if let Some(wspec) = w.deps.get(key) {
                        if package.is_none() {
                            package = wspec
                                .get("package")
                                .and_then(Value::as_str)
                                .map(str::to_string);
                        }
                        if path.is_none() {
                            path = wspec
                                .get("path")
                                .and_then(Value::as_str)
                                .and_then(|p| normalize(&w.dir, p));
                        }
                    }
                }
            }
            let renamed = package.is_some();
            let package = package.unwrap_or_else(|| key.clone());
            if path.is_none() {
                path = ws.and_then(|w| w.patches.get(&package).cloned());
            }
            out.push(Dependency {
                key: key.clone(),
                package,
                renamed,
                source: path.map(DepSource::Path).unwrap_or(DepSource::External),
                kind,
            });
        }
    }
    out
}

/// The crate targets of a package, by Cargo's rules (explicit targets and auto-discovery).
fn targets(
    snapshot: &Snapshot,
    dir: &str,
    name: &str,
    t: &Table,
    is_source: &dyn Fn(&str) -> bool,
) -> Vec<Target> {
    let pkg = t.get("package").and_then(Value::as_table);
    let auto = |key: &str| {
        pkg.and_then(|p| p.get(key))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    };
    let exists = |rel: &str| is_source(&join(dir, rel));
    let mut out: Vec<Target> = Vec::new();
    let push = |out: &mut Vec<Target>, kind: TargetKind, name: String, rel: String| {
        let root = join(dir, &rel);
        if is_source(&root) && !out.iter().any(|x| x.root == root && x.kind == kind) {
            out.push(Target { kind, name, root });
        }
    };
    // Library.
    let lib = t.get("lib").and_then(Value::as_table);
    let lib_path = lib
        .and_then(|l| l.get("path"))
        .and_then(Value::as_str)
        .map(|p| normalize("", p).unwrap_or_default());
    let lib_name = lib
        .and_then(|l| l.get("name"))
        .and_then(Value::as_str)
        .map(code_name)
        .unwrap_or_else(|| code_name(name));
    match lib_path {
        Some(p) => push(&mut out, TargetKind::Lib, lib_name, p),
        None if exists("src/lib.rs") => {
            push(&mut out, TargetKind::Lib, lib_name, "src/lib.rs".into())
        }
        None => {}
    }
    // Files under a directory: `<d>/*.rs` and `<d>/*/main.rs`.
    let discover = |sub: &str| -> Vec<(String, String)> {
        let prefix = join(dir, &format!("{sub}/"));
        let mut found = Vec::new();
        for (path, _) in snapshot.entries.range(prefix.clone()..) {
            let Some(rest) = path.strip_prefix(&prefix) else {
                break;
            };
            if !is_source(path) {
                continue;
            }
            let rel = format!("{sub}/{rest}");
            match rest.split('/').collect::<Vec<_>>().as_slice() {
                [file] => {
                    if let Some(stem) = file.strip_suffix(".rs") {
                        found.push((stem.to_string(), rel));
                    }
                }
                [d, "main.rs"] => found.push((d.to_string(), rel)),
                _ => {}
            }
        }
        found
    };
    let sections = [
        ("bin", "autobins", "src/bin", TargetKind::Bin),
        ("example", "autoexamples", "examples", TargetKind::Example),
        ("test", "autotests", "tests", TargetKind::Test),
        ("bench", "autobenches", "benches", TargetKind::Bench),
    ];
    for (key, auto_key, sub, kind) in sections {
        if let Some(list) = t.get(key).and_then(Value::as_array) {
            for entry in list {
                let tname = entry.get("name").and_then(Value::as_str);
                let path = entry.get("path").and_then(Value::as_str);
                let rel = match (path, tname) {
                    (Some(p), _) => normalize("", p),
                    (None, Some(n)) => {
                        let candidates = if kind == TargetKind::Bin && n == name {
                            vec!["src/main.rs".to_string()]
                        } else {
                            vec![format!("{sub}/{n}.rs"), format!("{sub}/{n}/main.rs")]
                        };
                        candidates.into_iter().find(|c| exists(c))
                    }
                    (None, None) => None,
                };
                if let Some(rel) = rel {
                    let n = tname
                        .map(str::to_string)
                        .unwrap_or_else(|| name.to_string());
                    push(&mut out, kind, n, rel);
                }
            }
        }
        if auto(auto_key) {
            if kind == TargetKind::Bin && exists("src/main.rs") {
                push(&mut out, kind, name.to_string(), "src/main.rs".into());
            }
            for (n, rel) in discover(sub) {
                push(&mut out, kind, n, rel);
            }
        }
    }
    // Build script.
    match pkg.and_then(|p| p.get("build")) {
        Some(Value::String(p)) => {
            if let Some(rel) = normalize("", p) {
                push(
                    &mut out,
                    TargetKind::Build,
                    "build-script-build".into(),
                    rel,
                );
            }
        }
        Some(Value::Boolean(false)) => {}
        _ => {
            if exists("build.rs") {
                push(
                    &mut out,
                    TargetKind::Build,
                    "build-script-build".into(),
                    "build.rs".into(),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("crates/a", "../b").as_deref(), Some("crates/b"));
        assert_eq!(normalize("", "./x/y").as_deref(), Some("x/y"));
        assert_eq!(normalize("", "../x"), None);
        assert_eq!(code_name("foo-bar"), "foo_bar");
    }
}
