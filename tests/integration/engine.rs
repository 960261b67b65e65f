//! The engine end to end: revisions, change set, graph, impact, report, exit codes.

use std::collections::BTreeSet;

use engine::git::Repo;
use engine::graph::UnresolvedKind;
use engine::parse::FileSettings;
use engine::pipeline;
use serde_json::{json, Value};

use crate::support::{RunPrRisk, TestRepo};

/// The graph of `rev`, as `pr-risk graph` builds it.
fn side(r: &TestRepo, rev: &str) -> pipeline::Side {
    let repo = Repo::discover(r.path()).unwrap();
    pipeline::side_at(&repo, rev, &FileSettings::default()).unwrap()
}

/// Every (importer, imported) edge of the graph at `rev`.
fn edges(r: &TestRepo, rev: &str) -> BTreeSet<(String, String)> {
    side(r, rev)
        .graph
        .edges()
        .into_iter()
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

pub(crate) fn monorepo() -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture("ts-monorepo");
    r.commit("initial monorepo");
    r
}

const MONOREPO_EDGES: &[(&str, &str)] = &[
    // `@acme/ui/button` through the package's `exports` subpath.
    ("apps/web/src/main.tsx", "packages/ui/src/button.tsx"),
    // `@acme/ui`: exports point at dist/ (not in the repo), so the package source is used.
    ("apps/web/src/main.tsx", "packages/ui/src/index.ts"),
    // `@acme/lib` through `main`.
    ("apps/web/src/main.tsx", "packages/lib/src/index.ts"),
    ("apps/web/src/main.tsx", "apps/web/src/styles.css"),
    // `/// <reference path>` and dynamic `import("~/pages/checkout")` through tsconfig `paths`.
    ("apps/web/src/main.tsx", "apps/web/src/globals.d.ts"),
    ("apps/web/src/main.tsx", "apps/web/src/pages/checkout.tsx"),
    ("apps/web/src/pages/checkout.tsx", "apps/web/src/cart.js"),
    (
        "apps/web/src/pages/checkout.tsx",
        "apps/web/src/config.json",
    ),
    // `require()` of a workspace package and of a `.cjs` file.
    ("apps/web/src/cart.js", "packages/lib/src/index.ts"),
    ("apps/web/src/cart.js", "apps/web/src/legacy.cjs"),
    ("apps/web/src/cart.test.ts", "apps/web/src/cart.js"),
    // `import("./pages/checkout").default` in a type position.
    ("apps/web/src/util.ts", "apps/web/src/pages/checkout.tsx"),
    // Re-exports; `./pricing.js` names the TypeScript source.
    ("packages/lib/src/index.ts", "packages/lib/src/pricing.ts"),
    ("packages/lib/src/index.ts", "packages/lib/src/types.ts"),
    ("packages/lib/src/pricing.ts", "packages/lib/src/types.ts"),
    // `@shared/*` from tsconfig.base.json, reached through `extends: "@acme/tsconfig/base.json"`.
    ("packages/lib/src/pricing.ts", "packages/shared/src/math.ts"),
    ("packages/ui/src/index.ts", "packages/ui/src/button.tsx"),
    ("packages/ui/src/index.ts", "packages/ui/src/card.tsx"),
    // `./theme/index.js` and `./theme` (directory index).
    (
        "packages/ui/src/button.tsx",
        "packages/ui/src/theme/index.ts",
    ),
    ("packages/ui/src/card.tsx", "packages/ui/src/button.tsx"),
    ("packages/ui/src/card.tsx", "packages/ui/src/theme/index.ts"),
];

#[test]
fn monorepo_edge_set_is_exact() {
    let r = monorepo();
    assert_eq!(edges(&r, "HEAD"), set(MONOREPO_EDGES));
}

#[test]
fn monorepo_unresolved_imports_are_kept_as_facts() {
    let r = monorepo();
    let side = side(&r, "HEAD");
    let got: BTreeSet<(String, String, UnresolvedKind)> = side
        .graph
        .unresolved
        .iter()
        .map(|u| (u.from.clone(), u.specifier.clone(), u.kind))
        .collect();
    use engine::graph::UnresolvedKind::{Builtin, External, Missing};
    let want: BTreeSet<(String, String, UnresolvedKind)> = [
        ("apps/web/src/main.tsx", "react", External),
        ("apps/web/src/util.ts", "node:fs", Builtin),
        ("apps/web/src/util.ts", "./does-not-exist", Missing),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn type_only_imports_are_marked() {
    let r = monorepo();
    let side = side(&r, "HEAD");
    let type_only: BTreeSet<(String, String)> = side
        .graph
        .edges()
        .into_iter()
        .filter(|(_, _, e)| e.type_only)
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(
        type_only,
        set(&[
            ("apps/web/src/main.tsx", "apps/web/src/globals.d.ts"),
            ("apps/web/src/util.ts", "apps/web/src/pages/checkout.tsx"),
            ("packages/lib/src/index.ts", "packages/lib/src/types.ts"),
            ("packages/lib/src/pricing.ts", "packages/lib/src/types.ts"),
        ])
    );
}

#[test]
fn pnpm_workspace_packages_resolve() {
    let r = TestRepo::new();
    r.write("package.json", r#"{"name":"root","private":true}"#)
        .write(
            "pnpm-workspace.yaml",
            "packages:\n  - 'libs/*'\n  - '!libs/ignored'\n",
        )
        .write(
            "libs/core/package.json",
            r#"{"name":"@x/core","types":"./src/index.ts"}"#,
        )
        .write("libs/core/src/index.ts", "export const a = 1;\n")
        .write(
            "libs/ignored/package.json",
            r#"{"name":"@x/ignored","main":"index.ts"}"#,
        )
        .write("libs/ignored/index.ts", "export const b = 1;\n")
        .write(
            "app/main.ts",
            "import { a } from '@x/core';\nimport { b } from '@x/ignored';\n",
        );
    r.commit("pnpm");
    assert_eq!(
        edges(&r, "HEAD"),
        set(&[("app/main.ts", "libs/core/src/index.ts")])
    );
}

/// The monorepo with a change to the pricing module, the theme, and a new, a deleted and a
/// renamed file.
pub(crate) fn monorepo_pr() -> TestRepo {
    let r = monorepo();
    r.branch("feature");
    r.write(
        "packages/lib/src/pricing.ts",
        "import type { Money } from \"./types\";\nimport { round } from \"@shared/math\";\n\nexport const price = (m: Money): number => round(m.cents / 100) * 1.2;\n",
    );
    r.write(
        "packages/ui/src/theme/index.ts",
        "export const tokens = { color: \"navy\" };\n",
    );
    r.write(
        "apps/web/src/new-page.tsx",
        "import { Card } from \"@acme/ui\";\nexport const P = () => <Card />;\n",
    );
    r.remove("apps/web/src/legacy.cjs");
    r.write("apps/web/src/cart.js", "const { price } = require(\"@acme/lib\");\n\nmodule.exports.total = (items) => items.reduce((a, i) => a + price(i), 0);\n");
    r.rename(
        "packages/shared/src/math.ts",
        "packages/shared/src/numbers.ts",
    );
    r.write("packages/lib/src/pricing.ts", "import type { Money } from \"./types\";\nimport { round } from \"@shared/numbers\";\n\nexport const price = (m: Money): number => round(m.cents / 100) * 1.2;\n");
    r.commit("reprice, retheme, add a page, drop legacy, rename math");
    r
}

#[test]
fn change_set_statuses_and_lines() {
    let r = monorepo_pr();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let files: Vec<(String, String)> = v["change"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            ("apps/web/src/cart.js".into(), "modified".into()),
            ("apps/web/src/legacy.cjs".into(), "deleted".into()),
            ("apps/web/src/new-page.tsx".into(), "added".into()),
            ("packages/lib/src/pricing.ts".into(), "modified".into()),
            ("packages/shared/src/numbers.ts".into(), "renamed".into()),
            ("packages/ui/src/theme/index.ts".into(), "modified".into()),
        ]
    );
    let renamed = &v["change"]["files"][4];
    assert_eq!(renamed["old_path"], "packages/shared/src/math.ts");
    assert_eq!(renamed["similarity"], 100);
    let pricing = &v["change"]["files"][3];
    assert_eq!(
        pricing["added_lines"],
        json!([{"start": 2, "end": 2}, {"start": 4, "end": 4}])
    );
    assert_eq!(
        pricing["removed_lines"],
        json!([{"start": 2, "end": 2}, {"start": 4, "end": 4}])
    );
    assert_eq!(pricing["additions"], 2);
    assert_eq!(v["change"]["additions"], 6);
    assert_eq!(v["change"]["deletions"], 6);
}

fn impact_file<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["dimensions"]["impact"]["evidence"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in impact evidence"))
}

#[test]
fn dependents_of_each_changed_file() {
    let r = monorepo_pr();
    let (_, v) = r.score_json(&["--base", "main"]);
    let pricing = impact_file(&v, "packages/lib/src/pricing.ts");
    assert_eq!(
        pricing["dependents"],
        json!([
            "packages/lib/src/index.ts",
            "apps/web/src/cart.js",
            "apps/web/src/main.tsx",
            "apps/web/src/pages/checkout.tsx",
            "apps/web/src/util.ts"
        ])
    );
    assert_eq!(pricing["direct"], 1);
    assert_eq!(pricing["downstream"], 5);
    // cart.test.ts depends on cart.js: a test, counted apart.
    assert_eq!(pricing["tests"], 1);

    let theme = impact_file(&v, "packages/ui/src/theme/index.ts");
    assert_eq!(
        theme["dependents"],
        json!([
            "packages/ui/src/button.tsx",
            "packages/ui/src/card.tsx",
            "apps/web/src/main.tsx",
            "packages/ui/src/index.ts",
            "apps/web/src/new-page.tsx"
        ])
    );
    assert_eq!(theme["direct"], 2);

    // The deleted file's dependents come from the base graph.
    let legacy = impact_file(&v, "apps/web/src/legacy.cjs");
    assert_eq!(legacy["graph"], "base");
    assert_eq!(legacy["direct"], 1);

    let ev = &v["dimensions"]["impact"]["evidence"];
    // Structural: the union of production dependents, changed files excluded.
    assert_eq!(ev["downstream"], 7);
    // What the changed symbols reach: the users of `price`, `tokens`, `total` and the removed
    // default of legacy.cjs (button, card, checkout, main; util.ts only through its type `Page`).
    // The renamed math.ts changed no declaration: its users changed their imports themselves.
    assert_eq!(ev["reached_files"], 5);
    assert_eq!(ev["type_only_files"], 1);
    assert_eq!(ev["reach"], 4.25);
    assert_eq!(
        impact_file(&v, "packages/shared/src/numbers.ts")["reached"],
        0
    );
    assert_eq!(ev["tests_affected"], 1);
    // 1 − e^(−4.25/25) = 0.156 → 16
    assert_eq!(v["dimensions"]["impact"]["score"], 16);
    assert_eq!(ev["entry_points"][0]["path"], "apps/web/src/main.tsx");
}

#[test]
fn stop_at_limits_propagation() {
    let r = monorepo_pr();
    r.write(
        ".pr-risk.yml",
        "impact:\n  stop-at:\n    - \"packages/*/src/index.ts\"\n",
    );
    let (_, v) = r.score_json(&["--base", "main"]);
    let pricing = impact_file(&v, "packages/lib/src/pricing.ts");
    assert_eq!(pricing["dependents"], json!(["packages/lib/src/index.ts"]));
    assert_eq!(pricing["stopped_at"], json!(["packages/lib/src/index.ts"]));
}

#[test]
fn report_schema_is_stable() {
    let r = monorepo_pr();
    let (_, v) = r.score_json(&["--base", "main"]);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&v),
        [
            "change",
            "composite",
            "config",
            "dependencies",
            "dimensions",
            "gate",
            "graph",
            "guidance",
            "notes",
            "revisions",
            "schema_version",
            "tool"
        ]
    );
    assert_eq!(v["schema_version"], 1);
    assert_eq!(
        keys(&v["dependencies"]),
        ["advisories", "build_changes", "changes", "projects"]
    );
    assert_eq!(
        keys(&v["dimensions"]),
        ["coupling", "impact", "regression", "security"]
    );
    for d in ["impact", "regression", "security", "coupling"] {
        let dim = &v["dimensions"][d];
        assert!(dim["available"].is_boolean());
        assert!(dim["weight"].is_number());
        if dim["available"] == false {
            assert!(dim["score"].is_null());
            assert!(dim["reason"].as_str().unwrap().len() > 10);
        }
    }
    assert_eq!(v["revisions"]["base"]["rev"], "main");
    assert_eq!(v["revisions"]["head"]["sha"].as_str().unwrap().len(), 40);
    assert!(v["gate"]["blocked"].is_boolean());
    assert_eq!(v["config"]["source"], Value::Null);
}

#[test]
fn output_is_deterministic() {
    let r = monorepo_pr();
    let a = r.run(&["score", "--base", "main", "--format", "json"]);
    let b = r.run(&["score", "--base", "main", "--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let t1 = r.run(&["score", "--base", "main", "--explain"]);
    let t2 = r.run(&["score", "--base", "main", "--explain"]);
    assert_eq!(t1.stdout, t2.stdout);
}

#[test]
fn text_report_lists_high_impact_files() {
    let r = monorepo_pr();
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains(
            "packages/lib/src/pricing.ts — price changed; 3 of its 5 dependents use it (1 direct), and 1 test file"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Risk score: "), "{}", run.stdout);
    let explained = r.run(&["score", "--base", "main", "--explain"]);
    assert!(
        explained
            .stdout
            .contains("impact = round(100 · max(1 − e^(−reach/25)"),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains(
            "→ apps/web/src/pages/checkout.tsx: apps/web/src/cart.js#total → apps/web/src/pages/checkout.tsx#Checkout"
        ),
        "{}",
        explained.stdout
    );
}

#[test]
fn exit_code_one_when_blocked() {
    let r = monorepo_pr();
    let (_, v) = r.score_json(&["--base", "main"]);
    let score = v["composite"]["score"].as_u64().unwrap();
    assert!(score >= 5, "{score}");
    let below = (score - 1).to_string();
    let run = r.run(&["score", "--base", "main", "--threshold", &below]);
    run.assert_code(1);
    assert!(run.stdout.contains("BLOCKED"), "{}", run.stdout);
    let (_, v) = r.score_json(&["--base", "main", "--threshold", &below]);
    assert_eq!(v["gate"]["blocked"], true);
    assert_eq!(
        v["gate"]["reasons"][0],
        json!({
            "code": "score-above-threshold",
            "dimension": null,
            "points": null,
            "message": format!("risk score {score} is above the threshold {below}"),
            "action": null
        })
    );
    assert_eq!(v["gate"]["verdict"], "blocked");
    // Then what drove it, dimension by dimension, largest contribution first, each with what
    // would lower it.
    let points: Vec<f64> = v["gate"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["dimension"].is_null())
        .map(|r| r["points"].as_f64().unwrap())
        .collect();
    assert!(!points.is_empty(), "{:#}", v["gate"]);
    assert!(points.windows(2).all(|w| w[0] >= w[1]), "{points:?}");
    // At the threshold is not above it, and a pass that close says so.
    let at = r.run(&["score", "--base", "main", "--threshold", &score.to_string()]);
    at.assert_code(0);
    assert!(
        at.stdout.contains(&format!(
            "risk score {score} passes at the threshold {score}: one more point blocks"
        )),
        "{}",
        at.stdout
    );
    // Advisory mode reports what the gate would do and never fails.
    let advisory = r.run(&[
        "score",
        "--base",
        "main",
        "--threshold",
        &below,
        "--mode",
        "advisory",
    ]);
    advisory.assert_code(0);
    assert!(
        advisory.stdout.contains("advisory: would block"),
        "{}",
        advisory.stdout
    );
    let (_, v) = r.score_json(&[
        "--base",
        "main",
        "--threshold",
        &below,
        "--mode",
        "advisory",
    ]);
    assert_eq!(v["gate"]["verdict"], "advisory");
    assert_eq!(v["gate"]["blocked"], false);
    assert_eq!(v["gate"]["would_block"], true);
}

#[test]
fn config_threshold_and_errors() {
    let r = monorepo_pr();
    r.write(".pr-risk.yml", "threshold: 2\n");
    r.run(&["score", "--base", "main"]).assert_code(1);
    r.write(".pr-risk.yml", "threshold: 20\nimpcat:\n  stop-at: []\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(".pr-risk.yml:2:1: unknown key `impcat` (did you mean `impact`?)"),
        "{}",
        run.stderr
    );
    r.write(".pr-risk.yml", "threshold: [1]\n");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(run.stderr.contains(".pr-risk.yml:1:"), "{}", run.stderr);
    r.remove(".pr-risk.yml");
    r.write(".github/pr-risk.yml", "threshold: 2\n");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(v["config"]["source"], ".github/pr-risk.yml");
    assert_eq!(v["gate"]["threshold"], 2);
    let run = r.run(&["score", "--base", "main", "--config", "nope.yml"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("nope.yml does not exist"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_two() {
    let r = monorepo();
    r.run(&["score", "--bogus"]).assert_code(2);
    r.run(&["score", "--threshold", "101"]).assert_code(2);
    let run = r.run(&["score", "--base", "no-such-branch"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("base revision `no-such-branch` was not found"),
        "{}",
        run.stderr
    );
}

#[test]
fn default_base_is_main() {
    let r = monorepo_pr();
    let (run, v) = r.score_json(&[]);
    run.assert_code(0);
    assert_eq!(v["revisions"]["base"]["rev"], "main");
    assert_eq!(v["change"]["files_changed"], 6);
}

#[test]
fn tsconfig_extending_an_uninstalled_package_still_resolves() {
    let r = TestRepo::new();
    r.write(
        "tsconfig.json",
        r#"{ "extends": "@tsconfig/node18/tsconfig.json", "compilerOptions": { "baseUrl": "." } }"#,
    )
    .write("src/a.ts", "export const a = 1;\n")
    .write(
        "src/b.ts",
        "import { a } from './a';\nexport const b = a;\n",
    );
    r.commit("tsconfig from npm");
    assert_eq!(edges(&r, "HEAD"), set(&[("src/b.ts", "src/a.ts")]));
    let (_, v) = r.score_json(&["--base", "HEAD"]);
    let notes = v["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["code"], "resolution");
    assert!(notes[0]["message"].as_str().unwrap().contains(
        "tsconfig could not be loaded (Tsconfig not found @tsconfig/node18/tsconfig.json)"
    ));
}

#[test]
fn a_package_named_like_tsconfig_is_not_a_tsconfig_problem() {
    let r = monorepo();
    let (_, v) = r.score_json(&["--base", "HEAD"]);
    assert_eq!(v["notes"], json!([]));
}

/// Everything a side's graph says, for comparing two ways of building it.
fn graph_facts(side: &pipeline::Side) -> (BTreeSet<String>, BTreeSet<String>) {
    let edges = side
        .graph
        .edges()
        .into_iter()
        .map(|(a, b, e)| format!("{a} -> {b} {e:?}"))
        .collect();
    let unresolved = side
        .graph
        .unresolved
        .iter()
        .map(|u| format!("{u:?}"))
        .collect();
    (edges, unresolved)
}

/// A change that only edits files in place resolves both sides with one shared resolver; the
/// graphs are exactly those of resolving each side on its own.
#[test]
fn shared_resolution_builds_the_same_graphs() {
    use engine::git::snapshot::Snapshot;
    use engine::parse::{select_sources, Filters, ParseStore};
    let r = monorepo();
    let base = r.commit("base");
    let card = std::fs::read_to_string(r.path().join("packages/ui/src/card.tsx")).unwrap();
    r.write(
        "packages/ui/src/card.tsx",
        format!("import {{ total }} from \"@acme/lib\";\nimport \"./missing\";\n{card}"),
    );
    r.write("apps/web/src/util.ts", "export const u = 1;\n");
    let head = r.commit("edit in place");
    let repo = Repo::discover(r.path()).unwrap();
    let changes = engine::git::diff::change_set(&repo, base, head, 1 << 20).unwrap();
    assert!(pipeline::same_resolution(&changes));
    let files = FileSettings::default();
    let build = |shared: bool| {
        let snaps = [
            Snapshot::of_commit(&repo, head).unwrap(),
            Snapshot::of_commit(&repo, base).unwrap(),
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
        let (h, b, _) = pipeline::build_sides(repo.git_dir(), snaps, sources, &store, shared, None);
        (graph_facts(&h), graph_facts(&b))
    };
    let (shared, separate) = (build(true), build(false));
    assert_eq!(shared, separate);
    // The edit is visible: the head has the new edge, the base does not.
    let new_edge = "packages/ui/src/card.tsx -> packages/lib/src/index.ts";
    assert!(shared.0 .0.iter().any(|e| e.starts_with(new_edge)));
    assert!(!shared.1 .0.iter().any(|e| e.starts_with(new_edge)));

    // Adding a file or touching a JSON file turns sharing off.
    r.write("packages/ui/src/new.ts", "export {};\n");
    let added = r.commit("add");
    let changes = engine::git::diff::change_set(&repo, head, added, 1 << 20).unwrap();
    assert!(!pipeline::same_resolution(&changes));
    r.write("packages/ui/package.json", "{\"name\":\"@acme/ui\"}\n");
    let json = r.commit("json");
    let changes = engine::git::diff::change_set(&repo, added, json, 1 << 20).unwrap();
    assert!(!pipeline::same_resolution(&changes));
    r.write("pnpm-workspace.yaml", "packages:\n  - packages/*\n");
    let yaml_added = r.commit("yaml");
    r.write("pnpm-workspace.yaml", "packages:\n  - packages/ui\n");
    let yaml = r.commit("yaml edit");
    let changes = engine::git::diff::change_set(&repo, yaml_added, yaml, 1 << 20).unwrap();
    assert!(
        !pipeline::same_resolution(&changes),
        "an edited pnpm-workspace.yaml"
    );
}
