//! `pivotal bench`, the likely-duplicate (same name) index at scale: how
//! long making every name's key takes (paid once per record as it becomes
//! an entry), building the name index over the whole set, and keeping it
//! exact as single records are renamed into and out of a likely group.
//!
//! Reads the bench's set and changes a copy; never asserts a time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::{ms, percentile};
use crate::domain::name_key::name_hash;
use crate::domain::{CustomerSet, Entry};

/// Single-record renames timed (half into a likely group, half back).
const RENAMES: usize = 200;

/// Prints the figures for `set`.
pub(super) fn run(set: &CustomerSet) -> std::io::Result<()> {
    let entries: Vec<Entry> = set.iter_ordered().cloned().collect();
    let started = Instant::now();
    let keyed = entries
        .iter()
        .filter(|e| black_box(name_hash(&e.name)).is_some())
        .count();
    let keys = started.elapsed();

    let mut copy = set.clone();
    let started = Instant::now();
    copy.rebuild_name_index();
    let build = started.elapsed();

    let mut times = renames(&mut copy, &entries);
    times.sort_unstable();
    say!("  likely duplicates (same name), {} customers:", set.len());
    say!(
        "    name keys of every name            {:>9.1} ms  ({keyed} with a key)",
        ms(keys)
    );
    say!(
        "    name index build                   {:>9.1} ms  ({} likely groups)",
        ms(build),
        set.likely_count()
    );
    say!(
        "    rename one (set + both indexes)    p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        ms(percentile(&times, 50)),
        ms(percentile(&times, 99)),
        ms(times.last().copied().unwrap_or_default())
    );
    say!(
        "    shared name keys                   {:>9}",
        set.shared_name_keys()
    );
    Ok(())
}

/// Renames records to another record's name (joining its likely group,
/// as a CRM import would) and back, one `apply` each, timed.
fn renames(set: &mut CustomerSet, entries: &[Entry]) -> Vec<Duration> {
    let mut times = Vec::with_capacity(RENAMES);
    let step = (entries.len() / RENAMES.max(1)).max(1);
    for (i, entry) in entries.iter().step_by(step).take(RENAMES / 2).enumerate() {
        let Some(other) = entries.get((i * 7_919) % entries.len()) else {
            continue;
        };
        let mut renamed = entry.to_customer();
        renamed.name = format!("{} Inc.", other.name);
        renamed.updated_at += time::Duration::seconds(1);
        let back = crate::api::Customer {
            name: entry.name.to_string(),
            updated_at: renamed.updated_at + time::Duration::seconds(1),
            ..renamed.clone()
        };
        for record in [renamed, back] {
            let started = Instant::now();
            set.apply([record]);
            times.push(started.elapsed());
        }
    }
    times
}
