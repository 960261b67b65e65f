//! The OSV client: known vulnerabilities of package versions, from the OSV API
//! (<https://google.github.io/osv.dev/api/>) or a mirror of it (`security.osv-url`).
//!
//! It implements the engine's [`Advisories`] trait (the engine has no HTTP):
//!
//! 1. `POST {url}/v1/querybatch` with `{"queries": [{"package": {"name", "ecosystem"},
//!    "version"}, …]}`, at most [`BATCH_LIMIT`] queries per request (the API's limit). The
//!    answer lists, per query and in the same order, the ids of the vulnerabilities that affect
//!    the version; a result with a `next_page_token` is asked again with `page_token` until it
//!    has none.
//! 2. `GET {url}/v1/vulns/{id}` once per distinct id (a few at a time), for the summary, the
//!    aliases, the fixed versions of the package and the severity.
//! 3. Severity: the CVSS v3.x base score of the advisory's `CVSS_V3` vector, computed here
//!    ([`cvss`]), mapped critical ≥ 9.0 > high ≥ 7.0 > medium ≥ 4.0 > low; without a v3 vector the
//!    database's own word (`database_specific.severity`, GitHub's `CRITICAL`/`HIGH`/`MODERATE`/
//!    `LOW`; or the affected package's); without either, medium, and the advisory says so
//!    (`severity_from`).
//!
//! Every request has a deadline and goes through the shared policy ([`crate::http::Policy::OSV`]:
//! retries with backoff on connection errors, 5xx and 429) inside one total budget. An answer
//! that cannot be had is an error, never an empty list: the pipeline turns it into a note that the
//! check did not run. Answers are cached by the pipeline (the engine's `osv` cache, a day).

pub mod cvss;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{rate_limit, sleep_within, Policy};
use engine::deps::advisories::{
    Advisories, Advisory, AdvisoryError, PackageVersion, Severity, DEFAULT_OSV_URL,
};

/// The API's limit of queries in one `querybatch` request.
pub const BATCH_LIMIT: usize = 1000;
/// Advisory details fetched at the same time.
pub const CONCURRENT_DETAILS: usize = 8;
/// Rounds of `next_page_token` follow-ups at most.
const MAX_PAGES: usize = 20;

/// An OSV API endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    /// Base URL, without a trailing slash.
    pub url: String,
    pub policy: Policy,
    /// Total time of one [`Advisories::query`], retries and waits included.
    pub budget: Duration,
    pub batch_size: usize,
}

impl Default for Client {
    fn default() -> Self {
        Client::new(DEFAULT_OSV_URL)
    }
}

impl Client {
    pub fn new(url: &str) -> Client {
        Client {
            url: url.trim_end_matches('/').to_string(),
            policy: Policy::OSV,
            budget: Duration::from_secs(30),
            batch_size: BATCH_LIMIT,
        }
    }

    async fn run(&self, packages: &[PackageVersion]) -> Result<Vec<Vec<Advisory>>, String> {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(format!("`{}` is not an http(s) URL", self.url));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.policy.connect_timeout)
            .user_agent(format!("pr-risk/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not set up the HTTP client: {e}"))?;
        let start = Instant::now();
        let call = Call {
            client: self,
            http: &http,
            start,
        };
        // 1. Which vulnerabilities affect which version.
        let mut ids: Vec<Vec<String>> = vec![Vec::new(); packages.len()];
        let mut pending: Vec<(usize, Option<String>)> =
            (0..packages.len()).map(|i| (i, None)).collect();
        for _ in 0..MAX_PAGES {
            if pending.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for chunk in pending.chunks(self.batch_size.clamp(1, BATCH_LIMIT)) {
                let queries: Vec<Value> = chunk
                    .iter()
                    .map(|(i, token)| {
                        let p = &packages[*i];
                        let mut q = json!({
                            "package": {"name": p.name, "ecosystem": p.ecosystem.osv_name()},
                            "version": p.version,
                        });
                        if let Some(t) = token {
                            q["page_token"] = json!(t);
                        }
                        q
                    })
                    .collect();
                let body = json!({ "queries": queries });
                let answer: BatchAnswer = call
                    .json("POST", "/v1/querybatch", Some(&body))
                    .await
                    .and_then(|v| {
                        serde_json::from_value(v).map_err(|e| {
                            format!(
                                "POST /v1/querybatch: the answer is not the expected JSON ({e})"
                            )
                        })
                    })?;
                if answer.results.len() != chunk.len() {
                    return Err(format!(
                        "POST /v1/querybatch: {} results for {} queries",
                        answer.results.len(),
                        chunk.len()
                    ));
                }
                for ((i, _), r) in chunk.iter().zip(answer.results) {
                    for v in r.vulns {
                        if !ids[*i].contains(&v.id) {
                            ids[*i].push(v.id);
                        }
                    }
                    if let Some(t) = r.next_page_token.filter(|t| !t.is_empty()) {
                        next.push((*i, Some(t)));
                    }
                }
            }
            pending = next;
        }
        if !pending.is_empty() {
            return Err(format!(
                "more than {MAX_PAGES} pages of results for {} queries",
                pending.len()
            ));
        }
        // 2. Details, once per id.
        let distinct: BTreeSet<String> = ids.iter().flatten().cloned().collect();
        let mut details: BTreeMap<String, Value> = BTreeMap::new();
        let distinct: Vec<String> = distinct.into_iter().collect();
        for group in distinct.chunks(CONCURRENT_DETAILS) {
            let fetched = futures_join(group.iter().map(|id| {
                let path = format!("/v1/vulns/{}", url_segment(id));
                let call = &call;
                async move { (id.clone(), call.json("GET", &path, None).await) }
            }))
            .await;
            for (id, r) in fetched {
                match r {
                    Ok(v) => {
                        details.insert(id, v);
                    }
                    // A withdrawn or unknown id: known to affect the version, details unknown.
                    Err(e) if e.contains("answered 404") => {
                        details.insert(id, Value::Null);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        // 3. Advisories per version.
        Ok(packages
            .iter()
            .zip(ids)
            .map(|(p, ids)| {
                let mut list: Vec<Advisory> = ids
                    .iter()
                    .map(|id| advisory(id, details.get(id).unwrap_or(&Value::Null), p))
                    .collect();
                list.sort_by(|a, b| a.id.cmp(&b.id));
                list
            })
            .collect())
    }
}

impl Advisories for Client {
    fn source(&self) -> String {
        self.url.clone()
    }

    fn query(&self, packages: &[PackageVersion]) -> Result<Vec<Vec<Advisory>>, AdvisoryError> {
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        match crate::http::block_on(self.run(packages)) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) | Err(e) => Err(AdvisoryError(e)),
        }
    }
}

/// Run futures together (a handful at a time is all this needs; no extra dependency).
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_some() {
                continue;
            }
            match f.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => out[i] = Some(v),
                std::task::Poll::Pending => done = false,
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// An id as one URL path segment (OSV ids are `[A-Za-z0-9-_.:]`; anything else is escaped).
fn url_segment(id: &str) -> String {
    let mut s = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    results: Vec<BatchResult>,
}

#[derive(Deserialize, Default)]
struct BatchResult {
    #[serde(default)]
    vulns: Vec<VulnRef>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct VulnRef {
    id: String,
}

/// One request and its retries.
struct Call<'a> {
    client: &'a Client,
    http: &'a reqwest::Client,
    start: Instant,
}

impl Call<'_> {
    async fn json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.client.url);
        let policy = &self.client.policy;
        let budget = self.client.budget;
        let mut attempts = 0u32;
        let mut last = String::from("no attempt made");
        loop {
            let left = budget.saturating_sub(self.start.elapsed());
            if left.is_zero() || attempts >= policy.max_attempts {
                return Err(format!(
                    "{method} {path}: {last} (after {attempts} attempt{})",
                    if attempts == 1 { "" } else { "s" }
                ));
            }
            attempts += 1;
            let req = match method {
                "POST" => self.http.post(&url),
                _ => self.http.get(&url),
            }
            .timeout(policy.request_timeout.min(left))
            .header("accept", "application/json");
            let req = match body {
                Some(b) => req
                    .header("content-type", "application/json")
                    .body(b.to_string()),
                None => req,
            };
            tracing::debug!(attempt = attempts, %url, "OSV request");
            let wait = match req.send().await {
                Err(e) => {
                    last = describe(&e);
                    policy.backoff(attempts)
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.text().await {
                        Err(e) => {
                            last = format!("reading the answer: {}", describe(&e));
                            policy.backoff(attempts)
                        }
                        Ok(text) => match status {
                            200..=299 => {
                                return serde_json::from_str(&text).map_err(|e| {
                                    format!("{method} {path}: the answer is not JSON ({e})")
                                })
                            }
                            429 => {
                                last = "429 Too Many Requests".into();
                                rate_limit(status, &headers, SystemTime::now())
                                    .flatten()
                                    .unwrap_or_else(|| policy.backoff(attempts))
                                    .min(policy.max_wait)
                            }
                            500..=599 => {
                                last = format!("HTTP {status}");
                                policy.backoff(attempts)
                            }
                            _ => {
                                let msg: String = text.chars().take(200).collect();
                                return Err(format!(
                                    "{method} {path}: answered {status} {}",
                                    msg.trim()
                                ));
                            }
                        },
                    }
                }
            };
            if attempts >= policy.max_attempts {
                continue;
            }
            if !sleep_within(self.start, budget, wait).await {
                return Err(format!(
                    "{method} {path}: {last}; the next try would exceed the {:.0} s budget",
                    budget.as_secs_f64()
                ));
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(&format!(": {inner}"));
            src = inner.source();
        }
        s
    }
}

/// An [`Advisory`] from an OSV record (`Value::Null` when its details could not be had).
pub fn advisory(id: &str, v: &Value, package: &PackageVersion) -> Advisory {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let affected: Vec<&Value> = v
        .get("affected")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|x| {
                    let p = &x["package"];
                    p["name"].as_str() == Some(&package.name)
                        && p["ecosystem"].as_str() == Some(package.ecosystem.osv_name())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut fixed: Vec<String> = affected
        .iter()
        .flat_map(|a| a["ranges"].as_array().into_iter().flatten())
        .flat_map(|r| r["events"].as_array().into_iter().flatten())
        .filter_map(|e| e["fixed"].as_str().map(str::to_string))
        .collect();
    fixed.sort();
    fixed.dedup();
    let (severity, severity_from, cvss_score) = severity(v, &affected);
    let summary = str_of(v, "summary")
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            str_of(v, "details").map(|d| {
                let first = d.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                first.chars().take(200).collect()
            })
        })
        .unwrap_or_else(|| {
            if v.is_null() {
                "details unavailable".to_string()
            } else {
                id.to_string()
            }
        });
    let mut aliases: Vec<String> = v
        .get("aliases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    aliases.sort();
    Advisory {
        id: id.to_string(),
        aliases,
        summary,
        severity,
        severity_from,
        cvss_score,
        url: format!("https://osv.dev/vulnerability/{}", url_segment(id)),
        fixed,
        introduced: false,
    }
    .printable()
}

/// The severity of a record: a CVSS v3 vector (the record's, else the affected package's), else the
/// database's word, else medium.
fn severity(v: &Value, affected: &[&Value]) -> (Severity, String, Option<f64>) {
    let vectors = v
        .get("severity")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            affected
                .iter()
                .flat_map(|a| a["severity"].as_array().into_iter().flatten()),
        );
    for s in vectors {
        if s["type"].as_str() == Some("CVSS_V3") {
            if let Some(vector) = s["score"].as_str() {
                if let Ok(score) = cvss::base_score(vector) {
                    return (
                        Severity::from_cvss(score),
                        format!("{vector} = {score:.1}"),
                        Some(score),
                    );
                }
            }
        }
    }
    let words =
        std::iter::once(&v["database_specific"]["severity"]).chain(affected.iter().flat_map(|a| {
            [
                &a["database_specific"]["severity"],
                &a["ecosystem_specific"]["severity"],
            ]
        }));
    for w in words {
        if let Some(s) = w.as_str().and_then(Severity::from_word) {
            return (
                s,
                format!("database: {}", w.as_str().unwrap_or_default()),
                None,
            );
        }
    }
    (
        Severity::Medium,
        "none given (counted as medium)".into(),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::deps::Ecosystem;

    fn pv() -> PackageVersion {
        PackageVersion {
            ecosystem: Ecosystem::Npm,
            name: "lodash".into(),
            version: "4.17.20".into(),
        }
    }

    #[test]
    fn records_to_advisories() {
        let rec = json!({
            "id": "GHSA-35jh-r3h4-6jhm",
            "summary": "Command Injection in lodash",
            "aliases": ["CVE-2021-23337"],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{
                "package": {"name": "lodash", "ecosystem": "npm"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]
            }, {
                "package": {"name": "lodash-es", "ecosystem": "npm"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.99"}]}]
            }],
            "database_specific": {"severity": "HIGH"}
        });
        let a = advisory("GHSA-35jh-r3h4-6jhm", &rec, &pv());
        assert_eq!(a.severity, Severity::High);
        assert_eq!(a.cvss_score, Some(7.2));
        assert_eq!(
            a.severity_from,
            "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H = 7.2"
        );
        assert_eq!(a.fixed, vec!["4.17.21"]);
        assert_eq!(a.aliases, vec!["CVE-2021-23337"]);
        assert_eq!(a.url, "https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm");
    }

    #[test]
    fn severity_falls_back_to_the_database_then_medium() {
        let rec = json!({"id": "X", "details": "\nFirst line.\nMore.",
            "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
            "database_specific": {"severity": "MODERATE"}});
        let a = advisory("X", &rec, &pv());
        assert_eq!(
            (a.severity, a.severity_from.as_str(), a.summary.as_str()),
            (Severity::Medium, "database: MODERATE", "First line.")
        );
        let rec = json!({"id": "RUSTSEC-2024-0001", "affected": [{
            "package": {"name": "lodash", "ecosystem": "npm"},
            "ecosystem_specific": {"severity": "critical"}}]});
        assert_eq!(advisory("R", &rec, &pv()).severity, Severity::Critical);
        let a = advisory("Y", &Value::Null, &pv());
        assert_eq!(
            (a.severity, a.severity_from.as_str(), a.summary.as_str()),
            (
                Severity::Medium,
                "none given (counted as medium)",
                "details unavailable"
            )
        );
    }

    #[test]
    fn ids_are_escaped_as_path_segments() {
        assert_eq!(url_segment("GHSA-35jh-r3h4-6jhm"), "GHSA-35jh-r3h4-6jhm");
        assert_eq!(url_segment("a/b c"), "a%2Fb%20c");
    }
}
