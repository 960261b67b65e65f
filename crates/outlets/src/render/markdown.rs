//! Markdown for GitHub: the PR comment (`comment.md.j2`), the check-run summary (`check.md.j2`)
//! and the step summary. Templates only read report fields; this module only chooses how many
//! list items fit GitHub's size limits.
//!
//! The typed report is serialised for the templates, so they see exactly the documented report
//! schema.

use std::collections::BTreeMap;

use engine::error::{Error, Result};
use engine::report::Report;
use engine::score::Rating;
use minijinja::{Environment, UndefinedBehavior, Value as JValue};
use serde::Serialize;

pub const COMMENT_TEMPLATE: &str = "comment.md.j2";
pub const CHECK_TEMPLATE: &str = "check.md.j2";

/// GitHub's limits (characters): comment body, check-run `output.summary`, step summary (bytes).
pub const COMMENT_LIMIT: usize = 65_536;
pub const CHECK_SUMMARY_LIMIT: usize = 65_535;
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// The embedded Markdown templates, by name.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        COMMENT_TEMPLATE,
        include_str!("../../../../templates/comment.md.j2"),
    ),
    (
        CHECK_TEMPLATE,
        include_str!("../../../../templates/check.md.j2"),
    ),
];

/// How many items each list shows before "…and N more".
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Caps {
    pub findings: usize,
    pub violations: usize,
    pub files: usize,
}

impl Caps {
    pub const DEFAULT: Caps = Caps {
        findings: 25,
        violations: 25,
        files: 10,
    };

    fn shrink(self) -> Caps {
        Caps {
            findings: self.findings / 4,
            violations: self.violations / 4,
            files: self.files / 2,
        }
    }
}

/// Where the text is going and what it may link to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Links {
    /// `{server}/{owner}/{repo}/blob/{head_sha}`: file links point at the head commit.
    pub blob: Option<String>,
    /// The check run or workflow run, when known.
    pub run: Option<String>,
}

/// A Markdown renderer with the embedded templates, optionally overridden (file name → source).
pub struct Markdown {
    env: Environment<'static>,
}

impl Markdown {
    pub fn new(overrides: &BTreeMap<String, String>) -> Result<Markdown> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("md", md_escape);
        env.add_filter("code", md_code);
        env.add_filter("mdtext", md_text);
        env.add_filter("urlpath", url_path);
        for (name, src) in EMBEDDED {
            let src = overrides
                .get(*name)
                .cloned()
                .unwrap_or_else(|| src.to_string());
            env.add_template_owned(name.to_string(), src)
                .map_err(|e| Error::Usage(format!("template {name}: {e}")))?;
        }
        Ok(Markdown { env })
    }

    /// Render `name` with the report, shrinking the lists until the text fits `limit` characters;
    /// as a last resort the text is cut with a note.
    pub fn render(
        &self,
        name: &str,
        report: &Report,
        links: &Links,
        marker: &str,
        limit: usize,
    ) -> Result<String> {
        let tpl = self
            .env
            .get_template(name)
            .map_err(|e| Error::Internal(format!("template {name}: {e}")))?;
        let mut caps = Caps::DEFAULT;
        let report = JValue::from_serialize(report);
        loop {
            let text = tpl
                .render(minijinja::context! {
                    report => report.clone(),
                    links => JValue::from_serialize(links),
                    caps => JValue::from_serialize(caps),
                    marker => marker,
                })
                .map_err(|e| Error::Usage(format!("rendering template {name}: {e:#}")))?;
            let len = text.chars().count();
            if len <= limit {
                return Ok(text);
            }
            if caps.findings == 0 && caps.violations == 0 && caps.files == 0 {
                let note = "\n\n…(cut to fit GitHub's size limit; the full report is in the job's report JSON)\n";
                let keep = limit.saturating_sub(note.chars().count());
                let mut cut: String = text.chars().take(keep).collect();
                cut.push_str(note);
                return Ok(cut);
            }
            caps = caps.shrink();
        }
    }

    pub fn comment(&self, report: &Report, links: &Links, marker: &str) -> Result<String> {
        self.render(COMMENT_TEMPLATE, report, links, marker, COMMENT_LIMIT)
    }

    pub fn check_summary(&self, report: &Report, links: &Links) -> Result<String> {
        self.render(CHECK_TEMPLATE, report, links, "", CHECK_SUMMARY_LIMIT)
    }

    /// The step summary: the comment's Markdown without the marker, under 1 MiB.
    pub fn step_summary(&self, report: &Report, links: &Links) -> Result<String> {
        // Characters ≤ bytes: a 4-byte-per-char worst case still fits.
        self.render(COMMENT_TEMPLATE, report, links, "", STEP_SUMMARY_LIMIT / 4)
    }
}

/// The check run's title: `Risk 62/100 (Medium)`.
pub fn check_title(report: &Report) -> String {
    title(
        report.composite.score,
        report.composite.rating,
        report.gate.blocked,
    )
}

fn title(score: Option<u8>, rating: Option<Rating>, blocked: bool) -> String {
    match (score, rating) {
        (Some(s), Some(r)) => {
            let blocked = if blocked { " — blocked" } else { "" };
            format!("Risk {s}/100 ({}){blocked}", r.label())
        }
        _ => "Risk unavailable".to_string(),
    }
}

/// Escape text for inline Markdown: no accidental emphasis, links, HTML or table breaks.
fn md_escape(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// A code span for a name that may come from the pull request (a package name in a lock file): a
/// code span cannot escape a backtick, so text with one is escaped as plain text instead.
fn md_code(s: String) -> String {
    if s.is_empty() || s.contains('`') || s.contains('\n') || s.contains('\r') {
        md_escape(s)
    } else {
        format!("`{s}`")
    }
}

/// Light escaping for pr-risk's own prose (reasons, summaries, notes, formulas), which uses
/// `code spans` on purpose: only what could open HTML or break a table row.
fn md_text(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// Percent-encode a repository path for a URL, keeping `/`.
fn url_path(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(md_escape("a|b <x> *y*".into()), "a\\|b \\<x\\> \\*y\\*");
        assert_eq!(url_path("src/a b#.ts".into()), "src/a%20b%23.ts");
        assert_eq!(
            md_text("use `fetch-depth: 0` | <b>".into()),
            "use `fetch-depth: 0` \\| &lt;b&gt;"
        );
        assert_eq!(md_code("@scope/zod".into()), "`@scope/zod`");
        assert_eq!(md_code("x`<img>".into()), "x\\`\\<img\\>");
        assert_eq!(md_code(String::new()), "");
    }

    #[test]
    fn titles() {
        assert_eq!(
            title(Some(62), Some(Rating::Medium), false),
            "Risk 62/100 (Medium)"
        );
        assert_eq!(
            title(Some(90), Some(Rating::Critical), true),
            "Risk 90/100 (Critical) — blocked"
        );
        assert_eq!(title(None, None, false), "Risk unavailable");
    }
}
