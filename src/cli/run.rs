//! `mailtls run` and `mailtls replay`: scenarios against servers (or the built-in
//! reference), reported as text, JSON, JUnit or Markdown.

use super::Outcome;
use super::client::{self, ClientArgs};
use anyhow::{Context, bail};
use base64::Engine as _;
use clap::Args;
use mailtls::engine::outcome::Run;
use mailtls::engine::{Judging, Target, identity};
use mailtls::model::{Party, Protocol, Transport};
use mailtls::peers::Fault;
use mailtls::report::{self, Format, Progress, RenderOptions};
use mailtls::runner::expect::Expectations;
use mailtls::runner::reference::{self, REFERENCE_NAME};
use mailtls::runner::select::{LevelFilter, Selection};
use mailtls::runner::target::ServerUrl;
use mailtls::runner::{self, Loaded, RunTarget, load};
use mailtls::tls::{ClientTls, ClientTrust, load_ca_file};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Which server, as whom, and how to trust it.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// The server to test: imap://, imaps://, pop3://, pop3s:// or acap://HOST[:PORT]
    /// (repeatable: e.g. the STARTTLS and the implicit-TLS port of one server). Without
    /// it (and without --client), mailtls runs the whole catalogue against its built-in
    /// reference peers on 127.0.0.1: the servers, and the client for every client-role
    /// scenario.
    #[arg(long, value_name = "URL")]
    server: Vec<String>,
    /// The account to log in with, where a scenario logs in.
    #[arg(long, default_value = "alice")]
    user: String,
    /// Its password (visible in `ps`: prefer --password-env).
    #[arg(long, conflicts_with = "password_env")]
    password: Option<String>,
    /// The environment variable that holds the password.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// The name to expect in the server's certificate and to send as SNI (default: the
    /// URL's host).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// PEM file of the CA(s) to trust (default: the system's trust store).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Go on when the certificate chain is not trusted (recorded, not fatal).
    #[arg(long)]
    insecure: bool,
    /// PEM file of the client certificate (chain, leaf first) that scenarios with
    /// `[tls client-cert]` present; without it they are N/A for --server targets.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// What the server is configured to do, as KEY=VALUE (repeatable). Scenarios that
    /// assume another profile are N/A. Known keys: cleartext-auth=refused|allowed
    /// (default refused: LOGIN/USER/PLAIN only after TLS), client-cert=off|optional
    /// (default off; optional: the server accepts client certificates for
    /// authentication; give --client-cert), tls-only-user=NAME (an account, with the
    /// --user password, that may log in only over TLS).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    server_profile: Vec<(String, String)>,
    /// The reference servers get this defect (repeatable; see `mailtls list --faults`).
    /// Shows what a FAIL looks like. Only without --server.
    #[arg(long, value_name = "FAULT", conflicts_with = "server")]
    reference_fault: Vec<Fault>,
    /// How long one read may wait (e.g. 500ms, 5s).
    #[arg(long, default_value = "5s", value_parser = mailtls::scenario::parse_duration)]
    timeout: Duration,
}

/// Which scenarios, and how verdicts are decided.
#[derive(Debug, Args)]
pub(crate) struct SelectArgs {
    /// Only scenarios whose id matches this glob (repeatable), e.g. 'imap.server.starttls.*'.
    #[arg(long, value_name = "GLOB")]
    only: Vec<String>,
    /// Leave out scenarios whose id matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    skip: Vec<String>,
    /// The deepest requirement level to run: MUST (with MUST NOT and SECURITY), SHOULD, MAY.
    #[arg(long, value_enum, default_value = "MAY")]
    level: LevelFilter,
    /// Known failures with reasons (TOML); an expected failure that passes fails the run.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// SHOULD-level breaks fail the run instead of warning.
    #[arg(long)]
    strict: bool,
    /// Scenarios run at once (default: twice the number of cores, at least 4: scenarios
    /// mostly wait — silence windows, a server's delay after a failed login — so more
    /// run side by side than there are cores). Lower it for a server that limits
    /// connections per client.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

/// Where the report goes.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Show passwords and PLAIN blobs in transcripts (masked by default).
    #[arg(long)]
    show_secrets: bool,
    /// Transcripts of passing scenarios too, and timestamps.
    #[arg(long, short)]
    verbose: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// `mailtls run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    report: ReportArgs,
    /// Run the scenarios in this file or directory instead of the built-in ones.
    #[arg(long, value_name = "PATH")]
    scenarios: Option<PathBuf>,
}

/// `mailtls replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The scenario file (.scn), e.g. one attached to a bug report.
    file: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    report: ReportArgs,
    /// SHOULD-level breaks fail instead of warning.
    #[arg(long)]
    strict: bool,
}

pub(crate) fn run(args: &RunArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let all = match &args.scenarios {
        Some(path) => load::from_path(path)?,
        None => load::builtin()?,
    };
    let expectations = match &args.select.expect {
        Some(path) => Expectations::load(path)?,
        None => Expectations::default(),
    };
    let mut known: Vec<String> = all.iter().map(|l| l.scenario.meta.id.clone()).collect();
    for protocol in Protocol::ALL {
        for transport in [Transport::Starttls, Transport::Implicit] {
            known.extend(identity::check_ids(protocol, transport));
        }
    }
    if let Some(id) = expectations.unknown_ids(&known).next() {
        bail!(
            "{}: `{id}` is not a scenario id (see `mailtls list`)",
            display(&args.select.expect)
        );
    }
    let selection = Selection::new(&args.select.only, &args.select.skip, args.select.level)?;
    let scenarios = selection.apply(all);
    let plan = Plan {
        scenarios: &scenarios,
        expectations: &expectations,
        strict: args.select.strict,
        jobs: args.select.jobs,
        identity_checks: Some(&selection),
    };
    execute(&plan, &args.target, &args.client, &args.report, out)
}

pub(crate) fn replay(args: &ReplayArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let scenarios = load::from_path(&args.file)?;
    let plan = Plan {
        scenarios: &scenarios,
        expectations: &Expectations::default(),
        strict: args.strict,
        jobs: None,
        identity_checks: None,
    };
    execute(&plan, &args.target, &args.client, &args.report, out)
}

fn display(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// What one `run` or `replay` does, beyond the target and report options.
struct Plan<'a> {
    scenarios: &'a [Loaded],
    expectations: &'a Expectations,
    strict: bool,
    jobs: Option<usize>,
    /// Run the identity and chain checks too, filtered by this selection.
    identity_checks: Option<&'a Selection>,
}

fn execute(
    plan: &Plan<'_>,
    target_args: &TargetArgs,
    client_args: &ClientArgs,
    report_args: &ReportArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let Plan {
        scenarios,
        expectations,
        strict,
        jobs,
        identity_checks,
    } = *plan;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let jobs = jobs.unwrap_or_else(default_jobs);
    let password = password(target_args)?;
    let run = runtime.block_on(async {
        let started = Instant::now();
        if client_args.client.is_some() {
            let judging = judging(
                &target_args.user,
                &password,
                client_args.name(),
                strict,
                report_args.show_secrets,
            );
            let progress = Progress::new(
                scenarios.len() as u64,
                Progress::should_show(report_args.quiet),
            );
            let done = client::run(
                client_args,
                scenarios,
                &judging,
                target_args.timeout,
                jobs,
                &|o| progress.inc(&o.id, o.verdict),
            )
            .await?;
            progress.finish();
            return Ok(runner::finish(
                done.label,
                done.outcomes,
                expectations,
                strict,
                started.elapsed(),
            ));
        }
        // No target at all: the whole catalogue, server role and client role, against the
        // built-in reference peers.
        let both_roles = target_args.server.is_empty();
        let (targets, label, _servers) = if target_args.server.is_empty() {
            let reference =
                reference::start(&target_args.reference_fault, target_args.timeout, 64 * 1024)
                    .await?;
            let label = if target_args.reference_fault.is_empty() {
                "the built-in reference servers and client".to_owned()
            } else {
                let faults: Vec<&str> =
                    target_args.reference_fault.iter().map(|f| f.id()).collect();
                format!("the built-in reference servers with {}", faults.join(", "))
            };
            (reference.targets, label, reference.servers)
        } else {
            let targets = real_targets(target_args).await?;
            let label = target_args.server.join(" ");
            (targets, label, Vec::new())
        };
        let server_name = target_args
            .server_name
            .clone()
            .or_else(|| {
                target_args
                    .server
                    .first()
                    .and_then(|u| ServerUrl::parse(u).ok())
                    .map(|u| u.host)
            })
            .unwrap_or_else(|| REFERENCE_NAME.to_owned());
        let judging = judging(
            &target_args.user,
            &password,
            &server_name,
            strict,
            report_args.show_secrets,
        );
        let runnable = scenarios
            .iter()
            .filter(|l| {
                targets.iter().any(|t| {
                    t.protocol == l.scenario.meta.protocol
                        && t.target.transport == l.scenario.meta.transport
                })
            })
            .count();
        let client_scenarios = if both_roles {
            scenarios
                .iter()
                .filter(|l| l.scenario.meta.roles.contains(&Party::Client))
                .count()
        } else {
            0
        };
        let progress = Progress::new(
            (runnable + client_scenarios) as u64,
            Progress::should_show(report_args.quiet),
        );
        let on_done = |o: &mailtls::engine::outcome::Outcome| progress.inc(&o.id, o.verdict);
        let servers = runner::run(scenarios, &targets, &judging, jobs, &on_done);
        let mut outcomes = if both_roles {
            let clients = client::run_reference_suites(
                scenarios,
                &judging,
                target_args.timeout,
                jobs,
                &on_done,
            );
            let (mut servers, clients) = tokio::join!(servers, clients);
            servers.extend(clients?);
            servers
        } else {
            servers.await
        };
        progress.finish();
        if let Some(selection) = identity_checks {
            let keep = |o: &mailtls::engine::outcome::Outcome| selection.includes(&o.id, o.level);
            outcomes.extend(runner::run_identity_checks(&targets, &judging, &keep).await);
        }
        Ok::<Run, anyhow::Error>(runner::finish(
            label,
            outcomes,
            expectations,
            strict,
            started.elapsed(),
        ))
    });
    let run = match run {
        Ok(run) => run,
        Err(e) if e.downcast_ref::<Unreachable>().is_some() => {
            let _ = writeln!(std::io::stderr(), "mailtls: {e:#}");
            return Ok(Outcome::Unreachable);
        }
        Err(e) => return Err(e),
    };
    write_report(&run, report_args, out)?;
    Ok(if run.is_success() {
        Outcome::Expected
    } else {
        Outcome::Verdict
    })
}

fn write_report(run: &Run, args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match &args.out {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let opts = RenderOptions {
                color: false,
                verbose: args.verbose,
            };
            report::render(run, args.format, &opts, &mut file)?;
            file.flush()?;
            // A one-line summary still goes to the terminal.
            let counts = run.counts();
            let summary: Vec<String> = counts
                .iter()
                .map(|(v, n)| format!("{n} {}", v.label().to_lowercase()))
                .collect();
            writeln!(out, "mailtls: {} -> {}", summary.join(", "), path.display())?;
        }
        None => {
            let color = args.format == Format::Text && report::stdout_supports_color();
            let opts = RenderOptions {
                color,
                verbose: args.verbose,
            };
            report::render(run, args.format, &opts, out)?;
        }
    }
    Ok(())
}

/// Scenarios side by side when `--jobs` is not given: twice the cores, at least 4.
fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    (2 * cores).max(4)
}

/// The target could not be reached at all (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unreachable(String);

async fn real_targets(args: &TargetArgs) -> anyhow::Result<Vec<RunTarget>> {
    let trust = match &args.ca {
        Some(path) => ClientTrust::Ca(load_ca_file(path)?),
        None => ClientTrust::System,
    };
    let mut tls = ClientTls::new(&trust, args.insecure)?;
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("--client-cert {}", cert.display()))?;
        let key = PrivateKeyDer::from_pem_file(key)
            .with_context(|| format!("--client-key {}", key.display()))?;
        tls = tls.with_client_certificate(chain, key)?;
    }
    let mut profile: BTreeMap<String, String> = BTreeMap::from([
        ("cleartext-auth".to_owned(), "refused".to_owned()),
        // No client certificates unless declared: the request-policy checks apply.
        ("client-cert".to_owned(), "off".to_owned()),
    ]);
    profile.extend(args.server_profile.iter().cloned());
    let mut targets = Vec::new();
    for url in &args.server {
        let parsed = ServerUrl::parse(url)?;
        let name = args
            .server_name
            .clone()
            .unwrap_or_else(|| parsed.host.clone());
        let server_name = ServerName::try_from(name.clone())
            .with_context(|| format!("--server-name `{name}` is not a DNS name or IP address"))?;
        let mut addrs = tokio::net::lookup_host((parsed.host.as_str(), parsed.port))
            .await
            .map_err(|e| Unreachable(format!("{url}: cannot resolve {}: {e}", parsed.host)))?;
        let addr = addrs
            .next()
            .ok_or_else(|| Unreachable(format!("{url}: {} has no address", parsed.host)))?;
        // One connection first: a target that cannot be reached is exit code 3, not a
        // page of ERRORs.
        match tokio::time::timeout(args.timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(Unreachable(format!("{url}: cannot connect to {addr}: {e}")).into());
            }
            Err(_) => {
                return Err(Unreachable(format!(
                    "{url}: no answer from {addr} within {:?}",
                    args.timeout
                ))
                .into());
            }
        }
        targets.push(RunTarget {
            label: parsed.to_string(),
            protocol: parsed.protocol,
            target: Target {
                addr,
                transport: parsed.transport,
                server_name,
                tls: tls.clone(),
                profile: profile.clone(),
                timeout: args.timeout,
                max_line: 64 * 1024,
            },
        });
    }
    Ok(targets)
}

fn password(args: &TargetArgs) -> anyhow::Result<String> {
    if let Some(var) = &args.password_env {
        return std::env::var(var)
            .with_context(|| format!("--password-env {var}: the variable is not set"));
    }
    Ok(args
        .password
        .clone()
        .unwrap_or_else(|| reference_password(&args.user).to_owned()))
}

/// The reference servers' password for `user`, so `mailtls run` needs no flags.
fn reference_password(user: &str) -> &'static str {
    mailtls::peers::DEFAULT_USERS
        .iter()
        .find(|(u, _)| *u == user)
        .map_or("", |(_, p)| p)
}

fn judging(
    user: &str,
    password: &str,
    server_name: &str,
    strict: bool,
    show_secrets: bool,
) -> Judging {
    let mut message = vec![0u8];
    message.extend_from_slice(user.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    let plain = base64::engine::general_purpose::STANDARD.encode(&message);
    let vars = BTreeMap::from([
        ("user".to_owned(), user.as_bytes().to_vec()),
        ("password".to_owned(), password.as_bytes().to_vec()),
        ("plain".to_owned(), plain.as_bytes().to_vec()),
        ("name".to_owned(), server_name.as_bytes().to_vec()),
    ]);
    Judging {
        strict,
        show_secrets,
        vars,
        secrets: vec![password.as_bytes().to_vec(), plain.into_bytes()],
    }
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!(
            "`{text}`: expected KEY=VALUE, e.g. cleartext-auth=allowed"
        )),
    }
}
