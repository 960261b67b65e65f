//! Action inputs (`INPUT_*`) and the rest of the Actions environment.
//!
//! The runner keeps hyphens in input names (`INPUT_BLOCK-THRESHOLD`); both that spelling and the
//! underscore one are accepted. An empty input means "not given": the configuration file decides,
//! then the built-in default. (GitHub sets every input to its action.yml default, which is why the
//! defaults there that the configuration must be able to win over are empty.)

use std::collections::BTreeMap;
use std::path::PathBuf;

use engine::error::{Error, Result};
use engine::report::Mode;
use outlets::secret::Secret;

/// A snapshot of the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env(pub BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
            .collect())
    }

    /// A non-empty variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(|s| s.as_str())
            .filter(|s| !s.trim().is_empty())
    }

    /// An input by its action.yml name: `INPUT_NAME-WITH-HYPHENS`, then `INPUT_NAME_WITH_UNDERSCORES`.
    pub fn input(&self, name: &str) -> Option<String> {
        let upper = name.to_ascii_uppercase().replace(' ', "_");
        self.get(&format!("INPUT_{upper}"))
            .or_else(|| self.get(&format!("INPUT_{}", upper.replace('-', "_"))))
            .map(|s| s.trim().to_string())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub github_token: Option<Secret>,
    pub massu_api_key: Option<Secret>,
    pub api_url: Option<String>,
    pub block_threshold: Option<u8>,
    pub post_comment: Option<bool>,
    pub fail_on_critical_security: Option<bool>,
    /// `gate` or `advisory` (overrides `mode` in the configuration).
    pub mode: Option<Mode>,
    pub sync_required: Option<bool>,
    pub config: Option<PathBuf>,
    pub sarif_file: Option<PathBuf>,
    /// Explicit base (required for `workflow_dispatch`; optional for `push`).
    pub base: Option<String>,
    pub head: Option<String>,
    /// Fork-safe first half: write the result to this directory (inside the workspace) for a
    /// `workflow_run` workflow to publish, instead of posting it ([`super::artifact`]).
    pub publish_to: Option<PathBuf>,
    /// Fork-safe second half (in a `workflow_run` workflow): publish the result in this directory
    /// ([`super::publish_from`]).
    pub publish_from: Option<PathBuf>,
    /// Request reviews from the suggested reviewers (default false).
    pub request_reviewers: bool,
}

impl Inputs {
    pub fn read(env: &Env) -> Result<Inputs> {
        let threshold = match env.input("block-threshold") {
            None => None,
            Some(s) => Some(s.parse::<u8>().ok().filter(|n| *n <= 100).ok_or_else(|| {
                Error::Usage(format!(
                    "input `block-threshold` must be a whole number from 0 to 100, got `{s}`\n  hint: e.g. `block-threshold: 70`, or leave it empty to use the configuration"
                ))
            })?),
        };
        let mode = match env.input("mode").as_deref() {
            None => None,
            Some("gate") => Some(Mode::Gate),
            Some("advisory") => Some(Mode::Advisory),
            Some(other) => {
                return Err(Error::Usage(format!(
                    "input `mode` must be `gate` or `advisory`, got `{other}`\n  hint: leave it empty to use `mode` from the configuration"
                )))
            }
        };
        Ok(Inputs {
            github_token: env.input("github-token").and_then(Secret::new),
            massu_api_key: env.input("massu-api-key").and_then(Secret::new),
            api_url: env.input("api-url"),
            block_threshold: threshold,
            post_comment: boolean(env, "post-comment")?,
            fail_on_critical_security: boolean(env, "fail-on-critical-security")?,
            mode,
            sync_required: boolean(env, "sync-required")?,
            config: env.input("config").map(PathBuf::from),
            sarif_file: env.input("sarif-file").map(PathBuf::from),
            base: env.input("base"),
            head: env.input("head"),
            publish_to: env.input("publish-to").map(PathBuf::from),
            publish_from: env.input("publish-from").map(PathBuf::from),
            request_reviewers: boolean(env, "request-reviewers")?.unwrap_or(false),
        })
    }
}

/// YAML 1.2 core booleans, as `core.getBooleanInput` accepts them.
fn boolean(env: &Env, name: &str) -> Result<Option<bool>> {
    match env.input(name).as_deref() {
        None => Ok(None),
        Some("true" | "True" | "TRUE") => Ok(Some(true)),
        Some("false" | "False" | "FALSE") => Ok(Some(false)),
        Some(other) => Err(Error::Usage(format!(
            "input `{name}` must be `true` or `false`, got `{other}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    #[test]
    fn both_spellings_and_empty_means_unset() {
        let e = env(&[
            ("INPUT_BLOCK-THRESHOLD", "55"),
            ("INPUT_POST_COMMENT", "false"),
            ("INPUT_FAIL-ON-CRITICAL-SECURITY", ""),
            ("INPUT_MASSU-API-KEY", "mk_1"),
        ]);
        let i = Inputs::read(&e).unwrap();
        assert_eq!(i.block_threshold, Some(55));
        assert_eq!(i.post_comment, Some(false));
        assert_eq!(i.fail_on_critical_security, None);
        assert_eq!(i.massu_api_key.unwrap().expose(), "mk_1");
        assert!(i.github_token.is_none());
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let e = Inputs::read(&env(&[("INPUT_BLOCK-THRESHOLD", "high")])).unwrap_err();
        assert!(e.to_string().contains("block-threshold"), "{e}");
        let e = Inputs::read(&env(&[("INPUT_POST-COMMENT", "yes")])).unwrap_err();
        assert!(e.to_string().contains("post-comment"), "{e}");
        assert!(Inputs::read(&env(&[("INPUT_BLOCK-THRESHOLD", "101")])).is_err());
        let e = Inputs::read(&env(&[("INPUT_MODE", "warn")])).unwrap_err();
        assert!(e.to_string().contains("`gate` or `advisory`"), "{e}");
        let i = Inputs::read(&env(&[("INPUT_MODE", "advisory")])).unwrap();
        assert_eq!(i.mode, Some(Mode::Advisory));
    }
}
