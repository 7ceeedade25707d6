//! [`Conn`]: one TCP connection, plaintext or TLS, as the engine drives it. Every write
//! and every read chunk is recorded in the connection's [`Transcript`]; every read is
//! bounded by a deadline and by the buffer limits, so a silent, slow or flooding peer
//! fails a step instead of hanging the harness.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::time::{self as ttime, timeout, timeout_at};

use super::error::NetError;
use super::input::{Ending, Input, Take, TakenLine};
use super::prefixed::Prefixed;
use super::stream::Stream;
use super::transcript::{Direction, Event, Phase, Transcript};

/// Octets asked for per read call (less when the buffer limit is near).
const READ_CHUNK: usize = 16 * 1024;

/// Limits and bookkeeping for one connection.
#[derive(Clone, Debug)]
pub struct ConnOptions {
    /// How long one read step (a line, a peek, a handshake, a write) may take. Default 5 s.
    pub read_timeout: Duration,
    /// How long connecting (server role) or waiting for a client (client role) may take.
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// The longest line accepted, terminator excluded. Default 64 KiB.
    pub max_line: usize,
    /// The most octets buffered unconsumed at any time. Default 1 MiB; never less than
    /// `max_line + 2`.
    pub max_buffer: usize,
    /// The transcript's connection number: 1 for the first connection of a scenario.
    pub connection: u32,
    /// The transcript clock's origin: when the scenario started.
    pub started: Instant,
}

impl Default for ConnOptions {
    fn default() -> Self {
        Self {
            read_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            max_line: 64 * 1024,
            max_buffer: 1024 * 1024,
            connection: 1,
            started: Instant::now(),
        }
    }
}

/// How the peer ended its side of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseHow {
    /// Inside TLS: a close_notify alert (the TCP connection may still be open).
    CloseNotify,
    /// Inside TLS: the TCP connection ended without a close_notify (a truncation
    /// attack looks like this).
    EofWithoutCloseNotify,
    /// In plaintext: an orderly TCP close.
    Fin,
    /// The connection was reset.
    Rst,
}

impl CloseHow {
    /// As the transcript spells it: `close_notify`, `EOF without close_notify`, `FIN`, `RST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CloseNotify => "close_notify",
            Self::EofWithoutCloseNotify => "EOF without close_notify",
            Self::Fin => "FIN",
            Self::Rst => "RST",
        }
    }
}

impl std::fmt::Display for CloseHow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`Conn::read_line`] got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadLine {
    /// One line.
    Line {
        /// The line without its terminator.
        bytes: Vec<u8>,
        /// How it ended ([`Ending::None`]: the peer closed right after it).
        ending: Ending,
        /// Index into [`Conn::transcript`]`.entries` of the read that carried its first octet.
        entry: usize,
    },
    /// The peer closed its side and nothing is left to read.
    Closed {
        /// Whether a TLS close_notify was received.
        close_notify: bool,
        /// How the peer closed.
        how: CloseHow,
    },
}

/// One connection: TCP that can upgrade to TLS in place, with its transcript.
#[derive(Debug)]
pub struct Conn {
    pub(super) stream: Stream,
    pub(super) opts: ConnOptions,
    pub(super) transcript: Transcript,
    pub(super) input: Input,
    pub(super) peer: SocketAddr,
    pub(super) peer_closed: Option<CloseHow>,
    pub(super) write_closed: bool,
}

/// The outcome of one bounded read.
enum Chunk {
    /// Octets arrived (and were buffered and recorded).
    Data,
    /// The peer has closed (now or before).
    Eof,
    /// The deadline passed.
    TimedOut,
}

impl Conn {
    /// Connects to `addr` (TCP_NODELAY on) within `opts.connect_timeout`.
    pub async fn connect(addr: SocketAddr, opts: ConnOptions) -> Result<Self, NetError> {
        let waited = opts.connect_timeout;
        let tcp = match timeout(waited, TcpStream::connect(addr)).await {
            Err(_) => return Err(NetError::ConnectTimeout { addr, waited }),
            Ok(Err(source)) => return Err(NetError::Connect { addr, source }),
            Ok(Ok(tcp)) => tcp,
        };
        Self::from_tcp(tcp, opts)
    }

    /// Waits up to `opts.connect_timeout` for a client on `listener` (client role:
    /// mailtls is the server).
    pub async fn accept(listener: &TcpListener, opts: ConnOptions) -> Result<Self, NetError> {
        let waited = opts.connect_timeout;
        let tcp = match timeout(waited, listener.accept()).await {
            Err(_) => return Err(NetError::AcceptTimeout { waited }),
            Ok(Err(source)) => {
                return Err(NetError::Io {
                    op: "accept",
                    source,
                });
            }
            Ok(Ok((tcp, _))) => tcp,
        };
        Self::from_tcp(tcp, opts)
    }

    /// Takes over a connected socket (TCP_NODELAY on) and records `Connected`.
    pub fn from_tcp(tcp: TcpStream, opts: ConnOptions) -> Result<Self, NetError> {
        tcp.set_nodelay(true).map_err(|source| NetError::Io {
            op: "setting TCP_NODELAY",
            source,
        })?;
        let peer = tcp.peer_addr().map_err(|source| NetError::Io {
            op: "reading the peer address",
            source,
        })?;
        let mut opts = opts;
        opts.max_buffer = opts.max_buffer.max(opts.max_line.saturating_add(2));
        let mut conn = Self {
            stream: Stream::Plain(Prefixed::new(tcp)),
            opts,
            transcript: Transcript::new(),
            input: Input::default(),
            peer,
            peer_closed: None,
            write_closed: false,
        };
        conn.record(Event::Connected {
            peer: peer.to_string(),
        });
        Ok(conn)
    }

    /// The options this connection runs with.
    pub fn options(&self) -> &ConnOptions {
        &self.opts
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Whether application data now travels inside TLS.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// How the peer closed, once a read saw it.
    pub fn peer_closed(&self) -> Option<CloseHow> {
        self.peer_closed
    }

    /// Octets received and not consumed yet.
    pub fn pending(&self) -> &[u8] {
        self.input.pending()
    }

    /// Everything recorded on this connection so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Hands the transcript over, leaving an empty one (call it when the connection is
    /// done: [`ReadLine::Line::entry`] indexes the transcript as it was before).
    pub fn take_transcript(&mut self) -> Transcript {
        std::mem::take(&mut self.transcript)
    }

    /// Records a harness step (`[wait 50ms]`, a silence that held).
    pub fn note(&mut self, text: impl Into<String>) {
        self.record(Event::Note { text: text.into() });
    }

    /// Appends an event; returns its index.
    pub(super) fn record(&mut self, event: Event) -> usize {
        let at = self.opts.started.elapsed();
        self.transcript.push(at, self.opts.connection, event);
        self.transcript.entries.len().saturating_sub(1)
    }

    /// Writes `bytes` with one write call, then flushes: several pipelined lines given
    /// together leave together.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        if self.write_closed || matches!(self.stream, Stream::Gone) {
            return Err(NetError::Closed);
        }
        let phase = self.stream.phase();
        self.record(Event::Data {
            direction: Direction::Sent,
            phase,
            bytes: bytes.to_vec(),
        });
        let waited = self.opts.read_timeout;
        match timeout(waited, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Err(_) => {
                self.note(format!("the write of {} octets timed out", bytes.len()));
                Err(NetError::WriteTimeout {
                    len: bytes.len(),
                    waited,
                })
            }
            Ok(Err(e)) => {
                let err = io_or_tls("write", e);
                self.note(format!("the write failed: {err}"));
                Err(err)
            }
        }
    }

    /// The next line, within `read_timeout`.
    pub async fn read_line(&mut self) -> Result<ReadLine, NetError> {
        let deadline = ttime::Instant::now() + self.opts.read_timeout;
        loop {
            match self.input.take_line(self.opts.max_line) {
                Take::Line(line) => return Ok(line_of(line)),
                Take::TooLong => {
                    return Err(NetError::LineTooLong {
                        limit: self.opts.max_line,
                    });
                }
                Take::NeedMore => {}
            }
            if let Some(how) = self.peer_closed {
                return Ok(match self.input.take_rest() {
                    Some(line) => line_of(line),
                    None => ReadLine::Closed {
                        close_notify: how == CloseHow::CloseNotify,
                        how,
                    },
                });
            }
            match self.read_chunk(deadline).await? {
                Chunk::Data | Chunk::Eof => {}
                Chunk::TimedOut => {
                    return Err(NetError::Timeout {
                        waited: self.opts.read_timeout,
                        partial: self.input.pending().to_vec(),
                    });
                }
            }
        }
    }

    /// Whatever is buffered plus whatever arrives within `window` (up to `max_buffer`
    /// octets); stops early if the peer closes ([`Conn::peer_closed`] says how). An empty
    /// result means silence held.
    pub async fn read_within(&mut self, window: Duration) -> Result<Vec<u8>, NetError> {
        let deadline = ttime::Instant::now() + window;
        loop {
            match self.read_chunk(deadline).await {
                Ok(Chunk::Data) => {}
                Ok(Chunk::Eof | Chunk::TimedOut) => return Ok(self.input.take_all()),
                Err(e) => {
                    if matches!(e, NetError::BufferFull { .. }) {
                        self.input.take_all();
                    }
                    return Err(e);
                }
            }
        }
    }

    /// The next octet without consuming it (`Some(0x16)`: the peer starts a TLS
    /// handshake), within `read_timeout`; `None` if the peer closed. In plaintext with
    /// nothing buffered the socket is only peeked, so a TLS acceptor still reads the
    /// octet and nothing of a ClientHello lands in the transcript as plaintext.
    pub async fn peek_first_byte(&mut self) -> Result<Option<u8>, NetError> {
        if let Some(&first) = self.input.pending().first() {
            return Ok(Some(first));
        }
        if self.peer_closed.is_some() {
            return Ok(None);
        }
        let waited = self.opts.read_timeout;
        let deadline = ttime::Instant::now() + waited;
        if let Stream::Plain(plain) = &self.stream {
            if plain.pending().is_empty() {
                let mut one = [0u8; 1];
                match timeout_at(deadline, plain.get_ref().peek(&mut one)).await {
                    Err(_) => {
                        return Err(NetError::Timeout {
                            waited,
                            partial: Vec::new(),
                        });
                    }
                    Ok(Ok(n)) if n > 0 => return Ok(Some(one[0])),
                    // EOF or an error: a real read records it.
                    Ok(_) => {}
                }
            }
        }
        match self.read_chunk(deadline).await? {
            Chunk::TimedOut => Err(NetError::Timeout {
                waited,
                partial: Vec::new(),
            }),
            Chunk::Data | Chunk::Eof => Ok(self.input.pending().first().copied()),
        }
    }

    /// One read of at most what the buffer limit allows, before `deadline`; records the
    /// octets or the way the peer closed.
    async fn read_chunk(&mut self, deadline: ttime::Instant) -> Result<Chunk, NetError> {
        if self.peer_closed.is_some() {
            return Ok(Chunk::Eof);
        }
        if matches!(self.stream, Stream::Gone) {
            return Err(NetError::Closed);
        }
        let limit = self.opts.max_buffer;
        let room = limit.saturating_sub(self.input.pending().len());
        if room == 0 {
            return Err(NetError::BufferFull { limit });
        }
        let mut buf = vec![0u8; room.min(READ_CHUNK)];
        let phase = self.stream.phase();
        match timeout_at(deadline, self.stream.read(&mut buf)).await {
            Err(_) => Ok(Chunk::TimedOut),
            Ok(Ok(0)) => {
                self.peer_closes(match phase {
                    Phase::Tls => CloseHow::CloseNotify,
                    Phase::Plaintext => CloseHow::Fin,
                });
                Ok(Chunk::Eof)
            }
            Ok(Ok(n)) => {
                let bytes = buf.get(..n).unwrap_or_default().to_vec();
                let entry = self.record(Event::Data {
                    direction: Direction::Received,
                    phase,
                    bytes: bytes.clone(),
                });
                self.input.push(&bytes, entry);
                Ok(Chunk::Data)
            }
            Ok(Err(e)) => match closure_of(&e, phase) {
                Some(how) => {
                    self.peer_closes(how);
                    Ok(Chunk::Eof)
                }
                None => {
                    let err = io_or_tls("read", e);
                    self.note(format!("the read failed: {err}"));
                    Err(err)
                }
            },
        }
    }

    /// Records how the peer closed and remembers it.
    fn peer_closes(&mut self, how: CloseHow) {
        self.peer_closed = Some(how);
        self.record(match how {
            CloseHow::CloseNotify => Event::CloseNotify {
                direction: Direction::Received,
            },
            other => Event::Closed {
                direction: Direction::Received,
                how: other.as_str().to_owned(),
            },
        });
    }

    /// TLS: sends close_notify, then FIN. Reading stays possible (the peer's
    /// close_notify may follow).
    pub async fn send_close_notify(&mut self) -> Result<(), NetError> {
        if !self.stream.is_tls() {
            return Err(NetError::NotTls);
        }
        if self.write_closed {
            return Err(NetError::Closed);
        }
        self.write_closed = true;
        self.record(Event::CloseNotify {
            direction: Direction::Sent,
        });
        self.shutdown_with(true).await
    }

    /// TLS: sends close_notify but keeps TCP open; reads and writes after it are
    /// plaintext. A peer in privacy mode must now end the session (RFC 2595 §2.2).
    pub async fn send_close_notify_keep_open(&mut self) -> Result<(), NetError> {
        if !self.stream.is_tls() {
            return Err(NetError::NotTls);
        }
        if self.write_closed {
            return Err(NetError::Closed);
        }
        self.record(Event::CloseNotify {
            direction: Direction::Sent,
        });
        let waited = self.opts.read_timeout;
        match timeout(waited, self.stream.end_tls_keep_tcp()).await {
            Ok(Ok(())) => {
                self.note("TCP kept open after close_notify: plaintext from here");
                Ok(())
            }
            Ok(Err(e)) => Err(io_or_tls("close_notify", e)),
            Err(_) => Err(NetError::WriteTimeout { len: 0, waited }),
        }
    }

    /// FIN without close_notify (in TLS: a truncation, as a faulty peer would do it).
    /// Reading stays possible. Closing twice is not an error.
    pub async fn close(&mut self) -> Result<(), NetError> {
        if self.write_closed || matches!(self.stream, Stream::Gone) {
            return Ok(());
        }
        self.write_closed = true;
        self.shutdown_with(false).await
    }

    async fn shutdown_with(&mut self, close_notify: bool) -> Result<(), NetError> {
        self.record(Event::Closed {
            direction: Direction::Sent,
            how: "FIN".to_owned(),
        });
        let waited = self.opts.read_timeout;
        let result = if close_notify {
            timeout(waited, self.stream.shutdown()).await
        } else {
            timeout(waited, self.stream.shutdown_tcp()).await
        };
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            Ok(Err(e)) => Err(io_or_tls("shutdown", e)),
            Err(_) => Err(NetError::WriteTimeout { len: 0, waited }),
        }
    }

    /// Resets the connection (RST: SO_LINGER 0, then close). Nothing can be read after.
    pub fn reset(&mut self) {
        if let Some(tcp) = self.stream.tcp() {
            // Without SO_LINGER 0 this is an ordinary close; the transcript says which.
            let how = match tcp.set_zero_linger() {
                Ok(()) => "RST",
                Err(_) => "FIN",
            };
            self.record(Event::Closed {
                direction: Direction::Sent,
                how: how.to_owned(),
            });
        }
        self.stream = Stream::Gone;
        self.write_closed = true;
    }
}

fn line_of(line: TakenLine) -> ReadLine {
    ReadLine::Line {
        bytes: line.bytes,
        ending: line.ending,
        entry: line.entry,
    }
}

/// A read error that is the peer closing: RST anywhere, EOF without close_notify in TLS.
fn closure_of(e: &io::Error, phase: Phase) -> Option<CloseHow> {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Some(CloseHow::Rst),
        io::ErrorKind::UnexpectedEof if phase == Phase::Tls => {
            Some(CloseHow::EofWithoutCloseNotify)
        }
        _ => None,
    }
}

/// rustls's own error text when there is one inside, else the IO error.
pub(super) fn io_or_tls(op: &'static str, e: io::Error) -> NetError {
    match tls_text(&e) {
        Some(text) => NetError::Tls(text),
        None => NetError::Io { op, source: e },
    }
}

/// The rustls error inside an IO error from tokio-rustls, as text.
pub(super) fn tls_text(e: &io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(ToString::to_string)
}
