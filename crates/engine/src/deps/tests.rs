//! The lock-file readers on real-format fixtures (`fixtures/lockfiles/<format>/{base,head}`), each
//! format holding the same scenario, read through real git snapshots.

use std::path::Path;

use testkit::TestRepo;

use super::model::{Lock, LockKind};
use super::*;
use crate::git::Repo;
use crate::glob::GlobList;

fn fixture(path: &str) -> String {
    let p = testkit::fixtures_dir().join("lockfiles").join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Commit `base`, then replace the working tree with `head` and commit it.
fn repo(base: &str, head: &str) -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture(base);
    r.commit("base");
    r.branch("feature");
    clear(r.path());
    r.copy_fixture(head);
    r.commit("head");
    r
}

fn clear(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name() != ".git" {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
}

fn collect_in(r: &TestRepo, tests: &[&str]) -> (Dependencies, Vec<Problem>) {
    let repo = Repo::discover(r.path()).unwrap();
    let head = r.head();
    let base = crate::git::revisions::commit_of(&repo, "main", "base").unwrap();
    let b = Snapshot::of_commit(&repo, base).unwrap();
    let h = Snapshot::of_commit(&repo, head).unwrap();
    let exclude = GlobList::from_strs(&[]);
    let tests = GlobList::from_strs(tests);
    collect(
        &repo,
        &b,
        &h,
        &Scope {
            exclude: &exclude,
            tests: &tests,
        },
    )
}

/// One line per change: what a reader checks at a glance.
fn lines(d: &Dependencies) -> Vec<String> {
    d.changes
        .iter()
        .map(|c| {
            let mut s = format!(
                "{} {} {}→{}",
                c.name,
                c.kind.as_str(),
                c.from.as_deref().unwrap_or("∅"),
                c.to.as_deref().unwrap_or("∅")
            );
            if let Some(k) = c.semver {
                s.push_str(&format!(" ({})", k.as_str()));
            }
            for u in &c.direct {
                s.push_str(&format!(" [{}:{} {:?}]", u.manifest, u.line, u.kind));
            }
            if !c.via.is_empty() {
                s.push_str(&format!(" via {}", c.via.join(",")));
            }
            if c.dev_only {
                s.push_str(" dev");
            }
            if let Some(p) = &c.previous_source {
                s.push_str(&format!(" {} → {}", p.kind(), c.source.kind()));
            }
            if c.new_install_script {
                s.push_str(" +install-script");
            }
            s
        })
        .collect()
}

/// The scenario every npm fixture holds: zod 3 → 4 (major), typescript downgraded (dev, root),
/// esbuild added (dev, with an install script), lodash removed, left-pad moved from the registry
/// to git at the same version, and supports-color bumped underneath chalk.
fn expected_npm(install_scripts: bool) -> Vec<String> {
    let mut esbuild =
        "esbuild added ∅→0.19.12 [packages/web/package.json:LINE Dev] dev".to_string();
    if install_scripts {
        esbuild.push_str(" +install-script");
    }
    vec![
        esbuild,
        "left-pad source-changed 1.3.0→1.3.0 [packages/ui/package.json:LINE Prod] registry → git"
            .into(),
        "lodash removed 4.17.21→∅ [packages/web/package.json:LINE Prod]".into(),
        "typescript downgraded 5.3.3→5.2.2 (minor) [package.json:LINE Dev] dev".into(),
        "zod upgraded 3.22.4→4.0.1 (major) [packages/web/package.json:LINE Prod]".into(),
        "supports-color upgraded 7.1.0→7.2.0 (minor) via chalk".into(),
    ]
}

fn without_lines(v: Vec<String>) -> Vec<String> {
    let re = regex::Regex::new(r"\.json:\d+ ").unwrap();
    v.into_iter()
        .map(|l| re.replace_all(&l, ".json:LINE ").into_owned())
        .collect()
}

#[test]
fn the_same_scenario_in_every_npm_format() {
    for (pm, kind, scripts) in [
        ("npm", LockKind::PackageLock, true),
        ("pnpm9", LockKind::Pnpm, false),
        ("pnpm6", LockKind::Pnpm, true),
        ("yarn1", LockKind::YarnClassic, false),
        ("berry", LockKind::YarnBerry, false),
    ] {
        let r = repo(
            &format!("lockfiles/{pm}/base"),
            &format!("lockfiles/{pm}/head"),
        );
        let (d, problems) = collect_in(&r, &[]);
        assert_eq!(problems, vec![], "{pm}");
        assert_eq!(
            without_lines(lines(&d)),
            expected_npm(scripts),
            "{pm}\n{:#?}",
            d.changes
        );
        assert_eq!(d.projects.len(), 1, "{pm}");
        let p = &d.projects[0];
        assert!(p.changed && p.root.is_empty(), "{pm}");
        assert_eq!(
            p.manifests,
            vec![
                "package.json",
                "packages/ui/package.json",
                "packages/web/package.json"
            ],
            "{pm}"
        );
        let lockfile = p.lockfile.clone().unwrap();
        let lock = parse_lock(&lockfile, &fixture(&format!("{pm}/head/{lockfile}"))).unwrap();
        assert_eq!(lock.kind, kind, "{pm}");
        // Every change points at its lock-file entry, and the manifest line holds the key.
        for c in &d.changes {
            let loc = c.lockfile.as_ref().unwrap();
            assert!(loc.line > 0, "{pm}: {} has no lock-file line", c.name);
            let side = if c.to.is_some() { "head" } else { "base" };
            let text = fixture(&format!("{pm}/{side}/{}", loc.path));
            let line = text.lines().nth(loc.line as usize - 1).unwrap();
            assert!(line.contains(&c.name), "{pm}: {}: line {line:?}", c.name);
            for u in &c.direct {
                let text = fixture(&format!("{pm}/{side}/{}", u.manifest));
                let line = text.lines().nth(u.line as usize - 1).unwrap();
                assert!(line.contains(&format!("\"{}\"", u.key)), "{pm}: {line:?}");
            }
        }
        let zod = d.changes.iter().find(|c| c.name == "zod").unwrap();
        assert!(zod.breaking && zod.resolved && !zod.dev_only);
        assert_eq!(zod.direct[0].requirement, "^4.0.0");
        assert_eq!(
            zod.direct[0].previous_requirement.as_deref(),
            Some("^3.22.0")
        );
        let lp = d.changes.iter().find(|c| c.name == "left-pad").unwrap();
        assert!(
            matches!(&lp.source, Source::Git { url, rev: Some(rev) } if url.contains("stevemao/left-pad") && rev.starts_with("5e8e7b0")),
            "{pm}: {:?}",
            lp.source
        );
    }
}

#[test]
fn cargo_bumps_new_crates_and_build_time_code() {
    let r = repo("lockfiles/cargo/base", "lockfiles/cargo/head");
    let (d, problems) = collect_in(&r, &[]);
    assert_eq!(problems, vec![]);
    assert_eq!(
        lines(&d),
        vec![
            "clap upgraded 4.4.18→4.5.1 (minor) [crates/cli/Cargo.toml:8 Prod]",
            "rand added ∅→0.8.5 [crates/core/Cargo.toml:9 Prod]",
            "syn added ∅→2.0.48 [crates/macros/Cargo.toml:10 Prod]",
            "anstyle upgraded 1.0.4→1.0.6 (patch) via clap",
            "cfg-if added ∅→1.0.0 via rand",
            "clap_builder upgraded 4.4.18→4.5.1 (minor) via clap",
            "getrandom added ∅→0.2.12 via rand",
            "libc added ∅→0.2.153 via rand",
            "ppv-lite86 added ∅→0.2.17 via rand",
            "proc-macro2 added ∅→1.0.78 via syn",
            "quote added ∅→1.0.35 via syn",
            "rand_chacha added ∅→0.3.1 via rand",
            "rand_core added ∅→0.6.4 via rand",
            "unicode-ident added ∅→1.0.12 via syn",
        ]
    );
    assert_eq!(
        d.build_changes,
        vec![
            BuildChange {
                kind: BuildChangeKind::BuildScript,
                package: "shop-core".into(),
                manifest: "crates/core/Cargo.toml".into(),
                path: Some("crates/core/build.rs".into()),
                new_package: false,
            },
            BuildChange {
                kind: BuildChangeKind::ProcMacro,
                package: "shop-macros".into(),
                manifest: "crates/macros/Cargo.toml".into(),
                path: None,
                new_package: true,
            },
        ]
    );
    assert!(d.changes.iter().all(|c| c.install_script.is_none()));
    assert_eq!(d.projects[0].format.as_deref(), Some("Cargo.lock v4"));
}

#[test]
fn importers_are_the_files_that_import_the_package() {
    let r = repo("lockfiles/npm/base", "lockfiles/npm/head");
    let (mut d, _) = collect_in(&r, &[]);
    let externals = [
        ("packages/web/src/index.ts", "zod", false),
        ("packages/web/src/schema.ts", "zod/v4", true),
        ("packages/web/src/schema.test.ts", "zod", false),
        ("packages/web/src/index.ts", "chalk", false),
        ("packages/web/src/index.ts", "zod", true),
        ("packages/ui/src/index.ts", "left-pad", false),
        ("other/x.rs", "zod::x", false),
    ];
    d.attach_importers(externals, &|p| p.ends_with(".test.ts"));
    let zod = d.changes.iter().find(|c| c.name == "zod").unwrap();
    assert_eq!(
        zod.importers,
        vec![
            "packages/web/src/index.ts",
            "packages/web/src/schema.test.ts",
            "packages/web/src/schema.ts"
        ]
    );
    assert_eq!(zod.test_importers, 1);
    // Only schema.ts imports nothing but types (index.ts has a runtime import too).
    assert_eq!(zod.type_only_importers, vec!["packages/web/src/schema.ts"]);
    let lp = d.changes.iter().find(|c| c.name == "left-pad").unwrap();
    assert_eq!(lp.importers, vec!["packages/ui/src/index.ts"]);
    // A removed package has no head importers; a transitive one none by import.
    for name in ["lodash", "supports-color"] {
        let c = d.changes.iter().find(|c| c.name == name).unwrap();
        assert!(c.importers.is_empty(), "{name}");
    }
}

#[test]
fn unchanged_projects_are_not_read_and_test_paths_are_skipped() {
    let r = TestRepo::new();
    r.copy_fixture("lockfiles/npm/base");
    r.write("fixtures/app/package-lock.json", "{ not json");
    r.write("fixtures/app/package.json", "{}");
    r.commit("base");
    r.branch("feature");
    r.write("packages/web/src/index.ts", "export const x = 1;\n");
    r.write("fixtures/app/package-lock.json", "{ still not json");
    r.commit("head");
    let (d, problems) = collect_in(&r, &["**/fixtures/**"]);
    assert_eq!(problems, vec![]);
    assert!(d.changes.is_empty());
    assert_eq!(d.projects.len(), 1);
    assert!(!d.projects[0].changed);
    assert_eq!(d.projects[0].format, None);
}

#[test]
fn an_unreadable_lock_file_is_a_problem_and_the_rest_still_works() {
    let r = TestRepo::new();
    r.copy_fixture("lockfiles/npm/base");
    r.copy_fixture("lockfiles/cargo/base");
    r.commit("base");
    r.branch("feature");
    r.copy_fixture("lockfiles/cargo/head");
    r.copy_fixture("lockfiles/npm/head");
    r.write(
        "package-lock.json",
        "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n",
    );
    r.commit("head");
    let (d, problems) = collect_in(&r, &[]);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "package-lock.json");
    assert_eq!(problems[0].side, "head");
    assert!(
        problems[0]
            .message
            .starts_with("not a valid package-lock.json (line 4"),
        "{}",
        problems[0].message
    );
    // Cargo still diffs; the npm project is listed, its changes are not guessed.
    assert!(d.changes.iter().any(|c| c.name == "clap"));
    assert!(d.changes.iter().all(|c| c.ecosystem == Ecosystem::Cargo));
    assert!(d
        .projects
        .iter()
        .any(|p| p.ecosystem == Ecosystem::Npm && p.changed));
}

#[test]
fn manifests_without_a_lock_file_compare_requirements() {
    let r = TestRepo::new();
    r.write(
        "package.json",
        "{\n  \"name\": \"app\",\n  \"dependencies\": {\n    \"zod\": \"^3.22.0\",\n    \"left-pad\": \"^1.3.0\"\n  }\n}\n",
    );
    r.commit("base");
    r.branch("feature");
    r.write(
        "package.json",
        "{\n  \"name\": \"app\",\n  \"dependencies\": {\n    \"zod\": \"^4.0.0\",\n    \"left-pad\": \"stevemao/left-pad#v1.3.1\",\n    \"react\": \"^18.2.0\"\n  }\n}\n",
    );
    r.commit("head");
    let (d, _) = collect_in(&r, &[]);
    assert_eq!(
        lines(&d),
        vec![
            "left-pad changed ^1.3.0→stevemao/left-pad#v1.3.1 [package.json:5 Prod] registry → git",
            "react added ∅→^18.2.0 [package.json:6 Prod]",
            "zod upgraded ^3.22.0→^4.0.0 (major) [package.json:4 Prod]",
        ]
    );
    assert!(d
        .changes
        .iter()
        .all(|c| !c.resolved && c.lockfile.is_none()));
    // Requirements are not versions: nothing to ask an advisory database about.
    assert!(advisories::queries(&d).is_empty());
}

#[test]
fn every_parser_survives_truncation_and_corruption() {
    let files = [
        ("package-lock.json", fixture("npm/head/package-lock.json")),
        ("pnpm-lock.yaml", fixture("pnpm9/head/pnpm-lock.yaml")),
        ("pnpm-lock.yaml", fixture("pnpm6/head/pnpm-lock.yaml")),
        ("yarn.lock", fixture("yarn1/head/yarn.lock")),
        ("yarn.lock", fixture("berry/head/yarn.lock")),
        ("Cargo.lock", fixture("cargo/head/Cargo.lock")),
    ];
    for (name, text) in &files {
        assert!(parse_lock(name, text).is_ok(), "{name}");
        let b = text.as_bytes();
        for n in (0..b.len()).step_by(7) {
            if let Ok(s) = std::str::from_utf8(&b[..n]) {
                let _ = parse_lock(name, s);
            }
        }
        let mut seed = 11u64;
        for _ in 0..300 {
            let mut m = b.to_vec();
            for _ in 0..4 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % m.len();
                let pool = b"\"'{}[]:,- #\n@/()";
                m[at] = pool[(seed >> 20) as usize % pool.len()];
            }
            if let Ok(s) = std::str::from_utf8(&m) {
                let _ = parse_lock(name, s);
            }
        }
    }
}

#[test]
fn lock_graphs_have_their_edges_and_direct_resolutions() {
    let npm = parse_lock("package-lock.json", &fixture("npm/head/package-lock.json")).unwrap();
    let idx = |l: &Lock, n: &str| l.packages.iter().position(|p| p.name == n).unwrap() as u32;
    let chalk = idx(&npm, "chalk");
    let sc = idx(&npm, "supports-color");
    assert!(npm.packages[chalk as usize].deps.contains(&sc));
    assert_eq!(
        npm.direct("packages/web", "zod", "zod", "^4.0.0"),
        Some(idx(&npm, "zod"))
    );
    assert_eq!(
        npm.packages[idx(&npm, "esbuild") as usize].install_script,
        Some(true)
    );
    let pnpm = parse_lock("pnpm-lock.yaml", &fixture("pnpm9/head/pnpm-lock.yaml")).unwrap();
    assert_eq!(pnpm.version, "9.0");
    assert_eq!(
        pnpm.direct("packages/ui", "left-pad", "left-pad", ""),
        Some(idx(&pnpm, "left-pad"))
    );
    assert!(pnpm.packages[idx(&pnpm, "chalk") as usize]
        .deps
        .contains(&idx(&pnpm, "supports-color")));
    let berry = parse_lock("yarn.lock", &fixture("berry/head/yarn.lock")).unwrap();
    assert_eq!(berry.version, "8");
    assert_eq!(
        berry.direct("packages/web", "zod", "zod", "^4.0.0"),
        Some(idx(&berry, "zod"))
    );
    let classic = parse_lock("yarn.lock", &fixture("yarn1/head/yarn.lock")).unwrap();
    assert_eq!(
        classic.direct("", "typescript", "typescript", "~5.2.2"),
        Some(idx(&classic, "typescript"))
    );
    let cargo = parse_lock("Cargo.lock", &fixture("cargo/head/Cargo.lock")).unwrap();
    assert_eq!(
        cargo.direct("shop-core", "rand", "rand", "0.8"),
        Some(idx(&cargo, "rand"))
    );
    assert!(parse_lock("bun.lockb", "").is_err());
}

#[test]
fn generated_lock_files_of_every_format_parse_whole() {
    for format in testkit::lockfiles::FORMATS {
        let (name, text) = testkit::lockfiles::lock_file(format, 3000, 7);
        assert!(text.lines().count() >= 3000, "{format}");
        let lock = parse_lock(name, &text).unwrap_or_else(|e| panic!("{format}: {e}"));
        let external = lock.packages.iter().filter(|p| !p.local).count();
        let edges: usize = lock.packages.iter().map(|p| p.deps.len()).sum();
        assert!(external > 200, "{format}: {external} packages");
        assert!(
            edges > external,
            "{format}: {edges} edges for {external} packages"
        );
        // The fast YAML reader, not the fallback, reads what package managers write.
        if name == "pnpm-lock.yaml" || *format == "yarn-berry" {
            assert!(lockyaml::parse_fast(&text).is_ok(), "{format}");
        }
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let n = 100_000;
    let toml = format!("version = 4\nx = {}{}\n", "[".repeat(n), "]".repeat(n));
    assert!(parse_lock("Cargo.lock", &toml).is_err());
    let json = format!(
        "{{\"lockfileVersion\": 3, \"packages\": {}{}}}",
        "[".repeat(n),
        "]".repeat(n)
    );
    assert!(parse_lock("package-lock.json", &json).is_err());
    let mut yaml = String::from("lockfileVersion: '9.0'\nx:\n");
    for i in 1..2_000 {
        yaml.push_str(&" ".repeat(i));
        yaml.push_str("a:\n");
    }
    assert!(lockyaml::parse_fast(&yaml)
        .unwrap_err()
        .ends_with("nested too deep"));
    // The fallback reader has its own limit.
    assert!(parse_lock("pnpm-lock.yaml", &yaml).is_err());
    let mut seqs = String::from("a:\n");
    for i in 0..2_000 {
        seqs.push_str(&" ".repeat(2 * i));
        seqs.push_str("- b:\n");
    }
    assert!(lockyaml::parse_fast(&seqs).is_err());
    let flow = format!(
        "lockfileVersion: '9.0'\nx: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    // Refused before the complete YAML reader sees it (serde_yaml takes tens of seconds on
    // this), which the message shows.
    assert!(parse_lock("pnpm-lock.yaml", &flow)
        .unwrap_err()
        .starts_with("not read: line 2: flow collections nested too deep"));
}

#[test]
fn package_lock_v2_reads_like_v3() {
    // v2 also carries npm 6's `dependencies` tree; the `packages` object is the same.
    let v2 = parse_lock("package-lock.json", &fixture("npm-v2/package-lock.json")).unwrap();
    let v3 = parse_lock("package-lock.json", &fixture("npm/head/package-lock.json")).unwrap();
    assert_eq!((v2.version.as_str(), v3.version.as_str()), ("2", "3"));
    let view = |l: &Lock| -> Vec<(String, String, Source, Vec<String>)> {
        l.packages
            .iter()
            .map(|p| {
                let deps = p
                    .deps
                    .iter()
                    .map(|&d| l.packages[d as usize].name.clone())
                    .collect();
                (p.name.clone(), p.version.clone(), p.source.clone(), deps)
            })
            .collect()
    };
    assert_eq!(view(&v2), view(&v3));
}
