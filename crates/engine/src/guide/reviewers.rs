//! Suggested reviewers: the owners of the changed files.
//!
//! Each owner named by the rule that decides a changed file (`CODEOWNERS`, last match wins) is a
//! candidate, ranked by how many of the changed files they own (then by name); the pull request's
//! author and bots are never suggested. The reason says what they own: "owns `packages/api/`
//! (3 of the changed files, CODEOWNERS:12)".

use std::collections::BTreeMap;

use serde::Serialize;

use super::codeowners::CodeOwners;

/// A suggested reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reviewer {
    /// `@user`, `@org/team` or an e-mail address, as CODEOWNERS names them.
    pub who: String,
    /// The GitHub login or `org/team` slug to request a review from (`None` for an e-mail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// A team (`@org/team`).
    pub team: bool,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// Who wrote the pull request: never suggested.
#[derive(Debug, Clone, Default)]
pub struct Author {
    /// GitHub login (from the event, in action mode).
    pub login: Option<String>,
    /// E-mail of the head commit's author.
    pub email: Option<String>,
}

/// Whether an owner name is a bot account.
pub fn is_bot(who: &str) -> bool {
    let w = who.trim_start_matches('@').to_ascii_lowercase();
    w.ends_with("[bot]")
        || w.ends_with("-bot")
        || w.contains("dependabot")
        || w.contains("renovate")
}

/// The owners of `changed` files, best first, at most `max`.
pub fn from_codeowners(
    owners: &CodeOwners,
    changed: &[&str],
    author: &Author,
    max: usize,
) -> Vec<Reviewer> {
    // owner → (rule line, pattern) → files
    let mut by_owner: BTreeMap<&str, BTreeMap<(u32, &str), usize>> = BTreeMap::new();
    for path in changed {
        let Some(rule) = owners.rule_for(path) else {
            continue;
        };
        for o in &rule.owners {
            *by_owner
                .entry(o.as_str())
                .or_default()
                .entry((rule.line, rule.pattern.as_str()))
                .or_default() += 1;
        }
    }
    let is_author = |who: &str| {
        let w = who.trim_start_matches('@');
        author
            .login
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(w))
            || author
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(who))
    };
    let mut out: Vec<(usize, Reviewer)> = by_owner
        .into_iter()
        .filter(|(who, _)| !is_bot(who) && !is_author(who))
        .map(|(who, rules)| {
            let total: usize = rules.values().sum();
            let reasons = rules
                .iter()
                .map(|((line, pattern), n)| {
                    format!(
                        "owns `{pattern}` ({n} of the changed file{}, {}:{line})",
                        if *n == 1 { "" } else { "s" },
                        owners.path
                    )
                })
                .collect();
            let handle = who.strip_prefix('@');
            (
                total,
                Reviewer {
                    who: who.to_string(),
                    login: handle.map(str::to_string),
                    team: handle.is_some_and(|h| h.contains('/')),
                    reasons,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.who.cmp(&b.1.who)));
    out.into_iter().take(max).map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_by_owned_files_without_the_author_and_bots() {
        let co = CodeOwners::parse(
            ".github/CODEOWNERS",
            "* @acme/core\npackages/api/ @ana @bo\npackages/api/billing/ @cy @renovate[bot]\n",
        );
        let changed = [
            "packages/api/a.ts",
            "packages/api/b.ts",
            "packages/api/billing/c.ts",
            "README.md",
        ];
        let author = Author {
            login: Some("Bo".into()),
            email: None,
        };
        let r = from_codeowners(&co, &changed, &author, 3);
        let who: Vec<&str> = r.iter().map(|r| r.who.as_str()).collect();
        assert_eq!(who, ["@ana", "@acme/core", "@cy"]);
        assert_eq!(
            r[0].reasons,
            ["owns `packages/api/` (2 of the changed files, .github/CODEOWNERS:2)"]
        );
        assert!(r[1].team && r[1].login.as_deref() == Some("acme/core"));
        let r = from_codeowners(&co, &changed, &Author::default(), 10);
        assert!(
            r.iter().any(|x| x.who == "@bo"),
            "the author is excluded only when known"
        );
        assert!(!r.iter().any(|x| x.who.contains("renovate")), "bots never");
    }
}
