#!/usr/bin/env python3
"""A POP3 client made of Python's poplib only, for `mailtls run --client pop3`.

    poplib_client.py [--implicit] HOST PORT NAME CA USER PASSWORD

Connects to HOST:PORT (127.0.0.1) but verifies the certificate against NAME with only
the CA in the PEM file CA: STLS (or, with --implicit, POP3_SSL), USER/PASS, STAT, RETR 1
when STAT counts a message, QUIT.
Exits 0 on success; on any exception prints it on stderr and exits 1.

poplib wraps the socket with server_hostname=self.host, and `self.host` is also where
it connects. To verify NAME while connecting to HOST without touching /etc/hosts, the
subclasses below keep `self.host = NAME` and override `_create_socket`, the one place
poplib opens the TCP connection.
"""

import poplib
import socket
import ssl
import sys


class Pop3(poplib.POP3):
    """POP3 on port 110 style: cleartext, then STLS."""

    def __init__(self, name, port, address, timeout):
        self._address = address
        super().__init__(name, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self._address, self.port), timeout)


class Pop3Ssl(poplib.POP3_SSL):
    """POP3_SSL on port 995 style: TLS from the first octet."""

    def __init__(self, name, port, address, timeout, context):
        self._address = address
        super().__init__(name, port, timeout=timeout, context=context)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.context.wrap_socket(sock, server_hostname=self.host)


def main(argv):
    implicit = "--implicit" in argv
    args = [a for a in argv if a != "--implicit"]
    if len(args) != 6:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    host, port, name, ca, user, password = args
    # Verifies the chain against CA only, and the name (check_hostname) in the handshake.
    context = ssl.create_default_context(cafile=ca)
    if implicit:
        client = Pop3Ssl(name, int(port), host, 5, context)
    else:
        client = Pop3(name, int(port), host, 5)
        # Asks CAPA, refuses to go on without STLS in it or without +OK to STLS.
        client.stls(context=context)
    client.user(user)
    client.pass_(password)
    count, _ = client.stat()
    if count:
        # Reads the first message to its final "." (a mail client downloads it).
        client.retr(1)
    client.quit()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 - any failure is the client refusing
        print(f"poplib_client: {type(e).__module__}.{type(e).__qualname__}: {e}", file=sys.stderr)
        sys.exit(1)
