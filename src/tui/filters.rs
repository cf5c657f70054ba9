//! What narrows and orders the list: the filter line, My customers,
//! duplicates only, and the rows they give, with the search index kept for
//! the filter. Data only; `finder` changes it, the views read it.

use tui_input::Input;

use crate::domain::{FilterState, Query, Rows, SearchIndex};

/// What narrows and orders the list, besides the set's own sort.
#[derive(Debug, Default)]
pub struct Finder {
    /// "My customers": only customers owned by the signed-in user.
    pub mine: bool,
    /// Only customers whose domain badge is 2 or more, grouped by domain.
    pub duplicates_only: bool,
    /// With `duplicates_only`: the groups dismissed as "not a duplicate"
    /// instead (`D` twice), to revive one.
    pub dismissed_only: bool,
    /// The text filter, while one is typed or kept.
    pub line: Option<FilterLine>,
    /// What the list shows, row by row.
    pub rows: Rows,
    /// The (set version, team version) the rows were computed from; `None`
    /// forces a recompute.
    pub(super) rows_from: Option<(u64, u64)>,
    /// The search index and the (set version, team version) it matches;
    /// built when `/` is first pressed, then kept and brought up to date.
    pub(super) index: Option<(SearchIndex, (u64, u64))>,
    /// The query the last refresh applied, to notice a new one.
    pub(super) applied: Query,
    /// Duplicate keys of the groups dismissed as "not a duplicate" that
    /// have gained no member since, sorted: left out of duplicates only,
    /// their badges dimmed.
    pub hidden: Vec<String>,
}

/// The filter line under the list.
#[derive(Debug, Default)]
pub struct FilterLine {
    pub input: Input,
    /// The cursor is in the line (typing goes to it).
    pub editing: bool,
    pub(super) filter: FilterState,
}

impl FilterLine {
    /// The query as typed, parsed.
    pub fn query(&self) -> Query {
        Query::parse(self.input.value())
    }
}

impl Finder {
    /// The text filter's query, when one is in force.
    pub fn query(&self) -> Option<Query> {
        let query = self.line.as_ref()?.query();
        (query != Query::Empty).then_some(query)
    }

    /// Whether any filter narrows the list.
    pub fn narrowed(&self) -> bool {
        self.mine || self.duplicates_only || self.query().is_some()
    }

    /// Forces the rows to be recomputed at the next `finder::refresh`.
    pub(super) fn invalidate(&mut self) {
        self.rows_from = None;
    }

    /// Whether the group sharing `key` is dismissed.
    pub fn is_hidden(&self, key: Option<&str>) -> bool {
        key.is_some_and(|k| self.hidden.binary_search_by(|h| h.as_str().cmp(k)).is_ok())
    }
}
