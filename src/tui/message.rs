//! What flows into `update` and what comes out of it.

use crossterm::event::{KeyEvent, MouseEvent};
use time::OffsetDateTime;

use crate::settings::ViewSettings;
use crate::sync::{SyncCommand, SyncEvent};

/// Everything that can change the app's state.
// A message lives for one pass of the event loop; boxing the large sync
// events would cost an allocation each to save a few hundred bytes briefly.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    Sync(SyncEvent),
    /// The wall clock moved on (relative times, the spinner, countdowns).
    Tick(OffsetDateTime),
    /// The settings file could not be written (said once per session).
    SettingsNotSaved(String),
    /// SIGTERM or SIGHUP: leave now.
    Terminate,
}

/// Work that `update` asks the outside world to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Sync(SyncCommand),
    /// Put text on the clipboard of the user's terminal (OSC 52).
    Copy(String),
    /// Save the view (sort, My customers) to the settings file.
    SaveView(ViewSettings),
    /// A sync worked: remember the API URL this run was given.
    RememberApiUrl,
    Quit,
}
