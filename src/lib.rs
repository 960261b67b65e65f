/*!
pr-risk scores a pull request for risk and gates merges on it.

The library is the whole engine; the `pr-risk` binary is a thin shell over [`cli::main`].
Data flows one way, one module per stage:

```text
revisions ─► diff (change set) ─► snapshot (base, head) ─► lang (parsed facts) ─► resolve ─► graph
                                                                                        │
                                                         score::{impact, …} ◄───────────┘
                                                                 │
                                                      report (one serde model)
                                                                 │
                                                      render (text, JSON) ─► exit code
```

[`pipeline::run`] reads as that chain.
*/

pub mod action;
pub mod binfmt;
pub mod cache;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod coupling_rules;
pub mod diff;
pub mod error;
pub mod eval;
pub mod github;
pub mod glob;
pub mod graph;
pub mod graph_cmd;
pub mod graph_dump;
pub mod history;
pub mod history_cache;
pub mod hook;
pub mod init;
pub mod lang;
pub mod parse;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod report;
pub mod resolve;
pub mod resolve_cache;
pub mod revisions;
pub mod score;
pub mod secret;
pub mod snapshot;
pub mod synth;
pub mod trusted;
pub mod worktree;
