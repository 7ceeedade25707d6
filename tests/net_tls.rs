//! `net::Conn` and `tls::ClientTls` over real sockets on 127.0.0.1: STARTTLS in place in
//! both roles, implicit TLS, what the transcript records, every read bounded, and how the
//! harness's TLS client judges chains and names.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailtls::certs::{Authority, Leaf, LeafSpec};
use mailtls::identity::{Rules, Verdict};
use mailtls::net::transcript::{Direction, Event, Phase, Transcript};
use mailtls::net::{CloseHow, Conn, ConnOptions, Ending, NetError, ReadLine};
use mailtls::tls::{ChainVerdict, ClientTls, ClientTrust, PeerRecord};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const NAME: &str = "mail.example.test";
const SHORT: Duration = Duration::from_millis(300);

fn opts() -> ConnOptions {
    ConnOptions {
        read_timeout: SHORT,
        connect_timeout: SHORT,
        ..ConnOptions::default()
    }
}

fn name(n: &str) -> ServerName<'static> {
    ServerName::try_from(n.to_owned()).unwrap()
}

fn pki(names: &[&str]) -> (Authority, Leaf) {
    let ca = Authority::new().unwrap();
    let leaf = ca.issue(&LeafSpec::for_names(names)).unwrap();
    (ca, leaf)
}

fn trusting(ca: &Authority, insecure: bool) -> ClientTls {
    ClientTls::new(&ClientTrust::Ca(vec![ca.cert_der().clone()]), insecure).unwrap()
}

fn client_config(ca: &Authority) -> (Arc<rustls::ClientConfig>, Arc<PeerRecord>) {
    trusting(ca, false).config().unwrap()
}

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Reads one CRLF line from a raw test-side stream, octet by octet (nothing read ahead).
async fn raw_line<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut line = Vec::new();
    while !line.ends_with(b"\r\n") {
        let mut one = [0u8; 1];
        if s.read(&mut one).await.unwrap() == 0 {
            break;
        }
        line.push(one[0]);
    }
    line
}

fn line(conn_line: ReadLine) -> Vec<u8> {
    match conn_line {
        ReadLine::Line { bytes, .. } => bytes,
        other => panic!("expected a line, got {other:?}"),
    }
}

/// The transcript as short tags: `C`onnected, `>p`/`<p` data sent/received in plaintext,
/// `>t`/`<t` in TLS, `TLS+`, `TLS!`, `TLS-`, close events.
fn shape(t: &Transcript) -> Vec<String> {
    t.entries
        .iter()
        .map(|e| match &e.event {
            Event::Connected { .. } => "C".to_owned(),
            Event::Data {
                direction, phase, ..
            } => format!(
                "{}{}",
                if *direction == Direction::Sent {
                    '>'
                } else {
                    '<'
                },
                if *phase == Phase::Tls { 't' } else { 'p' }
            ),
            Event::TlsStarted => "TLS".to_owned(),
            Event::TlsEstablished { .. } => "TLS+".to_owned(),
            Event::TlsFailed { .. } => "TLS!".to_owned(),
            Event::CloseNotify { direction } => format!("close_notify{direction:?}"),
            Event::Closed { direction, how } => format!("closed{direction:?}:{how}"),
            Event::Note { .. } => "note".to_owned(),
        })
        .collect()
}

fn data(t: &Transcript, direction: Direction) -> Vec<(Phase, Vec<u8>)> {
    t.entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Data {
                direction: d,
                phase,
                bytes,
            } if *d == direction => Some((*phase, bytes.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn starttls_upgrades_the_same_connection_and_the_transcript_marks_the_boundary() {
    let (ca, leaf) = pki(&[NAME]);
    let acceptor = TlsAcceptor::from(leaf.server_config().unwrap());
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.write_all(b"* OK ready\r\n").await.unwrap();
        assert_eq!(raw_line(&mut tcp).await, b"A1 STARTTLS\r\n");
        tcp.write_all(b"A1 OK Begin TLS\r\n").await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        assert_eq!(raw_line(&mut tls).await, b"A2 NOOP\r\n");
        tls.write_all(b"A2 OK done\r\n").await.unwrap();
        tls.shutdown().await.unwrap();
    });

    let (config, record) = client_config(&ca);
    let mut conn = Conn::connect(addr, opts()).await.unwrap();
    assert_eq!(line(conn.read_line().await.unwrap()), b"* OK ready");
    conn.write_all(b"A1 STARTTLS\r\n").await.unwrap();
    assert_eq!(line(conn.read_line().await.unwrap()), b"A1 OK Begin TLS");
    let summary = conn.upgrade_client(config, name(NAME)).await.unwrap();
    assert!(summary.unconsumed_plaintext.is_empty());
    assert_eq!(summary.version, "TLSv1.3");
    assert_eq!(summary.peer_certificates, leaf.chain);
    assert!(conn.is_tls());
    conn.write_all(b"A2 NOOP\r\n").await.unwrap();
    let ReadLine::Line {
        bytes,
        ending,
        entry,
    } = conn.read_line().await.unwrap()
    else {
        panic!("no line")
    };
    assert_eq!(
        (bytes.as_slice(), ending),
        (&b"A2 OK done"[..], Ending::Crlf)
    );
    assert!(matches!(
        &conn.transcript().entries[entry].event,
        Event::Data { direction: Direction::Received, phase: Phase::Tls, bytes } if bytes.starts_with(b"A2 OK")
    ));
    assert_eq!(
        conn.read_line().await.unwrap(),
        ReadLine::Closed {
            close_notify: true,
            how: CloseHow::CloseNotify
        }
    );
    server.await.unwrap();

    assert_eq!(record.verdict(), Some(ChainVerdict::Trusted));
    assert!(record.identity(NAME, Rules::Rfc6125).unwrap().is_match());
    assert_eq!(record.server_name().as_deref(), Some(NAME));
    let t = conn.take_transcript();
    assert_eq!(
        shape(&t),
        [
            "C",
            "<p",
            ">p",
            "<p",
            "TLS",
            "TLS+",
            ">t",
            "<t",
            "close_notifyReceived"
        ]
    );
    assert!(matches!(
        &t.entries[5].event,
        Event::TlsEstablished { version, cipher_suite } if version == "TLSv1.3" && cipher_suite.starts_with("TLS13_")
    ));
    assert!(t.entries.iter().all(|e| e.connection == 1));
    assert!(t.entries.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn pipelined_lines_leave_in_one_write_and_arrive_in_one_read() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let n = tcp.read(&mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    let mut conn = Conn::connect(addr, opts()).await.unwrap();
    conn.write_all(b"A1 STARTTLS\r\nX1 NOOP\r\n").await.unwrap();
    assert_eq!(server.await.unwrap(), b"A1 STARTTLS\r\nX1 NOOP\r\n");
    assert_eq!(
        data(conn.transcript(), Direction::Sent),
        [(Phase::Plaintext, b"A1 STARTTLS\r\nX1 NOOP\r\n".to_vec())]
    );
}

#[tokio::test]
async fn plaintext_injected_after_the_ok_is_handed_back_not_fed_to_tls() {
    let (ca, leaf) = pki(&[NAME]);
    let acceptor = TlsAcceptor::from(leaf.server_config().unwrap());
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        assert_eq!(raw_line(&mut tcp).await, b"A1 STARTTLS\r\n");
        tcp.write_all(b"A1 OK Begin TLS\r\n* injected\r\n")
            .await
            .unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        tls.write_all(b"* hello\r\n").await.unwrap();
        tls.flush().await.unwrap();
        // Keep the connection until the client is done.
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest).await;
    });
    let (config, _record) = client_config(&ca);
    let mut conn = Conn::connect(addr, opts()).await.unwrap();
    conn.write_all(b"A1 STARTTLS\r\n").await.unwrap();
    assert_eq!(line(conn.read_line().await.unwrap()), b"A1 OK Begin TLS");
    let summary = conn.upgrade_client(config, name(NAME)).await.unwrap();
    assert_eq!(summary.unconsumed_plaintext, b"* injected\r\n");
    assert_eq!(summary.unconsumed_entry, Some(2));
    // Nothing of it comes back as if it had been sent inside TLS.
    assert_eq!(line(conn.read_line().await.unwrap()), b"* hello");
    assert_eq!(
        data(conn.transcript(), Direction::Received)[0],
        (
            Phase::Plaintext,
            b"A1 OK Begin TLS\r\n* injected\r\n".to_vec()
        )
    );
    conn.send_close_notify().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_silent_server_times_out_a_read_and_the_partial_line_is_reported() {
    let (listener, addr) = listen().await;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.write_all(b"* OK par").await.unwrap();
        let _ = done_rx.await;
    });
    let mut conn = Conn::connect(addr, opts()).await.unwrap();
    let start = Instant::now();
    let err = conn.read_line().await.unwrap_err();
    let took = start.elapsed();
    assert!(took >= SHORT && took < SHORT * 10, "took {took:?}");
    match &err {
        NetError::Timeout { waited, partial } => {
            assert_eq!(*waited, SHORT);
            assert_eq!(partial, b"* OK par");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "nothing complete arrived within 300ms (8 octets of an unfinished line pending)"
    );
    // The partial line stays buffered.
    assert_eq!(conn.pending(), b"* OK par");
    let _ = done_tx.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn an_overlong_line_is_an_error_and_its_tail_is_skipped() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.write_all(&[b'a'; 100]).await.unwrap();
        tcp.write_all(b"\r\nA1 OK\r\n").await.unwrap();
    });
    let mut conn = Conn::connect(
        addr,
        ConnOptions {
            max_line: 16,
            ..opts()
        },
    )
    .await
    .unwrap();
    let err = conn.read_line().await.unwrap_err();
    assert!(
        matches!(err, NetError::LineTooLong { limit: 16 }),
        "{err:?}"
    );
    assert_eq!(line(conn.read_line().await.unwrap()), b"A1 OK");
    server.await.unwrap();
}

#[tokio::test]
async fn a_flood_without_line_feeds_is_refused_without_buffering_it() {
    let (listener, addr) = listen().await;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let junk = vec![b'x'; 64 * 1024];
        tokio::select! {
            _ = async { while tcp.write_all(&junk).await.is_ok() {} } => {}
            _ = done_rx => {}
        }
    });
    let mut conn = Conn::connect(
        addr,
        ConnOptions {
            max_line: 1000,
            max_buffer: 4000,
            ..opts()
        },
    )
    .await
    .unwrap();
    let err = conn.read_line().await.unwrap_err();
    assert!(
        matches!(err, NetError::LineTooLong { limit: 1000 }),
        "{err:?}"
    );
    assert!(conn.pending().len() <= 1002);
    let err = conn.read_within(SHORT).await.unwrap_err();
    assert!(
        matches!(err, NetError::BufferFull { limit: 4000 }),
        "{err:?}"
    );
    let _ = done_tx.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn read_within_reports_silence_and_gathers_what_arrives() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        tcp.write_all(b"* one\r\n").await.unwrap();
        tcp.write_all(b"* two\r\n").await.unwrap();
        tcp.shutdown().await.unwrap();
        tokio::time::sleep(SHORT).await;
    });
    let mut conn = Conn::connect(addr, opts()).await.unwrap();
    let start = Instant::now();
    assert!(
        conn.read_within(Duration::from_millis(150))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(start.elapsed() >= Duration::from_millis(150));
    let got = conn.read_within(Duration::from_secs(2)).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "stops at the close"
    );
    assert_eq!(got, b"* one\r\n* two\r\n");
    assert_eq!(conn.peer_closed(), Some(CloseHow::Fin));
    assert_eq!(
        conn.read_line().await.unwrap(),
        ReadLine::Closed {
            close_notify: false,
            how: CloseHow::Fin
        }
    );
    server.await.unwrap();
}

#[tokio::test]
async fn a_last_line_without_terminator_and_a_reset_are_told_apart() {
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.write_all(b"* BYE").await.unwrap();
        drop(tcp);
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_zero_linger().unwrap();
        drop(tcp);
    });
    let started = Instant::now();
    let mut conn = Conn::connect(addr, ConnOptions { started, ..opts() })
        .await
        .unwrap();
    assert_eq!(
        conn.read_line().await.unwrap(),
        ReadLine::Line {
            bytes: b"* BYE".to_vec(),
            ending: Ending::None,
            entry: 1
        }
    );
    assert!(matches!(
        conn.read_line().await.unwrap(),
        ReadLine::Closed {
            how: CloseHow::Fin,
            ..
        }
    ));
    let mut second = Conn::connect(
        addr,
        ConnOptions {
            connection: 2,
            started,
            ..opts()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        second.read_line().await.unwrap(),
        ReadLine::Closed {
            close_notify: false,
            how: CloseHow::Rst
        }
    );
    server.await.unwrap();
    let merged = Transcript::merge([conn.take_transcript(), second.take_transcript()]);
    assert!(merged.entries.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(
        shape(&merged),
        ["C", "<p", "closedReceived:FIN", "C", "closedReceived:RST"]
    );
    assert_eq!(merged.entries[4].connection, 2);
}

/// A TLS pair made of two `Conn`s: mailtls's client side and mailtls's server side.
async fn tls_pair() -> (Conn, Conn) {
    let (ca, leaf) = pki(&[NAME]);
    let server_config = leaf.server_config().unwrap();
    let (listener, addr) = listen().await;
    let accept = tokio::spawn(async move {
        let mut server = Conn::accept(&listener, opts()).await.unwrap();
        server.upgrade_server(server_config).await.unwrap();
        server
    });
    let (config, _) = client_config(&ca);
    let (client, _) = Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap();
    (client, accept.await.unwrap())
}

#[tokio::test]
async fn close_notify_then_eof_is_told_apart_from_eof_without_close_notify() {
    let (mut client, mut server) = tls_pair().await;
    server.write_all(b"* OK\r\n").await.unwrap();
    server.send_close_notify().await.unwrap();
    assert_eq!(line(client.read_line().await.unwrap()), b"* OK");
    assert_eq!(
        client.read_line().await.unwrap(),
        ReadLine::Closed {
            close_notify: true,
            how: CloseHow::CloseNotify
        }
    );
    assert_eq!(
        shape(server.transcript()),
        [
            "C",
            "TLS",
            "TLS+",
            ">t",
            "close_notifySent",
            "closedSent:FIN"
        ]
    );

    let (mut client, mut server) = tls_pair().await;
    client.write_all(b"A1 LOGOUT\r\n").await.unwrap();
    client.close().await.unwrap();
    assert_eq!(line(server.read_line().await.unwrap()), b"A1 LOGOUT");
    assert_eq!(
        server.read_line().await.unwrap(),
        ReadLine::Closed {
            close_notify: false,
            how: CloseHow::EofWithoutCloseNotify
        }
    );
    assert_eq!(
        shape(server.transcript()).last().unwrap(),
        "closedReceived:EOF without close_notify"
    );
    assert!(matches!(
        client.write_all(b"late\r\n").await,
        Err(NetError::Closed)
    ));
}

#[tokio::test]
async fn implicit_tls_connects_and_talks_inside_tls_from_the_first_octet() {
    let (mut client, mut server) = tls_pair().await;
    server.write_all(b"+OK POP3 ready\r\n").await.unwrap();
    assert_eq!(line(client.read_line().await.unwrap()), b"+OK POP3 ready");
    client.write_all(b"CAPA\r\n").await.unwrap();
    assert_eq!(line(server.read_line().await.unwrap()), b"CAPA");
    assert_eq!(shape(client.transcript()), ["C", "TLS", "TLS+", "<t", ">t"]);
    assert!(matches!(
        client
            .upgrade_client(client_config(&Authority::new().unwrap()).0, name(NAME))
            .await,
        Err(NetError::AlreadyTls)
    ));
}

#[tokio::test]
async fn a_chain_from_an_unknown_ca_fails_unless_insecure_and_is_recorded_either_way() {
    let (_ca, leaf) = pki(&[NAME]);
    let stranger = Authority::new().unwrap();
    let acceptor = TlsAcceptor::from(leaf.server_config().unwrap());
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                tls.write_all(b"* OK\r\n").await.unwrap();
                let _ = tls.shutdown().await;
            }
        }
    });

    let (config, record) = trusting(&stranger, false).config().unwrap();
    let err = Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap_err();
    match &err {
        NetError::Handshake {
            reason,
            unconsumed_plaintext,
        } => {
            // Both test CAs have the same name: webpki tries the stranger and finds the
            // signature wrong.
            assert!(reason.starts_with("invalid peer certificate: "), "{reason}");
            assert!(unconsumed_plaintext.is_empty());
        }
        other => panic!("expected a handshake failure, got {other:?}"),
    }
    assert_eq!(record.chain(), leaf.chain);
    assert!(matches!(
        record.verdict(),
        Some(ChainVerdict::Untrusted { ref reason, overridden: false }) if reason.starts_with("invalid peer certificate")
    ));

    let (config, record) = trusting(&stranger, true).config().unwrap();
    let (mut conn, summary) = Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap();
    assert_eq!(summary.peer_certificates, leaf.chain);
    assert!(matches!(
        record.verdict(),
        Some(ChainVerdict::Untrusted {
            overridden: true,
            ..
        })
    ));
    assert_eq!(line(conn.read_line().await.unwrap()), b"* OK");
    server.await.unwrap();
}

#[tokio::test]
async fn insecure_without_any_trust_anchor_still_records_the_chain() {
    let (_ca, leaf) = pki(&[NAME]);
    let acceptor = TlsAcceptor::from(leaf.server_config().unwrap());
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let _ = tls.shutdown().await;
    });
    assert!(ClientTls::new(&ClientTrust::Ca(Vec::new()), false).is_ok());
    let (config, record) = ClientTls::new(&ClientTrust::Ca(Vec::new()), true)
        .unwrap()
        .config()
        .unwrap();
    Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap();
    assert!(matches!(
        record.verdict(),
        Some(ChainVerdict::Untrusted { ref reason, overridden: true }) if reason.contains("no trust anchors")
    ));
    server.await.unwrap();
}

#[tokio::test]
async fn a_name_mismatch_does_not_fail_the_handshake_but_the_identity_check_says_no() {
    let (ca, leaf) = pki(&["other.example.test"]);
    let acceptor = TlsAcceptor::from(leaf.server_config().unwrap());
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let _ = tls.shutdown().await;
    });
    let (config, record) = client_config(&ca);
    Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap();
    assert_eq!(record.verdict(), Some(ChainVerdict::Trusted));
    for rules in Rules::ALL {
        let decision = record.identity(NAME, rules).unwrap();
        assert_eq!(decision.verdict, Verdict::NoMatch, "{rules}");
        assert!(
            record
                .identity("other.example.test", rules)
                .unwrap()
                .is_match()
        );
    }
    let (_, why) = record.identity_explained(NAME, Rules::Rfc6125).unwrap();
    assert!(!why.is_empty());
    server.await.unwrap();
}

#[tokio::test]
async fn tls12_can_be_forced() {
    let (ca, leaf) = pki(&[NAME]);
    let acceptor = TlsAcceptor::from(leaf.server_config().unwrap());
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let _ = tls.shutdown().await;
    });
    let (config, _) = trusting(&ca, false)
        .config_for_versions(&[&rustls::version::TLS12])
        .unwrap();
    let (_, summary) = Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap();
    assert_eq!(summary.version, "TLSv1.2");
    assert!(
        summary.cipher_suite.starts_with("TLS_ECDHE_"),
        "{}",
        summary.cipher_suite
    );
    server.await.unwrap();
}

/// A mail client under test: greeting, STARTTLS, then TLS (optionally pipelining
/// `extra` after STARTTLS in the same write).
async fn starttls_client(addr: SocketAddr, ca: &Authority, extra: &'static [u8]) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    assert_eq!(raw_line(&mut tcp).await, b"* OK ready\r\n");
    tcp.write_all(&[b"A1 STARTTLS\r\n", extra].concat())
        .await
        .unwrap();
    assert_eq!(raw_line(&mut tcp).await, b"A1 OK Begin TLS\r\n");
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name(NAME), tcp)
        .await
        .unwrap();
    tls.write_all(b"A2 NOOP\r\n").await.unwrap();
    tls.flush().await.unwrap();
    let reply = raw_line(&mut tls).await;
    let _ = tls.shutdown().await;
    reply
}

#[tokio::test]
async fn client_role_peeks_the_client_hello_without_taking_it_from_the_acceptor() {
    let (ca, leaf) = pki(&[NAME]);
    let (listener, addr) = listen().await;
    let client = tokio::spawn(async move { starttls_client(addr, &ca, b"").await });

    let mut conn = Conn::accept(&listener, opts()).await.unwrap();
    conn.write_all(b"* OK ready\r\n").await.unwrap();
    assert_eq!(line(conn.read_line().await.unwrap()), b"A1 STARTTLS");
    conn.write_all(b"A1 OK Begin TLS\r\n").await.unwrap();
    assert_eq!(conn.peek_first_byte().await.unwrap(), Some(0x16));
    assert_eq!(conn.peek_first_byte().await.unwrap(), Some(0x16));
    let summary = conn
        .upgrade_server(leaf.server_config().unwrap())
        .await
        .unwrap();
    assert!(summary.unconsumed_plaintext.is_empty());
    assert_eq!(summary.sni.as_deref(), Some(NAME));
    assert_eq!(line(conn.read_line().await.unwrap()), b"A2 NOOP");
    conn.write_all(b"A2 OK\r\n").await.unwrap();
    assert_eq!(client.await.unwrap(), b"A2 OK\r\n");
    assert_eq!(
        shape(conn.transcript()),
        ["C", ">p", "<p", ">p", "TLS", "TLS+", "<t", ">t"]
    );
}

#[tokio::test]
async fn client_role_reports_a_command_pipelined_before_the_client_hello() {
    let (ca, leaf) = pki(&[NAME]);
    let (listener, addr) = listen().await;
    let client = tokio::spawn(async move { starttls_client(addr, &ca, b"A9 LOGIN a b\r\n").await });

    let mut conn = Conn::accept(&listener, opts()).await.unwrap();
    conn.write_all(b"* OK ready\r\n").await.unwrap();
    assert_eq!(line(conn.read_line().await.unwrap()), b"A1 STARTTLS");
    conn.write_all(b"A1 OK Begin TLS\r\n").await.unwrap();
    assert_eq!(conn.peek_first_byte().await.unwrap(), Some(b'A'));
    let summary = conn
        .upgrade_server(leaf.server_config().unwrap())
        .await
        .unwrap();
    assert_eq!(summary.unconsumed_plaintext, b"A9 LOGIN a b\r\n");
    assert!(matches!(
        &conn.transcript().entries[summary.unconsumed_entry.unwrap()].event,
        Event::Data { bytes, .. } if bytes.ends_with(b"A9 LOGIN a b\r\n")
    ));
    assert_eq!(line(conn.read_line().await.unwrap()), b"A2 NOOP");
    conn.write_all(b"A2 OK\r\n").await.unwrap();
    assert_eq!(client.await.unwrap(), b"A2 OK\r\n");
}

#[tokio::test]
async fn a_client_hello_read_together_with_a_line_still_reaches_the_acceptor() {
    let (ca, leaf) = pki(&[NAME]);
    let (listener, addr) = listen().await;
    let client = tokio::spawn(async move {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert_der().clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        // Does not wait for the OK: STARTTLS and the ClientHello back to back.
        tcp.write_all(b"A1 STARTTLS\r\n").await.unwrap();
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name(NAME), tcp)
            .await
            .unwrap();
        raw_line(&mut tls).await
    });

    let mut conn = Conn::accept(&listener, opts()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(line(conn.read_line().await.unwrap()), b"A1 STARTTLS");
    assert_eq!(
        conn.pending().first(),
        Some(&0x16),
        "the ClientHello came in the same read"
    );
    assert_eq!(conn.peek_first_byte().await.unwrap(), Some(0x16));
    let summary = conn
        .upgrade_server(leaf.server_config().unwrap())
        .await
        .unwrap();
    assert!(summary.unconsumed_plaintext.is_empty());
    conn.write_all(b"* hello\r\n").await.unwrap();
    assert_eq!(client.await.unwrap(), b"* hello\r\n");
}

#[tokio::test]
async fn connecting_accepting_and_handshaking_are_bounded_too() {
    let (listener, addr) = listen().await;
    drop(listener);
    assert!(matches!(
        Conn::connect(addr, opts()).await,
        Err(NetError::Connect { .. })
    ));

    let (listener, _addr) = listen().await;
    let start = Instant::now();
    assert!(matches!(
        Conn::accept(&listener, opts()).await,
        Err(NetError::AcceptTimeout { .. })
    ));
    assert!(start.elapsed() < SHORT * 10);

    // A server that takes the ClientHello and never answers.
    let (listener, addr) = listen().await;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (_tcp, _) = listener.accept().await.unwrap();
        let _ = done_rx.await;
    });
    let ca = Authority::new().unwrap();
    let (config, _) = client_config(&ca);
    let start = Instant::now();
    let err = Conn::connect_tls(addr, opts(), config, name(NAME))
        .await
        .unwrap_err();
    assert!(start.elapsed() < SHORT * 10);
    assert!(
        err.to_string()
            .starts_with("TLS handshake failed: no complete handshake within"),
        "{err}"
    );
    let _ = done_tx.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn plaintext_where_the_server_hello_belongs_is_recorded_and_handed_back() {
    let ca = Authority::new().unwrap();
    let (listener, addr) = listen().await;
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).await.unwrap();
        assert_eq!(buf[0], 0x16, "a ClientHello, {n} octets");
        tcp.write_all(b"* BAD not TLS\r\n").await.unwrap();
        let _ = tcp.read(&mut buf).await;
    });
    let (config, record) = client_config(&ca);
    let mut conn = Conn::connect(addr, opts()).await.unwrap();
    let err = conn.upgrade_client(config, name(NAME)).await.unwrap_err();
    match &err {
        NetError::Handshake {
            reason,
            unconsumed_plaintext,
        } => {
            assert!(!reason.is_empty());
            assert_eq!(unconsumed_plaintext, b"* BAD not TLS\r\n");
        }
        other => panic!("expected a handshake failure, got {other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with("(15 plaintext octets from the peer were pending)"),
        "{err}"
    );
    assert_eq!(record.verdict(), None);
    assert_eq!(shape(conn.transcript()), ["C", "TLS", "<p", "TLS!"]);
    assert!(!conn.is_tls());
    conn.close().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn client_role_sees_a_client_abort_the_handshake_with_its_alert() {
    let (_ca, leaf) = pki(&[NAME]);
    let stranger = Authority::new().unwrap();
    let (listener, addr) = listen().await;
    let client = tokio::spawn(async move {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(stranger.cert_der().clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = TcpStream::connect(addr).await.unwrap();
        TlsConnector::from(Arc::new(config))
            .connect(name(NAME), tcp)
            .await
            .is_err()
    });
    let mut conn = Conn::accept(&listener, opts()).await.unwrap();
    let err = conn
        .upgrade_server(leaf.server_config().unwrap())
        .await
        .unwrap_err();
    assert!(client.await.unwrap(), "the client refused the chain");
    match &err {
        NetError::Handshake { reason, .. } => {
            assert!(reason.starts_with("received fatal alert: "), "{reason}");
        }
        other => panic!("expected a handshake failure, got {other:?}"),
    }
    assert_eq!(shape(conn.transcript()), ["C", "TLS", "TLS!"]);
}
