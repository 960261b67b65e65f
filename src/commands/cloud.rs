//! `pr-risk cloud check` and `pr-risk cloud list`: the Massu cloud from the terminal.
//!
//! Both read the records endpoint (`GET {api-url}/api/v1/risk/prs`) through the cloud client
//! ([`outlets::cloud::get`]: the shared retry and rate-limit policy, redirects only on the API's
//! origin, the key redacted everywhere):
//! - `check` asks for one record (`?per_page=1`) to learn whether the key works, and prints the
//!   plan's rate-limit headers. Exit 0: the key works; 2: the API refused it (401/403) or no key
//!   was given; 3: the API could not be reached or answered something else.
//! - `list` pages through the records with the API's filters (`repo`, `rating`) until `--limit`
//!   records are printed or the API has no more: it follows a `Link: <…>; rel="next"` header when
//!   the API sends one, otherwise asks for the next `page` while pages come back full.
//!
//! The key is read from an environment variable (`MASSU_API_KEY`, or the one `--api-key-env`
//! names), never from the command line; records are the API's (their titles were chosen by pull
//! requests), so every text printed goes through the terminal's escaping.

use engine::error::{Error, ExitCode, Result};
use outlets::cloud::{self, ListQuery, ReadError};
use outlets::render::style;
use outlets::secret::Secret;
use serde_json::Value;

/// Records per page asked for when listing (the API's page size ceiling is assumed to be 100).
const MAX_PER_PAGE: u32 = 100;
/// Pages read at most by one `list`, whatever the API's links say.
const MAX_PAGES: u32 = 100;

#[derive(Debug, clap::Subcommand)]
pub enum CloudCommand {
    /// Check that the Massu API key works and print the plan's rate-limit headers (exit 0: it
    /// works, 2: the API refused it).
    Check(Connection),
    /// List the PR risk records in the Massu cloud, newest first as the API orders them.
    List(ListArgs),
}

/// How to reach the API.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// Read the API key from this environment variable (default MASSU_API_KEY); the key is never
    /// a command-line argument.
    #[arg(long, value_name = "NAME")]
    pub api_key_env: Option<String>,

    /// Massu API URL (default: MASSU_API_URL, then `cloud.api-url` of the repository's
    /// .pr-risk.yml, then https://massu.ai).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RatingArg {
    Low,
    Medium,
    High,
    Critical,
}

impl RatingArg {
    fn as_str(self) -> &'static str {
        match self {
            RatingArg::Low => "low",
            RatingArg::Medium => "medium",
            RatingArg::High => "high",
            RatingArg::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One line per record.
    Text,
    /// The records as the API sent them, in one JSON array.
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// Only this repository's records (`owner/name`).
    #[arg(long, value_name = "OWNER/NAME", value_parser = parse_repo)]
    pub repo: Option<String>,

    /// Only records with this rating.
    #[arg(long, value_enum)]
    pub rating: Option<RatingArg>,

    /// Print at most this many records (1–1000).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

fn parse_repo(s: &str) -> std::result::Result<String, String> {
    let ok = s.split_once('/').is_some_and(|(o, n)| {
        let part = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        part(o) && part(n)
    });
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not `owner/name` (e.g. acme/shop)"))
    }
}

pub fn run(cmd: &CloudCommand) -> Result<ExitCode> {
    match cmd {
        CloudCommand::Check(c) => check(c),
        CloudCommand::List(args) => list(args),
    }
}

/// The client for a command: the key from the environment, the URL by precedence.
fn client(c: &Connection) -> Result<cloud::Client> {
    let var = c.api_key_env.as_deref().unwrap_or("MASSU_API_KEY");
    let key = std::env::var(var).ok().and_then(Secret::new).ok_or_else(|| {
        Error::Usage(format!(
            "no Massu API key in ${var}\n  hint: export {var}=… (the key is never taken as a command-line argument)"
        ))
    })?;
    // The repository's settings, when there is one (a broken .pr-risk.yml is reported).
    let settings = match engine::git::Repo::discover(std::path::Path::new(".")) {
        Ok(repo) => Some(crate::config::load(repo.workdir(), None)?.config.cloud),
        Err(_) => None,
    };
    let api_url = c
        .api_url
        .clone()
        .or_else(|| {
            std::env::var("MASSU_API_URL")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .or_else(|| settings.as_ref().and_then(|s| s.api_url.clone()))
        .unwrap_or_else(|| cloud::DEFAULT_API_URL.to_string());
    let budget = settings
        .map(|s| s.budget())
        .unwrap_or_else(|| outlets::cloud::CloudSettings::default().budget());
    Ok(cloud::Client::new(&api_url, key, budget))
}

fn fetch(client: &cloud::Client, url: &str) -> std::result::Result<cloud::Listed, ReadError> {
    outlets::http::block_on(cloud::get(client, url)).map_err(ReadError::Setup)?
}

fn check(c: &Connection) -> Result<ExitCode> {
    let client = client(c)?;
    let url = ListQuery {
        per_page: 1,
        ..ListQuery::default()
    }
    .url(&client.api_url)
    .map_err(|e| Error::Usage(e.to_string()))?;
    match fetch(&client, &url) {
        Ok(answer) => {
            let mut out = format!(
                "Massu API: {}\nkey: accepted (HTTP {})\n",
                cloud::records_url(&client.api_url),
                answer.status
            );
            if answer.rate_limit.is_empty() {
                out.push_str("rate limit: the API sent no rate-limit headers\n");
            } else {
                out.push_str("rate limit:\n");
                for (k, v) in &answer.rate_limit {
                    out.push_str(&format!("  {k}: {}\n", style::escape(v)));
                }
            }
            super::print(&out);
            Ok(ExitCode::Pass)
        }
        Err(e) if e.key_refused() => {
            eprintln!("error: {}", outlets::secret::scrub(&e.to_string()));
            Ok(ExitCode::Input)
        }
        Err(e) => Err(failure(e)),
    }
}

/// A failure that is not the key's: exit 3 unless the URL itself is wrong (2).
fn failure(e: ReadError) -> Error {
    match e {
        ReadError::BadUrl(_) => Error::Usage(e.to_string()),
        e => Error::Internal(e.to_string()),
    }
}

fn list(args: &ListArgs) -> Result<ExitCode> {
    let client = client(&args.connection)?;
    let limit = args.limit as usize;
    let mut query = ListQuery {
        repo: args.repo.clone(),
        rating: args.rating.map(|r| r.as_str().to_string()),
        per_page: args.limit.min(MAX_PER_PAGE),
        page: 1,
    };
    let mut url = query
        .url(&client.api_url)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let mut records: Vec<Value> = Vec::new();
    for _ in 0..MAX_PAGES {
        let answer = match fetch(&client, &url) {
            Ok(a) => a,
            Err(e) if e.key_refused() => {
                eprintln!("error: {}", outlets::secret::scrub(&e.to_string()));
                return Ok(ExitCode::Input);
            }
            Err(e) => return Err(failure(e)),
        };
        let full = answer.records.len() >= query.per_page as usize;
        let empty = answer.records.is_empty();
        records.extend(answer.records);
        if records.len() >= limit || empty {
            break;
        }
        url = match answer.next {
            Some(next) => next,
            None if full => {
                query.page += 1;
                query
                    .url(&client.api_url)
                    .map_err(|e| Error::Usage(e.to_string()))?
            }
            None => break,
        };
    }
    records.truncate(limit);
    let text = match args.format {
        ListFormat::Json => {
            let mut s = serde_json::to_string_pretty(&records)
                .map_err(|e| Error::Internal(format!("serializing the records: {e}")))?;
            s.push('\n');
            s
        }
        ListFormat::Text => text(&records),
    };
    super::print(&text);
    Ok(ExitCode::Pass)
}

/// One line per record: `owner/name#7  62 medium  blocked  abc1234  2026-01-02T…  title`.
fn text(records: &[Value]) -> String {
    if records.is_empty() {
        return "no records\n".to_string();
    }
    let field = |v: &Value| match v {
        Value::String(s) => style::escape(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "-".to_string(),
    };
    let mut out = String::new();
    for r in records {
        let pr = match r["pr_number"].as_u64() {
            Some(n) => format!("{}#{n}", field(&r["repo"])),
            None => field(&r["repo"]),
        };
        let sha: String = r["head_sha"]
            .as_str()
            .map(|s| style::escape(&s.chars().take(7).collect::<String>()))
            .unwrap_or_else(|| "-".into());
        let gate = if r["blocked"].as_bool() == Some(true) {
            "blocked"
        } else {
            "passed"
        };
        let line = format!(
            "{pr}  {:>3} {:<8}  {gate:<7}  {sha}  {}  {}",
            field(&r["risk_score"]),
            field(&r["rating"]),
            field(&r["created_at"]),
            field(&r["pr_title"]),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_are_owner_slash_name() {
        assert!(parse_repo("acme/shop").is_ok());
        assert!(parse_repo("acme/shop.js").is_ok());
        assert!(parse_repo("acme").is_err());
        assert!(parse_repo("acme/shop/x").is_err());
        assert!(parse_repo("/shop").is_err());
    }

    #[test]
    fn text_lines_escape_what_the_api_sent() {
        let r = serde_json::json!([{"repo": "acme/shop", "pr_number": 7, "risk_score": 62,
            "rating": "medium", "blocked": false, "head_sha": "0123456789abcdef",
            "created_at": "2026-01-02T03:04:05Z", "pr_title": "Fix\u{1b}[31m pricing"}]);
        let t = text(r.as_array().unwrap());
        assert_eq!(
            t,
            format!(
                "acme/shop#7   62 medium    passed   0123456  2026-01-02T03:04:05Z  {}\n",
                style::escape("Fix\u{1b}[31m pricing")
            )
        );
        assert!(!t.contains('\u{1b}'));
    }
}
