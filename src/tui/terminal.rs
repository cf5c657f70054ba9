//! The terminal while the app owns it: raw mode, the alternate screen, the
//! mouse (unless turned off) and bracketed paste on the way in, and one way
//! back out that works from any thread, exactly once, even from a panic on
//! another thread.
//!
//! Not ratatui's `init`/`restore`: its panic hook restores through
//! `std::io::stdout()`, whose lock another thread may hold for as long as
//! it likes, so a panic on a tokio worker deadlocked in the hook and left
//! the terminal raw on the alternate screen. Here the way out writes to its
//! own duplicate of the terminal's file descriptor, takes no lock a running
//! thread can hold, and an atomic flag makes it happen once.
//!
//! A panic anywhere while the app runs ends the app: the hook restores the
//! terminal, lets the earlier hooks say what happened (the binary's says
//! where the log is), and wakes the event loop ([`crashed`]), which stops
//! the engine and returns [`super::TuiError::Crashed`]; the binary exits
//! non-zero. A panic on the UI thread itself unwinds out of the loop the
//! usual way.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once, OnceLock, TryLockError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal;
use tokio::sync::Notify;

use super::scrolling::ScrollingBackend;

/// The app's terminal: ratatui over the layer that scrolls rows that moved
/// instead of writing them again ([`super::scrolling`]).
pub(super) type AppTerminal = Terminal<ScrollingBackend<io::Stdout>>;

/// True while the terminal is raw and on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// True while the terminal reports the mouse to the app.
static MOUSE: AtomicBool = AtomicBool::new(false);
/// True once any thread panicked while the hook was installed.
static CRASHED: AtomicBool = AtomicBool::new(false);
/// Wakes the event loop after a panic elsewhere.
static CRASH: Notify = Notify::const_new();
static HOOK: Once = Once::new();
/// Held by the UI thread while it draws a frame, so that a panic on
/// another thread restores the terminal between frames, never in the
/// middle of one (whose rest would land on the main screen).
static FRAME: Mutex<()> = Mutex::new(());
/// The thread that draws: a panic there must not wait for [`FRAME`].
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();
/// How long a panic on another thread waits for a frame to finish.
const FRAME_WAIT: Duration = Duration::from_secs(1);

/// Takes the terminal over: raw mode, the alternate screen, bracketed paste
/// (pasted text arrives whole, so a newline in it cannot submit a form),
/// and with `mouse` the mouse (given back by [`restore`] like the rest).
/// Installs the panic hook first, so that nothing can leave it raw.
///
/// # Errors
///
/// When the terminal refuses; it is restored first.
pub(super) fn enter(mouse: bool) -> io::Result<AppTerminal> {
    let _ = UI_THREAD.set(std::thread::current().id());
    install_panic_hook();
    crossterm::terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let entered = crossterm::execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)
        .and_then(|()| {
            MOUSE.store(mouse, Ordering::SeqCst);
            if mouse {
                crossterm::execute!(io::stdout(), EnableClicks)?;
            }
            Ok(())
        })
        .and_then(|()| ScrollingBackend::new(io::stdout()))
        .map(|backend| backend.scrolling(!plain_drawing()))
        .and_then(Terminal::new);
    if entered.is_err() {
        restore();
    }
    entered
}

/// `PIVOTAL_PLAIN_DRAWING=1`: write frames as ratatui alone does (no
/// scrolling, crossterm's encoding), to compare when a screen looks wrong.
fn plain_drawing() -> bool {
    std::env::var_os("PIVOTAL_PLAIN_DRAWING").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Asks the terminal for clicks and the wheel, reported in SGR form
/// (modes 1000 and 1006), and not for the motion reports crossterm's
/// `EnableMouseCapture` adds (1002, 1003), which would send bytes for every
/// move of the pointer, over SSH too. `DisableMouseCapture` turns all off.
struct EnableClicks;

impl crossterm::Command for EnableClicks {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        f.write_str("\x1b[?1000h\x1b[?1006h")
    }

    #[cfg(windows)]
    fn execute_winapi(&self) -> io::Result<()> {
        crossterm::event::EnableMouseCapture.execute_winapi()
    }
}

/// Gives the terminal back as it was: cooked mode, the main screen, the
/// cursor shown. Only the first call does anything; safe from any thread
/// and from a panic hook.
pub(super) fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    // Raw mode first, as ratatui does: it matters more than the screen.
    let _ = crossterm::terminal::disable_raw_mode();
    let mut out = unlocked_stdout();
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = crossterm::execute!(out, DisableMouseCapture);
    }
    let _ = crossterm::execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Draws one frame with `draw`, unless a panic elsewhere has given the
/// terminal back; then returns `Ok(false)` and draws nothing.
///
/// # Errors
///
/// As `draw` does.
pub(super) fn draw_frame(draw: impl FnOnce() -> io::Result<()>) -> io::Result<bool> {
    let _frame = FRAME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if has_crashed() {
        return Ok(false);
    }
    draw()?;
    Ok(true)
}

/// True once a panic happened anywhere in the process while the app ran.
pub(super) fn has_crashed() -> bool {
    CRASHED.load(Ordering::SeqCst)
}

/// Resolves once a panic happened (at once if one already did).
pub(super) async fn crashed() {
    if has_crashed() {
        return;
    }
    CRASH.notified().await;
}

/// Installs, once per process, the hook that restores the terminal before
/// the earlier hooks print anything, and tells the event loop.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            {
                let _frame = wait_for_frame();
                // The loop draws no more frames after this.
                CRASHED.store(true, Ordering::SeqCst);
                restore();
            }
            previous(info);
            // After it, so the process cannot end before it is printed.
            // Stores a permit when the loop is not waiting yet.
            CRASH.notify_one();
        }));
    });
}

/// The frame lock, from a panic hook: not on the UI thread (which may
/// hold it, panicking mid-frame), and not for ever (a frame stuck writing
/// to a terminal that does not read must not keep the hook waiting).
fn wait_for_frame() -> Option<MutexGuard<'static, ()>> {
    if UI_THREAD.get() == Some(&std::thread::current().id()) {
        return None;
    }
    let deadline = Instant::now() + FRAME_WAIT;
    loop {
        match FRAME.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => return Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TryLockError::WouldBlock) => return None,
        }
    }
}

/// Standard output without `std::io::stdout()`'s lock, which the UI thread
/// (or the panicking thread itself) may hold: a duplicate of descriptor 1.
fn unlocked_stdout() -> Box<dyn Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(io::stdout())
}

/// For the end-to-end tests of the above, in debug builds only:
/// `PIVOTAL_DEBUG_PANIC=task` panics on a tokio worker, `=ui` on the UI
/// thread, once the first frame is on screen. There is no real way left to
/// make the app panic, which is the point.
#[cfg(debug_assertions)]
pub(super) fn debug_panic_after_first_frame() {
    match std::env::var("PIVOTAL_DEBUG_PANIC").as_deref() {
        Ok("task") => {
            tokio::spawn(async { panic!("PIVOTAL_DEBUG_PANIC=task: a background task panicked") });
        }
        Ok("ui") => panic!("PIVOTAL_DEBUG_PANIC=ui: the UI thread panicked"),
        _ => {}
    }
}

#[cfg(not(debug_assertions))]
pub(super) fn debug_panic_after_first_frame() {}
