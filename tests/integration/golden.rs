//! Golden reports: every output of `pr-risk score` on the fixtures, byte for byte.
//!
//! These pin the behaviour of the whole pipeline (graph, the four dimensions, the composite, the
//! gate and every renderer) so that moving code cannot change a report unnoticed. A change that
//! is meant to alter a report updates the snapshot in the same commit (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test golden`), and the diff shows exactly what changed.

use crate::support::{Author, RunPrRisk, TestRepo, EPOCH};

const DAY: i64 = 86_400;

/// Every format of one scenario: JSON, Markdown, SARIF and the explained terminal text.
fn outputs(name: &str, r: &TestRepo, base: &str) {
    for (suffix, args) in [
        ("json", vec!["--format", "json"]),
        ("md", vec!["--format", "markdown"]),
        ("sarif", vec!["--format", "sarif"]),
        ("txt", vec!["--format", "text", "--explain"]),
    ] {
        let mut all = vec!["score", "--base", base];
        all.extend(args);
        let run = r.run(&all);
        assert!(
            run.code == 0 || run.code == 1,
            "{name}.{suffix}: exit {}\n{}",
            run.code,
            run.stderr
        );
        insta::assert_snapshot!(format!("{name}.{suffix}"), run.stdout);
    }
}

#[test]
fn ts_monorepo() {
    outputs("ts-monorepo", &crate::engine::monorepo_pr(), "main");
}

#[test]
fn security_app() {
    outputs("security-app", &crate::security::fixture_repo(), "main");
}

#[test]
fn coupling_ts() {
    outputs("coupling-ts", &crate::coupling::fixture_repo(), "main");
}

#[test]
fn coupling_rust() {
    let r = TestRepo::new();
    r.copy_fixture("coupling-rust/base");
    r.commit("shop workspace");
    r.branch("feature");
    r.copy_fixture("coupling-rust/head");
    r.commit("domain persists orders; app reaches into infra::db");
    outputs("coupling-rust", &r, "main");
}

#[test]
fn rust_workspace() {
    let r = TestRepo::new();
    r.copy_fixture("rust-workspace");
    r.commit("geometry workspace");
    r.branch("feature");
    r.write(
        "crates/geo-core/src/shapes/circle.rs",
        "use crate::units::metric::Meters;\n\npub struct Circle {\n    pub r: Meters,\n}\n\nimpl Circle {\n    pub fn area(&self) -> f64 {\n        crate::sys::PI * self.r.0 * self.r.0\n    }\n\n    pub fn diameter(&self) -> f64 {\n        2.0 * self.r.0\n    }\n}\n",
    );
    r.write(
        "crates/fmt-helpers/src/lib.rs",
        "pub fn pad(s: &str, n: usize) -> String {\n    format!(\"{s:>n$}\")\n}\n",
    );
    r.commit("circle diameter; pad helper");
    outputs("rust-workspace", &r, "main");
}

/// The monorepo with 70 days of history (features and fixes by three people), then a PR that
/// touches the most-fixed file: every part of the regression dimension has something to say.
#[test]
fn monorepo_with_history() {
    let r = crate::engine::monorepo();
    let files = [
        "packages/lib/src/pricing.ts",
        "packages/ui/src/theme/index.ts",
        "apps/web/src/cart.js",
    ];
    let people = ["Ana", "Bo", "Cy"];
    for d in 0..70i64 {
        let path = files[(d % 3) as usize];
        let p = r.path().join(path);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&format!("// step {d}\n"));
        r.write(path, text);
        let msg = if d % 5 == 0 {
            format!("fix: {path} rounding ({d})")
        } else {
            format!("feat: extend {path} ({d})")
        };
        let who = Author::new(people[(d % 3) as usize], EPOCH + d * DAY);
        r.commit_as(&msg, &who);
    }
    r.branch("feature");
    r.write(
        "packages/lib/src/pricing.ts",
        "import type { Money } from \"./types\";\nimport { round } from \"@shared/math\";\n\nexport const price = (m: Money): number => round(m.cents / 100) * 1.25;\nexport const net = (m: Money): number => m.cents / 100;\n",
    );
    r.commit_as(
        "raise the price factor",
        &Author::new("Dee", EPOCH + 71 * DAY),
    );
    outputs("monorepo-history", &r, "main");
}
