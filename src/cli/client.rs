//! The client role of `mailtls run` / `replay`: `--client imap|pop3|acap` with
//! `--exec 'COMMAND'` (or `--listen PORT`, or nothing: the built-in reference client).

use clap::{Args, ValueEnum};
use mailtls::certs::profiles::Minted;
use mailtls::engine::Judging;
use mailtls::engine::client::{ClientTarget, Launch};
use mailtls::engine::outcome::Outcome;
use mailtls::model::{Protocol, Transport};
use mailtls::peers::ClientFault;
use mailtls::runner::{self, Loaded};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The protocol a client under test speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientProtocol {
    /// IMAP (STARTTLS on 143, or --implicit for 993).
    Imap,
    /// POP3 (STLS on 110, or --implicit for 995).
    Pop3,
    /// ACAP (STARTTLS).
    Acap,
}

/// What the client under test is expected to insist on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClientProfile {
    /// Refuses to go on without TLS (the default for security tests).
    StarttlsRequired,
    /// Uses TLS when offered, may go on in cleartext otherwise (RFC 2595 §2.2 MAY):
    /// stripping scenarios are N/A.
    Opportunistic,
    /// Starts with TLS (imaps/pop3s).
    Implicit,
}

/// Client-role options of `mailtls run` and `mailtls replay`.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// Test a client instead of a server: mailtls plays the server on 127.0.0.1.
    #[arg(long, value_enum, value_name = "PROTOCOL", conflicts_with = "server")]
    pub(crate) client: Option<ClientProtocol>,
    /// The client uses implicit TLS (imaps/pop3s): the scenarios for that transport run.
    #[arg(long, requires = "client")]
    implicit: bool,
    /// The command that starts the client, once per scenario, through `sh -c`, with
    /// {host} {port} {name} {ca} {user} {password} {scheme} filled in. Without it (and
    /// without --listen) the built-in reference client runs.
    #[arg(long, value_name = "COMMAND", requires = "client")]
    exec: Option<String>,
    /// Wait on this port for a client started by hand, once per scenario.
    #[arg(
        long,
        value_name = "PORT",
        requires = "client",
        conflicts_with = "exec"
    )]
    listen: Option<u16>,
    /// The name the client is told to expect in the certificate.
    #[arg(long, default_value = "mail.example.test", requires = "client")]
    name: String,
    /// What the client insists on; decides which scenarios apply.
    #[arg(
        long,
        value_enum,
        default_value = "starttls-required",
        requires = "client"
    )]
    client_profile: ClientProfile,
    /// The built-in reference client gets this defect (repeatable; see `mailtls list
    /// --client-faults`). Only without --exec and --listen.
    #[arg(long, value_name = "FAULT", requires = "client", conflicts_with_all = ["exec", "listen"])]
    reference_client_fault: Vec<ClientFault>,
}

impl ClientArgs {
    /// The name the client is told to expect.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

/// A finished client suite: its label and outcomes.
pub(crate) struct ClientRun {
    pub(crate) label: String,
    pub(crate) outcomes: Vec<Outcome>,
}

/// Runs the client-role scenarios against the client `args` describe.
pub(crate) async fn run(
    args: &ClientArgs,
    scenarios: &[Loaded],
    judging: &Judging,
    timeout: Duration,
    jobs: usize,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> anyhow::Result<ClientRun> {
    let Some(client) = args.client else {
        anyhow::bail!("no --client given");
    };
    let protocol = match client {
        ClientProtocol::Imap => Protocol::Imap,
        ClientProtocol::Pop3 => Protocol::Pop3,
        ClientProtocol::Acap => Protocol::Acap,
    };
    let transport = if args.implicit || args.client_profile == ClientProfile::Implicit {
        Transport::Implicit
    } else {
        Transport::Starttls
    };
    let (certs, dir, ca_file) = mint(&args.name)?;
    let (launch, label) = match (&args.exec, args.listen) {
        (Some(command), _) => (Launch::Exec(command.clone()), format!("client: {command}")),
        (None, Some(port)) => {
            // The user starts the client by hand: say where, and what it must trust.
            let _ = writeln!(
                std::io::stderr(),
                "mailtls: waiting on 127.0.0.1:{port}, one connection per scenario; the client \
                 must trust the CA in {} and expect the name {}",
                ca_file.display(),
                args.name
            );
            let label = format!("a client connecting to 127.0.0.1:{port}");
            (Launch::Listen(port), label)
        }
        (None, None) => {
            let command = reference_command(protocol, transport, &args.reference_client_fault)?;
            let label = if args.reference_client_fault.is_empty() {
                "the built-in reference client".to_owned()
            } else {
                let faults: Vec<String> = args
                    .reference_client_fault
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                format!("the built-in reference client with {}", faults.join(", "))
            };
            (Launch::Exec(command), label)
        }
    };
    let profile = BTreeMap::from([(
        "client-tls".to_owned(),
        match args.client_profile {
            ClientProfile::StarttlsRequired => "starttls-required",
            ClientProfile::Opportunistic => "opportunistic",
            ClientProfile::Implicit => "implicit",
        }
        .to_owned(),
    )]);
    let target = ClientTarget {
        protocol,
        transport,
        launch,
        certs,
        ca_file,
        profile,
        timeout,
        max_line: 64 * 1024,
    };
    let outcomes = runner::run_clients(scenarios, &target, judging, jobs, on_done).await;
    drop(dir);
    Ok(ClientRun { label, outcomes })
}

/// The client half of `mailtls run` without a target: every client-role scenario against
/// the built-in reference client, IMAP, IMAPS, POP3, POP3S and ACAP side by side, the
/// client's own timeout at 1 s so that "the client gives up" scenarios end quickly.
pub(crate) async fn run_reference_suites(
    scenarios: &[Loaded],
    judging: &Judging,
    timeout: Duration,
    jobs: usize,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> anyhow::Result<Vec<Outcome>> {
    let name = judging_name(judging);
    let (certs, dir, ca_file) = mint(&name)?;
    let target = |protocol, transport| -> anyhow::Result<ClientTarget> {
        let command = reference_command(protocol, transport, &[])? + " --timeout 1s";
        Ok(ClientTarget {
            protocol,
            transport,
            launch: Launch::Exec(command),
            certs: certs.clone(),
            ca_file: ca_file.clone(),
            profile: BTreeMap::from([("client-tls".to_owned(), "starttls-required".to_owned())]),
            timeout,
            max_line: 64 * 1024,
        })
    };
    let (imap, imaps, pop3, pop3s, acap) = (
        target(Protocol::Imap, Transport::Starttls)?,
        target(Protocol::Imap, Transport::Implicit)?,
        target(Protocol::Pop3, Transport::Starttls)?,
        target(Protocol::Pop3, Transport::Implicit)?,
        target(Protocol::Acap, Transport::Starttls)?,
    );
    let run = |target| runner::run_clients(scenarios, target, judging, jobs, on_done);
    let (a, b, c, d, e) =
        tokio::join!(run(&imap), run(&imaps), run(&pop3), run(&pop3s), run(&acap));
    drop(dir);
    Ok([a, b, c, d, e].into_iter().flatten().collect())
}

/// The name the client is told to expect, as the run's variables hold it.
fn judging_name(judging: &Judging) -> String {
    judging
        .vars
        .get("name")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(|| runner::reference::REFERENCE_NAME.to_owned())
}

/// The command line that runs the built-in reference client (this executable).
fn reference_command(
    protocol: Protocol,
    transport: Transport,
    faults: &[ClientFault],
) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let mut command = format!(
        "'{}' peer-client --protocol {} --host {{host}} --port {{port}} --name {{name}} --ca {{ca}} --user {{user}} --password {{password}}",
        exe.display(),
        protocol.to_string().to_lowercase()
    );
    if transport == Transport::Implicit {
        command.push_str(" --implicit");
    }
    for fault in faults {
        command.push_str(&format!(" --fault {fault}"));
    }
    Ok(command)
}

/// A temporary directory removed when dropped (the CA file for `{ca}`).
struct Scratch {
    path: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The run's CA and certificate profiles for `name`, and the CA's PEM file (`{ca}`) in a
/// scratch directory that lives as long as the returned [`Scratch`].
fn mint(name: &str) -> anyhow::Result<(Arc<Minted>, Scratch, PathBuf)> {
    let certs = Arc::new(Minted::new(name)?);
    let dir = scratch_dir()?;
    let ca_file = dir.path.join("ca.pem");
    std::fs::write(&ca_file, certs.ca.cert_pem())?;
    Ok((certs, dir, ca_file))
}

fn scratch_dir() -> std::io::Result<Scratch> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let path = std::env::temp_dir().join(format!("mailtls-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&path)?;
    Ok(Scratch { path })
}
