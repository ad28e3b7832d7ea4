//! `backroom events tail`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use backroom_model::EventEnvelope;
use backroom_store::EventQuery;

use super::{Remote, api_error, open_store};
use crate::Cli;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print events as NDJSON, oldest first; with --follow, keep printing new ones.
    Tail {
        /// Start after this seq (default: the last 20 events).
        #[arg(long)]
        after_seq: Option<i64>,
        /// Only this event type.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Only events naming this location.
        #[arg(long)]
        location: Option<String>,
        /// Only events naming this item (GTIN or SKU).
        #[arg(long)]
        item: Option<String>,
        /// Keep waiting for new events.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    let Command::Tail { after_seq, event_type, location, item, follow, remote } = cmd;
    let target = remote.target()?;
    let store = match target {
        Some(_) => None,
        None => Some(open_store(cli).await?),
    };
    let client = reqwest::Client::new();
    let mut query = EventQuery {
        after_seq: 0,
        limit: 1000,
        event_type: event_type.clone(),
        location: location.clone(),
        item: item.clone(),
        ..Default::default()
    };
    query.after_seq = match after_seq {
        Some(s) => *s,
        None => {
            let last = match (&store, &target) {
                (Some(s), _) => s.last_seq().await?,
                (None, Some((server, _))) => remote_last_seq(&client, server).await?,
                (None, None) => 0,
            };
            (last - 20).max(0)
        }
    };
    loop {
        let page = match (&store, &target) {
            (Some(s), _) => s.events(&query).await?,
            (None, Some((server, key))) => fetch(&client, server, key, &query).await?,
            (None, None) => Vec::new(),
        };
        for e in &page {
            println!("{}", serde_json::to_string(e)?);
        }
        if let Some(last) = page.last() {
            query.after_seq = last.seq;
            if page.len() as i64 == query.limit {
                continue;
            }
        }
        if !follow {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn remote_last_seq(client: &reqwest::Client, server: &str) -> anyhow::Result<i64> {
    let ready: serde_json::Value = client.get(format!("{server}/readyz")).send().await?.json().await?;
    Ok(ready["last_seq"].as_i64().unwrap_or(0))
}

async fn fetch(
    client: &reqwest::Client,
    server: &str,
    key: &str,
    q: &EventQuery,
) -> anyhow::Result<Vec<EventEnvelope>> {
    let mut params = vec![("after_seq", q.after_seq.to_string()), ("limit", q.limit.to_string())];
    for (name, v) in [("type", &q.event_type), ("location", &q.location), ("item", &q.item)] {
        if let Some(v) = v {
            params.push((name, v.clone()));
        }
    }
    let response = client
        .get(format!("{server}/v1/events"))
        .bearer_auth(key)
        .query(&params)
        .send()
        .await
        .with_context(|| format!("cannot reach {server}"))?;
    if !response.status().is_success() {
        return Err(api_error(response).await);
    }
    let page: serde_json::Value = response.json().await?;
    Ok(serde_json::from_value(page["events"].clone())?)
}
