//! Coordination of enterprise inspections and school visits (issue 17).
#[macro_use]
mod catalog;
mod checks;
mod coordinate;
mod date;
mod decide;
pub mod demo;
mod error;
mod explain;
mod figures;
mod model;
mod push;
mod rules;
mod schedule;
mod sites;
mod suggestion;
mod table;
mod year;

pub use catalog::{compatible, Department, DeptKind, Subject, INCOMPATIBLE, SCHOOL_DEPARTMENTS};
pub use coordinate::{coordinate, Batch, Coordination};
pub use date::{Date, Window};
pub use decide::{apply, calendar_of, calendars, Applied, Decision};
pub use demo::{Demo, DemoConfig};
pub use error::CoordError;
pub use figures::{
    before_after_table, figures, report, Counts, Figures, MonthFigures, ReportRequest,
};
pub use model::{
    Finding, Mode, Plan, PlanSubject, PostponeReason, Purpose, Record, Request, RequestKind, Risk,
    SchoolEvent, Target, Visit,
};
pub use push::{Push, PushLevel, Pushes, SelfCheck, SelfCheckStatus};
pub use rules::Rules;
pub use sites::{EnterpriseSite, SchoolSite, Scope, Sites, TownInfo};
pub use suggestion::{town_accompanies, Action, Reason, ReasonCode, Suggestion};
pub use table::percent;
pub use year::{run_year, YearPolicy, YearRun};
