//! The colours of the text report, and the switch that turns them off.
//!
//! Colour is decided once by the caller ([`RenderOptions::color`](super::RenderOptions),
//! usually from [`stdout_supports_color`]); every renderer paints through a [`Palette`],
//! which writes no escape sequence at all when colour is off, so files, pipes and
//! `NO_COLOR` get plain text.

use anstyle::{AnsiColor, Effects, Style};

/// What a piece of text is, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// A PASS glyph, a successful summary.
    Pass,
    /// A FAIL glyph, a failed summary, the `>>` mark.
    Fail,
    /// A WARN glyph, an unexpected pass.
    Warn,
    /// An N/A glyph and other secondary text.
    Dim,
    /// An ERROR glyph.
    Error,
    /// A failure listed in the expectations file.
    Expected,
    /// Protocol and section headings, the summary line.
    Heading,
    /// Field labels in a failure block (`expected:`).
    Label,
    /// Octets mailtls sent.
    Sent,
    /// Octets the peer sent.
    Received,
    /// TLS and connection boundaries in a transcript.
    Boundary,
}

impl Role {
    fn style(self) -> Style {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Self::Pass => fg(AnsiColor::Green),
            Self::Fail => fg(AnsiColor::Red).effects(Effects::BOLD),
            Self::Warn => fg(AnsiColor::Yellow),
            Self::Dim => Style::new().effects(Effects::DIMMED),
            Self::Error => fg(AnsiColor::Magenta).effects(Effects::BOLD),
            Self::Expected => fg(AnsiColor::Yellow).effects(Effects::DIMMED),
            Self::Heading => Style::new().effects(Effects::BOLD),
            Self::Label => fg(AnsiColor::Blue),
            Self::Sent => fg(AnsiColor::Cyan),
            Self::Received => Style::new(),
            Self::Boundary => fg(AnsiColor::Yellow).effects(Effects::BOLD),
        }
    }
}

/// Paints text with ANSI styles, or leaves it alone when colour is off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Palette {
    enabled: bool,
}

impl Palette {
    /// A palette that paints only when `enabled`.
    pub(crate) fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    /// `text` wrapped in the role's style (and a reset), or `text` as is.
    pub(crate) fn paint(self, role: Role, text: &str) -> String {
        let style = role.style();
        if !self.enabled || style == Style::new() || text.is_empty() {
            return text.to_owned();
        }
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}

/// Whether standard output should get colour: a terminal, `NO_COLOR` unset (or
/// `CLICOLOR_FORCE` set), as anstream decides it.
pub fn stdout_supports_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}
