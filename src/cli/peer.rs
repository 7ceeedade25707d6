//! `mailtls peer-client` (hidden): the built-in reference client as a command, so that
//! the client-role engine can start it like any real client
//! (`mailtls run --client imap --exec 'mailtls peer-client --protocol imap --port {port} ...'`).
//!
//! Exit status: 0 the session completed; 1 the client refused to go on for a security
//! reason (TLS required but not available, certificate rejected, PREAUTH in cleartext),
//! with one line on stderr saying why; 2 bad usage or an unreadable CA file; 3 the
//! session did not complete for another reason (connection refused, timeout, protocol
//! error, authentication failed), also with one line on stderr.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::Outcome;
use mailtls::model::Protocol;
use mailtls::peers::client::{ClientError, ClientFault, ClientOptions, run_client};
use mailtls::tls::load_ca_file;

/// Run the built-in reference client (with fault switches) against a server.
///
/// Example:
///
///   mailtls peer-client --protocol imap --host 127.0.0.1 --port 1143 \
///       --name mail.example.test --ca ca.pem --fault no-name-check
///
/// Exit status: 0 completed, 1 refused for a security reason, 2 bad usage, 3 failed
/// otherwise.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct PeerClientArgs {
    /// imap, pop3 or acap.
    #[arg(long, value_parser = parse_protocol)]
    protocol: Protocol,

    /// The server's address or host name.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// The server's port.
    #[arg(long)]
    port: u16,

    /// The name the certificate must present (also sent as SNI); default: --host.
    #[arg(long)]
    name: Option<String>,

    /// PEM file of the CA certificates to trust.
    #[arg(long, value_name = "FILE")]
    ca: PathBuf,

    /// Implicit TLS (imaps/pop3s): the handshake comes first.
    #[arg(long)]
    implicit: bool,

    /// Opportunistic TLS (RFC 2595 §2.2): without STARTTLS/STLS go on in cleartext.
    #[arg(long)]
    opportunistic: bool,

    /// The user name.
    #[arg(long, default_value = "alice")]
    user: String,

    /// The password.
    #[arg(long, default_value = "s3cret")]
    password: String,

    /// Switch on one client defect (repeatable), e.g. no-name-check; an unknown id is
    /// answered with the list of known ones.
    #[arg(long = "fault", value_name = "ID", value_parser = parse_fault)]
    faults: Vec<ClientFault>,

    /// How long any connect, read, write or handshake may take (e.g. 500ms, 5s).
    #[arg(long, default_value = "5s", value_parser = mailtls::scenario::parse_duration)]
    timeout: Duration,
}

/// Runs the client and maps its ending to an outcome.
pub(crate) fn run(args: &PeerClientArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let ca = load_ca_file(&args.ca)?;
    let mut opts = ClientOptions {
        protocol: args.protocol,
        host: args.host.clone(),
        port: args.port,
        name: args.name.clone().unwrap_or_else(|| args.host.clone()),
        ca,
        user: args.user.clone(),
        password: args.password.clone(),
        implicit: args.implicit,
        require_tls: !args.opportunistic,
        faults: Default::default(),
        timeout: args.timeout,
    };
    opts.faults.extend(args.faults.iter().copied());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match runtime.block_on(run_client(&opts)) {
        Ok(session) => {
            let mechanism = session
                .mechanism
                .map_or_else(|| "none".to_owned(), |m| m.to_string());
            writeln!(
                out,
                "session completed: {} {}, authenticated with {mechanism}, close_notify {}",
                args.protocol,
                if session.tls {
                    "over TLS"
                } else {
                    "in cleartext"
                },
                if session.close_notify {
                    "sent"
                } else {
                    "not sent"
                },
            )?;
            Ok(Outcome::Expected)
        }
        Err(error) => {
            let _ = writeln!(io::stderr(), "mailtls peer-client: {error}");
            Ok(match error {
                ClientError::Refused(_) => Outcome::Verdict,
                _ => Outcome::Unreachable,
            })
        }
    }
}

fn parse_protocol(text: &str) -> Result<Protocol, String> {
    Protocol::ALL
        .into_iter()
        .find(|p| p.to_string().eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("`{text}`: expected imap, pop3 or acap"))
}

fn parse_fault(text: &str) -> Result<ClientFault, String> {
    text.parse::<ClientFault>().map_err(|e| {
        let ids: Vec<&str> = ClientFault::ALL.iter().map(|f| f.id()).collect();
        format!("{e}; known: {}", ids.join(", "))
    })
}
