//! Finding identity: how a finding at head is recognised as one that already existed at base.
//!
//! A finding is identified by **(rule, enclosing item, anchor, ordinal)**:
//!
//! - the *enclosing item* is the path of named constructs around it, outermost first:
//!   `impl Context › fn is_tracing`, `ordersRouter › refund`, `app.post("/api/users")`;
//! - the *anchor* is the sink call or keyword (`exec`, `res.status().json`, `unsafe{}`, the
//!   procedure's `mutation`), normalised: whitespace and comments removed, argument lists
//!   collapsed — so reformatting, a comment, or a log line inside the construct changes nothing;
//! - the *ordinal* counts equal (rule, item, anchor) triples in source order, so a second sink
//!   added to the same function is a new finding.
//!
//! There are no line numbers and no file contents outside the anchor in it: code that moves, is
//! re-indented or is edited around keeps its identity. The identity's hash, with the head path,
//! is the finding's `fingerprint` (also SARIF's `partialFingerprints`).

use serde::Serialize;
use tree_sitter::Node;

/// The parts of a finding's identity.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// Enclosing named items, outermost first, joined by ` › ` (empty at file level).
    pub item: String,
    /// The normalised sink call or keyword.
    pub anchor: String,
    /// Index among findings of the same rule, item and anchor in the file, in source order.
    pub ordinal: u32,
}

/// The separator between item names.
pub const SEP: &str = " › ";

/// Text of a node with whitespace and comments removed (the leaves' texts, concatenated).
pub fn normalised(node: Node, src: &[u8]) -> String {
    let mut out = String::new();
    let mut cursor = node.walk();
    'walk: loop {
        let n = cursor.node();
        let is_comment = n.kind().contains("comment");
        if !is_comment && (n.child_count() == 0 || is_string_leafish(n.kind())) {
            let t = n.utf8_text(src).unwrap_or("");
            out.extend(t.chars().filter(|c| !c.is_whitespace()));
        } else if !is_comment && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == node {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

/// Strings are taken whole (their inner structure is of no interest to an anchor).
fn is_string_leafish(kind: &str) -> bool {
    matches!(kind, "string" | "string_literal" | "raw_string_literal")
}

/// A callee with argument lists collapsed: `res.status(500).json` → `res.status().json`.
fn callee(node: Node, src: &[u8]) -> String {
    callee_at(node, src, 0)
}

/// [`callee`], at most 64 levels deep (a hostile file can nest a chain arbitrarily).
fn callee_at(node: Node, src: &[u8], depth: usize) -> String {
    if depth > 64 {
        return "…".to_string();
    }
    let callee = |n: Node, src: &[u8]| callee_at(n, src, depth + 1);
    match node.kind() {
        "call_expression" => {
            let f = node
                .child_by_field_name("function")
                .map(|f| callee(f, src))
                .unwrap_or_default();
            format!("{f}()")
        }
        "member_expression" | "field_expression" => {
            let obj = node
                .child_by_field_name("object")
                .or_else(|| node.child_by_field_name("value"))
                .map(|o| callee(o, src))
                .unwrap_or_default();
            let prop = node
                .child_by_field_name("property")
                .or_else(|| node.child_by_field_name("field"))
                .map(|p| normalised(p, src))
                .unwrap_or_default();
            format!("{obj}.{prop}")
        }
        "parenthesized_expression"
        | "await_expression"
        | "non_null_expression"
        | "as_expression" => node
            .named_child(0)
            .map(|c| callee(c, src))
            .unwrap_or_default(),
        "generic_function" => node
            .child_by_field_name("function")
            .map(|f| callee(f, src))
            .unwrap_or_default(),
        _ => {
            let t = normalised(node, src);
            if t.len() > 80 {
                node.kind().to_string()
            } else {
                t
            }
        }
    }
}

/// The default anchor of a matched node: its call, keyword or declared name.
pub fn default_anchor(node: Node, src: &[u8]) -> String {
    let field = |name: &str| node.child_by_field_name(name);
    let text = |n: Option<Node>| n.map(|n| normalised(n, src)).unwrap_or_default();
    match node.kind() {
        "call_expression" => {
            // Rust method calls: `x.arg(…)` is a call of a field expression.
            let f = field("function");
            match f {
                Some(f) => callee(f, src),
                None => node.kind().to_string(),
            }
        }
        "new_expression" => format!("new {}", text(field("constructor"))),
        "macro_invocation" => format!("{}!", text(field("macro"))),
        "unsafe_block" => "unsafe{}".to_string(),
        "function_item" | "function_declaration" | "method_definition" => {
            let unsafe_ = if node.kind() == "function_item" && has_unsafe_modifier(node) {
                "unsafe "
            } else {
                ""
            };
            format!("{unsafe_}fn {}", text(field("name")))
        }
        "impl_item" => format!(
            "impl {}{}",
            field("trait")
                .map(|t| format!("{} for ", normalised(t, src)))
                .unwrap_or_default(),
            text(field("type"))
        ),
        "trait_item" => format!("trait {}", text(field("name"))),
        "export_statement" => match field("declaration") {
            Some(d) => format!("export {}", default_anchor(d, src)),
            None => "export".to_string(),
        },
        "assignment_expression" | "augmented_assignment_expression" => {
            format!("{}=", text(field("left")))
        }
        "jsx_attribute" => node
            .named_child(0)
            .map(|n| normalised(n, src))
            .unwrap_or_default(),
        "pair" => text(field("key")),
        "variable_declarator" => text(field("name")),
        _ => node.kind().to_string(),
    }
}

fn has_unsafe_modifier(node: Node) -> bool {
    let mut c = node.walk();
    let found = node.children(&mut c).any(|ch| {
        ch.kind() == "function_modifiers" && {
            let mut c2 = ch.walk();
            let any = ch.children(&mut c2).any(|m| m.kind() == "unsafe");
            any
        }
    });
    found
}

/// The names of the items enclosing `node` (itself excluded), outermost first, joined by ` › `.
pub fn item_path(node: Node, src: &[u8]) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut child = node;
    let mut cur = node.parent();
    while let Some(n) = cur {
        if let Some(name) = item_name(n, child, src) {
            names.push(name);
        }
        child = n;
        cur = n.parent();
    }
    names.reverse();
    names.join(SEP)
}

/// The name an ancestor contributes to an item path, if it is a named item. `child` is the
/// ancestor's child on the way to the finding.
fn item_name(n: Node, child: Node, src: &[u8]) -> Option<String> {
    let field = |name: &str| n.child_by_field_name(name);
    let text = |x: Option<Node>| x.map(|x| normalised(x, src));
    match n.kind() {
        // TypeScript / JavaScript
        "function_declaration"
        | "generator_function_declaration"
        | "method_definition"
        | "class_declaration"
        | "abstract_class_declaration"
        | "class"
        | "internal_module"
        | "module"
        | "public_field_definition"
        | "function_expression" => text(field("name")),
        "variable_declarator" => {
            let name = field("name")?;
            (name.kind() == "identifier").then(|| normalised(name, src))
        }
        "pair" => {
            // Only when the finding is in the value (not the key).
            (field("value").map(|v| v.id()) == Some(child.id())).then(|| text(field("key")))?
        }
        "assignment_expression" => {
            let left = field("left")?;
            (field("right").map(|v| v.id()) == Some(child.id())
                && matches!(left.kind(), "member_expression" | "identifier"))
            .then(|| normalised(left, src))
        }
        "export_statement" => {
            // `export default function () {}`: the unnamed default export.
            let named = field("declaration").is_some();
            (!named && n.child(1).is_some_and(|c| c.kind() == "default"))
                .then(|| "default".to_string())
        }
        "arguments" => {
            // A callback passed to a call: `app.post("/users", (req, res) => …)` → the call
            // with its first literal argument.
            if !matches!(child.kind(), "arrow_function" | "function_expression") {
                return None;
            }
            let call = n.parent()?;
            if call.kind() != "call_expression" {
                return None;
            }
            let f = call.child_by_field_name("function")?;
            let mut c = n.walk();
            let lit = n
                .named_children(&mut c)
                .find(|a| matches!(a.kind(), "string" | "template_string"))
                .map(|a| normalised(a, src));
            // Only calls that name what the callback is for (`app.post("/users", …)`,
            // `describe("…", …)`); `useEffect(() => …)`, `.mutation(…)` add nothing.
            lit.map(|l| format!("{}({l})", callee(f, src)))
        }
        // Rust
        "function_item" => text(field("name")).map(|x| format!("fn {x}")),
        "impl_item" => Some(format!(
            "impl {}{}",
            field("trait")
                .map(|t| format!("{} for ", normalised(t, src)))
                .unwrap_or_default(),
            text(field("type")).unwrap_or_default()
        )),
        "trait_item" => text(field("name")).map(|x| format!("trait {x}")),
        "mod_item" => text(field("name")).map(|x| format!("mod {x}")),
        "const_item" | "static_item" => text(field("name")).map(|x| format!("const {x}")),
        "macro_definition" => text(field("name")).map(|x| format!("macro {x}")),
        _ => None,
    }
}

/// FNV-1a, 64 bits: stable across runs, platforms and versions (unlike `DefaultHasher`).
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The fingerprint of a finding: its identity and (head) path, hashed.
pub fn fingerprint(rule: &str, path: &str, id: &Identity) -> String {
    format!(
        "{:016x}",
        fnv1a(&[rule, path, &id.item, &id.anchor, &id.ordinal.to_string()])
    )
}

/// The anchor of a secret: a hash of its value (the value itself is never kept).
pub fn secret_anchor(value: &str) -> String {
    format!("value#{:016x}", fnv1a(&[value]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::security::engine::parse;
    use crate::score::security::rules::Language;

    /// Item path and anchor of the first node of `kind` in `code`.
    fn at(lang: Language, code: &str, kind: &str) -> (String, String) {
        let tree = parse(lang, code).unwrap();
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() == kind {
                return (
                    item_path(n, code.as_bytes()),
                    default_anchor(n, code.as_bytes()),
                );
            }
            let mut c = n.walk();
            let mut kids: Vec<Node> = n.children(&mut c).collect();
            kids.reverse();
            stack.extend(kids);
        }
        panic!("no {kind} in {code}")
    }

    #[test]
    fn rust_items_and_keywords() {
        let code = "mod m { impl Context { fn is_tracing(&self) -> bool { unsafe { *self.p } } } }";
        assert_eq!(
            at(Language::Rust, code, "unsafe_block"),
            (
                "mod m › impl Context › fn is_tracing".to_string(),
                "unsafe{}".to_string()
            )
        );
        let code = "impl<T> Send for Handle<T> {}\nunsafe fn raw() {}";
        assert_eq!(at(Language::Rust, code, "function_item").1, "unsafe fn raw");
    }

    #[test]
    fn typescript_items_and_calls() {
        let code = "export const ordersRouter = router({\n  refund: publicProcedure.input(x).mutation(async ({ input }) => {\n    // note\n    await db.refund(input);\n  }),\n});";
        let (item, anchor) = at(Language::Typescript, code, "await_expression");
        assert_eq!(item, "ordersRouter › refund");
        assert_eq!(anchor, "await_expression");
        let code = "app.post('/api/users', async (req, res) => {\n  res.status(500).json({ error: err.message });\n});";
        let tree = parse(Language::Javascript, code).unwrap();
        let root = tree.root_node();
        // The inner `res.status(500).json(…)` call.
        let call = root
            .descendant_for_byte_range(
                code.find("res.status").unwrap(),
                code.find("res.status").unwrap() + 3,
            )
            .unwrap();
        let mut n = call;
        while n.kind() != "call_expression"
            || !n.utf8_text(code.as_bytes()).unwrap().ends_with("})")
        {
            n = n.parent().unwrap();
        }
        assert_eq!(item_path(n, code.as_bytes()), "app.post('/api/users')");
        assert_eq!(default_anchor(n, code.as_bytes()), "res.status().json");
    }

    #[test]
    fn a_deep_chain_does_not_overflow() {
        let code = format!("x{}();", ".y".repeat(20_000));
        let tree = parse(Language::Typescript, &code).unwrap();
        let call = tree
            .root_node()
            .named_child(0)
            .unwrap()
            .named_child(0)
            .unwrap();
        assert_eq!(call.kind(), "call_expression");
        let anchor = default_anchor(call, code.as_bytes());
        assert!(anchor.ends_with(".y"), "{}", &anchor[..20]);
    }

    #[test]
    fn normalising_drops_whitespace_and_comments() {
        let a = "fn f() { unsafe { /* why */ *p } }";
        let b = "fn f() {\n    unsafe {\n        *p\n    }\n}";
        let ta = parse(Language::Rust, a).unwrap();
        let tb = parse(Language::Rust, b).unwrap();
        assert_eq!(
            normalised(ta.root_node(), a.as_bytes()),
            normalised(tb.root_node(), b.as_bytes())
        );
    }
}
