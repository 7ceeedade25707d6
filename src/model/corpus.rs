//! The seed corpus of the `starttls_model` fuzz target (`corpus/starttls_model/`),
//! written by [`Script::encode`] from the scripts below, with the verdict each must give.
//!
//! The files are generated, never edited by hand. After changing a seed or the byte
//! format, rewrite them with:
//!
//! ```text
//! MAILTLS_BLESS=overwrite cargo test --lib model::corpus
//! ```
//!
//! Without the variable the test fails when a file differs from what the encoder writes,
//! so the corpus cannot rot silently. Any other value of `MAILTLS_BLESS` is an error.

use super::*;
use std::path::{Path, PathBuf};

use CapabilityBits as B;
use StepCommand as C;

/// What a seed's observation must end with.
enum Expect {
    /// No failure and no warning.
    Clean,
    /// This sticky failure.
    Fails(Violation),
    /// No failure, and this warning.
    Warns(Violation),
}

struct Seed {
    name: &'static str,
    script: Script,
    expect: Expect,
}

fn cmd(command: StepCommand, tag: u8) -> Step {
    Step::Command {
        command,
        tag,
        pipelined: false,
    }
}

fn piped(command: StepCommand, tag: u8) -> Step {
    Step::Command {
        command,
        tag,
        pipelined: true,
    }
}

fn done(tag: u8, status: Status) -> Step {
    Step::Completion {
        tag: Some(tag),
        status,
        caps: None,
    }
}

/// A POP3 answer (`+OK` / `-ERR`), optionally with a CAPA list.
fn answer(status: Status, caps: Option<u8>) -> Step {
    Step::Completion {
        tag: None,
        status,
        caps: caps.map(CapabilityBits),
    }
}

fn greet(caps: Option<u8>) -> Step {
    Step::Greeting {
        status: GreetingStatus::Ok,
        caps: caps.map(CapabilityBits),
    }
}

fn caps(bits: u8) -> Step {
    Step::Capabilities(CapabilityBits(bits))
}

fn auth(mechanism: u8) -> StepCommand {
    StepCommand::Authenticate {
        mechanism,
        initial_response: false,
    }
}

const PLAIN: u8 = 0;
const CRAM: u8 = 4;
const OK: Status = Status::Ok;
const NO: Status = Status::No;
const TLS: Step = Step::HandshakeCompleted;

fn imap() -> Config {
    Config::new(Protocol::Imap, Transport::Starttls)
}

fn pop3() -> Config {
    Config::new(Protocol::Pop3, Transport::Starttls)
}

fn acap() -> Config {
    Config::new(Protocol::Acap, Transport::Starttls)
}

fn script(config: Config, steps: impl IntoIterator<Item = Step>) -> Script {
    Script {
        config,
        steps: steps.into_iter().collect(),
    }
}

fn seeds() -> Vec<Seed> {
    let imap_starttls = B::USER | B::STARTTLS | B::LOGINDISABLED;
    vec![
        Seed {
            // RFC 2595 §3.1 example: a001 CAPABILITY, a002 STARTTLS, <TLS>, a003
            // CAPABILITY, a004 LOGIN joe password, then LOGOUT and close_notify.
            name: "imap-conformant-starttls",
            script: script(
                imap().with_server_refusing_cleartext_auth(true),
                [
                    greet(None),
                    cmd(C::Capability, 0),
                    caps(imap_starttls),
                    done(0, OK),
                    cmd(C::Starttls, 1),
                    done(1, OK),
                    TLS,
                    cmd(C::Capability, 2),
                    caps(B::USER | B::EXTERNAL),
                    done(2, OK),
                    cmd(C::Login, 3),
                    done(3, OK),
                    cmd(C::Logout, 4),
                    Step::Bye,
                    done(4, OK),
                    Step::CloseNotify(Party::Client),
                    Step::CloseNotify(Party::Server),
                    Step::TcpClosed(Party::Client),
                ],
            ),
            expect: Expect::Clean,
        },
        Seed {
            // CVE-2011-0411 class: C: a001 STARTTLS .. a002 NOOP; the NOOP is answered
            // inside TLS.
            name: "imap-pipelined-injection",
            script: script(
                imap().with_judged(Judged::Server),
                [
                    greet(Some(imap_starttls)),
                    cmd(C::Starttls, 0),
                    piped(C::Noop, 1),
                    done(0, OK),
                    TLS,
                    done(1, OK),
                ],
            ),
            expect: Expect::Fails(Violation::PipelinedCommandExecutedAfterTls {
                protocol: Protocol::Imap,
                tag: Some("a002".to_owned()),
            }),
        },
        Seed {
            // Session fixation (CVE-2021-37845): LOGIN, then STARTTLS accepted.
            name: "imap-session-fixation",
            script: script(
                imap().with_judged(Judged::Server),
                [
                    greet(Some(B::USER | B::STARTTLS)),
                    cmd(C::Login, 0),
                    done(0, OK),
                    cmd(C::Starttls, 1),
                    done(1, OK),
                    TLS,
                ],
            ),
            expect: Expect::Fails(Violation::StarttlsAcceptedWhenAuthenticated {
                protocol: Protocol::Imap,
                state: Session::Imap(ImapState::Authenticated),
            }),
        },
        Seed {
            name: "imap-logindisabled-ignored-by-client",
            script: script(
                imap()
                    .with_judged(Judged::Client)
                    .with_client_requiring_tls(false),
                [greet(Some(imap_starttls)), cmd(C::Login, 0), done(0, NO)],
            ),
            expect: Expect::Fails(Violation::LoginSentDespiteLoginDisabled),
        },
        Seed {
            name: "imap-login-accepted-despite-logindisabled",
            script: script(
                imap().with_judged(Judged::Server),
                [greet(Some(imap_starttls)), cmd(C::Login, 0), done(0, OK)],
            ),
            expect: Expect::Fails(Violation::LoginAcceptedDespiteLoginDisabled),
        },
        Seed {
            // SASL downgrade (MailKit GHSA-9j88-vvj5-vhgr): PLAIN only before TLS.
            name: "imap-stale-capability-after-tls",
            script: script(
                imap().with_judged(Judged::Client),
                [
                    greet(Some(B::USER | B::STARTTLS | B::PLAIN)),
                    cmd(C::Starttls, 0),
                    done(0, OK),
                    TLS,
                    cmd(C::Capability, 1),
                    caps(B::USER | B::SCRAM),
                    done(1, OK),
                    cmd(auth(PLAIN), 2),
                ],
            ),
            expect: Expect::Fails(Violation::StaleCapabilityUsedAfterTls {
                protocol: Protocol::Imap,
                capability: "AUTH=PLAIN".to_owned(),
            }),
        },
        Seed {
            // Response injection (CVE-2021-22947 class): bytes after the OK CRLF.
            name: "imap-plaintext-after-starttls-ok",
            script: script(
                imap().with_judged(Judged::Server),
                [
                    greet(Some(imap_starttls)),
                    cmd(C::Starttls, 0),
                    done(0, OK),
                    caps(B::USER | B::PLAIN | B::LOGIN),
                    TLS,
                ],
            ),
            expect: Expect::Fails(Violation::PlaintextAfterStarttlsOk {
                protocol: Protocol::Imap,
            }),
        },
        Seed {
            name: "imap-client-pipelines-after-starttls",
            script: script(
                imap().with_judged(Judged::Client),
                [
                    greet(Some(imap_starttls)),
                    cmd(C::Starttls, 0),
                    piped(C::Capability, 1),
                    done(0, OK),
                    TLS,
                ],
            ),
            expect: Expect::Fails(Violation::CommandPipelinedAfterStarttls {
                protocol: Protocol::Imap,
                same_write: true,
            }),
        },
        Seed {
            name: "imap-authenticated-by-tls-alone",
            script: script(
                imap().with_judged(Judged::Server),
                [
                    greet(Some(imap_starttls)),
                    cmd(C::Starttls, 0),
                    done(0, OK),
                    TLS,
                    cmd(C::Select, 1),
                    done(1, OK),
                ],
            ),
            expect: Expect::Fails(Violation::AuthenticatedByTlsAlone {
                protocol: Protocol::Imap,
                transport: Transport::Starttls,
                command: CommandKind::Select,
            }),
        },
        Seed {
            // imap.client.preauth.abort: a client requiring TLS goes on after PREAUTH.
            name: "imap-preauth-cleartext-continued",
            script: script(
                imap().with_judged(Judged::Client),
                [
                    Step::Greeting {
                        status: GreetingStatus::Preauth,
                        caps: Some(CapabilityBits(imap_starttls)),
                    },
                    cmd(C::Select, 0),
                ],
            ),
            expect: Expect::Fails(Violation::ContinuedAfterPlaintextPreauth {
                command: CommandKind::Select,
            }),
        },
        Seed {
            name: "imaps-plaintext-before-handshake",
            script: script(
                Config::new(Protocol::Imap, Transport::Implicit),
                [greet(Some(B::USER)), TLS],
            ),
            expect: Expect::Fails(Violation::ServerPlaintextBeforeHandshake {
                protocol: Protocol::Imap,
            }),
        },
        Seed {
            name: "imaps-starttls-accepted",
            script: script(
                Config::new(Protocol::Imap, Transport::Implicit).with_judged(Judged::Server),
                [
                    TLS,
                    greet(Some(B::USER | B::PLAIN)),
                    cmd(C::Starttls, 0),
                    done(0, OK),
                ],
            ),
            expect: Expect::Fails(Violation::StarttlsAcceptedOnImplicitTls),
        },
        Seed {
            name: "pop3-conformant-stls",
            script: script(
                pop3(),
                [
                    greet(None),
                    cmd(C::Capability, 0),
                    answer(OK, Some(B::STARTTLS | B::SCRAM)),
                    cmd(C::Starttls, 0),
                    answer(OK, None),
                    TLS,
                    cmd(C::Capability, 0),
                    answer(OK, Some(B::USER | B::PLAIN | B::SCRAM)),
                    cmd(C::User, 0),
                    answer(OK, None),
                    cmd(C::Pass, 0),
                    answer(OK, None),
                    cmd(C::RequiresAuth, 0),
                    answer(OK, None),
                    cmd(C::Logout, 0),
                    answer(OK, None),
                    Step::CloseNotify(Party::Client),
                    Step::TcpClosed(Party::Client),
                ],
            ),
            expect: Expect::Clean,
        },
        Seed {
            name: "pop3-stls-without-capa",
            script: script(
                pop3().with_judged(Judged::Server),
                [
                    greet(None),
                    cmd(C::Capability, 0),
                    answer(NO, None),
                    cmd(C::Starttls, 0),
                    answer(OK, None),
                    TLS,
                ],
            ),
            expect: Expect::Fails(Violation::StlsWithoutCapa),
        },
        Seed {
            name: "pop3-stls-in-transaction",
            script: script(
                pop3().with_judged(Judged::Server),
                [
                    greet(None),
                    cmd(C::User, 0),
                    answer(OK, None),
                    cmd(C::Pass, 0),
                    answer(OK, None),
                    cmd(C::Starttls, 0),
                    answer(OK, None),
                    TLS,
                ],
            ),
            expect: Expect::Fails(Violation::StlsAcceptedOutsideAuthorization {
                state: Session::Pop3(Pop3State::Transaction),
            }),
        },
        Seed {
            // command-injection-tester's POP3 probe: STLS\r\nCAPA\r\n in one write.
            name: "pop3-pipelined-injection",
            script: script(
                pop3().with_judged(Judged::Server),
                [
                    greet(None),
                    cmd(C::Starttls, 0),
                    piped(C::Capability, 0),
                    answer(OK, None),
                    TLS,
                    answer(OK, Some(B::USER | B::PLAIN)),
                ],
            ),
            expect: Expect::Fails(Violation::PipelinedCommandExecutedAfterTls {
                protocol: Protocol::Pop3,
                tag: None,
            }),
        },
        Seed {
            name: "pop3s-no-close-notify",
            script: script(
                Config::new(Protocol::Pop3, Transport::Implicit),
                [
                    TLS,
                    greet(None),
                    cmd(C::Logout, 0),
                    answer(OK, None),
                    Step::TcpClosed(Party::Server),
                ],
            ),
            expect: Expect::Warns(Violation::NoCloseNotify { by: Party::Server }),
        },
        Seed {
            // RFC 2595 §5.1 example: the greeting is re-issued inside TLS.
            name: "acap-greeting-reissued",
            script: script(
                acap(),
                [
                    greet(Some(B::STARTTLS | B::CRAM)),
                    cmd(C::Starttls, 1),
                    done(1, OK),
                    TLS,
                    greet(Some(B::CRAM | B::PLAIN | B::EXTERNAL)),
                    cmd(auth(PLAIN), 2),
                    done(2, OK),
                ],
            ),
            expect: Expect::Clean,
        },
        Seed {
            name: "acap-greeting-not-reissued",
            script: script(
                acap().with_judged(Judged::Server),
                [
                    greet(Some(B::STARTTLS | B::CRAM)),
                    cmd(C::Starttls, 1),
                    done(1, OK),
                    TLS,
                    cmd(auth(CRAM), 2),
                    done(2, OK),
                ],
            ),
            expect: Expect::Fails(Violation::NoGreetingAfterAcapStarttls {
                got: "another response",
            }),
        },
        Seed {
            // A SCRAM-only client against a server offering PLAIN in cleartext.
            name: "imap-plain-advertised-in-cleartext",
            script: script(
                imap().with_judged(Judged::Server),
                [greet(Some(B::USER | B::STARTTLS | B::PLAIN | B::SCRAM))],
            ),
            expect: Expect::Fails(Violation::PlainAdvertisedInCleartext {
                protocol: Protocol::Imap,
            }),
        },
    ]
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/starttls_model")
}

fn blessing() -> bool {
    match std::env::var("MAILTLS_BLESS") {
        Ok(value) if value == "overwrite" => true,
        Ok(value) => panic!("MAILTLS_BLESS={value:?}: the only value understood is `overwrite`"),
        Err(_) => false,
    }
}

#[test]
fn corpus_files_match_the_encoder() {
    let dir = corpus_dir();
    let bless = blessing();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for seed in seeds() {
        let bytes = seed.script.encode();
        let path = dir.join(seed.name);
        if bless {
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let on_disk = std::fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run `MAILTLS_BLESS=overwrite cargo test --lib model::corpus`",
                path.display()
            )
        });
        assert_eq!(
            on_disk,
            bytes,
            "{} differs from its script; rewrite with MAILTLS_BLESS=overwrite",
            path.display()
        );
    }
}

#[test]
fn seeds_give_their_verdicts() {
    for seed in seeds() {
        assert_eq!(
            Script::decode(&seed.script.encode()),
            seed.script,
            "{}",
            seed.name
        );
        let observer = seed.script.observe();
        let verdicts: Vec<_> = observer
            .findings()
            .iter()
            .filter(|f| f.disposition != Disposition::Tolerated)
            .collect();
        match &seed.expect {
            Expect::Clean => assert!(verdicts.is_empty(), "{}: {verdicts:#?}", seed.name),
            Expect::Fails(violation) => {
                assert_eq!(observer.error(), Some(violation), "{}", seed.name);
            }
            Expect::Warns(violation) => {
                assert_eq!(observer.error(), None, "{}", seed.name);
                assert!(
                    observer.warnings().any(|w| w == violation),
                    "{}: {verdicts:#?}",
                    seed.name
                );
            }
        }
    }
}

#[test]
fn seeds_pass_the_fuzz_target() {
    for seed in seeds() {
        crate::internal::fuzzing::fuzz_starttls_model(&seed.script.encode());
    }
}

#[test]
fn there_are_at_least_ten_distinct_seeds() {
    let seeds = seeds();
    let names: std::collections::BTreeSet<_> = seeds.iter().map(|s| s.name).collect();
    assert!(seeds.len() >= 10);
    assert_eq!(names.len(), seeds.len());
}
