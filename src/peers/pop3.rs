//! The reference POP3 server session (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH, RFC 2595
//! §4 STLS), sans-IO.
//!
//! Commands: CAPA, STLS, USER/PASS, AUTH PLAIN and AUTH EXTERNAL (with an initial
//! response or after a `+` continuation, `*` to cancel; bare AUTH lists the mechanisms),
//! STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT, over one message ([`MESSAGE`]).
//! Commands are parsed with [`crate::proto::pop3::CommandReader`]; multi-line answers
//! are byte-stuffed by [`crate::proto::pop3::MultiLine`].
//!
//! EXTERNAL (RFC 2595 §4: "MAY be used to authenticate once TLS client credentials are
//! successfully exchanged") is offered only inside TLS with a verified client certificate
//! that names an account, and logs in as that account (an authorization identity, if
//! given, must be it).

use super::fault::Fault;
use super::server::ServerOptions;
use super::session::{
    MESSAGE, MESSAGE_UIDL, PlainOutcome, Session, Step, check_password, check_plain,
};
use crate::proto::line::Ending;
use crate::proto::pop3::{Command, CommandBody, CommandReader, Error, MultiLine};
use crate::sasl::wire::{self, ClientResponse};

/// Where the session is (RFC 1939 §3; UPDATE is the close after QUIT).
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Authorization,
    Transaction,
}

/// One POP3 server session.
pub(crate) struct Pop3Session<'a> {
    opts: &'a ServerOptions,
    reader: CommandReader,
    state: State,
    /// TLS is active.
    tls: bool,
    /// TLS was reached with STLS.
    upgraded: bool,
    /// The name given by USER, waiting for PASS.
    pending_user: Option<Vec<u8>>,
    /// An AUTH is waiting for the client's response line.
    sasl: bool,
    /// The waiting AUTH is EXTERNAL (else PLAIN).
    sasl_external: bool,
    /// The account a client certificate named in this TLS session.
    cert_user: Option<String>,
    /// DELE 1 was given (RSET undoes it; nothing is really deleted).
    deleted: bool,
}

fn put(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn multi_line<L: AsRef<[u8]>>(out: &mut Vec<u8>, first: &str, lines: impl IntoIterator<Item = L>) {
    put(out, first);
    MultiLine::from_lines(lines).encode(out);
}

const GREETING: &str = "+OK mailtls reference POP3 server ready";

/// The refusal of a TLS-only account before TLS (RFC 2595 §2.3 per-user policy).
const TLS_ONLY: &str = "-ERR [AUTH] This account may log in only once TLS is active";

impl<'a> Pop3Session<'a> {
    /// A session about to greet.
    pub(crate) fn new(opts: &'a ServerOptions) -> Self {
        let mut session = Self {
            opts,
            reader: CommandReader::with_limits(opts.limits.proto()),
            state: State::Authorization,
            tls: opts.implicit,
            upgraded: false,
            pending_user: None,
            sasl: false,
            sasl_external: false,
            cert_user: None,
            deleted: false,
        };
        if opts.implicit && opts.has(Fault::AuthenticatedByTls) {
            session.log_in_first_user();
        }
        session
    }

    fn log_in_first_user(&mut self) {
        if !self.opts.users.is_empty() {
            self.state = State::Transaction;
        }
    }

    fn user_allowed(&self) -> bool {
        self.tls || self.opts.cleartext_login || self.opts.has(Fault::UserPassInCleartext)
    }

    fn plain_offered(&self, tls: bool) -> bool {
        tls || self.opts.cleartext_login || self.opts.has(Fault::PlainInCleartext)
    }

    /// Whether EXTERNAL is offered with TLS active (`tls`) or not: inside TLS when a
    /// client certificate named an account.
    fn external_offered(&self, tls: bool) -> bool {
        if tls {
            self.cert_user.is_some() || self.opts.has(Fault::ExternalWithoutCertificate)
        } else {
            self.opts.has(Fault::ExternalInCleartext)
        }
    }

    /// The SASL mechanisms offered, for CAPA and bare AUTH.
    fn mechanisms(&self, tls: bool) -> Vec<&'static str> {
        let mut mechanisms = Vec::new();
        if self.plain_offered(tls) {
            mechanisms.push("PLAIN");
        }
        if self.external_offered(tls) {
            mechanisms.push("EXTERNAL");
        }
        mechanisms
    }

    /// The CAPA list. STLS only in AUTHORIZATION without TLS ("present and permitted in
    /// the current state", RFC 2595 §4); USER and each SASL mechanism only when it
    /// would be accepted.
    fn capabilities(&self) -> Vec<String> {
        let stale = self.upgraded && self.opts.has(Fault::StaleCapabilities);
        let (tls, transaction) = if stale {
            (false, false)
        } else {
            (self.tls, self.state == State::Transaction)
        };
        let mut caps: Vec<String> = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE"]
            .map(str::to_owned)
            .into();
        if tls || self.opts.cleartext_login {
            caps.push("USER".to_owned());
        }
        let mechanisms = self.mechanisms(tls);
        if !mechanisms.is_empty() {
            caps.push(format!("SASL {}", mechanisms.join(" ")));
        }
        let stls = if tls {
            self.opts.has(Fault::StarttlsAdvertisedAfterTls)
        } else {
            !self.opts.has(Fault::StarttlsNotAdvertised)
        };
        if stls && !transaction {
            caps.push("STLS".to_owned());
        }
        caps.push("IMPLEMENTATION mailtls-reference".to_owned());
        caps
    }

    fn message_lines() -> impl Iterator<Item = &'static str> {
        MESSAGE.split_terminator("\r\n")
    }

    /// The header, the blank line, and the first `n` body lines (RFC 1939 TOP).
    fn top_lines(n: usize) -> Vec<&'static str> {
        let mut all = Self::message_lines();
        let mut lines = Vec::new();
        for line in all.by_ref() {
            lines.push(line);
            if line.is_empty() {
                break;
            }
        }
        lines.extend(all.take(n));
        lines
    }

    /// Whether `msg` names the (undeleted) message.
    fn is_message(&self, msg: &str) -> bool {
        msg == "1" && !self.deleted
    }

    fn execute(&mut self, command: Command, out: &mut Vec<u8>) -> Step {
        let transaction = self.state == State::Transaction;
        let size = MESSAGE.len();
        match command.body {
            CommandBody::Capa if self.opts.has(Fault::StlsWithoutCapa) => {
                put(out, "-ERR Unknown command");
            }
            CommandBody::Capa => {
                multi_line(out, "+OK Capability list follows", self.capabilities())
            }
            CommandBody::Stls => return self.stls(command.ending, out),
            CommandBody::User(name) => self.user(name, out),
            CommandBody::Pass(password) => self.pass(&password, out),
            CommandBody::Auth { mechanism, initial } => {
                return self.auth(mechanism.as_deref(), initial.as_deref(), out);
            }
            CommandBody::Apop { .. } => put(out, "-ERR APOP is not supported"),
            CommandBody::Quit => {
                put(out, "+OK mailtls reference POP3 server signing off");
                return Step::Close;
            }
            _ if !transaction => put(out, "-ERR Not permitted in the AUTHORIZATION state"),
            CommandBody::Stat if self.deleted => put(out, "+OK 0 0"),
            CommandBody::Stat => put(out, &format!("+OK 1 {size}")),
            CommandBody::List(None) => {
                let lines = (!self.deleted).then(|| format!("1 {size}"));
                multi_line(out, "+OK scan listing follows", lines);
            }
            CommandBody::Uidl(None) => {
                let lines = (!self.deleted).then(|| format!("1 {MESSAGE_UIDL}"));
                multi_line(out, "+OK unique-id listing follows", lines);
            }
            CommandBody::List(Some(msg)) if self.is_message(&msg) => {
                put(out, &format!("+OK 1 {size}"));
            }
            CommandBody::Uidl(Some(msg)) if self.is_message(&msg) => {
                put(out, &format!("+OK 1 {MESSAGE_UIDL}"));
            }
            CommandBody::Retr(msg) if self.is_message(&msg) => {
                multi_line(out, &format!("+OK {size} octets"), Self::message_lines());
            }
            CommandBody::Top { msg, lines } if self.is_message(&msg) => match lines.parse() {
                Ok(n) => multi_line(out, "+OK top of message follows", Self::top_lines(n)),
                Err(_) => put(out, "-ERR Invalid line count"),
            },
            CommandBody::Dele(msg) if self.is_message(&msg) => {
                self.deleted = true;
                put(out, "+OK message 1 deleted");
            }
            CommandBody::List(Some(_))
            | CommandBody::Uidl(Some(_))
            | CommandBody::Retr(_)
            | CommandBody::Top { .. }
            | CommandBody::Dele(_) => put(out, "-ERR No such message"),
            CommandBody::Rset => {
                self.deleted = false;
                put(out, "+OK");
            }
            CommandBody::Noop => put(out, "+OK"),
            CommandBody::Unknown { .. } => put(out, "-ERR Unknown command"),
        }
        Step::Continue
    }

    fn stls(&mut self, ending: Ending, out: &mut Vec<u8>) -> Step {
        if self.tls {
            if self.opts.has(Fault::StarttlsOkWhenTlsActive) {
                put(out, "+OK Begin TLS negotiation");
            } else {
                // The RFC 2595 §4 example, verbatim.
                put(out, "-ERR Command not permitted when TLS active");
            }
            return Step::Continue;
        }
        if self.state == State::Transaction && !self.opts.has(Fault::StlsInTransaction) {
            put(out, "-ERR Command not permitted in the TRANSACTION state");
            return Step::Continue;
        }
        put(out, "+OK Begin TLS negotiation");
        if self.opts.has(Fault::DataAfterStarttlsOk) {
            put(out, "+OK TLS negotiation follows");
        }
        Step::StartTls {
            ending,
            indented: false,
        }
    }

    fn user(&mut self, name: Vec<u8>, out: &mut Vec<u8>) {
        if self.state == State::Transaction {
            put(out, "-ERR Already authenticated");
        } else if !self.user_allowed() {
            // Refused at USER, so the client never sends the password in cleartext.
            put(out, "-ERR [AUTH] USER/PASS is disabled until TLS is active");
        } else if !self.tls && self.opts.tls_only(&name) {
            put(out, TLS_ONLY);
        } else {
            self.pending_user = Some(name);
            put(out, "+OK send PASS");
        }
    }

    fn pass(&mut self, password: &[u8], out: &mut Vec<u8>) {
        let user = self.pending_user.take();
        if self.state == State::Transaction {
            put(out, "-ERR Already authenticated");
        } else if !self.user_allowed() {
            put(out, "-ERR [AUTH] USER/PASS is disabled until TLS is active");
        } else {
            match user {
                None => put(out, "-ERR No USER given"),
                Some(user) if !self.tls && self.opts.tls_only(&user) => put(out, TLS_ONLY),
                Some(user) if check_password(self.opts, &user, password) => {
                    self.state = State::Transaction;
                    put(
                        out,
                        &format!("+OK maildrop has 1 message ({} octets)", MESSAGE.len()),
                    );
                }
                Some(_) => put(out, "-ERR [AUTH] Invalid credentials"),
            }
        }
    }

    fn auth(&mut self, mechanism: Option<&str>, initial: Option<&str>, out: &mut Vec<u8>) -> Step {
        let plain = self.plain_offered(self.tls);
        match mechanism {
            _ if self.state == State::Transaction => put(out, "-ERR Already authenticated"),
            None => {
                let mechanisms = self.mechanisms(self.tls);
                multi_line(out, "+OK SASL mechanisms follow", mechanisms);
            }
            Some(m) if m.eq_ignore_ascii_case("EXTERNAL") => {
                return self.auth_external(initial, out);
            }
            Some(m) if !m.eq_ignore_ascii_case("PLAIN") => {
                put(out, "-ERR Unsupported SASL mechanism");
            }
            Some(_) if !plain => {
                put(
                    out,
                    "-ERR [AUTH] PLAIN is only available once TLS is active",
                );
            }
            Some(_) => match initial {
                Some(initial) => match wire::decode_initial_response(initial.as_bytes()) {
                    Ok(message) => return self.finish_plain(&message, out),
                    Err(_) => put(out, "-ERR Invalid base64 initial response"),
                },
                None => {
                    put(out, "+ ");
                    self.sasl = true;
                }
            },
        }
        Step::Continue
    }

    /// `AUTH EXTERNAL`: refused at once where it is not offered (before TLS, or without
    /// a client certificate naming an account), so the client sends nothing more.
    fn auth_external(&mut self, initial: Option<&str>, out: &mut Vec<u8>) -> Step {
        if !self.external_offered(self.tls) {
            let why = if self.tls {
                "-ERR [AUTH] EXTERNAL needs a client certificate that names an account"
            } else {
                "-ERR [AUTH] EXTERNAL needs TLS and a client certificate"
            };
            put(out, why);
            return Step::Continue;
        }
        match initial.map(|i| wire::decode_initial_response(i.as_bytes())) {
            Some(Ok(authzid)) => self.finish_external(&authzid, out),
            Some(Err(_)) => put(out, "-ERR Invalid base64 initial response"),
            None => {
                put(out, "+ ");
                self.sasl = true;
                self.sasl_external = true;
            }
        }
        Step::Continue
    }

    /// SASL EXTERNAL (RFC 4422 App. A): the account the client certificate names, if
    /// `authzid` is empty or that account. A faulty server without a certificate takes
    /// the account named (or the first one).
    fn finish_external(&mut self, authzid: &[u8], out: &mut Vec<u8>) {
        let named = |u: &String| authzid.is_empty() || authzid == u.as_bytes();
        let user = match &self.cert_user {
            Some(user) => Some(user).filter(|u| named(u)),
            None => self.opts.users.iter().map(|(u, _)| u).find(|u| named(u)),
        };
        match user {
            Some(_) => self.logged_in(out),
            None => put(
                out,
                "-ERR [AUTH] The client certificate does not name this account",
            ),
        }
    }

    /// The +OK of a successful AUTH: TRANSACTION from here (draft-melnikov-pop3-over-tls
    /// §2.1, RFC 1939 §4).
    fn logged_in(&mut self, out: &mut Vec<u8>) {
        if !self.opts.has(Fault::AuthOkStaysAuthorization) {
            self.state = State::Transaction;
        }
        put(out, "+OK Logged in");
    }

    fn finish_plain(&mut self, message: &[u8], out: &mut Vec<u8>) -> Step {
        match check_plain(self.opts, message) {
            PlainOutcome::Success(user) if !self.tls && self.opts.tls_only(user.as_bytes()) => {
                put(out, TLS_ONLY);
            }
            PlainOutcome::Success(_) => self.logged_in(out),
            PlainOutcome::BadCredentials => put(out, "-ERR [AUTH] Invalid credentials"),
            PlainOutcome::Malformed => put(out, "-ERR [AUTH] Malformed PLAIN message"),
            PlainOutcome::TooLong => {
                put(out, "-ERR [SYS/PERM] PLAIN field too long");
                return Step::Close;
            }
        }
        Step::Continue
    }

    fn sasl_line(&mut self, out: &mut Vec<u8>) -> Step {
        match self.reader.next_line() {
            Ok(None) => {
                self.sasl = true;
                Step::NeedInput
            }
            Ok(Some(line)) => match wire::decode_client_response(&line.content) {
                Ok(ClientResponse::Cancel) => {
                    put(out, "-ERR AUTH cancelled");
                    Step::Continue
                }
                Ok(ClientResponse::Data(authzid)) if self.sasl_external => {
                    self.finish_external(&authzid, out);
                    Step::Continue
                }
                Ok(ClientResponse::Data(message)) => self.finish_plain(&message, out),
                Err(_) => {
                    put(out, "-ERR Invalid base64 response");
                    Step::Continue
                }
            },
            Err(_) => line_too_long(out),
        }
    }
}

fn line_too_long(out: &mut Vec<u8>) -> Step {
    put(out, "-ERR Command line too long");
    Step::Close
}

impl Session for Pop3Session<'_> {
    fn greeting(&mut self, out: &mut Vec<u8>) {
        put(out, GREETING);
    }

    fn push(&mut self, data: &[u8]) {
        self.reader.push(data);
    }

    fn step(&mut self, out: &mut Vec<u8>) -> Step {
        if std::mem::take(&mut self.sasl) {
            let step = self.sasl_line(out);
            if !self.sasl {
                self.sasl_external = false;
            }
            return step;
        }
        match self.reader.next_command() {
            Ok(Some(command)) => self.execute(command, out),
            Ok(None) => Step::NeedInput,
            Err(Error::Frame(_)) => line_too_long(out),
            Err(Error::UnexpectedArgument {
                command: "STLS", ..
            }) if self.opts.has(Fault::StarttlsWithArguments) => self.stls(Ending::Crlf, out),
            Err(Error::UnexpectedArgument { command, .. }) => {
                put(out, &format!("-ERR {command} takes no arguments"));
                Step::Continue
            }
            Err(error) => {
                put(out, &format!("-ERR Syntax error: {error}"));
                Step::Continue
            }
        }
    }

    fn take_buffered(&mut self) -> Vec<u8> {
        self.reader.take_buffered()
    }

    fn tls_started(&mut self, out: &mut Vec<u8>) {
        self.tls = true;
        self.upgraded = true;
        if !self.opts.has(Fault::KeepsPendingUserAfterStls) {
            self.pending_user = None;
        }
        if self.opts.has(Fault::AuthenticatedByTls) {
            self.log_in_first_user();
        }
        if self.opts.has(Fault::GreetingAfterStls) {
            put(out, GREETING);
        }
    }

    fn tls_dropped(&mut self) {
        self.tls = false;
        self.cert_user = None;
    }

    fn client_user(&mut self, user: Option<String>) {
        // RFC 8314 §3.1: AUTHORIZATION "even if a client certificate was supplied".
        if user.is_some() && self.opts.has(Fault::AuthenticatedByClientCert) {
            self.state = State::Transaction;
        }
        self.cert_user = user;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(opts: &ServerOptions, input: &[u8]) -> String {
        let mut session = Pop3Session::new(opts);
        let mut out = Vec::new();
        session.greeting(&mut out);
        session.push(input);
        while session.step(&mut out) == Step::Continue {}
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cleartext_capa_and_refusals() {
        let opts = ServerOptions::for_tests();
        assert_eq!(
            run(&opts, b"CAPA\r\nUSER alice\r\nAUTH PLAIN AGFsaWNlAHMzY3JldA==\r\nSTAT\r\nNOOP\r\nSTLS now\r\n"),
            "+OK mailtls reference POP3 server ready\r\n\
             +OK Capability list follows\r\n\
             TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSTLS\r\nIMPLEMENTATION mailtls-reference\r\n.\r\n\
             -ERR [AUTH] USER/PASS is disabled until TLS is active\r\n\
             -ERR [AUTH] PLAIN is only available once TLS is active\r\n\
             -ERR Not permitted in the AUTHORIZATION state\r\n\
             -ERR Not permitted in the AUTHORIZATION state\r\n\
             -ERR STLS takes no arguments\r\n"
        );
    }

    #[test]
    fn a_session_inside_tls() {
        let opts = ServerOptions::for_tests().implicit(true);
        let size = MESSAGE.len();
        let out = run(
            &opts,
            b"CAPA\r\nSTLS\r\nAUTH PLAIN\r\nAGFsaWNlAHMzY3JldA==\r\nSTAT\r\nLIST\r\nUIDL 1\r\nTOP 1 1\r\nRETR 1\r\nDELE 1\r\nSTAT\r\nRSET\r\nQUIT\r\n",
        );
        let expected = format!(
            "+OK mailtls reference POP3 server ready\r\n\
             +OK Capability list follows\r\n\
             TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\nIMPLEMENTATION mailtls-reference\r\n.\r\n\
             -ERR Command not permitted when TLS active\r\n\
             + \r\n\
             +OK Logged in\r\n\
             +OK 1 {size}\r\n\
             +OK scan listing follows\r\n1 {size}\r\n.\r\n\
             +OK 1 mailtls-1\r\n\
             +OK top of message follows\r\n\
             From: Bob <bob@example.test>\r\n\
             To: Alice <alice@example.test>\r\n\
             Subject: mailtls reference message\r\n\
             Date: Thu, 01 Jan 2015 00:00:00 +0000\r\n\
             Message-ID: <1@mail.example.test>\r\n\
             \r\n\
             Hello from the mailtls reference server.\r\n\
             .\r\n\
             +OK {size} octets\r\n\
             From: Bob <bob@example.test>\r\n\
             To: Alice <alice@example.test>\r\n\
             Subject: mailtls reference message\r\n\
             Date: Thu, 01 Jan 2015 00:00:00 +0000\r\n\
             Message-ID: <1@mail.example.test>\r\n\
             \r\n\
             Hello from the mailtls reference server.\r\n\
             ..This line starts with a dot, so POP3 byte-stuffs it.\r\n\
             .\r\n\
             +OK message 1 deleted\r\n\
             +OK 0 0\r\n\
             +OK\r\n\
             +OK mailtls reference POP3 server signing off\r\n"
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn user_pass_inside_tls() {
        let opts = ServerOptions::for_tests().implicit(true);
        let out = run(
            &opts,
            b"PASS s3cret\r\nUSER alice\r\nPASS wrong\r\nUSER alice\r\nPASS s3cret\r\nSTLS\r\n",
        );
        assert_eq!(
            out,
            format!(
                "+OK mailtls reference POP3 server ready\r\n\
                 -ERR No USER given\r\n\
                 +OK send PASS\r\n\
                 -ERR [AUTH] Invalid credentials\r\n\
                 +OK send PASS\r\n\
                 +OK maildrop has 1 message ({} octets)\r\n\
                 -ERR Command not permitted when TLS active\r\n",
                MESSAGE.len()
            )
        );
    }

    #[test]
    fn top_counts_body_lines() {
        let opts = ServerOptions::for_tests().implicit(true);
        let out = run(
            &opts,
            b"USER alice\r\nPASS s3cret\r\nTOP 1 0\r\nTOP 1 5\r\n",
        );
        assert!(out.contains("<1@mail.example.test>\r\n\r\n.\r\n"), "{out}");
        assert!(out.ends_with("byte-stuffs it.\r\n.\r\n"), "{out}");
    }
}
