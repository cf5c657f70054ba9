//! How the commands print customers: an aligned table for people, a JSON
//! array or CSV with a header row for scripts. Output for scripts still
//! ends up in terminals and spreadsheets, so every text printed, in every
//! format, is sanitised here (ids and owner names too, which an [`Entry`]
//! does not clean); JSON also writes any control, bidi or invisible
//! character as a `\u` escape, and a CSV cell a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@` first) gets a leading `'`. No colour: the
//! table is plain text whether or not stdout is a terminal.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::api::HistoryEvent;
use crate::domain::{Entry, has_forbidden_chars, sanitize};
use crate::store::MergedInto;
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
    id: Cow<'a, str>,
    display_id: u64,
    name: Cow<'a, str>,
    domain: Option<Cow<'a, str>>,
    normalized_domain: Option<Cow<'a, str>>,
    duplicates: usize,
    owner_id: Option<Cow<'a, str>>,
    owner: Option<Cow<'a, str>>,
    plan: Option<Cow<'a, str>>,
    tags: Vec<Cow<'a, str>>,
    custom_fields: serde_json::Map<String, serde_json::Value>,
    source: Cow<'a, str>,
    archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: time::OffsetDateTime,
}

impl<'a> From<&'a Listed> for JsonCustomer<'a> {
    fn from(listed: &'a Listed) -> Self {
        let e = &listed.entry;
        let text = |s: &'a Option<String>| s.as_deref().map(sanitize);
        JsonCustomer {
            // The command line lists the store's customers: all have ids.
            id: sanitize(e.id().unwrap_or_default()),
            display_id: e.display_id,
            name: sanitize(&e.name),
            domain: e.domain.as_deref().map(sanitize),
            normalized_domain: e.domain_key().map(sanitize),
            duplicates: listed.badge.unwrap_or(0),
            owner_id: e.owner_id.as_deref().map(sanitize),
            owner: text(&listed.owner),
            plan: e.plan.as_deref().map(sanitize),
            tags: e.tags.iter().map(|t| sanitize(t)).collect(),
            custom_fields: e
                .custom_fields
                .iter()
                .map(|(k, v)| {
                    let value = serde_json::Value::String(sanitize(v).into_owned());
                    (sanitize(k).into_owned(), value)
                })
                .collect(),
            source: sanitize(e.source.as_str()),
            archived: e.archived,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// Writes `value` as pretty JSON and a newline, with every character that
/// [`sanitize`] would not print (C1 controls, bidi and zero-width
/// characters, line and paragraph separators) as a `\u` escape: serde_json
/// escapes C0 controls only. Such characters can only stand inside JSON
/// strings, where an escape means the same.
fn write_json(value: &impl Serialize, out: &mut impl Write) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    let mut escaped = String::with_capacity(json.len());
    let mut buf = [0u8; 4];
    for c in json.chars() {
        if !c.is_ascii() && has_forbidden_chars(c.encode_utf8(&mut buf)) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            escaped.push(c);
        }
    }
    writeln!(out, "{escaped}")
}

/// A CSV cell: sanitised (a tab or line break becomes a space), and with a
/// leading `'` when a spreadsheet would otherwise run it as a formula: it
/// starts, after any spaces, with `=`, `+`, `-` or `@`.
fn csv_cell(text: &str) -> String {
    let clean = sanitize(text);
    if clean.trim_start().starts_with(['=', '+', '-', '@']) {
        format!("'{clean}")
    } else {
        clean.into_owned()
    }
}

/// A CSV write error as the I/O error under it, so that a closed pipe is
/// still recognisably a closed pipe (`csv`'s own conversion hides its kind).
fn csv_io(err: csv::Error) -> std::io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// The CSV columns every row has, in order; then one `cf.<key>` column per
/// custom-field key any row has.
const CSV_HEADER: [&str; 14] = [
    "display_id",
    "name",
    "domain",
    "normalized_domain",
    "duplicates",
    "owner",
    "owner_id",
    "plan",
    "source",
    "tags",
    "archived",
    "created_at",
    "updated_at",
    "id",
];

/// A timestamp as the API writes it (RFC 3339, `Z` for UTC); one RFC 3339
/// cannot hold (a year past 9999) is written as `time` prints it.
fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// Every field of every customer as CSV: the fixed columns, then one
/// `cf.<key>` column per custom-field key (the union over the rows, sorted,
/// so the columns are the same whatever the order of the rows), empty
/// where a customer has no such field.
fn csv(listed: &[Listed], out: &mut impl Write) -> std::io::Result<()> {
    let keys: BTreeSet<&str> = listed
        .iter()
        .flat_map(|row| row.entry.custom_fields.iter().map(|(k, _)| &**k))
        .collect();
    let mut csv = csv::Writer::from_writer(out);
    let header = CSV_HEADER
        .iter()
        .map(|h| (*h).to_owned())
        .chain(keys.iter().map(|k| format!("cf.{k}")));
    csv.write_record(header.map(|h: String| csv_cell(&h)))
        .map_err(csv_io)?;
    for row in listed {
        let e = &row.entry;
        let fixed = [
            e.display_id.to_string(),
            e.name.to_string(),
            e.domain.as_deref().unwrap_or_default().to_owned(),
            e.domain_key().unwrap_or_default().to_owned(),
            row.badge.unwrap_or(0).to_string(),
            row.owner.clone().unwrap_or_default(),
            e.owner_id.as_deref().unwrap_or_default().to_owned(),
            e.plan.as_deref().unwrap_or_default().to_owned(),
            e.source.as_str().to_owned(),
            e.tags.join(";"),
            e.archived.to_string(),
            rfc3339(e.created_at),
            rfc3339(e.updated_at),
            e.id().unwrap_or_default().to_owned(),
        ];
        let fields = keys.iter().map(|k| {
            e.custom_fields
                .iter()
                .find(|(key, _)| &**key == *k)
                .map(|(_, value)| value.to_string())
                .unwrap_or_default()
        });
        let cells = fixed
            .into_iter()
            .chain(fields)
            .map(|c: String| csv_cell(&c));
        csv.write_record(cells).map_err(csv_io)?;
    }
    csv.flush()
}

/// Prints customers in `format`.
///
/// # Errors
///
/// A failed write.
pub fn customers(listed: &[Listed], format: Format, out: &mut impl Write) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let rows: Vec<JsonCustomer> = listed.iter().map(JsonCustomer::from).collect();
            write_json(&rows, out)
        }
        Format::Csv => csv(listed, out),
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
            let mut domain = e.domain.as_deref().unwrap_or("—").to_owned();
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
                owner_cell(row),
                e.plan.as_deref().unwrap_or("—").to_owned(),
                e.source.to_string(),
            ]
        })
        .map(|cells| cells.map(|c| format::truncate(&sanitize(&c), MAX_CELL + 11).into_owned()))
        .collect();
    let header = ["#", "Name", "Domain", "Owner", "Plan", "Source"].map(str::to_owned);
    aligned(&header, &rows, out)?;
    if rows.is_empty() {
        writeln!(out, "(no customers match)")?;
    }
    Ok(())
}

/// `merged into #1003 on 2026-12-01`, as the app's archived view says it.
pub fn merged_note(merged: &MergedInto) -> String {
    format!(
        "merged into #{} on {}",
        merged.keeper_display_id,
        format::date(merged.at)
    )
}

/// An archived customer in `--json`: every field of a listed customer,
/// and the record a merge put it into (`null` when none is known).
#[derive(Serialize)]
struct JsonArchived<'a> {
    #[serde(flatten)]
    customer: JsonCustomer<'a>,
    merged_into: Option<JsonMerged<'a>>,
}

#[derive(Serialize)]
struct JsonMerged<'a> {
    id: Cow<'a, str>,
    display_id: u64,
    #[serde(with = "time::serde::rfc3339")]
    at: time::OffsetDateTime,
}

/// Archived customers: a table (`#`, Name, Domain, Owner, Archived: the
/// date, or which record a merge put it into), or a JSON array.
///
/// # Errors
///
/// A failed write.
pub fn archived(
    archived: &[(Listed, Option<MergedInto>)],
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        let rows: Vec<JsonArchived> = archived
            .iter()
            .map(|(listed, merged)| JsonArchived {
                customer: JsonCustomer::from(listed),
                merged_into: merged.as_ref().map(|m| JsonMerged {
                    id: sanitize(&m.keeper_id),
                    display_id: m.keeper_display_id,
                    at: m.at,
                }),
            })
            .collect();
        return write_json(&rows, out);
    }
    let header = ["#", "Name", "Domain", "Owner", "Archived"].map(str::to_owned);
    let rows: Vec<[String; 5]> = archived
        .iter()
        .map(|(row, merged)| {
            let e = &row.entry;
            let when = merged
                .as_ref()
                .map_or_else(|| format::date(e.updated_at), merged_note);
            [
                format!("#{}", e.display_id),
                e.name.to_string(),
                e.domain.as_deref().unwrap_or("—").to_owned(),
                owner_cell(row),
                when,
            ]
            .map(|c| format::truncate(&sanitize(&c), MAX_CELL).into_owned())
        })
        .collect();
    aligned(&header, &rows, out)?;
    if rows.is_empty() {
        writeln!(out, "(no archived customers)")?;
    }
    Ok(())
}

/// The owner as the table writes it: `me`, a name, or `—`.
fn owner_cell(row: &Listed) -> String {
    if row.mine {
        "me".to_owned()
    } else {
        row.owner.clone().unwrap_or_else(|| "—".into())
    }
}

/// `rows` under `header`, each column as wide as its widest cell.
fn aligned<const N: usize>(
    header: &[String; N],
    rows: &[[String; N]],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut widths = header.clone().map(|h| h.width());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(width - cell.width() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
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
        return write_json(&JsonCustomer::from(listed), out);
    }
    let e = &listed.entry;
    let dash = || "—".to_owned();
    let domain = match (e.domain.as_deref(), e.domain_key(), listed.badge) {
        (Some(d), Some(k), Some(n)) => format!("{d}  ({k}, shared by {n} customers)"),
        (Some(d), Some(k), None) if d != k => format!("{d}  ({k})"),
        (Some(d), _, _) => d.to_string(),
        (None, _, _) => dash(),
    };
    let fields = [
        ("Customer", format!("#{} {}", e.display_id, e.name)),
        ("Link", link.to_owned()),
        ("Domain", domain),
        ("Owner", listed.owner.clone().unwrap_or_else(dash)),
        ("Plan", e.plan.as_deref().map_or_else(dash, str::to_owned)),
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
        ("Id", e.id().unwrap_or_default().to_owned()),
    ];
    for (label, value) in fields {
        writeln!(out, "{label:<9} {}", sanitize(&value))?;
    }
    for (key, value) in e.custom_fields.iter() {
        writeln!(
            out,
            "{:<9} {} = {}",
            "Field",
            sanitize(key),
            sanitize(value)
        )?;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::macros::datetime;

    use super::*;
    use crate::api::{Customer, Source};

    /// Every way a string has been seen to take over a terminal.
    const HOSTILE: &str = "A\u{1b}]52;c;cm0gLXJmIH4=\u{7}B\u{1b}]0;pwned\u{7}C\u{1b}[2J\
                           D\u{9b}31mE\u{202e}F\u{2066}G\u{200b}H\u{85}I\u{2028}J\u{7f}K";

    fn hostile(text: &str) -> String {
        format!("{text}{HOSTILE}")
    }

    fn listed() -> Listed {
        let customer = Customer {
            id: hostile("cus_"),
            display_id: 7,
            name: hostile("=HYPERLINK(\"x\")"),
            domain: Some(hostile("acme.com")),
            owner_id: Some(hostile("usr_")),
            plan: Some(hostile("+Growth")),
            tags: vec![hostile("-tag"), hostile("@tag")],
            custom_fields: BTreeMap::from([(hostile("key"), hostile("value"))]),
            source: Source::Other(hostile("src").into()),
            archived: false,
            created_at: datetime!(2026-11-26 10:00:00 UTC),
            updated_at: datetime!(2026-11-26 10:00:00 UTC),
        };
        Listed {
            entry: Entry::from(customer),
            badge: Some(2),
            owner: Some(hostile("Mallory")),
            mine: false,
        }
    }

    /// No ESC, no C0 or C1 control other than a line break, no bidi or
    /// zero-width character.
    fn assert_printable(output: &str) {
        for line in output.lines() {
            assert!(!has_forbidden_chars(line), "{line:?}");
        }
        assert!(!output.contains('\u{1b}') && !output.contains('\u{9b}'));
    }

    fn print(format: Format) -> String {
        let mut out = Vec::new();
        customers(&[listed()], format, &mut out).expect("printed");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_table_csv_and_json_print_no_escape_control_or_bidi_character() {
        for format in [Format::Table, Format::Csv, Format::Json] {
            let output = print(format);
            assert_printable(&output);
            assert!(output.contains("ABCDEF"), "{format:?}: {output}");
        }
        let mut shown = Vec::new();
        customer(&listed(), &[], &hostile("https://x/"), false, &mut shown).expect("shown");
        assert_printable(&String::from_utf8(shown).expect("UTF-8"));
        let mut json = Vec::new();
        customer(&listed(), &[], "https://x/", true, &mut json).expect("shown");
        assert_printable(&String::from_utf8(json).expect("UTF-8"));
    }

    #[test]
    fn json_is_valid_and_holds_the_sanitised_text() {
        let output = print(Format::Json);
        let rows: serde_json::Value = serde_json::from_str(&output).expect("valid JSON");
        let row = &rows[0];
        assert_eq!(row["owner"], sanitize(&hostile("Mallory")).as_ref());
        assert_eq!(row["id"], sanitize(&hostile("cus_")).as_ref());
        assert!(
            row["owner"]
                .as_str()
                .is_some_and(|o| o.starts_with("MalloryABCDEFGH I J"))
        );
    }

    #[test]
    fn json_writes_invisible_and_c1_characters_as_escapes() {
        let mut out = Vec::new();
        let text = "a\u{9b}b\u{202e}c\u{200b}d\u{2028}e\u{1b}f 👩\u{200d}💻 é";
        write_json(&serde_json::json!({ "text": text }), &mut out).expect("written");
        let json = String::from_utf8(out).expect("UTF-8");
        assert!(
            json.contains(r"a\u009bb\u202ec\u200bd\u2028e\u001bf"),
            "{json}"
        );
        assert!(json.contains("👩\\u200d💻 é"), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid");
        assert_eq!(back["text"], text);
    }

    /// A plain customer with these custom fields.
    fn with_fields(display_id: u64, fields: &[(&str, &str)]) -> Listed {
        let customer = Customer {
            id: format!("cus_{display_id}"),
            display_id,
            name: format!("Customer {display_id}"),
            domain: Some("Acme.com".into()),
            owner_id: Some("usr_1".into()),
            plan: Some("Growth".into()),
            tags: vec!["beta".into(), "emea".into()],
            custom_fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            source: Source::Api,
            archived: false,
            created_at: datetime!(2021-03-04 05:06:07 UTC),
            updated_at: datetime!(2022-09-10 17:20:30 UTC),
        };
        Listed {
            entry: Entry::from(customer),
            badge: None,
            owner: Some("Dana Reyes".into()),
            mine: true,
        }
    }

    #[test]
    fn csv_carries_every_field_with_one_column_per_custom_field_key() {
        let rows = [
            with_fields(2, &[("seats", "120"), ("region", "EMEA")]),
            with_fields(1, &[("tier", "=1+1")]),
        ];
        let mut out = Vec::new();
        customers(&rows, Format::Csv, &mut out).expect("printed");
        let output = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(
            lines[0],
            "display_id,name,domain,normalized_domain,duplicates,owner,owner_id,plan,source,\
             tags,archived,created_at,updated_at,id,cf.region,cf.seats,cf.tier"
        );
        assert_eq!(
            lines[1],
            "2,Customer 2,Acme.com,acme.com,0,Dana Reyes,usr_1,Growth,api,beta;emea,false,\
             2021-03-04T05:06:07Z,2022-09-10T17:20:30Z,cus_2,EMEA,120,"
        );
        assert!(
            lines[2].ends_with(",cus_1,,,'=1+1"),
            "a missing field is empty, a formula still neutralised: {}",
            lines[2]
        );
    }

    #[test]
    fn json_carries_every_field_with_rfc3339_dates() {
        let mut out = Vec::new();
        customers(
            &[with_fields(2, &[("seats", "120")])],
            Format::Json,
            &mut out,
        )
        .expect("printed");
        let rows: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        let row = &rows[0];
        assert_eq!(row["created_at"], "2021-03-04T05:06:07Z");
        assert_eq!(row["updated_at"], "2022-09-10T17:20:30Z");
        assert_eq!(row["custom_fields"]["seats"], "120");
        assert_eq!(row["tags"], serde_json::json!(["beta", "emea"]));
        for field in [
            "id",
            "display_id",
            "name",
            "domain",
            "owner_id",
            "plan",
            "source",
            "archived",
        ] {
            assert!(!row[field].is_null(), "{field}");
        }
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_get_a_leading_quote() {
        for formula in ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "  =1"] {
            assert!(csv_cell(formula).starts_with('\''), "{formula:?}");
        }
        for plain in ["Acme", "1042", "a=b", "", "2026-11-26 10:00"] {
            assert_eq!(csv_cell(plain), plain);
        }
        let output = print(Format::Csv);
        let row = output.lines().nth(1).expect("a row");
        assert!(row.contains("'=HYPERLINK"), "{row}");
        assert!(row.contains("'+Growth"), "{row}");
        assert!(row.contains(",'-tag"), "{row}");
    }
}
