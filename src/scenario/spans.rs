//! Span helpers over the AST: the span of any piece or step, and a copy of a scenario
//! with every span cleared, for comparing two parses of differently laid-out text.

use crate::scenario::ast::{Line, Part, Piece, Scenario, Span, Step};

impl Piece {
    /// Where the piece is written.
    pub fn span(&self) -> Span {
        match self {
            Self::Literal(_, span) | Self::Any(span) | Self::Var(_, span) => *span,
            Self::Alternatives(_, span) => *span,
        }
    }

    fn without_spans(&self) -> Self {
        match self {
            Self::Literal(bytes, _) => Self::Literal(bytes.clone(), Span::default()),
            Self::Any(_) => Self::Any(Span::default()),
            Self::Var(name, _) => Self::Var(name.clone(), Span::default()),
            Self::Alternatives(alternatives, _) => Self::Alternatives(
                alternatives
                    .iter()
                    .map(|pieces| pieces.iter().map(Self::without_spans).collect())
                    .collect(),
                Span::default(),
            ),
        }
    }
}

impl Part {
    fn without_spans(&self) -> Self {
        Self {
            pieces: self.pieces.iter().map(Piece::without_spans).collect(),
            ending: self.ending,
            span: Span::default(),
        }
    }
}

impl Line {
    fn without_spans(&self) -> Self {
        Self {
            sender: self.sender,
            expectation: self.expectation,
            parts: self.parts.iter().map(Part::without_spans).collect(),
        }
    }
}

impl Step {
    /// Where the step starts: its first line, or the directive's line.
    pub fn span(&self) -> Span {
        match self {
            Self::Line(line) => line.span(),
            Self::Unordered(_, span) | Self::Directive(_, span) => *span,
        }
    }

    fn without_spans(&self) -> Self {
        match self {
            Self::Line(line) => Self::Line(line.without_spans()),
            Self::Unordered(lines, _) => Self::Unordered(
                lines.iter().map(Line::without_spans).collect(),
                Span::default(),
            ),
            Self::Directive(directive, _) => Self::Directive(directive.clone(), Span::default()),
        }
    }
}

impl Scenario {
    /// The same scenario with every [`Span`] set to the default: two parses of the same
    /// scenario laid out differently (comments, blank lines, key order) compare equal.
    pub fn without_spans(&self) -> Self {
        let mut meta = self.meta.clone();
        meta.span = Span::default();
        Self {
            meta,
            steps: self.steps.iter().map(Step::without_spans).collect(),
        }
    }
}
