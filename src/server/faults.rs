//! Opt-in fault injection for tests and demos: added latency, a share of
//! `500`s, `429`s with `Retry-After: 1`, and connections closed without a
//! response. Everything is off by default and only `/v1` requests are hit.
//!
//! One fault is aimed at one kind of request: latency before each archive
//! (`--fault-archive-latency-ms`), which holds a merge between its edit and
//! its archives for as long as a test needs to kill the client there. The
//! delay comes before the request is handled, so a client that goes away
//! meanwhile leaves the customer as it was.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

use super::error::HttpError;

/// How often each fault happens. Rates are shares of requests, 0.0–1.0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub latency: Duration,
    /// Added before each `POST /v1/customers/{id}/archive`, on top of
    /// `latency`.
    pub archive_latency: Duration,
    pub error_rate: f64,
    pub drop_rate: f64,
    pub rate_limit_rate: f64,
}

impl Faults {
    pub fn is_off(&self) -> bool {
        self == &Faults::default()
    }
}

/// Put on every request by the connection it arrived on: notifying it makes
/// the connection close without sending a response.
#[derive(Clone, Default)]
pub struct ConnectionKill(pub Arc<Notify>);

enum Fault {
    RateLimit,
    ServerError,
    /// Close the connection; when `after_handling` the request is carried
    /// out first, so the client cannot know whether it took effect.
    Drop {
        after_handling: bool,
    },
}

fn pick(faults: &Faults) -> Option<Fault> {
    let roll: f64 = rand::random();
    let mut threshold = faults.rate_limit_rate;
    if roll < threshold {
        return Some(Fault::RateLimit);
    }
    threshold += faults.error_rate;
    if roll < threshold {
        return Some(Fault::ServerError);
    }
    threshold += faults.drop_rate;
    if roll < threshold {
        return Some(Fault::Drop {
            after_handling: rand::random(),
        });
    }
    None
}

fn is_archive(req: &Request) -> bool {
    req.method() == axum::http::Method::POST && req.uri().path().ends_with("/archive")
}

/// The middleware that injects the configured faults.
pub async fn inject(State(faults): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/v1") {
        return next.run(req).await;
    }
    let latency = if is_archive(&req) {
        faults.latency + faults.archive_latency
    } else {
        faults.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match pick(&faults) {
        None => next.run(req).await,
        Some(Fault::RateLimit) => HttpError::rate_limited(1).into_response(),
        Some(Fault::ServerError) => {
            HttpError::internal("Injected fault: the server failed on purpose.").into_response()
        }
        Some(Fault::Drop { after_handling }) => {
            let kill = req.extensions().get::<ConnectionKill>().cloned();
            if after_handling {
                drop(next.run(req).await);
            }
            match kill {
                Some(kill) => {
                    kill.0.notify_one();
                    std::future::pending().await
                }
                // Not served by our accept loop (e.g. a router test): the
                // closest thing to a dropped connection is a bodiless 500.
                None => HttpError::internal("Injected fault: connection dropped.").into_response(),
            }
        }
    }
}
