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
