//! The `mailtls` command: a thin shell over the library (ripgrep's layout). `cli` parses
//! and renders; everything it judges with lives in the `mailtls` library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
