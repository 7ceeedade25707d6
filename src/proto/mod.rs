//! Wire codecs for the three protocols RFC 2595 covers: line framing, response and
//! command parsing, capability sets. Sans-IO: bytes in, values out.

pub mod acap;
pub mod capability;
pub mod imap;
pub mod line;
pub mod pop3;
