//! The octets received but not yet consumed, split into lines on demand: sans-IO, so the
//! framing rules (LF ends a line, CR before it is part of the terminator, a line over the
//! limit is refused without buffering it) are unit-tested without sockets.

use std::collections::VecDeque;

/// How a received line ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    /// `\r\n`.
    Crlf,
    /// A bare `\n`.
    Lf,
    /// No terminator: a received line the peer closed the connection after, or a
    /// scenario line written with `<no-CRLF>`.
    None,
}

impl Ending {
    /// The octets of the terminator.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Self::Crlf => b"\r\n",
            Self::Lf => b"\n",
            Self::None => b"",
        }
    }
}

/// One line taken from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TakenLine {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ending: Ending,
    pub(crate) entry: usize,
}

/// What [`Input::take_line`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// A complete line.
    Line(TakenLine),
    /// A line longer than the limit; its octets were dropped (the rest of it, still to
    /// come, is skipped up to its LF).
    TooLong,
    /// No complete line yet.
    NeedMore,
}

/// Received octets not yet handed to the caller, and which transcript entry carried each.
#[derive(Debug, Default)]
pub(crate) struct Input {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// (stream offset of a chunk's first octet, transcript entry), oldest first.
    chunks: VecDeque<(u64, usize)>,
    /// Skipping the tail of a line that was too long.
    discarding: bool,
}

impl Input {
    /// Appends a chunk that transcript entry `entry` recorded.
    pub(crate) fn push(&mut self, bytes: &[u8], entry: usize) {
        if bytes.is_empty() {
            return;
        }
        self.chunks.push_back((self.end(), entry));
        self.buf.extend_from_slice(bytes);
    }

    fn end(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Octets buffered and not consumed.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// The transcript entry that carried the first buffered octet.
    pub(crate) fn first_entry(&self) -> Option<usize> {
        (!self.buf.is_empty()).then(|| self.entry_at(self.base))
    }

    /// The transcript entry that carried the octet at stream offset `offset`.
    fn entry_at(&self, offset: u64) -> usize {
        self.chunks
            .iter()
            .take_while(|(start, _)| *start <= offset)
            .last()
            .map_or(0, |(_, entry)| *entry)
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
        self.base += n as u64;
        while self.chunks.len() >= 2 && self.chunks[1].0 <= self.base {
            self.chunks.pop_front();
        }
        if self.buf.is_empty() {
            self.chunks.clear();
        }
    }

    /// The next complete line, if any; lines whose content exceeds `max_line` octets are
    /// refused as soon as that many octets arrived without a LF.
    pub(crate) fn take_line(&mut self, max_line: usize) -> Take {
        if self.discarding {
            match self.buf.iter().position(|&b| b == b'\n') {
                Some(lf) => {
                    self.consume(lf + 1);
                    self.discarding = false;
                }
                None => {
                    self.consume(self.buf.len());
                    return Take::NeedMore;
                }
            }
        }
        let Some(lf) = self.buf.iter().position(|&b| b == b'\n') else {
            // Content of max_line octets may still be followed by CR LF.
            if self.buf.len() > max_line.saturating_add(1) {
                self.consume(self.buf.len());
                self.discarding = true;
                return Take::TooLong;
            }
            return Take::NeedMore;
        };
        let (content, ending) = match lf.checked_sub(1) {
            Some(cr) if self.buf[cr] == b'\r' => (cr, Ending::Crlf),
            _ => (lf, Ending::Lf),
        };
        if content > max_line {
            self.consume(lf + 1);
            return Take::TooLong;
        }
        let line = TakenLine {
            bytes: self.buf[..content].to_vec(),
            ending,
            entry: self.entry_at(self.base),
        };
        self.consume(lf + 1);
        Take::Line(line)
    }

    /// Everything left, as a line without terminator (at end of stream).
    pub(crate) fn take_rest(&mut self) -> Option<TakenLine> {
        if self.buf.is_empty() {
            return None;
        }
        let line = TakenLine {
            bytes: self.buf.clone(),
            ending: Ending::None,
            entry: self.entry_at(self.base),
        };
        self.consume(self.buf.len());
        Some(line)
    }

    /// Everything buffered, raw; line framing starts afresh afterwards.
    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        self.discarding = false;
        let all = std::mem::take(&mut self.buf);
        self.base += all.len() as u64;
        self.chunks.clear();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(bytes: &[u8], ending: Ending, entry: usize) -> Take {
        Take::Line(TakenLine {
            bytes: bytes.to_vec(),
            ending,
            entry,
        })
    }

    #[test]
    fn lines_end_at_lf_and_remember_their_first_chunk() {
        let mut input = Input::default();
        input.push(b"A1 OK\r\nA2 ", 3);
        input.push(b"NO\nrest", 5);
        assert_eq!(input.take_line(100), line(b"A1 OK", Ending::Crlf, 3));
        assert_eq!(input.take_line(100), line(b"A2 NO", Ending::Lf, 3));
        assert_eq!(input.take_line(100), Take::NeedMore);
        assert_eq!(
            input.take_rest(),
            Some(TakenLine {
                bytes: b"rest".to_vec(),
                ending: Ending::None,
                entry: 5
            })
        );
        assert_eq!(input.take_rest(), None);
    }

    #[test]
    fn a_lone_cr_is_content() {
        let mut input = Input::default();
        input.push(b"a\rb\r\r\n", 0);
        assert_eq!(input.take_line(100), line(b"a\rb\r", Ending::Crlf, 0));
    }

    #[test]
    fn the_limit_counts_content_not_terminator() {
        let mut input = Input::default();
        input.push(b"abcd\r", 0);
        assert_eq!(input.take_line(4), Take::NeedMore);
        input.push(b"\n", 1);
        assert_eq!(input.take_line(4), line(b"abcd", Ending::Crlf, 0));
        input.push(b"abcde\n", 2);
        assert_eq!(input.take_line(4), Take::TooLong);
    }

    #[test]
    fn a_long_line_is_refused_early_and_its_tail_skipped() {
        let mut input = Input::default();
        input.push(b"0123456", 0);
        assert_eq!(input.take_line(4), Take::TooLong);
        assert!(input.pending().is_empty());
        input.push(b"789", 1);
        assert_eq!(input.take_line(4), Take::NeedMore);
        assert!(input.pending().is_empty());
        input.push(b"end\r\nok\r\n", 2);
        assert_eq!(input.take_line(4), line(b"ok", Ending::Crlf, 2));
    }

    #[test]
    fn take_all_hands_over_everything() {
        let mut input = Input::default();
        assert_eq!(input.first_entry(), None);
        input.push(b"* injected\r\n\x16\x03", 7);
        assert_eq!(input.first_entry(), Some(7));
        assert_eq!(input.take_all(), b"* injected\r\n\x16\x03");
        input.push(b"x\n", 8);
        assert_eq!(input.take_line(10), line(b"x", Ending::Lf, 8));
    }
}
