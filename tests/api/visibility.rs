//! Who sees a partnership (SPEC §2): one partnership with a party in every
//! standing of the visibility table, and every route family read — and
//! acted on — by each of them (money: sales, payouts, settlements,
//! expenses and a collection's performance; collections follow the
//! partnership until they reach the catalogue).
//!
//! | caller | partnership, parties, agreements, events | money | acting |
//! |---|---|---|---|
//! | accepted artisan party | read | read | as the rules allow |
//! | invited artisan party | read (to decide) | 404 | 403 |
//! | declined artisan party | 404 | 404 | 404 |
//! | artisan party that left | read, up to its departure | 404 (own lines via the statement) | 403 |
//! | coordinator of an accepted collective party | read | read | as the rules allow |
//! | plain member of an accepted collective party | read | 404 | 403 |
//! | admin | read | read | 403 |
//! | anyone else | 404 | 404 | 404 |

use serde_json::json;

use crate::support::{money_objects, ok, split, Account, Resp, TestApp};

struct World {
    pid: String,
    /// Active from 2026-01-01, terminated as of 2026-03-01; Lena was party.
    first: String,
    termination: String,
    /// A draft made while Lena was a party, edited after she left.
    draft: String,
    /// Active 2026-04-01 to 2026-07-31, made after Lena left.
    second: String,
    /// A sale under each agreement.
    early_sale: String,
    late_sale: String,
    settlement: String,
    /// An expense Rosa paid, under the second agreement.
    expense: String,
    /// A draft collection, made after Lena left.
    collection: String,
    rosa_party: String,
    party_of_kwame: String,
}

async fn sign_by(app: &TestApp, agreement: &str, signers: &[&Account]) {
    let current = app
        .get(&format!("/v1/agreements/{agreement}"))
        .bearer(&signers[0].token)
        .send()
        .await;
    for who in signers {
        ok(app
            .post(&format!("/v1/agreements/{agreement}/signatures"))
            .bearer(&who.token)
            .json(json!({"content_hash": current.body["content_hash"]}))
            .send()
            .await)
        .await;
    }
}

async fn sell(app: &TestApp, who: &Account, pid: &str, key: &str, at: &str) -> String {
    ok(app
        .post(&format!("/v1/partnerships/{pid}/sales"))
        .bearer(&who.token)
        .header("Idempotency-Key", key)
        .json(
            json!({"amount_minor": 1000, "currency": "PEN", "occurred_at": at,
                     "channel": "online", "description": "scarf"}),
        )
        .send()
        .await)
    .await
    .id()
}

#[expect(
    clippy::too_many_arguments,
    reason = "one account per row of the visibility table"
)]
async fn build(
    app: &TestApp,
    rosa: &Account,
    kwame: &Account,
    ines: &Account,
    dario: &Account,
    lena: &Account,
    cora: &Account,
    mel: &Account,
) -> World {
    let collective = ok(app
        .post("/v1/collectives")
        .bearer(&cora.token)
        .json(json!({"name": "Puno Weavers", "membership_policy": "open"}))
        .send()
        .await)
    .await
    .id();
    ok(app
        .post(&format!("/v1/collectives/{collective}/applications"))
        .bearer(&mel.token)
        .json(json!({"message": "hello"}))
        .send()
        .await)
    .await;
    let created = ok(app
        .post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(
            json!({"title": "Andes Textiles", "kind": "co_branded_collection", "invitees": [
                {"artisan_id": kwame.id}, {"artisan_id": ines.id}, {"artisan_id": dario.id},
                {"artisan_id": lena.id}, {"collective_id": collective},
            ]}),
        )
        .send()
        .await)
    .await;
    let pid = created.id();
    let rosa_party = created.party("artisan_id", &rosa.id);
    let kwame_party = created.party("artisan_id", &kwame.id);
    let lena_party = created.party("artisan_id", &lena.id);
    let collective_party = created.party("collective_id", &collective);
    for (who, party, answer) in [
        (kwame, &kwame_party, "accept"),
        (lena, &lena_party, "accept"),
        (cora, &collective_party, "accept"),
        (dario, &created.party("artisan_id", &dario.id), "decline"),
    ] {
        ok(app
            .post(&format!(
                "/v1/partnerships/{pid}/invitations/{party}/{answer}"
            ))
            .bearer(&who.token)
            .send()
            .await)
        .await;
    }
    let first = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(split(
            &[&rosa_party, &kwame_party, &lena_party, &collective_party],
            "2026-01-01",
            None,
        ))
        .send()
        .await)
    .await
    .id();
    sign_by(app, &first, &[rosa, kwame, lena, cora]).await;
    let early_sale = sell(app, rosa, &pid, "early", "2026-02-01T10:00:00Z").await;
    let termination = ok(app
        .post(&format!("/v1/agreements/{first}/amendments"))
        .bearer(&rosa.token)
        .json(json!({"kind": "termination", "effective_from": "2026-03-01"}))
        .send()
        .await)
    .await
    .id();
    sign_by(app, &termination, &[rosa, kwame, lena, cora]).await;
    // A draft for later, made while Lena is a party and edited after.
    let draft = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(split(
            &[&rosa_party, &kwame_party, &lena_party, &collective_party],
            "2026-08-01",
            None,
        ))
        .send()
        .await)
    .await;
    ok(app
        .post(&format!(
            "/v1/partnerships/{pid}/parties/{lena_party}/leave"
        ))
        .bearer(&lena.token)
        .send()
        .await)
    .await;
    let second = ok(app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(split(
            &[&rosa_party, &kwame_party, &collective_party],
            "2026-04-01",
            Some("2026-07-31"),
        ))
        .send()
        .await)
    .await
    .id();
    sign_by(app, &second, &[rosa, kwame, cora]).await;
    // A party invited after Lena left.
    let newcomer = app.artisan("Pia").await;
    ok(app
        .post(&format!("/v1/partnerships/{pid}/parties"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": newcomer.id}))
        .send()
        .await)
    .await;
    ok(app
        .patch(&format!("/v1/agreements/{}", draft.id()))
        .bearer(&rosa.token)
        .header("If-Match", &draft.header("etag").expect("etag"))
        .json(split(
            &[&rosa_party, &kwame_party, &collective_party],
            "2026-08-01",
            None,
        ))
        .send()
        .await)
    .await;
    let late_sale = sell(app, kwame, &pid, "late", "2026-05-01T10:00:00Z").await;
    let (settlement, expense, collection) =
        money_objects(app, rosa, &pid, &rosa_party, "2026-06-01").await;
    let collection = collection.id();
    World {
        collection,
        rosa_party,
        pid,
        first,
        termination,
        draft: draft.id(),
        second,
        early_sale,
        late_sale,
        settlement,
        expense,
        party_of_kwame: kwame_party,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sees {
    All,
    /// Reads only what existed when the party left.
    UpToDeparture,
    Nothing,
}

#[actix_web::test]
async fn the_visibility_table_holds_for_every_route_family() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let ines = app.artisan("Ines").await;
    let dario = app.artisan("Dario").await;
    let lena = app.artisan("Lena").await;
    let cora = app.artisan("Cora").await;
    let mel = app.artisan("Mel").await;
    let otto = app.artisan("Otto").await;
    let admin = app.admin().await;
    let w = build(&app, &rosa, &kwame, &ines, &dario, &lena, &cora, &mel).await;

    // (who, reads the partnership, reads money, acts: expected status of
    // an act that only an accepted party may do)
    let table: [(&str, &Account, Sees, bool, u16); 9] = [
        ("accepted artisan party", &kwame, Sees::All, true, 201),
        ("invited artisan party", &ines, Sees::All, false, 403),
        ("declined artisan party", &dario, Sees::Nothing, false, 404),
        (
            "artisan party that left",
            &lena,
            Sees::UpToDeparture,
            false,
            403,
        ),
        (
            "coordinator of an accepted collective party",
            &cora,
            Sees::All,
            true,
            201,
        ),
        (
            "plain member of an accepted collective party",
            &mel,
            Sees::All,
            false,
            403,
        ),
        ("admin", &admin, Sees::All, true, 403),
        ("anyone else", &otto, Sees::Nothing, false, 404),
        (
            "accepted artisan party (creator)",
            &rosa,
            Sees::All,
            true,
            201,
        ),
    ];
    for (row, who, sees, money, act) in table {
        let get = |path: String| app.get(&path).bearer(&who.token).send();
        let status = |res: &Resp| res.status;
        // Partnership family: the partnership, its parties, the listing.
        let expect_read = if sees == Sees::Nothing { 404 } else { 200 };
        let partnership = get(format!("/v1/partnerships/{}", w.pid)).await;
        assert_eq!(status(&partnership), expect_read, "{row}: partnership");
        let listed = get("/v1/partnerships".to_owned()).await;
        let in_list = listed.text.contains(&w.pid);
        assert_eq!(
            in_list,
            sees != Sees::Nothing && row != "admin",
            "{row}: own list"
        );
        // Agreements family: made before the departure / after it.
        for (agreement, before_departure) in [
            (&w.first, true),
            (&w.termination, true),
            (&w.draft, true),
            (&w.second, false),
        ] {
            let visible = match sees {
                Sees::All => true,
                Sees::UpToDeparture => before_departure,
                Sees::Nothing => false,
            };
            let code = if visible { 200 } else { 404 };
            let one = get(format!("/v1/agreements/{agreement}")).await;
            assert_eq!(one.status, code, "{row}: agreement {}", one.text);
            let events = get(format!("/v1/agreements/{agreement}/events")).await;
            assert_eq!(events.status, code, "{row}: agreement events");
        }
        // Collections family: a draft made after the departure.
        let code = if sees == Sees::All { 200 } else { 404 };
        let one = get(format!("/v1/collections/{}", w.collection)).await;
        assert_eq!(one.status, code, "{row}: collection {}", one.text);
        let collections = get(format!("/v1/partnerships/{}/collections", w.pid)).await;
        assert_eq!(collections.status, expect_read, "{row}: collection list");
        if sees != Sees::Nothing {
            let listed = collections.body["data"].as_array().map(Vec::len);
            let expected = if sees == Sees::UpToDeparture { 0 } else { 1 };
            assert_eq!(listed, Some(expected), "{row}: collection list");
        }
        let agreements = get(format!("/v1/partnerships/{}/agreements", w.pid)).await;
        assert_eq!(agreements.status, expect_read, "{row}: agreement list");
        if sees != Sees::Nothing {
            let listed = agreements.body["data"].as_array().map(Vec::len);
            let expected = if sees == Sees::UpToDeparture { 3 } else { 4 };
            assert_eq!(listed, Some(expected), "{row}: agreement list");
        }
        // Money family.
        let code = if money { 200 } else { 404 };
        for path in [
            format!("/v1/partnerships/{}/sales", w.pid),
            format!("/v1/sales/{}", w.early_sale),
            format!("/v1/sales/{}", w.late_sale),
            format!("/v1/partnerships/{}/payouts", w.pid),
            format!("/v1/partnerships/{}/settlements", w.pid),
            format!("/v1/settlements/{}", w.settlement),
            format!("/v1/partnerships/{}/expenses", w.pid),
            format!("/v1/expenses/{}", w.expense),
            format!("/v1/collections/{}/performance", w.collection),
        ] {
            let res = get(path.clone()).await;
            assert_eq!(res.status, code, "{row}: {path} {}", res.text);
        }
        // Acting: recording a sale (money), editing the partnership.
        let sale = app
            .post(&format!("/v1/partnerships/{}/sales", w.pid))
            .bearer(&who.token)
            .header("Idempotency-Key", &format!("act-{}", who.id))
            .json(json!({"amount_minor": 10, "currency": "PEN",
                         "occurred_at": "2026-07-01T10:00:00Z", "channel": "other"}))
            .send()
            .await;
        let money_act = match (money, act) {
            (true, 201) => 201,
            (true, _) => 403,
            (false, _) => 404,
        };
        assert_eq!(
            sale.status, money_act,
            "{row}: recording a sale {}",
            sale.text
        );
        let item = app
            .post(&format!("/v1/collections/{}/items", w.collection))
            .bearer(&who.token)
            .json(json!({"sku": format!("AND-{}", who.id), "name": "Shawl",
                "price": {"amount_minor": 100, "currency": "PEN"}, "contributors": [w.rosa_party]}))
            .send()
            .await;
        let item_expected = match (sees, act) {
            (Sees::All, 201) => 201,
            (Sees::All, _) => 403,
            _ => 404,
        };
        assert_eq!(
            item.status, item_expected,
            "{row}: adding an item {}",
            item.text
        );
        let version = partnership.body["version"].as_i64().unwrap_or(1);
        let edit = app
            .patch(&format!("/v1/partnerships/{}", w.pid))
            .bearer(&who.token)
            .header("If-Match", &format!("\"{version}\""))
            .json(json!({"description": format!("edited by {row}")}))
            .send()
            .await;
        let edit_expected = if act == 201 { 200 } else { act };
        assert_eq!(edit.status, edit_expected, "{row}: editing {}", edit.text);
    }

    // Write paths hide what a departed party may not see just as reads do:
    // an agreement made after it left is a 404, not a 403.
    let hash = "0".repeat(64);
    for (verb, body) in [
        ("signatures", json!({"content_hash": hash})),
        ("declines", json!({"reason": "no"})),
    ] {
        app.post(&format!("/v1/agreements/{}/{verb}", w.second))
            .bearer(&lena.token)
            .json(body.clone())
            .send()
            .await
            .assert_problem(404, "not-found");
        app.post(&format!("/v1/agreements/{}/{verb}", w.draft))
            .bearer(&lena.token)
            .json(body)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }

    // …and reads the partnership and its agreements as they stood when it
    // left: the draft with the terms it had then (naming Lena), not as
    // edited since; the parties without the one invited later.
    let draft_seen = |who: &Account| {
        app.get(&format!("/v1/agreements/{}", w.draft))
            .bearer(&who.token)
            .send()
    };
    let (hers, now) = (draft_seen(&lena).await, draft_seen(&rosa).await);
    let shares = |res: &Resp| {
        res.body["revenue_split"]["shares"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!((shares(&hers), shares(&now)), (4, 3));
    assert_eq!(hers.body["version"], 1);
    assert_ne!(hers.body["content_hash"], now.body["content_hash"]);
    let parties = |who: &Account| {
        app.get(&format!("/v1/partnerships/{}", w.pid))
            .bearer(&who.token)
            .send()
    };
    let count = |res: &Resp| res.body["parties"].as_array().map_or(0, Vec::len);
    let (hers, now) = (parties(&lena).await, parties(&rosa).await);
    assert_eq!(count(&now), count(&hers) + 1, "{}", hers.text);

    // The party that left reads the draft's trail only up to its
    // departure: the edit made afterwards is not theirs to see.
    let kinds = |res: &Resp| -> Vec<String> {
        res.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["kind"].as_str().map(str::to_owned))
            .collect()
    };
    let trail = |who: &Account| {
        app.get(&format!("/v1/agreements/{}/events", w.draft))
            .bearer(&who.token)
            .send()
    };
    assert_eq!(kinds(&trail(&rosa).await), ["created", "edited"]);
    assert_eq!(kinds(&trail(&lena).await), ["created"]);
    let statement = app
        .get("/v1/me/statement?from=2026-01-01&to=2026-12-31")
        .bearer(&lena.token)
        .send()
        .await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    let lines = statement.body["lines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!lines.is_empty(), "{}", statement.text);
    assert!(
        lines.iter().all(|l| l["sale_id"] == w.early_sale.as_str()),
        "only the lines she received: {}",
        statement.text
    );
    assert!(!statement.text.contains(&w.party_of_kwame));
}
