//! How the commands print customers: an aligned table for people, a JSON
//! array or CSV with a header row for scripts. Every text comes from an
//! [`Entry`], which is sanitised, so no control or escape character reaches
//! the terminal; JSON escapes on top. No colour: the table is plain text
//! whether or not stdout is a terminal.

use std::io::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::api::HistoryEvent;
use crate::domain::{Entry, sanitize};
use crate::tui::format;

/// The widest a table cell gets before it is cut with `…`.
const MAX_CELL: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// A customer as listed: the entry, its duplicate badge and its owner's name.
pub struct Listed {
    pub entry: Entry,
    pub badge: Option<usize>,
    pub owner: Option<String>,
    /// Owned by the key's user: the table says `me`, as the app does.
    pub mine: bool,
}

/// One customer in `--json`: the API's fields (sanitised) plus what the app
/// shows: the owner's name, the normalised domain and the duplicate count.
#[derive(Serialize)]
struct JsonCustomer<'a> {
    id: &'a str,
    display_id: u64,
    name: &'a str,
    domain: Option<&'a str>,
    normalized_domain: Option<&'a str>,
    duplicates: usize,
    owner_id: Option<&'a str>,
    owner: Option<&'a str>,
    plan: Option<&'a str>,
    tags: &'a [String],
    custom_fields: serde_json::Map<String, serde_json::Value>,
    source: &'a str,
    archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: time::OffsetDateTime,
}

impl<'a> From<&'a Listed> for JsonCustomer<'a> {
    fn from(listed: &'a Listed) -> Self {
        let e = &listed.entry;
        JsonCustomer {
            id: &e.id,
            display_id: e.display_id,
            name: &e.name,
            domain: e.domain.as_deref(),
            normalized_domain: e.domain_key.as_deref(),
            duplicates: listed.badge.unwrap_or(0),
            owner_id: e.owner_id.as_deref(),
            owner: listed.owner.as_deref(),
            plan: e.plan.as_deref(),
            tags: &e.tags,
            custom_fields: e
                .custom_fields
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
            source: e.source.as_str(),
            archived: e.archived,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// The CSV columns, in order.
const CSV_HEADER: [&str; 12] = [
    "display_id",
    "name",
    "domain",
    "normalized_domain",
    "duplicates",
    "owner",
    "plan",
    "source",
    "tags",
    "archived",
    "updated_at",
    "id",
];

/// Prints customers in `format`.
///
/// # Errors
///
/// A failed write.
pub fn customers(listed: &[Listed], format: Format, out: &mut impl Write) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let rows: Vec<JsonCustomer> = listed.iter().map(JsonCustomer::from).collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(CSV_HEADER)?;
            for row in listed {
                let e = &row.entry;
                csv.write_record([
                    e.display_id.to_string(),
                    e.name.clone(),
                    e.domain.clone().unwrap_or_default(),
                    e.domain_key.clone().unwrap_or_default(),
                    row.badge.unwrap_or(0).to_string(),
                    row.owner.clone().unwrap_or_default(),
                    e.plan.clone().unwrap_or_default(),
                    e.source.to_string(),
                    e.tags.join(";"),
                    e.archived.to_string(),
                    format::timestamp(e.updated_at),
                    e.id.clone(),
                ])?;
            }
            csv.flush()
        }
        Format::Table => table(listed, out),
    }
}

/// The aligned table: `#`, Name, Domain (with its badge), Owner, Plan,
/// Source, and `archived` where it applies.
fn table(listed: &[Listed], out: &mut impl Write) -> std::io::Result<()> {
    let rows: Vec<[String; 6]> = listed
        .iter()
        .map(|row| {
            let e = &row.entry;
            let mut domain = e.domain.clone().unwrap_or_else(|| "—".into());
            if let Some(n) = row.badge {
                domain = format!("{} [{n}]", format::truncate(&domain, MAX_CELL - 4));
            }
            let mut name = format::truncate(&e.name, MAX_CELL).into_owned();
            if e.archived {
                name.push_str(" (archived)");
            }
            [
                format!("#{}", e.display_id),
                name,
                domain,
                if row.mine {
                    "me".to_owned()
                } else {
                    row.owner.clone().unwrap_or_else(|| "—".into())
                },
                e.plan.clone().unwrap_or_else(|| "—".into()),
                e.source.to_string(),
            ]
        })
        .map(|cells| cells.map(|c| format::truncate(&sanitize(&c), MAX_CELL + 11).into_owned()))
        .collect();
    let header = ["#", "Name", "Domain", "Owner", "Plan", "Source"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.width());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(width - cell.width() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    if rows.is_empty() {
        writeln!(out, "(no customers match)")?;
    }
    Ok(())
}

/// One customer in full, with its latest history, or as JSON.
///
/// # Errors
///
/// A failed write.
pub fn customer(
    listed: &Listed,
    history: &[HistoryEvent],
    link: &str,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, &JsonCustomer::from(listed))?;
        return writeln!(out);
    }
    let e = &listed.entry;
    let dash = || "—".to_owned();
    let domain = match (&e.domain, &e.domain_key, listed.badge) {
        (Some(d), Some(k), Some(n)) => format!("{d}  ({k}, shared by {n} customers)"),
        (Some(d), Some(k), None) if d != k => format!("{d}  ({k})"),
        (Some(d), _, _) => d.clone(),
        (None, _, _) => dash(),
    };
    let fields = [
        ("Customer", format!("#{} {}", e.display_id, e.name)),
        ("Link", link.to_owned()),
        ("Domain", domain),
        ("Owner", listed.owner.clone().unwrap_or_else(dash)),
        ("Plan", e.plan.clone().unwrap_or_else(dash)),
        (
            "Tags",
            if e.tags.is_empty() {
                dash()
            } else {
                e.tags.join(", ")
            },
        ),
        ("Source", e.source.to_string()),
        (
            "Status",
            if e.archived {
                "archived".into()
            } else {
                "live".into()
            },
        ),
        ("Created", format::timestamp(e.created_at)),
        ("Updated", format::timestamp(e.updated_at)),
        ("Id", e.id.clone()),
    ];
    for (label, value) in fields {
        writeln!(out, "{label:<9} {}", sanitize(&value))?;
    }
    for (key, value) in &e.custom_fields {
        writeln!(out, "{:<9} {key} = {value}", "Field")?;
    }
    match history.len() {
        1 => writeln!(out, "History   1 event")?,
        n => writeln!(out, "History   {n} events")?,
    }
    for event in history.iter().take(10) {
        writeln!(
            out,
            "  {}  {}  {}",
            format::timestamp(event.at),
            sanitize(&event.kind),
            sanitize(&event.summary)
        )?;
    }
    Ok(())
}
