//! The route table of each system, the router built from it and the OpenAPI document described
//! by it, plus the administrative endpoints every system shares.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router, middleware};
use serde_json::{Value, json};
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required,
    ResponseBuilder,
};

use super::faults::Faults;
use super::http::{self, ApiError, AppState, Change, Command, Halt};
use super::master::{self, MasterData};
use super::{System, db, erp, pos, wms};

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
}

/// One operation of a system's API: its documentation and its handler.
pub(crate) struct Route {
    pub verb: Verb,
    /// Path below `/api`, with `{param}` placeholders (the same syntax in axum and OpenAPI).
    pub path: &'static str,
    /// One-line summary for the OpenAPI document.
    pub summary: &'static str,
    /// Query parameters the operation reads.
    pub query: &'static [&'static str],
    /// Status of a successful answer.
    pub status: u16,
    pub handler: MethodRouter<AppState>,
}

impl Route {
    /// A `GET` route answering 200.
    pub fn get(path: &'static str, summary: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self { verb: Verb::Get, path, summary, query: &[], status: 200, handler }
    }

    /// A `POST` route answering 200.
    pub fn post(path: &'static str, summary: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self { verb: Verb::Post, path, summary, query: &[], status: 200, handler }
    }

    /// A `PUT` route answering 200.
    pub fn put(path: &'static str, summary: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self { verb: Verb::Put, path, summary, query: &[], status: 200, handler }
    }

    /// Names the query parameters.
    pub fn query(mut self, query: &'static [&'static str]) -> Self {
        self.query = query;
        self
    }

    /// Marks the route as creating a resource (201).
    pub fn created(mut self) -> Self {
        self.status = 201;
        self
    }
}

fn routes(system: System) -> Vec<Route> {
    match system {
        System::Erp => erp::routes(),
        System::Wms => wms::routes(),
        System::Pos => pos::routes(),
    }
}

/// Largest master-data document accepted.
const MASTER_DATA_MAX_BYTES: usize = 256 * 1024 * 1024;

/// The whole HTTP application of one system.
pub(crate) fn router(state: AppState) -> Router {
    let mut api = Router::new().route("/openapi.json", get(openapi_json));
    for route in routes(state.system) {
        api = api.route(route.path, route.handler);
    }
    let api = api.fallback(unknown_route).layer(middleware::from_fn_with_state(state.clone(), http::inject_faults));
    Router::new()
        .nest("/api", api)
        .route("/healthz", get(healthz))
        // A large retailer's master data (50 stores × 2,000 items is ~20 MB) exceeds the default
        // request limit; master data comes from the operator, not from the network at large.
        .route(
            "/admin/master",
            axum::routing::put(load_master).layer(axum::extract::DefaultBodyLimit::max(MASTER_DATA_MAX_BYTES)),
        )
        .route("/admin/state", get(admin_state))
        .route("/admin/faults", get(get_faults).put(put_faults))
        .fallback(unknown_route)
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such endpoint; see /api/openapi.json")
}

async fn openapi_json(State(state): State<AppState>) -> Json<Value> {
    Json(openapi_value(state.system))
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.pool).await?;
    Ok(Json(json!({"status": "ok", "system": state.system.as_str()})))
}

async fn load_master(State(state): State<AppState>, command: Command<MasterData>) -> http::Answer {
    let mut change = Change::begin(&state, &command).await?;
    let loaded = master::load(state.system, change.conn(), &command.body).await?;
    change.commit(StatusCode::OK, loaded).await
}

async fn admin_state(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let tables = db::table_counts(&state.pool).await?;
    Ok(Json(json!({"system": state.system.as_str(), "tables": tables})))
}

async fn get_faults(State(state): State<AppState>) -> Json<Faults> {
    let faults = state.faults.lock().unwrap_or_else(|p| p.into_inner()).faults().clone();
    Json(faults)
}

async fn put_faults(State(state): State<AppState>, command: Command<Faults>) -> Result<impl IntoResponse, Halt> {
    let faults = command.body;
    faults.validate().map_err(|(field, message)| ApiError::validation(field, message))?;
    state.faults.lock().unwrap_or_else(|p| p.into_inner()).replace(faults.clone());
    tracing::info!(system = %state.system, ?faults, "faults replaced");
    Ok(Json(faults))
}

/// The OpenAPI 3.1 document of a system, as JSON.
pub(crate) fn openapi_value(system: System) -> Value {
    serde_json::to_value(document(system)).unwrap_or_else(|e| json!({"error": e.to_string()}))
}

fn document(system: System) -> OpenApi {
    let mut paths = Paths::new();
    let error_ref = Ref::from_schema_name("Error");
    let json_object = || ObjectBuilder::new().schema_type(Type::Object).build();
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    for route in routes(system) {
        let (method, verb) = match route.verb {
            Verb::Get => (HttpMethod::Get, "get"),
            Verb::Post => (HttpMethod::Post, "post"),
            Verb::Put => (HttpMethod::Put, "put"),
        };
        let operation_id = format!("{verb}{}", route.path.replace(['/', '{', '}', '-'], "_"));
        let mut op =
            OperationBuilder::new().summary(Some(route.summary)).operation_id(Some(operation_id)).tag(system.as_str());
        let mut has_path_params = false;
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                has_path_params = true;
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(string())),
                );
            }
        }
        for name in route.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(string())),
            );
        }
        let mut errors = vec![("400", "Malformed request"), ("503", "Unavailable (fault injection or outage)")];
        if route.verb != Verb::Get {
            op = op
                .parameter(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("Repeating a key returns the first answer and changes nothing"))
                        .schema(Some(string())),
                )
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/json", ContentBuilder::new().schema(Some(json_object())).build())
                        .build(),
                ));
            errors.push(("409", "Conflict with an existing document"));
        }
        errors.push(("422", "Validation failed; `field` names the offending value"));
        if has_path_params {
            errors.push(("404", "Unknown resource"));
        }
        op = op.response(
            route.status.to_string(),
            ResponseBuilder::new()
                .description("Success")
                .content("application/json", ContentBuilder::new().schema(Some(json_object())).build())
                .build(),
        );
        for (status, description) in errors {
            op = op.response(
                status,
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", ContentBuilder::new().schema(Some(error_ref.clone())).build())
                    .build(),
            );
        }
        paths.add_path_operation(format!("/api{}", route.path), vec![method], op.build());
    }
    let error_schema = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("error", ObjectBuilder::new().schema_type(Type::String).description(Some("Error code")))
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .property(
            "field",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some("JSON path of the offending value")),
        )
        .required("error")
        .required("message")
        .build();
    OpenApiBuilder::new()
        .info(InfoBuilder::new().title(system.title()).version(env!("CARGO_PKG_VERSION")).description(Some(format!(
            "The {} of the Backroom reference systems. Amounts and quantities are decimal strings.",
            system.title()
        ))))
        .paths(paths)
        .components(Some(ComponentsBuilder::new().schema("Error", error_schema).build()))
        .build()
}
