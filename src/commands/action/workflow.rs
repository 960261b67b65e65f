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

/// Write a file in the workspace without following a symlink planted there: the workspace is the
/// pull request's code, and a link named like the report could otherwise point the write (done as
/// root in the container) at the runner's command files. The content goes to a fresh file that is
/// then renamed over the path, which replaces a link instead of writing through it.
pub fn write_replacing(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        fastrand::u32(..)
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let written = f.write_all(content).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
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

    #[cfg(unix)]
    #[test]
    fn writes_replace_symlinks_instead_of_following_them() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("runner-file");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("pr-risk-report.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_replacing(&link, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "{}");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp file left"
        );
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
