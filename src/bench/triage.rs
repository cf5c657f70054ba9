//! `pivotal bench`, cleaning up duplicates: the demo account's groups of
//! duplicates cleaned from one `D` press, accepting each suggested merge,
//! with every key sent through the real `update` and drawn, as in the
//! other figures. Counts the keys after `D` (the goal is 3 or fewer a
//! group) and the time of all of them (update + draw).
//!
//! The strategy is what a user accepting each suggestion types: `c` on the
//! first group, then `M` and `y` for each group, as compare opens the next
//! group by itself after a merge. The histories the keeper rule weighs are
//! given to the app first, as the engine would send them.

use std::time::Duration;

use anyhow::{Context, ensure};
use crossterm::event::KeyCode;
use time::OffsetDateTime;

use super::{Screen, ms, new_state, percentile};
use crate::api::{Customer, HistoryEvent};
use crate::server::{DEMO_CUSTOMERS, team};
use crate::sync::SyncEvent;
use crate::tui::{Message, State, update};

/// More keys than any demo account could need: a strategy that stops
/// making progress ends here instead of looping.
const MOST_KEYS: usize = 1_000;

/// What cleaning up the demo account took.
pub(super) struct Cleaned {
    pub groups: usize,
    /// Every key after `D`, with the time of its update and draw.
    pub keys: Vec<Duration>,
}

/// Cleans the demo account's duplicates and prints the figure.
pub(super) fn run() -> anyhow::Result<()> {
    let cleaned = clean_demo()?;
    let mut sorted = cleaned.keys.clone();
    sorted.sort();
    let total: Duration = sorted.iter().sum();
    let per_group = cleaned.keys.len() as f64 / cleaned.groups.max(1) as f64;
    say!(
        "  demo duplicates cleaned, suggestions taken: {} keys after D for {} groups ({per_group:.1} a group), {:.1} ms (p50 {:.2}, max {:.2} ms a key)",
        cleaned.keys.len(),
        cleaned.groups,
        ms(total),
        ms(percentile(&sorted, 50)),
        ms(percentile(&sorted, 100)),
    );
    Ok(())
}

/// The demo account as the app has it after its first sync: every live
/// customer, the team, and every history.
fn demo_state() -> anyhow::Result<State> {
    let mut state = new_state();
    let records: Vec<serde_json::Value> =
        serde_json::from_str(DEMO_CUSTOMERS).context("the demo data")?;
    let customers: Vec<Customer> =
        serde_json::from_str(DEMO_CUSTOMERS).context("the demo customers")?;
    let users = team::members();
    let mut set = crate::domain::CustomerSet::default();
    set.apply(customers);
    update(
        &mut state,
        Message::Sync(SyncEvent::CacheLoaded {
            customers: Box::new(set),
            index: None,
            me: users.first().cloned(),
            users,
            last_synced: Some(OffsetDateTime::now_utc()),
            pending: Vec::new(),
            merges: Vec::new(),
        }),
    );
    for record in records {
        let mut events: Vec<HistoryEvent> =
            serde_json::from_value(record["history"].clone()).unwrap_or_default();
        events.reverse();
        let Some(id) = record["id"].as_str() else {
            continue;
        };
        update(
            &mut state,
            Message::Sync(SyncEvent::History {
                customer_id: id.to_owned(),
                events,
                fresh: true,
            }),
        );
    }
    Ok(state)
}

/// Groups of two or more live customers sharing a domain, and the likely
/// groups (the same company name at different domains) after them, as `D`
/// lists them.
fn groups_left(state: &State) -> usize {
    let set = &state.model.customers;
    let domains = set
        .duplicate_groups()
        .filter(|(_, records)| records.len() >= 2)
        .count();
    domains + set.likely_groups().len()
}

/// `D`, then `c`, then `M` `y` until no group is left.
pub(super) fn clean_demo() -> anyhow::Result<Cleaned> {
    let mut state = demo_state()?;
    let mut screen = Screen::new();
    let groups = groups_left(&state);
    ensure!(groups > 0, "the demo account has duplicates");
    screen.press(&mut state, KeyCode::Char('D'));
    let mut keys = vec![screen.press(&mut state, KeyCode::Char('c'))];
    // After the last group compare stays on it, with the undo hint.
    while groups_left(&state) > 0 {
        ensure!(
            keys.len() < MOST_KEYS && state.modes.compare().is_some(),
            "cleaning up makes no progress"
        );
        keys.push(screen.press(&mut state, KeyCode::Char('M')));
        keys.push(screen.press(&mut state, KeyCode::Char('y')));
    }
    ensure!(
        state.model.groups_done.len() == groups,
        "{} of {groups} groups done after {} keys",
        state.model.groups_done.len(),
        keys.len()
    );
    Ok(Cleaned { groups, keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_accounts_groups_are_cleaned_in_three_keys_a_group_or_fewer() {
        let cleaned = clean_demo().expect("cleaned");
        assert_eq!(cleaned.groups, 10, "8 by domain, 2 by name");
        assert!(
            cleaned.keys.len() <= 3 * cleaned.groups,
            "{} keys for {} groups",
            cleaned.keys.len(),
            cleaned.groups
        );
        assert_eq!(
            cleaned.keys.len(),
            1 + 2 * cleaned.groups,
            "c, then M y each"
        );
    }
}
