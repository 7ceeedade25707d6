//! The base64 wrapping that carries SASL data on the wire: IMAP `AUTHENTICATE`
//! (RFC 3501 §6.2.2, SASL-IR RFC 4959) and POP3 `AUTH` (RFC 5034).
//!
//! > initial-response = base64 / "="   ; "=" indicates a zero-length initial response
//! > (RFC 4959 §7; RFC 5034 §4 has the same rule for POP3)
//!
//! > If the client wishes to cancel an authentication exchange, it issues a line
//! > consisting of a single "*". (RFC 3501 §6.2.2; RFC 5034 §4)
//!
//! A continuation line (the client's answer to a `+` challenge) carries base64, or is
//! empty for an empty response, or is `*` to cancel. Base64 is judged strictly: the
//! standard alphabet, canonical padding, no whitespace.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use thiserror::Error;

/// The line a client sends to cancel an exchange.
pub const CANCEL: &[u8] = b"*";

/// The longest base64 text accepted (64 KiB of encoded data).
pub const MAX_ENCODED_OCTETS: usize = 65_536;

/// What a client's SASL line carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientResponse {
    /// Decoded response data (possibly empty).
    Data(Vec<u8>),
    /// `*`: the client cancels the exchange.
    Cancel,
}

/// Why SASL wire text could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// An octet outside the base64 alphabet, or padding in the wrong place.
    #[error("octet 0x{octet:02X} at offset {offset} is not valid base64 here")]
    InvalidOctet {
        /// Offset in the base64 text.
        offset: usize,
        /// The octet.
        octet: u8,
    },
    /// A length that is not a multiple of four, or missing padding.
    #[error("base64 text of {len} octets is not a whole number of padded quanta")]
    InvalidLength {
        /// The text's length.
        len: usize,
    },
    /// Non-zero trailing bits in the last symbol: not canonical base64.
    #[error("non-canonical base64: trailing bits set in the last symbol at offset {offset}")]
    NonCanonical {
        /// Offset of the last symbol.
        offset: usize,
    },
    /// An empty initial response must be sent as `=`, never as nothing.
    #[error("an empty initial response must be sent as \"=\"")]
    EmptyInitialResponse,
    /// More text than [`MAX_ENCODED_OCTETS`].
    #[error("{len} octets of base64 exceed the limit of {MAX_ENCODED_OCTETS}")]
    TooLong {
        /// The text's length.
        len: usize,
    },
}

/// Decodes the initial response of `AUTHENTICATE mech <ir>` / `AUTH mech <ir>`:
/// `=` is the empty response.
pub fn decode_initial_response(text: &[u8]) -> Result<Vec<u8>, WireError> {
    match text {
        b"=" => Ok(Vec::new()),
        b"" => Err(WireError::EmptyInitialResponse),
        _ => decode_base64(text),
    }
}

/// Decodes a client continuation line (without its CRLF): base64, empty, or `*`.
pub fn decode_client_response(line: &[u8]) -> Result<ClientResponse, WireError> {
    if line == CANCEL {
        return Ok(ClientResponse::Cancel);
    }
    decode_base64(line).map(ClientResponse::Data)
}

/// Decodes a server challenge: the text after `+ ` (empty for an empty challenge).
pub fn decode_challenge(text: &[u8]) -> Result<Vec<u8>, WireError> {
    decode_base64(text)
}

/// Encodes an initial response: `=` when `data` is empty.
pub fn encode_initial_response(data: &[u8]) -> String {
    if data.is_empty() {
        "=".to_owned()
    } else {
        STANDARD.encode(data)
    }
}

/// Encodes a continuation line or a challenge: nothing when `data` is empty.
pub fn encode_response(data: &[u8]) -> String {
    STANDARD.encode(data)
}

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, WireError> {
    if text.len() > MAX_ENCODED_OCTETS {
        return Err(WireError::TooLong { len: text.len() });
    }
    STANDARD.decode(text).map_err(|e| match e {
        base64::DecodeError::InvalidByte(offset, octet) => {
            WireError::InvalidOctet { offset, octet }
        }
        base64::DecodeError::InvalidLastSymbol(offset, _) => WireError::NonCanonical { offset },
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
            WireError::InvalidLength { len: text.len() }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4616_example_round_trips_as_initial_response() {
        let data = b"\0tim\0tanstaaftanstaaf";
        let text = encode_initial_response(data);
        assert_eq!(text, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
        assert_eq!(decode_initial_response(text.as_bytes()).unwrap(), data);
    }

    #[test]
    fn equals_sign_is_the_empty_initial_response() {
        assert_eq!(encode_initial_response(b""), "=");
        assert_eq!(decode_initial_response(b"=").unwrap(), b"");
        assert_eq!(
            decode_initial_response(b""),
            Err(WireError::EmptyInitialResponse)
        );
    }

    #[test]
    fn star_cancels_and_empty_is_empty() {
        assert_eq!(decode_client_response(b"*"), Ok(ClientResponse::Cancel));
        assert_eq!(
            decode_client_response(b""),
            Ok(ClientResponse::Data(Vec::new()))
        );
        assert_eq!(encode_response(b""), "");
    }

    #[test]
    fn malformed_base64_is_located() {
        assert_eq!(
            decode_client_response(b"AH Rp"),
            Err(WireError::InvalidOctet {
                offset: 2,
                octet: b' '
            })
        );
        assert_eq!(
            decode_challenge(b"AHR"),
            Err(WireError::InvalidLength { len: 3 })
        );
        // "AB==" has trailing bits set: only "AA==" is canonical for one zero octet.
        assert_eq!(
            decode_challenge(b"AB=="),
            Err(WireError::NonCanonical { offset: 1 })
        );
        let long = vec![b'A'; MAX_ENCODED_OCTETS + 4];
        assert!(matches!(
            decode_challenge(&long),
            Err(WireError::TooLong { .. })
        ));
    }
}
