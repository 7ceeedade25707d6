//! Every checked-in fuzz seed runs through its fuzz entry point in `cargo test`, so the
//! seeds stay meaningful and a regression found by fuzzing stays fixed.

use std::path::Path;

use mailtls::internal::fuzzing;

/// (corpus folder, entry point) for every cargo-fuzz target.
const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("plain", fuzzing::fuzz_plain),
    ("identity", fuzzing::fuzz_identity),
    ("imap_response", fuzzing::fuzz_imap_response),
    ("pop3_response", fuzzing::fuzz_pop3_response),
    ("acap_response", fuzzing::fuzz_acap_response),
    ("starttls_model", fuzzing::fuzz_starttls_model),
    ("scenario_parse", fuzzing::fuzz_scenario_parse),
];

#[test]
fn every_seed_passes_its_fuzz_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, entry) in TARGETS {
        let dir = root.join(target);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        seeds.sort();
        assert!(
            seeds.len() >= 10,
            "corpus/{target} has {} seeds; at least 10 are wanted",
            seeds.len()
        );
        for seed in seeds {
            let data = std::fs::read(&seed).unwrap();
            // A panic names the seed: the entry point asserts the target's properties.
            let result = std::panic::catch_unwind(|| entry(&data));
            assert!(result.is_ok(), "{} fails its fuzz target", seed.display());
        }
    }
}
