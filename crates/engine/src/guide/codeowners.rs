//! `CODEOWNERS`: who owns which paths, with GitHub's syntax and precedence.
//!
//! GitHub reads the first of `.github/CODEOWNERS`, `CODEOWNERS` and `docs/CODEOWNERS`. Each line is
//! a pattern and its owners (`@user`, `@org/team`, an e-mail address); `#` starts a comment; a
//! pattern with no owners makes the paths it matches unowned. The **last** matching line wins.
//!
//! Patterns follow gitignore's rules with GitHub's exceptions (no `!` negation, no `[…]` ranges):
//! - a pattern with a `/` at the start or in the middle is anchored at the repository root;
//!   otherwise it matches at any depth (`*.js`, `apps/`);
//! - `*` and `?` never cross a `/`; `**` matches any number of directories;
//! - a pattern that names a directory (`/build/logs/`, `apps/`, `**/logs`) owns everything below
//!   it, but one whose last segment is a wildcard (`docs/*`) owns only the files directly there.

use serde::Serialize;

/// One rule of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub pattern: String,
    pub owners: Vec<String>,
    /// 1-based line in the file.
    pub line: u32,
}

/// A parsed `CODEOWNERS` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeOwners {
    /// Where it was read from (`.github/CODEOWNERS`).
    pub path: String,
    pub rules: Vec<Rule>,
    /// Lines that could not be used (a negation, a character range), with why.
    pub skipped: Vec<String>,
}

/// The places GitHub looks, in its order.
pub const LOCATIONS: &[&str] = &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

impl CodeOwners {
    /// Parse the text of a `CODEOWNERS` file found at `path`.
    pub fn parse(path: &str, text: &str) -> CodeOwners {
        let mut rules = Vec::new();
        let mut skipped = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i as u32 + 1;
            let tokens = tokens(raw);
            let Some((pattern, owners)) = tokens.split_first() else {
                continue;
            };
            if pattern.starts_with('!') {
                skipped.push(format!(
                    "{path}:{line}: `{pattern}`: negation is not supported in CODEOWNERS"
                ));
                continue;
            }
            if pattern.contains('[') {
                skipped.push(format!(
                    "{path}:{line}: `{pattern}`: character ranges are not supported in CODEOWNERS"
                ));
                continue;
            }
            rules.push(Rule {
                pattern: pattern.clone(),
                owners: owners.to_vec(),
                line,
            });
        }
        CodeOwners {
            path: path.to_string(),
            rules,
            skipped,
        }
    }

    /// The rule that decides the owners of `path` (the last one that matches), if any.
    pub fn rule_for(&self, path: &str) -> Option<&Rule> {
        self.rules.iter().rev().find(|r| matches(&r.pattern, path))
    }

    /// The owners of `path` (empty when unowned).
    pub fn owners_of(&self, path: &str) -> &[String] {
        self.rule_for(path).map_or(&[], |r| r.owners.as_slice())
    }
}

/// The whitespace-separated tokens of a line before its comment (`\#` and `\ ` are literal).
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(&n) = chars.peek() {
                    if n == '#' || n == ' ' {
                        cur.push(n);
                        chars.next();
                        continue;
                    }
                }
                cur.push(c);
            }
            '#' => break,
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `pattern` (CODEOWNERS syntax) owns the repository-relative file `path`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let dir_only = pattern.ends_with('/');
    let body = pattern.trim_end_matches('/');
    let anchored = body.starts_with('/') || body.contains('/');
    let body = body.trim_start_matches('/');
    if body.is_empty() {
        return false;
    }
    let mut pat: Vec<&str> = body.split('/').collect();
    if !anchored {
        pat.insert(0, "**");
    }
    let file: Vec<&str> = path.split('/').collect();
    let last_is_wild = pat
        .last()
        .is_some_and(|s| s.contains('*') || s.contains('?'));
    // Ends: how many leading path segments the pattern may cover. The whole path (the file
    // itself) unless the pattern names a directory; a proper prefix (a directory holding the
    // file) unless the last segment is a wildcard (`docs/*` owns only the files directly there).
    (1..=file.len()).any(|end| {
        let is_file = end == file.len();
        let allowed = if is_file {
            !dir_only
        } else {
            dir_only || !last_is_wild || *pat.last().unwrap_or(&"") == "**"
        };
        allowed && match_segments(&pat, &file[..end])
    })
}

/// Segment-wise glob match with `**` for any number of segments.
fn match_segments(pat: &[&str], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|i| match_segments(rest, &path[i..])),
        Some((p, rest)) => match path.split_first() {
            Some((s, tail)) => match_one(p.as_bytes(), s.as_bytes()) && match_segments(rest, tail),
            None => false,
        },
    }
}

/// `*` and `?` within one segment.
fn match_one(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => match_one(&p[1..], s) || (!s.is_empty() && match_one(p, &s[1..])),
        (Some(b'?'), Some(_)) => match_one(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => match_one(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example file, and what each of its comments says.
    const GITHUB_EXAMPLE: &str = r#"
# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most precedence.
*.js    @js-owner #This is an inline comment.

*.go docs@example.com

*.txt @octo-org/octocats

/build/logs/ @doctocat

docs/*  docs@example.com

apps/ @octocat

/docs/ @doctocat

/scripts/ @doctocat @octocat

**/logs @octocat

/apps/ @octocat
/apps/github
"#;

    fn owners(path: &str) -> Vec<String> {
        CodeOwners::parse("CODEOWNERS", GITHUB_EXAMPLE)
            .owners_of(path)
            .to_vec()
    }

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn githubs_documented_examples() {
        assert_eq!(
            owners("README.md"),
            v(&["@global-owner1", "@global-owner2"])
        );
        assert_eq!(
            owners("src/app.js"),
            v(&["@js-owner"]),
            "inline comment dropped"
        );
        assert_eq!(owners("cmd/main.go"), v(&["docs@example.com"]));
        assert_eq!(owners("a/b/notes.txt"), v(&["@octo-org/octocats"]));
        // /build/logs/: the root build/logs directory and its subdirectories.
        assert_eq!(
            owners("build/logs/x.log"),
            v(&["@octocat"]),
            "**/logs is later"
        );
        // docs/*: docs/getting-started.md, not docs/build-app/troubleshooting.md — but /docs/
        // comes later and owns the whole root docs directory.
        assert_eq!(owners("docs/getting-started.md"), v(&["@doctocat"]));
        // apps/: an apps directory anywhere.
        assert_eq!(owners("lib/apps/x.rb"), v(&["@octocat"]));
        assert_eq!(owners("scripts/deploy.sh"), v(&["@doctocat", "@octocat"]));
        // **/logs: any logs directory.
        assert_eq!(owners("deeply/nested/logs/y"), v(&["@octocat"]));
        // /apps/github has no owners: unowned, although /apps/ owns its siblings.
        assert_eq!(owners("apps/github/z.rb"), Vec::<String>::new());
        assert_eq!(owners("apps/web/z.rb"), v(&["@octocat"]));
    }

    #[test]
    fn wildcard_last_segments_do_not_own_nested_files() {
        assert!(matches("docs/*", "docs/getting-started.md"));
        assert!(!matches("docs/*", "docs/build-app/troubleshooting.md"));
        assert!(matches("docs/**", "docs/build-app/troubleshooting.md"));
        assert!(matches("/build/logs/", "build/logs/a/b.txt"));
        assert!(!matches("/build/logs/", "x/build/logs/a.txt"), "anchored");
        assert!(matches("build/logs/", "build/logs/a.txt"));
        assert!(
            !matches("build/logs/", "x/build/logs/a.txt"),
            "a middle slash anchors"
        );
        assert!(matches("*.js", "a/b/c.js"));
        assert!(!matches("*.js", "a/b/c.jsx"));
        assert!(matches("apps/", "apps/a.ts"));
        assert!(
            !matches("apps/", "apps"),
            "a directory pattern owns no file named like it"
        );
        assert!(matches("a/**/b", "a/b/x"));
        assert!(matches("a/**/b", "a/x/y/b/z"));
        assert!(matches("src/?.ts", "src/a.ts"));
        assert!(!matches("src/?.ts", "src/ab.ts"));
        assert!(matches("*", "any/thing.rs"));
    }

    #[test]
    fn comments_escapes_and_unsupported_lines() {
        let c = CodeOwners::parse(
            ".github/CODEOWNERS",
            "# comment\n\\#file @a\n!negated @b\nsrc/[ab].ts @c\n  \nlib/ @d # owner of lib\n",
        );
        assert_eq!(c.rules.len(), 2);
        assert_eq!(c.rules[0].pattern, "#file");
        assert_eq!(c.rules[1].owners, v(&["@d"]));
        assert_eq!(c.rules[1].line, 6);
        assert_eq!(c.skipped.len(), 2);
        assert!(
            c.skipped[0].contains(".github/CODEOWNERS:3"),
            "{:?}",
            c.skipped
        );
    }
}
