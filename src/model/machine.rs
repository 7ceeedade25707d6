//! The transitions: one event moves the [`State`] and yields the violations it shows.
//!
//! Each check quotes the sentence it enforces after `> `, with the link; quotes the
//! seeds do not contain (RFC 2595 §5 ACAP, RFC 9051, RFC 8314) are marked (memory).
//! Every function here is total: no event sequence panics, and transitions are defined
//! for every event in every phase, because the harness breaks rules on purpose and the
//! model must follow what the peer really did.

use crate::model::config::{Config, Party, Protocol, Transport};
use crate::model::event::{
    Command, CommandKind, Event, GreetingStatus, Response, Status, is_cleartext_mechanism,
};
use crate::model::rules::Violation;
use crate::model::state::{ImapState, Pending, Phase, Session, State, Tls, TlsVia};
use crate::proto::capability::Capabilities;

/// Where octets from a party arrived, as far as the rules care.
enum Gate {
    /// Application data in a phase that expects it.
    Normal,
    /// Client octets after STARTTLS and before the handshake completed.
    AfterStarttls,
    /// Not application data (plaintext where TLS was due, or after a failure/close).
    Dropped,
}

/// A capability a command relies on, for the stale-capability check.
enum Gated<'a> {
    Sasl(&'a str),
    Name(&'static str),
}

impl Gated<'_> {
    fn is_in(&self, caps: &Capabilities) -> bool {
        match self {
            Self::Sasl(mechanism) => caps.has_sasl(mechanism),
            Self::Name(name) => caps.has(name),
        }
    }

    fn describe(&self, protocol: Protocol) -> String {
        match (self, protocol) {
            (Self::Sasl(mechanism), Protocol::Imap) => {
                format!("AUTH={}", mechanism.to_ascii_uppercase())
            }
            (Self::Sasl(mechanism), _) => format!("SASL {}", mechanism.to_ascii_uppercase()),
            (Self::Name(name), _) => (*name).to_owned(),
        }
    }
}

impl State {
    /// Applies one event, pushing the violations it shows onto `out`.
    pub(crate) fn step(&mut self, cfg: &Config, event: Event, out: &mut Vec<Violation>) {
        if self.phase == Phase::Closed {
            return;
        }
        match event {
            Event::Command(command) => self.handle_command(cfg, command, out),
            Event::ClientContinuation | Event::Plaintext(Party::Client) => {
                // Not a command: only where it arrives matters.
                let _ = self.gate_client(cfg, false, out);
            }
            Event::Response(response) => self.handle_response(cfg, response, out),
            Event::Plaintext(Party::Server) => {
                let _ = self.gate_server(cfg, None, out);
            }
            Event::TlsHandshakeCompleted => self.handle_handshake(cfg, out),
            Event::TlsHandshakeFailed => self.phase = Phase::TlsFailed,
            Event::CloseNotify(_) => {
                if self.tls == Tls::Active {
                    self.tls = Tls::Closed;
                    self.caps = None;
                }
            }
            Event::TcpClosed(party) => self.handle_tcp_closed(cfg, party, out),
            Event::Timeout => {
                if self.awaiting_acap_greeting(cfg) {
                    self.missing_acap_greeting("a timeout", out);
                }
            }
        }
    }

    /// On an implicit-TLS port, before the first handshake.
    fn before_implicit_handshake(&self, cfg: &Config) -> bool {
        cfg.transport == Transport::Implicit && self.via.is_none()
    }

    /// Inside the ACAP STARTTLS layer, before the re-issued greeting.
    fn awaiting_acap_greeting(&self, cfg: &Config) -> bool {
        cfg.protocol == Protocol::Acap
            && self.phase == Phase::ExpectGreeting
            && self.via == Some(TlsVia::Starttls)
            && self.tls == Tls::Active
    }

    fn missing_acap_greeting(&mut self, got: &'static str, out: &mut Vec<Violation>) {
        // > After the TLS layer is established, the server MUST re-issue an untagged
        // > ACAP greeting. (memory)
        // https://www.rfc-editor.org/rfc/rfc2595#section-5.1
        out.push(Violation::NoGreetingAfterAcapStarttls { got });
        self.phase = Phase::ExpectCommand;
    }

    /// Judges client octets by where they arrive.
    fn gate_client(&mut self, cfg: &Config, same_write: bool, out: &mut Vec<Violation>) -> Gate {
        match self.phase {
            Phase::Closed => Gate::Dropped,
            Phase::TlsFailed => {
                // > Both the client and server MUST check the result of the STARTTLS
                // > command and subsequent TLS negotiation to see whether acceptable
                // > authentication or privacy was achieved.
                // https://www.rfc-editor.org/rfc/rfc2595#section-2.5
                out.push(Violation::PlaintextAfterTlsFailure { by: Party::Client });
                Gate::Dropped
            }
            Phase::ExpectTlsHandshake if self.before_implicit_handshake(cfg) => {
                // > When a TCP connection is established for the "imaps" service (default
                // > port 993), a TLS handshake begins immediately. (memory; §3.1 says the
                // > same of "pop3s")
                // https://www.rfc-editor.org/rfc/rfc8314#section-3.2
                out.push(Violation::ClientPlaintextBeforeHandshake {
                    protocol: cfg.protocol,
                });
                Gate::Dropped
            }
            Phase::ExpectStarttlsReply | Phase::ExpectTlsHandshake => {
                // > Once a client issues a STARTTLS command, it MUST NOT issue further
                // > commands until a server response is seen and the TLS negotiation is
                // > complete.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§4 STLS, §5.1 ACAP)
                out.push(Violation::CommandPipelinedAfterStarttls {
                    protocol: cfg.protocol,
                    same_write,
                });
                Gate::AfterStarttls
            }
            Phase::ExpectGreeting | Phase::ExpectCommand => {
                if self.tls == Tls::Closed && cfg.client_requires_tls {
                    // > Both clients and servers SHOULD have a privacy operational mode
                    // > which [...] will terminate the connection if that encryption layer
                    // > is deactivated.
                    // https://www.rfc-editor.org/rfc/rfc2595#section-2.2
                    out.push(Violation::PlaintextAfterTlsClosed { by: Party::Client });
                }
                Gate::Normal
            }
        }
    }

    /// Judges server octets by where they arrive; capabilities in dropped octets are
    /// remembered as pre-TLS (a client must never rely on them).
    fn gate_server(
        &mut self,
        cfg: &Config,
        caps: Option<&Capabilities>,
        out: &mut Vec<Violation>,
    ) -> Gate {
        match self.phase {
            Phase::Closed => return Gate::Dropped,
            Phase::TlsFailed => {
                // > Both the client and server MUST check the result of the STARTTLS
                // > command and subsequent TLS negotiation [...]
                // https://www.rfc-editor.org/rfc/rfc2595#section-2.5
                out.push(Violation::PlaintextAfterTlsFailure { by: Party::Server });
            }
            Phase::ExpectTlsHandshake if self.before_implicit_handshake(cfg) => {
                // > When a TCP connection is established for the "imaps" service (default
                // > port 993), a TLS handshake begins immediately. (memory)
                // https://www.rfc-editor.org/rfc/rfc8314#section-3.2
                out.push(Violation::ServerPlaintextBeforeHandshake {
                    protocol: cfg.protocol,
                });
            }
            Phase::ExpectTlsHandshake => {
                // > A TLS negotiation begins immediately after the CRLF at the end of the
                // > tagged OK response from the server.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§4: "+OK response")
                out.push(Violation::PlaintextAfterStarttlsOk {
                    protocol: cfg.protocol,
                });
            }
            Phase::ExpectGreeting | Phase::ExpectCommand | Phase::ExpectStarttlsReply => {
                if self.tls == Tls::Closed && cfg.server_refuses_cleartext_auth {
                    // > Both clients and servers SHOULD have a privacy operational mode
                    // > which [...] will terminate the connection if that encryption layer
                    // > is deactivated.
                    // https://www.rfc-editor.org/rfc/rfc2595#section-2.2
                    out.push(Violation::PlaintextAfterTlsClosed { by: Party::Server });
                }
                return Gate::Normal;
            }
        }
        if let Some(caps) = caps {
            absorb(&mut self.pre_tls_caps, caps);
        }
        Gate::Dropped
    }

    fn handle_command(&mut self, cfg: &Config, command: Command, out: &mut Vec<Violation>) {
        let Command {
            tag,
            kind,
            pipelined,
        } = command;
        match self.gate_client(cfg, pipelined, out) {
            Gate::Dropped => return,
            Gate::AfterStarttls => {
                self.pending.push_back(Pending {
                    tag,
                    kind,
                    after_starttls: true,
                });
                return;
            }
            Gate::Normal => {}
        }
        let protocol = cfg.protocol;
        let tls_active = self.tls == Tls::Active;

        match &kind {
            CommandKind::Starttls => {
                if tls_active {
                    // > Note that the STARTTLS command is available only on cleartext
                    // > ports. (RFC 9051, memory) / > A -ERR response MAY result if a
                    // > security layer is already active. (RFC 2595 §4)
                    // https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1
                    out.push(Violation::StarttlsSentWithTlsActive { protocol });
                }
                self.phase = Phase::ExpectStarttlsReply;
            }
            CommandKind::Login if protocol == Protocol::Imap && self.caps_have("LOGINDISABLED") => {
                // > An IMAP client which complies with this specification MUST NOT issue
                // > the LOGIN command if this capability is present.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.2
                out.push(Violation::LoginSentDespiteLoginDisabled);
            }
            CommandKind::Authenticate { .. }
                if kind.is_plain() && !tls_active && !cfg.backwards_compatible_plain =>
            {
                // > The PLAIN SASL mechanism MUST NOT be advertised or used unless a strong
                // > encryption layer (such as the provided by TLS) is active or backwards
                // > compatibility dictates otherwise.
                // https://www.rfc-editor.org/rfc/rfc2595#section-6
                out.push(Violation::PlainUsedInCleartext { protocol });
            }
            _ => {}
        }

        if tls_active {
            self.check_capabilities_after_tls(cfg, &kind, out);
        } else {
            self.check_before_tls(cfg, &kind, out);
        }

        self.pending.push_back(Pending {
            tag,
            kind,
            after_starttls: false,
        });
    }

    /// Client rules that only apply inside TLS: the pre-TLS capability cache is gone.
    fn check_capabilities_after_tls(
        &mut self,
        cfg: &Config,
        kind: &CommandKind,
        out: &mut Vec<Violation>,
    ) {
        let protocol = cfg.protocol;
        if *kind == CommandKind::Capability {
            self.capability_asked_after_tls = true;
            return;
        }
        let gated = match kind {
            CommandKind::Authenticate { mechanism, .. } => Some(Gated::Sasl(mechanism)),
            CommandKind::User if protocol == Protocol::Pop3 => Some(Gated::Name("USER")),
            _ => None,
        };
        let mut stale = false;
        if let Some(gated) = gated
            && gated.is_in(&self.pre_tls_caps)
        {
            // Advertised before TLS; is it advertised now? With no list yet, a client
            // that asked and did not wait (or an ACAP client, whose only source is the
            // greeting) can only be relying on the old one.
            stale = match &self.caps {
                Some(now) => !gated.is_in(now),
                None => protocol == Protocol::Acap || self.capability_asked_after_tls,
            };
            if stale {
                // > Once TLS has been started, the client MUST discard cached information
                // > about server capabilities and SHOULD re-issue the CAPABILITY command.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§4 CAPA; §5.1 ACAP:
                // > The client MUST discard cached capability information and replace it
                // > with the information from the new ACAP greeting.)
                out.push(Violation::StaleCapabilityUsedAfterTls {
                    protocol,
                    capability: gated.describe(protocol),
                });
            }
        }
        let passive = matches!(
            kind,
            CommandKind::Noop | CommandKind::Logout | CommandKind::Starttls
        );
        if !stale
            && !passive
            && protocol != Protocol::Acap
            && self.via == Some(TlsVia::Starttls)
            && self.caps.is_none()
            && !self.capability_asked_after_tls
            && !self.reissue_warned
        {
            // > [...] and SHOULD re-issue the CAPABILITY command.
            // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§4: "the CAPA command")
            out.push(Violation::CapabilityNotReissuedAfterTls {
                protocol,
                command: kind.clone(),
            });
            self.reissue_warned = true;
        }
    }

    /// Client-profile rules for commands sent without TLS.
    fn check_before_tls(&self, cfg: &Config, kind: &CommandKind, out: &mut Vec<Violation>) {
        if self.preauth_in_cleartext && cfg.client_requires_tls {
            if !matches!(kind, CommandKind::Capability | CommandKind::Logout) {
                // > Clients that require mandatory TLS MUST close the connection after
                // > receiving the PREAUTH response on a non-protected port. (memory)
                // https://www.rfc-editor.org/rfc/rfc9051#section-7.1.4
                out.push(Violation::ContinuedAfterPlaintextPreauth {
                    command: kind.clone(),
                });
            }
        } else if cfg.client_requires_tls {
            if !matches!(
                kind,
                CommandKind::Capability
                    | CommandKind::Starttls
                    | CommandKind::Noop
                    | CommandKind::Logout
            ) {
                // > [An MUA requiring a minimum level of confidentiality] MUST NOT attempt
                // > to perform any operation other than capability discovery, or STARTTLS
                // > for servers that support it, [until] the minimum level of
                // > confidentiality is provided. (memory)
                // https://www.rfc-editor.org/rfc/rfc8314#section-5.2
                out.push(Violation::OperationBeforeTls {
                    command: kind.clone(),
                });
            }
        } else if kind.is_authentication() {
            // > Clients MAY have an operational mode which uses encryption only when it is
            // > advertised by the server, but authentication continues regardless.
            // https://www.rfc-editor.org/rfc/rfc2595#section-2.2
            out.push(Violation::AuthenticatedWithoutTls {
                command: kind.clone(),
            });
        }
    }

    fn handle_response(&mut self, cfg: &Config, response: Response, out: &mut Vec<Violation>) {
        let caps = match &response {
            Response::Greeting { capabilities, .. } | Response::Completion { capabilities, .. } => {
                capabilities.as_ref()
            }
            Response::Capabilities(caps) => Some(caps),
            Response::Continuation | Response::Bye | Response::Data => None,
        };
        match self.gate_server(cfg, caps, out) {
            Gate::Normal => {}
            Gate::AfterStarttls | Gate::Dropped => return,
        }
        match response {
            Response::Greeting {
                status,
                capabilities,
            } => self.handle_greeting(cfg, status, capabilities, out),
            other => {
                if self.awaiting_acap_greeting(cfg) {
                    self.missing_acap_greeting("another response", out);
                }
                match other {
                    Response::Capabilities(caps) => self.handle_capabilities(cfg, caps, out),
                    Response::Completion {
                        tag,
                        status,
                        capabilities,
                    } => {
                        self.handle_completion(cfg, tag.as_deref(), status, out);
                        if let Some(caps) = capabilities {
                            self.handle_capabilities(cfg, caps, out);
                        }
                    }
                    Response::Greeting { .. }
                    | Response::Continuation
                    | Response::Bye
                    | Response::Data => {}
                }
            }
        }
    }

    fn handle_greeting(
        &mut self,
        cfg: &Config,
        status: GreetingStatus,
        caps: Option<Capabilities>,
        out: &mut Vec<Violation>,
    ) {
        let protocol = cfg.protocol;
        if protocol != Protocol::Acap
            && self.tls == Tls::Active
            && self.via == Some(TlsVia::Starttls)
        {
            // > S: a002 OK Begin TLS negotiation now
            // > <TLS negotiation, further commands are under TLS layer>
            // > C: a003 CAPABILITY
            // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (the client speaks first)
            out.push(Violation::GreetingAfterStarttls { protocol });
        }
        if status == GreetingStatus::Preauth && protocol == Protocol::Imap {
            if self.tls != Tls::Active {
                // > PREAUTH response SHOULD only be returned by servers on connections
                // > that are protected by TLS [...] (memory)
                // https://www.rfc-editor.org/rfc/rfc9051#section-7.1.4
                out.push(Violation::PreauthOnPlaintext);
                self.preauth_in_cleartext = true;
            }
            self.session = self.session.authenticated();
        }
        if self.phase == Phase::ExpectGreeting {
            self.phase = Phase::ExpectCommand;
        }
        if let Some(caps) = caps {
            self.handle_capabilities(cfg, caps, out);
        }
    }

    fn handle_capabilities(&mut self, cfg: &Config, caps: Capabilities, out: &mut Vec<Violation>) {
        let protocol = cfg.protocol;
        if self.tls == Tls::Active {
            if protocol == Protocol::Imap && caps.has("STARTTLS") {
                // > The server MAY advertise different capabilities and, in particular,
                // > SHOULD NOT advertise the STARTTLS capability, after a successful
                // > STARTTLS command. (memory)
                // https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1
                out.push(Violation::StarttlsAdvertisedAfterTls);
            }
            if protocol == Protocol::Pop3 && caps.has("STLS") {
                // > The capability name "STLS" indicates this command is present and
                // > permitted in the current state.
                // https://www.rfc-editor.org/rfc/rfc2595#section-4
                out.push(Violation::StlsListedAfterTls);
            }
        } else {
            if caps.has_sasl("PLAIN") && !cfg.backwards_compatible_plain {
                // > The PLAIN SASL mechanism MUST NOT be advertised or used unless a strong
                // > encryption layer (such as the provided by TLS) is active or backwards
                // > compatibility dictates otherwise.
                // https://www.rfc-editor.org/rfc/rfc2595#section-6
                out.push(Violation::PlainAdvertisedInCleartext { protocol });
            }
            if protocol == Protocol::Imap
                && cfg.server_refuses_cleartext_auth
                && self.session.is_non_authenticated()
                && caps.has("STARTTLS")
                && !caps.has("LOGINDISABLED")
            {
                // > An IMAP server which implements STARTTLS MUST implement support for the
                // > LOGINDISABLED capability on unencrypted connections.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.2
                out.push(Violation::LoginDisabledNotAdvertised);
            }
            if protocol == Protocol::Pop3
                && caps.has("STLS")
                && !self.session.is_non_authenticated()
            {
                // > The capability name "STLS" indicates this command is present and
                // > permitted in the current state.
                // https://www.rfc-editor.org/rfc/rfc2595#section-4
                out.push(Violation::StlsListedOutsideAuthorization {
                    state: self.session,
                });
            }
            absorb(&mut self.pre_tls_caps, &caps);
        }
        self.caps = Some(caps);
    }

    fn handle_completion(
        &mut self,
        cfg: &Config,
        tag: Option<&str>,
        status: Status,
        out: &mut Vec<Violation>,
    ) {
        if let Some(index) = position(&self.pending, cfg.protocol, tag, |p| &p.tag) {
            if let Some(pending) = self.pending.remove(index) {
                self.complete(cfg, pending, status, out);
            }
            return;
        }
        if self.tls == Tls::Active
            && let Some(index) = position(&self.discarded, cfg.protocol, tag, |p| &p.tag)
        {
            let injected = self.discarded.remove(index).map(|p| p.tag);
            // IMAP:
            // > server implementations MUST do one of the following if any data is
            // > received in the same TCP buffer after the CRLF that ends the STARTTLS
            // > command: [it] is interpreted as the beginning of the TLS handshake [or
            // > it] is thrown away. (memory)
            // https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1
            // POP3 and ACAP (DERIVED: the octets after the CRLF belong to the handshake):
            // > A TLS negotiation begins immediately after the CRLF at the end of the +OK
            // > response from the server.
            // https://www.rfc-editor.org/rfc/rfc2595#section-4 (§5.1 for ACAP)
            out.push(Violation::PipelinedCommandExecutedAfterTls {
                protocol: cfg.protocol,
                tag: injected.flatten(),
            });
        }
    }

    fn complete(
        &mut self,
        cfg: &Config,
        pending: Pending,
        status: Status,
        out: &mut Vec<Violation>,
    ) {
        let protocol = cfg.protocol;
        let tls_active = self.tls == Tls::Active;
        let refuses = cfg.server_refuses_cleartext_auth;
        let ok = status == Status::Ok;
        let kind = pending.kind;
        match &kind {
            CommandKind::Starttls => self.complete_starttls(cfg, status, out),
            CommandKind::Capability => {
                if protocol == Protocol::Pop3 && !ok {
                    self.capa_refused = true;
                    self.check_stls_without_capa(out);
                }
            }
            CommandKind::Login => {
                let disabled = protocol == Protocol::Imap && self.caps_have("LOGINDISABLED");
                if ok {
                    if disabled {
                        // > Such a server will respond with a tagged "NO" response to any
                        // > attempt to use the LOGIN command.
                        // https://www.rfc-editor.org/rfc/rfc2595#section-3.2
                        out.push(Violation::LoginAcceptedDespiteLoginDisabled);
                    } else if !tls_active && refuses {
                        // > Clients and servers which implement STARTTLS MUST be configurable
                        // > to refuse all clear-text login commands or mechanisms [...]
                        // > unless an encryption layer of adequate strength is active.
                        // https://www.rfc-editor.org/rfc/rfc2595#section-2.3
                        out.push(Violation::CleartextLoginAccepted {
                            command: kind.clone(),
                        });
                    }
                    self.session = self.session.authenticated();
                } else if disabled && status == Status::Bad {
                    // > Such a server will respond with a tagged "NO" response [...]
                    // https://www.rfc-editor.org/rfc/rfc2595#section-3.2
                    out.push(Violation::LoginDisabledAnsweredWithBad);
                }
            }
            CommandKind::User => {
                if ok {
                    if !tls_active && refuses {
                        // > [...] MUST be configurable to refuse all clear-text login
                        // > commands [...] (refuse at USER, before the password is sent)
                        // https://www.rfc-editor.org/rfc/rfc2595#section-2.3
                        out.push(Violation::CleartextUserAccepted);
                    }
                    self.user_before_tls = Some(!tls_active);
                } else {
                    self.user_before_tls = None;
                }
            }
            CommandKind::Pass => {
                if ok {
                    if !tls_active && refuses {
                        // > [...] MUST be configurable to refuse all clear-text login
                        // > commands or mechanisms [...]
                        // https://www.rfc-editor.org/rfc/rfc2595#section-2.3
                        out.push(Violation::CleartextLoginAccepted {
                            command: kind.clone(),
                        });
                    }
                    if tls_active && self.user_before_tls == Some(true) {
                        // > [...] the server remains in AUTHORIZATION state, even if client
                        // > credentials are supplied during the TLS negotiation.
                        // https://www.rfc-editor.org/rfc/rfc2595#section-4 (derived)
                        out.push(Violation::PreTlsUserKeptAfterTls);
                    }
                    self.session = self.session.authenticated();
                }
                self.user_before_tls = None;
            }
            CommandKind::Apop => {
                if ok {
                    self.session = self.session.authenticated();
                }
            }
            CommandKind::Authenticate { mechanism, .. } => {
                if ok {
                    if !tls_active && kind.is_plain() && !cfg.backwards_compatible_plain {
                        // > The PLAIN SASL mechanism MUST NOT be advertised or used unless
                        // > a strong encryption layer [...] is active [...]
                        // https://www.rfc-editor.org/rfc/rfc2595#section-6
                        out.push(Violation::PlainAcceptedInCleartext { protocol });
                    } else if !tls_active && refuses && is_cleartext_mechanism(mechanism) {
                        // > [...] refuse all clear-text login commands or mechanisms
                        // > (including both standards-track and nonstandard mechanisms) [...]
                        // https://www.rfc-editor.org/rfc/rfc2595#section-2.3
                        out.push(Violation::CleartextLoginAccepted {
                            command: kind.clone(),
                        });
                    }
                    self.session = self.session.authenticated();
                }
            }
            CommandKind::Select | CommandKind::RequiresAuth => {
                if ok {
                    if tls_active && self.session.is_non_authenticated() {
                        // > The server remains in non-authenticated state, even if client
                        // > credentials are supplied during the TLS negotiation.
                        // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§4 POP3,
                        // §5.1 ACAP; RFC 8314 §3.1/§3.2 on 995/993)
                        out.push(Violation::AuthenticatedByTlsAlone {
                            protocol,
                            transport: match self.via {
                                Some(TlsVia::Implicit) => Transport::Implicit,
                                _ => Transport::Starttls,
                            },
                            command: kind.clone(),
                        });
                    }
                    self.session = match (kind, self.session) {
                        (CommandKind::Select, Session::Imap(_)) => {
                            Session::Imap(ImapState::Selected)
                        }
                        (_, session) => session.authenticated(),
                    };
                }
            }
            CommandKind::Logout => {
                if ok {
                    self.session = self.session.logged_out();
                }
            }
            CommandKind::Noop | CommandKind::Other => {}
        }
    }

    fn complete_starttls(&mut self, cfg: &Config, status: Status, out: &mut Vec<Violation>) {
        let protocol = cfg.protocol;
        let on_implicit_layer = self.tls == Tls::Active && self.via == Some(TlsVia::Implicit);
        if status != Status::Ok {
            if protocol == Protocol::Imap && on_implicit_layer && status == Status::No {
                // > The server MUST always respond with a tagged BAD response when the
                // > STARTTLS command is received on an Implicit TLS port. (memory)
                // https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1
                out.push(Violation::StarttlsOnImplicitTlsAnsweredNo);
            }
            if self.phase == Phase::ExpectStarttlsReply {
                self.phase = Phase::ExpectCommand;
            }
            // STARTTLS was refused: what followed it is ordinary plaintext again.
            for pending in &mut self.pending {
                pending.after_starttls = false;
            }
            return;
        }
        if protocol == Protocol::Imap && on_implicit_layer {
            // > The server MUST always respond with a tagged BAD response when the
            // > STARTTLS command is received on an Implicit TLS port. (memory)
            // https://www.rfc-editor.org/rfc/rfc9051#section-6.2.1
            out.push(Violation::StarttlsAcceptedOnImplicitTls);
        } else if self.tls == Tls::Active {
            // > BAD - STARTTLS received after a successful TLS negotiation or arguments
            // > invalid (RFC 9051 §6.2.1, memory) / > A -ERR response MAY result if a
            // > security layer is already active. (RFC 2595 §4; accepting is DERIVED)
            // https://www.rfc-editor.org/rfc/rfc2595#section-4
            out.push(Violation::StarttlsAcceptedWithTlsActive { protocol });
        }
        if !self.session.is_non_authenticated() {
            if protocol == Protocol::Pop3 {
                // > The STLS command is only permitted in AUTHORIZATION state [...]
                // https://www.rfc-editor.org/rfc/rfc2595#section-4
                out.push(Violation::StlsAcceptedOutsideAuthorization {
                    state: self.session,
                });
            } else {
                // > The STARTTLS command is only valid in non-authenticated state.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§5.1 ACAP, memory)
                out.push(Violation::StarttlsAcceptedWhenAuthenticated {
                    protocol,
                    state: self.session,
                });
            }
        }
        if protocol == Protocol::Pop3 {
            self.stls_accepted = true;
            self.check_stls_without_capa(out);
        }
        self.phase = Phase::ExpectTlsHandshake;
    }

    fn check_stls_without_capa(&mut self, out: &mut Vec<Violation>) {
        if self.capa_refused && self.stls_accepted && !self.stls_without_capa_reported {
            // > If this is implemented, the POP3 extension mechanism [POP3EXT] MUST also
            // > be implemented to avoid the need for client probing of multiple commands.
            // https://www.rfc-editor.org/rfc/rfc2595#section-4
            out.push(Violation::StlsWithoutCapa);
            self.stls_without_capa_reported = true;
        }
    }

    fn handle_handshake(&mut self, cfg: &Config, out: &mut Vec<Violation>) {
        match self.phase {
            Phase::Closed | Phase::TlsFailed => return,
            Phase::ExpectTlsHandshake => {
                let implicit = self.before_implicit_handshake(cfg);
                self.via = Some(if implicit {
                    TlsVia::Implicit
                } else {
                    TlsVia::Starttls
                });
                // Octets the client sent after STARTTLS were handshake bytes, not
                // commands: remember them, so an answer inside TLS shows injection.
                let pending = std::mem::take(&mut self.pending);
                self.discarded
                    .extend(pending.into_iter().filter(|p| p.after_starttls));
                self.phase = if implicit || cfg.protocol == Protocol::Acap {
                    Phase::ExpectGreeting
                } else {
                    Phase::ExpectCommand
                };
            }
            Phase::ExpectGreeting | Phase::ExpectCommand | Phase::ExpectStarttlsReply => {
                // > A TLS negotiation begins immediately after the CRLF at the end of the
                // > tagged OK response from the server.
                // https://www.rfc-editor.org/rfc/rfc2595#section-3.1 (§4, §5.1)
                out.push(Violation::TlsStartedWithoutStarttlsOk {
                    protocol: cfg.protocol,
                });
                if self.via.is_none() {
                    self.via = Some(TlsVia::Starttls);
                }
                if self.phase == Phase::ExpectStarttlsReply {
                    self.phase = Phase::ExpectCommand;
                }
            }
        }
        // > Any protocol interactions prior to the TLS handshake are performed in the
        // > clear and can be modified by a man-in-the-middle attacker. For this reason,
        // > clients must discard cached information about server capabilities
        // > advertised prior to the start of the TLS handshake.
        // https://www.rfc-editor.org/rfc/rfc2595#section-9
        self.tls = Tls::Active;
        self.caps = None;
        self.capability_asked_after_tls = false;
        self.reissue_warned = false;
    }

    fn handle_tcp_closed(&mut self, cfg: &Config, party: Party, out: &mut Vec<Violation>) {
        if party == Party::Server && self.awaiting_acap_greeting(cfg) {
            self.missing_acap_greeting("a TCP close", out);
        }
        if self.tls == Tls::Active {
            // > When a client or server wishes to close the connection, it SHOULD initiate
            // > the exchange of TLS close alerts before TCP connection termination. (memory)
            // https://www.rfc-editor.org/rfc/rfc8314#section-3.4
            out.push(Violation::NoCloseNotify { by: party });
            self.tls = Tls::Closed;
        }
        self.phase = Phase::Closed;
    }

    fn caps_have(&self, name: &str) -> bool {
        self.caps.as_ref().is_some_and(|caps| caps.has(name))
    }
}

/// Where the command a completion answers sits in `queue`: by tag for IMAP/ACAP, the
/// oldest for POP3 (and for an untagged completion).
fn position<'q, T: 'q>(
    queue: impl IntoIterator<Item = &'q T>,
    protocol: Protocol,
    tag: Option<&str>,
    tag_of: impl Fn(&T) -> &Option<String>,
) -> Option<usize> {
    let mut queue = queue.into_iter();
    match (protocol.is_tagged(), tag) {
        (true, Some(tag)) => queue.position(|item| tag_of(item).as_deref() == Some(tag)),
        _ => queue.next().map(|_| 0),
    }
}

/// Adds `from` to `into` (names and SASL mechanisms), skipping what is there.
fn absorb(into: &mut Capabilities, from: &Capabilities) {
    for name in from.names() {
        if !into.has(name) {
            into.insert_name(name);
        }
    }
    for mechanism in from.sasl_mechanisms() {
        if !into.has_sasl(mechanism) {
            into.insert_sasl(mechanism);
        }
    }
}
