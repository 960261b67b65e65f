//! The whole pipeline in one function: revisions → change set → snapshots → parsed files →
//! dependency graphs → scores → report. Each stage is its own module; this file only wires them,
//! opens the caches, and reports progress through an [`Observer`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::{self, HistoryCache, ParseCache};
use crate::error::Result;
use crate::git::diff::{self, ChangeSet};
use crate::git::files::{self, FileSource};
use crate::git::history::{self, FixMatcher};
use crate::git::revisions::{self, Revisions};
use crate::git::snapshot::Snapshot;
use crate::git::Repo;
use crate::glob::GlobList;
use crate::graph::{DepGraph, ResolvedImport, UnresolvedKind};
use crate::lang::Family;
use crate::parse::{select_sources, FileSettings, Filters, ParseStore, SourceFile};
use crate::report::{
    self, ChangeSummary, ConfigInfo, Dimensions, GraphSummary, Note, NoteCode, Report, Tool,
};
use crate::resolve::javascript::JsResolver;
use crate::resolve::packages::{self, PackageSurface};
use crate::resolve::rust;
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
    let (security, head, base) = std::thread::scope(|scope| -> Result<_> {
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
        // Saving (encode, write, fsync, rename) overlaps building the graphs.
        let save = scope.spawn(move || {
            let started = Instant::now();
            let stats = cache.map(|mut c| {
                c.save();
                c.stats
            });
            (stats, started.elapsed())
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
        let (stats, took) = save
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.cache = stats;
        t.stages.push(("cache save*", took));
        Ok((security, head, base))
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
            let impact = impact::score(
                impact::ImpactInput {
                    changes: &changes,
                    head: &head.graph,
                    base: &base.graph,
                    tests: &tests,
                    weight: cfg.weights.impact,
                },
                &cfg.impact,
            );
            let impact_took = started.elapsed();
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
            (impact, impact_took, coupling, started.elapsed())
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
        let (impact, impact_took, coupling, coupling_took) = graphs
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.stages.push(("impact*", impact_took));
        t.stages.push(("coupling*", coupling_took));
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
    resolver: JsResolver,
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
        Resolution { resolver, surfaces }
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
