//! The reference client's ACAP session (RFC 2244 subset, RFC 2595 §5 STARTTLS and §6
//! PLAIN), over [`crate::proto::acap::ResponseReader`].
//!
//! The greeting is the capability list, before and after TLS. After the STARTTLS
//! handshake the client waits for the re-issued greeting and uses only it:
//!
//! > The client MUST discard cached capability information and replace it with the
//! > information from the new ACAP greeting. (RFC 2595 §5.1)
//!
//! PLAIN goes as the initial response of `AUTHENTICATE "PLAIN"`, in a non-synchronising
//! literal since the message holds NULs, as RFC 2595 §6 shows:
//! `a003 AUTHENTICATE "PLAIN" {21+}` CRLF `<NUL>tim<NUL>tanstaaftanstaaf`.

use super::{ClientError, ClientFault, Ctx, MAX_RESPONSES_PER_COMMAND, Mechanism, Refusal, shown};
use crate::proto::acap::{AcapString, Response, ResponseKind, ResponseReader, Status};
use crate::proto::capability::Capabilities;

/// Runs one ACAP session over `ctx`.
pub(super) async fn run(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    Acap {
        ctx,
        reader: ResponseReader::new(),
        tag: 0,
    }
    .run()
    .await
}

fn line_of(response: &Response) -> String {
    let mut out = Vec::new();
    response.encode(&mut out);
    shown(out.strip_suffix(b"\r\n").unwrap_or(&out))
}

/// How a command ended.
enum Done {
    /// Its tagged status response: the status and the line as received.
    Tagged { status: Status, line: String },
    /// A `+` continuation request (the line as received).
    Continuation(String),
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
            Self::Tagged { line, .. } | Self::Continuation(line) => line,
        }
    }
}

struct Acap<'c, 'o> {
    ctx: &'c mut Ctx<'o>,
    reader: ResponseReader,
    tag: u32,
}

impl Acap<'_, '_> {
    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("a{}", self.tag)
    }

    async fn next_response(&mut self, during: &'static str) -> Result<Response, ClientError> {
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

    /// Reads until the tagged status response of `tag` (or a continuation), ignoring
    /// untagged responses and tagged data.
    async fn complete(&mut self, tag: &str, during: &'static str) -> Result<Done, ClientError> {
        for _ in 0..MAX_RESPONSES_PER_COMMAND {
            let response = self.next_response(during).await?;
            match &response.kind {
                ResponseKind::Continuation(_) => {
                    return Ok(Done::Continuation(line_of(&response)));
                }
                ResponseKind::Status {
                    tag: Some(got),
                    status,
                    ..
                } => {
                    if got.as_str() != tag {
                        return Err(ClientError::Protocol(format!(
                            "`{}` completes a command that is not pending (expected tag {tag})",
                            line_of(&response)
                        )));
                    }
                    return Ok(Done::Tagged {
                        status: *status.kind(),
                        line: line_of(&response),
                    });
                }
                _ => {}
            }
        }
        Err(ClientError::Protocol(format!(
            "more than {MAX_RESPONSES_PER_COMMAND} responses while {during}"
        )))
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
        self.complete(tag, during).await
    }

    /// The next response must be the greeting; its capability list.
    async fn greeting(&mut self, during: &'static str) -> Result<Capabilities, ClientError> {
        let greeting = self.next_response(during).await?;
        greeting.capabilities().ok_or_else(|| {
            ClientError::Protocol(format!(
                "expected the ACAP greeting, got `{}`",
                line_of(&greeting)
            ))
        })
    }

    async fn run(&mut self) -> Result<(), ClientError> {
        if self.ctx.opts.implicit {
            self.ctx.handshake().await?;
        }
        let mut caps = self.greeting("reading the greeting").await?;
        if !self.ctx.wire.is_tls() {
            if self.ctx.has(ClientFault::PlainInCleartext) && caps.has_sasl("PLAIN") {
                return self.log_in_and_finish(&caps).await;
            }
            if caps.has("STARTTLS") {
                match self.starttls().await? {
                    None => {
                        if !self.ctx.has(ClientFault::StaleCapabilities) {
                            caps = self
                                .greeting("waiting for the greeting re-issued inside TLS")
                                .await?;
                        }
                    }
                    Some(response) if self.ctx.tls_required() => {
                        self.logout_quietly().await;
                        return Err(ClientError::Refused(Refusal::StarttlsRefused {
                            command: "STARTTLS",
                            response,
                        }));
                    }
                    Some(_) => {}
                }
            } else if self.ctx.tls_required() {
                self.logout_quietly().await;
                return Err(ClientError::Refused(Refusal::StarttlsNotOffered {
                    command: "STARTTLS",
                }));
            }
        }
        self.log_in_and_finish(&caps).await
    }

    /// `STARTTLS`, and the upgrade on its OK. `Some(line)`: refused with this answer.
    async fn starttls(&mut self) -> Result<Option<String>, ClientError> {
        let tag = self.next_tag();
        let done = self
            .command(&tag, "STARTTLS", "waiting for the STARTTLS response")
            .await?;
        if !done.is_ok() {
            return Ok(Some(done.line().to_owned()));
        }
        let buffered = self.reader.take_buffered();
        let early = if self.ctx.has(ClientFault::SendsBeforeHandshake) {
            let tag = self.next_tag();
            Some((
                format!("{tag} NOOP\r\n").into_bytes(),
                format!("{tag} NOOP"),
            ))
        } else {
            None
        };
        let kept = self.ctx.upgrade(buffered, early).await?;
        self.reader = ResponseReader::new();
        self.reader.push(&kept);
        Ok(None)
    }

    async fn log_in_and_finish(&mut self, caps: &Capabilities) -> Result<(), ClientError> {
        self.ctx.using_capabilities(caps.raw());
        if !caps.has_sasl("PLAIN") {
            self.logout_quietly().await;
            return Err(ClientError::NoMechanism {
                offered: caps.raw().join(" "),
            });
        }
        self.authenticate_plain().await?;
        self.ctx.summary.mechanism = Some(Mechanism::Plain);
        let tag = self.next_tag();
        // OK, NO or BAD: either way the session goes on to LOGOUT.
        self.command(&tag, "NOOP", "waiting for the NOOP response")
            .await?;
        self.logout().await
    }

    async fn authenticate_plain(&mut self) -> Result<(), ClientError> {
        let during = "waiting for the AUTHENTICATE response";
        let tag = self.next_tag();
        let mut line = format!("{tag} AUTHENTICATE \"PLAIN\" ").into_bytes();
        AcapString::Literal {
            data: self.ctx.plain.clone(),
            non_sync: true,
        }
        .encode(&mut line);
        line.extend_from_slice(b"\r\n");
        let text = format!(
            "{tag} AUTHENTICATE \"PLAIN\" {{{}+}} ***",
            self.ctx.plain.len()
        );
        self.ctx.sending_credentials();
        self.ctx.send(&line, text).await?;
        let mut done = self.complete(&tag, during).await?;
        if let Done::Continuation(_) = done {
            // The initial response was sent: another challenge is not PLAIN's.
            self.ctx.send(b"\"*\"\r\n", "\"*\"").await?;
            done = self.complete(&tag, during).await?;
        }
        if done.is_ok() {
            Ok(())
        } else {
            self.logout_quietly().await;
            Err(ClientError::AuthFailed(done.line().to_owned()))
        }
    }

    /// `LOGOUT`; the server may close right after its `* BYE`.
    async fn logout(&mut self) -> Result<(), ClientError> {
        let tag = self.next_tag();
        match self
            .command(&tag, "LOGOUT", "waiting for the LOGOUT response")
            .await
        {
            Ok(_) | Err(ClientError::Closed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `LOGOUT` on the way out of a refusal or failure; whatever happens is ignored.
    async fn logout_quietly(&mut self) {
        let _ = self.logout().await;
    }
}
