//! The command line: argument parsing, the run, output and exit codes.
//!
//! Errors become one message on stderr (what, where, what to do) and an exit code:
//! 0 pass, 1 blocked, 2 usage/config/input error, 3 internal failure.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Error, ExitCode};
use crate::pipeline::{self, Request};
use crate::render::{self, Format};

#[derive(Debug, Parser)]
#[command(
    name = "pr-risk",
    version,
    about = "Scores a pull request for risk (impact, regression, security, coupling) and gates merges on it"
)]
pub struct Cli {
    /// Log progress to stderr (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Score the change between a base and a head revision.
    Score(ScoreArgs),
    /// Inspect the dependency graph of a revision (the graph the scores use).
    Graph(crate::graph_cmd::GraphArgs),
    /// The GitHub Action's entrypoint: reads INPUT_*, GITHUB_EVENT_PATH and the workspace,
    /// writes the check run, the PR comment, the step summary and the outputs.
    Action,
}

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

    /// Configuration file (default: .pr-risk.yml, .pr-risk.yaml or .github/pr-risk.yml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Block when the score is above this (overrides the configuration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub threshold: Option<u8>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,

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

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Input as i32
            } else {
                0
            };
            let _ = e.print();
            return code;
        }
    };
    init_logging(cli.verbose);
    let result = match &cli.command {
        Command::Score(args) => score(args),
        Command::Graph(args) => crate::graph_cmd::run(args),
        Command::Action => return crate::action::main() as i32,
    };
    match result {
        Ok(code) => code as i32,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code() as i32
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn score(args: &ScoreArgs) -> Result<ExitCode, Error> {
    let req = Request {
        repo: args.repo.clone(),
        base: args.base.clone(),
        head: Some(args.head.clone()),
        config_path: args.config.clone(),
        threshold: args.threshold,
        ..Request::default()
    };
    let outcome = pipeline::run(&req)?;
    let opts = render::Options {
        explain: args.explain,
        template_dir: args.templates.as_deref(),
    };
    let text = render::render(&outcome.report, args.format, &opts)?;
    match &args.output {
        Some(path) => std::fs::write(path, &text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`pr-risk score | head`) is not an error.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    if args.timings {
        let total: std::time::Duration = outcome.timings.stages.iter().map(|s| s.1).sum();
        eprintln!("timings:");
        for (name, d) in &outcome.timings.stages {
            eprintln!("  {name:<12} {:>9.1} ms", d.as_secs_f64() * 1000.0);
        }
        eprintln!("  {:<12} {:>9.1} ms", "total", total.as_secs_f64() * 1000.0);
    }
    let sync_failed = args.sync && !sync(args, &outcome);
    Ok(if outcome.report.gate.blocked {
        ExitCode::Blocked
    } else if sync_failed && (args.sync_required || outcome.config.cloud.sync_required) {
        ExitCode::Internal
    } else {
        ExitCode::Pass
    })
}

/// `--sync`: send the record to the Massu cloud; false when it failed (the report is already out).
fn sync(args: &ScoreArgs, outcome: &pipeline::Outcome) -> bool {
    use crate::secret::Secret;
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
        .or_else(|| outcome.config.cloud.api_url.clone())
        .unwrap_or_else(|| crate::cloud::DEFAULT_API_URL.to_string());
    let repo = git2::Repository::discover(&args.repo).ok();
    let repo_name = args
        .repo_name
        .clone()
        .or_else(|| {
            std::env::var("GITHUB_REPOSITORY")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .or_else(|| {
            let r = repo.as_ref()?;
            let remote = r.find_remote("origin").ok()?;
            crate::cloud::repo_from_remote(remote.url().ok()?)
        })
        .unwrap_or_default();
    let head_ref = repo.as_ref().and_then(|r| {
        let h = r.head().ok()?;
        if h.is_branch() && outcome.report.revisions.head.rev == "HEAD" {
            h.shorthand().ok().map(str::to_string)
        } else {
            Some(outcome.report.revisions.head.rev.clone())
        }
    });
    let origin = crate::cloud::Origin {
        repo: repo_name,
        pr_number: args.pr,
        pr_title: args.pr_title.clone(),
        head_ref,
    };
    match crate::action::sync_report(&api_url, key, &outcome.config, &outcome.report, &origin) {
        Ok(msg) => {
            eprintln!("{msg}");
            true
        }
        Err(e) => {
            eprintln!("warning: Massu cloud sync failed: {e}\n  (the score and the exit code are unaffected)");
            false
        }
    }
}
