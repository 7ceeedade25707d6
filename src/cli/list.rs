//! `mailtls list`: the scenarios (id, level, roles, transport, clause) or the reference
//! servers' fault switches.

use super::Outcome;
use super::output::Format;
use clap::Args;
use mailtls::engine::outcome::level_label;
use mailtls::model::{Party, Transport};
use mailtls::peers::Fault;
use mailtls::runner::load;
use std::io::Write;
use std::path::PathBuf;

/// `mailtls list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// List the fault switches of the reference servers instead (--reference-fault).
    #[arg(long)]
    faults: bool,
    /// List the scenarios in this file or directory instead of the built-in ones.
    #[arg(long, value_name = "PATH")]
    scenarios: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub(crate) fn run(args: &ListArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if args.faults {
        return faults(args.format, out);
    }
    let scenarios = match &args.scenarios {
        Some(path) => load::from_path(path)?,
        None => load::builtin()?,
    };
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
                    "{:<60} {:<10} {:<14} {}",
                    m.id,
                    level_label(m.level),
                    roles.join(","),
                    clause
                )?;
            }
            writeln!(out, "{} scenarios", scenarios.len())?;
        }
    }
    Ok(Outcome::Expected)
}

fn faults(format: Format, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = Fault::ALL
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "id": f.id(),
                        "description": f.description(),
                        "protocols": f.protocols().iter().map(|p| p.to_string().to_lowercase()).collect::<Vec<_>>(),
                        "catalogue": f.catalogue_ids(),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::Value::from(rows))?;
        }
        Format::Text => {
            for f in Fault::ALL {
                writeln!(out, "{:<36} {}", f.id(), f.description())?;
            }
        }
    }
    Ok(Outcome::Expected)
}
