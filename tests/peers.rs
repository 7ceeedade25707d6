//! The reference server over real sockets: a conformant session for every protocol on
//! both transports, and for every fault a wire-level demonstration that the defect shows
//! against the faulty server and not against the reference.
//!
//! Each fault's demonstration ([`observe`]) returns named symptoms; [`check`] asserts
//! that none shows against the reference and all show with the fault switched on. The
//! `match` in `observe` is exhaustive, so a new fault without a demonstration does not
//! compile, and `every_fault_has_a_wire_test` checks the per-fault tests cover them all.

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mailtls::certs::{Authority, LeafSpec};
use mailtls::model::Protocol;
use mailtls::peers::{
    DEFAULT_USERS, Fault, MESSAGE, RunningServer, ServerLimits, ServerOptions, serve_connection,
    spawn_server,
};
use mailtls::sasl::wire::encode_initial_response;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How long a test waits for something that must come.
const WAIT: Duration = Duration::from_secs(2);
/// How long a test listens for something that must not come.
const QUIET: Duration = Duration::from_millis(100);
/// Once data came, how long without more ends a listen.
const SETTLE: Duration = Duration::from_millis(30);

struct Pki {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    /// The server certificate, asking for an optional client certificate from the CA.
    client_auth: Arc<rustls::ServerConfig>,
    roots: rustls::RootCertStore,
    /// A client certificate for `alice`, from the same CA.
    alice: Arc<rustls::sign::CertifiedKey>,
}

/// Presents the `alice` certificate when asked, and remembers that it was.
#[derive(Debug)]
struct AskRecord {
    key: Arc<rustls::sign::CertifiedKey>,
    asked: std::sync::atomic::AtomicBool,
}

impl rustls::client::ResolvesClientCert for AskRecord {
    fn resolve(
        &self,
        _: &[&[u8]],
        _: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, std::sync::atomic::Ordering::SeqCst);
        Some(Arc::clone(&self.key))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca = Authority::new().unwrap();
        let leaf = ca
            .issue(&LeafSpec::for_names(&["mail.example.test", "localhost"]))
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert_der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots.clone()),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .unwrap();
        let client_auth = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                leaf.chain.clone(),
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf.key.clone_key()),
            )
            .unwrap();
        let alice = ca.issue_client("alice").unwrap();
        let signer = provider
            .key_provider
            .load_private_key(rustls::pki_types::PrivateKeyDer::Pkcs8(
                alice.key.clone_key(),
            ))
            .unwrap();
        Pki {
            server: leaf.server_config().unwrap(),
            client: Arc::new(client),
            client_auth: Arc::new(client_auth),
            roots,
            alice: Arc::new(rustls::sign::CertifiedKey::new(alice.chain.clone(), signer)),
        }
    })
}

fn opts(protocol: Protocol) -> ServerOptions {
    let mut opts = ServerOptions::new(protocol, Arc::clone(&pki().server));
    // As the reference instances have it: settings to ask with, not used by default.
    opts.client_auth_tls = Some(Arc::clone(&pki().client_auth));
    opts
}

/// The same options accepting client certificates (the `client-cert=optional` profile).
fn with_client_certs(opts: ServerOptions) -> ServerOptions {
    opts.client_certs(Arc::clone(&pki().client_auth))
}

/// A client configuration presenting `alice`'s certificate when asked, and its record of
/// whether it was (one per connection: tests run in parallel).
fn with_cert() -> (Arc<rustls::ClientConfig>, Arc<AskRecord>) {
    let asked = Arc::new(AskRecord {
        key: Arc::clone(&pki().alice),
        asked: std::sync::atomic::AtomicBool::new(false),
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki().roots.clone())
        .with_client_cert_resolver(asked.clone());
    (Arc::new(config), asked)
}

impl AskRecord {
    fn asked(&self) -> bool {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn serve(opts: ServerOptions) -> RunningServer {
    spawn_server(opts).await.unwrap()
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

/// How a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// TLS close_notify, then FIN.
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

/// A minimal test client: plaintext that upgrades to TLS, line reads with a deadline.
struct Client {
    io: Io,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(server: &RunningServer) -> Self {
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        Self {
            io: Io::Plain(tcp),
            buf: Vec::new(),
        }
    }

    async fn implicit(server: &RunningServer) -> Self {
        let mut client = Self::connect(server).await;
        client.handshake().await.unwrap();
        client
    }

    async fn send(&mut self, data: impl AsRef<[u8]>) {
        let data = data.as_ref();
        match &mut self.io {
            Io::Plain(s) => {
                s.write_all(data).await.unwrap();
                s.flush().await.unwrap();
            }
            Io::Tls(s) => {
                s.write_all(data).await.unwrap();
                s.flush().await.unwrap();
            }
            Io::Gone => panic!("connection gone"),
        }
    }

    /// One read within `within`: `Ok(0)` at the end, `TimedOut` when nothing came.
    async fn fill(&mut self, within: Duration) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let read = async {
            match &mut self.io {
                Io::Plain(s) => s.read(&mut chunk).await,
                Io::Tls(s) => s.read(&mut chunk).await,
                Io::Gone => Ok(0),
            }
        };
        let n = tokio::time::timeout(within, read)
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next line, without its CRLF.
    async fn line(&mut self) -> String {
        loop {
            if let Some(lf) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=lf).collect();
                let text = String::from_utf8_lossy(&line);
                return text.trim_end_matches(['\r', '\n']).to_owned();
            }
            match self.fill(WAIT).await {
                Ok(0) => panic!("closed while waiting for a line; have {:?}", self.text()),
                Ok(_) => {}
                Err(e) => panic!("{e} while waiting for a line; have {:?}", self.text()),
            }
        }
    }

    /// Lines up to and including the first that starts with `prefix`.
    async fn until(&mut self, prefix: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line.starts_with(prefix);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Lines up to and including one that is exactly `end` (a POP3 multi-line body).
    async fn body(&mut self, end: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line == end;
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Everything that arrives within `within` (and was buffered), lossily as text.
    /// Stops early at the end of the stream, or once data came and then
    /// [`SETTLE`] passed without more: silence costs the whole window, data does not.
    async fn quiet(&mut self, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let wait = if self.buf.is_empty() {
                left
            } else {
                left.min(SETTLE)
            };
            if wait.is_zero() || !matches!(self.fill(wait).await, Ok(n) if n > 0) {
                break;
            }
        }
        let text = self.text();
        self.buf.clear();
        text
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    /// The TLS handshake over the current plaintext stream.
    async fn handshake(&mut self) -> io::Result<()> {
        self.handshake_with(&pki().client).await
    }

    /// The TLS handshake with `config` (say, one presenting a client certificate).
    async fn handshake_with(&mut self, config: &Arc<rustls::ClientConfig>) -> io::Result<()> {
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Gone) else {
            panic!("not plaintext");
        };
        let connector = TlsConnector::from(Arc::clone(config));
        let name = ServerName::try_from("mail.example.test").unwrap();
        let tls = tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        self.io = Io::Tls(Box::new(tls));
        Ok(())
    }

    /// Sends close_notify and goes on in plaintext on the same TCP connection.
    async fn close_notify_keep_tcp(&mut self) {
        let Io::Tls(mut tls) = std::mem::replace(&mut self.io, Io::Gone) else {
            panic!("not TLS");
        };
        tls.get_mut().1.send_close_notify();
        tls.flush().await.unwrap();
        let (tcp, _) = tls.into_inner();
        self.io = Io::Plain(tcp);
    }

    /// Reads until the connection ends.
    async fn end(&mut self) -> End {
        loop {
            let tls = matches!(self.io, Io::Tls(_));
            match self.fill(WAIT).await {
                Ok(0) if tls => return End::CloseNotify,
                Ok(0) => return End::Fin,
                Ok(_) => self.buf.clear(),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return End::Open,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return End::NoCloseNotify,
                Err(_) => return End::Error,
            }
        }
    }
}

/// The wire spelling of the STARTTLS command, its OK, and a probe command with the
/// prefix of its answer, per protocol.
struct Dialect {
    starttls: &'static str,
    ok: &'static str,
    probe: &'static str,
    probe_answer: &'static str,
    marker: &'static str,
    marker_answer: &'static str,
}

fn dialect(protocol: Protocol) -> Dialect {
    match protocol {
        Protocol::Imap => Dialect {
            starttls: "A1 STARTTLS",
            ok: "A1 OK",
            probe: "X1 NOOP",
            probe_answer: "X1 ",
            marker: "A2 NOOP",
            marker_answer: "A2 ",
        },
        // NOOP is a TRANSACTION command, so the marker's answer is -ERR; the probe (CAPA)
        // would answer +OK first.
        Protocol::Pop3 => Dialect {
            starttls: "STLS",
            ok: "+OK",
            probe: "CAPA",
            probe_answer: "+OK",
            marker: "NOOP",
            marker_answer: "-ERR",
        },
        Protocol::Acap => Dialect {
            starttls: "a1 STARTTLS",
            ok: "a1 OK",
            probe: "x1 NOOP",
            probe_answer: "x1 ",
            marker: "a2 NOOP",
            marker_answer: "a2 ",
        },
    }
}

/// Connects and reads the greeting.
async fn greeted(server: &RunningServer) -> (Client, String) {
    let mut client = Client::connect(server).await;
    let greeting = client.line().await;
    (client, greeting)
}

/// Sends STARTTLS/STLS followed by `extra` in one write, reads the OK, and shakes hands.
async fn upgrade_with(client: &mut Client, protocol: Protocol, terminator: &str, extra: &str) {
    let d = dialect(protocol);
    client
        .send(format!("{}{terminator}{extra}", d.starttls))
        .await;
    let ok = client.line().await;
    assert!(ok.starts_with(d.ok), "{ok}");
    assert!(
        client.buf.is_empty(),
        "octets after the OK: {:?}",
        client.text()
    );
    client.handshake().await.unwrap();
}

async fn upgrade(client: &mut Client, protocol: Protocol) {
    upgrade_with(client, protocol, "\r\n", "").await;
}

/// Whether the probe was answered before the marker (the injection symptom).
async fn probe_answered(client: &mut Client, protocol: Protocol) -> bool {
    let d = dialect(protocol);
    client.send(format!("{}\r\n", d.marker)).await;
    let lines = client.until(d.marker_answer).await;
    lines[..lines.len() - 1]
        .iter()
        .any(|l| l.starts_with(d.probe_answer))
}

/// A PLAIN message for `AUTHENTICATE`/`AUTH`, per protocol, with tag/prefix and answer.
fn authenticate(protocol: Protocol, message: &[u8]) -> Vec<u8> {
    match protocol {
        Protocol::Imap => format!(
            "P1 AUTHENTICATE PLAIN {}\r\n",
            encode_initial_response(message)
        )
        .into_bytes(),
        Protocol::Pop3 => {
            format!("AUTH PLAIN {}\r\n", encode_initial_response(message)).into_bytes()
        }
        Protocol::Acap => {
            let mut wire =
                format!("p1 AUTHENTICATE \"PLAIN\" {{{}+}}\r\n", message.len()).into_bytes();
            wire.extend_from_slice(message);
            wire.extend_from_slice(b"\r\n");
            wire
        }
    }
}

/// The answer to [`authenticate`].
async fn authenticate_answer(client: &mut Client, protocol: Protocol, message: &[u8]) -> String {
    client.send(authenticate(protocol, message)).await;
    match protocol {
        Protocol::Imap => client.until("P1 ").await.pop().unwrap(),
        Protocol::Pop3 => client.line().await,
        Protocol::Acap => client.until("p1 ").await.pop().unwrap(),
    }
}

fn accepted(protocol: Protocol, answer: &str) -> bool {
    match protocol {
        Protocol::Imap => answer.starts_with("P1 OK"),
        Protocol::Pop3 => answer.starts_with("+OK"),
        Protocol::Acap => answer.starts_with("p1 OK"),
    }
}

/// The capability list as one line of tokens: IMAP CAPABILITY, POP3 CAPA joined.
async fn capabilities(client: &mut Client, protocol: Protocol) -> String {
    match protocol {
        Protocol::Imap => {
            client.send("C1 CAPABILITY\r\n").await;
            let lines = client.until("C1 ").await;
            lines
                .iter()
                .find(|l| l.starts_with("* CAPABILITY "))
                .cloned()
                .unwrap_or_default()
        }
        Protocol::Pop3 => {
            client.send("CAPA\r\n").await;
            let first = client.line().await;
            if !first.starts_with("+OK") {
                return first;
            }
            let mut lines = client.body(".").await;
            lines.pop();
            lines.join(" | ")
        }
        Protocol::Acap => panic!("ACAP has no CAPABILITY command; read the greeting"),
    }
}

fn has_token(list: &str, token: &str) -> bool {
    list.split([' ', '(', ')', '[', ']', '"', '|'])
        .any(|t| t.eq_ignore_ascii_case(token))
}

/// Whether a capability list ([`capabilities`], or an ACAP greeting) offers EXTERNAL.
fn offers_external(protocol: Protocol, list: &str) -> bool {
    match protocol {
        Protocol::Imap => has_token(list, "AUTH=EXTERNAL"),
        // `SASL PLAIN EXTERNAL`, `(SASL "PLAIN" "EXTERNAL")`.
        Protocol::Pop3 | Protocol::Acap => has_token(list, "EXTERNAL"),
    }
}

/// The capability list in force: IMAP CAPABILITY, POP3 CAPA, or for ACAP the greeting
/// the caller read last (`greeting`).
async fn capabilities_or(client: &mut Client, protocol: Protocol, greeting: &str) -> String {
    match protocol {
        Protocol::Acap => greeting.to_owned(),
        _ => capabilities(client, protocol).await,
    }
}

/// The answer to an EXTERNAL with the empty authorization identity (an empty initial
/// response), per protocol.
async fn external_answer(client: &mut Client, protocol: Protocol) -> String {
    match protocol {
        Protocol::Imap => {
            client.send("E1 AUTHENTICATE EXTERNAL =\r\n").await;
            client.until("E1 ").await.pop().unwrap()
        }
        Protocol::Pop3 => {
            client.send("AUTH EXTERNAL =\r\n").await;
            client.line().await
        }
        Protocol::Acap => {
            client.send("e1 AUTHENTICATE \"EXTERNAL\" \"\"\r\n").await;
            client.until("e1 ").await.pop().unwrap()
        }
    }
}

fn external_accepted(protocol: Protocol, answer: &str) -> bool {
    match protocol {
        Protocol::Imap => answer.starts_with("E1 OK"),
        Protocol::Pop3 => answer.starts_with("+OK"),
        Protocol::Acap => answer.starts_with("e1 OK"),
    }
}

// ---------------------------------------------------------------------------------
// Conformant sessions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn imap_conformant_starttls_session() {
    let server = serve(opts(Protocol::Imap)).await;
    let (mut c, greeting) = greeted(&server).await;
    assert_eq!(
        greeting,
        "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] mailtls reference IMAP server ready"
    );
    assert_eq!(
        capabilities(&mut c, Protocol::Imap).await,
        "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED"
    );
    c.send("A0 LOGIN alice s3cret\r\n").await;
    assert_eq!(
        c.line().await,
        "A0 NO [PRIVACYREQUIRED] LOGIN is disabled until TLS is active"
    );
    c.send("A1 STARTTLS\r\n").await;
    assert_eq!(c.line().await, "A1 OK Begin TLS negotiation now");
    assert_eq!(c.quiet(QUIET).await, "", "nothing before the ClientHello");
    c.handshake().await.unwrap();
    assert_eq!(c.quiet(QUIET).await, "", "no greeting inside TLS");
    assert_eq!(
        capabilities(&mut c, Protocol::Imap).await,
        "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN"
    );
    c.send("A2 STARTTLS\r\nA3 SELECT INBOX\r\nA4 AUTHENTICATE PLAIN\r\n")
        .await;
    assert_eq!(c.line().await, "A2 BAD TLS is already active");
    assert_eq!(
        c.line().await,
        "A3 BAD SELECT is only valid once authenticated"
    );
    assert_eq!(c.line().await, "+ ");
    c.send(format!(
        "{}\r\n",
        encode_initial_response(b"\0alice\0s3cret")
    ))
    .await;
    assert_eq!(c.line().await, "A4 OK AUTHENTICATE completed");
    c.send("A5 SELECT INBOX\r\n").await;
    let select = c.until("A5 ").await;
    assert!(select.contains(&"* 1 EXISTS".to_owned()), "{select:?}");
    assert_eq!(select.last().unwrap(), "A5 OK [READ-ONLY] SELECT completed");
    c.send("A6 STARTTLS\r\nA7 LOGOUT\r\n").await;
    assert_eq!(c.line().await, "A6 BAD TLS is already active");
    assert_eq!(c.line().await, "* BYE mailtls reference server logging out");
    assert_eq!(c.line().await, "A7 OK LOGOUT completed");
    assert_eq!(c.end().await, End::CloseNotify);
}

#[tokio::test]
async fn imap_conformant_implicit_session() {
    let server = serve(opts(Protocol::Imap).implicit(true)).await;
    let mut c = Client::connect(&server).await;
    assert_eq!(
        c.quiet(QUIET).await,
        "",
        "no plaintext before the handshake"
    );
    c.handshake().await.unwrap();
    assert_eq!(
        c.line().await,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] mailtls reference IMAP server ready"
    );
    c.send("A1 STARTTLS\r\nA2 LOGIN alice wrong\r\nA3 LOGIN alice s3cret\r\nA4 CAPABILITY\r\n")
        .await;
    assert_eq!(c.line().await, "A1 BAD TLS is already active");
    assert_eq!(
        c.line().await,
        "A2 NO [AUTHENTICATIONFAILED] Invalid credentials"
    );
    assert_eq!(c.line().await, "A3 OK LOGIN completed");
    assert_eq!(c.line().await, "* CAPABILITY IMAP4rev1");
    assert_eq!(c.line().await, "A4 OK CAPABILITY completed");
    c.send("A5 LOGOUT\r\n").await;
    assert_eq!(
        c.until("A5 ").await.last().unwrap(),
        "A5 OK LOGOUT completed"
    );
    assert_eq!(c.end().await, End::CloseNotify);
}

#[tokio::test]
async fn pop3_conformant_starttls_session() {
    let server = serve(opts(Protocol::Pop3)).await;
    let (mut c, greeting) = greeted(&server).await;
    assert_eq!(greeting, "+OK mailtls reference POP3 server ready");
    assert_eq!(
        capabilities(&mut c, Protocol::Pop3).await,
        "TOP | UIDL | RESP-CODES | AUTH-RESP-CODE | STLS | IMPLEMENTATION mailtls-reference"
    );
    c.send("USER alice\r\n").await;
    assert_eq!(
        c.line().await,
        "-ERR [AUTH] USER/PASS is disabled until TLS is active"
    );
    c.send("STLS\r\n").await;
    assert_eq!(c.line().await, "+OK Begin TLS negotiation");
    assert_eq!(c.quiet(QUIET).await, "");
    c.handshake().await.unwrap();
    assert_eq!(c.quiet(QUIET).await, "", "no greeting after STLS");
    assert_eq!(
        capabilities(&mut c, Protocol::Pop3).await,
        "TOP | UIDL | RESP-CODES | AUTH-RESP-CODE | USER | SASL PLAIN | IMPLEMENTATION mailtls-reference"
    );
    c.send("STLS\r\nUSER alice\r\nPASS s3cret\r\nSTAT\r\nRETR 1\r\n")
        .await;
    assert_eq!(c.line().await, "-ERR Command not permitted when TLS active");
    assert_eq!(c.line().await, "+OK send PASS");
    let size = MESSAGE.len();
    assert_eq!(
        c.line().await,
        format!("+OK maildrop has 1 message ({size} octets)")
    );
    assert_eq!(c.line().await, format!("+OK 1 {size}"));
    assert_eq!(c.line().await, format!("+OK {size} octets"));
    let body = c.body(".").await;
    assert_eq!(body.last().unwrap(), ".");
    assert!(body.contains(&"..This line starts with a dot, so POP3 byte-stuffs it.".to_owned()));
    c.send("QUIT\r\n").await;
    assert_eq!(
        c.line().await,
        "+OK mailtls reference POP3 server signing off"
    );
    assert_eq!(c.end().await, End::CloseNotify);
}

#[tokio::test]
async fn pop3_conformant_implicit_session() {
    let server = serve(opts(Protocol::Pop3).implicit(true)).await;
    let mut c = Client::connect(&server).await;
    assert_eq!(c.quiet(QUIET).await, "");
    c.handshake().await.unwrap();
    assert_eq!(c.line().await, "+OK mailtls reference POP3 server ready");
    c.send("STLS\r\nSTAT\r\nAUTH PLAIN\r\n").await;
    assert_eq!(c.line().await, "-ERR Command not permitted when TLS active");
    assert_eq!(
        c.line().await,
        "-ERR Not permitted in the AUTHORIZATION state"
    );
    assert_eq!(c.line().await, "+ ");
    c.send(format!(
        "{}\r\n",
        encode_initial_response(b"\0alice\0s3cret")
    ))
    .await;
    assert_eq!(c.line().await, "+OK Logged in");
    c.send("QUIT\r\n").await;
    assert_eq!(
        c.line().await,
        "+OK mailtls reference POP3 server signing off"
    );
    assert_eq!(c.end().await, End::CloseNotify);
}

#[tokio::test]
async fn acap_conformant_starttls_session() {
    let server = serve(opts(Protocol::Acap)).await;
    let (mut c, greeting) = greeted(&server).await;
    assert_eq!(
        greeting,
        "* ACAP (IMPLEMENTATION \"mailtls reference\") (STARTTLS) (SASL)"
    );
    assert_eq!(
        authenticate_answer(&mut c, Protocol::Acap, b"\0alice\0s3cret").await,
        "p1 NO (ENCRYPT-NEEDED) \"PLAIN is only available once TLS is active\""
    );
    c.send("a1 STARTTLS\r\n").await;
    assert_eq!(c.line().await, "a1 OK \"Begin TLS negotiation now\"");
    assert_eq!(c.quiet(QUIET).await, "");
    c.handshake().await.unwrap();
    assert_eq!(
        c.line().await,
        "* ACAP (IMPLEMENTATION \"mailtls reference\") (SASL \"PLAIN\")",
        "RFC 2595 §5.1: the greeting is re-issued"
    );
    c.send("a2 STARTTLS\r\na3 AUTHENTICATE \"PLAIN\"\r\n").await;
    assert_eq!(c.line().await, "a2 BAD \"TLS is already active\"");
    assert_eq!(c.line().await, "+ \"\"");
    c.send("{13}\r\n").await;
    assert_eq!(c.line().await, "+ \"Ready for literal data\"");
    c.send("\0alice\0s3cret\r\n").await;
    assert_eq!(c.line().await, "a3 OK \"Welcome alice\"");
    c.send("a4 NOOP\r\na5 LOGOUT\r\n").await;
    assert_eq!(c.line().await, "a4 OK \"NOOP completed\"");
    assert_eq!(
        c.line().await,
        "* BYE \"mailtls reference ACAP server logging out\""
    );
    assert_eq!(c.line().await, "a5 OK \"LOGOUT completed\"");
    assert_eq!(c.end().await, End::CloseNotify);
}

#[tokio::test]
async fn acap_conformant_implicit_session() {
    let server = serve(opts(Protocol::Acap).implicit(true)).await;
    let mut c = Client::implicit(&server).await;
    assert_eq!(
        c.line().await,
        "* ACAP (IMPLEMENTATION \"mailtls reference\") (SASL \"PLAIN\")"
    );
    assert!(accepted(
        Protocol::Acap,
        &authenticate_answer(&mut c, Protocol::Acap, b"alice\0alice\0s3cret").await
    ));
    c.send("a1 STARTTLS\r\na2 LOGOUT\r\n").await;
    assert_eq!(c.line().await, "a1 BAD \"TLS is already active\"");
    assert_eq!(
        c.until("a2 ").await.last().unwrap(),
        "a2 OK \"LOGOUT completed\""
    );
    assert_eq!(c.end().await, End::CloseNotify);
}

#[tokio::test]
async fn cleartext_profile_allows_login_before_tls() {
    let server = serve(opts(Protocol::Imap).cleartext_login(true)).await;
    let (mut c, greeting) = greeted(&server).await;
    assert_eq!(
        greeting,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN] mailtls reference IMAP server ready"
    );
    c.send("A1 LOGIN alice s3cret\r\nA2 STARTTLS\r\nA3 NOOP\r\n")
        .await;
    assert_eq!(c.line().await, "A1 OK LOGIN completed");
    assert_eq!(
        c.line().await,
        "A2 BAD STARTTLS is only valid in the not authenticated state"
    );
    assert_eq!(c.line().await, "A3 OK NOOP completed");

    let server = serve(opts(Protocol::Pop3).cleartext_login(true)).await;
    let (mut c, _) = greeted(&server).await;
    c.send("USER alice\r\nPASS s3cret\r\nSTLS\r\n").await;
    assert_eq!(c.line().await, "+OK send PASS");
    assert!(c.line().await.starts_with("+OK maildrop"));
    assert_eq!(
        c.line().await,
        "-ERR Command not permitted in the TRANSACTION state"
    );
}

#[tokio::test]
async fn external_with_a_client_certificate_inside_tls_only() {
    let server = serve(with_client_certs(opts(Protocol::Imap))).await;
    let (mut c, greeting) = greeted(&server).await;
    assert!(!has_token(&greeting, "AUTH=EXTERNAL"), "{greeting}");
    c.send("E1 AUTHENTICATE EXTERNAL =\r\n").await;
    assert_eq!(
        c.line().await,
        "E1 NO [PRIVACYREQUIRED] EXTERNAL needs TLS and a client certificate"
    );
    c.send("A1 STARTTLS\r\n").await;
    c.line().await;
    let (config, record) = with_cert();
    c.handshake_with(&config).await.unwrap();
    assert!(
        record.asked(),
        "a server taking client certificates asks for one"
    );
    assert_eq!(
        capabilities(&mut c, Protocol::Imap).await,
        "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=EXTERNAL"
    );
    c.send("S0 SELECT INBOX\r\nE2 AUTHENTICATE EXTERNAL\r\n")
        .await;
    assert!(
        c.line().await.starts_with("S0 BAD"),
        "the certificate alone logs nobody in"
    );
    assert_eq!(c.line().await, "+ ");
    c.send("YWxpY2U=\r\n").await;
    assert_eq!(c.line().await, "E2 OK AUTHENTICATE completed");
    // Without a certificate the same server offers no EXTERNAL inside TLS.
    let (mut c, _) = greeted(&server).await;
    upgrade(&mut c, Protocol::Imap).await;
    c.send("E3 AUTHENTICATE EXTERNAL =\r\n").await;
    assert!(c.line().await.starts_with("E3 NO [AUTHENTICATIONFAILED]"));
}

#[tokio::test]
async fn pop3_external_with_a_client_certificate_inside_tls_only() {
    let server = serve(with_client_certs(opts(Protocol::Pop3))).await;
    let (mut c, _) = greeted(&server).await;
    let caps = capabilities(&mut c, Protocol::Pop3).await;
    assert!(!offers_external(Protocol::Pop3, &caps), "{caps}");
    c.send("AUTH EXTERNAL =\r\nAUTH EXTERNAL\r\nSTLS\r\n").await;
    for _ in 0..2 {
        assert_eq!(
            c.line().await,
            "-ERR [AUTH] EXTERNAL needs TLS and a client certificate",
            "refused before any continuation"
        );
    }
    assert!(c.line().await.starts_with("+OK"));
    let (config, record) = with_cert();
    c.handshake_with(&config).await.unwrap();
    assert!(record.asked());
    assert_eq!(
        capabilities(&mut c, Protocol::Pop3).await,
        "TOP | UIDL | RESP-CODES | AUTH-RESP-CODE | USER | SASL PLAIN EXTERNAL | IMPLEMENTATION mailtls-reference"
    );
    c.send("AUTH\r\n").await;
    assert_eq!(c.line().await, "+OK SASL mechanisms follow");
    assert_eq!(c.body(".").await, ["PLAIN", "EXTERNAL", "."]);
    // The certificate names alice: no other authorization identity, and no login yet.
    let attacker = encode_initial_response(b"attacker");
    c.send(format!(
        "STAT\r\nAUTH EXTERNAL {attacker}\r\nAUTH EXTERNAL\r\n"
    ))
    .await;
    assert!(c.line().await.starts_with("-ERR"), "STAT before the AUTH");
    assert_eq!(
        c.line().await,
        "-ERR [AUTH] The client certificate does not name this account"
    );
    assert_eq!(c.line().await, "+ ");
    c.send(format!("{}\r\nSTAT\r\n", encode_initial_response(b"alice")))
        .await;
    assert_eq!(c.line().await, "+OK Logged in");
    assert!(c.line().await.starts_with("+OK 1 "), "TRANSACTION");

    // Without a certificate the same server offers no EXTERNAL inside TLS.
    let (mut c, _) = greeted(&server).await;
    upgrade(&mut c, Protocol::Pop3).await;
    let caps = capabilities(&mut c, Protocol::Pop3).await;
    assert!(!offers_external(Protocol::Pop3, &caps), "{caps}");
    assert_eq!(
        external_answer(&mut c, Protocol::Pop3).await,
        "-ERR [AUTH] EXTERNAL needs a client certificate that names an account"
    );

    // POP3S: the same inside implicit TLS, with an empty initial response.
    let server = serve(with_client_certs(opts(Protocol::Pop3).implicit(true))).await;
    let mut c = Client::connect(&server).await;
    c.handshake_with(&with_cert().0).await.unwrap();
    assert!(c.line().await.starts_with("+OK"));
    assert_eq!(
        external_answer(&mut c, Protocol::Pop3).await,
        "+OK Logged in"
    );
    c.send("STAT\r\n").await;
    assert!(c.line().await.starts_with("+OK 1 "));
}

#[tokio::test]
async fn acap_external_with_a_client_certificate_inside_tls_only() {
    let server = serve(with_client_certs(opts(Protocol::Acap))).await;
    let (mut c, greeting) = greeted(&server).await;
    assert_eq!(
        greeting,
        "* ACAP (IMPLEMENTATION \"mailtls reference\") (STARTTLS) (SASL)"
    );
    assert_eq!(
        external_answer(&mut c, Protocol::Acap).await,
        "e1 NO (ENCRYPT-NEEDED) \"EXTERNAL needs TLS and a client certificate\""
    );
    c.send("a1 STARTTLS\r\n").await;
    assert!(c.line().await.starts_with("a1 OK"));
    let (config, record) = with_cert();
    c.handshake_with(&config).await.unwrap();
    assert!(record.asked());
    assert_eq!(
        c.line().await,
        "* ACAP (IMPLEMENTATION \"mailtls reference\") (SASL \"PLAIN\" \"EXTERNAL\")"
    );
    c.send("e2 AUTHENTICATE \"EXTERNAL\" \"attacker\"\r\ne3 AUTHENTICATE \"EXTERNAL\"\r\n")
        .await;
    assert_eq!(
        c.line().await,
        "e2 NO \"The client certificate does not name this account\""
    );
    assert_eq!(c.line().await, "+ \"\"");
    c.send("\"alice\"\r\ne4 AUTHENTICATE \"EXTERNAL\" \"\"\r\n")
        .await;
    assert_eq!(c.line().await, "e3 OK \"Welcome alice\"");
    assert_eq!(c.line().await, "e4 BAD \"Already authenticated\"");

    // Without a certificate the same server offers no EXTERNAL inside TLS.
    let (mut c, _) = greeted(&server).await;
    upgrade(&mut c, Protocol::Acap).await;
    let greeting = c.line().await;
    assert!(!offers_external(Protocol::Acap, &greeting), "{greeting}");
    assert_eq!(
        external_answer(&mut c, Protocol::Acap).await,
        "e1 NO \"EXTERNAL needs a client certificate that names an account\""
    );
}

#[tokio::test]
async fn starttls_with_arguments_is_bad_and_starts_nothing() {
    for (p, line, answer) in [
        (
            Protocol::Imap,
            "A1 STARTTLS A2 NOOP",
            "A1 BAD STARTTLS takes no arguments",
        ),
        (Protocol::Pop3, "STLS now", "-ERR STLS takes no arguments"),
        (
            Protocol::Acap,
            "a1 STARTTLS now",
            "a1 BAD \"STARTTLS takes no arguments\"",
        ),
    ] {
        let server = serve(opts(p)).await;
        let (mut c, _) = greeted(&server).await;
        c.send(format!("{line}\r\n")).await;
        assert_eq!(c.line().await, answer);
        let d = dialect(p);
        c.send(format!("{}\r\n", d.marker)).await;
        assert!(
            c.line().await.starts_with(d.marker_answer),
            "{p}: still plaintext"
        );
    }
}

#[tokio::test]
async fn pipelining_before_starttls_is_answered_in_order() {
    // Catalogue imap.server.starttls.pipelining-before-starttls (positive control).
    let server = serve(opts(Protocol::Imap)).await;
    let (mut c, _) = greeted(&server).await;
    c.send("A0 NOOP\r\nA1 STARTTLS\r\n").await;
    assert_eq!(c.line().await, "A0 OK NOOP completed");
    assert_eq!(c.line().await, "A1 OK Begin TLS negotiation now");
    c.handshake().await.unwrap();
    c.send("A2 NOOP\r\n").await;
    assert_eq!(c.line().await, "A2 OK NOOP completed");
}

#[tokio::test]
async fn hostile_input_is_bounded() {
    let mut o = opts(Protocol::Imap);
    o.limits = ServerLimits {
        idle_timeout: Duration::from_millis(300),
        ..ServerLimits::DEFAULT
    };
    let server = serve(o).await;
    // An over-long line ends the session with BYE.
    let (mut c, _) = greeted(&server).await;
    c.send(vec![b'a'; 9000]).await;
    assert_eq!(c.line().await, "* BYE Command line too long");
    assert_eq!(c.end().await, End::Fin);
    // An idle client is dropped after the idle timeout.
    let (mut c, _) = greeted(&server).await;
    assert_eq!(c.end().await, End::Fin);
    // A failed handshake just closes; the server keeps serving.
    let (mut c, _) = greeted(&server).await;
    c.send("A1 STARTTLS\r\n").await;
    c.line().await;
    c.send("not a ClientHello\r\n").await;
    assert_ne!(c.end().await, End::Open);
    let (_, greeting) = greeted(&server).await;
    assert!(greeting.starts_with("* OK"));
}

#[tokio::test]
async fn connections_are_served_concurrently_and_shutdown_stops_them() {
    let server = serve(opts(Protocol::Pop3)).await;
    let (mut first, _) = greeted(&server).await;
    let (mut second, _) = greeted(&server).await;
    second.send("CAPA\r\n").await;
    assert!(second.line().await.starts_with("+OK"));
    first.send("QUIT\r\n").await;
    assert!(first.line().await.starts_with("+OK"));
    let addr = server.addr();
    server.shutdown().await;
    assert_ne!(second.end().await, End::Open);
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn serve_connection_runs_over_an_in_memory_stream() {
    async fn drive(stream: impl AsyncRead + AsyncWrite + Unpin) -> io::Result<()> {
        serve_connection(stream, &opts(Protocol::Imap)).await
    }
    let (mut client, server) = tokio::io::duplex(4096);
    let task = tokio::spawn(drive(server));
    client
        .write_all(b"A1 CAPABILITY\r\nA2 LOGOUT\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    client.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("* OK [CAPABILITY"), "{text}");
    assert!(text.ends_with("A2 OK LOGOUT completed\r\n"), "{text}");
    task.await.unwrap().unwrap();
}

#[test]
fn default_accounts_and_message() {
    assert_eq!(DEFAULT_USERS[0], ("alice", "s3cret"));
    assert!(MESSAGE.ends_with("\r\n"));
}

// ---------------------------------------------------------------------------------
// Faults: each one's symptoms on the wire
// ---------------------------------------------------------------------------------

type Symptoms = Vec<(String, bool)>;

fn symptom(symptoms: &mut Symptoms, what: impl Into<String>, shows: bool) {
    symptoms.push((what.into(), shows));
}

/// Runs the wire demonstration of `fault` against the reference (`on == false`) or
/// the server with `fault` switched on, and names each symptom with whether it showed.
async fn observe(fault: Fault, on: bool) -> Symptoms {
    let with = |o: ServerOptions| if on { o.with_fault(fault) } else { o };
    let mut s = Symptoms::new();
    match fault {
        Fault::ExecutesPipelinedAfterStarttls => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                let probe = format!("{}\r\n", dialect(p).probe);
                upgrade_with(&mut c, p, "\r\n", &probe).await;
                symptom(
                    &mut s,
                    format!("{p}: probe executed inside TLS"),
                    probe_answered(&mut c, p).await,
                );
            }
        }
        Fault::BareLfInjection => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                let probe = format!("{}\r\n", dialect(p).probe);
                upgrade_with(&mut c, p, "\n", &probe).await;
                symptom(
                    &mut s,
                    format!("{p}: probe after bare LF executed"),
                    probe_answered(&mut c, p).await,
                );
            }
        }
        Fault::ExecutesPlaintextAfterStarttlsOk => {
            for p in Protocol::ALL {
                // A second segment, sent after the OK was read: deterministic.
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                let d = dialect(p);
                c.send(format!("{}\r\n", d.starttls)).await;
                assert!(c.line().await.starts_with(d.ok));
                c.send(format!("{}\r\n", d.probe)).await;
                let executed = c.handshake().await.is_ok() && probe_answered(&mut c, p).await;
                symptom(
                    &mut s,
                    format!("{p}: plaintext after the OK executed"),
                    executed,
                );
                // The same write as STARTTLS: what a race may turn the split into.
                let (mut c, _) = greeted(&server).await;
                upgrade_with(&mut c, p, "\r\n", &format!("{}\r\n", d.probe)).await;
                let executed = probe_answered(&mut c, p).await;
                symptom(&mut s, format!("{p}: pipelined probe executed"), executed);
            }
        }
        Fault::PlaintextFallbackOnTlsFailure => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                let d = dialect(p);
                c.send(format!("{}\r\n", d.starttls)).await;
                assert!(c.line().await.starts_with(d.ok));
                c.send(format!("{}\r\n", d.probe)).await;
                let text = c.quiet(Duration::from_millis(300)).await;
                symptom(
                    &mut s,
                    format!("{p}: answered in plaintext: {text:?}"),
                    text.contains(d.probe_answer),
                );
            }
        }
        Fault::NoLogindisabled => {
            let server = serve(with(opts(Protocol::Imap))).await;
            let (mut c, greeting) = greeted(&server).await;
            symptom(
                &mut s,
                "LOGINDISABLED missing",
                !has_token(&greeting, "LOGINDISABLED"),
            );
            c.send("A1 LOGIN alice s3cret\r\n").await;
            assert!(
                c.line().await.starts_with("A1 NO"),
                "LOGIN is still refused"
            );
        }
        Fault::LoginDespiteLogindisabled => {
            let server = serve(with(opts(Protocol::Imap))).await;
            let (mut c, greeting) = greeted(&server).await;
            assert!(has_token(&greeting, "LOGINDISABLED"));
            c.send("A1 LOGIN alice s3cret\r\n").await;
            symptom(
                &mut s,
                "LOGIN accepted in cleartext",
                c.line().await.starts_with("A1 OK"),
            );
        }
        Fault::PlainInCleartext => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, greeting) = greeted(&server).await;
                let caps = match p {
                    Protocol::Acap => greeting,
                    _ => capabilities(&mut c, p).await,
                };
                let token = if p == Protocol::Imap {
                    "AUTH=PLAIN"
                } else {
                    "PLAIN"
                };
                symptom(
                    &mut s,
                    format!("{p}: PLAIN advertised in cleartext"),
                    has_token(&caps, token),
                );
                let answer = authenticate_answer(&mut c, p, b"\0alice\0s3cret").await;
                symptom(
                    &mut s,
                    format!("{p}: PLAIN accepted in cleartext"),
                    accepted(p, &answer),
                );
            }
        }
        Fault::StarttlsOkWhenTlsActive => {
            for (p, implicit) in [
                (Protocol::Imap, false),
                (Protocol::Imap, true),
                (Protocol::Pop3, false),
                (Protocol::Pop3, true),
                (Protocol::Acap, false),
            ] {
                let server = serve(with(opts(p).implicit(implicit))).await;
                let mut c = if implicit {
                    let mut c = Client::implicit(&server).await;
                    c.line().await;
                    c
                } else {
                    let (mut c, _) = greeted(&server).await;
                    upgrade(&mut c, p).await;
                    if p == Protocol::Acap {
                        c.line().await;
                    }
                    c
                };
                let d = dialect(p);
                c.send(format!("{}\r\n", d.starttls)).await;
                let answer = c.line().await;
                symptom(
                    &mut s,
                    format!("{p} implicit={implicit}: {answer}"),
                    answer.starts_with(d.ok),
                );
                // Either way the session goes on in the same TLS layer.
                c.send(format!("{}\r\n", d.marker)).await;
                assert!(c.line().await.starts_with(d.marker_answer));
            }
        }
        Fault::StarttlsWhenAuthenticated => {
            for p in [Protocol::Imap, Protocol::Acap] {
                let server = serve(with(opts(p).cleartext_login(true))).await;
                let (mut c, _) = greeted(&server).await;
                assert!(accepted(
                    p,
                    &authenticate_answer(&mut c, p, b"\0alice\0s3cret").await
                ));
                let d = dialect(p);
                c.send(format!("{}\r\n", d.starttls)).await;
                let answer = c.line().await;
                let fixated = answer.starts_with(d.ok) && c.handshake().await.is_ok();
                symptom(&mut s, format!("{p}: {answer}"), fixated);
            }
        }
        Fault::StlsInTransaction => {
            let server = serve(with(opts(Protocol::Pop3).cleartext_login(true))).await;
            let (mut c, _) = greeted(&server).await;
            c.send("USER alice\r\nPASS s3cret\r\n").await;
            c.line().await;
            assert!(c.line().await.starts_with("+OK"));
            c.send("STLS\r\n").await;
            let answer = c.line().await;
            let fixated = answer.starts_with("+OK") && c.handshake().await.is_ok();
            symptom(&mut s, format!("STLS in TRANSACTION: {answer}"), fixated);
        }
        Fault::StarttlsAdvertisedAfterTls => {
            for (p, implicit) in [
                (Protocol::Imap, false),
                (Protocol::Imap, true),
                (Protocol::Pop3, false),
                (Protocol::Pop3, true),
                (Protocol::Acap, false),
            ] {
                let server = serve(with(opts(p).implicit(implicit))).await;
                let mut c;
                let greeting;
                if implicit {
                    c = Client::implicit(&server).await;
                    greeting = c.line().await;
                } else {
                    (c, _) = greeted(&server).await;
                    upgrade(&mut c, p).await;
                    greeting = if p == Protocol::Acap {
                        c.line().await
                    } else {
                        String::new()
                    };
                }
                let caps = match p {
                    Protocol::Acap => greeting,
                    _ => capabilities(&mut c, p).await,
                };
                let token = if p == Protocol::Pop3 {
                    "STLS"
                } else {
                    "STARTTLS"
                };
                symptom(
                    &mut s,
                    format!("{p} implicit={implicit}: {caps}"),
                    has_token(&caps, token),
                );
            }
        }
        Fault::StaleCapabilities => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                upgrade(&mut c, p).await;
                let caps = match p {
                    Protocol::Acap => c.line().await,
                    _ => capabilities(&mut c, p).await,
                };
                let token = if p == Protocol::Imap {
                    "AUTH=PLAIN"
                } else {
                    "PLAIN"
                };
                symptom(
                    &mut s,
                    format!("{p}: no PLAIN after TLS: {caps}"),
                    !has_token(&caps, token),
                );
                if p == Protocol::Imap {
                    symptom(
                        &mut s,
                        "IMAP: LOGINDISABLED after TLS",
                        has_token(&caps, "LOGINDISABLED"),
                    );
                }
            }
        }
        Fault::StarttlsNotAdvertised => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, greeting) = greeted(&server).await;
                let caps = match p {
                    Protocol::Acap => greeting,
                    _ => capabilities(&mut c, p).await,
                };
                let token = if p == Protocol::Pop3 {
                    "STLS"
                } else {
                    "STARTTLS"
                };
                symptom(
                    &mut s,
                    format!("{p}: not advertised: {caps}"),
                    !has_token(&caps, token),
                );
                upgrade(&mut c, p).await;
            }
        }
        Fault::StlsWithoutCapa => {
            for implicit in [false, true] {
                let server = serve(with(opts(Protocol::Pop3).implicit(implicit))).await;
                let mut c = if implicit {
                    Client::implicit(&server).await
                } else {
                    Client::connect(&server).await
                };
                c.line().await;
                c.send("CAPA\r\n").await;
                let answer = c.line().await;
                symptom(
                    &mut s,
                    format!("implicit={implicit}: CAPA {answer}"),
                    answer.starts_with("-ERR"),
                );
            }
        }
        Fault::GreetingBeforeHandshake => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p).implicit(true))).await;
                let mut c = Client::connect(&server).await;
                let plain = c.quiet(QUIET).await;
                symptom(
                    &mut s,
                    format!("{p}: plaintext before the handshake: {plain:?}"),
                    !plain.is_empty(),
                );
            }
        }
        Fault::NoCloseNotify => {
            for (p, implicit) in [
                (Protocol::Imap, false),
                (Protocol::Imap, true),
                (Protocol::Pop3, false),
                (Protocol::Pop3, true),
                (Protocol::Acap, false),
            ] {
                let server = serve(with(opts(p).implicit(implicit))).await;
                let mut c = if implicit {
                    Client::implicit(&server).await
                } else {
                    let (mut c, _) = greeted(&server).await;
                    upgrade(&mut c, p).await;
                    c
                };
                let quit = match p {
                    Protocol::Imap => "Z1 LOGOUT\r\n",
                    Protocol::Pop3 => "QUIT\r\n",
                    Protocol::Acap => "z1 LOGOUT\r\n",
                };
                c.send(quit).await;
                let end = c.end().await;
                assert_ne!(end, End::Open);
                symptom(
                    &mut s,
                    format!("{p} implicit={implicit}: {end:?}"),
                    end == End::NoCloseNotify,
                );
            }
        }
        Fault::LaxPlainParser => {
            for p in Protocol::ALL {
                for message in [&b"\0alice\0s3cret\0junk"[..], b"alice\0\0s3cret"] {
                    let server = serve(with(opts(p).implicit(true))).await;
                    let mut c = Client::implicit(&server).await;
                    c.line().await;
                    let answer = authenticate_answer(&mut c, p, message).await;
                    symptom(
                        &mut s,
                        format!("{p}: {message:?} -> {answer}"),
                        accepted(p, &answer),
                    );
                }
            }
        }
        Fault::ShortPlainFieldLimit => {
            let message = [&b"\0"[..], &[b'u'; 255], b"\0", &[b'p'; 255]].concat();
            for p in Protocol::ALL {
                let server = serve(with(opts(p).implicit(true))).await;
                let mut c = Client::implicit(&server).await;
                c.line().await;
                let answer = authenticate_answer(&mut c, p, &message).await;
                symptom(
                    &mut s,
                    format!("{p}: 255-octet fields -> {answer}"),
                    answer.contains("too long"),
                );
            }
        }
        Fault::StarttlsWithArguments => {
            for (p, line) in [
                (Protocol::Imap, "A1 STARTTLS A2 NOOP"),
                (Protocol::Pop3, "STLS now"),
                (Protocol::Acap, "a1 STARTTLS now"),
            ] {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                c.send(format!("{line}\r\n")).await;
                let answer = c.line().await;
                symptom(
                    &mut s,
                    format!("{p}: {line} -> {answer}"),
                    answer.starts_with(dialect(p).ok),
                );
            }
        }
        Fault::DataAfterStarttlsOk => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                let d = dialect(p);
                c.send(format!("{}\r\n", d.starttls)).await;
                assert!(c.line().await.starts_with(d.ok));
                let extra = c.quiet(QUIET).await;
                symptom(
                    &mut s,
                    format!("{p}: after the OK: {extra:?}"),
                    !extra.is_empty(),
                );
            }
        }
        Fault::GreetingAfterStls => {
            for p in [Protocol::Imap, Protocol::Pop3] {
                let server = serve(with(opts(p))).await;
                let (mut c, _) = greeted(&server).await;
                upgrade(&mut c, p).await;
                let first = c.quiet(QUIET).await;
                symptom(
                    &mut s,
                    format!("{p}: unsolicited inside TLS: {first:?}"),
                    !first.is_empty(),
                );
            }
        }
        Fault::AcapNoReissueGreeting => {
            let server = serve(with(opts(Protocol::Acap))).await;
            let (mut c, _) = greeted(&server).await;
            upgrade(&mut c, Protocol::Acap).await;
            let first = c.quiet(QUIET).await;
            symptom(
                &mut s,
                format!("no greeting inside TLS: {first:?}"),
                !first.starts_with("* ACAP"),
            );
        }
        Fault::KeepsPendingUserAfterStls => {
            let server = serve(with(opts(Protocol::Pop3).cleartext_login(true))).await;
            let (mut c, _) = greeted(&server).await;
            c.send("USER alice\r\n").await;
            assert!(c.line().await.starts_with("+OK"));
            upgrade(&mut c, Protocol::Pop3).await;
            c.send("PASS s3cret\r\n").await;
            let answer = c.line().await;
            symptom(
                &mut s,
                format!("PASS without USER inside TLS: {answer}"),
                answer.starts_with("+OK"),
            );
        }
        Fault::UserPassInCleartext => {
            let server = serve(with(opts(Protocol::Pop3))).await;
            let (mut c, _) = greeted(&server).await;
            let caps = capabilities(&mut c, Protocol::Pop3).await;
            assert!(
                !has_token(&caps, "USER"),
                "USER is not advertised either way"
            );
            c.send("USER alice\r\nPASS s3cret\r\n").await;
            c.line().await;
            let answer = c.line().await;
            symptom(
                &mut s,
                format!("cleartext PASS: {answer}"),
                answer.starts_with("+OK"),
            );
        }
        Fault::AuthenticatedByTls => {
            for (p, implicit) in [
                (Protocol::Imap, false),
                (Protocol::Imap, true),
                (Protocol::Pop3, false),
                (Protocol::Pop3, true),
                (Protocol::Acap, false),
            ] {
                let server = serve(with(opts(p).implicit(implicit))).await;
                let mut c = if implicit {
                    let mut c = Client::implicit(&server).await;
                    c.line().await;
                    c
                } else {
                    let (mut c, _) = greeted(&server).await;
                    upgrade(&mut c, p).await;
                    if p == Protocol::Acap {
                        c.line().await;
                    }
                    c
                };
                let opened = match p {
                    Protocol::Imap => {
                        c.send("S1 SELECT INBOX\r\n").await;
                        c.until("S1 ").await.pop().unwrap().starts_with("S1 OK")
                    }
                    Protocol::Pop3 => {
                        c.send("STAT\r\n").await;
                        c.line().await.starts_with("+OK")
                    }
                    // ACAP: a second AUTHENTICATE is refused only once authenticated.
                    Protocol::Acap => {
                        let answer = authenticate_answer(&mut c, p, b"\0alice\0s3cret").await;
                        answer.contains("Already authenticated")
                    }
                };
                symptom(
                    &mut s,
                    format!("{p} implicit={implicit}: authenticated without credentials"),
                    opened,
                );
            }
        }
        Fault::PlaintextAfterCloseNotify => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p).implicit(true))).await;
                let mut c = Client::implicit(&server).await;
                c.line().await;
                assert!(accepted(
                    p,
                    &authenticate_answer(&mut c, p, b"\0alice\0s3cret").await
                ));
                c.close_notify_keep_tcp().await;
                tokio::time::sleep(Duration::from_millis(30)).await;
                let (probe, answer) = match p {
                    Protocol::Imap => ("S1 SELECT INBOX\r\n", "S1 OK"),
                    Protocol::Pop3 => ("STAT\r\n", "+OK 1 "),
                    Protocol::Acap => ("n1 NOOP\r\n", "n1 OK"),
                };
                // The server may be gone already: a failed write is no symptom.
                if let Io::Plain(tcp) = &mut c.io {
                    let _ = tcp.write_all(probe.as_bytes()).await;
                }
                let text = c.quiet(Duration::from_millis(300)).await;
                symptom(
                    &mut s,
                    format!("{p}: plaintext answered after close_notify"),
                    text.contains(answer),
                );
            }
        }
        Fault::PreauthInCleartext => {
            let server = serve(with(opts(Protocol::Imap))).await;
            let (_, greeting) = greeted(&server).await;
            symptom(&mut s, greeting.clone(), greeting.starts_with("* PREAUTH"));
        }
        Fault::TagDifferentialInjection => {
            let server = serve(with(opts(Protocol::Imap))).await;
            let (mut c, _) = greeted(&server).await;
            c.send("NOOP\r\n A1 STARTTLS\r\nX1 NOOP\r\n").await;
            assert!(c.line().await.starts_with("* BAD"), "the untagged NOOP");
            let answer = c.line().await;
            // The reference refuses the indented line and answers X1 in cleartext.
            let executed = if answer.starts_with("A1 OK") {
                c.handshake().await.unwrap();
                probe_answered(&mut c, Protocol::Imap).await
            } else {
                assert!(answer.starts_with("* BAD"), "{answer}");
                assert!(c.line().await.starts_with("X1 OK"));
                false
            };
            symptom(
                &mut s,
                format!("{answer}: X1 executed inside TLS"),
                executed,
            );
        }
        Fault::AcceptsOldProtocols => {
            use mailtls::scenario::ast::LegacyHello::*;
            for kind in [Ssl2, Ssl3, Tls10, Tls11] {
                for (p, implicit) in [(Protocol::Imap, true), (Protocol::Pop3, false)] {
                    let reply = legacy_reply(with(opts(p).implicit(implicit)), kind).await;
                    symptom(
                        &mut s,
                        format!("{p} implicit={implicit} {kind:?}: {}", reply.describe()),
                        !reply.is_refusal(),
                    );
                }
            }
            // TLS 1.2 with weak suites is another fault's business.
            let reply = legacy_reply(with(opts(Protocol::Imap).implicit(true)), WeakSuites).await;
            assert!(reply.is_refusal(), "{}", reply.describe());
        }
        Fault::AcceptsWeakSuites => {
            use mailtls::scenario::ast::LegacyHello::*;
            for kind in [WeakSuites, Rfc2595Suite] {
                for (p, implicit) in [(Protocol::Imap, false), (Protocol::Acap, false)] {
                    let reply = legacy_reply(with(opts(p).implicit(implicit)), kind).await;
                    symptom(
                        &mut s,
                        format!("{p} implicit={implicit} {kind:?}: {}", reply.describe()),
                        !reply.is_refusal(),
                    );
                }
            }
            let reply = legacy_reply(with(opts(Protocol::Pop3).implicit(true)), Tls10).await;
            assert!(reply.is_refusal(), "{}", reply.describe());
        }
        Fault::RequestsClientCert => {
            for (p, implicit) in [(Protocol::Imap, true), (Protocol::Pop3, false)] {
                let server = serve(with(opts(p).implicit(implicit))).await;
                let mut c = Client::connect(&server).await;
                if !implicit {
                    c.line().await;
                    let d = dialect(p);
                    c.send(format!("{}\r\n", d.starttls)).await;
                    assert!(c.line().await.starts_with(d.ok));
                }
                let (config, record) = with_cert();
                c.handshake_with(&config).await.unwrap();
                symptom(
                    &mut s,
                    format!("{p} implicit={implicit}: CertificateRequest"),
                    record.asked(),
                );
            }
        }
        Fault::ExternalInCleartext => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p))).await;
                let (mut c, greeting) = greeted(&server).await;
                let caps = capabilities_or(&mut c, p, &greeting).await;
                symptom(
                    &mut s,
                    format!("{p}: EXTERNAL offered before TLS: {caps}"),
                    offers_external(p, &caps),
                );
                let answer = external_answer(&mut c, p).await;
                symptom(
                    &mut s,
                    format!("{p}: EXTERNAL accepted before TLS: {answer}"),
                    external_accepted(p, &answer),
                );
            }
        }
        Fault::ExternalWithoutCertificate => {
            for (p, implicit) in [
                (Protocol::Imap, false),
                (Protocol::Pop3, false),
                (Protocol::Pop3, true),
                (Protocol::Acap, false),
            ] {
                let server = serve(with(opts(p).implicit(implicit))).await;
                // Inside TLS, presenting no certificate.
                let (mut c, greeting) = if implicit {
                    let mut c = Client::implicit(&server).await;
                    let greeting = c.line().await;
                    (c, greeting)
                } else {
                    let (mut c, _) = greeted(&server).await;
                    upgrade(&mut c, p).await;
                    let greeting = if p == Protocol::Acap {
                        c.line().await
                    } else {
                        String::new()
                    };
                    (c, greeting)
                };
                let caps = capabilities_or(&mut c, p, &greeting).await;
                symptom(
                    &mut s,
                    format!(
                        "{p} implicit={implicit}: EXTERNAL offered without a certificate: {caps}"
                    ),
                    offers_external(p, &caps),
                );
                let answer = external_answer(&mut c, p).await;
                symptom(
                    &mut s,
                    format!(
                        "{p} implicit={implicit}: EXTERNAL accepted without a certificate: {answer}"
                    ),
                    external_accepted(p, &answer),
                );
            }
        }
        Fault::AuthOkStaysAuthorization => {
            for implicit in [false, true] {
                let server = serve(with(opts(Protocol::Pop3).implicit(implicit))).await;
                let mut c = if implicit {
                    let mut c = Client::implicit(&server).await;
                    c.line().await;
                    c
                } else {
                    let (mut c, _) = greeted(&server).await;
                    upgrade(&mut c, Protocol::Pop3).await;
                    c
                };
                let answer = authenticate_answer(&mut c, Protocol::Pop3, b"\0alice\0s3cret").await;
                assert_eq!(answer, "+OK Logged in");
                c.send("STAT\r\n").await;
                let stat = c.line().await;
                symptom(
                    &mut s,
                    format!("implicit={implicit}: STAT after the AUTH +OK: {stat}"),
                    !stat.starts_with("+OK"),
                );
            }
        }
        Fault::AuthenticatedByClientCert => {
            for (p, implicit) in [(Protocol::Pop3, true), (Protocol::Imap, false)] {
                let server = serve(with(with_client_certs(opts(p).implicit(implicit)))).await;
                let mut c = Client::connect(&server).await;
                if implicit {
                    c.handshake_with(&with_cert().0).await.unwrap();
                    c.line().await;
                } else {
                    c.line().await;
                    let d = dialect(p);
                    c.send(format!("{}\r\n", d.starttls)).await;
                    assert!(c.line().await.starts_with(d.ok));
                    c.handshake_with(&with_cert().0).await.unwrap();
                }
                let opened = match p {
                    Protocol::Imap => {
                        c.send("S1 SELECT INBOX\r\n").await;
                        c.until("S1 ").await.pop().unwrap().starts_with("S1 OK")
                    }
                    _ => {
                        c.send("STAT\r\n").await;
                        c.line().await.starts_with("+OK")
                    }
                };
                symptom(
                    &mut s,
                    format!("{p} implicit={implicit}: logged in by the certificate alone"),
                    opened,
                );
            }
        }
        Fault::DropsCommandsBeforeStarttls => {
            let server = serve(with(opts(Protocol::Imap))).await;
            let (mut c, _) = greeted(&server).await;
            c.send("A0 NOOP\r\nA1 STARTTLS\r\n").await;
            let first = c.line().await;
            symptom(
                &mut s,
                format!("the NOOP before STARTTLS is not answered: {first}"),
                !first.starts_with("A0 OK"),
            );
        }
        Fault::IgnoresPerUserPolicy => {
            for p in Protocol::ALL {
                let server = serve(with(opts(p).cleartext_login(true))).await;
                let (mut c, _) = greeted(&server).await;
                let answer = authenticate_answer(&mut c, p, b"\0tlsonly\0s3cret").await;
                symptom(
                    &mut s,
                    format!("{p}: TLS-only account, cleartext PLAIN: {answer}"),
                    accepted(p, &answer),
                );
                let (mut c, _) = greeted(&server).await;
                let (login, ok) = match p {
                    Protocol::Imap => ("L1 LOGIN tlsonly s3cret\r\n", "L1 OK"),
                    Protocol::Pop3 => ("USER tlsonly\r\nPASS s3cret\r\n", "+OK maildrop"),
                    // ACAP has no login command but AUTHENTICATE.
                    Protocol::Acap => continue,
                };
                c.send(login).await;
                let text = c.quiet(Duration::from_millis(200)).await;
                symptom(
                    &mut s,
                    format!("{p}: TLS-only account, cleartext login: {text:?}"),
                    text.contains(ok),
                );
                // The other accounts log in in cleartext either way.
                let (mut c, _) = greeted(&server).await;
                assert!(accepted(
                    p,
                    &authenticate_answer(&mut c, p, b"\0alice\0s3cret").await
                ));
            }
        }
    }
    s
}

/// What a server started with `opts` answers to a canned legacy ClientHello sent as
/// its first octets (implicit TLS) or right after the STARTTLS OK.
async fn legacy_reply(
    opts: ServerOptions,
    kind: mailtls::scenario::ast::LegacyHello,
) -> mailtls::tls::legacy::Reply {
    use mailtls::tls::legacy::{classify, client_hello};
    let p = opts.protocol;
    let implicit = opts.implicit;
    let server = serve(opts).await;
    let mut c = Client::connect(&server).await;
    if !implicit {
        c.line().await;
        let d = dialect(p);
        c.send(format!("{}\r\n", d.starttls)).await;
        assert!(c.line().await.starts_with(d.ok));
    }
    c.send(client_hello(kind)).await;
    let closed = loop {
        match c.fill(WAIT).await {
            Ok(0) | Err(_) => break true,
            Ok(_) if c.buf.len() >= 5 => break false,
            Ok(_) => {}
        }
    };
    classify(&c.buf, closed)
}

/// The reference shows none of `fault`'s symptoms; the faulty server shows them all.
async fn check(fault: Fault) {
    let reference = observe(fault, false).await;
    let showing: Vec<_> = reference.iter().filter(|(_, shows)| *shows).collect();
    assert!(
        showing.is_empty(),
        "{fault}: the reference shows {showing:?}"
    );
    let faulty = observe(fault, true).await;
    let missing: Vec<_> = faulty.iter().filter(|(_, shows)| !*shows).collect();
    assert!(!faulty.is_empty(), "{fault}: no symptom observed");
    assert!(
        missing.is_empty(),
        "{fault}: the defect does not show: {missing:?}"
    );
    for protocol in fault.protocols() {
        assert!(
            fault.applies_to(*protocol, false) || fault.applies_to(*protocol, true),
            "{fault} lists {protocol} but applies to no transport"
        );
    }
}

macro_rules! fault_tests {
    ($($name:ident: $fault:ident,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                check(Fault::$fault).await;
            }
        )*
        /// The faults with a test above.
        const TESTED: &[Fault] = &[$(Fault::$fault),*];
    };
}

fault_tests! {
    fault_executes_pipelined_after_starttls: ExecutesPipelinedAfterStarttls,
    fault_no_logindisabled: NoLogindisabled,
    fault_login_despite_logindisabled: LoginDespiteLogindisabled,
    fault_plain_in_cleartext: PlainInCleartext,
    fault_starttls_ok_when_tls_active: StarttlsOkWhenTlsActive,
    fault_starttls_when_authenticated: StarttlsWhenAuthenticated,
    fault_starttls_advertised_after_tls: StarttlsAdvertisedAfterTls,
    fault_stls_without_capa: StlsWithoutCapa,
    fault_stls_in_transaction: StlsInTransaction,
    fault_greeting_before_handshake: GreetingBeforeHandshake,
    fault_no_close_notify: NoCloseNotify,
    fault_lax_plain_parser: LaxPlainParser,
    fault_starttls_with_arguments: StarttlsWithArguments,
    fault_data_after_starttls_ok: DataAfterStarttlsOk,
    fault_stale_capabilities: StaleCapabilities,
    fault_greeting_after_stls: GreetingAfterStls,
    fault_keeps_pending_user_after_stls: KeepsPendingUserAfterStls,
    fault_acap_no_reissue_greeting: AcapNoReissueGreeting,
    fault_bare_lf_injection: BareLfInjection,
    fault_starttls_not_advertised: StarttlsNotAdvertised,
    fault_user_pass_in_cleartext: UserPassInCleartext,
    fault_executes_plaintext_after_starttls_ok: ExecutesPlaintextAfterStarttlsOk,
    fault_plaintext_fallback_on_tls_failure: PlaintextFallbackOnTlsFailure,
    fault_authenticated_by_tls: AuthenticatedByTls,
    fault_plaintext_after_close_notify: PlaintextAfterCloseNotify,
    fault_short_plain_field_limit: ShortPlainFieldLimit,
    fault_preauth_in_cleartext: PreauthInCleartext,
    fault_tag_differential_injection: TagDifferentialInjection,
    fault_drops_commands_before_starttls: DropsCommandsBeforeStarttls,
    fault_ignores_per_user_policy: IgnoresPerUserPolicy,
    fault_accepts_old_protocols: AcceptsOldProtocols,
    fault_accepts_weak_suites: AcceptsWeakSuites,
    fault_requests_client_cert: RequestsClientCert,
    fault_external_in_cleartext: ExternalInCleartext,
    fault_authenticated_by_client_cert: AuthenticatedByClientCert,
    fault_external_without_certificate: ExternalWithoutCertificate,
    fault_auth_ok_stays_authorization: AuthOkStaysAuthorization,
}

#[test]
fn every_fault_has_a_wire_test() {
    for fault in Fault::ALL {
        assert!(TESTED.contains(&fault), "{fault} has no wire test");
    }
    assert_eq!(TESTED.len(), Fault::ALL.len());
}

#[tokio::test]
async fn bare_lf_fault_leaves_crlf_injection_alone() {
    // bare-lf-injection is reachable only with a bare LF: with CRLF it discards.
    for p in Protocol::ALL {
        let server = serve(opts(p).with_fault(Fault::BareLfInjection)).await;
        let (mut c, _) = greeted(&server).await;
        let probe = format!("{}\r\n", dialect(p).probe);
        upgrade_with(&mut c, p, "\r\n", &probe).await;
        assert!(!probe_answered(&mut c, p).await, "{p}");
    }
}
