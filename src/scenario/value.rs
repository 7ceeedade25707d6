//! Small value syntaxes shared by the header and the directives: durations (`500ms`,
//! `2s`, `1m`), names, and "did you mean" suggestions for misspelt keywords.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DurationError {
    /// No digits before the unit.
    NoDigits,
    /// Digits but no unit (`500`).
    NoUnit,
    /// A unit other than `ms`, `s` or `m`; the offset (in characters) where it starts.
    BadUnit(usize),
    /// A fraction (`1.5s`).
    Fraction,
    /// More than fits in a `Duration` of whole milliseconds.
    TooLarge,
}

/// Reads `500ms`, `2s` or `1m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if unit.starts_with('.') || unit.starts_with(',') {
        return Err(DurationError::Fraction);
    }
    if number.is_empty() {
        return Err(DurationError::NoDigits);
    }
    let value: u64 = number.parse().map_err(|_| DurationError::TooLarge)?;
    let millis = match unit {
        "ms" => Some(value),
        "s" => value.checked_mul(1000),
        "m" => value.checked_mul(60_000),
        "" => return Err(DurationError::NoUnit),
        _ => return Err(DurationError::BadUnit(number.chars().count())),
    };
    millis
        .map(Duration::from_millis)
        .ok_or(DurationError::TooLarge)
}

/// Writes a duration the way [`parse_duration`] reads it, in the largest whole unit.
pub(crate) fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis != 0 && millis % 60_000 == 0 {
        format!("{}m", millis / 60_000)
    } else if millis != 0 && millis % 1000 == 0 {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// The help text for a duration that could not be read.
pub(crate) fn duration_help(error: &DurationError) -> &'static str {
    match error {
        DurationError::Fraction => "durations are whole numbers: write `1500ms`, not `1.5s`",
        DurationError::TooLarge => "that is longer than anyone will wait",
        _ => "durations are a whole number and a unit: `500ms`, `2s` or `1m`",
    }
}

/// The number of single-character edits between `a` and `b`: insertions, deletions,
/// substitutions and swaps of two neighbours (optimal string alignment distance).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() > 64 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" when a candidate is close, for a help text.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    suggest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The index (in characters) of the first character of `text` that `allowed` rejects.
pub(crate) fn first_bad_char(text: &str, allowed: impl Fn(char) -> bool) -> Option<usize> {
    text.chars().position(|c| !allowed(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("500"), Err(DurationError::NoUnit));
        assert_eq!(parse_duration("ms"), Err(DurationError::NoDigits));
        assert_eq!(parse_duration("1.5s"), Err(DurationError::Fraction));
        assert_eq!(parse_duration("5sec"), Err(DurationError::BadUnit(1)));
        assert_eq!(
            parse_duration("99999999999999999999999s"),
            Err(DurationError::TooLarge)
        );
        assert_eq!(
            parse_duration("18446744073709551615m"),
            Err(DurationError::TooLarge)
        );
    }

    #[test]
    fn durations_round_trip() {
        for text in ["500ms", "2s", "1m", "0ms", "1001ms", "90s", "61s"] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(format_duration(duration), text);
        }
    }

    #[test]
    fn suggestions() {
        let known = ["expect-silence", "expect-close", "wait"];
        assert_eq!(suggest("expect-sience", &known), Some("expect-silence"));
        assert_eq!(suggest("wiat", &known), Some("wait"));
        assert_eq!(suggest("zzzzzz", &known), None);
    }
}
