//! The closed event loop and who may move an event along it.
//!
//! reported → discussing → routed (to an office or department) → handled →
//! fed back → closed, and closed → reported again (reopen). Each move belongs
//! to one role, within that role's scope:
//!
//! | move | from → to | who |
//! |---|---|---|
//! | report | (new) → reported | unit leader, in a unit of their scope |
//! | discuss | reported → discussing | town office of the event's town |
//! | route | discussing → routed | town office of the event's town (names the department) |
//! | handle | routed → handled | the department it was routed to |
//! | feed back | handled → fed_back | unit leader of the event's unit |
//! | close | fed_back → closed | town office of the event's town |
//! | reopen | closed → reported | town office of the event's town |

use crate::{AreaId, EventStatus, Level, Role};
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// What a token may act on: an area (and everything inside it), a
/// department by name, the whole city (viewers, ship feeds), or one
/// enterprise or school by its id (its own coordination file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Area(AreaId),
    Department(String),
    City,
    Enterprise(u64),
    School(u64),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Area(id) => write!(f, "area:{id}"),
            Scope::Department(d) => write!(f, "department:{d}"),
            Scope::City => f.write_str("city"),
            Scope::Enterprise(id) => write!(f, "enterprise:{id}"),
            Scope::School(id) => write!(f, "school:{id}"),
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = crate::CoreError;

    /// `area:ID`, `department:NAME`, `city`, `enterprise:ID` or `school:ID`,
    /// as tokens are issued and stored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || crate::CoreError::InvalidScope(s.to_string());
        if t == "city" {
            return Ok(Scope::City);
        }
        if let Some(id) = t.strip_prefix("area:") {
            let raw: u64 = id.trim().parse().map_err(|_| bad())?;
            return AreaId::new(raw).map(Scope::Area).map_err(|_| bad());
        }
        for (prefix, make) in [
            ("enterprise:", Scope::Enterprise as fn(u64) -> Scope),
            ("school:", Scope::School),
        ] {
            if let Some(id) = t.strip_prefix(prefix) {
                let raw: u64 = id.trim().parse().map_err(|_| bad())?;
                return (raw > 0).then(|| make(raw)).ok_or_else(bad);
            }
        }
        t.strip_prefix("department:")
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| Scope::Department(d.to_string()))
            .ok_or_else(bad)
    }
}

/// Someone acting through a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    pub scope: Scope,
    /// Who the token was issued to (kept in the event's history).
    pub name: String,
    /// The account acting: a stable id that never reveals the secret (a
    /// token's is `tok_` and the first 16 hex digits of its hash). What an
    /// account did, e.g. its idempotency keys, is its own.
    pub account: String,
}

/// Why a move is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WorkflowError {
    /// The move does not exist from the event's status (409 over HTTP).
    #[error(
        "an event that is {from} cannot become {to} (from {from} it can only become {allowed})"
    )]
    IllegalMove {
        from: EventStatus,
        to: EventStatus,
        allowed: EventStatus,
    },
    /// The actor may not make this move on this event (403 over HTTP).
    #[error("{0}")]
    Forbidden(String),
    /// The request lacks something the move needs (422 over HTTP).
    #[error("{0}")]
    Invalid(String),
}

/// The one status an event may move to next.
pub fn next_status(from: EventStatus) -> EventStatus {
    match from {
        EventStatus::Reported => EventStatus::Discussing,
        EventStatus::Discussing => EventStatus::Routed,
        EventStatus::Routed => EventStatus::Handled,
        EventStatus::Handled => EventStatus::FedBack,
        EventStatus::FedBack => EventStatus::Closed,
        EventStatus::Closed => EventStatus::Reported,
    }
}

/// The role that makes the move into `to`.
pub fn role_for(to: EventStatus) -> Role {
    match to {
        EventStatus::Handled => Role::Department,
        EventStatus::FedBack => Role::UnitLeader,
        _ => Role::TownOffice,
    }
}

/// Whether `scope` covers the unit `unit` (an area scope covers its own
/// area and everything below it).
pub fn covers(scope: &Scope, unit: AreaId) -> bool {
    match scope {
        Scope::City => true,
        Scope::Department(_) | Scope::Enterprise(_) | Scope::School(_) => false,
        Scope::Area(a) => a
            .level()
            .and_then(|l| unit.ancestor_at(l))
            .is_some_and(|x| x == *a),
    }
}

/// Checks that a token of `role` may be issued with `scope`: a unit leader
/// walks a village's, a grid's or a unit's units; a town office acts for a
/// town; a department for itself by name; a viewer reads the city or one
/// area; a ship feed reports the city's fleet; an enterprise or a school
/// acts for itself (`enterprise:ID`, `school:ID`) and nothing else.
pub fn check_grant(role: Role, scope: &Scope) -> Result<(), WorkflowError> {
    let level = match scope {
        Scope::Area(a) => a.level(),
        _ => None,
    };
    let ok = match role {
        Role::UnitLeader => matches!(level, Some(Level::Village | Level::Grid | Level::Unit)),
        Role::TownOffice => level == Some(Level::Town),
        Role::Department => matches!(scope, Scope::Department(_)),
        Role::Viewer => matches!(scope, Scope::City | Scope::Area(_)),
        Role::ShipFeed => matches!(scope, Scope::City),
        Role::Enterprise => matches!(scope, Scope::Enterprise(_)),
        Role::School => matches!(scope, Scope::School(_)),
    };
    if ok {
        return Ok(());
    }
    let wanted = match role {
        Role::UnitLeader => "area:ID of a village, grid or unit",
        Role::TownOffice => "area:ID of a town (9 digits)",
        Role::Department => "department:NAME",
        Role::Viewer => "city, or area:ID",
        Role::ShipFeed => "city",
        Role::Enterprise => "enterprise:ID (the enterprise's id in the enterprises layer)",
        Role::School => "school:ID (the school's id in the schools layer)",
    };
    Err(WorkflowError::Invalid(format!(
        "a {role} token's scope is {wanted}, not {scope}"
    )))
}

/// Whether `actor` may read what the loop keeps of an event in `unit`
/// routed to `routed_to` (its text, reporter and history): an area or city
/// scope that covers the unit, or the department it was routed to.
pub fn may_read(actor: &Actor, unit: AreaId, routed_to: Option<&str>) -> bool {
    match &actor.scope {
        Scope::Department(d) => routed_to == Some(d.as_str()),
        scope => covers(scope, unit),
    }
}

/// Checks that `actor` may report a new event in `unit`.
pub fn check_report(actor: &Actor, unit: AreaId) -> Result<(), WorkflowError> {
    if actor.role != Role::UnitLeader {
        return Err(WorkflowError::Forbidden(format!(
            "only a unit leader reports events; this token is a {}",
            actor.role
        )));
    }
    if !covers(&actor.scope, unit) {
        return Err(WorkflowError::Forbidden(format!(
            "unit {unit} is outside this token's scope ({})",
            actor.scope
        )));
    }
    Ok(())
}

/// The most photos one event holds.
pub const MAX_PHOTOS: u8 = 3;

/// Checks that `actor` may add a photo to an event in `unit`: a unit
/// leader whose scope covers the unit, as for reporting and feeding back.
pub fn check_photo(actor: &Actor, unit: AreaId) -> Result<(), WorkflowError> {
    if actor.role != Role::UnitLeader {
        return Err(WorkflowError::Forbidden(format!(
            "only a unit leader adds photos to events; this token is a {}",
            actor.role
        )));
    }
    if !covers(&actor.scope, unit) {
        return Err(WorkflowError::Forbidden(format!(
            "the event's unit {unit} is outside this token's scope ({})",
            actor.scope
        )));
    }
    Ok(())
}

/// Checks a move of an event in `unit`, now `from` (routed to `routed_to`,
/// if it was), to `to`; `route_to` is the department a route names.
pub fn check_move(
    actor: &Actor,
    unit: AreaId,
    from: EventStatus,
    routed_to: Option<&str>,
    to: EventStatus,
    route_to: Option<&str>,
) -> Result<(), WorkflowError> {
    let allowed = next_status(from);
    if to != allowed {
        return Err(WorkflowError::IllegalMove { from, to, allowed });
    }
    let needed = role_for(to);
    if actor.role != needed {
        return Err(WorkflowError::Forbidden(format!(
            "moving an event to {to} is for a {needed}; this token is a {}",
            actor.role
        )));
    }
    match to {
        EventStatus::Routed => match route_to.map(str::trim) {
            Some(d) if !d.is_empty() => {}
            _ => {
                return Err(WorkflowError::Invalid(
                    "routing an event names the office or department it goes to (routed_to)".into(),
                ))
            }
        },
        _ if route_to.is_some() => {
            return Err(WorkflowError::Invalid(format!(
                "routed_to only goes with a move to routed, not to {to}"
            )))
        }
        _ => {}
    }
    let in_scope = match (&actor.scope, needed) {
        // A department acts on what was routed to it, by name, and nothing
        // else, whatever other scope a token might carry.
        (Scope::Department(d), Role::Department) => routed_to == Some(d.as_str()),
        (_, Role::Department) => false,
        (scope, Role::TownOffice) => {
            // A town office acts on its whole town, even with a narrower scope
            // given as the town's own id.
            covers(scope, unit) && matches!(scope, Scope::Area(a) if a.level() == Some(Level::Town))
        }
        (scope, _) => covers(scope, unit),
    };
    if !in_scope {
        let what = match needed {
            Role::Department => format!(
                "the event was routed to {}, not to this token's department ({})",
                routed_to.unwrap_or("nobody"),
                actor.scope
            ),
            _ => format!(
                "the event's unit {unit} is outside this token's scope ({})",
                actor.scope
            ),
        };
        return Err(WorkflowError::Forbidden(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, scope: Scope) -> Actor {
        Actor {
            role,
            scope,
            name: "t".into(),
            account: "tok_test".into(),
        }
    }

    const UNIT: u64 = 350_302_001_001_001_001;

    #[test]
    fn scopes_parse_and_print_back() {
        for text in [
            "city",
            "department:水务局",
            "area:350302001",
            "enterprise:42",
            "school:7",
        ] {
            let scope: Scope = text.parse().unwrap();
            assert_eq!(scope.to_string(), text);
        }
        assert_eq!(" city ".parse::<Scope>(), Ok(Scope::City));
        for bad in [
            "area:12",
            "area:x",
            "department: ",
            "town:1",
            "",
            "enterprise:",
            "enterprise:0",
            "school:-3",
            "school:x",
        ] {
            assert_eq!(
                bad.parse::<Scope>(),
                Err(crate::CoreError::InvalidScope(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_loop_goes_round_once_with_the_right_roles() {
        let unit = AreaId::new(UNIT).unwrap();
        let town = Scope::Area(unit.ancestor_at(Level::Town).unwrap());
        let leader = Scope::Area(unit.ancestor_at(Level::Grid).unwrap());
        let dept = Scope::Department("水务局".into());
        let mut s = EventStatus::Reported;
        check_report(&actor(Role::UnitLeader, leader.clone()), unit).unwrap();
        let steps = [
            (Role::TownOffice, town.clone(), None),
            (Role::TownOffice, town.clone(), Some("水务局")),
            (Role::Department, dept, None),
            (Role::UnitLeader, leader, None),
            (Role::TownOffice, town.clone(), None),
            (Role::TownOffice, town, None),
        ];
        let mut routed: Option<String> = None;
        for (role, scope, route) in steps {
            let to = next_status(s);
            check_move(&actor(role, scope), unit, s, routed.as_deref(), to, route).unwrap();
            if let Some(r) = route {
                routed = Some(r.into());
            }
            s = to;
        }
        assert_eq!(s, EventStatus::Reported, "reopened");
    }

    #[test]
    fn illegal_moves_and_wrong_people_are_refused() {
        let unit = AreaId::new(UNIT).unwrap();
        let town = actor(
            Role::TownOffice,
            Scope::Area(AreaId::new(350_302_001).unwrap()),
        );
        let other_town = actor(
            Role::TownOffice,
            Scope::Area(AreaId::new(350_302_002).unwrap()),
        );
        // Skipping a step.
        let e = check_move(
            &town,
            unit,
            EventStatus::Reported,
            None,
            EventStatus::Closed,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::IllegalMove { .. }), "{e}");
        assert!(e.to_string().contains("discussing"), "{e}");
        // Another town.
        let e = check_move(
            &other_town,
            unit,
            EventStatus::Reported,
            None,
            EventStatus::Discussing,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::Forbidden(_)), "{e}");
        // Route without a department.
        let e = check_move(
            &town,
            unit,
            EventStatus::Discussing,
            None,
            EventStatus::Routed,
            Some(" "),
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::Invalid(_)), "{e}");
        // The wrong department.
        let d = actor(Role::Department, Scope::Department("城管局".into()));
        let e = check_move(
            &d,
            unit,
            EventStatus::Routed,
            Some("水务局"),
            EventStatus::Handled,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::Forbidden(_)), "{e}");
        // A viewer, and a department reporting.
        let v = actor(Role::Viewer, Scope::City);
        assert!(check_report(&v, unit).is_err());
        assert!(check_report(&d, unit).is_err());
        // A unit leader of another unit.
        let l = actor(
            Role::UnitLeader,
            Scope::Area(AreaId::new(UNIT + 1).unwrap()),
        );
        assert!(check_report(&l, unit).is_err());
        let e = check_move(
            &l,
            unit,
            EventStatus::Handled,
            Some("x"),
            EventStatus::FedBack,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::Forbidden(_)), "{e}");
    }

    #[test]
    fn scopes_cover_their_subtree_only() {
        let unit = AreaId::new(UNIT).unwrap();
        for level in Level::ALL {
            assert!(covers(&Scope::Area(unit.ancestor_at(level).unwrap()), unit));
        }
        assert!(!covers(&Scope::Area(AreaId::new(350_303).unwrap()), unit));
        assert!(!covers(&Scope::Department("x".into()), unit));
        assert!(covers(&Scope::City, unit));
    }

    #[test]
    fn a_department_handles_only_what_was_routed_to_it_whatever_its_scope() {
        let unit = AreaId::new(UNIT).unwrap();
        let handle = |scope: Scope| {
            check_move(
                &actor(Role::Department, scope),
                unit,
                EventStatus::Routed,
                Some("水务局"),
                EventStatus::Handled,
                None,
            )
        };
        assert!(handle(Scope::Department("水务局".into())).is_ok());
        for scope in [
            Scope::City,
            Scope::Area(unit),
            Scope::Area(unit.ancestor_at(Level::District).unwrap()),
            Scope::Department("城管局".into()),
        ] {
            let e = handle(scope.clone()).unwrap_err();
            assert!(matches!(e, WorkflowError::Forbidden(_)), "{scope}: {e}");
        }
    }

    #[test]
    fn grants_that_make_no_sense_are_refused() {
        let unit = AreaId::new(UNIT).unwrap();
        let at = |l| Scope::Area(unit.ancestor_at(l).unwrap());
        let dept = Scope::Department("水务局".into());
        let ok = [
            (Role::UnitLeader, at(Level::Village)),
            (Role::UnitLeader, at(Level::Grid)),
            (Role::UnitLeader, at(Level::Unit)),
            (Role::TownOffice, at(Level::Town)),
            (Role::Department, dept.clone()),
            (Role::Viewer, Scope::City),
            (Role::Viewer, at(Level::District)),
            (Role::ShipFeed, Scope::City),
            (Role::Enterprise, Scope::Enterprise(42)),
            (Role::School, Scope::School(7)),
        ];
        for (role, scope) in &ok {
            assert!(check_grant(*role, scope).is_ok(), "{role} {scope}");
        }
        let bad = [
            (Role::UnitLeader, Scope::City),
            (Role::UnitLeader, at(Level::Town)),
            (Role::UnitLeader, dept.clone()),
            (Role::TownOffice, Scope::City),
            (Role::TownOffice, at(Level::District)),
            (Role::TownOffice, at(Level::Village)),
            (Role::Department, Scope::City),
            (Role::Department, at(Level::Town)),
            (Role::Viewer, dept.clone()),
            (Role::ShipFeed, at(Level::District)),
            (Role::ShipFeed, dept.clone()),
            (Role::Enterprise, Scope::School(7)),
            (Role::Enterprise, at(Level::Town)),
            (Role::Enterprise, Scope::City),
            (Role::School, Scope::Enterprise(42)),
            (Role::School, dept),
            (Role::Viewer, Scope::Enterprise(42)),
            (Role::TownOffice, Scope::School(7)),
            (Role::Department, Scope::Enterprise(42)),
            (Role::UnitLeader, Scope::School(7)),
        ];
        for (role, scope) in &bad {
            let e = check_grant(*role, scope).unwrap_err();
            assert!(e.to_string().contains(&scope.to_string()), "{e}");
        }
    }

    #[test]
    fn only_a_unit_leader_of_the_unit_adds_photos() {
        let unit = AreaId::new(UNIT).unwrap();
        let grid = Scope::Area(unit.ancestor_at(Level::Grid).unwrap());
        let town = Scope::Area(unit.ancestor_at(Level::Town).unwrap());
        assert!(check_photo(&actor(Role::UnitLeader, grid), unit).is_ok());
        let other = Scope::Area(AreaId::new(UNIT + 1).unwrap());
        for (role, scope) in [
            (Role::UnitLeader, other),
            (Role::TownOffice, town),
            (Role::Viewer, Scope::City),
            (Role::Department, Scope::Department("水务局".into())),
        ] {
            let e = check_photo(&actor(role, scope.clone()), unit).unwrap_err();
            assert!(
                matches!(e, WorkflowError::Forbidden(_)),
                "{role} {scope}: {e}"
            );
        }
    }

    #[test]
    fn who_may_read_an_events_text() {
        let unit = AreaId::new(UNIT).unwrap();
        let other = AreaId::new(350_303_001_001_001_001).unwrap();
        let town = actor(
            Role::TownOffice,
            Scope::Area(unit.ancestor_at(Level::Town).unwrap()),
        );
        assert!(may_read(&town, unit, None));
        assert!(!may_read(&town, other, None));
        let d = actor(Role::Department, Scope::Department("水务局".into()));
        assert!(may_read(&d, unit, Some("水务局")));
        assert!(!may_read(&d, unit, Some("城管局")));
        assert!(!may_read(&d, unit, None));
        assert!(may_read(&actor(Role::Viewer, Scope::City), other, None));
    }
}
