//! Shared costs: recorded by an accepted party, decided by another, never
//! inside a settled period, seen only by those who see the money.

use serde_json::{json, Value};

use crate::agreements::sign_all;
use crate::sales::{amounts, refund, sale, sell, setup};
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

/// `who` settles the partnership up to `period_end`; the settlement, made.
async fn settle(app: &TestApp, who: &Account, pid: &str, key: &str, period_end: &str) -> Resp {
    let settled = app
        .post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&who.token)
        .header("Idempotency-Key", key)
        .json(json!({"period_end": period_end}))
        .send()
        .await;
    assert_eq!(settled.status, 201, "{}", settled.text);
    settled
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
    settle(&app, &rosa, &pid, "s-1", "2026-02-01").await;
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
    let mut ids = Vec::new();
    for (i, (payer, decider, amount, party, day, decision)) in plan.into_iter().enumerate() {
        let body = expense(amount, &parties[party], day);
        let recorded = record(&app, payer, &pid, &format!("x-{i}"), body).await;
        assert_eq!(recorded.status, 201, "{}", recorded.text);
        ids.push(recorded.id());
        if let Some(decision) = decision {
            let decided = decide(&app, decider, &recorded.id(), decision).await;
            assert_eq!(decided.status, 200, "{}", decided.text);
        }
    }

    let settled = settle(&app, &kwame, &pid, "st-1", "2026-04-01").await;
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
    // The one left pending there is not approved any more: the settlement
    // did not net it, and no later one would. It stays pending, and may
    // still be rejected.
    let pending = &ids[3];
    decide(&app, &rosa, pending, "approve")
        .await
        .assert_problem(409, "conflict");
    let status = |listed: &Resp, id: &str| {
        listed.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["id"] == id)
            .map(|e| e["status"].clone())
    };
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/expenses"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(status(&listed, pending), Some(json!("pending")));
    let rejected = decide(&app, &rosa, pending, "reject").await;
    assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);
    // One dated after the period is approved as before.
    let later = record(
        &app,
        &kwame,
        &pid,
        "x-7",
        expense(300, &parties[1], "2026-04-03"),
    )
    .await;
    let approved = decide(&app, &rosa, &later.id(), "approve").await;
    assert_eq!(approved.body["status"], "approved", "{}", approved.text);
}

#[actix_web::test]
async fn an_expense_keeps_the_split_of_the_agreement_in_force_when_it_was_recorded() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, agreement) =
        setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let sold = sell(
        &app,
        &rosa,
        &pid,
        "s-1",
        sale(10_000, "2026-03-01T10:00:00Z"),
    )
    .await;
    assert_eq!(sold.status, 201, "{}", sold.text);
    let recorded = record(
        &app,
        &rosa,
        &pid,
        "x-1",
        expense(30_000, &parties[0], "2026-03-01"),
    )
    .await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    let approved = decide(&app, &kwame, &recorded.id(), "approve").await;
    assert_eq!(approved.body["status"], "approved", "{}", approved.text);
    // It was recorded under the agreement; the migration that added the
    // column finds the same one for an expense recorded before it.
    {
        use diesel::prelude::*;
        use persistence::schema::expenses;
        let mut pooled = app.conn();
        let conn: &mut persistence::AnyConnection = &mut pooled;
        let stored = || expenses::table.select(expenses::agreement_id);
        let kept: Vec<Option<String>> = stored().load(conn).expect("read");
        assert_eq!(kept, [Some(agreement.clone())]);
        let migration =
            include_str!("../../migrations/sqlite/2026-12-06-000024_expense_agreement/up.sql");
        let backfill = &migration[migration.find("UPDATE expenses").expect("its backfill")..];
        diesel::update(expenses::table)
            .set(expenses::agreement_id.eq(None::<String>))
            .execute(conn)
            .expect("cleared");
        diesel::sql_query(backfill)
            .execute(conn)
            .expect("backfilled");
        let found: Vec<Option<String>> = stored().load(conn).expect("read");
        assert_eq!(found, [Some(agreement.clone())]);
    }
    // A termination dated before both, activated after them.
    let draft = app
        .post(&format!("/v1/agreements/{agreement}/amendments"))
        .bearer(&rosa.token)
        .json(json!({"kind": "termination", "effective_from": "2026-02-01"}))
        .send()
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    sign_all(&app, &[&rosa, &kwame], &draft.id()).await;

    let settled = settle(&app, &kwame, &pid, "st-1", "2026-04-01").await;
    // The sale keeps its lines and the expense its split (50/40/10), so
    // Rosa is paid back what she laid out.
    let mut expected = vec![
        (parties[0].clone(), 5_000, 15_000, 30_000, 20_000),
        (parties[1].clone(), 4_000, 12_000, 0, -8_000),
        ("Escuela Taller".to_owned(), 1_000, 3_000, 0, -2_000),
    ];
    expected.sort();
    assert_eq!(lines(&settled), expected);
}

/// A small deterministic generator (the same sequence on every run).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// `amount` split by `bps`: floor each, then one unit each to the largest
/// remainders, ties to the earlier share (written out independently of
/// the domain's allocation).
fn split(amount: i64, bps: &[i64]) -> Vec<i64> {
    let mut parts: Vec<i64> = bps.iter().map(|b| amount * b / 10_000).collect();
    let mut order: Vec<usize> = (0..bps.len()).collect();
    order.sort_by_key(|i| (std::cmp::Reverse(amount * bps[*i] % 10_000), *i));
    let left = amount - parts.iter().sum::<i64>();
    for i in order.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        parts[i] += 1;
    }
    parts
}

/// Moves the recording time of the sale's refunds to 2026-04-30.
fn recorded_in_april(app: &TestApp, sale_id: &str) {
    use diesel::prelude::*;
    use persistence::schema::refunds;
    let mut pooled = app.conn();
    let conn: &mut persistence::AnyConnection = &mut pooled;
    let april = chrono::NaiveDate::from_ymd_opt(2026, 4, 30)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a date");
    diesel::update(refunds::table.filter(refunds::sale_id.eq(sale_id)))
        .set(refunds::created_at.eq(april))
        .execute(conn)
        .expect("backdate the refund");
}

/// Random sales, refunds and expenses on both sides of an amendment that
/// changes the split: the settlement's amounts sum to the period's net
/// sales, each payer is reimbursed what it laid out, and each expense is
/// shared by the split in force on its day.
#[actix_web::test]
async fn settlements_net_random_expenses_by_the_split_in_force_on_their_day() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, original) =
        setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let amendment = app
        .post(&format!("/v1/agreements/{original}/amendments"))
        .bearer(&kwame.token)
        .json(json!({"kind": "amendment", "effective_from": "2026-03-01"}))
        .send()
        .await;
    assert_eq!(amendment.status, 201, "{}", amendment.text);
    let mut split_b = amendment.body["revenue_split"].clone();
    for (i, bps) in [3000, 6000, 1000].into_iter().enumerate() {
        split_b["shares"][i]["share_bps"] = json!(bps);
    }
    let edited = app
        .patch(&format!("/v1/agreements/{}", amendment.id()))
        .bearer(&rosa.token)
        .header("If-Match", "\"1\"")
        .json(json!({"revenue_split": split_b}))
        .send()
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    for who in [&rosa, &kwame] {
        let signed = app
            .post(&format!("/v1/agreements/{}/signatures", amendment.id()))
            .bearer(&who.token)
            .json(json!({"content_hash": edited.body["content_hash"]}))
            .send()
            .await;
        assert_eq!(signed.status, 201, "{}", signed.text);
    }
    let in_force = |day: u64| {
        if day < 59 {
            [5000, 4000, 1000]
        } else {
            [3000, 6000, 1000]
        }
    };
    let date = |day: u64| {
        (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
            + chrono::Duration::days(i64::try_from(day).unwrap_or(0)))
        .to_string()
    };
    let mut rng = Lcg(2026);
    let mut allocated = [0i64; 3];
    let mut net_sales = 0;
    for n in 0..12 {
        let amount = i64::try_from(100 + rng.below(50_000)).unwrap_or(100);
        let at = format!("{}T12:00:00Z", date(rng.below(115)));
        let sold = sell(&app, &rosa, &pid, &format!("s-{n}"), sale(amount, &at)).await;
        assert_eq!(sold.status, 201, "{}", sold.text);
        for (total, line) in allocated.iter_mut().zip(amounts(&sold)) {
            *total += line;
        }
        net_sales += amount;
        if rng.below(3) == 0 {
            let refunded = 1 + amount / 3;
            let back = refund(&app, &kwame, &sold.id(), &format!("r-{n}"), refunded).await;
            assert_eq!(back.status, 201, "{}", back.text);
            // A refund is dated when it is recorded: as if recorded on the
            // last day of April, it falls in the period settled below.
            recorded_in_april(&app, &sold.id());
            for line in back.body["lines"].as_array().into_iter().flatten() {
                if !line["refund_id"].is_null() {
                    let share =
                        usize::try_from(line["share_index"].as_i64().unwrap_or(0)).unwrap_or(0);
                    allocated[share] += line["amount_minor"].as_i64().unwrap_or(0);
                }
            }
            net_sales -= refunded;
        }
    }
    let mut shares = [0i64; 3];
    let mut reimbursed = [0i64; 3];
    for n in 0..10 {
        let payer = usize::try_from(rng.below(2)).unwrap_or(0);
        let amount = i64::try_from(1 + rng.below(30_000)).unwrap_or(1);
        let day = rng.below(115);
        let (who, other) = if payer == 0 {
            (&rosa, &kwame)
        } else {
            (&kwame, &rosa)
        };
        let body = expense(amount, &parties[payer], &date(day));
        let recorded = record(&app, who, &pid, &format!("x-{n}"), body).await;
        assert_eq!(recorded.status, 201, "{}", recorded.text);
        let approve = rng.below(4) != 0;
        let decided = decide(
            &app,
            other,
            &recorded.id(),
            if approve { "approve" } else { "reject" },
        )
        .await;
        assert_eq!(decided.status, 200, "{}", decided.text);
        if approve {
            for (total, part) in shares.iter_mut().zip(split(amount, &in_force(day))) {
                *total += part;
            }
            reimbursed[payer] += amount;
        }
    }
    let settled = settle(&app, &kwame, &pid, "st-1", "2026-05-01").await;
    let recipients = [
        parties[0].clone(),
        parties[1].clone(),
        "Escuela Taller".to_owned(),
    ];
    let mut expected: Vec<(String, i64, i64, i64, i64)> = (0..3)
        .map(|i| {
            let amount = allocated[i] - shares[i] + reimbursed[i];
            (
                recipients[i].clone(),
                allocated[i],
                shares[i],
                reimbursed[i],
                amount,
            )
        })
        .collect();
    expected.sort();
    let got = lines(&settled);
    assert_eq!(got, expected);
    assert_eq!(got.iter().map(|l| l.4).sum::<i64>(), net_sales);
}
