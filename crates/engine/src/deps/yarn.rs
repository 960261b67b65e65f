//! Yarn: `yarn.lock` of Yarn 1 (classic, its own format) and of Yarn 2 and later (berry, YAML).
//!
//! Both key an entry by the descriptors that resolve to it, comma-separated: classic
//! `"@babel/core@^7.0.0", "@babel/core@^7.1.0":` with `version "7.1.2"`, `resolved "<tarball
//! url>#<sha1>"` and `dependencies` written `name "range"`; berry `"@babel/core@npm:^7.0.0":` with
//! `version: 7.1.2`, `resolution: "@babel/core@npm:7.1.2"` and `dependencies` written
//! `name: "npm:range"` (a bare range in older berry files means `npm:`). A dependency finds its
//! package by the descriptor `name@range`. Berry also lists the workspaces
//! (`name@workspace:path`), which is how a workspace's own dependencies resolve.
//!
//! Neither format records install scripts.

use std::collections::HashMap;

use super::lockyaml::{self, Node};
use super::model::{berry_range, url_source, Lock, LockIndex, LockKind, Locked, Source};

/// Whether a `yarn.lock` text is berry's (YAML with `__metadata`).
pub fn is_berry(text: &str) -> bool {
    text.lines()
        .take(40)
        .any(|l| l.trim_end() == "__metadata:" || l.starts_with("__metadata:"))
}

/// Read a `yarn.lock` of either kind.
pub fn lock(text: &str) -> Result<Lock, String> {
    if is_berry(text) {
        berry(text)
    } else {
        classic(text)
    }
}

/// Split an entry key into its descriptors: `"a@^1", a@^2` → [`a@^1`, `a@^2`].
fn descriptors(key: &str) -> Vec<String> {
    key.split(", ")
        .map(|d| d.trim().trim_matches('"').to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// The package name of a descriptor (`@scope/name@range` → `@scope/name`).
fn descriptor_name(d: &str) -> &str {
    let from = usize::from(d.starts_with('@'));
    match d[from..].find('@') {
        Some(i) => &d[..from + i],
        None => d,
    }
}

/// An unquoted or double-quoted token at the start of `s`, and the rest.
fn token(s: &str) -> (String, &str) {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (out, &rest[i + 1..]),
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        out.push(n);
                    }
                }
                c => out.push(c),
            }
        }
        (out, "")
    } else {
        match s.find(' ') {
            Some(i) => (s[..i].to_string(), &s[i + 1..]),
            None => (s.to_string(), ""),
        }
    }
}

struct RawClassic {
    keys: Vec<String>,
    version: String,
    resolved: Option<String>,
    deps: Vec<(String, String)>,
    line: u32,
}

/// Read a Yarn 1 `yarn.lock`.
pub fn classic(text: &str) -> Result<Lock, String> {
    let mut entries: Vec<RawClassic> = Vec::new();
    let mut section: Option<&str> = None;
    let mut saw_header = text.lines().take(5).any(|l| l.contains("yarn lockfile v1"));
    for (i, raw) in text.lines().enumerate() {
        let no = (i + 1) as u32;
        let line = raw.trim_end();
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        match indent {
            0 => {
                let Some(key) = body.strip_suffix(':') else {
                    return Err(format!("line {no}: expected an entry (`name@range:`)"));
                };
                entries.push(RawClassic {
                    keys: descriptors(key),
                    version: String::new(),
                    resolved: None,
                    deps: Vec::new(),
                    line: no,
                });
                section = None;
                saw_header = true;
            }
            2 => {
                let Some(e) = entries.last_mut() else {
                    return Err(format!("line {no}: a field outside any entry"));
                };
                if let Some(name) = body.strip_suffix(':') {
                    section = match name {
                        "dependencies" => Some("dependencies"),
                        "optionalDependencies" => Some("optionalDependencies"),
                        _ => Some("other"),
                    };
                    continue;
                }
                section = None;
                let (field, rest) = token(body);
                let (value, _) = token(rest);
                match field.as_str() {
                    "version" => e.version = value,
                    "resolved" => e.resolved = Some(value),
                    _ => {}
                }
            }
            4 => {
                let Some(e) = entries.last_mut() else {
                    return Err(format!("line {no}: a dependency outside any entry"));
                };
                match section {
                    Some("dependencies") | Some("optionalDependencies") => {
                        let (name, rest) = token(body);
                        let (range, _) = token(rest);
                        e.deps.push((name, range));
                    }
                    Some(_) => {}
                    None => return Err(format!("line {no}: unexpected indentation")),
                }
            }
            _ => return Err(format!("line {no}: unexpected indentation")),
        }
    }
    if !saw_header {
        return Err("no entries and no `yarn lockfile v1` header".into());
    }
    let mut l = Lock::new(LockKind::YarnClassic, "1");
    let mut index: HashMap<String, u32> = HashMap::with_capacity(entries.len() * 2);
    for e in &entries {
        let name = e
            .keys
            .first()
            .map(|k| descriptor_name(k).to_string())
            .unwrap_or_default();
        let range = e
            .keys
            .first()
            .map(|k| &k[descriptor_name(k).len()..])
            .unwrap_or("")
            .trim_start_matches('@');
        let source = match &e.resolved {
            Some(r) => url_source(r),
            None if range.starts_with("file:") || range.starts_with("link:") => url_source(range),
            None => Source::DEFAULT,
        };
        let mut p = Locked::new(name, e.version.clone(), source);
        p.local = matches!(p.source, Source::Path { .. });
        p.line = e.line;
        for k in &e.keys {
            index.insert(k.clone(), l.packages.len() as u32);
        }
        l.packages.push(p);
    }
    for (i, e) in entries.iter().enumerate() {
        let mut deps = Vec::new();
        for (name, range) in &e.deps {
            if let Some(&j) = index.get(&format!("{name}@{range}")) {
                if j as usize != i && !deps.contains(&j) {
                    deps.push(j);
                }
            }
        }
        l.packages[i].deps = deps;
    }
    l.index = LockIndex::Descriptors {
        descriptors: index,
        importers: HashMap::new(),
        berry: false,
    };
    Ok(l)
}

/// The source of a berry resolution (`name@npm:1.0.0`, `name@workspace:x`, `name@patch:…`).
fn berry_source(resolution: &str) -> Source {
    let name = descriptor_name(resolution);
    let reference = resolution[name.len()..].trim_start_matches('@');
    let (protocol, rest) = reference.split_once(':').unwrap_or(("", reference));
    match protocol {
        "npm" => Source::DEFAULT,
        "workspace" | "file" | "portal" | "link" => Source::Path {
            path: rest.to_string(),
        },
        "patch" => {
            // `patch:lodash@npm%3A4.17.21#./patches/x.patch`: the patched package's source.
            let inner = rest.split('#').next().unwrap_or("");
            let inner = inner.replace("%3A", ":").replace("%40", "@");
            berry_source(&inner)
        }
        _ => url_source(reference),
    }
}

/// Read a Yarn 2+ (berry) `yarn.lock`.
pub fn berry(text: &str) -> Result<Lock, String> {
    let (doc, _) = lockyaml::parse(text)?;
    if !matches!(doc, Node::Map(_)) {
        return Err("not a yarn lock file (no mapping at the top)".into());
    }
    let version = doc
        .get("__metadata")
        .and_then(|m| m.str_of("version"))
        .ok_or("no __metadata.version")?
        .to_string();
    let mut l = Lock::new(LockKind::YarnBerry, version);
    let mut index: HashMap<String, u32> = HashMap::new();
    let entries: Vec<_> = doc
        .entries()
        .iter()
        .filter(|e| e.key != "__metadata")
        .collect();
    for e in &entries {
        let keys = descriptors(&e.key);
        let resolution = e.value.str_of("resolution").unwrap_or("");
        let name = if resolution.is_empty() {
            keys.first().map(|k| descriptor_name(k)).unwrap_or("")
        } else {
            descriptor_name(resolution)
        };
        let source = berry_source(if resolution.is_empty() {
            keys.first().map(String::as_str).unwrap_or("")
        } else {
            resolution
        });
        let mut p = Locked::new(name, e.value.str_of("version").unwrap_or(""), source);
        p.local = matches!(p.source, Source::Path { .. });
        p.line = e.line;
        for k in keys {
            index.insert(k, l.packages.len() as u32);
        }
        l.packages.push(p);
    }
    let mut importers: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let mut deps = Vec::new();
        let mut by_key = HashMap::new();
        for section in ["dependencies", "optionalDependencies"] {
            for d in e.value.get(section).map(Node::entries).unwrap_or(&[]) {
                let Some(range) = d.value.as_str() else {
                    continue;
                };
                let desc = format!("{}@{}", d.key, berry_range(range));
                if let Some(&j) = index.get(&desc) {
                    by_key.insert(d.key.to_string(), j);
                    if j as usize != i && !deps.contains(&j) {
                        deps.push(j);
                    }
                }
            }
        }
        l.packages[i].deps = deps;
        if let Source::Path { path } = &l.packages[i].source {
            if e.value
                .str_of("resolution")
                .is_some_and(|r| r.contains("@workspace:"))
            {
                importers.insert(path.clone(), by_key);
            }
        }
    }
    l.index = LockIndex::Descriptors {
        descriptors: index,
        importers,
        berry: true,
    };
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_parts() {
        assert_eq!(
            descriptors("\"@babel/core@^7.0.0\", \"@babel/core@^7.1.0\""),
            vec!["@babel/core@^7.0.0", "@babel/core@^7.1.0"]
        );
        assert_eq!(descriptor_name("@babel/core@^7.0.0"), "@babel/core");
        assert_eq!(descriptor_name("lodash@npm:^4"), "lodash");
        assert_eq!(token("\"a b\" rest"), ("a b".to_string(), " rest"));
        assert_eq!(token("version \"1\""), ("version".to_string(), "\"1\""));
    }

    #[test]
    fn berry_sources() {
        assert_eq!(berry_source("lodash@npm:4.17.21"), Source::DEFAULT);
        assert_eq!(
            berry_source("app@workspace:packages/app"),
            Source::Path {
                path: "packages/app".into()
            }
        );
        assert_eq!(
            berry_source("resolve@patch:resolve@npm%3A1.22.8#~builtin<compat/resolve>"),
            Source::DEFAULT
        );
        assert_eq!(
            berry_source("lib@https://github.com/acme/lib.git#commit=abc123"),
            Source::Git {
                url: "https://github.com/acme/lib.git".into(),
                rev: Some("abc123".into())
            }
        );
    }

    #[test]
    fn classic_errors_name_the_line() {
        assert!(classic("a@^1:\n      x\n")
            .unwrap_err()
            .starts_with("line 2"));
        assert!(classic("  version \"1\"\n")
            .unwrap_err()
            .starts_with("line 1"));
        assert!(classic("garbage\n").unwrap_err().starts_with("line 1"));
    }
}
