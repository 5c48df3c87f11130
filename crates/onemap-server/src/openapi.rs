//! What the OpenAPI descriptions share: the document's head (info, tags,
//! the bearer scheme) and the error answer's schema. The document itself is
//! the router's (`router::document`): every route is registered there with
//! the `#[utoipa::path]` description on its handler.

use crate::error::ErrorCode;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{OpenApi, PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "onemap",
        description = "Whole city, one map (全市一张图): vector tiles, TileJSON, MapLibre styles and spatial queries over an in-memory city, and the closed event loop. Errors are JSON {\"error\": {\"code\", \"message\"}}; the code alone decides the status. Integers beyond 2^53 (unit ids) are strings in JSON answers. Any route may answer 503 timeout when it is not answered within the server's request timeout, and 413 body_too_large to a body larger than it takes (only the event loop's writes and ship batches take one); the expensive routes (tile renders, queries) and the ship stream answer 503 overloaded, with Retry-After, beyond their caps.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "tiles", description = "Vector tiles, TileJSON, the layer catalog and MapLibre styles"),
        (name = "queries", description = "Questions to the city: places, features, figures, hot spots"),
        (name = "events", description = "The closed event loop: report, move, read (writes need a bearer token)"),
        (name = "lists", description = "The problem, development and task lists (问题清单、发展清单、任务清单): items per area with an owner, status, due date, linked events and history; a hot spot made a problem item in one step (every route needs an account)"),
        (name = "ships", description = "The live fleet: positions in, fleet, tracks, crossings and a stream out"),
        (name = "files", description = "Area files (一镇一档、一村一档、一企一档): one document per area, enterprise and school"),
        (name = "service", description = "Health, metrics, this document, the viewer's pages and files")
    ),
    components(schemas(ErrorBody, ErrorCode)),
    modifiers(&BearerTokens)
)]
struct ApiDoc;

/// The `bearer` security scheme that writes (and, with private reads,
/// reads) name.
struct BearerTokens;

impl utoipa::Modify for BearerTokens {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A token from `onemap token create` (its role and scope decide what it may do)",
            ))
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document's head (info, tags, shared schemas); the router adds the
/// paths.
pub(crate) fn head() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The answers every write can give besides its own: a body that is not
/// JSON, no valid token, a body too large or not JSON, no store.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only described.
pub(crate) enum WriteErrors {
    #[response(status = 400, description = "The body is not JSON")]
    BadBody(ErrorBody),
    #[response(status = 401, description = "No bearer token, or not one of ours")]
    Unauthorized(ErrorBody),
    #[response(status = 413, description = "The body is too large")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not application/json")]
    NotJson(ErrorBody),
    #[response(
        status = 503,
        description = "The store cannot be reached (nothing was changed), the server keeps no changes, the connection cap is reached (overloaded, with Retry-After), or the request timed out"
    )]
    Unavailable(ErrorBody),
}

/// A file's bytes as they are (an image).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // Only described.
pub(crate) struct Binary(Vec<u8>);

/// An error answer.
#[derive(ToSchema)]
#[allow(dead_code)] // Only described: answers are built by `ApiError`.
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong: a stable code and a message for people.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    code: ErrorCode,
    message: String,
    /// Only with `internal` and `store_unavailable`: the id under which the
    /// server's log holds the details (the message gives none).
    id: Option<String>,
}

/// 503 `overloaded`: the cap of what was asked for is reached (load
/// shedding, never queued); `Retry-After` says when to try again.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only described.
pub(crate) enum Overloaded {
    #[response(
        status = 503,
        description = "overloaded: too many requests of this kind at once (try again after Retry-After seconds), or timeout: not answered within the server's request timeout",
        headers(("Retry-After" = u64, description = "Seconds to wait (with overloaded)"))
    )]
    Busy(ErrorBody),
}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The stable machine code; each code has one HTTP status.",
            ))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for ErrorCode {}
