//! `pr-risk eval regression`: backtest the regression model on the repository's own history.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use engine::error::{Error, ExitCode, Result};
use engine::eval::{self, EvalReport};
use engine::git::Repo;

use crate::args::FormatArg;

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// How well the regression score ranks the commits that introduced bugs (SZZ labels).
    Regression(EvalRegressionArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvalRegressionArgs {
    /// Repository to evaluate (default: the repository containing the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,

    /// Evaluate the history that ends at this revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,

    /// Walk at most this many commits back from REV.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub max_commits: usize,

    /// Leave out commits younger than this, whose bugs may not be found yet (6months, 90d, 1y).
    #[arg(long, value_name = "AGE", default_value = "6months", value_parser = parse_duration)]
    pub maturity: i64,

    /// Configuration file (default: .pr-risk.yml, .pr-risk.yaml or .github/pr-risk.yml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format (text or json).
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
}

pub fn run(cmd: &EvalCommand) -> Result<ExitCode> {
    match cmd {
        EvalCommand::Regression(args) => regression(args),
    }
}

fn regression(args: &EvalRegressionArgs) -> Result<ExitCode> {
    let repo = Repo::discover(&args.repo)?;
    let cfg = crate::config::load(repo.workdir(), args.config.as_deref())?.config;
    let opts = eval::EvalOptions {
        rev: args.rev.clone(),
        max_commits: args.max_commits,
        maturity: args.maturity,
    };
    let progress = std::io::stderr().is_terminal();
    let tick = |what: &str, i: usize, n: usize| {
        if progress && (i.is_multiple_of(50) || i == n) {
            eprint!("\r  {what} {i}/{n}   ");
            let _ = std::io::stderr().flush();
        }
    };
    let report = eval::run(&repo, &cfg.regression, &cfg.exclude, &opts, &tick)?;
    if progress {
        eprintln!();
    }
    let text = match args.format {
        FormatArg::Json => serde_json::to_string_pretty(&report)
            .map(|s| s + "\n")
            .map_err(|e| Error::Internal(format!("serializing the evaluation: {e}")))?,
        _ => render_text(&report),
    };
    super::print(&text);
    Ok(ExitCode::Pass)
}

/// Parse `6months`, `180d`, `2w`, `1y`, `0` into seconds (a month is 30 days, a year 365).
pub fn parse_duration(text: &str) -> std::result::Result<i64, String> {
    let t = text.trim().to_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 6months, 180d, 2w, 1y)"))?;
    let days = match unit.trim() {
        "" if n == 0 => 0,
        "d" | "day" | "days" => 1,
        "w" | "week" | "weeks" => 7,
        "mo" | "month" | "months" => 30,
        "y" | "year" | "years" => 365,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit (use d, w, mo/months or y, e.g. 6months)"
            ))
        }
    };
    Ok(n * days * 86_400)
}

/// The report as text for a terminal.
pub fn render_text(r: &EvalReport) -> String {
    let f = |m: Option<f64>| m.map_or("—".to_string(), |v| format!("{v:.3}"));
    let mut s = format!(
        "pr-risk eval regression  {} ({})\n\n",
        r.rev,
        &r.sha[..r.sha.len().min(10)]
    );
    s.push_str(&format!(
        "{} commits walked ({} merges); {} fix commits; {} evaluated ({} bug-introducing), {} younger than {} days and {} without source changes left out\n\n",
        r.commits_walked, r.merges, r.fix_commits, r.evaluated, r.bug_introducing, r.immature, r.maturity_days, r.no_source
    ));
    s.push_str("                    ROC AUC   recall at 20% of changed lines\n");
    s.push_str(&format!(
        "  model             {:>7}   {:>7}\n",
        f(r.model.roc_auc),
        f(r.model.recall_at_20pct_lines)
    ));
    s.push_str(&format!(
        "  lines added only  {:>7}   {:>7}\n",
        f(r.baseline.roc_auc),
        f(r.baseline.recall_at_20pct_lines)
    ));
    if let (Some(m), Some(b)) = (r.model.roc_auc, r.baseline.roc_auc) {
        s.push_str(&format!(
            "\nThe model {} the lines-added baseline by {:.3} AUC on this history.\n",
            if m >= b { "beats" } else { "trails" },
            (m - b).abs()
        ));
    }
    for n in &r.notes {
        s.push_str(&format!("\nnote: {n}"));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("6months"), Ok(180 * 86_400));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1y"), Ok(365 * 86_400));
        assert!(parse_duration("6m").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
