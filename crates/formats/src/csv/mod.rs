//! CSV files mapped to canonical events by a TOML mapping file.
//!
//! A mapping file says which event type a CSV file holds and how each event's fields are built
//! from the cells of its rows. [`CsvMapping::from_toml`] reads and checks a mapping;
//! [`map_csv`] applies it to a file and returns one raw event per row, or per group of
//! consecutive rows, each shaped `{"id", "type", "source", "occurred_at", "data"}` and ready for
//! [`backroom_model::validate_events`], which checks the business rules.
//!
//! # Example
//!
//! The UCI Online Retail export has one row per invoice line:
//!
//! ```text
//! InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
//! 536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
//! 536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
//! C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom
//! ```
//!
//! This mapping makes one `pos.sale` event per invoice, with one line per row:
//!
//! ```toml
//! delimiter = ","               # optional: one ASCII character; "," when absent ("\t" for TSV)
//! time_zone = "Europe/London"   # IANA zone of local date-times; required when a date format
//!                               # has no UTC offset (%z)
//! type = "pos.sale"             # the event type: a name from backroom_model::EventType
//! source = "uci-online-retail"  # template of the event's source
//! id = "{InvoiceNo}"            # template of the event's id
//! group_by = "InvoiceNo"        # optional: consecutive rows with the same value make one event;
//!                               # without it every row is an event
//!
//! # Optional row filters. A rule is { column = "…", TEST } with exactly one TEST:
//! #   equals = "text"       the cell is exactly this text
//! #   starts_with = "text"  the cell starts with this text
//! #   empty = true|false    the cell is empty (true) or not (false)
//! #   at_most = "0"         the cell is a number no greater than this (a cell that is not a number
//! #                         is an error)
//! # `skip_when` leaves out the rows that match ANY of its rules; `keep_when` keeps only the rows
//! # that match ALL of its rules. Each takes one rule or a list of rules (an inline array, or
//! # [[skip_when]] tables).
//! skip_when = [
//!     { column = "InvoiceNo", starts_with = "C" },
//!     { column = "Quantity", at_most = "0" },
//! ]
//!
//! # Where occurred_at comes from: a chrono format; without an offset it is read in time_zone.
//! occurred_at = { column = "InvoiceDate", format = "%Y-%m-%d %H:%M:%S" }
//!
//! [data]                        # the event's data, filled from the FIRST row of the event
//! transaction_id = "{InvoiceNo}"
//! location = "UK-WEB"
//! business_day = { column = "InvoiceDate", format = "%Y-%m-%d %H:%M:%S", output = "date" }
//! customer = "{CustomerID}"     # left out of the event when the cell is empty
//! currency = "GBP"
//! total = { sum = "{Quantity} * {UnitPrice}", currency = "GBP" }
//!
//! [lines]                       # optional: one line per row of the event
//! path = "lines"                # where the array goes in data (a dotted path such as "a.lines" works)
//! number = "line"               # optional: the field that gets the line number, 1, 2, 3…
//! [lines.template]              # the template of one line, filled from its own row
//! item = { sku = "{StockCode}" }
//! quantity = { value = { decimal = "{Quantity}" }, unit = "EA" }
//! unit_price = { amount = { decimal = "{UnitPrice}" }, currency = "GBP" }
//! net_amount = { amount = { decimal = "{Quantity} * {UnitPrice}" }, currency = "GBP" }
//! ```
//!
//! The first invoice becomes:
//!
//! ```json
//! {"id": "536365", "type": "pos.sale", "source": "uci-online-retail",
//!  "occurred_at": "2010-12-01T08:26:00Z",
//!  "data": {"transaction_id": "536365", "location": "UK-WEB", "business_day": "2010-12-01",
//!           "customer": "17850.0", "currency": "GBP", "total": {"amount": "35.64", "currency": "GBP"},
//!           "lines": [{"line": 1, "item": {"sku": "85123A"}, "quantity": {"value": "6", "unit": "EA"},
//!                      "unit_price": {"amount": "2.55", "currency": "GBP"},
//!                      "net_amount": {"amount": "15.3", "currency": "GBP"}}, …]}}
//! ```
//!
//! # Template values
//!
//! In `id`, `source`, `[data]` and `[lines.template]`:
//!
//! - A **string** is a template: each `{Column}` is replaced by the text of that column's cell,
//!   with spaces around it removed (`{{` and `}}` are literal braces). A string that is exactly
//!   one placeholder whose cell is empty is left out of its object (or array), so optional fields
//!   disappear; any other template whose placeholder is empty is an error, and so are an empty
//!   `id` or `source`.
//! - A **number** or **boolean** is copied.
//! - A **table** becomes an object of templates, an **array** an array of templates, except these
//!   tables, told apart by their key `column`, `decimal` or `sum`:
//!   - `{ column = "…", format = "…", output = "date" | "datetime" }`: a date read from a cell
//!     with a [chrono format](https://docs.rs/chrono/latest/chrono/format/strftime/), written as
//!     `YYYY-MM-DD` (the date in `time_zone`) or as an RFC 3339 UTC instant (the default).
//!   - `{ decimal = "EXPR", abs = false, negate = false }`: a number computed exactly, written as
//!     a JSON string without trailing zeros (`"15.3"`). `EXPR` is one template, such as
//!     `"{Quantity}"`, or two joined by `*`, such as `"{Quantity} * {UnitPrice}"` (a factor may be
//!     a constant: `"{Pence} * 0.01"`). `abs` drops the sign, then `negate` flips it.
//!   - `{ sum = "EXPR", currency = "…", abs = false, negate = false }`, only in `[data]`: the sum
//!     over every row of the event of `EXPR` (each row's value through `abs`, then `negate`),
//!     written as money, `{"amount": "…", "currency": "…"}`; `currency` is a template.
//!
//! Cells read as numbers must be plain decimals, such as `-12.5` or `3`, optionally with spaces
//! around them: no thousands separators, currency symbols or exponents.
//!
//! # Times
//!
//! A date format with a UTC offset (`%z`, `%:z`, `%#z`, `%+`) or a Unix timestamp (`%s`) gives an
//! instant. Any other format gives a local date-time (midnight when the format has no time), read
//! in `time_zone`: a local time that happens twice when clocks go back is taken as the earlier
//! instant, and one that never happens when clocks go forward is an error.
//!
//! # Errors
//!
//! Loading a mapping refuses unknown keys, an unknown event type or time zone, malformed
//! templates, date formats and expressions, with the line and column in the mapping file
//! ([`MappingError`]). Mapping a file stops at the first problem, with its CSV line and column
//! ([`CsvError`]): a column the mapping names but the header lacks (row 1), a cell that is not a
//! date or number in the expected form, an empty cell that a template needs, a row with a
//! different number of fields than the header, or the rows of one `group_by` value appearing in
//! two places (the rows of an event must be consecutive).
//!
//! ```
//! use backroom_formats::csv::{CsvMapping, map_csv};
//!
//! let mapping = CsvMapping::from_toml(r#"
//!     type = "pos.sale"
//!     source = "till-export"
//!     id = "{Receipt}"
//!     group_by = "Receipt"
//!     time_zone = "Europe/Paris"
//!     occurred_at = { column = "Time", format = "%d/%m/%Y %H:%M" }
//!     [data]
//!     transaction_id = "{Receipt}"
//!     location = "FR-PARIS-01"
//!     business_day = { column = "Time", format = "%d/%m/%Y %H:%M", output = "date" }
//!     currency = "EUR"
//!     total = { sum = "{Qty} * {Price}", currency = "EUR" }
//!     [lines]
//!     path = "lines"
//!     number = "line"
//!     [lines.template]
//!     item = { gtin = "{EAN}" }
//!     quantity = { value = { decimal = "{Qty}" } }
//!     unit_price = { amount = { decimal = "{Price}" }, currency = "EUR" }
//!     net_amount = { amount = { decimal = "{Qty} * {Price}" }, currency = "EUR" }
//! "#)?;
//! let csv = "Receipt,Time,EAN,Qty,Price\n\
//!            R1,01/07/2026 09:30,4006381333931,2,1.25\n\
//!            R1,01/07/2026 09:30,96385074,1,3.10\n";
//! let events = map_csv(csv.as_bytes(), &mapping)?;
//! assert_eq!(events.len(), 1);
//! assert_eq!((events[0].first_row, events[0].last_row), (2, 3));
//! let event = &events[0].event;
//! assert_eq!(event["occurred_at"], "2026-07-01T07:30:00Z");
//! assert_eq!(event["data"]["total"]["amount"], "5.6");
//! let values: Vec<_> = events.into_iter().map(|e| e.event).collect();
//! assert!(backroom_model::validate_events(&values).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dates;
mod map;
mod mapping;
mod template;

pub use map::{CsvError, MappedEvent, map_csv};
pub use mapping::{CsvMapping, MappingError};
