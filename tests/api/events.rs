//! Shared market events: organisers create, edit and cancel them; artisans
//! join and leave; capacity holds under concurrency with a waitlist in
//! arrival order; the booth cost splits exactly.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::support::{Account, Resp, TestApp};

/// An active partnership of `a` (creator) and `b`.
async fn partnership(app: &TestApp, a: &Account, b: &Account) -> String {
    let created = app
        .post("/v1/partnerships")
        .bearer(&a.token)
        .json(json!({"title": "Feria", "kind": "market_event", "invitees": [{"artisan_id": b.id}]}))
        .send()
        .await;
    let pid = created.id();
    let theirs = created.party("artisan_id", &b.id);
    let accepted = app
        .post(&format!(
            "/v1/partnerships/{pid}/invitations/{theirs}/accept"
        ))
        .bearer(&b.token)
        .send()
        .await;
    assert_eq!(accepted.body["status"], "active", "{}", accepted.text);
    pid
}

fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339()
}

fn event(organizer: Value, capacity: Option<i64>, booth: Option<(i64, &str)>) -> Value {
    let mut body = json!({
        "name": "Feria de Chinchero", "kind": "festival", "venue": "Plaza de Armas",
        "city": "Chinchero", "country": "PE", "starts_at": in_days(30), "ends_at": in_days(32),
        "organizer": organizer, "description": "Weaving and pottery",
    });
    if let Some(capacity) = capacity {
        body["capacity"] = json!(capacity);
    }
    if let Some((amount, currency)) = booth {
        body["booth_cost"] = json!({"amount_minor": amount, "currency": currency});
    }
    body
}

async fn create(app: &TestApp, who: &Account, body: Value) -> Resp {
    app.post("/v1/events")
        .bearer(&who.token)
        .json(body)
        .send()
        .await
}

async fn join(app: &TestApp, who: &Account, id: &str) -> Resp {
    app.post(&format!("/v1/events/{id}/participants"))
        .bearer(&who.token)
        .send()
        .await
}

async fn leave(app: &TestApp, who: &Account, id: &str, artisan: &str, version: &Value) -> Resp {
    app.delete(&format!("/v1/events/{id}/participants/{artisan}"))
        .bearer(&who.token)
        .header("If-Match", &format!("\"{version}\""))
        .send()
        .await
}

/// `(artisan_id, status, arrival)` of every listed participant, walking
/// the pages.
async fn participants(app: &TestApp, who: &Account, id: &str) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    let mut path = format!("/v1/events/{id}/participants?limit=7");
    loop {
        let page = app.get(&path).bearer(&who.token).send().await;
        assert_eq!(page.status, 200, "{}", page.text);
        for p in page.body["data"].as_array().into_iter().flatten() {
            out.push((
                p["artisan_id"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
                p["arrival"].as_i64().unwrap_or_default(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/events/{id}/participants?limit=7&cursor={cursor}"),
            None => return out,
        }
    }
}

fn start_now(app: &TestApp, id: &str) {
    use diesel::prelude::*;
    use persistence::schema::market_events;
    let mut pooled = app.conn();
    let conn: &mut persistence::AnyConnection = &mut pooled;
    diesel::update(market_events::table.find(id))
        .set(market_events::starts_at.eq((Utc::now() - Duration::minutes(5)).naive_utc()))
        .execute(conn)
        .expect("move start");
}

#[actix_web::test]
async fn organisers_create_edit_and_cancel_events() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let zoe = app.artisan("Zoe").await;
    let pid = partnership(&app, &rosa, &amaru).await;
    let organizer = json!({"partnership_id": pid});

    // Bad input: every problem at once, nothing created.
    let mut bad = event(
        json!({"partnership_id": pid, "collective_id": pid}),
        Some(0),
        Some((-5, "ZZZ")),
    );
    bad["country"] = json!("XX");
    bad["ends_at"] = json!(in_days(29));
    let res = create(&app, &rosa, bad).await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        [
            "organizer",
            "country",
            "ends_at",
            "booth_cost.amount_minor",
            "booth_cost.currency",
            "capacity"
        ]
    );
    let mut past = event(organizer.clone(), None, None);
    past["starts_at"] = json!((Utc::now() - Duration::days(1)).to_rfc3339());
    let res = create(&app, &rosa, past).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["starts_at"]);
    // Someone who cannot see the partnership cannot name it.
    let res = create(&app, &zoe, event(organizer.clone(), None, None)).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["organizer.partnership_id"]);
    let listed = app.get("/v1/events").bearer(&zoe.token).send().await;
    assert_eq!(listed.body["data"], json!([]), "nothing was created");

    let created = create(
        &app,
        &amaru,
        event(organizer.clone(), Some(2), Some((30_000, "PEN"))),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("ETag").as_deref(), Some("\"1\""));
    let id = created.id();
    assert_eq!(created.body["status"], "scheduled");
    assert_eq!(created.body["organizer"], organizer);
    assert_eq!(
        created.body["booth_cost"],
        json!({"amount_minor": 30_000, "currency": "PEN"})
    );
    let outbox =
        persistence::outbox::of_type(&mut app.conn(), domain::webhook::EventType::EventCreated)
            .expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].payload.contains(&id));
    crate::openapi::assert_documented_payload(&outbox[0]);

    // Everyone signed in reads it; only the organiser's parties change it.
    let seen = app
        .get(&format!("/v1/events/{id}"))
        .bearer(&zoe.token)
        .send()
        .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(
        app.get(&format!("/v1/events/{id}")).send().await.status,
        401
    );
    let patch = |who: &Account, version: &str, body: Value| {
        app.patch(&format!("/v1/events/{id}"))
            .bearer(&who.token)
            .header("If-Match", version)
            .json(body)
            .send()
    };
    patch(&zoe, "\"1\"", json!({"city": "Cusco"}))
        .await
        .assert_problem(403, "forbidden");
    // An administrator reads the organiser's figures but does not act for it.
    let admin = app.admin().await;
    patch(&admin, "\"1\"", json!({"city": "Cusco"}))
        .await
        .assert_problem(403, "forbidden");
    let figures = app
        .get(&format!("/v1/events/{id}/cost-shares"))
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(figures.status, 200, "{}", figures.text);
    app.patch(&format!("/v1/events/{id}"))
        .bearer(&rosa.token)
        .json(json!({"city": "Cusco"}))
        .send()
        .await
        .assert_problem(428, "precondition-required");
    patch(&rosa, "\"7\"", json!({"city": "Cusco"}))
        .await
        .assert_problem(412, "precondition-failed");
    let res = patch(&rosa, "\"1\"", json!({"ends_at": in_days(1)})).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["ends_at"]);
    let edited = patch(&rosa, "\"1\"", json!({"city": "Cusco", "booth_cost": null})).await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["city"], "Cusco");
    assert_eq!(edited.body["booth_cost"], Value::Null);
    assert_eq!(edited.body["version"], 2);

    // Cancelling needs a reason, is final, and closes the event to joins.
    let res = patch(&rosa, "\"2\"", json!({"status": "cancelled"})).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["cancel_reason"]);
    let cancelled = patch(
        &rosa,
        "\"2\"",
        json!({"status": "cancelled", "cancel_reason": "Road closed"}),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["cancel_reason"], "Road closed");
    patch(&rosa, "\"3\"", json!({"city": "Lima"}))
        .await
        .assert_problem(409, "conflict");
    join(&app, &zoe, &id).await.assert_problem(409, "conflict");
    join(&app, &zoe, &uuid::Uuid::now_v7().to_string())
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn a_collective_organises_through_its_coordinators() {
    let app = TestApp::spawn().await;
    let amaru = app.artisan("Amaru").await;
    let nayeli = app.artisan("Nayeli").await;
    let collective = app
        .post("/v1/collectives")
        .bearer(&amaru.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "open"}))
        .send()
        .await
        .id();
    let joined = app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&nayeli.token)
        .json(json!({"message": ""}))
        .send()
        .await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    let organizer = json!({"collective_id": collective});
    create(&app, &nayeli, event(organizer.clone(), None, None))
        .await
        .assert_problem(403, "forbidden");
    let created = create(&app, &amaru, event(organizer.clone(), None, None)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let res = create(
        &app,
        &amaru,
        event(json!({"collective_id": uuid::Uuid::now_v7()}), None, None),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["organizer.collective_id"]);
}

#[actix_web::test]
async fn fifty_concurrent_joins_fill_ten_places_and_the_rest_wait_in_arrival_order() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let pid = partnership(&app, &rosa, &amaru).await;
    let id = create(
        &app,
        &rosa,
        event(json!({"partnership_id": pid}), Some(10), None),
    )
    .await
    .id();
    let mut people = Vec::new();
    for i in 0..50 {
        people.push(app.artisan(&format!("Maker {i}")).await);
    }
    let joins = futures_util::future::join_all(people.iter().map(|p| join(&app, p, &id))).await;
    assert!(
        joins.iter().all(|r| r.status == 201),
        "every join is answered 201"
    );
    let seated = joins
        .iter()
        .filter(|r| r.body["status"] == "participating")
        .count();
    assert_eq!(seated, 10);

    let listed = participants(&app, &rosa, &id).await;
    assert_eq!(listed.len(), 50);
    let arrivals: Vec<i64> = listed.iter().map(|p| p.2).collect();
    assert_eq!(
        arrivals,
        (1..=50).collect::<Vec<_>>(),
        "arrivals are numbered without gaps"
    );
    for (i, (_, status, _)) in listed.iter().enumerate() {
        let expected = if i < 10 {
            "participating"
        } else {
            "waitlisted"
        };
        assert_eq!(status, expected, "arrival {}", i + 1);
    }
    // Each join's answer agrees with the list.
    for res in &joins {
        let row = listed
            .iter()
            .find(|p| p.0 == res.body["artisan_id"].as_str().unwrap_or_default())
            .expect("listed");
        assert_eq!(res.body["arrival"], row.2);
        assert_eq!(res.body["status"], row.1.as_str());
    }
    let event = app
        .get(&format!("/v1/events/{id}"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(
        (
            event.body["participants"].clone(),
            event.body["waitlisted"].clone()
        ),
        (json!(10), json!(40))
    );

    // A participant leaving seats the first who waited.
    let first = &listed[0].0;
    let leaver = people.iter().find(|p| &p.id == first).expect("a person");
    let left = leave(&app, leaver, &id, first, &json!(1)).await;
    assert_eq!(left.status, 204, "{}", left.text);
    let after = participants(&app, &rosa, &id).await;
    assert_eq!(after.len(), 49);
    assert_eq!(
        after[9],
        (listed[10].0.clone(), "participating".to_owned(), 11)
    );
    assert_eq!(after[10].1, "waitlisted");
}

#[actix_web::test]
async fn joining_and_leaving_follow_the_rules() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let ana = app.artisan("Ana").await;
    let bo = app.artisan("Bo").await;
    let zoe = app.artisan("Zoe").await;
    let pid = partnership(&app, &rosa, &amaru).await;
    let id = create(
        &app,
        &rosa,
        event(json!({"partnership_id": pid}), Some(1), None),
    )
    .await
    .id();
    let first = join(&app, &ana, &id).await;
    assert_eq!(first.body["status"], "participating", "{}", first.text);
    join(&app, &ana, &id).await.assert_problem(409, "conflict");
    let second = join(&app, &bo, &id).await;
    assert_eq!(second.body["status"], "waitlisted");

    // Only the participant or the organiser removes a participation.
    leave(&app, &zoe, &id, &ana.id, &json!(1))
        .await
        .assert_problem(404, "not-found");
    leave(&app, &ana, &id, &ana.id, &json!(5))
        .await
        .assert_problem(412, "precondition-failed");
    assert_eq!(leave(&app, &rosa, &id, &bo.id, &json!(1)).await.status, 204);
    leave(&app, &bo, &id, &bo.id, &json!(2))
        .await
        .assert_problem(404, "not-found");

    // Leaving and joining again is a new arrival, at the back.
    assert_eq!(leave(&app, &ana, &id, &ana.id, &json!(1)).await.status, 204);
    let bo_again = join(&app, &bo, &id).await;
    assert_eq!(
        bo_again.body["status"], "participating",
        "{}",
        bo_again.text
    );
    let ana_again = join(&app, &ana, &id).await;
    assert_eq!(ana_again.body["status"], "waitlisted");
    assert_eq!(ana_again.body["arrival"], 4);

    // A larger capacity seats the waitlist; a smaller one than those
    // taking part is refused.
    let patch = |version: &str, body: Value| {
        app.patch(&format!("/v1/events/{id}"))
            .bearer(&rosa.token)
            .header("If-Match", version)
            .json(body)
            .send()
    };
    let grown = patch("\"1\"", json!({"capacity": 2})).await;
    assert_eq!(grown.status, 200, "{}", grown.text);
    assert_eq!(
        (
            grown.body["participants"].clone(),
            grown.body["waitlisted"].clone()
        ),
        (json!(2), json!(0))
    );
    let res = patch("\"2\"", json!({"capacity": 1})).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["capacity"]);

    // Once it starts, nobody joins or leaves.
    start_now(&app, &id);
    join(&app, &zoe, &id).await.assert_problem(409, "conflict");
    leave(&app, &bo, &id, &bo.id, &json!(1))
        .await
        .assert_problem(409, "conflict");
}

#[actix_web::test]
async fn the_booth_cost_splits_exactly_by_join_order() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let zoe = app.artisan("Zoe").await;
    let pid = partnership(&app, &rosa, &amaru).await;
    let mut makers = Vec::new();
    for name in ["Ana", "Bo", "Cai", "Dev"] {
        makers.push(app.artisan(name).await);
    }
    for (currency, cost) in [("PEN", 100_000), ("JPY", 10_001), ("BHD", 2)] {
        let id = create(
            &app,
            &rosa,
            event(
                json!({"partnership_id": pid}),
                Some(3),
                Some((cost, currency)),
            ),
        )
        .await
        .id();
        for maker in &makers {
            join(&app, maker, &id).await;
        }
        let path = format!("/v1/events/{id}/cost-shares");
        app.get(&path)
            .bearer(&zoe.token)
            .send()
            .await
            .assert_problem(404, "not-found");
        // The organiser's parties and participants (even one waiting) read it.
        for who in [&amaru, &makers[3]] {
            assert_eq!(app.get(&path).bearer(&who.token).send().await.status, 200);
        }
        let res = app.get(&path).bearer(&makers[0].token).send().await;
        assert_eq!(
            res.body["booth_cost"],
            json!({"amount_minor": cost, "currency": currency})
        );
        let shares: Vec<(String, i64)> = res.body["shares"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["artisan_id"].as_str().unwrap_or_default().to_owned(),
                    s["amount_minor"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        let base = cost / 3;
        let extra = usize::try_from(cost % 3).unwrap_or(0);
        let expected: Vec<(String, i64)> = makers[..3]
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), base + i64::from(i < extra)))
            .collect();
        assert_eq!(shares, expected, "{currency}");
        assert_eq!(shares.iter().map(|s| s.1).sum::<i64>(), cost);
    }
    let free = create(
        &app,
        &rosa,
        event(json!({"partnership_id": pid}), None, None),
    )
    .await
    .id();
    let res = app
        .get(&format!("/v1/events/{free}/cost-shares"))
        .bearer(&amaru.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (res.body["booth_cost"].clone(), res.body["shares"].clone()),
        (Value::Null, json!([]))
    );
}

#[actix_web::test]
async fn events_are_listed_by_start_with_filters() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let zoe = app.artisan("Zoe").await;
    let pid = partnership(&app, &rosa, &amaru).await;
    let organizer = json!({"partnership_id": pid});
    let mut ids = Vec::new();
    for (days, kind, country) in [(40, "fair", "PE"), (10, "pop_up", "MX"), (20, "fair", "PE")] {
        let mut body = event(organizer.clone(), None, None);
        body["starts_at"] = json!(in_days(days));
        body["ends_at"] = json!(in_days(days + 1));
        body["kind"] = json!(kind);
        body["country"] = json!(country);
        ids.push(create(&app, &rosa, body).await.id());
    }
    let list = |query: String| {
        let app = &app;
        let token = zoe.token.clone();
        async move {
            let res = app
                .get(&format!("/v1/events?{query}"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(res.status, 200, "{}", res.text);
            res
        }
    };
    let names = |res: &Resp| -> Vec<String> {
        res.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all = list(String::new()).await;
    assert_eq!(
        names(&all),
        [ids[1].clone(), ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(
        names(&list("country=PE&kind=fair".into()).await),
        [ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(
        names(&list(format!("to={}", urlencode(&in_days(15)))).await),
        [ids[1].clone()]
    );
    assert_eq!(
        names(&list(format!("organizer_partnership_id={pid}")).await).len(),
        3
    );
    assert_eq!(
        names(&list(format!("organizer_collective_id={pid}")).await).len(),
        0
    );
    let first = list("limit=2".into()).await;
    assert_eq!(names(&first), [ids[1].clone(), ids[2].clone()]);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = list(format!("limit=2&cursor={cursor}")).await;
    assert_eq!(names(&second), [ids[0].clone()]);
    assert_eq!(second.body["next_cursor"], Value::Null);
    app.get("/v1/events?kind=bazaar")
        .bearer(&zoe.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
    app.get("/v1/events?country=XX")
        .bearer(&zoe.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[actix_web::test]
async fn closing_an_account_gives_its_place_to_the_first_waiting() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let ana = app.artisan("Ana").await;
    let bo = app.artisan("Bo").await;
    let pid = partnership(&app, &rosa, &amaru).await;
    let id = create(
        &app,
        &rosa,
        event(json!({"partnership_id": pid}), Some(1), None),
    )
    .await
    .id();
    join(&app, &ana, &id).await;
    assert_eq!(join(&app, &bo, &id).await.body["status"], "waitlisted");
    let me = app.get("/v1/me").bearer(&ana.token).send().await;
    let closed = app
        .delete("/v1/me")
        .bearer(&ana.token)
        .header("If-Match", &me.header("etag").expect("etag"))
        .send()
        .await;
    assert_eq!(closed.status, 204, "{}", closed.text);
    let listed = participants(&app, &rosa, &id).await;
    assert_eq!(listed, [(bo.id.clone(), "participating".to_owned(), 2)]);
}
