//! Fuzzes the Ubl parser directly (no detection): any bytes must give events or problems, never a panic.
#![no_main]

use backroom_formats::{Context, Format, parse_format};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cx = Context::new(DateTime::UNIX_EPOCH);
    let _ = parse_format(Format::Ubl, data, &cx);
});
