//! `pr-risk rules list` and `pr-risk rules test [DIR]`: the rule packs as a user sees them.
//!
//! `list` prints every rule (embedded, the repository's `security.rule-dirs`, the secret
//! detectors) with its severity after overrides and whether it is enabled. `test` runs every
//! rule's inline examples — the same check the test suite runs on the embedded packs — so people
//! writing their own rules get the same loop: a `match` example that produces no finding, or a
//! `no-match` example that does, is a failure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::error::{Error, ExitCode, Result};
use engine::git::files::FileSource;
use engine::git::Repo;
use engine::pipeline::rule_files;
use engine::score::security::rules::{self, Rule};
use engine::score::security::{self as security, RuleFile, RuleSet, SecuritySettings};

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// List every security rule (embedded, security.rule-dirs, secret detectors).
    List {
        /// Repository whose .pr-risk.yml applies (default: the current one, if any).
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run every rule's `match`/`no-match` examples (of the rule files in DIR, if given).
    Test {
        /// A directory of rule files (*.yml); default: every configured rule.
        dir: Option<PathBuf>,
        #[arg(long, value_name = "PATH", default_value = ".")]
        repo: PathBuf,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(cmd: &RulesCommand) -> Result<ExitCode> {
    let (repo, config) = match cmd {
        RulesCommand::List { repo, config, .. } | RulesCommand::Test { repo, config, .. } => {
            (repo, config)
        }
    };
    // Outside a git repository the directory itself is the root.
    let root = Repo::discover(repo)
        .ok()
        .and_then(|r| r.workdir().map(|w| w.to_path_buf()))
        .unwrap_or_else(|| repo.clone());
    let cfg = crate::config::load(Some(&root), config.as_deref())?.config;
    let source = FileSource::WorkTree(root);
    let (text, ok) = match cmd {
        RulesCommand::List { json, .. } => (list_rules(&cfg.security, &source, *json)?, true),
        RulesCommand::Test { dir, .. } => test_rules(&cfg.security, &source, dir.as_deref())?,
    };
    super::print(&text);
    Ok(if ok {
        ExitCode::Pass
    } else {
        ExitCode::Blocked
    })
}

/// The `*.yml`/`*.yaml` files of a directory on disk, in name order.
fn dir_files(d: &Path) -> Result<Vec<RuleFile>> {
    let read_err =
        |p: &Path, e: std::io::Error| Error::Usage(format!("{}: cannot read: {e}", p.display()));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(d)
        .map_err(|e| read_err(d, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yml") | Some("yaml")
                )
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| read_err(&p, e))?;
            Ok(RuleFile {
                source: p.display().to_string(),
                text,
            })
        })
        .collect()
}

/// The rule table (text) or JSON.
pub fn list_rules(cfg: &SecuritySettings, source: &FileSource, json: bool) -> Result<String> {
    let rules = security::list(cfg, &rule_files(source, cfg)?)?;
    if json {
        let mut s = serde_json::to_string_pretty(&rules)
            .map_err(|e| Error::Internal(format!("serializing the rules: {e}")))?;
        s.push('\n');
        return Ok(s);
    }
    let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(10);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<w$}  {:<8}  {:<8}  {:<30}  message",
        "id", "severity", "cwe", "languages"
    );
    for r in &rules {
        let _ = writeln!(
            out,
            "{:<w$}  {:<8}  {:<8}  {:<30}  {}{}",
            r.id,
            r.severity.to_string(),
            r.cwe,
            r.languages.join(","),
            r.message,
            if r.enabled { "" } else { "  [disabled]" }
        );
    }
    let on = rules.iter().filter(|r| r.enabled).count();
    let _ = writeln!(out, "\n{} rules, {} enabled", rules.len(), on);
    Ok(out)
}

/// Run the examples of the rules in `dir` (or of every configured rule when `None`).
/// Returns the text to print and whether every example passed.
pub fn test_rules(
    cfg: &SecuritySettings,
    source: &FileSource,
    dir: Option<&Path>,
) -> Result<(String, bool)> {
    let v = security::vars(cfg);
    let (rules, sets): (Vec<Rule>, rules::Sets) = match dir {
        Some(d) => {
            if !d.is_dir() {
                return Err(Error::Usage(format!(
                    "{} is not a directory\n  hint: pass the directory that holds your rule files (*.yml)",
                    d.display()
                )));
            }
            rules::from_files_with_sets(&dir_files(d)?, &v)
                .map_err(|e| Error::Usage(e.to_string()))?
        }
        None => {
            let mut all = cfg.clone();
            all.disable.clear();
            let set = RuleSet::load(&all, &rule_files(source, &all)?)?;
            (set.rules, set.sets)
        }
    };
    let mut out = String::new();
    let mut failed = 0usize;
    let mut examples = 0usize;
    for r in &rules {
        let n_match = r.examples.matching.len();
        let n_no = r.examples.no_match.len();
        examples += n_match + n_no;
        let failures = match r.validate() {
            Ok(()) => security::engine::check_examples(r),
            Err(e) => vec![e.to_string()],
        };
        if failures.is_empty() {
            let warn = if n_match == 0 || n_no == 0 {
                "  (warning: add both `match` and `no-match` examples)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "ok    {} ({n_match} match, {n_no} no-match){warn}",
                r.id
            );
        } else {
            failed += 1;
            let _ = writeln!(out, "FAIL  {} ({})", r.id, r.source);
            for f in failures {
                let _ = writeln!(out, "  {f}");
            }
        }
    }
    // The taint sets (sources, sanitizers, propagators) the rules use, with their own examples.
    let mut sets_failed = 0usize;
    for t in &sets.0 {
        examples += t.examples.matching.len() + t.examples.no_match.len();
        let failures = security::engine::check_set_examples(t);
        if failures.is_empty() {
            let _ = writeln!(
                out,
                "ok    {} set {} ({} match, {} no-match)",
                t.kind.name(),
                t.id,
                t.examples.matching.len(),
                t.examples.no_match.len()
            );
        } else {
            sets_failed += 1;
            let _ = writeln!(out, "FAIL  {} set {} ({})", t.kind.name(), t.id, t.source);
            for f in failures {
                let _ = writeln!(out, "  {f}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} rules, {} taint sets, {} examples: {} passed, {} failed",
        rules.len(),
        sets.0.len(),
        examples,
        rules.len() + sets.0.len() - failed - sets_failed,
        failed + sets_failed
    );
    Ok((out, failed == 0 && sets_failed == 0))
}
