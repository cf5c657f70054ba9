//! `pivotal customers list|create|show|archive|restore|archived` (and the
//! account as the commands see it, shared with `merge.rs`).
//!
//! Listing first brings the account's local store up to date (the same
//! store, high-water mark and sanitising as the TUI), then filters with the
//! TUI's own filter, My customers and duplicates-only rules. Changes are
//! written to the store's outbox before they are sent, with their
//! idempotency key, so a change that cannot be sent now is kept and the
//! app sends it on its next start.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use super::output::{self, Format, Listed};
use super::{CommandError, Context, CustomerRef};
use crate::api::{ApiError, Client, Customer, IdempotencyKey, ListParams, User};
use crate::cli::{CreateArgs, ListArgs};
use crate::domain::filter::{FilterState, Query, SearchIndex};
use crate::domain::{
    Criteria, CustomerSet, Draft, Entry, Matches, Rows, duplicate_key, sanitize, share_url,
};
use crate::store::{Claimant, MergedInto, OutboxOp, Store};
use crate::sync::{SharedStore, Step, StoreFailure, deliver_head, send_change};

/// Page size for listing: the most the API allows.
const PAGE_SIZE: u32 = 1000;

/// The account as the commands see it: the live customers (from the
/// store, just brought up to date), the team, and who the key belongs to.
pub(super) struct Account {
    pub(super) set: CustomerSet,
    users: HashMap<String, User>,
    me: User,
    pub(super) store: Store,
}

impl Account {
    /// Opens the account's store and syncs it: incrementally, or from the
    /// start when `full`. Records the client cannot read are left out and
    /// counted on stderr (each is named in the log).
    pub(super) async fn open(
        store_path: &Path,
        client: &Client,
        full: bool,
    ) -> Result<Account, CommandError> {
        let mut store = open_store(store_path)?;
        let since = store
            .sync_since(OffsetDateTime::now_utc())?
            .filter(|_| !full);
        let (users, me) = tokio::try_join!(client.users(), client.me())?;
        store.save_users(&users, &me)?;
        let params = ListParams {
            limit: Some(PAGE_SIZE),
            updated_since: since,
            include_archived: true,
            cursor: None,
        };
        let mut pages = client.pages(params);
        while let Some(page) = pages.next().await? {
            let server_now = pages.server_time().unwrap_or_else(OffsetDateTime::now_utc);
            store.apply_page_as_of(&page, server_now)?;
        }
        report_skipped(pages.skipped());
        store.set_last_synced(OffsetDateTime::now_utc())?;
        let mut set = CustomerSet::default();
        set.apply(store.load_customers()?);
        let mut users: HashMap<String, User> =
            users.into_iter().map(|u| (u.id.clone(), u)).collect();
        users.insert(me.id.clone(), me.clone());
        Ok(Account {
            set,
            users,
            me,
            store,
        })
    }

    /// An owner id's name, as the server sent it.
    pub(super) fn owner_name(&self, id: &str) -> Option<&str> {
        self.users.get(id).map(|u| u.name.as_str())
    }

    /// An entry as the commands print it.
    fn listed(&self, entry: Entry) -> Listed {
        let owner = entry.owner_id.as_deref();
        Listed {
            badge: if entry.archived {
                None
            } else {
                self.set.badge(&entry)
            },
            owner: owner.map(|id| sanitize(self.owner_name(id).unwrap_or(id)).into_owned()),
            mine: owner == Some(self.me.id.as_str()),
            entry,
        }
    }

    /// The live customer a reference names.
    pub(super) fn find(&self, reference: &CustomerRef) -> Option<&Entry> {
        match reference {
            CustomerRef::Id(id) => self.set.get(id),
            CustomerRef::DisplayId(n) => self.set.iter_ordered().find(|e| e.display_id == *n),
        }
    }
}

/// The account's store; a damaged one is moved aside (and said so on
/// stderr) and a fresh one synced in its place.
fn open_store(path: &Path) -> Result<Store, CommandError> {
    let (store, recovered) = Store::open_or_recover(path)?;
    if let Some(recovered) = recovered {
        eprintln!(
            "pivotal: the local cache was damaged; it was moved to {} and is rebuilt now",
            recovered.moved_to.display()
        );
    }
    Ok(store)
}

/// The client for the user's key and the account's store file.
pub(super) async fn connect(ctx: &Context) -> Result<(Client, PathBuf), CommandError> {
    let (key, _) = ctx.key().await?;
    let store_path = ctx.store_path(&key);
    Ok((ctx.client(key)?, store_path))
}

/// Every customer, archived ones included, straight from the API.
async fn everyone(client: &Client) -> Result<Vec<Customer>, CommandError> {
    let params = ListParams {
        limit: Some(PAGE_SIZE),
        updated_since: None,
        include_archived: true,
        cursor: None,
    };
    let mut all = Vec::new();
    let mut pages = client.pages(params);
    while let Some(page) = pages.next().await? {
        all.extend(page);
    }
    // Records skipped here are named in the log; the sync before this one
    // has already said how many could not be read.
    Ok(all)
}

/// Says on stderr how many records could not be read, if any.
fn report_skipped(skipped: usize) {
    match skipped {
        0 => {}
        1 => eprintln!("pivotal: 1 record could not be read and was skipped (see the log)"),
        n => eprintln!("pivotal: {n} records could not be read and were skipped (see the log)"),
    }
}

/// `customers list`.
///
/// # Errors
///
/// No key, the API refusing or unreachable.
pub async fn list(
    ctx: &mut Context,
    args: &ListArgs,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let (client, store_path) = connect(ctx).await?;
    let account = Account::open(&store_path, &client, args.full).await?;
    ctx.remember_api_url();
    let users = &account.users;
    let owner = |id: &str| users.get(id).map(|u| u.name.as_str());
    let query = Query::parse(args.filter.as_deref().unwrap_or(""));
    let criteria = Criteria {
        owner: args.mine.then_some(account.me.id.as_str()),
        duplicates_only: args.duplicates,
        ..Criteria::default()
    };
    let mut filter = FilterState::default();
    let (ranked, exact);
    let matches = if query == Query::Empty {
        Matches::All
    } else {
        let index = SearchIndex::build(&account.set, owner);
        filter.refine(query.clone(), &index, &account.set);
        ranked = filter.list_order(&index);
        // `#1042` is settled, as by the app's `Enter`: exactly 1042.
        exact = filter.exact(&account.set);
        match (&ranked, &exact) {
            (Some(ranked), _) => Matches::Ranked(ranked),
            (None, Some(exact)) => Matches::Ordered(exact),
            (None, None) => Matches::Ordered(filter.positions()),
        }
    };
    let rows = Rows::compute(&account.set, matches, criteria);
    let mut listed: Vec<Listed> = rows
        .iter()
        .filter_map(|p| account.set.at(p))
        .map(|entry| account.listed(entry.clone()))
        .collect();
    if args.include_archived && !args.duplicates {
        // The cache keeps archived customers too: no second listing.
        let mut archived: Vec<Entry> = account
            .store
            .load_archived()?
            .into_iter()
            .map(|a| Entry::from(a.customer))
            .filter(|e| {
                criteria
                    .owner
                    .is_none_or(|me| e.owner_id.as_deref() == Some(me))
            })
            .filter(|e| query.settles_on(e, owner))
            .collect();
        archived.sort_by_cached_key(|e| (e.name.to_lowercase(), e.display_id));
        listed.extend(archived.into_iter().map(|entry| account.listed(entry)));
    }
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table
    };
    output::customers(&listed, format, out)?;
    Ok(())
}

/// `customers archived [--json]`: the archived customers the cache holds
/// once it is up to date, the most recently archived first, each merged
/// one with the record it went into.
///
/// # Errors
///
/// No key, the API refusing or unreachable, the store failing.
pub async fn archived(
    ctx: &mut Context,
    json: bool,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let (client, store_path) = connect(ctx).await?;
    let account = Account::open(&store_path, &client, false).await?;
    ctx.remember_api_url();
    let archived: Vec<(Listed, Option<MergedInto>)> = account
        .store
        .load_archived()?
        .into_iter()
        .map(|a| (account.listed(Entry::from(a.customer)), a.merged_into))
        .collect();
    output::archived(&archived, json, out)?;
    Ok(())
}

/// `customers create`.
///
/// # Errors
///
/// Invalid input (exit 2), an unknown owner (exit 2), a taken domain with
/// `--if-no-duplicate` (exit 5), the API refusing (3) or unreachable (4).
pub async fn create(
    ctx: &mut Context,
    args: &CreateArgs,
    share_url_base: &str,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let mut draft = Draft {
        name: args.name.clone(),
        domain: args.domain.clone().unwrap_or_default(),
        owner_id: None,
        plan: args.plan.clone().unwrap_or_default(),
        tags: args.tags.join(","),
        custom_fields: args.fields.clone(),
    };
    // Check the input before anything goes over the network.
    let checked = draft.to_new_customer().map_err(|errors| {
        let problems: Vec<String> = errors
            .iter()
            .map(|(field, error)| format!("{}: {error}", field.param()))
            .collect();
        CommandError::Usage(format!("not created: {}", problems.join("; ")))
    })?;
    let (client, store_path) = connect(ctx).await?;
    let account = Account::open(&store_path, &client, false).await?;
    draft.owner_id = Some(resolve_owner(&account, args.owner.as_deref())?);
    let customer = crate::api::NewCustomer {
        owner_id: draft.owner_id.clone(),
        ..checked
    };
    let taken: Vec<String> = customer
        .domain
        .as_deref()
        .and_then(|d| duplicate_key(Some(d)))
        .map(|key| {
            account
                .set
                .same_domain(&key)
                .iter()
                .map(|e| format!("#{} {}", e.display_id, e.name))
                .collect()
        })
        .unwrap_or_default();
    if !taken.is_empty() {
        let domain = customer.domain.as_deref().unwrap_or_default();
        if args.if_no_duplicate {
            return Err(CommandError::Duplicate(format!(
                "not created: {domain} is already used by {}; drop --if-no-duplicate to create it anyway",
                taken.join(", ")
            )));
        }
        eprintln!(
            "pivotal: note: {domain} is also used by {}",
            taken.join(", ")
        );
    }
    let op = OutboxOp::Create { customer };
    let created = send(account.store, &client, op).await?;
    ctx.remember_api_url();
    writeln!(
        out,
        "Created #{} {}  {}",
        created.display_id,
        sanitize(&created.name),
        share_url(share_url_base, created.display_id)
    )?;
    Ok(())
}

/// The owner id for `--owner`: `me` (or nothing), a user id, or an email.
fn resolve_owner(account: &Account, owner: Option<&str>) -> Result<String, CommandError> {
    let Some(owner) = owner.map(str::trim).filter(|o| !o.is_empty() && *o != "me") else {
        return Ok(account.me.id.clone());
    };
    if account.users.contains_key(owner) {
        return Ok(owner.to_owned());
    }
    account
        .users
        .values()
        .find(|u| u.email.eq_ignore_ascii_case(owner))
        .map(|u| u.id.clone())
        .ok_or_else(|| {
            CommandError::Usage(format!(
                "no teammate `{}`; give a user id, an email or `me`",
                sanitize(owner)
            ))
        })
}

/// `customers show`.
///
/// # Errors
///
/// An unknown customer (exit 3), the API refusing or unreachable.
pub async fn show(
    ctx: &mut Context,
    reference: &str,
    json: bool,
    share_url_base: &str,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let reference = CustomerRef::parse(reference)?;
    let (client, store_path) = connect(ctx).await?;
    let account = Account::open(&store_path, &client, false).await?;
    let customer = match account.find(&reference).and_then(Entry::id) {
        Some(id) => client.get_customer(id).await?,
        None => lookup_anywhere(&client, &account.store, &reference).await?,
    };
    let history = client.history(&customer.id).await?;
    ctx.remember_api_url();
    let merged = if customer.archived {
        account.store.merged_into(&customer.id)?
    } else {
        None
    };
    let listed = account.listed(Entry::from(customer));
    let link = share_url(share_url_base, listed.entry.display_id);
    output::customer(&listed, &history, &link, json, out)?;
    if let Some(merged) = merged.filter(|_| !json) {
        writeln!(out, "{}", output::merged_note(&merged))?;
    }
    Ok(())
}

/// A customer the live set does not hold (archived, or not synced yet):
/// by id, or by number from the cache's archived rows, and only when the
/// cache knows no such number by listing the whole account.
async fn lookup_anywhere(
    client: &Client,
    store: &Store,
    reference: &CustomerRef,
) -> Result<Customer, CommandError> {
    match reference {
        CustomerRef::Id(id) => Ok(client.get_customer(id).await?),
        CustomerRef::DisplayId(n) => match store.archived_id(*n)? {
            Some(id) => Ok(client.get_customer(&id).await?),
            None => listed(client, *n).await,
        },
    }
}

/// Customer `#n`, found by listing the whole account, archived ones too.
async fn listed(client: &Client, n: u64) -> Result<Customer, CommandError> {
    everyone(client)
        .await?
        .into_iter()
        .find(|c| c.display_id == n)
        .ok_or_else(|| {
            CommandError::Api(ApiError::Api {
                status: 404,
                kind: "not_found".into(),
                message: format!("no customer #{n}"),
                param: None,
            })
        })
}

/// `customers archive` and `customers restore`.
///
/// # Errors
///
/// An unknown customer, the API refusing or unreachable (the change is then
/// kept in the outbox and sent by the app's next start).
pub async fn archive_or_restore(
    ctx: &mut Context,
    reference: &str,
    archive: bool,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let reference = CustomerRef::parse(reference)?;
    let (client, store_path) = connect(ctx).await?;
    let (store, customer_id) = match reference {
        // An id needs no lookup, so the change is saved even when Pivotal
        // cannot be reached, and sent later.
        CustomerRef::Id(id) => (open_store(&store_path)?, id),
        CustomerRef::DisplayId(_) => {
            let account = Account::open(&store_path, &client, false).await?;
            let id = match account.find(&reference).and_then(Entry::id) {
                Some(id) => id.to_owned(),
                None => {
                    lookup_anywhere(&client, &account.store, &reference)
                        .await?
                        .id
                }
            };
            (account.store, id)
        }
    };
    let op = if archive {
        OutboxOp::Archive { customer_id }
    } else {
        OutboxOp::Restore { customer_id }
    };
    let customer = send(store, &client, op).await?;
    ctx.remember_api_url();
    let verb = if archive { "Archived" } else { "Restored" };
    writeln!(
        out,
        "{verb} #{} {}",
        customer.display_id,
        sanitize(&customer.name)
    )?;
    Ok(())
}

/// How long a command waits for another process (the app, a second
/// window) that is sending the head of the queue, before it leaves its own
/// change saved for later.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Writes `op` to the outbox and delivers the outbox in order, `op` last,
/// through the same path and rules as the app's engine
/// ([`deliver_head`]): changes an earlier command or the app could not send
/// go first. A change that cannot be sent now stays, with every change
/// after it, for the next command or the app; a change another process
/// delivers meanwhile is not sent again.
async fn send(store: Store, client: &Client, op: OutboxOp) -> Result<Customer, CommandError> {
    let key = IdempotencyKey::new();
    let mut store = store;
    store.outbox_push(&key, &op, OffsetDateTime::now_utc())?;
    let shared = SharedStore::new(store);
    let who = Claimant::new();
    let started = tokio::time::Instant::now();
    loop {
        let step = deliver_head(&shared, client, &who, |_| {})
            .await
            .map_err(store_failure)?;
        match step {
            Step::Delivered { item, customer } if item.key == key => return Ok(customer),
            Step::Delivered { item, .. } => {
                eprintln!("pivotal: sent a change saved earlier: {}", what(&item.op));
            }
            Step::Rejected {
                item,
                status,
                message,
                param,
                dropped,
            } => {
                let err = ApiError::Api {
                    status,
                    kind: "refused".into(),
                    message,
                    param,
                };
                if item.key == key || dropped.iter().any(|d| d.key == key) {
                    return Err(CommandError::Api(err));
                }
                for other in &dropped {
                    eprintln!(
                        "pivotal: not sent, as the change before it was refused: {}",
                        what(&other.op)
                    );
                }
                eprintln!(
                    "pivotal: Pivotal refused a change saved earlier, so it was dropped: {}: {}",
                    what(&item.op),
                    sanitize(&err.to_string())
                );
            }
            Step::Waiting { item, error } => {
                if item.key != key {
                    eprintln!(
                        "pivotal: a change saved earlier cannot be sent yet ({}); it goes first",
                        what(&item.op)
                    );
                }
                eprintln!(
                    "pivotal: the change is saved and will be sent by the next command or when the app opens"
                );
                return Err(CommandError::Api(error));
            }
            Step::Busy | Step::Empty => {
                let ours = key.clone();
                let waiting = shared
                    .with(move |s| s.outbox_contains(&ours))
                    .await
                    .map_err(store_failure)?;
                if !waiting {
                    return settled_elsewhere(client, &key, &op).await;
                }
                if started.elapsed() > BUSY_WAIT {
                    eprintln!(
                        "pivotal: another window is sending earlier changes; yours is saved and will be sent after them"
                    );
                    return Err(CommandError::Usage(
                        "not sent yet: another pivotal process is busy with the queue; try again shortly".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The result of our change when another process (the app, a second
/// window) delivered it: a create is asked again with its key, which the
/// server answers with the customer the first request made; an archive or
/// restore is read back, and is only reported done if the customer is in
/// the state it asked for.
async fn settled_elsewhere(
    client: &Client,
    key: &IdempotencyKey,
    op: &OutboxOp,
) -> Result<Customer, CommandError> {
    let (id, archived) = match op {
        OutboxOp::Create { .. } => return Ok(send_change(client, key, op).await?),
        OutboxOp::Update { customer_id, .. } => {
            return Ok(client.get_customer(customer_id).await?);
        }
        OutboxOp::Archive { customer_id } => (customer_id, true),
        OutboxOp::Restore { customer_id } => (customer_id, false),
    };
    let customer = client.get_customer(id).await?;
    if customer.archived == archived {
        Ok(customer)
    } else {
        Err(CommandError::Usage(format!(
            "another pivotal process settled this change, and #{} is {} now",
            customer.display_id,
            if customer.archived {
                "archived"
            } else {
                "live"
            }
        )))
    }
}

pub(super) fn store_failure(failure: StoreFailure) -> CommandError {
    match failure {
        StoreFailure::Failed(err) => CommandError::Store(err),
        StoreFailure::Closed => CommandError::Usage("the local store was closed".into()),
    }
}

/// A change in a few words, for messages.
fn what(op: &OutboxOp) -> String {
    match op {
        OutboxOp::Create { customer } => format!("create {}", sanitize(&customer.name)),
        OutboxOp::Update { customer_id, .. } => format!("edit of {customer_id}"),
        OutboxOp::Archive { customer_id } => format!("archive of {customer_id}"),
        OutboxOp::Restore { customer_id } => format!("restore of {customer_id}"),
    }
}
