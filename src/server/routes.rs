//! The HTTP surface of the reference server: one handler per endpoint of the
//! contract, bearer-key authentication, and JSON errors for everything else.
//! Handlers validate (see `validate`) and call storage (see `db`); they hold
//! no rules of their own beyond mapping results to statuses.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::db::{CreateOutcome, Db, IdempotentRequest, ListQuery};
use super::error::HttpError;
use super::ids::{decode_cursor, encode_cursor, to_micros};
use super::team;
use super::validate;
use crate::api::{Customer, List, Page, User};

/// Every (method, path) the server answers; `assets/openapi.yaml` must list
/// exactly these (a test holds the two together).
pub const API_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/users/me"),
    ("GET", "/v1/users"),
    ("GET", "/v1/customers"),
    ("POST", "/v1/customers"),
    ("GET", "/v1/customers/{id}"),
    ("PATCH", "/v1/customers/{id}"),
    ("POST", "/v1/customers/{id}/archive"),
    ("POST", "/v1/customers/{id}/restore"),
    ("GET", "/v1/customers/{id}/history"),
];

const MAX_IDEMPOTENCY_KEY: usize = 255;

#[derive(Clone)]
pub struct AppState {
    pub db: Arc<Db>,
    pub api_key: Arc<str>,
}

/// The API router, without fault injection.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/users/me", get(me))
        .route("/v1/users", get(users))
        .route("/v1/customers", get(list_customers).post(create_customer))
        .route(
            "/v1/customers/{id}",
            get(get_customer).patch(update_customer),
        )
        .route("/v1/customers/{id}/archive", post(archive_customer))
        .route("/v1/customers/{id}/restore", post(restore_customer))
        .route("/v1/customers/{id}/history", get(customer_history))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(key) if key.as_bytes() == state.api_key.as_bytes() => next.run(req).await,
        _ => HttpError::unauthorized().into_response(),
    }
}

async fn no_such_route(req: Request) -> HttpError {
    HttpError::not_found(format!(
        "No such endpoint: {} {}.",
        req.method(),
        req.uri().path()
    ))
}

async fn method_not_allowed(req: Request) -> HttpError {
    HttpError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        ..HttpError::bad_request(format!(
            "{} is not allowed on {}.",
            req.method(),
            req.uri().path()
        ))
    }
}

/// Runs a storage call off the async workers.
async fn storage<T, F>(db: &Arc<Db>, f: F) -> Result<T, HttpError>
where
    T: Send + 'static,
    F: FnOnce(&Db) -> rusqlite::Result<T> + Send + 'static,
{
    let db = Arc::clone(db);
    tokio::task::spawn_blocking(move || f(&db))
        .await
        .map_err(|_| HttpError::internal("The storage task failed."))?
        .map_err(HttpError::from)
}

fn no_such_customer(id: &str) -> HttpError {
    HttpError::not_found(format!("No customer with id {id}.")).with_param("id")
}

async fn me() -> Json<User> {
    let me = team::members().into_iter().find(|u| u.id == team::ME);
    Json(me.unwrap_or_else(|| unreachable!("the team always includes its key owner")))
}

async fn users() -> Json<List<User>> {
    Json(List {
        data: team::members(),
    })
}

async fn list_customers(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Page<Customer>>, HttpError> {
    let query = list_query(&params)?;
    let page = storage(&state.db, move |db| db.list(&query)).await?;
    Ok(Json(Page {
        data: page.customers,
        next_cursor: page.next.map(|(ts, id)| encode_cursor(ts, &id)),
    }))
}

fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, HttpError> {
    let limit = match params.get("limit") {
        None => 100,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                HttpError::bad_request("limit must be an integer from 1 to 1000.")
                    .with_param("limit")
            })?,
    };
    let after = params
        .get("cursor")
        .map(|c| {
            decode_cursor(c).ok_or_else(|| {
                HttpError::bad_request("cursor is not one this server issued.").with_param("cursor")
            })
        })
        .transpose()?;
    let updated_since = params
        .get("updated_since")
        .map(|raw| {
            OffsetDateTime::parse(raw, &Rfc3339)
                .map(to_micros)
                .map_err(|_| {
                    HttpError::bad_request(
                        "updated_since must be an RFC 3339 time, like 2026-11-26T10:00:00Z.",
                    )
                    .with_param("updated_since")
                })
        })
        .transpose()?;
    let include_archived = match params.get("include_archived").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(
                HttpError::bad_request("include_archived must be true or false.")
                    .with_param("include_archived"),
            );
        }
    };
    Ok(ListQuery {
        limit,
        after,
        updated_since,
        include_archived,
    })
}

async fn create_customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let key = idempotency_key(&headers)?;
    let raw = validate::json_object(&body)?;
    let new = validate::new_customer(&raw)?;
    let request = key.map(|key| IdempotentRequest {
        key,
        // serde_json's map is ordered by key, so this text is canonical: the
        // same fields in another order are the same body.
        canonical_body: serde_json::Value::Object(raw).to_string(),
    });
    let outcome = storage(&state.db, move |db| db.create(&new, request.as_ref())).await?;
    Ok(match outcome {
        CreateOutcome::Created(customer) => (StatusCode::CREATED, Json(customer)).into_response(),
        CreateOutcome::Replayed { status, body } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        CreateOutcome::Conflict => HttpError::idempotency_conflict().into_response(),
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, HttpError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        HttpError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters, such as a UUID."
        ))
        .with_param("Idempotency-Key")
    };
    let key = value.to_str().map_err(|_| bad())?;
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY
        && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(Some(key.to_owned()))
    } else {
        Err(bad())
    }
}

async fn get_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Customer>, HttpError> {
    let lookup = id.clone();
    storage(&state.db, move |db| db.get(&lookup))
        .await?
        .map(Json)
        .ok_or_else(|| no_such_customer(&id))
}

async fn update_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Customer>, HttpError> {
    let patch = validate::patch(&validate::json_object(&body)?)?;
    let lookup = id.clone();
    storage(&state.db, move |db| db.update(&lookup, &patch))
        .await?
        .map(Json)
        .ok_or_else(|| no_such_customer(&id))
}

async fn archive_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Customer>, HttpError> {
    set_archived(state, id, true).await
}

async fn restore_customer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Customer>, HttpError> {
    set_archived(state, id, false).await
}

async fn set_archived(
    state: AppState,
    id: String,
    archived: bool,
) -> Result<Json<Customer>, HttpError> {
    let lookup = id.clone();
    storage(&state.db, move |db| db.set_archived(&lookup, archived))
        .await?
        .map(Json)
        .ok_or_else(|| no_such_customer(&id))
}

async fn customer_history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<List<crate::api::HistoryEvent>>, HttpError> {
    let lookup = id.clone();
    storage(&state.db, move |db| db.history(&lookup))
        .await?
        .map(|data| Json(List { data }))
        .ok_or_else(|| no_such_customer(&id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn list_parameters_out_of_range_are_bad_requests() {
        for (k, v) in [
            ("limit", "0"),
            ("limit", "1001"),
            ("limit", "ten"),
            ("cursor", "nonsense"),
            ("updated_since", "yesterday"),
            ("include_archived", "yes"),
        ] {
            let err = list_query(&params(&[(k, v)])).expect_err("should be refused");
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{k}={v}");
            assert_eq!(err.param.as_deref(), Some(k));
        }
        let q = list_query(&params(&[])).expect("defaults");
        assert_eq!((q.limit, q.include_archived), (100, false));
    }

    #[test]
    fn canonical_bodies_ignore_field_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":3}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"x":3,"y":2},"b":1}"#).unwrap();
        assert_eq!(a.to_string(), b.to_string());
    }
}
