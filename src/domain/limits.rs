//! How long and how many: the contract's limits on a customer's fields,
//! defined once for the client's checks ([`super::draft`], [`super::host`]),
//! the form's input caps ([`input_cap`]) and the reference server's
//! validation, so that the three can never disagree.

use super::draft::Field;

/// The longest name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest domain (a host name as Pivotal stores it), in characters.
pub const MAX_DOMAIN_CHARS: usize = 253;
/// The longest plan, tag or custom-field name, in characters after trimming.
pub const MAX_TEXT_CHARS: usize = 200;
/// The longest custom-field value, in characters after trimming.
pub const MAX_CUSTOM_VALUE_CHARS: usize = 1000;
/// The most tags one customer may have.
pub const MAX_TAGS: usize = 50;
/// The most custom fields one customer may have.
pub const MAX_CUSTOM_FIELDS: usize = 100;

/// The most characters a form's input for `field` holds: what the API
/// accepts, so typing or pasting more can only be refused later. `Tags` is
/// one line of comma-separated tags (all of them, each at its longest,
/// with `, ` between); a custom field is one `key=value` row; `Owner` is
/// the picker's search, a person's name at most.
#[must_use]
pub const fn input_cap(field: Field) -> usize {
    match field {
        Field::Name | Field::Owner => MAX_NAME_CHARS,
        Field::Domain => MAX_DOMAIN_CHARS,
        Field::Plan => MAX_TEXT_CHARS,
        Field::Tags => MAX_TAGS * (MAX_TEXT_CHARS + 2),
        Field::CustomFields => MAX_TEXT_CHARS + 1 + MAX_CUSTOM_VALUE_CHARS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::draft::{custom_field_errors, parse_tags};

    #[test]
    fn a_full_tags_line_and_a_full_custom_field_row_fit_their_caps() {
        let tags: Vec<String> = (0..MAX_TAGS)
            .map(|i| format!("{i:02}{}", "t".repeat(MAX_TEXT_CHARS - 2)))
            .collect();
        let line = tags.join(", ");
        assert_eq!(parse_tags(&line).map(|t| t.len()), Ok(MAX_TAGS));
        assert!(line.chars().count() <= input_cap(Field::Tags));
        let row = format!(
            "{}={}",
            "k".repeat(MAX_TEXT_CHARS),
            "v".repeat(MAX_CUSTOM_VALUE_CHARS)
        );
        assert_eq!(row.chars().count(), input_cap(Field::CustomFields));
        assert_eq!(custom_field_errors(&[row.as_str()]), vec![None]);
    }
}
