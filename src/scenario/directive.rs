//! `[directive]` lines: TLS now, expected closes and silences, waits, new connections and
//! capability assertions.

use crate::scenario::ast::{CapsAssertion, Directive, LegacyHello, TlsVersion};
use crate::scenario::error::LineError;
use crate::scenario::value::{DurationError, did_you_mean, duration_help, parse_duration};

/// Every directive name, for suggestions.
pub(crate) const NAMES: &[&str] = &[
    "tls",
    "expect-close",
    "expect-close-notify",
    "expect-silence",
    "expect-handshake",
    "expect-no-connection",
    "wait",
    "close-passes",
    "close-notify",
    "close",
    "new-connection",
    "caps",
    "expect-exit",
    "expect-no-certificate-request",
    "client-hello",
    "server-hello",
];

/// The `[caps ...]` verbs.
const CAPS_VERBS: &[&str] = &["has", "lacks", "has-sasl", "lacks-sasl"];

/// One whitespace-separated word of a directive, with its character index in the line.
struct Word {
    at: usize,
    text: String,
}

impl Word {
    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn error(&self, message: impl Into<String>) -> LineError {
        LineError::new(self.at, self.len(), message)
    }
}

/// Splits `chars[from..to]` at spaces and tabs.
fn words(chars: &[char], from: usize, to: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        let at = i;
        while i < to && chars[i] != ' ' && chars[i] != '\t' {
            i += 1;
        }
        out.push(Word {
            at,
            text: chars[at..i].iter().collect(),
        });
    }
    out
}

/// Whether `c` may appear in a certificate profile or capability name.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '[' | ']' | '{' | '}' | '"' | '(' | ')')
}

/// Reads a directive line (`chars[0]` is `[`).
pub(crate) fn parse_directive(chars: &[char]) -> Result<Directive, LineError> {
    let Some(close) = chars.iter().position(|&c| c == ']') else {
        return Err(
            LineError::new(0, 1, "unclosed `[`").help("a directive is one line: `[expect-close]`")
        );
    };
    let after = chars[close + 1..]
        .iter()
        .position(|c| !c.is_whitespace())
        .map(|i| close + 1 + i);
    if let Some(at) = after {
        return Err(
            LineError::new(at, chars.len() - at, "unexpected text after the directive")
                .help("a directive stands alone on its line; comments are lines starting with `#`"),
        );
    }
    let mut words = words(chars, 1, close).into_iter();
    let Some(name) = words.next() else {
        return Err(LineError::new(0, close + 1, "empty directive")
            .help(format!("directives are {}", list(NAMES))));
    };
    let args: Vec<Word> = words.collect();
    let no_args = |directive: Directive| match args.first() {
        Some(arg) => Err(arg.error(format!("`[{}]` takes no argument", name.text))),
        None => Ok(directive),
    };
    match name.text.as_str() {
        "tls" => tls(&args),
        "expect-close" => no_args(Directive::ExpectClose),
        "expect-close-notify" => no_args(Directive::ExpectCloseNotify),
        "expect-handshake" => no_args(Directive::ExpectHandshake),
        "close-passes" => no_args(Directive::ClosePasses),
        "close-notify" => match args.as_slice() {
            [] => Ok(Directive::CloseNotify { keep_open: false }),
            [word] if word.text == "keep-open" => Ok(Directive::CloseNotify { keep_open: true }),
            [word, ..] => Err(word
                .error(format!("unknown `[close-notify]` option `{}`", word.text))
                .help("the only option is `keep-open`: send close_notify but keep TCP open")),
        },
        "expect-no-certificate-request" => no_args(Directive::ExpectNoCertificateRequest),
        "client-hello" | "server-hello" => hello(&name, &args, close),
        "close" => no_args(Directive::Close),
        "new-connection" => no_args(Directive::NewConnection),
        "expect-silence" => {
            let duration = one_duration(&name, &args, close)?;
            if duration.is_zero() {
                return Err(args[0]
                    .error("a silence of no time checks nothing")
                    .help("give the time the peer must stay silent, e.g. `500ms`"));
            }
            Ok(Directive::ExpectSilence(duration))
        }
        "wait" => Ok(Directive::Wait(one_duration(&name, &args, close)?)),
        "expect-no-connection" => {
            let duration = one_duration(&name, &args, close)?;
            if duration.is_zero() {
                return Err(args[0]
                    .error("a window of no time checks nothing")
                    .help("give how long no new connection may come, e.g. `500ms`"));
            }
            Ok(Directive::ExpectNoConnection(duration))
        }
        "caps" => caps(&name, &args, close),
        "expect-exit" => match args.as_slice() {
            [word] if word.text == "success" => Ok(Directive::ExpectExit(true)),
            [word] if word.text == "failure" => Ok(Directive::ExpectExit(false)),
            [word, ..] => Err(word
                .error(format!("`{}` is not an exit expectation", word.text))
                .help("write `[expect-exit success]` or `[expect-exit failure]`")),
            [] => Err(name
                .error("`[expect-exit]` needs `success` or `failure`")
                .help("write `[expect-exit success]` or `[expect-exit failure]`")),
        },
        other => Err(name
            .error(format!("unknown directive `{other}`"))
            .maybe_help(did_you_mean(other, NAMES))
            .or_help(format!("directives are {}", list(NAMES)))),
    }
}

/// `a`, `b` and `c` in backticks.
fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

fn tls(args: &[Word]) -> Result<Directive, LineError> {
    let mut may_fail = false;
    let mut cert = None;
    let mut version = None;
    let mut client_cert = false;
    for arg in args {
        if arg.text == "client-cert" {
            if client_cert {
                return Err(arg.error("`client-cert` given twice"));
            }
            client_cert = true;
        } else if let Some(v) = arg.text.strip_prefix("version=") {
            if version.is_some() {
                return Err(arg.error("`version=` given twice"));
            }
            version = Some(match v {
                "1.2" => TlsVersion::Tls12,
                "1.3" => TlsVersion::Tls13,
                _ => {
                    return Err(arg
                        .error(format!("unknown TLS version `{v}`"))
                        .help("write `version=1.2` or `version=1.3`"));
                }
            });
        } else if arg.text == "may-fail" {
            if may_fail {
                return Err(arg.error("`may-fail` given twice"));
            }
            may_fail = true;
        } else if let Some(profile) = arg.text.strip_prefix("cert=") {
            if cert.is_some() {
                return Err(arg.error("`cert=` given twice"));
            }
            if profile.is_empty() {
                return Err(arg
                    .error("`cert=` needs a certificate profile")
                    .help("e.g. `[tls cert=wrong-name]`"));
            }
            if let Some(bad) = profile.chars().position(|c| !is_token_char(c)) {
                return Err(LineError::new(
                    arg.at + 5 + bad,
                    1,
                    "bad character in a certificate profile name",
                ));
            }
            cert = Some(profile.to_owned());
        } else {
            return Err(arg
                .error(format!("unknown `[tls]` option `{}`", arg.text))
                .maybe_help(did_you_mean(
                    &arg.text,
                    &["may-fail", "cert=", "version=", "client-cert"],
                ))
                .or_help(
                    "the options are `may-fail`, `cert=PROFILE`, `version=1.2|1.3` and `client-cert`"
                        .to_owned(),
                ));
        }
    }
    Ok(Directive::Tls {
        may_fail,
        cert,
        version,
        client_cert,
    })
}

/// `[client-hello KIND]` / `[server-hello VERSION]`.
fn hello(name: &Word, args: &[Word], close: usize) -> Result<Directive, LineError> {
    let server = name.text == "server-hello";
    let kinds: Vec<&str> = LegacyHello::ALL
        .iter()
        .filter(|(kind, _)| !server || kind.is_version())
        .map(|(_, word)| *word)
        .collect();
    let help = format!("`[{}]` takes one of {}", name.text, list(&kinds));
    let [word] = args else {
        return Err(match args.get(1) {
            Some(extra) => extra.error(format!("`[{}]` takes one argument", name.text)),
            None => LineError::new(close, 1, format!("`[{}]` needs a kind", name.text)),
        }
        .help(help));
    };
    let kind = LegacyHello::ALL
        .iter()
        .find(|(kind, text)| *text == word.text && (!server || kind.is_version()))
        .map(|(kind, _)| *kind);
    match kind {
        Some(kind) if server => Ok(Directive::ServerHello(kind)),
        Some(kind) => Ok(Directive::ClientHello(kind)),
        None => Err(word
            .error(format!("unknown `[{}]` kind `{}`", name.text, word.text))
            .maybe_help(did_you_mean(&word.text, &kinds))
            .or_help(help)),
    }
}

fn one_duration(
    name: &Word,
    args: &[Word],
    close: usize,
) -> Result<std::time::Duration, LineError> {
    let Some(arg) = args.first() else {
        return Err(
            LineError::new(close, 1, format!("`[{}]` needs a duration", name.text))
                .help(format!("e.g. `[{} 500ms]`", name.text)),
        );
    };
    if let Some(extra) = args.get(1) {
        let unit_apart = matches!(extra.text.as_str(), "ms" | "s" | "m")
            && arg.text.bytes().all(|b| b.is_ascii_digit());
        let error = extra.error(format!("`[{}]` takes one duration", name.text));
        return Err(if unit_apart {
            error.help(format!(
                "write `{}{}`, without a space",
                arg.text, extra.text
            ))
        } else {
            error
        });
    }
    parse_duration(&arg.text).map_err(|e| {
        let (at, len) = match e {
            DurationError::BadUnit(offset) => (arg.at + offset, arg.len() - offset),
            _ => (arg.at, arg.len()),
        };
        LineError::new(at, len, format!("bad duration `{}`", arg.text)).help(duration_help(&e))
    })
}

fn caps(name: &Word, args: &[Word], close: usize) -> Result<Directive, LineError> {
    let Some(verb) = args.first() else {
        return Err(LineError::new(
            close,
            1,
            "`[caps]` needs `has`, `lacks`, `has-sasl` or `lacks-sasl` and a name",
        )
        .help("e.g. `[caps has STARTTLS]`"));
    };
    let (present, sasl) = match verb.text.as_str() {
        "has" => (true, false),
        "lacks" => (false, false),
        "has-sasl" => (true, true),
        "lacks-sasl" => (false, true),
        other => {
            return Err(verb
                .error(format!("unknown capability assertion `{other}`"))
                .maybe_help(did_you_mean(other, CAPS_VERBS))
                .or_help(format!("`[{} ...]` takes {}", name.text, list(CAPS_VERBS))));
        }
    };
    let Some(cap) = args.get(1) else {
        return Err(
            LineError::new(close, 1, format!("`[caps {}]` needs a name", verb.text)).help(
                if sasl {
                    "e.g. `[caps has-sasl PLAIN]`"
                } else {
                    "e.g. `[caps has STARTTLS]`"
                },
            ),
        );
    };
    if let Some(extra) = args.get(2) {
        return Err(extra
            .error("one name per `[caps]` line")
            .help("write one `[caps ...]` line per capability"));
    }
    if let Some(bad) = cap.text.chars().position(|c| !is_token_char(c)) {
        return Err(LineError::new(
            cap.at + bad,
            1,
            "bad character in a capability name",
        ));
    }
    Ok(Directive::Caps(CapsAssertion {
        present,
        sasl,
        name: cap.text.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn directive(text: &str) -> Result<Directive, LineError> {
        let chars: Vec<char> = text.chars().collect();
        parse_directive(&chars)
    }

    #[test]
    fn every_directive() {
        let tls = |may_fail, cert: Option<&str>| Directive::Tls {
            may_fail,
            cert: cert.map(str::to_owned),
            version: None,
            client_cert: false,
        };
        assert_eq!(directive("[tls]"), Ok(tls(false, None)));
        assert_eq!(directive("[tls may-fail]"), Ok(tls(true, None)));
        assert_eq!(
            directive("[tls  cert=wrong-name may-fail ]  "),
            Ok(tls(true, Some("wrong-name")))
        );
        assert_eq!(directive("[expect-close]"), Ok(Directive::ExpectClose));
        assert_eq!(
            directive("[expect-close-notify]"),
            Ok(Directive::ExpectCloseNotify)
        );
        assert_eq!(
            directive("[expect-silence 500ms]"),
            Ok(Directive::ExpectSilence(Duration::from_millis(500)))
        );
        assert_eq!(
            directive("[expect-handshake]"),
            Ok(Directive::ExpectHandshake)
        );
        assert_eq!(
            directive("[wait 50ms]"),
            Ok(Directive::Wait(Duration::from_millis(50)))
        );
        assert_eq!(directive("[close-passes]"), Ok(Directive::ClosePasses));
        assert_eq!(
            directive("[close-notify]"),
            Ok(Directive::CloseNotify { keep_open: false })
        );
        assert_eq!(directive("[close]"), Ok(Directive::Close));
        assert_eq!(directive("[new-connection]"), Ok(Directive::NewConnection));
        let caps = |present, sasl, name: &str| {
            Ok(Directive::Caps(CapsAssertion {
                present,
                sasl,
                name: name.to_owned(),
            }))
        };
        assert_eq!(
            directive("[caps has STARTTLS]"),
            caps(true, false, "STARTTLS")
        );
        assert_eq!(
            directive("[caps lacks LOGINDISABLED]"),
            caps(false, false, "LOGINDISABLED")
        );
        assert_eq!(
            directive("[caps has-sasl PLAIN]"),
            caps(true, true, "PLAIN")
        );
        assert_eq!(
            directive("[caps lacks-sasl PLAIN]"),
            caps(false, true, "PLAIN")
        );
    }

    #[test]
    fn errors_point_at_the_word() {
        let e = directive("[expect-sience 500ms]").unwrap_err();
        assert_eq!((e.at, e.len), (1, 13));
        assert_eq!(e.help.as_deref(), Some("did you mean `expect-silence`?"));
        let e = directive("[expect-silence 1000 ms]").unwrap_err();
        assert_eq!((e.at, e.len), (21, 2));
        assert_eq!(e.help.as_deref(), Some("write `1000ms`, without a space"));
        let e = directive("[wait 5sec]").unwrap_err();
        assert_eq!((e.at, e.len), (7, 3));
        assert_eq!(directive("[wait]").unwrap_err().at, 5);
        assert_eq!(directive("[close now]").unwrap_err().at, 7);
        assert_eq!(directive("[tls] # x").unwrap_err().at, 6);
        assert_eq!(directive("[tls").unwrap_err().at, 0);
        assert_eq!(directive("[]").unwrap_err().len, 2);
        assert_eq!(directive("[tls mayfail]").unwrap_err().at, 5);
        assert_eq!(directive("[caps have X]").unwrap_err().at, 6);
        assert_eq!(directive("[caps has]").unwrap_err().at, 9);
        assert_eq!(directive("[caps has A B]").unwrap_err().at, 12);
        assert_eq!(directive("[expect-silence 0ms]").unwrap_err().at, 16);
    }
}
