//! Sanitising untrusted text (server responses, imported CRM data) so that
//! it can be printed on a terminal: no escape sequences, no control
//! characters, no line breaks, no invisible bidi or zero-width tricks.
//!
//! Pure string logic only: no I/O, no async, no UI.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// The 8-bit String Terminator (the 7-bit form is `ESC \`).
const ST: char = '\u{9c}';
const ZWJ: char = '\u{200d}';
/// Emoji presentation selector, which often sits before a ZWJ (`❤️‍🔥`).
const EMOJI_PRESENTATION: char = '\u{fe0f}';
/// Shown in place of a control character, so that its presence stays visible.
const PLACEHOLDER: char = '\u{fffd}';

/// Makes server or user text safe to print on a terminal, on one line.
///
/// - Line breaks and tabs (`\t`, `\n`, `\r`, VT, FF, NEL, U+2028, U+2029)
///   become one space each; `\r\n` counts as one.
/// - ANSI/VT escape sequences are removed whole: CSI, OSC, DCS, SOS, PM,
///   APC, two-byte `ESC x`, and their 8-bit C1 forms. A sequence cut off by
///   the end of the text is removed too.
/// - Any other C0 control, DEL or C1 control becomes `U+FFFD` (`�`).
/// - Bidi embeddings, overrides, isolates and marks, and zero-width
///   characters are removed, except a zero-width joiner between two emoji,
///   which keeps family and other ZWJ emoji whole.
///
/// Everything else (accents, CJK, emoji) is untouched, and clean text is
/// returned borrowed without allocating.
#[must_use]
pub fn sanitize(s: &str) -> Cow<'_, str> {
    let Some(start) = first_change(s) else {
        return Cow::Borrowed(s);
    };
    let (clean, rest) = s.split_at(start);
    let mut out = String::with_capacity(s.len());
    out.push_str(clean);
    sanitize_into(rest.chars().peekable(), &mut out);
    Cow::Owned(out)
}

/// True when [`sanitize`] would change `s`: it holds a control character,
/// a line break or tab, an escape sequence, a bidi control or a zero-width
/// character (other than a ZWJ joining two emoji). Plain spaces are fine.
/// Used by validation ("no control characters").
#[must_use]
pub fn has_forbidden_chars(s: &str) -> bool {
    first_change(s).is_some()
}

/// What [`sanitize`] does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Keep,
    Drop,
    Space,
    Placeholder,
    /// `ESC`: what follows decides which sequence, if any, it starts.
    Escape,
    /// 8-bit CSI (U+009B).
    Csi,
    /// 8-bit OSC (U+009D), which BEL may also end, or DCS, SOS, PM or APC.
    ControlString {
        bel_ends: bool,
    },
}

/// Decides what to do with `c`, given the character kept before it and the
/// character after it in the input (only a ZWJ looks at them).
fn action(c: char, prev: Option<char>, next: Option<char>) -> Action {
    match c {
        ' '..='~' => Action::Keep,
        '\r' if next == Some('\n') => Action::Drop,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
            Action::Space
        }
        ESC => Action::Escape,
        '\u{9b}' => Action::Csi,
        '\u{9d}' => Action::ControlString { bel_ends: true },
        '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => Action::ControlString { bel_ends: false },
        ZWJ if joins_emoji(prev, next) => Action::Keep,
        c if is_bidi_control(c) || is_zero_width(c) => Action::Drop,
        c if c.is_control() => Action::Placeholder,
        _ => Action::Keep,
    }
}

/// The byte offset of the first character that [`sanitize`] would change.
fn first_change(s: &str) -> Option<usize> {
    // Printable ASCII is always kept, so skip it a byte at a time. The first
    // other byte starts a character: the bytes before it are all ASCII.
    let start = s.bytes().position(|b| !matches!(b, b' '..=b'~'))?;
    let (kept, rest) = s.split_at(start);
    let mut prev = kept.chars().next_back();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if action(c, prev, next) != Action::Keep {
            return Some(start + i);
        }
        prev = Some(c);
    }
    None
}

/// Sanitises `chars` onto the end of `out`.
fn sanitize_into(mut chars: Peekable<Chars<'_>>, out: &mut String) {
    while let Some(c) = chars.next() {
        let prev = out.chars().next_back();
        match action(c, prev, chars.peek().copied()) {
            Action::Keep => out.push(c),
            Action::Drop => {}
            Action::Space => out.push(' '),
            Action::Placeholder => out.push(PLACEHOLDER),
            Action::Escape => skip_escape(&mut chars),
            Action::Csi => skip_csi(&mut chars),
            Action::ControlString { bel_ends } => skip_control_string(&mut chars, bel_ends),
        }
    }
}

/// Skips what follows an `ESC`: the rest of a CSI, OSC, DCS, SOS, PM or APC
/// sequence, or of an `ESC x` / `ESC ( B` escape. An `ESC` followed by
/// anything else is dropped on its own.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) {
    let Some(&kind) = chars.peek() else { return };
    match kind {
        '[' => {
            chars.next();
            skip_csi(chars);
        }
        ']' => {
            chars.next();
            skip_control_string(chars, true);
        }
        'P' | 'X' | '^' | '_' => {
            chars.next();
            skip_control_string(chars, false);
        }
        ' '..='~' => {
            while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
            chars.next_if(|c| matches!(c, '0'..='~'));
        }
        _ => {}
    }
}

/// Skips the parameters, intermediates and final byte of a CSI sequence.
/// Anything else ends the sequence early and is sanitised normally.
fn skip_csi(chars: &mut Peekable<Chars<'_>>) {
    while chars.next_if(|c| matches!(c, ' '..='?')).is_some() {}
    chars.next_if(|c| matches!(c, '@'..='~'));
}

/// Skips the body of an OSC, DCS, SOS, PM or APC string up to and including
/// its terminator: `ESC \`, 8-bit ST, or (for OSC) BEL. Any other `ESC` ends
/// the string and starts a new sequence.
fn skip_control_string(chars: &mut Peekable<Chars<'_>>, bel_ends: bool) {
    while let Some(c) = chars.next_if(|&c| c != ESC) {
        if c == ST || (bel_ends && c == BEL) {
            return;
        }
    }
    let mut ahead = chars.clone();
    if ahead.next() == Some(ESC) && ahead.next() == Some('\\') {
        *chars = ahead;
    }
}

/// Bidi embeddings, overrides and isolates, and the LRM, RLM and ALM marks.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Invisible characters: zero-width space, non-joiner and joiner, word
/// joiner and the invisible operators, deprecated format controls, BOM,
/// Mongolian vowel separator and interlinear annotation marks.
fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200d}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206a}'..='\u{206f}'
            | '\u{feff}'
            | '\u{180e}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// A ZWJ is part of an emoji sequence when it follows an emoji (or the
/// emoji presentation selector) and precedes another emoji.
fn joins_emoji(prev: Option<char>, next: Option<char>) -> bool {
    prev.is_some_and(|p| p == EMOJI_PRESENTATION || is_emoji(p)) && next.is_some_and(is_emoji)
}

/// A rough emoji test: the blocks that hold the emoji used in ZWJ sequences
/// (pictographs, symbols, dingbats, skin tones, `⬛`).
fn is_emoji(c: char) -> bool {
    matches!(
        c,
        '\u{2300}'..='\u{23ff}'
            | '\u{2600}'..='\u{27bf}'
            | '\u{2b00}'..='\u{2bff}'
            | '\u{1f000}'..='\u{1faff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn assert_sanitized(input: &str, expected: &str) {
        assert_eq!(sanitize(input), expected, "sanitising {input:?}");
        assert!(has_forbidden_chars(input), "{input:?} should be flagged");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        for s in [
            "",
            "Acme Co",
            "  spaced   out  ",
            "Café Zoë, Łódź",
            "株式会社テスト",
            "שלום עולם",
            "😀 👍🏽 ❤️ 1️⃣ 🇩🇪",
            "👨\u{200d}👩\u{200d}👧\u{200d}👦 family",
            "❤\u{fe0f}\u{200d}🔥 and 🏳\u{fe0f}\u{200d}🌈",
            "\u{fffd} already replaced",
        ] {
            assert!(matches!(sanitize(s), Cow::Borrowed(_)), "{s:?} was copied");
            assert!(!has_forbidden_chars(s), "{s:?} was flagged");
        }
    }

    #[test]
    fn c0_controls_become_placeholders() {
        assert_sanitized("a\u{0}b\u{7}c\u{8}d", "a�b�c�d");
        assert_sanitized("\u{1}\u{1f}", "��");
    }

    #[test]
    fn del_becomes_placeholder() {
        assert_sanitized("rm\u{7f}rf", "rm�rf");
    }

    #[test]
    fn c1_controls_become_placeholders() {
        assert_sanitized("a\u{80}b\u{8d}c\u{9c}d", "a�b�c�d");
    }

    #[test]
    fn csi_sequences_are_removed_whole() {
        assert_sanitized("\u{1b}[31mred\u{1b}[0m", "red");
        assert_sanitized("\u{1b}[38;2;255;0;0mtrue colour\u{1b}[m", "true colour");
        assert_sanitized("a\u{1b}[2J\u{1b}[H\u{1b}[10;20Hb", "ab");
        assert_sanitized("up\u{1b}[3Aleft\u{1b}[?25l", "upleft");
    }

    #[test]
    fn eight_bit_csi_is_removed_whole() {
        assert_sanitized("a\u{9b}31mb\u{9b}2J", "ab");
    }

    #[test]
    fn osc_52_clipboard_write_is_removed() {
        assert_sanitized("x\u{1b}]52;c;cm0gLXJmIH4=\u{7}y", "xy");
        assert_sanitized("x\u{1b}]52;c;cm0gLXJmIH4=\u{1b}\\y", "xy");
        assert_sanitized("x\u{9d}52;c;cm0=\u{9c}y", "xy");
    }

    #[test]
    fn osc_8_hyperlink_is_removed_with_either_terminator() {
        let bel = "\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}";
        let st = "\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\";
        assert_sanitized(bel, "click");
        assert_sanitized(st, "click");
    }

    #[test]
    fn dcs_sos_pm_and_apc_strings_are_removed() {
        assert_sanitized("a\u{1b}P1$r0m\u{1b}\\b", "ab");
        assert_sanitized(
            "a\u{1b}Xsos\u{1b}\\b\u{1b}^pm\u{1b}\\c\u{1b}_apc\u{1b}\\d",
            "abcd",
        );
        assert_sanitized("a\u{90}q\u{9c}b", "ab");
        assert_sanitized("a\u{1b}Pbel\u{7}does not end it\u{1b}\\b", "ab");
    }

    #[test]
    fn short_escapes_are_removed() {
        assert_sanitized("a\u{1b}cb", "ab");
        assert_sanitized("a\u{1b}(Bb\u{1b}7c\u{1b}8", "abc");
        assert_sanitized("a\u{1b}\u{1b}[1mb", "ab");
    }

    #[test]
    fn escape_inside_a_control_string_starts_a_new_sequence() {
        assert_sanitized("a\u{1b}]0;title\u{1b}[31mb", "ab");
    }

    #[test]
    fn unterminated_sequences_at_the_end_are_dropped() {
        for input in [
            "tail\u{1b}",
            "tail\u{1b}[",
            "tail\u{1b}[38;5",
            "tail\u{1b}]52;c;cm0gLXJmIH4=",
            "tail\u{1b}P1$r",
            "tail\u{9b}1;2",
            "tail\u{1b}(",
        ] {
            assert_sanitized(input, "tail");
        }
    }

    #[test]
    fn bidi_overrides_isolates_and_marks_are_removed() {
        assert_sanitized("invoice\u{202e}fdp.exe", "invoicefdp.exe");
        assert_sanitized("\u{202a}a\u{202b}b\u{202c}\u{202d}c", "abc");
        assert_sanitized("\u{2066}a\u{2067}b\u{2068}c\u{2069}", "abc");
        assert_sanitized("a\u{200e}b\u{200f}c\u{61c}d", "abcd");
    }

    #[test]
    fn zero_width_characters_are_removed() {
        assert_sanitized("Ac\u{200b}me", "Acme");
        assert_sanitized("\u{feff}Acme\u{2060}\u{180e}\u{200c}", "Acme");
        assert_sanitized("A\u{200d}cme", "Acme");
    }

    #[test]
    fn zwj_is_kept_only_between_emoji() {
        assert_sanitized("😀\u{200d}", "😀");
        assert_sanitized("\u{200d}😀", "😀");
        assert_sanitized("😀\u{200d}\u{200d}😀", "😀\u{200d}😀");
        assert_sanitized("👩\u{200d}\u{1b}[0m💻", "👩💻");
    }

    #[test]
    fn line_breaks_and_tabs_become_spaces() {
        assert_sanitized("a\nb", "a b");
        assert_sanitized("a\tb", "a b");
        assert_sanitized("a\r\nb", "a b");
        assert_sanitized("a\rb\n\nc", "a b  c");
        assert_sanitized("a\u{b}b\u{c}c\u{85}d", "a b c d");
    }

    #[test]
    fn unicode_line_and_paragraph_separators_become_spaces() {
        assert_sanitized("a\u{2028}b\u{2029}c", "a b c");
    }

    #[test]
    fn random_hostile_text_comes_out_clean_and_stable() {
        const PIECES: &[&str] = &[
            "a", "Z", " ", "[", "]", "\\", ";", "0", "m", "P", "^", "_", "é", "字", "😀", "👩",
            "🔥", "❤", "\u{fe0f}", "\u{200d}", "\u{1b}", "\u{7}", "\u{9b}", "\u{9c}", "\u{9d}",
            "\u{90}", "\u{85}", "\u{0}", "\u{7f}", "\r", "\n", "\t", "\u{2028}", "\u{202e}",
            "\u{2067}", "\u{200b}", "\u{feff}", "\u{200f}", "\u{1b}[", "\u{1b}]", "\u{1b}\\",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..10_000 {
            let input: String = (0..rng.below(24))
                .map(|_| PIECES[rng.below(PIECES.len())])
                .collect();
            let output = sanitize(&input);
            assert!(!has_forbidden_chars(&output), "{input:?} gave {output:?}");
            for c in output.chars().filter(|&c| c != ZWJ) {
                let mut buf = [0; 4];
                assert!(
                    !has_forbidden_chars(c.encode_utf8(&mut buf)),
                    "{input:?} kept {c:?}"
                );
            }
            assert!(!output.contains(ESC), "{input:?} gave {output:?}");
            assert_eq!(sanitize(&output), output, "not idempotent on {input:?}");
        }
    }
}
