//! The layers, enforced: a test that reads every `crate::…` and `super::…` path of the sources
//! and fails on a back edge.
//!
//! - Crates depend one way (Cargo refuses cycles): the binary → outlets → engine; the engine has
//!   no CLI, HTTP or template dependency, and only the engine's `git` module names `git2`.
//! - Inside the engine, top-level modules import only modules to their left:
//!   `git < lang < parse < resolve < deps < graph < score < guide < report < cache < pipeline <
//!   eval`,
//!   with
//!   `error`, `glob` and `hash` below them all.
//! - Inside the outlets and the binary, the top-level modules form no cycle, in the order listed
//!   below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of each crate in their allowed order: a module may use those with a rank
/// lower than or equal to its own.
const ENGINE: &[(&str, u32)] = &[
    ("lib", 100),
    ("error", 0),
    ("glob", 0),
    ("hash", 0),
    ("git", 1),
    ("lang", 2),
    ("parse", 3),
    ("resolve", 4),
    ("deps", 5),
    ("graph", 6),
    ("score", 7),
    ("guide", 8),
    ("report", 9),
    ("cache", 10),
    ("pipeline", 11),
    ("eval", 12),
];

const OUTLETS: &[(&str, u32)] = &[
    ("lib", 100),
    ("secret", 0),
    ("http", 0),
    ("render", 1),
    ("github", 2),
    ("cloud", 2),
    ("osv", 2),
];

const BINARY: &[(&str, u32)] = &[
    ("lib", 100),
    ("main", 100),
    ("args", 0),
    ("config", 0),
    ("progress", 0),
    ("commands", 1),
    ("cli", 2),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The source with comments, string and char literals blanked out (lines kept).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if c == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            j += 1;
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            let end = (j + close.len()).min(b.len());
            for &x in &b[i..end] {
                blank(&mut out, x);
            }
            i = end;
        } else if c == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                if i < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{..}') — not a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p)
            } else {
                let ch_len = std::str::from_utf8(&b[i + 1..])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 1 + ch_len)
            };
            match end {
                Some(e) => {
                    for &x in &b[i..=e] {
                        blank(&mut out, x);
                    }
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The module path of a file inside its crate's `src/` (`score/coupling/mod.rs` →
/// `[score, coupling]`, `lib.rs` → `[lib]`).
fn module_path(src_dir: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src_dir).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.len() > 1 && parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

/// The top-level modules a file refers to through `crate::…` (grouped `use crate::{a, b}`
/// included) and through `super::` chains that climb to the crate root.
fn references(code: &str, module: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let bytes = code.as_bytes();
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            continue; // `$crate::`, `pr_risk_crate::`
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the identifiers at depth 1.
            let mut depth = 1;
            let mut start = true;
            for (j, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => start = true,
                    c if start && depth == 1 && !c.is_whitespace() => {
                        let name = ident(&group[j..]);
                        if !name.is_empty() && name != "self" {
                            out.insert(name);
                        }
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    for (i, _) in code.match_indices("super::") {
        if i > 0
            && (bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':')
        {
            continue; // counted from the first `super::` of a chain
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups == module.len() {
            let name = ident(rest);
            if !name.is_empty() && name != "self" {
                out.insert(name);
            }
        }
    }
    out
}

/// Every back edge of one crate: (file, the module it uses that ranks above its own).
fn back_edges(src_dir: &Path, ranks: &[(&str, u32)]) -> Vec<String> {
    let rank: BTreeMap<&str, u32> = ranks.iter().copied().collect();
    let mut bad = Vec::new();
    for file in rust_files(src_dir) {
        let module = module_path(src_dir, &file);
        let top = module[0].as_str();
        let Some(&own) = rank.get(top) else {
            bad.push(format!(
                "{}: top-level module `{top}` has no place in the layer list of tests/integration/layers.rs",
                file.display()
            ));
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for used in references(&code, &module) {
            let Some(&theirs) = rank.get(used.as_str()) else {
                continue; // an item of the crate root (`crate::VERSION`, `crate::Error`)
            };
            if used != top && theirs > own {
                bad.push(format!(
                    "{}: `{top}` (rank {own}) uses `{used}` (rank {theirs})",
                    file.display()
                ));
            }
        }
    }
    bad
}

#[test]
fn engine_modules_import_only_lower_layers() {
    let bad = back_edges(&root().join("crates/engine/src"), ENGINE);
    assert!(bad.is_empty(), "back edges:\n{}", bad.join("\n"));
}

#[test]
fn outlets_and_binary_modules_form_no_cycle() {
    let mut bad = back_edges(&root().join("crates/outlets/src"), OUTLETS);
    bad.extend(back_edges(&root().join("src"), BINARY));
    assert!(bad.is_empty(), "back edges:\n{}", bad.join("\n"));
}

#[test]
fn only_the_git_layer_names_git2() {
    let mut bad = Vec::new();
    for dir in ["crates/engine/src", "crates/outlets/src", "src"] {
        for file in rust_files(&root().join(dir)) {
            if file.starts_with(root().join("crates/engine/src/git")) {
                continue;
            }
            let code = code_only(&std::fs::read_to_string(&file).unwrap());
            for (n, line) in code.lines().enumerate() {
                if line.contains("git2") || line.contains("libgit2") {
                    bad.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "git2 outside engine::git:\n{}",
        bad.join("\n")
    );
}

/// The engine stays a library of the domain: no command-line parser, HTTP client or template
/// engine; the outlets do not depend on the CLI either.
#[test]
fn crate_dependencies_point_one_way() {
    let deps = |manifest: &str| -> BTreeSet<String> {
        let text = std::fs::read_to_string(root().join(manifest)).unwrap();
        let v: toml_edit_free::Table = toml_edit_free::parse(&text);
        v.dependencies
    };
    let engine = deps("crates/engine/Cargo.toml");
    for forbidden in [
        "clap",
        "reqwest",
        "octocrab",
        "minijinja",
        "tokio",
        "pr-risk-outlets",
        "outlets",
        "pr-risk",
    ] {
        assert!(
            !engine.contains(forbidden),
            "the engine depends on {forbidden}"
        );
    }
    let outlets = deps("crates/outlets/Cargo.toml");
    for forbidden in ["clap", "git2", "pr-risk"] {
        assert!(
            !outlets.contains(forbidden),
            "the outlets depend on {forbidden}"
        );
    }
    assert!(deps("Cargo.toml").contains("engine"));
}

/// A reader for the `[dependencies]` keys of a Cargo manifest (enough for the check above,
/// without a TOML dependency in the tests).
mod toml_edit_free {
    use std::collections::BTreeSet;

    pub struct Table {
        pub dependencies: BTreeSet<String>,
    }

    pub fn parse(text: &str) -> Table {
        let mut dependencies = BTreeSet::new();
        let mut section = String::new();
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with('[') {
                section = t.trim_matches(|c| c == '[' || c == ']').to_string();
                continue;
            }
            if section == "dependencies" {
                if let Some((key, _)) = t.split_once('=') {
                    let key = key.trim().trim_end_matches(".workspace").trim();
                    if !key.is_empty() && !key.starts_with('#') {
                        dependencies.insert(key.to_string());
                    }
                }
            }
        }
        Table { dependencies }
    }
}

#[test]
fn the_checker_sees_back_edges() {
    // It must be able to fail: every form of reference it claims to read.
    let m = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let refs = |code: &str, module: &[&str]| {
        references(&code_only(code), &m(module))
            .into_iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(refs("use crate::cache::ParseCache;", &["parse"]), ["cache"]);
    assert_eq!(
        refs("use crate::{git::Repo, score::{a, b}, self};", &["parse"]),
        ["git", "score"]
    );
    assert_eq!(
        refs("let x = crate::pipeline::run();", &["score", "impact"]),
        ["pipeline"]
    );
    assert_eq!(
        refs("use super::super::cache;", &["score", "impact"]),
        ["cache"]
    );
    assert!(refs("use super::Dimension;", &["score", "impact"]).is_empty());
    assert!(refs("// crate::cache\nlet s = \"crate::cache\";", &["parse"]).is_empty());
    assert!(refs(
        "let c = 'x'; fn f<'a>(x: &'a str) {} // crate::cache",
        &["parse"]
    )
    .is_empty());
    assert!(refs("let s = r#\"crate::cache\"#;", &["parse"]).is_empty());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("git")).unwrap();
    std::fs::write(dir.path().join("git/mod.rs"), "use crate::pipeline::x;\n").unwrap();
    let bad = back_edges(dir.path(), ENGINE);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("`git` (rank 1) uses `pipeline` (rank 11)"),
        "{bad:?}"
    );
}
