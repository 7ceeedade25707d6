//! The reference ACAP server session (RFC 2244 subset, RFC 2595 §5 STARTTLS and §6
//! PLAIN), sans-IO.
//!
//! Commands: NOOP, STARTTLS, `AUTHENTICATE "PLAIN"` and `AUTHENTICATE "EXTERNAL"`
//! (initial response as a quoted string or literal, or after a `+ ""` challenge; `"*"`
//! cancels), LOGOUT. Anything else is answered BAD. Commands are parsed with
//! [`crate::proto::acap::CommandReader`].
//!
//! EXTERNAL (RFC 2595 §5.1: "MAY be used to authenticate once TLS client credentials are
//! successfully exchanged") is offered only inside TLS with a verified client certificate
//! that names an account, and logs in as that account (an authorization identity, if
//! given, must be it).
//!
//! After the STARTTLS handshake the server re-issues its greeting, the capabilities
//! recomputed (no STARTTLS, `(SASL "PLAIN")`), as RFC 2595 §5.1 requires:
//!
//! > After the TLS layer is established, the server MUST re-issue an untagged ACAP
//! > greeting. This is necessary to protect against man-in-the-middle attacks which
//! > alter the capabilities list prior to STARTTLS.
//!
//! The seed texts do not hold §5; the sentence is RFC 2595 §5.1 as the catalogue (§4.3,
//! `acap.server.starttls.greeting-reissued`) and `proto::acap` quote it.

use super::fault::Fault;
use super::server::ServerOptions;
use super::session::{PlainOutcome, Session, Step, awaits_sync_literal, check_plain, leading_tag};
use crate::proto::acap::{AcapString, Command, CommandBody, CommandReader, Error, Tag};
use crate::proto::line::Ending;

/// One ACAP server session.
pub(crate) struct AcapSession<'a> {
    opts: &'a ServerOptions,
    reader: CommandReader,
    /// The authenticated user, if any (RFC 2244 §3: non-authenticated / authenticated).
    user: Option<String>,
    /// TLS is active.
    tls: bool,
    /// TLS was reached with STARTTLS.
    upgraded: bool,
    /// The tag of an AUTHENTICATE waiting for the client's continuation.
    sasl: Option<String>,
    /// The waiting AUTHENTICATE is EXTERNAL (else PLAIN).
    sasl_external: bool,
    /// The account a client certificate named in this TLS session.
    cert_user: Option<String>,
    /// Stream offset up to which a synchronising literal was already invited.
    invited: Option<usize>,
}

fn put(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl<'a> AcapSession<'a> {
    /// A session about to greet.
    pub(crate) fn new(opts: &'a ServerOptions) -> Self {
        let mut session = Self {
            opts,
            reader: CommandReader::with_limits(opts.limits.proto()),
            user: None,
            tls: opts.implicit,
            upgraded: false,
            sasl: None,
            sasl_external: false,
            cert_user: None,
            invited: None,
        };
        if opts.implicit && opts.has(Fault::AuthenticatedByTls) {
            session.log_in_first_user();
        }
        session
    }

    fn log_in_first_user(&mut self) {
        self.user = self.opts.users.first().map(|(user, _)| user.clone());
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

    /// The greeting line, computed for the current state.
    fn greeting_line(&self) -> String {
        let stale = self.upgraded && self.opts.has(Fault::StaleCapabilities);
        let (tls, authenticated) = if stale {
            (false, false)
        } else {
            (self.tls, self.user.is_some())
        };
        let starttls = if tls {
            self.opts.has(Fault::StarttlsAdvertisedAfterTls)
        } else {
            !self.opts.has(Fault::StarttlsNotAdvertised)
        };
        let mut line = String::from("* ACAP (IMPLEMENTATION \"mailtls reference\")");
        if starttls && !authenticated {
            line.push_str(" (STARTTLS)");
        }
        line.push_str(" (SASL");
        if self.plain_offered(tls) {
            line.push_str(" \"PLAIN\"");
        }
        if self.external_offered(tls) {
            line.push_str(" \"EXTERNAL\"");
        }
        line.push(')');
        line
    }

    fn execute(&mut self, command: Command, out: &mut Vec<u8>) -> Step {
        let tag = command.tag.as_str().to_owned();
        match command.body {
            CommandBody::Noop => put(out, &format!("{tag} OK \"NOOP completed\"")),
            CommandBody::Logout => {
                put(out, "* BYE \"mailtls reference ACAP server logging out\"");
                put(out, &format!("{tag} OK \"LOGOUT completed\""));
                return Step::Close;
            }
            CommandBody::Starttls => return self.starttls(&tag, command.ending, out),
            CommandBody::Authenticate { mechanism, initial } => {
                self.authenticate(tag, &mechanism, initial.as_ref(), out);
            }
            CommandBody::Unknown { .. } => {
                put(out, &format!("{tag} BAD \"Unknown command\""));
            }
        }
        Step::Continue
    }

    fn starttls(&mut self, tag: &str, ending: Ending, out: &mut Vec<u8>) -> Step {
        if self.tls {
            if self.opts.has(Fault::StarttlsOkWhenTlsActive) {
                put(out, &format!("{tag} OK \"Begin TLS negotiation now\""));
            } else {
                put(out, &format!("{tag} BAD \"TLS is already active\""));
            }
            return Step::Continue;
        }
        if self.user.is_some() && !self.opts.has(Fault::StarttlsWhenAuthenticated) {
            // RFC 2595 §5.1: "only valid in non-authenticated state".
            put(
                out,
                &format!("{tag} BAD \"STARTTLS is only valid in the non-authenticated state\""),
            );
            return Step::Continue;
        }
        put(out, &format!("{tag} OK \"Begin TLS negotiation now\""));
        if self.opts.has(Fault::DataAfterStarttlsOk) {
            put(out, "* OK \"TLS negotiation follows\"");
        }
        Step::StartTls {
            ending,
            indented: false,
        }
    }

    fn authenticate(
        &mut self,
        tag: String,
        mechanism: &AcapString,
        initial: Option<&AcapString>,
        out: &mut Vec<u8>,
    ) {
        if self.user.is_some() {
            put(out, &format!("{tag} BAD \"Already authenticated\""));
        } else if mechanism.as_bytes().eq_ignore_ascii_case(b"EXTERNAL") {
            self.authenticate_external(tag, initial, out);
        } else if !mechanism.as_bytes().eq_ignore_ascii_case(b"PLAIN") {
            put(out, &format!("{tag} NO \"Unsupported SASL mechanism\""));
        } else if !self.plain_offered(self.tls) {
            put(
                out,
                &format!(
                    "{tag} NO (ENCRYPT-NEEDED) \"PLAIN is only available once TLS is active\""
                ),
            );
        } else if let Some(initial) = initial {
            self.finish_plain(&tag, initial.as_bytes(), out);
        } else {
            put(out, "+ \"\"");
            self.sasl = Some(tag);
        }
    }

    /// `AUTHENTICATE "EXTERNAL"`: refused at once where it is not offered (before TLS, or
    /// without a client certificate naming an account).
    fn authenticate_external(
        &mut self,
        tag: String,
        initial: Option<&AcapString>,
        out: &mut Vec<u8>,
    ) {
        if !self.external_offered(self.tls) {
            let why = if self.tls {
                "NO \"EXTERNAL needs a client certificate that names an account\""
            } else {
                "NO (ENCRYPT-NEEDED) \"EXTERNAL needs TLS and a client certificate\""
            };
            put(out, &format!("{tag} {why}"));
        } else if let Some(initial) = initial {
            self.finish_external(&tag, initial.as_bytes(), out);
        } else {
            put(out, "+ \"\"");
            self.sasl = Some(tag);
            self.sasl_external = true;
        }
    }

    /// SASL EXTERNAL (RFC 4422 App. A): the account the client certificate names, if
    /// `authzid` is empty or that account. A faulty server without a certificate takes
    /// the account named (or the first one).
    fn finish_external(&mut self, tag: &str, authzid: &[u8], out: &mut Vec<u8>) {
        let named = |u: &String| authzid.is_empty() || authzid == u.as_bytes();
        let user = match &self.cert_user {
            Some(user) => Some(user.clone()).filter(named),
            None => self
                .opts
                .users
                .iter()
                .map(|(u, _)| u)
                .find(|u| named(u))
                .cloned(),
        };
        match user {
            Some(user) => {
                put(out, &format!("{tag} OK \"Welcome {user}\""));
                self.user = Some(user);
            }
            None => put(
                out,
                &format!("{tag} NO \"The client certificate does not name this account\""),
            ),
        }
    }

    fn finish_plain(&mut self, tag: &str, message: &[u8], out: &mut Vec<u8>) {
        match check_plain(self.opts, message) {
            PlainOutcome::Success(user) if !self.tls && self.opts.tls_only(user.as_bytes()) => {
                put(
                    out,
                    &format!(
                        "{tag} NO (ENCRYPT-NEEDED) \"This account may log in only once TLS is active\""
                    ),
                );
            }
            PlainOutcome::Success(user) => {
                put(out, &format!("{tag} OK \"Welcome {user}\""));
                self.user = Some(user);
            }
            PlainOutcome::BadCredentials | PlainOutcome::Malformed => {
                put(out, &format!("{tag} NO \"Authentication failed\""));
            }
            PlainOutcome::TooLong => put(out, &format!("{tag} BAD \"PLAIN field too long\"")),
        }
    }

    /// The client's answer to the `+ ""` of AUTHENTICATE: a string, or `*` to cancel.
    fn sasl_answer(&mut self, tag: &str, out: &mut Vec<u8>) -> Step {
        match self.reader.next_continuation() {
            Ok(None) => {
                self.sasl = Some(tag.to_owned());
                self.invite_literal(out);
                Step::NeedInput
            }
            Ok(Some(answer)) if answer.as_bytes() != b"*" => {
                if self.sasl_external {
                    self.finish_external(tag, answer.as_bytes(), out);
                } else {
                    self.finish_plain(tag, answer.as_bytes(), out);
                }
                Step::Continue
            }
            Err(Error::Frame(_)) => line_too_long(out),
            // `"*"`, or an unquoted `*` (not a string, so a parse error): cancelled.
            Ok(Some(_)) | Err(_) => {
                put(out, &format!("{tag} NO \"AUTHENTICATE cancelled\""));
                Step::Continue
            }
        }
    }

    fn invite_literal(&mut self, out: &mut Vec<u8>) {
        let end = self.reader.offset() + self.reader.buffered().len();
        if awaits_sync_literal(self.reader.buffered()) && self.invited != Some(end) {
            put(out, "+ \"Ready for literal data\"");
            self.invited = Some(end);
        }
    }
}

fn line_too_long(out: &mut Vec<u8>) -> Step {
    put(out, "* BYE \"Command line too long\"");
    Step::Close
}

impl Session for AcapSession<'_> {
    fn greeting(&mut self, out: &mut Vec<u8>) {
        put(out, &self.greeting_line());
    }

    fn push(&mut self, data: &[u8]) {
        self.reader.push(data);
    }

    fn step(&mut self, out: &mut Vec<u8>) -> Step {
        if let Some(tag) = self.sasl.take() {
            let step = self.sasl_answer(&tag, out);
            if self.sasl.is_none() {
                self.sasl_external = false;
            }
            return step;
        }
        let hint = leading_tag(self.reader.buffered(), |t| Tag::new(t).is_ok());
        match self.reader.next_command() {
            Ok(Some(command)) => self.execute(command, out),
            Ok(None) => {
                self.invite_literal(out);
                Step::NeedInput
            }
            Err(Error::Frame(_)) => line_too_long(out),
            Err(Error::UnexpectedArgument {
                command: "STARTTLS",
                ..
            }) if self.opts.has(Fault::StarttlsWithArguments) && hint.is_some() => {
                let tag = hint.unwrap_or_default();
                self.starttls(&tag, Ending::Crlf, out)
            }
            Err(error) => {
                let tag = hint.unwrap_or_else(|| "*".to_owned());
                match error {
                    Error::UnexpectedArgument { command, .. } => {
                        put(out, &format!("{tag} BAD \"{command} takes no arguments\""));
                    }
                    _ => put(out, &format!("{tag} BAD \"Syntax error\"")),
                }
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
        if self.opts.has(Fault::AuthenticatedByTls) {
            self.log_in_first_user();
        }
        if !self.opts.has(Fault::AcapNoReissueGreeting) {
            self.greeting(out);
        }
    }

    fn tls_dropped(&mut self) {
        self.tls = false;
        self.cert_user = None;
    }

    fn client_user(&mut self, user: Option<String>) {
        if user.is_some() && self.opts.has(Fault::AuthenticatedByClientCert) {
            self.user.clone_from(&user);
        }
        self.cert_user = user;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(session: &mut AcapSession<'_>, input: &[u8]) -> String {
        let mut out = Vec::new();
        session.push(input);
        while session.step(&mut out) == Step::Continue {}
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn greeting_refusal_starttls_and_reissued_greeting() {
        let opts = ServerOptions::for_tests();
        let mut session = AcapSession::new(&opts);
        let mut out = Vec::new();
        session.greeting(&mut out);
        assert_eq!(
            out,
            b"* ACAP (IMPLEMENTATION \"mailtls reference\") (STARTTLS) (SASL)\r\n"
        );
        assert_eq!(
            run(
                &mut session,
                b"a1 AUTHENTICATE \"PLAIN\" {13+}\r\n\0alice\0s3cret\r\na2 STARTTLS\r\n"
            ),
            "a1 NO (ENCRYPT-NEEDED) \"PLAIN is only available once TLS is active\"\r\n\
             a2 OK \"Begin TLS negotiation now\"\r\n"
        );
        let mut out = Vec::new();
        session.tls_started(&mut out);
        assert_eq!(
            out,
            b"* ACAP (IMPLEMENTATION \"mailtls reference\") (SASL \"PLAIN\")\r\n"
        );
        assert_eq!(
            run(
                &mut session,
                b"a3 AUTHENTICATE \"PLAIN\"\r\n*\r\na4 AUTHENTICATE \"plain\"\r\n{13}\r\n"
            ),
            "+ \"\"\r\na3 NO \"AUTHENTICATE cancelled\"\r\n+ \"\"\r\n+ \"Ready for literal data\"\r\n"
        );
        assert_eq!(
            run(
                &mut session,
                b"\0alice\0s3cret\r\na5 STARTTLS\r\na6 LOGOUT\r\n"
            ),
            "a4 OK \"Welcome alice\"\r\n\
             a5 BAD \"TLS is already active\"\r\n\
             * BYE \"mailtls reference ACAP server logging out\"\r\n\
             a6 OK \"LOGOUT completed\"\r\n"
        );
    }
}
