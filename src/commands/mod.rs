//! One module per command. Each owns its arguments and its run; what several share lives here:
//! [`score_change`], the configuration loading and pipeline run behind `score`, the hook and the
//! Action.

pub mod action;
pub mod affected_tests;
pub mod cloud;
pub mod completions;
pub mod eval;
pub mod graph;
pub mod hook;
pub mod init;
pub mod rules;
pub mod score;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use engine::deps::AdvisoryMode;
use engine::error::Result;
use engine::git::files::FileSource;
use engine::git::{Oid, Repo};
use engine::pipeline::{self, Observer, Outcome, Request};
use engine::report::{Mode, Note, NoteCode, PrLabels};

use crate::config::{self, Config};

/// How to score one change: where the settings come from and what overrides them.
#[derive(Debug, Clone, Default)]
pub struct ScoreRequest {
    pub base: Option<String>,
    pub head: Option<String>,
    /// `--config` / the `config` input.
    pub config_path: Option<PathBuf>,
    /// Read the settings from this commit's objects instead of the working tree (action mode:
    /// the base commit, so a pull request cannot lower its own bar).
    pub settings_at: Option<Oid>,
    /// Overrides the configured threshold.
    pub threshold: Option<u8>,
    /// Overrides `fail-on-critical-security`.
    pub fail_on_critical_security: Option<bool>,
    /// Overrides `mode` (`--mode`, the `mode` input).
    pub mode: Option<Mode>,
    /// The pull request's labels (action mode, from the event): the configured
    /// `override-label` among them turns a block into a pass.
    pub labels: Option<PrLabels>,
    /// `--cache-dir`.
    pub cache_dir: Option<PathBuf>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// The pull request's author (GitHub login): never suggested as a reviewer.
    pub author_login: Option<String>,
    /// The checkout is the pull request's code (action mode): never read or write a cache in it.
    pub untrusted_checkout: Option<PathBuf>,
    /// `--offline`: known vulnerabilities of changed dependencies are not looked up, and a partial
    /// clone's missing objects are not fetched.
    pub offline: bool,
    /// In a partial clone, fetch the objects of the base and head trees first (the CLI; the
    /// Action fetches them itself before reading its settings from the base commit).
    pub complete_partial_clone: bool,
}

/// A scored change and the configuration it was scored with.
pub struct Scored {
    pub outcome: Outcome,
    pub config: Config,
    /// Where the settings were read from (templates overrides come from there too).
    pub source: FileSource,
}

/// Load the configuration (from the working tree, or from `settings_at`), apply the overrides
/// and run the pipeline.
pub fn score_change(repo: &Repo, req: &ScoreRequest, obs: &dyn Observer) -> Result<Scored> {
    let started = Instant::now();
    let fetch_notes = if req.complete_partial_clone {
        complete_partial_clone(repo, req)
    } else {
        Vec::new()
    };
    obs.stage("config");
    let source = match req.settings_at {
        Some(commit) => FileSource::Commit {
            git_dir: repo.git_dir().to_path_buf(),
            commit,
        },
        None => FileSource::WorkTree(repo.root()),
    };
    let loaded = config::load_config(&source, req.config_path.as_deref())?;
    let mut cfg = loaded.config;
    if let Some(t) = req.threshold {
        cfg.threshold = t;
    }
    if let Some(f) = req.fail_on_critical_security {
        cfg.fail_on_critical_security = f;
    }
    if let Some(m) = req.mode {
        cfg.mode = m;
    }
    // The label's name comes from the settings (the base commit's, in action mode), the labels
    // from the event: nothing in the pull request's files decides this.
    let accepted = req
        .labels
        .as_ref()
        .and_then(|l| l.override_for(&cfg.override_label));
    let config_took = started.elapsed();
    let request = Request {
        base: req.base.clone(),
        head: req.head.clone(),
        settings: cfg.engine_settings(),
        source: source.clone(),
        config_source: loaded
            .source
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        settings_paths: config::settings_paths(req.config_path.as_deref(), &cfg),
        cache_dir: req.cache_dir.clone(),
        untrusted_checkout: req.untrusted_checkout.clone(),
        no_cache: req.no_cache,
        author_login: req.author_login.clone(),
        advisories: advisory_mode(&cfg, req.offline),
        accepted,
    };
    let mut outcome = pipeline::run(repo, &request, obs)?;
    for n in fetch_notes.into_iter().rev() {
        outcome.report.notes.insert(0, n);
    }
    outcome.timings.stages.insert(0, ("config", config_took));
    if let Some(s) = outcome.timings.started.as_mut() {
        *s = started;
    }
    Ok(Scored {
        outcome,
        config: cfg,
        source,
    })
}

/// A partial clone (`git clone --filter=blob:none`): fetch the objects of the base, merge-base
/// and head trees that the clone lacks (not with `--offline`), and say what happened. A revision
/// that does not resolve is left to the pipeline, which reports it with its hint.
fn complete_partial_clone(repo: &Repo, req: &ScoreRequest) -> Vec<Note> {
    fetch_missing(repo, req.base.as_deref(), req.head.as_deref(), req.offline)
}

/// [`complete_partial_clone`] for any command that reads `base..head` (or one revision, as
/// both): the notes say what was fetched or why not. Nothing when the clone is not partial.
pub fn fetch_missing(
    repo: &Repo,
    base: Option<&str>,
    head: Option<&str>,
    offline: bool,
) -> Vec<Note> {
    if !engine::git::fetch::is_partial_clone(repo) {
        return Vec::new();
    }
    let Ok(revs) = engine::git::revisions::resolve(repo, base, head) else {
        return Vec::new();
    };
    let git = engine::git::fetch::GitCli {
        dir: repo.root(),
        trusted: false,
    };
    let base = engine::git::revisions::commit_of(repo, &revs.base.sha, "base")
        .unwrap_or(revs.merge_base_oid);
    let Some(done) =
        engine::git::fetch::complete_partial_clone(repo, &git, base, revs.head_oid, !offline)
    else {
        return Vec::new();
    };
    let code = if done.problem.is_some() {
        NoteCode::IncompleteHistory
    } else {
        NoteCode::Fetched
    };
    done.note()
        .map(|n| Note::new(code, n))
        .into_iter()
        .collect()
}

/// Print notes on stderr (commands whose output has no place for them).
pub fn warn_notes(notes: &[Note]) {
    for n in notes {
        eprintln!("note: {}", outlets::secret::scrub(&n.message));
    }
}

/// The advisory database of a run: the OSV client at `security.osv-url`, unless `--offline` or
/// `security.osv: false` says otherwise (the report then says the check did not run).
fn advisory_mode(cfg: &Config, offline: bool) -> AdvisoryMode {
    let a = &cfg.security.advisories;
    if offline {
        AdvisoryMode::Off("--offline".into())
    } else if !a.osv {
        AdvisoryMode::Off("`security.osv` is false".into())
    } else {
        AdvisoryMode::On(std::sync::Arc::new(outlets::osv::Client::new(a.url())))
    }
}

/// Write to standard output (secrets scrubbed); a closed pipe (`pr-risk … | head`) is not an
/// error.
pub fn print(text: &str) {
    let text = outlets::secret::scrub(text);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Write `text` to `path`, naming the file in the error.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| engine::Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
