//! cargo-fuzz target `scenario_parse`: a shim over the library's entry point, which holds
//! the checks (see `mailtls::internal::fuzzing::fuzz_scenario_parse` and fuzz/README.md).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtls::internal::fuzzing::fuzz_scenario_parse(data);
});
