//! Markdown for GitHub: the PR comment (`comment.md.j2`), the check-run summary (`check.md.j2`)
//! and the step summary. Templates only read report fields; this module only chooses how many
//! list items fit GitHub's size limits.
//!
//! The typed report is serialised for the templates, so they see exactly the documented report
//! schema. [`Markdown::render`] also takes that JSON itself: the fork-PR publisher
//! (`pr-risk action --publish-from`) renders the report of another run's artifact with these same
//! templates after checking it, and never a text rendered elsewhere. Every value a template
//! prints is escaped either way.

use std::collections::BTreeMap;

use engine::error::{Error, Result};
use engine::report::{Report, Verdict};
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
        // Every value a template prints is escaped ([`md_escape`]) unless an escaping filter
        // already did it: an override template that prints `{{ f.path }}` raw is safe too.
        super::escape_every_value(&mut env, "markdown", |s| md_escape(s.to_string()));
        env.add_filter("md", |s: String| JValue::from_safe_string(md_escape(s)));
        env.add_filter("mdtext", |s: String| JValue::from_safe_string(md_text(s)));
        env.add_filter("code", |s: String| JValue::from_safe_string(code_span(s)));
        env.add_filter("urlpath", |s: String| JValue::from_safe_string(url_path(s)));
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
        report: &impl Serialize,
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
        // pr-risk's own values (the marker, the links it builds from the runner's environment)
        // are printed as they are.
        let safe = |s: &Option<String>| match s {
            Some(s) => JValue::from_safe_string(s.clone()),
            None => JValue::from(()),
        };
        let links = JValue::from(BTreeMap::from([
            ("blob", safe(&links.blob)),
            ("run", safe(&links.run)),
        ]));
        let marker = JValue::from_safe_string(marker.to_string());
        loop {
            let text = tpl
                .render(minijinja::context! {
                    report => report.clone(),
                    links => links.clone(),
                    caps => JValue::from_serialize(caps),
                    marker => marker.clone(),
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

/// The check run's title: `Risk 62/100 (Medium)`, plus the gate's headline when it is not a plain
/// pass (` — blocked`, ` — overridden by @lead`, ` — advisory: would block`).
pub fn check_title(report: &Report) -> String {
    let g = &report.gate;
    let headline = (g.verdict != Verdict::Pass).then_some(g.headline.as_str());
    title(report.composite.score, report.composite.rating, headline)
}

/// The check run's title from its parts (see [`check_title`]).
pub fn title(score: Option<u8>, rating: Option<Rating>, headline: Option<&str>) -> String {
    let suffix = headline.map(|h| format!(" — {h}")).unwrap_or_default();
    match (score, rating) {
        (Some(s), Some(r)) => format!("Risk {s}/100 ({}){suffix}", r.label()),
        _ => format!("Risk unavailable{suffix}"),
    }
}

/// Escape text for inline Markdown — the one escaping function of the Markdown/HTML sink (the
/// PR comment, the check-run summary, the step summary); `mdtext` and `code` build on it. Text a
/// pull request chose (file names, messages) cannot open HTML, a link or an image, emphasis, a
/// table cell or a heading, mention a user or team (`@` is followed by a zero-width space), or
/// become an autolink; a line break becomes a space.
pub fn md_escape(s: String) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("@&#8203;"),
            ':' if chars.get(i + 1) == Some(&'/') => out.push_str(":&#8203;"),
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push_str("&#8203;.")
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// pr-risk's own prose (reasons, summaries, notes, formulas), which uses `code spans` on purpose
/// but also quotes file names: code spans are kept (their content is never interpreted), the
/// rest is [`md_escape`]d. Spans are found the way CommonMark finds them (a run of backticks
/// closes at the next run of the same length), so a backtick in a file name cannot end a span
/// early or open one that lets HTML out.
pub fn md_text(s: String) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut plain = String::new();
    let mut rest = s.as_str();
    while let Some(start) = rest.find('`') {
        let run = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + run..];
        match closing_run(after, run) {
            Some(end) => {
                plain.push_str(&rest[..start]);
                out.push_str(&md_escape(std::mem::take(&mut plain)));
                let fence = "`".repeat(run);
                let content = after[..end].replace(['\n', '\r'], " ");
                out.push_str(&fence);
                out.push_str(&content);
                out.push_str(&fence);
                rest = &after[end + run..];
            }
            None => {
                // No closing run: the backticks are text.
                plain.push_str(&rest[..start + run]);
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    out.push_str(&md_escape(plain));
    out
}

/// Where the next run of exactly `n` backticks starts in `s`.
fn closing_run(s: &str, n: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let len = b[i..].iter().take_while(|&&c| c == b'`').count();
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// A code span holding `s` literally: its fence is one backtick longer than the longest run of
/// backticks inside (padded with spaces when `s` has a backtick), so nothing in `s` can close it;
/// a line break is shown as `\n`.
pub fn code_span(s: String) -> String {
    let s = s.replace('\n', "\\n").replace('\r', "\\r");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{s}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {s} {fence}")
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
        assert_eq!(md_escape("a|b <x> *y*".into()), "a\\|b &lt;x&gt; \\*y\\*");
        assert_eq!(url_path("src/a b#.ts".into()), "src/a%20b%23.ts");
        assert_eq!(
            md_text("use `fetch-depth: 0` | <b>".into()),
            "use `fetch-depth: 0` \\| &lt;b&gt;"
        );
        assert_eq!(code_span("@scope/zod".into()), "`@scope/zod`");
        assert_eq!(code_span("x`<img>".into()), "`` x`<img> ``");
    }

    #[test]
    fn hostile_text_stays_text() {
        assert_eq!(
            md_escape("@team ![i](x) [l](https://e.example) www.e.example".into()),
            "@&#8203;team !\\[i\\](x) \\[l\\](https:&#8203;//e.example) www&#8203;.e.example"
        );
        // A backtick in a file name inside a note: the spans pair as CommonMark pairs them, and
        // what a span holds is never interpreted.
        assert_eq!(
            md_text("src/x`<img src=x>`.bin: binary, cc @org/team".into()),
            "src/x`<img src=x>`.bin: binary, cc @&#8203;org/team"
        );
        assert_eq!(md_text("a ` b <i>".into()), "a \\` b &lt;i&gt;");
        assert_eq!(md_text("``x`y`` <b>".into()), "``x`y`` &lt;b&gt;");
        assert_eq!(code_span("src/a.ts:3".into()), "`src/a.ts:3`");
        assert_eq!(code_span("x`<img>``y".into()), "``` x`<img>``y ```");
        assert_eq!(code_span("a\nb".into()), "`a\\nb`");
    }

    #[test]
    fn titles() {
        assert_eq!(
            title(Some(62), Some(Rating::Medium), None),
            "Risk 62/100 (Medium)"
        );
        assert_eq!(
            title(Some(90), Some(Rating::Critical), Some("blocked")),
            "Risk 90/100 (Critical) — blocked"
        );
        assert_eq!(
            title(
                Some(90),
                Some(Rating::Critical),
                Some("overridden by @lead")
            ),
            "Risk 90/100 (Critical) — overridden by @lead"
        );
        assert_eq!(title(None, None, None), "Risk unavailable");
    }
}
