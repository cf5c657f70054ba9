//! `pivotal bench`: measures the figures the app promises at scale, on N
//! generated customers, and prints them. Timings are read here, on purpose,
//! and never asserted in tests (shared machines make timed tests flaky).
//!
//! The reference server runs as a separate `pivotal serve` process so that
//! the memory figure is the client's alone. Measured:
//! - the first full sync (network, local store, and the UI applying pages);
//! - time to first frame from a warm cache (cache read → state → drawn);
//! - per-keystroke update + render time while scrolling (p50/p99/max);
//! - peak resident memory of this process, for the first sync and for the
//!   warm start apart (the peak is reset in between);
//! - what freeing the state one allocation at a time would cost on quit
//!   (the app skips it), and the warm start's build in thread CPU time,
//!   next to the way it was built before;
//! - the bytes written to the terminal per move, per row scrolled and per
//!   page, before and after the scrolling layer ([`bytes`]);
//! - finding and triage at scale ([`finding`]): filter keystrokes, the
//!   `D`/`m`/`s` toggles and archiving a duplicate;
//! - the likely-duplicate (same name) index ([`likely`]): its keys, its
//!   build and single-record renames kept exact.
//! - the keys and time to clean the demo account's duplicates accepting
//!   each suggested merge ([`triage`]), printed first, as it needs no
//!   server.

/// Prints one line of the bench's figures. A failed write, such as a
/// closed pipe (`pivotal bench | head -3`), ends the bench with that
/// `io::Error`, which the binary treats as the reader having had enough.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

mod bytes;
mod finding;
mod likely;
mod triage;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::api::{ApiKey, Client, RetryPolicy};
use crate::server::DEFAULT_API_KEY;
use crate::store::Store;
use crate::sync::{self, PreviewSpec, SyncConfig, SyncEvent};
use crate::tui::theme::Theme;
use crate::tui::{Command as UiCommand, Message, State, render, update};

/// The bench's screen size: the common 120×40 case.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// Runs the benchmark and prints its figures to stdout.
pub async fn run(customers: usize, keystrokes: usize) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("pivotal-bench-")
        .tempdir()?;
    say!(
        "pivotal bench: {customers} generated customers, {keystrokes} keystrokes, {WIDTH}x{HEIGHT}"
    );
    triage::run()?;

    let started = Instant::now();
    let server = ServerProcess::start(&dir.path().join("server"), customers)?;
    say!(
        "  server ready (generating data)      {:>9.1} ms",
        ms(started.elapsed())
    );

    let store_path = dir.path().join("client.sqlite3");
    let client = Client::new(&server.url, ApiKey::new(DEFAULT_API_KEY.to_owned())?)?
        .with_retry(RetryPolicy::default());

    first_syncs(&client, dir.path(), &store_path, customers).await?;
    // The peak from here on is the warm start's and scrolling's.
    let reset = reset_peak_rss();
    let mut state = warm_start_figures(&client, &store_path).await?;
    let mut screen = Screen::new();
    scroll_figures(&mut state, &mut screen, keystrokes, reset)?;
    bytes::run(&mut state)?;
    idle_figures(&mut state)?;
    finding::run(&mut state, &mut screen)?;
    if let Some(mib) = peak_rss_mib() {
        say!("  peak memory after finding + triage  {mib:>9.1} MiB");
    }
    // After the memory figure: it copies the set to change the copy.
    likely::run(&state.model.customers)?;
    drop(state);
    build_breakdown(&store_path)?;
    Ok(())
}

/// The first full sync, then one with a filter open, page by page, and
/// what freeing the synced state costs.
async fn first_syncs(
    client: &Client,
    dir: &std::path::Path,
    store_path: &std::path::Path,
    customers: usize,
) -> anyhow::Result<()> {
    let (sync_time, apply_time, state) = first_sync(client, store_path, None).await?;
    say!(
        "  first full sync                     {:>9.1} ms",
        ms(sync_time)
    );
    say!(
        "    of which the UI applying pages    {:>9.1} ms",
        ms(apply_time)
    );
    anyhow::ensure!(
        state.model.customers.len() == customers,
        "synced {} of {customers}",
        state.model.customers.len()
    );
    if let Some(mib) = peak_rss_mib() {
        say!("  peak memory, first sync (VmHWM)     {mib:>9.1} MiB");
    }
    let t = Instant::now();
    drop(state);
    let freed = t.elapsed();
    let filtered_path = dir.join("client-filtered.sqlite3");
    let mut pages = PageTimes::default();
    let (filtered_time, _, state) =
        first_sync(client, &filtered_path, Some(("harbor", &mut pages))).await?;
    drop(state);
    say!(
        "  first sync with /harbor open        {:>9.1} ms",
        ms(filtered_time)
    );
    for (what, times) in [
        ("each page, update + draw (keys wait)", &mut pages.wall),
        ("  CPU of the update alone", &mut pages.update_cpu),
        ("  CPU of the draw alone", &mut pages.draw_cpu),
    ] {
        times.sort();
        say!(
            "    {what:<37} p50 {:.2} p99 {:.2} max {:.2} ms ({} pages)",
            ms(percentile(times, 50)),
            ms(percentile(times, 99)),
            ms(percentile(times, 100)),
            times.len(),
        );
    }
    say!(
        "  freeing the state piece by piece    {:>9.1} ms  (the app leaves it to the OS on quit)",
        ms(freed)
    );

    Ok(())
}

/// The first frame from a warm cache, step by step; the state it built.
async fn warm_start_figures(
    client: &Client,
    store_path: &std::path::Path,
) -> anyhow::Result<State> {
    let (warm, state) = warm_start(client, store_path).await?;
    say!(
        "  first frame from a warm cache       {:>9.1} ms  ({})",
        ms(warm.total),
        if warm.from_preview {
            "from the preview"
        } else {
            "from the set: no preview"
        }
    );
    say!(
        "    reading it (preview thread)       {:>9.1} ms",
        ms(warm.read)
    );
    say!(
        "    applying it (UI task)             {:>9.1} ms",
        ms(warm.apply)
    );
    say!(
        "    drawing the first frame           {:>9.1} ms",
        ms(warm.draw)
    );
    if let Some(page) = warm.preview_page {
        say!(
            "  PgDn while the set is built         {:>9.1} ms  (keyset page, asked to drawn)",
            ms(page)
        );
    }
    say!(
        "  whole set ready (applied, drawn)    {:>9.1} ms",
        ms(warm.set_ready)
    );
    say!(
        "  quit: engine stopped, store closed  {:>9.1} ms  (the set is then left to the OS)",
        ms(warm.stop)
    );

    Ok(state)
}

/// Scrolling keystrokes, and the peak memory of the warm start with them.
fn scroll_figures(
    state: &mut State,
    screen: &mut Screen,
    keystrokes: usize,
    reset: bool,
) -> anyhow::Result<()> {
    let times = scroll(state, screen, keystrokes);
    say!(
        "  keystroke (update + render) p50     {:>9.3} ms\n  keystroke (update + render) p99     {:>9.3} ms\n  keystroke (update + render) max     {:>9.3} ms",
        ms(percentile(&times, 50)),
        ms(percentile(&times, 99)),
        ms(percentile(&times, 100)),
    );
    match peak_rss_mib() {
        Some(mib) if reset => say!("  peak memory, warm start + scroll    {mib:>9.1} MiB"),
        Some(mib) => say!("  peak memory (VmHWM, client only)    {mib:>9.1} MiB"),
        None => say!("  peak memory                         (not available on this OS)"),
    }
    Ok(())
}

/// Draws of an idle screen over ten simulated minutes.
fn idle_figures(state: &mut State) -> anyhow::Result<()> {
    let (draws, cells) = idle_redraws(state, 10, false)?;
    say!(
        "  idle redraws per minute (no sync)   {:>9.1}     ({:.1} cells changed a minute)",
        draws as f64 / 10.0,
        cells as f64 / 10.0
    );
    let (draws, cells) = idle_redraws(state, 10, true)?;
    say!(
        "  idle redraws per minute (60 s sync) {:>9.1}     ({:.1} cells changed a minute)",
        draws as f64 / 10.0,
        cells as f64 / 10.0
    );
    Ok(())
}

/// A duration in milliseconds, for printing.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `p`-th percentile (nearest rank below) of sorted durations.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) * p) / 100;
    sorted[index]
}

/// An empty state of the bench's screen size.
fn new_state() -> State {
    State::new(Theme::colored(), OffsetDateTime::now_utc(), (WIDTH, HEIGHT))
}

/// Draws `state` once.
fn draw(terminal: &mut Terminal<TestBackend>, state: &State) -> anyhow::Result<()> {
    terminal.draw(|frame| render(state, frame))?;
    Ok(())
}

/// Syncs everything into an empty store, applying pages to a state as the
/// app does. Returns the wall time, the part spent in `update`, and the state.
///
/// With `filter`, the filter line is open with that text from the start,
/// the screen is drawn after each event as the app does, and the time each
/// page takes (what a key pressed meanwhile waits for) goes to the list.
async fn first_sync(
    client: &Client,
    store_path: &Path,
    mut filter: Option<(&str, &mut PageTimes)>,
) -> anyhow::Result<(Duration, Duration, State)> {
    let store = Store::open(store_path)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let engine = sync::spawn(client.clone(), store, SyncConfig::default(), tx);
    let mut state = new_state();
    let mut screen = Screen::new();
    if let Some((text, _)) = &filter {
        screen.press(&mut state, KeyCode::Char('/'));
        for c in text.chars() {
            screen.press(&mut state, KeyCode::Char(c));
        }
    }
    let mut applying = Duration::ZERO;
    loop {
        let event = rx.recv().await.context("the sync engine stopped")?;
        let done = matches!(event, SyncEvent::Finished { .. });
        if let SyncEvent::Failed { reason, .. } = &event {
            bail!("sync failed: {reason}");
        }
        let page = matches!(event, SyncEvent::Page { .. });
        let t = Instant::now();
        let mut cpu = ThreadCpu::start();
        update(&mut state, Message::Sync(event));
        if let Some((_, times)) = &mut filter {
            let update_cpu = cpu.lap();
            if state.take_dirty() {
                let _ = screen.terminal.draw(|frame| render(&state, frame));
            }
            if page {
                times.wall.push(t.elapsed());
                times.update_cpu.push(update_cpu);
                times.draw_cpu.push(cpu.lap());
            }
        }
        applying += t.elapsed();
        if done {
            break;
        }
    }
    let elapsed = started.elapsed();
    engine.stop().await;
    Ok((elapsed, applying, state))
}

/// What each page of a first sync with a filter open cost: wall time (what
/// a key waits), and the CPU time of the update and of the draw (steadier
/// than wall time on a shared machine).
#[derive(Default)]
struct PageTimes {
    wall: Vec<Duration>,
    update_cpu: Vec<Duration>,
    draw_cpu: Vec<Duration>,
}

/// The warm start's build, step by step, in CPU time of this thread (less
/// disturbed than wall time on a shared machine), next to the way it was
/// built before (every row a `Customer`, then applied one by one).
fn build_breakdown(store_path: &Path) -> anyhow::Result<()> {
    let store = Store::open(store_path)?;
    let mut cpu = ThreadCpu::start();
    let entries = store.load_entries()?;
    let read = cpu.lap();
    let set = crate::domain::CustomerSet::from_entries(entries);
    let built = cpu.lap();
    let t = Instant::now();
    std::hint::black_box(&set);
    drop(set);
    let freed = t.elapsed();
    let mut cpu = ThreadCpu::start();
    let mut old = crate::domain::CustomerSet::default();
    old.apply(store.load_customers()?);
    let old_time = cpu.lap();
    drop(old);
    say!("  warm-start build, CPU time of one thread:");
    say!(
        "    rows → entries (store cursor)      {:>9.1} ms",
        ms(read)
    );
    say!(
        "    ids, duplicates, name order        {:>9.1} ms",
        ms(built)
    );
    say!(
        "    (before: Customers, then apply)    {:>9.1} ms",
        ms(old_time)
    );
    say!(
        "    freeing the set (wall)             {:>9.1} ms",
        ms(freed)
    );
    Ok(())
}

/// CPU time consumed by the calling thread, where the OS says (Linux);
/// wall time elsewhere.
struct ThreadCpu {
    last: Duration,
}

impl ThreadCpu {
    fn start() -> ThreadCpu {
        ThreadCpu { last: thread_cpu() }
    }

    /// The CPU time since the last lap (or the start).
    fn lap(&mut self) -> Duration {
        let now = thread_cpu();
        let lap = now.saturating_sub(self.last);
        self.last = now;
        lap
    }
}

#[cfg(target_os = "linux")]
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut now) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// Where the time to the first frame goes.
struct WarmStart {
    /// Launch (store opened) to the first frame with names on screen.
    total: Duration,
    /// Until the preview (or, without one, the set) reached the UI.
    read: Duration,
    apply: Duration,
    draw: Duration,
    /// Whether the first frame came from the preview.
    from_preview: bool,
    /// A page down through the preview while the set is built: asked to
    /// answered and drawn.
    preview_page: Option<Duration>,
    /// Launch to the whole set applied and drawn.
    set_ready: Duration,
    /// Stopping the engine (store closed) once the set is there.
    stop: Duration,
}

/// A fresh engine on the synced store, asked for the preview as the app
/// asks for it (name order, the screen's rows): the time until names are
/// on screen, a page down while the set is built, and the time until the
/// whole set is there.
async fn warm_start(client: &Client, store_path: &Path) -> anyhow::Result<(WarmStart, State)> {
    let started = Instant::now();
    let store = Store::open(store_path)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let config = SyncConfig {
        preview: Some(PreviewSpec {
            descending: false,
            mine: false,
            rows: usize::from(HEIGHT - 4),
        }),
        ..SyncConfig::default()
    };
    let engine = sync::spawn(client.clone(), store, config, tx);
    let mut state = new_state();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    let (read, apply, from_preview) = first_screen(&mut rx, &mut state, started).await?;
    let t = Instant::now();
    draw(&mut terminal, &state)?;
    let draw_time = t.elapsed();
    let total = started.elapsed();
    let preview_page =
        until_the_set(&mut rx, &mut state, &engine, &mut terminal, from_preview).await?;
    draw(&mut terminal, &state)?;
    let set_ready = started.elapsed();
    let t = Instant::now();
    engine.stop().await;
    let stop = t.elapsed();
    Ok((
        WarmStart {
            total,
            read,
            apply,
            draw: draw_time,
            from_preview,
            preview_page,
            set_ready,
            stop,
        },
        state,
    ))
}

/// Applies the engine's events until the first screen can be drawn: the
/// time that took, the time applying it took, and whether it is the
/// preview's.
async fn first_screen(
    rx: &mut mpsc::UnboundedReceiver<SyncEvent>,
    state: &mut State,
    started: Instant,
) -> anyhow::Result<(Duration, Duration, bool)> {
    loop {
        let event = rx.recv().await.context("the sync engine stopped")?;
        let first = match &event {
            SyncEvent::Preview(_) => Some(true),
            SyncEvent::CacheLoaded { .. } => Some(false),
            _ => None,
        };
        let read = started.elapsed();
        let t = Instant::now();
        update(state, Message::Sync(event));
        if let Some(from_preview) = first {
            return Ok((read, t.elapsed(), from_preview));
        }
    }
}

/// With the preview on screen, a page down (answered by the preview while
/// the set is built), then the events until the set is applied: how long
/// the page took to be drawn.
async fn until_the_set(
    rx: &mut mpsc::UnboundedReceiver<SyncEvent>,
    state: &mut State,
    engine: &sync::SyncHandle,
    terminal: &mut Terminal<TestBackend>,
    from_preview: bool,
) -> anyhow::Result<Option<Duration>> {
    let mut asked_at = None;
    let mut preview_page = None;
    if from_preview {
        let t = Instant::now();
        let key = KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE);
        for command in update(state, Message::Key(key)) {
            if let UiCommand::Sync(command) = command {
                engine.send(command);
                asked_at = Some(t);
            }
        }
    }
    loop {
        let event = rx.recv().await.context("the sync engine stopped")?;
        let cached = matches!(event, SyncEvent::CacheLoaded { .. });
        let page = matches!(event, SyncEvent::PreviewPage { .. });
        for command in update(state, Message::Sync(event)) {
            if let UiCommand::Sync(command) = command {
                engine.send(command);
            }
        }
        if page && let Some(at) = asked_at.take() {
            draw(terminal, state)?;
            preview_page = Some(at.elapsed());
        }
        if cached {
            return Ok(preview_page);
        }
    }
}

/// Draws over `minutes` simulated minutes of an idle app that wakes only
/// when its clock says the screen changes, with (`with_sync`) or without a
/// background sync that finds nothing each minute: how many draws, and how
/// many cells they changed.
fn idle_redraws(
    state: &mut State,
    minutes: u32,
    with_sync: bool,
) -> anyhow::Result<(usize, usize)> {
    let mut screen = Screen::new();
    let start = OffsetDateTime::now_utc();
    update(state, Message::Tick(start));
    state.model.sync.last_synced = Some(start);
    state.model.sync.phase = crate::tui::state::SyncPhase::Idle;
    draw(&mut screen.terminal, state)?;
    state.take_dirty();
    let end = start + Duration::from_secs(u64::from(minutes) * 60);
    let mut now = start;
    let mut next_sync = start + Duration::from_secs(60);
    let (mut draws, mut cells) = (0, 0);
    let mut generation = state.model.sync.generation;
    while now < end {
        let wake = state.next_wakeup().unwrap_or(Duration::from_secs(3600));
        let mut events = Vec::new();
        if with_sync && now + wake >= next_sync {
            now = next_sync;
            generation += 1;
            events.push(SyncEvent::Started {
                generation,
                full: false,
            });
            events.push(SyncEvent::Finished {
                generation,
                at: now + Duration::from_millis(80),
                skipped: 0,
            });
            next_sync = now + Duration::from_secs(60);
        } else {
            now += wake;
        }
        let mut messages = vec![Message::Tick(now)];
        messages.extend(events.into_iter().map(Message::Sync));
        // Each event is its own pass of the loop, drawn when dirty.
        for message in messages {
            update(state, message);
            if state.take_dirty() {
                let before = screen.terminal.backend().buffer().clone();
                draw(&mut screen.terminal, state)?;
                let after = screen.terminal.backend().buffer();
                cells += before.diff(after).len();
                draws += 1;
            }
        }
    }
    Ok((draws, cells))
}

/// Update + render per keystroke over a realistic mix of moves.
fn scroll(state: &mut State, screen: &mut Screen, keystrokes: usize) -> Vec<Duration> {
    let keys = [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::PageDown,
        KeyCode::Char('k'),
        KeyCode::PageDown,
        KeyCode::Char('G'),
        KeyCode::PageUp,
        KeyCode::Char('g'),
    ];
    let mut times: Vec<Duration> = keys
        .iter()
        .cycle()
        .take(keystrokes)
        .map(|code| screen.press(state, *code))
        .collect();
    times.sort();
    times
}

/// The screen keystrokes are drawn to: a `TestBackend` of the bench's size.
struct Screen {
    terminal: Terminal<TestBackend>,
}

impl Screen {
    /// A blank screen of the bench's size.
    fn new() -> Screen {
        let terminal = match Terminal::new(TestBackend::new(WIDTH, HEIGHT)) {
            Ok(terminal) => terminal,
            Err(never) => match never {},
        };
        Screen { terminal }
    }

    /// Sends one key press through `update` and draws the screen if it
    /// changed, as the app's event loop does; returns the time of both.
    fn press(&mut self, state: &mut State, code: KeyCode) -> Duration {
        let t = Instant::now();
        update(state, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        if state.take_dirty() {
            let _ = self.terminal.draw(|frame| render(state, frame));
        }
        t.elapsed()
    }
}

/// Starts the peak resident set size over from the current one (Linux:
/// `5` to `/proc/self/clear_refs`), so that the warm start's peak is not
/// the first sync's. False where that is not possible.
fn reset_peak_rss() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free heap pages back to the OS.
    unsafe {
        // Freed memory the allocator kept would otherwise count as resident.
        libc::malloc_trim(0);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident set size of this process, from `/proc/self/status`.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `pivotal serve` in a child process, killed on drop.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    /// Starts `pivotal serve` generating `customers` into `data_dir` and
    /// waits until it listens.
    fn start(data_dir: &Path, customers: usize) -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("cannot find the pivotal binary")?;
        let mut child = Command::new(exe)
            .args([
                "serve",
                "--addr",
                ":0",
                "--generate",
                &customers.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .env("PIVOTAL_SERVER_API_KEY", DEFAULT_API_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start `pivotal serve`")?;
        let stdout = child.stdout.take().context("no stdout from the server")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line from the server: {line:?}"))?
            .to_owned();
        Ok(ServerProcess { child, url })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
