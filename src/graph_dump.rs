//! The dependency graph of one side as JSON: every node, every edge, every unresolved import.
//!
//! `{ "nodes": [{path, source}], "edges": [{from, to, line, kind, type_only}], "unresolved":
//! [{from, line, specifier, kind}] }`, sorted, so the same graph gives the same bytes.

use serde_json::{json, Value};

use crate::pipeline::Side;

pub fn graph_json(side: &Side) -> Value {
    let g = &side.graph;
    let mut nodes: Vec<Value> = g
        .graph
        .node_indices()
        .map(|n| json!({ "path": g.path(n), "source": g.graph[n].source }))
        .collect();
    nodes.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    let edges: Vec<Value> = g
        .edges()
        .into_iter()
        .map(|(from, to, e)| {
            json!({
                "from": from,
                "to": to,
                "line": e.line,
                "kind": e.kind,
                "type_only": e.type_only,
            })
        })
        .collect();
    json!({
        "nodes": nodes,
        "edges": edges,
        "unresolved": g.unresolved,
    })
}
