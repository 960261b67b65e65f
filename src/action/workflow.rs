//! GitHub Actions' file and workflow-command protocol: `::warning …::`, `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`. Values are escaped the way the runner unescapes them.

use std::io::Write;
use std::path::Path;

/// Escape a workflow command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,title=…::message` (level: `error`, `warning` or `notice`).
pub fn command(level: &str, props: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    if props.is_empty() {
        format!("::{level}::{}", escape_data(message))
    } else {
        format!("::{level} {}::{}", props.join(","), escape_data(message))
    }
}

/// Append `name=value` to the `GITHUB_OUTPUT` file (multi-line values use a heredoc delimiter
/// that does not occur in the value).
pub fn set_output(file: &Path, name: &str, value: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    if value.contains('\n') || value.contains('\r') {
        let mut delim = String::from("ghadelimiter_pr_risk");
        while value.contains(&delim) {
            delim.push_str(&format!("_{}", fastrand::u64(..)));
        }
        write!(f, "{name}<<{delim}\n{value}\n{delim}\n")
    } else {
        writeln!(f, "{name}={value}")
    }
}

/// Append Markdown to the `GITHUB_STEP_SUMMARY` file.
pub fn append_summary(file: &Path, markdown: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    f.write_all(markdown.as_bytes())?;
    if !markdown.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            command(
                "error",
                &[
                    ("file", "src/a,b.ts".into()),
                    ("line", "3".into()),
                    ("title", "x: y".into())
                ],
                "50% bad\nnext"
            ),
            "::error file=src/a%2Cb.ts,line=3,title=x%3A y::50%25 bad%0Anext"
        );
        assert_eq!(command("warning", &[], "plain"), "::warning::plain");
    }

    #[test]
    fn outputs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        set_output(&p, "risk-score", "62").unwrap();
        set_output(&p, "multi", "a\nb").unwrap();
        let s = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            s,
            "risk-score=62\nmulti<<ghadelimiter_pr_risk\na\nb\nghadelimiter_pr_risk\n"
        );
    }
}
