//! Error types and the exit codes they map to.
//!
//! The library returns [`Error`]; the CLI edge turns it into a message and an [`ExitCode`].
//! Every variant says what was wrong, where, and what to do about it.

use std::path::PathBuf;

/// Exit codes of the `pr-risk` binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The gate passed.
    Pass = 0,
    /// The gate blocked the change.
    Blocked = 1,
    /// A usage, configuration or input error: something the user can fix.
    Input = 2,
    /// An internal failure: a bug or an environment problem.
    Internal = 3,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no git repository found at or above {path}\n  hint: run pr-risk inside a git checkout, or pass --repo PATH")]
    NoRepository { path: PathBuf },

    #[error("the repository has no commits yet, so there is nothing to score\n  hint: commit something first, then run pr-risk on a branch")]
    EmptyRepository,

    #[error("{what} revision `{rev}` was not found in the repository{detail}\n  hint: {hint}")]
    RevisionNotFound {
        what: &'static str,
        rev: String,
        detail: String,
        hint: String,
    },

    #[error("no base revision given and none could be guessed (no upstream branch, no origin/HEAD, no main or master)\n  hint: pass --base REV, e.g. --base origin/main")]
    NoDefaultBase,

    #[error("base {base} and head {head} have no common ancestor (unrelated histories)\n  hint: check that --base names the branch this change will merge into")]
    UnrelatedHistories { base: String, head: String },

    #[error("{path}:{line}:{column}: {message}")]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{0}")]
    Usage(String),

    #[error("git error while {context}: {message}")]
    Git { context: String, message: String },

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Git { .. } | Error::Internal(_) => ExitCode::Internal,
            Error::Io { .. } => ExitCode::Input,
            _ => ExitCode::Input,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A YAML (serde) error message without the values it quotes from the file: a quoted string
/// becomes `a string`, a quoted number or boolean its kind, and a backtick-quoted word (an unknown
/// key or variant) is kept only when it is short and has no spaces. Errors about a file never
/// repeat its content: were the file something else than the settings it should be (a secret),
/// the error would print it into the job log.
pub fn redact_yaml(message: &str) -> String {
    use std::sync::OnceLock;
    static QUOTED: OnceLock<[(regex::Regex, &str); 5]> = OnceLock::new();
    let res = QUOTED.get_or_init(|| {
        let re = |p: &str| regex::Regex::new(p).expect("valid pattern");
        [
            (re(r#"string "(?:[^"\\]|\\.)*"?"#), "a string"),
            (re(r"integer `[^`]*`"), "an integer"),
            (re(r"floating point `[^`]*`"), "a floating-point number"),
            (re(r"boolean `[^`]*`"), "a boolean"),
            (re(r"character `[^`]*`"), "a character"),
        ]
    });
    let mut out = message.to_string();
    for (re, kind) in res.iter() {
        out = re.replace_all(&out, *kind).into_owned();
    }
    // Backtick-quoted words: keys and variant names are short identifiers.
    let mut kept = String::with_capacity(out.len());
    let mut parts = out.split('`');
    if let Some(first) = parts.next() {
        kept.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    for (i, part) in rest.iter().enumerate() {
        let quoted = i % 2 == 0 && i + 1 < rest.len();
        if quoted {
            let word = part.chars().count() <= 40
                && !part.chars().any(|c| c.is_whitespace() || c.is_control());
            kept.push('`');
            kept.push_str(if word { part } else { "…" });
        } else {
            kept.push('`');
            kept.push_str(part);
        }
    }
    kept
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo (for
/// "did you mean" hints).
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_errors_lose_their_quoted_values() {
        assert_eq!(
            redact_yaml(r#"invalid type: string "ghp_secret \"x\"", expected struct Config"#),
            "invalid type: a string, expected struct Config"
        );
        assert_eq!(
            redact_yaml("threshold: invalid type: integer `-3`, expected u8"),
            "threshold: invalid type: an integer, expected u8"
        );
        assert_eq!(
            redact_yaml("unknown field `threshhold`, expected one of `threshold`, `weights`"),
            "unknown field `threshhold`, expected one of `threshold`, `weights`"
        );
        assert_eq!(
            redact_yaml("unknown variant `https://user:token@github.com and more`, expected `a`"),
            "unknown variant `…`, expected `a`"
        );
        assert_eq!(redact_yaml("an odd ` backtick"), "an odd ` backtick");
    }
}
