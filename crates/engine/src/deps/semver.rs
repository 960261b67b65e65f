//! Versions and requirements, as far as a dependency change needs them: their order, which
//! component moved (major, minor, patch, pre-release), whether the move leaves the caret range
//! (`^from`) that npm and Cargo both use by default, and the lowest version a requirement allows
//! (for manifests without a lock file).
//!
//! Semantic Versioning 2.0.0 precedence: numeric components compare as numbers; a pre-release
//! sorts before its release; pre-release identifiers compare numerically when both are numbers,
//! otherwise as ASCII, numbers before words; build metadata is ignored. Parsing is lenient where
//! lock files are (`v1.2.3`, `=1.2.3`, a missing minor or patch reads as 0) and returns `None`
//! for anything else (a git commit, a tag, `latest`).

use std::cmp::Ordering;

use serde::Serialize;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<Ident>,
}

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    Num(u64),
    Alpha(String),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Version {
    /// `1.2.3`, `v1.2.3`, `=1.2.3`, `1.2.3-beta.1+build`, `1.2` (patch 0), `1` (minor and patch 0).
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix('=').unwrap_or(t).trim_start();
        let t = t.strip_prefix('v').unwrap_or(t);
        let t = t.split('+').next().unwrap_or("");
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (t, None),
        };
        let mut nums = core.split('.');
        let num = |s: Option<&str>| -> Option<u64> {
            let s = s?;
            if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let major = num(nums.next())?;
        let minor = match nums.next() {
            Some(s) => num(Some(s))?,
            None => 0,
        };
        let patch = match nums.next() {
            Some(s) => num(Some(s))?,
            None => 0,
        };
        if nums.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                let mut v = Vec::new();
                for id in p.split('.') {
                    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return None;
                    }
                    v.push(match id.parse::<u64>() {
                        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Ident::Num(n),
                        _ => Ident::Alpha(id.to_string()),
                    });
                }
                v
            }
        };
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }
}

/// Which component of a version moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SemverKind {
    Major,
    Minor,
    Patch,
    /// Same major.minor.patch, another pre-release.
    Prerelease,
}

impl SemverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SemverKind::Major => "major",
            SemverKind::Minor => "minor",
            SemverKind::Patch => "patch",
            SemverKind::Prerelease => "prerelease",
        }
    }
}

/// The highest component that differs between two versions (`None` when they are equal but for
/// build metadata).
pub fn kind(from: &Version, to: &Version) -> Option<SemverKind> {
    if from.major != to.major {
        Some(SemverKind::Major)
    } else if from.minor != to.minor {
        Some(SemverKind::Minor)
    } else if from.patch != to.patch {
        Some(SemverKind::Patch)
    } else if from.pre != to.pre {
        Some(SemverKind::Prerelease)
    } else {
        None
    }
}

/// Whether moving between the two versions leaves the caret range of the lower one, the default
/// requirement of npm (`^1.2.3`) and Cargo (`1.2.3`): a major change, a minor change below 1.0.0,
/// a patch change below 0.1.0, or a move into or between pre-releases (which caret ranges never
/// match across).
pub fn breaking(from: &Version, to: &Version) -> bool {
    let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
    if lo.major != hi.major {
        return true;
    }
    if lo.major == 0 && lo.minor != hi.minor {
        return true;
    }
    if lo.major == 0 && lo.minor == 0 && lo.patch != hi.patch {
        return true;
    }
    !hi.pre.is_empty() && hi.pre != lo.pre
}

/// The lowest version a requirement allows, when it names one: npm ranges (`^1.2.3`, `~1.2`,
/// `>=1.0.0 <2`, `1.x`, `1.2.3 - 2.0.0`, `a || b` → the lowest alternative) and Cargo
/// requirements (`1.2`, `=1.2.3`, `>=1, <2`). `None` for `*`, `latest`, tags, URLs and paths.
pub fn lower_bound(requirement: &str) -> Option<Version> {
    requirement
        .split("||")
        .filter_map(|alt| {
            let alt = alt.trim();
            // `1.2.3 - 2.0.0`: the left end.
            let first = match alt.split_once(" - ") {
                Some((lo, _)) => lo,
                None => alt,
            };
            first
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|c| !c.is_empty())
                .filter_map(comparator_floor)
                .max()
        })
        .min()
}

/// The floor of one comparator: `^1.2`, `~1`, `>=1.0.0`, `=1.2.3`, `1.x`; `None` for an upper
/// bound (`<2`, `<=2`) or anything without a version.
fn comparator_floor(c: &str) -> Option<Version> {
    let c = c.trim();
    if c.starts_with('<') {
        return None;
    }
    let strict = c.starts_with('>') && !c.starts_with(">=");
    let v = c.trim_start_matches(['^', '~', '>', '=', 'v']).trim();
    // x-ranges: `1.x`, `1.2.*` read as their floor.
    let parts: Vec<&str> = v
        .split('.')
        .take_while(|p| !matches!(*p, "x" | "X" | "*"))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let mut floor = Version::parse(&parts.join("."))?;
    if strict {
        // `>1.2.3`: the next patch is the lowest version allowed (close enough for a kind).
        floor.patch += 1;
        floor.pre.clear();
    }
    Some(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|| panic!("{s} does not parse"))
    }

    #[test]
    fn precedence_follows_semver() {
        // The ordering example of semver.org §11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("1.2.3+build.5").cmp(&v("1.2.3")), Ordering::Equal);
        assert_eq!(v("v1.2"), v("1.2.0"));
    }

    #[test]
    fn what_does_not_parse() {
        for s in [
            "",
            "latest",
            "abc123def",
            "1.2.3.4",
            "1..2",
            "1.2.3-",
            "1.2.3-a..b",
            "99999999999999999999",
        ] {
            assert_eq!(Version::parse(s), None, "{s}");
        }
    }

    #[test]
    fn kinds_and_breaking() {
        let k = |a: &str, b: &str| kind(&v(a), &v(b));
        assert_eq!(k("3.22.4", "4.0.0"), Some(SemverKind::Major));
        assert_eq!(k("1.2.3", "1.3.0"), Some(SemverKind::Minor));
        assert_eq!(k("1.2.3", "1.2.4"), Some(SemverKind::Patch));
        assert_eq!(k("1.2.3-rc.1", "1.2.3"), Some(SemverKind::Prerelease));
        assert_eq!(k("1.2.3", "1.2.3+b"), None);
        let b = |a: &str, c: &str| breaking(&v(a), &v(c));
        assert!(b("1.9.0", "2.0.0"));
        assert!(!b("1.2.0", "1.9.9"));
        assert!(b("0.3.1", "0.4.0"));
        assert!(!b("0.3.1", "0.3.9"));
        assert!(b("0.0.3", "0.0.4"));
        assert!(b("1.2.3", "1.3.0-beta.1"));
        assert!(b("2.0.0", "1.0.0"), "symmetric");
    }

    #[test]
    fn lower_bounds_of_requirements() {
        let lb = |r: &str| lower_bound(r).map(|x| (x.major, x.minor, x.patch));
        assert_eq!(lb("^3.22.0"), Some((3, 22, 0)));
        assert_eq!(lb("~1.2"), Some((1, 2, 0)));
        assert_eq!(lb(">=1.0.0 <2.0.0"), Some((1, 0, 0)));
        assert_eq!(lb("1.x"), Some((1, 0, 0)));
        assert_eq!(lb("1.2.3 - 2.0.0"), Some((1, 2, 3)));
        assert_eq!(lb("^2 || ^1.4"), Some((1, 4, 0)));
        assert_eq!(lb(">=1, <2"), Some((1, 0, 0)));
        assert_eq!(lb("=0.4.3"), Some((0, 4, 3)));
        assert_eq!(lb(">1.2.3"), Some((1, 2, 4)));
        assert_eq!(lb("*"), None);
        assert_eq!(lb("latest"), None);
        assert_eq!(lb("github:user/repo"), None);
        assert_eq!(lb("<2"), None);
    }
}
