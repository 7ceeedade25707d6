//! The reference client's POP3 session (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH, RFC 2595
//! §4 STLS), over [`crate::proto::pop3::ResponseReader`].
//!
//! A server that answers CAPA with `-ERR` advertises nothing, so it offers no STLS
//! either (RFC 2595 §4: a server with STLS MUST implement CAPA; curl's CVE-2021-22946
//! went on in that case). `AUTH PLAIN` carries its initial response on the command line
//! unless that would make the line longer than 255 octets (RFC 5034 §4); USER/PASS is
//! used only when CAPA lists `USER`.

use super::{ClientError, ClientFault, Ctx, Mechanism, Refusal, shown};
use crate::proto::capability::Capabilities;
use crate::proto::pop3::{Expect, Response, ResponseReader};
use crate::sasl::wire;

/// The longest POP3 command line with an initial response (RFC 5034 §4), CRLF included.
const MAX_AUTH_LINE: usize = 255;

/// Runs one POP3 session over `ctx`.
pub(super) async fn run(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    Pop3 {
        ctx,
        reader: ResponseReader::new(),
        believed_listing: 0,
    }
    .run()
    .await
}

/// The message count of a `+OK nn mm` STAT answer (0 for anything else).
fn message_count(stat: &Response) -> usize {
    if !stat.is_ok() {
        return 0;
    }
    let text = String::from_utf8_lossy(stat.text().unwrap_or_default()).into_owned();
    text.split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn line_of(response: &Response) -> String {
    let mut out = Vec::new();
    response.encode(&mut out);
    let first = out.split(|&b| b == b'\n').next().unwrap_or_default();
    shown(first.strip_suffix(b"\r").unwrap_or(first))
}

struct Pop3<'c, 'o> {
    ctx: &'c mut Ctx<'o>,
    reader: ResponseReader,
    /// [`ClientFault::TrustsCleartextListing`]: the messages a scan listing after the
    /// cleartext greeting claimed.
    believed_listing: usize,
}

impl Pop3<'_, '_> {
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

    /// Writes `line` (shown as `text`) and reads its response, read as `expect` says.
    async fn command(
        &mut self,
        line: &str,
        text: &str,
        expect: Expect,
        during: &'static str,
    ) -> Result<Response, ClientError> {
        self.reader.expect(expect);
        self.ctx
            .send(format!("{line}\r\n").as_bytes(), text)
            .await?;
        self.next_response(during).await
    }

    async fn run(&mut self) -> Result<(), ClientError> {
        if self.ctx.opts.implicit {
            self.ctx.handshake().await?;
        }
        let greeting = self.next_response("reading the greeting").await?;
        if !greeting.is_ok() && !self.ctx.has(ClientFault::IgnoresErrGreeting) {
            return Err(ClientError::Protocol(format!(
                "the server greeted with `{}`",
                line_of(&greeting)
            )));
        }
        if self.ctx.has(ClientFault::TrustsCleartextListing) {
            self.believe_listing();
        }
        let mut caps = self.capa().await?;
        if !self.ctx.wire.is_tls() {
            if self.ctx.has(ClientFault::PlainInCleartext) && caps.has_sasl("PLAIN") {
                return self.log_in_and_finish(&caps).await;
            }
            if caps.has("STLS") {
                match self.stls().await? {
                    None => {
                        if !self.ctx.has(ClientFault::StaleCapabilities) {
                            caps = self.capa().await?;
                        }
                    }
                    Some(response) if self.ctx.tls_required() => {
                        self.quit_quietly().await;
                        return Err(ClientError::Refused(Refusal::StarttlsRefused {
                            command: "STLS",
                            response,
                        }));
                    }
                    Some(_) => {}
                }
            } else if self.ctx.tls_required() {
                self.quit_quietly().await;
                return Err(ClientError::Refused(Refusal::StarttlsNotOffered {
                    command: "STLS",
                }));
            }
        }
        self.log_in_and_finish(&caps).await
    }

    /// [`ClientFault::TrustsCleartextListing`]: lines already read past the greeting, up
    /// to a `.`, are taken as a scan listing and remembered.
    fn believe_listing(&mut self) {
        let buffered = self.reader.take_buffered();
        let text = String::from_utf8_lossy(&buffered);
        let mut lines = text.split("\r\n");
        let listed = lines.by_ref().take_while(|line| *line != ".").count();
        self.believed_listing = listed;
        let rest: Vec<&str> = lines.collect();
        self.reader.push(rest.join("\r\n").as_bytes());
    }

    /// `CAPA`; `-ERR` advertises nothing but what every RFC 1939 server has: USER.
    async fn capa(&mut self) -> Result<Capabilities, ClientError> {
        let response = self
            .command(
                "CAPA",
                "CAPA",
                Expect::MultiLine,
                "waiting for the CAPA response",
            )
            .await?;
        match response.capabilities() {
            Some(Ok(caps)) => Ok(caps),
            Some(Err(e)) => Err(ClientError::Protocol(format!("malformed CAPA list: {e}"))),
            // No CAPA (RFC 2449): a plain RFC 1939 server, which has no STLS (RFC 2595
            // §4) and logs in with USER/PASS.
            None if response.is_err() => {
                let mut caps = Capabilities::new();
                caps.insert_name("USER");
                Ok(caps)
            }
            None => Err(ClientError::Protocol(format!(
                "unexpected answer to CAPA: `{}`",
                line_of(&response)
            ))),
        }
    }

    /// `STLS`, and the upgrade on its `+OK`. `Some(line)`: refused with this answer.
    async fn stls(&mut self) -> Result<Option<String>, ClientError> {
        let response = self
            .command(
                "STLS",
                "STLS",
                Expect::SingleLine,
                "waiting for the STLS response",
            )
            .await?;
        if !response.is_ok() {
            return Ok(Some(line_of(&response)));
        }
        let buffered = self.reader.take_buffered();
        let early = Some((b"CAPA\r\n".to_vec(), "CAPA".to_owned()));
        let kept = self.ctx.upgrade(buffered, early).await?;
        self.reader = ResponseReader::new();
        self.reader.push(&kept);
        Ok(None)
    }

    async fn log_in_and_finish(&mut self, caps: &Capabilities) -> Result<(), ClientError> {
        self.ctx.using_capabilities(caps.raw());
        let mechanism = if caps.has_sasl("PLAIN") {
            self.auth_plain().await?;
            Mechanism::Plain
        } else if caps.has("USER") {
            self.user_pass().await?;
            Mechanism::UserPass
        } else {
            self.quit_quietly().await;
            return Err(ClientError::NoMechanism {
                offered: caps.raw().join(" "),
            });
        };
        self.ctx.summary.mechanism = Some(mechanism);
        if self.believed_listing > 0 {
            self.retrieve_first().await?;
            return self.quit().await;
        }
        // +OK or -ERR: either way the session goes on to QUIT.
        let stat = self
            .command(
                "STAT",
                "STAT",
                Expect::SingleLine,
                "waiting for the STAT response",
            )
            .await?;
        if message_count(&stat) > 0 {
            self.retrieve_first().await?;
        }
        self.quit().await
    }

    /// `RETR 1`, read to its final `.`: a message cut short is an error.
    async fn retrieve_first(&mut self) -> Result<(), ClientError> {
        self.command(
            "RETR 1",
            "RETR 1",
            Expect::MultiLine,
            "waiting for the RETR response",
        )
        .await?;
        Ok(())
    }

    async fn auth_plain(&mut self) -> Result<(), ClientError> {
        let during = "waiting for the AUTH response";
        let initial = wire::encode_initial_response(&self.ctx.plain);
        let with_initial = format!("AUTH PLAIN {initial}");
        let fits = with_initial.len() + 2 <= MAX_AUTH_LINE;
        self.ctx.sending_credentials();
        let mut response = if fits {
            self.command(&with_initial, "AUTH PLAIN ***", Expect::SingleLine, during)
                .await?
        } else {
            self.command("AUTH PLAIN", "AUTH PLAIN", Expect::SingleLine, during)
                .await?
        };
        if response.is_continuation() {
            if fits {
                // The initial response was sent: another challenge is not PLAIN's.
                self.ctx.send(b"*\r\n", "*").await?;
            } else {
                let data = wire::encode_response(&self.ctx.plain);
                self.ctx
                    .send(format!("{data}\r\n").as_bytes(), "***")
                    .await?;
            }
            response = self.next_response(during).await?;
        }
        if response.is_ok() {
            Ok(())
        } else {
            self.quit_quietly().await;
            Err(ClientError::AuthFailed(line_of(&response)))
        }
    }

    async fn user_pass(&mut self) -> Result<(), ClientError> {
        let user = self.ctx.opts.user.clone();
        let password = self.ctx.opts.password.clone();
        if [&user, &password]
            .iter()
            .any(|v| v.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)))
        {
            return Err(ClientError::Options(
                "the credentials cannot be sent with USER/PASS".to_owned(),
            ));
        }
        self.ctx.sending_credentials();
        let line = format!("USER {user}");
        let response = self
            .command(
                &line,
                &line,
                Expect::SingleLine,
                "waiting for the USER response",
            )
            .await?;
        let response = if response.is_ok() {
            self.command(
                &format!("PASS {password}"),
                "PASS ***",
                Expect::SingleLine,
                "waiting for the PASS response",
            )
            .await?
        } else {
            response
        };
        if response.is_ok() {
            Ok(())
        } else {
            self.quit_quietly().await;
            Err(ClientError::AuthFailed(line_of(&response)))
        }
    }

    /// `QUIT`; the server may close without answering.
    async fn quit(&mut self) -> Result<(), ClientError> {
        match self
            .command(
                "QUIT",
                "QUIT",
                Expect::SingleLine,
                "waiting for the QUIT response",
            )
            .await
        {
            Ok(_) | Err(ClientError::Closed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `QUIT` on the way out of a refusal or failure; whatever happens is ignored.
    async fn quit_quietly(&mut self) {
        let _ = self.quit().await;
    }
}
