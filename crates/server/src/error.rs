//! The one error body of the API, `{code, message, type, link}`, and the table of codes.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::routes::documents::DocumentProblem;

/// Every error the API answers with. Each has one HTTP status, one type and one explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// No or an unknown API key.
    Unauthorized,
    /// No such route or resource.
    NotFound,
    /// The route exists, with other methods.
    MethodNotAllowed,
    /// The body is larger than `max_body_bytes`.
    PayloadTooLarge,
    /// The body's content type is not one the route accepts.
    UnsupportedMediaType,
    /// The body is not well-formed JSON or NDJSON.
    MalformedJson,
    /// The body is JSON but breaks the event schemas or business rules.
    ValidationFailed,
    /// A query parameter is invalid.
    InvalidQuery,
    /// The key may not do this.
    Forbidden,
    /// The caller may not act on this task: they requested what it approves, approved an
    /// earlier level of its chain, or act for someone who did.
    SegregationOfDuties,
    /// The request conflicts with the current state (a task claimed by someone else, an ended
    /// instance, an entry no longer in the dead-letter list).
    Conflict,
    /// A workflow definition is not valid; `problems` lists every problem.
    DefinitionInvalid,
    /// A partner document is not in a supported format or is invalid; `document_problems` lists
    /// every problem with its place in the document.
    DocumentInvalid,
    /// A task decision was refused: the outcome or a field is not allowed.
    TaskRefused,
    /// Too many failed logins for a login or from an address; retry after `Retry-After`.
    TooManyAttempts,
    /// A webhook delivery's signature is missing or matches no secret of its source.
    WebhookSignatureInvalid,
    /// A webhook delivery was signed too long ago (or too far ahead).
    WebhookTimestampExpired,
    /// A webhook delivery with this signature was already accepted.
    WebhookReplayed,
    /// The caller (or webhook source) sent more requests than its rate allows.
    RateLimited,
    /// The store cannot take the request now; retry later.
    Unavailable,
    /// A fault inside Backroom.
    Internal,
}

/// (code, HTTP status, type, what it means and what to do)
const TABLE: &[(ErrorCode, &str, u16, &str, &str)] = &[
    (
        ErrorCode::Unauthorized,
        "unauthorized",
        401,
        "authentication_error",
        "Send `Authorization: Bearer <secret>` with an API key (`backroom keys create`), a session token from `POST /auth/token`, or a token from the configured identity provider. A wrong login or password at `POST /auth/token` is answered with this code too.",
    ),
    (ErrorCode::NotFound, "not_found", 404, "invalid_request", "No route or resource at this path."),
    (
        ErrorCode::MethodNotAllowed,
        "method_not_allowed",
        405,
        "invalid_request",
        "The path exists but not with this method; see /openapi.json.",
    ),
    (
        ErrorCode::PayloadTooLarge,
        "payload_too_large",
        413,
        "invalid_request",
        "The body is larger than the server's max_body_bytes: split the batch.",
    ),
    (
        ErrorCode::UnsupportedMediaType,
        "unsupported_media_type",
        415,
        "invalid_request",
        "Send `Content-Type: application/json` (one event or an array) or `application/x-ndjson` (one event per line).",
    ),
    (
        ErrorCode::MalformedJson,
        "malformed_json",
        400,
        "invalid_request",
        "The body is not well-formed JSON; the message gives the line and column.",
    ),
    (
        ErrorCode::ValidationFailed,
        "validation_failed",
        422,
        "invalid_request",
        "The body broke its schema or business rules (events, locations, a request's fields); `errors`, when present, lists each problem with the item's index and JSON path. Nothing from the request was stored.",
    ),
    (ErrorCode::InvalidQuery, "invalid_query", 400, "invalid_request", "A query parameter is missing or malformed."),
    (
        ErrorCode::Forbidden,
        "forbidden",
        403,
        "permission_error",
        "The API key is valid but its roles or location scopes do not allow this request. Ask an administrator for a key with the role it needs.",
    ),
    (
        ErrorCode::SegregationOfDuties,
        "segregation_of_duties",
        403,
        "permission_error",
        "Segregation of duties: the caller requested what this task approves, approved an earlier level of its approval chain, or acts through a delegation for someone who did. The message names the reason; another person must decide.",
    ),
    (
        ErrorCode::Conflict,
        "conflict",
        409,
        "invalid_request",
        "The request does not fit the current state: the task is claimed by someone else or already decided, the instance has ended, the entry is no longer a dead letter. Read the resource again and decide anew.",
    ),
    (
        ErrorCode::DefinitionInvalid,
        "definition_invalid",
        422,
        "invalid_request",
        "The workflow definition is not valid; `problems` lists every problem with its file, line, column, step and message. Nothing was saved.",
    ),
    (
        ErrorCode::DocumentInvalid,
        "document_invalid",
        422,
        "invalid_request",
        "The document is not in a supported format (EPCIS, UBL, CII, Factur-X, X12, EDIFACT, POSLog) or breaks its standard's rules; `document_problems` lists each problem with its line and column (and XPath or JSON path), or segment and element, and the rule id when the standard names one. Nothing from the document was stored.",
    ),
    (
        ErrorCode::TaskRefused,
        "task_refused",
        422,
        "invalid_request",
        "The decision does not fit the task: the outcome is not one the task allows, or a field is missing or wrong. The message names the allowed outcomes or the field; nothing changed.",
    ),
    (
        ErrorCode::TooManyAttempts,
        "too_many_attempts",
        429,
        "authentication_error",
        "Too many failed logins for this login or from this address within the window: wait the seconds the `Retry-After` header gives, then try again.",
    ),
    (
        ErrorCode::WebhookSignatureInvalid,
        "webhook_signature_invalid",
        401,
        "authentication_error",
        "Sign each delivery: `Backroom-Timestamp: <unix seconds>` and `Backroom-Signature: v1=<hex HMAC-SHA256(secret, \"<timestamp>.<raw body>\")>` with a secret configured for the source. Nothing was stored.",
    ),
    (
        ErrorCode::WebhookTimestampExpired,
        "webhook_timestamp_expired",
        401,
        "authentication_error",
        "The signed `Backroom-Timestamp` is further from the server's clock than the source's tolerance_seconds (default 300). Sign each delivery when sending it and keep clocks synchronised. Nothing was stored.",
    ),
    (
        ErrorCode::WebhookReplayed,
        "webhook_replayed",
        409,
        "invalid_request",
        "A delivery with this signature was already accepted; it was not recorded again. Send a new delivery with a fresh timestamp and signature.",
    ),
    (
        ErrorCode::RateLimited,
        "rate_limited",
        429,
        "rate_limit_error",
        "The key (or webhook source) sent more requests than rate_limit_per_second and rate_limit_burst allow. Wait the seconds in `Retry-After`, then retry.",
    ),
    (
        ErrorCode::Unavailable,
        "unavailable",
        503,
        "server_error",
        "The store cannot take the request now (shutting down or the database is unreachable). Nothing was acknowledged: retry later.",
    ),
    (
        ErrorCode::Internal,
        "internal",
        500,
        "server_error",
        "A fault inside Backroom; it is logged. Retry, and report it if it persists.",
    ),
];

impl ErrorCode {
    fn row(self) -> &'static (ErrorCode, &'static str, u16, &'static str, &'static str) {
        TABLE.iter().find(|r| r.0 == self).unwrap_or(&TABLE[TABLE.len() - 1])
    }

    /// The machine-readable code, such as `validation_failed`.
    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.row().2).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// One problem in one item (an event, a location) of a rejected request.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventProblem {
    /// The item's position in the request (0-based; for NDJSON, the line's event index).
    pub index: usize,
    /// JSONPath of the field within the item.
    pub path: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

/// One problem in a workflow definition.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DefinitionProblem {
    /// The file: `upload` for the posted definition, or a decision-table file it refers to.
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column, in characters; 0 when unknown.
    pub column: usize,
    /// The id of the step it is in, when it is in one.
    pub step: Option<String>,
    /// What is wrong, and what would be accepted.
    pub message: String,
}

impl From<&backroom_engine::workflow::Problem> for DefinitionProblem {
    fn from(p: &backroom_engine::workflow::Problem) -> Self {
        DefinitionProblem {
            file: p.file.clone(),
            line: p.line,
            column: p.column,
            step: p.step.clone(),
            message: p.message.clone(),
        }
    }
}

/// The body of every error response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code, from the table at `/docs/errors`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The error's class: `invalid_request`, `authentication_error`, `permission_error`,
    /// `rate_limit_error` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the code is explained.
    pub link: String,
    /// For `validation_failed`: every problem found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<EventProblem>>,
    /// For `definition_invalid`: every problem in the definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<DefinitionProblem>>,
    /// For `document_invalid`: every problem in the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_problems: Option<Vec<DocumentProblem>>,
}

/// An error answered by the API.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    errors: Option<Vec<EventProblem>>,
    problems: Option<Vec<DefinitionProblem>>,
    document_problems: Option<Vec<DocumentProblem>>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), errors: None, problems: None, document_problems: None, retry_after: None }
    }

    /// The same error answered with `Retry-After: <seconds>`.
    pub fn with_retry_after(self, seconds: u64) -> Self {
        Self { retry_after: Some(seconds), ..self }
    }

    /// The seconds of its `Retry-After` header, when it has one.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// A `document_invalid` error listing every problem of a partner document.
    pub fn document_invalid(message: String, problems: Vec<DocumentProblem>) -> Self {
        Self { document_problems: Some(problems), ..Self::new(ErrorCode::DocumentInvalid, message) }
    }

    /// A `definition_invalid` error listing every problem of a definition.
    pub fn definition_invalid(problems: &backroom_engine::workflow::Problems) -> Self {
        let list: Vec<DefinitionProblem> = problems.iter().map(DefinitionProblem::from).collect();
        let first = list.first().map(|p| {
            let at =
                if p.line > 0 { format!(" (first at line {}, column {})", p.line, p.column) } else { String::new() };
            format!("{at}: {}", p.message)
        });
        Self {
            code: ErrorCode::DefinitionInvalid,
            message: format!(
                "the workflow definition has {} problem(s){}; nothing was saved",
                list.len(),
                first.unwrap_or_default()
            ),
            errors: None,
            problems: Some(list),
            document_problems: None,
            retry_after: None,
        }
    }

    /// A `validation_failed` error listing every problem.
    pub fn validation(errors: Vec<EventProblem>) -> Self {
        let events: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.index).collect();
        Self {
            code: ErrorCode::ValidationFailed,
            message: format!(
                "{} problem(s) in {} event(s); nothing from this request was stored",
                errors.len(),
                events.len()
            ),
            errors: Some(errors),
            problems: None,
            document_problems: None,
            retry_after: None,
        }
    }

    /// The same error with another message.
    pub fn with_message(self, message: impl Into<String>) -> Self {
        Self { message: message.into(), ..self }
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl From<backroom_store::StoreError> for ApiError {
    fn from(e: backroom_store::StoreError) -> Self {
        use backroom_store::StoreError::*;
        match e {
            NotFound(m) => ApiError::new(ErrorCode::NotFound, m),
            Invalid(m) => ApiError::new(ErrorCode::ValidationFailed, m),
            Closed => ApiError::new(ErrorCode::Unavailable, "the server is shutting down"),
            other => {
                tracing::error!(error = %other, "store operation failed");
                ApiError::new(ErrorCode::Unavailable, "the store could not complete the request")
            }
        }
    }
}

impl From<backroom_engine::runner::EngineError> for ApiError {
    fn from(e: backroom_engine::runner::EngineError) -> Self {
        use backroom_engine::core::Rejection;
        use backroom_engine::runner::EngineError;
        match e {
            EngineError::NotFound(m) => ApiError::new(ErrorCode::NotFound, m),
            EngineError::Rejected(r) => {
                let code = match &r {
                    Rejection::Outcome { .. } | Rejection::Field { .. } => ErrorCode::TaskRefused,
                    Rejection::SegregationOfDuties { .. } => ErrorCode::SegregationOfDuties,
                    _ => ErrorCode::Conflict,
                };
                ApiError::new(code, r.to_string())
            }
            EngineError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            EngineError::Invalid(problems) => ApiError::definition_invalid(&problems),
            EngineError::BadRequest(m) => ApiError::new(ErrorCode::ValidationFailed, m),
            EngineError::Store(backroom_store::StoreError::Conflict(m)) => ApiError::new(ErrorCode::Conflict, m),
            EngineError::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let row = self.code.row();
        let body = ErrorBody {
            code: row.1.to_owned(),
            message: self.message,
            kind: row.3.to_owned(),
            link: format!("/docs/errors#{}", row.1),
            errors: self.errors,
            problems: self.problems,
            document_problems: self.document_problems,
        };
        let mut response = (self.code.status(), Json(body)).into_response();
        if self.code == ErrorCode::Unauthorized {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The table of error codes as an HTML page (`GET /docs/errors`); each code is an anchor.
pub fn error_page() -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Backroom API errors</title></head><body>\
         <h1>Backroom API errors</h1><p>Every error answers <code>{code, message, type, link}</code>.</p>\
         <table><tr><th>code</th><th>status</th><th>type</th><th>meaning</th></tr>",
    );
    for (_, code, status, kind, meaning) in TABLE {
        let meaning = meaning.replace('<', "&lt;").replace('>', "&gt;");
        html.push_str(&format!(
            "<tr id=\"{code}\"><td><code>{code}</code></td><td>{status}</td><td>{kind}</td><td>{meaning}</td></tr>"
        ));
    }
    html.push_str("</table></body></html>");
    html
}
