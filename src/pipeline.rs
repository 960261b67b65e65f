//! The whole pipeline in one function: revisions → change set → snapshots → parsed files →
//! dependency graphs → scores → report. Each stage is its own module; this file only wires them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::{self, ParseCache};
use crate::config::{Config, LoadedConfig};
use crate::diff::{self, ChangeSet};
use crate::error::Result;
use crate::graph::{DepGraph, ResolvedImport};
use crate::history_cache::HistoryCache;
use crate::lang::Family;
use crate::parse::{select_sources, Filters, ParseStore, SourceFile};
use crate::report::{self, ChangeSummary, ConfigInfo, Dimensions, GraphSummary, Report, Tool};
use crate::resolve::javascript::JsResolver;
use crate::resolve::rust;
use crate::resolve::vfs::SnapshotFs;
use crate::resolve::workspaces;
use crate::resolve_cache;
use crate::revisions::{self, Revisions};
use crate::score::security;
use crate::score::{self, coupling, impact, regression};
use crate::snapshot::Snapshot;
use crate::trusted::{self, FileSource};

/// What to score and how.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub repo: PathBuf,
    pub base: Option<String>,
    pub head: Option<String>,
    pub config_path: Option<PathBuf>,
    /// Overrides the configured threshold.
    pub threshold: Option<u8>,
    /// Overrides `fail-on-critical-security`.
    pub fail_on_critical_security: Option<bool>,
    /// Read the configuration (and every other setting) from this commit's blobs instead of the
    /// working tree: in action mode the base commit, so a PR cannot lower its own bar.
    pub config_at: Option<String>,
    /// Where the parse and history caches live (`--cache-dir`); default `$PR_RISK_CACHE_DIR`, else
    /// `<git-dir>/pr-risk/cache`.
    pub cache_dir: Option<PathBuf>,
    /// Neither read nor write the parse and history caches (`--no-cache`).
    pub no_cache: bool,
}

/// Wall time of each stage, for `--timings`.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Stages in order; a name ending in `*` ran alongside the others (its time overlaps theirs).
    pub stages: Vec<(&'static str, Duration)>,
    /// When the run started (the total is wall time, not the sum of overlapping stages).
    pub started: Option<Instant>,
    /// What the parse cache did (None: disabled).
    pub cache: Option<crate::cache::Stats>,
    /// What the history cache did (None: disabled).
    pub history_cache: Option<crate::history_cache::Stats>,
    /// What the resolution memo did (None: disabled).
    pub resolve_memo: Option<resolve_cache::Stats>,
}

impl Timings {
    /// Run `f` as the stage `name` and record its wall time.
    pub fn time<T>(&mut self, name: &'static str, f: impl FnOnce() -> T) -> T {
        crate::progress::stage(name);
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
    /// The configuration the run used (overrides applied).
    pub config: Config,
}

/// A snapshot with its sources and graph.
pub struct Side {
    pub snapshot: Snapshot,
    pub sources: Vec<SourceFile>,
    pub graph: DepGraph,
    pub notes: Vec<String>,
    /// Workspace packages and their public entries (for the coupling rule `no-deep-import`).
    pub packages: Vec<coupling::packages::PackageSurface>,
}

pub fn run(req: &Request) -> Result<Outcome> {
    let mut t = Timings {
        started: Some(Instant::now()),
        ..Timings::default()
    };
    let repo = revisions::open(&req.repo)?;
    let git_dir = repo.path().to_path_buf();
    let settings = match &req.config_at {
        Some(rev) => FileSource::Commit {
            git_dir: git_dir.clone(),
            commit: revisions::commit_of(&repo, rev, "base (configuration)")?,
        },
        None => FileSource::WorkTree(repo.workdir().unwrap_or(&git_dir).to_path_buf()),
    };
    let loaded = t.time("config", || {
        trusted::load_config(&settings, req.config_path.as_deref())
    })?;
    let mut cfg = loaded.config.clone();
    if let Some(th) = req.threshold {
        cfg.threshold = th;
    }
    if let Some(f) = req.fail_on_critical_security {
        cfg.fail_on_critical_security = f;
    }
    let rules = t.time("rules", || {
        security::RuleSet::load(&cfg.security, repo.workdir())
    })?;
    let cache_dir = (!req.no_cache).then(|| cache::dir_for(&repo, req.cache_dir.as_deref()));
    let revs = t.time("revisions", || {
        revisions::resolve(&repo, req.base.as_deref(), req.head.as_deref())
    })?;
    let changes = t.time("change set", || {
        diff::change_set(
            &repo,
            revs.merge_base_oid,
            revs.head_oid,
            cfg.limits.max_file_size,
        )
    })?;
    // The security scan reads only the changed files: it runs on its own thread while the
    // snapshots are parsed and resolved (its stage time overlaps theirs).
    let mut store = ParseStore::default();
    let (security, head, base) = std::thread::scope(|scope| -> Result<_> {
        let scan = scope.spawn(|| {
            let started = Instant::now();
            let d = security::score(security::SecurityInput {
                git_dir: &git_dir,
                changes: &changes,
                config: &cfg,
                rules: &rules,
            });
            (d, started.elapsed())
        });
        let (base_snap, head_snap) = t.time("snapshots", || -> Result<_> {
            Ok((
                Snapshot::of_commit(&repo, revs.merge_base_oid)?,
                Snapshot::of_commit(&repo, revs.head_oid)?,
            ))
        })?;
        let filters = Filters::from_config(&cfg);
        let base_sources = select_sources(&base_snap, &filters);
        let head_sources = select_sources(&head_snap, &filters);
        let mut cache = t.time("cache load", || cache_dir.as_deref().map(ParseCache::open));
        t.time("parse", || {
            store.parse_cached(
                &git_dir,
                head_sources.iter().chain(base_sources.iter()),
                cfg.limits.max_file_size,
                cache.as_mut(),
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
        let (head, base, memo) = t.time("graph", || {
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
    let changed_settings = match settings.commit() {
        Some(_) => trusted::changed_between(
            &repo,
            revs.merge_base_oid,
            revs.head_oid,
            &trusted::settings_paths(req.config_path.as_deref(), &cfg),
        ),
        None => Vec::new(),
    };
    // Impact and coupling (graph traversals) run on their own thread while the history is mined.
    let (impact, coupling, regression) = std::thread::scope(|scope| {
        let graphs = scope.spawn(|| {
            let started = Instant::now();
            let impact = impact::score(impact::ImpactInput {
                changes: &changes,
                head: &head.graph,
                base: &base.graph,
                config: &cfg,
            });
            let impact_took = started.elapsed();
            let started = Instant::now();
            let coupling = coupling::score(coupling::CouplingInput {
                changes: &changes,
                head: &head.graph,
                base: &base.graph,
                head_packages: &head.packages,
                base_packages: &base.packages,
                config: &cfg,
            });
            (impact, impact_took, coupling, started.elapsed())
        });
        let mut history_cache = t.time("history load", || {
            cache_dir.as_deref().map(HistoryCache::open)
        });
        let mined = t.time("history", || {
            regression::mine(&revs, &changes, &head.graph, &cfg, history_cache.as_mut())
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
        let regression = t.time("regression", || {
            regression::from_mined(mined, &changes, &head.graph, &cfg)
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
    let mut report = t.time("assemble", || {
        assemble(
            &loaded, &cfg, revs, changes, &head, &base, &store, dimensions,
        )
    });
    report.config.read_from = settings.commit().map(|c| c.to_string());
    if !changed_settings.is_empty() {
        report.notes.insert(
            0,
            format!(
                "this pull request changes pr-risk settings ({}); it was scored with the base branch's settings, and the new ones apply once it is merged",
                changed_settings.join(", ")
            ),
        );
    }
    report.config.changed_by_pr = changed_settings;
    Ok(Outcome {
        report,
        timings: t,
        config: cfg,
    })
}

/// The dependency graph of one revision on its own (for `pr-risk graph` and tests).
pub fn side_at(repo_path: &Path, rev: &str, cfg: &Config) -> Result<Side> {
    let repo = revisions::open(repo_path)?;
    let oid = revisions::commit_of(&repo, rev, "graph")?;
    let snapshot = Snapshot::of_commit(&repo, oid)?;
    let sources = select_sources(&snapshot, &Filters::from_config(cfg));
    let mut store = ParseStore::default();
    store.parse(repo.path(), &sources, cfg.limits.max_file_size);
    Ok(build_side(repo.path(), snapshot, sources, &store))
}

/// Whether a change leaves module resolution as it was: it only modifies regular files in place
/// (no file added, deleted, renamed or retyped, no symlink or submodule touched) and no JSON or
/// YAML file (`package.json`, `tsconfig*.json` and what they extend, `pnpm-workspace.yaml`): what
/// [`resolve_cache::context`] hashes is the same on both sides. Then every specifier resolves to
/// the same target at base and at head.
pub fn same_resolution(changes: &ChangeSet) -> bool {
    changes.files.iter().all(|f| {
        let lower = f.path.to_ascii_lowercase();
        f.status == crate::diff::Status::Modified
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
    surfaces: Vec<coupling::packages::PackageSurface>,
}

impl Resolution {
    pub fn of(git_dir: &Path, snapshot: &Snapshot) -> Resolution {
        Resolution::with_memo(git_dir, snapshot, None)
    }

    /// [`Resolution::of`] with the resolver's memo filled from an earlier run first.
    pub fn with_memo(
        git_dir: &Path,
        snapshot: &Snapshot,
        memo: Option<resolve_cache::Memo>,
    ) -> Resolution {
        let packages = match git2::Repository::open(git_dir) {
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
        let surfaces = coupling::packages::surfaces(git_dir, snapshot, &packages, |from, spec| {
            resolver.resolve(from, spec)
        });
        Resolution { resolver, surfaces }
    }
}

/// The head and base sides. With `shared` (see [`same_resolution`]) both use one resolver and its
/// memo, built on the base snapshot, so the head side costs little more than memo lookups.
///
/// With `memo_dir` (the cache directory), the base side's resolver starts from the memo an earlier
/// run saved for the same resolution context ([`resolve_cache`]), and what this run resolved is
/// saved back. The head side shares it when `shared`.
pub fn build_sides(
    git_dir: &Path,
    [head_snap, base_snap]: [Snapshot; 2],
    [head_sources, base_sources]: [Vec<SourceFile>; 2],
    store: &ParseStore,
    shared: bool,
    memo_dir: Option<&Path>,
) -> (Side, Side, Option<resolve_cache::Stats>) {
    let version = cache::current_version();
    let mut stats = resolve_cache::Stats::default();
    let context = memo_dir.map(|_| resolve_cache::context(&base_snap));
    let memo = memo_dir
        .zip(context)
        .and_then(|(d, c)| resolve_cache::load(d, &version, c, &mut stats));
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
        let memo = resolve_cache::Memo {
            entries: r.resolver.memo_entries(),
            notes: r.resolver.notes(),
        };
        match resolve_cache::save(dir, &version, context, memo) {
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
        };
    }
    match git2::Repository::open(git_dir) {
        Ok(repo) => rust::resolve(&repo, snapshot, &rs),
        Err(_) => rust::resolve_with(Default::default(), &rs),
    }
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    loaded: &LoadedConfig,
    cfg: &Config,
    revs: Revisions,
    changes: ChangeSet,
    head: &Side,
    base: &Side,
    store: &ParseStore,
    dimensions: Dimensions,
) -> Report {
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
    notes.extend(head.notes.iter().cloned());
    for n in &base.notes {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }
    if head.snapshot.non_utf8_paths > 0 {
        notes.push(format!(
            "{} path(s) with names that are not valid UTF-8 were not analysed",
            head.snapshot.non_utf8_paths
        ));
    }
    let count = |k: &str| head.graph.unresolved.iter().filter(|u| u.kind == k).count();
    Report {
        schema_version: report::SCHEMA_VERSION,
        tool: Tool::current(),
        revisions: revs,
        config: ConfigInfo {
            source: loaded
                .source
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
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
            unresolved_external: count("external"),
            unresolved_builtin: count("builtin"),
            unresolved_missing: count("missing"),
        },
        dimensions,
        composite,
        gate,
        notes,
    }
}

/// Notes for changed files that were listed but not analysed.
fn skipped_notes(changes: &ChangeSet, head: &Side, store: &ParseStore) -> Vec<String> {
    let mut notes = Vec::new();
    for f in &changes.files {
        if f.submodule {
            notes.push(format!("{}: submodule entry, not analysed", f.path));
        } else if f.symlink {
            notes.push(format!("{}: symbolic link, not analysed", f.path));
        } else if f.binary {
            notes.push(format!("{}: binary file, not analysed", f.path));
        } else if f.oversize {
            notes.push(format!(
                "{}: larger than limits.max-file-size, not parsed",
                f.path
            ));
        } else if let Some(src) = head.sources.iter().find(|s| s.path == f.path) {
            if let Some(Err(why)) = store.get(src) {
                notes.push(format!("{}: not parsed ({why})", f.path));
            }
        }
    }
    notes
}
