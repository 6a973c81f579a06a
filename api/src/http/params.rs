//! Query parameters shared by listings: optional slug, country and text
//! filters, each a 400 naming the parameter when malformed.

use domain::country::CountryCode;
use domain::text::Slug;
use domain::FieldError;

use crate::error::ApiError;

/// An optional slug filter (400 when malformed).
pub fn slug_param(name: &str, value: &Option<String>) -> Result<Option<String>, ApiError> {
    value
        .as_deref()
        .map(|v| Slug::parse(name, v).map(|s| s.as_str().to_owned()))
        .transpose()
        .map_err(param_error)
}

/// An optional ISO 3166-1 alpha-2 filter (400 when not a country code).
pub fn country_param(name: &str, value: &Option<String>) -> Result<Option<String>, ApiError> {
    value
        .as_deref()
        .map(|c| CountryCode::parse(name, c).map(CountryCode::into_inner))
        .transpose()
        .map_err(param_error)
}

/// A malformed parameter: 400 naming it.
pub fn param_error(error: FieldError) -> ApiError {
    ApiError::bad_param(&error.field, error.code, error.message)
}

/// A free-text filter of 1 to `max` characters; whitespace only means
/// "no filter".
pub fn text_param(
    name: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.as_deref() {
        Some(v) if v.is_empty() || v.chars().count() > max => Err(ApiError::bad_param(
            name,
            "length",
            format!("must have 1 to {max} characters"),
        )),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => Ok(Some(v.trim().to_owned())),
        None => Ok(None),
    }
}
