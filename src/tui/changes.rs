//! The user's changes on their way to the server: the form session, the
//! optimistic rows shown while an outbox item is pending, and what happens
//! when the server accepts or rejects one. Pure state updates, called from
//! `update`; no I/O.

use std::collections::{BTreeSet, HashSet};

use super::form::{Form, FormContext, FormMode, FormOutcome};
use super::message::Command;
use super::mode::FormSession;
use super::mode::Mode;
use super::state::{PendingChange, State, Submitted};
use super::{finder, merge, triage};
use crate::api::{Customer, CustomerPatch, IdempotencyKey, NewCustomer, Patch};
use crate::domain::{CustomerKey, Draft, Entry, KeyRef, sanitize};
use crate::store::{OutboxItem, OutboxOp, PendingMerge};
use crate::sync::SyncCommand;

/// The set's key of a create that the server has not confirmed yet.
fn pending_create(key: &IdempotencyKey) -> KeyRef<'_> {
    KeyRef::Pending(key)
}

/// Opens the form for a new customer.
pub fn open_create(state: &mut State) {
    if state.refuse_changes() {
        return;
    }
    let form = Form::create(state.model.me.as_deref());
    open(state, form);
}

/// Opens the form on the selected customer, unless it is still pending.
pub fn open_edit(state: &mut State) {
    if state.refuse_changes() {
        return;
    }
    let Some(entry) = state.selected_entry() else {
        return;
    };
    if entry.pending {
        state.flash = Some("This customer is still being saved; edit it once it is.".into());
        return;
    }
    let Some(form) = Form::edit(entry) else {
        return;
    };
    open(state, form);
}

fn open(state: &mut State, form: Form) {
    let mut team: Vec<(String, String)> = state
        .model
        .users
        .iter()
        .map(|(id, name)| (id.clone(), name.clone()))
        .collect();
    team.sort_by_key(|(_, name)| name.to_lowercase());
    let plans: BTreeSet<&str> = state
        .model
        .customers
        .iter_ordered()
        .filter_map(|e| e.plan.as_deref())
        .collect();
    let plans: Vec<String> = plans.into_iter().map(str::to_owned).collect();
    state
        .modes
        .push(Mode::Form(Box::new(FormSession { form, team, plans })));
    state.mark_dirty();
}

/// Passes a key or a paste to the open form and acts on what it decides.
pub fn on_form_input(
    state: &mut State,
    input: impl FnOnce(&mut Form, &FormContext) -> FormOutcome,
) -> Vec<Command> {
    let Some(mut session) = state.modes.take_form() else {
        return Vec::new();
    };
    let outcome = {
        let ctx = FormContext {
            customers: &state.model.customers,
            team: &session.team,
            me: state.model.me.as_deref(),
            plans: &session.plans,
            keymap: &state.keymap,
        };
        input(&mut session.form, &ctx)
    };
    state.mark_dirty();
    match outcome {
        FormOutcome::Continue => {
            state.modes.push(Mode::Form(Box::new(session)));
            Vec::new()
        }
        FormOutcome::Cancelled => {
            open_next_rejected(state);
            Vec::new()
        }
        FormOutcome::JumpTo(id) => {
            if state.model.customers.get(&id).is_some() {
                finder::show(state, id);
                state.modes.open_detail();
            }
            Vec::new()
        }
        FormOutcome::Create { draft, customer } => submit_create(state, draft, customer),
        FormOutcome::Update {
            draft,
            customer_id,
            patch,
        } => match session.form.mode().clone() {
            FormMode::Edit { original, .. } => {
                submit_update(state, draft, *original, customer_id, patch)
            }
            FormMode::Create => Vec::new(),
        },
    }
}

fn submit_create(state: &mut State, draft: Draft, mut customer: NewCustomer) -> Vec<Command> {
    if customer.owner_id.is_none() {
        customer.owner_id = state.model.me.clone();
    }
    let key = IdempotencyKey::new();
    show_pending_create(state, &key, &customer);
    finder::show(state, CustomerKey::Pending(key.clone()));
    state.model.submitted.insert(
        key.clone(),
        Submitted {
            draft,
            mode: FormMode::Create,
        },
    );
    state.model.open_on_delivery = Some(key.clone());
    state
        .model
        .outbox
        .insert(key.clone(), PendingChange::default());
    vec![Command::Sync(SyncCommand::Submit {
        key,
        op: OutboxOp::Create { customer },
    })]
}

fn submit_update(
    state: &mut State,
    draft: Draft,
    original: Entry,
    customer_id: String,
    patch: CustomerPatch,
) -> Vec<Command> {
    let key = IdempotencyKey::new();
    let ellipsis = state.theme.glyphs.ellipsis;
    state.change_note = Some(format!("Saving #{}{ellipsis}", original.display_id));
    show_pending_update(state, &customer_id, &patch);
    state.model.submitted.insert(
        key.clone(),
        Submitted {
            draft,
            mode: FormMode::Edit {
                customer_id: customer_id.clone(),
                original: Box::new(original),
            },
        },
    );
    state
        .model
        .outbox
        .insert(key.clone(), PendingChange::default());
    vec![Command::Sync(SyncCommand::Submit {
        key,
        op: OutboxOp::Update { customer_id, patch },
    })]
}

/// Shows the changes that were still waiting when the app last stopped.
pub fn restore_pending(state: &mut State, pending: Vec<OutboxItem>) {
    for item in pending {
        match &item.op {
            OutboxOp::Create { customer } => show_pending_create(state, &item.key, customer),
            OutboxOp::Update { customer_id, patch } => {
                show_pending_update(state, customer_id, patch);
            }
            OutboxOp::Archive { .. } | OutboxOp::Restore { .. } => {}
        }
        state.model.outbox.insert(
            item.key,
            PendingChange {
                reason: item.last_error.map(|r| sanitize(&r).into_owned()),
                stored: true,
            },
        );
    }
}

/// Takes the outbox as the store has it (the one queue shared with the
/// command line and other windows). A change this app saw stored that is
/// no longer there was settled by another process: it leaves the status
/// line, a create's pending row goes, and a sync is asked for so that the
/// list shows what the server has. A change another process queued shows
/// as pending here too, and a merge it queued is one merge here, undone
/// whole (`merges`, as the store rebuilt them). Returns the commands to
/// send.
pub fn reconcile(
    state: &mut State,
    pending: Vec<OutboxItem>,
    merges: Vec<PendingMerge>,
) -> Vec<Command> {
    let queued: HashSet<&IdempotencyKey> = pending.iter().map(|item| &item.key).collect();
    let vanished: Vec<IdempotencyKey> = state
        .model
        .outbox
        .iter()
        .filter(|(key, change)| change.stored && !queued.contains(key))
        .map(|(key, _)| key.clone())
        .collect();
    for key in &vanished {
        state.model.outbox.remove(key);
        state.model.submitted.remove(key);
        state.model.customers.remove(pending_create(key));
        if state.model.open_on_delivery.as_ref() == Some(key) {
            state.model.open_on_delivery = None;
        }
        triage::settled_elsewhere(state, key);
    }
    let mut new = Vec::new();
    for item in pending {
        match state.model.outbox.get_mut(&item.key) {
            Some(change) => {
                if let Some(reason) = &item.last_error {
                    change.reason = Some(sanitize(reason).into_owned());
                }
            }
            None => new.push(item),
        }
    }
    if !new.is_empty() {
        triage::restore_pending(state, &new);
        merge::restore_pending(state, merges);
        restore_pending(state, new);
    }
    if vanished.is_empty() {
        Vec::new()
    } else {
        vec![Command::Sync(SyncCommand::Refresh)]
    }
}

fn show_pending_create(state: &mut State, key: &IdempotencyKey, customer: &NewCustomer) {
    state
        .model
        .customers
        .apply_entries(vec![Entry::pending_create(customer, key, state.now)]);
}

pub(super) fn show_pending_update(state: &mut State, customer_id: &str, patch: &CustomerPatch) {
    let Some(entry) = state.model.customers.get(customer_id) else {
        return;
    };
    let key = entry.key.clone();
    let mut customer = entry.to_customer();
    patch.apply_to(&mut customer);
    let mut changed = Entry::from(customer).into_pending();
    changed.key = key;
    state.model.customers.apply_entries(vec![changed]);
}

/// The server accepted a change: its record replaces the optimistic row,
/// and a create the user just made is selected and opened. Returns whether
/// it moved the selection.
pub fn delivered(
    state: &mut State,
    key: &IdempotencyKey,
    op: &OutboxOp,
    customer: Customer,
) -> bool {
    state.model.submitted.remove(key);
    if matches!(op, OutboxOp::Create { .. }) {
        state.model.customers.remove(pending_create(key));
    }
    if let OutboxOp::Update { patch, .. } = op {
        let what = what_changed(state, patch);
        let dash = state.theme.glyphs.dash;
        state.change_note = Some(format!("Saved #{}{dash}{what}", customer.display_id));
    }
    let id = CustomerKey::from(customer.id.as_str());
    let display_id = customer.display_id;
    state.model.customers.apply([customer]);
    if state.model.open_on_delivery.as_ref() == Some(key) {
        state.model.open_on_delivery = None;
        if state.model.customers.get(&id).is_some() {
            finder::show(state, id);
            state.modes.open_detail();
            state.flash = Some(format!(
                "Created #{display_id}{}y copies {}",
                state.theme.glyphs.dot,
                state.share_url(display_id)
            ));
            return true;
        }
    }
    false
}

/// The fields a patch changes, as the status line says them: `plan:
/// Enterprise`, `owner: Sam Okafor, tags`.
fn what_changed(state: &State, patch: &CustomerPatch) -> String {
    let set = |label: &str, value: &Patch<String>| match value {
        Patch::Keep => None,
        Patch::Clear => Some(format!("{label} cleared")),
        Patch::Set(v) => Some(format!("{label}: {}", sanitize(v))),
    };
    let owner = match &patch.owner_id {
        Patch::Set(id) => Patch::Set(
            state
                .model
                .users
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.clone()),
        ),
        Patch::Clear => Patch::Clear,
        Patch::Keep => Patch::Keep,
    };
    let parts: Vec<String> = [
        patch
            .name
            .as_ref()
            .map(|n| format!("name: {}", sanitize(n))),
        set("domain", &patch.domain),
        set("owner", &owner),
        set("plan", &patch.plan),
        patch.tags.as_ref().map(|_| "tags".to_owned()),
        patch
            .custom_fields
            .as_ref()
            .map(|_| "custom fields".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "no change".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The server refused a change for good: the row goes back to what the
/// server has, and a form reopens with everything that was typed and the
/// server's message under the field it names.
pub fn rejected(
    state: &mut State,
    key: &IdempotencyKey,
    op: &OutboxOp,
    param: Option<&str>,
    message: &str,
) {
    if state.model.open_on_delivery.as_ref() == Some(key) {
        state.model.open_on_delivery = None;
    }
    if matches!(op, OutboxOp::Update { .. }) {
        state.change_note = None;
    }
    let submitted = state.model.submitted.remove(key);
    let (draft, mode) = match (op, submitted) {
        (_, Some(Submitted { draft, mode })) => (draft, mode),
        (OutboxOp::Create { customer }, None) => {
            (Draft::from_new_customer(customer), FormMode::Create)
        }
        (OutboxOp::Update { customer_id, .. }, None) => {
            match state.model.customers.get(customer_id) {
                Some(entry) => (
                    Draft::from_entry(entry),
                    FormMode::Edit {
                        customer_id: customer_id.clone(),
                        original: Box::new(entry.clone()),
                    },
                ),
                None => return,
            }
        }
        (OutboxOp::Archive { .. } | OutboxOp::Restore { .. }, None) => {
            state.flash = Some(format!("The server refused the change: {message}"));
            return;
        }
    };
    match &mode {
        FormMode::Create => {
            state.model.customers.remove(pending_create(key));
        }
        FormMode::Edit { original, .. } => {
            let mut original = (**original).clone();
            original.pending = false;
            state.model.customers.apply_entries(vec![original]);
        }
    }
    let form = Form::reopen(draft, mode, param, message);
    if state.modes.form().is_some() {
        // Never replace what the user is typing now; this one opens next.
        state.model.reopen_queue.push(form);
        state.flash = Some(format!("The server refused a change: {message}"));
    } else {
        open(state, form);
    }
}

/// After a form closes, opens the next one the server sent back, if any.
pub fn open_next_rejected(state: &mut State) {
    if state.modes.form().is_none() && !state.model.reopen_queue.is_empty() {
        let form = state.model.reopen_queue.remove(0);
        open(state, form);
    }
}
