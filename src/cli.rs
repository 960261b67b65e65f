//! The command line: argument parsing, the run, output and exit codes.
//!
//! Errors become one message on stderr (what, where, what to do) and an exit code:
//! 0 pass, 1 blocked, 2 usage/config/input error, 3 internal failure.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::error::{Error, ExitCode};
use crate::pipeline::{self, Request};
use crate::render::style::ColorChoice;
use crate::render::{self, Format};

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
    /// Log progress to stderr (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print nothing but errors (and, in the hook, blocked refs); the exit code tells the verdict.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,

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
    /// Manage and run the git pre-push hook.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Write a commented starter .pr-risk.yml at the top of the repository.
    Init {
        /// Directory to write into (default: the top of the current repository, else `.`).
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
        /// Replace an existing .pr-risk.yml.
        #[arg(long)]
        force: bool,
    },
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
}

#[derive(Debug, Subcommand)]
pub enum HookAction {
    /// Install the pre-push hook (an existing hook is kept and run first).
    Install {
        /// Repository (default: the one containing the current directory).
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
        /// Replace an existing hook instead of chaining it (it is still kept for `uninstall`).
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-push hook and restore the one it replaced.
    Uninstall {
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
    },
    /// Run by the hook: read git's pre-push input on stdin and score each pushed ref.
    PrePush {
        /// Name of the remote being pushed to.
        remote: Option<String>,
        /// URL of the remote.
        url: Option<String>,
    },
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

    /// Score uncommitted changes (tracked and untracked, not ignored) as the head, against the base.
    #[arg(long, conflicts_with = "head")]
    pub worktree: bool,

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
        Command::Score(args) => score(args, &cli),
        Command::Eval(EvalCommand::Regression(args)) => eval_regression(args),
        Command::Graph(args) => crate::graph_cmd::run(args),
        Command::Action => return crate::action::main() as i32,
        Command::Hook { action } => hook(action, &cli),
        Command::Init { dir, force } => init(dir.as_deref(), *force, &cli),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "pr-risk", &mut std::io::stdout());
            Ok(ExitCode::Pass)
        }
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
        _ => crate::eval::render_text(&report),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(ExitCode::Pass)
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

fn score(args: &ScoreArgs, cli: &Cli) -> Result<ExitCode, Error> {
    let head = if args.worktree {
        let repo = crate::revisions::open(&args.repo)?;
        crate::worktree::snapshot_commit(&repo)?.to_string()
    } else {
        args.head.clone()
    };
    let req = Request {
        repo: args.repo.clone(),
        base: args.base.clone(),
        head: Some(head),
        config_path: args.config.clone(),
        threshold: args.threshold,
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        ..Request::default()
    };
    let progress = crate::progress::start(show_progress(cli));
    let mut outcome = pipeline::run(&req)?;
    drop(progress);
    if args.worktree {
        outcome.report.revisions.head.rev = "working tree".to_string();
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let opts = render::Options {
        explain: args.explain,
        template_dir: args.templates.as_deref(),
        color: args.format == Format::Text && cli.color.enabled_for(to_terminal),
    };
    let text = outcome.timings.time("render", || {
        render::render(&outcome.report, args.format, &opts)
    })?;
    let written = Instant::now();
    match &args.output {
        Some(path) => std::fs::write(path, &text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        None if cli.quiet => {}
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`pr-risk score | head`) is not an error.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    outcome.timings.stages.push(("output", written.elapsed()));
    let sync_failed = args.sync && {
        let synced = Instant::now();
        let ok = sync(args, &outcome);
        outcome.timings.stages.push(("outlets", synced.elapsed()));
        !ok
    };
    if args.timings {
        let total = match outcome.timings.started {
            Some(started) => started.elapsed(),
            None => outcome.timings.stages.iter().map(|s| s.1).sum(),
        };
        eprintln!("timings:");
        for (name, d) in &outcome.timings.stages {
            eprintln!("  {name:<12} {:>9.1} ms", d.as_secs_f64() * 1000.0);
        }
        eprintln!("  {:<12} {:>9.1} ms", "total", total.as_secs_f64() * 1000.0);
        if outcome.timings.stages.iter().any(|s| s.0.ends_with('*')) {
            eprintln!("  (* ran alongside the other stages; total is wall time)");
        }
        if let Some(c) = &outcome.timings.cache {
            eprintln!(
                "parse cache: {} loaded, {} hits, {} misses{}",
                c.loaded,
                c.hits,
                c.misses,
                cache_outcome(c.written, &c.rebuilt, &c.write_error),
            );
        }
        if let Some(c) = &outcome.timings.resolve_memo {
            eprintln!(
                "resolve memo: {} loaded, {} new{}",
                c.loaded,
                c.new,
                cache_outcome(c.written, &c.rebuilt, &c.write_error),
            );
        }
        if let Some(c) = &outcome.timings.history_cache {
            eprintln!(
                "history cache: {} loaded, {} hits, {} read, {} compared{}",
                c.loaded,
                c.hits,
                c.read,
                c.computed,
                cache_outcome(c.written, &c.rebuilt, &c.write_error),
            );
        }
    }
    Ok(if outcome.report.gate.blocked {
        ExitCode::Blocked
    } else if sync_failed && (args.sync_required || outcome.config.cloud.sync_required) {
        ExitCode::Internal
    } else {
        ExitCode::Pass
    })
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
/// The progress line: only on a terminal stderr, and not with --quiet or --verbose (log lines
/// would interleave with it).
fn show_progress(cli: &Cli) -> bool {
    !cli.quiet && cli.verbose == 0 && std::io::stderr().is_terminal()
}

fn hook(action: &HookAction, cli: &Cli) -> Result<ExitCode, Error> {
    use crate::hook::{self, Installed, Uninstalled};
    let say = |s: String| {
        if !cli.quiet {
            eprintln!("{s}");
        }
    };
    match action {
        HookAction::Install { repo, force } => {
            let repo = crate::revisions::open(repo)?;
            let binary = std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .map_err(|e| Error::Internal(format!("finding the pr-risk binary's path: {e}")))?;
            let (path, what) = hook::install(&repo, &binary, *force)?;
            let inside = [repo.workdir(), Some(repo.commondir())]
                .into_iter()
                .flatten()
                .filter_map(|d| d.canonicalize().ok())
                .any(|d| path.canonicalize().is_ok_and(|p| p.starts_with(d)));
            if !inside {
                say(format!(
                    "pr-risk: note: core.hooksPath puts the hook outside this repository ({}); it runs for every repository that uses that directory",
                    path.parent().unwrap_or(&path).display()
                ));
            }
            let saved = path.with_file_name(hook::SAVED_NAME);
            match what {
                Installed::Fresh => say(format!("pr-risk: installed the pre-push hook at {}", path.display())),
                Installed::Updated => say(format!("pr-risk: updated the pre-push hook at {}", path.display())),
                Installed::Chained => say(format!(
                    "pr-risk: installed the pre-push hook at {}\npr-risk: your existing hook was kept as {} and runs first",
                    path.display(),
                    saved.display()
                )),
                Installed::Replaced => say(format!(
                    "pr-risk: replaced the pre-push hook at {} (--force); the old one is saved as {} and comes back with `pr-risk hook uninstall`",
                    path.display(),
                    saved.display()
                )),
            }
            say(format!("pr-risk: the hook runs {}; bypass once with `git push --no-verify` or `PR_RISK_SKIP=1 git push`", binary.display()));
            Ok(ExitCode::Pass)
        }
        HookAction::Uninstall { repo } => {
            let repo = crate::revisions::open(repo)?;
            let (path, what) = hook::uninstall(&repo)?;
            match what {
                Uninstalled::Restored => say(format!(
                    "pr-risk: removed the pre-push hook and restored the previous one at {}",
                    path.display()
                )),
                Uninstalled::Removed => say(format!(
                    "pr-risk: removed the pre-push hook at {}",
                    path.display()
                )),
                Uninstalled::NotInstalled => say(format!(
                    "pr-risk: no pr-risk hook at {}; nothing to do",
                    path.display()
                )),
            }
            Ok(ExitCode::Pass)
        }
        HookAction::PrePush { remote, url } => {
            let stderr_tty = std::io::stderr().is_terminal();
            let opts = hook::PrePush {
                remote: remote.as_deref().unwrap_or(""),
                url: url.as_deref().unwrap_or(""),
                quiet: cli.quiet,
                color: cli.color.enabled_for(stderr_tty),
                progress: show_progress(cli),
                stdin_is_terminal: std::io::stdin().is_terminal(),
            };
            let stdin = std::io::stdin();
            match hook::pre_push(&opts, stdin.lock()) {
                Ok(code) => Ok(code),
                Err(e) => {
                    eprintln!("pr-risk: error: {e}");
                    if hook_mode_is_warn() {
                        eprintln!("pr-risk: the check failed; pushing anyway (hook.mode: warn)");
                        return Ok(ExitCode::Pass);
                    }
                    eprintln!("pr-risk: the push was stopped because the check failed. To push anyway: `git push --no-verify`, or `PR_RISK_SKIP=1 git push`");
                    Ok(e.exit_code())
                }
            }
        }
    }
}

/// `hook.mode: warn` in the repository's configuration (false when it cannot be read).
fn hook_mode_is_warn() -> bool {
    let Ok(repo) = git2::Repository::open_from_env().or_else(|_| git2::Repository::discover("."))
    else {
        return false;
    };
    crate::config::load(repo.workdir(), None)
        .map(|l| l.config.hook.mode == crate::config::HookMode::Warn)
        .unwrap_or(false)
}

fn init(dir: Option<&std::path::Path>, force: bool, cli: &Cli) -> Result<ExitCode, Error> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => match git2::Repository::discover(".") {
            Ok(r) => r
                .workdir()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| PathBuf::from(".")),
            Err(_) => PathBuf::from("."),
        },
    };
    let path = crate::init::write_starter(&dir, force)?;
    if !cli.quiet {
        eprintln!(
            "pr-risk: wrote {}; every key is optional, the values shown are the defaults",
            path.display()
        );
    }
    Ok(ExitCode::Pass)
}
