//! Shared costs: recorded by an accepted party, decided by another, never
//! inside a settled period, seen only by those who see the money.

use serde_json::{json, Value};

use crate::sales::{sale, sell, setup};
use crate::support::{Account, Resp, TestApp};

fn expense(amount: i64, paid_by: &str, on: &str) -> Value {
    json!({"amount_minor": amount, "currency": "PEN", "description": "Booth at the fair",
           "category": "booth", "incurred_on": on, "paid_by": paid_by})
}

async fn record(app: &TestApp, who: &Account, pid: &str, key: &str, body: Value) -> Resp {
    app.post(&format!("/v1/partnerships/{pid}/expenses"))
        .bearer(&who.token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
}

async fn decide(app: &TestApp, who: &Account, id: &str, decision: &str) -> Resp {
    app.post(&format!("/v1/expenses/{id}/decision"))
        .bearer(&who.token)
        .json(json!({"decision": decision, "note": "Checked the receipt"}))
        .send()
        .await
}

#[actix_web::test]
async fn another_accepted_party_decides_an_expense_once() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let zoe = app.artisan("Zoe").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;

    // Bad input, each problem named; nothing recorded.
    let mut bad = expense(0, &parties[0], "2026-03-01");
    bad["currency"] = json!("XYZ");
    bad["description"] = json!("");
    let res = record(&app, &rosa, &pid, "x-1", bad).await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        ["amount_minor", "currency", "description"]
    );
    let mut dollars = expense(100, &uuid::Uuid::now_v7().to_string(), "2026-03-01");
    dollars["currency"] = json!("USD");
    let res = record(&app, &rosa, &pid, "x-2", dollars).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["currency", "paid_by"]);
    let res = record(
        &app,
        &rosa,
        &pid,
        "x-3",
        expense(100, &parties[0], "2025-06-01"),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["incurred_on"]);
    app.post(&format!("/v1/partnerships/{pid}/expenses"))
        .bearer(&rosa.token)
        .json(expense(100, &parties[0], "2026-03-01"))
        .send()
        .await
        .assert_problem(400, "bad-request");
    // A stranger sees nothing and records nothing.
    record(
        &app,
        &zoe,
        &pid,
        "x-4",
        expense(100, &parties[0], "2026-03-01"),
    )
    .await
    .assert_problem(404, "not-found");

    let booth = record(
        &app,
        &rosa,
        &pid,
        "x-5",
        expense(30_000, &parties[0], "2026-03-01"),
    )
    .await;
    assert_eq!(booth.status, 201, "{}", booth.text);
    assert_eq!(booth.body["status"], "pending");
    let id = booth.id();
    assert_eq!(booth.header("Location"), Some(format!("/v1/expenses/{id}")));
    let again = record(
        &app,
        &rosa,
        &pid,
        "x-5",
        expense(30_000, &parties[0], "2026-03-01"),
    )
    .await;
    assert_eq!(
        (again.status, again.id()),
        (201, id.clone()),
        "the same key replays"
    );

    for path in [
        format!("/v1/expenses/{id}"),
        format!("/v1/partnerships/{pid}/expenses"),
    ] {
        app.get(&path)
            .bearer(&zoe.token)
            .send()
            .await
            .assert_problem(404, "not-found");
    }
    decide(&app, &zoe, &id, "approve")
        .await
        .assert_problem(404, "not-found");
    // The payer does not approve their own expense; the other party does, once.
    decide(&app, &rosa, &id, "approve")
        .await
        .assert_problem(403, "forbidden");
    let approved = decide(&app, &kwame, &id, "approve").await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["deciding_party_id"], parties[1].as_str());
    assert_eq!(approved.body["decision_note"], "Checked the receipt");
    decide(&app, &kwame, &id, "reject")
        .await
        .assert_problem(409, "conflict");
    let res = app
        .post(&format!("/v1/expenses/{id}/decision"))
        .bearer(&kwame.token)
        .json(json!({"decision": "maybe"}))
        .send()
        .await;
    assert_eq!(res.status, 400, "{}", res.text);

    let travel = record(
        &app,
        &kwame,
        &pid,
        "x-6",
        expense(4_500, &parties[1], "2026-03-02"),
    )
    .await;
    let rejected = decide(&app, &rosa, &travel.id(), "reject").await;
    assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/expenses"))
        .bearer(&kwame.token)
        .send()
        .await;
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(ids, [travel.id().as_str(), id.as_str()], "newest first");
}

#[actix_web::test]
async fn an_expense_inside_a_settled_period_or_for_an_unrelated_event_is_refused() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let settled = app
        .post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&rosa.token)
        .header("Idempotency-Key", "s-1")
        .json(json!({"period_end": "2026-02-01"}))
        .send()
        .await;
    assert_eq!(settled.status, 201, "{}", settled.text);
    record(
        &app,
        &rosa,
        &pid,
        "x-1",
        expense(100, &parties[0], "2026-01-15"),
    )
    .await
    .assert_problem(409, "conflict");
    let mut at_event = expense(100, &parties[0], "2026-03-01");
    at_event["event_id"] = json!(uuid::Uuid::now_v7());
    let res = record(&app, &rosa, &pid, "x-2", at_event).await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["event_id"]);
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/expenses"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(listed.body["data"], json!([]));
}

/// `(party_id or beneficiary_name, allocated, share, reimbursed, amount)`
/// of each line of a settlement.
fn lines(res: &Resp) -> Vec<(String, i64, i64, i64, i64)> {
    let mut out: Vec<(String, i64, i64, i64, i64)> = res.body["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let who = l["party_id"].as_str().or(l["beneficiary_name"].as_str());
            let n = |f: &str| l[f].as_i64().unwrap_or(i64::MIN);
            (
                who.unwrap_or_default().to_owned(),
                n("allocated_minor"),
                n("expenses_share_minor"),
                n("reimbursed_minor"),
                n("amount_minor"),
            )
        })
        .collect();
    out.sort();
    out
}

#[actix_web::test]
async fn a_settlement_nets_approved_expenses_by_the_split() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    assert_eq!(
        sell(
            &app,
            &rosa,
            &pid,
            "s-1",
            sale(10_000, "2026-03-01T10:00:00Z")
        )
        .await
        .status,
        201
    );
    // Approved ones are netted; rejected, pending and later ones are not.
    let plan = [
        (&rosa, &kwame, 1_001, 0, "2026-03-02", Some("approve")),
        (&rosa, &kwame, 20_000, 0, "2026-03-03", Some("approve")),
        (&kwame, &rosa, 500, 1, "2026-03-04", Some("reject")),
        (&kwame, &rosa, 700, 1, "2026-03-05", None),
        (&kwame, &rosa, 900, 1, "2026-04-02", Some("approve")),
    ];
    for (i, (payer, decider, amount, party, day, decision)) in plan.into_iter().enumerate() {
        let body = expense(amount, &parties[party], day);
        let recorded = record(&app, payer, &pid, &format!("x-{i}"), body).await;
        assert_eq!(recorded.status, 201, "{}", recorded.text);
        if let Some(decision) = decision {
            let decided = decide(&app, decider, &recorded.id(), decision).await;
            assert_eq!(decided.status, 200, "{}", decided.text);
        }
    }

    let settled = app
        .post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&kwame.token)
        .header("Idempotency-Key", "st-1")
        .json(json!({"period_end": "2026-04-01"}))
        .send()
        .await;
    assert_eq!(settled.status, 201, "{}", settled.text);
    // 21 001 laid out by Rosa, split 50/40/10 each (1 001 → 501/400/100).
    let mut expected = vec![
        (parties[0].clone(), 5_000, 10_501, 21_001, 15_500),
        (parties[1].clone(), 4_000, 8_400, 0, -4_400),
        ("Escuela Taller".to_owned(), 1_000, 2_100, 0, -1_100),
    ];
    expected.sort();
    assert_eq!(lines(&settled), expected);
    assert_eq!(
        lines(&settled).iter().map(|l| l.4).sum::<i64>(),
        10_000,
        "net sales"
    );
    // Nothing is paid to a recipient that owes the others.
    let res = app
        .post(&format!("/v1/settlements/{}/payments", settled.id()))
        .bearer(&rosa.token)
        .header("Idempotency-Key", "p-1")
        .json(
            json!({"recipient": {"party_id": parties[1]}, "amount_minor": 1,
                     "paid_at": "2026-04-02T10:00:00Z", "reference": "x"}),
        )
        .send()
        .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["recipient"]);
    // An expense dated in the settled period is refused from now on.
    record(
        &app,
        &kwame,
        &pid,
        "x-6",
        expense(100, &parties[1], "2026-03-20"),
    )
    .await
    .assert_problem(409, "conflict");
}
