//! Keyset (cursor) pagination: `?limit=` (1–100, default 20) and an opaque
//! `?cursor=` that encodes the sort key and id of the last row served. The
//! body is `{data, next_cursor}` and a `Link: <…>; rel="next"` header points
//! at the next page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// Validates `?limit=`: out of range → 400 naming the parameter.
pub fn limit(value: Option<i64>) -> Result<i64, ApiError> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_param(
            "limit",
            "out_of_range",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    /// Which ordering the cursor belongs to.
    o: String,
    /// The sort key values of the last row, ending with its id.
    k: Vec<String>,
}

/// An opaque cursor for the row with sort `keys` under `order`.
pub fn encode_cursor(order: &str, keys: &[&str]) -> String {
    let data = CursorData {
        o: order.to_owned(),
        k: keys.iter().map(|k| (*k).to_owned()).collect(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`] for the same `order` with
/// `arity` keys; anything else → 400.
pub fn decode_cursor(cursor: &str, order: &str, arity: usize) -> Result<Vec<String>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CursorData>(&bytes).ok())
        .filter(|data| data.o == order && data.k.len() == arity)
        .map(|data| data.k)
        .ok_or_else(|| {
            ApiError::bad_param(
                "cursor",
                "invalid",
                "is not a cursor of this listing; start again without it",
            )
        })
}

/// Declares a concrete page type (`{data: [Item], next_cursor}`) for the
/// OpenAPI document.
#[macro_export]
macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

#[derive(Serialize)]
struct PageBody<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

/// The response for one page, with a `Link` header when more follow.
pub fn respond<T: Serialize>(
    req: &HttpRequest,
    data: Vec<T>,
    next_cursor: Option<String>,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(link) = next_link(req, next_cursor.as_deref()) {
        response.insert_header((header::LINK, link));
    }
    response.json(PageBody { data, next_cursor })
}

/// The `Link: <…>; rel="next"` value for the page after `next_cursor`:
/// the same request with the cursor replaced.
pub fn next_link(req: &HttpRequest, next_cursor: Option<&str>) -> Option<String> {
    let cursor = next_cursor?;
    let mut query: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("cursor="))
        .collect();
    let cursor_pair = format!("cursor={cursor}");
    query.push(&cursor_pair);
    Some(format!(
        "<{}?{}>; rel=\"next\"",
        req.path(),
        query.join("&")
    ))
}

/// The orderings of listings keyed on the time-ordered id.
pub const NEWEST: &str = "newest";
pub const OLDEST: &str = "oldest";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Validated limit and the id the previous page ended at (newest-first
    /// listings keyed on the time-ordered id).
    pub fn newest_first(&self) -> Result<(i64, Option<String>), ApiError> {
        self.by_id(NEWEST)
    }

    /// The same for oldest-first listings.
    pub fn oldest_first(&self) -> Result<(i64, Option<String>), ApiError> {
        self.by_id(OLDEST)
    }

    fn by_id(&self, order: &str) -> Result<(i64, Option<String>), ApiError> {
        let limit = limit(self.limit)?;
        let last = match &self.cursor {
            Some(cursor) => decode_cursor(cursor, order, 1)?.pop(),
            None => None,
        };
        Ok((limit, last))
    }
}

/// The cursor after `last_id` in a newest-first listing.
pub fn next_newest(has_more: bool, last_id: Option<&str>) -> Option<String> {
    next_by_id(NEWEST, has_more, last_id)
}

/// The cursor after `last_id` in an oldest-first listing.
pub fn next_oldest(has_more: bool, last_id: Option<&str>) -> Option<String> {
    next_by_id(OLDEST, has_more, last_id)
}

fn next_by_id(order: &str, has_more: bool, last_id: Option<&str>) -> Option<String> {
    has_more
        .then_some(last_id)
        .flatten()
        .map(|id| encode_cursor(order, &[id]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_order() {
        let c = encode_cursor("name", &["rosa", "0190"]);
        assert_eq!(
            decode_cursor(&c, "name", 2).ok(),
            Some(vec!["rosa".into(), "0190".into()])
        );
        assert!(decode_cursor(&c, "newest", 2).is_err());
        assert!(decode_cursor("not-a-cursor", "name", 2).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).ok(), Some(20));
        assert_eq!(limit(Some(100)).ok(), Some(100));
        assert!(limit(Some(0)).is_err() && limit(Some(101)).is_err());
    }
}
