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
        description = "Whole city, one map (全市一张图): vector tiles, TileJSON, MapLibre styles and spatial queries over an in-memory city, and the closed event loop. Errors are JSON {\"error\": {\"code\", \"message\"}}; the code alone decides the status. Integers beyond 2^53 (unit ids) are strings in JSON answers.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "tiles", description = "Vector tiles, TileJSON, the layer catalog and MapLibre styles"),
        (name = "queries", description = "Questions to the city: places, features, figures, hot spots"),
        (name = "events", description = "The closed event loop: report, move, read (writes need a bearer token)"),
        (name = "ships", description = "The live fleet: positions in, fleet, tracks, crossings and a stream out"),
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
        description = "The store cannot be reached (nothing was changed), or the server keeps no changes"
    )]
    Unavailable(ErrorBody),
}

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
