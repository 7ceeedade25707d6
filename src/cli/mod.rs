//! Argument parsing and rendering for the `mailtls` command.
//!
//! Exit codes (the same for every subcommand, so CI can act on them):
//! 0 as expected (a match, a well-formed message, every scenario as expected), 1 a
//! verdict against the input (no match, a refused message, a scenario failed or an
//! expected failure passed), 2 bad usage or an unreadable/invalid file, 3 the target
//! could not be reached at all.

mod certs;
mod client;
mod identity;
mod list;
mod output;
mod peer;
mod plain;
mod run;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Conformance and fuzzing harness for mail TLS: STARTTLS/STLS, implicit TLS, PLAIN and
/// the server identity check (RFC 2595, RFC 8314, RFC 4616, RFC 6125/9525).
#[derive(Debug, Parser)]
#[command(name = "mailtls", version, propagate_version = true)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
Examples:
  mailtls run                          # the whole catalogue against the built-in reference server and client
  mailtls run --server imap://mail.example.test --user alice --password-env PW
  mailtls run --server imaps://127.0.0.1:993 --server-name mail.example.test --ca ca.pem
  mailtls run --server pop3://localhost:110 --only 'pop3.server.stls.*' --format junit --out r.xml
  mailtls run --reference-fault executes-pipelined-after-starttls   # what a FAIL looks like
  mailtls replay failing.scn --server imap://localhost:143
  mailtls run --client imap            # every client scenario against the built-in reference client
  mailtls run --client imap --exec 'curl -sS --ssl-reqd --cacert {ca} --resolve {name}:{port}:{host} imap://{name}:{port}/ -u {user}:{password}'
  mailtls certs --out certs/           # the test CA and every certificate profile, as PEM
  mailtls list --format json
  mailtls identity --reference mail.example.com --presented '*.example.com'
  mailtls identity --rules rfc9525 --reference mail.example.com --cert server.pem
  mailtls plain decode --base64 AHRpbQB0YW5zdGFhZnRhbnN0YWFm
  mailtls plain decode --rules rfc2595 --hex '00 74 69 6d 0d 00 70 77' --format json

Exit codes: 0 as expected, 1 a verdict against the input (a scenario failed, an
expected failure passed, no match, a refused message), 2 bad usage or an unreadable or
invalid file, 3 the target could not be reached.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a host name against the names a certificate presents (RFC 2595 §2.4, RFC 6125, RFC 9525).
    Identity(identity::IdentityArgs),
    /// Decode or encode a PLAIN SASL message (RFC 2595 §6, RFC 4616).
    #[command(subcommand)]
    Plain(plain::PlainCommand),
    /// Run the scenarios against a server or a client (or, with neither, the built-in reference peers).
    Run(Box<run::RunArgs>),
    /// Run one scenario file, e.g. the one attached to a bug report.
    Replay(Box<run::ReplayArgs>),
    /// List the scenarios (id, level, roles, clause, MANUAL), the fault switches, or the coverage matrix.
    List(list::ListArgs),
    /// Write the test CA and every certificate profile as PEM (for the client under test).
    Certs(certs::CertsArgs),
    /// Run the built-in reference client against a server (for `run --client --exec`).
    ///
    /// Exit status: 0 completed, 1 refused for a security reason, 2 bad usage, 3 failed.
    #[command(hide = true)]
    PeerClient(Box<peer::PeerClientArgs>),
}

/// What a subcommand concluded, mapped to the documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Expected,
    Verdict,
    /// The target could not be reached at all.
    Unreachable,
}

/// Parses the arguments, runs the subcommand, and returns the exit code.
pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let mut stdout = io::stdout().lock();
    let result = match cli.command {
        Command::Identity(args) => identity::run(&args, &mut stdout),
        Command::Plain(command) => plain::run(&command, &mut stdout),
        Command::Run(args) => run::run(&args, &mut stdout),
        Command::Replay(args) => run::replay(&args, &mut stdout),
        Command::List(args) => list::run(&args, &mut stdout),
        Command::PeerClient(args) => peer::run(&args, &mut stdout),
        Command::Certs(args) => certs::run(&args, &mut stdout),
    };
    let flushed = stdout.flush();
    match result.and_then(|outcome| flushed.map(|()| outcome).map_err(anyhow::Error::from)) {
        Ok(Outcome::Expected) => ExitCode::SUCCESS,
        Ok(Outcome::Verdict) => ExitCode::from(1),
        Ok(Outcome::Unreachable) => ExitCode::from(3),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "mailtls: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `mailtls ... | head` closes the pipe early: that is not a failure (ripgrep's rule).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
