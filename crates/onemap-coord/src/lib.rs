//! Coordination of enterprise inspections and school visits (统筹涉企检查和进校园):
//! fewer visits, the same oversight. Plain data in, plain data out; no I/O,
//! no HTTP.
//!
//! - The vocabulary: [`DeptKind`] and
//!   [`Department`] (a kind in a district), [`Subject`] (what is inspected
//!   or taught, which ones can be checked from documents, which may not
//!   share a visit, their typical findings), each with a Chinese name and a
//!   stable English code.
//! - The data: [`Plan`] (a department's plan: target, window, planned day,
//!   subjects with mandatory flags, risk, urgent, accompanied), [`Request`]
//!   (postpone, guidance, a school's event), [`Record`] (an inspection done,
//!   with its [`Finding`]), [`Visit`] (a day on an enterprise's or school's
//!   calendar), [`Date`] and [`Window`].
//! - [`Sites`]: enterprises and schools placed in their towns and
//!   districts from a [`onemap_core::CityData`]; [`Scope`] (city, district
//!   or town) from an id or a Chinese name.
//! - [`demo`]: a year of plans and requests for a city, deterministic from
//!   a seed, sized on the seed's figures (793 plans for 西天尾镇's large
//!   enterprises).
//! - [`coordinate`]: a [`Batch`] → a [`Coordination`]: one [`Suggestion`]
//!   per plan ([`Action`]: keep, merge, online, reschedule, cancel) with its
//!   [`Reason`] (a [`ReasonCode`] and a sentence), and the visits. The
//!   rules, in order, are on [`coordinate()`]; their limits are [`Rules`].
//! - [`apply`]: departments' [`Decision`]s → the visits that follow
//!   ([`Applied`]); [`calendars`] and [`calendar_of`] order them by day.
//! - [`Push`]: a finding pushed to enterprises of the same industry in a
//!   town or district, with each one's [`SelfCheckStatus`]; [`Pushes`]
//!   pushes a problem once.
//! - [`run_year`]: the demo year month by month (a rolling coordination,
//!   decisions by a [`YearPolicy`], findings, pushes) → a [`YearRun`].
//! - [`figures`]: before/after per month for a scope ([`Figures`]), and
//!   the command line's entry points [`report`] and [`before_after_table`]
//!   ([`ReportRequest`]).
//!
//! Every failure is a [`CoordError`]; nothing panics on bad input.
//!
//! # Why the figures fall
//!
//! Nothing in the figures is a target: "before" counts each plan as the
//! department made it, "after" counts the calendar the rules left. On the
//! demo year they fall because departments plan the same enterprise in the
//! same weeks (campaigns, monthly rounds) and the same subjects again and
//! again: merging, checking documents online and cancelling duplicates of
//! clean inspections remove most visits; the town accompanies only the
//! high-risk or urgent ones; schools' talks go online and their inspections
//! of a term become one or two joint visits.

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
    before_after_table, figures, figures_of, report, Counts, Figures, MonthFigures, ReportRequest,
};
pub use model::{
    Finding, Mode, Plan, PlanSubject, PostponeReason, Purpose, Record, Request, RequestKind, Risk,
    SchoolEvent, Target, Visit, MAX_WINDOW_DAYS,
};
pub use push::{Push, PushLevel, Pushes, SelfCheck, SelfCheckStatement, SelfCheckStatus};
pub use rules::Rules;
pub use sites::{EnterpriseSite, SchoolSite, Scope, Sites, TownInfo};
pub use suggestion::{town_accompanies, Action, Reason, ReasonCode, Suggestion};
pub use table::percent;
pub use year::{run_year, run_year_of, YearPolicy, YearRun};
