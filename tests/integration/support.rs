//! Test support: real git repositories in temp dirs, and the real `pr-risk` binary.
//!
//! Repositories are built with git2 (no `git` CLI needed), with fixed identities and commit times
//! so every run produces the same commits. The binary runs with a clean environment: no user git
//! config, no GitHub/cloud variables.

#![allow(dead_code)]

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{IndexAddOption, Oid, Repository, Signature, Time};

/// 2024-01-01T00:00:00Z: commits are one hour apart from here unless a time is given.
pub const EPOCH: i64 = 1_704_067_200;

pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    clock: Cell<i64>,
}

/// Who and when, for scripted histories.
#[derive(Clone, Debug)]
pub struct Author {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
}

impl Author {
    pub fn new(name: &str, time: i64) -> Author {
        Author {
            name: name.to_string(),
            email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
            time,
        }
    }
}

impl TestRepo {
    /// An empty repository whose initial branch is `main`.
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        TestRepo {
            dir,
            repo,
            clock: Cell::new(EPOCH),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file in the working tree (parents created).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        let p = self.path().join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
        self
    }

    pub fn rename(&self, from: &str, to: &str) -> &Self {
        let t = self.path().join(to);
        std::fs::create_dir_all(t.parent().unwrap()).unwrap();
        std::fs::rename(self.path().join(from), t).unwrap();
        self
    }

    /// Copy `fixtures/<name>/` into the working tree.
    pub fn copy_fixture(&self, name: &str) -> &Self {
        let src = fixtures_dir().join(name);
        assert!(src.is_dir(), "no fixture {}", src.display());
        copy_dir(&src, self.path());
        self
    }

    /// Stage everything (additions, changes, deletions) and commit with the next tick of the clock.
    pub fn commit(&self, message: &str) -> Oid {
        let t = self.clock.get() + 3600;
        self.clock.set(t);
        self.commit_as(message, &Author::new("Test Author", t))
    }

    /// Stage everything and commit as `author` at `author.time`.
    pub fn commit_as(&self, message: &str, author: &Author) -> Oid {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(
                ["*"].iter(),
                IndexAddOption::DEFAULT | IndexAddOption::FORCE,
                None,
            )
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree_id = index.write_tree().unwrap();
        let tree = self.repo.find_tree(tree_id).unwrap();
        let sig = Signature::new(&author.name, &author.email, &Time::new(author.time, 0)).unwrap();
        let parents: Vec<git2::Commit> = match self.repo.head() {
            Ok(h) => vec![h.peel_to_commit().unwrap()],
            Err(_) => vec![],
        };
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &refs)
            .unwrap()
    }

    /// Create a branch at HEAD and switch to it (the working tree stays as it is).
    pub fn branch(&self, name: &str) -> &Self {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        self.repo.branch(name, &head, true).unwrap();
        self.repo.set_head(&format!("refs/heads/{name}")).unwrap();
        self
    }

    /// Switch to an existing branch, updating the working tree.
    pub fn checkout(&self, name: &str) -> &Self {
        let refname = format!("refs/heads/{name}");
        let obj = self.repo.revparse_single(&refname).unwrap();
        self.repo
            .checkout_tree(
                &obj,
                Some(
                    git2::build::CheckoutBuilder::new()
                        .force()
                        .remove_untracked(true),
                ),
            )
            .unwrap();
        self.repo.set_head(&refname).unwrap();
        self
    }

    pub fn head(&self) -> Oid {
        self.repo.head().unwrap().peel_to_commit().unwrap().id()
    }

    /// Run `pr-risk` with `args` inside the repository.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }

    /// Run `pr-risk score --format json` with extra args and parse stdout.
    pub fn score_json(&self, args: &[&str]) -> (Run, serde_json::Value) {
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

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn copy_dir(src: &Path, dst: &Path) {
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
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
