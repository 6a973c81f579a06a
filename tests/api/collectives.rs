//! Collectives: coordinators, membership policies, applications and
//! decisions, roles, leaving, and the last-coordinator rule.

use serde_json::{json, Value};

use crate::support::{Account, Resp, TestApp};

async fn create(app: &TestApp, who: &Account, policy: &str) -> Resp {
    let res = app
        .post("/v1/collectives")
        .bearer(&who.token)
        .json(
            json!({"name": "Tejedoras de Chinchero", "description": "Backstrap weavers",
                     "crafts": ["weaving", "natural-dyeing"], "country": "PE", "region": "Cusco",
                     "membership_policy": policy}),
        )
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

async fn apply(app: &TestApp, who: &Account, id: &str) -> Resp {
    app.post(&format!("/v1/collectives/{id}/applications"))
        .bearer(&who.token)
        .json(json!({"message": "I weave too"}))
        .send()
        .await
}

async fn members(app: &TestApp, who: &Account, id: &str) -> Vec<(String, String, i64)> {
    let res = app
        .get(&format!("/v1/collectives/{id}/members"))
        .bearer(&who.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["artisan_id"].as_str().unwrap_or_default().to_owned(),
                m["role"].as_str().unwrap_or_default().to_owned(),
                m["version"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn version_of(members: &[(String, String, i64)], id: &str) -> String {
    let v = members
        .iter()
        .find(|m| m.0 == id)
        .map(|m| m.2)
        .expect("member");
    format!("\"{v}\"")
}

#[actix_web::test]
async fn the_creator_coordinates_and_anyone_signed_in_can_look() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let res = create(&app, &rosa, "application").await;
    let id = res.id();
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/collectives/{id}"))
    );
    assert_eq!(res.body["membership_policy"], "application");
    assert_eq!(
        members(&app, &kwame, &id).await,
        [(rosa.id.clone(), "coordinator".to_owned(), 1)]
    );
    let one = app
        .get(&format!("/v1/collectives/{id}"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(one.body["name"], "Tejedoras de Chinchero");
    assert_eq!(one.header("etag").as_deref(), Some("\"1\""));
    app.get(&format!("/v1/collectives/{id}"))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/v1/collectives/01900000-0000-7000-8000-000000000000")
        .bearer(&kwame.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    let bad = app
        .post("/v1/collectives")
        .bearer(&rosa.token)
        .json(json!({"name": " ", "crafts": ["Weaving"], "country": "XX", "membership_policy": "open"}))
        .send()
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.error_fields(), ["name", "crafts[0]", "country"]);
    app.post("/v1/collectives")
        .bearer(&rosa.token)
        .json(json!({"name": "X", "membership_policy": "secret"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn list_filters_by_craft_country_and_text() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let weavers = create(&app, &rosa, "open").await.id();
    let potters = app
        .post("/v1/collectives")
        .bearer(&rosa.token)
        .json(json!({"name": "Oaxaca Clay", "crafts": ["pottery"], "country": "MX", "membership_policy": "open"}))
        .send()
        .await
        .id();
    let ids = |res: &Resp| -> Vec<String> {
        res.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect()
    };
    let q = |query: &str| {
        app.get(&format!("/v1/collectives?{query}"))
            .bearer(&rosa.token)
            .send()
    };
    assert_eq!(ids(&q("").await), [potters.clone(), weavers.clone()]);
    assert_eq!(ids(&q("craft=weaving").await), [weavers.as_str()]);
    assert_eq!(ids(&q("country=MX").await), [potters.as_str()]);
    assert_eq!(ids(&q("q=clay").await), [potters.as_str()]);
    let page = q("limit=1").await;
    let cursor = page.body["next_cursor"].as_str().expect("more").to_owned();
    assert_eq!(
        ids(&q(&format!("limit=1&cursor={cursor}")).await),
        [weavers]
    );
    q("craft=NOT%20A%20SLUG")
        .await
        .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn only_coordinators_edit_with_if_match() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let id = create(&app, &rosa, "open").await.id();
    assert_eq!(apply(&app, &kwame, &id).await.status, 201);
    let edit = |who: &Account, version: &str, body: Value| {
        app.patch(&format!("/v1/collectives/{id}"))
            .bearer(&who.token)
            .header("If-Match", version)
            .json(body)
            .send()
    };
    // A member and an outsider may look but not edit.
    edit(&kwame, "\"1\"", json!({"name": "Mine now"}))
        .await
        .assert_problem(403, "forbidden");
    let outsider = app.artisan("Mallory").await;
    edit(&outsider, "\"1\"", json!({"name": "Mine now"}))
        .await
        .assert_problem(403, "forbidden");
    let res = edit(&rosa, "\"1\"", json!({"description": "Weavers of Chinchero", "region": null, "membership_policy": "invite_only"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.body["region"], Value::Null);
    assert_eq!(res.body["membership_policy"], "invite_only");
    edit(&rosa, "\"1\"", json!({"name": "Stale"}))
        .await
        .assert_problem(412, "precondition-failed");
    edit(&rosa, "\"2\"", json!({"crafts": ["Bad"]}))
        .await
        .assert_problem(422, "validation");
    // A field the change does not have, server-owned or not, is a 400 (only
    // the artisan profile's PATCH answers those with a 422).
    let res = edit(&rosa, "\"2\"", json!({"name": "x", "created_by": kwame.id})).await;
    res.assert_problem(400, "bad-request");
    let detail = res.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("`created_by`"), "{}", res.text);
    let now = app
        .get(&format!("/v1/collectives/{id}"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["name"], "Tejedoras de Chinchero");
    assert_eq!(now.body["version"], 2);
}

#[actix_web::test]
async fn policies_decide_how_artisans_join() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let open = create(&app, &rosa, "open").await.id();
    let res = apply(&app, &kwame, &open).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["status"], "approved");
    assert!(members(&app, &rosa, &open)
        .await
        .iter()
        .any(|m| m.0 == kwame.id && m.1 == "member"));
    apply(&app, &kwame, &open)
        .await
        .assert_problem(409, "conflict");

    // An invite_only collective admits only through invitations (SPEC §4).
    let invite_only = create(&app, &rosa, "invite_only").await.id();
    let refused = apply(&app, &kwame, &invite_only).await;
    refused.assert_problem(422, "validation");
    assert_eq!(refused.error_fields(), ["membership_policy"]);
    app.join_by_invitation(&invite_only, &rosa, &kwame).await;
    assert!(members(&app, &rosa, &invite_only)
        .await
        .iter()
        .any(|m| m.0 == kwame.id && m.1 == "member"));
    // Members are never added without their yes: the old route is gone.
    let mei = app.artisan("Mei").await;
    let gone = app
        .post(&format!("/v1/collectives/{invite_only}/members"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": mei.id}))
        .send()
        .await;
    gone.assert_problem(405, "method-not-allowed");
    assert_eq!(gone.header("allow").as_deref(), Some("GET"));
    apply(&app, &mei, "01900000-0000-7000-8000-000000000000")
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn applications_wait_for_a_coordinators_decision() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;
    let id = create(&app, &rosa, "application").await.id();
    let kwame_app = apply(&app, &kwame, &id).await;
    assert_eq!(kwame_app.body["status"], "pending");
    apply(&app, &kwame, &id)
        .await
        .assert_problem(409, "conflict");
    let mei_app = apply(&app, &mei, &id).await.id();
    assert_eq!(
        members(&app, &rosa, &id).await.len(),
        1,
        "nobody joined yet"
    );

    // Only coordinators see and decide applications.
    app.get(&format!("/v1/collectives/{id}/applications"))
        .bearer(&kwame.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let pending = app
        .get(&format!("/v1/collectives/{id}/applications?status=pending"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(pending.body["data"].as_array().map(Vec::len), Some(2));
    let decide = |who: &Account, aid: &str, body: Value| {
        app.post(&format!("/v1/collectives/{id}/applications/{aid}/decision"))
            .bearer(&who.token)
            .json(body)
            .send()
    };
    decide(&kwame, &mei_app, json!({"decision": "approve"}))
        .await
        .assert_problem(403, "forbidden");
    let no_note = decide(&rosa, &mei_app, json!({"decision": "decline"})).await;
    no_note.assert_problem(422, "validation");
    assert_eq!(no_note.error_fields(), ["note"]);
    let declined = decide(
        &rosa,
        &mei_app,
        json!({"decision": "decline", "note": "We only take weavers"}),
    )
    .await;
    assert_eq!(declined.status, 200, "{}", declined.text);
    assert_eq!(declined.body["status"], "declined");
    assert_eq!(declined.body["decided_by"], rosa.id.as_str());
    decide(&rosa, &mei_app, json!({"decision": "approve"}))
        .await
        .assert_problem(409, "conflict");
    let approved = decide(&rosa, &kwame_app.id(), json!({"decision": "approve"})).await;
    assert_eq!(approved.body["status"], "approved");
    let now = members(&app, &rosa, &id).await;
    assert!(now.iter().any(|m| m.0 == kwame.id));
    assert!(!now.iter().any(|m| m.0 == mei.id));
    // An application id of another collective is not found here.
    let other = create(&app, &rosa, "application").await.id();
    let elsewhere = apply(&app, &mei, &other).await.id();
    decide(&rosa, &elsewhere, json!({"decision": "approve"})).await;
    app.post(&format!(
        "/v1/collectives/{id}/applications/{elsewhere}/decision"
    ))
    .bearer(&rosa.token)
    .json(json!({"decision": "approve"}))
    .send()
    .await
    .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn roles_leaving_and_the_last_coordinator() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let id = create(&app, &rosa, "open").await.id();
    apply(&app, &kwame, &id).await;
    let member_path = |artisan: &str| format!("/v1/collectives/{id}/members/{artisan}");

    // The only coordinator can neither step down nor leave.
    let list = members(&app, &rosa, &id).await;
    app.patch(&member_path(&rosa.id))
        .bearer(&rosa.token)
        .header("If-Match", &version_of(&list, &rosa.id))
        .json(json!({"role": "member"}))
        .send()
        .await
        .assert_problem(409, "conflict");
    app.delete(&member_path(&rosa.id))
        .bearer(&rosa.token)
        .header("If-Match", &version_of(&list, &rosa.id))
        .send()
        .await
        .assert_problem(409, "conflict");
    // A member cannot promote themself.
    app.patch(&member_path(&kwame.id))
        .bearer(&kwame.token)
        .header("If-Match", &version_of(&list, &kwame.id))
        .json(json!({"role": "coordinator"}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    // Promote Kwame; now Rosa may leave.
    let promoted = app
        .patch(&member_path(&kwame.id))
        .bearer(&rosa.token)
        .header("If-Match", &version_of(&list, &kwame.id))
        .json(json!({"role": "coordinator"}))
        .send()
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    assert_eq!(promoted.body["role"], "coordinator");
    assert_eq!(promoted.header("etag").as_deref(), Some("\"2\""));
    app.delete(&member_path(&rosa.id))
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(428, "precondition-required");
    let left = app
        .delete(&member_path(&rosa.id))
        .bearer(&rosa.token)
        .header("If-Match", &version_of(&list, &rosa.id))
        .send()
        .await;
    assert_eq!(left.status, 204, "{}", left.text);
    assert_eq!(
        members(&app, &kwame, &id).await,
        [(kwame.id.clone(), "coordinator".to_owned(), 2)]
    );
    // A former member has no say any more.
    app.patch(&format!("/v1/collectives/{id}"))
        .bearer(&rosa.token)
        .header("If-Match", "\"1\"")
        .json(json!({"name": "Back"}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.delete(&member_path(&kwame.id))
        .bearer(&rosa.token)
        .header("If-Match", "\"2\"")
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn two_coordinators_stepping_down_at_once_leave_one() {
    let app = TestApp::spawn().await;
    for round in 0..5 {
        let rosa = app.artisan(&format!("Rosa {round}")).await;
        let kwame = app.artisan(&format!("Kwame {round}")).await;
        let id = create(&app, &rosa, "open").await.id();
        apply(&app, &kwame, &id).await;
        let list = members(&app, &rosa, &id).await;
        let promoted = app
            .patch(&format!("/v1/collectives/{id}/members/{}", kwame.id))
            .bearer(&rosa.token)
            .header("If-Match", &version_of(&list, &kwame.id))
            .json(json!({"role": "coordinator"}))
            .send()
            .await;
        assert_eq!(promoted.status, 200);
        // Each demotes themself at the same moment.
        let step_down = |who: &Account, version: String| {
            let path = format!("/v1/collectives/{id}/members/{}", who.id);
            let token = who.token.clone();
            let app = &app;
            async move {
                app.patch(&path)
                    .bearer(&token)
                    .header("If-Match", &version)
                    .json(json!({"role": "member"}))
                    .send()
                    .await
                    .status
            }
        };
        let (a, b) = futures_util::future::join(
            step_down(&rosa, "\"1\"".to_owned()),
            step_down(&kwame, "\"2\"".to_owned()),
        )
        .await;
        let mut statuses = [a, b];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}");
        let coordinators = members(&app, &rosa, &id)
            .await
            .iter()
            .filter(|m| m.1 == "coordinator")
            .count();
        assert_eq!(coordinators, 1, "round {round}");
    }
}

/// Nobody becomes a member without saying yes (SPEC §4): coordinators
/// invite, the artisan sees it in their own list and accepts or declines;
/// coordinators list and withdraw; foreign users see nothing.
#[actix_web::test]
async fn invitations_need_the_artisans_yes() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;
    let mallory = app.artisan("Mallory").await;
    let id = create(&app, &rosa, "invite_only").await.id();
    let invite = |who: &Account, artisan: &str| {
        app.post(&format!("/v1/collectives/{id}/invitations"))
            .bearer(&who.token)
            .json(json!({"artisan_id": artisan, "message": "Weave with us"}))
            .send()
    };
    // Only coordinators invite; unknown artisans and bad bodies are 422/400.
    invite(&kwame, &mei.id)
        .await
        .assert_problem(403, "forbidden");
    let unknown = invite(&rosa, "01900000-0000-7000-8000-000000000000").await;
    unknown.assert_problem(422, "validation");
    assert_eq!(unknown.error_fields(), ["artisan_id"]);
    app.post(&format!("/v1/collectives/{id}/invitations"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": "not-a-uuid"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
    invite(&rosa, &rosa.id)
        .await
        .assert_problem(409, "conflict");

    let invited = invite(&rosa, &kwame.id).await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(invited.body["status"], "invited");
    assert_eq!(invited.body["collective_name"], "Tejedoras de Chinchero");
    invite(&rosa, &kwame.id)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(members(&app, &rosa, &id).await.len(), 1, "not a member yet");
    let iid = invited.id();

    // The invitee sees it; others do not; coordinators list it.
    let mine = app
        .get("/v1/me/collective-invitations?status=invited")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(mine.body["data"][0]["id"], iid.as_str());
    let theirs = app
        .get("/v1/me/collective-invitations")
        .bearer(&mallory.token)
        .send()
        .await;
    assert_eq!(theirs.body["data"], json!([]));
    let listed = app
        .get(&format!("/v1/collectives/{id}/invitations"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"][0]["id"], iid.as_str());
    app.get(&format!("/v1/collectives/{id}/invitations"))
        .bearer(&kwame.token)
        .send()
        .await
        .assert_problem(403, "forbidden");

    // Only the invitee answers: coordinators 403, anyone else 404.
    let accept = |who: &Account, iid: &str| {
        app.post(&format!("/v1/collective-invitations/{iid}/accept"))
            .bearer(&who.token)
            .send()
    };
    accept(&rosa, &iid).await.assert_problem(403, "forbidden");
    accept(&mallory, &iid)
        .await
        .assert_problem(404, "not-found");
    accept(&kwame, "01900000-0000-7000-8000-000000000000")
        .await
        .assert_problem(404, "not-found");
    let accepted = accept(&kwame, &iid).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "accepted");
    assert!(members(&app, &rosa, &id)
        .await
        .iter()
        .any(|m| m.0 == kwame.id && m.1 == "member"));
    accept(&kwame, &iid).await.assert_problem(409, "conflict");

    // Declining changes nothing but the invitation.
    let to_mei = invite(&rosa, &mei.id).await.id();
    let declined = app
        .post(&format!("/v1/collective-invitations/{to_mei}/decline"))
        .bearer(&mei.token)
        .send()
        .await;
    assert_eq!(declined.body["status"], "declined");
    assert!(!members(&app, &rosa, &id)
        .await
        .iter()
        .any(|m| m.0 == mei.id));

    // Withdrawing: coordinators, with the invitation's If-Match; the
    // invitee declines instead; a withdrawn invitation cannot be accepted.
    let again = invite(&rosa, &mei.id).await;
    let again_id = again.id();
    let withdraw = |who: &Account, etag: &str| {
        app.delete(&format!("/v1/collective-invitations/{again_id}"))
            .bearer(&who.token)
            .header("If-Match", etag)
            .send()
    };
    withdraw(&mei, "\"1\"")
        .await
        .assert_problem(403, "forbidden");
    withdraw(&mallory, "\"1\"")
        .await
        .assert_problem(404, "not-found");
    withdraw(&rosa, "\"7\"")
        .await
        .assert_problem(412, "precondition-failed");
    app.delete(&format!("/v1/collective-invitations/{again_id}"))
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(428, "precondition-required");
    assert_eq!(withdraw(&rosa, "\"1\"").await.status, 204);
    accept(&mei, &again_id)
        .await
        .assert_problem(409, "conflict");
    withdraw(&rosa, "\"2\"")
        .await
        .assert_problem(409, "conflict");
}

/// Applicants follow their own applications and withdraw pending ones.
#[actix_web::test]
async fn applicants_follow_and_withdraw_their_applications() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mallory = app.artisan("Mallory").await;
    let id = create(&app, &rosa, "application").await.id();
    let applied = apply(&app, &kwame, &id).await;
    assert_eq!(applied.body["version"], 1);
    let aid = applied.id();
    let mine = app
        .get("/v1/me/collective-applications")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(mine.body["data"][0]["id"], aid.as_str());
    assert_eq!(mine.body["data"][0]["status"], "pending");
    let theirs = app
        .get("/v1/me/collective-applications")
        .bearer(&mallory.token)
        .send()
        .await;
    assert_eq!(theirs.body["data"], json!([]));
    let withdraw = |who: &Account, etag: &str| {
        app.delete(&format!("/v1/collective-applications/{aid}"))
            .bearer(&who.token)
            .header("If-Match", etag)
            .send()
    };
    withdraw(&mallory, "\"1\"")
        .await
        .assert_problem(404, "not-found");
    withdraw(&rosa, "\"1\"")
        .await
        .assert_problem(404, "not-found");
    withdraw(&kwame, "\"2\"")
        .await
        .assert_problem(412, "precondition-failed");
    assert_eq!(withdraw(&kwame, "\"1\"").await.status, 204);
    let after = app
        .get("/v1/me/collective-applications?status=withdrawn")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(after.body["data"][0]["version"], 2);
    withdraw(&kwame, "\"2\"")
        .await
        .assert_problem(409, "conflict");
    // A coordinator cannot decide a withdrawn application; the applicant
    // may apply again.
    app.post(&format!("/v1/collectives/{id}/applications/{aid}/decision"))
        .bearer(&rosa.token)
        .json(json!({"decision": "approve"}))
        .send()
        .await
        .assert_problem(409, "conflict");
    let again = apply(&app, &kwame, &id).await;
    assert_eq!(again.status, 201, "{}", again.text);
    // A decided application shows its note to the applicant.
    app.post(&format!(
        "/v1/collectives/{id}/applications/{}/decision",
        again.id()
    ))
    .bearer(&rosa.token)
    .json(json!({"decision": "decline", "note": "We are full this season"}))
    .send()
    .await;
    let decided = app
        .get("/v1/me/collective-applications?status=declined")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(
        decided.body["data"][0]["decision_note"],
        "We are full this season"
    );
}

/// Joining one way closes the other way in: accepting an invitation
/// withdraws a pending application, and an approved application withdraws
/// an open invitation.
#[actix_web::test]
async fn joining_closes_the_other_open_way_in() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let id = create(&app, &rosa, "application").await.id();
    let applied = apply(&app, &kwame, &id).await.id();
    app.join_by_invitation(&id, &rosa, &kwame).await;
    let mine = app
        .get("/v1/me/collective-applications")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(mine.body["data"][0]["id"], applied.as_str());
    assert_eq!(mine.body["data"][0]["status"], "withdrawn");

    let mei = app.artisan("Mei").await;
    let applied = apply(&app, &mei, &id).await.id();
    let invited = app
        .post(&format!("/v1/collectives/{id}/invitations"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": mei.id}))
        .send()
        .await
        .id();
    let approved = app
        .post(&format!(
            "/v1/collectives/{id}/applications/{applied}/decision"
        ))
        .bearer(&rosa.token)
        .json(json!({"decision": "approve"}))
        .send()
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let hers = app
        .get("/v1/me/collective-invitations")
        .bearer(&mei.token)
        .send()
        .await;
    assert_eq!(hers.body["data"][0]["id"], invited.as_str());
    assert_eq!(hers.body["data"][0]["status"], "withdrawn");
}
