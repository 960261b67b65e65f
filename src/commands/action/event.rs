//! Which change to score, from the workflow's event (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`).
//!
//! Base and head are the pull request's `base.sha` and `head.sha` — never `GITHUB_SHA`, which
//! for a pull request is the test merge commit.

use serde_json::Value;

use super::inputs::{Env, Inputs};
use engine::error::{Error, Result};
use engine::report::PrLabels;

/// The change a run scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub event: String,
    pub base: String,
    pub head: String,
    pub pr_number: Option<u64>,
    pub pr_title: Option<String>,
    pub head_ref: Option<String>,
    /// The pull request's author (GitHub login).
    pub author: Option<String>,
    /// The PR comes from a fork: the job token is read-only there (for `pull_request`).
    pub fork: bool,
    /// `pull_request.head.repo.full_name`: where the PR's commits come from.
    pub head_repository: Option<String>,
    /// The pull request's labels, and for a `labeled` event the label and who applied it
    /// (`sender.login`). Empty for other events.
    pub labels: PrLabels,
}

pub fn target(env: &Env, inputs: &Inputs) -> Result<Target> {
    let name = env.get("GITHUB_EVENT_NAME").unwrap_or("").to_string();
    let event: Value = match env.get("GITHUB_EVENT_PATH") {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Error::Io {
                path: p.into(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!("GITHUB_EVENT_PATH {p} is not valid JSON: {e}"))
            })?
        }
        None => Value::Null,
    };
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    match name.as_str() {
        "pull_request" | "pull_request_target" => {
            let pr = &event["pull_request"];
            let base = inputs.base.clone().or_else(|| s(&pr["base"]["sha"]));
            let head = inputs.head.clone().or_else(|| s(&pr["head"]["sha"]));
            let (Some(base), Some(head)) = (base, head) else {
                return Err(Error::Usage(format!(
                    "the {name} event has no pull_request.base.sha / pull_request.head.sha\n  hint: check GITHUB_EVENT_PATH"
                )));
            };
            let head_repository = s(&pr["head"]["repo"]["full_name"]);
            let fork = match (&head_repository, s(&pr["base"]["repo"]["full_name"])) {
                (Some(h), Some(b)) => *h != b,
                _ => false,
            };
            Ok(Target {
                event: name.clone(),
                base,
                head,
                pr_number: pr["number"].as_u64().or_else(|| event["number"].as_u64()),
                pr_title: s(&pr["title"]),
                author: s(&pr["user"]["login"]),
                head_ref: s(&pr["head"]["ref"]),
                fork,
                head_repository,
                labels: labels(&event),
            })
        }
        "merge_group" => {
            let mg = &event["merge_group"];
            let (Some(base), Some(head)) = (
                inputs.base.clone().or_else(|| s(&mg["base_sha"])),
                inputs.head.clone().or_else(|| s(&mg["head_sha"])),
            ) else {
                return Err(Error::Usage(
                    "the merge_group event has no merge_group.base_sha / head_sha".into(),
                ));
            };
            let head_ref = s(&mg["head_ref"]);
            Ok(Target {
                event: name.clone(),
                base,
                head,
                // gh-readonly-queue/main/pr-123-<sha>
                pr_number: head_ref.as_deref().and_then(queue_pr_number),
                pr_title: None,
                author: None,
                head_ref,
                fork: false,
                head_repository: None,
                labels: PrLabels::default(),
            })
        }
        "push" | "workflow_dispatch" | "schedule" | "" => {
            let zero = |x: &String| x.chars().all(|c| c == '0');
            let base = inputs.base.clone().or_else(|| {
                (name == "push").then(|| s(&event["before"])).flatten().filter(|b| !zero(b))
            });
            let Some(base) = base else {
                return Err(Error::Usage(format!(
                    "a {} run needs an explicit base to compare with\n  hint: set the action's `base` input (a branch, tag or sha, e.g. `base: origin/main`)",
                    if name.is_empty() { "non-pull-request" } else { name.as_str() }
                )));
            };
            let head = inputs
                .head
                .clone()
                .or_else(|| s(&event["after"]).filter(|h| !zero(h)))
                .or_else(|| env.get("GITHUB_SHA").map(str::to_string))
                .unwrap_or_else(|| "HEAD".to_string());
            Ok(Target {
                event: name.clone(),
                base,
                head,
                pr_number: None,
                pr_title: None,
                author: None,
                head_ref: env.get("GITHUB_REF_NAME").map(str::to_string),
                fork: false,
                head_repository: None,
                labels: PrLabels::default(),
            })
        }
        other => Err(Error::Usage(format!(
            "pr-risk does not know how to score a `{other}` event\n  hint: run it on pull_request, pull_request_target, merge_group, or push/workflow_dispatch with the `base` input"
        ))),
    }
}

/// The labels of a `pull_request` / `pull_request_target` event. The actor is taken only from a
/// `labeled` event (its `sender`, who applied `label`); any other action (`synchronize`,
/// `opened`, `unlabeled` of another label) tells which labels are on the pull request, not who
/// put them there.
fn labels(event: &Value) -> PrLabels {
    let name = |v: &Value| v["name"].as_str().map(str::to_string);
    let names = event["pull_request"]["labels"]
        .as_array()
        .map(|a| a.iter().filter_map(name).collect())
        .unwrap_or_default();
    let labeled = (event["action"].as_str() == Some("labeled"))
        .then(|| {
            Some((
                name(&event["label"])?,
                event["sender"]["login"].as_str()?.to_string(),
            ))
        })
        .flatten()
        .filter(|(l, who)| !l.is_empty() && !who.is_empty());
    PrLabels { names, labeled }
}

fn queue_pr_number(head_ref: &str) -> Option<u64> {
    let last = head_ref.rsplit('/').next()?;
    let rest = last.strip_prefix("pr-")?;
    rest.split('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(name: &str, event: &Value) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("event.json");
        std::fs::write(&p, event.to_string()).unwrap();
        let mut e = Env::default();
        e.0.insert("GITHUB_EVENT_NAME".into(), name.into());
        e.0.insert("GITHUB_EVENT_PATH".into(), p.to_string_lossy().into());
        e.0.insert("GITHUB_SHA".into(), "merge000".into());
        (dir, e)
    }

    #[test]
    fn pull_request_uses_base_and_head_not_github_sha() {
        let ev = serde_json::json!({"number": 7, "pull_request": {
            "number": 7, "title": "Fix", "base": {"sha": "b1", "repo": {"full_name": "o/r"}},
            "head": {"sha": "h1", "ref": "feat", "repo": {"full_name": "fork/r"}}}});
        let (_d, env) = env_with("pull_request_target", &ev);
        let t = target(&env, &Inputs::default()).unwrap();
        assert_eq!((t.base.as_str(), t.head.as_str()), ("b1", "h1"));
        assert_eq!(t.pr_number, Some(7));
        assert!(t.fork);
    }

    #[test]
    fn labels_and_who_applied_them() {
        let pr = |action: &str| {
            serde_json::json!({"action": action, "number": 7,
                "label": {"name": "pr-risk:accepted"}, "sender": {"login": "lead"},
                "pull_request": {"number": 7, "base": {"sha": "b"}, "head": {"sha": "h"},
                    "labels": [{"name": "bug"}, {"name": "pr-risk:accepted"}]}})
        };
        let (_d, env) = env_with("pull_request", &pr("labeled"));
        let t = target(&env, &Inputs::default()).unwrap();
        assert_eq!(t.labels.names, vec!["bug", "pr-risk:accepted"]);
        assert_eq!(
            t.labels.labeled,
            Some(("pr-risk:accepted".to_string(), "lead".to_string()))
        );
        let o = t.labels.override_for("PR-RISK:accepted").unwrap();
        assert_eq!(o.actor.as_deref(), Some("lead"));
        // Another action: the label is there, who applied it is not in the event.
        let (_d, env) = env_with("pull_request", &pr("synchronize"));
        let t = target(&env, &Inputs::default()).unwrap();
        assert_eq!(t.labels.labeled, None);
        let o = t.labels.override_for("pr-risk:accepted").unwrap();
        assert_eq!(o.actor, None);
        assert!(t.labels.override_for("other").is_none());
    }

    #[test]
    fn merge_group() {
        let ev = serde_json::json!({"merge_group": {"base_sha": "b", "head_sha": "h",
            "head_ref": "refs/heads/gh-readonly-queue/main/pr-123-abc"}});
        let (_d, env) = env_with("merge_group", &ev);
        let t = target(&env, &Inputs::default()).unwrap();
        assert_eq!(t.pr_number, Some(123));
        assert_eq!(t.head, "h");
    }

    #[test]
    fn dispatch_needs_a_base() {
        let (_d, env) = env_with("workflow_dispatch", &serde_json::json!({}));
        assert!(target(&env, &Inputs::default())
            .unwrap_err()
            .to_string()
            .contains("`base` input"));
        let inputs = Inputs {
            base: Some("origin/main".into()),
            ..Default::default()
        };
        let t = target(&env, &inputs).unwrap();
        assert_eq!(
            (t.base.as_str(), t.head.as_str()),
            ("origin/main", "merge000")
        );
    }

    #[test]
    fn push_uses_before() {
        let (_d, env) = env_with(
            "push",
            &serde_json::json!({"before": "aaa", "after": "bbb"}),
        );
        let t = target(&env, &Inputs::default()).unwrap();
        assert_eq!((t.base.as_str(), t.head.as_str()), ("aaa", "bbb"));
    }
}
