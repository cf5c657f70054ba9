//! pivotal-tui: a keyboard-driven terminal client for Pivotal's customers API,
//! with the reference server it is tested against.
//!
//! Layers, from the bottom up (each uses only those above it in this list;
//! `tests/architecture.rs` keeps it so):
//! - [`text`]: sanitising untrusted text for the terminal and every output.
//!   Pure; depends on nothing.
//! - [`api`]: the typed HTTP client for the Pivotal v1 contract and its retry
//!   policy. No UI.
//! - [`domain`]: pure logic (domain normalisation, host validation, the
//!   customer set, filtering). No I/O, no async, no UI.
//! - [`server`]: the reference server (axum + SQLite) used by `pivotal serve`,
//!   `--demo` and every integration test. No UI.
//! - [`store`]: the local SQLite cache (customers, team, histories, sync
//!   state), one file per account. Synchronous; no server, UI or async.
//! - [`sync`]: the background engine that ties the client to the local store
//!   and reports to the UI by messages. No UI.
//! - [`settings`]: the settings file and where the API key is kept. No UI,
//!   no network.
//! - [`tui`]: the terminal app: state, update, views, keymap, theme.
//! - [`commands`]: the commands for scripts (`customers list`, `login`, …),
//!   on the same client, store, filter and sanitiser as the TUI.
//! - [`cli`], [`logs`], [`heap`], [`bench`]: the command line's grammar
//!   (clap), the log file, the allocator's settings, and `pivotal bench`
//!   (edges, like `main`).

pub mod api;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod domain;
pub mod heap;
pub mod logs;
pub mod server;
pub mod settings;
pub mod store;
pub mod sync;
pub mod text;
pub mod tui;

/// A small seeded generator for property-style tests.
#[cfg(test)]
mod test_rng;
