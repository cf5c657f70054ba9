//! The filter's behaviour: parsing, matching and highlights, narrowing,
//! the index kept in step with the set, and a brute-force check.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::index::{PARALLEL_FROM, Part};
use super::*;
use crate::api::models::Customer;
use crate::domain::fixtures::customer;
use crate::test_rng::Rng;

fn set_of(customers: impl IntoIterator<Item = Customer>) -> CustomerSet {
    let mut set = CustomerSet::default();
    set.apply(customers);
    set
}

/// The team: `usr_1` is Dana Reyes, everyone else unknown.
fn team(id: &str) -> Option<&'static str> {
    (id == "usr_1").then_some("Dana Reyes")
}

/// The display ids that `input` leaves, in display order.
fn filter(set: &CustomerSet, input: &str) -> Vec<u64> {
    let index = SearchIndex::build(set, team);
    let mut state = FilterState::default();
    state.refine(Query::parse(input), &index, set);
    (0..state.count())
        .map(|i| set.at(state.position(i).unwrap()).unwrap().display_id)
        .collect()
}

fn entry(set: &CustomerSet, display_id: u64) -> &Entry {
    set.iter_ordered()
        .find(|e| e.display_id == display_id)
        .unwrap()
}

/// The highlighted text of each span of `entry` for `input`.
fn highlighted(entry: &Entry, input: &str) -> Vec<(FieldKind, String)> {
    let spans = matches(&Query::parse(input), entry, team).expect("matches");
    let mut texts = HashMap::new();
    let owner = owner_text(entry, &team);
    for_each_field(entry, owner, |kind, text| {
        texts.insert(kind, text.to_owned());
    });
    spans
        .iter()
        .map(|h| {
            let text = &texts[&h.field];
            assert!(h.start < h.end, "{h:?}");
            assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            (h.field, text[h.start..h.end].to_owned())
        })
        .collect()
}

#[test]
fn parse_tells_the_three_modes_apart() {
    assert_eq!(Query::parse(""), Query::Empty);
    assert_eq!(Query::parse("   "), Query::Empty);
    assert_eq!(
        Query::parse("  Acme Co "),
        Query::Substring("acme co".into())
    );
    assert_eq!(Query::parse("BÜCHER"), Query::Substring("bücher".into()));
    assert_eq!(Query::parse("~ACM"), Query::Fuzzy("acm".into()));
    assert_eq!(Query::parse(" ~ nwl "), Query::Fuzzy("nwl".into()));
    assert_eq!(Query::parse("~"), Query::Fuzzy(String::new()));
    assert_eq!(Query::parse("#1042"), Query::DisplayId(1042));
    assert_eq!(Query::parse("#01042"), Query::DisplayId(1042));
    assert_eq!(Query::parse("#"), Query::Substring("#".into()));
    assert_eq!(Query::parse("#10a"), Query::Substring("#10a".into()));
    assert_eq!(Query::parse("#-1"), Query::Substring("#-1".into()));
    let too_big = "#99999999999999999999999";
    assert_eq!(Query::parse(too_big), Query::Substring(too_big.into()));
}

#[test]
fn substring_searches_every_field_kind() {
    let set = set_of([
        customer(1, "Acme Corporation", Some("www.Acme.com")),
        Customer {
            owner_id: Some("usr_1".into()),
            plan: Some("Enterprise".into()),
            tags: vec!["vip".into(), "Beta-Tester".into()],
            ..customer(2, "Globex", Some("globex.io"))
        },
        Customer {
            owner_id: Some("usr_404".into()),
            ..customer(3, "Initech", Some("https://Bücher.de/"))
        },
    ]);
    assert_eq!(filter(&set, "CORP"), [1]);
    assert_eq!(filter(&set, "acme.com"), [1], "stored www.Acme.com");
    assert_eq!(filter(&set, "xn--bcher"), [3], "normalised domain only");
    assert_eq!(filter(&set, "bücher.de"), [3]);
    assert_eq!(filter(&set, "dana"), [2], "owner name");
    assert_eq!(filter(&set, "usr_404"), [3], "unknown owner: its id");
    assert_eq!(filter(&set, "usr_1"), Vec::<u64>::new(), "known: its name");
    assert_eq!(filter(&set, "enterp"), [2], "plan");
    assert_eq!(filter(&set, "beta-t"), [2], "tag");
    assert_eq!(filter(&set, "#3"), [3], "display id");
    assert_eq!(filter(&set, "e"), [1, 2, 3]);
    assert_eq!(filter(&set, ""), [1, 2, 3]);
    assert_eq!(filter(&set, "e\u{0}n"), Vec::<u64>::new(), "no field spans");

    let globex = entry(&set, 2);
    assert_eq!(
        highlighted(globex, "dana"),
        [(FieldKind::Owner, "Dana".into())]
    );
    assert_eq!(
        highlighted(globex, "TESTER"),
        [(FieldKind::Tag(1), "Tester".into())]
    );
    assert_eq!(
        highlighted(globex, "PRISE"),
        [(FieldKind::Plan, "prise".into())]
    );
    assert_eq!(
        highlighted(globex, "#2"),
        [(FieldKind::DisplayId, "#2".into())]
    );
    let initech = entry(&set, 3);
    assert_eq!(
        highlighted(initech, "bcher"),
        [(FieldKind::DomainKey, "bcher".into())]
    );
    let acme = entry(&set, 1);
    assert_eq!(
        highlighted(acme, "acme"),
        [
            (FieldKind::Name, "Acme".into()),
            (FieldKind::Domain, "Acme".into()),
            (FieldKind::DomainKey, "acme".into())
        ],
        "the key acme.com differs from www.acme.com, so both are searched"
    );
    assert_eq!(
        highlighted(globex, "GLOBEX"),
        [
            (FieldKind::Name, "Globex".into()),
            (FieldKind::Domain, "globex".into())
        ],
        "a key equal to the lower-cased domain is not searched twice"
    );
}

#[test]
fn substring_highlights_every_occurrence() {
    let set = set_of([customer(1, "Banana Band", None)]);
    let spans = matches(&Query::parse("AN"), entry(&set, 1), team).unwrap();
    let ranges: Vec<(usize, usize)> = spans.iter().map(|h| (h.start, h.end)).collect();
    assert_eq!(
        ranges,
        [(1, 5), (8, 10)],
        "adjacent occurrences form one run"
    );
    assert!(spans.iter().all(|h| h.field == FieldKind::Name));
    assert_eq!(matches(&Query::parse("zz"), entry(&set, 1), team), None);
    assert_eq!(matches(&Query::Empty, entry(&set, 1), team), Some(vec![]));
}

#[test]
fn highlights_of_non_ascii_text_never_split_a_character() {
    let set = set_of([
        customer(1, "Bücher GmbH", None),
        customer(2, "株式会社ヤマダ", None),
        // İ lower-cases to two characters (i + U+0307), the Kelvin sign
        // to a one-byte k: the lower-cased text has other offsets.
        customer(3, "İstanbul \u{212A}elvin", None),
        customer(4, "ΟΔΟΣ Σοφίας", None),
    ]);
    let name = |id, input| highlighted(entry(&set, id), input);
    let range = |id, input| {
        let spans = matches(&Query::parse(input), entry(&set, id), team).unwrap();
        spans.iter().map(|h| (h.start, h.end)).collect::<Vec<_>>()
    };
    assert_eq!(name(1, "BÜCH"), [(FieldKind::Name, "Büch".into())]);
    assert_eq!(range(1, "ü"), [(1, 3)]);
    assert_eq!(range(1, "cher"), [(3, 7)]);
    assert_eq!(range(2, "会社"), [(6, 12)]);
    assert_eq!(name(2, "会社"), [(FieldKind::Name, "会社".into())]);
    assert_eq!(name(3, "stan"), [(FieldKind::Name, "stan".into())]);
    assert_eq!(range(3, "stan"), [(2, 6)]);
    assert_eq!(
        name(3, "i"),
        [(FieldKind::Name, "İ".into()), (FieldKind::Name, "i".into())],
        "the i of i + U+0307 is the whole İ"
    );
    assert_eq!(name(3, "KELV"), [(FieldKind::Name, "\u{212A}elv".into())]);
    assert_eq!(
        name(4, "οδος"),
        [(FieldKind::Name, "ΟΔΟΣ".into())],
        "final ς"
    );
    assert_eq!(
        filter(&set, "οδοσ"),
        Vec::<u64>::new(),
        "as to_lowercase does"
    );
    assert_eq!(name(4, "σοφ"), [(FieldKind::Name, "Σοφ".into())]);
    assert_eq!(
        name(1, "~bcr"),
        [
            (FieldKind::Name, "B".into()),
            (FieldKind::Name, "c".into()),
            (FieldKind::Name, "r".into())
        ]
    );
    assert_eq!(
        name(2, "~株会ダ"),
        [
            (FieldKind::Name, "株".into()),
            (FieldKind::Name, "会".into()),
            (FieldKind::Name, "ダ".into())
        ]
    );
}

#[test]
fn fuzzy_finds_characters_in_order_within_one_field() {
    let set = set_of([
        customer(1, "ACME Co.", None),
        customer(2, "Acme Corporation", None),
        customer(3, "Globex", Some("acm.example")),
        customer(4, "Globex Two", None),
        customer(5, "a Cool Mango", None),
        customer(6, "Ac", Some("me.com")),
    ]);
    assert_eq!(filter(&set, "~acm"), [5, 1, 2, 3], "display order");
    assert_eq!(filter(&set, "~ACM"), [5, 1, 2, 3]);
    assert!(!filter(&set, "~acm").contains(&4));
    assert!(
        !filter(&set, "~acm").contains(&6),
        "not across name and domain"
    );
    assert_eq!(filter(&set, "~"), [5, 6, 1, 2, 3, 4]);
    assert_eq!(filter(&set, "~xyz"), Vec::<u64>::new());

    let index = SearchIndex::build(&set, team);
    let mut state = FilterState::default();
    state.refine(Query::parse("~acm"), &index, &set);
    let ranked: Vec<u64> = state
        .ranked(&index)
        .into_iter()
        .map(|p| set.at(p).unwrap().display_id)
        .collect();
    assert_eq!(
        ranked,
        [1, 2, 3, 5],
        "a prefix run beats scattered word starts"
    );

    assert_eq!(
        highlighted(entry(&set, 1), "~acm"),
        [(FieldKind::Name, "ACM".into())],
        "adjacent matched characters form one run"
    );
    assert_eq!(
        highlighted(entry(&set, 5), "~acm"),
        [
            (FieldKind::Name, "a".into()),
            (FieldKind::Name, "C".into()),
            (FieldKind::Name, "M".into())
        ],
        "word starts, not the first c and m"
    );
}

#[test]
fn fuzzy_alignment_prefers_runs_and_word_starts() {
    let mut scorer = Scorer::default();
    let mut path = |hay: &str, needle: &str| {
        let needle: Vec<char> = needle.chars().collect();
        scorer
            .score(hay, &needle, true)
            .map(|_| scorer.path.clone())
    };
    assert_eq!(path("northwind traders", "nwt"), Some(vec![0, 5, 10]));
    assert_eq!(path("banana bread", "bre"), Some(vec![7, 8, 9]));
    assert_eq!(path("abc", "abcd"), None);
    assert_eq!(path("xaxbab", "ab"), Some(vec![4, 5]));
}

#[test]
fn display_id_query_narrows_and_names_the_jump_target() {
    let set = set_of([
        customer(1042, "Zeta", None),
        customer(10420, "Alpha", None),
        customer(104, "Beta", None),
        customer(7, "Order #1042 follow-up", None),
    ]);
    let index = SearchIndex::build(&set, team);
    let mut state = FilterState::default();
    assert_eq!(state.refine(Query::parse("#10"), &index, &set), Scan::Full);
    assert_eq!(state.count(), 4, "1042, 10420, 104 and the name");
    assert_eq!(state.jump_target(&set), None, "#10 is a substring query");
    assert_eq!(
        state.refine(Query::parse("#104"), &index, &set),
        Scan::Narrowed
    );
    assert_eq!(state.jump_target(&set), set.position_of("cus_104"));
    assert_eq!(
        state.refine(Query::parse("#1042"), &index, &set),
        Scan::Narrowed
    );
    assert_eq!(state.count(), 3, "1042, 10420 and the name");
    let target = state.jump_target(&set).unwrap();
    assert_eq!(set.at(target).unwrap().display_id, 1042);
    assert!(state.index_of(target).is_some(), "the target is listed");
    state.refine(Query::parse("#99"), &index, &set);
    assert_eq!((state.count(), state.jump_target(&set)), (0, None));
}

#[test]
fn a_settled_display_id_query_means_exactly_that_customer_not_a_prefix() {
    let set = set_of([
        customer(1441, "Zeta", None),
        customer(14410, "Alpha", None),
        customer(14419, "Beta", None),
        customer(7, "Order #1441 follow-up", None),
    ]);
    let index = SearchIndex::build(&set, team);
    let mut state = FilterState::default();
    state.refine(Query::parse("#1441"), &index, &set);
    assert_eq!(state.count(), 4, "typing still narrows by prefix");
    let exact = state.exact(&set).expect("a display id query");
    let ids: Vec<u64> = exact
        .iter()
        .map(|&p| set.at(p as usize).unwrap().display_id)
        .collect();
    assert_eq!(ids, [1441]);
    assert_eq!(state.jump_target(&set), Some(exact[0] as usize));
    let zeta = set.at(exact[0] as usize).unwrap();
    let alpha = set.at(set.position_of("cus_14410").unwrap()).unwrap();
    assert!(Query::parse("#1441").settles_on(zeta, team));
    assert!(!Query::parse("#1441").settles_on(alpha, team));
    assert!(
        Query::parse("alp").settles_on(alpha, team),
        "text is unchanged"
    );
    state.refine(Query::parse("zeta"), &index, &set);
    assert_eq!(state.exact(&set), None, "only `#N` is exact");
}

#[test]
fn narrowing_gives_the_same_result_as_a_full_rescan() {
    let names = [
        "Acme",
        "ACME Co.",
        "Acme Corp",
        "Bacme",
        "acmeacme",
        "Globex",
        "Acne",
        "Macmed",
    ];
    let set = set_of(
        names
            .iter()
            .zip(1..)
            .map(|(name, id)| customer(id, name, None)),
    );
    let index = SearchIndex::build(&set, team);
    let fresh = |input: &str| {
        let mut state = FilterState::default();
        assert_eq!(state.refine(Query::parse(input), &index, &set), Scan::Full);
        state.positions
    };
    let steps = [
        ("a", Scan::Full),
        ("ac", Scan::Narrowed),
        ("acm", Scan::Narrowed),
        ("acm", Scan::Unchanged),
        ("acm ", Scan::Unchanged),
        ("acme", Scan::Narrowed),
        ("bacme", Scan::Narrowed),
        ("acme", Scan::Restored),
        ("ac", Scan::Restored),
        ("acm", Scan::Narrowed),
        ("cm", Scan::Full),
        ("~acme", Scan::Full),
        ("~ace", Scan::Full),
        ("~acme", Scan::Narrowed),
        ("~acmeco", Scan::Narrowed),
        ("acme co", Scan::Narrowed),
        ("", Scan::Full),
        ("~am", Scan::Full),
        ("macme", Scan::Narrowed),
    ];
    let mut state = FilterState::default();
    for (input, scan) in steps {
        assert_eq!(
            state.refine(Query::parse(input), &index, &set),
            scan,
            "{input:?}"
        );
        assert_eq!(state.positions, fresh(input), "{input:?}");
        assert_eq!(state.total(), names.len());
    }
}

#[test]
fn a_rebuilt_index_forces_a_rescan() {
    let mut set = set_of([customer(1, "Acme", None), customer(2, "Hooli", None)]);
    let mut index = SearchIndex::build(&set, team);
    let mut state = FilterState::default();
    state.refine(Query::parse("acme"), &index, &set);
    assert_eq!(state.count(), 1);

    set.apply([customer(3, "Acme Two", None), customer(0, "A first", None)]);
    index.rebuild(&set, team);
    assert_eq!(state.refine(Query::parse("acme"), &index, &set), Scan::Full);
    assert_eq!((state.count(), state.total()), (2, 4));
    assert_eq!(state.position(0), Some(1), "positions follow the new order");

    index.rebuild(&set, team);
    state.rescan(&index, &set);
    assert_eq!(
        state.refine(Query::parse("acme"), &index, &set),
        Scan::Unchanged
    );
}

#[test]
fn an_owner_name_holding_the_separator_stays_one_field() {
    let owners = |id: &str| (id == "usr_x").then_some("Nul\u{0}Owner");
    let set = set_of([
        Customer {
            owner_id: Some("usr_x".into()),
            ..customer(1, "Acme", None)
        },
        customer(2, "Owner", None),
    ]);
    let index = SearchIndex::build(&set, owners);
    assert_eq!(index.split.len(), 1);
    let mut state = FilterState::default();
    for (input, count) in [("l\u{0}o", 1), ("~nwn", 1), ("owner", 2), ("acme", 1)] {
        state.refine(Query::parse(input), &index, &set);
        assert_eq!(state.count(), count, "{input:?}");
    }
}

const WORDS: &[&str] = &[
    "Acme",
    "ACME",
    "acme",
    "Northwind",
    "Globex",
    "Initech",
    "Hooli",
    "Umbrella",
    "Stark",
    "Bücher",
    "BÜCHER",
    "株式会社",
    "ヤマダ",
    "İstanbul",
    "ΟΔΟΣ",
    "Σοφία",
    "\u{212A}elvin",
    "Straße",
    "Zoë",
    "Éclair",
    "Co.",
    "Corp",
    "Ltd",
    "GmbH",
    "Labs",
    "Traders",
    "&",
    "a",
];
const DOMAINS: &[&str] = &[
    "acme.com",
    "www.Acme.com",
    "https://ACME.com/x",
    "northwind.io",
    "bücher.de",
    "xn--bcher-kva.de",
    "globex.co.uk",
    "Hooli.COM.",
    "株式会社.jp",
    "stark.dev",
];
const PLANS: &[&str] = &["free", "Growth", "Enterprise", "Pro ΣΤΑΡ"];
const TAGS: &[&str] = &["vip", "Beta", "churn-risk", "EMEA", "öffentlich", "q3"];
const OWNERS: &[&str] = &["usr_1", "usr_2", "usr_3", "usr_404"];
/// Characters that random queries are made of, with spaces and `#`.
const QUERY_CHARS: &[char] = &[
    'a', 'c', 'm', 'e', 'o', 'n', 'r', 't', 'h', 'w', 'i', 'l', '.', ' ', '#', '1', '0', '4', 'ü',
    'Ü', 'ß', 'S', 'σ', 'ς', 'Σ', 'i', '\u{307}', 'k', 'K', '\u{212A}', '株', '会', 'é', 'E', '-',
    '~',
];

fn owner_names(id: &str) -> Option<&'static str> {
    match id {
        "usr_1" => Some("Dana Reyes"),
        "usr_2" => Some("Jürgen Groß"),
        "usr_3" => Some("me"),
        _ => None,
    }
}

fn random_customer(rng: &mut Rng, display_id: u64) -> Customer {
    let words = 1 + rng.below(3);
    let name: Vec<&str> = (0..words).map(|_| *rng.pick(WORDS)).collect();
    let separator = if rng.chance(80) { " " } else { "" };
    Customer {
        owner_id: rng.chance(70).then(|| (*rng.pick(OWNERS)).to_owned()),
        plan: rng.chance(60).then(|| (*rng.pick(PLANS)).to_owned()),
        tags: (0..rng.below(3))
            .map(|_| (*rng.pick(TAGS)).to_owned())
            .collect(),
        ..customer(
            display_id,
            &name.join(separator),
            rng.chance(80).then(|| *rng.pick(DOMAINS)),
        )
    }
}

/// A query as someone might type it: part of a real field with its case
/// changed, random characters, `~` with characters of a field in order,
/// `#` and digits, or blank.
fn random_query(rng: &mut Rng, fields: &[Vec<String>]) -> String {
    let entry = rng.pick(fields);
    let field: Vec<char> = rng.pick(entry).chars().collect();
    match rng.below(10) {
        0 => " ".repeat(rng.below(2)),
        1..=3 => {
            let start = rng.below(field.len().max(1));
            let len = 1 + rng.below(6);
            let part: String = field.iter().skip(start).take(len).collect();
            match rng.below(3) {
                0 => part.to_uppercase(),
                1 => part,
                _ => part.to_lowercase(),
            }
        }
        4 | 5 => (0..1 + rng.below(4))
            .map(|_| *rng.pick(QUERY_CHARS))
            .collect(),
        6 | 7 => {
            let picked = field.iter().filter(|_| rng.chance(40)).take(5);
            format!("~{}", picked.collect::<String>().to_uppercase())
        }
        _ => format!("#{}", 1 + rng.below(2_500)),
    }
}

/// Brute force: `to_lowercase().contains()` (or an in-order character
/// search for `~`) over every field, one customer at a time.
fn brute_force(query: &Query, fields: &[Vec<String>]) -> Vec<u32> {
    let id_text = match query {
        Query::DisplayId(id) => format!("#{id}"),
        _ => String::new(),
    };
    let hit = |field: &str| match query {
        Query::Empty => true,
        Query::Substring(text) => field.contains(text.as_str()),
        Query::DisplayId(_) => field.contains(id_text.as_str()),
        Query::Fuzzy(text) => {
            let mut rest = field.chars();
            text.chars().all(|c| rest.any(|f| f == c))
        }
    };
    (0..fields.len())
        .filter(|&p| fields[p].iter().any(|f| hit(f)))
        .map(|p| u32::try_from(p).unwrap())
        .collect()
}

/// Asserts that two indexes hold the same text, byte summary and split
/// fields for every slot, however their arenas are laid out.
fn assert_same_index(index: &SearchIndex, fresh: &SearchIndex, context: &str) {
    assert_eq!(index.len(), fresh.len(), "{context}: length");
    for slot in 0..to_u32(fresh.len()) {
        assert_eq!(
            (
                index.joined(slot),
                index.bits_of(slot),
                index.split_fields(slot)
            ),
            (
                fresh.joined(slot),
                fresh.bits_of(slot),
                fresh.split_fields(slot)
            ),
            "{context}: slot {slot}"
        );
    }
}

#[test]
fn an_index_built_in_parallel_slices_equals_one_built_in_one_go() {
    let mut rng = Rng(0x5eed_0ba1_1e1d_0003);
    let n = PARALLEL_FROM + 1_234;
    let set = set_of((1..=n as u64).map(|id| random_customer(&mut rng, id)));
    let index = SearchIndex::build(&set, owner_names);
    let whole = Part::build(set.by_slot(), 0..n, &owner_names);
    assert_eq!(index.text, whole.text);
    for (slot, ends) in whole.starts.windows(2).enumerate() {
        let (start, end) = (ends[0] as usize, ends[1] as usize);
        assert_eq!(index.joined(to_u32(slot)), &whole.text[start..end]);
    }
    let bits: Vec<u64> = (0..to_u32(n)).map(|slot| index.bits_of(slot)).collect();
    assert_eq!(bits, whole.bits);
    assert_eq!(index.split, whole.split);
}

/// Small batches of new and changed customers, and local removals (each
/// moving the last customer into the slot it leaves), followed slot by
/// slot: the index always equals a rebuilt one, and so does a filter
/// that follows it equal a fresh scan.
#[test]
fn an_index_that_follows_changes_equals_a_rebuilt_one() {
    let mut rng = Rng(0x5eed_f011_0a11_0002);
    let mut set = set_of((1..=300).map(|id| random_customer(&mut rng, id)));
    let mut index = SearchIndex::build(&set, owner_names);
    let mut version = set.version();
    let mut filter = FilterState::default();
    filter.refine(Query::parse("a"), &index, &set);
    let (mut followed, mut rebuilt) = (0, 0);
    for round in 0..400u64 {
        if rng.chance(30) {
            let id = format!("cus_{}", 1 + rng.below(300 + round as usize));
            set.remove(&id);
        } else {
            let batch: Vec<Customer> = (0..1 + rng.below(4))
                .map(|_| {
                    let id = 1 + rng.below(320 + round as usize) as u64;
                    let mut c = random_customer(&mut rng, id);
                    c.updated_at = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(round + 1);
                    c
                })
                .collect();
            set.apply(batch);
        }
        if rng.chance(5) {
            set.set_sort(set.sort().cycled());
        }
        match set.slots_changed_since(version) {
            Some(changed) => {
                index.follow(changed, &set, owner_names);
                followed += 1;
            }
            None => {
                index.rebuild(&set, owner_names);
                rebuilt += 1;
            }
        }
        version = set.version();
        let fresh = SearchIndex::build(&set, owner_names);
        assert_same_index(&index, &fresh, &format!("round {round}"));
        let scan = filter.refine(Query::parse("a"), &index, &set);
        let mut scanned = FilterState::default();
        scanned.refine(Query::parse("a"), &fresh, &set);
        assert_eq!(
            filter.positions(),
            scanned.positions(),
            "round {round}: {scan:?}"
        );
    }
    assert!(followed > 390, "{followed} followed, {rebuilt} rebuilt");
}

/// Pages of new customers (what a first sync brings) are followed, not
/// rebuilt, and the arena is compacted as its garbage grows. The result
/// equals a rebuilt index, an owner name holding the field separator (a
/// split customer) included.
#[test]
fn an_index_follows_pages_of_new_and_changed_customers() {
    fn owners_with_a_separator(id: &str) -> Option<&'static str> {
        match id {
            "usr_4" => Some("Odd\0Name"),
            other => owner_names(other),
        }
    }
    let mut rng = Rng(0x5eed_f011_0a11_0003);
    let mut set = set_of((1..=50).map(|id| random_customer(&mut rng, id)));
    let mut index = SearchIndex::build(&set, owners_with_a_separator);
    let mut version = set.version();
    let mut next = 51;
    for round in 0..60u64 {
        let size = [8, 17, 40, 200][rng.below(4)];
        let batch: Vec<Customer> = (0..size)
            .map(|_| {
                // Mostly new customers, some changes to known ones.
                let id = if rng.chance(70) {
                    next += 1;
                    next
                } else {
                    1 + rng.below(next as usize) as u64
                };
                let mut c = random_customer(&mut rng, id);
                c.updated_at = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(round + 1);
                if rng.chance(5) {
                    c.owner_id = Some("usr_4".to_owned());
                }
                c
            })
            .collect();
        set.apply(batch);
        let changed = set
            .slots_changed_since(version)
            .unwrap_or_else(|| panic!("round {round}: a page is followed"));
        index.follow(changed, &set, owners_with_a_separator);
        version = set.version();
        let fresh = SearchIndex::build(&set, owners_with_a_separator);
        assert_same_index(&index, &fresh, &format!("round {round}"));
        assert!(
            index.text.len() <= 2 * fresh.text.len() + 64 * 1024,
            "round {round}: garbage is compacted away"
        );
    }
    assert!(!index.split.is_empty(), "a split customer was followed");
}

/// A filter open while pages arrive tests only the new customers, and a
/// new sort only reorders its matches.
#[test]
fn an_open_filter_follows_pages_and_sorts_without_scanning_again() {
    let mut rng = Rng(0x5eed_f011_0a11_0004);
    let mut set = set_of((1..=200).map(|id| random_customer(&mut rng, id)));
    let mut index = SearchIndex::build(&set, owner_names);
    let mut state = FilterState::default();
    assert_eq!(state.refine(Query::parse("ac"), &index, &set), Scan::Full);
    let mut version = set.version();
    for page in 0..5u64 {
        set.apply((0..100).map(|i| random_customer(&mut rng, 1_000 + page * 100 + i)));
        index.follow(set.slots_changed_since(version).unwrap(), &set, owner_names);
        version = set.version();
        assert_eq!(
            state.refine(Query::parse("ac"), &index, &set),
            Scan::Followed
        );
        assert_eq!(state.total(), set.len());
        let mut fresh = FilterState::default();
        fresh.refine(Query::parse("ac"), &index, &set);
        assert_eq!(state.positions(), fresh.positions(), "page {page}");
    }
    set.set_sort(set.sort().cycled());
    index.follow(set.slots_changed_since(version).unwrap(), &set, owner_names);
    assert_eq!(
        state.refine(Query::parse("acm"), &index, &set),
        Scan::Narrowed
    );
    let mut fresh = FilterState::default();
    fresh.refine(Query::parse("acm"), &index, &set);
    assert_eq!(state.positions(), fresh.positions(), "after a new sort");
}

#[test]
fn filtering_matches_a_brute_force_scan() {
    let mut expected = HashMap::new();
    let mut rng = Rng(0x5eed_f11e_7e57_0001);
    let set = set_of((1..=2_000).map(|id| random_customer(&mut rng, id)));
    let index = SearchIndex::build(&set, owner_names);
    let fields: Vec<Vec<String>> = set
        .iter_ordered()
        .map(|entry| {
            let mut fields = Vec::new();
            let owner = owner_text(entry, &owner_names);
            for_each_field(entry, owner, |_, text| fields.push(text.to_lowercase()));
            fields
        })
        .collect();

    let mut state = FilterState::default();
    let mut scans = HashMap::new();
    for round in 0..500 {
        // Typed one character at a time after whatever came before, and
        // sometimes erased again down to a random length.
        let typed = random_query(&mut rng, &fields);
        let mut ends: Vec<usize> = typed
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .collect();
        if rng.chance(30) {
            let keep = rng.below(ends.len().max(1));
            let erased: Vec<usize> = ends.iter().rev().skip(1).copied().collect();
            ends.extend(erased.into_iter().take(ends.len().saturating_sub(1 + keep)));
        }
        ends.extend(typed.is_empty().then_some(0));
        for end in ends {
            let input = &typed[..end];
            let query = Query::parse(input);
            let scan = state.refine(query.clone(), &index, &set);
            *scans.entry(scan).or_insert(0) += 1;
            let expected = expected
                .entry(query)
                .or_insert_with_key(|query| brute_force(query, &fields));
            assert_eq!(&state.positions, expected, "round {round}: {input:?}");
        }
        // Highlights agree with the filter, on a sample of rows.
        for position in (0..set.len()).step_by(97) {
            let entry = set.at(position).unwrap();
            let spans = matches(state.query(), entry, owner_names);
            let listed = state.index_of(position).is_some();
            assert_eq!(
                spans.is_some(),
                listed,
                "round {round}: {typed:?} {position}"
            );
            let mut texts = HashMap::new();
            for_each_field(entry, owner_text(entry, &owner_names), |kind, text| {
                texts.insert(kind, text.to_owned());
            });
            for span in spans.into_iter().flatten() {
                let text = &texts[&span.field];
                assert!(span.start < span.end && span.end <= text.len(), "{span:?}");
                assert!(text.is_char_boundary(span.start), "{text:?} {span:?}");
                assert!(text.is_char_boundary(span.end), "{text:?} {span:?}");
            }
        }
        if let Query::Fuzzy(_) = state.query() {
            let mut ranked = state.ranked(&index);
            ranked.sort_unstable();
            let positions: Vec<usize> = (0..state.count())
                .map(|i| state.position(i).unwrap())
                .collect();
            assert_eq!(ranked, positions, "ranking reorders, never drops");
        }
    }
    let count = |scan| scans.get(&scan).copied().unwrap_or(0);
    assert!(count(Scan::Narrowed) > 500, "{scans:?}");
    assert!(count(Scan::Full) > 200, "{scans:?}");
    assert!(count(Scan::Unchanged) > 10, "{scans:?}");
    assert!(count(Scan::Restored) > 100, "{scans:?}");
}

/// Prints per-keystroke filter latency at 100,000 customers. Timings
/// are read, never asserted. Run with
/// `cargo test --release --lib domain::filter -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: prints timings"]
fn typing_latency_at_100k() {
    const N: u64 = 100_000;
    const ROUNDS: usize = 30;
    let mut rng = Rng(0x00be_4c40_0000_0001);
    let started = Instant::now();
    let customers: Vec<Customer> = (1..=N)
        .map(|id| {
            let mut c = random_customer(&mut rng, id);
            // Mostly made-up, distinct names (a few percent use the
            // test words, so `acme` and `northwind` find hundreds), with
            // a domain made from the name, as real data has.
            let word = if rng.chance(5) {
                (*rng.pick(WORDS)).to_owned()
            } else {
                made_up_word(&mut rng)
            };
            let suffix = rng.pick(&["Inc", "LLC", "GmbH", "Ltd", "Labs", "Group", "Systems"]);
            c.name = format!("{word} {} {suffix}", made_up_word(&mut rng));
            if c.domain.is_some() {
                let host: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
                c.domain = Some(format!("{}{}.com", host.to_lowercase(), rng.below(100)));
            }
            c
        })
        .collect();
    let set = set_of(customers);
    println!(
        "{} customers generated and applied in {:?}",
        set.len(),
        started.elapsed()
    );

    let mut index = SearchIndex::build(&set, owner_names);
    let builds: Vec<Duration> = (0..10)
        .map(|_| {
            let started = Instant::now();
            index.rebuild(&set, owner_names);
            started.elapsed()
        })
        .collect();
    // What a rebuild costs at the least: visiting every field once.
    let reads: Vec<Duration> = (0..10)
        .map(|_| {
            let started = Instant::now();
            let mut bytes = 0;
            for entry in set.iter_ordered() {
                let owner = owner_text(entry, &owner_names);
                for_each_field(entry, owner, |_, field| bytes += field.len());
            }
            assert!(bytes > 0);
            started.elapsed()
        })
        .collect();
    println!("reading every field once: {}", percentiles(reads));
    println!(
        "index: {:.1} MB of text; rebuild {}",
        index.text.len() as f64 / 1e6,
        percentiles(builds)
    );

    for typed in ["acme", "northwind", "~nwl", "bücher", "#4242"] {
        let ends: Vec<usize> = typed
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .collect();
        let mut keys = vec![(Vec::new(), 0); ends.len()];
        let (mut erasing, mut pasting) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let mut state = FilterState::default();
            state.refine(Query::Empty, &index, &set);
            for (key, &end) in keys.iter_mut().zip(&ends) {
                let started = Instant::now();
                state.refine(Query::parse(&typed[..end]), &index, &set);
                key.0.push(started.elapsed());
                key.1 = state.count();
            }
            for &end in ends.iter().rev().skip(1) {
                let started = Instant::now();
                state.refine(Query::parse(&typed[..end]), &index, &set);
                erasing.push(started.elapsed());
            }
            // The whole query at once (a paste, or an edit in the middle):
            // always a full scan.
            let started = Instant::now();
            FilterState::default().refine(Query::parse(typed), &index, &set);
            pasting.push(started.elapsed());
        }
        let typing: Vec<Duration> = keys.iter().flat_map(|(t, _)| t.clone()).collect();
        println!("{typed:>10}: typing    {}", percentiles(typing));
        let each: Vec<String> = keys
            .into_iter()
            .zip(&ends)
            .map(|((mut times, count), &end)| {
                times.sort_unstable();
                let median = times[times.len() / 2];
                format!("{} {median:.1?} ({count})", &typed[..end])
            })
            .collect();
        println!("{:>10}  each key  {}", "", each.join(" · "));
        println!("{:>10}  backspace {}", "", percentiles(erasing));
        println!("{:>10}  full scan {}", "", percentiles(pasting));
    }

    let mut state = FilterState::default();
    state.refine(Query::parse("~nwl"), &index, &set);
    let started = Instant::now();
    let ranked = state.ranked(&index);
    println!(
        "ranked() of {} fuzzy matches: {:?}",
        ranked.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let visible = ranked
        .iter()
        .take(40)
        .filter_map(|&p| matches(state.query(), set.at(p).unwrap(), owner_names))
        .count();
    println!(
        "highlights of {visible} visible rows: {:?}",
        started.elapsed()
    );
}

/// A capitalised word of two or three syllables, like `Dorvexa`.
fn made_up_word(rng: &mut Rng) -> String {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ne", "ra", "su", "ti", "vo", "ze", "bri", "dor", "fen", "gal", "hul",
        "jor", "kes", "lin", "mar", "nor", "pel", "quin", "ros", "sal", "tor", "vex", "wyn", "a",
        "e", "o",
    ];
    let mut word: String = (0..2 + rng.below(2))
        .map(|_| *rng.pick(SYLLABLES))
        .collect();
    word[..1].make_ascii_uppercase();
    word
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let at = |pct: usize| samples[(samples.len() - 1) * pct / 100];
    format!(
        "p50 {:?} p99 {:?} max {:?} (n={})",
        at(50),
        at(99),
        at(100),
        samples.len()
    )
}
