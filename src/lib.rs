/*!
The `pr-risk` binary: the command line over the engine and the outlets.

- [`args`]: argument types several commands share (global flags, output format);
- [`cli`]: the clap parser and the dispatch;
- [`config`]: the `.pr-risk.yml` schema, which gathers the settings of the engine and the outlets;
- [`commands`]: one module per command (`score`, `graph`, `rules`, `eval`, `hook`, `init`,
  `completions`, `action`);
- [`progress`]: the terminal progress line, drawn from the pipeline's observer.
*/

pub mod args;
pub mod cli;
pub mod commands;
pub mod config;
pub mod progress;

pub use cli::main;
