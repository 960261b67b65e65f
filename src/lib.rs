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

pub mod cli;
pub mod config;
pub mod diff;
pub mod error;
pub mod glob;
pub mod graph;
pub mod graph_dump;
pub mod lang;
pub mod parse;
pub mod pipeline;
pub mod render;
pub mod report;
pub mod resolve;
pub mod revisions;
pub mod score;
pub mod snapshot;
