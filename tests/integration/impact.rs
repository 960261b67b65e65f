//! Impact v2: symbol-level reach on generated repositories, TypeScript and Rust. What a change
//! can break is the code that uses the declarations it changed, not every file downstream of
//! the changed file.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{RunPrRisk, TestRepo};

/// Every production file the changed symbols reach.
fn reached(v: &Value) -> BTreeSet<String> {
    v["dimensions"]["impact"]["evidence"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn evidence(v: &Value) -> &Value {
    &v["dimensions"]["impact"]["evidence"]
}

/// The changed declarations of `path`: (name, change).
fn changed(v: &Value, path: &str) -> Vec<(String, String)> {
    evidence(v)["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in the evidence: {v:#}"))["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// TypeScript

/// `src/lib.ts` with 20 exports `f0…f19`; `src/use{i}.ts` calls `f{i}`, `src/top{i}.ts` uses
/// `use{i}.ts`: every export has a chain of two users.
fn ts_twenty() -> TestRepo {
    let r = TestRepo::new();
    let mut lib = String::from("// Pricing helpers.\n");
    for i in 0..20 {
        lib.push_str(&format!(
            "export function f{i}(x: number): number {{\n  return x + {i};\n}}\n"
        ));
    }
    r.write("src/lib.ts", lib);
    for i in 0..20 {
        r.write(
            &format!("src/use{i}.ts"),
            format!("import {{ f{i} }} from './lib';\n\nexport function g{i}(): number {{\n  return f{i}(1) * 2;\n}}\n"),
        );
        r.write(
            &format!("src/top{i}.ts"),
            format!("import {{ g{i} }} from './use{i}';\n\nexport const top{i} = () => g{i}();\n"),
        );
    }
    r.write(
        "package.json",
        "{\n  \"name\": \"shop\",\n  \"version\": \"1.0.0\"\n}\n",
    );
    r.commit("twenty exports");
    r.branch("feature");
    r
}

fn edit(r: &TestRepo, path: &str, f: impl FnOnce(&str) -> String) {
    let old = std::fs::read_to_string(r.path().join(path)).unwrap();
    r.write(path, f(&old));
}

#[test]
fn ts_comment_only_edit_reaches_nothing() {
    let r = ts_twenty();
    edit(&r, "src/lib.ts", |s| {
        s.replace(
            "export function f7(",
            "/** Adds seven. */\n// see the pricing rules\nexport function f7(",
        )
        .replace("return x + 3;", "return x + 3; /* three */")
    });
    r.commit("docs");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(v["dimensions"]["impact"]["score"], 0, "{v:#}");
    assert_eq!(evidence(&v)["reach"], 0.0);
    assert!(changed(&v, "src/lib.ts").is_empty());
    // The structural count stays: every file depends on lib.ts.
    assert_eq!(evidence(&v)["downstream"], 40);
}

#[test]
fn ts_formatting_only_edit_reaches_nothing() {
    let r = ts_twenty();
    r.write(
        "src/use3.ts",
        "import {f3} from \"./lib\"\nexport function g3(): number { return (f3(1) * 2) }\n",
    );
    edit(&r, "src/lib.ts", |s| {
        s.replace(
            "export function f4(x: number): number {\n  return x + 4;\n}\n",
            "export function f4(\n    x: number,\n): number { return x + 4 }\n",
        )
    });
    r.write(
        "src/top5.ts",
        "import {g5} from './use5'\nexport const top5 = () =>\n  g5()\n",
    );
    r.commit("prettier");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(v["dimensions"]["impact"]["score"], 0, "{v:#}");
    for f in ["src/lib.ts", "src/use3.ts", "src/top5.ts"] {
        assert!(changed(&v, f).is_empty(), "{f}: {:?}", changed(&v, f));
    }
}

#[test]
fn ts_body_change_reaches_only_that_exports_users() {
    let r = ts_twenty();
    edit(&r, "src/lib.ts", |s| {
        s.replace("return x + 7;", "return x + 70;")
    });
    r.commit("f7 adds more");
    let (_, v) = r.score_json(&["--base", "main", "--explain"]);
    assert_eq!(
        changed(&v, "src/lib.ts"),
        vec![("f7".to_string(), "body".to_string())]
    );
    assert_eq!(reached(&v), set(&["src/use7.ts", "src/top7.ts"]));
    let ev = evidence(&v);
    assert_eq!(ev["reached_files"], 2);
    assert_eq!(ev["downstream"], 40);
    // One symbol path per reached file.
    let paths = &ev["paths"];
    assert_eq!(
        paths[1]["via"],
        serde_json::json!(["src/lib.ts#f7", "src/use7.ts#g7", "src/top7.ts#top7"])
    );
    // The text report says it the way a reviewer reads it.
    let text = r
        .run(&["score", "--base", "main", "--explain", "--format", "text"])
        .stdout;
    assert!(
        text.contains("src/lib.ts — f7() changed; 2 of its 40 dependents use it (20 direct)"),
        "{text}"
    );
    assert!(
        text.contains("→ src/top7.ts: src/lib.ts#f7 → src/use7.ts#g7 → src/top7.ts#top7"),
        "{text}"
    );
}

#[test]
fn ts_removed_export_reaches_its_users() {
    let r = ts_twenty();
    edit(&r, "src/lib.ts", |s| {
        s.replace(
            "export function f3(x: number): number {\n  return x + 3;\n}\n",
            "",
        )
    });
    r.commit("drop f3");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(
        changed(&v, "src/lib.ts"),
        vec![("f3".to_string(), "removed".to_string())]
    );
    assert_eq!(reached(&v), set(&["src/use3.ts", "src/top3.ts"]));
}

#[test]
fn ts_reexport_chains_and_namespace_imports_are_followed() {
    let r = ts_twenty();
    r.write("src/index.ts", "export * from './lib';\n");
    r.write("src/api.ts", "export { f5 as five, f6 } from './index';\n");
    r.write(
        "src/app.ts",
        "import { five } from './api';\nexport const app = () => five(2);\n",
    );
    r.write(
        "src/ns.ts",
        "import * as lib from './lib';\nexport const n5 = () => lib.f5(1);\nexport const n6 = () => lib.f6(1);\n",
    );
    r.write(
        "src/late.ts",
        "import { n5 } from './ns';\nimport { n6 } from './ns';\nexport const late = n5;\nexport const other = n6;\n",
    );
    r.commit("barrels");
    edit(&r, "src/lib.ts", |s| {
        s.replace("return x + 5;", "return x * 5;")
    });
    r.commit("f5 multiplies");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    // Through `export *` and `export { f5 as five }`, and `lib.f5` on a namespace import; not
    // `n6`/`other`, which use another export. Re-exporting files forward, they are not reached.
    assert_eq!(
        reached(&v),
        set(&[
            "src/use5.ts",
            "src/top5.ts",
            "src/app.ts",
            "src/ns.ts",
            "src/late.ts"
        ])
    );
    assert!(evidence(&v)["fallbacks"].as_array().unwrap().is_empty());
}

#[test]
fn ts_unknown_forms_fall_back_to_file_level_and_are_counted() {
    let r = ts_twenty();
    r.write(
        "src/dynamic.ts",
        "import * as lib from './lib';\nexport const names = () => Object.keys(lib);\nexport const load = () => import('./use9');\n",
    );
    r.write(
        "src/user.ts",
        "import { names } from './dynamic';\nexport const u = names;\n",
    );
    r.commit("reflective uses");
    edit(&r, "src/lib.ts", |s| {
        s.replace("return x + 1;", "return x - 1;")
    });
    edit(&r, "src/use9.ts", |s| s.replace("* 2", "* 3"));
    r.commit("f1 and g9");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    let got = reached(&v);
    for f in [
        "src/use1.ts",
        "src/top1.ts",
        "src/dynamic.ts",
        "src/user.ts",
        "src/top9.ts",
    ] {
        assert!(got.contains(f), "{f} not reached: {got:?}");
    }
    let fallbacks: Vec<(String, u64)> = evidence(&v)["fallbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["reason"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fallbacks,
        vec![
            ("dynamic import() or require()".to_string(), 1),
            ("namespace import used as a value".to_string(), 1),
        ]
    );
    let text = r
        .run(&["score", "--base", "HEAD~1", "--format", "text"])
        .stdout;
    assert!(
        text.contains("file level: 1 use through namespace import used as a value (e.g. src/dynamic.ts → src/lib.ts)"),
        "{text}"
    );
}

#[test]
fn ts_type_only_changes_weigh_less_and_stop_at_runtime_code() {
    let r = TestRepo::new();
    r.write(
        "src/types.ts",
        "export interface Money { amount: number }\nexport type Id = string;\n",
    );
    r.write(
        "src/price.ts",
        "import type { Money } from './types';\nexport function price(m: Money): number { return m.amount; }\nexport type Priced = { m: Money };\n",
    );
    r.write(
        "src/cart.ts",
        "import { price } from './price';\nexport const total = () => price({ amount: 1 });\n",
    );
    r.write(
        "src/view.ts",
        "import type { Priced } from './price';\nexport const show = (p: Priced) => String(p);\n",
    );
    r.write(
        "src/app.ts",
        "import { total } from './cart';\nexport const app = () => total();\n",
    );
    r.commit("types");
    r.write(
        "src/types.ts",
        "export interface Money { amount: number; currency?: string }\nexport type Id = string;\n",
    );
    r.commit("currency");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    assert_eq!(
        changed(&v, "src/types.ts"),
        vec![("Money".to_string(), "type-only".to_string())]
    );
    // price.ts uses Money in its signature and in the type `Priced`, view.ts uses `Priced` in a
    // signature, cart.ts calls `price` (the compiler checks the call): all reached, types only.
    // `total` itself did not change type or behaviour: app.ts is not reached.
    assert_eq!(
        reached(&v),
        set(&["src/cart.ts", "src/price.ts", "src/view.ts"])
    );
    let ev = evidence(&v);
    assert_eq!(ev["type_only_files"], 3);
    assert_eq!(ev["reach"], 0.75);
}

#[test]
fn package_json_version_reaches_nothing_and_a_dependency_bump_reaches_its_importers() {
    let r = ts_twenty();
    r.write(
        "package.json",
        "{\n  \"name\": \"shop\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": { \"zod\": \"^3.0.0\" }\n}\n",
    );
    r.write(
        "src/version.ts",
        "import pkg from '../package.json';\nexport const version = pkg.version;\n",
    );
    r.write(
        "src/schema.ts",
        "import { z } from 'zod';\nexport const schema = z.string();\n",
    );
    for i in 0..20 {
        edit(&r, &format!("src/top{i}.ts"), |s| {
            format!("import {{ version }} from './version';\n{s}export const v{i} = version;\n")
        });
    }
    r.commit("a version every file reads");
    r.write(
        "package.json",
        "{\n  \"name\": \"shop\",\n  \"version\": \"1.1.0\",\n  \"description\": \"a shop\",\n  \"dependencies\": { \"zod\": \"^3.0.0\" }\n}\n",
    );
    r.commit("release 1.1.0");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    assert_eq!(v["dimensions"]["impact"]["score"], 0, "{v:#}");
    let pkg = evidence(&v)["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "package.json")
        .unwrap();
    assert_eq!(
        pkg["data"],
        "metadata (reaches nothing): description, version"
    );
    r.write(
        "package.json",
        "{\n  \"name\": \"shop\",\n  \"version\": \"1.1.0\",\n  \"description\": \"a shop\",\n  \"dependencies\": { \"zod\": \"^4.0.0\" }\n}\n",
    );
    r.commit("zod 4");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    assert_eq!(reached(&v), set(&["src/schema.ts"]));
}

// ---------------------------------------------------------------------------------------------
// Rust

/// A crate `demo`: `src/lib.rs` declares `a` (20 public functions `f0…f19`), `use{i}` modules
/// that each call one, and `top{i}` modules that use those.
fn rust_twenty() -> TestRepo {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    let mut lib = String::from("pub mod a;\n");
    let mut a = String::from("//! Arithmetic.\n\n");
    for i in 0..20 {
        a.push_str(&format!(
            "pub fn f{i}(x: u32) -> u32 {{\n    x + {i}\n}}\n\n"
        ));
        lib.push_str(&format!("pub mod use{i};\npub mod top{i};\n"));
        r.write(
            &format!("src/use{i}.rs"),
            format!("use crate::a::f{i};\n\npub fn g{i}() -> u32 {{\n    f{i}(1) * 2\n}}\n"),
        );
        r.write(
            &format!("src/top{i}.rs"),
            format!("pub fn top{i}() -> u32 {{\n    crate::use{i}::g{i}()\n}}\n"),
        );
    }
    r.write("src/a.rs", a);
    r.write("src/lib.rs", lib);
    r.commit("twenty functions");
    r.branch("feature");
    r
}

#[test]
fn rust_comment_and_formatting_only_edits_reach_nothing() {
    let r = rust_twenty();
    edit(&r, "src/a.rs", |s| {
        s.replace(
            "pub fn f2(x: u32) -> u32 {\n    x + 2\n}\n",
            "/// Adds two.\npub fn f2(x: u32)\n    -> u32\n{\n    // the answer\n    x + 2\n}\n",
        )
    });
    edit(&r, "src/use4.rs", |s| {
        s.replace("f4(1) * 2", "f4(1,) * 2 /* twice */")
    });
    r.commit("rustfmt and docs");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(v["dimensions"]["impact"]["score"], 0, "{v:#}");
    assert!(changed(&v, "src/a.rs").is_empty());
    assert!(changed(&v, "src/use4.rs").is_empty());
}

#[test]
fn rust_body_change_reaches_only_that_functions_users() {
    let r = rust_twenty();
    edit(&r, "src/a.rs", |s| s.replace("x + 11\n", "x + 110\n"));
    r.commit("f11");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(
        changed(&v, "src/a.rs"),
        vec![("f11".to_string(), "body".to_string())]
    );
    assert_eq!(reached(&v), set(&["src/use11.rs", "src/top11.rs"]));
}

#[test]
fn rust_removed_function_reaches_its_users() {
    let r = rust_twenty();
    edit(&r, "src/a.rs", |s| {
        s.replace("pub fn f6(x: u32) -> u32 {\n    x + 6\n}\n", "")
    });
    r.commit("drop f6");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(
        changed(&v, "src/a.rs"),
        vec![("f6".to_string(), "removed".to_string())]
    );
    assert_eq!(reached(&v), set(&["src/use6.rs", "src/top6.rs"]));
}

#[test]
fn rust_private_fn_reaches_only_its_module() {
    let r = rust_twenty();
    edit(&r, "src/lib.rs", |s| {
        format!("{s}pub mod shapes;\npub mod other;\n")
    });
    r.write(
        "src/shapes.rs",
        "mod inner;\n\npub struct Shape(pub u32);\n\nimpl Shape {\n    pub fn area(&self) -> u32 {\n        self.0\n    }\n\n    fn secret(&self) -> u32 {\n        self.0 + 1\n    }\n}\n\nfn helper() -> u32 {\n    1\n}\n\npub fn unrelated() -> u32 {\n    2\n}\n",
    );
    r.write(
        "src/shapes/inner.rs",
        "pub fn child() -> u32 {\n    super::helper() + super::Shape(1).secret()\n}\n",
    );
    r.write(
        "src/other.rs",
        "use crate::shapes::*;\n\nfn helper() -> u32 {\n    7\n}\n\npub fn outside() -> u32 {\n    helper() + Shape(2).area() + unrelated()\n}\n",
    );
    r.commit("shapes");
    edit(&r, "src/shapes.rs", |s| {
        s.replace(
            "fn helper() -> u32 {\n    1\n}",
            "fn helper() -> u32 {\n    10\n}",
        )
        .replace("self.0 + 1", "self.0 + 2")
    });
    r.commit("private changes");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    assert_eq!(
        changed(&v, "src/shapes.rs"),
        vec![
            ("Shape::secret".to_string(), "body".to_string()),
            ("helper".to_string(), "body".to_string()),
        ]
    );
    // The child module sees both; `other.rs` has a `helper` of its own and uses `Shape`, whose
    // changed member is private to `shapes`.
    assert_eq!(reached(&v), set(&["src/shapes/inner.rs"]));
}

#[test]
fn rust_test_modules_in_production_files_count_as_tests() {
    let r = rust_twenty();
    edit(&r, "src/lib.rs", |s| format!("{s}pub mod checks;\n"));
    r.write(
        "src/checks.rs",
        "pub fn unrelated() -> u32 {\n    0\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn f1_adds_one() {\n        assert_eq!(crate::a::f1(1), 2);\n    }\n}\n",
    );
    r.commit("checks");
    edit(&r, "src/a.rs", |s| s.replace("x + 1\n", "x + 100\n"));
    r.commit("f1");
    let (_, v) = r.score_json(&["--base", "HEAD~1"]);
    assert_eq!(reached(&v), set(&["src/use1.rs", "src/top1.rs"]));
    assert_eq!(evidence(&v)["tests_affected"], 1);
}

#[test]
fn rust_reexports_and_module_paths_are_followed() {
    let r = rust_twenty();
    edit(&r, "src/lib.rs", |s| {
        format!("{s}pub mod api;\npub use api::Thing as PublicThing;\npub mod client;\n")
    });
    r.write(
        "src/api.rs",
        "pub struct Thing;\n\nimpl Thing {\n    pub fn go(&self) -> u32 {\n        1\n    }\n}\n\npub fn untouched() -> u32 {\n    0\n}\n",
    );
    r.write(
        "src/client.rs",
        "use crate::PublicThing;\nuse crate::api;\n\npub fn call() -> u32 {\n    PublicThing.go()\n}\n\npub fn other() -> u32 {\n    api::untouched()\n}\n",
    );
    r.write(
        "src/bin/tool.rs",
        "fn main() {\n    demo::client::call();\n}\n",
    );
    r.commit("api");
    edit(&r, "src/api.rs", |s| {
        s.replace("        1\n", "        2\n")
    });
    r.commit("go returns 2");
    let (_, v) = r.score_json(&["--base", "HEAD~1", "--explain"]);
    assert_eq!(
        changed(&v, "src/api.rs"),
        vec![("Thing::go".to_string(), "body".to_string())]
    );
    assert_eq!(reached(&v), set(&["src/client.rs", "src/bin/tool.rs"]));
    let path = &evidence(&v)["paths"][1]["via"];
    assert_eq!(
        path,
        &serde_json::json!([
            "src/api.rs#Thing::go",
            "src/api.rs#Thing",
            "src/client.rs#call",
            "src/bin/tool.rs#main"
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// `pr-risk graph --symbols`

#[test]
fn graph_symbols_lists_declarations_and_their_users() {
    let r = ts_twenty();
    let run = r.run(&["graph", "--symbols", "src/use3.ts"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "src/use3.ts: 1 declaration\n  g3 (function, exported, lines 3–5)\n    uses src/lib.ts#f3\n    used by src/top3.ts#top3\n"
    );
    let run = r.run(&["graph", "--symbols", "src/use3.ts", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["symbols"][0]["name"], "g3");
    assert_eq!(v["symbols"][0]["users"][0]["file"], "src/top3.ts");
    let run = r.run(&["graph", "--symbols", "src/nope.ts"]);
    run.assert_code(2);
}
