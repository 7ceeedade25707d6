//! Fuzz entry point for the `scenario_parse` target: the input is a scenario file, any
//! octets.

use crate::scenario::ast::{Ending, Line, Piece, Scenario, Step};
use crate::scenario::pattern::{Vars, match_part, render_part};
use crate::scenario::{ScenarioError, parse, parse_all, parse_bytes, render};

/// Parses `data` and asserts:
/// - no panic, and every error points inside the input: an existing line, columns from
///   1, carets within the line, and the line quoted as it is in the input;
/// - an accepted scenario renders to text that parses back to the same scenario (spans
///   aside), and renders again to the same text;
/// - every sendable line part, rendered with its variables bound, matches its own octets;
/// - matching parts against the input's own lines never panics.
pub fn fuzz_scenario_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_bytes("fuzz.scn", data) {
        Err(error) => check_position(&text, &error),
        Ok(scenario) => {
            round_trip(&scenario);
            self_match(&scenario);
            match_input_lines(&scenario, data);
        }
    }
    if let Err(errors) = parse_all("fuzz.scn", &text) {
        for error in &errors.0 {
            check_position(&text, error);
        }
        assert!(!errors.0.is_empty(), "an error list is never empty");
        let _ = errors.to_string();
    }
}

fn check_position(text: &str, error: &ScenarioError) {
    let rendered = error.to_string();
    assert!(rendered.starts_with("error: "), "{rendered}");
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line = text.split('\n').nth(error.line.saturating_sub(1) as usize);
    let line = line.map(|l| l.strip_suffix('\r').unwrap_or(l));
    assert!(error.line >= 1, "line 0: {error:?}");
    let Some(line) = line else {
        panic!("line {} is past the end: {error:?}", error.line);
    };
    let chars = line.chars().count().max(1);
    assert!(error.col >= 1 && error.len >= 1, "{error:?}");
    let last = error.col as usize + error.len as usize - 1;
    assert!(last <= chars, "carets past the end of the line: {error:?}");
    assert_eq!(
        error.source_line, line,
        "the quoted line is not the input's"
    );
}

fn round_trip(scenario: &Scenario) {
    let text = render(scenario);
    let again = match parse("rendered.scn", &text) {
        Ok(again) => again,
        Err(error) => panic!("the rendered scenario does not parse:\n{error}\n---\n{text}"),
    };
    assert_eq!(
        scenario.without_spans(),
        again.without_spans(),
        "parse(render(s)) != s:\n{text}"
    );
    assert_eq!(render(&again), text, "render is not stable");
}

/// Every line of the transcript, groups flattened.
fn lines(scenario: &Scenario) -> impl Iterator<Item = &Line> {
    scenario.steps.iter().flat_map(|step| match step {
        Step::Line(line) => std::slice::from_ref(line),
        Step::Unordered(lines, _) => lines.as_slice(),
        Step::Directive(..) => &[],
    })
}

fn self_match(scenario: &Scenario) {
    for line in lines(scenario).filter(|l| l.is_sendable()) {
        for part in &line.parts {
            let mut vars = Vars::new();
            for piece in &part.pieces {
                if let Piece::Var(name, _) = piece {
                    vars.insert(name.clone(), format!("V{}", vars.len()).into_bytes());
                }
            }
            let Ok(mut bytes) = render_part(part, &vars) else {
                panic!("a sendable part with bound variables did not render: {part}");
            };
            bytes.truncate(bytes.len() - part.ending.bytes().len());
            let result = match_part(part, &bytes, part.ending, &vars);
            assert!(
                result.is_ok(),
                "a part does not match its own octets: {result:?}"
            );
        }
    }
}

fn match_input_lines(scenario: &Scenario, data: &[u8]) {
    // A few lines, cut short: enough to exercise the matcher, cheap enough per input.
    let received: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .take(6)
        .map(|line| &line[..line.len().min(256)])
        .collect();
    for part in lines(scenario).flat_map(|l| &l.parts).take(6) {
        for line in &received {
            let _ = match_part(part, line, Ending::Lf, &Vars::new());
        }
    }
}
