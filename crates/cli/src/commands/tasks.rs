//! `backroom tasks list|show|decide`: the inbox of a running server, from the command line.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::{Remote, api_error};

/// Tasks people decide.
#[derive(clap::Subcommand)]
pub enum Command {
    /// The open tasks the key may see, highest priority then earliest due first.
    List {
        /// Only tasks for this role.
        #[arg(long)]
        role: Option<String>,
        /// Only tasks at this location or below it.
        #[arg(long)]
        location: Option<String>,
        /// `open` (default), `claimed`, `decided` or `cancelled`.
        #[arg(long, default_value = "open")]
        status: String,
        /// Print the server's JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// One task with its evidence and allowed outcomes.
    Show {
        /// The task id.
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Decide a task: an outcome it allows, optional fields (`name=value`) and a comment.
    Decide {
        /// The task id.
        id: String,
        /// The outcome.
        outcome: String,
        /// A field of a `modify` outcome, as name=value (repeatable).
        #[arg(long = "field")]
        fields: Vec<String>,
        /// A comment for the instance's timeline.
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::new();
    match cmd {
        Command::List { role, location, status, json, remote } => {
            let (server, key) = target(remote)?;
            let mut query = vec![("status", status.clone())];
            query.extend(role.clone().map(|r| ("role", r)));
            query.extend(location.clone().map(|l| ("location", l)));
            let page = get(&client, &format!("{server}/v1/tasks"), &key, &query).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&page)?);
                return Ok(ExitCode::SUCCESS);
            }
            let tasks = page["tasks"].as_array().cloned().unwrap_or_default();
            for t in &tasks {
                println!(
                    "{}  {:<18} {:<8} due {:<25} {}",
                    text(&t["id"]),
                    text(&t["role"]),
                    text(&t["location"]),
                    text(&t["due_at"]),
                    text(&t["title"])
                );
            }
            eprintln!("{} task(s)", tasks.len());
        }
        Command::Show { id, remote } => {
            let (server, key) = target(remote)?;
            let task = get(&client, &format!("{server}/v1/tasks/{id}"), &key, &[]).await?;
            println!("{}", serde_json::to_string_pretty(&task)?);
        }
        Command::Decide { id, outcome, fields, comment, remote } => {
            let (server, key) = target(remote)?;
            let mut given = Map::new();
            for f in fields {
                let (name, value) =
                    f.split_once('=').with_context(|| format!("--field {f:?}: write it as name=value"))?;
                given.insert(name.to_owned(), Value::String(value.to_owned()));
            }
            let body = json!({"outcome": outcome, "fields": given, "comment": comment});
            let response = client
                .post(format!("{server}/v1/tasks/{id}/decision"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .with_context(|| format!("reaching {server}"))?;
            if !response.status().is_success() {
                return Err(api_error(response).await);
            }
            let task: Value = response.json().await?;
            println!("{} {} by {}", text(&task["id"]), text(&task["status"]), text(&task["decided_by"]));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn target(remote: &Remote) -> anyhow::Result<(String, String)> {
    remote.target()?.context("tasks live on a running server: give --server and --key (or BACKROOM_SERVER)")
}

async fn get(client: &reqwest::Client, url: &str, key: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
    let response =
        client.get(url).bearer_auth(key).query(query).send().await.with_context(|| format!("reaching {url}"))?;
    if !response.status().is_success() {
        return Err(api_error(response).await);
    }
    Ok(response.json().await?)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}
