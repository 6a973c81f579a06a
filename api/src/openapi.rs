//! The OpenAPI document: metadata, security schemes, the shared problem
//! responses. Paths and their schemas are collected from the routes
//! themselves (utoipa-actix-web), so a route cannot exist undocumented.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{Problem, ProblemFieldError, ProblemType, PROBLEM_JSON};
use crate::routes::webhooks::WebhookMessages;

pub const BEARER: &str = "bearer_auth";
pub const API_KEY: &str = "api_key";

/// A whole problem body as the example of a problem response, so the docs
/// page shows what that status really answers.
fn problem_example(problem: ProblemType, detail: &str) -> serde_json::Value {
    let mut example = serde_json::json!({
        "type": problem.uri(),
        "title": problem.title(),
        "status": problem.status().as_u16(),
        "detail": detail,
        "instance": "/v1/partnerships/01939f3e-7c1a-7b2e-9d41-5a8e2f6b3c10",
        "request_id": "01939f3e-7c1b-7f00-8a55-0c2d4e6f8a91",
    });
    if problem == ProblemType::Validation {
        example["errors"] = serde_json::json!([
            {"field": "title", "code": "too_long", "message": "at most 120 characters"}
        ]);
    }
    example
}

macro_rules! problem_responses {
    ($($name:ident($problem:ident, $detail:literal) => $description:literal),* $(,)?) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (
                    &'r str,
                    utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
                ) {
                    let content = ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .example(Some(problem_example(ProblemType::$problem, $detail)))
                        .build();
                    let response = ResponseBuilder::new()
                        .description($description)
                        .content(PROBLEM_JSON, content)
                        .build();
                    (stringify!($name), response.into())
                }
            }
        )*
    };
}

problem_responses! {
    BadRequest(BadRequest, "The JSON body does not match the schema: missing field `title`") => "Malformed body, parameter or header (problem type `bad-request`).",
    Unauthorized(Unauthenticated, "The access token has expired; refresh it or sign in again.") => "Missing, invalid, expired or revoked credentials, or a suspended account (`unauthenticated`); carries `WWW-Authenticate`.",
    Forbidden(Forbidden, "Only an accepted party of this partnership may do this.") => "The credentials are valid but not for this function (`forbidden`), e.g. a key without the scope.",
    NotFound(NotFound, "No such resource, or it is not visible to you.") => "No such resource, or not visible to the caller (`not-found`).",
    Conflict(Conflict, "Another agreement of this partnership is in force on some of these dates.") => "The request conflicts with the current state (`conflict`).",
    PreconditionFailed(PreconditionFailed, "If-Match does not match the current ETag; fetch the resource again.") => "If-Match does not name the current ETag (`precondition-failed`).",
    PayloadTooLarge(PayloadTooLarge, "The body exceeds the limit of 65536 bytes.") => "The body exceeds the configured limit (`payload-too-large`).",
    RequestTimeout(RequestTimeout, "The body did not arrive within 30 s.") => "The body did not arrive within the time allowed (`request-timeout`).",
    HeaderFieldsTooLarge(HeaderFieldsTooLarge, "The request's headers exceed the limit of 16384 bytes.") => "The request's headers exceed the configured limit (`header-fields-too-large`).",
    UnsupportedMediaType(UnsupportedMediaType, "Send the body as application/json.") => "The body is not application/json (`unsupported-media-type`).",
    Unprocessable(Validation, "title: at most 120 characters") => "Well-formed input that breaks a rule (`validation`, with `errors`), or an Idempotency-Key reused with a different body (`idempotency-conflict`).",
    PreconditionRequired(PreconditionRequired, "Send If-Match with the ETag of the version you are changing.") => "If-Match is required on this operation (`precondition-required`).",
    TooManyRequests(RateLimited, "Rate limit reached; retry after 42 s.") => "Rate limit reached (`rate-limited`); carries `Retry-After`.",
    ServiceUnavailable(ServiceUnavailable, "The database is unreachable; retry shortly.") => "The database is unreachable, or more requests are waiting for it than wait within `DB_QUEUE_TIMEOUT_MS` (`service-unavailable`); the second carries `Retry-After`.",
}

/// The `{id}` of a resource's path, documented once for each kind of
/// resource: operations list `crate::openapi::path::Partnership` among
/// their `params` instead of repeating `("id" = Uuid, Path, description =
/// "Partnership id")`.
pub mod path {
    macro_rules! path_ids {
        ($($name:ident => $description:literal),* $(,)?) => {
            $(
                #[derive(utoipa::IntoParams)]
                #[into_params(parameter_in = Path)]
                pub struct $name {
                    #[doc = $description]
                    pub id: uuid::Uuid,
                }
            )*
        };
    }

    path_ids! {
        Agreement => "Agreement id",
        Artisan => "Artisan id",
        Collection => "Collection id",
        Collective => "Collective id",
        Endpoint => "Endpoint id",
        Event => "Event id",
        Exchange => "Exchange id",
        Expense => "Expense id",
        Item => "Item id",
        Organization => "Organization id",
        Partnership => "Partnership id",
        Program => "Program id",
        Sale => "Sale id",
        Settlement => "Settlement id",
        Workshop => "Workshop id",
    }

    /// `{id}/invitations/{party_id}`: a partnership's invited party.
    #[derive(utoipa::IntoParams)]
    #[into_params(parameter_in = Path)]
    pub struct InvitedParty {
        /// Partnership id
        pub id: uuid::Uuid,
        /// The invited party
        pub party_id: uuid::Uuid,
    }
}

/// Declares a set of problem responses that operations list as one item
/// (`responses((status = 200, …), crate::openapi::ReadProblems)`).
macro_rules! problem_sets {
    ($($(#[$doc:meta])* $name:ident => [$($status:literal => $response:ident),* $(,)?]),* $(,)?) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl utoipa::IntoResponses for $name {
                fn responses() -> std::collections::BTreeMap<
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
                > {
                    [$(($status, stringify!($response))),*]
                        .into_iter()
                        .map(|(status, name)| {
                            (status.to_owned(), utoipa::openapi::RefOr::Ref(Ref::from_response_name(name)))
                        })
                        .collect()
                }
            }
        )*
    };
}

problem_sets! {
    /// What any read can answer besides success.
    ReadProblems => [
        "400" => BadRequest, "401" => Unauthorized, "403" => Forbidden, "404" => NotFound,
        "429" => TooManyRequests, "431" => HeaderFieldsTooLarge, "503" => ServiceUnavailable,
    ],
    /// What any write with a JSON body can answer besides success.
    WriteProblems => [
        "400" => BadRequest, "401" => Unauthorized, "403" => Forbidden, "404" => NotFound,
        "408" => RequestTimeout, "409" => Conflict, "413" => PayloadTooLarge,
        "415" => UnsupportedMediaType, "422" => Unprocessable, "429" => TooManyRequests,
        "431" => HeaderFieldsTooLarge, "503" => ServiceUnavailable,
    ],
    /// A write that needs `If-Match`: the write problems plus 412 and 428.
    ConditionalWriteProblems => [
        "400" => BadRequest, "401" => Unauthorized, "403" => Forbidden, "404" => NotFound,
        "408" => RequestTimeout, "409" => Conflict, "412" => PreconditionFailed,
        "413" => PayloadTooLarge, "415" => UnsupportedMediaType, "422" => Unprocessable,
        "428" => PreconditionRequired, "429" => TooManyRequests,
        "431" => HeaderFieldsTooLarge, "503" => ServiceUnavailable,
    ],
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `POST /v1/auth/login` (15 minutes).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A partner organization's API key (`ac_…`).",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Artisan Commons API",
        version = "1.0.0",
        description = "Artisans find each other, form partnerships, sign agreements and see exactly what each is owed; partner NGOs integrate with API keys.\n\nErrors are RFC 9457 `application/problem+json`; lists use cursor pagination; mutable resources carry an `ETag` and need `If-Match` to change."
    ),
    components(
        schemas(
            Problem,
            ProblemFieldError,
            crate::routes::webhooks::PartnershipActivatedData,
            crate::routes::webhooks::AgreementActivatedData,
            crate::routes::webhooks::AgreementSupersededData,
            crate::routes::webhooks::SettlementCreatedData,
            crate::routes::webhooks::WorkshopCreatedData,
            crate::routes::webhooks::EventCreatedData,
            crate::routes::webhooks::ProgramApplicationCreatedData,
            crate::routes::webhooks::WebhookTestData,
        ),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PreconditionFailed,
            PayloadTooLarge,
            RequestTimeout,
            HeaderFieldsTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            PreconditionRequired,
            TooManyRequests,
            ServiceUnavailable
        )
    ),
    modifiers(&SecuritySchemes, &WebhookMessages),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "me", description = "The signed-in account"),
        (name = "artisans", description = "Artisan profiles"),
        (name = "collectives", description = "Cooperatives: membership, applications, coordinators"),
        (name = "partnerships", description = "Partnerships between artisans and collectives"),
        (name = "agreements", description = "Signed, versioned agreements of partnerships"),
        (name = "revenue", description = "Sales, exact allocations and refunds"),
        (name = "skill-exchange", description = "Skill matches, swaps and mentorships, sessions, reviews, the time ledger"),
        (name = "workshops", description = "Group skill sharing: seats, waitlist, attendance"),
        (name = "events", description = "Shared market events: organise together, take part, split the booth"),
        (name = "giving-back", description = "Campaigns that agreements feed through beneficiary shares, and what they raised"),
        (name = "collections", description = "Co-branded collections: limited editions crediting each maker, and how they sell"),
        (name = "directory", description = "Consent-based directory for partner organizations"),
        (name = "impact", description = "Privacy-safe impact figures for partner organizations (API keys with impact:read)"),
        (name = "webhooks", description = "Signed webhooks for partner organizations (API keys with webhooks:manage): endpoints, deliveries log, test and redelivery"),
        (name = "programs", description = "Partner programs: grants, trainings, market access and mentorship, and applications to them"),
        (name = "partner", description = "Partnerships shared with a partner organization (API keys with partnerships:read)"),
        (name = "organizations", description = "Partner organizations and their API keys (admins)"),
        (name = "admin", description = "Account suspension and the admin audit log (admins)"),
        (name = "operations", description = "Health, readiness and metrics")
    )
)]
pub struct ApiDoc;

/// What the assembled document needs once the routes have added their
/// operations and schemas.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    require_sent_members(doc);
    declare_common_headers(doc);
}

/// Members a response always sends are required, so a generated client
/// types them `T | null`, not "maybe missing, maybe null": in every schema
/// that no request uses, a nullable member becomes required. (Members that
/// are left out instead of sent as `null` are declared not nullable where
/// they are defined, next to their `skip_serializing_if`.) Runs on the
/// assembled document, once the routes have added their schemas.
fn require_sent_members(doc: &mut utoipa::openapi::OpenApi) {
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn refs(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.insert(name.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn nullable(member: &Value) -> bool {
        let null = Value::from("null");
        member["type"].as_array().is_some_and(|t| t.contains(&null))
            || member["oneOf"]
                .as_array()
                .is_some_and(|alternatives| alternatives.iter().any(|a| a["type"] == null))
    }

    let (Ok(paths), Some(Ok(mut schemas))) = (
        serde_json::to_value(&doc.paths),
        doc.components
            .as_ref()
            .map(|c| serde_json::to_value(&c.schemas)),
    ) else {
        return;
    };
    // What requests use: their bodies and parameters, and everything those
    // schemas name in turn.
    let mut inputs = BTreeSet::new();
    for operation in paths
        .as_object()
        .into_iter()
        .flat_map(|items| items.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
    {
        refs(&operation["requestBody"], &mut inputs);
        refs(&operation["parameters"], &mut inputs);
    }
    let mut pending: Vec<String> = inputs.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let mut named = BTreeSet::new();
        refs(&schemas[&name], &mut named);
        for next in named {
            if inputs.insert(next.clone()) {
                pending.push(next);
            }
        }
    }
    let Some(all) = schemas.as_object_mut() else {
        return;
    };
    for (name, schema) in all.iter_mut() {
        if inputs.contains(name) {
            continue;
        }
        let sent: Vec<String> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, member)| nullable(member))
            .map(|(key, _)| key.clone())
            .collect();
        if sent.is_empty() {
            continue;
        }
        let required = schema.as_object_mut().map(|s| {
            s.entry("required")
                .or_insert_with(|| Value::Array(Vec::new()))
        });
        if let Some(Value::Array(required)) = required {
            for key in sent {
                if !required.contains(&Value::from(key.as_str())) {
                    required.push(Value::from(key));
                }
            }
        }
    }
    if let (Some(components), Ok(schemas)) =
        (doc.components.as_mut(), serde_json::from_value(schemas))
    {
        components.schemas = schemas;
    }
}

/// The headers the service sends besides those each operation documents:
/// `X-Request-Id` on every answer, `Idempotent-Replayed` on a replayed
/// create, `WWW-Authenticate` on a 401, `Retry-After` and the
/// `RateLimit-*` trio on a 429, `Retry-After` on a 503. (Every other answer under `/v1` carries the
/// trio too, as `docs/API-DESIGN.md` (Limits) says; listing it on
/// each would triple the document.) Runs on the assembled document, like
/// [`require_sent_members`].
fn declare_common_headers(doc: &mut utoipa::openapi::OpenApi) {
    use serde_json::{json, Value};

    fn header(description: &str, integer: bool) -> Value {
        let kind = if integer { "integer" } else { "string" };
        json!({"schema": {"type": kind}, "description": description})
    }
    fn add(response: &mut Value, name: &str, value: Value) {
        if response.get("$ref").is_some() {
            return;
        }
        if let Some(headers) = response
            .as_object_mut()
            .map(|r| r.entry("headers").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            headers.entry(name).or_insert(value);
        }
    }
    let request_id = header(
        "The request's id (the one the client sent, or a new UUID); also in a problem's `request_id`.",
        false,
    );
    let rate_limits = [
        ("RateLimit-Limit", "Requests allowed in the current window."),
        (
            "RateLimit-Remaining",
            "Requests left in the current window.",
        ),
        ("RateLimit-Reset", "Seconds until the window starts again."),
    ];

    if let Ok(mut paths) = serde_json::to_value(&doc.paths) {
        for operation in paths
            .as_object_mut()
            .into_iter()
            .flat_map(|items| items.values_mut())
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            let idempotent = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            for (status, response) in operation["responses"]
                .as_object_mut()
                .into_iter()
                .flat_map(|r| r.iter_mut())
            {
                add(response, "X-Request-Id", request_id.clone());
                if status.starts_with('2') && idempotent {
                    add(
                        response,
                        "Idempotent-Replayed",
                        header(
                            "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
                            false,
                        ),
                    );
                }
            }
        }
        if let Ok(paths) = serde_json::from_value(paths) {
            doc.paths = paths;
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    if let Ok(mut responses) = serde_json::to_value(&components.responses) {
        for (name, response) in responses
            .as_object_mut()
            .into_iter()
            .flat_map(|r| r.iter_mut())
        {
            add(response, "X-Request-Id", request_id.clone());
            match name.as_str() {
                "Unauthorized" => add(
                    response,
                    "WWW-Authenticate",
                    header(
                        "The schemes to authenticate with: `Bearer` and `ApiKey` (`X-API-Key`).",
                        false,
                    ),
                ),
                "TooManyRequests" => {
                    add(
                        response,
                        "Retry-After",
                        header("Seconds to wait before retrying.", true),
                    );
                    for (name, description) in rate_limits {
                        add(response, name, header(description, true));
                    }
                }
                "ServiceUnavailable" => add(
                    response,
                    "Retry-After",
                    header(
                        "Seconds to wait before retrying, when the database queue is full.",
                        true,
                    ),
                ),
                _ => {}
            }
        }
        if let Ok(responses) = serde_json::from_value(responses) {
            components.responses = responses;
        }
    }
}
