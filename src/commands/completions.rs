//! `pr-risk completions SHELL`: a shell completion script on standard output.

use engine::error::{ExitCode, Result};

pub fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "pr-risk", &mut std::io::stdout());
    Ok(ExitCode::Pass)
}
