//! TODO(proto helper): line codec.
