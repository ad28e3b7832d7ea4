//! `backroom bench formats`: parse throughput per document format on the shared sample
//! documents (`../shared/data` by default), in MB/s and documents/s.
//!
//! Every file of the sample folders that parses is read into memory once; then, per format, the
//! whole set is parsed repeatedly (detection, parsing and the canonical model's checks, exactly
//! what `POST /v1/documents` does before storing) until `--seconds` have passed. Files that are
//! rejected (the deliberately invalid samples, unsupported document types) are left out of the
//! measurement and counted in the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use backroom_formats::{Context, Format, parse};
use chrono::{TimeZone, Utc};
use serde_json::json;

#[derive(clap::Args)]
pub struct FormatsArgs {
    /// The sample data folder.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Seconds of parsing per format.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    json: bool,
}

/// The folders holding each format's samples.
const FOLDERS: &[&str] = &["epcis", "ubl", "x12", "poslog", "invoices-pdf"];

struct Sample {
    bytes: Vec<u8>,
}

pub fn run(args: &FormatsArgs) -> anyhow::Result<ExitCode> {
    let cx = Context::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().context("a fixed time")?);
    let mut by_format: BTreeMap<&'static str, (Format, Vec<Sample>)> = BTreeMap::new();
    let mut rejected = 0usize;
    for folder in FOLDERS {
        for path in files(&args.data.join(folder))? {
            let bytes = read(&path)?;
            match parse(&bytes, &cx) {
                Ok(p) => by_format.entry(p.format.as_str()).or_insert((p.format, Vec::new())).1.push(Sample { bytes }),
                Err(_) => rejected += 1,
            }
        }
    }
    anyhow::ensure!(!by_format.is_empty(), "no sample parsed under {}", args.data.display());
    let mut rows = Vec::new();
    for (name, (_, samples)) in &by_format {
        let bytes: usize = samples.iter().map(|s| s.bytes.len()).sum();
        let budget = Duration::from_secs(args.seconds.max(1));
        let started = Instant::now();
        let (mut docs, mut events) = (0usize, 0usize);
        let mut rounds = 0usize;
        while started.elapsed() < budget {
            for s in samples {
                let parsed = parse(&s.bytes, &cx).map_err(|e| anyhow::anyhow!("{e}"))?;
                events += parsed.events.len();
                docs += 1;
            }
            rounds += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        rows.push(json!({
            "format": name,
            "files": samples.len(),
            "bytes_per_round": bytes,
            "docs_per_s": docs as f64 / secs,
            "mb_per_s": (bytes * rounds) as f64 / secs / 1e6,
            "events_per_s": events as f64 / secs,
        }));
    }
    if args.json {
        println!("{}", json!({ "formats": rows, "rejected_files": rejected }));
        return Ok(ExitCode::SUCCESS);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; build with --release for meaningful numbers");
    }
    println!("{:<12} {:>6} {:>10} {:>10} {:>10} {:>12}", "format", "files", "KB/round", "MB/s", "docs/s", "events/s");
    for r in &rows {
        println!(
            "{:<12} {:>6} {:>10.1} {:>10.1} {:>10.0} {:>12.0}",
            r["format"].as_str().unwrap_or(""),
            r["files"],
            r["bytes_per_round"].as_f64().unwrap_or(0.0) / 1e3,
            r["mb_per_s"].as_f64().unwrap_or(0.0),
            r["docs_per_s"].as_f64().unwrap_or(0.0),
            r["events_per_s"].as_f64().unwrap_or(0.0),
        );
    }
    println!("({rejected} sample files rejected by design — invalid sets, unsupported types — are not measured)");
    Ok(ExitCode::SUCCESS)
}

/// Every file under `dir`, sorted, skipping READMEs, licences and schemas.
fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let path = entry?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
            if path.is_dir() {
                stack.push(path);
            } else if !(name.starts_with("readme") || name.starts_with("license") || name.contains(".xsd")) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A file's bytes, gunzipped when it ends in `.gz`.
fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
        return Ok(out);
    }
    Ok(bytes)
}
