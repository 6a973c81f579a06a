//! Partnerships shared with partner organizations: any accepted party
//! shares and revokes; the organization's `partnerships:read` keys read
//! only what is shared with it, without personal data, and a revoke stops
//! reads at once.

use serde_json::json;

use crate::sales::{sale, sell, setup};
use crate::support::TestApp;

#[actix_web::test]
async fn a_shared_partnership_is_read_by_that_organization_only_until_revoked() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let otto = app.artisan("Otto").await;
    let (pid, parties, agreement) =
        setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let sold = sell(&app, &rosa, &pid, "s-1", sale(1000, "2026-03-01T10:00:00Z")).await;
    assert_eq!(sold.status, 201, "{}", sold.text);
    // Dated a thousand years ahead (a typo, say): the partnership's payouts
    // count it, and so does what an organization reads of them.
    let far = sell(&app, &rosa, &pid, "s-2", sale(2000, "3026-03-01T10:00:00Z")).await;
    assert_eq!(far.status, 201, "{}", far.text);
    let (aid, aid_key) = app.partner("Aid to Artisans", &["partnerships:read"]).await;
    let (_, other_key) = app.partner("Other Fund", &["partnerships:read"]).await;
    let (_, directory_key) = app.partner("Directory Only", &["directory:read"]).await;
    let read = |key: &str, path: &str| app.get(path).api_key(key).send();
    let path = format!("/v1/partner/partnerships/{pid}");

    // Nothing is shared yet.
    read(&aid_key, &path).await.assert_problem(404, "not-found");
    let listed = read(&aid_key, "/v1/partner/partnerships").await;
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);

    // Only accepted parties share; an unknown organization is a 422.
    let share = |who: &crate::support::Account, organization: &str| {
        app.post(&format!("/v1/partnerships/{pid}/shares"))
            .bearer(&who.token)
            .json(json!({"organization_id": organization}))
            .send()
    };
    share(&otto, &aid).await.assert_problem(404, "not-found");
    let unknown = share(&rosa, &uuid::Uuid::now_v7().to_string()).await;
    unknown.assert_problem(422, "validation");
    assert_eq!(unknown.error_fields(), ["organization_id"]);
    let shared = share(&kwame, &aid).await;
    assert_eq!(shared.status, 201, "{}", shared.text);
    assert_eq!(share(&rosa, &aid).await.status, 200, "sharing again");
    let shares = app
        .get(&format!("/v1/partnerships/{pid}/shares"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(
        shares.body["data"][0]["organization_name"], "Aid to Artisans",
        "{}",
        shares.text
    );
    app.get(&format!("/v1/partnerships/{pid}/shares"))
        .bearer(&otto.token)
        .send()
        .await
        .assert_problem(404, "not-found");

    // The organization reads it: names, agreements' splits, payouts; no
    // e-mails, no artisan ids.
    let detail = read(&aid_key, &path).await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_eq!(detail.body["title"], "Stall");
    let names: Vec<&str> = detail.body["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["display_name"].as_str())
        .collect();
    assert_eq!(names, ["Rosa", "Kwame"]);
    assert_eq!(detail.body["agreements"][0]["id"], json!(agreement));
    assert_eq!(detail.body["agreements"][0]["status"], "active");
    assert_eq!(detail.body["agreements"][0]["shares"][0]["share_bps"], 5000);
    let net: i64 = detail.body["payouts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["net_minor"].as_i64())
        .sum();
    assert_eq!(
        net, 3000,
        "both sales, as the partnership's payouts count them"
    );
    let rosas = detail.body["payouts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["party_id"] == json!(parties[0]))
        .map(|p| p["net_minor"].clone());
    assert_eq!(rosas, Some(json!(1500)));
    for personal in [&rosa.email, &kwame.email, &rosa.id, &kwame.id] {
        assert!(!detail.text.contains(personal.as_str()), "{}", detail.text);
    }
    let listed = read(&aid_key, "/v1/partner/partnerships").await;
    assert_eq!(listed.body["data"][0]["id"], json!(pid));

    // Another organization, or a key without the scope, does not.
    read(&other_key, &path)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(
        read(&other_key, "/v1/partner/partnerships").await.body["data"],
        json!([])
    );
    read(&directory_key, &path)
        .await
        .assert_problem(403, "forbidden");
    app.get(&path)
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");

    // Revoking stops reads at once; revoking again finds nothing.
    let revoke = |who: &crate::support::Account| {
        app.delete(&format!("/v1/partnerships/{pid}/shares/{aid}"))
            .bearer(&who.token)
            .send()
    };
    revoke(&otto).await.assert_problem(404, "not-found");
    assert_eq!(revoke(&rosa).await.status, 204);
    read(&aid_key, &path).await.assert_problem(404, "not-found");
    revoke(&rosa).await.assert_problem(404, "not-found");
}
