//! Keyset (cursor) pagination: `?limit=` (1–100, default 20) and an opaque
//! `?cursor=` that encodes the sort key and id of the last row served. The
//! body is `{data, next_cursor}` and a `Link: <…>; rel="next"` header points
//! at the next page.

use std::future::{ready, Ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use std::convert::identity;

use persistence::partnerships::Viewer;
use persistence::{AnyConnection, Page, Seek, StoreError};

use crate::auth::principal::User;
use crate::error::ApiError;
use crate::state::AppState;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// Validates `?limit=`: out of range → 400 naming the parameter.
fn limit(value: Option<i64>) -> Result<i64, ApiError> {
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
fn encode_cursor(order: &str, keys: &[impl AsRef<str>]) -> String {
    let data = CursorData {
        o: order.to_owned(),
        k: keys.iter().map(|k| k.as_ref().to_owned()).collect(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`] for the same `order` with
/// `arity` keys; anything else → 400.
fn decode_cursor(cursor: &str, order: &str, arity: usize) -> Result<Vec<String>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CursorData>(&bytes).ok())
        .filter(|data| data.o == order && data.k.len() == arity)
        .map(|data| data.k)
        .ok_or_else(invalid_cursor)
}

/// The 400 for a cursor this listing did not issue.
pub fn invalid_cursor() -> ApiError {
    ApiError::bad_param(
        "cursor",
        "invalid",
        "is not a cursor of this listing; start again without it",
    )
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
fn respond<T: Serialize>(
    paging: &Paging,
    data: Vec<T>,
    next_cursor: Option<String>,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(link) = next_link(paging, next_cursor.as_deref()) {
        response.insert_header((header::LINK, link));
    }
    response.json(PageBody { data, next_cursor })
}

/// The `Link: <…>; rel="next"` value for the page after `next_cursor`:
/// the same request with the cursor replaced.
pub fn next_link(paging: &Paging, next_cursor: Option<&str>) -> Option<String> {
    let cursor = next_cursor?;
    let req = &paging.req;
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
    /// Validated limit and the `arity` sort keys the previous page ended
    /// at, for a listing in `order`.
    pub fn keyed(&self, order: &str, arity: usize) -> Result<(i64, Option<Vec<String>>), ApiError> {
        let limit = limit(self.limit)?;
        let after = self
            .cursor
            .as_deref()
            .map(|cursor| decode_cursor(cursor, order, arity))
            .transpose()?;
        Ok((limit, after))
    }

    /// Validated limit and the id the previous page ended at, for a
    /// newest-first listing that answers in its own shape (see [`newest`]
    /// for the usual one).
    pub fn newest_first(&self) -> Result<(i64, Option<String>), ApiError> {
        self.by_id(NEWEST)
    }

    /// Validated limit and the `(start, id)` the previous page ended at,
    /// for listings ordered by a start time and then the id (cursor keys
    /// from [`start_keys`]).
    pub fn by_start(
        &self,
        order: &str,
    ) -> Result<(i64, Option<(chrono::NaiveDateTime, String)>), ApiError> {
        let (limit, keys) = self.keyed(order, 2)?;
        let after = keys
            .map(|parts| {
                let starts_at = chrono::DateTime::parse_from_rfc3339(&parts[0])
                    .map_err(|_| invalid_cursor())?
                    .naive_utc();
                Ok::<_, ApiError>((starts_at, parts[1].clone()))
            })
            .transpose()?;
        Ok((limit, after))
    }

    fn by_id(&self, order: &str) -> Result<(i64, Option<String>), ApiError> {
        let (limit, keys) = self.keyed(order, 1)?;
        Ok((limit, keys.and_then(|mut keys| keys.pop())))
    }
}

/// A listing's page request: its `limit` and `cursor` ([`PageQuery`], read
/// with the app's query settings) and the request itself, which the `Link`
/// to the next page repeats with the cursor replaced.
pub struct Paging {
    req: HttpRequest,
    query: PageQuery,
}

impl FromRequest for Paging {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            web::Query::<PageQuery>::from_request(req, payload)
                .into_inner()
                .map(|query| Paging {
                    req: req.clone(),
                    query: query.into_inner(),
                }),
        )
    }
}

impl Deref for Paging {
    type Target = PageQuery;

    fn deref(&self) -> &PageQuery {
        &self.query
    }
}

/// A newest-first listing keyed on the time-ordered `id` of its items:
/// validates `limit` and `cursor`, loads the page after the cursor with
/// `load(conn, seek)` and answers it (`next_cursor`, `Link`).
pub async fn newest<T: Keyed + Serialize + Send + 'static>(
    state: &AppState,
    paging: &Paging,
    load: impl FnOnce(&mut AnyConnection, Seek<'_>) -> Result<Page<T>, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    by_id(state, paging, NEWEST, load).await
}

/// The same for oldest-first listings.
pub async fn oldest<T: Keyed + Serialize + Send + 'static>(
    state: &AppState,
    paging: &Paging,
    load: impl FnOnce(&mut AnyConnection, Seek<'_>) -> Result<Page<T>, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    by_id(state, paging, OLDEST, load).await
}

async fn by_id<T: Keyed + Serialize + Send + 'static>(
    state: &AppState,
    paging: &Paging,
    order: &'static str,
    load: impl FnOnce(&mut AnyConnection, Seek<'_>) -> Result<Page<T>, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let (limit, last) = paging.by_id(order)?;
    let page = state
        .db(move |conn| {
            let seek = Seek {
                after: last.as_deref(),
                limit,
            };
            load(conn, seek)
        })
        .await?;
    Ok(keyed(
        paging,
        order,
        page,
        |item| vec![item.key().to_owned()],
        identity,
    ))
}

/// An item of a listing keyed on its time-ordered id (the cursor's key).
pub trait Keyed {
    fn key(&self) -> &str;
}

/// Declares items listed by their time-ordered `id` field ([`Keyed`]).
#[macro_export]
macro_rules! keyed_by_id {
    ($($item:ty),+ $(,)?) => {
        $(
            impl $crate::http::pagination::Keyed for $item {
                fn key(&self) -> &str {
                    &self.id
                }
            }
        )+
    };
}

/// A listed item, shown from a stored row `R` (`TryFrom`, or `From`,
/// which cannot fail).
pub trait Shown<R>: Keyed + Serialize + Send + Sized + 'static {
    fn show(row: R) -> Result<Self, ApiError>;
}

impl<T, R> Shown<R> for T
where
    T: Keyed + TryFrom<R> + Serialize + Send + 'static,
    ApiError: From<T::Error>,
{
    fn show(row: R) -> Result<T, ApiError> {
        T::try_from(row).map_err(ApiError::from)
    }
}

/// What one of a resource's own listings reads: the rows belonging to
/// `{id}` that the viewer may see, one page after `seek`.
pub type LoadBelonging<R> =
    fn(&mut AnyConnection, &str, &Viewer, Seek<'_>) -> Result<Page<R>, StoreError>;

/// The listing, in `order` by id ([`NEWEST`] or [`OLDEST`]), of what
/// belongs to the resource `id` (a partnership's sales, settlements,
/// expenses or collections; an agreement's audit trail) as `user` sees it:
/// `load` reads the stored rows, each shown as a `T`.
pub async fn belonging<T: Shown<R>, R: Send + 'static>(
    state: &AppState,
    paging: &Paging,
    order: &'static str,
    user: User,
    id: String,
    load: LoadBelonging<R>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    by_id(state, paging, order, move |conn, seek| {
        load(conn, &id, &viewer, seek)?.try_map(T::show)
    })
    .await
}

/// One page of a listing in `order`: the next cursor holds the sort `keys`
/// of its last row; each row is shown through `view`.
pub fn keyed<R, T: Serialize>(
    paging: &Paging,
    order: &str,
    page: Page<R>,
    keys: impl FnOnce(&R) -> Vec<String>,
    view: impl FnMut(R) -> T,
) -> HttpResponse {
    let next = next_after(order, page.has_more, page.rows.last(), keys);
    respond(paging, page.rows.into_iter().map(view).collect(), next)
}

/// The cursor after `last` in `order` when more rows follow, from that
/// row's sort `keys`.
fn next_after<R: ?Sized>(
    order: &str,
    has_more: bool,
    last: Option<&R>,
    keys: impl FnOnce(&R) -> Vec<String>,
) -> Option<String> {
    let keys = keys(last.filter(|_| has_more)?);
    Some(encode_cursor(order, &keys))
}

/// A row of a listing by start time, then id (see [`PageQuery::by_start`]).
pub trait Starts {
    fn start(&self) -> (chrono::NaiveDateTime, &str);
}

/// One page of a listing in `order` by start time, then id: the next
/// cursor holds the last row's [`Starts::start`]; each row is shown
/// through `view`.
pub fn starting<R: Starts, T: Serialize>(
    paging: &Paging,
    order: &str,
    page: Page<R>,
    view: impl FnMut(R) -> T,
) -> HttpResponse {
    let keys = |last: &R| {
        let (starts_at, id) = last.start();
        vec![starts_at.and_utc().to_rfc3339(), id.to_owned()]
    };
    keyed(paging, order, page, keys, view)
}

/// The cursor after `last_id` in a newest-first listing.
pub fn next_newest(has_more: bool, last_id: Option<&str>) -> Option<String> {
    next_after(NEWEST, has_more, last_id, |id| vec![id.to_string()])
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
