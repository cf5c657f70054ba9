//! The customer set's behaviour: ordering under every sort, the never-older
//! rule, tombstones, badges and the change log, checked against a
//! brute-force model.

use std::collections::BTreeMap;

use super::*;
use crate::api::models::Source;
use crate::domain::duplicate_key;
use crate::domain::fixtures;
use crate::domain::intern;
use crate::test_rng::Rng;

/// A time `seconds` after a fixed instant.
fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000 + seconds).expect("valid timestamp")
}

fn customer(display_id: u64, name: &str, domain: Option<&str>) -> Customer {
    Customer {
        created_at: at(0),
        updated_at: at(0),
        ..fixtures::customer(display_id, name, domain)
    }
}

/// The same record, as the server sends it `seconds` later.
fn later(mut customer: Customer, seconds: i64) -> Customer {
    customer.updated_at = at(seconds);
    customer
}

fn archived(customer: Customer, seconds: i64) -> Customer {
    Customer {
        archived: true,
        ..later(customer, seconds)
    }
}

fn renamed(customer: Customer, name: &str, seconds: i64) -> Customer {
    Customer {
        name: name.to_owned(),
        ..later(customer, seconds)
    }
}

fn moved(customer: Customer, domain: Option<&str>, seconds: i64) -> Customer {
    Customer {
        domain: domain.map(str::to_owned),
        ..later(customer, seconds)
    }
}

fn set_of(customers: impl IntoIterator<Item = Customer>) -> CustomerSet {
    let mut set = CustomerSet::default();
    set.apply(customers);
    set
}

fn badge_of(set: &CustomerSet, id: &str) -> Option<usize> {
    set.badge(set.get(id).expect("live customer"))
}

fn names_in_order(set: &CustomerSet) -> Vec<&str> {
    set.iter_ordered().map(|e| e.name.as_str()).collect()
}

fn display_ids_in_order(set: &CustomerSet) -> Vec<u64> {
    set.iter_ordered().map(|e| e.display_id).collect()
}

/// `order` holds every slot once, sorted, and `at`/`position_of` agree.
fn assert_order_is_consistent(set: &CustomerSet) {
    assert_eq!(set.order.len(), set.len());
    let entries: Vec<&Entry> = set.iter_ordered().collect();
    for pair in entries.windows(2) {
        assert!(
            compare(set.sort, &set.owners, pair[0], pair[1]).is_lt(),
            "{pair:?}"
        );
    }
    for (position, entry) in entries.iter().enumerate() {
        assert_eq!(set.position_of(&entry.key), Some(position), "{}", entry.key);
        assert_eq!(set.at(position).map(|e| &e.key), Some(&entry.key));
        assert_eq!(
            set.slot_of(entry.key.as_ref()).map(|s| &set.entries[s].key),
            Some(&entry.key)
        );
    }
    // One table row per live entry, each pointing at a distinct slot.
    assert_eq!(set.slots.len(), set.len());
    let mut pointed: Vec<u32> = set.slots.iter().map(|filed| filed.slot).collect();
    pointed.sort_unstable();
    pointed.dedup();
    assert_eq!(pointed.len(), set.len());
    assert_eq!(set.at(set.len()), None);
}

#[test]
fn a_badge_appears_when_a_second_live_customer_shares_the_domain() {
    let mut set = set_of([customer(1, "Acme", Some("acme.com"))]);
    assert_eq!(badge_of(&set, "cus_1"), None);
    assert_eq!(set.duplicate_domains(), 0);

    set.apply([customer(2, "Acme Inc", Some("acme.com"))]);
    assert_eq!(badge_of(&set, "cus_1"), Some(2));
    assert_eq!(badge_of(&set, "cus_2"), Some(2));
    assert_eq!(set.duplicate_domains(), 1);
}

#[test]
fn an_archive_elsewhere_drops_the_badge() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([acme.clone(), customer(2, "Acme Inc", Some("acme.com"))]);

    let stats = set.apply([archived(acme, 10)]);
    assert_eq!(stats.removed, 1);
    assert_eq!(set.get("cus_1"), None);
    assert_eq!(badge_of(&set, "cus_2"), None);
    assert_eq!(set.duplicate_domains(), 0);
}

#[test]
fn a_local_removal_drops_the_badge_and_applying_the_record_brings_it_back() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([acme.clone(), customer(2, "Acme Inc", Some("acme.com"))]);

    let removed = set.remove("cus_1").expect("was live");
    assert_eq!(removed.key, "cus_1");
    assert_eq!(badge_of(&set, "cus_2"), None);
    assert_eq!(set.remove("cus_1"), None);

    let stats = set.apply([acme]);
    assert_eq!(stats.inserted, 1);
    assert_eq!(badge_of(&set, "cus_1"), Some(2));
    assert_order_is_consistent(&set);
}

#[test]
fn spellings_of_one_domain_form_one_group() {
    let set = set_of([
        customer(1, "A", Some("www.Acme.com")),
        customer(2, "B", Some("https://acme.com/")),
        customer(3, "C", Some("acme.com")),
    ]);
    assert_eq!(set.domain_count("acme.com"), 3);
    assert_eq!(set.duplicate_domains(), 1);
    for id in ["cus_1", "cus_2", "cus_3"] {
        assert_eq!(badge_of(&set, id), Some(3), "{id}");
    }
    let stored = set.get("cus_1").and_then(|e| e.domain.as_deref());
    assert_eq!(stored, Some("www.Acme.com"), "the stored spelling is kept");
}

#[test]
fn international_and_punycode_spellings_match() {
    let set = set_of([
        customer(1, "Bücher", Some("Bücher.de")),
        customer(2, "Buecher", Some("xn--bcher-kva.de")),
    ]);
    assert_eq!(set.domain_count("xn--bcher-kva.de"), 2);
    assert_eq!(badge_of(&set, "cus_1"), Some(2));
}

#[test]
fn missing_or_blank_domains_never_match() {
    let set = set_of([
        customer(1, "A", None),
        customer(2, "B", None),
        customer(3, "C", Some("")),
        customer(4, "D", Some("  ")),
        customer(5, "E", Some("https://")),
    ]);
    assert_eq!(set.duplicate_domains(), 0);
    assert_eq!(set.domain_count(""), 0);
    for id in ["cus_1", "cus_2", "cus_3", "cus_4", "cus_5"] {
        assert_eq!(badge_of(&set, id), None, "{id}");
        assert_eq!(
            set.get(id).and_then(|e| e.domain_key().map(str::to_owned)),
            None
        );
    }
}

#[test]
fn a_domain_rename_moves_the_entry_between_groups() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([
        acme.clone(),
        customer(2, "Acme Inc", Some("acme.com")),
        customer(3, "Hooli", Some("hooli.com")),
    ]);
    assert_eq!(set.duplicate_domains(), 1);

    let stats = set.apply([moved(acme, Some("https://Hooli.com"), 5)]);
    assert_eq!(stats.updated, 1);
    let acme: Vec<&CustomerKey> = set.same_domain("acme.com").iter().map(|e| &e.key).collect();
    assert_eq!(acme, [&CustomerKey::from("cus_2")]);
    assert_eq!(set.domain_count("hooli.com"), 2);
    assert_eq!(badge_of(&set, "cus_2"), None);
    assert_eq!(badge_of(&set, "cus_3"), Some(2));
    assert_eq!(set.duplicate_domains(), 1);
}

#[test]
fn clearing_a_domain_leaves_its_group() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([acme.clone(), customer(2, "Acme Inc", Some("acme.com"))]);
    set.apply([moved(acme, None, 5)]);
    assert_eq!(set.domain_count("acme.com"), 1);
    assert_eq!(set.duplicate_domains(), 0);
}

#[test]
fn stale_records_are_ignored() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([renamed(acme.clone(), "Acme Two", 10)]);

    let stats = set.apply([moved(acme.clone(), Some("hooli.com"), 5)]);
    assert_eq!(
        stats,
        ApplyStats {
            stale: 1,
            ..ApplyStats::default()
        }
    );
    let entry = set.get("cus_1").expect("still live");
    assert_eq!(entry.name, "Acme Two");
    assert_eq!(entry.domain_key(), Some("acme.com"));

    let stats = set.apply([archived(acme, 9)]);
    assert_eq!(stats.stale, 1);
    assert!(
        set.get("cus_1").is_some(),
        "an older archive does not remove"
    );
}

#[test]
fn a_record_with_the_same_timestamp_is_applied() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([acme.clone()]);
    let stats = set.apply([Customer {
        plan: Some("Growth".into()),
        ..acme
    }]);
    assert_eq!(stats.updated, 1);
    assert_eq!(
        set.get("cus_1").and_then(|e| e.plan.as_deref()),
        Some("Growth")
    );
}

#[test]
fn a_stale_page_does_not_resurrect_an_archived_customer() {
    let acme = customer(1, "Acme", Some("acme.com"));
    let mut set = set_of([acme.clone()]);
    set.apply([archived(acme.clone(), 10)]);

    let stats = set.apply([later(acme.clone(), 3)]);
    assert_eq!(stats.stale, 1);
    assert!(set.is_empty());

    let stats = set.apply([later(acme, 11)]);
    assert_eq!(stats.inserted, 1, "a newer live record is a restore");
    assert_eq!(set.len(), 1);
}

#[test]
fn archived_records_never_count() {
    let mut set = set_of([
        archived(customer(1, "Acme", Some("acme.com")), 0),
        archived(customer(2, "Acme Inc", Some("acme.com")), 0),
        customer(3, "Acme Ltd", Some("acme.com")),
    ]);
    assert_eq!(set.len(), 1);
    assert_eq!(set.get("cus_1"), None);
    assert_eq!(set.domain_count("acme.com"), 1);
    assert_eq!(badge_of(&set, "cus_3"), None);
    assert_eq!(set.duplicate_domains(), 0);

    let stats = set.apply([archived(customer(4, "Acme Co", Some("acme.com")), 1)]);
    assert_eq!(
        stats,
        ApplyStats::default(),
        "an unknown archive changes nothing"
    );
    assert_eq!(set.duplicate_domains(), 0);
}

#[test]
fn apply_stats_count_each_kind_of_change() {
    let acme = customer(1, "Acme", None);
    let hooli = customer(2, "Hooli", None);
    let mut set = set_of([acme.clone(), hooli.clone()]);
    let stats = set.apply([
        customer(3, "Initech", None),
        later(acme.clone(), 5),
        archived(hooli, 5),
        later(acme, 4),
    ]);
    assert_eq!(
        stats,
        ApplyStats {
            inserted: 1,
            updated: 1,
            removed: 1,
            stale: 1,
        }
    );
}

#[test]
fn order_is_by_name_case_insensitively_then_display_id() {
    let set = set_of([
        customer(5, "beta", None),
        customer(2, "Beta", None),
        customer(9, "alpha", None),
        customer(1, "Gamma", None),
        customer(3, "ALPHA", None),
        customer(4, "Älpha", None),
    ]);
    assert_eq!(display_ids_in_order(&set), [3, 9, 2, 5, 1, 4]);
    assert_eq!(set.position_of("cus_2"), Some(2));
    assert_eq!(set.at(0).map(|e| e.name.as_str()), Some("ALPHA"));
    assert_eq!(set.position_of("cus_404"), None);
    assert_order_is_consistent(&set);
}

#[test]
fn a_rename_moves_the_entry_in_the_order() {
    let zeta = customer(1, "Zeta", None);
    let mut set = set_of([zeta.clone(), customer(2, "Mid", None)]);
    set.apply([renamed(zeta, "Alpha", 1)]);
    assert_eq!(names_in_order(&set), ["Alpha", "Mid"]);
    assert_order_is_consistent(&set);
}

#[test]
fn order_survives_removals_that_move_entries_one_at_a_time() {
    let customers: Vec<Customer> = (1..=40)
        .map(|n| customer(n, &format!("Name {:02}", (n * 7) % 40), None))
        .collect();
    let mut set = set_of(customers.clone());
    // Small batches: `order` is updated in place, and every removal but
    // the last slot's moves the last entry into the freed slot.
    for (round, customer) in customers.into_iter().enumerate().step_by(3) {
        let stats = set.apply([archived(customer, 1)]);
        assert_eq!(stats.removed, 1, "round {round}");
        assert_order_is_consistent(&set);
    }
    assert_eq!(set.len(), 26);
}

#[test]
fn order_survives_removals_that_move_entries_in_bulk() {
    let customers: Vec<Customer> = (1..=200)
        .map(|n| customer(n, &format!("Name {:03}", (n * 7) % 200), None))
        .collect();
    let mut set = set_of(customers.clone());
    let mut batch: Vec<Customer> = customers
        .iter()
        .filter(|c| c.display_id % 3 == 0)
        .map(|c| archived(c.clone(), 1))
        .collect();
    batch.extend(
        customers
            .iter()
            .filter(|c| c.display_id % 5 == 0)
            .map(|c| renamed(c.clone(), &format!("Renamed {}", c.display_id), 2)),
    );
    batch.extend((201..=230).map(|n| customer(n, &format!("New {n}"), None)));
    assert!(batch.len() > IN_PLACE_MAX);

    let stats = set.apply(batch);
    assert_eq!(stats.removed, 66);
    assert_eq!(stats.updated, 40 - 13);
    assert_eq!(stats.inserted, 30 + 13, "new, and archived then renamed");
    assert_order_is_consistent(&set);
    assert_eq!(set.len(), 200 - 66 + 30 + 13);
}

#[test]
fn server_text_is_sanitised_on_the_way_in() {
    let dirty = Customer {
        name: "\u{1b}[31mAcme\u{1b}[0m \u{202e}Co".into(),
        domain: Some("acme\u{200b}.com".into()),
        owner_id: Some("usr_\u{7}1".into()),
        plan: Some("Growth\nPlus".into()),
        tags: vec!["\u{1b}]52;c;cm0=\u{7}beta".into()],
        custom_fields: BTreeMap::from([
            ("\u{1b}[1mzone".into(), "EU\u{2066}".into()),
            ("region".into(), "EMEA\r\n".into()),
        ]),
        source: Source::Other("sales\u{1b}[2Jforce".into()),
        ..customer(1, "", None)
    };
    let entry = Entry::from(dirty);
    assert_eq!(entry.name, "Acme Co");
    assert_eq!(entry.domain.as_deref(), Some("acme.com"));
    assert_eq!(entry.domain_key(), Some("acme.com"));
    assert_eq!(entry.owner_id.as_deref(), Some("usr_\u{fffd}1"));
    assert_eq!(entry.plan.as_deref(), Some("Growth Plus"));
    assert_eq!(entry.tags, intern::tags(&["beta"]));
    assert_eq!(
        entry.custom_fields,
        intern::fields(&[("region", "EMEA "), ("zone", "EU")])
    );
    assert_eq!(entry.source, Source::Other("salesforce".into()));
    assert_eq!(entry.sort_key(), "acme co");
}

#[test]
fn clean_text_is_kept_as_is() {
    let mut acme = customer(7, "Café Zoë", Some("acme.com"));
    acme.custom_fields = BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]);
    acme.tags = vec!["beta".into()];
    let entry = Entry::from(acme.clone());
    assert_eq!(entry.key, "cus_7");
    assert_eq!(entry.display_id, 7);
    assert_eq!(entry.name, "Café Zoë");
    assert_eq!(entry.sort_key(), "café zoë");
    assert_eq!(entry.tags, intern::tags(&["beta"]));
    assert_eq!(
        entry.custom_fields,
        intern::fields(&[("a", "1"), ("b", "2")])
    );
    assert_eq!(entry.source, Source::Manual);
    assert_eq!(
        (entry.created_at, entry.updated_at),
        (acme.created_at, acme.updated_at)
    );
}

#[test]
fn same_domain_lists_the_live_group_by_display_id() {
    let set = set_of([
        customer(9, "Z", Some("acme.com")),
        customer(4, "Y", Some("www.acme.com")),
        customer(6, "X", Some("hooli.com")),
        archived(customer(1, "W", Some("acme.com")), 0),
        customer(7, "V", Some("ACME.com.")),
    ]);
    let ids: Vec<u64> = set
        .same_domain("acme.com")
        .iter()
        .map(|e| e.display_id)
        .collect();
    assert_eq!(ids, [4, 7, 9]);
    assert!(set.same_domain("initech.com").is_empty());
}

#[test]
fn pages_of_a_thousand_load_in_order_with_exact_counts() {
    // Sync's shape at a fifth of the 100,000 target (debug builds are slow).
    let (pages, domains) = (20, 6_000);
    let mut set = CustomerSet::default();
    for page in 0..pages {
        let batch = (0..1_000).map(|i| {
            let n = page * 1_000 + i + 1;
            let name = format!("Customer {}", (n * 7_919) % 100_003);
            let domain = format!("d{}.com", n % domains);
            customer(n, &name, Some(&domain))
        });
        assert_eq!(set.apply(batch).inserted, 1_000);
    }
    assert_eq!(set.len(), 20_000);
    assert_eq!(set.duplicate_domains(), 6_000);
    assert_eq!(set.domain_count("d7.com"), 4);
    let entries: Vec<&Entry> = set.iter_ordered().collect();
    let sorted = entries.windows(2);
    assert!(
        sorted
            .into_iter()
            .all(|w| compare(set.sort, &set.owners, w[0], w[1]).is_lt())
    );
}

/// About 30 spellings of 10 domains, and some that never match.
const SPELLINGS: &[Option<&str>] = &[
    None,
    Some(""),
    Some("   "),
    Some("acme.com"),
    Some("ACME.com"),
    Some("https://www.acme.com/pricing"),
    Some("acme.com."),
    Some("hooli.com"),
    Some("www.Hooli.com"),
    Some("http://hooli.com:8080"),
    Some("initech.com"),
    Some("Initech.COM."),
    Some("bücher.de"),
    Some("xn--bcher-kva.de"),
    Some("https://BÜCHER.de/"),
    Some("globex.io"),
    Some("//globex.io/x"),
    Some("umbrella.co.uk"),
    Some("www.umbrella.co.uk."),
    Some("stark.dev"),
    Some("STARK.DEV"),
    Some("wayne.org"),
    Some("https://wayne.org?q=1"),
    Some("wonka.example"),
    Some("Wonka.Example."),
    Some("cyberdyne.ai"),
    Some("www.cyberdyne.ai"),
    Some("CyberDyne.ai:443"),
    Some("acme"),
    Some("ACME"),
];

const NAMES: &[&str] = &[
    "Acme",
    "acme",
    "ACME Corp",
    "Bücher",
    "bücher",
    "Hooli",
    "hooli",
    "Initech",
    "Zeta",
    "Éclair",
    "alpha",
    "Alpha",
    "Ω Omega",
    "The Zeta Co.",
    "Müller GmbH",
    "MÜLLER gmbh",
    "Ｍüｌｌｅｒ",
    "AB",
    "ab Inc",
];

/// The brute-force reference: the newest record seen per id, archived
/// ones included (they are what keeps older copies out).
#[derive(Default)]
struct Model {
    records: HashMap<String, Customer>,
}

impl Model {
    fn apply(&mut self, batch: &[Customer]) -> ApplyStats {
        let mut stats = ApplyStats::default();
        for record in batch {
            let old = self.records.get(&record.id);
            if old.is_some_and(|old| record.updated_at < old.updated_at) {
                stats.stale += 1;
                continue;
            }
            let was_live = old.is_some_and(|old| !old.archived);
            match (was_live, record.archived) {
                (true, true) => stats.removed += 1,
                (true, false) => stats.updated += 1,
                (false, false) => stats.inserted += 1,
                (false, true) => {}
            }
            self.records.insert(record.id.clone(), record.clone());
        }
        stats
    }

    /// A local removal: the record stays known, as archived.
    fn remove(&mut self, id: &str) -> bool {
        match self.records.get_mut(id) {
            Some(record) if !record.archived => {
                record.archived = true;
                true
            }
            _ => false,
        }
    }

    fn live(&self) -> impl Iterator<Item = &Customer> {
        self.records.values().filter(|c| !c.archived)
    }
}

/// Makes one random record: a new customer, or a newer, equal-time or
/// older copy of a known one with a changed domain, name or archive flag.
fn random_record(rng: &mut Rng, model: &Model, ids: &mut Vec<String>, now: i64) -> Customer {
    let updated_at = at(now);
    let domain = rng.pick(SPELLINGS).map(str::to_owned);
    let name = (*rng.pick(NAMES)).to_owned();
    let known = if ids.is_empty() || rng.below(10) == 0 {
        None
    } else {
        model.records.get(rng.pick(ids)).cloned()
    };
    let Some(known) = known else {
        let display_id = ids.len() as u64 + 1;
        let new = customer(display_id, &name, domain.as_deref());
        ids.push(new.id.clone());
        return Customer { updated_at, ..new };
    };
    match rng.below(9) {
        0 | 1 => Customer {
            domain,
            updated_at,
            ..known
        },
        2 => Customer {
            name,
            domain,
            updated_at,
            ..known
        },
        3 | 4 => Customer {
            archived: true,
            updated_at,
            ..known
        },
        5 => Customer {
            archived: false,
            updated_at,
            ..known
        },
        6 => known,
        _ => Customer {
            name,
            domain,
            archived: rng.below(2) == 0,
            updated_at: known.updated_at - time::Duration::seconds(1 + rng.below(5) as i64),
            ..known
        },
    }
}

/// The duplicate key of every spelling, computed once, so that the
/// brute-force check does not spend its time in IDNA.
struct Keys(Vec<(Option<&'static str>, Option<String>)>);

impl Keys {
    fn new() -> Self {
        Keys(SPELLINGS.iter().map(|&s| (s, duplicate_key(s))).collect())
    }

    fn of(&self, domain: Option<&str>) -> Option<&str> {
        let (_, key) = self
            .0
            .iter()
            .find(|(spelling, _)| *spelling == domain)
            .expect("test domains come from SPELLINGS");
        key.as_deref()
    }
}

fn assert_matches_model(set: &CustomerSet, model: &Model, keys: &Keys, context: &str) {
    let live: Vec<&Customer> = model.live().collect();
    assert_eq!(set.len(), live.len(), "{context}");

    let mut counts: HashMap<&str, usize> = HashMap::new();
    for record in &live {
        let entry = set
            .get(&record.id)
            .unwrap_or_else(|| panic!("{context}: {} missing", record.id));
        let key = keys.of(record.domain.as_deref());
        assert_eq!(
            (
                entry.name.as_str(),
                entry.domain.as_deref(),
                entry.domain_key()
            ),
            (record.name.as_str(), record.domain.as_deref(), key),
            "{context}: {}",
            record.id
        );
        assert_eq!(entry.updated_at, record.updated_at, "{context}");
        if let Some(key) = key {
            *counts.entry(key).or_default() += 1;
        }
    }
    for (_, key) in &keys.0 {
        let Some(key) = key.as_deref() else { continue };
        let expected = counts.get(key).copied().unwrap_or(0);
        assert_eq!(set.domain_count(key), expected, "{context}: {key}");
    }
    for record in &live {
        let expected = keys
            .of(record.domain.as_deref())
            .map(|key| counts[key])
            .filter(|&n| n >= 2);
        let badge = badge_of(set, &record.id);
        assert_eq!(badge, expected, "{context}: {}", record.id);
    }
    let shared = counts.values().filter(|&&n| n >= 2).count();
    assert_eq!(set.duplicate_domains(), shared, "{context}");
    assert_eq!(set.duplicate_domains(), shared, "{context}");

    assert_likely_groups_match_a_scan(set, &live, keys, context);

    let mut expected_order = live;
    expected_order.sort_by(|a, b| expected_order_of(set.sort(), keys, a, b));
    let expected_ids: Vec<&str> = expected_order.iter().map(|c| c.id.as_str()).collect();
    let actual_ids: Vec<&str> = set.iter_ordered().filter_map(Entry::id).collect();
    assert_eq!(actual_ids, expected_ids, "{context}");
    assert_order_is_consistent(set);
}

/// The likely groups, found by brute force: every live record's name key
/// made from scratch, grouped, and a group kept when it has two or more
/// records whose domain keys are not all one key.
fn assert_likely_groups_match_a_scan(
    set: &CustomerSet,
    live: &[&Customer],
    keys: &Keys,
    context: &str,
) {
    let mut by_name: BTreeMap<String, Vec<&Customer>> = BTreeMap::new();
    for record in live {
        if let Some(key) = crate::domain::name_key::name_key(&record.name) {
            by_name.entry(key).or_default().push(record);
        }
    }
    let likely: BTreeMap<String, Vec<u64>> = by_name
        .into_iter()
        .filter(|(_, group)| {
            let domains: Vec<Option<&str>> =
                group.iter().map(|r| keys.of(r.domain.as_deref())).collect();
            group.len() >= 2 && (domains[0].is_none() || domains.iter().any(|d| *d != domains[0]))
        })
        .map(|(key, group)| {
            let mut ids: Vec<u64> = group.iter().map(|r| r.display_id).collect();
            ids.sort_unstable();
            (likely::name_group_key(&key), ids)
        })
        .collect();
    let found: BTreeMap<String, Vec<u64>> = set
        .likely_groups()
        .into_iter()
        .map(|(key, group)| (key, group.iter().map(|e| e.display_id).collect()))
        .collect();
    assert_eq!(found, likely, "{context}: likely groups");
    assert_eq!(set.likely_count(), likely.len(), "{context}");
    for record in live {
        let entry = set.get(&record.id).expect("live");
        let expected = likely
            .iter()
            .find(|(_, ids)| ids.contains(&record.display_id))
            .map(|(key, ids)| (key.clone(), ids.len()));
        let actual = set.likely_key(entry).zip(set.likely_badge(entry));
        assert_eq!(actual, expected, "{context}: {}", record.id);
        if let Some((key, ids)) = expected {
            let members: Vec<u64> = set.group(&key).iter().map(|e| e.display_id).collect();
            assert_eq!(members, likely[&key], "{context}: {key}");
            assert_eq!(members.len(), ids);
        }
    }
}

/// The list order, written out plainly: the sort column (blanks last in
/// either direction), then name A→Z, then `display_id`.
fn expected_order_of(sort: Sort, keys: &Keys, a: &Customer, b: &Customer) -> Ordering {
    let name = |c: &Customer| (c.name.to_lowercase(), c.display_id);
    let directed = |o: Ordering| if sort.descending() { o.reverse() } else { o };
    let column = match sort.column {
        SortColumn::Name => directed(name(a).cmp(&name(b))),
        SortColumn::DisplayId => directed(a.display_id.cmp(&b.display_id)),
        SortColumn::Updated => directed(a.updated_at.cmp(&b.updated_at)),
        SortColumn::Domain => match (keys.of(a.domain.as_deref()), keys.of(b.domain.as_deref())) {
            (Some(x), Some(y)) => directed(x.cmp(y)),
            (x, y) => x.is_none().cmp(&y.is_none()),
        },
        // Every test record is manual, with no owner and no plan.
        SortColumn::Owner | SortColumn::Plan | SortColumn::Source => Ordering::Equal,
    };
    column.then_with(|| name(a).cmp(&name(b)))
}

#[test]
fn random_operations_match_a_brute_force_model() {
    const BATCH_SIZES: &[usize] = &[1, 1, 2, 3, 5, 8, 16, 17, 40, 120, 400];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let keys = Keys::new();
    let (mut in_place, mut deferred) = (0, 0);
    let mut followed = (0, 0);
    for round in 0..20 {
        let mut set = CustomerSet::default();
        // Every column both ways, and a change of order half-way.
        let sort = Sort {
            column: SortColumn::ALL[round % SortColumn::ALL.len()],
            reversed: round % 2 == 1,
        };
        set.set_sort(sort);
        let mut resorted = false;
        let mut mirror = Mirror::of(&set);
        let mut model = Model::default();
        let mut ids = Vec::new();
        let mut now = 0;
        let mut done = 0;
        while done < 2_000 {
            let size = (*rng.pick(BATCH_SIZES)).min(2_000 - done);
            let batch: Vec<Customer> = (0..size)
                .map(|_| {
                    now += 1;
                    random_record(&mut rng, &model, &mut ids, now)
                })
                .collect();
            if size <= IN_PLACE_MAX {
                in_place += 1;
            } else {
                deferred += 1;
            }
            let context = format!("round {round}, after {done} records");
            assert_eq!(set.apply(batch.clone()), model.apply(&batch), "{context}");
            done += size;

            if rng.below(4) == 0 && !ids.is_empty() {
                let id = rng.pick(&ids).clone();
                let expected = model.remove(&id);
                assert_eq!(
                    set.remove(&id).is_some(),
                    expected,
                    "{context}: remove {id}"
                );
            }
            if !resorted && done > 1_000 {
                set.set_sort(sort.cycled());
                resorted = true;
            }
            assert_matches_model(&set, &model, &keys, &context);
            assert!(set.keys_agree(), "{context}: lead keys follow the order");
            mirror.follow(&set, &mut followed, &context);
        }
    }
    assert!(in_place > 100 && deferred > 100, "{in_place} / {deferred}");
    assert!(followed.0 > 100, "{followed:?}");
}

#[test]
fn positions_of_many_ids_agree_with_position_of_each() {
    let set = set_of((1..=50).map(|n| customer(n, &format!("C{}", (n * 7) % 13), None)));
    let ids = ["cus_3", "cus_missing", "cus_50", "cus_1"].map(CustomerKey::from);
    let expected: Vec<Option<usize>> = ids.iter().map(|id| set.position_of(id)).collect();
    let keys: Vec<&CustomerKey> = ids.iter().collect();
    assert_eq!(set.positions_of(&keys), expected);
    assert_eq!(expected[1], None);
}

#[test]
fn positions_where_agree_with_a_walk_in_display_order() {
    let set = set_of((1..=60).map(|n| customer(n, &format!("C{}", (n * 7) % 13), None)));
    let even = |e: &Entry| e.display_id.is_multiple_of(2);
    let expected: Vec<u32> = set
        .iter_ordered()
        .enumerate()
        .filter(|(_, e)| even(e))
        .map(|(p, _)| p as u32)
        .collect();
    assert_eq!(set.positions_where(even), expected);
}

/// A copy of every entry by slot kept up to date only through
/// [`CustomerSet::slots_changed_since`], as a view kept by slot would keep
/// it: copying the changed slots and dropping those past the end gives the
/// set's entries exactly.
struct Mirror {
    entries: Vec<Entry>,
    version: u64,
}

impl Mirror {
    fn of(set: &CustomerSet) -> Mirror {
        Mirror {
            entries: set.by_slot().to_vec(),
            version: set.version(),
        }
    }

    /// Copies the slots changed since the last call, or starts over when
    /// the set says they are not known; counts (followed, started over).
    fn follow(&mut self, set: &CustomerSet, counts: &mut (usize, usize), context: &str) {
        match set.slots_changed_since(self.version) {
            Some(changed) => {
                let now = set.by_slot();
                let mut changed: Vec<usize> = changed.map(|s| s as usize).collect();
                changed.sort_unstable();
                for slot in changed.into_iter().filter(|&s| s < now.len()) {
                    if slot < self.entries.len() {
                        self.entries[slot] = now[slot].clone();
                    } else {
                        assert_eq!(slot, self.entries.len(), "{context}: slots arrive in order");
                        self.entries.push(now[slot].clone());
                    }
                }
                self.entries.truncate(now.len());
                assert_eq!(self.entries, now, "{context}: followed slots");
                self.version = set.version();
                counts.0 += 1;
            }
            None => {
                *self = Mirror::of(set);
                counts.1 += 1;
            }
        }
    }
}

/// A set as a warm start builds it ([`CustomerSet::from_entries`]), then
/// pages, archives, restores and re-sorts at random: after every step the
/// set equals the brute-force model, and the bulk build equals applying the
/// same records one by one, whatever they hold (repeats and archives
/// included).
#[test]
fn bulk_builds_pages_restores_and_resorts_match_a_brute_force_model() {
    const BATCH_SIZES: &[usize] = &[1, 2, 5, 16, 17, 60, 250];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let keys = Keys::new();
    let mut fallbacks = 0;
    for round in 0..16 {
        let mut model = Model::default();
        let mut ids = Vec::new();
        let mut now = 0;
        // The cache: one live record per id, in no order; every other round
        // also repeats and archives, which the bulk build must order too.
        let mut records = Vec::new();
        for _ in 0..(200 + rng.below(400)) {
            now += 1;
            let record = random_record(&mut rng, &model, &mut ids, now);
            model.apply(std::slice::from_ref(&record));
            records.push(record);
        }
        let cache_like = round % 2 == 0;
        if cache_like {
            records = model.live().cloned().collect();
            model = Model::default();
            model.apply(&records);
        } else {
            fallbacks += 1;
        }
        let entries: Vec<Entry> = records.iter().cloned().map(Entry::from).collect();
        let mut set = CustomerSet::from_entries(entries.clone());
        let mut one_by_one = CustomerSet::default();
        one_by_one.apply_entries(entries);
        let context = format!("round {round}, built");
        assert_eq!(set, one_by_one, "{context}");
        assert_matches_model(&set, &model, &keys, &context);

        let mut removed: Vec<Entry> = Vec::new();
        for step in 0..60 {
            let context = format!("round {round}, step {step}");
            match rng.below(6) {
                0 | 1 => {
                    let size = *rng.pick(BATCH_SIZES);
                    let batch: Vec<Customer> = (0..size)
                        .map(|_| {
                            now += 1;
                            random_record(&mut rng, &model, &mut ids, now)
                        })
                        .collect();
                    assert_eq!(set.apply(batch.clone()), model.apply(&batch), "{context}");
                }
                2 => {
                    let id = rng.pick(&ids).clone();
                    let expected = model.remove(&id);
                    let taken = set.remove(&id);
                    assert_eq!(taken.is_some(), expected, "{context}: remove {id}");
                    removed.extend(taken);
                }
                3 => {
                    // Undo the latest local archive: the entry comes back
                    // as it was, whatever the set has heard since.
                    if let Some(entry) = removed.pop() {
                        let record = model
                            .records
                            .get_mut(entry.id().expect("a confirmed customer"))
                            .expect("a removed record is known");
                        record.archived = false;
                        record.name = entry.name.to_string();
                        record.domain = entry.domain.as_deref().map(str::to_owned);
                        record.updated_at = entry.updated_at;
                        set.reinstate(entry);
                    }
                }
                _ => {
                    let sort = Sort {
                        column: *rng.pick(&SortColumn::ALL),
                        reversed: rng.chance(50),
                    };
                    set.set_sort(sort);
                }
            }
            assert_matches_model(&set, &model, &keys, &context);
        }
    }
    assert!(fallbacks >= 8);
}

#[test]
fn a_pending_create_is_its_own_key_whatever_ids_the_server_sends() {
    let key = crate::api::IdempotencyKey::new();
    let draft = crate::api::models::NewCustomer {
        name: "Acme Co".into(),
        domain: Some("acme.com".into()),
        ..Default::default()
    };
    let pending = Entry::pending_create(&draft, &key, time::OffsetDateTime::UNIX_EPOCH);
    assert_eq!(pending.id(), None, "no id until Pivotal gives one");
    assert_eq!(pending.pending_create_key(), Some(&key));

    let mut set = CustomerSet::default();
    set.apply_entries(vec![pending]);
    // A server id spelled like the old in-band marker is just an id.
    let mut lookalike = fixtures::customer(7, "Acme Co", Some("acme.com"));
    lookalike.id = format!("pending:{key}");
    set.apply([lookalike]);
    assert_eq!(set.len(), 2);
    assert_eq!(set.same_domain("acme.com").len(), 2, "both in the group");

    let mine = CustomerKey::Pending(key.clone());
    assert!(set.remove(&mine).is_some());
    assert_eq!(set.len(), 1);
    assert!(set.get(format!("pending:{key}").as_str()).is_some());
}

#[test]
fn one_name_at_two_domains_is_a_likely_group_and_one_domain_is_not() {
    let mut set = set_of([
        customer(1, "Atlasbridge Security", Some("atlasbridge.com")),
        customer(2, "ATLASBRIDGE SECURITY, LLC", Some("atlasbridge.io")),
        customer(3, "Acme Co", Some("acme.com")),
        customer(4, "ACME Corporation", Some("www.acme.com")),
        customer(5, "Solo", Some("solo.dev")),
    ]);
    let atlas = set.get("cus_1").expect("live");
    assert_eq!(set.likely_badge(atlas), Some(2));
    assert_eq!(
        set.likely_key(atlas).as_deref(),
        Some("name/atlasbridge security")
    );
    // Acme's two records are one domain group already.
    assert_eq!(set.likely_badge(set.get("cus_3").expect("live")), None);
    assert_eq!(set.likely_count(), 1);

    // A third Acme elsewhere: all three are a likely group.
    set.apply([customer(6, "Acme", Some("acme.io"))]);
    let ids: Vec<u64> = set
        .group("name/acme")
        .iter()
        .map(|e| e.display_id)
        .collect();
    assert_eq!(ids, [3, 4, 6]);
    assert_eq!(set.likely_count(), 2);

    // Moving it to acme.com makes one domain group again; renaming the
    // second Atlasbridge ends that group.
    set.apply([moved(
        customer(6, "Acme", Some("acme.io")),
        Some("acme.com"),
        1,
    )]);
    set.apply([renamed(
        customer(2, "ATLASBRIDGE SECURITY, LLC", Some("atlasbridge.io")),
        "Atlas Bridge",
        1,
    )]);
    assert_eq!(set.likely_count(), 0);
    assert_eq!(set.group("name/acme").len(), 3, "still the name's records");
}

#[test]
fn rebuilding_the_name_index_from_scratch_finds_what_the_changes_kept() {
    let mut set = set_of([
        customer(1, "Atlasbridge Security", Some("atlasbridge.com")),
        customer(2, "Atlasbridge Security", Some("atlasbridge.io")),
        customer(3, "Cedargrid Foods Inc.", None),
        customer(4, "Cedargrid Foods", Some("cedargrid.com")),
    ]);
    set.remove("cus_1");
    set.apply([customer(5, "The Atlasbridge Security Co", None)]);
    let keys = |set: &CustomerSet| {
        let mut groups: Vec<(String, Vec<u64>)> = set
            .likely_groups()
            .into_iter()
            .map(|(k, g)| (k, g.iter().map(|e| e.display_id).collect()))
            .collect();
        groups.sort();
        groups
    };
    let kept = keys(&set);
    set.rebuild_name_index();
    assert_eq!(keys(&set), kept);
    assert_eq!(kept.len(), 2);
}
