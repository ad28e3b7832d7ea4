//! `backroom audit verify|export`: the tamper-evident audit chain.

use std::io::Write;
use std::process::ExitCode;

use backroom_store::{AuditQuery, audit::MAX_AUDIT_PAGE};

use super::open_store;
use crate::Cli;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Walk the whole chain and report the first entry that was edited, deleted, inserted or
    /// moved (exit 3 when the chain is broken).
    Verify {
        /// A head printed by an earlier verification, `SEQ:HASH`: the chain must still hold it
        /// (this also catches entries removed from the end).
        #[arg(long)]
        head: Option<String>,
        /// Print one JSON object instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Write entries as NDJSON, in chain order, with their hashes.
    Export {
        /// Only entries by this actor.
        #[arg(long)]
        actor: Option<String>,
        /// Only entries about this subject (or under it, with a trailing `/`).
        #[arg(long)]
        subject: Option<String>,
        /// Only entries of this kind (`task.decided`, `key.created`, …).
        #[arg(long = "type")]
        kind: Option<String>,
    },
}

pub async fn run(cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    let store = open_store(cli).await?;
    let code = match cmd {
        Command::Verify { head, json } => {
            let known = match head.as_deref() {
                Some(h) => {
                    let (seq, hash) =
                        h.split_once(':').and_then(|(s, h)| Some((s.parse::<i64>().ok()?, h))).ok_or_else(|| {
                            anyhow::anyhow!("--head {h:?}: expected SEQ:HASH as printed by `audit verify`")
                        })?;
                    Some((seq, hash.to_owned()))
                }
                None => None,
            };
            let report = store.verify_audit(known.as_ref().map(|(s, h)| (*s, h.as_str()))).await?;
            if *json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                match &report.broken {
                    None => println!(
                        "audit chain intact: {} entries; head {}:{}",
                        report.entries,
                        report.entries,
                        report.head.as_deref().unwrap_or("-")
                    ),
                    Some(b) => println!("audit chain BROKEN: {b} ({} entries verified before it)", report.entries),
                }
            }
            if report.broken.is_some() { ExitCode::from(3) } else { ExitCode::SUCCESS }
        }
        Command::Export { actor, subject, kind } => {
            let mut q = AuditQuery {
                actor: actor.clone(),
                subject: subject.clone(),
                kind: kind.clone(),
                limit: MAX_AUDIT_PAGE,
                ..AuditQuery::default()
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            loop {
                let page = store.audit(&q).await?;
                let Some(last) = page.last() else { break };
                q.after_seq = last.seq;
                for r in &page {
                    serde_json::to_writer(&mut out, r)?;
                    out.write_all(b"\n")?;
                }
            }
            out.flush()?;
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}
