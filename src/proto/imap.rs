//! TODO(proto helper): imap codec.
