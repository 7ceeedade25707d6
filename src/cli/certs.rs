//! `mailtls certs --out DIR`: the CA and every certificate profile as PEM files, so a
//! client under test can be told to trust the CA (private keys mode 0600).

use super::Outcome;
use anyhow::Context;
use clap::Args;
use mailtls::certs::profiles::Minted;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `mailtls certs`.
#[derive(Debug, Args)]
pub(crate) struct CertsArgs {
    /// The directory to write to (created if missing; existing files are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The name the certificates are judged against (what the client is told to expect).
    #[arg(long, default_value = "mail.example.test")]
    name: String,
}

pub(crate) fn run(args: &CertsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let minted = Minted::new(&args.name)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write(
        &args.out.join("ca.pem"),
        minted.ca.cert_pem().as_bytes(),
        false,
    )?;
    let mut index = format!(
        "# mailtls certificate profiles for {}\n# file: what it presents\nca.pem: the test CA (trust this one)\n",
        minted.name
    );
    for (profile, leaf) in &minted.leaves {
        let id = profile.id();
        let mut chain = leaf.pem.clone();
        if leaf.chain.len() > 1 {
            chain.push_str(minted.ca.cert_pem());
        }
        write(&args.out.join(format!("{id}.pem")), chain.as_bytes(), false)?;
        write(
            &args.out.join(format!("{id}.key")),
            leaf.key_pem.as_bytes(),
            true,
        )?;
        index.push_str(&format!("{id}.pem: {}\n", profile.describe(&minted.name)));
    }
    write(&args.out.join("index.txt"), index.as_bytes(), false)?;
    writeln!(
        out,
        "wrote ca.pem, {} profiles and index.txt to {}",
        minted.leaves.len(),
        args.out.display()
    )?;
    Ok(Outcome::Expected)
}

/// Writes a file; `secret` files are created with mode 0600 before any byte is written.
fn write(path: &Path, bytes: &[u8], secret: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    if secret {
        // An existing file keeps its old mode through open(): set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
