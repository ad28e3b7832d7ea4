//! People with local accounts: logins, Argon2id password hashes, grants, and session tokens.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's default parameters) and stored as PHC
//! strings; they never leave this module in any other form. A session token is `brs_` followed by
//! 48 hex digits (192 random bits) and, like an API key, is stored only as its SHA-256 hash.
//! Creating, disabling and re-keying an account are recorded in the audit chain in the same
//! transaction; opening a session is not (logins are counted by the server's throttle instead).

use std::fmt;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use backroom_model::Grant;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Serialize, Serializer};

use crate::keys::{hash_key, micros_to_time};
use crate::query::{Param, Sql};
use crate::rows::RowExt;
use crate::{Result, StoreError};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest login accepted.
pub const MAX_LOGIN_CHARS: usize = 64;

/// What a new account should be.
#[derive(Clone)]
pub struct NewUser {
    /// The name the person logs in with: lower-case letters, digits, `.`, `_`, `-` and `@`.
    pub login: String,
    /// The person's name as shown to others.
    pub display_name: String,
    /// The roles the person holds, at their scopes.
    pub grants: Vec<Grant>,
    /// The chosen password, at least [`MIN_PASSWORD_CHARS`] characters (never stored).
    pub password: String,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("login", &self.login)
            .field("display_name", &self.display_name)
            .field("grants", &self.grants)
            .field("password", &"***")
            .finish()
    }
}

/// A person's account as stored (never its password or hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// The account's id.
    pub id: String,
    /// The login.
    pub login: String,
    /// The person's name as shown to others.
    pub display_name: String,
    /// The roles the person holds, written `store_manager@S001` or `auditor`.
    #[serde(serialize_with = "grant_texts")]
    pub grants: Vec<Grant>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account was disabled; a disabled account cannot log in.
    pub disabled_at: Option<DateTime<Utc>>,
}

fn grant_texts<S: Serializer>(grants: &[Grant], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(grants.iter().map(ToString::to_string))
}

/// A session opened by logging in: the bearer secret (shown once) and when it stops working.
#[derive(Clone)]
pub struct SessionToken {
    /// `brs_` and 48 hex digits; stored only as its SHA-256 hash.
    pub secret: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionToken").field("secret", &"brs_***").field("expires_at", &self.expires_at).finish()
    }
}

/// A change to the accounts, committed by the writer (with its audit entry, when it has one).
#[derive(Clone)]
pub enum UserChange {
    /// A new account and its password hash (PHC string).
    Create(User, String),
    /// Disables the account with this id at this time and ends its sessions; fails with a
    /// conflict if it is already disabled.
    Disable(String, DateTime<Utc>),
    /// Replaces the password hash of the account with this id and ends its sessions.
    SetPassword(String, String),
    /// Opens a session: the secret's hash, the account's id, created and expiry times. Expired
    /// sessions of the account are removed at the same time.
    OpenSession {
        /// Hex SHA-256 of the secret.
        hash: String,
        /// The account.
        user_id: String,
        /// When it was opened.
        created_at: DateTime<Utc>,
        /// When it ends.
        expires_at: DateTime<Utc>,
    },
}

impl fmt::Debug for UserChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserChange::Create(u, _) => f.debug_tuple("Create").field(&u.login).finish(),
            UserChange::Disable(id, at) => f.debug_tuple("Disable").field(id).field(at).finish(),
            UserChange::SetPassword(id, _) => f.debug_tuple("SetPassword").field(id).finish(),
            UserChange::OpenSession { user_id, expires_at, .. } => {
                f.debug_struct("OpenSession").field("user_id", user_id).field("expires_at", expires_at).finish()
            }
        }
    }
}

/// Checks a login: 1 to 64 characters among lower-case ASCII letters, digits, `.`, `_`, `-`, `@`.
pub fn check_login(login: &str) -> Result<()> {
    let ok = !login.is_empty()
        && login.chars().count() <= MAX_LOGIN_CHARS
        && login.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "login {login:?} is not valid: use 1 to {MAX_LOGIN_CHARS} lower-case letters, digits, `.`, `_`, `-` or `@`"
        )))
    }
}

/// Checks a password's length (at least [`MIN_PASSWORD_CHARS`] characters).
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "password is too short ({n} characters): use at least {MIN_PASSWORD_CHARS}"
        )));
    }
    Ok(())
}

pub(crate) fn check_new(new: &NewUser) -> Result<()> {
    check_login(&new.login)?;
    if new.display_name.trim().is_empty() {
        return Err(StoreError::Invalid("display_name is empty: give the person's name".to_owned()));
    }
    check_password(&new.password)
}

/// Hashes a password with Argon2id into a PHC string. CPU-heavy: call from a blocking thread.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Config(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string. CPU-heavy: call from a blocking thread.
pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password is checked against for real: verifying against it costs what verifying
/// a real account costs, so an unknown login takes as long to refuse as a wrong password.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        hash_password(&hex::encode(bytes)).unwrap_or_default()
    })
}

/// Runs CPU-heavy password work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::Config(format!("password hashing failed: {e}")))
}

pub(crate) fn new_record(new: &NewUser) -> User {
    User {
        id: uuid::Uuid::now_v7().to_string(),
        login: new.login.clone(),
        display_name: new.display_name.trim().to_owned(),
        grants: new.grants.clone(),
        created_at: micros_to_time(Utc::now().timestamp_micros()),
        disabled_at: None,
    }
}

/// A new session secret and its hash.
pub(crate) fn session_secret() -> (String, String) {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("brs_{}", hex::encode(bytes));
    let hash = hash_key(&secret);
    (secret, hash)
}

/// An account as the audit record shows it: never a password or hash.
pub(crate) fn view(u: &User) -> serde_json::Value {
    serde_json::json!({
        "id": u.id, "login": u.login, "display_name": u.display_name,
        "grants": u.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "disabled_at": u.disabled_at,
    })
}

pub(crate) const USER_COLUMNS: &str = "id, login, display_name, grants, created_at, disabled_at";

pub(crate) fn user_row(r: &impl RowExt) -> sqlx::Result<User> {
    let texts: Vec<String> = serde_json::from_str(&r.text("grants")?)
        .map_err(|e| sqlx::Error::Decode(format!("stored grants are not valid: {e}").into()))?;
    let grants = texts
        .iter()
        .map(|g| g.parse::<Grant>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Decode(format!("stored grants are not valid: {e}").into()))?;
    Ok(User {
        id: r.text("id")?,
        login: r.text("login")?,
        display_name: r.text("display_name")?,
        grants,
        created_at: micros_to_time(r.int("created_at")?),
        disabled_at: r.opt_int("disabled_at")?.map(micros_to_time),
    })
}

/// The statements of account changes, in order.
pub(crate) fn statements(changes: &[UserChange]) -> Vec<Sql> {
    let mut out = Vec::new();
    for c in changes {
        match c {
            UserChange::Create(u, phc) => {
                let grants: Vec<String> = u.grants.iter().map(ToString::to_string).collect();
                let mut s = Sql::default();
                s.push("INSERT INTO users (id, login, display_name, grants, password_hash, created_at) VALUES (");
                s.bind("?", Param::Text(u.id.clone()));
                s.bind(", ?", Param::Text(u.login.clone()));
                s.bind(", ?", Param::Text(u.display_name.clone()));
                s.bind(", ?", Param::Text(serde_json::to_string(&grants).unwrap_or_default()));
                s.bind(", ?", Param::Text(phc.clone()));
                s.bind(", ?)", Param::Int(u.created_at.timestamp_micros()));
                out.push(s);
            }
            UserChange::Disable(id, at) => {
                let mut s = Sql::default();
                s.bind("UPDATE users SET disabled_at = ?", Param::Int(at.timestamp_micros()));
                s.bind(" WHERE id = ? AND disabled_at IS NULL", Param::Text(id.clone()));
                s.must_change = true;
                out.push(s);
                out.push(end_sessions(id));
            }
            UserChange::SetPassword(id, phc) => {
                let mut s = Sql::default();
                s.bind("UPDATE users SET password_hash = ?", Param::Text(phc.clone()));
                s.bind(" WHERE id = ?", Param::Text(id.clone()));
                s.must_change = true;
                out.push(s);
                out.push(end_sessions(id));
            }
            UserChange::OpenSession { hash, user_id, created_at, expires_at } => {
                let mut s = Sql::default();
                s.bind("DELETE FROM user_sessions WHERE user_id = ?", Param::Text(user_id.clone()));
                s.bind(" AND expires_at <= ?", Param::Int(created_at.timestamp_micros()));
                out.push(s);
                let mut s = Sql::default();
                s.push("INSERT INTO user_sessions (hash, user_id, created_at, expires_at) VALUES (");
                s.bind("?", Param::Text(hash.clone()));
                s.bind(", ?", Param::Text(user_id.clone()));
                s.bind(", ?", Param::Int(created_at.timestamp_micros()));
                s.bind(", ?)", Param::Int(expires_at.timestamp_micros()));
                out.push(s);
            }
        }
    }
    out
}

fn end_sessions(user_id: &str) -> Sql {
    let mut s = Sql::default();
    s.bind("DELETE FROM user_sessions WHERE user_id = ?", Param::Text(user_id.to_owned()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse battery!", &phc));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn logins_and_passwords_are_checked_with_clear_messages() {
        assert!(check_login("anna.berg@s001").is_ok());
        let e = check_login("Anna Berg").expect_err("upper case and space").to_string();
        assert!(e.contains("lower-case"), "{e}");
        let e = check_password("short").expect_err("short").to_string();
        assert!(e.contains("at least 12"), "{e}");
        assert!(check_password("twelve chars").is_ok());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let new =
            NewUser { login: "a".into(), display_name: "A".into(), grants: vec![], password: "hunter2hunter2".into() };
        assert!(!format!("{new:?}").contains("hunter2"));
        let (secret, hash) = session_secret();
        assert!(secret.starts_with("brs_") && secret.len() == 52);
        let token = SessionToken { secret: secret.clone(), expires_at: Utc::now() };
        assert!(!format!("{token:?}").contains(&secret[4..]));
        let change = UserChange::SetPassword("id".into(), "$argon2id$secret".into());
        assert!(!format!("{change:?}").contains("argon2id"));
        assert_eq!(hash.len(), 64);
    }
}
