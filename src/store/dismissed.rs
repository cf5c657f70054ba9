//! Groups of duplicates the user marked "not a duplicate" (migration 5),
//! kept per account across restarts, each with the members it had then, so
//! that a group which gains a member comes back (the rule is the UI's; this
//! only keeps the record).
//!
//! Keys are group keys: a domain group's duplicate key (`acme.com`), or a
//! likely group's `name/` and its name key (`name/atlasbridge security`).
//! A duplicate key never holds a `/`, so the `name/` namespace can never
//! meet a domain, and rows kept before likely groups existed read as they
//! were.
//!
//! Owns the `dismissed` table; deciding what is hidden belongs elsewhere.

use rusqlite::params;
use time::OffsetDateTime;

use super::{Store, StoreError, encode, micros, text};

/// A dismissed group: its duplicate key and its members' ids then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dismissed {
    pub key: String,
    pub members: Vec<String>,
}

impl Store {
    /// Marks the group `key` as not a duplicate, with its members now
    /// (replacing an earlier mark).
    pub fn dismiss(&mut self, group: &Dismissed, at: OffsetDateTime) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO dismissed (key, members, dismissed_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![group.key, encode(&group.members)?, micros(at)])?;
        Ok(())
    }

    /// Forgets the mark on `key` (undo).
    pub fn undismiss(&mut self, key: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM dismissed WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }

    /// Every dismissed group. A row this build cannot read is skipped (the
    /// group shows as a duplicate again, which loses nothing).
    pub fn dismissed(&self) -> Result<Vec<Dismissed>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT key, members FROM dismissed ORDER BY key")?;
        let mut rows = statement.query([])?;
        let mut groups = Vec::new();
        while let Some(row) = rows.next()? {
            let Ok(members) = serde_json::from_str(text(row, 1)?) else {
                continue;
            };
            groups.push(Dismissed {
                key: text(row, 0)?.to_owned(),
                members,
            });
        }
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::at;

    #[test]
    fn a_dismissed_group_is_kept_across_reopening_and_undo_forgets_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.sqlite3");
        let group = Dismissed {
            key: "acme.com".into(),
            members: vec!["cus_1".into(), "cus_2".into()],
        };
        let mut store = Store::open(&path).expect("open");
        store.dismiss(&group, at(1)).expect("dismiss");
        drop(store);
        let mut store = Store::open(&path).expect("reopen");
        assert_eq!(store.dismissed().expect("read"), vec![group]);
        store.undismiss("acme.com").expect("undo");
        assert!(store.dismissed().expect("read").is_empty());
    }

    #[test]
    fn a_name_group_and_a_domain_group_are_kept_apart() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = Store::open(&dir.path().join("a.sqlite3")).expect("open");
        let domain = Dismissed {
            key: "atlasbridge.com".into(),
            members: vec!["cus_1".into(), "cus_2".into()],
        };
        let name = Dismissed {
            key: crate::domain::customers::name_group_key("atlasbridge.com"),
            members: vec!["cus_3".into(), "cus_4".into()],
        };
        store.dismiss(&domain, at(1)).expect("dismiss");
        store.dismiss(&name, at(2)).expect("dismiss");
        assert_eq!(store.dismissed().expect("read"), vec![domain.clone(), name]);
        store.undismiss("name/atlasbridge.com").expect("undo");
        assert_eq!(store.dismissed().expect("read"), vec![domain]);
    }
}
