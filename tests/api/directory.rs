//! The partner directory shows only artisans who consented.

use serde_json::json;

use crate::support::{ArtisanBuilder, TestApp};

#[actix_web::test]
async fn only_consenting_artisans_are_listed_with_the_usual_filters() {
    let app = TestApp::spawn().await;
    let shown = ArtisanBuilder::new("Rosa")
        .set("crafts", json!(["weaving"]))
        .set("country", json!("PE"))
        .set("discoverable_by_partners", json!(true))
        .build(&app)
        .await;
    let hidden = ArtisanBuilder::new("Amaru")
        .set("crafts", json!(["weaving"]))
        .build(&app)
        .await;
    let key = app.partner_key(&["directory:read"]).await;
    let res = app
        .get("/v1/directory/artisans?craft=weaving")
        .api_key(&key)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let listed: Vec<&str> = res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(listed, [shown.id.as_str()]);
    assert!(!res.text.contains(&hidden.id));
    let none = app
        .get("/v1/directory/artisans?country=GH")
        .api_key(&key)
        .send()
        .await;
    assert_eq!(none.body["data"], json!([]));
}

#[actix_web::test]
async fn the_directory_needs_a_key_with_directory_read() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    app.get("/v1/directory/artisans")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/v1/directory/artisans")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let impact_only = app.partner_key(&["impact:read"]).await;
    app.get("/v1/directory/artisans")
        .api_key(&impact_only)
        .send()
        .await
        .assert_problem(403, "forbidden");
}

/// Collectives and events are public to partners; the people in them are
/// not: a member or participant who did not consent is never listed, nor
/// named as the collective's creator.
#[actix_web::test]
async fn collectives_and_events_list_only_consenting_people() {
    let app = TestApp::spawn().await;
    let hidden = app.artisan("Amaru").await;
    let shown = ArtisanBuilder::new("Cora")
        .set("discoverable_by_partners", json!(true))
        .build(&app)
        .await;
    let collective = app
        .post("/v1/collectives")
        .bearer(&hidden.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "open",
                     "crafts": ["weaving"], "country": "PE"}))
        .send()
        .await;
    assert_eq!(collective.status, 201, "{}", collective.text);
    let collective = collective.id();
    let joined = app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&shown.token)
        .json(json!({"message": "hello"}))
        .send()
        .await;
    assert!(joined.status < 300, "{}", joined.text);
    let event = app
        .post("/v1/events")
        .bearer(&hidden.token)
        .json(
            json!({"name": "Feria de Puno", "kind": "fair", "venue": "Plaza", "city": "Puno",
                     "country": "PE", "starts_at": "2099-01-01T10:00:00Z",
                     "ends_at": "2099-01-02T10:00:00Z",
                     "organizer": {"collective_id": collective}}),
        )
        .send()
        .await;
    assert_eq!(event.status, 201, "{}", event.text);
    let event = event.id();
    for who in [&hidden, &shown] {
        let res = app
            .post(&format!("/v1/events/{event}/participants"))
            .bearer(&who.token)
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }

    let key = app.partner_key(&["directory:read"]).await;
    let read = |path: &str| app.get(path).api_key(&key).send();
    let collectives = read("/v1/directory/collectives?craft=weaving").await;
    assert_eq!(collectives.status, 200, "{}", collectives.text);
    assert_eq!(collectives.body["data"][0]["id"], json!(collective));
    assert_eq!(
        collectives.body["data"][0]["members"],
        json!([{"artisan_id": shown.id, "display_name": "Cora", "role": "member"}])
    );
    assert!(
        !collectives.text.contains(&hidden.id),
        "{}",
        collectives.text
    );
    let none = read("/v1/directory/collectives?country=GH").await;
    assert_eq!(none.body["data"], json!([]));

    let events = read("/v1/directory/events?country=PE").await;
    assert_eq!(events.status, 200, "{}", events.text);
    let listed = &events.body["data"][0];
    assert_eq!(listed["id"], json!(event));
    assert_eq!(listed["participants"], 2);
    assert_eq!(
        listed["listed_participants"],
        json!([{"artisan_id": shown.id, "display_name": "Cora"}])
    );
    assert!(!events.text.contains(&hidden.id), "{}", events.text);
    read("/v1/directory/events?country=peru")
        .await
        .assert_problem(400, "bad-request");

    // The scope is needed; a person's token is not a partner's key.
    let impact_only = app.partner_key(&["impact:read"]).await;
    for path in ["/v1/directory/collectives", "/v1/directory/events"] {
        app.get(path)
            .api_key(&impact_only)
            .send()
            .await
            .assert_problem(403, "forbidden");
        app.get(path)
            .bearer(&shown.token)
            .send()
            .await
            .assert_problem(403, "forbidden");
        app.get(path)
            .send()
            .await
            .assert_problem(401, "unauthenticated");
    }
}
