//! Workshops: seats and the waitlist, promotion on cancellation, the race
//! for the last seat, attendance paying the host, who sees what.

use chrono::{Duration, Utc};
use domain::webhook::EventType;
use serde_json::{json, Value};

use crate::support::{Account, Resp, TestApp};

fn workshop(capacity: i64) -> Value {
    json!({
        "title": "Indigo vat dyeing",
        "skill": "natural-dyeing",
        "description": "Bring a cotton scarf.",
        "capacity": capacity,
        "starts_at": (Utc::now() + Duration::days(7)).to_rfc3339(),
        "duration_hours": 2.5,
        "location": "Cusco market hall",
    })
}

async fn create(app: &TestApp, host: &Account, body: Value) -> Resp {
    let res = app
        .post("/v1/workshops")
        .bearer(&host.token)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

async fn register(app: &TestApp, who: &Account, id: &str) -> Resp {
    app.post(&format!("/v1/workshops/{id}/registrations"))
        .bearer(&who.token)
        .send()
        .await
}

async fn registrations(app: &TestApp, who: &Account, id: &str) -> Vec<(String, String)> {
    let res = app
        .get(&format!("/v1/workshops/{id}/registrations"))
        .bearer(&who.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["artisan_id"].as_str().unwrap_or_default().to_owned(),
                r["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Moves a workshop's start into the past (the API only creates future ones).
fn start_now(app: &TestApp, id: &str) {
    use diesel::prelude::*;
    use persistence::schema::workshops;
    let mut pooled = app.conn();
    let conn: &mut persistence::AnyConnection = &mut pooled;
    diesel::update(workshops::table.find(id))
        .set(workshops::starts_at.eq((Utc::now() - Duration::minutes(5)).naive_utc()))
        .execute(conn)
        .expect("move start");
}

#[actix_web::test]
async fn a_full_workshop_waitlists_and_a_cancellation_promotes() {
    let app = TestApp::spawn().await;
    let host = app.artisan("Host").await;
    let [ana, bo, cai, dev] = [
        app.artisan("Ana").await,
        app.artisan("Bo").await,
        app.artisan("Cai").await,
        app.artisan("Dev").await,
    ];
    let res = create(&app, &host, workshop(2)).await;
    let id = res.id();
    assert_eq!(res.header("location"), Some(format!("/v1/workshops/{id}")));
    assert_eq!(res.body["duration_hours"], 2.5);
    assert_eq!(res.body["seats_taken"], 0);

    let a = register(&app, &ana, &id).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["status"], "registered");
    assert_eq!(register(&app, &bo, &id).await.body["status"], "registered");
    let c = register(&app, &cai, &id).await;
    assert_eq!(c.body["status"], "waitlisted");
    register(&app, &ana, &id)
        .await
        .assert_problem(409, "conflict");
    register(&app, &host, &id)
        .await
        .assert_problem(409, "conflict");
    let seen = app
        .get(&format!("/v1/workshops/{id}"))
        .bearer(&dev.token)
        .send()
        .await;
    assert_eq!(
        (
            seen.body["seats_taken"].clone(),
            seen.body["waitlisted"].clone()
        ),
        (json!(2), json!(1))
    );
    // The list counts the same.
    let listed = app.get("/v1/workshops").bearer(&dev.token).send().await;
    let here = listed.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["id"] == json!(id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (here["seats_taken"].clone(), here["waitlisted"].clone()),
        (json!(2), json!(1))
    );

    // The host sees all; a registrant their own; anyone else nothing.
    assert_eq!(registrations(&app, &host, &id).await.len(), 3);
    assert_eq!(
        registrations(&app, &cai, &id).await,
        [(cai.id.clone(), "waitlisted".to_owned())]
    );
    assert_eq!(registrations(&app, &dev, &id).await, []);

    // Cancelling: someone else's registration does not exist for you;
    // If-Match is required; the first waitlisted takes the seat.
    let path = format!("/v1/workshops/{id}/registrations/{}", a.id());
    app.delete(&path)
        .bearer(&dev.token)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .assert_problem(404, "not-found");
    app.delete(&path)
        .bearer(&ana.token)
        .send()
        .await
        .assert_problem(428, "precondition-required");
    app.delete(&path)
        .bearer(&ana.token)
        .header("If-Match", "\"7\"")
        .send()
        .await
        .assert_problem(412, "precondition-failed");
    let cancelled = app
        .delete(&path)
        .bearer(&ana.token)
        .header("If-Match", "\"1\"")
        .send()
        .await;
    assert_eq!(cancelled.status, 204, "{}", cancelled.text);
    app.delete(&path)
        .bearer(&ana.token)
        .header("If-Match", "\"2\"")
        .send()
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        registrations(&app, &cai, &id).await,
        [(cai.id.clone(), "registered".to_owned())]
    );
    // The host may cancel any registration.
    let by_host = app
        .delete(&format!("/v1/workshops/{id}/registrations/{}", c.id()))
        .bearer(&host.token)
        .header("If-Match", "\"2\"")
        .send()
        .await;
    assert_eq!(by_host.status, 204, "{}", by_host.text);
    // Ana may come back: a new registration, a free seat.
    assert_eq!(register(&app, &ana, &id).await.body["status"], "registered");

    let created =
        persistence::outbox::of_type(&mut app.conn(), EventType::WorkshopCreated).expect("outbox");
    assert_eq!(created.len(), 1);
    assert!(created[0].payload.contains(&id));
    crate::openapi::assert_documented_payload(&created[0]);
}

#[actix_web::test]
async fn workshops_are_checked_and_listed() {
    let app = TestApp::spawn().await;
    let host = crate::support::ArtisanBuilder::new("Host")
        .set("country", json!("PE"))
        .build(&app)
        .await;
    let other = app.artisan("Other").await;
    let mut past = workshop(5);
    past["starts_at"] = json!("2020-01-01T10:00:00Z");
    let mut both = workshop(5);
    both["online_url"] = json!("https://meet.example.org/indigo");
    let mut neither = workshop(5);
    neither["location"] = Value::Null;
    let mut long = workshop(5);
    long["duration_hours"] = json!(8.5);
    for (body, field) in [
        (past, "starts_at"),
        (both, "location"),
        (neither, "location"),
        (long, "duration_hours"),
    ] {
        let res = app
            .post("/v1/workshops")
            .bearer(&host.token)
            .json(body)
            .send()
            .await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), [field]);
    }

    // Linking a collective takes membership.
    let collective = app
        .post("/v1/collectives")
        .bearer(&other.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "invite_only"}))
        .send()
        .await
        .id();
    let mut linked = workshop(5);
    linked["collective_id"] = json!(collective);
    app.post("/v1/workshops")
        .bearer(&host.token)
        .json(linked.clone())
        .send()
        .await
        .assert_problem(403, "forbidden");
    let mut unknown = workshop(5);
    unknown["collective_id"] = json!(uuid::Uuid::now_v7());
    app.post("/v1/workshops")
        .bearer(&host.token)
        .json(unknown)
        .send()
        .await
        .assert_problem(422, "validation");
    let res = create(&app, &other, linked).await;
    assert_eq!(res.body["collective_id"], collective.as_str());

    let mut soon = workshop(5);
    soon["starts_at"] = json!((Utc::now() + Duration::days(1)).to_rfc3339());
    soon["skill"] = json!("pottery");
    soon["location"] = Value::Null;
    soon["online_url"] = json!("https://meet.example.org/clay");
    let first = create(&app, &host, soon).await.id();
    let later = create(&app, &host, workshop(5)).await.id();
    let all = app.get("/v1/workshops").bearer(&other.token).send().await;
    let ids: Vec<&str> = all.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids[0], first.as_str(), "soonest first");
    assert_eq!(ids.len(), 3);
    let pottery = app
        .get("/v1/workshops?skill=pottery")
        .bearer(&other.token)
        .send()
        .await;
    assert_eq!(pottery.body["data"].as_array().map(Vec::len), Some(1));
    let peru = app
        .get("/v1/workshops?country=PE")
        .bearer(&other.token)
        .send()
        .await;
    assert_eq!(
        peru.body["data"].as_array().map(Vec::len),
        Some(2),
        "the host's country"
    );
    let from = (Utc::now() + Duration::days(3))
        .to_rfc3339()
        .replace('+', "%2B");
    let late = app
        .get(&format!("/v1/workshops?from={from}"))
        .bearer(&other.token)
        .send()
        .await;
    assert_eq!(late.body["data"].as_array().map(Vec::len), Some(2));
    let page = app
        .get("/v1/workshops?limit=2")
        .bearer(&other.token)
        .send()
        .await;
    let cursor = page.body["next_cursor"].as_str().expect("cursor");
    let rest = app
        .get(&format!("/v1/workshops?limit=2&cursor={cursor}"))
        .bearer(&other.token)
        .send()
        .await;
    assert_eq!(rest.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest.body["data"][0]["id"], later.as_str());
    app.get(&format!("/v1/workshops/{}", uuid::Uuid::now_v7()))
        .bearer(&other.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/workshops")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn two_people_racing_for_the_last_seat_get_one_seat() {
    let app = TestApp::spawn().await;
    let host = app.artisan("Host").await;
    let ana = app.artisan("Ana").await;
    let bo = app.artisan("Bo").await;
    for round in 0..8 {
        let id = create(&app, &host, workshop(1)).await.id();
        let (a, b) =
            futures_util::future::join(register(&app, &ana, &id), register(&app, &bo, &id)).await;
        let mut statuses = [a.body["status"].clone(), b.body["status"].clone()];
        statuses.sort_by_key(ToString::to_string);
        assert_eq!(
            statuses,
            [json!("registered"), json!("waitlisted")],
            "round {round}"
        );
    }
}

#[actix_web::test]
async fn attendance_pays_the_host_once_per_attendee() {
    let app = TestApp::spawn().await;
    let host = app.artisan("Host").await;
    let ana = app.artisan("Ana").await;
    let bo = app.artisan("Bo").await;
    let cai = app.artisan("Cai").await;
    let id = create(&app, &host, workshop(2)).await.id();
    register(&app, &ana, &id).await;
    register(&app, &bo, &id).await;
    register(&app, &cai, &id).await; // waitlisted
    let path = format!("/v1/workshops/{id}/attendance");
    let mark = |who: &Account, ids: Value| {
        app.post(&path)
            .bearer(&who.token)
            .json(json!({"artisan_ids": ids}))
            .send()
    };
    mark(&host, json!([ana.id]))
        .await
        .assert_problem(409, "conflict");
    start_now(&app, &id);
    mark(&ana, json!([ana.id]))
        .await
        .assert_problem(403, "forbidden");
    let res = mark(&host, json!([ana.id, cai.id])).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["artisan_ids[1]"]);
    let marked = mark(&host, json!([ana.id, bo.id, ana.id])).await;
    assert_eq!(marked.status, 200, "{}", marked.text);
    assert_eq!(marked.body.as_array().map(Vec::len), Some(2));
    assert!(marked
        .body
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| r["attended"] == true));
    assert_eq!(
        mark(&host, json!([bo.id])).await.status,
        200,
        "marking again changes nothing"
    );
    let balance = |who: &Account| {
        let app = &app;
        let token = who.token.clone();
        async move {
            app.get("/v1/me/time-ledger")
                .bearer(&token)
                .send()
                .await
                .body["balance_hours"]
                .as_f64()
                .expect("balance")
        }
    };
    assert_eq!(balance(&host).await, 5.0);
    assert_eq!(balance(&ana).await, -2.5);
    assert_eq!(balance(&bo).await, -2.5);
    assert_eq!(balance(&cai).await, 0.0);
    // After the start nobody registers or cancels.
    register(&app, &cai, &uuid::Uuid::now_v7().to_string())
        .await
        .assert_problem(404, "not-found");
    let dev = app.artisan("Dev").await;
    register(&app, &dev, &id)
        .await
        .assert_problem(409, "conflict");
}
