//! Symbol-level reach: what a change can really break.
//!
//! A file being imported is not the same as a change reaching its importers. This walk starts
//! from the declarations a change touched ([`crate::lang::symbols::diff`]) and follows uses
//! backwards, declaration by declaration: inside a file (a private helper reaches the exported
//! function that calls it), across files through import bindings and re-exports (`export { a }
//! from`, `export *`, `ns.f` on a namespace import; Rust paths, `use` bindings and globs as the
//! resolver follows them), transitively — a declaration whose dependency changed is itself
//! affected, and so on. Comment- and formatting-only edits change no declaration, so they reach
//! nothing.
//!
//! - **Members.** A changed member (`Cart::add`) affects its owner type, and through it the
//!   type's users; a private member (`private`/`#x`, a Rust `fn` without `pub`) only the users
//!   that can see it (the file; the Rust module and its children). The type's other members are
//!   not affected by a sibling unless they use it, and declarations that only name the type (a
//!   struct field, an enum variant, a trait) run none of its code. A new member reaches nothing by itself: the
//!   type's existing users do not call it (an added override of a base or trait method is the
//!   exception this misses).
//! - **Rust privacy** bounds every hop: a private item is only reached from its module and the
//!   module's children, `pub(crate)` from its crate, `pub(super)` from the parent's subtree.
//! - **Type-only changes** (a `type`, an `interface`, annotations only; a Rust type alias) reach
//!   their users as type-only; they go further only through type-level declarations and
//!   signatures, never into runtime behaviour.
//! - **File level.** Where symbols are missing (a file that could not be read, syntax errors, a
//!   namespace import used as a value, `import()`/`require()` in code, an import form the symbol
//!   reader does not follow, items a macro makes) the walk falls back to the file for that edge
//!   and counts it ([`Reach::fallbacks`]).
//! - **Top-level code.** When a file's top-level statements are affected, the files importing it
//!   are reached (they run that code when they load it), and side-effect imports (`import "x"`)
//!   carry it on.
//! - **Data.** A JSON file a module imports is a module whose exports are its top-level keys. A
//!   `package.json` change to metadata (`version`, `description`, `scripts`, …) reaches nothing;
//!   a dependency whose version changes reaches the files that import that package; a change to
//!   how the package resolves (`main`, `exports`, …) reaches the files that import it by name.
//!
//! Tests and `impact.stop-at` files are reached but never propagate. Symbols are loaded lazily
//! through a [`SymbolSource`], level by level: only the changed files and the importers of what
//! is affected are ever parsed for symbols. One walk per side (head, and base for what was
//! removed) serves every changed declaration at once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::{DepGraph, UnresolvedKind};
use crate::git::diff::ChangeSet;
use crate::glob::GlobList;
use crate::lang::json::PackageJsonChange;
use crate::lang::symbols::{self, ChangeKind, DeclChange, DeclKind, Symbols, Vis, TOP_LEVEL};
use crate::lang::Lang;
use crate::resolve::package_name;
use crate::resolve::symbols::{Coarse, LinkExport, LinkTo, Linked, ModLoc};

/// A file's symbols with their links.
#[derive(Debug)]
pub struct FileSymbols {
    pub syms: Arc<Symbols>,
    pub link: Linked,
}

/// Where the walk gets symbols from (parsing on demand, in parallel).
pub trait SymbolSource: Sync {
    /// The symbols of these source files, in order; `None` for a file that is not a parsed
    /// source of the snapshot.
    fn load(&self, paths: &[String]) -> Vec<Option<Arc<FileSymbols>>>;
}

/// One side (revision) of the change.
pub struct SideInput<'a> {
    pub graph: &'a DepGraph,
    pub source: &'a dyn SymbolSource,
}

/// A changed JSON file, read.
#[derive(Debug, Clone)]
pub enum DataChange {
    /// A `package.json`: what changed, or why it could not be read.
    PackageJson {
        path: String,
        change: Result<PackageJsonChange, String>,
    },
    /// Any other JSON file: the top-level keys that changed (`None`: the whole document).
    Json {
        path: String,
        keys: Option<Vec<String>>,
    },
}

impl DataChange {
    pub fn path(&self) -> &str {
        match self {
            DataChange::PackageJson { path, .. } | DataChange::Json { path, .. } => path,
        }
    }
}

pub struct ReachInput<'a> {
    pub changes: &'a ChangeSet,
    pub head: SideInput<'a>,
    pub base: SideInput<'a>,
    /// Test files: reached, never propagating.
    pub tests: &'a GlobList,
    /// `impact.stop-at`: reached, never propagating.
    pub stop: &'a GlobList,
    pub data: &'a [DataChange],
    /// The names of the repository's own packages (workspaces), at head and base.
    pub workspace: &'a BTreeSet<String>,
    /// Changed direct dependencies (from the manifests and lock files): each reaches the head
    /// files that import it.
    pub packages: &'a [PackageSeed],
}

/// A changed direct dependency, as the walk starts from it: the package is the changed
/// "declaration", its importers are reached (and go no further: they run the package's code,
/// their own exports did not change).
#[derive(Debug, Clone, Default)]
pub struct PackageSeed {
    /// The changed file it belongs to (its manifest, else the lock file): the walk's origin.
    pub file: String,
    /// The package's name as imported (`zod`, `serde_json`).
    pub name: String,
    /// Head files that import it.
    pub importers: Vec<String>,
    /// Of those, the files that import only its types (reached as type-only).
    pub type_only: BTreeSet<String>,
}

/// What the walk found.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Per changed file, in change-set order.
    pub changed: Vec<ChangedReach>,
    /// Every file reached, changed files excluded, by path.
    pub reached: BTreeMap<String, Reached>,
    /// Edges read at file level, by reason.
    pub fallbacks: BTreeMap<&'static str, Fallback>,
    /// Files whose symbols were read.
    pub loaded: usize,
}

/// What changed in one changed file.
#[derive(Debug, Clone, Default)]
pub struct ChangedReach {
    pub path: String,
    /// Changed declarations (comments and formatting are no change).
    pub symbols: Vec<DeclChange>,
    /// Why the whole file counts as changed, when its declarations could not be compared.
    pub whole: Option<String>,
    /// A `package.json`: its changes.
    pub package: Option<PackageJsonChange>,
    /// A JSON file: the top-level keys that changed.
    pub json_keys: Option<Vec<String>>,
    /// Not a test file, and part of a graph or a `package.json`: it seeded the walk.
    pub seeded: bool,
}

/// A reached file.
#[derive(Debug, Clone, Default)]
pub struct Reached {
    /// Reached by a runtime change (else only by type-only ones).
    pub runtime: bool,
    pub test: bool,
    /// Indices of the changed files ([`Reach::changed`]) that reach it.
    pub origins: Vec<usize>,
    /// One path from a changed symbol: `src/a.ts#total`, `src/b.ts#quote`, `src/c.tsx#Page`.
    pub path: Vec<String>,
    /// The first path to it went through a file-level fallback.
    pub fallback: bool,
}

/// A reason for file-level reading, how often it carried reach, and one example.
#[derive(Debug, Clone, Default)]
pub struct Fallback {
    pub count: usize,
    pub example: String,
}

pub const FALLBACK_UNREADABLE: &str = "symbols unavailable (a file that was not parsed)";
pub const FALLBACK_SYNTAX: &str = "code the parser could not read";
pub const FALLBACK_UNCOVERED: &str = "an import form the symbol reader does not follow";
pub const FALLBACK_MACRO: &str = "items made by a macro";

/// Compute the symbol-level reach of a change.
pub fn compute(input: &ReachInput) -> Reach {
    let mut reach = Reach::default();
    let words = input.changes.files.len().div_ceil(64).max(1);
    let mut head = Walk::new(&input.head, input, words);
    let mut base = Walk::new(&input.base, input, words);
    // Every changed file on both sides, in one batch per side.
    let head_paths: Vec<String> = input
        .changes
        .files
        .iter()
        .filter(|f| f.exists_at_head() && Lang::of_path(&f.path).is_some())
        .map(|f| f.path.clone())
        .collect();
    let base_paths: Vec<String> = input
        .changes
        .files
        .iter()
        .filter_map(|f| f.base_path().map(str::to_string))
        .filter(|p| Lang::of_path(p).is_some())
        .collect();
    head.load_batch(&head_paths);
    base.load_batch(&base_paths);
    for f in &input.changes.files {
        if f.exists_at_head() {
            let id = head.id(&f.path);
            head.changed.insert(id);
        }
        if let Some(p) = f.base_path() {
            let id = base.id(p);
            base.changed.insert(id);
        }
    }
    for (k, f) in input.changes.files.iter().enumerate() {
        let mut cr = ChangedReach {
            path: f.path.clone(),
            ..ChangedReach::default()
        };
        if input.tests.is_match(&f.path) {
            reach.changed.push(cr);
            continue;
        }
        // Changed direct dependencies this file declares or locks.
        let mut seeded_packages: BTreeSet<&str> = BTreeSet::new();
        for p in input.packages.iter().filter(|p| p.file == f.path) {
            cr.seeded = true;
            head.seed_importers(k, p);
            seeded_packages.insert(&p.name);
        }
        let data = input.data.iter().find(|d| d.path() == f.path);
        match data {
            Some(DataChange::PackageJson { change, .. }) => {
                cr.seeded = true;
                match change {
                    Ok(c) => {
                        // A range on one of the repository's own packages names its code here.
                        let mut c = c.clone();
                        let (own, other): (Vec<_>, Vec<_>) = c
                            .dependencies
                            .into_iter()
                            .partition(|d| input.workspace.contains(&d.package));
                        c.dependencies = other;
                        c.workspace = own;
                        // Packages seeded from the lock file's view already reach their
                        // importers at head (with type-only ones told apart).
                        let mut at_head = c.clone();
                        at_head
                            .dependencies
                            .retain(|d| !seeded_packages.contains(d.package.as_str()));
                        head.seed_package(k, &f.path, &at_head, true);
                        base.seed_package(k, &f.path, &c, false);
                        cr.package = Some(c);
                    }
                    Err(why) => cr.whole = Some(format!("package.json could not be read: {why}")),
                }
                reach.changed.push(cr);
                continue;
            }
            Some(DataChange::Json { keys, .. }) => {
                cr.json_keys = keys.clone();
                cr.seeded |= head.seed_data(k, &f.path, keys.as_deref());
                if let Some(p) = f.base_path() {
                    cr.seeded |= base.seed_data(k, p, keys.as_deref());
                }
                reach.changed.push(cr);
                continue;
            }
            None => {}
        }
        if Lang::of_path(&f.path).is_none() {
            // A stylesheet, an image, another asset code imports: the file as a whole.
            if f.exists_at_head() && head.graph.node(&f.path).is_some() {
                cr.seeded |= head.seed_data(k, &f.path, None);
            } else if let Some(p) = f.base_path() {
                cr.seeded |= base.seed_data(k, p, None);
            }
            reach.changed.push(cr);
            continue;
        }
        let h = f
            .exists_at_head()
            .then(|| head.symbols_of(&f.path))
            .flatten();
        let b = f.base_path().and_then(|p| base.symbols_of(p));
        let in_graph = (f.exists_at_head() && head.graph.node(&f.path).is_some())
            || f.base_path().is_some_and(|p| base.graph.node(p).is_some());
        if !in_graph {
            reach.changed.push(cr);
            continue;
        }
        cr.seeded = true;
        let unreadable = (f.exists_at_head() && h.is_none())
            || (f.base_path().is_some() && b.is_none())
            || h.as_ref().is_some_and(|x| x.syms.syntax_errors)
            || b.as_ref().is_some_and(|x| x.syms.syntax_errors);
        let changes = if unreadable {
            Vec::new()
        } else {
            symbols::diff(
                b.as_ref().map(|x| x.syms.as_ref()),
                h.as_ref().map(|x| x.syms.as_ref()),
            )
        };
        // Code the parser could not read changed: what it declares is unknown.
        let broken = changes.iter().any(|c| c.kind == DeclKind::Unparsed);
        if unreadable || broken {
            cr.whole = Some(if unreadable {
                "its symbols could not be read".to_string()
            } else {
                "code the parser could not read changed, so its declarations could not be compared"
                    .to_string()
            });
            let reason = if unreadable {
                FALLBACK_UNREADABLE
            } else {
                FALLBACK_SYNTAX
            };
            let counted = format!("{} (changed)", f.path);
            if f.exists_at_head() {
                head.seed_whole(k, &f.path, reason, &counted);
            }
            if let Some(p) = f.base_path() {
                base.seed_whole(k, p, reason, &counted);
            }
            cr.symbols = changes;
            reach.changed.push(cr);
            continue;
        }
        for c in &changes {
            // A new member: the type's existing users do not call it (whoever does changed too).
            if c.change == ChangeKind::Added && c.kind == DeclKind::Member {
                continue;
            }
            let level = if c.change == ChangeKind::TypeOnly {
                Level::TypeProp
            } else {
                Level::Runtime
            };
            match (c.head, c.base) {
                (Some(i), _) => head.seed(k, &f.path, i, level),
                (None, Some(i)) => {
                    if let Some(p) = f.base_path() {
                        base.seed(k, p, i, level)
                    }
                }
                _ => {}
            }
        }
        cr.symbols = changes;
        reach.changed.push(cr);
    }
    head.run();
    base.run();
    reach.loaded = head.loaded_count() + base.loaded_count();
    for w in [&head, &base] {
        for (reason, fb) in &w.fallbacks {
            let e = reach.fallbacks.entry(reason).or_default();
            e.count += fb.count;
            if e.example.is_empty() {
                e.example = fb.example.clone();
            }
        }
    }
    let head_reached = head.reached();
    let base_reached = base.reached();
    for (path, r) in head_reached.into_iter().chain(base_reached) {
        match reach.reached.get_mut(&path) {
            Some(have) => {
                have.runtime |= r.runtime;
                for o in r.origins {
                    if !have.origins.contains(&o) {
                        have.origins.push(o);
                    }
                }
                have.origins.sort_unstable();
            }
            None => {
                reach.reached.insert(path, r);
            }
        }
    }
    // A changed file is not "reached" (it is the change); a renamed file's old path neither.
    for f in &input.changes.files {
        reach.reached.remove(&f.path);
        if let Some(p) = &f.old_path {
            reach.reached.remove(p);
        }
    }
    reach
}

// ---------------------------------------------------------------------------------------------

type FileId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// A type user: reached, goes no further.
    TypeLeaf = 1,
    /// A type-only change, carried through type-level declarations and signatures.
    TypeProp = 2,
    Runtime = 3,
}

/// Who may be reached through a node: everyone, one file, or a Rust module subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    Free,
    File(FileId),
    Module(ModLoc),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pred {
    Seed(usize),
    Node(FileId, u32),
}

#[derive(Debug, Clone)]
struct State {
    level: Level,
    origins: Vec<u64>,
    bound: Bound,
    pred: Pred,
    fallback: bool,
    /// A type affected only because one of its members changed: declarations that merely
    /// name the type (a struct field, an enum variant, a trait) run none of its code.
    via_member: bool,
    /// With `via_member`: the names of the members that changed (`None`: any, for a foreign
    /// trait's methods, which code calls without naming them). Only code that accesses a member
    /// of one of these names is reached.
    members: Option<Vec<String>>,
}

impl State {
    /// Whether a declaration that uses what this state is about is affected by it.
    fn reaches(&self, user: &crate::lang::symbols::Decl) -> bool {
        if !self.via_member {
            return true;
        }
        if is_data(user.kind) {
            return false;
        }
        match &self.members {
            None => true,
            Some(ms) => ms
                .iter()
                .any(|m| user.members_used.binary_search(m).is_ok()),
        }
    }
}

impl State {
    /// Merge `other` in; whether anything grew.
    fn merge(&mut self, other: &State) -> bool {
        let mut grew = false;
        if other.level > self.level {
            self.level = other.level;
            grew = true;
        }
        for (a, b) in self.origins.iter_mut().zip(&other.origins) {
            if *b & !*a != 0 {
                *a |= *b;
                grew = true;
            }
        }
        if self.bound != other.bound && self.bound != Bound::Free {
            self.bound = Bound::Free;
            grew = true;
        }
        if self.via_member && !other.via_member {
            self.via_member = false;
            self.members = None;
            grew = true;
        } else if self.via_member {
            match (&mut self.members, &other.members) {
                (Some(_), None) => {
                    self.members = None;
                    grew = true;
                }
                (Some(mine), Some(theirs)) => {
                    for m in theirs {
                        if !mine.contains(m) {
                            mine.push(m.clone());
                            grew = true;
                        }
                    }
                    mine.sort();
                }
                _ => {}
            }
        }
        grew
    }
}

#[derive(Debug, Clone)]
enum UserKind {
    /// A declaration that references the target.
    Decl(u32),
    /// An exported name that re-exports it.
    Reexport(String),
    /// `export * from` it.
    Star,
    /// An import edge the symbols do not explain: every declaration of the user.
    AllDecls,
}

#[derive(Debug, Clone)]
struct User {
    file: FileId,
    kind: UserKind,
    /// The name used (`None`: every name).
    name: Option<String>,
    sig: bool,
    coarse: Option<&'static str>,
}

enum Work {
    Node(FileId, u32),
    Name(FileId, String),
}

const EFFECTS: &str = "<effects>";
/// Every name of a file (the file as a whole changed or is unknown).
const ALL: &str = "*";
/// Names a macro makes (Rust): matched by any name the file does not declare.
const MACRO: &str = "?";

struct Walk<'a> {
    graph: &'a DepGraph,
    source: &'a dyn SymbolSource,
    tests: &'a GlobList,
    stop: &'a GlobList,
    words: usize,
    files: Vec<String>,
    ids: HashMap<String, FileId>,
    loaded: HashMap<FileId, Option<Arc<FileSymbols>>>,
    local_users: HashMap<FileId, Vec<Vec<(u32, bool)>>>,
    users: HashMap<FileId, Vec<User>>,
    nodes: HashMap<(FileId, u32), State>,
    names: HashMap<(FileId, String), State>,
    names_of: HashMap<FileId, Vec<String>>,
    touched: HashMap<FileId, State>,
    queue: VecDeque<Work>,
    need_users: BTreeSet<FileId>,
    users_loaded: HashSet<FileId>,
    changed: HashSet<FileId>,
    fallbacks: BTreeMap<&'static str, Fallback>,
    counted: HashSet<(FileId, FileId, &'static str)>,
}

impl<'a> Walk<'a> {
    fn new(side: &SideInput<'a>, input: &ReachInput<'a>, words: usize) -> Walk<'a> {
        Walk {
            graph: side.graph,
            source: side.source,
            tests: input.tests,
            stop: input.stop,
            words,
            files: Vec::new(),
            ids: HashMap::new(),
            loaded: HashMap::new(),
            local_users: HashMap::new(),
            users: HashMap::new(),
            nodes: HashMap::new(),
            names: HashMap::new(),
            names_of: HashMap::new(),
            touched: HashMap::new(),
            queue: VecDeque::new(),
            need_users: BTreeSet::new(),
            users_loaded: HashSet::new(),
            changed: HashSet::new(),
            fallbacks: BTreeMap::new(),
            counted: HashSet::new(),
        }
    }

    fn id(&mut self, path: &str) -> FileId {
        if let Some(&i) = self.ids.get(path) {
            return i;
        }
        self.files.push(path.to_string());
        let i = (self.files.len() - 1) as FileId;
        self.ids.insert(path.to_string(), i);
        i
    }

    fn loaded_count(&self) -> usize {
        self.loaded.values().filter(|x| x.is_some()).count()
    }

    fn origin(&self, k: usize) -> Vec<u64> {
        let mut v = vec![0u64; self.words];
        v[k / 64] |= 1 << (k % 64);
        v
    }

    fn symbols_of(&mut self, path: &str) -> Option<Arc<FileSymbols>> {
        let id = self.id(path);
        if !self.loaded.contains_key(&id) {
            self.load_batch(&[path.to_string()]);
        }
        self.loaded.get(&id).cloned().flatten()
    }

    /// Load and index files not loaded yet.
    fn load_batch(&mut self, paths: &[String]) {
        let mut todo: Vec<String> = Vec::new();
        for p in paths {
            let id = self.id(p);
            if !self.loaded.contains_key(&id) && !todo.contains(p) {
                todo.push(p.clone());
            }
        }
        if todo.is_empty() {
            return;
        }
        let got = self.source.load(&todo);
        for (p, fs) in todo.iter().zip(got) {
            let id = self.id(p);
            self.loaded.insert(id, fs.clone());
            self.index(id, fs.as_deref());
        }
    }

    fn is_test(&self, f: FileId) -> bool {
        self.tests.is_match(&self.files[f as usize])
    }

    fn propagates(&self, f: FileId) -> bool {
        self.changed.contains(&f)
            || !(self.tests.is_match(&self.files[f as usize])
                || self.stop.is_match(&self.files[f as usize]))
    }

    /// Record what `f` uses (and pull what is already affected into it).
    fn index(&mut self, f: FileId, fs: Option<&FileSymbols>) {
        let path = self.files[f as usize].clone();
        let Some(fs) = fs else {
            // Not a parsed source (binary, too large, not UTF-8): every edge from it is read at
            // file level.
            if let Some(n) = self.graph.node(&path) {
                let targets: Vec<String> = self
                    .graph
                    .direct_dependencies_used(n)
                    .map(|t| self.graph.path(t).to_string())
                    .collect();
                for t in targets {
                    let tid = self.id(&t);
                    self.add_user(
                        tid,
                        User {
                            file: f,
                            kind: UserKind::AllDecls,
                            name: None,
                            sig: true,
                            coarse: Some(FALLBACK_UNREADABLE),
                        },
                    );
                }
            }
            return;
        };
        let syms = &fs.syms;
        let mut local: Vec<Vec<(u32, bool)>> = vec![Vec::new(); syms.decls.len()];
        for (u, links) in fs.link.refs.iter().enumerate() {
            for l in links {
                match &l.to {
                    LinkTo::Local(d) => {
                        if let Some(v) = local.get_mut(*d as usize) {
                            v.push((u as u32, l.sig));
                        }
                    }
                    LinkTo::Name { file, name } => {
                        let t = self.id(file);
                        self.add_user(
                            t,
                            User {
                                file: f,
                                kind: UserKind::Decl(u as u32),
                                name: Some(name.clone()),
                                sig: l.sig,
                                coarse: None,
                            },
                        );
                    }
                    LinkTo::All { file, why } => {
                        let t = self.id(file);
                        self.add_user(
                            t,
                            User {
                                file: f,
                                kind: UserKind::Decl(u as u32),
                                name: None,
                                sig: l.sig,
                                coarse: Some(why.label()),
                            },
                        );
                    }
                    LinkTo::Effects { file } => {
                        let t = self.id(file);
                        self.add_user(
                            t,
                            User {
                                file: f,
                                kind: UserKind::Decl(u as u32),
                                name: Some(EFFECTS.to_string()),
                                sig: false,
                                coarse: None,
                            },
                        );
                    }
                    LinkTo::External { .. } => {}
                }
            }
        }
        self.local_users.insert(f, local);
        for (e, target) in &fs.link.exports {
            let (t, kind, name, coarse) = match target {
                LinkExport::Local(_) => continue,
                LinkExport::Name { file, name } => (
                    file,
                    UserKind::Reexport(e.clone()),
                    Some(name.clone()),
                    None,
                ),
                LinkExport::All { file } => (
                    file,
                    UserKind::Reexport(e.clone()),
                    None,
                    Some(Coarse::NamespaceReexport.label()),
                ),
                LinkExport::Star { file } => (file, UserKind::Star, None, None),
            };
            let tid = self.id(t);
            self.add_user(
                tid,
                User {
                    file: f,
                    kind,
                    name,
                    sig: true,
                    coarse,
                },
            );
        }
        // Import edges the symbols do not explain (TypeScript): the whole file uses the target.
        if !fs.link.rust {
            if let Some(n) = self.graph.node(&path) {
                let uncovered: Vec<String> = self
                    .graph
                    .direct_dependencies_used(n)
                    .map(|t| self.graph.path(t).to_string())
                    .filter(|t| !fs.link.covered.contains(t))
                    .collect();
                for t in uncovered {
                    let tid = self.id(&t);
                    self.add_user(
                        tid,
                        User {
                            file: f,
                            kind: UserKind::AllDecls,
                            name: None,
                            sig: true,
                            coarse: Some(FALLBACK_UNCOVERED),
                        },
                    );
                }
            }
        }
        if syms.syntax_errors && !self.changed.contains(&f) {
            // Nothing could be read: every edge from it is read at file level.
            if let Some(n) = self.graph.node(&path) {
                let targets: Vec<String> = self
                    .graph
                    .direct_dependencies_used(n)
                    .map(|t| self.graph.path(t).to_string())
                    .collect();
                for t in targets {
                    let tid = self.id(&t);
                    self.add_user(
                        tid,
                        User {
                            file: f,
                            kind: UserKind::AllDecls,
                            name: None,
                            sig: true,
                            coarse: Some(FALLBACK_SYNTAX),
                        },
                    );
                }
            }
        }
    }

    /// Add a user of `target`, applying what is already affected in it.
    fn add_user(&mut self, target: FileId, user: User) {
        let names: Vec<String> = if self.users_loaded.contains(&target) {
            self.names_of.get(&target).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        for n in &names {
            if self.matches(target, user.name.as_deref(), n) {
                let st = self.names[&(target, n.clone())].clone();
                self.apply(target, n, &user, &st);
            }
        }
        self.users.entry(target).or_default().push(user);
    }

    fn seed(&mut self, k: usize, path: &str, decl: u32, level: Level) {
        let f = self.id(path);
        let st = State {
            level,
            origins: self.origin(k),
            bound: Bound::Free,
            pred: Pred::Seed(k),
            fallback: false,
            via_member: false,
            members: None,
        };
        self.merge_node(f, decl, st);
    }

    /// The whole changed file: every declaration, every name.
    fn seed_whole(&mut self, k: usize, path: &str, reason: &'static str, example: &str) {
        let f = self.id(path);
        let decls = self
            .loaded
            .get(&f)
            .cloned()
            .flatten()
            .map_or(0, |fs| fs.syms.decls.len());
        let st = State {
            level: Level::Runtime,
            origins: self.origin(k),
            bound: Bound::Free,
            pred: Pred::Seed(k),
            fallback: true,
            via_member: false,
            members: None,
        };
        for d in 0..decls as u32 {
            self.merge_node(f, d, st.clone());
        }
        self.merge_name(f, ALL, st);
        let e = self.fallbacks.entry(reason).or_default();
        e.count += 1;
        if e.example.is_empty() {
            e.example = example.to_string();
        }
    }

    /// A data file (or asset) of the graph: the changed keys, or all of it. Whether it seeded.
    fn seed_data(&mut self, k: usize, path: &str, keys: Option<&[String]>) -> bool {
        if self.graph.node(path).is_none() {
            return false;
        }
        let f = self.id(path);
        let st = State {
            level: Level::Runtime,
            origins: self.origin(k),
            bound: Bound::Free,
            pred: Pred::Seed(k),
            fallback: false,
            via_member: false,
            members: None,
        };
        match keys {
            None => self.merge_name(f, ALL, st),
            Some(keys) => {
                if !keys.is_empty() {
                    self.merge_name(f, "default", st.clone());
                }
                for key in keys {
                    self.merge_name(f, key, st.clone());
                }
            }
        }
        true
    }

    /// A `package.json`: dependency changes reach the files that import the package (from the
    /// package's directory down), resolution changes the files that import the package by
    /// name; metadata reaches nothing.
    fn seed_package(&mut self, k: usize, path: &str, c: &PackageJsonChange, head: bool) {
        let dir = path.strip_suffix("package.json").unwrap_or("");
        let st = State {
            level: Level::Runtime,
            origins: self.origin(k),
            bound: Bound::Free,
            pred: Pred::Seed(k),
            fallback: false,
            via_member: false,
            members: None,
        };
        let mut hits: BTreeSet<String> = BTreeSet::new();
        for d in &c.dependencies {
            // Added dependencies have importers at head, removed ones at base.
            if (head && d.to.is_none()) || (!head && d.to.is_some()) {
                continue;
            }
            for u in &self.graph.unresolved {
                if u.kind == UnresolvedKind::External
                    && u.from.starts_with(dir)
                    && package_name(&u.specifier) == d.package
                {
                    hits.insert(u.from.clone());
                }
            }
            for (from, _, e) in self.graph.edges() {
                if from.starts_with(dir)
                    && !e.specifier.starts_with('.')
                    && package_name(&e.specifier) == d.package
                {
                    hits.insert(from.to_string());
                }
            }
        }
        if let (false, Some(name)) = (c.resolution.is_empty(), &c.name) {
            for (from, _, e) in self.graph.edges() {
                if package_name(&e.specifier) == name.as_str() {
                    hits.insert(from.to_string());
                }
            }
            for u in &self.graph.unresolved {
                if package_name(&u.specifier) == name.as_str() {
                    hits.insert(u.from.clone());
                }
            }
        }
        for h in hits {
            let f = self.id(&h);
            self.touch(f, st.clone());
        }
    }

    /// A changed direct dependency: its importers are reached, type-only importers as type
    /// users.
    fn seed_importers(&mut self, k: usize, p: &PackageSeed) {
        for file in &p.importers {
            let level = if p.type_only.contains(file) {
                Level::TypeLeaf
            } else {
                Level::Runtime
            };
            let st = State {
                level,
                origins: self.origin(k),
                bound: Bound::Free,
                pred: Pred::Seed(k),
                fallback: false,
                via_member: false,
                members: None,
            };
            let f = self.id(file);
            self.touch(f, st);
        }
    }

    fn touch(&mut self, f: FileId, st: State) {
        match self.touched.get_mut(&f) {
            Some(have) => {
                have.merge(&st);
            }
            None => {
                self.touched.insert(f, st);
            }
        }
    }

    fn merge_node(&mut self, f: FileId, d: u32, st: State) {
        let grew = match self.nodes.get_mut(&(f, d)) {
            Some(have) => have.merge(&st),
            None => {
                self.nodes.insert((f, d), st);
                true
            }
        };
        if grew {
            self.queue.push_back(Work::Node(f, d));
        }
    }

    fn merge_name(&mut self, f: FileId, name: &str, st: State) {
        let key = (f, name.to_string());
        let grew = match self.names.get_mut(&key) {
            Some(have) => have.merge(&st),
            None => {
                self.names.insert(key, st);
                self.names_of.entry(f).or_default().push(name.to_string());
                true
            }
        };
        if grew {
            self.queue.push_back(Work::Name(f, name.to_string()));
        }
    }

    fn run(&mut self) {
        loop {
            while let Some(w) = self.queue.pop_front() {
                match w {
                    Work::Node(f, d) => self.node(f, d),
                    Work::Name(f, n) => self.name(f, &n),
                }
            }
            if self.need_users.is_empty() {
                break;
            }
            let need: Vec<FileId> = std::mem::take(&mut self.need_users).into_iter().collect();
            let mut paths: Vec<String> = Vec::new();
            for &c in &need {
                if let Some(n) = self.graph.node(&self.files[c as usize]) {
                    for d in self.graph.direct_dependents(n) {
                        paths.push(self.graph.path(d).to_string());
                    }
                }
            }
            paths.sort();
            paths.dedup();
            self.load_batch(&paths);
            for c in need {
                self.users_loaded.insert(c);
                for n in self.names_of.get(&c).cloned().unwrap_or_default() {
                    self.queue.push_back(Work::Name(c, n));
                }
            }
        }
    }

    fn decl_info(&self, f: FileId, d: u32) -> Option<(Arc<FileSymbols>, usize)> {
        let fs = self.loaded.get(&f)?.clone()?;
        ((d as usize) < fs.syms.decls.len()).then_some((fs, d as usize))
    }

    /// The bound a member's visibility puts on its owner's users.
    fn member_bound(&self, f: FileId, fs: &FileSymbols, d: usize) -> Bound {
        let decl = &fs.syms.decls[d];
        if !fs.link.rust {
            return if decl.vis == Vis::Private {
                Bound::File(f)
            } else {
                Bound::Free
            };
        }
        let Some(loc) = fs.link.scopes.get(decl.scope as usize) else {
            return Bound::Free;
        };
        match decl.vis {
            Vis::Public => Bound::Free,
            Vis::Crate => Bound::Module(ModLoc {
                krate: loc.krate,
                path: Vec::new(),
            }),
            Vis::Private => Bound::Module(loc.clone()),
            Vis::Super => Bound::Module(ModLoc {
                krate: loc.krate,
                path: loc.path[..loc.path.len().saturating_sub(1)].to_vec(),
            }),
        }
    }

    fn node(&mut self, f: FileId, d: u32) {
        let Some(st) = self.nodes.get(&(f, d)).cloned() else {
            return;
        };
        if !self.propagates(f) || st.level == Level::TypeLeaf {
            return;
        }
        let Some((fs, di)) = self.decl_info(f, d) else {
            return;
        };
        // Test code in a production file (`#[cfg(test)] mod tests`): reached, never propagating.
        if fs.syms.decls[di].test {
            return;
        }
        let me = Pred::Node(f, d);
        // Users in the same file.
        let locals = self
            .local_users
            .get(&f)
            .and_then(|l| l.get(di))
            .cloned()
            .unwrap_or_default();
        for (u, sig) in locals {
            // A type's members are not affected by what affects the type.
            if fs.link.owners.get(u as usize) == Some(&Some(LinkTo::Local(d))) {
                continue;
            }
            if !self.within(&st.bound, f, &fs, u) {
                continue;
            }
            let level = carry(st.level, sig, type_like(&fs.syms.decls[u as usize]));
            if !st.reaches(&fs.syms.decls[u as usize]) {
                continue;
            }
            if let Some(level) = level {
                let next = State {
                    level,
                    origins: st.origins.clone(),
                    bound: Bound::Free,
                    pred: me,
                    fallback: st.fallback,
                    via_member: false,
                    members: None,
                };
                self.merge_node(f, u, next);
            }
        }
        // A member affects its owner type.
        if let Some(Some(owner)) = fs.link.owners.get(di) {
            let bound = self.member_bound(f, &fs, di);
            let decl = &fs.syms.decls[di];
            let implicit = fs.link.implicit.get(di).copied().unwrap_or(false);
            let members = (decl.kind == DeclKind::Member && !implicit).then(|| {
                vec![decl
                    .name
                    .rsplit("::")
                    .next()
                    .unwrap_or(&decl.name)
                    .to_string()]
            });
            let next = State {
                level: st.level,
                origins: st.origins.clone(),
                bound,
                pred: me,
                fallback: st.fallback,
                via_member: true,
                members,
            };
            match owner {
                LinkTo::Local(o) => self.merge_node(f, *o, next),
                LinkTo::Name { file, name } => {
                    let t = self.id(file);
                    self.merge_name(t, name, next);
                }
                _ => {}
            }
        }
        if let Bound::File(_) = st.bound {
            return;
        }
        // Across files: the names it is known by.
        let decl = &fs.syms.decls[di];
        let mut names: Vec<String> = fs
            .syms
            .export_names(d, fs.link.rust)
            .into_iter()
            .map(str::to_string)
            .collect();
        if decl.name == TOP_LEVEL {
            names.push(EFFECTS.to_string());
        }
        if fs.link.rust && decl.kind == DeclKind::MacroCall {
            names.push(MACRO.to_string());
        }
        for n in names {
            self.merge_name(
                f,
                &n,
                State {
                    level: st.level,
                    origins: st.origins.clone(),
                    bound: st.bound.clone(),
                    pred: me,
                    fallback: st.fallback,
                    via_member: st.via_member,
                    members: st.members.clone(),
                },
            );
        }
    }

    /// Whether declaration `u` of file `f` is inside `bound`.
    fn within(&self, bound: &Bound, f: FileId, fs: &FileSymbols, u: u32) -> bool {
        match bound {
            Bound::Free => true,
            Bound::File(x) => *x == f,
            Bound::Module(loc) => {
                let scope = fs.syms.decls.get(u as usize).map_or(0, |d| d.scope);
                match fs.link.scopes.get(scope as usize) {
                    Some(l) => l.krate == loc.krate && l.path.starts_with(&loc.path),
                    None => true,
                }
            }
        }
    }

    fn name(&mut self, c: FileId, n: &str) {
        let Some(st) = self.names.get(&(c, n.to_string())).cloned() else {
            return;
        };
        if !self.propagates(c) || st.level == Level::TypeLeaf {
            return;
        }
        if !self.users_loaded.contains(&c) {
            self.need_users.insert(c);
            return;
        }
        let users = self.users.get(&c).cloned().unwrap_or_default();
        for u in &users {
            if self.matches(c, u.name.as_deref(), n) {
                self.apply(c, n, u, &st);
            }
        }
        if n == EFFECTS {
            // Files that load it run its top-level code.
            let importers: Vec<FileId> = users.iter().map(|u| u.file).collect();
            for f in importers {
                let next = State {
                    level: Level::Runtime,
                    origins: st.origins.clone(),
                    bound: Bound::Free,
                    pred: st.pred,
                    fallback: st.fallback,
                    via_member: false,
                    members: None,
                };
                self.touch(f, next);
            }
        }
    }

    /// Whether a use of `used` (`None`: every name) in file `c` is a use of the affected name `n`.
    fn matches(&self, c: FileId, used: Option<&str>, n: &str) -> bool {
        let Some(used) = used else {
            return n != EFFECTS;
        };
        if used == n || n == ALL {
            return true;
        }
        if n == EFFECTS || used == EFFECTS {
            return false;
        }
        let Some(Some(fs)) = self.loaded.get(&c) else {
            // Not a source (a JSON file): its names are its keys, plus `default`.
            return false;
        };
        if fs.link.rust {
            // An item the file does not declare: made by a macro.
            return n == MACRO && fs.syms.decls_named(used).next().is_none();
        }
        // CommonJS: a name the module does not export is a property of `module.exports`.
        fs.syms.commonjs && !fs.link.exports.iter().any(|(e, _)| e == used)
    }

    /// Apply the affected name `n` of `c` (state `st`) to one of its users.
    fn apply(&mut self, c: FileId, n: &str, u: &User, st: &State) {
        if let Some(reason) = u.coarse {
            if self.counted.insert((u.file, c, reason)) {
                let example = format!(
                    "{} → {}",
                    self.files[u.file as usize], self.files[c as usize]
                );
                let e = self.fallbacks.entry(reason).or_default();
                e.count += 1;
                if e.example.is_empty() {
                    e.example = example;
                }
            }
        }
        let fallback = st.fallback || u.coarse.is_some();
        match &u.kind {
            UserKind::Decl(d) => {
                let Some((fs, di)) = self.decl_info(u.file, *d) else {
                    return;
                };
                if !self.visible(c, n, u.file, &fs, *d, &st.bound) {
                    return;
                }
                if !st.reaches(&fs.syms.decls[di]) {
                    return;
                }
                if let Some(level) = carry(st.level, u.sig, type_like(&fs.syms.decls[di])) {
                    self.merge_node(
                        u.file,
                        *d,
                        State {
                            level,
                            origins: st.origins.clone(),
                            bound: Bound::Free,
                            pred: st.pred,
                            fallback,
                            via_member: false,
                            members: None,
                        },
                    );
                }
            }
            UserKind::Reexport(e) => {
                let next = State {
                    fallback,
                    ..st.clone()
                };
                self.merge_name(u.file, e, next);
            }
            UserKind::Star => {
                if n == EFFECTS || n == "default" {
                    return;
                }
                let own = self
                    .loaded
                    .get(&u.file)
                    .cloned()
                    .flatten()
                    .is_some_and(|fs| fs.link.exports.iter().any(|(e, _)| e == n));
                if !own {
                    let next = State {
                        fallback,
                        ..st.clone()
                    };
                    self.merge_name(u.file, n, next);
                }
            }
            UserKind::AllDecls => {
                let count = self
                    .loaded
                    .get(&u.file)
                    .cloned()
                    .flatten()
                    .map_or(0, |fs| fs.syms.decls.len());
                let next = State {
                    level: st.level.max(Level::TypeProp),
                    origins: st.origins.clone(),
                    bound: Bound::Free,
                    pred: st.pred,
                    fallback: true,
                    via_member: false,
                    members: None,
                };
                if count == 0 {
                    self.touch(u.file, next.clone());
                    self.merge_name(u.file, ALL, next.clone());
                }
                let fs = self.loaded.get(&u.file).cloned().flatten();
                for d in 0..count as u32 {
                    let type_level = fs
                        .as_ref()
                        .is_some_and(|fs| type_like(&fs.syms.decls[d as usize]));
                    if let Some(level) = carry(next.level, true, type_level) {
                        self.merge_node(
                            u.file,
                            d,
                            State {
                                level,
                                ..next.clone()
                            },
                        );
                    }
                }
            }
        }
    }

    /// Rust privacy: whether declaration `d` of `user_file` may use the name `n` of `c`.
    fn visible(
        &self,
        c: FileId,
        n: &str,
        user_file: FileId,
        user: &FileSymbols,
        d: u32,
        bound: &Bound,
    ) -> bool {
        if !self.within(bound, user_file, user, d) {
            return false;
        }
        if !user.link.rust {
            return true;
        }
        let Some(Some(def)) = self.loaded.get(&c) else {
            return true;
        };
        let Some(di) = def.syms.decls_named(n).next() else {
            return true;
        };
        let decl = &def.syms.decls[di as usize];
        let Some(loc) = def.link.scopes.get(decl.scope as usize) else {
            return true;
        };
        let need = match decl.vis {
            Vis::Public => return true,
            Vis::Crate => ModLoc {
                krate: loc.krate,
                path: Vec::new(),
            },
            Vis::Private => loc.clone(),
            Vis::Super => ModLoc {
                krate: loc.krate,
                path: loc.path[..loc.path.len().saturating_sub(1)].to_vec(),
            },
        };
        self.within(&Bound::Module(need), user_file, user, d)
    }

    /// Every file reached on this side (changed files included; the caller drops them).
    fn reached(&self) -> Vec<(String, Reached)> {
        let mut by_file: BTreeMap<FileId, FileReach> = BTreeMap::new();
        // Files reached only in their test code count as tests.
        let mut production: HashSet<FileId> = self.touched.keys().copied().collect();
        for ((f, d), st) in &self.nodes {
            if self.changed.contains(f) {
                continue;
            }
            let test_decl = self
                .loaded
                .get(f)
                .and_then(|x| x.as_ref())
                .and_then(|fs| fs.syms.decls.get(*d as usize))
                .is_some_and(|x| x.test);
            if !test_decl {
                production.insert(*f);
            }
            let e = by_file
                .entry(*f)
                .or_insert((Level::TypeLeaf, vec![0; self.words], None, true));
            e.0 = e.0.max(st.level);
            for (a, b) in e.1.iter_mut().zip(&st.origins) {
                *a |= *b;
            }
            // The path shown: a runtime node first, then the first declaration.
            let better = match e.2 {
                None => true,
                Some((od, _)) => {
                    let old = self.nodes[&(*f, od)].level;
                    st.level > old || (st.level == old && *d < od)
                }
            };
            if better {
                e.2 = Some((*d, st.fallback));
            }
            e.3 &= st.fallback;
        }
        for (f, st) in &self.touched {
            if self.changed.contains(f) {
                continue;
            }
            let e = by_file
                .entry(*f)
                .or_insert((st.level, vec![0; self.words], None, st.fallback));
            e.0 = e.0.max(st.level);
            for (a, b) in e.1.iter_mut().zip(&st.origins) {
                *a |= *b;
            }
        }
        by_file
            .into_iter()
            .map(|(f, (level, origins, node, fallback))| {
                let mut path = match node {
                    Some((d, _)) => self.path_to(Pred::Node(f, d)),
                    None => {
                        let st = &self.touched[&f];
                        let mut p = self.path_to(st.pred);
                        p.push(self.files[f as usize].clone());
                        p
                    }
                };
                path.dedup();
                let origins = origins
                    .iter()
                    .enumerate()
                    .flat_map(|(w, bits)| {
                        (0..64)
                            .filter(move |b| bits & (1 << b) != 0)
                            .map(move |b| w * 64 + b)
                    })
                    .collect();
                (
                    self.files[f as usize].clone(),
                    Reached {
                        runtime: level == Level::Runtime,
                        test: self.is_test(f) || !production.contains(&f),
                        origins,
                        path,
                        fallback,
                    },
                )
            })
            .collect()
    }

    /// `file#decl` hops from a seed to `to`.
    fn path_to(&self, to: Pred) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = to;
        let mut seen = HashSet::new();
        while let Pred::Node(f, d) = cur {
            if !seen.insert((f, d)) || out.len() > 64 {
                break;
            }
            let name = self
                .loaded
                .get(&f)
                .and_then(|x| x.as_ref())
                .and_then(|fs| fs.syms.decls.get(d as usize))
                .map(|x| x.name.clone())
                .unwrap_or_default();
            out.push(format!("{}#{name}", self.files[f as usize]));
            cur = match self.nodes.get(&(f, d)) {
                Some(st) => st.pred,
                None => break,
            };
        }
        out.reverse();
        out
    }
}

/// What one file's affected nodes add up to: the highest level, the origins, the declaration
/// whose path is shown, and whether every path to it went through a file-level fallback.
type FileReach = (Level, Vec<u64>, Option<(u32, bool)>, bool);

/// Declarations with no code of their own: a change inside a type's methods does not reach them.
fn is_data(kind: DeclKind) -> bool {
    matches!(
        kind,
        DeclKind::Struct
            | DeclKind::Enum
            | DeclKind::Type
            | DeclKind::Interface
            | DeclKind::Trait
            | DeclKind::Impl
    )
}

/// A declaration without behaviour of its own: a type-level one (a TypeScript `type` or
/// `interface`, a Rust `type` alias), or a Rust `struct`/`enum`, whose definition embedding a
/// changed type changes its type (layout), not what any code does.
fn type_like(d: &crate::lang::symbols::Decl) -> bool {
    d.type_level || matches!(d.kind, DeclKind::Struct | DeclKind::Enum)
}

/// The level a user gets from a dependency at `level`, used in its signature or not.
fn carry(level: Level, sig: bool, user_type_level: bool) -> Option<Level> {
    match level {
        // A type-level declaration has no runtime behaviour to change: its type may.
        Level::Runtime if user_type_level => Some(Level::TypeProp),
        Level::Runtime => Some(Level::Runtime),
        Level::TypeProp if sig || user_type_level => Some(Level::TypeProp),
        Level::TypeProp => Some(Level::TypeLeaf),
        Level::TypeLeaf => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::diff::{ChangedFile, Status};
    use crate::graph::ResolvedImport;
    use crate::lang::{symbols, Import, ImportKind};
    use crate::resolve::symbols::link_js;
    use crate::resolve::Target;

    /// TypeScript files by path; `./x` resolves to `x.ts`.
    struct Files(BTreeMap<String, String>);

    impl Files {
        fn new(files: &[(&str, &str)]) -> Files {
            Files(
                files
                    .iter()
                    .map(|(p, s)| (p.to_string(), s.to_string()))
                    .collect(),
            )
        }

        fn target(spec: &str) -> Target {
            Target::File {
                path: format!("{}.ts", spec.trim_start_matches("./")),
            }
        }

        fn graph(&self) -> DepGraph {
            let mut imports = Vec::new();
            for (p, src) in &self.0 {
                let s = symbols::extract(Lang::TypeScript, src);
                for b in &s.bindings {
                    imports.push(ResolvedImport {
                        from: p.clone(),
                        import: Import {
                            specifier: b.specifier.clone(),
                            line: b.line,
                            kind: ImportKind::Import,
                            type_only: false,
                        },
                        target: Files::target(&b.specifier),
                    });
                }
            }
            DepGraph::build(self.0.keys().map(String::as_str), imports)
        }
    }

    impl SymbolSource for Files {
        fn load(&self, paths: &[String]) -> Vec<Option<Arc<FileSymbols>>> {
            paths
                .iter()
                .map(|p| {
                    let src = self.0.get(p)?;
                    let syms = Arc::new(symbols::extract(Lang::TypeScript, src));
                    let link = link_js(&syms, Files::target);
                    Some(Arc::new(FileSymbols { syms, link }))
                })
                .collect()
        }
    }

    fn modified(path: &str) -> ChangedFile {
        ChangedFile {
            path: path.into(),
            old_path: None,
            status: Status::Modified,
            similarity: None,
            additions: 1,
            deletions: 1,
            added_lines: Vec::new(),
            removed_lines: Vec::new(),
            binary: false,
            oversize: false,
            symlink: false,
            submodule: false,
            missing: false,
            old_oid: None,
            new_oid: None,
        }
    }

    /// The reached files (path → runtime?) when `base` becomes `head`.
    fn walk(base: &[(&str, &str)], head: &[(&str, &str)]) -> BTreeMap<String, bool> {
        let (b, h) = (Files::new(base), Files::new(head));
        let changes = ChangeSet {
            files: h
                .0
                .iter()
                .filter(|(p, s)| b.0.get(*p) != Some(s))
                .map(|(p, _)| modified(p))
                .collect(),
        };
        let (bg, hg) = (b.graph(), h.graph());
        let none = GlobList::new(std::iter::empty::<&crate::glob::Pattern>());
        let workspace = BTreeSet::new();
        let reach = compute(&ReachInput {
            changes: &changes,
            head: SideInput {
                graph: &hg,
                source: &h,
            },
            base: SideInput {
                graph: &bg,
                source: &b,
            },
            tests: &none,
            stop: &none,
            data: &[],
            workspace: &workspace,
            packages: &[],
        });
        reach
            .reached
            .into_iter()
            .map(|(p, r)| (p, r.runtime))
            .collect()
    }

    fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(p, s)| (p.as_str(), s.as_str())).collect()
    }

    fn got(items: &[(&str, bool)]) -> BTreeMap<String, bool> {
        items.iter().map(|(p, r)| (p.to_string(), *r)).collect()
    }

    #[test]
    fn star_reexports_commonjs_and_private_members() {
        let lib = "export function a() { return 1; }\nexport function b() { return 2; }\nexport class Cart { add() { return this.#n(); } #n() { return 1; } }\n";
        let rest: &[(&str, &str)] = &[
            ("barrel.ts", "export * from './lib';\n"),
            (
                "ua.ts",
                "import { a } from './barrel';\nexport const ua = () => a();\n",
            ),
            (
                "ub.ts",
                "import { b } from './barrel';\nexport const ub = () => b();\n",
            ),
            (
                "cjs.ts",
                "const { a } = require('./lib');\nmodule.exports = { run: () => a() };\n",
            ),
            (
                "ucjs.ts",
                "import { run } from './cjs';\nexport const u = run;\n",
            ),
            (
                "cart.ts",
                "import { Cart } from './lib';\nexport const c = () => new Cart().add();\n",
            ),
            (
                "make.ts",
                "import { Cart } from './lib';\nexport const m = () => new Cart();\n",
            ),
        ];
        let with = |lib: &str| -> Vec<(String, String)> {
            let mut v = vec![("lib.ts".to_string(), lib.to_string())];
            v.extend(rest.iter().map(|(p, s)| (p.to_string(), s.to_string())));
            v
        };
        let run = |base: &str, head: &str| {
            let (b, h) = (with(base), with(head));
            walk(&pairs(&b), &pairs(&h))
        };
        // `a` changes: through `export *`, and through a CommonJS module's default export.
        let head = lib.replace(
            "return 1; }\nexport function b",
            "return 10; }\nexport function b",
        );
        assert_eq!(
            run(lib, &head),
            got(&[("cjs.ts", true), ("ua.ts", true), ("ucjs.ts", true)])
        );
        // A private member used by a public one: the class's users that call that one.
        let head = lib.replace("#n() { return 1; }", "#n() { return 2; }");
        assert_eq!(run(lib, &head), got(&[("cart.ts", true)]));
        // A private member nothing public uses: nobody outside the file.
        let lib2 = "export class Cart { add() { return 1; } #n() { return 1; } }\n";
        let head2 = "export class Cart { add() { return 1; } #n() { return 2; } }\n";
        assert_eq!(run(lib2, head2), got(&[]));
    }

    #[test]
    fn type_only_changes_stay_in_types() {
        let base: &[(&str, &str)] = &[
            ("t.ts", "export interface M { a: number }\n"),
            ("f.ts", "import type { M } from './t';\nexport function f(m: M) { return m.a; }\nexport function g() { const x: M = { a: 1 }; return x.a; }\n"),
            ("u.ts", "import { f, g } from './f';\nexport const u = () => f({ a: 1 }) + g();\n"),
        ];
        let mut head = base.to_vec();
        head[0] = ("t.ts", "export interface M { a: number; b?: string }\n");
        // f's signature names M: f's callers are type users; g uses M in its body only.
        assert_eq!(walk(base, &head), got(&[("f.ts", false), ("u.ts", false)]));
    }
}
