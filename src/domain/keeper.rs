//! Which record of a duplicate group to keep, and why, in words: the one
//! with the most history, then one from a CRM (HubSpot, Stripe) before one
//! made by hand or through the API, then one with an owner, then the
//! oldest (then the lowest number, so the choice never flips).
//!
//! Pure logic over what the caller knows of each record; no I/O.

use std::cmp::Ordering;

use time::OffsetDateTime;

use crate::api::models::Source;

/// What the rule looks at in one record.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub display_id: u64,
    /// History events, when the history is known.
    pub history: Option<usize>,
    pub source: &'a Source,
    pub has_owner: bool,
    pub created_at: OffsetDateTime,
}

/// The record to keep, by its place in the candidates, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub index: usize,
    /// `keep #1003: most history (8 events), from hubspot`.
    pub reason: String,
}

/// A CRM source: its records come with the history of a real account.
fn from_crm(source: &Source) -> bool {
    matches!(source, Source::Hubspot | Source::Stripe)
}

/// Better first.
fn rank(a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
    b.history
        .unwrap_or(0)
        .cmp(&a.history.unwrap_or(0))
        .then_with(|| from_crm(b.source).cmp(&from_crm(a.source)))
        .then_with(|| b.has_owner.cmp(&a.has_owner))
        .then_with(|| a.created_at.cmp(&b.created_at))
        .then_with(|| a.display_id.cmp(&b.display_id))
}

/// Every candidate's place, best first: the order in which a merge fills
/// the keeper's blanks from the others.
pub fn ranked(candidates: &[Candidate<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| rank(&candidates[a], &candidates[b]));
    order
}

/// The suggested keeper of a group of two or more records, or `None` for
/// fewer.
pub fn suggest(candidates: &[Candidate<'_>]) -> Option<Suggestion> {
    if candidates.len() < 2 {
        return None;
    }
    let index = (0..candidates.len()).min_by(|&a, &b| rank(&candidates[a], &candidates[b]))?;
    let keep = &candidates[index];
    let others = || {
        candidates
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != index)
    };
    let mut why = Vec::new();
    let most = keep.history.unwrap_or(0);
    // Said only when every history is known: a loading one might be longer.
    if keep.history.is_some() && others().all(|(_, o)| o.history.is_some_and(|h| h < most)) {
        let noun = if most == 1 { "event" } else { "events" };
        why.push(format!("most history ({most} {noun})"));
    }
    if from_crm(keep.source) {
        why.push(format!("from {}", keep.source.as_str()));
    }
    if keep.has_owner && others().any(|(_, o)| !o.has_owner) {
        why.push("has an owner".to_owned());
    }
    if why.is_empty() {
        why.push(if others().all(|(_, o)| o.created_at > keep.created_at) {
            "the oldest".to_owned()
        } else {
            "the lowest number".to_owned()
        });
    }
    Some(Suggestion {
        index,
        reason: format!("keep #{}: {}", keep.display_id, why.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(days)
    }

    fn record(display_id: u64, history: Option<usize>, source: &Source) -> Candidate<'_> {
        Candidate {
            display_id,
            history,
            source,
            has_owner: true,
            created_at: at(i64::try_from(display_id).unwrap_or(0)),
        }
    }

    #[test]
    fn the_record_with_the_most_history_is_kept_and_the_reason_names_it() {
        let records = [
            record(1052, Some(2), &Source::Manual),
            record(1003, Some(8), &Source::Hubspot),
            record(1036, Some(2), &Source::Stripe),
        ];
        let suggestion = suggest(&records).expect("a group");
        assert_eq!(suggestion.index, 1);
        assert_eq!(
            suggestion.reason,
            "keep #1003: most history (8 events), from hubspot"
        );
    }

    #[test]
    fn with_equal_history_a_crm_record_wins_then_an_owned_one_then_the_oldest() {
        let crm = [
            record(2, Some(3), &Source::Manual),
            record(3, Some(3), &Source::Stripe),
        ];
        assert_eq!(suggest(&crm).map(|s| s.index), Some(1));
        assert_eq!(
            suggest(&crm).map(|s| s.reason),
            Some("keep #3: from stripe".to_owned())
        );

        let mut unowned = record(4, Some(1), &Source::Api);
        unowned.has_owner = false;
        let owned = [unowned, record(5, Some(1), &Source::Api)];
        assert_eq!(
            suggest(&owned).map(|s| s.reason),
            Some("keep #5: has an owner".to_owned())
        );

        let oldest = [record(9, None, &Source::Api), record(7, None, &Source::Api)];
        assert_eq!(
            suggest(&oldest),
            Some(Suggestion {
                index: 1,
                reason: "keep #7: the oldest".to_owned()
            })
        );
    }

    #[test]
    fn most_history_is_not_claimed_while_another_history_is_still_loading() {
        let records = [
            record(1003, Some(8), &Source::Hubspot),
            record(1036, None, &Source::Manual),
        ];
        assert_eq!(
            suggest(&records).map(|s| s.reason),
            Some("keep #1003: from hubspot".to_owned())
        );
    }

    #[test]
    fn the_choice_never_depends_on_the_order_of_the_records() {
        let records = [
            record(10, Some(1), &Source::Manual),
            record(11, Some(1), &Source::Manual),
            record(12, Some(1), &Source::Manual),
        ];
        let mut reversed = records.clone();
        reversed.reverse();
        let keep = |r: &[Candidate<'_>]| suggest(r).map(|s| r[s.index].display_id);
        assert_eq!(keep(&records), keep(&reversed));
        assert_eq!(suggest(&records[..1]), None, "one record is no group");
    }

    #[test]
    fn ranked_puts_the_suggested_keeper_first_and_the_rest_in_rule_order() {
        let records = [
            record(1052, Some(2), &Source::Manual),
            record(1003, Some(8), &Source::Hubspot),
            record(1036, Some(2), &Source::Stripe),
        ];
        assert_eq!(ranked(&records), vec![1, 2, 0]);
        assert_eq!(
            suggest(&records).map(|s| s.index),
            Some(ranked(&records)[0])
        );
    }
}
