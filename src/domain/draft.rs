//! A customer as typed into a form (or, later, given to the CLI), and the
//! rules that turn it into a request body: the name, domain, plan, tag and
//! custom-field checks of the contract, with one message per problem that is
//! fit to show under the field it concerns.
//!
//! Owns the validation messages and the "only what changed" rule of an edit.
//! Pure: no I/O, no UI types, no knowledge of keys or focus.

use std::collections::{BTreeMap, BTreeSet};

use super::customers::Entry;
use super::host::{DomainError, normalize_domain};
use crate::api::models::{CustomerPatch, NewCustomer, Patch};
use crate::text::has_forbidden_chars;

pub use super::limits::{
    MAX_CUSTOM_FIELDS, MAX_CUSTOM_VALUE_CHARS, MAX_NAME_CHARS, MAX_TAGS, MAX_TEXT_CHARS,
};

/// An editable field of a customer, in form order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Domain,
    Owner,
    Plan,
    Tags,
    CustomFields,
}

impl Field {
    /// Every field, in form order.
    pub const ALL: [Field; 6] = [
        Field::Name,
        Field::Domain,
        Field::Owner,
        Field::Plan,
        Field::Tags,
        Field::CustomFields,
    ];

    /// The field a `422` names in its `param`, if it is one of ours.
    #[must_use]
    pub fn from_param(param: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.param() == param)
    }

    /// The field's name in request bodies and in a `422`'s `param`.
    #[must_use]
    pub fn param(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Domain => "domain",
            Field::Owner => "owner_id",
            Field::Plan => "plan",
            Field::Tags => "tags",
            Field::CustomFields => "custom_fields",
        }
    }
}

/// Why a field's value can't be sent. `Display` is the one sentence shown
/// under the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The name is blank once trimmed.
    #[error("Name is required")]
    NameRequired,
    /// A value longer than the contract allows; `what` starts the sentence.
    #[error("{what} must be at most {max} characters")]
    TooLong { what: &'static str, max: usize },
    /// A control character, line break, tab or invisible formatting character.
    #[error("{what} can't contain control characters")]
    ControlChars { what: &'static str },
    /// The domain is not a host name (see [`DomainError`]).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// More tags than the contract allows.
    #[error("Use at most {max} tags")]
    TooManyTags { max: usize },
    /// A custom-field row without `=`.
    #[error("Write a custom field as key=value")]
    MissingEquals,
    /// A custom-field row such as `=value`.
    #[error("A custom field needs a name before the '='")]
    EmptyKey,
    /// Two custom-field rows with the same name; the later one is flagged.
    #[error("The field name {0} is already used above")]
    DuplicateKey(String),
    /// More custom fields than the contract allows.
    #[error("Use at most {max} custom fields")]
    TooManyCustomFields { max: usize },
}

/// Checks a name: no forbidden characters, then trimmed to 1–200 characters.
///
/// # Errors
///
/// [`FieldError::ControlChars`], [`FieldError::NameRequired`] or
/// [`FieldError::TooLong`].
pub fn validate_name(input: &str) -> Result<String, FieldError> {
    reject_forbidden(input, "Name")?;
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::NameRequired);
    }
    check_length(name, "Name", MAX_NAME_CHARS)?;
    Ok(name.to_owned())
}

/// Normalises a typed domain with [`normalize_domain`]; blank is `None`.
///
/// # Errors
///
/// [`FieldError::ControlChars`] or the [`DomainError`] of the normaliser.
pub fn parse_domain(input: &str) -> Result<Option<String>, FieldError> {
    reject_forbidden(input, "Domain")?;
    Ok(normalize_domain(input)?)
}

/// Checks a plan: no forbidden characters, trimmed, at most 200 characters;
/// blank is `None` (no plan).
///
/// # Errors
///
/// [`FieldError::ControlChars`] or [`FieldError::TooLong`].
pub fn parse_plan(input: &str) -> Result<Option<String>, FieldError> {
    reject_forbidden(input, "Plan")?;
    let plan = input.trim();
    if plan.is_empty() {
        return Ok(None);
    }
    check_length(plan, "Plan", MAX_TEXT_CHARS)?;
    Ok(Some(plan.to_owned()))
}

/// Splits comma-separated tags: each trimmed, empty parts dropped, repeats
/// dropped (first one kept), each at most 200 characters, at most 50 in all.
///
/// # Errors
///
/// [`FieldError::ControlChars`], [`FieldError::TooLong`] or
/// [`FieldError::TooManyTags`].
pub fn parse_tags(input: &str) -> Result<Vec<String>, FieldError> {
    reject_forbidden(input, "Tags")?;
    let mut tags: Vec<String> = Vec::new();
    for tag in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        check_length(tag, "A tag", MAX_TEXT_CHARS)?;
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(FieldError::TooManyTags { max: MAX_TAGS });
    }
    Ok(tags)
}

/// Parses one `key=value` row, split at the first `=`, both sides trimmed.
/// A blank row is `Ok(None)`; an empty value is allowed.
///
/// # Errors
///
/// [`FieldError::ControlChars`], [`FieldError::MissingEquals`],
/// [`FieldError::EmptyKey`] or [`FieldError::TooLong`].
pub fn parse_custom_field(row: &str) -> Result<Option<(String, String)>, FieldError> {
    reject_forbidden(row, "Custom fields")?;
    if row.trim().is_empty() {
        return Ok(None);
    }
    let (key, value) = row.split_once('=').ok_or(FieldError::MissingEquals)?;
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err(FieldError::EmptyKey);
    }
    check_length(key, "A custom field name", MAX_TEXT_CHARS)?;
    check_length(value, "A custom field value", MAX_CUSTOM_VALUE_CHARS)?;
    Ok(Some((key.to_owned(), value.to_owned())))
}

/// Parses every custom-field row into the request's object, skipping blank
/// rows.
///
/// # Errors
///
/// The index of the first bad row and why (see [`custom_field_errors`]).
pub fn parse_custom_fields<S: AsRef<str>>(
    rows: &[S],
) -> Result<BTreeMap<String, String>, (usize, FieldError)> {
    let first_error = custom_field_errors(rows)
        .into_iter()
        .enumerate()
        .find_map(|(index, error)| error.map(|e| (index, e)));
    if let Some(error) = first_error {
        return Err(error);
    }
    Ok(rows
        .iter()
        .filter_map(|row| parse_custom_field(row.as_ref()).ok().flatten())
        .collect())
}

/// The problem of each custom-field row, if any, so that a form can show it
/// under that row: a [`parse_custom_field`] error, [`FieldError::DuplicateKey`]
/// on a row whose name an earlier row already has, or
/// [`FieldError::TooManyCustomFields`] on every row past the limit.
#[must_use]
pub fn custom_field_errors<S: AsRef<str>>(rows: &[S]) -> Vec<Option<FieldError>> {
    let mut seen = BTreeSet::new();
    rows.iter()
        .map(|row| match parse_custom_field(row.as_ref()) {
            Err(error) => Some(error),
            Ok(None) => None,
            Ok(Some((key, _))) if seen.contains(&key) => Some(FieldError::DuplicateKey(key)),
            Ok(Some(_)) if seen.len() == MAX_CUSTOM_FIELDS => {
                Some(FieldError::TooManyCustomFields {
                    max: MAX_CUSTOM_FIELDS,
                })
            }
            Ok(Some((key, _))) => {
                seen.insert(key);
                None
            }
        })
        .collect()
}

fn reject_forbidden(input: &str, what: &'static str) -> Result<(), FieldError> {
    if has_forbidden_chars(input) {
        Err(FieldError::ControlChars { what })
    } else {
        Ok(())
    }
}

fn check_length(value: &str, what: &'static str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        Err(FieldError::TooLong { what, max })
    } else {
        Ok(())
    }
}

/// Every problem of a draft, field by field in form order.
pub type DraftErrors = Vec<(Field, FieldError)>;

/// A customer exactly as typed: the text of each field before any trimming
/// or normalisation, so that a form can be refilled with it after a `422`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    /// The domain as typed; normalised only when the body is built.
    pub domain: String,
    /// The chosen owner; `None` leaves it to the server (the key's user) on
    /// a create, and clears it on an edit.
    pub owner_id: Option<String>,
    pub plan: String,
    /// Comma-separated tags.
    pub tags: String,
    /// One `key=value` row per custom field; blank rows are ignored.
    pub custom_fields: Vec<String>,
}

impl Draft {
    /// Refills a form with a body that was sent (after a `422`, say).
    #[must_use]
    pub fn from_new_customer(customer: &NewCustomer) -> Draft {
        Draft {
            name: customer.name.clone(),
            domain: customer.domain.clone().unwrap_or_default(),
            owner_id: customer.owner_id.clone(),
            plan: customer.plan.clone().unwrap_or_default(),
            tags: customer.tags.join(", "),
            custom_fields: rows(&customer.custom_fields),
        }
    }

    /// Fills a form with a customer, for editing.
    #[must_use]
    pub fn from_entry(entry: &Entry) -> Draft {
        Draft {
            name: entry.name.to_string(),
            domain: entry.domain.as_deref().unwrap_or_default().to_owned(),
            owner_id: entry.owner_id.as_deref().map(str::to_owned),
            plan: entry.plan.as_deref().unwrap_or_default().to_owned(),
            tags: entry.tags.join(", "),
            custom_fields: entry
                .custom_fields
                .iter()
                .map(|(key, value)| row(key, value))
                .collect(),
        }
    }

    /// The body of `POST /v1/customers`, with the domain normalised.
    ///
    /// # Errors
    ///
    /// Every field in error, in form order.
    pub fn to_new_customer(&self) -> Result<NewCustomer, DraftErrors> {
        let mut errors = Vec::new();
        let name = collect(Field::Name, validate_name(&self.name), &mut errors);
        let domain = collect(Field::Domain, parse_domain(&self.domain), &mut errors);
        let plan = collect(Field::Plan, parse_plan(&self.plan), &mut errors);
        let tags = collect(Field::Tags, parse_tags(&self.tags), &mut errors);
        let custom_fields = collect(
            Field::CustomFields,
            parse_custom_fields(&self.custom_fields).map_err(|(_, e)| e),
            &mut errors,
        );
        match (name, domain, plan, tags, custom_fields) {
            (Some(name), Some(domain), Some(plan), Some(tags), Some(custom_fields)) => {
                Ok(NewCustomer {
                    name,
                    domain,
                    owner_id: self.owner_id.clone(),
                    plan,
                    tags,
                    custom_fields,
                })
            }
            _ => Err(errors),
        }
    }

    /// The body of `PATCH /v1/customers/{id}`: only the fields whose value
    /// differs from `original`. A cleared domain, plan or owner is
    /// [`Patch::Clear`].
    ///
    /// A field whose text is exactly what [`Draft::from_entry`] gave is not
    /// checked at all, so a stored value that the rules would reject today
    /// (imported from a CRM, say) never blocks editing another field. An
    /// empty patch means nothing changed.
    ///
    /// # Errors
    ///
    /// Every changed field in error, in form order.
    pub fn to_patch(&self, original: &Entry) -> Result<CustomerPatch, DraftErrors> {
        let base = Draft::from_entry(original);
        let mut errors = Vec::new();
        let mut patch = CustomerPatch {
            owner_id: optional_patch(self.owner_id.clone(), original.owner_id.as_deref()),
            ..CustomerPatch::default()
        };
        if self.name != base.name
            && let Some(name) = collect(Field::Name, validate_name(&self.name), &mut errors)
        {
            patch.name = (name != original.name).then_some(name);
        }
        if self.domain.trim() != base.domain.trim()
            && let Some(domain) = collect(Field::Domain, parse_domain(&self.domain), &mut errors)
        {
            patch.domain = optional_patch(domain, original.domain.as_deref());
        }
        if self.plan.trim() != base.plan.trim()
            && let Some(plan) = collect(Field::Plan, parse_plan(&self.plan), &mut errors)
        {
            patch.plan = optional_patch(plan, original.plan.as_deref());
        }
        if self.tags != base.tags
            && let Some(tags) = collect(Field::Tags, parse_tags(&self.tags), &mut errors)
        {
            let same = tags
                .iter()
                .map(String::as_str)
                .eq(original.tags.iter().map(|t| &**t));
            patch.tags = (!same).then_some(tags);
        }
        if non_blank(&self.custom_fields) != non_blank(&base.custom_fields) {
            let parsed = parse_custom_fields(&self.custom_fields).map_err(|(_, e)| e);
            if let Some(fields) = collect(Field::CustomFields, parsed, &mut errors) {
                let unchanged = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .eq(original.custom_fields.iter().map(|(k, v)| (&**k, &**v)));
                patch.custom_fields = (!unchanged).then_some(fields);
            }
        }
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(errors)
        }
    }
}

/// `key=value`, the way a custom field is typed.
fn row(key: &str, value: &str) -> String {
    format!("{key}={value}")
}

fn rows(fields: &BTreeMap<String, String>) -> Vec<String> {
    fields.iter().map(|(key, value)| row(key, value)).collect()
}

/// The rows that hold something, trimmed, for comparing two drafts.
fn non_blank(rows: &[String]) -> Vec<&str> {
    rows.iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect()
}

/// `Keep` when `new` equals `old`, otherwise `Set` or `Clear`.
fn optional_patch(new: Option<String>, old: Option<&str>) -> Patch<String> {
    match new {
        _ if new.as_deref() == old => Patch::Keep,
        Some(value) => Patch::Set(value),
        None => Patch::Clear,
    }
}

/// The value of `result`, or `None` after noting its error under `field`.
fn collect<T>(field: Field, result: Result<T, FieldError>, errors: &mut DraftErrors) -> Option<T> {
    result.map_err(|e| errors.push((field, e))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::{Customer, Source};
    use time::macros::datetime;

    fn entry() -> Entry {
        Entry::from(Customer {
            id: "cus_1042".into(),
            display_id: 1042,
            name: "Acme Co".into(),
            domain: Some("acme.com".into()),
            owner_id: Some("usr_8f3c21".into()),
            plan: Some("Growth".into()),
            tags: vec!["beta".into(), "emea".into()],
            custom_fields: BTreeMap::from([("region".into(), "EMEA".into())]),
            source: Source::Manual,
            archived: false,
            created_at: datetime!(2026-11-26 10:00 UTC),
            updated_at: datetime!(2026-11-26 10:00 UTC),
        })
    }

    #[test]
    fn a_name_is_trimmed_and_required() {
        assert_eq!(validate_name("  Acme Co "), Ok("Acme Co".to_owned()));
        assert_eq!(validate_name("   "), Err(FieldError::NameRequired));
        assert_eq!(
            FieldError::NameRequired.to_string(),
            "Name is required",
            "the message shown under the field"
        );
    }

    #[test]
    fn a_name_is_at_most_200_characters_after_trimming() {
        let longest = "é".repeat(200);
        assert!(validate_name(&format!("  {longest}  ")).is_ok());
        let err = validate_name(&"é".repeat(201)).expect_err("too long");
        assert_eq!(err.to_string(), "Name must be at most 200 characters");
    }

    #[test]
    fn a_name_refuses_control_characters_anywhere() {
        for input in [
            "Acme\u{7}",
            "Acme\nCo",
            "Acme Co\n",
            "\u{202e}Acme",
            "Ac\u{200b}me",
        ] {
            let err = validate_name(input).expect_err(input);
            assert_eq!(err.to_string(), "Name can't contain control characters");
        }
    }

    #[test]
    fn a_domain_is_normalised_or_explained() {
        assert_eq!(
            parse_domain("https://www.Acme.com/pricing"),
            Ok(Some("acme.com".into()))
        );
        assert_eq!(parse_domain("  "), Ok(None));
        let err = parse_domain("acme").expect_err("no dot");
        assert_eq!(
            err.to_string(),
            "Domain needs at least one dot, like acme.com"
        );
        assert!(matches!(
            parse_domain("acme\u{1b}.com"),
            Err(FieldError::ControlChars { .. })
        ));
    }

    #[test]
    fn a_plan_is_trimmed_and_blank_means_none() {
        assert_eq!(parse_plan(" Growth "), Ok(Some("Growth".into())));
        assert_eq!(parse_plan("   "), Ok(None));
        let err = parse_plan(&"x".repeat(201)).expect_err("too long");
        assert_eq!(err.to_string(), "Plan must be at most 200 characters");
        assert!(parse_plan("Gro\twth").is_err());
    }

    #[test]
    fn tags_are_split_trimmed_and_deduplicated() {
        assert_eq!(
            parse_tags(" beta, emea,,beta , renewal q1 ,"),
            Ok(vec!["beta".into(), "emea".into(), "renewal q1".into()])
        );
        assert_eq!(parse_tags(""), Ok(vec![]));
        assert_eq!(parse_tags(" , ,"), Ok(vec![]));
    }

    #[test]
    fn tags_have_limits_and_no_control_characters() {
        let err = parse_tags(&format!("ok, {}", "t".repeat(201))).expect_err("long tag");
        assert_eq!(err.to_string(), "A tag must be at most 200 characters");
        let many = (0..51)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_tags(&many), Err(FieldError::TooManyTags { max: 50 }));
        let err = parse_tags("beta,\u{7}").expect_err("bell");
        assert_eq!(err.to_string(), "Tags can't contain control characters");
    }

    #[test]
    fn a_custom_field_splits_at_the_first_equals_sign() {
        assert_eq!(
            parse_custom_field(" url = https://x.io/?a=b "),
            Ok(Some(("url".into(), "https://x.io/?a=b".into())))
        );
        assert_eq!(
            parse_custom_field("seats="),
            Ok(Some(("seats".into(), String::new())))
        );
        assert_eq!(parse_custom_field("   "), Ok(None));
    }

    #[test]
    fn a_custom_field_needs_an_equals_sign_and_a_name() {
        let missing = parse_custom_field("region").expect_err("no =");
        assert_eq!(missing.to_string(), "Write a custom field as key=value");
        let empty = parse_custom_field(" =EMEA").expect_err("no key");
        assert_eq!(
            empty.to_string(),
            "A custom field needs a name before the '='"
        );
        assert!(parse_custom_field(&format!("k={}", "v".repeat(1001))).is_err());
    }

    #[test]
    fn custom_field_rows_report_the_row_in_error() {
        let rows = ["region=EMEA", "", "seats=12"];
        let fields = parse_custom_fields(&rows).expect("valid");
        assert_eq!(fields.len(), 2);
        assert_eq!(
            parse_custom_fields(&["region=EMEA", "oops"]),
            Err((1, FieldError::MissingEquals))
        );
        let (row, err) = parse_custom_fields(&["a=1", "b=2", " a =3"]).expect_err("twice");
        assert_eq!(row, 2);
        assert_eq!(err.to_string(), "The field name a is already used above");
        assert_eq!(
            custom_field_errors(&["a=1", "b", "a=2", ""]),
            [
                None,
                Some(FieldError::MissingEquals),
                Some(FieldError::DuplicateKey("a".into())),
                None
            ]
        );
    }

    #[test]
    fn params_name_their_fields() {
        for field in Field::ALL {
            assert_eq!(Field::from_param(field.param()), Some(field));
        }
        assert_eq!(Field::from_param("owner_id"), Some(Field::Owner));
        assert_eq!(
            Field::from_param("custom_fields"),
            Some(Field::CustomFields)
        );
        assert_eq!(Field::from_param("health_score"), None);
    }

    #[test]
    fn a_new_customer_carries_the_normalised_domain() {
        let draft = Draft {
            name: " Acme Co ".into(),
            domain: "https://www.Acme.com/pricing".into(),
            owner_id: Some("usr_8f3c21".into()),
            plan: "  ".into(),
            tags: "beta, emea".into(),
            custom_fields: vec!["region=EMEA".into(), String::new()],
        };
        let body = draft.to_new_customer().expect("valid");
        assert_eq!(body.name, "Acme Co");
        assert_eq!(body.domain.as_deref(), Some("acme.com"));
        assert_eq!(body.plan, None);
        assert_eq!(body.tags, ["beta", "emea"]);
        assert_eq!(body.custom_fields["region"], "EMEA");
        assert_eq!(Draft::from_new_customer(&body).domain, "acme.com");
    }

    #[test]
    fn a_new_customer_reports_every_field_in_error_in_order() {
        let draft = Draft {
            domain: "acme".into(),
            tags: "\u{7}".into(),
            custom_fields: vec!["x".into()],
            ..Draft::default()
        };
        let fields: Vec<Field> = draft
            .to_new_customer()
            .expect_err("invalid")
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(
            fields,
            [Field::Name, Field::Domain, Field::Tags, Field::CustomFields]
        );
    }

    #[test]
    fn an_unchanged_draft_patches_nothing() {
        let original = entry();
        let patch = Draft::from_entry(&original)
            .to_patch(&original)
            .expect("valid");
        assert!(patch.is_empty(), "{patch:?}");
    }

    #[test]
    fn a_patch_holds_only_the_changed_fields() {
        let original = entry();
        let draft = Draft {
            name: "Acme Corporation".into(),
            plan: " ".into(),
            tags: "emea, beta".into(),
            custom_fields: vec!["region=EMEA".into(), "seats=12".into()],
            ..Draft::from_entry(&original)
        };
        let patch = draft.to_patch(&original).expect("valid");
        assert_eq!(
            patch,
            CustomerPatch {
                name: Some("Acme Corporation".into()),
                plan: Patch::Clear,
                tags: Some(vec!["emea".into(), "beta".into()]),
                custom_fields: Some(BTreeMap::from([
                    ("region".into(), "EMEA".into()),
                    ("seats".into(), "12".into()),
                ])),
                ..CustomerPatch::default()
            }
        );
    }

    #[test]
    fn a_patch_clears_the_owner_and_sets_a_normalised_domain() {
        let original = entry();
        let draft = Draft {
            domain: "https://Acme.io/".into(),
            owner_id: None,
            ..Draft::from_entry(&original)
        };
        let patch = draft.to_patch(&original).expect("valid");
        assert_eq!(patch.domain, Patch::Set("acme.io".into()));
        assert_eq!(patch.owner_id, Patch::Clear);
        assert_eq!(patch.name, None);
    }

    #[test]
    fn retyping_a_value_in_another_spelling_is_no_change() {
        let original = entry();
        let draft = Draft {
            name: "Acme Co  ".into(),
            domain: "WWW.acme.com".into(),
            tags: "beta,emea,beta".into(),
            ..Draft::from_entry(&original)
        };
        assert!(draft.to_patch(&original).expect("valid").is_empty());
    }

    #[test]
    fn an_invalid_stored_value_does_not_block_editing_another_field() {
        let mut original = entry();
        original.domain = Some("Acme".into());
        let draft = Draft {
            name: "Acme Two".into(),
            ..Draft::from_entry(&original)
        };
        let patch = draft.to_patch(&original).expect("domain untouched");
        assert_eq!(patch.name.as_deref(), Some("Acme Two"));
        assert!(patch.domain.is_keep());

        let cleared = Draft {
            name: String::new(),
            ..Draft::from_entry(&original)
        };
        let errors = cleared.to_patch(&original).expect_err("name cleared");
        assert_eq!(errors, [(Field::Name, FieldError::NameRequired)]);
    }
}
