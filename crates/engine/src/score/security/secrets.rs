//! Secrets: credentials written into any text file, found line by line with regexes.
//!
//! Provider formats with a fixed shape (AWS access key ids, GitHub and Slack tokens, Stripe live
//! keys, private key blocks, JWTs) are matched exactly. Generic `*_key/secret/token/password = "…"`
//! assignments only count when the value looks random: Shannon entropy of at least
//! [`GENERIC_MIN_ENTROPY`] bits per character and at least [`GENERIC_MIN_LEN`] characters.
//! Obvious placeholders (`xxxx`, `your_key_here`, `${ENV}`, `<token>`, `EXAMPLE`, `changeme`) are
//! never findings. A secret's value is never kept: findings carry a masked form and a hash.

use std::sync::OnceLock;

use regex::Regex;

use super::rules::Severity;

pub const GENERIC_MIN_ENTROPY: f64 = 3.5;
pub const GENERIC_MIN_LEN: usize = 12;

/// One kind of secret.
pub struct Detector {
    pub id: &'static str,
    pub severity: Severity,
    pub message: &'static str,
    pub fix: &'static str,
    pattern: &'static str,
    /// Capture group holding the secret value (0: the whole match).
    group: usize,
    /// Gate the value on entropy (generic assignments).
    entropy: bool,
}

pub const CWE: &str = "CWE-798";
/// The entropy-gated generic detector (not run on test files).
pub const GENERIC_ID: &str = "secrets/generic-assignment";
/// JWTs (not reported in test files).
pub const JWT_ID: &str = "secrets/jwt";
pub const OWASP: &str = "A07:2021 Identification and Authentication Failures";

const ROTATE: &str = "Revoke and rotate the credential now (it is in the git history), then load it from the environment or a secret manager.";

pub static DETECTORS: &[Detector] = &[
    Detector {
        id: "secrets/private-key",
        severity: Severity::Critical,
        message: "A private key block is committed",
        fix: "Remove the key from the repository, revoke it and issue a new one; keep keys in a secret manager.",
        pattern: r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
        group: 0,
        entropy: false,
    },
    Detector {
        id: "secrets/aws-access-key",
        severity: Severity::Critical,
        message: "An AWS access key id is committed",
        fix: ROTATE,
        pattern: r"\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b",
        group: 1,
        entropy: false,
    },
    Detector {
        id: "secrets/aws-secret-key",
        severity: Severity::Critical,
        message: "An AWS secret access key is committed",
        fix: ROTATE,
        pattern: r#"(?i)aws_?secret_?(?:access_?)?key["']?[ \t]*[:=][ \t]*["']?([A-Za-z0-9/+=]{40})\b"#,
        group: 1,
        entropy: true,
    },
    Detector {
        id: "secrets/github-token",
        severity: Severity::Critical,
        message: "A GitHub token is committed",
        fix: ROTATE,
        pattern: r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b",
        group: 1,
        entropy: false,
    },
    Detector {
        id: "secrets/slack-token",
        severity: Severity::Critical,
        message: "A Slack token is committed",
        fix: ROTATE,
        pattern: r"\b(xox[baprse]-[0-9A-Za-z]{10,}-[0-9A-Za-z-]{10,})\b",
        group: 1,
        entropy: false,
    },
    Detector {
        id: "secrets/slack-webhook",
        severity: Severity::High,
        message: "A Slack incoming-webhook URL is committed",
        fix: "Revoke the webhook in Slack and load the URL from the environment.",
        pattern: r"(https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{8,}/[A-Z0-9]{8,}/[A-Za-z0-9]{20,})",
        group: 1,
        entropy: false,
    },
    Detector {
        id: "secrets/stripe-live-key",
        severity: Severity::Critical,
        message: "A Stripe live secret key is committed",
        fix: ROTATE,
        pattern: r"\b((?:sk|rk)_live_[0-9A-Za-z]{24,})\b",
        group: 1,
        entropy: false,
    },
    Detector {
        id: "secrets/jwt",
        severity: Severity::High,
        message: "A JSON Web Token is committed",
        fix: "Remove the token; if it was issued by a real system, revoke it or rotate the signing key.",
        pattern: r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})",
        group: 1,
        entropy: false,
    },
    Detector {
        id: "secrets/generic-assignment",
        severity: Severity::High,
        message: "A high-entropy secret is assigned in the source",
        fix: ROTATE,
        pattern: r#"(?i)(?:api[_.-]?key|secret|token|passw(?:or)?d|pwd|private[_.-]?key|access[_.-]?key)[a-z0-9_.-]*["']?[ \t]*(?::|=|:=|=>)[ \t]*["'`]([^"'`\s]{12,})["'`]"#,
        group: 1,
        entropy: true,
    },
];

fn compiled() -> &'static Vec<Regex> {
    static RE: OnceLock<Vec<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        DETECTORS
            .iter()
            .map(|d| Regex::new(d.pattern).expect("built-in secret pattern is valid"))
            .collect()
    })
}

/// Shannon entropy of `s` in bits per character.
pub fn entropy(s: &str) -> f64 {
    let n = s.chars().count();
    if n == 0 {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// Values that are obviously not real secrets.
pub fn is_placeholder(value: &str) -> bool {
    let l = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "xxxx",
        "****",
        "....",
        "your_",
        "your-",
        "yourkey",
        "example",
        "placeholder",
        "changeme",
        "change_me",
        "change-me",
        "dummy",
        "sample",
        "redacted",
        "replace",
        "insert",
        "todo",
        "fixme",
        "<",
        ">",
        "${",
        "{{",
        "%(",
        "process.env",
        "env(",
        "getenv",
        "secret_here",
        "key_here",
        "token_here",
        "notreal",
        "not_real",
        "not-a-",
        "fake",
        "foobar",
        "abcdef",
        "123456",
        "password1",
        "00000000",
        "sk_test_",
        "pk_test_",
        "rk_test_",
        "pk_live_",
    ];
    if WORDS.iter().any(|w| l.contains(w)) {
        return true;
    }
    // One repeated character, or `$VAR` / `%VAR%` references.
    let first = l.chars().next();
    if l.chars().all(|c| Some(c) == first) || l.starts_with('$') || l.starts_with('%') {
        return true;
    }
    false
}

/// The gate for generic assignments: long enough, letters and digits, no path or URL, and a
/// Shannon entropy of at least [`GENERIC_MIN_ENTROPY`] bits per character.
fn random_looking(value: &str) -> bool {
    value.len() >= GENERIC_MIN_LEN
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
        && !value.contains("://")
        && !value.starts_with('/')
        && !value.starts_with('.')
        && !is_uuid(value)
        && !looks_like_pattern(value)
        && entropy(value) >= GENERIC_MIN_ENTROPY
}

/// A UUID (`ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4`): an identifier, not a credential.
fn is_uuid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A regular expression or character class (`[A-Za-z0-9._~+/-]+=*`), not a value.
fn looks_like_pattern(value: &str) -> bool {
    (value.contains('[') && value.contains(']')) || value.contains('\\')
}

/// A secret found on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    pub detector: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based byte column of the value.
    pub column: u32,
    /// Byte range of the value in the line.
    pub start: usize,
    pub end: usize,
}

/// Every secret in `text`. Each regex runs once over the whole text (fast literal prefilters);
/// a match is kept only within one line, however long (a key in a minified bundle is still a
/// key).
/// Whether key material follows a `BEGIN … PRIVATE KEY` line: at least 64 base64 characters
/// within the next 400 bytes (line breaks and `\n` escapes allowed). Truncated placeholders
/// (`-----BEGIN RSA PRIVATE KEY-----\nMIIE…\n-----END…`) in tests and docs are not keys.
fn has_key_body(after: &str) -> bool {
    let window: String = after.chars().take(400).collect();
    let body = window.replace("\\n", "\n");
    let mut run = 0usize;
    let mut best = 0usize;
    for c in body.chars() {
        if c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=' {
            run += 1;
            best = best.max(run);
        } else if c == '\n' || c == '\r' || c == ' ' || c == '"' || c == '\'' {
            // Line breaks (and string joins) inside the body keep the run going.
            continue;
        } else if c == '-' {
            break;
        } else {
            run = 0;
        }
    }
    best >= 64
}

pub fn scan(text: &str) -> Vec<SecretHit> {
    let mut out = Vec::new();
    let res = compiled();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| starts.partition_point(|s| *s <= offset) - 1;
    let line_end = |l: usize| starts.get(l + 1).map(|e| e - 1).unwrap_or(text.len());
    // Values already claimed by an earlier (more specific) detector.
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for (di, (d, re)) in DETECTORS.iter().zip(res).enumerate() {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(d.group) else {
                continue;
            };
            let l = line_of(m.start());
            let (ls, le) = (starts[l], line_end(l));
            // A match never spans lines; long lines (minified files) are scanned like others.
            if m.end() > le {
                continue;
            }
            if d.id == "secrets/private-key" && !has_key_body(&text[m.end()..]) {
                continue;
            }
            let value = m.as_str();
            if is_placeholder(value) || (d.entropy && !random_looking(value)) {
                continue;
            }
            if d.id == GENERIC_ID && in_public_client_config(text, &starts, l) {
                continue;
            }
            if taken.iter().any(|(s, e)| m.start() < *e && *s < m.end()) {
                continue;
            }
            taken.push((m.start(), m.end()));
            out.push(SecretHit {
                detector: di,
                line: l as u32 + 1,
                column: (m.start() - ls) as u32 + 1,
                start: m.start() - ls,
                end: m.end() - ls,
            });
        }
    }
    out.sort_by_key(|h| (h.line, h.start));
    out
}

/// Whether line `l` (0-based) sits in a client configuration whose keys are public by design: a
/// Firebase web config (`authDomain`, `messagingSenderId`: the key only identifies the project)
/// or an Algolia DocSearch config (`indexName`: a search-only key). Looked for within six lines.
fn in_public_client_config(text: &str, starts: &[usize], l: usize) -> bool {
    const MARKERS: &[&str] = &[
        "authDomain",
        "messagingSenderId",
        ".firebaseapp.com",
        "indexName",
    ];
    let from = starts[l.saturating_sub(6)];
    let to = starts.get(l + 7).copied().unwrap_or(text.len());
    let window = &text[from..to];
    MARKERS.iter().any(|m| window.contains(m))
}

/// A value shown in reports: its first four characters, then one `*` per hidden character
/// (capped), so a reader can recognise which credential it is without learning it.
pub fn mask(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    let hidden = value.chars().count().saturating_sub(4).clamp(4, 16);
    format!("{shown}{}", "*".repeat(hidden))
}

/// Mask every secret any detector finds in `text` (used on every snippet, whatever its rule).
pub fn mask_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut hits = scan(line);
        hits.sort_by_key(|h| h.start);
        let mut last = 0;
        for h in hits {
            if h.start < last {
                continue;
            }
            out.push_str(&line[last..h.start]);
            out.push_str(&mask(&line[h.start..h.end]));
            last = h.end;
        }
        out.push_str(&line[last..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        scan(text)
            .iter()
            .map(|h| DETECTORS[h.detector].id)
            .collect()
    }

    #[test]
    fn provider_formats() {
        assert_eq!(
            ids(concat!("key = AKIA", "Z3MHDLQ7TR4QWXYV")),
            ["secrets/aws-access-key"]
        );
        assert_eq!(
            ids(concat!(
                "token: ghp_",
                "R8vJ2kLmN4pQ7sT1uW3xY5zA9bC0dE6fG2hI"
            )),
            ["secrets/github-token"]
        );
        assert_eq!(
            ids(concat!(
                "SLACK=xoxb-",
                "2384729384-9823749823-aB3dE5fG7hJ9kL1mN3pQ5rS7"
            )),
            ["secrets/slack-token"]
        );
        assert_eq!(
            ids(concat!(
                "url: https://hooks.slack.com/services/",
                "T0A1B2C3D/B4E5F6G7H/q8R9s0T1u2V3w4X5y6Z7a8B9"
            )),
            ["secrets/slack-webhook"]
        );
        assert_eq!(
            ids(concat!(
                "const stripe = new Stripe('sk_",
                "live_51HqLmN2eZvKYlo2C8xR4tW9p')"
            )),
            ["secrets/stripe-live-key"]
        );
        assert_eq!(
            ids(concat!(
                "-----BEGIN RSA ",
                "PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"
            )),
            ["secrets/private-key"]
        );
        // A truncated placeholder (tests, docs) is not a key.
        assert!(ids(concat!(
            "KEY=\"-----BEGIN RSA ",
            "PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----\""
        ))
        .is_empty());
        assert_eq!(
            ids(concat!(
                "Authorization: eyJhbGciOiJIUzI1NiJ9",
                ".eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            )),
            ["secrets/jwt"]
        );
    }

    #[test]
    fn public_client_configs_are_not_secrets() {
        let firebase = concat!(
            "const firebaseConfig = {\n",
            "  apiKey: \"AIzaSyB7q3LmX9vT2rW8sK4nB6yHcQ7Zp3LmX9v\",\n",
            "  authDomain: \"demo.firebaseapp.com\",\n",
            "};\n"
        );
        assert!(ids(firebase).is_empty());
        let docsearch = concat!(
            "algolia: {\n",
            "  appId: \"X1Y2Z3\",\n",
            "  apiKey: \"4b07c9e1d2a8f6b3e5d7c9a1b3e5f7d9\",\n",
            "  indexName: \"docs\",\n",
            "},\n"
        );
        assert!(ids(docsearch).is_empty());
        // The same key outside such a config is reported.
        assert_eq!(
            ids("const config = {\n  apiKey: \"4b07c9e1d2a8f6b3e5d7c9a1b3e5f7d9\",\n};\n"),
            ["secrets/generic-assignment"]
        );
    }

    #[test]
    fn generic_assignments_need_entropy() {
        assert_eq!(
            ids(concat!(
                r#"const API_KEY = "q7Zp"#,
                r#"3LmX9vT2rW8sK4nB6yHc";"#
            )),
            ["secrets/generic-assignment"]
        );
        assert!(ids(r#"password = "aaaaaaaaaaaaaaaaaa""#).is_empty());
        assert!(ids(r#"password: "correcthorse""#).is_empty());
        assert!(ids(r#"token_url = "https://example.org""#).is_empty());
        assert!(ids(r#"jwt_secret_path = "/etc/secrets/jwt-key-2.pem""#).is_empty());
        assert!(ids(r#"sessionTokenName = "getUserSessionToken""#).is_empty());
        // Identifiers and patterns are not credentials.
        assert!(
            ids(r#"GooglePasswordManager = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4","#).is_empty()
        );
        assert!(ids(r#"const TOKEN_STRINGS = '[A-Za-z0-9._~+/-]+=*'"#).is_empty());
    }

    #[test]
    fn placeholders_are_ignored() {
        assert!(ids("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(ids(r#"api_key: "your_api_key_here_please""#).is_empty());
        assert!(ids(r#"SECRET_TOKEN="${SECRET_TOKEN_FROM_ENV}""#).is_empty());
        assert!(ids(r#"client_secret = "xxxxxxxxxxxxxxxxxxxxxxxx""#).is_empty());
        assert!(ids("sk_test_4eC39HqLyjWDarjtT1zdp7dc").is_empty());
        assert_eq!(
            ids(r#"STRIPE_SECRET_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc""#),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn masking_hides_values() {
        let line = concat!("key = AKIA", "Z3MHDLQ7TR4QWXYV");
        let m = mask_all(line);
        assert_eq!(m, "key = AKIA****************");
        assert!(!m.contains("Z3MHDLQ7"));
    }
}
