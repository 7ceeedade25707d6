//! proptest properties of the protocol codecs (`mailtls::proto`):
//! - no input panics any parser, and every stateful reader, fed arbitrary bytes in
//!   arbitrary chunks, agrees with the one-shot reads;
//! - generated valid messages (IMAP, POP3, ACAP; both directions) round-trip:
//!   `read(encode(m)) == m`, consuming every byte;
//! - the capabilities read from generated `CAPABILITY` lines, `[CAPABILITY]` codes, `CAPA`
//!   bodies and ACAP greetings equal the generated set.

use mailtls::proto::acap;
use mailtls::proto::capability::Capabilities;
use mailtls::proto::imap;
use mailtls::proto::line::{Ending, Keyword, Limits, LineFramer};
use mailtls::proto::pop3;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Arbitrary input
// ---------------------------------------------------------------------------------------

/// Bytes biased towards the protocols' tokens, so generated input gets past the first
/// byte of the grammar.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"* ",
        b"+ ",
        b"+OK",
        b"-ERR",
        b"A1 ",
        b"OK",
        b"NO",
        b"BAD",
        b"PREAUTH",
        b"BYE",
        b"CAPABILITY",
        b"ACAP",
        b"STARTTLS",
        b"LOGIN",
        b"AUTHENTICATE",
        b"STLS",
        b"CAPA",
        b"SASL",
        b"[",
        b"]",
        b"(",
        b")",
        b"{5}\r\n",
        b"{0}\r\n",
        b"{2+}\r\n",
        b"{",
        b"}",
        b"\"",
        b"\\",
        b".",
        b"..",
        b"\0",
        b"/",
        b"=",
        b"PLAIN",
        b"[ALERT]",
        b"[SYS/PERM]",
        b"AUTH=PLAIN",
    ];
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(TOKENS).prop_map(<[u8]>::to_vec),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Chunk sizes for feeding a reader.
fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..12, 1..16)
}

/// Splits `data` into chunks of the given sizes (cycling), the last one taking the rest.
fn chunked<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = data;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*size).min(rest.len()));
        chunks.push(head);
        rest = tail;
    }
    chunks
}

const SMALL: Limits = Limits {
    max_line: 64,
    max_literal: 16,
    max_message: 256,
};

/// What reading a whole input gave: the messages, then the leftover length or the first
/// error's stream offset.
type Outcome<T> = (Vec<T>, Result<usize, Option<usize>>);

/// Reads `data` message by message with `read`, checking each re-encodes exactly.
fn one_shot<T, E: std::fmt::Debug>(
    data: &[u8],
    mut read: impl FnMut(&[u8]) -> Result<(T, usize), E>,
    encode: impl Fn(&T, &mut Vec<u8>),
    error_offset: impl Fn(&E) -> Option<Option<usize>>,
) -> Outcome<T> {
    let mut got = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &data[pos..];
        match read(rest) {
            Ok((message, used)) => {
                let mut out = Vec::new();
                encode(&message, &mut out);
                assert_eq!(out, &rest[..used], "encode(read(x)) != x");
                got.push(message);
                pos += used;
            }
            Err(error) => {
                return match error_offset(&error) {
                    None => (got, Ok(data.len() - pos)),
                    Some(offset) => (got, Err(offset.map(|o| o + pos))),
                };
            }
        }
    }
}

macro_rules! via_reader {
    ($reader:expr, $next:ident, $chunks:expr) => {{
        let mut reader = $reader;
        let mut got = Vec::new();
        let mut end = None;
        'outer: for chunk in $chunks {
            reader.push(chunk);
            loop {
                match reader.$next() {
                    Ok(Some(message)) => got.push(message),
                    Ok(None) => break,
                    Err(error) => {
                        end = Some(Err(error.offset()));
                        break 'outer;
                    }
                }
            }
        }
        let end = end.unwrap_or_else(|| Ok(reader.buffered().len()));
        (got, end)
    }};
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_input_panics_a_parser(data in wire()) {
        let _ = imap::Response::read(&data);
        let _ = imap::Response::from_bytes(&data);
        let _ = imap::Command::read(&data);
        let _ = imap::Command::from_bytes(&data);
        for expect in [pop3::Expect::SingleLine, pop3::Expect::MultiLine] {
            let _ = pop3::Response::read(&data, expect);
            let _ = pop3::Response::from_bytes(&data, expect);
        }
        let _ = pop3::Command::read(&data);
        let _ = acap::Response::read(&data);
        let _ = acap::Command::from_bytes(&data);
        let mut framer = LineFramer::new(&SMALL);
        framer.push(&data);
        while let Ok(Some(_)) = framer.next_line() {}
    }

    #[test]
    fn no_raw_bytes_panic_a_parser(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = imap::Response::read_with(&data, &SMALL);
        let _ = imap::Command::read_with(&data, &SMALL);
        let _ = pop3::Response::read_with(&data, pop3::Expect::MultiLine, &SMALL);
        let _ = pop3::Command::read_with(&data, &SMALL);
        let _ = acap::Response::read_with(&data, &SMALL);
        let _ = acap::Command::read_with(&data, &SMALL);
    }

    #[test]
    fn fuzz_entry_points_hold(data in wire()) {
        mailtls::internal::fuzzing::fuzz_imap_response(&data);
        mailtls::internal::fuzzing::fuzz_pop3_response(&data);
        mailtls::internal::fuzzing::fuzz_acap_response(&data);
    }

    #[test]
    fn imap_readers_agree_with_one_shot_reads(data in wire(), sizes in chunk_sizes()) {
        let offset = |e: &imap::Error| (!e.is_incomplete()).then(|| e.offset());
        let expected = one_shot(&data, |i| imap::Response::read_with(i, &SMALL), imap::Response::encode, offset);
        let got = via_reader!(imap::ResponseReader::with_limits(SMALL), next_response, chunked(&data, &sizes));
        prop_assert_eq!(got, expected);
        let expected = one_shot(&data, |i| imap::Command::read_with(i, &SMALL), imap::Command::encode, offset);
        let got = via_reader!(imap::CommandReader::with_limits(SMALL), next_command, chunked(&data, &sizes));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn pop3_readers_agree_with_one_shot_reads(data in wire(), sizes in chunk_sizes(), pattern in any::<u8>()) {
        let expect = |i: usize| if pattern >> (i % 8) & 1 == 1 { pop3::Expect::MultiLine } else { pop3::Expect::SingleLine };
        let offset = |e: &pop3::Error| (!e.is_incomplete()).then(|| e.offset());
        let mut index = 0;
        let expected = one_shot(
            &data,
            |i| {
                let read = pop3::Response::read_with(i, expect(index), &SMALL);
                if matches!(&read, Ok((r, _)) if !r.is_continuation()) {
                    index += 1;
                }
                read
            },
            pop3::Response::encode,
            offset,
        );
        let mut reader = pop3::ResponseReader::with_limits(SMALL);
        for i in 0..=data.len() {
            reader.expect(expect(i));
        }
        let got = via_reader!(reader, next_response, chunked(&data, &sizes));
        prop_assert_eq!(got, expected);
        let expected = one_shot(&data, |i| pop3::Command::read_with(i, &SMALL), pop3::Command::encode, offset);
        let got = via_reader!(pop3::CommandReader::with_limits(SMALL), next_command, chunked(&data, &sizes));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn acap_readers_agree_with_one_shot_reads(data in wire(), sizes in chunk_sizes()) {
        let offset = |e: &acap::Error| (!e.is_incomplete()).then(|| e.offset());
        let expected = one_shot(&data, |i| acap::Response::read_with(i, &SMALL), acap::Response::encode, offset);
        let got = via_reader!(acap::ResponseReader::with_limits(SMALL), next_response, chunked(&data, &sizes));
        prop_assert_eq!(got, expected);
        let expected = one_shot(&data, |i| acap::Command::read_with(i, &SMALL), acap::Command::encode, offset);
        let got = via_reader!(acap::CommandReader::with_limits(SMALL), next_command, chunked(&data, &sizes));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn line_framer_agrees_with_splitting(data in wire(), sizes in chunk_sizes()) {
        let mut framer = LineFramer::default();
        let mut lines = Vec::new();
        for chunk in chunked(&data, &sizes) {
            framer.push(chunk);
            while let Some(line) = framer.next_line().unwrap() {
                lines.push(line);
            }
        }
        let mut rebuilt = Vec::new();
        for line in &lines {
            prop_assert_eq!(line.offset, rebuilt.len());
            line.encode(&mut rebuilt);
        }
        rebuilt.extend_from_slice(framer.buffered());
        prop_assert_eq!(&rebuilt, &data);
        prop_assert!(!framer.buffered().contains(&b'\n'));
    }
}

// ---------------------------------------------------------------------------------------
// Generated valid messages
// ---------------------------------------------------------------------------------------

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![4 => Just(Ending::Crlf), 1 => Just(Ending::Lf)]
}

/// Human-readable text: no NUL/CR/LF, never starting with `[` (which could read as a code).
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(&b"abcxyzOKN0129 .,:;!?()<>\"\\/=*%+-_{}]"[..]),
            1 => 0x80u8..=0xff,
        ],
        0..24,
    )
}

fn imap_tag() -> impl Strategy<Value = imap::Tag> {
    "[A-Za-z0-9.]{1,8}".prop_map(|t| imap::Tag::new(&t).unwrap())
}

/// IMAP capability atoms, some of them `AUTH=` mechanisms.
fn imap_atoms() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9-]{1,10}[+]?",
            "AUTH=[A-Z0-9-]{1,12}",
            Just("STARTTLS".to_string()),
            Just("LOGINDISABLED".to_string()),
        ],
        0..8,
    )
}

fn imap_code() -> impl Strategy<Value = imap::Code> {
    prop_oneof![
        Just(imap::Code::alert()),
        imap_atoms().prop_map(imap::Code::capability),
        (
            "X-[A-Z]{1,6}",
            prop::option::of("[a-z0-9 ()/:@*.\\[]{0,12}")
        )
            .prop_map(|(name, args)| imap::Code {
                name: Keyword::new(imap::CodeName::Other(name)),
                args: args.map(String::into_bytes),
            }),
    ]
}

fn imap_status(tagged: bool) -> impl Strategy<Value = imap::Status> {
    let statuses = if tagged {
        vec![imap::Status::Ok, imap::Status::No, imap::Status::Bad]
    } else {
        vec![
            imap::Status::Ok,
            imap::Status::No,
            imap::Status::Bad,
            imap::Status::Preauth,
            imap::Status::Bye,
        ]
    };
    prop::sample::select(statuses)
}

/// Untagged data that is not a status or CAPABILITY, with an optional literal inside.
fn imap_data() -> impl Strategy<Value = Vec<u8>> {
    (
        1u32..1000,
        prop::sample::select(vec!["EXISTS", "RECENT", "EXPUNGE"]),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..12)),
    )
        .prop_map(|(n, word, literal)| match literal {
            None => format!("{n} {word}").into_bytes(),
            Some(data) => {
                let mut raw = format!("{n} FETCH (BODY[] {{{}}}\r\n", data.len()).into_bytes();
                raw.extend_from_slice(&data);
                raw.extend_from_slice(b")");
                raw
            }
        })
}

fn imap_response() -> impl Strategy<Value = imap::Response> {
    let kind = prop_oneof![
        (
            imap_tag(),
            imap_status(true),
            prop::option::of(imap_code()),
            prop::option::of(text())
        )
            .prop_map(|(tag, status, code, text)| imap::ResponseKind::Status {
                tag: Some(tag),
                status: Keyword::new(status),
                code,
                text
            }),
        (
            imap_status(false),
            prop::option::of(imap_code()),
            prop::option::of(text())
        )
            .prop_map(|(status, code, text)| imap::ResponseKind::Status {
                tag: None,
                status: Keyword::new(status),
                code,
                text
            }),
        imap_atoms().prop_map(|atoms| imap::Response::capability(atoms).kind),
        imap_data().prop_map(imap::ResponseKind::Data),
        prop::option::of(text()).prop_map(imap::ResponseKind::Continuation),
    ];
    (kind, ending()).prop_map(|(kind, ending)| imap::Response { kind, ending })
}

fn imap_astring() -> impl Strategy<Value = imap::AString> {
    prop_oneof![
        "[A-Za-z0-9!#$&'+,.:;<=>?@^_`|~\\]-]{1,10}".prop_map(imap::AString::Atom),
        prop::collection::vec(
            any::<u8>().prop_filter("quotable", |b| !matches!(b, 0 | b'\r' | b'\n')),
            0..10
        )
        .prop_map(imap::AString::Quoted),
        (prop::collection::vec(any::<u8>(), 0..10), any::<bool>())
            .prop_map(|(data, non_sync)| imap::AString::Literal { data, non_sync }),
    ]
}

/// Verbatim arguments: no CR/LF, not ending in a literal announcement.
fn raw_args() -> impl Strategy<Value = Vec<u8>> {
    "[A-Za-z0-9 ()\"*%.\\[\\]]{0,15}[A-Za-z0-9)]".prop_map(String::into_bytes)
}

fn imap_command() -> impl Strategy<Value = imap::Command> {
    let body = prop_oneof![
        Just(imap::CommandBody::Starttls),
        Just(imap::CommandBody::Capability),
        Just(imap::CommandBody::Logout),
        Just(imap::CommandBody::Noop),
        (imap_astring(), imap_astring())
            .prop_map(|(user, password)| imap::CommandBody::Login { user, password }),
        ("[A-Z0-9-]{1,12}", prop::option::of("[A-Za-z0-9+/]{0,12}=?")).prop_map(
            |(mechanism, initial)| {
                let initial = initial.map(|i| if i.is_empty() { "=".to_string() } else { i });
                imap::CommandBody::Authenticate { mechanism, initial }
            }
        ),
        (imap_astring(), prop::option::of(raw_args()))
            .prop_map(|(mailbox, params)| imap::CommandBody::Select { mailbox, params }),
        raw_args().prop_map(imap::CommandBody::Id),
        ("X[A-Z]{1,8}", prop::option::of(raw_args()))
            .prop_map(|(name, args)| imap::CommandBody::Unknown { name, args }),
    ];
    (imap_tag(), body, ending()).prop_map(|(tag, body, ending)| {
        let mut command = imap::Command::new(tag, body);
        command.ending = ending;
        command
    })
}

fn pop3_response() -> impl Strategy<Value = (pop3::Response, pop3::Expect)> {
    let code =
        prop::collection::vec("[A-Z-]{1,8}", 1..3).prop_map(|levels| pop3::RespCode { levels });
    let body_line = (
        prop_oneof![
            3 => prop::collection::vec(any::<u8>().prop_filter("no CR/LF", |b| !matches!(b, b'\r' | b'\n')), 0..12),
            1 => "[.]{1,3}[a-z]{0,3}".prop_map(String::into_bytes),
        ],
        ending(),
    )
        .prop_map(|(data, ending)| pop3::BodyLine { data, ending });
    let body = (prop::collection::vec(body_line, 0..6), ending())
        .prop_map(|(lines, end)| pop3::MultiLine { lines, end });
    let status = (
        prop::sample::select(vec![pop3::Status::Ok, pop3::Status::Err]),
        prop::option::of(code),
        prop::option::of(text()),
        prop::option::of(body),
    )
        .prop_map(|(status, code, text, body)| {
            // Only +OK carries a body.
            let body = body.filter(|_| status == pop3::Status::Ok);
            let expect = if body.is_some() {
                pop3::Expect::MultiLine
            } else {
                pop3::Expect::SingleLine
            };
            (
                pop3::ResponseKind::Status {
                    status,
                    code,
                    text,
                    body,
                },
                expect,
            )
        });
    let continuation = prop::option::of("[A-Za-z0-9+/=]{0,16}".prop_map(String::into_bytes))
        .prop_map(|text| {
            (
                pop3::ResponseKind::Continuation(text),
                pop3::Expect::MultiLine,
            )
        });
    (prop_oneof![4 => status, 1 => continuation], ending())
        .prop_map(|((kind, expect), ending)| (pop3::Response { kind, ending }, expect))
}

fn pop3_command() -> impl Strategy<Value = pop3::Command> {
    let token = || "[A-Za-z0-9!-/:-@]{1,10}";
    let rest = || {
        prop::collection::vec(
            any::<u8>().prop_filter("text", |b| !matches!(b, 0 | b'\r' | b'\n')),
            1..16,
        )
    };
    let body = prop_oneof![
        Just(pop3::CommandBody::Stls),
        Just(pop3::CommandBody::Capa),
        Just(pop3::CommandBody::Stat),
        Just(pop3::CommandBody::Rset),
        Just(pop3::CommandBody::Noop),
        Just(pop3::CommandBody::Quit),
        rest().prop_map(pop3::CommandBody::User),
        rest().prop_map(pop3::CommandBody::Pass),
        (token(), token()).prop_map(|(name, digest)| pop3::CommandBody::Apop { name, digest }),
        prop::option::of((token(), prop::option::of("[A-Za-z0-9+/]{1,12}={0,2}"))).prop_map(
            |auth| match auth {
                None => pop3::CommandBody::Auth {
                    mechanism: None,
                    initial: None
                },
                Some((mechanism, initial)) => pop3::CommandBody::Auth {
                    mechanism: Some(mechanism),
                    initial
                },
            }
        ),
        prop::option::of(token()).prop_map(pop3::CommandBody::List),
        prop::option::of(token()).prop_map(pop3::CommandBody::Uidl),
        token().prop_map(pop3::CommandBody::Retr),
        token().prop_map(pop3::CommandBody::Dele),
        (token(), token()).prop_map(|(msg, lines)| pop3::CommandBody::Top { msg, lines }),
        ("X[A-Z]{1,5}", prop::option::of(rest()))
            .prop_map(|(name, args)| pop3::CommandBody::Unknown { name, args }),
    ];
    (body, ending()).prop_map(|(body, ending)| {
        let mut command = pop3::Command::new(body);
        command.ending = ending;
        command
    })
}

fn acap_string() -> impl Strategy<Value = acap::AcapString> {
    prop_oneof![
        prop::collection::vec(
            any::<u8>().prop_filter("quotable", |b| !matches!(b, 0 | b'\r' | b'\n')),
            0..10
        )
        .prop_map(acap::AcapString::Quoted),
        (prop::collection::vec(any::<u8>(), 0..10), any::<bool>())
            .prop_map(|(data, non_sync)| acap::AcapString::Literal { data, non_sync }),
    ]
}

fn acap_value() -> impl Strategy<Value = acap::Value> {
    let leaf = prop_oneof![
        "[A-Za-z0-9.*%-]{1,8}".prop_map(acap::Value::Atom),
        acap_string().prop_map(acap::Value::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(acap::Value::List)
    })
}

fn acap_tag() -> impl Strategy<Value = acap::Tag> {
    "[A-Za-z0-9.]{1,32}".prop_map(|t| acap::Tag::new(&t).unwrap())
}

fn acap_response() -> impl Strategy<Value = acap::Response> {
    let quoted_text = || {
        prop::collection::vec(
            any::<u8>().prop_filter("quotable", |b| !matches!(b, 0 | b'\r' | b'\n')),
            0..16,
        )
    };
    let code = || {
        ("X-[A-Z]{1,6}", prop::collection::vec(acap_value(), 0..3)).prop_map(|(name, args)| {
            acap::Code {
                name: Keyword::new(acap::CodeName::Other(name)),
                args,
            }
        })
    };
    let kind = prop_oneof![
        prop::collection::vec(
            (
                "[A-Z][A-Z-]{0,9}",
                prop::collection::vec(acap_value(), 0..3)
            ),
            0..4
        )
        .prop_map(|items| {
            acap::Response::greeting(
                items
                    .into_iter()
                    .map(|(name, values)| acap::GreetingItem { name, values })
                    .collect(),
            )
            .kind
        }),
        (
            acap_tag(),
            prop::sample::select(vec![acap::Status::Ok, acap::Status::No, acap::Status::Bad]),
            prop::option::of(code()),
            quoted_text()
        )
            .prop_map(|(tag, status, code, text)| acap::ResponseKind::Status {
                tag: Some(tag),
                status: Keyword::new(status),
                code,
                text
            }),
        (
            prop::sample::select(vec![acap::Status::Bye, acap::Status::Alert]),
            prop::option::of(code()),
            quoted_text()
        )
            .prop_map(|(status, code, text)| acap::ResponseKind::Status {
                tag: None,
                status: Keyword::new(status),
                code,
                text
            }),
        (prop::option::of(acap_tag()), "X[A-Z]{1,6}", raw_args()).prop_map(|(tag, name, args)| {
            let mut raw = name.into_bytes();
            raw.push(b' ');
            raw.extend_from_slice(&args);
            acap::ResponseKind::Data { tag, raw }
        }),
        acap_string().prop_map(acap::ResponseKind::Continuation),
    ];
    (kind, ending()).prop_map(|(kind, ending)| acap::Response { kind, ending })
}

fn acap_command() -> impl Strategy<Value = acap::Command> {
    let body = prop_oneof![
        Just(acap::CommandBody::Starttls),
        Just(acap::CommandBody::Logout),
        Just(acap::CommandBody::Noop),
        (acap_string(), prop::option::of(acap_string())).prop_map(|(mechanism, initial)| {
            acap::CommandBody::Authenticate { mechanism, initial }
        }),
        ("X[A-Z]{1,8}", prop::option::of(raw_args()))
            .prop_map(|(name, args)| acap::CommandBody::Unknown { name, args }),
    ];
    (acap_tag(), body, ending()).prop_map(|(tag, body, ending)| {
        let mut command = acap::Command::new(tag, body);
        command.ending = ending;
        command
    })
}

/// Asserts `read(encode(message)) == message`, consuming every byte.
macro_rules! assert_round_trip {
    ($message:expr, $read:expr) => {{
        let message = $message;
        let mut wire = Vec::new();
        message.encode(&mut wire);
        let (read, used) = $read(&wire[..])
            .unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(&wire)));
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(read, message);
    }};
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_imap_responses_round_trip(response in imap_response()) {
        assert_round_trip!(response, imap::Response::read);
    }

    #[test]
    fn generated_imap_commands_round_trip(command in imap_command()) {
        assert_round_trip!(command, imap::Command::read);
    }

    #[test]
    fn generated_pop3_responses_round_trip((response, expect) in pop3_response()) {
        assert_round_trip!(response, |wire| pop3::Response::read(wire, expect));
    }

    #[test]
    fn generated_pop3_commands_round_trip(command in pop3_command()) {
        assert_round_trip!(command, pop3::Command::read);
    }

    #[test]
    fn generated_acap_responses_round_trip(response in acap_response()) {
        assert_round_trip!(response, acap::Response::read);
    }

    #[test]
    fn generated_acap_commands_round_trip(command in acap_command()) {
        assert_round_trip!(command, acap::Command::read);
    }

    #[test]
    fn a_generated_stream_reads_back_through_the_reader(responses in prop::collection::vec(imap_response(), 0..8), sizes in chunk_sizes()) {
        let mut wire = Vec::new();
        for response in &responses {
            response.encode(&mut wire);
        }
        let (got, end) = via_reader!(imap::ResponseReader::new(), next_response, chunked(&wire, &sizes));
        prop_assert_eq!(got, responses);
        prop_assert_eq!(end, Ok(0));
    }
}

// ---------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------

fn imap_expected(atoms: &[String]) -> Capabilities {
    let mut caps = Capabilities::new();
    for atom in atoms {
        caps.insert_imap_atom(atom);
    }
    caps
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn imap_capability_lines_give_the_generated_set(atoms in imap_atoms(), lower in any::<bool>()) {
        let keyword = if lower { "capability" } else { "CAPABILITY" };
        let mut line = format!("* {keyword}");
        for atom in &atoms {
            line.push(' ');
            line.push_str(atom);
        }
        line.push_str("\r\n");
        let response = imap::Response::from_bytes(line.as_bytes()).unwrap();
        let caps = response.capabilities().unwrap();
        prop_assert_eq!(&caps, &imap_expected(&atoms));
        for atom in &atoms {
            match atom.strip_prefix("AUTH=") {
                Some(mechanism) => prop_assert!(caps.has_sasl(mechanism)),
                None => prop_assert!(caps.has(atom)),
            }
        }
    }

    #[test]
    fn imap_capability_codes_give_the_generated_set(atoms in imap_atoms(), preauth in any::<bool>(), tag in prop::option::of(imap_tag())) {
        let status = if preauth { imap::Status::Preauth } else { imap::Status::Ok };
        let greeting = imap::Response::new(imap::ResponseKind::Status {
            tag,
            status: Keyword::new(status),
            code: Some(imap::Code::capability(&atoms)),
            text: Some(b"ready".to_vec()),
        });
        let mut wire = Vec::new();
        greeting.encode(&mut wire);
        let read = imap::Response::from_bytes(&wire).unwrap();
        prop_assert_eq!(read.capabilities().unwrap(), imap_expected(&atoms));
    }

    #[test]
    fn pop3_capa_bodies_give_the_generated_set(
        names in prop::collection::vec("[A-Z][A-Z0-9-]{0,9}", 0..6),
        mechanisms in prop::collection::vec("[A-Z0-9-]{1,12}", 0..4),
    ) {
        let mut lines: Vec<String> = names.clone();
        if !mechanisms.is_empty() {
            lines.push(format!("SASL {}", mechanisms.join(" ")));
        }
        let response = pop3::Response::status(pop3::Status::Ok, "Capability list follows")
            .with_body(pop3::MultiLine::from_lines(&lines));
        let mut wire = Vec::new();
        response.encode(&mut wire);
        let read = pop3::Response::from_bytes(&wire, pop3::Expect::MultiLine).unwrap();
        let caps = read.capabilities().unwrap().unwrap();
        let mut expected = Capabilities::new();
        for name in &names {
            expected.insert_name(name);
        }
        if !mechanisms.is_empty() {
            expected.insert_name("SASL");
            for mechanism in &mechanisms {
                expected.insert_sasl(mechanism);
            }
        }
        prop_assert_eq!(caps, expected);
    }

    #[test]
    fn acap_greetings_give_the_generated_set(
        names in prop::collection::vec("[A-Z][A-Z0-9-]{0,9}", 0..5),
        mechanisms in prop::collection::vec("[A-Z0-9-]{1,12}", 0..4),
    ) {
        let mut items: Vec<acap::GreetingItem> = names.iter().map(|n| acap::GreetingItem::new::<&[u8]>(n, [])).collect();
        items.push(acap::GreetingItem::new("SASL", &mechanisms));
        let mut wire = Vec::new();
        acap::Response::greeting(items).encode(&mut wire);
        let read = acap::Response::from_bytes(&wire).unwrap();
        let mut expected = Capabilities::new();
        for name in &names {
            expected.insert_name(name);
        }
        expected.insert_name("SASL");
        for mechanism in &mechanisms {
            expected.insert_sasl(mechanism);
        }
        prop_assert_eq!(read.capabilities().unwrap(), expected);
    }
}
