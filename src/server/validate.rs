//! Turns request bodies into validated values, with the contract's `400` for
//! malformed requests and `422 validation_failed` (naming `param`) for bad
//! fields. Field rules live here and nowhere else in the server.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::HttpError;
use super::team;
use crate::api::{CustomerPatch, NewCustomer, Patch};
use crate::domain::{has_forbidden_chars, validate_host};

use crate::domain::limits::{
    MAX_CUSTOM_FIELDS, MAX_CUSTOM_VALUE_CHARS as MAX_CUSTOM_VALUE, MAX_NAME_CHARS as MAX_NAME,
    MAX_TAGS, MAX_TEXT_CHARS as MAX_TEXT,
};

const CREATE_FIELDS: &[&str] = &[
    "name",
    "domain",
    "owner_id",
    "plan",
    "tags",
    "custom_fields",
];

/// Parses a JSON request body into an object, or a `400`.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, HttpError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(HttpError::bad_request(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(HttpError::bad_request(format!(
            "The request body is not valid JSON: {e}."
        ))),
    }
}

fn reject_unknown_fields(body: &Map<String, Value>) -> Result<(), HttpError> {
    match body.keys().find(|k| !CREATE_FIELDS.contains(&k.as_str())) {
        Some(k) => Err(HttpError::bad_request(format!(
            "Unknown field `{k}`; the editable fields are {}.",
            CREATE_FIELDS.join(", ")
        ))
        .with_param(k)),
        None => Ok(()),
    }
}

/// Validates the body of `POST /v1/customers`. An omitted owner is `me`.
pub fn new_customer(body: &Map<String, Value>) -> Result<NewCustomer, HttpError> {
    reject_unknown_fields(body)?;
    let name = match body.get("name") {
        None | Some(Value::Null) => return Err(HttpError::validation("name", "Name is required.")),
        Some(v) => name(v)?,
    };
    Ok(NewCustomer {
        name,
        domain: optional(body, "domain", domain)?,
        owner_id: Some(optional(body, "owner_id", owner)?.unwrap_or_else(|| team::ME.to_owned())),
        plan: optional(body, "plan", plan)?,
        tags: body.get("tags").map(tags).transpose()?.unwrap_or_default(),
        custom_fields: body
            .get("custom_fields")
            .map(custom_fields)
            .transpose()?
            .unwrap_or_default(),
    })
}

/// Validates the body of `PATCH /v1/customers/{id}`: only fields present
/// change, and `null` clears the nullable ones.
pub fn patch(body: &Map<String, Value>) -> Result<CustomerPatch, HttpError> {
    reject_unknown_fields(body)?;
    let name = match body.get("name") {
        None => None,
        Some(Value::Null) => {
            return Err(HttpError::validation(
                "name",
                "Name can't be removed, only changed.",
            ));
        }
        Some(v) => Some(name(v)?),
    };
    Ok(CustomerPatch {
        name,
        domain: patch_field(body, "domain", domain)?,
        owner_id: patch_field(body, "owner_id", owner)?,
        plan: patch_field(body, "plan", plan)?,
        tags: body.get("tags").map(tags).transpose()?,
        custom_fields: body.get("custom_fields").map(custom_fields).transpose()?,
    })
}

type FieldRule = fn(&Value) -> Result<String, HttpError>;

fn optional(
    body: &Map<String, Value>,
    key: &str,
    rule: FieldRule,
) -> Result<Option<String>, HttpError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => rule(v).map(Some),
    }
}

fn patch_field(
    body: &Map<String, Value>,
    key: &str,
    rule: FieldRule,
) -> Result<Patch<String>, HttpError> {
    match body.get(key) {
        None => Ok(Patch::Keep),
        Some(Value::Null) => Ok(Patch::Clear),
        Some(v) => rule(v).map(Patch::Set),
    }
}

fn string<'a>(v: &'a Value, param: &str, label: &str) -> Result<&'a str, HttpError> {
    v.as_str()
        .ok_or_else(|| HttpError::validation(param, format!("{label} must be a string.")))
}

fn clean_text(s: &str, param: &str, label: &str, max: usize) -> Result<String, HttpError> {
    if has_forbidden_chars(s) {
        return Err(HttpError::validation(
            param,
            format!("{label} must not contain control or invisible formatting characters."),
        ));
    }
    let trimmed = s.trim();
    if trimmed.chars().count() > max {
        return Err(HttpError::validation(
            param,
            format!("{label} must be at most {max} characters."),
        ));
    }
    Ok(trimmed.to_owned())
}

fn name(v: &Value) -> Result<String, HttpError> {
    let name = clean_text(string(v, "name", "Name")?, "name", "Name", MAX_NAME)?;
    if name.is_empty() {
        return Err(HttpError::validation("name", "Name is required."));
    }
    Ok(name)
}

fn domain(v: &Value) -> Result<String, HttpError> {
    let s = string(v, "domain", "Domain")?;
    validate_host(s).map_err(|e| HttpError::validation("domain", e.to_string()))?;
    Ok(s.to_owned())
}

fn owner(v: &Value) -> Result<String, HttpError> {
    let id = string(v, "owner_id", "Owner")?;
    if !team::is_member(id) {
        return Err(HttpError::validation(
            "owner_id",
            "Owner is not a member of this team; see GET /v1/users.",
        ));
    }
    Ok(id.to_owned())
}

fn plan(v: &Value) -> Result<String, HttpError> {
    let plan = clean_text(string(v, "plan", "Plan")?, "plan", "Plan", MAX_TEXT)?;
    if plan.is_empty() {
        return Err(HttpError::validation(
            "plan",
            "Plan can't be blank; send null to clear it.",
        ));
    }
    Ok(plan)
}

fn tags(v: &Value) -> Result<Vec<String>, HttpError> {
    let items = v
        .as_array()
        .ok_or_else(|| HttpError::validation("tags", "Tags must be a list of strings."))?;
    if items.len() > MAX_TAGS {
        return Err(HttpError::validation(
            "tags",
            format!("At most {MAX_TAGS} tags."),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let tag = clean_text(string(item, "tags", "Each tag")?, "tags", "A tag", MAX_TEXT)?;
        if tag.is_empty() {
            return Err(HttpError::validation("tags", "Tags can't be blank."));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

fn custom_fields(v: &Value) -> Result<BTreeMap<String, String>, HttpError> {
    let param = "custom_fields";
    let map = v.as_object().ok_or_else(|| {
        HttpError::validation(param, "Custom fields must be an object of string values.")
    })?;
    if map.len() > MAX_CUSTOM_FIELDS {
        return Err(HttpError::validation(
            param,
            format!("At most {MAX_CUSTOM_FIELDS} custom fields."),
        ));
    }
    let mut fields = BTreeMap::new();
    for (key, value) in map {
        let key = clean_text(key, param, "A custom field name", MAX_TEXT)?;
        if key.is_empty() {
            return Err(HttpError::validation(
                param,
                "Custom field names can't be blank.",
            ));
        }
        let label = format!("Custom field `{key}`");
        let value = clean_text(
            string(value, param, &label)?,
            param,
            &label,
            MAX_CUSTOM_VALUE,
        )?;
        fields.insert(key, value);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn param_of(r: Result<impl std::fmt::Debug, HttpError>) -> Option<String> {
        r.expect_err("should fail").param
    }

    #[test]
    fn create_needs_a_name_and_defaults_the_owner_to_me() {
        assert_eq!(
            param_of(new_customer(&obj(json!({})))).as_deref(),
            Some("name")
        );
        assert_eq!(
            param_of(new_customer(&obj(json!({"name": "  "})))).as_deref(),
            Some("name")
        );
        let c = new_customer(&obj(json!({"name": "  Acme  "}))).expect("valid");
        assert_eq!(c.name, "Acme");
        assert_eq!(c.owner_id.as_deref(), Some(team::ME));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (json!({"name": "a\u{1b}[31m"}), "name"),
            (json!({"name": "x".repeat(201)}), "name"),
            (json!({"name": "A", "domain": "https://acme.com"}), "domain"),
            (json!({"name": "A", "domain": "Acme.com"}), "domain"),
            (json!({"name": "A", "owner_id": "usr_nobody"}), "owner_id"),
            (json!({"name": "A", "plan": 3}), "plan"),
            (json!({"name": "A", "tags": "beta"}), "tags"),
            (
                json!({"name": "A", "custom_fields": {"seats": 12}}),
                "custom_fields",
            ),
        ];
        for (body, param) in cases {
            let err = new_customer(&obj(body.clone())).expect_err("should fail");
            assert_eq!(err.status, 422, "{body}");
            assert_eq!(err.param.as_deref(), Some(param), "{body}");
        }
    }

    #[test]
    fn unknown_fields_are_a_bad_request() {
        let err = new_customer(&obj(json!({"name": "A", "display_id": 3}))).expect_err("fails");
        assert_eq!(err.status, 400);
        assert_eq!(err.param.as_deref(), Some("display_id"));
    }

    #[test]
    fn patch_distinguishes_absent_null_and_set() {
        let p = patch(&obj(json!({"plan": null, "domain": "acme.com"}))).expect("valid");
        assert_eq!(p.plan, Patch::Clear);
        assert_eq!(p.domain, Patch::Set("acme.com".into()));
        assert_eq!(p.owner_id, Patch::Keep);
        assert_eq!(
            param_of(patch(&obj(json!({"name": null})))).as_deref(),
            Some("name")
        );
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let c = new_customer(&obj(
            json!({"name": "A", "tags": [" beta", "beta", "emea"]}),
        ))
        .expect("valid");
        assert_eq!(c.tags, vec!["beta", "emea"]);
    }
}
