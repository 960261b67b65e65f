//! TypeScript / JavaScript resolution, delegated to `oxc_resolver` (enhanced-resolve's rules with
//! tsconfig `paths`/`baseUrl`/`extends`, per-file tsconfig discovery, package `exports`, and
//! `.js` → `.ts` aliasing) over a [`SnapshotFs`].
//!
//! Two additions on top of the resolver's rules:
//! - workspace packages are linked under `/repo/node_modules/<name>`, so `@acme/ui` resolves
//!   through the package's own `exports`/`main`/`types` like a package manager would;
//! - when such an entry points at build output that is not in the repository (`dist/…`), the
//!   package's source is tried (`src/<subpath>`, then `<subpath>`), which is what the import
//!   means in a monorepo.
//!
//! Results are memoised: a relative specifier (`./x`, `../lib`) per (directory, specifier), since
//! every file of a directory sees the same relative paths and tsconfig `paths` never apply to
//! relative specifiers; a bare one (`react`, `@acme/ui`, `~/pages`) per (file, specifier), since
//! a tsconfig's `include`/`exclude` can give two files of one directory different `paths`. With
//! one resolver shared by both sides, the head side is mostly memo hits.
//!
//! A tsconfig that cannot be loaded (an `extends` into an uninstalled package) does not stop
//! resolution: the file is resolved again without tsconfig, and the problem is noted once.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use oxc_resolver::{ResolveError, ResolveOptions, ResolverGeneric, TsconfigDiscovery};

use super::vfs::{self, SnapshotFs};
use super::workspaces::Package;
use super::{is_relative, package_name, Target};

pub struct JsResolver {
    with_tsconfig: ResolverGeneric<SnapshotFs>,
    without_tsconfig: ResolverGeneric<SnapshotFs>,
    packages: BTreeMap<String, Package>,
    notes: Mutex<BTreeSet<String>>,
    /// `"<dir>\0<specifier>"` → target and the note its resolution made (a tsconfig that could
    /// not be loaded), sharded to keep parallel resolvers apart.
    memo: Vec<Mutex<FxHashMap<String, Memoized>>>,
    /// Entries were preloaded with notes of their own ([`JsResolver::preload`]): which entry
    /// made which note is not known.
    preloaded_notes: AtomicBool,
}

const MEMO_SHARDS: usize = 16;

/// What a memo key resolved to, and the note its resolution made.
type Memoized = (Target, Option<Arc<str>>);

/// A memo entry: key, target, and the note its resolution made.
pub type NotedEntry = (String, Target, Option<Arc<str>>);

fn options() -> ResolveOptions {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    ResolveOptions {
        extensions: s(&[
            ".ts", ".tsx", ".d.ts", ".mts", ".d.mts", ".cts", ".d.cts", ".js", ".jsx", ".mjs",
            ".cjs", ".json",
        ]),
        extension_alias: vec![
            (".js".into(), s(&[".ts", ".tsx", ".d.ts", ".js", ".jsx"])),
            (".jsx".into(), s(&[".tsx", ".jsx"])),
            (".mjs".into(), s(&[".mts", ".d.mts", ".mjs"])),
            (".cjs".into(), s(&[".cts", ".d.cts", ".cjs"])),
        ],
        condition_names: s(&["types", "import", "require", "node", "default"]),
        main_fields: s(&["source", "types", "typings", "module", "main"]),
        builtin_modules: true,
        symlinks: true,
        ..ResolveOptions::default()
    }
}

impl JsResolver {
    pub fn new(
        fs_with: SnapshotFs,
        fs_without: SnapshotFs,
        packages: BTreeMap<String, Package>,
    ) -> Self {
        let with = ResolveOptions {
            tsconfig: Some(TsconfigDiscovery::Auto),
            ..options()
        };
        JsResolver {
            with_tsconfig: ResolverGeneric::new_with_file_system(fs_with, with),
            without_tsconfig: ResolverGeneric::new_with_file_system(fs_without, options()),
            packages,
            notes: Mutex::new(BTreeSet::new()),
            memo: (0..MEMO_SHARDS).map(|_| Mutex::default()).collect(),
            preloaded_notes: AtomicBool::new(false),
        }
    }

    /// Links that expose workspace packages under the root `node_modules/`.
    pub fn workspace_links(packages: &BTreeMap<String, Package>) -> Vec<(PathBuf, PathBuf)> {
        packages
            .values()
            .map(|p| {
                (
                    vfs::to_virtual(&format!("node_modules/{}", p.name)),
                    vfs::to_virtual(&p.dir),
                )
            })
            .collect()
    }

    /// Workspace package name → real directory (virtual path).
    pub fn package_dirs(
        packages: &BTreeMap<String, Package>,
    ) -> std::collections::HashMap<String, PathBuf> {
        packages
            .values()
            .map(|p| (p.name.clone(), vfs::to_virtual(&p.dir)))
            .collect()
    }

    /// Problems met while resolving (tsconfig files that could not be loaded).
    pub fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Fill the memo with entries of an earlier run on a snapshot that resolves alike (see
    /// [`crate::cache::resolve`]), and restore that run's notes.
    pub fn preload(&self, entries: Vec<(String, Target)>, notes: Vec<String>) {
        for (key, target) in entries {
            let shard = &self.memo[FxBuildHasher.hash_one(&key) as usize % MEMO_SHARDS];
            if let Ok(mut m) = shard.lock() {
                m.insert(key, (target, None));
            }
        }
        if !notes.is_empty() {
            self.preloaded_notes.store(true, Ordering::Relaxed);
        }
        if let Ok(mut n) = self.notes.lock() {
            n.extend(notes);
        }
    }

    /// Fill the memo with entries that carry the note their resolution made (from
    /// [`JsResolver::noted_entries`] of a resolver over a snapshot that resolves these entries
    /// alike). A note joins [`JsResolver::notes`] when its entry is used, as if resolved here.
    pub fn preload_noted(&self, entries: Vec<NotedEntry>) {
        for (key, target, note) in entries {
            let shard = &self.memo[FxBuildHasher.hash_one(&key) as usize % MEMO_SHARDS];
            if let Ok(mut m) = shard.lock() {
                m.insert(key, (target, note));
            }
        }
    }

    /// Every memo entry (for saving).
    pub fn memo_entries(&self) -> Vec<(String, Target)> {
        let mut out = Vec::with_capacity(self.memo_len());
        for shard in &self.memo {
            if let Ok(m) = shard.lock() {
                out.extend(m.iter().map(|(k, (t, _))| (k.clone(), t.clone())));
            }
        }
        out
    }

    /// Every memo entry with the note its resolution made; None when entries were preloaded with
    /// notes of unknown origin.
    pub fn noted_entries(&self) -> Option<Vec<NotedEntry>> {
        if self.preloaded_notes.load(Ordering::Relaxed) {
            return None;
        }
        let mut out = Vec::with_capacity(self.memo_len());
        for shard in &self.memo {
            if let Ok(m) = shard.lock() {
                out.extend(
                    m.iter()
                        .map(|(k, (t, n))| (k.clone(), t.clone(), n.clone())),
                );
            }
        }
        Some(out)
    }

    pub fn memo_len(&self) -> usize {
        self.memo
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    /// Resolve `specifier` written in the repository file `from`.
    pub fn resolve(&self, from: &str, specifier: &str) -> Target {
        let scope = if is_relative(specifier) {
            from.rsplit_once('/').map_or("", |(d, _)| d)
        } else {
            from
        };
        let key = format!("{scope}\0{specifier}");
        let shard = &self.memo[FxBuildHasher.hash_one(&key) as usize % MEMO_SHARDS];
        if let Some((t, note)) = shard.lock().ok().and_then(|m| m.get(&key).cloned()) {
            if let Some(n) = note {
                self.note(&n);
            }
            return t;
        }
        let mut note = None;
        let target = self.resolve_uncached(from, specifier, &mut note);
        if let Some(n) = &note {
            self.note(n);
        }
        if let Ok(mut m) = shard.lock() {
            m.insert(key, (target.clone(), note));
        }
        target
    }

    fn note(&self, note: &str) {
        if let Ok(mut n) = self.notes.lock() {
            if !n.contains(note) {
                n.insert(note.to_string());
            }
        }
    }

    fn resolve_uncached(&self, from: &str, specifier: &str, note: &mut Option<Arc<str>>) -> Target {
        let abs = vfs::to_virtual(from);
        let result = match self.with_tsconfig.resolve_file(&abs, specifier) {
            Err(e) if is_tsconfig_error(&e) => {
                *note = Some(format!("tsconfig could not be loaded ({e}); files under it were resolved without tsconfig paths").into());
                self.without_tsconfig.resolve_file(&abs, specifier)
            }
            other => other,
        };
        match result {
            Ok(res) => match vfs::to_relative(res.path()) {
                Some(rel) if !rel.split('/').any(|c| c == "node_modules") => {
                    Target::File { path: rel }
                }
                _ => Target::External {
                    package: package_name(specifier).to_string(),
                },
            },
            Err(ResolveError::Builtin { resolved, .. }) => Target::Builtin {
                name: resolved.trim_start_matches("node:").to_string(),
            },
            Err(_) => self.fallback(specifier),
        }
    }

    /// A workspace package whose entry points at build output: try its source.
    fn fallback(&self, specifier: &str) -> Target {
        if is_relative(specifier) {
            return Target::Missing;
        }
        let name = package_name(specifier);
        let Some(pkg) = self.packages.get(name) else {
            return Target::External {
                package: name.to_string(),
            };
        };
        let sub = specifier[name.len()..].trim_start_matches('/');
        let dir = vfs::to_virtual(&pkg.dir);
        let candidates: Vec<String> = if sub.is_empty() {
            vec!["./src".into(), "./src/index".into(), "./index".into()]
        } else {
            vec![format!("./src/{sub}"), format!("./{sub}")]
        };
        for c in candidates {
            if let Ok(res) = self.without_tsconfig.resolve(&dir, &c) {
                if let Some(rel) = vfs::to_relative(res.path()) {
                    return Target::File { path: rel };
                }
            }
        }
        Target::Missing
    }
}

fn is_tsconfig_error(e: &ResolveError) -> bool {
    matches!(
        e,
        ResolveError::TsconfigNotFound(_)
            | ResolveError::TsconfigSelfReference(_)
            | ResolveError::TsconfigCircularExtend(_)
            | ResolveError::TsconfigLoadFailed { .. }
    )
}
