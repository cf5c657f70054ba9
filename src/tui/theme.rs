//! The app's few styles, from the 16 base colours so they read on dark and
//! light terminals alike. With `NO_COLOR` set there is no colour at all:
//! selection is reverse video and badges are bracketed.

use ratatui::style::{Color, Modifier, Style};

use crate::settings::ThemeChoice;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    /// Colours picked to read on a light background (no yellow text).
    pub light: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to a non-empty value (no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !no_color,
            light: false,
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
        }
    }

    pub fn colored() -> Theme {
        Theme {
            color: true,
            light: false,
        }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn column_header(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Secondary text: ids, hints, empty values.
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            Style::new()
        }
    }

    pub fn badge(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// The badge text for `n` records sharing a domain: a pill in colour,
    /// brackets without.
    pub fn badge_text(self, n: usize) -> String {
        if self.color {
            format!(" {n} ")
        } else {
            format!("[{n}]")
        }
    }

    pub fn warning(self) -> Style {
        self.fg(self.caution()).add_modifier(Modifier::BOLD)
    }

    /// Yellow on dark backgrounds; on light ones yellow text fades, so blue.
    fn caution(self) -> Color {
        if self.light {
            Color::Blue
        } else {
            Color::Yellow
        }
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        // Bright green is hard to read on white.
        if self.light {
            self.fg(Color::Green).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::Green)
        }
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Text the filter matched.
    pub fn matched(self) -> Style {
        self.fg(Color::Magenta)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// A compared field whose value differs between the records.
    pub fn differs(self) -> Style {
        self.fg(self.caution()).add_modifier(Modifier::BOLD)
    }

    pub fn border(self) -> Style {
        self.fg(Color::Blue)
    }
}

/// WCAG contrast as a standard xterm shows it, for the tests.
#[cfg(test)]
pub mod contrast;
