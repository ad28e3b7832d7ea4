//! `backroom users create|list|disable|set-password`: people's accounts in the local store.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use backroom_model::Grant;
use backroom_store::NewUser;

use super::open_store;
use crate::Cli;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an account; the password is read from standard input (never from an argument).
    Create {
        /// The login: lower-case letters, digits, `.`, `_`, `-` and `@`.
        #[arg(long)]
        login: String,
        /// The person's name.
        #[arg(long)]
        name: String,
        /// A role at a scope, such as `store_manager@S001`, or `auditor` for the whole company
        /// (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Read the password (at least 12 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts (never their passwords).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: it can no longer log in, and its sessions end.
    Disable {
        /// The account's login.
        login: String,
    },
    /// Set an account's password from standard input; its sessions end.
    SetPassword {
        /// The account's login.
        login: String,
        /// Read the password (at least 12 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The first line of standard input, without its line ending.
fn password_from_stdin(flag: bool) -> anyhow::Result<String> {
    if !flag {
        anyhow::bail!("give --password-stdin and pipe the password in: passwords are never taken as arguments");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

pub async fn run(cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Create { login, name, grants, password_stdin } => {
            let grants = grants
                .iter()
                .map(|g| g.parse::<Grant>().with_context(|| format!("--grant {g:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let password = password_from_stdin(*password_stdin)?;
            let store = open_store(cli).await?;
            let new = NewUser { login: login.clone(), display_name: name.clone(), grants, password };
            let created = store.create_user(&new, &super::local_actor()).await;
            store.close().await;
            let user = created?;
            let grants: Vec<String> = user.grants.iter().map(ToString::to_string).collect();
            eprintln!("created account {} ({}) with grants {}", user.login, user.display_name, grants.join(", "));
        }
        Command::List { json } => {
            let store = open_store(cli).await?;
            let users = store.list_users().await;
            store.close().await;
            let users = users?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                println!("{:<24} {:<24} {:<40} STATUS", "LOGIN", "NAME", "GRANTS");
                for u in users {
                    let status = u
                        .disabled_at
                        .map_or("active".to_owned(), |t| format!("disabled {}", t.format("%Y-%m-%d %H:%M")));
                    let grants: Vec<String> = u.grants.iter().map(ToString::to_string).collect();
                    println!("{:<24} {:<24} {:<40} {status}", u.login, u.display_name, grants.join(","));
                }
            }
        }
        Command::Disable { login } => {
            let store = open_store(cli).await?;
            let disabled = store.disable_user(login, &super::local_actor()).await;
            store.close().await;
            let user = disabled?;
            eprintln!("disabled account {}; its sessions have ended", user.login);
        }
        Command::SetPassword { login, password_stdin } => {
            let password = password_from_stdin(*password_stdin)?;
            let store = open_store(cli).await?;
            let changed = store.set_password(login, &password, &super::local_actor()).await;
            store.close().await;
            let user = changed?;
            eprintln!("set the password of {}; its sessions have ended", user.login);
        }
    }
    Ok(ExitCode::SUCCESS)
}
