//! The matrix for people (text abridged to a width) and for machines (JSON, the shape
//! documented in docs/architecture.md, "Requirement coverage").

use super::data::{Level, Role};
use super::matrix::{CatalogueStatus, Matrix, Row, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `schema` field of the JSON document; bumped when a field changes meaning.
pub const SCHEMA: &str = "mailtls-coverage/1";

/// Shortens `text` to `width` characters, marking the cut with `…`.
fn abridge(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Breaks `text` at spaces into lines of at most `width` characters (a word longer than
/// that stays whole), every line after the first indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    // Whether the current line holds a word yet (it may hold the indent).
    let mut started = false;
    for word in text.split(' ') {
        if started && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_owned();
            started = false;
        }
        if started {
            line.push(' ');
        }
        line.push_str(word);
        started = true;
    }
    out.push_str(&line);
    out
}

fn roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(",")
}

/// Sentences and levels counted per source, in first-seen order of the sources.
fn counts_by_source(matrix: &Matrix) -> Vec<(String, BTreeMap<Level, usize>)> {
    let mut out: Vec<(String, BTreeMap<Level, usize>)> = Vec::new();
    for row in &matrix.rows {
        let source = &row.sentence.source;
        let at = match out.iter().position(|(s, _)| s == source) {
            Some(at) => at,
            None => {
                out.push((source.clone(), BTreeMap::new()));
                out.len() - 1
            }
        };
        *out[at].1.entry(row.sentence.level).or_default() += 1;
    }
    out
}

fn count(matrix: &Matrix, status: Status) -> usize {
    matrix.rows.iter().filter(|r| r.status == status).count()
}

fn catalogue_count(matrix: &Matrix, status: CatalogueStatus) -> usize {
    matrix
        .catalogue
        .iter()
        .filter(|r| r.status == status)
        .count()
}

/// The one-line summary that closes the text report.
pub fn summary_line(matrix: &Matrix) -> String {
    let sources = counts_by_source(matrix)
        .iter()
        .map(|(s, levels)| format!("{s}: {}", levels.values().sum::<usize>()))
        .collect::<Vec<_>>()
        .join(", ");
    let obsolete = matrix.rows.iter().filter(|r| r.sentence.obsolete).count();
    let mut line = format!(
        "coverage: {} sentences ({sources}): {} tested, {} gaps, {} untested, {obsolete} obsolete; catalogue: {} ids: {} implemented, {} MANUAL, {} missing; ",
        matrix.rows.len(),
        count(matrix, Status::Tested),
        count(matrix, Status::Gap),
        count(matrix, Status::Untested),
        matrix.catalogue.len(),
        catalogue_count(matrix, CatalogueStatus::Implemented),
        catalogue_count(matrix, CatalogueStatus::Manual),
        catalogue_count(matrix, CatalogueStatus::Missing),
    );
    match matrix.problems.len() {
        0 => line.push_str("data consistent"),
        n => {
            let _ = write!(line, "{n} problems");
        }
    }
    line
}

/// The report for a terminal `width` columns wide: the sentences grouped by source and
/// section, then the catalogue, then the problems and the summary line.
pub fn text(matrix: &Matrix, width: usize) -> String {
    let width = width.max(60);
    let mut out = String::new();
    let mut source = None;
    let mut clause = None;
    for row in &matrix.rows {
        let s = &row.sentence;
        if source != Some(&s.source) {
            if source.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", s.source);
            source = Some(&s.source);
            clause = None;
        }
        let this = s.clause();
        if clause.as_ref() != Some(&this) {
            let _ = writeln!(out, "  §{} {}", s.section, row.section_title);
            clause = Some(this);
        }
        sentence(&mut out, row, width);
    }
    out.push('\n');
    catalogue(&mut out, matrix, width);
    if !matrix.problems.is_empty() {
        let _ = writeln!(
            out,
            "\nProblems (the data file and the scenarios disagree):"
        );
        for p in &matrix.problems {
            let _ = writeln!(out, "{}", wrap(&format!("  ✘ {p}"), width, "    "));
        }
    }
    out.push('\n');
    for (source, levels) in counts_by_source(matrix) {
        let levels = levels
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "{}", wrap(&format!("{source}: {levels}"), width, "  "));
    }
    // One line whatever the width: scripts grep it.
    let _ = writeln!(out, "{}", summary_line(matrix));
    out
}

fn sentence(out: &mut String, row: &Row, width: usize) {
    let s = &row.sentence;
    const INDENT: &str = "      ";
    let head = format!(
        "    {:<11} {:<14} {}",
        s.level.label(),
        roles(&s.roles),
        s.id
    );
    let _ = writeln!(out, "{}", abridge(&head, width));
    let quoted = format!("{INDENT}\"{}\"", s.text);
    let _ = writeln!(out, "{}", abridge(&quoted, width));
    if let Some(focus) = &s.focus {
        let _ = writeln!(
            out,
            "{}",
            abridge(&format!("{INDENT}focus: {focus}"), width)
        );
    }
    if s.obsolete {
        let by = s
            .superseded_by
            .iter()
            .map(|r| r.rfc.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "{}",
            abridge(&format!("{INDENT}OBSOLETE: retired by {by}"), width)
        );
    } else if !s.superseded_by.is_empty() {
        let by = s
            .superseded_by
            .iter()
            .map(|r| r.rfc.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "{}",
            abridge(&format!("{INDENT}changed by {by}"), width)
        );
    }
    if !s.readings.is_empty() {
        let readings = s
            .readings
            .iter()
            .map(|r| format!("{} {} ({})", r.by, r.level, r.rules))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            out,
            "{}",
            abridge(&format!("{INDENT}readings: {readings}"), width)
        );
    }
    match row.status {
        Status::Tested => {
            let ids = row
                .scenarios
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>();
            let noun = match (s.obsolete, ids.len()) {
                (true, _) => "scenarios report it (INFO, never FAIL)",
                (false, 1) => "scenario",
                (false, _) => "scenarios",
            };
            let untested = if row.roles_untested.is_empty() {
                String::new()
            } else {
                format!(" ({} untested)", roles(&row.roles_untested))
            };
            let line = format!(
                "{INDENT}✔ {} {noun}{untested}: {}",
                ids.len(),
                ids.join(", ")
            );
            let _ = writeln!(out, "{}", abridge(&line, width));
            if let Some(gap) = &s.gap {
                let _ = writeln!(out, "{}", abridge(&format!("{INDENT}gap: {gap}"), width));
            }
        }
        Status::Gap => {
            let gap = s.gap.as_deref().unwrap_or_default();
            let label = if s.obsolete {
                "not judged"
            } else {
                "✘ NO SCENARIO"
            };
            let _ = writeln!(
                out,
                "{}",
                abridge(&format!("{INDENT}{label}: {gap}"), width)
            );
        }
        Status::Untested => {
            let _ = writeln!(
                out,
                "{}",
                abridge(
                    &format!("{INDENT}✘ NO SCENARIO and no gap reason (a problem)"),
                    width
                )
            );
        }
    }
    for id in &row.missing {
        let _ = writeln!(
            out,
            "{}",
            abridge(
                &format!("{INDENT}✘ names `{id}`, which is not a built-in scenario"),
                width
            )
        );
    }
}

fn catalogue(out: &mut String, matrix: &Matrix, width: usize) {
    let _ = writeln!(
        out,
        "Catalogue (starttls-catalogue.md §4): {} ids: {} implemented, {} MANUAL, {} missing",
        matrix.catalogue.len(),
        catalogue_count(matrix, CatalogueStatus::Implemented),
        catalogue_count(matrix, CatalogueStatus::Manual),
        catalogue_count(matrix, CatalogueStatus::Missing),
    );
    let mut section = None;
    for row in &matrix.catalogue {
        if section != Some(&row.section) {
            let in_section: Vec<_> = matrix
                .catalogue
                .iter()
                .filter(|r| r.section == row.section)
                .collect();
            let done = in_section
                .iter()
                .filter(|r| r.status != CatalogueStatus::Missing)
                .count();
            let _ = writeln!(
                out,
                "  §{} {}: {done} of {}",
                row.section,
                row.section_title,
                in_section.len()
            );
            section = Some(&row.section);
        }
        let others: Vec<&str> = row
            .scenarios
            .iter()
            .filter(|id| **id != row.id)
            .map(String::as_str)
            .collect();
        let by = if others.is_empty() {
            String::new()
        } else {
            format!("  <- {}", others.join(", "))
        };
        let line = match row.status {
            CatalogueStatus::Implemented => format!("    ✔ {}{by}", row.id),
            CatalogueStatus::Manual => format!("    ? {} MANUAL{by}", row.id),
            CatalogueStatus::Missing => match &row.manual {
                Some(_) => format!("    ✘ {} missing (a MANUAL test)", row.id),
                None => format!("    ✘ {} missing", row.id),
            },
        };
        let _ = writeln!(out, "{}", abridge(&line, width));
    }
}

/// The matrix as one JSON document (`schema` = [`SCHEMA`]).
pub fn json(matrix: &Matrix) -> Value {
    let sentences: Vec<Value> = matrix.rows.iter().map(sentence_json).collect();
    let catalogue: Vec<Value> = matrix
        .catalogue
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "section": r.section,
                "section_title": r.section_title,
                "status": r.status.label(),
                "scenarios": r.scenarios,
                "manual": r.manual,
            })
        })
        .collect();
    let by_source: serde_json::Map<String, Value> = counts_by_source(matrix)
        .into_iter()
        .map(|(source, levels)| {
            let total: usize = levels.values().sum();
            let levels: serde_json::Map<String, Value> = levels
                .into_iter()
                .map(|(l, n)| (l.label().to_owned(), Value::from(n)))
                .collect();
            (source, json!({ "sentences": total, "levels": levels }))
        })
        .collect();
    let problems: Vec<Value> = matrix
        .problems
        .iter()
        .map(|p| json!({ "kind": p.kind(), "message": p.to_string() }))
        .collect();
    json!({
        "schema": SCHEMA,
        "consistent": matrix.is_consistent(),
        "sentences": sentences,
        "catalogue": catalogue,
        "problems": problems,
        "summary": {
            "sentences": matrix.rows.len(),
            "tested": count(matrix, Status::Tested),
            "gaps": count(matrix, Status::Gap),
            "untested": count(matrix, Status::Untested),
            "obsolete": matrix.rows.iter().filter(|r| r.sentence.obsolete).count(),
            "by_source": by_source,
            "catalogue": {
                "ids": matrix.catalogue.len(),
                "implemented": catalogue_count(matrix, CatalogueStatus::Implemented),
                "manual": catalogue_count(matrix, CatalogueStatus::Manual),
                "missing": catalogue_count(matrix, CatalogueStatus::Missing),
            },
            "problems": matrix.problems.len(),
        },
    })
}

fn sentence_json(row: &Row) -> Value {
    let s = &row.sentence;
    let scenarios: Vec<Value> = row
        .scenarios
        .iter()
        .map(|(id, r)| json!({ "id": id, "roles": r }))
        .collect();
    json!({
        "id": s.id,
        "source": s.source,
        "section": s.section,
        "section_title": row.section_title,
        "clause": s.clause(),
        "level": s.level,
        "focus": s.focus,
        "roles": s.roles,
        "text": s.text,
        "seed": s.seed,
        "status": row.status.label(),
        "scenarios": scenarios,
        "missing_scenarios": row.missing,
        "cited_by": s.cited_by,
        "roles_untested": row.roles_untested,
        "gap": s.gap,
        "obsolete": s.obsolete,
        "superseded_by": s.superseded_by,
        "readings": s.readings,
        "note": s.note,
    })
}

#[cfg(test)]
mod tests {
    use super::{abridge, wrap};

    #[test]
    fn wrapping_breaks_at_spaces_and_indents() {
        assert_eq!(wrap("aa bb cc dd", 5, "  "), "aa bb\n  cc\n  dd");
        assert_eq!(wrap("short", 80, "  "), "short");
        assert_eq!(wrap("longword x", 4, " "), "longword\n x");
    }

    #[test]
    fn abridging_marks_the_cut_and_keeps_short_text() {
        assert_eq!(abridge("short", 10), "short");
        assert_eq!(abridge("0123456789abc", 10), "012345678…");
        assert_eq!(abridge("0123456789abc", 10).chars().count(), 10);
    }
}
