//! Impact figures: right per month, suppressed below five artisans, and
//! suppressed where a subtraction of two answers would isolate fewer.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::sales::{amounts, refund, sell, setup};
use crate::support::{Account, ArtisanBuilder, TestApp};

fn this_month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

async fn maker(app: &TestApp, name: &str, country: &str, crafts: &[&str]) -> Account {
    ArtisanBuilder::new(name)
        .set("crafts", json!(crafts))
        .set("country", json!(country))
        .build(app)
        .await
}

/// A program open to anyone, published with `key` (`programs:write`).
pub(crate) async fn open_program(app: &TestApp, key: &str) -> String {
    let today = Utc::now().date_naive();
    let res = app
        .post("/v1/programs")
        .api_key(key)
        .json(
            json!({"title": "Open call", "kind": "training", "description": "For anyone.",
                     "eligibility": {"countries": [], "crafts": []},
                     "opens_on": (today - Duration::days(1)).to_string(),
                     "closes_on": (today + Duration::days(30)).to_string()}),
        )
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.id()
}

pub(crate) async fn apply(app: &TestApp, program: &str, who: &Account) {
    let res = app
        .post(&format!("/v1/programs/{program}/applications"))
        .bearer(&who.token)
        .json(json!({"statement": "I would like to take part."}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

/// The figures of the current month for `filter` (`country=PE&…`).
async fn month(app: &TestApp, key: &str, filter: &str) -> Value {
    let m = this_month();
    let res = app
        .get(&format!("/v1/impact?from={m}&to={m}&{filter}"))
        .api_key(key)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["min_contributors"], 5);
    res.body["months"][0].clone()
}

fn applications(figures: &Value) -> Value {
    figures["program_applications"].clone()
}

fn suppressed() -> Value {
    json!({"value": null, "suppressed": true})
}

fn published(value: i64) -> Value {
    json!({"value": value, "suppressed": false})
}

#[actix_web::test]
async fn four_artisans_are_suppressed_and_the_fifth_publishes() {
    let app = TestApp::spawn().await;
    let key = app.partner_key(&["impact:read"]).await;
    let program = open_program(&app, &app.partner_key(&["programs:write"]).await).await;
    let mut weavers = Vec::new();
    for n in 0..5 {
        weavers.push(maker(&app, &format!("Weaver {n}"), "PE", &["weaving"]).await);
    }
    for w in &weavers[..4] {
        apply(&app, &program, w).await;
    }
    for filter in [
        "",
        "country=PE",
        "craft=weaving",
        "country=PE&craft=weaving",
    ] {
        let figures = month(&app, &key, filter).await;
        assert_eq!(applications(&figures), suppressed(), "{filter}");
        assert_eq!(figures["artisans_active"], suppressed(), "{filter}");
        // Nothing else happened: a zero describes nobody.
        assert_eq!(figures["workshops_held"], published(0), "{filter}");
    }

    apply(&app, &program, &weavers[4]).await;
    for filter in [
        "",
        "country=PE",
        "craft=weaving",
        "country=PE&craft=weaving",
    ] {
        let figures = month(&app, &key, filter).await;
        assert_eq!(applications(&figures), published(5), "{filter}");
        assert_eq!(figures["artisans_active"], published(5), "{filter}");
    }
    // Another country's cell is empty, not suppressed.
    let ghana = month(&app, &key, "country=GH").await;
    assert_eq!(applications(&ghana), published(0));
}

#[actix_web::test]
async fn subtracting_a_craft_or_a_country_from_a_total_reveals_nobody() {
    let app = TestApp::spawn().await;
    let key = app.partner_key(&["impact:read"]).await;
    let program = open_program(&app, &app.partner_key(&["programs:write"]).await).await;
    for n in 0..5 {
        let w = maker(&app, &format!("Weaver {n}"), "PE", &["weaving", "dyeing"]).await;
        apply(&app, &program, &w).await;
    }
    // One potter who also weaves: counted under pottery, the craft listed
    // first.
    let potter = maker(&app, "Potter", "PE", &["pottery", "weaving"]).await;
    apply(&app, &program, &potter).await;

    // Peru as a whole: six artisans.
    assert_eq!(
        applications(&month(&app, &key, "country=PE").await),
        published(6)
    );
    // Peru's weavers alone would be five — but Peru minus Peru's weavers is
    // the one potter, so the weavers are not published; nor is the craft
    // on its own (the whole platform minus the weavers is the potter).
    for filter in [
        "country=PE&craft=weaving",
        "craft=weaving",
        "craft=pottery",
        "country=PE&craft=pottery",
    ] {
        assert_eq!(
            applications(&month(&app, &key, filter).await),
            suppressed(),
            "{filter}"
        );
    }

    // Two Ghanaians join: the whole platform (8) is published, so Peru (6)
    // may not be — 8 - 6 would describe the two of them.
    for n in 0..2 {
        let w = maker(&app, &format!("Ghana {n}"), "GH", &["weaving"]).await;
        apply(&app, &program, &w).await;
    }
    assert_eq!(applications(&month(&app, &key, "").await), published(8));
    assert_eq!(
        applications(&month(&app, &key, "country=PE").await),
        suppressed()
    );
    assert_eq!(
        applications(&month(&app, &key, "country=GH").await),
        suppressed()
    );

    // With five in each group every figure is published, and every
    // difference is a published figure itself.
    for n in 0..3 {
        let w = maker(&app, &format!("Ghana {}", n + 2), "GH", &["weaving"]).await;
        apply(&app, &program, &w).await;
    }
    for n in 0..4 {
        let p = maker(&app, &format!("Potter {n}"), "PE", &["pottery"]).await;
        apply(&app, &program, &p).await;
    }
    let figure = |filter: &'static str| {
        let app = &app;
        let key = &key;
        async move { applications(&month(app, key, filter).await)["value"].as_i64() }
    };
    assert_eq!(figure("").await, Some(15));
    assert_eq!(figure("country=PE").await, Some(10));
    assert_eq!(figure("country=GH").await, Some(5));
    assert_eq!(figure("country=PE&craft=weaving").await, Some(5));
    assert_eq!(figure("country=PE&craft=pottery").await, Some(5));
    assert_eq!(figure("craft=weaving").await, Some(10));
}

#[actix_web::test]
async fn revenue_partnerships_and_agreements_are_counted_per_month() {
    let app = TestApp::spawn().await;
    let key = app.partner_key(&["impact:read"]).await;
    let mut partnerships = Vec::new();
    for n in 0..3 {
        let a = app.artisan(&format!("Maker {n}a")).await;
        let b = app.artisan(&format!("Maker {n}b")).await;
        let (pid, _, _) = setup(&app, &a, &b, [6000, 3000, 1000], "2026-01-01").await;
        partnerships.push((a, pid));
    }
    let (mut to_artisans, mut to_beneficiaries) = (0, 0);
    for (n, (a, pid)) in partnerships.iter().enumerate() {
        let body = json!({"amount_minor": 10_000 + n as i64, "currency": "PEN",
                          "occurred_at": "2026-10-15T10:00:00Z", "channel": "online",
                          "description": "Scarves"});
        let res = sell(&app, a, pid, &format!("sale-{n}"), body).await;
        assert_eq!(res.status, 201, "{}", res.text);
        let lines = amounts(&res);
        to_artisans += lines[0] + lines[1];
        to_beneficiaries += lines[2];
        if n == 0 {
            // A refund recorded later counts in the month of its sale.
            let refund = refund(&app, a, &res.id(), "refund-0", 2_999).await;
            assert_eq!(refund.status, 201, "{}", refund.text);
            let back: Vec<i64> = refund.body["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| !l["refund_id"].is_null())
                .filter_map(|l| l["amount_minor"].as_i64())
                .collect();
            to_artisans += back[0] + back[1];
            to_beneficiaries += back[2];
        }
    }
    let res = app
        .get("/v1/impact?from=2026-09&to=2026-11")
        .api_key(&key)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let months = res.body["months"].as_array().expect("months");
    assert_eq!(
        months
            .iter()
            .map(|m| m["month"].clone())
            .collect::<Vec<_>>(),
        [json!("2026-09"), json!("2026-10"), json!("2026-11")]
    );
    let october = &months[1];
    let revenue = &october["revenue"][0];
    assert_eq!(revenue["currency"], "PEN");
    assert_eq!(revenue["suppressed"], false);
    assert_eq!(revenue["gross_minor"], 10_000 + 10_001 + 10_002 - 2_999);
    assert_eq!(revenue["to_artisans_minor"], to_artisans);
    assert_eq!(revenue["to_beneficiaries_minor"], to_beneficiaries);
    assert_eq!(to_artisans + to_beneficiaries, 30_003 - 2_999);
    assert_eq!(october["partnerships_active"], published(3));
    assert_eq!(october["artisans_active"], published(6));
    assert_eq!(months[0]["revenue"], json!([]));
    assert_eq!(months[0]["artisans_active"], published(0));

    // The agreements came into force this month, signed by six artisans.
    let now = month(&app, &key, "").await;
    assert_eq!(now["agreements_signed"], published(3));
    assert_eq!(now["partnerships_active"], published(3));
    assert_eq!(
        now["exchange_hours"],
        json!({"value": 0.0, "suppressed": false})
    );
}

#[actix_web::test]
async fn impact_needs_its_scope_and_well_formed_filters() {
    let app = TestApp::spawn().await;
    let key = app.partner_key(&["impact:read"]).await;
    let directory = app.partner_key(&["directory:read"]).await;
    let rosa = app.artisan("Rosa").await;
    app.get("/v1/impact")
        .api_key(&directory)
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.get("/v1/impact")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.get("/v1/impact")
        .send()
        .await
        .assert_problem(401, "unauthenticated");

    // The default period: the twelve months up to this one.
    let res = app.get("/v1/impact").api_key(&key).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["months"].as_array().map(Vec::len), Some(12));
    assert_eq!(res.body["to"], this_month());

    for (query, field) in [
        ("from=2026-13", "from"),
        ("to=2026-1", "to"),
        ("from=2026-05&to=2026-04", "from"),
        ("from=2024-01&to=2026-01", "from"),
        ("country=Peru", "country"),
        ("craft=Weaving!", "craft"),
    ] {
        let res = app
            .get(&format!("/v1/impact?{query}"))
            .api_key(&key)
            .send()
            .await;
        res.assert_problem(400, "bad-request");
        assert_eq!(res.error_fields(), [field], "{query}");
    }
}
