//! The reference client's IMAP session (RFC 9051/3501 subset, RFC 2595 §3 STARTTLS and
//! LOGINDISABLED, RFC 4959 SASL-IR, RFC 9051 §7.1.4 PREAUTH), over
//! [`crate::proto::imap::ResponseReader`].
//!
//! Tags are `A1`, `A2`, ... Untagged responses are never acted on except as capability
//! lists (a `* CAPABILITY` or a `[CAPABILITY]` code), and only the last list seen for a
//! command counts, and `* BYE`, which ends the command: the server is about to close
//! (RFC 9051 §7.1.5). A tagged completion for any tag but the pending command's is a
//! protocol error (the early-completion trick of CVE-2026-42246): the session stops.

use std::collections::VecDeque;

use super::{ClientError, ClientFault, Ctx, MAX_RESPONSES_PER_COMMAND, Mechanism, Refusal, shown};
use crate::proto::capability::Capabilities;
use crate::proto::imap::{AString, CodeName, Response, ResponseKind, ResponseReader, Status};
use crate::sasl::wire;

/// Runs one IMAP session over `ctx`.
pub(super) async fn run(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    Imap {
        ctx,
        reader: ResponseReader::new(),
        queued: VecDeque::new(),
        early: Vec::new(),
        cleartext_mailbox: None,
        tag: 0,
    }
    .run()
    .await
}

/// How a command ended.
enum Done {
    /// Its tagged completion: the status, the line as received, and the last capability
    /// list seen while it ran.
    Tagged {
        status: Status,
        line: String,
        caps: Option<Capabilities>,
    },
    /// A `+` continuation request (the line as received).
    Continuation(String),
    /// An untagged `* BYE` (the line as received): the server is about to close.
    Bye(String),
}

impl Done {
    fn is_ok(&self) -> bool {
        matches!(
            self,
            Self::Tagged {
                status: Status::Ok,
                ..
            }
        )
    }

    fn line(&self) -> &str {
        match self {
            Self::Tagged { line, .. } | Self::Continuation(line) | Self::Bye(line) => line,
        }
    }
}

/// How a STARTTLS ended.
enum Upgrade {
    /// TLS is up; `heard` is the capability list seen during the STARTTLS exchange.
    Done { heard: Option<Capabilities> },
    /// Refused with this answer (as received, or a note that the server closed).
    Refused(String),
}

fn line_of(response: &Response) -> String {
    let mut out = Vec::new();
    response.encode(&mut out);
    shown(out.strip_suffix(b"\r\n").unwrap_or(&out))
}

struct Imap<'c, 'o> {
    ctx: &'c mut Ctx<'o>,
    reader: ResponseReader,
    /// Responses already parsed and not yet read (see `capabilities_after_tls`).
    queued: VecDeque<Response>,
    /// [`ClientFault::AcceptsEarlyCompletion`]: tagged completions that came before
    /// their command.
    early: Vec<Response>,
    /// [`ClientFault::TrustsCleartextMailboxData`]: the last mailbox named before TLS.
    cleartext_mailbox: Option<String>,
    tag: u32,
}

impl Imap<'_, '_> {
    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("A{}", self.tag)
    }

    async fn next_response(&mut self, during: &'static str) -> Result<Response, ClientError> {
        if let Some(response) = self.queued.pop_front() {
            return Ok(response);
        }
        loop {
            match self.reader.next_response() {
                Ok(Some(response)) => return Ok(response),
                Ok(None) => {
                    let data = self.ctx.wire.receive(during).await?;
                    self.reader.push(&data);
                }
                Err(e) => {
                    return Err(ClientError::Protocol(format!(
                        "malformed response while {during}: {e}"
                    )));
                }
            }
        }
    }

    /// Writes `tag text` and reads until its completion.
    async fn command(
        &mut self,
        tag: &str,
        text: &str,
        during: &'static str,
    ) -> Result<Done, ClientError> {
        let line = format!("{tag} {text}");
        self.ctx
            .send(format!("{line}\r\n").as_bytes(), line.clone())
            .await?;
        self.complete(tag, during, false).await
    }

    /// Reads until the tagged completion of `tag` (or a continuation, if
    /// `continuation`), ignoring untagged responses but for their capability lists.
    async fn complete(
        &mut self,
        tag: &str,
        during: &'static str,
        continuation: bool,
    ) -> Result<Done, ClientError> {
        if let Some(at) = self
            .early
            .iter()
            .position(|r| r.tag().is_some_and(|t| t.as_str() == tag))
        {
            let response = self.early.remove(at);
            return Ok(Done::Tagged {
                status: response.status().cloned().unwrap_or(Status::Bad),
                line: line_of(&response),
                caps: response.capabilities(),
            });
        }
        let mut caps = None;
        for _ in 0..MAX_RESPONSES_PER_COMMAND {
            let response = self.next_response(during).await?;
            if let Some(list) = response.capabilities() {
                caps = Some(list);
            }
            self.faulty_reading(&response)?;
            match &response.kind {
                ResponseKind::Continuation(_) if continuation => {
                    return Ok(Done::Continuation(line_of(&response)));
                }
                ResponseKind::Continuation(_) => {
                    return Err(ClientError::Protocol(format!(
                        "unexpected continuation `{}` while {during}",
                        line_of(&response)
                    )));
                }
                ResponseKind::Status {
                    tag: None, status, ..
                } if *status.kind() == Status::Bye => {
                    return Ok(Done::Bye(line_of(&response)));
                }
                ResponseKind::Status {
                    tag: Some(got),
                    status,
                    ..
                } => {
                    if got.as_str() != tag && self.ctx.has(ClientFault::AcceptsEarlyCompletion) {
                        self.early.push(response);
                        continue;
                    }
                    if got.as_str() != tag {
                        return Err(ClientError::Protocol(format!(
                            "`{}` completes a command that is not pending (expected tag {tag})",
                            line_of(&response)
                        )));
                    }
                    return Ok(Done::Tagged {
                        status: status.kind().clone(),
                        line: line_of(&response),
                        caps,
                    });
                }
                _ => {}
            }
        }
        Err(ClientError::Protocol(format!(
            "more than {MAX_RESPONSES_PER_COMMAND} responses while {during}"
        )))
    }

    /// What the faults read into a response the conformant client ignores: a mailbox
    /// named before TLS, a REFERRAL to follow.
    fn faulty_reading(&mut self, response: &Response) -> Result<(), ClientError> {
        if self.ctx.has(ClientFault::TrustsCleartextMailboxData) && !self.ctx.wire.is_tls() {
            if let ResponseKind::Data(raw) = &response.kind {
                if let Some(name) = mailbox_named(raw) {
                    self.cleartext_mailbox = Some(name);
                }
            }
        }
        let referral = response
            .code()
            .is_some_and(|code| *code.name.kind() == CodeName::Referral);
        if referral && self.ctx.has(ClientFault::FollowsReferrals) {
            return Err(ClientError::Protocol(format!(
                "left to follow the referral in `{}`",
                line_of(response)
            )));
        }
        Ok(())
    }

    async fn run(&mut self) -> Result<(), ClientError> {
        if self.ctx.opts.implicit {
            self.ctx.handshake().await?;
        }
        let greeting = self.next_response("reading the greeting").await?;
        let status = match &greeting.kind {
            ResponseKind::Status {
                tag: None, status, ..
            } => status.kind().clone(),
            _ => {
                return self
                    .invalid_greeting(&greeting, "expected a greeting, got")
                    .await;
            }
        };
        match status {
            Status::Ok => {}
            Status::Preauth => return self.preauth().await,
            _ => {
                return self
                    .invalid_greeting(&greeting, "the server greeted with")
                    .await;
            }
        }
        let mut caps = match greeting.capabilities() {
            Some(caps) => caps,
            None => self.capability().await?,
        };
        if !self.ctx.wire.is_tls() {
            if self.ctx.has(ClientFault::PlainInCleartext) && caps.has_sasl("PLAIN") {
                return self.log_in_and_finish(&caps).await;
            }
            if caps.has("STARTTLS") {
                match self.starttls().await? {
                    Upgrade::Done { heard } => {
                        let cleartext = heard.unwrap_or(caps);
                        caps = self.capabilities_after_tls(cleartext).await?;
                    }
                    Upgrade::Refused(response) if self.ctx.tls_required() => {
                        self.logout_quietly().await;
                        return Err(ClientError::Refused(Refusal::StarttlsRefused {
                            command: "STARTTLS",
                            response,
                        }));
                    }
                    Upgrade::Refused(_) => {}
                }
            } else if self.ctx.tls_required() {
                self.logout_quietly().await;
                return Err(ClientError::Refused(Refusal::StarttlsNotOffered {
                    command: "STARTTLS",
                }));
            }
        } else if self.ctx.has(ClientFault::StarttlsOnImplicit) && caps.has("STARTTLS") {
            let tag = self.next_tag();
            // Whatever the answer (a conformant server says BAD), the session goes on.
            self.command(&tag, "STARTTLS", "waiting for the STARTTLS response")
                .await?;
        }
        self.log_in_and_finish(&caps).await
    }

    /// A greeting that is neither `* OK` nor `* PREAUTH`: the session stops, unless
    /// [`ClientFault::IgnoresInvalidGreeting`] goes on to log in, in cleartext.
    async fn invalid_greeting(
        &mut self,
        greeting: &Response,
        what: &str,
    ) -> Result<(), ClientError> {
        if self.ctx.has(ClientFault::IgnoresInvalidGreeting) && !self.ctx.wire.is_tls() {
            return self.log_in_and_finish(&Capabilities::new()).await;
        }
        Err(ClientError::Protocol(format!(
            "{what} `{}`",
            line_of(greeting)
        )))
    }

    /// A PREAUTH greeting: in cleartext with TLS required, close without a word
    /// (RFC 9051 §7.1.4); otherwise the session is authenticated.
    async fn preauth(&mut self) -> Result<(), ClientError> {
        let cleartext = !self.ctx.wire.is_tls();
        if cleartext
            && self.ctx.opts.require_tls
            && !self.ctx.has(ClientFault::AcceptsCleartextPreauth)
        {
            return Err(ClientError::Refused(Refusal::PreauthInCleartext));
        }
        self.ctx.summary.mechanism = Some(Mechanism::Preauth);
        self.mailbox_and_logout().await
    }

    /// `CAPABILITY`; a failed command advertises nothing.
    async fn capability(&mut self) -> Result<Capabilities, ClientError> {
        let tag = self.next_tag();
        match self
            .command(&tag, "CAPABILITY", "waiting for the CAPABILITY response")
            .await?
        {
            Done::Tagged {
                status: Status::Ok,
                caps,
                ..
            } => Ok(caps.unwrap_or_default()),
            Done::Bye(line) => Err(ClientError::Protocol(format!(
                "the server ended the session: `{line}`"
            ))),
            _ => Ok(Capabilities::new()),
        }
    }

    /// `STARTTLS`, and the upgrade on its OK. Anything but the OK refuses it: NO, BAD,
    /// another status, a `+`, a `* BYE`, or the server closing.
    async fn starttls(&mut self) -> Result<Upgrade, ClientError> {
        let tag = self.next_tag();
        let line = format!("{tag} STARTTLS");
        self.ctx
            .send(format!("{line}\r\n").as_bytes(), line)
            .await?;
        // Untagged lines before the OK are not acted on, not even capability lists.
        let done = match self
            .complete(&tag, "waiting for the STARTTLS response", true)
            .await
        {
            Err(ClientError::Closed { .. }) => {
                return Ok(Upgrade::Refused(
                    "(the server closed the connection)".to_owned(),
                ));
            }
            other => other?,
        };
        if !done.is_ok() {
            return Ok(Upgrade::Refused(done.line().to_owned()));
        }
        // Only ClientFault::StaleCapabilities looks at it: the last list heard in the
        // exchange (an untagged one before the OK, or the OK's own code).
        let heard = match done {
            Done::Tagged { caps, .. } => caps,
            _ => None,
        };
        let buffered = self.reader.take_buffered();
        let early = if self.ctx.has(ClientFault::SendsBeforeHandshake) {
            let tag = self.next_tag();
            Some((
                format!("{tag} CAPABILITY\r\n").into_bytes(),
                format!("{tag} CAPABILITY"),
            ))
        } else {
            None
        };
        let kept = self.ctx.upgrade(buffered, early).await?;
        self.reader = ResponseReader::new();
        self.reader.push(&kept);
        Ok(Upgrade::Done { heard })
    }

    /// The capability list inside TLS: one the server already sent inside TLS, else a
    /// fresh `CAPABILITY`. The cleartext list (the last one heard before TLS) is
    /// discarded (RFC 2595 §3.1), unless [`ClientFault::StaleCapabilities`] keeps it.
    async fn capabilities_after_tls(
        &mut self,
        cleartext: Capabilities,
    ) -> Result<Capabilities, ClientError> {
        if self.ctx.has(ClientFault::StaleCapabilities) {
            return Ok(cleartext);
        }
        // Complete responses already in the reader came "inside TLS": there are none,
        // unless acts-on-injected-plaintext kept the plaintext that followed the OK. A
        // capability list among them is taken as volunteered; all stay queued, so the
        // next commands read them as answers (a tagged OK completes a command early).
        let mut volunteered = None;
        for _ in 0..MAX_RESPONSES_PER_COMMAND {
            match self.reader.next_response() {
                Ok(Some(response)) => {
                    if let Some(caps) = response.capabilities() {
                        volunteered = Some(caps);
                    }
                    self.queued.push_back(response);
                }
                Ok(None) | Err(_) => break,
            }
        }
        match volunteered {
            Some(caps) => Ok(caps),
            None => self.capability().await,
        }
    }

    async fn log_in_and_finish(&mut self, caps: &Capabilities) -> Result<(), ClientError> {
        self.ctx.using_capabilities(caps.raw());
        let logindisabled =
            caps.has("LOGINDISABLED") && !self.ctx.has(ClientFault::LoginDespiteLogindisabled);
        let mechanism = if caps.has_sasl("PLAIN") {
            self.authenticate_plain(caps.has("SASL-IR")).await?;
            Mechanism::Plain
        } else if !logindisabled {
            self.login().await?;
            Mechanism::Login
        } else {
            self.logout_quietly().await;
            return Err(ClientError::NoMechanism {
                offered: caps.raw().join(" "),
            });
        };
        self.ctx.summary.mechanism = Some(mechanism);
        self.mailbox_and_logout().await
    }

    /// `AUTHENTICATE PLAIN`, with the initial response on the command line only when
    /// SASL-IR is advertised; otherwise after the server's `+`.
    async fn authenticate_plain(&mut self, sasl_ir: bool) -> Result<(), ClientError> {
        let during = "waiting for the AUTHENTICATE response";
        let tag = self.next_tag();
        self.ctx.sending_credentials();
        let (line, text) = if sasl_ir {
            let initial = wire::encode_initial_response(&self.ctx.plain);
            (
                format!("{tag} AUTHENTICATE PLAIN {initial}\r\n"),
                format!("{tag} AUTHENTICATE PLAIN ***"),
            )
        } else {
            (
                format!("{tag} AUTHENTICATE PLAIN\r\n"),
                format!("{tag} AUTHENTICATE PLAIN"),
            )
        };
        self.ctx.send(line.as_bytes(), text).await?;
        let mut done = self.complete(&tag, during, true).await?;
        if let Done::Continuation(_) = done {
            if sasl_ir {
                // The initial response was sent: another challenge is not PLAIN's.
                self.ctx.send(b"*\r\n", "*").await?;
            } else {
                let response = wire::encode_response(&self.ctx.plain);
                self.ctx
                    .send(format!("{response}\r\n").as_bytes(), "***")
                    .await?;
            }
            done = self.complete(&tag, during, false).await?;
        }
        if done.is_ok() || self.ctx.has(ClientFault::IgnoresCommandFailure) {
            Ok(())
        } else {
            self.logout_quietly().await;
            Err(ClientError::AuthFailed(done.line().to_owned()))
        }
    }

    async fn login(&mut self) -> Result<(), ClientError> {
        let encode = |value: &str| {
            let astring = AString::from_value(value.as_bytes());
            let mut out = Vec::new();
            astring.encode(&mut out);
            match astring {
                AString::Literal { .. } => Err(ClientError::Options(
                    "the credentials need an IMAP literal; the reference client only sends them with PLAIN"
                        .to_owned(),
                )),
                _ => Ok(String::from_utf8_lossy(&out).into_owned()),
            }
        };
        let user = encode(&self.ctx.opts.user)?;
        let password = encode(&self.ctx.opts.password)?;
        let tag = self.next_tag();
        self.ctx.sending_credentials();
        self.ctx
            .send(
                format!("{tag} LOGIN {user} {password}\r\n").as_bytes(),
                format!("{tag} LOGIN {user} ***"),
            )
            .await?;
        let done = self
            .complete(&tag, "waiting for the LOGIN response", false)
            .await?;
        if done.is_ok() || self.ctx.has(ClientFault::IgnoresCommandFailure) {
            Ok(())
        } else {
            self.logout_quietly().await;
            Err(ClientError::AuthFailed(done.line().to_owned()))
        }
    }

    async fn mailbox_and_logout(&mut self) -> Result<(), ClientError> {
        let tag = self.next_tag();
        let mailbox = match self.cleartext_mailbox.take() {
            Some(name) if self.ctx.has(ClientFault::TrustsCleartextMailboxData) => {
                let mut out = Vec::new();
                AString::from_value(name.as_bytes()).encode(&mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
            _ => "INBOX".to_owned(),
        };
        // OK or NO: either way the session goes on to LOGOUT.
        let selected = self
            .command(
                &tag,
                &format!("SELECT {mailbox}"),
                "waiting for the SELECT response",
            )
            .await?;
        if !selected.is_ok() && self.ctx.has(ClientFault::IgnoresCommandFailure) {
            // What a client that believed the SELECT would do next: read the mailbox.
            let tag = self.next_tag();
            self.command(&tag, "FETCH 1:* (FLAGS)", "waiting for the FETCH response")
                .await?;
        }
        self.logout().await
    }

    /// `LOGOUT`; the server may close right after its `* BYE`.
    async fn logout(&mut self) -> Result<(), ClientError> {
        let tag = self.next_tag();
        let during = "waiting for the LOGOUT response";
        let mut done = self.command(&tag, "LOGOUT", during).await;
        // Here the `* BYE` is expected: read on to the tagged OK (or the close).
        while let Ok(Done::Bye(_)) = done {
            done = self.complete(&tag, during, false).await;
        }
        match done {
            Ok(_) | Err(ClientError::Closed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `LOGOUT` on the way out of a refusal or failure; whatever happens is ignored.
    async fn logout_quietly(&mut self) {
        let _ = self.logout().await;
    }
}

/// The mailbox an untagged `LIST`/`LSUB` (its last field) or `STATUS` (its first) names,
/// for [`ClientFault::TrustsCleartextMailboxData`]. Quoted names lose their quotes.
fn mailbox_named(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let (word, rest) = text.split_once(' ')?;
    let field = match word.to_ascii_uppercase().as_str() {
        "LIST" | "LSUB" => match rest.strip_suffix('"') {
            Some(open) => open.rsplit_once('"').map(|(_, name)| name)?,
            None => rest.rsplit(' ').next()?,
        },
        "STATUS" => rest.split(' ').next()?,
        _ => return None,
    };
    let name = field.trim_matches('"');
    (!name.is_empty()).then(|| name.to_owned())
}
