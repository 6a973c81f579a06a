//! Slow and hostile clients: heads and bodies beyond the limits get their
//! problems, a body that trickles in is cut off with a 408, idle
//! connections are closed, and none of them keeps others from being
//! served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Options, TestApp};

/// The socket address of the app, for raw connections.
fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// A sign-in request head announcing a body of `length` bytes.
fn login_head(length: usize) -> String {
    format!(
        "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

/// What the server sent until it closed the connection; `None` if it was
/// still open after `wait`.
fn read_answer(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&answer).into_owned())
            }
            Err(_) => return None,
        }
    }
}

#[actix_web::test]
async fn heads_and_bodies_beyond_the_limits_get_431_and_413() {
    let app = TestApp::with(Options::default().var("MAX_HEADER_BYTES", "4096")).await;
    let rosa = app.artisan("Rosa").await;
    let padding = "a".repeat(5000);
    app.get("/healthz")
        .header("X-Padding", &padding)
        .send()
        .await
        .assert_problem(431, "header-fields-too-large");
    // Many small headers count together.
    let mut many = app.get("/v1/me").bearer(&rosa.token);
    for i in 0..40 {
        many = many.header(&format!("X-Extra-{i}"), &"b".repeat(100));
    }
    many.send()
        .await
        .assert_problem(431, "header-fields-too-large");
    // The request line does not count: a long query is its parameters'
    // business (a cursor the server never issued is a 400).
    app.get(&format!("/v1/artisans?cursor={}", "c".repeat(4200)))
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
    // Just under the limit is served.
    let fine = app
        .get("/v1/me")
        .bearer(&rosa.token)
        .header("X-Padding", &"d".repeat(3000))
        .send()
        .await;
    assert_eq!(fine.status, 200);
    // A body over MAX_BODY_BYTES (64 KiB by default).
    app.patch(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .header("If-Match", "\"1\"")
        .json(json!({"bio": "e".repeat(70_000)}))
        .send()
        .await
        .assert_problem(413, "payload-too-large");
    // A limit above what the HTTP layer itself takes is refused at start.
    for bad in ["100", "1000000"] {
        let mut vars = std::collections::HashMap::new();
        vars.insert("MAX_HEADER_BYTES".to_owned(), bad.to_owned());
        assert!(api::config::Config::from_vars(&vars).is_err(), "{bad}");
    }
}

#[actix_web::test]
async fn a_body_that_trickles_in_is_cut_off_with_408_and_changes_nothing() {
    let app = TestApp::with(Options::default().var("REQUEST_BODY_TIMEOUT_SECONDS", "1")).await;
    let address = address(&app);
    let answer = actix_web::web::block(move || {
        let mut stream = TcpStream::connect(address).expect("connect");
        let body =
            br#"{"email":"late@example.org","password":"a long password","display_name":"Late"}"#;
        stream
            .write_all(login_head(body.len()).as_bytes())
            .expect("head");
        // One byte every 300 ms: the whole body would take half a minute.
        for byte in body.iter().take(8) {
            stream.write_all(&[*byte]).expect("byte");
            std::thread::sleep(Duration::from_millis(300));
        }
        read_answer(&mut stream, Duration::from_secs(10))
    })
    .await
    .expect("raw client")
    .expect("the server answers and closes the connection");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("/problems/request-timeout"), "{answer}");
}

#[actix_web::test]
async fn idle_and_slow_connections_do_not_keep_others_waiting() {
    let app = TestApp::with(
        Options::default()
            .var("REQUEST_HEAD_TIMEOUT_SECONDS", "2")
            .var("REQUEST_BODY_TIMEOUT_SECONDS", "60"),
    )
    .await;
    let rosa = app.artisan("Rosa").await;
    let address = address(&app);

    // 200 connections that never send a byte.
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(&address).expect("idle connection"))
        .collect();
    // 50 sign-ins whose bodies trickle in, one byte a second, until told
    // to stop (their body timeout is a minute: they stay open throughout).
    let stop = Arc::new(AtomicBool::new(false));
    let slow: Vec<_> = (0..50)
        .map(|_| {
            let (address, stop) = (address.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(address).expect("slow connection");
                stream.write_all(login_head(1000).as_bytes()).expect("head");
                let mut sent = 0;
                while !stop.load(Ordering::Relaxed) && sent < 900 {
                    if stream.write_all(b" ").is_err() {
                        return false;
                    }
                    sent += 1;
                    std::thread::sleep(Duration::from_millis(1000));
                }
                // Still waiting for its answer: nothing has cut it off.
                stream
                    .set_read_timeout(Some(Duration::from_millis(100)))
                    .expect("timeout");
                let mut buffer = [0u8; 64];
                matches!(stream.read(&mut buffer), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
            })
        })
        .collect();
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile, everyone else is served, reads and writes alike. A starved
    // request would wait for a slow body's timeout (a minute); the bound
    // below is a hundred times a normal answer, not a performance target.
    let mut slowest = Duration::ZERO;
    let mut version = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await
        .body["version"]
        .as_i64()
        .expect("version");
    for i in 0..40 {
        let started = Instant::now();
        let me = app.get("/v1/me").bearer(&rosa.token).send().await;
        assert_eq!(me.status, 200);
        let edit = app
            .patch(&format!("/v1/artisans/{}", rosa.id))
            .bearer(&rosa.token)
            .header("If-Match", &format!("\"{version}\""))
            .json(json!({"bio": format!("edit {i}")}))
            .send()
            .await;
        assert_eq!(edit.status, 200, "{}", edit.text);
        version = edit.body["version"].as_i64().expect("version");
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(5),
        "a request waited {slowest:?} behind idle and slow connections"
    );

    stop.store(true, Ordering::Relaxed);
    for handle in slow {
        assert!(
            handle.join().expect("slow client"),
            "a slow body was cut off or its connection closed early"
        );
    }
    // The idle connections were closed once their head timeout passed.
    let closed = actix_web::web::block(move || {
        idle.into_iter()
            .filter_map(|mut stream| read_answer(&mut stream, Duration::from_secs(5)))
            .filter(|answer| answer.is_empty() || answer.starts_with("HTTP/1.1 408"))
            .count()
    })
    .await
    .expect("idle clients");
    assert_eq!(closed, 200);
}
