//! Merging a group into its keeper through the real key handling: the
//! result column, the field cursor, taking a field, the one question, the
//! unit sent to the outbox, the next group, the server's answers and undo.

use crossterm::event::KeyCode;

use super::*;
use crate::api::{HistoryEvent, Patch};
use crate::store::Unit;
use crate::tui::merge::is_edit;

/// Every demo history, as the engine would send it, so the keeper rule
/// sees them all.
fn load_all_histories(state: &mut State) {
    let all: Vec<serde_json::Value> = serde_json::from_str(DEMO_CUSTOMERS).expect("demo parses");
    for record in all {
        let mut events: Vec<HistoryEvent> =
            serde_json::from_value(record["history"].clone()).expect("history parses");
        events.reverse();
        update(
            state,
            Message::Sync(SyncEvent::History {
                customer_id: record["id"].as_str().expect("id").to_owned(),
                events,
                fresh: true,
            }),
        );
    }
}

fn unit_of(commands: &[Command]) -> Unit {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Sync(SyncCommand::SubmitUnit(unit)) => Some(unit.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("expected a unit, got {commands:?}"))
}

fn badge_of(state: &State, display_id: u64) -> Option<usize> {
    let entry = state
        .model
        .customers
        .iter_ordered()
        .find(|e| e.display_id == display_id)?;
    state.model.customers.badge(entry)
}

fn entry(state: &State, display_id: u64) -> crate::domain::Entry {
    state
        .model
        .customers
        .iter_ordered()
        .find(|e| e.display_id == display_id)
        .cloned()
        .expect("shown")
}

/// `D`, then `c` on the first group (acme.com, the largest), every
/// history known.
fn comparing_acme(width: u16, height: u16) -> State {
    let mut state = demo_app(width, height);
    load_all_histories(&mut state);
    press(&mut state, KeyCode::Char('D'));
    press(&mut state, KeyCode::Char('c'));
    assert_eq!(
        state.modes.compare().map(|c| c.key.as_str()),
        Some("acme.com")
    );
    state
}

/// Focus #1036 (stripe), cursor on Plan, take it.
fn take_plan_from_1036(state: &mut State) {
    press(state, KeyCode::Right);
    for _ in 0..4 {
        press(state, KeyCode::Char('j'));
    }
    press(state, KeyCode::Char(' '));
}

#[test]
fn the_result_column_fills_blanks_from_the_others_and_marks_where_from() {
    let state = comparing_acme(120, 40);
    let shown = screen(&state);
    for text in [
        "acme.com · 3 records · group 1 of 10",
        "keep #1003: most history (8 events), from hubspot",
        "✓ #1003 Acme Co",
        "Result → #1003",
        "US ←#1036",
        "─ Name",
    ] {
        assert!(shown.contains(text), "{text}\n{shown}");
    }
    insta::assert_snapshot!("merge_result_at_120x40", shown);
}

#[test]
fn at_80_columns_the_focused_record_stands_beside_the_result() {
    let mut state = comparing_acme(80, 24);
    take_plan_from_1036(&mut state);
    let shown = screen(&state);
    for text in [
        "▸ #1036 Acme Corporation",
        "Result → #1003",
        "Growth ←#1036",
    ] {
        assert!(shown.contains(text), "{text}\n{shown}");
    }
    assert!(shown.contains("(taken from #1036)"), "{shown}");
    insta::assert_snapshot!("merge_stacked_at_80x24", shown);
}

#[test]
fn a_merge_asks_once_naming_everything_and_only_y_merges() {
    let mut state = comparing_acme(120, 40);
    take_plan_from_1036(&mut state);
    assert!(press(&mut state, KeyCode::Char('M')).is_empty());
    let shown = screen(&state);
    assert!(
        shown.contains(
            "Merge into #1003 Acme Co: set plan=Growth, set billing_country=US, add tag self-serve; archive #1036, #1052? (y/N)"
        ),
        "{shown}"
    );
    assert!(press(&mut state, KeyCode::Char('n')).is_empty());
    assert_eq!(badge_of(&state, 1003), Some(3), "nothing changed");
    assert!(screen(&state).contains("Not merged"));
}

/// The server's answer to the merge's edit of #1003 (`plan` set), at NOW.
fn edit_applied(state: &mut State, unit: &Unit, plan: Option<&str>) -> Customer {
    let mut answer = demo_customers()
        .into_iter()
        .find(|c| c.display_id == 1003)
        .expect("demo");
    if let Some(plan) = plan {
        answer.plan = Some(plan.into());
    }
    answer.updated_at = NOW;
    update(
        state,
        Message::Sync(SyncEvent::Delivered {
            key: unit.items[0].0.clone(),
            op: unit.items[0].1.clone(),
            customer: answer.clone(),
        }),
    );
    answer
}

#[test]
fn a_merge_is_one_unit_shown_at_once_then_the_next_group_opens_and_u_undoes_it() {
    let mut state = comparing_acme(80, 24);
    take_plan_from_1036(&mut state);
    press(&mut state, KeyCode::Char('M'));
    let unit = unit_of(&press(&mut state, KeyCode::Char('y')));
    let ops: Vec<&OutboxOp> = unit.items.iter().map(|(_, op)| op).collect();
    let [
        OutboxOp::Update { patch, .. },
        OutboxOp::Archive { .. },
        OutboxOp::Archive { .. },
    ] = ops[..]
    else {
        panic!("the edit, then each archive: {ops:?}");
    };
    assert_eq!(patch.plan, Patch::Set("Growth".into()));
    assert_eq!(patch.name, None, "only what changes");
    assert_eq!(unit.merged.len(), 2);
    // The list shows the result at once: losers gone, badge gone, keeper
    // updated and pending.
    assert_eq!(badge_of(&state, 1003), None);
    assert!(
        state
            .model
            .customers
            .iter_ordered()
            .all(|e| e.display_id != 1036)
    );
    let keeper = entry(&state, 1003);
    assert_eq!(
        (keeper.plan.as_deref(), keeper.pending),
        (Some("Growth"), true)
    );
    assert!(keeper.tags.iter().any(|t| &**t == "self-serve"));
    // Compare moved on to the next group by itself.
    let next = state.modes.compare().map(|c| c.key.clone());
    assert!(next.as_deref().is_some_and(|k| k != "acme.com"), "{next:?}");
    assert!(
        screen(&state).contains("group 2 of 10"),
        "{}",
        screen(&state)
    );
    assert!(screen(&state).contains("Merged into #1003 — u to undo"));

    // The server applies the edit.
    edit_applied(&mut state, &unit, Some("Growth"));
    assert!(!entry(&state, 1003).pending);

    // u puts everything back: both records and the keeper's fields.
    let undo = unit_of(&press(&mut state, KeyCode::Char('u')));
    let ops: Vec<&OutboxOp> = undo.items.iter().map(|(_, op)| op).collect();
    let [
        OutboxOp::Restore { .. },
        OutboxOp::Restore { .. },
        OutboxOp::Update { patch, .. },
    ] = ops[..]
    else {
        panic!("restores, then the keeper's fields: {ops:?}");
    };
    assert_eq!(patch.plan, Patch::Set("Enterprise".into()));
    assert_eq!(undo.unmerged.len(), 2);
    assert_eq!(badge_of(&state, 1003), Some(3));
    assert_eq!(entry(&state, 1003).plan.as_deref(), Some("Enterprise"));
    assert!(
        screen(&state).contains("10 groups · 0 done"),
        "{}",
        screen(&state)
    );
}

#[test]
fn undo_leaves_the_keeper_alone_when_someone_changed_it_since() {
    let mut state = comparing_acme(120, 40);
    press(&mut state, KeyCode::Char('M'));
    let unit = unit_of(&press(&mut state, KeyCode::Char('y')));
    let mut answer = edit_applied(&mut state, &unit, None);
    // Someone renames the keeper; a sync brings it.
    answer.name = "Acme Company".into();
    answer.updated_at = NOW + time::Duration::minutes(5);
    update(&mut state, page_of(vec![answer]));
    let undo = unit_of(&press(&mut state, KeyCode::Char('u')));
    assert!(
        undo.items
            .iter()
            .all(|(_, op)| matches!(op, OutboxOp::Restore { .. }))
    );
    assert!(
        screen(&state).contains("#1003 changed since the merge, so its fields stay"),
        "{}",
        screen(&state)
    );
}

/// The store as the engine leaves it after queuing `unit` on the demo
/// account: the cache, the team and the unit in the outbox.
fn store_with(unit: &Unit) -> crate::store::Store {
    let mut store = crate::store::Store::open_in_memory().expect("store");
    let users = team::members();
    store.save_users(&users, &users[0]).expect("users");
    store.apply_page(&demo_customers()).expect("cache");
    store.outbox_push_unit(unit, NOW).expect("queued");
    store
}

/// What Pivotal answers to `item` of `unit`, applied at `at`: the keeper
/// edited, or a loser archived.
fn answer_to(unit: &Unit, item: usize, at: OffsetDateTime) -> Customer {
    let id = |op: &OutboxOp| match op {
        OutboxOp::Update { customer_id, .. } | OutboxOp::Archive { customer_id } => {
            customer_id.clone()
        }
        other => panic!("not a merge's: {other:?}"),
    };
    let op = &unit.items[item].1;
    let mut answer = demo_customers()
        .into_iter()
        .find(|c| c.id == id(op))
        .expect("demo");
    match op {
        OutboxOp::Update { patch, .. } => {
            patch.apply_to(&mut answer);
        }
        _ => answer.archived = true,
    }
    answer.updated_at = at;
    answer
}

/// The app started again on `store` (after a quit, a crash or `kill -9`):
/// the cache, the outbox and its merges, as the engine reads them.
fn restarted_on(store: &crate::store::Store) -> State {
    let mut state = State::new(Theme::colored(), NOW, (120, 40));
    let (users, me) = store.load_users().expect("users");
    update(
        &mut state,
        Message::Sync(SyncEvent::CacheLoaded {
            customers: Box::new(CustomerSet::from_entries(
                store.load_entries().expect("entries"),
            )),
            index: None,
            users,
            me,
            last_synced: Some(NOW),
            pending: store.outbox_pending().expect("outbox"),
            merges: store.pending_merges().expect("merges"),
        }),
    );
    state
}

/// A merge of acme.com's triple taking #1036's plan, made and queued.
fn acme_merge_queued() -> (Unit, crate::store::Store) {
    let mut state = comparing_acme(120, 40);
    take_plan_from_1036(&mut state);
    press(&mut state, KeyCode::Char('M'));
    let unit = unit_of(&press(&mut state, KeyCode::Char('y')));
    let store = store_with(&unit);
    (unit, store)
}

fn ops_of(unit: &Unit) -> Vec<&OutboxOp> {
    unit.items.iter().map(|(_, op)| op).collect()
}

#[test]
fn a_merge_still_pending_at_restart_shows_as_one_and_u_undoes_it_whole() {
    // Killed after Pivotal applied the edit, with both archives waiting.
    let (unit, mut store) = acme_merge_queued();
    store
        .outbox_delivered(&unit.items[0].0, &answer_to(&unit, 0, NOW))
        .expect("edit delivered");
    let mut state = restarted_on(&store);
    assert_eq!(badge_of(&state, 1003), None, "the losers stay off the list");
    assert_eq!(entry(&state, 1003).plan.as_deref(), Some("Growth"));
    assert!(
        screen(&state).contains("Merged into #1003 — u to undo"),
        "{}",
        screen(&state)
    );

    let undo = unit_of(&press(&mut state, KeyCode::Char('u')));
    let [
        OutboxOp::Restore { .. },
        OutboxOp::Restore { .. },
        OutboxOp::Update { customer_id, patch },
    ] = ops_of(&undo)[..]
    else {
        panic!("both restores, then the keeper's fields: {undo:?}");
    };
    assert_eq!(Some(customer_id.as_str()), entry(&state, 1003).id());
    assert_eq!(patch.plan, Patch::Set("Enterprise".into()));
    let fields = patch.custom_fields.as_ref().expect("custom fields back");
    assert!(!fields.contains_key("billing_country"), "{fields:?}");
    assert!(
        !patch
            .tags
            .as_ref()
            .expect("tags back")
            .contains(&"self-serve".into())
    );
    assert_eq!(undo.unmerged.len(), 2);
    assert_eq!(badge_of(&state, 1003), Some(3), "back at once");
    assert_eq!(entry(&state, 1003).plan.as_deref(), Some("Enterprise"));
}

#[test]
fn a_merge_whose_edit_never_left_undoes_whole_after_a_restart_too() {
    let (unit, store) = acme_merge_queued();
    let mut state = restarted_on(&store);
    let keeper = entry(&state, 1003);
    assert_eq!(
        (keeper.plan.as_deref(), keeper.pending),
        (Some("Growth"), true),
        "the waiting edit is shown"
    );
    // Its answer, when it comes, is the merge's: it dates the edit for undo.
    assert!(is_edit(&state, &unit.items[0].0));
    let undo = unit_of(&press(&mut state, KeyCode::Char('u')));
    let ops = ops_of(&undo);
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert!(matches!(
        ops[2],
        OutboxOp::Update { patch, .. } if patch.plan == Patch::Set("Enterprise".into())
    ));
    assert_eq!(badge_of(&state, 1003), Some(3), "back at once");
}

#[test]
fn a_loser_archived_before_the_restart_is_restored_with_the_rest() {
    let (unit, mut store) = acme_merge_queued();
    for item in [0, 1] {
        store
            .outbox_delivered(&unit.items[item].0, &answer_to(&unit, item, NOW))
            .expect("delivered");
    }
    let mut state = restarted_on(&store);
    let undo = unit_of(&press(&mut state, KeyCode::Char('u')));
    let restored: Vec<&str> = ops_of(&undo)
        .into_iter()
        .filter_map(|op| match op {
            OutboxOp::Restore { customer_id } => Some(customer_id.as_str()),
            _ => None,
        })
        .collect();
    let losers: Vec<&str> = unit.merged.iter().map(|m| m.customer_id.as_str()).collect();
    assert_eq!(restored.len(), 2, "{undo:?}");
    assert!(losers.iter().all(|l| restored.contains(l)), "{restored:?}");
    assert!(
        undo.items
            .iter()
            .any(|(_, op)| matches!(op, OutboxOp::Update { .. })),
        "the keeper's fields too"
    );
}

#[test]
fn after_a_restart_undo_still_leaves_a_keeper_someone_changed_since() {
    let (unit, mut store) = acme_merge_queued();
    let edited = answer_to(&unit, 0, NOW);
    store
        .outbox_delivered(&unit.items[0].0, &edited)
        .expect("edit delivered");
    // Someone renames the keeper; a sync brought it before the restart.
    let mut renamed = edited;
    renamed.name = "Acme Company".into();
    renamed.updated_at = NOW + time::Duration::minutes(5);
    store.apply_page(&[renamed]).expect("synced");
    let mut state = restarted_on(&store);
    let undo = unit_of(&press(&mut state, KeyCode::Char('u')));
    assert!(
        ops_of(&undo)
            .iter()
            .all(|op| matches!(op, OutboxOp::Restore { .. })),
        "{undo:?}"
    );
    assert_eq!(undo.items.len(), 2);
    assert!(
        screen(&state).contains("#1003 changed since the merge, so its fields stay"),
        "{}",
        screen(&state)
    );
}

#[test]
fn a_refused_edit_archives_nothing_and_says_why() {
    let mut state = comparing_acme(120, 40);
    press(&mut state, KeyCode::Char('M'));
    let unit = unit_of(&press(&mut state, KeyCode::Char('y')));
    assert_eq!(badge_of(&state, 1003), None);
    update(
        &mut state,
        Message::Sync(SyncEvent::Rejected {
            key: unit.items[0].0.clone(),
            op: unit.items[0].1.clone(),
            status: 422,
            message: "tags: too many".into(),
            param: Some("tags".into()),
        }),
    );
    for (key, op) in &unit.items[1..] {
        update(
            &mut state,
            Message::Sync(SyncEvent::Rejected {
                key: key.clone(),
                op: op.clone(),
                status: 0,
                message: "not sent".into(),
                param: None,
            }),
        );
    }
    assert_eq!(badge_of(&state, 1003), Some(3), "every record is back");
    let keeper = entry(&state, 1003);
    assert!(!keeper.pending);
    assert!(!keeper.tags.iter().any(|t| &**t == "self-serve"));
    assert!(state.modes.form().is_none(), "no form opens for a merge");
    let shown = screen(&state);
    assert!(
        shown.contains("Merge into #1003 refused, nothing archived: tags: too many"),
        "{shown}"
    );
    assert!(state.model.merges.is_empty());
}

#[test]
fn k_makes_the_focused_record_the_keeper() {
    let mut state = comparing_acme(120, 40);
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Char('K'));
    let shown = screen(&state);
    assert!(shown.contains("✓ #1036 Acme Corporation"), "{shown}");
    assert!(shown.contains("Result → #1036"), "{shown}");
    press(&mut state, KeyCode::Char('M'));
    assert!(
        screen(&state).contains("Merge into #1036 Acme Corporation:"),
        "{}",
        screen(&state)
    );
}

#[test]
fn in_d_each_group_opens_with_a_header_and_the_selection_stays_in_sight() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('D'));
    for key in [KeyCode::Char('G'), KeyCode::Char('k'), KeyCode::Char('g')] {
        press(&mut state, key);
        let selected = state.selected_entry().expect("a row").display_id;
        let shown = screen(&state);
        assert!(
            shown.contains(&format!("#{selected} ")),
            "{selected}\n{shown}"
        );
        let first = shown.lines().nth(2).expect("a first row");
        assert!(
            first.contains(" records"),
            "the top row names its group: {shown}"
        );
    }
}

#[test]
fn the_queue_counts_the_groups_done() {
    let mut state = comparing_acme(120, 40);
    press(&mut state, KeyCode::Char('M'));
    press(&mut state, KeyCode::Char('y'));
    let shown = screen(&state);
    assert!(shown.contains("10 groups · 1 done"), "{shown}");
    assert!(shown.contains("· group 2 of 10"), "{shown}");
}

#[test]
fn x_dismisses_a_group_it_leaves_d_and_comes_back_on_u_or_with_a_new_member() {
    let mut state = comparing_acme(120, 40);
    let commands = press(&mut state, KeyCode::Char('x'));
    assert!(
        commands.iter().any(|c| matches!(
            c,
            Command::Sync(SyncCommand::Dismiss(group)) if group.key == "acme.com" && group.members.len() == 3
        )),
        "{commands:?}"
    );
    let next = state.modes.compare().map(|c| c.key.clone());
    assert!(next.as_deref().is_some_and(|k| k != "acme.com"), "{next:?}");
    assert!(!in_rows(&state, 1003), "out of D");
    assert_eq!(badge_of(&state, 1003), Some(3), "the count stays, dimmed");
    assert!(
        screen(&state).contains("10 groups · 1 done"),
        "{}",
        screen(&state)
    );

    let commands = press(&mut state, KeyCode::Char('u'));
    assert!(commands.contains(&Command::Sync(SyncCommand::Undismiss("acme.com".into()))));
    update(&mut state, Message::Tick(NOW));
    assert!(in_rows(&state, 1003), "back in D");

    // Dismissed in an earlier session, read from the store at start.
    let members: Vec<String> = ["1003", "1036", "1052"]
        .iter()
        .map(|d| {
            entry(&state, d.parse().expect("id"))
                .id()
                .expect("id")
                .to_owned()
        })
        .collect();
    update(
        &mut state,
        Message::Sync(SyncEvent::Dismissed {
            groups: vec![crate::store::Dismissed {
                key: "acme.com".into(),
                members,
            }],
            seen: None,
        }),
    );
    assert!(!in_rows(&state, 1003), "dismissed across restarts");
    // A new member brings the group back.
    let newcomer = customer(1099, "Acme Holdings", Some("acme.com"));
    update(&mut state, page_of(vec![newcomer]));
    assert!(
        in_rows(&state, 1003) && in_rows(&state, 1099),
        "it has a new member"
    );
}

#[test]
fn groups_marked_or_revived_by_another_process_follow_the_store_but_never_undo_one_in_flight() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('D'));
    let acme: Vec<String> = [1003, 1036, 1052]
        .iter()
        .map(|&d| entry(&state, d).id().expect("id").to_owned())
        .collect();
    let store_holds = |groups: Vec<crate::store::Dismissed>, seen: u64| {
        Message::Sync(SyncEvent::Dismissed {
            groups,
            seen: Some(seen),
        })
    };
    let acme_dismissed = || {
        vec![crate::store::Dismissed {
            key: "acme.com".into(),
            members: acme.clone(),
        }]
    };

    // `pivotal customers dismiss` in a shell: the next sync run's list.
    update(&mut state, store_holds(acme_dismissed(), 0));
    assert!(!in_rows(&state, 1003), "marked elsewhere, gone from D here");

    // Revived in a second window: the list no longer has it.
    update(&mut state, store_holds(Vec::new(), 0));
    assert!(in_rows(&state, 1003), "revived elsewhere, back in D here");

    // Dismissed here; a list read before the store took that command must
    // not bring the group back, and the one after it agrees.
    press(&mut state, KeyCode::Char('g'));
    assert_eq!(state.selected_entry().map(|e| e.display_id), Some(1003));
    let commands = press(&mut state, KeyCode::Char('x'));
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Sync(SyncCommand::Dismiss(_)))),
        "{commands:?}"
    );
    assert!(!in_rows(&state, 1003));
    update(&mut state, store_holds(Vec::new(), 0));
    assert!(!in_rows(&state, 1003), "a stale list undoes nothing");
    update(&mut state, store_holds(acme_dismissed(), 1));
    assert!(!in_rows(&state, 1003));
    update(&mut state, store_holds(Vec::new(), 1));
    assert!(in_rows(&state, 1003), "then revived elsewhere after all");
}
