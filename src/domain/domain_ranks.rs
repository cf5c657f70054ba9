//! Each slot's rank among the distinct domains, kept by the customer set
//! between sorts by domain so that `s` to domain only lays the slots out.
//!
//! Domains are the one sort column whose ranks cost a sort of every value
//! (13–20 ms at 100,000, most of it reading every entry). The ranks follow
//! the set's changes as they happen, in O(1) each: a record that joins a
//! domain the set holds takes that domain's rank, a domain whose last
//! record left leaves a gap (the layout does not mind), and a domain new to
//! the set is marked [`UNRANKED`] and given its place at the next sort
//! ([`fill_in`]), which reads only the new records and the few they are
//! compared with. Owns no entries; the set tells it every change.

use super::entry::Entry;
use super::order::{BLANK, ranks_by_sorting};

/// The rank of a record whose domain was new to the set when it came.
const UNRANKED: u32 = u32::MAX - 1;

/// Past this share of unranked records (one in eight, plus 16 so that a
/// small set keeps them), the ranks are made again from scratch at the
/// next sort: placing each one would cost more than sorting them all.
const REMAKE_SHARE: usize = 8;
const REMAKE_FROM: usize = 16;

/// The ranks, while they are kept.
#[derive(Debug, Default, Clone)]
pub(super) struct DomainRanks {
    /// By slot: a rank, [`BLANK`] (no domain) or [`UNRANKED`]. `None` when
    /// not kept: the next sort by domain makes them.
    ranks: Option<Vec<u32>>,
    /// How many records were marked [`UNRANKED`] since the ranks were last
    /// whole (at least as many as are still marked).
    unranked: usize,
}

impl DomainRanks {
    /// The ranks of `entries`, made whole now if they are not.
    pub(super) fn of(&mut self, entries: &[Entry]) -> &[u32] {
        if let Some(ranks) = &mut self.ranks {
            if ranks.len() != entries.len() {
                debug_assert!(false, "domain ranks out of step with the entries");
                self.ranks = None;
            } else if self.unranked > 0 {
                fill_in(ranks, entries);
            }
        }
        self.unranked = 0;
        self.ranks
            .get_or_insert_with(|| ranks_by_sorting(entries, |e| e.domain_key()))
    }

    /// Makes them now, for a set built off the UI task.
    pub(super) fn make(&mut self, entries: &[Entry]) {
        self.of(entries);
    }

    /// Whether they are kept (then every change must be followed).
    pub(super) fn kept(&self) -> bool {
        self.ranks.is_some()
    }

    /// The rank of `slot`'s domain, while they are kept.
    pub(super) fn get(&self, slot: u32) -> Option<u32> {
        self.ranks.as_ref()?.get(slot as usize).copied()
    }

    /// Follows a record that arrived at `slot` (the end) or whose domain
    /// changed there: `rank` is the rank of another record of its domain,
    /// [`BLANK`] for none, `None` for a domain new to the set.
    pub(super) fn follow(&mut self, slot: u32, rank: Option<u32>) {
        let Some(ranks) = &mut self.ranks else {
            return;
        };
        let rank = rank.unwrap_or(UNRANKED);
        if rank == UNRANKED {
            self.unranked += 1;
            if self.unranked > ranks.len() / REMAKE_SHARE + REMAKE_FROM {
                *self = DomainRanks::default();
                return;
            }
        }
        match ranks.get_mut(slot as usize) {
            Some(at) => *at = rank,
            None => ranks.push(rank),
        }
    }

    /// Follows the entries' `swap_remove(slot)`.
    pub(super) fn swap_remove(&mut self, slot: usize) {
        if let Some(ranks) = &mut self.ranks {
            ranks.swap_remove(slot);
        }
    }
}

/// Gives every [`UNRANKED`] record its place among the ranked ones, and
/// numbers the domains densely again: one slot per rank in use stands for
/// its domain, each new record's domain is found among those by binary
/// search, and one pass renumbers every slot. O(n + k log d) for k new
/// records among d domains, reading only the entries it compares.
fn fill_in(ranks: &mut [u32], entries: &[Entry]) {
    let domain = |slot: u32| entries[slot as usize].domain_key().unwrap_or_default();
    let top = ranks
        .iter()
        .copied()
        .filter(|&rank| rank < UNRANKED)
        .max()
        .map_or(0, |rank| rank as usize + 1);
    // `holder[rank]`: a slot with that rank, if any is left.
    let mut holder = vec![u32::MAX; top];
    let mut new = Vec::new();
    for (slot, rank) in (0u32..).zip(ranks.iter_mut()) {
        match *rank {
            BLANK => {}
            UNRANKED if entries[slot as usize].domain_key().is_none() => *rank = BLANK,
            UNRANKED => new.push(slot),
            known => holder[known as usize] = slot,
        }
    }
    // The domains held, one slot each, in order.
    let known: Vec<u32> = holder.iter().copied().filter(|&s| s != u32::MAX).collect();
    // Each new record with the first known domain not below its own, in
    // order of that place, then of domain (equal to that known one last).
    let mut placed: Vec<(usize, u32)> = new
        .iter()
        .map(|&slot| {
            let own = domain(slot);
            (known.partition_point(|&k| domain(k) < own), slot)
        })
        .collect();
    placed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| domain(a.1).cmp(domain(b.1))));
    // The new ranks: of each known domain by its place, and of each new
    // record; the known ones' old ranks are renumbered after.
    let mut of_known = Vec::with_capacity(known.len());
    let mut of_new = Vec::with_capacity(placed.len());
    let mut next = 0u32;
    let mut p = 0;
    let at_place = |p: usize, at: usize| placed.get(p).filter(|(place, _)| *place == at);
    for at in 0..=known.len() {
        let here = known.get(at).map(|&k| domain(k));
        let mut previous: Option<&str> = None;
        while let Some(&(_, slot)) = at_place(p, at) {
            let own = domain(slot);
            if Some(own) == here {
                break;
            }
            if previous != Some(own) {
                next += 1;
                previous = Some(own);
            }
            of_new.push((slot, next - 1));
            p += 1;
        }
        if here.is_some() {
            of_known.push(next);
            while let Some(&(_, slot)) = at_place(p, at) {
                of_new.push((slot, next));
                p += 1;
            }
            next += 1;
        }
    }
    // Old rank → new rank, through the order of the known domains.
    let mut renumbered = holder;
    let mut of_known = of_known.into_iter();
    for rank in renumbered.iter_mut().filter(|rank| **rank != u32::MAX) {
        *rank = of_known.next().unwrap_or(u32::MAX);
    }
    for rank in ranks.iter_mut().filter(|rank| **rank < UNRANKED) {
        *rank = renumbered[*rank as usize];
    }
    for (slot, rank) in of_new {
        ranks[slot as usize] = rank;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::customer;
    use crate::test_rng::Rng;

    fn entry(n: u64, domain: Option<&str>) -> Entry {
        Entry::from(customer(n, &format!("Customer {n}"), domain))
    }

    /// Whether `ranks` order every pair of entries as their domains do
    /// (blank last, equal domains equal).
    fn agree(ranks: &[u32], entries: &[Entry]) -> bool {
        let key = |e: &Entry| (e.domain_key().is_none(), e.domain_key().map(str::to_owned));
        (0..entries.len()).all(|a| {
            (0..entries.len())
                .all(|b| ranks[a].cmp(&ranks[b]) == key(&entries[a]).cmp(&key(&entries[b])))
        })
    }

    const DOMAINS: &[&str] = &[
        "acme.com",
        "b.io",
        "zeta.org",
        "customer-success-platform.example.org",
        "customer-success-platform.example.com",
        "mid.net",
        "aa.com",
        "zz.com",
    ];

    /// Records arriving (new domains and known ones), leaving and changing
    /// domain, with the ranks made whole at random moments: they always
    /// order the entries as a fresh sort would. Now and then a record of a
    /// domain already ranked is marked new all the same: it joins that rank.
    #[test]
    fn ranks_that_follow_changes_order_as_made_from_scratch() {
        let mut rng = Rng(0x5eed_d0ba_1115_0001);
        for round in 0..40 {
            let mut entries: Vec<Entry> = Vec::new();
            let mut ranks = DomainRanks::default();
            let mut n = 0;
            let mut random_entry = |rng: &mut Rng| {
                n += 1;
                let domain = match rng.below(10) {
                    0 => None,
                    1..4 => Some(format!("new-{}.com", rng.below(30))),
                    _ => Some((*rng.pick(DOMAINS)).to_owned()),
                };
                entry(n, domain.as_deref())
            };
            for _ in 0..rng.below(20) {
                entries.push(random_entry(&mut rng));
            }
            ranks.make(&entries);
            for step in 0..60 {
                match rng.below(4) {
                    0 if !entries.is_empty() => {
                        let slot = rng.below(entries.len());
                        entries.swap_remove(slot);
                        ranks.swap_remove(slot);
                    }
                    1 if !entries.is_empty() => {
                        let slot = rng.below(entries.len());
                        entries[slot] = random_entry(&mut rng);
                        let rank = peer_rank(&ranks, &entries, slot).filter(|_| rng.chance(80));
                        ranks.follow(slot as u32, rank);
                    }
                    2 => {
                        let made = ranks.of(&entries).to_vec();
                        assert!(agree(&made, &entries), "round {round}, step {step}");
                    }
                    _ => {
                        entries.push(random_entry(&mut rng));
                        let slot = entries.len() - 1;
                        let rank = peer_rank(&ranks, &entries, slot).filter(|_| rng.chance(80));
                        ranks.follow(slot as u32, rank);
                    }
                }
            }
            let made = ranks.of(&entries).to_vec();
            assert!(agree(&made, &entries), "round {round}, at the end");
        }
    }

    /// The rank `slot` takes as the set gives it: another record's of the
    /// same domain, [`BLANK`] for none, `None` for a new domain.
    fn peer_rank(ranks: &DomainRanks, entries: &[Entry], slot: usize) -> Option<u32> {
        let own = entries[slot].domain_key();
        if own.is_none() {
            return Some(BLANK);
        }
        (0..entries.len())
            .filter(|&other| other != slot && entries[other].domain_key() == own)
            .find_map(|other| ranks.get(other as u32))
    }

    #[test]
    fn many_new_domains_at_once_drop_the_ranks_for_a_fresh_sort() {
        let entries: Vec<Entry> = (0..100).map(|n| entry(n, Some(DOMAINS[0]))).collect();
        let mut ranks = DomainRanks::default();
        ranks.make(&entries);
        for n in 0..(100 / REMAKE_SHARE + REMAKE_FROM + 1) as u32 {
            ranks.follow(n, None);
        }
        assert!(!ranks.kept(), "placing each would cost more than sorting");
    }
}
