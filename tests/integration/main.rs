//! The integration tests: one binary (faster to build), one module per area.
//! Each test builds a real git repository in a temp dir and runs the real `pr-risk` binary.

mod support;

mod coupling;
mod deps;
mod docs;
mod engine;
mod gate;
mod golden;
mod guidance;
mod impact;
mod incremental;
mod layers;
mod odd_repos;
mod server;

mod action;
mod adversarial;
mod cache;
mod cloud;
mod fork;
mod history_cache;
mod local;
mod partial_clone;
mod regression;
mod rust;
mod security;
