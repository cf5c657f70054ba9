//! The reference server's built-in team. The API key belongs to the first
//! member, who is "me" for `/v1/users/me` and the default owner.

use crate::api::User;

const TEAM: &[(&str, &str, &str)] = &[
    ("usr_8f3c21", "Dana Reyes", "dana@pivotal.app"),
    ("usr_2b7e90", "Sam Okafor", "sam@pivotal.app"),
    ("usr_5d1a44", "Priya Natarajan", "priya@pivotal.app"),
    ("usr_9c0f17", "Lukas Brandt", "lukas@pivotal.app"),
    ("usr_4e6b38", "Mei Tanaka", "mei@pivotal.app"),
    ("usr_7a2d55", "Jordan Ellis", "jordan@pivotal.app"),
];

/// The owner of the server's API key.
pub const ME: &str = "usr_8f3c21";

/// Every member of the team, "me" first.
pub fn members() -> Vec<User> {
    TEAM.iter()
        .map(|(id, name, email)| User {
            id: (*id).to_owned(),
            name: (*name).to_owned(),
            email: (*email).to_owned(),
        })
        .collect()
}

/// The ids of the team, for owner validation and the generator.
pub fn ids() -> impl Iterator<Item = &'static str> {
    TEAM.iter().map(|(id, _, _)| *id)
}

pub fn is_member(id: &str) -> bool {
    ids().any(|m| m == id)
}

pub fn name_of(id: &str) -> Option<&'static str> {
    TEAM.iter().find(|(m, _, _)| *m == id).map(|(_, n, _)| *n)
}
