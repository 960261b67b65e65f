//! `pr-risk eval regression`: backtest the regression model on the repository's own history, or
//! train the prior model shipped with pr-risk (`--train-prior`). `pr-risk eval gate`: how the
//! gate would have treated the repository's recent commits, clean and bug-inducing.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use engine::error::{Error, ExitCode, Result};
use engine::eval::gate::{GateEvalReport, GateOptions, Rates};
use engine::eval::{self, EvalReport, EvalTimings, Metrics};
use engine::git::Repo;

use crate::args::FormatArg;

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// How well the regression model ranks the commits that introduced bugs, trained and tested
    /// in time order on the repository's own history.
    Regression(EvalRegressionArgs),
    /// How often the gate would have blocked the recent commits, clean and bug-inducing (SZZ
    /// labels), each scored against its first parent with the whole pipeline, offline.
    Gate(EvalGateArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvalGateArgs {
    /// Repository to evaluate (default: the repository containing the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,

    /// Score the last N non-merge commits of REV's history.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub commits: usize,

    /// The history ends at this revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,

    /// Walk at most this many commits back from REV to label them (fixes found later in this
    /// window label the scored commits bug-inducing).
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub max_commits: usize,

    /// Leave out commits younger than this, whose bugs may not be found yet (0, 90d, 6months).
    #[arg(long, value_name = "AGE", default_value = "0", value_parser = parse_duration)]
    pub maturity: i64,

    /// Block when the score is above this (overrides every commit's configured threshold).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub threshold: Option<u8>,

    /// Configuration file (default: each base commit's .pr-risk.yml, .pr-risk.yaml or
    /// .github/pr-risk.yml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format (text or json).
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,

    /// Neither read nor write the caches (a cold run).
    #[arg(long)]
    pub no_cache: bool,

    /// Print the wall time of each phase to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, clap::Args)]
pub struct EvalRegressionArgs {
    /// Repository to evaluate (default: the repository containing the current directory). With
    /// --train-prior, give it once per repository to train on.
    #[arg(long = "repo", value_name = "PATH", default_value = ".")]
    pub repos: Vec<PathBuf>,

    /// Evaluate the history that ends at this revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,

    /// Walk at most this many commits back from REV.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub max_commits: usize,

    /// Leave out commits younger than this, whose bugs may not be found yet (6months, 90d, 1y).
    #[arg(long, value_name = "AGE", default_value = "6months", value_parser = parse_duration)]
    pub maturity: i64,

    /// Time-ordered folds: each is predicted by a model trained on the history before it.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=50))]
    pub folds: u16,

    /// Configuration file (default: .pr-risk.yml, .pr-risk.yaml or .github/pr-risk.yml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format (text or json).
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,

    /// Neither read nor write the history cache (a cold run).
    #[arg(long)]
    pub no_cache: bool,

    /// Print the wall time of each phase to stderr.
    #[arg(long)]
    pub timings: bool,

    /// Train the prior model on the --repo repositories (each at HEAD) and print it as JSON
    /// (the file pr-risk embeds as crates/engine/src/score/regression/prior.json).
    #[arg(long)]
    pub train_prior: bool,
}

pub fn run(cmd: &EvalCommand) -> Result<ExitCode> {
    match cmd {
        EvalCommand::Regression(args) if args.train_prior => train_prior(args),
        EvalCommand::Regression(args) => regression(args),
        EvalCommand::Gate(args) => gate(args),
    }
}

fn progress() -> impl Fn(&str, usize, usize) + Sync {
    let on = std::io::stderr().is_terminal();
    move |what: &str, i: usize, n: usize| {
        if on {
            eprint!("\r  {what} {i}/{n}   ");
            let _ = std::io::stderr().flush();
        }
    }
}

fn regression(args: &EvalRegressionArgs) -> Result<ExitCode> {
    let [path] = args.repos.as_slice() else {
        return Err(Error::Usage(
            "give one --repo (several only with --train-prior)".to_string(),
        ));
    };
    let repo = Repo::discover(path)?;
    let cfg = crate::config::load(repo.workdir(), args.config.as_deref())?.config;
    let opts = eval::EvalOptions {
        rev: args.rev.clone(),
        max_commits: args.max_commits,
        maturity: args.maturity,
        folds: usize::from(args.folds),
        caches: if args.no_cache {
            None
        } else {
            match engine::cache::location(&repo, None, None) {
                Ok(l) => Some(l),
                Err(why) => {
                    tracing::warn!("{why}; evaluating without the history cache");
                    None
                }
            }
        },
    };
    let started = std::time::Instant::now();
    let mut timings = EvalTimings::default();
    let report = eval::run(&repo, &cfg.regression, &cfg.files(), &opts, &mut timings)?;
    if args.timings {
        for (name, d) in &timings.phases {
            eprintln!("  {name:<24} {:>9.1} ms", d.as_secs_f64() * 1000.0);
        }
        eprintln!(
            "  {:<24} {:>9.1} ms",
            "total",
            started.elapsed().as_secs_f64() * 1000.0
        );
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

fn gate(args: &EvalGateArgs) -> Result<ExitCode> {
    let repo = Repo::discover(&args.repo)?;
    // The labels use the revision's settings, as `eval regression` does; every commit is scored
    // with its base commit's settings, as the Action does.
    let cfg = crate::config::load(repo.workdir(), args.config.as_deref())?.config;
    let caches = if args.no_cache {
        None
    } else {
        match engine::cache::location(&repo, None, None) {
            Ok(l) => Some(l),
            Err(why) => {
                tracing::warn!("{why}; evaluating without the caches");
                None
            }
        }
    };
    let opts = GateOptions {
        rev: args.rev.clone(),
        commits: args.commits,
        max_commits: args.max_commits,
        maturity: args.maturity,
        caches,
    };
    let started = std::time::Instant::now();
    let mut timings = EvalTimings::default();
    let tick = progress();
    let mut score = |parent: engine::git::Oid, commit: engine::git::Oid| {
        let req = super::ScoreRequest {
            base: Some(parent.to_string()),
            head: Some(commit.to_string()),
            config_path: args.config.clone(),
            settings_at: args.config.is_none().then_some(parent),
            threshold: args.threshold,
            mode: Some(engine::report::Mode::Gate),
            no_cache: args.no_cache,
            offline: true,
            ..super::ScoreRequest::default()
        };
        super::score_change(&repo, &req, &engine::pipeline::Quiet).map(|s| s.outcome.report)
    };
    let report = eval::gate::run(
        &repo,
        &cfg.regression,
        &cfg.files(),
        &opts,
        &mut score,
        &tick,
        &mut timings,
    )?;
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    if args.timings {
        for (name, d) in &timings.phases {
            eprintln!("  {name:<24} {:>9.1} ms", d.as_secs_f64() * 1000.0);
        }
        eprintln!(
            "  {:<24} {:>9.1} ms",
            "total",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    let text = match args.format {
        FormatArg::Json => serde_json::to_string_pretty(&report)
            .map(|s| s + "\n")
            .map_err(|e| Error::Internal(format!("serializing the evaluation: {e}")))?,
        _ => render_gate(&report),
    };
    super::print(&text);
    Ok(ExitCode::Pass)
}

fn rate(r: Option<f64>) -> String {
    r.map_or("—".to_string(), |v| format!("{:.1}%", 100.0 * v))
}

fn lift(r: &Rates) -> String {
    match (r.lift, r.clean_rate, r.bug_inducing_rate) {
        (Some(l), _, _) => format!("{l:.2}×"),
        (None, Some(c), Some(b)) if c == 0.0 && b > 0.0 => {
            "∞ (no clean commit blocked)".to_string()
        }
        _ => "—".to_string(),
    }
}

/// The gate evaluation as text for a terminal.
pub fn render_gate(r: &GateEvalReport) -> String {
    let auc = |m: Option<f64>| m.map_or("—".to_string(), |v| format!("{v:.3}"));
    let score = |m: Option<u8>| m.map_or("—".to_string(), |v| v.to_string());
    let mut s = format!(
        "pr-risk eval gate  {} ({})\n\n",
        r.rev,
        &r.sha[..r.sha.len().min(10)]
    );
    s.push_str(&format!(
        "{} commits scored against their first parent ({} bug-inducing, {} clean{}); labels from {} commits walked ({} fix commits, {} reverts)\n\n",
        r.scored,
        r.bug_inducing,
        r.clean,
        if r.failed > 0 { format!(", {} not scored", r.failed) } else { String::new() },
        r.commits_walked,
        r.fix_commits,
        r.reverts
    ));
    let c = &r.configured;
    s.push_str(&format!("At the configured threshold {}:\n", r.threshold));
    s.push_str(&format!(
        "  blocked clean          {:>7}  ({} of {})\n",
        rate(c.clean_rate),
        c.blocked_clean,
        r.clean
    ));
    s.push_str(&format!(
        "  blocked bug-inducing   {:>7}  ({} of {})\n",
        rate(c.bug_inducing_rate),
        c.blocked_bug_inducing,
        r.bug_inducing
    ));
    s.push_str(&format!("  lift                   {}\n\n", lift(c)));
    s.push_str("ROC AUC (bug-inducing vs clean)\n");
    s.push_str(&format!(
        "  composite              {}\n",
        auc(r.composite_auc)
    ));
    s.push_str(&format!(
        "  lines added            {}\n",
        auc(r.lines_added_auc)
    ));
    let d = &r.dimension_auc;
    for (name, v) in [
        ("impact", d.impact),
        ("regression", d.regression),
        ("security", d.security),
        ("coupling", d.coupling),
    ] {
        s.push_str(&format!("  {name:<22} {}\n", auc(v)));
    }
    let q = &r.distribution;
    s.push_str(&format!(
        "\nComposite scores: p50 {}, p90 {}, p99 {}, max {}\n\n",
        score(q.p50),
        score(q.p90),
        score(q.p99),
        score(q.max)
    ));
    s.push_str("  threshold  clean blocked  bug-inducing blocked  lift\n");
    let mut shown: Vec<u8> = vec![20, 30, 40, 50, 60, 70, 80];
    if let Some(m) = &r.lowest_meeting_target {
        shown.push(m.threshold);
    }
    shown.push(r.threshold);
    shown.sort_unstable();
    shown.dedup();
    for t in shown {
        let x = &r.thresholds[usize::from(t)];
        s.push_str(&format!(
            "  {:>9}  {:>13}  {:>20}  {}\n",
            t,
            rate(x.clean_rate),
            rate(x.bug_inducing_rate),
            lift(x)
        ));
    }
    s.push_str(
        "\n  history-percentile  clean blocked  bug-inducing blocked  lift   (thresholds as configured; 100: off)\n",
    );
    for x in &r.history_percentiles {
        s.push_str(&format!(
            "  {:>18}  {:>13}  {:>20}  {}\n",
            x.history_percentile,
            rate(x.rates.clean_rate),
            rate(x.rates.bug_inducing_rate),
            lift(&x.rates)
        ));
    }
    let target = format!(
        "≤ {:.0}% of clean commits blocked",
        100.0 * r.target_clean_rate
    );
    match &r.lowest_meeting_target {
        Some(m) => s.push_str(&format!(
            "\nThresholds {} and above meet \"{target}\" ({} clean, {} bug-inducing blocked at {}; lift {}{}).\n",
            m.threshold,
            rate(m.clean_rate),
            rate(m.bug_inducing_rate),
            m.threshold,
            lift(m),
            match m.lift {
                Some(l) if l >= r.target_lift => format!(", meets the {:.0}× target", r.target_lift),
                Some(_) => format!(", below the {:.0}× target", r.target_lift),
                None => String::new(),
            }
        )),
        None => s.push_str(&format!("\nNo threshold meets \"{target}\".\n")),
    }
    for n in &r.notes {
        s.push_str(&format!("\nnote: {n}"));
    }
    if !r.notes.is_empty() {
        s.push('\n');
    }
    s
}

fn train_prior(args: &EvalRegressionArgs) -> Result<ExitCode> {
    let mut repos = Vec::new();
    for p in &args.repos {
        let repo = Repo::discover(p)?;
        let name = p
            .canonicalize()
            .ok()
            .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| p.display().to_string());
        repos.push((name, repo));
    }
    // The defaults (no repository's own settings): the prior must not depend on one of them.
    let cfg = match &args.config {
        Some(c) => crate::config::load(None, Some(c))?.config,
        None => crate::config::Config::default(),
    };
    let command = format!(
        "pr-risk eval regression --train-prior --max-commits {} {}",
        args.max_commits,
        repos
            .iter()
            .map(|(n, _)| format!("--repo {n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let tick = progress();
    let prior = eval::train_prior(
        &repos,
        &cfg.regression,
        &cfg.files(),
        args.max_commits,
        &command,
        &tick,
    )?;
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let text = serde_json::to_string_pretty(&prior)
        .map_err(|e| Error::Internal(format!("serializing the prior: {e}")))?;
    super::print(&(text + "\n"));
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

fn row(name: &str, m: &Metrics) -> String {
    let f = |m: Option<f64>| m.map_or("—".to_string(), |v| format!("{v:.3}"));
    let pct = |m: Option<f64>| m.map_or("—".to_string(), |v| format!("{:.1}%", 100.0 * v));
    format!(
        "  {name:<18} {:>7}  {:>7}  {:>8}  {:>8}  {:>8}\n",
        f(m.roc_auc),
        f(m.brier),
        pct(m.catch_5),
        pct(m.catch_10),
        pct(m.catch_20)
    )
}

/// The report as text for a terminal.
pub fn render_text(r: &EvalReport) -> String {
    let mut s = format!(
        "pr-risk eval regression  {} ({})\n\n",
        r.rev,
        &r.sha[..r.sha.len().min(10)]
    );
    s.push_str(&format!(
        "{} commits walked ({} merges); {} fix commits, {} reverts, {} bug-inducing commits found\n{} commits predicted in {} of {} time-ordered folds ({} bug-inducing); {} younger than {} days and {} without source changes left out\n\n",
        r.commits_walked, r.merges, r.fix_commits, r.reverts, r.bug_inducing_found,
        r.evaluated, r.folds_used, r.folds, r.bug_introducing, r.immature, r.maturity_days, r.no_source
    ));
    s.push_str("                     ROC AUC    Brier  catch@5%  catch@10%  catch@20%\n");
    s.push_str(&row("model", &r.model));
    s.push_str(&row("lines added only", &r.lines_added));
    s.push_str(&row("random", &r.random));
    s.push_str(&row("prior model", &r.prior));
    if let (Some(m), Some(b)) = (r.model.roc_auc, r.lines_added.roc_auc) {
        s.push_str(&format!(
            "\nThe model {} lines added alone by {:.3} AUC on this history.\n",
            if m >= b { "beats" } else { "trails" },
            (m - b).abs()
        ));
    }
    if !r.reliability.is_empty() {
        s.push_str("\nReliability (model): predicted → observed\n");
        for b in &r.reliability {
            s.push_str(&format!(
                "  {:.1}–{:.1}  {:>5} commits  {:.3} → {:.3}\n",
                b.from, b.to, b.commits, b.mean_predicted, b.observed
            ));
        }
    }
    if let Some(m) = &r.final_model {
        s.push_str(&format!(
            "\nThe model at {} (trained on {} commits, {} bug-inducing), coefficients per standard deviation:\n",
            r.rev, m.trained.commits, m.trained.bug_inducing
        ));
        let mut terms: Vec<(&String, f64)> =
            m.features.iter().zip(m.coef.iter().copied()).collect();
        terms.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        for (f, c) in terms {
            s.push_str(&format!("  {f:<26} {c:+.3}\n"));
        }
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
