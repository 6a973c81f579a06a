//! Secrets are never at rest in clear (SPEC §2): after a scenario that hands
//! out every kind of secret — a password at registration (with an
//! Idempotency-Key), access and refresh tokens at sign-in and refresh, an
//! API key created with an Idempotency-Key — no stored byte holds any of
//! them, neither in clear nor as a plain (unkeyed) SHA-256.

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::TestApp;

fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// Everything stored, as text: every row of every table on PostgreSQL;
/// the database file and its write-ahead log, byte for byte, on SQLite
/// (which also covers pages that were freed).
fn everything_stored(app: &TestApp) -> Vec<(String, String)> {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        return ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let file = format!("{path}{suffix}");
                std::fs::read(&file)
                    .ok()
                    .map(|bytes| (file, String::from_utf8_lossy(&bytes).into_owned()))
            })
            .collect();
    }
    let mut conn = PgConnection::establish(&app.database_url).expect("connect");
    let tables: Vec<Text> = diesel::sql_query(
        "SELECT table_name AS text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(&mut conn)
    .expect("tables");
    assert!(tables.len() > 20, "the walk found the tables");
    tables
        .into_iter()
        .flat_map(|table| {
            let rows: Vec<Text> = diesel::sql_query(format!(
                "SELECT CAST(t AS TEXT) AS text FROM \"{}\" t",
                table.text
            ))
            .load(&mut conn)
            .expect("rows");
            rows.into_iter()
                .map(move |row| (table.text.clone(), row.text))
        })
        .collect()
}

#[actix_web::test]
async fn no_secret_handed_out_is_stored_in_clear_or_under_plain_sha256() {
    let app = TestApp::spawn().await;
    let mut handed_out: Vec<(&str, String)> = Vec::new();

    let password = "a password only Rosa knows 7781";
    let body = json!({"email": "rosa@example.org", "password": password, "display_name": "Rosa"});
    for _ in 0..2 {
        let res = app
            .post("/v1/auth/register")
            .header("Idempotency-Key", "register-rosa")
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    handed_out.push(("password", password.to_owned()));
    let tokens = app.login("rosa@example.org", password).await;
    let first_refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    handed_out.push((
        "access token",
        tokens["access_token"].as_str().expect("access").to_owned(),
    ));
    let refreshed = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": first_refresh}))
        .send()
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    handed_out.push(("first refresh token", first_refresh));
    let second_refresh = refreshed.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    handed_out.push(("second refresh token", second_refresh.clone()));

    let admin = app.admin().await;
    handed_out.push(("admin refresh token", admin.refresh.clone()));
    let org = app
        .post("/v1/organizations")
        .bearer(&admin.token)
        .json(json!({"name": "Aid to Artisans", "description": "Partner"}))
        .send()
        .await;
    let issue = || {
        app.post(&format!("/v1/organizations/{}/api-keys", org.id()))
            .bearer(&admin.token)
            .header("Idempotency-Key", "key-1")
            .json(json!({"name": "integration", "scopes": ["directory:read"]}))
    };
    let issued = issue().send().await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let key = issued.body["key"].as_str().expect("key").to_owned();
    // A lost response can be fetched again: the replay comes from the
    // sealed copy and still shows the key, once more, to the same caller.
    let replay = issue().send().await;
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.body["key"], key.as_str());
    let used = app.get("/v1/directory/artisans").api_key(&key).send().await;
    assert_eq!(used.status, 200, "{}", used.text);
    // A webhook signing secret, with an idempotent replay of its creation.
    let hooks_key = app
        .post(&format!("/v1/organizations/{}/api-keys", org.id()))
        .bearer(&admin.token)
        .json(json!({"name": "hooks", "scopes": ["webhooks:manage"]}))
        .send()
        .await
        .body["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let register = || {
        app.post("/v1/webhook-endpoints")
            .api_key(&hooks_key)
            .header("Idempotency-Key", "hook-1")
            .json(json!({"url": "https://hooks.example.org/in", "events": ["settlement.created"]}))
    };
    let registered = register().send().await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let signing = registered.body["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_eq!(register().send().await.body["secret"], signing.as_str());
    handed_out.push(("webhook API key", hooks_key));
    handed_out.push(("webhook signing secret", signing.clone()));
    // Its bytes (what HMAC is keyed with) are not stored either.
    handed_out.push((
        "webhook signing secret's key",
        signing["whsec_".len()..].to_owned(),
    ));
    handed_out.push(("API key", key));
    let signed_out = app
        .post("/v1/auth/logout")
        .json(json!({"refresh_token": second_refresh}))
        .send()
        .await;
    assert_eq!(signed_out.status, 204);

    // The request fingerprint an unkeyed store would keep: SHA-256 of the
    // operation and the registration body, password included.
    let unkeyed_request = sha256_hex(&format!(
        "register\0{{\"email\":\"rosa@example.org\",\"password\":\"{password}\",\"display_name\":\"Rosa\"}}"
    ));

    let stored = everything_stored(&app);
    // Control: the scan does read what is stored (the e-mail address and
    // the API key's display prefix are kept in clear, as they should be).
    let prefix = &handed_out.last().expect("key").1[..11];
    for visible in ["rosa@example.org", prefix] {
        assert!(
            stored.iter().any(|(_, text)| text.contains(visible)),
            "the scan does not see {visible}"
        );
    }
    for (place, text) in &stored {
        assert!(
            !text.contains(&unkeyed_request),
            "the registration (with its password) is stored under plain SHA-256 in {place}"
        );
    }
    for (what, secret) in &handed_out {
        let hashed = sha256_hex(secret);
        for (place, text) in &stored {
            assert!(
                !text.contains(secret.as_str()),
                "the {what} is stored in clear in {place}"
            );
            assert!(
                !text.contains(&hashed),
                "the {what} is stored as plain SHA-256 in {place}"
            );
        }
    }
}
