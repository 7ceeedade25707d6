//! Built-in reference peers with fault switches: what proves each scenario can fail.
