//! The STARTTLS / STLS state machines for IMAP, POP3 and ACAP, and the RFC 2595 rules
//! as named predicates: the oracle the engine and the fuzzers judge with.
