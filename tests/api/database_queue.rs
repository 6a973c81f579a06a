//! Requests take turns at the database: as many run at once as the pool
//! has connections, the rest wait in arrival order for at most
//! `DB_QUEUE_TIMEOUT_MS`, then get a 503 with `Retry-After`, counted in
//! `/metrics`.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use futures_util::future::{join, join_all};
use persistence::db::is_postgres_url;
use persistence::PoolOptions;
use serde_json::json;

use crate::support::{Options, TestApp};

#[actix_web::test]
async fn requests_beyond_the_pool_wait_their_turn_then_get_503() {
    let app = TestApp::with(Options::default().var("DB_QUEUE_TIMEOUT_MS", "150")).await;
    // The test pool has 8 connections: 8 artisans' profile edits will hold
    // every turn while the profiles table is locked from outside.
    let mut writers = Vec::new();
    for n in 0..8 {
        let who = app.artisan(&format!("Writer {n}")).await;
        let etag = app
            .get(&format!("/v1/artisans/{}", who.id))
            .bearer(&who.token)
            .send()
            .await
            .header("etag")
            .expect("etag");
        writers.push((who, etag));
    }
    let reader = app.artisan("Reader").await;

    let outside = persistence::connect_pool(
        &app.database_url,
        &PoolOptions {
            max_size: 1,
            connection_timeout: Duration::from_secs(10),
        },
    );
    let mut lock = outside.get().expect("outside connection");
    if is_postgres_url(&app.database_url) {
        lock.batch_execute("BEGIN; LOCK TABLE artisans IN EXCLUSIVE MODE")
    } else {
        lock.batch_execute("BEGIN IMMEDIATE")
    }
    .expect("lock");

    let edits = join_all(writers.iter().map(|(who, etag)| {
        app.patch(&format!("/v1/artisans/{}", who.id))
            .bearer(&who.token)
            .header("If-Match", etag)
            .json(json!({"bio": "edited while the table was locked"}))
            .send()
    }));
    let probe = async {
        while app.metric("db_hops{state=\"running\"}").await != Some(8) {
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        let turned_away = app.get("/v1/me").bearer(&reader.token).send().await;
        let timeouts = app.metric("db_queue_timeouts_total").await;
        lock.batch_execute("COMMIT").expect("unlock");
        (turned_away, timeouts)
    };
    let (edited, (turned_away, timeouts)) = join(edits, probe).await;

    turned_away.assert_problem(503, "service-unavailable");
    assert_eq!(turned_away.header("retry-after").as_deref(), Some("1"));
    assert_eq!(timeouts, Some(1));
    for res in edited {
        assert_eq!(res.status, 200, "a waiting edit goes through: {}", res.text);
    }
    assert_eq!(app.metric("db_hops{state=\"running\"}").await, Some(0));
    let me = app.get("/v1/me").bearer(&reader.token).send().await;
    assert_eq!(me.status, 200, "{}", me.text);
}
