//! Output formats shared by the subcommands.

use clap::ValueEnum;

/// How a subcommand prints its answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: the verdict, then why.
    #[default]
    Text,
    /// One JSON object on one line, for scripts and CI.
    Json,
}

/// Shows octets as a string when they are UTF-8 without control characters, else as hex.
pub(crate) fn printable(octets: &[u8]) -> Printable {
    match std::str::from_utf8(octets) {
        Ok(text) if !text.chars().any(char::is_control) => Printable::Text(text.to_owned()),
        _ => Printable::Hex(hex(octets)),
    }
}

/// Octets rendered for output.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Printable {
    /// Readable text.
    Text(String),
    /// Lower-case hex, space-separated per octet.
    Hex(String),
}

impl Printable {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Text(text) => serde_json::Value::from(text.as_str()),
            Self::Hex(hex) => serde_json::json!({ "hex": hex }),
        }
    }
}

impl std::fmt::Display for Printable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => write!(f, "{text:?}"),
            Self::Hex(hex) => write!(f, "hex [{hex}]"),
        }
    }
}

/// Lower-case hex, one space between octets.
pub(crate) fn hex(octets: &[u8]) -> String {
    let mut out = String::with_capacity(octets.len() * 3);
    for (i, b) in octets.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}
