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
