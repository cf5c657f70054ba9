//! The form as drawn: fields, errors, the owner picker and the duplicate
//! warning, beside the list and full width, as insta snapshots.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::domain::Draft;
use crate::tui::form::tests::fixtures::{Demo, ME};
use crate::tui::theme::UNICODE;

/// Where the pane goes: the right-hand 50 columns of a wide terminal
/// (as beside the list), or the whole screen.
#[derive(Clone, Copy)]
enum Place {
    SidePane,
    FullWidth,
}

/// The screen and the cursor after drawing `form` on a `width`×`height`
/// terminal.
fn draw(form: &Form, demo: &Demo, (width, height): (u16, u16), place: Place) -> (String, Position) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    let ctx = demo.ctx();
    terminal
        .draw(|frame| {
            let full = frame.area();
            let area = match place {
                Place::SidePane => Rect {
                    x: full.width.saturating_sub(50),
                    width: full.width.min(50),
                    ..full
                },
                Place::FullWidth => full,
            };
            render(form, &ctx, Theme::colored(), frame, area);
        })
        .expect("draws");
    let cursor = terminal.get_cursor_position().expect("cursor");
    (terminal.backend().to_string(), cursor)
}

fn wide(form: &Form, demo: &Demo) -> String {
    draw(form, demo, (120, 40), Place::SidePane).0
}

fn small(form: &Form, demo: &Demo) -> String {
    draw(form, demo, (80, 24), Place::FullWidth).0
}

fn press(form: &mut Form, demo: &Demo, code: KeyCode) {
    form.handle_key(KeyEvent::new(code, KeyModifiers::NONE), &demo.ctx());
}

fn ctrl(form: &mut Form, demo: &Demo, c: char) {
    form.handle_key(
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        &demo.ctx(),
    );
}

fn type_text(form: &mut Form, demo: &Demo, text: &str) {
    for c in text.chars() {
        press(form, demo, KeyCode::Char(c));
    }
}

fn tab(form: &mut Form, demo: &Demo, times: usize) {
    for _ in 0..times {
        press(form, demo, KeyCode::Tab);
    }
}

/// A new customer with every field filled, More expanded, focus on Plan
/// halfway through a completion.
fn filled(demo: &Demo) -> Form {
    let mut form = Form::create(Some(ME));
    type_text(&mut form, demo, "Wildflower Botanicals");
    tab(&mut form, demo, 1);
    type_text(
        &mut form,
        demo,
        "https://www.Wildflower-Botanicals.com/shop",
    );
    tab(&mut form, demo, 1);
    type_text(&mut form, demo, "priya");
    press(&mut form, demo, KeyCode::Enter);
    tab(&mut form, demo, 2);
    press(&mut form, demo, KeyCode::Enter);
    tab(&mut form, demo, 1);
    type_text(&mut form, demo, "beta, emea, beta, renewal-q1");
    tab(&mut form, demo, 1);
    press(&mut form, demo, KeyCode::Enter);
    type_text(&mut form, demo, "region=EMEA");
    tab(&mut form, demo, 1);
    press(&mut form, demo, KeyCode::Enter);
    type_text(&mut form, demo, "seats=40");
    for _ in 0..4 {
        press(&mut form, demo, KeyCode::BackTab);
    }
    type_text(&mut form, demo, "Gr");
    form
}

/// Submitted with a blank name, a bad domain and a bad custom field.
fn with_errors(demo: &Demo) -> Form {
    let mut form = Form::create(Some(ME));
    tab(&mut form, demo, 1);
    type_text(&mut form, demo, "acme_corp.com");
    tab(&mut form, demo, 3);
    press(&mut form, demo, KeyCode::Enter);
    tab(&mut form, demo, 2);
    press(&mut form, demo, KeyCode::Enter);
    type_text(&mut form, demo, "seats");
    ctrl(&mut form, demo, 's');
    form
}

/// A domain three live customers already use.
fn with_duplicate(demo: &Demo) -> Form {
    let mut form = Form::create(Some(ME));
    type_text(&mut form, demo, "Acme Holdings");
    tab(&mut form, demo, 1);
    type_text(&mut form, demo, "https://www.Acme.com/pricing");
    form
}

fn with_picker(demo: &Demo) -> Form {
    let mut form = Form::create(Some(ME));
    type_text(&mut form, demo, "Acme Holdings");
    tab(&mut form, demo, 2);
    press(&mut form, demo, KeyCode::Enter);
    press(&mut form, demo, KeyCode::Down);
    form
}

#[test]
fn an_empty_new_customer_beside_the_list() {
    let demo = Demo::new();
    let form = Form::create(Some(ME));
    let (screen, cursor) = draw(&form, &demo, (120, 40), Place::SidePane);
    insta::assert_snapshot!(screen);
    assert_eq!(cursor, Position::new(74, 2), "in the Name input");
}

#[test]
fn an_empty_new_customer_at_80x24() {
    let demo = Demo::new();
    insta::assert_snapshot!(small(&Form::create(Some(ME)), &demo));
}

#[test]
fn a_filled_form_beside_the_list() {
    let demo = Demo::new();
    insta::assert_snapshot!(wide(&filled(&demo), &demo));
}

#[test]
fn a_filled_form_at_80x24_scrolls_to_the_focused_field() {
    let demo = Demo::new();
    let mut form = filled(&demo);
    insta::assert_snapshot!("filled_80x24_plan", small(&form, &demo));
    // The first Tab takes the plan's completion, then Tab moves on.
    tab(&mut form, &demo, 5);
    assert_eq!(form.focus(), Focus::CustomField(1));
    insta::assert_snapshot!("filled_80x24_last_row", small(&form, &demo));
}

#[test]
fn an_edit_taller_than_the_screen_scrolls_to_the_focused_row() {
    let demo = Demo::new();
    let mut form = Form::edit(demo.entry(1003)).expect("a confirmed customer");
    tab(&mut form, &demo, 4);
    press(&mut form, &demo, KeyCode::Enter);
    tab(&mut form, &demo, 7);
    assert_eq!(form.focus(), Focus::CustomField(5));
    let (screen, cursor) = draw(&form, &demo, (80, 24), Place::FullWidth);
    insta::assert_snapshot!("edit_80x24_last_row", screen);
    assert_eq!(cursor.y, 21, "the focused row is on screen");
    tab(&mut form, &demo, 3);
    assert_eq!(form.focus(), Focus::Domain);
    insta::assert_snapshot!("edit_80x24_back_at_the_top", small(&form, &demo));
}

#[test]
fn without_colour_there_are_no_placeholders() {
    let demo = Demo::new();
    let mut terminal = Terminal::new(TestBackend::new(50, 12)).expect("test terminal");
    let form = Form::create(Some(ME));
    terminal
        .draw(|frame| render(&form, &demo.ctx(), Theme::mono(), frame, frame.area()))
        .expect("draws");
    let screen = terminal.backend().to_string();
    assert!(!screen.contains("e.g."), "{screen}");
    assert!(screen.contains("Dana Reyes (me)"), "{screen}");
}

#[test]
fn errors_show_under_their_fields_beside_the_list() {
    let demo = Demo::new();
    let form = with_errors(&demo);
    let (screen, cursor) = draw(&form, &demo, (120, 40), Place::SidePane);
    insta::assert_snapshot!(screen);
    assert_eq!(cursor, Position::new(74, 2), "back on the first error");
}

#[test]
fn errors_show_under_their_fields_at_80x24() {
    let demo = Demo::new();
    insta::assert_snapshot!(small(&with_errors(&demo), &demo));
}

#[test]
fn a_duplicate_domain_is_flagged_beside_the_list() {
    let demo = Demo::new();
    let mut form = with_duplicate(&demo);
    insta::assert_snapshot!("duplicate_side_pane", wide(&form, &demo));
    press(&mut form, &demo, KeyCode::Enter);
    insta::assert_snapshot!("duplicate_side_pane_confirm", wide(&form, &demo));
}

#[test]
fn a_duplicate_domain_is_flagged_at_80x24() {
    let demo = Demo::new();
    insta::assert_snapshot!(small(&with_duplicate(&demo), &demo));
}

#[test]
fn the_owner_picker_opens_under_owner_beside_the_list() {
    let demo = Demo::new();
    let form = with_picker(&demo);
    let (screen, cursor) = draw(&form, &demo, (120, 40), Place::SidePane);
    insta::assert_snapshot!(screen);
    assert_eq!(cursor, Position::new(74, 6), "in the picker's query");
}

#[test]
fn the_owner_picker_filters_at_80x24() {
    let demo = Demo::new();
    let mut form = with_picker(&demo);
    type_text(&mut form, &demo, "s");
    insta::assert_snapshot!(small(&form, &demo));
}

#[test]
fn an_edit_reopened_after_a_422_at_80x24() {
    let demo = Demo::new();
    let entry = demo.entry(1042);
    let mode = FormMode::Edit {
        customer_id: entry.id().expect("confirmed").to_owned(),
        original: Box::new(entry.clone()),
    };
    let draft = Draft {
        name: "Globex (webinar lead)".into(),
        ..Draft::from_entry(entry)
    };
    let form = Form::reopen(
        draft,
        mode,
        None,
        "This customer changed while you were editing it.",
    );
    insta::assert_snapshot!(small(&form, &demo));
}

#[test]
fn a_long_name_scrolls_inside_its_input_in_a_narrow_pane() {
    let demo = Demo::new();
    let mut form = Form::create(Some(ME));
    let long = "Consolidated Regional Veterinary Partners of the Greater Ohio Valley";
    type_text(&mut form, &demo, long);
    tab(&mut form, &demo, 1);
    type_text(&mut form, &demo, "crvp-ohio.com");
    press(&mut form, &demo, KeyCode::BackTab);
    let (screen, cursor) = draw(&form, &demo, (45, 14), Place::FullWidth);
    insta::assert_snapshot!(screen);
    assert_eq!(
        cursor,
        Position::new(43, 2),
        "at the end of the visible text"
    );
}

#[test]
fn wrapping_keeps_words_whole_and_cuts_only_overlong_ones() {
    assert_eq!(
        wrap("Possible duplicate: acme.com", 12, &UNICODE),
        ["Possible", "duplicate:", "acme.com"]
    );
    assert_eq!(wrap("a verylongword", 6, &UNICODE), ["a", "veryl…"]);
    assert!(wrap("anything", 0, &UNICODE).is_empty());
}

#[test]
fn fitting_cuts_across_spans_with_an_ellipsis() {
    let line = fit(vec![Span::raw("abc"), Span::raw("defg")], 5, &UNICODE);
    assert_eq!(line.to_string(), "abcd…");
    let line = fit(vec![Span::raw("abc"), Span::raw("de")], 5, &UNICODE);
    assert_eq!(line.to_string(), "abcde");
}
