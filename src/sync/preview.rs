//! The preview: the first screen of the list, read from the store's
//! indexes before the engine builds the whole customer set, then further
//! pages of it (keyset paging) while the set is still being built.
//!
//! Owns what the preview shows, exactly as the whole set will show it: the
//! changes waiting in the outbox laid over the cached rows (an archive
//! hides its customer, an edit moves it, a create adds one), each row's
//! badge, and the counts. It serves only name order (either way, all
//! customers or My customers); the caller decides whether the saved view is
//! one of those. It runs on a thread of its own with its own read
//! connection, so a page never waits for the set being built, and it
//! never touches the UI.

use std::collections::HashSet;
use std::path::PathBuf;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::SyncEvent;
use crate::api::User;
use crate::domain::{CustomerKey, Entry, NamePosition};
use crate::store::{NameView, OutboxOp, Store, StoreCounts, StoreError};

/// Which preview the app wants at start: the saved view, if it is one the
/// preview serves (name order), and how many rows fill the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewSpec {
    /// Z→A.
    pub descending: bool,
    /// My customers only.
    pub mine: bool,
    /// Rows in the first page.
    pub rows: usize,
}

/// One row of a preview: the customer as the list shows it and its badge
/// (how many live customers share its domain, when two or more do).
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRow {
    pub entry: Entry,
    pub badge: Option<usize>,
}

/// The first screen, before the set is built.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// What the whole set will count, pending changes included.
    pub counts: StoreCounts,
    /// The team as cached, and the key's own user: owners show by name.
    pub users: Vec<User>,
    pub me: Option<User>,
    /// The first rows of the view, in its order.
    pub rows: Vec<PreviewRow>,
}

/// A further page of the preview: up to `limit` rows after `after` in the
/// view's order (from the first without it), or before it, nearest first,
/// when `backward` (the last rows without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<NamePosition>,
    pub backward: bool,
    pub limit: usize,
}

/// The cached rows of one view with the outbox laid over them, as the
/// whole set will have them once built.
#[derive(Debug)]
pub struct PreviewSource {
    view: NameView,
    /// Ids whose cached row is not shown as cached (archived or edited
    /// here, not yet confirmed).
    hidden: HashSet<CustomerKey>,
    /// Those cached rows.
    hidden_rows: Vec<Entry>,
    /// Rows the outbox adds: creates, and the edited versions of hidden rows.
    added: Vec<Entry>,
}

impl PreviewSource {
    /// The source for `spec` over `store`, with the outbox as it is now;
    /// pending creates are dated `now`.
    pub fn new(store: &Store, spec: PreviewSpec, now: OffsetDateTime) -> Result<Self, StoreError> {
        let (_, me) = store.load_users()?;
        // As the list does: My customers before the team is known shows
        // nobody rather than everyone.
        let owner = spec.mine.then(|| me.map(|me| me.id).unwrap_or_default());
        let mut source = PreviewSource {
            view: NameView {
                owner,
                descending: spec.descending,
            },
            hidden: HashSet::new(),
            hidden_rows: Vec::new(),
            added: Vec::new(),
        };
        source.lay_outbox_over(store, now)?;
        Ok(source)
    }

    /// Mirrors the app taking the outbox at start: archives first (their
    /// customers leave the list), then creates and edits in queue order
    /// (an edit of a customer not in the list does nothing).
    fn lay_outbox_over(&mut self, store: &Store, now: OffsetDateTime) -> Result<(), StoreError> {
        let pending = store.outbox_pending()?;
        let mut archived = HashSet::new();
        for item in &pending {
            if let OutboxOp::Archive { customer_id } = &item.op
                && let Some(row) = store.entry_by_id(customer_id)?
            {
                archived.insert(customer_id.clone());
                self.hide(row);
            }
        }
        for item in pending {
            match item.op {
                OutboxOp::Create { customer } => {
                    self.added
                        .push(Entry::pending_create(&customer, &item.key, now));
                }
                OutboxOp::Update { customer_id, patch } if !archived.contains(&customer_id) => {
                    let at = self.added.iter().position(|e| e.key == customer_id);
                    let current = match at {
                        Some(at) => Some(self.added.remove(at).to_customer()),
                        None => store.customer_by_id(&customer_id)?,
                    };
                    let Some(mut customer) = current else {
                        continue;
                    };
                    if let Some(row) = store.entry_by_id(&customer_id)? {
                        self.hide(row);
                    }
                    patch.apply_to(&mut customer);
                    self.added.push(Entry::from(customer).into_pending());
                }
                OutboxOp::Update { .. } | OutboxOp::Archive { .. } | OutboxOp::Restore { .. } => {}
            }
        }
        Ok(())
    }

    fn hide(&mut self, row: Entry) {
        if self.hidden.insert(row.key.clone()) {
            self.hidden_rows.push(row);
        }
    }

    fn in_view(&self, entry: &Entry) -> bool {
        self.view
            .owner
            .as_deref()
            .is_none_or(|owner| entry.owner_id.as_deref() == Some(owner))
    }

    /// The first screen: counts and the first `rows` rows.
    pub fn first(&self, store: &Store, rows: usize) -> Result<Preview, StoreError> {
        let counts = self.counts(store)?;
        let (users, me) = store.load_users()?;
        let request = PageRequest {
            after: None,
            backward: false,
            limit: rows,
        };
        Ok(Preview {
            counts,
            users,
            me,
            rows: self.page(store, &request)?,
        })
    }

    /// The counts of the whole set, pending changes included.
    pub fn counts(&self, store: &Store) -> Result<StoreCounts, StoreError> {
        let cached = store.preview_counts(&self.view)?;
        let in_view = |rows: &[Entry]| rows.iter().filter(|e| self.in_view(e)).count();
        let mut keys: Vec<&str> = self
            .hidden_rows
            .iter()
            .chain(&self.added)
            .filter_map(|e| e.domain_key())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let before = store.domain_key_counts(&keys)?;
        let mut duplicate_domains = cached.duplicate_domains;
        for (key, before) in keys.iter().zip(before) {
            let after = self.adjusted(key, before);
            // Counts read while another process writes may not add up:
            // never below zero.
            duplicate_domains = (duplicate_domains + usize::from(after >= 2))
                .saturating_sub(usize::from(before >= 2));
        }
        Ok(StoreCounts {
            total: (cached.total + self.added.len()).saturating_sub(self.hidden_rows.len()),
            in_view: (cached.in_view + in_view(&self.added))
                .saturating_sub(in_view(&self.hidden_rows)),
            duplicate_domains,
            max_display_id: cached.max_display_id,
        })
    }

    /// How many customers share `key` once the outbox is laid over the
    /// `cached` count.
    fn adjusted(&self, key: &str, cached: usize) -> usize {
        let has = |e: &&Entry| e.domain_key() == Some(key);
        (cached + self.added.iter().filter(has).count())
            .saturating_sub(self.hidden_rows.iter().filter(has).count())
    }

    /// The rows `request` asks for, in the order it reads them.
    pub fn page(
        &self,
        store: &Store,
        request: &PageRequest,
    ) -> Result<Vec<PreviewRow>, StoreError> {
        let after = request.after.as_ref();
        let mut rows = store.name_page(
            &self.view,
            after,
            request.backward,
            request.limit + self.hidden.len(),
        )?;
        rows.retain(|e| !self.hidden.contains(&e.key));
        let descending = self.view.descending != request.backward;
        let beyond =
            |p: &NamePosition| after.is_none_or(|a| if descending { p < a } else { p > a });
        rows.extend(
            self.added
                .iter()
                .filter(|e| self.in_view(e) && beyond(&e.name_position()))
                .cloned(),
        );
        rows.sort_by_cached_key(Entry::name_position);
        if descending {
            rows.reverse();
        }
        rows.truncate(request.limit);
        self.with_badges(store, rows)
    }

    fn with_badges(&self, store: &Store, rows: Vec<Entry>) -> Result<Vec<PreviewRow>, StoreError> {
        let keys: Vec<&str> = rows.iter().filter_map(|e| e.domain_key()).collect();
        let mut counts = store.domain_key_counts(&keys)?.into_iter();
        let badges: Vec<Option<usize>> = rows
            .iter()
            .map(|e| {
                let key = e.domain_key()?;
                let n = self.adjusted(key, counts.next().unwrap_or(0));
                (n >= 2).then_some(n)
            })
            .collect();
        Ok(rows
            .into_iter()
            .zip(badges)
            .map(|(entry, badge)| PreviewRow { entry, badge })
            .collect())
    }
}

/// The preview connection's page cache, in KiB.
const PREVIEW_CACHE_KIB: u32 = 256;

/// Starts the preview on a thread of its own, over a second connection to
/// the store file at `path`: it sends [`SyncEvent::Preview`], says so on
/// the returned receiver, then answers each page request with
/// [`SyncEvent::PreviewPage`] until the request sender is dropped.
pub(super) fn spawn(
    path: PathBuf,
    spec: PreviewSpec,
    events: mpsc::UnboundedSender<SyncEvent>,
) -> (mpsc::UnboundedSender<PageRequest>, oneshot::Receiver<()>) {
    let (requests, mut inbox) = mpsc::unbounded_channel::<PageRequest>();
    let (first_sent, first) = oneshot::channel();
    let serve = move || {
        let opened = Store::open(&path).and_then(|store| {
            // A screenful a page: a small cache keeps the start's peak low.
            let store = store.with_cache_kib(PREVIEW_CACHE_KIB)?;
            let source = PreviewSource::new(&store, spec, OffsetDateTime::now_utc())?;
            let preview = source.first(&store, spec.rows)?;
            Ok((store, source, preview))
        });
        let (store, source) = match opened {
            Ok((store, source, preview)) => {
                let _ = events.send(SyncEvent::Preview(preview));
                (store, source)
            }
            Err(err) => {
                tracing::warn!(error = %err, "no preview of the list; it shows once built");
                return;
            }
        };
        let _ = first_sent.send(());
        while let Some(request) = inbox.blocking_recv() {
            match source.page(&store, &request) {
                Ok(rows) => {
                    let _ = events.send(SyncEvent::PreviewPage { request, rows });
                }
                Err(err) => tracing::warn!(error = %err, "a page of the preview failed"),
            }
        }
    };
    if let Err(err) = std::thread::Builder::new()
        .name("pivotal-preview".to_owned())
        .spawn(serve)
    {
        tracing::warn!(error = %err, "could not start the preview");
    }
    (requests, first)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::{ApiKey, Client, Customer};
    use crate::domain::fixtures::customer;
    use crate::sync::{SyncCommand, SyncConfig};

    async fn next(rx: &mut mpsc::UnboundedReceiver<SyncEvent>) -> SyncEvent {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event in time")
            .expect("the engine runs")
    }

    /// The engine over a real store file: the preview comes first, before
    /// the set, and pages are answered while the engine goes on.
    #[tokio::test]
    async fn the_engine_sends_the_preview_before_the_set_and_answers_pages() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("account.sqlite3");
        let mut store = Store::open(&path).expect("open");
        let cached: Vec<Customer> = (0..30_u64)
            .map(|i| customer(100 + i, &format!("Customer {:02}", 29 - i), None))
            .collect();
        store.apply_page(&cached).expect("cache");
        let key = ApiKey::new(crate::server::DEFAULT_API_KEY.to_owned()).expect("key");
        // Nothing listens there: the sync fails, the cache still loads.
        let client = Client::new("http://127.0.0.1:9", key).expect("client");
        let config = SyncConfig {
            preview: Some(PreviewSpec {
                descending: false,
                mine: false,
                rows: 5,
            }),
            ..SyncConfig::default()
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let engine = crate::sync::spawn(client, store, config, tx);

        let SyncEvent::Preview(preview) = next(&mut rx).await else {
            panic!("the preview comes first");
        };
        assert_eq!(preview.counts.total, 30);
        let names: Vec<&str> = preview.rows.iter().map(|r| r.entry.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Customer 00",
                "Customer 01",
                "Customer 02",
                "Customer 03",
                "Customer 04"
            ]
        );

        let request = PageRequest {
            after: preview.rows.last().map(|r| r.entry.name_position()),
            backward: false,
            limit: 2,
        };
        engine.send(SyncCommand::PreviewPage(request.clone()));
        let mut answered = None;
        let mut loaded = false;
        while answered.is_none() || !loaded {
            match next(&mut rx).await {
                SyncEvent::PreviewPage { request: r, rows } if r == request => {
                    answered = Some(rows)
                }
                SyncEvent::CacheLoaded { customers, .. } => {
                    assert_eq!(customers.len(), 30);
                    loaded = true;
                }
                _ => {}
            }
        }
        let names: Vec<String> = answered
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.entry.name.to_string())
            .collect();
        assert_eq!(names, ["Customer 05", "Customer 06"]);
        engine.send(SyncCommand::EndPreview);
        engine.stop().await;
    }
}
