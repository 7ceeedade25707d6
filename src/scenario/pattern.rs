//! Transcript lines as patterns and as bytes to send: [`match_part`] judges one received
//! line against one [`Part`], [`render_part`] produces the octets mailtls writes.
//!
//! # Matching
//!
//! - Literals match ASCII case-insensitively (protocol atoms are case-insensitive).
//! - `{*}` matches any octets, possibly none, as few as possible.
//! - `{name}`: a bound variable matches its value (case-insensitively); an unbound one
//!   captures the octets up to the next space (0x20) or the end of the line, at least one,
//!   and is bound from there on, within the line and in the returned [`Vars`].
//! - `{a|b}`: any alternative, tried left to right.
//! - The terminator must be the one the line was written with: CRLF, a bare LF (`\n`)
//!   or none (`<no-CRLF>`).
//!
//! On a mismatch, [`Mismatch::offset`] is the furthest octet that a literal or a
//! variable of the pattern matched up to (or where the pattern ended early).
//!
//! The pattern is compiled into a small program and searched depth-first over
//! (instruction, offset, live captures) states, each visited once, so `{*}{*}{*}...`
//! costs at most instructions × line length steps instead of exponential backtracking.
//! A pathological pattern that re-uses captured variables after wildcards
//! (`{*}{x}{*}{x}`) could need line length² states; past [`MAX_CAPTURE_STATES`] such
//! states (or [`MAX_STATES`] in all) the search stops with [`MismatchKind::TooComplex`].

use crate::scenario::ast::{Ending, Line, Part, Piece, Span};
use crate::scenario::render::show_octets;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// Variable values by name: what the engine has bound so far (built-ins such as
/// `user` and `password`, and captures from earlier lines), or what one match captured.
pub type Vars = BTreeMap<String, Vec<u8>>;

/// The variables one matched line bound (never those that were bound before it).
pub type Captures = Vars;

/// The most states one match may visit before it gives up with
/// [`MismatchKind::TooComplex`].
pub const MAX_STATES: usize = 1 << 22;

/// The most of those states that may carry live captures (a variable captured on the way
/// and read again later in the pattern). Only patterns that re-use a captured variable
/// after a wildcard get near it.
pub const MAX_CAPTURE_STATES: usize = 1 << 16;

/// Why a received line did not match a [`Part`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The octet offset in the line where matching failed: the length of the longest
    /// prefix any way through the pattern matched (the line's length for an ending
    /// mismatch).
    pub offset: usize,
    /// The part as written in the scenario file, e.g. `A1 OK {*}`.
    pub expected: String,
    /// The line as received, without its terminator.
    pub seen: Vec<u8>,
    /// What went wrong.
    pub kind: MismatchKind,
}

/// What kind of mismatch a [`Mismatch`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MismatchKind {
    /// The octets differ from the pattern.
    Content,
    /// The octets match but the line ended differently.
    Ending {
        /// The terminator the scenario line asks for.
        expected: Ending,
        /// The terminator that actually ended the line.
        seen: Ending,
    },
    /// The pattern needed more than [`MAX_STATES`] search states on this line (or
    /// more than [`MAX_CAPTURE_STATES`] with live captures).
    TooComplex,
}

/// How a terminator reads in a message.
fn ending_name(ending: Ending) -> &'static str {
    match ending {
        Ending::Crlf => "CRLF",
        Ending::Lf => "a bare LF",
        Ending::None => "no terminator",
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seen = show_octets(&self.seen);
        match self.kind {
            MismatchKind::Content => write!(
                f,
                "expected `{}`, seen `{seen}` (differs at octet {})",
                self.expected, self.offset
            ),
            MismatchKind::Ending {
                expected,
                seen: got,
            } => write!(
                f,
                "expected `{}`, seen `{seen}` ended with {}, not {}",
                self.expected,
                ending_name(got),
                ending_name(expected)
            ),
            MismatchKind::TooComplex => write!(
                f,
                "pattern `{}` is too complex to match against `{seen}`",
                self.expected
            ),
        }
    }
}

impl std::error::Error for Mismatch {}

/// Why a part could not be rendered as octets to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderError {
    /// `{name}` has no value yet.
    UnboundVar {
        /// The variable.
        name: String,
        /// Where it is written.
        span: Span,
    },
    /// `{t1+1}`, but the value of `t1` does not end in a number.
    CannotPredict {
        /// The variable as written (`t1+1`).
        name: String,
        /// The value it was to be derived from.
        value: Vec<u8>,
        /// Where it is written.
        span: Span,
    },
    /// `{*}` or `{a|b}`: a pattern, not octets.
    NotSendable {
        /// The piece as written.
        piece: String,
        /// Where it is written.
        span: Span,
    },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnboundVar { name, .. } => {
                write!(f, "variable `{{{name}}}` has no value to send")
            }
            Self::NotSendable { piece, .. } => write!(f, "`{piece}` cannot be sent"),
            Self::CannotPredict { name, value, .. } => write!(
                f,
                "cannot predict the next tag for `{{{name}}}`: `{}` does not end in a number",
                String::from_utf8_lossy(value)
            ),
        }
    }
}

impl std::error::Error for RenderError {}

/// The octets to write for `part`, terminator included.
pub fn render_part(part: &Part, vars: &Vars) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    for piece in &part.pieces {
        match piece {
            Piece::Literal(bytes, _) => out.extend_from_slice(bytes),
            Piece::Var(name, span) => {
                match derived(name, vars, *span)?.or_else(|| vars.get(name).cloned()) {
                    Some(value) => out.extend_from_slice(&value),
                    None => {
                        return Err(RenderError::UnboundVar {
                            name: name.clone(),
                            span: *span,
                        });
                    }
                }
            }
            Piece::Any(span) | Piece::Alternatives(_, span) => {
                return Err(RenderError::NotSendable {
                    piece: piece.to_string(),
                    span: *span,
                });
            }
        }
    }
    out.extend_from_slice(part.ending.bytes());
    Ok(out)
}

/// The value of a derived variable `{base+N}`: `base`'s value with its trailing decimal
/// number increased by N, keeping its width (`A001`+1 = `A002`, `a9`+1 = `a10`).
/// `Ok(None)` for a plain name or an unbound base.
fn derived(name: &str, vars: &Vars, span: Span) -> Result<Option<Vec<u8>>, RenderError> {
    let Some((base, step)) = name.split_once('+') else {
        return Ok(None);
    };
    let Some(value) = vars.get(base) else {
        return Ok(None);
    };
    let step: u64 = step.parse().unwrap_or(0);
    let digits = value
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let cannot = || RenderError::CannotPredict {
        name: name.to_owned(),
        value: value.clone(),
        span,
    };
    if digits == 0 || digits > 18 {
        return Err(cannot());
    }
    let (prefix, number) = value.split_at(value.len() - digits);
    let n: u64 = std::str::from_utf8(number)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(cannot)?;
    let mut out = prefix.to_vec();
    out.extend_from_slice(format!("{:0digits$}", n + step).as_bytes());
    Ok(Some(out))
}

/// `vars` plus the derived variables (`{t1+1}`) `part` uses, when it uses any.
fn with_derived(part: &Part, vars: &Vars) -> Option<Vars> {
    let mut extended: Option<Vars> = None;
    for piece in &part.pieces {
        if let Piece::Var(name, span) = piece
            && let Ok(Some(value)) = derived(name, vars, *span)
        {
            extended
                .get_or_insert_with(|| vars.clone())
                .insert(name.clone(), value);
        }
    }
    extended
}

/// The octets of one write: every part of `line` (the `..` lines too), in order.
pub fn render_line(line: &Line, vars: &Vars) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    for part in &line.parts {
        out.extend(render_part(part, vars)?);
    }
    Ok(out)
}

/// Matches one received line (`line`, without its terminator; `ending` is what
/// terminated it) against `part`, with the variables bound so far. On success, the
/// variables this line captured (not those already in `vars`).
pub fn match_part(
    part: &Part,
    line: &[u8],
    ending: Ending,
    vars: &Vars,
) -> Result<Captures, Mismatch> {
    let extended = with_derived(part, vars);
    let vars = extended.as_ref().unwrap_or(vars);
    let program = Program::compile(&part.pieces, vars);
    let mismatch = |offset, kind| Mismatch {
        offset,
        expected: part.to_string(),
        seen: line.to_vec(),
        kind,
    };
    match program.search(line) {
        Search::Matched(captures) if ending == part.ending => Ok(captures),
        Search::Matched(_) => Err(mismatch(
            line.len(),
            MismatchKind::Ending {
                expected: part.ending,
                seen: ending,
            },
        )),
        Search::Failed(offset) => Err(mismatch(offset, MismatchKind::Content)),
        Search::TooComplex(offset) => Err(mismatch(offset, MismatchKind::TooComplex)),
    }
}

/// One instruction of a compiled pattern.
enum Inst<'p> {
    /// These octets, case-insensitively.
    Literal(&'p [u8]),
    /// Any octets: stay here one octet further on, or go on.
    Any,
    /// A variable, by slot.
    Var(usize),
    /// Try each target (alternatives), in order.
    Fork(Vec<usize>),
    /// Go on at the target (the end of an alternative).
    Jump(usize),
    /// The pattern is complete: the line must be too.
    Match,
}

/// A variable the pattern names.
struct Slot<'p> {
    name: &'p str,
    /// Its value when the engine bound it before this line.
    bound: Option<&'p [u8]>,
}

struct Program<'p> {
    insts: Vec<Inst<'p>>,
    slots: Vec<Slot<'p>>,
    /// Per instruction: which unbound slots an instruction at or after it reads (their
    /// capture can still matter from here on).
    live: Vec<Vec<bool>>,
}

enum Search {
    Matched(Vars),
    Failed(usize),
    TooComplex(usize),
}

/// Per slot, the (start, end) octets it captured, if it did.
type Captured = Vec<Option<(usize, usize)>>;

/// A search state: instruction, offset, and the (start, end) of each slot captured on
/// the way here.
struct State {
    pc: usize,
    at: usize,
    captures: Captured,
}

/// The states a search has been in. States without live captures (the usual case) are
/// bits in a (instruction × offset) bitmap; the others go to a hash set.
struct Visited {
    dense: Vec<u64>,
    width: usize,
    sparse: HashSet<(usize, usize, Captured), BuildHasherDefault<StateHasher>>,
    count: usize,
}

/// A multiply-rotate hasher (FxHash's) for search states: they are small integers, and
/// SipHash's flooding resistance buys nothing when the keys are positions the peer
/// cannot choose freely and the set is capped at [`MAX_CAPTURE_STATES`].
#[derive(Default)]
struct StateHasher(u64);

impl StateHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

impl Visited {
    /// Bitmaps larger than this many bits are not allocated; the hash set takes over.
    const DENSE_LIMIT: usize = 1 << 24;

    fn new(insts: usize, line_len: usize) -> Self {
        let width = line_len + 1;
        let bits = insts.saturating_mul(width);
        let dense = if bits <= Self::DENSE_LIMIT {
            vec![0; bits.div_ceil(64)]
        } else {
            Vec::new()
        };
        Self {
            dense,
            width,
            sparse: HashSet::default(),
            count: 0,
        }
    }

    /// Records a state; false if it was visited before.
    fn insert(&mut self, pc: usize, at: usize, live: Option<Captured>) -> bool {
        let new = match live {
            None if !self.dense.is_empty() => {
                let bit = pc * self.width + at;
                let (word, mask) = (bit / 64, 1u64 << (bit % 64));
                let new = self.dense[word] & mask == 0;
                self.dense[word] |= mask;
                new
            }
            live => self.sparse.insert((pc, at, live.unwrap_or_default())),
        };
        self.count += usize::from(new);
        new
    }
}

/// How many leading octets of `line` match `expected`, ASCII case-insensitively.
fn common_prefix(line: &[u8], expected: &[u8]) -> usize {
    line.iter()
        .zip(expected)
        .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
        .count()
}

impl<'p> Program<'p> {
    fn compile(pieces: &'p [Piece], vars: &'p Vars) -> Self {
        let mut program = Program {
            insts: Vec::new(),
            slots: Vec::new(),
            live: Vec::new(),
        };
        program.emit(pieces, vars);
        program.insts.push(Inst::Match);
        let unbound: Vec<bool> = program.slots.iter().map(|s| s.bound.is_none()).collect();
        let mut live = vec![vec![false; program.slots.len()]; program.insts.len()];
        for pc in (0..program.insts.len()).rev() {
            if let Some(next) = live.get(pc + 1) {
                live[pc] = next.clone();
            }
            if let Inst::Var(slot) = program.insts[pc] {
                live[pc][slot] = unbound[slot];
            }
        }
        program.live = live;
        program
    }

    fn slot(&mut self, name: &'p str, vars: &'p Vars) -> usize {
        if let Some(i) = self.slots.iter().position(|s| s.name == name) {
            return i;
        }
        self.slots.push(Slot {
            name,
            bound: vars.get(name).map(Vec::as_slice),
        });
        self.slots.len() - 1
    }

    fn emit(&mut self, pieces: &'p [Piece], vars: &'p Vars) {
        for piece in pieces {
            match piece {
                Piece::Literal(bytes, _) => {
                    if !bytes.is_empty() {
                        self.insts.push(Inst::Literal(bytes));
                    }
                }
                Piece::Any(_) => self.insts.push(Inst::Any),
                Piece::Var(name, _) => {
                    let slot = self.slot(name, vars);
                    self.insts.push(Inst::Var(slot));
                }
                Piece::Alternatives(alternatives, _) => {
                    let fork = self.insts.len();
                    self.insts.push(Inst::Fork(Vec::new()));
                    let mut starts = Vec::with_capacity(alternatives.len());
                    let mut jumps = Vec::with_capacity(alternatives.len());
                    for alternative in alternatives {
                        starts.push(self.insts.len());
                        self.emit(alternative, vars);
                        jumps.push(self.insts.len());
                        self.insts.push(Inst::Jump(0));
                    }
                    let end = self.insts.len();
                    for jump in jumps {
                        self.insts[jump] = Inst::Jump(end);
                    }
                    self.insts[fork] = Inst::Fork(starts);
                }
            }
        }
    }

    /// The captures that matter from `pc` on, or `None` when none does.
    fn live_captures(&self, state: &State) -> Option<Captured> {
        let live = &self.live[state.pc];
        if !live.iter().any(|l| *l) {
            return None;
        }
        Some(
            state
                .captures
                .iter()
                .zip(live)
                .map(|(c, l)| if *l { *c } else { None })
                .collect(),
        )
    }

    fn search(&self, line: &[u8]) -> Search {
        let mut stack = vec![State {
            pc: 0,
            at: 0,
            captures: vec![None; self.slots.len()],
        }];
        let mut visited = Visited::new(self.insts.len(), line.len());
        let mut furthest = 0;
        while let Some(state) = stack.pop() {
            if !visited.insert(state.pc, state.at, self.live_captures(&state)) {
                continue;
            }
            if visited.count > MAX_STATES || visited.sparse.len() > MAX_CAPTURE_STATES {
                return Search::TooComplex(furthest);
            }
            let State { pc, at, captures } = state;
            let rest = &line[at..];
            let value = match &self.insts[pc] {
                Inst::Literal(bytes) => Some(*bytes),
                Inst::Var(slot) => self.slots[*slot]
                    .bound
                    .or_else(|| captures[*slot].map(|(from, to)| &line[from..to])),
                _ => None,
            };
            if let Some(expected) = value {
                let n = common_prefix(rest, expected);
                if n > 0 {
                    // Only octets a literal or variable matched count as progress: a
                    // wildcard reaching further says nothing about where the line
                    // went wrong.
                    furthest = furthest.max(at + n);
                }
                if n == expected.len() {
                    stack.push(State {
                        pc: pc + 1,
                        at: at + n,
                        captures,
                    });
                }
                continue;
            }
            match &self.insts[pc] {
                Inst::Var(slot) => {
                    let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
                    if len > 0 {
                        let mut captures = captures;
                        captures[*slot] = Some((at, at + len));
                        furthest = furthest.max(at + len);
                        stack.push(State {
                            pc: pc + 1,
                            at: at + len,
                            captures,
                        });
                    }
                }
                // A literal always has a value, handled above.
                Inst::Literal(_) => {}
                Inst::Any => {
                    if at < line.len() {
                        stack.push(State {
                            pc,
                            at: at + 1,
                            captures: captures.clone(),
                        });
                    }
                    stack.push(State {
                        pc: pc + 1,
                        at,
                        captures,
                    });
                }
                Inst::Fork(targets) => {
                    for &target in targets.iter().rev() {
                        stack.push(State {
                            pc: target,
                            at,
                            captures: captures.clone(),
                        });
                    }
                }
                Inst::Jump(target) => stack.push(State {
                    pc: *target,
                    at,
                    captures,
                }),
                Inst::Match if at == line.len() => {
                    let mut out = Vars::new();
                    for (slot, capture) in self.slots.iter().zip(&captures) {
                        if let (None, Some((from, to))) = (slot.bound, capture) {
                            out.insert(slot.name.to_owned(), line[*from..*to].to_vec());
                        }
                    }
                    return Search::Matched(out);
                }
                Inst::Match => furthest = furthest.max(at),
            }
        }
        Search::Failed(furthest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::content::parse_part;

    fn part(text: &str) -> Part {
        let chars: Vec<char> = text.chars().collect();
        parse_part(&chars, 0, 1).unwrap()
    }

    fn check(pattern: &str, line: &str) -> Result<Vars, Mismatch> {
        match_part(&part(pattern), line.as_bytes(), Ending::Crlf, &Vars::new())
    }

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn literals_are_case_insensitive() {
        assert_eq!(check("A1 OK done", "a1 ok DONE"), Ok(Vars::new()));
        let e = check("A1 OK {*}", "A1 BAD nope").unwrap_err();
        assert_eq!(e.offset, 3);
        assert_eq!(e.kind, MismatchKind::Content);
        assert_eq!(
            e.to_string(),
            "expected `A1 OK {*}`, seen `A1 BAD nope` (differs at octet 3)"
        );
        assert_eq!(check("A1 OK", "A1 OK more").unwrap_err().offset, 5);
        assert_eq!(check("A1 OK more", "A1 OK").unwrap_err().offset, 5);
    }

    #[test]
    fn wildcards() {
        assert!(check("{*}", "").is_ok());
        assert!(check("{*}", "anything at all").is_ok());
        assert!(
            check(
                "* {*} STARTTLS {*}",
                "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN"
            )
            .is_ok()
        );
        assert!(check("* {*} STARTTLS {*}", "* CAPABILITY IMAP4rev1 AUTH=PLAIN").is_err());
        assert_eq!(check("{*} OK", "A1 NO").unwrap_err().offset, 3);
    }

    #[test]
    fn variables_capture_up_to_a_space() {
        assert_eq!(
            check("{tag} OK {*}", "x17 OK done"),
            Ok(vars(&[("tag", "x17")]))
        );
        assert!(check("{tag} OK", " OK").is_err());
        assert_eq!(check("{tag}", "a b").unwrap_err().offset, 1);
        // A variable bound earlier in the line must repeat.
        assert!(check("{t} {t}", "a1 A1").is_ok());
        assert!(check("{t} {t}", "a1 a2").is_err());
        // Bound by the engine: matched literally, not captured again.
        let bound = vars(&[("tag", "A7")]);
        assert_eq!(
            match_part(&part("{tag} OK"), b"a7 OK", Ending::Crlf, &bound),
            Ok(Vars::new())
        );
        assert!(match_part(&part("{tag} OK"), b"A8 OK", Ending::Crlf, &bound).is_err());
    }

    #[test]
    fn alternatives_nest() {
        let p = "{A1 BAD {*}|A1 NO {*}}";
        assert!(check(p, "A1 BAD x").is_ok());
        assert!(check(p, "A1 NO x").is_ok());
        assert_eq!(check(p, "A1 OK x").unwrap_err().offset, 3);
        assert_eq!(check("{x|{y}} z", "q z"), Ok(vars(&[("y", "q")])));
        assert!(check("A{|B}C", "AC").is_ok());
        assert!(check("A{|B}C", "ABC").is_ok());
    }

    #[test]
    fn endings_must_agree() {
        let e = match_part(&part("A1 OK {*}"), b"A1 OK x", Ending::Lf, &Vars::new()).unwrap_err();
        assert_eq!(
            e.kind,
            MismatchKind::Ending {
                expected: Ending::Crlf,
                seen: Ending::Lf
            }
        );
        assert_eq!(
            e.to_string(),
            "expected `A1 OK {*}`, seen `A1 OK x` ended with a bare LF, not CRLF"
        );
        assert!(match_part(&part(r"X\n"), b"x", Ending::Lf, &Vars::new()).is_ok());
        assert!(match_part(&part("X<no-CRLF>"), b"x", Ending::None, &Vars::new()).is_ok());
    }

    #[test]
    fn many_wildcards_stay_polynomial() {
        let pattern = "{*}a".repeat(40) + "b";
        let line = "a".repeat(4000);
        let started = std::time::Instant::now();
        let e = check(&pattern, &line).unwrap_err();
        assert_eq!(e.kind, MismatchKind::Content);
        assert!(started.elapsed().as_secs() < 10);
    }

    #[test]
    fn reused_captures_after_wildcards_give_up_not_hang() {
        let pattern = "{*}{x}{*}{y}{*}{x}{*}{y}{*}z";
        let line = "a ".repeat(2000);
        let e = check(pattern, &line).unwrap_err();
        assert_eq!(e.kind, MismatchKind::TooComplex);
        assert!(e.to_string().starts_with("pattern `{*}{x}{*}{y}"));
        // Short lines are still decided.
        assert!(check(pattern, "p q p q z").is_ok());
        assert_eq!(
            check(pattern, "p q r s z").unwrap_err().kind,
            MismatchKind::Content
        );
    }

    #[test]
    fn rendering() {
        let v = vars(&[("user", "alice")]);
        assert_eq!(
            render_part(&part(r"A1 LOGIN {user} \x00x\n"), &v),
            Ok(b"A1 LOGIN alice \x00x\n".to_vec())
        );
        assert_eq!(
            render_part(&part("A2 NOOP<no-CRLF>"), &v),
            Ok(b"A2 NOOP".to_vec())
        );
        assert!(matches!(
            render_part(&part("{pw}"), &v),
            Err(RenderError::UnboundVar { name, .. }) if name == "pw"
        ));
        assert!(matches!(
            render_part(&part("x {*}"), &v),
            Err(RenderError::NotSendable { piece, .. }) if piece == "{*}"
        ));
    }

    #[test]
    fn next_tag_keeps_prefix_and_width() {
        for (tag, step, next) in [
            ("A001", "1", "A002"),
            ("a9", "1", "a10"),
            ("A0099", "2", "A0101"),
            ("7", "1", "8"),
        ] {
            let v = vars(&[("t1", tag)]);
            let line = format!("{{t1+{step}}} OK done");
            assert_eq!(
                render_part(&part(&line), &v),
                Ok(format!("{next} OK done\r\n").into_bytes()),
                "{tag}+{step}"
            );
        }
        // Matching uses the same prediction.
        let v = vars(&[("t1", "A001")]);
        assert!(match_part(&part("{t1+1} LOGIN {*}"), b"A002 LOGIN x", Ending::Crlf, &v).is_ok());
        assert!(match_part(&part("{t1+1} LOGIN {*}"), b"A003 LOGIN x", Ending::Crlf, &v).is_err());
    }

    #[test]
    fn next_tag_of_a_tag_without_a_number_is_an_error_not_a_guess() {
        let v = vars(&[("t1", "abc")]);
        let e = render_part(&part("{t1+1} OK"), &v).unwrap_err();
        assert!(matches!(&e, RenderError::CannotPredict { name, .. } if name == "t1+1"));
        assert_eq!(
            e.to_string(),
            "cannot predict the next tag for `{t1+1}`: `abc` does not end in a number"
        );
    }
}
