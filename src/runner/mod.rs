//! Picks scenarios, runs them (in parallel) against targets and applies expectations.
//!
//! - [`builtin`]: the scenarios compiled into the binary; [`load`] reads others.
//! - [`select`]: `--only` / `--skip` globs on ids and `--level`.
//! - [`target`]: `--server` URLs; [`reference`]: the built-in reference servers.
//! - [`expect`]: `--expect` files of known failures.

pub mod builtin;
pub mod expect;
pub mod load;
pub mod reference;
pub mod select;
pub mod target;

use crate::engine::client::{ClientTarget, Launch, run_client_scenario};
use crate::engine::outcome::{Outcome, Run, Verdict};
use crate::engine::{Judging, Source, Target, identity, run_scenario};
use crate::model::Protocol;
use crate::scenario::ast::Scenario;
use expect::Expectations;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// A parsed scenario with its source.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The parsed file.
    pub scenario: Arc<Scenario>,
    /// Its path and text.
    pub source: Arc<Source>,
}

/// A target with what the runner needs to pick scenarios for it.
#[derive(Clone)]
pub struct RunTarget {
    /// How reports name it (`imap://127.0.0.1:143`).
    pub label: String,
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// Where and how to connect.
    pub target: Target,
}

/// Runs every scenario that fits one of `targets` (same protocol and transport; among
/// several, the first whose profile fits). Scenarios no target speaks are left out.
/// `on_done` is called as each outcome arrives (progress bars).
pub async fn run(
    scenarios: &[Loaded],
    targets: &[RunTarget],
    judging: &Judging,
    jobs: usize,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let judging = Arc::new(judging.clone());
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let mut set = JoinSet::new();
    for (index, loaded) in scenarios.iter().enumerate() {
        if !loaded
            .scenario
            .meta
            .roles
            .contains(&crate::model::Party::Server)
        {
            continue;
        }
        let Some(target) = pick_target(&loaded.scenario, targets) else {
            continue;
        };
        let (loaded, target, judging, permits) = (
            loaded.clone(),
            target.clone(),
            judging.clone(),
            permits.clone(),
        );
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = guarded(&loaded, &target.target, &judging).await;
            (index, outcome)
        });
    }
    in_order(set, on_done).await
}

/// Runs every client-role scenario that fits `target` (same protocol and transport),
/// `jobs` at a time (each scenario listens on its own port and starts its own client).
pub async fn run_clients(
    scenarios: &[Loaded],
    target: &ClientTarget,
    judging: &Judging,
    jobs: usize,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let judging = Arc::new(judging.clone());
    // A client waited for by hand connects to one fixed port: one scenario at a time.
    let jobs = if matches!(target.launch, Launch::Listen(_)) {
        1
    } else {
        jobs.max(1)
    };
    let permits = Arc::new(Semaphore::new(jobs));
    let mut set = JoinSet::new();
    for (index, loaded) in scenarios.iter().enumerate() {
        let meta = &loaded.scenario.meta;
        if meta.protocol != target.protocol
            || meta.transport != target.transport
            || !meta.roles.contains(&crate::model::Party::Client)
        {
            continue;
        }
        let (loaded, target, judging, permits) = (
            loaded.clone(),
            target.clone(),
            judging.clone(),
            permits.clone(),
        );
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let scenario_time = deadline(&loaded, target.timeout).saturating_add(target.timeout);
            let run = run_client_scenario(&loaded.scenario, &loaded.source, &target, &judging);
            let outcome = match tokio::time::timeout(scenario_time, run).await {
                Ok(outcome) => outcome,
                Err(_) => timed_out(&loaded, crate::model::Party::Client, scenario_time),
            };
            (index, outcome)
        });
    }
    in_order(set, on_done).await
}

/// Collects the outcomes as they finish (telling `on_done`), then puts them back in
/// scenario order.
async fn in_order(
    mut set: JoinSet<(usize, Outcome)>,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((index, outcome)) = joined {
            on_done(&outcome);
            outcomes.push((index, outcome));
        }
    }
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// How long a scenario may take in all: a read timeout per step (and two more), per
/// repetition, never more than ten minutes.
fn deadline(loaded: &Loaded, per_read_default: Duration) -> Duration {
    let repeat = loaded.scenario.meta.repeat.max(1);
    let per_read = loaded.scenario.meta.timeout.unwrap_or(per_read_default);
    let steps = u32::try_from(loaded.scenario.steps.len()).unwrap_or(u32::MAX);
    per_read
        .saturating_mul(steps.saturating_add(2))
        .saturating_mul(repeat)
        .min(Duration::from_secs(600))
}

/// The ERROR outcome of a scenario that ran past its deadline.
fn timed_out(loaded: &Loaded, role: crate::model::Party, deadline: Duration) -> Outcome {
    let meta = &loaded.scenario.meta;
    Outcome {
        id: meta.id.clone(),
        title: meta.title.clone(),
        protocol: meta.protocol,
        role,
        level: meta.level,
        clauses: meta.clauses.clone(),
        cves: meta.cves.clone(),
        verdict: Verdict::Error,
        message: format!("the scenario did not finish within {deadline:?}"),
        failure: None,
        transcript: Default::default(),
        duration: deadline,
        file: Some(loaded.source.file.clone().into()),
        manual: Vec::new(),
        expected_failure: None,
    }
}

/// One scenario with an overall deadline: however a peer behaves, a scenario ends.
async fn guarded(loaded: &Loaded, target: &Target, judging: &Judging) -> Outcome {
    let limit = deadline(loaded, target.timeout);
    let run = run_scenario(&loaded.scenario, &loaded.source, target, judging);
    match tokio::time::timeout(limit, run).await {
        Ok(outcome) => outcome,
        Err(_) => timed_out(loaded, crate::model::Party::Server, limit),
    }
}

fn pick_target<'t>(scenario: &Scenario, targets: &'t [RunTarget]) -> Option<&'t RunTarget> {
    let meta = &scenario.meta;
    let mut fitting = targets
        .iter()
        .filter(|t| t.protocol == meta.protocol && t.target.transport == meta.transport)
        .peekable();
    let first = fitting.peek().copied()?;
    let profile_fits = |t: &&RunTarget| {
        meta.profile
            .iter()
            .all(|(k, v)| t.target.profile.get(k).is_some_and(|actual| actual == v))
    };
    Some(fitting.find(profile_fits).unwrap_or(first))
}

/// The server identity and chain checks ([`crate::engine::identity`]) once per protocol
/// and transport among `targets`, keeping those `keep` selects (by id and level).
pub async fn run_identity_checks(
    targets: &[RunTarget],
    judging: &Judging,
    keep: &(dyn Fn(&Outcome) -> bool + Sync),
) -> Vec<Outcome> {
    let mut done = Vec::new();
    let mut outcomes = Vec::new();
    for t in targets {
        let key = (t.protocol, t.target.transport);
        if done.contains(&key) {
            continue;
        }
        done.push(key);
        let reference = t.target.server_name.to_str().into_owned();
        for outcome in identity::probe(t.protocol, &t.target, &reference, judging).await {
            if keep(&outcome) {
                outcomes.push(outcome);
            }
        }
    }
    outcomes
}

/// Marks expected failures and collects expected failures that passed.
pub fn apply_expectations(outcomes: &mut [Outcome], expectations: &Expectations) -> Vec<String> {
    let mut unexpected_passes = Vec::new();
    for outcome in outcomes {
        if let Some(reason) = expectations.failures.get(&outcome.id) {
            match outcome.verdict {
                Verdict::Fail | Verdict::Error | Verdict::Warn => {
                    outcome.expected_failure = Some(reason.clone());
                }
                Verdict::Pass => unexpected_passes.push(outcome.id.clone()),
                Verdict::NotApplicable | Verdict::Info | Verdict::Manual => {}
            }
        }
    }
    unexpected_passes
}

/// Builds the [`Run`] of a finished suite.
pub fn finish(
    target: String,
    outcomes: Vec<Outcome>,
    expectations: &Expectations,
    strict: bool,
    duration: Duration,
) -> Run {
    let mut results = outcomes;
    let unexpected_passes = apply_expectations(&mut results, expectations);
    Run {
        target,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        duration,
        strict,
        results,
        unexpected_passes,
    }
}
