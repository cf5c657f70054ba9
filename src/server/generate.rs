//! Deterministic, realistic customers for demos and benchmarks
//! (`pivotal serve --generate N`): the same N always gives the same data.
//! About 3% of customers repeat an earlier customer's domain, spelled the
//! way another source would bring it, so duplicate badges have work to do,
//! and about 1% repeat an earlier customer's name at a domain of their own
//! (one company, two sites), so likely duplicates by name do too. Distinct
//! companies have distinct names: each top-level domain adds its own word.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime, macros::datetime};

use super::db::ImportRecord;
use super::team;
use crate::api::{Customer, HistoryEvent, Source};
use crate::domain::duplicate_key;

const PREFIXES: &[&str] = &[
    "North",
    "Bright",
    "Blue",
    "Silver",
    "Iron",
    "Cedar",
    "Harbor",
    "Summit",
    "Maple",
    "Granite",
    "Lumen",
    "Vector",
    "Quantum",
    "Evergreen",
    "Pioneer",
    "Atlas",
    "Crimson",
    "Golden",
    "Clear",
    "Swift",
    "Keystone",
    "Orchid",
    "Falcon",
    "Meridian",
    "Juniper",
    "Copper",
    "Aurora",
    "Redwood",
    "Sterling",
    "Tidal",
    "Nimbus",
    "Beacon",
    "Willow",
    "Onyx",
    "Sage",
    "Polar",
    "Helix",
    "Vista",
    "Ember",
    "Coral",
];
const SUFFIXES: &[&str] = &[
    "wind", "line", "peak", "stone", "field", "bridge", "gate", "works", "point", "wave", "path",
    "crest", "forge", "light", "brook", "ridge", "hub", "base", "scape", "mark", "port", "leaf",
    "spark", "ware", "dale", "shore", "cloud", "grid", "loop", "nest",
];
const INDUSTRIES: &[(&str, &str)] = &[
    ("Logistics", "logistics"),
    ("Dental Group", "dental"),
    ("Analytics", "analytics"),
    ("Labs", "labs"),
    ("Health", "health"),
    ("Foods", "foods"),
    ("Systems", "systems"),
    ("Robotics", "robotics"),
    ("Insurance", "insure"),
    ("Capital", "capital"),
    ("Studios", "studios"),
    ("Energy", "energy"),
    ("Legal", "legal"),
    ("Travel", "travel"),
    ("Education", "edu"),
    ("Retail", "retail"),
    ("Software", "software"),
    ("Security", "security"),
    ("Media", "media"),
    ("Biotech", "bio"),
];
const TLDS: &[&str] = &["com", "io", "co", "de", "co.uk", "fr", "ai", "net"];
/// What each top-level domain adds to a name, so that two companies that
/// differ only in it are not one name (never a legal form, which the
/// name key would drop).
const TLD_WORDS: &[&str] = &[
    "",
    " Digital",
    " Partners",
    " Deutschland",
    " UK",
    " France",
    " AI",
    " Networks",
];
const PLANS: &[&str] = &["Starter", "Growth", "Growth", "Scale", "Enterprise"];
const TAGS: &[&str] = &[
    "beta",
    "emea",
    "apac",
    "na",
    "at-risk",
    "renewal-q1",
    "expansion",
    "pilot",
    "champion-left",
];
const REGIONS: &[&str] = &["EMEA", "NA", "APAC", "LATAM"];

/// A small, stable pseudo-random generator (SplitMix64), so generated data
/// does not change when a dependency's RNG does.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `count` customers with display ids from `first_display_id` on.
pub fn customers(count: usize, first_display_id: u64) -> Vec<ImportRecord> {
    let mut rng = Rng::new(0x5EED_0001);
    let owners: Vec<&str> = team::ids().collect();
    let start = datetime!(2022-01-03 09:00 UTC);
    // Spread creations evenly over about four years.
    let step = Duration::seconds(4 * 365 * 86_400 / count.max(1) as i64);
    let combos = PREFIXES.len() * SUFFIXES.len() * INDUSTRIES.len() * TLDS.len();
    let mut records: Vec<ImportRecord> = Vec::with_capacity(count);
    for i in 0..count {
        let created_at = start + step * i as i32;
        // A stride coprime with `combos` visits every combination once before
        // repeating, so domains are distinct unless we repeat one on purpose.
        let combo = (i * 7_919) % combos;
        let (mut name, mut domain) = company(combo);
        if i >= combos {
            name = format!("{name} {}", i / combos + 1);
            domain = format!("{}{}", i / combos + 1, domain);
        }
        let source = pick_source(&mut rng);
        if i > 10 && rng.chance(3) {
            let earlier = &records[rng.below(records.len())].customer;
            name = variant_name(&earlier.name, &mut rng);
            let base = duplicate_key(earlier.domain.as_deref()).unwrap_or(domain);
            domain = variant_domain(&base, &mut rng);
        } else if i > 10 && rng.chance(1) {
            // The same company at a domain of its own: a likely duplicate.
            let earlier = &records[rng.below(records.len())].customer;
            name = variant_name(&earlier.name, &mut rng);
        }
        let customer = Customer {
            id: format!("cus_GEN{:023}", i),
            display_id: first_display_id + i as u64,
            name,
            domain: Some(domain),
            owner_id: (!rng.chance(4)).then(|| (*rng.pick(&owners)).to_owned()),
            plan: (!rng.chance(5)).then(|| (*rng.pick(PLANS)).to_owned()),
            tags: pick_tags(&mut rng),
            custom_fields: pick_fields(&mut rng),
            source,
            archived: false,
            created_at,
            updated_at: created_at,
        };
        let history = history_for(&customer, &mut rng);
        let mut customer = customer;
        customer.updated_at = history.last().map_or(created_at, |e| e.at);
        records.push(ImportRecord { customer, history });
    }
    records
}

fn company(combo: usize) -> (String, String) {
    let tld = TLDS[combo % TLDS.len()];
    let tld_word = TLD_WORDS[combo % TLD_WORDS.len()];
    let rest = combo / TLDS.len();
    let (industry, slug) = INDUSTRIES[rest % INDUSTRIES.len()];
    let rest = rest / INDUSTRIES.len();
    let suffix = SUFFIXES[rest % SUFFIXES.len()];
    let prefix = PREFIXES[(rest / SUFFIXES.len()) % PREFIXES.len()];
    let name = format!("{prefix}{suffix} {industry}{tld_word}");
    let domain = format!("{}{suffix}{slug}.{tld}", prefix.to_lowercase());
    (name, domain)
}

fn pick_source(rng: &mut Rng) -> Source {
    match rng.below(100) {
        0..45 => Source::Hubspot,
        45..75 => Source::Manual,
        75..92 => Source::Stripe,
        _ => Source::Api,
    }
}

/// The same company as another system would name it.
fn variant_name(name: &str, rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => name.to_uppercase(),
        1 => format!("{name} Inc."),
        _ => name.to_owned(),
    }
}

/// The same domain as a CRM import would spell it.
fn variant_domain(domain: &str, rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("www.{domain}"),
        1 => format!("https://{domain}/"),
        2 => domain.to_uppercase(),
        3 => format!("{domain}."),
        _ => domain.to_owned(),
    }
}

fn pick_tags(rng: &mut Rng) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..rng.below(4) {
        let tag = (*rng.pick(TAGS)).to_owned();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

fn pick_fields(rng: &mut Rng) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    if rng.chance(80) {
        fields.insert("region".to_owned(), (*rng.pick(REGIONS)).to_owned());
    }
    if rng.chance(60) {
        fields.insert("seats".to_owned(), (5 + rng.below(500)).to_string());
    }
    fields
}

/// A plausible history for a customer, oldest first, starting at its
/// creation and shaped by where it came from: CRM records come with
/// contacts and onboarding, manual ones are usually thinner.
pub fn history_for(c: &Customer, rng: &mut Rng) -> Vec<HistoryEvent> {
    let owner = c.owner_id.clone();
    let created = match &c.source {
        Source::Hubspot => format!("Created from HubSpot deal #{}", 1000 + rng.below(9000)),
        Source::Stripe => format!(
            "Created from Stripe subscription sub_{:08x}",
            rng.next_u64() as u32
        ),
        Source::Api => "Created via API (integration: Zapier)".to_owned(),
        Source::Manual | Source::Other(_) => match owner.as_deref().and_then(team::name_of) {
            Some(name) => format!("Created by {name}"),
            None => "Created manually".to_owned(),
        },
    };
    let mut at = c.created_at;
    let mut events = vec![event(at, "created", created, owner.clone())];
    let extra = match c.source {
        Source::Hubspot => 2 + rng.below(5),
        Source::Manual => rng.below(3),
        _ => 1 + rng.below(3),
    };
    let contact = c
        .domain
        .as_deref()
        .map_or("example.com", |d| d.trim_start_matches("www."));
    for _ in 0..extra {
        at += Duration::hours(6 + rng.below(24 * 40) as i64);
        let (kind, summary) = match rng.below(5) {
            0 => (
                "contact_added",
                format!(
                    "Contact added: {}@{contact}",
                    rng.pick(&["ops", "jane", "finance", "it", "ceo"])
                ),
            ),
            1 => ("onboarding_started", "Onboarding started".to_owned()),
            2 => ("note", "QBR held; expansion discussed".to_owned()),
            3 => ("note", "Renewal call booked".to_owned()),
            _ => ("updated", "Plan confirmed after kickoff".to_owned()),
        };
        events.push(event(at, kind, summary, owner.clone()));
    }
    events
}

fn event(at: OffsetDateTime, kind: &str, summary: String, actor: Option<String>) -> HistoryEvent {
    HistoryEvent {
        at,
        kind: kind.to_owned(),
        summary,
        actor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn generation_is_deterministic() {
        let a = customers(200, 1001);
        let b = customers(200, 1001);
        let names = |r: &[ImportRecord]| {
            r.iter()
                .map(|r| r.customer.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
    }

    #[test]
    fn a_few_percent_share_a_domain_and_every_customer_has_history() {
        let records = customers(5_000, 1001);
        let mut groups: HashMap<String, usize> = HashMap::new();
        for r in &records {
            assert!(!r.history.is_empty());
            assert_eq!(r.history[0].kind, "created");
            if let Some(key) = duplicate_key(r.customer.domain.as_deref()) {
                *groups.entry(key).or_default() += 1;
            }
        }
        let duplicated: usize = groups.values().filter(|n| **n > 1).sum();
        let share = duplicated as f64 / records.len() as f64;
        assert!((0.02..0.10).contains(&share), "share of duplicates {share}");
    }

    #[test]
    fn about_one_percent_repeat_a_name_at_another_domain() {
        let entries: Vec<crate::domain::Entry> = customers(5_000, 1001)
            .into_iter()
            .map(|r| crate::domain::Entry::from(r.customer))
            .collect();
        let set = crate::domain::CustomerSet::from_entries(entries);
        let likely: usize = set.likely_groups().iter().map(|(_, g)| g.len()).sum();
        let share = likely as f64 / set.len() as f64;
        assert!((0.005..0.04).contains(&share), "share of likely {share}");
    }
}
