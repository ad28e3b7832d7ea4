//! People: `POST /auth/token` (log in for a session token), and the accounts under `/v1/users`.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use backroom_model::Grant;
use backroom_store::{NewUser, StoreError, User};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiPath, check_text, json_body};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode};

/// The one answer to a wrong login or password: it does not say which was wrong.
const WRONG_CREDENTIALS: &str = "the login or password is not correct, or the account is disabled";

/// A login attempt.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's login.
    pub login: String,
    /// Its password.
    pub password: String,
}

/// A person's account (never its password).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct UserView {
    /// The account's id.
    id: String,
    /// The login.
    login: String,
    /// The person's name.
    display_name: String,
    /// The roles the person holds: `store_manager@S001`, or `auditor` over the whole company.
    grants: Vec<String>,
    /// When the account was created.
    created_at: DateTime<Utc>,
    /// When it was disabled; absent while it is active.
    disabled_at: Option<DateTime<Utc>>,
}

/// A session opened by logging in.
#[derive(Serialize, ToSchema)]
pub struct SessionOpened {
    /// The bearer secret (`brs_…`) for `Authorization: Bearer`; shown once.
    pub token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    #[schema(value_type = UserView)]
    pub user: User,
}

/// The client's address, when the server knows the connection's peer.
fn client_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// Log in.
///
/// Checks a login and password and opens a session: the answer's `token` is sent as
/// `Authorization: Bearer <token>` on `/v1` routes until `expires_at`. A wrong login or
/// password is answered 401 without saying which. After too many failures for one login or
/// from one address within the configured window, attempts are answered 429 with `Retry-After`.
#[utoipa::path(
    post,
    path = "/auth/token",
    operation_id = "login",
    tag = "auth",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A session is open", body = SessionOpened),
        (status = 401, description = "The login or password is not correct", body = ErrorBody),
        (status = 422, description = "The body lacks `login` or `password`", body = ErrorBody),
        (status = 429, description = "Too many failed attempts: wait `Retry-After` seconds", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let attempt: LoginRequest = json_body(&headers, &body, None)?;
    let ip = client_ip(&extensions);
    let throttle = &state.identity.throttle;
    if let Some(wait) = throttle.wait(&attempt.login, ip) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::new(
            ErrorCode::TooManyAttempts,
            format!("too many failed logins for this login or from this address: try again in {seconds} s"),
        )
        .with_retry_after(seconds.max(1)));
    }
    match state.store.login(&attempt.login, &attempt.password, state.identity.session_ttl).await? {
        Some((user, token)) => {
            throttle.succeeded(&attempt.login);
            tracing::info!(login = %user.login, "logged in");
            Ok(Json(SessionOpened { token: token.secret, expires_at: token.expires_at, user }).into_response())
        }
        None => {
            throttle.failed(&attempt.login, ip);
            tracing::info!(ip = ?ip, "failed login");
            Err(ApiError::new(ErrorCode::Unauthorized, WRONG_CREDENTIALS))
        }
    }
}

/// The accounts.
#[derive(Serialize, ToSchema)]
pub struct UserList {
    /// Every account by login, disabled ones included.
    #[schema(value_type = Vec<UserView>)]
    pub users: Vec<User>,
}

/// List accounts.
///
/// Every person's account by login, with grants and whether it is disabled; never a password.
#[utoipa::path(
    get,
    path = "/v1/users",
    operation_id = "list_users",
    tag = "users",
    responses(
        (status = 200, description = "The accounts", body = UserList),
        (status = 401, description = "Missing or unknown credentials", body = ErrorBody),
        (status = 403, description = "Only auditors and admins read accounts", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList { users: state.store.list_users().await? }))
}

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The login: lower-case letters, digits, `.`, `_`, `-` and `@`, at most 64.
    pub login: String,
    /// The person's name.
    pub display_name: String,
    /// Roles at scopes: `store_manager@S001`, or `auditor` for the whole company.
    #[serde(default)]
    pub grants: Vec<String>,
    /// The initial password, at least 12 characters.
    pub password: String,
}

/// A store error about accounts as the API answers it.
fn account_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(m) => ApiError::new(ErrorCode::ValidationFailed, m),
        StoreError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
        other => other.into(),
    }
}

/// Create an account.
///
/// Creates a person's account with grants and an initial password (stored only as an Argon2id
/// hash). The creation is recorded in the audit chain with the caller as actor.
#[utoipa::path(
    post,
    path = "/v1/users",
    operation_id = "create_user",
    tag = "users",
    request_body(content = CreateUser, content_type = "application/json"),
    responses(
        (status = 201, description = "The account", body = UserView),
        (status = 401, description = "Missing or unknown credentials", body = ErrorBody),
        (status = 403, description = "Only admins manage accounts", body = ErrorBody),
        (status = 409, description = "The login is taken", body = ErrorBody),
        (status = 422, description = "A field is not acceptable; the message names it", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new: CreateUser = json_body(&headers, &body, None)?;
    check_text("display_name", &new.display_name, false)?;
    let mut grants = Vec::with_capacity(new.grants.len());
    for (i, g) in new.grants.iter().enumerate() {
        let grant: Grant =
            g.parse().map_err(|e| ApiError::new(ErrorCode::ValidationFailed, format!("`grants[{i}]` ({g:?}): {e}")))?;
        grants.push(grant);
    }
    let new = NewUser { login: new.login, display_name: new.display_name, grants, password: new.password };
    let user = state.store.create_user(&new, &caller.name).await.map_err(account_error)?;
    tracing::info!(login = %user.login, by = %caller.name, "account created");
    Ok((axum::http::StatusCode::CREATED, Json(user)).into_response())
}

/// Disable an account.
///
/// The person can no longer log in and every open session ends at once. Recorded in the audit
/// chain with the caller as actor.
#[utoipa::path(
    post,
    path = "/v1/users/{login}/disable",
    operation_id = "disable_user",
    tag = "users",
    params(("login" = String, Path, description = "The account's login")),
    responses(
        (status = 200, description = "The disabled account", body = UserView),
        (status = 401, description = "Missing or unknown credentials", body = ErrorBody),
        (status = 403, description = "Only admins manage accounts", body = ErrorBody),
        (status = 404, description = "No account has this login", body = ErrorBody),
        (status = 409, description = "The account is already disabled", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(login): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    let user = state.store.disable_user(&login, &caller.name).await.map_err(account_error)?;
    tracing::info!(login = %user.login, by = %caller.name, "account disabled");
    Ok(Json(user))
}
