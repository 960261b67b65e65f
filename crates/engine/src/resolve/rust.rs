//! Rust resolution: crates from `Cargo.toml`, their module trees, and every `mod`, `use`, path
//! and `extern crate` mapped to the file that defines what it names.
//!
//! 1. **Crates.** Every target of every package ([`super::cargo`]) is a crate with a root file.
//!    Its extern prelude holds its dependencies under their code names (renames, `[lib] name`,
//!    `-` → `_`), its own package's library for binaries, tests, examples and benches, and
//!    `extern crate` aliases declared at its root.
//! 2. **Module trees.** From each root, `mod x;` is `x.rs` or `x/mod.rs` in the declaring module's
//!    directory: the root's or a `mod.rs` file's own directory, `a/` for a non-mod-rs `a.rs`, and
//!    `…/name/` inside an inline `mod name { … }` (or its `#[path]`). `#[path = "…"]` is relative to
//!    the declaring file's directory at the top level and to the inline module's directory inside
//!    one; a file loaded by `#[path]` owns its own directory. `#[cfg_attr(…, path = "…")]`
//!    alternatives are used when the plain file does not exist (all that exist are edges).
//!    Modules named in item-position macros (`cfg_rt! { mod rt; }`) count like any other.
//! 3. **Names.** A path resolves segment by segment: `crate`, `self`, `super`, a leading `::`
//!    (extern crates only), or a first name looked up in the module (child modules, `use`
//!    bindings, items, glob imports), then the extern prelude, then `std`/`core`/`alloc`/
//!    `proc_macro`/`test`. Each later segment is looked up in the module reached so far; the first
//!    segment that is not a module is an item, and the path resolves to the file of the module
//!    that holds it (`crate::a::b::Thing` → module `a::b`'s file; `a`'s when `b` is an item). A
//!    name that is a `use` binding (`pub use` re-exports, also through globs) is followed to its
//!    definition: the path depends on the re-exporting module's file and on the defining file.
//! 4. **Leftovers.** `.rs` files reachable from no crate root are resolved in the package they sit
//!    in, as the module their path implies (`src/a/b.rs` is `crate::a::b`), so `crate::` and
//!    `super::` still mean something; outside any package a file is its own crate root. `mod`
//!    declarations that name no file, and paths into crates that are not in the repository, are
//!    recorded as unresolved (missing, external or built-in), never dropped.

use std::collections::{BTreeMap, BTreeSet};

// Resolution hashes millions of short names: Fx is several times cheaper than SipHash, and the
// keys come from the repository being scored, not from an adversary with a table to flood.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use crate::git::Repo;
use rayon::prelude::*;

use super::cargo::{self, CargoModel, DepKind, DepSource, TargetKind};
use super::symbols::{Link, LinkTo, Linked, ModLoc};
use super::Target;
use crate::git::snapshot::Snapshot;
use crate::lang::rust::{RustFacts, UseBinding};
use crate::lang::symbols::{Ref, Symbols};
use crate::lang::{FileFacts, Import, ImportKind};
use crate::resolve::ResolvedImport;

const BUILTIN_CRATES: &[&str] = &["std", "core", "alloc", "proc_macro", "test"];
/// Bound on the lookups one path may take (glob and re-export chains).
const MAX_STEPS: usize = 4096;

type ModId = usize;
type CrateId = usize;

#[derive(Debug, Clone, PartialEq, Eq)]
enum ExternRef {
    Crate(CrateId),
    External(String),
    Builtin(String),
}

#[derive(Debug)]
struct Module {
    krate: CrateId,
    /// Its name in its parent (`""` for a crate root).
    name: String,
    file: String,
    parent: Option<ModId>,
    /// Directory that holds the files of child modules (no trailing slash).
    dir: String,
    children: HashMap<String, ModId>,
    items: HashSet<String>,
    /// `use` bindings by name: (path, public).
    bindings: HashMap<String, Vec<(Vec<String>, bool)>>,
    /// Glob imports: (path, public).
    globs: Vec<(Vec<String>, bool)>,
    extern_aliases: HashMap<String, ExternRef>,
}

#[derive(Debug)]
struct Crate {
    root: ModId,
    prelude: HashMap<String, ExternRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Res {
    Module(ModId),
    /// An item of a module, by name.
    Item(ModId, String),
    Extern(ExternRef),
}

#[derive(Debug, Clone)]
struct Found {
    res: Res,
    /// Modules whose `use` bindings were followed on the way (re-export hops).
    via: Vec<ModId>,
}

/// Inline modules (`mod x { … }`) nested deeper than this are read as part of the module at this
/// depth: real code nests a handful of levels, and every level costs the path of its directory,
/// so thousands of levels (a hostile file) would cost time and memory quadratic in the depth.
pub const MAX_INLINE_DEPTH: usize = 64;

/// The resolved imports of the Rust files of a snapshot, and notes about what could not be read.
#[derive(Clone)]
pub struct RustResolution {
    pub imports: Vec<ResolvedImport>,
    pub notes: Vec<String>,
    /// Safety caps that were reached (see [`MAX_INLINE_DEPTH`]), one line each.
    pub limits: Vec<String>,
    /// Number of crates (targets) found.
    pub crates: usize,
    /// The crates and module trees, kept to link symbols later ([`RustWorld::link`]).
    pub world: Option<Arc<RustWorld>>,
}

/// One file's facts, by path.
pub type RustSources = BTreeMap<String, Arc<FileFacts>>;

/// Resolve every Rust file of a snapshot. `sources`: the parsed `.rs` files (path → facts).
pub fn resolve(repo: &Repo, snapshot: &Snapshot, sources: &RustSources) -> RustResolution {
    let cargo = cargo::load(repo, snapshot, &|p: &str| sources.contains_key(p));
    resolve_with(cargo, sources)
}

/// Resolution against an already loaded Cargo model.
pub fn resolve_with(cargo: CargoModel, sources: &RustSources) -> RustResolution {
    let mut b = Builder {
        sources,
        cargo: &cargo,
        modules: Vec::new(),
        crates: Vec::new(),
        instances: Vec::new(),
        placed: HashSet::default(),
        mod_edges: Vec::new(),
        orphans: 0,
        first_orphan: None,
        limits: std::collections::BTreeSet::new(),
    };
    b.build();
    let Builder {
        modules,
        crates,
        instances,
        mod_edges,
        orphans,
        first_orphan,
        limits,
        ..
    } = b;
    let crates_len = crates.len();
    let mut by_file: HashMap<String, usize> = HashMap::default();
    for (i, inst) in instances.iter().enumerate() {
        by_file.entry(inst.file.clone()).or_insert(i);
    }
    let world = RustWorld {
        modules,
        crates,
        sources: sources.clone(),
        instances,
        by_file,
    };
    let mut imports: Vec<ResolvedImport> = world
        .instances
        .par_iter()
        .flat_map_iter(|inst| world.resolve_instance(inst))
        .collect();
    imports.extend(mod_edges);
    // One fact per (file, line, kind, specifier, target): a file in several crates resolves alike.
    let mut seen = HashSet::default();
    imports.retain(|r| {
        seen.insert((
            r.from.clone(),
            r.import.line,
            r.import.kind,
            r.import.specifier.clone(),
            r.target.clone(),
        ))
    });
    let mut notes = cargo.notes.clone();
    if let Some(first) = first_orphan {
        notes.push(format!(
            "{orphans} Rust file(s) are not reachable from any crate root of a Cargo.toml (e.g. {first}); they were resolved as the module their path implies, or as crate roots of their own"
        ));
    }
    RustResolution {
        imports,
        notes,
        limits: limits.into_iter().collect(),
        crates: crates_len,
        world: Some(Arc::new(world)),
    }
}

/// A file in one crate: its module for each scope.
struct Instance {
    file: String,
    scopes: Vec<ModId>,
}

struct Builder<'a> {
    sources: &'a RustSources,
    cargo: &'a CargoModel,
    modules: Vec<Module>,
    crates: Vec<Crate>,
    instances: Vec<Instance>,
    /// Files placed in some crate's module tree (by a crate root or a `mod` declaration).
    placed: HashSet<String>,
    mod_edges: Vec<ResolvedImport>,
    /// Files no crate root reaches, and the first of them.
    orphans: usize,
    first_orphan: Option<String>,
    /// Caps reached.
    limits: std::collections::BTreeSet<String>,
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

impl Builder<'_> {
    fn facts(&self, file: &str) -> Option<&RustFacts> {
        self.sources.get(file).and_then(|f| f.rust.as_ref())
    }

    fn new_module(
        &mut self,
        krate: CrateId,
        name: &str,
        file: &str,
        parent: Option<ModId>,
        dir: String,
    ) -> ModId {
        self.modules.push(Module {
            krate,
            name: name.to_string(),
            file: file.to_string(),
            parent,
            dir,
            children: HashMap::default(),
            items: HashSet::default(),
            bindings: HashMap::default(),
            globs: Vec::new(),
            extern_aliases: HashMap::default(),
        });
        self.modules.len() - 1
    }

    fn build(&mut self) {
        // Crates first (ids are needed by preludes), roots filled in below.
        let mut lib_of: HashMap<usize, CrateId> = HashMap::default();
        let mut targets: Vec<(usize, TargetKind, String)> = Vec::new();
        for (pi, p) in self.cargo.packages.iter().enumerate() {
            for t in &p.targets {
                if self.sources.contains_key(&t.root) {
                    if t.kind == TargetKind::Lib {
                        lib_of.insert(pi, targets.len());
                    }
                    targets.push((pi, t.kind, t.root.clone()));
                }
            }
        }
        for (pi, kind, _) in &targets {
            let prelude = self.prelude(*pi, *kind, &lib_of);
            self.crates.push(Crate {
                root: usize::MAX,
                prelude,
            });
        }
        for (ci, (_, _, root)) in targets.iter().enumerate() {
            let m = self.new_module(ci, "", root, None, parent_dir(root).to_string());
            self.crates[ci].root = m;
            self.place_tree(ci, root.clone(), m);
        }
        // Files no crate reached: in their package's main crate, as the module their path says.
        let orphans: Vec<String> = self
            .sources
            .keys()
            .filter(|p| !self.placed.contains(p.as_str()))
            .cloned()
            .collect();
        self.orphans = orphans.len();
        self.first_orphan = orphans.first().cloned();
        for file in orphans {
            if self.placed.contains(&file) {
                continue;
            }
            self.place_orphan(&file, &lib_of, &targets);
        }
    }

    fn prelude(
        &self,
        pi: usize,
        kind: TargetKind,
        lib_of: &HashMap<usize, CrateId>,
    ) -> HashMap<String, ExternRef> {
        let p = &self.cargo.packages[pi];
        let mut prelude = HashMap::default();
        for d in &p.deps {
            let wanted = match kind {
                TargetKind::Build => d.kind == DepKind::Build,
                _ => d.kind != DepKind::Build,
            };
            if !wanted {
                continue;
            }
            let (name, r) = match &d.source {
                DepSource::Path(dir) => match self.cargo.package_at(dir) {
                    Some(qi) => {
                        let q = &self.cargo.packages[qi];
                        let name = if d.renamed {
                            cargo::code_name(&d.key)
                        } else {
                            q.lib_name.clone()
                        };
                        let r = lib_of
                            .get(&qi)
                            .map(|c| ExternRef::Crate(*c))
                            .unwrap_or_else(|| ExternRef::External(d.package.clone()));
                        (name, r)
                    }
                    None => (
                        cargo::code_name(&d.key),
                        ExternRef::External(d.package.clone()),
                    ),
                },
                DepSource::External => (
                    cargo::code_name(&d.key),
                    ExternRef::External(d.package.clone()),
                ),
            };
            prelude.entry(name).or_insert(r);
        }
        if kind != TargetKind::Lib && kind != TargetKind::Build {
            if let Some(c) = lib_of.get(&pi) {
                prelude.insert(p.lib_name.clone(), ExternRef::Crate(*c));
            }
        }
        prelude
    }

    /// Build the module tree under `root_mod` (whose file is `file`).
    fn place_tree(&mut self, krate: CrateId, file: String, root_mod: ModId) {
        let mut in_crate: HashSet<String> = HashSet::default();
        in_crate.insert(file.clone());
        let mut work = vec![(file, root_mod)];
        while let Some((file, m)) = work.pop() {
            self.placed.insert(file.clone());
            for (child_file, child) in self.fill_file(krate, &file, m, &mut in_crate) {
                work.push((child_file, child));
            }
        }
    }

    /// Create the inline modules of `file` (whose top module is `top`), record its names, and
    /// resolve its `mod` declarations; returns the new child file modules to fill.
    fn fill_file(
        &mut self,
        krate: CrateId,
        file: &str,
        top: ModId,
        in_crate: &mut HashSet<String>,
    ) -> Vec<(String, ModId)> {
        let Some(facts) = self.facts(file).cloned() else {
            return Vec::new();
        };
        let mut scopes = vec![top];
        let mut depths = vec![0usize];
        let mut capped = false;
        for im in &facts.inline_mods {
            let parent = scopes.get(im.parent as usize).copied().unwrap_or(top);
            let depth = depths.get(im.parent as usize).copied().unwrap_or(0) + 1;
            if depth > MAX_INLINE_DEPTH {
                // Folded into the deepest module kept; so are its own inline modules.
                scopes.push(parent);
                depths.push(MAX_INLINE_DEPTH);
                capped = true;
                continue;
            }
            depths.push(depth);
            let dir = join(
                &self.modules[parent].dir,
                im.path_attr.as_deref().unwrap_or(&im.name),
            );
            let dir = cargo::normalize("", &dir).unwrap_or(dir);
            let m = self.new_module(krate, &im.name, file, Some(parent), dir);
            self.modules[parent].children.insert(im.name.clone(), m);
            scopes.push(m);
        }
        if capped {
            self.limits.insert(format!(
                "{file}: inline modules nested deeper than {MAX_INLINE_DEPTH} levels were read as part of the module {MAX_INLINE_DEPTH} levels down"
            ));
        }
        for it in &facts.items {
            if let Some(&m) = scopes.get(it.scope as usize) {
                self.modules[m].items.insert(it.name.clone());
            }
        }
        for u in &facts.uses {
            let Some(&m) = scopes.get(u.scope as usize) else {
                continue;
            };
            match &u.binding {
                UseBinding::Name(n) => self.modules[m]
                    .bindings
                    .entry(n.clone())
                    .or_default()
                    .push((u.segments.clone(), u.public)),
                UseBinding::Glob => self.modules[m].globs.push((u.segments.clone(), u.public)),
                UseBinding::Underscore => {}
            }
        }
        let mut out = Vec::new();
        for d in &facts.mods {
            let Some(&m) = scopes.get(d.scope as usize) else {
                continue;
            };
            let mdir = self.modules[m].dir.clone();
            let base = if d.scope == 0 {
                parent_dir(file).to_string()
            } else {
                mdir.clone()
            };
            // (candidate file, directory of its own children)
            let mut candidates: Vec<(String, String)> = Vec::new();
            if let Some(p) = &d.path_attr {
                if let Some(f) = cargo::normalize(&base, p) {
                    let dir = parent_dir(&f).to_string();
                    candidates.push((f, dir));
                }
            } else {
                let own = join(&mdir, &d.name);
                candidates.push((join(&mdir, &format!("{}.rs", d.name)), own.clone()));
                candidates.push((join(&own, "mod.rs"), own));
            }
            let mut chosen: Vec<(String, String)> = candidates
                .iter()
                .find(|(f, _)| self.sources.contains_key(f))
                .cloned()
                .into_iter()
                .collect();
            if chosen.is_empty() {
                for p in &d.cfg_attr_paths {
                    if let Some(f) = cargo::normalize(&base, p) {
                        if self.sources.contains_key(&f) {
                            let dir = parent_dir(&f).to_string();
                            chosen.push((f, dir));
                        }
                    }
                }
            }
            let specifier = format!("mod {}", d.name);
            if chosen.is_empty() {
                // A cfg-gated module without a file is usually platform or feature code that
                // lives elsewhere: say so in the fact.
                let specifier = if d.cfg.is_empty() {
                    specifier
                } else {
                    format!("{specifier} #[cfg({})]", d.cfg.join(")] #[cfg("))
                };
                self.mod_edges.push(ResolvedImport {
                    from: file.to_string(),
                    import: Import {
                        specifier,
                        line: d.line,
                        kind: ImportKind::Mod,
                        type_only: false,
                    },
                    target: Target::Missing,
                });
                continue;
            }
            for (i, (child_file, child_dir)) in chosen.into_iter().enumerate() {
                self.mod_edges.push(ResolvedImport {
                    from: file.to_string(),
                    import: Import {
                        specifier: specifier.clone(),
                        line: d.line,
                        kind: ImportKind::Mod,
                        type_only: false,
                    },
                    target: Target::File {
                        path: child_file.clone(),
                    },
                });
                if !in_crate.insert(child_file.clone()) {
                    continue; // already in this crate (a `#[path]` cycle or a duplicate)
                }
                let child = self.new_module(krate, &d.name, &child_file, Some(m), child_dir);
                if i == 0 {
                    self.modules[m].children.insert(d.name.clone(), child);
                }
                out.push((child_file, child));
            }
        }
        for e in &facts.extern_crates {
            let Some(&m) = scopes.get(e.scope as usize) else {
                continue;
            };
            let alias = e.alias.clone().unwrap_or_else(|| e.name.clone());
            if alias == "_" {
                continue;
            }
            let r = if e.name == "self" {
                ExternRef::Crate(krate)
            } else if let Some(r) = self.crates[krate].prelude.get(&e.name) {
                r.clone()
            } else if BUILTIN_CRATES.contains(&e.name.as_str()) {
                ExternRef::Builtin(e.name.clone())
            } else {
                ExternRef::External(e.name.clone())
            };
            if m == self.crates[krate].root {
                self.crates[krate].prelude.insert(alias.clone(), r.clone());
            }
            self.modules[m].extern_aliases.insert(alias, r);
        }
        self.instances.push(Instance {
            file: file.to_string(),
            scopes,
        });
        out
    }

    fn place_orphan(
        &mut self,
        file: &str,
        lib_of: &HashMap<usize, CrateId>,
        targets: &[(usize, TargetKind, String)],
    ) {
        let pkg = self
            .cargo
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.dir.is_empty() || file.starts_with(&format!("{}/", p.dir)))
            .max_by_key(|(_, p)| p.dir.len())
            .map(|(i, _)| i);
        let krate = pkg.and_then(|pi| {
            lib_of
                .get(&pi)
                .copied()
                .or_else(|| targets.iter().position(|t| t.0 == pi))
        });
        let stem_dir = |f: &str| -> String {
            let name = f.rsplit('/').next().unwrap_or(f);
            if name == "mod.rs" || name == "lib.rs" || name == "main.rs" {
                parent_dir(f).to_string()
            } else {
                f.strip_suffix(".rs").unwrap_or(f).to_string()
            }
        };
        // Under the source directory of its package's main crate: a module of that crate.
        let placed_in = krate.and_then(|k| {
            let root_dir = self.modules[self.crates[k].root].dir.clone();
            let rel = if root_dir.is_empty() {
                Some(file.to_string())
            } else {
                file.strip_prefix(&format!("{root_dir}/"))
                    .map(str::to_string)
            };
            rel.map(|r| (k, r))
        });
        let Some((krate, rel)) = placed_in else {
            // Elsewhere (a script, a file outside any package): its own crate, with its
            // package's dependencies when it has one.
            let prelude = pkg
                .map(|pi| self.prelude(pi, TargetKind::Bin, lib_of))
                .unwrap_or_default();
            let ci = self.crates.len();
            self.crates.push(Crate {
                root: usize::MAX,
                prelude,
            });
            let m = self.new_module(ci, "", file, None, parent_dir(file).to_string());
            self.crates[ci].root = m;
            self.place_tree(ci, file.to_string(), m);
            return;
        };
        // Walk the module path the file's location implies as far as the tree has it.
        let mut parent = self.crates[krate].root;
        let rel_mod = stem_dir(&rel);
        let parts: Vec<&str> = rel_mod.split('/').filter(|s| !s.is_empty()).collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            match self.modules[parent].children.get(*part) {
                Some(&c) => parent = c,
                None => break,
            }
        }
        let name = parts.last().copied().unwrap_or("").to_string();
        let m = self.new_module(krate, &name, file, Some(parent), stem_dir(file));
        self.place_tree(krate, file.to_string(), m);
    }
}

/// The crates of a snapshot and their module trees: what names mean in each module.
pub struct RustWorld {
    modules: Vec<Module>,
    crates: Vec<Crate>,
    sources: RustSources,
    instances: Vec<Instance>,
    /// A file's first instance (a file in several crates resolves alike in each).
    by_file: HashMap<String, usize>,
}

struct Ctx {
    active: HashSet<(ModId, String)>,
    steps: usize,
    /// Nesting of lookups (re-export and glob chains), bounded so no input can exhaust a stack.
    depth: usize,
}

impl Ctx {
    fn new() -> Ctx {
        Ctx {
            active: HashSet::default(),
            steps: 0,
            depth: 0,
        }
    }
}

/// Bound on nested lookups (a chain of re-exports or globs this long is not real code).
const MAX_DEPTH: usize = 96;

impl RustWorld {
    fn root_of(&self, m: ModId) -> ModId {
        self.crates[self.modules[m].krate].root
    }

    fn extern_res(&self, r: &ExternRef) -> Res {
        match r {
            ExternRef::Crate(c) => Res::Module(self.crates[*c].root),
            other => Res::Extern(other.clone()),
        }
    }

    /// A name defined in module `x`: child module, `use` binding (followed), item, `extern crate`
    /// alias, or a glob import's name. `None` when `x` does not define it visibly.
    fn lookup_in(&self, x: ModId, name: &str, ctx: &mut Ctx) -> Option<Found> {
        ctx.steps += 1;
        if ctx.steps > MAX_STEPS {
            return None;
        }
        let module = &self.modules[x];
        if let Some(&c) = module.children.get(name) {
            return Some(Found {
                res: Res::Module(c),
                via: Vec::new(),
            });
        }
        let key = (x, name.to_string());
        if ctx.depth >= MAX_DEPTH || !ctx.active.insert(key.clone()) {
            return None;
        }
        ctx.depth += 1;
        let mut result = None;
        if let Some(paths) = module.bindings.get(name) {
            for (p, _) in paths {
                if let Some(mut f) = self.resolve_path(x, p, ctx) {
                    f.via.insert(0, x);
                    result = Some(f);
                    break;
                }
            }
        }
        if result.is_none() && module.items.contains(name) {
            result = Some(Found {
                res: Res::Item(x, name.to_string()),
                via: Vec::new(),
            });
        }
        if result.is_none() {
            if let Some(r) = module.extern_aliases.get(name) {
                result = Some(Found {
                    res: self.extern_res(r),
                    via: Vec::new(),
                });
            }
        }
        if result.is_none() {
            for (g, _) in &module.globs {
                let Some(gf) = self.resolve_path(x, g, ctx) else {
                    continue;
                };
                let Res::Module(gm) = gf.res else {
                    continue;
                };
                if gm == x {
                    continue;
                }
                if let Some(f) = self.lookup_in(gm, name, ctx) {
                    let mut via = vec![x];
                    via.extend(gf.via);
                    via.push(gm);
                    via.extend(f.via);
                    result = Some(Found { res: f.res, via });
                    break;
                }
            }
        }
        ctx.active.remove(&key);
        ctx.depth -= 1;
        result
    }

    /// The first segment of a path written in module `m`.
    fn lookup_first(&self, m: ModId, name: &str, ctx: &mut Ctx) -> Option<Found> {
        if let Some(f) = self.lookup_in(m, name, ctx) {
            return Some(f);
        }
        let krate = &self.crates[self.modules[m].krate];
        if let Some(r) = krate.prelude.get(name) {
            return Some(Found {
                res: self.extern_res(r),
                via: Vec::new(),
            });
        }
        if BUILTIN_CRATES.contains(&name) {
            return Some(Found {
                res: Res::Extern(ExternRef::Builtin(name.to_string())),
                via: Vec::new(),
            });
        }
        // 2015-edition paths are relative to the crate root.
        let root = self.root_of(m);
        self.modules[root].children.get(name).map(|&c| Found {
            res: Res::Module(c),
            via: Vec::new(),
        })
    }

    /// Resolve `segs` written in module `m`. `None` when the first segment names nothing known.
    fn resolve_path(&self, m: ModId, segs: &[String], ctx: &mut Ctx) -> Option<Found> {
        let first = segs.first()?;
        let (mut cur, mut i, mut via) = match first.as_str() {
            "" => {
                let name = segs.get(1)?;
                let krate = &self.crates[self.modules[m].krate];
                let res = if let Some(r) = krate.prelude.get(name.as_str()) {
                    self.extern_res(r)
                } else if BUILTIN_CRATES.contains(&name.as_str()) {
                    Res::Extern(ExternRef::Builtin(name.clone()))
                } else {
                    Res::Extern(ExternRef::External(name.clone()))
                };
                (res, 2, Vec::new())
            }
            "crate" | "$crate" => (Res::Module(self.root_of(m)), 1, Vec::new()),
            "self" => (Res::Module(m), 1, Vec::new()),
            "super" => {
                let mut cur = self.modules[m].parent?;
                let mut i = 1;
                while segs.get(i).is_some_and(|s| s == "super") {
                    cur = self.modules[cur].parent?;
                    i += 1;
                }
                (Res::Module(cur), i, Vec::new())
            }
            name => {
                let f = self.lookup_first(m, name, ctx)?;
                (f.res, 1, f.via)
            }
        };
        while i < segs.len() {
            let Res::Module(x) = cur else {
                break;
            };
            match self.lookup_in(x, &segs[i], ctx) {
                Some(f) => {
                    via.extend(f.via);
                    cur = f.res;
                }
                None => {
                    cur = Res::Item(x, segs[i].clone());
                    break;
                }
            }
            i += 1;
        }
        Some(Found { res: cur, via })
    }

    /// The targets a resolution leads to: re-export hops first, then the defining file.
    fn targets(&self, f: &Found) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        let mut push = |t: Target| {
            if !out.contains(&t) {
                out.push(t);
            }
        };
        for &v in &f.via {
            push(Target::File {
                path: self.modules[v].file.clone(),
            });
        }
        match &f.res {
            Res::Module(x) | Res::Item(x, _) => push(Target::File {
                path: self.modules[*x].file.clone(),
            }),
            Res::Extern(ExternRef::External(p)) => push(Target::External { package: p.clone() }),
            Res::Extern(ExternRef::Builtin(n)) => push(Target::Builtin { name: n.clone() }),
            Res::Extern(ExternRef::Crate(c)) => push(Target::File {
                path: self.modules[self.crates[*c].root].file.clone(),
            }),
        }
        out
    }

    /// The files a glob import of module `x` brings names from, besides `x`'s own file: what
    /// `x` re-exports (`pub use`, and `pub use …::*` recursively). A glob written in the same
    /// file (`use super::*` in `mod tests`) sees private imports too.
    fn glob_files(&self, x: ModId, from_file: &str, ctx: &mut Ctx, out: &mut BTreeSet<String>) {
        ctx.steps += 1;
        if ctx.steps > MAX_STEPS
            || ctx.depth >= MAX_DEPTH
            || !ctx.active.insert((x, "*".to_string()))
        {
            return;
        }
        ctx.depth += 1;
        let module = &self.modules[x];
        let all = module.file == from_file;
        for (p, public) in module.bindings.values().flatten() {
            if !(*public || all) {
                continue;
            }
            if let Some(f) = self.resolve_path(x, p, ctx) {
                for t in self.targets(&f) {
                    if let Target::File { path } = t {
                        out.insert(path);
                    }
                }
            }
        }
        for (g, public) in &module.globs {
            if !(*public || all) {
                continue;
            }
            if let Some(Found {
                res: Res::Module(gm),
                ..
            }) = self.resolve_path(x, g, ctx)
            {
                if gm != x {
                    out.insert(self.modules[gm].file.clone());
                    self.glob_files(gm, from_file, ctx, out);
                }
            }
        }
        ctx.depth -= 1;
    }

    fn resolve_instance(&self, inst: &Instance) -> Vec<ResolvedImport> {
        let mut out = Vec::new();
        let Some(facts) = inst.scopes.first().and_then(|&m| {
            let f = &self.modules[m].file;
            self.sources.get(f).and_then(|x| x.rust.as_ref())
        }) else {
            return out;
        };
        let file = &inst.file;
        let mut emit = |line: u32, kind: ImportKind, specifier: String, target: Target| {
            out.push(ResolvedImport {
                from: file.clone(),
                import: Import {
                    specifier,
                    line,
                    kind,
                    type_only: false,
                },
                target,
            });
        };
        for u in &facts.uses {
            let Some(&m) = inst.scopes.get(u.scope as usize) else {
                continue;
            };
            let kind = if u.public {
                ImportKind::PubUse
            } else {
                ImportKind::Use
            };
            let mut spec = u.segments.join("::");
            if u.binding == UseBinding::Glob {
                spec.push_str("::*");
            }
            let mut ctx = Ctx::new();
            match self.resolve_path(m, &u.segments, &mut ctx) {
                Some(f) => {
                    let mut targets = self.targets(&f);
                    if let (UseBinding::Glob, Res::Module(gm)) = (&u.binding, &f.res) {
                        let mut files = BTreeSet::new();
                        self.glob_files(*gm, file, &mut Ctx::new(), &mut files);
                        targets.extend(files.into_iter().map(|path| Target::File { path }));
                    }
                    for t in targets {
                        emit(u.line, kind, spec.clone(), t);
                    }
                }
                None => {
                    let first = u.segments.first().map(String::as_str).unwrap_or("");
                    let local = first.chars().next().is_some_and(|c| c.is_uppercase());
                    if !local && !first.is_empty() {
                        emit(
                            u.line,
                            kind,
                            spec,
                            Target::External {
                                package: first.to_string(),
                            },
                        );
                    }
                }
            }
        }
        // Paths in code: files they lead to; one external/built-in fact per crate and file.
        let mut externals: HashSet<Target> = HashSet::default();
        for p in &facts.paths {
            let Some(&m) = inst.scopes.get(p.scope as usize) else {
                continue;
            };
            let mut ctx = Ctx::new();
            let Some(f) = self.resolve_path(m, &p.segments, &mut ctx) else {
                continue;
            };
            for t in self.targets(&f) {
                if matches!(t, Target::File { .. }) || externals.insert(t.clone()) {
                    emit(p.line, ImportKind::Path, p.segments.join("::"), t);
                }
            }
        }
        for e in &facts.extern_crates {
            let Some(&m) = inst.scopes.get(e.scope as usize) else {
                continue;
            };
            let Some(r) = self.modules[m]
                .extern_aliases
                .get(e.alias.as_deref().unwrap_or(&e.name))
                .or_else(|| self.crates[self.modules[m].krate].prelude.get(&e.name))
                .cloned()
            else {
                continue;
            };
            let f = Found {
                res: Res::Extern(r),
                via: Vec::new(),
            };
            for t in self.targets(&f) {
                emit(
                    e.line,
                    ImportKind::ExternCrate,
                    format!("extern crate {}", e.name),
                    t,
                );
            }
        }
        out
    }
}

impl RustWorld {
    /// The module of each scope of `file`'s symbols (scope 0 is the file, then its inline
    /// modules, see [`Symbols::scopes`]); `None` when the file is in no crate.
    fn symbol_scopes(&self, file: &str, syms: &Symbols) -> Option<Vec<ModId>> {
        let inst = &self.instances[*self.by_file.get(file)?];
        let top = *inst.scopes.first()?;
        let mut out = vec![top];
        for sc in &syms.scopes {
            let parent = out.get(sc.parent as usize).copied().unwrap_or(top);
            let m = self.modules[parent]
                .children
                .get(&sc.name)
                .copied()
                .unwrap_or(parent);
            out.push(m);
        }
        Some(out)
    }

    /// The crate a file is (first) compiled in.
    fn crate_of(&self, file: &str) -> Option<CrateId> {
        let inst = &self.instances[*self.by_file.get(file)?];
        inst.scopes.first().map(|&m| self.modules[m].krate)
    }

    /// A module's path from its crate root.
    fn mod_loc(&self, m: ModId) -> ModLoc {
        let mut path = Vec::new();
        let mut cur = m;
        while let Some(p) = self.modules[cur].parent {
            path.push(self.modules[cur].name.clone());
            cur = p;
        }
        path.reverse();
        ModLoc {
            krate: self.modules[m].krate as u32,
            path,
        }
    }

    /// An item's name qualified by the inline modules that hold it inside its file
    /// (`tests::helper`), as [`Symbols`] names it.
    fn qualified(&self, m: ModId, item: &str) -> String {
        let mut names = Vec::new();
        let mut cur = m;
        while let Some(p) = self.modules[cur].parent {
            if self.modules[p].file != self.modules[cur].file {
                break;
            }
            names.push(self.modules[cur].name.as_str());
            cur = p;
        }
        names.reverse();
        names.push(item);
        names.join("::")
    }

    fn link_path(&self, m: ModId, segs: &[String], file: &str, syms: &Symbols) -> Option<LinkTo> {
        let mut ctx = Ctx::new();
        let f = self.resolve_path(m, segs, &mut ctx)?;
        match f.res {
            Res::Item(x, name) => {
                let target = self.modules[x].file.clone();
                let name = self.qualified(x, &name);
                if target == file {
                    if let Some(i) = syms.decls_named(&name).next() {
                        return Some(LinkTo::Local(i));
                    }
                }
                Some(LinkTo::Name { file: target, name })
            }
            Res::Extern(ExternRef::External(p)) => Some(LinkTo::External { package: p }),
            _ => None,
        }
    }

    /// Link the symbols of the Rust file `file`: each path a declaration uses, resolved in the
    /// declaration's module to the item it names (through `use` bindings, re-exports and globs).
    pub fn link(&self, file: &str, syms: &Symbols) -> Linked {
        let mut out = Linked {
            rust: true,
            ..Linked::default()
        };
        let Some(scopes) = self.symbol_scopes(file, syms) else {
            out.refs = vec![Vec::new(); syms.decls.len()];
            out.owners = vec![None; syms.decls.len()];
            out.implicit = vec![false; syms.decls.len()];
            return out;
        };
        out.scopes = scopes.iter().map(|&m| self.mod_loc(m)).collect();
        // Within one file the same name is looked up from many declarations.
        let mut memo: HashMap<(ModId, Vec<String>), Option<LinkTo>> = HashMap::default();
        let mut link = |m: ModId, segs: &[String]| -> Option<LinkTo> {
            memo.entry((m, segs.to_vec()))
                .or_insert_with(|| self.link_path(m, segs, file, syms))
                .clone()
        };
        for d in &syms.decls {
            let m = scopes.get(d.scope as usize).copied().unwrap_or(scopes[0]);
            let mut links: Vec<Link> = d
                .refs
                .iter()
                .filter_map(|r| {
                    let to = match &r.target {
                        Ref::Decl(i) => Some(LinkTo::Local(*i)),
                        Ref::Path(p) => link(m, p),
                        Ref::Binding { .. } => None,
                    };
                    to.map(|to| Link { to, sig: r.sig })
                })
                .collect();
            links.sort();
            links.dedup();
            out.refs.push(links);
            let ty = match &d.owner {
                Some(Ref::Path(p)) => link(m, p),
                Some(Ref::Decl(i)) => Some(LinkTo::Local(*i)),
                _ => None,
            };
            // An extension trait (a trait of this crate implemented for another crate's type):
            // its methods are reached only by code that has the trait in scope, not by every
            // user of the type.
            let extension = match (&d.via_trait, &ty) {
                (
                    Some(Ref::Path(p)),
                    Some(LinkTo::Name {
                        file: type_file, ..
                    }),
                ) => {
                    let here = self.crate_of(file);
                    let foreign_type = self.crate_of(type_file) != here;
                    match link(m, p) {
                        Some(LinkTo::Local(i)) if foreign_type => Some(LinkTo::Local(i)),
                        Some(LinkTo::Name {
                            file: trait_file,
                            name,
                        }) if foreign_type && self.crate_of(&trait_file) == here => {
                            Some(LinkTo::Name {
                                file: trait_file,
                                name,
                            })
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            out.owners.push(extension.or(ty));
            // A foreign trait's methods are called without being named.
            out.implicit.push(match &d.via_trait {
                Some(Ref::Path(p)) => {
                    !matches!(link(m, p), Some(LinkTo::Local(_) | LinkTo::Name { .. }))
                }
                _ => false,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::rust;

    fn world(files: &[(&str, &str)]) -> RustSources {
        files
            .iter()
            .map(|(p, s)| (p.to_string(), Arc::new(rust::extract(s))))
            .collect()
    }

    fn edges(files: &[(&str, &str)], cargo: CargoModel) -> BTreeSet<(String, String, ImportKind)> {
        let src = world(files);
        resolve_with(cargo, &src)
            .imports
            .into_iter()
            .filter_map(|r| match r.target {
                Target::File { path } if path != r.from => Some((r.from, path, r.import.kind)),
                _ => None,
            })
            .collect()
    }

    fn lib_package(name: &str, dir: &str) -> cargo::Package {
        cargo::Package {
            name: name.into(),
            dir: dir.into(),
            lib_name: cargo::code_name(name),
            targets: vec![cargo::Target {
                kind: TargetKind::Lib,
                name: cargo::code_name(name),
                root: join(dir, "src/lib.rs"),
            }],
            deps: vec![],
        }
    }

    fn e(a: &str, b: &str, k: ImportKind) -> (String, String, ImportKind) {
        (a.into(), b.into(), k)
    }

    #[test]
    fn module_tree_and_paths() {
        use ImportKind::*;
        let files = [
            ("src/lib.rs", "pub mod a;\nmod b;\n#[path = \"other/c_impl.rs\"]\nmod c;\npub use a::deep::Thing;\n"),
            ("src/a.rs", "pub mod deep;\n"),
            ("src/a/deep.rs", "pub struct Thing;\nuse super::super::b::helper;\n"),
            ("src/b/mod.rs", "pub fn helper() {}\nmod inner { mod leaf; }\n"),
            ("src/b/inner/leaf.rs", "fn f() { crate::Thing; }\n"),
            ("src/other/c_impl.rs", "mod sub;\n"),
            ("src/other/sub.rs", "use crate::a::deep;\n"),
        ];
        let cargo = CargoModel {
            packages: vec![lib_package("demo", "")],
            notes: vec![],
        };
        let got = edges(&files, cargo);
        let want: BTreeSet<_> = [
            e("src/lib.rs", "src/a.rs", Mod),
            e("src/lib.rs", "src/b/mod.rs", Mod),
            e("src/lib.rs", "src/other/c_impl.rs", Mod),
            e("src/lib.rs", "src/a/deep.rs", PubUse),
            e("src/a.rs", "src/a/deep.rs", Mod),
            e("src/a/deep.rs", "src/b/mod.rs", Use),
            e("src/b/mod.rs", "src/b/inner/leaf.rs", Mod),
            e("src/b/inner/leaf.rs", "src/lib.rs", Path),
            e("src/b/inner/leaf.rs", "src/a/deep.rs", Path),
            e("src/other/c_impl.rs", "src/other/sub.rs", Mod),
            e("src/other/sub.rs", "src/a/deep.rs", Use),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn glob_reexports_are_followed() {
        use ImportKind::*;
        let files = [
            (
                "src/lib.rs",
                "mod a;\nmod b;\npub use a::*;\nfn f() { let _ = crate::Deep; }\n",
            ),
            ("src/a.rs", "pub use crate::b::Deep;\n"),
            ("src/b.rs", "pub struct Deep;\n"),
            ("src/main.rs", "use demo::Deep;\nfn main() {}\n"),
        ];
        let mut pkg = lib_package("demo", "");
        pkg.targets.push(cargo::Target {
            kind: TargetKind::Bin,
            name: "demo".into(),
            root: "src/main.rs".into(),
        });
        let got = edges(
            &files,
            CargoModel {
                packages: vec![pkg],
                notes: vec![],
            },
        );
        assert!(got.contains(&e("src/main.rs", "src/lib.rs", Use)));
        assert!(got.contains(&e("src/main.rs", "src/a.rs", Use)));
        assert!(got.contains(&e("src/main.rs", "src/b.rs", Use)));
        assert!(got.contains(&e("src/lib.rs", "src/b.rs", Path)));
    }

    #[test]
    fn long_reexport_chains_are_bounded() {
        // 400 modules, each glob re-exporting the next (deeper than MAX_DEPTH): no stack
        // overflow on a small stack, no hang.
        let n = 400;
        let mut files: Vec<(String, String)> = vec![(
            "src/lib.rs".into(),
            (0..n)
                .map(|i| format!("pub mod m{i};\n"))
                .collect::<String>()
                + "use m0::Deep;\n",
        )];
        for i in 0..n {
            let next = if i + 1 < n {
                format!("pub use crate::m{}::*;\n", i + 1)
            } else {
                "pub struct Deep;\n".into()
            };
            files.push((format!("src/m{i}.rs"), next));
        }
        let got = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let refs: Vec<(&str, &str)> = files
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                let src = world(&refs);
                resolve_with(
                    CargoModel {
                        packages: vec![lib_package("demo", "")],
                        notes: vec![],
                    },
                    &src,
                )
                .imports
                .len()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(got >= n);
    }

    #[test]
    fn cycles_terminate() {
        let files = [
            ("src/lib.rs", "mod a;\nmod b;\nuse a::X;\n"),
            ("src/a.rs", "pub use crate::b::*;\n"),
            ("src/b.rs", "pub use crate::a::*;\n"),
        ];
        let got = edges(
            &files,
            CargoModel {
                packages: vec![lib_package("demo", "")],
                notes: vec![],
            },
        );
        assert!(got.contains(&e("src/lib.rs", "src/a.rs", ImportKind::Use)));
    }
    #[test]
    fn symbols_link_to_items() {
        let files = [
            ("src/lib.rs", "pub mod a;\nmod b;\npub use a::Shape as Figure;\n"),
            (
                "src/a.rs",
                "pub struct Shape;\nimpl Shape { pub fn new() -> Shape { helper(); Shape } }\nfn helper() {}\nmod tests { fn t() { super::helper(); } }\n",
            ),
            (
                "src/b.rs",
                "use crate::Figure;\nuse crate::a;\npub(crate) fn g() { Figure::new(); a::helper(); unknown::x(); }\n",
            ),
        ];
        let src = world(&files);
        let r = resolve_with(
            CargoModel {
                packages: vec![lib_package("demo", "")],
                notes: vec![],
            },
            &src,
        );
        let w = r.world.unwrap();
        let link = |file: &str| {
            let syms = crate::lang::symbols::extract(crate::lang::Lang::Rust, {
                files.iter().find(|(p, _)| *p == file).unwrap().1
            });
            (w.link(file, &syms), syms)
        };
        let (b, bs) = link("src/b.rs");
        let g = bs.decls_named("g").next().unwrap() as usize;
        let to: Vec<LinkTo> = b.refs[g].iter().map(|l| l.to.clone()).collect();
        let name = |f: &str, n: &str| LinkTo::Name {
            file: f.into(),
            name: n.into(),
        };
        assert_eq!(
            to,
            vec![name("src/a.rs", "Shape"), name("src/a.rs", "helper"),]
        );
        assert_eq!(b.scopes[0].path, vec!["b".to_string()]);
        let (a, as_) = link("src/a.rs");
        let new = as_.decls_named("Shape::new").next().unwrap() as usize;
        assert_eq!(a.owners[new], Some(LinkTo::Local(0)));
        let t = as_.decls_named("tests::t").next().unwrap() as usize;
        let helper = as_.decls_named("helper").next().unwrap();
        assert_eq!(a.refs[t][0].to, LinkTo::Local(helper));
        assert_eq!(a.scopes[1].path, vec!["a".to_string(), "tests".to_string()]);
    }

    #[test]
    fn trait_impl_members_are_owned_by_their_type() {
        let files = [
            ("src/lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
            ("src/a.rs", "pub trait Ext {\n    fn go(&self);\n}\n"),
            ("src/c.rs", "pub struct Foo;\n"),
            (
                "src/b.rs",
                "use crate::a::Ext;\nuse crate::c::Foo;\nimpl Ext for Foo {\n    fn go(&self) {}\n}\nimpl std::fmt::Display for Foo {\n    fn fmt(&self) {}\n}\n",
            ),
        ];
        let src = world(&files);
        let r = resolve_with(
            CargoModel {
                packages: vec![lib_package("demo", "")],
                notes: vec![],
            },
            &src,
        );
        let w = r.world.unwrap();
        let syms = crate::lang::symbols::extract(crate::lang::Lang::Rust, files[3].1);
        let l = w.link("src/b.rs", &syms);
        let owner = |name: &str| l.owners[syms.decls_named(name).next().unwrap() as usize].clone();
        let name = |f: &str, n: &str| {
            Some(LinkTo::Name {
                file: f.into(),
                name: n.into(),
            })
        };
        // Trait and type of the same crate: the type's users.
        assert_eq!(owner("Foo::go"), name("src/c.rs", "Foo"));
        assert_eq!(owner("Foo::fmt"), name("src/c.rs", "Foo"));
    }

    #[test]
    fn extension_trait_members_are_owned_by_the_trait() {
        let files = [
            ("core/src/lib.rs", "pub struct Foo;\n"),
            (
                "ext/src/lib.rs",
                "use core_crate::Foo;\npub trait Ext {\n    fn go(&self);\n}\nimpl Ext for Foo {\n    fn go(&self) {}\n}\n",
            ),
        ];
        let src = world(&files);
        let mut ext = lib_package("ext", "ext");
        ext.deps.push(cargo::Dependency {
            key: "core_crate".into(),
            package: "core_crate".into(),
            renamed: false,
            source: DepSource::Path("core".into()),
            kind: DepKind::Normal,
        });
        let r = resolve_with(
            CargoModel {
                packages: vec![lib_package("core_crate", "core"), ext],
                notes: vec![],
            },
            &src,
        );
        let w = r.world.unwrap();
        let syms = crate::lang::symbols::extract(crate::lang::Lang::Rust, files[1].1);
        let l = w.link("ext/src/lib.rs", &syms);
        let ext_trait = syms.decls_named("Ext").next().unwrap();
        let go = syms.decls_named("Foo::go").next().unwrap() as usize;
        assert_eq!(l.owners[go], Some(LinkTo::Local(ext_trait)));
    }
}
