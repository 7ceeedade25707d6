//! The JUnit XML report, in the shape GitLab, Jenkins and GitHub test reporters read
//! (the Ant/Jenkins `junit.xsd` conventions):
//!
//! ```text
//! <testsuites name="mailtls" tests failures errors skipped time>
//!   <testsuite name="mailtls: <target> (IMAP)" tests failures errors skipped time>
//!     <properties><property name value/>...</properties>
//!     <testcase name="<id>" classname="<protocol>.<role>" time>
//!       <failure message type="MUST">facts</failure>  | <error> | <skipped message/>
//!       <system-out>transcript</system-out>
//!       <system-err>warning</system-err>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//!
//! One suite per protocol. FAIL is `<failure type="<level>">`; ERROR `<error>`; N/A and
//! expected failures (listed in `--expect`) `<skipped>`, like pytest's xfail; WARN passes
//! with the warning in `<system-err>`, or is a `<failure>` when the run is strict; an
//! unexpected pass is a `<failure type="unexpected-pass">`. Transcripts go to
//! `<system-out>` for every result but PASS and N/A (those too when verbose).

use super::RenderOptions;
use super::details;
use super::escape::sanitize;
use super::json::{party_name, protocol_name};
use super::transcript;
use crate::engine::outcome::{Outcome, Run, Verdict, level_label};
use crate::model::Protocol;
use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::io::{self, Write};
use std::time::Duration;

/// How one result maps onto JUnit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mapping {
    Passed,
    Failure,
    Error,
    Skipped,
}

fn mapping(run: &Run, outcome: &Outcome) -> Mapping {
    if outcome.expected_failure.is_some()
        && matches!(outcome.verdict, Verdict::Fail | Verdict::Error)
    {
        return Mapping::Skipped;
    }
    match outcome.verdict {
        Verdict::Pass if run.unexpected_passes.contains(&outcome.id) => Mapping::Failure,
        Verdict::Pass => Mapping::Passed,
        Verdict::Warn if run.strict => Mapping::Failure,
        Verdict::Warn => Mapping::Passed,
        Verdict::Fail => Mapping::Failure,
        Verdict::Error => Mapping::Error,
        // INFO is a record, not a judgement; MANUAL waits for a person, which CI
        // shows best as a skipped test with the instructions.
        Verdict::Info => Mapping::Passed,
        Verdict::NotApplicable | Verdict::Manual => Mapping::Skipped,
    }
}

/// The counts of a `<testsuite>` or `<testsuites>`.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: Duration,
}

impl Counts {
    fn of<'a>(run: &Run, outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let mut counts = Self::default();
        for outcome in outcomes {
            counts.tests += 1;
            counts.time += outcome.duration;
            match mapping(run, outcome) {
                Mapping::Passed => {}
                Mapping::Failure => counts.failures += 1,
                Mapping::Error => counts.errors += 1,
                Mapping::Skipped => counts.skipped += 1,
            }
        }
        counts
    }

    fn attributes(&self) -> [(&'static str, String); 5] {
        [
            ("tests", self.tests.to_string()),
            ("failures", self.failures.to_string()),
            ("errors", self.errors.to_string()),
            ("skipped", self.skipped.to_string()),
            ("time", seconds(self.time)),
        ]
    }
}

/// JUnit times: seconds with three decimals.
fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

type Xml<'w> = Writer<&'w mut Vec<u8>>;

/// Writes the JUnit report.
pub(crate) fn render(run: &Run, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut xml = Writer::new_with_indent(&mut buf, b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut totals = Counts::of(run, &run.results);
    totals.time = run.duration;
    let target = sanitize(&run.target);
    let mut attributes = vec![("name", "mailtls".to_owned())];
    attributes.extend(totals.attributes());
    xml.create_element("testsuites")
        .with_attributes(attributes.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|xml| {
            let mut any = false;
            for protocol in Protocol::ALL {
                let outcomes: Vec<&Outcome> = run
                    .results
                    .iter()
                    .filter(|o| o.protocol == protocol)
                    .collect();
                if !outcomes.is_empty() {
                    any = true;
                    let name = format!("mailtls: {target} ({protocol})");
                    suite(xml, run, &name, Some(protocol), &outcomes, opts)?;
                }
            }
            if !any {
                suite(xml, run, &format!("mailtls: {target}"), None, &[], opts)?;
            }
            Ok(())
        })?;
    buf.push(b'\n');
    out.write_all(&buf)
}

fn suite(
    xml: &mut Xml<'_>,
    run: &Run,
    name: &str,
    protocol: Option<Protocol>,
    outcomes: &[&Outcome],
    opts: &RenderOptions,
) -> io::Result<()> {
    let counts = Counts::of(run, outcomes.iter().copied());
    let mut attributes = vec![("name", name.to_owned())];
    attributes.extend(counts.attributes());
    xml.create_element("testsuite")
        .with_attributes(attributes.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|xml| {
            let mut properties = vec![
                ("target", sanitize(&run.target).into_owned()),
                ("tool", format!("mailtls {}", sanitize(&run.tool_version))),
                ("strict", run.strict.to_string()),
            ];
            if let Some(protocol) = protocol {
                properties.push(("protocol", protocol_name(protocol).to_owned()));
            }
            xml.create_element("properties")
                .write_inner_content(|xml| {
                    for (name, value) in &properties {
                        xml.create_element("property")
                            .with_attributes([("name", *name), ("value", value.as_str())])
                            .write_empty()?;
                    }
                    Ok(())
                })?;
            for outcome in outcomes {
                case(xml, run, outcome, opts)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// The facts block: title, then `label: value` lines.
fn facts(outcome: &Outcome) -> String {
    let mut text = sanitize(&outcome.title).into_owned();
    text.push('\n');
    for (label, value) in details::facts(outcome) {
        text.push_str(&details::label(label));
        text.push_str(&value);
        text.push('\n');
    }
    text
}

/// The transcript with its caption, for `<system-out>`.
fn transcript_text(outcome: &Outcome, opts: &RenderOptions) -> String {
    if outcome.transcript.entries.is_empty() {
        return "transcript: (empty: nothing crossed the wire)\n".to_owned();
    }
    let topts = transcript::options_for(outcome, opts.verbose);
    format!(
        "transcript ({}):\n{}",
        transcript::caption(outcome.role, &topts),
        transcript::render_transcript(&outcome.transcript, outcome.role, &topts)
    )
}

/// Text content, with `<`, `>` and `&` escaped (quotes stay readable).
fn text(content: &str) -> BytesText<'_> {
    BytesText::from_escaped(partial_escape(content))
}

fn case(xml: &mut Xml<'_>, run: &Run, outcome: &Outcome, opts: &RenderOptions) -> io::Result<()> {
    let mapping = mapping(run, outcome);
    let classname = format!(
        "{}.{}",
        protocol_name(outcome.protocol),
        party_name(outcome.role)
    );
    let id = sanitize(&outcome.id);
    let time = seconds(outcome.duration);
    let message = sanitize(&outcome.message);
    let unexpected_pass =
        outcome.verdict == Verdict::Pass && run.unexpected_passes.contains(&outcome.id);
    let show_transcript = opts.verbose
        || !matches!(outcome.verdict, Verdict::Pass | Verdict::NotApplicable)
        || unexpected_pass;
    let level = level_label(outcome.level);
    let mut system_out = String::new();
    if mapping == Mapping::Skipped && outcome.verdict != Verdict::NotApplicable {
        system_out.push_str(&format!("{}: {message}\n", outcome.verdict.label()));
        system_out.push_str(&facts(outcome));
    }
    if unexpected_pass {
        system_out.push_str(&format!("PASS: {message}\n"));
    }
    if show_transcript {
        system_out.push_str(&transcript_text(outcome, opts));
    }
    let warning = (outcome.verdict == Verdict::Warn && mapping == Mapping::Passed)
        .then(|| format!("WARN ({level}): {message}\n{}", facts(outcome)));
    let element = xml.create_element("testcase").with_attributes([
        ("name", id.as_ref()),
        ("classname", classname.as_str()),
        ("time", time.as_str()),
    ]);
    if mapping == Mapping::Passed && system_out.is_empty() && warning.is_none() {
        element.write_empty()?;
        return Ok(());
    }
    element.write_inner_content(|xml| {
        match mapping {
            Mapping::Passed => {}
            Mapping::Failure if unexpected_pass => {
                xml.create_element("failure")
                    .with_attributes([
                        (
                            "message",
                            "unexpected pass: listed as a known failure in the expectations \
                             file",
                        ),
                        ("type", "unexpected-pass"),
                    ])
                    .write_empty()?;
            }
            Mapping::Failure => {
                xml.create_element("failure")
                    .with_attributes([("message", message.as_ref()), ("type", level)])
                    .write_text_content(text(&facts(outcome)))?;
            }
            Mapping::Error => {
                xml.create_element("error")
                    .with_attributes([("message", message.as_ref()), ("type", "ERROR")])
                    .write_text_content(text(&facts(outcome)))?;
            }
            Mapping::Skipped => {
                let why = match &outcome.expected_failure {
                    Some(reason) if outcome.verdict != Verdict::NotApplicable => format!(
                        "expected failure ({}): {}",
                        outcome.verdict.label(),
                        sanitize(reason)
                    ),
                    _ => format!("not applicable: {message}"),
                };
                xml.create_element("skipped")
                    .with_attribute(("message", why.as_str()))
                    .write_empty()?;
            }
        }
        if !system_out.is_empty() {
            xml.create_element("system-out")
                .write_text_content(text(&system_out))?;
        }
        if let Some(warning) = &warning {
            xml.create_element("system-err")
                .write_text_content(text(warning))?;
        }
        Ok(())
    })?;
    Ok(())
}
