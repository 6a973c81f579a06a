//! Partnerships: parties, invitations, activation, visibility, edits,
//! endings and leaving.

use serde_json::{json, Value};

use crate::support::{Account, Resp, TestApp};

async fn create(app: &TestApp, who: &Account, invitees: Value) -> Resp {
    let res = app
        .post("/v1/partnerships")
        .bearer(&who.token)
        .json(
            json!({"title": "Andes to Accra", "kind": "co_branded_collection",
                     "description": "A textile line", "shared_goals": ["Share a booth", "Co-brand"],
                     "invitees": invitees}),
        )
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

async fn answer(app: &TestApp, who: &Account, id: &str, party: &str, verb: &str) -> Resp {
    app.post(&format!("/v1/partnerships/{id}/invitations/{party}/{verb}"))
        .bearer(&who.token)
        .send()
        .await
}

#[actix_web::test]
async fn invitations_make_a_partnership_active() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;
    let res = create(
        &app,
        &rosa,
        json!([{"artisan_id": kwame.id}, {"artisan_id": mei.id}]),
    )
    .await;
    let id = res.id();
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/partnerships/{id}"))
    );
    assert_eq!(res.body["status"], "forming");
    assert_eq!(
        res.party_field("artisan_id", &rosa.id, "status")
            .unwrap_or_default(),
        "accepted"
    );
    assert_eq!(
        res.party_field("artisan_id", &kwame.id, "status")
            .unwrap_or_default(),
        "invited"
    );
    assert_eq!(res.body["parties"][1]["display_name"], "Kwame");
    let kwame_party = res.party("artisan_id", &kwame.id);
    let mei_party = res.party("artisan_id", &mei.id);

    // Only the invited artisan answers for themself.
    answer(&app, &mei, &id, &kwame_party, "accept")
        .await
        .assert_problem(403, "forbidden");
    let accepted = answer(&app, &kwame, &id, &kwame_party, "accept").await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "active", "two accepted parties");
    answer(&app, &kwame, &id, &kwame_party, "decline")
        .await
        .assert_problem(409, "conflict");
    let declined = answer(&app, &mei, &id, &mei_party, "decline").await;
    assert_eq!(
        declined
            .party_field("artisan_id", &mei.id, "status")
            .unwrap_or_default(),
        "declined"
    );
    assert_eq!(declined.body["status"], "active");
}

#[actix_web::test]
async fn only_parties_see_a_partnership() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mallory = app.artisan("Mallory").await;
    let id = create(&app, &rosa, json!([{"artisan_id": kwame.id}]))
        .await
        .id();
    assert_eq!(
        app.get(&format!("/v1/partnerships/{id}"))
            .bearer(&kwame.token)
            .send()
            .await
            .status,
        200,
        "invitees see it"
    );
    app.get(&format!("/v1/partnerships/{id}"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.patch(&format!("/v1/partnerships/{id}"))
        .bearer(&mallory.token)
        .header("If-Match", "\"1\"")
        .json(json!({"title": "Mine"}))
        .send()
        .await
        .assert_problem(404, "not-found");
    app.post(&format!("/v1/partnerships/{id}/parties"))
        .bearer(&mallory.token)
        .json(json!({"artisan_id": mallory.id}))
        .send()
        .await
        .assert_problem(404, "not-found");
    let theirs = app
        .get("/v1/partnerships")
        .bearer(&mallory.token)
        .send()
        .await;
    assert_eq!(theirs.body["data"], json!([]));
    let mine = app.get("/v1/partnerships").bearer(&rosa.token).send().await;
    assert_eq!(mine.body["data"][0]["id"], id.as_str());
    let admin = app.admin().await;
    assert_eq!(
        app.get(&format!("/v1/partnerships/{id}"))
            .bearer(&admin.token)
            .send()
            .await
            .status,
        200
    );
    app.get(&format!("/v1/partnerships/{id}"))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let now = app
        .get(&format!("/v1/partnerships/{id}"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["title"], "Andes to Accra");
    assert_eq!(now.body["parties"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_collective_party_answers_through_a_coordinator() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let coordinator = app.artisan("Amaru").await;
    let member = app.artisan("Nayeli").await;
    let collective = app
        .post("/v1/collectives")
        .bearer(&coordinator.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "open"}))
        .send()
        .await
        .id();
    app.post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&member.token)
        .json(json!({"message": ""}))
        .send()
        .await;
    let res = create(&app, &rosa, json!([{"collective_id": collective}])).await;
    let id = res.id();
    let party = res.party("collective_id", &collective);
    assert_eq!(res.body["parties"][1]["display_name"], "Puno Weavers");
    // While the collective is only invited, its coordinators read the
    // partnership (to decide) and plain members do not; only a coordinator
    // answers.
    assert_eq!(
        app.get(&format!("/v1/partnerships/{id}"))
            .bearer(&coordinator.token)
            .send()
            .await
            .status,
        200
    );
    app.get(&format!("/v1/partnerships/{id}"))
        .bearer(&member.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    answer(&app, &member, &id, &party, "accept")
        .await
        .assert_problem(404, "not-found");
    let accepted = answer(&app, &coordinator, &id, &party, "accept").await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "active");
    // Once the collective has accepted, its members read the partnership
    // and may look, not act.
    assert_eq!(
        app.get(&format!("/v1/partnerships/{id}"))
            .bearer(&member.token)
            .send()
            .await
            .status,
        200
    );
    app.post(&format!("/v1/partnerships/{id}/parties"))
        .bearer(&member.token)
        .json(json!({"artisan_id": member.id}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    let listed = app
        .get("/v1/partnerships?status=active")
        .bearer(&member.token)
        .send()
        .await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
}

#[actix_web::test]
async fn accepted_parties_add_parties_and_ids_are_checked() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;
    let res = create(&app, &rosa, json!([{"artisan_id": kwame.id}])).await;
    let id = res.id();
    let add = |who: &Account, body: Value| {
        app.post(&format!("/v1/partnerships/{id}/parties"))
            .bearer(&who.token)
            .json(body)
            .send()
    };
    // An invited (not yet accepted) party cannot add others.
    add(&kwame, json!({"artisan_id": mei.id}))
        .await
        .assert_problem(403, "forbidden");
    let added = add(&rosa, json!({"artisan_id": mei.id})).await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(
        added
            .party_field("artisan_id", &mei.id, "status")
            .unwrap_or_default(),
        "invited"
    );
    add(&rosa, json!({"artisan_id": mei.id}))
        .await
        .assert_problem(409, "conflict");
    let unknown = add(
        &rosa,
        json!({"artisan_id": "01900000-0000-7000-8000-000000000000"}),
    )
    .await;
    unknown.assert_problem(422, "validation");
    assert_eq!(unknown.error_fields(), ["artisan_id"]);
    let both = add(
        &rosa,
        json!({"artisan_id": mei.id, "collective_id": mei.id}),
    )
    .await;
    // Exactly one of the two ids: anything else does not fit the schema.
    both.assert_problem(400, "bad-request");
    add(&rosa, json!({}))
        .await
        .assert_problem(400, "bad-request");
    let bad = app
        .post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(json!({"title": "", "kind": "co_branded_collection", "invitees": [{"collective_id": "01900000-0000-7000-8000-000000000000"}]}))
        .send()
        .await;
    bad.assert_problem(422, "validation");
    app.post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(json!({"title": "X", "kind": "rivalry"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn edits_endings_and_leaving() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let res = create(&app, &rosa, json!([{"artisan_id": kwame.id}])).await;
    let id = res.id();
    let kwame_party = res.party("artisan_id", &kwame.id);
    let edit = |who: &Account, version: &str, body: Value| {
        app.patch(&format!("/v1/partnerships/{id}"))
            .bearer(&who.token)
            .header("If-Match", version)
            .json(body)
            .send()
    };
    // A forming partnership cannot be completed; an invited party cannot edit.
    edit(&rosa, "\"1\"", json!({"status": "completed"}))
        .await
        .assert_problem(409, "conflict");
    edit(&kwame, "\"1\"", json!({"title": "Mine"}))
        .await
        .assert_problem(403, "forbidden");
    let edited = edit(
        &rosa,
        "\"1\"",
        json!({"title": "Andes to Accra 2027", "shared_goals": ["One booth"]}),
    )
    .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.header("etag").as_deref(), Some("\"2\""));
    edit(&rosa, "\"1\"", json!({"title": "Stale"}))
        .await
        .assert_problem(412, "precondition-failed");
    edit(&rosa, "\"2\"", json!({"shared_goals": ["a", "a"]}))
        .await
        .assert_problem(422, "validation");
    let active = answer(&app, &kwame, &id, &kwame_party, "accept").await;
    assert_eq!(active.body["status"], "active");
    assert_eq!(active.body["version"], 3, "activation is a new version");
    // Kwame leaves; he still sees the history.
    let left = app
        .post(&format!(
            "/v1/partnerships/{id}/parties/{kwame_party}/leave"
        ))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(left.status, 200, "{}", left.text);
    assert_eq!(
        left.party_field("artisan_id", &kwame.id, "status")
            .unwrap_or_default(),
        "left"
    );
    app.post(&format!(
        "/v1/partnerships/{id}/parties/{kwame_party}/leave"
    ))
    .bearer(&kwame.token)
    .send()
    .await
    .assert_problem(409, "conflict");
    let done = edit(&rosa, "\"3\"", json!({"status": "completed"})).await;
    assert_eq!(done.body["status"], "completed");
    edit(&rosa, "\"4\"", json!({"status": "dissolved"}))
        .await
        .assert_problem(409, "conflict");
    let listed = app
        .get("/v1/partnerships?status=completed&kind=co_branded_collection")
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    let none = app
        .get("/v1/partnerships?kind=market_event")
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(none.body["data"], json!([]));
}

#[actix_web::test]
async fn simultaneous_acceptances_are_all_counted() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let mut invitees = Vec::new();
    for i in 0..4 {
        invitees.push(app.artisan(&format!("Guest {i}")).await);
    }
    let list: Vec<Value> = invitees
        .iter()
        .map(|a| json!({"artisan_id": a.id}))
        .collect();
    let res = create(&app, &rosa, json!(list)).await;
    let id = res.id();
    let answers = invitees.iter().map(|a| {
        let party = res.party("artisan_id", &a.id);
        let (app, id) = (&app, id.clone());
        async move { answer(app, a, &id, &party, "accept").await.status }
    });
    let statuses = futures_util::future::join_all(answers).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let now = app
        .get(&format!("/v1/partnerships/{id}"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["status"], "active");
    let accepted = now.body["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["status"] == "accepted")
        .count();
    assert_eq!(accepted, 5);
}
