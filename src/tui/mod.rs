//! The terminal UI: state, `update`, views, keymap and theme, and the event
//! loop that ties them to the terminal and the sync engine.
//!
//! The screen is a stack of modes over the list ([`mode`]); each mode
//! offers one interface (`screens::Screen`: its keymap table, how it handles
//! a key, its hints, how it draws); keys are rows of one table with the
//! modes they work in ([`keymap`]); the loop ([`runner`]) is generic over
//! the backend and the input, so tests drive it as the app does.
//!
//! Data flows one way: terminal events and sync events become [`Message`]s,
//! [`update`] changes the [`State`] and returns [`Command`]s, and the views
//! render from `&State`. This module never talks to the network or the disk
//! itself; the sync engine does.

mod app;
mod archived;
mod changes;
mod dismiss;
mod filters;
mod finder;
pub mod form;
pub mod format;
pub mod keymap;
mod merge;
pub mod message;
pub mod mode;
mod pointer;
mod preview;
pub mod runner;
mod screens;
pub mod scrolling;
pub mod state;
mod terminal;
pub mod theme;
mod triage;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

pub use app::{TuiConfig, TuiError, run};
pub use message::{Command, Message};
pub use runner::{Flow, Runner};
pub use screens::render;
pub use state::{DEFAULT_SHARE_URL_BASE, State};
pub use update::update;
