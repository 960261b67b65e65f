//! Rust: crates from Cargo.toml, module trees, `use` paths, workspaces, impact on Rust files.

use std::collections::BTreeSet;

use pr_risk::config::Config;
use pr_risk::graph_dump::graph_json;
use pr_risk::pipeline::side_at;

use crate::support::TestRepo;

/// (from, to, kind, line) of every edge of the graph at `rev`.
fn edges(r: &TestRepo, rev: &str) -> (BTreeSet<(String, String, String, u64)>, serde_json::Value) {
    let side = side_at(r.path(), rev, &Config::default()).expect("graph");
    let g = graph_json(&side);
    let set = g["edges"]
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
        (p(core, "lib.rs"), p(core, "shapes/mod.rs"), "re-export", 9),
        (p(core, "lib.rs"), p(core, "shapes/circle.rs"), "re-export", 9),
        (p(core, "lib.rs"), p(core, "shapes/square.rs"), "re-export", 9),
        (p(core, "lib.rs"), p(core, "units/metric.rs"), "re-export", 10),
        (p(core, "lib.rs"), p(core, "units.rs"), "re-export", 14),
        (p(core, "lib.rs"), p(core, "platform/native.rs"), "path", 18),
        (p(core, "shapes/mod.rs"), p(core, "shapes/circle.rs"), "re-export", 4),
        (p(core, "shapes/mod.rs"), p(core, "shapes/square.rs"), "re-export", 5),
        (p(core, "shapes/circle.rs"), p(core, "units/metric.rs"), "use", 1),
        (p(core, "shapes/circle.rs"), p(core, "platform/native.rs"), "path", 9),
        (p(core, "shapes/square.rs"), p(core, "units.rs"), "use", 1),
        (p(core, "units.rs"), p(core, "units/metric.rs"), "mod", 1),
        (p(core, "units/metric.rs"), p(core, "units.rs"), "path", 4),
        // A file loaded by #[path] owns its directory: `mod detail;` is platform/detail.rs.
        (p(core, "platform/native.rs"), p(core, "platform/detail.rs"), "path", 3),
        // geo-render ([lib] name = "render"): `geo` is geo-core renamed; fmt-helpers is a
        // registry dependency that [patch.crates-io] redirects into the workspace.
        (p(render, "lib.rs"), p(render, "canvas.rs"), "re-export", 5),
        (p(render, "lib.rs"), p(core, "lib.rs"), "use", 6),
        (p(render, "lib.rs"), p(core, "units/metric.rs"), "use", 6),
        (p(render, "lib.rs"), p(core, "units.rs"), "use", 6),
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
        ("crates/geo-core/src/lib.rs", "mod nightly", "missing"),
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
    // Re-exported by shapes/mod.rs and lib.rs, so everything that reaches geo-core's root is
    // downstream; the integration test is counted apart.
    assert_eq!(
        files[0]["dependents"],
        serde_json::json!([
            "crates/geo-core/src/lib.rs",
            "crates/geo-core/src/shapes/mod.rs",
            "crates/geo-render/src/svg.rs",
            "app/src/main.rs",
            "crates/geo-render/src/lib.rs",
            "crates/geo-render/src/main.rs",
            "app/src/cli.rs",
        ])
    );
    assert_eq!(files[0]["tests"], 1);
}
