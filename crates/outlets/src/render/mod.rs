//! Renderers: the report as text for a terminal, or as JSON. They never compute — every number
//! they show is a field of [`Report`].
//!
//! Text is a minijinja template embedded from `templates/`; a repository may override templates
//! by passing a directory with files of the same names.
//!
//! Each sink has one escaping function, applied here in the renderers to every value a template
//! prints: the terminal's is [`style::escape`] (control characters and ANSI/OSC sequences made
//! visible), Markdown's are [`markdown`]'s filters (`md`, `mdtext`, `code`), and workflow commands
//! are escaped where the action writes them. Templates cannot opt out.

pub mod markdown;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};

use engine::error::{Error, Result};
use engine::report::Report;

pub mod sarif;
pub mod style;

pub const TERMINAL_TEMPLATE: &str = "terminal.txt.j2";

/// The embedded terminal template (the Markdown ones live in [`markdown::EMBEDDED`]).
pub const EMBEDDED: &[(&str, &str)] = &[(
    TERMINAL_TEMPLATE,
    include_str!("../../../../templates/terminal.txt.j2"),
)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// The PR-comment template (`comment.md.j2`).
    Markdown,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

#[derive(Default)]
pub struct Options<'a> {
    pub explain: bool,
    pub template_dir: Option<&'a Path>,
    /// ANSI colour in text output (the `style` filter paints; otherwise it passes text through).
    pub color: bool,
}

pub fn render(report: &Report, format: Format, opts: &Options) -> Result<String> {
    match format {
        Format::Json => json(report),
        Format::Text => template(report, TERMINAL_TEMPLATE, opts),
        Format::Markdown => markdown_document(report, opts.template_dir),
        Format::Sarif => sarif::render(report),
    }
}

/// `--format markdown`: the PR comment's template (the same renderer the Action uses), without
/// the comment marker and without links (there is no GitHub server to point at).
fn markdown_document(report: &Report, template_dir: Option<&Path>) -> Result<String> {
    let mut overrides = std::collections::BTreeMap::new();
    if let Some(dir) = template_dir {
        for (name, _) in markdown::EMBEDDED {
            let p = dir.join(name);
            if p.is_file() {
                let src =
                    std::fs::read_to_string(&p).map_err(|source| Error::Io { path: p, source })?;
                overrides.insert(name.to_string(), src);
            }
        }
    }
    markdown::Markdown::new(&overrides)?.render(
        markdown::COMMENT_TEMPLATE,
        report,
        &markdown::Links::default(),
        "",
        markdown::COMMENT_LIMIT,
    )
}

/// The gate in plain text (the job log, the pre-push hook): its summary, then one line per
/// reason with the dimension, its points, and what to do. Escaping is the caller's (each sink
/// has its own).
pub fn gate_text(report: &Report) -> String {
    let g = &report.gate;
    let mut out = g.summary.clone();
    for (i, r) in g.reasons.iter().enumerate() {
        if r.dimension.is_some() {
            let previous = i.checked_sub(1).map(|p| &g.reasons[p]);
            out.push_str(&format!("\n  - {}", reason_line(r, previous)));
        }
    }
    out
}

/// `regression (+24.0): 9 files in 3 subsystems → split it…`; the points are shown on the
/// first reason of each dimension (`previous` is the reason listed before this one).
pub fn reason_line(
    r: &engine::report::GateReason,
    previous: Option<&engine::report::GateReason>,
) -> String {
    let mut s = String::new();
    if let Some(d) = r.dimension {
        s.push_str(d.as_str());
        match r.points {
            Some(p) if previous.and_then(|p| p.dimension) != Some(d) => {
                s.push_str(&format!(" (+{p:.1})"))
            }
            _ => {}
        }
        s.push_str(": ");
    }
    s.push_str(&r.message);
    if let Some(a) = &r.action {
        s.push_str(&format!(" → {a}"));
    }
    s
}

pub fn json(report: &Report) -> Result<String> {
    let mut s = serde_json::to_string_pretty(report)
        .map_err(|e| Error::Internal(format!("serializing the report: {e}")))?;
    s.push('\n');
    Ok(s)
}

fn environment(template_dir: Option<&Path>, color: bool) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every value printed is escaped for the terminal ([`style::escape`]); `style` escapes what it
    // paints and marks the result safe, so its own SGR codes are the only ones that get through.
    escape_every_value(&mut env, "terminal", style::escape);
    env.add_filter("style", move |value: String, spec: String| {
        minijinja::Value::from_safe_string(style::paint(&style::escape(&value), &spec, color))
    });
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, src) in EMBEDDED {
        let override_src = template_dir
            .map(|d| d.join(name))
            .filter(|p| p.is_file())
            .map(|p| std::fs::read_to_string(&p).map_err(|source| Error::Io { path: p, source }))
            .transpose()?;
        let src = override_src.unwrap_or_else(|| src.to_string());
        env.add_template_owned(name.to_string(), src)
            .map_err(|e| Error::Usage(format!("template {name}: {e}")))?;
    }
    Ok(env)
}

/// Make `env` pass every value it prints through `escape` (the sink's escaping function), except
/// values marked safe: the output of the escaping filters themselves and of macros.
pub(crate) fn escape_every_value(
    env: &mut Environment<'static>,
    sink: &'static str,
    escape: fn(&str) -> String,
) {
    env.set_auto_escape_callback(move |_| minijinja::AutoEscape::Custom(sink));
    env.set_formatter(move |out, _state, value| {
        let text = value.to_string();
        let written = if value.is_safe() {
            out.write_str(&text)
        } else {
            out.write_str(&escape(&text))
        };
        written
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
}

pub fn template(report: &Report, name: &str, opts: &Options) -> Result<String> {
    let env = environment(opts.template_dir, opts.color)?;
    let tpl = env
        .get_template(name)
        .map_err(|e| Error::Internal(format!("template {name}: {e}")))?;
    tpl.render(minijinja::context! { report => report, explain => opts.explain })
        .map_err(|e| Error::Usage(format!("rendering template {name}: {e}")))
}
