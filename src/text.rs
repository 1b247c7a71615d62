//! Text from elsewhere (a server, a contact list) made safe to show on a
//! terminal or in a log: [`printable`].

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every character that a terminal would act on instead of
/// showing escaped as `\u{..}` (the backslash too, `\\`, so that an
/// escape cannot be faked): control characters (C0, `DEL`, C1, which
/// carry the escape sequences that retitle, recolour or rewrite a
/// terminal) and the bidirectional overrides and isolates that reorder
/// what is shown. Text without them comes back as it is, unallocated.
///
/// Every message this crate and its command-line tool print that holds a
/// server's or a contact list's words goes through it.
///
/// ```
/// assert_eq!(sigmamind::text::printable("call_1"), "call_1");
/// assert_eq!(
///     sigmamind::text::printable("\u{1b}]0;pwned\u{7}ok"),
///     "\\u{1b}]0;pwned\\u{7}ok"
/// );
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c == '\\' {
            shown.push_str("\\\\");
        } else if needs_escape(c) {
            let _ = write!(shown, "\\u{{{:x}}}", c as u32);
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// `text` cut to at most `max` bytes, at a character boundary, saying how
/// much was left out: how a value of any length from a server is kept in a
/// bounded form (journals, results, messages).
///
/// ```
/// assert_eq!(sigmamind::text::clip("call_1", 64), "call_1");
/// assert_eq!(sigmamind::text::clip("ééé", 5), "éé…[6 bytes, clipped]");
/// ```
pub fn clip(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…[{} bytes, clipped]", &text[..end], text.len()))
}

/// `text` in at most `max` bytes all told, the clipping note included, cut
/// at a character boundary: what a store keeps, so that reading it back and
/// clipping it again changes nothing. `max` below 64 leaves no room for the
/// note: the text is then only cut.
///
/// ```
/// let long = "é".repeat(5000);
/// let once = sigmamind::text::clip_within(&long, 1024);
/// assert!(once.len() <= 1024 && once.ends_with("[10000 bytes, clipped]"));
/// assert_eq!(sigmamind::text::clip_within(&once, 1024), once);
/// ```
pub fn clip_within(text: &str, max: usize) -> Cow<'_, str> {
    const NOTE_ROOM: usize = 64; // "…[N bytes, clipped]" for any usize N
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    if max < NOTE_ROOM {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        return Cow::Borrowed(&text[..end]);
    }
    clip(text, max - NOTE_ROOM)
}

/// Whether a terminal would act on `c` rather than show it. The backslash
/// counts only once something else is escaped (see [`printable`]).
fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_escaped_the_rest_kept() {
        assert!(matches!(printable("Müller, 東京 +1 (415)"), Cow::Borrowed(_)));
        assert_eq!(printable("a\nb\tc\r"), "a\\u{a}b\\u{9}c\\u{d}");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m"); // C1 CSI
        assert_eq!(printable("\u{7f}"), "\\u{7f}");
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
        // A backslash cannot fake an escape once something is escaped.
        assert_eq!(printable("\\u{1b}\u{1b}"), "\\\\u{1b}\\u{1b}");
    }

    #[test]
    fn clipping_cuts_at_a_character_boundary() {
        let long = "é".repeat(70_000);
        for max in [0, 1, 2, 3, 4095, 4096] {
            let clipped = clip(&long, max);
            assert!(clipped.len() <= max + 40, "{max}");
            assert!(clipped.ends_with("…[140000 bytes, clipped]"), "{max}");
        }
    }

    #[test]
    fn nothing_printed_is_a_control_character() {
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!printable(&every).chars().any(needs_escape));
    }
}
