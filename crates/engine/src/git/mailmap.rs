//! `.mailmap`: the canonical name and e-mail of each commit author, as `git shortlog` shows them.
//!
//! Reviewer guidance reads the file from the **base** commit (a pull request cannot rename who
//! wrote what) and hands its text here; libgit2 parses it and looks authors up. Authors are
//! identified by their lower-cased e-mail ([`super::history::identity`]) while libgit2 compares
//! e-mails byte for byte, so the e-mails inside `<…>` are lower-cased before parsing: git itself
//! matches them case-insensitively. Names are matched as written, as libgit2 does.

/// A parsed mailmap (empty when the repository has none).
pub struct Mailmap {
    raw: Option<git2::Mailmap>,
    /// Entries the file has (lines with at least one `<e-mail>`).
    pub entries: usize,
}

impl std::fmt::Debug for Mailmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailmap")
            .field("entries", &self.entries)
            .finish()
    }
}

impl Default for Mailmap {
    fn default() -> Self {
        Mailmap::empty()
    }
}

impl Mailmap {
    /// No mapping: every author is who their commits say.
    pub fn empty() -> Mailmap {
        Mailmap {
            raw: None,
            entries: 0,
        }
    }

    /// Parse the text of a `.mailmap` file; a text libgit2 refuses maps nothing.
    pub fn parse(text: &str) -> Mailmap {
        let mut normalised = String::with_capacity(text.len());
        let mut entries = 0;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut inside = false;
            for ch in line.chars() {
                match ch {
                    '<' => inside = true,
                    '>' => inside = false,
                    _ => {}
                }
                if inside {
                    normalised.extend(ch.to_lowercase());
                } else {
                    normalised.push(ch);
                }
            }
            normalised.push('\n');
            if line.contains('<') {
                entries += 1;
            }
        }
        // A NUL byte is the one thing libgit2 cannot take: such a file maps nothing.
        let raw = git2::Mailmap::from_buffer(&normalised).ok();
        Mailmap {
            entries: if raw.is_some() { entries } else { 0 },
            raw,
        }
    }

    /// The canonical `(name, e-mail)` of an author (`email` lower-cased, as the history keeps it);
    /// unchanged when no entry matches.
    pub fn resolve(&self, name: &str, email: &str) -> (String, String) {
        let unchanged = || (name.to_string(), email.to_string());
        let Some(raw) = &self.raw else {
            return unchanged();
        };
        // libgit2 wants a signature; one with an empty name or e-mail cannot be made (and cannot
        // be looked up either).
        let Ok(sig) = git2::Signature::new(name, email, &git2::Time::new(0, 0)) else {
            return unchanged();
        };
        match raw.resolve_signature(&sig) {
            Ok(real) => (
                String::from_utf8_lossy(real.name_bytes())
                    .trim()
                    .to_string(),
                String::from_utf8_lossy(real.email_bytes())
                    .trim()
                    .to_lowercase(),
            ),
            Err(_) => unchanged(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four forms of git's documentation (`git help gitmailmap`).
    #[test]
    fn the_four_forms_and_case_insensitive_emails() {
        let m = Mailmap::parse(
            "# comment\n\
             Proper Name <commit@example.com>\n\
             <proper@example.com> <Old@Example.com>\n\
             Joe Dev <joe@example.com> <jdev@laptop.local>\n\
             Jane Dev <jane@example.com> jane <jane@laptop.local> # trailing comment\n",
        );
        assert_eq!(m.entries, 4);
        assert_eq!(
            m.resolve("whoever", "commit@example.com"),
            ("Proper Name".to_string(), "commit@example.com".to_string())
        );
        assert_eq!(
            m.resolve("Old", "old@example.com"),
            ("Old".to_string(), "proper@example.com".to_string())
        );
        assert_eq!(
            m.resolve("joe", "jdev@laptop.local"),
            ("Joe Dev".to_string(), "joe@example.com".to_string())
        );
        // Name and e-mail must both match for the fourth form.
        assert_eq!(
            m.resolve("jane", "jane@laptop.local"),
            ("Jane Dev".to_string(), "jane@example.com".to_string())
        );
        assert_eq!(
            m.resolve("someone", "jane@laptop.local"),
            ("someone".to_string(), "jane@laptop.local".to_string())
        );
        assert_eq!(
            m.resolve("", "x@example.com"),
            (String::new(), "x@example.com".to_string())
        );
        assert_eq!(
            Mailmap::empty().resolve("a", "b@c"),
            ("a".into(), "b@c".into())
        );
    }
}
