//! GitHub Actions' file and workflow-command protocol: `::warning …::`, `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, and the files the action writes into the workspace.
//!
//! This is the action's one door to the job log and the runner's files, and every door scrubs
//! secrets ([`outlets::secret::scrub`]):
//! - workflow commands: values are escaped the way the runner unescapes them ([`command`]);
//! - free text in the job log (the terminal report, which quotes file names a pull request
//!   chose) goes between `::stop-commands::` and a random end marker, so no line of it can be
//!   taken for a command ([`log_block`]); [`log`] for pr-risk's own one-line messages;
//! - files in the workspace (the report JSON, the SARIF file) are written only at paths that stay
//!   inside the workspace without passing a symbolic link ([`output_path`]), and never through a
//!   link ([`write_replacing`]).

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use outlets::secret::scrub;

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

/// Print one line of pr-risk's own to the job log (secrets scrubbed).
pub fn log(line: &str) {
    println!("{}", scrub(line));
}

/// Print free text to the job log with command processing stopped around it: a line of it that
/// starts with `::` (a file name with a newline, say) is shown, never run.
pub fn log_block(text: &str) {
    println!(
        "{}",
        stopped(&scrub(text), &format!("{:016x}", fastrand::u64(..)))
    );
}

/// `text` between `::stop-commands::{marker}` and `::{marker}::`.
fn stopped(text: &str, marker: &str) -> String {
    format!(
        "::stop-commands::pr-risk-{marker}\n{}\n::pr-risk-{marker}::",
        text.trim_end_matches('\n')
    )
}

/// `::error file=…,line=…,title=…::message` (level: `error`, `warning` or `notice`).
pub fn command(level: &str, props: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(&scrub(v))))
        .collect();
    let message = escape_data(&scrub(message));
    if props.is_empty() {
        format!("::{level}::{message}")
    } else {
        format!("::{level} {}::{message}", props.join(","))
    }
}

/// Append `name=value` to the `GITHUB_OUTPUT` file (multi-line values use a heredoc delimiter
/// that does not occur in the value).
pub fn set_output(file: &Path, name: &str, value: &str) -> std::io::Result<()> {
    let value = scrub(value);
    let value = value.as_str();
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

/// Where to write an output file the workflow names (`sarif-file`): relative to the workspace, or
/// absolute inside it; never with a `..` component, and never through a symbolic link on the way
/// (the workspace is the pull request's code: a committed link named like the output's directory
/// would point the write, done as root in the container, anywhere). Missing directories are
/// created. A link at the file itself is replaced, not followed ([`write_replacing`]).
pub fn output_path(workspace: &Path, path: &Path) -> Result<PathBuf, String> {
    let shown = path.display();
    let outside = || {
        format!(
            "`{shown}` is outside the workspace; pr-risk writes only inside the workspace (give a path relative to it, without `..`)"
        )
    };
    let root = std::fs::canonicalize(workspace)
        .map_err(|e| format!("the workspace {}: {e}", workspace.display()))?;
    let rel = if path.is_absolute() {
        path.strip_prefix(workspace)
            .or_else(|_| path.strip_prefix(&root))
            .map_err(|_| outside())?
    } else {
        path
    };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(outside())
            }
        }
    }
    let Some(file) = parts.pop() else {
        return Err(format!("`{shown}` names no file"));
    };
    let mut dir = root;
    for part in parts {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "`{shown}`: {} is a symbolic link (committed by the pull request?); pr-risk never writes through a link",
                    dir.display()
                ))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(format!("`{shown}`: {} is not a directory", dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir(&dir)
                .map_err(|e| format!("`{shown}`: creating {}: {e}", dir.display()))?,
            Err(e) => return Err(format!("`{shown}`: {}: {e}", dir.display())),
        }
    }
    dir.push(file);
    if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        return Err(format!("`{shown}` is a directory"));
    }
    Ok(dir)
}

/// Write a file in the workspace without following a symlink planted there: the workspace is the
/// pull request's code, and a link named like the report could otherwise point the write (done as
/// root in the container) at the runner's command files. The content goes to a fresh file that is
/// then renamed over the path, which replaces a link instead of writing through it. Secrets are
/// scrubbed from the content.
pub fn write_replacing(path: &Path, content: &str) -> std::io::Result<()> {
    let content = scrub(content);
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
    let written = f.write_all(content.as_bytes()).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Append Markdown to the `GITHUB_STEP_SUMMARY` file.
pub fn append_summary(file: &Path, markdown: &str) -> std::io::Result<()> {
    let markdown = scrub(markdown);
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
        write_replacing(&link, "{}").unwrap();
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
    fn free_text_cannot_issue_commands() {
        let text = "  - [HIGH] src/x\n::add-mask::abc\n.ts:1\n";
        assert_eq!(
            stopped(text, "00ff"),
            "::stop-commands::pr-risk-00ff\n  - [HIGH] src/x\n::add-mask::abc\n.ts:1\n::pr-risk-00ff::"
        );
    }

    #[cfg(unix)]
    #[test]
    fn output_paths_stay_inside_the_workspace() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), ws.path().join("reports")).unwrap();
        let root = std::fs::canonicalize(ws.path()).unwrap();
        let e = output_path(ws.path(), Path::new("reports/x.sarif")).unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
        let e = output_path(ws.path(), Path::new("../x.sarif")).unwrap_err();
        assert!(e.contains("outside the workspace"), "{e}");
        let e = output_path(ws.path(), Path::new("/etc/x.sarif")).unwrap_err();
        assert!(e.contains("outside the workspace"), "{e}");
        assert_eq!(
            output_path(ws.path(), Path::new("./out/deep/x.sarif")).unwrap(),
            root.join("out/deep/x.sarif")
        );
        assert!(root.join("out/deep").is_dir());
        assert_eq!(
            output_path(ws.path(), &ws.path().join("y.sarif")).unwrap(),
            root.join("y.sarif")
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
