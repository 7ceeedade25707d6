//! `mailtls identity`: the server identity check from the command line.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use super::Outcome;
use super::output::Format;
use mailtls::identity::cert::CertificateNames;
use mailtls::identity::{Rules, Source, Verdict};

/// Check a reference host name against presented names.
///
/// Examples:
///
///   mailtls identity --reference mail.example.com --presented '*.example.com'
///
///   mailtls identity --rules rfc9525 --reference mail.example.com --cn mail.example.com
///
///   mailtls identity --reference mail.example.com --cert server.pem --format json
///
/// Exit status: 0 match, 1 no match or malformed reference, 2 bad usage or unreadable
/// certificate.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct IdentityArgs {
    /// The rule set: rfc2595 (§2.4), rfc6125 (with RFC 7817's email profile) or rfc9525.
    #[arg(long, default_value = "rfc2595", value_parser = parse_rules)]
    rules: Rules,

    /// The host name the client used to connect (or an IP address).
    #[arg(long, value_name = "NAME")]
    reference: String,

    /// A dNSName subjectAltName the certificate presents (repeatable).
    #[arg(long, value_name = "NAME")]
    presented: Vec<String>,

    /// A subject common name (repeatable); used only when no dNSName is presented.
    #[arg(long, value_name = "NAME")]
    cn: Vec<String>,

    /// An iPAddress subjectAltName (repeatable).
    #[arg(long, value_name = "ADDR")]
    ip: Vec<IpAddr>,

    /// Read the presented names from a PEM certificate (its first CERTIFICATE block);
    /// names given with --presented/--cn/--ip are added to them.
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn parse_rules(s: &str) -> Result<Rules, String> {
    s.parse()
}

pub(crate) fn run(args: &IdentityArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let mut names = match &args.cert {
        Some(path) => {
            let der = CertificateDer::from_pem_file(path)
                .with_context(|| format!("reading a PEM certificate from {}", path.display()))?;
            CertificateNames::from_der(&der)
                .with_context(|| format!("reading the names in {}", path.display()))?
        }
        None => CertificateNames::default(),
    };
    names.dns_names.extend(args.presented.iter().cloned());
    names.common_names.extend(args.cn.iter().cloned());
    names.ip_addresses.extend(args.ip.iter().copied());

    let (decision, reason) = names.check(args.rules, &args.reference);
    let (source_kind, source_name) = match decision.source {
        Some(Source::DnsName(i)) => ("dNSName", names.dns_names.get(i).cloned()),
        Some(Source::CommonName(i)) => ("CN", names.common_names.get(i).cloned()),
        Some(Source::IpAddress(i)) => (
            "iPAddress",
            names.ip_addresses.get(i).map(|a| a.to_string()),
        ),
        None => ("", None),
    };

    match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "reference": args.reference,
                "rules": args.rules.id(),
                "verdict": decision.verdict.id(),
                "rule": decision.rule.id(),
                "clause": decision.rule.clause(args.rules),
                "source": source_name.as_ref().map(|name| serde_json::json!({ "kind": source_kind, "name": name })),
                "reason": reason,
                "presented": {
                    "dns_names": names.dns_names,
                    "ip_addresses": names.ip_addresses,
                    "common_names": names.common_names,
                },
            });
            writeln!(out, "{json}")?;
        }
        Format::Text => {
            writeln!(
                out,
                "{}: {:?} under {}",
                decision.verdict.id(),
                args.reference,
                args.rules
            )?;
            writeln!(out, "  rule:   {}", decision.rule.id())?;
            writeln!(out, "  reason: {reason}")?;
            if decision.verdict == Verdict::NoMatch {
                let shown = |v: &[String]| {
                    if v.is_empty() {
                        "none".to_owned()
                    } else {
                        v.join(", ")
                    }
                };
                writeln!(out, "  presented dNSNames: {}", shown(&names.dns_names))?;
                writeln!(out, "  presented CNs: {}", shown(&names.common_names))?;
                let ips: Vec<String> = names.ip_addresses.iter().map(IpAddr::to_string).collect();
                writeln!(out, "  presented iPAddresses: {}", shown(&ips))?;
            }
        }
    }
    Ok(if decision.is_match() {
        Outcome::Expected
    } else {
        Outcome::Verdict
    })
}
