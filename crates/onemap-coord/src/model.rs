//! The plain data of coordination: departments' plans, enterprises' and
//! schools' requests, the record of inspections done, and visits (what
//! actually happens on a day: one on-site or online check of one enterprise
//! or school, by one or more departments, covering one or more plans).

use crate::{CoordError, Date, Department, DeptKind, Subject, Window};
use serde::{Deserialize, Serialize};

/// The longest window a plan or a request may have: a year.
pub const MAX_WINDOW_DAYS: i32 = 366;

/// Whom a plan or a visit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    Enterprise(u64),
    School(u64),
}

impl Target {
    pub fn is_school(self) -> bool {
        matches!(self, Target::School(_))
    }
}

catalog_enum!(
    /// A plan's risk level: low-risk plans may be checked from documents.
    Risk, "risk" {
        Low => ("low", "低"),
        Medium => ("medium", "中"),
        High => ("high", "高"),
    }
);

/// One subject of a plan. A mandatory subject (a statutory annual check, a
/// follow-up of a finding) is never dropped: it stays in whatever visit
/// replaces the plan, and a plan holding one is never cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlanSubject {
    pub subject: Subject,
    pub mandatory: bool,
}

/// A department's plan to inspect an enterprise or to enter a school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: u64,
    pub department: Department,
    pub target: Target,
    /// The days the department may go.
    pub window: Window,
    /// The day it would go without coordination (inside `window`): the
    /// "before" figures count it there.
    pub planned: Date,
    pub subjects: Vec<PlanSubject>,
    pub risk: Risk,
    /// A complaint or an accident: goes on its day, whatever else is planned.
    pub urgent: bool,
    /// The department asked the town to accompany it (enterprises only).
    pub accompanied: bool,
}

impl Plan {
    /// Checks that the plan holds together: its planned day in its window,
    /// at least one subject, no subject twice, every subject one its
    /// department plans.
    pub fn check(&self) -> Result<(), CoordError> {
        let bad = |reason: String| CoordError::BadPlan {
            plan: self.id,
            reason,
        };
        if self.window.end < self.window.start {
            return Err(bad("the window ends before it starts".into()));
        }
        if self.window.len() > MAX_WINDOW_DAYS {
            return Err(bad(format!(
                "the window is longer than {MAX_WINDOW_DAYS} days"
            )));
        }
        if !self.window.contains(self.planned) {
            return Err(bad(format!(
                "planned day {} is outside its window {} … {}",
                self.planned, self.window.start, self.window.end
            )));
        }
        if self.subjects.is_empty() {
            return Err(bad("no subject".into()));
        }
        for (i, s) in self.subjects.iter().enumerate() {
            if self.subjects[..i].iter().any(|t| t.subject == s.subject) {
                return Err(bad(format!("subject {} is given twice", s.subject)));
            }
            if s.subject.department() != self.department.kind {
                return Err(bad(format!(
                    "subject {} is not planned by {}",
                    s.subject, self.department.kind
                )));
            }
        }
        Ok(())
    }

    pub fn has_mandatory(&self) -> bool {
        self.subjects.iter().any(|s| s.mandatory)
    }
}

catalog_enum!(
    /// Why an enterprise (or a school) asks to postpone on-site visits.
    PostponeReason, "postpone reason" {
        Relocation => ("relocation", "搬迁"),
        Overhaul => ("overhaul", "停产检修"),
        Exams => ("exams", "考试"),
    }
);

catalog_enum!(
    /// A school's own event that a department is asked to join.
    SchoolEvent, "school event" {
        ScienceDay => ("science_day", "科技节"),
        SafetyDrill => ("safety_drill", "应急疏散演练"),
    }
);

/// What an enterprise or a school asks of the coordination center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestKind {
    /// No on-site inspection in `window` (urgent ones excepted).
    Postpone {
        window: Window,
        reason: PostponeReason,
    },
    /// Guidance on `subject` from `department` within `window`.
    Guidance {
        department: Department,
        subject: Subject,
        window: Window,
    },
    /// An inspection of `subject` by `department` within `window`, asked
    /// by the enterprise itself (served like guidance: with a visit of
    /// the department in the window, else a visit of its own).
    Inspection {
        department: Department,
        subject: Subject,
        window: Window,
    },
    /// A school's event on `date` that `department` is asked to join with
    /// `subject`.
    Event {
        event: SchoolEvent,
        department: Department,
        subject: Subject,
        date: Date,
    },
}

/// A request of an enterprise or a school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub target: Target,
    pub kind: RequestKind,
}

impl Request {
    /// The days the request is about.
    pub fn window(&self) -> Window {
        match &self.kind {
            RequestKind::Postpone { window, .. }
            | RequestKind::Guidance { window, .. }
            | RequestKind::Inspection { window, .. } => *window,
            RequestKind::Event { date, .. } => Window {
                start: *date,
                end: *date,
            },
        }
    }

    /// The department a guidance, inspection or event request asks for.
    pub fn department(&self) -> Option<Department> {
        match &self.kind {
            RequestKind::Postpone { .. } => None,
            RequestKind::Guidance { department, .. }
            | RequestKind::Inspection { department, .. }
            | RequestKind::Event { department, .. } => Some(*department),
        }
    }

    /// Checks a request: a guidance or an event subject must be its
    /// department's, and windows must not be inverted.
    pub fn check(&self) -> Result<(), CoordError> {
        let bad = |reason: String| CoordError::BadRequest {
            request: self.id,
            reason,
        };
        let w = self.window();
        if w.end < w.start {
            return Err(bad("the window ends before it starts".into()));
        }
        if w.len() > MAX_WINDOW_DAYS {
            return Err(bad(format!(
                "the window is longer than {MAX_WINDOW_DAYS} days"
            )));
        }
        match &self.kind {
            RequestKind::Guidance {
                department,
                subject,
                ..
            }
            | RequestKind::Inspection {
                department,
                subject,
                ..
            }
            | RequestKind::Event {
                department,
                subject,
                ..
            } if subject.department() != department.kind => Err(bad(format!(
                "subject {subject} is not {}'s",
                department.kind
            ))),
            RequestKind::Event { .. } if !self.target.is_school() => {
                Err(bad("only a school asks for an event".into()))
            }
            _ => Ok(()),
        }
    }
}

/// What an inspection found (a subject's typical finding, see
/// [`Subject::findings`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub subject: Subject,
    /// A stable code (`exit_blocked`).
    pub code: String,
    /// What was found, in Chinese.
    pub text: String,
}

/// One subject checked at one enterprise or school on one day, with what
/// it found: the history the cancel and online rules look back on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: u64,
    pub target: Target,
    pub department: Department,
    pub subject: Subject,
    pub date: Date,
    pub online: bool,
    pub finding: Option<Finding>,
}

catalog_enum!(
    /// How a visit is made.
    Mode, "mode" {
        OnSite => ("on_site", "现场"),
        Online => ("online", "线上"),
    }
);

/// Why a visit is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "event", rename_all = "snake_case")]
pub enum Purpose {
    /// Departments' plans (one, or several merged into a joint inspection).
    Inspection,
    /// An enterprise asked for guidance and no inspection could bring it.
    Guidance,
    /// A school's own event, on the day the school chose.
    Event(SchoolEvent),
}

/// One visit on the calendar of an enterprise or a school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub id: u64,
    pub target: Target,
    pub date: Date,
    pub mode: Mode,
    pub purpose: Purpose,
    /// The plans it carries out, ascending.
    pub plans: Vec<u64>,
    /// The departments taking part, ascending; `lead` is one of them.
    pub departments: Vec<Department>,
    pub lead: Option<Department>,
    /// Every subject of its plans (and requests), once each, mandatory when
    /// any plan made it so.
    pub subjects: Vec<PlanSubject>,
    /// The days every plan of the visit allows (the visit's own day for a
    /// fixed visit).
    pub window: Window,
    pub urgent: bool,
    /// The town accompanies it.
    pub accompanied: bool,
    /// Requests it serves (guidance given on the way, the school's event).
    pub requests: Vec<u64>,
}

impl Visit {
    /// A visit whose day no rule moves: an urgent inspection or a school's
    /// own event.
    pub fn fixed(&self) -> bool {
        self.urgent || matches!(self.purpose, Purpose::Event(_))
    }

    pub fn on_site(&self) -> bool {
        self.mode == Mode::OnSite
    }

    /// An on-site inspection (not a guidance visit, not online): what the
    /// inspection figures count.
    pub fn is_onsite_inspection(&self) -> bool {
        self.on_site() && self.purpose == Purpose::Inspection
    }

    /// Adds subjects, keeping them sorted, once each, mandatory if any says so.
    pub fn add_subjects(&mut self, subjects: &[PlanSubject]) {
        for s in subjects {
            match self.subjects.iter_mut().find(|t| t.subject == s.subject) {
                Some(t) => t.mandatory |= s.mandatory,
                None => self.subjects.push(*s),
            }
        }
        self.subjects.sort();
    }

    /// Adds a department, keeping them sorted and once each.
    pub fn add_department(&mut self, d: Department) {
        if let Err(i) = self.departments.binary_search(&d) {
            self.departments.insert(i, d);
        }
        self.lead.get_or_insert(d);
    }

    /// Whether the visit may also take `subjects` of `department` (team
    /// size, subject count, subjects that may not share a visit); `Err`
    /// gives the reason in Chinese.
    pub fn can_take(
        &self,
        department: Department,
        subjects: &[PlanSubject],
        limits: &crate::Rules,
    ) -> Result<(), String> {
        let mut depts = self.departments.len();
        if self.departments.binary_search(&department).is_err() {
            depts += 1;
        }
        if depts > limits.max_departments {
            return Err(format!("联合检查最多{}个部门", limits.max_departments));
        }
        let new = subjects
            .iter()
            .filter(|s| !self.subjects.iter().any(|t| t.subject == s.subject))
            .count();
        if self.subjects.len() + new > limits.max_subjects {
            return Err(format!("一次检查最多{}项事项", limits.max_subjects));
        }
        for s in subjects {
            for t in &self.subjects {
                if !crate::catalog::compatible(s.subject, t.subject) {
                    let why = crate::catalog::INCOMPATIBLE
                        .iter()
                        .find(|(a, b, _)| {
                            (*a == s.subject && *b == t.subject)
                                || (*a == t.subject && *b == s.subject)
                        })
                        .map_or("事项不相容", |x| x.2);
                    return Err(why.to_string());
                }
            }
        }
        Ok(())
    }

    /// The kinds of department taking part.
    pub fn kinds(&self) -> impl Iterator<Item = DeptKind> + '_ {
        self.departments.iter().map(|d| d.kind)
    }
}
