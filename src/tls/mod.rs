//! TLS configurations for the harness: the client that records and judges what a server presents.
