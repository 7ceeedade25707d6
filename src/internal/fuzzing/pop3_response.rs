//! Fuzz entry point for the `pop3_response` target: the input is raw bytes from a POP3
//! peer, read both as server responses and as client commands.
//!
//! Properties checked for every input:
//! - no parser panics;
//! - every message a one-shot `read` accepts encodes back to exactly the bytes it took;
//! - a stateful reader fed the same bytes in three chunks (cut at two points derived
//!   from a hash of the input) yields the same messages, the same first error (at the
//!   same stream offset) and the same leftover bytes as the one-shot reads.
//!
//! Whether the `n`-th final response is read as multi-line comes from a bit of a hash of
//! the input (so a corpus file is plain protocol bytes); the readers get the same
//! expectations queued.

use super::imap_response::{LIMITS, Outcome, input_hash, one_shot, three_chunks};
use crate::proto::pop3::{
    Command, CommandReader, Error, Expect, Response, ResponseReader, parse_capa,
};

/// Runs one fuzz input through the `pop3_response` checks.
pub fn fuzz_pop3_response(data: &[u8]) {
    let chunks = three_chunks(data);
    // Bit i of `pattern` says whether final response i (mod 8) is multi-line.
    let pattern = input_hash(data) >> 16;
    let expect = |i: usize| {
        if (pattern >> (i % 8)) & 1 == 1 {
            Expect::MultiLine
        } else {
            Expect::SingleLine
        }
    };
    // One final response per line at most.
    let finals = data.iter().filter(|&&b| b == b'\n').count() + 1;

    let mut index = 0;
    let responses = one_shot(
        data,
        |input| {
            let read = Response::read_with(input, expect(index), &LIMITS);
            if matches!(&read, Ok((response, _)) if !response.is_continuation()) {
                index += 1;
            }
            read
        },
        Response::encode,
        shift,
    );
    for response in &responses.0 {
        let _ = response.capabilities();
        let _ = response.continuation_data();
        if let Some(body) = response.body() {
            let _ = parse_capa(body);
        }
    }
    assert_eq!(
        responses_via_reader(chunks, finals, expect),
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
    finals: usize,
    expect: impl Fn(usize) -> Expect,
) -> Outcome<Response, Error> {
    let mut reader = ResponseReader::with_limits(LIMITS);
    for i in 0..finals {
        reader.expect(expect(i));
    }
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
