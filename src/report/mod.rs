//! Renders a run: text for terminals, JSON, JUnit XML and Markdown bug reports.
