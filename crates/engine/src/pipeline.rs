//! The whole pipeline in one function: revisions → change set → snapshots → parsed files →
//! dependency graphs → scores → report. Each stage is its own module; this file only wires them,
//! opens the caches, and reports progress through an [`Observer`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::{self, HistoryCache, ParseCache};
use crate::error::Result;
use crate::git::diff::{self, ChangeSet};
use crate::git::files::{self, FileSource};
use crate::git::history::{self, FixMatcher};
use crate::git::revisions::{self, Revisions};
use crate::git::snapshot::Snapshot;
use crate::git::with_thread_repo;
use crate::git::Oid;
use crate::git::Repo;
use crate::glob::GlobList;
use crate::graph::reach::{DataChange, FileSymbols, Reach, ReachInput, SideInput, SymbolSource};
use crate::graph::{self, DepGraph, ResolvedImport, UnresolvedKind};
use crate::lang::symbols::{self, Symbols};
use crate::lang::{json, Family, FileFacts, Lang};
use crate::parse::{select_sources, FileSettings, Filters, ParseStore, SourceFile};
use crate::report::{
    self, ChangeSummary, ConfigInfo, Dimensions, GraphSummary, Note, NoteCode, Report, Tool,
};
use crate::resolve::javascript::JsResolver;
use crate::resolve::packages::{self, PackageSurface};
use crate::resolve::rust;
use crate::resolve::symbols::{link_js, LinkExport, LinkTo, Linked};
use crate::resolve::vfs::SnapshotFs;
use crate::resolve::workspaces;
use crate::score::coupling::rules::CouplingSettings;
use crate::score::impact::ImpactSettings;
use crate::score::regression::{Mined, RegressionSettings};
use crate::score::security::{self, RuleFile, RuleSet, SecuritySettings};
use crate::score::{self, coupling, impact, regression, Weights};

/// Every setting the engine reads: the `.pr-risk.yml` sections that belong to it. The binary's
/// configuration schema gathers these sections (and its own) and hands them over.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// A composite score above this blocks (0–100).
    pub threshold: u8,
    /// Any new critical security finding blocks, whatever the score.
    pub fail_on_critical_security: bool,
    pub weights: Weights,
    pub files: FileSettings,
    pub impact: ImpactSettings,
    pub regression: RegressionSettings,
    pub security: SecuritySettings,
    pub coupling: CouplingSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 70,
            fail_on_critical_security: true,
            weights: Weights::default(),
            files: FileSettings::default(),
            impact: ImpactSettings::default(),
            regression: RegressionSettings::default(),
            security: SecuritySettings::default(),
            coupling: CouplingSettings::default(),
        }
    }
}

/// What to score and how.
#[derive(Debug, Clone)]
pub struct Request {
    pub base: Option<String>,
    pub head: Option<String>,
    pub settings: Settings,
    /// Where the settings were read from: the working tree, or (action mode) the base commit's
    /// objects, so a PR cannot lower its own bar. Rule directories are read from it too.
    pub source: FileSource,
    /// The configuration file used (`None`: the embedded defaults), for the report.
    pub config_source: Option<String>,
    /// The paths that hold settings ([`files::changed_between`] names the ones the PR changes).
    pub settings_paths: Vec<String>,
    /// Where the caches live (see [`cache::dir_for`]).
    pub cache_dir: Option<PathBuf>,
    /// Neither read nor write the caches (`--no-cache`).
    pub no_cache: bool,
}

impl Request {
    /// A request with the embedded defaults, settings read from `repo`'s working tree.
    pub fn new(repo: &Repo) -> Request {
        Request {
            base: None,
            head: None,
            settings: Settings::default(),
            source: FileSource::WorkTree(repo.root()),
            config_source: None,
            settings_paths: Vec::new(),
            cache_dir: None,
            no_cache: false,
        }
    }
}

/// Told when each stage starts (the CLI draws a progress line from it).
pub trait Observer: Sync {
    fn stage(&self, _name: &'static str) {}
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {}

/// Wall time of each stage, for `--timings`.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Stages in order; a name ending in `*` ran alongside the others (its time overlaps theirs).
    pub stages: Vec<(&'static str, Duration)>,
    /// When the run started (the total is wall time, not the sum of overlapping stages).
    pub started: Option<Instant>,
    /// What the parse cache did (None: disabled).
    pub cache: Option<cache::parse::Stats>,
    /// What the history cache did (None: disabled).
    pub history_cache: Option<cache::history::Stats>,
    /// What the resolution memo did (None: disabled).
    pub resolve_memo: Option<cache::resolve::Stats>,
}

impl Timings {
    /// Run `f` as the stage `name` and record its wall time.
    pub fn time<T>(&mut self, obs: &dyn Observer, name: &'static str, f: impl FnOnce() -> T) -> T {
        obs.stage(name);
        let t = Instant::now();
        let v = f();
        self.stages.push((name, t.elapsed()));
        v
    }
}

/// Everything one run produced.
pub struct Outcome {
    pub report: Report,
    pub timings: Timings,
}

/// A snapshot with its sources and graph.
pub struct Side {
    pub snapshot: Snapshot,
    pub sources: Vec<SourceFile>,
    pub graph: DepGraph,
    pub notes: Vec<String>,
    /// Workspace packages and their public entries (for the coupling rule `no-deep-import`).
    pub packages: Vec<PackageSurface>,
    /// The resolver of this side's imports (kept to link symbols on demand).
    pub js: Arc<JsResolver>,
    /// The crates and module trees of this side's Rust files.
    pub rust: Option<Arc<rust::RustWorld>>,
}

/// The rules: the embedded packs plus the files of `security.rule-dirs`, read through `source`
/// (in action mode the base commit, never the PR's checkout).
pub fn load_rules(source: &FileSource, settings: &SecuritySettings) -> Result<RuleSet> {
    RuleSet::load(settings, &rule_files(source, settings)?)
}

/// The `*.yml`/`*.yaml` files of `security.rule-dirs`, in order, read through `source`.
pub fn rule_files(source: &FileSource, settings: &SecuritySettings) -> Result<Vec<RuleFile>> {
    let mut out = Vec::new();
    for dir in &settings.rule_dirs {
        let rel = files::repo_relative(Path::new(dir));
        if !source.is_dir(&rel)? {
            return Err(crate::Error::Usage(format!(
                "security.rule-dirs: `{dir}` is not a directory{}\n  hint: give a path relative to the repository root",
                match source.commit() {
                    Some(c) => format!(" in the base commit {}", &c.to_string()[..12]),
                    None => String::new(),
                }
            )));
        }
        for (name, text) in source.read_dir(&rel)? {
            if name.ends_with(".yml") || name.ends_with(".yaml") {
                out.push(RuleFile {
                    source: format!("{rel}/{name}"),
                    text,
                });
            }
        }
    }
    Ok(out)
}

pub fn run(repo: &Repo, req: &Request, obs: &dyn Observer) -> Result<Outcome> {
    let mut t = Timings {
        started: Some(Instant::now()),
        ..Timings::default()
    };
    let cfg = &req.settings;
    let git_dir = repo.git_dir().to_path_buf();
    let rules = t.time(obs, "rules", || load_rules(&req.source, &cfg.security))?;
    let cache_dir = (!req.no_cache).then(|| cache::dir_for(repo, req.cache_dir.as_deref()));
    let revs = t.time(obs, "revisions", || {
        revisions::resolve(repo, req.base.as_deref(), req.head.as_deref())
    })?;
    let changes = t.time(obs, "change set", || {
        diff::change_set(
            repo,
            revs.merge_base_oid,
            revs.head_oid,
            cfg.files.max_file_size,
        )
    })?;
    let filters = Filters::new(&cfg.files);
    let tests = cfg.files.test_globs();
    // The security scan reads only the changed files: it runs on its own thread while the
    // snapshots are parsed and resolved (its stage time overlaps theirs).
    let mut store = ParseStore::default();
    let (security, head, base, cache) = std::thread::scope(|scope| -> Result<_> {
        let scan = scope.spawn(|| {
            let started = Instant::now();
            let files = security::files_to_scan(&changes, &filters);
            let texts = diff::read_texts(&git_dir, &files, cfg.files.max_file_size);
            let d = security::score(
                security::SecurityInput {
                    files: &files,
                    texts: &texts,
                    rules: &rules,
                    tests: &tests,
                    weight: cfg.weights.security,
                },
                &cfg.security,
            );
            (d, started.elapsed())
        });
        let (base_snap, head_snap) = t.time(obs, "snapshots", || -> Result<_> {
            Ok((
                Snapshot::of_commit(repo, revs.merge_base_oid)?,
                Snapshot::of_commit(repo, revs.head_oid)?,
            ))
        })?;
        let base_sources = select_sources(&base_snap, &filters);
        let head_sources = select_sources(&head_snap, &filters);
        let mut cache = t.time(obs, "cache load", || {
            cache_dir.as_deref().map(ParseCache::open)
        });
        t.time(obs, "parse", || {
            store.parse_cached(
                &git_dir,
                head_sources.iter().chain(base_sources.iter()),
                cfg.files.max_file_size,
                cache
                    .as_mut()
                    .map(|c| c as &mut dyn crate::parse::FactsMemo),
            )
        });
        let (head, base, memo) = t.time(obs, "graph", || {
            build_sides(
                &git_dir,
                [head_snap, base_snap],
                [head_sources, base_sources],
                &store,
                same_resolution(&changes),
                cache_dir.as_deref(),
            )
        });
        t.resolve_memo = memo;
        let (security, took) = scan
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.stages.push(("security*", took));
        Ok((security, head, base, cache))
    })?;
    // What the PR itself changes (merge-base..head), not where the base branch has moved since.
    let changed_settings = match req.source.commit() {
        Some(_) => files::changed_between(
            repo,
            revs.merge_base_oid,
            revs.head_oid,
            &req.settings_paths,
        ),
        None => Vec::new(),
    };
    // Impact and coupling (graph traversals) run on their own thread while the history is mined.
    let (impact, coupling, regression) = std::thread::scope(|scope| {
        let graphs = scope.spawn(|| {
            let started = Instant::now();
            let data = data_changes(&git_dir, &changes, &head, &base, cfg.files.max_file_size);
            let memo = SymbolMemo::default();
            let stop = GlobList::new(cfg.impact.stop_at.iter());
            let reach = reach(
                &git_dir,
                &changes,
                [&head, &base],
                &store,
                &memo,
                &tests,
                &stop,
                &data,
            );
            let impact = impact::score(
                impact::ImpactInput {
                    changes: &changes,
                    head: &head.graph,
                    base: &base.graph,
                    tests: &tests,
                    reach: &reach,
                    weight: cfg.weights.impact,
                },
                &cfg.impact,
            );
            let impact_took = started.elapsed();
            // The parse cache is saved once the symbols the walk extracted are in it.
            let save_started = Instant::now();
            let stats = cache.map(|mut c| {
                memo.store_into(&store, &mut c);
                c.save();
                c.stats
            });
            let save_took = save_started.elapsed();
            let started = Instant::now();
            let coupling = coupling::score(
                coupling::CouplingInput {
                    changes: &changes,
                    head: &head.graph,
                    base: &base.graph,
                    head_packages: &head.packages,
                    base_packages: &base.packages,
                    tests: &tests,
                    weight: cfg.weights.coupling,
                },
                &cfg.coupling,
            );
            (
                impact,
                impact_took,
                coupling,
                started.elapsed(),
                (stats, save_took),
            )
        });
        let mut history_cache = t.time(obs, "history load", || {
            cache_dir.as_deref().map(HistoryCache::open)
        });
        let filter = cfg.regression.source_filter(&cfg.files.exclude);
        let mined = t.time(obs, "history", || {
            mine(
                repo,
                &revs,
                &changes,
                &head.graph,
                cfg,
                &tests,
                history_cache
                    .as_mut()
                    .map(|c| c as &mut dyn history::CommitMemo),
            )
        });
        // Saving overlaps the regression model.
        let save = scope.spawn(move || {
            let started = Instant::now();
            let stats = history_cache.map(|mut c| {
                c.save();
                c.stats
            });
            (stats, started.elapsed())
        });
        let regression = t.time(obs, "regression", || match mined {
            Ok(m) => regression::score(
                regression::RegressionInput {
                    history: &m.history,
                    changes: &changes,
                    head: &head.graph,
                    author: m.author,
                    filter: &filter,
                    tests: &tests,
                    weight: cfg.weights.regression,
                },
                &cfg.regression,
            ),
            Err(reason) => regression::unavailable(cfg.weights.regression, reason),
        });
        let (impact, impact_took, coupling, coupling_took, (stats, save_took)) = graphs
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.stages.push(("impact*", impact_took));
        t.stages.push(("cache save*", save_took));
        t.stages.push(("coupling*", coupling_took));
        t.cache = stats;
        let (stats, took) = save
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.history_cache = stats;
        t.stages.push(("history save*", took));
        (impact, coupling, regression)
    });
    let dimensions = Dimensions {
        regression,
        security,
        coupling,
        impact,
    };
    let mut report = t.time(obs, "assemble", || {
        assemble(req, revs, changes, &head, &base, &store, dimensions)
    });
    report.config.read_from = req.source.commit().map(|c| c.to_string());
    if !changed_settings.is_empty() {
        report.notes.insert(
            0,
            Note::new(
                NoteCode::SettingsChangedByPr,
                format!(
                    "this pull request changes pr-risk settings ({}); it was scored with the base branch's settings, and the new ones apply once it is merged",
                    changed_settings.join(", ")
                ),
            ),
        );
    }
    report.config.changed_by_pr = changed_settings;
    Ok(Outcome { report, timings: t })
}

/// Mine the history the regression model needs, up to the merge-base (with the history cache
/// when given); `Err` is why the dimension is unavailable (shallow clone, too little history,
/// bad patterns).
fn mine(
    repo: &Repo,
    revs: &Revisions,
    changes: &ChangeSet,
    head: &DepGraph,
    cfg: &Settings,
    tests: &GlobList,
    cache: Option<&mut dyn history::CommitMemo>,
) -> std::result::Result<Mined, String> {
    let rc = &cfg.regression;
    if repo.is_shallow() {
        return Err(regression::SHALLOW.to_string());
    }
    let matcher =
        FixMatcher::new(&rc.fix_patterns, &rc.revert_patterns).map_err(|e| e.to_string())?;
    let filter = rc.source_filter(&cfg.files.exclude);
    let churn_for = regression::churn_for(changes, head, &filter, tests);
    let opts = history::MineOptions {
        max_commits: rc.max_commits,
        max_age_days: rc.max_age_days,
        min_commits: rc.min_commits,
        follow_renames: rc.follow_renames,
        matcher: &matcher,
        churn_for: &churn_for,
    };
    let mined = history::mine(repo, revs.merge_base_oid, &opts, cache)
        .map_err(|e| format!("mining the history failed: {e}"))?;
    if let Some(why) = regression::too_little_history(mined.reachable, rc) {
        return Err(why);
    }
    let author = history::author_of(repo, revs.head_oid).unwrap_or_default();
    Ok(Mined {
        history: mined,
        author,
    })
}

/// The dependency graph of one revision on its own (for `pr-risk graph` and tests).
pub fn side_at(repo: &Repo, rev: &str, files: &FileSettings) -> Result<Side> {
    let oid = revisions::commit_of(repo, rev, "graph")?;
    let snapshot = Snapshot::of_commit(repo, oid)?;
    let sources = select_sources(&snapshot, &Filters::new(files));
    let mut store = ParseStore::default();
    store.parse(repo.git_dir(), &sources, files.max_file_size);
    Ok(build_side(repo.git_dir(), snapshot, sources, &store))
}

/// Whether a change leaves module resolution as it was: it only modifies regular files in place
/// (no file added, deleted, renamed or retyped, no symlink or submodule touched) and no JSON or
/// YAML file (`package.json`, `tsconfig*.json` and what they extend, `pnpm-workspace.yaml`): what
/// [`resolve_cache::context`] hashes is the same on both sides. Then every specifier resolves to
/// the same target at base and at head.
pub fn same_resolution(changes: &ChangeSet) -> bool {
    changes.files.iter().all(|f| {
        let lower = f.path.to_ascii_lowercase();
        f.status == diff::Status::Modified
            && !f.symlink
            && !f.submodule
            && ![".json", ".yaml", ".yml"]
                .iter()
                .any(|x| lower.ends_with(x))
    })
}

/// What resolving one snapshot's imports needs: its workspace packages, a resolver over it, and
/// the packages' public surfaces.
pub struct Resolution {
    resolver: Arc<JsResolver>,
    surfaces: Vec<PackageSurface>,
}

impl Resolution {
    pub fn of(git_dir: &Path, snapshot: &Snapshot) -> Resolution {
        Resolution::with_memo(git_dir, snapshot, None)
    }

    /// [`Resolution::of`] with the resolver's memo filled from an earlier run first.
    pub fn with_memo(
        git_dir: &Path,
        snapshot: &Snapshot,
        memo: Option<crate::resolve::memo::Memo>,
    ) -> Resolution {
        let packages = match Repo::open(git_dir) {
            Ok(r) => workspaces::packages(&r, snapshot),
            Err(_) => BTreeMap::new(),
        };
        let links = JsResolver::workspace_links(&packages);
        let dirs = JsResolver::package_dirs(&packages);
        let resolver = JsResolver::new(
            SnapshotFs::new(snapshot, git_dir, links.clone()).with_packages(dirs.clone()),
            SnapshotFs::new(snapshot, git_dir, links).with_packages(dirs),
            packages.clone(),
        );
        if let Some(m) = memo {
            resolver.preload(m.entries, m.notes);
        }
        let surfaces = packages::surfaces(git_dir, snapshot, &packages, |from, spec| {
            resolver.resolve(from, spec)
        });
        Resolution {
            resolver: Arc::new(resolver),
            surfaces,
        }
    }
}

/// The head and base sides. With `shared` (see [`same_resolution`]) both use one resolver and its
/// memo, built on the base snapshot, so the head side costs little more than memo lookups.
///
/// With `memo_dir` (the cache directory), the base side's resolver starts from the memo an earlier
/// run saved for the same resolution context ([`cache::resolve`]), and what this run resolved is
/// saved back. The head side shares it when `shared`.
pub fn build_sides(
    git_dir: &Path,
    [head_snap, base_snap]: [Snapshot; 2],
    [head_sources, base_sources]: [Vec<SourceFile>; 2],
    store: &ParseStore,
    shared: bool,
    memo_dir: Option<&Path>,
) -> (Side, Side, Option<cache::resolve::Stats>) {
    let version = cache::store::tool_version();
    let mut stats = cache::resolve::Stats::default();
    let context = memo_dir.map(|_| cache::resolve::context(&base_snap));
    let memo = memo_dir
        .zip(context)
        .and_then(|(d, c)| cache::resolve::load(d, version, c, &mut stats));
    let r = Resolution::with_memo(git_dir, &base_snap, memo);
    let base_js = js_imports(&base_sources, store, &r.resolver);
    // JavaScript: the base first, so a shared head side finds the memo filled. Then the Rust
    // resolutions (a whole-crate pass per side), the graphs, and saving the memo, in parallel.
    let head_js = shared.then(|| js_imports(&head_sources, store, &r.resolver));
    let save = || {
        let (Some(dir), Some(context)) = (memo_dir, context) else {
            return;
        };
        stats.new = r.resolver.memo_len().saturating_sub(stats.loaded);
        if stats.new == 0 {
            return;
        }
        let memo = cache::resolve::Memo {
            entries: r.resolver.memo_entries(),
            notes: r.resolver.notes(),
        };
        match cache::resolve::save(dir, version, context, memo) {
            Ok(()) => stats.written = true,
            Err(e) => stats.write_error = Some(e.to_string()),
        }
    };
    let ((head, base), ()) = rayon::join(
        || {
            rayon::join(
                || match head_js {
                    Some(js) => finish_side(git_dir, head_snap, head_sources, store, &r, js),
                    None => build_side(git_dir, head_snap, head_sources, store),
                },
                || finish_side(git_dir, base_snap, base_sources, store, &r, base_js),
            )
        },
        save,
    );
    (head, base, memo_dir.map(|_| stats))
}

/// Resolve every import of a snapshot's sources and build its graph.
pub fn build_side(
    git_dir: &Path,
    snapshot: Snapshot,
    sources: Vec<SourceFile>,
    store: &ParseStore,
) -> Side {
    let r = Resolution::of(git_dir, &snapshot);
    build_side_with(git_dir, snapshot, sources, store, &r)
}

/// [`build_side`] with the resolution of this snapshot (or of one that resolves the same way).
fn build_side_with(
    git_dir: &Path,
    snapshot: Snapshot,
    sources: Vec<SourceFile>,
    store: &ParseStore,
    r: &Resolution,
) -> Side {
    let imports = js_imports(&sources, store, &r.resolver);
    finish_side(git_dir, snapshot, sources, store, r, imports)
}

/// Resolve the TypeScript/JavaScript imports of `sources`, in parallel.
fn js_imports(
    sources: &[SourceFile],
    store: &ParseStore,
    resolver: &JsResolver,
) -> Vec<ResolvedImport> {
    sources
        .par_iter()
        .flat_map_iter(|f| {
            let facts = store.facts(f).cloned();
            facts
                .into_iter()
                .flat_map(|facts| facts.imports.clone())
                .map(move |import| ResolvedImport {
                    target: resolver.resolve(&f.path, &import.specifier),
                    from: f.path.clone(),
                    import,
                })
        })
        .collect()
}

/// Add the Rust imports to a side's resolved imports and build its graph.
fn finish_side(
    git_dir: &Path,
    snapshot: Snapshot,
    sources: Vec<SourceFile>,
    store: &ParseStore,
    r: &Resolution,
    mut imports: Vec<ResolvedImport>,
) -> Side {
    let rust = rust_imports(git_dir, &snapshot, &sources, store);
    imports.extend(rust.imports);
    let parsed = sources
        .iter()
        .filter(|f| store.facts(f).is_some())
        .map(|f| f.path.as_str());
    let graph = DepGraph::build(parsed, imports);
    let mut notes = r.resolver.notes();
    notes.extend(rust.notes);
    Side {
        snapshot,
        sources,
        graph,
        notes,
        packages: r.surfaces.clone(),
        js: r.resolver.clone(),
        rust: rust.world,
    }
}

/// Resolve the Rust sources of a snapshot (crates, module trees, `use` paths) in one pass.
fn rust_imports(
    git_dir: &Path,
    snapshot: &Snapshot,
    sources: &[SourceFile],
    store: &ParseStore,
) -> rust::RustResolution {
    let rs: rust::RustSources = sources
        .iter()
        .filter(|f| f.lang.family() == Family::Rust)
        .filter_map(|f| store.facts(f).map(|x| (f.path.clone(), x.clone())))
        .collect();
    if rs.is_empty() {
        return rust::RustResolution {
            imports: Vec::new(),
            notes: Vec::new(),
            crates: 0,
            world: None,
        };
    }
    match Repo::open(git_dir) {
        Ok(repo) => rust::resolve(&repo, snapshot, &rs),
        Err(_) => rust::resolve_with(Default::default(), &rs),
    }
}

fn assemble(
    req: &Request,
    revs: Revisions,
    changes: ChangeSet,
    head: &Side,
    base: &Side,
    store: &ParseStore,
    dimensions: Dimensions,
) -> Report {
    let cfg = &req.settings;
    let composite = score::composite(
        &cfg.weights,
        dimensions.impact.score,
        dimensions.regression.score,
        dimensions.security.score,
        dimensions.coupling.score,
    );
    let new_critical = if cfg.fail_on_critical_security {
        security::critical_reasons(&dimensions.security.evidence)
    } else {
        Vec::new()
    };
    let gate = report::decide(&composite, cfg.threshold, &new_critical);
    let mut notes = Vec::new();
    notes.extend(skipped_notes(&changes, head, store));
    for n in head.notes.iter().chain(&base.notes) {
        let n = Note::new(NoteCode::Resolution, n.clone());
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    if head.snapshot.non_utf8_paths > 0 {
        notes.push(Note::new(
            NoteCode::NonUtf8Paths,
            format!(
                "{} path(s) with names that are not valid UTF-8 were not analysed",
                head.snapshot.non_utf8_paths
            ),
        ));
    }
    let count = |k: UnresolvedKind| head.graph.unresolved.iter().filter(|u| u.kind == k).count();
    Report {
        schema_version: report::SCHEMA_VERSION,
        tool: Tool::current(),
        revisions: revs,
        config: ConfigInfo {
            source: req.config_source.clone(),
            threshold: cfg.threshold,
            read_from: None,
            changed_by_pr: Vec::new(),
        },
        change: ChangeSummary {
            files_changed: changes.files.len(),
            additions: changes.additions(),
            deletions: changes.deletions(),
            files: changes.files,
        },
        graph: GraphSummary {
            files: head.graph.node_count(),
            edges: head.graph.edge_count(),
            unresolved_external: count(UnresolvedKind::External),
            unresolved_builtin: count(UnresolvedKind::Builtin),
            unresolved_missing: count(UnresolvedKind::Missing),
        },
        dimensions,
        composite,
        gate,
        notes,
    }
}

/// Notes for changed files that were listed but not analysed.
fn skipped_notes(changes: &ChangeSet, head: &Side, store: &ParseStore) -> Vec<Note> {
    let mut notes = Vec::new();
    let skipped = |m: String| Note::new(NoteCode::FileNotAnalysed, m);
    for f in &changes.files {
        if f.submodule {
            notes.push(skipped(format!(
                "{}: submodule entry, not analysed",
                f.path
            )));
        } else if f.symlink {
            notes.push(skipped(format!("{}: symbolic link, not analysed", f.path)));
        } else if f.binary {
            notes.push(skipped(format!("{}: binary file, not analysed", f.path)));
        } else if f.oversize {
            notes.push(skipped(format!(
                "{}: larger than limits.max-file-size, not parsed",
                f.path
            )));
        } else if let Some(src) = head.sources.iter().find(|s| s.path == f.path) {
            if let Some(Err(why)) = store.get(src) {
                notes.push(skipped(format!("{}: not parsed ({why})", f.path)));
            }
        }
    }
    notes
}

/// Symbols extracted during one run, by blob: shared by both sides (a file unchanged between
/// them is read once), then written into the parse cache with the file's facts.
#[derive(Default)]
pub struct SymbolMemo {
    map: Mutex<HashMap<(Oid, Lang), Arc<Symbols>>>,
}

impl SymbolMemo {
    fn get(&self, key: (Oid, Lang)) -> Option<Arc<Symbols>> {
        self.map.lock().ok()?.get(&key).cloned()
    }

    fn put(&self, key: (Oid, Lang), s: Arc<Symbols>) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(key, s);
        }
    }

    /// How many files' symbols were extracted.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Put every extracted file's facts, now with symbols, into the parse cache.
    pub fn store_into(&self, store: &ParseStore, cache: &mut ParseCache) {
        let Ok(m) = self.map.lock() else {
            return;
        };
        let mut keys: Vec<&(Oid, Lang)> = m.keys().collect();
        keys.sort();
        for key in keys {
            let Some((facts, bytes)) = store.facts_of(key.0, key.1) else {
                continue;
            };
            let mut enriched = FileFacts::clone(&facts);
            enriched.symbols = Some(m[key].clone());
            cache.put(key.0, key.1, bytes, &Ok(Arc::new(enriched)));
        }
    }
}

/// One side's symbols for the reach walk, extracted on demand (tree-sitter) and linked with the
/// side's resolvers.
pub struct SideSymbols<'a> {
    git_dir: &'a Path,
    side: &'a Side,
    by_path: HashMap<&'a str, &'a SourceFile>,
    store: &'a ParseStore,
    memo: &'a SymbolMemo,
}

impl<'a> SideSymbols<'a> {
    pub fn new(
        git_dir: &'a Path,
        side: &'a Side,
        store: &'a ParseStore,
        memo: &'a SymbolMemo,
    ) -> SideSymbols<'a> {
        SideSymbols {
            git_dir,
            side,
            by_path: side.sources.iter().map(|s| (s.path.as_str(), s)).collect(),
            store,
            memo,
        }
    }

    /// The symbols of a parsed source file (from its facts, the memo, or a fresh parse).
    pub fn symbols(&self, path: &str) -> Option<(Arc<Symbols>, Lang)> {
        let src = *self.by_path.get(path)?;
        let facts = self.store.facts(src)?;
        let key = (src.oid, src.lang);
        if let Some(s) = &facts.symbols {
            return Some((s.clone(), src.lang));
        }
        if let Some(s) = self.memo.get(key) {
            return Some((s, src.lang));
        }
        let text = with_thread_repo(self.git_dir, |repo| repo?.read_text(src.oid))?;
        let s = Arc::new(symbols::extract(src.lang, &text));
        self.memo.put(key, s.clone());
        Some((s, src.lang))
    }

    fn load_one(&self, path: &str) -> Option<Arc<FileSymbols>> {
        let (syms, lang) = self.symbols(path)?;
        let link = match lang.family() {
            Family::JavaScript => link_js(&syms, |spec| self.side.js.resolve(path, spec)),
            Family::Rust => match &self.side.rust {
                Some(world) => world.link(path, &syms),
                None => Linked {
                    rust: true,
                    refs: vec![Vec::new(); syms.decls.len()],
                    owners: vec![None; syms.decls.len()],
                    implicit: vec![false; syms.decls.len()],
                    ..Linked::default()
                },
            },
        };
        Some(Arc::new(FileSymbols { syms, link }))
    }
}

impl SymbolSource for SideSymbols<'_> {
    fn load(&self, paths: &[String]) -> Vec<Option<Arc<FileSymbols>>> {
        paths.par_iter().map(|p| self.load_one(p)).collect()
    }
}

/// The symbol-level reach of a change: one walk per side, symbols extracted on demand.
#[allow(clippy::too_many_arguments)]
pub fn reach(
    git_dir: &Path,
    changes: &ChangeSet,
    [head, base]: [&Side; 2],
    store: &ParseStore,
    memo: &SymbolMemo,
    tests: &GlobList,
    stop: &GlobList,
    data: &[DataChange],
) -> Reach {
    let h = SideSymbols::new(git_dir, head, store, memo);
    let b = SideSymbols::new(git_dir, base, store, memo);
    let workspace: BTreeSet<String> = head
        .packages
        .iter()
        .chain(&base.packages)
        .map(|p| p.name.clone())
        .collect();
    graph::reach::compute(&ReachInput {
        changes,
        head: SideInput {
            graph: &head.graph,
            source: &h,
        },
        base: SideInput {
            graph: &base.graph,
            source: &b,
        },
        tests,
        stop,
        data,
        workspace: &workspace,
    })
}

/// The changed JSON files (`package.json` anywhere; other JSON files code imports), read at
/// both revisions.
pub fn data_changes(
    git_dir: &Path,
    changes: &ChangeSet,
    head: &Side,
    base: &Side,
    max: u64,
) -> Vec<DataChange> {
    let read = |oid: Option<Oid>| -> Option<String> {
        let oid = oid?;
        with_thread_repo(git_dir, |repo| {
            let repo = repo?;
            if repo.blob_size(oid).is_some_and(|s| s > max) {
                return None;
            }
            repo.read_text(oid)
        })
    };
    changes
        .files
        .iter()
        .filter(|f| f.path.to_ascii_lowercase().ends_with(".json") && f.analysable())
        .filter_map(|f| {
            let head_text = f.exists_at_head().then(|| read(f.new_oid)).flatten();
            let base_text = f.base_path().and_then(|_| read(f.old_oid));
            if json::is_package_json(&f.path) {
                return Some(DataChange::PackageJson {
                    path: f.path.clone(),
                    change: json::package_json_change(base_text.as_deref(), head_text.as_deref()),
                });
            }
            let in_graph = head.graph.node(&f.path).is_some()
                || f.base_path().is_some_and(|p| base.graph.node(p).is_some());
            in_graph.then(|| DataChange::Json {
                path: f.path.clone(),
                keys: json::changed_keys(base_text.as_deref(), head_text.as_deref()),
            })
        })
        .collect()
}

/// One declaration of a file, what it uses and who uses it (`pr-risk graph --symbols`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SymbolEntry {
    pub name: String,
    pub kind: symbols::DeclKind,
    /// Visible outside its file (TypeScript: exported; Rust: any `pub`).
    pub exported: bool,
    pub start: u32,
    pub end: u32,
    /// What it uses: `file#name`, `file#*` (the whole module), `package (external)`.
    pub uses: Vec<String>,
    /// The declarations that use it, in this file and in the files that import it directly.
    pub users: Vec<SymbolUser>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SymbolUser {
    pub file: String,
    /// The using declaration, or `export NAME` for a re-export.
    pub symbol: String,
}

/// The declarations of `file` at a side, with their users (`None`: not a parsed source file).
pub fn symbol_listing(
    git_dir: &Path,
    side: &Side,
    file: &str,
    max_size: u64,
) -> Option<Vec<SymbolEntry>> {
    let g = &side.graph;
    let n = g.node(file)?;
    let mut wanted: Vec<&SourceFile> = vec![];
    let dependents: Vec<String> = g
        .direct_dependents(n)
        .map(|d| g.path(d).to_string())
        .collect();
    for s in &side.sources {
        if s.path == file || dependents.contains(&s.path) {
            wanted.push(s);
        }
    }
    let mut store = ParseStore::default();
    store.parse(git_dir, wanted.iter().copied(), max_size);
    let memo = SymbolMemo::default();
    let loader = SideSymbols::new(git_dir, side, &store, &memo);
    let mine = loader.load_one(file)?;
    let mut paths = vec![file.to_string()];
    paths.extend(dependents.iter().cloned());
    let loaded: Vec<(String, Option<Arc<FileSymbols>>)> =
        paths.iter().cloned().zip(loader.load(&paths)).collect();
    let rust = mine.link.rust;
    let decl_name = |fs: &FileSymbols, i: u32| {
        fs.syms
            .decls
            .get(i as usize)
            .map_or_else(String::new, |d| d.name.clone())
    };
    let mut out = Vec::new();
    for (i, d) in mine.syms.decls.iter().enumerate() {
        let i = i as u32;
        let names: Vec<String> = mine
            .syms
            .export_names(i, rust)
            .into_iter()
            .map(str::to_string)
            .collect();
        let uses = mine.link.refs[i as usize]
            .iter()
            .map(|l| match &l.to {
                LinkTo::Local(j) => format!("{file}#{}", decl_name(&mine, *j)),
                LinkTo::Name { file, name } => format!("{file}#{name}"),
                LinkTo::All { file, .. } => format!("{file}#*"),
                LinkTo::Effects { file } => format!("{file} (side effects)"),
                LinkTo::External { package } => format!("{package} (external)"),
            })
            .collect();
        let mut users: BTreeSet<SymbolUser> = BTreeSet::new();
        for (path, fs) in &loaded {
            let Some(fs) = fs else { continue };
            let same = path == file;
            for (u, links) in fs.link.refs.iter().enumerate() {
                let hit = links.iter().any(|l| match &l.to {
                    LinkTo::Local(j) => same && *j == i,
                    LinkTo::Name { file: f, name } => f == file && names.contains(name),
                    LinkTo::All { file: f, .. } => f == file && !names.is_empty(),
                    _ => false,
                });
                if hit && !(same && u as u32 == i) {
                    users.insert(SymbolUser {
                        file: path.clone(),
                        symbol: decl_name(fs, u as u32),
                    });
                }
            }
            for (e, target) in &fs.link.exports {
                let hit = match target {
                    LinkExport::Local(_) => false,
                    LinkExport::Name { file: f, name } => f == file && names.contains(name),
                    LinkExport::All { file: f } | LinkExport::Star { file: f } => {
                        f == file && !names.is_empty()
                    }
                };
                if hit {
                    users.insert(SymbolUser {
                        file: path.clone(),
                        symbol: format!("export {e}"),
                    });
                }
            }
        }
        out.push(SymbolEntry {
            name: d.name.clone(),
            kind: d.kind,
            exported: d.vis != symbols::Vis::Private,
            start: d.start,
            end: d.end,
            uses,
            users: users.into_iter().collect(),
        });
    }
    Some(out)
}
