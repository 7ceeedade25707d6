//! proto_props
