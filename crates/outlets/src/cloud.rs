//! The Massu cloud REST API: send every result (`POST {api-url}/api/v1/risk/prs`, [`sync`]), and
//! read the records back (`GET` on the same endpoint, [`get`]: `pr-risk cloud check` and
//! `pr-risk cloud list`).
//!
//! The API URL is the site's base (`https://massu.ai`), and the endpoint paths are appended to it
//! ([`records_url`]); a base that already ends in `/api/v1` (copied from the REST reference) is
//! accepted as the same thing.
//!
//! Reliable and safe: rustls (no system OpenSSL), connect and per-request timeouts inside one
//! bounded total budget, exponential backoff with jitter on connection errors and 5xx, `429`
//! honoured through `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset`, and an
//! `Idempotency-Key` derived from repository, PR number and head sha so that a retry or a re-run
//! of the same commit never creates a second record. The API key is a [`Secret`]: it never appears
//! in a log line or an error.
//!
//! A failed sync is an outlet failure: it never changes the gate and never loses the report.

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::http::{rate_limit, sleep_within, Policy};
use crate::secret::Secret;
use engine::report::{GateReason, Mode, Override, Report, Verdict};
use engine::score::coupling::rules::Severity as CouplingSeverity;
use engine::score::security::rules::Severity as SecuritySeverity;
use engine::score::{Dimension, Rating};

/// The production API (its base URL: the records live at `https://massu.ai/api/v1/risk/prs`).
pub const DEFAULT_API_URL: &str = "https://massu.ai";
/// The records endpoint, relative to the API URL.
pub const RECORDS_PATH: &str = "/api/v1/risk/prs";

/// The records endpoint under `api_url`: `{api_url}/api/v1/risk/prs`, where a trailing `/` and a
/// trailing `/api/v1` of `api_url` are dropped first (`https://massu.ai/api/v1` is the same API as
/// `https://massu.ai`).
pub fn records_url(api_url: &str) -> String {
    let base = api_url.trim().trim_end_matches('/');
    let base = base.strip_suffix("/api/v1").unwrap_or(base);
    format!("{base}{RECORDS_PATH}")
}
/// Findings and violations sent per record (the counts are always complete).
pub const MAX_ITEMS: usize = 100;
/// Version of the record layout.
pub const RECORD_VERSION: u32 = 1;

/// `.pr-risk.yml` → `cloud:`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct CloudSettings {
    /// Base URL of the Massu API (the `api-url` input and `MASSU_API_URL` override it).
    pub api_url: Option<String>,
    /// A failed sync fails the run (for teams that need the audit trail).
    pub sync_required: bool,
    /// Total time budget of one sync, all retries and waits included (seconds).
    pub timeout_seconds: f64,
}

impl Default for CloudSettings {
    fn default() -> Self {
        CloudSettings {
            api_url: None,
            sync_required: false,
            timeout_seconds: 60.0,
        }
    }
}

impl CloudSettings {
    /// Checked when the configuration is read (the error gets file and line there).
    pub fn validate(&self) -> Result<(), String> {
        let t = self.timeout_seconds;
        if !(t.is_finite() && t > 0.0 && t <= 3600.0) {
            return Err(format!(
                "`cloud.timeout-seconds` must be a number of seconds above 0 and at most 3600, got {t}"
            ));
        }
        Ok(())
    }

    /// The total budget of one sync.
    pub fn budget(&self) -> Duration {
        if self.validate().is_ok() {
            Duration::from_secs_f64(self.timeout_seconds)
        } else {
            Duration::from_secs(60)
        }
    }
}

/// Where the record belongs: facts the report does not hold.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Origin {
    /// `owner/name`.
    pub repo: String,
    pub pr_number: Option<u64>,
    pub pr_title: Option<String>,
    pub head_ref: Option<String>,
}

/// The record sent to the API (documented in docs/github-action.md, "Cloud sync"): typed, so a
/// field the report renames cannot silently become `null` here.
#[derive(Debug, Clone, Serialize)]
pub struct Record<'a> {
    pub record_version: u32,
    pub repo: &'a str,
    pub pr_number: Option<u64>,
    pub pr_title: Option<&'a str>,
    pub risk_score: Option<u8>,
    pub rating: Option<Rating>,
    /// The change is blocked (the check failed).
    pub blocked: bool,
    /// The effective threshold.
    pub threshold: u8,
    /// `gate` or `advisory`.
    pub mode: Mode,
    /// `pass`, `blocked`, `overridden` or `advisory`.
    pub verdict: Verdict,
    /// The rules say block, whether or not that was enforced.
    pub would_block: bool,
    /// The override label and who applied it, when the pull request carries it.
    #[serde(rename = "override")]
    pub override_: Option<&'a Override>,
    /// Why it blocked (or would have, or nearly did): the gate's coded reasons.
    pub reasons: &'a [GateReason],
    pub impact_score: Option<u8>,
    pub regression_score: Option<u8>,
    pub security_score: Option<u8>,
    pub coupling_score: Option<u8>,
    pub files_changed: usize,
    pub additions: u32,
    pub deletions: u32,
    pub base_sha: &'a str,
    pub head_sha: &'a str,
    pub merge_base_sha: &'a str,
    pub head_ref: Option<&'a str>,
    pub dimensions: RecordDimensions,
    pub findings: Capped<RecordFinding<'a>>,
    pub violations: Capped<RecordViolation<'a>>,
    pub tool: RecordTool,
}

/// Each dimension's availability, score and weight.
#[derive(Debug, Clone, Serialize)]
pub struct RecordDimensions {
    pub impact: RecordDimension,
    pub regression: RecordDimension,
    pub security: RecordDimension,
    pub coupling: RecordDimension,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordDimension {
    pub available: bool,
    pub score: Option<u8>,
    pub weight: f64,
    pub reason: Option<String>,
}

impl<E> From<&Dimension<E>> for RecordDimension {
    fn from(d: &Dimension<E>) -> RecordDimension {
        RecordDimension {
            available: d.available,
            score: d.score,
            weight: d.weight,
            reason: d.reason.clone(),
        }
    }
}

/// A new security finding, reduced to what the API keeps.
#[derive(Debug, Clone, Serialize)]
pub struct RecordFinding<'a> {
    pub rule: &'a str,
    pub severity: SecuritySeverity,
    pub path: &'a str,
    pub line: u32,
    pub message: &'a str,
    pub cwe: &'a str,
}

/// An introduced coupling violation, reduced to what the API keeps.
#[derive(Debug, Clone, Serialize)]
pub struct RecordViolation<'a> {
    pub rule: &'a str,
    pub severity: CouplingSeverity,
    pub from: &'a str,
    pub line: u32,
    pub to: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordTool {
    pub name: &'static str,
    pub version: &'static str,
}

/// `{ total, truncated, items }` with at most [`MAX_ITEMS`] items.
#[derive(Debug, Clone, Serialize)]
pub struct Capped<T> {
    pub total: usize,
    pub truncated: bool,
    pub items: Vec<T>,
}

impl<T> Capped<T> {
    fn of(total: usize, items: impl Iterator<Item = T>) -> Capped<T> {
        Capped {
            total,
            truncated: total > MAX_ITEMS,
            items: items.take(MAX_ITEMS).collect(),
        }
    }
}

/// The record of `report` for `origin`.
pub fn record<'a>(report: &'a Report, origin: &'a Origin) -> Record<'a> {
    let d = &report.dimensions;
    let findings = &d.security.evidence.new;
    let violations = &d.coupling.evidence.introduced;
    Record {
        record_version: RECORD_VERSION,
        repo: &origin.repo,
        pr_number: origin.pr_number,
        pr_title: origin.pr_title.as_deref(),
        risk_score: report.composite.score,
        rating: report.composite.rating,
        blocked: report.gate.blocked,
        threshold: report.gate.threshold,
        mode: report.gate.mode,
        verdict: report.gate.verdict,
        would_block: report.gate.would_block,
        override_: report.gate.override_.as_ref(),
        reasons: &report.gate.reasons,
        impact_score: d.impact.score,
        regression_score: d.regression.score,
        security_score: d.security.score,
        coupling_score: d.coupling.score,
        files_changed: report.change.files_changed,
        additions: report.change.additions,
        deletions: report.change.deletions,
        base_sha: &report.revisions.base.sha,
        head_sha: &report.revisions.head.sha,
        merge_base_sha: &report.revisions.merge_base,
        head_ref: origin.head_ref.as_deref(),
        dimensions: RecordDimensions {
            impact: (&d.impact).into(),
            regression: (&d.regression).into(),
            security: (&d.security).into(),
            coupling: (&d.coupling).into(),
        },
        findings: Capped::of(
            findings.len(),
            findings.iter().map(|f| RecordFinding {
                rule: &f.rule,
                severity: f.severity,
                path: &f.path,
                line: f.line,
                message: &f.message,
                cwe: &f.cwe,
            }),
        ),
        violations: Capped::of(
            violations.len(),
            violations.iter().map(|v| RecordViolation {
                rule: &v.rule,
                severity: v.severity,
                from: &v.from,
                line: v.line,
                to: &v.to,
            }),
        ),
        tool: RecordTool {
            name: report.tool.name,
            version: report.tool.version,
        },
    }
}

/// `sha256("pr-risk/v1\n{repo}\n{pr}\n{head_sha}")` in hex: the same commit of the same PR always
/// maps to the same key, so the API can answer a re-run with the record it already has. An
/// override that lets a block pass is a new fact about the same commit: its key adds
/// `"\noverridden:{label}:{actor or -}"`, so the record of the override is not taken for the
/// earlier one of the block.
pub fn idempotency_key(
    repo: &str,
    pr_number: Option<u64>,
    head_sha: &str,
    overridden: Option<&Override>,
) -> String {
    let pr = pr_number
        .map(|n| n.to_string())
        .unwrap_or_else(|| "-".into());
    let mut text = format!("pr-risk/v1\n{repo}\n{pr}\n{head_sha}");
    if let Some(o) = overridden {
        text.push_str(&format!(
            "\noverridden:{}:{}",
            o.label,
            o.actor.as_deref().unwrap_or("-")
        ));
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `owner/name` from a remote URL (`git@github.com:o/r.git`, `https://github.com/o/r`).
pub fn repo_from_remote(url: &str) -> Option<String> {
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else {
        url.split_once(':')?.1
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let mut parts = path.rsplit('/');
    let name = parts.next()?;
    let owner = parts.next()?;
    (!owner.is_empty() && !name.is_empty()).then(|| format!("{owner}/{name}"))
}

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct Client {
    pub api_url: String,
    pub key: Secret,
    /// Total budget of one sync, retries included.
    pub budget: Duration,
    /// Retries, backoff and timeouts (one request is also bounded by what is left of the
    /// budget).
    pub policy: Policy,
}

impl Client {
    pub fn new(api_url: &str, key: Secret, budget: Duration) -> Client {
        Client {
            api_url: api_url.trim_end_matches('/').to_string(),
            key,
            budget,
            policy: Policy::CLOUD,
        }
    }
}

/// A successful sync.
#[derive(Debug, Clone)]
pub struct Synced {
    pub status: u16,
    /// The record id the API assigned (when its answer names one).
    pub id: Option<String>,
    pub attempts: u32,
}

/// Why a sync failed, in words a user can act on. Never contains the key.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the Massu API key was rejected (401 Unauthorized): it is invalid or has been revoked\n  hint: create a new key in the Massu dashboard and store it as the MASSU_API_KEY secret")]
    Unauthorized,
    #[error("the Massu API key lacks the permission to write PR risk records (403 Forbidden){0}\n  hint: create a key with the `risk:write` scope")]
    Forbidden(String),
    #[error("the Massu API rejected the record ({status}{code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the Massu API is unavailable: {last} after {attempts} attempt(s) within the {budget:.0} s budget")]
    Unavailable {
        last: String,
        attempts: u32,
        budget: f64,
    },
    #[error("the Massu API answered {status} but its body is not the expected JSON ({detail}); the record may have been stored, and a re-run is safe (same Idempotency-Key)")]
    Malformed { status: u16, detail: String },
    #[error("invalid Massu API URL `{0}`\n  hint: set `api-url` / MASSU_API_URL to e.g. https://massu.ai")]
    BadUrl(String),
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
    #[error("the Massu API answered {status} with a redirect to another origin ({location}); pr-risk never sends the record to another host\n  hint: set `api-url` / MASSU_API_URL to the URL the API is served from")]
    Redirected { status: u16, location: String },
}

/// Send one record, retrying what is worth retrying within the budget.
pub async fn sync(
    client: &Client,
    record: &Record<'_>,
    idempotency_key: &str,
) -> Result<Synced, SyncError> {
    let url = records_url(&client.api_url);
    let http = http_client(client, &url).map_err(|e| match e {
        SetupError::BadUrl(u) => SyncError::BadUrl(u),
        SetupError::Setup(m) => SyncError::Setup(m),
    })?;
    let body = serde_json::to_string(record).map_err(|e| SyncError::Setup(e.to_string()))?;
    // Whatever leaves passes the secret scrubber (the GitHub token never reaches the cloud).
    let body = crate::secret::scrub(&body).into_bytes();
    let start = Instant::now();
    let mut attempts = 0u32;
    let mut last = String::from("no attempt made");
    let unavailable = |last: String, attempts: u32| SyncError::Unavailable {
        last,
        attempts,
        budget: client.budget.as_secs_f64(),
    };
    loop {
        let left = client.budget.saturating_sub(start.elapsed());
        if left.is_zero() || attempts >= client.policy.max_attempts {
            return Err(unavailable(last, attempts));
        }
        attempts += 1;
        tracing::info!(attempt = attempts, %url, "syncing the report to the Massu cloud");
        let sent = http
            .post(&url)
            .timeout(client.policy.request_timeout.min(left))
            .header("authorization", format!("Bearer {}", client.key.expose()))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("idempotency-key", idempotency_key)
            .body(body.clone())
            .send()
            .await;
        let wait = match sent {
            Err(e) => {
                last = describe_transport(&e);
                tracing::warn!("Massu sync attempt {attempts} failed: {last}");
                client.policy.backoff(attempts)
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let text = match resp.text().await {
                    Ok(t) => t,
                    Err(e) => {
                        last = format!("reading the answer: {}", describe_transport(&e));
                        let w = client.policy.backoff(attempts);
                        if !sleep_within(start, client.budget, w).await {
                            return Err(unavailable(last, attempts));
                        }
                        continue;
                    }
                };
                let text = client.key.scrub(&text);
                match status {
                    200..=299 => {
                        let v: Value =
                            serde_json::from_str(&text).map_err(|e| SyncError::Malformed {
                                status,
                                detail: e.to_string(),
                            })?;
                        if !v.is_object() {
                            return Err(SyncError::Malformed {
                                status,
                                detail: "expected a JSON object".into(),
                            });
                        }
                        let id = match &v["id"] {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        };
                        return Ok(Synced {
                            status,
                            id,
                            attempts,
                        });
                    }
                    300..=399 => {
                        let location = headers
                            .get("location")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("no Location header")
                            .to_string();
                        return Err(SyncError::Redirected { status, location });
                    }
                    401 => return Err(SyncError::Unauthorized),
                    403 => {
                        let m = envelope(&text)
                            .map(|(m, _)| format!(": {m}"))
                            .unwrap_or_default();
                        return Err(SyncError::Forbidden(m));
                    }
                    429 => {
                        last = "429 Too Many Requests".into();
                        rate_limit(status, &headers, SystemTime::now())
                            .flatten()
                            .unwrap_or_else(|| client.policy.backoff(attempts))
                    }
                    500..=599 => {
                        last = match envelope(&text) {
                            Some((m, _)) => format!("{status}: {m}"),
                            None => format!("HTTP {status}"),
                        };
                        client.policy.backoff(attempts)
                    }
                    _ => {
                        let (message, code) = envelope(&text).unwrap_or_else(|| {
                            (
                                format!("HTTP {status} without an error envelope"),
                                String::new(),
                            )
                        });
                        return Err(SyncError::Rejected {
                            status,
                            code: if code.is_empty() {
                                String::new()
                            } else {
                                format!(" {code}")
                            },
                            message,
                        });
                    }
                }
            }
        };
        if !sleep_within(start, client.budget, wait).await {
            let why = format!(
                "{last}; the next try (in {:.0} s) would exceed the budget",
                wait.as_secs_f64()
            );
            return Err(unavailable(why, attempts));
        }
    }
}

/// Why a client could not be built.
enum SetupError {
    BadUrl(String),
    Setup(String),
}

/// `(scheme, host, port)` of a URL: what "the same origin" compares.
fn origin(u: &reqwest::Url) -> (String, Option<String>, Option<u16>) {
    (
        u.scheme().to_string(),
        u.host_str().map(str::to_string),
        u.port_or_known_default(),
    )
}

/// The HTTP client for `url` (the endpoint under `client.api_url`): rustls, the policy's connect
/// timeout, and redirects followed only on the API's own origin — a 307/308 would re-send the
/// request (reqwest would re-send it without the key) to whatever host it names. The key must be
/// sendable in a header.
fn http_client(client: &Client, url: &str) -> Result<reqwest::Client, SetupError> {
    if !(client.api_url.starts_with("https://") || client.api_url.starts_with("http://")) {
        return Err(SetupError::BadUrl(client.api_url.clone()));
    }
    if !client.key.header_safe() {
        return Err(SetupError::Setup(
            "the Massu API key (the `massu-api-key` input or MASSU_API_KEY) has a character that cannot be sent in an HTTP header (a control character, a space or a non-ASCII character); check the secret's value".into(),
        ));
    }
    let home = reqwest::Url::parse(url)
        .map(|u| origin(&u))
        .map_err(|e| SetupError::BadUrl(format!("{} ({e})", client.api_url)))?;
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() < 5 && origin(attempt.url()) == home {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    reqwest::Client::builder()
        .redirect(redirects)
        .connect_timeout(client.policy.connect_timeout)
        .user_agent(format!("pr-risk/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SetupError::Setup(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Reading the records back: `pr-risk cloud check` and `pr-risk cloud list`.

/// `GET /api/v1/risk/prs` filters (`pr-risk cloud list`); `None` leaves a filter out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// `owner/name`.
    pub repo: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub rating: Option<String>,
    /// Records per page (1–100).
    pub per_page: u32,
    /// 1-based page number.
    pub page: u32,
}

impl ListQuery {
    /// The endpoint URL with the query: `?repo=…&rating=…&per_page=N&page=P` (filters first, in
    /// that order; `page` left out for page 1).
    pub fn url(&self, api_url: &str) -> Result<String, ReadError> {
        let mut url = reqwest::Url::parse(&records_url(api_url))
            .map_err(|e| ReadError::BadUrl(format!("{api_url} ({e})")))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(r) = &self.repo {
                q.append_pair("repo", r);
            }
            if let Some(r) = &self.rating {
                q.append_pair("rating", r);
            }
            q.append_pair("per_page", &self.per_page.to_string());
            if self.page > 1 {
                q.append_pair("page", &self.page.to_string());
            }
        }
        Ok(url.to_string())
    }
}

/// One answer of the records endpoint.
#[derive(Debug, Clone)]
pub struct Listed {
    pub status: u16,
    /// The records of this page, as the API sent them.
    pub records: Vec<Value>,
    /// The `rel="next"` link of a `Link` header (already checked to be on the API's origin).
    pub next: Option<String>,
    /// The rate-limit headers (`x-ratelimit-*`, `ratelimit-*`, `retry-after`), names lower-cased,
    /// in the order the API sent them.
    pub rate_limit: Vec<(String, String)>,
    pub attempts: u32,
}

/// Why reading the records failed. Never contains the key.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the Massu API key was rejected (401 Unauthorized): it is invalid or has been revoked\n  hint: create a new key in the Massu dashboard and export it as MASSU_API_KEY")]
    Unauthorized,
    #[error("the Massu API key may not read PR risk records (403 Forbidden){0}\n  hint: use a key with the `risk:read` scope")]
    Forbidden(String),
    #[error("the Massu API refused the request ({status}{code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the Massu API is unavailable: {last} after {attempts} attempt(s) within the {budget:.0} s budget")]
    Unavailable {
        last: String,
        attempts: u32,
        budget: f64,
    },
    #[error(
        "the Massu API answered {status} with a body that is not the expected JSON ({detail})"
    )]
    Malformed { status: u16, detail: String },
    #[error("invalid Massu API URL `{0}`\n  hint: set `--api-url` / MASSU_API_URL to e.g. https://massu.ai")]
    BadUrl(String),
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
    #[error("the Massu API answered {status} with a redirect to another origin ({location}); pr-risk never sends the key to another host\n  hint: set `--api-url` / MASSU_API_URL to the URL the API is served from")]
    Redirected { status: u16, location: String },
    #[error(
        "the Massu API's next-page link points to another origin ({0}); pr-risk never follows it"
    )]
    OtherOrigin(String),
}

impl ReadError {
    /// The API itself said the key does not work (as opposed to not answering).
    pub fn key_refused(&self) -> bool {
        matches!(self, ReadError::Unauthorized | ReadError::Forbidden(_))
    }
}

/// `GET url` (the records endpoint with a query, or a next-page link on the API's origin) with
/// the key, retrying connection errors, 5xx and 429 within the client's budget.
pub async fn get(client: &Client, url: &str) -> Result<Listed, ReadError> {
    let http = http_client(client, &records_url(&client.api_url)).map_err(|e| match e {
        SetupError::BadUrl(u) => ReadError::BadUrl(u),
        SetupError::Setup(m) => ReadError::Setup(m),
    })?;
    let home = reqwest::Url::parse(&records_url(&client.api_url))
        .map_err(|e| ReadError::BadUrl(format!("{} ({e})", client.api_url)))?;
    let target = reqwest::Url::parse(url).map_err(|e| ReadError::BadUrl(format!("{url} ({e})")))?;
    if origin(&target) != origin(&home) {
        return Err(ReadError::OtherOrigin(format!(
            "{}://{}",
            target.scheme(),
            target.host_str().unwrap_or("?")
        )));
    }
    let start = Instant::now();
    let mut attempts = 0u32;
    let mut last = String::from("no attempt made");
    let unavailable = |last: String, attempts: u32| ReadError::Unavailable {
        last,
        attempts,
        budget: client.budget.as_secs_f64(),
    };
    loop {
        let left = client.budget.saturating_sub(start.elapsed());
        if left.is_zero() || attempts >= client.policy.max_attempts {
            return Err(unavailable(last, attempts));
        }
        attempts += 1;
        let sent = http
            .get(target.clone())
            .timeout(client.policy.request_timeout.min(left))
            .header("authorization", format!("Bearer {}", client.key.expose()))
            .header("accept", "application/json")
            .send()
            .await;
        let wait = match sent {
            Err(e) => {
                last = describe_transport(&e);
                client.policy.backoff(attempts)
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let text = match resp.text().await {
                    Ok(t) => client.key.scrub(&t),
                    Err(e) => {
                        last = format!("reading the answer: {}", describe_transport(&e));
                        let w = client.policy.backoff(attempts);
                        if !sleep_within(start, client.budget, w).await {
                            return Err(unavailable(last, attempts));
                        }
                        continue;
                    }
                };
                match status {
                    200..=299 => {
                        let records = records_of(&text)
                            .map_err(|detail| ReadError::Malformed { status, detail })?;
                        let next = match next_link(&headers) {
                            None => None,
                            Some(link) => {
                                let u = target.join(&link).map_err(|e| ReadError::Malformed {
                                    status,
                                    detail: format!("the next-page link `{link}`: {e}"),
                                })?;
                                if origin(&u) != origin(&home) {
                                    return Err(ReadError::OtherOrigin(format!(
                                        "{}://{}",
                                        u.scheme(),
                                        u.host_str().unwrap_or("?")
                                    )));
                                }
                                Some(u.to_string())
                            }
                        };
                        return Ok(Listed {
                            status,
                            records,
                            next,
                            rate_limit: rate_limit_headers(&headers),
                            attempts,
                        });
                    }
                    300..=399 => {
                        let location = headers
                            .get("location")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("no Location header")
                            .to_string();
                        return Err(ReadError::Redirected { status, location });
                    }
                    401 => return Err(ReadError::Unauthorized),
                    403 if rate_limit(status, &headers, SystemTime::now()).is_none() => {
                        let m = envelope(&text)
                            .map(|(m, _)| format!(": {m}"))
                            .unwrap_or_default();
                        return Err(ReadError::Forbidden(m));
                    }
                    403 | 429 => {
                        last = format!("{status} (rate limited)");
                        rate_limit(status, &headers, SystemTime::now())
                            .flatten()
                            .unwrap_or_else(|| client.policy.backoff(attempts))
                    }
                    500..=599 => {
                        last = match envelope(&text) {
                            Some((m, _)) => format!("{status}: {m}"),
                            None => format!("HTTP {status}"),
                        };
                        client.policy.backoff(attempts)
                    }
                    _ => {
                        let (message, code) = envelope(&text).unwrap_or_else(|| {
                            (
                                format!("HTTP {status} without an error envelope"),
                                String::new(),
                            )
                        });
                        return Err(ReadError::Rejected {
                            status,
                            code: if code.is_empty() {
                                String::new()
                            } else {
                                format!(" {code}")
                            },
                            message,
                        });
                    }
                }
            }
        };
        if !sleep_within(start, client.budget, wait).await {
            let why = format!(
                "{last}; the next try (in {:.0} s) would exceed the budget",
                wait.as_secs_f64()
            );
            return Err(unavailable(why, attempts));
        }
    }
}

/// The records of a list answer: a JSON array, or an object holding one under `data`, `items`
/// or `records` (the envelopes REST APIs commonly use; pr-risk assumes no more than that).
fn records_of(text: &str) -> Result<Vec<Value>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match v {
        Value::Array(a) => Ok(a),
        Value::Object(mut o) => ["data", "items", "records"]
            .iter()
            .find_map(|k| match o.remove(*k) {
                Some(Value::Array(a)) => Some(a),
                _ => None,
            })
            .ok_or_else(|| {
                "expected an array of records, or an object with `data`, `items` or `records`"
                    .to_string()
            }),
        _ => Err("expected an array of records".into()),
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &http::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\"") || p.trim() == "rel=next")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// The headers that describe the plan's rate limit, in the order sent.
fn rate_limit_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            k.starts_with("x-ratelimit-") || k.starts_with("ratelimit") || k == "retry-after"
        })
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The API's error envelope `{"error": "...", "code": "..."}` (also `{"error": {"message", "code"}}`).
fn envelope(text: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let e = v.get("error")?;
    let (message, code) = match e {
        Value::String(s) => (s.clone(), v.get("code")),
        Value::Object(o) => (o.get("message")?.as_str()?.to_string(), o.get("code")),
        _ => return None,
    };
    let code = match code {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Some((message, code))
}

fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        // reqwest errors name the URL, never headers: no key in here.
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(&format!(": {inner}"));
            src = inner.source();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes() {
        assert_eq!(
            repo_from_remote("git@github.com:acme/shop.git").as_deref(),
            Some("acme/shop")
        );
        assert_eq!(
            repo_from_remote("https://github.com/acme/shop").as_deref(),
            Some("acme/shop")
        );
        assert_eq!(repo_from_remote("/tmp/x"), None);
    }

    #[test]
    fn idempotency_key_is_stable_and_distinct() {
        let a = idempotency_key("o/r", Some(7), "abc", None);
        assert_eq!(a, idempotency_key("o/r", Some(7), "abc", None));
        assert_eq!(a.len(), 64);
        assert_ne!(a, idempotency_key("o/r", Some(8), "abc", None));
        assert_ne!(a, idempotency_key("o/r", Some(7), "abd", None));
        let o = Override {
            label: "pr-risk:accepted".into(),
            actor: Some("lead".into()),
            applied: true,
            refused: None,
        };
        let b = idempotency_key("o/r", Some(7), "abc", Some(&o));
        assert_ne!(a, b);
        assert_eq!(b, idempotency_key("o/r", Some(7), "abc", Some(&o)));
    }

    #[test]
    fn urls_join_the_base_and_the_endpoint() {
        for base in [
            "https://massu.ai",
            "https://massu.ai/",
            "https://massu.ai/api/v1",
            "https://massu.ai/api/v1/",
        ] {
            assert_eq!(
                records_url(base),
                "https://massu.ai/api/v1/risk/prs",
                "{base}"
            );
        }
        assert_eq!(
            records_url(DEFAULT_API_URL),
            "https://massu.ai/api/v1/risk/prs"
        );
        assert_eq!(
            records_url("http://127.0.0.1:9/massu"),
            "http://127.0.0.1:9/massu/api/v1/risk/prs"
        );
        let q = ListQuery {
            repo: Some("acme/shop".into()),
            rating: Some("high".into()),
            per_page: 20,
            page: 2,
        };
        assert_eq!(
            q.url("https://massu.ai").unwrap(),
            "https://massu.ai/api/v1/risk/prs?repo=acme%2Fshop&rating=high&per_page=20&page=2"
        );
    }

    #[test]
    fn list_answers() {
        assert_eq!(records_of("[{\"a\":1}]").unwrap().len(), 1);
        assert_eq!(records_of("{\"data\":[1,2]}").unwrap().len(), 2);
        assert!(records_of("{\"total\":3}").is_err());
        assert!(records_of("<html>").is_err());
        let mut h = http::HeaderMap::new();
        h.insert(
            "link",
            "</api/v1/risk/prs?page=3>; rel=\"next\", </api/v1/risk/prs?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        h.insert("x-ratelimit-limit", "600".parse().unwrap());
        h.insert("content-type", "application/json".parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("/api/v1/risk/prs?page=3"));
        assert_eq!(
            rate_limit_headers(&h),
            vec![("x-ratelimit-limit".to_string(), "600".to_string())]
        );
    }

    #[test]
    fn envelopes() {
        assert_eq!(
            envelope(r#"{"error":"pr_number must be positive","code":"validation_failed"}"#),
            Some((
                "pr_number must be positive".into(),
                "validation_failed".into()
            ))
        );
        assert_eq!(
            envelope(r#"{"error":{"message":"nope","code":42}}"#),
            Some(("nope".into(), "42".into()))
        );
        assert_eq!(envelope("<html>"), None);
    }
}
