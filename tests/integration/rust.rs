//! Rust: crates from Cargo.toml, module trees, `use` paths, workspaces, impact on Rust files.

use std::collections::BTreeSet;

use engine::git::Repo;
use engine::parse::FileSettings;
use engine::pipeline::side_at;

use crate::support::{RunPrRisk, TestRepo};

/// (from, to, kind, line) of every edge of the graph at `rev`.
fn edges(r: &TestRepo, rev: &str) -> (BTreeSet<(String, String, String, u64)>, serde_json::Value) {
    let repo = Repo::discover(r.path()).unwrap();
    let side = side_at(&repo, rev, &FileSettings::default()).expect("graph");
    let g = serde_json::to_value(side.graph.data()).unwrap();
    let set = g["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    (set, g)
}

fn unresolved(g: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    g["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["from"].as_str().unwrap().to_string(),
                u["specifier"].as_str().unwrap().to_string(),
                u["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn workspace_fixture_gives_the_exact_edge_set() {
    let r = TestRepo::new();
    r.copy_fixture("rust-workspace");
    r.commit("workspace");
    let (got, g) = edges(&r, "HEAD");
    let core = "crates/geo-core/src";
    let render = "crates/geo-render/src";
    let p = |root: &str, f: &str| format!("{root}/{f}");
    #[rustfmt::skip]
    let rows: Vec<(String, String, &str, u64)> = vec![
        // geo-core: mod.rs (shapes/) and non-mod-rs (units.rs + units/metric.rs) layouts, #[path],
        // an inline `prelude` module, `pub use` chains and a glob re-export.
        (p(core, "lib.rs"), p(core, "shapes/mod.rs"), "pub-use", 9),
        (p(core, "lib.rs"), p(core, "shapes/circle.rs"), "pub-use", 9),
        (p(core, "lib.rs"), p(core, "shapes/square.rs"), "pub-use", 9),
        (p(core, "lib.rs"), p(core, "units/metric.rs"), "pub-use", 10),
        (p(core, "lib.rs"), p(core, "units.rs"), "pub-use", 14),
        (p(core, "lib.rs"), p(core, "platform/native.rs"), "path", 18),
        (p(core, "shapes/mod.rs"), p(core, "shapes/circle.rs"), "pub-use", 4),
        (p(core, "shapes/mod.rs"), p(core, "shapes/square.rs"), "pub-use", 5),
        (p(core, "shapes/circle.rs"), p(core, "units/metric.rs"), "use", 1),
        (p(core, "shapes/circle.rs"), p(core, "platform/native.rs"), "path", 9),
        (p(core, "shapes/square.rs"), p(core, "units.rs"), "use", 1),
        (p(core, "units.rs"), p(core, "units/metric.rs"), "mod", 1),
        (p(core, "units/metric.rs"), p(core, "units.rs"), "path", 4),
        // A file loaded by #[path] owns its directory: `mod detail;` is platform/detail.rs.
        (p(core, "platform/native.rs"), p(core, "platform/detail.rs"), "path", 3),
        // geo-render ([lib] name = "render"): `geo` is geo-core renamed; fmt-helpers is a
        // registry dependency that [patch.crates-io] redirects into the workspace.
        (p(render, "lib.rs"), p(render, "canvas.rs"), "pub-use", 5),
        (p(render, "lib.rs"), p(core, "lib.rs"), "use", 6),
        (p(render, "lib.rs"), p(core, "units/metric.rs"), "use", 6),
        (p(render, "lib.rs"), p(core, "units.rs"), "use", 6),
        // `geo::prelude::*` brings what the prelude re-exports, through its own glob too.
        (p(render, "lib.rs"), p(core, "shapes/mod.rs"), "use", 6),
        (p(render, "lib.rs"), p(core, "shapes/circle.rs"), "use", 6),
        (p(render, "lib.rs"), p(core, "shapes/square.rs"), "use", 6),
        (p(render, "lib.rs"), p(render, "svg.rs"), "path", 11),
        (p(render, "lib.rs"), "crates/fmt-helpers/src/lib.rs".into(), "path", 11),
        // An inline module in a non-mod-rs file: canvas.rs + `mod layers { mod grid; }`.
        (p(render, "canvas.rs"), p(render, "canvas/layers/grid.rs"), "path", 6),
        (p(render, "svg.rs"), p(core, "lib.rs"), "path", 5),
        (p(render, "svg.rs"), p(core, "shapes/mod.rs"), "path", 5),
        (p(render, "svg.rs"), p(core, "shapes/square.rs"), "path", 5),
        // The binary uses its own library by its lib name.
        (p(render, "main.rs"), p(render, "lib.rs"), "use", 1),
        (p(render, "main.rs"), p(render, "canvas.rs"), "use", 1),
        (p(render, "main.rs"), p(core, "lib.rs"), "path", 5),
        (p(render, "main.rs"), p(core, "shapes/mod.rs"), "path", 5),
        (p(render, "main.rs"), p(core, "shapes/circle.rs"), "path", 5),
        (p(render, "main.rs"), p(core, "units/metric.rs"), "path", 5),
        // The integration test.
        ("crates/geo-render/tests/render.rs".into(), p(render, "svg.rs"), "use", 1),
        ("crates/geo-render/tests/render.rs".into(), p(core, "lib.rs"), "path", 6),
        ("crates/geo-render/tests/render.rs".into(), p(core, "shapes/mod.rs"), "path", 6),
        ("crates/geo-render/tests/render.rs".into(), p(core, "shapes/circle.rs"), "path", 6),
        ("crates/geo-render/tests/render.rs".into(), p(core, "units/metric.rs"), "path", 6),
        ("crates/geo-render/tests/render.rs".into(), p(render, "lib.rs"), "path", 7),
        // app: geo-core through `workspace = true` (as geo_core), geo-render as `render`.
        ("app/src/main.rs".into(), "app/src/cli.rs".into(), "path", 10),
        ("app/src/main.rs".into(), p(core, "lib.rs"), "use", 5),
        ("app/src/main.rs".into(), p(core, "shapes/mod.rs"), "use", 5),
        ("app/src/main.rs".into(), p(core, "shapes/circle.rs"), "use", 5),
        ("app/src/main.rs".into(), p(core, "units/metric.rs"), "use", 5),
        ("app/src/main.rs".into(), p(render, "lib.rs"), "path", 12),
        ("app/src/cli.rs".into(), "app/src/main.rs".into(), "path", 2),
    ];
    let want: BTreeSet<(String, String, String, u64)> = rows
        .into_iter()
        .map(|(a, b, k, l)| (a, b, k.to_string(), l))
        .collect();
    let extra: Vec<_> = got.difference(&want).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "unexpected edges: {extra:#?}\nmissing edges: {missing:#?}\nunresolved: {:#?}",
        unresolved(&g)
    );
    let want_unresolved: BTreeSet<(String, String, String)> = [
        ("app/src/main.rs", "extern crate serde", "external"),
        // Excluded from the workspace: the patch does not apply, fmt-helpers is the registry's.
        (
            "crates/experimental/src/lib.rs",
            "fmt_helpers::pad",
            "external",
        ),
        // cfg-gated module without a file.
        (
            "crates/geo-core/src/lib.rs",
            "mod nightly #[cfg(feature = \"nightly\")]",
            "missing",
        ),
        (
            "crates/geo-core/src/platform/detail.rs",
            "std::f64::consts::PI",
            "builtin",
        ),
        (
            "crates/geo-core/src/units/metric.rs",
            "serde::Serialize",
            "external",
        ),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(unresolved(&g), want_unresolved);
}

#[test]
fn dependents_of_a_changed_rust_file() {
    let r = TestRepo::new();
    r.copy_fixture("rust-workspace");
    r.commit("workspace");
    r.branch("feature");
    r.write(
        "crates/geo-core/src/shapes/square.rs",
        "use super::super::units::Length;\n\npub struct Square {\n    pub side: f64,\n}\n\nimpl Length for Square {\n    fn meters(&self) -> f64 {\n        self.side * 1.0\n    }\n}\n",
    );
    r.commit("square sides");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let files = &v["dimensions"]["impact"]["evidence"]["files"];
    assert_eq!(files[0]["path"], "crates/geo-core/src/shapes/square.rs");
    // shapes/mod.rs and lib.rs re-export it (dependents that do not propagate: whoever uses
    // `Square` through them has its own edge); svg.rs names it, render's lib.rs glob-imports it,
    // and their dependents follow. The integration test is counted apart.
    assert_eq!(
        files[0]["dependents"],
        serde_json::json!([
            "crates/geo-core/src/lib.rs",
            "crates/geo-core/src/shapes/mod.rs",
            "crates/geo-render/src/lib.rs",
            "crates/geo-render/src/svg.rs",
            "app/src/main.rs",
            "crates/geo-render/src/main.rs",
            "app/src/cli.rs",
        ])
    );
    assert_eq!(files[0]["tests"], 1);
}

#[test]
fn mixed_repository_gives_one_graph_and_macros_never_crash() {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"mixed-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntokio = \"1\"\n",
    )
    .write(
        "src/lib.rs",
        "macro_rules! cfg_rt {\n    ($($item:item)*) => { $( #[cfg(feature = \"rt\")] $item )* };\n}\ncfg_rt! {\n    pub mod rt;\n    pub use crate::rt::spawn;\n}\n#[cfg(windows)]\nmod win;\nmod broken;\npub mod api;\n",
    )
    .write("src/rt.rs", "pub fn spawn() { tokio::spawn(async {}); }\n")
    .write("src/broken.rs", "fn ( {{ mod ; use crate::{ ;; impl for <> \u{1F600}\n")
    .write(
        "src/api.rs",
        "pub fn handler() -> &'static str { crate::rt::spawn(); \"ok\" }\n",
    )
    .write(
        "web/src/client.ts",
        "export const call = () => fetch('/api');\n",
    )
    .write(
        "web/src/index.ts",
        "import { call } from './client';\ncall();\n",
    );
    r.commit("mixed");
    let (got, g) = edges(&r, "HEAD");
    let want: BTreeSet<(String, String, String, u64)> = [
        ("src/lib.rs", "src/rt.rs", "pub-use", 6),
        ("src/lib.rs", "src/broken.rs", "mod", 10),
        ("src/lib.rs", "src/api.rs", "mod", 11),
        ("src/api.rs", "src/rt.rs", "path", 1),
        ("web/src/index.ts", "web/src/client.ts", "import", 1),
    ]
    .iter()
    .map(|(a, b, k, l)| (a.to_string(), b.to_string(), k.to_string(), *l))
    .collect();
    assert_eq!(got, want);
    let un = unresolved(&g);
    assert!(un.contains(&(
        "src/lib.rs".to_string(),
        "mod win #[cfg(windows)]".to_string(),
        "missing".to_string()
    )));
    assert!(un.contains(&(
        "src/rt.rs".to_string(),
        "tokio::spawn".to_string(),
        "external".to_string()
    )));
    // Scoring works on the mixed repository: a Rust change reaches Rust dependents only.
    r.branch("feature");
    r.write(
        "src/rt.rs",
        "pub fn spawn() { tokio::spawn(async { 1 }); }\n",
    );
    r.commit("change rt");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let files = &v["dimensions"]["impact"]["evidence"]["files"];
    assert_eq!(
        files[0]["dependents"],
        serde_json::json!(["src/api.rs", "src/lib.rs"])
    );
}

#[test]
fn files_outside_any_crate_tree_still_resolve() {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"loose\"\nversion = \"0.1.0\"\n",
    )
    .write("src/lib.rs", "pub mod a;\n")
    .write("src/a.rs", "pub struct A;\n")
    // Not declared by any module (a leftover, or declared by a macro pr-risk cannot expand).
    .write("src/a/orphan.rs", "use crate::a::A;\nuse super::A as B;\n")
    // No Cargo.toml at all above it: its own crate.
    .write(
        "scripts/tool.rs",
        "mod helper;\nfn main() { helper::go(); }\n",
    )
    .write("scripts/helper.rs", "pub fn go() {}\n");
    r.commit("loose");
    let (got, g) = edges(&r, "HEAD");
    let want: BTreeSet<(String, String, String, u64)> = [
        ("src/lib.rs", "src/a.rs", "mod", 1),
        ("src/a/orphan.rs", "src/a.rs", "use", 1),
        ("scripts/tool.rs", "scripts/helper.rs", "path", 2),
    ]
    .iter()
    .map(|(a, b, k, l)| (a.to_string(), b.to_string(), k.to_string(), *l))
    .collect();
    assert_eq!(got, want);
    assert!(g["unresolved"].as_array().unwrap().is_empty());
}

#[test]
fn crate_roots_follow_cargo_target_rules() {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"multi-tool\"\nversion = \"0.1.0\"\nbuild = \"scripts/build.rs\"\n\n[lib]\nname = \"mt\"\npath = \"lib/root.rs\"\n\n[[bin]]\nname = \"tool\"\npath = \"tools/tool.rs\"\n\n[build-dependencies]\ngen = { path = \"gen\", package = \"code-gen\" }\n",
    )
    .write("lib/root.rs", "pub mod util;\n")
    .write("lib/util.rs", "pub fn help() {}\n")
    .write("tools/tool.rs", "fn main() { mt::util::help(); }\n")
    .write(
        "src/bin/multi/main.rs",
        "mod helper;\nfn main() { helper::go(); }\n",
    )
    .write("src/bin/multi/helper.rs", "pub fn go() { mt::util::help(); }\n")
    .write("examples/demo.rs", "use mt::util;\nfn main() { util::help(); }\n")
    .write("scripts/build.rs", "fn main() { gen::emit(); }\n")
    .write(
        "gen/Cargo.toml",
        "[package]\nname = \"code-gen\"\nversion = \"0.1.0\"\n",
    )
    .write("gen/src/lib.rs", "pub fn emit() {}\n");
    r.commit("targets");
    let (got, g) = edges(&r, "HEAD");
    let want: BTreeSet<(String, String, String, u64)> = [
        ("lib/root.rs", "lib/util.rs", "mod", 1),
        ("tools/tool.rs", "lib/util.rs", "path", 1),
        (
            "src/bin/multi/main.rs",
            "src/bin/multi/helper.rs",
            "path",
            2,
        ),
        ("src/bin/multi/helper.rs", "lib/util.rs", "path", 1),
        ("examples/demo.rs", "lib/util.rs", "use", 1),
        ("scripts/build.rs", "gen/src/lib.rs", "path", 1),
    ]
    .iter()
    .map(|(a, b, k, l)| (a.to_string(), b.to_string(), k.to_string(), *l))
    .collect();
    assert_eq!(got, want);
    assert!(g["unresolved"].as_array().unwrap().is_empty());
}
