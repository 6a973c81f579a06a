//! The conventions every endpoint shares: problem+json, request ids,
//! caching, limits, content types, 404/405, health, metrics, docs, rate
//! limits and an unreachable database.

use serde_json::json;

use crate::support::{Options, TestApp};

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;
    app.get("/v1/does-not-exist")
        .send()
        .await
        .assert_problem(404, "not-found");
    let res = app.delete("/v1/auth/login").send().await;
    res.assert_problem(405, "method-not-allowed");
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
    let res = app.req(actix_web::http::Method::PUT, "/v1/me").send().await;
    res.assert_problem(405, "method-not-allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, DELETE"));
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/healthz")
        .header("X-Request-Id", "trace-abc-123")
        .send()
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("trace-abc-123"));
    let res = app.get("/v1/nope").send().await;
    let generated = res.header("x-request-id").expect("generated id");
    assert_eq!(res.body["request_id"], generated.as_str());
    let res = app
        .get("/healthz")
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await;
    assert_ne!(
        res.header("x-request-id").as_deref(),
        Some("bad id with spaces")
    );
}

#[actix_web::test]
async fn authenticated_responses_are_not_cached() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let res = app.get("/v1/me").bearer(&rosa.token).send().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
}

/// Identity and admin bodies refuse unknown members like every other body
/// (a 400), and nothing is created.
#[actix_web::test]
async fn identity_and_admin_bodies_refuse_unknown_fields() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let admin = app.admin().await;
    let extra = |mut body: serde_json::Value| {
        body["role"] = json!("admin");
        body
    };
    let cases = [
        (
            "/v1/auth/register",
            None,
            extra(
                json!({"email": "new@example.org", "password": crate::support::PASSWORD, "display_name": "New"}),
            ),
        ),
        (
            "/v1/auth/login",
            None,
            extra(json!({"email": rosa.email, "password": crate::support::PASSWORD})),
        ),
        (
            "/v1/auth/refresh",
            None,
            extra(json!({"refresh_token": rosa.refresh})),
        ),
        (
            "/v1/organizations",
            Some(&admin.token),
            extra(json!({"name": "Aid", "description": "x"})),
        ),
    ];
    for (path, token, body) in cases {
        let mut req = app.post(path).json(body);
        if let Some(token) = token {
            req = req.bearer(token);
        }
        req.send().await.assert_problem(400, "bad-request");
    }
    let org = app
        .post("/v1/organizations")
        .bearer(&admin.token)
        .json(json!({"name": "Aid", "description": "x"}))
        .send()
        .await;
    assert_eq!(org.status, 201, "{}", org.text);
    app.post(&format!("/v1/organizations/{}/api-keys", org.id()))
        .bearer(&admin.token)
        .json(json!({"name": "k", "scopes": ["directory:read"], "key": "ac_chosen"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
    // Nothing was created by the refused requests; the refresh token was
    // not consumed.
    app.post("/v1/auth/login")
        .json(json!({"email": "new@example.org", "password": crate::support::PASSWORD}))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let refreshed = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": rosa.refresh}))
        .send()
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
}

#[actix_web::test]
async fn malformed_json_wrong_type_and_oversize_bodies_are_refused() {
    let app = TestApp::with(Options::default().var("MAX_BODY_BYTES", "2048")).await;
    app.post("/v1/auth/register")
        .header("Content-Type", "application/json")
        .raw("{\"email\": ")
        .send()
        .await
        .assert_problem(400, "bad-request");
    app.post("/v1/auth/register")
        .header("Content-Type", "text/plain")
        .raw("email=a@b.c")
        .send()
        .await
        .assert_problem(415, "unsupported-media-type");
    app.post("/v1/auth/register")
        .json(json!({"email": "a@example.org", "password": "x".repeat(4000), "display_name": "A"}))
        .send()
        .await
        .assert_problem(413, "payload-too-large");
    app.post("/v1/auth/register")
        .json(json!({"email": 5, "password": "long enough password", "display_name": "A"}))
        .send()
        .await
        .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn health_readiness_metrics_and_docs() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").send().await.body["status"], "ok");
    assert_eq!(app.get("/readyz").send().await.body["status"], "ready");
    let spec = app.get("/openapi.json").send().await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["paths"]["/v1/artisans"].is_object());
    let yaml = app.get("/openapi.yaml").send().await;
    assert_eq!(yaml.text, api::openapi_yaml().expect("yaml"));
    let docs = app.get("/docs/").send().await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.text.contains("swagger"),
        "docs UI served by the binary"
    );
    // Without the slash: a permanent redirect to it.
    let bare = awc::Client::builder()
        .disable_redirects()
        .finish()
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .expect("GET /docs");
    assert_eq!(bare.status().as_u16(), 308);
    assert_eq!(
        bare.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/docs/")
    );
    let followed = app.get("/docs").send().await;
    assert_eq!(followed.status, 200);
    assert!(followed.text.contains("swagger"));
    let metrics = app.get("/metrics").send().await;
    assert!(metrics
        .text
        .contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"));
    assert!(metrics.text.contains("db_pool_max_connections 8"));
}

/// Every problem `type` the API can answer resolves to a page for people,
/// and the OpenAPI document links each one from the `Problem` schema.
#[actix_web::test]
async fn every_problem_type_resolves_to_a_page() {
    let app = TestApp::spawn().await;
    let doc = serde_json::to_value(api::openapi()).expect("json");
    let described = doc["components"]["schemas"]["Problem"]["description"]
        .as_str()
        .expect("Problem description");
    for problem in api::error::ProblemType::ALL {
        let uri = problem.uri();
        assert!(
            described.contains(&format!("[`{uri}`]({uri})")),
            "{uri} is not linked from the Problem schema"
        );
        let page = app.get(&uri).send().await;
        assert_eq!(page.status, 200, "{uri}");
        assert_eq!(
            page.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert!(page.text.contains(&format!("<h1>{}</h1>", problem.title())));
        assert!(page
            .text
            .contains(&format!("HTTP {}", problem.status().as_u16())));
        assert!(page.text.contains("What to do"));
    }
    // The `type` of a real problem answer leads to its page.
    let missing = app.get("/v1/artisans/not-a-uuid").send().await;
    let uri = missing.body["type"].as_str().expect("type").to_owned();
    assert_eq!(app.get(&uri).send().await.status, 200);
    app.get("/problems/no-such-problem")
        .send()
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn an_unreachable_database_gives_503_and_the_process_keeps_serving() {
    let app = TestApp::with_unreachable_database().await;
    app.get("/readyz")
        .send()
        .await
        .assert_problem(503, "service-unavailable");
    app.post("/v1/auth/login")
        .json(json!({"email": "a@example.org", "password": "long enough password"}))
        .send()
        .await
        .assert_problem(503, "service-unavailable");
    assert_eq!(app.get("/healthz").send().await.status, 200);
}

#[actix_web::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = TestApp::with(
        Options::default()
            .var("RATE_LIMIT_AUTH_PER_MINUTE", "3")
            .var("RATE_LIMIT_PER_MINUTE", "5"),
    )
    .await;
    for _ in 0..3 {
        let res = app
            .post("/v1/auth/login")
            .json(json!({"email": "x@example.org", "password": "long enough password"}))
            .send()
            .await;
        assert_eq!(res.status, 401);
    }
    let res = app
        .post("/v1/auth/login")
        .json(json!({"email": "x@example.org", "password": "long enough password"}))
        .send()
        .await;
    res.assert_problem(429, "rate-limited");
    let retry: u64 = res
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry));
    // Anonymous calls elsewhere count against the general per-IP limit.
    for _ in 0..5 {
        assert_eq!(app.get("/v1/me").send().await.status, 401);
    }
    app.get("/v1/me")
        .send()
        .await
        .assert_problem(429, "rate-limited");
}

#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let app =
        TestApp::with(Options::default().var("CORS_ALLOWED_ORIGINS", "https://app.example.org"))
            .await;
    let preflight = |origin: &str| {
        app.req(actix_web::http::Method::OPTIONS, "/v1/me")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example.org").await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.org")
    );
    let refused = preflight("https://evil.example.com").await;
    assert!(refused.header("access-control-allow-origin").is_none());
    let simple = app
        .get("/healthz")
        .header("Origin", "https://app.example.org")
        .send()
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.org")
    );
    // No origins configured: no CORS headers at all.
    let closed = TestApp::spawn().await;
    let res = closed
        .get("/healthz")
        .header("Origin", "https://app.example.org")
        .send()
        .await;
    assert!(res.header("access-control-allow-origin").is_none());
}

/// A body is a JSON object: an array of the fields' values (which serde
/// would read as a struct) is a 400, whatever the endpoint.
#[actix_web::test]
async fn a_body_must_be_a_json_object() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    for (path, body) in [
        ("/v1/auth/logout", json!(["a-refresh-token"])),
        (
            "/v1/collectives",
            json!(["Puno Weavers", "", [], null, null, "open"]),
        ),
    ] {
        let res = app.post(path).bearer(&rosa.token).json(body).send().await;
        res.assert_problem(400, "bad-request");
    }
    let listed = app.get("/v1/collectives").bearer(&rosa.token).send().await;
    assert_eq!(listed.body["data"], json!([]), "nothing was created");
}
