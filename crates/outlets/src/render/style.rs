//! Terminal colour: when to use it, and the `style` template filter that applies it.
//!
//! Colour is on only when the output is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>), unless `--color always|never` says otherwise. Templates mark text with
//! `{{ "BLOCKED" | style("bold red") }}`; with colour off the filter returns the text unchanged, so
//! one template serves both.

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Decide for one stream. `no_color` is the value of `NO_COLOR`, if set.
    pub fn enabled(self, is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }

    /// Decide for one stream from the process environment.
    pub fn enabled_for(self, is_terminal: bool) -> bool {
        let no_color = std::env::var("NO_COLOR").ok();
        self.enabled(is_terminal, no_color.as_deref())
    }
}

/// Escape text for a terminal: the one escaping function of the terminal sink, applied by the
/// text renderer to every value it prints (file names, messages, notes — text a pull request can
/// choose). Control characters (C0 and C1, DEL, so ANSI and OSC 8 sequences, bells and carriage
/// returns) and the bidirectional-override characters become visible escapes (`\x1B`, `\n`,
/// `\u{202E}`); a tab and everything printable are kept.
pub fn escape(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Wrap `text` in the SGR codes named by `spec` (space-separated: `bold`, `dim`, `underline`,
/// `red`, `green`, `yellow`, `blue`, `magenta`, `cyan`); unknown words are ignored.
pub fn paint(text: &str, spec: &str, color: bool) -> String {
    if !color || text.is_empty() {
        return text.to_string();
    }
    let codes: Vec<&str> = spec
        .split_whitespace()
        .filter_map(|w| {
            Some(match w {
                "bold" => "1",
                "dim" => "2",
                "underline" => "4",
                "red" => "31",
                "green" => "32",
                "yellow" => "33",
                "blue" => "34",
                "magenta" => "35",
                "cyan" => "36",
                _ => return None,
            })
        })
        .collect();
    if codes.is_empty() {
        return text.to_string();
    }
    format!("\x1b[{}m{text}\x1b[0m", codes.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_needs_a_terminal_and_no_no_color() {
        assert!(ColorChoice::Auto.enabled(true, None));
        assert!(ColorChoice::Auto.enabled(true, Some("")));
        assert!(!ColorChoice::Auto.enabled(true, Some("1")));
        assert!(!ColorChoice::Auto.enabled(false, None));
        assert!(ColorChoice::Always.enabled(false, Some("1")));
        assert!(!ColorChoice::Never.enabled(true, None));
    }

    #[test]
    fn terminal_escapes() {
        assert_eq!(escape("src/a.ts\tok"), "src/a.ts\tok");
        assert_eq!(
            escape("\u{1b}]8;;https://x/\u{7}y\u{1b}]8;;\u{7}"),
            "\\x1B]8;;https://x/\\x07y\\x1B]8;;\\x07"
        );
        assert_eq!(
            escape("a\nb\rc\u{9b}d\u{202e}e\u{7f}"),
            "a\\nb\\rc\\u{9B}d\\u{202E}e\\x7F"
        );
    }

    #[test]
    fn paint_codes() {
        assert_eq!(paint("x", "bold red", true), "\x1b[1;31mx\x1b[0m");
        assert_eq!(paint("x", "bold red", false), "x");
        assert_eq!(paint("x", "sparkly", true), "x");
    }
}
