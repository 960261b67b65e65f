//! pr-risk's outlets: everything that takes the typed [`engine::report::Report`] somewhere.
//!
//! - [`render`]: text, Markdown, SARIF and JSON renderers (minijinja templates);
//! - [`github`]: the GitHub REST client (check runs, annotations, the sticky PR comment);
//! - [`cloud`]: the Massu cloud client;
//! - [`osv`]: the OSV client, the data side of the engine's advisory check (known vulnerabilities
//!   of the dependency versions a change brings in);
//! - [`http`]: the one retry, rate-limit and deadline policy the HTTP clients share;
//! - [`secret`]: tokens and keys, redacted at the type level.
//!
//! Renderers never compute: every number they show is a field of the report.

pub mod cloud;
pub mod github;
pub mod http;
pub mod osv;
pub mod render;
pub mod secret;
