//! Argument types several commands share: the global flags and the output format.

use clap::ValueEnum;

use outlets::render::style::ColorChoice;
use outlets::render::Format;

/// The flags every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Globals {
    /// Log progress to stderr (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print nothing but errors (and, in the hook, blocked refs); the exit code tells the verdict.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorArg,

    /// Do not use the network: no lookup of known vulnerabilities of changed dependencies (OSV),
    /// no fetch of a partial clone's missing objects; the report says what was not done. Also
    /// PR_RISK_OFFLINE=1.
    #[arg(
        long,
        global = true,
        env = "PR_RISK_OFFLINE",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub offline: bool,
}

impl Globals {
    pub fn color(&self) -> ColorChoice {
        self.color.into()
    }

    /// The progress line: only on a terminal stderr, and not with --quiet or --verbose (log lines
    /// would interleave with it).
    pub fn show_progress(&self) -> bool {
        use std::io::IsTerminal;
        !self.quiet && self.verbose == 0 && std::io::stderr().is_terminal()
    }
}

/// `--format`: how a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    /// The PR-comment template (`comment.md.j2`).
    Markdown,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Sarif => Format::Sarif,
        }
    }
}

/// `--mode`: whether the gate is enforced (overrides `mode` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// A blocked change exits 1.
    Gate,
    /// Report only: the exit code is 0 whatever the score (and the report says what the gate
    /// would have done).
    Advisory,
}

impl From<ModeArg> for engine::report::Mode {
    fn from(m: ModeArg) -> engine::report::Mode {
        match m {
            ModeArg::Gate => engine::report::Mode::Gate,
            ModeArg::Advisory => engine::report::Mode::Advisory,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for ColorChoice {
    fn from(c: ColorArg) -> ColorChoice {
        match c {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }
}
