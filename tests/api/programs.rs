//! Partner programs: an organization publishes, edits and closes; eligible
//! artisans apply once inside the window; the organization decides and
//! never fills more seats than there are, however many decisions race.

use chrono::{Duration, Utc};
use domain::webhook::EventType;
use serde_json::{json, Value};

use crate::support::{Account, ArtisanBuilder, Resp, TestApp};

fn program(seats: Option<i64>) -> Value {
    let today = Utc::now().date_naive();
    json!({"title": "Market access: Lima craft fair", "kind": "market_access",
           "description": "A stand at the fair, travel paid.",
           "eligibility": {"countries": ["PE", "BO"], "crafts": ["weaving"]},
           "opens_on": (today - Duration::days(1)).to_string(),
           "closes_on": (today + Duration::days(30)).to_string(),
           "seats": seats})
}

async fn weaver(app: &TestApp, name: &str, country: &str) -> Account {
    ArtisanBuilder::new(name)
        .set("crafts", json!(["weaving"]))
        .set("country", json!(country))
        .build(app)
        .await
}

async fn publish(app: &TestApp, key: &str, body: Value) -> Resp {
    app.post("/v1/programs")
        .api_key(key)
        .json(body)
        .send()
        .await
}

async fn apply(app: &TestApp, who: &Account, id: &str) -> Resp {
    app.post(&format!("/v1/programs/{id}/applications"))
        .bearer(&who.token)
        .json(json!({"statement": "I weave chumpi belts and would love a stand."}))
        .send()
        .await
}

fn ids(res: &Resp) -> Vec<String> {
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn organizations_publish_and_eligible_artisans_apply_once() {
    let app = TestApp::spawn().await;
    let (_, key) = app.partner("Aid to Artisans", &["programs:write"]).await;
    let (_, other_key) = app.partner("Other Fund", &["programs:write"]).await;
    let rosa = weaver(&app, "Rosa", "PE").await;
    let kwame = weaver(&app, "Kwame", "GH").await;

    // Publishing needs the scope; bad input names each field.
    let directory_key = app.partner_key(&["directory:read"]).await;
    publish(&app, &directory_key, program(None))
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/programs")
        .bearer(&rosa.token)
        .json(program(None))
        .send()
        .await
        .assert_problem(403, "forbidden");
    let mut bad = program(Some(0));
    bad["title"] = json!("");
    bad["eligibility"]["countries"] = json!(["Peru"]);
    bad["closes_on"] = json!("2000-01-01");
    let res = publish(&app, &key, bad).await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        ["title", "eligibility.countries[0]", "closes_on", "seats"]
    );
    let created = publish(&app, &key, program(Some(2))).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/programs/{id}"))
    );

    // Artisans see the open programs they are eligible for.
    let listed = |who: &Account| app.get("/v1/programs").bearer(&who.token).send();
    assert_eq!(ids(&listed(&rosa).await), std::slice::from_ref(&id));
    assert!(ids(&listed(&kwame).await).is_empty());
    let own = app.get("/v1/programs").api_key(&key).send().await;
    assert_eq!(ids(&own), std::slice::from_ref(&id));
    assert!(ids(&app.get("/v1/programs").api_key(&other_key).send().await).is_empty());
    app.get(&format!("/v1/programs/{id}"))
        .api_key(&other_key)
        .send()
        .await
        .assert_problem(404, "not-found");

    // Apply once; not eligible → 422.
    let applied = apply(&app, &rosa, &id).await;
    assert_eq!(applied.status, 201, "{}", applied.text);
    apply(&app, &rosa, &id)
        .await
        .assert_problem(409, "conflict");
    let refused = apply(&app, &kwame, &id).await;
    refused.assert_problem(422, "validation");
    assert_eq!(refused.error_fields(), ["eligibility"]);
    let created_events =
        persistence::outbox::of_type(&mut app.conn(), EventType::ProgramApplicationCreated)
            .expect("outbox");
    assert_eq!(created_events.len(), 1);
    crate::openapi::assert_documented_payload(&created_events[0]);
    assert!(created_events[0].payload.contains(&applied.id()));

    // Not open yet → 422 naming opens_on.
    let mut later = program(None);
    later["opens_on"] = json!((Utc::now().date_naive() + Duration::days(3)).to_string());
    let later = publish(&app, &key, later).await.id();
    let res = apply(&app, &rosa, &later).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["opens_on"]);

    // The organization reads and decides; another organization cannot.
    let path = format!("/v1/programs/{id}/applications");
    app.get(&path)
        .api_key(&other_key)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get(&path)
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let pending = app
        .get(&format!("{path}?status=pending"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(ids(&pending), [applied.id()]);
    // An application is decided through its own program only.
    app.post(&format!(
        "/v1/programs/{later}/applications/{}/decision",
        applied.id()
    ))
    .api_key(&key)
    .json(json!({"decision": "accept", "note": "Welcome"}))
    .send()
    .await
    .assert_problem(404, "not-found");
    let decision = format!("{path}/{}/decision", applied.id());
    let decide = |key: &str, body: Value| app.post(&decision).api_key(key).json(body).send();
    decide(&other_key, json!({"decision": "accept", "note": "Welcome"}))
        .await
        .assert_problem(404, "not-found");
    let res = decide(&key, json!({"decision": "accept", "note": " "})).await;
    res.assert_problem(422, "validation");
    let accepted = decide(
        &key,
        json!({"decision": "accept", "note": "Welcome to the fair"}),
    )
    .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "accepted");
    decide(
        &key,
        json!({"decision": "reject", "note": "Changed our mind"}),
    )
    .await
    .assert_problem(409, "conflict");
    let inbox = app
        .get("/v1/me/notifications")
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(inbox.body["data"][0]["kind"], "program.application_decided");

    // The artisan follows and withdraws; nobody else can.
    let mine = app
        .get("/v1/me/applications")
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(
        mine.body["data"][0]["program_title"],
        "Market access: Lima craft fair"
    );
    let withdraw = |who: &Account| {
        app.post(&format!("/v1/me/applications/{}/withdraw", applied.id()))
            .bearer(&who.token)
            .send()
    };
    withdraw(&kwame).await.assert_problem(404, "not-found");
    let withdrawn = withdraw(&rosa).await;
    assert_eq!(withdrawn.body["status"], "withdrawn", "{}", withdrawn.text);
    withdraw(&rosa).await.assert_problem(409, "conflict");

    // Editing: If-Match; closing is for good; a closed program takes no
    // applications.
    let program_path = format!("/v1/programs/{id}");
    let edit = |key: &str, version: &str, body: Value| {
        app.patch(&program_path)
            .api_key(key)
            .header("If-Match", version)
            .json(body)
            .send()
    };
    app.patch(&program_path)
        .api_key(&key)
        .json(json!({"status": "closed"}))
        .send()
        .await
        .assert_problem(428, "precondition-required");
    edit(&key, "\"9\"", json!({"status": "closed"}))
        .await
        .assert_problem(412, "precondition-failed");
    edit(&other_key, "\"1\"", json!({"status": "closed"}))
        .await
        .assert_problem(404, "not-found");
    let closed = edit(
        &key,
        "\"1\"",
        json!({"status": "closed", "eligibility": {"countries": []}}),
    )
    .await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(closed.body["eligibility"]["countries"], json!([]));
    edit(&key, "\"2\"", json!({"status": "open"}))
        .await
        .assert_problem(409, "conflict");
    let late = weaver(&app, "Late", "PE").await;
    apply(&app, &late, &id)
        .await
        .assert_problem(409, "conflict");
}

/// Ten concurrent acceptances for three seats: exactly three succeed.
#[actix_web::test]
async fn seats_are_never_over_filled_by_concurrent_decisions() {
    let app = TestApp::spawn().await;
    let (_, key) = app.partner("Aid to Artisans", &["programs:write"]).await;
    let id = publish(&app, &key, program(Some(3))).await.id();
    let mut applications = Vec::new();
    for n in 0..10 {
        let who = weaver(&app, &format!("Weaver {n}"), "PE").await;
        let res = apply(&app, &who, &id).await;
        assert_eq!(res.status, 201, "{}", res.text);
        applications.push(res.id());
    }
    let paths: Vec<String> = applications
        .iter()
        .map(|a| format!("/v1/programs/{id}/applications/{a}/decision"))
        .collect();
    let decisions = futures_util::future::join_all(paths.iter().map(|path| {
        app.post(path)
            .api_key(&key)
            .json(json!({"decision": "accept", "note": "Welcome"}))
            .send()
    }))
    .await;
    assert_eq!(decisions.iter().filter(|r| r.status == 200).count(), 3);
    for refused in decisions.iter().filter(|r| r.status != 200) {
        refused.assert_problem(409, "conflict");
    }
    let accepted = app
        .get(&format!("/v1/programs/{id}/applications?status=accepted"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(ids(&accepted).len(), 3);
    // Fewer seats than accepted: refused.
    let res = app
        .patch(&format!("/v1/programs/{id}"))
        .api_key(&key)
        .header("If-Match", "\"1\"")
        .json(json!({"seats": 2}))
        .send()
        .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["seats"]);
}
