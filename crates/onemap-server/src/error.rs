//! The one place where failures become HTTP responses.
//!
//! Every handler returns `Result<_, ApiError>`. An [`ApiError`] is an
//! [`ErrorCode`] and a message for people; the code alone decides the HTTP
//! status ([`ErrorCode::status`]), and the `error_codes!` table below is the
//! only place a status is chosen. Library errors convert here too, each
//! variant to its code. The body is always
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! One failure, one code, from every route, and one status per code: text
//! that does not parse (a date that is not a date, a box that is not four
//! numbers, a body that is not JSON) is a 400 and its code usually starts
//! with `bad_`; a value that parses but is not acceptable (an unknown
//! category, `from` after `to`, an oversized box) is a 422. Malformed ids in
//! a path (`/api/areas/abc`, a tile `3/8/0`) name nothing and are 400s.
//!
//! A server's failure tells the public nothing about the server: the body of
//! a 500 `internal` or a 503 `store_unavailable` is a fixed message and an
//! error id; the details (a path, a database's address, a library's words)
//! go to the log under that id. The other 5xx messages (`read_only`,
//! `overloaded`, `timeout`) are fixed texts of ours. An `overloaded` answer
//! carries `Retry-After`.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use onemap_core::workflow::WorkflowError;
use onemap_core::CoreError;
use onemap_index::IndexError;
use onemap_live::LiveError;
use onemap_store::StoreError;
use onemap_tiles::TilesError;

/// Declares [`ErrorCode`]: each code with its stable name and its status.
macro_rules! error_codes {
    ($($(#[$m:meta])* $variant:ident = $name:literal => $status:ident,)+) => {
        /// The stable machine code of an error answer, and through it the
        /// HTTP status. The names never change: clients match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$m])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as clients see it, e.g. `bad_time`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)+
                }
            }

            /// The HTTP status of every answer with this code.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)+
                }
            }
        }
    };
}

error_codes! {
    // 400: the request's text does not parse.
    /// The query string is not `name=value&…` (bad percent-encoding).
    BadQuery = "bad_query" => BAD_REQUEST,
    /// A path segment does not decode.
    BadPath = "bad_path" => BAD_REQUEST,
    /// The body is not JSON (or could not be read).
    BadBody = "bad_body" => BAD_REQUEST,
    /// A required parameter is missing (or empty).
    MissingParameter = "missing_parameter" => BAD_REQUEST,
    /// Parameters that exclude each other were given together.
    ConflictingParameters = "conflicting_parameters" => BAD_REQUEST,
    /// A number (a coordinate, a limit, an H3 resolution, a feature id) that
    /// is not one.
    BadNumber = "bad_number" => BAD_REQUEST,
    /// A time that is not a date, an ISO 8601 date-time or Unix seconds.
    BadTime = "bad_time" => BAD_REQUEST,
    /// A box that is not four comma-separated numbers.
    BadBBox = "bad_bbox" => BAD_REQUEST,
    /// A polygon whose text is not a list of at least three points.
    BadPolygon = "bad_polygon" => BAD_REQUEST,
    /// A tile address outside the scheme: not numbers, x or y beyond the
    /// zoom, a zoom deeper than served.
    InvalidTile = "invalid_tile" => BAD_REQUEST,
    /// No tile layer named in a tile path.
    NoLayers = "no_layers" => BAD_REQUEST,
    /// An area id that is not digits, or not 6, 9, 12, 15 or 18 of them.
    InvalidAreaId = "invalid_area_id" => BAD_REQUEST,
    /// An event id that is not a positive integer.
    BadEventId = "bad_event_id" => BAD_REQUEST,
    /// An MMSI that is not a number.
    InvalidMmsi = "invalid_mmsi" => BAD_REQUEST,
    /// A page cursor that no page returned.
    InvalidCursor = "invalid_cursor" => BAD_REQUEST,

    /// No valid bearer token.
    Unauthorized = "unauthorized" => UNAUTHORIZED,
    /// A name and password that do not sign in (never says which is wrong).
    SignInFailed = "sign_in_failed" => UNAUTHORIZED,
    /// The token's holder may not do this.
    Forbidden = "forbidden" => FORBIDDEN,
    /// A change made with a session cookie without the session's
    /// `X-CSRF-Token`.
    CsrfFailed = "csrf_failed" => FORBIDDEN,
    /// Too many failed sign-ins for this name or from this address; try
    /// again after `Retry-After` seconds.
    TooManyAttempts = "too_many_attempts" => TOO_MANY_REQUESTS,

    // 404: something named does not exist.
    /// No such route or file.
    NotFound = "not_found" => NOT_FOUND,
    UnknownLayer = "unknown_layer" => NOT_FOUND,
    UnknownStyle = "unknown_style" => NOT_FOUND,
    UnknownFeature = "unknown_feature" => NOT_FOUND,
    UnknownArea = "unknown_area" => NOT_FOUND,
    UnknownEvent = "unknown_event" => NOT_FOUND,
    UnknownToken = "unknown_token" => NOT_FOUND,
    /// No account has this name.
    UnknownUser = "unknown_user" => NOT_FOUND,
    /// An account with this name exists already.
    UserExists = "user_exists" => CONFLICT,
    UnknownShip = "unknown_ship" => NOT_FOUND,
    /// An event has no photo with this number.
    UnknownPhoto = "unknown_photo" => NOT_FOUND,
    /// The one table's ledgers were not generated for this city.
    NoLedgers = "no_ledgers" => NOT_FOUND,
    /// No coordination plan with this id in the demo year.
    UnknownPlan = "unknown_plan" => NOT_FOUND,
    /// No enterprise or school with this id in the coordination.
    UnknownSite = "unknown_site" => NOT_FOUND,
    /// No saved template of the one table with this id that the account sees.
    UnknownTemplate = "unknown_template" => NOT_FOUND,
    /// No problem pushed under this key in the demo year.
    UnknownPush = "unknown_push" => NOT_FOUND,
    /// No problem, development or task list item with this id.
    UnknownListItem = "unknown_list_item" => NOT_FOUND,
    /// The viewer's npm packages are not installed.
    ViewerNotInstalled = "viewer_not_installed" => NOT_FOUND,

    MethodNotAllowed = "method_not_allowed" => METHOD_NOT_ALLOWED,
    /// The move does not exist from the event's status.
    IllegalMove = "illegal_move" => CONFLICT,
    /// The idempotency key was used before, by the same account, for
    /// another report.
    IdempotencyConflict = "idempotency_conflict" => CONFLICT,
    /// A coordination plan whose suggestion is to keep it as planned: there
    /// is nothing to accept or refuse.
    NothingToDecide = "nothing_to_decide" => CONFLICT,
    /// A template of this name is shared in the same area already.
    TemplateExists = "template_exists" => CONFLICT,
    /// An enterprise or a school asked the same before (the message names
    /// the request).
    DuplicateRequest = "duplicate_request" => CONFLICT,
    /// A plan with no on-site visit to postpone (cancelled, online or
    /// urgent).
    NothingToPostpone = "nothing_to_postpone" => CONFLICT,
    /// A self-check that goes back, or skips a step.
    BadSelfCheck = "bad_self_check" => CONFLICT,
    /// The event holds as many photos as it may (3).
    TooManyPhotos = "too_many_photos" => CONFLICT,
    /// The hot spot has a list item that is not done yet.
    HotspotTaken = "hotspot_taken" => CONFLICT,
    /// The body is larger than the server reads.
    BodyTooLarge = "body_too_large" => PAYLOAD_TOO_LARGE,
    /// The body is not declared as JSON.
    UnsupportedMediaType = "unsupported_media_type" => UNSUPPORTED_MEDIA_TYPE,

    // 422: the text parses, the value is not acceptable.
    /// JSON of the wrong shape: a missing, unknown or mistyped field.
    InvalidBody = "invalid_body" => UNPROCESSABLE_ENTITY,
    /// A longitude or latitude out of range.
    InvalidCoordinate = "invalid_coordinate" => UNPROCESSABLE_ENTITY,
    /// Four numbers that are no box: inverted, out of range, not finite.
    InvalidBBox = "invalid_bbox" => UNPROCESSABLE_ENTITY,
    /// A box larger than a query may cover.
    BBoxTooLarge = "bbox_too_large" => UNPROCESSABLE_ENTITY,
    /// An answer or a question beyond a request's bounds: more groups than
    /// one answer lists, a polygon with more vertices than a query takes.
    /// The message says the limit and how to narrow the question.
    TooLarge = "too_large" => UNPROCESSABLE_ENTITY,
    /// A polygon whose ring is not a shape (fewer than 3 distinct points).
    InvalidPolygon = "invalid_polygon" => UNPROCESSABLE_ENTITY,
    /// A grouping that is neither an area level nor `h3:RES`.
    UnknownLevel = "unknown_level" => UNPROCESSABLE_ENTITY,
    /// A value not in its list: a category, a status, a role, a place.
    UnknownValue = "unknown_value" => UNPROCESSABLE_ENTITY,
    /// An H3 resolution out of the query's range.
    InvalidResolution = "invalid_resolution" => UNPROCESSABLE_ENTITY,
    /// A limit (page size, k) out of range.
    InvalidLimit = "invalid_limit" => UNPROCESSABLE_ENTITY,
    /// A query or a filter that does not apply to the layer.
    NotApplicable = "not_applicable" => UNPROCESSABLE_ENTITY,
    /// A time window whose `from` is after its `to`.
    InvalidWindow = "invalid_window" => UNPROCESSABLE_ENTITY,
    /// A maximum distance that is negative or not finite.
    InvalidDistance = "invalid_distance" => UNPROCESSABLE_ENTITY,
    /// A move with a missing or wrong detail (e.g. routed with no department).
    InvalidMove = "invalid_move" => UNPROCESSABLE_ENTITY,
    InvalidScope = "invalid_scope" => UNPROCESSABLE_ENTITY,
    /// A ship state that is neither `in_port` nor `at_sea`.
    InvalidState = "invalid_state" => UNPROCESSABLE_ENTITY,
    /// A name (of a template) that is empty, too long or has control
    /// characters.
    InvalidName = "invalid_name" => UNPROCESSABLE_ENTITY,
    /// A text field longer than kept.
    TooLong = "too_long" => UNPROCESSABLE_ENTITY,
    /// A request or a self-check without the reason or note it needs.
    EmptyReason = "empty_reason" => UNPROCESSABLE_ENTITY,
    /// A day outside the demo year (or before the visit it moves).
    OutsideYear = "outside_year" => UNPROCESSABLE_ENTITY,
    /// An event description that is empty or too long.
    InvalidDescription = "invalid_description" => UNPROCESSABLE_ENTITY,
    /// A report's unit that is not a unit's id.
    InvalidUnit = "invalid_unit" => UNPROCESSABLE_ENTITY,
    /// A report's unit that is not in this city.
    UnknownUnit = "unknown_unit" => UNPROCESSABLE_ENTITY,
    /// A report's point in no unit of the city.
    OutsideCity = "outside_city" => UNPROCESSABLE_ENTITY,
    /// A report's point outside the unit it names.
    UnitMismatch = "unit_mismatch" => UNPROCESSABLE_ENTITY,
    /// A report with neither a point nor a unit.
    MissingLocation = "missing_location" => UNPROCESSABLE_ENTITY,
    /// More position reports in one batch than taken.
    BatchTooLarge = "batch_too_large" => UNPROCESSABLE_ENTITY,
    /// An uploaded photo that is not a whole JPEG or PNG image.
    InvalidPhoto = "invalid_photo" => UNPROCESSABLE_ENTITY,
    /// An uploaded photo with more pixels (or memory decoded) than taken.
    PhotoTooLarge = "photo_too_large" => UNPROCESSABLE_ENTITY,

    /// A list item's value the lists refuse (an empty title, a bad due
    /// date, a reopening without a note, nothing to change).
    InvalidListItem = "invalid_list_item" => UNPROCESSABLE_ENTITY,
    /// A hot spot asked to become a problem item that has too few events.
    NotAHotspot = "not_a_hotspot" => UNPROCESSABLE_ENTITY,

    Internal = "internal" => INTERNAL_SERVER_ERROR,
    /// The store cannot be reached; nothing was changed.
    StoreUnavailable = "store_unavailable" => SERVICE_UNAVAILABLE,
    /// The server was started without the enterprises' and schools'
    /// coordination (a city without towns).
    NoCoordination = "no_coordination" => SERVICE_UNAVAILABLE,
    /// This server keeps no changes (no store for the event loop).
    ReadOnly = "read_only" => SERVICE_UNAVAILABLE,
    /// Load shedding: too many connections, expensive requests or stream
    /// subscribers at once; try again after `Retry-After` seconds.
    Overloaded = "overloaded" => SERVICE_UNAVAILABLE,
    /// The request was not answered within the server's request timeout.
    Timeout = "timeout" => SERVICE_UNAVAILABLE,
}

impl ErrorCode {
    /// The message the public gets instead of the error's own, for the
    /// codes whose messages carry a library's details.
    fn public_message(self) -> Option<&'static str> {
        match self {
            ErrorCode::Internal => Some("the server failed; its log has the details"),
            ErrorCode::StoreUnavailable => {
                Some("the store cannot be reached; nothing was changed, try again later")
            }
            _ => None,
        }
    }
}

/// A new error id: 16 hex digits, random (std's randomly keyed hasher over a
/// counter), so the ids of two servers' logs do not collide.
fn error_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `code == "bad_time"`: codes compare with the names clients see.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An error answer: a stable code (which decides the status) and a message
/// for people.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// The HTTP status, from the code.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status().as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code.as_str();
        let error = match self.code.public_message() {
            Some(public) => {
                let id = error_id();
                tracing::error!(error_id = %id, code, "{}", self.message);
                serde_json::json!({
                    "code": code,
                    "message": format!("{public} (error id {id})"),
                    "id": id,
                })
            }
            None => serde_json::json!({ "code": code, "message": self.message }),
        };
        let mut res = (status, Json(serde_json::json!({ "error": error }))).into_response();
        let retry_after = match self.code {
            ErrorCode::Overloaded => Some(crate::guard::RETRY_AFTER_SECS),
            ErrorCode::TooManyAttempts => Some(crate::session::LOCKOUT_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        use ErrorCode as C;
        let code = match e {
            CoreError::InvalidCoordinate { .. } => C::InvalidCoordinate,
            CoreError::BadBBox(_) => C::BadBBox,
            CoreError::InvalidBBox { .. } => C::InvalidBBox,
            CoreError::InvalidTile { .. } => C::InvalidTile,
            CoreError::UnknownLayer(_) => C::UnknownLayer,
            CoreError::UnknownLevel(_) => C::UnknownLevel,
            CoreError::UnknownValue { .. } => C::UnknownValue,
            CoreError::InvalidAreaId(_) | CoreError::BadAreaId(_) => C::InvalidAreaId,
            CoreError::BadPolygon(_) => C::BadPolygon,
            CoreError::BadTime(_) => C::BadTime,
            CoreError::InvalidScope(_) => C::InvalidScope,
        };
        Self::new(code, e.to_string())
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        use ErrorCode as C;
        let code = match e {
            IndexError::Core(c) => return c.into(),
            IndexError::UnknownArea(_) => C::UnknownArea,
            IndexError::InvalidAreaId(_) => C::InvalidAreaId,
            IndexError::H3Resolution { .. } => C::InvalidResolution,
            IndexError::Limit { .. } => C::InvalidLimit,
            IndexError::NotApplicable { .. } | IndexError::FilterNotApplicable(_) => {
                C::NotApplicable
            }
            IndexError::InvalidWindow { .. } => C::InvalidWindow,
            IndexError::InvalidDistance(_) => C::InvalidDistance,
            IndexError::InvalidPolygon(_) => C::InvalidPolygon,
            IndexError::UnknownGroupBy(_) => C::UnknownLevel,
            IndexError::UnknownPlace(_) => C::UnknownValue,
            IndexError::BadH3Resolution(_) => C::BadNumber,
            IndexError::BBoxTooLarge { .. } => C::BBoxTooLarge,
            IndexError::TooManyGroups { .. } | IndexError::TooManyVertices { .. } => C::TooLarge,
            IndexError::InvalidCursor(_) => C::InvalidCursor,
            IndexError::InvalidData(_) => C::Internal,
        };
        Self::new(code, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let msg = e.to_string();
        match e {
            StoreError::Workflow(w) => w.into(),
            StoreError::List(l) => l.into(),
            StoreError::UnknownEvent(_) => Self::new(ErrorCode::UnknownEvent, msg),
            StoreError::IdempotencyConflict { .. } => {
                Self::new(ErrorCode::IdempotencyConflict, msg)
            }
            StoreError::TooManyPhotos { .. } => Self::new(ErrorCode::TooManyPhotos, msg),
            StoreError::UnknownToken(_) => Self::new(ErrorCode::UnknownToken, msg),
            StoreError::UnknownUser(_) => Self::new(ErrorCode::UnknownUser, msg),
            StoreError::UserExists(_) => Self::new(ErrorCode::UserExists, msg),
            StoreError::TemplateExists(_) => Self::new(ErrorCode::TemplateExists, msg),
            StoreError::TooManyTemplates { .. } => Self::new(ErrorCode::TooLarge, msg),
            StoreError::DuplicateRequest { .. } => Self::new(ErrorCode::DuplicateRequest, msg),
            // Both logged with their details where the answer is made.
            StoreError::Postgres(p) if p.is_unavailable() => {
                Self::new(ErrorCode::StoreUnavailable, msg)
            }
            other => Self::internal(format!("the store failed: {}", anyhow_chain(&other))),
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        let code = match e {
            WorkflowError::IllegalMove { .. } => ErrorCode::IllegalMove,
            WorkflowError::Forbidden(_) => ErrorCode::Forbidden,
            WorkflowError::Invalid(_) => ErrorCode::InvalidMove,
        };
        Self::new(code, e.to_string())
    }
}

impl From<onemap_core::lists::ListError> for ApiError {
    fn from(e: onemap_core::lists::ListError) -> Self {
        use onemap_core::lists::ListError as L;
        let code = match e {
            L::UnknownItem(_) => ErrorCode::UnknownListItem,
            L::Forbidden(_) => ErrorCode::Forbidden,
            L::Invalid(_) => ErrorCode::InvalidListItem,
            L::IllegalMove { .. } => ErrorCode::IllegalMove,
            L::HotspotTaken { .. } => ErrorCode::HotspotTaken,
        };
        Self::new(code, e.to_string())
    }
}

/// An error with its causes, `a: b: c`.
fn anyhow_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl From<LiveError> for ApiError {
    fn from(e: LiveError) -> Self {
        use ErrorCode as C;
        let code = match e {
            LiveError::Store(s) => return s.into(),
            LiveError::Core(c) => return c.into(),
            LiveError::Index(i) => return i.into(),
            LiveError::ReadOnly => C::ReadOnly,
            LiveError::UnknownToken => C::Unauthorized,
            LiveError::SignInFailed => C::SignInFailed,
            LiveError::Forbidden(_) => C::Forbidden,
            LiveError::InvalidDescription { .. } => C::InvalidDescription,
            LiveError::TooLong { .. } => C::TooLong,
            LiveError::InvalidUnit => C::InvalidUnit,
            LiveError::UnknownUnit(_) => C::UnknownUnit,
            LiveError::OutsideCity { .. } => C::OutsideCity,
            LiveError::UnitMismatch { .. } => C::UnitMismatch,
            LiveError::MissingLocation => C::MissingLocation,
            LiveError::BatchTooLarge { .. } => C::BatchTooLarge,
            LiveError::UnknownEvent(_) => C::UnknownEvent,
            LiveError::UnknownShip(_) => C::UnknownShip,
            LiveError::InvalidPhoto(_) => C::InvalidPhoto,
            LiveError::PhotoTooLarge { .. } => C::PhotoTooLarge,
            LiveError::UnknownPhoto { .. } => C::UnknownPhoto,
            LiveError::InvalidName { .. } => C::InvalidName,
            LiveError::UnknownTemplate(_) => C::UnknownTemplate,
            LiveError::NotAHotspot(_) => C::NotAHotspot,
            LiveError::Worker(_) => C::Internal,
        };
        Self::new(code, e.to_string())
    }
}

/// Tile errors: anything about the request is a 4xx, the rest a 500.
impl From<TilesError> for ApiError {
    fn from(e: TilesError) -> Self {
        use ErrorCode as C;
        let code = match e {
            TilesError::UnknownLayer { .. } | TilesError::InvalidLayerName(_) => C::UnknownLayer,
            TilesError::NoLayers { .. } => C::NoLayers,
            TilesError::ZoomTooDeep { .. } => C::InvalidTile,
            TilesError::InvalidFilter { .. } => C::InvalidWindow,
            TilesError::NonFiniteCoordinate { .. } => C::Internal,
        };
        Self::new(code, e.to_string())
    }
}

/// A JSON body that did not arrive as one: not declared as JSON (415), too
/// large (413), not JSON (400), or JSON of the wrong shape (422).
/// A path whose parts do not fit the route's (a `bad_path` 400).
pub(crate) fn path_error(e: PathRejection) -> ApiError {
    ApiError::new(ErrorCode::BadPath, e.body_text())
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match &r {
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            JsonRejection::JsonDataError(_) => ErrorCode::InvalidBody,
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
            _ => ErrorCode::BadBody,
        };
        Self::new(code, r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_errors() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            let status = c.status();
            assert!(status.is_client_error() || status.is_server_error(), "{s}");
            assert_eq!(*c, s);
        }
        assert_eq!(seen.len(), ErrorCode::ALL.len());
    }

    /// Text that does not parse is a 400, a value that parses but is not
    /// acceptable a 422: the two failures of a box, a polygon, a grouping.
    #[test]
    fn parse_failures_and_bad_values_differ() {
        let code = |e: ApiError| (e.status().as_u16(), e.code.as_str());
        let bbox = |s: &str| code(s.parse::<onemap_core::BBox>().unwrap_err().into());
        assert_eq!(bbox("1,2,3"), (400, "bad_bbox"));
        assert_eq!(bbox("2,1,1,2"), (422, "invalid_bbox"));
        let poly = onemap_core::parse_polygon("119 25,119.1").unwrap_err();
        assert_eq!(code(poly.into()), (400, "bad_polygon"));
        let ring = IndexError::InvalidPolygon("fewer than 3 distinct points".into());
        assert_eq!(code(ring.into()), (422, "invalid_polygon"));
        let by = |s: &str| code(s.parse::<onemap_index::GroupBy>().unwrap_err().into());
        assert_eq!(by("h3:x"), (400, "bad_number"));
        assert_eq!(by("country"), (422, "unknown_level"));
        let time = "yesterday".parse::<onemap_core::TimeBound>().unwrap_err();
        assert_eq!(code(time.into()), (400, "bad_time"));
        let area = |s: &str| code(s.parse::<onemap_core::AreaId>().unwrap_err().into());
        assert_eq!(area("abc"), (400, "invalid_area_id"));
        assert_eq!(area("12345"), (400, "invalid_area_id"));
        // An index error wrapping a core error keeps the core error's code.
        let wrapped = IndexError::Core(CoreError::BadTime("x".into()));
        assert_eq!(code(wrapped.into()), (400, "bad_time"));
    }

    async fn body(res: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// A server failure's details go to the log; the public gets a fixed
    /// message and the id of the log line.
    #[tokio::test]
    async fn server_failures_tell_the_public_an_id_not_the_details() {
        let secret = "cannot read /srv/onemap/city/units.fgb at db.internal:5432/onemap";
        for code in [ErrorCode::Internal, ErrorCode::StoreUnavailable] {
            let res = ApiError::new(code, secret).into_response();
            assert!(res.status().is_server_error());
            let v = body(res).await;
            let text = v.to_string();
            assert!(
                !text.contains("/srv") && !text.contains("db.internal"),
                "{v}"
            );
            let id = v["error"]["id"].as_str().unwrap();
            assert_eq!(id.len(), 16, "{v}");
            assert!(v["error"]["message"].as_str().unwrap().contains(id), "{v}");
            assert_eq!(v["error"]["code"], code.as_str());
        }
        let a = body(ApiError::internal("x").into_response()).await;
        let b = body(ApiError::internal("x").into_response()).await;
        assert_ne!(a["error"]["id"], b["error"]["id"]);
        // Client errors keep their message, and have no id.
        let v = body(ApiError::new(ErrorCode::BadTime, "bad time 'x'").into_response()).await;
        assert_eq!(v["error"]["message"], "bad time 'x'");
        assert!(v["error"].get("id").is_none());
    }

    #[test]
    fn overloaded_says_when_to_come_back() {
        let res = ApiError::new(ErrorCode::Overloaded, "busy").into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn the_body_names_the_code_and_the_status_follows_it() {
        let e = ApiError::new(ErrorCode::BBoxTooLarge, "too big");
        assert_eq!(e.to_string(), "422 bbox_too_large: too big");
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
