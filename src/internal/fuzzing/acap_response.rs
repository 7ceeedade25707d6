//! Fuzz entry point for the `acap_response` target: the input is raw bytes from an ACAP
//! peer, read both as server responses and as client commands.
//!
//! Properties checked for every input:
//! - no parser panics;
//! - every message a one-shot `read` accepts encodes back to exactly the bytes it took;
//! - a stateful reader fed the same bytes in three chunks (cut at two points derived
//!   from a hash of the input) yields the same messages, the same first error (at the
//!   same stream offset) and the same leftover bytes as the one-shot reads.

use super::imap_response::{LIMITS, Outcome, one_shot, three_chunks};
use crate::proto::acap::{Command, CommandReader, Error, Response, ResponseReader};

/// Runs one fuzz input through the `acap_response` checks.
pub fn fuzz_acap_response(data: &[u8]) {
    let chunks = three_chunks(data);

    let responses = one_shot(
        data,
        |input| Response::read_with(input, &LIMITS),
        Response::encode,
        shift,
    );
    for response in &responses.0 {
        let _ = response.capabilities();
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
