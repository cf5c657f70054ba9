//! The typed client for the Pivotal v1 contract (`assets/openapi.yaml`).
//!
//! Owns HTTP, authentication, error mapping and the retry policy. It must not
//! know about the TUI, the local store or the reference server.

mod client;
mod error;
mod idempotency;
mod key;
pub mod models;
mod retry;

pub use client::{Client, CustomerPage, ListParams, MAX_BODY_BYTES, Pages};
pub use error::ApiError;
pub use idempotency::IdempotencyKey;
pub use key::ApiKey;
pub use models::*;
pub use retry::RetryPolicy;

/// A result whose error is, by default, an [`ApiError`].
pub type Result<T, E = ApiError> = std::result::Result<T, E>;
