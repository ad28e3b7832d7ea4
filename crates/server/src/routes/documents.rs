//! `POST /v1/documents`: a partner's document in any supported format (EPCIS, UBL, CII,
//! Factur-X, X12, EDIFACT, POSLog), detected by content, turned into canonical events and
//! recorded whole, with the acknowledgements the partner expects.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use backroom_formats::{Context, Format, FormatError, Location, Problem, Reply, raw_event};
use backroom_model::NewEvent;
use backroom_store::Appended;
use chrono::Utc;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiQuery;
use super::events::EventResult;
use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};

/// Options of a document upload.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentParams {
    /// The source to record on the events (`supplier/acme`), instead of the one the document names.
    pub source: Option<String>,
}

/// One canonical event made from the document, as recorded.
#[derive(Serialize, ToSchema)]
pub struct DocumentEvent {
    /// The event as the canonical model shows it: `{id, type, source, occurred_at, data}`.
    pub event: serde_json::Value,
    /// Where it was recorded.
    #[serde(flatten)]
    pub result: EventResult,
}

/// A document Backroom answers with (an X12 997 for each functional group, …).
#[derive(Serialize, ToSchema)]
pub struct ReplyView {
    /// What it is: `x12_997`, `x12_855`, `peppol_invoice_response`.
    pub kind: String,
    /// Its media type.
    pub media_type: String,
    /// The document itself.
    pub body: String,
}

impl From<Reply> for ReplyView {
    fn from(r: Reply) -> Self {
        Self { kind: r.kind, media_type: r.media_type, body: r.body }
    }
}

/// The answer to an accepted document.
#[derive(Serialize, ToSchema)]
pub struct DocumentResponse {
    /// The format it was read as (`ubl`, `x12`, `epcis_json`, …).
    pub format: String,
    /// Events newly recorded.
    pub accepted: usize,
    /// Events recorded before (the same document sent again).
    pub duplicates: usize,
    /// The events, in document order.
    pub events: Vec<DocumentEvent>,
    /// The acknowledgements to send back to the partner.
    pub replies: Vec<ReplyView>,
}

/// Ingest a partner document.
///
/// The body is the document as the partner sent it: GS1 EPCIS 2.0 (JSON or XML), UBL 2.1
/// (invoice, credit note, order, order response, despatch advice, receipt advice), CII,
/// a Factur-X/ZUGFeRD PDF, an ANSI X12 interchange (850, 855, 856, 810, 846), a UN/EDIFACT
/// interchange (ORDERS, ORDRSP, INVOIC, DESADV, RECADV) or ARTS POSLog. The format is detected
/// from the content; the content type is not needed. The document is recorded whole or not at
/// all: on any problem the answer is 422 `document_invalid` listing every problem with its
/// line and column (and XPath or JSON path), or segment and element for EDI, and the rule id
/// where the standard names one. Sending a document again records nothing new.
#[utoipa::path(
    post,
    path = "/v1/documents",
    operation_id = "ingest_document",
    tag = "documents",
    params(DocumentParams),
    request_body(description = "The document, as sent by the partner", content((String = "application/octet-stream"))),
    responses(
        (status = 200, description = "Every event is durably recorded (or was already)", body = DocumentResponse),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not ingest documents", body = ErrorBody),
        (status = 413, description = "Body larger than max_body_bytes", body = ErrorBody),
        (status = 422, description = "The document is not recognised or is invalid; nothing was stored", body = ErrorBody),
        (status = 503, description = "The store cannot take the request; retry", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn ingest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<DocumentParams>,
    body: Bytes,
) -> Result<Json<DocumentResponse>, ApiError> {
    let (document, events) = read(&state, body, params.source).await?;
    let outcomes = state.store.append(events).await?;
    Ok(Json(document.answer(&outcomes)))
}

/// A partner document read into canonical events, before they are recorded.
pub(crate) struct ReadDocument {
    format: Format,
    raw: Vec<serde_json::Value>,
    replies: Vec<Reply>,
}

impl ReadDocument {
    /// The answer once its events were recorded with these outcomes (in document order).
    pub(crate) fn answer(self, outcomes: &[Appended]) -> DocumentResponse {
        let duplicates = outcomes.iter().filter(|o| o.duplicate).count();
        DocumentResponse {
            format: self.format.as_str().to_owned(),
            accepted: outcomes.len() - duplicates,
            duplicates,
            events: self
                .raw
                .into_iter()
                .zip(outcomes)
                .map(|(event, o)| DocumentEvent { event, result: EventResult { seq: o.seq, duplicate: o.duplicate } })
                .collect(),
            replies: self.replies.into_iter().map(ReplyView::from).collect(),
        }
    }
}

/// Reads a partner document (format detected by content) into canonical events, recorded with
/// `source` when one is given instead of the source the document names; a document with any
/// problem is `document_invalid`.
pub(crate) async fn read(
    state: &AppState,
    body: Bytes,
    source: Option<String>,
) -> Result<(ReadDocument, Vec<NewEvent>), ApiError> {
    let mut cx = Context::new(Utc::now());
    cx.source = source.filter(|s| !s.trim().is_empty());
    cx.time_zones = time_zones(state);
    cx.control_number = control_number(&cx);
    let parsed = tokio::task::spawn_blocking(move || backroom_formats::parse(&body, &cx))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("reading the document did not finish: {e}")))?
        .map_err(|e| document_invalid(&e))?;
    let raw: Vec<serde_json::Value> = parsed.events.iter().map(raw_event).collect();
    Ok((ReadDocument { format: parsed.format, raw, replies: parsed.replies }, parsed.events))
}

/// The time zone of every known location, for local times in the document.
fn time_zones(state: &AppState) -> HashMap<String, Tz> {
    state.engine.locations().into_iter().filter_map(|l| l.time_zone.parse::<Tz>().ok().map(|tz| (l.id.0, tz))).collect()
}

/// The control number of reply interchanges (ISA13 and UNB 0020 hold nine digits): the
/// milliseconds since the epoch modulo 10⁹, distinct for replies more than a millisecond apart
/// within eleven days.
fn control_number(cx: &Context) -> u32 {
    let millis = cx.now.timestamp_millis().rem_euclid(1_000_000_000);
    u32::try_from(millis).unwrap_or(1).max(1)
}

/// One problem in a rejected document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DocumentProblem {
    /// Where, for a person: `line 12, column 5 (/Invoice/cac:InvoiceLine[2]/cbc:ID)`,
    /// `segment 7 (PO1), element PO102`.
    pub at: String,
    /// The 1-based line, for JSON and XML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The 1-based column, for JSON and XML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The XPath or JSON path, for XML and JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The 1-based segment position, for EDI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<usize>,
    /// The segment tag, for EDI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The 1-based element position, for EDI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<usize>,
    /// The rule broken, when the standard names it (`BR-CO-10`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl From<&Problem> for DocumentProblem {
    fn from(p: &Problem) -> Self {
        let mut out = DocumentProblem {
            at: p.location.to_string(),
            line: None,
            column: None,
            path: None,
            segment: None,
            tag: None,
            element: None,
            rule: p.rule.clone(),
            message: p.message.clone(),
        };
        match &p.location {
            Location::Text { line, column, path } => {
                out.line = Some(*line);
                out.column = Some(*column);
                out.path = (!path.is_empty()).then(|| path.clone());
            }
            Location::Segment { index, tag, element, .. } => {
                out.segment = Some(*index);
                out.tag = Some(tag.clone());
                out.element = *element;
            }
            Location::Row { row, .. } => out.line = Some(*row),
            Location::Document => {}
        }
        out
    }
}

fn document_invalid(e: &FormatError) -> ApiError {
    let problems: Vec<DocumentProblem> = e.problems.iter().map(DocumentProblem::from).collect();
    let what = e.format.map_or_else(
        || "the document is not in a supported format".to_owned(),
        |f: Format| format!("the {f} document has {} problem(s)", problems.len()),
    );
    let first = problems.first().map(|p| format!("; first at {}: {}", p.at, p.message)).unwrap_or_default();
    ApiError::document_invalid(format!("{what}{first}; nothing was stored"), problems)
}
