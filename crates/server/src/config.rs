//! Configuration: defaults that work on a laptop, then a TOML file, then `BACKROOM_*`
//! environment variables, then command-line flags — each overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting of a Backroom process.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded SQLite store and the process lock live (`BACKROOM_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Address the HTTP API listens on (`BACKROOM_LISTEN`).
    pub listen: SocketAddr,
    /// `postgres://…` to use PostgreSQL instead of SQLite (`BACKROOM_DATABASE_URL`).
    pub database_url: Option<String>,
    /// PostgreSQL schema to use; the connection's default when unset (`BACKROOM_DATABASE_SCHEMA`).
    pub database_schema: Option<String>,
    /// Largest request body accepted, in bytes (`BACKROOM_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Largest number of events one group commit takes (`BACKROOM_MAX_GROUP_EVENTS`).
    pub max_group_events: usize,
    /// Database connections for readers (`BACKROOM_READ_CONNECTIONS`).
    pub read_connections: u32,
    /// An admin API key installed when the store has no key yet (`BACKROOM_BOOTSTRAP_ADMIN_KEY`).
    /// At least 32 characters. Never logged.
    pub bootstrap_admin_key: Option<String>,
    /// Log filter, such as `info` or `backroom=debug` (`BACKROOM_LOG`).
    pub log: String,
    /// How long a session opened with `POST /auth/token` lasts, in minutes
    /// (`BACKROOM_SESSION_TTL_MINUTES`, default 480).
    pub session_ttl_minutes: u32,
    /// Failed logins for one login, or from one client address, after which further attempts
    /// are answered `too_many_attempts` until the window passes (`BACKROOM_LOGIN_MAX_FAILURES`,
    /// default 5). Counted in the memory of each process.
    pub login_max_failures: u32,
    /// The window failed logins are counted in, in seconds (`BACKROOM_LOGIN_WINDOW_SECONDS`,
    /// default 900).
    pub login_window_seconds: u64,
    /// The OpenID Connect identity provider whose JWTs are accepted as bearer tokens (the
    /// `[oidc]` section); none by default.
    pub oidc: Option<crate::identity::oidc::OidcConfig>,
    /// Requests per second each API key (and each inbound webhook source) may send, sustained
    /// (`BACKROOM_RATE_LIMIT_PER_SECOND`).
    pub rate_limit_per_second: u32,
    /// Requests each API key (and each webhook source) may send at once before the sustained
    /// rate applies (`BACKROOM_RATE_LIMIT_BURST`).
    pub rate_limit_burst: u32,
    /// Signed webhooks: `[[webhooks.inbound]]` partners that push, `[[webhooks.outbound]]`
    /// subscribers notified of audit entries. Only in the file.
    pub webhooks: crate::webhooks::WebhooksConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./backroom-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            database_schema: None,
            max_body_bytes: 16 * 1024 * 1024,
            max_group_events: 8192,
            read_connections: 8,
            bootstrap_admin_key: None,
            log: "info".to_owned(),
            session_ttl_minutes: 480,
            login_max_failures: 5,
            login_window_seconds: 900,
            oidc: None,
            rate_limit_per_second: 50,
            rate_limit_burst: 200,
            webhooks: crate::webhooks::WebhooksConfig::default(),
        }
    }
}

/// Settings given on the command line; `None` leaves the lower layers' value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// The configuration file could not be read or a setting is invalid.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

const KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "database_url",
    "database_schema",
    "max_body_bytes",
    "max_group_events",
    "read_connections",
    "bootstrap_admin_key",
    "log",
    "session_ttl_minutes",
    "login_max_failures",
    "login_window_seconds",
    "rate_limit_per_second",
    "rate_limit_burst",
];

impl Config {
    /// Loads the configuration: defaults, then `file` (which must exist when given), then the
    /// environment, then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!("the configuration file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("BACKROOM_").only(KEYS)).merge(Serialized::defaults(overrides));
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.bootstrap_admin_key
            && key.len() < 32
        {
            return Err(ConfigError("bootstrap_admin_key must be at least 32 characters long".to_owned()));
        }
        if self.session_ttl_minutes == 0 {
            return Err(ConfigError("session_ttl_minutes must be at least 1".to_owned()));
        }
        if self.login_max_failures == 0 {
            return Err(ConfigError("login_max_failures must be at least 1".to_owned()));
        }
        if let Some(oidc) = &self.oidc
            && oidc.jwks_url.is_some() == oidc.jwks_file.is_some()
        {
            return Err(ConfigError("[oidc] needs exactly one of jwks_url and jwks_file".to_owned()));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError("max_body_bytes must be at least 1024".to_owned()));
        }
        if self.rate_limit_per_second == 0 {
            return Err(ConfigError("rate_limit_per_second must be at least 1 (default 50)".to_owned()));
        }
        if self.rate_limit_burst == 0 {
            return Err(ConfigError("rate_limit_burst must be at least 1 (default 200)".to_owned()));
        }
        self.webhooks.check().map_err(ConfigError)?;
        Ok(())
    }

    /// The store settings this configuration names.
    pub fn store(&self) -> backroom_store::StoreConfig {
        backroom_store::StoreConfig {
            database_url: self.database_url.clone(),
            data_dir: self.data_dir.clone(),
            schema: self.database_schema.clone(),
            max_group_events: self.max_group_events,
            read_connections: self.read_connections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("backroom.toml", "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 4096\n")?;
            jail.set_env("BACKROOM_MAX_BODY_BYTES", "8192");
            jail.set_env("BACKROOM_TEST_DATABASE_URL", "ignored");
            let c = Config::load(Some(Path::new("backroom.toml")), &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.max_body_bytes, 8192);
            let flags = Overrides { listen: Some("127.0.0.1:7000".parse().expect("addr")), ..Default::default() };
            let c = Config::load(Some(Path::new("backroom.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 7000);
            jail.create_file("bad.toml", "lisen = 1\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), &Overrides::default()).expect_err("unknown key");
            assert!(err.to_string().contains("lisen"), "{err}");
            jail.create_file(
                "oidc.toml",
                "session_ttl_minutes = 60\n[oidc]\nissuer = \"https://idp.example\"\naudience = \"backroom\"\n\
                 jwks_file = \"jwks.json\"\nroles_claim = \"groups\"\n[oidc.role_map]\nstore-managers = \"store_manager\"\n",
            )?;
            let c = Config::load(Some(Path::new("oidc.toml")), &Overrides::default()).map_err(|e| e.to_string())?;
            let oidc = c.oidc.expect("oidc section");
            assert_eq!(
                (c.session_ttl_minutes, oidc.grants_claim.as_str(), oidc.leeway_seconds),
                (60, "backroom_grants", 60)
            );
            assert_eq!(oidc.role_map["store-managers"], "store_manager");
            jail.create_file("typo.toml", "[oidc]\nissuer = \"i\"\naudience = \"a\"\njwks_file = \"f\"\nleeway = 5\n")?;
            let err = Config::load(Some(Path::new("typo.toml")), &Overrides::default()).expect_err("unknown oidc key");
            assert!(err.to_string().contains("leeway"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn webhooks_and_rate_limits_are_read_from_the_file_and_checked() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "hooks.toml",
                r#"
rate_limit_per_second = 5

[[webhooks.inbound]]
source = "pos-cloud"
secrets = ["0123456789abcdef-new", "0123456789abcdef-old"]
body = "events"

[[webhooks.outbound]]
name = "ops-feed"
url = "https://hooks.example.com/backroom"
secrets = ["0123456789abcdef-out"]
kinds = ["task.decided", "dead_letter.created"]
"#,
            )?;
            jail.set_env("BACKROOM_RATE_LIMIT_BURST", "20");
            let c = Config::load(Some(Path::new("hooks.toml")), &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!((c.rate_limit_per_second, c.rate_limit_burst), (5, 20));
            let inbound = &c.webhooks.inbound[0];
            assert_eq!((inbound.source.as_str(), inbound.secrets.len()), ("pos-cloud", 2));
            assert_eq!(inbound.tolerance_seconds, 300, "the default tolerance");
            assert_eq!(c.webhooks.outbound[0].cursor(), "webhook:ops-feed");
            assert!(c.webhooks.outbound[0].wants("task.decided") && !c.webhooks.outbound[0].wants("key.created"));
            assert!(!format!("{c:?}").contains("0123456789abcdef"), "secrets stay out of Debug output");

            jail.create_file("bad.toml", "[[webhooks.outbound]]\nname = \"x\"\nurl = \"ftp://h/\"\nsecrets = [\"0123456789abcdef\"]\nkinds = [\"*\"]\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), &Overrides::default()).expect_err("ftp");
            assert!(err.to_string().contains("webhooks.outbound[0].url"), "{err}");
            jail.create_file("zero.toml", "rate_limit_per_second = 0\n")?;
            let err = Config::load(Some(Path::new("zero.toml")), &Overrides::default()).expect_err("zero rate");
            assert!(err.to_string().contains("rate_limit_per_second"), "{err}");
            Ok(())
        });
    }
}
