//! Fast lexical import scanner for TypeScript / JavaScript.
//!
//! Parsing a file with tree-sitter only to find its imports costs far more than the imports are
//! worth: the parse is ~85 % of the front end's time. This module reads the same import facts
//! from a single pass over the bytes plus a small recogniser over the token stream, and gives up
//! (returns `None`, so the caller falls back to tree-sitter) whenever it cannot be sure it would
//! produce exactly what [`super::typescript::extract_tree_sitter`] produces: unterminated
//! literals or comments, unbalanced brackets, a `/` whose meaning (regex or division) cannot be
//! decided locally, an `import(…)` that might sit in a type position the scanner cannot classify
//! the way the tree-sitter walk does, and any `import` / `export` form it does not fully
//! recognise. Differential tests against tree-sitter keep the two in step.
//!
//! In the TSX grammar (`.tsx .jsx .js …`) a `<` where an expression may start opens JSX or a
//! generic arrow function's type parameters (`<T,>`, `<T extends U>`, `<const T>`). JSX is read
//! by a small state machine in the lexer (tag, attributes, children) that shares the bracket
//! stack with the code: each element becomes one token, or a head / middle / tail token around
//! each expression container `{…}`, like a template literal around its substitutions, so the
//! code inside containers (more JSX included) goes through the recogniser as usual. What the
//! scanner leaves to tree-sitter: `<T>(` (arrow function or element), `<T extends U>` when a
//! `</T` follows, element names the grammar may read as keywords (`<this.X>`), a `&` in JSX text
//! or strings that is not a character reference, `>` or `}` in JSX text, mismatched closing
//! tags, type arguments with anything beyond plain type syntax, and whitespace after a `<`.
//!
//! The scanner does not find syntax errors: a file it accepts reports `syntax_errors: 0`.

use super::{FileFacts, Import, ImportKind, Lang};

/// Scan `source`; `None` means "not sure, ask tree-sitter".
pub fn scan(lang: Lang, source: &str) -> Option<FileFacts> {
    // Line separators end comments and count as line terminators for ASI in the grammar; rare
    // enough to leave to tree-sitter.
    if source.contains('\u{2028}') || source.contains('\u{2029}') {
        return None;
    }
    let mut lx = Lexer {
        src: source,
        b: source.as_bytes(),
        i: 0,
        line: 1,
        nl: false,
        tsx: lang == Lang::Tsx,
        toks: Vec::with_capacity(source.len() / 5 + 16),
        stack: Vec::new(),
        refs: Vec::new(),
        last_paren_ctrl: false,
    };
    lx.run()?;
    let Lexer { toks, refs, .. } = lx;
    let mut rc = Recogniser {
        src: source.as_bytes(),
        toks: &toks,
        levels: vec![Level::new(LevelKind::Top, St::Expr)],
        out: refs,
    };
    rc.run()?;
    let mut found = rc.out;
    // Tree pre-order: an import is found at the start of the node that names it (statement,
    // call, comment), which is not always the specifier's position.
    found.sort_by_key(|(key, _)| *key);
    Some(FileFacts {
        imports: found.into_iter().map(|(_, i)| i).collect(),
        syntax_errors: 0,
        lines: source.lines().count() as u32,
        rust: None,
        symbols: None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Identifiers, keywords, private names `#x`.
    Ident,
    Num,
    /// `'…'` or `"…"`.
    Str,
    /// A template literal without substitutions.
    Tpl,
    /// `` `…${ ``
    TplHead,
    /// `` }…${ ``
    TplMid,
    /// `` }…` ``
    TplTail,
    Regex,
    Punct,
    /// A whole JSX element without expression containers.
    Jsx,
    /// A JSX element from its `<` to its first container's `{`.
    JsxHead,
    /// From a container's `}` to the next container's `{`.
    JsxMid,
    /// From the last container's `}` to the end of the element.
    JsxTail,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: u32,
    end: u32,
    line: u32,
    /// A line break between the previous token and this one.
    nl: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `(`; `ctrl`: after `if` / `while` / `for` / `with`, so a statement follows the `)`.
    Paren {
        ctrl: bool,
    },
    Bracket,
    Brace,
    /// `${` inside a template literal.
    Subst,
    /// `{` of a JSX expression container (an attribute value, a spread attribute or a child).
    JsxExpr,
    /// Inside a JSX opening tag, after its name (the attributes).
    JsxTag {
        name: (u32, u32),
    },
    /// Among the children of a JSX element (a fragment's name is empty).
    JsxElem {
        name: (u32, u32),
    },
}

/// Keywords that end an expression only as a statement or clause keyword: `x!` after them is
/// not a non-null assertion.
const NOT_OPERANDS: &[&[u8]] = &[
    b"default",
    b"export",
    b"return",
    b"case",
    b"else",
    b"do",
    b"throw",
    b"typeof",
    b"instanceof",
    b"of",
    b"let",
    b"var",
    b"as",
    b"satisfies",
    b"is",
    b"keyof",
    b"type",
    b"module",
    b"namespace",
    b"declare",
    b"get",
    b"set",
    b"static",
    b"public",
    b"private",
    b"protected",
    b"from",
];

/// Where the JSX reader resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsxMode {
    /// At a `<` that opens an element or fragment.
    Start,
    /// In an opening tag's attribute list.
    Tag,
    /// Among an element's children.
    Children,
}

/// Words that the grammar may read as keywords where a JSX element name would start: such
/// elements are left to tree-sitter.
const JSX_NAME_KEYWORDS: &[&[u8]] = &[
    b"const",
    b"this",
    b"new",
    b"typeof",
    b"keyof",
    b"void",
    b"in",
    b"out",
    b"class",
    b"function",
    b"async",
    b"await",
    b"yield",
    b"super",
    b"import",
    b"delete",
    b"true",
    b"false",
    b"null",
    b"readonly",
    b"unique",
    b"infer",
    b"asserts",
    b"extends",
    b"abstract",
    b"declare",
];

/// What a `/` means at this point.
enum Slash {
    Regex,
    Div,
    /// Depends on parse state the lexer does not track (`}` ends a block or an object).
    Ambiguous,
}

type Found = Vec<(u32, Import)>;

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    line: u32,
    nl: bool,
    tsx: bool,
    toks: Vec<Tok>,
    stack: Vec<Open>,
    refs: Found,
    last_paren_ctrl: bool,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

const REGEX_KEYWORDS: &[&[u8]] = &[
    b"return",
    b"typeof",
    b"case",
    b"do",
    b"else",
    b"in",
    b"new",
    b"delete",
    b"void",
    b"throw",
    b"instanceof",
];

/// Keywords that are also plain identifiers often enough that `/` after them is unclear.
const SOFT_KEYWORDS: &[&[u8]] = &[b"yield", b"await", b"of", b"let"];

/// Multi-byte punctuators, longest first. `>` is always its own token (so `a<b<c>>` closes two
/// type argument lists); `>=`, `>>` and friends come out as sequences, which the recogniser
/// reads the same way.
const PUNCTS: &[&str] = &[
    "...", "??=", "===", "!==", "<<=", "**=", "&&=", "||=", "=>", "==", "!=", "<=", "<<", "**",
    "*=", "+=", "-=", "%=", "&=", "|=", "^=", "/=", "++", "--", "&&", "||", "??",
];

impl<'a> Lexer<'a> {
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.toks.push(Tok {
            kind,
            start: start as u32,
            end: self.i as u32,
            line: self.line,
            nl: self.nl,
        });
        self.nl = false;
    }

    fn text(&self, t: &Tok) -> &'a [u8] {
        &self.b[t.start as usize..t.end as usize]
    }

    fn run(&mut self) -> Option<()> {
        if self.src.len() > u32::MAX as usize / 2 {
            return None;
        }
        if self.b.starts_with("\u{feff}".as_bytes()) {
            self.i = 3;
        }
        if self.peek(0) == b'#' && self.peek(1) == b'!' {
            while self.i < self.b.len() && !matches!(self.b[self.i], b'\n' | b'\r') {
                self.i += 1;
            }
        }
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b' ' | b'\t' | 0x0b | 0x0c => self.i += 1,
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.nl = true;
                }
                b'\r' => {
                    if self.peek(1) != b'\n' {
                        return None;
                    }
                    self.i += 1;
                }
                b'\'' | b'"' => self.string(c)?,
                b'`' => {
                    let start = self.i;
                    self.i += 1;
                    self.template(start, true)?;
                }
                b'/' => match self.peek(1) {
                    b'/' => self.line_comment(),
                    b'*' => self.block_comment()?,
                    _ => self.slash()?,
                },
                b'0'..=b'9' => self.number(),
                b'.' if self.peek(1).is_ascii_digit() => self.number(),
                b'#' => {
                    // Private names only: `#x`.
                    let start = self.i;
                    self.i += 1;
                    if !is_ident_start(self.peek(0)) {
                        return None;
                    }
                    self.ident_rest(start)?;
                }
                b'\\' => return None,
                _ if is_ident_start(c) => {
                    let start = self.i;
                    self.ident_rest(start)?;
                }
                0x80.. => {
                    let ch = self.src[self.i..].chars().next()?;
                    if !ch.is_alphanumeric() {
                        return None;
                    }
                    let start = self.i;
                    self.ident_rest(start)?;
                }
                _ => self.punct()?,
            }
        }
        if !self.stack.is_empty() {
            return None;
        }
        Some(())
    }

    fn ident_rest(&mut self, start: usize) -> Option<()> {
        loop {
            let c = self.peek(0);
            if is_ident_byte(c) {
                self.i += 1;
            } else if c >= 0x80 {
                let ch = self.src[self.i..].chars().next()?;
                if !ch.is_alphanumeric() {
                    return None;
                }
                self.i += ch.len_utf8();
            } else if c == b'\\' {
                return None;
            } else {
                break;
            }
        }
        self.push(Kind::Ident, start);
        Some(())
    }

    fn number(&mut self) {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            let c = self.b[self.i];
            if is_ident_byte(c) || c == b'.' {
                self.i += 1;
            } else {
                break;
            }
        }
        self.push(Kind::Num, start);
    }

    fn string(&mut self, q: u8) -> Option<()> {
        let start = self.i;
        let line = self.line;
        self.i += 1;
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'\\' => {
                    match self.peek(1) {
                        b'\n' => self.line += 1,
                        b'\r' => {
                            if self.peek(2) != b'\n' {
                                return None;
                            }
                            self.line += 1;
                            self.i += 1;
                        }
                        0 if self.i + 1 >= self.b.len() => return None,
                        _ => {}
                    }
                    self.i += 2;
                }
                b'\n' | b'\r' => return None,
                _ if c == q => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        self.toks.push(Tok {
            kind: Kind::Str,
            start: start as u32,
            end: self.i as u32,
            line,
            nl: self.nl,
        });
        self.nl = false;
        Some(())
    }

    /// Template text from `self.i` (just after `` ` `` or a substitution's `}`) to the closing
    /// backtick or the next `${`.
    fn template(&mut self, start: usize, head: bool) -> Option<()> {
        let line = self.line;
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'\\' => {
                    if self.i + 1 >= self.b.len() {
                        return None;
                    }
                    if self.peek(1) == b'\n' {
                        self.line += 1;
                    }
                    self.i += 2;
                }
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b'`' => {
                    self.i += 1;
                    let kind = if head { Kind::Tpl } else { Kind::TplTail };
                    self.push_at(kind, start, line);
                    return Some(());
                }
                b'$' if self.peek(1) == b'{' => {
                    self.i += 2;
                    let kind = if head { Kind::TplHead } else { Kind::TplMid };
                    self.push_at(kind, start, line);
                    self.stack.push(Open::Subst);
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    fn push_at(&mut self, kind: Kind, start: usize, line: u32) {
        self.toks.push(Tok {
            kind,
            start: start as u32,
            end: self.i as u32,
            line,
            nl: self.nl,
        });
        self.nl = false;
    }

    fn line_comment(&mut self) {
        let start = self.i;
        let line = self.line;
        while self.i < self.b.len() && !matches!(self.b[self.i], b'\n' | b'\r') {
            self.i += 1;
        }
        let text = &self.src[start..self.i];
        if text.starts_with("///") {
            if let Some(spec) = super::typescript::reference_path(text) {
                if !spec.is_empty() {
                    self.refs.push((
                        start as u32,
                        Import {
                            specifier: spec,
                            line,
                            kind: ImportKind::Reference,
                            type_only: true,
                        },
                    ));
                }
            }
        }
    }

    fn block_comment(&mut self) -> Option<()> {
        self.i += 2;
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'*' if self.peek(1) == b'/' => {
                    self.i += 2;
                    return Some(());
                }
                b'\n' => {
                    self.line += 1;
                    self.nl = true;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
    }

    fn prev_is_expr_end(&self, back: usize) -> bool {
        let n = self.toks.len();
        if n < back + 1 {
            return false;
        }
        let t = self.toks[n - 1 - back];
        match t.kind {
            Kind::Num | Kind::Str | Kind::Tpl | Kind::TplTail | Kind::Regex => true,
            Kind::Jsx | Kind::JsxTail => true,
            Kind::JsxHead | Kind::JsxMid => false,
            Kind::Ident => {
                let txt = self.text(&t);
                !REGEX_KEYWORDS.contains(&txt) && !SOFT_KEYWORDS.contains(&txt)
            }
            Kind::Punct => matches!(self.text(&t), b")" | b"]"),
            Kind::TplHead | Kind::TplMid => false,
        }
    }

    /// Whether a `/` here starts a regex, from the previous significant token.
    fn slash_context(&self) -> Slash {
        let n = self.toks.len();
        let Some(last) = self.toks.last() else {
            return Slash::Regex;
        };
        match last.kind {
            Kind::Num | Kind::Str | Kind::Tpl | Kind::TplTail | Kind::Regex => Slash::Div,
            Kind::Jsx | Kind::JsxTail => Slash::Div,
            Kind::TplHead | Kind::TplMid | Kind::JsxHead | Kind::JsxMid => Slash::Regex,
            Kind::Ident => {
                let after_dot = n >= 2
                    && self.toks[n - 2].kind == Kind::Punct
                    && matches!(self.text(&self.toks[n - 2]), b"." | b"?.");
                let txt = self.text(last);
                if after_dot {
                    Slash::Div
                } else if REGEX_KEYWORDS.contains(&txt) {
                    Slash::Regex
                } else if SOFT_KEYWORDS.contains(&txt) {
                    Slash::Ambiguous
                } else {
                    Slash::Div
                }
            }
            Kind::Punct => match self.text(last) {
                b")" => {
                    if self.last_paren_ctrl {
                        Slash::Regex
                    } else {
                        Slash::Div
                    }
                }
                b"]" => Slash::Div,
                b"}" | b"++" | b"--" => Slash::Ambiguous,
                b"!" if self.prev_is_expr_end(1) => Slash::Ambiguous,
                _ => Slash::Regex,
            },
        }
    }

    fn slash(&mut self) -> Option<()> {
        let regex = match self.slash_context() {
            Slash::Regex => true,
            Slash::Div => false,
            Slash::Ambiguous => {
                // A regex would need a closing `/` on this line; without one it is division.
                let rest = &self.b[self.i + 1..];
                let eol = rest
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(rest.len());
                if rest[..eol].contains(&b'/') {
                    return None;
                }
                false
            }
        };
        let start = self.i;
        if !regex {
            self.i += if self.peek(1) == b'=' { 2 } else { 1 };
            self.push(Kind::Punct, start);
            return Some(());
        }
        self.i += 1;
        let mut class = false;
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'\\' => {
                    if matches!(self.peek(1), b'\n' | b'\r' | 0) {
                        return None;
                    }
                    self.i += 2;
                }
                b'\n' | b'\r' => return None,
                b'[' => {
                    class = true;
                    self.i += 1;
                }
                b']' => {
                    class = false;
                    self.i += 1;
                }
                b'/' if !class => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        while self.i < self.b.len() && is_ident_byte(self.b[self.i]) {
            self.i += 1;
        }
        if self.peek(0) >= 0x80 || self.peek(0) == b'\\' {
            return None;
        }
        self.push(Kind::Regex, start);
        Some(())
    }

    fn punct(&mut self) -> Option<()> {
        let start = self.i;
        let c = self.b[self.i];
        match c {
            b'(' => {
                let ctrl = self.toks.last().is_some_and(|t| {
                    t.kind == Kind::Ident
                        && matches!(self.text(t), b"if" | b"while" | b"for" | b"with")
                        && !self.after_dot(self.toks.len() - 1)
                }) || self.for_await();
                self.stack.push(Open::Paren { ctrl });
                self.i += 1;
            }
            b'[' => {
                self.stack.push(Open::Bracket);
                self.i += 1;
            }
            b'{' => {
                self.stack.push(Open::Brace);
                self.i += 1;
            }
            b')' => {
                let Some(Open::Paren { ctrl }) = self.stack.pop() else {
                    return None;
                };
                self.last_paren_ctrl = ctrl;
                self.i += 1;
            }
            b']' => {
                if self.stack.pop() != Some(Open::Bracket) {
                    return None;
                }
                self.i += 1;
            }
            b'}' => match self.stack.pop() {
                Some(Open::Brace) => self.i += 1,
                Some(Open::Subst) => {
                    self.i += 1;
                    return self.template(start, false);
                }
                Some(Open::JsxExpr) => {
                    self.i += 1;
                    let mode = match self.stack.last() {
                        Some(Open::JsxTag { .. }) => JsxMode::Tag,
                        Some(Open::JsxElem { .. }) => JsxMode::Children,
                        _ => return None,
                    };
                    return self.jsx(start, false, mode);
                }
                _ => return None,
            },
            b'<' => {
                // `<!--` starts an HTML-like comment in the grammar.
                if self.b[self.i..].starts_with(b"<!--") {
                    return None;
                }
                // In the TSX grammar a `<` where an expression may start opens JSX or a generic
                // arrow function's type parameters.
                if self.tsx {
                    let n = self.toks.len();
                    // `export default <A />`: `default` reads as an identifier otherwise.
                    let export_default = n >= 2
                        && self.text(&self.toks[n - 1]) == b"default"
                        && self.text(&self.toks[n - 2]) == b"export";
                    // `x! < y`: a non-null assertion written against its operand is followed
                    // by an operator (an element cannot follow an expression).
                    let non_null = n >= 2 && {
                        let (p, q) = (self.toks[n - 2], self.toks[n - 1]);
                        let operand = match p.kind {
                            Kind::Ident => {
                                self.after_dot(n - 2) || !JSX_NAME_KEYWORDS.contains(&self.text(&p))
                            }
                            Kind::Punct => matches!(self.text(&p), b")" | b"]"),
                            Kind::JsxHead | Kind::JsxMid | Kind::TplHead | Kind::TplMid => false,
                            _ => true,
                        };
                        q.kind == Kind::Punct
                            && self.text(&q) == b"!"
                            && q.start == p.end
                            && operand
                            && !NOT_OPERANDS.contains(&self.text(&p))
                    };
                    let context = if export_default {
                        Slash::Regex
                    } else if non_null {
                        Slash::Div
                    } else {
                        self.slash_context()
                    };
                    match context {
                        Slash::Div => {}
                        Slash::Ambiguous => return None,
                        Slash::Regex => {
                            if !self.type_parameters_here()? {
                                return self.jsx(start, true, JsxMode::Start);
                            }
                        }
                    }
                }
                self.i += if matches!(self.peek(1), b'=' | b'<') {
                    if self.peek(2) == b'=' {
                        3
                    } else {
                        2
                    }
                } else {
                    1
                };
            }
            b'>' => {
                // `-->` is an HTML-like comment for the grammar's scanner (not only at a line
                // start, as in the JavaScript spec).
                if self.toks.last().is_some_and(|t| {
                    t.kind == Kind::Punct && self.text(t) == b"--" && t.end as usize == self.i
                }) {
                    return None;
                }
                self.i += 1;
            }
            b'?' if self.peek(1) == b'.' && !self.peek(2).is_ascii_digit() => self.i += 2,
            b'?' | b';' | b',' | b':' | b'.' | b'@' | b'~' | b'=' | b'!' | b'+' | b'-' | b'*'
            | b'%' | b'&' | b'|' | b'^' => {
                let rest = &self.src[self.i..];
                let len = PUNCTS
                    .iter()
                    .find(|p| rest.starts_with(*p))
                    .map_or(1, |p| p.len());
                self.i += len;
            }
            _ => return None,
        }
        self.push(Kind::Punct, start);
        Some(())
    }

    fn after_dot(&self, idx: usize) -> bool {
        idx >= 1
            && self.toks[idx - 1].kind == Kind::Punct
            && matches!(self.text(&self.toks[idx - 1]), b"." | b"?.")
    }

    /// `for await (`
    fn for_await(&self) -> bool {
        let n = self.toks.len();
        n >= 2 && self.text(&self.toks[n - 1]) == b"await" && self.text(&self.toks[n - 2]) == b"for"
    }

    /// At a `<` where an expression may start in the TSX grammar: `Some(true)` when it opens a
    /// generic arrow function's type parameters (`<T,>`, `<T extends U>`, `<const T>`),
    /// `Some(false)` when it opens JSX, `None` when the scanner cannot tell.
    fn type_parameters_here(&self) -> Option<bool> {
        let b = self.b;
        let mut j = skip_spaces(b, self.i + 1);
        // An element name follows its `<` directly here; type parameters may start on the next
        // line.
        let spaced = j > self.i + 1;
        match b.get(j) {
            Some(b'>') if !spaced => return Some(false),
            Some(&c) if is_ident_start(c) => {}
            _ => return None,
        }
        let w0 = j;
        while j < b.len() && is_ident_byte(b[j]) {
            j += 1;
        }
        if b.get(j).is_some_and(|&c| c >= 0x80 || c == b'\\') {
            return None;
        }
        let word = &b[w0..j];
        let k = skip_spaces(b, j);
        let next = b.get(k).copied().unwrap_or(0);
        if word == b"const" && is_ident_start(next) {
            return Some(true);
        }
        // `<T,>` and `<T = D>` cannot start an element.
        if next == b',' || (next == b'=' && b.get(k + 1) != Some(&b'=')) {
            return Some(true);
        }
        if b[k..].starts_with(b"extends") && !b.get(k + 7).is_some_and(|&c| is_ident_byte(c)) {
            if b.get(skip_spaces(b, k + 7)) == Some(&b'=') {
                // An attribute named `extends`.
                return Some(false);
            }
            // `<T extends U>…</T>` could also be an element with two boolean attributes.
            if closing_tag_follows(&b[k..], word) {
                return None;
            }
            return Some(true);
        }
        if spaced || (next == b'>' && b.get(skip_spaces(b, k + 1)) == Some(&b'(')) {
            // `<T>(x: T) => x` (an arrow function or an element, by what follows).
            return None;
        }
        Some(false)
    }

    /// Reads JSX from `start` (a `<` when `head`, else the `}` of a container, just consumed)
    /// until an expression container opens (`{`, pushed on the stack) or the outermost element
    /// ends, and pushes one token for the text read.
    fn jsx(&mut self, start: usize, head: bool, mut mode: JsxMode) -> Option<()> {
        let line = self.line;
        let nl = self.nl;
        loop {
            match mode {
                JsxMode::Start => {
                    self.i += 1;
                    if self.peek(0) == b'>' {
                        self.i += 1;
                        self.stack.push(Open::JsxElem { name: (0, 0) });
                        mode = JsxMode::Children;
                        continue;
                    }
                    let name = self.jsx_name(true)?;
                    self.stack.push(Open::JsxTag { name });
                    if self.peek(0) == b'<' {
                        let (s, e) = (name.0 as usize, name.1 as usize);
                        if self.b[s..e].iter().any(|&c| c == b'-' || c == b':') {
                            return None;
                        }
                        self.jsx_type_arguments()?;
                    }
                    mode = JsxMode::Tag;
                }
                JsxMode::Tag => {
                    self.jsx_trivia()?;
                    match self.peek(0) {
                        b'>' => {
                            self.i += 1;
                            let Some(Open::JsxTag { name }) = self.stack.pop() else {
                                return None;
                            };
                            self.stack.push(Open::JsxElem { name });
                            mode = JsxMode::Children;
                        }
                        b'/' if self.peek(1) == b'>' => {
                            self.i += 2;
                            let Some(Open::JsxTag { .. }) = self.stack.pop() else {
                                return None;
                            };
                            match self.after_jsx_element() {
                                Some(m) => mode = m,
                                None => return self.jsx_token(start, head, true, line, nl),
                            }
                        }
                        b'{' => return self.jsx_container(start, head, line, nl),
                        c if is_ident_start(c) => {
                            self.jsx_name(false)?;
                            self.jsx_trivia()?;
                            if self.peek(0) == b'=' {
                                self.i += 1;
                                self.jsx_trivia()?;
                                match self.peek(0) {
                                    q @ (b'"' | b'\'') => self.jsx_string(q)?,
                                    b'{' => return self.jsx_container(start, head, line, nl),
                                    b'<' => mode = JsxMode::Start,
                                    _ => return None,
                                }
                            }
                        }
                        _ => return None,
                    }
                }
                JsxMode::Children => {
                    // JSX text: quotes, slashes and the like are text here.
                    loop {
                        match *self.b.get(self.i)? {
                            b'<' | b'>' | b'{' | b'}' | b'&' => break,
                            b'\n' => {
                                self.line += 1;
                                self.i += 1;
                            }
                            _ => self.i += 1,
                        }
                    }
                    match self.peek(0) {
                        b'&' => self.jsx_entity()?,
                        b'{' => return self.jsx_container(start, head, line, nl),
                        b'<' if self.peek(1) == b'/' => {
                            self.i += 2;
                            self.jsx_trivia()?;
                            let name = if self.peek(0) == b'>' {
                                (0, 0)
                            } else {
                                self.jsx_name(true)?
                            };
                            self.jsx_trivia()?;
                            if self.peek(0) != b'>' {
                                return None;
                            }
                            self.i += 1;
                            let Some(Open::JsxElem { name: open }) = self.stack.pop() else {
                                return None;
                            };
                            let text = |(s, e): (u32, u32)| &self.b[s as usize..e as usize];
                            if text(open) != text(name) {
                                return None;
                            }
                            match self.after_jsx_element() {
                                Some(m) => mode = m,
                                None => return self.jsx_token(start, head, true, line, nl),
                            }
                        }
                        b'<' => mode = JsxMode::Start,
                        // `>` and `}` are not allowed in JSX text.
                        _ => return None,
                    }
                }
            }
        }
    }

    /// An element's type arguments `<A, B<C> | "d">` from their `<`: only plain type syntax (no
    /// comments, template or escaped strings, or `import`).
    fn jsx_type_arguments(&mut self) -> Option<()> {
        let mut angle = 0u32;
        let mut brackets = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            match c {
                b'<' => angle += 1,
                b'>' => {
                    angle = angle.checked_sub(1)?;
                    if angle == 0 {
                        if !brackets.is_empty() {
                            return None;
                        }
                        self.i += 1;
                        return Some(());
                    }
                }
                b'=' if self.peek(1) == b'>' => self.i += 1,
                b'(' | b'[' | b'{' => brackets.push(c),
                b')' | b']' | b'}' => {
                    let open = brackets.pop()?;
                    if !matches!((open, c), (b'(', b')') | (b'[', b']') | (b'{', b'}')) {
                        return None;
                    }
                }
                b'"' | b'\'' => {
                    self.i += 1;
                    while *self.b.get(self.i)? != c {
                        if matches!(self.b[self.i], b'\\' | b'\n' | b'\r') {
                            return None;
                        }
                        self.i += 1;
                    }
                }
                b'\n' => self.line += 1,
                b'i' if self.b[self.i..].starts_with(b"import")
                    && !self.b.get(self.i + 6).is_some_and(|&c| is_ident_byte(c)) =>
                {
                    return None;
                }
                _ if is_ident_start(c) => {
                    while is_ident_byte(self.peek(1)) {
                        self.i += 1;
                    }
                }
                b' ' | b'\t' | b'\r' | b'|' | b'&' | b',' | b'.' | b':' | b';' | b'?' | b'-' => {}
                b'0'..=b'9' => {}
                _ => return None,
            }
            self.i += 1;
        }
    }

    /// After an element closed: where the reader goes on, or `None` when the outermost element
    /// of this run ended.
    fn after_jsx_element(&self) -> Option<JsxMode> {
        match self.stack.last() {
            Some(Open::JsxTag { .. }) => Some(JsxMode::Tag),
            Some(Open::JsxElem { .. }) => Some(JsxMode::Children),
            _ => None,
        }
    }

    fn jsx_container(&mut self, start: usize, head: bool, line: u32, nl: bool) -> Option<()> {
        self.i += 1;
        self.stack.push(Open::JsxExpr);
        self.jsx_token(start, head, false, line, nl)
    }

    fn jsx_token(
        &mut self,
        start: usize,
        head: bool,
        done: bool,
        line: u32,
        nl: bool,
    ) -> Option<()> {
        let kind = match (head, done) {
            (true, true) => Kind::Jsx,
            (true, false) => Kind::JsxHead,
            (false, false) => Kind::JsxMid,
            (false, true) => Kind::JsxTail,
        };
        self.nl = nl;
        self.push_at(kind, start, line);
        Some(())
    }

    /// An element name (`a`, `a-b`, `a:b`, `a.b.c`) or, with `element` false, an attribute name
    /// (no member access). Returns its span.
    fn jsx_name(&mut self, element: bool) -> Option<(u32, u32)> {
        let start = self.i;
        let mut dashed = false;
        let mut parts = 0;
        loop {
            let s = self.i;
            if !is_ident_start(self.peek(0)) {
                return None;
            }
            while is_ident_byte(self.peek(0)) || (self.peek(0) == b'-' && (dashed || parts == 0)) {
                if self.peek(0) == b'-' {
                    dashed = true;
                }
                self.i += 1;
            }
            if self.peek(0) >= 0x80 || self.peek(0) == b'\\' {
                return None;
            }
            let word = &self.b[s..self.i];
            let reserved = if element {
                JSX_NAME_KEYWORDS.contains(&word)
            } else {
                word == b"extends"
            };
            if reserved && !word.contains(&b'-') {
                return None;
            }
            parts += 1;
            match self.peek(0) {
                b':' if parts == 1 => {
                    self.i += 1;
                    dashed = true;
                }
                b'.' if element && !dashed => self.i += 1,
                b':' | b'.' | b'-' => return None,
                _ => break,
            }
        }
        Some((start as u32, self.i as u32))
    }

    /// Whitespace and comments between the tokens of a tag.
    fn jsx_trivia(&mut self) -> Option<()> {
        loop {
            match self.peek(0) {
                b' ' | b'\t' | 0x0b | 0x0c => self.i += 1,
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b'\r' if self.peek(1) == b'\n' => self.i += 1,
                b'/' if self.peek(1) == b'/' => self.line_comment(),
                b'/' if self.peek(1) == b'*' => self.block_comment()?,
                _ => return Some(()),
            }
        }
    }

    /// A JSX attribute string: no escapes, line breaks allowed, `&` only as an entity.
    fn jsx_string(&mut self, q: u8) -> Option<()> {
        self.i += 1;
        loop {
            match *self.b.get(self.i)? {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b'&' if self.peek(1) == b'#' || self.peek(1).is_ascii_alphabetic() => {
                    self.jsx_entity()?
                }
                c if c == q => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    /// `&name;`, `&#123;` or `&#x1F;` (the grammar's character reference).
    fn jsx_entity(&mut self) -> Option<()> {
        let rest = &self.b[self.i + 1..];
        let run = |from: usize, ok: fn(&u8) -> bool| {
            rest.get(from..)
                .map_or(0, |r| r.iter().take_while(|c| ok(c)).count())
        };
        let (len, min, max, from) = match rest.first()? {
            b'#' if matches!(rest.get(1), Some(b'x' | b'X')) => {
                (run(2, u8::is_ascii_hexdigit), 1, 6, 2)
            }
            b'#' => (run(1, u8::is_ascii_digit), 1, 5, 1),
            c if c.is_ascii_alphabetic() => (run(0, u8::is_ascii_alphabetic), 1, 30, 0),
            _ => return None,
        };
        if len < min || len > max || rest.get(from + len) != Some(&b';') {
            return None;
        }
        self.i += 1 + from + len + 1;
        Some(())
    }
}

/// Index of the first byte from `j` that is not a space, tab or line break.
fn skip_spaces(b: &[u8], mut j: usize) -> usize {
    while b
        .get(j)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        j += 1;
    }
    j
}

/// Whether `rest` holds a closing tag `</name` (the name not followed by more name bytes).
fn closing_tag_follows(rest: &[u8], name: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = rest[from..].windows(2).position(|w| w == b"</") {
        let j = skip_spaces(rest, from + at + 2);
        if rest[j..].starts_with(name)
            && !rest
                .get(j + name.len())
                .is_some_and(|&c| is_ident_byte(c) || c == b'-' || c >= 0x80)
        {
            return true;
        }
        from += at + 2;
    }
    false
}

/// Whether the tokens seen so far at a bracket level are (part of) a type, an expression, or
/// cannot be told apart. Only decides how an `import("x")` is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Expr,
    Type,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LevelKind {
    Top,
    Paren,
    Bracket,
    /// Object literal.
    Obj,
    /// Object type `{ a: T }`.
    ObjType,
    /// Statement block or function body.
    Block,
    ClassBody,
    InterfaceBody,
    /// `${ … }`
    Subst,
    /// A JSX expression container `{ … }`.
    JsxExpr,
}

struct Level {
    kind: LevelKind,
    base: St,
    st: St,
    /// Open `<` (type arguments or parameters, or a comparison).
    angle: u32,
    /// `st` before the first open `<`.
    before_angle: St,
    /// Open `?` of conditional expressions.
    ternary: u32,
    /// Inside `let` / `const` / `var` (so `x:` is an annotation).
    decl: bool,
    /// `type X` seen; its `=` starts the aliased type.
    alias_pending: bool,
    /// Index of the `=` that started a type alias.
    alias_eq: usize,
    class_pending: bool,
    interface_pending: bool,
    case_pending: bool,
    /// Index of the last `:` that ended a `case` label or a statement label: a `{` right after
    /// it is a block.
    stmt_colon: usize,
    /// Index of the last `)` closed at this level, and the state its `(` was opened with.
    paren_close: usize,
    paren_base: St,
}

impl Level {
    fn new(kind: LevelKind, base: St) -> Level {
        Level {
            kind,
            base,
            st: base,
            angle: 0,
            before_angle: base,
            ternary: 0,
            decl: false,
            alias_pending: false,
            alias_eq: usize::MAX,
            class_pending: false,
            interface_pending: false,
            case_pending: false,
            stmt_colon: usize::MAX,
            paren_close: usize::MAX,
            paren_base: St::Expr,
        }
    }

    fn end_statement(&mut self) {
        self.st = self.base;
        self.angle = 0;
        self.ternary = 0;
        self.decl = false;
        self.alias_pending = false;
        self.class_pending = false;
        self.interface_pending = false;
        self.case_pending = false;
    }

    /// An operator that only continues an expression.
    fn expr_op(&mut self) {
        if self.st != St::Expr {
            self.st = St::Unknown;
        }
    }
}

struct Recogniser<'a> {
    src: &'a [u8],
    toks: &'a [Tok],
    levels: Vec<Level>,
    out: Found,
}

/// Tokens after which a type continues (so a `(`, `[` or `{` there opens part of the type).
const TYPE_CONT: &[&[u8]] = &[
    b":",
    b"=",
    b"|",
    b"&",
    b"<",
    b",",
    b"(",
    b"[",
    b"=>",
    b"?",
    b"keyof",
    b"typeof",
    b"readonly",
    b"extends",
    b"new",
    b"is",
    b"infer",
    b"as",
    b"satisfies",
];

/// Tokens after which a `{` in expression position is an object literal.
const OBJ_BEFORE: &[&[u8]] = &[
    b"=", b"(", b",", b":", b"[", b"?", b"return", b"||", b"&&", b"??", b"...", b"!", b"yield",
    b"await", b"+", b"-", b"typeof", b"void", b"in", b"of", b"throw", b"case", b"delete",
    b"default", b"+=", b"-=", b"||=", b"&&=", b"??=", b"==", b"===", b"!=", b"!==",
];

impl<'a> Recogniser<'a> {
    fn text(&self, i: usize) -> &'a [u8] {
        let t = &self.toks[i];
        &self.src[t.start as usize..t.end as usize]
    }

    fn is(&self, i: usize, s: &[u8]) -> bool {
        i < self.toks.len()
            && matches!(self.toks[i].kind, Kind::Punct | Kind::Ident)
            && self.text(i) == s
    }

    fn prev_is(&self, i: usize, s: &[u8]) -> bool {
        i >= 1 && self.is(i - 1, s)
    }

    fn after_dot(&self, i: usize) -> bool {
        self.prev_is(i, b".") || self.prev_is(i, b"?.")
    }

    fn top(&mut self) -> &mut Level {
        self.levels
            .last_mut()
            .expect("the top level is never popped")
    }

    /// The value of a plain literal token: a string, or a template without substitutions.
    fn literal(&self, i: usize) -> Option<String> {
        let t = self.toks.get(i)?;
        if !matches!(t.kind, Kind::Str | Kind::Tpl) {
            return None;
        }
        let s = std::str::from_utf8(&self.src[t.start as usize + 1..t.end as usize - 1]).ok()?;
        Some(s.to_string())
    }

    fn emit(&mut self, key: usize, spec_tok: usize, kind: ImportKind, type_only: bool) {
        let Some(spec) = self.literal(spec_tok) else {
            return;
        };
        if spec.is_empty() {
            return;
        }
        self.out.push((
            self.toks[key].start,
            Import {
                specifier: spec,
                line: self.toks[spec_tok].line,
                kind,
                type_only,
            },
        ));
    }

    /// Whether token `i` (an `import` / `export`) can start a statement here.
    fn at_statement_start(&self, i: usize) -> bool {
        if self
            .levels
            .last()
            .is_some_and(|l| l.kind == LevelKind::JsxExpr)
        {
            return false;
        }
        if i == 0 || self.toks[i].nl {
            return true;
        }
        let p = &self.toks[i - 1];
        p.kind == Kind::Punct && matches!(self.text(i - 1), b";" | b"{" | b"}")
    }

    /// The statement ended at token `i` (exclusive): `;`, a line break, `}` or the end.
    fn statement_ends(&self, i: usize) -> bool {
        i >= self.toks.len() || self.toks[i].nl || self.is(i, b";") || self.is(i, b"}")
    }

    /// Skip `with { … }` / `assert { … }` import attributes starting at `i`.
    fn skip_attributes(&self, mut i: usize) -> Option<usize> {
        if (self.is(i, b"with") || self.is(i, b"assert"))
            && !self.toks[i].nl
            && self.is(i + 1, b"{")
        {
            i += 2;
            let mut depth = 1;
            while depth > 0 {
                let t = self.toks.get(i)?;
                if t.kind == Kind::Punct {
                    match self.text(i) {
                        b"{" => depth += 1,
                        b"}" => depth -= 1,
                        _ => {}
                    }
                }
                i += 1;
            }
        }
        Some(i)
    }

    /// `{ a, type B, c as d, "e" as f }` starting at the `{`: returns the index after `}`, the
    /// number of specifiers and whether every one carries the `type` modifier.
    fn specifiers(&self, mut i: usize) -> Option<(usize, usize, bool)> {
        i += 1;
        let (mut count, mut all_type) = (0, true);
        loop {
            if self.is(i, b"}") {
                return Some((i + 1, count, all_type));
            }
            let mut typed = false;
            if self.is(i, b"typeof") {
                return None;
            }
            if self.is(i, b"type") {
                if self.is(i + 1, b",") || self.is(i + 1, b"}") {
                    // A binding named `type`.
                } else if self.is(i + 1, b"as") {
                    return None;
                } else {
                    typed = true;
                    i += 1;
                }
            }
            let t = self.toks.get(i)?;
            if !matches!(t.kind, Kind::Ident | Kind::Str) {
                return None;
            }
            i += 1;
            if self.is(i, b"as") {
                let t = self.toks.get(i + 1)?;
                if !matches!(t.kind, Kind::Ident | Kind::Str) {
                    return None;
                }
                i += 2;
            }
            count += 1;
            all_type &= typed;
            if self.is(i, b",") {
                i += 1;
            } else if !self.is(i, b"}") {
                return None;
            }
        }
    }

    fn is_ident(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == Kind::Ident)
    }

    fn is_str(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == Kind::Str)
    }

    /// An `import` statement at `i`. Returns the index to continue from.
    fn import_statement(&mut self, i: usize) -> Option<usize> {
        if !self.at_statement_start(i) {
            return None;
        }
        let mut j = i + 1;
        let mut statement_type = false;
        if self.is(j, b"typeof") {
            return None;
        }
        if self.is(j, b"type") {
            if self.is(j + 1, b"from") || self.is(j + 1, b",") || self.is(j + 1, b"=") {
                return None;
            }
            if self.is(j + 1, b"{") || self.is(j + 1, b"*") || self.is_ident(j + 1) {
                statement_type = true;
                j += 1;
            } else {
                return None;
            }
        }
        // Side effect: `import "x"`.
        if self.is_str(j) {
            if statement_type {
                return None;
            }
            let end = self.skip_attributes(j + 1)?;
            if !self.statement_ends(end) {
                return None;
            }
            self.emit(i, j, ImportKind::SideEffect, false);
            return Some(end);
        }
        // `import x = require("x")` / `import x = A.B`.
        if self.is_ident(j) && self.is(j + 1, b"=") {
            if self.is(j, b"from") {
                return None;
            }
            if self.is(j + 2, b"require") {
                if !(self.is(j + 3, b"(") && self.is_str(j + 4) && self.is(j + 5, b")")) {
                    return None;
                }
                if !self.statement_ends(j + 6) {
                    return None;
                }
                self.emit(i, j + 4, ImportKind::ImportEquals, statement_type);
                return Some(j + 6);
            }
            // An alias of a namespace: no dependency of its own.
            return Some(j + 2);
        }
        // Import clause.
        let mut clause_all_type = false;
        if self.is_ident(j) && !self.is(j, b"from") {
            j += 1;
            if self.is(j, b",") {
                j += 1;
                if self.is(j, b"*") {
                    j = self.namespace(j)?;
                } else if self.is(j, b"{") {
                    j = self.specifiers(j)?.0;
                } else {
                    return None;
                }
            }
        } else if self.is(j, b"*") {
            j = self.namespace(j)?;
        } else if self.is(j, b"{") {
            let (end, count, all) = self.specifiers(j)?;
            clause_all_type = count > 0 && all;
            j = end;
        } else {
            return None;
        }
        if !self.is(j, b"from") || !self.is_str(j + 1) {
            return None;
        }
        let end = self.skip_attributes(j + 2)?;
        if !self.statement_ends(end) {
            return None;
        }
        self.emit(
            i,
            j + 1,
            ImportKind::Import,
            statement_type || clause_all_type,
        );
        Some(end)
    }

    /// `* as name` at `i`; returns the index after it.
    fn namespace(&self, i: usize) -> Option<usize> {
        if self.is(i + 1, b"as") && matches!(self.toks.get(i + 2)?.kind, Kind::Ident | Kind::Str) {
            Some(i + 3)
        } else {
            None
        }
    }

    /// An `export` at `i`. Returns `Some(Some(next))` when it consumed a whole re-export or
    /// export list, `Some(None)` when the tokens after `export` are an ordinary declaration.
    fn export_statement(&mut self, i: usize) -> Option<Option<usize>> {
        if !self.at_statement_start(i) && !self.prev_is(i, b"declare") {
            return None;
        }
        let j = i + 1;
        if self.is(j, b"import") {
            return None;
        }
        if self.is(j, b"*") {
            let mut k = j + 1;
            if self.is(k, b"as") {
                k = self.namespace(j)?;
            }
            if !self.is(k, b"from") || !self.is_str(k + 1) {
                return None;
            }
            let end = self.skip_attributes(k + 2)?;
            if !self.statement_ends(end) {
                return None;
            }
            self.emit(i, k + 1, ImportKind::ReExport, false);
            return Some(Some(end));
        }
        let (open, statement_type) = if self.is(j, b"{") {
            (j, false)
        } else if self.is(j, b"type") && self.is(j + 1, b"{") {
            (j + 1, true)
        } else if self.is(j, b"type") && self.is(j + 1, b"*") {
            return None;
        } else {
            return Some(None);
        };
        let (k, count, all) = self.specifiers(open)?;
        if self.is(k, b"from") {
            if !self.is_str(k + 1) {
                return None;
            }
            let end = self.skip_attributes(k + 2)?;
            if !self.statement_ends(end) {
                return None;
            }
            let type_only = statement_type || (count > 0 && all);
            self.emit(i, k + 1, ImportKind::ReExport, type_only);
            return Some(Some(end));
        }
        if !self.statement_ends(k) {
            return None;
        }
        Some(Some(k))
    }

    /// `import(` / `require(` at `i`: the index of its literal argument, if it has one. The
    /// grammar accepts holes in argument lists (`f(, "x")`): the first argument is the first
    /// one present.
    fn literal_argument(&self, i: usize) -> Option<usize> {
        let mut arg = i + 2;
        while self.is(arg, b",") {
            arg += 1;
        }
        let t = self.toks.get(arg)?;
        (matches!(t.kind, Kind::Str | Kind::Tpl)
            && (self.is(arg + 1, b")") || self.is(arg + 1, b",")))
        .then_some(arg)
    }

    /// How the `import(` at `i` is classified; `None` when the scanner cannot tell.
    fn import_call_kind(&self, i: usize) -> Option<ImportKind> {
        let lv = self.levels.last().expect("top level");
        match lv.st {
            St::Expr => Some(ImportKind::Dynamic),
            St::Unknown => None,
            St::Type => {
                // Only the forms whose tree shape is known: right after an annotation's `:`
                // (not `?:`), or a type alias' `=`, optionally behind `typeof`.
                let mut p = i.checked_sub(1)?;
                if self.is(p, b"typeof") {
                    p = p.checked_sub(1)?;
                }
                if self.is(p, b":") && !(p >= 1 && self.is(p - 1, b"?")) {
                    return Some(ImportKind::TypeImport);
                }
                if lv.alias_eq == p {
                    return Some(ImportKind::TypeImport);
                }
                None
            }
        }
    }

    fn open(&mut self, i: usize) {
        let prev = i.checked_sub(1);
        let prev_text: &[u8] = prev.map_or(b";", |p| self.text(p));
        let prev_cont = prev.is_none() || TYPE_CONT.contains(&prev_text);
        // `return` + line break + `{` is a return followed by a block (ASI).
        let asi_block = self.toks[i].nl && matches!(prev_text, b"return" | b"yield");
        let which = self.text(i);
        let prev_kind = prev.map(|p| self.toks[p].kind);
        let lv = self
            .levels
            .last_mut()
            .expect("the top level is never popped");
        let after_stmt_colon = prev.is_some_and(|p| lv.stmt_colon == p);
        let st = lv.st;
        let level = match which {
            b"(" => {
                let base = match st {
                    St::Expr => St::Expr,
                    St::Type if prev_cont => St::Type,
                    _ => St::Unknown,
                };
                Level::new(LevelKind::Paren, base)
            }
            b"[" => Level::new(LevelKind::Bracket, st),
            _ => {
                // `{`
                if lv.class_pending {
                    lv.class_pending = false;
                    Level::new(LevelKind::ClassBody, St::Expr)
                } else if after_stmt_colon {
                    Level::new(LevelKind::Block, st)
                } else if lv.interface_pending {
                    lv.interface_pending = false;
                    Level::new(LevelKind::InterfaceBody, St::Type)
                } else {
                    match st {
                        St::Type if prev_cont => Level::new(LevelKind::ObjType, St::Type),
                        St::Type => Level::new(LevelKind::Block, St::Expr),
                        St::Unknown => Level::new(LevelKind::Block, St::Unknown),
                        St::Expr => {
                            let obj = prev.is_some()
                                && !asi_block
                                && (OBJ_BEFORE.contains(&prev_text)
                                    || matches!(
                                        prev_kind,
                                        Some(
                                            Kind::TplHead
                                                | Kind::TplMid
                                                | Kind::JsxHead
                                                | Kind::JsxMid
                                        )
                                    ));
                            if obj {
                                Level::new(LevelKind::Obj, St::Expr)
                            } else {
                                Level::new(LevelKind::Block, St::Expr)
                            }
                        }
                    }
                }
            }
        };
        self.levels.push(level);
    }

    fn close(&mut self, i: usize) -> Option<()> {
        if self.levels.len() < 2 {
            return None;
        }
        let done = self.levels.pop()?;
        let lv = self.top();
        match done.kind {
            LevelKind::Block | LevelKind::ClassBody | LevelKind::InterfaceBody => {
                lv.end_statement()
            }
            LevelKind::Paren => {
                lv.paren_close = i;
                lv.paren_base = done.base;
            }
            _ => {}
        }
        Some(())
    }

    fn colon(&mut self, i: usize) {
        let prev_close = self.prev_is(i, b")");
        let prev_ident = i >= 1 && self.toks[i - 1].kind == Kind::Ident;
        let label = prev_ident
            && (i < 2
                || self.toks[i - 1].nl
                || (self.toks[i - 2].kind == Kind::Punct
                    && matches!(self.text(i - 2), b";" | b"{" | b"}")));
        let lv = self.top();
        if lv.ternary > 0 {
            // `c ? (a) : b` and an optional method's return type `m?(): T` look alike.
            lv.ternary -= 1;
            if prev_close {
                lv.st = St::Unknown;
            } else {
                lv.expr_op();
            }
            return;
        }
        if lv.case_pending {
            // `case (x):` and a return type `f(): T` after a stray `case` look alike.
            lv.case_pending = false;
            lv.stmt_colon = i;
            lv.st = if prev_close { St::Unknown } else { St::Expr };
            return;
        }
        if label && matches!(lv.kind, LevelKind::Top | LevelKind::Block) && !lv.decl {
            // A statement label: what follows is a statement the scanner does not classify.
            lv.stmt_colon = i;
            lv.st = St::Unknown;
            return;
        }
        lv.st = if prev_close {
            St::Type
        } else {
            match lv.kind {
                LevelKind::Obj => St::Expr,
                LevelKind::Paren
                | LevelKind::ClassBody
                | LevelKind::InterfaceBody
                | LevelKind::ObjType => St::Type,
                LevelKind::Top | LevelKind::Block if lv.decl => St::Type,
                _ => St::Unknown,
            }
        };
    }

    fn run(&mut self) -> Option<()> {
        let mut i = 0;
        let n = self.toks.len();
        while i < n {
            let t = self.toks[i];
            match t.kind {
                Kind::Ident => {
                    if self.after_dot(i) {
                        i += 1;
                        continue;
                    }
                    let key = self.prev_is(i, b"{") || self.prev_is(i, b",");
                    match self.text(i) {
                        b"import" if self.is(i + 1, b":") && key => {}
                        b"import" if self.is(i + 1, b"(") => {
                            if self.prev_is(i, b"@") || self.prev_is(i, b"new") {
                                return None;
                            }
                            if let Some(arg) = self.literal_argument(i) {
                                let kind = self.import_call_kind(i)?;
                                self.emit(i, arg, kind, kind == ImportKind::TypeImport);
                            }
                        }
                        // `import.meta`; any other `import.` is not JavaScript.
                        b"import" if self.is(i + 1, b".") && self.is(i + 2, b"meta") => {}
                        b"import" if self.is(i + 1, b".") => return None,
                        b"import" => {
                            i = self.import_statement(i)?;
                            self.top().end_statement();
                            continue;
                        }
                        b"export" if self.is(i + 1, b":") && key => {}
                        b"export" => {
                            if let Some(next) = self.export_statement(i)? {
                                i = next;
                                self.top().end_statement();
                                continue;
                            }
                            self.top().end_statement();
                        }
                        b"require" => {
                            if self.is(i + 1, b"<") || self.is(i + 1, b"?.") {
                                return None;
                            }
                            if self.is(i + 1, b"(") {
                                if self.prev_is(i, b"@")
                                    || self.prev_is(i, b"new")
                                    || self.prev_is(i, b"function")
                                {
                                    return None;
                                }
                                if let Some(arg) = self.literal_argument(i) {
                                    self.emit(i, arg, ImportKind::Require, false);
                                }
                            }
                        }
                        b"type" => {
                            let alias = self.is_ident(i + 1)
                                && !matches!(
                                    self.text(i + 1),
                                    b"in" | b"of" | b"instanceof" | b"as" | b"satisfies"
                                )
                                && (self.at_statement_start(i)
                                    || self.prev_is(i, b"export")
                                    || self.prev_is(i, b"declare"));
                            if alias {
                                let lv = self.top();
                                lv.alias_pending = true;
                                lv.st = St::Type;
                            }
                        }
                        b"interface" if self.is_ident(i + 1) => {
                            let lv = self.top();
                            lv.interface_pending = true;
                            lv.st = St::Type;
                        }
                        b"namespace" | b"module"
                            if (self.is_ident(i + 1)
                                && !(i >= 1
                                    && matches!(
                                        self.text(i - 1),
                                        b"let" | b"const" | b"var" | b"function" | b"class"
                                    )))
                                || self.is_str(i + 1) =>
                        {
                            // In this grammar `namespace X` / `module X` is also an expression
                            // (`internal_module`): only the declaration forms are read.
                            let mut j = i + 2;
                            if self.is_ident(i + 1) {
                                while self.is(j, b".") && self.is_ident(j + 1) {
                                    j += 2;
                                }
                            }
                            let shorthand = self.is_str(i + 1) && self.statement_ends(j);
                            if !self.is(j, b"{") && !shorthand {
                                return None;
                            }
                        }
                        b"class"
                            if !key
                                && !matches!(
                                    self.toks.get(i + 1).map(|_| self.text(i + 1)),
                                    Some(b":" | b"," | b"}" | b"(" | b"=" | b")" | b";") | None
                                ) =>
                        {
                            self.top().class_pending = true
                        }
                        b"let" | b"const" | b"var" | b"using" => {
                            // `let` + line break, or `let` not followed by a binding, reads as an identifier.
                            let split = self.toks.get(i + 1).is_none_or(|t| t.nl)
                                || !(self.is_ident(i + 1)
                                    || self.is(i + 1, b"{")
                                    || self.is(i + 1, b"["));
                            let lv = self.top();
                            if split {
                                lv.st = St::Unknown;
                            } else {
                                lv.decl = true;
                                lv.st = St::Expr;
                            }
                        }
                        b"as" | b"satisfies" | b"keyof" | b"implements" => self.top().st = St::Type,
                        b"case" => self.top().case_pending = true,
                        b"default" if self.is(i + 1, b":") => self.top().case_pending = true,
                        b"await" | b"return" | b"yield" | b"throw" | b"new" | b"delete" | b"in"
                        | b"instanceof" => self.top().expr_op(),
                        _ => {}
                    }
                }
                Kind::TplHead => self.levels.push(Level::new(LevelKind::Subst, St::Expr)),
                Kind::TplMid => {
                    let lv = self.top();
                    if lv.kind != LevelKind::Subst {
                        return None;
                    }
                    *lv = Level::new(LevelKind::Subst, St::Expr);
                }
                Kind::TplTail => {
                    if self.top().kind != LevelKind::Subst {
                        return None;
                    }
                    self.close(i)?;
                }
                // JSX is an expression: never where the scanner reads a type.
                Kind::Jsx => {
                    if self.top().st == St::Type {
                        return None;
                    }
                }
                Kind::JsxHead => {
                    if self.top().st == St::Type {
                        return None;
                    }
                    self.levels.push(Level::new(LevelKind::JsxExpr, St::Expr));
                }
                Kind::JsxMid => {
                    let lv = self.top();
                    if lv.kind != LevelKind::JsxExpr {
                        return None;
                    }
                    *lv = Level::new(LevelKind::JsxExpr, St::Expr);
                }
                Kind::JsxTail => {
                    if self.top().kind != LevelKind::JsxExpr {
                        return None;
                    }
                    self.close(i)?;
                }
                Kind::Punct => self.punct(i)?,
                Kind::Num | Kind::Str | Kind::Tpl | Kind::Regex => {}
            }
            i += 1;
        }
        if self.levels.len() != 1 {
            return None;
        }
        Some(())
    }

    fn punct(&mut self, i: usize) -> Option<()> {
        match self.text(i) {
            b"(" | b"[" | b"{" => self.open(i),
            b")" | b"]" | b"}" => {
                let want = match self.text(i) {
                    b")" => LevelKind::Paren,
                    b"]" => LevelKind::Bracket,
                    _ => LevelKind::Block,
                };
                let kind = self.top().kind;
                let ok = match want {
                    LevelKind::Block => matches!(
                        kind,
                        LevelKind::Obj
                            | LevelKind::ObjType
                            | LevelKind::Block
                            | LevelKind::ClassBody
                            | LevelKind::InterfaceBody
                    ),
                    w => kind == w,
                };
                if !ok {
                    return None;
                }
                self.close(i)?;
            }
            b"," => {
                let lv = self.top();
                lv.st = if lv.angle > 0 { St::Type } else { lv.base };
            }
            b";" => self.top().end_statement(),
            b"=" => {
                let lv = self.top();
                if lv.angle > 0 {
                    lv.st = St::Type;
                } else if lv.alias_pending {
                    lv.alias_pending = false;
                    lv.alias_eq = i;
                    lv.st = St::Type;
                } else {
                    lv.st = St::Expr;
                }
            }
            b"=>" => {
                let closed_paren = self.prev_is(i, b")");
                let lv = self.top();
                lv.st = if closed_paren && lv.paren_close == i - 1 {
                    lv.paren_base
                } else {
                    St::Expr
                };
            }
            b":" => self.colon(i),
            b"?" => {
                let optional = [b":" as &[u8], b",", b")", b"=", b"]"]
                    .iter()
                    .any(|s| self.is(i + 1, s));
                if !optional {
                    let lv = self.top();
                    lv.ternary += 1;
                    lv.expr_op();
                }
            }
            b"<" => {
                let lv = self.top();
                if lv.angle == 0 {
                    lv.before_angle = lv.st;
                }
                lv.angle += 1;
                lv.st = St::Type;
            }
            b">" => {
                let lv = self.top();
                if lv.angle > 0 {
                    lv.angle -= 1;
                    if lv.angle == 0 {
                        lv.st = lv.before_angle;
                    }
                } else {
                    lv.expr_op();
                }
            }
            b"@" => {
                if self.is(i + 1, b"import") || self.is(i + 1, b"require") {
                    return None;
                }
            }
            b"." | b"?." | b"|" | b"&" => {}
            _ => self.top().expr_op(),
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::typescript::extract_tree_sitter;

    type Row = (String, u32, ImportKind, bool);

    fn rows(f: &FileFacts) -> Vec<Row> {
        f.imports
            .iter()
            .map(|i| (i.specifier.clone(), i.line, i.kind, i.type_only))
            .collect()
    }

    /// Scanner vs tree-sitter on one source: `true` when the scanner answered (and agreed).
    fn agrees(lang: Lang, src: &str, what: &str) -> bool {
        let Some(fast) = scan(lang, src) else {
            return false;
        };
        let slow = extract_tree_sitter(lang, src);
        assert_eq!(
            rows(&fast),
            rows(&slow),
            "scanner and tree-sitter differ on {what}"
        );
        assert_eq!(fast.lines, slow.lines, "line count differs on {what}");
        true
    }

    /// `(name, lang, source, the scanner must answer)`.
    const TRICKY: &[(&str, Lang, &str, bool)] = &[
        ("regex with quotes", Lang::TypeScript, "const r = /['\"]/g;\nimport a from './a';\n", true),
        ("regex with slash", Lang::TypeScript, "const r = /\\//;\nconst s = /[/]/;\nimport b from './b';\n", true),
        ("division chain", Lang::TypeScript, "const x = a / b / c;\nimport c from './c';\n", true),
        ("division after paren", Lang::TypeScript, "const x = (a + b) / 2 / (c / d);\nconst y = require('./y');\n", true),
        ("regex after if paren", Lang::TypeScript, "if (x) /'/.test(y);\nimport d from './d';\n", true),
        ("division after index", Lang::TypeScript, "const x = a[0] / 2; const y = a[1] / 3;\nimport e from './e';\n", true),
        ("regex after return", Lang::TypeScript, "function f() { return /\"/.test(s); }\nimport f from './f';\n", true),
        ("division after brace on its own", Lang::TypeScript, "const o = {} / 2;\nimport g from './g';\n", true),
        ("ambiguous slash after brace", Lang::TypeScript, "function f() {}\n/x/.test(y)\nimport g from './g';\n", false),
        ("nested templates", Lang::TypeScript, "const t = `a ${`b ${c} d`} e ${ import(\"./x\") } f`;\nconst u = `${'}'}`;\nimport h from './h';\n", true),
        ("template with braces inside", Lang::TypeScript, "const t = `${ {a: 1}.a } ${ f({b: `${2}`}) }`;\nrequire(`./tpl`);\n", true),
        ("strings that look like imports", Lang::TypeScript, "const s = 'import \"x\"';\nconst t = \"require('y')\";\nconst u = `import('z')`;\n", true),
        ("comments that look like imports", Lang::TypeScript, "// import a from './a';\n/* require('./b') */\n/** import('./c') */\nexport {};\n", true),
        ("import.meta", Lang::TypeScript, "const u = new URL('./x', import.meta.url);\nimport i from './i';\n", true),
        ("member import and require", Lang::TypeScript, "obj.import('./a');\nx.require(\"./b\");\na?.require('./c');\nrequire.resolve('./d');\n", true),
        ("export forms without source", Lang::TypeScript, "export default function f() {}\nexport const a = 1;\nexport type X = { a: string };\nexport interface I { b: number }\nexport { a as b };\nexport = a;\n", true),
        ("import type default and named", Lang::TypeScript, "import type X, { Y } from './xy';\n", true),
        ("default and namespace", Lang::TypeScript, "import x, * as y from './xy';\nexport * as ns from './ns';\nexport * as \"str\" from './str';\n", true),
        ("multi-line import list", Lang::TypeScript, "import {\n  a,\n  type B,\n  c as d,\n} from\n  './abc';\nexport {\n  type E,\n  type F,\n} from './ef';\n", true),
        ("all-type and mixed lists", Lang::TypeScript, "import { type A, type B } from './ab';\nimport { type C, d } from './cd';\nimport {} from './empty';\nexport { type G } from './g';\nexport type { H } from './h';\nimport { type } from './t';\n", true),
        ("import equals", Lang::TypeScript, "import a = require('./a');\nimport type b = require('./b');\nexport import c = require('./c');\nimport N = M.N;\n", false),
        ("import equals plain", Lang::TypeScript, "import a = require('./a');\nimport type b = require('./b');\nimport N = M.N;\nconst q = N;\n", true),
        ("type import in alias", Lang::TypeScript, "type A = import('./a').A;\ntype B = typeof import('./b');\nexport type C<T> = import('./c').C<T>;\n", true),
        ("type import in annotations", Lang::TypeScript, "let a: import('./a').A;\nfunction f(b: import('./b').B): import('./c').C { return b as any; }\nclass K { p: import('./d').D; m(): typeof import('./e') { return null!; } }\ninterface I { q: import('./f').F; [k: string]: import('./g').G }\n", true),
        ("type import in generic argument", Lang::TypeScript, "let a: Map<string, import('./a').A>;\nconst b = f<import('./b').B>(x);\n", false),
        ("typeof import in expression", Lang::TypeScript, "const t = typeof import('./t');\n", true),
        ("optional annotation with type import", Lang::TypeScript, "class K { p?: import('./d').D }\nfunction f(a?: import('./a').A) {}\n", false),
        ("dynamic imports", Lang::TypeScript, "const a = await import('./a');\nconst b = () => import('./b');\nconst routes = [{ path: 'x', loadChildren: () => import('./c').then(m => m.C) }];\nPromise.all([import('./d'), import('./e')]);\nexport default { f: () => import(`./f`) };\nconst g = cond ? import('./g') : null;\nfoo(import('./h'), { with: { type: 'json' } });\nasync function k(): Promise<void> { await import('./k'); }\n", true),
        ("dynamic import after arrow with return type", Lang::TypeScript, "const f = async (): Promise<M> => import('./m');\nconst g = (x: number): Promise<N> => { return import('./n'); };\n", true),
        ("dynamic import with non-literal", Lang::TypeScript, "import(name);\nimport(`./${name}`);\nrequire(x + '.js');\nrequire('a' + b);\nrequire();\nimport('./ok', { with: {} });\n", true),
        ("require forms", Lang::Tsx, "const a = require('./a');\nconst { b } = require(\"./b\");\nrequire('./c')('arg');\nmodule.exports = { d: require('./d') };\nconst e = require('./e').default;\n", true),
        ("class members named import and require", Lang::TypeScript, "class A { import(x: string) { return x; } require(y) { return y; } }\nconst o = { import: 1, require: 2, export: 3, class: 4 };\nconst v = o.import + a.export;\nimport z from './z';\n", true),
        ("keywords as property names", Lang::TypeScript, "a.import;\na.export;\nconst b = { import: 1, type: 2, as: 3 };\nconst { import: c } = b;\nimport d from './d';\n", true),
        ("optional chaining", Lang::TypeScript, "const a = b?.c?.(d)?.[e] ?? f;\nconst g = h?.i / 2;\nimport j from './j';\n", true),
        ("reference directives", Lang::TypeScript, "/// <reference path=\"./globals.d.ts\" />\n/// <reference types=\"node\" />\n///<reference path='other.d.ts'/>\nimport a from './a';\n", true),
        ("shebang", Lang::Tsx, "#!/usr/bin/env node\nconst a = require('./a');\n", true),
        ("unicode", Lang::TypeScript, "const café = 'naïve ☃';\nconst 変数 = \"値\";\nimport a from './ä';\n", true),
        ("crlf", Lang::TypeScript, "import a from './a';\r\n// c\r\nconst b = require('./b');\r\n/// <reference path=\"./r.d.ts\" />\r\nexport * from './c';\r\n", true),
        ("bom", Lang::TypeScript, "\u{feff}import a from './a';\nconst b = require('./b');\n", true),
        ("jsx", Lang::Tsx, "const React = require('react');\nexport const A = () => <div>{require('./x')}</div>;\n", true),
        ("jsx with quote in text", Lang::Tsx, "import x from './x';\nconst a = <p>Don't</p>;\n", true),
        ("jsx nested elements", Lang::Tsx, "import React from 'react';\nexport function App() {\n  return (\n    <Layout.Root title=\"x\">\n      <ul className=\"list\">\n        <li key={1}><a href='/a'>A</a></li>\n        <my-el data-x-y=\"1\" aria-label='l' />\n        <svg:rect xlink:href=\"#r\" />\n      </ul>\n    </Layout.Root>\n  );\n}\nimport B from './b';\n", true),
        ("jsx text that looks like code", Lang::Tsx, "import a from './a';\nconst x = <p>\n  It's \"quoted\" // not a comment /* nor this */ a / b / c\n  require('./no') import('./no2') `tick`\n</p>;\nconst y = require('./y');\n", true),
        ("jsx comments in containers and tags", Lang::Tsx, "const a = (\n  <div /* tag comment */ id=\"x\" // line\n  >\n    {/* child comment */}\n    {// line comment\n    }\n    {}\n  </div>\n);\nimport b from './b';\n", true),
        ("jsx attributes with code", Lang::Tsx, "const a = <Button onClick={() => { const m = import('./m'); return m; }} label={`x ${y}`} style={{ color: 'red' }} {...props} render={(x: number) => <b>{x}</b>} />;\nconst c = require('./c');\n", true),
        ("jsx imports in containers", Lang::Tsx, "export const A = () => (\n  <Suspense fallback={<Spinner />}>\n    {require('./x')}\n    {items.map((i) => <Item key={i} src={import('./y')} />)}\n    <Lazy load={() => import(`./z`)} />\n  </Suspense>\n);\n", true),
        ("jsx fragments", Lang::Tsx, "const a = <>\n  <A />\n  <>{require('./f')}</>\n</>;\nimport g from './g';\n", true),
        ("jsx conditional and comparisons", Lang::Tsx, "const a = i < n ? <X /> : null;\nconst b = cond && <Y>{a < b ? 'lt' : 'ge'}</Y>;\nfor (let i = 0; i < n; i++) { c = i > 2 ? <Z /> : i; }\nimport d from './d';\n", true),
        ("jsx entities", Lang::Tsx, "const a = <p title=\"Tom &amp; Jerry & co\">a &lt; b &#169; &#x1F600; &nbsp;</p>;\nimport e from './e';\n", true),
        ("jsx bare ampersand", Lang::Tsx, "const a = <p>Tom & Jerry</p>;\nimport e from './e';\n", false),
        ("jsx greater-than in text", Lang::Tsx, "const a = <p>a > b</p>;\nimport e from './e';\n", false),
        ("jsx closing-tag text in strings", Lang::Tsx, "const s = '</div>';\nconst t = \"<a>\";\nconst u = `</b>`;\nconst v = <p>{'</p>'}</p>;\nimport w from './w';\n", true),
        ("jsx in template substitution", Lang::Tsx, "const t = `a ${<b>{require('./b')}</b>} c ${x}`;\nimport d from './d';\n", true),
        ("jsx element as attribute value", Lang::Tsx, "const a = <A icon=<Icon name=\"x\" /> other={1}>t</A>;\nimport b from './b';\n", true),
        ("jsx multiline attribute string", Lang::Tsx, "const a = <A title=\"line one\nline two\" b='c\\' />;\nconst d = require('./d');\n", true),
        ("tsx generic arrow functions", Lang::Tsx, "const f = <T,>(x: T) => x;\nconst g = <T extends object>(x: T): T => x;\nconst h = <const T, U = string>(x: T) => import('./h');\nimport i from './i';\n", true),
        ("jsx element type arguments", Lang::Tsx, "const a = <List<User> items={require('./u')} />;\nconst b = <Radio<\"a\" | 'b'> value=\"a\">x</Radio>;\nconst c = <Select<Map<string, (x: number) => void>, { k: T[] }>>{import('./c')}</Select>;\nimport d from './d';\n", true),
        ("jsx element type argument with import type", Lang::Tsx, "const a = <List<import('./t').T> />;\n", false),
        ("tsx type parameters on their own lines", Lang::Tsx, "const f = <\n  T extends object,\n  U = T,\n>(x: T): U => require('./f');\nimport g from './g';\n", true),
        ("jsx keyword-like names", Lang::Tsx, "const a = <svg><symbol id=\"s\" /><switch><text x=\"1\">t</text></switch></svg>;\nconst b = <label for=\"x\" class=\"c\" type=\"button\" default async in />;\nconst c = <a.default />;\nimport d from './d';\n", true),
        ("export default jsx", Lang::Tsx, "import a from './a';\nexport default <div>It's {require('./b')}</div>;\n", true),
        ("export default generic arrow", Lang::Tsx, "export default <T,>(x: T) => import('./c');\n", true),
        ("jsx this member element", Lang::Tsx, "const a = <this.Component {...this.props} />;\nimport d from './d';\n", false),
        ("jsx mismatched closing tag", Lang::Tsx, "const a = <a>{require('./x')}</b>;\n", false),
        ("tsx extends with a closing tag", Lang::Tsx, "const f = <T extends U>(x: T) => x;\nconst g = <p>{require('./g')}</T>;\n", false),
        ("tsx non-null before comparison", Lang::Tsx, "const a = x.index! < y.index!;\nconst b = f(c)! <d;\nconst e = !<F />;\nimport g from './g';\n", true),
        ("tsx spaced non-null before a less-than", Lang::Tsx, "const a = x ! < y;\nimport b from './b';\n", false),
        ("tsx type parameter defaults", Lang::Tsx, "const f = <T = string>(x: T) => x;\ninterface Q {\n  <TData = unknown>(input: TData): void;\n}\nimport i from './i';\n", true),
        ("jsx attribute string with a bare query ampersand", Lang::Tsx, "const a = <a href=\"https://x.y/?a=1&b=2\">x</a>;\nimport i from './i';\n", false),
        ("tsx single type parameter", Lang::Tsx, "const f = <T>(x: T) => x;\nimport i from './i';\n", false),
        ("tsx generic calls and types", Lang::Tsx, "const m = useState<string | null>(null);\nconst n = f<A, B>(c) / 2;\nlet o: Array<Map<string, number>> = [];\nif (a < b && c > d) {}\nimport p from './p';\n", true),
        ("tsx return of jsx", Lang::Tsx, "function F() {\n  if (!x) return <Empty />;\n  return <div>\n    {list.length > 0 && list.map(i => <Row {...i} />)}\n  </div>;\n}\nimport g from './g';\n", true),
        ("ts generic call and assertion", Lang::TypeScript, "const a = f<b>(c);\nconst d = <T>e;\nconst g = i < n;\nimport h from './h';\n", true),
        ("jsx in js file", Lang::Tsx, "const React = require('react');\nmodule.exports = function A(props) { return <div className=\"a\">{props.children}</div>; };\n", true),
        ("plain js", Lang::Tsx, "'use strict';\nconst a = require('./a');\nif (a < 2 && b > 3) { c = a / 2; }\nmodule.exports = a;\n", true),
        ("esm js", Lang::Tsx, "import a from './a.js';\nexport { b } from './b.js';\nexport default async function () { return (await import('./c.js')).default; }\n", true),
        ("decorators", Lang::TypeScript, "import { Component } from '@angular/core';\n@Component({ selector: 'x', template: require('./t.html') })\nexport class X {}\n", true),
        ("side effect with attributes", Lang::TypeScript, "import './a.css';\nimport data from './d.json' with { type: 'json' };\nimport './b' assert { type: 'css' };\n", true),
        ("declare module", Lang::TypeScript, "declare module 'm' {\n  import { A } from './a';\n  export const b: import('./b').B;\n  export * from './c';\n}\n", true),
        ("switch case blocks", Lang::TypeScript, "switch (k) {\n  case 1: { const a = await import('./a'); break; }\n  case 'x': return import('./b');\n  default: { let c: import('./c').C; }\n}\n", true),
        ("unterminated string", Lang::TypeScript, "import a from './a';\nconst s = 'oops\n", false),
        ("unbalanced", Lang::TypeScript, "import a from './a';\nfunction ( {\nimport b from './b';\n", false),
        ("empty specifiers dropped", Lang::TypeScript, "import a from '';\nrequire('');\nimport('');\n", true),
        ("escapes in specifiers", Lang::TypeScript, "import a from './a\\'b';\nconst c = require(\"./c\\\\d\");\n", true),
        ("generics and comparisons", Lang::TypeScript, "const m = new Map<string, Array<number>>();\nif (a < b && c >= d) {}\nconst e = f<g>(h) / 2;\nimport i from './i';\n", true),
        ("type assertion cast", Lang::TypeScript, "const k = <any>foo;\nconst l = <T,>(x: T) => x;\nimport m from './m';\n", true),
        ("non-null assertion division", Lang::TypeScript, "const r = count! / total;\nimport n from './n';\n", true),
        ("private names", Lang::TypeScript, "class A { #x = 1; m() { return this.#x / 2; } }\nimport p from './p';\n", true),
        ("labels", Lang::TypeScript, "outer: for (const a of b) { continue outer; }\nimport q from './q';\n", true),
        ("reference inside import list", Lang::TypeScript, "import {\n/// <reference path=\"./r.d.ts\" />\n  a } from './a';\n", true),
        ("numbers", Lang::TypeScript, "const n = 1_000 / 0x1f / 1e-3 / .5 / 10n;\nimport r from './r';\n", true),
        ("regex in call args", Lang::TypeScript, "s.replace(/\\/+$/, '').split(/[,;]/);\nimport s from './s';\n", true),
        ("html comment", Lang::Tsx, "<!-- x\nconst a = require('./a');\n", false),
        ("holes in argument lists", Lang::TypeScript, "require(, './a');\nimport(,, './b');\n", true),
        ("let as an identifier then a label", Lang::TypeScript, "let\na: import('./a').A;\nlet:b: import('./b');\n", false),
        ("optional method return type", Lang::TypeScript, "class K { m?(): typeof import('./e') { return null!; } }\n", false),
        ("ternary with parenthesised branch", Lang::TypeScript, "const a = c ? (b) : import('./a');\n", false),
        ("internal module expression", Lang::TypeScript, "const y = namespace require('./y');\n", false),
        ("namespace and ambient module declarations", Lang::TypeScript, "namespace A.B { export const c = require('./c'); }\ndeclare module 'm';\nmodule.exports = require('./d');\n", true),
        ("module as a binding", Lang::TypeScript, "for (let module of mods) { x[module] = require('./m'); }\n", true),
        ("html close comment mid-line", Lang::TypeScript, "x.-->require('./a');\n", false),
    ];

    #[test]
    fn tricky_snippets_agree_with_tree_sitter() {
        for (name, lang, src, must) in TRICKY {
            let answered = agrees(*lang, src, name);
            if *must {
                assert!(answered, "the scanner gave up on plain case {name:?}");
            }
        }
    }

    /// Every prefix of every snippet: the scanner never panics, and agrees with tree-sitter on
    /// each prefix tree-sitter reads without a syntax error (on broken code tree-sitter's error
    /// recovery decides, and the scanner only promises to match valid code).
    #[test]
    fn prefixes_of_snippets_agree_or_fall_back() {
        let mut compared = 0;
        for (name, lang, src, _) in TRICKY {
            for (cut, _) in src.char_indices().skip(1) {
                let prefix = &src[..cut];
                let Some(fast) = scan(*lang, prefix) else {
                    continue;
                };
                let slow = extract_tree_sitter(*lang, prefix);
                if slow.syntax_errors == 0 {
                    assert_eq!(
                        rows(&fast),
                        rows(&slow),
                        "{name:?} cut at {cut}: {prefix:?}"
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 500, "only {compared} prefixes compared");
    }

    /// Tokens inserted at every position of every snippet by the mutation test: characters that
    /// matter to the lexer and words that matter to the recogniser.
    const INSERTS: &[&str] = &[
        "/",
        "'",
        "`",
        "{",
        "}",
        "(",
        ")",
        "<",
        ">",
        "\n",
        "=",
        ",",
        ";",
        ":",
        "?",
        ".",
        "!",
        "@",
        "\\",
        "=>",
        "${",
        "*/",
        "/*",
        "//",
        "-->",
        "#",
        "\r",
        "[",
        "]",
        "++",
        "\u{a0}",
        " type ",
        " as ",
        " let ",
        " import ",
        " require ",
        " export ",
        " typeof ",
        " case ",
        " class ",
        " return ",
        " of ",
        " interface ",
        " default ",
        " from ",
        " new ",
        " module ",
        " namespace ",
        " declare ",
        " keyof ",
        " extends ",
        " await ",
        " yield ",
        " in ",
        "</",
        "/>",
        "<>",
        "</>",
        "<a>",
        "&",
        "\"",
        "<T,>",
    ];

    /// Every snippet with a token inserted at every position, and with each character deleted
    /// in turn: the scanner never panics, and agrees with tree-sitter on every mutant
    /// tree-sitter reads without a syntax error (this is how holes in argument lists, mid-line
    /// `-->`, `let` as an identifier, `namespace X` as an expression and `export default! <a>`
    /// were found).
    #[test]
    fn mutants_of_snippets_agree_or_fall_back() {
        let mut compared = 0;
        for (name, lang, src, _) in TRICKY {
            for (at, _) in src.char_indices() {
                for with in INSERTS {
                    let mutant = format!("{}{with}{}", &src[..at], &src[at..]);
                    let Some(fast) = scan(*lang, &mutant) else {
                        continue;
                    };
                    let slow = extract_tree_sitter(*lang, &mutant);
                    if slow.syntax_errors == 0 {
                        assert_eq!(rows(&fast), rows(&slow), "{name:?}: {mutant:?}");
                        compared += 1;
                    }
                }
            }
        }
        // And every snippet with one character deleted (an unclosed tag, a lost quote or brace).
        for (name, lang, src, _) in TRICKY {
            for (at, ch) in src.char_indices() {
                let mutant = format!("{}{}", &src[..at], &src[at + ch.len_utf8()..]);
                let Some(fast) = scan(*lang, &mutant) else {
                    continue;
                };
                let slow = extract_tree_sitter(*lang, &mutant);
                if slow.syntax_errors == 0 {
                    assert_eq!(rows(&fast), rows(&slow), "{name:?}: {mutant:?}");
                    compared += 1;
                }
            }
        }
        eprintln!("mutants: {compared} compared");
        assert!(compared > 10_000, "only {compared} mutants compared");
    }

    fn source_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                source_files(&p, out);
            } else if p
                .to_str()
                .and_then(Lang::of_path)
                .is_some_and(|l| l.family() == super::super::Family::JavaScript)
            {
                out.push(p);
            }
        }
    }

    /// Differential run over a directory tree: (files, the files the scanner gave up on).
    fn differential_dir(dir: &std::path::Path) -> (usize, Vec<std::path::PathBuf>) {
        let mut files = Vec::new();
        source_files(dir, &mut files);
        files.sort();
        let (mut total, mut fell_back) = (0, Vec::new());
        for f in &files {
            let Ok(src) = std::fs::read_to_string(f) else {
                continue;
            };
            let lang = Lang::of_path(f.to_str().unwrap_or("")).expect("filtered above");
            total += 1;
            if !agrees(lang, &src, &f.display().to_string()) {
                if std::env::var_os("PR_RISK_TS_SCAN_VERBOSE").is_some() {
                    eprintln!("fell back: {}", f.display());
                }
                fell_back.push(f.clone());
            }
        }
        (total, fell_back)
    }

    #[test]
    fn fixtures_agree_with_tree_sitter() {
        let dir = testkit::fixtures_dir();
        let (total, fell_back) = differential_dir(&dir);
        eprintln!("fixtures: {} of {total} fell back", fell_back.len());
        assert!(total > 20, "fixtures not found");
        // JSX files included: the scanner reads every fixture itself.
        let mut files = Vec::new();
        source_files(&dir, &mut files);
        let jsx = files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "tsx" || e == "jsx"))
            .filter(|f| {
                std::fs::read_to_string(f).is_ok_and(|s| s.contains("</") || s.contains("/>"))
            })
            .count();
        assert!(jsx >= 4, "only {jsx} fixtures with JSX elements");
        assert!(fell_back.is_empty(), "gave up on {fell_back:?}");
    }

    /// `PR_RISK_TS_CORPUS=/path/to/node_modules cargo test --lib ts_scan -- --nocapture` runs
    /// the differential test over a real code base too.
    #[test]
    fn external_corpus_agrees_with_tree_sitter() {
        let Some(dir) = std::env::var_os("PR_RISK_TS_CORPUS") else {
            return;
        };
        let dir = std::path::Path::new(&dir);
        let (total, fell_back) = differential_dir(dir);
        eprintln!("corpus: {} of {total} fell back", fell_back.len());
        let mut jsx = Vec::new();
        source_files(dir, &mut jsx);
        let is_jsx = |f: &std::path::Path| f.extension().is_some_and(|e| e == "tsx" || e == "jsx");
        let jsx_total = jsx.iter().filter(|f| is_jsx(f)).count();
        let jsx_fell = fell_back.iter().filter(|f| is_jsx(f)).count();
        eprintln!("corpus: {jsx_fell} of {jsx_total} .tsx/.jsx files fell back");
    }

    #[test]
    fn synthetic_monorepos_agree_and_never_fall_back() {
        for seed in [42, 7, 2024] {
            let tree = testkit::synth::typescript_monorepo(2_000, seed);
            let mut scanned = 0;
            for (path, src) in &tree {
                let Some(lang) = Lang::of_path(path) else {
                    continue;
                };
                assert!(agrees(lang, src, path), "fell back on {path}");
                scanned += 1;
            }
            assert!(scanned >= 2_000);
        }
    }

    #[test]
    fn order_follows_the_tree_not_the_specifier() {
        // The statement starts before the reference comment inside it.
        let src = "import {\n/// <reference path=\"./r.d.ts\" />\n  a } from './a';\n";
        let got = rows(&scan(Lang::TypeScript, src).expect("scanned"));
        assert_eq!(got[0].0, "./a");
        assert_eq!(got[1].0, "./r.d.ts");
    }
}
