//! Rate limits that cannot be walked around: buckets follow the route that
//! actually runs (percent-encoding, doubled or trailing slashes and letter
//! case never reach a handler outside its bucket), failed authentication
//! counts against the caller's IP (wrong passwords, forged API keys, bad
//! tokens), every limited response says where the client stands, and
//! neither the limiter nor the metrics grow with what clients invent.

use actix_web::http::Method;
use domain::api_key::ApiKeySecret;
use serde_json::json;

use crate::support::{Options, TestApp, PASSWORD};

fn limited(auth: u32, general: u32) -> Options {
    Options::default()
        .var("RATE_LIMIT_AUTH_PER_MINUTE", &auth.to_string())
        .var("RATE_LIMIT_PER_MINUTE", &general.to_string())
}

/// Spellings of the sign-in path. The router decodes unreserved
/// percent-escapes, so the first three run the sign-in handler; the rest
/// match no route at all.
const ENCODED: [&str; 3] = [
    "/%761/auth/login",
    "/v1/auth/%6Cogin",
    "/v1/%61%75%74%68/login",
];
const UNROUTED: [&str; 6] = [
    "//v1/auth/login",
    "/v1//auth/login",
    "/v1/auth/login/",
    "/V1/auth/login",
    "/v1/AUTH/LOGIN",
    "/v1%2Fauth/login",
];

#[actix_web::test]
async fn path_spellings_never_leave_the_sign_in_bucket() {
    let app = TestApp::with(limited(3, 1000)).await;
    let rosa = app.artisan("Rosa").await;
    let login = |path: &str| {
        app.post(path)
            .json(json!({"email": rosa.email, "password": PASSWORD}))
            .send()
    };
    // Registration and the artisan's own sign-in spent 2 of 3 already.
    assert_eq!(login(ENCODED[0]).await.status, 200, "the handler runs");
    for path in ENCODED.iter().chain(["/v1/auth/login"].iter()) {
        let res = login(path).await;
        res.assert_problem(429, "rate-limited");
        assert_eq!(res.header("ratelimit-remaining").as_deref(), Some("0"));
    }
    for path in UNROUTED {
        let res = login(path).await;
        assert!(
            res.status == 404 || res.status == 429,
            "{path} reached a handler outside its bucket: {} {}",
            res.status,
            res.text
        );
    }
}

#[actix_web::test]
async fn failed_authentication_counts_against_the_ip() {
    // Forged API keys: each has a valid checksum (trivial to mint), so it
    // passes the offline check and needs a lookup; the IP's budget of
    // failures stops the guessing.
    let app = TestApp::with(limited(4, 1000)).await;
    let rosa = app.artisan("Rosa").await;
    // A partner's real key, seen to work before the attack.
    let real = app.partner_key(&["directory:read"]).await;
    let works = |key: String| {
        let app = &app;
        async move {
            app.get("/v1/directory/artisans")
                .api_key(&key)
                .send()
                .await
                .status
        }
    };
    assert_eq!(works(real.clone()).await, 200);
    for i in 0..4u8 {
        let forged = ApiKeySecret::from_random([i; 24]);
        app.get("/v1/directory/artisans")
            .api_key(forged.expose())
            .send()
            .await
            .assert_problem(401, "unauthenticated");
    }
    let forged = ApiKeySecret::from_random([99; 24]);
    let res = app
        .get("/v1/directory/artisans")
        .api_key(forged.expose())
        .send()
        .await;
    res.assert_problem(429, "rate-limited");
    assert!(res.header("retry-after").is_some());
    // Bad bearer tokens and wrong passwords from that IP are refused too…
    app.get("/v1/me")
        .bearer("not.a.token")
        .send()
        .await
        .assert_problem(429, "rate-limited");
    app.post("/v1/auth/login")
        .json(json!({"email": rosa.email, "password": "a wrong password!"}))
        .send()
        .await
        .assert_problem(429, "rate-limited");
    // …while a valid access token or a key seen to be valid needs no
    // guessing and still works.
    let me = app.get("/v1/me").bearer(&rosa.token).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(works(real).await, 200);

    // Wrong passwords spend the same budget as forged keys.
    let app = TestApp::with(limited(4, 1000)).await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.post("/v1/auth/login")
            .json(json!({"email": admin.email, "password": "a wrong password!"}))
            .send()
            .await
            .assert_problem(401, "unauthenticated");
    }
    let forged = ApiKeySecret::from_random([7; 24]);
    let key = |app: &TestApp| {
        app.get("/v1/directory/artisans")
            .api_key(forged.expose())
            .send()
    };
    key(&app).await.assert_problem(401, "unauthenticated");
    key(&app).await.assert_problem(429, "rate-limited");
    assert_eq!(
        app.get("/v1/me").bearer(&admin.token).send().await.status,
        200
    );
}

/// Concurrent guesses cannot overdraw the budget: a unit is reserved
/// before the handler runs.
#[actix_web::test]
async fn concurrent_forged_keys_get_no_more_than_the_budget() {
    let app = TestApp::with(limited(5, 1000)).await;
    let attempts = (0..40u8).map(|i| {
        let forged = ApiKeySecret::from_random([i; 24]);
        let app = &app;
        async move {
            app.get("/v1/directory/artisans")
                .api_key(forged.expose())
                .send()
                .await
                .status
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let guessed = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(guessed + refused, 40, "{statuses:?}");
    assert!(guessed <= 5, "{guessed} guesses got through: {statuses:?}");
}

#[actix_web::test]
async fn limited_responses_say_where_the_client_stands() {
    let app = TestApp::with(limited(1000, 5)).await;
    let rosa = app.artisan("Rosa").await;
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let res = app.get("/v1/me").bearer(&rosa.token).send().await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("ratelimit-limit").as_deref(), Some("5"));
        let reset: u64 = res
            .header("ratelimit-reset")
            .and_then(|v| v.parse().ok())
            .expect("RateLimit-Reset");
        assert!((1..=60).contains(&reset));
        remaining.push(res.header("ratelimit-remaining").expect("remaining"));
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let refused = app.get("/v1/me").bearer(&rosa.token).send().await;
    refused.assert_problem(429, "rate-limited");
    assert_eq!(refused.header("ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(
        refused.header("retry-after"),
        refused.header("ratelimit-reset")
    );
    // Operations endpoints are not limited.
    assert_eq!(app.get("/healthz").send().await.status, 200);
}

/// Thousands of invented methods, forged API keys and unknown paths leave
/// the metrics with the same few series and the limiter with the one
/// bucket of the client's IP: a key nobody has seen work counts against
/// the IP, not as a bucket of its own (the 100 000-key floods that show
/// eviction are unit tests of `RateLimiter` and `Metrics`).
#[actix_web::test]
async fn invented_methods_keys_and_paths_leave_memory_flat() {
    let app = TestApp::with(limited(0, 1_000_000).var("RATE_LIMIT_BUCKETS", "100")).await;
    for i in 0..1_500u32 {
        let method = Method::from_bytes(format!("INVENTED{i}").as_bytes()).expect("token");
        app.req(method, &format!("/v1/nothing-{i}")).send().await;
        let forged = ApiKeySecret::from_random(
            [i.to_le_bytes().as_slice(), &[0; 20]]
                .concat()
                .try_into()
                .expect("24 bytes"),
        );
        let res = app
            .get("/v1/directory/artisans")
            .api_key(forged.expose())
            .send()
            .await;
        assert_eq!(res.status, 401);
    }
    let metrics = app.get("/metrics").send().await.text;
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .collect();
    assert!(series.len() <= 3, "{series:#?}");
    assert!(
        series
            .iter()
            .any(|s| s.contains("method=\"OTHER\",route=\"unmatched\"")),
        "{series:#?}"
    );
    let buckets: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("rate_limit_buckets "))
        .and_then(|v| v.parse().ok())
        .expect("rate_limit_buckets gauge");
    assert_eq!(buckets, 1, "one bucket: the client's IP");
}
