//! The reference client over real sockets: a conformant session per protocol and
//! transport against the reference server, the certificate profiles, the refusals, the
//! `mailtls peer-client` command, and for every client fault a wire-level demonstration
//! against a small scripted (hostile) server in this file.
//!
//! Each fault's demonstration ([`observe`]) returns named symptoms, as the server saw
//! them on the wire; [`check`] asserts that none shows against the conformant client and
//! all show with the fault switched on. The `match` in `observe` is exhaustive, so a new
//! fault without a demonstration does not compile, and `every_client_fault_has_a_wire_test`
//! checks the per-fault tests cover them all.

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mailtls::certs::profiles::{Acceptance, Minted, Profile};
use mailtls::model::Protocol;
use mailtls::peers::client::{
    ClientError, ClientFault, ClientOptions, Mechanism, Refusal, SessionSummary, run_client,
};
use mailtls::peers::{ServerOptions, spawn_server};
use mailtls::sasl::plain;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The name every certificate is judged against.
const NAME: &str = "mail.example.test";
/// How long the scripted server waits for anything.
const WAIT: Duration = Duration::from_secs(2);
/// The client's timeout in these tests.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);

struct Pki {
    minted: Minted,
    configs: Vec<(Profile, Arc<rustls::ServerConfig>)>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let minted = Minted::new(NAME).unwrap();
        let configs = minted
            .leaves
            .iter()
            .map(|(p, leaf)| (*p, leaf.server_config().unwrap()))
            .collect();
        Pki { minted, configs }
    })
}

fn server_config(profile: Profile) -> Arc<rustls::ServerConfig> {
    pki()
        .configs
        .iter()
        .find(|(p, _)| *p == profile)
        .map(|(_, c)| Arc::clone(c))
        .unwrap()
}

fn client(protocol: Protocol, addr: std::net::SocketAddr) -> ClientOptions {
    ClientOptions::new(
        protocol,
        addr,
        NAME,
        vec![pki().minted.ca.cert_der().clone()],
    )
    .timeout(CLIENT_TIMEOUT)
}

// ---------------------------------------------------------------------------------------
// The conformant client against the reference server
// ---------------------------------------------------------------------------------------

async fn against_reference(
    protocol: Protocol,
    implicit: bool,
    profile: Profile,
    faults: &[ClientFault],
) -> Result<SessionSummary, ClientError> {
    let server =
        spawn_server(ServerOptions::new(protocol, server_config(profile)).implicit(implicit))
            .await
            .unwrap();
    let mut opts = client(protocol, server.addr()).implicit(implicit);
    for fault in faults {
        opts = opts.with_fault(*fault);
    }
    let result = run_client(&opts).await;
    server.shutdown().await;
    result
}

#[tokio::test]
async fn conformant_sessions_against_the_reference_server() {
    for protocol in Protocol::ALL {
        for implicit in [false, true] {
            let what = format!("{protocol} implicit={implicit}");
            let session = against_reference(protocol, implicit, Profile::Valid, &[])
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(session.tls, "{what}");
            assert!(session.close_notify, "{what}");
            assert_eq!(session.mechanism, Some(Mechanism::Plain), "{what}");
            assert!(!session.credentials_in_cleartext, "{what}");
            assert_eq!(session.discarded_plaintext, 0, "{what}");
            let lines: Vec<&str> = session.commands.iter().map(|c| c.line.as_str()).collect();
            let expected: &[&str] = match (protocol, implicit) {
                (Protocol::Imap, false) => &[
                    "A1 STARTTLS",
                    "A2 CAPABILITY",
                    "A3 AUTHENTICATE PLAIN ***",
                    "A4 SELECT INBOX",
                    "A5 LOGOUT",
                ],
                // The greeting inside TLS carries a [CAPABILITY] code: no need to ask.
                (Protocol::Imap, true) => {
                    &["A1 AUTHENTICATE PLAIN ***", "A2 SELECT INBOX", "A3 LOGOUT"]
                }
                // STAT counts the reference server's one message: RETR 1 reads it.
                (Protocol::Pop3, false) => &[
                    "CAPA",
                    "STLS",
                    "CAPA",
                    "AUTH PLAIN ***",
                    "STAT",
                    "RETR 1",
                    "QUIT",
                ],
                (Protocol::Pop3, true) => &["CAPA", "AUTH PLAIN ***", "STAT", "RETR 1", "QUIT"],
                (Protocol::Acap, false) => &[
                    "a1 STARTTLS",
                    "a2 AUTHENTICATE \"PLAIN\" {13+} ***",
                    "a3 NOOP",
                    "a4 LOGOUT",
                ],
                (Protocol::Acap, true) => &[
                    "a1 AUTHENTICATE \"PLAIN\" {13+} ***",
                    "a2 NOOP",
                    "a3 LOGOUT",
                ],
            };
            assert_eq!(lines, expected, "{what}");
            // Only STARTTLS/STLS and capability discovery before TLS (RFC 8314 §5.2).
            for sent in session.commands.iter().filter(|c| !c.tls) {
                assert!(
                    ["STARTTLS", "STLS", "CAPA"]
                        .iter()
                        .any(|w| sent.line.ends_with(w)),
                    "{what}: {} before TLS",
                    sent.line
                );
            }
        }
    }
}

#[tokio::test]
async fn certificate_profiles_are_judged_with_rfc6125_rules() {
    for (profile, _) in &pki().configs {
        let result = against_reference(Protocol::Imap, false, *profile, &[]).await;
        // Where the readings differ, the documented choices: a CN-only certificate is
        // accepted (RFC 6125's CN-ID MAY), the mail domain refused (the reference is the
        // host name the client connected to, RFC 2595 §2.4).
        let acceptance = match (profile.acceptance(), profile) {
            (Acceptance::EitherReading, Profile::CnOnly) => Acceptance::Accept,
            (Acceptance::EitherReading, _) => Acceptance::Reject,
            (acceptance, _) => acceptance,
        };
        match acceptance {
            Acceptance::Accept | Acceptance::EitherReading => {
                assert!(result.is_ok(), "{profile}: {result:?}");
            }
            Acceptance::Reject => match result {
                Err(ClientError::Refused(Refusal::Certificate { reason })) => {
                    assert!(!reason.is_empty());
                }
                other => panic!("{profile}: expected a certificate refusal, got {other:?}"),
            },
        }
    }
}

#[tokio::test]
async fn certificate_faults_accept_exactly_their_class() {
    use ClientFault::*;
    use Profile::*;
    let cases: &[(ClientFault, &[Profile], &[Profile])] = &[
        (
            NoNameCheck,
            &[
                WrongName,
                WildcardParent,
                WildcardTwoLabels,
                PartialWildcard,
                IpOnly,
            ],
            &[SelfSigned, UnknownCa, Expired],
        ),
        (
            OverbroadWildcard,
            &[WildcardParent, WildcardTwoLabels, PartialWildcard],
            &[WrongName, IpOnly, SelfSigned],
        ),
        (
            NoChainCheck,
            &[SelfSigned, UnknownCa, Expired, NotYetValid],
            &[WrongName, PartialWildcard],
        ),
    ];
    for (fault, accepted, refused) in cases {
        for profile in *accepted {
            let result = against_reference(Protocol::Pop3, true, *profile, &[*fault]).await;
            assert!(result.is_ok(), "{fault} {profile}: {result:?}");
        }
        for profile in *refused {
            let result = against_reference(Protocol::Pop3, true, *profile, &[*fault]).await;
            assert!(
                matches!(
                    result,
                    Err(ClientError::Refused(Refusal::Certificate { .. }))
                ),
                "{fault} {profile}: {result:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// A scripted server: says what it is told, records what the client does
// ---------------------------------------------------------------------------------------

/// How the scripted server answers STARTTLS/STLS.
#[derive(Clone, Debug)]
enum Starttls {
    /// The OK (plus [`Fake::inject`] in the same write), then the handshake.
    Ok,
    /// This line instead (`{tag}` is the client's tag).
    Answer(&'static str),
    /// The OK, then this plaintext instead of a ServerHello.
    OkThenPlaintext(&'static str),
    /// The OK, then nothing.
    OkThenSilence,
}

#[derive(Clone, Debug)]
struct Fake {
    protocol: Protocol,
    cert: Profile,
    implicit: bool,
    greeting: String,
    /// IMAP: the atoms of `* CAPABILITY`; POP3: the CAPA lines, `|`-separated. `None`:
    /// the command fails. Before TLS.
    caps: Option<&'static str>,
    /// The same inside TLS.
    caps_tls: Option<&'static str>,
    /// ACAP: the greeting re-issued inside TLS.
    greeting_tls: &'static str,
    starttls: Starttls,
    /// Plaintext written in the same write as the STARTTLS OK.
    inject: &'static str,
    /// The handshake accepts TLS 1.2 only.
    tls12_only: bool,
    /// POP3: STAT counts a message of 1000 octets, and RETR sends half of it, then a FIN
    /// without close_notify.
    truncate_retr: bool,
    /// IMAP: this command (LOGIN, SELECT) is answered NO.
    refuse: Option<&'static str>,
    /// IMAP: when this command arrives inside TLS, the server sends close_notify, keeps
    /// TCP open, and answers it in plaintext.
    drop_tls_at: Option<&'static str>,
}

impl Fake {
    /// A well-behaved server: STARTTLS offered, PLAIN only inside TLS.
    fn new(protocol: Protocol) -> Self {
        let (greeting, caps, caps_tls) = match protocol {
            Protocol::Imap => (
                "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake ready",
                Some("IMAP4rev1 STARTTLS LOGINDISABLED"),
                Some("IMAP4rev1 AUTH=PLAIN"),
            ),
            Protocol::Pop3 => ("+OK fake ready", Some("STLS"), Some("SASL PLAIN|USER")),
            Protocol::Acap => (
                "* ACAP (IMPLEMENTATION \"fake\") (STARTTLS) (SASL)",
                None,
                None,
            ),
        };
        Self {
            protocol,
            cert: Profile::Valid,
            implicit: false,
            greeting: greeting.to_owned(),
            caps,
            caps_tls,
            greeting_tls: "* ACAP (IMPLEMENTATION \"fake\") (SASL \"PLAIN\")",
            starttls: Starttls::Ok,
            inject: "",
            tls12_only: false,
            truncate_retr: false,
            refuse: None,
            drop_tls_at: None,
        }
    }

    fn refuse(mut self, command: &'static str) -> Self {
        self.refuse = Some(command);
        self
    }

    fn drop_tls_at(mut self, command: &'static str) -> Self {
        self.drop_tls_at = Some(command);
        self
    }

    fn tls12_only(mut self) -> Self {
        self.tls12_only = true;
        self
    }

    fn truncate_retr(mut self) -> Self {
        self.truncate_retr = true;
        self
    }

    /// The server configuration the handshake uses.
    fn tls_config(&self) -> Arc<rustls::ServerConfig> {
        if !self.tls12_only {
            return server_config(self.cert);
        }
        let leaf = pki().minted.leaf(self.cert).unwrap();
        leaf.server_config_for(&[&rustls::version::TLS12]).unwrap()
    }

    fn greeting(mut self, greeting: &str) -> Self {
        self.greeting = greeting.to_owned();
        self
    }

    fn caps(mut self, caps: Option<&'static str>) -> Self {
        self.caps = caps;
        self
    }

    fn caps_tls(mut self, caps: Option<&'static str>) -> Self {
        self.caps_tls = caps;
        self
    }

    fn greeting_tls(mut self, greeting: &'static str) -> Self {
        self.greeting_tls = greeting;
        self
    }

    fn starttls(mut self, starttls: Starttls) -> Self {
        self.starttls = starttls;
        self
    }

    fn inject(mut self, inject: &'static str) -> Self {
        self.inject = inject;
        self
    }

    fn cert(mut self, cert: Profile) -> Self {
        self.cert = cert;
        self
    }

    /// The same server on an implicit-TLS port: the greeting is its TLS one.
    fn implicit(mut self) -> Self {
        self.implicit = true;
        match self.protocol {
            Protocol::Imap => {
                self.greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready".to_owned()
            }
            Protocol::Acap => self.greeting = self.greeting_tls.to_owned(),
            Protocol::Pop3 => {}
        }
        self
    }
}

/// How the client ended the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// close_notify, then FIN.
    CloseNotify,
    /// FIN inside TLS without close_notify.
    NoCloseNotify,
    /// FIN on a plaintext connection.
    Fin,
    /// Nothing within [`WAIT`].
    Open,
    /// A reset or a TLS error.
    Error,
}

/// What the scripted server saw.
#[derive(Clone, Debug, Default)]
struct Seen {
    /// Every command line, and whether it came inside TLS.
    lines: Vec<(bool, String)>,
    /// Every PLAIN message, whether it came inside TLS, and whether `sasl::plain` accepts it.
    plain: Vec<(bool, bool)>,
    /// The first octet the client sent after the STARTTLS OK.
    after_ok: Option<u8>,
    /// The first octets (up to 11: record header, handshake header, client_version) the
    /// client sent after the STARTTLS OK.
    hello_prefix: Vec<u8>,
    /// The handshake's outcome, if there was one.
    handshake: Option<Result<(), String>>,
    /// Plaintext octets received where TLS should have been (after a fake OK).
    tail: Vec<u8>,
    /// How the client ended.
    end: Option<End>,
}

impl Seen {
    /// The command names the client sent, upper-cased, in cleartext or inside TLS.
    fn commands(&self, protocol: Protocol, tls: bool) -> Vec<String> {
        let skip = usize::from(protocol.is_tagged());
        self.lines
            .iter()
            .filter(|(t, _)| *t == tls)
            .filter_map(|(_, line)| line.split(' ').nth(skip))
            .map(str::to_ascii_uppercase)
            .collect()
    }

    fn sent(&self, protocol: Protocol, tls: bool, command: &str) -> bool {
        self.commands(protocol, tls).iter().any(|c| c == command)
    }

    /// Whether any credential-carrying command came in cleartext or inside TLS.
    fn credentials(&self, protocol: Protocol, tls: bool) -> bool {
        ["LOGIN", "AUTHENTICATE", "AUTH", "USER", "PASS"]
            .iter()
            .any(|c| self.sent(protocol, tls, c))
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

struct FakeConn {
    io: Io,
    buf: Vec<u8>,
}

impl FakeConn {
    fn is_tls(&self) -> bool {
        matches!(self.io, Io::Tls(_))
    }

    async fn write(&mut self, data: &str) -> io::Result<()> {
        match &mut self.io {
            Io::Plain(s) => {
                s.write_all(data.as_bytes()).await?;
                s.flush().await
            }
            Io::Tls(s) => {
                s.write_all(data.as_bytes()).await?;
                s.flush().await
            }
            Io::Gone => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let read = async {
            match &mut self.io {
                Io::Plain(s) => s.read(&mut chunk).await,
                Io::Tls(s) => s.read(&mut chunk).await,
                Io::Gone => Ok(0),
            }
        };
        let n = tokio::time::timeout(WAIT, read)
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next line without its line end; `None` at the end of the stream.
    async fn line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(lf) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=lf).collect();
                let text = String::from_utf8_lossy(&line);
                return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
            }
            if self.buf.len() > 64 * 1024 {
                return Err(io::ErrorKind::InvalidData.into());
            }
            if self.fill().await? == 0 {
                return Ok(None);
            }
        }
    }

    async fn exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Up to `n` octets the client sends next, without taking them.
    async fn peek_prefix(&mut self, n: usize) -> Vec<u8> {
        let Io::Plain(tcp) = &mut self.io else {
            return Vec::new();
        };
        let mut buf = vec![0u8; n];
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, tcp.peek(&mut buf)).await {
                Ok(Ok(got)) if got >= n => return buf,
                Ok(Ok(got)) if got > 0 => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    if tokio::time::Instant::now() >= deadline {
                        buf.truncate(got);
                        return buf;
                    }
                }
                _ => return Vec::new(),
            }
        }
    }

    /// A TCP FIN inside TLS without close_notify: a truncation.
    async fn truncate(&mut self) {
        if let Io::Tls(tls) = &mut self.io {
            let _ = tls.flush().await;
            let _ = tls.get_mut().0.shutdown().await;
        }
    }

    /// The first octet the client sends next, without taking it.
    async fn peek_first(&mut self) -> Option<u8> {
        let Io::Plain(tcp) = &mut self.io else {
            return None;
        };
        let mut one = [0u8; 1];
        match tokio::time::timeout(WAIT, tcp.peek(&mut one)).await {
            Ok(Ok(1)) => Some(one[0]),
            _ => None,
        }
    }

    async fn accept_tls(&mut self, config: Arc<rustls::ServerConfig>) -> Result<(), String> {
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Gone) else {
            return Err("not plaintext".to_owned());
        };
        self.buf.clear();
        let accept = TlsAcceptor::from(config).accept(tcp);
        match tokio::time::timeout(WAIT, accept).await {
            Ok(Ok(tls)) => {
                self.io = Io::Tls(Box::new(tls));
                Ok(())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    }

    /// Ends TLS with close_notify but keeps the TCP connection, now plaintext.
    async fn drop_tls(&mut self) -> io::Result<()> {
        if let Io::Tls(tls) = &mut self.io {
            tls.get_mut().1.send_close_notify();
            tls.flush().await?;
            // The alert alone first: what follows must not sit in the client's TLS buffer.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Io::Tls(tls) = std::mem::replace(&mut self.io, Io::Gone) {
            let (tcp, _) = tls.into_inner();
            self.io = Io::Plain(tcp);
        }
        Ok(())
    }

    /// Reads until the client closes; what arrives on the way goes to `tail`.
    async fn end(&mut self, tail: &mut Vec<u8>) -> End {
        loop {
            let tls = self.is_tls();
            match self.fill().await {
                Ok(0) if tls => return End::CloseNotify,
                Ok(0) => return End::Fin,
                Ok(_) => tail.append(&mut self.buf),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return End::Open,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return End::NoCloseNotify,
                Err(_) => return End::Error,
            }
        }
    }
}

/// Whether the session goes on after a command.
enum Flow {
    Continue,
    Stop,
}

async fn serve(fake: Fake, tcp: TcpStream) -> Seen {
    let mut seen = Seen::default();
    let mut conn = FakeConn {
        io: Io::Plain(tcp),
        buf: Vec::new(),
    };
    let _ = session(&fake, &mut conn, &mut seen).await;
    if seen.end.is_none() {
        seen.end = Some(conn.end(&mut seen.tail).await);
    }
    seen
}

async fn session(fake: &Fake, conn: &mut FakeConn, seen: &mut Seen) -> io::Result<()> {
    if fake.implicit {
        let result = conn.accept_tls(fake.tls_config()).await;
        let ok = result.is_ok();
        seen.handshake = Some(result);
        if !ok {
            return Ok(());
        }
    }
    conn.write(&format!("{}\r\n", fake.greeting)).await?;
    while let Some(line) = conn.line().await? {
        seen.lines.push((conn.is_tls(), line.clone()));
        let flow = match fake.protocol {
            Protocol::Imap => imap_command(fake, conn, seen, &line).await?,
            Protocol::Pop3 => pop3_command(fake, conn, seen, &line).await?,
            Protocol::Acap => acap_command(fake, conn, seen, &line).await?,
        };
        if let Flow::Stop = flow {
            return Ok(());
        }
    }
    Ok(())
}

fn caps_now(fake: &Fake, tls: bool) -> Option<&'static str> {
    if tls { fake.caps_tls } else { fake.caps }
}

fn record_plain(seen: &mut Seen, tls: bool, message: &[u8]) {
    let ok = plain::parse(plain::Profile::Rfc4616, message).is_ok()
        && plain::parse(plain::Profile::Rfc2595, message).is_ok();
    seen.plain.push((tls, ok));
}

/// A PLAIN message in base64 (`=` is empty), from the command line or the next line.
async fn base64_plain(
    conn: &mut FakeConn,
    seen: &mut Seen,
    initial: Option<&str>,
    challenge: &str,
) -> io::Result<()> {
    let text = match initial {
        Some(text) => text.to_owned(),
        None => {
            conn.write(challenge).await?;
            let line = conn.line().await?.unwrap_or_default();
            // Recorded: a client that does not wait for the `+` sends a command here.
            seen.lines.push((conn.is_tls(), line.clone()));
            line
        }
    };
    let message = if text == "=" {
        Vec::new()
    } else {
        STANDARD.decode(text.as_bytes()).unwrap_or_default()
    };
    record_plain(seen, conn.is_tls(), &message);
    Ok(())
}

/// STARTTLS/STLS as the fake is told; `ok` is the protocol's OK line.
async fn starttls(
    fake: &Fake,
    conn: &mut FakeConn,
    seen: &mut Seen,
    ok: String,
    tag: &str,
) -> io::Result<Flow> {
    if let Starttls::Answer(line) = &fake.starttls {
        conn.write(&format!("{}\r\n", line.replace("{tag}", tag)))
            .await?;
        return Ok(Flow::Continue);
    }
    conn.write(&format!("{ok}\r\n{}", fake.inject)).await?;
    seen.hello_prefix = conn.peek_prefix(11).await;
    seen.after_ok = conn.peek_first().await;
    match &fake.starttls {
        Starttls::OkThenPlaintext(text) => {
            conn.write(&format!("{text}\r\n")).await?;
            seen.end = Some(conn.end(&mut seen.tail).await);
            Ok(Flow::Stop)
        }
        Starttls::OkThenSilence => {
            seen.end = Some(conn.end(&mut seen.tail).await);
            Ok(Flow::Stop)
        }
        _ => {
            let result = conn.accept_tls(fake.tls_config()).await;
            let ok = result.is_ok();
            seen.handshake = Some(result);
            if !ok {
                return Ok(Flow::Stop);
            }
            if fake.protocol == Protocol::Acap {
                conn.write(&format!("{}\r\n", fake.greeting_tls)).await?;
            }
            Ok(Flow::Continue)
        }
    }
}

async fn imap_command(
    fake: &Fake,
    conn: &mut FakeConn,
    seen: &mut Seen,
    line: &str,
) -> io::Result<Flow> {
    let mut words = line.splitn(3, ' ');
    let tag = words.next().unwrap_or_default().to_owned();
    let command = words.next().unwrap_or_default().to_ascii_uppercase();
    let rest = words.next().unwrap_or_default();
    if fake.refuse == Some(command.as_str()) {
        conn.write(&format!("{tag} NO {command} refused\r\n"))
            .await?;
        return Ok(Flow::Continue);
    }
    if conn.is_tls() && fake.drop_tls_at == Some(command.as_str()) {
        conn.drop_tls().await?;
        conn.write(&format!("* OK [ALERT] plaintext now\r\n{tag} OK done\r\n"))
            .await?;
        return Ok(Flow::Continue);
    }
    let reply = match command.as_str() {
        "CAPABILITY" => match caps_now(fake, conn.is_tls()) {
            Some(caps) => format!("* CAPABILITY {caps}\r\n{tag} OK CAPABILITY done\r\n"),
            None => format!("{tag} BAD unknown command\r\n"),
        },
        "STARTTLS" => {
            let ok = format!("{tag} OK Begin TLS negotiation now");
            return starttls(fake, conn, seen, ok, &tag).await;
        }
        "AUTHENTICATE" => {
            let initial = rest.split(' ').nth(1);
            base64_plain(conn, seen, initial, "+ \r\n").await?;
            format!("{tag} OK AUTHENTICATE done\r\n")
        }
        "LOGIN" => format!("{tag} OK LOGIN done\r\n"),
        "SELECT" => format!("* 1 EXISTS\r\n{tag} OK [READ-WRITE] SELECT done\r\n"),
        "NOOP" => format!("{tag} OK NOOP done\r\n"),
        "LOGOUT" => {
            conn.write(&format!(
                "* BYE fake logging out\r\n{tag} OK LOGOUT done\r\n"
            ))
            .await?;
            seen.end = Some(conn.end(&mut seen.tail).await);
            return Ok(Flow::Stop);
        }
        _ => format!("{tag} BAD unknown command\r\n"),
    };
    conn.write(&reply).await?;
    Ok(Flow::Continue)
}

async fn pop3_command(
    fake: &Fake,
    conn: &mut FakeConn,
    seen: &mut Seen,
    line: &str,
) -> io::Result<Flow> {
    let mut words = line.splitn(2, ' ');
    let command = words.next().unwrap_or_default().to_ascii_uppercase();
    let rest = words.next().unwrap_or_default();
    let reply = match command.as_str() {
        "CAPA" => match caps_now(fake, conn.is_tls()) {
            Some(caps) => {
                let mut reply = "+OK capability list follows\r\n".to_owned();
                for line in caps.split('|') {
                    reply.push_str(line);
                    reply.push_str("\r\n");
                }
                reply + ".\r\n"
            }
            None => "-ERR unknown command\r\n".to_owned(),
        },
        "STLS" => {
            return starttls(fake, conn, seen, "+OK Begin TLS negotiation".to_owned(), "").await;
        }
        "AUTH" => {
            let initial = rest.split(' ').nth(1);
            base64_plain(conn, seen, initial, "+ \r\n").await?;
            "+OK logged in\r\n".to_owned()
        }
        "USER" | "PASS" => "+OK\r\n".to_owned(),
        "STAT" if fake.truncate_retr => "+OK 1 1000\r\n".to_owned(),
        "STAT" => "+OK 1 100\r\n".to_owned(),
        "RETR" if fake.truncate_retr => {
            conn.write("+OK 1000 octets\r\nSubject: half\r\n\r\nthe first half of a message")
                .await?;
            conn.truncate().await;
            seen.end = Some(conn.end(&mut seen.tail).await);
            return Ok(Flow::Stop);
        }
        "QUIT" => {
            conn.write("+OK fake signing off\r\n").await?;
            seen.end = Some(conn.end(&mut seen.tail).await);
            return Ok(Flow::Stop);
        }
        _ => "-ERR unknown command\r\n".to_owned(),
    };
    conn.write(&reply).await?;
    Ok(Flow::Continue)
}

async fn acap_command(
    fake: &Fake,
    conn: &mut FakeConn,
    seen: &mut Seen,
    line: &str,
) -> io::Result<Flow> {
    let mut words = line.splitn(3, ' ');
    let tag = words.next().unwrap_or_default().to_owned();
    let command = words.next().unwrap_or_default().to_ascii_uppercase();
    let rest = words.next().unwrap_or_default();
    let reply = match command.as_str() {
        "STARTTLS" => {
            let ok = format!("{tag} OK \"Begin TLS negotiation now\"");
            return starttls(fake, conn, seen, ok, &tag).await;
        }
        "AUTHENTICATE" => {
            // `"PLAIN" {n+}` then n octets and the end of the line.
            let size = rest
                .rsplit_once('{')
                .and_then(|(_, s)| s.trim_end_matches(['}', '+']).parse::<usize>().ok());
            if let Some(size) = size {
                if !rest.ends_with("+}") {
                    conn.write("+ \"go ahead\"\r\n").await?;
                }
                let message = conn.exact(size).await?;
                let _ = conn.line().await?;
                record_plain(seen, conn.is_tls(), &message);
            }
            format!("{tag} OK \"AUTHENTICATE done\"\r\n")
        }
        "NOOP" => format!("{tag} OK \"NOOP done\"\r\n"),
        "LOGOUT" => {
            conn.write(&format!(
                "* BYE \"fake logging out\"\r\n{tag} OK \"LOGOUT done\"\r\n"
            ))
            .await?;
            seen.end = Some(conn.end(&mut seen.tail).await);
            return Ok(Flow::Stop);
        }
        _ => format!("{tag} BAD \"unknown command\"\r\n"),
    };
    conn.write(&reply).await?;
    Ok(Flow::Continue)
}

/// One session of the reference client (with `faults`) against `fake`.
async fn exchange(
    fake: &Fake,
    faults: &[ClientFault],
    tweak: impl FnOnce(ClientOptions) -> ClientOptions,
) -> (Result<SessionSummary, ClientError>, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = fake.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        serve(script, tcp).await
    });
    let mut opts = client(fake.protocol, addr).implicit(fake.implicit);
    for fault in faults {
        opts = opts.with_fault(*fault);
    }
    let result = run_client(&tweak(opts)).await;
    let seen = tokio::time::timeout(WAIT * 2, server)
        .await
        .expect("the scripted server ends")
        .unwrap();
    (result, seen)
}

async fn run(fake: &Fake, faults: &[ClientFault]) -> (Result<SessionSummary, ClientError>, Seen) {
    exchange(fake, faults, |o| o).await
}

#[tokio::test]
async fn the_scripted_server_sees_a_conformant_session() {
    for protocol in Protocol::ALL {
        for fake in [Fake::new(protocol), Fake::new(protocol).implicit()] {
            let (result, seen) = run(&fake, &[]).await;
            let session = result.unwrap_or_else(|e| panic!("{protocol}: {e}"));
            assert!(session.tls && session.close_notify, "{protocol}");
            assert_eq!(seen.end, Some(End::CloseNotify), "{protocol}");
            assert_eq!(seen.plain, [(true, true)], "{protocol}");
            assert!(!seen.credentials(protocol, false), "{protocol}");
            if !fake.implicit {
                assert_eq!(seen.after_ok, Some(0x16), "{protocol}: ClientHello first");
            }
        }
    }
}

#[tokio::test]
async fn stripped_or_refused_starttls_stops_before_credentials() {
    use Protocol::*;
    let cases: Vec<(&str, Fake)> = vec![
        (
            "imap no STARTTLS",
            Fake::new(Imap).greeting("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] ready"),
        ),
        (
            "imap STARTTLS NO",
            Fake::new(Imap).starttls(Starttls::Answer("{tag} NO do not begin TLS now")),
        ),
        (
            "imap STARTTLS BAD",
            Fake::new(Imap).starttls(Starttls::Answer("{tag} BAD not supported")),
        ),
        (
            "imap STARTTLS continuation",
            Fake::new(Imap).starttls(Starttls::Answer("+ continue with something")),
        ),
        (
            "imap STARTTLS unknown status",
            Fake::new(Imap).starttls(Starttls::Answer("{tag} XYZZY something")),
        ),
        (
            "imap STARTTLS BYE",
            Fake::new(Imap).starttls(Starttls::Answer("* BYE go away")),
        ),
        (
            "imap CAPABILITY fails",
            Fake::new(Imap).greeting("* OK ready").caps(None),
        ),
        (
            "pop3 no STLS",
            Fake::new(Pop3).caps(Some("TOP|USER|SASL PLAIN")),
        ),
        (
            "pop3 STLS -ERR",
            Fake::new(Pop3).starttls(Starttls::Answer("-ERR [SYS/PERM] perm alert")),
        ),
        ("pop3 CAPA -ERR", Fake::new(Pop3).caps(None)),
        (
            "acap no STARTTLS",
            Fake::new(Acap).greeting("* ACAP (IMPLEMENTATION \"fake\") (SASL \"PLAIN\")"),
        ),
        (
            "acap STARTTLS NO",
            Fake::new(Acap).starttls(Starttls::Answer("{tag} NO \"not now\"")),
        ),
    ];
    for (what, fake) in cases {
        let (result, seen) = run(&fake, &[]).await;
        assert!(
            matches!(
                result,
                Err(ClientError::Refused(
                    Refusal::StarttlsNotOffered { .. } | Refusal::StarttlsRefused { .. }
                ))
            ),
            "{what}: {result:?}"
        );
        assert!(!seen.credentials(fake.protocol, false), "{what}: {seen:?}");
        assert!(seen.handshake.is_none(), "{what}");
        let last = seen.commands(fake.protocol, false).pop();
        let goodbye = if fake.protocol == Pop3 {
            "QUIT"
        } else {
            "LOGOUT"
        };
        if what.contains("continuation") {
            continue;
        }
        assert_eq!(last.as_deref(), Some(goodbye), "{what}: {seen:?}");
    }
}

#[tokio::test]
async fn a_failed_or_silent_handshake_never_falls_back_to_plaintext() {
    for protocol in Protocol::ALL {
        let fake = Fake::new(protocol).starttls(Starttls::OkThenPlaintext("* OK still here"));
        let (result, seen) = run(&fake, &[]).await;
        assert!(
            matches!(
                result,
                Err(ClientError::Refused(Refusal::HandshakeFailed { .. }))
            ),
            "{protocol}: {result:?}"
        );
        assert_eq!(seen.after_ok, Some(0x16), "{protocol}");
        let tail = String::from_utf8_lossy(&seen.tail);
        assert!(
            !tail.contains("LOGIN") && !tail.contains("AUTH"),
            "{protocol}: {tail}"
        );

        let fake = Fake::new(protocol).starttls(Starttls::OkThenSilence);
        let started = std::time::Instant::now();
        let (result, _) = exchange(&fake, &[], |o| o.timeout(Duration::from_millis(150))).await;
        assert!(
            matches!(
                result,
                Err(ClientError::Refused(Refusal::HandshakeFailed { .. }))
            ),
            "{protocol}: {result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{protocol}");
    }
}

#[tokio::test]
async fn injected_plaintext_after_the_ok_is_discarded() {
    let injected = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n";
    let fake = Fake::new(Protocol::Imap).inject(injected);
    let (result, seen) = run(&fake, &[]).await;
    let session = result.unwrap();
    assert_eq!(session.discarded_plaintext, injected.len());
    assert!(seen.sent(Protocol::Imap, true, "CAPABILITY"));
}

#[tokio::test]
async fn opportunistic_profile_goes_on_in_cleartext() {
    let fake = Fake::new(Protocol::Imap).greeting("* OK [CAPABILITY IMAP4rev1] no TLS here");
    let (result, seen) = exchange(&fake, &[], |o| o.require_tls(false)).await;
    let session = result.unwrap();
    assert!(!session.tls && session.credentials_in_cleartext);
    assert_eq!(session.mechanism, Some(Mechanism::Login));
    assert!(seen.sent(Protocol::Imap, false, "LOGIN"));
}

#[tokio::test]
async fn hostile_input_ends_the_session_without_a_panic() {
    let cases = [
        (Protocol::Imap, "1Gdo00V4 wFaIW2WP"),
        (Protocol::Imap, "* BYE go away"),
        (Protocol::Imap, "A1 OK tagged greeting"),
        (Protocol::Pop3, "-ERR POP3 server not ready"),
        (Protocol::Acap, "* OK \"not an ACAP greeting\""),
    ];
    for (protocol, greeting) in cases {
        let (result, seen) = run(&Fake::new(protocol).greeting(greeting), &[]).await;
        assert!(
            matches!(result, Err(ClientError::Protocol(_))),
            "{greeting}: {result:?}"
        );
        assert!(seen.lines.is_empty(), "{greeting}: {seen:?}");
    }
    // A completion for a command not yet sent (CVE-2026-42246): a protocol error.
    let fake = Fake::new(Protocol::Imap)
        .greeting("* OK ready")
        .caps(Some("IMAP4rev1 STARTTLS\r\nA2 OK begin TLS now"));
    let (result, seen) = run(&fake, &[]).await;
    assert!(
        matches!(result, Err(ClientError::Protocol(_))),
        "{result:?}"
    );
    assert!(!seen.credentials(Protocol::Imap, false));
}

#[tokio::test]
async fn a_trickling_server_cannot_keep_the_session_alive() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let _ = tcp.write_all(b"* OK ").await;
        // One octet every 10 ms, never a line end: each read succeeds in time.
        for _ in 0..300 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if tcp.write_all(b"x").await.is_err() {
                break;
            }
        }
    });
    let started = std::time::Instant::now();
    let opts = client(Protocol::Imap, addr).timeout(Duration::from_millis(30));
    let result = run_client(&opts).await;
    assert!(
        matches!(result, Err(ClientError::Timeout { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    server.abort();
}

// ---------------------------------------------------------------------------------------
// One demonstration per client fault
// ---------------------------------------------------------------------------------------

type Symptoms = Vec<(String, bool)>;

fn symptom(symptoms: &mut Symptoms, what: impl Into<String>, shows: bool) {
    symptoms.push((what.into(), shows));
}

/// The scripted server's view of the fault's symptoms, with the fault `on` or not.
async fn observe(fault: ClientFault, on: bool) -> Symptoms {
    use Protocol::*;
    let faults: &[ClientFault] = if on { &[fault] } else { &[] };
    let mut s = Symptoms::new();
    match fault {
        ClientFault::NoNameCheck => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p).cert(Profile::WrongName), faults).await;
                let accepted = matches!(seen.handshake, Some(Ok(())));
                symptom(
                    &mut s,
                    format!("{p}: other.example.test accepted"),
                    accepted,
                );
                let creds = seen.credentials(p, true);
                symptom(
                    &mut s,
                    format!("{p}: credentials to other.example.test"),
                    creds,
                );
            }
        }
        ClientFault::OverbroadWildcard => {
            for profile in [
                Profile::WildcardParent,
                Profile::WildcardTwoLabels,
                Profile::PartialWildcard,
            ] {
                let (_, seen) = run(&Fake::new(Imap).cert(profile), faults).await;
                let creds = seen.credentials(Imap, true);
                symptom(
                    &mut s,
                    format!("{profile} accepted, credentials sent"),
                    creds,
                );
            }
        }
        ClientFault::NoChainCheck => {
            for profile in [Profile::SelfSigned, Profile::UnknownCa, Profile::Expired] {
                let (_, seen) = run(&Fake::new(Pop3).cert(profile), faults).await;
                let creds = seen.credentials(Pop3, true);
                symptom(
                    &mut s,
                    format!("{profile} accepted, credentials sent"),
                    creds,
                );
            }
        }
        ClientFault::StaleCapabilities => {
            let imap = Fake::new(Imap)
                .greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready")
                .caps_tls(Some("IMAP4rev1 AUTH=SCRAM-SHA-256 LOGINDISABLED"));
            let (_, seen) = run(&imap, faults).await;
            symptom(
                &mut s,
                "imap: no CAPABILITY inside TLS",
                !seen.sent(Imap, true, "CAPABILITY"),
            );
            symptom(
                &mut s,
                "imap: pre-TLS AUTH=PLAIN used",
                seen.sent(Imap, true, "AUTHENTICATE"),
            );
            let pop3 = Fake::new(Pop3)
                .caps(Some("STLS|SASL PLAIN|USER"))
                .caps_tls(Some("SASL SCRAM-SHA-256"));
            let (_, seen) = run(&pop3, faults).await;
            symptom(
                &mut s,
                "pop3: no CAPA inside TLS",
                !seen.sent(Pop3, true, "CAPA"),
            );
            symptom(
                &mut s,
                "pop3: pre-TLS SASL PLAIN used",
                seen.credentials(Pop3, true),
            );
            let acap = Fake::new(Acap)
                .greeting("* ACAP (STARTTLS) (SASL \"PLAIN\")")
                .greeting_tls("* ACAP (SASL \"SCRAM-SHA-256\")");
            let (_, seen) = run(&acap, faults).await;
            let used = seen.sent(Acap, true, "AUTHENTICATE");
            symptom(
                &mut s,
                "acap: pre-TLS PLAIN used despite the new greeting",
                used,
            );
        }
        ClientFault::LoginDespiteLogindisabled => {
            let fake = Fake::new(Imap).caps_tls(Some("IMAP4rev1 LOGINDISABLED"));
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "LOGIN under LOGINDISABLED",
                seen.sent(Imap, true, "LOGIN"),
            );
        }
        ClientFault::ActsOnInjectedPlaintext => {
            let imap = Fake::new(Imap)
                .inject("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n")
                .caps_tls(Some("IMAP4rev1 AUTH=SCRAM-SHA-256 LOGINDISABLED"));
            let (_, seen) = run(&imap, faults).await;
            let used = seen.sent(Imap, true, "AUTHENTICATE");
            symptom(&mut s, "imap: injected AUTH=PLAIN used inside TLS", used);
            // EAST B_1: a capability list and the completion of the next command.
            let imap = Fake::new(Imap)
                .inject("* CAPABILITY IMAP4rev1 AUTH=PLAIN X-INJECTED-7F3A\r\nA2 OK capability done\r\n")
                .caps_tls(Some("IMAP4rev1 AUTH=SCRAM-SHA-256 LOGINDISABLED"));
            let (_, seen) = run(&imap, faults).await;
            let early = seen.sent(Imap, true, "SELECT");
            symptom(
                &mut s,
                "imap: injected A2 OK taken as the AUTHENTICATE result",
                early,
            );
            let pop3 = Fake::new(Pop3)
                .inject("+OK\r\nSASL PLAIN\r\n.\r\n")
                .caps_tls(Some("SASL SCRAM-SHA-256"));
            let (_, seen) = run(&pop3, faults).await;
            symptom(
                &mut s,
                "pop3: injected SASL PLAIN used inside TLS",
                seen.sent(Pop3, true, "AUTH"),
            );
            let acap = Fake::new(Acap)
                .inject("* ACAP (SASL \"PLAIN\")\r\n")
                .greeting_tls("* ACAP (SASL \"SCRAM-SHA-256\")");
            let (_, seen) = run(&acap, faults).await;
            let used = seen.sent(Acap, true, "AUTHENTICATE");
            symptom(&mut s, "acap: injected greeting used inside TLS", used);
        }
        ClientFault::ContinuesWithoutStarttls => {
            let cases = [
                Fake::new(Imap).greeting("* OK [CAPABILITY IMAP4rev1] no STARTTLS"),
                Fake::new(Imap)
                    .greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
                    .starttls(Starttls::Answer("{tag} NO do not begin TLS now")),
                Fake::new(Imap)
                    .greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
                    .starttls(Starttls::Answer("{tag} BAD not supported")),
                Fake::new(Imap)
                    .greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
                    .starttls(Starttls::Answer("{tag} XYZZY something")),
                Fake::new(Imap)
                    .greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
                    .starttls(Starttls::Answer("* BYE go away")),
                Fake::new(Pop3).caps(Some("TOP|USER")),
                Fake::new(Pop3)
                    .caps(Some("STLS|USER"))
                    .starttls(Starttls::Answer("-ERR STARTTLS not supported")),
                Fake::new(Acap).greeting("* ACAP (SASL \"PLAIN\")"),
            ];
            for fake in cases {
                let (_, seen) = run(&fake, faults).await;
                let what = format!(
                    "{}: credentials in cleartext after `{}`",
                    fake.protocol, fake.greeting
                );
                symptom(&mut s, what, seen.credentials(fake.protocol, false));
            }
        }
        ClientFault::NoCloseNotify => {
            for p in Protocol::ALL {
                for fake in [Fake::new(p), Fake::new(p).implicit()] {
                    let (_, seen) = run(&fake, faults).await;
                    let what = format!("{p} implicit={}: FIN without close_notify", fake.implicit);
                    symptom(&mut s, what, seen.end == Some(End::NoCloseNotify));
                }
            }
        }
        ClientFault::AcceptsCleartextPreauth => {
            for greeting in [
                "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] IMAP server ready.",
                "* PREAUTH IMAP server ready.",
            ] {
                let (_, seen) = run(&Fake::new(Imap).greeting(greeting), faults).await;
                symptom(
                    &mut s,
                    format!("SELECT in cleartext after `{greeting}`"),
                    seen.sent(Imap, false, "SELECT"),
                );
                symptom(
                    &mut s,
                    format!("anything sent after `{greeting}`"),
                    !seen.lines.is_empty(),
                );
            }
        }
        ClientFault::PlainInCleartext => {
            let cases = [
                Fake::new(Imap).greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready"),
                Fake::new(Pop3).caps(Some("STLS|SASL PLAIN")),
                Fake::new(Acap).greeting("* ACAP (STARTTLS) (SASL \"PLAIN\")"),
            ];
            for fake in cases {
                let (_, seen) = run(&fake, faults).await;
                let cleartext = seen.plain.iter().any(|(tls, _)| !tls);
                symptom(
                    &mut s,
                    format!("{}: PLAIN before TLS", fake.protocol),
                    cleartext,
                );
            }
        }
        ClientFault::MalformedPlain => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p), faults).await;
                let malformed = seen.plain.iter().any(|(_, ok)| !ok);
                symptom(
                    &mut s,
                    format!("{p}: a PLAIN message sasl::plain refuses"),
                    malformed,
                );
            }
        }
        ClientFault::SendsBeforeHandshake => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p), faults).await;
                let first = seen.after_ok;
                symptom(
                    &mut s,
                    format!("{p}: plaintext ({first:?}) before the ClientHello"),
                    first.is_some_and(|b| b != 0x16),
                );
            }
        }
        ClientFault::PlaintextAfterHandshakeFailure => {
            for (p, login) in [(Imap, " LOGIN "), (Pop3, "USER "), (Acap, " AUTHENTICATE ")] {
                for starttls in [
                    Starttls::OkThenPlaintext("* OK still here"),
                    Starttls::OkThenSilence,
                ] {
                    let fake = Fake::new(p).starttls(starttls.clone());
                    let quick = |o: ClientOptions| o.timeout(Duration::from_millis(300));
                    let (_, seen) = exchange(&fake, faults, quick).await;
                    let tail = String::from_utf8_lossy(&seen.tail);
                    symptom(
                        &mut s,
                        format!("{p} {starttls:?}: `{}` in cleartext", login.trim()),
                        tail.contains(login),
                    );
                }
            }
        }
        ClientFault::AcceptsTruncation => {
            let (result, seen) = run(&Fake::new(Pop3).truncate_retr(), faults).await;
            symptom(
                &mut s,
                "pop3: a RETR cut by a FIN without close_notify ends in success",
                result.is_ok() && seen.sent(Pop3, true, "RETR"),
            );
        }
        ClientFault::Tls13Only => {
            for p in Protocol::ALL {
                for fake in [
                    Fake::new(p).tls12_only(),
                    Fake::new(p).tls12_only().implicit(),
                ] {
                    let (_, seen) = run(&fake, faults).await;
                    let failed = matches!(seen.handshake, Some(Err(_)));
                    symptom(
                        &mut s,
                        format!(
                            "{p} implicit={}: no handshake with a TLS 1.2 server",
                            fake.implicit
                        ),
                        failed,
                    );
                }
            }
        }
        ClientFault::CnOverSan => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p).cert(Profile::CnNameSanOther), faults).await;
                symptom(
                    &mut s,
                    format!("{p}: credentials where only the CN names the host"),
                    seen.credentials(p, true),
                );
                let (_, seen) = run(&Fake::new(p).cert(Profile::SanNameCnOther), faults).await;
                symptom(
                    &mut s,
                    format!("{p}: the SAN naming the host refused for its CN"),
                    !seen.credentials(p, true),
                );
            }
        }
        ClientFault::CaseSensitiveNames => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p).cert(Profile::MixedCase), faults).await;
                symptom(
                    &mut s,
                    format!("{p}: MAIL.Example.TEST refused"),
                    matches!(seen.handshake, Some(Err(_))) && !seen.credentials(p, true),
                );
            }
        }
        ClientFault::AcceptsUriSan => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p).cert(Profile::UriOnly), faults).await;
                symptom(
                    &mut s,
                    format!("{p}: credentials to a certificate with URI SANs only"),
                    seen.credentials(p, true),
                );
            }
        }
        ClientFault::IgnoresErrGreeting => {
            let fake = Fake::new(Pop3).greeting("-ERR POP3 server ready.");
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "pop3: commands after a -ERR greeting",
                !seen.lines.is_empty(),
            );
        }
        ClientFault::TrustsCleartextListing => {
            let fake = Fake::new(Pop3).greeting("+OK 2 messages\r\n1 120\r\n2 200\r\n.");
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "pop3: RETR inside TLS without STAT there",
                seen.sent(Pop3, true, "RETR") && !seen.sent(Pop3, true, "STAT"),
            );
        }
        ClientFault::OffersOldTls => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p), faults).await;
                let version = seen.hello_prefix.get(9..11).map(<[u8]>::to_vec);
                symptom(
                    &mut s,
                    format!("{p}: a TLS 1.0 ClientHello ({version:02x?})"),
                    version.as_deref() == Some(&[3, 1][..]),
                );
            }
        }
        ClientFault::Sslv2Hello => {
            for p in Protocol::ALL {
                let (_, seen) = run(&Fake::new(p), faults).await;
                symptom(
                    &mut s,
                    format!("{p}: an SSL 2.0 CLIENT-HELLO ({:?})", seen.after_ok),
                    seen.after_ok == Some(0x80),
                );
            }
        }
        ClientFault::IgnoresInvalidGreeting => {
            for greeting in [
                "1Gdo00V4 wFaIW2WP",
                "* BAD fake greeting",
                "* NO fake greeting",
                "* BYE fake greeting",
                "A1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] tagged greeting",
            ] {
                let (_, seen) = run(&Fake::new(Imap).greeting(greeting), faults).await;
                symptom(
                    &mut s,
                    format!("credentials in cleartext after `{greeting}`"),
                    seen.credentials(Imap, false),
                );
            }
        }
        ClientFault::AcceptsEarlyCompletion => {
            // `A2 OK` arrives with the CAPABILITY answer; the STARTTLS gets no answer.
            let fake = Fake::new(Imap)
                .greeting("* OK fake ready")
                .caps(Some(
                    "IMAP4rev1 STARTTLS LOGINDISABLED\r\nA2 OK begin TLS now",
                ))
                .starttls(Starttls::Answer("* OK thinking about it"));
            let (_, seen) = run(&fake, faults).await;
            let hello = seen.lines.iter().any(|(_, l)| l.starts_with('\u{16}'));
            symptom(
                &mut s,
                "a ClientHello on the early `A2 OK`, before STARTTLS was answered",
                hello,
            );
        }
        ClientFault::NoHandshakeTimeout => {
            let fake = Fake::new(Imap).starttls(Starttls::OkThenSilence);
            let (_, seen) =
                exchange(&fake, faults, |o| o.timeout(Duration::from_millis(150))).await;
            symptom(
                &mut s,
                format!(
                    "still waiting for the ServerHello {WAIT:?} after the OK (timeout 150 ms): {:?}",
                    seen.end
                ),
                seen.end == Some(End::Open),
            );
        }
        ClientFault::TrustsCleartextMailboxData => {
            let fake = Fake::new(Imap).greeting(
                "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n* LIST () \"/\" 7XiYhgS7",
            );
            let (_, seen) = run(&fake, faults).await;
            let used = seen.lines.iter().any(|(_, l)| l.contains("7XiYhgS7"));
            symptom(&mut s, "the injected mailbox 7XiYhgS7 selected", used);
        }
        ClientFault::IgnoresCommandFailure => {
            let fake = Fake::new(Imap).caps_tls(Some("IMAP4rev1")).refuse("LOGIN");
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "SELECT after a refused LOGIN",
                seen.sent(Imap, true, "SELECT"),
            );
            let fake = Fake::new(Imap).refuse("SELECT");
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "FETCH after a refused SELECT",
                seen.sent(Imap, true, "FETCH"),
            );
        }
        ClientFault::FollowsReferrals => {
            let fake = Fake::new(Imap).greeting(
                "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n* OK [REFERRAL imap://other.example.test/] moved",
            );
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                format!("left before the handshake: {:?}", seen.handshake),
                !matches!(seen.handshake, Some(Ok(()))),
            );
        }
        ClientFault::StarttlsOnImplicit => {
            let fake = Fake::new(Imap)
                .implicit()
                .greeting("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready");
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "STARTTLS inside implicit TLS",
                seen.sent(Imap, true, "STARTTLS"),
            );
        }
        ClientFault::ContinuesAfterCloseNotify => {
            let fake = Fake::new(Imap).drop_tls_at("SELECT");
            let (_, seen) = run(&fake, faults).await;
            symptom(
                &mut s,
                "LOGOUT in plaintext after the close_notify",
                seen.sent(Imap, false, "LOGOUT"),
            );
        }
        ClientFault::ReconnectsInPlaintext => {
            for p in [Imap, Pop3] {
                let again = comes_back_in_cleartext(p, faults).await;
                symptom(
                    &mut s,
                    format!(
                        "{p}: a second connection after STARTTLS was refused, with the login in cleartext"
                    ),
                    again,
                );
            }
        }
    }
    s
}

/// A server that refuses STARTTLS/STLS on the first connection, then waits for a second
/// one: whether the client comes back and sends its login in cleartext there.
async fn comes_back_in_cleartext(protocol: Protocol, faults: &[ClientFault]) -> bool {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut opts = client(protocol, listener.local_addr().unwrap());
    for fault in faults {
        opts = opts.with_fault(*fault);
    }
    let (greeting, refusal): (&[u8], &str) = match protocol {
        Protocol::Pop3 => (b"+OK ready\r\n", "-ERR not now\r\n"),
        _ => (
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
            "NO not now\r\n",
        ),
    };
    let server = tokio::spawn(async move {
        let (mut first, _) = listener.accept().await.unwrap();
        first.write_all(greeting).await.unwrap();
        let mut buf = vec![0u8; 4096];
        // Answer each command line: CAPA (POP3), then a refusal of STARTTLS/STLS, then
        // whatever comes (LOGOUT/QUIT) with a goodbye, until the client closes.
        loop {
            let n = match tokio::time::timeout(Duration::from_secs(2), first.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => break,
            };
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            let tag = line.split_whitespace().next().unwrap_or("*").to_owned();
            let upper = line.to_ascii_uppercase();
            let answer = if upper.starts_with("CAPA") {
                "+OK\r\nSTLS\r\nUSER\r\n.\r\n".to_owned()
            } else if upper.contains("STARTTLS") || upper.starts_with("STLS") {
                match protocol {
                    Protocol::Pop3 => refusal.to_owned(),
                    _ => format!("{tag} {refusal}"),
                }
            } else if protocol == Protocol::Pop3 {
                "+OK bye\r\n".to_owned()
            } else {
                format!("* BYE bye\r\n{tag} OK done\r\n")
            };
            if first.write_all(answer.as_bytes()).await.is_err() {
                break;
            }
        }
        let Ok(Ok((mut second, _))) =
            tokio::time::timeout(Duration::from_millis(1500), listener.accept()).await
        else {
            return false;
        };
        let _ = second.write_all(greeting).await;
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(1), second.read_to_end(&mut got)).await;
        let text = String::from_utf8_lossy(&got).to_ascii_uppercase();
        text.contains("LOGIN") || text.contains("PASS")
    });
    let _ = run_client(&opts).await;
    server.await.unwrap()
}

/// The conformant client shows none of `fault`'s symptoms; the faulty one shows them all.
async fn check(fault: ClientFault) {
    let conformant = observe(fault, false).await;
    let showing: Vec<_> = conformant.iter().filter(|(_, shows)| *shows).collect();
    assert!(
        showing.is_empty(),
        "{fault}: the conformant client shows {showing:?}"
    );
    let faulty = observe(fault, true).await;
    let missing: Vec<_> = faulty.iter().filter(|(_, shows)| !*shows).collect();
    assert!(!faulty.is_empty(), "{fault}: no symptom observed");
    assert!(
        missing.is_empty(),
        "{fault}: the defect does not show: {missing:?}"
    );
}

macro_rules! fault_tests {
    ($($name:ident: $fault:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                check(ClientFault::$fault).await;
            }
        )*
        /// The faults with a test above.
        const TESTED: &[ClientFault] = &[$(ClientFault::$fault),*];
    };
}

fault_tests! {
    client_fault_no_name_check: NoNameCheck,
    client_fault_overbroad_wildcard: OverbroadWildcard,
    client_fault_no_chain_check: NoChainCheck,
    client_fault_stale_capabilities: StaleCapabilities,
    client_fault_login_despite_logindisabled: LoginDespiteLogindisabled,
    client_fault_acts_on_injected_plaintext: ActsOnInjectedPlaintext,
    client_fault_continues_without_starttls: ContinuesWithoutStarttls,
    client_fault_no_close_notify: NoCloseNotify,
    client_fault_accepts_cleartext_preauth: AcceptsCleartextPreauth,
    client_fault_plain_in_cleartext: PlainInCleartext,
    client_fault_malformed_plain: MalformedPlain,
    client_fault_sends_before_handshake: SendsBeforeHandshake,
    client_fault_plaintext_after_handshake_failure: PlaintextAfterHandshakeFailure,
    client_fault_accepts_truncation: AcceptsTruncation,
    client_fault_tls13_only: Tls13Only,
    client_fault_cn_over_san: CnOverSan,
    client_fault_case_sensitive_names: CaseSensitiveNames,
    client_fault_accepts_uri_san: AcceptsUriSan,
    client_fault_ignores_err_greeting: IgnoresErrGreeting,
    client_fault_trusts_cleartext_listing: TrustsCleartextListing,
    client_fault_offers_old_tls: OffersOldTls,
    client_fault_sslv2_hello: Sslv2Hello,
    client_fault_ignores_invalid_greeting: IgnoresInvalidGreeting,
    client_fault_accepts_early_completion: AcceptsEarlyCompletion,
    client_fault_no_handshake_timeout: NoHandshakeTimeout,
    client_fault_trusts_cleartext_mailbox_data: TrustsCleartextMailboxData,
    client_fault_ignores_command_failure: IgnoresCommandFailure,
    client_fault_follows_referrals: FollowsReferrals,
    client_fault_starttls_on_implicit: StarttlsOnImplicit,
    client_fault_continues_after_close_notify: ContinuesAfterCloseNotify,
    client_fault_reconnects_in_plaintext: ReconnectsInPlaintext,
}

#[test]
fn every_client_fault_has_a_wire_test() {
    for fault in ClientFault::ALL {
        assert!(TESTED.contains(&fault), "{fault} has no wire test");
    }
    assert_eq!(TESTED.len(), ClientFault::ALL.len());
}

// ---------------------------------------------------------------------------------------
// `mailtls peer-client`
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_client_command_exit_codes() {
    let server = spawn_server(ServerOptions::new(
        Protocol::Imap,
        server_config(Profile::Valid),
    ))
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("mailtls-peer-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki().minted.ca.cert_pem()).unwrap();
    let port = server.addr().port().to_string();
    let ca_arg = ca.display().to_string();
    let run_cli = |extra: &'static [&'static str], port: String, ca: String| {
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "peer-client",
                "--protocol",
                "imap",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--ca",
                &ca,
                "--timeout",
                "2s",
            ];
            args.extend_from_slice(extra);
            crate::support::mailtls(&args)
        })
    };
    let ok = run_cli(&["--name", NAME], port.clone(), ca_arg.clone())
        .await
        .unwrap();
    assert_eq!(crate::support::code(&ok), Some(0), "{ok:?}");
    assert!(crate::support::stdout(&ok).contains("session completed: IMAP over TLS"));

    let refused = run_cli(
        &["--name", "other.example.test"],
        port.clone(),
        ca_arg.clone(),
    )
    .await
    .unwrap();
    assert_eq!(crate::support::code(&refused), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("certificate rejected"), "{stderr}");

    let faulty = run_cli(
        &["--name", "other.example.test", "--fault", "no-name-check"],
        port.clone(),
        ca_arg.clone(),
    )
    .await
    .unwrap();
    assert_eq!(crate::support::code(&faulty), Some(0), "{faulty:?}");

    let usage = run_cli(&["--fault", "no-such-fault"], port, ca_arg.clone())
        .await
        .unwrap();
    assert_eq!(crate::support::code(&usage), Some(2), "{usage:?}");

    server.shutdown().await;
    let closed = run_cli(&["--name", NAME], port_of_nothing().await, ca_arg)
        .await
        .unwrap();
    assert_eq!(crate::support::code(&closed), Some(3), "{closed:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A port nobody listens on (bound, then released).
async fn port_of_nothing() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port.to_string()
}
