//! `backroom ingest FILE…`: events from files into the local store or a running server.
//!
//! A file is a partner document when its content says so (EPCIS, UBL, CII, Factur-X, X12,
//! EDIFACT, POSLog: see `backroom_formats`), and its acknowledgements (X12 997s) are written
//! next to it or into `--replies DIR`; otherwise it is JSON or NDJSON events, or CSV with
//! `--mapping`.
//!
//! Each file is all-or-nothing: it is read and validated whole, and if any event in it is
//! invalid, nothing from it is ingested and every problem is reported with its line (or CSV rows)
//! and JSON path. Valid files are appended in batches; ingesting a file again is harmless, since
//! events already recorded come back as duplicates.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use backroom_formats::csv::{CsvMapping, map_csv};
use backroom_formats::{Reply, detect};
use backroom_model::{NewEvent, validate_event};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::convert::DocumentOptions;
use super::{Remote, api_error, open_store};
use crate::Cli;

/// Files with more events than this show a progress bar.
const PROGRESS_THRESHOLD: usize = 5000;
/// Problems printed per file.
const SHOWN_PROBLEMS: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// Files to ingest: NDJSON (one event per line), JSON (one event or an array), or CSV with --mapping.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// TOML mapping that turns CSV rows into events (every file is then read as CSV).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Where to write the acknowledgements partner documents call for (X12 997s); next to
    /// each document when not given.
    #[arg(long)]
    replies: Option<PathBuf>,
    #[command(flatten)]
    document: DocumentOptions,
    /// Events per append (per request with --server).
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    #[command(flatten)]
    remote: Remote,
}

/// One raw event and where it came from.
struct Located {
    origin: String,
    value: Value,
}

/// A file's raw events, and the replies its format calls for.
fn read_events(
    path: &Path,
    mapping: Option<&CsvMapping>,
    reader: &Reader,
) -> anyhow::Result<(Vec<Located>, Vec<Reply>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    if mapping.is_none() && detect(&bytes).is_some() {
        let parsed = backroom_formats::parse(&bytes, &reader.context()).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let events = parsed
            .raw_events()
            .into_iter()
            .enumerate()
            .map(|(i, value)| Located { origin: format!("{name} ({}) event {}", parsed.format, i + 1), value })
            .collect();
        return Ok((events, parsed.replies));
    }
    read_event_files(&bytes, &name, mapping).map(|events| (events, Vec::new()))
}

/// How partner documents are read: the options and the known locations' time zones.
struct Reader {
    options: DocumentOptions,
    time_zones: std::collections::HashMap<String, chrono_tz::Tz>,
}

impl Reader {
    fn context(&self) -> backroom_formats::Context {
        self.options.context(self.time_zones.clone())
    }
}

/// Writes a document's replies beside it (or into `dir`), named after it; returns the paths.
fn write_replies(path: &Path, dir: Option<&Path>, replies: &[Reply]) -> anyhow::Result<Vec<PathBuf>> {
    let stem = path.file_name().map_or_else(|| "document".into(), |n| n.to_string_lossy().into_owned());
    let dir = dir.map_or_else(|| path.parent().unwrap_or(Path::new(".")).to_path_buf(), Path::to_path_buf);
    let mut written = Vec::new();
    for (i, r) in replies.iter().enumerate() {
        let out = dir.join(format!("{stem}.{}.{}", r.kind, i + 1));
        std::fs::write(&out, &r.body).with_context(|| format!("cannot write {}", out.display()))?;
        written.push(out);
    }
    Ok(written)
}

/// Reads JSON, NDJSON or (with a mapping) CSV events.
fn read_event_files(bytes: &[u8], name: &str, mapping: Option<&CsvMapping>) -> anyhow::Result<Vec<Located>> {
    if let Some(mapping) = mapping {
        let mapped = map_csv(bytes, mapping).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        return Ok(mapped
            .into_iter()
            .map(|m| {
                let rows = if m.first_row == m.last_row {
                    format!("row {}", m.first_row)
                } else {
                    format!("rows {}-{}", m.first_row, m.last_row)
                };
                Located { origin: format!("{name} {rows}"), value: m.event }
            })
            .collect());
    }
    let text = std::str::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8 text"))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || serde_json::from_str::<Value>(text).is_ok() {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("{name}: malformed JSON at line {}, column {}: {e}", e.line(), e.column()))?;
        let events = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        return Ok(events
            .into_iter()
            .enumerate()
            .map(|(i, value)| Located { origin: format!("{name} event {i}"), value })
            .collect());
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{name}: malformed JSON on line {}, column {}: {e}", i + 1, e.column()))?;
        out.push(Located { origin: format!("{name} line {}", i + 1), value });
    }
    Ok(out)
}

/// Validates every event of a file; on any problem, the problems (origin, path, message).
fn validate_file(events: &[Located]) -> Result<Vec<NewEvent>, Vec<String>> {
    let mut ok = Vec::with_capacity(events.len());
    let mut problems = Vec::new();
    for e in events {
        match validate_event(&e.value) {
            Ok(v) => ok.push(v),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|p| format!("{} {}: {}", e.origin, p.path, p.message)))
            }
        }
    }
    if problems.is_empty() { Ok(ok) } else { Err(problems) }
}

#[derive(Default)]
struct Summary {
    accepted: usize,
    duplicates: usize,
    rejected: usize,
    /// Files rejected whole (unreadable, malformed, or with an invalid event).
    rejected_files: usize,
}

pub async fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(CsvMapping::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let target = args.remote.target()?;
    let store = match target {
        Some(_) => None,
        None => Some(open_store(cli).await?),
    };
    let time_zones = match &store {
        Some(store) => store
            .locations()
            .await?
            .into_iter()
            .filter_map(|(code, value)| Some((code, value["time_zone"].as_str()?.parse().ok()?)))
            .collect(),
        None => Default::default(),
    };
    let reader = Reader { options: args.document.clone(), time_zones };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let batch = args.batch.max(1);
    let mut summary = Summary::default();
    for path in &args.files {
        let mut replies = Vec::new();
        let events = match read_events(path, mapping.as_ref(), &reader).and_then(|(raw, r)| {
            replies = r;
            let n = raw.len();
            validate_file(&raw).map_err(|problems| {
                summary.rejected += n;
                let mut msg = format!("{}: rejected whole, {} problem(s):", path.display(), problems.len());
                for p in problems.iter().take(SHOWN_PROBLEMS) {
                    msg.push_str("\n  ");
                    msg.push_str(p);
                }
                if problems.len() > SHOWN_PROBLEMS {
                    msg.push_str(&format!("\n  … and {} more", problems.len() - SHOWN_PROBLEMS));
                }
                anyhow::anyhow!(msg)
            })
        }) {
            Ok(events) => events,
            Err(e) => {
                summary.rejected_files += 1;
                eprintln!("{e:#}");
                continue;
            }
        };
        let progress = (events.len() > PROGRESS_THRESHOLD).then(|| {
            let bar = ProgressBar::new(events.len() as u64);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} events, {per_sec}, eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(path.display().to_string());
            bar
        });
        for chunk in events.chunks(batch) {
            let (accepted, duplicates) = match (&store, &target) {
                (Some(store), _) => {
                    let out = store.append(chunk.to_vec()).await?;
                    let dup = out.iter().filter(|o| o.duplicate).count();
                    (out.len() - dup, dup)
                }
                (None, Some((server, key))) => send(&client, server, key, chunk).await?,
                (None, None) => unreachable!("either a store or a server"),
            };
            summary.accepted += accepted;
            summary.duplicates += duplicates;
            if let Some(bar) = &progress {
                bar.inc(chunk.len() as u64);
            }
        }
        if let Some(bar) = progress {
            bar.finish();
        }
        for written in write_replies(path, args.replies.as_deref(), &replies)? {
            println!("{}: acknowledgement written to {}", path.display(), written.display());
        }
    }
    if let Some(store) = store {
        store.close().await;
    }
    println!("accepted {}, duplicates {}, rejected {}", summary.accepted, summary.duplicates, summary.rejected);
    Ok(if summary.rejected_files > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// Posts validated events as NDJSON; returns (accepted, duplicates).
async fn send(
    client: &reqwest::Client,
    server: &str,
    key: &str,
    events: &[NewEvent],
) -> anyhow::Result<(usize, usize)> {
    let mut body = String::new();
    for e in events {
        let raw = serde_json::json!({
            "id": e.id, "type": e.event_type.as_str(), "source": e.source,
            "occurred_at": e.occurred_at.to_rfc3339(), "data": e.data(),
        });
        body.push_str(&raw.to_string());
        body.push('\n');
    }
    let response = client
        .post(format!("{server}/v1/events"))
        .bearer_auth(key)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {server}"))?;
    if !response.status().is_success() {
        return Err(api_error(response).await);
    }
    let answer: Value = response.json().await?;
    let n = |k: &str| answer[k].as_u64().unwrap_or(0) as usize;
    Ok((n("accepted"), n("duplicates")))
}
