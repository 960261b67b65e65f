//! Security findings from dependency changes: what the new versions bring in.
//!
//! Built from the report's `dependencies` section ([`crate::deps::Dependencies`]), which is
//! already diff-aware: only what the head introduces relative to the base is a finding.
//!
//! | rule | when | severity |
//! |---|---|---|
//! | `deps/vulnerable-version` | a head version has known vulnerabilities its base version did not have (or the package is new) | the most severe introduced advisory's |
//! | `deps/install-script` | a package newly runs an install script (`hasInstallScript`, `requiresBuild`), or a workspace crate gained a `build.rs` / became a procedural macro | medium |
//! | `deps/git-source` | a package newly comes from a git repository or a tarball URL instead of a registry | medium |
//! | `deps/downgrade` | a direct dependency moves to a lower version | low |
//!
//! Each finding points at the manifest line that declares the dependency (the `package.json` /
//! `Cargo.toml` line of its name), else at its entry in the lock file, else at line 1 of the
//! manifest or lock file. `security.disable` and `security.severity` apply to these rule ids like
//! to every other rule.

use super::fingerprint::{self, Identity};
use super::rules::Severity;
use super::{Finding, SecuritySettings};
use crate::deps::{self, BuildChangeKind, Change, ChangeKind, Dependencies, Source};

pub const VULNERABLE_ID: &str = "deps/vulnerable-version";
pub const INSTALL_SCRIPT_ID: &str = "deps/install-script";
pub const GIT_SOURCE_ID: &str = "deps/git-source";
pub const DOWNGRADE_ID: &str = "deps/downgrade";

/// One dependency rule, for `pr-risk rules list`.
pub struct DependencyRule {
    pub id: &'static str,
    /// The default severity (a vulnerability's comes from its advisory: this is shown only).
    pub severity: Severity,
    pub cwe: &'static str,
    pub owasp: &'static str,
    pub message: &'static str,
}

pub const RULES: [DependencyRule; 4] = [
    DependencyRule {
        id: VULNERABLE_ID,
        severity: Severity::High,
        cwe: "CWE-1395",
        owasp: "A06:2021 Vulnerable and Outdated Components",
        message: "A dependency version with known vulnerabilities is introduced (severity from the advisory)",
    },
    DependencyRule {
        id: INSTALL_SCRIPT_ID,
        severity: Severity::Medium,
        cwe: "CWE-829",
        owasp: "A08:2021 Software and Data Integrity Failures",
        message: "A dependency newly runs code when it is installed or built",
    },
    DependencyRule {
        id: GIT_SOURCE_ID,
        severity: Severity::Medium,
        cwe: "CWE-494",
        owasp: "A08:2021 Software and Data Integrity Failures",
        message: "A dependency newly comes from a git repository or a URL instead of a registry",
    },
    DependencyRule {
        id: DOWNGRADE_ID,
        severity: Severity::Low,
        cwe: "CWE-1395",
        owasp: "A06:2021 Vulnerable and Outdated Components",
        message: "A direct dependency is downgraded",
    },
];

fn rule(id: &str) -> &'static DependencyRule {
    RULES.iter().find(|r| r.id == id).unwrap_or(&RULES[0])
}

/// The advisory database's severity in the rules' scale.
pub fn severity(s: deps::Severity) -> Severity {
    match s {
        deps::Severity::Critical => Severity::Critical,
        deps::Severity::High => Severity::High,
        deps::Severity::Medium => Severity::Medium,
        deps::Severity::Low => Severity::Low,
    }
}

/// The findings the dependency changes introduce, most severe first then by place.
pub fn findings(deps: &Dependencies, cfg: &SecuritySettings) -> Vec<Finding> {
    let enabled = |id: &str| !cfg.disable.iter().any(|d| d == id);
    let sev = |id: &str, default: Severity| cfg.severity.get(id).copied().unwrap_or(default);
    let mut out = Vec::new();
    for c in &deps.changes {
        let Some(to) = c.to.as_deref() else { continue };
        // Messages name the package plainly (outputs escape them); fixes and actions as code.
        let plain = c.name.as_str();
        let name = format!("`{}`", c.name);
        let mut tags = Vec::new();
        let versions = match c.from.as_deref() {
            Some(from) if from != to => format!("{from} → {to}"),
            Some(_) => to.to_string(),
            None => {
                tags.push("new");
                to.to_string()
            }
        };
        if c.dev_only {
            tags.push("dev-only");
        }
        let dev = if tags.is_empty() {
            String::new()
        } else {
            format!(" ({})", tags.join(", "))
        };
        let introduced: Vec<&deps::Advisory> =
            c.advisories.iter().filter(|a| a.introduced).collect();
        if enabled(VULNERABLE_ID) && !introduced.is_empty() {
            let worst = introduced
                .iter()
                .map(|a| severity(a.severity))
                .max()
                .unwrap_or(Severity::Medium);
            let ids: Vec<String> = introduced
                .iter()
                .map(|a| format!("{} ({}: {})", a.id, a.severity.as_str(), a.summary))
                .collect();
            let bare: Vec<&str> = introduced.iter().map(|a| a.id.as_str()).collect();
            let mut fixed: Vec<&str> = introduced
                .iter()
                .flat_map(|a| a.fixed.iter().map(String::as_str))
                .collect();
            fixed.sort_by(|a, b| {
                match (
                    deps::semver::Version::parse(a),
                    deps::semver::Version::parse(b),
                ) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => a.cmp(b),
                }
            });
            fixed.dedup();
            let fix = match fixed.last() {
                Some(v) => format!(
                    "Upgrade {name} to a version outside {} (fixed in {v} or later), or keep the base version",
                    bare.join(", ")
                ),
                None => format!(
                    "Upgrade {name} to a version outside {} (no fixed version is known: replace it or keep the base version)",
                    bare.join(", ")
                ),
            };
            out.push(finding(
                c,
                VULNERABLE_ID,
                sev(VULNERABLE_ID, worst),
                format!(
                    "{plain} {versions}{dev} has known vulnerabilities the base version did not have: {}",
                    ids.join("; ")
                ),
                fix,
                bare.join(","),
            ));
        }
        if enabled(INSTALL_SCRIPT_ID) && c.new_install_script {
            out.push(finding(
                c,
                INSTALL_SCRIPT_ID,
                sev(INSTALL_SCRIPT_ID, Severity::Medium),
                format!("{plain} {versions}{dev} runs an install script the base did not run"),
                format!("Review what the install script of {name} does before merging, or install with scripts disabled (`--ignore-scripts`) if it does not need them"),
                "install-script".into(),
            ));
        }
        if enabled(GIT_SOURCE_ID) && new_git_source(c) {
            out.push(finding(
                c,
                GIT_SOURCE_ID,
                sev(GIT_SOURCE_ID, Severity::Medium),
                format!(
                    "{plain} {versions}{dev} now comes from {}{}",
                    c.source.describe(),
                    match &c.previous_source {
                        Some(p) => format!(" (was {})", p.describe()),
                        None => String::new(),
                    }
                ),
                format!("Use a registry release of {name}; if the {} source is intended, pin it to a commit and review it", c.source.kind()),
                c.source.describe(),
            ));
        }
        if enabled(DOWNGRADE_ID) && c.kind == ChangeKind::Downgraded && c.is_direct() {
            out.push(finding(
                c,
                DOWNGRADE_ID,
                sev(DOWNGRADE_ID, Severity::Low),
                format!("{plain} is downgraded {versions}{dev}"),
                format!("Keep {name} at its base version unless the downgrade is intended (say why in the pull request: fixes made after the lower version are lost)"),
                "downgrade".into(),
            ));
        }
    }
    if enabled(INSTALL_SCRIPT_ID) {
        for b in &deps.build_changes {
            let (what, path) = match b.kind {
                BuildChangeKind::BuildScript => (
                    format!(
                        "gained a build script{}",
                        b.path
                            .as_deref()
                            .map(|p| format!(" {p}"))
                            .unwrap_or_default()
                    ),
                    b.path.clone().unwrap_or_else(|| b.manifest.clone()),
                ),
                BuildChangeKind::ProcMacro => {
                    ("became a procedural macro".to_string(), b.manifest.clone())
                }
            };
            let identity = Identity {
                item: b.package.clone(),
                anchor: format!("{:?}", b.kind),
                ordinal: 0,
            };
            out.push(Finding {
                rule: INSTALL_SCRIPT_ID.into(),
                severity: sev(INSTALL_SCRIPT_ID, Severity::Medium),
                fingerprint: fingerprint::fingerprint(INSTALL_SCRIPT_ID, &path, &identity),
                path,
                line: 1,
                column: 1,
                end_line: 1,
                message: format!(
                    "crate {}{} {what}: its code runs at build time",
                    b.package,
                    if b.new_package { " (new)" } else { "" }
                ),
                cwe: rule(INSTALL_SCRIPT_ID).cwe.into(),
                owasp: Some(rule(INSTALL_SCRIPT_ID).owasp.into()),
                fix: "Review what runs at build time (it runs on every developer's machine and in CI)".into(),
                snippet: String::new(),
                identity,
                source: None,
                suppressed: None,
                suppressed_by_pr: false,
                norm: String::new(),
            });
        }
    }
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.path, a.line, &a.rule).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.path,
            b.line,
            &b.rule,
        ))
    });
    out
}

/// The head version comes from git or a URL, and the base's did not (or not from the same
/// repository: a new commit of the same one is not a new source).
fn new_git_source(c: &Change) -> bool {
    let remote = |s: &Source| match s {
        Source::Git { url, .. } | Source::Url { url } => Some(url.clone()),
        _ => None,
    };
    let Some(head) = remote(&c.source) else {
        return false;
    };
    match (&c.previous_source, c.kind) {
        (Some(prev), _) => remote(prev).as_deref() != Some(head.as_str()),
        (None, ChangeKind::Added) => true,
        // Same source on both sides.
        (None, _) => false,
    }
}

/// Where a finding about `c` points: the manifest line declaring it, else its lock-file entry,
/// else line 1 of the manifest or lock file.
pub fn location(c: &Change) -> (String, u32) {
    if let Some(d) = c.direct.iter().find(|d| d.line > 0) {
        return (d.manifest.clone(), d.line);
    }
    if let Some(l) = c.lockfile.as_ref().filter(|l| l.line > 0) {
        return (l.path.clone(), l.line);
    }
    if let Some(d) = c.direct.first() {
        return (d.manifest.clone(), 1);
    }
    if let Some(l) = &c.lockfile {
        return (l.path.clone(), 1);
    }
    let manifest = match c.ecosystem {
        deps::Ecosystem::Npm => "package.json",
        deps::Ecosystem::Cargo => "Cargo.toml",
    };
    let path = if c.project.is_empty() {
        manifest.to_string()
    } else {
        format!("{}/{manifest}", c.project)
    };
    (path, 1)
}

fn finding(
    c: &Change,
    id: &str,
    severity: Severity,
    message: String,
    fix: String,
    anchor: String,
) -> Finding {
    let (path, line) = location(c);
    let identity = Identity {
        item: format!("{}:{}", c.ecosystem.as_str(), c.name),
        anchor: format!("{}@{}", anchor, c.to.as_deref().unwrap_or("")),
        ordinal: 0,
    };
    let snippet = c
        .direct
        .iter()
        .find(|d| d.manifest == path)
        .map(|d| format!("{}: {}", d.key, d.requirement))
        .unwrap_or_else(|| format!("{}@{}", c.name, c.to.as_deref().unwrap_or("")));
    let r = rule(id);
    Finding {
        rule: id.to_string(),
        severity,
        fingerprint: fingerprint::fingerprint(id, &path, &identity),
        path,
        line,
        column: 1,
        end_line: line,
        message: deps::model::printable(&message),
        cwe: r.cwe.to_string(),
        owasp: Some(r.owasp.to_string()),
        fix: deps::model::printable(&fix),
        snippet: deps::model::printable(&snippet),
        identity,
        source: None,
        suppressed: None,
        suppressed_by_pr: false,
        norm: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deps::{Advisory, DepKind, DirectUse, Ecosystem, Location};

    fn change(kind: ChangeKind, from: Option<&str>, to: &str) -> Change {
        Change {
            ecosystem: Ecosystem::Npm,
            project: String::new(),
            name: "x".into(),
            kind,
            from: from.map(str::to_string),
            to: Some(to.into()),
            semver: None,
            breaking: false,
            resolved: true,
            direct: Vec::new(),
            via: Vec::new(),
            dev_only: false,
            source: Source::DEFAULT,
            previous_source: None,
            install_script: None,
            new_install_script: false,
            lockfile: Some(Location {
                path: "package-lock.json".into(),
                line: 40,
            }),
            importers: Vec::new(),
            test_importers: 0,
            type_only_importers: Vec::new(),
            advisories: Vec::new(),
        }
    }

    fn advisory(id: &str, severity: deps::Severity, introduced: bool, fixed: &[&str]) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: Vec::new(),
            summary: "bad".into(),
            severity,
            severity_from: "database: X".into(),
            cvss_score: None,
            url: String::new(),
            fixed: fixed.iter().map(|s| s.to_string()).collect(),
            introduced,
        }
    }

    fn run(changes: Vec<Change>, cfg: &SecuritySettings) -> Vec<Finding> {
        findings(
            &Dependencies {
                changes,
                ..Dependencies::default()
            },
            cfg,
        )
    }

    #[test]
    fn only_introduced_advisories_are_findings_at_the_worst_severity() {
        let mut c = change(ChangeKind::Upgraded, Some("1.0.0"), "1.1.0");
        c.advisories = vec![
            advisory("GHSA-old", deps::Severity::Critical, false, &["2.0.0"]),
            advisory("GHSA-a", deps::Severity::Medium, true, &["1.1.1"]),
            advisory("GHSA-b", deps::Severity::High, true, &["1.1.10"]),
        ];
        c.direct = vec![DirectUse {
            manifest: "package.json".into(),
            line: 7,
            kind: DepKind::Prod,
            key: "x".into(),
            requirement: "^1.1.0".into(),
            previous_requirement: None,
        }];
        let f = run(vec![c.clone()], &SecuritySettings::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            (
                f[0].rule.as_str(),
                f[0].severity,
                f[0].path.as_str(),
                f[0].line
            ),
            (VULNERABLE_ID, Severity::High, "package.json", 7)
        );
        assert!(!f[0].message.contains("GHSA-old"), "{}", f[0].message);
        assert!(f[0]
            .fix
            .contains("outside GHSA-a, GHSA-b (fixed in 1.1.10 or later)"));
        // Inherited only: nothing.
        c.advisories.retain(|a| !a.introduced);
        assert!(run(vec![c], &SecuritySettings::default()).is_empty());
    }

    #[test]
    fn git_sources_downgrades_and_settings() {
        let git = |rev: &str| Source::Git {
            url: "https://github.com/o/r".into(),
            rev: Some(rev.into()),
        };
        // A new commit of the same repository is not a new source; registry → git is.
        let mut same = change(ChangeKind::Changed, Some("a"), "b");
        same.source = git("b");
        same.previous_source = Some(git("a"));
        let mut moved = change(ChangeKind::SourceChanged, Some("1.0.0"), "1.0.0");
        moved.source = git("c");
        moved.previous_source = Some(Source::DEFAULT);
        // A transitive downgrade is only listed; the lock-file line is the location.
        let transitive = change(ChangeKind::Downgraded, Some("2.0.0"), "1.0.0");
        let f = run(
            vec![same.clone(), moved.clone(), transitive.clone()],
            &SecuritySettings::default(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].rule.as_str(), f[0].path.as_str(), f[0].line),
            (GIT_SOURCE_ID, "package-lock.json", 40)
        );
        let mut direct = transitive;
        direct.direct = vec![DirectUse {
            manifest: "package.json".into(),
            line: 0,
            kind: DepKind::Dev,
            key: "x".into(),
            requirement: "1.0.0".into(),
            previous_requirement: None,
        }];
        let mut cfg = SecuritySettings::default();
        cfg.severity.insert(DOWNGRADE_ID.into(), Severity::High);
        cfg.disable.push(GIT_SOURCE_ID.into());
        let f = run(vec![moved, direct], &cfg);
        assert_eq!(f.len(), 1);
        // The manifest line is unknown: the lock-file entry.
        assert_eq!(
            (f[0].rule.as_str(), f[0].severity, f[0].line),
            (DOWNGRADE_ID, Severity::High, 40)
        );
    }
}
