//! `pr-risk init`: write a commented starter `.pr-risk.yml`.
//!
//! The starter is embedded from `starter.pr-risk.yml` beside this file. It spells out every key
//! with its built-in default, so a test can check that it parses and equals
//! [`Config::default`](crate::config::Config::default) — the file cannot drift from the code.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
