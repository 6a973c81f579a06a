//! The authorization matrix, walked from the route table: every operation
//! of the generated OpenAPI document is called against real objects by
//! each kind of caller, and the outcome must be the one its row in [`rows`]
//! says. An operation without a row fails the test, so a new route cannot
//! ship without its authorization being stated and checked.
//!
//! Callers, in the order of each row's expectation string:
//!
//! 1. anonymous (no credentials);
//! 2. an API key without the scope the operation needs (any key, for an
//!    operation for people);
//! 3. an API key with that scope (every scope, for an operation for people);
//! 4. another organization's API key with every scope;
//! 5. the owner: the party, host, coordinator, participant or applicant the
//!    object belongs to (Rosa unless the row names someone else);
//! 6. another artisan, with no tie to the object;
//! 7. a plain member of a collective that is an accepted party of the
//!    partnership (or of the collective itself);
//! 8. an administrator.
//!
//! Outcomes: `A` the caller gets through (2xx, or a 409/412/422 of the
//! object's state or the body's rules: authorization passed), `V` a 422
//! that is the refusal itself (an organiser the caller cannot use), `U`
//! 401, `F` 403, `N` 404, `-` not called (closing an account as anyone but
//! its owner would close the caller's own).

use std::collections::BTreeSet;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::{money_objects, ok, split, Account, Options, Resp, TestApp};

struct People {
    rosa: Account,
    kwame: Account,
    mel: Account,
    olga: Account,
    admin: Account,
    /// Closes its own account in the `deleteMe` row.
    closer: Account,
    /// Suspended and reinstated by the administrator.
    target: Account,
    /// Applies to the collective and withdraws.
    applicant: Account,
    /// Invited to the collective, to accept, decline or be uninvited.
    invitees: [Account; 3],
    /// Members of the collective whose role is changed / who are removed.
    member_changed: Account,
    member_removed: Account,
    /// Invited to the partnership and the collective by the rows that
    /// invite someone (so the other artisan stays a stranger).
    bystander: Account,
}

struct Keys {
    /// Every scope, of the organization that owns the partner objects.
    all: String,
    /// Only `directory:read` / only `impact:read`: whichever lacks the
    /// operation's scope plays "a key without the scope".
    directory_only: String,
    impact_only: String,
    /// Every scope, of another organization.
    foreign: String,
    organization: String,
    /// A key of its own for the administrator to revoke.
    spare_key: String,
}

struct World {
    people: People,
    keys: Keys,
    collective: String,
    pid: String,
    rosa_party: String,
    agreement: String,
    draft: String,
    draft_hash: String,
    sale: String,
    settlement: String,
    expense: String,
    collection: String,
    item: String,
    campaign: String,
    event: String,
    kwame_participation_version: i64,
    workshop: String,
    kwame_registration: String,
    kwame_registration_version: i64,
    exchange: String,
    session: String,
    proposed_to_rosa: [String; 2],
    proposed_by_rosa: String,
    invitations: [String; 3],
    application: String,
    applied_again: String,
    member_changed_version: i64,
    member_removed_version: i64,
    invited_partnerships: [(String, String); 2],
    left_partnership: (String, String),
    program: String,
    program_application: String,
    endpoint: String,
    delivery: String,
}

const PASSWORD_FOR_LOGIN: &str = crate::support::PASSWORD;

async fn sign_all(app: &TestApp, agreement: &str, signers: &[(&Account, &str)]) {
    let current = ok(app
        .get(&format!("/v1/agreements/{agreement}"))
        .bearer(&signers[0].0.token)
        .send()
        .await)
    .await;
    for (who, party) in signers {
        ok(app
            .post(&format!("/v1/agreements/{agreement}/signatures"))
            .bearer(&who.token)
            .json(json!({"content_hash": current.body["content_hash"], "party_id": party}))
            .send()
            .await)
        .await;
    }
}

async fn partnership(app: &TestApp, by: &Account, invitees: Value) -> Resp {
    ok(app
        .post("/v1/partnerships")
        .bearer(&by.token)
        .json(
            json!({"title": "Andes Textiles", "kind": "co_branded_collection",
                     "invitees": invitees}),
        )
        .send()
        .await)
    .await
}

async fn accept(app: &TestApp, who: &Account, pid: &str, party: &str) {
    ok(app
        .post(&format!(
            "/v1/partnerships/{pid}/invitations/{party}/accept"
        ))
        .bearer(&who.token)
        .send()
        .await)
    .await;
}

async fn member_version(app: &TestApp, collective: &str, who: &Account, member: &str) -> i64 {
    let members = ok(app
        .get(&format!("/v1/collectives/{collective}/members?limit=100"))
        .bearer(&who.token)
        .send()
        .await)
    .await;
    members.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["artisan_id"] == member)
        .and_then(|m| m["version"].as_i64())
        .expect("a member")
}

async fn build(app: &TestApp) -> World {
    let people = People {
        rosa: app.artisan("Rosa").await,
        kwame: app.artisan("Kwame").await,
        mel: app.artisan("Mel").await,
        olga: app.artisan("Olga").await,
        admin: app.admin().await,
        closer: app.artisan("Closer").await,
        target: app.artisan("Target").await,
        applicant: app.artisan("Applicant").await,
        invitees: [
            app.artisan("Ida").await,
            app.artisan("Ivo").await,
            app.artisan("Ina").await,
        ],
        member_changed: app.artisan("Marta").await,
        member_removed: app.artisan("Milo").await,
        bystander: app.artisan("Bea").await,
    };
    let (rosa, kwame, admin) = (&people.rosa, &people.kwame, &people.admin);

    // Rosa coordinates a collective (by application) with plain members.
    let collective = ok(app
        .post("/v1/collectives")
        .bearer(&rosa.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "application"}))
        .send()
        .await)
    .await
    .id();
    for member in [&people.mel, &people.member_changed, &people.member_removed] {
        app.join_by_invitation(&collective, rosa, member).await;
    }
    let member_changed_version =
        member_version(app, &collective, rosa, &people.member_changed.id).await;
    let member_removed_version =
        member_version(app, &collective, rosa, &people.member_removed.id).await;
    let mut invitations = Vec::new();
    for invitee in &people.invitees {
        invitations.push(
            ok(app
                .post(&format!("/v1/collectives/{collective}/invitations"))
                .bearer(&rosa.token)
                .json(json!({"artisan_id": invitee.id}))
                .send()
                .await)
            .await
            .id(),
        );
    }
    let application = ok(app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&people.applicant.token)
        .json(json!({"message": "hello"}))
        .send()
        .await)
    .await
    .id();
    let applied_again = ok(app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&people.target.token)
        .json(json!({"message": "me too"}))
        .send()
        .await)
    .await
    .id();

    // The partnership: Rosa, Kwame and the collective, with an agreement
    // in force, a draft, a sale, a settlement and an expense.
    let created = partnership(
        app,
        rosa,
        json!([{"artisan_id": kwame.id}, {"collective_id": collective}]),
    )
    .await;
    let pid = created.id();
    let rosa_party = created.party("artisan_id", &rosa.id);
    let kwame_party = created.party("artisan_id", &kwame.id);
    let collective_party = created.party("collective_id", &collective);
    accept(app, kwame, &pid, &kwame_party).await;
    accept(app, rosa, &pid, &collective_party).await;
    let parties = [
        rosa_party.as_str(),
        kwame_party.as_str(),
        collective_party.as_str(),
    ];
    let first = split(&parties, "2026-01-01", Some("2027-02-28"));
    let agreement = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(first)
        .send()
        .await)
    .await
    .id();
    sign_all(
        app,
        &agreement,
        &[
            (rosa, &rosa_party),
            (kwame, &kwame_party),
            (rosa, &collective_party),
        ],
    )
    .await;
    let later = split(&parties, "2027-03-01", None);
    let draft = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(later)
        .send()
        .await)
    .await;
    let sale = ok(app
        .post(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&rosa.token)
        .header("Idempotency-Key", "sale")
        .json(json!({"amount_minor": 9000, "currency": "PEN",
                     "occurred_at": "2026-02-01T10:00:00Z", "channel": "online"}))
        .send()
        .await)
    .await
    .id();
    let (settlement, expense, collection) =
        money_objects(app, rosa, &pid, &rosa_party, "2026-03-01").await;
    let item = collection.body["items"][0]["id"]
        .as_str()
        .expect("item")
        .to_owned();

    // Partnerships Rosa is invited to (to accept, to decline) and one she
    // leaves.
    let mut invited_partnerships = Vec::new();
    for _ in 0..2 {
        let p = partnership(app, kwame, json!([{"artisan_id": rosa.id}])).await;
        invited_partnerships.push((p.id(), p.party("artisan_id", &rosa.id)));
    }
    let left = partnership(app, kwame, json!([{"artisan_id": rosa.id}])).await;
    let left_partnership = (left.id(), left.party("artisan_id", &rosa.id));
    accept(app, rosa, &left_partnership.0, &left_partnership.1).await;

    let campaign = ok(app
        .post("/v1/campaigns")
        .bearer(&rosa.token)
        .json(campaign_body())
        .send()
        .await)
    .await
    .id();
    let event = ok(app
        .post("/v1/events")
        .bearer(&rosa.token)
        .json(event_body(&pid))
        .send()
        .await)
    .await
    .id();
    let joined = ok(app
        .post(&format!("/v1/events/{event}/participants"))
        .bearer(&kwame.token)
        .send()
        .await)
    .await;
    let workshop = ok(app
        .post("/v1/workshops")
        .bearer(&rosa.token)
        .json(workshop_body())
        .send()
        .await)
    .await
    .id();
    let registration = ok(app
        .post(&format!("/v1/workshops/{workshop}/registrations"))
        .bearer(&kwame.token)
        .send()
        .await)
    .await;

    // Exchanges between Rosa and Kwame.
    let propose = |from: &Account, to: &Account| {
        app.post("/v1/exchanges").bearer(&from.token).json(
            json!({"kind": "swap", "partner_id": to.id, "i_teach": ["weaving"],
                         "they_teach": ["photography"], "proposed_hours": 4}),
        )
    };
    let exchange = ok(propose(rosa, kwame).send().await).await.id();
    ok(app
        .post(&format!("/v1/exchanges/{exchange}/accept"))
        .bearer(&kwame.token)
        .send()
        .await)
    .await;
    let session = ok(app
        .post(&format!("/v1/exchanges/{exchange}/sessions"))
        .bearer(&kwame.token)
        .json(
            json!({"held_on": "2026-11-02", "hours": 2, "skill": "photography",
                     "taught_by": kwame.id}),
        )
        .send()
        .await)
    .await
    .id();
    let proposed_to_rosa = [
        ok(propose(kwame, rosa).send().await).await.id(),
        ok(propose(kwame, rosa).send().await).await.id(),
    ];
    let proposed_by_rosa = ok(propose(rosa, kwame).send().await).await.id();

    // Organizations, keys, a program Rosa applied to, a webhook endpoint
    // with a delivery, and the partnership shared with the organization.
    let (organization, all) = app
        .partner(
            "Aid to Artisans",
            &[
                "directory:read",
                "impact:read",
                "partnerships:read",
                "programs:write",
                "webhooks:manage",
            ],
        )
        .await;
    let key = |scopes: &[&str]| {
        app.post(&format!("/v1/organizations/{organization}/api-keys"))
            .bearer(&admin.token)
            .json(json!({"name": "limited", "scopes": scopes}))
    };
    let directory_only = ok(key(&["directory:read"]).send().await).await.body["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let impact_only = ok(key(&["impact:read"]).send().await).await.body["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let spare_key = ok(key(&["impact:read"]).send().await).await.id();
    let (_, foreign) = app
        .partner(
            "Other Aid",
            &[
                "directory:read",
                "impact:read",
                "partnerships:read",
                "programs:write",
                "webhooks:manage",
            ],
        )
        .await;
    ok(app
        .post(&format!("/v1/partnerships/{pid}/shares"))
        .bearer(&rosa.token)
        .json(json!({"organization_id": organization}))
        .send()
        .await)
    .await;
    let program = ok(app
        .post("/v1/programs")
        .api_key(&all)
        .json(program_body())
        .send()
        .await)
    .await
    .id();
    let program_application = ok(app
        .post(&format!("/v1/programs/{program}/applications"))
        .bearer(&rosa.token)
        .json(json!({"statement": "I weave."}))
        .send()
        .await)
    .await
    .id();
    let endpoint = ok(app
        .post("/v1/webhook-endpoints")
        .api_key(&all)
        .json(json!({"url": "https://hooks.example.org/in", "events": ["event.created"]}))
        .send()
        .await)
    .await
    .body["endpoint"]["id"]
        .as_str()
        .expect("endpoint")
        .to_owned();
    let delivery = ok(app
        .post(&format!("/v1/webhook-endpoints/{endpoint}/test"))
        .api_key(&all)
        .send()
        .await)
    .await
    .id();

    World {
        keys: Keys {
            all,
            directory_only,
            impact_only,
            foreign,
            organization,
            spare_key,
        },
        collective,
        pid,
        rosa_party,
        agreement,
        draft_hash: draft.body["content_hash"]
            .as_str()
            .expect("hash")
            .to_owned(),
        draft: draft.id(),
        sale,
        settlement,
        expense,
        item,
        collection: collection.id(),
        campaign,
        event,
        kwame_participation_version: joined.body["version"].as_i64().expect("version"),
        workshop,
        kwame_registration: registration.id(),
        kwame_registration_version: registration.body["version"].as_i64().expect("version"),
        exchange,
        session,
        proposed_to_rosa,
        proposed_by_rosa,
        invitations: invitations.try_into().expect("three"),
        application,
        applied_again,
        member_changed_version,
        member_removed_version,
        invited_partnerships: invited_partnerships.try_into().expect("two"),
        left_partnership,
        program,
        program_application,
        endpoint,
        delivery,
        people,
    }
}

fn campaign_body() -> Value {
    json!({"title": "A school of looms", "cause": "Looms and yarn for thirty students.",
           "beneficiary_name": "Escuela Taller Cusco",
           "goal": {"amount_minor": 500_000, "currency": "PEN"},
           "starts_on": "2026-01-01", "ends_on": "2027-12-31"})
}

fn event_body(pid: &str) -> Value {
    json!({"name": "Winter fair", "kind": "fair", "venue": "Plaza de Armas", "city": "Cusco",
           "country": "PE", "starts_at": "2027-06-01T10:00:00Z",
           "ends_at": "2027-06-01T18:00:00Z", "capacity": 10,
           "organizer": {"partnership_id": pid}})
}

fn workshop_body() -> Value {
    json!({"title": "Indigo vat dyeing", "skill": "natural-dyeing", "capacity": 5,
           "starts_at": "2027-06-01T10:00:00Z", "duration_hours": 2.5,
           "location": "Cusco market hall"})
}

fn program_body() -> Value {
    json!({"title": "Market access: Lima craft fair", "kind": "market_access",
           "opens_on": "2026-01-01", "closes_on": "2027-12-31"})
}

/// Who plays the owner of a row's object.
#[derive(Clone, Copy)]
enum Owner {
    Rosa,
    Kwame,
    Closer,
    Applicant,
    Invitee(usize),
}

struct Row {
    op: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    /// Where to read the ETag to send as `If-Match`: the object's own URL,
    /// or a version known from the world.
    if_match: Option<IfMatchFrom>,
    scope: &'static str,
    owner: Owner,
    expect: &'static str,
}

enum IfMatchFrom {
    Url(String),
    Version(i64),
}

fn row(op: &'static str, method: Method, path: String, expect: &'static str) -> Row {
    Row {
        op,
        method,
        path,
        body: None,
        if_match: None,
        scope: "",
        owner: Owner::Rosa,
        expect,
    }
}

impl Row {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn etag_of(mut self, url: String) -> Self {
        self.if_match = Some(IfMatchFrom::Url(url));
        self
    }

    fn version(mut self, version: i64) -> Self {
        self.if_match = Some(IfMatchFrom::Version(version));
        self
    }

    fn scope(mut self, scope: &'static str) -> Self {
        self.scope = scope;
        self
    }

    fn owner(mut self, owner: Owner) -> Self {
        self.owner = owner;
        self
    }
}

/// One row per operation, in the order they run: rows that take away
/// what later rows need (leaving, deleting, closing) come last.
#[expect(clippy::too_many_lines, reason = "the one table of the matrix")]
fn rows(w: &World) -> Vec<Row> {
    use Method as M;
    let p = &w.pid;
    let people = &w.people;
    vec![
        // Operations and public routes.
        row("healthz", M::GET, "/healthz".into(), "AAAAAAAA"),
        row("readyz", M::GET, "/readyz".into(), "AAAAAAAA"),
        row("metrics", M::GET, "/metrics".into(), "AAAAAAAA"),
        row(
            "describeProblem",
            M::GET,
            "/problems/not-found".into(),
            "AAAAAAAA",
        ),
        row("register", M::POST, "/v1/auth/register".into(), "AAAAAAAA").body(
            json!({"email": "new-UNIQUE@example.org", "password": "a long password",
                   "display_name": "Newcomer"}),
        ),
        row("login", M::POST, "/v1/auth/login".into(), "AAAAAAAA")
            .body(json!({"email": people.olga.email, "password": PASSWORD_FOR_LOGIN})),
        row(
            "refreshTokens",
            M::POST,
            "/v1/auth/refresh".into(),
            "UUUUUUUU",
        )
        .body(json!({"refresh_token": "not-a-refresh-token"})),
        row("logout", M::POST, "/v1/auth/logout".into(), "AAAAAAAA")
            .body(json!({"refresh_token": "not-a-refresh-token"})),
        // The signed-in account.
        row("getMe", M::GET, "/v1/me".into(), "UFFFAAAA"),
        row(
            "listNotifications",
            M::GET,
            "/v1/me/notifications".into(),
            "UFFFAAAA",
        ),
        row(
            "getUnreadNotificationCount",
            M::GET,
            "/v1/me/notifications/unread-count".into(),
            "UFFFAAAA",
        ),
        row(
            "markNotificationsRead",
            M::POST,
            "/v1/me/notifications/read".into(),
            "UFFFAAAA",
        )
        .body(json!({"up_to": "01900000-0000-7000-8000-000000000000"})),
        row(
            "getStatement",
            M::GET,
            "/v1/me/statement".into(),
            "UFFFAAAA",
        ),
        row(
            "getTimeLedger",
            M::GET,
            "/v1/me/time-ledger".into(),
            "UFFFAAAA",
        ),
        row(
            "listMyProgramApplications",
            M::GET,
            "/v1/me/applications".into(),
            "UFFFAAAA",
        ),
        row(
            "listMyCollectiveApplications",
            M::GET,
            "/v1/me/collective-applications".into(),
            "UFFFAAAA",
        ),
        row(
            "listMyCollectiveInvitations",
            M::GET,
            "/v1/me/collective-invitations".into(),
            "UFFFAAAA",
        ),
        row(
            "listSkillMatches",
            M::GET,
            "/v1/skill-matches".into(),
            "UFFFAAAA",
        ),
        // Profiles.
        row("listArtisans", M::GET, "/v1/artisans".into(), "UFFFAAAA"),
        row(
            "getArtisan",
            M::GET,
            format!("/v1/artisans/{}", people.rosa.id),
            "UFFFAAAA",
        ),
        row(
            "listArtisanReviews",
            M::GET,
            format!("/v1/artisans/{}/reviews", people.rosa.id),
            "UFFFAAAA",
        ),
        row(
            "updateArtisan",
            M::PATCH,
            format!("/v1/artisans/{}", people.rosa.id),
            "UFFFANNN",
        )
        .body(json!({"bio": "Weaver"}))
        .etag_of(format!("/v1/artisans/{}", people.rosa.id)),
        // Administration.
        row(
            "listAuditLog",
            M::GET,
            "/v1/admin/audit-log".into(),
            "UFFFFFFA",
        ),
        row(
            "suspendUser",
            M::POST,
            format!("/v1/admin/users/{}/suspension", people.target.id),
            "UFFFFFFA",
        )
        .body(json!({"reason": "Spam"})),
        row(
            "reinstateUser",
            M::DELETE,
            format!("/v1/admin/users/{}/suspension", people.target.id),
            "UFFFFFFA",
        ),
        row(
            "listOrganizations",
            M::GET,
            "/v1/organizations".into(),
            "UFFFFFFA",
        ),
        row(
            "createOrganization",
            M::POST,
            "/v1/organizations".into(),
            "UFFFFFFA",
        )
        .body(json!({"name": "Another NGO UNIQUE"})),
        row(
            "getOrganization",
            M::GET,
            format!("/v1/organizations/{}", w.keys.organization),
            "UFFFFFFA",
        ),
        row(
            "listApiKeys",
            M::GET,
            format!("/v1/organizations/{}/api-keys", w.keys.organization),
            "UFFFFFFA",
        ),
        row(
            "createApiKey",
            M::POST,
            format!("/v1/organizations/{}/api-keys", w.keys.organization),
            "UFFFFFFA",
        )
        .body(json!({"name": "another", "scopes": ["impact:read"]})),
        row(
            "revokeApiKey",
            M::DELETE,
            format!("/v1/api-keys/{}", w.keys.spare_key),
            "UFFFFFFA",
        ),
        // Collectives.
        row(
            "listCollectives",
            M::GET,
            "/v1/collectives".into(),
            "UFFFAAAA",
        ),
        row(
            "createCollective",
            M::POST,
            "/v1/collectives".into(),
            "UFFFAAAA",
        )
        .body(json!({"name": "New collective UNIQUE", "membership_policy": "open"})),
        row(
            "getCollective",
            M::GET,
            format!("/v1/collectives/{}", w.collective),
            "UFFFAAAA",
        ),
        row(
            "updateCollective",
            M::PATCH,
            format!("/v1/collectives/{}", w.collective),
            "UFFFAFFF",
        )
        .body(json!({"description": "Weavers of Puno"}))
        .etag_of(format!("/v1/collectives/{}", w.collective)),
        row(
            "listCollectiveMembers",
            M::GET,
            format!("/v1/collectives/{}/members", w.collective),
            "UFFFAAAA",
        ),
        row(
            "listCollectiveApplications",
            M::GET,
            format!("/v1/collectives/{}/applications", w.collective),
            "UFFFAFFF",
        ),
        row(
            "listCollectiveInvitations",
            M::GET,
            format!("/v1/collectives/{}/invitations", w.collective),
            "UFFFAFFF",
        ),
        row(
            "inviteToCollective",
            M::POST,
            format!("/v1/collectives/{}/invitations", w.collective),
            "UFFFAFFF",
        )
        .body(json!({"artisan_id": people.bystander.id})),
        row(
            "applyToCollective",
            M::POST,
            format!("/v1/collectives/{}/applications", w.collective),
            "UFFFAAAA",
        )
        .body(json!({"message": "hello"})),
        row(
            "decideCollectiveApplication",
            M::POST,
            format!(
                "/v1/collectives/{}/applications/{}/decision",
                w.collective, w.applied_again
            ),
            "UFFFAFFF",
        )
        .body(json!({"decision": "approve"})),
        row(
            "withdrawCollectiveApplication",
            M::DELETE,
            format!("/v1/collective-applications/{}", w.application),
            "UFFFANNN",
        )
        .owner(Owner::Applicant)
        .version(1),
        row(
            "acceptCollectiveInvitation",
            M::POST,
            format!("/v1/collective-invitations/{}/accept", w.invitations[0]),
            "UFFFANNN",
        )
        .owner(Owner::Invitee(0)),
        row(
            "declineCollectiveInvitation",
            M::POST,
            format!("/v1/collective-invitations/{}/decline", w.invitations[1]),
            "UFFFANNN",
        )
        .owner(Owner::Invitee(1)),
        row(
            "withdrawCollectiveInvitation",
            M::DELETE,
            format!("/v1/collective-invitations/{}", w.invitations[2]),
            "UFFFANNN",
        )
        .version(1),
        row(
            "changeCollectiveMemberRole",
            M::PATCH,
            format!(
                "/v1/collectives/{}/members/{}",
                w.collective, people.member_changed.id
            ),
            "UFFFAFFF",
        )
        .body(json!({"role": "coordinator"}))
        .version(w.member_changed_version),
        row(
            "removeCollectiveMember",
            M::DELETE,
            format!(
                "/v1/collectives/{}/members/{}",
                w.collective, people.member_removed.id
            ),
            "UFFFAFFF",
        )
        .version(w.member_removed_version),
        // Partnerships, agreements and money.
        row(
            "listPartnerships",
            M::GET,
            "/v1/partnerships".into(),
            "UFFFAAAA",
        ),
        row(
            "createPartnership",
            M::POST,
            "/v1/partnerships".into(),
            "UFFFAAAA",
        )
        .body(json!({"title": "Together", "kind": "other"})),
        row(
            "getPartnership",
            M::GET,
            format!("/v1/partnerships/{p}"),
            "UFFFANAA",
        ),
        row(
            "updatePartnership",
            M::PATCH,
            format!("/v1/partnerships/{p}"),
            "UFFFANFF",
        )
        .body(json!({"description": "Textiles from the Andes"}))
        .etag_of(format!("/v1/partnerships/{p}")),
        row(
            "addPartnershipParty",
            M::POST,
            format!("/v1/partnerships/{p}/parties"),
            "UFFFANFF",
        )
        .body(json!({"artisan_id": people.bystander.id})),
        row(
            "listAgreements",
            M::GET,
            format!("/v1/partnerships/{p}/agreements"),
            "UFFFANAA",
        ),
        row(
            "createAgreement",
            M::POST,
            format!("/v1/partnerships/{p}/agreements"),
            "UFFFANFF",
        )
        .body(json!({"revenue_split": {"currency": "PEN", "shares": [
                {"recipient": {"party_id": w.rosa_party}, "share_bps": 10000}]},
                "effective_from": "2028-01-01"})),
        row(
            "getAgreement",
            M::GET,
            format!("/v1/agreements/{}", w.agreement),
            "UFFFANAA",
        ),
        row(
            "listAgreementEvents",
            M::GET,
            format!("/v1/agreements/{}/events", w.agreement),
            "UFFFANAA",
        ),
        row(
            "signAgreement",
            M::POST,
            format!("/v1/agreements/{}/signatures", w.draft),
            "UFFFANFF",
        )
        .body(json!({"content_hash": w.draft_hash, "party_id": w.rosa_party})),
        row(
            "updateAgreement",
            M::PATCH,
            format!("/v1/agreements/{}", w.draft),
            "UFFFANFF",
        )
        .body(json!({"effective_from": "2027-04-01"}))
        .etag_of(format!("/v1/agreements/{}", w.draft)),
        row(
            "declineAgreement",
            M::POST,
            format!("/v1/agreements/{}/declines", w.draft),
            "UFFFANFF",
        )
        .body(json!({"reason": "Not yet", "party_id": w.rosa_party})),
        row(
            "amendAgreement",
            M::POST,
            format!("/v1/agreements/{}/amendments", w.agreement),
            "UFFFANFF",
        )
        .body(json!({"kind": "amendment", "effective_from": "2027-09-01"})),
        row(
            "listSales",
            M::GET,
            format!("/v1/partnerships/{p}/sales"),
            "UFFFANNA",
        ),
        row(
            "recordSale",
            M::POST,
            format!("/v1/partnerships/{p}/sales"),
            "UFFFANNF",
        )
        .body(json!({"amount_minor": 1000, "currency": "PEN",
                         "occurred_at": "2026-11-01T10:00:00Z", "channel": "online"})),
        row(
            "getSale",
            M::GET,
            format!("/v1/sales/{}", w.sale),
            "UFFFANNA",
        ),
        row(
            "refundSale",
            M::POST,
            format!("/v1/sales/{}/refunds", w.sale),
            "UFFFANNF",
        )
        .body(json!({"amount_minor": 1, "reason": "Damaged"})),
        row(
            "getPayouts",
            M::GET,
            format!("/v1/partnerships/{p}/payouts"),
            "UFFFANNA",
        ),
        row(
            "listSettlements",
            M::GET,
            format!("/v1/partnerships/{p}/settlements"),
            "UFFFANNA",
        ),
        row(
            "createSettlement",
            M::POST,
            format!("/v1/partnerships/{p}/settlements"),
            "UFFFANNF",
        )
        .body(json!({"period_end": "2026-04-01"})),
        row(
            "getSettlement",
            M::GET,
            format!("/v1/settlements/{}", w.settlement),
            "UFFFANNA",
        ),
        row(
            "recordPayment",
            M::POST,
            format!("/v1/settlements/{}/payments", w.settlement),
            "UFFFANNF",
        )
        .body(
            json!({"recipient": {"party_id": w.rosa_party}, "amount_minor": 1,
                         "paid_at": "2026-03-02T10:00:00Z", "reference": "Transfer 1"}),
        ),
        row(
            "listExpenses",
            M::GET,
            format!("/v1/partnerships/{p}/expenses"),
            "UFFFANNA",
        ),
        row(
            "recordExpense",
            M::POST,
            format!("/v1/partnerships/{p}/expenses"),
            "UFFFANNF",
        )
        .body(
            json!({"amount_minor": 300, "currency": "PEN", "description": "Yarn",
                         "category": "materials", "incurred_on": "2026-07-02",
                         "paid_by": w.rosa_party}),
        ),
        row(
            "getExpense",
            M::GET,
            format!("/v1/expenses/{}", w.expense),
            "UFFFANNA",
        ),
        row(
            "decideExpense",
            M::POST,
            format!("/v1/expenses/{}/decision", w.expense),
            "UFFFANNF",
        )
        .body(json!({"decision": "approve"}))
        .owner(Owner::Kwame),
        row(
            "listPartnershipShares",
            M::GET,
            format!("/v1/partnerships/{p}/shares"),
            "UFFFANAA",
        ),
        row(
            "sharePartnership",
            M::POST,
            format!("/v1/partnerships/{p}/shares"),
            "UFFFANFF",
        )
        .body(json!({"organization_id": w.keys.organization})),
        // Collections and campaigns.
        row(
            "listPartnershipCollections",
            M::GET,
            format!("/v1/partnerships/{p}/collections"),
            "UFFFANAA",
        ),
        row(
            "createCollection",
            M::POST,
            format!("/v1/partnerships/{p}/collections"),
            "UFFFANFF",
        )
        .body(json!({"name": "Second line"})),
        row(
            "listCatalogue",
            M::GET,
            "/v1/collections".into(),
            "UFFFAAAA",
        ),
        row(
            "getCollection",
            M::GET,
            format!("/v1/collections/{}", w.collection),
            "UFFFANAA",
        ),
        row(
            "updateCollection",
            M::PATCH,
            format!("/v1/collections/{}", w.collection),
            "UFFFANFF",
        )
        .body(json!({"story": "Woven in Puno."}))
        .etag_of(format!("/v1/collections/{}", w.collection)),
        row(
            "addCollectionItem",
            M::POST,
            format!("/v1/collections/{}/items", w.collection),
            "UFFFANFF",
        )
        .body(json!({"sku": "AND-UNIQUE", "name": "Scarf",
                         "price": {"amount_minor": 3000, "currency": "PEN"},
                         "contributors": [w.rosa_party]})),
        row(
            "getCollectionItem",
            M::GET,
            format!("/v1/collection-items/{}", w.item),
            "UFFFANAA",
        ),
        row(
            "updateCollectionItem",
            M::PATCH,
            format!("/v1/collection-items/{}", w.item),
            "UFFFANFF",
        )
        .body(json!({"description": "Alpaca"}))
        .etag_of(format!("/v1/collection-items/{}", w.item)),
        row(
            "getCollectionPerformance",
            M::GET,
            format!("/v1/collections/{}/performance", w.collection),
            "UFFFANNA",
        ),
        row("listCampaigns", M::GET, "/v1/campaigns".into(), "UFFFAAAA"),
        row(
            "createCampaign",
            M::POST,
            "/v1/campaigns".into(),
            "UFFFAAAA",
        )
        .body(campaign_body()),
        row(
            "getCampaign",
            M::GET,
            format!("/v1/campaigns/{}", w.campaign),
            "UFFFAAAA",
        ),
        // Market events.
        row("listEvents", M::GET, "/v1/events".into(), "UFFFAAAA"),
        row("createEvent", M::POST, "/v1/events".into(), "UFFFAVFF").body(event_body(p)),
        row(
            "getEvent",
            M::GET,
            format!("/v1/events/{}", w.event),
            "UFFFAAAA",
        ),
        row(
            "updateEvent",
            M::PATCH,
            format!("/v1/events/{}", w.event),
            "UFFFAFFF",
        )
        .body(json!({"description": "Bring a table"}))
        .etag_of(format!("/v1/events/{}", w.event)),
        row(
            "listEventParticipants",
            M::GET,
            format!("/v1/events/{}/participants", w.event),
            "UFFFAAAA",
        ),
        // Money of an event: the organiser and administrators (cost shares
        // also those taking part, so they are read before the others join).
        row(
            "getEventCostShares",
            M::GET,
            format!("/v1/events/{}/cost-shares", w.event),
            "UFFFANNA",
        ),
        row(
            "getEventSalesSummary",
            M::GET,
            format!("/v1/events/{}/sales-summary", w.event),
            "UFFFANNA",
        ),
        row(
            "joinEvent",
            M::POST,
            format!("/v1/events/{}/participants", w.event),
            "UFFFAAAA",
        ),
        row(
            "leaveEvent",
            M::DELETE,
            format!("/v1/events/{}/participants/{}", w.event, people.kwame.id),
            "UFFFANNN",
        )
        .owner(Owner::Kwame)
        .version(w.kwame_participation_version),
        // Workshops.
        row("listWorkshops", M::GET, "/v1/workshops".into(), "UFFFAAAA"),
        row(
            "createWorkshop",
            M::POST,
            "/v1/workshops".into(),
            "UFFFAAAA",
        )
        .body(workshop_body()),
        row(
            "getWorkshop",
            M::GET,
            format!("/v1/workshops/{}", w.workshop),
            "UFFFAAAA",
        ),
        row(
            "listWorkshopRegistrations",
            M::GET,
            format!("/v1/workshops/{}/registrations", w.workshop),
            "UFFFAAAA",
        ),
        row(
            "registerForWorkshop",
            M::POST,
            format!("/v1/workshops/{}/registrations", w.workshop),
            "UFFFAAAA",
        ),
        row(
            "recordWorkshopAttendance",
            M::POST,
            format!("/v1/workshops/{}/attendance", w.workshop),
            "UFFFAFFF",
        )
        .body(json!({"artisan_ids": [people.kwame.id]})),
        row(
            "cancelWorkshopRegistration",
            M::DELETE,
            format!(
                "/v1/workshops/{}/registrations/{}",
                w.workshop, w.kwame_registration
            ),
            "UFFFANNN",
        )
        .owner(Owner::Kwame)
        .version(w.kwame_registration_version),
        // Skill exchange.
        row("listExchanges", M::GET, "/v1/exchanges".into(), "UFFFAAAA"),
        row(
            "proposeExchange",
            M::POST,
            "/v1/exchanges".into(),
            "UFFFAAAA",
        )
        .body(
            json!({"kind": "swap", "partner_id": people.kwame.id, "i_teach": ["weaving"],
                         "they_teach": ["photography"], "proposed_hours": 2}),
        ),
        row(
            "getExchange",
            M::GET,
            format!("/v1/exchanges/{}", w.exchange),
            "UFFFANNN",
        ),
        row(
            "recordSession",
            M::POST,
            format!("/v1/exchanges/{}/sessions", w.exchange),
            "UFFFANNN",
        )
        .body(
            json!({"held_on": "2026-11-03", "hours": 1, "skill": "weaving",
                         "taught_by": people.rosa.id}),
        ),
        row(
            "confirmSession",
            M::POST,
            format!(
                "/v1/exchanges/{}/sessions/{}/confirm",
                w.exchange, w.session
            ),
            "UFFFANNN",
        ),
        row(
            "acceptExchange",
            M::POST,
            format!("/v1/exchanges/{}/accept", w.proposed_to_rosa[0]),
            "UFFFANNN",
        ),
        row(
            "declineExchange",
            M::POST,
            format!("/v1/exchanges/{}/decline", w.proposed_to_rosa[1]),
            "UFFFANNN",
        ),
        row(
            "cancelExchange",
            M::POST,
            format!("/v1/exchanges/{}/cancel", w.proposed_by_rosa),
            "UFFFANNN",
        ),
        row(
            "completeExchange",
            M::POST,
            format!("/v1/exchanges/{}/complete", w.exchange),
            "UFFFANNN",
        ),
        row(
            "reviewExchange",
            M::POST,
            format!("/v1/exchanges/{}/reviews", w.exchange),
            "UFFFANNN",
        )
        .body(json!({"rating": 5, "comment": "Patient teacher"})),
        // Partner organizations: directory, impact, shared partnerships,
        // programs and webhooks.
        row(
            "listDirectoryArtisans",
            M::GET,
            "/v1/directory/artisans".into(),
            "UFAAFFFF",
        )
        .scope("directory:read"),
        row(
            "listDirectoryCollectives",
            M::GET,
            "/v1/directory/collectives".into(),
            "UFAAFFFF",
        )
        .scope("directory:read"),
        row(
            "listDirectoryEvents",
            M::GET,
            "/v1/directory/events".into(),
            "UFAAFFFF",
        )
        .scope("directory:read"),
        row("getImpact", M::GET, "/v1/impact".into(), "UFAAFFFF").scope("impact:read"),
        row(
            "listSharedPartnerships",
            M::GET,
            "/v1/partner/partnerships".into(),
            "UFAAFFFF",
        )
        .scope("partnerships:read"),
        row(
            "getSharedPartnership",
            M::GET,
            format!("/v1/partner/partnerships/{p}"),
            "UFANFFFF",
        )
        .scope("partnerships:read"),
        row("listPrograms", M::GET, "/v1/programs".into(), "UFAAAAAA").scope("programs:write"),
        row(
            "getProgram",
            M::GET,
            format!("/v1/programs/{}", w.program),
            "UFANAAAA",
        )
        .scope("programs:write"),
        row("createProgram", M::POST, "/v1/programs".into(), "UFAAFFFF")
            .scope("programs:write")
            .body(program_body()),
        row(
            "updateProgram",
            M::PATCH,
            format!("/v1/programs/{}", w.program),
            "UFANFFFF",
        )
        .scope("programs:write")
        .body(json!({"description": "Travel paid"}))
        .etag_of(format!("/v1/programs/{}", w.program)),
        row(
            "listProgramApplications",
            M::GET,
            format!("/v1/programs/{}/applications", w.program),
            "UFANFFFF",
        )
        .scope("programs:write"),
        row(
            "applyToProgram",
            M::POST,
            format!("/v1/programs/{}/applications", w.program),
            "UFFFAAAA",
        )
        .body(json!({"statement": "I weave too."})),
        row(
            "decideProgramApplication",
            M::POST,
            format!(
                "/v1/programs/{}/applications/{}/decision",
                w.program, w.program_application
            ),
            "UFANFFFF",
        )
        .scope("programs:write")
        .body(json!({"decision": "accept", "note": "Welcome"})),
        row(
            "withdrawProgramApplication",
            M::POST,
            format!("/v1/me/applications/{}/withdraw", w.program_application),
            "UFFFANNN",
        ),
        row(
            "listWebhookEndpoints",
            M::GET,
            "/v1/webhook-endpoints".into(),
            "UFAAFFFF",
        )
        .scope("webhooks:manage"),
        row(
            "createWebhookEndpoint",
            M::POST,
            "/v1/webhook-endpoints".into(),
            "UFAAFFFF",
        )
        .scope("webhooks:manage")
        .body(json!({"url": "https://hooks.example.org/other", "events": ["workshop.created"]})),
        row(
            "getWebhookEndpoint",
            M::GET,
            format!("/v1/webhook-endpoints/{}", w.endpoint),
            "UFANFFFF",
        )
        .scope("webhooks:manage"),
        row(
            "listWebhookDeliveries",
            M::GET,
            format!("/v1/webhook-endpoints/{}/deliveries", w.endpoint),
            "UFANFFFF",
        )
        .scope("webhooks:manage"),
        row(
            "testWebhookEndpoint",
            M::POST,
            format!("/v1/webhook-endpoints/{}/test", w.endpoint),
            "UFANFFFF",
        )
        .scope("webhooks:manage"),
        row(
            "redeliverWebhook",
            M::POST,
            format!(
                "/v1/webhook-endpoints/{}/deliveries/{}/redeliver",
                w.endpoint, w.delivery
            ),
            "UFANFFFF",
        )
        .scope("webhooks:manage"),
        row(
            "updateWebhookEndpoint",
            M::PATCH,
            format!("/v1/webhook-endpoints/{}", w.endpoint),
            "UFANFFFF",
        )
        .scope("webhooks:manage")
        .body(json!({"description": "Our intake"}))
        .etag_of(format!("/v1/webhook-endpoints/{}", w.endpoint)),
        row(
            "deleteWebhookEndpoint",
            M::DELETE,
            format!("/v1/webhook-endpoints/{}", w.endpoint),
            "UFANFFFF",
        )
        .scope("webhooks:manage")
        .etag_of(format!("/v1/webhook-endpoints/{}", w.endpoint)),
        // Last: what takes away what earlier rows needed.
        row(
            "revokePartnershipShare",
            M::DELETE,
            format!("/v1/partnerships/{p}/shares/{}", w.keys.organization),
            "UFFFANFF",
        ),
        row(
            "acceptInvitation",
            M::POST,
            format!(
                "/v1/partnerships/{}/invitations/{}/accept",
                w.invited_partnerships[0].0, w.invited_partnerships[0].1
            ),
            "UFFFANNF",
        ),
        row(
            "declineInvitation",
            M::POST,
            format!(
                "/v1/partnerships/{}/invitations/{}/decline",
                w.invited_partnerships[1].0, w.invited_partnerships[1].1
            ),
            "UFFFANNF",
        ),
        row(
            "leavePartnership",
            M::POST,
            format!(
                "/v1/partnerships/{}/parties/{}/leave",
                w.left_partnership.0, w.left_partnership.1
            ),
            "UFFFANNF",
        ),
        row("deleteMe", M::DELETE, "/v1/me".into(), "UFFFA---")
            .owner(Owner::Closer)
            .etag_of("/v1/me".into()),
    ]
}

/// The caller of a column, as the headers it sends.
enum Caller<'a> {
    Anonymous,
    Key(&'a str),
    Person(&'a Account),
}

fn callers<'a>(w: &'a World, row: &Row) -> [Caller<'a>; 8] {
    let without = if row.scope == "directory:read" {
        &w.keys.impact_only
    } else {
        &w.keys.directory_only
    };
    let owner = match row.owner {
        Owner::Rosa => &w.people.rosa,
        Owner::Kwame => &w.people.kwame,
        Owner::Closer => &w.people.closer,
        Owner::Applicant => &w.people.applicant,
        Owner::Invitee(i) => &w.people.invitees[i],
    };
    [
        Caller::Anonymous,
        Caller::Key(without),
        Caller::Key(&w.keys.all),
        Caller::Key(&w.keys.foreign),
        Caller::Person(owner),
        Caller::Person(&w.people.olga),
        Caller::Person(&w.people.mel),
        Caller::Person(&w.people.admin),
    ]
}

const COLUMNS: [&str; 8] = [
    "anonymous",
    "key without the scope",
    "key with the scope",
    "another organization's key",
    "owner",
    "another artisan",
    "plain member",
    "admin",
];

fn outcome(status: u16) -> char {
    match status {
        401 => 'U',
        403 => 'F',
        404 => 'N',
        200..=299 | 409 | 412 | 422 => 'A',
        _ => '?',
    }
}

#[actix_web::test]
async fn every_operation_answers_each_kind_of_caller_as_its_row_says() {
    let app = TestApp::with(
        Options::default()
            .var("RATE_LIMIT_PER_MINUTE", "0")
            .var("RATE_LIMIT_AUTH_PER_MINUTE", "0"),
    )
    .await;
    let world = build(&app).await;
    let table = rows(&world);

    // The table and the route table name the same operations, once each.
    let doc = serde_json::to_value(api::openapi()).expect("json");
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    let listed: Vec<&str> = table.iter().map(|r| r.op).collect();
    let unique: BTreeSet<String> = listed.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(unique.len(), listed.len(), "an operation has two rows");
    let missing: Vec<&String> = documented.difference(&unique).collect();
    let unknown: Vec<&String> = unique.difference(&documented).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "operations without a row: {missing:?}; rows for no operation: {unknown:?}"
    );

    let mut wrong = Vec::new();
    for row in &table {
        let callers = callers(&world, row);
        // Those expected to get through go last, so the refused ones meet
        // the object as it was.
        let mut order: Vec<usize> = (0..8).collect();
        order.sort_by_key(|&i| row.expect.as_bytes()[i] == b'A');
        for i in order {
            let expected = char::from(row.expect.as_bytes()[i]);
            if expected == '-' {
                continue;
            }
            let if_match = match &row.if_match {
                None => None,
                Some(IfMatchFrom::Version(v)) => Some(format!("\"{v}\"")),
                Some(IfMatchFrom::Url(url)) => {
                    let read = if row.scope.is_empty() {
                        let Caller::Person(owner) = callers[4] else {
                            unreachable!()
                        };
                        app.get(url).bearer(&owner.token)
                    } else {
                        app.get(url).api_key(&world.keys.all)
                    };
                    read.send().await.header("etag")
                }
            };
            let unique = uuid::Uuid::now_v7().simple().to_string();
            let mut req = app.req(row.method.clone(), &row.path);
            req = match &callers[i] {
                Caller::Anonymous => req,
                Caller::Key(key) => req.api_key(key),
                Caller::Person(who) => req.bearer(&who.token),
            };
            if row.method == Method::POST {
                req = req.header("Idempotency-Key", &unique);
            }
            if let Some(tag) = &if_match {
                req = req.header("If-Match", tag);
            }
            if let Some(body) = &row.body {
                let text = body.to_string().replace("UNIQUE", &unique);
                req = req.json(serde_json::from_str(&text).expect("body"));
            }
            let res = req.send().await;
            let got = outcome(res.status);
            let matches = if expected == 'V' {
                res.status == 422
            } else {
                got == expected
            };
            if !matches {
                wrong.push(format!(
                    "{} {} {} as {}: expected {expected}, got {} {}",
                    row.op,
                    row.method,
                    row.path,
                    COLUMNS[i],
                    res.status,
                    res.text.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} outcomes differ from the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
