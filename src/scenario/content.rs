//! The content of one `C:`/`S:`/`..` line: literal text with escapes, `{*}`, `{name}`,
//! `{a|b}` and the line ending (`\n` for a bare LF, `<no-CRLF>` for none), decoded into a
//! [`Part`].

use crate::scenario::ast::{Ending, Part, Piece, Span};
use crate::scenario::error::LineError;

/// How deeply `{a|{b|{c}}}` may nest. Deeper is refused rather than recursed into.
pub(crate) const MAX_DEPTH: usize = 16;

/// The marker that ends a line sent or expected without any terminator.
pub(crate) const NO_CRLF: &str = "<no-CRLF>";

const ESCAPES_HELP: &str =
    "the escapes are `\\\\`, `\\{`, `\\}`, `\\|`, `\\t`, `\\xNN`, and `\\n` at the end of a line";

/// Decodes `chars[start..]` (the text after the prefix of physical line `line`) into a
/// [`Part`] spanning the whole line.
pub(crate) fn parse_part(chars: &[char], start: usize, line: u32) -> Result<Part, LineError> {
    let marker: Vec<char> = NO_CRLF.chars().collect();
    let start = start.min(chars.len());
    let no_crlf = chars.len() - start >= marker.len() && chars.ends_with(&marker);
    let end = if no_crlf {
        chars.len() - marker.len()
    } else {
        chars.len()
    };
    let mut cursor = Cursor {
        chars,
        pos: start,
        end,
        line,
        ending: if no_crlf { Ending::None } else { Ending::Crlf },
        no_crlf,
    };
    let pieces = cursor.sequence(0, false)?;
    Ok(Part {
        pieces,
        ending: cursor.ending,
        span: Span {
            line,
            col: 1,
            len: clamp(chars.len()).max(1),
        },
    })
}

/// A `usize` count as the `u32` a [`Span`] holds.
pub(crate) fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

struct Cursor<'a> {
    chars: &'a [char],
    pos: usize,
    end: usize,
    line: u32,
    ending: Ending,
    no_crlf: bool,
}

/// Literal octets being collected, with the character index they started at.
struct Pending {
    bytes: Vec<u8>,
    from: usize,
}

impl Cursor<'_> {
    fn span(&self, from: usize, to: usize) -> Span {
        Span {
            line: self.line,
            col: clamp(from + 1),
            len: clamp(to.saturating_sub(from)).max(1),
        }
    }

    fn flush(&self, pending: &mut Option<Pending>, pieces: &mut Vec<Piece>) {
        if let Some(literal) = pending.take() {
            pieces.push(Piece::Literal(
                literal.bytes,
                self.span(literal.from, self.pos),
            ));
        }
    }

    /// Pieces up to the end of the content, or (inside braces) up to a `|` or `}`,
    /// which is left for the caller.
    fn sequence(&mut self, depth: usize, in_brace: bool) -> Result<Vec<Piece>, LineError> {
        let mut pieces = Vec::new();
        let mut pending: Option<Pending> = None;
        while self.pos < self.end {
            let c = self.chars[self.pos];
            match c {
                '{' => {
                    self.flush(&mut pending, &mut pieces);
                    pieces.push(self.brace(depth)?);
                }
                '}' | '|' if in_brace => break,
                '}' => {
                    return Err(LineError::new(self.pos, 1, "unmatched `}`")
                        .help("write `\\}` for a literal brace"));
                }
                '|' => {
                    return Err(LineError::new(self.pos, 1, "`|` outside braces")
                        .help("write `{BAD|NO}` for alternatives, or `\\|` for a literal bar"));
                }
                _ => {
                    let from = self.pos;
                    let mut buf = [0u8; 4];
                    let bytes: Vec<u8> = if c == '\\' {
                        self.escape()?
                    } else {
                        self.pos += 1;
                        c.encode_utf8(&mut buf).as_bytes().to_vec()
                    };
                    pending
                        .get_or_insert_with(|| Pending {
                            bytes: Vec::new(),
                            from,
                        })
                        .bytes
                        .extend_from_slice(&bytes);
                }
            }
        }
        self.flush(&mut pending, &mut pieces);
        Ok(pieces)
    }

    /// The escape at `pos` (a backslash): its octets, with `pos` moved past it. A `\n`
    /// at the very end sets the ending instead and yields no octet.
    fn escape(&mut self) -> Result<Vec<u8>, LineError> {
        let at = self.pos;
        let Some(&next) = self.chars.get(at + 1).filter(|_| at + 1 < self.end) else {
            return Err(
                LineError::new(at, 1, "`\\` at the end of the line escapes nothing")
                    .help("write `\\\\` for a backslash"),
            );
        };
        self.pos += 2;
        let byte = match next {
            '\\' => b'\\',
            '{' => b'{',
            '}' => b'}',
            '|' => b'|',
            't' => b'\t',
            'n' if self.no_crlf => {
                return Err(LineError::new(
                    at,
                    2,
                    "`\\n` and `<no-CRLF>` both say how the line ends",
                )
                .help("keep one of them; write `\\x0a` for an LF octet inside a line"));
            }
            'n' if self.pos == self.end => {
                self.ending = Ending::Lf;
                return Ok(Vec::new());
            }
            'n' => {
                return Err(
                    LineError::new(at, 2, "`\\n` (a bare-LF ending) must end the line")
                        .help("write `\\x0a` for an LF octet inside a line"),
                );
            }
            'x' => {
                let digits: String = self.chars[self.pos..self.end].iter().take(2).collect();
                let hex = digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_hexdigit());
                return match u8::from_str_radix(&digits, 16) {
                    Ok(byte) if hex => {
                        self.pos += 2;
                        Ok(vec![byte])
                    }
                    _ => {
                        let shown: String = self.chars[at..self.end].iter().take(4).collect();
                        Err(LineError::new(
                            at,
                            shown.chars().count(),
                            format!("`{shown}` is not a hex escape"),
                        )
                        .help("`\\x` takes exactly two hex digits, e.g. `\\x0d`"))
                    }
                };
            }
            other => {
                return Err(
                    LineError::new(at, 2, format!("unknown escape `\\{other}`")).help(ESCAPES_HELP)
                );
            }
        };
        Ok(vec![byte])
    }

    /// The brace at `pos`: `{*}`, `{name}` or `{a|b|...}`.
    fn brace(&mut self, depth: usize) -> Result<Piece, LineError> {
        let open = self.pos;
        if depth >= MAX_DEPTH {
            return Err(
                LineError::new(open, 1, "braces nested too deeply").help(format!(
                    "at most {MAX_DEPTH} levels of `{{...}}` are allowed"
                )),
            );
        }
        self.pos += 1;
        if self.pos + 1 < self.end && self.chars[self.pos] == '*' && self.chars[self.pos + 1] == '}'
        {
            self.pos += 2;
            return Ok(Piece::Any(self.span(open, self.pos)));
        }
        let mut alternatives = Vec::new();
        loop {
            alternatives.push(self.sequence(depth + 1, true)?);
            match self.chars.get(self.pos) {
                Some('|') if self.pos < self.end => self.pos += 1,
                Some('}') if self.pos < self.end => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(LineError::new(open, 1, "unclosed `{`")
                        .help("close it with `}`, or write `\\{` for a literal brace"));
                }
            }
        }
        let span = self.span(open, self.pos);
        if alternatives.len() > 1 {
            return Ok(Piece::Alternatives(alternatives, span));
        }
        let name: String = self.chars[open + 1..self.pos - 1].iter().collect();
        if name.is_empty() {
            return Err(LineError::new(open, 2, "empty variable name `{}`").help(
                "write `{*}` for any octets, `{name}` for a variable, `\\{\\}` for literal braces",
            ));
        }
        // `{t1+1}`: the value of `t1` with its trailing number increased (a predicted tag).
        let (base, step) = match name.split_once('+') {
            Some((base, step)) => (base, Some(step)),
            None => (name.as_str(), None),
        };
        if let Some(step) = step
            && (base.is_empty()
                || step.is_empty()
                || step.len() > 3
                || !step.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(
                LineError::new(open, self.pos - open, "bad next-tag variable")
                    .help("write `{t1+1}`: a variable, `+` and a number of at most three digits"),
            );
        }
        if let Some(bad) = base.chars().position(|c| !is_name_char(c)) {
            let c = name.chars().nth(bad).unwrap_or(' ');
            return Err(LineError::new(
                open + 1 + bad,
                1,
                format!("{} cannot appear in a variable name", describe(c)),
            )
            .help(
                "names are lower-case letters, digits, `_` and `-`; `{a|b}` is alternatives, `\\{` a literal brace",
            ));
        }
        Ok(Piece::Var(name, span))
    }
}

/// Whether `c` may appear in a `{name}`.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
}

/// A character as an error message names it.
fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(text: &str) -> Result<Part, LineError> {
        let chars: Vec<char> = text.chars().collect();
        parse_part(&chars, 0, 1)
    }

    fn lit(bytes: &[u8], col: u32, len: u32) -> Piece {
        Piece::Literal(bytes.to_vec(), Span { line: 1, col, len })
    }

    #[test]
    fn literal_with_escapes() {
        let p = part(r"A1 \{x\} \| \\ \t\x00\xfF").unwrap();
        assert_eq!(p.ending, Ending::Crlf);
        assert_eq!(p.pieces, vec![lit(b"A1 {x} | \\ \t\x00\xff", 1, 25)]);
    }

    #[test]
    fn endings() {
        assert_eq!(part(r"A1 STARTTLS\n").unwrap().ending, Ending::Lf);
        let p = part("A2 NOOP<no-CRLF>").unwrap();
        assert_eq!(p.ending, Ending::None);
        assert_eq!(p.pieces, vec![lit(b"A2 NOOP", 1, 7)]);
        assert_eq!(part("<no-CRLF>").unwrap().pieces, vec![]);
        assert_eq!(part(r"\n").unwrap().ending, Ending::Lf);
        assert_eq!(part(r"\\n").unwrap().ending, Ending::Crlf);
        assert_eq!(part(r"a\nb").unwrap_err().at, 1);
        assert_eq!(part(r"a\n<no-CRLF>").unwrap_err().at, 1);
    }

    #[test]
    fn braces() {
        let p = part("{tag} OK {*}").unwrap();
        assert!(matches!(&p.pieces[0], Piece::Var(name, s) if name == "tag" && s.len == 5));
        assert!(matches!(&p.pieces[2], Piece::Any(s) if s.col == 10 && s.len == 3));
        let p = part("{A1 BAD {*}|A1 NO {*}}").unwrap();
        let Piece::Alternatives(alts, span) = &p.pieces[0] else {
            panic!("{p:?}")
        };
        assert_eq!(span.len, 22);
        assert_eq!(alts.len(), 2);
        assert_eq!(alts[0].len(), 2);
        assert!(matches!(alts[1][1], Piece::Any(_)));
        let p = part("{a|}").unwrap();
        assert!(matches!(&p.pieces[0], Piece::Alternatives(a, _) if a[1].is_empty()));
    }

    #[test]
    fn brace_errors_point_at_the_offending_char() {
        assert_eq!(part("x {abc").unwrap_err().at, 2);
        assert_eq!(part("x {}").unwrap_err().at, 2);
        assert_eq!(part("x {ab c}").unwrap_err().at, 5);
        assert_eq!(part("x {Tag}").unwrap_err().at, 3);
        assert_eq!(part("x {*x}").unwrap_err().at, 3);
        assert_eq!(part("x }").unwrap_err().at, 2);
        assert_eq!(part("x | y").unwrap_err().at, 2);
        assert_eq!(part("{*<no-CRLF>").unwrap_err().at, 0);
        let deep = "{".repeat(100);
        assert!(part(&deep).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn escape_errors() {
        let e = part(r"A1 \q").unwrap_err();
        assert_eq!((e.at, e.len), (3, 2));
        let e = part(r"\xZ1 rest").unwrap_err();
        assert_eq!((e.at, e.len), (0, 4));
        assert_eq!(e.message, "`\\xZ1` is not a hex escape");
        let e = part(r"ab\x4").unwrap_err();
        assert_eq!((e.at, e.len), (2, 3));
        let e = part(r"ab\").unwrap_err();
        assert_eq!((e.at, e.len), (2, 1));
        let e = part(r"ab\<no-CRLF>").unwrap_err();
        assert_eq!(e.at, 2);
    }
}
