//! The create/edit customer form as a state machine: which field has focus,
//! what is typed in each (one `tui_input::Input` per text field), the owner
//! picker, live validation, the duplicate-domain check and the confirmation
//! prompts. Keys and pastes go in; a [`FormOutcome`] comes out.
//!
//! The field rules themselves live in [`crate::domain::draft`]. This module
//! does no I/O and no rendering: `view::form` draws a `&Form`, and the caller
//! turns an outcome into an API call.
//!
//! Keys (see [`Form::handle_key`]) are the keymap's `Form` rows:
//! `Tab`/`↓` next field, `Shift-Tab`/`↑` previous; `Enter` submits from any
//! text field, `Ctrl-S` from anywhere; `Esc` cancels (asking first when
//! dirty); `Ctrl-O` jumps to the first customer with the same domain;
//! `Ctrl-D` removes a custom-field row. While the owner picker is open its
//! own rows (`OwnerPicker`) come first: `↑`/`↓` choose, `Enter` picks, `Esc`
//! closes it; a key it does not use (`Tab`) closes it and goes to the form. Everything else edits the focused input with
//! readline keys (`Home`/`End`, `Ctrl-A`/`Ctrl-E`, `Ctrl-←`/`→` and
//! `Alt-B`/`Alt-F` word jumps, `Ctrl-W`, `Ctrl-U`, `Ctrl-K`, `Ctrl-Y`).
//!
//! An edit that changes nothing sends nothing: the form stays open and says
//! "Nothing changed", so that a stray `Enter` never closes the user's work.

use super::keymap::Keymap;
use tui_input::Input;

use crate::api::models::{CustomerPatch, NewCustomer};
use crate::domain::draft::{
    DraftErrors, custom_field_errors, parse_domain, parse_plan, parse_tags, validate_name,
};
use crate::domain::limits::input_cap;
use crate::domain::{CustomerKey, CustomerSet, Draft, Entry, Field, sanitize};

mod fields;
mod input;

use fields::insert_into_query;
pub use fields::{OwnerChoice, OwnerPicker, TextField};

/// What the form reads from the rest of the app, borrowed for one call.
#[derive(Debug, Clone, Copy)]
pub struct FormContext<'a> {
    /// The live customers, for the duplicate-domain warning.
    pub customers: &'a CustomerSet,
    /// The team as (user id, display name), sorted by name; names are
    /// already sanitised.
    pub team: &'a [(String, String)],
    /// The user who owns the API key, when known.
    pub me: Option<&'a str>,
    /// The distinct plans already in use, sorted, for completion.
    pub plans: &'a [String],
    /// The keys in force: the form's are rows of the one table.
    pub keymap: &'a Keymap,
}

impl<'a> FormContext<'a> {
    /// The display name of the team member `id`.
    #[must_use]
    pub fn member_name(&self, id: &str) -> Option<&'a str> {
        self.team
            .iter()
            .find(|(member, _)| member == id)
            .map(|(_, name)| name.as_str())
    }
}

/// Whether the form makes a new customer or edits one.
#[derive(Debug, Clone, PartialEq)]
pub enum FormMode {
    Create,
    Edit {
        customer_id: String,
        /// The customer as it was when editing began; the patch is the
        /// difference from it.
        original: Box<Entry>,
    },
}

/// The focusable lines of the form, in order. `Tags`, the custom-field rows
/// and `AddField` are reachable only while the More section is expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Focus {
    Name,
    Domain,
    Owner,
    Plan,
    /// The line that expands and collapses the More section.
    More,
    Tags,
    /// A custom-field row, by index.
    CustomField(usize),
    /// The "+ add field" line.
    AddField,
}

impl Focus {
    /// The customer field this line edits, if any.
    #[must_use]
    pub fn field(self) -> Option<Field> {
        match self {
            Focus::Name => Some(Field::Name),
            Focus::Domain => Some(Field::Domain),
            Focus::Owner => Some(Field::Owner),
            Focus::Plan => Some(Field::Plan),
            Focus::Tags => Some(Field::Tags),
            Focus::CustomField(_) | Focus::AddField => Some(Field::CustomFields),
            Focus::More => None,
        }
    }

    /// True for the lines that hold a text input.
    #[must_use]
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Focus::Name | Focus::Domain | Focus::Plan | Focus::Tags | Focus::CustomField(_)
        )
    }

    /// True for the lines inside the More section.
    fn in_more(self) -> bool {
        matches!(self, Focus::Tags | Focus::CustomField(_) | Focus::AddField)
    }
}

/// A yes/no question the form is waiting on; `y` says yes, any other key no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Close and lose what was typed.
    Discard,
    /// Create although the domain is already used by a live customer.
    CreateAnyway,
}

/// What a key (or paste) asks of the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// Keep the form open; it may have changed.
    Continue,
    /// Close the form; nothing is sent.
    Cancelled,
    /// Send `POST /v1/customers`. `draft` refills the form after a `422`.
    Create { draft: Draft, customer: NewCustomer },
    /// Send `PATCH /v1/customers/{customer_id}` with the changed fields.
    Update {
        draft: Draft,
        customer_id: String,
        patch: CustomerPatch,
    },
    /// Close the form and select this customer (a possible duplicate).
    JumpTo(CustomerKey),
}

/// A message from the server's `422`, shown under `field` (or at the top
/// of the form when `None`) until that field is edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub field: Option<Field>,
    pub message: String,
}

/// Shown when an edit is submitted unchanged.
const NOTHING_CHANGED: &str = "Nothing changed";

/// The create/edit customer form. See the module documentation for keys.
#[derive(Debug, Clone)]
pub struct Form {
    mode: FormMode,
    name: TextField,
    domain: TextField,
    owner_id: Option<String>,
    picker: Option<OwnerPicker>,
    plan: TextField,
    more_expanded: bool,
    tags: TextField,
    custom_fields: Vec<TextField>,
    focus: Focus,
    server_error: Option<ServerError>,
    confirm: Option<Confirm>,
    notice: Option<&'static str>,
    /// The draft the form opened with, for [`Form::is_dirty`]; in edit
    /// mode also the "unchanged, so not checked" reference.
    baseline: Draft,
    /// Refilled after a `422`: it holds the user's typing, so it is dirty.
    reopened: bool,
}

impl Form {
    /// An empty form for a new customer, owned by `me` when known.
    #[must_use]
    pub fn create(me: Option<&str>) -> Form {
        let draft = Draft {
            owner_id: me.map(str::to_owned),
            ..Draft::default()
        };
        Form::from_draft(FormMode::Create, draft.clone(), draft)
    }

    /// A form filled with `entry`, for editing it; `None` for a create the
    /// server has not confirmed (it has no id to send the edit to yet).
    #[must_use]
    pub fn edit(entry: &Entry) -> Option<Form> {
        let draft = Draft::from_entry(entry);
        let mode = FormMode::Edit {
            customer_id: entry.id()?.to_owned(),
            original: Box::new(entry.clone()),
        };
        Some(Form::from_draft(mode, draft.clone(), draft))
    }

    /// The form again after the server refused it with a `422`: everything
    /// as typed, `message` (sanitised) under the field named by `param` (at
    /// the top when `param` is absent or unknown), and focus on that field.
    #[must_use]
    pub fn reopen(draft: Draft, mode: FormMode, param: Option<&str>, message: &str) -> Form {
        let baseline = match &mode {
            FormMode::Create => Draft::default(),
            FormMode::Edit { original, .. } => Draft::from_entry(original),
        };
        let mut form = Form::from_draft(mode, draft, baseline);
        form.reopened = true;
        let field = param.and_then(Field::from_param);
        form.server_error = Some(ServerError {
            field,
            message: sanitize(message).into_owned(),
        });
        if let Some(field) = field {
            form.focus_on(form.focus_of(field));
        }
        form
    }

    fn from_draft(mode: FormMode, draft: Draft, baseline: Draft) -> Form {
        Form {
            mode,
            name: TextField::new(draft.name),
            domain: TextField::new(draft.domain),
            owner_id: draft.owner_id,
            picker: None,
            plan: TextField::new(draft.plan),
            more_expanded: false,
            tags: TextField::new(draft.tags),
            custom_fields: draft
                .custom_fields
                .into_iter()
                .map(TextField::new)
                .collect(),
            focus: Focus::Name,
            server_error: None,
            confirm: None,
            notice: None,
            baseline,
            reopened: false,
        }
    }

    // ----- What the view reads -------------------------------------------

    /// Create or edit, and of which customer.
    #[must_use]
    pub fn mode(&self) -> &FormMode {
        &self.mode
    }

    /// The focused line.
    #[must_use]
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The text field on a line, if the line is one (`Tags` and custom
    /// fields included, expanded or not).
    #[must_use]
    pub fn text_field(&self, focus: Focus) -> Option<&TextField> {
        match focus {
            Focus::Name => Some(&self.name),
            Focus::Domain => Some(&self.domain),
            Focus::Plan => Some(&self.plan),
            Focus::Tags => Some(&self.tags),
            Focus::CustomField(index) => self.custom_fields.get(index),
            Focus::Owner | Focus::More | Focus::AddField => None,
        }
    }

    /// The custom-field rows, in order.
    #[must_use]
    pub fn custom_fields(&self) -> &[TextField] {
        &self.custom_fields
    }

    /// The chosen owner's user id (`None`: the server's default on a create,
    /// no owner on an edit).
    #[must_use]
    pub fn owner_id(&self) -> Option<&str> {
        self.owner_id.as_deref()
    }

    /// The owner picker, while it is open.
    #[must_use]
    pub fn picker(&self) -> Option<&OwnerPicker> {
        self.picker.as_ref()
    }

    /// True while Tags and Custom fields are shown.
    #[must_use]
    pub fn more_expanded(&self) -> bool {
        self.more_expanded
    }

    /// The question waiting for `y`, if any.
    #[must_use]
    pub fn confirmation(&self) -> Option<Confirm> {
        self.confirm
    }

    /// A passing remark such as "Nothing changed".
    #[must_use]
    pub fn notice(&self) -> Option<&'static str> {
        self.notice
    }

    /// The server's `422` message, until its field is edited.
    #[must_use]
    pub fn server_error(&self) -> Option<&ServerError> {
        self.server_error.as_ref()
    }

    /// The domain that will be sent, when it differs from what is typed
    /// (`https://www.Acme.com/pricing` → `acme.com`). An edit's untouched
    /// stored domain is not sent, so it has none.
    #[must_use]
    pub fn normalized_domain(&self) -> Option<String> {
        if self.is_editing() && self.unchanged(Focus::Domain) {
            return None;
        }
        let typed = self.domain.value().trim();
        parse_domain(typed)
            .ok()
            .flatten()
            .filter(|normalized| normalized != typed)
    }

    /// The tags as they will be sent, for chips; empty while in error.
    #[must_use]
    pub fn tag_chips(&self) -> Vec<String> {
        parse_tags(self.tags.value()).unwrap_or_default()
    }

    /// Everything as typed.
    #[must_use]
    pub fn draft(&self) -> Draft {
        Draft {
            name: self.name.value().to_owned(),
            domain: self.domain.value().to_owned(),
            owner_id: self.owner_id.clone(),
            plan: self.plan.value().to_owned(),
            tags: self.tags.value().to_owned(),
            custom_fields: self
                .custom_fields
                .iter()
                .map(|row| row.value().to_owned())
                .collect(),
        }
    }

    /// True when closing would lose something the user typed.
    #[must_use]
    pub fn is_dirty(&self) -> bool {
        self.reopened || self.draft() != self.baseline
    }

    /// The live customers whose domain matches the one being typed, by
    /// `display_id`; never the customer being edited.
    #[must_use]
    pub fn duplicates<'a>(&self, ctx: &FormContext<'a>) -> Vec<&'a Entry> {
        let Ok(Some(key)) = parse_domain(self.domain.value()) else {
            return Vec::new();
        };
        let editing = self.editing_id();
        ctx.customers
            .same_domain(&key)
            .into_iter()
            .filter(|entry| entry.id().is_none_or(|id| Some(id) != editing))
            .collect()
    }

    /// The plans in use that start with what is typed (case-insensitively),
    /// other than exactly what is typed; the first is what `→` accepts.
    #[must_use]
    pub fn plan_completions<'a>(&self, ctx: &FormContext<'a>) -> Vec<&'a str> {
        let typed = self.plan.value().trim_start();
        let prefix = typed.to_lowercase();
        ctx.plans
            .iter()
            .map(String::as_str)
            .filter(|plan| *plan != typed && plan.to_lowercase().starts_with(&prefix))
            .collect()
    }

    /// The rows of the owner picker for its current query: team members
    /// whose name contains it (case-insensitively, also ignoring spaces and
    /// dots, as in `dana.reyes`), and when editing, "no owner" first.
    #[must_use]
    pub fn owner_choices<'a>(&self, ctx: &FormContext<'a>) -> Vec<OwnerChoice<'a>> {
        let query = self
            .picker
            .as_ref()
            .map(|p| p.query.value())
            .unwrap_or_default();
        let nobody = matches!(self.mode, FormMode::Edit { .. }) && query.trim().is_empty();
        let members = ctx
            .team
            .iter()
            .filter(|(_, name)| matches_member(name, query))
            .map(|(id, name)| OwnerChoice::Member { id, name });
        nobody
            .then_some(OwnerChoice::Nobody)
            .into_iter()
            .chain(members)
            .collect()
    }

    fn editing_id(&self) -> Option<&str> {
        match &self.mode {
            FormMode::Create => None,
            FormMode::Edit { customer_id, .. } => Some(customer_id),
        }
    }

    fn is_editing(&self) -> bool {
        matches!(self.mode, FormMode::Edit { .. })
    }

    /// True when a line holds the text the edit began with.
    fn unchanged(&self, focus: Focus) -> bool {
        let base = &self.baseline;
        match focus {
            Focus::Name => self.name.value() == base.name,
            Focus::Domain => self.domain.value().trim() == base.domain.trim(),
            Focus::Plan => self.plan.value().trim() == base.plan.trim(),
            Focus::Tags => self.tags.value() == base.tags,
            _ => false,
        }
    }

    fn check_all(&mut self) {
        for focus in [Focus::Name, Focus::Domain, Focus::Plan, Focus::Tags] {
            self.check(focus);
        }
        self.check_rows();
    }

    /// The first line in error, in form order (collapsed lines included).
    fn first_error(&self) -> Option<Focus> {
        let rows = (0..self.custom_fields.len()).map(Focus::CustomField);
        [Focus::Name, Focus::Domain, Focus::Plan, Focus::Tags]
            .into_iter()
            .chain(rows)
            .find(|&f| self.text_field(f).is_some_and(|t| t.error.is_some()))
    }

    /// Checks everything; sends only a valid form, focusing the first error
    /// otherwise. `confirmed` is the answer to "Create anyway?".
    fn submit(&mut self, ctx: &FormContext, confirmed: bool) -> FormOutcome {
        self.picker = None;
        self.check_all();
        if let Some(focus) = self.first_error() {
            self.focus_on(focus);
            return FormOutcome::Continue;
        }
        let creating = matches!(self.mode, FormMode::Create);
        if creating && !confirmed && !self.duplicates(ctx).is_empty() {
            self.confirm = Some(Confirm::CreateAnyway);
            return FormOutcome::Continue;
        }
        let draft = self.draft();
        let result = match &self.mode {
            FormMode::Create => draft
                .to_new_customer()
                .map(|customer| FormOutcome::Create { draft, customer }),
            FormMode::Edit {
                customer_id,
                original,
            } => draft.to_patch(original).map(|patch| FormOutcome::Update {
                draft,
                customer_id: customer_id.clone(),
                patch,
            }),
        };
        match result {
            Ok(FormOutcome::Update { patch, .. }) if patch.is_empty() => {
                self.notice = Some(NOTHING_CHANGED);
                FormOutcome::Continue
            }
            Ok(outcome) => outcome,
            Err(errors) => {
                self.show_errors(errors);
                FormOutcome::Continue
            }
        }
    }

    /// Puts errors found while building the body under their fields. The
    /// live checks find the same ones first; this is the safety net.
    fn show_errors(&mut self, errors: DraftErrors) {
        let Some(first) = errors.first().map(|(field, _)| self.focus_of(*field)) else {
            return;
        };
        for (field, error) in errors {
            let focus = self.focus_of(field);
            if let Some(text) = self.field_mut(focus) {
                text.error = Some(error);
            } else {
                self.server_error = Some(ServerError {
                    field: Some(field),
                    message: error.to_string(),
                });
            }
        }
        self.focus_on(first);
    }
}

/// Whether a team member's name matches a picker query: a case-insensitive
/// substring, or the same with spaces, dots and other separators ignored
/// (so `dana.reyes` and `danar` find Dana Reyes).
fn matches_member(name: &str, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    if query.is_empty() || name.to_lowercase().contains(&query) {
        return true;
    }
    let squash = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    let squashed = squash(&query);
    !squashed.is_empty() && squash(&name.to_lowercase()).contains(&squashed)
}

/// Pasted text on one line: `\r\n`, line breaks and tabs become one space
/// each; other control characters are dropped.
fn single_line(text: &str) -> String {
    text.replace("\r\n", " ")
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                Some(' ')
            }
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// The rows that hold something, trimmed.
fn non_blank<S: AsRef<str>>(rows: &[S]) -> Vec<&str> {
    rows.iter()
        .map(|r| r.as_ref().trim())
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
