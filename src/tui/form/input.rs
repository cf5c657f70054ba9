//! The form's input: keys and pastes, focus movement, the owner picker's
//! keys, custom-field rows and live checks. State changes only; see the
//! module above for the keys.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::*;
use crate::tui::keymap::{Action, KeyMode};

impl Form {
    /// Handles one key press. See the module documentation for the keys.
    pub fn handle_key(&mut self, key: KeyEvent, ctx: &FormContext) -> FormOutcome {
        if key.kind == KeyEventKind::Release {
            return FormOutcome::Continue;
        }
        if let Some(question) = self.confirm.take() {
            return self.answer(question, key, ctx);
        }
        self.notice = None;
        if self.picker.is_some() {
            match self.picker_key(key, ctx) {
                Some(outcome) => return outcome,
                // A key the picker does not use closed it; the form has it.
                None => self.picker = None,
            }
        }
        let action = ctx.keymap.action_for(KeyMode::Form, &key);
        match action {
            Some(Action::Submit) => self.submit(ctx, false),
            Some(Action::OpenDuplicate) => self.jump_to_duplicate(ctx),
            Some(Action::Close | Action::Exit) => self.escape(),
            // Tab completes a plan that shows a completion (as in a
            // shell); the next Tab moves on.
            Some(Action::NextField) if key.code == KeyCode::Tab && self.completes_plan(ctx) => {
                self.accept_plan_completion(ctx);
                FormOutcome::Continue
            }
            Some(Action::NextField) => self.move_focus(true),
            Some(Action::PreviousField) => self.move_focus(false),
            Some(Action::RemoveRow) => {
                if let Focus::CustomField(index) = self.focus {
                    self.remove_row(index);
                }
                FormOutcome::Continue
            }
            _ => self.focused_key(key, ctx),
        }
    }

    /// Inserts pasted text into the focused input (or the picker's query).
    /// Line breaks and tabs become spaces; other control characters are
    /// dropped. Ignored while a question is waiting.
    pub fn handle_paste(&mut self, text: &str) {
        if self.confirm.is_some() {
            return;
        }
        let text = single_line(text);
        if let Some(picker) = &mut self.picker {
            insert_into_query(picker, &text, input_cap(Field::Owner));
            return;
        }
        match self.focus {
            Focus::Owner => self.open_picker(text.trim()),
            Focus::AddField => {
                self.add_row();
                self.paste_into_focus(&text);
            }
            Focus::More => {}
            _ => self.paste_into_focus(&text),
        }
    }

    fn paste_into_focus(&mut self, text: &str) {
        let focus = self.focus;
        let cap = Form::cap(focus);
        if self.field_mut(focus).is_some_and(|f| f.insert(text, cap)) {
            self.edited(focus);
        }
    }

    fn answer(&mut self, question: Confirm, key: KeyEvent, ctx: &FormContext) -> FormOutcome {
        let yes = ctx.keymap.action_for(KeyMode::Confirm, &key) == Some(Action::Yes);
        match (question, yes) {
            (Confirm::Discard, true) => FormOutcome::Cancelled,
            (Confirm::CreateAnyway, true) => self.submit(ctx, true),
            (_, false) => FormOutcome::Continue,
        }
    }

    fn escape(&mut self) -> FormOutcome {
        if self.is_dirty() {
            self.confirm = Some(Confirm::Discard);
            FormOutcome::Continue
        } else {
            FormOutcome::Cancelled
        }
    }

    fn jump_to_duplicate(&mut self, ctx: &FormContext) -> FormOutcome {
        match self.duplicates(ctx).first() {
            Some(entry) => FormOutcome::JumpTo(entry.key.clone()),
            None => FormOutcome::Continue,
        }
    }

    /// A key for the focused line, once the form-wide keys are ruled out.
    fn focused_key(&mut self, key: KeyEvent, ctx: &FormContext) -> FormOutcome {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match (self.focus, key.code) {
            (focus, KeyCode::Enter) if focus.is_text() => return self.submit(ctx, false),
            (Focus::Plan, KeyCode::Right | KeyCode::End)
                if self.plan.cursor_at_end() && !self.plan_completions(ctx).is_empty() =>
            {
                self.accept_plan_completion(ctx);
            }
            (focus, _) if focus.is_text() => self.edit_focused(key),
            (Focus::Owner, KeyCode::Enter | KeyCode::Char(' ')) => {
                self.open_picker("");
                self.highlight_current_owner(ctx);
            }
            (Focus::Owner, KeyCode::Char(c)) if plain => self.open_picker(&c.to_string()),
            (Focus::More, KeyCode::Enter | KeyCode::Char(' ')) => {
                self.more_expanded = !self.more_expanded;
            }
            (Focus::More, KeyCode::Right) => self.more_expanded = true,
            (Focus::More, KeyCode::Left) => self.more_expanded = false,
            (Focus::AddField, KeyCode::Enter) => self.add_row(),
            (Focus::AddField, KeyCode::Char(_)) if plain => {
                self.add_row();
                self.edit_focused(key);
            }
            _ => {}
        }
        FormOutcome::Continue
    }

    fn edit_focused(&mut self, key: KeyEvent) {
        let focus = self.focus;
        let cap = Form::cap(focus);
        if self
            .field_mut(focus)
            .is_some_and(|f| f.handle_key(key, cap))
        {
            self.edited(focus);
        }
    }

    /// The most characters the input on `focus` holds (the API's limit).
    fn cap(focus: Focus) -> usize {
        focus.field().map_or(usize::MAX, input_cap)
    }

    pub(super) fn field_mut(&mut self, focus: Focus) -> Option<&mut TextField> {
        match focus {
            Focus::Name => Some(&mut self.name),
            Focus::Domain => Some(&mut self.domain),
            Focus::Plan => Some(&mut self.plan),
            Focus::Tags => Some(&mut self.tags),
            Focus::CustomField(index) => self.custom_fields.get_mut(index),
            Focus::Owner | Focus::More | Focus::AddField => None,
        }
    }

    /// After a change on `focus`: its server error goes, and it is checked.
    fn edited(&mut self, focus: Focus) {
        if self
            .server_error
            .as_ref()
            .is_some_and(|e| e.field.is_some_and(|f| Some(f) == focus.field()))
        {
            self.server_error = None;
        }
        match focus {
            Focus::CustomField(_) | Focus::AddField => self.check_rows(),
            _ => self.check(focus),
        }
    }

    /// Whether Tab takes the plan's completion: the typed text is the start
    /// of a longer plan in use but not itself a plan in use (so after one
    /// completion, Tab moves on), and the cursor is at its end.
    pub fn completes_plan(&self, ctx: &FormContext) -> bool {
        let typed = self.plan.value().trim_start();
        self.focus == Focus::Plan
            && self.plan.cursor_at_end()
            && !typed.is_empty()
            && !ctx.plans.iter().any(|plan| plan == typed)
            && !self.plan_completions(ctx).is_empty()
    }

    /// Replaces the typed plan with its first completion (fish-style).
    fn accept_plan_completion(&mut self, ctx: &FormContext) {
        if let Some(plan) = self.plan_completions(ctx).first() {
            self.plan.input = Input::new((*plan).to_owned());
            self.edited(Focus::Plan);
        }
    }

    // ----- Focus -------------------------------------------------------------

    /// The focusable lines, in order, as the More section now allows.
    fn focus_order(&self) -> Vec<Focus> {
        let mut order = vec![
            Focus::Name,
            Focus::Domain,
            Focus::Owner,
            Focus::Plan,
            Focus::More,
        ];
        if self.more_expanded {
            order.push(Focus::Tags);
            order.extend((0..self.custom_fields.len()).map(Focus::CustomField));
            order.push(Focus::AddField);
        }
        order
    }

    /// Moves to the next (or previous) line, wrapping around.
    fn move_focus(&mut self, forward: bool) -> FormOutcome {
        let order = self.focus_order();
        let len = order.len();
        let at = order.iter().position(|&f| f == self.focus).unwrap_or(0);
        let next = if forward { at + 1 } else { at + len - 1 };
        self.focus = order[next % len];
        FormOutcome::Continue
    }

    /// Focuses `focus`, expanding More when it lies inside.
    pub(super) fn focus_on(&mut self, focus: Focus) {
        if focus.in_more() {
            self.more_expanded = true;
        }
        self.focus = focus;
    }

    /// The line where `field` is edited.
    pub(super) fn focus_of(&self, field: Field) -> Focus {
        match field {
            Field::Name => Focus::Name,
            Field::Domain => Focus::Domain,
            Field::Owner => Focus::Owner,
            Field::Plan => Focus::Plan,
            Field::Tags => Focus::Tags,
            Field::CustomFields if self.custom_fields.is_empty() => Focus::AddField,
            Field::CustomFields => Focus::CustomField(0),
        }
    }

    // ----- Owner picker ------------------------------------------------------

    fn open_picker(&mut self, query: &str) {
        let mut picker = OwnerPicker::default();
        insert_into_query(&mut picker, query, input_cap(Field::Owner));
        self.picker = Some(picker);
    }

    /// Highlights the current owner when the picker opens without a query.
    fn highlight_current_owner(&mut self, ctx: &FormContext) {
        let current = self.owner_id.as_deref();
        let index = self
            .owner_choices(ctx)
            .iter()
            .position(|choice| match choice {
                OwnerChoice::Nobody => current.is_none(),
                OwnerChoice::Member { id, .. } => Some(*id) == current,
            });
        if let Some(picker) = &mut self.picker {
            picker.highlighted = index.unwrap_or(0);
        }
    }

    /// A key while the picker is open: its own table (`KeyMode::OwnerPicker`)
    /// first, then typing into its query. `None` for a key it does not use
    /// (Tab, Shift-Tab): the caller closes it and gives the key to the form.
    fn picker_key(&mut self, key: KeyEvent, ctx: &FormContext) -> Option<FormOutcome> {
        let count = self.owner_choices(ctx).len();
        let picker = self.picker.as_mut()?;
        match ctx.keymap.action_for(KeyMode::OwnerPicker, &key) {
            Some(Action::Submit) => return Some(self.submit(ctx, false)),
            Some(Action::OpenDuplicate) => return Some(self.jump_to_duplicate(ctx)),
            Some(Action::Close | Action::Exit) => self.picker = None,
            Some(Action::PreviousMatch) => {
                picker.highlighted = picker.highlighted.saturating_sub(1);
            }
            Some(Action::NextMatch) => {
                picker.highlighted = (picker.highlighted + 1).min(count.saturating_sub(1));
            }
            Some(Action::Choose) => self.pick_highlighted(ctx),
            _ if matches!(key.code, KeyCode::Tab | KeyCode::BackTab) => return None,
            _ if key.code == KeyCode::Backspace && picker.query.value().is_empty() => {
                self.picker = None;
            }
            _ => {
                let changed = picker.query.handle_event(&Event::Key(key));
                if changed.is_some_and(|c| c.value) {
                    picker.highlighted = 0;
                }
            }
        }
        Some(FormOutcome::Continue)
    }

    /// Makes the highlighted row the owner and closes the picker; with no
    /// row matching the query, the picker stays open.
    fn pick_highlighted(&mut self, ctx: &FormContext) {
        let Some(highlighted) = self.picker.as_ref().map(OwnerPicker::highlighted) else {
            return;
        };
        let Some(choice) = self.owner_choices(ctx).get(highlighted).copied() else {
            return;
        };
        self.owner_id = match choice {
            OwnerChoice::Nobody => None,
            OwnerChoice::Member { id, .. } => Some(id.to_owned()),
        };
        self.picker = None;
        self.edited(Focus::Owner);
    }

    // ----- Custom-field rows -------------------------------------------------

    fn add_row(&mut self) {
        self.custom_fields.push(TextField::default());
        self.focus_on(Focus::CustomField(self.custom_fields.len() - 1));
        self.edited(Focus::AddField);
    }

    fn remove_row(&mut self, index: usize) {
        if index >= self.custom_fields.len() {
            return;
        }
        self.custom_fields.remove(index);
        self.focus = if index < self.custom_fields.len() {
            Focus::CustomField(index)
        } else {
            Focus::AddField
        };
        self.edited(Focus::AddField);
    }

    // ----- Validation and submit -------------------------------------------

    /// Checks one text line, unless it is an unchanged stored value of the
    /// customer being edited (which [`Draft::to_patch`] does not send).
    pub(super) fn check(&mut self, focus: Focus) {
        let unchanged = self.is_editing() && self.unchanged(focus);
        let Some(field) = self.field_mut(focus) else {
            return;
        };
        let value = field.value();
        field.error = if unchanged {
            None
        } else {
            match focus {
                Focus::Name => validate_name(value).err(),
                Focus::Domain => parse_domain(value).err(),
                Focus::Plan => parse_plan(value).err(),
                Focus::Tags => parse_tags(value).err(),
                _ => None,
            }
        };
    }

    /// Checks every custom-field row (a repeated name concerns two rows).
    pub(super) fn check_rows(&mut self) {
        let rows: Vec<&str> = self.custom_fields.iter().map(TextField::value).collect();
        let unchanged =
            self.is_editing() && non_blank(&rows) == non_blank(&self.baseline.custom_fields);
        let errors = if unchanged {
            vec![None; rows.len()]
        } else {
            custom_field_errors(&rows)
        };
        for (row, error) in self.custom_fields.iter_mut().zip(errors) {
            row.error = error;
        }
    }
}
