//! `pr-risk action --publish-from DIR` (the `publish-from` input): the second half of the
//! fork-safe set-up. In a `workflow_run` workflow — which has a write token and never checks out
//! or runs the pull request's code — it reads the artifact the pull request's `pull_request` run
//! uploaded ([`super::artifact`]) and posts the check run, the PR comment, the annotations, the
//! outputs and the step summary.
//!
//! Nothing is posted unless the artifact is shown to belong to the pull request and commit it
//! claims, by facts that come from GitHub and not from the artifact: the `workflow_run` event's
//! repository, `head_sha`, `head_repository` and `pull_requests[].number`. For a pull request from
//! a fork GitHub leaves `pull_requests` empty; the claimed pull request is then read from the API
//! (`GET /repos/{owner}/{repo}/pulls/{n}`) and its head commit and head repository must be the
//! run's. The check run goes on the run's `head_sha`.
//!
//! What this cannot check is the score itself: the pull request's run computed it, with a
//! workflow the pull request can change. The check and the comment say so in a banner pr-risk adds
//! itself (a template cannot leave it out), and the check's title says where the result comes
//! from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use engine::error::{Error, ExitCode, Result};
use outlets::github::{self, CheckRun, CommentOutcome, GitHub, COMMENT_MARKER};
use outlets::render::markdown::{self, Links, Markdown};
use outlets::secret::Secret;

use super::artifact::{self, Artifact, Core};
use super::inputs::{Env, Inputs};
use super::{reviewers, workflow};

/// The facts of the `workflow_run` event the artifact is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    pub id: u64,
    /// The event of the run that produced the artifact (`pull_request`).
    pub event: String,
    pub head_sha: String,
    /// `owner/name` the run's commit comes from (the fork).
    pub head_repository: String,
    /// `owner/name` the run belongs to.
    pub repository: String,
    /// `pull_requests[]`: number and head SHA (empty for pull requests from forks).
    pub pull_requests: Vec<(u64, Option<String>)>,
}

/// The `workflow_run` facts from `GITHUB_EVENT_PATH`.
pub fn workflow_run(env: &Env) -> Result<WorkflowRun> {
    let name = env.get("GITHUB_EVENT_NAME").unwrap_or("");
    if name != "workflow_run" {
        return Err(Error::Usage(format!(
            "`publish-from` runs in a `workflow_run` workflow (this run is a `{name}` event): the artifact is checked against that event\n  hint: see \"Pull requests from forks\" in docs/github-action.md"
        )));
    }
    let path = env
        .get("GITHUB_EVENT_PATH")
        .ok_or_else(|| Error::Usage("GITHUB_EVENT_PATH is not set".into()))?;
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    let event: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("GITHUB_EVENT_PATH {path} is not valid JSON: {e}")))?;
    let wr = &event["workflow_run"];
    let missing = |what: &str| {
        Error::Usage(format!(
            "the workflow_run event has no `workflow_run.{what}`"
        ))
    };
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let pull_requests = wr["pull_requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p["number"].as_u64()?, s(&p["head"]["sha"]))))
                .collect()
        })
        .unwrap_or_default();
    Ok(WorkflowRun {
        id: wr["id"].as_u64().ok_or_else(|| missing("id"))?,
        event: s(&wr["event"]).ok_or_else(|| missing("event"))?,
        head_sha: s(&wr["head_sha"]).ok_or_else(|| missing("head_sha"))?,
        head_repository: s(&wr["head_repository"]["full_name"])
            .ok_or_else(|| missing("head_repository.full_name"))?,
        repository: s(&wr["repository"]["full_name"])
            .or_else(|| s(&event["repository"]["full_name"]))
            .ok_or_else(|| missing("repository.full_name"))?,
        pull_requests,
    })
}

/// A mismatch between the artifact and GitHub's facts.
fn mismatch(what: String) -> Error {
    Error::Usage(format!(
        "the artifact does not belong to the run that triggered this workflow: {what}; nothing was published"
    ))
}

/// Check the artifact against the event (no API call); the pull request number when the event
/// names it (`None`: the event's `pull_requests` is empty, as for forks, and the API decides).
pub fn verify(run: &WorkflowRun, a: &Artifact, repository: &str) -> Result<Option<u64>> {
    let m = &a.manifest;
    if run.event != "pull_request" {
        return Err(mismatch(format!(
            "the triggering run was a `{}` event, not `pull_request`",
            run.event
        )));
    }
    let same = |x: &str, y: &str| x.eq_ignore_ascii_case(y);
    if !same(&run.repository, repository) || !same(&m.repository, repository) {
        return Err(mismatch(format!(
            "it claims repository {}, the run belongs to {} (this is {repository})",
            m.repository, run.repository
        )));
    }
    if m.head_sha != run.head_sha {
        return Err(mismatch(format!(
            "it claims commit {}, the run was for {}",
            m.head_sha, run.head_sha
        )));
    }
    if !same(&m.head_repository, &run.head_repository) {
        return Err(mismatch(format!(
            "it claims head repository {}, the run's is {}",
            m.head_repository, run.head_repository
        )));
    }
    if run.pull_requests.is_empty() {
        return Ok(None);
    }
    match run.pull_requests.iter().find(|(n, _)| *n == m.pr_number) {
        None => Err(mismatch(format!(
            "it claims pull request #{}, the run belongs to {}",
            m.pr_number,
            run.pull_requests
                .iter()
                .map(|(n, _)| format!("#{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        Some((_, Some(sha))) if *sha != run.head_sha => Err(mismatch(format!(
            "pull request #{} is at {sha}, the run was for {}",
            m.pr_number, run.head_sha
        ))),
        Some((n, _)) => Ok(Some(*n)),
    }
}

/// Check the claimed pull request as GitHub's API describes it.
fn verify_pull(
    run: &WorkflowRun,
    pull: &github::Pull,
    claimed: u64,
    repository: &str,
) -> Result<u64> {
    let same = |x: Option<&str>, y: &str| x.is_some_and(|x| x.eq_ignore_ascii_case(y));
    if pull.number != claimed {
        return Err(mismatch(format!(
            "GitHub answered pull request #{} for #{claimed}",
            pull.number
        )));
    }
    if pull.head_sha != run.head_sha {
        return Err(mismatch(format!(
            "pull request #{claimed} is at {}, the run was for {} (a newer push publishes its own result)",
            pull.head_sha, run.head_sha
        )));
    }
    if !same(pull.head_repository.as_deref(), &run.head_repository) {
        return Err(mismatch(format!(
            "pull request #{claimed} comes from {}, the run from {}",
            pull.head_repository
                .as_deref()
                .unwrap_or("a deleted repository"),
            run.head_repository
        )));
    }
    if !same(pull.base_repository.as_deref(), repository) {
        return Err(mismatch(format!(
            "pull request #{claimed} targets {}, not {repository}",
            pull.base_repository
                .as_deref()
                .unwrap_or("an unknown repository")
        )));
    }
    Ok(claimed)
}

/// The texts, all rendered before anything is posted.
struct Texts {
    check: String,
    comment: String,
    step_summary: String,
}

/// pr-risk's own words on where the result comes from (its links are pr-risk's own).
fn banner(run_url: &str, run_id: u64, pr: u64, head_sha: &str) -> String {
    format!(
        "> [!WARNING]\n> **Reported by the pull request's own workflow run.** This result was computed by [workflow run {run_id}]({run_url}), which ran the `pull_request` workflow as pull request #{pr} defines it, and was published by a `workflow_run` job that checked it belongs to #{pr} at commit `{}` without running the pull request's code. A pull request can change that workflow and report any result (a score of 0 included): read this score as the pull request's own claim.\n\n",
        &head_sha[..head_sha.len().min(12)]
    )
}

fn render(md: &Markdown, a: &Artifact, links: &Links, banner: &str) -> Result<Texts> {
    let room =
        |limit: usize| limit.saturating_sub(banner.chars().count() + COMMENT_MARKER.len() + 2);
    let check = md.render(
        markdown::CHECK_TEMPLATE,
        &a.report,
        links,
        "",
        room(markdown::CHECK_SUMMARY_LIMIT),
    )?;
    let comment = md.render(
        markdown::COMMENT_TEMPLATE,
        &a.report,
        links,
        "",
        room(markdown::COMMENT_LIMIT),
    )?;
    let step = md.render(
        markdown::COMMENT_TEMPLATE,
        &a.report,
        links,
        "",
        room(markdown::STEP_SUMMARY_LIMIT / 4),
    )?;
    Ok(Texts {
        check: format!("{banner}{check}"),
        comment: format!("{COMMENT_MARKER}\n{banner}{comment}"),
        step_summary: format!("{banner}{step}"),
    })
}

fn annotations(core: &Core) -> Vec<github::Annotation> {
    let mut out: Vec<github::Annotation> = core
        .dimensions
        .security
        .evidence
        .new
        .iter()
        .map(|f| {
            github::finding_annotation(
                &f.path,
                f.line,
                f.end_line,
                f.severity.label(),
                &f.rule,
                &f.message,
            )
        })
        .collect();
    out.extend(
        core.dimensions
            .coupling
            .evidence
            .introduced
            .iter()
            .map(|v| {
                github::violation_annotation(&v.from, &v.to, v.line, v.severity.as_str(), &v.rule)
            }),
    );
    out
}

fn write_outputs(env: &Env, core: &Core, report_json: &str) {
    let Some(file) = env.get("GITHUB_OUTPUT") else {
        return;
    };
    let opt = |s: Option<u8>| s.map(|v| v.to_string()).unwrap_or_default();
    let d = &core.dimensions;
    let rating = core
        .composite
        .score
        .map(|s| engine::score::Rating::of(s).label().to_ascii_lowercase())
        .unwrap_or_default();
    let join = |it: &mut dyn Iterator<Item = &str>| it.collect::<Vec<_>>().join(" ");
    let outputs = [
        ("risk-score", opt(core.composite.score)),
        ("rating", rating),
        ("blocked", core.gate.blocked.to_string()),
        ("impact-score", opt(d.impact.score)),
        ("regression-score", opt(d.regression.score)),
        ("security-score", opt(d.security.score)),
        ("coupling-score", opt(d.coupling.score)),
        ("report-json", report_json.to_string()),
        (
            "affected-tests",
            join(
                &mut core
                    .guidance
                    .affected_tests
                    .tests
                    .iter()
                    .map(|t| t.path.as_str()),
            ),
        ),
        (
            "suggested-reviewers",
            // Only those a review can be requested from (a login or a team: never a name or an
            // e-mail from the git history), as in the pull request's own run.
            join(
                &mut core
                    .guidance
                    .reviewers
                    .iter()
                    .filter(|r| r.login.is_some())
                    .map(|r| r.who.as_str()),
            ),
        ),
    ];
    for (name, value) in outputs {
        if let Err(e) = workflow::set_output(Path::new(file), name, &value) {
            super::warn(&format!("could not write output {name}: {e}"));
            return;
        }
    }
}

pub fn run(env: &Env, inputs: &Inputs, dir: &Path) -> Result<ExitCode> {
    let run = workflow_run(env)?;
    let workspace = env
        .get("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        workspace.join(dir)
    };
    let a = artifact::read(&dir)?;
    let repository = env.get("GITHUB_REPOSITORY").ok_or_else(|| {
        Error::Usage("GITHUB_REPOSITORY is not set: `publish-from` needs the repository".into())
    })?;
    let from_event = verify(&run, &a, repository)?;
    let token = inputs
        .github_token
        .clone()
        .or_else(|| env.get("GITHUB_TOKEN").and_then(Secret::new))
        .ok_or_else(|| {
            Error::Usage("`publish-from` needs a GitHub token with `checks: write` and `pull-requests: write` (the `github-token` input)".into())
        })?;
    let server = env
        .get("GITHUB_SERVER_URL")
        .unwrap_or("https://github.com")
        .trim_end_matches('/')
        .to_string();
    let run_url = format!("{server}/{repository}/actions/runs/{}", run.id);
    let links = Links {
        blob: Some(format!("{server}/{repository}/blob/{}", run.head_sha)),
        run: Some(run_url.clone()),
    };
    let md = Markdown::new(&BTreeMap::new())?;
    let api = env
        .get("GITHUB_API_URL")
        .unwrap_or("https://api.github.com");
    let core = &a.core;
    let (annotations, _) = github::capped(annotations(core));
    let blocked = core.gate.blocked;

    let outcome = outlets::http::block_on(async {
        let gh = GitHub::new(api, &token, repository)
            .map_err(|e| Error::Usage(e.to_string()))?
            .with_deadline(outlets::github::GithubSettings::default().budget());
        let claimed = a.manifest.pr_number;
        let pull = if from_event.is_none() || inputs.request_reviewers {
            let p = gh.pull(claimed).await.map_err(|e| {
                mismatch(format!(
                    "pull request #{claimed} could not be read from GitHub to check it ({e})"
                ))
            })?;
            Some(p)
        } else {
            None
        };
        let pr = match (from_event, &pull) {
            (Some(n), _) => n,
            (None, Some(p)) => verify_pull(&run, p, claimed, repository)?,
            (None, None) => unreachable!("the pull request is read when the event has none"),
        };
        let texts = render(&md, &a, &links, &banner(&run_url, run.id, pr, &run.head_sha))?;

        // Verified and rendered: from here on, publish.
        if let Some(p) = env.get("GITHUB_STEP_SUMMARY") {
            if let Err(e) = workflow::append_summary(Path::new(p), &texts.step_summary) {
                super::warn(&format!("could not write the step summary: {e}"));
            }
        }
        let report_json = a
            .dir
            .join(artifact::REPORT_FILE)
            .strip_prefix(&workspace)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        write_outputs(env, core, &report_json);

        let title = format!(
            "{} — reported by the PR's run",
            markdown::title(
                core.composite.score,
                core.composite.score.map(engine::score::Rating::of),
                blocked.then_some("blocked")
            )
        );
        let check = CheckRun {
            head_sha: &run.head_sha,
            conclusion: if blocked {
                "failure"
            } else if core.gate.verdict.as_deref() == Some("advisory") {
                "neutral"
            } else {
                "success"
            },
            title,
            summary: texts.check,
            annotations: annotations.clone(),
            details_url: Some(run_url.clone()),
        };
        let check_written = match gh.publish_check(&check).await {
            Ok(c) => {
                workflow::log(&format!(
                    "check run \"{}\" written on {} for pull request #{pr} (id {}, {} request(s))",
                    github::CHECK_NAME,
                    run.head_sha,
                    c.id,
                    c.requests
                ));
                true
            }
            Err(e) => {
                println!(
                    "{}",
                    workflow::command(
                        "error",
                        &[("title", "pr-risk".into())],
                        &format!("could not create the check run: {e} (the workflow_run job needs `permissions: checks: write`)")
                    )
                );
                false
            }
        };
        if inputs.post_comment.unwrap_or(true) {
            match gh.upsert_comment(pr, &texts.comment).await {
                Ok(CommentOutcome::Created { id, .. }) => {
                    workflow::log(&format!("PR comment created (id {id})"))
                }
                Ok(CommentOutcome::Updated { id, .. }) => {
                    workflow::log(&format!("PR comment updated (id {id})"))
                }
                Err(e) => super::warn(&format!(
                    "could not write the PR comment: {e} (the workflow_run job needs `permissions: pull-requests: write`)"
                )),
            }
        }
        if inputs.request_reviewers {
            let author = pull.as_ref().and_then(|p| p.author.as_deref());
            let plan = reviewers::Plan::new(
                core.guidance
                    .reviewers
                    .iter()
                    .map(|r| (r.who.as_str(), r.login.as_deref(), r.team)),
                author,
                &gh.owner,
            );
            if let Some(note) = reviewers::request(&gh, pr, &plan).await {
                if let Some(p) = env.get("GITHUB_STEP_SUMMARY") {
                    let _ = workflow::append_summary(Path::new(p), &format!("\n> {note}\n"));
                }
            }
        }
        Ok::<bool, Error>(check_written)
    })
    .map_err(Error::Internal)??;

    if blocked {
        return Ok(ExitCode::Blocked);
    }
    if !outcome {
        return Ok(ExitCode::Internal);
    }
    Ok(ExitCode::Pass)
}
