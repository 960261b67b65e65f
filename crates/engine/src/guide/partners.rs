//! Expected partners: files that usually change together with a changed file, left untouched.
//!
//! From the history window the regression dimension mines (merges and bulk commits — more than
//! `regression.bulk-files` files — ignored; renames followed), for each file the pull request
//! changes (its path at the merge-base) and each file `p` that changed in the same commits:
//!
//! - **support**: the commits that changed both;
//! - **confidence**: support over the commits that changed the changed file.
//!
//! A file is an expected partner when support ≥ `guidance.partners-min-support` (5), confidence ≥
//! `guidance.partners-min-confidence` (60 %), the pull request does not touch it, **and** the two
//! are linked: one imports the other in the merge-base's dependency graph, or they are a source
//! file and its test (`handler.ts` and `handler.test.ts`, `__tests__/handler.ts`,
//! `tests/handler.rs`: the test globs decide which is the test, the names must match once the
//! test markers are dropped). Co-change alone (a changelog, a lock file, a version bump) is not
//! enough: the link makes the pair something the reviewer should look at. Each partner is listed
//! once, for the changed file it goes with most often.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::glob::GlobList;
use crate::graph::DepGraph;

use super::authorship::HistoryInput;

/// How a partner is linked to the changed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Link {
    /// The changed file imports the partner.
    Imports,
    /// The partner imports the changed file.
    ImportedBy,
    /// The partner is the changed file's test.
    Test,
    /// The partner is the source file the changed test tests.
    Source,
}

/// A file that usually changes with a changed file and was not changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    /// The file the pull request did not touch.
    pub path: String,
    /// The changed file it usually changes with (its path at head).
    pub changed: String,
    /// Commits that changed both.
    pub together: u32,
    /// Commits that changed `changed` (at its path at the merge-base).
    pub commits: u32,
    /// `together / commits`, in percent (rounded).
    pub percent: u32,
    pub link: Link,
}

/// The thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub min_support: u32,
    pub min_confidence: f64,
}

/// The expected partners of a change: `changed` pairs each changed file's path at head with its
/// path at the merge-base (`None` for an added file); `touched` is every path the change touches
/// (both sides of renames); `graph` is the merge-base's dependency graph. Best first.
pub fn partners(
    input: &HistoryInput,
    changed: &[(&str, Option<&str>)],
    touched: &HashSet<&str>,
    graph: &DepGraph,
    tests: &GlobList,
    t: Thresholds,
) -> Vec<Partner> {
    // The commits that changed a changed file, each with that file's commit count.
    let mut of_changed: Vec<(&str, &str, Vec<u32>)> = Vec::new();
    let mut relevant: HashSet<u32> = HashSet::new();
    for (head_path, base_path) in changed {
        let Some(base_path) = base_path else { continue };
        let Some(h) = input.files.get(*base_path) else {
            continue;
        };
        let ids: Vec<u32> = h.ids.iter().copied().filter(|i| input.counts(*i)).collect();
        if (ids.len() as u32) < t.min_support {
            continue;
        }
        relevant.extend(ids.iter().copied());
        of_changed.push((head_path, base_path, ids));
    }
    if of_changed.is_empty() {
        return Vec::new();
    }
    // Commit → the files (paths at the merge-base) it changed, for the relevant commits only.
    let mut files_of: HashMap<u32, Vec<&str>> = HashMap::new();
    for (path, h) in input.files {
        for i in &h.ids {
            if relevant.contains(i) {
                files_of.entry(*i).or_default().push(path.as_str());
            }
        }
    }
    let mut best: BTreeMap<&str, Partner> = BTreeMap::new();
    for (head_path, base_path, ids) in &of_changed {
        let mut together: HashMap<&str, u32> = HashMap::new();
        for i in ids {
            for p in files_of.get(i).into_iter().flatten() {
                if p != base_path {
                    *together.entry(p).or_default() += 1;
                }
            }
        }
        let n = ids.len() as u32;
        for (p, k) in together {
            if k < t.min_support
                || (f64::from(k) / f64::from(n)) < t.min_confidence
                || touched.contains(p)
            {
                continue;
            }
            let Some(link) = link(graph, tests, base_path, p) else {
                continue;
            };
            let candidate = Partner {
                path: p.to_string(),
                changed: head_path.to_string(),
                together: k,
                commits: n,
                percent: ((f64::from(k) / f64::from(n)) * 100.0).round() as u32,
                link,
            };
            match best.get(p) {
                Some(b) if rank(b) <= rank(&candidate) => {}
                _ => {
                    best.insert(p, candidate);
                }
            }
        }
    }
    let mut out: Vec<Partner> = best.into_values().collect();
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.path.cmp(&b.path)));
    out
}

/// Best first: higher confidence, then more commits together, then the changed file's path.
fn rank(p: &Partner) -> (std::cmp::Reverse<u64>, std::cmp::Reverse<u32>, String) {
    // Compare confidence exactly: together/commits as a fraction scaled to an integer.
    let conf = u64::from(p.together) * 1_000_000 / u64::from(p.commits.max(1));
    (
        std::cmp::Reverse(conf),
        std::cmp::Reverse(p.together),
        p.changed.clone(),
    )
}

/// How `changed` and `partner` (paths at the merge-base) are linked, if they are.
/// A source/test pair is named as such even when the test also imports the source.
pub fn link(graph: &DepGraph, tests: &GlobList, changed: &str, partner: &str) -> Option<Link> {
    match (tests.is_match(changed), tests.is_match(partner)) {
        (false, true) if test_subject(partner) == Some(stem(changed)) => return Some(Link::Test),
        (true, false) if test_subject(changed) == Some(stem(partner)) => return Some(Link::Source),
        _ => {}
    }
    let (a, b) = (graph.node(changed)?, graph.node(partner)?);
    let g = &graph.graph;
    if g.edges_connecting(a, b).next().is_some() {
        Some(Link::Imports)
    } else if g.edges_connecting(b, a).next().is_some() {
        Some(Link::ImportedBy)
    } else {
        None
    }
}

/// A file's name without its directory and last extension (`src/handler.ts` → `handler`).
fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s,
        _ => name,
    }
}

/// What a test file's name says it tests: its stem without the test markers
/// (`handler.test.ts`, `handler.spec.ts`, `handler_test.go`, `test_handler.py` → `handler`;
/// `__tests__/handler.ts`, `tests/handler.rs` → `handler`).
fn test_subject(path: &str) -> Option<&str> {
    let s = stem(path);
    let s = [
        ".test", ".spec", "_test", "-test", "_spec", "-spec", ".tests",
    ]
    .iter()
    .find_map(|m| s.strip_suffix(m))
    .or_else(|| s.strip_prefix("test_"))
    .unwrap_or(s);
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::history::tests::{commit_at, init};
    use crate::git::hunks::CommitFacts;
    use crate::guide::authorship::tests::{window, BASE, DAY};
    use crate::lang::{Import, ImportKind};
    use crate::resolve::{ResolvedImport, Target};

    fn imp(from: &str, to: &str) -> ResolvedImport {
        ResolvedImport {
            from: from.into(),
            import: Import {
                specifier: format!("./{to}"),
                line: 1,
                kind: ImportKind::Import,
                type_only: false,
            },
            target: Target::File { path: to.into() },
        }
    }

    /// Ten commits change `src/handler.ts`; its test changed with it in 8, `src/util.ts` (which it
    /// imports) in 6, `src/log.ts` (imported too) in 4, `CHANGELOG.md` (no link) in all ten and
    /// `src/other.test.ts` (a test, not of the handler) in 7. The first commit and a reformatting
    /// change all seven files: bulk (over 6), ignored. The change edits the handler and the
    /// changelog.
    #[test]
    fn support_confidence_and_the_link_decide() {
        let dir = tempfile::tempdir().unwrap();
        let repo = init(dir.path());
        let files = [
            "src/handler.ts",
            "src/handler.test.ts",
            "src/util.ts",
            "src/log.ts",
            "CHANGELOG.md",
            "src/other.test.ts",
            "README.md",
        ];
        let mut content: BTreeMap<&str, String> =
            files.iter().map(|f| (*f, "v0\n".to_string())).collect();
        fn snapshot(c: &BTreeMap<&'static str, String>) -> Vec<(&'static str, String)> {
            c.iter().map(|(k, v)| (*k, v.clone())).collect()
        }
        let mut parent = {
            let s = snapshot(&content);
            let v: Vec<(&str, &str)> = s.iter().map(|(k, v)| (*k, v.as_str())).collect();
            commit_at(&repo, &[], BASE - 100 * DAY, "init", "Ann", &v)
        };
        for k in 0..10u32 {
            let mut touch = vec!["src/handler.ts", "CHANGELOG.md"];
            if k < 8 {
                touch.push("src/handler.test.ts");
            }
            if k < 6 {
                touch.push("src/util.ts");
            }
            if k < 4 {
                touch.push("src/log.ts");
            }
            if k < 7 {
                touch.push("src/other.test.ts");
            }
            for f in touch {
                content.get_mut(f).unwrap().push_str(&format!("v{k}\n"));
            }
            let s = snapshot(&content);
            let v: Vec<(&str, &str)> = s.iter().map(|(k, v)| (*k, v.as_str())).collect();
            parent = commit_at(
                &repo,
                &[parent],
                BASE - (50 - i64::from(k)) * DAY,
                "work",
                "Ann",
                &v,
            );
        }
        // The bulk commit: every file (7 > bulk-files 6).
        for f in files {
            content.get_mut(f).unwrap().push_str("bulk\n");
        }
        let s = snapshot(&content);
        let v: Vec<(&str, &str)> = s.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let base = commit_at(&repo, &[parent], BASE, "reformat", "Ann", &v);
        let (records, state) = window(&repo, base);
        let change = CommitFacts::default();
        let input = HistoryInput {
            commits: &records,
            files: &state.files,
            base_time: BASE,
            bulk_files: 6,
            change: &change,
        };
        let graph = DepGraph::build(
            files.iter().copied(),
            vec![
                imp("src/handler.ts", "src/util.ts"),
                imp("src/handler.ts", "src/log.ts"),
            ],
        );
        let tests = GlobList::new(&crate::glob::patterns(&["*.test.ts"]));
        let changed = [
            ("src/handler.ts", Some("src/handler.ts")),
            ("CHANGELOG.md", Some("CHANGELOG.md")),
        ];
        let touched: HashSet<&str> = ["src/handler.ts", "CHANGELOG.md"].into_iter().collect();
        let run = |min_support: u32, min_confidence: f64| -> Vec<(String, u32, u32, Link)> {
            partners(
                &input,
                &changed,
                &touched,
                &graph,
                &tests,
                Thresholds {
                    min_support,
                    min_confidence,
                },
            )
            .into_iter()
            .map(|p| (p.path, p.together, p.commits, p.link))
            .collect()
        };
        let s = |p: &str| p.to_string();
        assert_eq!(
            run(5, 0.6),
            [
                (s("src/handler.test.ts"), 8, 10, Link::Test),
                (s("src/util.ts"), 6, 10, Link::Imports),
            ]
        );
        // Lower confidence: log.ts (4 of 10) needs support 4 too; other.test.ts has no link.
        assert_eq!(run(4, 0.4).len(), 3);
        assert_eq!(run(4, 0.4)[2], (s("src/log.ts"), 4, 10, Link::Imports));
        // Higher support than the file has commits: nothing.
        assert_eq!(run(11, 0.1), []);
        // A touched partner is never listed.
        let touched_test: HashSet<&str> = ["src/handler.ts", "src/handler.test.ts"]
            .into_iter()
            .collect();
        let p = partners(
            &input,
            &changed[..1],
            &touched_test,
            &graph,
            &tests,
            Thresholds {
                min_support: 5,
                min_confidence: 0.6,
            },
        );
        assert_eq!(
            p.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["src/util.ts"]
        );
        assert_eq!(p[0].percent, 60);
        assert_eq!(p[0].changed, "src/handler.ts");
    }

    #[test]
    fn test_subjects() {
        assert_eq!(test_subject("src/handler.test.ts"), Some("handler"));
        assert_eq!(test_subject("src/__tests__/handler.ts"), Some("handler"));
        assert_eq!(test_subject("pkg/handler_test.go"), Some("handler"));
        assert_eq!(test_subject("tests/test_handler.py"), Some("handler"));
        assert_eq!(test_subject("crates/x/tests/handler.rs"), Some("handler"));
        assert_eq!(stem("src/handler.ts"), "handler");
        assert_eq!(stem("src/.env"), ".env");
    }
}
