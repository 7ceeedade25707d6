//! TODO(proto helper): pop3 codec.
