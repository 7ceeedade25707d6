//! One entry point per cargo-fuzz target (`fuzz/fuzz_targets/<name>.rs` calls
//! `fuzz_<name>`). Each asserts the properties that must hold for every input: no panic,
//! round trips for accepted input, agreement between implementations where two exist.

mod acap_response;
mod identity;
mod imap_response;
mod plain;
mod pop3_response;
mod scenario_parse;
mod starttls_model;

pub use acap_response::fuzz_acap_response;
pub use identity::fuzz_identity;
pub use imap_response::fuzz_imap_response;
pub use plain::fuzz_plain;
pub use pop3_response::fuzz_pop3_response;
pub use scenario_parse::fuzz_scenario_parse;
pub use starttls_model::fuzz_starttls_model;
