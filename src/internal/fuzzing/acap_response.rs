//! Fuzz entry point for the `acap_response` target: the input is raw bytes from an ACAP
//! peer, read both as server responses and as client commands.
//!
//! Properties checked for every input:
//! - no parser panics;
//! - every message a one-shot `read` accepts encodes back to exactly the bytes it took;
//! - a stateful reader fed the same bytes in two different chunkings yields the same
//!   messages, the same first error and the same leftover bytes as the one-shot reads.

use super::imap_response::{LIMITS, Outcome, cut_points, one_shot};
use crate::proto::acap::{Command, CommandReader, Error, Response, ResponseReader};

/// Runs one fuzz input through the `acap_response` checks.
pub fn fuzz_acap_response(data: &[u8]) {
    let (at, step) = cut_points(data);
    let (first, second) = data.split_at(at);

    let responses = one_shot(
        data,
        |input| Response::read_with(input, &LIMITS),
        Response::encode,
        shift,
    );
    for response in &responses.0 {
        let _ = response.capabilities();
    }
    for chunks in [
        responses_via_reader([first, second]),
        responses_via_reader(data.chunks(step)),
    ] {
        assert_eq!(chunks, responses, "chunked response reader disagrees");
    }

    let commands = one_shot(
        data,
        |input| Command::read_with(input, &LIMITS),
        Command::encode,
        shift,
    );
    for chunks in [
        commands_via_reader([first, second]),
        commands_via_reader(data.chunks(step)),
    ] {
        assert_eq!(chunks, commands, "chunked command reader disagrees");
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
