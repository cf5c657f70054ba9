//! The cached team (for the owner picker) and "me", the API key's own user
//! (the default owner).
//!
//! Owns the `users` table. Choosing a default owner or filtering "My
//! customers" belongs to the caller, not here.

use rusqlite::{Connection, params};

use super::{Store, StoreError, decode, encode, text};
use crate::api::User;

const TABLE: &str = "users";

impl Store {
    /// Replaces the cached team with `users`, in that order, and remembers
    /// `me`. If `me` is missing from `users` it is added at the end, since
    /// it is always a valid owner.
    pub fn save_users(&mut self, users: &[User], me: &User) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM users", [])?;
        for user in users {
            upsert_user(&tx, user, false)?;
        }
        upsert_user(&tx, me, true)?;
        tx.commit()?;
        Ok(())
    }

    /// The cached team in the order it was saved, and "me" if known. Both
    /// are empty until [`Store::save_users`] is first called.
    pub fn load_users(&self) -> Result<(Vec<User>, Option<User>), StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, body, is_me FROM users ORDER BY rowid")?;
        let mut rows = statement.query([])?;
        let mut team = Vec::new();
        let mut me = None;
        while let Some(row) = rows.next()? {
            let user: User = decode(TABLE, text(row, 0)?, text(row, 1)?)?;
            if row.get(2)? {
                me = Some(user.clone());
            }
            team.push(user);
        }
        Ok((team, me))
    }
}

/// Caches `user`; a second save of the same id keeps its first position
/// and takes the newer body.
fn upsert_user(conn: &Connection, user: &User, is_me: bool) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO users (id, body, is_me) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, is_me = max(is_me, excluded.is_me)",
    )?
    .execute(params![user.id, encode(user)?, is_me])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::user;

    #[test]
    fn a_new_store_knows_no_users() {
        let store = Store::open_in_memory().expect("store");
        assert_eq!(store.load_users().expect("load"), (vec![], None));
    }

    #[test]
    fn the_team_and_me_round_trip_in_order() {
        let mut store = Store::open_in_memory().expect("store");
        let team = vec![user("usr_c"), user("usr_a"), user("usr_b")];
        store.save_users(&team, &team[1]).expect("save");
        assert_eq!(
            store.load_users().expect("load"),
            (team.clone(), Some(user("usr_a")))
        );
    }

    #[test]
    fn saving_again_replaces_the_team_and_me() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .save_users(&[user("usr_a"), user("usr_b")], &user("usr_a"))
            .expect("save");
        let team = vec![user("usr_b"), user("usr_c")];
        store.save_users(&team, &user("usr_c")).expect("save again");
        assert_eq!(
            store.load_users().expect("load"),
            (team, Some(user("usr_c")))
        );
    }

    #[test]
    fn me_is_added_to_the_team_when_missing_from_it() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .save_users(&[user("usr_a")], &user("usr_me"))
            .expect("save");
        assert_eq!(
            store.load_users().expect("load"),
            (vec![user("usr_a"), user("usr_me")], Some(user("usr_me")))
        );
    }
}
