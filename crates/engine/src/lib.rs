/*!
The pr-risk engine: from two revisions of a repository to one typed [`report::Report`].

Data flows one way, one module per stage, and modules import only the ones to their left:

```text
git < lang < parse < resolve < deps < graph < score < guide < report < cache < pipeline < eval
```

- [`git`] is the only module that names `git2`: repositories, revisions, the change set,
  snapshots, the history walk, and [`git::files::FileSource`], the one reader of settings, rules and
  templates.
- [`lang`] turns a file's text into facts (imports, `mod` declarations, `use` paths).
- [`parse`] chooses the source files of a snapshot and parses them in parallel.
- [`resolve`] follows each ecosystem's resolution rules; [`graph`] is the dependency graph.
- [`deps`] reads manifests and lock files at base and head: the packages a change adds, removes,
  upgrades or moves, who pulls them in, and (through a trait) their known vulnerabilities.
- [`score`] holds the four pure scorers: inputs in, [`score::Dimension`] out.
- [`guide`] suggests reviewers and lists the tests that reach the change (advice, not scored).
- [`report`] is the one model every output reads; [`cache`] keeps facts between runs.
- [`pipeline`] wires the stages and reports progress through [`pipeline::Observer`].
- [`eval`] backtests the regression model on the repository's own history.

The build enforces the order: the integration test `layers` reads every `use crate::…` path.
No clap, no HTTP, no templates here: those belong to the binary and the outlets crate.
*/

pub mod error;
pub mod glob;
pub mod hash;

pub mod cache;
pub mod deps;
pub mod eval;
pub mod git;
pub mod graph;
pub mod guide;
pub mod lang;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod resolve;
pub mod score;

pub use error::{Error, Result};

/// The version of pr-risk (every crate of the workspace shares it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
