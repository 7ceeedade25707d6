//! Runs one scenario in one role over real connections and judges each step.
//!
//! [`run_scenario`] walks the steps ([`session`]), turns the first broken step into a
//! FAIL (a WARN for SHOULD-level scenarios unless `--strict`), and returns an
//! [`Outcome`] carrying the whole transcript with the TLS boundary recorded.

pub mod auto;
pub mod caps;
pub mod client;
pub mod identity;
pub mod outcome;
mod session;

use crate::model::{Party, Transport};
use crate::net::transcript::Transcript;
use crate::scenario::ast::Scenario;
use crate::scenario::pattern::Vars;
use crate::tls::ClientTls;
use outcome::{Outcome, Verdict};
use rustls::pki_types::ServerName;
use session::{Session, Stop};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where a scenario came from: its display path and its text (for `file:line` in FAILs).
#[derive(Clone, Debug)]
pub struct Source {
    /// The path as shown in reports (`scenarios/imap/starttls-injection.scn`).
    pub file: String,
    /// The file's text.
    pub text: String,
}

/// A server to judge.
#[derive(Clone)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// How the port reaches TLS.
    pub transport: Transport,
    /// The name the TLS client sends (SNI) and checks the certificate against.
    pub server_name: ServerName<'static>,
    /// TLS client settings (trust anchors, `--insecure`).
    pub tls: ClientTls,
    /// The server's profile (`cleartext-login=allowed`, ...): scenarios that assume
    /// another profile are N/A.
    pub profile: BTreeMap<String, String>,
    /// The per-read timeout.
    pub timeout: Duration,
    /// The longest line accepted from the server.
    pub max_line: usize,
}

/// How verdicts are decided and what reports may show.
#[derive(Clone, Debug, Default)]
pub struct Judging {
    /// SHOULD-level breaks are FAIL rather than WARN.
    pub strict: bool,
    /// Show passwords and PLAIN blobs in transcripts.
    pub show_secrets: bool,
    /// Values for `{user}`, `{password}`, `{plain}`, `{name}`, `{host}`.
    pub vars: Vars,
    /// What to mask in transcripts unless `show_secrets`.
    pub secrets: Vec<Vec<u8>>,
}

/// Runs `scenario` against the server `target` (mailtls plays the client), as often as
/// its `repeat:` says; the first repetition that does not pass decides.
pub async fn run_scenario(
    scenario: &Scenario,
    source: &Source,
    target: &Target,
    judging: &Judging,
) -> Outcome {
    let started = Instant::now();
    let mut last = None;
    for _ in 0..scenario.meta.repeat.max(1) {
        let (verdict, message, failure, transcript) =
            run_once(scenario, source, target, judging).await;
        let done = verdict != Verdict::Pass;
        last = Some((verdict, message, failure, transcript));
        if done {
            break;
        }
    }
    let (verdict, message, failure, transcript) = last.unwrap_or((
        Verdict::Error,
        "not run".to_owned(),
        None,
        Transcript::new(),
    ));
    settle(
        scenario,
        source,
        Party::Server,
        judging,
        started,
        (verdict, message, failure, transcript),
    )
}

/// The [`Outcome`] of a finished scenario, either role: secrets masked, a SHOULD-level
/// FAIL turned into WARN unless `--strict`, a clean MANUAL scenario marked MANUAL.
pub(crate) fn settle(
    scenario: &Scenario,
    source: &Source,
    role: Party,
    judging: &Judging,
    started: Instant,
    (verdict, message, failure, transcript): Once,
) -> Outcome {
    let meta = &scenario.meta;
    let transcript = if judging.show_secrets {
        transcript
    } else {
        transcript.redacted(&judging.secrets)
    };
    let (verdict, message) = match verdict {
        Verdict::Fail if !judging.strict && !meta.level.is_fatal() => (Verdict::Warn, message),
        Verdict::Pass if !meta.manual.is_empty() => (
            Verdict::Manual,
            format!("the wire showed nothing wrong ({message}); the rest needs a person"),
        ),
        other => (other, message),
    };
    Outcome {
        id: meta.id.clone(),
        title: meta.title.clone(),
        protocol: meta.protocol,
        role,
        level: meta.level,
        clauses: meta.clauses.clone(),
        cves: meta.cves.clone(),
        verdict,
        message,
        failure: failure.map(|f| {
            if judging.show_secrets {
                f
            } else {
                f.redacted(&judging.secrets)
            }
        }),
        manual: meta.manual.clone(),
        transcript,
        duration: started.elapsed(),
        file: Some(PathBuf::from(&source.file)),
        expected_failure: None,
    }
}

pub(crate) type Once = (Verdict, String, Option<outcome::Failure>, Transcript);

async fn run_once(
    scenario: &Scenario,
    source: &Source,
    target: &Target,
    judging: &Judging,
) -> Once {
    if let Some(reason) = not_applicable(scenario, target) {
        return (Verdict::NotApplicable, reason, None, Transcript::new());
    }
    let mut session = Session::new(
        scenario,
        source,
        session::Peer::Server(target),
        judging.vars.clone(),
        Instant::now(),
    );
    let result = session.run().await;
    let transcript = session.transcript();
    match result {
        Ok(()) => (
            Verdict::Pass,
            "every step held".to_owned(),
            None,
            transcript,
        ),
        Err(Stop::Pass(why)) => (Verdict::Pass, why, None, transcript),
        Err(Stop::Fail(why, failure)) => (Verdict::Fail, why, Some(*failure), transcript),
        Err(Stop::NotApplicable(why)) => (Verdict::NotApplicable, why, None, transcript),
        Err(Stop::Error(why)) => (Verdict::Error, why, None, transcript),
        Err(Stop::Info(why)) => (Verdict::Info, why, None, transcript),
    }
}

/// Why the scenario cannot apply to this target before any connection is made.
fn not_applicable(scenario: &Scenario, target: &Target) -> Option<String> {
    not_applicable_to(scenario, Party::Server, target.transport, &target.profile)
}

/// Why `scenario` cannot judge a peer of kind `judged` on `transport` with `profile`,
/// before any connection is made.
pub(crate) fn not_applicable_to(
    scenario: &Scenario,
    judged: Party,
    transport: Transport,
    profile: &BTreeMap<String, String>,
) -> Option<String> {
    let meta = &scenario.meta;
    if !meta.roles.contains(&judged) {
        return Some(format!("the scenario does not judge a {judged}"));
    }
    if meta.transport != transport {
        return Some(format!(
            "the scenario needs {}",
            match meta.transport {
                Transport::Starttls => "STARTTLS on a cleartext port",
                Transport::Implicit => "implicit TLS",
            }
        ));
    }
    for (key, value) in &meta.profile {
        let actual = profile.get(key).map(String::as_str).unwrap_or("unset");
        if actual != value {
            return Some(format!(
                "the scenario assumes the {judged} profile {key}={value}; this {judged} has {key}={actual}"
            ));
        }
    }
    None
}
