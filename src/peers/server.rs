//! The reference server's options, its TCP listener, and the loop that drives one
//! protocol session over one connection.
//!
//! [`spawn_server`] binds a listener and serves every connection in its own tokio task
//! until the [`RunningServer`] is shut down or dropped. [`serve_connection`] runs one
//! session over any `AsyncRead + AsyncWrite` stream (a `TcpStream`, or one end of
//! `tokio::io::duplex` for in-memory runs).

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use super::acap::AcapSession;
use super::fault::Fault;
use super::imap::ImapSession;
use super::io::{Conn, READ_CHUNK, Upgrade};
use super::pop3::Pop3Session;
use super::session::{Session, Step};
use crate::model::Protocol;

/// The accounts of a default server: `alice`/`s3cret` (the victim),
/// `attacker`/`attackerpw` (the account an injection attack logs into) and
/// `tlsonly`/`s3cret` (one of [`DEFAULT_TLS_ONLY_USERS`]).
pub const DEFAULT_USERS: &[(&str, &str)] = &[
    ("alice", "s3cret"),
    ("attacker", "attackerpw"),
    ("tlsonly", "s3cret"),
];

/// The accounts of a default server that may log in only once TLS is active, even
/// where cleartext logins are allowed (RFC 2595 §2.3: servers "SHOULD be configurable to
/// refuse clear-text logins both for the entire server, and on a per-user basis").
/// They share `alice`'s password, so a scenario can log in as one with `{password}`.
pub const DEFAULT_TLS_ONLY_USERS: &[&str] = &["tlsonly"];

/// Bounds on what one connection may cost the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// The longest command line accepted, terminator included (default 8 KiB). A longer
    /// line ends the connection with `* BYE` / `-ERR`.
    pub max_line: usize,
    /// The largest literal accepted in an IMAP or ACAP command (default 64 KiB).
    pub max_literal: usize,
    /// How long a read, a write or a handshake may wait (default 10 s).
    pub idle_timeout: Duration,
    /// How many connections are served at once; more are closed at once (default 64).
    pub max_connections: usize,
}

impl ServerLimits {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        max_line: 8 * 1024,
        max_literal: 64 * 1024,
        idle_timeout: Duration::from_secs(10),
        max_connections: 64,
    };

    /// The codec limits these bounds imply.
    pub(crate) fn proto(&self) -> crate::proto::line::Limits {
        crate::proto::line::Limits {
            max_line: self.max_line,
            max_literal: self.max_literal,
            max_message: self
                .max_line
                .saturating_mul(2)
                .saturating_add(self.max_literal),
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How the reference server behaves.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// IMAP, POP3 or ACAP.
    pub protocol: Protocol,
    /// An implicit-TLS port (993/995 style): the handshake comes first, the greeting is
    /// the first data inside TLS, and STARTTLS/STLS is refused.
    pub implicit: bool,
    /// The defects switched on (none: the conformant reference).
    pub faults: BTreeSet<Fault>,
    /// The certificate and TLS settings presented.
    pub tls: Arc<rustls::ServerConfig>,
    /// The same certificate with settings that ask for a client certificate (optional)
    /// and verify it; used when `accepts_client_certs`, and by
    /// [`Fault::RequestsClientCert`].
    pub client_auth_tls: Option<Arc<rustls::ServerConfig>>,
    /// The `client-cert=optional` profile: the server asks for a client certificate and
    /// takes one whose name is an account as that account's credential for SASL EXTERNAL
    /// inside TLS (RFC 8314 §4.2, as the catalogue reads it). It never logs a session in
    /// by the certificate alone. Default `false`: no CertificateRequest at all.
    pub accepts_client_certs: bool,
    /// The accounts, `(user, password)`; every one has the same one-message INBOX.
    pub users: Vec<(String, String)>,
    /// The `cleartext-auth=allowed` profile (catalogue §1.3): LOGIN (IMAP), USER/PASS
    /// (POP3) and PLAIN (all three) are advertised and accepted before TLS, and IMAP
    /// does not advertise LOGINDISABLED. Default `false`: all of them are refused until
    /// TLS is active (RFC 2595 §2.3, §3.2, §6), which is what most scenarios assume; the
    /// session-fixation scenarios need `true` to authenticate before STARTTLS.
    pub cleartext_login: bool,
    /// Accounts refused before TLS even when `cleartext_login` allows the others (the
    /// per-user policy of RFC 2595 §2.3). Default [`DEFAULT_TLS_ONLY_USERS`].
    pub tls_only_users: Vec<String>,
    /// Per-connection bounds.
    pub limits: ServerLimits,
}

impl ServerOptions {
    /// The conformant reference for `protocol` on a cleartext (STARTTLS) port, with the
    /// default users, cleartext login refused and default limits.
    pub fn new(protocol: Protocol, tls: Arc<rustls::ServerConfig>) -> Self {
        Self {
            protocol,
            implicit: false,
            faults: BTreeSet::new(),
            tls,
            client_auth_tls: None,
            accepts_client_certs: false,
            users: DEFAULT_USERS
                .iter()
                .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
            cleartext_login: false,
            tls_only_users: DEFAULT_TLS_ONLY_USERS
                .iter()
                .map(|u| (*u).to_owned())
                .collect(),
            limits: ServerLimits::DEFAULT,
        }
    }

    /// The same options on an implicit-TLS port (or not).
    #[must_use]
    pub fn implicit(mut self, implicit: bool) -> Self {
        self.implicit = implicit;
        self
    }

    /// The same options with `fault` switched on as well.
    #[must_use]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.insert(fault);
        self
    }

    /// The same options in the `cleartext-auth=allowed` profile (or not).
    #[must_use]
    pub fn cleartext_login(mut self, allowed: bool) -> Self {
        self.cleartext_login = allowed;
        self
    }

    /// Whether `fault` is switched on.
    pub fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    /// The same options accepting client certificates with `tls` (the
    /// `client-cert=optional` profile).
    #[must_use]
    pub fn client_certs(mut self, tls: Arc<rustls::ServerConfig>) -> Self {
        self.client_auth_tls = Some(tls);
        self.accepts_client_certs = true;
        self
    }

    /// The TLS settings a handshake uses.
    pub(crate) fn handshake_tls(&self) -> &Arc<rustls::ServerConfig> {
        let ask = self.accepts_client_certs || self.has(Fault::RequestsClientCert);
        match &self.client_auth_tls {
            Some(config) if ask => config,
            _ => &self.tls,
        }
    }

    /// The account a verified client certificate names, when this server takes client
    /// certificates at all: its CN or a dNSName equal to an account's name.
    pub(crate) fn certificate_user(&self, der: &[u8]) -> Option<String> {
        if !self.accepts_client_certs {
            return None;
        }
        let names = crate::identity::cert::CertificateNames::from_der(der).ok()?;
        self.users
            .iter()
            .map(|(user, _)| user)
            .find(|user| {
                names
                    .common_names
                    .iter()
                    .chain(&names.dns_names)
                    .any(|n| n == *user)
            })
            .cloned()
    }

    /// Whether `user` must not authenticate before TLS whatever the profile: one of the
    /// TLS-only accounts (unless [`Fault::IgnoresPerUserPolicy`]).
    pub(crate) fn tls_only(&self, user: &[u8]) -> bool {
        !self.has(Fault::IgnoresPerUserPolicy)
            && self.tls_only_users.iter().any(|u| u.as_bytes() == user)
    }

    /// Options for unit tests of the session logic (a throwaway certificate).
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        use crate::certs::{Authority, LeafSpec};
        let ca = Authority::new().expect("CA");
        let leaf = ca
            .issue(&LeafSpec::for_names(&["mail.example.test"]))
            .expect("leaf");
        Self::new(Protocol::Imap, leaf.server_config().expect("config"))
    }
}

/// A reference server serving connections in the background.
///
/// Dropping it stops the listener and aborts every connection; [`shutdown`](Self::shutdown)
/// does the same and waits until they are gone.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the listener, aborts every connection, and waits until they are gone.
    pub async fn shutdown(mut self) {
        drop(self.stop.take());
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts a reference server on `127.0.0.1` with an ephemeral port.
///
/// # Errors
///
/// The listener could not be bound.
pub async fn spawn_server(opts: ServerOptions) -> io::Result<RunningServer> {
    spawn_server_at(SocketAddr::from(([127, 0, 0, 1], 0)), opts).await
}

/// Starts a reference server listening on `addr`.
///
/// # Errors
///
/// The listener could not be bound.
pub async fn spawn_server_at(addr: SocketAddr, opts: ServerOptions) -> io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let opts = Arc::new(opts);
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        if connections.len() >= opts.limits.max_connections {
                            drop(stream);
                            continue;
                        }
                        let _ = stream.set_nodelay(true);
                        let opts = Arc::clone(&opts);
                        connections.spawn(async move {
                            let _ = serve_connection(stream, &opts).await;
                        });
                    }
                    // Out of descriptors or an aborted handshake: back off a moment.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
            }
        }
        connections.shutdown().await;
    });
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Serves one connection over `stream` until the client leaves, the session ends
/// (LOGOUT, QUIT, a fatal error) or the idle timeout passes.
///
/// # Errors
///
/// The stream failed, the TLS handshake failed, or the client was idle too long; the
/// connection is closed in every case.
pub async fn serve_connection<S>(stream: S, opts: &ServerOptions) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match opts.protocol {
        Protocol::Imap => drive(ImapSession::new(opts), stream, opts).await,
        Protocol::Pop3 => drive(Pop3Session::new(opts), stream, opts).await,
        Protocol::Acap => drive(AcapSession::new(opts), stream, opts).await,
    }
}

async fn drive<T, S>(mut session: T, stream: S, opts: &ServerOptions) -> io::Result<()>
where
    T: Session,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = Conn::new(stream, opts.limits.idle_timeout);
    let result = run(&mut session, &mut conn, opts).await;
    match result {
        Ok(close_notify) => {
            conn.close(close_notify).await;
            Ok(())
        }
        Err(error) => {
            conn.close(false).await;
            Err(error)
        }
    }
}

/// Runs the session; `Ok(close_notify)` says how to close a TLS connection.
async fn run<T, S>(session: &mut T, conn: &mut Conn<S>, opts: &ServerOptions) -> io::Result<bool>
where
    T: Session,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut out = Vec::new();
    if opts.implicit {
        if opts.has(Fault::GreetingBeforeHandshake) {
            session.greeting(&mut out);
            conn.write_all(&out).await?;
            out.clear();
        }
        conn.accept_tls(opts).await?;
        session.client_user(client_user(conn, opts));
    }
    session.greeting(&mut out);
    conn.write_all(&out).await?;
    out.clear();
    let mut buf = vec![0; READ_CHUNK];
    loop {
        match session.step(&mut out) {
            Step::Continue => {}
            Step::NeedInput => {
                conn.write_all(&out).await?;
                out.clear();
                let n = conn.read(&mut buf).await?;
                if n == 0 {
                    if conn.is_tls() && opts.has(Fault::PlaintextAfterCloseNotify) {
                        conn.drop_tls();
                        session.tls_dropped();
                        continue;
                    }
                    // The client closed (inside TLS: with close_notify); answer in kind.
                    return Ok(true);
                }
                session.push(buf.get(..n).unwrap_or_default());
            }
            Step::StartTls { ending, indented } => {
                conn.write_all(&out).await?;
                out.clear();
                let pending = session.take_buffered();
                match conn.start_tls(opts, pending, ending, indented).await? {
                    Upgrade::Tls { replay } => {
                        session.client_user(client_user(conn, opts));
                        session.tls_started(&mut out);
                        session.push(&replay);
                    }
                    Upgrade::Plaintext { replay } => session.push(&replay),
                }
            }
            Step::Close => {
                conn.write_all(&out).await?;
                return Ok(!opts.has(Fault::NoCloseNotify));
            }
        }
    }
}

/// The account the client certificate of `conn`'s TLS session names, if any.
fn client_user<S>(conn: &Conn<S>, opts: &ServerOptions) -> Option<String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    conn.client_certificate()
        .and_then(|der| opts.certificate_user(der))
}
