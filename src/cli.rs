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
pub enum Command {
    /// Score the change between a base and a head revision.
    Score(ScoreArgs),
    /// Backtest a dimension's model on the repository's own history.
    #[command(subcommand)]
    Eval(EvalCommand),
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// How well the regression score ranks the commits that introduced bugs (SZZ labels).
    Regression(EvalRegressionArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvalRegressionArgs {
    /// Repository to evaluate (default: the repository containing the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,

    /// Evaluate the history that ends at this revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,

    /// Walk at most this many commits back from REV.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub max_commits: usize,

    /// Leave out commits younger than this, whose bugs may not be found yet (6months, 90d, 1y).
    #[arg(long, value_name = "AGE", default_value = "6months", value_parser = crate::eval::parse_duration)]
    pub maturity: i64,

    /// Configuration file (default: .pr-risk.yml, .pr-risk.yaml or .github/pr-risk.yml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
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
    // Objects are read by id from the repository's own database; re-hashing every object read
    // (libgit2's default, unlike git) costs ~20 % of history mining.
    git2::opts::strict_hash_verification(false);
    let result = match &cli.command {
        Command::Score(args) => score(args),
        Command::Eval(EvalCommand::Regression(args)) => eval_regression(args),
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

fn eval_regression(args: &EvalRegressionArgs) -> Result<ExitCode, Error> {
    let repo = crate::revisions::open(&args.repo)?;
    let loaded = crate::config::load(repo.workdir(), args.config.as_deref())?;
    let opts = crate::eval::EvalOptions {
        rev: args.rev.clone(),
        max_commits: args.max_commits,
        maturity: args.maturity,
        progress: true,
    };
    let report = crate::eval::run(&repo, &loaded.config, &opts)?;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)
            .map(|s| s + "\n")
            .map_err(|e| Error::Internal(format!("serializing the evaluation: {e}")))?,
        Format::Text => crate::eval::render_text(&report),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(ExitCode::Pass)
}

fn score(args: &ScoreArgs) -> Result<ExitCode, Error> {
    let req = Request {
        repo: args.repo.clone(),
        base: args.base.clone(),
        head: Some(args.head.clone()),
        config_path: args.config.clone(),
        threshold: args.threshold,
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
    Ok(if outcome.report.gate.blocked {
        ExitCode::Blocked
    } else {
        ExitCode::Pass
    })
}
