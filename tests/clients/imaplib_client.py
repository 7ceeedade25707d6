#!/usr/bin/env python3
"""An IMAP client made of Python's imaplib only, for `mailtls run --client imap`.

    imaplib_client.py [--implicit] HOST PORT NAME CA USER PASSWORD

Connects to HOST:PORT (127.0.0.1) but verifies the certificate against NAME with only
the CA in the PEM file CA: STARTTLS (or, with --implicit, IMAP4_SSL), LOGIN, SELECT
INBOX, LOGOUT. Exits 0 on success; on any exception prints it on stderr and exits 1.

imaplib wraps the socket with server_hostname=self.host, and `self.host` is also where
it connects. To verify NAME while connecting to HOST without touching /etc/hosts, the
subclasses below keep `self.host = NAME` and override `_create_socket`, the one place
imaplib opens the TCP connection.
"""

import imaplib
import socket
import ssl
import sys


class Imap(imaplib.IMAP4):
    """IMAP4 on port 143 style: cleartext, then STARTTLS."""

    def __init__(self, name, port, address, timeout):
        self._address = address
        super().__init__(name, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self._address, self.port), timeout)


class ImapSsl(imaplib.IMAP4_SSL):
    """IMAP4_SSL on port 993 style: TLS from the first octet."""

    def __init__(self, name, port, address, timeout, context):
        self._address = address
        super().__init__(name, port, ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


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
        client = ImapSsl(name, int(port), host, 5, context)
    else:
        client = Imap(name, int(port), host, 5)
        # Refuses to go on when STARTTLS is not advertised, or not answered OK.
        client.starttls(ssl_context=context)
    client.login(user, password)
    client.select("INBOX")
    client.logout()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 - any failure is the client refusing
        print(f"imaplib_client: {type(e).__module__}.{type(e).__qualname__}: {e}", file=sys.stderr)
        sys.exit(1)
