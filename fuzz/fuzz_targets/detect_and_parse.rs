//! Fuzzes detection and parsing as `POST /v1/documents` runs them: never a panic.
#![no_main]

use backroom_formats::{Context, parse};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cx = Context::new(DateTime::UNIX_EPOCH);
    let _ = parse(data, &cx);
});
