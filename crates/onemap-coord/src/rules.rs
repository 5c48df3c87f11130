//! The coordinator's limits, in one place so a center can tune them.

use serde::{Deserialize, Serialize};

/// The limits the coordinator works to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// A subject checked at the same enterprise or school this many days
    /// before, with nothing found, makes a plan of it a duplicate.
    pub duplicate_days: i32,
    /// A finding this recent on a subject keeps it on site (no online check,
    /// no cancel).
    pub finding_days: i32,
    /// Departments in one joint visit.
    pub max_departments: usize,
    /// Subjects in one visit.
    pub max_subjects: usize,
    /// On-site visits to one enterprise in a month (urgent ones and a
    /// school's own events are counted but never moved).
    pub max_onsite_per_month_enterprise: usize,
    /// On-site visits to one school in a month.
    pub max_onsite_per_month_school: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            duplicate_days: 90,
            finding_days: 365,
            max_departments: 5,
            max_subjects: 8,
            max_onsite_per_month_enterprise: 3,
            max_onsite_per_month_school: 2,
        }
    }
}

impl Rules {
    /// The monthly cap of on-site visits for a target.
    pub fn month_cap(&self, target: crate::Target) -> usize {
        if target.is_school() {
            self.max_onsite_per_month_school
        } else {
            self.max_onsite_per_month_enterprise
        }
        .max(1)
    }
}
