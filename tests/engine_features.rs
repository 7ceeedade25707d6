//! The engine's verdicts and directives end to end, through `mailtls replay`: MANUAL and
//! INFO, `[client-hello ...]` and `[server-hello ...]` against peers that refuse and
//! peers that accept, `[tls version=1.2]`, `[close-notify keep-open]`,
//! `[expect-no-certificate-request]`, `[tls client-cert]` and `{t1+1}`.

use crate::support::{mailtls, stdout};
use mailtls::scenario::ast::LegacyHello;
use mailtls::tls::legacy;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A directory of its own under the system's temporary directory, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mailtls-engine-features-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `text` as a scenario file and replays it with `args`; the JSON results.
fn replay(dir: &Path, name: &str, text: &str, args: &[&str]) -> Vec<Value> {
    let file = dir.join(format!("{name}.scn"));
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap().to_owned();
    let mut all = vec!["replay", file.as_str(), "--format", "json"];
    all.extend_from_slice(args);
    let output = mailtls(&all);
    let text = stdout(&output);
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{e}: {text}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    report["results"].as_array().unwrap().clone()
}

/// The one verdict of a replay (every result must agree), with its message.
fn verdict(results: &[Value]) -> (String, String) {
    assert!(!results.is_empty(), "no result");
    let first = results[0]["verdict"].as_str().unwrap().to_owned();
    for r in results {
        assert_eq!(
            r["verdict"],
            first.as_str(),
            "results disagree: {results:#?}"
        );
    }
    (first, results[0]["message"].as_str().unwrap().to_owned())
}

fn header(id: &str, protocol: &str, role: &str, transport: &str) -> String {
    format!(
        "id: {id}\ntitle: t\nprotocol: {protocol}\nroles: {role}\ntransport: {transport}\nlevel: MUST\nclause: RFC 2595 §2.1\ntimeout: 1s\n"
    )
}

/// A TCP server that answers whatever arrives first on each connection with `answer`,
/// then holds the connection a while (`replay` may connect more than once: its probe of
/// the certificate comes first).
fn canned_server(answer: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut socket = socket;
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf);
                let _ = socket.write_all(&answer);
                std::thread::sleep(Duration::from_secs(3));
            });
        }
    });
    port
}

#[test]
fn client_hello_passes_when_refused_and_fails_when_answered() {
    let dir = Scratch::new();
    for kind in ["ssl2", "ssl3", "tls1.0", "tls1.1", "weak-suites"] {
        let text = format!(
            "{}\n[client-hello {kind}]\n",
            header("t.hello", "imap", "server", "implicit")
        );
        // The reference servers (rustls) refuse every one of them.
        let (v, m) = verdict(&replay(dir.path(), kind, &text, &[]));
        assert_eq!(v, "pass", "{kind}: {m}");
        // A server that answers with a TLS 1.0 ServerHello accepted the offer.
        let port = canned_server(legacy::server_hello(LegacyHello::Tls10, 0x002f));
        let url = format!("imaps://127.0.0.1:{port}");
        let (v, m) = verdict(&replay(
            dir.path(),
            kind,
            &text,
            &["--server", &url, "--insecure"],
        ));
        assert_eq!(v, "fail", "{kind}: {m}");
        assert!(m.contains("accepted"), "{kind}: {m}");
    }
}

#[test]
fn an_ssl2_server_hello_is_a_failure() {
    let dir = Scratch::new();
    let text = format!(
        "{}\n[client-hello ssl2]\n",
        header("t.ssl2", "pop3", "server", "implicit")
    );
    let port = canned_server(vec![0x84, 0x2e, 0x04, 0x00, 0x01, 0x00, 0x02]);
    let url = format!("pop3s://127.0.0.1:{port}");
    let (v, m) = verdict(&replay(
        dir.path(),
        "ssl2",
        &text,
        &["--server", &url, "--insecure"],
    ));
    assert_eq!(v, "fail", "{m}");
}

#[test]
fn the_rfc2595_suite_is_information_either_way() {
    let dir = Scratch::new();
    let text = format!(
        "{}\n[client-hello rfc2595-suite]\n",
        header("t.suite", "imap", "server", "implicit")
    );
    let (v, m) = verdict(&replay(dir.path(), "refused", &text, &[]));
    assert_eq!(v, "info", "{m}");
    assert!(
        m.contains("not negotiable") && m.contains("RFC 8996"),
        "{m}"
    );
    let port = canned_server(legacy::server_hello(LegacyHello::Tls11, 0x0013));
    let url = format!("imaps://127.0.0.1:{port}");
    let (v, m) = verdict(&replay(
        dir.path(),
        "answered",
        &text,
        &["--server", &url, "--insecure"],
    ));
    assert_eq!(v, "info", "{m}");
    assert!(m.contains("still negotiable"), "{m}");
}

/// `openssl s_client` offering TLS 1.0 at security level 0: a client that accepts an old
/// version, waiting for the rest of the handshake.
fn old_openssl_client() -> String {
    "sleep 3 | openssl s_client -connect {host}:{port} -tls1 -cipher 'DEFAULT:@SECLEVEL=0' -quiet"
        .to_owned()
}

#[test]
fn server_hello_of_an_old_version_passes_when_the_client_aborts() {
    let dir = Scratch::new();
    let text = format!(
        "{}\n[server-hello tls1.0]\n",
        header("t.old", "imap", "client", "implicit")
    );
    // The reference client (rustls) refuses TLS 1.0.
    let (v, m) = verdict(&replay(
        dir.path(),
        "reference",
        &text,
        &["--client", "imap", "--implicit"],
    ));
    assert_eq!(v, "pass", "{m}");
    // An OpenSSL client told to speak TLS 1.0 takes the ServerHello and waits.
    let (v, m) = verdict(&replay(
        dir.path(),
        "openssl",
        &text,
        &[
            "--client",
            "imap",
            "--implicit",
            "--exec",
            &old_openssl_client(),
        ],
    ));
    assert_eq!(v, "fail", "{m}");
    assert!(m.contains("waited"), "{m}");
}

#[test]
fn tls_version_pins_the_handshake() {
    let dir = Scratch::new();
    let text = format!(
        "{}\n[tls version=1.2]\nS: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\n[expect-exit success]\n",
        header("t.v12", "imap", "client", "implicit")
    );
    let results = replay(
        dir.path(),
        "v12",
        &text,
        &["--client", "imap", "--implicit"],
    );
    let (v, m) = verdict(&results);
    assert_eq!(v, "pass", "{m}");
    let transcript = results[0]["transcript"].to_string();
    assert!(transcript.contains("TLS 1.2 only"), "{transcript}");
    assert!(
        transcript.contains(r#""version":"TLSv1.2""#),
        "{transcript}"
    );
}

#[test]
fn manual_scenarios_end_manual_and_say_what_to_look_for() {
    let dir = Scratch::new();
    let text = format!(
        "{}manual: the ALERT text must not be shown\n\nS: * OK {{*}}\nC: A1 LOGOUT\nS~ A1 OK {{*}}\n",
        header("t.manual", "imap", "server", "starttls")
    );
    let results = replay(dir.path(), "manual", &text, &[]);
    let (v, _) = verdict(&results);
    assert_eq!(v, "manual");
    assert_eq!(results[0]["manual"][0], "the ALERT text must not be shown");
    // The text report prints the instruction.
    let file = dir.path().join("manual.scn");
    let out = stdout(&mailtls(&["replay", file.to_str().unwrap()]));
    assert!(
        out.contains("check by hand: the ALERT text must not be shown"),
        "{out}"
    );
    // A wire failure is still a FAIL.
    let broken = text.replace("S~ A1 OK", "S: A1 NO");
    let (v, _) = verdict(&replay(dir.path(), "broken", &broken, &[]));
    assert_eq!(v, "fail");
}

#[test]
fn an_opportunistic_client_is_recorded_not_failed() {
    let dir = Scratch::new();
    let text = format!(
        "{}profile: client-tls=starttls-required\n\nS: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\nC! {{*}} LOGIN {{*}}\nC! {{*}} AUTHENTICATE {{*}}\n[expect-exit failure]\n",
        header("t.strip", "imap", "client", "starttls")
    );
    let exe = env!("CARGO_BIN_EXE_mailtls");
    let opportunistic = format!(
        "'{exe}' peer-client --protocol imap --host {{host}} --port {{port}} --name {{name}} --ca {{ca}} --user {{user}} --password {{password}} --timeout 1s --opportunistic"
    );
    let args = [
        "--client",
        "imap",
        "--exec",
        opportunistic.as_str(),
        "--client-profile",
        "opportunistic",
    ];
    let (v, m) = verdict(&replay(dir.path(), "strip", &text, &args));
    assert_eq!(v, "info", "{m}");
    assert!(m.contains("opportunistic"), "{m}");
    // The same client judged as TLS-requiring fails.
    let (v, _) = verdict(&replay(dir.path(), "strip", &text, &args[..4]));
    assert_eq!(v, "fail");
}

#[test]
fn next_tag_prediction_follows_the_client() {
    let dir = Scratch::new();
    let text = format!(
        "{}\nS: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\nC~ {{t1}} STARTTLS\nS: {{t1}} OK begin\n[tls]\nC: {{t1+1}} CAPABILITY\nS: * CAPABILITY IMAP4rev1 AUTH=PLAIN\nS: {{t1+1}} OK done\n[expect-exit success]\n",
        header("t.next", "imap", "client", "starttls")
    );
    let (v, m) = verdict(&replay(dir.path(), "next", &text, &["--client", "imap"]));
    assert_eq!(v, "pass", "{m}");
}

#[test]
fn close_notify_keep_open_leaves_plaintext_to_the_peer() {
    let dir = Scratch::new();
    let text = format!(
        "{}\nS: * OK {{*}}\nC: A1 STARTTLS\nS: A1 OK {{*}}\n[tls]\nC: A2 NOOP\nS: A2 OK {{*}}\n[close-notify keep-open]\nC: A3 NOOP\nS! A3 OK {{*}}\n[expect-close]\n",
        header("t.privacy", "imap", "server", "starttls")
    );
    let results = replay(dir.path(), "privacy", &text, &[]);
    let (v, m) = verdict(&results);
    assert_eq!(v, "pass", "{m}");
    let transcript = results[0]["transcript"].to_string();
    assert!(transcript.contains("plaintext from here"), "{transcript}");
    // The NOOP after the alert went out as plaintext.
    assert!(transcript.contains("A3 NOOP"), "{transcript}");
}

/// `openssl s_server` on an implicit-TLS port, asking for a client certificate.
fn requesting_server(dir: &Path) -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-verify", "1"])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(dir.join("valid.pem"))
        .arg("-key")
        .arg(dir.join("valid.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs (bash scripts/setup installs it)");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

#[test]
fn certificate_requests_are_seen_and_client_certificates_need_one() {
    let dir = Scratch::new();
    let text = format!(
        "{}\n[tls]\n[expect-no-certificate-request]\n",
        header("t.certreq", "imap", "server", "implicit")
    );
    // The reference servers ask for none.
    let (v, m) = verdict(&replay(dir.path(), "reference", &text, &[]));
    assert_eq!(v, "pass", "{m}");

    let certs = dir.path().join("certs");
    let out = mailtls(&["certs", "--out", certs.to_str().unwrap()]);
    assert!(out.status.success());
    let (mut server, port) = requesting_server(&certs);
    let url = format!("imaps://127.0.0.1:{port}");
    let ca = certs.join("ca.pem");
    let (v, m) = verdict(&replay(
        dir.path(),
        "openssl",
        &text,
        &[
            "--server",
            &url,
            "--ca",
            ca.to_str().unwrap(),
            "--server-name",
            "mail.example.test",
        ],
    ));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(v, "fail", "{m}");
    assert!(m.contains("client certificate"), "{m}");

    // No client certificate configured for an external target: N/A, not a guess.
    let with_cert = format!(
        "{}\n[tls client-cert]\n",
        header("t.clientcert", "imap", "server", "implicit")
    );
    let port = canned_server(Vec::new());
    let url = format!("imaps://127.0.0.1:{port}");
    let (v, m) = verdict(&replay(
        dir.path(),
        "clientcert",
        &with_cert,
        &["--server", &url, "--insecure"],
    ));
    assert_eq!(v, "na", "{m}");
}

#[test]
fn a_client_certificate_from_the_command_line_is_presented_when_asked() {
    let dir = Scratch::new();
    let certs = dir.path().join("certs");
    assert!(
        mailtls(&["certs", "--out", certs.to_str().unwrap()])
            .status
            .success()
    );
    // A self-signed client certificate for alice, which the server requires.
    let (cert, key) = (dir.path().join("alice.pem"), dir.path().join("alice.key"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=alice", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-Verify", "1", "-verify_return_error"])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .arg("-CAfile")
        .arg(&cert)
        .arg("-cert")
        .arg(certs.join("valid.pem"))
        .arg("-key")
        .arg(certs.join("valid.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = format!(
        "{}\n[tls client-cert]\n[expect-silence 200ms]\n",
        header("t.present", "imap", "server", "implicit")
    );
    let url = format!("imaps://127.0.0.1:{port}");
    let ca = certs.join("ca.pem");
    let base = [
        "--server",
        url.as_str(),
        "--ca",
        ca.to_str().unwrap(),
        "--server-name",
        "mail.example.test",
    ];
    let mut with = base.to_vec();
    with.extend_from_slice(&[
        "--client-cert",
        cert.to_str().unwrap(),
        "--client-key",
        key.to_str().unwrap(),
    ]);
    let presented = verdict(&replay(dir.path(), "present", &text, &with));
    let absent = verdict(&replay(dir.path(), "absent", &text, &base));
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(presented.0, "pass", "{}", presented.1);
    assert_eq!(absent.0, "na", "{}", absent.1);
}

#[test]
fn a_forbidden_line_fails_even_where_a_line_is_optional() {
    let dir = Scratch::new();
    let text = format!(
        "{}\nS: * OK {{*}}\nS! {{*}} BAD {{*}}\nC: A1 XYZZY\nS? A1 OK {{*}}\n",
        header("t.optional", "imap", "server", "starttls")
    );
    let (v, m) = verdict(&replay(dir.path(), "optional", &text, &[]));
    assert_eq!(v, "fail", "{m}");
    // Without the forbidden line the optional one may simply not match.
    let allowed = text.replace("S! {*} BAD {*}\n", "");
    let (v, m) = verdict(&replay(dir.path(), "allowed", &allowed, &[]));
    assert_eq!(v, "pass", "{m}");
}
