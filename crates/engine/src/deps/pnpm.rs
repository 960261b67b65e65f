//! pnpm: `pnpm-lock.yaml`, lockfileVersion 5.x, 6.x and 9.x.
//!
//! - 9.x: `importers` (one per workspace directory, `.` the root) map each dependency to
//!   `{specifier, version}`; `packages` keys are `name@version` with the resolution; `snapshots`
//!   keys are `name@version(peer@x)` with the dependency edges (values `1.2.3(peer@x)`, or
//!   `other@1.0.0` for an alias, `link:…` for a workspace package).
//! - 6.x: one `packages` map keyed `/name@version(peers)` holds both; a single-project lock file has
//!   the root's `dependencies`/`devDependencies` at the top instead of `importers`;
//!   `requiresBuild: true` marks a package with install scripts.
//! - 5.x: keys `/name/version_peers`, importer dependencies are plain version strings.
//!
//! A git or tarball package is keyed by its URL and names itself with `name:`/`version:` fields.

use std::collections::HashMap;

use super::lockyaml::{self, Entry, Node};
use super::model::{registry, url_source, Lock, LockIndex, LockKind, Locked, Source};

/// Read a `pnpm-lock.yaml`.
pub fn lock(text: &str) -> Result<Lock, String> {
    let (doc, _) = lockyaml::parse(text)?;
    if !matches!(doc, Node::Map(_)) {
        return Err("not a pnpm lock file (no mapping at the top)".into());
    }
    let version = doc
        .str_of("lockfileVersion")
        .ok_or("no lockfileVersion")?
        .to_string();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| format!("unknown lockfileVersion `{version}`"))?;
    if !(5..=9).contains(&major) {
        return Err(format!(
            "lockfileVersion `{version}` is not read (pnpm lock files 5.x, 6.x and 9.x are)"
        ));
    }
    let mut l = Lock::new(LockKind::Pnpm, version);
    let meta = doc.get("packages");
    let snapshots = doc.get("snapshots");
    // Nodes: v9 snapshots (edges) with their package's metadata; otherwise the packages map.
    let nodes = snapshots.or(meta).map(Node::entries).unwrap_or(&[]);
    let meta_by_key: HashMap<&str, &Entry> = match (snapshots, meta) {
        (Some(_), Some(m)) => m.entries().iter().map(|e| (&*e.key, e)).collect(),
        _ => HashMap::new(),
    };
    let mut keys: HashMap<String, u32> = HashMap::with_capacity(nodes.len());
    for e in nodes {
        let key: &str = &e.key;
        let meta_entry = meta_by_key.get(strip_peers(key)).copied().unwrap_or(e);
        let meta_node = &meta_entry.value;
        let (name, version) = name_version(key, meta_node);
        let source = source_of(meta_node, key);
        let mut p = Locked::new(name, version, source);
        p.local = matches!(p.source, Source::Path { .. });
        p.install_script = if major < 9 {
            Some(meta_node.get("requiresBuild").is_some_and(Node::is_true))
        } else {
            None
        };
        p.line = meta_entry.line;
        keys.insert(key.to_string(), l.packages.len() as u32);
        l.packages.push(p);
    }
    // Edges.
    for (i, e) in nodes.iter().enumerate() {
        let mut deps = Vec::new();
        for section in ["dependencies", "optionalDependencies"] {
            for d in e.value.get(section).map(Node::entries).unwrap_or(&[]) {
                let Some(v) = d.value.as_str() else { continue };
                if let Some(j) = find(&keys, &d.key, v) {
                    if j as usize != i && !deps.contains(&j) {
                        deps.push(j);
                    }
                }
            }
        }
        l.packages[i].deps = deps;
    }
    // Importers: `importers`, or the root's sections at the top (single-project 5.x/6.x).
    let mut importers: HashMap<String, HashMap<String, u32>> = HashMap::new();
    let mut add_importer = |dir: &str, node: &Node| {
        let mut m = HashMap::new();
        for section in ["dependencies", "devDependencies", "optionalDependencies"] {
            for d in node.get(section).map(Node::entries).unwrap_or(&[]) {
                let v = match &d.value {
                    Node::Scalar(s) => Some(&**s),
                    n => n.str_of("version"),
                };
                if let Some(j) = v.and_then(|v| find(&keys, &d.key, v)) {
                    m.insert(d.key.to_string(), j);
                }
            }
        }
        importers.insert(dir.to_string(), m);
    };
    match doc.get("importers") {
        Some(imp) => {
            for e in imp.entries() {
                add_importer(&e.key, &e.value);
            }
        }
        None => add_importer(".", &doc),
    }
    l.index = LockIndex::Importers { importers };
    Ok(l)
}

/// `name@1.0.0(peer@2)(x@1)` → `name@1.0.0`; v5 `/name/1.0.0_peer@2` → `/name/1.0.0`.
fn strip_peers(key: &str) -> &str {
    let k = match key.find('(') {
        Some(i) => &key[..i],
        None => key,
    };
    let lead = usize::from(k.starts_with('/'));
    let bare = &k[lead..];
    let n = name_len(bare);
    // 5.x: `name/version`, with peers after an underscore.
    if bare[n..].starts_with('/') {
        if let Some(u) = bare[n + 1..].find('_') {
            return &k[..lead + n + 1 + u];
        }
    }
    k
}

/// The length of the package name at the start of a key without its leading `/`.
fn name_len(bare: &str) -> usize {
    let stop = |s: &str| s.find(['/', '@']).unwrap_or(s.len());
    if let Some(rest) = bare.strip_prefix('@') {
        match rest.find('/') {
            Some(slash) => 1 + slash + 1 + stop(&rest[slash + 1..]),
            None => bare.len(),
        }
    } else {
        stop(bare)
    }
}

/// A package's name and version: its `name`/`version` fields, else from the key
/// (`/name@1.0.0`, `name@1.0.0`, `/name/1.0.0`).
fn name_version(key: &str, meta: &Node) -> (String, String) {
    let bare = strip_peers(key).trim_start_matches('/');
    let (kname, kversion) = split_name_version(bare);
    let name = meta.str_of("name").unwrap_or(kname).to_string();
    let version = meta.str_of("version").unwrap_or(kversion).to_string();
    (name, version)
}

/// `@scope/name@1.0.0` → (`@scope/name`, `1.0.0`); `name/1.0.0` (5.x) → (`name`, `1.0.0`).
fn split_name_version(s: &str) -> (&str, &str) {
    let n = name_len(s);
    match s.get(n + 1..) {
        Some(v) => (&s[..n], v),
        None => (s, ""),
    }
}

/// The locked package a dependency value names.
fn find(keys: &HashMap<String, u32>, name: &str, value: &str) -> Option<u32> {
    if value.starts_with("link:") {
        return None;
    }
    let candidates = [
        format!("{name}@{value}"),
        format!("/{name}@{value}"),
        format!("/{name}/{value}"),
        value.to_string(),
        format!("/{value}"),
    ];
    candidates.iter().find_map(|c| keys.get(c).copied())
}

/// The source of a package from its `resolution` (and key).
fn source_of(meta: &Node, key: &str) -> Source {
    let res = meta.get("resolution");
    if let Some(r) = res {
        if let Some(t) = r.str_of("type") {
            match t {
                "git" => {
                    return Source::Git {
                        url: r.str_of("repo").unwrap_or("").to_string(),
                        rev: r.str_of("commit").map(str::to_string),
                    }
                }
                "directory" => {
                    return Source::Path {
                        path: r.str_of("directory").unwrap_or("").to_string(),
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = r.str_of("tarball") {
            if let Some(path) = t.strip_prefix("file:") {
                return Source::Path {
                    path: path.to_string(),
                };
            }
            return url_source(t);
        }
        if let Some(reg) = r.str_of("registry") {
            return registry(reg);
        }
    }
    let k = strip_peers(key).trim_start_matches('/');
    let after_name = split_name_version(k).1;
    if after_name.starts_with("file:") || after_name.starts_with("link:") {
        return url_source(after_name);
    }
    Source::DEFAULT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            strip_peers("/react-dom@18.2.0(react@18.2.0)"),
            "/react-dom@18.2.0"
        );
        assert_eq!(
            strip_peers("/react-dom/18.2.0_react@18.2.0"),
            "/react-dom/18.2.0"
        );
        assert_eq!(strip_peers("@babel/core@7.22.5"), "@babel/core@7.22.5");
        assert_eq!(strip_peers("/@babel/core/7.22.5_x"), "/@babel/core/7.22.5");
        assert_eq!(
            split_name_version("@babel/core@7.22.5"),
            ("@babel/core", "7.22.5")
        );
        assert_eq!(split_name_version("zod/3.22.4"), ("zod", "3.22.4"));
        assert_eq!(
            split_name_version("@babel/core/7.22.5"),
            ("@babel/core", "7.22.5")
        );
        assert_eq!(split_name_version("@scope/x"), ("@scope/x", ""));
    }

    #[test]
    fn unknown_versions_and_shapes_are_errors() {
        assert!(lock("lockfileVersion: '3.0'\n")
            .unwrap_err()
            .contains("not read"));
        assert!(lock("- a\n").is_err());
        assert!(lock("packages: {}\n")
            .unwrap_err()
            .contains("no lockfileVersion"));
        assert!(lock("lockfileVersion: x\n").is_err());
    }
}
