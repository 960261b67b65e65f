//! The change set: which paths a pull request touches, how, and which lines.
//!
//! Computed by libgit2 between the merge-base tree and the head tree, with rename and copy
//! detection. Binary, oversize, symlink and submodule entries are listed with a flag and never
//! parsed.

use git2::{Delta, DiffFindOptions, DiffOptions};

use super::{Oid, Repo};
use serde::Serialize;

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Added,
    #[default]
    Modified,
    Deleted,
    Renamed,
    Copied,
    TypeChanged,
}

/// An inclusive range of 1-based line numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineRange {
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangedFile {
    /// Path at head (for deleted files: the path at base).
    pub path: String,
    /// Path at base, when it differs (renames and copies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub status: Status,
    /// Similarity index 0–100 for renames and copies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<u16>,
    pub additions: u32,
    pub deletions: u32,
    /// Lines added at head, as ranges of head line numbers.
    pub added_lines: Vec<LineRange>,
    /// Lines removed from base, as ranges of base line numbers.
    pub removed_lines: Vec<LineRange>,
    pub binary: bool,
    pub oversize: bool,
    pub symlink: bool,
    pub submodule: bool,
    /// A side's content is not in the repository (a partial clone whose missing objects could
    /// not be fetched): the file is listed, its lines are not read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    #[serde(skip)]
    pub old_oid: Option<Oid>,
    #[serde(skip)]
    pub new_oid: Option<Oid>,
}

impl ChangedFile {
    /// Whether the file exists at head.
    pub fn exists_at_head(&self) -> bool {
        self.status != Status::Deleted
    }

    /// Whether the file existed at base (under `old_path` or `path`).
    pub fn base_path(&self) -> Option<&str> {
        match self.status {
            Status::Added | Status::Copied => None,
            _ => Some(self.old_path.as_deref().unwrap_or(&self.path)),
        }
    }

    /// Whether its content can be analysed (a regular text file under the size limit).
    pub fn analysable(&self) -> bool {
        !(self.binary || self.oversize || self.symlink || self.submodule || self.missing)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeSet {
    pub files: Vec<ChangedFile>,
}

impl ChangeSet {
    pub fn additions(&self) -> u32 {
        self.files.iter().map(|f| f.additions).sum()
    }
    pub fn deletions(&self) -> u32 {
        self.files.iter().map(|f| f.deletions).sum()
    }
}

/// The text of a changed file to scan: at head, and at base under its base path.
///
/// Texts are decoded lossily (invalid UTF-8 replaced, NUL bytes as spaces): an odd byte is never
/// a reason to skip a file. A file larger than the scan limit has no text, and says so.
#[derive(Debug, Clone, Default)]
pub struct ChangedTexts {
    pub head: Option<String>,
    pub base: Option<String>,
    /// The head blob is binary by content ([`super::snapshot::binary_by_content`]).
    pub head_binary: bool,
    pub base_binary: bool,
    /// The head blob's size in bytes.
    pub head_size: u64,
    /// Why the head could not be scanned at all (larger than the scan limit, unreadable).
    pub unscannable: Option<String>,
    /// The base side was too large to scan as well.
    pub base_unscannable: bool,
    /// Why it could not be read, when it could not.
    pub note: Option<String>,
}

/// A blob as (lossy text, binary by content), unless it is larger than `max` or unreadable.
fn scannable_text(repo: &Repo, oid: Oid, max: u64) -> std::result::Result<(String, bool), String> {
    if let Some(size) = repo.blob_size(oid).filter(|s| *s > max) {
        return Err(format!(
            "{size} bytes, larger than the scan limit ({max} bytes)"
        ));
    }
    let bytes = repo
        .read_blob(oid)
        .map_err(|e| format!("could not be read: {e}"))?;
    let binary = super::snapshot::binary_by_content(&bytes);
    Ok((super::snapshot::lossy_text(&bytes), binary))
}

/// The texts of `files` (in order), read in parallel, one repository handle per worker. Blobs
/// larger than `max` bytes are not read (the file is `unscannable`).
pub fn read_texts(
    git_dir: &std::path::Path,
    files: &[&ChangedFile],
    max: u64,
) -> Vec<ChangedTexts> {
    use rayon::prelude::*;
    files
        .par_iter()
        .map(|f| {
            super::with_thread_repo(git_dir, |repo| {
                let Some(repo) = repo else {
                    return ChangedTexts {
                        note: Some(format!(
                            "{}: repository could not be opened, not scanned",
                            f.path
                        )),
                        ..ChangedTexts::default()
                    };
                };
                let mut out = ChangedTexts::default();
                let Some(oid) = f.new_oid.filter(|_| f.exists_at_head()) else {
                    return out;
                };
                out.head_size = repo.blob_size(oid).unwrap_or(0);
                if f.missing {
                    // One side's contents are not in the clone: scanning the other alone would
                    // call every pre-existing finding new. Not scanned, and said plainly.
                    out.unscannable = Some(
                        "its contents are missing from this partial clone (they could not be fetched)"
                            .into(),
                    );
                    return out;
                }
                match scannable_text(repo, oid, max) {
                    Ok((text, binary)) => {
                        out.head = Some(text);
                        out.head_binary = binary;
                    }
                    Err(why) => {
                        out.unscannable = Some(why);
                        out.base_unscannable = f
                            .old_oid
                            .filter(|_| f.base_path().is_some())
                            .and_then(|o| repo.blob_size(o))
                            .is_some_and(|s| s > max);
                    }
                }
                if let (Some(_), Some(_), Some(oid)) = (&out.head, f.base_path(), f.old_oid) {
                    if let Ok((text, binary)) = scannable_text(repo, oid, max) {
                        out.base = Some(text);
                        out.base_binary = binary;
                    }
                }
                out
            })
        })
        .collect()
}

/// The change set of `base..head` (both commits; base is normally the merge-base).
pub fn change_set(repo: &Repo, base: Oid, head: Oid, max_file_size: u64) -> Result<ChangeSet> {
    let base_tree = repo
        .raw()
        .find_commit(base)
        .and_then(|c| c.tree())
        .map_err(crate::git::err("reading the base tree"))?;
    let head_tree = repo
        .raw()
        .find_commit(head)
        .and_then(|c| c.tree())
        .map_err(crate::git::err("reading the head tree"))?;
    // `force_text`: libgit2 would otherwise decide "binary" from git attributes, read from the
    // work tree — in action mode the pull request's own `.gitattributes` (`*.ts binary`,
    // `*.ts -diff`) could hide its files. Binary is decided here by content instead, and the
    // lines of binary and oversize files are never diffed.
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .include_typechange(true)
        .ignore_submodules(false)
        .force_text(true)
        .max_size(i64::try_from(max_file_size).unwrap_or(i64::MAX));
    let diff_of = |opts: &mut DiffOptions| {
        repo.raw()
            .diff_tree_to_tree(Some(&base_tree), Some(&head_tree), Some(opts))
            .map_err(crate::git::err("diffing base and head"))
    };
    let mut diff = diff_of(&mut opts)?;
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(true).rename_threshold(50);
    if let Err(e) = diff.find_similar(Some(&mut find)) {
        // Similarity reads both sides' contents: in a partial clone whose missing objects could
        // not be fetched that fails, and renames are paired by identical content only.
        if e.code() != git2::ErrorCode::NotFound {
            return Err(crate::git::err("detecting renames")(e));
        }
        tracing::debug!("rename detection limited to exact renames: {}", e.message());
        diff = diff_of(&mut opts)?;
        let mut exact = DiffFindOptions::new();
        exact.renames(true).exact_match_only(true);
        if diff.find_similar(Some(&mut exact)).is_err() {
            diff = diff_of(&mut opts)?;
        }
    }
    let odb = repo
        .raw()
        .odb()
        .map_err(crate::git::err("opening the object database"))?;

    let mut files: Vec<ChangedFile> = Vec::with_capacity(diff.deltas().len());
    let mut delta_of: Vec<usize> = Vec::with_capacity(diff.deltas().len());
    for (idx, delta) in diff.deltas().enumerate() {
        let status = match delta.status() {
            Delta::Added | Delta::Untracked => Status::Added,
            Delta::Deleted => Status::Deleted,
            Delta::Modified => Status::Modified,
            Delta::Renamed => Status::Renamed,
            Delta::Copied => Status::Copied,
            Delta::Typechange => Status::TypeChanged,
            _ => continue,
        };
        let old = delta.old_file();
        let new = delta.new_file();
        let path_of = |f: &git2::DiffFile| f.path().map(|p| p.to_string_lossy().into_owned());
        let new_path = path_of(&new);
        let old_path = path_of(&old);
        let path = match status {
            Status::Deleted => old_path.clone(),
            _ => new_path.clone(),
        }
        .unwrap_or_default();
        let old_path = match status {
            Status::Renamed | Status::Copied => old_path.filter(|o| *o != path),
            _ => None,
        };
        let similarity = match status {
            Status::Renamed | Status::Copied => Some(delta_similarity(&diff, idx)),
            _ => None,
        };
        let mode_of = |f: &git2::DiffFile| f.mode();
        let symlink = [mode_of(&old), mode_of(&new)].contains(&git2::FileMode::Link);
        let submodule = [mode_of(&old), mode_of(&new)].contains(&git2::FileMode::Commit);
        let nz = |oid: Oid| (!oid.is_zero()).then_some(oid);
        let old_oid = nz(old.id());
        let new_oid = nz(new.id());
        let missing = !submodule && [old_oid, new_oid].iter().flatten().any(|o| !odb.exists(*o));
        let oversize = !submodule
            && !missing
            && [old_oid, new_oid]
                .iter()
                .flatten()
                .any(|o| repo.blob_size(*o).is_some_and(|s| s > max_file_size));
        delta_of.push(idx);
        files.push(ChangedFile {
            path,
            old_path,
            status,
            similarity,
            additions: 0,
            deletions: 0,
            added_lines: Vec::new(),
            removed_lines: Vec::new(),
            binary: false,
            oversize,
            symlink,
            submodule,
            missing,
            old_oid,
            new_oid,
        });
    }

    // Binary by content (either side), then the added and removed lines of every text file
    // under the size limit, one patch per delta (context is 0, so each line event is a change).
    for (f, &idx) in files.iter_mut().zip(&delta_of) {
        if f.submodule || f.symlink || f.missing {
            continue;
        }
        let binary_side = |oid: Option<Oid>| {
            oid.filter(|_| !f.oversize)
                .and_then(|o| repo.read_blob(o).ok())
                .is_some_and(|b| super::snapshot::binary_by_content(&b))
        };
        f.binary = !f.oversize && (binary_side(f.old_oid) || binary_side(f.new_oid));
        if f.binary || f.oversize {
            continue;
        }
        let Some(patch) =
            git2::Patch::from_diff(&diff, idx).map_err(crate::git::err("reading the diff"))?
        else {
            continue;
        };
        for h in 0..patch.num_hunks() {
            let lines = patch
                .num_lines_in_hunk(h)
                .map_err(crate::git::err("reading the diff"))?;
            for l in 0..lines {
                let line = patch
                    .line_in_hunk(h, l)
                    .map_err(crate::git::err("reading the diff"))?;
                match line.origin() {
                    '+' => {
                        if let Some(n) = line.new_lineno() {
                            f.additions += 1;
                            push_line(&mut f.added_lines, n);
                        }
                    }
                    '-' => {
                        if let Some(n) = line.old_lineno() {
                            f.deletions += 1;
                            push_line(&mut f.removed_lines, n);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ChangeSet { files })
}

fn push_line(ranges: &mut Vec<LineRange>, n: u32) {
    if let Some(last) = ranges.last_mut() {
        if last.end + 1 == n {
            last.end = n;
            return;
        }
    }
    ranges.push(LineRange { start: n, end: n });
}

/// git2 does not expose a delta's similarity score; read it from libgit2 directly.
fn delta_similarity(diff: &git2::Diff, idx: usize) -> u16 {
    use git2::Binding;
    // SAFETY: `idx` is a valid delta index of `diff` (it comes from `diff.deltas()`), and the
    // returned pointer lives as long as `diff`, which outlives this read.
    unsafe {
        let d = libgit2_sys::git_diff_get_delta(diff.raw(), idx);
        if d.is_null() {
            0
        } else {
            (*d).similarity
        }
    }
}
