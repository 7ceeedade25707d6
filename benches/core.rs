//! ns-per-call figures for the sans-IO core: PLAIN parsing under both profiles and the
//! server identity check under every rule set.
//!
//! Run with `cargo bench` (all) or `cargo bench -- identity` (a filter). Criterion prints
//! the time per call as `[low estimate median high]`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mailtls::identity::{Presented, Rules, check};
use mailtls::sasl::plain::{Profile, parse};

/// The RFC 4616 §4 example: empty authzid, authcid "tim".
const RFC4616_EXAMPLE: &[u8] = b"\0tim\0tanstaaftanstaaf";

/// `authzid NUL authcid NUL passwd` with each field at the 255 octets both RFCs say every
/// implementation MUST accept.
fn three_fields_of_255() -> Vec<u8> {
    let mut message = vec![b'z'; 255];
    message.push(0);
    message.extend_from_slice(&[b'u'; 255]);
    message.push(0);
    message.extend_from_slice(&[b'p'; 255]);
    message
}

/// Three fields of 255 octets in characters RFC 2595's ABNF allows and RFC 3629 refuses
/// (overlong two-octet forms of 'A'): accepted by one profile, refused by the other.
fn three_fields_of_overlongs() -> Vec<u8> {
    let field: Vec<u8> = b"\xC1\x81".repeat(127).into_iter().chain([b'z']).collect();
    let mut message = field.clone();
    message.push(0);
    message.extend_from_slice(&field);
    message.push(0);
    message.extend_from_slice(&field);
    message
}

fn plain(c: &mut Criterion) {
    let long = three_fields_of_255();
    let overlong = three_fields_of_overlongs();
    let inputs: [(&str, &[u8]); 3] = [
        ("rfc4616-example", RFC4616_EXAMPLE),
        ("3x255", &long),
        ("3x255-overlong", &overlong),
    ];
    let mut group = c.benchmark_group("plain-parse");
    for profile in [Profile::Rfc2595, Profile::Rfc4616] {
        for (name, message) in inputs {
            group.bench_with_input(
                BenchmarkId::new(profile.id(), name),
                message,
                |b, message| b.iter(|| parse(black_box(profile), black_box(message)).is_ok()),
            );
        }
    }
    group.finish();
}

fn identity(c: &mut Criterion) {
    let exact = ["mail.example.com"];
    let wildcard = ["*.example.com"];
    let several = [
        "imap.example.org",
        "*.example.net",
        "pop.example.com",
        "www.example.com",
        "example.com",
        "*.mail.example.com",
    ];
    // A certificate with a malformed name first (a telling failure), then 20 others.
    let mut many = vec!["mail example.com"];
    many.extend((0..20).map(|_| "imap.example.org"));
    let cases: [(&str, &[&str]); 4] = [
        ("exact-match", &exact),
        ("wildcard-match", &wildcard),
        ("no-match-6-sans", &several),
        ("no-match-21-sans", &many),
    ];
    let mut group = c.benchmark_group("identity-check");
    for rules in [Rules::Rfc2595, Rules::Rfc6125, Rules::Rfc9525] {
        for (name, dns_names) in cases {
            let presented = Presented {
                dns_names,
                ip_addresses: &[],
                common_names: &[],
            };
            group.bench_with_input(
                BenchmarkId::new(rules.id(), name),
                &presented,
                |b, presented| {
                    b.iter(|| check(black_box(rules), black_box("mail.example.com"), presented))
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, plain, identity);
criterion_main!(benches);
