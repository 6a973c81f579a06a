//! Agreements: drafting, the content hash, signatures, activation,
//! declines, amendments and terminations, the audit trail, visibility,
//! and races on signatures, edits and amendments.

use domain::webhook::EventType;
use serde_json::{json, Value};

use crate::openapi::assert_documented_payload;
use crate::support::{Account, Resp, TestApp};

/// A partnership whose parties (the creator and each invitee) have all
/// accepted; returns its id and the party ids in the order given.
async fn partnership(
    app: &TestApp,
    creator: &Account,
    others: &[&Account],
) -> (String, Vec<String>) {
    let invitees: Vec<Value> = others.iter().map(|a| json!({"artisan_id": a.id})).collect();
    let res = app
        .post("/v1/partnerships")
        .bearer(&creator.token)
        .json(json!({"title": "Andes to Accra", "kind": "co_branded_collection", "invitees": invitees}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.id();
    let mut parties = vec![res.party("artisan_id", &creator.id)];
    for other in others {
        let party = res.party("artisan_id", &other.id);
        let accepted = app
            .post(&format!("/v1/partnerships/{id}/invitations/{party}/accept"))
            .bearer(&other.token)
            .send()
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.text);
        parties.push(party);
    }
    (id, parties)
}

/// Terms splitting evenly-ish among `parties` (the first takes the rest).
fn terms(parties: &[String], from: &str) -> Value {
    let each = 10_000 / i64::try_from(parties.len()).unwrap_or(1);
    let first = 10_000 - each * (i64::try_from(parties.len()).unwrap_or(1) - 1);
    let shares: Vec<Value> = parties
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"recipient": {"party_id": p}, "share_bps": if i == 0 { first } else { each }}))
        .collect();
    json!({
        "commitments": [{"party_id": parties[0], "description": "Weave 40 scarves", "due_on": "2026-12-01"}],
        "revenue_split": {"currency": "PEN", "shares": shares},
        "promotion_plan": {"summary": "Launch at the Lima fair", "channels": ["instagram"]},
        "cultural_attribution": [{"party_id": parties[0], "tradition": "Quechua weaving", "credit_line": "Woven in Chinchero"}],
        "effective_from": from,
    })
}

async fn draft(app: &TestApp, who: &Account, partnership: &str, body: Value) -> Resp {
    let res = app
        .post(&format!("/v1/partnerships/{partnership}/agreements"))
        .bearer(&who.token)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

async fn get(app: &TestApp, who: &Account, id: &str) -> Resp {
    app.get(&format!("/v1/agreements/{id}"))
        .bearer(&who.token)
        .send()
        .await
}

async fn sign(app: &TestApp, who: &Account, id: &str, hash: &Value) -> Resp {
    app.post(&format!("/v1/agreements/{id}/signatures"))
        .bearer(&who.token)
        .json(json!({"content_hash": hash}))
        .send()
        .await
}

/// Every party signs the current hash; returns the last response.
pub(crate) async fn sign_all(app: &TestApp, signers: &[&Account], id: &str) -> Resp {
    let hash = get(app, signers[0], id).await.body["content_hash"].clone();
    let mut last = None;
    for who in signers {
        let res = sign(app, who, id, &hash).await;
        assert_eq!(res.status, 201, "{}", res.text);
        last = Some(res);
    }
    last.expect("at least one signer")
}

async fn events(app: &TestApp, who: &Account, id: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/v1/agreements/{id}/events?limit=100"))
        .bearer(&who.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["data"].as_array().cloned().unwrap_or_default()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn every_party_signs_the_hash_and_the_agreement_activates() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let res = draft(&app, &rosa, &pid, terms(&parties, "2026-09-01")).await;
    let id = res.id();
    assert_eq!(res.header("location"), Some(format!("/v1/agreements/{id}")));
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.body["status"], "draft");
    assert_eq!(res.body["kind"], "original");
    assert_eq!(res.body["version"], 1);
    assert_eq!(res.body["awaiting_signature"], json!(parties));
    assert_eq!(res.body["effective_until"], Value::Null);

    // The hash is SHA-256 of the canonical JSON of the document exactly as
    // returned: a client can recompute it.
    let document: serde_json::Map<String, Value> = [
        "kind",
        "commitments",
        "revenue_split",
        "promotion_plan",
        "cultural_attribution",
        "effective_from",
        "effective_until",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), res.body[*k].clone()))
    .collect();
    let hash = res.body["content_hash"].clone();
    assert_eq!(
        hash,
        domain::canonical::sha256_hex(&Value::Object(document))
    );

    sign(&app, &kwame, &id, &json!("0".repeat(64)))
        .await
        .assert_problem(409, "conflict");
    let first = sign(&app, &rosa, &id, &hash).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["status"], "draft");
    assert_eq!(first.body["signatures"][0]["party_id"], parties[0].as_str());
    assert_eq!(first.body["signatures"][0]["signed_by"], rosa.id.as_str());
    assert_eq!(first.body["awaiting_signature"], json!([parties[1]]));
    sign(&app, &rosa, &id, &hash)
        .await
        .assert_problem(409, "conflict");

    let last = sign(&app, &kwame, &id, &hash).await;
    assert_eq!(last.status, 201, "{}", last.text);
    assert_eq!(last.body["status"], "active");
    assert!(last.body["activated_at"].is_string());
    assert_eq!(last.body["awaiting_signature"], json!([]));
    assert_eq!(last.body["content_hash"], hash, "signing changes no term");

    // Immutable from now on.
    let etag = last.header("etag").expect("etag");
    app.patch(&format!("/v1/agreements/{id}"))
        .bearer(&rosa.token)
        .header("If-Match", &etag)
        .json(json!({"effective_from": "2026-10-01"}))
        .send()
        .await
        .assert_problem(409, "conflict");
    app.post(&format!("/v1/agreements/{id}/declines"))
        .bearer(&kwame.token)
        .json(json!({"reason": "changed my mind"}))
        .send()
        .await
        .assert_problem(409, "conflict");

    let trail = events(&app, &kwame, &id).await;
    assert_eq!(kinds(&trail), ["created", "signed", "signed", "activated"]);
    assert_eq!(trail[1]["actor_id"], rosa.id.as_str());
    assert_eq!(trail[1]["party_id"], parties[0].as_str());
    assert_eq!(trail[2]["actor_id"], kwame.id.as_str());
    assert!(trail.iter().all(|e| e["content_hash"] == hash));
    let versions: Vec<i64> = trail.iter().filter_map(|e| e["version"].as_i64()).collect();
    assert_eq!(versions, [1, 2, 3, 4]);

    let listed = app
        .get(&format!("/v1/partnerships/{pid}/agreements?status=active"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    let drafts = app
        .get(&format!("/v1/partnerships/{pid}/agreements?status=draft"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(drafts.body["data"], json!([]));

    let activated = persistence::outbox::of_type(&mut app.conn(), EventType::AgreementActivated)
        .expect("outbox");
    assert_eq!(activated.len(), 1);
    assert!(activated[0].payload.contains(&id));
    assert_documented_payload(&activated[0]);
    // The trail is append-only in the database itself.
    {
        use diesel::RunQueryDsl;
        let mut pooled = app.conn();
        let conn: &mut persistence::AnyConnection = &mut pooled;
        for statement in [
            "UPDATE agreement_events SET note = 'rewritten'",
            "DELETE FROM agreement_events",
        ] {
            assert!(
                diesel::sql_query(statement).execute(conn).is_err(),
                "{statement}"
            );
        }
    }
    assert_eq!(events(&app, &kwame, &id).await.len(), 4);
    let partnership_activated =
        persistence::outbox::of_type(&mut app.conn(), EventType::PartnershipActivated)
            .expect("outbox");
    assert_eq!(partnership_activated.len(), 1);
    assert!(partnership_activated[0].payload.contains(&pid));
    assert_documented_payload(&partnership_activated[0]);
}

#[actix_web::test]
async fn an_edit_clears_every_signature() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let mut body = terms(&parties, "2026-09-01");
    body["effective_until"] = json!("2027-08-31");
    let id = draft(&app, &rosa, &pid, body).await.id();
    let before = get(&app, &rosa, &id).await;
    assert_eq!(before.body["effective_until"], "2027-08-31");
    let old_hash = before.body["content_hash"].clone();
    let signed = sign(&app, &rosa, &id, &old_hash).await;
    assert_eq!(signed.header("etag").as_deref(), Some("\"2\""));

    let path = format!("/v1/agreements/{id}");
    let change = json!({"promotion_plan": {"summary": "Launch in Accra too", "channels": ["instagram", "radio"]},
                        "effective_until": null});
    app.patch(&path)
        .bearer(&kwame.token)
        .json(change.clone())
        .send()
        .await
        .assert_problem(428, "precondition-required");
    app.patch(&path)
        .bearer(&kwame.token)
        .header("If-Match", "\"1\"")
        .json(change.clone())
        .send()
        .await
        .assert_problem(412, "precondition-failed");
    let edited = app
        .patch(&path)
        .bearer(&kwame.token)
        .header("If-Match", "\"2\"")
        .json(change)
        .send()
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["version"], 3);
    assert_eq!(edited.body["signatures"], json!([]));
    assert_eq!(edited.body["awaiting_signature"], json!(parties));
    assert_ne!(edited.body["content_hash"], old_hash);
    assert_eq!(
        edited.body["promotion_plan"]["channels"],
        json!(["instagram", "radio"])
    );
    assert_eq!(
        edited.body["commitments"], before.body["commitments"],
        "other terms stay"
    );
    assert_eq!(
        edited.body["effective_until"],
        Value::Null,
        "null clears the end date"
    );

    // Rosa's signature counted for the old hash only; signing it again is stale.
    sign(&app, &rosa, &id, &old_hash)
        .await
        .assert_problem(409, "conflict");
    let last = sign_all(&app, &[&rosa, &kwame], &id).await;
    assert_eq!(last.body["status"], "active");
    assert_eq!(
        kinds(&events(&app, &rosa, &id).await),
        [
            "created",
            "signed",
            "edited",
            "signed",
            "signed",
            "activated"
        ]
    );
}

#[actix_web::test]
async fn broken_terms_are_422_and_change_nothing() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let path = format!("/v1/partnerships/{pid}/agreements");
    let post = |body: Value| app.post(&path).bearer(&rosa.token).json(body).send();

    let mut short = terms(&parties, "2026-09-01");
    short["revenue_split"]["shares"][1]["share_bps"] = json!(4990);
    let res = post(short).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["revenue_split.shares"]);
    let message = res.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("9990"), "states the actual sum: {message}");

    let mut twice = terms(&parties, "2026-09-01");
    twice["revenue_split"]["shares"][1]["recipient"] = json!({"party_id": parties[0]});
    assert_eq!(
        post(twice).await.error_fields(),
        ["revenue_split.shares[1].recipient"]
    );

    let mut zero = terms(&parties, "2026-09-01");
    zero["revenue_split"]["shares"] = json!([
        {"recipient": {"party_id": parties[0]}, "share_bps": 10000},
        {"recipient": {"party_id": parties[1]}, "share_bps": 0},
    ]);
    assert_eq!(
        post(zero).await.error_fields(),
        ["revenue_split.shares[1].share_bps"]
    );

    let mut stranger = terms(&parties, "2026-09-01");
    stranger["commitments"][0]["party_id"] = json!(uuid::Uuid::now_v7());
    assert_eq!(
        post(stranger).await.error_fields(),
        ["commitments[0].party_id"]
    );

    let mut odd = terms(&parties, "2026-09-01");
    odd["revenue_split"]["currency"] = json!("ABC");
    odd["effective_until"] = json!("2026-08-31");
    odd["cultural_attribution"][0]["credit_line"] = json!("   ");
    assert_eq!(
        post(odd).await.error_fields(),
        [
            "revenue_split.currency",
            "cultural_attribution[0].credit_line",
            "effective_until"
        ]
    );

    let mut charity = terms(&parties, "2026-09-01");
    charity["revenue_split"]["shares"][1]["share_bps"] = json!(4000);
    charity["revenue_split"]["shares"]
        .as_array_mut()
        .expect("shares")
        .push(json!({"recipient": {"beneficiary": {"name": "Water for All", "organization_id": uuid::Uuid::now_v7()}}, "share_bps": 1000}));
    let unknown_org = post(charity).await;
    unknown_org.assert_problem(422, "validation");

    post(json!({"revenue_split": {"currency": "PEN", "shares": []}}))
        .await
        .assert_problem(400, "bad-request");
    post({
        let mut t = terms(&parties, "2026-09-01");
        t["surprise"] = json!(true);
        t
    })
    .await
    .assert_problem(400, "bad-request");

    let listed = app.get(&path).bearer(&rosa.token).send().await;
    assert_eq!(listed.body["data"], json!([]), "nothing was created");
}

#[actix_web::test]
async fn a_beneficiary_receives_but_does_not_sign() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let admin = app.admin().await;
    let org = app
        .post("/v1/organizations")
        .bearer(&admin.token)
        .json(json!({"name": "Water for All"}))
        .send()
        .await;
    assert_eq!(org.status, 201, "{}", org.text);
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let mut body = terms(&parties, "2026-09-01");
    body["revenue_split"]["shares"] = json!([
        {"recipient": {"party_id": parties[0]}, "share_bps": 4500},
        {"recipient": {"party_id": parties[1]}, "share_bps": 4500},
        {"recipient": {"beneficiary": {"name": "Water for All", "url": "https://example.org/water",
                                        "organization_id": org.id().to_uppercase()}}, "share_bps": 1000},
    ]);
    let res = draft(&app, &rosa, &pid, body).await;
    let beneficiary = &res.body["revenue_split"]["shares"][2]["recipient"]["beneficiary"];
    assert_eq!(
        beneficiary["organization_id"],
        org.id().as_str(),
        "ids are stored canonically"
    );
    assert_eq!(beneficiary["campaign_id"], Value::Null);
    assert_eq!(res.body["awaiting_signature"], json!(parties));
    let active = sign_all(&app, &[&rosa, &kwame], &res.id()).await;
    assert_eq!(active.body["status"], "active");
}

/// Ids in a beneficiary share name what exists (SPEC §2): an unknown
/// organization or campaign is a 422 naming the share's field, and nothing
/// is created.
#[actix_web::test]
async fn beneficiary_ids_must_name_what_exists() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let mut body = terms(&parties, "2026-09-01");
    body["revenue_split"]["shares"] = json!([
        {"recipient": {"party_id": parties[0]}, "share_bps": 4000},
        {"recipient": {"beneficiary": {"name": "Water for All",
            "organization_id": "01900000-0000-7000-8000-000000000000"}}, "share_bps": 1000},
        {"recipient": {"party_id": parties[1]}, "share_bps": 4000},
        {"recipient": {"beneficiary": {"name": "Weaving school",
            "campaign_id": "01900000-0000-7000-8000-000000000001"}}, "share_bps": 1000},
    ]);
    let res = app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(body)
        .send()
        .await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        [
            "revenue_split.shares[1].recipient.beneficiary.organization_id",
            "revenue_split.shares[3].recipient.beneficiary.campaign_id",
        ]
    );
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"], json!([]));
}

#[actix_web::test]
async fn outsiders_get_404_and_non_parties_403() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;
    let mallory = app.artisan("Mallory").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    // Mei is invited but has not accepted: she sees, but may not act.
    let invited = app
        .post(&format!("/v1/partnerships/{pid}/parties"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": mei.id}))
        .send()
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    let res = draft(&app, &rosa, &pid, terms(&parties, "2026-09-01")).await;
    let id = res.id();
    let hash = res.body["content_hash"].clone();

    {
        let who = &mallory;
        get(&app, who, &id).await.assert_problem(404, "not-found");
        app.get(&format!("/v1/partnerships/{pid}/agreements"))
            .bearer(&who.token)
            .send()
            .await
            .assert_problem(404, "not-found");
        app.post(&format!("/v1/partnerships/{pid}/agreements"))
            .bearer(&who.token)
            .json(terms(&parties, "2026-09-01"))
            .send()
            .await
            .assert_problem(404, "not-found");
        app.patch(&format!("/v1/agreements/{id}"))
            .bearer(&who.token)
            .header("If-Match", "\"1\"")
            .json(json!({"effective_from": "2026-10-01"}))
            .send()
            .await
            .assert_problem(404, "not-found");
        sign(&app, who, &id, &hash)
            .await
            .assert_problem(404, "not-found");
        app.post(&format!("/v1/agreements/{id}/declines"))
            .bearer(&who.token)
            .json(json!({"reason": "no"}))
            .send()
            .await
            .assert_problem(404, "not-found");
        app.post(&format!("/v1/agreements/{id}/amendments"))
            .bearer(&who.token)
            .json(json!({"kind": "termination", "effective_from": "2026-10-01"}))
            .send()
            .await
            .assert_problem(404, "not-found");
        app.get(&format!("/v1/agreements/{id}/events"))
            .bearer(&who.token)
            .send()
            .await
            .assert_problem(404, "not-found");
    }
    get(&app, &rosa, &uuid::Uuid::now_v7().to_string())
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/agreements/not-a-uuid")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(404, "not-found");

    assert_eq!(get(&app, &mei, &id).await.status, 200, "invitees see it");
    sign(&app, &mei, &id, &hash)
        .await
        .assert_problem(403, "forbidden");
    app.patch(&format!("/v1/agreements/{id}"))
        .bearer(&mei.token)
        .header("If-Match", "\"1\"")
        .json(json!({"effective_from": "2026-10-01"}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&mei.token)
        .json(terms(&parties, "2026-09-01"))
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post(&format!("/v1/agreements/{id}/declines"))
        .bearer(&mei.token)
        .json(json!({"reason": "no"}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    // Admins see everything (and act on nothing they are not party to).
    let admin = app.admin().await;
    assert_eq!(get(&app, &admin, &id).await.status, 200);
    sign(&app, &admin, &id, &hash)
        .await
        .assert_problem(403, "forbidden");
    // Nothing changed.
    let now = get(&app, &rosa, &id).await;
    assert_eq!(now.body["version"], 1);
    assert_eq!(kinds(&events(&app, &rosa, &id).await), ["created"]);
}

#[actix_web::test]
async fn a_collective_signs_through_a_coordinator() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
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
    let created = app
        .post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(
            json!({"title": "Puno x Rosa", "kind": "cooperative_project",
                     "invitees": [{"collective_id": collective}]}),
        )
        .send()
        .await;
    let pid = created.id();
    let rosa_party = created.party("artisan_id", &rosa.id);
    let weavers = created.party("collective_id", &collective);
    let accepted = app
        .post(&format!(
            "/v1/partnerships/{pid}/invitations/{weavers}/accept"
        ))
        .bearer(&amaru.token)
        .send()
        .await;
    assert_eq!(accepted.body["status"], "active", "{}", accepted.text);
    let res = draft(
        &app,
        &rosa,
        &pid,
        terms(&[weavers.clone(), rosa_party.clone()], "2026-09-01"),
    )
    .await;
    let id = res.id();
    let hash = res.body["content_hash"].clone();

    // Members see the agreement; only a coordinator signs for the collective.
    assert_eq!(get(&app, &nayeli, &id).await.status, 200);
    sign(&app, &nayeli, &id, &hash)
        .await
        .assert_problem(403, "forbidden");
    let by_coordinator = sign(&app, &amaru, &id, &hash).await;
    assert_eq!(by_coordinator.status, 201, "{}", by_coordinator.text);
    assert_eq!(
        by_coordinator.body["signatures"][0]["party_id"],
        weavers.as_str()
    );
    assert_eq!(
        by_coordinator.body["signatures"][0]["signed_by"],
        amaru.id.as_str()
    );

    // Rosa coordinates the collective too: she must say which party she signs for.
    let membership = app.join_by_invitation(&collective, &amaru, &rosa).await;
    let promoted = app
        .patch(&format!("/v1/collectives/{collective}/members/{}", rosa.id))
        .bearer(&amaru.token)
        .header("If-Match", &membership)
        .json(json!({"role": "coordinator"}))
        .send()
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    let ambiguous = sign(&app, &rosa, &id, &hash).await;
    ambiguous.assert_problem(422, "validation");
    assert_eq!(ambiguous.error_fields(), ["party_id"]);
    let explicit = app
        .post(&format!("/v1/agreements/{id}/signatures"))
        .bearer(&rosa.token)
        .json(json!({"content_hash": hash, "party_id": rosa_party}))
        .send()
        .await;
    assert_eq!(explicit.status, 201, "{}", explicit.text);
    assert_eq!(explicit.body["status"], "active");

    // Amending and editing act for no party in particular: she does them
    // without naming one (the record names her).
    let amendment = app
        .post(&format!("/v1/agreements/{id}/amendments"))
        .bearer(&rosa.token)
        .json(json!({"kind": "amendment", "effective_from": "2026-10-01"}))
        .send()
        .await;
    assert_eq!(amendment.status, 201, "{}", amendment.text);
    let edited = app
        .patch(&format!("/v1/agreements/{}", amendment.id()))
        .bearer(&rosa.token)
        .header("If-Match", &amendment.header("etag").expect("etag"))
        .json(json!({"effective_from": "2026-11-01"}))
        .send()
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    let recorded = events(&app, &rosa, &amendment.id()).await;
    assert!(
        !recorded.is_empty() && recorded.iter().all(|e| e["actor_id"] == rosa.id.as_str()),
        "{recorded:?}"
    );
}

#[actix_web::test]
async fn a_declined_draft_stays_declined() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let res = draft(&app, &rosa, &pid, terms(&parties, "2026-09-01")).await;
    let id = res.id();
    let path = format!("/v1/agreements/{id}/declines");
    let blank = app
        .post(&path)
        .bearer(&kwame.token)
        .json(json!({"reason": "  "}))
        .send()
        .await;
    blank.assert_problem(422, "validation");
    assert_eq!(blank.error_fields(), ["reason"]);
    let declined = app
        .post(&path)
        .bearer(&kwame.token)
        .header("Idempotency-Key", "decline-1")
        .json(json!({"reason": "The split leaves nothing for the school"}))
        .send()
        .await;
    assert_eq!(declined.status, 201, "{}", declined.text);
    assert_eq!(declined.body["status"], "declined");
    let replay = app
        .post(&path)
        .bearer(&kwame.token)
        .header("Idempotency-Key", "decline-1")
        .json(json!({"reason": "The split leaves nothing for the school"}))
        .send()
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    sign(&app, &rosa, &id, &res.body["content_hash"])
        .await
        .assert_problem(409, "conflict");
    app.patch(&format!("/v1/agreements/{id}"))
        .bearer(&rosa.token)
        .header("If-Match", &declined.header("etag").expect("etag"))
        .json(json!({"effective_from": "2026-10-01"}))
        .send()
        .await
        .assert_problem(409, "conflict");
    let trail = events(&app, &rosa, &id).await;
    assert_eq!(kinds(&trail), ["created", "declined"]);
    assert_eq!(trail[1]["note"], "The split leaves nothing for the school");
    assert_eq!(trail[1]["party_id"], parties[1].as_str());
}

#[actix_web::test]
async fn amendments_supersede_from_their_date_and_terminations_end() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;
    let original = draft(&app, &rosa, &pid, terms(&parties, "2026-01-01"))
        .await
        .id();
    sign_all(&app, &[&rosa, &kwame], &original).await;
    let amend = |id: &str, body: Value| {
        app.post(&format!("/v1/agreements/{id}/amendments"))
            .bearer(&kwame.token)
            .json(body)
            .send()
    };

    let too_early = amend(
        &original,
        json!({"kind": "amendment", "effective_from": "2026-01-01"}),
    )
    .await;
    too_early.assert_problem(422, "validation");
    assert_eq!(too_early.error_fields(), ["effective_from"]);
    let amendment = amend(
        &original,
        json!({"kind": "amendment", "effective_from": "2026-07-01"}),
    )
    .await;
    assert_eq!(amendment.status, 201, "{}", amendment.text);
    let amended = amendment.id();
    assert_eq!(amendment.body["kind"], "amendment");
    assert_eq!(amendment.body["supersedes"], original.as_str());
    assert_eq!(amendment.body["status"], "draft");
    let before = get(&app, &rosa, &original).await;
    assert_eq!(
        amendment.body["revenue_split"], before.body["revenue_split"],
        "terms copied"
    );
    amend(
        &original,
        json!({"kind": "termination", "effective_from": "2026-08-01"}),
    )
    .await
    .assert_problem(409, "conflict");

    // A new original agreement cannot overlap the one in force.
    app.post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(terms(&parties, "2026-03-01"))
        .send()
        .await
        .assert_problem(409, "conflict");

    let mut split = amendment.body["revenue_split"].clone();
    split["shares"][0]["share_bps"] = json!(7000);
    split["shares"][1]["share_bps"] = json!(3000);
    let edited = app
        .patch(&format!("/v1/agreements/{amended}"))
        .bearer(&rosa.token)
        .header("If-Match", "\"1\"")
        .json(json!({"revenue_split": split}))
        .send()
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    let active = sign_all(&app, &[&rosa, &kwame], &amended).await;
    assert_eq!(active.body["status"], "active");
    let old = get(&app, &rosa, &original).await;
    assert_eq!(old.body["status"], "superseded");
    assert_eq!(old.body["superseded_from"], "2026-07-01");
    assert_eq!(old.body["superseded_by"], amended.as_str());
    let trail = events(&app, &rosa, &original).await;
    assert_eq!(kinds(&trail).last().map(String::as_str), Some("superseded"));
    assert_eq!(
        trail.last().map(|e| e["related_agreement_id"].clone()),
        Some(json!(amended))
    );
    amend(
        &original,
        json!({"kind": "amendment", "effective_from": "2026-09-01"}),
    )
    .await
    .assert_problem(409, "conflict");

    // Ending it: a termination, signed like any agreement.
    let with_end = amend(&amended, json!({"kind": "termination", "effective_from": "2027-01-01", "effective_until": "2027-02-01"})).await;
    assert_eq!(with_end.error_fields(), ["effective_until"]);
    let termination = amend(
        &amended,
        json!({"kind": "termination", "effective_from": "2027-01-01"}),
    )
    .await;
    assert_eq!(termination.status, 201, "{}", termination.text);
    let ended = sign_all(&app, &[&rosa, &kwame], &termination.id()).await;
    assert_eq!(ended.body["status"], "active");
    let terminated = get(&app, &rosa, &amended).await;
    assert_eq!(terminated.body["status"], "terminated");
    assert_eq!(terminated.body["superseded_from"], "2027-01-01");
    assert_eq!(
        kinds(&events(&app, &rosa, &amended).await)
            .last()
            .map(String::as_str),
        Some("terminated")
    );

    // From the termination on, nothing is in force: a new agreement may start.
    app.post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(terms(&parties, "2026-12-31"))
        .send()
        .await
        .assert_problem(409, "conflict");
    draft(&app, &rosa, &pid, terms(&parties, "2027-01-01")).await;

    let superseded = persistence::outbox::of_type(&mut app.conn(), EventType::AgreementSuperseded)
        .expect("outbox");
    assert_eq!(superseded.len(), 2);
    superseded.iter().for_each(assert_documented_payload);
}

#[actix_web::test]
async fn agreements_need_an_active_partnership_and_hold_their_parties() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mei = app.artisan("Mei").await;
    let forming = app
        .post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(json!({"title": "Solo", "kind": "other", "invitees": [{"artisan_id": kwame.id}]}))
        .send()
        .await;
    let rosa_only = vec![forming.party("artisan_id", &rosa.id)];
    app.post(&format!("/v1/partnerships/{}/agreements", forming.id()))
        .bearer(&rosa.token)
        .json(terms(&rosa_only, "2026-09-01"))
        .send()
        .await
        .assert_problem(409, "conflict");

    let (pid, parties) = partnership(&app, &rosa, &[&kwame, &mei]).await;
    let id = draft(&app, &rosa, &pid, terms(&parties, "2026-09-01"))
        .await
        .id();
    let leave = |who: &Account, party: &str| {
        app.post(&format!("/v1/partnerships/{pid}/parties/{party}/leave"))
            .bearer(&who.token)
            .send()
    };
    sign_all(&app, &[&rosa, &kwame, &mei], &id).await;
    leave(&mei, &parties[2])
        .await
        .assert_problem(409, "conflict");
    let termination = app
        .post(&format!("/v1/agreements/{id}/amendments"))
        .bearer(&mei.token)
        .json(json!({"kind": "termination", "effective_from": "2026-12-01"}))
        .send()
        .await;
    assert_eq!(termination.status, 201, "{}", termination.text);
    sign_all(&app, &[&rosa, &kwame, &mei], &termination.id()).await;
    let left = leave(&mei, &parties[2]).await;
    assert_eq!(left.status, 200, "{}", left.text);
}

/// Races, repeated: on both databases the outcome is always a legal state.
#[actix_web::test]
async fn races_leave_only_legal_states() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    for round in 0..6 {
        let (pid, parties) = partnership(&app, &rosa, &[&kwame]).await;

        // Two final signatures at once on two overlapping drafts: exactly one
        // agreement comes into force.
        let a = draft(&app, &rosa, &pid, terms(&parties, "2026-01-01")).await;
        let b = draft(&app, &rosa, &pid, terms(&parties, "2026-06-01")).await;
        let (a, b) = (a.id(), b.id());
        for id in [&a, &b] {
            let hash = get(&app, &rosa, id).await.body["content_hash"].clone();
            assert_eq!(sign(&app, &rosa, id, &hash).await.status, 201);
        }
        let (ha, hb) = (
            get(&app, &kwame, &a).await.body["content_hash"].clone(),
            get(&app, &kwame, &b).await.body["content_hash"].clone(),
        );
        let (ra, rb) =
            futures_util::future::join(sign(&app, &kwame, &a, &ha), sign(&app, &kwame, &b, &hb))
                .await;
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 409],
            "round {round}: {} / {}",
            ra.text,
            rb.text
        );
        let active = if ra.status == 201 {
            a.clone()
        } else {
            b.clone()
        };

        // Two amendments of the same agreement at once: exactly one opens.
        let open = |from: &'static str| {
            app.post(&format!("/v1/agreements/{active}/amendments"))
                .bearer(&rosa.token)
                .json(json!({"kind": "amendment", "effective_from": from}))
                .send()
        };
        let (x, y) = futures_util::future::join(open("2026-09-01"), open("2026-10-01")).await;
        let mut statuses = [x.status, y.status];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 409],
            "round {round}: {} / {}",
            x.text,
            y.text
        );
        let amendment = if x.status == 201 { x.id() } else { y.id() };

        // An edit racing a signature: the signature either lands before the
        // edit (and is cleared by it) or names a stale hash (409).
        let current = get(&app, &rosa, &amendment).await;
        let hash = current.body["content_hash"].clone();
        let edit = app
            .patch(&format!("/v1/agreements/{amendment}"))
            .bearer(&rosa.token)
            .header("If-Match", "\"1\"")
            .json(json!({"promotion_plan": {"summary": format!("round {round}"), "channels": []}}))
            .send();
        let (edited, signed) =
            futures_util::future::join(edit, sign(&app, &kwame, &amendment, &hash)).await;
        match (edited.status, signed.status) {
            (200, 409) => {}
            (412, 201) => {}
            other => panic!(
                "round {round}: unexpected outcome {other:?}: {} / {}",
                edited.text, signed.text
            ),
        }
        let after = get(&app, &rosa, &amendment).await;
        let now_hash = after.body["content_hash"].clone();
        for s in after.body["signatures"].as_array().into_iter().flatten() {
            assert_eq!(
                s["content_hash"], now_hash,
                "round {round}: a signature counts only for its hash"
            );
        }
        // Both final signatures at once on the amendment.
        let (r1, r2) =
            futures_util::future::join(sign(&app, &rosa, &amendment, &now_hash), async {
                if signed.status == 201 {
                    get(&app, &kwame, &amendment).await
                } else {
                    sign(&app, &kwame, &amendment, &now_hash).await
                }
            })
            .await;
        assert!(
            r1.status == 201 && r2.status / 100 == 2,
            "round {round}: {} / {}",
            r1.text,
            r2.text
        );
        let done = get(&app, &rosa, &amendment).await;
        assert_eq!(done.body["status"], "active", "round {round}");

        // The invariants over the whole partnership.
        let all = app
            .get(&format!("/v1/partnerships/{pid}/agreements?limit=100"))
            .bearer(&rosa.token)
            .send()
            .await;
        let list = all.body["data"].as_array().cloned().unwrap_or_default();
        let active_count = list.iter().filter(|a| a["status"] == "active").count();
        assert_eq!(active_count, 1, "round {round}: one agreement active");
        for agreement in &list {
            for s in agreement["signatures"].as_array().into_iter().flatten() {
                assert_eq!(
                    s["content_hash"], agreement["content_hash"],
                    "round {round}"
                );
            }
        }
        let superseded: Vec<&Value> = list
            .iter()
            .filter(|a| a["status"] == "superseded")
            .collect();
        assert_eq!(superseded.len(), 1, "round {round}");
        assert_eq!(
            superseded[0]["superseded_from"],
            done.body["effective_from"]
        );
    }
}
