//! Package-manager workspaces: which directories are packages, and under which names.
//!
//! Read from the root `package.json` (`workspaces` as an array, or `{ "packages": [...] }` as
//! Yarn writes it) and `pnpm-workspace.yaml` (`packages:`). Negated patterns (`!x`) exclude.
//!
//! `pnpm-workspace.yaml` is parsed only within caps ([`MAX_YAML_BYTES`], [`MAX_YAML_DEPTH`]): a
//! YAML parser spends time superlinear in the nesting depth, and a pull request can commit a file
//! nested a hundred thousand levels deep. A file over a cap is not read, and the caller gets a note
//! saying so.

use std::collections::BTreeMap;

use crate::git::Repo;

use crate::git::snapshot::Snapshot;
use crate::glob::GlobList;

/// A workspace package: its name and directory (repository-relative, no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub dir: String,
}

/// `pnpm-workspace.yaml` files larger than this are not parsed (real ones are a few lines).
pub const MAX_YAML_BYTES: usize = 256 * 1024;
/// Nor are files nested deeper than this (flow collections `[ { … } ]`, or indentation columns
/// divided by two).
pub const MAX_YAML_DEPTH: usize = 64;

/// Why a YAML text is over the caps, if it is.
fn over_caps(text: &str) -> Option<String> {
    if text.len() > MAX_YAML_BYTES {
        return Some(format!("larger than {} KiB", MAX_YAML_BYTES / 1024));
    }
    let mut flow = 0usize;
    let mut deepest = 0usize;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        deepest = deepest.max(indent / 2);
        let mut prev = b' ';
        for b in line.bytes() {
            match b {
                b'[' | b'{' => {
                    flow += 1;
                    deepest = deepest.max(flow + indent / 2);
                }
                b']' | b'}' => flow = flow.saturating_sub(1),
                // A comment starts at a `#` after white space (brackets in quotes are counted:
                // that only errs on the safe side).
                b'#' if prev == b' ' || prev == b'\t' => break,
                _ => {}
            }
            prev = b;
        }
    }
    (deepest > MAX_YAML_DEPTH).then(|| format!("nested deeper than {MAX_YAML_DEPTH} levels"))
}

fn read_text(repo: &Repo, snapshot: &Snapshot, path: &str) -> Option<String> {
    let e = snapshot.get(path)?;
    repo.read_text(e.oid)
}

/// The workspace patterns declared at the repository root.
pub fn patterns(repo: &Repo, snapshot: &Snapshot) -> Vec<String> {
    patterns_within_caps(repo, snapshot).0
}

/// The workspace patterns, and a note for each file that was over a cap and not read.
pub fn patterns_within_caps(repo: &Repo, snapshot: &Snapshot) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut limits = Vec::new();
    if let Some(text) = read_text(repo, snapshot, "package.json") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let ws = v.get("workspaces");
            let list = match ws {
                Some(serde_json::Value::Array(a)) => Some(a.clone()),
                Some(serde_json::Value::Object(o)) => {
                    o.get("packages").and_then(|p| p.as_array()).cloned()
                }
                _ => None,
            };
            for p in list.unwrap_or_default() {
                if let Some(s) = p.as_str() {
                    out.push(s.to_string());
                }
            }
        }
    }
    if let Some(text) = read_text(repo, snapshot, "pnpm-workspace.yaml") {
        if let Some(why) = over_caps(&text) {
            limits.push(format!(
                "pnpm-workspace.yaml is {why}; its workspace packages were not read"
            ));
        } else if let Ok(v) = serde_yaml::from_str::<serde_yaml::Value>(&text) {
            if let Some(seq) = v.get("packages").and_then(|p| p.as_sequence()) {
                for p in seq {
                    if let Some(s) = p.as_str() {
                        out.push(s.to_string());
                    }
                }
            }
        }
    }
    (out, limits)
}

/// Every workspace package of the snapshot, by name.
pub fn packages(repo: &Repo, snapshot: &Snapshot) -> BTreeMap<String, Package> {
    packages_within_caps(repo, snapshot).0
}

/// Every workspace package of the snapshot, by name, and the caps reached on the way (see
/// [`patterns_within_caps`]).
pub fn packages_within_caps(
    repo: &Repo,
    snapshot: &Snapshot,
) -> (BTreeMap<String, Package>, Vec<String>) {
    let (pats, limits) = patterns_within_caps(repo, snapshot);
    let mut result = BTreeMap::new();
    if pats.is_empty() {
        return (result, limits);
    }
    let clean = |p: &str| {
        p.trim()
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string()
    };
    let include: Vec<String> = pats
        .iter()
        .filter(|p| !p.starts_with('!'))
        .map(|p| format!("/{}", clean(p)))
        .collect();
    let exclude: Vec<String> = pats
        .iter()
        .filter_map(|p| p.strip_prefix('!'))
        .map(|p| format!("/{}", clean(p)))
        .collect();
    let inc = GlobList::from_strs(&include.iter().map(String::as_str).collect::<Vec<_>>());
    let exc = GlobList::from_strs(&exclude.iter().map(String::as_str).collect::<Vec<_>>());
    for (path, _) in snapshot.files() {
        let Some(dir) = path.strip_suffix("/package.json") else {
            continue;
        };
        if dir.split('/').any(|c| c == "node_modules") {
            continue;
        }
        if !inc.is_match(dir) || exc.is_match(dir) {
            continue;
        }
        let Some(text) = read_text(repo, snapshot, path) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(name) = v.get("name").and_then(|n| n.as_str()) {
            result.insert(
                name.to_string(),
                Package {
                    name: name.to_string(),
                    dir: dir.to_string(),
                },
            );
        }
    }
    (result, limits)
}

#[cfg(test)]
mod caps_tests {
    use super::*;

    #[test]
    fn deep_or_huge_yaml_is_over_the_caps() {
        assert_eq!(
            over_caps("packages:\n  - 'packages/*'\n  - \"!**/test/**\"\n"),
            None
        );
        assert!(
            over_caps(&format!("packages: {}{}", "[".repeat(65), "]".repeat(65)))
                .unwrap()
                .contains("nested deeper")
        );
        assert_eq!(
            over_caps(&format!("packages: {}{}", "[".repeat(60), "]".repeat(60))),
            None
        );
        let deep_block: String = (0..70)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(over_caps(&deep_block).is_some());
        assert!(
            over_caps(&format!(
                "packages: [a#{}{}]",
                "[".repeat(70),
                "]".repeat(70)
            ))
            .is_some(),
            "a `#` inside a scalar is not a comment"
        );
        assert!(over_caps(&"#".repeat(MAX_YAML_BYTES + 1))
            .unwrap()
            .contains("larger than"));
    }
}
