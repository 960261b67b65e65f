//! Line-level facts of a commit: for each code file it changed, the hunks against its first
//! parent (zero context, whitespace ignored), the lines added and deleted, the size of the file
//! before, and which deleted lines say something (not blank, not only a comment).
//!
//! These are what the regression labeller tracks line origins with (SZZ, forward through history
//! instead of one `blame` per fix) and what the change-size features count. They are a pure
//! function of the commit — which files count as code is decided by extension here, never by a
//! setting — so the history cache keeps them by commit id ([`super::history::CommitRecord`]),
//! and the same function reads a pull request's change ([`facts_between`]), so a feature has the
//! same value at training and at scoring time.
//!
//! A merge commit is not a change of its own; only the files whose merged content differs from
//! **both** parents (a content merge or a conflict resolution) are recorded, each with its hunks
//! against both parents, so the labeller can tell which side every line of the result came from.

use git2::{DiffOptions, Patch};
use rayon::prelude::*;

use super::diff::Status;
use super::history::{commit_changes, Change};
use super::{Oid, Repo};
use crate::error::Result;

/// Blobs larger than this are not diffed (their lines are not counted).
pub const MAX_BLOB: usize = 1 << 20;

/// Extensions whose files are code: their lines are read and counted. Everything else (docs,
/// manifests, lock files, CI YAML, images) is counted as a file only.
pub const CODE_EXTENSIONS: &[&str] = &[
    "ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs", "vue", "svelte", "astro", "rs", "py",
    "go", "java", "kt", "kts", "scala", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "cs", "rb",
    "php", "swift", "m", "mm", "dart", "ex", "exs", "erl", "hs", "ml", "clj", "lua", "sh", "bash",
    "zsh", "sql", "graphql", "gql", "css", "scss", "less", "html",
];

/// Whether `path` is a code file by its extension.
pub fn is_code(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            CODE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
        }
        _ => false,
    }
}

/// One hunk of a zero-context diff.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hunk {
    /// First old line (1-based; for a pure addition, the line after which it adds).
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    /// Offsets (0-based, among the hunk's old lines) of the deleted lines that say something.
    pub meaningful: Vec<u32>,
}

/// What one commit did to one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileDiff {
    /// The path after the change (before it, for a deletion).
    pub path: String,
    /// The path before, when it differs (a rename) or the file was deleted.
    pub old_path: Option<String>,
    /// `Added`, `Deleted`, `Modified` or `Renamed`.
    pub status: Status,
    pub old_id: Option<Oid>,
    pub new_id: Option<Oid>,
    /// Whether the lines were read: a code file, text on both sides, not too large.
    pub lines: bool,
    /// Lines in the old blob.
    pub old_total: u32,
    pub added: u32,
    pub deleted: u32,
    /// Added lines that say something (not blank, not only a comment).
    pub code_added: u32,
    pub hunks: Vec<Hunk>,
    /// For a merge: the second parent's blob at this path and the hunks against it.
    pub other: Option<(Oid, Vec<Hunk>)>,
}

/// The line facts of one commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitFacts {
    pub files: Vec<FileDiff>,
}

/// A deleted line that says something: not blank, not only a comment.
pub fn meaningful(line: &str, path: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    let hash_comments = [".py", ".sh", ".bash", ".zsh", ".rb", ".ex", ".exs"]
        .iter()
        .any(|e| path.ends_with(e));
    if hash_comments && t.starts_with('#') {
        return false;
    }
    if (path.ends_with(".sql") || path.ends_with(".lua") || path.ends_with(".hs"))
        && t.starts_with("--")
    {
        return false;
    }
    !(t.starts_with("//")
        || t.starts_with("/*")
        || t.starts_with("*/")
        || t == "*"
        || t.starts_with("* ")
        || t.starts_with("<!--"))
}

fn count_lines(data: &[u8]) -> u32 {
    let n = data.iter().filter(|b| **b == b'\n').count();
    let open = data.last().is_some_and(|b| *b != b'\n');
    (n + usize::from(open)) as u32
}

fn text(repo: &Repo, id: Option<Oid>) -> Option<Option<git2::Blob<'_>>> {
    match id {
        None => Some(None),
        Some(id) => {
            let b = repo.raw().find_blob(id).ok()?;
            (!b.is_binary() && b.size() <= MAX_BLOB).then_some(Some(b))
        }
    }
}

/// The zero-context, whitespace-ignoring hunks between two texts (`path` picks the comment
/// syntax); `(hunks, added, deleted, meaningful added)`.
pub fn diff_texts(old: &[u8], new: &[u8], path: &str) -> Option<(Vec<Hunk>, u32, u32, u32)> {
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .ignore_whitespace(true)
        .interhunk_lines(0);
    let patch = Patch::from_buffers(old, None, new, None, Some(&mut opts)).ok()?;
    let mut hunks = Vec::with_capacity(patch.num_hunks());
    let (mut added, mut deleted, mut code_added) = (0, 0, 0);
    for h in 0..patch.num_hunks() {
        let Ok((hunk, n)) = patch.hunk(h) else {
            continue;
        };
        let mut meaningful_lines = Vec::new();
        let mut seen_old = 0u32;
        for l in 0..n {
            let Ok(line) = patch.line_in_hunk(h, l) else {
                continue;
            };
            let says = || meaningful(&String::from_utf8_lossy(line.content()), path);
            match line.origin() {
                '-' => {
                    if says() {
                        meaningful_lines.push(seen_old);
                    }
                    seen_old += 1;
                }
                '+' => code_added += u32::from(says()),
                _ => {}
            }
        }
        added += hunk.new_lines();
        deleted += hunk.old_lines();
        hunks.push(Hunk {
            old_start: hunk.old_start(),
            old_lines: hunk.old_lines(),
            new_start: hunk.new_start(),
            new_lines: hunk.new_lines(),
            meaningful: meaningful_lines,
        });
    }
    Some((hunks, added, deleted, code_added))
}

/// The facts of one changed path (blobs read only for code files).
fn file_diff(repo: &Repo, c: &Change) -> FileDiff {
    let path = c.path().to_string();
    let mut f = FileDiff {
        old_path: match c.status {
            Status::Added => None,
            _ => c
                .old_path
                .clone()
                .filter(|o| *o != path || c.new_path.is_none()),
        },
        status: c.status,
        old_id: c.old_id,
        new_id: c.new_id,
        ..FileDiff::default()
    };
    f.path = path;
    if c.submodule || !is_code(&f.path) {
        return f;
    }
    let (Some(old), Some(new)) = (text(repo, c.old_id), text(repo, c.new_id)) else {
        return f;
    };
    let o: &[u8] = old.as_ref().map_or(&[], |b| b.content());
    let n: &[u8] = new.as_ref().map_or(&[], |b| b.content());
    if let Some((hunks, added, deleted, code_added)) = diff_texts(o, n, &f.path) {
        f.lines = true;
        f.old_total = count_lines(o);
        f.added = added;
        f.deleted = deleted;
        f.code_added = code_added;
        f.hunks = hunks;
    }
    f
}

/// The facts of a non-merge commit from its changes against its first parent.
pub fn facts_of_changes(repo: &Repo, changes: &[Change]) -> CommitFacts {
    CommitFacts {
        files: changes.iter().map(|c| file_diff(repo, c)).collect(),
    }
}

/// The facts of a merge commit: the code files whose content differs from both parents.
fn merge_facts(
    repo: &Repo,
    commit: &git2::Commit,
) -> std::result::Result<CommitFacts, git2::Error> {
    let p1 = commit.parent(0)?;
    let p2 = commit.parent(1)?;
    let p2_tree = p2.tree()?;
    let mut changes = Vec::new();
    super::history::compare_trees(
        repo,
        Some(p1.tree_id()),
        Some(commit.tree_id()),
        &mut changes,
    )?;
    let mut files = Vec::new();
    for c in changes {
        let Some(new_id) = c.new_id else { continue };
        if c.submodule || !is_code(c.path()) {
            continue;
        }
        let Ok(entry) = p2_tree.get_path(std::path::Path::new(c.path())) else {
            continue;
        };
        let other_id = entry.id();
        if other_id == new_id || entry.kind() != Some(git2::ObjectType::Blob) {
            continue;
        }
        let (Some(old), Some(new), Some(other)) = (
            text(repo, c.old_id),
            text(repo, Some(new_id)),
            text(repo, Some(other_id)),
        ) else {
            continue;
        };
        let o: &[u8] = old.as_ref().map_or(&[], |b| b.content());
        let n: &[u8] = new.as_ref().map_or(&[], |b| b.content());
        let x: &[u8] = other.as_ref().map_or(&[], |b| b.content());
        let (Some((hunks, added, deleted, code_added)), Some((other_hunks, _, _, _))) =
            (diff_texts(o, n, c.path()), diff_texts(x, n, c.path()))
        else {
            continue;
        };
        files.push(FileDiff {
            path: c.path().to_string(),
            old_path: None,
            status: c.status,
            old_id: c.old_id,
            new_id: Some(new_id),
            lines: true,
            old_total: count_lines(o),
            added,
            deleted,
            code_added,
            hunks,
            other: Some((other_id, other_hunks)),
        });
    }
    Ok(CommitFacts { files })
}

/// The facts of commit `id`; `changes` are its changes against its first parent when known.
pub fn commit_facts(repo: &Repo, id: Oid, changes: Option<&[Change]>) -> Result<CommitFacts> {
    let commit = repo
        .raw()
        .find_commit(id)
        .map_err(super::err("reading a commit"))?;
    if commit.parent_count() > 1 {
        return merge_facts(repo, &commit)
            .map_err(super::err("comparing a merge with its parents"));
    }
    match changes {
        Some(c) => Ok(facts_of_changes(repo, c)),
        None => {
            let c = commit_changes(repo, &commit, true)
                .map_err(super::err("comparing a commit with its parent"))?;
            Ok(facts_of_changes(repo, &c))
        }
    }
}

/// The facts of many commits (`(id, changes)`), in parallel beyond a handful.
pub fn facts_of(
    repo: &Repo,
    jobs: &[(Oid, Option<Vec<Change>>)],
) -> Result<Vec<(Oid, CommitFacts)>> {
    let one = |r: &Repo, (id, changes): &(Oid, Option<Vec<Change>>)| {
        commit_facts(r, *id, changes.as_deref()).map(|f| (*id, f))
    };
    if jobs.len() < 8 {
        return jobs.iter().map(|j| one(repo, j)).collect();
    }
    let git_dir = repo.git_dir().to_path_buf();
    jobs.par_iter()
        .map(|j| {
            super::with_thread_repo(&git_dir, |r| match r {
                Some(r) => one(r, j),
                None => Err(crate::error::Error::Internal(
                    "the repository could not be opened".into(),
                )),
            })
        })
        .collect()
}

/// The facts of the change `base..head` as one commit would have them (renames paired).
pub fn facts_between(repo: &Repo, base: Oid, head: Oid) -> Result<CommitFacts> {
    let tree = |id: Oid| -> Result<Oid> {
        repo.raw()
            .find_commit(id)
            .map(|c| c.tree_id())
            .map_err(super::err("reading a commit"))
    };
    let changes = super::history::changes_between_trees(repo, tree(base)?, tree(head)?)
        .map_err(super::err("comparing the change's trees"))?;
    Ok(facts_of_changes(repo, &changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_files_by_extension() {
        assert!(is_code("src/a.ts"));
        assert!(is_code("crates/x/src/lib.rs"));
        assert!(!is_code("Cargo.toml"));
        assert!(!is_code(".github/workflows/ci.yml"));
        assert!(!is_code("README.md"));
        assert!(!is_code(".ts"));
    }

    #[test]
    fn hunks_ignore_whitespace_and_mark_meaningful_lines() {
        let old = "a\nb\n// note\n\nc\n  d\n";
        let new = "a\nB\n\nc\n    d\ne\n";
        let (hunks, added, deleted, code_added) =
            diff_texts(old.as_bytes(), new.as_bytes(), "x.ts").unwrap();
        assert_eq!(code_added, 2, "B and e");
        // b and the comment replaced by B; the blank line kept; d re-indented (ignored); e added.
        assert_eq!(deleted, 2);
        assert_eq!(added, 2);
        assert_eq!(hunks[0].old_start, 2);
        assert_eq!(hunks[0].old_lines, 2);
        assert_eq!(
            hunks[0].meaningful,
            vec![0],
            "the comment line is not meaningful"
        );
        assert_eq!(hunks[1].old_lines, 0);
        assert_eq!(hunks[1].new_lines, 1);
        assert_eq!(count_lines(old.as_bytes()), 6);
        assert_eq!(count_lines(b"x"), 1);
        assert_eq!(count_lines(b""), 0);
    }

    #[test]
    fn meaningful_lines() {
        assert!(!meaningful("   ", "a.ts"));
        assert!(!meaningful("  // note", "a.ts"));
        assert!(meaningful("#[derive(Debug)]", "a.rs"));
        assert!(!meaningful("# note", "a.py"));
        assert!(meaningful("let x = 1;", "a.rs"));
    }
}
