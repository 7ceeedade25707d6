//! The directives of a walk: TLS in either role, expected closes and silences, waits,
//! new connections and capability assertions.

use super::*;

impl Session<'_> {
    pub(super) async fn directive(
        &mut self,
        directive: &Directive,
        span: Span,
    ) -> Result<(), Stop> {
        match directive {
            Directive::Tls {
                may_fail,
                cert,
                version,
                client_cert,
            } => match self.peer {
                Peer::Server(target) => self.tls(target, *may_fail, *client_cert, span).await,
                Peer::Client(side) => {
                    self.tls_server(side, cert.as_deref(), *version, *may_fail, span)
                        .await
                }
            },
            Directive::ExpectNoCertificateRequest => self.expect_no_certificate_request(span),
            Directive::ClientHello(kind) => self.client_hello(*kind, span).await,
            Directive::ServerHello(kind) => self.server_hello(*kind, span).await,
            Directive::ExpectClose => self.expect_close(false, span).await,
            Directive::ExpectCloseNotify => self.expect_close(true, span).await,
            Directive::ExpectSilence(window) => self.expect_silence(*window, span).await,
            Directive::ExpectHandshake => self.expect_handshake(span).await,
            Directive::ExpectNoConnection(window) => self.expect_no_connection(*window, span).await,
            Directive::ExpectExit(success) => {
                self.expect_exit = Some((*success, span));
                Ok(())
            }
            Directive::Wait(pause) => {
                self.conn()?.note(format!("[wait {}]", millis(*pause)));
                tokio::time::sleep(*pause).await;
                Ok(())
            }
            Directive::ClosePasses => {
                self.close_passes = true;
                Ok(())
            }
            Directive::CloseNotify { keep_open: false } => {
                let _ = self.conn()?.send_close_notify().await;
                Ok(())
            }
            Directive::CloseNotify { keep_open: true } => self
                .conn()?
                .send_close_notify_keep_open()
                .await
                .map_err(|e| Stop::Error(format!("[close-notify keep-open]: {e}"))),
            Directive::Close => {
                let _ = self.conn()?.close().await;
                Ok(())
            }
            Directive::NewConnection => self.connect().await,
            Directive::Caps(assertion) => self.caps_assertion(assertion, span),
        }
    }

    async fn tls(
        &mut self,
        target: &Target,
        may_fail: bool,
        client_cert: bool,
        span: Span,
    ) -> Result<(), Stop> {
        if client_cert && !target.tls.has_client_certificate() {
            return Err(Stop::NotApplicable(
                "no client certificate is configured for this target".to_owned(),
            ));
        }
        self.nothing_read_ahead(span)?;
        let (config, record) = target
            .tls
            .config_presenting(client_cert)
            .map_err(|e| Stop::Error(format!("TLS client configuration: {e}")))?;
        self.last_handshake = Some(record.clone());
        let name = target.server_name.clone();
        let result = self.conn()?.upgrade_client(config, name).await;
        match result {
            Ok(summary) => {
                self.caps.tls_started();
                // What was forbidden in cleartext was judged in cleartext.
                self.forbidden.clear();
                // The peer answered the handshake: silence from here on is its fault (a
                // FAIL), not an unreachable peer (an ERROR).
                self.received_any = true;
                if !summary.unconsumed_plaintext.is_empty() {
                    let entry = self.unconsumed_entry();
                    return Err(self.fail(
                        "the server sent plaintext after its answer, before the TLS handshake",
                        span,
                        "nothing between the server's answer and the TLS handshake".to_owned(),
                        show_octets(&summary.unconsumed_plaintext),
                        entry,
                    ));
                }
                Ok(())
            }
            Err(e) => {
                if record.verdict().is_some_and(|v| !v.is_trusted()) && !target.tls.insecure() {
                    return Err(Stop::Error(format!(
                        "{e}: the server's certificate chain is not trusted (give its CA with --ca, or --insecure to go on)"
                    )));
                }
                if may_fail || self.close_passes {
                    return Err(Stop::Pass(format!(
                        "the TLS handshake failed ({e}), which this step allows"
                    )));
                }
                Err(self.fail(
                    "the TLS handshake did not complete",
                    span,
                    "a completed TLS handshake".to_owned(),
                    e.to_string(),
                    None,
                ))
            }
        }
    }

    /// Server role, right before a handshake: the server sent nothing after its answer
    /// (lines already read ahead would be plaintext the handshake must not follow).
    pub(super) fn nothing_read_ahead(&self, span: Span) -> Result<(), Stop> {
        match self.lookahead.front() {
            Some(early) => Err(self.fail(
                "the server sent more before the TLS handshake",
                span,
                "nothing between the server's answer and the TLS handshake".to_owned(),
                show_octets(&early.bytes),
                Some(early.entry),
            )),
            None => Ok(()),
        }
    }

    /// Client role: no new connection arrives within `window` (a client that was refused
    /// STARTTLS must not come back and try in plaintext). Meanwhile the current
    /// connection is still answered (a client waiting for its LOGOUT's answer would
    /// otherwise reconnect only after the window). A connection that does arrive becomes
    /// the current one, so its first octets land in the transcript.
    async fn expect_no_connection(&mut self, window: Duration, span: Span) -> Result<(), Stop> {
        let Peer::Client(side) = self.peer else {
            return Err(Stop::Error(format!(
                "{}:{}: [expect-no-connection] is for the client role",
                self.source.file, span.line
            )));
        };
        let deadline = tokio::time::Instant::now() + window;
        let mut old_done = false;
        let tcp = loop {
            let old = self
                .conn
                .as_mut()
                .filter(|c| !old_done && c.peer_closed().is_none());
            let next = tokio::select! {
                accepted = tokio::time::timeout_at(deadline, side.listener.accept()) => Ok(accepted),
                line = async {
                    match old {
                        Some(conn) => conn.read_line().await,
                        None => std::future::pending().await,
                    }
                } => Err(line),
            };
            match next {
                Ok(Err(_)) => {
                    self.conn()?
                        .note(format!("no new connection within {}", millis(window)));
                    return Ok(());
                }
                Ok(Ok(Err(e))) => return Err(Stop::Error(format!("accepting a connection: {e}"))),
                Ok(Ok(Ok((tcp, _)))) => break tcp,
                Err(Ok(ReadLine::Line {
                    bytes,
                    ending,
                    entry,
                })) => {
                    let line = Received {
                        bytes,
                        ending,
                        entry: self.global_entry(entry),
                    };
                    self.observe(&line, span)?;
                    if self.auto_answer(&line, span).await? {
                        old_done = true;
                    }
                }
                Err(Ok(ReadLine::Closed { .. })) => old_done = true,
                Err(Err(NetError::Timeout { .. })) => {}
                Err(Err(_)) => old_done = true,
            }
        };
        self.retire_connection().await;
        let conn = Conn::from_tcp(tcp, self.opts.clone())
            .map_err(|e| Stop::Error(format!("the new connection: {e}")))?;
        self.conn = Some(conn);
        let first = self
            .conn()?
            .read_within(Duration::from_millis(300))
            .await
            .unwrap_or_default();
        let entry = self.unconsumed_entry();
        Err(self.fail(
            "the client connected again",
            span,
            format!("no new connection within {}", millis(window)),
            if first.is_empty() {
                "a new connection".to_owned()
            } else {
                format!("a new connection that sent {}", show_octets(&first))
            },
            entry,
        ))
    }

    /// Server role: the last handshake carried no CertificateRequest.
    fn expect_no_certificate_request(&mut self, span: Span) -> Result<(), Stop> {
        let Some(record) = self.last_handshake.clone() else {
            return Err(Stop::Error(format!(
                "{}:{}: [expect-no-certificate-request] needs a [tls] before it",
                self.source.file, span.line
            )));
        };
        if record.certificate_requested() {
            return Err(self.fail(
                "the server asked for a client certificate it was not configured to use",
                span,
                "no CertificateRequest in the handshake".to_owned(),
                "a CertificateRequest".to_owned(),
                None,
            ));
        }
        self.conn()?
            .note("the handshake carried no CertificateRequest");
        Ok(())
    }

    /// Client role: the client's next octet must start a TLS handshake record.
    async fn expect_handshake(&mut self, span: Span) -> Result<(), Stop> {
        let expected = "a TLS handshake record (first octet 0x16)".to_owned();
        if let Some(early) = self.lookahead.front() {
            return Err(self.fail(
                "the client sent plaintext where its ClientHello belongs",
                span,
                expected,
                show_octets(&early.bytes),
                Some(early.entry),
            ));
        }
        match self.conn()?.peek_first_byte().await {
            Ok(Some(HANDSHAKE_RECORD)) => Ok(()),
            Ok(Some(_)) => {
                let pending = self.conn()?.pending().to_vec();
                let entry = self.unconsumed_entry();
                Err(self.fail(
                    "the client sent plaintext where its ClientHello belongs",
                    span,
                    expected,
                    show_octets(&pending),
                    entry,
                ))
            }
            Ok(None) => Err(self.closed(CloseHow::Fin, span, expected)),
            Err(e) => Err(self.fail(
                "the client sent no ClientHello",
                span,
                expected,
                e.to_string(),
                None,
            )),
        }
    }

    /// Client role: mailtls accepts the client's handshake presenting the profile's
    /// certificate. A profile the client must refuse passes when it aborts.
    async fn tls_server(
        &mut self,
        side: &ClientSide,
        cert: Option<&str>,
        version: Option<TlsVersion>,
        may_fail: bool,
        span: Span,
    ) -> Result<(), Stop> {
        let profile = match cert {
            None => Profile::Valid,
            Some(id) => id
                .parse::<Profile>()
                .map_err(|e| Stop::Error(format!("{}:{}: {e}", self.source.file, span.line)))?,
        };
        let described = profile.describe(&side.certs.name);
        let config = side
            .certs
            .leaf(profile)
            .ok_or_else(|| Stop::Error(format!("no certificate for profile {profile}")))
            .and_then(|leaf| {
                let versions: &[&'static rustls::SupportedProtocolVersion] = match version {
                    None => rustls::DEFAULT_VERSIONS,
                    Some(TlsVersion::Tls12) => &[&rustls::version::TLS12],
                    Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
                };
                leaf.server_config_for(versions)
                    .map_err(|e| Stop::Error(e.to_string()))
            })?;
        if let Some(version) = version {
            self.conn()?
                .note(format!("mailtls accepts TLS {} only", version.as_str()));
        }
        self.conn()?
            .note(format!("certificate profile {profile}: {described}"));
        let result = self.conn()?.upgrade_server(config).await;
        match (result, profile.acceptance()) {
            (Ok(summary), acceptance) => {
                self.caps.tls_started();
                self.forbidden.clear();
                self.received_any = true;
                if !summary.unconsumed_plaintext.is_empty() {
                    let entry = summary.unconsumed_entry.map(|e| self.global_entry(e));
                    return Err(self.fail(
                        "the client sent plaintext after the STARTTLS answer, before its ClientHello",
                        span,
                        "a ClientHello right after the answer".to_owned(),
                        show_octets(&summary.unconsumed_plaintext),
                        entry,
                    ));
                }
                if acceptance == Acceptance::Reject {
                    // Some clients (curl with OpenSSL under TLS 1.3) check the name only
                    // once the handshake is done, then close without sending a byte:
                    // that is a refusal too.
                    let window = Duration::from_millis(300);
                    let late = self.conn()?.read_within(window).await;
                    let closed = self
                        .conn
                        .as_ref()
                        .is_some_and(|c| c.peer_closed().is_some());
                    if matches!(&late, Ok(bytes) if bytes.is_empty()) && closed || late.is_err() {
                        self.finished = Some(format!(
                            "the client refused the {profile} certificate after the handshake, before sending anything"
                        ));
                        return Ok(());
                    }
                    return Err(self.fail(
                        format!("the client accepted a certificate it must refuse ({profile})"),
                        span,
                        format!("the client aborts the handshake: {described}"),
                        format!(
                            "handshake completed ({} {})",
                            summary.version, summary.cipher_suite
                        ),
                        None,
                    ));
                }
                if acceptance == Acceptance::EitherReading {
                    self.either_reading(profile).await?;
                }
                Ok(())
            }
            // Plaintext where the ClientHello belongs broke the handshake: that is the
            // client's defect, not a refusal of the certificate.
            (
                Err(NetError::Handshake {
                    unconsumed_plaintext,
                    ..
                }),
                _,
            ) if !unconsumed_plaintext.is_empty() => {
                let entry = self.unconsumed_entry();
                Err(self.fail(
                    "the client sent plaintext after the STARTTLS answer, before its ClientHello",
                    span,
                    "a ClientHello right after the answer".to_owned(),
                    show_octets(&unconsumed_plaintext),
                    entry,
                ))
            }
            (Err(e), Acceptance::Reject | Acceptance::EitherReading) => {
                self.after_refusal(profile, &e, span).await
            }
            (Err(e), Acceptance::Accept) if may_fail => Err(Stop::Pass(format!(
                "the TLS handshake failed ({e}), which this step allows"
            ))),
            (Err(e), Acceptance::Accept) => Err(self.fail(
                format!(
                    "the client aborted the handshake of a certificate it must accept ({profile})"
                ),
                span,
                format!("a completed handshake: {described}"),
                e.to_string(),
                None,
            )),
        }
    }

    /// Client role: a handshake completed with a certificate the readings differ on. A
    /// client that closes at once without a word refused it after the handshake (curl
    /// checks the name then); otherwise it accepted it. Either passes; the verdict names
    /// the reading the client followed. Nothing is consumed: the walk reads on.
    async fn either_reading(&mut self, profile: Profile) -> Result<(), Stop> {
        let window = Duration::from_millis(300);
        let peeked = tokio::time::timeout(window, self.conn()?.peek_first_byte()).await;
        let refused = matches!(
            peeked,
            Ok(Ok(None))
                | Ok(Err(NetError::Closed
                    | NetError::Io { .. }
                    | NetError::Tls(_)))
        );
        let reading = profile.reading(!refused).unwrap_or_default();
        self.conn()?.note(reading);
        if refused {
            self.finished = Some(format!(
                "the client refused the {profile} certificate after the handshake, before sending anything; {reading}"
            ));
        } else {
            self.reading = Some(format!(
                "the client accepted the {profile} certificate: {reading}"
            ));
        }
        Ok(())
    }

    /// Client role: the client refused a certificate. It must not go on in plaintext:
    /// anything it sends on this connection within a moment is a FAIL.
    async fn after_refusal(
        &mut self,
        profile: Profile,
        e: &NetError,
        span: Span,
    ) -> Result<(), Stop> {
        let window = Duration::from_millis(300);
        let late = self.conn()?.read_within(window).await.unwrap_or_default();
        let plain: Vec<u8> = late
            .iter()
            .copied()
            .filter(|b| b.is_ascii_graphic() || *b == b' ')
            .collect();
        if plain.len() >= 4 {
            let entry = self.unconsumed_entry();
            return Err(self.fail(
                "the client went on in plaintext after refusing the certificate",
                span,
                "nothing more from the client on this connection".to_owned(),
                show_octets(&late),
                entry,
            ));
        }
        let reading = profile
            .reading(false)
            .map(|r| format!("; {r}"))
            .unwrap_or_default();
        self.finished = Some(format!(
            "the client refused the {profile} certificate ({e}){reading}"
        ));
        Ok(())
    }

    /// The transcript entry of the last plaintext data the server sent.
    pub(super) fn unconsumed_entry(&self) -> Option<usize> {
        let conn = self.conn.as_ref()?;
        let local = conn.transcript().entries.iter().rposition(|e| {
            matches!(
                e.event,
                Event::Data {
                    direction: Direction::Received,
                    ..
                }
            )
        })?;
        Some(self.global_entry(local))
    }

    async fn expect_close(&mut self, need_close_notify: bool, span: Span) -> Result<(), Stop> {
        let peer = self.judged;
        let what = if need_close_notify {
            "a TLS close_notify, then the connection closed"
        } else {
            "the connection closed"
        };
        loop {
            if let Some(line) = self.lookahead.pop_front() {
                self.check_forbidden(&line, span)?;
                continue;
            }
            let read = self.conn()?.read_line().await;
            match read {
                Ok(ReadLine::Line {
                    bytes,
                    ending,
                    entry,
                }) => {
                    let line = Received {
                        bytes,
                        ending,
                        entry: self.global_entry(entry),
                    };
                    self.observe(&line, span)?;
                }
                Ok(ReadLine::Closed { close_notify, how }) => {
                    if need_close_notify && !close_notify {
                        return Err(self.fail(
                            format!("the {peer} closed without a TLS close_notify"),
                            span,
                            what.to_owned(),
                            format!("connection closed ({how})"),
                            None,
                        ));
                    }
                    return Ok(());
                }
                Err(NetError::Timeout { waited, .. }) => {
                    return Err(self.fail(
                        format!("the connection was still open after {waited:?}"),
                        span,
                        what.to_owned(),
                        format!("no close within {waited:?}"),
                        None,
                    ));
                }
                Err(e) => {
                    return Err(self.fail(
                        "the connection failed",
                        span,
                        what.to_owned(),
                        e.to_string(),
                        None,
                    ));
                }
            }
        }
    }

    async fn expect_silence(&mut self, window: Duration, span: Span) -> Result<(), Stop> {
        let peer = self.judged;
        let expected = format!("no octet for {}", millis(window));
        if let Some(early) = self.lookahead.front() {
            return Err(self.fail(
                format!("the {peer} sent octets where it must be silent"),
                span,
                expected,
                show_octets(&early.bytes),
                Some(early.entry),
            ));
        }
        let got = self.conn()?.read_within(window).await;
        match got {
            Ok(bytes) if bytes.is_empty() => {
                self.conn()?
                    .note(format!("silence held for {}", millis(window)));
                Ok(())
            }
            Ok(bytes) => {
                let entry = self.unconsumed_entry();
                Err(self.fail(
                    format!("the {peer} sent octets where it must be silent"),
                    span,
                    expected,
                    show_octets(&bytes),
                    entry,
                ))
            }
            Err(e) => Err(self.fail("the connection failed", span, expected, e.to_string(), None)),
        }
    }

    fn caps_assertion(&self, assertion: &CapsAssertion, span: Span) -> Result<(), Stop> {
        let kind = if assertion.sasl {
            "SASL mechanism "
        } else {
            ""
        };
        let want = if assertion.present {
            "lists"
        } else {
            "does not list"
        };
        let expected = format!("a capability list that {want} {kind}{}", assertion.name);
        let Some(caps) = self.caps.current() else {
            return Err(self.fail(
                "no capability list was received since the connection or TLS began",
                span,
                expected,
                "no capability list".to_owned(),
                None,
            ));
        };
        let has = if assertion.sasl {
            caps.has_sasl(&assertion.name)
        } else {
            caps.has(&assertion.name)
        };
        if has == assertion.present {
            return Ok(());
        }
        Err(self.fail(
            format!(
                "the server {} {kind}{}",
                if has {
                    "advertises"
                } else {
                    "does not advertise"
                },
                assertion.name
            ),
            span,
            expected,
            caps.raw().join(" "),
            None,
        ))
    }
}
