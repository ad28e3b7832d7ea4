//! `backroom keys create|list|revoke`.

use std::process::ExitCode;

use anyhow::Context;
use backroom_model::Role;
use backroom_store::NewApiKey;

use super::open_store;
use crate::Cli;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a key and print its secret (shown once; only its hash is stored).
    Create {
        /// Who or what will use the key (a person, `pos-gateway`, `erp-sync`).
        #[arg(long)]
        name: String,
        /// A role of the key, such as `integration` (repeatable; default admin).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// A location code the key is limited to (repeatable; default the whole company).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// List keys (never their secrets).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id, or by name when one active key has it.
    Revoke {
        /// The key's id or name.
        key: String,
    },
}

pub async fn run(cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    if let Command::Create { roles, .. } = cmd {
        for role in roles {
            role.parse::<Role>().with_context(|| format!("--role {role:?}"))?;
        }
    }
    let store = open_store(cli).await?;
    match cmd {
        Command::Create { name, roles, scopes } => {
            let roles = if roles.is_empty() { vec!["admin".to_owned()] } else { roles.clone() };

            let new = NewApiKey { name: name.clone(), roles, scopes: scopes.clone() };
            let (key, secret) = store.create_key(&new, &super::local_actor()).await?;
            eprintln!("created key {} ({}) with roles {}", key.id, key.name, key.roles.join(", "));
            eprintln!("store the secret now: it is not shown again");
            println!("{secret}");
        }
        Command::List { json } => {
            let keys = store.list_keys().await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                println!("{:<38} {:<20} {:<14} {:<20} {:<12} STATUS", "ID", "NAME", "PREFIX", "ROLES", "SCOPES");
                for k in keys {
                    let status =
                        k.revoked_at.map_or("active".to_owned(), |t| format!("revoked {}", t.format("%Y-%m-%d %H:%M")));
                    let scopes = if k.scopes.is_empty() { "company".to_owned() } else { k.scopes.join(",") };
                    println!(
                        "{:<38} {:<20} {:<14} {:<20} {:<12} {status}",
                        k.id,
                        k.name,
                        k.prefix,
                        k.roles.join(","),
                        scopes
                    );
                }
            }
        }
        Command::Revoke { key } => {
            let k = store.revoke_key(key, &super::local_actor()).await?;
            eprintln!("revoked key {} ({})", k.id, k.name);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
