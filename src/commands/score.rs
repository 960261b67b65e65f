//! `pr-risk score`: score the change between a base and a head revision and print the report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use engine::error::{ExitCode, Result};
use engine::git::{worktree, Repo};
use outlets::render::{self, Format};
use outlets::secret::Secret;

use super::{score_change, ScoreRequest, Scored};
use crate::args::{FormatArg, Globals, ModeArg};

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Repository to score (default: the repository containing the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,

    /// Base revision (default: the branch's upstream, else origin/HEAD, else main/master).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Head revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,

    /// Score uncommitted changes (tracked and untracked, not ignored) as the head, against the base.
    #[arg(long, conflicts_with = "head")]
    pub worktree: bool,

    /// Configuration file (default: .pr-risk.yml, .pr-risk.yaml or .github/pr-risk.yml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Block when the score is above this (overrides the configuration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub threshold: Option<u8>,

    /// `gate`: a blocked change exits 1; `advisory`: report only, exit 0 (overrides `mode` in
    /// the configuration).
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<ModeArg>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,

    /// Write the output to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show how every score was computed and all of its evidence.
    #[arg(long)]
    pub explain: bool,

    /// Directory with template overrides (files named like the embedded ones).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Print the time each stage took to stderr.
    #[arg(long)]
    pub timings: bool,

    /// Keep the parse and history caches in DIR (default: $PR_RISK_CACHE_DIR, else
    /// <git-dir>/pr-risk/cache).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the parse and history caches.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// Send the result to the Massu cloud (API key from MASSU_API_KEY or --api-key-env).
    #[arg(long)]
    pub sync: bool,

    /// Read the Massu API key from this environment variable instead of MASSU_API_KEY.
    #[arg(long, value_name = "NAME", requires = "sync")]
    pub api_key_env: Option<String>,

    /// Massu API URL (default: MASSU_API_URL, then `cloud.api-url`, then the production API).
    #[arg(long, value_name = "URL", requires = "sync")]
    pub api_url: Option<String>,

    /// Repository (`owner/name`) the synced record belongs to (default: GITHUB_REPOSITORY, else
    /// the `origin` remote).
    #[arg(long, value_name = "OWNER/NAME", requires = "sync")]
    pub repo_name: Option<String>,

    /// Pull request number of the synced record.
    #[arg(long, value_name = "N", requires = "sync")]
    pub pr: Option<u64>,

    /// Fail (exit 3) when the sync fails (also `cloud.sync-required` in the configuration).
    #[arg(long, requires = "sync")]
    pub sync_required: bool,

    /// Pull request title of the synced record.
    #[arg(long, value_name = "TITLE", requires = "sync")]
    pub pr_title: Option<String>,
}

pub fn run(args: &ScoreArgs, cli: &Globals) -> Result<ExitCode> {
    let repo = Repo::discover(&args.repo)?;
    let head = if args.worktree {
        worktree::snapshot_commit(&repo)?.to_string()
    } else {
        args.head.clone()
    };
    let req = ScoreRequest {
        base: args.base.clone(),
        head: Some(head),
        config_path: args.config.clone(),
        threshold: args.threshold,
        mode: args.mode.map(Into::into),
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        offline: cli.offline,
        complete_partial_clone: true,
        ..ScoreRequest::default()
    };
    let progress = crate::progress::start(cli.show_progress());
    let mut scored = score_change(&repo, &req, &progress)?;
    drop(progress);
    let outcome = &mut scored.outcome;
    if args.worktree {
        outcome.report.revisions.head.rev = "working tree".to_string();
    }
    let format = Format::from(args.format);
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let opts = render::Options {
        explain: args.explain,
        template_dir: args.templates.as_deref(),
        color: format == Format::Text && cli.color().enabled_for(to_terminal),
    };
    let started = Instant::now();
    let text = render::render(&outcome.report, format, &opts)?;
    outcome.timings.stages.push(("render", started.elapsed()));
    let written = Instant::now();
    match &args.output {
        Some(path) => super::write_file(path, &text)?,
        None if cli.quiet => {}
        None => super::print(&text),
    }
    outcome.timings.stages.push(("output", written.elapsed()));
    let sync_failed = args.sync && {
        let synced = Instant::now();
        let ok = sync(args, &repo, &scored);
        scored
            .outcome
            .timings
            .stages
            .push(("outlets", synced.elapsed()));
        !ok
    };
    if args.timings {
        print_timings(&scored.outcome.timings);
    }
    Ok(if scored.outcome.report.gate.blocked {
        ExitCode::Blocked
    } else if sync_failed && (args.sync_required || scored.config.cloud.sync_required) {
        ExitCode::Internal
    } else {
        ExitCode::Pass
    })
}

fn print_timings(t: &engine::pipeline::Timings) {
    let total = match t.started {
        Some(started) => started.elapsed(),
        None => t.stages.iter().map(|s| s.1).sum(),
    };
    eprintln!("timings:");
    for (name, d) in &t.stages {
        eprintln!("  {name:<12} {:>9.1} ms", d.as_secs_f64() * 1000.0);
    }
    eprintln!("  {:<12} {:>9.1} ms", "total", total.as_secs_f64() * 1000.0);
    if t.stages.iter().any(|s| s.0.ends_with('*')) {
        eprintln!("  (* ran alongside the other stages; total is wall time)");
    }
    if let Some(why) = &t.caches_refused {
        eprintln!("caches: not used ({why})");
    }
    if let Some(c) = &t.cache {
        eprintln!(
            "parse cache: {} loaded, {} hits, {} misses{}",
            c.loaded,
            c.hits,
            c.misses,
            cache_outcome(c.written, &c.rebuilt, &c.write_error),
        );
    }
    if let Some(c) = &t.resolve_memo {
        eprintln!(
            "resolve memo: {} loaded, {} new{}",
            c.loaded,
            c.new,
            cache_outcome(c.written, &c.rebuilt, &c.write_error),
        );
    }
    if let Some(c) = &t.scan_cache {
        eprintln!(
            "scan cache: {} loaded, {} hits, {} misses{}",
            c.loaded,
            c.hits,
            c.misses,
            cache_outcome(c.written, &c.rebuilt, &c.write_error),
        );
    }
    if let Some(c) = &t.osv_cache {
        eprintln!(
            "osv cache: {} loaded, {} hits, {} misses ({} expired){}",
            c.loaded,
            c.hits,
            c.misses,
            c.expired,
            cache_outcome(c.written, &c.rebuilt, &c.write_error),
        );
    }
    if let Some(c) = &t.history_cache {
        eprintln!(
            "history cache: {} loaded, {} hits, {} read, {} compared, {} line facts read{}",
            c.loaded,
            c.hits,
            c.read,
            c.computed,
            c.facts,
            cache_outcome(c.written, &c.rebuilt, &c.write_error),
        );
    }
    if let Some(m) = &t.model_cache {
        eprintln!("regression model: {m}");
    }
}

/// The end of a cache's `--timings` line: `, written`, `, rebuilt (why)`, `, not written (why)`.
fn cache_outcome(written: bool, rebuilt: &Option<String>, write_error: &Option<String>) -> String {
    let mut s = String::new();
    if written {
        s.push_str(", written");
    }
    if let Some(r) = rebuilt {
        s.push_str(&format!(", rebuilt ({r})"));
    }
    if let Some(e) = write_error {
        s.push_str(&format!(", not written ({e})"));
    }
    s
}

/// `--sync`: send the record to the Massu cloud; false when it failed (the report is already out).
fn sync(args: &ScoreArgs, repo: &Repo, scored: &Scored) -> bool {
    let report = &scored.outcome.report;
    let var = args.api_key_env.as_deref().unwrap_or("MASSU_API_KEY");
    let Some(key) = std::env::var(var).ok().and_then(Secret::new) else {
        eprintln!(
            "warning: --sync: no Massu API key in ${var}\n  hint: export {var}=… (the key is never taken as a command-line argument)"
        );
        return false;
    };
    let api_url = args
        .api_url
        .clone()
        .or_else(|| {
            std::env::var("MASSU_API_URL")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .or_else(|| scored.config.cloud.api_url.clone())
        .unwrap_or_else(|| outlets::cloud::DEFAULT_API_URL.to_string());
    let repo_name = args
        .repo_name
        .clone()
        .or_else(|| {
            std::env::var("GITHUB_REPOSITORY")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .or_else(|| outlets::cloud::repo_from_remote(&repo.remote_url("origin")?))
        .unwrap_or_default();
    let head_ref = if report.revisions.head.rev == "HEAD" {
        repo.current_branch()
            .or_else(|| Some(report.revisions.head.rev.clone()))
    } else {
        Some(report.revisions.head.rev.clone())
    };
    let origin = outlets::cloud::Origin {
        repo: repo_name,
        pr_number: args.pr,
        pr_title: args.pr_title.clone(),
        head_ref,
    };
    match super::action::sync_report(&api_url, key, &scored.config, report, &origin) {
        Ok(msg) => {
            eprintln!("{}", outlets::secret::scrub(&msg));
            true
        }
        Err(e) => {
            eprintln!(
                "warning: Massu cloud sync failed: {}\n  (the score and the exit code are unaffected)",
                outlets::secret::scrub(&e.to_string())
            );
            false
        }
    }
}
