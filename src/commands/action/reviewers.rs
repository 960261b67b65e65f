//! `request-reviewers: true`: ask GitHub for reviews from the report's suggested reviewers
//! (`POST /repos/{owner}/{repo}/pulls/{n}/requested_reviewers`, which needs
//! `pull-requests: write`).
//!
//! Users go in `reviewers` by login, `@org/team` owners in `team_reviewers` by slug (only teams of
//! the repository's own organisation can be asked), e-mail owners and people of the git history
//! without a known login are left out, and the pull
//! request's author never is asked (GitHub refuses that request anyway). GitHub answers 422 when
//! someone cannot be asked (not a collaborator, say): that is a note in the log and the step
//! summary, never a failure of the step.

use outlets::github::{ApiError, GitHub};

use super::workflow;

/// Reviews requested at most (the report suggests `guidance.max-reviewers`, 3 by default; an
/// artifact from a fork's run could list any number).
pub const MAX_REQUESTED: usize = 10;

/// Whom to ask, and who was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub users: Vec<String>,
    pub teams: Vec<String>,
    pub skipped: Vec<String>,
}

impl Plan {
    /// `reviewers`: `(who, login, team)` as the report lists them, best first.
    pub fn new<'a>(
        reviewers: impl IntoIterator<Item = (&'a str, Option<&'a str>, bool)>,
        author: Option<&str>,
        owner: &str,
    ) -> Plan {
        let mut plan = Plan::default();
        for (who, login, team) in reviewers {
            let Some(login) = login.map(|l| l.trim_start_matches('@')) else {
                plan.skipped.push(if who.contains('@') {
                    format!("{who} (an e-mail address, not a GitHub account)")
                } else {
                    format!("{who} (a name from the git history, not a GitHub login)")
                });
                continue;
            };
            if team {
                match login.split_once('/') {
                    Some((org, slug)) if org.eq_ignore_ascii_case(owner) && !slug.is_empty() => {
                        push_unique(&mut plan.teams, slug)
                    }
                    _ => plan.skipped.push(format!(
                        "{who} (a team of another organisation than {owner})"
                    )),
                }
            } else if author.is_some_and(|a| a.eq_ignore_ascii_case(login)) {
                plan.skipped
                    .push(format!("{who} (the pull request's author)"));
            } else {
                push_unique(&mut plan.users, login);
            }
        }
        let over = (plan.users.len() + plan.teams.len()).saturating_sub(MAX_REQUESTED);
        if over > 0 {
            let keep_users = plan.users.len().min(MAX_REQUESTED);
            plan.users.truncate(keep_users);
            plan.teams.truncate(MAX_REQUESTED - keep_users);
            plan.skipped.push(format!(
                "{over} more (at most {MAX_REQUESTED} reviews are requested)"
            ));
        }
        plan
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.teams.is_empty()
    }

    /// `@alice, @acme/web`.
    fn names(&self, owner: &str) -> String {
        self.users
            .iter()
            .map(|u| format!("@{u}"))
            .chain(self.teams.iter().map(|t| format!("@{owner}/{t}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x.eq_ignore_ascii_case(item)) {
        list.push(item.to_string());
    }
}

/// Send the request; returns the note for the step summary when it did not go through (a 422,
/// a missing permission, an unreachable API). Never fails the step.
pub async fn request(gh: &GitHub, pr: u64, plan: &Plan) -> Option<String> {
    for s in &plan.skipped {
        workflow::log(&format!("not requesting a review from {s}"));
    }
    if plan.is_empty() {
        workflow::log("request-reviewers: no suggested reviewer to request");
        return None;
    }
    let names = plan.names(&gh.owner);
    let note = match gh.request_reviewers(pr, &plan.users, &plan.teams).await {
        Ok(()) => {
            workflow::log(&format!("review requested from {names}"));
            return None;
        }
        Err(ApiError::Status {
            status: 422,
            message,
        }) => format!(
            "Reviews were not requested from {names}: GitHub refused the request (422: {message}); someone who is not a collaborator of the repository cannot be asked"
        ),
        Err(e) if e.is_forbidden() => format!(
            "Reviews were not requested from {names}: the token lacks the `pull-requests: write` permission ({e})"
        ),
        Err(e) => format!("Reviews were not requested from {names}: {e}"),
    };
    println!(
        "{}",
        workflow::command("notice", &[("title", "pr-risk reviewers".into())], &note)
    );
    Some(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_teams_and_never_the_author() {
        let plan = Plan::new(
            [
                ("@alice", Some("alice"), false),
                ("@acme/web", Some("acme/web"), true),
                ("@Bob", Some("Bob"), false),
                ("@other/team", Some("other/team"), true),
                ("dev@acme.test", None, false),
                ("Bo Real", None, false),
                ("@alice", Some("alice"), false),
            ],
            Some("bob"),
            "Acme",
        );
        assert_eq!(plan.users, ["alice"]);
        assert_eq!(plan.teams, ["web"]);
        assert_eq!(
            plan.skipped,
            [
                "@Bob (the pull request's author)",
                "@other/team (a team of another organisation than Acme)",
                "dev@acme.test (an e-mail address, not a GitHub account)",
                "Bo Real (a name from the git history, not a GitHub login)",
            ]
        );
        assert_eq!(plan.names("acme"), "@alice, @acme/web");
        assert!(Plan::new([], None, "acme").is_empty());
        let many: Vec<String> = (0..15).map(|i| format!("u{i}")).collect();
        let plan = Plan::new(
            many.iter().map(|u| (u.as_str(), Some(u.as_str()), false)),
            None,
            "acme",
        );
        assert_eq!(plan.users.len(), MAX_REQUESTED);
        assert_eq!(plan.skipped, ["5 more (at most 10 reviews are requested)"]);
    }
}
