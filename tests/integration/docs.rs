//! The documentation stays true: every `pr-risk …` command in a code block of README.md and
//! docs/*.md parses with the real command line, and every YAML block of the configuration page
//! is a valid `.pr-risk.yml` (each parses; together they equal the defaults they claim to show).

use std::path::{Path, PathBuf};

use clap::Parser;
use pr_risk::cli::Cli;
use pr_risk::config::Config;

fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The fenced code blocks of a Markdown text: (info string, first line number, lines).
fn blocks(text: &str) -> Vec<(String, usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, usize, Vec<String>)> = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            match current.take() {
                Some(b) => out.push(b),
                None => current = Some((info.trim().to_string(), n + 2, Vec::new())),
            }
        } else if let Some(b) = current.as_mut() {
            b.2.push(line.to_string());
        }
    }
    out
}

/// Split a command line like a POSIX shell would for simple quoting ('…', "…", \x).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The `pr-risk` argument lists a code line runs: `pr-risk …`, `$ pr-risk …`, and
/// `cargo run … -- …` (the binary's arguments after `--`).
fn commands_in(line: &str) -> Option<Vec<String>> {
    let line = line.trim().trim_start_matches("$ ");
    let words = shell_words(line);
    if words.first().is_some_and(|w| w == "pr-risk") {
        return Some(words);
    }
    if words.len() > 2 && words[0] == "cargo" && words[1] == "run" {
        let sep = words.iter().position(|w| w == "--")?;
        let mut args = vec!["pr-risk".to_string()];
        args.extend(words[sep + 1..].iter().cloned());
        return Some(args);
    }
    None
}

#[test]
fn every_documented_command_parses() {
    let mut checked = 0;
    let mut bad = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (info, first, lines) in blocks(&text) {
            if !matches!(info.as_str(), "" | "sh" | "bash" | "console" | "shell") {
                continue;
            }
            for (i, line) in lines.iter().enumerate() {
                let Some(args) = commands_in(line) else {
                    continue;
                };
                checked += 1;
                if let Err(e) = Cli::try_parse_from(&args) {
                    if !matches!(
                        e.kind(),
                        clap::error::ErrorKind::DisplayHelp
                            | clap::error::ErrorKind::DisplayVersion
                    ) {
                        bad.push(format!(
                            "{}:{}: `{}`: {}",
                            page.display(),
                            first + i,
                            line.trim(),
                            e.kind()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked >= 30,
        "only {checked} commands found: the parser of this test broke"
    );
    assert!(
        bad.is_empty(),
        "commands that do not parse:\n{}",
        bad.join("\n")
    );
}

#[test]
fn configuration_examples_are_valid_and_show_the_defaults() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md");
    let text = std::fs::read_to_string(&page).unwrap();
    let mut all = String::new();
    let mut n = 0;
    for (info, first, lines) in blocks(&text) {
        if info != "yaml" {
            continue;
        }
        let yaml = lines.join("\n");
        if let Err(e) = Config::parse(&yaml, Path::new("docs/configuration.md")) {
            panic!("the YAML block at docs/configuration.md:{first} is not valid: {e}");
        }
        all.push_str(&yaml);
        all.push('\n');
        n += 1;
    }
    assert!(n >= 5, "only {n} YAML blocks found");
    let together = Config::parse(&all, Path::new("docs/configuration.md")).unwrap();
    assert_eq!(
        together.resolved(),
        Config::default().resolved(),
        "docs/configuration.md documents defaults that differ from the code"
    );
    // And every key of the schema is documented (keys without a default at least as a comment).
    let v: serde_yaml::Value = serde_yaml::from_str(&all).unwrap();
    let lookup = |path: &str| {
        path.split('.')
            .try_fold(&v, |v, k| v.as_mapping()?.get(k))
            .is_some()
    };
    let missing: Vec<String> = Config::key_paths()
        .into_iter()
        .filter(|(path, unset)| {
            let key = path.rsplit('.').next().unwrap_or(path);
            !(lookup(path) || (*unset && all.contains(&format!("# {key}:"))))
        })
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "keys docs/configuration.md does not document: {missing:?}"
    );
}

#[test]
fn the_splitter_and_extractor_read_what_a_shell_would() {
    assert_eq!(
        shell_words("pr-risk score --base 'origin/main' --format json # comment"),
        [
            "pr-risk",
            "score",
            "--base",
            "origin/main",
            "--format",
            "json"
        ]
    );
    assert_eq!(
        commands_in("cargo run --release -- score --base HEAD~1"),
        Some(vec![
            "pr-risk".into(),
            "score".into(),
            "--base".into(),
            "HEAD~1".into()
        ])
    );
    assert_eq!(commands_in("git push --no-verify"), None);
    let err = Cli::try_parse_from(["pr-risk", "score", "--no-such-flag"]);
    assert!(err.is_err(), "the parser rejects unknown flags");
}
