//! `pivotal customers duplicates` and `pivotal customers merge`: the groups
//! of duplicates with their suggested keeper and why, and merging records
//! into a keeper by the app's own rules (`domain::keeper`, `domain::merge`)
//! through the same outbox unit: the keeper's edit, then each archive,
//! queued in one transaction and delivered in order by `deliver_head`.
//!
//! Histories are the ones the account's store has cached (the app fetches
//! them); none are fetched here, so a group of thousands costs no request
//! per record. The rules live in `domain` and delivery in `sync::deliver`;
//! this only asks, prints and queues.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};

use time::OffsetDateTime;

use super::customers::{Account, connect};
use super::{CommandError, Context, CustomerRef};
use crate::api::{Client, IdempotencyKey};
use crate::domain::customers::as_name_group;
use crate::domain::keeper::{self, Candidate};
use crate::domain::merge::{self, Choices, MergeField, Merged};
use crate::domain::{CustomerSet, Entry, sanitize};
use crate::store::{Dismissed, MergedInto, OutboxOp, Store, Unit};
use crate::sync::{SharedStore, Step, deliver_head};

/// What the keeper rule sees of `records`, with the cached histories.
fn candidates<'a>(store: &Store, records: &[&'a Entry]) -> Vec<Candidate<'a>> {
    records
        .iter()
        .map(|e| Candidate {
            display_id: e.display_id,
            history: e
                .id()
                .and_then(|id| store.load_history(id).ok().flatten())
                .map(|h| h.len()),
            source: &e.source,
            has_owner: e.owner_id.is_some(),
            created_at: e.created_at,
        })
        .collect()
}

/// Which kind of group: records sharing a domain, or a likely group
/// (records whose names reduce to one key, not all at one domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Domain,
    Name,
}

/// One group to print: its group key, what it shares as shown, its kind,
/// its records by `display_id`, and whether it is dismissed (marked "not a
/// duplicate" and no member gained since, the app's rule).
struct Group<'a> {
    key: String,
    shares: String,
    kind: Kind,
    records: Vec<&'a Entry>,
    dismissed: bool,
}

/// `customers duplicates [--json] [--likely] [--include-dismissed]`: every
/// domain group not dismissed, largest first, then with `--likely` every
/// likely group not dismissed, largest first, then with
/// `--include-dismissed` the dismissed ones in the same order, marked; each
/// record with the suggested keeper and why.
///
/// # Errors
///
/// The API unreachable or refusing, the store failing.
pub async fn duplicates(
    ctx: &mut Context,
    json: bool,
    likely: bool,
    include_dismissed: bool,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let (client, store_path) = connect(ctx).await?;
    let account = Account::open(&store_path, &client, false).await?;
    ctx.remember_api_url();
    let dismissed = account.store.dismissed()?;
    let is_dismissed = |key: &str, records: &[&Entry]| {
        dismissed.iter().any(|d| {
            d.key == key
                && records
                    .iter()
                    .all(|e| e.id().is_some_and(|id| d.members.iter().any(|m| m == id)))
        })
    };
    let mut groups: Vec<Group<'_>> = account
        .set
        .duplicate_groups()
        .map(|(key, records)| Group {
            key: key.to_owned(),
            shares: key.to_owned(),
            kind: Kind::Domain,
            dismissed: is_dismissed(key, &records),
            records,
        })
        .filter(|g| g.records.len() >= 2)
        .collect();
    let by_size = |a: &Group<'_>, b: &Group<'_>| {
        b.records
            .len()
            .cmp(&a.records.len())
            .then(a.key.cmp(&b.key))
    };
    groups.sort_by(by_size);
    if likely {
        let mut named: Vec<Group<'_>> = account
            .set
            .likely_groups()
            .into_iter()
            .map(|(key, records)| Group {
                shares: records
                    .first()
                    .map(|e| e.name.to_string())
                    .unwrap_or_default(),
                dismissed: is_dismissed(&key, &records),
                key,
                kind: Kind::Name,
                records,
            })
            .filter(|g| g.records.len() >= 2)
            .collect();
        named.sort_by(by_size);
        groups.extend(named);
    }
    // Dismissed groups last (a stable sort keeps each part's order).
    groups.sort_by_key(|g| g.dismissed);
    groups.retain(|g| include_dismissed || !g.dismissed);
    print_groups(&account.store, &groups, json, out)
}

/// Prints `groups` as text, or as one JSON array.
fn print_groups(
    store: &Store,
    groups: &[Group<'_>],
    json: bool,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let mut listed = Vec::new();
    for group in groups {
        let records = &group.records;
        let suggestion = keeper::suggest(&candidates(store, records));
        let kind = match group.kind {
            Kind::Domain => "domain",
            Kind::Name => "name",
        };
        listed.push(serde_json::json!({
            "kind": kind,
            "shares": sanitize(&group.shares),
            "dismissed": group.dismissed,
            "records": records.iter().map(|e| serde_json::json!({
                "id": e.id(),
                "display_id": e.display_id,
                "name": e.name,
                "domain": e.domain.as_deref(),
                "source": e.source.as_str(),
            })).collect::<Vec<_>>(),
            "keep": suggestion.as_ref().map(|s| records[s.index].display_id),
            "why": suggestion.as_ref().map(|s| s.reason.clone()),
        }));
        if json {
            continue;
        }
        let same_name = if group.kind == Kind::Name {
            " · same name"
        } else {
            ""
        };
        let mark = if group.dismissed {
            " · not a duplicate"
        } else {
            ""
        };
        let shares = sanitize(&group.shares);
        writeln!(out, "{shares} · {} records{same_name}{mark}", records.len())?;
        for (i, e) in records.iter().enumerate() {
            let mark = if suggestion.as_ref().is_some_and(|s| s.index == i) {
                "✓"
            } else {
                " "
            };
            let domain = match (group.kind, e.domain.as_deref()) {
                (Kind::Name, Some(domain)) => format!(", {}", sanitize(domain)),
                _ => String::new(),
            };
            let name = sanitize(&e.name);
            writeln!(
                out,
                "  {mark} #{} {name} ({}{domain})",
                e.display_id, e.source
            )?;
        }
        if let Some(s) = &suggestion {
            writeln!(out, "  {}", s.reason)?;
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut *out, &listed).map_err(std::io::Error::from)?;
        writeln!(out)?;
    }
    Ok(())
}

/// `customers dismiss ID ID...`: marks the group the named records share
/// as "not a duplicate" in the account's store, with its members now, as
/// the app's `x` does.
///
/// # Errors
///
/// An unknown record, records of different groups or of none (exit 2),
/// the API unreachable or refusing, the store failing.
pub async fn dismiss(
    ctx: &mut Context,
    references: &[String],
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let (client, store_path) = connect(ctx).await?;
    let mut account = Account::open(&store_path, &client, false).await?;
    ctx.remember_api_url();
    // The groups every record named so far is in: its domain's, then its
    // name's (a likely group), as the app's `x` would take them.
    let mut common: Option<Vec<String>> = None;
    for reference in references {
        let entry = account
            .find(&CustomerRef::parse(reference)?)
            .ok_or_else(|| {
                CommandError::Usage(format!("{}: no live customer", sanitize(reference)))
            })?;
        let groups = groups_of(&account.set, entry);
        if groups.is_empty() {
            return Err(CommandError::Usage(format!(
                "#{} shares its domain or name with no other live customer: nothing to dismiss",
                entry.display_id
            )));
        }
        let shared: Vec<String> = match common {
            None => groups,
            Some(before) => before.into_iter().filter(|g| groups.contains(g)).collect(),
        };
        if shared.is_empty() {
            return Err(CommandError::Usage(
                "the records share no group; name records of one group".into(),
            ));
        }
        common = Some(shared);
    }
    let key = common
        .and_then(|groups| groups.into_iter().next())
        .ok_or_else(|| CommandError::Usage("name the records of a group".into()))?;
    let records = account.set.group(&key);
    let members: Vec<String> = records
        .iter()
        .filter_map(|e| e.id().map(str::to_owned))
        .collect();
    let numbers: Vec<String> = records
        .iter()
        .map(|e| format!("#{}", e.display_id))
        .collect();
    let group = Dismissed { key, members };
    account.store.dismiss(&group, OffsetDateTime::now_utc())?;
    let shown = match (as_name_group(&group.key), records.first()) {
        (Some(_), Some(first)) => format!("{} (same name)", sanitize(&first.name)),
        _ => sanitize(&group.key).into_owned(),
    };
    writeln!(
        out,
        "Marked {shown} ({}) as not a duplicate: it leaves `customers duplicates` and the app's D until it gains a record",
        numbers.join(", ")
    )?;
    Ok(())
}

/// The groups `entry` is in: its domain's when another live customer
/// shares it, then its name's when that is a likely group.
fn groups_of(set: &CustomerSet, entry: &Entry) -> Vec<String> {
    let domain = entry
        .domain_key()
        .filter(|k| set.same_domain(k).len() >= 2)
        .map(str::to_owned);
    domain.into_iter().chain(set.likely_key(entry)).collect()
}

/// What `customers merge` was asked.
pub struct MergeRequest<'a> {
    pub keeper: &'a str,
    pub others: &'a [String],
    /// `FIELD=ID`: take that record's value of the field.
    pub takes: &'a [String],
    pub dry_run: bool,
    pub yes: bool,
}

/// `customers merge KEEPER OTHER... [--take FIELD=ID]... [--dry-run]
/// [--yes]`: prints the plan the app's question names, then (asked on a
/// terminal, or with `--yes`) queues and delivers it.
///
/// # Errors
///
/// Unknown or repeated records or fields (exit 2), no answer (exit 2), the
/// edit refused (nothing archived), the API unreachable (the merge stays
/// queued for the next command or the app).
pub async fn merge(
    ctx: &mut Context,
    request: &MergeRequest<'_>,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let (client, store_path) = connect(ctx).await?;
    let account = Account::open(&store_path, &client, false).await?;
    ctx.remember_api_url();
    let mut records: Vec<&Entry> = Vec::new();
    for reference in
        std::iter::once(request.keeper).chain(request.others.iter().map(String::as_str))
    {
        let entry = account
            .find(&CustomerRef::parse(reference)?)
            .filter(|e| e.id().is_some())
            .ok_or_else(|| {
                CommandError::Usage(format!("{}: no live customer", sanitize(reference)))
            })?;
        if records.iter().any(|r| r.key == entry.key) {
            return Err(CommandError::Usage(format!(
                "#{} is named twice",
                entry.display_id
            )));
        }
        records.push(entry);
    }
    if records.len() < 2 {
        return Err(CommandError::Usage(
            "name the keeper and at least one other".into(),
        ));
    }
    let choices = Choices {
        keeper: Some(records[0].display_id),
        takes: parse_takes(request.takes, &records)?,
    };
    let order = keeper::ranked(&candidates(&account.store, &records));
    let merged = merge::merge(&records, &order, &choices)
        .ok_or_else(|| CommandError::Usage("nothing to merge".into()))?;
    let plan = describe(&account, &records, &merged);
    writeln!(out, "{plan}")?;
    if request.dry_run {
        return Ok(());
    }
    if !request.yes && !confirm()? {
        writeln!(out, "Not merged")?;
        return Ok(());
    }
    let unit = unit_of(&records, &merged);
    let keeper = records[0].display_id;
    let Account { store, .. } = account;
    send_unit(store, &client, unit).await?;
    writeln!(out, "Merged into #{keeper}")?;
    Ok(())
}

/// `plan=1036`, `billing_country=#1036`: which record each field comes
/// from.
fn parse_takes(
    takes: &[String],
    records: &[&Entry],
) -> Result<std::collections::BTreeMap<MergeField, u64>, CommandError> {
    let mut parsed = std::collections::BTreeMap::new();
    for take in takes {
        let (field, reference) = take.split_once('=').ok_or_else(|| {
            CommandError::Usage(format!("--take {}: write FIELD=ID", sanitize(take)))
        })?;
        let field = match field.trim() {
            "name" => MergeField::Name,
            "domain" => MergeField::Domain,
            "owner" => MergeField::Owner,
            "plan" => MergeField::Plan,
            "tags" => {
                return Err(CommandError::Usage(
                    "--take tags: tags are always the union".into(),
                ));
            }
            key => MergeField::Custom(key.to_owned()),
        };
        let from = match CustomerRef::parse(reference)? {
            CustomerRef::DisplayId(n) => records.iter().find(|e| e.display_id == n),
            CustomerRef::Id(id) => records.iter().find(|e| e.id() == Some(id.as_str())),
        }
        .ok_or_else(|| {
            CommandError::Usage(format!(
                "--take {}: that record is not in the merge",
                sanitize(take)
            ))
        })?;
        if merge::is_blank(field.value_of(from).as_deref()) {
            return Err(CommandError::Usage(format!(
                "--take {}: #{} has no {}",
                sanitize(take),
                from.display_id,
                sanitize(field.label())
            )));
        }
        parsed.insert(field, from.display_id);
    }
    Ok(parsed)
}

/// `Merge into #1003 Acme Co: set …; archive #1036, #1052`.
fn describe(account: &Account, records: &[&Entry], merged: &Merged) -> String {
    let keeper = records[merged.keeper];
    let owner = |id: &str| sanitize(account.owner_name(id).unwrap_or(id)).into_owned();
    let changes: Vec<String> = merged
        .describe(keeper, &owner)
        .iter()
        .map(ToString::to_string)
        .collect();
    let losers: Vec<String> = merged
        .losers
        .iter()
        .map(|&i| format!("#{}", records[i].display_id))
        .collect();
    let changes = if changes.is_empty() {
        String::new()
    } else {
        format!("{}; ", changes.join(", "))
    };
    format!(
        "Merge into #{} {}: {changes}archive {}",
        keeper.display_id,
        keeper.name,
        losers.join(", ")
    )
}

/// Asks `Merge? (y/N)` on a terminal; refuses without one.
fn confirm() -> Result<bool, CommandError> {
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(
            "not a terminal to ask on: add --yes to merge, or --dry-run to only look".into(),
        ));
    }
    eprint!("Merge? (y/N) ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y"))
}

/// The outbox unit of the merge: the keeper's edit (if any field changes),
/// then each archive.
fn unit_of(records: &[&Entry], merged: &Merged) -> Unit {
    let keeper = records[merged.keeper];
    let keeper_id = keeper.id().unwrap_or_default().to_owned();
    let patch = merged.patch(keeper);
    let keeper_back = (!patch.is_empty()).then(|| merge::undo_patch(keeper, &patch));
    let mut items = Vec::new();
    if !patch.is_empty() {
        items.push((
            IdempotencyKey::new(),
            OutboxOp::Update {
                customer_id: keeper_id.clone(),
                patch,
            },
        ));
    }
    let mut merged_into = Vec::new();
    for &i in &merged.losers {
        let id = records[i].id().unwrap_or_default().to_owned();
        merged_into.push(MergedInto {
            customer_id: id.clone(),
            keeper_id: keeper_id.clone(),
            keeper_display_id: keeper.display_id,
            at: OffsetDateTime::now_utc(),
        });
        items.push((IdempotencyKey::new(), OutboxOp::Archive { customer_id: id }));
    }
    Unit {
        id: IdempotencyKey::new(),
        items,
        merged: merged_into,
        unmerged: Vec::new(),
        keeper_back,
    }
}

/// Queues `unit` and delivers the outbox until every item of it is settled,
/// by the same path as the app ([`deliver_head`]).
async fn send_unit(mut store: Store, client: &Client, unit: Unit) -> Result<(), CommandError> {
    store.outbox_push_unit(&unit, OffsetDateTime::now_utc())?;
    let mut left: HashSet<IdempotencyKey> = unit.items.iter().map(|(k, _)| k.clone()).collect();
    let shared = SharedStore::new(store);
    let who = crate::store::Claimant::new();
    let mut busy = 0;
    while !left.is_empty() {
        let step = deliver_head(&shared, client, &who, |_| {})
            .await
            .map_err(super::customers::store_failure)?;
        match step {
            Step::Delivered { item, .. } => {
                left.remove(&item.key);
            }
            Step::Rejected { item, message, .. } if left.contains(&item.key) => {
                return Err(CommandError::Usage(format!(
                    "Pivotal refused the merge, so nothing was archived: {}",
                    sanitize(&message)
                )));
            }
            Step::Rejected { .. } => {}
            Step::Waiting { error, .. } => {
                eprintln!(
                    "pivotal: the merge is saved and will be sent by the next command or when the app opens"
                );
                return Err(CommandError::Api(error));
            }
            Step::Empty => return Ok(()),
            Step::Busy => {
                busy += 1;
                if busy > 150 {
                    return Err(CommandError::Usage(
                        "not sent yet: another pivotal process is busy with the queue; it will be sent".into(),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
    Ok(())
}
