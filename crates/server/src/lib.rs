//! The HTTP API of Backroom (axum): ingest, the log, projections, schemas, the workflow engine
//! (definitions, instances, tasks, dead letters, locations, connectors), health and metrics.
//!
//! Every `/v1` route requires credentials; what a caller may do is decided in [`permissions`].
//! Errors share one body shape, `{code, message, type, link}`, from the table in [`error`]. The
//! OpenAPI 3.1 document is generated from the same route declarations that build the router, so
//! a route cannot exist without its documentation.

pub mod auth;
pub mod config;
pub mod error;
pub mod identity;
pub mod limits;
pub mod permissions;
pub mod routes;
mod telemetry;
pub mod webhooks;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use backroom_engine::runner::Engine;
use backroom_store::{NewApiKey, Store};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{Config, Overrides};
use error::{ApiError, ErrorCode};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The workflow engine running in this process.
    pub engine: Engine,
    /// Recently authenticated keys.
    pub keys: Arc<auth::KeyCache>,
    /// The Prometheus recorder's handle.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// The OpenAPI document, serialised once.
    pub openapi: bytes::Bytes,
    /// The routes by method and path, for the permission table.
    pub routes: Arc<permissions::RouteTable>,
    /// Sessions, login throttling and the identity provider.
    pub identity: Arc<identity::Identity>,
    /// The per-caller rate limits of this process.
    pub limits: Arc<limits::RateLimits>,
    /// The configured webhooks, inbound and outbound.
    pub webhooks: Arc<webhooks::WebhooksConfig>,
    /// The delivery state of the outbound webhooks notified by this process.
    pub deliveries: Arc<webhooks::notify::DeliveryBoard>,
}

impl AppState {
    /// The same state with these identity settings.
    pub fn with_identity(self, identity: identity::Identity) -> Self {
        AppState { identity: Arc::new(identity), ..self }
    }
}

/// What can stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Configuration or start-up problem.
    #[error("{0}")]
    Startup(String),
    /// The identity provider's configuration or keys are not usable.
    #[error(transparent)]
    Oidc(#[from] identity::oidc::OidcSetupError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] backroom_store::StoreError),
    /// The listener failed.
    #[error("cannot serve on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// The `/v1` routes: every one requires an API key.
fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::events::ingest, routes::events::list))
        .routes(routes!(routes::documents::ingest))
        .routes(routes!(routes::projections::stock))
        .routes(routes!(routes::projections::daily_sales))
        .routes(routes!(routes::meta::event_types))
        .routes(routes!(routes::meta::event_schema_of))
        .routes(routes!(routes::workflows::list, routes::workflows::upload))
        .routes(routes!(routes::workflows::validate))
        .routes(routes!(routes::workflows::get))
        .routes(routes!(routes::workflows::version))
        .routes(routes!(routes::workflows::activate))
        .routes(routes!(routes::workflows::deactivate))
        .routes(routes!(routes::instances::list))
        .routes(routes!(routes::instances::get))
        .routes(routes!(routes::instances::cancel))
        .routes(routes!(routes::tasks::list))
        .routes(routes!(routes::tasks::get))
        .routes(routes!(routes::tasks::claim))
        .routes(routes!(routes::tasks::decide))
        .routes(routes!(routes::dead_letters::list))
        .routes(routes!(routes::dead_letters::retry))
        .routes(routes!(routes::dead_letters::skip))
        .routes(routes!(routes::dead_letters::compensate))
        .routes(routes!(routes::locations::list, routes::locations::save))
        .routes(routes!(routes::connectors::list))
        .routes(routes!(routes::webhooks::list))
        .routes(routes!(routes::audit::list))
        .routes(routes!(routes::audit::verify))
        .routes(routes!(routes::users::list, routes::users::create))
        .routes(routes!(routes::users::disable))
        .routes(routes!(routes::policies::list))
        .routes(routes!(routes::policies::get, routes::policies::save))
        .routes(routes!(routes::delegations::create, routes::delegations::list))
        .routes(routes!(routes::delegations::revoke))
        .routes(routes!(routes::decisions::overturn))
}

/// Routes open without credentials: logging in, health, readiness, metrics, documentation.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::users::login))
        .routes(routes!(routes::meta::healthz))
        .routes(routes!(routes::meta::readyz))
        .routes(routes!(routes::meta::metrics))
        .routes(routes!(routes::meta::openapi))
        .routes(routes!(routes::meta::errors))
}

/// Inbound webhooks: no API key; the signature is the credential.
fn webhook_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(webhooks::receive::receive))
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = v1_routes().merge(public_routes()).merge(webhook_routes()).split_for_parts();
    doc.info.title = "Backroom API".to_owned();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.info.description = Some(
        "Retail operations orchestration: ingest, event log, projections, workflows, tasks and their instances."
            .to_owned(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("api_key", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    components.add_security_scheme(
        "webhook_signature",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Backroom-Signature",
            "`v1=<hex HMAC-SHA256(secret, \"<timestamp>.<raw body>\")>` (several comma-separated values allowed), \
             with the Unix time in seconds in `Backroom-Timestamp`; the secrets are configured per source",
        ))),
    );
    doc
}

/// Builds the application: routes, authentication, limits, metrics and error shapes.
pub fn app(state: AppState, max_body_bytes: usize) -> Router {
    // Layers run from the last added: the key, then the caller's rate, then its permission.
    let v1 = v1_routes()
        .route_layer(middleware::from_fn_with_state(state.clone(), permissions::require_permission))
        .route_layer(middleware::from_fn_with_state(state.clone(), limits::limit_callers))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_caller));
    let (router, _) = v1.merge(public_routes()).merge(webhook_routes()).split_for_parts();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn(body_limit_errors))
        .layer(middleware::from_fn(telemetry::record_http))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(ErrorCode::Internal, "the request failed inside Backroom").into_response()
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no route at this path; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this path does not accept this method; see /openapi.json")
}

/// Turns axum's plain-text 413 (body over the limit) into the API's error shape.
async fn body_limit_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"))
    {
        return ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than max_body_bytes: split the batch",
        )
        .into_response();
    }
    response
}

/// Builds the shared state for a store and the engine running on it, with the default rate
/// limits and no webhooks.
pub fn state(store: Store, engine: Engine) -> AppState {
    state_with(store, engine, &Config::default())
}

/// Builds the shared state with the rate limits and webhooks of `config`.
pub fn state_with(store: Store, engine: Engine, config: &Config) -> AppState {
    let doc = openapi();
    let routes = Arc::new(permissions::RouteTable::from_openapi(&doc));
    let openapi = serde_json::to_vec(&doc).unwrap_or_else(|_| b"{}".to_vec());
    AppState {
        store,
        engine,
        keys: Arc::new(auth::KeyCache::default()),
        metrics: telemetry::prometheus(),
        openapi: bytes::Bytes::from(openapi),
        routes,
        identity: Arc::new(identity::Identity::default()),
        limits: Arc::new(limits::RateLimits::new(config.rate_limit_per_second, config.rate_limit_burst)),
        webhooks: Arc::new(config.webhooks.clone()),
        deliveries: Arc::new(webhooks::notify::DeliveryBoard::default()),
    }
}

/// Installs the bootstrap admin key when the store has no key yet.
pub async fn bootstrap(store: &Store, config: &Config) -> Result<(), ServerError> {
    if let Some(secret) = &config.bootstrap_admin_key
        && store.key_count().await? == 0
    {
        let key = NewApiKey { name: "bootstrap-admin".to_owned(), roles: vec!["admin".to_owned()], scopes: vec![] };
        store.import_key(&key, secret, "bootstrap").await?;
        tracing::info!("installed the bootstrap admin key from the configuration");
    }
    Ok(())
}

/// Serves the API (and notifies the outbound webhooks) until `shutdown` completes, then lets
/// in-flight requests finish (their commits included), stops the notifier and the engine, and
/// closes the store.
pub async fn serve(
    config: &Config,
    store: Store,
    engine: Engine,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    bootstrap(&store, config).await?;
    let identity = identity::Identity::from_config(config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    tracing::info!(%addr, backend = store.backend_name(), "Backroom is serving");
    let state = state_with(store.clone(), engine.clone(), config).with_identity(identity);
    let notifier = webhooks::notify::Notifier::start(
        store.clone(),
        config.webhooks.outbound.clone(),
        Arc::clone(&state.deliveries),
        webhooks::notify::NotifierOptions::default(),
    )
    .map_err(|e| ServerError::Startup(e.to_string()))?;
    let app = app(state, config.max_body_bytes);
    // The peer's address lets login throttling count failures per client address.
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    tracing::info!("no more requests in flight; stopping the webhook notifier and the engine");
    if tokio::time::timeout(Duration::from_secs(30), notifier.shutdown()).await.is_err() {
        tracing::warn!("the webhook notifier did not stop within 30 s");
    }
    if tokio::time::timeout(Duration::from_secs(30), engine.shutdown()).await.is_err() {
        tracing::warn!("the engine did not stop within 30 s; closing the store anyway");
    }
    tracing::info!("closing the store");
    tokio::time::timeout(Duration::from_secs(30), store.close()).await.ok();
    served.map_err(|source| ServerError::Listen { addr, source })
}
