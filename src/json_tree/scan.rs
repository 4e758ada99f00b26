//! The fast path of parsing, for text already written the way serde_json writes it (compact,
//! no escapes, numbers in the form serde_json would print them, no repeated keys), which is
//! what NDJSON exports usually are. One pass over the bytes builds the same tree serde_json's
//! parser would, and because writing it back would give the same text, the text itself can be
//! served (see `write`). Anything else, including every error, is declined and left to
//! serde_json, so messages and results never depend on which path was taken.

use super::{Kind, Slot, Tree, key_bit, repeats};

/// Deeper documents are left to serde_json, whose nesting limit then applies.
const MAX_DEPTH: u32 = 64;

/// Fills `tree` from `text` and returns true, or returns false having added nothing useful
/// (the caller clears the tree).
pub(super) fn canonical<'a>(tree: &mut Tree<'a>, text: &'a str) -> bool {
    let mut scanner = Scanner {
        tree,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        scratch: Vec::new(),
        unchecked: 0,
    };
    scanner.value().is_some() && scanner.pos == text.len()
}

struct Scanner<'t, 'a> {
    tree: &'t mut Tree<'a>,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    scratch: Vec<u8>,
    /// How many `reference` values that are not strings enclose the current position.
    unchecked: u32,
}

impl<'a> Scanner<'_, 'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn leaf(&mut self, kind: Kind<'a>) -> Option<()> {
        let end = self.tree.slots.len() as u32 + 1;
        self.tree.slots.push(Slot {
            kind,
            end,
            close: 0,
        });
        Some(())
    }

    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => self.container(true),
            b'[' => self.container(false),
            b'"' => {
                let s = self.string()?;
                self.leaf(Kind::Str(s))
            }
            b't' => self.literal("true", Kind::Bool(true)),
            b'f' => self.literal("false", Kind::Bool(false)),
            b'n' => self.literal("null", Kind::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, kind: Kind<'a>) -> Option<()> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? != word.as_bytes() {
            return None;
        }
        self.pos = end;
        self.leaf(kind)
    }

    /// A string without escapes or control characters, at a `"`.
    fn string(&mut self) -> Option<&'a str> {
        let start = self.pos + 1;
        let rest = self.bytes.get(start..)?;
        let len = plain_run(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.pos = start + len + 1;
        self.text.get(start..start + len)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let literal = self.text.get(start..self.pos)?;
        if !float {
            // serde_json keeps non-negative integers unsigned, so "-0" would be written "0";
            // integers beyond 64 bits become floats.
            return match literal.strip_prefix('-') {
                Some(_) => match literal.parse::<i64>().ok()? {
                    0 => None,
                    n => self.leaf(Kind::I64(n)),
                },
                None => self.leaf(Kind::U64(literal.parse().ok()?)),
            };
        }
        // serde_json's own reading of the literal, and its own way of writing it back.
        let n: f64 = serde_json::from_str(literal).ok()?;
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, &n).ok()?;
        if self.scratch != literal.as_bytes() {
            return None;
        }
        self.leaf(Kind::F64(n))
    }

    /// The value of a `reference` key, noted for `Node::reference_strings`.
    fn reference(&mut self) -> Option<()> {
        let at = self.tree.slots.len() as u32;
        if self.peek()? == b'"' {
            self.value()?;
            let checked = self.unchecked == 0;
            self.tree.references.push((at, checked));
        } else {
            self.unchecked += 1;
            self.value()?;
            self.unchecked -= 1;
        }
        Some(())
    }

    fn container(&mut self, object: bool) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let at = self.tree.slots.len();
        let kind = if object {
            Kind::Object {
                repeats: false,
                keys: 0,
            }
        } else {
            Kind::Array
        };
        self.tree.slots.push(Slot {
            kind,
            end: 0,
            close: 0,
        });
        self.pos += 1;
        let closing = if object { b'}' } else { b']' };
        let mut bits = 0u64;
        if self.peek()? != closing {
            loop {
                if object {
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key_at = self.tree.slots.len();
                    let key = self.string()?;
                    self.leaf(Kind::Str(key))?;
                    let bit = key_bit(key);
                    // A repeated key is written once: not this text.
                    if bits & bit != 0 && repeats(self.tree, at, key_at) {
                        return None;
                    }
                    bits |= bit;
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    if key == "reference" {
                        self.reference()?;
                    } else {
                        self.value()?;
                    }
                } else {
                    self.value()?;
                }
                match self.peek()? {
                    b',' => self.pos += 1,
                    b if b == closing => break,
                    _ => return None,
                }
            }
        }
        let end = self.tree.slots.len() as u32;
        let slot = self.tree.slots.get_mut(at)?;
        if object {
            slot.kind = Kind::Object {
                repeats: false,
                keys: bits,
            };
        }
        slot.end = end;
        slot.close = self.pos as u32;
        self.pos += 1;
        self.depth -= 1;
        Some(())
    }
}

/// How many bytes come before the first that ends or escapes a string (`"`, `\\`, a control
/// character), tested eight at a time: most strings are long runs of plain bytes.
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when a byte of `w` is zero, or below `n` (n <= 128).
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let special = below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
            | below(w, 0x20);
        if special != 0 {
            break;
        }
        at += 8;
    }
    let rest = bytes.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::plain_run;

    #[test]
    fn plain_runs_stop_at_quotes_backslashes_and_control_characters() {
        for (text, run) in [
            ("", 0),
            ("abc", 3),
            ("abcdefghij\"", 10),
            ("abcdefgh\\", 8),
            ("abcdefghijklmnopé\u{1f}", 18),
            ("\"", 0),
            ("ééééé\"x", 10),
        ] {
            assert_eq!(plain_run(text.as_bytes()), run, "{text:?}");
        }
    }
}
