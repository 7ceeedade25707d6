//! Connections as the engine sees them: TCP that upgrades to TLS in place, with every
//! octet recorded and every read bounded in time and size.

pub mod transcript;
