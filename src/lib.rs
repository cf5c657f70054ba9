//! pivotal-tui: a keyboard-driven terminal client for Pivotal's customers API,
//! with the reference server it is tested against.
//!
//! Layers, from the bottom up:
//! - [`domain`]: pure logic (domain normalisation, host validation, text
//!   sanitising). No I/O, no async, no UI.
//! - [`api`]: the typed HTTP client for the Pivotal v1 contract and its retry
//!   policy. No UI.
//! - [`server`]: the reference server (axum + SQLite) used by `pivotal serve`,
//!   `--demo` and every integration test. No UI.

pub mod api;
pub mod domain;
pub mod server;
