//! identity_props
