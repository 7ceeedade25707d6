//! The one integration-test binary (ripgrep's layout). Each module says what belongs there.

// Test code: a panic is a test failure, helpers are shared between modules only, and
// table rows are tuples by design (webpki-style tables).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::type_complexity,
    unreachable_pub
)]

// `mailtls identity` and `mailtls plain` run as a user would run them.
mod cli;
// Every checked-in fuzz seed through its fuzz entry point.
mod corpus;
// The server-role catalogue against a private Dovecot (IMAP, IMAPS, POP3, POP3S).
mod dovecot;
// The engine's verdicts and directives end to end through `mailtls replay`.
mod engine_features;
// scenarios/coverage.toml against the built-in scenarios and the RFC text; list --coverage.
mod coverage;
// proptest properties of the identity check.
mod identity_props;
// The layering rules of DESIGN §2, as a test.
mod layers;
// proptest properties of the STARTTLS models against a naive trace oracle.
mod model_props;
// net::Conn and tls::ClientTls over real sockets: STARTTLS in both roles, limits, closes.
mod net_tls;
// The reference client and its fault switches, against scripted servers.
mod peer_client;
// The reference server and its fault switches, over real sockets.
mod peers;
// proptest properties of the PLAIN codecs.
mod plain_props;
// proptest properties of the protocol codecs.
mod proto_props;
// The client-role suite against curl, Python's imaplib/poplib and openssl s_client.
mod real_clients;
// `report/`: every format of hand-built runs, snapshotted and parsed back.
mod report;
// The scenario language: syntax into the AST, error snapshots, parser properties.
mod scenario_lang;
// Every built-in client scenario passes on the reference client and fails on its faults.
mod client_scenarios;
// `mailtls run`, `replay` and `list`: exit codes, formats, expectations.
mod run_cli;
// Every built-in scenario passes on the reference servers and fails on its faults.
mod scenarios;
// Shared helpers.
mod support;
