//! `seed-demo`: the world a newcomer explores after the README's first
//! command, built by the real binary against the test database.

use std::process::Command;

use serde_json::Value;

use crate::support::{TestApp, JWT_SECRET};

#[actix_web::test]
async fn seed_demo_builds_partnerships_with_an_amended_agreement() {
    let app = TestApp::spawn().await;
    let output = Command::new(env!("CARGO_BIN_EXE_artisan-commons"))
        .arg("seed-demo")
        .env("DATABASE_URL", &app.database_url)
        .env("JWT_SECRET", JWT_SECRET)
        .env("LOG_FORMAT", "json")
        .output()
        .expect("run seed-demo");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        printed.contains("3 partnerships, 2 exchanges and 1 workshop"),
        "{printed}"
    );

    let tokens = app.login("demo-2@example.org", "demo-password-2026").await;
    let token = tokens["access_token"].as_str().expect("token");
    let mine = app.get("/v1/partnerships").bearer(token).send().await;
    let textile = &mine.body["data"][0];
    assert_eq!(textile["kind"], "co_branded_collection");
    assert_eq!(textile["status"], "active");
    assert_eq!(textile["parties"].as_array().map(Vec::len), Some(3));

    let id = textile["id"].as_str().expect("id");
    let agreements = app
        .get(&format!("/v1/partnerships/{id}/agreements"))
        .bearer(token)
        .send()
        .await;
    let list = agreements.body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let status_of = |kind: &str| -> Vec<Value> {
        list.iter()
            .filter(|a| a["kind"] == kind)
            .map(|a| a["status"].clone())
            .collect()
    };
    assert_eq!(status_of("original"), ["superseded"]);
    assert_eq!(status_of("amendment"), ["active"]);
    let active = list
        .iter()
        .find(|a| a["status"] == "active")
        .expect("active");
    assert_eq!(active["signatures"].as_array().map(Vec::len), Some(3));
    assert!(active["revenue_split"]["shares"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["recipient"]["beneficiary"]["name"].is_string()));

    // Market events: the October festival's four participants sharing its
    // booth, its booth fee netted in the settlement, sales at it summed for
    // the organiser, and a March fair with four places taken and one
    // waiting.
    let events = app.get("/v1/events").bearer(token).send().await;
    let names: Vec<&str> = events.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Festival de Tejidos de Chinchero",
            "Feria de Artesanía de Cusco"
        ]
    );
    let festival = events.body["data"][0]["id"].as_str().expect("festival");
    assert_eq!(events.body["data"][0]["participants"], 4);
    assert_eq!(
        cost_shares(&app, token, festival).await,
        [15_000; 4],
        "60 000 split four ways"
    );
    let summary = app
        .get(&format!("/v1/events/{festival}/sales-summary"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(
        summary.body["currencies"][0]["gross_minor"], 87_750,
        "{}",
        summary.text
    );
    let fair = &events.body["data"][1];
    assert_eq!(
        (fair["participants"].clone(), fair["waitlisted"].clone()),
        (4.into(), 1.into())
    );
    assert_eq!(
        cost_shares(&app, token, fair["id"].as_str().expect("fair")).await,
        [22_501, 22_500, 22_500, 22_500]
    );
    let settlements = app
        .get(&format!("/v1/partnerships/{id}/settlements"))
        .bearer(token)
        .send()
        .await;
    let lines = settlements.body["data"][0]["lines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = |field: &str| lines.iter().filter_map(|l| l[field].as_i64()).sum::<i64>();
    assert_eq!(
        total("amount_minor"),
        87_750,
        "the amounts sum to net sales"
    );
    assert_eq!(
        (total("expenses_share_minor"), total("reimbursed_minor")),
        (60_000, 60_000)
    );

    // The published collection in the catalogue, its numbered edition
    // sold twice at the festival; the school's campaign fed by the
    // agreement's beneficiary share.
    let catalogue = app.get("/v1/collections").bearer(token).send().await;
    assert_eq!(
        catalogue.body["data"][0]["name"], "Andes to Accra, first edition",
        "{}",
        catalogue.text
    );
    assert_eq!(
        catalogue.body["data"][0]["items"].as_array().map(Vec::len),
        Some(3)
    );
    let collection = catalogue.body["data"][0]["id"]
        .as_str()
        .expect("collection");
    let performance = app
        .get(&format!("/v1/collections/{collection}/performance"))
        .bearer(token)
        .send()
        .await;
    let poncho = &performance.body["items"][0];
    assert_eq!(
        (
            poncho["units_sold"].clone(),
            poncho["remaining_edition"].clone()
        ),
        (2.into(), 10.into()),
        "{}",
        performance.text
    );
    let campaigns = app
        .get("/v1/campaigns?active=true")
        .bearer(token)
        .send()
        .await;
    let school = campaigns.body["data"][0]["id"].as_str().expect("campaign");
    let school = app
        .get(&format!("/v1/campaigns/{school}"))
        .bearer(token)
        .send()
        .await;
    let sales = app
        .get(&format!("/v1/partnerships/{id}/sales"))
        .bearer(token)
        .send()
        .await;
    let to_school: i64 = sales.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["lines"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["recipient"]["beneficiary"].is_object())
        .filter_map(|l| l["amount_minor"].as_i64())
        .sum();
    assert!(to_school > 0);
    assert_eq!(
        school.body["raised"],
        serde_json::json!([{"currency": "USD", "amount_minor": to_school}]),
        "{}",
        school.text
    );
    assert_eq!(
        school.body["contributors"][0]["name"],
        "Andes to Accra: a co-branded textile line"
    );

    // A swap with hours in the ledger, and a workshop to join.
    let ledger = app.get("/v1/me/time-ledger").bearer(token).send().await;
    assert_eq!(
        ledger.body["balance_hours"], 0.5,
        "taught 1.5 h, learned 1 h"
    );
    let exchanges = app.get("/v1/exchanges").bearer(token).send().await;
    assert_eq!(exchanges.body["data"][0]["status"], "accepted");
    assert_eq!(
        exchanges.body["data"][0]["sessions"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let workshops = app
        .get("/v1/workshops?skill=natural-dyeing")
        .bearer(token)
        .send()
        .await;
    assert_eq!(workshops.body["data"][0]["seats_taken"], 2);
    let matches = app
        .get("/v1/skill-matches?mode=learn")
        .bearer(token)
        .send()
        .await;
    assert_eq!(matches.status, 200);
    assert!(
        !matches.body["data"].as_array().is_none_or(Vec::is_empty),
        "someone teaches what demo-2 wants"
    );

    // Aid to Artisans: its key (printed once) reads the partnership shared
    // with it and its program with three applications.
    let key = printed
        .lines()
        .find(|l| l.contains("\"Aid to Artisans\": API key"))
        .and_then(|l| l.split_whitespace().last())
        .expect("the partner key is printed")
        .to_owned();
    let shared = app
        .get("/v1/partner/partnerships")
        .api_key(&key)
        .send()
        .await;
    assert_eq!(shared.status, 200, "{}", shared.text);
    assert_eq!(shared.body["data"][0]["id"], textile["id"]);
    let programs = app.get("/v1/programs").api_key(&key).send().await;
    let program = programs.body["data"][0]["id"]
        .as_str()
        .expect("a program")
        .to_owned();
    let applications = app
        .get(&format!("/v1/programs/{program}/applications"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(
        applications.body["data"].as_array().map(Vec::len),
        Some(3),
        "{}",
        applications.text
    );

    // Running it again changes nothing.
    let again = Command::new(env!("CARGO_BIN_EXE_artisan-commons"))
        .arg("seed-demo")
        .env("DATABASE_URL", &app.database_url)
        .output()
        .expect("run seed-demo");
    assert!(again.status.success());
    let again = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.contains("already present") && !again.contains("API key"),
        "{again}"
    );
}

/// The demo accounts have published passwords: never in production.
#[actix_web::test]
async fn seed_demo_refuses_to_run_in_production() {
    let app = TestApp::spawn().await;
    let output = Command::new(env!("CARGO_BIN_EXE_artisan-commons"))
        .arg("seed-demo")
        .env("DATABASE_URL", &app.database_url)
        .env("APP_ENV", "production")
        .env("JWT_SECRET", "a-production-secret-that-is-long-enough-0123")
        .output()
        .expect("run seed-demo");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("APP_ENV=production"), "{stderr}");
    app.post("/v1/auth/login")
        .json(serde_json::json!({"email": "demo-2@example.org", "password": "demo-password-2026"}))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

/// The amounts of an event's cost shares, in order.
async fn cost_shares(app: &TestApp, token: &str, event: &str) -> Vec<i64> {
    let shares = app
        .get(&format!("/v1/events/{event}/cost-shares"))
        .bearer(token)
        .send()
        .await;
    shares.body["shares"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["amount_minor"].as_i64())
        .collect()
}
