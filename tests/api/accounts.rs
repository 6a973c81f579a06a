//! What happens to an account from outside and at its end (SPEC §2):
//! suspension and reinstatement by admins (API and CLI) with an audit log,
//! and closing an account ending the person's roles in shared work.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::{ok, Account, Resp, TestApp, JWT_SECRET, PASSWORD};

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_artisan-commons"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("JWT_SECRET", JWT_SECRET)
        .env("LOG_FORMAT", "json")
        .output()
        .expect("run the CLI")
}

#[actix_web::test]
async fn admins_suspend_and_reinstate_with_an_audit_log() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let suspend = |who: &Account, target: &str, body: Value| {
        app.post(&format!("/v1/admin/users/{target}/suspension"))
            .bearer(&who.token)
            .json(body)
            .send()
    };
    // Only admins; bad input changes nothing.
    suspend(&kwame, &rosa.id, json!({"reason": "spam"}))
        .await
        .assert_problem(403, "forbidden");
    let key = app.partner_key(&["directory:read"]).await;
    app.post(&format!("/v1/admin/users/{}/suspension", rosa.id))
        .api_key(&key)
        .json(json!({"reason": "spam"}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    suspend(&admin, &rosa.id, json!({"reason": "  "}))
        .await
        .assert_problem(422, "validation");
    suspend(&admin, &rosa.id, json!({}))
        .await
        .assert_problem(400, "bad-request");
    suspend(
        &admin,
        "01900000-0000-7000-8000-000000000000",
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(404, "not-found");
    suspend(&admin, &admin.id, json!({"reason": "oops"}))
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        app.get("/v1/me").bearer(&rosa.token).send().await.status,
        200
    );

    let suspended =
        ok(suspend(&admin, &rosa.id, json!({"reason": "Selling counterfeits"})).await).await;
    assert_eq!(suspended.body["status"], "suspended");
    assert_eq!(suspended.body["entry"]["actor_id"], admin.id.as_str());
    // The very next request with her live access token is refused, her
    // sessions are gone, and she cannot sign in.
    app.assert_shut_out(&rosa).await;
    suspend(&admin, &rosa.id, json!({"reason": "again"}))
        .await
        .assert_problem(409, "conflict");

    let reinstate = |who: &Account, target: &str| {
        app.delete(&format!("/v1/admin/users/{target}/suspension"))
            .bearer(&who.token)
            .send()
    };
    reinstate(&kwame, &rosa.id)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(reinstate(&admin, &rosa.id).await.status, 204);
    reinstate(&admin, &rosa.id)
        .await
        .assert_problem(409, "conflict");
    let back = app.login(&rosa.email, PASSWORD).await;
    let token = back["access_token"].as_str().expect("token");
    assert_eq!(app.get("/v1/me").bearer(token).send().await.status, 200);

    // The command line does the same, and the log says so.
    let out = cli(
        &app,
        &[
            "suspend-user",
            "--email",
            &kwame.email,
            "--reason",
            "Chargebacks",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&kwame.id));
    app.get("/v1/me")
        .bearer(&kwame.token)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let out = cli(
        &app,
        &["suspend-user", "--email", &kwame.email, "--reason", "again"],
    );
    assert!(!out.status.success());
    let out = cli(&app, &["reinstate-user", "--email", &kwame.email]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.login(&kwame.email, PASSWORD).await;

    let log = app
        .get("/v1/admin/audit-log")
        .bearer(&admin.token)
        .send()
        .await;
    let entries: Vec<(String, String, String, Value)> = log.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["target_user_id"].as_str().unwrap_or_default().to_owned(),
                e["via"].as_str().unwrap_or_default().to_owned(),
                e["actor_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "reinstate".into(),
                kwame.id.clone(),
                "cli".into(),
                Value::Null
            ),
            (
                "suspend".into(),
                kwame.id.clone(),
                "cli".into(),
                Value::Null
            ),
            (
                "reinstate".into(),
                rosa.id.clone(),
                "api".into(),
                json!(admin.id)
            ),
            (
                "suspend".into(),
                rosa.id.clone(),
                "api".into(),
                json!(admin.id)
            ),
        ]
    );
    let hers = app
        .get(&format!(
            "/v1/admin/audit-log?target_user_id={}&limit=1",
            rosa.id
        ))
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(hers.body["data"][0]["action"], "reinstate");
    assert!(hers.body["next_cursor"].is_string());
    app.get("/v1/admin/audit-log")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
}

async fn collective(app: &TestApp, who: &Account, name: &str, policy: &str) -> String {
    ok(app
        .post("/v1/collectives")
        .bearer(&who.token)
        .json(json!({"name": name, "membership_policy": policy}))
        .send()
        .await)
    .await
    .id()
}

async fn close(app: &TestApp, who: &Account) -> Resp {
    let me = app.get("/v1/me").bearer(&who.token).send().await;
    let etag = me.header("etag").expect("etag");
    app.delete("/v1/me")
        .bearer(&who.token)
        .header("If-Match", &etag)
        .send()
        .await
}

#[actix_web::test]
async fn closing_an_account_ends_its_roles_in_shared_work() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;

    // A partnership with a draft Rosa has not signed and one she has.
    let created = ok(app
        .post("/v1/partnerships")
        .bearer(&kwame.token)
        .json(json!({"title": "Market stall", "kind": "market_event",
                     "invitees": [{"artisan_id": rosa.id}, {"artisan_id": mei.id}]}))
        .send()
        .await)
    .await;
    let pid = created.id();
    let (k, r, m) = (
        created.party("artisan_id", &kwame.id),
        created.party("artisan_id", &rosa.id),
        created.party("artisan_id", &mei.id),
    );
    for (who, p) in [(&rosa, &r), (&mei, &m)] {
        ok(app
            .post(&format!("/v1/partnerships/{pid}/invitations/{p}/accept"))
            .bearer(&who.token)
            .send()
            .await)
        .await;
    }
    let draft = |from: &str| {
        json!({"revenue_split": {"currency": "PEN", "shares": [
            {"recipient": {"party_id": k}, "share_bps": 4000},
            {"recipient": {"party_id": r}, "share_bps": 3000},
            {"recipient": {"party_id": m}, "share_bps": 3000}]},
            "effective_from": from, "effective_until": null})
    };
    let unsigned = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&kwame.token)
        .json(draft("2026-01-01"))
        .send()
        .await)
    .await;
    let signed = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&kwame.token)
        .json(draft("2027-01-01"))
        .send()
        .await)
    .await;
    // A draft that does not name her, signed by everyone but her: once
    // she is gone nobody is missing, so it becomes active.
    let without_her = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&kwame.token)
        .json(json!({"revenue_split": {"currency": "PEN", "shares": [
            {"recipient": {"party_id": k}, "share_bps": 5000},
            {"recipient": {"party_id": m}, "share_bps": 5000}]},
            "effective_from": "2028-01-01"}))
        .send()
        .await)
    .await;
    for (agreement, signers) in [
        (&unsigned, vec![&kwame, &mei]),
        (&signed, vec![&rosa]),
        (&without_her, vec![&kwame, &mei]),
    ] {
        for who in signers {
            ok(app
                .post(&format!("/v1/agreements/{}/signatures", agreement.id()))
                .bearer(&who.token)
                .json(json!({"content_hash": agreement.body["content_hash"]}))
                .send()
                .await)
            .await;
        }
    }
    // A partnership she is only invited to.
    let invited = ok(app
        .post("/v1/partnerships")
        .bearer(&kwame.token)
        .json(
            json!({"title": "Exhibition", "kind": "other", "invitees": [{"artisan_id": rosa.id}]}),
        )
        .send()
        .await)
    .await;
    // Collectives: one she is alone in, one she is a member of, one she
    // applied to, one that invited her.
    let alone = collective(&app, &rosa, "Rosa's own", "open").await;
    // Her collective is a party of a partnership, and has invited Mei.
    let with_collective = ok(app
        .post("/v1/partnerships")
        .bearer(&kwame.token)
        .json(json!({"title": "Coop", "kind": "cooperative_project",
                     "invitees": [{"collective_id": alone}]}))
        .send()
        .await)
    .await;
    let collective_party = with_collective.body["parties"][1]["id"]
        .as_str()
        .expect("party")
        .to_owned();
    ok(app
        .post(&format!(
            "/v1/partnerships/{}/invitations/{collective_party}/accept",
            with_collective.id()
        ))
        .bearer(&rosa.token)
        .send()
        .await)
    .await;
    let to_her_collective = ok(app
        .post(&format!("/v1/collectives/{alone}/invitations"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": mei.id}))
        .send()
        .await)
    .await
    .id();
    let kwames = collective(&app, &kwame, "Kwame's weavers", "invite_only").await;
    app.join_by_invitation(&kwames, &kwame, &rosa).await;
    let meis = collective(&app, &mei, "Mei's potters", "application").await;
    let application = ok(app
        .post(&format!("/v1/collectives/{meis}/applications"))
        .bearer(&rosa.token)
        .json(json!({"message": "hi"}))
        .send()
        .await)
    .await
    .id();
    let other = collective(&app, &mei, "Mei's dyers", "invite_only").await;
    let invitation = ok(app
        .post(&format!("/v1/collectives/{other}/invitations"))
        .bearer(&mei.token)
        .json(json!({"artisan_id": rosa.id}))
        .send()
        .await)
    .await
    .id();
    // A workshop seat with Kwame waiting behind her.
    let workshop = ok(app
        .post("/v1/workshops")
        .bearer(&mei.token)
        .json(json!({"title": "Glazes", "skill": "pottery", "capacity": 1,
                     "starts_at": "2099-01-01T10:00:00Z", "duration_hours": 2, "location": "Lima"}))
        .send()
        .await)
    .await
    .id();
    for who in [&rosa, &kwame] {
        ok(app
            .post(&format!("/v1/workshops/{workshop}/registrations"))
            .bearer(&who.token)
            .send()
            .await)
        .await;
    }
    // Exchanges: hers proposed, one proposed to her, one accepted.
    let swap = |to: &Account| {
        json!({"kind": "swap", "partner_id": to.id, "i_teach": ["weaving"],
               "they_teach": ["pottery"], "proposed_hours": 2})
    };
    let mut exchanges = Vec::new();
    for (from, to) in [(&rosa, &kwame), (&mei, &rosa), (&kwame, &rosa)] {
        let e = ok(app
            .post("/v1/exchanges")
            .bearer(&from.token)
            .json(swap(to))
            .send()
            .await)
        .await
        .id();
        exchanges.push(e);
    }
    ok(app
        .post(&format!("/v1/exchanges/{}/accept", exchanges[2]))
        .bearer(&rosa.token)
        .send()
        .await)
    .await;

    assert_eq!(close(&app, &rosa).await.status, 204);

    // Partnerships: she left the first, declined the second.
    let first = app
        .get(&format!("/v1/partnerships/{pid}"))
        .bearer(&kwame.token)
        .send()
        .await;
    let status_of = |res: &Resp, party_id: &str| res.party_field("id", party_id, "status");
    assert_eq!(status_of(&first, &r), Some("left".into()));
    let second = app
        .get(&format!("/v1/partnerships/{}", invited.id()))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(
        status_of(&second, &invited.party("artisan_id", &rosa.id)),
        Some("declined".into())
    );
    // No draft waits for her; the signature she gave stays.
    let unsigned_now = app
        .get(&format!("/v1/agreements/{}", unsigned.id()))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(unsigned_now.body["awaiting_signature"], json!([]));
    let signed_now = app
        .get(&format!("/v1/agreements/{}", signed.id()))
        .bearer(&kwame.token)
        .send()
        .await;
    assert!(signed_now.text.contains(&r), "{}", signed_now.text);
    assert_eq!(
        signed_now.body["signatures"].as_array().map(Vec::len),
        Some(1)
    );
    let activated = app
        .get(&format!("/v1/agreements/{}", without_her.id()))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(activated.body["status"], "active", "{}", activated.text);
    assert_eq!(
        unsigned_now.body["status"], "draft",
        "it names her: edit it first"
    );

    // Collectives.
    let get = |path: String, who: &Account| app.get(&path).bearer(&who.token).send();
    let alone_now = get(format!("/v1/collectives/{alone}"), &kwame).await;
    assert_eq!(alone_now.body["status"], "archived");
    // The archived collective no longer holds anyone up either: its party
    // left, and its open invitation is withdrawn.
    let coop = get(format!("/v1/partnerships/{}", with_collective.id()), &kwame).await;
    assert_eq!(status_of(&coop, &collective_party), Some("left".into()));
    let mei_invitations = get("/v1/me/collective-invitations".to_owned(), &mei).await;
    assert_eq!(
        mei_invitations.body["data"][0]["id"],
        to_her_collective.as_str()
    );
    assert_eq!(mei_invitations.body["data"][0]["status"], "withdrawn");
    app.post(&format!("/v1/partnerships/{pid}/parties"))
        .bearer(&kwame.token)
        .json(json!({"collective_id": alone}))
        .send()
        .await
        .assert_problem(422, "validation");
    let listed = get("/v1/collectives?limit=100".to_owned(), &kwame).await;
    assert!(
        !listed.text.contains(&alone),
        "archived collectives are not listed"
    );
    let members = get(format!("/v1/collectives/{kwames}/members"), &kwame).await;
    assert!(!members.text.contains(&rosa.id));
    let applications = get(format!("/v1/collectives/{meis}/applications"), &mei).await;
    assert_eq!(applications.body["data"][0]["id"], application.as_str());
    assert_eq!(applications.body["data"][0]["status"], "withdrawn");
    let invitations = get(format!("/v1/collectives/{other}/invitations"), &mei).await;
    assert_eq!(invitations.body["data"][0]["id"], invitation.as_str());
    assert_eq!(invitations.body["data"][0]["status"], "withdrawn");

    // The workshop seat went to Kwame.
    let seats = get(format!("/v1/workshops/{workshop}/registrations"), &mei).await;
    let by_artisan = |id: &str| {
        seats.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["artisan_id"] == id)
            .map(|x| x["status"].clone())
    };
    assert_eq!(by_artisan(&rosa.id), Some(json!("cancelled")));
    assert_eq!(by_artisan(&kwame.id), Some(json!("registered")));

    // Exchanges: withdrawn, declined, cancelled.
    let mut statuses = Vec::new();
    for (id, who) in exchanges.iter().zip([&kwame, &mei, &kwame]) {
        statuses.push(get(format!("/v1/exchanges/{id}"), who).await.body["status"].clone());
    }
    assert_eq!(
        statuses,
        [json!("cancelled"), json!("declined"), json!("cancelled")]
    );
}

#[actix_web::test]
async fn the_last_coordinator_hands_over_before_closing() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let id = collective(&app, &rosa, "Tejedoras", "invite_only").await;
    let membership = app.join_by_invitation(&id, &rosa, &kwame).await;
    let refused = close(&app, &rosa).await;
    refused.assert_problem(409, "conflict");
    assert!(
        refused.text.contains("Tejedoras") && refused.text.contains(&id),
        "{}",
        refused.text
    );
    // Nothing changed.
    assert_eq!(
        app.get("/v1/me").bearer(&rosa.token).send().await.status,
        200
    );
    let members = app
        .get(&format!("/v1/collectives/{id}/members"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert!(members.text.contains(&rosa.id));
    ok(app
        .patch(&format!("/v1/collectives/{id}/members/{}", kwame.id))
        .bearer(&rosa.token)
        .header("If-Match", &membership)
        .json(json!({"role": "coordinator"}))
        .send()
        .await)
    .await;
    assert_eq!(close(&app, &rosa).await.status, 204);
    let collective = app
        .get(&format!("/v1/collectives/{id}"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(collective.body["status"], "active");
}
