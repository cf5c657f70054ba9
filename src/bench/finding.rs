//! `pivotal bench`, finding and triage at scale, measured like the scrolling
//! figure: each key goes through the real `update` on the bench's `State`
//! and is drawn to its `TestBackend`, and the time of both is one sample.
//!
//! - Filter keystrokes: typical queries, each typed after `/` character by
//!   character, backspaced away and closed with Esc. `/` (which would build
//!   the search index, had the warm start not brought it) and the first key
//!   after it (a scan of every customer) are reported on their own.
//! - The `D` (duplicates only), `m` (my customers) and `s` (sort) toggles,
//!   `j` in the duplicates-only list, and `s` to domain just after a sync
//!   brought a domain new to the set.
//! - Archiving one duplicate as the app does it (`a`, then `y`), beside the
//!   bare `CustomerSet::remove` and badge recount that it rests on.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use crossterm::event::KeyCode;

use super::{Screen, ms, percentile};
use crate::api::models::{Customer, Source};
use crate::domain::{CustomerKey, Entry, SortColumn};
use crate::sync::SyncEvent;
use crate::tui::format;
use crate::tui::{Message, State, update};

/// Typical queries as (kind, what is typed after `/`), from the generated
/// data (`server::generate`): a name prefix about one customer in 40 has,
/// a prefix + suffix + industry that only a handful share, a top-level
/// domain, a fuzzy name and industry, and a display id.
const QUERIES: &[(&str, &str)] = &[
    ("common", "harbor"),
    ("rare", "sagedale legal"),
    ("domain", ".io"),
    ("fuzzy", "~hrbrlabs"),
    ("display id", "#1042"),
];

/// Presses of `D` and of `m`: half turn it on, half off.
const TOGGLES: usize = 6;
/// Presses of `j` in the duplicates-only list.
const SCROLLS: usize = 50;
/// Full cycles of `s` through the sort columns.
const SORT_CYCLES: usize = 2;
/// Customers with a domain new to the set, each synced before one `s`
/// cycle that times the press to domain.
const NEW_DOMAINS: usize = 3;
/// Customers archived through the app, and as many removed from the bare set.
const ARCHIVES: usize = 50;
/// Archives made while a text filter is kept.
const FILTERED_ARCHIVES: usize = 10;
/// The text filter kept for those.
const KEPT_FILTER: &str = "harbor";

/// One query typed, backspaced and closed.
struct Typed {
    kind: &'static str,
    query: &'static str,
    /// `/`, which opens the line (and would build the search index if the
    /// warm start had not brought it).
    open: Duration,
    /// The first key after `/`, which scans every customer.
    first: Duration,
    /// Every other key: the rest of the query, the backspaces and Esc.
    rest: Vec<Duration>,
    /// The rows shown once the whole query was typed.
    matches: usize,
}

/// One toggle's samples, with a note on what they show.
struct Toggle {
    label: &'static str,
    times: Vec<Duration>,
    note: String,
}

/// The archive samples.
struct Archives {
    /// `a`: the question, in the duplicates view.
    ask: Vec<Duration>,
    /// `y`: the optimistic archive, in the duplicates view.
    confirm: Vec<Duration>,
    /// `CustomerSet::remove` plus the badge of a customer left in the group.
    bare: Vec<Duration>,
    /// `y` with a text filter kept, in the full list.
    filtered: Vec<Duration>,
}

/// Everything this part of the bench measures.
struct Report {
    typed: Vec<Typed>,
    toggles: Vec<Toggle>,
    archives: Archives,
}

/// Measures finding and triage on `state` and prints the figures.
pub(super) fn run(state: &mut State, screen: &mut Screen) -> anyhow::Result<()> {
    let report = measure(state, screen)?;
    report.print()?;
    Ok(())
}

/// Runs every measurement, each leaving the list unfiltered for the next.
/// Archives customers, so it comes last in the bench.
fn measure(state: &mut State, screen: &mut Screen) -> anyhow::Result<Report> {
    let typed = QUERIES
        .iter()
        .map(|&(kind, query)| type_query(state, screen, kind, query))
        .collect::<anyhow::Result<_>>()?;
    let toggles = toggles(state, screen)?;
    let archives = archives(state, screen)?;
    Ok(Report {
        typed,
        toggles,
        archives,
    })
}

/// Types `query` after `/` one character at a time, backspaces it away and
/// closes the line with Esc, timing every key.
fn type_query(
    state: &mut State,
    screen: &mut Screen,
    kind: &'static str,
    query: &'static str,
) -> anyhow::Result<Typed> {
    let open = screen.press(state, KeyCode::Char('/'));
    let mut rest = Vec::new();
    let mut chars = query.chars();
    let first_char = chars.next().context("an empty bench query")?;
    let first = screen.press(state, KeyCode::Char(first_char));
    rest.extend(chars.map(|c| screen.press(state, KeyCode::Char(c))));
    ensure!(
        state.finder.query().is_some(),
        "typing {query:?} set no filter"
    );
    let matches = state.row_count();
    for _ in query.chars() {
        rest.push(screen.press(state, KeyCode::Backspace));
    }
    rest.push(screen.press(state, KeyCode::Esc));
    ensure!(
        state.finder.line.is_none() && state.row_count() == state.model.customers.len(),
        "Esc left {query:?} filtering the list"
    );
    Ok(Typed {
        kind,
        query,
        open,
        first,
        rest,
        matches,
    })
}

/// `D` and `m` turned on and off a few times, then `s` through every sort
/// column (back to the first), on the unfiltered list.
fn toggles(state: &mut State, screen: &mut Screen) -> anyhow::Result<Vec<Toggle>> {
    let all = state.model.customers.len();
    let mut figures = Vec::new();
    for (key, on_label, off_label) in [
        ('D', "D duplicates only, on", "D duplicates only, off"),
        ('m', "m my customers, on", "m my customers, off"),
    ] {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        let mut shown = 0;
        for _ in 0..TOGGLES / 2 {
            on.push(screen.press(state, KeyCode::Char(key)));
            shown = state.row_count();
            ensure!(
                shown < all,
                "{key} did not narrow the list (is the signed-in user known?)"
            );
            off.push(screen.press(state, KeyCode::Char(key)));
            ensure!(state.row_count() == all, "{key} twice did not restore it");
        }
        let presses = on.len();
        figures.push(Toggle {
            label: on_label,
            times: on,
            note: format!("{presses} presses, {} rows", format::count(shown)),
        });
        figures.push(Toggle {
            label: off_label,
            times: off,
            note: format!("{presses} presses"),
        });
    }
    figures.push(scroll_in_duplicates(state, screen)?);
    figures.push(sort_cycles(state, screen)?);
    figures.push(sort_after_new_domains(state, screen)?);
    Ok(figures)
}

/// `j` through the duplicates-only list, whose title counts the groups
/// and whose rows open with group headers: every frame of triage.
fn scroll_in_duplicates(state: &mut State, screen: &mut Screen) -> anyhow::Result<Toggle> {
    screen.press(state, KeyCode::Char('D'));
    ensure!(
        state.finder.duplicates_only,
        "D did not show duplicates only"
    );
    // From the top, so that every `j` moves (the selection kept from the
    // full list may be the last duplicate).
    screen.press(state, KeyCode::Char('g'));
    let times: Vec<Duration> = (0..SCROLLS)
        .map(|_| screen.press(state, KeyCode::Char('j')))
        .collect();
    ensure!(state.selected == SCROLLS, "j did not move down the list");
    let groups = state.finder.rows.groups().len();
    screen.press(state, KeyCode::Char('D'));
    Ok(Toggle {
        label: "j in duplicates only",
        note: format!("{} presses, {} groups", times.len(), format::count(groups)),
        times,
    })
}

/// `s` through every sort column [`SORT_CYCLES`] times, ending where it began.
fn sort_cycles(state: &mut State, screen: &mut Screen) -> anyhow::Result<Toggle> {
    let start = state.model.customers.sort();
    let mut times = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for _ in 0..SORT_CYCLES {
        loop {
            let time = screen.press(state, KeyCode::Char('s'));
            times.push(time);
            let sort = state.model.customers.sort();
            if time > slowest.0 {
                slowest = (time, sort.label());
            }
            if sort == start {
                break;
            }
            ensure!(times.len() < 100, "s never came back to {}", start.label());
        }
    }
    let note = format!("{} presses, slowest: to {}", times.len(), slowest.1);
    Ok(Toggle {
        label: "s next sort column",
        times,
        note,
    })
}

/// `s` to domain right after a sync brought a customer with a domain new
/// to the set: the one toggle that then ranks every domain again (the set
/// keeps the ranks while records come and go in domains it knows).
fn sort_after_new_domains(state: &mut State, screen: &mut Screen) -> anyhow::Result<Toggle> {
    let start = state.model.customers.sort();
    let mut times = Vec::new();
    for n in 0..NEW_DOMAINS {
        let generation = state.model.sync.generation + 1;
        let now = time::OffsetDateTime::now_utc();
        let customer = Customer {
            id: format!("cus_bench_new_{n}"),
            display_id: 9_000_000 + n as u64,
            name: format!("Bench New Domain {n}"),
            domain: Some(format!("bench-new-domain-{n}.example")),
            owner_id: None,
            plan: None,
            tags: Vec::new(),
            custom_fields: Default::default(),
            source: Source::Manual,
            archived: false,
            created_at: now,
            updated_at: now,
        };
        for event in [
            SyncEvent::Started {
                generation,
                full: false,
            },
            SyncEvent::Page {
                generation,
                customers: vec![Entry::from(customer)],
                fetched: 1,
            },
            SyncEvent::Finished {
                generation,
                at: now,
                skipped: 0,
            },
        ] {
            update(state, Message::Sync(event));
        }
        loop {
            let time = screen.press(state, KeyCode::Char('s'));
            let column = state.model.customers.sort().column;
            if column == SortColumn::Domain {
                times.push(time);
            }
            if state.model.customers.sort() == start {
                break;
            }
            ensure!(times.len() <= n + 1, "s skipped the domain column");
        }
    }
    Ok(Toggle {
        label: "s to domain, new domain synced",
        note: format!("{} presses, each after one new customer", times.len()),
        times,
    })
}

/// Archives duplicates through `update` (`a`, then `y`) in the duplicates
/// view, removes as many others from the bare set, then archives a few with
/// a text filter kept.
fn archives(state: &mut State, screen: &mut Screen) -> anyhow::Result<Archives> {
    let picks = pick_duplicates(state, 2 * ARCHIVES)?;
    let (through_app, bare_picks) = picks.split_at(ARCHIVES);

    screen.press(state, KeyCode::Char('D'));
    ensure!(state.finder.duplicates_only, "D did not show duplicates");
    let (mut ask, mut confirm) = (Vec::new(), Vec::new());
    for (id, _) in through_app {
        // Setting up, untimed: the selection follows at the next key.
        state.select(CustomerKey::from(id.as_str()));
        ask.push(screen.press(state, KeyCode::Char('a')));
        ensure!(
            state.modes.confirm_archive() == Some(id.as_str()),
            "a did not ask about {id}"
        );
        confirm.push(screen.press(state, KeyCode::Char('y')));
        ensure!(
            state.model.customers.get(id).is_none(),
            "y did not archive {id}"
        );
    }
    screen.press(state, KeyCode::Char('D'));

    let mut bare = Vec::new();
    for (id, other) in bare_picks {
        let t = Instant::now();
        let removed = state.model.customers.remove(id);
        let badge = state
            .model
            .customers
            .get(other)
            .map(|e| state.model.customers.badge(e));
        bare.push(t.elapsed());
        ensure!(removed.is_some(), "{id} was not in the set");
        black_box(badge);
    }

    let filtered = archive_filtered(state, screen)?;
    Ok(Archives {
        ask,
        confirm,
        bare,
        filtered,
    })
}

/// With [`KEPT_FILTER`] typed and kept (Enter), archives the first match
/// [`FILTERED_ARCHIVES`] times, timing each `y`; then clears the filter.
fn archive_filtered(state: &mut State, screen: &mut Screen) -> anyhow::Result<Vec<Duration>> {
    screen.press(state, KeyCode::Char('/'));
    for c in KEPT_FILTER.chars() {
        screen.press(state, KeyCode::Char(c));
    }
    screen.press(state, KeyCode::Enter);
    ensure!(
        state.finder.query().is_some(),
        "the {KEPT_FILTER:?} filter was not kept"
    );
    let mut times = Vec::new();
    for _ in 0..FILTERED_ARCHIVES {
        let id = state
            .selected_entry()
            .and_then(|e| e.id().map(str::to_owned))
            .with_context(|| format!("nothing left matching {KEPT_FILTER:?}"))?;
        screen.press(state, KeyCode::Char('a'));
        times.push(screen.press(state, KeyCode::Char('y')));
        ensure!(
            state.model.customers.get(&id).is_none(),
            "y did not archive {id}"
        );
    }
    screen.press(state, KeyCode::Esc);
    Ok(times)
}

/// `count` pairs (a customer, another of the same domain) from different
/// duplicate groups spread over all of them, the same on every run.
fn pick_duplicates(state: &State, count: usize) -> anyhow::Result<Vec<(String, String)>> {
    let mut groups: Vec<(&str, Vec<&crate::domain::Entry>)> =
        state.model.customers.duplicate_groups().collect();
    groups.sort_unstable_by_key(|&(key, _)| key);
    ensure!(
        groups.len() >= count,
        "{} duplicate domains, {count} needed",
        groups.len()
    );
    let step = groups.len() / count;
    Ok(groups
        .iter()
        .step_by(step)
        .take(count)
        .filter_map(|(_, group)| Some((group[0].id()?.to_owned(), group[1].id()?.to_owned())))
        .collect())
}

impl Report {
    /// Prints the figures under the bench's others.
    fn print(&self) -> std::io::Result<()> {
        say!("  filter keystroke (update + render): / query, backspaces, Esc");
        let opens: Vec<Duration> = self.typed.iter().map(|t| t.open).collect();
        spread(
            "/ (the first: index ready)",
            &opens,
            false,
            &format!(
                "{} queries, the first {:.1} ms",
                opens.len(),
                ms(opens.first().copied().unwrap_or_default())
            ),
        )?;
        let firsts: Vec<Duration> = self.typed.iter().map(|t| t.first).collect();
        spread(
            "first key after / (scans all)",
            &firsts,
            false,
            &format!("{} queries", firsts.len()),
        )?;
        for t in &self.typed {
            let matches = match t.matches {
                1 => "1 match".to_owned(),
                n => format!("{} matches", format::count(n)),
            };
            let note = format!(
                "{} keys, {matches}, first {:.1} ms",
                t.rest.len() + 2,
                ms(t.first)
            );
            spread(&format!("{} {:?}", t.kind, t.query), &t.rest, true, &note)?;
        }
        let all: Vec<Duration> = self.typed.iter().flat_map(|t| t.rest.clone()).collect();
        spread(
            "all queries, first keys aside",
            &all,
            true,
            &format!("{} keys", all.len()),
        )?;

        say!("  toggle (update + render)");
        for toggle in &self.toggles {
            spread(toggle.label, &toggle.times, false, &toggle.note)?;
        }

        let a = &self.archives;
        say!("  archive one duplicate (duplicates view, update + render)");
        let n = format!("{} customers", a.confirm.len());
        spread("a (the question)", &a.ask, false, &n)?;
        spread("y (removes it, rows recomputed)", &a.confirm, false, &n)?;
        spread(
            "bare CustomerSet::remove + badge",
            &a.bare,
            false,
            &format!("{} customers", a.bare.len()),
        )?;
        spread(
            &format!("y with /{KEPT_FILTER} kept"),
            &a.filtered,
            false,
            &format!("{} customers, full list", a.filtered.len()),
        )?;
        Ok(())
    }
}

/// Prints one line of figures: p50, p99 (if asked) and max of `times`, in
/// ms, with `note` after them.
fn spread(label: &str, times: &[Duration], with_p99: bool, note: &str) -> std::io::Result<()> {
    let mut sorted = times.to_vec();
    sorted.sort();
    let p99 = if with_p99 {
        format!("p99 {:>8.3}", ms(percentile(&sorted, 99)))
    } else {
        " ".repeat(12)
    };
    say!(
        "    {label:<34}p50 {:>8.3}  {p99}  max {:>8.3} ms  ({note})",
        ms(percentile(&sorted, 50)),
        ms(percentile(&sorted, 100)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::OffsetDateTime;

    use super::*;
    use crate::api::{Customer, Source};

    /// 3,000 customers named like the generator's; every tenth shares the
    /// previous one's domain, and one in six is mine.
    fn state_with_customers() -> State {
        let mut state = super::super::new_state();
        let customers = (0..3_000u64).map(|i| {
            let domain_of = if i % 10 == 9 { i - 1 } else { i };
            Customer {
                id: format!("cus_{i}"),
                display_id: 1_000 + i,
                name: format!("Harbor{i} Labs"),
                domain: Some(format!("harbor{domain_of}labs.io")),
                owner_id: Some(format!("usr_{}", i % 6)),
                plan: None,
                tags: Vec::new(),
                custom_fields: BTreeMap::new(),
                source: Source::Manual,
                archived: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
                updated_at: OffsetDateTime::UNIX_EPOCH,
            }
        });
        state.model.customers.apply(customers);
        state.model.me = Some("usr_0".to_owned());
        state
    }

    #[test]
    fn every_figure_goes_through_update_and_archives_what_it_says() {
        let mut state = state_with_customers();
        let mut screen = Screen::new();
        let report = measure(&mut state, &mut screen).expect("the bench runs");

        assert_eq!(report.typed.len(), QUERIES.len());
        let keys: usize = report.typed.iter().map(|t| t.rest.len() + 2).sum();
        let typed: usize = QUERIES.iter().map(|(_, q)| 2 * q.chars().count() + 2).sum();
        assert_eq!(keys, typed);
        assert_eq!(report.archives.confirm.len(), ARCHIVES);
        assert_eq!(report.archives.bare.len(), ARCHIVES);
        assert_eq!(report.archives.filtered.len(), FILTERED_ARCHIVES);
        let new_domains = report
            .toggles
            .iter()
            .find(|t| t.label.starts_with("s to domain"))
            .expect("s to domain after a new domain is measured");
        assert_eq!(new_domains.times.len(), NEW_DOMAINS);
        assert_eq!(
            state.model.customers.len(),
            3_000 + NEW_DOMAINS - 2 * ARCHIVES - FILTERED_ARCHIVES
        );
        assert_eq!(state.model.outbox.len(), ARCHIVES + FILTERED_ARCHIVES);
        assert!(!state.finder.duplicates_only && state.finder.query().is_none());
    }
}
