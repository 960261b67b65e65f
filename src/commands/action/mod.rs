//! `pr-risk action`: the GitHub Action's entrypoint (the container runs it).
//!
//! Reads the inputs and the event, scores `base..head` with the settings of the base commit,
//! then writes every outlet: outputs, report JSON, step summary, the check run, the sticky PR
//! comment and the cloud sync. Outlets degrade, they never crash the step and never change the
//! gate: the step exits 1 exactly when the change is blocked (2/3 for input/internal errors).
//!
//! The checkout is the pull request's code: everything printed or written goes through
//! [`workflow`] (escaped, secrets scrubbed, never outside the workspace or through a link), and
//! the GitHub outlets end by `github.timeout-seconds`.
//!
//! Pull requests from forks (whose `pull_request` runs get a read-only token) are published in two
//! halves: `--publish-to DIR` writes the result as an artifact instead of posting it
//! ([`artifact`]), and `--publish-from DIR`, in a `workflow_run` workflow, checks that artifact
//! against the event and posts it ([`publish_from`]). `merge_group` runs post the check run on the
//! merge group's head commit (a required check that never reports would stall the queue), and no
//! comment.

pub mod artifact;
pub mod event;
pub mod inputs;
pub mod publish_from;
pub mod reviewers;
pub mod workflow;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine::error::{ExitCode, Result};
use engine::git::files::repo_relative;
use engine::git::{fetch, revisions, Repo};
use engine::report::{Note, NoteCode, Report, Verdict};
use outlets::cloud;
use outlets::github::{self, CheckRun, CommentOutcome, GitHub, COMMENT_MARKER};
use outlets::render::markdown::{self, Links, Markdown};
use outlets::secret::Secret;

use super::{score_change, ScoreRequest};
use crate::config::Config;

use self::event::Target;
use self::inputs::{Env, Inputs};

/// Name of the report file written to the workspace (the `report-json` output).
pub const REPORT_FILE: &str = "pr-risk-report.json";

/// `pr-risk action` flags (each also an input; the flag wins).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ActionArgs {
    /// Do not post: write the result (report and manifest) into DIR, inside the workspace, for a
    /// `workflow_run` workflow to publish with --publish-from (the `publish-to` input). For
    /// `pull_request` runs, e.g. from forks, whose token cannot write.
    #[arg(long, value_name = "DIR", conflicts_with = "publish_from")]
    pub publish_to: Option<PathBuf>,

    /// In a `workflow_run` workflow: check the artifact a `pull_request` run wrote into DIR
    /// against the event, then post its check run and comment, without the pull request's code
    /// (the `publish-from` input).
    #[arg(long, value_name = "DIR")]
    pub publish_from: Option<PathBuf>,
}

/// Run the action; returns the exit code.
pub fn main(args: &ActionArgs) -> ExitCode {
    let env = Env::from_process();
    match run(&env, args) {
        Ok(code) => code,
        Err(e) => {
            let msg = outlets::secret::scrub(&e.to_string());
            println!(
                "{}",
                workflow::command("error", &[("title", "pr-risk".into())], &msg)
            );
            eprintln!("error: {msg}");
            let publishing = args.publish_from.is_some() || env.input("publish-from").is_some();
            // A fence longer than any run of backticks in the message (which may quote names a
            // pull request chose), so the message cannot end it.
            let longest = msg.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest.max(2) + 1);
            if let Some(p) = env.get("GITHUB_STEP_SUMMARY") {
                let _ = workflow::append_summary(
                    Path::new(p),
                    &format!("## PR Risk Report\n\n**pr-risk could not {}.**\n\n{fence}\n{msg}\n{fence}\n",
                        if publishing { "publish this result" } else { "score this change" }),
                );
            }
            e.exit_code()
        }
    }
}

/// Everything the outlets need besides the report.
struct Context {
    env: Env,
    inputs: Inputs,
    target: Target,
    config: Config,
    templates: BTreeMap<String, String>,
    workspace: PathBuf,
}

pub fn run(env: &Env, args: &ActionArgs) -> Result<ExitCode> {
    let mut inputs = Inputs::read(env)?;
    if let Some(d) = &args.publish_to {
        inputs.publish_to = Some(d.clone());
    }
    if let Some(d) = &args.publish_from {
        inputs.publish_from = Some(d.clone());
    }
    if let Some(dir) = inputs.publish_from.clone() {
        if inputs.publish_to.is_some() {
            return Err(engine::Error::Usage(
                "`publish-to` and `publish-from` are the two halves of the fork set-up, in two workflows: give one of them".into(),
            ));
        }
        return publish_from::run(env, &inputs, &dir);
    }
    let target = event::target(env, &inputs)?;
    if inputs.publish_to.is_some() && (target.event != "pull_request" || target.pr_number.is_none())
    {
        return Err(engine::Error::Usage(format!(
            "`publish-to` is for `pull_request` runs (this is a `{}` event{}); other events post their result directly",
            target.event,
            if target.pr_number.is_none() { " without a pull request number" } else { "" }
        )));
    }
    let workspace = env
        .get("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let trusted_ws = fetch::trust_workspace(
        env.get("GITHUB_ACTIONS") == Some("true"),
        env.get("GITHUB_WORKSPACE").map(Path::new),
        &workspace,
    );
    let repo = Repo::discover(&workspace)?;
    let repo_dir = repo.root();
    let git = fetch::GitCli {
        dir: repo_dir.clone(),
        trusted: trusted_ws,
    };
    let fetched = fetch::ensure_commits(&repo, &git, &[&target.base, &target.head])?;
    let mut prep_notes: Vec<Note> = fetched
        .into_iter()
        .map(|m| Note::new(NoteCode::Fetched, m))
        .collect();
    let base = revisions::commit_of(&repo, &target.base, "base")?;
    let head = revisions::commit_of(&repo, &target.head, "head")?;
    if let Some(done) = fetch::complete_partial_clone(&repo, &git, base, head, true) {
        // The settings are read from the base commit's objects: without them the run would
        // silently use the defaults, so here a failed fetch stops the run with the fix.
        if let Some(why) = &done.problem {
            return Err(engine::Error::Usage(format!(
                "the checkout is a partial clone (actions/checkout with `filter: blob:none`) and the file contents pr-risk needs could not be fetched: {why}\n  hint: drop the `filter:` option of actions/checkout (keep `fetch-depth: 0`), or make `git` and the checkout's credentials available to the step"
            )));
        }
        if let Some(note) = done.note() {
            prep_notes.push(Note::new(NoteCode::Fetched, note));
        }
    }
    if repo.is_shallow() {
        prep_notes.push(Note::new(
            NoteCode::IncompleteHistory,
            "the checkout is shallow: history-based scores may be unavailable (use actions/checkout with `fetch-depth: 0`)",
        ));
    }

    // Settings come from the base commit: a pull request cannot lower its own bar.
    let base_oid = revisions::commit_of(&repo, &target.base, "base")?;
    let req = ScoreRequest {
        base: Some(target.base.clone()),
        head: Some(target.head.clone()),
        config_path: inputs.config.clone(),
        settings_at: Some(base_oid),
        threshold: inputs.block_threshold,
        fail_on_critical_security: inputs.fail_on_critical_security,
        mode: inputs.mode,
        labels: Some(target.labels.clone()),
        author_login: target.author.clone(),
        untrusted_checkout: Some(repo_dir.clone()),
        offline: env.get("PR_RISK_OFFLINE").is_some_and(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off" | "n" | "f"
            )
        }),
        ..ScoreRequest::default()
    };
    let mut scored = score_change(&repo, &req, &engine::pipeline::Quiet)?;
    for n in prep_notes.into_iter().rev() {
        scored.outcome.report.notes.insert(0, n);
    }
    let total = github::annotations(&scored.outcome.report).len();
    if total > github::MAX_ANNOTATIONS {
        scored.outcome.report.notes.push(Note::new(
            NoteCode::LimitReached,
            format!(
                "{total} new findings and coupling violations: the {} most severe are annotations on the diff; all of them are in the report JSON and the SARIF file",
                github::MAX_ANNOTATIONS
            ),
        ));
    }
    // Template overrides, like the configuration that names them, come from the base commit.
    let templates = match &scored.config.github.templates {
        Some(dir) => scored.source.read_dir(&repo_relative(Path::new(dir)))?,
        None => BTreeMap::new(),
    };
    let ctx = Context {
        env: env.clone(),
        inputs,
        target,
        config: scored.config,
        templates,
        workspace: repo_dir,
    };
    Ok(publish(&ctx, &scored.outcome.report))
}

/// Write every outlet; returns the exit code (the gate, or 3 when a required sync failed).
fn publish(ctx: &Context, report: &Report) -> ExitCode {
    let blocked = report.gate.blocked;

    // The terminal report in the job log, where no line of it can be taken for a command.
    if let Ok(text) = outlets::render::render(
        report,
        outlets::render::Format::Text,
        &outlets::render::Options {
            explain: false,
            template_dir: None,
            ..Default::default()
        },
    ) {
        workflow::log_block(&text);
    }

    // The report file first: whatever fails later, the result is kept.
    let report_path = ctx.workspace.join(REPORT_FILE);
    let report_written = match outlets::render::json(report) {
        Ok(json) => match workflow::write_replacing(&report_path, &json) {
            Ok(()) => true,
            Err(e) => {
                warn(&format!("could not write {}: {e}", report_path.display()));
                false
            }
        },
        Err(e) => {
            warn(&e.to_string());
            false
        }
    };
    if let Some(sarif) = &ctx.inputs.sarif_file {
        write_sarif(ctx, sarif, report);
    }
    write_outputs(ctx, report, report_written.then_some(REPORT_FILE));

    let links = Links {
        blob: ctx.env.get("GITHUB_REPOSITORY").map(|r| {
            format!(
                "{}/{r}/blob/{}",
                ctx.env
                    .get("GITHUB_SERVER_URL")
                    .unwrap_or("https://github.com")
                    .trim_end_matches('/'),
                report.revisions.head.sha
            )
        }),
        run: match (
            ctx.env.get("GITHUB_SERVER_URL"),
            ctx.env.get("GITHUB_REPOSITORY"),
            ctx.env.get("GITHUB_RUN_ID"),
        ) {
            (Some(s), Some(r), Some(id)) => {
                Some(format!("{}/{r}/actions/runs/{id}", s.trim_end_matches('/')))
            }
            _ => None,
        },
    };
    let md = match Markdown::new(&ctx.templates) {
        Ok(m) => Some(m),
        Err(e) => {
            warn(&format!(
                "the template overrides in the base commit do not load ({e}); using the embedded templates"
            ));
            Markdown::new(&BTreeMap::new()).ok()
        }
    };

    if let (Some(p), Some(md)) = (ctx.env.get("GITHUB_STEP_SUMMARY"), &md) {
        match md.step_summary(report, &links) {
            Ok(text) => {
                if let Err(e) = workflow::append_summary(Path::new(p), &text) {
                    warn(&format!("could not write the step summary: {e}"));
                }
            }
            Err(e) => warn(&format!("could not render the step summary: {e}")),
        }
    }

    let (annotations, _) = github::capped(github::annotations(report));
    let mut artifact_failed = false;
    let check_written = match (&ctx.inputs.publish_to, md) {
        (Some(dir), _) => {
            artifact_failed = !write_artifact(ctx, dir, report);
            false
        }
        (None, Some(ref md)) => github_outlets(ctx, report, md, &links, &annotations),
        (None, None) => false,
    };
    if !check_written {
        // Without a check run, findings still reach the diff as workflow-command annotations.
        let total = github::annotations(report).len();
        for a in annotations.iter().take(50) {
            let level = match a.annotation_level {
                "failure" => "error",
                "warning" => "warning",
                _ => "notice",
            };
            println!(
                "{}",
                workflow::command(
                    level,
                    &[
                        ("file", a.path.clone()),
                        ("line", a.start_line.to_string()),
                        ("endLine", a.end_line.to_string()),
                        ("title", a.title.clone()),
                    ],
                    &a.message
                )
            );
        }
        if total > 50 {
            println!(
                "{}",
                workflow::command(
                    "warning",
                    &[("title", "pr-risk".into())],
                    &format!("{} more findings are in the report JSON", total - 50)
                )
            );
        }
    }

    let sync_failed = cloud_sync(ctx, report);
    if artifact_failed {
        return ExitCode::Input;
    }

    // The verdict in the job log: an error for a block, a warning when only the mode or the
    // override label kept it from blocking.
    let level = match report.gate.verdict {
        Verdict::Blocked => Some("error"),
        Verdict::Overridden | Verdict::Advisory if report.gate.would_block => Some("warning"),
        _ => None,
    };
    if let Some(level) = level {
        println!(
            "{}",
            workflow::command(
                level,
                &[("title", markdown::check_title(report))],
                &format!("pr-risk: {}", outlets::render::gate_text(report))
            )
        );
    }
    if blocked {
        return ExitCode::Blocked;
    }
    if sync_failed && sync_required(ctx) {
        eprintln!("error: the Massu cloud sync failed and `sync-required` is set");
        return ExitCode::Internal;
    }
    ExitCode::Pass
}

/// `publish-to`: the artifact for the `workflow_run` half; false (with an error in the log) when
/// it could not be written.
fn write_artifact(ctx: &Context, dir: &Path, report: &Report) -> bool {
    let manifest = artifact::Manifest {
        format: artifact::FORMAT.to_string(),
        repository: ctx.env.get("GITHUB_REPOSITORY").unwrap_or("").to_string(),
        event: ctx.target.event.clone(),
        pr_number: ctx.target.pr_number.unwrap_or(0),
        head_sha: report.revisions.head.sha.clone(),
        base_sha: report.revisions.base.sha.clone(),
        head_repository: ctx
            .target
            .head_repository
            .clone()
            .or_else(|| ctx.env.get("GITHUB_REPOSITORY").map(str::to_string))
            .unwrap_or_default(),
        tool_version: engine::VERSION.to_string(),
    };
    match artifact::write(&ctx.workspace, dir, &manifest, report) {
        Ok(written) => {
            workflow::log(&format!(
                "result written to {} for the workflow_run job to publish (no check run and no comment from this run)",
                written.display()
            ));
            true
        }
        Err(e) => {
            println!(
                "{}",
                workflow::command(
                    "error",
                    &[("title", "pr-risk".into())],
                    &format!("could not write the artifact: {e}")
                )
            );
            false
        }
    }
}

pub(crate) fn warn(msg: &str) {
    println!(
        "{}",
        workflow::command("warning", &[("title", "pr-risk".into())], msg)
    );
}

fn write_outputs(ctx: &Context, report: &Report, report_json: Option<&str>) {
    let Some(file) = ctx.env.get("GITHUB_OUTPUT") else {
        return;
    };
    let opt = |s: Option<u8>| s.map(|v| v.to_string()).unwrap_or_default();
    let d = &report.dimensions;
    let outputs = [
        ("risk-score", opt(report.composite.score)),
        (
            "rating",
            report
                .composite
                .rating
                .map(|r| r.label().to_ascii_lowercase())
                .unwrap_or_default(),
        ),
        ("blocked", report.gate.blocked.to_string()),
        ("verdict", report.gate.verdict.as_str().to_string()),
        (
            "overridden-by",
            report
                .gate
                .override_
                .as_ref()
                .filter(|o| o.applied)
                .and_then(|o| o.actor.clone())
                .unwrap_or_default(),
        ),
        ("impact-score", opt(d.impact.score)),
        ("regression-score", opt(d.regression.score)),
        ("security-score", opt(d.security.score)),
        ("coupling-score", opt(d.coupling.score)),
        ("report-json", report_json.unwrap_or_default().to_string()),
        (
            "affected-tests",
            report
                .guidance
                .affected_tests
                .tests
                .iter()
                .map(|t| t.path.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (
            "suggested-reviewers",
            report
                .guidance
                .reviewers
                .iter()
                .filter(|r| r.requestable())
                .map(|r| r.who.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    for (name, value) in outputs {
        if let Err(e) = workflow::set_output(Path::new(file), name, &value) {
            warn(&format!("could not write output {name}: {e}"));
            return;
        }
    }
}

fn write_sarif(ctx: &Context, path: &Path, report: &Report) {
    let path = match workflow::output_path(&ctx.workspace, path) {
        Ok(p) => p,
        Err(e) => {
            warn(&format!("not writing the SARIF file: {e}"));
            return;
        }
    };
    let text = match outlets::render::sarif::render(report) {
        Ok(t) => t,
        Err(e) => {
            warn(&e.to_string());
            return;
        }
    };
    if let Err(e) = workflow::write_replacing(&path, &text) {
        warn(&format!(
            "could not write the SARIF file {}: {e}",
            path.display()
        ));
    }
}

/// The check run and the PR comment; true when the check run (with its annotations) was written.
fn github_outlets(
    ctx: &Context,
    report: &Report,
    md: &Markdown,
    links: &Links,
    annotations: &[github::Annotation],
) -> bool {
    let Some(repository) = ctx.env.get("GITHUB_REPOSITORY") else {
        warn("GITHUB_REPOSITORY is not set: no check run and no PR comment");
        return false;
    };
    let Some(token) = ctx
        .inputs
        .github_token
        .clone()
        .or_else(|| ctx.env.get("GITHUB_TOKEN").and_then(Secret::new))
    else {
        warn("no GitHub token (the `github-token` input is empty): no check run and no PR comment; the outputs and the step summary have the result");
        return false;
    };
    let api = ctx
        .env
        .get("GITHUB_API_URL")
        .unwrap_or("https://api.github.com");
    let budget = ctx.config.github.budget();
    let written = outlets::http::block_on(async {
        let gh = match GitHub::new(api, &token, repository) {
            Ok(g) => g.with_deadline(budget),
            Err(e) => {
                warn(&format!("no check run and no PR comment: {e}"));
                return false;
            }
        };
        let fork_hint = if ctx.target.fork {
            " (this pull request comes from a fork, where the job token is read-only: see the fork-safe set-up with `publish-to` in docs/github-action.md)"
        } else {
            ""
        };

        let check_written = match md.check_summary(report, links) {
            Err(e) => {
                warn(&format!("could not render the check summary: {e}"));
                false
            }
            Ok(summary) => {
                let run = CheckRun {
                    head_sha: &report.revisions.head.sha,
                    conclusion: report.gate.verdict.conclusion(),
                    title: markdown::check_title(report),
                    summary,
                    annotations: annotations.to_vec(),
                    details_url: links.run.clone(),
                };
                match gh.publish_check(&run).await {
                    Ok(c) => {
                        workflow::log(&format!(
                            "check run \"{}\" written (id {}, {} request(s))",
                            github::CHECK_NAME,
                            c.id,
                            c.requests
                        ));
                        true
                    }
                    Err(e) if e.is_forbidden() => {
                        warn(&format!(
                            "could not create the check run{fork_hint}: the token lacks the `checks: write` permission ({e}). Add `permissions: checks: write` to the job; the result is in the step summary, the outputs and the annotations below"
                        ));
                        false
                    }
                    Err(e) => {
                        warn(&format!("could not create the check run: {e}"));
                        false
                    }
                }
            }
        };

        let post = ctx
            .inputs
            .post_comment
            .unwrap_or(ctx.config.github.post_comment);
        match (post, ctx.target.pr_number) {
            (false, _) => {}
            (true, None) => tracing::info!("not a pull request event: no PR comment"),
            (true, Some(_)) if ctx.target.event == "merge_group" => {
                tracing::info!("a merge group: the check run only, no PR comment")
            }
            (true, Some(pr)) => match md.comment(report, links, COMMENT_MARKER) {
                Err(e) => warn(&format!("could not render the PR comment: {e}")),
                Ok(body) => match gh.upsert_comment(pr, &body).await {
                    Ok(CommentOutcome::Created { id, .. }) => workflow::log(&format!("PR comment created (id {id})")),
                    Ok(CommentOutcome::Updated { id, .. }) => workflow::log(&format!("PR comment updated (id {id})")),
                    Err(e) if e.is_forbidden() => warn(&format!(
                        "could not write the PR comment{fork_hint}: the token lacks the `pull-requests: write` permission ({e}). Add `permissions: pull-requests: write` to the job"
                    )),
                    Err(e) => warn(&format!("could not write the PR comment: {e}")),
                },
            },
        }
        if ctx.inputs.request_reviewers {
            match ctx.target.pr_number {
                Some(pr)
                    if matches!(
                        ctx.target.event.as_str(),
                        "pull_request" | "pull_request_target"
                    ) =>
                {
                    let plan = reviewers::Plan::new(
                        report
                            .guidance
                            .reviewers
                            .iter()
                            .map(|r| (r.who.as_str(), r.login.as_deref(), r.team)),
                        ctx.target.author.as_deref(),
                        &gh.owner,
                    );
                    if let Some(note) = reviewers::request(&gh, pr, &plan).await {
                        if let Some(p) = ctx.env.get("GITHUB_STEP_SUMMARY") {
                            let _ =
                                workflow::append_summary(Path::new(p), &format!("\n> {note}\n"));
                        }
                    }
                }
                _ => tracing::info!("request-reviewers: not a pull request event"),
            }
        }
        check_written
    });
    match written {
        Ok(w) => w,
        Err(e) => {
            warn(&e);
            false
        }
    }
}

fn sync_required(ctx: &Context) -> bool {
    ctx.inputs
        .sync_required
        .unwrap_or(ctx.config.cloud.sync_required)
}

/// Sync to the Massu cloud when a key is configured; true when a sync was attempted and failed.
fn cloud_sync(ctx: &Context, report: &Report) -> bool {
    let key = ctx
        .inputs
        .massu_api_key
        .clone()
        .or_else(|| ctx.env.get("MASSU_API_KEY").and_then(Secret::new));
    let Some(key) = key else {
        if sync_required(ctx) {
            warn("`sync-required` is set but there is no Massu API key (the `massu-api-key` input or MASSU_API_KEY)");
            return true;
        }
        return false;
    };
    let api_url = ctx
        .inputs
        .api_url
        .clone()
        .or_else(|| ctx.env.get("MASSU_API_URL").map(str::to_string))
        .or_else(|| ctx.config.cloud.api_url.clone())
        .unwrap_or_else(|| cloud::DEFAULT_API_URL.to_string());
    let origin = cloud::Origin {
        repo: ctx.env.get("GITHUB_REPOSITORY").unwrap_or("").to_string(),
        pr_number: ctx.target.pr_number,
        pr_title: ctx.target.pr_title.clone(),
        head_ref: ctx.target.head_ref.clone(),
    };
    match sync_report(&api_url, key, &ctx.config, report, &origin) {
        Ok(msg) => {
            workflow::log(&msg);
            false
        }
        Err(e) => {
            println!(
                "{}",
                workflow::command(
                    "warning",
                    &[("title", "Massu cloud sync failed".into())],
                    &format!("{e} (the gate and the report are unaffected)")
                )
            );
            true
        }
    }
}

/// One sync with the configured budget; the message to print on success.
pub fn sync_report(
    api_url: &str,
    key: Secret,
    config: &Config,
    report: &Report,
    origin: &cloud::Origin,
) -> std::result::Result<String, cloud::SyncError> {
    let client = cloud::Client::new(api_url, key, config.cloud.budget());
    let record = cloud::record(report, origin);
    let overridden = report.gate.override_.as_ref().filter(|o| o.applied);
    let idem = cloud::idempotency_key(
        &origin.repo,
        origin.pr_number,
        &report.revisions.head.sha,
        overridden,
    );
    let synced = outlets::http::block_on(cloud::sync(&client, &record, &idem))
        .map_err(cloud::SyncError::Setup)??;
    Ok(format!(
        "synced to the Massu cloud{} (HTTP {}, {} attempt(s))",
        synced
            .id
            .map(|i| format!(" as record {i}"))
            .unwrap_or_default(),
        synced.status,
        synced.attempts
    ))
}
