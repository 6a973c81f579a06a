//! Sales and refunds: the agreement in force decides the split, lines are
//! exact, refunds are bounded, concurrent sales neither lose nor drift.

use serde_json::{json, Value};

use crate::support::{Account, Resp, TestApp};

/// An active partnership of the two with an active agreement from
/// `from`, splitting `bps` among [creator, other, a charity].
pub(crate) async fn setup(
    app: &TestApp,
    a: &Account,
    b: &Account,
    bps: [i64; 3],
    from: &str,
) -> (String, Vec<String>, String) {
    setup_with_beneficiary(app, a, b, bps, from, json!({"name": "Escuela Taller"})).await
}

/// The same with the third share to `beneficiary` (`{name, …}`).
pub(crate) async fn setup_with_beneficiary(
    app: &TestApp,
    a: &Account,
    b: &Account,
    bps: [i64; 3],
    from: &str,
    beneficiary: Value,
) -> (String, Vec<String>, String) {
    setup_with_beneficiaries(app, a, b, [bps[0], bps[1]], from, &[(bps[2], beneficiary)]).await
}

/// As [`setup_with_beneficiary`], with any number of beneficiary shares
/// after the two parties' shares.
pub(crate) async fn setup_with_beneficiaries(
    app: &TestApp,
    a: &Account,
    b: &Account,
    party_bps: [i64; 2],
    from: &str,
    beneficiaries: &[(i64, Value)],
) -> (String, Vec<String>, String) {
    let created = app
        .post("/v1/partnerships")
        .bearer(&a.token)
        .json(json!({"title": "Stall", "kind": "market_event", "invitees": [{"artisan_id": b.id}]}))
        .send()
        .await;
    let pid = created.id();
    let parties = vec![
        created.party("artisan_id", &a.id),
        created.party("artisan_id", &b.id),
    ];
    app.post(&format!(
        "/v1/partnerships/{pid}/invitations/{}/accept",
        parties[1]
    ))
    .bearer(&b.token)
    .send()
    .await;
    let mut shares = vec![
        json!({"recipient": {"party_id": parties[0]}, "share_bps": party_bps[0]}),
        json!({"recipient": {"party_id": parties[1]}, "share_bps": party_bps[1]}),
    ];
    shares.extend(
        beneficiaries
            .iter()
            .map(|(bps, b)| json!({"recipient": {"beneficiary": b}, "share_bps": bps})),
    );
    let draft = app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&a.token)
        .json(json!({
            "revenue_split": {"currency": "PEN", "shares": shares},
            "effective_from": from,
        }))
        .send()
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    let id = draft.id();
    for who in [a, b] {
        let res = app
            .post(&format!("/v1/agreements/{id}/signatures"))
            .bearer(&who.token)
            .json(json!({"content_hash": draft.body["content_hash"]}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    (pid, parties, id)
}

pub(crate) async fn sell(app: &TestApp, who: &Account, pid: &str, key: &str, body: Value) -> Resp {
    app.post(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&who.token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
}

/// `who` refunds `amount` of sale `sale_id` under Idempotency-Key `key`.
pub(crate) async fn refund(
    app: &TestApp,
    who: &Account,
    sale_id: &str,
    key: &str,
    amount: i64,
) -> Resp {
    app.post(&format!("/v1/sales/{sale_id}/refunds"))
        .bearer(&who.token)
        .header("Idempotency-Key", key)
        .json(json!({"amount_minor": amount, "reason": "returned"}))
        .send()
        .await
}

pub(crate) fn sale(amount: i64, at: &str) -> Value {
    json!({"amount_minor": amount, "currency": "PEN", "occurred_at": at, "channel": "market_event",
           "description": "Two scarves", "item_sku": "SCARF-01"})
}

pub(crate) fn amounts(res: &Resp) -> Vec<i64> {
    res.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["refund_id"].is_null())
        .filter_map(|l| l["amount_minor"].as_i64())
        .collect()
}

/// A sale may name a market event only if its partnership organises it or
/// one of its accepted parties takes part (SPEC §8); an unknown event or an
/// unrelated one is a 422 naming `event_id`, and nothing is recorded.
#[actix_web::test]
async fn a_sale_names_only_an_event_its_partnership_is_part_of() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let nia = app.artisan("Nia").await;
    let (pid, _, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let (other, _, _) = setup(&app, &nia, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let starts = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let ends = (chrono::Utc::now() + chrono::Duration::days(31)).to_rfc3339();
    let event = |organizer: &str| {
        json!({"name": "Feria", "kind": "fair", "venue": "Plaza", "city": "Lima", "country": "PE",
               "starts_at": starts, "ends_at": ends, "organizer": {"partnership_id": organizer}})
    };
    let elsewhere = app
        .post("/v1/events")
        .bearer(&nia.token)
        .json(event(&other))
        .send()
        .await
        .id();
    let ours = app
        .post("/v1/events")
        .bearer(&rosa.token)
        .json(event(&pid))
        .send()
        .await
        .id();
    let with_event = |event_id: &str| {
        let mut body = sale(500, "2026-03-01T10:00:00Z");
        body["event_id"] = json!(event_id);
        body
    };
    for (key, event_id) in [
        ("e-1", "01900000-0000-7000-8000-000000000000"),
        ("e-2", elsewhere.as_str()),
    ] {
        let res = sell(&app, &rosa, &pid, key, with_event(event_id)).await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), ["event_id"]);
    }
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"], json!([]));
    // Its own event; then the other partnership's once Rosa takes part.
    assert_eq!(
        sell(&app, &rosa, &pid, "e-3", with_event(&ours))
            .await
            .status,
        201
    );
    let joined = app
        .post(&format!("/v1/events/{elsewhere}/participants"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    let res = sell(&app, &rosa, &pid, "e-4", with_event(&elsewhere)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.body["event_id"], elsewhere.as_str());

    // The organiser's parties see what every partnership sold there, net
    // of refunds; a participant who does not organise it does not.
    let refunded = refund(&app, &rosa, &res.id(), "r-1", 200).await;
    assert_eq!(refunded.status, 201, "{}", refunded.text);
    let mut theirs = with_event(&elsewhere);
    theirs["amount_minor"] = json!(700);
    assert_eq!(sell(&app, &nia, &other, "e-5", theirs).await.status, 201);
    let path = format!("/v1/events/{elsewhere}/sales-summary");
    app.get(&path)
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    let summary = app.get(&path).bearer(&kwame.token).send().await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert_eq!(
        summary.body["currencies"],
        json!([{"currency": "PEN", "sales": 2, "gross_minor": 1200, "refunded_minor": 200, "net_minor": 1000}])
    );
    let mut expected = vec![
        json!({"partnership_id": pid, "title": "Stall", "currency": "PEN", "sales": 1,
               "gross_minor": 500, "refunded_minor": 200, "net_minor": 300}),
        json!({"partnership_id": other, "title": "Stall", "currency": "PEN", "sales": 1,
               "gross_minor": 700, "refunded_minor": 0, "net_minor": 700}),
    ];
    expected.sort_by_key(|p| p["partnership_id"].to_string());
    assert_eq!(summary.body["partnerships"], json!(expected));
}

/// User text reaches the few statements written as SQL text only as bind
/// parameters: quotes, backslashes and SQL in a beneficiary's name come back
/// byte for byte through sale lines, refund lines and payouts.
#[actix_web::test]
async fn quotes_and_backslashes_in_names_travel_as_data() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let name = r#"O'Brien \' \\ ''; DROP TABLE sales; -- "E'\x41""#;
    let (pid, _, _) = setup_with_beneficiary(
        &app,
        &rosa,
        &kwame,
        [4000, 4000, 2000],
        "2026-01-01",
        json!({ "name": name }),
    )
    .await;
    let res = sell(&app, &rosa, &pid, "q-1", sale(1000, "2026-03-01T10:00:00Z")).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        res.body["lines"][2]["recipient"]["beneficiary"]["name"],
        name
    );
    let refunded = refund(&app, &rosa, &res.id(), "q-r", 500).await;
    assert_eq!(refunded.status, 201, "{}", refunded.text);
    let sale = app
        .get(&format!("/v1/sales/{}", res.id()))
        .bearer(&rosa.token)
        .send()
        .await;
    let names: Vec<&str> = sale.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["recipient"]["beneficiary"]["name"].as_str())
        .collect();
    assert_eq!(names, [name, name], "sale line and refund line");
    let payouts = app
        .get(&format!("/v1/partnerships/{pid}/payouts"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert!(
        payouts
            .text
            .contains(&serde_json::to_string(name).expect("json")),
        "{}",
        payouts.text
    );
    // The sales table is still there.
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn the_agreement_in_force_splits_each_sale() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, _, first) = setup(&app, &rosa, &kwame, [6000, 3500, 500], "2026-01-01").await;

    app.post(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&rosa.token)
        .json(sale(1000, "2026-03-01T10:00:00Z"))
        .send()
        .await
        .assert_problem(400, "bad-request");
    let res = sell(&app, &rosa, &pid, "s-1", sale(1000, "2026-03-01T10:00:00Z")).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/sales/{}", res.id()))
    );
    assert_eq!(amounts(&res), [600, 350, 50]);
    assert_eq!(res.body["agreement_id"], first.as_str());
    assert_eq!(
        res.body["lines"][2]["recipient"]["beneficiary"]["name"],
        "Escuela Taller"
    );
    let replay = sell(&app, &rosa, &pid, "s-1", sale(1000, "2026-03-01T10:00:00Z")).await;
    assert_eq!(replay.id(), res.id());
    sell(&app, &rosa, &pid, "s-1", sale(999, "2026-03-01T10:00:00Z"))
        .await
        .assert_problem(422, "idempotency-conflict");

    // An amendment from July splits later sales differently.
    let amendment = app
        .post(&format!("/v1/agreements/{first}/amendments"))
        .bearer(&rosa.token)
        .json(json!({"kind": "amendment", "effective_from": "2026-07-01"}))
        .send()
        .await;
    let amended = amendment.id();
    let mut split = amendment.body["revenue_split"].clone();
    split["shares"][0]["share_bps"] = json!(7000);
    split["shares"][1]["share_bps"] = json!(2500);
    let edited = app
        .patch(&format!("/v1/agreements/{amended}"))
        .bearer(&rosa.token)
        .header("If-Match", "\"1\"")
        .json(json!({"revenue_split": split}))
        .send()
        .await;
    for who in [&rosa, &kwame] {
        let signed = app
            .post(&format!("/v1/agreements/{amended}/signatures"))
            .bearer(&who.token)
            .json(json!({"content_hash": edited.body["content_hash"]}))
            .send()
            .await;
        assert_eq!(signed.status, 201, "{}", signed.text);
    }
    let before = sell(
        &app,
        &kwame,
        &pid,
        "s-2",
        sale(1000, "2026-06-30T23:59:00Z"),
    )
    .await;
    assert_eq!(amounts(&before), [600, 350, 50]);
    assert_eq!(before.body["agreement_id"], first.as_str());
    let after = sell(
        &app,
        &kwame,
        &pid,
        "s-3",
        sale(1000, "2026-07-01T00:00:00Z"),
    )
    .await;
    assert_eq!(amounts(&after), [700, 250, 50]);
    assert_eq!(after.body["agreement_id"], amended.as_str());
    assert_eq!(after.body["content_hash"], edited.body["content_hash"]);

    // No agreement in force, or another currency: 422, nothing recorded.
    let early = sell(&app, &rosa, &pid, "s-4", sale(1000, "2025-12-31T23:00:00Z")).await;
    early.assert_problem(422, "validation");
    assert_eq!(early.error_fields(), ["occurred_at"]);
    let mut dollars = sale(1000, "2026-03-01T10:00:00Z");
    dollars["currency"] = json!("USD");
    let wrong = sell(&app, &rosa, &pid, "s-5", dollars).await;
    assert_eq!(wrong.error_fields(), ["currency"]);
    let zero = sell(&app, &rosa, &pid, "s-6", sale(0, "2026-03-01T10:00:00Z")).await;
    assert_eq!(zero.error_fields(), ["amount_minor"]);
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(3));

    // Payouts: per recipient, the nets sum to the period's net sales.
    let nets = |res: &Resp| -> Vec<i64> {
        res.body["currencies"][0]["recipients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["net_minor"].as_i64())
            .collect()
    };
    let all = app
        .get(&format!("/v1/partnerships/{pid}/payouts"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["currencies"][0]["currency"], "PEN", "{}", all.text);
    assert_eq!(all.body["currencies"][0]["net_sales_minor"], 3000);
    let mut total = nets(&all);
    total.sort_unstable();
    assert_eq!(total, [150, 950, 1900]);
    let july = app
        .get(&format!(
            "/v1/partnerships/{pid}/payouts?from=2026-07-01&to=2026-07-31"
        ))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(july.body["currencies"][0]["net_sales_minor"], 1000);
    assert_eq!(nets(&july).iter().sum::<i64>(), 1000);

    // Rosa's statement: her three lines, in JSON and as CSV.
    let statement = app.get("/v1/me/statement").bearer(&rosa.token).send().await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    let mine: Vec<i64> = statement.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["amount_minor"].as_i64())
        .collect();
    assert_eq!(mine, [600, 600, 700], "oldest first");
    assert_eq!(
        statement.body["totals"],
        json!([{"currency": "PEN", "amount_minor": 1900}])
    );
    let csv = app
        .get("/v1/me/statement?from=2026-01-01&to=2026-12-31")
        .bearer(&rosa.token)
        .header("Accept", "text/csv")
        .send()
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let rows: Vec<&str> = csv.text.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(rows.len(), 5, "{}", csv.text);
    assert!(rows[0].starts_with("date,kind,partnership_id"));
    assert!(
        rows[1].starts_with("2026-03-01T10:00:00Z,sale,"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains(",PEN,600,6.00,Two scarves"), "{}", rows[1]);
    assert_eq!(rows[4], "total,,,,,,PEN,1900,19.00,");
    let none = app
        .get("/v1/me/statement?currency=USD")
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(none.body["lines"], json!([]));
    app.get("/v1/me/statement?currency=XYZ")
        .bearer(&kwame.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
    app.get(&format!(
        "/v1/partnerships/{pid}/payouts?from=2026-07-01&to=2026-06-01"
    ))
    .bearer(&rosa.token)
    .send()
    .await
    .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn refunds_give_back_exactly_and_never_too_much() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, _, _) = setup(&app, &rosa, &kwame, [3334, 3333, 3333], "2026-01-01").await;
    let sold = sell(&app, &rosa, &pid, "s-1", sale(1000, "2026-03-01T10:00:00Z")).await;
    assert_eq!(amounts(&sold), [334, 333, 333]);
    let id = sold.id();
    let refund = |key: &str, amount: i64| {
        app.post(&format!("/v1/sales/{id}/refunds"))
            .bearer(&kwame.token)
            .header("Idempotency-Key", key)
            .json(json!({"amount_minor": amount, "reason": "Returned: a pulled thread"}))
            .send()
    };
    refund("r-0", 1001).await.assert_problem(422, "validation");
    let first = refund("r-1", 334).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let refund_id = first.body["refunds"][0]["id"].clone();
    // The sale's own lines come first, then each refund's.
    let owners: Vec<bool> = first.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| l["refund_id"].is_null())
        .collect();
    assert_eq!(owners, [true, true, true, false, false, false]);
    let back: Vec<i64> = first.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["refund_id"] == refund_id)
        .filter_map(|l| l["amount_minor"].as_i64())
        .collect();
    assert_eq!(back.iter().sum::<i64>(), -334);
    assert!(back.iter().all(|&b| b <= 0));
    assert_eq!(first.body["refunded_minor"], 334);
    let rest = refund("r-2", 666).await;
    assert_eq!(rest.status, 201, "{}", rest.text);
    // Every recipient gave back exactly what it received.
    let mut net = [0i64; 3];
    for l in rest.body["lines"].as_array().into_iter().flatten() {
        let i = usize::try_from(l["share_index"].as_i64().unwrap_or(0)).unwrap_or(0);
        net[i] += l["amount_minor"].as_i64().unwrap_or(0);
    }
    assert_eq!(net, [0, 0, 0]);
    refund("r-3", 1).await.assert_problem(422, "validation");
    // Sold and refunded in full: everyone nets zero.
    let payouts = app
        .get(&format!("/v1/partnerships/{pid}/payouts"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(payouts.body["currencies"][0]["net_sales_minor"], 0);
    for r in payouts.body["currencies"][0]["recipients"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_eq!(r["net_minor"], 0, "{r}");
        assert_eq!(
            r["gross_minor"].as_i64(),
            r["refunded_minor"].as_i64().map(|x| -x)
        );
    }
    app.post(&format!("/v1/sales/{id}/refunds"))
        .bearer(&kwame.token)
        .json(json!({"amount_minor": 1, "reason": "again"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn outsiders_see_no_sales_and_invitees_record_none() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mallory = app.artisan("Mallory").await;
    let mei = app.artisan("Mei").await;
    let (pid, _, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let id = sell(&app, &rosa, &pid, "s-1", sale(500, "2026-03-01T10:00:00Z"))
        .await
        .id();
    sell(
        &app,
        &mallory,
        &pid,
        "m-1",
        sale(500, "2026-03-01T10:00:00Z"),
    )
    .await
    .assert_problem(404, "not-found");
    app.get(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/sales/{id}"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/partnerships/{pid}/payouts"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.post(&format!("/v1/sales/{id}/refunds"))
        .bearer(&mallory.token)
        .header("Idempotency-Key", "m-2")
        .json(json!({"amount_minor": 1, "reason": "mine"}))
        .send()
        .await
        .assert_problem(404, "not-found");
    let invited = app
        .post(&format!("/v1/partnerships/{pid}/parties"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": mei.id}))
        .send()
        .await;
    assert_eq!(invited.status, 201);
    // An invitee reads the partnership (to decide) but none of its money
    // (SPEC §2): every money path is a 404, as for an outsider.
    sell(&app, &mei, &pid, "i-1", sale(500, "2026-03-01T10:00:00Z"))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(
        app.get(&format!("/v1/partnerships/{pid}"))
            .bearer(&mei.token)
            .send()
            .await
            .status,
        200
    );
    for path in [
        format!("/v1/sales/{id}"),
        format!("/v1/partnerships/{pid}/sales"),
        format!("/v1/partnerships/{pid}/payouts"),
        format!("/v1/partnerships/{pid}/settlements"),
    ] {
        app.get(&path)
            .bearer(&mei.token)
            .send()
            .await
            .assert_problem(404, "not-found");
    }
    app.post(&format!("/v1/sales/{id}/refunds"))
        .bearer(&mei.token)
        .header("Idempotency-Key", "i-2")
        .json(json!({"amount_minor": 1, "reason": "mine"}))
        .send()
        .await
        .assert_problem(404, "not-found");
    settle(&app, &mei, &pid, "i-3", "2026-06-01")
        .await
        .assert_problem(404, "not-found");
    let settled = settle(&app, &rosa, &pid, "s-2", "2026-06-01").await;
    assert_eq!(settled.status, 201, "{}", settled.text);
    app.post(&format!("/v1/settlements/{}/payments", settled.id()))
        .bearer(&mei.token)
        .header("Idempotency-Key", "i-4")
        .json(
            json!({"recipient": {"beneficiary_name": "Escuela Taller"}, "amount_minor": 1,
                     "paid_at": "2026-06-02T10:00:00Z", "reference": "x"}),
        )
        .send()
        .await
        .assert_problem(404, "not-found");
}

/// Many sales from parallel clients on one partnership: every sale's lines
/// add up, and no recipient drifts from its exact share.
/// Repeats of one request with one key, sent at once: the first runs,
/// the others wait for it and replay its answer; one sale, one set of
/// lines, the same body everywhere.
#[actix_web::test]
async fn concurrent_repeats_of_one_key_record_one_sale() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, _, _) = setup(&app, &rosa, &kwame, [6000, 3500, 500], "2026-01-01").await;
    let repeats = (0..6).map(|_| {
        sell(
            &app,
            &rosa,
            &pid,
            "same-key",
            sale(1234, "2026-03-01T10:00:00Z"),
        )
    });
    let answers = futures_util::future::join_all(repeats).await;
    for res in &answers {
        assert_eq!(res.status, 201, "{}", res.text);
        assert_eq!(
            res.body, answers[0].body,
            "every repeat gets the first answer"
        );
    }
    let replayed = answers
        .iter()
        .filter(|res| res.header("idempotent-replayed").as_deref() == Some("true"))
        .count();
    assert_eq!(replayed, answers.len() - 1, "one ran, the rest replayed it");
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn parallel_sales_conserve_money_and_do_not_drift() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let bps = [3334, 3333, 3333];
    let (pid, _, _) = setup(&app, &rosa, &kwame, bps, "2026-01-01").await;
    let mut state: u64 = 7;
    let mut amounts_sent = Vec::new();
    for _ in 0..200 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        amounts_sent.push(i64::try_from(1 + (state >> 33) % 997).unwrap_or(1));
    }
    for (round, chunk) in amounts_sent.chunks(8).enumerate() {
        let keys: Vec<String> = (0..chunk.len()).map(|i| format!("p-{round}-{i}")).collect();
        let requests = chunk
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(i, (&amount, key))| {
                let who = if i % 2 == 0 { &rosa } else { &kwame };
                sell(&app, who, &pid, key, sale(amount, "2026-03-01T10:00:00Z"))
            });
        for res in futures_util::future::join_all(requests).await {
            assert_eq!(res.status, 201, "{}", res.text);
            let lines = amounts(&res);
            assert_eq!(
                lines.iter().sum::<i64>(),
                res.body["amount_minor"].as_i64().unwrap_or(-1)
            );
            assert!(lines.iter().all(|&l| l >= 0));
        }
    }
    let mut held = [0i64; 3];
    let mut total = 0i64;
    let mut path = format!("/v1/partnerships/{pid}/sales?limit=100");
    loop {
        let page = app.get(&path).bearer(&rosa.token).send().await;
        for s in page.body["data"].as_array().into_iter().flatten() {
            total += s["amount_minor"].as_i64().unwrap_or(0);
            // Each listed sale carries its own lines.
            let own: i64 = s["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["refund_id"].is_null())
                .filter_map(|l| l["amount_minor"].as_i64())
                .sum();
            assert_eq!(own, s["amount_minor"].as_i64().unwrap_or(-1));
            for l in s["lines"].as_array().into_iter().flatten() {
                let i = usize::try_from(l["share_index"].as_i64().unwrap_or(0)).unwrap_or(0);
                held[i] += l["amount_minor"].as_i64().unwrap_or(0);
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/partnerships/{pid}/sales?limit=100&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(total, amounts_sent.iter().sum::<i64>());
    assert_eq!(held.iter().sum::<i64>(), total);
    for (i, &b) in bps.iter().enumerate() {
        let exact = i128::from(total) * i128::from(b);
        let diff = (exact - i128::from(held[i]) * 10_000).abs();
        assert!(
            diff < 2 * 10_000,
            "recipient {i} drifted: holds {}, exact {}",
            held[i],
            exact as f64 / 10_000.0
        );
    }
}

async fn settle(app: &TestApp, who: &Account, pid: &str, key: &str, end: &str) -> Resp {
    app.post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&who.token)
        .header("Idempotency-Key", key)
        .json(json!({"period_end": end}))
        .send()
        .await
}

fn owed(res: &Resp) -> Vec<(Value, Value, i64, i64)> {
    res.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["party_id"].clone(),
                l["beneficiary_name"].clone(),
                l["amount_minor"].as_i64().unwrap_or(0),
                l["outstanding_minor"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[actix_web::test]
async fn settlements_freeze_periods_and_payments_settle_them() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let mallory = app.artisan("Mallory").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [6000, 3500, 500], "2026-01-01").await;
    sell(&app, &rosa, &pid, "s-1", sale(1000, "2026-03-01T10:00:00Z")).await;
    sell(&app, &rosa, &pid, "s-2", sale(2000, "2026-05-01T10:00:00Z")).await;

    let first = settle(&app, &rosa, &pid, "t-1", "2026-04-01").await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["period_start"], Value::Null);
    let mut lines = owed(&first);
    lines.sort_by_key(|l| l.2);
    assert_eq!(
        lines.iter().map(|l| l.2).collect::<Vec<_>>(),
        [50, 350, 600]
    );
    assert_eq!(lines[0].1, "Escuela Taller");
    let created = persistence::outbox::of_type(
        &mut app.conn(),
        domain::webhook::EventType::SettlementCreated,
    )
    .expect("outbox");
    assert_eq!(created.len(), 1);
    crate::openapi::assert_documented_payload(&created[0]);

    // The settled period is closed to new sales; the open one is not.
    sell(&app, &kwame, &pid, "s-3", sale(100, "2026-03-31T23:59:59Z"))
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        sell(&app, &kwame, &pid, "s-4", sale(100, "2026-04-01T00:00:00Z"))
            .await
            .status,
        201
    );
    let again = settle(&app, &rosa, &pid, "t-2", "2026-04-01").await;
    assert_eq!(again.error_fields(), ["period_end"]);
    let future = settle(&app, &rosa, &pid, "t-3", "2999-01-01").await;
    assert_eq!(future.error_fields(), ["period_end"]);
    app.post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&rosa.token)
        .json(json!({"period_end": "2026-06-01"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
    let second = settle(&app, &kwame, &pid, "t-4", "2026-06-01").await;
    assert_eq!(second.body["period_start"], "2026-04-01");
    assert_eq!(owed(&second).iter().map(|l| l.2).sum::<i64>(), 2100);

    // Payments, up to what is owed.
    let id = first.id();
    let pay = |key: &str, recipient: Value, amount: i64| {
        app.post(&format!("/v1/settlements/{id}/payments"))
            .bearer(&kwame.token)
            .header("Idempotency-Key", key)
            .json(json!({"recipient": recipient, "amount_minor": amount,
                         "paid_at": "2026-04-05T12:00:00Z", "reference": "bank transfer 0042"}))
            .send()
    };
    assert_eq!(
        pay("p-1", json!({"party_id": parties[0]}), 400)
            .await
            .status,
        201
    );
    let paid = pay("p-2", json!({"party_id": parties[0]}), 200).await;
    assert_eq!(paid.status, 201, "{}", paid.text);
    let rosa_line = owed(&paid)
        .into_iter()
        .find(|l| l.0 == parties[0].as_str())
        .expect("line");
    assert_eq!((rosa_line.2, rosa_line.3), (600, 0));
    assert_eq!(paid.body["payments"].as_array().map(Vec::len), Some(2));
    let over = pay("p-3", json!({"party_id": parties[0]}), 1).await;
    assert_eq!(over.error_fields(), ["amount_minor"]);
    assert_eq!(
        pay("p-4", json!({"beneficiary_name": "Escuela Taller"}), 50)
            .await
            .status,
        201
    );
    let nobody = pay("p-5", json!({"beneficiary_name": "Someone Else"}), 1).await;
    assert_eq!(nobody.error_fields(), ["recipient"]);

    // Outsiders see nothing.
    settle(&app, &mallory, &pid, "m-1", "2026-06-02")
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/settlements/{id}"))
        .bearer(&mallory.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.post(&format!("/v1/settlements/{id}/payments"))
        .bearer(&mallory.token)
        .header("Idempotency-Key", "m-2")
        .json(json!({"recipient": {"party_id": parties[0]}, "amount_minor": 1, "paid_at": "2026-04-05T12:00:00Z", "reference": "x"}))
        .send()
        .await
        .assert_problem(404, "not-found");
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(2));
    // Each listed settlement carries its own lines and payments.
    for item in listed.body["data"].as_array().into_iter().flatten() {
        let one = app
            .get(&format!(
                "/v1/settlements/{}",
                item["id"].as_str().unwrap_or("")
            ))
            .bearer(&rosa.token)
            .send()
            .await;
        assert_eq!(one.status, 200, "{}", one.text);
        assert_eq!(item["lines"], one.body["lines"]);
        assert_eq!(item["payments"], one.body["payments"]);
    }
}

/// A settlement racing a sale dated inside its period: the sale is either
/// in the settlement's totals or refused, never neither.
#[actix_web::test]
async fn a_settlement_racing_a_sale_never_loses_it() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    for round in 0..6 {
        let (pid, _, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
        let keys = [
            format!("base-{round}"),
            format!("t-{round}"),
            format!("s-{round}"),
        ];
        sell(
            &app,
            &rosa,
            &pid,
            &keys[0],
            sale(1000, "2026-02-01T10:00:00Z"),
        )
        .await;
        let (settled, sold) = futures_util::future::join(
            settle(&app, &rosa, &pid, &keys[1], "2026-03-01"),
            sell(
                &app,
                &kwame,
                &pid,
                &keys[2],
                sale(500, "2026-02-15T10:00:00Z"),
            ),
        )
        .await;
        assert_eq!(settled.status, 201, "round {round}: {}", settled.text);
        let total: i64 = owed(&settled).iter().map(|l| l.2).sum();
        match sold.status {
            201 => assert_eq!(
                total, 1500,
                "round {round}: the sale landed first and is settled"
            ),
            409 => assert_eq!(
                total, 1000,
                "round {round}: the sale came after and was refused"
            ),
            other => panic!("round {round}: unexpected {other}: {}", sold.text),
        }
    }
}

#[actix_web::test]
async fn an_amount_beyond_what_every_json_client_reads_exactly_is_refused() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, _, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    // 2^53 − 1 is the largest whole number a JavaScript client reads exactly.
    let most: i64 = (1 << 53) - 1;
    let at = "2026-03-01T10:00:00Z";
    let res = sell(&app, &rosa, &pid, "s-1", sale(most + 1, at)).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["amount_minor"]);
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"], json!([]), "nothing recorded");
    let res = sell(&app, &rosa, &pid, "s-2", sale(most, at)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(amounts(&res).iter().sum::<i64>(), most, "split exactly");
}
