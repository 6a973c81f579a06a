//! Partner organizations and API keys: admin-only management, keys shown
//! once, hashed at rest, checksummed, scoped, revocable and expiring.

use domain::api_key::{ApiKeySecret, Scope};
use serde_json::json;

use crate::support::TestApp;

/// The newest `limit` organizations, read straight from the database.
fn stored_organizations(
    app: &TestApp,
    limit: i64,
) -> Vec<persistence::organizations::OrganizationRow> {
    let first = persistence::Seek { after: None, limit };
    persistence::organizations::list(&mut app.conn(), first)
        .expect("db")
        .rows
}

#[actix_web::test]
async fn admins_manage_organizations() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = app
        .post("/v1/organizations")
        .bearer(&admin.token)
        .json(json!({"name": "Aid to Artisans", "website": "https://ata.example.org", "country": "US", "description": "Market access"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.id();
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/organizations/{id}"))
    );
    let one = app
        .get(&format!("/v1/organizations/{id}"))
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(one.body["name"], "Aid to Artisans");
    assert_eq!(one.header("etag").as_deref(), Some("\"1\""));
    let list = app
        .get("/v1/organizations")
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(list.body["data"][0]["id"], id.as_str());
    app.get("/v1/organizations/01900000-0000-7000-8000-000000000000")
        .bearer(&admin.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    let bad = app
        .post("/v1/organizations")
        .bearer(&admin.token)
        .json(json!({"name": "", "website": "not a url", "country": "USA"}))
        .send()
        .await;
    bad.assert_problem(422, "validation");
}

#[actix_web::test]
async fn artisans_and_partners_cannot_manage_organizations() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let key = app
        .partner_key(&[
            "directory:read",
            "programs:write",
            "impact:read",
            "webhooks:manage",
        ])
        .await;
    let body = json!({"name": "Sneaky", "description": ""});
    app.post("/v1/organizations")
        .bearer(&rosa.token)
        .json(body.clone())
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/organizations")
        .api_key(&key)
        .json(body.clone())
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/organizations")
        .json(body)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/v1/organizations")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let orgs = stored_organizations(&app, 10);
    assert_eq!(orgs.len(), 1, "only the fixture's organization exists");
    let org_id = &orgs[0].id;
    app.get(&format!("/v1/organizations/{org_id}"))
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.get(&format!("/v1/organizations/{org_id}/api-keys"))
        .api_key(&key)
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&rosa.token)
        .json(json!({"name": "mine", "scopes": ["directory:read"]}))
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn keys_are_shown_once_and_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let org = app
        .post("/v1/organizations")
        .bearer(&admin.token)
        .json(json!({"name": "ATA"}))
        .send()
        .await;
    let org_id = org.id();
    let res = app
        .post(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&admin.token)
        .json(json!({"name": "sync", "scopes": ["directory:read", "impact:read"]}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let key = res.body["key"].as_str().expect("plaintext once").to_owned();
    assert!(key.starts_with("ac_") && key.len() == 59, "{key}");
    assert_eq!(res.body["prefix"], &key[..11]);
    assert_eq!(res.body["scopes"], json!(["directory:read", "impact:read"]));
    let list = app
        .get(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(list.status, 200);
    assert!(!list.text.contains(&key), "the secret is never listed");
    assert!(list.body["data"][0].get("key").is_none());
    let stored = persistence::api_keys::find(&mut app.conn(), &res.id())
        .expect("db")
        .expect("row");
    assert_ne!(stored.key_hash, key);
    assert_eq!(stored.key_hash.len(), 64, "SHA-256 hex");
    assert!(stored.last_used_at.is_none());
    // Using it records last_used_at.
    assert_eq!(
        app.get("/v1/directory/artisans")
            .api_key(&key)
            .send()
            .await
            .status,
        200
    );
    let used = persistence::api_keys::find(&mut app.conn(), &res.id())
        .expect("db")
        .expect("row");
    assert!(used.last_used_at.is_some());
    let bad = app
        .post(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&admin.token)
        .json(json!({"name": "x", "scopes": ["everything"]}))
        .send()
        .await;
    bad.assert_problem(400, "bad-request");
    let past = app
        .post(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&admin.token)
        .json(json!({"name": "x", "scopes": ["impact:read"], "expires_at": "2020-01-01T00:00:00Z"}))
        .send()
        .await;
    past.assert_problem(422, "validation");
    assert_eq!(past.error_fields(), ["expires_at"]);
    app.post("/v1/organizations/01900000-0000-7000-8000-000000000000/api-keys")
        .bearer(&admin.token)
        .json(json!({"name": "x", "scopes": ["impact:read"]}))
        .send()
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn typos_revoked_expired_and_unknown_keys_are_401() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let key = app.partner_key(&["directory:read"]).await;
    // One character changed: the checksum fails.
    let mut typo = key.clone();
    typo.replace_range(20..21, if &key[20..21] == "a" { "b" } else { "a" });
    app.get("/v1/directory/artisans")
        .api_key(&typo)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    // Well-formed but never issued.
    let unknown = ApiKeySecret::from_random([7; 24]);
    app.get("/v1/directory/artisans")
        .api_key(unknown.expose())
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    // Expired.
    let org_id = stored_organizations(&app, 1)[0].id.clone();
    let expired = ApiKeySecret::from_random([9; 24]);
    persistence::api_keys::create(
        &mut app.conn(),
        persistence::api_keys::NewApiKey {
            organization_id: &org_id,
            name: "old".to_owned(),
            prefix: expired.display_prefix().to_owned(),
            key_hash: api::auth::keys::Keyring::derive(crate::support::JWT_SECRET.as_bytes())
                .api_key(&expired),
            scopes: vec![Scope::DirectoryRead],
            expires_at: Some(persistence::now() - chrono::Duration::minutes(1)),
        },
    )
    .expect("key");
    app.get("/v1/directory/artisans")
        .api_key(expired.expose())
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    // Revoked: works before, refused at once after.
    assert_eq!(
        app.get("/v1/directory/artisans")
            .api_key(&key)
            .send()
            .await
            .status,
        200
    );
    let keys = app
        .get(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&admin.token)
        .send()
        .await;
    let key_id = keys.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["prefix"] == key[..11])
        .and_then(|k| k["id"].as_str())
        .expect("listed")
        .to_owned();
    let rosa = app.artisan("Rosa").await;
    app.delete(&format!("/v1/api-keys/{key_id}"))
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        app.get("/v1/directory/artisans")
            .api_key(&key)
            .send()
            .await
            .status,
        200,
        "still valid"
    );
    let revoked = app
        .delete(&format!("/v1/api-keys/{key_id}"))
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(revoked.status, 204);
    app.get("/v1/directory/artisans")
        .api_key(&key)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let listed = app
        .get(&format!("/v1/organizations/{org_id}/api-keys"))
        .bearer(&admin.token)
        .send()
        .await;
    assert!(listed.text.contains("\"revoked_at\":\"20"));
    app.delete("/v1/api-keys/01900000-0000-7000-8000-000000000000")
        .bearer(&admin.token)
        .send()
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn creating_organizations_is_idempotent_per_principal() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let other_admin = app.admin().await;
    let body = json!({"name": "Weavers Fund", "country": "PE"});
    let send = |token: &str, key: &str, body: serde_json::Value| {
        app.post("/v1/organizations")
            .bearer(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
    };
    let first = send(&admin.token, "org-1", body.clone()).await;
    let replay = send(&admin.token, "org-1", body.clone()).await;
    assert_eq!((first.status, replay.status), (201, 201));
    assert_eq!(first.id(), replay.id());
    assert_eq!(replay.header("etag").as_deref(), Some("\"1\""));
    // The same key from another principal is another request.
    let theirs = send(&other_admin.token, "org-1", body.clone()).await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.id(), first.id());
    send(&admin.token, "org-1", json!({"name": "Something else"}))
        .await
        .assert_problem(422, "idempotency-conflict");
    let orgs = stored_organizations(&app, 10);
    assert_eq!(orgs.len(), 2);
    // A failed request does not burn the key.
    let invalid = send(&admin.token, "org-2", json!({"name": ""})).await;
    invalid.assert_problem(422, "validation");
    assert_eq!(
        send(&admin.token, "org-2", json!({"name": "Fixed"}))
            .await
            .status,
        201
    );
}
