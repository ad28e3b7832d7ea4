//! The location hierarchy the engine scopes tasks and business calendars by.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use backroom_engine::calendar::BusinessCalendar;
use backroom_model::{Location, LocationKind};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::json_body;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorCode, EventProblem};

/// One opening period of a week day, in the location's local time.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OpeningPeriodView {
    /// The day: `Mon`, `Tue`, … `Sun`.
    day: String,
    /// Opening time, local, `HH:MM:SS`.
    opens: String,
    /// Closing time, local, `HH:MM:SS`; after `opens` (a period cannot cross midnight).
    closes: String,
}

/// When a location is open.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OpeningHoursView {
    /// The weekly periods; a day without one is closed.
    weekly: Vec<OpeningPeriodView>,
    /// Public holidays and other closed days, `YYYY-MM-DD`.
    closed_on: Vec<String>,
}

/// A node of the location hierarchy.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LocationView {
    /// The location code.
    id: String,
    /// `company`, `region`, `district`, `store` or `distribution_centre`.
    kind: String,
    /// Its name.
    name: String,
    /// The location above it; none only for the company. A region's parent is the company, a
    /// district's a region, a store's a district or region, a distribution centre's the company
    /// or a region.
    parent: Option<String>,
    /// Its IANA time zone, such as `Europe/Paris`.
    time_zone: String,
    /// When it is open (for due times in business hours).
    opening_hours: OpeningHoursView,
}

/// The locations known.
#[derive(Serialize, ToSchema)]
pub struct LocationList {
    /// The locations, by code.
    #[schema(value_type = Vec<LocationView>)]
    pub locations: Vec<Location>,
}

/// The answer to a saved batch.
#[derive(Serialize, ToSchema)]
pub struct LocationsSaved {
    /// How many locations were saved.
    pub saved: usize,
}

/// List locations.
#[utoipa::path(
    get,
    path = "/v1/locations",
    operation_id = "list_locations",
    tag = "locations",
    responses(
        (status = 200, description = "Every location", body = LocationList),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not read locations", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<LocationList>, ApiError> {
    Ok(Json(LocationList { locations: state.engine.locations() }))
}

/// The field a serde message names (`missing field `x``, `unknown field `x``), as a path.
fn field_of(message: &str) -> String {
    ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p).and_then(|rest| rest.split('`').next()))
        .map_or_else(|| "$".to_owned(), |f| format!("$.{f}"))
}

/// Reads and checks every location of a batch; every problem names the location's index and
/// the field.
fn check(raw: Vec<Value>, known: &HashMap<String, LocationKind>) -> Result<Vec<Location>, Vec<EventProblem>> {
    let mut problems = Vec::new();
    let mut locations = Vec::new();
    for (index, value) in raw.into_iter().enumerate() {
        match serde_json::from_value::<Location>(value) {
            Ok(l) => locations.push((index, l)),
            Err(e) => {
                let message = e.to_string();
                problems.push(EventProblem { index, path: field_of(&message), message });
            }
        }
    }
    let mut kinds: HashMap<String, LocationKind> = known.clone();
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (index, l) in &locations {
        let id = l.id.to_string();
        if let Some(earlier) = first.insert(id.clone(), *index) {
            problems.push(EventProblem {
                index: *index,
                path: "$.id".to_owned(),
                message: format!("{id} is also at index {earlier}: send each location once"),
            });
        }
        kinds.insert(id, l.kind);
    }
    for (index, l) in &locations {
        let index = *index;
        let mut paths = Vec::new();
        if let Err(errors) = l.validate() {
            for e in errors {
                paths.push(e.path.clone());
                problems.push(EventProblem { index, path: e.path, message: e.message });
            }
        }
        if let Err(e) = BusinessCalendar::for_location(l) {
            let path = e.field().to_owned();
            if !paths.contains(&path) {
                let text = e.to_string();
                let message = text.strip_prefix(&format!("{path}: ")).unwrap_or(&text).to_owned();
                problems.push(EventProblem { index, path, message });
            }
        }
        if let Some(parent) = &l.parent {
            let parent = parent.to_string();
            let allowed = l.kind.allowed_parents();
            match kinds.get(&parent) {
                None => problems.push(EventProblem {
                    index,
                    path: "$.parent".to_owned(),
                    message: format!("no location has the code {parent}: send it in the same request or first"),
                }),
                Some(kind) if !allowed.contains(kind) => problems.push(EventProblem {
                    index,
                    path: "$.parent".to_owned(),
                    message: format!(
                        "{parent} is a {}; the parent of a {} is a {}",
                        name(*kind),
                        name(l.kind),
                        allowed.iter().map(|k| name(*k)).collect::<Vec<_>>().join(" or ")
                    ),
                }),
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() { Ok(locations.into_iter().map(|(_, l)| l).collect()) } else { Err(problems) }
}

fn name(kind: LocationKind) -> &'static str {
    match kind {
        LocationKind::Company => "company",
        LocationKind::Region => "region",
        LocationKind::District => "district",
        LocationKind::Store => "store",
        LocationKind::DistributionCentre => "distribution centre",
    }
}

/// Save locations.
///
/// The body is a JSON array of locations. Each is created, or replaced when its code is known;
/// locations not in the body are kept. The request is all-or-nothing: when any location is
/// wrong (its fields, time zone, opening hours, or a parent that is unknown or of the wrong
/// kind), the answer is 422 `validation_failed` listing each problem with the location's index
/// and field, and nothing is saved.
#[utoipa::path(
    put,
    path = "/v1/locations",
    operation_id = "save_locations",
    tag = "locations",
    request_body(content = Vec<LocationView>, content_type = "application/json"),
    responses(
        (status = 200, description = "Every location was saved", body = LocationsSaved),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 403, description = "The key may not edit locations", body = ErrorBody),
        (status = 413, description = "Body larger than max_body_bytes", body = ErrorBody),
        (status = 415, description = "Content type not accepted", body = ErrorBody),
        (status = 422, description = "Some location is wrong; nothing was saved", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<LocationsSaved>, ApiError> {
    let raw = match json_body::<Value>(&headers, &body, None)? {
        Value::Array(items) if !items.is_empty() => items,
        Value::Array(_) => return Err(ApiError::new(ErrorCode::ValidationFailed, "the array holds no locations")),
        _ => {
            return Err(ApiError::new(ErrorCode::ValidationFailed, "the body is a JSON array of locations"));
        }
    };
    let known: HashMap<String, LocationKind> =
        state.engine.locations().into_iter().map(|l| (l.id.to_string(), l.kind)).collect();
    let count = raw.len();
    let locations = check(raw, &known).map_err(|problems| {
        let wrong: std::collections::BTreeSet<usize> = problems.iter().map(|p| p.index).collect();
        let message =
            format!("{} problem(s) in {} of {count} location(s); nothing was saved", problems.len(), wrong.len());
        ApiError::validation(problems).with_message(message)
    })?;
    let saved = state.engine.save_locations(locations, &caller.name).await?;
    tracing::info!(saved, by = %caller.name, "locations saved");
    Ok(Json(LocationsSaved { saved }))
}
