//! The create/edit customer pane: each field as a label line and an input
//! line, with its error, the normalised-domain preview, the duplicate
//! warning, the owner picker, plan completions, tag chips and custom-field
//! rows, then a prompt line and a hint line pinned to the bottom. Places the
//! terminal cursor in the focused input.
//!
//! Render only: a pure function of `&Form` and its context. It never changes
//! the form or decides what a key does. Server text (customer and user
//! names) arrives sanitised; here it is only cut to width.

use crate::tui::keymap::{Action, KeyMode};
use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Padding, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::super::form::{Confirm, Focus, Form, FormContext, FormMode, OwnerChoice, TextField};
use super::super::theme::{Glyphs, Theme};
use crate::domain::{Entry, Field, has_forbidden_chars};

/// Columns before every input and message: the focus marker and a space.
const GUTTER: usize = 2;
/// The most rows the owner picker shows at once.
const PICKER_ROWS: usize = 6;
/// The widest a customer name gets in the duplicate warning.
const DUPLICATE_NAME_WIDTH: usize = 32;
/// Lines pinned under the fields: a prompt (or a blank) and the hints.
const FOOTER_LINES: u16 = 2;

/// Draws the form into `area`: a pane with a border on its left and top.
pub fn render(form: &Form, ctx: &FormContext, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::LEFT | Borders::TOP)
        .border_set(theme.glyphs.border)
        .border_style(theme.border())
        .padding(Padding::horizontal(1))
        .title(title(form, theme, usize::from(area.width)));
    let inner = block.inner(area);
    if inner.width < 8 || inner.height <= FOOTER_LINES {
        frame.render_widget(block, area);
        return;
    }
    let [body_area, footer_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(FOOTER_LINES)]).areas(inner);

    let body = Body::draw(form, ctx, theme, usize::from(inner.width));
    let height = usize::from(body_area.height);
    let offset = body.scroll_offset(height);
    let hidden_below = body.lines.len() > offset + height;
    let block = if offset > 0 {
        let more = format!(" {} more ", theme.glyphs.up);
        block.title(Line::from(Span::styled(more, theme.dim())).right_aligned())
    } else {
        block
    };
    frame.render_widget(block, area);
    let cursor = body.cursor;
    let scroll = u16::try_from(offset).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(body.lines).scroll((scroll, 0)), body_area);
    let footer = footer(form, ctx, theme, usize::from(inner.width), hidden_below);
    frame.render_widget(Paragraph::new(footer), footer_area);

    if form.confirmation().is_none() {
        place_cursor(frame, body_area, cursor, offset);
    }
}

/// Puts the terminal cursor at (line, column) of the body scrolled by
/// `offset` lines, when that is inside `area`.
fn place_cursor(frame: &mut Frame, area: Rect, cursor: Option<(usize, usize)>, offset: usize) {
    if let Some((line, column)) = cursor
        && let Some(row) = line.checked_sub(offset)
        && let (Ok(row), Ok(column)) = (u16::try_from(row), u16::try_from(column))
        && row < area.height
        && column < area.width
    {
        frame.set_cursor_position(Position::new(area.x + column, area.y + row));
    }
}

/// ` New customer ` or ` Edit #1042 Acme Co `.
fn title(form: &Form, theme: Theme, width: usize) -> Line<'static> {
    match form.mode() {
        FormMode::Create => Line::from(Span::styled(" New customer ", theme.title())),
        FormMode::Edit { original, .. } => {
            let id = format!("#{} ", original.display_id);
            let room = width.saturating_sub(" Edit ".len() + id.len() + 2);
            Line::from(vec![
                Span::styled(" Edit ", theme.title()),
                Span::styled(id, theme.dim()),
                Span::styled(
                    format!("{} ", theme.glyphs.truncate(&original.name, room)),
                    theme.title(),
                ),
            ])
        }
    }
}

/// The field lines, before scrolling, with where the cursor and the
/// focused field are.
struct Body<'f, 'c> {
    form: &'f Form,
    ctx: &'f FormContext<'c>,
    theme: Theme,
    width: usize,
    lines: Vec<Line<'static>>,
    /// (line, column) of the terminal cursor, when an input has focus.
    cursor: Option<(usize, usize)>,
    /// The lines of the focused field, first and past-the-end.
    focused: (usize, usize),
}

impl<'f, 'c> Body<'f, 'c> {
    fn draw(form: &'f Form, ctx: &'f FormContext<'c>, theme: Theme, width: usize) -> Self {
        let mut body = Body {
            form,
            ctx,
            theme,
            width,
            lines: Vec::new(),
            cursor: None,
            focused: (0, 0),
        };
        body.top_error();
        body.section(Focus::Name, Self::name);
        body.section(Focus::Domain, Self::domain);
        body.section(Focus::Owner, Self::owner);
        body.section(Focus::Plan, Self::plan);
        body.section(Focus::More, Self::more);
        if form.more_expanded() {
            body.section(Focus::Tags, Self::tags);
            body.custom_fields();
        }
        body
    }

    /// How many lines to scroll so that the whole focused field shows (its
    /// top first, when it is taller than the area).
    fn scroll_offset(&self, height: usize) -> usize {
        let (top, end) = self.focused;
        end.saturating_sub(height).min(top)
    }

    /// Draws one focusable part, noting its lines when it has focus.
    fn section(&mut self, focus: Focus, draw: impl FnOnce(&mut Self)) {
        let top = self.lines.len();
        draw(self);
        if self.form.focus() == focus {
            self.focused = (top, self.lines.len());
        }
    }

    /// Adds a line, cut to the pane's width with `…`.
    fn push(&mut self, spans: Vec<Span<'static>>) {
        self.lines.push(fit(spans, self.width, self.theme.glyphs));
    }

    /// `text` cut to `width` columns with the theme's ellipsis.
    fn cut<'t>(&self, text: &'t str, width: usize) -> Cow<'t, str> {
        self.theme.glyphs.truncate(text, width)
    }

    // ----- Fields --------------------------------------------------------

    fn name(&mut self) {
        self.label(Focus::Name, "Name");
        self.text_input(Focus::Name, "e.g. Acme Co", None);
        self.errors(Focus::Name, Field::Name);
    }

    fn domain(&mut self) {
        self.label(Focus::Domain, "Domain");
        self.text_input(Focus::Domain, "e.g. acme.com", None);
        if let Some(normalized) = self.form.normalized_domain() {
            let room = self.room().saturating_sub(2);
            let shown = format!(
                "{} {}",
                self.theme.glyphs.right,
                self.cut(&normalized, room)
            );
            self.push(vec![indent(), Span::styled(shown, self.theme.ok())]);
        }
        self.errors(Focus::Domain, Field::Domain);
        self.duplicate_warning();
    }

    fn owner(&mut self) {
        self.label(Focus::Owner, "Owner");
        let focused = self.form.focus() == Focus::Owner;
        if let Some(picker) = self.form.picker() {
            self.input_line(picker.query(), true, "type to filter", None);
            self.picker_rows(picker.highlighted());
        } else {
            let (text, style) = self.owner_text();
            let mut spans = vec![marker(focused, self.theme), Span::styled(text, style)];
            if focused {
                spans.push(Span::styled("  Enter to change", self.theme.dim()));
            }
            self.push(spans);
        }
        self.errors(Focus::Owner, Field::Owner);
    }

    fn plan(&mut self) {
        self.label(Focus::Plan, "Plan");
        let focused = self.form.focus() == Focus::Plan;
        let completions = if focused {
            self.form.plan_completions(self.ctx)
        } else {
            Vec::new()
        };
        let ghost = completions
            .first()
            .and_then(|plan| ghost_text(self.form.text_field(Focus::Plan), plan));
        self.text_input(Focus::Plan, "e.g. Growth", ghost);
        if !completions.is_empty() {
            let arrow = format!("{} ", self.theme.glyphs.right);
            let mut spans = vec![indent(), Span::styled(arrow, self.theme.dim())];
            for (i, plan) in completions.iter().enumerate() {
                let style = if i == 0 {
                    self.theme.key()
                } else {
                    self.theme.dim()
                };
                if i > 0 {
                    spans.push(Span::styled(self.theme.glyphs.dot, self.theme.dim()));
                }
                spans.push(Span::styled((*plan).to_owned(), style));
            }
            self.push(spans);
        }
        self.errors(Focus::Plan, Field::Plan);
    }

    fn more(&mut self) {
        let focused = self.form.focus() == Focus::More;
        // Reverse video too, so that focus shows without colour.
        let style = if focused {
            self.theme.key().patch(self.theme.selected())
        } else {
            self.theme.title()
        };
        let (arrow, summary) = if self.form.more_expanded() {
            (self.theme.glyphs.unfolded, String::new())
        } else {
            (self.theme.glyphs.folded, self.more_summary())
        };
        let spans = vec![
            Span::styled(format!("{arrow} More"), style),
            Span::styled(format!("  {summary}"), self.theme.dim()),
        ];
        self.push(spans);
    }

    fn tags(&mut self) {
        self.label(Focus::Tags, "Tags");
        self.text_input(Focus::Tags, "comma-separated, e.g. beta, emea", None);
        let chips = self.form.tag_chips();
        if !chips.is_empty() {
            let mut spans = vec![indent()];
            for (i, chip) in chips.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" "));
                }
                spans.push(Span::styled("[", self.theme.dim()));
                spans.push(Span::raw(chip.clone()));
                spans.push(Span::styled("]", self.theme.dim()));
            }
            self.push(spans);
        }
        self.errors(Focus::Tags, Field::Tags);
    }

    fn custom_fields(&mut self) {
        let rows = self.form.custom_fields().len();
        let first = if rows == 0 {
            Focus::AddField
        } else {
            Focus::CustomField(0)
        };
        let label_focused = matches!(self.form.focus(), Focus::CustomField(_) | Focus::AddField);
        let top = self.lines.len();
        self.push(vec![Span::styled(
            "Custom fields",
            label_style(label_focused, self.theme),
        )]);
        for index in 0..rows {
            let focus = Focus::CustomField(index);
            self.section(focus, |body| {
                body.text_input(focus, "key=value", None);
                body.field_error(focus);
            });
        }
        self.section(Focus::AddField, |body| {
            let focused = body.form.focus() == Focus::AddField;
            let style = if focused {
                body.theme.key()
            } else {
                body.theme.dim()
            };
            body.push(vec![
                marker(focused, body.theme),
                Span::styled("+ add field", style),
            ]);
            body.server_error(Field::CustomFields);
        });
        if self.form.focus() == first {
            self.focused.0 = top;
        }
    }

    // ----- Pieces -----------------------------------------------------------

    /// The columns an input or message has after the gutter.
    fn room(&self) -> usize {
        self.width.saturating_sub(GUTTER)
    }

    fn label(&mut self, focus: Focus, text: &'static str) {
        let focused = self.form.focus() == focus;
        let mut spans = vec![Span::styled(text, label_style(focused, self.theme))];
        if focus == Focus::Name {
            spans.push(Span::styled(" (required)", self.theme.dim()));
        }
        self.push(spans);
    }

    fn text_input(&mut self, focus: Focus, placeholder: &str, ghost: Option<String>) {
        let Some(field) = self.form.text_field(focus) else {
            return;
        };
        let focused = self.form.focus() == focus;
        self.input_line(field.input(), focused, placeholder, ghost);
    }

    /// One input line. A focused input scrolls sideways to keep the cursor
    /// in view (one column stays free for a cursor at the end) and may end
    /// in a dim `ghost` completion; others show their start, cut with `…`.
    fn input_line(
        &mut self,
        input: &tui_input::Input,
        focused: bool,
        placeholder: &str,
        ghost: Option<String>,
    ) {
        let room = self.room();
        let width = room.saturating_sub(1);
        let scroll = input.visual_scroll(width);
        let cursor = input.visual_cursor().saturating_sub(scroll);
        let mut spans = vec![marker(focused, self.theme)];
        let value = shown(input.value());
        if value.is_empty() {
            // Without colour a placeholder would look typed, so there is none.
            if self.theme.color {
                let text = self.cut(placeholder, width).into_owned();
                spans.push(Span::styled(text, self.theme.dim()));
            }
        } else if focused {
            spans.push(Span::raw(columns(&value, scroll, width)));
            if let Some(ghost) = ghost {
                // Without colour, dim text looks typed: brackets say it is
                // only offered (`Gr[owth]`).
                let ghost = if self.theme.color {
                    ghost
                } else {
                    format!("[{ghost}]")
                };
                let text = self.cut(&ghost, room.saturating_sub(cursor)).into_owned();
                spans.push(Span::styled(text, self.theme.dim()));
            }
        } else {
            spans.push(Span::raw(self.cut(&value, room).into_owned()));
        }
        if focused {
            self.cursor = Some((self.lines.len(), GUTTER + cursor));
        }
        self.push(spans);
    }

    /// The live error and the server's message for one field.
    fn errors(&mut self, focus: Focus, field: Field) {
        self.field_error(focus);
        self.server_error(field);
    }

    fn field_error(&mut self, focus: Focus) {
        let error = self
            .form
            .text_field(focus)
            .and_then(TextField::error)
            .map(|error| self.theme.glyphs.text(&error.to_string()).into_owned());
        if let Some(error) = error {
            self.message(&error, self.theme.error());
        }
        let note = self
            .form
            .text_field(focus)
            .and_then(TextField::note)
            .map(str::to_owned);
        if let Some(note) = note {
            self.message(&note, self.theme.warning());
        }
    }

    fn server_error(&mut self, field: Field) {
        let message = self
            .form
            .server_error()
            .filter(|e| e.field == Some(field))
            .map(|e| e.message.clone());
        if let Some(message) = message {
            self.message(&message, self.theme.error());
        }
    }

    /// A server message that names no field, above everything.
    fn top_error(&mut self) {
        let message = self
            .form
            .server_error()
            .filter(|e| e.field.is_none())
            .map(|e| e.message.clone());
        if let Some(message) = message {
            for line in wrap(&message, self.width, self.theme.glyphs) {
                self.push(vec![Span::styled(line, self.theme.error())]);
            }
            self.push(Vec::new());
        }
    }

    /// Text under a field, wrapped and indented past the gutter.
    fn message(&mut self, text: &str, style: Style) {
        for line in wrap(text, self.room(), self.theme.glyphs) {
            self.push(vec![indent(), Span::styled(line, style)]);
        }
    }

    /// `Possible duplicate: acme.com is already used by #1003 Acme Co
    /// (hubspot, owner Dana) and 2 more`, then the key that opens it.
    fn duplicate_warning(&mut self) {
        let duplicates = self.form.duplicates(self.ctx);
        let Some(first) = duplicates.first() else {
            return;
        };
        let domain = first.domain_key().unwrap_or_default();
        let others = match duplicates.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        let text = format!(
            "Possible duplicate: {domain} is already used by {}{others}",
            self.describe(first)
        );
        self.message(&text, self.theme.warning());
        let action = format!(" open #{}", first.display_id);
        self.push(vec![
            indent(),
            Span::styled("Ctrl-O", self.theme.key()),
            Span::styled(action, self.theme.dim()),
        ]);
    }

    /// `#1003 Acme Co (hubspot, owner Dana)`.
    fn describe(&self, entry: &Entry) -> String {
        let owner = match entry.owner_id.as_deref() {
            None => "no owner".to_owned(),
            Some(id) => match self.ctx.member_name(id) {
                Some(name) => format!("owner {}", first_name(name)),
                None => "owner unknown".to_owned(),
            },
        };
        format!(
            "#{} {} ({}, {owner})",
            entry.display_id,
            self.cut(&entry.name, DUPLICATE_NAME_WIDTH),
            entry.source
        )
    }

    /// The owner line's text: a name (with `(me)`), or what no owner means.
    fn owner_text(&self) -> (String, Style) {
        match self.form.owner_id() {
            Some(id) => (
                self.cut(&self.member_label(id), self.room()).into_owned(),
                Style::new(),
            ),
            None if matches!(self.form.mode(), FormMode::Create) => {
                ("You (the default)".to_owned(), self.theme.dim())
            }
            None => ("No owner".to_owned(), self.theme.dim()),
        }
    }

    /// `Dana Reyes (me)`, `Sam Okafor`, or the id of someone unknown.
    fn member_label(&self, id: &str) -> String {
        let name = self.ctx.member_name(id).unwrap_or(id);
        if self.ctx.me == Some(id) {
            format!("{name} (me)")
        } else {
            name.to_owned()
        }
    }

    /// The picker's rows under the Owner query, at most [`PICKER_ROWS`],
    /// scrolled so the highlighted one shows.
    fn picker_rows(&mut self, highlighted: usize) {
        let choices = self.form.owner_choices(self.ctx);
        if choices.is_empty() {
            self.push(vec![
                indent(),
                Span::styled("No one matches", self.theme.dim()),
            ]);
            return;
        }
        let start = (highlighted + 1).saturating_sub(PICKER_ROWS);
        let room = self.room().saturating_sub(2);
        for (index, choice) in choices.iter().enumerate().skip(start).take(PICKER_ROWS) {
            let text = match choice {
                OwnerChoice::Nobody => "No owner".to_owned(),
                OwnerChoice::Member { id, .. } => self.member_label(id),
            };
            let text = self.cut(&text, room).into_owned();
            let line = if index == highlighted {
                let padding = " ".repeat(room.saturating_sub(text.width()));
                let padded = format!("{}{text}{padding}", self.theme.glyphs.marker);
                vec![indent(), Span::styled(padded, self.theme.selected())]
            } else {
                vec![indent(), Span::raw(format!("  {text}"))]
            };
            self.push(line);
        }
        let hidden = choices.len().saturating_sub(start + PICKER_ROWS);
        if hidden > 0 {
            let more = format!("  {} {hidden} more", self.theme.glyphs.down);
            self.push(vec![indent(), Span::styled(more, self.theme.dim())]);
        }
    }

    /// What the collapsed More section holds: `2 tags, 6 custom fields`, or
    /// what it offers when empty.
    fn more_summary(&self) -> String {
        let tags = self.form.tag_chips().len();
        let fields = self
            .form
            .custom_fields()
            .iter()
            .filter(|row| !row.value().trim().is_empty())
            .count();
        match (tags, fields) {
            (0, 0) => "tags, custom fields".to_owned(),
            (tags, 0) => plural(tags, "tag"),
            (0, fields) => plural(fields, "custom field"),
            (tags, fields) => format!(
                "{}, {}",
                plural(tags, "tag"),
                plural(fields, "custom field")
            ),
        }
    }
}

/// The prompt line (a question, a notice, or a sign that fields are
/// hidden below) and the key hints.
fn footer(
    form: &Form,
    ctx: &FormContext,
    theme: Theme,
    width: usize,
    hidden_below: bool,
) -> Vec<Line<'static>> {
    let prompt = match (form.confirmation(), form.mode()) {
        (Some(Confirm::Discard), FormMode::Create) => {
            Some(("Discard this new customer? (y/N)", theme.warning()))
        }
        (Some(Confirm::Discard), FormMode::Edit { .. }) => {
            Some(("Discard your changes? (y/N)", theme.warning()))
        }
        (Some(Confirm::CreateAnyway), _) => Some(("Create anyway? (y/N)", theme.warning())),
        (None, _) => form.notice().map(|notice| (notice, theme.ok())),
    };
    let g = theme.glyphs;
    let prompt = match prompt {
        Some((text, style)) => {
            Line::from(Span::styled(g.truncate(text, width).into_owned(), style))
        }
        None if hidden_below => {
            Line::from(Span::styled(format!("{} more", g.down), theme.dim())).right_aligned()
        }
        None => Line::default(),
    };
    vec![prompt, hint_line(&hints(form, ctx), theme, width)]
}

/// The keys that matter now, most useful first, written as the keymap
/// has them (a rebound key shows as the user's).
fn hints(form: &Form, ctx: &FormContext) -> Vec<(String, &'static str)> {
    let key = |action: Action, short: &str| ctx.keymap.hint_key(action, short);
    if form.confirmation().is_some() {
        return vec![
            (key(Action::Yes, "y"), "yes"),
            ("any other key".into(), "no"),
        ];
    }
    if form.picker().is_some() {
        // Esc last, as in the form's other hint lines.
        let mut hints = ctx.keymap.hints(KeyMode::OwnerPicker);
        let close = ctx.keymap.label(Action::Close);
        hints.sort_by_key(|(keys, _)| keys == close);
        return hints;
    }
    let submit = match form.mode() {
        FormMode::Create => "create",
        FormMode::Edit { .. } => "save",
    };
    let save = key(Action::Submit, "Ctrl-S");
    let mut hints = match form.focus() {
        Focus::Owner => vec![("Enter".into(), "change"), (save, submit)],
        Focus::More if form.more_expanded() => vec![("Enter".into(), "collapse"), (save, submit)],
        Focus::More => vec![("Enter".into(), "expand"), (save, submit)],
        Focus::AddField => vec![("Enter".into(), "add field"), (save, submit)],
        Focus::CustomField(_) => vec![
            ("Enter".into(), submit),
            (key(Action::RemoveRow, "Ctrl-D"), "remove"),
        ],
        Focus::Plan if form.completes_plan(ctx) => {
            vec![("Tab".into(), "completes"), ("Enter".into(), submit)]
        }
        _ => vec![("Enter".into(), submit)],
    };
    if !form.completes_plan(ctx) {
        hints.push((key(Action::NextField, "Tab"), "next"));
    }
    hints.push((key(Action::Close, "Esc"), "cancel"));
    hints
}

/// `Enter create · Tab next · Esc cancel`, dropping whole hints from the end
/// when they don't fit.
fn hint_line(hints: &[(String, &'static str)], theme: Theme, width: usize) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, word) in hints {
        let key = theme.glyphs.text(key).into_owned();
        let separator = if spans.is_empty() {
            ""
        } else {
            theme.glyphs.dot
        };
        let needed = separator.width() + key.width() + 1 + word.width();
        if used + needed > width {
            break;
        }
        used += needed;
        if !separator.is_empty() {
            spans.push(Span::styled(separator, theme.dim()));
        }
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {word}"), theme.dim()));
    }
    Line::from(spans)
}

fn label_style(focused: bool, theme: Theme) -> Style {
    if focused { theme.key() } else { theme.dim() }
}

/// The gutter: `›` before the focused line.
fn marker(focused: bool, theme: Theme) -> Span<'static> {
    if focused {
        Span::styled(format!("{} ", theme.glyphs.prompt), theme.key())
    } else {
        Span::raw("  ")
    }
}

fn indent() -> Span<'static> {
    Span::raw(" ".repeat(GUTTER))
}

/// The rest of `completion` after what is typed, shown dim after the text
/// while the cursor is at its end (fish-style).
fn ghost_text(field: Option<&TextField>, completion: &str) -> Option<String> {
    let field = field?;
    let typed = field.value().trim_start();
    let at_end = field.input().cursor() == field.value().chars().count();
    (at_end && !typed.is_empty()).then(|| completion.chars().skip(typed.chars().count()).collect())
}

/// Text as typed, with anything unsafe to print (control and invisible
/// characters, which validation also flags) shown as `�`, one for one, so
/// that the cursor still lines up.
fn shown(value: &str) -> Cow<'_, str> {
    if !has_forbidden_chars(value) {
        return Cow::Borrowed(value);
    }
    let mut buf = [0; 4];
    Cow::Owned(
        value
            .chars()
            .map(|c| {
                if has_forbidden_chars(c.encode_utf8(&mut buf)) {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// The part of `text` from display column `skip`, at most `width` columns.
fn columns(text: &str, skip: usize, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if column < skip {
            column += w;
            continue;
        }
        if column + w > skip + width {
            break;
        }
        out.push(c);
        column += w;
    }
    out
}

/// Styled spans cut to `width` columns, ending in `glyphs`' ellipsis when
/// cut.
fn fit(spans: Vec<Span<'static>>, width: usize, glyphs: &Glyphs) -> Line<'static> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= width {
        return Line::from(spans);
    }
    let mut out = Vec::new();
    let mut left = width;
    for span in spans {
        let w = span.width();
        if w < left {
            left -= w;
            out.push(span);
        } else {
            let cut = ellipsize(&span.content, left, glyphs.ellipsis);
            out.push(Span::styled(cut, span.style));
            break;
        }
    }
    Line::from(out)
}

/// The start of `text` that fits before `ellipsis` in `width` columns,
/// then `ellipsis`.
fn ellipsize(text: &str, width: usize, ellipsis: &str) -> String {
    let Some(room) = width.checked_sub(ellipsis.width()) else {
        return ellipsis.chars().take(width).collect();
    };
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push_str(ellipsis);
    out
}

/// Word-wraps `text` to `width` columns; a word wider than a line is cut
/// with `glyphs`' ellipsis.
fn wrap(text: &str, width: usize, glyphs: &Glyphs) -> Vec<String> {
    if width == 0 {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = glyphs.truncate(word, width);
        let needed = if line.is_empty() {
            word.width()
        } else {
            line.width() + 1 + word.width()
        };
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests;
