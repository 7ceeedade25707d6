//! The JSON report: one pretty-printed object, schema version 1, documented field by
//! field in `docs/report-schema.md` (JSON Schema: `docs/report-schema.json`).
//!
//! Transcript octets are text escaped as in [`escape_lossless`]: a consumer gets the
//! exact octets back by replacing `\\` with `\` and `\xNN` with the octet
//! ([`unescape`](super::escape::unescape) does it). `results[].failure.transcript_entry`
//! indexes `results[].transcript`: there is one JSON entry per recorded entry.

use super::clause;
use super::escape::escape_lossless;
use super::summary::{Tally, millis};
use crate::engine::outcome::{Failure, Outcome, Run, Verdict, level_label};
use crate::model::{Party, Protocol};
use crate::net::transcript::{Direction, Entry, Event, Phase};
use serde::Serialize;
use std::io::{self, Write};

/// The schema version; bumped when a field changes meaning or disappears (new fields do
/// not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: String,
    target: &'a str,
    duration_ms: f64,
    strict: bool,
    success: bool,
    summary: Summary,
    results: Vec<ResultJson<'a>>,
    unexpected_passes: &'a [String],
}

#[derive(Serialize)]
struct Summary {
    total: usize,
    pass: usize,
    fail: usize,
    warn: usize,
    na: usize,
    error: usize,
    info: usize,
    manual: usize,
    expected_failures: usize,
    unexpected_passes: usize,
}

#[derive(Serialize)]
struct ResultJson<'a> {
    id: &'a str,
    title: &'a str,
    protocol: &'static str,
    role: &'static str,
    verdict: Verdict,
    level: &'static str,
    clause: Option<&'a str>,
    clauses: Vec<ClauseJson<'a>>,
    cves: &'a [String],
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_failure: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    manual: &'a [String],
    unexpected_pass: bool,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    transcript: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct ClauseJson<'a> {
    reference: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    quote: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    at_ms: f64,
    connection: u32,
    #[serde(flatten)]
    event: EventJson<'a>,
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum EventJson<'a> {
    Connected {
        peer: &'a str,
    },
    Data {
        direction: Direction,
        sender: &'static str,
        phase: Phase,
        octets: usize,
        text: String,
    },
    TlsStarted,
    TlsEstablished {
        version: &'a str,
        cipher_suite: &'a str,
    },
    TlsFailed {
        reason: &'a str,
    },
    CloseNotify {
        direction: Direction,
    },
    Closed {
        direction: Direction,
        how: &'a str,
    },
    Note {
        text: &'a str,
    },
}

/// `imap`, `pop3`, `acap`.
pub(crate) fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Imap => "imap",
        Protocol::Pop3 => "pop3",
        Protocol::Acap => "acap",
    }
}

/// `server`, `client`.
pub(crate) fn party_name(party: Party) -> &'static str {
    match party {
        Party::Server => "server",
        Party::Client => "client",
    }
}

/// The party that sent octets travelling in `direction`, given the judged peer's role.
fn sender(role: Party, direction: Direction) -> &'static str {
    let peer = party_name(role);
    let mailtls = match role {
        Party::Server => "client",
        Party::Client => "server",
    };
    match direction {
        Direction::Sent => mailtls,
        Direction::Received => peer,
    }
}

fn entry(role: Party, entry: &Entry) -> EntryJson<'_> {
    let event = match &entry.event {
        Event::Connected { peer } => EventJson::Connected { peer },
        Event::Data {
            direction,
            phase,
            bytes,
        } => EventJson::Data {
            direction: *direction,
            sender: sender(role, *direction),
            phase: *phase,
            octets: bytes.len(),
            text: escape_lossless(bytes),
        },
        Event::TlsStarted => EventJson::TlsStarted,
        Event::TlsEstablished {
            version,
            cipher_suite,
        } => EventJson::TlsEstablished {
            version,
            cipher_suite,
        },
        Event::TlsFailed { reason } => EventJson::TlsFailed { reason },
        Event::CloseNotify { direction } => EventJson::CloseNotify {
            direction: *direction,
        },
        Event::Closed { direction, how } => EventJson::Closed {
            direction: *direction,
            how,
        },
        Event::Note { text } => EventJson::Note { text },
    };
    EntryJson {
        at_ms: millis(entry.at),
        connection: entry.connection,
        event,
    }
}

fn result<'a>(run: &'a Run, outcome: &'a Outcome) -> ResultJson<'a> {
    ResultJson {
        id: &outcome.id,
        title: &outcome.title,
        protocol: protocol_name(outcome.protocol),
        role: party_name(outcome.role),
        verdict: outcome.verdict,
        level: level_label(outcome.level),
        clause: clause::first_reference(outcome),
        clauses: outcome
            .clauses
            .iter()
            .map(|c| ClauseJson {
                reference: &c.reference,
                quote: c.quote.as_deref(),
                url: c.url.as_deref(),
            })
            .collect(),
        cves: &outcome.cves,
        message: &outcome.message,
        failure: outcome.failure.as_ref(),
        expected_failure: outcome.expected_failure.as_deref(),
        manual: &outcome.manual,
        unexpected_pass: run.unexpected_passes.contains(&outcome.id),
        duration_ms: millis(outcome.duration),
        file: outcome.file.as_ref().map(|f| f.display().to_string()),
        transcript: outcome
            .transcript
            .entries
            .iter()
            .map(|e| entry(outcome.role, e))
            .collect(),
    }
}

/// Writes the JSON report, pretty-printed, with a final newline.
pub(crate) fn render(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    let tally = Tally::of(run);
    let report = Report {
        version: SCHEMA_VERSION,
        tool: format!("mailtls {}", run.tool_version),
        target: &run.target,
        duration_ms: millis(run.duration),
        strict: run.strict,
        success: run.is_success(),
        summary: Summary {
            total: tally.total,
            pass: tally.pass,
            fail: tally.fail,
            warn: tally.warn,
            na: tally.na,
            error: tally.error,
            info: tally.info,
            manual: tally.manual,
            expected_failures: tally.fail_expected + tally.error_expected,
            unexpected_passes: tally.unexpected_passes,
        },
        results: run.results.iter().map(|o| result(run, o)).collect(),
        unexpected_passes: &run.unexpected_passes,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}
