//! Synthetic lock files of any length, in each format pr-risk reads, for the parse benchmark and
//! for tests that need large inputs (generated, never fetched: deterministic, no network).
//!
//! The packages form a realistic shape: a few hundred names, some scoped, several versions of the
//! popular ones (nested copies in `package-lock.json`), each package depending on up to four
//! others by a caret range, and one workspace root that depends on a slice of them.

use std::fmt::Write as _;

use crate::synth::Lcg;

/// The formats generated, by name: `package-lock.json` (v3), `pnpm-lock.yaml` (v9 and v6),
/// `yarn.lock` (classic v1 and berry v8) and `Cargo.lock` (v4).
pub const FORMATS: &[&str] = &[
    "package-lock-v3",
    "pnpm-v9",
    "pnpm-v6",
    "yarn-v1",
    "yarn-berry",
    "cargo-v4",
];

struct Pkg {
    name: String,
    version: String,
    deps: Vec<usize>,
    script: bool,
}

fn packages(n: usize, seed: u64, cargo: bool) -> Vec<Pkg> {
    let mut rng = Lcg::new(seed);
    let mut out: Vec<Pkg> = Vec::with_capacity(n);
    for i in 0..n {
        let base = i % (n / 3).max(1);
        let name = if cargo {
            format!("crate-{base}")
        } else if base.is_multiple_of(5) {
            format!("@scope{}/pkg-{base}", base % 7)
        } else {
            format!("pkg-{base}")
        };
        let version = format!(
            "{}.{}.{}",
            rng.below(5) + (i / (n / 3).max(1)) as u64,
            rng.below(30),
            rng.below(20)
        );
        let k = rng.below(5) as usize;
        let deps = (0..k)
            .filter(|_| i > 0)
            .map(|_| rng.below(i as u64) as usize)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|&d| out[d].name != name)
            .collect();
        out.push(Pkg {
            name,
            version,
            deps,
            script: rng.below(40) == 0,
        });
    }
    // One version of a name at most once (the generator can repeat a triple).
    let mut seen = std::collections::HashSet::new();
    for p in &mut out {
        let first = p.version.clone();
        let mut k = 1;
        while !seen.insert((p.name.clone(), p.version.clone())) {
            p.version = format!("{first}-r{k}");
            k += 1;
        }
    }
    out
}

/// A lock file of `format` with at least `lines` lines: `(file name, text)`.
pub fn lock_file(format: &str, lines: usize, seed: u64) -> (&'static str, String) {
    // Grow the package count until the text is long enough.
    let mut n = (lines / 8).max(8);
    loop {
        let (name, text) = render(format, n, seed);
        let have = text.lines().count();
        if have >= lines {
            return (name, text);
        }
        n = n * lines / have.max(1) + 8;
    }
}

fn range(v: &str) -> String {
    let major = v.split('.').next().unwrap_or("0");
    format!("^{major}.0.0")
}

fn render(format: &str, n: usize, seed: u64) -> (&'static str, String) {
    let cargo = format == "cargo-v4";
    let pk = packages(n, seed, cargo);
    let mut s = String::with_capacity(n * 300);
    let roots: Vec<usize> = (0..pk.len()).step_by(9).collect();
    match format {
        "package-lock-v3" => {
            s.push_str("{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n");
            let mut seen_names = std::collections::HashSet::new();
            let root_deps: Vec<&Pkg> = roots
                .iter()
                .map(|&r| &pk[r])
                .filter(|p| seen_names.insert(p.name.clone()))
                .collect();
            for (i, p) in root_deps.iter().enumerate() {
                let comma = if i + 1 < root_deps.len() { "," } else { "" };
                let _ = writeln!(
                    s,
                    "        \"{}\": \"{}\"{comma}",
                    p.name,
                    range(&p.version)
                );
            }
            s.push_str("      }\n    }");
            // The first version of a name is hoisted; later ones nest under the package that
            // follows them.
            let mut hoisted = std::collections::HashSet::new();
            for (i, p) in pk.iter().enumerate() {
                let path = if hoisted.insert(p.name.clone()) {
                    format!("node_modules/{}", p.name)
                } else {
                    let parent = &pk[(i + 1) % pk.len()].name;
                    format!("node_modules/{parent}/node_modules/{}", p.name)
                };
                let short = p.name.rsplit('/').next().unwrap_or(&p.name);
                let _ = write!(
                    s,
                    ",\n    \"{path}\": {{\n      \"version\": \"{}\",\n      \"resolved\": \"https://registry.npmjs.org/{}/-/{short}-{}.tgz\",\n      \"integrity\": \"sha512-{:064x}==\"",
                    p.version, p.name, p.version, (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                );
                if p.script {
                    s.push_str(",\n      \"hasInstallScript\": true");
                }
                if !p.deps.is_empty() {
                    s.push_str(",\n      \"dependencies\": {\n");
                    for (k, &d) in p.deps.iter().enumerate() {
                        let comma = if k + 1 < p.deps.len() { "," } else { "" };
                        let _ = writeln!(
                            s,
                            "        \"{}\": \"{}\"{comma}",
                            pk[d].name,
                            range(&pk[d].version)
                        );
                    }
                    s.push_str("      }");
                }
                s.push_str("\n    }");
            }
            s.push_str("\n  }\n}\n");
            ("package-lock.json", s)
        }
        "pnpm-v9" | "pnpm-v6" => {
            let v9 = format == "pnpm-v9";
            let key = |p: &Pkg| {
                let k = format!("{}@{}", p.name, p.version);
                let k = if v9 { k } else { format!("/{k}") };
                if k.starts_with('@') || k.starts_with("/@") {
                    format!("'{k}'")
                } else {
                    k
                }
            };
            let _ = write!(
                s,
                "lockfileVersion: '{}'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    dependencies:\n",
                if v9 { "9.0" } else { "6.0" }
            );
            let mut seen_names = std::collections::HashSet::new();
            for &r in &roots {
                let p = &pk[r];
                if !seen_names.insert(p.name.clone()) {
                    continue;
                }
                let name = if p.name.starts_with('@') {
                    format!("'{}'", p.name)
                } else {
                    p.name.clone()
                };
                let _ = write!(
                    s,
                    "      {name}:\n        specifier: {}\n        version: {}\n",
                    range(&p.version),
                    p.version
                );
            }
            s.push_str("\npackages:\n\n");
            for (i, p) in pk.iter().enumerate() {
                let _ = write!(
                    s,
                    "  {}:\n    resolution: {{integrity: sha512-{:064x}==}}\n    engines: {{node: '>=14'}}\n",
                    key(p),
                    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                );
                if !v9 {
                    if !p.deps.is_empty() {
                        s.push_str("    dependencies:\n");
                        for &d in &p.deps {
                            let _ =
                                writeln!(s, "      {}: {}", quote_at(&pk[d].name), pk[d].version);
                        }
                    }
                    if p.script {
                        s.push_str("    requiresBuild: true\n");
                    }
                    s.push_str("    dev: false\n");
                }
                s.push('\n');
            }
            if v9 {
                s.push_str("snapshots:\n\n");
                for p in &pk {
                    if p.deps.is_empty() {
                        let _ = write!(s, "  {}: {{}}\n\n", key(p));
                    } else {
                        let _ = writeln!(s, "  {}:\n    dependencies:", key(p));
                        for &d in &p.deps {
                            let _ =
                                writeln!(s, "      {}: {}", quote_at(&pk[d].name), pk[d].version);
                        }
                        s.push('\n');
                    }
                }
            }
            ("pnpm-lock.yaml", s)
        }
        "yarn-v1" => {
            s.push_str("# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n");
            for (i, p) in pk.iter().enumerate() {
                let short = p.name.rsplit('/').next().unwrap_or(&p.name);
                let _ = write!(
                    s,
                    "\"{}@{}\":\n  version \"{}\"\n  resolved \"https://registry.yarnpkg.com/{}/-/{short}-{}.tgz#{:040x}\"\n  integrity sha512-{:064x}==\n",
                    p.name,
                    range(&p.version),
                    p.version,
                    p.name,
                    p.version,
                    i,
                    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                );
                if !p.deps.is_empty() {
                    s.push_str("  dependencies:\n");
                    for &d in &p.deps {
                        let _ = writeln!(
                            s,
                            "    {} \"{}\"",
                            quote_at_yarn(&pk[d].name),
                            range(&pk[d].version)
                        );
                    }
                }
                s.push('\n');
            }
            ("yarn.lock", s)
        }
        "yarn-berry" => {
            s.push_str("# This file is generated by running \"yarn install\" inside your project.\n# Manual changes might be lost - proceed with caution!\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n");
            for (i, p) in pk.iter().enumerate() {
                let _ = write!(
                    s,
                    "\"{}@npm:{}\":\n  version: {}\n  resolution: \"{}@npm:{}\"\n",
                    p.name,
                    range(&p.version),
                    p.version,
                    p.name,
                    p.version
                );
                if !p.deps.is_empty() {
                    s.push_str("  dependencies:\n");
                    for &d in &p.deps {
                        let _ = writeln!(
                            s,
                            "    {}: \"npm:{}\"",
                            quote_at_yarn(&pk[d].name),
                            range(&pk[d].version)
                        );
                    }
                }
                let _ = write!(
                    s,
                    "  checksum: 10c0/{:0128x}\n  languageName: node\n  linkType: hard\n\n",
                    (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
                );
            }
            ("yarn.lock", s)
        }
        "cargo-v4" => {
            s.push_str("# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n");
            for (i, p) in pk.iter().enumerate() {
                let _ = write!(
                    s,
                    "\n[[package]]\nname = \"{}\"\nversion = \"{}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:064x}\"\n",
                    p.name,
                    p.version,
                    (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
                );
                if !p.deps.is_empty() {
                    s.push_str("dependencies = [\n");
                    for &d in &p.deps {
                        let _ = writeln!(s, " \"{} {}\",", pk[d].name, pk[d].version);
                    }
                    s.push_str("]\n");
                }
            }
            s.push_str("\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n");
            for &r in &roots {
                let _ = writeln!(s, " \"{} {}\",", pk[r].name, pk[r].version);
            }
            s.push_str("]\n");
            ("Cargo.lock", s)
        }
        other => panic!("unknown lock file format {other}"),
    }
}

fn quote_at(name: &str) -> String {
    if name.starts_with('@') {
        format!("'{name}'")
    } else {
        name.to_string()
    }
}

fn quote_at_yarn(name: &str) -> String {
    if name.starts_with('@') {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}
