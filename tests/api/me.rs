//! The signed-in account, and closing it.

use serde_json::json;

use crate::support::{ArtisanBuilder, TestApp, PASSWORD};

#[actix_web::test]
async fn me_shows_account_and_profile_with_an_etag() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let res = app.get("/v1/me").bearer(&rosa.token).send().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["email"], rosa.email.as_str());
    assert_eq!(res.body["role"], "artisan");
    assert_eq!(res.body["profile"]["id"], rosa.id.as_str());
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    app.get("/v1/me")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn closing_an_account_needs_the_current_etag() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    app.delete("/v1/me")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(428, "precondition-required");
    app.delete("/v1/me")
        .bearer(&rosa.token)
        .header("If-Match", "\"7\"")
        .send()
        .await
        .assert_problem(412, "precondition-failed");
    // Well-formed tags that are not the current strong ETag fail the
    // precondition; only what is not entity-tag syntax is malformed.
    for stale in ["W/\"1\"", "\"abc\"", "\"2\", \"3\""] {
        app.delete("/v1/me")
            .bearer(&rosa.token)
            .header("If-Match", stale)
            .send()
            .await
            .assert_problem(412, "precondition-failed");
    }
    for malformed in ["3", "abc", "\"1", "\"1\" \"2\""] {
        app.delete("/v1/me")
            .bearer(&rosa.token)
            .header("If-Match", malformed)
            .send()
            .await
            .assert_problem(400, "bad-request");
    }
    // `*` would skip the check that prevents lost updates.
    app.delete("/v1/me")
        .bearer(&rosa.token)
        .header("If-Match", "*")
        .send()
        .await
        .assert_problem(428, "precondition-required");
    // Nothing changed.
    assert_eq!(
        app.get("/v1/me").bearer(&rosa.token).send().await.status,
        200
    );
}

#[actix_web::test]
async fn closing_an_account_erases_personal_data_and_keeps_the_id() {
    let app = TestApp::spawn().await;
    let rosa = ArtisanBuilder::new("Rosa Quispe")
        .set("bio", json!("Weaver from Cusco"))
        .set("crafts", json!(["weaving"]))
        .set("country", json!("PE"))
        .set("discoverable_by_partners", json!(true))
        .build(&app)
        .await;
    let amaru = app.artisan("Amaru").await;
    let res = app
        .delete("/v1/me")
        .bearer(&rosa.token)
        .header("If-Match", "\"2\"")
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text);

    // Credentials are gone: the token, the refresh token and the password.
    app.assert_shut_out(&rosa).await;

    // Others still find the id, shown as a former member with nothing personal.
    let profile = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&amaru.token)
        .send()
        .await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.body["former_member"], true);
    assert_eq!(profile.body["display_name"], "Former member");
    assert_eq!(profile.body["bio"], "");
    assert_eq!(profile.body["crafts"], json!([]));
    assert_eq!(profile.body["country"], json!(null));
    let user = persistence::users::find(&mut app.conn(), &rosa.id)
        .expect("db")
        .expect("row kept");
    assert!(user.email.is_none() && user.email_key.is_none() && user.password_hash.is_none());
    // Former members are not listed in searches.
    let list = app
        .get("/v1/artisans?craft=weaving")
        .bearer(&amaru.token)
        .send()
        .await;
    assert_eq!(list.body["data"], json!([]));
    // The e-mail address can be used again.
    let again = app
        .post("/v1/auth/register")
        .json(json!({"email": rosa.email, "password": PASSWORD, "display_name": "Rosa"}))
        .send()
        .await;
    assert_eq!(again.status, 201);
}
