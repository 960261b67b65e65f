//! `pr-risk init`: write a commented starter `.pr-risk.yml`.
//!
//! The starter is embedded from `starter.pr-risk.yml` beside this file. It spells out every key
//! with its built-in default, so a test can check that it parses and equals
//! [`Config::default`](crate::config::Config::default) — the file cannot drift from the code.

use std::path::{Path, PathBuf};

use engine::error::{Error, ExitCode, Result};
use engine::git::Repo;

use crate::args::Globals;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to write into (default: the top of the current repository, else `.`).
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Replace an existing .pr-risk.yml.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &InitArgs, cli: &Globals) -> Result<ExitCode> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => match Repo::discover(Path::new(".")) {
            Ok(r) => r
                .workdir()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| PathBuf::from(".")),
            Err(_) => PathBuf::from("."),
        },
    };
    let path = write_starter(&dir, args.force)?;
    if !cli.quiet {
        eprintln!(
            "pr-risk: wrote {}; every key is optional, the values shown are the defaults",
            path.display()
        );
    }
    Ok(ExitCode::Pass)
}

pub const STARTER: &str = include_str!("starter.pr-risk.yml");
pub const FILE_NAME: &str = ".pr-risk.yml";

/// Write the starter into `dir`; refuses to overwrite an existing file unless `force`.
pub fn write_starter(dir: &Path, force: bool) -> Result<PathBuf> {
    let path = dir.join(FILE_NAME);
    if path.exists() && !force {
        return Err(Error::Usage(format!(
            "{} already exists\n  hint: edit it, or pass --force to replace it with the starter",
            path.display()
        )));
    }
    std::fs::write(&path, STARTER).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn starter_parses_to_the_defaults() {
        let c = Config::parse(STARTER, Path::new(FILE_NAME)).unwrap();
        assert_eq!(c, Config::default());
    }
}
