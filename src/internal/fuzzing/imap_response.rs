//! Fuzz entry point for the `imap_response` target: the input is raw bytes from an IMAP
//! peer, read both as server responses and as client commands.
//!
//! Properties checked for every input:
//! - no parser panics;
//! - every message a one-shot `read` accepts encodes back to exactly the bytes it took;
//! - a stateful reader fed the same bytes in three chunks (cut at two points derived
//!   from a hash of the input) yields the same messages, the same first error (at the
//!   same stream offset) and the same leftover bytes as the one-shot reads.
//!
//! The cut points come from a hash of the input instead of a prefix, so a corpus file is
//! plain protocol bytes; every mutation moves them. (`tests/proto_props.rs` feeds the
//! readers arbitrary chunk sizes as well.)

use crate::proto::imap::{Command, CommandReader, Error, Response, ResponseReader};
use crate::proto::line::Limits;

/// Small limits, so that the limit paths are reachable by the fuzzer.
pub(super) const LIMITS: Limits = Limits {
    max_line: 512,
    max_literal: 256,
    max_message: 2048,
};

/// A hash of the input (FNV-1a), the source of every data-derived choice.
pub(super) fn input_hash(data: &[u8]) -> usize {
    let hash = data.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    usize::try_from(hash).unwrap_or(usize::MAX)
}

/// `data` cut at two points derived from its hash: the chunks a reader is fed.
pub(super) fn three_chunks(data: &[u8]) -> [&[u8]; 3] {
    let hash = input_hash(data);
    let a = hash % (data.len() + 1);
    let b = (hash >> 12) % (data.len() + 1);
    let (head, tail) = data.split_at(a.min(b));
    let (middle, last) = tail.split_at(a.max(b) - a.min(b));
    [head, middle, last]
}

/// What reading a whole input gave: the messages, then the number of bytes left over
/// (an incomplete message) or the first error.
pub(super) type Outcome<T, E> = (Vec<T>, Result<usize, E>);

/// Runs one fuzz input through the `imap_response` checks.
pub fn fuzz_imap_response(data: &[u8]) {
    let chunks = three_chunks(data);

    let responses = one_shot(
        data,
        |input| Response::read_with(input, &LIMITS),
        Response::encode,
        shift,
    );
    for response in &responses.0 {
        let _ = response.capabilities();
        let _ = response.continuation_data();
    }
    assert_eq!(
        responses_via_reader(chunks),
        responses,
        "chunked response reader disagrees"
    );

    let commands = one_shot(
        data,
        |input| Command::read_with(input, &LIMITS),
        Command::encode,
        shift,
    );
    assert_eq!(
        commands_via_reader(chunks),
        commands,
        "chunked command reader disagrees"
    );
}

/// Reads `data` message by message with `read`, asserting each accepted message
/// re-encodes to exactly the bytes it took. `shift` turns an error into `None` if the
/// input merely ended, else into the error with its offset moved to the stream offset.
pub(super) fn one_shot<T, E>(
    data: &[u8],
    mut read: impl FnMut(&[u8]) -> Result<(T, usize), E>,
    encode: impl Fn(&T, &mut Vec<u8>),
    shift: impl Fn(E, usize) -> Option<E>,
) -> Outcome<T, E> {
    let mut got = Vec::new();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let rest = data.get(pos..).unwrap_or_default();
        match read(rest) {
            Ok((message, used)) => {
                assert!(used > 0, "a message of zero bytes");
                out.clear();
                encode(&message, &mut out);
                assert!(
                    out == rest.get(..used).unwrap_or_default(),
                    "encode(read(x)) != x"
                );
                got.push(message);
                pos += used;
            }
            Err(error) => {
                return match shift(error, pos) {
                    None => (got, Ok(data.len() - pos)),
                    Some(error) => (got, Err(error)),
                };
            }
        }
    }
}

fn shift(error: Error, pos: usize) -> Option<Error> {
    (!error.is_incomplete()).then(|| error.offset_by(pos))
}

fn responses_via_reader<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Outcome<Response, Error> {
    let mut reader = ResponseReader::with_limits(LIMITS);
    let mut got = Vec::new();
    for chunk in chunks {
        reader.push(chunk);
        loop {
            match reader.next_response() {
                Ok(Some(response)) => got.push(response),
                Ok(None) => break,
                Err(error) => return (got, Err(error)),
            }
        }
    }
    let left = reader.buffered().len();
    (got, Ok(left))
}

fn commands_via_reader<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome<Command, Error> {
    let mut reader = CommandReader::with_limits(LIMITS);
    let mut got = Vec::new();
    for chunk in chunks {
        reader.push(chunk);
        loop {
            match reader.next_command() {
                Ok(Some(command)) => got.push(command),
                Ok(None) => break,
                Err(error) => return (got, Err(error)),
            }
        }
    }
    let left = reader.buffered().len();
    (got, Ok(left))
}
