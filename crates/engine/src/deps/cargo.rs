//! Cargo: `Cargo.toml` manifests and `Cargo.lock`.
//!
//! `Cargo.lock` lists every package of the build: registry and git crates carry a `source`
//! (`registry+https://github.com/rust-lang/crates.io-index`, `sparse+https://index.crates.io/`,
//! `git+https://…?rev=…#<commit>`), the workspace's own packages (and path dependencies) carry
//! none. Each package lists its dependencies as `name`, `name version` or `name version (source)`,
//! which is what the edges are made of; the direct dependencies of a workspace package are the
//! entries of its own `dependencies` list.
//!
//! What a lock file cannot tell: whether a registry crate has a build script or is a procedural
//! macro (both run code at build time). Cargo records neither in `Cargo.lock`; that is in each
//! crate's own manifest, inside the downloaded package. For the workspace's own crates the
//! manifests are in the repository: a new `build.rs` (or `package.build`) and a new
//! `proc-macro = true` are reported as build changes.

use std::collections::HashMap;

use serde::Deserialize;
use toml::{Table, Value};

use super::model::{DepKind, DirectDep, Lock, LockIndex, LockKind, Locked, Manifest, Source};

#[derive(Deserialize)]
struct RawLock {
    version: Option<u32>,
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// The source of a `Cargo.lock` package.
pub fn source(s: Option<&str>) -> Source {
    let Some(s) = s else {
        return Source::Path {
            path: String::new(),
        };
    };
    if let Some(rest) = s
        .strip_prefix("registry+")
        .or_else(|| s.strip_prefix("sparse+"))
    {
        let r = rest.trim_end_matches('/');
        if r == "https://github.com/rust-lang/crates.io-index" || r == "https://index.crates.io" {
            return Source::DEFAULT;
        }
        return Source::Registry {
            registry: Some(r.to_string()),
        };
    }
    if let Some(rest) = s.strip_prefix("git+") {
        let (url, commit) = match rest.split_once('#') {
            Some((u, c)) => (u, Some(c.to_string())),
            None => (rest, None),
        };
        return Source::Git {
            url: url.to_string(),
            rev: commit,
        };
    }
    if let Some(rest) = s.strip_prefix("path+") {
        return Source::Path {
            path: rest.to_string(),
        };
    }
    Source::Url { url: s.to_string() }
}

/// Read a `Cargo.lock`.
pub fn lock(text: &str) -> Result<Lock, String> {
    let raw: RawLock =
        toml::from_str(text).map_err(|e| format!("not a valid Cargo.lock: {}", first_line(&e)))?;
    let version = raw.version.unwrap_or(1).to_string();
    let mut l = Lock::new(LockKind::Cargo, version);
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, p) in raw.package.iter().enumerate() {
        let mut x = Locked::new(&p.name, &p.version, source(p.source.as_deref()));
        x.local = p.source.is_none();
        l.packages.push(x);
        by_name.entry(&p.name).or_default().push(i as u32);
    }
    let mut importers: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for (i, p) in raw.package.iter().enumerate() {
        let mut deps = Vec::new();
        for d in &p.dependencies {
            let mut parts = d.splitn(3, ' ');
            let name = parts.next().unwrap_or("");
            let version = parts.next();
            let candidates = by_name.get(name).map(Vec::as_slice).unwrap_or(&[]);
            let j = match version {
                None => candidates.first().copied(),
                Some(v) => candidates
                    .iter()
                    .copied()
                    .find(|&c| l.packages[c as usize].version == v),
            };
            if let Some(j) = j {
                if j as usize != i && !deps.contains(&j) {
                    deps.push(j);
                }
            }
        }
        if p.source.is_none() {
            let m = importers.entry(p.name.clone()).or_default();
            for &j in &deps {
                m.insert(l.packages[j as usize].name.clone(), j);
            }
        }
        l.packages[i].deps = deps;
    }
    l.index = LockIndex::Importers { importers };
    Ok(l)
}

fn first_line(e: &toml::de::Error) -> String {
    let s = e.to_string();
    let mut lines = s.lines();
    let head = lines.next().unwrap_or("").to_string();
    // toml's message: "TOML parse error at line 3, column 1\n  |\n…\nexpected …"
    match s.lines().last() {
        Some(last) if last != head => format!("{head}: {last}"),
        _ => head,
    }
}

/// The dependency tables of a manifest and their kinds.
const TABLES: &[(&str, DepKind)] = &[
    ("dependencies", DepKind::Prod),
    ("dev-dependencies", DepKind::Dev),
    ("dev_dependencies", DepKind::Dev),
    ("build-dependencies", DepKind::Build),
    ("build_dependencies", DepKind::Build),
];

/// Read a `Cargo.toml`. `workspace_deps`: the `[workspace.dependencies]` of its workspace root
/// (for `x = { workspace = true }`); `has_file`: whether a repository-relative path exists (for
/// `build.rs`).
pub fn manifest(
    path: &str,
    text: &str,
    workspace_deps: Option<&Table>,
    has_file: &dyn Fn(&str) -> bool,
) -> Result<Manifest, String> {
    let t: Table =
        toml::from_str(text).map_err(|e| format!("not valid TOML: {}", first_line(&e)))?;
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let join = |rel: &str| {
        if dir.is_empty() {
            rel.to_string()
        } else {
            format!("{dir}/{rel}")
        }
    };
    let package = t.get("package").and_then(Value::as_table);
    let name = package
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let build_script = match package.and_then(|p| p.get("build")) {
        Some(Value::Boolean(false)) => None,
        Some(Value::String(s)) => Some(join(s)),
        _ if package.is_some() && has_file(&join("build.rs")) => Some(join("build.rs")),
        _ => None,
    };
    let lib = t.get("lib").and_then(Value::as_table);
    let proc_macro = lib
        .and_then(|l| l.get("proc-macro").or_else(|| l.get("proc_macro")))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut deps = Vec::new();
    let mut tables: Vec<(&Table, DepKind, String)> = Vec::new();
    for (key, kind) in TABLES {
        if let Some(tb) = t.get(*key).and_then(Value::as_table) {
            tables.push((tb, *kind, format!("[{key}")));
        }
    }
    if let Some(targets) = t.get("target").and_then(Value::as_table) {
        for (_, target) in targets {
            for (key, kind) in TABLES {
                if let Some(tb) = target.get(*key).and_then(Value::as_table) {
                    tables.push((tb, *kind, String::new()));
                }
            }
        }
    }
    for (table, kind, _) in tables {
        for (key, spec) in table {
            let mut spec = spec.clone();
            if spec.get("workspace").and_then(Value::as_bool) == Some(true) {
                if let Some(w) = workspace_deps.and_then(|w| w.get(key)) {
                    spec = w.clone();
                }
            }
            let package_name = spec
                .get("package")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_string();
            let (requirement, local) = requirement(&spec);
            deps.push(DirectDep {
                line: line_of(text, key),
                key: key.clone(),
                package: package_name,
                kind,
                requirement,
                local,
            });
        }
    }
    deps.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    deps.dedup_by(|a, b| a.kind == b.kind && a.key == b.key);
    Ok(Manifest {
        path: path.to_string(),
        name,
        deps,
        build_script,
        proc_macro,
    })
}

/// A dependency's requirement as a string (`1.0`, `git https://…`, `path ../x`) and whether it
/// is a path dependency.
fn requirement(spec: &Value) -> (String, bool) {
    match spec {
        Value::String(s) => (s.clone(), false),
        Value::Table(t) => {
            let s = |k: &str| t.get(k).and_then(Value::as_str);
            if let Some(p) = s("path") {
                return (format!("path {p}"), true);
            }
            if let Some(g) = s("git") {
                let at = s("rev").or(s("tag")).or(s("branch"));
                return (
                    match at {
                        Some(a) => format!("git {g}#{a}"),
                        None => format!("git {g}"),
                    },
                    false,
                );
            }
            (s("version").unwrap_or("*").to_string(), false)
        }
        _ => ("*".into(), false),
    }
}

/// The `[workspace.dependencies]` table of a workspace root manifest.
pub fn workspace_deps(text: &str) -> Option<Table> {
    let t: Table = toml::from_str(text).ok()?;
    t.get("workspace")?.get("dependencies")?.as_table().cloned()
}

/// The 1-based line of the dependency `key` in a `Cargo.toml` (`key = …` under a dependency
/// table, or a `[dependencies.key]` header; 0: not found).
pub fn line_of(text: &str, key: &str) -> u32 {
    let mut in_deps = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let header = t.trim_start_matches('[').trim_end_matches(']');
            let header = header.split('#').next().unwrap_or("").trim();
            if header.ends_with(&format!("dependencies.{key}"))
                || header.ends_with(&format!("dependencies.\"{key}\""))
            {
                return (i + 1) as u32;
            }
            in_deps = header.ends_with("dependencies");
            continue;
        }
        if in_deps {
            let k = t
                .split(['=', '.'])
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if k == key && t.contains('=') {
                return (i + 1) as u32;
            }
        }
    }
    0
}

/// The 1-based line of the `[[package]]` entry of `name` at `version` in a `Cargo.lock` (0: not
/// found).
pub fn locate(text: &str, name: &str, version: &str) -> u32 {
    let name_line = format!("name = \"{name}\"");
    let version_line = format!("version = \"{version}\"");
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.trim() == name_line && lines.get(i + 1).is_some_and(|n| n.trim() == version_line) {
            return i as u32; // the `[[package]]` line above
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            source(Some(
                "registry+https://github.com/rust-lang/crates.io-index"
            )),
            Source::DEFAULT
        );
        assert_eq!(
            source(Some("sparse+https://index.crates.io/")),
            Source::DEFAULT
        );
        assert_eq!(
            source(Some("sparse+https://cargo.acme.internal/index/")),
            Source::Registry {
                registry: Some("https://cargo.acme.internal/index".into())
            }
        );
        assert_eq!(
            source(Some("git+https://github.com/acme/x?rev=abc#abcdef0123")),
            Source::Git {
                url: "https://github.com/acme/x?rev=abc".into(),
                rev: Some("abcdef0123".into())
            }
        );
    }

    #[test]
    fn manifest_tables_workspace_inheritance_and_lines() {
        let ws = workspace_deps("[workspace.dependencies]\nserde = { version = \"1.0.190\" }\n")
            .unwrap();
        let text = "[package]\nname = \"app\"\nbuild = \"gen.rs\"\n\n[lib]\nproc-macro = true\n\n[dependencies]\nserde = { workspace = true }\nrand = \"0.8\"\nlocal = { path = \"../local\" }\n\n[dev-dependencies.tokio]\nversion = \"1\"\n\n[target.'cfg(unix)'.build-dependencies]\ncc = { git = \"https://github.com/rust-lang/cc-rs\", tag = \"1.0.0\" }\n";
        let m = manifest("crates/app/Cargo.toml", text, Some(&ws), &|_| false).unwrap();
        assert_eq!(m.name.as_deref(), Some("app"));
        assert_eq!(m.build_script.as_deref(), Some("crates/app/gen.rs"));
        assert!(m.proc_macro);
        let d: Vec<(&str, DepKind, &str, bool, u32)> = m
            .deps
            .iter()
            .map(|d| {
                (
                    d.key.as_str(),
                    d.kind,
                    d.requirement.as_str(),
                    d.local,
                    d.line,
                )
            })
            .collect();
        assert_eq!(
            d,
            vec![
                ("local", DepKind::Prod, "path ../local", true, 11),
                ("rand", DepKind::Prod, "0.8", false, 10),
                ("serde", DepKind::Prod, "1.0.190", false, 9),
                ("tokio", DepKind::Dev, "1", false, 13),
                (
                    "cc",
                    DepKind::Build,
                    "git https://github.com/rust-lang/cc-rs#1.0.0",
                    false,
                    17
                ),
            ]
        );
        let plain = manifest("Cargo.toml", "[package]\nname = \"x\"\n", None, &|p| {
            p == "build.rs"
        })
        .unwrap();
        assert_eq!(plain.build_script.as_deref(), Some("build.rs"));
        assert!(manifest("Cargo.toml", "[package\n", None, &|_| false)
            .unwrap_err()
            .starts_with("not valid TOML"));
    }
}
