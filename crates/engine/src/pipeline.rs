//! The whole pipeline in one function: revisions → change set → snapshots → parsed files →
//! dependency graphs → scores → report. Each stage is its own module; this file only wires them,
//! opens the caches, and reports progress through an [`Observer`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::{self, HistoryCache, ParseCache};
use crate::deps::{self, AdvisoryMode, AdvisorySettings, Dependencies};
use crate::error::Result;
use crate::git;
use crate::git::diff::{self, ChangeSet};
use crate::git::files::{self, FileSource};
use crate::git::history;
use crate::git::hunks::{facts_between, CommitFacts};
use crate::git::revisions::{self, Revisions};
use crate::git::snapshot::Snapshot;
use crate::git::with_thread_repo;
use crate::git::{Oid, Repo};
use crate::glob::GlobList;
use crate::graph::reach::{
    DataChange, FileSymbols, PackageSeed, Reach, ReachInput, SideInput, SymbolSource,
};
use crate::graph::{self, DepGraph, ResolvedImport, UnresolvedKind};
use crate::guide::{self, codeowners::CodeOwners, Guidance, GuidanceSettings};
use crate::lang::symbols::{self, Symbols};
use crate::lang::{json, Family, FileFacts, Lang};
use crate::parse::{select_sources, FileSettings, Filters, ParseStore, SourceFile};
use crate::report::{
    self, ChangeSummary, ConfigInfo, Dimensions, Gate, GateSettings, GraphSummary, Note, NoteCode,
    Override, Report, Tool,
};
use crate::resolve::javascript::JsResolver;
use crate::resolve::packages::{self, PackageSurface};
use crate::resolve::rust;
use crate::resolve::symbols::{link_js, LinkExport, LinkTo, Linked};
use crate::resolve::vfs::SnapshotFs;
use crate::resolve::workspaces;
use crate::score::coupling::rules::CouplingSettings;
use crate::score::impact::ImpactSettings;
use crate::score::regression::features::HistoryState;
use crate::score::regression::model::Model;
use crate::score::regression::{ModelSource, RegressionSettings};
use crate::score::security::{self, RuleFile, RuleSet, SecuritySettings};
use crate::score::{self, coupling, impact, regression, Weights};

/// Every setting the engine reads: the `.pr-risk.yml` sections that belong to it. The binary's
/// configuration schema gathers these sections (and its own) and hands them over.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The threshold, the mode, the override label, per-path thresholds and critical paths.
    pub gate: GateSettings,
    pub weights: Weights,
    pub files: FileSettings,
    pub impact: ImpactSettings,
    pub regression: RegressionSettings,
    pub security: SecuritySettings,
    pub coupling: CouplingSettings,
    pub guidance: GuidanceSettings,
    /// `security.osv`, `security.osv-url`: the advisory check of changed dependencies.
    pub advisories: AdvisorySettings,
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
    /// The checkout holds untrusted content (action mode: the pull request's code): no cache
    /// inside it is read or written (see [`cache::location`]).
    pub untrusted_checkout: Option<PathBuf>,
    /// Neither read nor write the caches (`--no-cache`).
    pub no_cache: bool,
    /// The pull request's author (GitHub login), when known: never suggested as a reviewer.
    pub author_login: Option<String>,
    /// The advisory database the changed dependencies are checked against (the binary gives the
    /// OSV client, or says why there is none: `--offline`, `security.osv: false`).
    pub advisories: AdvisoryMode,
    /// The override label, when the pull request carries it (the binary reads the event).
    pub accepted: Option<Override>,
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
            untrusted_checkout: None,
            no_cache: false,
            author_login: None,
            advisories: AdvisoryMode::Unset,
            accepted: None,
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
    /// Why the caches were not used at all (a refused directory).
    pub caches_refused: Option<String>,
    /// What the advisory cache did (None: disabled, or nothing was checked).
    pub osv_cache: Option<cache::osv::Stats>,
    /// What the scan cache (security findings by text) did (None: disabled).
    pub scan_cache: Option<cache::scan::Stats>,
    /// What the regression model cache did (None: disabled or not used).
    pub model_cache: Option<String>,
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
    /// Safety caps reached while reading this side (each becomes a `limit-reached` note).
    pub limits: Vec<String>,
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
    let mut cache_notes = Vec::new();
    let caches = if req.no_cache {
        None
    } else {
        match cache::location(
            repo,
            req.cache_dir.as_deref(),
            req.untrusted_checkout.as_deref(),
        ) {
            Ok(l) => {
                if let Some(why) = &l.key_problem {
                    tracing::warn!("the cache key could not be kept ({why}); caches are rebuilt");
                }
                Some(l)
            }
            Err(why) => {
                tracing::warn!("{why}");
                cache_notes.push(Note::new(NoteCode::CacheNotUsed, why.clone()));
                t.caches_refused = Some(why);
                None
            }
        }
    };
    let cache_dir = caches.as_ref().map(|l| l.dir.clone());
    let cache_key = caches.as_ref().map(|l| l.key);
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
            let mut scan_cache = cache_dir
                .as_deref()
                .zip(cache_key.as_ref())
                .map(|(d, k)| cache::scan::ScanCache::open(d, k));
            let files = security::files_to_scan(&changes);
            let texts = diff::read_texts(
                &git_dir,
                &files,
                cfg.files
                    .max_file_size
                    .saturating_mul(security::SECRET_SCAN_FACTOR),
            );
            let d = security::score(
                security::SecurityInput {
                    files: &files,
                    texts: &texts,
                    rules: &rules,
                    tests: &tests,
                    filters: &filters,
                    max_code_size: cfg.files.max_file_size,
                    weight: cfg.weights.security,
                    memo: scan_cache.as_ref().map(|c| c as &dyn security::ScanMemo),
                },
                &cfg.security,
            );
            let stats = scan_cache.as_mut().map(|c| {
                c.save();
                c.stats.clone()
            });
            (d, started.elapsed(), stats)
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
            cache_dir
                .as_deref()
                .zip(cache_key.as_ref())
                .map(|(d, k)| ParseCache::open(d, k))
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
                true,
                caches.as_ref(),
            )
        });
        t.resolve_memo = memo;
        let (security, took, scan_stats) = scan
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.stages.push(("security*", took));
        t.scan_cache = scan_stats;
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
    // The mined history, kept for the reviewer guidance once the regression dimension is scored.
    let mut mined: Option<std::result::Result<PreparedRegression, String>> = None;
    // Impact and coupling (graph traversals) run on their own thread while the history is mined,
    // and so does the dependency stage (lock files, then the advisory database over the network).
    let mut history_notes: Vec<Note> = Vec::new();
    let (impact, coupling, regression, dependencies) = std::thread::scope(|scope| {
        // The changed direct dependencies reach the walk as soon as the lock files are read
        // (before the advisory check).
        let (direct_tx, direct_rx) = std::sync::mpsc::channel::<Vec<deps::Change>>();
        let dependencies = scope.spawn(|| {
            dependency_changes(
                &git_dir,
                req,
                &base,
                &head,
                &filters,
                &tests,
                cache_dir.as_deref().zip(cache_key.as_ref()),
                direct_tx,
            )
        });
        let graphs = scope.spawn(|| {
            let started = Instant::now();
            let data = data_changes(&git_dir, &changes, &head, &base, cfg.files.max_file_size);
            let direct_rx = direct_rx; // moved in: a receiver is not shared between threads
            let direct = direct_rx.recv().unwrap_or_default();
            let packages = package_seeds(&changes, &direct);
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
                &packages,
            );
            let impact = impact::score(
                impact::ImpactInput {
                    changes: &changes,
                    head: &head.graph,
                    base: &base.graph,
                    tests: &tests,
                    reach: &reach,
                    dependencies: &direct,
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
            cache_dir
                .as_deref()
                .zip(cache_key.as_ref())
                .map(|(d, k)| HistoryCache::open(d, k))
        });
        let filter = cfg.regression.source_filter(&cfg.files.exclude);
        let mut scratch = history::Commits::default();
        let memo: &mut dyn history::CommitMemo = match history_cache.as_mut() {
            Some(c) => c,
            None => &mut scratch,
        };
        let ctx = regression::features::Context {
            filter: &filter,
            tests: &tests,
            follow_renames: cfg.regression.follow_renames,
        };
        let prepared = prepare_regression(
            repo,
            &revs,
            cfg,
            &ctx,
            memo,
            cache_dir.as_deref().zip(cache_key.as_ref()),
            &base.graph,
            &mut t,
            obs,
        );
        // Saving overlaps the regression model.
        let save = scope.spawn(move || {
            let started = Instant::now();
            let stats = history_cache.map(|mut c| {
                c.save();
                c.stats
            });
            (stats, started.elapsed())
        });
        let head_graph = regression::features::GraphReach::new(&head.graph, &tests);
        let regression = t.time(obs, "regression", || match &prepared {
            Ok(p) => {
                let commits: Vec<(git::Oid, &history::CommitRecord)> =
                    p.records.iter().map(|(id, r)| (*id, r)).collect();
                regression::score(
                    regression::RegressionInput {
                        model: &p.model,
                        source: p.source.clone(),
                        change: &p.change.files,
                        state: &p.state,
                        labels: &p.labels,
                        commits: &commits,
                        window: p.window.clone(),
                        author: p.author.clone(),
                        time: p.time,
                        fix: p.fix,
                        ctx: regression::features::Context {
                            filter: &filter,
                            tests: &tests,
                            follow_renames: cfg.regression.follow_renames,
                        },
                        graph: &head_graph,
                        baseline: &p.baseline,
                        weight: cfg.weights.regression,
                    },
                    &cfg.regression,
                )
            }
            Err(reason) => regression::unavailable(cfg.weights.regression, reason.clone()),
        });
        if let Ok(p) = &prepared {
            t.model_cache = p.cache_note.clone();
            if p.unreadable > 0 {
                history_notes.push(Note::new(
                    NoteCode::IncompleteHistory,
                    format!(
                        "history: {} file version(s) in the mined commits could not be read (missing from the repository); those changes count without their lines, and renames involving them are not paired",
                        p.unreadable
                    ),
                ));
            }
        }
        mined = Some(prepared);
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
        let (dependencies, deps_took, advisories_took, osv_cache) = dependencies
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        t.stages.push(("deps*", deps_took));
        t.stages.push(("advisories*", advisories_took));
        t.osv_cache = osv_cache;
        (impact, coupling, regression, dependencies)
    });
    let guidance = t.time(obs, "guidance", || {
        let sides = (&head, &base.graph, &store);
        guidance(repo, req, &revs, &changes, sides, &tests, mined.as_ref())
    });
    // The dependency changes' findings join the scan's (the scorer takes them as input).
    let security = security::add_dependency_findings(
        security,
        security::dependencies::findings(&dependencies.0, &cfg.security),
        &cfg.security,
    );
    let dimensions = Dimensions {
        regression,
        security,
        coupling,
        impact,
    };
    let mut report = t.time(obs, "assemble", || {
        assemble(req, revs, changes, &head, &base, &store, dimensions)
    });
    report.guidance = guidance;
    let (dependencies, notes) = dependencies;
    report.dependencies = dependencies;
    report.notes.extend(notes);
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
    report.notes.extend(history_notes);
    report.notes.extend(cache_notes);
    // The gate reads the whole report (guidance included), so it is decided last.
    report.gate = report::gate::decide(&report, &cfg.gate, &cfg.security, req.accepted.as_ref());
    Ok(Outcome { report, timings: t })
}

/// What [`dependency_changes`] gives back: the report section and its notes, the time of reading
/// and of the advisory check, and what the advisory cache did.
type DependencyStage = (
    (Dependencies, Vec<Note>),
    Duration,
    Duration,
    Option<cache::osv::Stats>,
);

/// The dependency stage: read and diff the manifests and lock files of both sides, map each
/// changed direct dependency to the head graph's files that import it, and check the new
/// versions against the advisory database (through the `osv` cache).
#[allow(clippy::too_many_arguments)]
fn dependency_changes(
    git_dir: &Path,
    req: &Request,
    base: &Side,
    head: &Side,
    filters: &Filters,
    tests: &GlobList,
    cache: Option<(&Path, &cache::store::Key)>,
    direct: std::sync::mpsc::Sender<Vec<deps::Change>>,
) -> DependencyStage {
    let started = Instant::now();
    let scope = deps::Scope {
        exclude: &filters.exclude,
        tests,
    };
    let (mut found, problems) = match Repo::open(git_dir) {
        Ok(repo) => deps::collect(&repo, &base.snapshot, &head.snapshot, &scope),
        Err(e) => (
            Dependencies::default(),
            vec![deps::Problem {
                path: ".".into(),
                side: "head".into(),
                message: e.to_string(),
            }],
        ),
    };
    let externals = head
        .graph
        .unresolved
        .iter()
        .filter(|u| u.kind == UnresolvedKind::External)
        .map(|u| (u.from.as_str(), u.specifier.as_str(), u.type_only));
    found.attach_importers(externals, &|p| tests.is_match(p));
    // The impact walk waits for these (it may have finished waiting: then no one listens).
    let _ = direct.send(
        found
            .changes
            .iter()
            .filter(|c| c.is_direct() && c.to.is_some())
            .cloned()
            .collect(),
    );
    let mut notes: Vec<Note> = problems
        .iter()
        .map(|p| Note::new(NoteCode::Lockfile, p.to_string()))
        .collect();
    let read_took = started.elapsed();
    let started = Instant::now();
    let mut osv_stats = None;
    match &req.advisories {
        AdvisoryMode::On(db) => {
            let mut memo = if deps::advisories::queries(&found).is_empty() {
                None
            } else {
                cache.map(|(d, k)| cache::osv::OsvCache::open(d, k))
            };
            deps::advisories::check(
                &mut found,
                db.as_ref(),
                memo.as_mut().map(|m| m as &mut dyn deps::AdvisoryMemo),
            );
            if let Some(mut m) = memo {
                m.save();
                osv_stats = Some(m.stats);
            }
        }
        AdvisoryMode::Off(reason) => deps::advisories::skip(&mut found, reason),
        AdvisoryMode::Unset => deps::advisories::skip(
            &mut found,
            if req.settings.advisories.osv {
                "no advisory database was configured"
            } else {
                "`security.osv` is false"
            },
        ),
    }
    if let Some(n) = found.advisories.note() {
        notes.push(Note::new(NoteCode::AdvisoriesNotChecked, n));
    }
    ((found, notes), read_took, started.elapsed(), osv_stats)
}

/// The tests that reach the change of `req` in its head graph (what `pr-risk affected-tests`
/// prints): revisions, change set, the head snapshot and its graph only — no scores, no history.
pub fn affected_tests(repo: &Repo, req: &Request) -> Result<guide::AffectedTests> {
    let revs = revisions::resolve(repo, req.base.as_deref(), req.head.as_deref())?;
    let files = &req.settings.files;
    let changes = diff::change_set(
        repo,
        revs.merge_base_oid,
        revs.head_oid,
        files.max_file_size,
    )?;
    let snapshot = Snapshot::of_commit(repo, revs.head_oid)?;
    let sources = select_sources(&snapshot, &Filters::new(files));
    let mut store = ParseStore::default();
    let location = (!req.no_cache)
        .then(|| {
            cache::location(
                repo,
                req.cache_dir.as_deref(),
                req.untrusted_checkout.as_deref(),
            )
            .ok()
        })
        .flatten();
    let mut cache = location.as_ref().map(|l| ParseCache::open(&l.dir, &l.key));
    store.parse_cached(
        repo.git_dir(),
        sources.iter(),
        files.max_file_size,
        cache
            .as_mut()
            .map(|c| c as &mut dyn crate::parse::FactsMemo),
    );
    if let Some(c) = cache.as_mut() {
        c.save();
    }
    let head = build_side(repo.git_dir(), snapshot, sources, &store);
    let changed: Vec<&str> = changes
        .files
        .iter()
        .filter(|f| f.exists_at_head())
        .map(|f| f.path.as_str())
        .collect();
    let names = RustTestNames::of(repo, &head, &store);
    Ok(guide::affected::affected(
        &head.graph,
        &changed,
        &files.test_globs(),
        &names,
    ))
}

/// Reviewer guidance: the suggested reviewers (`CODEOWNERS` and `.mailmap` of the base commit,
/// authorship from the mined history), the expected partners (the history and the base graph),
/// and the tests that reach the change in the head graph.
fn guidance(
    repo: &Repo,
    req: &Request,
    revs: &Revisions,
    changes: &ChangeSet,
    (head, base_graph, store): (&Side, &DepGraph, &ParseStore),
    tests: &GlobList,
    mined: Option<&std::result::Result<PreparedRegression, String>>,
) -> Guidance {
    let s = &req.settings.guidance;
    let mut g = Guidance::default();
    if s.reviewers || s.partners {
        let source = Oid::from_str(&revs.base.sha)
            .ok()
            .map(|commit| FileSource::Commit {
                git_dir: repo.git_dir().to_path_buf(),
                commit,
            });
        let read = |path: &str| source.as_ref()?.read(path).ok()?;
        let owners = if s.reviewers {
            guide::codeowners::LOCATIONS
                .iter()
                .find_map(|loc| Some(CodeOwners::parse(loc, &read(loc)?)))
        } else {
            None
        };
        let author = history::author_name_of(repo, revs.head_oid);
        let rc = &req.settings.regression;
        let filter = rc.source_filter(&req.settings.files.exclude);
        let ctx = regression::features::Context {
            filter: &filter,
            tests,
            follow_renames: rc.follow_renames,
        };
        let code = |p: &str| ctx.category(p) != regression::features::Category::Other;
        let base_time = history::head_commit(repo, revs.merge_base_oid).map_or(0, |c| c.1);
        let history = match mined {
            Some(Ok(p)) => Ok(guide::HistoryInput {
                commits: &p.records,
                files: &p.state.files,
                base_time,
                bulk_files: rc.bulk_files,
                change: &p.change,
            }),
            Some(Err(why)) => Err(why.clone()),
            None => Err("it was not mined".to_string()),
        };
        let history = match (history, mined) {
            (Ok(h), Some(Ok(p))) if h.commits.is_empty() => match &p.source {
                ModelSource::ChangeOnly(why) => Err(why.clone()),
                _ => Ok(h),
            },
            (h, _) => h,
        };
        let (reviewers, partners, notes) = guide::review(
            guide::ReviewInput {
                changes,
                owners: owners.as_ref(),
                mailmap: read(".mailmap")
                    .map(|t| git::mailmap::Mailmap::parse(&t))
                    .unwrap_or_default(),
                author: guide::reviewers::Author {
                    login: req.author_login.clone(),
                    name: author.as_ref().map(|a| a.0.clone()),
                    email: author.map(|a| a.1),
                },
                history,
                base_graph,
                tests,
                code: &code,
            },
            s,
        );
        g.reviewers = reviewers;
        g.partners = partners;
        g.notes.extend(notes);
        if let Some(owners) = owners {
            g.notes.extend(owners.skipped.iter().cloned());
            g.codeowners = Some(owners.path.clone());
        }
    }
    if s.affected_tests {
        let changed: Vec<&str> = changes
            .files
            .iter()
            .filter(|f| f.exists_at_head())
            .map(|f| f.path.as_str())
            .collect();
        let names = RustTestNames::of(repo, head, store);
        g.affected_tests = guide::affected::affected(&head.graph, &changed, tests, &names);
    }
    g
}

/// `cargo nextest` names of the head side's Rust files, from the Cargo model and the parse facts.
struct RustTestNames {
    /// Integration test roots → `package(p) & binary(x)`.
    integration: BTreeMap<String, String>,
    /// Library source dirs (`crates/x/src`) → package name.
    libs: Vec<(String, String)>,
    /// Rust files with an inline `#[cfg(test)]` module.
    with_tests: std::collections::HashSet<String>,
}

impl RustTestNames {
    fn of(repo: &Repo, head: &Side, store: &ParseStore) -> RustTestNames {
        let mut names = RustTestNames {
            integration: BTreeMap::new(),
            libs: Vec::new(),
            with_tests: Default::default(),
        };
        let rust: Vec<&SourceFile> = head
            .sources
            .iter()
            .filter(|f| f.lang.family() == Family::Rust)
            .collect();
        if rust.is_empty() {
            return names;
        }
        for f in rust {
            let has_tests = store
                .facts(f)
                .and_then(|x| x.rust.as_ref())
                .is_some_and(|r| {
                    r.inline_mods.iter().any(|m| {
                        m.cfg.iter().any(|c| {
                            c.split(|ch: char| !ch.is_alphanumeric())
                                .any(|w| w == "test")
                        })
                    })
                });
            if has_tests {
                names.with_tests.insert(f.path.clone());
            }
        }
        let model = crate::resolve::cargo::load(repo, &head.snapshot, &|p| p.ends_with(".rs"));
        for p in &model.packages {
            for t in &p.targets {
                match t.kind {
                    crate::resolve::cargo::TargetKind::Test => {
                        names.integration.insert(
                            t.root.clone(),
                            format!("package({}) & binary({})", p.name, t.name),
                        );
                    }
                    crate::resolve::cargo::TargetKind::Lib => {
                        if let Some((dir, _)) = t.root.rsplit_once('/') {
                            names.libs.push((dir.to_string(), p.name.clone()));
                        }
                    }
                    _ => {}
                }
            }
        }
        names.libs.sort_by_key(|l| std::cmp::Reverse(l.0.len()));
        names
    }
}

impl guide::affected::RustTestNames for RustTestNames {
    fn integration_test(&self, path: &str) -> Option<String> {
        self.integration.get(path).cloned()
    }

    fn unit_tests(&self, path: &str) -> Option<String> {
        if !self.with_tests.contains(path) {
            return None;
        }
        let (dir, package) = self
            .libs
            .iter()
            .find(|(dir, _)| path.starts_with(&format!("{dir}/")))?;
        let module = path[dir.len() + 1..]
            .trim_end_matches(".rs")
            .trim_end_matches("/mod")
            .replace('/', "::");
        Some(if module == "lib" {
            format!("package({package}) & kind(lib)")
        } else {
            format!("package({package}) & kind(lib) & test(/^{module}::/)")
        })
    }
}

/// Why a partial clone is scored by the prior model.
const PARTIAL: &str = "the checkout is a partial clone (actions/checkout with `filter: blob:none`), so the history's file contents needed to train this repository's model are not there; drop `filter:` to train on the history";

/// Everything the regression scorer needs, read from the repository.
pub struct PreparedRegression {
    pub model: Model,
    pub source: ModelSource,
    /// The window's commits, oldest first (the state's commit indexes point here).
    pub records: Vec<(git::Oid, history::CommitRecord)>,
    pub labels: regression::labels::Labels,
    /// The model's probabilities for the window's recent commits, ascending.
    pub baseline: Vec<f64>,
    pub state: HistoryState,
    pub window: regression::Window,
    /// The change's line facts, author, time and purpose.
    pub change: CommitFacts,
    pub author: String,
    pub time: i64,
    pub fix: bool,
    /// What the model cache did (for `--timings`).
    pub cache_note: Option<String>,
    /// File versions of the window's commits that could not be read (skipped, not fatal).
    pub unreadable: usize,
}

/// Mine the history up to the merge-base (with the history cache when given), then take the
/// model: the cached one when the window has not moved materially, else one trained now on the
/// window's labelled commits, else the prior; `Err` is why not even the change can be read.
#[allow(clippy::too_many_arguments)]
fn prepare_regression(
    repo: &Repo,
    revs: &Revisions,
    cfg: &Settings,
    ctx: &regression::features::Context,
    memo: &mut dyn history::CommitMemo,
    cache_dir: Option<(&Path, &cache::store::Key)>,
    base_graph: &DepGraph,
    t: &mut Timings,
    obs: &dyn Observer,
) -> std::result::Result<PreparedRegression, String> {
    let rc = &cfg.regression;
    let matcher = rc.matcher().map_err(|e| e.to_string())?;
    let change = facts_between(repo, revs.merge_base_oid, revs.head_oid)
        .map_err(|e| format!("reading the change failed: {e}"))?;
    let (author, time, message) = history::head_commit(repo, revs.head_oid)
        .ok_or_else(|| "the head commit cannot be read".to_string())?;
    let fix = matcher.kind(&message).fix && change.files.iter().any(|f| ctx.production(&f.path));
    let prior = regression::model::prior();
    if repo.is_shallow() {
        return Ok(PreparedRegression {
            model: prior.change_only,
            source: ModelSource::ChangeOnly(regression::SHALLOW.to_string()),
            records: Vec::new(),
            labels: Default::default(),
            state: HistoryState::default(),
            baseline: Vec::new(),
            window: regression::Window::default(),
            change,
            author,
            time,
            fix,
            cache_note: None,
            unreadable: 0,
        });
    }
    let no_churn = std::collections::HashSet::new();
    let opts = history::MineOptions {
        max_commits: rc.max_commits,
        max_age_days: rc.max_age_days,
        min_commits: 1,
        follow_renames: rc.follow_renames,
        matcher: &matcher,
        churn_for: &no_churn,
    };
    let mined = t
        .time(obs, "history", || {
            history::mine(repo, revs.merge_base_oid, &opts, Some(&mut *memo))
        })
        .map_err(|e| format!("mining the history failed: {e}"))?;
    let mut window = regression::Window::of(&mined);
    let key = rc.training_key(&cfg.files.exclude, &cfg.files.tests);
    let version = cache::store::tool_version();
    let maturity = i64::from(rc.maturity_days) * 86_400;
    let cutoff = mined.base_time;
    let mut cache_note = None;
    let cached =
        cache_dir.and_then(
            |(d, secret)| match cache::model::load(d, version, secret, key) {
                Ok(c) => c,
                Err(why) => {
                    cache_note = Some(format!("rebuilt ({why})"));
                    None
                }
            },
        );
    let fresh = cached.filter(|c| {
        regression::still_fresh(
            c.newest,
            c.cutoff,
            c.model.trained.commits,
            cutoff,
            maturity,
            mined.commits.iter().map(|c| c.time),
        )
    });
    if git::fetch::is_partial_clone(repo) {
        // The history's file contents are not in a blobless checkout: no line facts to train on
        // (and none to cache wrong). The prior reads the change's own lines and the history's
        // paths, which the checkout has.
        let records = window_records(&mined.window, &*memo);
        let commits: Vec<(git::Oid, &history::CommitRecord)> =
            records.iter().map(|(id, r)| (*id, r)).collect();
        let state = regression::state_of(&commits, &matcher, ctx, rc.bulk_files);
        drop(commits);
        return Ok(PreparedRegression {
            model: prior.full,
            source: ModelSource::Prior(PARTIAL.to_string()),
            records,
            labels: Default::default(),
            state,
            baseline: Vec::new(),
            window,
            change,
            author,
            time,
            fix,
            cache_note,
            unreadable: 0,
        });
    }
    t.time(obs, "line facts", || {
        history::fill_facts(repo, &mined.window, &mut *memo)
    })
    .map_err(|e| format!("reading the history's changes failed: {e}"))?;
    let records = window_records(&mined.window, &*memo);
    let unreadable = history::unreadable_blobs(repo, records.iter().map(|(_, r)| r));
    let commits: Vec<(git::Oid, &history::CommitRecord)> =
        records.iter().map(|(id, r)| (*id, r)).collect();
    let production = |p: &str| ctx.production(p);
    let (model, source, labels, state, baseline) = match fresh {
        Some(c) => {
            cache_note = Some(format!(
                "model reused (trained on {} commits)",
                c.model.trained.commits
            ));
            let (labels, state) = t.time(obs, "labels", || {
                (
                    regression::labels::label(&commits, &matcher, &production, rc.bulk_files),
                    regression::state_of(&commits, &matcher, ctx, rc.bulk_files),
                )
            });
            (c.model, ModelSource::Repository, labels, state, c.baseline)
        }
        None => t.time(obs, "training", || {
            let graph = regression::features::GraphReach::new(base_graph, ctx.tests);
            let ds = regression::dataset(&commits, &matcher, ctx, &graph, rc.bulk_files);
            match regression::fit(&ds, cutoff, rc, &rc.feature_names()) {
                Ok(m) => {
                    let baseline = regression::baseline(&m, &ds);
                    if let Some((d, secret)) = cache_dir {
                        let newest = regression::training_set(&ds, cutoff, maturity)
                            .0
                            .last()
                            .map_or(0, |s| s.time);
                        let entry = cache::model::Cached {
                            newest,
                            cutoff,
                            model: m.clone(),
                            baseline: baseline.clone(),
                        };
                        cache_note =
                            Some(match cache::model::save(d, version, secret, key, &entry) {
                                Ok(()) => "model trained and written".to_string(),
                                Err(e) => format!("model trained, not written ({e})"),
                            });
                    }
                    (m, ModelSource::Repository, ds.labels, ds.state, baseline)
                }
                Err(why) => {
                    let baseline = regression::baseline(&prior.full, &ds);
                    (
                        prior.full,
                        ModelSource::Prior(format!(
                            "too little history to train this repository's model: {why}"
                        )),
                        ds.labels,
                        ds.state,
                        baseline,
                    )
                }
            }
        }),
    };
    window.fix_commits = labels.fixes;
    window.reverts = Some(labels.reverts);
    window.bug_inducing = Some(labels.inducing.len());
    drop(commits);
    Ok(PreparedRegression {
        model,
        source,
        records,
        labels,
        state,
        baseline,
        window,
        change,
        author,
        time,
        fix,
        cache_note,
        unreadable,
    })
}

/// The window's records, oldest first.
fn window_records(
    window: &[git::Oid],
    memo: &dyn history::CommitMemo,
) -> Vec<(git::Oid, history::CommitRecord)> {
    window
        .iter()
        .rev()
        .filter_map(|id| memo.get(*id).map(|r| (*id, r.clone())))
        .collect()
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
    /// Safety caps reached while reading the workspace (a `pnpm-workspace.yaml` too deep).
    limits: Vec<String>,
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
        Resolution::with_noted(git_dir, snapshot, memo, Vec::new())
    }

    /// [`Resolution::with_memo`], plus entries that carry their notes
    /// ([`JsResolver::preload_noted`]).
    fn with_noted(
        git_dir: &Path,
        snapshot: &Snapshot,
        memo: Option<crate::resolve::memo::Memo>,
        noted: Vec<crate::resolve::javascript::NotedEntry>,
    ) -> Resolution {
        let (packages, limits) = match Repo::open(git_dir) {
            Ok(r) => workspaces::packages_within_caps(&r, snapshot),
            Err(_) => (BTreeMap::new(), Vec::new()),
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
        resolver.preload_noted(noted);
        let surfaces = packages::surfaces(git_dir, snapshot, &packages, |from, spec| {
            resolver.resolve(from, spec)
        });
        Resolution {
            resolver: Arc::new(resolver),
            surfaces,
            limits,
        }
    }
}

/// The head and base sides.
///
/// With `incremental`, the head side starts from the base's work where the two snapshots resolve
/// alike ([`crate::resolve::memo::delta`]):
/// - only files edited in place (no path added or removed, no JSON/YAML, symlink or submodule
///   touched): one resolver and its memo, built on the base snapshot, serve both sides, so the
///   head side costs little more than memo lookups;
/// - paths added, removed or renamed, but no resolution-config change: the head gets its own
///   resolver, started from the base's memo minus every entry the added/removed paths could
///   change ([`crate::resolve::memo::carry`]); only those specifiers are resolved again;
/// - a resolution-config change, or base entries loaded from the cache with notes (which entry
///   made which note is not known then): the head side is resolved from scratch.
///
/// The Rust resolution (a whole-crate pass) is the base's when no `.rs`/`.toml` file changed.
/// Either way the head side is exactly what resolving it on its own gives (`incremental: false`).
///
/// With `caches` (the cache directory and key), the base side's resolver starts from the memo an
/// earlier run saved for the same resolution context ([`cache::resolve`]), and what this run
/// resolved is saved back. The head side shares it only when the resolver is shared.
pub fn build_sides(
    git_dir: &Path,
    [head_snap, base_snap]: [Snapshot; 2],
    [head_sources, base_sources]: [Vec<SourceFile>; 2],
    store: &ParseStore,
    incremental: bool,
    caches: Option<&cache::Location>,
) -> (Side, Side, Option<cache::resolve::Stats>) {
    use crate::resolve::memo;
    let version = cache::store::tool_version();
    let mut stats = cache::resolve::Stats::default();
    let memo_dir = caches.map(|l| l.dir.as_path());
    let context = memo_dir.map(|_| cache::resolve::context(&base_snap));
    let loaded = caches
        .zip(context)
        .and_then(|(l, c)| cache::resolve::load(&l.dir, version, &l.key, c, &mut stats));
    let r = Resolution::with_memo(git_dir, &base_snap, loaded);
    let base_js = js_imports(&base_sources, store, &r.resolver);
    let delta = incremental.then(|| memo::delta(&base_snap, &head_snap));
    // Carrying entries over needs to know which entry made which note (a tsconfig that could not
    // be loaded): not so for entries loaded from the cache with notes.
    let noted = match &delta {
        Some(d) if !d.config && !d.paths.is_empty() => r.resolver.noted_entries(),
        _ => None,
    };
    let head_plan = match (&delta, &noted) {
        (Some(d), _) if d.same_js() => HeadPlan::Shared,
        (Some(_), Some(_)) => HeadPlan::Carried,
        _ => HeadPlan::Scratch,
    };
    // JavaScript: the base first, so a shared head side finds the memo filled (and a carried one
    // starts from it). Then the Rust resolutions, the graphs, and saving the memo, in parallel.
    let head_js =
        (head_plan == HeadPlan::Shared).then(|| js_imports(&head_sources, store, &r.resolver));
    let carried = noted.map(|entries| {
        let d = delta.as_ref().expect("carried only with a delta");
        memo::carry(entries, d, &head_snap)
    });
    let rust_shared = delta.as_ref().is_some_and(|d| !d.rust);
    let save = || {
        let (Some(loc), Some(context)) = (caches, context) else {
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
        match cache::resolve::save(&loc.dir, version, &loc.key, context, memo) {
            Ok(()) => stats.written = true,
            Err(e) => stats.write_error = Some(e.to_string()),
        }
    };
    // The head side, with the base's Rust resolution when it holds for the head too.
    let head_side = |rust: Option<rust::RustResolution>| {
        let rust = rust.unwrap_or_else(|| rust_imports(git_dir, &head_snap, &head_sources, store));
        match (head_js, carried) {
            (Some(js), _) => finish_side(head_snap, head_sources, store, &r, js, rust),
            (None, Some(entries)) => {
                let hr = Resolution::with_noted(git_dir, &head_snap, None, entries);
                let js = js_imports(&head_sources, store, &hr.resolver);
                finish_side(head_snap, head_sources, store, &hr, js, rust)
            }
            (None, None) => {
                let hr = Resolution::of(git_dir, &head_snap);
                let js = js_imports(&head_sources, store, &hr.resolver);
                finish_side(head_snap, head_sources, store, &hr, js, rust)
            }
        }
    };
    let ((head, base), ()) = rayon::join(
        || {
            if rust_shared {
                let rust = rust_imports(git_dir, &base_snap, &base_sources, store);
                let for_head = rust.clone();
                rayon::join(
                    || head_side(Some(for_head)),
                    || finish_side(base_snap, base_sources, store, &r, base_js, rust),
                )
            } else {
                rayon::join(
                    || head_side(None),
                    || {
                        let rust = rust_imports(git_dir, &base_snap, &base_sources, store);
                        finish_side(base_snap, base_sources, store, &r, base_js, rust)
                    },
                )
            }
        },
        save,
    );
    (head, base, memo_dir.map(|_| stats))
}

/// How [`build_sides`] resolves the head side's JavaScript imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadPlan {
    /// The base's resolver serves both sides.
    Shared,
    /// A head resolver started from the base memo's entries that still hold.
    Carried,
    /// A head resolver of its own, from nothing.
    Scratch,
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
    let rust = rust_imports(git_dir, &snapshot, &sources, store);
    finish_side(snapshot, sources, store, r, imports, rust)
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
    snapshot: Snapshot,
    sources: Vec<SourceFile>,
    store: &ParseStore,
    r: &Resolution,
    mut imports: Vec<ResolvedImport>,
    rust: rust::RustResolution,
) -> Side {
    imports.extend(rust.imports);
    let parsed = sources
        .iter()
        .filter(|f| store.facts(f).is_some())
        .map(|f| f.path.as_str());
    let graph = DepGraph::build(parsed, imports);
    let mut notes = r.resolver.notes();
    notes.extend(rust.notes);
    let mut limits = r.limits.clone();
    limits.extend(rust.limits);
    Side {
        snapshot,
        sources,
        graph,
        notes,
        limits,
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
            limits: Vec::new(),
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
    // Decided once the report is complete (see `run`).
    let gate = Gate::pass(cfg.gate.threshold);
    let mut notes = Vec::new();
    notes.extend(skipped_notes(&changes, head, store));
    notes.extend(unreadable_sources_note(head, base, store));
    for n in head.notes.iter().chain(&base.notes) {
        let n = Note::new(NoteCode::Resolution, n.clone());
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    for l in head.limits.iter().chain(&base.limits) {
        let n = Note::new(NoteCode::LimitReached, l.clone());
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
        guidance: Guidance::default(),
        dependencies: Dependencies::default(),
        schema_version: report::SCHEMA_VERSION,
        tool: Tool::current(),
        revisions: revs,
        config: ConfigInfo {
            source: req.config_source.clone(),
            threshold: cfg.gate.threshold,
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

/// How many source files (head and base together, each blob once) could not be read at all — in
/// a partial clone whose missing objects were not fetched: the graphs lack them.
fn unreadable_sources_note(head: &Side, base: &Side, store: &ParseStore) -> Option<Note> {
    let mut blobs = std::collections::HashSet::new();
    for s in head.sources.iter().chain(&base.sources) {
        if let Some(Err(crate::parse::Skipped::Unreadable { .. })) = store.get(s) {
            blobs.insert(s.oid);
        }
    }
    (!blobs.is_empty()).then(|| {
        Note::new(
            NoteCode::FileNotAnalysed,
            format!(
                "{} source file(s) could not be read (contents missing from the repository, e.g. a partial clone that could not fetch them): the dependency graphs lack them",
                blobs.len()
            ),
        )
    })
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
        } else if f.missing {
            notes.push(skipped(format!(
                "{}: contents missing from this partial clone, not analysed",
                f.path
            )));
        } else if f.oversize {
            // A lock file is read by the dependency stage whatever its size (its problems are
            // noted there): "not parsed" would say the opposite of what happened.
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            let lock_file = name == "Cargo.lock" || crate::deps::project::NPM_LOCKS.contains(&name);
            if !lock_file {
                notes.push(skipped(format!(
                    "{}: larger than limits.max-file-size, not parsed",
                    f.path
                )));
            }
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

/// The walk's seeds for the changed direct dependencies: each belongs to its changed manifest
/// (else lock file) and reaches the head files that import it.
pub fn package_seeds(changes: &ChangeSet, direct: &[deps::Change]) -> Vec<PackageSeed> {
    let changed: BTreeSet<&str> = changes.files.iter().map(|f| f.path.as_str()).collect();
    direct
        .iter()
        .filter(|c| !c.importers.is_empty())
        .filter_map(|c| {
            let file = c.changed_file(&|p| changed.contains(p))?;
            Some(PackageSeed {
                file: file.to_string(),
                name: c.name.clone(),
                importers: c.importers.clone(),
                type_only: c.type_only_importers.iter().cloned().collect(),
            })
        })
        .collect()
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
    packages: &[PackageSeed],
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
        packages,
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
