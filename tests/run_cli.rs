//! `mailtls run`, `replay` and `list` as a user (or CI) runs them: exit codes, formats,
//! expectations, unreachable targets and bad scenario files.

use crate::support::{code, mailtls, stdout};
use std::path::PathBuf;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh scratch directory under the target dir (removed by the caller's `Drop`-less
/// tests at the next run: names are unique per test).
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn run_with_no_target_tests_the_reference_and_exits_0() {
    let out = mailtls(&["run", "-q", "--only", "imap.server.starttls.*"]);
    let text = stdout(&out);
    assert_eq!(code(&out), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("✔ imap.server.starttls.ok-then-handshake"),
        "{text}"
    );
    assert!(text.contains(" 0 failed"), "{text}");
}

#[test]
fn a_faulty_reference_fails_the_run_with_exit_1_and_explains() {
    let out = mailtls(&[
        "run",
        "-q",
        "--reference-fault",
        "executes-pipelined-after-starttls",
        "--only",
        "imap.server.starttls.pipelined-command-injection",
    ]);
    let text = stdout(&out);
    assert_eq!(code(&out), Some(1), "{text}");
    assert!(
        text.contains("✘ imap.server.starttls.pipelined-command-injection"),
        "{text}"
    );
    assert!(
        text.contains("X7QZK OK"),
        "the transcript shows the injected answer: {text}"
    );
    assert!(
        text.contains("TLS established"),
        "the TLS boundary is marked: {text}"
    );
}

#[test]
fn expected_failures_keep_the_run_green_and_a_fixed_one_turns_it_red() {
    let dir = scratch("expectations");
    let file = dir.join("known.toml");
    std::fs::write(
        &file,
        "[failures]\n\"imap.server.starttls.pipelined-command-injection\" = \"known: executes pipelined commands\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let only = "imap.server.starttls.pipelined-command-injection";
    let faulty = mailtls(&[
        "run",
        "-q",
        "--reference-fault",
        "executes-pipelined-after-starttls",
        "--only",
        only,
        "--expect",
        file,
    ]);
    assert_eq!(code(&faulty), Some(0), "{}", stdout(&faulty));
    let fixed = mailtls(&["run", "-q", "--only", only, "--expect", file]);
    assert_eq!(
        code(&fixed),
        Some(1),
        "an expected failure that passes fails the run: {}",
        stdout(&fixed)
    );
    let typo = dir.join("typo.toml");
    std::fs::write(&typo, "[failures]\n\"imap.server.no-such-id\" = \"x\"\n").unwrap();
    let out = mailtls(&["run", "-q", "--expect", typo.to_str().unwrap()]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("imap.server.no-such-id"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unreachable_server_exits_3() {
    // Port 1 on the loopback: nothing listens there.
    let out = mailtls(&[
        "run",
        "-q",
        "--server",
        "imap://127.0.0.1:1",
        "--timeout",
        "2s",
    ]);
    assert_eq!(code(&out), Some(3), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}

#[test]
fn a_bad_scenario_file_is_exit_2_with_file_line_col() {
    let dir = scratch("bad-scenario");
    let file = dir.join("broken.scn");
    std::fs::write(
        &file,
        "id: x.y\ntitle: t\nprotocol: imap\nroles: server\nlevel: MUST\nclause: RFC 2595 §3.1\n\nS: * OK {*}\n[expect-sience 300ms]\n",
    )
    .unwrap();
    let out = mailtls(&["replay", file.to_str().unwrap()]);
    assert_eq!(code(&out), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("broken.scn:9:2"), "{err}");
    assert!(err.contains("expect-sience"), "{err}");
}

#[test]
fn replay_runs_one_file_against_the_reference() {
    let out = mailtls(&[
        "replay",
        "scenarios/imap/starttls-ok-then-handshake.scn",
        "-q",
    ]);
    let text = stdout(&out);
    assert_eq!(code(&out), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
fn json_and_junit_reports_are_machine_readable() {
    let only = "imap.server.starttls.ok-then-handshake";
    let json = mailtls(&["run", "-q", "--only", only, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["results"][0]["id"], only);
    assert_eq!(value["results"][0]["verdict"], "pass");
    assert!(
        value["results"][0]["transcript"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    let dir = scratch("junit");
    let out_file = dir.join("report.xml");
    let junit = mailtls(&[
        "run",
        "-q",
        "--only",
        only,
        "--format",
        "junit",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code(&junit), Some(0));
    let xml = std::fs::read_to_string(&out_file).unwrap();
    assert!(xml.contains("<testcase") && xml.contains(only), "{xml}");
}

#[test]
fn list_shows_ids_levels_and_clauses() {
    let out = mailtls(&["list", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 20);
    let row = rows
        .iter()
        .find(|r| r["id"] == "imap.server.logindisabled.login-refused")
        .unwrap();
    assert_eq!(row["level"], "MUST");
    assert_eq!(row["clauses"][0], "RFC 2595 §3.2");
    let faults = mailtls(&["list", "--faults"]);
    assert!(stdout(&faults).contains("executes-pipelined-after-starttls"));
    let client_faults = mailtls(&["list", "--client-faults", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&client_faults.stdout).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "login-despite-logindisabled")
    );
}

#[test]
fn list_says_which_scenarios_are_manual_and_what_to_check() {
    let out = mailtls(&["list", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manual: Vec<&serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["manual"].as_array().unwrap().is_empty())
        .collect();
    assert!(!manual.is_empty());
    let alert = manual
        .iter()
        .find(|r| r["id"] == "imap.client.ui.alert-in-plaintext-greeting")
        .expect("the ALERT-in-greeting case is MANUAL");
    let look_for = alert["manual"][0].as_str().unwrap().to_owned();
    let text = stdout(&mailtls(&["list"]));
    let line = text
        .lines()
        .find(|l| l.starts_with("imap.client.ui.alert-in-plaintext-greeting "))
        .unwrap();
    assert!(line.ends_with("MANUAL"), "{line}");
    assert!(
        text.contains(&format!("check by hand: {look_for}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("({} MANUAL", manual.len())),
        "{}",
        text.lines().last().unwrap_or_default()
    );
}

#[test]
fn every_catalogue_case_is_implemented_or_manual() {
    let missing = mailtls::coverage::missing_catalogue_ids().unwrap();
    assert!(
        missing.is_empty(),
        "catalogue ids no scenario implements (id: or catalogue:): {missing:?}"
    );
}

/// A real `--server` target (a reference server started here, outside mailtls): without
/// its CA the chain is not trusted and scenarios cannot run (ERROR); `--insecure` runs
/// them and records the untrusted chain as a FAIL; `--ca` trusts it.
#[test]
fn a_real_target_with_ca_insecure_and_untrusted_chains() {
    use mailtls::certs::{Authority, LeafSpec};
    use mailtls::model::Protocol;
    use mailtls::peers::{ServerOptions, spawn_server};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ca = Authority::new().unwrap();
    let leaf = ca
        .issue(&LeafSpec::for_names(&["mail.example.test"]))
        .unwrap();
    let server = runtime
        .block_on(spawn_server(ServerOptions::new(
            Protocol::Imap,
            leaf.server_config().unwrap(),
        )))
        .unwrap();
    let url = format!("imap://{}", server.addr());
    let dir = scratch("real-target");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).unwrap();
    let only = "imap.server.starttls.ok-then-handshake";
    let base = [
        "run",
        "-q",
        "--format",
        "json",
        "--server",
        &url,
        "--server-name",
        "mail.example.test",
        "--only",
        only,
        "--only",
        "imap.server.tls.*",
        "--only",
        "imap.server.identity.rfc2595",
    ];
    let verdicts = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let out = mailtls(&args);
        let value: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        let verdict = |id: &str| {
            value["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .map(|r| r["verdict"].as_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("no {id}: {value}"))
        };
        (
            code(&out),
            verdict(only),
            verdict("imap.server.tls.chain-trusted"),
            verdict("imap.server.identity.rfc2595"),
        )
    };
    let trusted = verdicts(&["--ca", ca_file.to_str().unwrap()]);
    assert_eq!(
        trusted,
        (Some(0), "pass".into(), "pass".into(), "pass".into())
    );
    let untrusted = verdicts(&[]);
    assert_eq!(untrusted.0, Some(1));
    assert_eq!(
        (untrusted.1.as_str(), untrusted.2.as_str()),
        ("error", "error")
    );
    let insecure = verdicts(&["--insecure"]);
    assert_eq!(
        insecure,
        (Some(1), "pass".into(), "fail".into(), "pass".into())
    );
    drop(server);
}

#[test]
fn certs_writes_the_ca_every_profile_and_private_keys_only_the_owner_reads() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("certs");
    let out = mailtls(&["certs", "--out", dir.to_str().unwrap()]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let index = std::fs::read_to_string(dir.join("index.txt")).unwrap();
    for profile in mailtls::certs::profiles::Profile::ALL {
        let id = profile.id();
        assert!(
            index.contains(&format!("{id}.pem: ")),
            "{id} missing from the index:\n{index}"
        );
        let pem = std::fs::read_to_string(dir.join(format!("{id}.pem"))).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{id}");
        let key = dir.join(format!("{id}.key"));
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{id}.key is readable by others");
    }
    assert!(
        std::fs::read_to_string(dir.join("ca.pem"))
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
}
