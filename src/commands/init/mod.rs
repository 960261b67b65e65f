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
        assert_eq!(c.resolved(), Config::default().resolved());
    }

    /// Every key of the schema is in the starter: set to its default, or (for settings with no
    /// default value) shown as a comment.
    #[test]
    fn starter_writes_every_section_and_key() {
        let v: serde_yaml::Value = serde_yaml::from_str(STARTER).unwrap();
        let lookup = |path: &str| {
            path.split('.')
                .try_fold(&v, |v, k| v.as_mapping()?.get(k))
                .is_some()
        };
        let mut missing = Vec::new();
        for (path, unset) in Config::key_paths() {
            let key = path.rsplit('.').next().unwrap_or(&path);
            let shown = lookup(&path) || (unset && STARTER.contains(&format!("# {key}:")));
            if !shown {
                missing.push(path);
            }
        }
        assert!(
            missing.is_empty(),
            "not in starter.pr-risk.yml: {missing:?}"
        );
    }
}
