//! What the terminal can show, read once at start from the environment:
//! whether it can draw more than ASCII, whether it has more than the 16
//! base colours, whether its background is light, whether the user asked
//! for no colour, and whether a screen reader reads it. Pure: it reads
//! variables through a function it is given, so tests never touch the
//! process environment.

/// What the terminal the app runs in can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps {
    /// Draw only ASCII: the locale is not UTF-8, the terminal is the Linux
    /// console or a VT, or the user asked (`ascii = true`, `--ascii`).
    pub ascii: bool,
    /// Only the 16 base colours: `TERM=linux`, `xterm-16color`, a VT.
    pub sixteen: bool,
    /// The terminal says its background is light (`COLORFGBG`).
    pub light_background: bool,
    /// `NO_COLOR` is set to something.
    pub no_color: bool,
    /// A screen reader reads the screen: `PIVOTAL_SCREEN_READER=1`,
    /// `--screen-reader` or `screen_reader = true`.
    pub screen_reader: bool,
}

/// What the user asked for on the command line or in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asked {
    pub ascii: bool,
    pub screen_reader: bool,
}

impl Caps {
    /// From the process environment, with what the user `asked` for.
    pub fn from_env(asked: Asked) -> Caps {
        Caps::read(|name| std::env::var(name).ok(), asked)
    }

    /// From the variables `var` gives.
    pub fn read(var: impl Fn(&str) -> Option<String>, asked: Asked) -> Caps {
        let term = var("TERM").unwrap_or_default().to_ascii_lowercase();
        let colorterm = var("COLORTERM").unwrap_or_default().to_ascii_lowercase();
        let many_colours = matches!(colorterm.as_str(), "truecolor" | "24bit")
            || term.contains("256color")
            || term.contains("direct");
        let reader = var("PIVOTAL_SCREEN_READER")
            .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
        Caps {
            ascii: asked.ascii || !utf8_locale(&var) || plain_terminal(&term),
            sixteen: !many_colours && sixteen_colours(&term),
            light_background: var("COLORFGBG").is_some_and(|v| light_background(&v)),
            no_color: var("NO_COLOR").is_some_and(|v| !v.is_empty()),
            screen_reader: asked.screen_reader || reader,
        }
    }
}

/// The locale as POSIX picks it for characters: the first of `LC_ALL`,
/// `LC_CTYPE` and `LANG` that is set (and not empty); none is the C
/// locale, which is ASCII.
fn utf8_locale(var: &impl Fn(&str) -> Option<String>) -> bool {
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()));
    locale.is_some_and(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("utf-8") || l.contains("utf8")
    })
}

/// Terminals whose fonts have no box drawing or arrows to rely on.
fn plain_terminal(term: &str) -> bool {
    term == "linux" || term.starts_with("vt")
}

/// Terminals with the 16 base colours (or fewer) and nothing more.
fn sixteen_colours(term: &str) -> bool {
    plain_terminal(term)
        || term.ends_with("-16color")
        || term.ends_with("-color")
        || term.ends_with("-8color")
        || matches!(term, "ansi" | "cons25" | "xterm-old")
}

/// `COLORFGBG` is `fg;bg` (sometimes `fg;default;bg`) in the 16 base
/// colours: a background of 7 (light grey) or 9 to 15 but 8 is light.
fn light_background(value: &str) -> bool {
    value
        .rsplit(';')
        .next()
        .and_then(|bg| bg.trim().parse::<u8>().ok())
        .is_some_and(|bg| bg == 7 || (9..=15).contains(&bg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(vars: &[(&str, &str)]) -> Caps {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Caps::read(
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            Asked::default(),
        )
    }

    #[test]
    fn the_first_locale_variable_set_decides_as_posix_says() {
        let utf8 = |vars: &[(&str, &str)]| !caps(vars).ascii;
        assert!(utf8(&[("LANG", "en_US.UTF-8")]));
        assert!(utf8(&[("LANG", "C.utf8")]));
        assert!(!utf8(&[("LANG", "C")]));
        assert!(!utf8(&[]), "no locale at all is the C locale");
        assert!(!utf8(&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")]));
        assert!(utf8(&[
            ("LC_ALL", ""),
            ("LC_CTYPE", "de_DE.UTF-8"),
            ("LANG", "C")
        ]));
        assert!(!utf8(&[
            ("LC_CTYPE", "en_US.ISO-8859-1"),
            ("LANG", "en_US.UTF-8")
        ]));
    }

    #[test]
    fn the_linux_console_and_vts_are_ascii_with_16_colours() {
        for term in ["linux", "vt100", "vt220"] {
            let found = caps(&[("LANG", "en_US.UTF-8"), ("TERM", term)]);
            assert!(found.ascii && found.sixteen, "{term}: {found:?}");
        }
        let xterm = caps(&[("LANG", "en_US.UTF-8"), ("TERM", "xterm-256color")]);
        assert!(!xterm.ascii && !xterm.sixteen);
        let asked = Asked {
            ascii: true,
            screen_reader: false,
        };
        assert!(
            Caps::read(|_| Some("en_US.UTF-8".into()), asked).ascii,
            "asked for"
        );
    }

    #[test]
    fn sixteen_colours_come_from_term_unless_colorterm_says_more() {
        assert!(caps(&[("TERM", "xterm-16color")]).sixteen);
        assert!(caps(&[("TERM", "xterm-color")]).sixteen);
        assert!(!caps(&[("TERM", "xterm-16color"), ("COLORTERM", "truecolor")]).sixteen);
        assert!(!caps(&[("TERM", "xterm")]).sixteen);
        assert!(!caps(&[("TERM", "tmux-256color")]).sixteen);
    }

    #[test]
    fn colorfgbg_tells_a_light_background() {
        assert!(caps(&[("COLORFGBG", "0;15")]).light_background);
        assert!(caps(&[("COLORFGBG", "0;default;7")]).light_background);
        assert!(!caps(&[("COLORFGBG", "15;0")]).light_background);
        assert!(!caps(&[("COLORFGBG", "7;8")]).light_background);
        assert!(caps(&[("NO_COLOR", "1")]).no_color);
        assert!(caps(&[("PIVOTAL_SCREEN_READER", "1")]).screen_reader);
        assert!(!caps(&[("PIVOTAL_SCREEN_READER", "0")]).screen_reader);
        assert!(!caps(&[("NO_COLOR", "")]).no_color);
    }
}
