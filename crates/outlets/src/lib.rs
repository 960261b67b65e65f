//! pr-risk's outlets: everything that takes the typed [`engine::report::Report`] somewhere.
//!
//! - [`render`]: text, Markdown, SARIF and JSON renderers (minijinja templates);
//! - [`github`]: the GitHub REST client (check runs, annotations, the sticky PR comment);
//! - [`cloud`]: the Massu cloud client;
//! - [`http`]: the one retry, rate-limit and deadline policy both HTTP clients share;
//! - [`secret`]: tokens and keys, redacted at the type level.
//!
//! Renderers never compute: every number they show is a field of the report.

pub mod cloud;
pub mod github;
pub mod http;
pub mod render;
pub mod secret;
