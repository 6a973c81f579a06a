//! The one error type of the API and its RFC 9457 problem+json rendering.
//!
//! Every 4xx/5xx leaves the service through [`ApiError`], with a stable
//! `type` URI per kind of problem. Unexpected failures are logged with their
//! full cause and answered with an opaque 500; nothing internal (SQL, stack,
//! library messages) reaches a client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use domain::refusal::{
    AccountRefusal, AgreementRefusal, CollectionRefusal, EventRefusal, ExchangeRefusal,
    ExpenseRefusal, MembershipRefusal, PartnershipRefusal, ProgramRefusal, Refusal, RevenueRefusal,
    WebhookRefusal, WorkshopRefusal,
};
use domain::{FieldError, FieldErrors};
use persistence::db::diesel_error;
use persistence::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::request_context;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The problem kinds and their `type` URIs (relative to the API's origin,
/// documented in the OpenAPI document under `Problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    BadRequest,
    Validation,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    IdempotencyConflict,
    RateLimited,
    PayloadTooLarge,
    RequestTimeout,
    HeaderFieldsTooLarge,
    UnsupportedMediaType,
    NotAcceptable,
    ServiceUnavailable,
    Internal,
}

impl ProblemType {
    pub const ALL: [ProblemType; 18] = [
        ProblemType::BadRequest,
        ProblemType::Validation,
        ProblemType::Unauthenticated,
        ProblemType::Forbidden,
        ProblemType::NotFound,
        ProblemType::MethodNotAllowed,
        ProblemType::Conflict,
        ProblemType::PreconditionFailed,
        ProblemType::PreconditionRequired,
        ProblemType::IdempotencyConflict,
        ProblemType::RateLimited,
        ProblemType::PayloadTooLarge,
        ProblemType::RequestTimeout,
        ProblemType::HeaderFieldsTooLarge,
        ProblemType::UnsupportedMediaType,
        ProblemType::NotAcceptable,
        ProblemType::ServiceUnavailable,
        ProblemType::Internal,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ProblemType::BadRequest => "bad-request",
            ProblemType::Validation => "validation",
            ProblemType::Unauthenticated => "unauthenticated",
            ProblemType::Forbidden => "forbidden",
            ProblemType::NotFound => "not-found",
            ProblemType::MethodNotAllowed => "method-not-allowed",
            ProblemType::Conflict => "conflict",
            ProblemType::PreconditionFailed => "precondition-failed",
            ProblemType::PreconditionRequired => "precondition-required",
            ProblemType::IdempotencyConflict => "idempotency-conflict",
            ProblemType::RateLimited => "rate-limited",
            ProblemType::PayloadTooLarge => "payload-too-large",
            ProblemType::RequestTimeout => "request-timeout",
            ProblemType::HeaderFieldsTooLarge => "header-fields-too-large",
            ProblemType::UnsupportedMediaType => "unsupported-media-type",
            ProblemType::NotAcceptable => "not-acceptable",
            ProblemType::ServiceUnavailable => "service-unavailable",
            ProblemType::Internal => "internal",
        }
    }

    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemType::BadRequest => "The request is malformed",
            ProblemType::Validation => "The request breaks a rule",
            ProblemType::Unauthenticated => "Valid credentials are required",
            ProblemType::Forbidden => "Not allowed for these credentials",
            ProblemType::NotFound => "Not found",
            ProblemType::MethodNotAllowed => "Method not allowed",
            ProblemType::Conflict => "Conflict with the current state",
            ProblemType::PreconditionFailed => "The resource has changed",
            ProblemType::PreconditionRequired => "If-Match is required",
            ProblemType::IdempotencyConflict => "Idempotency key reused with a different request",
            ProblemType::RateLimited => "Too many requests",
            ProblemType::PayloadTooLarge => "The request body is too large",
            ProblemType::RequestTimeout => "The request body arrived too slowly",
            ProblemType::HeaderFieldsTooLarge => "The request headers are too large",
            ProblemType::UnsupportedMediaType => "Unsupported content type",
            ProblemType::NotAcceptable => "No acceptable representation",
            ProblemType::ServiceUnavailable => "Service temporarily unavailable",
            ProblemType::Internal => "Internal error",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ProblemType::BadRequest => StatusCode::BAD_REQUEST,
            ProblemType::Validation | ProblemType::IdempotencyConflict => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ProblemType::Unauthenticated => StatusCode::UNAUTHORIZED,
            ProblemType::Forbidden => StatusCode::FORBIDDEN,
            ProblemType::NotFound => StatusCode::NOT_FOUND,
            ProblemType::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemType::Conflict => StatusCode::CONFLICT,
            ProblemType::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ProblemType::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ProblemType::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemType::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemType::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ProblemType::HeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ProblemType::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ProblemType::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// One broken rule on one field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemFieldError {
    /// The field, with an index for list items (`crafts[2]`), or a query
    /// parameter or header name.
    #[schema(example = "crafts[0]")]
    pub field: String,
    /// A stable machine-readable code such as `pattern` or `too_long`.
    #[schema(example = "pattern")]
    pub code: String,
    pub message: String,
}

impl From<FieldError> for ProblemFieldError {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            code: e.code.to_owned(),
            message: e.message,
        }
    }
}

/// An RFC 9457 problem. `type` is one of
/// [`/problems/bad-request`](/problems/bad-request),
/// [`/problems/validation`](/problems/validation),
/// [`/problems/unauthenticated`](/problems/unauthenticated),
/// [`/problems/forbidden`](/problems/forbidden),
/// [`/problems/not-found`](/problems/not-found),
/// [`/problems/method-not-allowed`](/problems/method-not-allowed),
/// [`/problems/conflict`](/problems/conflict),
/// [`/problems/precondition-failed`](/problems/precondition-failed),
/// [`/problems/precondition-required`](/problems/precondition-required),
/// [`/problems/idempotency-conflict`](/problems/idempotency-conflict),
/// [`/problems/rate-limited`](/problems/rate-limited),
/// [`/problems/payload-too-large`](/problems/payload-too-large),
/// [`/problems/request-timeout`](/problems/request-timeout),
/// [`/problems/header-fields-too-large`](/problems/header-fields-too-large),
/// [`/problems/unsupported-media-type`](/problems/unsupported-media-type),
/// [`/problems/not-acceptable`](/problems/not-acceptable),
/// [`/problems/service-unavailable`](/problems/service-unavailable),
/// [`/problems/internal`](/problems/internal). Each resolves, relative to
/// the API's origin, to a page saying what the problem means and what to do
/// (`GET /problems/{slug}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Which problem: a URI reference, relative to the API's origin, to
    /// the page that explains it.
    #[serde(rename = "type")]
    #[schema(example = "/problems/not-found")]
    pub problem_type: String,
    pub title: String,
    /// The HTTP status code of the response.
    #[schema(example = 404)]
    pub status: u16,
    pub detail: String,
    /// The request path that produced the problem.
    pub instance: String,
    /// Present on validation problems: every broken rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<ProblemFieldError>>,
    /// The request id, also in the `X-Request-Id` header.
    pub request_id: String,
}

/// What a handler answers: a response, or a problem.
pub type Reply = Result<HttpResponse, ApiError>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 400: a body, parameter or header that cannot be parsed.
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 422: well-formed input that breaks a rule.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("request body too slow")]
    RequestTimeout { seconds: u64 },
    #[error("request headers too large")]
    HeaderFieldsTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("not acceptable")]
    NotAcceptable,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("too many requests waiting for the database")]
    Busy { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A 400 naming the offending parameter.
    pub fn bad_param(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, code, message);
        ApiError::BadRequest {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// A 500 whose cause is logged here and never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::Internal(cause.to_string())
    }

    pub fn problem_type(&self) -> ProblemType {
        match self {
            ApiError::BadRequest { .. } => ProblemType::BadRequest,
            ApiError::Validation(_) => ProblemType::Validation,
            ApiError::Unauthenticated(_) => ProblemType::Unauthenticated,
            ApiError::Forbidden(_) => ProblemType::Forbidden,
            ApiError::NotFound => ProblemType::NotFound,
            ApiError::MethodNotAllowed(_) => ProblemType::MethodNotAllowed,
            ApiError::Conflict(_) => ProblemType::Conflict,
            ApiError::PreconditionFailed => ProblemType::PreconditionFailed,
            ApiError::PreconditionRequired => ProblemType::PreconditionRequired,
            ApiError::IdempotencyConflict => ProblemType::IdempotencyConflict,
            ApiError::RateLimited { .. } => ProblemType::RateLimited,
            ApiError::PayloadTooLarge { .. } => ProblemType::PayloadTooLarge,
            ApiError::RequestTimeout { .. } => ProblemType::RequestTimeout,
            ApiError::HeaderFieldsTooLarge { .. } => ProblemType::HeaderFieldsTooLarge,
            ApiError::UnsupportedMediaType => ProblemType::UnsupportedMediaType,
            ApiError::NotAcceptable => ProblemType::NotAcceptable,
            ApiError::Unavailable(_) | ApiError::Busy { .. } => ProblemType::ServiceUnavailable,
            ApiError::Internal(_) => ProblemType::Internal,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest { detail, .. } => detail.clone(),
            ApiError::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                many => format!("{} fields break a rule; see `errors`", many.len()),
            },
            ApiError::Unauthenticated(why) | ApiError::Forbidden(why) => (*why).to_owned(),
            ApiError::NotFound => "No such resource, or it is not visible to you.".to_owned(),
            ApiError::MethodNotAllowed(allowed) => format!(
                "Allowed methods: {}.",
                allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ApiError::Conflict(detail) => detail.clone(),
            ApiError::PreconditionFailed => {
                "If-Match does not match the current ETag; fetch the resource again.".to_owned()
            }
            ApiError::PreconditionRequired => {
                "Send If-Match with the ETag of the version you are changing.".to_owned()
            }
            ApiError::IdempotencyConflict => {
                "This Idempotency-Key was used with a different request body.".to_owned()
            }
            ApiError::RateLimited { retry_after_secs } => {
                format!("Rate limit reached; retry after {retry_after_secs} s.")
            }
            ApiError::PayloadTooLarge { limit } => {
                format!("The body exceeds the limit of {limit} bytes.")
            }
            ApiError::RequestTimeout { seconds } => {
                format!("The body did not arrive within {seconds} s.")
            }
            ApiError::HeaderFieldsTooLarge { limit } => {
                format!("The request's headers exceed the limit of {limit} bytes.")
            }
            ApiError::UnsupportedMediaType => "Send the body as application/json.".to_owned(),
            ApiError::NotAcceptable => "This resource is available as application/json.".to_owned(),
            ApiError::Unavailable(_) => "The database is unreachable; retry shortly.".to_owned(),
            ApiError::Busy { retry_after_secs } => format!(
                "Too many requests are waiting for the database; retry after {retry_after_secs} s."
            ),
            ApiError::Internal(_) => {
                "Something went wrong on our side; it has been logged.".to_owned()
            }
        }
    }

    fn field_errors(&self) -> Option<Vec<ProblemFieldError>> {
        match self {
            ApiError::Validation(errors) => Some(errors.iter().cloned().map(Into::into).collect()),
            ApiError::BadRequest { errors, .. } if !errors.is_empty() => {
                Some(errors.iter().cloned().map(Into::into).collect())
            }
            _ => None,
        }
    }

    /// The problem body for the current request.
    pub fn problem(&self) -> Problem {
        let kind = self.problem_type();
        let context = request_context::current();
        Problem {
            problem_type: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: self.detail(),
            instance: context.path,
            errors: self.field_errors(),
            request_id: context.request_id,
        }
    }
}

/// For conversions that cannot fail (`T: From<R>` is `TryFrom<R>` with
/// this error), so one helper serves fallible and infallible views.
impl From<std::convert::Infallible> for ApiError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors.0)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Stale => ApiError::PreconditionFailed,
            StoreError::Refused(refusal) => refused(&refusal),
            StoreError::Invalid(errors) => errors.into(),
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::Unavailable(cause)
            }
            StoreError::Corrupt(what) => ApiError::internal(what),
            StoreError::Db(cause) => ApiError::internal(cause),
        }
    }
}

/// The one table of the domain's refusals: each one's problem (403 when
/// the caller may look but not do this, 409 when the state does not allow
/// it, 422 when the request cannot succeed as it is) and its wording.
fn refused(refusal: &Refusal) -> ApiError {
    use AccountRefusal as Ac;
    use AgreementRefusal as Ag;
    use CollectionRefusal as Co;
    use EventRefusal as Ev;
    use ExchangeRefusal as Ex;
    use ExpenseRefusal as Xp;
    use MembershipRefusal as Me;
    use PartnershipRefusal as Pa;
    use ProgramRefusal as Pr;
    use RevenueRefusal as Re;
    use WebhookRefusal as Wh;
    use WorkshopRefusal as Wo;
    let conflict = |why: &str| ApiError::Conflict(why.to_owned());
    match refusal {
        Refusal::Account(r) => match r {
            Ac::AlreadySuspended => conflict("The account is already suspended."),
            Ac::NotSuspended => conflict("The account is not suspended."),
            Ac::Closed => conflict("The account is closed."),
            Ac::OwnAccount => conflict("Administrators cannot suspend their own account."),
            Ac::EmailTaken => conflict("This email is already in use."),
        },
        Refusal::Partnership(r) => match r {
            Pa::NotAcceptedParty => {
                ApiError::Forbidden("Only an accepted party of this partnership may do this.")
            }
            Pa::NotInvitee => {
                ApiError::Forbidden("Only the invited party may answer this invitation.")
            }
            Pa::NotTheParty => ApiError::Forbidden("Only the party itself may leave."),
            Pa::AlreadyAnswered => conflict("This invitation has already been answered."),
            Pa::Ended => conflict("This partnership has ended."),
            Pa::NotActiveYet => conflict(
                "Agreements are made once the partnership is active (two accepted parties).",
            ),
            Pa::StatusChangeNotAllowed => {
                conflict("A partnership cannot move to that status from its current one.")
            }
            Pa::OnlyAcceptedLeave => conflict("Only an accepted party can leave."),
            Pa::NamedByAgreementInForce => conflict(
                "An active agreement names this party; it can leave once that agreement is terminated.",
            ),
            Pa::AlreadyAParty => conflict("This artisan or collective is already a party."),
        },
        Refusal::Agreement(r) => match r {
            Ag::NotDraft => {
                conflict("Only a draft can change; an active agreement changes by amendment.")
            }
            Ag::NotActive => conflict("Only an active agreement can be amended or terminated."),
            Ag::HashNotCurrent => conflict(
                "content_hash is not the agreement's current hash: it changed since you read it; read it again.",
            ),
            Ag::AlreadySigned => conflict("This party has already signed this version."),
            Ag::AmendmentOpen => conflict(
                "An amendment of this agreement is already open; sign or decline it first.",
            ),
            Ag::OverlapsInForce => conflict(
                "Another agreement of this partnership is in force on some of these dates.",
            ),
            Ag::AmendedNoLongerActive => {
                conflict("The agreement this amends is no longer active.")
            }
        },
        Refusal::Membership(r) => match r {
            Me::InviteOnly => FieldError::new(
                "membership_policy",
                "invite_only",
                "this collective admits members by invitation only; ask a coordinator to invite you",
            )
            .into(),
            Me::AlreadyMember => conflict("The artisan is already a member of this collective."),
            Me::AlreadyInvited => {
                conflict("The artisan already has an open invitation to this collective.")
            }
            Me::AlreadyApplied => conflict("You already have a pending application here."),
            Me::NotOpen => conflict("This has already been answered or withdrawn."),
            Me::Archived => conflict("This collective is archived."),
            Me::LastCoordinator => conflict("A collective keeps at least one coordinator."),
            Me::LastCoordinatorOf {
                collective_id,
                name,
            } => ApiError::Conflict(format!(
                "You are the last coordinator of the collective \"{name}\" ({collective_id}), \
                 which has other members: make one of them a coordinator before closing your account."
            )),
            Me::NotCoordinator => {
                ApiError::Forbidden("Only a coordinator of this collective may do this.")
            }
            Me::NotInvitee => {
                ApiError::Forbidden("Only the invited artisan may answer this invitation.")
            }
            Me::InviteeDeclinesInstead => {
                ApiError::Forbidden("Decline the invitation instead of withdrawing it.")
            }
        },
        Refusal::Exchange(r) => match r {
            Ex::ProposerCannotAnswer => {
                ApiError::Forbidden("Only the invited partner accepts or declines.")
            }
            Ex::PartnerDeclinesInstead => {
                ApiError::Forbidden("The invited partner declines instead of cancelling.")
            }
            Ex::WrongStatus => conflict("The exchange is not in a status that allows this."),
            Ex::NotAccepted => {
                conflict("Sessions are recorded and confirmed while the exchange is accepted.")
            }
            Ex::RecorderCannotConfirm => ApiError::Forbidden(
                "The other party confirms a session, not the one who recorded it.",
            ),
            Ex::AlreadyConfirmed => conflict("This session is already confirmed."),
            Ex::NotCompleted => conflict("Reviews are written once the exchange is completed."),
            Ex::AlreadyReviewed => conflict("You have already reviewed this exchange."),
        },
        Refusal::Workshop(r) => match r {
            Wo::NotCollectiveMember => ApiError::Forbidden(
                "Only members of the collective may link a workshop to it.",
            ),
            Wo::HostCannotRegister => {
                conflict("The host does not register for their own workshop.")
            }
            Wo::Started => conflict("This workshop has already started."),
            Wo::NotStarted => conflict("Attendance is recorded once the workshop has started."),
            Wo::AlreadyRegistered => conflict("You are already registered for this workshop."),
            Wo::AlreadyCancelled => conflict("This registration is already cancelled."),
            Wo::NotHost => ApiError::Forbidden("Only the host records attendance."),
        },
        Refusal::Event(r) => match r {
            Ev::NotOrganizer => ApiError::Forbidden(
                "Only the organiser's accepted parties or coordinators may do this.",
            ),
            Ev::Cancelled => conflict("This event is cancelled."),
            Ev::Started => conflict("This event has already started."),
            Ev::AlreadyParticipating => conflict("You already take part in or wait for this event."),
            Ev::AlreadyLeft => conflict("This participant has already left."),
        },
        Refusal::Expense(r) => match r {
            Xp::OwnExpense => ApiError::Forbidden(
                "Another accepted party decides on an expense, not the party that paid it.",
            ),
            Xp::AlreadyDecided => conflict("This expense has already been decided."),
            Xp::SettledPeriod => conflict(
                "This expense is dated inside a settled period that did not net it; it may still be rejected, but not approved.",
            ),
        },
        Refusal::Revenue(r) => match r {
            Re::SettledPeriod => conflict(
                "What this records is dated inside a settled period; settled periods do not change.",
            ),
        },
        Refusal::Collection(r) => match r {
            Co::SkuTaken => conflict("Another item of this partnership has this sku."),
            Co::EditionSoldOut => {
                conflict("Every piece of this numbered edition is sold; none is left to sell.")
            }
            Co::AlreadyPublished => conflict("A published collection is not a draft again."),
        },
        Refusal::Program(r) => match r {
            Pr::AlreadyApplied => conflict("You have applied to this program already."),
            Pr::Closed => conflict("This program is closed."),
            Pr::NotPending => conflict("This application was decided or withdrawn already."),
            Pr::SeatsFilled => conflict("Every seat of this program is taken."),
            Pr::NotReopened => conflict("A closed program is not opened again."),
        },
        Refusal::Webhook(r) => match r {
            Wh::Disabled => conflict(
                "This endpoint is disabled and sends nothing; enable it (PATCH enabled: true) first.",
            ),
        },
    }
}

impl From<diesel_error::Error> for ApiError {
    fn from(error: diesel_error::Error) -> Self {
        StoreError::from(error).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::internal(error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem_type().status()
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            ApiError::Unauthenticated(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="artisan-commons", ApiKey realm="artisan-commons" header="X-API-Key""#,
                ));
            }
            ApiError::MethodNotAllowed(allowed) => {
                let allow = allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.json(problem)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
