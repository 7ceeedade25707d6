//! model_props
