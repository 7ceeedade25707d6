//! plain_props
