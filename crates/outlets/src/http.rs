//! The one retry, rate-limit and deadline policy of the HTTP clients (GitHub, the Massu cloud, OSV),
//! and running their async calls from the synchronous binary.
//!
//! - [`Policy`]: at most `max_attempts` attempts; exponential backoff with jitter (a random delay
//!   in `[d/2, d]`, `d = backoff · 2^(n−1)`, capped at `max_backoff`); a rate-limit wait longer
//!   than `max_wait` is not waited for; connect and per-request timeouts.
//! - [`rate_limit`]: whether an answer is a rate limit (`429`, or `403` with `Retry-After` or
//!   `X-RateLimit-Remaining: 0`) and how long it asks to wait (`Retry-After` in seconds or as an
//!   HTTP date, else `X-RateLimit-Reset`).
//! - [`sleep_within`]: never sleep past the budget.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

/// Retries, backoff and timeouts of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_attempts: u32,
    /// First backoff delay; doubles on every retry (with jitter).
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// The longest rate-limit wait accepted before giving up.
    pub max_wait: Duration,
    pub connect_timeout: Duration,
    /// Ceiling of one request.
    pub request_timeout: Duration,
}

impl Policy {
    /// GitHub: four attempts, 250 ms first backoff, rate-limit waits up to a minute.
    pub const GITHUB: Policy = Policy {
        max_attempts: 4,
        backoff: Duration::from_millis(250),
        max_backoff: Duration::from_secs(8),
        max_wait: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
    };

    /// The Massu cloud: six attempts, 500 ms first backoff (inside the sync budget).
    pub const CLOUD: Policy = Policy {
        max_attempts: 6,
        backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(8),
        max_wait: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
    };

    /// OSV: three attempts, 250 ms first backoff, short waits (an unreachable advisory database
    /// must cost a run seconds, not minutes: the check is then reported as not run).
    pub const OSV: Policy = Policy {
        max_attempts: 3,
        backoff: Duration::from_millis(250),
        max_backoff: Duration::from_secs(2),
        max_wait: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(20),
    };

    /// The delay before attempt `attempt + 1` after a failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let d = self
            .backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(10))
            .min(self.max_backoff);
        let half = d / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Whether an answer says "rate limited": `None` when it does not; `Some(wait)` when it does, with
/// the wait its headers ask for (`Some(None)`: rate limited, no wait given).
pub fn rate_limit(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<Option<Duration>> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let limited = status == 429
        || (status == 403
            && (h("retry-after").is_some() || h("x-ratelimit-remaining") == Some("0")));
    if !limited {
        return None;
    }
    let now_s = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    if let Some(v) = h("retry-after") {
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Some(Duration::from_secs(secs)));
        }
        if let Some(at) = parse_http_date(v) {
            return Some(Some(Duration::from_secs(at.saturating_sub(now_s))));
        }
    }
    let reset = h("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
    Some(reset.map(|r| Duration::from_secs(r.saturating_sub(now_s))))
}

/// Sleep `wait` if it ends within `budget` counted from `start`; false (and no sleep) otherwise.
pub async fn sleep_within(start: Instant, budget: Duration, wait: Duration) -> bool {
    if start.elapsed() + wait >= budget {
        return false;
    }
    tokio::time::sleep(wait).await;
    true
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to seconds since the Unix epoch.
pub fn parse_http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: i64 = parts[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])? as i64
        + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<i64> = parts[4]
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if hms.len() != 3 || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    u64::try_from(t).ok()
}

/// Run `f` to completion on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn rate_limits_in_every_form() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let secs = |s| Some(Some(Duration::from_secs(s)));
        assert_eq!(rate_limit(200, &headers(&[]), now), None);
        assert_eq!(
            rate_limit(403, &headers(&[]), now),
            None,
            "a permission 403"
        );
        assert_eq!(rate_limit(429, &headers(&[]), now), Some(None));
        assert_eq!(
            rate_limit(429, &headers(&[("retry-after", "2")]), now),
            secs(2)
        );
        assert_eq!(
            rate_limit(403, &headers(&[("retry-after", "3")]), now),
            secs(3)
        );
        assert_eq!(
            rate_limit(
                403,
                &headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1030")
                ]),
                now
            ),
            secs(30)
        );
        assert_eq!(
            rate_limit(
                429,
                &headers(&[("retry-after", "Thu, 01 Jan 1970 00:17:00 GMT")]),
                now
            ),
            secs(20)
        );
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let p = Policy::CLOUD;
        for attempt in 1..20 {
            let d = p.backoff(attempt);
            assert!(d <= p.max_backoff, "{attempt}: {d:?}");
            let full = p
                .backoff
                .saturating_mul(1 << (attempt - 1).min(10))
                .min(p.max_backoff);
            assert!(d >= full / 2, "{attempt}: {d:?}");
        }
    }
}
