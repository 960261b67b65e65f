//! What every lock-file and manifest reader produces: locked packages with their sources and
//! edges, the manifests' direct dependencies, and how a direct dependency finds its locked package.
//!
//! One shape for all formats, so the diff, the "pulled in by" walk and the advisory queries never
//! look at a format again.

use std::collections::HashMap;

use serde::Serialize;

/// A package ecosystem (named as OSV names it in [`Ecosystem::osv_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ecosystem {
    /// npm packages (package-lock.json, pnpm, Yarn).
    Npm,
    /// Rust crates (Cargo).
    Cargo,
}

impl Ecosystem {
    /// The ecosystem's name in OSV queries.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "crates.io",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "cargo",
        }
    }
}

/// Where a package's code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A package registry. `registry` is `None` for the ecosystem's public one (registry.npmjs.org
    /// or its Yarn mirror; crates.io, git or sparse index), else the registry's URL.
    Registry {
        #[serde(skip_serializing_if = "Option::is_none")]
        registry: Option<String>,
    },
    /// A git repository, at a commit when the lock file names one.
    Git {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        rev: Option<String>,
    },
    /// A tarball downloaded from a URL that is not a registry's.
    Url { url: String },
    /// A directory (a `file:`/`link:`/`path` dependency).
    Path { path: String },
}

impl Source {
    /// The public registry of the ecosystem.
    pub const DEFAULT: Source = Source::Registry { registry: None };

    /// `registry`, `git`, `url` or `path`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Registry { .. } => "registry",
            Source::Git { .. } => "git",
            Source::Url { .. } => "url",
            Source::Path { .. } => "path",
        }
    }

    /// The ecosystem's public registry: the only packages an advisory database can be asked about
    /// by name and version (a private registry's names are never sent to a public service).
    pub fn is_public_registry(&self) -> bool {
        matches!(self, Source::Registry { registry: None })
    }

    /// One line for a human: `registry`, `git github.com/o/r#abc1234`, `url https://…`, `path ../x`.
    pub fn describe(&self) -> String {
        match self {
            Source::Registry { registry: None } => "registry".into(),
            Source::Registry { registry: Some(r) } => format!("registry {r}"),
            Source::Git { url, rev: Some(r) } => {
                format!("git {url}#{}", &r[..r.len().min(12)])
            }
            Source::Git { url, rev: None } => format!("git {url}"),
            Source::Url { url } => format!("url {url}"),
            Source::Path { path } => format!("path {path}"),
        }
    }
}

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockKind {
    /// `package-lock.json` / `npm-shrinkwrap.json`, lockfileVersion 2 or 3.
    PackageLock,
    /// `pnpm-lock.yaml`, lockfileVersion 5.x, 6.x or 9.x.
    Pnpm,
    /// `yarn.lock` of Yarn 1.
    YarnClassic,
    /// `yarn.lock` of Yarn 2+ (berry).
    YarnBerry,
    /// `Cargo.lock`.
    Cargo,
}

impl LockKind {
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            LockKind::Cargo => Ecosystem::Cargo,
            _ => Ecosystem::Npm,
        }
    }
}

/// How a manifest declares a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepKind {
    /// `dependencies` (npm) / `[dependencies]` (Cargo).
    Prod,
    /// `devDependencies` / `[dev-dependencies]`.
    Dev,
    /// `optionalDependencies`.
    Optional,
    /// `peerDependencies`.
    Peer,
    /// `[build-dependencies]`: compiled and run at build time.
    Build,
}

/// One locked package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub name: String,
    pub version: String,
    pub source: Source,
    /// Runs code when installed (`hasInstallScript` of npm, `requiresBuild` of pnpm 5–8); `None`
    /// when the format does not say (pnpm 9, Yarn, Cargo).
    pub install_script: Option<bool>,
    /// Part of the repository (a workspace package, a linked directory): not a dependency change.
    pub local: bool,
    /// The packages it depends on (indices into [`Lock::packages`]).
    pub deps: Vec<u32>,
    /// 1-based line of its entry in the lock file (0: unknown).
    pub line: u32,
}

impl Locked {
    pub fn new(name: impl Into<String>, version: impl Into<String>, source: Source) -> Locked {
        Locked {
            name: name.into(),
            version: version.into(),
            source,
            install_script: None,
            local: false,
            deps: Vec::new(),
            line: 0,
        }
    }
}

/// A parsed lock file.
#[derive(Debug, Clone)]
pub struct Lock {
    pub kind: LockKind,
    /// The format version as the file writes it (`3`, `9.0`, `1`, `8`, `4`).
    pub version: String,
    pub packages: Vec<Locked>,
    pub(crate) index: LockIndex,
    /// Package name → its non-local packages (built on first use).
    by_name: std::sync::OnceLock<HashMap<String, Vec<u32>>>,
}

/// How a direct dependency finds its locked package, per format.
#[derive(Debug, Clone, Default)]
pub(crate) enum LockIndex {
    #[default]
    None,
    /// npm: install paths (`node_modules/a`, `packages/x/node_modules/b`) → package; Node's lookup
    /// from the importer's directory upwards.
    Npm { paths: HashMap<String, u32> },
    /// pnpm, Yarn berry workspaces, Cargo: importer directory (pnpm, berry) or local package name
    /// (Cargo) → dependency key → package.
    Importers {
        importers: HashMap<String, HashMap<String, u32>>,
    },
    /// Yarn: descriptors (`name@range`, berry's `name@npm:range`) → package.
    Descriptors {
        descriptors: HashMap<String, u32>,
        importers: HashMap<String, HashMap<String, u32>>,
        berry: bool,
    },
}

impl Lock {
    pub(crate) fn new(kind: LockKind, version: impl Into<String>) -> Lock {
        Lock {
            kind,
            version: version.into(),
            packages: Vec::new(),
            index: LockIndex::None,
            by_name: std::sync::OnceLock::new(),
        }
    }

    /// `package-lock.json v3`, `pnpm-lock.yaml v9.0`, `yarn.lock v1`, `yarn.lock berry v8`,
    /// `Cargo.lock v4`.
    pub fn format(&self) -> String {
        match self.kind {
            LockKind::PackageLock => format!("package-lock.json v{}", self.version),
            LockKind::Pnpm => format!("pnpm-lock.yaml v{}", self.version),
            LockKind::YarnClassic => format!("yarn.lock v{}", self.version),
            LockKind::YarnBerry => format!("yarn.lock berry v{}", self.version),
            LockKind::Cargo => format!("Cargo.lock v{}", self.version),
        }
    }

    /// The locked package a direct dependency of the importer at `importer` (a directory relative
    /// to the lock file's, `""` for its own; for Cargo the local package's name) resolves to:
    /// `key` is the name it is declared under, `package` the package it names, `requirement` the
    /// manifest's range. Falls back to the only locked version of `package` when the format's own
    /// lookup finds nothing.
    pub fn direct(
        &self,
        importer: &str,
        key: &str,
        package: &str,
        requirement: &str,
    ) -> Option<u32> {
        let found = match &self.index {
            LockIndex::None => None,
            LockIndex::Npm { paths } => npm_lookup(paths, importer, key),
            LockIndex::Importers { importers } => {
                let dir = if importer.is_empty() { "." } else { importer };
                importers
                    .get(dir)
                    .or_else(|| importers.get(importer))
                    .and_then(|m| m.get(key))
                    .copied()
            }
            LockIndex::Descriptors {
                descriptors,
                importers,
                berry,
            } => {
                let range = if *berry {
                    berry_range(requirement)
                } else {
                    requirement.to_string()
                };
                descriptors
                    .get(&format!("{key}@{range}"))
                    .copied()
                    .or_else(|| {
                        let dir = if importer.is_empty() { "." } else { importer };
                        importers.get(dir).and_then(|m| m.get(key)).copied()
                    })
            }
        };
        found.or_else(|| {
            let names = self.by_name.get_or_init(|| {
                let mut m: HashMap<String, Vec<u32>> = HashMap::new();
                for (i, p) in self.packages.iter().enumerate() {
                    if !p.local {
                        m.entry(p.name.clone()).or_default().push(i as u32);
                    }
                }
                m
            });
            let list = names.get(package)?;
            let first = &self.packages[*list.first()? as usize];
            let same = list
                .iter()
                .all(|&i| self.packages[i as usize].version == first.version);
            same.then_some(list[0])
        })
    }
}

/// The longest install path looked up from (bytes).
pub(crate) const MAX_INSTALL_PATH: usize = 4096;

/// Node's lookup: `dir/node_modules/name`, then each ancestor directory's (skipping directories
/// that are themselves `node_modules`).
pub(crate) fn npm_lookup(paths: &HashMap<String, u32>, dir: &str, name: &str) -> Option<u32> {
    let mut d = dir.trim_end_matches('/');
    // Real install paths nest a handful of levels; a crafted one must not cost quadratic time.
    if d.len() > MAX_INSTALL_PATH {
        return None;
    }
    loop {
        let last = d.rsplit('/').next().unwrap_or("");
        if last != "node_modules" {
            let candidate = if d.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{d}/node_modules/{name}")
            };
            if let Some(&i) = paths.get(&candidate) {
                return Some(i);
            }
        }
        if d.is_empty() {
            return None;
        }
        d = match d.rfind('/') {
            Some(i) => &d[..i],
            None => "",
        };
    }
}

/// Yarn berry writes descriptors with a protocol: a bare range is an npm one.
pub(crate) fn berry_range(range: &str) -> String {
    if range.contains(':') {
        range.to_string()
    } else {
        format!("npm:{range}")
    }
}

/// A dependency a manifest declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectDep {
    /// The name it is declared (and imported) under.
    pub key: String,
    /// The package it names (an npm alias `npm:other@1`, Cargo's `package = "…"`; else the key).
    pub package: String,
    pub kind: DepKind,
    /// The range or requirement as written (`^3.22.0`, `1.0`, `git …`, `path …`).
    pub requirement: String,
    /// A path or workspace dependency: part of the repository, not a dependency change.
    pub local: bool,
    /// 1-based line in the manifest (0: not found).
    pub line: u32,
}

/// A manifest: `package.json` or `Cargo.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Repository-relative path.
    pub path: String,
    /// The package's name, when it has one.
    pub name: Option<String>,
    pub deps: Vec<DirectDep>,
    /// Cargo: the package has a build script (`build.rs`, or `package.build`).
    pub build_script: Option<String>,
    /// Cargo: the package's library is a procedural macro.
    pub proc_macro: bool,
}

impl Manifest {
    /// The manifest's directory (`""` at the root).
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }
}

/// Where a source path dependency points, for a [`Source::Path`]; tarball URLs of a registry (npm's
/// `…/-/name-1.0.0.tgz`) are the registry's.
pub(crate) fn url_source(url: &str) -> Source {
    let u = url.trim();
    if let Some(rest) = u.strip_prefix("file:") {
        return Source::Path {
            path: rest.to_string(),
        };
    }
    if u.starts_with("link:") || u.starts_with("portal:") {
        return Source::Path {
            path: u.split_once(':').map(|x| x.1).unwrap_or("").to_string(),
        };
    }
    if u.starts_with("git+")
        || u.starts_with("git://")
        || u.starts_with("git@")
        || u.starts_with("github:")
        || u.starts_with("gitlab:")
        || u.starts_with("bitbucket:")
        || u.ends_with(".git")
        || u.contains(".git#")
    {
        let (url, rev) = match u.split_once('#') {
            Some((a, b)) => (a, Some(b.trim_start_matches("commit=").to_string())),
            None => (u, None),
        };
        return Source::Git {
            url: url.trim_start_matches("git+").to_string(),
            rev: rev.filter(|r| !r.is_empty()),
        };
    }
    if let Some(rest) = u.strip_prefix("https://codeload.github.com/") {
        // codeload.github.com/<owner>/<repo>/tar.gz/<commit>
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() >= 4 {
            return Source::Git {
                url: format!("https://github.com/{}/{}", parts[0], parts[1]),
                rev: Some(parts[3].to_string()),
            };
        }
    }
    if u.starts_with("https://") || u.starts_with("http://") {
        let base = u.split('#').next().unwrap_or(u);
        if let Some(i) = base.find("/-/") {
            let host = registry_root(&base[..i]);
            return registry(host);
        }
        return Source::Url {
            url: base.to_string(),
        };
    }
    Source::Path {
        path: u.to_string(),
    }
}

/// `https://registry.npmjs.org/@scope/name` → `https://registry.npmjs.org`: the registry part of a
/// tarball URL (its scheme and host, plus any path prefix before the package name).
fn registry_root(before_dash: &str) -> &str {
    // The package name is the last one or two segments (`@scope/name`).
    let mut end = before_dash.rfind('/').unwrap_or(before_dash.len());
    if let Some(prev) = before_dash[..end].rfind('/') {
        if before_dash[prev + 1..end].starts_with('@') {
            end = prev;
        }
    }
    &before_dash[..end]
}

/// The public npm registry (and Yarn's mirror of it) is the default registry.
pub(crate) fn registry(url: &str) -> Source {
    let u = url.trim_end_matches('/');
    let host = u
        .split("://")
        .nth(1)
        .unwrap_or(u)
        .split('/')
        .next()
        .unwrap_or("");
    if matches!(
        host,
        "registry.npmjs.org" | "registry.yarnpkg.com" | "registry.npmjs.com"
    ) {
        Source::DEFAULT
    } else {
        Source::Registry {
            registry: Some(u.to_string()),
        }
    }
}

/// Text from a lock file or the network, with control characters (terminal escapes, line
/// breaks) replaced by U+FFFD: it is printed to terminals and comments.
pub fn printable(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect()
    } else {
        s.to_string()
    }
}

impl Source {
    /// [`printable`] applied to its text.
    pub fn printable(&self) -> Source {
        match self {
            Source::Registry { registry } => Source::Registry {
                registry: registry.as_deref().map(printable),
            },
            Source::Git { url, rev } => Source::Git {
                url: printable(url),
                rev: rev.as_deref().map(printable),
            },
            Source::Url { url } => Source::Url {
                url: printable(url),
            },
            Source::Path { path } => Source::Path {
                path: printable(path),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_from_urls() {
        assert_eq!(
            url_source("https://registry.npmjs.org/zod/-/zod-3.22.4.tgz"),
            Source::DEFAULT
        );
        assert_eq!(
            url_source("https://registry.yarnpkg.com/@babel/core/-/core-7.0.0.tgz#abc"),
            Source::DEFAULT
        );
        assert_eq!(
            url_source("https://npm.acme.internal/repo/@acme/x/-/x-1.0.0.tgz"),
            Source::Registry {
                registry: Some("https://npm.acme.internal/repo".into())
            }
        );
        assert_eq!(
            url_source("git+ssh://git@github.com/acme/lib.git#0123456789abcdef"),
            Source::Git {
                url: "ssh://git@github.com/acme/lib.git".into(),
                rev: Some("0123456789abcdef".into())
            }
        );
        assert_eq!(
            url_source("https://codeload.github.com/acme/lib/tar.gz/abc123"),
            Source::Git {
                url: "https://github.com/acme/lib".into(),
                rev: Some("abc123".into())
            }
        );
        assert_eq!(
            url_source("https://example.com/lib-1.0.0.tgz"),
            Source::Url {
                url: "https://example.com/lib-1.0.0.tgz".into()
            }
        );
        assert_eq!(
            url_source("file:../vendor/x"),
            Source::Path {
                path: "../vendor/x".into()
            }
        );
    }

    #[test]
    fn text_from_lock_files_is_made_printable() {
        assert_eq!(printable("zod"), "zod");
        assert_eq!(printable("x\u{1b}[2Jy\n"), "x\u{FFFD}[2Jy\u{FFFD}");
        let s = Source::Git {
            url: "https://e\u{7}vil".into(),
            rev: Some("a\rb".into()),
        };
        assert_eq!(
            s.printable(),
            Source::Git {
                url: "https://e\u{FFFD}vil".into(),
                rev: Some("a\u{FFFD}b".into())
            }
        );
    }

    #[test]
    fn node_lookup_walks_up() {
        let paths: HashMap<String, u32> = [
            ("node_modules/a".to_string(), 0),
            ("node_modules/a/node_modules/b".to_string(), 1),
            ("node_modules/b".to_string(), 2),
            ("packages/web/node_modules/a".to_string(), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(npm_lookup(&paths, "", "a"), Some(0));
        assert_eq!(npm_lookup(&paths, "node_modules/a", "b"), Some(1));
        assert_eq!(
            npm_lookup(&paths, "node_modules/a/node_modules/b", "a"),
            Some(0)
        );
        assert_eq!(npm_lookup(&paths, "packages/web", "a"), Some(3));
        assert_eq!(npm_lookup(&paths, "packages/web", "b"), Some(2));
        assert_eq!(npm_lookup(&paths, "packages/web", "c"), None);
    }
}
