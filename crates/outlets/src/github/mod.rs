//! GitHub outlets: the sticky PR comment and the "PR Risk Score" check run.
//!
//! Requests go through octocrab (pointed at `GITHUB_API_URL`, so GHES and test servers work) with
//! its own retry layer switched off: [`client::GitHub`] retries itself, because octocrab's layer
//! would also retry a comment creation and could post the comment twice.

pub mod client;

use engine::report::Report;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use client::{ApiError, GitHub};

/// The check run's name.
pub const CHECK_NAME: &str = "PR Risk Score";
/// Annotations GitHub accepts per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Annotations sent per check run at most (five requests): a pull request with thousands of
/// findings does not make the job send hundreds of requests. The most severe come first; the
/// report says how many were left out, and every finding is in the report JSON and SARIF.
pub const MAX_ANNOTATIONS: usize = 250;
/// The hidden marker that identifies pr-risk's own comment.
pub const COMMENT_MARKER: &str = "<!-- pr-risk:sticky-comment -->";

/// `.pr-risk.yml` → `github:`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct GithubSettings {
    /// Post (and keep updating) one PR comment; the `post-comment` input overrides it.
    pub post_comment: bool,
    /// Directory (repository-relative) with overrides of `comment.md.j2` / `check.md.j2`; in
    /// action mode read from the base commit.
    pub templates: Option<String>,
    /// Everything the action asks of the GitHub API (check run, comment) ends within this many
    /// seconds; each request also within 30 s. The gate and the report never wait for it.
    pub timeout_seconds: f64,
}

impl Default for GithubSettings {
    fn default() -> Self {
        GithubSettings {
            post_comment: true,
            templates: None,
            timeout_seconds: 120.0,
        }
    }
}

impl GithubSettings {
    /// Checked when the configuration is read (the error gets file and line there).
    pub fn validate(&self) -> Result<(), String> {
        let t = self.timeout_seconds;
        if !(t.is_finite() && t > 0.0 && t <= 3600.0) {
            return Err(format!(
                "`github.timeout-seconds` must be a number of seconds above 0 and at most 3600, got {t}"
            ));
        }
        Ok(())
    }

    /// The deadline of the GitHub outlets, counted from their start.
    pub fn budget(&self) -> std::time::Duration {
        if self.validate().is_ok() {
            std::time::Duration::from_secs_f64(self.timeout_seconds)
        } else {
            std::time::Duration::from_secs(120)
        }
    }
}

/// One check-run annotation (GitHub's `output.annotations[]` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u64,
    pub end_line: u64,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: &'static str,
    pub message: String,
    pub title: String,
}

/// At most [`MAX_ANNOTATIONS`] annotations, the most severe first (failures, then warnings, then
/// notices; in report order within a level), and how many were left out.
pub fn capped(mut annotations: Vec<Annotation>) -> (Vec<Annotation>, usize) {
    let rank = |a: &Annotation| match a.annotation_level {
        "failure" => 0,
        "warning" => 1,
        _ => 2,
    };
    annotations.sort_by_key(rank);
    let dropped = annotations.len().saturating_sub(MAX_ANNOTATIONS);
    annotations.truncate(MAX_ANNOTATIONS);
    (annotations, dropped)
}

/// Annotations for the new security findings and the introduced coupling violations.
pub fn annotations(report: &Report) -> Vec<Annotation> {
    let mut out = Vec::new();
    for f in &report.dimensions.security.evidence.new {
        out.push(finding_annotation(
            &f.path,
            f.line,
            f.end_line,
            f.severity.label(),
            &f.rule,
            &f.message,
        ));
    }
    for v in &report.dimensions.coupling.evidence.introduced {
        out.push(violation_annotation(
            &v.from,
            &v.to,
            v.line,
            v.severity.as_str(),
            &v.rule,
        ));
    }
    out
}

/// The annotation of a security finding at `path:line–end_line` (`severity`: its label).
pub fn finding_annotation(
    path: &str,
    line: u32,
    end_line: u32,
    severity: &str,
    rule: &str,
    message: &str,
) -> Annotation {
    let start = u64::from(line.max(1));
    Annotation {
        path: path.to_string(),
        start_line: start,
        end_line: u64::from(end_line).max(start),
        annotation_level: level(severity),
        message: truncate(message, 64 * 1024 - 1),
        title: truncate(&format!("[{}] {rule}", severity.to_uppercase()), 255),
    }
}

/// The annotation of a coupling violation (the import `from` → `to` at `from:line`).
pub fn violation_annotation(
    from: &str,
    to: &str,
    line: u32,
    severity: &str,
    rule: &str,
) -> Annotation {
    let line = u64::from(line.max(1));
    Annotation {
        path: from.to_string(),
        start_line: line,
        end_line: line,
        annotation_level: level(severity),
        message: truncate(&format!("{from} → {to} violates {rule}"), 64 * 1024 - 1),
        title: truncate(
            &format!("[{}] coupling: {rule}", severity.to_uppercase()),
            255,
        ),
    }
}

fn level(severity: &str) -> &'static str {
    match severity.to_ascii_lowercase().as_str() {
        "critical" | "high" | "error" => "failure",
        "medium" | "warning" | "warn" => "warning",
        _ => "notice",
    }
}

/// Cut to at most `max` characters on a char boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// What happened to the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentOutcome {
    Created { id: u64, url: Option<String> },
    Updated { id: u64, url: Option<String> },
}

/// A pull request as `GET /repos/{owner}/{repo}/pulls/{n}` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    pub head_sha: String,
    /// `head.repo.full_name` (`None` when the fork was deleted).
    pub head_repository: Option<String>,
    pub base_repository: Option<String>,
    /// `user.login`.
    pub author: Option<String>,
}

/// What happened to the check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub id: u64,
    pub url: Option<String>,
    /// Requests sent: the create and any annotation follow-ups.
    pub requests: usize,
}

/// The check run, complete: `status: completed` with the gate's conclusion, the title and summary,
/// and the annotations (50 with the create, the rest in follow-up updates of 50; at most
/// [`MAX_ANNOTATIONS`], see [`capped`]).
pub struct CheckRun<'a> {
    pub head_sha: &'a str,
    /// `success`, `failure` (a block) or `neutral` (advisory mode): see
    /// [`engine::report::Verdict::conclusion`].
    pub conclusion: &'static str,
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
    pub details_url: Option<String>,
}

impl GitHub {
    pub async fn publish_check(&self, run: &CheckRun<'_>) -> Result<CheckOutcome, ApiError> {
        let sent = &run.annotations[..run.annotations.len().min(MAX_ANNOTATIONS)];
        let mut batches = sent.chunks(ANNOTATIONS_PER_REQUEST);
        let first = batches.next().unwrap_or(&[]);
        let mut body = json!({
            "name": CHECK_NAME,
            "head_sha": run.head_sha,
            "status": "completed",
            "conclusion": run.conclusion,
            "external_id": "pr-risk",
            "output": {
                "title": run.title,
                "summary": run.summary,
                "annotations": first,
            },
        });
        if let Some(u) = &run.details_url {
            body["details_url"] = json!(u);
        }
        let path = format!("/repos/{}/{}/check-runs", self.owner, self.repo);
        // A duplicate check run is harmless (GitHub shows the latest of a name), so the create is
        // retried like any idempotent request.
        let created = self.send_json("POST", &path, Some(&body), true).await?;
        let id = created["id"]
            .as_u64()
            .ok_or_else(|| ApiError::Malformed("the created check run has no id".into()))?;
        let url = created["html_url"].as_str().map(str::to_string);
        let mut requests = 1;
        for batch in batches {
            let body = json!({
                "output": {
                    "title": run.title,
                    "summary": run.summary,
                    "annotations": batch,
                },
            });
            let path = format!("/repos/{}/{}/check-runs/{id}", self.owner, self.repo);
            self.send_json("PATCH", &path, Some(&body), true).await?;
            requests += 1;
        }
        Ok(CheckOutcome { id, url, requests })
    }

    /// The login the token acts as: `GET /user`; an app installation token (the job's
    /// `GITHUB_TOKEN`) cannot read it and is a bot, so `None` then means "any `[bot]` login".
    pub async fn own_login(&self) -> Option<String> {
        match self.send_json("GET", "/user", None, true).await {
            Ok(v) => v["login"].as_str().map(str::to_string),
            Err(e) => {
                tracing::info!("GET /user failed ({e}); matching the comment by a bot author");
                None
            }
        }
    }

    /// pr-risk's own comment on a PR: the hidden marker, written by the token's own login (or by
    /// a bot when the login cannot be read), searched across all pages; the oldest match wins.
    pub async fn find_comment(
        &self,
        pr: u64,
        login: Option<&str>,
    ) -> Result<Option<u64>, ApiError> {
        let mut next = Some(format!(
            "/repos/{}/{}/issues/{pr}/comments?per_page=100&page=1",
            self.owner, self.repo
        ));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let resp = self.send("GET", &url, None, true).await?;
            let list: Value = serde_json::from_str(&resp.body)
                .map_err(|e| ApiError::Malformed(format!("listing comments: {e}")))?;
            let items = list
                .as_array()
                .ok_or_else(|| ApiError::Malformed("listing comments: not a JSON array".into()))?;
            for c in items {
                let author = c["user"]["login"].as_str().unwrap_or("");
                let mine = match login {
                    Some(l) => author.eq_ignore_ascii_case(l),
                    None => author.ends_with("[bot]"),
                };
                if mine
                    && c["body"]
                        .as_str()
                        .is_some_and(|b| b.contains(COMMENT_MARKER))
                {
                    if let Some(id) = c["id"].as_u64() {
                        return Ok(Some(id));
                    }
                }
            }
            next = client::next_link(&resp.headers);
            if next.is_none() && items.len() == 100 && !resp.headers.contains_key("link") {
                next = Some(format!(
                    "/repos/{}/{}/issues/{pr}/comments?per_page=100&page={}",
                    self.owner,
                    self.repo,
                    pages + 1
                ));
            }
            if pages >= 500 {
                break;
            }
        }
        Ok(None)
    }

    /// Update pr-risk's comment in place, or create it. A failed create is never retried blindly:
    /// the comments are listed again first, so a create that did land is updated, not duplicated.
    pub async fn upsert_comment(&self, pr: u64, body: &str) -> Result<CommentOutcome, ApiError> {
        let login = self.own_login().await;
        let payload = json!({ "body": body });
        if let Some(id) = self.find_comment(pr, login.as_deref()).await? {
            match self.update_comment(id, &payload).await {
                // Deleted between the listing and the update: post a new one.
                Err(ApiError::NotFound { .. }) => {}
                other => return other,
            }
        }
        let path = format!("/repos/{}/{}/issues/{pr}/comments", self.owner, self.repo);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_json("POST", &path, Some(&payload), false).await {
                Ok(v) => {
                    let id = v["id"].as_u64().ok_or_else(|| {
                        ApiError::Malformed("the created comment has no id".into())
                    })?;
                    return Ok(CommentOutcome::Created {
                        id,
                        url: v["html_url"].as_str().map(str::to_string),
                    });
                }
                Err(e) if e.may_have_landed() && attempt < 3 => {
                    tracing::warn!("creating the comment failed ({e}); checking whether it landed");
                    client::pause(attempt).await;
                    if let Some(id) = self.find_comment(pr, login.as_deref()).await? {
                        return self.update_comment(id, &payload).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `POST /repos/{owner}/{repo}/pulls/{pr}/requested_reviewers` with user logins and team
    /// slugs. Not retried on 5xx (a request that landed would be repeated harmlessly, but a 422 is
    /// the usual answer and is final).
    pub async fn request_reviewers(
        &self,
        pr: u64,
        users: &[String],
        teams: &[String],
    ) -> Result<(), ApiError> {
        let mut body = serde_json::Map::new();
        if !users.is_empty() {
            body.insert("reviewers".into(), json!(users));
        }
        if !teams.is_empty() {
            body.insert("team_reviewers".into(), json!(teams));
        }
        let path = format!(
            "/repos/{}/{}/pulls/{pr}/requested_reviewers",
            self.owner, self.repo
        );
        self.send("POST", &path, Some(&Value::Object(body)), false)
            .await
            .map(|_| ())
    }

    /// `GET /repos/{owner}/{repo}/pulls/{pr}`: what GitHub itself says about a pull request.
    pub async fn pull(&self, pr: u64) -> Result<Pull, ApiError> {
        let path = format!("/repos/{}/{}/pulls/{pr}", self.owner, self.repo);
        let v = self.send_json("GET", &path, None, true).await?;
        let s = |v: &Value| v.as_str().map(str::to_string);
        Ok(Pull {
            number: v["number"]
                .as_u64()
                .ok_or_else(|| ApiError::Malformed(format!("pull request {pr} has no number")))?,
            head_sha: s(&v["head"]["sha"])
                .ok_or_else(|| ApiError::Malformed(format!("pull request {pr} has no head.sha")))?,
            head_repository: s(&v["head"]["repo"]["full_name"]),
            base_repository: s(&v["base"]["repo"]["full_name"]),
            author: s(&v["user"]["login"]),
        })
    }

    async fn update_comment(&self, id: u64, payload: &Value) -> Result<CommentOutcome, ApiError> {
        let path = format!("/repos/{}/{}/issues/comments/{id}", self.owner, self.repo);
        let v = self.send_json("PATCH", &path, Some(payload), true).await?;
        Ok(CommentOutcome::Updated {
            id,
            url: v["html_url"].as_str().map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use engine::score::coupling::rules::Severity as Level;
    use engine::score::coupling::Violation;
    use engine::score::security::rules::Severity;
    use engine::score::security::Finding;

    fn finding(rule: &str, severity: Severity, path: &str, line: u32, end_line: u32) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            path: path.into(),
            line,
            column: 1,
            end_line,
            message: format!("{rule} found"),
            cwe: "CWE-95".into(),
            owasp: None,
            fix: String::new(),
            snippet: String::new(),
            fingerprint: String::new(),
            identity: Default::default(),
            source: None,
            suppressed_by_pr: false,
            norm: String::new(),
            suppressed: None,
        }
    }

    #[test]
    fn annotations_from_evidence() {
        let mut report = Report::empty("a", "b");
        report.dimensions.security.evidence.new = vec![
            finding("ts/eval", Severity::Critical, "src/a.ts", 3, 5),
            finding("ts/x", Severity::Low, "src/b.ts", 0, 0),
        ];
        report.dimensions.coupling.evidence.introduced = vec![Violation {
            rule: "ui-no-db".into(),
            severity: Level::Error,
            builtin: false,
            from: "src/ui/x.ts".into(),
            line: 2,
            to: "src/db/y.ts".into(),
            specifier: "../db/y".into(),
            type_only: false,
            description: String::new(),
            detail: None,
            cycle: Vec::new(),
        }];
        let a = annotations(&report);
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].annotation_level, "failure");
        assert_eq!(a[0].title, "[CRITICAL] ts/eval");
        assert_eq!(
            (a[0].start_line, a[0].end_line),
            (3, 5),
            "multi-line findings"
        );
        assert_eq!((a[1].start_line, a[1].end_line), (1, 1));
        assert_eq!(a[1].annotation_level, "notice");
        assert_eq!(a[2].annotation_level, "failure");
        assert_eq!(a[2].message, "src/ui/x.ts → src/db/y.ts violates ui-no-db");
    }

    #[test]
    fn annotations_are_capped_most_severe_first() {
        let a = |level: &'static str, i: u64| Annotation {
            path: format!("f{i}.ts"),
            start_line: i,
            end_line: i,
            annotation_level: level,
            message: String::new(),
            title: String::new(),
        };
        let mut all: Vec<Annotation> = (0..300).map(|i| a("notice", i)).collect();
        all.push(a("failure", 1000));
        let (kept, dropped) = capped(all);
        assert_eq!((kept.len(), dropped), (MAX_ANNOTATIONS, 51));
        assert_eq!(kept[0].start_line, 1000);
        assert_eq!(kept[1].start_line, 0);
    }

    #[test]
    fn no_evidence_no_annotations() {
        assert!(annotations(&Report::empty("a", "b")).is_empty());
    }
}
