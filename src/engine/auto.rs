//! The client role's auto-responder: real clients differ in what they send between the
//! steps a scenario cares about (one asks CAPABILITY first, another LISTs after login).
//! While a `C~` step skips client lines, and after the last step, mailtls answers them
//! the way a plain conformant server would, so the client reaches the step under test.
//! It also judges every PLAIN message a client sends against `sasl::plain`.

use crate::model::Protocol;
use crate::proto::capability::Capabilities;
use crate::sasl::plain::{self, Profile};
use crate::sasl::wire::{self, ClientResponse};

/// What the auto-responder made of one client line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// The octets to send back (possibly several lines).
    pub reply: Vec<u8>,
    /// A defect in what the client sent (a malformed PLAIN message), for a FAIL.
    pub problem: Option<String>,
    /// The client said goodbye (LOGOUT / QUIT).
    pub goodbye: bool,
    /// How a PLAIN message reads under each RFC (4616, and 2595 §6 which it
    /// obsoleted), for the transcript.
    pub reading: Option<String>,
}

/// Per-connection state: a PLAIN exchange waiting for the client's response line.
#[derive(Debug)]
pub struct AutoResponder {
    protocol: Protocol,
    /// The tag of an AUTHENTICATE PLAIN that was answered with `+` (POP3: empty tag).
    pending_plain: Option<String>,
}

impl AutoResponder {
    /// A responder for one connection.
    pub fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            pending_plain: None,
        }
    }

    /// Answers one client line. `caps` is the capability list mailtls advertised in
    /// the current TLS phase, if it advertised one; `tls` whether TLS is active.
    pub fn answer(&mut self, line: &[u8], caps: Option<&Capabilities>, tls: bool) -> Answer {
        // A ClientHello on the cleartext connection (a client that starts TLS although
        // STARTTLS was refused): nothing to answer, the exchange is over.
        if line.starts_with(&[0x16, 0x03]) {
            return Answer {
                goodbye: true,
                ..Answer::default()
            };
        }
        if let Some(tag) = self.pending_plain.take() {
            return self.plain_response(&tag, wire::decode_client_response(line));
        }
        let text = String::from_utf8_lossy(line);
        match self.protocol {
            Protocol::Pop3 => self.pop3(&text, caps, tls),
            Protocol::Imap | Protocol::Acap => self.tagged(&text, caps, tls),
        }
    }

    fn tagged(&mut self, text: &str, caps: Option<&Capabilities>, tls: bool) -> Answer {
        let mut words = text.splitn(3, ' ');
        let tag = words.next().unwrap_or("*").to_owned();
        let command = words.next().unwrap_or_default().to_ascii_uppercase();
        let rest = words.next().unwrap_or_default();
        // ACAP response text is a quoted string (RFC 2244 §2.6); IMAP's is free text.
        let acap = self.protocol == Protocol::Acap;
        let text = |t: &str| {
            if acap {
                format!("\"{t}\"")
            } else {
                t.to_owned()
            }
        };
        let ok = |what: &str| {
            format!("{tag} OK {}\r\n", text(&format!("{what} completed"))).into_bytes()
        };
        match command.as_str() {
            "CAPABILITY" if self.protocol == Protocol::Imap => {
                let list = imap_caps(caps, tls);
                reply(format!(
                    "* CAPABILITY {list}\r\n{tag} OK CAPABILITY completed\r\n"
                ))
            }
            "NOOP" | "ID" | "ENABLE" | "LIST" | "LSUB" | "STATUS" | "CHECK" | "CLOSE" => {
                reply_bytes(ok(&command))
            }
            "SELECT" | "EXAMINE" => reply(format!(
                "* 0 EXISTS\r\n* 0 RECENT\r\n{tag} OK [READ-WRITE] {command} completed\r\n"
            )),
            "LOGIN" => reply_bytes(ok("LOGIN")),
            "LOGOUT" => Answer {
                reply: format!(
                    "* BYE {}\r\n{tag} OK {}\r\n",
                    text("logging out"),
                    text("LOGOUT completed")
                )
                .into_bytes(),
                problem: None,
                goodbye: true,
                reading: None,
            },
            "AUTHENTICATE" => {
                let mut args = rest.split(' ');
                let mechanism = args.next().unwrap_or_default().trim_matches('"');
                if !mechanism.eq_ignore_ascii_case("PLAIN") {
                    return reply(format!("{tag} NO {}\r\n", text("unsupported mechanism")));
                }
                match args.next() {
                    Some(initial) => {
                        let decoded =
                            wire::decode_initial_response(initial.trim_matches('"').as_bytes());
                        self.plain_response(&tag, decoded.map(ClientResponse::Data))
                    }
                    None => {
                        self.pending_plain = Some(tag);
                        let prompt = if self.protocol == Protocol::Acap {
                            "+ \"\"\r\n"
                        } else {
                            "+ \r\n"
                        };
                        reply(prompt.to_owned())
                    }
                }
            }
            _ => reply(format!(
                "{tag} BAD {}\r\n",
                text("not part of this scenario")
            )),
        }
    }

    fn pop3(&mut self, text: &str, caps: Option<&Capabilities>, tls: bool) -> Answer {
        let mut words = text.splitn(2, ' ');
        let command = words.next().unwrap_or_default().to_ascii_uppercase();
        let rest = words.next().unwrap_or_default();
        match command.as_str() {
            "CAPA" => reply(format!(
                "+OK capability list follows\r\n{}.\r\n",
                pop3_caps(caps, tls)
            )),
            "USER" | "PASS" | "NOOP" | "RSET" => reply("+OK\r\n".to_owned()),
            "STAT" => reply("+OK 0 0\r\n".to_owned()),
            "LIST" | "UIDL" => reply("+OK 0 messages\r\n.\r\n".to_owned()),
            "QUIT" => Answer {
                reply: b"+OK bye\r\n".to_vec(),
                problem: None,
                goodbye: true,
                reading: None,
            },
            "AUTH" => {
                let mut args = rest.split(' ');
                if !args
                    .next()
                    .unwrap_or_default()
                    .eq_ignore_ascii_case("PLAIN")
                {
                    return reply("-ERR unsupported mechanism\r\n".to_owned());
                }
                match args.next() {
                    Some(initial) => {
                        let decoded = wire::decode_initial_response(initial.as_bytes());
                        self.plain_response("", decoded.map(ClientResponse::Data))
                    }
                    None => {
                        self.pending_plain = Some(String::new());
                        reply("+ \r\n".to_owned())
                    }
                }
            }
            _ => reply("-ERR not part of this scenario\r\n".to_owned()),
        }
    }

    /// Judges a decoded PLAIN response (or a cancel, or bad base64) and answers it.
    fn plain_response(
        &mut self,
        tag: &str,
        response: Result<ClientResponse, wire::WireError>,
    ) -> Answer {
        let (ok, no) = match self.protocol {
            Protocol::Pop3 => (
                "+OK logged in\r\n".to_owned(),
                "-ERR malformed PLAIN message\r\n".to_owned(),
            ),
            Protocol::Imap => (
                format!("{tag} OK AUTHENTICATE completed\r\n"),
                format!("{tag} NO malformed PLAIN message\r\n"),
            ),
            Protocol::Acap => (
                format!("{tag} OK \"AUTHENTICATE completed\"\r\n"),
                format!("{tag} NO \"malformed PLAIN message\"\r\n"),
            ),
        };
        let message = match response {
            Ok(ClientResponse::Data(bytes)) => bytes,
            Ok(ClientResponse::Cancel) => {
                let cancelled = match self.protocol {
                    Protocol::Pop3 => "-ERR cancelled\r\n".to_owned(),
                    _ => format!("{tag} BAD cancelled\r\n"),
                };
                return reply(cancelled);
            }
            Err(e) => {
                return Answer {
                    reply: no.into_bytes(),
                    problem: Some(format!("the PLAIN response is not valid base64: {e}")),
                    goodbye: false,
                    reading: None,
                };
            }
        };
        // Judged under RFC 4616, the current reading; RFC 2595 §6's stricter ABNF (no
        // CR/LF, 255-octet fields) is named beside it when the two differ.
        let old = plain::parse(Profile::Rfc2595, &message);
        match plain::parse(Profile::Rfc4616, &message) {
            Ok(_) => Answer {
                reading: Some(match old {
                    Ok(_) => "PLAIN message well-formed under RFC 4616 and RFC 2595 §6".to_owned(),
                    Err(e) => format!(
                        "PLAIN message well-formed under RFC 4616 (the current reading), not under RFC 2595 §6: {e}"
                    ),
                }),
                ..reply(ok)
            },
            Err(e) => Answer {
                reply: no.into_bytes(),
                problem: Some(format!(
                    "the client sent a malformed PLAIN message (RFC 4616 reading{}): {e}",
                    if old.is_ok() {
                        "; RFC 2595 §6 accepts it"
                    } else {
                        "; RFC 2595 §6 too"
                    }
                )),
                goodbye: false,
                reading: None,
            },
        }
    }
}

fn reply(text: String) -> Answer {
    reply_bytes(text.into_bytes())
}

fn reply_bytes(reply: Vec<u8>) -> Answer {
    Answer {
        reply,
        problem: None,
        goodbye: false,
        reading: None,
    }
}

/// The IMAP list to advertise: what the scenario advertised in this phase, else the
/// conformant default (STARTTLS and LOGINDISABLED before TLS, AUTH=PLAIN after).
fn imap_caps(caps: Option<&Capabilities>, tls: bool) -> String {
    match caps {
        Some(caps) if !caps.raw().is_empty() => caps.raw().join(" "),
        _ if tls => "IMAP4rev1 AUTH=PLAIN".to_owned(),
        _ => "IMAP4rev1 STARTTLS LOGINDISABLED".to_owned(),
    }
}

/// The POP3 CAPA lines, each ending in CRLF.
fn pop3_caps(caps: Option<&Capabilities>, tls: bool) -> String {
    let (names, mechanisms): (Vec<String>, Vec<String>) = match caps {
        Some(caps) => (
            caps.names()
                .filter(|n| *n != "SASL")
                .map(str::to_owned)
                .collect(),
            caps.sasl_mechanisms().map(str::to_owned).collect(),
        ),
        None if tls => (vec!["USER".to_owned()], vec!["PLAIN".to_owned()]),
        None => (vec!["STLS".to_owned()], Vec::new()),
    };
    let mut out = String::new();
    for name in names {
        out.push_str(&name);
        out.push_str("\r\n");
    }
    if !mechanisms.is_empty() {
        out.push_str(&format!("SASL {}\r\n", mechanisms.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_capability_plain_and_logout() {
        let mut auto = AutoResponder::new(Protocol::Imap);
        let a = auto.answer(b"a1 CAPABILITY", None, false);
        assert_eq!(
            a.reply,
            b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK CAPABILITY completed\r\n"
        );
        assert_eq!(
            auto.answer(b"a2 AUTHENTICATE PLAIN", None, true).reply,
            b"+ \r\n"
        );
        let good = auto.answer(b"AGFsaWNlAHMzY3JldA==", None, true);
        assert_eq!(
            (good.reply.as_slice(), good.problem),
            (&b"a2 OK AUTHENTICATE completed\r\n"[..], None)
        );
        // \0alice\0s3cret\0extra: a third NUL.
        let bad = auto.answer(
            b"a3 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldABleHRyYQ==",
            None,
            true,
        );
        assert!(bad.problem.is_some_and(|p| p.contains("malformed")));
        assert!(auto.answer(b"a4 LOGOUT", None, true).goodbye);
    }

    #[test]
    fn pop3_capa_follows_what_was_advertised() {
        let mut auto = AutoResponder::new(Protocol::Pop3);
        assert_eq!(
            auto.answer(b"CAPA", None, false).reply,
            b"+OK capability list follows\r\nSTLS\r\n.\r\n"
        );
        let mut caps = Capabilities::new();
        caps.insert_name("USER");
        caps.insert_name("SASL");
        caps.insert_sasl("PLAIN");
        assert_eq!(
            auto.answer(b"CAPA", Some(&caps), true).reply,
            b"+OK capability list follows\r\nUSER\r\nSASL PLAIN\r\n.\r\n"
        );
        assert!(auto.answer(b"QUIT", None, true).goodbye);
    }
}
