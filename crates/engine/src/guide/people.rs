//! Who is who: the commit authors of the history as people a review can be asked of.
//!
//! A commit names its author by a name and an e-mail. Through the base commit's `.mailmap`
//! ([`Mailmap`]) several of those become one person, keyed by the canonical lower-cased e-mail.
//! A GitHub login is known only where it is reliable: an e-mail GitHub itself hands out,
//! `12345+login@users.noreply.github.com` (or the older `login@users.noreply.github.com`), among
//! the person's e-mails before or after the mailmap — and only when they all name the same login.
//! Everyone else is shown by name and is never requested as a reviewer. Bots (`[bot]` accounts,
//! dependabot, renovate, GitHub Actions) are recognised by name, e-mail or login.
//!
//! `Co-authored-by:` trailers name people too: a commit is credited to its author and co-authors
//! in equal parts.

use std::collections::{BTreeSet, HashMap};

use crate::git::history::CommitRecord;
use crate::git::mailmap::Mailmap;

/// One person of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The canonical lower-cased e-mail, or the name when there is none.
    pub key: String,
    /// The canonical name (the mailmap's, else the latest spelling interned).
    pub name: String,
    /// Every GitHub login their e-mails name (one, when the login is reliable).
    pub logins: BTreeSet<String>,
    pub bot: bool,
}

impl Person {
    /// The GitHub login, when exactly one is known.
    pub fn login(&self) -> Option<&str> {
        match self.logins.len() {
            1 => self.logins.iter().next().map(String::as_str),
            _ => None,
        }
    }

    /// How the person is shown: `@login`, else the name, else the e-mail.
    pub fn display(&self) -> String {
        match self.login() {
            Some(l) => format!("@{l}"),
            None if !self.name.is_empty() => self.name.clone(),
            None => self.key.clone(),
        }
    }
}

/// The people of a history, interned.
#[derive(Debug, Default)]
pub struct People {
    mailmap: Mailmap,
    persons: Vec<Person>,
    by_key: HashMap<String, u32>,
    /// `(name, e-mail)` as commits spell them → person.
    seen: HashMap<(String, String), u32>,
    /// People whose name the mailmap gave (a later raw spelling does not replace it).
    named: std::collections::HashSet<u32>,
}

impl People {
    pub fn new(mailmap: Mailmap) -> People {
        People {
            mailmap,
            ..People::default()
        }
    }

    /// The person behind an author `name` and lower-cased `email` (either may be empty).
    pub fn intern(&mut self, name: &str, email: &str) -> u32 {
        if let Some(i) = self.seen.get(&(name.to_string(), email.to_string())) {
            return *i;
        }
        let (real_name, real_email) = self.mailmap.resolve(name, email);
        let key = if real_email.is_empty() {
            real_name.clone()
        } else {
            real_email.clone()
        };
        let i = match self.by_key.get(&key) {
            Some(i) => *i,
            None => {
                let i = self.persons.len() as u32;
                self.persons.push(Person {
                    key: key.clone(),
                    name: String::new(),
                    logins: BTreeSet::new(),
                    bot: false,
                });
                self.by_key.insert(key, i);
                i
            }
        };
        let p = &mut self.persons[i as usize];
        let mapped = real_name != name || real_email != email;
        if !real_name.is_empty() && (mapped || !self.named.contains(&i)) {
            p.name = real_name.clone();
            if mapped {
                self.named.insert(i);
            }
        }
        for e in [email, real_email.as_str()] {
            if let Some(l) = login_from_email(e) {
                p.logins.insert(l);
            }
        }
        p.bot |= is_bot_author(&real_name, email) || is_bot_author(name, &real_email);
        self.seen.insert((name.to_string(), email.to_string()), i);
        i
    }

    /// The people a commit is credited to: its author, then its co-authors (each once). A
    /// co-author with the author's own name (a commit made with one address and co-signed with
    /// another) is the author: that spelling is remembered as theirs.
    pub fn of_commit(&mut self, record: &CommitRecord) -> Vec<u32> {
        let author = self.intern(&record.author_name, &record.author);
        let mut out = vec![author];
        for (name, email) in co_authors(&record.message) {
            let same =
                |other: &str| !name.is_empty() && name.to_lowercase() == other.to_lowercase();
            if same(&record.author_name) || same(&self.persons[author as usize].name) {
                self.seen.entry((name, email)).or_insert(author);
                continue;
            }
            let p = self.intern(&name, &email);
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    pub fn get(&self, i: u32) -> &Person {
        &self.persons[i as usize]
    }

    /// The person keyed by a lower-cased e-mail, if they are in the history.
    pub fn by_email(&self, email: &str) -> Option<u32> {
        self.by_key.get(&email.to_ascii_lowercase()).copied()
    }
}

/// The GitHub login of an e-mail GitHub hands out: `12345+login@users.noreply.github.com` or
/// `login@users.noreply.github.com`.
pub fn login_from_email(email: &str) -> Option<String> {
    let local = email
        .to_ascii_lowercase()
        .strip_suffix("@users.noreply.github.com")?
        .to_string();
    let login = match local.split_once('+') {
        Some((id, login)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => login,
        Some(_) => return None,
        None => local.as_str(),
    };
    let name = login.strip_suffix("[bot]").unwrap_or(login);
    let valid = !name.is_empty()
        && name.len() <= 39
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then(|| login.to_string())
}

/// Whether a name, login or owner is a bot account.
pub fn is_bot(who: &str) -> bool {
    let w = who.trim_start_matches('@').trim().to_ascii_lowercase();
    w.ends_with("[bot]")
        || w.ends_with("-bot")
        || w.ends_with(" bot")
        || w == "bot"
        || w.contains("dependabot")
        || w.contains("renovate")
        || w == "github-actions"
        || w == "github action"
        || w == "github actions"
}

/// Whether a commit author (name, e-mail) is a bot.
pub fn is_bot_author(name: &str, email: &str) -> bool {
    let email = email.to_ascii_lowercase();
    let local = email.split('@').next().unwrap_or("");
    is_bot(name)
        || is_bot(local.split_once('+').map_or(local, |(_, l)| l))
        || matches!(
            email.as_str(),
            "action@github.com"
                | "actions@github.com"
                | "noreply@github.com"
                | "bot@renovateapp.com"
        )
}

/// The `Co-authored-by: Name <e-mail>` trailers of a message, e-mails lower-cased.
pub fn co_authors(message: &str) -> Vec<(String, String)> {
    message
        .lines()
        .filter_map(|line| {
            let (key, value) = line.trim().split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("co-authored-by") {
                return None;
            }
            let (name, rest) = value.split_once('<')?;
            let (email, _) = rest.split_once('>')?;
            let email = email.trim().to_lowercase();
            (!email.is_empty()).then(|| (name.trim().to_string(), email))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_only_from_github_noreply_emails() {
        let l = |e: &str| login_from_email(e);
        assert_eq!(
            l("1234+Octo-Cat@users.noreply.github.com").as_deref(),
            Some("octo-cat")
        );
        assert_eq!(
            l("octocat@users.noreply.github.com").as_deref(),
            Some("octocat")
        );
        assert_eq!(
            l("49699333+dependabot[bot]@users.noreply.github.com").as_deref(),
            Some("dependabot[bot]")
        );
        assert_eq!(l("octocat@github.com"), None);
        assert_eq!(l("x+octocat@users.noreply.github.com"), None);
        assert_eq!(l("-bad@users.noreply.github.com"), None);
        assert_eq!(l("a.b@users.noreply.github.com"), None);
    }

    #[test]
    fn bots_by_name_email_or_login() {
        assert!(is_bot_author(
            "dependabot[bot]",
            "49699333+dependabot[bot]@users.noreply.github.com"
        ));
        assert!(is_bot_author(
            "Someone",
            "41898282+github-actions[bot]@users.noreply.github.com"
        ));
        assert!(is_bot_author("GitHub Action", "action@github.com"));
        assert!(is_bot_author("Renovate Bot", "bot@renovateapp.com"));
        assert!(!is_bot_author("Abbot Smith", "abbot@example.com"));
        assert!(is_bot("@renovate[bot]") && !is_bot("@ana"));
    }

    #[test]
    fn co_author_trailers() {
        let m = "feat: x\n\nbody\n\nCo-authored-by: Ana Lima <Ana@Example.com>\nco-authored-by: bo <7+bo@users.noreply.github.com>\nSigned-off-by: Cy <cy@example.com>\n";
        assert_eq!(
            co_authors(m),
            [
                ("Ana Lima".to_string(), "ana@example.com".to_string()),
                (
                    "bo".to_string(),
                    "7+bo@users.noreply.github.com".to_string()
                )
            ]
        );
    }

    #[test]
    fn a_co_author_with_the_authors_name_is_the_author() {
        let mut people = People::default();
        let record = |name: &str, email: &str, message: &str| CommitRecord {
            author_name: name.to_string(),
            author: email.to_string(),
            message: message.to_string(),
            parents: Vec::new(),
            time: 0,
            changes: None,
            facts: None,
        };
        let c = record(
            "Theo B",
            "7+theo@users.noreply.github.com",
            "feat: x\n\nCo-authored-by: theo b <theo@example.com>\nCo-authored-by: Ana <ana@example.com>\n",
        );
        let credited = people.of_commit(&c);
        assert_eq!(credited.len(), 2, "Theo once, and Ana");
        assert_eq!(people.get(credited[0]).display(), "@theo");
        assert_eq!(people.get(credited[1]).display(), "Ana");
        // The other spelling is Theo's from now on.
        assert_eq!(people.intern("theo b", "theo@example.com"), credited[0]);
    }

    #[test]
    fn the_mailmap_joins_emails_and_a_login_survives_it() {
        let mm = Mailmap::parse(
            "Ana Lima <ana@example.com> <12+ana-l@users.noreply.github.com>\nAna Lima <ana@example.com> <ana@laptop>\n",
        );
        let mut people = People::new(mm);
        let a = people.intern("ana", "12+ana-l@users.noreply.github.com");
        let b = people.intern("Ana L.", "ana@laptop");
        let c = people.intern("Ana", "ana@example.com");
        assert_eq!((a, b), (c, c));
        let p = people.get(a);
        assert_eq!(p.name, "Ana Lima");
        assert_eq!(p.login(), Some("ana-l"));
        assert_eq!(p.display(), "@ana-l");
        // Two different logins for one person: neither is reliable.
        let mut people = People::new(Mailmap::parse(
            "Bo <bo@example.com> <1+bo@users.noreply.github.com>\nBo <bo@example.com> <2+bo2@users.noreply.github.com>\n",
        ));
        let x = people.intern("bo", "1+bo@users.noreply.github.com");
        people.intern("bo", "2+bo2@users.noreply.github.com");
        assert_eq!(people.get(x).login(), None);
        assert_eq!(people.get(x).display(), "Bo");
    }
}
