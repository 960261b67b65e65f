//! Reviewer guidance: suggested reviewers from CODEOWNERS (of the base commit), and the tests that
//! reach the change — `pr-risk affected-tests` and the report.

use serde_json::Value;

use crate::support::{RunPrRisk, TestRepo};

/// A TypeScript project with vitest-style `*.test.ts`, jest-style `__tests__/` and an e2e spec.
fn ts_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("package.json", r#"{"name":"shop"}"#)
        .write("src/pricing.ts", "export const price = (n: number) => n * 2;\n")
        .write("src/tax.ts", "export const tax = 0.2;\n")
        .write(
            "src/cart.ts",
            "import { price } from './pricing';\nexport const total = (ns: number[]) => ns.map(price);\n",
        )
        .write(
            "src/pricing.test.ts",
            "import { price } from './pricing';\ntest('p', () => price(1));\n",
        )
        .write(
            "src/__tests__/cart.ts",
            "import { total } from '../cart';\ntest('c', () => total([1]));\n",
        )
        .write(
            "e2e/checkout.spec.ts",
            "import { total } from '../src/cart';\nexport const flow = total;\n",
        )
        .write(
            ".github/CODEOWNERS",
            "* @acme/core\nsrc/ @ana @bo\nsrc/pricing.ts @cy\n",
        );
    r.commit("shop");
    r.branch("feature");
    r.write(
        "src/pricing.ts",
        "export const price = (n: number) => n * 3;\n",
    )
    .write("src/tax.ts", "export const tax = 0.25;\n")
    // The pull request cannot name its own reviewers: CODEOWNERS comes from the base.
    .write(".github/CODEOWNERS", "* @mallory\n");
    r.commit("reprice, retax");
    r
}

#[test]
fn affected_tests_nearest_first_for_typescript_layouts() {
    let r = ts_repo();
    let run = r.run(&["affected-tests", "--base", "main"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "src/pricing.test.ts\ne2e/checkout.spec.ts\nsrc/__tests__/cart.ts\n"
    );
    let run = r.run(&["affected-tests", "--base", "main", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["tests"][1]["distance"], 2);
    assert_eq!(
        v["tests"][1]["via"],
        serde_json::json!(["e2e/checkout.spec.ts", "src/cart.ts", "src/pricing.ts"])
    );
    assert_eq!(v["unreached"], serde_json::json!(["src/tax.ts"]));
    let run = r.run(&["affected-tests", "--base", "main", "--format", "nextest"]);
    assert_eq!(run.stdout, "none()\n", "no Rust test to select");
}

#[test]
fn the_report_suggests_owners_from_the_base_and_says_what_no_test_reaches() {
    let r = ts_repo();
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let g = &v["guidance"];
    assert_eq!(g["codeowners"], ".github/CODEOWNERS");
    let who: Vec<&str> = g["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["who"].as_str().unwrap())
        .collect();
    // src/pricing.ts → @cy (last match); src/tax.ts → @ana @bo; .github/CODEOWNERS → @acme/core.
    assert_eq!(who, ["@acme/core", "@ana", "@bo"]);
    assert!(
        !who.contains(&"@mallory"),
        "the PR's own CODEOWNERS is not used"
    );
    let text = r.run(&["score", "--base", "main"]).stdout;
    assert!(text.contains("! no test reaches src/tax.ts"), "{text}");
    assert!(text.contains("Suggested reviewers:"), "{text}");
    let md = r
        .run(&["score", "--base", "main", "--format", "markdown"])
        .stdout;
    assert!(md.contains("⚠️ no test reaches `src/tax.ts`"), "{md}");
    assert!(md.contains("**Suggested reviewers**: `@acme/core`"), "{md}");
}

#[test]
fn max_reviewers_and_switching_guidance_off() {
    let r = ts_repo();
    r.write(
        ".pr-risk.yml",
        "guidance:\n  max-reviewers: 1\n  affected-tests: false\n",
    );
    r.commit("config");
    let (_, v) = r.score_json(&["--base", "main"]);
    assert_eq!(v["guidance"]["reviewers"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["guidance"]["affected_tests"]["tests"],
        serde_json::json!([])
    );
}

/// Rust: an integration test in `tests/` reaches the library through the crate name; a source file
/// with an inline `#[cfg(test)]` module names its unit tests; both as `cargo nextest` filters.
#[test]
fn affected_tests_for_rust_integration_and_unit_tests() {
    let r = TestRepo::new();
    r.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/geo\"]\nresolver = \"2\"\n",
    )
    .write(
        "crates/geo/Cargo.toml",
        "[package]\nname = \"geo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .write("crates/geo/src/lib.rs", "pub mod shapes;\npub mod units;\n")
    .write(
        "crates/geo/src/shapes.rs",
        "pub fn area(r: f64) -> f64 {\n    r * r\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn unit() {\n        assert_eq!(super::area(1.0), 1.0);\n    }\n}\n",
    )
    .write("crates/geo/src/units.rs", "pub const M: f64 = 1.0;\n")
    .write(
        "crates/geo/tests/area.rs",
        "use geo::shapes::area;\n\n#[test]\nfn it() {\n    assert_eq!(area(2.0), 4.0);\n}\n",
    );
    r.commit("geo");
    r.branch("feature");
    r.write(
        "crates/geo/src/shapes.rs",
        "pub fn area(r: f64) -> f64 {\n    r * r * 1.0\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn unit() {\n        assert_eq!(super::area(1.0), 1.0);\n    }\n}\n",
    );
    r.commit("area");
    let run = r.run(&["affected-tests", "--base", "main"]);
    run.assert_code(0);
    assert_eq!(run.stdout, "crates/geo/tests/area.rs\n");
    let run = r.run(&["affected-tests", "--base", "main", "--format", "nextest"]);
    assert_eq!(
        run.stdout,
        "(package(geo) & binary(area)) | (package(geo) & kind(lib) & test(/^shapes::/))\n"
    );
}
