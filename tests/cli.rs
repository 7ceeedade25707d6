//! `mailtls identity` and `mailtls plain` as a user runs them: exit codes, text and JSON.

use std::io::Write as _;

use crate::support::{code, mailtls, stdout};

fn json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = mailtls(args);
    let value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", stdout(&out)));
    (code(&out), value)
}

#[test]
fn identity_wildcard_match_text() {
    let out = mailtls(&[
        "identity",
        "--reference",
        "mail.example.com",
        "--presented",
        "other.test",
        "--presented",
        "*.example.com",
    ]);
    assert_eq!(code(&out), Some(0));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn identity_json_verdicts_and_exit_codes() {
    // (rules, reference, extra args, exit code, verdict, rule)
    let rows: &[(&str, &str, &[&str], i32, &str, &str)] = &[
        (
            "rfc2595",
            "mail.example.com",
            &["--presented", "*.example.com"],
            0,
            "match",
            "wildcard-matches-one-label",
        ),
        (
            "rfc2595",
            "example.com",
            &["--presented", "*.example.com"],
            1,
            "no-match",
            "wildcard-does-not-match-parent",
        ),
        (
            "rfc2595",
            "a.b.example.com",
            &["--presented", "*.example.com"],
            1,
            "no-match",
            "wildcard-matches-only-one-label",
        ),
        (
            "rfc2595",
            "MAIL.EXAMPLE.COM",
            &["--presented", "mail.example.com"],
            0,
            "match",
            "exact-match",
        ),
        (
            "rfc2595",
            "mail.example.com",
            &["--cn", "mail.example.com"],
            0,
            "match",
            "cn-without-san",
        ),
        (
            "rfc9525",
            "mail.example.com",
            &["--cn", "mail.example.com"],
            1,
            "no-match",
            "cn-not-used",
        ),
        (
            "rfc6125",
            "mail.example.com",
            &["--presented", "x.test", "--cn", "mail.example.com"],
            1,
            "no-match",
            "san-takes-precedence-over-cn",
        ),
        (
            "rfc6125",
            "example.com",
            &["--presented", "*.com"],
            1,
            "no-match",
            "wildcard-too-broad",
        ),
        (
            "rfc2595",
            "127.0.0.1",
            &["--ip", "127.0.0.1"],
            0,
            "match",
            "ip-address-match",
        ),
        (
            "rfc2595",
            "a..example.com",
            &["--presented", "*.example.com"],
            1,
            "malformed",
            "malformed-reference",
        ),
    ];
    for (rules, reference, extra, want_code, verdict, rule) in rows {
        let mut args = vec![
            "identity",
            "--format",
            "json",
            "--rules",
            rules,
            "--reference",
            reference,
        ];
        args.extend_from_slice(extra);
        let (got_code, v) = json(&args);
        assert_eq!(got_code, Some(*want_code), "{args:?}");
        assert_eq!(v["verdict"], *verdict, "{args:?}: {v}");
        assert_eq!(v["rule"], *rule, "{args:?}: {v}");
        assert_eq!(v["reference"], *reference);
        assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    }
}

#[test]
fn identity_reads_names_from_a_pem_certificate() {
    let mut params = rcgen::CertificateParams::new(vec![
        "*.example.test".to_owned(),
        "mail.example.org".to_owned(),
    ])
    .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "example.test");
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("192.0.2.1".parse().unwrap()));
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let mut file = tempfile();
    file.1.write_all(cert.pem().as_bytes()).unwrap();
    let path = file.0.to_str().unwrap();

    let (c, v) = json(&[
        "identity",
        "--format",
        "json",
        "--reference",
        "imap.example.test",
        "--cert",
        path,
    ]);
    assert_eq!(
        (c, &v["verdict"], &v["rule"]),
        (
            Some(0),
            &"match".into(),
            &"wildcard-matches-one-label".into()
        ),
        "{v}"
    );
    assert_eq!(
        v["presented"]["dns_names"],
        serde_json::json!(["*.example.test", "mail.example.org"])
    );
    assert_eq!(
        v["presented"]["ip_addresses"],
        serde_json::json!(["192.0.2.1"])
    );
    assert_eq!(
        v["presented"]["common_names"],
        serde_json::json!(["example.test"])
    );
    // The CN matches the bare name, but the SANs are the source of identity.
    let (c, v) = json(&[
        "identity",
        "--format",
        "json",
        "--reference",
        "example.test",
        "--cert",
        path,
    ]);
    assert_eq!(
        (c, &v["rule"]),
        (Some(1), &"san-takes-precedence-over-cn".into()),
        "{v}"
    );
    let (c, v) = json(&[
        "identity",
        "--format",
        "json",
        "--reference",
        "192.0.2.1",
        "--cert",
        path,
    ]);
    assert_eq!(
        (c, &v["rule"]),
        (Some(0), &"ip-address-match".into()),
        "{v}"
    );

    // An unreadable certificate is a usage error (2), said on stderr.
    let out = mailtls(&[
        "identity",
        "--reference",
        "x.test",
        "--cert",
        "/nonexistent/cert.pem",
    ]);
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/cert.pem"));
    std::fs::remove_file(&file.0).unwrap();
}

fn tempfile() -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(format!(
        "mailtls-cli-{}-{:?}.pem",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}

#[test]
fn plain_decode_rfc4616_example() {
    // RFC 4616 §4: "\0tim\0tanstaaftanstaaf"; the password is hidden unless asked for.
    let out = mailtls(&[
        "plain",
        "decode",
        "--base64",
        "AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
    ]);
    assert_eq!(code(&out), Some(0));
    insta::assert_snapshot!(stdout(&out));
    let (c, v) = json(&[
        "plain",
        "decode",
        "--format",
        "json",
        "--hex",
        "55 72 73 65 6c 00 4b 75 72 74 00 78 69 70 6a 33 70 6c 6d 71",
    ]);
    assert_eq!(c, Some(0));
    assert_eq!(
        v,
        serde_json::json!({
            "verdict": "ok", "rules": "rfc4616", "authzid": "Ursel", "authcid": "Kurt",
            "passwd": null, "passwd_octets": 9, "error": null, "offset": null,
        })
    );
    let (_, v) = json(&[
        "plain",
        "decode",
        "--format",
        "json",
        "--show-secrets",
        "--base64",
        "AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
    ]);
    assert_eq!(v["passwd"], "tanstaaftanstaaf");
}

#[test]
fn plain_decode_refusals_say_where() {
    // CR is excluded by RFC 2595's UTF8-SAFE but allowed by RFC 4616.
    let cr = "00 74 69 0d 6d 00 70 77";
    let out = mailtls(&["plain", "decode", "--rules", "rfc2595", "--hex", cr]);
    assert_eq!(code(&out), Some(1));
    insta::assert_snapshot!(stdout(&out));
    let (c, _) = json(&[
        "plain", "decode", "--format", "json", "--rules", "rfc4616", "--hex", cr,
    ]);
    assert_eq!(c, Some(0));

    // (args, stage, offset)
    let rows: &[(&[&str], &str, Option<u64>)] = &[
        (&["--hex", "00 c0 80 00 70 77"], "plain", Some(1)),
        (
            &["--rules", "rfc2595", "--hex", "00 c0 80 00 70 77"],
            "ok",
            None,
        ),
        (&["--hex", "74 69 6d 00 70 77"], "plain", Some(6)),
        (&["--hex", "0g"], "hex", Some(1)),
        (&["--base64", "AHRpbQB0YW5zdGFhZnRhbnN0YWF"], "base64", None),
        (&["--base64", "="], "plain", Some(0)),
    ];
    for (extra, stage, offset) in rows {
        let mut args = vec!["plain", "decode", "--format", "json"];
        args.extend_from_slice(extra);
        let (c, v) = json(&args);
        if *stage == "ok" {
            assert_eq!((c, &v["verdict"]), (Some(0), &"ok".into()), "{args:?}: {v}");
            continue;
        }
        assert_eq!(c, Some(1), "{args:?}: {v}");
        assert_eq!(v["verdict"], "error", "{args:?}");
        assert_eq!(v["stage"], *stage, "{args:?}: {v}");
        assert_eq!(v["offset"].as_u64(), *offset, "{args:?}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
}

#[test]
fn plain_encode_round_trips_through_decode() {
    let out = mailtls(&[
        "plain",
        "encode",
        "--authzid",
        "Ursel",
        "--authcid",
        "Kurt",
        "--password",
        "xipj3plmq",
    ]);
    assert_eq!(code(&out), Some(0));
    let b64 = stdout(&out).trim().to_owned();
    assert_eq!(b64, "VXJzZWwAS3VydAB4aXBqM3BsbXE=");
    let (c, v) = json(&[
        "plain",
        "decode",
        "--format",
        "json",
        "--show-secrets",
        "--base64",
        &b64,
    ]);
    assert_eq!(
        (c, &v["authzid"], &v["authcid"], &v["passwd"]),
        (
            Some(0),
            &"Ursel".into(),
            &"Kurt".into(),
            &"xipj3plmq".into()
        )
    );
    // A CR in a field is refused under rfc2595.
    let out = mailtls(&[
        "plain",
        "encode",
        "--rules",
        "rfc2595",
        "--authcid",
        "ti\rm",
        "--password",
        "x",
    ]);
    assert_eq!(code(&out), Some(1));
}

#[test]
fn usage_errors_exit_2_and_help_teaches() {
    assert_eq!(code(&mailtls(&["plain", "decode"])), Some(2));
    assert_eq!(
        code(&mailtls(&[
            "identity",
            "--rules",
            "rfc1",
            "--reference",
            "x"
        ])),
        Some(2)
    );
    assert_eq!(code(&mailtls(&["no-such-command"])), Some(2));
    let help = mailtls(&["--help"]);
    assert_eq!(code(&help), Some(0));
    let text = stdout(&help);
    assert!(
        text.contains("Examples:") && text.contains("Exit codes:"),
        "{text}"
    );
}
