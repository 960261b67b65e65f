//! The engine end to end: revisions, change set, graph, impact, report, exit codes.

use crate::support::TestRepo;

#[test]
fn scores_a_small_typescript_change() {
    let r = TestRepo::new();
    r.write("src/lib/pricing.ts", "export const price = 1;\n")
        .write(
            "src/cart.ts",
            "import { price } from './lib/pricing';\nexport const cart = price;\n",
        )
        .write(
            "src/index.ts",
            "import { cart } from './cart.js';\nconsole.log(cart);\n",
        );
    r.commit("initial");
    r.branch("feature");
    r.write("src/lib/pricing.ts", "export const price = 2;\n");
    r.commit("change price");
    let (run, v) = r.score_json(&["--base", "main"]);
    run.assert_code(0);
    let files = &v["dimensions"]["impact"]["evidence"]["files"];
    assert_eq!(files[0]["path"], "src/lib/pricing.ts");
    assert_eq!(files[0]["downstream"], 2);
    assert_eq!(
        files[0]["dependents"],
        serde_json::json!(["src/cart.ts", "src/index.ts"])
    );
}
