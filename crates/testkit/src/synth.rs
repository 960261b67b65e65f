//! Synthetic repositories for benchmarks: deterministic, realistic enough to exercise the real
//! resolution rules (workspaces, tsconfig `paths`, nested folders, barrels and re-exports).
//!
//! Files are written straight into git objects (no working tree), so generating 10,000 files
//! takes well under a second.

use std::path::Path;

use git2::{IndexEntry, IndexTime, Oid, Repository, Signature, Time};

/// A small deterministic generator (64-bit LCG; no external dependency, same output everywhere).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

/// The files of a TypeScript monorepo with `files` source files spread over packages.
pub fn typescript_monorepo(files: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = Lcg::new(seed);
    let packages = (files / 500).clamp(1, 40);
    let mut out: Vec<(String, String)> = Vec::with_capacity(files + packages * 3 + 4);
    out.push((
        "package.json".into(),
        "{\n  \"name\": \"synth\",\n  \"private\": true,\n  \"workspaces\": [\"packages/*\"]\n}\n"
            .into(),
    ));
    out.push((
        "tsconfig.json".into(),
        "{\n  // root config\n  \"compilerOptions\": {\n    \"baseUrl\": \".\",\n    \"paths\": { \"@core/*\": [\"packages/p0/src/*\"] },\n  },\n}\n".into(),
    ));
    // Per package: (dir, name, files)
    let mut paths: Vec<Vec<String>> = vec![Vec::new(); packages];
    for i in 0..files {
        let p = i % packages;
        let dir = rng.below(8);
        let sub = rng.below(4);
        paths[p].push(format!("packages/p{p}/src/d{dir}/s{sub}/f{i}.ts"));
    }
    for (p, list) in paths.iter().enumerate() {
        out.push((
            format!("packages/p{p}/package.json"),
            format!("{{ \"name\": \"@synth/p{p}\", \"version\": \"1.0.0\", \"main\": \"./dist/index.js\", \"types\": \"./src/index.ts\" }}\n"),
        ));
        out.push((
            format!("packages/p{p}/tsconfig.json"),
            "{ \"extends\": \"../../tsconfig.json\" }\n".into(),
        ));
        // A barrel re-exporting the first files of the package.
        let mut barrel = String::new();
        for f in list.iter().take(10) {
            let rel = f.trim_start_matches(&format!("packages/p{p}/src/"));
            barrel.push_str(&format!(
                "export * from \"./{}\";\n",
                rel.trim_end_matches(".ts")
            ));
        }
        out.push((format!("packages/p{p}/src/index.ts"), barrel));
    }
    for (p, list) in paths.iter().enumerate() {
        for (k, path) in list.iter().enumerate() {
            let mut src = String::new();
            let imports = 2 + rng.below(4) as usize;
            for _ in 0..imports {
                match rng.below(10) {
                    // A relative import of an earlier file of the same package.
                    0..=5 if k > 0 => {
                        let j = rng.below(k as u64) as usize;
                        src.push_str(&format!(
                            "import {{ v{} }} from \"{}\";\n",
                            j,
                            relative(path, &list[j])
                        ));
                    }
                    // Another workspace package through its name.
                    6 | 7 if packages > 1 => {
                        let q = rng.below(packages as u64);
                        if q as usize != p {
                            src.push_str(&format!("import * as p{q} from \"@synth/p{q}\";\n"));
                        }
                    }
                    // tsconfig `paths`.
                    8 if !paths[0].is_empty() && p != 0 => {
                        let j = rng.below(paths[0].len().min(50) as u64) as usize;
                        let rel = paths[0][j].trim_start_matches("packages/p0/src/");
                        src.push_str(&format!(
                            "import type {{ T }} from \"@core/{}\";\n",
                            rel.trim_end_matches(".ts")
                        ));
                    }
                    _ => src.push_str("import { useState } from \"react\";\n"),
                }
            }
            src.push_str(&format!(
                "\nexport const v{k} = (x: number): number => {{\n  const y = x * {k};\n  return y + 1;\n}};\n"
            ));
            for line in 0..rng.below(30) {
                src.push_str(&format!(
                    "export function helper{line}(a: string) {{ return a.length + {line}; }}\n"
                ));
            }
            out.push((path.clone(), src));
        }
    }
    out
}

fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from.split('/').collect::<Vec<_>>();
    let from_dir = &from_dir[..from_dir.len() - 1];
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(to_parts.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut s = String::new();
    if common == from_dir.len() {
        s.push_str("./");
    } else {
        for _ in common..from_dir.len() {
            s.push_str("../");
        }
    }
    s.push_str(&to_parts[common..].join("/"));
    s.trim_end_matches(".ts").to_string()
}

/// The files of a Rust workspace with about `files` source files: 10 crates of 10 module
/// directories each (`mod.rs` with `pub mod` lines, `pub use` chains and globs), files that use
/// `crate::`, `super::` and the previous crate through a renamed path dependency, and
/// `#[cfg(test)]` modules.
pub fn rust_workspace(files: usize) -> Vec<(String, String)> {
    const CRATES: usize = 10;
    const GROUPS: usize = 10;
    let per = files
        .saturating_sub(CRATES * (1 + GROUPS))
        .div_ceil(CRATES * GROUPS)
        .max(1);
    let mut out: Vec<(String, String)> = Vec::with_capacity(files + CRATES + 1);
    let members: Vec<String> = (0..CRATES).map(|k| format!("\"crates/c{k}\"")).collect();
    out.push((
        "Cargo.toml".into(),
        format!("[workspace]\nmembers = [{}]\n", members.join(", ")),
    ));
    for k in 0..CRATES {
        let dir = format!("crates/c{k}");
        let mut deps = String::from("serde = \"1\"\n");
        if k > 0 {
            deps.push_str(&format!(
                "base = {{ package = \"crate-{}\", path = \"../c{}\" }}\n",
                k - 1,
                k - 1
            ));
        }
        out.push((
            format!("{dir}/Cargo.toml"),
            format!(
                "[package]\nname = \"crate-{k}\"\nversion = \"0.1.0\"\n\n[dependencies]\n{deps}"
            ),
        ));
        let mut lib = String::from("//! Generated crate.\n");
        for j in 0..GROUPS {
            lib.push_str(&format!("pub mod g{j};\n"));
        }
        lib.push_str("pub use g0::*;\npub use g1::Item1 as Root1;\n");
        out.push((format!("{dir}/src/lib.rs"), lib));
        for j in 0..GROUPS {
            let mut m = String::new();
            for i in 0..per {
                m.push_str(&format!("pub mod f{i};\n"));
            }
            m.push_str(&format!(
                "pub use f0::Item0;\npub use self::f{}::*;\n",
                per - 1
            ));
            out.push((format!("{dir}/src/g{j}/mod.rs"), m));
            for i in 0..per {
                let mut f = String::new();
                f.push_str(&format!(
                    "use crate::g{}::f{i}::Item{i} as Other;\n",
                    (j + 1) % GROUPS
                ));
                f.push_str(&format!("use super::f{}::*;\n", (i + 1) % per));
                f.push_str("use std::collections::{BTreeMap, HashMap};\n");
                if k > 0 {
                    f.push_str(&format!("use base::g{j}::f{i}::Item{i} as Upstream;\n"));
                }
                f.push_str(&format!(
                    "\npub struct Item{i} {{\n    pub other: Option<Box<Other>>,\n}}\n\n"
                ));
                f.push_str(&format!(
                    "pub fn run_{i}(m: &mut HashMap<u32, u32>) -> usize {{\n    let _b: BTreeMap<u8, u8> = BTreeMap::new();\n    crate::g{j}::f{}::run_{}(m);\n    super::f0::Item0 {{ other: None }};\n    m.len()\n}}\n",
                    (i + 2) % per,
                    (i + 2) % per
                ));
                f.push_str("\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn works() {\n        assert_eq!(crate::Root1 { other: None }.other.is_none(), true);\n    }\n}\n");
                out.push((format!("{dir}/src/g{j}/f{i}.rs"), f));
            }
        }
    }
    out
}

/// Write `files` as one commit on top of `parent` (or as a root commit) and move `branch` to it.
pub fn commit_files(
    repo: &Repository,
    files: &[(String, String)],
    parent: Option<Oid>,
    branch: &str,
    message: &str,
    time: i64,
) -> Result<Oid, git2::Error> {
    let mut index = repo.index()?;
    if let Some(p) = parent {
        index.read_tree(&repo.find_commit(p)?.tree()?)?;
    } else {
        index.clear()?;
    }
    for (path, content) in files {
        let entry = IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: content.len() as u32,
            id: Oid::ZERO_SHA1,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add_frombuffer(&entry, content.as_bytes())?;
    }
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = Signature::new("Synth", "synth@example.com", &Time::new(time, 0))?;
    let parents: Vec<git2::Commit> = parent
        .map(|p| repo.find_commit(p))
        .transpose()?
        .into_iter()
        .collect();
    let refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        message,
        &tree,
        &refs,
    )
}

/// Create a bare-ish repository at `dir` (with a working directory that is never checked out).
pub fn init(dir: &Path) -> Result<Repository, git2::Error> {
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    Repository::init_opts(dir, &opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative("a/b/c.ts", "a/b/d.ts"), "./d");
        assert_eq!(relative("a/b/c.ts", "a/x/d.ts"), "../x/d");
        assert_eq!(relative("a/b/c.ts", "a/b/e/d.ts"), "./e/d");
    }

    #[test]
    fn deterministic() {
        assert_eq!(typescript_monorepo(50, 7), typescript_monorepo(50, 7));
        assert_ne!(typescript_monorepo(50, 7), typescript_monorepo(50, 8));
    }
}
