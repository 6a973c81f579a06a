//! `/problems/{slug}`: the page each problem `type` URI resolves to, saying
//! in plain words what the problem means and what to do about it.

use actix_web::{get, web, HttpResponse};

use crate::error::{ApiError, ProblemType, Reply};

/// What a problem means, and what the client can do about it.
fn guide(problem: ProblemType) -> (&'static str, &'static str) {
    match problem {
        ProblemType::BadRequest => (
            "The request could not be read: the body is not JSON, has a member of the wrong \
             type, misses a required member or carries one the operation does not know, or a \
             query parameter or header (`limit`, `cursor`, `If-Match`, `Idempotency-Key`) is \
             malformed.",
            "Compare the request with the operation's schema in the API reference; `errors` \
             names the field when one is at fault. Sending it again unchanged will fail again.",
        ),
        ProblemType::Validation => (
            "The request has the right shape but breaks a rule: a pattern, a length, a list \
             size, a duplicate, a date in the past, a split that does not sum to 10 000 basis \
             points. Every broken rule is listed in `errors` with its field and a stable `code`.",
            "Correct each listed field and send the request again. Show `errors[].message` \
             next to the field, or map `errors[].code` to your own wording.",
        ),
        ProblemType::Unauthenticated => (
            "No valid credentials came with the request: the access token or API key is \
             missing, malformed, expired or revoked, or the account is suspended or closed.",
            "Refresh the access token (`POST /v1/auth/refresh`) or sign in again, then retry. \
             A partner integration checks that its API key has not been revoked.",
        ),
        ProblemType::Forbidden => (
            "The credentials are valid but may not use this function: an artisan on an \
             administrator's operation, an API key without the scope the operation needs, a \
             key on an operation for people, or a party that may read but not act.",
            "Do not retry with the same credentials. Ask for the role or the scope the \
             operation's documentation names.",
        ),
        ProblemType::NotFound => (
            "There is no such resource, or the caller may not see it: both get the same \
             answer, so an id cannot be probed.",
            "Check the id and the path. If the resource was shared with you, check that you \
             are signed in as the account it was shared with.",
        ),
        ProblemType::MethodNotAllowed => (
            "The path exists, but not with this HTTP method. The `Allow` header lists the \
             methods it takes.",
            "Use one of the methods in `Allow`.",
        ),
        ProblemType::Conflict => (
            "The request conflicts with the resource's current state: the e-mail address is \
             taken, the agreement is no longer a draft, the period is already settled, the \
             seat is gone.",
            "Read the resource again and decide with its current state; `detail` says which \
             rule refused.",
        ),
        ProblemType::PreconditionFailed => (
            "`If-Match` named a version that is no longer the current one: someone changed \
             the resource after you read it.",
            "Read it again (its `ETag` is the new version), apply your change to what is there \
             now, and send it with the new `If-Match`.",
        ),
        ProblemType::PreconditionRequired => (
            "This operation changes something others may be changing too, so it needs the \
             version you read in `If-Match`.",
            "Read the resource, then send its `ETag` as `If-Match`.",
        ),
        ProblemType::IdempotencyConflict => (
            "The `Idempotency-Key` was used before with a different request. A key stands \
             for one request, so its first answer cannot be given to another.",
            "Use a new key for a new request; reuse a key only to retry the very same request.",
        ),
        ProblemType::RateLimited => (
            "Too many requests from this account, API key or address in the current minute, \
             or too many failed sign-ins from this address.",
            "Wait the number of seconds in `Retry-After`, then retry. The `RateLimit-*` \
             headers of every answer show the budget left.",
        ),
        ProblemType::PayloadTooLarge => (
            "The body is larger than the service accepts (64 KiB unless the operator set \
             another limit).",
            "Send less: split a large list over several requests, or shorten the text.",
        ),
        ProblemType::RequestTimeout => (
            "The request's body did not arrive in full within the time the service allows \
             (30 seconds unless the operator set another limit), so the service stopped \
             waiting for it. Nothing was changed.",
            "Send the request again over a working connection. A very slow link may need a \
             smaller body.",
        ),
        ProblemType::HeaderFieldsTooLarge => (
            "The request's headers together are larger than the service accepts (16 KiB \
             unless the operator set another limit). Heads beyond 128 KiB or with more than \
             96 header fields are refused by the HTTP layer itself with a bare 431.",
            "Send fewer or shorter headers: usually a cookie or a token that has grown by \
             mistake. The API needs only `Authorization` or `X-API-Key`, `Content-Type`, \
             `If-Match` and `Idempotency-Key`.",
        ),
        ProblemType::UnsupportedMediaType => (
            "The body is not sent as `application/json`.",
            "Send JSON with `Content-Type: application/json`.",
        ),
        ProblemType::NotAcceptable => (
            "The `Accept` header asks for a representation the operation cannot give.",
            "Accept `application/json` (and `application/problem+json` for errors).",
        ),
        ProblemType::ServiceUnavailable => (
            "The service cannot reach its database just now, or more requests are waiting for it \
             than can be served in time.",
            "Retry later, with a growing pause between tries; writes sent with an \
             `Idempotency-Key` are safe to repeat.",
        ),
        ProblemType::Internal => (
            "Something failed on the service's side. Nothing of the cause is sent; it is \
             logged under the `request_id` of the answer.",
            "Retry later. If it keeps happening, report the `request_id` to the operator.",
        ),
    }
}

/// Inline code in the guide's text (`…`) as HTML; the texts are this
/// module's own, so nothing else needs escaping.
fn code_spans(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

fn page(problem: ProblemType) -> String {
    let (meaning, action) = guide(problem);
    let status = problem.status();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title} · Artisan Commons API</title>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p><code>type: {uri}</code> · HTTP {code} {reason}</p>\n\
         <h2>What it means</h2>\n<p>{meaning}</p>\n<h2>What to do</h2>\n<p>{action}</p>\n\
         <p>The response body is <code>application/problem+json</code> (RFC 9457); \
         its <code>request_id</code> identifies the request in the service's logs. \
         <a href=\"/docs/\">API reference</a></p>\n</body>\n</html>\n",
        title = problem.title(),
        uri = problem.uri(),
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or_default(),
        meaning = code_spans(meaning),
        action = code_spans(action),
    )
}

/// What a problem `type` means and what to do about it, as a short page
/// for people (every `type` URI in a problem resolves here).
#[utoipa::path(
    tag = "operations",
    operation_id = "describeProblem",
    params(("slug" = String, Path, description = "The last segment of a problem `type` (`not-found`)")),
    security(()),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/problems/{slug}")]
pub async fn describe_problem(slug: web::Path<String>) -> Reply {
    let problem = ProblemType::ALL
        .into_iter()
        .find(|p| p.slug() == slug.as_str())
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page(problem)))
}
