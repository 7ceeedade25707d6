//! `mailtls plain`: decode or encode a PLAIN SASL message from the command line.

use std::io::Write;

use anyhow::bail;
use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::Outcome;
use super::output::{Format, hex, printable};
use mailtls::sasl::plain::{self, Limits, PlainMessage, Profile};
use mailtls::sasl::wire;

/// PLAIN message tools.
#[derive(Debug, Subcommand)]
pub(crate) enum PlainCommand {
    /// Decode a PLAIN message and say whether it is well-formed, and if not, where not.
    ///
    /// Examples:
    ///
    ///   mailtls plain decode --base64 AHRpbQB0YW5zdGFhZnRhbnN0YWFm
    ///
    ///   mailtls plain decode --rules rfc2595 --hex '00 74 69 6d 0d 00 70 77' --format json
    ///
    /// Exit status: 0 well-formed, 1 refused (bad base64, hex or PLAIN grammar),
    /// 2 bad usage.
    #[command(verbatim_doc_comment)]
    Decode(DecodeArgs),
    /// Encode a PLAIN message as the base64 initial response a client sends.
    ///
    /// Example:
    ///
    ///   mailtls plain encode --authcid tim --password-env PW
    #[command(verbatim_doc_comment)]
    Encode(EncodeArgs),
}

/// The grammar to judge by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum Rules {
    /// RFC 2595 §6: its ABNF literally (no CR/LF; 5- and 6-octet sequences allowed).
    Rfc2595,
    /// RFC 4616: any UTF-8 but NUL, well-formed per RFC 3629.
    #[default]
    Rfc4616,
}

impl From<Rules> for Profile {
    fn from(rules: Rules) -> Self {
        match rules {
            Rules::Rfc2595 => Self::Rfc2595,
            Rules::Rfc4616 => Self::Rfc4616,
        }
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["hex", "base64"])))]
pub(crate) struct DecodeArgs {
    /// The grammar to judge by.
    #[arg(long, value_enum, default_value_t)]
    rules: Rules,
    /// The message as hex octets (spaces and colons between octets are ignored).
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// The message as SASL base64, as sent after AUTHENTICATE PLAIN / AUTH PLAIN ("=" is empty).
    #[arg(long, value_name = "B64")]
    base64: Option<String>,
    /// Refuse fields above 255 octets (the RFCs' "MUST accept up to 255 octets" as a maximum).
    #[arg(long)]
    strict_length: bool,
    /// Show the password instead of its length.
    #[arg(long)]
    show_secrets: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["password", "password_env"])))]
pub(crate) struct EncodeArgs {
    /// The grammar the fields must satisfy.
    #[arg(long, value_enum, default_value_t)]
    rules: Rules,
    /// The authorization identity (omit to act as the authentication identity).
    #[arg(long, value_name = "ID")]
    authzid: Option<String>,
    /// The authentication identity.
    #[arg(long, value_name = "ID")]
    authcid: String,
    /// The password (prefer --password-env: arguments are visible to other users).
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

pub(crate) fn run(command: &PlainCommand, out: &mut impl Write) -> anyhow::Result<Outcome> {
    match command {
        PlainCommand::Decode(args) => decode(args, out),
        PlainCommand::Encode(args) => encode(args, out),
    }
}

/// Where decoding stopped: the input encoding or the PLAIN grammar.
struct Refusal {
    stage: &'static str,
    message: String,
    /// Offset into the octets (plain stage) or into the argument text (hex stage).
    offset: Option<usize>,
    /// A hex dump with a caret under the offending octet.
    dump: Option<String>,
}

fn decode(args: &DecodeArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let profile = Profile::from(args.rules);
    let limits = if args.strict_length {
        Limits::RFC_MINIMUM
    } else {
        Limits::DEFAULT
    };
    let octets = match (&args.hex, &args.base64) {
        (Some(text), _) => parse_hex(text),
        (None, Some(text)) => wire::decode_initial_response(text.as_bytes()).map_err(|e| Refusal {
            stage: "base64",
            message: e.to_string(),
            offset: None,
            dump: None,
        }),
        (None, None) => bail!("give the message with --hex or --base64"),
    };
    let parsed = octets.and_then(|octets| match plain::parse_with(profile, limits, &octets) {
        Ok(m) => Ok((
            m.authzid.map(<[u8]>::to_vec),
            m.authcid.to_vec(),
            m.passwd.to_vec(),
        )),
        Err(e) => Err(Refusal {
            stage: "plain",
            message: e.kind.to_string(),
            offset: Some(e.offset),
            dump: Some(caret(&octets, e.offset)),
        }),
    });

    match (&parsed, args.format) {
        (Ok((authzid, authcid, passwd)), Format::Json) => {
            let json = serde_json::json!({
                "verdict": "ok",
                "rules": profile.id(),
                "authzid": authzid.as_deref().map(|z| printable(z).to_json()),
                "authcid": printable(authcid).to_json(),
                "passwd": args.show_secrets.then(|| printable(passwd).to_json()),
                "passwd_octets": passwd.len(),
                "error": null,
                "offset": null,
            });
            writeln!(out, "{json}")?;
        }
        (Ok((authzid, authcid, passwd)), Format::Text) => {
            writeln!(out, "ok: a well-formed PLAIN message under {profile}")?;
            match authzid {
                Some(z) => writeln!(out, "  authzid: {}", printable(z))?,
                None => writeln!(out, "  authzid: (empty: act as authcid)")?,
            }
            writeln!(out, "  authcid: {}", printable(authcid))?;
            if args.show_secrets {
                writeln!(out, "  passwd:  {}", printable(passwd))?;
            } else {
                writeln!(
                    out,
                    "  passwd:  ({} octets; --show-secrets shows it)",
                    passwd.len()
                )?;
            }
        }
        (Err(refusal), Format::Json) => {
            let json = serde_json::json!({
                "verdict": "error",
                "rules": profile.id(),
                "stage": refusal.stage,
                "authzid": null, "authcid": null, "passwd": null,
                "error": refusal.message,
                "offset": refusal.offset,
            });
            writeln!(out, "{json}")?;
        }
        (Err(refusal), Format::Text) => {
            writeln!(
                out,
                "error: not a well-formed PLAIN message under {profile} ({} stage)",
                refusal.stage
            )?;
            match refusal.offset {
                Some(at) => writeln!(out, "  {} (at offset {at})", refusal.message)?,
                None => writeln!(out, "  {}", refusal.message)?,
            }
            if let Some(dump) = &refusal.dump {
                for line in dump.lines() {
                    writeln!(out, "  {line}")?;
                }
            }
        }
    }
    Ok(if parsed.is_ok() {
        Outcome::Expected
    } else {
        Outcome::Verdict
    })
}

fn encode(args: &EncodeArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let password = match (&args.password, &args.password_env) {
        (Some(p), _) => p.clone(),
        (None, Some(var)) => {
            std::env::var(var).map_err(|e| anyhow::anyhow!("reading ${var}: {e}"))?
        }
        (None, None) => bail!("give the password with --password or --password-env"),
    };
    let message = PlainMessage {
        authzid: args.authzid.as_deref().map(str::as_bytes),
        authcid: args.authcid.as_bytes(),
        passwd: password.as_bytes(),
    };
    let mut octets = Vec::new();
    if let Err(e) = plain::encode(args.rules.into(), &message, &mut octets) {
        writeln!(out, "error: {e}")?;
        return Ok(Outcome::Verdict);
    }
    writeln!(out, "{}", wire::encode_initial_response(&octets))?;
    Ok(Outcome::Expected)
}

fn parse_hex(text: &str) -> Result<Vec<u8>, Refusal> {
    let digits: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| !matches!(b, b' ' | b':' | b'\t'))
        .collect();
    let refuse = |offset, message: &str| Refusal {
        stage: "hex",
        message: message.to_owned(),
        offset: Some(offset),
        dump: None,
    };
    if digits.len() % 2 == 1 {
        return Err(refuse(text.len(), "an odd number of hex digits"));
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let nibble = |(at, b): (usize, u8)| {
                char::from(b)
                    .to_digit(16)
                    .ok_or_else(|| refuse(at, &format!("{:?} is not a hex digit", char::from(b))))
            };
            let (high, low) = (nibble(pair[0])?, nibble(pair[1])?);
            // Two hex digits always fit in a u8.
            Ok(u8::try_from(high * 16 + low).unwrap_or(u8::MAX))
        })
        .collect()
}

/// A hex dump of the message with a caret under the offending octet.
fn caret(octets: &[u8], offset: usize) -> String {
    format!("{}\n{}^^", hex(octets), " ".repeat(offset * 3))
}
