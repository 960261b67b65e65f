//! A small GitHub REST client: octocrab as the transport, with pr-risk's own bounded retries
//! ([`crate::http::Policy::GITHUB`]).
//!
//! Retried: rate limits (`429`, or `403` with `x-ratelimit-remaining: 0` or `retry-after`) — the
//! request was not processed, so even a create is safe to repeat — after waiting for
//! `retry-after` / `x-ratelimit-reset` (at most the policy's `max_wait`); 5xx and transport errors
//! only for requests the caller marks as safe to repeat.

use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, HeaderName};
use octocrab::service::middleware::retry::RetryConfig;
use octocrab::Octocrab;
use serde_json::Value;

use crate::http::{rate_limit, Policy};
use crate::secret::Secret;

/// A GitHub client for one repository.
pub struct GitHub {
    octo: Octocrab,
    pub owner: String,
    pub repo: String,
    pub policy: Policy,
}

/// A raw answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 403 that is not a rate limit: the token lacks a permission (fork PRs, read-only tokens).
    #[error("403 Forbidden: {message}")]
    Forbidden { message: String },
    #[error("404 Not Found: {message}")]
    NotFound { message: String },
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("rate limited by GitHub, and the reset is {0} s away (more than pr-risk waits)")]
    RateLimited(u64),
    #[error("could not reach the GitHub API: {0}")]
    Transport(String),
    #[error("unexpected answer from the GitHub API: {0}")]
    Malformed(String),
    #[error("could not set up the GitHub client: {0}")]
    Setup(String),
}

impl ApiError {
    /// True when the request may have been processed although it failed (5xx, lost connection).
    pub fn may_have_landed(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if *status >= 500)
            || matches!(self, ApiError::Transport(_))
    }

    pub fn is_forbidden(&self) -> bool {
        matches!(self, ApiError::Forbidden { .. })
    }
}

impl GitHub {
    /// `api_url` is `GITHUB_API_URL` (`https://api.github.com`, `https://ghes/api/v3`, a test server).
    /// Call it inside a tokio runtime: octocrab's client starts background tasks when built.
    pub fn new(api_url: &str, token: &Secret, repository: &str) -> Result<GitHub, ApiError> {
        let (owner, repo) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| {
                ApiError::Setup(format!(
                    "GITHUB_REPOSITORY `{repository}` is not `owner/name`"
                ))
            })?;
        let octo = Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(|e| ApiError::Setup(format!("GITHUB_API_URL `{api_url}`: {e}")))?
            .personal_token(token.expose().to_string())
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Policy::GITHUB.connect_timeout))
            .set_read_timeout(Some(Policy::GITHUB.request_timeout))
            .add_header(
                HeaderName::from_static("accept"),
                "application/vnd.github+json".into(),
            )
            .add_header(
                HeaderName::from_static("x-github-api-version"),
                "2022-11-28".into(),
            )
            .add_header(
                HeaderName::from_static("user-agent"),
                format!("pr-risk/{}", env!("CARGO_PKG_VERSION")),
            )
            .build()
            .map_err(|e| ApiError::Setup(e.to_string()))?;
        Ok(GitHub {
            octo,
            owner: owner.to_string(),
            repo: repo.to_string(),
            policy: Policy::GITHUB,
        })
    }

    /// Send a request, retrying within the bounds above; non-2xx answers become errors.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        repeatable: bool,
    ) -> Result<Response, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.once(method, path, body).await;
            let last = attempt >= self.policy.max_attempts;
            match result {
                Err(e) => {
                    if !repeatable || last {
                        return Err(e);
                    }
                    tracing::warn!("{method} {path}: {e}; retrying");
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                }
                Ok(r) if (200..300).contains(&r.status) => return Ok(r),
                Ok(r) => {
                    if let Some(wait) = rate_limited(&r) {
                        if wait > self.policy.max_wait {
                            return Err(ApiError::RateLimited(wait.as_secs()));
                        }
                        if last {
                            return Err(error_of(&r));
                        }
                        tracing::warn!(
                            "{method} {path}: rate limited, waiting {} s",
                            wait.as_secs()
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if r.status >= 500 && repeatable && !last {
                        tracing::warn!("{method} {path}: HTTP {}; retrying", r.status);
                        tokio::time::sleep(self.policy.backoff(attempt)).await;
                        continue;
                    }
                    return Err(error_of(&r));
                }
            }
        }
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        repeatable: bool,
    ) -> Result<Value, ApiError> {
        let r = self.send(method, path, body, repeatable).await?;
        serde_json::from_str(&r.body)
            .map_err(|e| ApiError::Malformed(format!("{method} {path}: {e}")))
    }

    async fn once(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let uri: http::Uri = path
            .parse()
            .map_err(|e| ApiError::Setup(format!("bad request path {path}: {e}")))?;
        let resp = match method {
            "GET" => self.octo._get(uri).await,
            "POST" => self.octo._post(uri, body).await,
            "PATCH" => self.octo._patch(uri, body).await,
            other => return Err(ApiError::Setup(format!("unsupported method {other}"))),
        }
        .map_err(|e| ApiError::Transport(describe(&e)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = self
            .octo
            .body_to_string(resp)
            .await
            .map_err(|e| ApiError::Transport(describe(&e)))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn describe(e: &octocrab::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(&format!(": {inner}"));
        src = inner.source();
    }
    s
}

/// GitHub's error message (`{"message": …}`), else the start of the body.
fn error_of(r: &Response) -> ApiError {
    let message = serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| super::truncate(r.body.trim(), 200));
    match r.status {
        403 => ApiError::Forbidden { message },
        404 => ApiError::NotFound { message },
        status => ApiError::Status { status, message },
    }
}

/// How long a rate-limited answer asks us to wait (a minute when it does not say); `None` when
/// it is not a rate limit.
fn rate_limited(r: &Response) -> Option<Duration> {
    rate_limit(r.status, &r.headers, SystemTime::now())
        .map(|wait| wait.unwrap_or(Duration::from_secs(60)))
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// A short pause before re-checking after a failed create.
pub async fn pause(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(250) * attempt).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_next() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?page=2")
        );
        h.insert("link", "<x?page=1>; rel=\"prev\"".parse().unwrap());
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn rate_limit_detection() {
        let mut r = Response {
            status: 403,
            headers: HeaderMap::new(),
            body: "{\"message\":\"Resource not accessible by integration\"}".into(),
        };
        assert_eq!(rate_limited(&r), None);
        r.headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(rate_limited(&r), Some(Duration::from_secs(2)));
        r.headers.clear();
        r.headers
            .insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert!(rate_limited(&r).is_some());
        assert!(matches!(
            error_of(&Response {
                status: 403,
                headers: HeaderMap::new(),
                body: "{\"message\":\"no\"}".into()
            }),
            ApiError::Forbidden { .. }
        ));
    }
}
