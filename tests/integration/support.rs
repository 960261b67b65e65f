//! Test support: the real `pr-risk` binary, run in the real git repositories that
//! [`testkit::TestRepo`] builds.
//!
//! The binary runs with a clean environment: no user git config, no GitHub/cloud variables, and
//! `PR_RISK_OFFLINE=1` (no test reaches the real OSV API; the advisory tests remove it and point
//! `security.osv-url` at a local server).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub use testkit::{Author, TestRepo, EPOCH};

/// Running `pr-risk` inside a test repository.
pub trait RunPrRisk {
    fn path(&self) -> &Path;

    /// Run `pr-risk` with `args` inside the repository.
    fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }

    /// Run `pr-risk score --format json` with extra args and parse stdout.
    fn score_json(&self, args: &[&str]) -> (Run, serde_json::Value) {
        let mut all = vec!["score", "--format", "json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            )
        });
        (r, v)
    }
}

impl RunPrRisk for TestRepo {
    fn path(&self) -> &Path {
        TestRepo::path(self)
    }
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A `pr-risk` command with a clean environment, run in `dir`.
pub fn command(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pr-risk"));
    c.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_")
            || k.starts_with("INPUT_")
            || k.starts_with("MASSU_")
            || k.starts_with("PR_RISK_")
            || k.starts_with("GIT_")
            || k == "RUST_LOG"
            || k == "NO_COLOR"
            || k == "CI"
        {
            c.env_remove(k);
        }
    }
    c.env("GIT_CONFIG_NOSYSTEM", "1");
    c.env("PR_RISK_OFFLINE", "1");
    c.env("HOME", dir.join(".no-home"));
    c.env("XDG_CONFIG_HOME", dir.join(".no-home"));
    c
}

/// Start `n` `pr-risk` processes with `args` in `dir` at once; each must exit 0. Their stdouts
/// parsed as JSON, in start order.
pub fn run_concurrently(dir: &Path, args: &[&str], n: usize) -> Vec<serde_json::Value> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            command(dir)
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect()
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = command(dir).args(args).output().expect("run pr-risk");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Rewrite the header of a cache file (the store's format, read and written with the engine's
/// own [`engine::cache::store::Header`]), keeping its body.
pub fn rewrite_cache_header(file: &Path, f: impl FnOnce(&mut engine::cache::store::Header)) {
    let data = std::fs::read(file).unwrap();
    let (mut header, body) = engine::cache::store::Header::decode(&data).unwrap();
    let body = body.to_vec();
    f(&mut header);
    std::fs::write(file, header.encode(&body)).unwrap();
}
