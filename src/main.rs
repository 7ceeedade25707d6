//! The `mailtls` command: a thin shell over the library.
fn main() {}
