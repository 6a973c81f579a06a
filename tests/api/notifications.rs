//! The inbox: one test per notification kind (each reaches the people it
//! concerns and never the person who caused it), then the inbox itself —
//! pages, the unread filter, the badge, marking read.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::sales::{sell, setup};
use crate::support::{ok, Account, Resp, TestApp};

/// The account's notifications, newest first: (kind, subject id).
async fn inbox(app: &TestApp, who: &Account) -> Vec<(String, String)> {
    let res = app
        .get("/v1/me/notifications?limit=100")
        .bearer(&who.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                n["kind"].as_str().unwrap_or_default().to_owned(),
                n["subject"]["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The kinds in the account's inbox, newest first.
async fn kinds(app: &TestApp, who: &Account) -> Vec<String> {
    inbox(app, who).await.into_iter().map(|(k, _)| k).collect()
}

/// A fair in 2099 organised by a partnership of `organiser` and
/// `partner`, with `capacity` places, that `joining` join in order.
async fn fair(
    app: &TestApp,
    organiser: &Account,
    partner: &Account,
    capacity: i64,
    joining: &[&Account],
) -> String {
    let (pid, _, _) = setup(app, organiser, partner, [5000, 4000, 1000], "2026-01-01").await;
    let event = ok(app
        .post("/v1/events")
        .bearer(&organiser.token)
        .json(
            json!({"name": "Feria", "kind": "fair", "venue": "Plaza", "city": "Cusco",
                     "country": "PE", "starts_at": "2099-01-01T10:00:00Z",
                     "ends_at": "2099-01-02T10:00:00Z", "capacity": capacity,
                     "organizer": {"partnership_id": pid}}),
        )
        .send()
        .await)
    .await
    .id();
    for who in joining {
        ok(app
            .post(&format!("/v1/events/{event}/participants"))
            .bearer(&who.token)
            .send()
            .await)
        .await;
    }
    event
}

#[actix_web::test]
async fn a_partnership_invitation_reaches_the_invited_artisan_and_collective_coordinators() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let cora = app.artisan("Cora").await;
    let mel = app.artisan("Mel").await;
    let collective = ok(app
        .post("/v1/collectives")
        .bearer(&cora.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "open"}))
        .send()
        .await)
    .await
    .id();
    ok(app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&mel.token)
        .json(json!({"message": "hello"}))
        .send()
        .await)
    .await;
    let created = ok(app
        .post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(json!({"title": "Stall", "kind": "market_event",
                     "invitees": [{"artisan_id": kwame.id}, {"collective_id": collective}]}))
        .send()
        .await)
    .await;
    let pid = created.id();
    let invited = vec![("partnership.invited".to_owned(), pid.clone())];
    assert_eq!(inbox(&app, &kwame).await, invited);
    assert_eq!(inbox(&app, &cora).await, invited, "the coordinator answers");
    assert!(
        kinds(&app, &mel).await.is_empty(),
        "a plain member does not"
    );
    assert!(
        kinds(&app, &rosa).await.is_empty(),
        "nor the one who invited"
    );
}

#[actix_web::test]
async fn a_collective_invitation_reaches_the_invitee() {
    let app = TestApp::spawn().await;
    let cora = app.artisan("Cora").await;
    let zoe = app.artisan("Zoe").await;
    let collective = ok(app
        .post("/v1/collectives")
        .bearer(&cora.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "invite_only"}))
        .send()
        .await)
    .await
    .id();
    let invitation = ok(app
        .post(&format!("/v1/collectives/{collective}/invitations"))
        .bearer(&cora.token)
        .json(json!({"artisan_id": zoe.id, "message": "Weave with us"}))
        .send()
        .await)
    .await;
    assert_eq!(
        inbox(&app, &zoe).await,
        [("collective.invited".to_owned(), invitation.id())]
    );
    assert!(kinds(&app, &cora).await.is_empty());
}

#[actix_web::test]
async fn an_application_decision_reaches_the_applicant() {
    let app = TestApp::spawn().await;
    let cora = app.artisan("Cora").await;
    let zoe = app.artisan("Zoe").await;
    let collective = ok(app
        .post("/v1/collectives")
        .bearer(&cora.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "application"}))
        .send()
        .await)
    .await
    .id();
    let application = ok(app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&zoe.token)
        .json(json!({"message": "I weave"}))
        .send()
        .await)
    .await
    .id();
    assert!(
        kinds(&app, &zoe).await.is_empty(),
        "applying is her own doing"
    );
    ok(app
        .post(&format!(
            "/v1/collectives/{collective}/applications/{application}/decision"
        ))
        .bearer(&cora.token)
        .json(json!({"decision": "approve"}))
        .send()
        .await)
    .await;
    assert_eq!(
        inbox(&app, &zoe).await,
        [(
            "collective.application_decided".to_owned(),
            application.clone()
        )]
    );
    assert!(kinds(&app, &cora).await.is_empty());
}

/// A new draft awaits the other party's signature; the last signature
/// activates it, which the other parties hear of.
#[actix_web::test]
async fn agreements_awaiting_signature_and_activated_reach_the_other_parties() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    // Rosa drafts and signs first, Kwame signs last.
    let (pid, _, agreement) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    assert_eq!(
        inbox(&app, &kwame).await,
        [
            ("agreement.awaiting_signature".to_owned(), agreement.clone()),
            ("partnership.invited".to_owned(), pid),
        ]
    );
    assert_eq!(
        inbox(&app, &rosa).await,
        [("agreement.activated".to_owned(), agreement)]
    );
}

#[actix_web::test]
async fn a_declined_agreement_reaches_the_other_parties() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2030-01-01").await;
    let draft = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(json!({"revenue_split": {"currency": "PEN", "shares": [
                        {"recipient": {"party_id": parties[0]}, "share_bps": 5000},
                        {"recipient": {"party_id": parties[1]}, "share_bps": 5000}]},
                     "effective_from": "2026-01-01", "effective_until": "2029-12-31"}))
        .send()
        .await)
    .await
    .id();
    ok(app
        .post(&format!("/v1/agreements/{draft}/declines"))
        .bearer(&kwame.token)
        .json(json!({"reason": "Not this split"}))
        .send()
        .await)
    .await;
    assert_eq!(
        inbox(&app, &rosa).await.first(),
        Some(&("agreement.declined".to_owned(), draft))
    );
    assert!(!kinds(&app, &kwame)
        .await
        .contains(&"agreement.declined".to_owned()));
}

#[actix_web::test]
async fn a_recorded_session_awaits_the_other_partys_confirmation() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let exchange = ok(app
        .post("/v1/exchanges")
        .bearer(&rosa.token)
        .json(
            json!({"kind": "swap", "partner_id": kwame.id, "i_teach": ["weaving"],
                     "they_teach": ["photography"], "proposed_hours": 4}),
        )
        .send()
        .await)
    .await
    .id();
    ok(app
        .post(&format!("/v1/exchanges/{exchange}/accept"))
        .bearer(&kwame.token)
        .send()
        .await)
    .await;
    let session = ok(app
        .post(&format!("/v1/exchanges/{exchange}/sessions"))
        .bearer(&rosa.token)
        .json(
            json!({"taught_by": rosa.id, "skill": "weaving", "hours": 1.5,
                     "held_on": "2026-11-01"}),
        )
        .send()
        .await)
    .await
    .id();
    assert_eq!(
        inbox(&app, &kwame).await,
        [("exchange.session_awaiting_confirmation".to_owned(), session)]
    );
    assert!(kinds(&app, &rosa).await.is_empty());
}

#[actix_web::test]
async fn a_freed_workshop_seat_reaches_the_first_waiting() {
    let app = TestApp::spawn().await;
    let host = app.artisan("Host").await;
    let ana = app.artisan("Ana").await;
    let cai = app.artisan("Cai").await;
    let workshop = ok(app
        .post("/v1/workshops")
        .bearer(&host.token)
        .json(
            json!({"title": "Indigo vat dyeing", "skill": "natural-dyeing", "capacity": 1,
                     "starts_at": (Utc::now() + Duration::days(7)).to_rfc3339(),
                     "duration_hours": 2, "location": "Cusco"}),
        )
        .send()
        .await)
    .await
    .id();
    let register = |who: &Account| {
        app.post(&format!("/v1/workshops/{workshop}/registrations"))
            .bearer(&who.token)
            .send()
    };
    let seat = ok(register(&ana).await).await;
    ok(register(&cai).await).await;
    assert!(kinds(&app, &cai).await.is_empty());
    ok(app
        .delete(&format!(
            "/v1/workshops/{workshop}/registrations/{}",
            seat.id()
        ))
        .bearer(&ana.token)
        .header("If-Match", "\"1\"")
        .send()
        .await)
    .await;
    assert_eq!(
        inbox(&app, &cai).await,
        [("workshop.seat_assigned".to_owned(), workshop)]
    );
    assert!(kinds(&app, &ana).await.is_empty());
}

#[actix_web::test]
async fn a_freed_event_place_reaches_the_first_waiting() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let ana = app.artisan("Ana").await;
    let cai = app.artisan("Cai").await;
    let event = fair(&app, &rosa, &kwame, 1, &[&ana, &cai]).await;
    ok(app
        .delete(&format!("/v1/events/{event}/participants/{}", ana.id))
        .bearer(&ana.token)
        .header("If-Match", "\"1\"")
        .send()
        .await)
    .await;
    assert_eq!(
        inbox(&app, &cai).await,
        [("event.seat_assigned".to_owned(), event)]
    );
    assert!(kinds(&app, &ana).await.is_empty());
}

/// Cancelling an event tells everyone taking part or waiting, except the
/// organiser who cancelled it.
#[actix_web::test]
async fn a_cancelled_event_reaches_its_participants_and_waitlist() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let ana = app.artisan("Ana").await;
    let cai = app.artisan("Cai").await;
    let event = fair(&app, &rosa, &kwame, 2, &[&rosa, &ana, &cai]).await;
    ok(app
        .patch(&format!("/v1/events/{event}"))
        .bearer(&rosa.token)
        .header("If-Match", "\"1\"")
        .json(json!({"status": "cancelled", "cancel_reason": "The plaza is closed"}))
        .send()
        .await)
    .await;
    let cancelled = ("event.cancelled".to_owned(), event.clone());
    assert_eq!(inbox(&app, &ana).await, std::slice::from_ref(&cancelled));
    assert_eq!(inbox(&app, &cai).await, [cancelled], "the waitlist too");
    assert!(!kinds(&app, &rosa)
        .await
        .contains(&"event.cancelled".to_owned()));
    assert!(
        !kinds(&app, &kwame)
            .await
            .contains(&"event.cancelled".to_owned()),
        "not taking part"
    );
}

#[actix_web::test]
async fn a_payment_reaches_the_paid_party_not_the_payer() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let sale = json!({"amount_minor": 1000, "currency": "PEN", "occurred_at": "2026-03-01T10:00:00Z",
                      "channel": "online", "description": "Scarf"});
    ok(sell(&app, &rosa, &pid, "s-1", sale).await).await;
    let settlement = ok(app
        .post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&rosa.token)
        .header("Idempotency-Key", "settle")
        .json(json!({"period_end": "2026-04-01"}))
        .send()
        .await)
    .await
    .id();
    let before = kinds(&app, &kwame).await.len();
    ok(app
        .post(&format!("/v1/settlements/{settlement}/payments"))
        .bearer(&rosa.token)
        .header("Idempotency-Key", "pay")
        .json(
            json!({"recipient": {"party_id": parties[1]}, "amount_minor": 400,
                     "paid_at": "2026-04-05T12:00:00Z", "reference": "transfer 42"}),
        )
        .send()
        .await)
    .await;
    let now = inbox(&app, &kwame).await;
    assert_eq!(now.len(), before + 1);
    assert_eq!(
        now[0],
        ("settlement.payment_recorded".to_owned(), settlement)
    );
    assert!(!kinds(&app, &rosa)
        .await
        .contains(&"settlement.payment_recorded".to_owned()));
}

/// The inbox itself: newest first with keyset pages, the unread filter and
/// the badge, marking read up to one of your own notifications.
#[actix_web::test]
async fn the_inbox_pages_counts_and_marks_read() {
    let app = TestApp::spawn().await;
    let kwame = app.artisan("Kwame").await;
    let mut invited_to = Vec::new();
    for n in 0..3 {
        let rosa = app.artisan(&format!("Rosa {n}")).await;
        let created = ok(app
            .post("/v1/partnerships")
            .bearer(&rosa.token)
            .json(
                json!({"title": format!("Stall {n}"), "kind": "market_event",
                         "invitees": [{"artisan_id": kwame.id}]}),
            )
            .send()
            .await)
        .await;
        invited_to.push(created.id());
    }
    let count = || async {
        let res = app
            .get("/v1/me/notifications/unread-count")
            .bearer(&kwame.token)
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.body["unread_count"].as_i64().expect("count")
    };
    assert_eq!(count().await, 3);
    let first = app
        .get("/v1/me/notifications?limit=2")
        .bearer(&kwame.token)
        .send()
        .await;
    let subjects = |res: &Resp| -> Vec<Value> {
        res.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| n["subject"]["id"].clone())
            .collect()
    };
    assert_eq!(
        subjects(&first),
        [json!(invited_to[2]), json!(invited_to[1])]
    );
    assert!(first.body["data"][0]["read_at"].is_null());
    let cursor = first.body["next_cursor"].as_str().expect("more");
    let second = app
        .get(&format!("/v1/me/notifications?limit=2&cursor={cursor}"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(subjects(&second), [json!(invited_to[0])]);

    // Marking read up to the middle one marks it and the older one.
    let middle = first.body["data"][1]["id"].as_str().expect("id");
    let marked = ok(app
        .post("/v1/me/notifications/read")
        .bearer(&kwame.token)
        .json(json!({"up_to": middle}))
        .send()
        .await)
    .await;
    assert_eq!(marked.body["unread_count"], 1);
    assert_eq!(count().await, 1);
    let unread = app
        .get("/v1/me/notifications?unread=true")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(subjects(&unread), [json!(invited_to[2])]);

    // Someone else's notification (or none) is not yours to mark.
    let other = app.artisan("Other").await;
    for up_to in [middle.to_owned(), uuid::Uuid::now_v7().to_string()] {
        let res = app
            .post("/v1/me/notifications/read")
            .bearer(&other.token)
            .json(json!({"up_to": up_to}))
            .send()
            .await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), ["up_to"]);
    }
    app.post("/v1/me/notifications/read")
        .bearer(&kwame.token)
        .json(json!({"up_to": "not-an-id"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
    assert_eq!(count().await, 1, "nothing else changed");
    app.get("/v1/me/notifications")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let key = app.partner_key(&["directory:read"]).await;
    app.get("/v1/me/notifications")
        .api_key(&key)
        .send()
        .await
        .assert_problem(403, "forbidden");
}
