//! cargo-fuzz target `pop3_response`: a shim over the library's entry point, which holds the
//! checks (see `mailtls::internal::fuzzing::fuzz_pop3_response` and fuzz/README.md).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtls::internal::fuzzing::fuzz_pop3_response(data);
});
