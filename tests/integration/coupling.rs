//! Coupling: rules from `.pr-risk.yml` and the built-in rules, evaluated on base and head;
//! introduced, removed and pre-existing violations; the score; `pr-risk graph`.

use serde_json::Value;

use crate::support::{RunPrRisk, TestRepo};

/// `fixtures/coupling-ts`: `base/` committed on main, then on `feature` the billing invoice is
/// renamed and `head/` is copied over.
pub(crate) fn fixture_repo() -> TestRepo {
    let r = TestRepo::new();
    r.copy_fixture("coupling-ts/base");
    r.commit("shop: features, layers and a ui-kit package");
    r.branch("feature");
    r.rename(
        "src/features/billing/invoice.ts",
        "src/features/billing/invoices.ts",
    );
    r.copy_fixture("coupling-ts/head");
    r.commit("orders link to users, domain formats money, ui reads data");
    r
}

/// (rule, severity, from:line, to) of each violation in a list.
fn rows(list: &Value) -> Vec<(String, String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().unwrap().to_string(),
                v["severity"].as_str().unwrap().to_string(),
                format!("{}:{}", v["from"].as_str().unwrap(), v["line"]),
                v["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(rule: &str, sev: &str, from: &str, to: &str) -> (String, String, String, String) {
    (rule.into(), sev.into(), from.into(), to.into())
}

#[test]
fn fixture_introduced_removed_and_pre_existing() {
    let r = fixture_repo();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let c = &v["dimensions"]["coupling"];
    assert_eq!(c["available"], true, "{c}");
    let ev = &c["evidence"];
    assert_eq!(
        rows(&ev["introduced"]),
        vec![
            row(
                "feature-isolation",
                "error",
                "src/features/orders/list.ts:2",
                "src/features/users/index.ts"
            ),
            row(
                "layers-domain",
                "error",
                "src/domain/orders.ts:2",
                "src/ui/format.ts"
            ),
            row(
                "no-cycle",
                "error",
                "src/features/users/profile.ts:1",
                "src/features/users/index.ts"
            ),
            row(
                "no-deep-import",
                "warn",
                "src/ui/cart-view.ts:3",
                "packages/ui-kit/src/internal/theme.ts"
            ),
            row(
                "ui-through-domain",
                "warn",
                "src/ui/orders-view.ts:2",
                "src/data/orders-repo.ts"
            ),
        ]
    );
    // The type-only `import type { CartRow } from '../data/cart-repo'` is ignored by
    // ui-through-domain, and `@shop/ui-kit/icons/cart` is an `exports` subpath, not a deep import.
    assert_eq!(
        rows(&ev["removed"]),
        vec![
            row(
                "layers-data",
                "error",
                "src/data/orders-repo.ts:1",
                "src/domain/pricing.ts"
            ),
            row(
                "no-cycle",
                "error",
                "src/data/cart-repo.ts:1",
                "src/data/db.ts"
            ),
        ]
    );
    // invoice.ts → invoices.ts is a rename: its violation is pre-existing, not introduced.
    assert_eq!(
        rows(&ev["pre_existing"]),
        vec![
            row(
                "feature-isolation",
                "error",
                "src/features/billing/invoices.ts:1",
                "src/features/users/profile.ts"
            ),
            row(
                "no-cycle",
                "error",
                "src/domain/cart.ts:2",
                "src/domain/pricing.ts"
            ),
        ]
    );
    assert_eq!(ev["pre_existing_total"], 2);
    // units = 3 errors × 1.0 + 2 warnings × 0.4 = 3.8 → round(100·(1 − e^(−0.916·3.8))) = 97
    assert!((ev["units"].as_f64().unwrap() - 3.8).abs() < 1e-9);
    assert_eq!(c["score"], 97);
    let cycle = &ev["introduced"][2];
    assert_eq!(
        cycle["cycle"],
        serde_json::json!([
            "src/features/users/profile.ts",
            "src/features/users/index.ts",
            "src/features/users/profile.ts"
        ])
    );
    assert_eq!(
        cycle["detail"],
        "creates a dependency cycle through 2 files"
    );
    assert_eq!(
        ev["introduced"][0]["description"],
        "a feature may import only itself (share code through src/domain/)"
    );
    assert_eq!(
        ev["introduced"][3]["detail"],
        "reaches into package `@shop/ui-kit` past its public entry (packages/ui-kit/src/index.ts)"
    );
    assert!(
        v["composite"]["contributions"]["coupling"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    let text = r.run(&["score", "--base", "main"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains(
            "  - src/features/orders/list.ts:2 → src/features/users/index.ts violates feature-isolation (error)"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "      cycle: src/features/users/profile.ts → src/features/users/index.ts → src/features/users/profile.ts"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "  + fixed: src/data/orders-repo.ts:1 → src/domain/pricing.ts no longer violates layers-data"
        ),
        "{}",
        text.stdout
    );
    let explain = r.run(&["score", "--base", "main", "--explain"]);
    assert!(
        explain.stdout.contains(
            "    = src/domain/cart.ts:2 → src/domain/pricing.ts violates no-cycle (error): a cycle through 2 files"
        ),
        "{}",
        explain.stdout
    );
    assert!(
        explain
            .stdout
            .contains("coupling: coupling = round(100 · (1 − e^(−0.916·units))) with units = 3 error × 1.0 + 2 warn × 0.4 = 3.8 → 97"),
        "{}",
        explain.stdout
    );
}

fn two_files() -> TestRepo {
    let r = TestRepo::new();
    r.write(
        "src/a.ts",
        "import { b } from './b';\nexport const a = b + 1;\n",
    )
    .write("src/b.ts", "export const b = 1;\n")
    .write("src/c.ts", "export const c = 3;\n");
    r.commit("a uses b");
    r.branch("feature");
    r
}

#[test]
fn one_new_cycle_is_one_error_and_scores_sixty() {
    let r = two_files();
    r.write(
        "src/b.ts",
        "export const b = 1;\nimport { a } from './a';\nexport const twice = () => a * 2;\n",
    );
    r.commit("b uses a");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let c = &v["dimensions"]["coupling"];
    assert_eq!(c["score"], 60);
    assert_eq!(
        rows(&c["evidence"]["introduced"]),
        vec![row("no-cycle", "error", "src/b.ts:2", "src/a.ts")]
    );
    assert_eq!(
        c["evidence"]["introduced"][0]["cycle"],
        serde_json::json!(["src/b.ts", "src/a.ts", "src/b.ts"])
    );
}

#[test]
fn growing_a_cycle_is_introduced_and_type_only_cycles_are_ignored() {
    let r = two_files();
    r.write(
        "src/b.ts",
        "import { a } from './a';\nexport const b = 1;\nexport const twice = () => a * 2;\n",
    );
    r.commit("a ↔ b");
    r.branch("grow");
    r.write(
        "src/b.ts",
        "import { a } from './a';\nimport { c } from './c';\nexport const b = c;\nexport const twice = () => a * 2;\n",
    )
    .write(
        "src/c.ts",
        "import type { a } from './a';\nimport { twice } from './b';\nexport const c = 3;\nexport const t: typeof a = twice();\n",
    );
    r.commit("b → c → b");
    let (run, v) = r.score_json(&["--base", "feature"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["coupling"]["evidence"];
    assert_eq!(
        rows(&ev["introduced"]),
        vec![row("no-cycle", "error", "src/b.ts:2", "src/c.ts")]
    );
    assert_eq!(
        ev["introduced"][0]["detail"],
        "grows a dependency cycle to 3 files (was 2 files)"
    );
    assert_eq!(
        ev["introduced"][0]["cycle"],
        serde_json::json!(["src/b.ts", "src/c.ts", "src/b.ts"])
    );
    assert_eq!(rows(&ev["removed"]), vec![]);

    // A cycle closed only by a type-only import does not exist at run time.
    let t = two_files();
    t.write(
        "src/b.ts",
        "import type { a } from './a';\nexport const b = 1;\nexport type A = typeof a;\n",
    );
    t.commit("b names a's type");
    let (_, v) = t.score_json(&["--base", "main"]);
    assert_eq!(v["dimensions"]["coupling"]["score"], 0);
    // … unless the configuration counts type-only imports.
    t.write(
        ".pr-risk.yml",
        "coupling:\n  cycles:\n    type-only: count\n",
    );
    t.commit("count type-only cycles");
    let (_, v) = t.score_json(&["--base", "main"]);
    assert_eq!(v["dimensions"]["coupling"]["score"], 60);
}

#[test]
fn invalid_rules_are_reported_with_file_and_line() {
    let r = two_files();
    r.write(
        ".pr-risk.yml",
        "coupling:\n  rules:\n    - name: features\n      from: \"src/features/([^/]+/\"\n      to: src/features/\n",
    );
    r.commit("bad regex");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            "/.pr-risk.yml:4:13: coupling.rules[0].from: invalid regex `src/features/([^/]+/`: unclosed group\n"
        ),
        "{}",
        run.stderr
    );

    r.write(
        ".pr-risk.yml",
        "coupling:\n  rules:\n    - name: features\n      from: src/features/([^/]+)/\n      to: src/features/\n      to-nott: src/features/$1/\n",
    );
    r.commit("unknown key");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("/.pr-risk.yml:6:7: unknown key `to-nott` in `coupling.rules[0]` (did you mean `to-not`?)"),
        "{}",
        run.stderr
    );

    r.write(
        ".pr-risk.yml",
        "coupling:\n  rules:\n    - name: features\n      from: src/features/\n      to: src/features/\n      to-not: src/features/$1/\n",
    );
    r.commit("capture from a glob");
    let run = r.run(&["score", "--base", "main"]);
    run.assert_code(2);
    assert!(run.stderr.contains("/.pr-risk.yml:3:7: "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("coupling rule `features`: `to-not` uses $1 but `from` is a glob"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_active_rule_is_unavailable_not_zero() {
    let r = two_files();
    r.write(
        ".pr-risk.yml",
        "coupling:\n  cycles: { severity: off }\n  deep-imports: { severity: off }\n",
    );
    r.commit("rules off");
    let (_, v) = r.score_json(&["--base", "main"]);
    let c = &v["dimensions"]["coupling"];
    assert_eq!(c["available"], false);
    assert!(c["reason"]
        .as_str()
        .unwrap()
        .starts_with("no coupling rule is active"));
}

#[test]
fn graph_path_dependents_and_cycles() {
    let r = fixture_repo();
    let run = r.run(&[
        "graph",
        "--path",
        "src/ui/cart-view.ts",
        "src/data/db.ts",
        "--rev",
        "main",
    ]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "src/ui/cart-view.ts depends on src/data/db.ts through 3 imports:\n\
         \x20 src/ui/cart-view.ts:2 → src/domain/cart.ts  (../domain/cart)\n\
         \x20 src/domain/cart.ts:1 → src/data/cart-repo.ts  (../data/cart-repo)\n\
         \x20 src/data/cart-repo.ts:1 → src/data/db.ts  (./db)\n"
    );
    // Imports have a direction: the data layer does not depend on the ui.
    let run = r.run(&["graph", "--path", "src/data/db.ts", "src/ui/cart-view.ts"]);
    assert_eq!(
        run.stdout,
        "src/data/db.ts does not depend on src/ui/cart-view.ts (no chain of imports leads there)\n"
    );

    let run = r.run(&["graph", "--dependents", "./src/domain/orders.ts"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "src/domain/orders.ts has 3 dependents (distance, file):\n\
         \x20   1  src/features/orders/list.ts\n\
         \x20   1  src/ui/orders-view.ts\n\
         \x20   2  src/features/orders/index.ts\n"
    );

    let run = r.run(&["graph", "--cycles", "--format", "json"]);
    run.assert_code(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let cycles = v["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 2);
    assert_eq!(
        cycles[0]["files"],
        serde_json::json!(["src/domain/cart.ts", "src/domain/pricing.ts"])
    );
    assert_eq!(cycles[1]["cycle"][0]["from"], "src/features/users/index.ts");
    assert_eq!(cycles[1]["cycle"][0]["line"], 1);
    assert_eq!(v["type_only_imports"], false);

    let run = r.run(&["graph", "--cycles"]);
    assert!(
        run.stdout
            .starts_with("2 dependency cycles (type-only imports ignored):\n\ncycle 1 — 2 files:\n  src/domain/cart.ts:2 → src/domain/pricing.ts  (./pricing)\n  src/domain/pricing.ts:1 → src/domain/cart.ts  (./cart)\n"),
        "{}",
        run.stdout
    );

    let run = r.run(&[
        "graph",
        "--format",
        "dot",
        "--path",
        "src/features/orders/list.ts",
        "src/features/users/profile.ts",
    ]);
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("digraph \"path\" {\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  \"src/features/orders/list.ts\" -> \"src/features/users/index.ts\" [label=\"2\"];\n"
        ),
        "{}",
        run.stdout
    );

    let run = r.run(&["graph", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let type_only: Vec<&Value> = v["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type_only"] == true)
        .collect();
    assert_eq!(type_only.len(), 1);
    assert_eq!(type_only[0]["from"], "src/ui/cart-view.ts");
    assert_eq!(type_only[0]["to"], "src/data/cart-repo.ts");

    let run = r.run(&["graph", "--rev", "main"]);
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("19 files, 19 imports at main ("),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nsrc/features/billing/invoice.ts:1 → src/features/users/profile.ts  (../users/profile)\n"),
        "{}",
        run.stdout
    );

    let run = r.run(&[
        "graph",
        "--dependents",
        "src/domain/orders.ts",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["file"], "src/domain/orders.ts");
    assert_eq!(v["dependents"][2]["path"], "src/features/orders/index.ts");
    assert_eq!(v["dependents"][2]["distance"], 2);
    assert_eq!(v["revision"]["rev"], "HEAD");

    let run = r.run(&["graph", "--cycles", "--format", "dot"]);
    assert!(
        run.stdout.contains(
            "  \"src/features/users/profile.ts\" -> \"src/features/users/index.ts\" [label=\"1\"];\n"
        ),
        "{}",
        run.stdout
    );

    let run = r.run(&["graph", "--dependents", "src/nope.ts"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("`src/nope.ts` is not a file of the dependency graph"),
        "{}",
        run.stderr
    );
}

/// `fixtures/coupling-rust`: a Cargo workspace. The domain crate starts using the infra crate
/// (a user rule), and the app reaches `shop_infra::db::Pool` although `shop_infra::Pool` is the
/// public re-export.
#[test]
fn rust_workspace_rule_violation() {
    let r = TestRepo::new();
    r.copy_fixture("coupling-rust/base");
    r.commit("shop workspace");
    r.branch("feature");
    r.copy_fixture("coupling-rust/head");
    r.commit("domain persists orders; app reaches into infra::db");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["coupling"]["evidence"];
    let introduced = rows(&ev["introduced"]);
    assert!(
        introduced
            .iter()
            .any(|(rule, sev, from, to)| rule == "domain-is-pure"
                && sev == "error"
                && from == "crates/domain/src/order.rs:1"
                && to.starts_with("crates/infra/src/")),
        "{introduced:?}"
    );
    assert_eq!(rows(&ev["pre_existing"]), vec![]);
}

#[test]
fn renaming_a_file_in_a_cycle_keeps_the_cycle_pre_existing() {
    let r = TestRepo::new();
    let body = "export const shared = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => n * 2);\n\
                export const more = shared.filter((n) => n > 4).length;\n\
                export const label = 'a label long enough for git to see a rename';\n";
    r.write(
        "src/a.ts",
        "import { shared } from './b';\nexport const a = shared;\n",
    )
    .write(
        "src/b.ts",
        format!("import {{ a }} from './a';\nexport const b = a;\n{body}"),
    );
    r.commit("a ↔ b");
    r.branch("feature");
    r.rename("src/b.ts", "src/bee.ts").write(
        "src/a.ts",
        "import { shared } from './bee';\nexport const a = shared;\n",
    );
    r.commit("rename b to bee");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["coupling"]["evidence"];
    assert_eq!(rows(&ev["introduced"]), vec![]);
    assert_eq!(rows(&ev["removed"]), vec![]);
    assert_eq!(
        rows(&ev["pre_existing"]),
        vec![row("no-cycle", "error", "src/a.ts:1", "src/bee.ts")]
    );
    assert_eq!(v["dimensions"]["coupling"]["score"], 0);
}

/// A generated workspace: `@acme/open` (no `exports`: public throughout), `@acme/closed` (an
/// `exports` map: only `.` and `./button`), and an app importing both past their entries.
fn workspace() -> TestRepo {
    let r = TestRepo::new();
    r.write(
        "package.json",
        r#"{"name":"root","private":true,"workspaces":["packages/*"]}"#,
    )
    .write(
        "packages/open/package.json",
        r#"{"name":"@acme/open","main":"src/index.ts"}"#,
    )
    .write("packages/open/src/index.ts", "export const open = 1;\n")
    .write("packages/open/src/internal/deep.ts", "export const deep = 1;\n")
    .write(
        "packages/closed/package.json",
        r#"{"name":"@acme/closed","exports":{".":"./src/index.ts","./button":"./src/button.ts"}}"#,
    )
    .write("packages/closed/src/index.ts", "export const closed = 1;\n")
    .write("packages/closed/src/button.ts", "export const button = 1;\n")
    .write("packages/closed/src/internal/secret.ts", "export const secret = 1;\n")
    .write(
        "packages/app/package.json",
        r#"{"name":"@acme/app","dependencies":{"@acme/open":"*","@acme/closed":"*"}}"#,
    )
    .write(
        "packages/app/src/main.ts",
        "import { closed } from '@acme/closed';\nimport { button } from '@acme/closed/button';\nexport const main = [closed, button];\n",
    );
    r.commit("workspace");
    r
}

/// `no-deep-import` applies to packages that declare `exports` only; test, fixture and e2e files
/// never count.
#[test]
fn deep_imports_only_past_declared_exports_and_never_from_tests() {
    let r = workspace();
    r.branch("feature");
    r.write(
        "packages/app/src/feature.ts",
        "import { deep } from '@acme/open/src/internal/deep';\nimport { secret } from '../../closed/src/internal/secret';\nexport const f = [deep, secret];\n",
    )
    .write(
        "packages/app/e2e/flow.spec.ts",
        "import { secret } from '../../closed/src/internal/secret';\nexport const t = secret;\n",
    )
    .write(
        "packages/app/src/__fixtures__/data.ts",
        "import { secret } from '../../../closed/src/internal/secret';\nexport const d = secret;\n",
    );
    r.commit("reach into both packages");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["coupling"]["evidence"];
    assert_eq!(
        rows(&ev["introduced"]),
        vec![row(
            "no-deep-import",
            "warn",
            "packages/app/src/feature.ts:2",
            "packages/closed/src/internal/secret.ts"
        )],
        "only the production import past @acme/closed's exports"
    );
    assert_eq!(v["dimensions"]["coupling"]["score"], 31);
}

/// A rule's violation is (rule, from, to): moving the import line, re-ordering the imports or
/// reformatting them is not a new violation.
#[test]
fn moving_or_reordering_an_import_is_no_new_violation() {
    let r = TestRepo::new();
    r.write(
        ".pr-risk.yml",
        "coupling:\n  rules:\n    - name: ui-not-db\n      from: src/ui/\n      to: src/db/\n",
    )
    .write("src/db/query.ts", "export const query = 1;\n")
    .write("src/db/pool.ts", "export const pool = 1;\n")
    .write(
        "src/ui/list.ts",
        "import { query } from '../db/query';\nimport { pool } from '../db/pool';\nexport const list = [query, pool];\n",
    );
    r.commit("ui reads the db");
    r.branch("feature");
    r.write(
        "src/ui/list.ts",
        "// the list view\n\nimport { pool } from \"../db/pool\";\n\nimport {\n  query,\n} from \"../db/query\";\n\nexport const list = [query, pool];\n",
    );
    r.commit("reorder and reformat the imports");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let ev = &v["dimensions"]["coupling"]["evidence"];
    assert_eq!(rows(&ev["introduced"]), vec![]);
    assert_eq!(rows(&ev["removed"]), vec![]);
    assert_eq!(ev["pre_existing_total"], 2);
    assert_eq!(v["dimensions"]["coupling"]["score"], 0);
}

/// By default only introduced violations are scored and removed ones are shown beside them;
/// `coupling.net: true` scores introduced minus removed.
#[test]
fn removed_violations_are_shown_and_net_scoring_counts_them() {
    let r = TestRepo::new();
    let rule =
        "coupling:\n  rules:\n    - name: ui-not-db\n      from: src/ui/\n      to: src/db/\n";
    r.write(".pr-risk.yml", rule)
        .write("src/db/query.ts", "export const query = 1;\n")
        .write("src/db/pool.ts", "export const pool = 1;\n")
        .write("src/api/read.ts", "export const read = 1;\n")
        .write(
            "src/ui/a.ts",
            "import { query } from '../db/query';\nexport const a = query;\n",
        )
        .write(
            "src/ui/b.ts",
            "import { pool } from '../db/pool';\nexport const b = pool;\n",
        )
        .write(
            "src/ui/c.ts",
            "import { read } from '../api/read';\nexport const c = read;\n",
        );
    r.commit("two violations");
    r.branch("feature");
    r.write(
        "src/ui/a.ts",
        "import { read } from '../api/read';\nexport const a = read;\n",
    )
    .write(
        "src/ui/b.ts",
        "import { read } from '../api/read';\nexport const b = read;\n",
    )
    .write(
        "src/ui/c.ts",
        "import { query } from '../db/query';\nexport const c = query;\n",
    );
    r.commit("fix two, add one");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let c = &v["dimensions"]["coupling"];
    assert_eq!(rows(&c["evidence"]["introduced"]).len(), 1);
    assert_eq!(rows(&c["evidence"]["removed"]).len(), 2);
    assert_eq!(c["score"], 60, "one error introduced");
    assert!(
        c["summary"].as_str().unwrap().ends_with("; removes 2"),
        "{}",
        c["summary"]
    );
    r.write(".pr-risk.yml", format!("{rule}  net: true\n"));
    r.commit("score the net");
    let (run, v) = r.score_json(&["--base", "main", "--config", ".pr-risk.yml"]);
    run.assert_code(0);
    let c = &v["dimensions"]["coupling"];
    assert_eq!(c["score"], 0, "1 introduced − 2 removed → 0");
    assert!(
        c["formula"]
            .as_str()
            .unwrap()
            .contains("max(0, introduced − removed)"),
        "{}",
        c["formula"]
    );
    let md = r.run(&["score", "--base", "main", "--format", "markdown"]);
    assert!(
        md.stdout.contains("Removed by this change (2)"),
        "{}",
        md.stdout
    );
}
