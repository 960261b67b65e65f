//! Embeds the git revision the binary was built from (`pr-risk --version`).
//!
//! `PR_RISK_GIT_REV` in the build environment wins (container builds without `.git`); otherwise
//! `git rev-parse --short=12 HEAD`; otherwise "unknown". Cargo re-runs this when HEAD moves.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PR_RISK_GIT_REV");
    let rev = std::env::var("PR_RISK_GIT_REV")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // Re-run when HEAD or the branch it points to moves (paths that exist only: a missing path
    // would make cargo re-run this on every build).
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) {
        let head = git_dir.join("HEAD");
        if head.exists() {
            println!("cargo:rerun-if-changed={}", head.display());
        }
        if let Some(refname) = git(&["symbolic-ref", "-q", "HEAD"]) {
            if let Some(path) = git(&["rev-parse", "--git-path", &refname]).map(PathBuf::from) {
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]).map(PathBuf::from) {
            if packed.exists() {
                println!("cargo:rerun-if-changed={}", packed.display());
            }
        }
    }
    println!("cargo:rustc-env=PR_RISK_GIT_REV={rev}");
}
