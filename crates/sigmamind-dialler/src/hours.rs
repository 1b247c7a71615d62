//! Calling hours in each callee's local time: a window of the day and the
//! days of the week, checked for a row at the moment it would be dialled,
//! in every zone its number may ring in ([`zones_of`](crate::zones_of)).
//! The arithmetic is chrono-tz's, on the IANA database: daylight saving
//! time included.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use sigmamind::Error;

/// When calls may ring: from `start` to `end` (local time of the callee)
/// on the chosen days. [`CallingHours::default`] is 08:00 to 21:00 every
/// day, the US federal window (47 CFR 64.1200(c)(1)); stricter rules
/// (some states, other countries) need their own window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallingHours {
    /// Seconds after midnight: `start <= t < end`.
    start: u32,
    end: u32,
    /// Bit `n`: [`Weekday::num_days_from_monday`] `n` is a calling day.
    days: u8,
    /// The zone of a row whose zone cannot be known from its number.
    fallback: Option<Tz>,
}

impl Default for CallingHours {
    fn default() -> Self {
        Self {
            start: 8 * 3600,
            end: 21 * 3600,
            days: 0b111_1111,
            fallback: None,
        }
    }
}

const DAY: u32 = 24 * 3600;

fn hours_error(rule: String) -> Error {
    Error::invalid_field("calling_hours", rule)
}

/// `HH:MM` (or `24:00` for the end of the day) as seconds after midnight.
fn clock_time(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let valid = (h < 24 && m < 60 && m.to_string().len() <= 2) || (h == 24 && m == 0);
    valid.then_some(h * 3600 + m * 60)
}

impl CallingHours {
    /// From `start` to `end`, local time, every day: `HH:MM`, `24:00` for
    /// the end of the day. A window that wraps past midnight is refused
    /// (give two batches, or the days' own hours).
    pub fn new(start: &str, end: &str) -> Result<Self, Error> {
        let read = |text: &str, which: &str| {
            clock_time(text).ok_or_else(|| {
                hours_error(format!(
                    "{which} {text:?} is not a time of day: write HH:MM, such as 08:00 or 21:00"
                ))
            })
        };
        let (start, end) = (read(start, "start")?, read(end, "end")?);
        if start >= end || start >= DAY {
            return Err(hours_error(format!(
                "the window must end after it starts on the same day (got {}-{})",
                show(start),
                show(end)
            )));
        }
        Ok(Self {
            start,
            end,
            ..Self::default()
        })
    }

    /// Only these days (in the callee's zone).
    pub fn days(mut self, days: impl IntoIterator<Item = Weekday>) -> Result<Self, Error> {
        self.days = days
            .into_iter()
            .fold(0, |mask, day| mask | 1 << day.num_days_from_monday());
        if self.days == 0 {
            return Err(Error::invalid_field("days", "no calling day: name at least one"));
        }
        Ok(self)
    }

    /// The zone of rows whose zone cannot be known from the number (and
    /// that have no zone of their own): without it they are not dialled.
    pub fn fallback_zone(mut self, zone: Tz) -> Self {
        self.fallback = Some(zone);
        self
    }

    /// The fallback zone, if one was given.
    pub fn fallback(&self) -> Option<Tz> {
        self.fallback
    }

    /// Whether a call may ring at `at` in every one of `zones` (none: no).
    pub fn is_open(&self, zones: &[Tz], at: DateTime<Utc>) -> bool {
        !zones.is_empty() && zones.iter().all(|zone| self.open_in(*zone, at))
    }

    fn open_in(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&zone);
        let seconds = local.num_seconds_from_midnight();
        self.days & (1 << local.weekday().num_days_from_monday()) != 0
            && (self.start..self.end).contains(&seconds)
    }

    /// The first instant from `at` on when a call may ring in all of
    /// `zones`: `at` itself when open now, `None` when that does not happen
    /// within the next eight days (zones too far apart for the window).
    pub fn next_open(&self, zones: &[Tz], at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(zones, at) {
            return Some(at);
        }
        // Where the zones' windows overlap, the overlap begins when one of
        // them opens: the candidates are each zone's openings.
        let mut openings: Vec<DateTime<Utc>> = zones
            .iter()
            .flat_map(|zone| self.openings(*zone, at))
            .filter(|opening| *opening > at)
            .collect();
        openings.sort();
        openings.into_iter().find(|opening| self.is_open(zones, *opening))
    }

    /// The window's openings in `zone` over eight days from the day of `at`.
    fn openings(&self, zone: Tz, at: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let first_day = at.with_timezone(&zone).date_naive();
        let start = NaiveTime::from_num_seconds_from_midnight_opt(self.start, 0).expect("start < 24:00");
        (0..=8).filter_map(move |n| {
            let day = first_day.checked_add_days(Days::new(n))?;
            if self.days & (1 << day.weekday().num_days_from_monday()) == 0 {
                return None;
            }
            // A start inside a daylight-saving gap opens when the gap ends.
            (0..=4)
                .find_map(|quarter| {
                    let time = start
                        .overflowing_add_signed(chrono::Duration::minutes(15 * quarter))
                        .0;
                    zone.from_local_datetime(&day.and_time(time)).earliest()
                })
                .map(|local| local.with_timezone(&Utc))
        })
    }

    /// `08:00-21:00`, the window as the CLI writes it.
    pub fn window(&self) -> String {
        format!("{}-{}", show(self.start), show(self.end))
    }
}

fn show(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60)
}

impl FromStr for CallingHours {
    type Err = Error;

    /// `08:00-21:00`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let (start, end) = text
            .split_once('-')
            .ok_or_else(|| hours_error(format!("{text:?}: write START-END, such as 08:00-21:00")))?;
        Self::new(start, end)
    }
}

/// Days as people write them: `mon-fri`, `sat,sun`, `mon-wed,fri`.
pub fn parse_days(text: &str) -> Result<Vec<Weekday>, Error> {
    let day = |name: &str| {
        name.trim().parse::<Weekday>().map_err(|_| {
            Error::invalid_field(
                "days",
                format!(
                    "{name:?} is not a day of the week: write mon, tue, ..., sun, or a range such as mon-fri"
                ),
            )
        })
    };
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (mut d, to) = (day(from)?, day(to)?);
                days.push(d);
                while d != to {
                    d = d.succ();
                    days.push(d);
                }
            }
            None => days.push(day(part)?),
        }
    }
    Ok(days)
}

/// What time it is, and waiting for a time: the system's clock by
/// default ([`SystemClock`]); tests and simulations give their own
/// ([`Options::clock`](crate::Options::clock)).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
    /// Returns at `at` (or soon after).
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system's clock. A long wait is slept in steps of at most a minute,
/// each measured against the clock again, so that a machine that slept or
/// had its clock set still wakes at the right time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            while let Ok(left) = (at - Utc::now()).to_std() {
                if left.is_zero() {
                    break;
                }
                tokio::time::sleep(left.min(std::time::Duration::from_secs(60))).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe, Pacific};

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn windows_hold_in_the_callees_time() {
        let hours = CallingHours::default();
        // 14:00 UTC in December: 09:00 in New York, 04:00 in Honolulu.
        let at = utc("2026-12-03T14:00:00Z");
        assert!(hours.is_open(&[America::New_York], at));
        assert!(!hours.is_open(&[Pacific::Honolulu], at));
        assert!(hours.is_open(&[Europe::London], at));
        assert!(!hours.is_open(&[Asia::Tokyo], at)); // 23:00
        assert!(!hours.is_open(&[America::New_York, Pacific::Honolulu], at));
        assert!(!hours.is_open(&[], at));
        // Honolulu opens at 08:00 local, 18:00 UTC.
        assert_eq!(
            hours.next_open(&[Pacific::Honolulu], at),
            Some(utc("2026-12-03T18:00:00Z"))
        );
        // Both New York and Honolulu: when Honolulu opens (New York closes at 02:00 UTC).
        assert_eq!(
            hours.next_open(&[America::New_York, Pacific::Honolulu], at),
            Some(utc("2026-12-03T18:00:00Z"))
        );
        // 13 hours a day always overlap somewhere; 09:00-12:00 in Tokyo
        // and in New York never do.
        assert_eq!(
            hours.next_open(&[Asia::Tokyo, America::New_York], at),
            Some(utc("2026-12-03T23:00:00Z"))
        );
        let mornings = CallingHours::new("09:00", "12:00").unwrap();
        assert_eq!(mornings.next_open(&[Asia::Tokyo, America::New_York], at), None);
        // The end is not inside; the start is.
        assert!(!hours.is_open(&[Europe::London], utc("2026-12-03T21:00:00Z")));
        assert!(hours.is_open(&[Europe::London], utc("2026-12-03T08:00:00Z")));
    }

    #[test]
    fn daylight_saving_time_moves_the_window() {
        let hours = CallingHours::default();
        // New York: 08:00 is 13:00 UTC in winter, 12:00 UTC in summer;
        // DST began on 2026-03-08.
        assert!(!hours.is_open(&[America::New_York], utc("2026-03-07T12:30:00Z")));
        assert!(hours.is_open(&[America::New_York], utc("2026-03-09T12:30:00Z")));
        assert_eq!(
            hours.next_open(&[America::New_York], utc("2026-03-08T03:00:00Z")),
            Some(utc("2026-03-08T12:00:00Z"))
        );
        // A window that starts in the gap (02:30 on the day DST begins)
        // opens when the gap ends, 03:00 local.
        let early = CallingHours::new("02:30", "05:00").unwrap();
        assert_eq!(
            early.next_open(&[America::New_York], utc("2026-03-08T05:00:00Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn days_and_bad_windows() {
        let weekdays = CallingHours::default()
            .days(parse_days("mon-fri").unwrap())
            .unwrap();
        // Saturday 2026-12-05, 10:00 in New York: closed; opens Monday 08:00.
        let saturday = utc("2026-12-05T15:00:00Z");
        assert!(!weekdays.is_open(&[America::New_York], saturday));
        assert_eq!(
            weekdays.next_open(&[America::New_York], saturday),
            Some(utc("2026-12-07T13:00:00Z"))
        );
        assert_eq!(
            parse_days("sat-mon,wed").unwrap(),
            [Weekday::Sat, Weekday::Sun, Weekday::Mon, Weekday::Wed]
        );
        assert!(parse_days("funday").is_err());
        assert!(CallingHours::default().days([]).is_err());
        assert_eq!(
            "09:30-24:00".parse::<CallingHours>().unwrap().window(),
            "09:30-24:00"
        );
        for bad in [
            "21:00-08:00",
            "8-21",
            "08:00",
            "25:00-26:00",
            "08:60-09:00",
            "08:00-08:00",
        ] {
            let Err(Error::InvalidRequest { field, rule, .. }) = bad.parse::<CallingHours>() else {
                panic!("{bad} is refused")
            };
            assert_eq!(field.as_deref(), Some("calling_hours"));
            assert!(!rule.is_empty());
        }
    }
}
