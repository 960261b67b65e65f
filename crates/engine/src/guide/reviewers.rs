//! Suggested reviewers: the owners of the changed files and the people who know the changed code.
//!
//! Two sources, merged by identity:
//!
//! - **CODEOWNERS** (of the base commit): each owner named by the rule that decides a changed file
//!   (last match wins) scores the share of the changed files they own; the reason says what:
//!   "owns `packages/api/` (3 of the changed files, CODEOWNERS:12)".
//! - **Authorship** ([`super::authorship`]): each person who knows the changed files scores their
//!   knowledge (0–1); the reasons say what they did: "made 62 % of the recent commits to
//!   `pricing.ts` (5 of 8, weighted by recency)", "wrote 14 of the 20 lines this change edits in
//!   `pricing.ts`".
//!
//! An owner and a person are the same reviewer when the owner is `@login` and the person's login
//! (from a GitHub no-reply e-mail, [`super::people`]) is that login, or when the owner is an
//! e-mail the person uses. Reviewers are ranked by the sum of their two scores (then by name) and
//! the best `max-reviewers` are kept. The pull request's author (by login, or by their e-mail after
//! the mailmap) and bots are never suggested.
//!
//! Only a login or a team can be asked for a review ([`Reviewer::login`]); a person of the
//! history without a reliable login is shown by name ([`ReviewerKind::Name`]), an e-mail owner
//! by e-mail, and neither is ever requested.

use std::collections::BTreeMap;

use serde::Serialize;

use super::authorship::Knowledge;
use super::codeowners::CodeOwners;
use super::people::{is_bot, People};

/// What a reviewer's `who` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewerKind {
    /// A GitHub user: `@login` (can be requested).
    Login,
    /// A GitHub team: `@org/team` (can be requested).
    Team,
    /// An e-mail address from CODEOWNERS (cannot be requested).
    Email,
    /// A name from the git history with no reliable login (cannot be requested).
    Name,
}

/// A suggested reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reviewer {
    /// `@user`, `@org/team`, an e-mail address, or a name from the git history.
    pub who: String,
    /// The GitHub login or `org/team` slug to request a review from; `None` for an e-mail or a
    /// name, which are never requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// A team (`@org/team`).
    pub team: bool,
    pub kind: ReviewerKind,
    /// Why, in words.
    pub reasons: Vec<String>,
}

impl Reviewer {
    /// Whether a review can be requested from it (a login or a team).
    pub fn requestable(&self) -> bool {
        self.login.is_some() && matches!(self.kind, ReviewerKind::Login | ReviewerKind::Team)
    }
}

/// Who wrote the pull request: never suggested.
#[derive(Debug, Clone, Default)]
pub struct Author {
    /// GitHub login (from the event, in action mode).
    pub login: Option<String>,
    /// Name of the head commit's author.
    pub name: Option<String>,
    /// E-mail of the head commit's author (lower-cased).
    pub email: Option<String>,
}

/// One candidate while merging the two sources.
struct Candidate {
    reviewer: Reviewer,
    score: f64,
    /// Lower-cased e-mail, when known (an e-mail owner, a person of the history).
    email: Option<String>,
}

/// The owners of `changed` files, best first, at most `max` (CODEOWNERS alone).
pub fn from_codeowners(
    owners: &CodeOwners,
    changed: &[&str],
    author: &Author,
    max: usize,
) -> Vec<Reviewer> {
    suggest(
        Some(owners),
        changed,
        &[],
        &mut People::default(),
        author,
        max,
    )
}

/// The suggested reviewers of a change: the owners of the `changed` files (`owners`) merged with
/// the people who know them (`known`, people interned in `people`), best first, at most `max`.
pub fn suggest(
    owners: Option<&CodeOwners>,
    changed: &[&str],
    known: &[Knowledge],
    people: &mut People,
    author: &Author,
    max: usize,
) -> Vec<Reviewer> {
    let author_key = author.email.as_deref().map(|email| {
        let name = author.name.as_deref().unwrap_or("");
        let p = people.intern(name, email);
        people.get(p).key.clone()
    });
    let is_author_login = |login: &str| {
        author
            .login
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(login))
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    if let Some(owners) = owners {
        for (who, (files, reasons)) in owned(owners, changed) {
            let email = (!who.starts_with('@')).then(|| who.to_ascii_lowercase());
            let handle = who.strip_prefix('@');
            if is_bot(&who)
                || handle.is_some_and(is_author_login)
                || email.is_some() && email == author.email.as_ref().map(|e| e.to_lowercase())
                || email.is_some() && email == author_key
            {
                continue;
            }
            let team = handle.is_some_and(|h| h.contains('/'));
            candidates.push(Candidate {
                reviewer: Reviewer {
                    who: who.clone(),
                    login: handle.map(str::to_string),
                    team,
                    kind: match (handle, team) {
                        (Some(_), true) => ReviewerKind::Team,
                        (Some(_), false) => ReviewerKind::Login,
                        (None, _) => ReviewerKind::Email,
                    },
                    reasons,
                },
                score: files as f64 / changed.len().max(1) as f64,
                email,
            });
        }
    }
    for k in known {
        let person = people.get(k.person);
        if person.bot
            || author_key.as_deref() == Some(person.key.as_str())
            || person.login().is_some_and(is_author_login)
        {
            continue;
        }
        let login = person.login().map(str::to_string);
        let reasons = knowledge_reasons(k);
        let same = candidates.iter_mut().find(|c| {
            let by_login = login.as_deref().is_some_and(|l| {
                c.reviewer.kind == ReviewerKind::Login
                    && c.reviewer
                        .login
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(l))
            });
            by_login || c.email.as_deref() == Some(person.key.as_str())
        });
        match same {
            Some(c) => {
                c.score += k.score;
                c.reviewer.reasons.extend(reasons);
                if c.reviewer.kind == ReviewerKind::Email {
                    if let Some(l) = &login {
                        c.reviewer.who = format!("@{l}");
                        c.reviewer.login = Some(l.clone());
                        c.reviewer.kind = ReviewerKind::Login;
                    }
                }
            }
            None => candidates.push(Candidate {
                reviewer: Reviewer {
                    who: person.display(),
                    kind: if login.is_some() {
                        ReviewerKind::Login
                    } else {
                        ReviewerKind::Name
                    },
                    login,
                    team: false,
                    reasons,
                },
                score: k.score,
                email: Some(person.key.clone()),
            }),
        }
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.reviewer.who.cmp(&b.reviewer.who))
    });
    candidates
        .into_iter()
        .take(max)
        .map(|c| c.reviewer)
        .collect()
}

/// Owner → (changed files they own, the reasons), from the rule that decides each changed file.
fn owned(owners: &CodeOwners, changed: &[&str]) -> BTreeMap<String, (usize, Vec<String>)> {
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
    by_owner
        .into_iter()
        .map(|(who, rules)| {
            let total: usize = rules.values().sum();
            let reasons = rules
                .iter()
                .map(|((line, pattern), n)| {
                    format!(
                        "owns `{pattern}` ({n} of the changed files, {}:{line})",
                        owners.path
                    )
                })
                .collect();
            (who.to_string(), (total, reasons))
        })
        .collect()
}

/// What a person did to the changed files, in words: their best file by recent commits and by
/// the lines the change edits.
fn knowledge_reasons(k: &Knowledge) -> Vec<String> {
    let mut out = Vec::new();
    let by_commits = k.files.iter().filter(|f| f.commits > 0).max_by(|a, b| {
        a.share
            .total_cmp(&b.share)
            .then_with(|| b.path.cmp(&a.path))
    });
    if let Some(f) = by_commits {
        let more = k.files.iter().filter(|x| x.commits > 0).count() - 1;
        out.push(format!(
            "made {} % of the recent commits to `{}` ({} of {}, weighted by recency){}",
            (f.share * 100.0).round(),
            f.path,
            f.commits,
            f.total,
            match more {
                0 => String::new(),
                1 => " and committed to 1 more of the changed files".to_string(),
                n => format!(" and committed to {n} more of the changed files"),
            }
        ));
    }
    let by_lines = k.files.iter().filter(|f| f.lines > 0).max_by(|a, b| {
        (u64::from(a.lines) * u64::from(b.lines_total))
            .cmp(&(u64::from(b.lines) * u64::from(a.lines_total)))
            .then_with(|| b.path.cmp(&a.path))
    });
    if let Some(f) = by_lines {
        out.push(match (f.lines, f.lines_total) {
            (1, 1) => format!("wrote the line this change edits in `{}`", f.path),
            (l, t) if l == t => format!("wrote all {t} lines this change edits in `{}`", f.path),
            (l, t) => format!(
                "wrote {l} of the {t} lines this change edits in `{}`",
                f.path
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::authorship::FileShare;
    use super::*;
    use crate::git::mailmap::Mailmap;

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
            ..Author::default()
        };
        let r = from_codeowners(&co, &changed, &author, 3);
        let who: Vec<&str> = r.iter().map(|r| r.who.as_str()).collect();
        assert_eq!(who, ["@ana", "@acme/core", "@cy"]);
        assert_eq!(
            r[0].reasons,
            ["owns `packages/api/` (2 of the changed files, .github/CODEOWNERS:2)"]
        );
        assert!(r[1].team && r[1].login.as_deref() == Some("acme/core"));
        assert_eq!(r[1].kind, ReviewerKind::Team);
        let r = from_codeowners(&co, &changed, &Author::default(), 10);
        assert!(
            r.iter().any(|x| x.who == "@bo"),
            "the author is excluded only when known"
        );
        assert!(!r.iter().any(|x| x.who.contains("renovate")), "bots never");
    }

    fn share(path: &str, share: f64, commits: u32, total: u32) -> FileShare {
        FileShare {
            path: path.into(),
            share,
            commits,
            total,
            lines: 0,
            lines_total: 0,
        }
    }

    /// Owners and authors merge by login (a no-reply e-mail) or by e-mail; a name without a
    /// login is shown and never requestable; the author (after the mailmap) and bots are out.
    #[test]
    fn owners_and_authors_merge_by_identity() {
        let co = CodeOwners::parse(
            "CODEOWNERS",
            "src/ @ana dev@example.com\nsrc/pricing.ts @acme/billing\n",
        );
        let changed = ["src/pricing.ts", "src/tax.ts"];
        let mut people = People::new(Mailmap::parse("Pat Doe <pat@example.com> <pat@laptop>\n"));
        let ana = people.intern("Ana", "1+ana@users.noreply.github.com");
        let dev = people.intern("Dev", "dev@example.com");
        let cy = people.intern("Cy Young", "cy@example.com");
        let bot = people.intern(
            "dependabot[bot]",
            "49699333+dependabot[bot]@users.noreply.github.com",
        );
        let pat = people.intern("Pat", "pat@example.com");
        let k = |person, score, files: Vec<FileShare>| Knowledge {
            person,
            score,
            files,
        };
        let known = [
            k(bot, 0.9, vec![share("src/tax.ts", 0.9, 9, 10)]),
            k(pat, 0.8, vec![share("src/tax.ts", 0.8, 8, 10)]),
            k(
                cy,
                0.55,
                vec![
                    share("src/pricing.ts", 0.6, 3, 5),
                    share("src/tax.ts", 0.4, 2, 10),
                ],
            ),
            k(ana, 0.3, vec![share("src/pricing.ts", 0.3, 2, 5)]),
            k(dev, 0.1, vec![share("src/tax.ts", 0.1, 1, 10)]),
        ];
        // The author commits as pat@laptop: the mailmap makes them Pat Doe.
        let author = Author {
            login: None,
            name: Some("pat".into()),
            email: Some("pat@laptop".into()),
        };
        let r = suggest(Some(&co), &changed, &known, &mut people, &author, 5);
        let who: Vec<(&str, ReviewerKind, bool)> = r
            .iter()
            .map(|r| (r.who.as_str(), r.kind, r.requestable()))
            .collect();
        assert_eq!(
            who,
            [
                ("@ana", ReviewerKind::Login, true),
                ("dev@example.com", ReviewerKind::Email, false),
                ("Cy Young", ReviewerKind::Name, false),
                ("@acme/billing", ReviewerKind::Team, true),
            ]
        );
        assert_eq!(
            r[0].reasons,
            [
                "owns `src/` (1 of the changed files, CODEOWNERS:1)",
                "made 30 % of the recent commits to `src/pricing.ts` (2 of 5, weighted by recency)"
            ]
        );
        assert_eq!(
            r[2].reasons,
            ["made 60 % of the recent commits to `src/pricing.ts` (3 of 5, weighted by recency) and committed to 1 more of the changed files"]
        );
    }
}
