//! WCAG 2.x contrast of what a style draws, measured the way a person sees
//! it in a standard xterm: named colours as xterm's default palette shows
//! them, indexed colours as its 256-colour cube and greys, and `Reset` as
//! the default foreground and background the theme is made for.

use ratatui::style::{Color, Modifier, Style};

/// Red, green and blue, 0 to 255.
pub type Rgb = (u8, u8, u8);

/// The default colours of the terminal a theme is drawn on: what `Reset`
/// shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub name: &'static str,
    pub fg: Rgb,
    pub bg: Rgb,
}

/// xterm's defaults with a black background (`xterm -rv` and most dark
/// setups): light grey text on black.
pub const DARK_SCREEN: Screen = Screen {
    name: "dark",
    fg: (229, 229, 229),
    bg: (0, 0, 0),
};

/// xterm's own defaults: black text on white.
pub const LIGHT_SCREEN: Screen = Screen {
    name: "light",
    fg: (0, 0, 0),
    bg: (255, 255, 255),
};

/// The 16 base colours as xterm's default palette draws them.
const XTERM_16: [Rgb; 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

/// The colour xterm shows for `color`; `default` stands for `Reset`.
pub fn rgb(color: Color, default: Rgb) -> Rgb {
    match color {
        Color::Reset => default,
        Color::Black => XTERM_16[0],
        Color::Red => XTERM_16[1],
        Color::Green => XTERM_16[2],
        Color::Yellow => XTERM_16[3],
        Color::Blue => XTERM_16[4],
        Color::Magenta => XTERM_16[5],
        Color::Cyan => XTERM_16[6],
        Color::Gray => XTERM_16[7],
        Color::DarkGray => XTERM_16[8],
        Color::LightRed => XTERM_16[9],
        Color::LightGreen => XTERM_16[10],
        Color::LightYellow => XTERM_16[11],
        Color::LightBlue => XTERM_16[12],
        Color::LightMagenta => XTERM_16[13],
        Color::LightCyan => XTERM_16[14],
        Color::White => XTERM_16[15],
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(n) => indexed(n),
    }
}

/// xterm's 256 colours: the 16 base ones, a 6×6×6 cube, then 24 greys.
fn indexed(n: u8) -> Rgb {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match n {
        0..=15 => XTERM_16[usize::from(n)],
        16..=231 => {
            let i = n - 16;
            (
                LEVELS[usize::from(i / 36)],
                LEVELS[usize::from(i / 6 % 6)],
                LEVELS[usize::from(i % 6)],
            )
        }
        232..=255 => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
    }
}

/// WCAG relative luminance, 0 (black) to 1 (white).
pub fn luminance((r, g, b): Rgb) -> f64 {
    fn linear(channel: u8) -> f64 {
        let c = f64::from(channel) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG contrast ratio, 1 (none) to 21 (black on white).
pub fn ratio(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The text and background colours a cell shows on `screen`: `REVERSED`
/// swaps them, and `DIM` (xterm draws it at reduced intensity) takes the
/// text halfway to the background.
pub fn shown(fg: Color, bg: Color, modifier: Modifier, screen: Screen) -> (Rgb, Rgb) {
    let (mut fg, mut bg) = (rgb(fg, screen.fg), rgb(bg, screen.bg));
    if modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    if modifier.contains(Modifier::DIM) {
        let half = |f: u8, b: u8| u8::try_from((u16::from(f) + u16::from(b)) / 2).unwrap_or(f);
        fg = (half(fg.0, bg.0), half(fg.1, bg.1), half(fg.2, bg.2));
    }
    (fg, bg)
}

/// The contrast of text drawn in `style` (its unset colours being the
/// screen's defaults) on `screen`.
pub fn of_style(style: Style, screen: Screen) -> f64 {
    let modifier = style.add_modifier - style.sub_modifier;
    let (fg, bg) = shown(
        style.fg.unwrap_or(Color::Reset),
        style.bg.unwrap_or(Color::Reset),
        modifier,
        screen,
    );
    ratio(fg, bg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_on_white_is_21_and_a_colour_on_itself_is_1() {
        assert!((ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!((ratio((205, 0, 205), (205, 0, 205)) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_xterm_palette_gives_the_ratios_the_issue_measured() {
        let on_black = |c| ratio(rgb(c, (0, 0, 0)), (0, 0, 0));
        let on_white = |c| ratio(rgb(c, (0, 0, 0)), (255, 255, 255));
        assert_eq!(format!("{:.2}", on_black(Color::Blue)), "2.23");
        assert_eq!(format!("{:.2}", on_black(Color::Magenta)), "4.48");
        assert_eq!(format!("{:.2}", on_white(Color::Cyan)), "1.98");
        assert_eq!(format!("{:.2}", on_white(Color::Green)), "2.16");
    }

    #[test]
    fn indexed_colours_follow_the_cube_and_the_grey_ramp() {
        assert_eq!(indexed(16), (0, 0, 0));
        assert_eq!(indexed(75), (95, 175, 255));
        assert_eq!(indexed(231), (255, 255, 255));
        assert_eq!(indexed(232), (8, 8, 8));
        assert_eq!(indexed(255), (238, 238, 238));
        assert_eq!(indexed(9), rgb(Color::LightRed, (0, 0, 0)));
    }

    #[test]
    fn reversed_swaps_and_dim_halves_the_text_towards_the_background() {
        let style = Style::new().add_modifier(Modifier::REVERSED);
        let (fg, bg) = shown(Color::Reset, Color::Reset, Modifier::REVERSED, DARK_SCREEN);
        assert_eq!((fg, bg), (DARK_SCREEN.bg, DARK_SCREEN.fg));
        assert!((of_style(style, DARK_SCREEN) - ratio((0, 0, 0), (229, 229, 229))).abs() < 1e-9);
        let (fg, _) = shown(Color::White, Color::Black, Modifier::DIM, DARK_SCREEN);
        assert_eq!(fg, (127, 127, 127));
    }
}
