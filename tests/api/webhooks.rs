//! Webhooks: endpoints with a secret shown once, signed deliveries to a
//! real receiver, only of what the organization may see, retried with
//! backoff on an advanced clock, disabled after days of failure, never
//! sent to a private address, exactly once with two workers, and pruned.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::impact::open_program;
use crate::receiver::{verify_signature, Receiver};
use persistence::webhooks as store;

use crate::support::{Account, Options, Resp, TestApp};

/// Registers an endpoint; returns (id, secret).
async fn register(app: &TestApp, key: &str, url: &str, events: &[&str]) -> (String, String) {
    let res = app
        .post("/v1/webhook-endpoints")
        .api_key(key)
        .json(json!({"url": url, "events": events}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let secret = res.body["secret"].as_str().expect("secret").to_owned();
    (
        res.body["endpoint"]["id"].as_str().expect("id").to_owned(),
        secret,
    )
}

async fn deliveries(app: &TestApp, key: &str, endpoint: &str) -> Vec<Value> {
    let res = app
        .get(&format!(
            "/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"
        ))
        .api_key(key)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.body["data"].as_array().cloned().unwrap_or_default()
}

/// Polls the deliveries log until `done` holds (10 s at most).
async fn log_until(
    app: &TestApp,
    key: &str,
    endpoint: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = deliveries(app, key, endpoint).await;
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never got there: {log:#?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn attempts(log: &[Value]) -> i64 {
    log.iter()
        .map(|d| d["attempts"].as_i64().unwrap_or(0))
        .sum()
}

/// An application by a new artisan to `program`.
async fn apply(app: &TestApp, program: &str, name: &str) -> Account {
    let who = app.artisan(name).await;
    crate::impact::apply(app, program, &who).await;
    who
}

async fn workshop(app: &TestApp, host: &Account, title: &str) -> Resp {
    let res = app
        .post("/v1/workshops")
        .bearer(&host.token)
        .json(json!({"title": title, "skill": "natural-dyeing", "description": "Bring a scarf.",
                     "capacity": 8, "starts_at": (Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
                     "duration_hours": 2, "location": "Cusco market hall"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res
}

#[actix_web::test]
async fn endpoints_show_their_secret_once_and_belong_to_their_organization() {
    let app = TestApp::spawn().await;
    let key = app.partner_key(&["webhooks:manage"]).await;
    let other = app.partner_key(&["webhooks:manage"]).await;
    let directory = app.partner_key(&["directory:read"]).await;
    let rosa = app.artisan("Rosa").await;
    let good = json!({"url": "https://hooks.example.org/artisan-commons", "events": ["agreement.activated"]});

    app.post("/v1/webhook-endpoints")
        .api_key(&directory)
        .json(good.clone())
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/webhook-endpoints")
        .bearer(&rosa.token)
        .json(good.clone())
        .send()
        .await
        .assert_problem(403, "forbidden");

    // Only https to public hosts, and known events, each once.
    for url in [
        "http://hooks.example.org/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://localhost/x",
        "https://metadata.google.internal/x",
        "https://user:pass@hooks.example.org/x",
        "ftp://hooks.example.org/x",
        "not a url",
    ] {
        let res = app
            .post("/v1/webhook-endpoints")
            .api_key(&key)
            .json(json!({"url": url, "events": ["agreement.activated"]}))
            .send()
            .await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), ["url"], "{url}");
    }
    for (events, field) in [
        (json!([]), "events"),
        (json!(["agreement.signed"]), "events[0]"),
        (
            json!(["agreement.activated", "agreement.activated"]),
            "events[1]",
        ),
    ] {
        let mut body = good.clone();
        body["events"] = events;
        let res = app
            .post("/v1/webhook-endpoints")
            .api_key(&key)
            .json(body)
            .send()
            .await;
        res.assert_problem(422, "validation");
        assert_eq!(res.error_fields(), [field]);
    }

    let created = app
        .post("/v1/webhook-endpoints")
        .api_key(&key)
        .json(good.clone())
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().expect("secret").to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let id = created.body["endpoint"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/v1/webhook-endpoints/{id}");

    // Never again in clear: not read back, not stored.
    let read = app.get(&path).api_key(&key).send().await;
    assert_eq!(read.status, 200);
    assert!(!read.text.contains(&secret) && read.body.get("secret").is_none());
    assert_eq!(read.body["events"], json!(["agreement.activated"]));
    let listed = app.get("/v1/webhook-endpoints").api_key(&key).send().await;
    assert_eq!(listed.body["data"][0]["id"], json!(id));
    assert!(!listed.text.contains(&secret));
    let stored: Vec<String> = {
        use diesel::prelude::*;
        use persistence::schema::webhook_endpoints::dsl::*;
        let mut pooled = app.conn();
        let conn: &mut persistence::AnyConnection = &mut pooled;
        webhook_endpoints
            .select(secret_sealed)
            .load(conn)
            .expect("rows")
    };
    assert!(stored
        .iter()
        .all(|s| !s.contains(&secret) && !s.contains(&secret[6..])));

    // Another organization sees none of it.
    for res in [
        app.get(&path).api_key(&other).send().await,
        app.patch(&path)
            .api_key(&other)
            .header("If-Match", "\"1\"")
            .json(json!({"enabled": false}))
            .send()
            .await,
        app.delete(&path)
            .api_key(&other)
            .header("If-Match", "\"1\"")
            .send()
            .await,
        app.post(&format!("{path}/test"))
            .api_key(&other)
            .send()
            .await,
        app.get(&format!("{path}/deliveries"))
            .api_key(&other)
            .send()
            .await,
    ] {
        res.assert_problem(404, "not-found");
    }
    // Nor through an encoded path: an id is a whole UUID segment.
    let deliveries_path = format!("{path}/deliveries");
    let id_at = path.len() - 36;
    for encoded in [
        format!("{path}%2Fdeliveries"),
        format!("{}x%2F..%2F{}", &path[..id_at], &path[id_at..]),
        format!("{path}%00"),
        deliveries_path.replace("/deliveries", "%2fdeliveries"),
    ] {
        for caller in [&other, &key] {
            app.get(&encoded)
                .api_key(caller)
                .send()
                .await
                .assert_problem(404, "not-found");
        }
    }
    // Without a key, or with one that does not exist: 401 on every operation.
    for caller in [None, Some("ak_not-a-real-key")] {
        for res in [
            app.get("/v1/webhook-endpoints"),
            app.get(&path),
            app.get(&deliveries_path),
            app.post(&format!("{path}/test")),
            app.delete(&path),
        ] {
            let res = match caller {
                Some(bad) => res.api_key(bad),
                None => res,
            };
            res.send().await.assert_problem(401, "unauthenticated");
        }
    }
    let theirs = app
        .get("/v1/webhook-endpoints")
        .api_key(&other)
        .send()
        .await;
    assert_eq!(theirs.body["data"], json!([]));

    // Changes need the current version.
    let change =
        json!({"events": ["settlement.created", "agreement.superseded"], "enabled": false});
    app.patch(&path)
        .api_key(&key)
        .header("If-Match", "\"7\"")
        .json(change.clone())
        .send()
        .await
        .assert_problem(412, "precondition-failed");
    let bad = app
        .patch(&path)
        .api_key(&key)
        .header("If-Match", "\"1\"")
        .json(json!({"url": "https://192.168.1.10/hook", "events": ["nope"]}))
        .send()
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(bad.error_fields(), ["url", "events[0]"]);
    let changed = app
        .patch(&path)
        .api_key(&key)
        .header("If-Match", "\"1\"")
        .json(change)
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        changed.body["events"],
        json!(["settlement.created", "agreement.superseded"])
    );
    assert_eq!(changed.body["enabled"], false);
    assert_eq!(changed.header("etag").as_deref(), Some("\"2\""));

    // Deleting needs the current version too.
    app.delete(&path)
        .api_key(&key)
        .send()
        .await
        .assert_problem(428, "precondition-required");
    app.delete(&path)
        .api_key(&key)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .assert_problem(412, "precondition-failed");
    let deleted = app
        .delete(&path)
        .api_key(&key)
        .header("If-Match", "\"2\"")
        .send()
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    app.get(&path)
        .api_key(&key)
        .send()
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn events_arrive_signed_and_only_where_the_organization_may_see_them() {
    let app = TestApp::with(Options::default().webhooks()).await;
    let (ours, theirs) = (Receiver::start(), Receiver::start());
    let key = app
        .partner_key(&["programs:write", "webhooks:manage"])
        .await;
    let other = app
        .partner_key(&["programs:write", "webhooks:manage"])
        .await;
    let events = ["program.application.created", "workshop.created"];
    let (endpoint, secret) = register(&app, &key, &ours.url(), &events).await;
    register(&app, &other, &theirs.url(), &events).await;

    // An application to our program reaches us only; a public workshop
    // reaches both.
    let program_id = open_program(&app, &key).await;
    apply(&app, &program_id, "Rosa").await;
    let host = app.artisan("Host").await;
    let created = workshop(&app, &host, "Indigo vat dyeing").await;

    let got = ours.wait_for(2, Duration::from_secs(10));
    let mut types = Vec::new();
    for message in &got {
        assert!(verify_signature(&secret, message), "{message:?}");
        assert_eq!(message.header("content-type"), Some("application/json"));
        let body: Value = serde_json::from_str(&message.body).expect("json");
        assert!(message
            .header("webhook-id")
            .is_some_and(|id| !id.is_empty()));
        let stamp = message
            .header("webhook-timestamp")
            .and_then(|t| t.parse::<i64>().ok());
        assert!(
            stamp.is_some_and(|t| (t - Utc::now().timestamp()).abs() < 60),
            "{stamp:?}"
        );
        assert!(body["timestamp"].is_string());
        types.push(body["type"].as_str().unwrap_or_default().to_owned());
        if body["type"] == "program.application.created" {
            assert_eq!(body["data"]["program_id"], json!(program_id));
        } else {
            assert_eq!(body["data"]["workshop_id"], created.body["id"]);
        }
    }
    types.sort();
    assert_eq!(types, ["program.application.created", "workshop.created"]);
    let elsewhere = theirs.wait_for(1, Duration::from_secs(10));
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(theirs.received().len(), 1, "{elsewhere:?}");
    assert!(theirs.received()[0].body.contains("workshop.created"));

    // The log shows each delivery with its attempt.
    let log = log_until(&app, &key, &endpoint, |log| {
        log.len() == 2 && log.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(log
        .iter()
        .all(|d| d["attempt_log"][0]["status_code"] == 204 && d["attempts"] == 1));

    // A tampered body or another secret does not verify.
    let mut forged = got[0].clone();
    forged.body = forged.body.replace("\"data\"", "\"data \"");
    assert!(!verify_signature(&secret, &forged));
    let (_, other_secret) = register(&app, &key, &ours.url(), &["event.created"]).await;
    assert!(!verify_signature(&other_secret, &got[0]));
}

#[actix_web::test]
async fn a_partnership_s_events_reach_the_organizations_it_is_shared_with_until_revoked() {
    let app = TestApp::with(Options::default().webhooks()).await;
    let (aid_receiver, other_receiver) = (Receiver::start(), Receiver::start());
    let (aid, aid_key) = app.partner("Aid to Artisans", &["webhooks:manage"]).await;
    let other_key = app.partner_key(&["webhooks:manage"]).await;
    let events = [
        "partnership.activated",
        "agreement.activated",
        "agreement.superseded",
    ];
    let (aid_endpoint, secret) = register(&app, &aid_key, &aid_receiver.url(), &events).await;
    register(&app, &other_key, &other_receiver.url(), &events).await;

    let (rosa, kwame, created) = shared_and_activated(&app, &aid).await;
    let pid = created.id();
    let kwame_party = created.party("artisan_id", &kwame.id);

    let got = aid_receiver.wait_for(1, Duration::from_secs(10));
    assert!(verify_signature(&secret, &got[0]));
    let body: Value = serde_json::from_str(&got[0].body).expect("json");
    assert_eq!(body["type"], "partnership.activated");
    assert_eq!(body["data"]["partnership_id"], json!(pid));
    let log = log_until(&app, &aid_key, &aid_endpoint, |log| {
        log.len() == 1 && log[0]["status"] == "succeeded"
    })
    .await;
    let delivered = log[0]["id"].as_str().expect("a delivery id").to_owned();

    // Revoked: the next event goes nowhere, and what was still waiting is
    // cancelled.
    aid_receiver.fail_next(1, 503);
    let ok = app
        .delete(&format!("/v1/partnerships/{pid}/shares/{aid}"))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text);
    let party = created.party("artisan_id", &rosa.id);
    let draft = app
        .post(&format!("/v1/partnerships/{pid}/agreements"))
        .bearer(&rosa.token)
        .json(json!({"revenue_split": {"currency": "PEN", "shares": [
            {"recipient": {"party_id": party}, "share_bps": 5000},
            {"recipient": {"party_id": kwame_party}, "share_bps": 5000}]},
            "effective_from": "2026-01-01"}))
        .send()
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    for who in [&rosa, &kwame] {
        let res = app
            .post(&format!("/v1/agreements/{}/signatures", draft.id()))
            .bearer(&who.token)
            .json(json!({"content_hash": draft.body["content_hash"]}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(aid_receiver.received().len(), 1, "nothing after the revoke");
    assert!(
        other_receiver.received().is_empty(),
        "never shared with the other organization"
    );
    // What was delivered before the revoke leaves the organization's log,
    // and is not sent again.
    assert!(deliveries(&app, &aid_key, &aid_endpoint).await.is_empty());
    app.post(&format!(
        "/v1/webhook-endpoints/{aid_endpoint}/deliveries/{delivered}/redeliver"
    ))
    .api_key(&aid_key)
    .send()
    .await
    .assert_problem(404, "not-found");
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(aid_receiver.received().len(), 1, "nothing sent again");
}

/// Rosa's partnership with Kwame, shared with `organization` and then
/// activated by Kwame's acceptance (a `partnership.activated` event).
async fn shared_and_activated(app: &TestApp, organization: &str) -> (Account, Account, Resp) {
    let rosa = app.artisan("Rosa").await;
    let kwame = app.artisan("Kwame").await;
    let created = app
        .post("/v1/partnerships")
        .bearer(&rosa.token)
        .json(json!({"title": "Stall", "kind": "market_event", "invitees": [{"artisan_id": kwame.id}]}))
        .send()
        .await;
    let pid = created.id();
    let shared = app
        .post(&format!("/v1/partnerships/{pid}/shares"))
        .bearer(&rosa.token)
        .json(json!({"organization_id": organization}))
        .send()
        .await;
    assert_eq!(shared.status, 201, "{}", shared.text);
    let kwame_party = created.party("artisan_id", &kwame.id);
    let accepted = app
        .post(&format!(
            "/v1/partnerships/{pid}/invitations/{kwame_party}/accept"
        ))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    (rosa, kwame, created)
}

#[actix_web::test]
async fn an_attempt_under_way_when_the_share_is_revoked_does_not_bring_its_delivery_back() {
    let app = TestApp::with(Options::default().webhooks()).await;
    let receiver = Receiver::start();
    let (aid, key) = app.partner("Aid to Artisans", &["webhooks:manage"]).await;
    let (endpoint, _) = register(&app, &key, &receiver.url(), &["partnership.activated"]).await;
    receiver.fail_next(1, 503);
    let (_, kwame, created) = shared_and_activated(&app, &aid).await;
    let log = log_until(&app, &key, &endpoint, |log| {
        log.len() == 1 && log[0]["attempts"] == 1
    })
    .await;
    assert_eq!(log[0]["status"], "pending", "to be retried");
    let delivery = log[0]["id"].as_str().expect("a delivery id").to_owned();

    let revoked = app
        .delete(&format!("/v1/partnerships/{}/shares/{aid}", created.id()))
        .bearer(&kwame.token)
        .send()
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    // The retry under way when the revoke landed ends now, failed again.
    let now = Utc::now().naive_utc();
    let late = store::Attempt {
        at: now,
        status_code: Some(503),
        error: None,
        duration_ms: 3,
        jitter: 0.0,
    };
    store::record_attempt(&mut app.conn(), &delivery, &late).expect("recorded");
    // Nothing brings it back: no worker finds it due, days later.
    let later = now + chrono::Duration::days(2);
    let due = store::claim(&mut app.conn(), later, later, 10).expect("claimed");
    assert!(due.is_empty(), "{:?}", due.first().map(|c| &c.delivery));
}

/// Advances the clock 12 hours at a time (the longest backoff with its
/// jitter) until the newest delivery has failed all its attempts.
async fn exhaust(app: &TestApp, key: &str, endpoint: &str) -> Vec<Value> {
    for _ in 0..12 {
        let log = deliveries(app, key, endpoint).await;
        if log[0]["status"] == "failed" {
            return log;
        }
        let before = attempts(&log);
        app.clock.advance(chrono::Duration::hours(12));
        log_until(app, key, endpoint, |l| attempts(l) > before).await;
    }
    panic!("the delivery was still not given up");
}

#[actix_web::test]
async fn failures_are_retried_with_backoff_and_a_dead_endpoint_is_disabled() {
    let app = TestApp::with(Options::default().webhooks()).await;
    let flaky = Receiver::start();
    let dead = Receiver::start();
    let key = app
        .partner_key(&["programs:write", "webhooks:manage"])
        .await;
    let (flaky_endpoint, _) =
        register(&app, &key, &flaky.url(), &["program.application.created"]).await;
    let (dead_endpoint, _) =
        register(&app, &key, &dead.url(), &["program.application.created"]).await;
    flaky.fail_next(2, 503);
    dead.fail_next(1000, 500);
    let program_id = open_program(&app, &key).await;
    apply(&app, &program_id, "Rosa").await;

    // First attempt at once, the next after 5 s (and up to 20 % more).
    flaky.wait_for(1, Duration::from_secs(10));
    let log = log_until(&app, &key, &flaky_endpoint, |l| attempts(l) == 1).await;
    assert_eq!(log[0]["status"], "pending");
    let first =
        chrono::DateTime::parse_from_rfc3339(log[0]["last_attempt_at"].as_str().expect("at"))
            .expect("time");
    let next =
        chrono::DateTime::parse_from_rfc3339(log[0]["next_attempt_at"].as_str().expect("at"))
            .expect("time");
    let wait = (next - first).num_milliseconds();
    assert!((5_000..=6_000).contains(&wait), "{wait} ms");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(flaky.received().len(), 1, "not before the backoff");
    app.clock.advance(chrono::Duration::seconds(7));
    log_until(&app, &key, &flaky_endpoint, |l| attempts(l) == 2).await;
    app.clock.advance(chrono::Duration::minutes(7));
    let log = log_until(&app, &key, &flaky_endpoint, |l| {
        l[0]["status"] == "succeeded"
    })
    .await;
    let codes: Vec<Value> = log[0]["attempt_log"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(codes, [json!(204), json!(503), json!(503)]);
    let ids: BTreeSet<String> = flaky
        .received()
        .iter()
        .filter_map(|m| m.header("webhook-id").map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");

    // The dead receiver: all eight attempts over more than a day fail.
    let log = exhaust(&app, &key, &dead_endpoint).await;
    assert_eq!(log[0]["attempts"], 8);
    assert_eq!(dead.received().len(), 8);
    // Failing for three and a half days is not yet enough to disable it…
    let endpoint = app
        .get(&format!("/v1/webhook-endpoints/{dead_endpoint}"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(endpoint.body["enabled"], true, "{}", endpoint.text);
    assert!(endpoint.body["failing_since"].is_string());
    // …but when the next event also fails all its attempts, five days
    // after the first failure, it is.
    apply(&app, &program_id, "Kwame").await;
    log_until(&app, &key, &dead_endpoint, |l| l.len() == 2).await;
    exhaust(&app, &key, &dead_endpoint).await;
    let endpoint = app
        .get(&format!("/v1/webhook-endpoints/{dead_endpoint}"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(endpoint.body["enabled"], false, "{}", endpoint.text);
    let reason = endpoint.body["disabled_reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.starts_with("failing since"), "{reason}");
    // Nothing is sent while disabled; enabling clears the reason.
    let sent = dead.received().len();
    apply(&app, &program_id, "Otto").await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(dead.received().len(), sent);
    let etag = endpoint.header("etag").expect("etag");
    let enabled = app
        .patch(&format!("/v1/webhook-endpoints/{dead_endpoint}"))
        .api_key(&key)
        .header("If-Match", &etag)
        .json(json!({"enabled": true}))
        .send()
        .await;
    assert_eq!(enabled.body["enabled"], true);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);
    assert_eq!(enabled.body["failing_since"], Value::Null);
}

#[actix_web::test]
async fn a_slow_receiver_does_not_hold_up_the_others() {
    let app = TestApp::with(Options::default().webhooks()).await;
    let (slow, quick) = (Receiver::start(), Receiver::start());
    slow.respond_slowly(Duration::from_secs(4));
    let key = app.partner_key(&["webhooks:manage"]).await;
    let (slow_endpoint, _) = register(&app, &key, &slow.url(), &["workshop.created"]).await;
    register(&app, &key, &quick.url(), &["workshop.created"]).await;
    let host = app.artisan("Host").await;
    workshop(&app, &host, "First").await;
    slow.wait_for(1, Duration::from_secs(10));
    workshop(&app, &host, "Second").await;
    // Both reach the quick receiver while the slow one is still hanging.
    let started = Instant::now();
    quick.wait_for(2, Duration::from_secs(3));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The slow attempt times out (2 s in the tests) and is retried later.
    let log = log_until(&app, &key, &slow_endpoint, |l| {
        l.iter().any(|d| {
            d["attempt_log"][0]["error"]
                .as_str()
                .is_some_and(|e| e.contains("delivery failed"))
        })
    })
    .await;
    assert!(log.iter().any(|d| d["status"] == "pending"));
}

#[actix_web::test]
async fn a_test_message_and_a_redelivery_carry_the_same_signature_scheme() {
    let app = TestApp::with(Options::default().webhooks()).await;
    let receiver = Receiver::start();
    let key = app.partner_key(&["webhooks:manage"]).await;
    let (endpoint, secret) = register(&app, &key, &receiver.url(), &["event.created"]).await;
    let res = app
        .post(&format!("/v1/webhook-endpoints/{endpoint}/test"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    assert_eq!(res.body["event_type"], "webhook.test");
    let delivery = res.body["id"].as_str().expect("id").to_owned();
    let got = receiver.wait_for(1, Duration::from_secs(10));
    assert!(verify_signature(&secret, &got[0]));
    assert!(got[0].body.contains("\"webhook.test\""));
    log_until(&app, &key, &endpoint, |l| l[0]["status"] == "succeeded").await;

    let again = app
        .post(&format!(
            "/v1/webhook-endpoints/{endpoint}/deliveries/{delivery}/redeliver"
        ))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(again.status, 202, "{}", again.text);
    let got = receiver.wait_for(2, Duration::from_secs(10));
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert!(verify_signature(&secret, &got[1]));
    let other = app.partner_key(&["webhooks:manage"]).await;
    app.post(&format!(
        "/v1/webhook-endpoints/{endpoint}/deliveries/{delivery}/redeliver"
    ))
    .api_key(&other)
    .send()
    .await
    .assert_problem(404, "not-found");
    let unknown = uuid::Uuid::now_v7();
    app.post(&format!(
        "/v1/webhook-endpoints/{endpoint}/deliveries/{unknown}/redeliver"
    ))
    .api_key(&key)
    .send()
    .await
    .assert_problem(404, "not-found");

    // A disabled endpoint sends nothing, so neither a test nor a
    // redelivery is queued for it (409), until it is enabled again.
    let path = format!("/v1/webhook-endpoints/{endpoint}");
    let version = app.get(&path).api_key(&key).send().await.body["version"]
        .as_i64()
        .expect("version");
    let set_enabled = |enabled: bool, version: i64| {
        app.patch(&path)
            .api_key(&key)
            .header("If-Match", &format!("\"{version}\""))
            .json(json!({ "enabled": enabled }))
    };
    let disabled = set_enabled(false, version).send().await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    let logged = app
        .get(&format!("{path}/deliveries"))
        .api_key(&key)
        .send()
        .await;
    for refused in [
        app.post(&format!("{path}/test")).api_key(&key).send().await,
        app.post(&format!("{path}/deliveries/{delivery}/redeliver"))
            .api_key(&key)
            .send()
            .await,
    ] {
        refused.assert_problem(409, "conflict");
        assert!(refused.text.contains("disabled"), "{}", refused.text);
    }
    let unchanged = app
        .get(&format!("{path}/deliveries"))
        .api_key(&key)
        .send()
        .await;
    assert_eq!(unchanged.body, logged.body, "nothing was queued");
    let enabled = set_enabled(true, version + 1).send().await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);
    let test = app.post(&format!("{path}/test")).api_key(&key).send().await;
    assert_eq!(test.status, 202, "{}", test.text);
    receiver.wait_for(3, Duration::from_secs(10));
}

#[actix_web::test]
async fn a_private_address_is_refused_again_at_delivery() {
    let app = TestApp::with(
        Options::default()
            .webhooks()
            .var("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "false"),
    )
    .await;
    let receiver = Receiver::start();
    let key = app.partner_key(&["webhooks:manage"]).await;
    let (endpoint, _) = register(
        &app,
        &key,
        "https://hooks.example.org/in",
        &["workshop.created"],
    )
    .await;
    // The stored URL now names a loopback address (as if it had been
    // registered while private networks were allowed).
    let loopback = receiver.url().replace("http://", "https://");
    let mut pooled = app.conn();
    let conn: &mut persistence::AnyConnection = &mut pooled;
    diesel::sql_query(format!(
        "UPDATE webhook_endpoints SET url = '{loopback}' WHERE id = '{endpoint}'"
    ))
    .execute(conn)
    .expect("update");
    let host = app.artisan("Host").await;
    workshop(&app, &host, "Indigo").await;
    let log = log_until(&app, &key, &endpoint, |l| attempts(l) == 1).await;
    let error = log[0]["attempt_log"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("public address"), "{error}");
    assert_eq!(log[0]["attempt_log"][0]["status_code"], Value::Null);
    assert!(receiver.received().is_empty());
}

#[actix_web::test]
async fn two_workers_deliver_each_event_once_and_delivered_events_are_pruned() {
    let app = TestApp::with(Options::default().webhooks()).await;
    app.start_worker();
    let receiver = Receiver::start();
    let key = app.partner_key(&["webhooks:manage"]).await;
    let (endpoint, _) = register(&app, &key, &receiver.url(), &["workshop.created"]).await;
    let host = app.artisan("Host").await;
    for n in 0..30 {
        workshop(&app, &host, &format!("Workshop {n}")).await;
    }
    let got = receiver.wait_for(30, Duration::from_secs(20));
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 30, "no event twice");
    let ids: BTreeSet<&str> = got.iter().filter_map(|m| m.header("webhook-id")).collect();
    assert_eq!(ids.len(), 30);
    let log = log_until(&app, &key, &endpoint, |l| {
        l.len() == 30 && l.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(log.iter().all(|d| d["attempts"] == 1));

    // After the retention (7 days by default) the outbox and the log are
    // emptied.
    let events = |app: &TestApp| {
        persistence::outbox::of_type(&mut app.conn(), domain::webhook::EventType::WorkshopCreated)
            .expect("outbox")
            .len()
    };
    assert_eq!(events(&app), 30);
    app.clock.advance(chrono::Duration::days(8));
    log_until(&app, &key, &endpoint, <[Value]>::is_empty).await;
    assert_eq!(events(&app), 0);
}

#[actix_web::test]
async fn concurrent_workers_on_postgresql_skip_what_another_has_locked() {
    let app = TestApp::with(Options::default().webhooks_allowed()).await;
    if !persistence::db::is_postgres_url(&app.database_url) {
        // SQLite has one writer at a time: a second transaction waits for
        // the first instead of skipping its rows.
        return;
    }
    let key = app.partner_key(&["webhooks:manage"]).await;
    let (endpoint, _) = register(
        &app,
        &key,
        "http://127.0.0.1:9/hooks",
        &["workshop.created"],
    )
    .await;
    let host = app.artisan("Host").await;
    for n in 0..5 {
        workshop(&app, &host, &format!("Workshop {n}")).await;
    }
    let now = persistence::now();
    let lease = now + chrono::Duration::minutes(1);
    let (mut first, mut second) = (app.conn(), app.conn());
    let (a, b): (
        &mut persistence::AnyConnection,
        &mut persistence::AnyConnection,
    ) = (&mut first, &mut second);
    use diesel::Connection;
    // Waiting on the other's locks would be the failure: fail it fast.
    diesel::sql_query("SET lock_timeout = '2s'")
        .execute(b)
        .expect("lock timeout");
    a.transaction::<_, persistence::StoreError, _>(|a| {
        // One worker holds the new events: the other hands out none of them.
        assert_eq!(store::dispatch(a, now, 100)?, 5);
        assert_eq!(store::dispatch(b, now, 100)?, 0);
        Ok(())
    })
    .expect("dispatch");
    a.transaction::<_, persistence::StoreError, _>(|a| {
        // One worker has claimed the deliveries and not committed yet: the
        // other skips them rather than sending them a second time.
        assert_eq!(store::claim(a, now, lease, 10)?.len(), 5);
        assert_eq!(store::claim(b, now, lease, 10)?.len(), 0);
        Ok(())
    })
    .expect("claim");
    assert_eq!(deliveries(&app, &key, &endpoint).await.len(), 5);
}
