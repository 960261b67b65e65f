//! `pr-risk affected-tests`: the test files that reach a change through the dependency graph,
//! nearest first, for a test runner: `vitest run $(pr-risk affected-tests)`, or for Rust
//! `cargo nextest run -E "$(pr-risk affected-tests --format nextest)"`.

use std::path::PathBuf;

use engine::error::{Error, ExitCode, Result};
use engine::git::Repo;
use engine::pipeline::{self, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestsFormat {
    /// One test file per line (TypeScript/JavaScript runners take them as arguments).
    List,
    /// A `cargo nextest` filterset: the integration-test binaries and unit-test modules reached.
    Nextest,
    /// Every affected test with its distance and the chain of imports that reaches it.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct AffectedTestsArgs {
    /// Repository (default: the repository containing the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,

    /// Base revision (default: the branch's upstream, else origin/HEAD, else main/master).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Head revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,

    /// Configuration file (its include/exclude and test globs apply).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "list")]
    pub format: TestsFormat,

    /// Neither read nor write the parse cache.
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(args: &AffectedTestsArgs) -> Result<ExitCode> {
    let repo = Repo::discover(&args.repo)?;
    let cfg = crate::config::load(repo.workdir(), args.config.as_deref())?.config;
    super::warn_notes(&super::fetch_missing(
        &repo,
        args.base.as_deref(),
        Some(&args.head),
        false,
    ));
    let req = Request {
        base: args.base.clone(),
        head: Some(args.head.clone()),
        settings: cfg.engine_settings(),
        no_cache: args.no_cache,
        ..Request::new(&repo)
    };
    let affected = pipeline::affected_tests(&repo, &req)?;
    let text = match args.format {
        TestsFormat::List => affected
            .tests
            .iter()
            .map(|t| format!("{}\n", t.path))
            .collect::<String>(),
        TestsFormat::Nextest => {
            let mut parts: Vec<String> = affected
                .tests
                .iter()
                .filter_map(|t| t.nextest.clone())
                .chain(affected.rust_units.iter().cloned())
                .map(|p| format!("({p})"))
                .collect();
            parts.dedup();
            if parts.is_empty() {
                // A filter that selects nothing, so `cargo nextest run -E` runs no test.
                "none()\n".to_string()
            } else {
                format!("{}\n", parts.join(" | "))
            }
        }
        TestsFormat::Json => serde_json::to_string_pretty(&affected)
            .map(|s| s + "\n")
            .map_err(|e| Error::Internal(format!("serializing the affected tests: {e}")))?,
    };
    super::print(&text);
    Ok(ExitCode::Pass)
}
