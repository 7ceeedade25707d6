//! The reference IMAP server session (RFC 3501/9051 subset, RFC 2595 §3 STARTTLS and
//! LOGINDISABLED, RFC 4959 SASL-IR), sans-IO.
//!
//! Commands: CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE PLAIN (with and
//! without an initial response, `*` to cancel), SELECT (one INBOX holding
//! [`MESSAGE`](super::MESSAGE)). Anything else is answered BAD. Commands are parsed with
//! [`crate::proto::imap::CommandReader`].

use super::fault::Fault;
use super::server::ServerOptions;
use super::session::{
    PlainOutcome, Session, Step, awaits_sync_literal, check_password, check_plain, leading_tag,
};
use crate::proto::imap::{Command, CommandBody, CommandReader, Error, Tag};
use crate::proto::line::Ending;
use crate::sasl::wire::{self, ClientResponse};

/// Where the session is (RFC 9051 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    NotAuthenticated,
    Authenticated(String),
    Selected(String),
}

/// One IMAP server session.
pub(crate) struct ImapSession<'a> {
    opts: &'a ServerOptions,
    reader: CommandReader,
    state: State,
    /// TLS is active.
    tls: bool,
    /// TLS was reached with STARTTLS (not on an implicit port).
    upgraded: bool,
    /// The tag of an AUTHENTICATE waiting for the client's response line.
    sasl: Option<String>,
    /// The waiting AUTHENTICATE is EXTERNAL (else PLAIN).
    sasl_external: bool,
    /// The account a client certificate named in this TLS session.
    cert_user: Option<String>,
    /// Stream offset up to which a synchronising literal was already invited.
    invited: Option<usize>,
    /// The command being read started with blanks that
    /// [`Fault::TagDifferentialInjection`] skipped.
    indented: bool,
}

/// The refusal of a TLS-only account before TLS (RFC 2595 §2.3 per-user policy).
const TLS_ONLY: &str = "This account may log in only once TLS is active";

fn put(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl<'a> ImapSession<'a> {
    /// A session about to greet.
    pub(crate) fn new(opts: &'a ServerOptions) -> Self {
        let mut session = Self {
            opts,
            reader: CommandReader::with_limits(opts.limits.proto()),
            state: State::NotAuthenticated,
            tls: opts.implicit,
            upgraded: false,
            sasl: None,
            sasl_external: false,
            cert_user: None,
            invited: None,
            indented: false,
        };
        let preauth = if opts.implicit {
            opts.has(Fault::AuthenticatedByTls)
        } else {
            opts.has(Fault::PreauthInCleartext)
        };
        if preauth {
            session.log_in_first_user();
        }
        session
    }

    fn log_in_first_user(&mut self) {
        if let Some((user, _)) = self.opts.users.first() {
            self.state = State::Authenticated(user.clone());
        }
    }

    fn authenticated(&self) -> bool {
        !matches!(self.state, State::NotAuthenticated)
    }

    /// Whether PLAIN is offered with TLS active (`tls`) or not.
    fn plain_offered(&self, tls: bool) -> bool {
        tls || self.opts.cleartext_login || self.opts.has(Fault::PlainInCleartext)
    }

    /// The capability list for the current state. After STARTTLS it is recomputed: no
    /// STARTTLS, no LOGINDISABLED, AUTH=PLAIN (RFC 2595 §3.1: the client "MUST discard
    /// cached information about server capabilities").
    fn capabilities(&self) -> String {
        let stale = self.upgraded && self.opts.has(Fault::StaleCapabilities);
        let (tls, authenticated) = if stale {
            (false, false)
        } else {
            (self.tls, self.authenticated())
        };
        let plain = !authenticated && self.plain_offered(tls);
        let starttls = if tls {
            self.opts.has(Fault::StarttlsAdvertisedAfterTls)
        } else {
            !self.opts.has(Fault::StarttlsNotAdvertised)
        };
        let logindisabled = !tls
            && !authenticated
            && !self.opts.cleartext_login
            && !self.opts.has(Fault::NoLogindisabled);
        let external = !authenticated
            && if tls {
                self.cert_user.is_some() || self.opts.has(Fault::ExternalWithoutCertificate)
            } else {
                self.opts.has(Fault::ExternalInCleartext)
            };
        let mut caps = vec!["IMAP4rev1"];
        if plain {
            caps.push("SASL-IR");
        }
        if starttls && !authenticated {
            caps.push("STARTTLS");
        }
        if logindisabled {
            caps.push("LOGINDISABLED");
        }
        if plain {
            caps.push("AUTH=PLAIN");
        }
        if external {
            caps.push("AUTH=EXTERNAL");
        }
        caps.join(" ")
    }

    /// Runs one command; `indented` says its line started with blanks (see
    /// [`Fault::TagDifferentialInjection`]).
    fn execute(&mut self, command: Command, indented: bool, out: &mut Vec<u8>) -> Step {
        let tag = command.tag.as_str().to_owned();
        match command.body {
            CommandBody::Capability => {
                put(out, &format!("* CAPABILITY {}", self.capabilities()));
                put(out, &format!("{tag} OK CAPABILITY completed"));
            }
            CommandBody::Noop => put(out, &format!("{tag} OK NOOP completed")),
            CommandBody::Logout => {
                put(out, "* BYE mailtls reference server logging out");
                put(out, &format!("{tag} OK LOGOUT completed"));
                return Step::Close;
            }
            CommandBody::Starttls => return self.starttls(&tag, command.ending, indented, out),
            CommandBody::Login { user, password } => {
                self.login(&tag, user.as_bytes(), password.as_bytes(), out);
            }
            CommandBody::Authenticate { mechanism, initial } => {
                self.authenticate(tag, &mechanism, initial.as_deref(), out);
            }
            CommandBody::Select { mailbox, .. } => self.select(&tag, mailbox.as_bytes(), out),
            CommandBody::Id(_) | CommandBody::Unknown { .. } => {
                put(
                    out,
                    &format!(
                        "{tag} BAD {} is not implemented",
                        command.body.canonical_name()
                    ),
                );
            }
        }
        Step::Continue
    }

    fn starttls(&mut self, tag: &str, ending: Ending, indented: bool, out: &mut Vec<u8>) -> Step {
        if self.tls {
            // RFC 9051 §6.2.1: BAD on an implicit-TLS port; no second layer either way.
            if self.opts.has(Fault::StarttlsOkWhenTlsActive) {
                put(out, &format!("{tag} OK Begin TLS negotiation now"));
            } else {
                put(out, &format!("{tag} BAD TLS is already active"));
            }
            return Step::Continue;
        }
        if self.authenticated() && !self.opts.has(Fault::StarttlsWhenAuthenticated) {
            put(
                out,
                &format!("{tag} BAD STARTTLS is only valid in the not authenticated state"),
            );
            return Step::Continue;
        }
        put(out, &format!("{tag} OK Begin TLS negotiation now"));
        if self.opts.has(Fault::DataAfterStarttlsOk) {
            put(out, "* OK TLS negotiation follows");
        }
        Step::StartTls { ending, indented }
    }

    fn login(&mut self, tag: &str, user: &[u8], password: &[u8], out: &mut Vec<u8>) {
        if self.authenticated() {
            put(out, &format!("{tag} BAD Already authenticated"));
        } else if !self.tls
            && !self.opts.cleartext_login
            && !self.opts.has(Fault::LoginDespiteLogindisabled)
        {
            // RFC 2595 §3.2: a tagged NO to any LOGIN while LOGINDISABLED applies.
            put(
                out,
                &format!("{tag} NO [PRIVACYREQUIRED] LOGIN is disabled until TLS is active"),
            );
        } else if !self.tls && self.opts.tls_only(user) {
            put(out, &format!("{tag} NO [PRIVACYREQUIRED] {TLS_ONLY}"));
        } else if check_password(self.opts, user, password) {
            self.state = State::Authenticated(String::from_utf8_lossy(user).into_owned());
            put(out, &format!("{tag} OK LOGIN completed"));
        } else {
            put(
                out,
                &format!("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials"),
            );
        }
    }

    fn authenticate(
        &mut self,
        tag: String,
        mechanism: &str,
        initial: Option<&str>,
        out: &mut Vec<u8>,
    ) {
        if self.authenticated() {
            put(out, &format!("{tag} BAD Already authenticated"));
        } else if mechanism.eq_ignore_ascii_case("EXTERNAL") {
            match initial.map(|i| wire::decode_initial_response(i.as_bytes())) {
                Some(Ok(authzid)) => self.external(&tag, &authzid, out),
                Some(Err(_)) => put(out, &format!("{tag} BAD Invalid base64 initial response")),
                None => {
                    put(out, "+ ");
                    self.sasl = Some(tag);
                    self.sasl_external = true;
                }
            }
        } else if !mechanism.eq_ignore_ascii_case("PLAIN") {
            put(
                out,
                &format!("{tag} NO Unsupported authentication mechanism"),
            );
        } else if !self.plain_offered(self.tls) {
            // RFC 2595 §6 / RFC 9051 §11.7: refused before any "+", even with SASL-IR.
            put(
                out,
                &format!("{tag} NO [PRIVACYREQUIRED] PLAIN is only available once TLS is active"),
            );
        } else if let Some(initial) = initial {
            match wire::decode_initial_response(initial.as_bytes()) {
                Ok(message) => self.finish_plain(&tag, &message, out),
                Err(_) => put(out, &format!("{tag} BAD Invalid base64 initial response")),
            }
        } else {
            put(out, "+ ");
            self.sasl = Some(tag);
        }
    }

    fn finish_plain(&mut self, tag: &str, message: &[u8], out: &mut Vec<u8>) {
        match check_plain(self.opts, message) {
            PlainOutcome::Success(user) if !self.tls && self.opts.tls_only(user.as_bytes()) => {
                put(out, &format!("{tag} NO [PRIVACYREQUIRED] {TLS_ONLY}"));
            }
            PlainOutcome::Success(user) => {
                self.state = State::Authenticated(user);
                put(out, &format!("{tag} OK AUTHENTICATE completed"));
            }
            PlainOutcome::BadCredentials => {
                put(
                    out,
                    &format!("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials"),
                );
            }
            PlainOutcome::Malformed => {
                put(
                    out,
                    &format!("{tag} NO [AUTHENTICATIONFAILED] Malformed PLAIN message"),
                );
            }
            PlainOutcome::TooLong => put(out, &format!("{tag} BAD PLAIN field too long")),
        }
    }

    /// SASL EXTERNAL (RFC 4422 App. A): inside TLS, the account the client certificate
    /// names, if `authzid` is empty or that account.
    fn external(&mut self, tag: &str, authzid: &[u8], out: &mut Vec<u8>) {
        // What a faulty server does: trusts whatever identity the client claims.
        let claimed = || {
            self.opts
                .users
                .iter()
                .map(|(u, _)| u)
                .find(|u| authzid.is_empty() || authzid == u.as_bytes())
                .cloned()
        };
        let user = if !self.tls && self.opts.has(Fault::ExternalInCleartext) {
            claimed()
        } else if self.tls {
            match &self.cert_user {
                Some(user) => {
                    Some(user.clone()).filter(|u| authzid.is_empty() || authzid == u.as_bytes())
                }
                None if self.opts.has(Fault::ExternalWithoutCertificate) => claimed(),
                None => None,
            }
        } else {
            None
        };
        match user {
            Some(user) => {
                self.state = State::Authenticated(user);
                put(out, &format!("{tag} OK AUTHENTICATE completed"));
            }
            None if !self.tls => put(
                out,
                &format!("{tag} NO [PRIVACYREQUIRED] EXTERNAL needs TLS and a client certificate"),
            ),
            None => put(
                out,
                &format!(
                    "{tag} NO [AUTHENTICATIONFAILED] No client certificate names this account"
                ),
            ),
        }
    }

    fn select(&mut self, tag: &str, mailbox: &[u8], out: &mut Vec<u8>) {
        let user = match &self.state {
            State::NotAuthenticated => {
                put(
                    out,
                    &format!("{tag} BAD SELECT is only valid once authenticated"),
                );
                return;
            }
            State::Authenticated(user) | State::Selected(user) => user.clone(),
        };
        if mailbox.eq_ignore_ascii_case(b"INBOX") {
            put(
                out,
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            );
            put(out, "* 1 EXISTS");
            put(out, "* 0 RECENT");
            put(out, "* OK [UIDVALIDITY 1] UIDs valid");
            put(out, "* OK [UIDNEXT 2] Predicted next UID");
            put(out, "* OK [PERMANENTFLAGS ()] No permanent flags permitted");
            put(out, &format!("{tag} OK [READ-ONLY] SELECT completed"));
            self.state = State::Selected(user);
        } else {
            put(out, &format!("{tag} NO [NONEXISTENT] No such mailbox"));
            self.state = State::Authenticated(user);
        }
    }

    /// The client's answer to the `+` of AUTHENTICATE PLAIN.
    fn sasl_line(&mut self, tag: &str, out: &mut Vec<u8>) -> Step {
        match self.reader.next_line() {
            Ok(None) => {
                self.sasl = Some(tag.to_owned());
                Step::NeedInput
            }
            Ok(Some(line)) => {
                match wire::decode_client_response(&line.content) {
                    // RFC 3501 §6.2.2: a cancelled exchange is rejected with BAD.
                    Ok(ClientResponse::Cancel) => {
                        put(out, &format!("{tag} BAD AUTHENTICATE cancelled"));
                    }
                    Ok(ClientResponse::Data(authzid)) if self.sasl_external => {
                        self.external(tag, &authzid, out);
                    }
                    Ok(ClientResponse::Data(message)) => self.finish_plain(tag, &message, out),
                    Err(_) => put(out, &format!("{tag} BAD Invalid base64 response")),
                }
                Step::Continue
            }
            Err(_) => self.line_too_long(out),
        }
    }

    fn line_too_long(&mut self, out: &mut Vec<u8>) -> Step {
        put(out, "* BYE Command line too long");
        Step::Close
    }

    /// [`Fault::TagDifferentialInjection`]: blanks before the next tag are dropped, so
    /// ` A1 STARTTLS` reads as a STARTTLS (RFC 9051's `tag` cannot start with SP).
    fn skip_blanks_before_tag(&mut self) {
        let blanks = self
            .reader
            .buffered()
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if blanks > 0 && blanks < self.reader.buffered().len() {
            let rest = self.reader.take_buffered();
            self.reader.push(rest.get(blanks..).unwrap_or_default());
            self.indented = true;
        }
    }
}

/// [`Fault::DropsCommandsBeforeStarttls`]: what is left of one read once the command
/// lines before a STARTTLS line in it are thrown away.
fn from_starttls_line(data: &[u8]) -> &[u8] {
    let mut start = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let mut words = line.trim_ascii().split(|&b| b == b' ');
        let command = words.nth(1).unwrap_or_default();
        if start > 0 && command.eq_ignore_ascii_case(b"STARTTLS") {
            return data.get(start..).unwrap_or_default();
        }
        start += line.len();
    }
    data
}

impl Session for ImapSession<'_> {
    fn greeting(&mut self, out: &mut Vec<u8>) {
        let caps = self.capabilities();
        match &self.state {
            State::NotAuthenticated => put(
                out,
                &format!("* OK [CAPABILITY {caps}] mailtls reference IMAP server ready"),
            ),
            State::Authenticated(user) | State::Selected(user) => put(
                out,
                &format!(
                    "* PREAUTH [CAPABILITY {caps}] mailtls reference IMAP server: logged in as {user}"
                ),
            ),
        }
    }

    fn push(&mut self, data: &[u8]) {
        let data = if self.opts.has(Fault::DropsCommandsBeforeStarttls)
            && self.reader.buffered().is_empty()
        {
            from_starttls_line(data)
        } else {
            data
        };
        self.reader.push(data);
    }

    fn step(&mut self, out: &mut Vec<u8>) -> Step {
        if let Some(tag) = self.sasl.take() {
            let step = self.sasl_line(&tag, out);
            if self.sasl.is_none() {
                self.sasl_external = false;
            }
            return step;
        }
        if self.opts.has(Fault::TagDifferentialInjection) {
            self.skip_blanks_before_tag();
        }
        let hint = leading_tag(self.reader.buffered(), |t| Tag::new(t).is_ok());
        let result = self.reader.next_command();
        // A whole command (or a malformed one) was read: its blanks are used up.
        let indented = match result {
            Ok(None) => false,
            _ => std::mem::take(&mut self.indented),
        };
        match result {
            Ok(Some(command)) => self.execute(command, indented, out),
            Ok(None) => {
                let end = self.reader.offset() + self.reader.buffered().len();
                if awaits_sync_literal(self.reader.buffered()) && self.invited != Some(end) {
                    put(out, "+ Ready for literal data");
                    self.invited = Some(end);
                }
                Step::NeedInput
            }
            Err(Error::Frame(_)) => self.line_too_long(out),
            Err(Error::UnexpectedArgument {
                command: "STARTTLS",
                ..
            }) if self.opts.has(Fault::StarttlsWithArguments) => match hint {
                Some(tag) => self.starttls(&tag, Ending::Crlf, false, out),
                None => {
                    put(out, "* BAD Missing tag");
                    Step::Continue
                }
            },
            Err(error) => {
                let tag = hint.unwrap_or_else(|| "*".to_owned());
                match error {
                    Error::UnexpectedArgument { command, .. } => {
                        put(out, &format!("{tag} BAD {command} takes no arguments"));
                    }
                    error => put(out, &format!("{tag} BAD Syntax error: {error}")),
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
        if self.opts.has(Fault::GreetingAfterStls) {
            self.greeting(out);
        }
    }

    fn tls_dropped(&mut self) {
        self.tls = false;
        self.cert_user = None;
    }

    fn client_user(&mut self, user: Option<String>) {
        if let (Some(user), true) = (&user, self.opts.has(Fault::AuthenticatedByClientCert)) {
            self.state = State::Authenticated(user.clone());
        }
        self.cert_user = user;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(opts: &ServerOptions, input: &[u8]) -> (String, Vec<Step>) {
        let mut session = ImapSession::new(opts);
        let mut out = Vec::new();
        session.greeting(&mut out);
        session.push(input);
        let mut steps = Vec::new();
        loop {
            let step = session.step(&mut out);
            steps.push(step);
            if step != Step::Continue {
                break;
            }
        }
        (String::from_utf8(out).unwrap(), steps)
    }

    #[test]
    fn cleartext_greeting_and_refusals() {
        let opts = ServerOptions::for_tests();
        let ir = wire::encode_initial_response(b"\0alice\0s3cret");
        let (out, _) = run(
            &opts,
            format!("A1 CAPABILITY\r\nA2 LOGIN alice s3cret\r\nA3 AUTHENTICATE PLAIN {ir}\r\nA4 AUTHENTICATE PLAIN\r\nA5 SELECT INBOX\r\n").as_bytes(),
        );
        assert_eq!(
            out,
            "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] mailtls reference IMAP server ready\r\n\
             * CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n\
             A1 OK CAPABILITY completed\r\n\
             A2 NO [PRIVACYREQUIRED] LOGIN is disabled until TLS is active\r\n\
             A3 NO [PRIVACYREQUIRED] PLAIN is only available once TLS is active\r\n\
             A4 NO [PRIVACYREQUIRED] PLAIN is only available once TLS is active\r\n\
             A5 BAD SELECT is only valid once authenticated\r\n"
        );
    }

    #[test]
    fn starttls_stops_at_the_command() {
        let opts = ServerOptions::for_tests();
        let mut session = ImapSession::new(&opts);
        let mut out = Vec::new();
        session.push(b"A1 STARTTLS\r\nX1 NOOP\r\n");
        assert_eq!(
            session.step(&mut out),
            Step::StartTls {
                ending: Ending::Crlf,
                indented: false,
            }
        );
        assert_eq!(out, b"A1 OK Begin TLS negotiation now\r\n");
        assert_eq!(session.take_buffered(), b"X1 NOOP\r\n");
        out.clear();
        session.tls_started(&mut out);
        assert!(out.is_empty());
        session.push(b"A2 CAPABILITY\r\n");
        session.step(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\nA2 OK CAPABILITY completed\r\n"
        );
    }

    #[test]
    fn inside_tls_login_plain_and_select() {
        let opts = ServerOptions::for_tests().implicit(true);
        let ir = wire::encode_initial_response(b"\0alice\0s3cret");
        let (out, steps) = run(
            &opts,
            format!(
                "A1 STARTTLS\r\nA2 AUTHENTICATE PLAIN\r\n*\r\nA3 AUTHENTICATE PLAIN\r\n{ir}\r\nA4 SELECT inbox\r\nA5 LOGOUT\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(
            out,
            "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] mailtls reference IMAP server ready\r\n\
             A1 BAD TLS is already active\r\n\
             + \r\n\
             A2 BAD AUTHENTICATE cancelled\r\n\
             + \r\n\
             A3 OK AUTHENTICATE completed\r\n\
             * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
             * 1 EXISTS\r\n\
             * 0 RECENT\r\n\
             * OK [UIDVALIDITY 1] UIDs valid\r\n\
             * OK [UIDNEXT 2] Predicted next UID\r\n\
             * OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n\
             A4 OK [READ-ONLY] SELECT completed\r\n\
             * BYE mailtls reference server logging out\r\n\
             A5 OK LOGOUT completed\r\n"
        );
        assert_eq!(steps.last(), Some(&Step::Close));
    }

    #[test]
    fn literals_are_invited_once() {
        let opts = ServerOptions::for_tests().implicit(true);
        let mut session = ImapSession::new(&opts);
        let mut out = Vec::new();
        session.push(b"A1 LOGIN {5}\r\n");
        assert_eq!(session.step(&mut out), Step::NeedInput);
        assert_eq!(session.step(&mut out), Step::NeedInput);
        assert_eq!(out, b"+ Ready for literal data\r\n");
        out.clear();
        session.push(b"alice s3cret\r\n");
        assert_eq!(session.step(&mut out), Step::Continue);
        assert_eq!(out, b"A1 OK LOGIN completed\r\n");
    }

    #[test]
    fn hostile_input_never_panics() {
        let opts = ServerOptions::for_tests();
        let inputs: [&[u8]; 6] = [
            b"\0\0\0\r\n",
            b"+ x\r\n* y\r\n",
            b"A1 LOGIN {99999999999999999999}\r\n",
            b"A1 AUTHENTICATE PLAIN ====\r\n",
            b"A1 STARTTLS now\r\n",
            &[b'a'; 10_000],
        ];
        for input in inputs {
            let (out, _) = run(&opts, input);
            assert!(out.starts_with("* OK"));
        }
    }
}
