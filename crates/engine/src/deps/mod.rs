/*!
Dependency changes: what a pull request does to the packages the repository installs.

A dependency bump changes one or two lines of a manifest and many of a lock file, and no source
file: the import graph alone cannot see what it brings in. This stage reads the manifests and lock
files of the base and the head snapshot (through the git layer, nothing is checked out), diffs
them, and says per package:

- what changed: [`ChangeKind`] added, removed, upgraded, downgraded, changed (versions without an
  order, such as git commits) or source-changed (same version, another source), with the
  [`semver::SemverKind`] of the move and whether it leaves the caret range;
- who asked for it: the manifests that declare it ([`DirectUse`], with the line), or for a
  transitive package the direct dependencies that pull it in (`via`), and whether it is dev-only;
- where its code comes from ([`model::Source`]: registry, git, URL, path), and whether that moved;
- whether it runs code at install time (`hasInstallScript` of npm, `requiresBuild` of pnpm 5–8; see
  [`cargo`] for what a `Cargo.lock` cannot say), and which workspace crates gained a `build.rs` or
  became procedural macros ([`BuildChange`]);
- which files of the head graph import it (filled in by the pipeline, [`Dependencies::attach_importers`]);
- its known vulnerabilities (filled in by the pipeline through [`advisories::Advisories`]).

Formats: `package.json`; `package-lock.json`/`npm-shrinkwrap.json` v2 and v3 ([`npm`]);
`pnpm-lock.yaml` 5.x, 6.x and 9.x ([`pnpm`]); `yarn.lock` of Yarn 1 and berry ([`yarn`]);
`Cargo.toml` and `Cargo.lock` ([`cargo`]). Which files form a project is in [`project`]; the diff
is in [`diff`]. A file that cannot be read becomes a [`Problem`] (a coded note in the report) and
the rest is still read: a parser never panics.

Entry points for the security and impact dimensions: [`Change::advisories`] (with
`introduced`), [`Change::new_install_script`], [`Change::previous_source`] / [`Change::source`]
(a new git or URL source), [`ChangeKind::Downgraded`], [`Dependencies::build_changes`],
[`Change::importers`] and [`DirectUse::line`] (the manifest line a finding can point at).
*/

pub mod advisories;
pub mod cargo;
pub mod diff;
pub mod lockyaml;
pub mod model;
pub mod npm;
pub mod pnpm;
pub mod project;
pub mod semver;
pub mod yarn;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::git::snapshot::Snapshot;
use crate::git::Repo;

pub use advisories::{
    Advisories, Advisory, AdvisoryCheck, AdvisoryMemo, AdvisoryMode, AdvisorySettings,
    PackageVersion, Severity,
};
pub use model::{DepKind, Ecosystem, Source};
pub use project::{parse_lock, Scope};

/// The report's `dependencies` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dependencies {
    /// The projects found (lock files and their workspaces), at head or, when gone, at base.
    pub projects: Vec<Project>,
    /// Every package change, direct ones first, then by project and name.
    pub changes: Vec<Change>,
    /// Workspace crates that gained a build script or became procedural macros.
    pub build_changes: Vec<BuildChange>,
    /// Whether and how known vulnerabilities were checked.
    pub advisories: AdvisoryCheck,
}

/// One project: a lock file and the manifests of its workspace.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub ecosystem: Ecosystem,
    /// The project's directory (`""` at the repository root).
    pub root: String,
    /// Its lock file (`null`: none, versions are the manifests' requirements).
    pub lockfile: Option<String>,
    /// The lock file's format and version, when it was read (`package-lock.json v3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    pub manifests: Vec<String>,
    /// Its files differ between base and head (only then are they read).
    pub changed: bool,
}

/// What happened to a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    /// Another version, in no known order (a git commit, a tag).
    Changed,
    /// The same version from another source (or the same version newly running an install
    /// script).
    SourceChanged,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::Changed => "changed",
            ChangeKind::SourceChanged => "source-changed",
        }
    }
}

/// One package change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub ecosystem: Ecosystem,
    /// The project's directory.
    pub project: String,
    pub name: String,
    pub kind: ChangeKind,
    /// The base version (`null` when added).
    pub from: Option<String>,
    /// The head version (`null` when removed).
    pub to: Option<String>,
    /// Which component moved (`null` when a version is not semver, or for a source change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semver: Option<semver::SemverKind>,
    /// The move leaves the caret range of the lower version (major, 0.x minor, pre-release).
    pub breaking: bool,
    /// Versions are resolved by a lock file (`false`: they are manifest requirements).
    pub resolved: bool,
    /// The manifests that declare it (empty: a transitive dependency).
    pub direct: Vec<DirectUse>,
    /// For a transitive dependency: the nearest direct dependencies that pull it in.
    pub via: Vec<String>,
    /// Only development dependencies use it (declared as dev, or reached only through them).
    pub dev_only: bool,
    /// Where the version this change is about comes from (head's; base's when removed).
    pub source: Source,
    /// The base's source, when it differs from `source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_source: Option<Source>,
    /// The head version runs an install script (`null`: the lock file does not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_script: Option<bool>,
    /// An install script the base did not run (a new package with one, or one that gained one).
    pub new_install_script: bool,
    /// The entry in the lock file (head's; base's when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockfile: Option<Location>,
    /// Files of the head graph that import it (direct dependencies only), sorted.
    pub importers: Vec<String>,
    /// How many of `importers` are test files.
    pub test_importers: usize,
    /// The `importers` that import only its types (`import type`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub type_only_importers: Vec<String>,
    /// Known vulnerabilities of the head version (most severe first).
    pub advisories: Vec<Advisory>,
}

impl Change {
    /// A direct dependency of some manifest.
    pub fn is_direct(&self) -> bool {
        !self.direct.is_empty()
    }

    /// The changed file a direct dependency's change belongs to, for the impact walk: the first
    /// declaring manifest the change set touches, else the lock file. `None` for a transitive or
    /// removed package (its importers, if any, do not import it by name).
    pub fn changed_file<'a>(&'a self, changed: &dyn Fn(&str) -> bool) -> Option<&'a str> {
        if !self.is_direct() || self.to.is_none() {
            return None;
        }
        self.direct
            .iter()
            .map(|d| d.manifest.as_str())
            .find(|m| changed(m))
            .or_else(|| {
                self.lockfile
                    .as_ref()
                    .map(|l| l.path.as_str())
                    .filter(|p| changed(p))
            })
    }
}

/// A manifest that declares a changed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectUse {
    pub manifest: String,
    /// 1-based line of the declaration (0: not found).
    pub line: u32,
    pub kind: DepKind,
    /// The name it is declared (and imported) under.
    pub key: String,
    /// The range or requirement.
    pub requirement: String,
    /// The other side's requirement in the same manifest, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_requirement: Option<String>,
}

/// A place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    /// 1-based (0: not found).
    pub line: u32,
}

/// Build-time code a workspace crate gained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildChange {
    pub kind: BuildChangeKind,
    pub package: String,
    pub manifest: String,
    /// The build script.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The crate itself is new.
    pub new_package: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildChangeKind {
    /// A `build.rs` (or `package.build`) the base did not have.
    BuildScript,
    /// `[lib] proc-macro = true`, new.
    ProcMacro,
}

/// A file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    /// `base` or `head`.
    pub side: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}; its dependency changes are not reported",
            self.path, self.side, self.message
        )
    }
}

/// Read and diff the dependencies of `base` and `head`.
pub fn collect(
    repo: &Repo,
    base: &Snapshot,
    head: &Snapshot,
    scope: &Scope,
) -> (Dependencies, Vec<Problem>) {
    let bp = project::discover(repo, base, scope);
    let hp = project::discover(repo, head, scope);
    let key = |p: &project::ProjectFiles| (p.ecosystem, p.root.clone());
    let base_by: BTreeMap<_, _> = bp.iter().map(|p| (key(p), p)).collect();
    let head_by: BTreeMap<_, _> = hp.iter().map(|p| (key(p), p)).collect();
    let keys: BTreeSet<_> = base_by.keys().chain(head_by.keys()).cloned().collect();
    let mut out = Dependencies::default();
    let mut problems = Vec::new();
    for k in keys {
        let (b, h) = (base_by.get(&k).copied(), head_by.get(&k).copied());
        let changed = b.map(|p| &p.fingerprint) != h.map(|p| &p.fingerprint);
        let shown = h.or(b).expect("a project from one of the sides");
        let mut info = Project {
            ecosystem: shown.ecosystem,
            root: shown.root.clone(),
            lockfile: shown.lockfile.clone(),
            format: None,
            manifests: shown.manifests.clone(),
            changed,
        };
        if changed {
            let br = b.map(|p| project::read(repo, base, p, "base", &mut problems));
            let hr = h.map(|p| project::read(repo, head, p, "head", &mut problems));
            info.format = hr
                .as_ref()
                .or(br.as_ref())
                .and_then(|r| r.lock.as_ref())
                .map(|l| l.format());
            let lockfile = h
                .and_then(|p| p.lockfile.as_deref())
                .or(b.and_then(|p| p.lockfile.as_deref()));
            if [&br, &hr]
                .iter()
                .any(|r| r.as_ref().is_some_and(|r| r.unreadable))
            {
                out.projects.push(info);
                continue;
            }
            out.changes.extend(diff::project(
                shown.ecosystem,
                &shown.root,
                lockfile,
                br.as_ref(),
                hr.as_ref(),
            ));
            if let (Ecosystem::Cargo, Some(hr)) = (shown.ecosystem, &hr) {
                out.build_changes
                    .extend(diff::build_changes(br.as_ref(), hr));
            }
        }
        out.projects.push(info);
    }
    out.changes.sort_by(|a, b| {
        (
            !a.is_direct(),
            &a.project,
            a.ecosystem,
            &a.name,
            &a.from,
            &a.to,
        )
            .cmp(&(
                !b.is_direct(),
                &b.project,
                b.ecosystem,
                &b.name,
                &b.from,
                &b.to,
            ))
    });
    (out, problems)
}

impl Dependencies {
    /// Whether there is anything to show.
    pub fn is_quiet(&self) -> bool {
        self.changes.is_empty() && self.build_changes.is_empty()
    }

    /// Fill [`Change::importers`]: `externals` are the head graph's imports of packages outside
    /// the repository, as (importing file, specifier, type-only). A file whose every import of
    /// the package is type-only is also in [`Change::type_only_importers`]. A JavaScript/TypeScript specifier names
    /// its package (`zod/v4` → `zod`); a Rust path names a crate by its first segment
    /// (`serde_json::Value` → `serde_json`, the dependency key with `-` as `_`). A file counts
    /// for the project whose directory holds it (the deepest one).
    pub fn attach_importers<'a>(
        &mut self,
        externals: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
        is_test: &dyn Fn(&str) -> bool,
    ) {
        let roots: Vec<(Ecosystem, &str)> = self
            .projects
            .iter()
            .map(|p| (p.ecosystem, p.root.as_str()))
            .collect();
        // (ecosystem, project, package) → importing file → every import of it is type-only.
        let mut by: BTreeMap<(Ecosystem, &str, String), BTreeMap<&'a str, bool>> = BTreeMap::new();
        for (file, spec, type_only) in externals {
            let eco = if file.ends_with(".rs") {
                Ecosystem::Cargo
            } else {
                Ecosystem::Npm
            };
            let Some(root) = roots
                .iter()
                .filter(|(e, r)| *e == eco && project::under(file, r))
                .map(|(_, r)| *r)
                .max_by_key(|r| r.len())
            else {
                continue;
            };
            let name = match eco {
                Ecosystem::Npm => crate::resolve::package_name(spec).to_string(),
                Ecosystem::Cargo => spec
                    .trim_start_matches("::")
                    .split("::")
                    .next()
                    .unwrap_or("")
                    .to_string(),
            };
            let all_types = by
                .entry((eco, root, name))
                .or_default()
                .entry(file)
                .or_insert(true);
            *all_types &= type_only;
        }
        for c in &mut self.changes {
            if c.direct.is_empty() || c.to.is_none() {
                continue;
            }
            let mut files: BTreeMap<&str, bool> = BTreeMap::new();
            let keys: BTreeSet<String> = c
                .direct
                .iter()
                .map(|d| match c.ecosystem {
                    Ecosystem::Npm => d.key.clone(),
                    Ecosystem::Cargo => d.key.replace('-', "_"),
                })
                .collect();
            for k in keys {
                if let Some(f) = by.get(&(c.ecosystem, c.project.as_str(), k)) {
                    for (file, types) in f {
                        *files.entry(file).or_insert(true) &= *types;
                    }
                }
            }
            c.importers = files.keys().map(|f| f.to_string()).collect();
            c.test_importers = files.keys().filter(|f| is_test(f)).count();
            c.type_only_importers = files
                .iter()
                .filter(|(_, types)| **types)
                .map(|(f, _)| f.to_string())
                .collect();
        }
    }
}
