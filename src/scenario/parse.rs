//! The parser's driver: splits a file into lines, sorts each into comment, header,
//! step, continuation or directive, builds the [`Scenario`] and checks what needs the
//! whole file (required keys, a non-empty transcript, lines each role must send).

use crate::model::Party;
use crate::scenario::ast::{Expectation, Line, Part, Piece, Scenario, Span, Step};
use crate::scenario::content::{clamp, parse_part};
use crate::scenario::directive::parse_directive;
use crate::scenario::error::{LineError, ScenarioError};
use crate::scenario::header::{HeaderBuilder, HeaderLine, REQUIRED};

/// One physical line of the file.
struct SourceLine<'a> {
    number: u32,
    text: &'a str,
    chars: Vec<char>,
}

/// Where a `..` line goes.
#[derive(Clone, Copy)]
enum Open {
    /// Nowhere: no step yet, or the last step was a directive.
    Nothing,
    /// Onto the last line of step `index` (a line, or the last member of a group).
    Step(usize),
    /// The line it continues had an error; the continuation is read and dropped.
    Broken,
}

struct Parser<'a> {
    file: &'a str,
    lines: Vec<SourceLine<'a>>,
    errors: Vec<ScenarioError>,
    header: HeaderBuilder,
    /// The first header line, for messages about the whole header.
    header_span: Option<Span>,
    /// The line number of the first step, once the transcript has started.
    transcript_from: Option<u32>,
    steps: Vec<Step>,
    open: Open,
}

/// Parses a whole file; every error found, in file order, on failure.
pub(crate) fn parse_source(file: &str, source: &str) -> Result<Scenario, Vec<ScenarioError>> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let lines = source
        .split('\n')
        .enumerate()
        .map(|(i, text)| {
            let text = text.strip_suffix('\r').unwrap_or(text);
            SourceLine {
                number: clamp(i + 1),
                text,
                chars: text.chars().collect(),
            }
        })
        .collect();
    let mut parser = Parser {
        file,
        lines,
        errors: Vec::new(),
        header: HeaderBuilder::default(),
        header_span: None,
        transcript_from: None,
        steps: Vec::new(),
        open: Open::Nothing,
    };
    for index in 0..parser.lines.len() {
        parser.line(index);
    }
    parser.finish()
}

/// A step prefix's sender and expectation: `C:`, `S?`, ...
fn prefix(chars: &[char]) -> Option<(Party, Expectation)> {
    let sender = match chars.first()? {
        'C' => Party::Client,
        'S' => Party::Server,
        _ => return None,
    };
    let expectation = match chars.get(1)? {
        ':' => Expectation::Next,
        '?' => Expectation::Optional,
        '~' => Expectation::Eventually,
        '!' => Expectation::Forbidden,
        '&' => Expectation::Unordered,
        _ => return None,
    };
    Some((sender, expectation))
}

/// The letter of a sender in a prefix.
fn letter(sender: Party) -> char {
    match sender {
        Party::Client => 'C',
        Party::Server => 'S',
    }
}

/// The mode character of a prefix.
fn mode(expectation: Expectation) -> char {
    match expectation {
        Expectation::Next => ':',
        Expectation::Optional => '?',
        Expectation::Eventually => '~',
        Expectation::Forbidden => '!',
        Expectation::Unordered => '&',
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Parser<'_> {
    fn error(&mut self, index: usize, error: LineError) {
        let line = &self.lines[index];
        let span = Span {
            line: line.number,
            col: clamp(error.at + 1),
            len: clamp(error.len).max(1),
        };
        let mut out = ScenarioError::new(self.file, span, line.text, error.message);
        out.help = error.help;
        self.errors.push(out);
    }

    fn error_at(&mut self, span: Span, message: String, help: &str) {
        let text = self
            .lines
            .get(span.line.saturating_sub(1) as usize)
            .map_or("", |l| l.text);
        self.errors
            .push(ScenarioError::new(self.file, span, text, message).with_help(help));
    }

    fn whole_line(&self, index: usize) -> Span {
        Span {
            line: self.lines[index].number,
            col: 1,
            len: clamp(self.lines[index].chars.len()).max(1),
        }
    }

    fn line(&mut self, index: usize) {
        let chars = &self.lines[index].chars.clone();
        if let Some(at) = chars.iter().position(|&c| c.is_control() && c != '\t') {
            let code = u32::from(chars[at]);
            self.error(
                index,
                LineError::new(at, 1, format!("control character U+{code:04X} in the file"))
                    .help("write octets as `\\xNN` escapes"),
            );
            self.open = Open::Broken;
            return;
        }
        let Some(first) = chars.iter().position(|c| !c.is_whitespace()) else {
            return;
        };
        if chars[first] == '#' {
            return;
        }
        if first > 0 {
            self.error(
                index,
                LineError::new(0, first, "unexpected indentation")
                    .help("lines start in column 1; only comments may be indented"),
            );
            self.open = Open::Broken;
            return;
        }
        if chars[0] == '[' {
            self.start_transcript(index);
            match parse_directive(chars) {
                Ok(directive) => {
                    let span = self.whole_line(index);
                    self.steps.push(Step::Directive(directive, span));
                }
                Err(error) => self.error(index, error),
            }
            self.open = Open::Nothing;
        } else if chars.starts_with(&['.', '.']) {
            self.start_transcript(index);
            self.continuation(index);
        } else if let Some((sender, expectation)) = prefix(chars) {
            self.start_transcript(index);
            self.step(index, sender, expectation);
        } else {
            let key_len = chars.iter().take_while(|&&c| is_key_char(c)).count();
            if key_len > 0 && chars.get(key_len) == Some(&':') {
                self.header_line(index, key_len);
            } else {
                let help = if chars[0] == '<' {
                    "events are directives: write `[tls]` for `<TLS>`, `[close-notify]` for `<CLOSE_NOTIFY>`, `[close]` for `<TCP-FIN>`"
                } else {
                    "a line is `key: value` (header), `C:`/`S:` (steps, also `?`, `~`, `!`, `&`), `..` (continuation), `[directive]` or `# comment`"
                };
                self.error(
                    index,
                    LineError::new(0, chars.len(), "cannot read this line").help(help),
                );
                self.open = Open::Broken;
            }
        }
    }

    fn start_transcript(&mut self, index: usize) {
        if self.transcript_from.is_none() {
            self.transcript_from = Some(self.lines[index].number);
        }
    }

    fn header_line(&mut self, index: usize, key_len: usize) {
        let line = &self.lines[index];
        let key: String = line.chars[..key_len].iter().collect();
        if key == "c" || key == "s" {
            let message = format!("`{key}:` is not a step prefix");
            let help = "steps start with an upper-case `C` or `S`: `C:`, `S?`, `S~`, ...";
            self.error(index, LineError::new(0, 2, message).help(help));
            self.open = Open::Broken;
            return;
        }
        if let Some(first) = self.transcript_from {
            let message = format!("header line `{key}:` after the first step");
            let help = format!("move it above the transcript, which starts on line {first}");
            self.error(index, LineError::new(0, key_len + 1, message).help(help));
            self.open = Open::Broken;
            return;
        }
        if self.header_span.is_none() {
            self.header_span = Some(self.whole_line(index));
        }
        let line = &self.lines[index];
        let rest = &line.chars[key_len + 1..];
        let lead = rest.iter().take_while(|c| c.is_whitespace()).count();
        let value: String = rest[lead..].iter().collect();
        let value = value.trim_end();
        let header_line = HeaderLine {
            line: line.number,
            line_len: line.chars.len(),
            key: &key,
            value,
            value_at: key_len + 1 + lead,
        };
        if let Err(error) = self.header.apply(&header_line) {
            self.error(index, error);
        }
    }

    /// The content of a step or `..` line, which starts after two characters and a space.
    fn content(&mut self, index: usize) -> Option<Part> {
        let line = &self.lines[index];
        let start = match line.chars.get(2) {
            None => 2,
            Some(' ') => 3,
            Some(_) => {
                let shown: String = line.chars[..2].iter().collect();
                self.error(
                    index,
                    LineError::new(2, 1, format!("expected a space after `{shown}`"))
                        .help("the prefix, one space, then the line's text as sent or expected"),
                );
                return None;
            }
        };
        let number = line.number;
        match parse_part(&line.chars, start, number) {
            Ok(part) => Some(part),
            Err(error) => {
                self.error(index, error);
                None
            }
        }
    }

    fn step(&mut self, index: usize, sender: Party, expectation: Expectation) {
        let Some(part) = self.content(index) else {
            self.open = Open::Broken;
            return;
        };
        let line = Line {
            sender,
            expectation,
            parts: vec![part],
        };
        if expectation == Expectation::Unordered {
            if let Some(Step::Unordered(group, _)) = self.steps.last_mut() {
                if group.first().is_some_and(|l| l.sender == sender) {
                    group.push(line);
                    self.open = Open::Step(self.steps.len() - 1);
                    return;
                }
            }
            let span = line.span();
            self.steps.push(Step::Unordered(vec![line], span));
        } else {
            self.steps.push(Step::Line(line));
        }
        self.open = Open::Step(self.steps.len() - 1);
    }

    fn continuation(&mut self, index: usize) {
        let part = self.content(index);
        match self.open {
            Open::Nothing => {
                self.error(
                    index,
                    LineError::new(0, 2, "`..` continues a line, but there is no `C:` or `S:` line before it")
                        .help("a `..` line adds to the write (or the expected lines) of the `C:`/`S:` line above it"),
                );
                self.open = Open::Broken;
            }
            Open::Broken => {}
            Open::Step(step) => {
                let Some(part) = part else {
                    self.open = Open::Broken;
                    return;
                };
                let target = match self.steps.get_mut(step) {
                    Some(Step::Line(line)) => Some(line),
                    Some(Step::Unordered(group, _)) => group.last_mut(),
                    _ => None,
                };
                if let Some(line) = target {
                    line.parts.push(part);
                }
            }
        }
    }

    fn finish(mut self) -> Result<Scenario, Vec<ScenarioError>> {
        let anything = self.header_span.is_some() || self.transcript_from.is_some();
        if !anything && self.errors.is_empty() {
            let span = Span {
                line: 1,
                col: 1,
                len: 1,
            };
            self.error_at(
                span,
                "empty scenario".to_owned(),
                "a scenario is a header (id, title, protocol, roles, level, clause) and at least one step",
            );
            return Err(self.errors);
        }
        let header_span = self.header_span.unwrap_or(Span {
            line: 1,
            col: 1,
            len: clamp(self.lines.first().map_or(0, |l| l.chars.len())).max(1),
        });
        let roles = self.header.roles().map(<[Party]>::to_vec);
        let header = std::mem::take(&mut self.header);
        let meta = match header.finish() {
            Ok(meta) => Some(meta),
            Err(missing) => {
                for key in missing {
                    let what = if key == "clause" {
                        "no `clause:` in the header".to_owned()
                    } else {
                        format!("missing `{key}:` in the header")
                    };
                    let keys: Vec<String> = REQUIRED[..REQUIRED.len() - 1]
                        .iter()
                        .map(|k| format!("`{k}:`"))
                        .collect();
                    let help = format!(
                        "every scenario needs {} and at least one `clause:`",
                        keys.join(", ")
                    );
                    self.error_at(header_span, what, &help);
                }
                None
            }
        };
        if self.steps.is_empty() && self.transcript_from.is_none() {
            self.error_at(
                header_span,
                "the transcript is empty".to_owned(),
                "add the `C:`/`S:` lines and `[directives]` after the header",
            );
        }
        if let Some(roles) = roles {
            for role in roles {
                self.check_sent(role);
            }
        }
        match meta {
            Some(meta) if self.errors.is_empty() => Ok(Scenario {
                meta,
                steps: self.steps,
            }),
            _ => Err(self.errors),
        }
    }

    /// In `role`, mailtls sends the other party's lines: they must be `C:`/`S:` lines of
    /// literals and variables.
    fn check_sent(&mut self, role: Party) {
        let sent = match role {
            Party::Server => Party::Client,
            Party::Client => Party::Server,
        };
        let mut found = Vec::new();
        for step in &self.steps {
            let lines = match step {
                Step::Line(line) => std::slice::from_ref(line),
                Step::Unordered(group, _) => group.as_slice(),
                Step::Directive(..) => &[],
            };
            for line in lines.iter().filter(|l| l.sender == sent) {
                let c = letter(sent);
                if line.expectation != Expectation::Next {
                    let span = Span {
                        len: 2,
                        ..line.span()
                    };
                    let message = format!(
                        "`{c}{}` lines cannot be sent: in the {role} role mailtls sends the {c}: lines",
                        mode(line.expectation)
                    );
                    let help = format!(
                        "only `{c}:` lines (and their `..` lines) can be sent; `?`, `~`, `!` and `&` judge received lines"
                    );
                    found.push((span, message, help));
                    continue;
                }
                let bad = line
                    .parts
                    .iter()
                    .flat_map(|part| &part.pieces)
                    .find(|piece| matches!(piece, Piece::Any(_) | Piece::Alternatives(..)));
                if let Some(piece) = bad {
                    let span = piece.span();
                    let message = format!(
                        "`{piece}` cannot be sent: in the {role} role mailtls sends the {c}: lines"
                    );
                    let help = "write the octets to send (`\\xNN` for raw ones), or a `{variable}`"
                        .to_owned();
                    found.push((span, message, help));
                }
            }
        }
        for (span, message, help) in found {
            self.error_at(span, message, &help);
        }
    }
}
