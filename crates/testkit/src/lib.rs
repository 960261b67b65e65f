//! Test support for pr-risk, shared by the crates' tests, the integration tests and the benches
//! (a dev-dependency only, never part of the product):
//!
//! - [`repo`]: [`TestRepo`], a real git repository in a temporary directory, built with git2 with
//!   fixed identities and times, and the project's fixtures;
//! - [`synth`]: synthetic repositories of any size (TypeScript monorepos, Rust workspaces) for
//!   benchmarks and differential tests;
//! - [`lockfiles`]: synthetic lock files of any length in every format pr-risk reads.

pub mod lockfiles;
pub mod repo;
pub mod synth;

pub use repo::{fixtures_dir, Author, TestRepo, EPOCH};
