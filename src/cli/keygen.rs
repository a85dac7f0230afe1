//! `steward keygen`: a new Ed25519 key that signs the audit log's heads.

use std::path::PathBuf;

use super::{Context, Exit, output};
use crate::directory::audit::{KeyError, Signer};

/// Write a new signing key for the audit log, and print its public key.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to write the key to (PKCS#8 PEM, readable by its owner only); never overwritten.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Exit 0 with the public key (PEM) on stdout; 1 when the file exists or
/// cannot be written (nothing is written then).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let signer = match Signer::generate() {
        Ok(signer) => signer,
        Err(e) => {
            output::error(ctx.errors, &e);
            return Exit::Failure;
        }
    };
    if let Err(e) = signer.create(&args.output) {
        match e {
            KeyError::Exists { .. } => output::error_with_help(ctx.errors, &e),
            _ => output::error(ctx.errors, &e),
        }
        return Exit::Failure;
    }
    let public = signer.public_key();
    out!("{}", public.to_pem());
    errln!(
        "wrote the signing key to {} (keep it secret); the public key above ({}) verifies the audit log",
        args.output.display(),
        public.to_hex()
    );
    Exit::Ok
}
