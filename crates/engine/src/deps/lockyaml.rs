//! A fast reader for the YAML that package managers write (`pnpm-lock.yaml`, Yarn berry's
//! `yarn.lock`), with serde_yaml behind it for anything else.
//!
//! Why not serde_yaml alone: it reads a 41,000-line `pnpm-lock.yaml` (trpc's) in ~140 ms here, and
//! lock files of 50,000 lines must parse in well under 100 ms. Package managers write a small,
//! regular subset of YAML: block mappings and sequences indented with spaces, plain, single- and
//! double-quoted scalars, one-line flow mappings and sequences (`{integrity: sha512-…}`,
//! `[arm64]`), comments. This reader handles exactly that subset, keeps the line of every mapping
//! key (so a change can point at its lock-file entry), and refuses the rest (anchors, tags, block
//! scalars, multi-line flow collections, tabs): [`parse`] then falls back to serde_yaml, which is
//! slower but complete (its nodes carry no line numbers). Nothing here panics on any input.

use std::borrow::Cow;

/// A YAML node. Mapping entries keep their order, duplicates and the 1-based line of their key
/// (0 when the fallback parser read the document).
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Scalar(Cow<'a, str>),
    Map(Vec<Entry<'a>>),
    Seq(Vec<Node<'a>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub key: Cow<'a, str>,
    pub value: Node<'a>,
    pub line: u32,
}

impl<'a> Node<'a> {
    /// The value of `key` in a mapping (the first entry with that key).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// A scalar's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of `key`'s scalar value.
    pub fn str_of(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// A mapping's entries (empty for anything else).
    pub fn entries(&self) -> &[Entry<'a>] {
        match self {
            Node::Map(e) => e,
            _ => &[],
        }
    }

    /// `true` for the scalar `true`.
    pub fn is_true(&self) -> bool {
        self.as_str() == Some("true")
    }
}

/// Which reader read a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Fast,
    /// serde_yaml, after the fast reader refused the document (with why).
    Fallback,
}

/// Parse a document: the fast reader, else serde_yaml. `Err` only when neither can read it.
pub fn parse(text: &str) -> Result<(Node<'_>, Reader), String> {
    match parse_fast(text) {
        Ok(n) => Ok((n, Reader::Fast)),
        // The fallback is for YAML package managers do not write but people might; it is not
        // given what no lock file looks like. serde_yaml takes tens of seconds on a few hundred
        // KB of nested brackets (and the text is the pull request's).
        Err(fast) if fast.ends_with("nested too deep") || bracket_depth(text) > MAX_DEPTH => {
            Err(format!("not read: {fast}"))
        }
        Err(fast) if text.len() > MAX_FALLBACK_BYTES => Err(format!(
            "not read: {fast} (and larger than the {} MB the complete YAML reader is given)",
            MAX_FALLBACK_BYTES / (1024 * 1024)
        )),
        Err(fast) => match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(v) => Ok((from_serde(v), Reader::Fallback)),
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| format!("line {}: ", l.line()))
                    .unwrap_or_default();
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                Err(if at.is_empty() {
                    format!("not YAML ({fast}; {msg})")
                } else {
                    format!("not YAML: {at}{msg}")
                })
            }
        },
    }
}

/// The largest text given to the fallback reader.
const MAX_FALLBACK_BYTES: usize = 8 * 1024 * 1024;

/// The deepest nesting of `[`/`{` in a text (quotes ignored: it can only over-count).
fn bracket_depth(text: &str) -> u32 {
    let (mut depth, mut max) = (0u32, 0u32);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Convert a serde_yaml value (the fallback reader's output).
fn from_serde(v: serde_yaml::Value) -> Node<'static> {
    use serde_yaml::Value as V;
    match v {
        V::Null => Node::Null,
        V::Bool(b) => Node::Scalar(Cow::Owned(b.to_string())),
        V::Number(n) => Node::Scalar(Cow::Owned(n.to_string())),
        V::String(s) => Node::Scalar(Cow::Owned(s)),
        V::Sequence(s) => Node::Seq(s.into_iter().map(from_serde).collect()),
        V::Mapping(m) => Node::Map(
            m.into_iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        V::String(s) => s,
                        V::Number(n) => n.to_string(),
                        V::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some(Entry {
                        key: Cow::Owned(key),
                        value: from_serde(v),
                        line: 0,
                    })
                })
                .collect(),
        ),
        V::Tagged(t) => from_serde(t.value),
    }
}

/// One significant line: its indentation, its text without the indentation, its number.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
    no: u32,
}

/// The fast reader alone (`Err`: the document uses YAML this reader does not handle).
pub fn parse_fast(text: &str) -> Result<Node<'_>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Vec::with_capacity(text.len() / 24);
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let body = raw.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if body.starts_with('\t') {
            return Err(format!("line {no}: tab indentation"));
        }
        if body == "---" || body.starts_with("--- ") || body == "..." {
            continue;
        }
        if body.starts_with('%') {
            return Err(format!("line {no}: directive"));
        }
        lines.push(Line {
            indent: raw.len() - body.len(),
            text: body.trim_end(),
            no,
        });
    }
    if lines.is_empty() {
        return Ok(Node::Null);
    }
    let mut p = Parser {
        lines,
        pos: 0,
        depth: 0,
    };
    let indent = p.lines[0].indent;
    let node = p.block(indent)?;
    if let Some(l) = p.lines.get(p.pos) {
        return Err(format!("line {}: unexpected indentation", l.no));
    }
    Ok(node)
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    /// Nested blocks open now (bounded: a document is refused before the stack runs out).
    depth: u32,
}

/// Nested blocks the fast reader follows (lock files use five or six).
const MAX_DEPTH: u32 = 64;

impl<'a> Parser<'a> {
    /// The block starting at the current line, whose lines are indented exactly `indent`.
    fn block(&mut self, indent: usize) -> Result<Node<'a>, String> {
        let Some(first) = self.lines.get(self.pos).copied() else {
            return Ok(Node::Null);
        };
        if is_seq_item(first.text) {
            self.seq(indent)
        } else {
            self.map(indent)
        }
    }

    /// Enter a nested collection (refused past [`MAX_DEPTH`]).
    fn enter(&mut self) -> Result<(), String> {
        if self.depth >= MAX_DEPTH {
            let no = self.lines.get(self.pos).map_or(0, |l| l.no);
            return Err(format!("line {no}: nested too deep"));
        }
        self.depth += 1;
        Ok(())
    }

    fn seq(&mut self, indent: usize) -> Result<Node<'a>, String> {
        self.enter()?;
        let mut items = Vec::new();
        while let Some(l) = self.lines.get(self.pos).copied() {
            if l.indent < indent {
                break;
            }
            if l.indent > indent || !is_seq_item(l.text) {
                return Err(format!(
                    "line {}: unexpected indentation in a sequence",
                    l.no
                ));
            }
            let rest = l.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                items.push(self.nested(indent)?);
                continue;
            }
            // `- key: value` opens a mapping whose entries continue at the item's content column.
            let content_indent = l.indent + (l.text.len() - rest.len());
            if split_key(rest, l.no)?.is_some() {
                self.lines[self.pos] = Line {
                    indent: content_indent,
                    text: rest,
                    no: l.no,
                };
                items.push(self.map(content_indent)?);
            } else {
                self.pos += 1;
                items.push(value(rest, l.no)?);
            }
        }
        self.depth -= 1;
        Ok(Node::Seq(items))
    }

    fn map(&mut self, indent: usize) -> Result<Node<'a>, String> {
        self.enter()?;
        let mut entries = Vec::new();
        while let Some(l) = self.lines.get(self.pos).copied() {
            if l.indent < indent {
                break;
            }
            if l.indent > indent {
                return Err(format!("line {}: unexpected indentation", l.no));
            }
            if is_seq_item(l.text) {
                return Err(format!("line {}: a sequence item inside a mapping", l.no));
            }
            let Some((key, rest)) = split_key(l.text, l.no)? else {
                return Err(format!("line {}: expected `key: value`", l.no));
            };
            self.pos += 1;
            let value = if rest.is_empty() {
                self.nested(indent)?
            } else {
                value(rest, l.no)?
            };
            entries.push(Entry {
                key,
                value,
                line: l.no,
            });
        }
        self.depth -= 1;
        Ok(Node::Map(entries))
    }

    /// The value of a key (or `-`) with nothing after it on its line: the more indented block
    /// that follows, a sequence at the same indentation (`key:\n- a`), or null.
    fn nested(&mut self, indent: usize) -> Result<Node<'a>, String> {
        match self.lines.get(self.pos).copied() {
            Some(n) if n.indent > indent => self.block(n.indent),
            Some(n) if n.indent == indent && is_seq_item(n.text) => self.seq(indent),
            _ => Ok(Node::Null),
        }
    }
}

fn is_seq_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// Split `key: rest` (a quoted or plain key). `Ok(None)`: the line is not a mapping entry.
fn split_key(t: &str, no: u32) -> Result<Option<(Cow<'_, str>, &str)>, String> {
    let b = t.as_bytes();
    match b.first() {
        Some(b'"') | Some(b'\'') => {
            let (key, used) = quoted(t, no)?;
            let after = &t[used..];
            let Some(rest) = after.strip_prefix(':') else {
                return Ok(None);
            };
            if !(rest.is_empty() || rest.starts_with(' ')) {
                return Ok(None);
            }
            Ok(Some((key, no_comment(rest.trim_start()))))
        }
        Some(b'?') if t == "?" || t.starts_with("? ") => {
            Err(format!("line {no}: complex mapping key"))
        }
        Some(b'[') | Some(b'{') => Ok(None),
        _ => {
            // A plain key ends at the first `: ` or at a `:` that ends the line.
            let mut i = 0;
            while let Some(off) = t[i..].find(':') {
                let at = i + off;
                let next = b.get(at + 1);
                if next.is_none() || next == Some(&b' ') {
                    let key = t[..at].trim_end();
                    if key.contains(" #") {
                        return Ok(None);
                    }
                    check_plain(key, no)?;
                    return Ok(Some((
                        Cow::Borrowed(key),
                        no_comment(t[at + 1..].trim_start()),
                    )));
                }
                i = at + 1;
            }
            Ok(None)
        }
    }
}

/// What follows a key: empty when it is only a comment.
fn no_comment(rest: &str) -> &str {
    if rest.starts_with('#') {
        ""
    } else {
        rest
    }
}

/// Refuse plain scalars that mean something else in YAML (anchors, aliases, tags, block scalars).
fn check_plain(s: &str, no: u32) -> Result<(), String> {
    match s.as_bytes().first() {
        Some(b'&') | Some(b'*') | Some(b'!') => Err(format!("line {no}: anchor, alias or tag")),
        Some(b'|') | Some(b'>') => Err(format!("line {no}: block scalar")),
        Some(b'@') | Some(b'`') => Err(format!("line {no}: reserved indicator")),
        _ => Ok(()),
    }
}

/// A value written on the key's line.
fn value(t: &str, no: u32) -> Result<Node<'_>, String> {
    match t.as_bytes().first() {
        Some(b'{') | Some(b'[') => {
            let (n, used) = flow(t, 0, no, 0)?;
            let tail = t[used..].trim_start();
            if !(tail.is_empty() || tail.starts_with('#')) {
                return Err(format!("line {no}: text after a flow collection"));
            }
            Ok(n)
        }
        Some(b'"') | Some(b'\'') => {
            let (s, used) = quoted(t, no)?;
            let tail = t[used..].trim_start();
            if !(tail.is_empty() || tail.starts_with('#')) {
                return Err(format!("line {no}: text after a quoted scalar"));
            }
            Ok(Node::Scalar(s))
        }
        _ => {
            let s = strip_comment(t);
            check_plain(s, no)?;
            Ok(plain(s))
        }
    }
}

fn plain(s: &str) -> Node<'_> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => Node::Null,
        s => Node::Scalar(Cow::Borrowed(s)),
    }
}

fn strip_comment(t: &str) -> &str {
    match t.find(" #") {
        Some(i) => t[..i].trim_end(),
        None => t,
    }
}

/// A quoted scalar at the start of `t`: its value and the bytes it used.
fn quoted(t: &str, no: u32) -> Result<(Cow<'_, str>, usize), String> {
    let b = t.as_bytes();
    let q = b[0];
    if q == b'\'' {
        let mut out: Option<String> = None;
        let mut i = 1;
        let mut start = 1;
        while i < b.len() {
            if b[i] == b'\'' {
                if b.get(i + 1) == Some(&b'\'') {
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(&t[start..=i]);
                    i += 2;
                    start = i;
                    continue;
                }
                return Ok(match out {
                    None => (Cow::Borrowed(&t[1..i]), i + 1),
                    Some(mut o) => {
                        o.push_str(&t[start..i]);
                        (Cow::Owned(o), i + 1)
                    }
                });
            }
            i += 1;
        }
        return Err(format!("line {no}: unterminated quoted scalar"));
    }
    // Double-quoted: escapes.
    let mut i = 1;
    let mut out: Option<String> = None;
    let mut start = 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                return Ok(match out {
                    None => (Cow::Borrowed(&t[1..i]), i + 1),
                    Some(mut o) => {
                        o.push_str(&t[start..i]);
                        (Cow::Owned(o), i + 1)
                    }
                });
            }
            b'\\' => {
                let o = out.get_or_insert_with(String::new);
                o.push_str(&t[start..i]);
                let Some(&e) = b.get(i + 1) else {
                    return Err(format!("line {no}: unterminated escape"));
                };
                let mut used = 2;
                match e {
                    b'"' => o.push('"'),
                    b'\\' => o.push('\\'),
                    b'/' => o.push('/'),
                    b'n' => o.push('\n'),
                    b't' => o.push('\t'),
                    b'r' => o.push('\r'),
                    b'0' => o.push('\0'),
                    b' ' => o.push(' '),
                    b'x' | b'u' | b'U' => {
                        let n = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = t
                            .get(i + 2..i + 2 + n)
                            .ok_or_else(|| format!("line {no}: short escape"))?;
                        let c = u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("line {no}: bad escape"))?;
                        o.push(c);
                        used += n;
                    }
                    _ => return Err(format!("line {no}: unsupported escape")),
                }
                i += used;
                start = i;
            }
            _ => i += 1,
        }
    }
    Err(format!("line {no}: unterminated quoted scalar"))
}

/// A flow collection starting at `t[at]` (`{` or `[`): the node and the index just past it.
fn flow(t: &str, at: usize, no: u32, depth: u32) -> Result<(Node<'_>, usize), String> {
    if depth > 32 {
        return Err(format!("line {no}: flow collections nested too deep"));
    }
    let b = t.as_bytes();
    let (open, close) = (b[at], if b[at] == b'{' { b'}' } else { b']' });
    let mut i = at + 1;
    let mut map = Vec::new();
    let mut seq = Vec::new();
    let skip_ws = |i: &mut usize| {
        while b.get(*i) == Some(&b' ') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        match b.get(i) {
            None => return Err(format!("line {no}: unterminated flow collection")),
            Some(&c) if c == close => {
                i += 1;
                break;
            }
            _ => {}
        }
        // One item: (key ':')? value
        let (first, used) = flow_scalar_or_collection(t, i, no, depth, open == b'{')?;
        i = used;
        skip_ws(&mut i);
        if open == b'{' {
            let key = match first {
                Node::Scalar(s) => s,
                Node::Null => Cow::Borrowed(""),
                _ => return Err(format!("line {no}: collection as a key")),
            };
            let value = if b.get(i) == Some(&b':') {
                i += 1;
                skip_ws(&mut i);
                if matches!(b.get(i), Some(b',') | Some(b'}')) {
                    Node::Null
                } else {
                    let (v, used) = flow_scalar_or_collection(t, i, no, depth, false)?;
                    i = used;
                    v
                }
            } else {
                Node::Null
            };
            map.push(Entry {
                key,
                value,
                line: no,
            });
        } else {
            seq.push(first);
        }
        skip_ws(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(&c) if c == close => {
                i += 1;
                break;
            }
            _ => return Err(format!("line {no}: expected `,` in a flow collection")),
        }
    }
    Ok((
        if open == b'{' {
            Node::Map(map)
        } else {
            Node::Seq(seq)
        },
        i,
    ))
}

/// A scalar or nested collection inside a flow collection. In a mapping key position a plain
/// scalar ends at `: `; values end at `,` or the closing bracket.
fn flow_scalar_or_collection(
    t: &str,
    i: usize,
    no: u32,
    depth: u32,
    key: bool,
) -> Result<(Node<'_>, usize), String> {
    let b = t.as_bytes();
    match b.get(i) {
        Some(b'{') | Some(b'[') => flow(t, i, no, depth + 1),
        Some(b'"') | Some(b'\'') => {
            let (s, used) = quoted(&t[i..], no)?;
            Ok((Node::Scalar(s), i + used))
        }
        _ => {
            let mut j = i;
            while let Some(&c) = b.get(j) {
                if c == b',' || c == b'}' || c == b']' {
                    break;
                }
                if key && c == b':' && matches!(b.get(j + 1), Some(b' ') | Some(b',') | None) {
                    break;
                }
                if c == b'[' || c == b'{' {
                    return Err(format!("line {no}: bracket inside a plain scalar"));
                }
                j += 1;
            }
            let s = t[i..j].trim_end();
            check_plain(s, no)?;
            Ok((plain(s), j))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n\nimporters:\n\n  .:\n    dependencies:\n      '@acme/ui':\n        specifier: workspace:*\n        version: link:packages/ui\n      zod:\n        specifier: ^3.22.0 # comment\n        version: 3.22.4\n\npackages:\n\n  '@babel/core@7.22.5':\n    resolution: {integrity: sha512-abc==, tarball: 'https://x.example/a.tgz'}\n    engines: {node: '>=6.9.0'}\n    cpu: [arm64, x64]\n    os: []\n    hasBin: true\n\n  \"it's@1.0.0\":\n    resolution: {integrity: \"sha512-\\u0041\"}\n    list:\n      - a\n      - b: c\n        d: e\n";

    #[test]
    fn reads_what_package_managers_write() {
        let n = parse_fast(DOC).unwrap();
        assert_eq!(n.str_of("lockfileVersion"), Some("9.0"));
        let zod = n
            .get("importers")
            .and_then(|i| i.get("."))
            .and_then(|i| i.get("dependencies"))
            .and_then(|d| d.get("zod"))
            .unwrap();
        assert_eq!(zod.str_of("specifier"), Some("^3.22.0"));
        assert_eq!(zod.str_of("version"), Some("3.22.4"));
        let pkgs = n.get("packages").unwrap().entries();
        assert_eq!(pkgs[0].key, "@babel/core@7.22.5");
        assert_eq!(pkgs[0].line, 19);
        let res = pkgs[0].value.get("resolution").unwrap();
        assert_eq!(res.str_of("integrity"), Some("sha512-abc=="));
        assert_eq!(res.str_of("tarball"), Some("https://x.example/a.tgz"));
        assert_eq!(
            pkgs[0].value.get("cpu"),
            Some(&Node::Seq(vec![
                Node::Scalar("arm64".into()),
                Node::Scalar("x64".into())
            ]))
        );
        assert_eq!(pkgs[0].value.get("os"), Some(&Node::Seq(vec![])));
        assert!(pkgs[0].value.get("hasBin").unwrap().is_true());
        assert_eq!(pkgs[1].key, "it's@1.0.0");
        assert_eq!(
            pkgs[1].value.get("resolution").unwrap().str_of("integrity"),
            Some("sha512-A")
        );
        let list = pkgs[1].value.get("list").unwrap();
        let Node::Seq(items) = list else { panic!() };
        assert_eq!(items[0], Node::Scalar("a".into()));
        assert_eq!(items[1].str_of("b"), Some("c"));
        assert_eq!(items[1].str_of("d"), Some("e"));
    }

    #[test]
    fn berry_keys_with_colons() {
        let doc = "__metadata:\n  version: 8\n\n\"@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0\":\n  version: 7.23.0\n  dependencies:\n    \"@babel/types\": \"npm:^7.23.0\"\n\nlodash@npm:^4.17.21:\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n";
        let n = parse_fast(doc).unwrap();
        let e = n.entries();
        assert_eq!(e[1].key, "@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0");
        assert_eq!(e[2].key, "lodash@npm:^4.17.21");
        assert_eq!(e[2].value.str_of("resolution"), Some("lodash@npm:4.17.21"));
        assert_eq!(e[2].line, 9);
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_yaml() {
        let fast = parse_fast(DOC).unwrap();
        let slow = from_serde(serde_yaml::from_str(DOC).unwrap());
        fn strip(n: &Node) -> Node<'static> {
            match n {
                Node::Null => Node::Null,
                Node::Scalar(s) => Node::Scalar(Cow::Owned(s.to_string())),
                Node::Seq(s) => Node::Seq(s.iter().map(strip).collect()),
                Node::Map(m) => Node::Map(
                    m.iter()
                        .map(|e| Entry {
                            key: Cow::Owned(e.key.to_string()),
                            value: strip(&e.value),
                            line: 0,
                        })
                        .collect(),
                ),
            }
        }
        assert_eq!(strip(&fast), strip(&slow));
    }

    #[test]
    fn refused_constructs_fall_back() {
        for doc in [
            "a: &x 1\nb: *x\n",
            "a: |\n  text\n",
            "a: {b: 1,\n  c: 2}\n",
            "a:\n\tb: 1\n",
            "? complex\n: key\n",
        ] {
            assert!(parse_fast(doc).is_err(), "{doc:?}");
        }
        let (n, reader) = parse("a: &x 1\nb: *x\n").unwrap();
        assert_eq!(reader, Reader::Fallback);
        assert_eq!(n.str_of("b"), Some("1"));
        assert!(parse("a: [\n").unwrap_err().starts_with("not YAML"));
    }

    #[test]
    fn never_panics_on_any_prefix_or_mutation() {
        let bytes = DOC.as_bytes();
        for n in 0..bytes.len() {
            if let Ok(s) = std::str::from_utf8(&bytes[..n]) {
                let _ = parse_fast(s);
            }
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            let mut b = bytes.to_vec();
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % b.len();
                let pool = b"'\"{}[]:,- #\n\\&|x";
                b[at] = pool[(seed >> 20) as usize % pool.len()];
            }
            if let Ok(s) = std::str::from_utf8(&b) {
                let _ = parse_fast(s);
            }
        }
    }
}
