use thiserror::Error;

/// What can go wrong in coordination: a value from outside that does not
/// parse or does not hold together. The messages are what people see.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoordError {
    #[error("invalid date '{0}': expected YYYY-MM-DD between 1970 and 2200")]
    BadDate(String),
    #[error("invalid window {start} … {end}: the end is before the start")]
    BadWindow { start: String, end: String },
    #[error("invalid year {0}: expected a year from 1970 to 2199")]
    BadYear(i32),
    #[error("plan {plan}: {reason}")]
    BadPlan { plan: u64, reason: String },
    #[error("request {request}: {reason}")]
    BadRequest { request: u64, reason: String },
    #[error("plan id {0} is given more than once")]
    DuplicatePlan(u64),
    #[error("visit id {0} is given more than once")]
    DuplicateVisit(u64),
    #[error("a decision names plan {0}, which is not in the coordination")]
    UnknownPlan(u64),
    #[error("plan {0} has more than one decision")]
    DuplicateDecision(u64),
    #[error("no area '{0}' in the city (give a district or town id, or its Chinese name)")]
    UnknownArea(String),
    #[error("area {0} is neither a district nor a town")]
    NotDistrictOrTown(u64),
    #[error("the city has no towns: coordination needs districts and towns")]
    NoTowns,
    #[error("enterprise {0} is not in the push")]
    NotPushed(u64),
    #[error("enterprise {enterprise}: a self-check cannot go from {from} to {to}")]
    BadSelfCheck {
        enterprise: u64,
        from: &'static str,
        to: &'static str,
    },
    #[error("no enterprise {0} in the city")]
    UnknownEnterprise(u64),
    #[error("record {0} holds no finding of an enterprise to push")]
    NothingToPush(u64),
    #[error("unknown {kind} '{value}' (expected one of: {expected})")]
    UnknownValue {
        kind: &'static str,
        value: String,
        expected: String,
    },
}
