//! JSON files: what a change to one can reach.
//!
//! Code imports JSON files (`import data from "./rates.json"`): such a file is a module whose
//! default export is the whole document and whose named exports are its top-level keys, so a
//! change reaches the code that reads the keys that changed. `package.json` is different: most of
//! it is metadata that no code path reads through an import (`version`, `description`,
//! `scripts`, …) and a change to it reaches nothing; a dependency whose version changes reaches the
//! files that import that package; a change to the fields that decide how the package resolves
//! (`main`, `exports`, …) reaches the files that import the package by name.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

/// Sections of `package.json` that name dependencies (`name → version range`).
pub const DEPENDENCY_SECTIONS: &[&str] = &[
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
    "resolutions",
    "overrides",
];

/// Fields of `package.json` that decide what importing the package by name loads.
pub const RESOLUTION_FIELDS: &[&str] = &[
    "name",
    "main",
    "module",
    "types",
    "typings",
    "exports",
    "imports",
    "browser",
    "type",
    "source",
    "sideEffects",
    "workspaces",
];

/// One dependency whose version range changed, or that was added or removed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DependencyChange {
    pub section: String,
    pub package: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What changed in a `package.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageJsonChange {
    /// The package's name (head, else base).
    pub name: Option<String>,
    /// Changed fields that no import reads (reach nothing): `version`, `description`,
    /// `scripts`, tool settings, …
    pub metadata: Vec<String>,
    pub dependencies: Vec<DependencyChange>,
    /// Dependencies on packages of this repository (a workspace) whose version range changed:
    /// the code they name is the repository's own, so the range changes nothing (set by the
    /// caller, which knows the workspace).
    pub workspace: Vec<DependencyChange>,
    /// Changed fields that decide how the package resolves.
    pub resolution: Vec<String>,
}

fn object(text: Option<&str>) -> Result<Map<String, Value>, String> {
    match text {
        None => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("not a JSON object".into()),
            Err(e) => Err(format!("not valid JSON: {e}")),
        },
    }
}

fn version_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Compare two `package.json` texts (`None`: the file does not exist on that side).
pub fn package_json_change(
    base: Option<&str>,
    head: Option<&str>,
) -> Result<PackageJsonChange, String> {
    let (b, h) = (object(base)?, object(head)?);
    let mut out = PackageJsonChange {
        name: h
            .get("name")
            .or_else(|| b.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..PackageJsonChange::default()
    };
    let keys: BTreeSet<&String> = b.keys().chain(h.keys()).collect();
    for k in keys {
        let (bv, hv) = (b.get(k.as_str()), h.get(k.as_str()));
        if bv == hv {
            continue;
        }
        if DEPENDENCY_SECTIONS.contains(&k.as_str()) {
            let empty = Map::new();
            let bm = bv.and_then(Value::as_object).unwrap_or(&empty);
            let hm = hv.and_then(Value::as_object).unwrap_or(&empty);
            let names: BTreeSet<&String> = bm.keys().chain(hm.keys()).collect();
            for n in names {
                let (from, to) = (bm.get(n.as_str()), hm.get(n.as_str()));
                if from != to {
                    out.dependencies.push(DependencyChange {
                        section: k.clone(),
                        // `overrides`/`resolutions` keys can be paths (`a/b`, `**/c`).
                        package: n.rsplit("/").next().map_or(n.clone(), |last| {
                            if n.starts_with('@') && n.matches('/').count() == 1 {
                                n.clone()
                            } else {
                                last.to_string()
                            }
                        }),
                        from: from.map(version_text),
                        to: to.map(version_text),
                    });
                }
            }
        } else if RESOLUTION_FIELDS.contains(&k.as_str()) {
            out.resolution.push(k.clone());
        } else {
            out.metadata.push(k.clone());
        }
    }
    Ok(out)
}

/// The top-level keys of a JSON document whose values differ between the two texts; `None`
/// when either side is not a JSON object (then the whole document changed).
pub fn changed_keys(base: Option<&str>, head: Option<&str>) -> Option<Vec<String>> {
    let (b, h) = (object(base).ok()?, object(head).ok()?);
    let keys: BTreeSet<&String> = b.keys().chain(h.keys()).collect();
    Some(
        keys.into_iter()
            .filter(|k| b.get(k.as_str()) != h.get(k.as_str()))
            .cloned()
            .collect(),
    )
}

/// Whether `path` is a `package.json`.
pub fn is_package_json(path: &str) -> bool {
    path == "package.json" || path.ends_with("/package.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_only_is_metadata() {
        let c = package_json_change(
            Some(r#"{"name":"@acme/web","version":"1.0.0","scripts":{"b":"x"},"dependencies":{"react":"^18.0.0"}}"#),
            Some("{\n  \"name\": \"@acme/web\",\n  \"version\": \"1.1.0\",\n  \"scripts\": {\"b\": \"y\"},\n  \"dependencies\": {\"react\": \"^18.0.0\"}\n}\n"),
        )
        .unwrap();
        assert_eq!(c.metadata, vec!["scripts", "version"]);
        assert!(c.dependencies.is_empty() && c.resolution.is_empty());
        assert_eq!(c.name.as_deref(), Some("@acme/web"));
    }

    #[test]
    fn dependency_and_resolution_changes() {
        let c = package_json_change(
            Some(r#"{"main":"a.js","dependencies":{"react":"^18.0.0","lodash":"4"},"overrides":{"@x/y":"1"}}"#),
            Some(r#"{"main":"b.js","dependencies":{"react":"^19.0.0","zod":"3"},"overrides":{"@x/y":"2"}}"#),
        )
        .unwrap();
        let deps: Vec<(&str, Option<&str>, Option<&str>)> = c
            .dependencies
            .iter()
            .map(|d| (d.package.as_str(), d.from.as_deref(), d.to.as_deref()))
            .collect();
        assert_eq!(
            deps,
            vec![
                ("lodash", Some("4"), None),
                ("react", Some("^18.0.0"), Some("^19.0.0")),
                ("zod", None, Some("3")),
                ("@x/y", Some("1"), Some("2")),
            ]
        );
        assert_eq!(c.resolution, vec!["main"]);
        assert!(package_json_change(Some("{"), None).is_err());
    }

    #[test]
    fn json_keys() {
        assert_eq!(
            changed_keys(
                Some(r#"{"a":1,"b":[1,2]}"#),
                Some("{\"a\": 1, \"b\": [1, 3], \"c\": 0}")
            ),
            Some(vec!["b".to_string(), "c".to_string()])
        );
        assert_eq!(changed_keys(Some("[1]"), Some("[2]")), None);
    }
}
