//! `pr-risk completions SHELL`: a shell completion script for the command line `cmd` on standard
//! output.

use engine::error::{ExitCode, Result};

pub fn run(shell: clap_complete::Shell, mut cmd: clap::Command) -> Result<ExitCode> {
    clap_complete::generate(shell, &mut cmd, "pr-risk", &mut std::io::stdout());
    Ok(ExitCode::Pass)
}
