//! A compact byte encoding of an observation: a [`Config`] and a list of [`Step`]s that
//! map onto [`Event`]s. It is what the `starttls_model` fuzz target decodes (with
//! `arbitrary`) and what its seed corpus is written in, so seeds can be built on purpose
//! with [`Script::encode`] and read back with [`Script::decode`].
//!
//! # Byte format
//!
//! Every byte string decodes (missing bytes read as zero; out-of-range values wrap), and
//! `decode(encode(x)) == x` for every script of at most [`Script::MAX_STEPS`] steps.
//!
//! ```text
//! script = header *step                      ; at most MAX_STEPS steps are read
//! header = 1 byte
//!     bits 0-1  protocol   0 IMAP, 1 POP3, 2 ACAP            (3 reads as IMAP)
//!     bit  2    transport  0 STARTTLS on a cleartext port, 1 implicit TLS
//!     bits 3-4  judged     0 both, 1 client, 2 server        (3 reads as both)
//!     bit  5    server profile refuses clear-text authentication
//!     bit  6    client profile is opportunistic (0: the client requires TLS)
//!     bit  7    PLAIN allowed without TLS for backwards compatibility
//! step   = opcode params ; opcode = byte % 14
//!     0  client command        kind flags
//!     1  greeting              status caps
//!     2  untagged capabilities caps
//!     3  completion            tag status caps
//!     4  continuation request  -
//!     5  untagged BYE          -
//!     6  other untagged data   -
//!     7  client continuation   -
//!     8  plaintext             party
//!     9  TLS handshake done    -
//!     10 TLS handshake failed  -
//!     11 close_notify          party
//!     12 TCP closed            party
//!     13 timeout               -
//! kind   bits 0-3 % 12  0 STARTTLS/STLS, 1 CAPABILITY/CAPA, 2 LOGIN, 3 USER, 4 PASS,
//!                       5 APOP, 6 AUTHENTICATE, 7 SELECT, 8 needs authentication,
//!                       9 LOGOUT/QUIT, 10 NOOP, 11 other
//!        bits 4-6 % 5   AUTHENTICATE mechanism: 0 PLAIN, 1 LOGIN, 2 EXTERNAL,
//!                       3 SCRAM-SHA-256, 4 CRAM-MD5 (0 for other kinds)
//!        bit  7         AUTHENTICATE with an initial response (0 for other kinds)
//! flags  bits 0-2       tag a001..a008 (IMAP, ACAP; POP3 has no tags)
//!        bit  3         same write as the previous command
//! status greeting: bits 0-1 % 3 = 0 OK, 1 PREAUTH, 2 BYE (POP3 -ERR)
//!        completion: bits 0-1 % 3 = 0 OK/+OK, 1 NO/-ERR, 2 BAD
//!        bit 2 = the response carries capabilities (else caps is written as 0)
//! tag    bits 0-2 tag a001..a008, bit 3 untagged (POP3 ignores tags)
//! party  bit 0: 0 client, 1 server
//! caps   bitmask, see CapabilityBits
//! ```

use crate::model::config::{Config, Judged, Party, Protocol, Transport};
use crate::model::event::{Command, CommandKind, Event, GreetingStatus, Response, Status};
use crate::model::observer::Observer;
use crate::proto::capability::Capabilities;
use arbitrary::{Arbitrary, Unstructured};

/// The SASL mechanisms a step can name, by index.
const MECHANISMS: [&str; 5] = ["PLAIN", "LOGIN", "EXTERNAL", "SCRAM-SHA-256", "CRAM-MD5"];
/// The tags a step can name, by index.
const TAGS: [&str; 8] = [
    "a001", "a002", "a003", "a004", "a005", "a006", "a007", "a008",
];
const OPCODES: u8 = 14;
const KINDS: u8 = 12;

/// A capability list as a bitmask, spelled per protocol by [`CapabilityBits::to_capabilities`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CapabilityBits(pub u8);

impl CapabilityBits {
    /// IMAP/ACAP `STARTTLS`, POP3 `STLS`.
    pub const STARTTLS: u8 = 1;
    /// `LOGINDISABLED`.
    pub const LOGINDISABLED: u8 = 1 << 1;
    /// SASL `PLAIN` (IMAP `AUTH=PLAIN`, POP3 `SASL PLAIN`, ACAP `(SASL "PLAIN")`).
    pub const PLAIN: u8 = 1 << 2;
    /// SASL `LOGIN`.
    pub const LOGIN: u8 = 1 << 3;
    /// SASL `EXTERNAL`.
    pub const EXTERNAL: u8 = 1 << 4;
    /// SASL `SCRAM-SHA-256`.
    pub const SCRAM: u8 = 1 << 5;
    /// POP3 `USER`; a neutral token elsewhere (IMAP `IMAP4rev1`, ACAP `IMPLEMENTATION`).
    pub const USER: u8 = 1 << 6;
    /// SASL `CRAM-MD5`.
    pub const CRAM: u8 = 1 << 7;

    /// The list as `protocol` spells it.
    pub fn to_capabilities(self, protocol: Protocol) -> Capabilities {
        let mut caps = Capabilities::new();
        let bits = self.0;
        if bits & Self::USER != 0 {
            match protocol {
                Protocol::Imap => caps.insert_imap_atom("IMAP4rev1"),
                Protocol::Pop3 => caps.insert_name("USER"),
                Protocol::Acap => caps.insert_name("IMPLEMENTATION"),
            }
        }
        if bits & Self::STARTTLS != 0 {
            match protocol {
                Protocol::Imap => caps.insert_imap_atom("STARTTLS"),
                Protocol::Pop3 => caps.insert_name("STLS"),
                Protocol::Acap => caps.insert_name("STARTTLS"),
            }
        }
        if bits & Self::LOGINDISABLED != 0 {
            match protocol {
                Protocol::Imap => caps.insert_imap_atom("LOGINDISABLED"),
                Protocol::Pop3 | Protocol::Acap => caps.insert_name("LOGINDISABLED"),
            }
        }
        for (bit, mechanism) in [
            (Self::PLAIN, "PLAIN"),
            (Self::LOGIN, "LOGIN"),
            (Self::EXTERNAL, "EXTERNAL"),
            (Self::SCRAM, "SCRAM-SHA-256"),
            (Self::CRAM, "CRAM-MD5"),
        ] {
            if bits & bit != 0 {
                match protocol {
                    Protocol::Imap => caps.insert_imap_atom(&format!("AUTH={mechanism}")),
                    Protocol::Pop3 | Protocol::Acap => caps.insert_sasl(mechanism),
                }
            }
        }
        caps
    }
}

/// A client command in a [`Step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepCommand {
    /// STARTTLS / STLS.
    Starttls,
    /// CAPABILITY / CAPA.
    Capability,
    /// IMAP LOGIN.
    Login,
    /// POP3 USER.
    User,
    /// POP3 PASS.
    Pass,
    /// POP3 APOP.
    Apop,
    /// AUTHENTICATE / AUTH.
    Authenticate {
        /// Index into PLAIN, LOGIN, EXTERNAL, SCRAM-SHA-256, CRAM-MD5 (`0..5`).
        mechanism: u8,
        /// With an initial response.
        initial_response: bool,
    },
    /// IMAP SELECT.
    Select,
    /// A command that needs authentication.
    RequiresAuth,
    /// LOGOUT / QUIT.
    Logout,
    /// NOOP.
    Noop,
    /// Anything else.
    Other,
}

impl StepCommand {
    fn kind(self) -> CommandKind {
        match self {
            Self::Starttls => CommandKind::Starttls,
            Self::Capability => CommandKind::Capability,
            Self::Login => CommandKind::Login,
            Self::User => CommandKind::User,
            Self::Pass => CommandKind::Pass,
            Self::Apop => CommandKind::Apop,
            Self::Authenticate {
                mechanism,
                initial_response,
            } => CommandKind::Authenticate {
                mechanism: mechanism_name(mechanism).to_owned(),
                initial_response,
            },
            Self::Select => CommandKind::Select,
            Self::RequiresAuth => CommandKind::RequiresAuth,
            Self::Logout => CommandKind::Logout,
            Self::Noop => CommandKind::Noop,
            Self::Other => CommandKind::Other,
        }
    }

    fn encode(self) -> u8 {
        match self {
            Self::Starttls => 0,
            Self::Capability => 1,
            Self::Login => 2,
            Self::User => 3,
            Self::Pass => 4,
            Self::Apop => 5,
            Self::Authenticate {
                mechanism,
                initial_response,
            } => 6 | ((mechanism % 5) << 4) | (u8::from(initial_response) << 7),
            Self::Select => 7,
            Self::RequiresAuth => 8,
            Self::Logout => 9,
            Self::Noop => 10,
            Self::Other => 11,
        }
    }

    fn decode(byte: u8) -> Self {
        match (byte & 0x0f) % KINDS {
            0 => Self::Starttls,
            1 => Self::Capability,
            2 => Self::Login,
            3 => Self::User,
            4 => Self::Pass,
            5 => Self::Apop,
            6 => Self::Authenticate {
                mechanism: ((byte >> 4) & 0x07) % 5,
                initial_response: byte & 0x80 != 0,
            },
            7 => Self::Select,
            8 => Self::RequiresAuth,
            9 => Self::Logout,
            10 => Self::Noop,
            _ => Self::Other,
        }
    }
}

fn mechanism_name(index: u8) -> &'static str {
    MECHANISMS
        .get(usize::from(index % 5))
        .copied()
        .unwrap_or("PLAIN")
}

fn tag_name(index: u8) -> &'static str {
    TAGS.get(usize::from(index & 0x07))
        .copied()
        .unwrap_or("a001")
}

/// One observation in a [`Script`]; see the module docs for its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The client sent a command.
    Command {
        /// Which command.
        command: StepCommand,
        /// Tag index `0..8` (`a001`..`a008`).
        tag: u8,
        /// Sent in the same write as the previous command.
        pipelined: bool,
    },
    /// The server greeting.
    Greeting {
        /// Which greeting.
        status: GreetingStatus,
        /// Capabilities it carried.
        caps: Option<CapabilityBits>,
    },
    /// Untagged capability data.
    Capabilities(CapabilityBits),
    /// A completion.
    Completion {
        /// Tag index `0..8`, or `None` for an untagged completion.
        tag: Option<u8>,
        /// The result.
        status: Status,
        /// Capabilities it carried.
        caps: Option<CapabilityBits>,
    },
    /// A continuation request.
    Continuation,
    /// Untagged BYE.
    Bye,
    /// Other untagged data.
    Data,
    /// A client continuation line.
    ClientContinuation,
    /// Plaintext where only TLS may come.
    Plaintext(Party),
    /// The TLS handshake completed.
    HandshakeCompleted,
    /// The TLS handshake failed.
    HandshakeFailed,
    /// close_notify from a party.
    CloseNotify(Party),
    /// TCP closed by a party.
    TcpClosed(Party),
    /// The harness's deadline passed with nothing received.
    Timeout,
}

impl Step {
    /// The event this step stands for, spelled for `protocol`.
    pub fn to_event(&self, protocol: Protocol) -> Event {
        let tag_for = |index: u8| protocol.is_tagged().then(|| tag_name(index).to_owned());
        let caps_for =
            |caps: Option<CapabilityBits>| caps.map(|bits| bits.to_capabilities(protocol));
        match *self {
            Self::Command {
                command,
                tag,
                pipelined,
            } => Event::Command(Command {
                tag: tag_for(tag),
                kind: command.kind(),
                pipelined,
            }),
            Self::Greeting { status, caps } => Event::Response(Response::Greeting {
                status,
                capabilities: caps_for(caps),
            }),
            Self::Capabilities(bits) => {
                Event::Response(Response::Capabilities(bits.to_capabilities(protocol)))
            }
            Self::Completion { tag, status, caps } => Event::Response(Response::Completion {
                tag: tag.and_then(tag_for),
                status,
                capabilities: caps_for(caps),
            }),
            Self::Continuation => Event::Response(Response::Continuation),
            Self::Bye => Event::Response(Response::Bye),
            Self::Data => Event::Response(Response::Data),
            Self::ClientContinuation => Event::ClientContinuation,
            Self::Plaintext(party) => Event::Plaintext(party),
            Self::HandshakeCompleted => Event::TlsHandshakeCompleted,
            Self::HandshakeFailed => Event::TlsHandshakeFailed,
            Self::CloseNotify(party) => Event::CloseNotify(party),
            Self::TcpClosed(party) => Event::TcpClosed(party),
            Self::Timeout => Event::Timeout,
        }
    }

    /// Appends the step's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Self::Command {
                command,
                tag,
                pipelined,
            } => out.extend([
                0,
                command.encode(),
                (tag & 0x07) | (u8::from(pipelined) << 3),
            ]),
            Self::Greeting { status, caps } => {
                let status = match status {
                    GreetingStatus::Ok => 0,
                    GreetingStatus::Preauth => 1,
                    GreetingStatus::Bye => 2,
                };
                out.extend([1, status | caps_flag(caps), caps_byte(caps)]);
            }
            Self::Capabilities(bits) => out.extend([2, bits.0]),
            Self::Completion { tag, status, caps } => {
                let tag = match tag {
                    Some(index) => index & 0x07,
                    None => 0x08,
                };
                out.extend([
                    3,
                    tag,
                    status_byte(status) | caps_flag(caps),
                    caps_byte(caps),
                ]);
            }
            Self::Continuation => out.push(4),
            Self::Bye => out.push(5),
            Self::Data => out.push(6),
            Self::ClientContinuation => out.push(7),
            Self::Plaintext(party) => out.extend([8, party_byte(party)]),
            Self::HandshakeCompleted => out.push(9),
            Self::HandshakeFailed => out.push(10),
            Self::CloseNotify(party) => out.extend([11, party_byte(party)]),
            Self::TcpClosed(party) => out.extend([12, party_byte(party)]),
            Self::Timeout => out.push(13),
        }
    }
}

fn caps_flag(caps: Option<CapabilityBits>) -> u8 {
    if caps.is_some() { 0x04 } else { 0 }
}

fn caps_byte(caps: Option<CapabilityBits>) -> u8 {
    caps.map_or(0, |bits| bits.0)
}

fn status_byte(status: Status) -> u8 {
    match status {
        Status::Ok => 0,
        Status::No => 1,
        Status::Bad => 2,
    }
}

fn party_byte(party: Party) -> u8 {
    match party {
        Party::Client => 0,
        Party::Server => 1,
    }
}

fn byte(u: &mut Unstructured<'_>) -> arbitrary::Result<u8> {
    u8::arbitrary(u)
}

fn party(u: &mut Unstructured<'_>) -> arbitrary::Result<Party> {
    Ok(if byte(u)? & 1 == 0 {
        Party::Client
    } else {
        Party::Server
    })
}

fn caps(flags: u8, u: &mut Unstructured<'_>) -> arbitrary::Result<Option<CapabilityBits>> {
    let bits = byte(u)?;
    Ok((flags & 0x04 != 0).then_some(CapabilityBits(bits)))
}

impl<'a> Arbitrary<'a> for Step {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match byte(u)? % OPCODES {
            0 => {
                let command = StepCommand::decode(byte(u)?);
                let flags = byte(u)?;
                Self::Command {
                    command,
                    tag: flags & 0x07,
                    pipelined: flags & 0x08 != 0,
                }
            }
            1 => {
                let flags = byte(u)?;
                let status = match (flags & 0x03) % 3 {
                    0 => GreetingStatus::Ok,
                    1 => GreetingStatus::Preauth,
                    _ => GreetingStatus::Bye,
                };
                Self::Greeting {
                    status,
                    caps: caps(flags, u)?,
                }
            }
            2 => Self::Capabilities(CapabilityBits(byte(u)?)),
            3 => {
                let tag = byte(u)?;
                let flags = byte(u)?;
                let status = match (flags & 0x03) % 3 {
                    0 => Status::Ok,
                    1 => Status::No,
                    _ => Status::Bad,
                };
                Self::Completion {
                    tag: (tag & 0x08 == 0).then_some(tag & 0x07),
                    status,
                    caps: caps(flags, u)?,
                }
            }
            4 => Self::Continuation,
            5 => Self::Bye,
            6 => Self::Data,
            7 => Self::ClientContinuation,
            8 => Self::Plaintext(party(u)?),
            9 => Self::HandshakeCompleted,
            10 => Self::HandshakeFailed,
            11 => Self::CloseNotify(party(u)?),
            12 => Self::TcpClosed(party(u)?),
            _ => Self::Timeout,
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(4))
    }
}

/// A configuration and the steps observed under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Protocol, transport, judged party, profiles.
    pub config: Config,
    /// What happened, in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// How many steps [`Script::decode`] reads at most (keeps fuzz runs fast).
    pub const MAX_STEPS: usize = 128;

    /// A script with no steps yet.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            steps: Vec::new(),
        }
    }

    /// Adds a step.
    #[must_use]
    pub fn then(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Decodes any byte string (total; see the module docs).
    pub fn decode(bytes: &[u8]) -> Self {
        let mut u = Unstructured::new(bytes);
        match Self::arbitrary(&mut u) {
            Ok(script) => script,
            // Unreachable with arbitrary 1.x (integers pad with zeros); stay total anyway.
            Err(_) => Self::new(decode_header(0)),
        }
    }

    /// The bytes [`Script::decode`] reads back as `self` (steps past
    /// [`Script::MAX_STEPS`] are written but not read back).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 3 * self.steps.len());
        out.push(encode_header(&self.config));
        for step in &self.steps {
            step.encode(&mut out);
        }
        out
    }

    /// The events, spelled for `protocol` (normally `self.config.protocol`).
    pub fn events(&self, protocol: Protocol) -> impl Iterator<Item = Event> + '_ {
        self.steps.iter().map(move |step| step.to_event(protocol))
    }

    /// Runs the steps through a fresh [`Observer`] with the script's configuration.
    pub fn observe(&self) -> Observer {
        let mut observer = Observer::new(self.config.clone());
        for event in self.events(self.config.protocol) {
            // The verdict stays in the observer (error() and findings()).
            let _ = observer.handle(event);
        }
        observer
    }
}

impl<'a> Arbitrary<'a> for Script {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let config = decode_header(byte(u)?);
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < Self::MAX_STEPS {
            steps.push(Step::arbitrary(u)?);
        }
        Ok(Self { config, steps })
    }

    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Self::arbitrary(&mut u)
    }
}

fn encode_header(config: &Config) -> u8 {
    let protocol = match config.protocol {
        Protocol::Imap => 0,
        Protocol::Pop3 => 1,
        Protocol::Acap => 2,
    };
    let transport = match config.transport {
        Transport::Starttls => 0,
        Transport::Implicit => 1,
    };
    let judged = match config.judged {
        Judged::Both => 0,
        Judged::Client => 1,
        Judged::Server => 2,
    };
    protocol
        | transport << 2
        | judged << 3
        | u8::from(config.server_refuses_cleartext_auth) << 5
        | u8::from(!config.client_requires_tls) << 6
        | u8::from(config.backwards_compatible_plain) << 7
}

fn decode_header(header: u8) -> Config {
    let protocol = match header & 0x03 {
        1 => Protocol::Pop3,
        2 => Protocol::Acap,
        _ => Protocol::Imap,
    };
    let transport = if header & 0x04 == 0 {
        Transport::Starttls
    } else {
        Transport::Implicit
    };
    let judged = match (header >> 3) & 0x03 {
        1 => Judged::Client,
        2 => Judged::Server,
        _ => Judged::Both,
    };
    Config::new(protocol, transport)
        .with_judged(judged)
        .with_server_refusing_cleartext_auth(header & 0x20 != 0)
        .with_client_requiring_tls(header & 0x40 == 0)
        .with_backwards_compatible_plain(header & 0x80 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every step value, for the exhaustive round trip.
    fn every_step() -> Vec<Step> {
        let mut commands = vec![
            StepCommand::Starttls,
            StepCommand::Capability,
            StepCommand::Login,
            StepCommand::User,
            StepCommand::Pass,
            StepCommand::Apop,
            StepCommand::Select,
            StepCommand::RequiresAuth,
            StepCommand::Logout,
            StepCommand::Noop,
            StepCommand::Other,
        ];
        for mechanism in 0..5 {
            for initial_response in [false, true] {
                commands.push(StepCommand::Authenticate {
                    mechanism,
                    initial_response,
                });
            }
        }
        let mut caps: Vec<Option<CapabilityBits>> = vec![None];
        caps.extend((0..=255).map(|bits| Some(CapabilityBits(bits))));
        let mut steps = Vec::new();
        for &command in &commands {
            for tag in 0..8 {
                for pipelined in [false, true] {
                    steps.push(Step::Command {
                        command,
                        tag,
                        pipelined,
                    });
                }
            }
        }
        for status in [
            GreetingStatus::Ok,
            GreetingStatus::Preauth,
            GreetingStatus::Bye,
        ] {
            for &caps in &caps {
                steps.push(Step::Greeting { status, caps });
            }
        }
        steps.extend((0..=255).map(|bits| Step::Capabilities(CapabilityBits(bits))));
        let tags: Vec<Option<u8>> = std::iter::once(None).chain((0..8).map(Some)).collect();
        for &tag in &tags {
            for status in [Status::Ok, Status::No, Status::Bad] {
                for &caps in &caps {
                    steps.push(Step::Completion { tag, status, caps });
                }
            }
        }
        for party in [Party::Client, Party::Server] {
            steps.extend([
                Step::Plaintext(party),
                Step::CloseNotify(party),
                Step::TcpClosed(party),
            ]);
        }
        steps.extend([
            Step::Continuation,
            Step::Bye,
            Step::Data,
            Step::ClientContinuation,
            Step::HandshakeCompleted,
            Step::HandshakeFailed,
            Step::Timeout,
        ]);
        steps
    }

    #[test]
    fn every_step_round_trips() {
        for step in every_step() {
            let mut bytes = Vec::new();
            step.encode(&mut bytes);
            let mut u = Unstructured::new(&bytes);
            let decoded = Step::arbitrary(&mut u).unwrap();
            assert_eq!(decoded, step, "bytes {bytes:02x?}");
            assert!(u.is_empty(), "{step:?} left bytes unread");
        }
    }

    #[test]
    fn every_header_round_trips() {
        for header in 0..=255u8 {
            let config = decode_header(header);
            assert_eq!(
                decode_header(encode_header(&config)),
                config,
                "header {header:#04x}"
            );
        }
    }

    #[test]
    fn scripts_round_trip() {
        let steps = every_step();
        for (index, chunk) in steps.chunks(Script::MAX_STEPS).enumerate() {
            let header = u8::try_from(index % 256).unwrap();
            let script = Script {
                config: decode_header(header),
                steps: chunk.to_vec(),
            };
            assert_eq!(Script::decode(&script.encode()), script);
        }
    }

    #[test]
    fn any_bytes_decode_and_re_encode_to_the_same_script() {
        // decode(encode(decode(b))) == decode(b): decoding is onto the canonical form.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for length in 0..400 {
            let bytes: Vec<u8> = (0..length)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect();
            let script = Script::decode(&bytes);
            assert!(script.steps.len() <= Script::MAX_STEPS);
            assert_eq!(Script::decode(&script.encode()), script);
        }
    }

    #[test]
    fn empty_input_is_an_empty_imap_script() {
        let script = Script::decode(&[]);
        assert_eq!(
            script.config,
            Config::new(Protocol::Imap, Transport::Starttls)
        );
        assert!(script.steps.is_empty());
    }

    #[test]
    fn capability_bits_spell_each_protocol() {
        let bits =
            CapabilityBits(CapabilityBits::STARTTLS | CapabilityBits::PLAIN | CapabilityBits::USER);
        let imap = bits.to_capabilities(Protocol::Imap);
        assert!(imap.has("STARTTLS") && imap.has_sasl("PLAIN") && imap.has("IMAP4REV1"));
        assert_eq!(imap.raw(), ["IMAP4rev1", "STARTTLS", "AUTH=PLAIN"]);
        let pop3 = bits.to_capabilities(Protocol::Pop3);
        assert!(pop3.has("STLS") && pop3.has("USER") && pop3.has_sasl("PLAIN"));
        let acap = bits.to_capabilities(Protocol::Acap);
        assert!(acap.has("STARTTLS") && acap.has_sasl("PLAIN"));
    }
}
