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
    /// List the security rules, or test them against their examples.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every security rule (embedded, security.rule-dirs, secret detectors).
    List {
        /// Repository whose .pr-risk.yml applies (default: the current one, if any).
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run every rule's `match`/`no-match` examples (of the rule files in DIR, if given).
    Test {
        /// A directory of rule files (*.yml); default: every configured rule.
        dir: Option<PathBuf>,
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
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
    let result = match &cli.command {
        Command::Score(args) => score(args),
        Command::Rules(cmd) => rules(cmd),
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

fn rules(cmd: &RulesCommand) -> Result<ExitCode, Error> {
    use crate::score::security::commands;
    let (repo, config) = match cmd {
        RulesCommand::List { repo, config, .. } | RulesCommand::Test { repo, config, .. } => {
            (repo, config)
        }
    };
    // Outside a git repository the directory itself is the root.
    let root = crate::revisions::open(repo)
        .ok()
        .and_then(|r| r.workdir().map(|w| w.to_path_buf()))
        .unwrap_or_else(|| repo.clone());
    let cfg = crate::config::load(Some(&root), config.as_deref())?.config;
    let (text, ok) = match cmd {
        RulesCommand::List { json, .. } => (
            commands::list_rules(&cfg.security, Some(&root), *json)?,
            true,
        ),
        RulesCommand::Test { dir, .. } => {
            commands::test_rules(&cfg.security, Some(&root), dir.as_deref())?
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(if ok {
        ExitCode::Pass
    } else {
        ExitCode::Blocked
    })
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
