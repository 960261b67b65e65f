//! npm: `package.json` manifests and `package-lock.json` / `npm-shrinkwrap.json` (lockfileVersion 2
//! and 3, npm 7 and later).
//!
//! The lock file's `packages` object is keyed by install path: `""` is the root project,
//! `node_modules/a` a hoisted package, `node_modules/a/node_modules/b` a nested copy,
//! `packages/web` a workspace package and `node_modules/@acme/web` (`"link": true`) the link to
//! it. A package's dependencies are found the way Node finds them: `<path>/node_modules/<name>`,
//! then in each ancestor directory's `node_modules`. Version 1 lock files (npm 6, a nested
//! `dependencies` tree) are refused with a note that says to upgrade.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::model::{npm_lookup, Source};
use super::model::{url_source, DepKind, DirectDep, Lock, LockIndex, LockKind, Locked, Manifest};

/// The dependency sections of a `package.json`, with their kinds.
pub const SECTIONS: &[(&str, DepKind)] = &[
    ("dependencies", DepKind::Prod),
    ("devDependencies", DepKind::Dev),
    ("optionalDependencies", DepKind::Optional),
    ("peerDependencies", DepKind::Peer),
];

/// Read a `package.json`. `workspace_names`: the names of the repository's own packages (a
/// dependency on one is local).
pub fn manifest(
    path: &str,
    text: &str,
    workspace_names: &dyn Fn(&str) -> bool,
) -> Result<Manifest, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let Some(obj) = v.as_object() else {
        return Err("not a JSON object".into());
    };
    let mut deps = Vec::new();
    for (section, kind) in SECTIONS {
        let Some(map) = obj.get(*section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (key, range) in map {
            let requirement = match range {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // An optional dependency is also listed under `dependencies` by some tools: keep one.
            if deps
                .iter()
                .any(|d: &DirectDep| d.key == *key && d.kind == DepKind::Prod)
                && *kind == DepKind::Optional
            {
                continue;
            }
            let package = alias_target(&requirement).unwrap_or(key).to_string();
            let local = requirement.starts_with("workspace:")
                || requirement.starts_with("file:")
                || requirement.starts_with("link:")
                || requirement.starts_with("portal:")
                || workspace_names(&package);
            deps.push(DirectDep {
                line: line_of(text, section, key),
                key: key.clone(),
                package,
                kind: *kind,
                requirement,
                local,
            });
        }
    }
    deps.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    Ok(Manifest {
        path: path.to_string(),
        name: obj.get("name").and_then(|n| n.as_str()).map(str::to_string),
        deps,
        build_script: None,
        proc_macro: false,
    })
}

/// `npm:other@^1.0.0` → `other` (an npm alias).
fn alias_target(requirement: &str) -> Option<&str> {
    let rest = requirement.strip_prefix("npm:")?;
    let at = rest[1.min(rest.len())..].find('@').map(|i| i + 1);
    Some(match at {
        Some(i) => &rest[..i],
        None => rest,
    })
}

/// The 1-based line of `"key":` inside the object `"section":` of a JSON text (0: not found).
pub fn line_of(text: &str, section: &str, key: &str) -> u32 {
    let section_pat = format!("\"{section}\"");
    let key_pat = format!("\"{key}\"");
    let mut in_section = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with(&section_pat) {
            in_section = true;
            // `"dependencies": { "a": "1" }` on one line.
            if let Some(pos) = t.find('{') {
                if t[pos..].contains(&key_pat) {
                    return (i + 1) as u32;
                }
            }
            continue;
        }
        if in_section {
            if t.starts_with(&key_pat) && t[key_pat.len()..].trim_start().starts_with(':') {
                return (i + 1) as u32;
            }
            if t.starts_with('}') {
                in_section = false;
            }
        }
    }
    0
}

#[derive(Deserialize)]
struct RawLock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    packages: Option<BTreeMap<String, RawEntry>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawEntry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    link: bool,
    has_install_script: bool,
    dependencies: Option<BTreeMap<String, serde_json::Value>>,
    optional_dependencies: Option<BTreeMap<String, serde_json::Value>>,
    peer_dependencies: Option<BTreeMap<String, serde_json::Value>>,
}

/// Read a `package-lock.json` (or `npm-shrinkwrap.json`).
pub fn lock(text: &str) -> Result<Lock, String> {
    let raw: RawLock = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a valid package-lock.json (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let version = match &raw.lockfile_version {
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("unknown lockfileVersion {other}")),
        None => return Err("no lockfileVersion".into()),
    };
    let Some(entries) = raw.packages else {
        return Err(format!(
            "lockfileVersion {version} without a `packages` object is not read (npm 6 and older); run `npm install` with npm 7 or later to upgrade the lock file"
        ));
    };
    let mut l = Lock::new(LockKind::PackageLock, version);
    let mut paths: HashMap<String, u32> = HashMap::with_capacity(entries.len());
    // Packages first (links point at them), then the links.
    let mut links: Vec<(String, String)> = Vec::new();
    let mut order: Vec<(String, RawEntry)> = Vec::with_capacity(entries.len());
    for (path, e) in entries {
        if e.link {
            if let Some(target) = e.resolved.clone() {
                links.push((path, target));
            }
            continue;
        }
        order.push((path, e));
    }
    for (path, e) in &order {
        let in_node_modules = path == "node_modules"
            || path.starts_with("node_modules/")
            || path.contains("/node_modules/");
        let local = !in_node_modules;
        let from_path = path
            .rsplit_once("node_modules/")
            .map(|(_, n)| n)
            .unwrap_or(path.as_str());
        let name = e.name.clone().unwrap_or_else(|| from_path.to_string());
        let source = match &e.resolved {
            _ if local => Source::Path {
                path: if path.is_empty() {
                    ".".into()
                } else {
                    path.clone()
                },
            },
            Some(r) => url_source(r),
            None => Source::DEFAULT,
        };
        let mut p = Locked::new(name, e.version.clone().unwrap_or_default(), source);
        p.local = local;
        p.install_script = Some(e.has_install_script);
        paths.insert(path.clone(), l.packages.len() as u32);
        l.packages.push(p);
    }
    for (path, target) in links {
        let target = target.trim_start_matches("file:").trim_start_matches("./");
        if let Some(&i) = paths.get(target) {
            paths.insert(path, i);
        }
    }
    // Edges, by Node's lookup from each package's own directory.
    for (i, (path, e)) in order.iter().enumerate() {
        let mut deps = Vec::new();
        for map in [
            &e.dependencies,
            &e.optional_dependencies,
            &e.peer_dependencies,
        ]
        .into_iter()
        .flatten()
        {
            for name in map.keys() {
                if let Some(j) = npm_lookup(&paths, path, name) {
                    if j as usize != i && !deps.contains(&j) {
                        deps.push(j);
                    }
                }
            }
        }
        l.packages[i].deps = deps;
    }
    l.index = LockIndex::Npm { paths };
    Ok(l)
}

/// The 1-based line of the entry of `name` at `version` in a package-lock.json text (0: not
/// found).
pub fn locate(text: &str, name: &str, version: &str) -> u32 {
    let key = format!("node_modules/{name}\"");
    let version_line = format!("\"version\": \"{version}\"");
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if t.starts_with('"') && t.contains(&key) && t.trim_end().ends_with('{') {
            let found = lines[i + 1..]
                .iter()
                .take(6)
                .any(|x| x.trim_start().starts_with(&version_line));
            if found {
                return (i + 1) as u32;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_sections_aliases_and_lines() {
        let text = "{\n  \"name\": \"web\",\n  \"dependencies\": {\n    \"zod\": \"^3.22.0\",\n    \"@acme/ui\": \"workspace:*\",\n    \"strw\": \"npm:string-width@^4.2.0\"\n  },\n  \"devDependencies\": {\n    \"vitest\": \"^1.0.0\"\n  }\n}\n";
        let m = manifest("apps/web/package.json", text, &|_| false).unwrap();
        assert_eq!(m.name.as_deref(), Some("web"));
        let d: Vec<(&str, &str, DepKind, bool, u32)> = m
            .deps
            .iter()
            .map(|d| (d.key.as_str(), d.package.as_str(), d.kind, d.local, d.line))
            .collect();
        assert_eq!(
            d,
            vec![
                ("@acme/ui", "@acme/ui", DepKind::Prod, true, 5),
                ("strw", "string-width", DepKind::Prod, false, 6),
                ("zod", "zod", DepKind::Prod, false, 4),
                ("vitest", "vitest", DepKind::Dev, false, 9),
            ]
        );
        assert!(manifest("p", "[1]", &|_| false).is_err());
        assert!(manifest("p", "{", &|_| false)
            .unwrap_err()
            .starts_with("not valid JSON (line 1"));
    }

    #[test]
    fn version_one_is_refused_with_a_hint() {
        let e = lock("{\"lockfileVersion\": 1, \"dependencies\": {}}").unwrap_err();
        assert!(e.contains("npm 7 or later"), "{e}");
        assert!(lock("{\"packages\": {}}").is_err());
        assert!(lock("{\"lockfileVersion\": \"x\", \"packages\": {}}").is_err());
    }
}
