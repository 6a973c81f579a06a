//! Extractors and framework-error handlers: actix's own body, query and
//! path errors become problems (400/413/415, and 404 for a malformed id in
//! a path), plus the `If-Match` and `Idempotency-Key` headers.

use std::future::{ready, Ready};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use domain::precondition::{IfMatchError, Precondition};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::state::Settings;
use uuid::Uuid;

fn json_error(error: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api_error = match error {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge { limit }
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(format!("The JSON body does not match the schema: {e}"))
        }
        _ => ApiError::bad_request("The request body could not be read as JSON."),
    };
    api_error.into()
}

fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = match error {
        QueryPayloadError::Deserialize(e) => format!("Invalid query parameters: {e}"),
        _ => "Invalid query parameters.".to_owned(),
    };
    ApiError::bad_request(detail).into()
}

fn path_error(_error: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

/// The `{id}` segment of a resource's path, a UUID in its canonical
/// (lower-case, hyphenated) text; anything else is a 404, like an unknown
/// path.
pub struct Id(pub String);

/// A path segment as a canonical UUID, if it is one.
fn canonical(segment: &str) -> Option<String> {
    Uuid::parse_str(segment).ok().map(|id| id.to_string())
}

impl FromRequest for Id {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            req.match_info()
                .get("id")
                .and_then(canonical)
                .map(Id)
                .ok_or(ApiError::NotFound),
        )
    }
}

/// The ids of a path whose segments are all ids, in order, each a UUID in
/// canonical text; anything else is a 404, as for [`Id`]. `T` is `String`
/// for one id not named `id` (`{iid}`), or `(String, String)` for two
/// (`{id}/members/{artisan_id}`).
pub struct Ids<T>(pub T);

/// What [`Ids`] can hold: the path's segments, exactly so many.
pub trait PathIds: Sized {
    fn from_segments(segments: Vec<String>) -> Option<Self>;
}

impl PathIds for String {
    fn from_segments(segments: Vec<String>) -> Option<Self> {
        let [id] = <[String; 1]>::try_from(segments).ok()?;
        Some(id)
    }
}

impl PathIds for (String, String) {
    fn from_segments(segments: Vec<String>) -> Option<Self> {
        let [first, second] = <[String; 2]>::try_from(segments).ok()?;
        Some((first, second))
    }
}

impl<T: PathIds> FromRequest for Ids<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let segments: Option<Vec<String>> = req
            .match_info()
            .iter()
            .map(|(_, segment)| canonical(segment))
            .collect();
        ready(
            segments
                .and_then(T::from_segments)
                .map(Ids)
                .ok_or(ApiError::NotFound),
        )
    }
}

/// A JSON request body that must be a JSON object, arriving in full within
/// `REQUEST_BODY_TIMEOUT_SECONDS` (408 otherwise). `web::Json` alone would
/// also read a struct from a JSON array of its field values (serde's
/// sequence form), which no schema of this API allows: the body is read as
/// an object first (with the app's size limit and errors), then as `T`.
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let object =
            web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, payload);
        let limit = req
            .app_data::<BodyTimeout>()
            .map_or(Duration::from_secs(30), |t| t.0);
        Box::pin(async move {
            let object = actix_web::rt::time::timeout(limit, object)
                .await
                .map_err(|_| ApiError::RequestTimeout {
                    seconds: limit.as_secs(),
                })??
                .into_inner();
            serde_json::from_value(serde_json::Value::Object(object))
                .map(Body)
                .map_err(|e| {
                    ApiError::bad_request(format!("The JSON body does not match the schema: {e}"))
                        .into()
                })
        })
    }
}

/// How long a request body may take to arrive in full.
#[derive(Clone, Copy)]
struct BodyTimeout(Duration);

/// Body, query and path extractor settings for the whole app.
pub fn configure_extractors(cfg: &mut web::ServiceConfig, settings: &Settings) {
    let max_body_bytes = settings.max_body_bytes;
    cfg.app_data(BodyTimeout(settings.request_body_timeout))
        .app_data(
            web::JsonConfig::default()
                .limit(max_body_bytes)
                .content_type_required(true)
                .error_handler(json_error),
        )
        .app_data(web::PayloadConfig::default().limit(max_body_bytes))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error));
}

/// The versions a required `If-Match` header admits
/// ([`domain::precondition::Precondition`]): missing, or `*` (which would
/// defeat the check) → 428; a value that is not entity-tag syntax → 400;
/// well-formed tags that do not name the current version → 412 (decided
/// where the version is compared, inside the write).
pub struct IfMatch(pub Precondition);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // Several `If-Match` lines are one comma-separated list (RFC 9110
        // §5.3).
        let lines: Vec<&[u8]> = req
            .headers()
            .get_all(header::IF_MATCH)
            .map(|v| v.as_bytes())
            .collect();
        let result = match lines.as_slice() {
            [] => Err(ApiError::PreconditionRequired),
            lines => match Precondition::parse_if_match(&lines.join(&b","[..])) {
                Ok(precondition) => Ok(IfMatch(precondition)),
                Err(IfMatchError::Any) => Err(ApiError::PreconditionRequired),
                Err(IfMatchError::Malformed) => Err(ApiError::bad_param(
                    "If-Match",
                    "invalid",
                    "must be a list of entity-tags, such as \"3\"",
                )),
            },
        };
        ready(result)
    }
}

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let result = match req.headers().get(IDEMPOTENCY_KEY) {
            None => Ok(IdempotencyKey(None)),
            Some(value) => value
                .to_str()
                .ok()
                .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()))
                .map(|v| IdempotencyKey(Some(v.to_owned())))
                .ok_or_else(|| {
                    ApiError::bad_param(
                        IDEMPOTENCY_KEY,
                        "invalid",
                        "must be 1-255 visible ASCII characters",
                    )
                }),
        };
        ready(result)
    }
}

/// Documents the `If-Match` header of conditional writes in the OpenAPI
/// document (`params(IfMatchHeader)`); [`IfMatch`] extracts it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The current ETag of what is being changed, e.g. `"3"` (RFC 9110:
    /// a list of entity-tags is accepted; one of them must be current).
    #[serde(rename = "If-Match")]
    #[param(
        pattern = r#"^[ \t]*(W/)?"[\x21\x23-\x7E]*"([ \t]*,[ \t]*(W/)?"[\x21\x23-\x7E]*")*[ \t]*$"#
    )]
    pub if_match: String,
}

/// Documents the optional `Idempotency-Key` header of create operations
/// (`params(IdempotencyKeyHeader)`); [`IdempotencyKey`] extracts it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Makes a retry safe: 1–255 visible ASCII characters.
    #[serde(rename = "Idempotency-Key")]
    #[param(pattern = r"^[\x21-\x7E]{1,255}$", nullable = false)]
    pub idempotency_key: Option<String>,
}

/// Documents the *required* `Idempotency-Key` of money operations (sales,
/// refunds, settlements, payments); missing → 400.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct RequiredIdempotencyKeyHeader {
    /// Makes a retry safe: 1–255 visible ASCII characters. Required here.
    #[serde(rename = "Idempotency-Key")]
    #[param(pattern = r"^[\x21-\x7E]{1,255}$")]
    pub idempotency_key: String,
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn id_of(path: &str) -> Result<String, ApiError> {
        let (req, mut payload) = TestRequest::get()
            .uri(path)
            .param("id", path.rsplit('/').next().unwrap_or_default().to_owned())
            .to_http_parts();
        Id::from_request(&req, &mut payload)
            .into_inner()
            .map(|Id(id)| id)
    }

    #[test]
    fn an_id_segment_is_a_canonical_uuid_or_not_found() {
        assert_eq!(
            id_of("/v1/sales/0190A0B2-7C3D-7E4F-8A5B-6C7D8E9F0A1B").ok(),
            Some("0190a0b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b".to_owned())
        );
        for bad in ["not-a-uuid", "1", ""] {
            assert!(matches!(
                id_of(&format!("/v1/sales/{bad}")),
                Err(ApiError::NotFound)
            ));
        }
    }

    fn ids_of(segments: &[&str]) -> Result<(String, String), ApiError> {
        let mut req = TestRequest::get().uri("/v1/collectives/x/members/y");
        for (name, segment) in ["id", "artisan_id", "extra"].iter().zip(segments) {
            req = req.param(*name, (*segment).to_owned());
        }
        let (req, mut payload) = req.to_http_parts();
        Ids::<(String, String)>::from_request(&req, &mut payload)
            .into_inner()
            .map(|Ids(ids)| ids)
    }

    #[test]
    fn a_path_of_ids_is_exactly_so_many_canonical_uuids_or_not_found() {
        let a = "0190A0B2-7C3D-7E4F-8A5B-6C7D8E9F0A1B";
        let b = "0190a0b2-7c3d-7e4f-8a5b-6c7d8e9f0a1c";
        assert_eq!(ids_of(&[a, b]).ok(), Some((a.to_lowercase(), b.to_owned())));
        for bad in [&[a, "nope"][..], &[a], &[a, b, b]] {
            assert!(matches!(ids_of(bad), Err(ApiError::NotFound)));
        }
    }
}
