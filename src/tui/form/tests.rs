//! Tests of the form state machine, and demo fixtures shared with the
//! form view's tests.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

/// The demo data as a [`FormContext`], shared by the form's and the view's
/// tests.
pub(crate) mod fixtures {
    use super::FormContext;
    use crate::api::models::Customer;
    use crate::domain::CustomerSet;
    use crate::server::{DEMO_CUSTOMERS, team};

    /// "Me" in the demo: Dana Reyes.
    pub(crate) const ME: &str = "usr_8f3c21";

    /// Owns what a [`FormContext`] borrows.
    pub(crate) struct Demo {
        pub(crate) customers: CustomerSet,
        pub(crate) team: Vec<(String, String)>,
        pub(crate) plans: Vec<String>,
        pub(crate) keymap: crate::tui::keymap::Keymap,
    }

    impl Demo {
        pub(crate) fn new() -> Demo {
            let records: Vec<Customer> =
                serde_json::from_str(DEMO_CUSTOMERS).expect("demo data parses as customers");
            let mut customers = CustomerSet::default();
            customers.apply(records);
            let mut team: Vec<(String, String)> = team::members()
                .into_iter()
                .map(|user| (user.id, user.name))
                .collect();
            team.sort_by(|a, b| a.1.cmp(&b.1));
            let mut plans: Vec<String> = customers
                .iter_ordered()
                .filter_map(|e| e.plan.as_deref().map(str::to_owned))
                .collect();
            plans.sort();
            plans.dedup();
            Demo {
                customers,
                team,
                plans,
                keymap: crate::tui::keymap::Keymap::default(),
            }
        }

        /// The same team and plans with no customers, so no duplicates.
        pub(crate) fn without_customers() -> Demo {
            Demo {
                customers: CustomerSet::default(),
                ..Demo::new()
            }
        }

        pub(crate) fn ctx(&self) -> FormContext<'_> {
            FormContext {
                customers: &self.customers,
                team: &self.team,
                me: Some(ME),
                plans: &self.plans,
                keymap: &self.keymap,
            }
        }

        /// The demo customer with this `display_id`.
        pub(crate) fn entry(&self, display_id: u64) -> &crate::domain::Entry {
            self.customers
                .iter_ordered()
                .find(|e| e.display_id == display_id)
                .expect("a demo customer")
        }
    }
}

mod behaviour {
    use std::collections::BTreeMap;

    use super::fixtures::{Demo, ME};
    use super::*;
    use crate::api::models::Patch;

    fn key(form: &mut Form, ctx: &FormContext, code: KeyCode) -> FormOutcome {
        form.handle_key(KeyEvent::new(code, KeyModifiers::NONE), ctx)
    }

    fn ctrl(form: &mut Form, ctx: &FormContext, c: char) -> FormOutcome {
        form.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL), ctx)
    }

    fn type_text(form: &mut Form, ctx: &FormContext, text: &str) {
        for c in text.chars() {
            assert_eq!(key(form, ctx, KeyCode::Char(c)), FormOutcome::Continue);
        }
    }

    fn tab(form: &mut Form, ctx: &FormContext, times: usize) {
        for _ in 0..times {
            key(form, ctx, KeyCode::Tab);
        }
    }

    fn error(form: &Form, focus: Focus) -> Option<String> {
        form.text_field(focus)?.error().map(ToString::to_string)
    }

    fn value(form: &Form, focus: Focus) -> &str {
        form.text_field(focus).map_or("", TextField::value)
    }

    fn created(outcome: FormOutcome) -> NewCustomer {
        match outcome {
            FormOutcome::Create { customer, .. } => customer,
            other => panic!("expected a create, got {other:?}"),
        }
    }

    #[test]
    fn tab_and_arrows_move_through_the_fields_and_skip_a_collapsed_more() {
        use Focus::*;
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        let mut seen = vec![form.focus()];
        for _ in 0..5 {
            key(&mut form, &ctx, KeyCode::Tab);
            seen.push(form.focus());
        }
        assert_eq!(seen, [Name, Domain, Owner, Plan, More, Name]);
        key(&mut form, &ctx, KeyCode::Up);
        assert_eq!(form.focus(), More);

        key(&mut form, &ctx, KeyCode::Enter);
        assert!(form.more_expanded());
        key(&mut form, &ctx, KeyCode::Down);
        assert_eq!(form.focus(), Tags);
        key(&mut form, &ctx, KeyCode::Down);
        assert_eq!(form.focus(), AddField);
        key(&mut form, &ctx, KeyCode::Down);
        assert_eq!(form.focus(), Name);
        key(&mut form, &ctx, KeyCode::BackTab);
        assert_eq!(form.focus(), AddField);
    }

    #[test]
    fn clearing_the_name_says_it_is_required() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        assert_eq!(error(&form, Focus::Name), None, "no error before typing");
        type_text(&mut form, &ctx, "Acme");
        assert_eq!(error(&form, Focus::Name), None);
        ctrl(&mut form, &ctx, 'u');
        assert_eq!(value(&form, Focus::Name), "");
        assert_eq!(
            error(&form, Focus::Name).as_deref(),
            Some("Name is required")
        );
    }

    #[test]
    fn control_characters_are_refused_and_block_submitting() {
        let demo = Demo::without_customers();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        type_text(&mut form, &ctx, "Acme\u{1b}");
        assert_eq!(
            error(&form, Focus::Name).as_deref(),
            Some("Name can't contain control characters")
        );
        tab(&mut form, &ctx, 3);
        assert_eq!(ctrl(&mut form, &ctx, 's'), FormOutcome::Continue);
        assert_eq!(form.focus(), Focus::Name, "the cursor goes to the error");
    }

    #[test]
    fn submitting_focuses_the_first_field_in_error() {
        let demo = Demo::without_customers();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 1);
        type_text(&mut form, &ctx, "acme");
        tab(&mut form, &ctx, 2);
        assert_eq!(key(&mut form, &ctx, KeyCode::Enter), FormOutcome::Continue);
        assert_eq!(form.focus(), Focus::Name);
        assert_eq!(
            error(&form, Focus::Name).as_deref(),
            Some("Name is required")
        );
        assert_eq!(
            error(&form, Focus::Domain).as_deref(),
            Some("Domain needs at least one dot, like acme.com")
        );
    }

    #[test]
    fn an_error_in_a_collapsed_section_expands_it_on_submit() {
        let demo = Demo::without_customers();
        let ctx = demo.ctx();
        let draft = Draft {
            name: "Acme".into(),
            custom_fields: vec!["region".into()],
            ..Draft::default()
        };
        let mut form = Form::reopen(draft, FormMode::Create, Some("name"), "Try again");
        assert!(!form.more_expanded());
        ctrl(&mut form, &ctx, 's');
        assert!(form.more_expanded());
        assert_eq!(form.focus(), Focus::CustomField(0));
    }

    #[test]
    fn the_normalised_domain_is_previewed_and_is_what_create_carries() {
        let demo = Demo::without_customers();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        type_text(&mut form, &ctx, "Acme Co");
        tab(&mut form, &ctx, 1);
        type_text(&mut form, &ctx, "https://www.Acme.com/pricing");
        assert_eq!(form.normalized_domain().as_deref(), Some("acme.com"));
        let customer = created(key(&mut form, &ctx, KeyCode::Enter));
        assert_eq!(customer.name, "Acme Co");
        assert_eq!(customer.domain.as_deref(), Some("acme.com"));
        assert_eq!(customer.owner_id.as_deref(), Some(ME));
    }

    #[test]
    fn a_domain_typed_already_normalised_has_no_preview() {
        let demo = Demo::without_customers();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 1);
        type_text(&mut form, &ctx, "acme.com");
        assert_eq!(form.normalized_domain(), None);
    }

    #[test]
    fn an_edit_previews_the_domain_only_once_it_is_edited() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let umbrella = demo.entry(1018);
        let mut form = Form::edit(umbrella).expect("a confirmed customer");
        assert_eq!(umbrella.domain.as_deref(), Some("umbrella-health.com:443"));
        assert_eq!(form.normalized_domain(), None, "stored as is, not sent");
        tab(&mut form, &ctx, 1);
        key(&mut form, &ctx, KeyCode::End);
        type_text(&mut form, &ctx, "/");
        assert_eq!(
            form.normalized_domain().as_deref(),
            Some("umbrella-health.com")
        );
        match key(&mut form, &ctx, KeyCode::Enter) {
            FormOutcome::Update { patch, .. } => {
                assert_eq!(patch.domain, Patch::Set("umbrella-health.com".into()));
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn a_duplicate_domain_warns_and_needs_a_second_yes() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        type_text(&mut form, &ctx, "Acme");
        tab(&mut form, &ctx, 1);
        type_text(&mut form, &ctx, "www.ACME.com");
        let ids: Vec<u64> = form.duplicates(&ctx).iter().map(|e| e.display_id).collect();
        assert_eq!(ids, [1003, 1036, 1052]);

        assert_eq!(key(&mut form, &ctx, KeyCode::Enter), FormOutcome::Continue);
        assert_eq!(form.confirmation(), Some(Confirm::CreateAnyway));
        assert_eq!(
            key(&mut form, &ctx, KeyCode::Char('n')),
            FormOutcome::Continue
        );
        assert_eq!(form.confirmation(), None);
        assert_eq!(
            value(&form, Focus::Domain),
            "www.ACME.com",
            "back to the form"
        );

        key(&mut form, &ctx, KeyCode::Enter);
        assert_eq!(form.confirmation(), Some(Confirm::CreateAnyway));
        let customer = created(key(&mut form, &ctx, KeyCode::Char('y')));
        assert_eq!(customer.domain.as_deref(), Some("acme.com"));
    }

    #[test]
    fn ctrl_o_jumps_to_the_first_duplicate() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        assert_eq!(
            ctrl(&mut form, &ctx, 'o'),
            FormOutcome::Continue,
            "none yet"
        );
        tab(&mut form, &ctx, 1);
        type_text(&mut form, &ctx, "acme.com");
        let first = demo.entry(1003).key.clone();
        assert_eq!(ctrl(&mut form, &ctx, 'o'), FormOutcome::JumpTo(first));
    }

    #[test]
    fn editing_a_customer_does_not_warn_about_itself() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let form = Form::edit(demo.entry(1042)).expect("a confirmed customer");
        let ids: Vec<u64> = form.duplicates(&ctx).iter().map(|e| e.display_id).collect();
        assert_eq!(ids, [1008], "Globex's other record, not itself");
    }

    #[test]
    fn escape_asks_before_discarding_only_when_something_was_typed() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        assert!(!form.is_dirty());
        assert_eq!(key(&mut form, &ctx, KeyCode::Esc), FormOutcome::Cancelled);

        type_text(&mut form, &ctx, "A");
        assert!(form.is_dirty());
        assert_eq!(key(&mut form, &ctx, KeyCode::Esc), FormOutcome::Continue);
        assert_eq!(form.confirmation(), Some(Confirm::Discard));
        assert_eq!(key(&mut form, &ctx, KeyCode::Enter), FormOutcome::Continue);
        assert_eq!(form.confirmation(), None, "anything but y keeps the form");
        assert_eq!(value(&form, Focus::Name), "A");

        key(&mut form, &ctx, KeyCode::Esc);
        assert_eq!(
            key(&mut form, &ctx, KeyCode::Char('y')),
            FormOutcome::Cancelled
        );

        let mut edit = Form::edit(demo.entry(1003)).expect("a confirmed customer");
        assert_eq!(key(&mut edit, &ctx, KeyCode::Esc), FormOutcome::Cancelled);
    }

    #[test]
    fn tags_become_chips_without_blanks_or_repeats() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 4);
        key(&mut form, &ctx, KeyCode::Enter);
        tab(&mut form, &ctx, 1);
        assert_eq!(form.focus(), Focus::Tags);
        type_text(&mut form, &ctx, " beta, emea,, beta ,");
        assert_eq!(form.tag_chips(), ["beta", "emea"]);
        assert_eq!(error(&form, Focus::Tags), None);
    }

    #[test]
    fn custom_field_rows_are_added_checked_and_removed() {
        let demo = Demo::without_customers();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        type_text(&mut form, &ctx, "Acme");
        tab(&mut form, &ctx, 4);
        key(&mut form, &ctx, KeyCode::Right);
        tab(&mut form, &ctx, 2);
        assert_eq!(form.focus(), Focus::AddField);

        key(&mut form, &ctx, KeyCode::Enter);
        assert_eq!(form.focus(), Focus::CustomField(0));
        type_text(&mut form, &ctx, "region");
        assert_eq!(
            error(&form, Focus::CustomField(0)).as_deref(),
            Some("Write a custom field as key=value")
        );
        type_text(&mut form, &ctx, "=EMEA");
        assert_eq!(error(&form, Focus::CustomField(0)), None);

        tab(&mut form, &ctx, 1);
        type_text(&mut form, &ctx, "region=NA");
        assert_eq!(
            form.focus(),
            Focus::CustomField(1),
            "typing on + add field adds a row"
        );
        assert_eq!(
            error(&form, Focus::CustomField(1)).as_deref(),
            Some("The field name region is already used above")
        );
        assert_eq!(key(&mut form, &ctx, KeyCode::Enter), FormOutcome::Continue);
        assert_eq!(form.focus(), Focus::CustomField(1));

        ctrl(&mut form, &ctx, 'd');
        assert_eq!(form.custom_fields().len(), 1);
        assert_eq!(form.focus(), Focus::AddField);
        let customer = created(ctrl(&mut form, &ctx, 's'));
        assert_eq!(
            customer.custom_fields,
            BTreeMap::from([("region".to_owned(), "EMEA".to_owned())])
        );
    }

    #[test]
    fn the_owner_picker_filters_by_name_and_picks() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 2);
        type_text(&mut form, &ctx, "pri");
        let picker = form.picker().expect("typing opens the picker");
        assert_eq!(picker.query().value(), "pri");
        assert_eq!(
            form.owner_choices(&ctx),
            [OwnerChoice::Member {
                id: "usr_5d1a44",
                name: "Priya Natarajan"
            }]
        );
        key(&mut form, &ctx, KeyCode::Enter);
        assert!(form.picker().is_none());
        assert_eq!(form.owner_id(), Some("usr_5d1a44"));
        assert_eq!(form.focus(), Focus::Owner);
    }

    #[test]
    fn the_owner_picker_moves_and_escape_closes_it_first() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 2);
        key(&mut form, &ctx, KeyCode::Enter);
        let names: Vec<&str> = form
            .owner_choices(&ctx)
            .iter()
            .filter_map(|c| match c {
                OwnerChoice::Member { name, .. } => Some(*name),
                OwnerChoice::Nobody => None,
            })
            .collect();
        assert_eq!(names.len(), 6);
        assert_eq!(names[0], "Dana Reyes");
        assert_eq!(
            form.picker().map(OwnerPicker::highlighted),
            Some(0),
            "on me"
        );
        key(&mut form, &ctx, KeyCode::Down);
        key(&mut form, &ctx, KeyCode::Down);
        assert_eq!(key(&mut form, &ctx, KeyCode::Esc), FormOutcome::Continue);
        assert!(form.picker().is_none());
        assert_eq!(form.owner_id(), Some(ME), "nothing picked");

        type_text(&mut form, &ctx, "dana.re");
        assert_eq!(form.owner_choices(&ctx).len(), 1, "email-ish query");
    }

    #[test]
    fn the_owner_picker_keys_are_the_keymaps_so_a_rebinding_moves_it() {
        let mut demo = Demo::new();
        let overrides =
            std::collections::BTreeMap::from([("next_match".to_owned(), "ctrl-j".to_owned())]);
        demo.keymap = crate::tui::keymap::Keymap::with_overrides(&overrides).unwrap();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 2);
        key(&mut form, &ctx, KeyCode::Enter);
        ctrl(&mut form, &ctx, 'j');
        assert_eq!(form.picker().map(OwnerPicker::highlighted), Some(1));
        key(&mut form, &ctx, KeyCode::Tab);
        assert!(
            form.picker().is_none(),
            "Tab is not the picker's: it closes"
        );
        assert_eq!(form.focus(), Focus::Plan, "and the form moves on");
        assert_eq!(form.owner_id(), Some(ME), "nothing picked");
    }

    #[test]
    fn an_edit_can_clear_the_owner() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::edit(demo.entry(1003)).expect("a confirmed customer");
        tab(&mut form, &ctx, 2);
        key(&mut form, &ctx, KeyCode::Char(' '));
        assert_eq!(form.owner_choices(&ctx)[0], OwnerChoice::Nobody);
        key(&mut form, &ctx, KeyCode::Up);
        key(&mut form, &ctx, KeyCode::Up);
        key(&mut form, &ctx, KeyCode::Enter);
        assert_eq!(form.owner_id(), None);
        match ctrl(&mut form, &ctx, 's') {
            FormOutcome::Update { patch, .. } => assert_eq!(patch.owner_id, Patch::Clear),
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn right_accepts_the_first_plan_completion() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        tab(&mut form, &ctx, 3);
        type_text(&mut form, &ctx, "gr");
        assert_eq!(form.plan_completions(&ctx), ["Growth", "Growth (legacy)"]);
        key(&mut form, &ctx, KeyCode::Right);
        assert_eq!(value(&form, Focus::Plan), "Growth");
        assert_eq!(form.plan_completions(&ctx), ["Growth (legacy)"]);

        key(&mut form, &ctx, KeyCode::Home);
        key(&mut form, &ctx, KeyCode::Right);
        assert_eq!(
            value(&form, Focus::Plan),
            "Growth",
            "not at the end: moves only"
        );
    }

    #[test]
    fn an_edit_sends_only_the_changed_fields_and_clears_a_blanked_plan() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let acme = demo.entry(1003);
        let mut form = Form::edit(acme).expect("a confirmed customer");
        tab(&mut form, &ctx, 3);
        assert_eq!(value(&form, Focus::Plan), "Enterprise");
        ctrl(&mut form, &ctx, 'u');
        assert!(form.is_dirty());
        let outcome = key(&mut form, &ctx, KeyCode::Enter);
        let FormOutcome::Update {
            customer_id, patch, ..
        } = outcome
        else {
            panic!("expected an update, got {outcome:?}");
        };
        assert_eq!(customer_id, acme.key);
        assert_eq!(
            patch,
            CustomerPatch {
                plan: Patch::Clear,
                ..CustomerPatch::default()
            }
        );
    }

    #[test]
    fn an_unchanged_edit_says_nothing_changed_and_stays_open() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::edit(demo.entry(1018)).expect("a confirmed customer");
        assert_eq!(key(&mut form, &ctx, KeyCode::Enter), FormOutcome::Continue);
        assert_eq!(form.notice(), Some("Nothing changed"));
        key(&mut form, &ctx, KeyCode::Tab);
        assert_eq!(form.notice(), None);
    }

    #[test]
    fn a_422_reopens_with_the_message_under_its_field_and_the_typing_intact() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let draft = Draft {
            name: "Acme".into(),
            domain: "acme.example".into(),
            owner_id: Some(ME.into()),
            plan: "Growth".into(),
            tags: "beta".into(),
            custom_fields: vec!["region=EMEA".into()],
        };
        let message = "Domain \u{1b}[31mis reserved.";
        let mut form = Form::reopen(draft.clone(), FormMode::Create, Some("domain"), message);
        assert_eq!(form.focus(), Focus::Domain);
        assert_eq!(form.draft(), draft);
        assert!(form.is_dirty());
        let shown = form.server_error().expect("the server's message");
        assert_eq!(shown.field, Some(Field::Domain));
        assert_eq!(shown.message, "Domain is reserved.");

        type_text(&mut form, &ctx, "x");
        assert!(form.server_error().is_none(), "editing the field clears it");
    }

    #[test]
    fn a_422_without_a_known_param_shows_at_the_top() {
        let form = Form::reopen(Draft::default(), FormMode::Create, None, "Try later");
        let shown = form.server_error().expect("kept");
        assert_eq!(shown.field, None);
        assert_eq!(form.focus(), Focus::Name);
    }

    #[test]
    fn a_multi_line_paste_lands_on_one_line() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        form.handle_paste("Acme\r\nCo\tLtd\u{7}\n");
        assert_eq!(value(&form, Focus::Name), "Acme Co Ltd ");
        assert_eq!(error(&form, Focus::Name), None);
        key(&mut form, &ctx, KeyCode::Home);
        form.handle_paste("The ");
        assert_eq!(value(&form, Focus::Name), "The Acme Co Ltd ");
    }

    #[test]
    fn no_key_grows_a_full_field_past_its_cap() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        form.handle_paste(&format!("{} tail", "n".repeat(195)));
        assert_eq!(value(&form, Focus::Name).chars().count(), 200);
        ctrl(&mut form, &ctx, 'w');
        type_text(&mut form, &ctx, "abcd");
        // The killed word comes back only if it fits.
        ctrl(&mut form, &ctx, 'y');
        assert_eq!(value(&form, Focus::Name).chars().count(), 200);
        assert!(value(&form, Focus::Name).ends_with("abcd"));
        let note = form.text_field(Focus::Name).and_then(TextField::note);
        assert_eq!(note, Some("at most 200 characters here"));
    }

    #[test]
    fn word_keys_edit_the_focused_input() {
        let demo = Demo::new();
        let ctx = demo.ctx();
        let mut form = Form::create(Some(ME));
        type_text(&mut form, &ctx, "Acme Widget Co");
        ctrl(&mut form, &ctx, 'w');
        assert_eq!(value(&form, Focus::Name), "Acme Widget ");
        form.handle_key(KeyEvent::new(KeyCode::Char('b'), KeyModifiers::ALT), &ctx);
        type_text(&mut form, &ctx, "Big ");
        assert_eq!(value(&form, Focus::Name), "Acme Big Widget ");
    }
}
