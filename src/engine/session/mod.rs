//! The interpreter: walks a scenario's steps over real connections, sending the lines
//! mailtls plays and judging the lines the peer must send. The first broken step stops
//! the walk with a [`Stop`] that says why; reaching the end is a PASS.

mod directives;
mod legacy;

use crate::certs::profiles::{Acceptance, Profile};
use crate::engine::auto::AutoResponder;
use crate::engine::caps::CapsTracker;
use crate::engine::client::ClientSide;
use crate::engine::outcome::{Failure, StepRef};
use crate::engine::{Source, Target};
use crate::model::Party;
use crate::net::transcript::{Direction, Event, Transcript};
use crate::net::{CloseHow, Conn, ConnOptions, HANDSHAKE_RECORD, NetError, ReadLine};
use crate::scenario::ast::{
    CapsAssertion, Directive, Ending, Expectation, Line, Part, Requirement, Scenario, Span, Step,
    TlsVersion,
};
use crate::scenario::pattern::{self, Vars};
use crate::scenario::show_octets;
use crate::tls::PeerRecord;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the walk ended early.
#[derive(Debug)]
pub(super) enum Stop {
    /// The scenario is satisfied early (the peer closed where closing is allowed, or a
    /// `[tls may-fail]` handshake failed).
    Pass(String),
    /// A step was broken.
    Fail(String, Box<Failure>),
    /// The scenario does not apply to this peer.
    NotApplicable(String),
    /// The harness could not run the scenario.
    Error(String),
    /// Recorded, not judged (an obsolete requirement): the walk ends with INFO.
    Info(String),
}

/// A received line waiting to be judged.
#[derive(Debug)]
struct Received {
    bytes: Vec<u8>,
    ending: Ending,
    /// Index into the merged transcript.
    entry: usize,
}

/// The state of one walk.
pub(super) struct Session<'a> {
    scenario: &'a Scenario,
    source: &'a Source,
    peer: Peer<'a>,
    /// The kind of peer judged: `Server` means mailtls sends the `C:` lines.
    judged: Party,
    opts: ConnOptions,
    conn: Option<Conn>,
    connection: u32,
    /// Transcripts of connections already closed, merged.
    done: Transcript,
    vars: Vars,
    caps: CapsTracker,
    requires_checked: bool,
    forbidden: Vec<&'a Part>,
    close_passes: bool,
    lookahead: VecDeque<Received>,
    /// Whether anything at all arrived on the current connection (a timeout before the
    /// first octet is an ERROR, not a FAIL).
    received_any: bool,
    /// Client role: answers what the scenario does not script.
    auto: AutoResponder,
    /// Client role: the last `[expect-exit]`, judged once the client has exited.
    expect_exit: Option<(bool, Span)>,
    /// The scenario reached its verdict early (the client refused a certificate): the
    /// remaining steps are skipped, except `[expect-exit]`.
    finished: Option<String>,
    /// Server role: what the last handshake showed (a CertificateRequest?).
    last_handshake: Option<Arc<PeerRecord>>,
    /// Client role: the client accepted a certificate the readings differ on; the
    /// verdict says which reading it followed.
    reading: Option<String>,
}

/// The peer under test and how to reach it.
#[derive(Clone, Copy)]
pub(super) enum Peer<'a> {
    /// A server: mailtls connects and plays the client.
    Server(&'a Target),
    /// A client: mailtls accepts its connections and plays the server.
    Client(&'a ClientSide),
}

impl<'a> Session<'a> {
    pub(super) fn new(
        scenario: &'a Scenario,
        source: &'a Source,
        peer: Peer<'a>,
        vars: Vars,
        started: Instant,
    ) -> Self {
        let (timeout, max_line, judged) = match peer {
            Peer::Server(target) => (target.timeout, target.max_line, Party::Server),
            Peer::Client(side) => (side.timeout, side.max_line, Party::Client),
        };
        let opts = ConnOptions {
            read_timeout: scenario.meta.timeout.unwrap_or(timeout),
            connect_timeout: timeout,
            max_line,
            connection: 1,
            started,
            ..ConnOptions::default()
        };
        Self {
            scenario,
            source,
            peer,
            judged,
            opts,
            conn: None,
            connection: 0,
            done: Transcript::new(),
            vars,
            caps: CapsTracker::new(scenario.meta.protocol),
            requires_checked: false,
            forbidden: Vec::new(),
            close_passes: false,
            lookahead: VecDeque::new(),
            received_any: false,
            auto: AutoResponder::new(scenario.meta.protocol),
            expect_exit: None,
            finished: None,
            last_handshake: None,
            reading: None,
        }
    }

    /// The `[expect-exit]` the walk reached, if any.
    pub(super) fn expect_exit(&self) -> Option<(bool, Span)> {
        self.expect_exit
    }

    /// Everything recorded so far, all connections merged.
    pub(super) fn transcript(&mut self) -> Transcript {
        let mut all = std::mem::take(&mut self.done);
        if let Some(conn) = &mut self.conn {
            all.entries.extend(conn.take_transcript().entries);
        }
        all
    }

    /// Client role, after the walk: ends TLS with close_notify (a client on OpenSSL 3
    /// treats a bare close as a truncation error), then closes.
    pub(super) async fn close(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            if conn.is_tls() {
                let _ = conn.send_close_notify().await;
            } else {
                let _ = conn.close().await;
            }
        }
    }

    /// Runs every step; `Ok` means they all held.
    pub(super) async fn run(&mut self) -> Result<(), Stop> {
        self.connect().await?;
        let steps = &self.scenario.steps;
        for step in steps {
            if self.finished.is_some() {
                if let Step::Directive(Directive::ExpectExit(success), span) = step {
                    self.expect_exit = Some((*success, *span));
                }
                continue;
            }
            match step {
                Step::Line(line) if self.sends(line) => self.send(line).await?,
                Step::Line(line) => self.judge(line).await?,
                Step::Unordered(lines, span) => self.unordered(lines, *span).await?,
                Step::Directive(directive, span) => self.directive(directive, *span).await?,
            }
        }
        if let Some(done) = self.finished.take() {
            return Err(Stop::Pass(done));
        }
        if self.judged == Party::Client {
            self.drain().await?;
        }
        match self.reading.take() {
            Some(reading) => Err(Stop::Pass(reading)),
            None => Ok(()),
        }
    }

    /// Client role, after the last step: answer whatever the client still sends (its
    /// LOGOUT, say) until it closes or goes quiet, judging forbidden lines and PLAIN.
    async fn drain(&mut self) -> Result<(), Stop> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        if conn.peer_closed().is_some() {
            return Ok(());
        }
        let span = self
            .scenario
            .steps
            .last()
            .map(Step::span)
            .unwrap_or_default();
        loop {
            let got = match self.lookahead.pop_front() {
                Some(got) => got,
                None => match self.conn()?.read_line().await {
                    Ok(ReadLine::Line {
                        bytes,
                        ending,
                        entry,
                    }) => {
                        let got = Received {
                            bytes,
                            ending,
                            entry: self.global_entry(entry),
                        };
                        self.observe(&got, span)?;
                        got
                    }
                    // Closed, quiet or broken: either way the client is done with us.
                    Ok(ReadLine::Closed { .. }) | Err(_) => return Ok(()),
                },
            };
            if self.auto_answer(&got, span).await? {
                return Ok(());
            }
        }
    }

    /// Client role: answers a line no step scripted. Returns whether it was a goodbye.
    async fn auto_answer(&mut self, got: &Received, span: Span) -> Result<bool, Stop> {
        let tls = self.conn.as_ref().is_some_and(Conn::is_tls);
        let answer = self.auto.answer(&got.bytes, self.caps.current(), tls);
        if let Some(problem) = answer.problem {
            return Err(self.fail(
                problem,
                span,
                "a well-formed PLAIN message: [authzid] NUL authcid NUL passwd (RFC 4616)"
                    .to_owned(),
                show_octets(&got.bytes),
                Some(got.entry),
            ));
        }
        if let Some(reading) = answer.reading {
            self.conn()?.note(reading);
        }
        if !answer.reply.is_empty() {
            let _ = self.conn()?.write_all(&answer.reply).await;
        }
        Ok(answer.goodbye)
    }

    fn sends(&self, line: &Line) -> bool {
        line.sender != self.judged
    }

    fn conn(&mut self) -> Result<&mut Conn, Stop> {
        self.conn
            .as_mut()
            .ok_or_else(|| Stop::Error("no connection is open".to_owned()))
    }

    fn step_ref(&self, span: Span) -> StepRef {
        StepRef::new(&self.source.file, &self.source.text, span)
    }

    fn fail(
        &self,
        message: impl Into<String>,
        span: Span,
        expected: String,
        seen: String,
        entry: Option<usize>,
    ) -> Stop {
        Stop::Fail(
            message.into(),
            Box::new(Failure {
                step: Some(self.step_ref(span)),
                expected,
                seen,
                transcript_entry: entry,
            }),
        )
    }

    /// The merged-transcript index of entry `local` of the current connection.
    fn global_entry(&self, local: usize) -> usize {
        self.done.entries.len() + local
    }

    /// The current connection is over: close our side quietly, keep its record, and
    /// number the next one.
    async fn retire_connection(&mut self) {
        if let Some(mut old) = self.conn.take() {
            let _ = old.close().await;
            self.done.entries.extend(old.take_transcript().entries);
        }
        self.connection += 1;
        self.opts.connection = self.connection;
    }

    async fn connect(&mut self) -> Result<(), Stop> {
        self.retire_connection().await;
        let conn = match self.peer {
            Peer::Server(target) => Conn::connect(target.addr, self.opts.clone())
                .await
                .map_err(|e| Stop::Error(format!("cannot reach the server: {e}")))?,
            Peer::Client(side) => Conn::accept(&side.listener, self.opts.clone())
                .await
                .map_err(|e| Stop::Error(format!("the client did not connect: {e}")))?,
        };
        self.conn = Some(conn);
        self.caps.new_connection();
        self.lookahead.clear();
        self.forbidden.clear();
        self.received_any = false;
        self.auto = AutoResponder::new(self.scenario.meta.protocol);
        Ok(())
    }

    // ---- sending -------------------------------------------------------------------

    async fn send(&mut self, line: &Line) -> Result<(), Stop> {
        let bytes = pattern::render_line(line, &self.vars)
            .map_err(|e| Stop::Error(format!("{}:{}: {e}", self.source.file, line.span().line)))?;
        match self.judged {
            Party::Server => self.caps.sent(&bytes),
            // Client role: what mailtls advertises is what the auto-responder repeats.
            Party::Client => {
                for line in bytes.split(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if !line.is_empty() {
                        self.caps.received(line);
                    }
                }
            }
        }
        let span = line.span();
        match self.conn()?.write_all(&bytes).await {
            Ok(()) => Ok(()),
            Err(e) if self.close_passes => Err(Stop::Pass(format!(
                "the {peer} closed the connection before mailtls could send more ({e})",
                peer = self.judged
            ))),
            Err(e) => Err(self.fail(
                "the connection broke while mailtls was sending",
                span,
                format!("an open connection to send `{}`", line),
                e.to_string(),
                None,
            )),
        }
    }

    // ---- receiving -----------------------------------------------------------------

    /// The next received line, or a Stop when the connection ended or went quiet.
    /// `expected` says what the calling step waits for, for the failure message.
    async fn next_line(
        &mut self,
        span: Span,
        expected: &(dyn Fn() -> String + Sync),
    ) -> Result<Received, Stop> {
        let (line, fresh) = self.read_next(span, expected).await?;
        if fresh {
            self.observe(&line, span)?;
        }
        Ok(line)
    }

    /// The next line, read ahead or fresh (`true`: not yet observed), without judging
    /// it; a close or silence is the Stop the caller may forgive (an optional line).
    async fn read_next(
        &mut self,
        span: Span,
        expected: &(dyn Fn() -> String + Sync),
    ) -> Result<(Received, bool), Stop> {
        let peer = self.judged;
        if let Some(line) = self.lookahead.pop_front() {
            return Ok((line, false));
        }
        let read = self.conn()?.read_line().await;
        match read {
            Ok(ReadLine::Line {
                bytes,
                ending,
                entry,
            }) => {
                self.received_any = true;
                let entry = self.global_entry(entry);
                let line = Received {
                    bytes,
                    ending,
                    entry,
                };
                Ok((line, true))
            }
            Ok(ReadLine::Closed { how, .. }) => Err(self.closed(how, span, expected())),
            Err(NetError::Timeout { waited, partial })
                if !self.received_any && partial.is_empty() =>
            {
                Err(Stop::Error(format!(
                    "the {peer} sent nothing within {waited:?} (connection {})",
                    self.connection
                )))
            }
            Err(NetError::Timeout { waited, partial }) => Err(self.fail(
                format!("nothing matching arrived within {waited:?}"),
                span,
                expected(),
                if partial.is_empty() {
                    format!("silence for {waited:?}")
                } else {
                    format!("an unfinished line `{}`", show_octets(&partial))
                },
                None,
            )),
            Err(e) => Err(self.fail(
                "the connection failed",
                span,
                expected(),
                e.to_string(),
                None,
            )),
        }
    }

    fn closed(&self, how: CloseHow, span: Span, expected: String) -> Stop {
        let peer = self.judged;
        if self.close_passes {
            Stop::Pass(format!(
                "the {peer} closed the connection ({how}), which this step allows"
            ))
        } else {
            self.fail(
                format!("the {peer} closed the connection ({how})"),
                span,
                expected,
                format!("connection closed ({how})"),
                None,
            )
        }
    }

    /// Every received line passes here: capabilities, `requires:`, must-not-appear.
    fn observe(&mut self, line: &Received, span: Span) -> Result<(), Stop> {
        if self.judged == Party::Client {
            self.caps.sent(&line.bytes);
            return self.check_forbidden(line, span);
        }
        if let Some(caps) = self.caps.received(&line.bytes) {
            if !self.requires_checked {
                self.requires_checked = true;
                let missing: Vec<String> = self
                    .scenario
                    .meta
                    .requires
                    .iter()
                    .filter(|r| match r {
                        Requirement::Capability(name) => !caps.has(name),
                        Requirement::Sasl(mech) => !caps.has_sasl(mech),
                    })
                    .map(requirement_label)
                    .collect();
                if !missing.is_empty() {
                    return Err(Stop::NotApplicable(format!(
                        "the server does not advertise {}",
                        missing.join(", ")
                    )));
                }
            }
        }
        self.check_forbidden(line, span)
    }

    fn check_forbidden(&self, line: &Received, _span: Span) -> Result<(), Stop> {
        for part in &self.forbidden {
            if pattern::match_part(part, &line.bytes, line.ending, &self.vars).is_ok() {
                return Err(self.fail(
                    "a line that must not appear arrived",
                    part.span,
                    format!("no line matching `{part}`"),
                    show_octets(&line.bytes),
                    Some(line.entry),
                ));
            }
        }
        Ok(())
    }

    async fn judge(&mut self, line: &'a Line) -> Result<(), Stop> {
        match line.expectation {
            Expectation::Next | Expectation::Unordered => {
                for part in &line.parts {
                    self.expect_next(part).await?;
                }
                Ok(())
            }
            Expectation::Optional => {
                let Some((first, rest)) = line.parts.split_first() else {
                    return Ok(());
                };
                let got = match self.read_next(first.span, &|| first.to_string()).await {
                    Ok((got, fresh)) => {
                        // A forbidden line is a FAIL even where a line is optional.
                        if fresh {
                            self.observe(&got, first.span)?;
                        }
                        got
                    }
                    // Nothing more came: an optional line may be absent.
                    Err(Stop::Fail(..)) => return Ok(()),
                    Err(other) => return Err(other),
                };
                match pattern::match_part(first, &got.bytes, got.ending, &self.vars) {
                    Ok(captures) => {
                        self.vars.extend(captures);
                        for part in rest {
                            self.expect_next(part).await?;
                        }
                    }
                    Err(_) => self.lookahead.push_front(got),
                }
                Ok(())
            }
            Expectation::Eventually => {
                let Some((first, rest)) = line.parts.split_first() else {
                    return Ok(());
                };
                loop {
                    let got = self.next_line(first.span, &|| first.to_string()).await?;
                    if let Ok(captures) =
                        pattern::match_part(first, &got.bytes, got.ending, &self.vars)
                    {
                        self.vars.extend(captures);
                        break;
                    }
                    if self.judged == Party::Client {
                        self.auto_answer(&got, first.span).await?;
                    }
                }
                for part in rest {
                    self.expect_next(part).await?;
                }
                Ok(())
            }
            Expectation::Forbidden => {
                for part in &line.parts {
                    self.forbidden.push(part);
                }
                // Lines already read ahead are judged too.
                for got in &self.lookahead {
                    self.check_forbidden(got, line.span())?;
                }
                Ok(())
            }
        }
    }

    async fn expect_next(&mut self, part: &Part) -> Result<(), Stop> {
        let peer = self.judged;
        let got = self.next_line(part.span, &|| part.to_string()).await?;
        match pattern::match_part(part, &got.bytes, got.ending, &self.vars) {
            Ok(captures) => {
                self.vars.extend(captures);
                Ok(())
            }
            Err(mismatch) => Err(self.fail(
                format!("unexpected line from the {peer}: {mismatch}"),
                part.span,
                part.to_string(),
                show_octets(&got.bytes),
                Some(got.entry),
            )),
        }
    }

    async fn unordered(&mut self, lines: &'a [Line], span: Span) -> Result<(), Stop> {
        let mut pending: Vec<&Part> = lines.iter().flat_map(|l| l.parts.iter()).collect();
        while !pending.is_empty() {
            let expected = || {
                pending
                    .iter()
                    .map(|p| format!("`{}`", p))
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            let got = self.next_line(span, &expected).await?;
            let hit = pending.iter().position(|part| {
                pattern::match_part(part, &got.bytes, got.ending, &self.vars).is_ok()
            });
            match hit {
                Some(i) => {
                    let part = pending.remove(i);
                    if let Ok(captures) =
                        pattern::match_part(part, &got.bytes, got.ending, &self.vars)
                    {
                        self.vars.extend(captures);
                    }
                }
                None => {
                    return Err(self.fail(
                        "a line outside the unordered group arrived",
                        span,
                        format!("one of {}", expected()),
                        show_octets(&got.bytes),
                        Some(got.entry),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn requirement_label(r: &Requirement) -> String {
    match r {
        Requirement::Capability(name) => name.clone(),
        Requirement::Sasl(mech) => format!("SASL {mech}"),
    }
}

fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}
