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

/// The `Idempotency-Key` of a create, if it carries one: a UUID in its
/// hyphenated form (`8-4-4-4-12` hex digits, either case), as the contract's
/// `Idempotency-Key: <uuid>` and the spec's `format: uuid` say, or a `400`.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, HttpError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if is_hyphenated_uuid(key) => Ok(Some(key.to_owned())),
        _ => Err(HttpError::bad_request(
            "Idempotency-Key must be a UUID, like 5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f.",
        )
        .with_param("Idempotency-Key")),
    }
}

/// True for a UUID written as 32 hex digits in groups of 8, 4, 4, 4 and 12
/// joined by hyphens.
fn is_hyphenated_uuid(key: &str) -> bool {
    const HYPHENS: [usize; 4] = [8, 13, 18, 23];
    key.len() == 36
        && key.bytes().enumerate().all(|(i, b)| {
            if HYPHENS.contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
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
    fn only_a_hyphenated_uuid_is_an_idempotency_key() {
        let key = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("idempotency-key", value.parse().expect("a header value"));
            idempotency_key(&headers)
        };
        for good in [
            "5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f",
            "5F0C6F1E-8A4B-4C2D-9E3F-1A2B3C4D5E6F",
            "00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(key(good).expect("accepted").as_deref(), Some(good));
        }
        for bad in [
            "",
            "retry-1",
            "5f0c6f1e8a4b4c2d9e3f1a2b3c4d5e6f",
            "{5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f}",
            "urn:uuid:5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f",
            "5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6g",
            "5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f0",
            "5f0c6f1e8-a4b-4c2d-9e3f-1a2b3c4d5e6f",
            " 5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f",
        ] {
            let err = key(bad).expect_err(bad);
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(err.param.as_deref(), Some("Idempotency-Key"), "{bad}");
        }
        assert_eq!(idempotency_key(&HeaderMap::new()).expect("absent"), None);
    }

    #[test]
    fn canonical_bodies_ignore_field_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"y":2,"x":3}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"x":3,"y":2},"b":1}"#).unwrap();
        assert_eq!(a.to_string(), b.to_string());
    }
}
