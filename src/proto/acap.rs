//! TODO(proto helper): acap codec.
