//! The `sarif-file` input: SARIF 2.1.0 with the report's security findings and coupling
//! violations (read from the report JSON, like the templates), for code scanning upload.

use serde_json::{json, Value};

pub fn from_report(report: &Value) -> String {
    let d = &report["dimensions"];
    let mut rules: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let add_rule = |id: &str, rules: &mut Vec<Value>| {
        if !rules.iter().any(|r| r["id"] == id) {
            rules.push(json!({ "id": id, "name": id, "shortDescription": { "text": id } }));
        }
    };
    let level = |s: &str| match s {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    };
    let location = |path: &str, line: u64| {
        json!([{ "physicalLocation": {
            "artifactLocation": { "uri": path, "uriBaseId": "%SRCROOT%" },
            "region": { "startLine": line.max(1) }
        }}])
    };
    for f in d["security"]["evidence"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(rule), Some(path)) = (f["rule_id"].as_str(), f["path"].as_str()) else {
            continue;
        };
        add_rule(rule, &mut rules);
        results.push(json!({
            "ruleId": rule,
            "level": level(f["severity"].as_str().unwrap_or("")),
            "message": { "text": f["message"].as_str().unwrap_or(rule) },
            "locations": location(path, f["line"].as_u64().unwrap_or(1)),
        }));
    }
    for v in d["coupling"]["evidence"]["violations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(rule), Some(from), Some(to)) =
            (v["rule"].as_str(), v["from"].as_str(), v["to"].as_str())
        else {
            continue;
        };
        let id = format!("coupling/{rule}");
        add_rule(&id, &mut rules);
        results.push(json!({
            "ruleId": id,
            "level": level(v["severity"].as_str().unwrap_or("")),
            "message": { "text": format!("{from} → {to} violates {rule}") },
            "locations": location(from, v["from_line"].as_u64().unwrap_or(1)),
        }));
    }
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "pr-risk",
                "version": report["tool"]["version"],
                "informationUri": "https://github.com/massu-ai/pr-risk-action",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    s.push('\n');
    s
}
