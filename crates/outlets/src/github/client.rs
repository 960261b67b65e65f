//! A small GitHub REST client: octocrab as the transport, with pr-risk's own bounded retries
//! ([`crate::http::Policy::GITHUB`]).
//!
//! Retried: rate limits (`429`, or `403` with `x-ratelimit-remaining: 0` or `retry-after`) — the
//! request was not processed, so even a create is safe to repeat — after waiting for
//! `retry-after` / `x-ratelimit-reset` (at most the policy's `max_wait`); 5xx and transport errors
//! only for requests the caller marks as safe to repeat.
//!
//! Bounded in time like the cloud client: each request, body included, ends within the policy's
//! `request_timeout` (a server that trickles one byte at a time never trips a read timeout), and
//! every request, retry and wait of one client ends by its deadline ([`GitHub::with_deadline`]).
//! Nothing leaves the API's origin: octocrab's redirect following is not compiled in, and a
//! pagination link to another origin is refused. A token that cannot be sent in a header is
//! refused before octocrab sees it (octocrab panics on one).

use std::time::{Duration, Instant, SystemTime};

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
    /// `GITHUB_API_URL`: links are followed only on its origin and under its path.
    base: http::Uri,
    /// Every request, retry and wait ends by then.
    deadline: Option<Instant>,
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
    /// One request did not complete (answer and body) within its time.
    #[error("the GitHub API did not answer within {0} s (the request deadline)")]
    Timeout(u64),
    /// The client's deadline passed: no more requests.
    #[error("the deadline for the GitHub API passed (`github.timeout-seconds`); no more requests are sent")]
    Deadline,
    /// A link (pagination) pointing away from the API's origin.
    #[error(
        "the API pointed to another origin ({0}); pr-risk never follows a link to another origin"
    )]
    OtherOrigin(String),
}

impl ApiError {
    /// True when the request may have been processed although it failed (5xx, lost connection).
    pub fn may_have_landed(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if *status >= 500)
            || matches!(self, ApiError::Transport(_) | ApiError::Timeout(_))
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
        if !token.header_safe() {
            return Err(ApiError::Setup(
                "the GitHub token (the `github-token` input or GITHUB_TOKEN) has a character that cannot be sent in an HTTP header (a control character, a space or a non-ASCII character); check the secret's value".into(),
            ));
        }
        let base: http::Uri = api_url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| ApiError::Setup(format!("GITHUB_API_URL `{api_url}`: {e}")))?;
        if base.scheme().is_none() || base.authority().is_none() {
            return Err(ApiError::Setup(format!(
                "GITHUB_API_URL `{api_url}` is not an absolute http(s) URL"
            )));
        }
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
            base,
            deadline: None,
        })
    }

    /// Every request, retry and wait of this client ends within `budget` from now.
    pub fn with_deadline(mut self, budget: Duration) -> GitHub {
        self.deadline = Some(Instant::now() + budget);
        self
    }

    /// Time left before the deadline (`None`: no deadline).
    fn left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Sleep `wait` unless that ends after the deadline (then the deadline error).
    async fn wait(&self, wait: Duration) -> Result<(), ApiError> {
        if self.left().is_some_and(|left| wait >= left) {
            return Err(ApiError::Deadline);
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// `path` as a request target: a path on the API, or an absolute URL on the API's origin
    /// and under its path (a `Link` header's); anything else is refused.
    fn target(&self, path: &str) -> Result<http::Uri, ApiError> {
        let uri: http::Uri = path
            .parse()
            .map_err(|e| ApiError::Setup(format!("bad request path {path}: {e}")))?;
        if uri.scheme().is_none() && uri.authority().is_none() {
            return Ok(uri);
        }
        let same_origin = uri.scheme() == self.base.scheme()
            && uri.authority() == self.base.authority()
            && uri
                .path()
                .starts_with(self.base.path().trim_end_matches('/'));
        if !same_origin {
            let origin = format!(
                "{}://{}",
                uri.scheme_str().unwrap_or("?"),
                uri.authority().map(|a| a.as_str()).unwrap_or("?")
            );
            return Err(ApiError::OtherOrigin(origin));
        }
        Ok(uri)
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
                Err(e @ (ApiError::Deadline | ApiError::OtherOrigin(_) | ApiError::Setup(_))) => {
                    return Err(e)
                }
                Err(e) => {
                    if !repeatable || last {
                        return Err(e);
                    }
                    tracing::warn!("{method} {path}: {e}; retrying");
                    self.wait(self.policy.backoff(attempt)).await?;
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
                        self.wait(wait).await?;
                        continue;
                    }
                    if r.status >= 500 && repeatable && !last {
                        tracing::warn!("{method} {path}: HTTP {}; retrying", r.status);
                        self.wait(self.policy.backoff(attempt)).await?;
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
        let uri = self.target(path)?;
        let limit = match self.left() {
            Some(left) if left.is_zero() => return Err(ApiError::Deadline),
            Some(left) => left.min(self.policy.request_timeout),
            None => self.policy.request_timeout,
        };
        // Whatever goes to GitHub passes the secret scrubber (no other secret in a comment).
        let body = body.map(scrubbed);
        let exchange = async {
            let resp = match method {
                "GET" => self.octo._get(uri).await,
                "POST" => self.octo._post(uri, body.as_ref()).await,
                "PATCH" => self.octo._patch(uri, body.as_ref()).await,
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
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) if self.left().is_some_and(|l| l.is_zero()) => Err(ApiError::Deadline),
            Err(_) => Err(ApiError::Timeout(limit.as_secs().max(1))),
        }
    }
}

/// A JSON value with every string passed through [`crate::secret::scrub`].
fn scrubbed(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(crate::secret::scrub(s)),
        Value::Array(a) => Value::Array(a.iter().map(scrubbed).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), scrubbed(v))).collect())
        }
        other => other.clone(),
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
