//! `backroom workflows validate|upload`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::{Remote, api_error};

/// Workflow definitions.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check definitions without saving them: every problem with file, line, column and step.
    Validate {
        /// Definition files (YAML); table files they name are read relative to each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Save definitions on a running server (a new version for each that changed).
    Upload {
        /// Definition files (YAML); their tables must be inline.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(cmd: &Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Validate { files } => Ok(validate(files)),
        Command::Upload { files, remote } => upload(files, remote).await,
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: cannot read it: {e}");
                failed = true;
                continue;
            }
        };
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = move |relative: &str| {
            std::fs::read_to_string(dir.join(relative)).map_err(|e| format!("{}: {e}", dir.join(relative).display()))
        };
        match backroom_engine::workflow::load(&name, &text, &resolve) {
            Ok(w) => {
                println!("{name}: ok — {} v{} ({} steps, trigger {})", w.id, w.version, w.steps.len(), w.trigger.event)
            }
            Err(problems) => {
                failed = true;
                for p in problems.iter() {
                    eprintln!("{p}");
                }
            }
        }
    }
    if failed { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

async fn upload(files: &[PathBuf], remote: &Remote) -> anyhow::Result<ExitCode> {
    let Some((server, key)) = remote.target()? else {
        anyhow::bail!("upload needs --server and --key (or BACKROOM_SERVER and BACKROOM_API_KEY)");
    };
    let client = reqwest::Client::new();
    let mut failed = false;
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let response = client
            .post(format!("{server}/v1/workflows"))
            .bearer_auth(&key)
            .header(reqwest::header::CONTENT_TYPE, "application/yaml")
            .body(text)
            .send()
            .await
            .with_context(|| format!("cannot reach {server}"))?;
        let status = response.status();
        if status.is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let verb = if status == reqwest::StatusCode::CREATED { "saved as" } else { "unchanged at" };
            println!("{}: {verb} {} v{}", file.display(), body["workflow"].as_str().unwrap_or("?"), body["version"]);
        } else if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
            failed = true;
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            for p in body["problems"].as_array().into_iter().flatten() {
                eprintln!(
                    "{}:{}:{}: {}{}",
                    file.display(),
                    p["line"],
                    p["column"],
                    p["step"].as_str().map(|s| format!("step {s}: ")).unwrap_or_default(),
                    p["message"].as_str().unwrap_or("")
                );
            }
        } else {
            return Err(api_error(response).await);
        }
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
