//! The detail pane: every field of the selected customer and its history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::super::format;
use super::super::state::{History, State};
use crate::domain::Entry;

const LABEL_WIDTH: usize = 9;

pub fn render(state: &State, scroll: u16, frame: &mut Frame, area: Rect) {
    let Some(entry) = state.selected_entry() else {
        return;
    };
    let theme = state.theme;
    let number = if entry.pending_create_key().is_some() {
        format!(" {} saving ", theme.glyphs.pending)
    } else {
        format!(" #{} ", entry.display_id)
    };
    let block = Block::default()
        .borders(Borders::LEFT | Borders::TOP)
        .border_set(theme.glyphs.border)
        .border_style(theme.border())
        .title(Line::from(vec![
            Span::styled(number, theme.dim()),
            Span::styled(format!("{} ", entry.name), theme.title()),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let lines = lines(state, entry, width);
    let scroll = scroll.min(u16::try_from(lines.len().saturating_sub(1)).unwrap_or(u16::MAX));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn field<'a>(state: &State, label: &'a str, value: Option<String>) -> Line<'a> {
    let theme = state.theme;
    let label = Span::styled(format!("{label:<LABEL_WIDTH$}"), theme.dim());
    match value {
        Some(v) => Line::from(vec![label, Span::raw(v)]),
        None => Line::from(vec![label, Span::styled(theme.glyphs.blank, theme.dim())]),
    }
}

fn lines<'a>(state: &'a State, entry: &'a Entry, width: usize) -> Vec<Line<'a>> {
    let mut lines = record_lines(state, entry, width);
    if !entry.custom_fields.is_empty() {
        lines.push(Line::default());
        lines.extend(custom_field_lines(state, entry, width));
    }
    lines.push(Line::default());
    lines.extend(history_lines(state, entry, width));
    lines
}

/// The record's own fields: name, link, domain (and what it normalises
/// to), owner, plan, source, tags and dates.
fn record_lines<'a>(state: &'a State, entry: &'a Entry, width: usize) -> Vec<Line<'a>> {
    let theme = state.theme;
    let g = theme.glyphs;
    let room = width.saturating_sub(LABEL_WIDTH);
    let cut = |s: &str| g.truncate(s, room).into_owned();
    let mut lines = vec![field(state, "Name", Some(cut(&entry.name)))];
    if entry.pending {
        lines.push(field(
            state,
            "Status",
            Some("waiting to be saved on Pivotal".into()),
        ));
    } else {
        let link = format!("{}  (y copies)", state.share_url(entry.display_id));
        lines.push(field(state, "Link", Some(cut(&link))));
    }

    let mut domain = vec![Span::styled(
        format!("{:<LABEL_WIDTH$}", "Domain"),
        theme.dim(),
    )];
    match &entry.domain {
        Some(d) => domain.push(Span::raw(cut(d))),
        None => domain.push(Span::styled(g.blank, theme.dim())),
    }
    if let Some(n) = state.model.customers.badge(entry) {
        domain.push(Span::raw(" "));
        domain.push(Span::styled(theme.badge_text(n), theme.badge()));
    }
    lines.push(Line::from(domain));
    if let (Some(key), Some(stored)) = (entry.domain_key(), entry.domain.as_deref())
        && key != stored
    {
        lines.push(field(state, "", Some(format!("{} {}", g.right, cut(key)))));
    }
    let owner = entry.owner_id.as_deref().map(|id| {
        let name = state
            .model
            .users
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned());
        if state.model.me.as_deref() == Some(id) {
            format!("{name} (me)")
        } else {
            name
        }
    });
    lines.push(field(state, "Owner", owner.map(|o| cut(&o))));
    lines.push(field(state, "Plan", entry.plan.as_deref().map(cut)));
    lines.push(field(
        state,
        "Source",
        Some(entry.source.as_str().to_owned()),
    ));
    let tags = (!entry.tags.is_empty()).then(|| {
        cut(&entry
            .tags
            .iter()
            .map(|t| format!("[{t}]"))
            .collect::<Vec<_>>()
            .join(" "))
    });
    lines.push(field(state, "Tags", tags));
    lines.push(field(
        state,
        "Created",
        Some(format::timestamp(entry.created_at)),
    ));
    lines.push(field(
        state,
        "Updated",
        Some(format!(
            "{} ({})",
            format::timestamp(entry.updated_at),
            format::ago(state.now, entry.updated_at)
        )),
    ));
    lines
}

/// `Custom fields`, one aligned `key  value` line each.
fn custom_field_lines<'a>(state: &State, entry: &'a Entry, width: usize) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled(
        "Custom fields",
        state.theme.title(),
    ))];
    let key_width = entry
        .custom_fields
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(20);
    for (k, v) in entry.custom_fields.iter() {
        let g = state.theme.glyphs;
        let text = format!("  {:<key_width$}  {v}", g.truncate(k, key_width));
        lines.push(Line::raw(g.truncate(&text, width).into_owned()));
    }
    lines
}

/// `History (n)` and its events, newest first, or why there are none yet.
fn history_lines<'a>(state: &'a State, entry: &Entry, width: usize) -> Vec<Line<'a>> {
    let theme = state.theme;
    let ellipsis = theme.glyphs.ellipsis;
    let mut lines = Vec::new();
    match entry.id().and_then(|id| state.model.histories.get(id)) {
        None | Some(History::Loading) => {
            lines.push(Line::from(Span::styled("History", theme.title())));
            lines.push(Line::from(Span::styled(
                format!("  loading{ellipsis}"),
                theme.dim(),
            )));
        }
        Some(History::Failed(reason)) => {
            lines.push(Line::from(Span::styled("History", theme.title())));
            lines.push(Line::from(Span::styled(
                format!("  could not load: {reason}"),
                theme.warning(),
            )));
        }
        Some(History::Loaded { events, fresh }) => {
            let mut title = vec![Span::styled(
                format!("History ({})", events.len()),
                theme.title(),
            )];
            if !fresh {
                title.push(Span::styled(
                    format!("  cached, refreshing{ellipsis}"),
                    theme.dim(),
                ));
            }
            lines.push(Line::from(title));
            for event in events {
                // Every event whole: its text wrapped under its date.
                let head = format!("  {}  ", format::date(event.at));
                let indent = head.chars().count();
                let room = width.saturating_sub(indent);
                for (i, part) in format::wrap(&event.summary, room).into_iter().enumerate() {
                    let lead = if i == 0 {
                        Span::styled(head.clone(), theme.dim())
                    } else {
                        Span::raw(" ".repeat(indent))
                    };
                    lines.push(Line::from(vec![lead, Span::raw(part)]));
                }
            }
        }
    }
    lines
}
