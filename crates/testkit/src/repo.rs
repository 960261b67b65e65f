//! Real git repositories in temp dirs, built with git2 (no `git` CLI needed), with fixed
//! identities and commit times so every run produces the same commits.

use std::cell::Cell;
use std::path::{Path, PathBuf};

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

impl Default for TestRepo {
    fn default() -> Self {
        TestRepo::new()
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
}

/// The project's `fixtures/` directory.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
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
