//! Co-branded collections: items credit accepted parties only, a draft is
//! the partnership's own, a published one is a catalogue entry for every
//! signed-in user, a numbered edition is never oversold (also under
//! concurrent sales), and the performance figures are exact.

use serde_json::{json, Value};

use crate::expenses::Lcg;
use crate::sales::{refund, sell, setup};
use crate::support::{Account, ArtisanBuilder, Resp, TestApp};

fn item(sku: &str, contributors: &[&str]) -> Value {
    json!({"sku": sku, "name": "Chumpi belt", "description": "Woven on a backstrap loom",
           "price": {"amount_minor": 12_000, "currency": "PEN"},
           "contributors": contributors,
           "cultural_attribution": {"tradition": "Chinchero weaving",
                                    "credit_line": "Patterns of the Chinchero weavers' centre"}})
}

async fn create(app: &TestApp, who: &Account, pid: &str, body: Value) -> Resp {
    app.post(&format!("/v1/partnerships/{pid}/collections"))
        .bearer(&who.token)
        .json(body)
        .send()
        .await
}

async fn change(app: &TestApp, who: &Account, path: &str, version: &Value, body: Value) -> Resp {
    app.patch(path)
        .bearer(&who.token)
        .header("If-Match", &format!("\"{version}\""))
        .json(body)
        .send()
        .await
}

fn item_sale(sku: &str, amount: i64, at: &str) -> Value {
    json!({"amount_minor": amount, "currency": "PEN", "occurred_at": at, "channel": "online",
           "description": "One piece", "item_sku": sku})
}

fn ids(res: &Resp) -> Vec<String> {
    res.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn a_collection_credits_its_makers_and_reaches_the_catalogue_when_published() {
    let app = TestApp::spawn().await;
    let rosa = ArtisanBuilder::new("Rosa")
        .set("crafts", json!(["weaving"]))
        .set("country", json!("PE"))
        .build(&app)
        .await;
    let kwame = ArtisanBuilder::new("Kwame")
        .set("crafts", json!(["kente"]))
        .set("country", json!("GH"))
        .build(&app)
        .await;
    let zoe = app.artisan("Zoe").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    // Ines is invited and has not answered: not a maker to credit yet.
    let invited = app
        .post(&format!("/v1/partnerships/{pid}/parties"))
        .bearer(&rosa.token)
        .json(json!({"artisan_id": zoe.id}))
        .send()
        .await;
    let zoe_party = invited.party("artisan_id", &zoe.id);

    // Bad input, each problem named; nothing created.
    let mut bad = item("has space", &[&parties[0], &parties[0]]);
    bad["price"]["amount_minor"] = json!(0);
    let res = create(
        &app,
        &rosa,
        &pid,
        json!({"name": "", "items": [bad, item("A-1", &[&parties[0]]), item("A-1", &[&parties[1]])]}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        [
            "name",
            "items[0].sku",
            "items[0].price.amount_minor",
            "items[0].contributors[1]",
            "items[2].sku"
        ]
    );
    let res = create(
        &app,
        &rosa,
        &pid,
        json!({"name": "Two Looms", "items": [item("A-1", &[&parties[0], &zoe_party])]}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["items[0].contributors[1]"]);
    // A party of another partnership is no maker of this one.
    let (_, elsewhere, _) = setup(&app, &kwame, &zoe, [5000, 4000, 1000], "2026-01-01").await;
    let res = create(
        &app,
        &rosa,
        &pid,
        json!({"name": "Two Looms", "items": [item("A-1", &[&elsewhere[0]])]}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["items[0].contributors[0]"]);
    let listed = app
        .get(&format!("/v1/partnerships/{pid}/collections"))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(ids(&listed), Vec::<String>::new());

    // A draft crediting both makers, with their names.
    let created = create(
        &app,
        &rosa,
        &pid,
        json!({"name": "Two Looms", "story": "Chinchero patterns meet kente strips.",
               "launch_on": "2099-01-01",
               "items": [item("LOOM-1", &[&parties[0], &parties[1]])]}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/collections/{id}"))
    );
    assert_eq!(created.body["status"], "draft");
    let makers: Vec<&str> = created.body["items"][0]["contributors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["display_name"].as_str())
        .collect();
    assert_eq!(makers, ["Rosa", "Kwame"]);
    // A replayed Idempotency-Key answers the first result; another body
    // under the same key is refused.
    let keyed = |body: Value| {
        app.post(&format!("/v1/partnerships/{pid}/collections"))
            .bearer(&rosa.token)
            .header("Idempotency-Key", "collection-1")
            .json(body)
            .send()
    };
    let body = json!({"name": "Keyed", "items": [item("KEY-1", &[&parties[0]])]});
    let first = keyed(body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = keyed(body).await;
    assert_eq!((again.status, again.id()), (201, first.id()));
    keyed(json!({"name": "Other"}))
        .await
        .assert_problem(422, "idempotency-conflict");

    // A draft is the partnership's: the invited Zoe reads it (to decide),
    // an outsider does not, nor does the catalogue list it.
    let otto = app.artisan("Otto").await;
    let path = format!("/v1/collections/{id}");
    for (who, code) in [(&kwame, 200), (&zoe, 200), (&otto, 404)] {
        let res = app.get(&path).bearer(&who.token).send().await;
        assert_eq!(res.status, code, "{}", res.text);
    }
    app.get(&format!("/v1/partnerships/{pid}/collections"))
        .bearer(&otto.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    let catalogue = |who: &Account, query: &str| {
        app.get(&format!("/v1/collections{query}"))
            .bearer(&who.token)
            .send()
    };
    assert!(ids(&catalogue(&otto, "").await).is_empty());
    // Nor its items, nor (invitees included) the money behind it.
    let first_item = format!(
        "/v1/collection-items/{}",
        created.body["items"][0]["id"].as_str().expect("item")
    );
    for (who, code) in [(&kwame, 200), (&zoe, 200), (&otto, 404)] {
        let res = app.get(&first_item).bearer(&who.token).send().await;
        assert_eq!(res.status, code, "{}", res.text);
    }
    for (who, code) in [(&kwame, 200), (&zoe, 404), (&otto, 404)] {
        let res = app
            .get(&format!("{path}/performance"))
            .bearer(&who.token)
            .send()
            .await;
        assert_eq!(res.status, code, "{}", res.text);
    }
    // Outsiders and invitees do not change it.
    for (who, code) in [(&otto, 404), (&zoe, 403)] {
        let res = change(&app, who, &first_item, &json!(1), json!({"name": "Mine"})).await;
        assert_eq!(res.status, code, "{}", res.text);
        let res = change(&app, who, &path, &json!(1), json!({"name": "Mine"})).await;
        assert_eq!(res.status, code, "{}", res.text);
        let res = app
            .post(&format!("{path}/items"))
            .bearer(&who.token)
            .json(item("OTTO-1", &[&parties[0]]))
            .send()
            .await;
        assert_eq!(res.status, code, "{}", res.text);
    }

    // If-Match is required and must be current.
    app.patch(&path)
        .bearer(&kwame.token)
        .json(json!({"status": "published"}))
        .send()
        .await
        .assert_problem(428, "precondition-required");
    change(
        &app,
        &kwame,
        &path,
        &json!(7),
        json!({"status": "published"}),
    )
    .await
    .assert_problem(412, "precondition-failed");
    let published = change(
        &app,
        &kwame,
        &path,
        &json!(1),
        json!({"status": "published"}),
    )
    .await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.header("etag").as_deref(), Some("\"2\""));
    // Published, but its launch day has not come: still not in the
    // catalogue, still not readable by outsiders.
    assert!(ids(&catalogue(&otto, "").await).is_empty());
    app.get(&path)
        .bearer(&otto.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    let launched = change(&app, &rosa, &path, &json!(2), json!({"launch_on": null})).await;
    assert_eq!(launched.status, 200, "{}", launched.text);
    assert_eq!(ids(&catalogue(&otto, "").await), std::slice::from_ref(&id));
    assert_eq!(app.get(&path).bearer(&otto.token).send().await.status, 200);
    // The catalogue filters by the credited makers' crafts and countries.
    for (query, found) in [
        ("?craft=weaving", true),
        ("?craft=kente", true),
        ("?craft=pottery", false),
        ("?country=GH", true),
        ("?country=JP", false),
        ("?craft=weaving&country=GH", true),
    ] {
        assert_eq!(
            !ids(&catalogue(&otto, query).await).is_empty(),
            found,
            "{query}"
        );
    }
    catalogue(&otto, "?country=Peru")
        .await
        .assert_problem(400, "bad-request");
    // The money behind it stays the partnership's.
    app.get(&format!("{path}/performance"))
        .bearer(&otto.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    // A published collection is not a draft again.
    change(&app, &rosa, &path, &json!(3), json!({"status": "draft"}))
        .await
        .assert_problem(409, "conflict");

    // Items: a sku is the partnership's once; an item's changes keep
    // their makers accepted parties.
    let added = app
        .post(&format!("{path}/items"))
        .bearer(&kwame.token)
        .json(item("LOOM-2", &[&parties[1]]))
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let item_path = added.header("location").expect("location");
    app.post(&format!("{path}/items"))
        .bearer(&kwame.token)
        .json(item("LOOM-1", &[&parties[1]]))
        .send()
        .await
        .assert_problem(409, "conflict");
    let res = change(
        &app,
        &rosa,
        &item_path,
        &json!(1),
        json!({"contributors": [zoe_party]}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["contributors[0]"]);
    let res = change(&app, &rosa, &item_path, &json!(1), json!({"sku": "NEW"})).await;
    res.assert_problem(400, "bad-request");
    let edited = change(
        &app,
        &rosa,
        &item_path,
        &json!(1),
        json!({"contributors": [parties[0], parties[1]], "cultural_attribution": null,
               "price": {"amount_minor": 15_000, "currency": "PEN"}}),
    )
    .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert!(edited.body["cultural_attribution"].is_null());
    assert_eq!(edited.body["price"]["amount_minor"], 15_000);
    assert_eq!(
        edited.body["contributors"].as_array().map(Vec::len),
        Some(2)
    );
    let read = app.get(&item_path).bearer(&otto.token).send().await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.header("etag").as_deref(), Some("\"2\""));
}

/// SPEC §8: selling beyond `edition_size` → 409; twenty concurrent sales
/// of the last three pieces: exactly three succeed.
#[actix_web::test]
async fn a_numbered_edition_is_never_oversold() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let mut numbered = item("ED-12", &[&parties[0], &parties[1]]);
    numbered["edition_size"] = json!(12);
    let created = create(
        &app,
        &rosa,
        &pid,
        json!({"name": "Numbered", "items": [numbered]}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.id();
    let item_path = format!(
        "/v1/collection-items/{}",
        created.body["items"][0]["id"].as_str().expect("item")
    );
    for n in 0..9 {
        let res = sell(
            &app,
            &rosa,
            &pid,
            &format!("ed-{n}"),
            item_sale("ED-12", 12_000, "2026-03-01T10:00:00Z"),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let keys: Vec<String> = (0..20).map(|n| format!("race-{n}")).collect();
    let racing = keys.iter().enumerate().map(|(n, key)| {
        let who = if n % 2 == 0 { &rosa } else { &kwame };
        sell(
            &app,
            who,
            &pid,
            key,
            item_sale("ED-12", 12_000, "2026-03-02T10:00:00Z"),
        )
    });
    let results = futures_util::future::join_all(racing).await;
    let sold = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(sold, 3, "exactly the last three pieces sell");
    for refused in results.iter().filter(|r| r.status != 201) {
        refused.assert_problem(409, "conflict");
    }
    let performance = |who: &Account| {
        app.get(&format!("/v1/collections/{id}/performance"))
            .bearer(&who.token)
            .send()
    };
    let report = performance(&kwame).await;
    assert_eq!(report.status, 200, "{}", report.text);
    let first = &report.body["items"][0];
    assert_eq!(
        (
            first["units_sold"].clone(),
            first["remaining_edition"].clone()
        ),
        (json!(12), json!(0))
    );
    // The edition cannot shrink below what is sold.
    let res = change(
        &app,
        &rosa,
        &item_path,
        &json!(1),
        json!({"edition_size": 11}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["edition_size"]);
    // A sale refunded in full gives its piece back; a partial refund does
    // not.
    let sales = app
        .get(&format!("/v1/partnerships/{pid}/sales?limit=2"))
        .bearer(&rosa.token)
        .send()
        .await;
    for (sale, amount) in [
        (&sales.body["data"][0], 12_000),
        (&sales.body["data"][1], 2_000),
    ] {
        let id = sale["id"].as_str().expect("sale");
        let key = format!("refund-{amount}");
        assert_eq!(refund(&app, &rosa, id, &key, amount).await.status, 201);
    }
    let report = performance(&rosa).await;
    let first = &report.body["items"][0];
    assert_eq!(first["units_refunded"], 1);
    assert_eq!(first["remaining_edition"], 1);
    assert_eq!(
        first["revenue"],
        json!([{"currency": "PEN", "gross_minor": 144_000, "net_minor": 130_000}])
    );
    let again = sell(
        &app,
        &kwame,
        &pid,
        "resale",
        item_sale("ED-12", 12_000, "2026-03-03T10:00:00Z"),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.text);
    sell(
        &app,
        &kwame,
        &pid,
        "one-too-many",
        item_sale("ED-12", 12_000, "2026-03-03T11:00:00Z"),
    )
    .await
    .assert_problem(409, "conflict");
    // A sale with a sku no item has is still just a sale.
    let free = sell(
        &app,
        &kwame,
        &pid,
        "free-sku",
        item_sale("NOT-AN-ITEM", 500, "2026-03-03T12:00:00Z"),
    )
    .await;
    assert_eq!(free.status, 201, "{}", free.text);
}

/// Performance is exact: over random sales and refunds of several items,
/// every figure equals what the test computes from what it did.
#[actix_web::test]
async fn performance_adds_up_to_the_sales_and_refunds_made() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let (pid, parties, _) = setup(&app, &rosa, &kwame, [5000, 4000, 1000], "2026-01-01").await;
    let skus = ["P-1", "P-2", "P-3"];
    let mut items: Vec<Value> = skus.iter().map(|s| item(s, &[&parties[0]])).collect();
    items[1]["edition_size"] = json!(1000);
    let created = create(&app, &rosa, &pid, json!({"name": "Many", "items": items})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.id();
    // (sold, fully refunded, gross, refunded) per sku.
    let mut expected = [(0_i64, 0_i64, 0_i64, 0_i64); 3];
    let mut rng = Lcg(13);
    for n in 0..40 {
        let k = usize::try_from(rng.below(3)).unwrap_or(0);
        let amount = i64::try_from(1 + rng.below(50_000)).unwrap_or(1);
        let res = sell(
            &app,
            &rosa,
            &pid,
            &format!("p-{n}"),
            item_sale(skus[k], amount, "2026-04-01T10:00:00Z"),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.text);
        expected[k].0 += 1;
        expected[k].2 += amount;
        let back = match rng.below(4) {
            0 => amount,
            1 => 1 + i64::try_from(rng.below(amount.unsigned_abs())).unwrap_or(0),
            _ => 0,
        };
        if back > 0 {
            let refunded = refund(&app, &kwame, &res.id(), &format!("r-{n}"), back).await;
            assert_eq!(refunded.status, 201, "{}", refunded.text);
            expected[k].1 += i64::from(back == amount);
            expected[k].3 += back;
        }
    }
    let report = app
        .get(&format!("/v1/collections/{id}/performance"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(report.status, 200, "{}", report.text);
    for (k, (sold, returned, gross, refunded)) in expected.into_iter().enumerate() {
        let got = &report.body["items"][k];
        assert_eq!(got["sku"], skus[k]);
        assert_eq!(got["units_sold"], sold, "{}", report.text);
        assert_eq!(got["units_refunded"], returned);
        let revenue = if sold == 0 {
            json!([])
        } else {
            json!([{"currency": "PEN", "gross_minor": gross, "net_minor": gross - refunded}])
        };
        assert_eq!(got["revenue"], revenue);
        let remaining = if k == 1 {
            json!(1000 - sold + returned)
        } else {
            Value::Null
        };
        assert_eq!(got["remaining_edition"], remaining);
    }
}
