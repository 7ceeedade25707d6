//! `[client-hello ...]` and `[server-hello ...]`: the canned legacy hellos of
//! [`crate::tls::legacy`] on the wire, and the verdict on what the peer answers.

use super::*;
use crate::scenario::ast::LegacyHello;
use crate::tls::legacy::{self, Reply};

/// The RFCs that retired RFC 2595 §2.1's mandatory suite, for the INFO line.
const SUITE_RETIRED_BY: &str = "RFC 8314 §4.1 and RFC 9325 (no 3DES, TLS 1.2 or later), RFC 8996 (no TLS 1.0/1.1), RFC 7525 before it";

impl Session<'_> {
    /// Server role: sends the canned ClientHello and judges the server's answer. The
    /// connection is closed afterwards; only `[new-connection]` can follow.
    pub(super) async fn client_hello(&mut self, kind: LegacyHello, span: Span) -> Result<(), Stop> {
        self.nothing_read_ahead(span)?;
        let hello = legacy::client_hello(kind);
        self.conn()?
            .note(format!("canned ClientHello: {}", describe(kind)));
        self.conn()?
            .write_all(&hello)
            .await
            .map_err(|e| Stop::Error(format!("cannot send the ClientHello: {e}")))?;
        let reply = self.read_reply().await?;
        self.received_any = true;
        let _ = self.conn()?.close().await;
        let seen = reply.describe();
        self.conn()?
            .note(format!("the server answered with {seen}"));
        if kind == LegacyHello::Rfc2595Suite {
            let negotiable =
                matches!(reply, Reply::ServerHello { suite, .. } if suite == legacy::RFC2595_SUITE);
            return Err(Stop::Info(format!(
                "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA is {} (RFC 2595 §2.1 made it mandatory; obsolete: retired by {SUITE_RETIRED_BY}); the server answered with {seen}",
                if negotiable {
                    "still negotiable"
                } else {
                    "not negotiable"
                }
            )));
        }
        match reply {
            reply if reply.is_refusal() => Ok(()),
            Reply::Silence => Err(self.fail(
                format!("the server neither answered nor refused {}", describe(kind)),
                span,
                "a TLS alert or a closed connection".to_owned(),
                format!("nothing within {:?}", self.opts.read_timeout),
                None,
            )),
            reply => Err(self.fail(
                format!("the server accepted {}", describe(kind)),
                span,
                "a TLS alert or a closed connection".to_owned(),
                reply.describe(),
                None,
            )),
        }
    }

    /// Client role: reads the client's ClientHello, answers with a ServerHello of an old
    /// version, and judges whether the client aborts.
    pub(super) async fn server_hello(&mut self, kind: LegacyHello, span: Span) -> Result<(), Stop> {
        let expected = format!("the client aborts a {} handshake", describe(kind));
        let hello = self.read_record(span).await?;
        let Some(suite) = legacy::old_suite_for(&hello) else {
            self.finished = Some(format!(
                "the client offers no cipher suite older versions know, so it cannot negotiate {}",
                describe(kind)
            ));
            return Ok(());
        };
        self.conn()?.note(format!(
            "canned ServerHello: {} with suite 0x{suite:04x}",
            describe(kind)
        ));
        self.conn()?
            .write_all(&legacy::server_hello(kind, suite))
            .await
            .map_err(|e| Stop::Error(format!("cannot send the ServerHello: {e}")))?;
        let reply = self.read_reply().await?;
        match reply {
            Reply::Closed | Reply::Alert { .. } => {
                self.finished = Some(format!(
                    "the client refused {}: {}",
                    describe(kind),
                    reply.describe()
                ));
                Ok(())
            }
            Reply::Silence => Err(self.fail(
                format!(
                    "the client waited for the rest of a {} handshake",
                    describe(kind)
                ),
                span,
                expected,
                format!("no alert and no close within {:?}", self.opts.read_timeout),
                None,
            )),
            other => Err(self.fail(
                format!("the client went on after a {} ServerHello", describe(kind)),
                span,
                expected,
                other.describe(),
                self.unconsumed_entry(),
            )),
        }
    }

    /// The peer's first TLS record (the ClientHello), whole.
    async fn read_record(&mut self, span: Span) -> Result<Vec<u8>, Stop> {
        let (got, _) = self.read_first_answer().await?;
        if got.first() != Some(&HANDSHAKE_RECORD) {
            let entry = self.unconsumed_entry();
            return Err(self.fail(
                "the client sent no ClientHello",
                span,
                "a TLS handshake record (first octet 0x16)".to_owned(),
                if got.is_empty() {
                    "nothing".to_owned()
                } else {
                    show_octets(&got)
                },
                entry,
            ));
        }
        Ok(got)
    }

    /// What the peer answers first, read as a [`Reply`].
    async fn read_reply(&mut self) -> Result<Reply, Stop> {
        let (got, closed) = self.read_first_answer().await?;
        Ok(legacy::classify(&got, closed))
    }

    /// Octets until one TLS record is complete, something that is not a record
    /// arrives, the peer closes (the flag), or the read timeout passes.
    async fn read_first_answer(&mut self) -> Result<(Vec<u8>, bool), Stop> {
        const STEP: Duration = Duration::from_millis(50);
        let deadline = Instant::now() + self.opts.read_timeout;
        let mut got = Vec::new();
        loop {
            // A reset is a refusal too.
            let Ok(chunk) = self.conn()?.read_within(STEP).await else {
                return Ok((got, true));
            };
            got.extend(chunk);
            if self
                .conn
                .as_ref()
                .is_some_and(|c| c.peer_closed().is_some())
            {
                return Ok((got, true));
            }
            let header_pending =
                got.len() < 5 && got.first().is_some_and(|b| (0x14..=0x17).contains(b));
            let complete = !got.is_empty() && !header_pending && legacy::record_missing(&got) == 0;
            if complete || Instant::now() >= deadline {
                return Ok((got, false));
            }
        }
    }
}

/// `an SSL 2.0 CLIENT-HELLO`, `TLS 1.0`, ...
fn describe(kind: LegacyHello) -> &'static str {
    match kind {
        LegacyHello::Ssl2 => "an SSL 2.0 CLIENT-HELLO",
        LegacyHello::Ssl3 => "SSL 3.0",
        LegacyHello::Tls10 => "TLS 1.0",
        LegacyHello::Tls11 => "TLS 1.1",
        LegacyHello::WeakSuites => {
            "a ClientHello offering only RC4, 3DES, NULL, EXPORT and anonymous suites"
        }
        LegacyHello::Rfc2595Suite => {
            "a ClientHello offering only TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"
        }
    }
}
