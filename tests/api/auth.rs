//! Registration, sign-in, refresh rotation, sign-out and the strictness of
//! access-token validation.

use api::auth::jwt::{AUDIENCE, ISSUER};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

use crate::support::{TestApp, PASSWORD};

const SECRET: &[u8] = b"test-secret-that-is-long-enough-0123456789";

#[actix_web::test]
async fn register_creates_an_account_with_its_profile() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/v1/auth/register")
        .json(json!({"email": "Rosa@Example.org", "password": PASSWORD, "display_name": "  Rosa Quispe "}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location"), Some(format!("/v1/artisans/{id}")));
    assert_eq!(res.body["role"], "artisan");
    assert_eq!(res.body["profile"]["id"], id.as_str());
    assert_eq!(res.body["profile"]["display_name"], "Rosa Quispe");
    assert_eq!(res.body["profile"]["discoverable_by_partners"], false);
    assert!(res.body["profile"].get("email").is_none());
    // The stored hash is Argon2id with the explicit parameters.
    let user = persistence::users::find(&mut app.conn(), &id)
        .expect("db")
        .expect("user");
    let hash = user.password_hash.expect("hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[actix_web::test]
async fn emails_are_unique_case_insensitively() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "amaru@example.org", "password": PASSWORD, "display_name": "Amaru"});
    assert_eq!(
        app.post("/v1/auth/register").json(body).send().await.status,
        201
    );
    app.post("/v1/auth/register")
        .json(json!({"email": "AMARU@example.ORG", "password": PASSWORD, "display_name": "Other"}))
        .send()
        .await
        .assert_problem(409, "conflict");
}

#[actix_web::test]
async fn registration_rules_are_reported_per_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/v1/auth/register")
        .json(json!({"email": "not-an-email", "password": "short", "display_name": ""}))
        .send()
        .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["email", "password", "display_name"]);
    let long = "p".repeat(129);
    let res = app
        .post("/v1/auth/register")
        .json(json!({"email": "a@example.org", "password": long, "display_name": "A"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["password"]);
}

#[actix_web::test]
async fn wrong_email_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let wrong_password = app
        .post("/v1/auth/login")
        .json(json!({"email": rosa.email, "password": "not the password"}))
        .send()
        .await;
    let unknown = app
        .post("/v1/auth/login")
        .json(json!({"email": "nobody@example.org", "password": "not the password"}))
        .send()
        .await;
    wrong_password.assert_problem(401, "unauthenticated");
    unknown.assert_problem(401, "unauthenticated");
    assert_eq!(wrong_password.body["detail"], unknown.body["detail"]);
    assert!(wrong_password
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
}

#[actix_web::test]
async fn login_returns_a_bearer_pair_that_works() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let tokens = app.login(&rosa.email, PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me = app
        .get("/v1/me")
        .bearer(tokens["access_token"].as_str().unwrap_or_default())
        .send()
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], rosa.id.as_str());
}

async fn refresh(app: &TestApp, token: &str) -> crate::support::Resp {
    app.post("/v1/auth/refresh")
        .json(json!({"refresh_token": token}))
        .send()
        .await
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let first = refresh(&app, &rosa.refresh).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second_token = first.body["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(second_token, rosa.refresh);
    // Reusing the rotated token is refused and revokes the family...
    refresh(&app, &rosa.refresh)
        .await
        .assert_problem(401, "unauthenticated");
    // ...so the newest token stops working too.
    refresh(&app, &second_token)
        .await
        .assert_problem(401, "unauthenticated");
    // A new sign-in starts a new, working family.
    let tokens = app.login(&rosa.email, PASSWORD).await;
    assert_eq!(
        refresh(&app, tokens["refresh_token"].as_str().unwrap_or_default())
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn concurrent_refreshes_of_one_token_rotate_once() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let results =
        futures_util::future::join_all((0..4).map(|_| refresh(&app, &rosa.refresh))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(ok <= 1, "at most one concurrent use succeeds, got {ok}");
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
}

#[actix_web::test]
async fn logout_revokes_the_family_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let res = app
        .post("/v1/auth/logout")
        .json(json!({"refresh_token": rosa.refresh}))
        .send()
        .await;
    assert_eq!(res.status, 204);
    refresh(&app, &rosa.refresh)
        .await
        .assert_problem(401, "unauthenticated");
    let again = app
        .post("/v1/auth/logout")
        .json(json!({"refresh_token": rosa.refresh}))
        .send()
        .await;
    assert_eq!(again.status, 204);
}

fn claims(sub: &str, overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now + 600, "iat": now, "nbf": now,
        "jti": "test", "typ": "access", "role": "artisan"
    });
    if let (Some(base), Some(extra)) = (claims.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            if v.is_null() {
                base.remove(k);
            } else {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    claims
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

#[actix_web::test]
async fn access_tokens_are_validated_strictly() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let now = chrono::Utc::now().timestamp();
    // Sanity: a well-formed token signed with the right key works.
    let good = sign(&claims(&rosa.id, json!({})), SECRET);
    assert_eq!(app.get("/v1/me").bearer(&good).send().await.status, 200);

    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&rosa.id, json!({})).to_string());
    let alg_none = format!("{header_none}.{payload}.");
    let hs512 = encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(&rosa.id, json!({})),
        &EncodingKey::from_secret(SECRET),
    )
    .expect("sign");
    let rejected = [
        ("alg none", alg_none),
        ("wrong algorithm", hs512),
        (
            "wrong key",
            sign(
                &claims(&rosa.id, json!({})),
                b"another-secret-that-is-long-enough-000",
            ),
        ),
        (
            "expired",
            sign(
                &claims(
                    &rosa.id,
                    json!({"exp": now - 120, "iat": now - 1200, "nbf": now - 1200}),
                ),
                SECRET,
            ),
        ),
        (
            "not yet valid",
            sign(&claims(&rosa.id, json!({"nbf": now + 300})), SECRET),
        ),
        (
            "issued in the future",
            sign(&claims(&rosa.id, json!({"iat": now + 300})), SECRET),
        ),
        (
            "missing iat",
            sign(&claims(&rosa.id, json!({"iat": null})), SECRET),
        ),
        (
            "wrong audience",
            sign(&claims(&rosa.id, json!({"aud": "someone-else"})), SECRET),
        ),
        (
            "wrong issuer",
            sign(&claims(&rosa.id, json!({"iss": "evil"})), SECRET),
        ),
        (
            "missing exp",
            sign(&claims(&rosa.id, json!({"exp": null})), SECRET),
        ),
        (
            "not an access token",
            sign(&claims(&rosa.id, json!({"typ": "refresh"})), SECRET),
        ),
        (
            "a role the account does not have",
            sign(&claims(&rosa.id, json!({"role": "admin"})), SECRET),
        ),
        (
            "missing role",
            sign(&claims(&rosa.id, json!({"role": null})), SECRET),
        ),
        (
            "unknown role",
            sign(&claims(&rosa.id, json!({"role": "root"})), SECRET),
        ),
        (
            "unknown subject",
            sign(
                &claims("01900000-0000-7000-8000-000000000000", json!({})),
                SECRET,
            ),
        ),
        ("refresh token as access token", rosa.refresh.clone()),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (case, token) in rejected {
        let res = app.get("/v1/me").bearer(&token).send().await;
        assert_eq!(res.status, 401, "{case} must be refused: {}", res.text);
        res.assert_problem(401, "unauthenticated");
    }
    // An access token is not a refresh token either.
    refresh(&app, &rosa.token)
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn a_suspended_account_is_refused_everywhere() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let admin = app.admin().await;
    let suspended = app
        .post(&format!("/v1/admin/users/{}/suspension", rosa.id))
        .bearer(&admin.token)
        .json(json!({"reason": "spam"}))
        .send()
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    app.assert_shut_out(&rosa).await;
    app.get("/v1/artisans")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

/// The account is checked in a request's first database hop; requests
/// that end before one (a 403 for the wrong role, a 422 for a bad body, a
/// 404 for someone else's profile) are checked after the handler, so a
/// suspended account still gets its 401 and changes nothing.
#[actix_web::test]
async fn requests_that_never_reach_the_database_check_the_account_too() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let other = app.artisan("Other").await;
    let admin = app.admin().await;
    let profile = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    let etag = profile.header("etag").expect("etag");
    let early_answers = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        let (rosa, other, etag) = (&rosa.id, &other.id, &etag);
        async move {
            let not_admin = app.get("/v1/admin/audit-log").bearer(&token).send().await;
            let bad_body = app
                .patch(&format!("/v1/artisans/{rosa}"))
                .bearer(&token)
                .header("If-Match", etag)
                .json(json!({"display_name": ""}))
                .send()
                .await;
            let not_hers = app
                .patch(&format!("/v1/artisans/{other}"))
                .bearer(&token)
                .header("If-Match", etag)
                .json(json!({"bio": "mine now"}))
                .send()
                .await;
            [not_admin.status, bad_body.status, not_hers.status]
        }
    };
    assert_eq!(early_answers(&rosa.token).await, [403, 422, 404]);
    let suspended = app
        .post(&format!("/v1/admin/users/{}/suspension", rosa.id))
        .bearer(&admin.token)
        .json(json!({"reason": "spam"}))
        .send()
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    assert_eq!(early_answers(&rosa.token).await, [401, 401, 401]);
    let renamed = app
        .patch(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .header("If-Match", &etag)
        .json(json!({"display_name": "Renamed"}))
        .send()
        .await;
    renamed.assert_problem(401, "unauthenticated");
    let seen = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&other.token)
        .send()
        .await;
    assert_eq!(seen.body["display_name"], "Rosa", "nothing changed");
    // An admin's token keeps working as the admin's.
    let log = app
        .get("/v1/admin/audit-log")
        .bearer(&admin.token)
        .send()
        .await;
    assert_eq!(log.status, 200, "{}", log.text);
}

#[actix_web::test]
async fn registration_is_idempotent_with_a_key() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "kwame@example.org", "password": PASSWORD, "display_name": "Kwame"});
    let first = app
        .post("/v1/auth/register")
        .header("Idempotency-Key", "reg-1")
        .json(body.clone())
        .send()
        .await;
    let replay = app
        .post("/v1/auth/register")
        .header("Idempotency-Key", "reg-1")
        .json(body)
        .send()
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.text, first.text,
        "the stored first response is replayed"
    );
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    // The same caller (same e-mail and password) changing the body: 422.
    let different = app
        .post("/v1/auth/register")
        .header("Idempotency-Key", "reg-1")
        .json(json!({"email": "kwame@example.org", "password": PASSWORD, "display_name": "Other"}))
        .send()
        .await;
    different.assert_problem(422, "idempotency-conflict");
    // Another anonymous client that happens to pick the same key has a
    // scope of its own: its registration runs, nothing of Kwame's is seen.
    let other = app
        .post("/v1/auth/register")
        .header("Idempotency-Key", "reg-1")
        .json(json!({"email": "other@example.org", "password": PASSWORD, "display_name": "Other"}))
        .send()
        .await;
    assert_eq!(other.status, 201, "{}", other.text);
    assert!(other.header("idempotent-replayed").is_none());
    assert_ne!(other.id(), first.id());
    let guess = app
        .post("/v1/auth/register")
        .header("Idempotency-Key", "reg-1")
        .json(json!({"email": "kwame@example.org", "password": "a different password", "display_name": "Kwame"}))
        .send()
        .await;
    guess.assert_problem(409, "conflict");
    assert!(
        !guess.text.contains(&first.id()),
        "no replay without the password"
    );
    app.post("/v1/auth/register")
        .header("Idempotency-Key", "")
        .json(json!({"email": "x@example.org", "password": PASSWORD, "display_name": "X"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
}
