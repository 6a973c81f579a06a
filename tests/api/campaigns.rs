//! Giving back: campaigns, the beneficiary shares that name them, and
//! what they raised — net of refunds, from sales inside their dates, by
//! partnership or as `anonymous`.

use serde_json::{json, Value};

use crate::expenses::Lcg;
use crate::sales::{refund, sell, setup_with_beneficiaries, setup_with_beneficiary};
use crate::support::{Account, Resp, TestApp};

fn campaign(title: &str, from: &str, until: &str) -> Value {
    json!({"title": title, "cause": "Looms and yarn for thirty students.",
           "beneficiary_name": "Escuela Taller Cusco", "url": "https://example.org/escuela",
           "goal": {"amount_minor": 500_000, "currency": "PEN"},
           "starts_on": from, "ends_on": until})
}

async fn start(app: &TestApp, who: &Account, body: Value) -> Resp {
    app.post("/v1/campaigns")
        .bearer(&who.token)
        .json(body)
        .send()
        .await
}

/// A campaign through March 2026, started by `who`; its id.
async fn march_drive(app: &TestApp, who: &Account) -> String {
    start(
        app,
        who,
        campaign("March drive", "2026-03-01", "2026-03-31"),
    )
    .await
    .id()
}

fn titles(res: &Resp) -> Vec<String> {
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["title"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn campaigns_are_started_checked_and_listed() {
    let app = TestApp::spawn().await;
    let cora = app.artisan("Cora").await;
    let mel = app.artisan("Mel").await;
    let otto = app.artisan("Otto").await;

    // Bad input, each problem named; nothing created.
    let mut bad = campaign(" ", "2026-03-10", "2026-03-01");
    bad["goal"] = json!({"amount_minor": 0, "currency": "XYZ"});
    bad["url"] = json!("ftp://example.org");
    let res = start(&app, &cora, bad).await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        [
            "title",
            "url",
            "goal.amount_minor",
            "goal.currency",
            "ends_on"
        ]
    );
    app.post("/v1/campaigns")
        .json(campaign("Anonymous", "2026-03-01", "2026-03-31"))
        .send()
        .await
        .assert_problem(401, "unauthenticated");

    // A collective's campaign is started by its coordinators only.
    let collective = app
        .post("/v1/collectives")
        .bearer(&cora.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "open"}))
        .send()
        .await
        .id();
    let applied = app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&mel.token)
        .json(json!({"message": "hello"}))
        .send()
        .await;
    assert!(applied.status < 300, "{}", applied.text);
    let mut theirs = campaign("Looms for Puno", "2026-01-01", "2030-12-31");
    theirs["collective_id"] = json!(collective);
    start(&app, &mel, theirs.clone())
        .await
        .assert_problem(403, "forbidden");
    let mut unknown = theirs.clone();
    unknown["collective_id"] = json!(uuid::Uuid::now_v7());
    let res = start(&app, &cora, unknown).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["collective_id"]);
    let created = start(&app, &cora, theirs).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/campaigns/{}", created.id()))
    );
    assert_eq!(created.body["collective_id"], json!(collective));
    let over = start(
        &app,
        &otto,
        campaign("Last year", "2025-01-01", "2025-12-31"),
    )
    .await;
    assert_eq!(over.status, 201, "{}", over.text);

    // Listed for everyone signed in, newest first, filtered.
    let list = |query: &str| {
        app.get(&format!("/v1/campaigns{query}"))
            .bearer(&otto.token)
            .send()
    };
    assert_eq!(titles(&list("").await), ["Last year", "Looms for Puno"]);
    assert_eq!(titles(&list("?active=true").await), ["Looms for Puno"]);
    assert_eq!(titles(&list("?active=false").await), ["Last year"]);
    assert_eq!(
        titles(&list(&format!("?collective_id={collective}")).await),
        ["Looms for Puno"]
    );
    let paged = list("?limit=1").await;
    assert_eq!(titles(&paged), ["Last year"]);
    let cursor = paged.body["next_cursor"].as_str().expect("more");
    assert_eq!(
        titles(&list(&format!("?limit=1&cursor={cursor}")).await),
        ["Looms for Puno"]
    );
    list("?active=maybe")
        .await
        .assert_problem(400, "bad-request");
    // A campaign is public to the signed-in; an unknown one is not found.
    let one = app
        .get(&format!("/v1/campaigns/{}", created.id()))
        .bearer(&mel.token)
        .send()
        .await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["raised"], json!([]));
    app.get(&format!("/v1/campaigns/{}", uuid::Uuid::now_v7()))
        .bearer(&mel.token)
        .send()
        .await
        .assert_problem(404, "not-found");
}

/// An agreement's beneficiary share may name a campaign that exists and
/// is open on its `effective_from`; otherwise 422 naming the share.
#[actix_web::test]
async fn a_beneficiary_share_names_a_campaign_open_on_its_first_day() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let id = march_drive(&app, &rosa).await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup_with_beneficiary(
        &app,
        &rosa,
        &kwame,
        [5000, 4000, 1000],
        "2027-01-01",
        json!({"name": "Escuela"}),
    )
    .await;
    let party = &parties[0];
    let draft = |campaign_id: Value, from: &str| {
        app.post(&format!("/v1/partnerships/{pid}/agreements"))
            .bearer(&rosa.token)
            .json(json!({
                "revenue_split": {"currency": "PEN", "shares": [
                    {"recipient": {"party_id": party}, "share_bps": 5000},
                    {"recipient": {"party_id": parties[1]}, "share_bps": 4000},
                    {"recipient": {"beneficiary": {"name": "Escuela", "campaign_id": campaign_id}},
                     "share_bps": 1000},
                ]},
                "effective_from": from,
                "effective_until": "2026-12-31",
            }))
            .send()
    };
    let field = "revenue_split.shares[2].recipient.beneficiary.campaign_id";
    for (campaign_id, from) in [
        (json!(uuid::Uuid::now_v7()), "2026-03-01"),
        (json!(id), "2026-02-28"),
        (json!(id), "2026-04-01"),
    ] {
        let res = draft(campaign_id, from).await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), [field], "{}", res.text);
    }
    for from in ["2026-03-01", "2026-03-31"] {
        let res = draft(json!(id), from).await;
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(
            res.body["revenue_split"]["shares"][2]["recipient"]["beneficiary"]["public_credit"],
            true
        );
    }
}

/// `raised` equals what the test computes from the sales and refunds it
/// made: only beneficiary lines naming the campaign, only sales inside its
/// dates, net of refunds; contributors by partnership title, anonymous
/// shares summed as `anonymous`.
#[actix_web::test]
async fn raised_is_the_net_of_the_campaign_lines_inside_its_dates() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let ayla = app.artisan("Ayla").await;
    let id = march_drive(&app, &rosa).await;
    // Shares in whole hundreds of basis points and amounts in whole
    // hundreds, so every line is exact and the test can compute it.
    let feeds =
        |public: bool| json!({"name": "Escuela", "campaign_id": id, "public_credit": public});
    let (public, _, _) = setup_with_beneficiary(
        &app,
        &rosa,
        &kwame,
        [6000, 3000, 1000],
        "2026-03-01",
        feeds(true),
    )
    .await;
    let (anonymous, _, _) = setup_with_beneficiary(
        &app,
        &kwame,
        &ayla,
        [5000, 3000, 2000],
        "2026-03-01",
        feeds(false),
    )
    .await;
    let (elsewhere, _, _) = setup_with_beneficiary(
        &app,
        &ayla,
        &rosa,
        [5000, 3000, 2000],
        "2026-03-01",
        json!({"name": "Another cause"}),
    )
    .await;
    let mut rng = Lcg(11);
    // Expected: (public, anonymous) raised.
    let mut expected = (0_i64, 0_i64);
    for n in 0..45 {
        let (pid, who, bps) = match n % 3 {
            0 => (&public, &rosa, 1000),
            1 => (&anonymous, &kwame, 2000),
            _ => (&elsewhere, &ayla, 0),
        };
        let amount = 100 * i64::try_from(1 + rng.below(500)).unwrap_or(1);
        // Days 1–45 from March 1st: March counts, April does not.
        let day = 1 + rng.below(45);
        let at = if day <= 31 {
            format!("2026-03-{day:02}T12:00:00Z")
        } else {
            format!("2026-04-{:02}T12:00:00Z", day - 31)
        };
        let sold = sell(
            &app,
            who,
            pid,
            &format!("s-{n}"),
            json!({"amount_minor": amount, "currency": "PEN", "occurred_at": at,
                   "channel": "online", "description": "Scarf"}),
        )
        .await;
        assert_eq!(sold.status, 201, "{}", sold.text);
        let back = match rng.below(3) {
            0 => {
                100 * i64::try_from(1 + rng.below(u64::try_from(amount / 100).unwrap_or(1)))
                    .unwrap_or(1)
            }
            _ => 0,
        };
        if back > 0 {
            let refunded = refund(&app, who, &sold.id(), &format!("r-{n}"), back).await;
            assert_eq!(refunded.status, 201, "{}", refunded.text);
        }
        if day <= 31 {
            let given = (amount - back) * bps / 10_000;
            match n % 3 {
                0 => expected.0 += given,
                1 => expected.1 += given,
                _ => {}
            }
        }
    }
    let report = app
        .get(&format!("/v1/campaigns/{id}"))
        .bearer(&ayla.token)
        .send()
        .await;
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(
        report.body["raised"],
        json!([{"currency": "PEN", "amount_minor": expected.0 + expected.1}])
    );
    assert_eq!(
        report.body["contributors"],
        json!([
            {"name": "Stall", "anonymous": false, "currency": "PEN", "amount_minor": expected.0},
            {"name": "anonymous", "anonymous": true, "currency": "PEN", "amount_minor": expected.1},
        ]),
        "{}",
        report.text
    );
    assert_eq!(report.body["title"], "March drive");
}

/// Two beneficiary shares of one split naming the same campaign: a sale
/// and its refund add both lines to the campaign's one day total.
#[actix_web::test]
async fn two_shares_naming_one_campaign_add_up() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let id = march_drive(&app, &rosa).await;
    let (pid, _, _) = setup_with_beneficiaries(
        &app,
        &rosa,
        &kwame,
        [6000, 2000],
        "2026-03-01",
        &[
            (1500, json!({"name": "Escuela", "campaign_id": id})),
            (500, json!({"name": "Taller", "campaign_id": id})),
        ],
    )
    .await;
    let sold = sell(
        &app,
        &rosa,
        &pid,
        "s-1",
        json!({"amount_minor": 10_000, "currency": "PEN", "occurred_at": "2026-03-02T12:00:00Z",
               "channel": "online", "description": "Scarf"}),
    )
    .await;
    assert_eq!(sold.status, 201, "{}", sold.text);
    let refunded = refund(&app, &rosa, &sold.id(), "r-1", 1_000).await;
    assert_eq!(refunded.status, 201, "{}", refunded.text);
    let report = app
        .get(&format!("/v1/campaigns/{id}"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(report.status, 200, "{}", report.text);
    // 20 % of 10 000, less 20 % of the 1 000 refunded.
    assert_eq!(
        report.body["raised"],
        json!([{"currency": "PEN", "amount_minor": 1_800}]),
        "{}",
        report.text
    );
    assert_eq!(
        report.body["contributors"],
        json!([{"name": "Stall", "anonymous": false, "currency": "PEN", "amount_minor": 1_800}]),
        "{}",
        report.text
    );
}
