//! The app and the one queue of changes it shares with the command line
//! and other windows: the store's outbox, reported by the engine, is what
//! the app shows as pending; and where nothing could keep a change, none is
//! accepted.

use crossterm::event::KeyCode;

use super::*;

/// The id of the demo customer `#display_id`.
fn id_of(state: &State, display_id: u64) -> String {
    state
        .model
        .customers
        .iter_ordered()
        .find(|e| e.display_id == display_id)
        .and_then(|e| e.id().map(str::to_owned))
        .expect("in the demo")
}

fn outbox(pending: Vec<OutboxItem>) -> Message {
    Message::Sync(SyncEvent::Outbox {
        pending,
        merges: Vec::new(),
    })
}

fn item(op: OutboxOp) -> OutboxItem {
    OutboxItem {
        key: IdempotencyKey::new(),
        op,
        queued_at: OffsetDateTime::UNIX_EPOCH,
        attempts: 1,
        last_error: Some("connection refused".into()),
    }
}

#[test]
fn a_create_another_window_delivered_leaves_pending_and_a_sync_brings_it() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Quokka Labs");
    let (key, _) = submitted(&press(&mut state, KeyCode::Enter));
    update(&mut state, Message::Sync(SyncEvent::Queued { key }));
    assert!(screen(&state).contains("1 pending"));

    let commands = update(&mut state, outbox(Vec::new()));
    assert_eq!(commands, vec![Command::Sync(SyncCommand::Refresh)]);
    assert!(state.model.outbox.is_empty());
    assert!(state.model.customers.iter_ordered().all(|e| !e.pending));
    assert!(!screen(&state).contains("pending"));
}

#[test]
fn a_change_not_stored_yet_is_not_taken_for_delivered_by_an_older_report() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Quokka Labs");
    let (key, _) = submitted(&press(&mut state, KeyCode::Enter));
    // A report read before the engine stored the change.
    assert!(update(&mut state, outbox(Vec::new())).is_empty());
    assert!(state.model.outbox.contains_key(&key));
    assert!(state.model.customers.iter_ordered().any(|e| e.pending));
}

#[test]
fn an_archive_another_process_queued_shows_here_as_pending_and_undoable() {
    let mut state = demo_app(120, 30);
    let id = id_of(&state, 1052);
    let queued = item(OutboxOp::Archive {
        customer_id: id.clone(),
    });
    update(&mut state, outbox(vec![queued]));
    assert!(
        state.model.customers.get(&id).is_none(),
        "it leaves the list"
    );
    let shown = screen(&state);
    assert!(shown.contains("1 pending (connection refused)"), "{shown}");
    assert_eq!(state.model.archived.len(), 1, "u can undo it");
}

#[test]
fn an_archive_settled_elsewhere_is_no_longer_held_off_the_list() {
    let mut state = demo_app(120, 30);
    let id = id_of(&state, 1052);
    let queued = item(OutboxOp::Archive {
        customer_id: id.clone(),
    });
    update(&mut state, outbox(vec![queued]));
    // The command line delivered it, then the user restored it there.
    update(&mut state, outbox(Vec::new()));
    let restored = state
        .model
        .archived
        .first()
        .map(|a| a.entry.clone())
        .expect("kept for undo");
    let mut customer = demo_customers()
        .into_iter()
        .find(|c| c.id == id)
        .expect("demo");
    customer.updated_at = restored.updated_at + Duration::from_secs(60);
    update(&mut state, page_of(vec![customer]));
    assert!(
        state.model.customers.get(&id).is_some(),
        "a sync shows it again"
    );
}

#[test]
fn with_nowhere_to_keep_a_change_none_is_accepted_and_the_user_is_told() {
    let mut state = demo_app(80, 24);
    state.model.changes_blocked = Some("the local cache cannot be written (disk full)".into());
    assert!(press(&mut state, KeyCode::Char('n')).is_empty());
    assert!(state.modes.form().is_none());
    let shown = screen(&state);
    assert!(
        shown.contains("Changes cannot be made now"),
        "where the user looks: {shown}"
    );
    assert!(press(&mut state, KeyCode::Char('a')).is_empty());
    assert!(state.modes.confirm_archive().is_none());
}

#[test]
fn a_merge_another_process_queued_shows_here_as_one_and_u_undoes_it_whole() {
    let mut state = demo_app(120, 30);
    let entry = |state: &State, display_id: u64| {
        state
            .model
            .customers
            .iter_ordered()
            .find(|e| e.display_id == display_id)
            .cloned()
            .expect("in the demo")
    };
    let keeper = entry(&state, 1003);
    let patch = CustomerPatch {
        plan: crate::api::Patch::Set("Growth".into()),
        ..CustomerPatch::default()
    };
    let losers = [id_of(&state, 1036), id_of(&state, 1052)];
    // As `pivotal customers merge` queues it, in the shared store.
    let mut items = vec![(
        IdempotencyKey::new(),
        OutboxOp::Update {
            customer_id: id_of(&state, 1003),
            patch: patch.clone(),
        },
    )];
    items.extend(losers.iter().map(|id| {
        (
            IdempotencyKey::new(),
            OutboxOp::Archive {
                customer_id: id.clone(),
            },
        )
    }));
    let unit = crate::store::Unit {
        id: IdempotencyKey::new(),
        items,
        merged: losers
            .iter()
            .map(|id| crate::store::MergedInto {
                customer_id: id.clone(),
                keeper_id: id_of(&state, 1003),
                keeper_display_id: 1003,
                at: NOW,
            })
            .collect(),
        unmerged: Vec::new(),
        keeper_back: Some(crate::domain::merge::undo_patch(&keeper, &patch)),
    };
    let mut store = crate::store::Store::open_in_memory().expect("store");
    store.outbox_push_unit(&unit, NOW).expect("queued");
    update(
        &mut state,
        Message::Sync(SyncEvent::Outbox {
            pending: store.outbox_pending().expect("outbox"),
            merges: store.pending_merges().expect("merges"),
        }),
    );
    assert_eq!(entry(&state, 1003).plan.as_deref(), Some("Growth"));
    assert!(screen(&state).contains("Merged into #1003 — u to undo"));

    let commands = press(&mut state, KeyCode::Char('u'));
    let Some(Command::Sync(SyncCommand::SubmitUnit(undo))) = commands.first() else {
        panic!("one unit undoes the merge: {commands:?}");
    };
    let ops: Vec<&OutboxOp> = undo.items.iter().map(|(_, op)| op).collect();
    assert!(
        matches!(
            ops[..],
            [
                OutboxOp::Restore { .. },
                OutboxOp::Restore { .. },
                OutboxOp::Update { .. }
            ]
        ),
        "{ops:?}"
    );
    assert_eq!(entry(&state, 1003).plan.as_deref(), Some("Enterprise"));
}
