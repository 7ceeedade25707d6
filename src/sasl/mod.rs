//! SASL pieces RFC 2595 relies on: the PLAIN message and the base64 wrapping that
//! carries SASL data in IMAP `AUTHENTICATE` and POP3 `AUTH`.

pub mod plain;
pub mod wire;
