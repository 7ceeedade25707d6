//! `mailtls list`: the scenarios (id, level, roles, transport, clause), the reference
//! servers' fault switches, or the requirement coverage matrix (`--coverage`).

use super::Outcome;
use super::output::Format;
use clap::Args;
use mailtls::coverage::{self, Matrix, ScenarioView};
use mailtls::engine::outcome::level_label;
use mailtls::model::{Party, Transport};
use mailtls::peers::{ClientFault, Fault};
use mailtls::runner::load;
use std::io::Write;
use std::path::PathBuf;

/// `mailtls list`.
#[derive(Debug, Args)]
#[command(after_help = LIST_HELP)]
pub(crate) struct ListArgs {
    /// List the fault switches of the reference servers instead (--reference-fault).
    #[arg(long, conflicts_with_all = ["coverage", "client_faults"])]
    faults: bool,
    /// List the fault switches of the reference client instead
    /// (--reference-client-fault).
    #[arg(long, conflicts_with = "coverage")]
    client_faults: bool,
    /// Print the requirement coverage matrix instead: every key-word sentence of RFC 2595
    /// §2–6 and of the POP3S draft, the scenarios that test it (or why none does), then
    /// the catalogue ids implemented, MANUAL and missing. Exit 1 if the data file and the
    /// scenarios disagree.
    #[arg(long)]
    coverage: bool,
    /// List the scenarios in this file or directory instead of the built-in ones (with
    /// --coverage: read the coverage data against them).
    #[arg(long, value_name = "PATH")]
    scenarios: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

const LIST_HELP: &str = "\
Examples:
  mailtls list                          # id, level, roles, first clause of every scenario;
                                        # MANUAL ones with what to check by hand
  mailtls list --format json            # the same with title, protocol, transport, CVEs, file
  mailtls list --faults                 # the reference servers' fault switches
  mailtls list --client-faults          # the reference client's fault switches
  mailtls list --coverage               # sentence -> scenarios matrix, gaps, catalogue coverage
  mailtls list --coverage --format json | jq '.sentences[] | select(.status != \"tested\") | .id'

--coverage reads scenarios/coverage.toml (compiled in). Each sentence shows its level, the
roles it binds, its id, the sentence abridged to the terminal ($COLUMNS, else 100), what
later RFCs changed, and either the scenarios that test it or `✘ NO SCENARIO: <why>`. The
RFC 2595 §2.1 cipher suite is shown as OBSOLETE with the RFCs that retired it. The last
line counts sentences, gaps and catalogue ids; `consistent` in the JSON (and exit 0) means
every scenario the data names exists and every scenario quoting a listed sentence is
mapped to it.";

pub(crate) fn run(args: &ListArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if args.faults || args.client_faults {
        return faults(args.client_faults, args.format, out);
    }
    let scenarios = match &args.scenarios {
        Some(path) => load::from_path(path)?,
        None => load::builtin()?,
    };
    if args.coverage {
        return coverage_matrix(&scenarios, args.format, out);
    }
    let rows: Vec<serde_json::Value> = scenarios
        .iter()
        .map(|l| {
            let m = &l.scenario.meta;
            serde_json::json!({
                "id": m.id,
                "title": m.title,
                "protocol": m.protocol.to_string().to_lowercase(),
                "roles": m.roles.iter().map(|r| match r { Party::Server => "server", Party::Client => "client" }).collect::<Vec<_>>(),
                "transport": match m.transport { Transport::Starttls => "starttls", Transport::Implicit => "implicit" },
                "level": level_label(m.level),
                "clauses": m.clauses.iter().map(|c| c.reference.clone()).collect::<Vec<_>>(),
                "cves": m.cves,
                "catalogue": m.catalogue,
                "manual": m.manual,
                "file": l.source.file,
            })
        })
        .collect();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::Value::from(rows))?,
        Format::Text => {
            for l in &scenarios {
                let m = &l.scenario.meta;
                let roles: Vec<String> = m.roles.iter().map(|r| r.to_string()).collect();
                let clause = m.clauses.first().map_or("", |c| c.reference.as_str());
                writeln!(
                    out,
                    "{:<60} {:<10} {:<14} {}{}",
                    m.id,
                    level_label(m.level),
                    roles.join(","),
                    clause,
                    if m.manual.is_empty() { "" } else { "  MANUAL" }
                )?;
                // What a person must look at, right under a MANUAL scenario.
                for look_for in &m.manual {
                    writeln!(out, "    check by hand: {look_for}")?;
                }
            }
            let manual = scenarios
                .iter()
                .filter(|l| !l.scenario.meta.manual.is_empty())
                .count();
            writeln!(
                out,
                "{} scenarios ({manual} MANUAL: the wire is judged, the rest needs a person)",
                scenarios.len()
            )?;
        }
    }
    Ok(Outcome::Expected)
}

/// The coverage matrix of the compiled-in data file against `scenarios`.
fn coverage_matrix(
    scenarios: &[mailtls::runner::Loaded],
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let data = coverage::builtin()?;
    let views: Vec<ScenarioView> = scenarios.iter().map(ScenarioView::of).collect();
    let matrix = Matrix::build(&data, &views);
    match format {
        Format::Json => writeln!(out, "{}", coverage::render::json(&matrix))?,
        Format::Text => write!(out, "{}", coverage::render::text(&matrix, terminal_width()))?,
    }
    Ok(if matrix.is_consistent() {
        Outcome::Expected
    } else {
        Outcome::Verdict
    })
}

/// `$COLUMNS` when the shell exports it, else 100 (the report is read in terminals and
/// in CI logs alike).
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c >= 40)
        .unwrap_or(100)
}

/// One fault switch as `list --faults` / `--client-faults` shows it.
struct FaultRow {
    id: &'static str,
    description: &'static str,
    protocols: Vec<String>,
    catalogue: &'static [&'static str],
}

fn fault_rows(client: bool) -> Vec<FaultRow> {
    let row = |id, description, protocols: &[mailtls::model::Protocol], catalogue| FaultRow {
        id,
        description,
        protocols: protocols
            .iter()
            .map(|p| p.to_string().to_lowercase())
            .collect(),
        catalogue,
    };
    if client {
        let row = |f: &ClientFault| row(f.id(), f.description(), f.protocols(), f.catalogue_ids());
        ClientFault::ALL.iter().map(row).collect()
    } else {
        let row = |f: &Fault| row(f.id(), f.description(), f.protocols(), f.catalogue_ids());
        Fault::ALL.iter().map(row).collect()
    }
}

fn faults(client: bool, format: Format, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let rows = fault_rows(client);
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f.id,
                        "description": f.description,
                        "protocols": f.protocols,
                        "catalogue": f.catalogue,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::Value::from(rows))?;
        }
        Format::Text => {
            for f in &rows {
                writeln!(out, "{:<36} {}", f.id, f.description)?;
            }
        }
    }
    Ok(Outcome::Expected)
}
