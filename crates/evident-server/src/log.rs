//! The server's lines on standard error.

use std::fmt::{self, Write as _};
use std::io::Write as _;

/// Formats `args` and writes it, with its newline, to standard error in one write. A failed
/// write is dropped: the log is for operators, the evidence is in the store.
pub fn line(args: fmt::Arguments<'_>) {
    let mut text = String::with_capacity(160);
    if text.write_fmt(args).is_err() {
        return;
    }
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
