//! Skill exchange: matching, swaps and mentorships, sessions and the time
//! ledger, reviews, and who may do what.

use serde_json::{json, Value};

use crate::support::{Account, ArtisanBuilder, Resp, TestApp};

pub(crate) async fn artisan(
    app: &TestApp,
    name: &str,
    country: &str,
    offers: &[&str],
    wants: &[&str],
) -> Account {
    ArtisanBuilder::new(name)
        .set("country", json!(country))
        .set("skills_offered", json!(offers))
        .set("skills_wanted", json!(wants))
        .build(app)
        .await
}

pub(crate) fn names(res: &Resp) -> Vec<String> {
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["artisan"]["display_name"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn matches_rank_by_overlap_then_country_then_id() {
    let app = TestApp::spawn().await;
    let me = artisan(
        &app,
        "Me",
        "PE",
        &["photography", "pottery"],
        &["weaving", "natural-dyeing"],
    )
    .await;
    artisan(
        &app,
        "Ama",
        "GH",
        &["weaving", "natural-dyeing"],
        &["photography"],
    )
    .await;
    artisan(&app, "Beto", "PE", &["weaving"], &["pottery"]).await;
    artisan(&app, "Chen", "CN", &["weaving"], &["photography"]).await;
    artisan(&app, "Dina", "GH", &["weaving"], &["carving"]).await;
    artisan(&app, "Emre", "TR", &["carving"], &["photography"]).await;

    let reciprocal = app.get("/v1/skill-matches").bearer(&me.token).send().await;
    assert_eq!(reciprocal.status, 200, "{}", reciprocal.text);
    assert_eq!(names(&reciprocal), ["Ama", "Beto", "Chen"]);
    let first = &reciprocal.body["data"][0];
    assert_eq!(first["they_teach"], json!(["natural-dyeing", "weaving"]));
    assert_eq!(first["you_teach"], json!(["photography"]));
    assert_eq!(first["score"], 3);
    assert_eq!(reciprocal.body["data"][1]["score"], 2);

    let learn = app
        .get("/v1/skill-matches?mode=learn")
        .bearer(&me.token)
        .send()
        .await;
    let learned = names(&learn);
    assert_eq!(
        learned[..2],
        ["Ama", "Beto"],
        "more overlap, then same country"
    );
    assert_eq!(learned.len(), 4);
    assert!(learned.contains(&"Dina".to_owned()) && !learned.contains(&"Emre".to_owned()));

    // A walk one by one gives the same order, without repeats or gaps.
    let mut walked = Vec::new();
    let mut path = "/v1/skill-matches?mode=learn&limit=1".to_owned();
    loop {
        let page = app.get(&path).bearer(&me.token).send().await;
        walked.extend(names(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                assert!(page.header("link").is_some());
                path = format!("/v1/skill-matches?mode=learn&limit=1&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(walked, learned);

    // A cursor belongs to its mode.
    let page = app
        .get("/v1/skill-matches?limit=1")
        .bearer(&me.token)
        .send()
        .await;
    let cursor = page.body["next_cursor"].as_str().expect("cursor");
    app.get(&format!("/v1/skill-matches?mode=learn&cursor={cursor}"))
        .bearer(&me.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
    app.get("/v1/skill-matches?mode=teach")
        .bearer(&me.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
    app.get("/v1/skill-matches")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

async fn propose(app: &TestApp, from: &Account, to: &Account, body: Value) -> Resp {
    let mut body = body;
    body["partner_id"] = json!(to.id);
    app.post("/v1/exchanges")
        .bearer(&from.token)
        .json(body)
        .send()
        .await
}

fn swap() -> Value {
    json!({"kind": "swap", "i_teach": ["weaving"], "they_teach": ["photography"],
           "message": "Weaving for photography?", "proposed_hours": 4})
}

async fn act(app: &TestApp, who: &Account, id: &str, verb: &str) -> Resp {
    app.post(&format!("/v1/exchanges/{id}/{verb}"))
        .bearer(&who.token)
        .send()
        .await
}

async fn session(app: &TestApp, who: &Account, id: &str, body: Value) -> Resp {
    app.post(&format!("/v1/exchanges/{id}/sessions"))
        .bearer(&who.token)
        .json(body)
        .send()
        .await
}

async fn balance(app: &TestApp, who: &Account) -> f64 {
    let res = app
        .get("/v1/me/time-ledger")
        .bearer(&who.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["balance_hours"].as_f64().expect("balance")
}

#[actix_web::test]
async fn a_swap_moves_confirmed_hours_and_ends_in_reviews() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let created = propose(&app, &rosa, &kwame, swap()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/exchanges/{id}"))
    );
    assert_eq!(created.body["status"], "proposed");
    assert_eq!(created.body["proposed_hours"], 4.0);
    assert_eq!(created.body["proposer_teaches"], json!(["weaving"]));

    // No sessions before it is accepted.
    let early = session(
        &app,
        &rosa,
        &id,
        json!({"taught_by": rosa.id, "skill": "weaving", "hours": 1, "held_on": "2026-11-01"}),
    )
    .await;
    early.assert_problem(409, "conflict");
    assert_eq!(
        act(&app, &kwame, &id, "accept").await.body["status"],
        "accepted"
    );

    let taught = session(
        &app,
        &rosa,
        &id,
        json!({"taught_by": rosa.id, "skill": "weaving", "hours": 1.5, "held_on": "2026-11-01"}),
    )
    .await;
    assert_eq!(taught.status, 201, "{}", taught.text);
    assert_eq!(taught.body["status"], "pending");
    assert_eq!(taught.body["learner_id"], kwame.id.as_str());
    let sid = taught.id();
    assert_eq!(
        balance(&app, &rosa).await,
        0.0,
        "pending sessions move nothing"
    );
    let confirm = |who: &Account, sid: &str| {
        app.post(&format!("/v1/exchanges/{id}/sessions/{sid}/confirm"))
            .bearer(&who.token)
            .send()
    };
    confirm(&rosa, &sid).await.assert_problem(403, "forbidden");
    let confirmed = confirm(&kwame, &sid).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.body["status"], "confirmed");
    confirm(&kwame, &sid).await.assert_problem(409, "conflict");
    assert_eq!(balance(&app, &rosa).await, 1.5);
    assert_eq!(balance(&app, &kwame).await, -1.5);

    // Rosa records what Kwame taught her; Kwame confirms it.
    let back = session(&app, &rosa, &id, json!({"taught_by": kwame.id, "skill": "photography", "hours": 0.75, "held_on": "2026-11-02"})).await;
    assert_eq!(back.status, 201, "{}", back.text);
    assert_eq!(confirm(&kwame, &back.id()).await.status, 200);
    assert_eq!(balance(&app, &rosa).await, 0.75);
    assert_eq!(balance(&app, &kwame).await, -0.75);
    let ledger = app
        .get("/v1/me/time-ledger")
        .bearer(&kwame.token)
        .send()
        .await;
    let hours: Vec<f64> = ledger.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["hours"].as_f64())
        .collect();
    assert_eq!(hours, [0.75, -1.5], "newest first");
    assert_eq!(ledger.body["data"][1]["counterparty_id"], rosa.id.as_str());
    assert_eq!(ledger.body["data"][1]["session_id"], sid.as_str());

    // Bad sessions change nothing.
    for (body, field) in [
        (
            json!({"taught_by": rosa.id, "skill": "weaving", "hours": 0.3, "held_on": "2026-11-01"}),
            "hours",
        ),
        (
            json!({"taught_by": rosa.id, "skill": "weaving", "hours": 8.25, "held_on": "2026-11-01"}),
            "hours",
        ),
        (
            json!({"taught_by": rosa.id, "skill": "weaving", "hours": 1, "held_on": "2999-01-01"}),
            "held_on",
        ),
        (
            json!({"taught_by": rosa.id, "skill": "photography", "hours": 1, "held_on": "2026-11-01"}),
            "skill",
        ),
        (
            json!({"taught_by": uuid::Uuid::now_v7(), "skill": "weaving", "hours": 1, "held_on": "2026-11-01"}),
            "taught_by",
        ),
    ] {
        let res = session(&app, &kwame, &id, body).await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), [field]);
    }
    session(
        &app,
        &kwame,
        &id,
        json!({"taught_by": rosa.id, "skill": "weaving", "hours": "1", "held_on": "2026-11-01"}),
    )
    .await
    .assert_problem(400, "bad-request");
    let now = app
        .get(&format!("/v1/exchanges/{id}"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(now.body["sessions"].as_array().map(Vec::len), Some(2));

    // Reviews wait for completion, then one per party.
    let review = |who: &Account, rating: i64| {
        app.post(&format!("/v1/exchanges/{id}/reviews"))
            .bearer(&who.token)
            .json(json!({"rating": rating, "comment": "Patient and generous"}))
            .send()
    };
    review(&rosa, 5).await.assert_problem(409, "conflict");
    assert_eq!(
        act(&app, &rosa, &id, "complete").await.body["status"],
        "completed"
    );
    act(&app, &kwame, &id, "cancel")
        .await
        .assert_problem(409, "conflict");
    session(
        &app,
        &rosa,
        &id,
        json!({"taught_by": rosa.id, "skill": "weaving", "hours": 1, "held_on": "2026-11-03"}),
    )
    .await
    .assert_problem(409, "conflict");
    review(&rosa, 6).await.assert_problem(422, "validation");
    let reviewed = review(&rosa, 5).await;
    assert_eq!(reviewed.status, 201, "{}", reviewed.text);
    assert_eq!(
        reviewed.header("location"),
        Some(format!("/v1/artisans/{}/reviews", kwame.id))
    );
    review(&rosa, 4).await.assert_problem(409, "conflict");
    assert_eq!(review(&kwame, 4).await.status, 201);
    let profile = app
        .get(&format!("/v1/artisans/{}", kwame.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(profile.body["rating"]["count"], 1);
    assert_eq!(profile.body["rating"]["average"], 5.0);
    let reviews = app
        .get(&format!("/v1/artisans/{}/reviews", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(reviews.body["data"][0]["rating"], 4);
}

#[actix_web::test]
async fn only_the_right_party_moves_an_exchange() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mallory = app.artisan("Mallory").await;
    let id = propose(&app, &rosa, &kwame, swap()).await.id();

    // Outsiders: the exchange does not exist.
    for verb in ["accept", "decline", "complete", "cancel"] {
        act(&app, &mallory, &id, verb)
            .await
            .assert_problem(404, "not-found");
    }
    app.get(&format!("/v1/exchanges/{id}"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    session(
        &app,
        &mallory,
        &id,
        json!({"taught_by": rosa.id, "skill": "weaving", "hours": 1, "held_on": "2026-11-01"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.post(&format!(
        "/v1/exchanges/{id}/sessions/{}/confirm",
        uuid::Uuid::now_v7()
    ))
    .bearer(&mallory.token)
    .send()
    .await
    .assert_problem(404, "not-found");
    app.post(&format!("/v1/exchanges/{id}/reviews"))
        .bearer(&mallory.token)
        .json(json!({"rating": 1, "comment": "never met"}))
        .send()
        .await
        .assert_problem(404, "not-found");
    let theirs = app.get("/v1/exchanges").bearer(&mallory.token).send().await;
    assert_eq!(theirs.body["data"], json!([]));
    let mine = app
        .get("/v1/exchanges?status=proposed")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(mine.body["data"][0]["id"], id.as_str());

    // Parties, in their roles.
    act(&app, &rosa, &id, "accept")
        .await
        .assert_problem(403, "forbidden");
    act(&app, &kwame, &id, "cancel")
        .await
        .assert_problem(403, "forbidden");
    act(&app, &kwame, &id, "complete")
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        act(&app, &kwame, &id, "decline").await.body["status"],
        "declined"
    );
    act(&app, &kwame, &id, "accept")
        .await
        .assert_problem(409, "conflict");
    act(&app, &rosa, &id, "cancel")
        .await
        .assert_problem(409, "conflict");

    // A proposal withdrawn by its proposer.
    let other = propose(&app, &rosa, &kwame, swap()).await.id();
    assert_eq!(
        act(&app, &rosa, &other, "cancel").await.body["status"],
        "cancelled"
    );

    // Proposals that break a rule.
    let bad = propose(&app, &rosa, &kwame, json!({"kind": "mentorship", "i_teach": ["weaving"], "they_teach": ["photography"], "proposed_hours": 2})).await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.error_fields(), ["i_teach"]);
    let mentorship = propose(
        &app,
        &rosa,
        &kwame,
        json!({"kind": "mentorship", "they_teach": ["photography"], "proposed_hours": 10}),
    )
    .await;
    assert_eq!(mentorship.status, 201, "{}", mentorship.text);
    assert_eq!(mentorship.body["proposer_teaches"], json!([]));
    let own = propose(&app, &rosa, &rosa, swap()).await;
    own.assert_problem(422, "validation");
    assert_eq!(own.error_fields(), ["partner_id"]);
    let mut nobody = swap();
    nobody["partner_id"] = json!(uuid::Uuid::now_v7());
    let res = app
        .post("/v1/exchanges")
        .bearer(&rosa.token)
        .json(nobody)
        .send()
        .await;
    res.assert_problem(422, "validation");
    let mut quarter = swap();
    quarter["proposed_hours"] = json!(1.1);
    let res = propose(&app, &rosa, &kwame, quarter).await;
    assert_eq!(res.error_fields(), ["proposed_hours"]);
}

/// Random exchanges and sessions, confirmations racing each other: the
/// ledger stays double-entry, so the platform's balances sum to zero.
#[actix_web::test]
async fn the_platform_ledger_always_sums_to_zero() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for name in ["Ana", "Bo", "Cai", "Dev", "Eli"] {
        people.push(app.artisan(name).await);
    }
    let mut state: u64 = 2026;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        usize::try_from(state >> 33).unwrap_or(0) % n
    };
    let mut pending = Vec::new();
    for _ in 0..8 {
        let a = next(people.len());
        let b = (a + 1 + next(people.len() - 1)) % people.len();
        let (x, y) = (&people[a], &people[b]);
        let id = propose(&app, x, y, swap()).await.id();
        assert_eq!(act(&app, y, &id, "accept").await.status, 200);
        for _ in 0..3 {
            let (teacher, skill) = if next(2) == 0 {
                (x, "weaving")
            } else {
                (y, "photography")
            };
            let hours = (1 + next(32)) as f64 / 4.0;
            let res = session(&app, x, &id, json!({"taught_by": teacher.id, "skill": skill, "hours": hours, "held_on": "2026-11-01"})).await;
            assert_eq!(res.status, 201, "{}", res.text);
            pending.push((id.clone(), res.id(), y.clone()));
        }
    }
    // Confirm everything, two at a time, one of each pair twice.
    let confirm = |id: String, sid: String, who: Account| {
        let app = &app;
        async move {
            app.post(&format!("/v1/exchanges/{id}/sessions/{sid}/confirm"))
                .bearer(&who.token)
                .send()
                .await
                .status
        }
    };
    for (id, sid, who) in &pending {
        let (a, b) = futures_util::future::join(
            confirm(id.clone(), sid.clone(), who.clone()),
            confirm(id.clone(), sid.clone(), who.clone()),
        )
        .await;
        let mut statuses = [a, b];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409]);
    }
    let mut total = 0.0;
    for who in &people {
        total += balance(&app, who).await;
    }
    assert_eq!(total, 0.0);
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        entries: i64,
    }
    let mut pooled = app.conn();
    let conn: &mut persistence::AnyConnection = &mut pooled;
    let sum = diesel::sql_query(
        "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS total, CAST(COUNT(*) AS BIGINT) AS entries FROM time_ledger",
    )
    .get_result::<Sum>(conn)
    .expect("sum");
    assert_eq!(sum.total, 0);
    assert_eq!(sum.entries, 2 * i64::try_from(pending.len()).unwrap_or(0));
}
