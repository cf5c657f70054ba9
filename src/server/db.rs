//! The reference server's durable storage: customers, their history, the
//! `display_id` counter and idempotency keys, in one SQLite file (WAL).
//!
//! Every method is synchronous and short; the HTTP layer calls them through
//! `spawn_blocking`. Timestamps are stored as microseconds so that the
//! (`updated_at`, `id`) order of the contract is exact, and every write takes
//! a strictly later `updated_at` than any before it, so an incremental sync
//! that remembers the greatest `updated_at` it saw never misses a change.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::ids::{customer_id, from_micros, now_micros, to_micros};
use super::team;
use crate::api::{Customer, CustomerPatch, HistoryEvent, NewCustomer, Source};

/// Idempotency keys are kept at least this long (the contract says 24 h).
const IDEMPOTENCY_RETENTION_MICROS: i64 = 48 * 3600 * 1_000_000;

const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('next_display_id', 1001);
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        display_id INTEGER NOT NULL UNIQUE,
        name TEXT NOT NULL,
        domain TEXT,
        owner_id TEXT,
        plan TEXT,
        tags TEXT NOT NULL,
        custom_fields TEXT NOT NULL,
        source TEXT NOT NULL,
        archived INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX customers_by_update ON customers (updated_at, id);
    CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        customer_id TEXT NOT NULL REFERENCES customers (id),
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        summary TEXT NOT NULL,
        actor TEXT
    );
    CREATE INDEX history_by_customer ON history (customer_id, at);
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
"#];

const COLUMNS: &str = "id, display_id, name, domain, owner_id, plan, tags, custom_fields, \
                       source, archived, created_at, updated_at";

/// A page request for `GET /v1/customers`, already validated.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: u32,
    pub after: Option<(i64, String)>,
    pub updated_since: Option<i64>,
    pub include_archived: bool,
}

/// A page of customers and the keyset position to continue from.
#[derive(Debug)]
pub struct ListPage {
    pub customers: Vec<Customer>,
    pub next: Option<(i64, String)>,
}

/// What a create with an idempotency key turned into.
#[derive(Debug)]
pub enum CreateOutcome {
    Created(Box<Customer>),
    /// The key was seen with the same body: the original status and body.
    Replayed {
        status: u16,
        body: String,
    },
    /// The key was seen with a different body.
    Conflict,
}

/// An idempotency key and the canonical form of the body it came with.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub key: String,
    pub canonical_body: String,
}

/// A customer to import, with its history (oldest or newest first; order is
/// by time when read back).
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub customer: Customer,
    pub history: Vec<HistoryEvent>,
}

pub struct Db {
    inner: Mutex<Inner>,
}

struct Inner {
    conn: Connection,
    /// The greatest timestamp handed out so far; writes always go past it.
    clock: i64,
}

impl Inner {
    fn tick(&mut self) -> i64 {
        self.clock = now_micros().max(self.clock + 1);
        self.clock
    }
}

impl Db {
    /// Opens (creating if needed) the database in `dir` and migrates it.
    pub fn open(dir: &Path) -> rusqlite::Result<Db> {
        let mut conn = Connection::open(dir.join("pivotal-server.sqlite3"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        conn.execute(
            "DELETE FROM idempotency WHERE created_at < ?1",
            [now_micros() - IDEMPOTENCY_RETENTION_MICROS],
        )?;
        let clock: i64 = conn.query_row(
            "SELECT MAX(COALESCE((SELECT MAX(updated_at) FROM customers), 0),
                        COALESCE((SELECT MAX(at) FROM history), 0))",
            [],
            |r| r.get(0),
        )?;
        Ok(Db {
            inner: Mutex::new(Inner { conn, clock }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_empty(&self) -> rusqlite::Result<bool> {
        let inner = self.lock();
        inner
            .conn
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM customers)", [], |r| {
                r.get(0)
            })
    }

    pub fn list(&self, q: &ListQuery) -> rusqlite::Result<ListPage> {
        let inner = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM customers
             WHERE (?1 IS NULL OR updated_at >= ?1)
               AND (?2 OR archived = 0)
               AND (?3 IS NULL OR (updated_at, id) > (?3, ?4))
             ORDER BY updated_at, id
             LIMIT ?5"
        );
        let mut stmt = inner.conn.prepare_cached(&sql)?;
        let (after_ts, after_id) = match &q.after {
            Some((ts, id)) => (Some(*ts), Some(id.as_str())),
            None => (None, None),
        };
        let mut rows = stmt
            .query_map(
                params![
                    q.updated_since,
                    q.include_archived,
                    after_ts,
                    after_id,
                    i64::from(q.limit) + 1
                ],
                read_customer,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let next = if rows.len() > q.limit as usize {
            rows.truncate(q.limit as usize);
            rows.last().map(|c| (to_micros(c.updated_at), c.id.clone()))
        } else {
            None
        };
        Ok(ListPage {
            customers: rows,
            next,
        })
    }

    pub fn get(&self, id: &str) -> rusqlite::Result<Option<Customer>> {
        get(&self.lock().conn, id)
    }

    /// Creates a customer, honouring an idempotency key if there is one.
    pub fn create(
        &self,
        new: &NewCustomer,
        idempotency: Option<&IdempotentRequest>,
    ) -> rusqlite::Result<CreateOutcome> {
        let mut inner = self.lock();
        let now = inner.tick();
        let tx = inner.conn.transaction()?;
        if let Some(req) = idempotency {
            let seen: Option<(String, u16, String)> = tx
                .query_row(
                    "SELECT request, status, response FROM idempotency WHERE key = ?1",
                    [&req.key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            if let Some((request, status, body)) = seen {
                return Ok(if request == req.canonical_body {
                    CreateOutcome::Replayed { status, body }
                } else {
                    CreateOutcome::Conflict
                });
            }
        }
        let display_id = tx.query_row(
            "UPDATE meta SET value = value + 1 WHERE key = 'next_display_id' RETURNING value - 1",
            [],
            read_u64(0),
        )?;
        let customer = new.to_customer(customer_id(), display_id, from_micros(now));
        insert_customer(&tx, &customer)?;
        append_history(
            &tx,
            &customer.id,
            now,
            "created",
            &format!("Created via API by {}", actor_name(team::ME)),
        )?;
        if let Some(req) = idempotency {
            let body = serde_json::to_string(&customer).map_err(to_sql_error)?;
            tx.execute(
                "INSERT INTO idempotency (key, request, status, response, created_at)
                 VALUES (?1, ?2, 201, ?3, ?4)",
                params![req.key, req.canonical_body, body, now],
            )?;
        }
        tx.commit()?;
        Ok(CreateOutcome::Created(Box::new(customer)))
    }

    /// Applies a patch; `None` if there is no such customer. A patch that
    /// changes nothing leaves `updated_at` and the history alone.
    pub fn update(&self, id: &str, patch: &CustomerPatch) -> rusqlite::Result<Option<Customer>> {
        let mut inner = self.lock();
        let now = inner.tick();
        let tx = inner.conn.transaction()?;
        let Some(mut customer) = get(&tx, id)? else {
            return Ok(None);
        };
        let changed = patch.apply_to(&mut customer);
        if changed.is_empty() {
            return Ok(Some(customer));
        }
        customer.updated_at = from_micros(now);
        tx.execute(
            "UPDATE customers SET name = ?2, domain = ?3, owner_id = ?4, plan = ?5,
                 tags = ?6, custom_fields = ?7, updated_at = ?8 WHERE id = ?1",
            params![
                customer.id,
                customer.name,
                customer.domain,
                customer.owner_id,
                customer.plan,
                json(&customer.tags)?,
                json(&customer.custom_fields)?,
                now
            ],
        )?;
        let summary = format!("{} changed by {}", changed.join(", "), actor_name(team::ME));
        append_history(&tx, id, now, "updated", &summary)?;
        tx.commit()?;
        Ok(Some(customer))
    }

    /// Archives or restores; a customer already in that state is returned
    /// unchanged. `None` if there is no such customer.
    pub fn set_archived(&self, id: &str, archived: bool) -> rusqlite::Result<Option<Customer>> {
        let mut inner = self.lock();
        let now = inner.tick();
        let tx = inner.conn.transaction()?;
        let Some(mut customer) = get(&tx, id)? else {
            return Ok(None);
        };
        if customer.archived == archived {
            return Ok(Some(customer));
        }
        customer.archived = archived;
        customer.updated_at = from_micros(now);
        tx.execute(
            "UPDATE customers SET archived = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, archived, now],
        )?;
        let (kind, verb) = if archived {
            ("archived", "Archived")
        } else {
            ("restored", "Restored")
        };
        let summary = format!("{verb} by {}", actor_name(team::ME));
        append_history(&tx, id, now, kind, &summary)?;
        tx.commit()?;
        Ok(Some(customer))
    }

    /// The history of a customer, newest first; `None` if there is no such
    /// customer.
    pub fn history(&self, id: &str) -> rusqlite::Result<Option<Vec<HistoryEvent>>> {
        let inner = self.lock();
        if get(&inner.conn, id)?.is_none() {
            return Ok(None);
        }
        let mut stmt = inner.conn.prepare_cached(
            "SELECT at, kind, summary, actor FROM history
             WHERE customer_id = ?1 ORDER BY at DESC, seq DESC",
        )?;
        let events = stmt
            .query_map([id], |r| {
                Ok(HistoryEvent {
                    at: from_micros(r.get(0)?),
                    kind: r.get(1)?,
                    summary: r.get(2)?,
                    actor: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(events))
    }

    /// Imports records verbatim in one transaction, keeping their ids,
    /// display ids and timestamps, and moves the counters past them.
    pub fn import(&self, records: &[ImportRecord]) -> rusqlite::Result<usize> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        let mut latest = 0;
        for record in records {
            insert_customer(&tx, &record.customer)?;
            latest = latest.max(to_micros(record.customer.updated_at));
            for event in &record.history {
                let at = to_micros(event.at);
                latest = latest.max(at);
                tx.prepare_cached(
                    "INSERT INTO history (customer_id, at, kind, summary, actor)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    record.customer.id,
                    at,
                    event.kind,
                    event.summary,
                    event.actor
                ])?;
            }
        }
        tx.execute(
            "UPDATE meta SET value = MAX(value, (SELECT COALESCE(MAX(display_id), 0) + 1 FROM customers))
             WHERE key = 'next_display_id'",
            [],
        )?;
        tx.commit()?;
        inner.clock = inner.clock.max(latest);
        Ok(records.len())
    }

    /// The display id the next created customer will get.
    pub fn next_display_id(&self) -> rusqlite::Result<u64> {
        self.lock().conn.query_row(
            "SELECT value FROM meta WHERE key = 'next_display_id'",
            [],
            read_u64(0),
        )
    }
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, migration) in (1..).zip(MIGRATIONS).skip_while(|(i, _)| *i <= version) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", i)?;
        tx.commit()?;
    }
    Ok(())
}

fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Customer>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))?
        .query_row([id], read_customer)
        .optional()
}

fn insert_customer(tx: &Transaction<'_>, c: &Customer) -> rusqlite::Result<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO customers ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        c.id,
        i64::try_from(c.display_id).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        c.name,
        c.domain,
        c.owner_id,
        c.plan,
        json(&c.tags)?,
        json(&c.custom_fields)?,
        c.source.as_str(),
        c.archived,
        to_micros(c.created_at),
        to_micros(c.updated_at),
    ])?;
    Ok(())
}

fn append_history(
    tx: &Transaction<'_>,
    customer_id: &str,
    at: i64,
    kind: &str,
    summary: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO history (customer_id, at, kind, summary, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![customer_id, at, kind, summary, team::ME])?;
    Ok(())
}

fn read_customer(r: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: r.get(0)?,
        display_id: read_u64(1)(r)?,
        name: r.get(2)?,
        domain: r.get(3)?,
        owner_id: r.get(4)?,
        plan: r.get(5)?,
        tags: from_json(r, 6)?,
        custom_fields: from_json(r, 7)?,
        source: Source::parse(&r.get::<_, String>(8)?),
        archived: r.get(9)?,
        created_at: from_micros(r.get(10)?),
        updated_at: from_micros(r.get(11)?),
    })
}

/// Reads a non-negative integer column (SQLite integers are signed).
fn read_u64(idx: usize) -> impl Fn(&Row<'_>) -> rusqlite::Result<u64> {
    move |r| {
        let v: i64 = r.get(idx)?;
        u64::try_from(v).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                idx,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })
    }
}

fn actor_name(id: &str) -> &str {
    team::name_of(id).unwrap_or(id)
}

fn json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(to_sql_error)
}

fn from_json<T: serde::de::DeserializeOwned>(r: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn to_sql_error(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}
