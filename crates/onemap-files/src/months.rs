//! Calendar months in China time: the span of the figures over time.

use onemap_core::time::{civil_from_days, days_from_civil, CST_OFFSET_S};
use serde::Serialize;

/// How many months the figures over time cover.
pub const MONTHS: usize = 12;

/// A calendar month (China Standard Time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// The month holding a moment (Unix seconds), China time.
    pub fn of(t: i64) -> Month {
        let (y, m, _) = civil_from_days((t + CST_OFFSET_S).div_euclid(86_400));
        Month {
            year: y as i32,
            month: m,
        }
    }

    /// Its first moment (Unix seconds): midnight of its first day, China time.
    pub fn start(self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, 1) * 86_400 - CST_OFFSET_S
    }

    /// The month after.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month `n` months before.
    pub fn back(self, n: u32) -> Month {
        let k = i64::from(self.year) * 12 + i64::from(self.month) - 1 - i64::from(n);
        Month {
            year: k.div_euclid(12) as i32,
            month: k.rem_euclid(12) as u32 + 1,
        }
    }

    /// The [`MONTHS`] months ending with this one, oldest first.
    pub fn window(self) -> Vec<Month> {
        (0..MONTHS as u32).rev().map(|n| self.back(n)).collect()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    /// `YYYY-MM`, a month from 2000 to 2100.
    fn from_str(s: &str) -> Result<Month, String> {
        let t = s.trim();
        let bad = || {
            format!(
                "a month is YYYY-MM (e.g. 2026-10), got '{}'",
                t.chars().take(20).collect::<String>()
            )
        };
        let (y, m) = t.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
            return Err(format!(
                "no month {t}: months 01 to 12 of the years 2000 to 2100"
            ));
        }
        Ok(Month { year, month })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let m: Month = "2026-01".parse().unwrap();
        assert_eq!(m.back(1).to_string(), "2025-12");
        assert_eq!(m.back(13).to_string(), "2024-12");
        assert_eq!(m.next().to_string(), "2026-02");
        assert_eq!(
            Month {
                year: 2025,
                month: 12
            }
            .next(),
            m
        );
        let w = m.window();
        assert_eq!(w.len(), MONTHS);
        assert_eq!(w[0].to_string(), "2025-02");
        assert_eq!(w[11], m);
        // Midnight of the 1st in China is 16:00 UTC the day before.
        assert_eq!(m.start(), 1_767_196_800);
        assert_eq!(Month::of(m.start()), m);
        assert_eq!(Month::of(m.start() - 1), m.back(1));
        assert!("2026-13".parse::<Month>().is_err());
        assert!("2026-1".parse::<Month>().is_err());
        assert!("abc".parse::<Month>().is_err());
    }
}
