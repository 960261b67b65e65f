//! The incremental head graph: built from the base's resolution plus what the change touches, it
//! is exactly the graph of resolving the head on its own — over random edits (files added,
//! removed and renamed, imports changed, a file shadowing a directory index, a missing import
//! appearing, tsconfig `paths` edited) of generated TypeScript and Rust repositories.

use std::collections::BTreeSet;

use engine::git::snapshot::Snapshot;
use engine::git::{Oid, Repo};
use engine::parse::{select_sources, FileSettings, Filters, ParseStore};
use engine::pipeline;
use engine::resolve::memo;
use testkit::synth::{self, Lcg};

use crate::support::TestRepo;

/// Everything a side holds that the graph stage computes, as text (for exact comparison).
fn side_facts(side: &pipeline::Side) -> Vec<String> {
    let g = &side.graph;
    let mut out: Vec<String> = g
        .graph
        .node_indices()
        .map(|n| format!("node {:?}", g.graph[n]))
        .collect();
    out.sort();
    out.extend(
        g.edges()
            .into_iter()
            .map(|(a, b, e)| format!("edge {a} -> {b} {e:?}")),
    );
    out.extend(g.unresolved.iter().map(|u| format!("unresolved {u:?}")));
    out.extend(side.notes.iter().map(|n| format!("note {n}")));
    out.extend(side.limits.iter().map(|n| format!("limit {n}")));
    out.extend(side.packages.iter().map(|p| format!("package {p:?}")));
    out.push(format!("rust crates {:?}", side.rust.as_ref().map(|_| ())));
    out
}

/// The (head, base) facts of `base..head`, built incrementally or each side from scratch.
fn build(repo: &Repo, base: Oid, head: Oid, incremental: bool) -> (Vec<String>, Vec<String>) {
    let files = FileSettings::default();
    let snaps = [
        Snapshot::of_commit(repo, head).unwrap(),
        Snapshot::of_commit(repo, base).unwrap(),
    ];
    let filters = Filters::new(&files);
    let sources = [
        select_sources(&snaps[0], &filters),
        select_sources(&snaps[1], &filters),
    ];
    let mut store = ParseStore::default();
    store.parse(
        repo.git_dir(),
        sources[0].iter().chain(&sources[1]),
        1 << 20,
    );
    let (h, b, _) =
        pipeline::build_sides(repo.git_dir(), snaps, sources, &store, incremental, None);
    (side_facts(&h), side_facts(&b))
}

/// Which way the incremental build takes for `base..head` (0: shared resolver, 1: carried memo,
/// 2: from scratch), and whether the Rust resolution carries over.
fn way(repo: &Repo, base: Oid, head: Oid) -> (usize, bool) {
    let d = memo::delta(
        &Snapshot::of_commit(repo, base).unwrap(),
        &Snapshot::of_commit(repo, head).unwrap(),
    );
    let js = if d.same_js() {
        0
    } else if !d.config {
        1
    } else {
        2
    };
    (js, !d.rust)
}

/// Builds `base..head` both ways and asserts they agree; gives [`way`] and whether the head side
/// has notes.
fn check(r: &TestRepo, base: Oid, head: Oid, what: &str) -> ((usize, bool), bool) {
    let repo = Repo::discover(r.path()).unwrap();
    let inc = build(&repo, base, head, true);
    let scratch = build(&repo, base, head, false);
    for (side, (a, b)) in [
        ("head", (&inc.0, &scratch.0)),
        ("base", (&inc.1, &scratch.1)),
    ] {
        if a != b {
            let (a, b): (BTreeSet<_>, BTreeSet<_>) = (a.iter().collect(), b.iter().collect());
            panic!(
                "{what}: the incremental {side} differs from scratch\nonly incremental: {:#?}\nonly scratch: {:#?}",
                a.difference(&b).collect::<Vec<_>>(),
                b.difference(&a).collect::<Vec<_>>()
            );
        }
    }
    let noted = inc.0.iter().any(|f| f.starts_with("note "));
    (way(&repo, base, head), noted)
}

fn pick<'a>(rng: &mut Lcg, v: &'a [String]) -> &'a String {
    &v[rng.below(v.len() as u64) as usize]
}

fn dir_of(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

/// A relative specifier from the file `from` to the path `to` (as written, no extension change).
fn rel(from: &str, to: &str) -> String {
    let fd: Vec<&str> = dir_of(from).split('/').filter(|c| !c.is_empty()).collect();
    let tp: Vec<&str> = to.split('/').collect();
    let common = fd.iter().zip(&tp).take_while(|(a, b)| a == b).count();
    let mut s = if common == fd.len() {
        "./".to_string()
    } else {
        "../".repeat(fd.len() - common)
    };
    s.push_str(&tp[common..].join("/"));
    s
}

/// Random imports for a TypeScript file at `path`.
fn ts_source(rng: &mut Lcg, path: &str, files: &[String], modules: &[String], n: u64) -> String {
    let mut src = String::new();
    for _ in 0..2 + rng.below(5) {
        let spec = match rng.below(12) {
            0..=2 => rel(path, pick(rng, files).trim_end_matches(".ts")),
            // The `.js` spelling of a TypeScript file.
            3 => rel(path, &pick(rng, files).replace(".ts", ".js")),
            // A directory module (its index), from anywhere.
            4 if !modules.is_empty() => rel(path, pick(rng, modules)),
            // A sibling that does not exist yet (`ghost` files appear later).
            5 => format!("./ghost{}", rng.below(3)),
            6 => format!("@synth/p{}", rng.below(2)),
            7 => {
                let p0: Vec<String> = files
                    .iter()
                    .filter(|f| f.starts_with("packages/p0/src/"))
                    .cloned()
                    .collect();
                match p0.is_empty() {
                    true => "@core/nothing".into(),
                    false => format!(
                        "@core/{}",
                        pick(rng, &p0)
                            .trim_start_matches("packages/p0/src/")
                            .trim_end_matches(".ts")
                    ),
                }
            }
            8 => "..".into(),
            9 => "node:fs".into(),
            _ => "react".into(),
        };
        src.push_str(&format!("import {{ x }} from \"{spec}\";\n"));
    }
    src.push_str(&format!("export const x = {n};\n"));
    src
}

#[test]
fn incremental_typescript_head_graph_equals_scratch() {
    let r = TestRepo::new();
    let mut rng = Lcg::new(7);
    let mut files: Vec<String> = Vec::new();
    for (p, c) in synth::typescript_monorepo(60, 3) {
        // Two packages: the generator spreads files over (files / 500) of them.
        let p = p.replace("packages/p0/src/d7", "packages/p1/src/d7");
        if p.ends_with(".ts") {
            files.push(p.clone());
        }
        r.write(&p, c);
    }
    r.write(
        "packages/p1/package.json",
        "{ \"name\": \"@synth/p1\", \"types\": \"./src/index.ts\" }\n",
    );
    // A tsconfig that cannot be loaded (its `extends` names a package that is not installed):
    // files under it make a note.
    r.write(
        "packages/p1/tsconfig.json",
        "{ \"extends\": \"@tsconfig/absent/tsconfig.json\" }\n",
    );
    // The same, for files with relative imports only (their notes come with carried entries).
    r.write(
        "tools/tsconfig.json",
        "{ \"extends\": \"@tsconfig/gone\" }\n",
    );
    r.write("tools/a.ts", "import { b } from \"./b\";\n");
    r.write("tools/b.ts", "export const b = 1;\n");
    r.write("packages/p1/src/index.ts", "export * from \"./d7/s0/x\";\n");
    files.push("packages/p1/src/index.ts".into());
    let mut modules: Vec<String> = Vec::new();
    let mut base = r.commit("base");
    let mut ways = BTreeSet::new();
    for step in 0..24u64 {
        let mut did = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let n = step * 10 + rng.below(10);
            match rng.below(10) {
                // Add a file in an existing directory or a new one.
                0 => {
                    let dir = match rng.below(3) {
                        0 => format!("packages/p{}/src/new{n}", rng.below(2)),
                        _ => dir_of(pick(&mut rng, &files)).to_string(),
                    };
                    let p = format!("{dir}/added{n}.ts");
                    let src = ts_source(&mut rng, &p, &files, &modules, n);
                    r.write(&p, src);
                    files.push(p.clone());
                    did.push(format!("add {p}"));
                }
                1 if files.len() > 10 => {
                    let i = rng.below(files.len() as u64) as usize;
                    let p = files.remove(i);
                    r.remove(&p);
                    did.push(format!("remove {p}"));
                }
                2 => {
                    let i = rng.below(files.len() as u64) as usize;
                    let to = format!("{}/renamed{n}.ts", dir_of(pick(&mut rng, &files)));
                    let from = std::mem::replace(&mut files[i], to.clone());
                    r.rename(&from, &to);
                    did.push(format!("rename {from} {to}"));
                }
                // New imports.
                3 | 4 => {
                    let p = pick(&mut rng, &files).clone();
                    let src = ts_source(&mut rng, &p, &files, &modules, n);
                    r.write(&p, src);
                    did.push(format!("imports of {p}"));
                }
                // A directory module (`dir/mN/index.ts`), imported from its directory.
                5 => {
                    let importer = pick(&mut rng, &files).clone();
                    let m = format!("{}/m{n}", dir_of(&importer));
                    r.write(&format!("{m}/index.ts"), "export const x = 1;\n");
                    files.push(format!("{m}/index.ts"));
                    let mut src = std::fs::read_to_string(r.path().join(&importer)).unwrap();
                    src.insert_str(0, &format!("import {{ x as m }} from \"./m{n}\";\n"));
                    r.write(&importer, src);
                    modules.push(m.clone());
                    did.push(format!("module {m}"));
                }
                // A file that shadows a directory module's index (`mN.ts` beside `mN/`), or a
                // sibling of another extension.
                6 => {
                    if !modules.is_empty() && rng.below(2) == 0 {
                        let m = pick(&mut rng, &modules).clone();
                        let p = format!("{m}.ts");
                        r.write(&p, "export const x = 2;\n");
                        files.push(p.clone());
                        did.push(format!("shadow {p}"));
                    } else {
                        let p = pick(&mut rng, &files).clone();
                        let ext = [".tsx", ".d.ts", ".js"][rng.below(3) as usize];
                        let s = p.replace(".ts", ext);
                        r.write(&s, "export const x = 3;\n");
                        did.push(format!("sibling {s}"));
                    }
                }
                // A missing import appears.
                7 => {
                    let p = format!(
                        "{}/ghost{}.ts",
                        dir_of(pick(&mut rng, &files)),
                        rng.below(3)
                    );
                    r.write(&p, "export const x = 4;\n");
                    if !files.contains(&p) {
                        files.push(p.clone());
                    }
                    did.push(format!("ghost {p}"));
                }
                // tsconfig `paths` moves to the other package.
                8 => {
                    let to = rng.below(2);
                    r.write(
                        "tsconfig.json",
                        format!("{{ \"compilerOptions\": {{ \"baseUrl\": \".\", \"paths\": {{ \"@core/*\": [\"packages/p{to}/src/*\"] }} }} }}\n"),
                    );
                    did.push(format!("tsconfig p{to}"));
                }
                // An edit in place.
                _ => {
                    let p = pick(&mut rng, &files).clone();
                    let mut src = std::fs::read_to_string(r.path().join(&p)).unwrap();
                    src.push_str(&format!("export const y{n} = {n};\n"));
                    r.write(&p, src);
                    did.push(format!("edit {p}"));
                }
            }
        }
        let head = r.commit(&format!("step {step}"));
        let ((js, _), noted) = check(&r, base, head, &format!("step {step}: {did:?}"));
        ways.insert((js, noted));
        base = head;
    }
    // Each way was taken: shared resolver, carried memo, from scratch; the carried one with the
    // note of the tsconfig that cannot be loaded.
    let js: BTreeSet<usize> = ways.iter().map(|w| w.0).collect();
    assert_eq!(js, BTreeSet::from([0, 1, 2]));
    assert!(ways.contains(&(1, true)), "{ways:?}");
}

#[test]
fn incremental_rust_head_graph_equals_scratch() {
    let r = TestRepo::new();
    let mut rng = Lcg::new(11);
    let mut files: Vec<String> = Vec::new();
    for (p, c) in synth::rust_workspace(40) {
        // Three crates are enough (the workspace lists ten: the others are absent members).
        if p.starts_with("crates/c")
            && !["crates/c0/", "crates/c1/", "crates/c2/"]
                .iter()
                .any(|c| p.starts_with(c))
        {
            continue;
        }
        if p.ends_with(".rs") && !p.ends_with("lib.rs") && !p.ends_with("mod.rs") {
            files.push(p.clone());
        }
        r.write(&p, c);
    }
    r.write("README.md", "# synth\n");
    r.write("web/a.ts", "import { b } from \"./b\";\n");
    r.write("web/b.ts", "export const b = 1;\n");
    let mut base = r.commit("base");
    let mut ways = BTreeSet::new();
    for step in 0..16u64 {
        let mut did = Vec::new();
        let n = step;
        match rng.below(7) {
            // A new module: its file and its `pub mod` line.
            0 => {
                let f = pick(&mut rng, &files).clone();
                let dir = dir_of(&f).to_string();
                let p = format!("{dir}/new{n}.rs");
                r.write(
                    &p,
                    format!("use super::f0::Item0;\npub struct New{n}(pub Item0);\n"),
                );
                let modrs = format!("{dir}/mod.rs");
                let mut m = std::fs::read_to_string(r.path().join(&modrs)).unwrap();
                m.push_str(&format!("pub mod new{n};\n"));
                r.write(&modrs, m);
                files.push(p.clone());
                did.push(format!("module {p}"));
            }
            // A module file removed (its `mod` line stays: it names nothing now).
            1 if files.len() > 4 => {
                let i = rng.below(files.len() as u64) as usize;
                let p = files.remove(i);
                r.remove(&p);
                did.push(format!("remove {p}"));
            }
            // New `use` lines.
            2 => {
                let p = pick(&mut rng, &files).clone();
                let mut src = std::fs::read_to_string(r.path().join(&p)).unwrap();
                let g = rng.below(10);
                src.insert_str(0, &format!("use crate::g{g}::f0::Item0 as U{n};\n"));
                r.write(&p, src);
                did.push(format!("use in {p}"));
            }
            // Nothing Rust reads: a document, a TypeScript file.
            3 => {
                r.write("README.md", format!("# synth {n}\n"));
                did.push("readme".into());
            }
            4 => {
                r.write(&format!("web/c{n}.ts"), "import { b } from \"./b\";\n");
                did.push("ts file".into());
            }
            // A `mod` declaration without its file.
            5 => {
                let f = pick(&mut rng, &files).clone();
                let modrs = format!("{}/mod.rs", dir_of(&f));
                let mut m = std::fs::read_to_string(r.path().join(&modrs)).unwrap();
                m.push_str(&format!("pub mod absent{n};\n"));
                r.write(&modrs, m);
                did.push(format!("absent module in {modrs}"));
            }
            // A dependency dropped from a manifest.
            _ => {
                r.write(
                    "crates/c2/Cargo.toml",
                    format!("[package]\nname = \"crate-2\"\nversion = \"0.1.{n}\"\n"),
                );
                did.push("manifest".into());
            }
        }
        let head = r.commit(&format!("step {step}"));
        ways.insert(check(&r, base, head, &format!("step {step}: {did:?}")).0 .1);
        base = head;
    }
    // Both ways were taken: the base's Rust resolution carried over, and resolved again.
    assert_eq!(ways, BTreeSet::from([false, true]));
}
