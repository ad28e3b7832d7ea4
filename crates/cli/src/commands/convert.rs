//! `backroom convert FILE --to json`: a partner document in its canonical form, without storing it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use backroom_formats::{Context, parse};
use chrono::Utc;
use chrono_tz::Tz;

/// The forms `convert` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Target {
    /// The canonical events (and any acknowledgements) as pretty JSON.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The document: EPCIS (JSON or XML), UBL, CII, Factur-X PDF, X12, EDIFACT or POSLog.
    file: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value = "json")]
    to: Target,
    #[command(flatten)]
    options: DocumentOptions,
}

/// How documents are read, shared by `convert` and `ingest`.
#[derive(clap::Args, Clone, Debug)]
pub struct DocumentOptions {
    /// Time zone for local times without an offset (POSLog), for locations the store does not know.
    #[arg(long, default_value = "UTC")]
    pub time_zone: Tz,
    /// The source to record on events, instead of the one the document names.
    #[arg(long)]
    pub source: Option<String>,
}

impl DocumentOptions {
    /// The parsing context: now, these options, and the known locations' time zones.
    pub fn context(&self, time_zones: std::collections::HashMap<String, Tz>) -> Context {
        let mut cx = Context::new(Utc::now());
        cx.default_time_zone = self.time_zone;
        cx.source.clone_from(&self.source);
        cx.time_zones = time_zones;
        cx
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    match parse(&bytes, &args.options.context(Default::default())) {
        Ok(parsed) => {
            let Target::Json = args.to;
            let out = serde_json::json!({
                "format": parsed.format,
                "events": parsed.raw_events(),
                "replies": parsed.replies,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}", args.file.display());
            Ok(ExitCode::from(2))
        }
    }
}
