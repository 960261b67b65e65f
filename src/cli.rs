//! The command line: the clap parser and the dispatch to one module per command.
//!
//! Errors become one message on stderr (what, where, what to do) and an exit code:
//! 0 pass, 1 blocked, 2 usage/config/input error, 3 internal failure.

use clap::{Parser, Subcommand};

use crate::args::Globals;
use crate::commands::{self, eval::EvalCommand, graph::GraphArgs, hook::HookAction};
use crate::commands::{affected_tests::AffectedTestsArgs, cloud::CloudCommand, init::InitArgs};
use crate::commands::{rules::RulesCommand, score::ScoreArgs};
use engine::error::ExitCode;

/// `pr-risk --version`: the crate version and the git revision it was built from.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PR_RISK_GIT_REV"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "pr-risk",
    version = LONG_VERSION,
    about = "Scores a pull request for risk (impact, regression, security, coupling) and gates merges on it"
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Score the change between a base and a head revision.
    Score(ScoreArgs),
    /// Inspect the dependency graph of a revision (the graph the scores use).
    Graph(GraphArgs),
    /// List the test files that reach the change (for a test runner).
    AffectedTests(AffectedTestsArgs),
    /// The GitHub Action's entrypoint: reads INPUT_*, GITHUB_EVENT_PATH and the workspace,
    /// writes the check run, the PR comment, the step summary and the outputs.
    Action(commands::action::ActionArgs),
    /// Manage and run the git pre-push hook.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Write a commented starter .pr-risk.yml at the top of the repository.
    Init(InitArgs),
    /// Print a shell completion script (e.g. `pr-risk completions bash > /etc/bash_completion.d/pr-risk`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Backtest a dimension's model on the repository's own history.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// List the security rules, or test them against their examples.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The Massu cloud: check the API key, list the synced PR risk records.
    #[command(subcommand)]
    Cloud(CloudCommand),
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
    let g = &cli.globals;
    register_secrets();
    init_logging(g.verbose);
    engine::git::init_process();
    let result = match &cli.command {
        Command::Score(args) => commands::score::run(args, g),
        Command::Eval(cmd) => commands::eval::run(cmd),
        Command::Graph(args) => commands::graph::run(args),
        Command::AffectedTests(args) => commands::affected_tests::run(args),
        Command::Action(args) => return commands::action::main(args) as i32,
        Command::Hook { action } => commands::hook::run(action, g),
        Command::Init(args) => commands::init::run(args, g),
        Command::Completions { shell } => {
            commands::completions::run(*shell, <Cli as clap::CommandFactory>::command())
        }
        Command::Rules(cmd) => commands::rules::run(cmd),
        Command::Cloud(cmd) => commands::cloud::run(cmd),
    };
    match result {
        Ok(code) => code as i32,
        Err(e) => {
            eprintln!("error: {}", outlets::secret::scrub(&e.to_string()));
            e.exit_code() as i32
        }
    }
}

/// Environment variables that hold secrets pr-risk may use: registered for
/// [`outlets::secret::scrub`] before anything is printed, whether or not this run uses them.
pub const SECRET_VARIABLES: &[&str] = &[
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "GITHUB_TOKEN",
    "INPUT_MASSU-API-KEY",
    "INPUT_MASSU_API_KEY",
    "MASSU_API_KEY",
    "PR_RISK_CACHE_KEY",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

fn register_secrets() {
    for name in SECRET_VARIABLES {
        if let Ok(v) = std::env::var(name) {
            let _ = outlets::secret::Secret::new(v);
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
        .with_writer(|| ScrubbedStderr(Vec::new()))
        .with_target(false)
        .try_init();
}

/// A log line on its way to stderr: collected, then written with every secret scrubbed (an API
/// error a log line quotes may echo a token).
struct ScrubbedStderr(Vec<u8>);

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let text = outlets::secret::scrub(&String::from_utf8_lossy(&self.0));
        self.0.clear();
        std::io::stderr().lock().write_all(text.as_bytes())
    }
}

impl Drop for ScrubbedStderr {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}
