//! The whole server-role catalogue against a real Dovecot (Debian's dovecot-imapd and
//! dovecot-pop3d, which scripts/setup installs), on its four ports: IMAP with STARTTLS,
//! IMAPS, POP3 with STLS, POP3S.
//!
//! One private Dovecot serves the whole test binary: scripts/dovecot `run` starts it in
//! a directory of its own under the temporary directory and stops it (and removes the
//! directory) when its standard input closes, which is when this process exits, however
//! it exits. Each test runs the built `mailtls` binary as a user would, with the
//! target's expectations file (tests/expectations/dovecot-<target>.toml: what Dovecot is
//! known to do differently, each with the reason its transcript shows), asserts exit
//! code 0, and snapshots one line per scenario (id, verdict; why, for N/A).
//!
//! Dovecot missing is a failure, never a skip: scripts/setup installs it.
//!
//! After the catalogue changes, `MAILTLS_DOVECOT_TOML=1 cargo test --test tests dovecot
//! -- --nocapture` prints a draft of each expectations file (docs/dovecot.md).

use mailtls::runner::expect::Expectations;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The name in Dovecot's certificate (scripts/dovecot mints it with `mailtls certs`).
const SERVER_NAME: &str = "mail.example.test";
/// The account scripts/dovecot creates (the reference servers' alice).
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";
/// The variable `--password-env` names, set for the mailtls child only.
const PASSWORD_VAR: &str = "MAILTLS_DOVECOT_PASSWORD";
/// How long scripts/dovecot may take to print its ports (it gives up after 10 s itself).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Dovecot goes after this long even if this process somehow lingers.
const MAX_SECONDS: &str = "1800";
/// Prints draft expectations files when set.
const TOML_VAR: &str = "MAILTLS_DOVECOT_TOML";
/// Keeps Dovecot's directory (config, logs) after the run when set.
const KEEP_VAR: &str = "MAILTLS_DOVECOT_KEEP";

/// The private Dovecot, as scripts/dovecot announced it.
struct Dovecot {
    /// Its directory (config, certificates, logs, mail).
    dir: PathBuf,
    /// Key/value lines scripts/dovecot printed: address, imap, imaps, pop3, pop3s, ca.
    info: BTreeMap<String, String>,
    /// `dovecot --version`.
    version: String,
    /// scripts/dovecot `run`: Dovecot stops when this pipe closes.
    script: Mutex<Option<(Child, ChildStdin)>>,
}

impl Dovecot {
    fn get(&self, key: &str) -> &str {
        self.info
            .get(key)
            .unwrap_or_else(|| panic!("scripts/dovecot printed no `{key}=` line"))
    }

    /// The last lines of Dovecot's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = self.dir.join("log/dovecot.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("---- last lines of {} ----\n{tail}\n", log.display())
    }
}

impl Drop for Dovecot {
    /// Closes the pipe and waits (bounded) for scripts/dovecot to stop Dovecot. The
    /// shared fixture is a static and is never dropped: there process exit closes the
    /// pipe.
    fn drop(&mut self) {
        let Ok(mut slot) = self.script.lock() else {
            return;
        };
        if let Some((mut child, stdin)) = slot.take() {
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Debian's dovecot, else one on PATH.
fn dovecot_binary() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/sbin/dovecot");
    if debian.is_file() {
        return Some(debian);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("dovecot"))
        .find(|path| path.is_file())
}

/// The one Dovecot of this test binary, started on first use.
fn dovecot() -> &'static Dovecot {
    static FIXTURE: OnceLock<Result<Dovecot, String>> = OnceLock::new();
    match FIXTURE.get_or_init(start) {
        Ok(dovecot) => dovecot,
        Err(why) => panic!("{why}"),
    }
}

fn start() -> Result<Dovecot, String> {
    let binary = dovecot_binary().ok_or(
        "Dovecot is not installed (no /usr/sbin/dovecot): run `bash scripts/setup`, which \
         installs Debian's dovecot-imapd and dovecot-pop3d",
    )?;
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    // Short: Dovecot's unix sockets live under it.
    let dir = std::env::temp_dir().join(format!("mailtls-dovecot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut script = Command::new("bash");
    script
        .arg(repo().join("scripts/dovecot"))
        .arg("run")
        .arg(&dir)
        .args(["--max-seconds", MAX_SECONDS, "--mailtls"])
        .arg(env!("CARGO_BIN_EXE_mailtls"));
    if std::env::var_os(KEEP_VAR).is_none() {
        script.arg("--cleanup");
    }
    let mut child = script
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("bash scripts/dovecot run: {e}"))?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");

    // stderr is collected on the side, for the message if the start fails.
    let errors = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&errors);
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if let Ok(mut shared) = sink.lock() {
                shared.clone_from(&text);
            }
        }
    });
    // stdout: key=value lines, then `ready`. Read on a thread so a stuck script cannot
    // hang the test.
    let (lines, ready) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let done = line == "ready";
            if lines.send(line).is_err() || done {
                break;
            }
        }
    });
    let deadline = Instant::now() + START_TIMEOUT;
    let mut info = BTreeMap::new();
    let failed = |what: String| {
        std::thread::sleep(Duration::from_millis(200)); // let stderr arrive
        let stderr = errors.lock().map(|e| e.clone()).unwrap_or_default();
        Err(format!(
            "{what}\nscripts/dovecot said:\n{stderr}\n(is Dovecot installed? `bash scripts/setup` installs it)"
        ))
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ready.recv_timeout(left) {
            Ok(line) if line == "ready" => break,
            Ok(line) => {
                if let Some((key, value)) = line.split_once('=') {
                    info.insert(key.to_owned(), value.to_owned());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                return failed(format!(
                    "scripts/dovecot printed no `ready` within {START_TIMEOUT:?}"
                ));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = child.wait();
                return failed("scripts/dovecot exited before `ready`".to_owned());
            }
        }
    }
    Ok(Dovecot {
        dir,
        info,
        version,
        script: Mutex::new(Some((child, stdin))),
    })
}

/// Runs the catalogue against `url`; exit code and JSON report.
fn mailtls_run(dovecot: &Dovecot, url: &str, expect: &Path) -> (Option<i32>, Value) {
    let args = [
        "run",
        "--server",
        url,
        "--server-name",
        SERVER_NAME,
        "--ca",
        dovecot.get("ca"),
        "--user",
        USER,
        "--password-env",
        PASSWORD_VAR,
        "--expect",
        expect.to_str().expect("a UTF-8 path"),
        "--format",
        "json",
        "--quiet",
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(args)
        .env(PASSWORD_VAR, PASSWORD)
        .env_remove("RUST_LOG")
        .output()
        .expect("the mailtls binary runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "mailtls {args:?} printed no JSON report ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn results(report: &Value) -> &[Value] {
    report["results"].as_array().map_or(&[], Vec::as_slice)
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or_default()
}

/// One line per scenario, in the run's order: what the snapshot holds. No ports, times
/// or tags: N/A and INFO say why, an expected failure says so (its reason is in the
/// TOML).
fn summary(report: &Value) -> String {
    let mut out = String::new();
    for result in results(report) {
        let verdict = text(result, "verdict");
        let line = if result["expected_failure"].is_string() {
            format!("{}: {verdict} (expected)", text(result, "id"))
        } else if verdict == "na" || verdict == "info" {
            format!(
                "{}: {verdict} ({})",
                text(result, "id"),
                text(result, "message")
            )
        } else {
            format!("{}: {verdict}", text(result, "id"))
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Every result that is neither a pass, an N/A nor an expected failure, with its
/// message and transcript.
fn explain(report: &Value) -> String {
    let mut out = String::new();
    for result in results(report) {
        let verdict = text(result, "verdict");
        let expected = result["expected_failure"].is_string();
        if verdict == "pass" || verdict == "na" || expected {
            continue;
        }
        out.push_str(&format!(
            "\n{verdict} {}: {}\n",
            text(result, "id"),
            text(result, "message")
        ));
        for entry in result["transcript"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            let line = match text(entry, "event") {
                "data" => format!("{}: {}", text(entry, "sender"), text(entry, "text")),
                other => format!("---- {other}"),
            };
            out.push_str(&format!("    {}\n", line.trim_end()));
        }
    }
    let stale: Vec<&str> = report["unexpected_passes"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !stale.is_empty() {
        out.push_str(&format!(
            "\nlisted as expected failures, but passed: {}\n",
            stale.join(", ")
        ));
    }
    out
}

/// A TOML string: basic string with the escapes TOML needs.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A draft of the expectations file from this run, for a person to review: reasons
/// already written are kept; a new FAIL/WARN/ERROR gets a TODO with mailtls's message;
/// an entry that now passes is left commented out.
fn toml_draft(report: &Value, known: &Expectations) -> String {
    let mut out = String::from("[failures]\n");
    for result in results(report) {
        let id = text(result, "id");
        let verdict = text(result, "verdict");
        if !matches!(verdict, "fail" | "warn" | "error") {
            continue;
        }
        match known.failures.get(id) {
            Some(reason) => {
                out.push_str(&format!("{} = {}\n", toml_string(id), toml_string(reason)))
            }
            None => {
                out.push_str(&format!(
                    "# NEW {verdict}: read its transcript, then say what Dovecot did, quoting it\n{} = {}\n",
                    toml_string(id),
                    toml_string(&format!("TODO: {}", text(result, "message")))
                ));
            }
        }
    }
    for (id, verdict) in stale(report, known) {
        out.push_str(&format!(
            "# NO LONGER FAILS ({verdict}): remove\n# {} = {}\n",
            toml_string(id),
            toml_string(&known.failures[id])
        ));
    }
    out
}

/// Listed failures whose scenario did not fail, warn or err this time, with what it
/// did: passed (mailtls fails the run itself), or turned N/A, INFO or MANUAL, or did
/// not run (which mailtls lets through).
fn stale<'k>(report: &Value, known: &'k Expectations) -> Vec<(&'k str, String)> {
    known
        .failures
        .keys()
        .filter_map(|id| {
            let verdict = results(report)
                .iter()
                .find(|r| text(r, "id") == id)
                .map_or("not run", |r| text(r, "verdict"));
            (!matches!(verdict, "fail" | "warn" | "error"))
                .then(|| (id.as_str(), verdict.to_owned()))
        })
        .collect()
}

/// Runs the whole catalogue against one of Dovecot's ports: `target` is the URL
/// scheme and the key scripts/dovecot printed its port under.
fn run(target: &str) {
    let dovecot = dovecot();
    let url = format!(
        "{target}://{}:{}",
        dovecot.get("address"),
        dovecot.get(target)
    );
    let expect = repo()
        .join("tests/expectations")
        .join(format!("dovecot-{target}.toml"));
    let known = Expectations::load(&expect).unwrap_or_else(|e| panic!("{e}"));
    let (code, report) = mailtls_run(dovecot, &url, &expect);
    let transport = match target {
        "imaps" | "pop3s" => "implicit TLS",
        _ => "STARTTLS",
    };
    crate::support::save_conformance(
        &format!("dovecot_{target}"),
        &format!(
            "Dovecot {}",
            dovecot.version.split_whitespace().next().unwrap_or("?")
        ),
        "server",
        &format!("{} {transport}", target.trim_end_matches('s')),
        &report,
    );

    if std::env::var_os(TOML_VAR).is_some() {
        // Straight to stderr, past the harness's capture.
        let _ = writeln!(
            std::io::stderr(),
            "---- draft of {} ({}) ----\n{}",
            expect.display(),
            dovecot.version,
            toml_draft(&report, &known)
        );
    }
    assert!(
        !results(&report).is_empty(),
        "{target}: mailtls ran no scenario against {url}"
    );
    assert_eq!(
        code,
        Some(0),
        "{target} (Dovecot {}): not every scenario went as {} expects (exit {code:?}).\n\
         To review a draft of that file: {TOML_VAR}=1 cargo test --test tests dovecot -- --nocapture\n\n\
         {}{}\n{}",
        dovecot.version,
        expect.display(),
        summary(&report),
        explain(&report),
        dovecot.log_tail()
    );
    let stale = stale(&report, &known);
    assert!(
        stale.is_empty(),
        "{target}: {} lists failures that no longer fail: {stale:?}. Remove them (a draft: \
         {TOML_VAR}=1 cargo test --test tests dovecot -- --nocapture)",
        expect.display()
    );
    insta::assert_snapshot!(target, summary(&report));
}

#[test]
fn imap() {
    run("imap");
}

#[test]
fn imaps() {
    run("imaps");
}

#[test]
fn pop3() {
    run("pop3");
}

#[test]
fn pop3s() {
    run("pop3s");
}
