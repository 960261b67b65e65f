//! Package-manager workspaces: which directories are packages, and under which names.
//!
//! Read from the root `package.json` (`workspaces` as an array, or `{ "packages": [...] }` as
//! Yarn writes it) and `pnpm-workspace.yaml` (`packages:`). Negated patterns (`!x`) exclude.

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

fn read_text(repo: &Repo, snapshot: &Snapshot, path: &str) -> Option<String> {
    let e = snapshot.get(path)?;
    repo.read_text(e.oid)
}

/// The workspace patterns declared at the repository root.
pub fn patterns(repo: &Repo, snapshot: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
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
        if let Ok(v) = serde_yaml::from_str::<serde_yaml::Value>(&text) {
            if let Some(seq) = v.get("packages").and_then(|p| p.as_sequence()) {
                for p in seq {
                    if let Some(s) = p.as_str() {
                        out.push(s.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Every workspace package of the snapshot, by name.
pub fn packages(repo: &Repo, snapshot: &Snapshot) -> BTreeMap<String, Package> {
    let pats = patterns(repo, snapshot);
    let mut result = BTreeMap::new();
    if pats.is_empty() {
        return result;
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
    result
}
