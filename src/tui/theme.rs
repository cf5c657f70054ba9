//! The app's few styles. The dark and light themes name every colour in a
//! small palette, chosen so that each text style stands out at least 4.5:1
//! (WCAG AA) from the background it is drawn on, measured with the standard
//! xterm palette (see `contrast`). Secondary text is a grey of its own, not
//! the terminal's dim attribute, which xterm draws at half intensity and
//! below 4.5:1. With `NO_COLOR` set there is no colour at all: selection is
//! reverse video and badges are bracketed. On a terminal with only the 16
//! base colours each theme keeps to those (and reverse video), measured
//! the same way. The theme also carries the characters the app draws
//! ([`Glyphs`]): Unicode, or ASCII where the terminal cannot show more.

mod caps;
mod glyphs;

use ratatui::style::{Color, Modifier, Style};

use crate::settings::ThemeChoice;
pub use caps::{Asked, Caps};
pub use glyphs::{ASCII, Glyphs, UNICODE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    /// Colours picked to read on a light background (no yellow text).
    pub light: bool,
    /// Only the 16 base colours, for terminals that have no more.
    pub sixteen: bool,
    /// Styles for text inside the selected row (see `in_selected_row`).
    in_selection: bool,
    /// The characters the app draws itself.
    pub glyphs: &'static Glyphs,
    /// For a screen reader: meaning in words, never in colour or a glyph
    /// alone (badges, unsaved rows, differences), and nothing animated.
    pub screen_reader: bool,
}

/// The colours of one coloured theme. Text colours are measured against the
/// background the theme is made for (black for dark, white for light).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Palette {
    /// Secondary text: a fixed grey from the 256-colour ramp.
    dim: Color,
    /// Warnings and compared values that differ.
    caution: Color,
    error: Color,
    ok: Color,
    key: Color,
    /// Text the filter matched.
    matched: Color,
    /// Borders, and the titles drawn on them.
    border: Color,
    badge_fg: Color,
    badge_bg: Color,
}

/// On black: bright variants where the normal one is too dark (red 3.6:1,
/// magenta 4.48:1, blue 2.23:1 in xterm), and a light blue from the cube
/// (xterm's bright blue is 4.43:1).
const DARK: Palette = Palette {
    dim: Color::Indexed(245),
    caution: Color::Yellow,
    error: Color::LightRed,
    ok: Color::Green,
    key: Color::Cyan,
    matched: Color::LightMagenta,
    border: Color::Indexed(75),
    badge_fg: Color::Black,
    badge_bg: Color::Yellow,
};

/// On white: dark variants; cyan and green are too pale in xterm's 16
/// (1.98:1 and 2.16:1) and magenta barely passes (4.69:1), so keys, success
/// and matches use deep ones from the cube.
const LIGHT: Palette = Palette {
    dim: Color::Indexed(242),
    caution: Color::Blue,
    error: Color::Red,
    ok: Color::Indexed(22),
    key: Color::Indexed(23),
    matched: Color::Indexed(90),
    border: Color::Blue,
    badge_fg: Color::Black,
    badge_bg: Color::Yellow,
};

/// On black with the 16 base colours only: a grey and cyan in place of
/// the cube's (dark grey is 5.24:1 in xterm, cyan 10.6:1).
const DARK_16: Palette = Palette {
    dim: Color::DarkGray,
    caution: Color::Yellow,
    error: Color::LightRed,
    ok: Color::Green,
    key: Color::Cyan,
    matched: Color::LightMagenta,
    border: Color::Cyan,
    badge_fg: Color::Black,
    badge_bg: Color::Yellow,
};

/// On white with the 16 base colours only: no grey reads 4.5:1 there
/// (dark grey is 4.0:1) and neither green nor cyan does, so secondary text
/// and success are the terminal's own text colour; keys and matches are
/// magenta (4.69:1), warnings and borders blue (9.4:1), errors red (5.84:1).
const LIGHT_16: Palette = Palette {
    dim: Color::Reset,
    caution: Color::Blue,
    error: Color::Red,
    ok: Color::Reset,
    key: Color::Magenta,
    matched: Color::Magenta,
    border: Color::Blue,
    badge_fg: Color::Black,
    badge_bg: Color::Yellow,
};

impl Theme {
    /// The theme the settings ask for on the terminal `caps` describes:
    /// `auto` is `mono` under `NO_COLOR`, `light` on a background the
    /// terminal says is light, else `dark`; the 16 base colours only where
    /// the terminal has no more; ASCII where it cannot show Unicode.
    pub fn for_terminal(choice: ThemeChoice, caps: Caps) -> Theme {
        let theme = match choice {
            ThemeChoice::Auto if caps.no_color => Theme::mono(),
            ThemeChoice::Auto if caps.light_background => Theme::choose(ThemeChoice::Light),
            ThemeChoice::Auto => Theme::colored(),
            other => Theme::choose(other),
        };
        let theme = Theme {
            sixteen: caps.sixteen,
            screen_reader: caps.screen_reader,
            ..theme
        };
        if caps.ascii { theme.ascii() } else { theme }
    }

    /// The same theme drawing only ASCII.
    #[must_use]
    pub fn ascii(self) -> Theme {
        Theme {
            glyphs: &ASCII,
            ..self
        }
    }

    /// The same theme in the 16 base colours.
    #[must_use]
    pub fn sixteen_colours(self) -> Theme {
        Theme {
            sixteen: true,
            ..self
        }
    }

    /// Colour unless `NO_COLOR` is set to a non-empty value (no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if no_color {
            Theme::mono()
        } else {
            Theme::colored()
        }
    }

    /// The theme the settings ask for: `auto` follows `NO_COLOR`, `mono`
    /// has no colour, `dark` and `light` have colour whatever `NO_COLOR`
    /// says (the user chose it).
    pub fn choose(choice: ThemeChoice) -> Theme {
        match choice {
            ThemeChoice::Auto => Theme::from_env(),
            ThemeChoice::Mono => Theme::mono(),
            ThemeChoice::Dark => Theme::colored(),
            ThemeChoice::Light => Theme {
                light: true,
                ..Theme::colored()
            },
        }
    }

    pub fn mono() -> Theme {
        Theme {
            color: false,
            light: false,
            sixteen: false,
            in_selection: false,
            glyphs: &UNICODE,
            screen_reader: false,
        }
    }

    pub fn colored() -> Theme {
        Theme {
            color: true,
            light: false,
            sixteen: false,
            in_selection: false,
            glyphs: &UNICODE,
            screen_reader: false,
        }
    }

    /// The same theme for a screen reader.
    #[must_use]
    pub fn for_screen_reader(self) -> Theme {
        Theme {
            screen_reader: true,
            ..self
        }
    }

    /// The styles for the cells of the selected row. The row is one
    /// `selected()` bar: text inside keeps its weight and underline (so a
    /// filter match still shows) but not its own colour, so no cell shows
    /// a patch of another colour; a badge stays a pill.
    pub fn in_selected_row(self) -> Theme {
        Theme {
            in_selection: true,
            ..self
        }
    }

    fn palette(self) -> Option<Palette> {
        match (self.color, self.light, self.sixteen) {
            (false, _, _) => None,
            (true, false, false) => Some(DARK),
            (true, true, false) => Some(LIGHT),
            (true, false, true) => Some(DARK_16),
            (true, true, true) => Some(LIGHT_16),
        }
    }

    /// `modifier` in `color` from the palette, or `modifier` alone without
    /// colour or inside the selected row.
    fn text(self, color: impl Fn(Palette) -> Color, modifier: Modifier) -> Style {
        let style = Style::new().add_modifier(modifier);
        match self.palette() {
            Some(palette) if !self.in_selection => style.fg(color(palette)),
            _ => style,
        }
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn column_header(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// Reverse video: the terminal's own text and background swapped, which
    /// reads as well as plain text in every theme and without colour.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Secondary text: ids, hints, empty values.
    pub fn dim(self) -> Style {
        self.text(|p| p.dim, Modifier::empty())
    }

    /// What the list looks like while a form beside it has the keys: every
    /// cell in the secondary grey on the plain background (so a badge is
    /// grey text, not grey on yellow); the selected row stays reversed.
    pub fn inactive(self) -> Style {
        match self.palette() {
            Some(palette) => Style::new().fg(palette.dim).bg(Color::Reset),
            None => Style::new(),
        }
    }

    /// A pill (dark text on yellow) in colour, bold without; in the
    /// selected row too, where the pill cancels the row's reverse video.
    pub fn badge(self) -> Style {
        match self.palette() {
            Some(palette) => Style::new()
                .fg(palette.badge_fg)
                .bg(palette.badge_bg)
                .remove_modifier(Modifier::REVERSED),
            None => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// The badge text for `n` records sharing a domain: a pill in colour,
    /// brackets without, words for a screen reader.
    pub fn badge_text(self, n: usize) -> String {
        if self.screen_reader {
            format!("({n} share this domain)")
        } else if self.color {
            format!(" {n} ")
        } else {
            format!("[{n}]")
        }
    }

    /// The marker beside a name that `n` live customers share (a likely
    /// duplicate, not a shared domain): `≈2` in colour, `[~2]` without
    /// colour or in ASCII, words for a screen reader.
    pub fn likely_text(self, n: usize) -> String {
        if self.screen_reader {
            format!("({n} share this name)")
        } else if self.color && !self.glyphs.ascii {
            format!("{}{n}", self.glyphs.likely)
        } else {
            // `~` whatever the glyph set: brackets and a tilde read the
            // same on every terminal once colour is off.
            format!("[~{n}]")
        }
    }

    /// The likely-duplicate marker: bold text, not a pill, so that it never
    /// reads as the domain badge and keeps the text's contrast in every
    /// theme (the `≈` says what it is).
    pub fn likely(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// The id column of a customer not saved yet: a mark, or a word for a
    /// screen reader.
    pub fn pending_id(self) -> &'static str {
        if self.screen_reader {
            "new"
        } else {
            self.glyphs.pending
        }
    }

    /// After a compared value that differs from another record's: nothing
    /// (its colour says so), or words for a screen reader.
    pub fn differs_note(self) -> &'static str {
        if self.screen_reader { " (differs)" } else { "" }
    }

    /// Yellow on dark backgrounds; on light ones yellow text fades, so blue.
    pub fn warning(self) -> Style {
        self.text(|p| p.caution, Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        self.text(|p| p.error, Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        // Green is pale on white: bold there too.
        let modifier = if self.light {
            Modifier::BOLD
        } else {
            Modifier::empty()
        };
        self.text(|p| p.ok, modifier)
    }

    pub fn key(self) -> Style {
        self.text(|p| p.key, Modifier::BOLD)
    }

    /// Text the filter matched.
    pub fn matched(self) -> Style {
        self.text(|p| p.matched, Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// A compared field whose value differs between the records.
    pub fn differs(self) -> Style {
        self.text(|p| p.caution, Modifier::BOLD)
    }

    pub fn border(self) -> Style {
        self.text(|p| p.border, Modifier::empty())
    }

    /// Every style this theme hands out, by name: what the contrast test
    /// walks. Each is drawn on the plain background, or for the selected
    /// row's theme, over `selected()`.
    pub fn styles(self) -> [(&'static str, Style); 14] {
        [
            ("plain text", Style::new()),
            ("title", self.title()),
            ("column header", self.column_header()),
            ("selected", self.selected()),
            ("dim", self.dim()),
            ("badge", self.badge()),
            ("warning", self.warning()),
            ("error", self.error()),
            ("ok", self.ok()),
            ("key", self.key()),
            ("key, focused", self.key().patch(self.selected())),
            ("matched", self.matched()),
            ("differs", self.differs()),
            ("border", self.border()),
        ]
    }
}

/// WCAG contrast as a standard xterm shows it, for the tests.
#[cfg(test)]
pub mod contrast;

#[cfg(test)]
mod tests {
    use super::contrast::{DARK_SCREEN, LIGHT_SCREEN, Screen, of_style};
    use super::*;

    /// WCAG AA for normal text.
    const MINIMUM: f64 = 4.5;

    /// Each theme with the screen it is made for; without colour the
    /// terminal may be either, so both.
    fn themes() -> [(&'static str, Theme, Screen); 6] {
        [
            ("dark", Theme::choose(ThemeChoice::Dark), DARK_SCREEN),
            ("light", Theme::choose(ThemeChoice::Light), LIGHT_SCREEN),
            (
                "dark in 16 colours",
                Theme::choose(ThemeChoice::Dark).sixteen_colours(),
                DARK_SCREEN,
            ),
            (
                "light in 16 colours",
                Theme::choose(ThemeChoice::Light).sixteen_colours(),
                LIGHT_SCREEN,
            ),
            (
                "mono on dark",
                Theme::choose(ThemeChoice::Mono),
                DARK_SCREEN,
            ),
            (
                "mono on light",
                Theme::choose(ThemeChoice::Mono),
                LIGHT_SCREEN,
            ),
        ]
    }

    /// Every style as drawn: on the plain background, inside the selected
    /// row, and dimmed behind a form (over either).
    fn drawn(theme: Theme) -> Vec<(String, Style)> {
        let mut out = Vec::new();
        for (name, style) in theme.styles() {
            out.push((name.to_owned(), style));
            out.push((
                format!("{name}, behind a form"),
                style.patch(theme.inactive()),
            ));
        }
        for (name, style) in theme.in_selected_row().styles() {
            let style = theme.selected().patch(style);
            out.push((format!("{name} in the selected row"), style));
            out.push((
                format!("{name} in the selected row, behind a form"),
                style.patch(theme.inactive()),
            ));
        }
        out
    }

    #[test]
    fn every_style_of_every_theme_stands_out_4_5_to_1_from_its_background() {
        let mut failures = Vec::new();
        for (theme_name, theme, screen) in themes() {
            for (name, style) in drawn(theme) {
                let ratio = of_style(style, screen);
                if ratio < MINIMUM {
                    failures.push(format!("{theme_name}: {name} is {ratio:.2}:1"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "below {MINIMUM}:1:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn sixteen_colour_themes_use_only_the_16_base_colours() {
        for (theme_name, theme, _) in themes() {
            if !theme.sixteen {
                continue;
            }
            for (name, style) in drawn(theme) {
                for colour in [style.fg, style.bg].into_iter().flatten() {
                    assert!(
                        !matches!(colour, Color::Indexed(_) | Color::Rgb(..)),
                        "{theme_name}: {name} is {colour:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_terminal_decides_colours_and_characters_the_settings_leave_open() {
        let caps = Caps {
            ascii: true,
            sixteen: true,
            light_background: true,
            no_color: false,
            screen_reader: false,
        };
        let auto = Theme::for_terminal(ThemeChoice::Auto, caps);
        assert!(auto.light && auto.sixteen && auto.glyphs.ascii);
        let dark = Theme::for_terminal(ThemeChoice::Dark, caps);
        assert!(!dark.light, "a chosen theme stays chosen");
        let no_color = Caps {
            no_color: true,
            ..Caps::default()
        };
        assert!(!Theme::for_terminal(ThemeChoice::Auto, no_color).color);
        assert_eq!(
            Theme::for_terminal(ThemeChoice::Auto, Caps::default()),
            Theme::colored()
        );
    }

    #[test]
    fn coloured_themes_draw_no_text_dim_because_xterm_halves_it() {
        for (theme_name, theme, _) in themes() {
            for (name, style) in drawn(theme) {
                assert!(
                    !style.add_modifier.contains(Modifier::DIM),
                    "{theme_name}: {name} is dim"
                );
            }
        }
    }

    #[test]
    fn the_selected_row_is_one_bar_with_only_the_badge_in_its_own_colours() {
        for (theme_name, theme, _) in themes() {
            let row = theme.in_selected_row();
            for (name, style) in row.styles() {
                let drawn = theme.selected().patch(style);
                if name == "badge" && theme.color {
                    assert_eq!(
                        (drawn.fg, drawn.bg),
                        (theme.badge().fg, theme.badge().bg),
                        "{theme_name}: the badge keeps its pill"
                    );
                    assert!(
                        !drawn.add_modifier.contains(Modifier::REVERSED),
                        "{theme_name}: the pill is not reversed"
                    );
                } else {
                    assert_eq!(
                        (drawn.fg, drawn.bg),
                        (None, None),
                        "{theme_name}: {name} in the selected row has a colour of its own"
                    );
                }
            }
        }
    }
}
