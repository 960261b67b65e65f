//! GitHub outlets: the sticky PR comment and the "PR Risk Score" check run.
//!
//! Requests go through octocrab (pointed at `GITHUB_API_URL`, so GHES and test servers work) with
//! its own retry layer switched off: [`client::GitHub`] retries itself, because octocrab's layer
//! would also retry a comment creation and could post the comment twice.

pub mod client;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use client::{ApiError, GitHub};

/// The check run's name.
pub const CHECK_NAME: &str = "PR Risk Score";
/// Annotations GitHub accepts per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// The hidden marker that identifies pr-risk's own comment.
pub const COMMENT_MARKER: &str = "<!-- pr-risk:sticky-comment -->";

/// `.pr-risk.yml` → `github:`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct GithubConfig {
    /// Post (and keep updating) one PR comment; the `post-comment` input overrides it.
    pub post_comment: bool,
    /// Directory (repository-relative) with overrides of `comment.md.j2` / `check.md.j2`; in
    /// action mode read from the base commit.
    pub templates: Option<String>,
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            post_comment: true,
            templates: None,
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

/// Annotations for the security findings and coupling violations of a report, read from its JSON
/// (the evidence sections appear when those dimensions are built in).
pub fn annotations(report: &Value) -> Vec<Annotation> {
    let mut out = Vec::new();
    let d = &report["dimensions"];
    for f in d["security"]["evidence"]["new"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(path), Some(message)) = (f["path"].as_str(), f["message"].as_str()) else {
            continue;
        };
        let sev = f["severity"].as_str().unwrap_or("medium");
        let line = f["line"].as_u64().unwrap_or(1).max(1);
        let rule = f["rule"].as_str().unwrap_or("security");
        out.push(Annotation {
            path: path.to_string(),
            start_line: line,
            end_line: f["end_line"]
                .as_u64()
                .filter(|e| *e >= line)
                .unwrap_or(line),
            annotation_level: level(sev),
            message: truncate(message, 64 * 1024 - 1),
            title: truncate(&format!("[{}] {rule}", sev.to_uppercase()), 255),
        });
    }
    for v in d["coupling"]["evidence"]["introduced"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(from), Some(to)) = (v["from"].as_str(), v["to"].as_str()) else {
            continue;
        };
        let rule = v["rule"].as_str().unwrap_or("coupling rule");
        let sev = v["severity"].as_str().unwrap_or("medium");
        let line = v["line"].as_u64().unwrap_or(1).max(1);
        out.push(Annotation {
            path: from.to_string(),
            start_line: line,
            end_line: line,
            annotation_level: level(sev),
            message: truncate(&format!("{from} → {to} violates {rule}"), 64 * 1024 - 1),
            title: truncate(&format!("[{}] coupling: {rule}", sev.to_uppercase()), 255),
        });
    }
    out
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

/// What happened to the check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub id: u64,
    pub url: Option<String>,
    /// Requests sent: the create and any annotation follow-ups.
    pub requests: usize,
}

/// The check run, complete: `status: completed` with the gate's conclusion, the title and summary,
/// and every annotation (50 with the create, the rest in follow-up updates of 50).
pub struct CheckRun<'a> {
    pub head_sha: &'a str,
    pub blocked: bool,
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
    pub details_url: Option<String>,
}

impl GitHub {
    pub async fn publish_check(&self, run: &CheckRun<'_>) -> Result<CheckOutcome, ApiError> {
        let mut batches = run.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = batches.next().unwrap_or(&[]);
        let mut body = json!({
            "name": CHECK_NAME,
            "head_sha": run.head_sha,
            "status": "completed",
            "conclusion": if run.blocked { "failure" } else { "success" },
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

    #[test]
    fn annotations_from_evidence() {
        let report = json!({"dimensions": {
            "security": {"evidence": {"new": [
                {"rule": "ts/eval", "severity": "critical", "path": "src/a.ts", "line": 3, "message": "eval of input"},
                {"rule": "ts/x", "severity": "low", "path": "src/b.ts", "line": 0, "message": "m"}
            ]}},
            "coupling": {"evidence": {"introduced": [
                {"rule": "ui-no-db", "severity": "high", "from": "src/ui/x.ts", "line": 2, "to": "src/db/y.ts"}
            ]}}
        }});
        let a = annotations(&report);
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].annotation_level, "failure");
        assert_eq!(a[0].title, "[CRITICAL] ts/eval");
        assert_eq!(a[1].start_line, 1);
        assert_eq!(a[1].annotation_level, "notice");
        assert_eq!(a[2].message, "src/ui/x.ts → src/db/y.ts violates ui-no-db");
    }

    #[test]
    fn no_evidence_no_annotations() {
        assert!(annotations(&json!({"dimensions": {"security": {"evidence": {}}}})).is_empty());
    }
}
