//! Merging a group of duplicate records into the one kept: what the keeper
//! looks like afterwards ([`merge`]), the `PATCH` that makes it so (only
//! the fields that change, [`Merged::patch`]), the one that puts it back
//! ([`undo_patch`]), and the words a question uses for it
//! ([`Merged::describe`]).
//!
//! The rule: the keeper's values; a blank (absent, or only spaces) filled
//! from the other records in suggestion order; tags as the union (the
//! keeper's first); every custom-field key kept; and any field the user
//! took from another record set to that record's value. Each value says
//! which record it comes from, so a view can mark what is not the
//! keeper's own.
//!
//! Pure logic over entries; no I/O, no UI.

use std::collections::BTreeMap;

use super::Entry;
use super::host::normalize_domain;
use crate::api::{CustomerPatch, Patch};

/// A field a merge can fill or take.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MergeField {
    Name,
    Domain,
    Owner,
    Plan,
    /// Always the union; it cannot be taken from one record.
    Tags,
    /// A custom field, by key.
    Custom(String),
}

impl MergeField {
    /// How a question names it: `plan`, `billing_country`.
    pub fn label(&self) -> &str {
        match self {
            MergeField::Name => "name",
            MergeField::Domain => "domain",
            MergeField::Owner => "owner",
            MergeField::Plan => "plan",
            MergeField::Tags => "tags",
            MergeField::Custom(key) => key,
        }
    }

    /// One record's value of the field (tags joined), blank or not.
    pub fn value_of(&self, entry: &Entry) -> Option<String> {
        match self {
            MergeField::Name => Some(entry.name.to_string()),
            MergeField::Domain => entry.domain.as_deref().map(str::to_owned),
            MergeField::Owner => entry.owner_id.as_deref().map(str::to_owned),
            MergeField::Plan => entry.plan.as_deref().map(str::to_owned),
            MergeField::Tags => (!entry.tags.is_empty()).then(|| entry.tags.join(", ")),
            MergeField::Custom(key) => entry
                .custom_fields
                .iter()
                .find(|(k, _)| **k == **key)
                .map(|(_, v)| v.to_string()),
        }
    }
}

/// What the user chose, by `display_id` (stable while the group changes
/// under the view): the keeper, and fields taken from another record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    /// `None`: the suggested keeper.
    pub keeper: Option<u64>,
    pub takes: BTreeMap<MergeField, u64>,
}

/// One value of the result and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valued {
    pub value: Option<String>,
    /// The `display_id` of the record it comes from, when that is not the
    /// keeper.
    pub from: Option<u64>,
    /// Chosen by the user rather than filled by the rule.
    pub taken: bool,
}

impl Valued {
    fn keeper(value: Option<String>) -> Valued {
        Valued {
            value,
            from: None,
            taken: false,
        }
    }
}

/// The keeper after the merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The keeper's place in the records.
    pub keeper: usize,
    /// The other records' places, in suggestion order: they are archived.
    pub losers: Vec<usize>,
    pub name: Valued,
    pub domain: Valued,
    pub owner: Valued,
    pub plan: Valued,
    /// The union, each tag with the record it comes from (`None`: the
    /// keeper's).
    pub tags: Vec<(String, Option<u64>)>,
    /// Every key of every record, sorted.
    pub custom_fields: Vec<(String, Valued)>,
}

/// Whether a value counts as blank: absent or only spaces.
pub fn is_blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// The keeper after merging `records` (two or more), given `order`, every
/// record's place in suggestion order (best first), and the user's
/// `choices`. `None` for fewer than two records.
pub fn merge(records: &[&Entry], order: &[usize], choices: &Choices) -> Option<Merged> {
    if records.len() < 2 {
        return None;
    }
    let keeper = choices
        .keeper
        .and_then(|id| records.iter().position(|e| e.display_id == id))
        .or_else(|| order.first().copied())
        .filter(|&k| k < records.len())?;
    let others: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| i != keeper && i < records.len())
        .chain((0..records.len()).filter(|i| *i != keeper && !order.contains(i)))
        .collect();
    let resolve = |field: &MergeField| resolve(records, keeper, &others, choices, field);
    let keys = custom_keys(records);
    let mut tags: Vec<(String, Option<u64>)> = Vec::new();
    for &i in std::iter::once(&keeper).chain(&others) {
        let from = (i != keeper).then_some(records[i].display_id);
        for tag in records[i].tags.iter() {
            if !tags.iter().any(|(t, _)| **t == **tag) {
                tags.push((tag.to_string(), from));
            }
        }
    }
    let mut domain = resolve(&MergeField::Domain);
    if domain.from.is_some() {
        // Pivotal stores a host name; a record kept as typed is sent clean.
        if let Some(clean) = domain
            .value
            .as_deref()
            .and_then(|d| normalize_domain(d).ok())
        {
            domain.value = clean;
        }
    }
    let custom_fields = keys
        .into_iter()
        .map(|k| {
            let field = MergeField::Custom(k.to_owned());
            (k.to_owned(), resolve(&field))
        })
        .collect();
    let (name, owner, plan) = (
        resolve(&MergeField::Name),
        resolve(&MergeField::Owner),
        resolve(&MergeField::Plan),
    );
    Some(Merged {
        keeper,
        losers: others,
        name,
        domain,
        owner,
        plan,
        tags,
        custom_fields,
    })
}

/// One field of the result: taken, else the keeper's, else the first
/// non-blank of the others in order, else the keeper's blank.
fn resolve(
    records: &[&Entry],
    keeper: usize,
    others: &[usize],
    choices: &Choices,
    field: &MergeField,
) -> Valued {
    let own = field.value_of(records[keeper]);
    if let Some(&id) = choices.takes.get(field)
        && let Some(at) = records.iter().position(|e| e.display_id == id)
        && at != keeper
    {
        let value = field.value_of(records[at]);
        if !is_blank(value.as_deref()) {
            return Valued {
                value,
                from: Some(id),
                taken: true,
            };
        }
    }
    if !is_blank(own.as_deref()) {
        return Valued::keeper(own);
    }
    others
        .iter()
        .find_map(|&i| {
            let value = field.value_of(records[i]);
            (!is_blank(value.as_deref())).then(|| Valued {
                value,
                from: Some(records[i].display_id),
                taken: false,
            })
        })
        .unwrap_or_else(|| Valued::keeper(own))
}

/// One change the merge makes to the keeper, for the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `set billing_country=US`.
    Set { field: String, value: String },
    /// `add tag self-serve`.
    AddTags(Vec<String>),
}

impl Merged {
    /// The result's value of one field (tags joined).
    pub fn get(&self, field: &MergeField) -> Option<Valued> {
        match field {
            MergeField::Name => Some(self.name.clone()),
            MergeField::Domain => Some(self.domain.clone()),
            MergeField::Owner => Some(self.owner.clone()),
            MergeField::Plan => Some(self.plan.clone()),
            MergeField::Tags => {
                let value = self
                    .tags
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let from = self.tags.iter().find_map(|(_, from)| *from);
                Some(Valued {
                    value: (!value.is_empty()).then_some(value),
                    from,
                    taken: false,
                })
            }
            MergeField::Custom(key) => self
                .custom_fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone()),
        }
    }

    fn custom_map(&self) -> BTreeMap<String, String> {
        self.custom_fields
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone().unwrap_or_default()))
            .collect()
    }

    /// The `PATCH` that turns `keeper` into the result: only the fields
    /// that change (empty when none does).
    pub fn patch(&self, keeper: &Entry) -> CustomerPatch {
        let scalar = |merged: &Valued, own: Option<&str>| match &merged.value {
            v if v.as_deref() == own => Patch::Keep,
            Some(v) => Patch::Set(v.clone()),
            None => Patch::Clear,
        };
        let tags: Vec<String> = self.tags.iter().map(|(t, _)| t.clone()).collect();
        let own_fields: BTreeMap<String, String> = keeper
            .custom_fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let fields = self.custom_map();
        CustomerPatch {
            name: self
                .name
                .value
                .clone()
                .filter(|n| *n != keeper.name && !n.trim().is_empty()),
            domain: scalar(&self.domain, keeper.domain.as_deref()),
            owner_id: scalar(&self.owner, keeper.owner_id.as_deref()),
            plan: scalar(&self.plan, keeper.plan.as_deref()),
            tags: (!tags
                .iter()
                .map(String::as_str)
                .eq(keeper.tags.iter().map(|t| &**t)))
            .then_some(tags),
            custom_fields: (fields != own_fields).then_some(fields),
        }
    }

    /// What the merge changes on `keeper`, in reading order; `owner`
    /// names an owner id.
    pub fn describe(&self, keeper: &Entry, owner: &dyn Fn(&str) -> String) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut set = |field: &str, merged: &Valued, own: Option<&str>| {
            if merged.value.as_deref() != own
                && let Some(value) = &merged.value
            {
                changes.push(Change::Set {
                    field: field.to_owned(),
                    value: value.clone(),
                });
            }
        };
        set("name", &self.name, Some(&keeper.name));
        set("domain", &self.domain, keeper.domain.as_deref());
        let named = Valued {
            value: self.owner.value.as_deref().map(owner),
            ..self.owner.clone()
        };
        let own_owner = keeper.owner_id.as_deref().map(owner);
        set("owner", &named, own_owner.as_deref());
        set("plan", &self.plan, keeper.plan.as_deref());
        for (key, merged) in &self.custom_fields {
            let own = MergeField::Custom(key.clone()).value_of(keeper);
            set(key, merged, own.as_deref());
        }
        let added: Vec<String> = self
            .tags
            .iter()
            .filter(|(t, _)| !keeper.tags.iter().any(|k| **k == **t))
            .map(|(t, _)| t.clone())
            .collect();
        if !added.is_empty() {
            changes.push(Change::AddTags(added));
        }
        changes
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Set { field, value } => write!(f, "set {field}={value}"),
            Change::AddTags(tags) if tags.len() == 1 => write!(f, "add tag {}", tags[0]),
            Change::AddTags(tags) => write!(f, "add tags {}", tags.join(", ")),
        }
    }
}

/// The `PATCH` that puts back what `patch` changed on `before`, the keeper
/// as it was before the merge.
pub fn undo_patch(before: &Entry, patch: &CustomerPatch) -> CustomerPatch {
    let back = |changed: &Patch<String>, own: Option<&str>| match (changed, own) {
        (Patch::Keep, _) => Patch::Keep,
        (_, Some(v)) => Patch::Set(v.to_owned()),
        (_, None) => Patch::Clear,
    };
    CustomerPatch {
        name: patch.name.as_ref().map(|_| before.name.to_string()),
        domain: back(&patch.domain, before.domain.as_deref()),
        owner_id: back(&patch.owner_id, before.owner_id.as_deref()),
        plan: back(&patch.plan, before.plan.as_deref()),
        tags: patch
            .tags
            .as_ref()
            .map(|_| before.tags.iter().map(|t| t.to_string()).collect()),
        custom_fields: patch.custom_fields.as_ref().map(|_| {
            before
                .custom_fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }),
    }
}

/// Every custom-field key any of `records` has, sorted, once each: the
/// rows a merge (and compare) shows, the keys a result keeps.
#[must_use]
pub fn custom_keys<'a>(records: &[&'a Entry]) -> Vec<&'a str> {
    let mut keys: Vec<&str> = records
        .iter()
        .flat_map(|e| e.custom_fields.iter().map(|(k, _)| &**k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::api::models::{Customer, Source};

    fn record(
        display_id: u64,
        plan: Option<&str>,
        tags: &[&str],
        fields: &[(&str, &str)],
    ) -> Entry {
        Entry::from(Customer {
            id: format!("cus_{display_id}"),
            display_id,
            name: format!("Acme {display_id}"),
            domain: Some("acme.com".to_owned()),
            owner_id: None,
            plan: plan.map(str::to_owned),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            custom_fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            source: Source::Manual,
            archived: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        })
    }

    /// The demo's acme.com triple, in display order; #1003 is kept.
    fn acme() -> Vec<Entry> {
        vec![
            record(
                1003,
                Some("Enterprise"),
                &["na", "expansion"],
                &[("region", "NA"), ("seats", "240")],
            ),
            record(
                1036,
                Some("Growth"),
                &["self-serve"],
                &[("seats", "25"), ("billing_country", "US")],
            ),
            record(
                1052,
                None,
                &[],
                &[("region", " "), ("billing_country", "CA")],
            ),
        ]
    }

    fn merged(records: &[Entry], order: &[usize], choices: &Choices) -> Merged {
        let refs: Vec<&Entry> = records.iter().collect();
        merge(&refs, order, choices).expect("a group")
    }

    #[test]
    fn blanks_are_filled_in_suggestion_order_tags_are_the_union_and_every_key_is_kept() {
        let records = acme();
        let result = merged(&records, &[0, 1, 2], &Choices::default());
        assert_eq!((result.keeper, result.losers.clone()), (0, vec![1, 2]));
        assert_eq!(result.plan.value.as_deref(), Some("Enterprise"));
        assert_eq!(result.plan.from, None, "the keeper's own");
        let country = result
            .get(&MergeField::Custom("billing_country".into()))
            .expect("kept");
        assert_eq!(
            (country.value.as_deref(), country.from, country.taken),
            (Some("US"), Some(1036), false),
            "filled from the first in suggestion order"
        );
        let seats = result
            .get(&MergeField::Custom("seats".into()))
            .expect("kept");
        assert_eq!((seats.value.as_deref(), seats.from), (Some("240"), None));
        assert_eq!(
            result.tags,
            vec![
                ("na".to_owned(), None),
                ("expansion".to_owned(), None),
                ("self-serve".to_owned(), Some(1036)),
            ]
        );
        // In another suggestion order the fill comes from #1052.
        let other = merged(&records, &[0, 2, 1], &Choices::default());
        let country = other
            .get(&MergeField::Custom("billing_country".into()))
            .expect("kept");
        assert_eq!(country.value.as_deref(), Some("CA"));
    }

    #[test]
    fn a_blank_keeper_value_is_filled_and_a_value_of_spaces_counts_as_blank() {
        let mut records = acme();
        records.swap(0, 2); // #1052 first
        let result = merged(&records, &[0, 2, 1], &Choices::default());
        // #1052 keeps; its blank plan comes from #1003 (next in order) and
        // its region of spaces too.
        assert_eq!(result.plan.value.as_deref(), Some("Enterprise"));
        assert_eq!(result.plan.from, Some(1003));
        let region = result
            .get(&MergeField::Custom("region".into()))
            .expect("kept");
        assert_eq!(
            (region.value.as_deref(), region.from),
            (Some("NA"), Some(1003))
        );
    }

    #[test]
    fn a_taken_value_wins_and_a_chosen_keeper_replaces_the_suggestion() {
        let records = acme();
        let choices = Choices {
            keeper: None,
            takes: BTreeMap::from([(MergeField::Plan, 1036)]),
        };
        let result = merged(&records, &[0, 1, 2], &choices);
        assert_eq!(
            (
                result.plan.value.as_deref(),
                result.plan.from,
                result.plan.taken
            ),
            (Some("Growth"), Some(1036), true)
        );
        // A blank cannot be taken: the rule's value stays.
        let blank = Choices {
            keeper: None,
            takes: BTreeMap::from([(MergeField::Plan, 1052)]),
        };
        assert_eq!(
            merged(&records, &[0, 1, 2], &blank).plan.value.as_deref(),
            Some("Enterprise")
        );
        let keep_1036 = Choices {
            keeper: Some(1036),
            takes: BTreeMap::new(),
        };
        let result = merged(&records, &[0, 1, 2], &keep_1036);
        assert_eq!((result.keeper, result.losers.clone()), (1, vec![0, 2]));
        assert_eq!(result.plan.value.as_deref(), Some("Growth"));
    }

    #[test]
    fn the_patch_holds_only_what_changes_and_undo_puts_it_back() {
        let records = acme();
        let choices = Choices {
            keeper: None,
            takes: BTreeMap::from([(MergeField::Custom("seats".into()), 1036)]),
        };
        let result = merged(&records, &[0, 1, 2], &choices);
        let patch = result.patch(&records[0]);
        assert_eq!(patch.name, None);
        assert_eq!(patch.plan, Patch::Keep);
        assert_eq!(patch.domain, Patch::Keep);
        assert_eq!(
            patch.tags,
            Some(vec!["na".into(), "expansion".into(), "self-serve".into()])
        );
        assert_eq!(
            patch.custom_fields,
            Some(BTreeMap::from([
                ("billing_country".to_owned(), "US".to_owned()),
                ("region".to_owned(), "NA".to_owned()),
                ("seats".to_owned(), "25".to_owned()),
            ]))
        );
        let undo = undo_patch(&records[0], &patch);
        assert_eq!(undo.tags, Some(vec!["na".into(), "expansion".into()]));
        assert_eq!(undo.plan, Patch::Keep);
        assert_eq!(
            undo.custom_fields,
            Some(BTreeMap::from([
                ("region".to_owned(), "NA".to_owned()),
                ("seats".to_owned(), "240".to_owned()),
            ]))
        );
        let described: Vec<String> = result
            .describe(&records[0], &|id| id.to_owned())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            described,
            vec![
                "set billing_country=US",
                "set seats=25",
                "add tag self-serve"
            ]
        );
    }

    #[test]
    fn a_group_with_nothing_to_carry_over_patches_nothing() {
        let records = vec![
            record(1, Some("Growth"), &["a"], &[]),
            record(2, None, &["a"], &[]),
        ];
        let result = merged(&records, &[0, 1], &Choices::default());
        assert!(result.patch(&records[0]).is_empty());
        assert!(result.describe(&records[0], &|id| id.to_owned()).is_empty());
        assert_eq!(merge(&[&records[0]], &[0], &Choices::default()), None);
    }

    #[test]
    fn a_domain_taken_from_a_record_kept_as_typed_is_sent_as_a_host_name() {
        let mut records = acme();
        records[1].domain = Some("https://WWW.Acme.com/pricing".into());
        let choices = Choices {
            keeper: None,
            takes: BTreeMap::from([(MergeField::Domain, 1036)]),
        };
        let result = merged(&records, &[0, 1, 2], &choices);
        assert_eq!(result.domain.value.as_deref(), Some("acme.com"));
        assert_eq!(result.patch(&records[0]).domain, Patch::Keep);
    }
}
