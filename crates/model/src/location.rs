//! Locations: the company hierarchy down to stores and distribution centres.

use chrono::{NaiveDate, NaiveTime, Weekday};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::LocationId;
use crate::validate::{Checker, FieldError, Path};

/// The level of a location in the company hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// The company: the root of the hierarchy.
    Company,
    /// A region of districts.
    Region,
    /// A district of stores.
    District,
    /// A store.
    Store,
    /// A distribution centre.
    DistributionCentre,
}

impl LocationKind {
    /// The kinds a location of this kind may have as its parent.
    pub fn allowed_parents(self) -> &'static [LocationKind] {
        use LocationKind::*;
        match self {
            Company => &[],
            Region => &[Company],
            District => &[Region],
            Store => &[District, Region],
            DistributionCentre => &[Company, Region],
        }
    }
}

/// One opening period of a week day, in the location's local time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningPeriod {
    /// The day of the week.
    #[schemars(with = "String")]
    pub day: Weekday,
    /// Opening time, local.
    #[schemars(with = "String")]
    pub opens: NaiveTime,
    /// Closing time, local; after `opens`.
    #[schemars(with = "String")]
    pub closes: NaiveTime,
}

/// When a location is open: weekly periods and the days it is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// The weekly opening periods; a day without one is closed.
    #[serde(default)]
    pub weekly: Vec<OpeningPeriod>,
    /// Public holidays and other closed days.
    #[serde(default)]
    pub closed_on: Vec<NaiveDate>,
}

/// A node of the location hierarchy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The location code.
    pub id: LocationId,
    /// Its level.
    pub kind: LocationKind,
    /// Its name.
    pub name: String,
    /// The location above it; none only for the company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<LocationId>,
    /// Its IANA time zone, such as `Europe/Paris`.
    pub time_zone: String,
    /// When it is open.
    #[serde(default)]
    pub opening_hours: OpeningHours,
}

impl Location {
    /// Checks the location's own fields: code, time zone, opening periods, parent presence.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut c = Checker::default();
        self.id.check(&mut c, &Path::root("$.id"));
        c.text(&Path::root("$.name"), &self.name, 200);
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            c.error_at("$.time_zone", format!("{:?} is not an IANA time zone, such as Europe/Paris", self.time_zone));
        }
        match (&self.parent, self.kind) {
            (Some(_), LocationKind::Company) => c.error_at("$.parent", "the company has no parent".to_owned()),
            (None, k) if k != LocationKind::Company => {
                c.error_at("$.parent", "every location but the company needs a parent".to_owned())
            }
            (Some(p), _) => p.check(&mut c, &Path::root("$.parent")),
            _ => {}
        }
        for (i, period) in self.opening_hours.weekly.iter().enumerate() {
            if period.closes <= period.opens {
                c.error_at(
                    &format!("$.opening_hours.weekly[{i}].closes"),
                    format!("closing time {} is not after opening time {}", period.closes, period.opens),
                );
            }
        }
        if c.errors.is_empty() { Ok(()) } else { Err(c.errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_checks_time_zone_and_hours() {
        let store: Location = serde_json::from_value(serde_json::json!({
            "id": "S001", "kind": "store", "name": "Lyon Part-Dieu", "parent": "D-RHONE",
            "time_zone": "Europe/Paris",
            "opening_hours": {"weekly": [{"day": "Mon", "opens": "09:00:00", "closes": "20:00:00"}], "closed_on": ["2026-12-25"]}
        }))
        .expect("valid store");
        assert!(store.validate().is_ok());
        let mut bad = store.clone();
        bad.time_zone = "Europe/Lyon".into();
        bad.opening_hours.weekly[0].closes = NaiveTime::from_hms_opt(8, 0, 0).expect("time");
        let errors = bad.validate().expect_err("invalid");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].path, "$.time_zone");
        assert_eq!(errors[1].path, "$.opening_hours.weekly[0].closes");
    }
}
