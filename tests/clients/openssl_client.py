#!/usr/bin/env python3
"""Drives `openssl s_client` as a mail client, for `mailtls run --client imap|pop3`.

    openssl_client.py imap|pop3 [--implicit] HOST PORT NAME CA

s_client does the STARTTLS exchange itself (`-starttls imap|pop3`, or none with
--implicit) and the TLS handshake, verifying the chain against CA only
(`-CAfile`, `-verify_return_error`) and the name NAME (`-verify_hostname`: without it
s_client checks no name at all). After the handshake it is only a pipe between stdin
and the connection, so this driver types what a careful user would, one command at a
time, waiting for each answer: CAPABILITY again (RFC 2595 §3.1; CAPA for POP3), then
LOGOUT (QUIT). It never logs in. Then it closes s_client's stdin, at which s_client
ends the TLS session (close_notify) and exits. Exits 0 when every command was
answered, else with s_client's status (1 if that was 0).

`-quiet` keeps s_client's stdout to what the server sends; `-no_ign_eof` undoes the
`-ign_eof` that -quiet implies, so the end of stdin ends the session; `-nocommands`
stops s_client from taking a line that starts with Q (POP3's QUIT) as its own "quit".
"""

import subprocess
import sys

# Command, and how to tell its last answer line: IMAP by its tag, POP3 by the status
# line (a CAPA answer that starts +OK goes on to a line that is a single dot).
COMMANDS = {
    "imap": [("a CAPABILITY", "a "), ("b LOGOUT", "b ")],
    "pop3": [("CAPA", "multi"), ("QUIT", "single")],
}


def read_answer(out, end):
    """Reads s_client's stdout up to the end of one answer; False at EOF."""
    first = True
    multi = False
    while True:
        line = out.readline()
        if not line:
            return False
        text = line.decode("latin-1").rstrip("\r\n")
        if end in ("single", "multi"):
            if first:
                first = False
                multi = end == "multi" and text.startswith("+OK")
                if not multi:
                    return True
            elif text == ".":
                return True
        elif text.startswith(end):
            return True


def main(argv):
    implicit = "--implicit" in argv
    args = [a for a in argv if a != "--implicit"]
    if len(args) != 5 or args[0] not in COMMANDS:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    protocol, host, port, name, ca = args[0], args[1], args[2], args[3], args[4]
    command = ["openssl", "s_client", "-quiet", "-no_ign_eof", "-nocommands"]
    if not implicit:
        command += ["-starttls", protocol]
    command += [
        "-connect", f"{host}:{port}",
        "-servername", name,
        "-CAfile", ca,
        "-verify_hostname", name,
        "-verify_return_error",
    ]
    client = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    answered = 0
    try:
        # With -starttls, s_client reads the greeting itself; with implicit TLS it is
        # the first thing on stdout (IMAP's untagged greeting is skipped by the tag).
        if implicit and protocol == "pop3" and not read_answer(client.stdout, "single"):
            return client.wait() or 1
        for line, end in COMMANDS[protocol]:
            # s_client reads stdin only once the handshake is done: nothing typed here
            # reaches the wire in cleartext.
            client.stdin.write(line.encode() + b"\r\n")
            client.stdin.flush()
            if not read_answer(client.stdout, end):
                break
            answered += 1
        client.stdin.close()
    except BrokenPipeError:
        pass
    status = client.wait()
    # The session is what counts: every command answered is a success even if the
    # server then closed without close_notify (s_client exits 1 on that truncation,
    # which after LOGOUT/QUIT loses nothing); a session cut short fails even if
    # s_client exits 0.
    if answered == len(COMMANDS[protocol]):
        return 0
    return status or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
