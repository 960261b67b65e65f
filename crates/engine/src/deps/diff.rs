//! Base against head, one project at a time: which packages were added, removed, upgraded,
//! downgraded or moved to another source, which of them are direct, and which direct dependencies
//! pull in the transitive ones.
//!
//! Identity is (package name, version). For a name present on both sides, the versions only the
//! base has and the versions only the head has are paired in ascending order (one old copy
//! replaced by one new copy is an upgrade or a downgrade); what is left over is an added or a
//! removed copy. A version present on both sides with another source is a source change. A change
//! is direct when a manifest of the side that has the version declares the package and resolves
//! to that version; otherwise it is transitive and `via` names the nearest direct dependencies
//! that reach it (walking the lock file's edges backwards).
//!
//! Without a lock file on either side the versions are the manifests' requirements (`resolved:
//! false`): `^3.22.0 → ^4.0.0` is a major change judged by the requirements' lower bounds.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::model::{printable, DepKind, Ecosystem, Lock, Source};
use super::project::Read;
use super::semver::{self, Version};
use super::{BuildChange, BuildChangeKind, Change, ChangeKind, DirectUse, Location};

/// A direct use: manifest index, dependency index, the locked package it resolves to.
type Use = (usize, usize, Option<u32>);

/// One side of a project, indexed for the diff.
struct View<'a> {
    read: Option<&'a Read>,
    /// Versions come from the lock file (else from the manifests' requirements).
    resolved: bool,
    /// name → version → locked package indices (non-local packages; empty indices without a lock).
    versions: BTreeMap<&'a str, BTreeMap<&'a str, Vec<u32>>>,
    /// package name → direct uses (manifest index, dependency index, resolved package).
    direct: BTreeMap<&'a str, Vec<Use>>,
    /// resolved package → the keys it is a direct dependency under, and whether only as dev.
    roots: BTreeMap<u32, (BTreeSet<&'a str>, bool)>,
    reverse: Vec<Vec<u32>>,
    /// Edges the `via` walks may still visit on this side (a lock file of a hundred thousand
    /// packages, all changed, must not cost minutes).
    budget: std::cell::Cell<u64>,
}

/// Edge visits of all `via` walks of one side of one project.
const VIA_BUDGET: u64 = 50_000_000;

impl<'a> View<'a> {
    fn new(read: Option<&'a Read>, use_lock: bool) -> View<'a> {
        let mut v = View {
            read,
            resolved: use_lock,
            versions: BTreeMap::new(),
            direct: BTreeMap::new(),
            roots: BTreeMap::new(),
            reverse: Vec::new(),
            budget: std::cell::Cell::new(VIA_BUDGET),
        };
        let Some(r) = read else { return v };
        let lock = r.lock.as_ref().filter(|_| use_lock);
        if let Some(l) = lock {
            for (i, p) in l.packages.iter().enumerate() {
                if p.local {
                    continue;
                }
                v.versions
                    .entry(&p.name)
                    .or_default()
                    .entry(&p.version)
                    .or_default()
                    .push(i as u32);
            }
            v.reverse = vec![Vec::new(); l.packages.len()];
            for (i, p) in l.packages.iter().enumerate() {
                for &d in &p.deps {
                    if let Some(r) = v.reverse.get_mut(d as usize) {
                        r.push(i as u32);
                    }
                }
            }
        }
        for (mi, m) in r.manifests.iter().enumerate() {
            let importer = match (lock, &r.lock) {
                (Some(l), _) if l.kind.ecosystem() == Ecosystem::Cargo => {
                    m.name.clone().unwrap_or_default()
                }
                _ => importer_dir(&m.path),
            };
            for (di, d) in m.deps.iter().enumerate() {
                if d.local {
                    continue;
                }
                let node = lock.and_then(|l| {
                    let key = if l.kind.ecosystem() == Ecosystem::Cargo {
                        &d.package
                    } else {
                        &d.key
                    };
                    l.direct(&importer, key, &d.package, &d.requirement)
                        .filter(|&n| !l.packages[n as usize].local)
                });
                if lock.is_none() {
                    v.versions
                        .entry(&d.package)
                        .or_default()
                        .entry(&d.requirement)
                        .or_default();
                }
                v.direct.entry(&d.package).or_default().push((mi, di, node));
                if let Some(n) = node {
                    let e = v.roots.entry(n).or_insert_with(|| (BTreeSet::new(), true));
                    e.0.insert(&d.key);
                    e.1 &= d.kind == DepKind::Dev;
                }
            }
        }
        v
    }

    fn lock(&self) -> Option<&'a Lock> {
        self.read.and_then(|r| r.lock.as_ref())
    }

    /// The first locked package of `name` at `version`.
    fn node(&self, name: &str, version: &str) -> Option<u32> {
        self.versions.get(name)?.get(version)?.first().copied()
    }

    fn source(&self, name: &str, version: &str) -> Source {
        match (self.lock(), self.node(name, version)) {
            (Some(l), Some(n)) => l.packages[n as usize].source.clone(),
            _ => Source::DEFAULT,
        }
    }

    fn install_script(&self, name: &str, version: &str) -> Option<bool> {
        let l = self.lock()?;
        let nodes = self.versions.get(name)?.get(version)?;
        let mut known = false;
        for &n in nodes {
            match l.packages[n as usize].install_script {
                Some(true) => return Some(true),
                Some(false) => known = true,
                None => {}
            }
        }
        known.then_some(false)
    }

    /// The direct uses of `name` that resolve to `version` (or, without a lock, require it).
    fn uses(&self, name: &str, version: &str) -> Vec<(usize, usize)> {
        let Some(list) = self.direct.get(name) else {
            return Vec::new();
        };
        let Some(r) = self.read else {
            return Vec::new();
        };
        let lock = self.lock().filter(|_| self.resolved);
        // A direct dependency the lock file does not resolve is taken to use the only version
        // the lock file has of the package.
        let only = self.versions.get(name).is_some_and(|v| v.len() == 1);
        list.iter()
            .filter(|(mi, di, node)| match (lock, node) {
                (Some(l), Some(n)) => l.packages[*n as usize].version == version,
                (Some(_), None) => only,
                (None, _) => r.manifests[*mi].deps[*di].requirement == version,
            })
            .map(|(mi, di, _)| (*mi, *di))
            .collect()
    }

    /// The nearest direct dependencies that reach `name@version`, and whether all of them are
    /// dev-only (nothing once the side's walk budget is spent).
    fn via(&self, name: &str, version: &str) -> (Vec<String>, bool) {
        if self.budget.get() == 0 {
            return (Vec::new(), false);
        }
        let Some(start) = self.versions.get(name).and_then(|v| v.get(version)) else {
            return (Vec::new(), false);
        };
        let mut seen = vec![false; self.reverse.len()];
        let mut queue: VecDeque<u32> = VecDeque::new();
        for &s in start {
            if let Some(x) = seen.get_mut(s as usize) {
                *x = true;
                queue.push_back(s);
            }
        }
        let mut names = BTreeSet::new();
        let mut all_dev = true;
        let mut any = false;
        while let Some(n) = queue.pop_front() {
            for &p in self
                .reverse
                .get(n as usize)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                let left = self.budget.get().saturating_sub(1);
                self.budget.set(left);
                if left == 0 {
                    return (Vec::new(), false);
                }
                if std::mem::replace(&mut seen[p as usize], true) {
                    continue;
                }
                if let Some((keys, dev)) = self.roots.get(&p) {
                    names.extend(keys.iter().map(|k| k.to_string()));
                    all_dev &= *dev;
                    any = true;
                } else {
                    queue.push_back(p);
                }
            }
        }
        (names.into_iter().collect(), any && all_dev)
    }
}

/// The directory of a manifest relative to its lock file's (`""` for the lock's own).
fn importer_dir(manifest: &str) -> String {
    manifest
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

/// Order versions: semver when both parse, else text.
fn cmp_versions(a: &str, b: &str, resolved: bool) -> std::cmp::Ordering {
    let parse = |s: &str| {
        if resolved {
            Version::parse(s)
        } else {
            semver::lower_bound(s)
        }
    };
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

/// The changes of one project. `root`: the project's directory, relative to which importer
/// directories are taken; `lockfile`: its path (head's, else base's).
pub fn project(
    ecosystem: Ecosystem,
    root: &str,
    lockfile: Option<&str>,
    base: Option<&Read>,
    head: Option<&Read>,
) -> Vec<Change> {
    let has_lock = |r: Option<&Read>| r.is_some_and(|r| r.lock.is_some());
    // Manifest requirements are compared only when neither side has a lock file.
    let resolved = has_lock(base) || has_lock(head);
    let rebase = |r: Option<&Read>| -> Option<Read> {
        r.map(|r| {
            let mut r = r.clone();
            for m in &mut r.manifests {
                // Importer directories are relative to the project root.
                let rel = m
                    .path
                    .strip_prefix(root)
                    .map(|p| p.trim_start_matches('/'))
                    .unwrap_or(&m.path);
                m.path = rel.to_string();
            }
            r
        })
    };
    let (base_r, head_r) = (rebase(base), rebase(head));
    let b = View::new(base_r.as_ref(), resolved);
    let h = View::new(head_r.as_ref(), resolved);
    let names: BTreeSet<&str> = b
        .versions
        .keys()
        .chain(h.versions.keys())
        .copied()
        .collect();
    let mut out = Vec::new();
    for name in names {
        let empty = BTreeMap::new();
        let bv = b.versions.get(name).unwrap_or(&empty);
        let hv = h.versions.get(name).unwrap_or(&empty);
        let mut removed: Vec<&str> = bv
            .keys()
            .filter(|v| !hv.contains_key(*v))
            .copied()
            .collect();
        let mut added: Vec<&str> = hv
            .keys()
            .filter(|v| !bv.contains_key(*v))
            .copied()
            .collect();
        removed.sort_by(|x, y| cmp_versions(x, y, resolved));
        added.sort_by(|x, y| cmp_versions(x, y, resolved));
        // Paired from the lowest up; what is left (the highest removed or added versions) stands
        // alone.
        let pairs = removed.len().min(added.len());
        let (paired_from, lone_removed) = removed.split_at(pairs);
        let (paired_to, lone_added) = added.split_at(pairs);
        for (from, to) in paired_from.iter().zip(paired_to) {
            out.push(change(
                ecosystem,
                name,
                Some(from),
                Some(to),
                resolved,
                &b,
                &h,
            ));
        }
        for from in lone_removed {
            out.push(change(ecosystem, name, Some(from), None, resolved, &b, &h));
        }
        for to in lone_added {
            out.push(change(ecosystem, name, None, Some(to), resolved, &b, &h));
        }
        // The same version, another source; or a new install script.
        if resolved {
            for v in bv.keys().filter(|v| hv.contains_key(*v)) {
                let (bs, hs) = (b.source(name, v), h.source(name, v));
                let new_script = h.install_script(name, v) == Some(true)
                    && b.install_script(name, v) == Some(false);
                if bs != hs || new_script {
                    out.push(change(ecosystem, name, Some(v), Some(v), resolved, &b, &h));
                }
            }
        }
    }
    for c in &mut out {
        c.project = root.to_string();
        if let (Some(path), Some(read)) = (lockfile, if c.to.is_some() { head } else { base }) {
            let version = c.to.as_deref().or(c.from.as_deref()).unwrap_or("");
            let view = if c.to.is_some() { &h } else { &b };
            let mut line = view
                .node(&c.name, version)
                .and_then(|n| read.lock.as_ref().map(|l| l.packages[n as usize].line))
                .unwrap_or(0);
            if line == 0 {
                if let Some(text) = &read.lock_text {
                    line = match ecosystem {
                        Ecosystem::Npm => super::npm::locate(text, &c.name, version),
                        Ecosystem::Cargo => super::cargo::locate(text, &c.name, version),
                    };
                }
            }
            if resolved {
                c.lockfile = Some(Location {
                    path: path.to_string(),
                    line,
                });
            }
        }
        // Manifest paths back to repository-relative.
        for d in &mut c.direct {
            if !root.is_empty() {
                d.manifest = format!("{root}/{}", d.manifest);
            }
        }
    }
    out
}

/// One change of `name` from `from` to `to` (either may be absent; equal for a source or
/// install-script change).
fn change(
    ecosystem: Ecosystem,
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
    resolved: bool,
    b: &View,
    h: &View,
) -> Change {
    let (fv, tv) = (
        from.and_then(|f| parse(f, resolved)),
        to.and_then(|t| parse(t, resolved)),
    );
    let kind = match (from, to) {
        (None, _) => ChangeKind::Added,
        (_, None) => ChangeKind::Removed,
        (Some(f), Some(t)) if f == t => ChangeKind::SourceChanged,
        _ => match (&fv, &tv) {
            (Some(x), Some(y)) if y > x => ChangeKind::Upgraded,
            (Some(x), Some(y)) if y < x => ChangeKind::Downgraded,
            _ => ChangeKind::Changed,
        },
    };
    let semver = match (&fv, &tv) {
        (Some(x), Some(y)) => semver::kind(x, y),
        _ => None,
    };
    let breaking = match (&fv, &tv) {
        (Some(x), Some(y)) if kind != ChangeKind::SourceChanged => semver::breaking(x, y),
        _ => false,
    };
    // The side that has the version this change is about.
    let (view, version) = match to {
        Some(t) => (h, t),
        None => (b, from.unwrap_or("")),
    };
    let uses = view.uses(name, version);
    let read = view.read;
    let mut direct: Vec<DirectUse> = uses
        .iter()
        .filter_map(|&(mi, di)| {
            let m = &read?.manifests[mi];
            let d = &m.deps[di];
            // The requirement the other side wrote for the same key in the same manifest.
            let other = if to.is_some() { b } else { h };
            let previous = other.read.and_then(|r| {
                r.manifests
                    .iter()
                    .find(|x| x.path == m.path)
                    .and_then(|x| x.deps.iter().find(|y| y.key == d.key && y.kind == d.kind))
                    .map(|y| y.requirement.clone())
            });
            Some(DirectUse {
                manifest: m.path.clone(),
                line: d.line,
                kind: d.kind,
                key: d.key.clone(),
                requirement: d.requirement.clone(),
                previous_requirement: previous.filter(|p| *p != d.requirement),
            })
        })
        .collect();
    direct.sort_by(|a, b| (&a.manifest, a.kind, &a.key).cmp(&(&b.manifest, b.kind, &b.key)));
    let (via, via_dev) = if direct.is_empty() && resolved {
        view.via(name, version)
    } else {
        (Vec::new(), false)
    };
    let dev_only = if direct.is_empty() {
        via_dev
    } else {
        direct.iter().all(|d| d.kind == DepKind::Dev)
    };
    let source = if resolved {
        view.source(name, version)
    } else {
        requirement_source(ecosystem, version)
    };
    let previous_source = match (from, to) {
        (Some(f), Some(_)) => {
            let s = if resolved {
                b.source(name, f)
            } else {
                requirement_source(ecosystem, f)
            };
            (s != source).then_some(s)
        }
        _ => None,
    };
    let install_script = to.and_then(|t| h.install_script(name, t));
    let new_install_script = match (from, to) {
        (_, None) => false,
        (None, Some(_)) => install_script == Some(true),
        (Some(f), Some(_)) => {
            install_script == Some(true) && b.install_script(name, f) == Some(false)
        }
    };
    for d in &mut direct {
        d.key = printable(&d.key);
        d.requirement = printable(&d.requirement);
        d.previous_requirement = d.previous_requirement.as_deref().map(printable);
    }
    Change {
        ecosystem,
        project: String::new(),
        name: printable(name),
        kind,
        from: from.map(printable),
        to: to.map(printable),
        semver: if kind == ChangeKind::SourceChanged {
            None
        } else {
            semver
        },
        breaking,
        resolved,
        direct,
        via: via.iter().map(|v| printable(v)).collect(),
        dev_only,
        source: source.printable(),
        previous_source: previous_source.map(|s| s.printable()),
        install_script,
        new_install_script,
        lockfile: None,
        importers: Vec::new(),
        test_importers: 0,
        type_only_importers: Vec::new(),
        advisories: Vec::new(),
    }
}

/// The source a manifest requirement names (without a lock file): npm's `github:o/r`, `o/r`,
/// `git+https://…`, tarball URLs; Cargo's `git …` (as [`super::cargo`] writes it).
fn requirement_source(ecosystem: Ecosystem, requirement: &str) -> Source {
    let r = requirement.trim();
    match ecosystem {
        Ecosystem::Cargo => match r.strip_prefix("git ") {
            Some(g) => {
                let (url, rev) = match g.split_once('#') {
                    Some((u, x)) => (u, Some(x.to_string())),
                    None => (g, None),
                };
                Source::Git {
                    url: url.to_string(),
                    rev,
                }
            }
            None => Source::DEFAULT,
        },
        Ecosystem::Npm => {
            if r.contains("://") || r.starts_with("git") || r.starts_with("github:") {
                super::model::url_source(r)
            } else if r.contains('/') && !r.starts_with('@') && !r.contains(' ') {
                // `owner/repo`: a GitHub shorthand.
                Source::Git {
                    url: format!("https://github.com/{}", r.split('#').next().unwrap_or(r)),
                    rev: r.split_once('#').map(|x| x.1.to_string()),
                }
            } else {
                Source::DEFAULT
            }
        }
    }
}

fn parse(v: &str, resolved: bool) -> Option<Version> {
    if resolved {
        Version::parse(v)
    } else {
        semver::lower_bound(v)
    }
}

/// Workspace crates that gained a build script or became procedural macros.
pub fn build_changes(base: Option<&Read>, head: &Read) -> Vec<BuildChange> {
    let mut out = Vec::new();
    for m in &head.manifests {
        let Some(name) = &m.name else { continue };
        let before = base.and_then(|b| {
            b.manifests
                .iter()
                .find(|x| x.path == m.path)
                .or_else(|| b.manifests.iter().find(|x| x.name.as_ref() == Some(name)))
        });
        if let Some(script) = &m.build_script {
            if before.is_none_or(|b| b.build_script.is_none()) {
                out.push(BuildChange {
                    kind: BuildChangeKind::BuildScript,
                    package: name.clone(),
                    manifest: m.path.clone(),
                    path: Some(script.clone()),
                    new_package: before.is_none(),
                });
            }
        }
        if m.proc_macro && before.is_none_or(|b| !b.proc_macro) {
            out.push(BuildChange {
                kind: BuildChangeKind::ProcMacro,
                package: name.clone(),
                manifest: m.path.clone(),
                path: None,
                new_package: before.is_none(),
            });
        }
    }
    out
}
