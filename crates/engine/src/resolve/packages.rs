//! The public surface of workspace packages, for the built-in `no-deep-import` rule.
//!
//! A package's surface is what its own name resolves to (through `exports`, `source`, `types`,
//! `module`, `main`, or the `src/index` fallback for build output that is not committed) plus every
//! subpath its `exports` map declares. An import from outside the package that lands on any other
//! file of it reaches into its internals: it bypasses the entry the package's authors maintain,
//! and breaks when they reorganise.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::git::snapshot::Snapshot;
use crate::resolve::workspaces::Package;
use crate::resolve::{is_relative, package_name, Target};

/// A workspace package and the files its public entry points resolve to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageSurface {
    pub name: String,
    /// Repository-relative directory, no trailing slash.
    pub dir: String,
    /// Files the package name and its `exports` subpaths resolve to.
    pub entries: BTreeSet<String>,
    /// `exports` keys (`.`, `./button`, `./icons/*`).
    pub exports: Vec<String>,
    /// The manifest has an `exports` field (of any form: a string, conditions, subpaths). Without
    /// one, Node lets importers reach every file of the package: all of it is public.
    pub declares_exports: bool,
}

impl PackageSurface {
    pub fn contains(&self, path: &str) -> bool {
        path.strip_prefix(&self.dir)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Whether `sub` (`button`, `icons/x`) is a subpath the `exports` map declares.
    fn exports_subpath(&self, sub: &str) -> bool {
        let want = format!("./{sub}");
        self.exports.iter().any(|k| match k.split_once('*') {
            Some((pre, post)) => {
                want.len() >= pre.len() + post.len()
                    && want.starts_with(pre)
                    && want.ends_with(post)
            }
            None => *k == want,
        })
    }
}

/// The surfaces of `packages`, resolving specifiers with `resolve(from_file, specifier)`.
pub fn surfaces(
    git_dir: &Path,
    snapshot: &Snapshot,
    packages: &BTreeMap<String, Package>,
    resolve: impl Fn(&str, &str) -> Target,
) -> Vec<PackageSurface> {
    let repo = crate::git::Repo::open(git_dir).ok();
    let read = |path: &str| -> Option<serde_json::Value> {
        let e = snapshot.get(path)?;
        let blob = repo.as_ref()?.read_blob(e.oid).ok()?;
        serde_json::from_slice(&blob).ok()
    };
    // Resolve as a file at the repository root would, where workspace packages are linked.
    let origin = "__pr_risk_origin__.ts";
    let mut out = Vec::new();
    for p in packages.values() {
        let mut s = PackageSurface {
            name: p.name.clone(),
            dir: p.dir.clone(),
            ..PackageSurface::default()
        };
        let manifest = read(&format!("{}/package.json", p.dir));
        s.declares_exports = manifest
            .as_ref()
            .and_then(|m| m.get("exports"))
            .is_some_and(|e| !e.is_null());
        let mut subpaths = vec![String::new()];
        if let Some(obj) = manifest
            .as_ref()
            .and_then(|m| m.get("exports"))
            .and_then(|e| e.as_object())
        {
            for k in obj.keys().filter(|k| k.starts_with('.')) {
                s.exports.push(k.clone());
                if !k.contains('*') && k != "." && k != "./package.json" {
                    subpaths.push(k.trim_start_matches("./").to_string());
                }
            }
        }
        s.exports.sort();
        for sub in subpaths {
            let spec = if sub.is_empty() {
                p.name.clone()
            } else {
                format!("{}/{sub}", p.name)
            };
            if let Target::File { path } = resolve(origin, &spec) {
                s.entries.insert(path);
            }
        }
        out.push(s);
    }
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    out
}

/// The innermost package that contains `path`.
pub fn owner<'a>(surfaces: &'a [PackageSurface], path: &str) -> Option<&'a PackageSurface> {
    surfaces
        .iter()
        .filter(|s| s.contains(path))
        .max_by_key(|s| s.dir.len())
}

/// When `from → to` (written as `specifier`) reaches past the public surface of another package
/// that declares one (an `exports` field): that package. A package without `exports` is public
/// throughout, by Node's rules.
pub fn deep_import<'a>(
    surfaces: &'a [PackageSurface],
    from: &str,
    to: &str,
    specifier: &str,
) -> Option<&'a PackageSurface> {
    let target = owner(surfaces, to)?;
    if !target.declares_exports {
        return None;
    }
    if owner(surfaces, from).is_some_and(|s| s.dir == target.dir) {
        return None;
    }
    if target.entries.contains(to) {
        return None;
    }
    if !is_relative(specifier) && package_name(specifier) == target.name {
        let sub = specifier[target.name.len()..].trim_start_matches('/');
        if sub.is_empty() || target.exports_subpath(sub) {
            return None;
        }
    }
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface() -> Vec<PackageSurface> {
        vec![
            PackageSurface {
                name: "@acme/ui".into(),
                dir: "packages/ui".into(),
                entries: ["packages/ui/src/index.ts".to_string()].into(),
                exports: vec![".".into(), "./icons/*".into()],
                declares_exports: true,
            },
            PackageSurface {
                name: "@acme/app".into(),
                dir: "packages/app".into(),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn deep_imports() {
        let s = surface();
        let app = "packages/app/src/main.ts";
        assert!(deep_import(&s, app, "packages/ui/src/index.ts", "@acme/ui").is_none());
        assert!(deep_import(&s, app, "packages/ui/src/icons/x.ts", "@acme/ui/icons/x").is_none());
        assert!(deep_import(
            &s,
            app,
            "packages/ui/src/internal/a.ts",
            "@acme/ui/src/internal/a"
        )
        .is_some());
        assert!(deep_import(
            &s,
            app,
            "packages/ui/src/internal/a.ts",
            "../../ui/src/internal/a"
        )
        .is_some());
        // Inside its own package, anything goes.
        assert!(deep_import(
            &s,
            "packages/ui/src/index.ts",
            "packages/ui/src/internal/a.ts",
            "./internal/a"
        )
        .is_none());
        // `packages/uix` is not inside `packages/ui`.
        assert!(owner(&s, "packages/uix/a.ts").is_none());
        // A package without `exports` is public throughout.
        assert!(deep_import(
            &s,
            "packages/ui/src/index.ts",
            "packages/app/src/internal/b.ts",
            "@acme/app/src/internal/b"
        )
        .is_none());
    }
}
