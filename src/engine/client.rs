//! The client role: mailtls listens on 127.0.0.1, starts the client under test (or
//! waits for it), plays the `S:` lines, judges the `C:` lines, and then judges how the
//! client ended (`[expect-exit]`). The client is killed at the scenario's timeout.

use super::outcome::{Failure, Outcome, StepRef, Verdict};
use super::session::{Peer, Session, Stop};
use super::{Judging, Source};
use crate::certs::profiles::Minted;
use crate::model::{Party, Protocol, Transport};
use crate::net::transcript::{Event, Transcript};
use crate::scenario::ast::Scenario;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

/// What the session needs to play the server: the listener and the certificates.
pub struct ClientSide {
    /// Where the client connects.
    pub listener: TcpListener,
    /// The CA and the certificate profiles.
    pub certs: Arc<Minted>,
    /// The per-read timeout.
    pub timeout: Duration,
    /// The longest line accepted from the client.
    pub max_line: usize,
}

/// How the client under test is started.
#[derive(Clone, Debug)]
pub enum Launch {
    /// A shell command with placeholders: `{host} {port} {name} {ca} {user} {password}
    /// {scheme}`.
    Exec(String),
    /// No command: wait on this port for a client started by hand (0: any free port).
    Listen(u16),
}

/// A client to judge.
#[derive(Clone)]
pub struct ClientTarget {
    /// The protocol the client speaks.
    pub protocol: Protocol,
    /// STARTTLS on a cleartext port, or implicit TLS.
    pub transport: Transport,
    /// How to start it.
    pub launch: Launch,
    /// The CA (the client is told to trust it) and the profiles.
    pub certs: Arc<Minted>,
    /// The CA as a PEM file, for `{ca}`.
    pub ca_file: PathBuf,
    /// The client profile (`client-tls=starttls-required|opportunistic|implicit`).
    pub profile: BTreeMap<String, String>,
    /// The per-read timeout; the client is killed after the scenario plus this.
    pub timeout: Duration,
    /// The longest line accepted from the client.
    pub max_line: usize,
}

/// The most of a client's stdout and stderr kept for the report.
const OUTPUT_LIMIT: usize = 4096;

/// Runs `scenario` with mailtls as the server for the client `target` starts.
pub async fn run_client_scenario(
    scenario: &Scenario,
    source: &Source,
    target: &ClientTarget,
    judging: &Judging,
) -> Outcome {
    let started = Instant::now();
    let opportunistic = records_only(scenario, target);
    let profile = if opportunistic {
        let mut assumed = target.profile.clone();
        assumed.insert(TLS_PROFILE.to_owned(), REQUIRED.to_owned());
        assumed
    } else {
        target.profile.clone()
    };
    let applicable = super::not_applicable_to(scenario, Party::Client, target.transport, &profile);
    let (verdict, message, failure, transcript) = match applicable {
        Some(reason) => (Verdict::NotApplicable, reason, None, Transcript::new()),
        None => run_once(scenario, source, target, judging, started).await,
    };
    let (verdict, message, failure) = match verdict {
        Verdict::Fail | Verdict::Warn if opportunistic => (
            Verdict::Info,
            format!(
                "recorded, not judged: the client is opportunistic (RFC 2595 §2.2 MAY) and {message}"
            ),
            failure,
        ),
        other => (other, message, failure),
    };
    super::settle(
        scenario,
        source,
        Party::Client,
        judging,
        started,
        (verdict, message, failure, transcript),
    )
}

use super::Once;

/// The client profile key, and the value the stripping scenarios assume.
const TLS_PROFILE: &str = "client-tls";
const REQUIRED: &str = "starttls-required";

/// Whether `scenario` assumes a TLS-requiring client while `target` is opportunistic:
/// then it still runs, but what would be a FAIL is only recorded (INFO), because RFC 2595
/// §2.2 lets a client use TLS only when the server offers it.
fn records_only(scenario: &Scenario, target: &ClientTarget) -> bool {
    let assumes_required = scenario
        .meta
        .profile
        .iter()
        .any(|(k, v)| k == TLS_PROFILE && v == REQUIRED);
    assumes_required && target.profile.get(TLS_PROFILE).map(String::as_str) == Some("opportunistic")
}

async fn run_once(
    scenario: &Scenario,
    source: &Source,
    target: &ClientTarget,
    judging: &Judging,
    started: Instant,
) -> Once {
    let port = match target.launch {
        Launch::Listen(port) => port,
        Launch::Exec(_) => 0,
    };
    let listener = match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => return error(format!("cannot listen on 127.0.0.1:{port}: {e}")),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let mut child = match &target.launch {
        Launch::Exec(template) => match spawn(template, target, judging, port) {
            Ok(child) => Some(child),
            Err(e) => return error(format!("cannot start the client: {e}")),
        },
        Launch::Listen(_) => None,
    };
    let side = ClientSide {
        listener,
        certs: target.certs.clone(),
        timeout: target.timeout,
        max_line: target.max_line,
    };
    let mut session = Session::new(
        scenario,
        source,
        Peer::Client(&side),
        judging.vars.clone(),
        started,
    );
    let result = session.run().await;
    let expect_exit = session.expect_exit();
    // Close our side now: a client blocked on a read sees the end and exits, instead of
    // waiting out its timeout.
    session.close().await;
    let mut transcript = session.transcript();
    drop(session);
    let status = match child.as_mut() {
        Some(child) => finish(child, target.timeout, &mut transcript, started).await,
        None => None,
    };
    let (verdict, message, failure) = match result {
        Ok(()) => (Verdict::Pass, "every step held".to_owned(), None),
        Err(Stop::Pass(why)) => (Verdict::Pass, why, None),
        Err(Stop::Fail(why, failure)) => (Verdict::Fail, why, Some(*failure)),
        Err(Stop::NotApplicable(why)) => (Verdict::NotApplicable, why, None),
        Err(Stop::Error(why)) => (Verdict::Error, why, None),
        Err(Stop::Info(why)) => (Verdict::Info, why, None),
    };
    if verdict != Verdict::Pass {
        return (verdict, message, failure, transcript);
    }
    match (expect_exit, status) {
        (Some((success, span)), Some(Ok(status))) if status.success() != success => {
            let want = if success {
                "exit with status 0"
            } else {
                "exit with a non-zero status (refuse to go on)"
            };
            let failure = Failure {
                step: Some(StepRef::new(&source.file, &source.text, span)),
                expected: format!("the client to {want}"),
                seen: format!("the client exited with {status}"),
                transcript_entry: None,
            };
            (
                Verdict::Fail,
                format!("the client exited with {status}"),
                Some(failure),
                transcript,
            )
        }
        (Some(_), Some(Err(why))) => (Verdict::Fail, why, None, transcript),
        _ => (verdict, message, failure, transcript),
    }
}

fn error(message: String) -> Once {
    (Verdict::Error, message, None, Transcript::new())
}

/// Starts the client with the placeholders filled in, through `sh -c`.
fn spawn(
    template: &str,
    target: &ClientTarget,
    judging: &Judging,
    port: u16,
) -> std::io::Result<Child> {
    let var = |name: &str| {
        judging
            .vars
            .get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    let command = fill(
        template,
        &[
            ("host", "127.0.0.1".to_owned()),
            ("port", port.to_string()),
            ("name", target.certs.name.clone()),
            ("ca", target.ca_file.display().to_string()),
            ("user", var("user")),
            ("password", var("password")),
            (
                "scheme",
                target.protocol.url_scheme(target.transport).to_owned(),
            ),
        ],
    );
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

/// `{name}` → value for each placeholder; anything else is left as written.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Waits for the client to exit (killing it after `timeout`), and records its output.
async fn finish(
    child: &mut Child,
    timeout: Duration,
    transcript: &mut Transcript,
    started: Instant,
) -> Option<Result<ExitStatus, String>> {
    let connection = transcript.entries.last().map_or(1, |e| e.connection);
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => Ok(status),
        Ok(Err(e)) => Err(format!("waiting for the client: {e}")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "the client was still running {} s after the scenario; killed",
                timeout.as_secs()
            ))
        }
    };
    for (label, pipe) in [
        ("stdout", child.stdout.take().map(Pipe::Out)),
        ("stderr", child.stderr.take().map(Pipe::Err)),
    ] {
        let Some(pipe) = pipe else { continue };
        let text = pipe.read_bounded().await;
        if !text.trim().is_empty() {
            transcript.push(
                started.elapsed(),
                connection,
                Event::Note {
                    text: format!("client {label}: {}", text.trim_end()),
                },
            );
        }
    }
    let note = match &status {
        Ok(status) => format!("client exited: {status}"),
        Err(why) => why.clone(),
    };
    transcript.push(started.elapsed(), connection, Event::Note { text: note });
    Some(status)
}

/// A child's output pipe.
enum Pipe {
    Out(tokio::process::ChildStdout),
    Err(tokio::process::ChildStderr),
}

impl Pipe {
    /// At most [`OUTPUT_LIMIT`] octets, lossily as text; never waits long.
    async fn read_bounded(self) -> String {
        let mut buf = Vec::new();
        let read = async {
            match self {
                Self::Out(p) => p.take(OUTPUT_LIMIT as u64).read_to_end(&mut buf).await,
                Self::Err(p) => p.take(OUTPUT_LIMIT as u64).read_to_end(&mut buf).await,
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(500), read).await;
        String::from_utf8_lossy(&buf).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_others_left_alone() {
        let filled = fill(
            "curl --resolve {name}:{port}:{host} imap://{name}:{port}/ {other}",
            &[
                ("host", "127.0.0.1".into()),
                ("port", "1143".into()),
                ("name", "mail.example.test".into()),
            ],
        );
        assert_eq!(
            filled,
            "curl --resolve mail.example.test:1143:127.0.0.1 imap://mail.example.test:1143/ {other}"
        );
    }
}
