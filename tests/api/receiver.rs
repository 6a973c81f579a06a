//! A real HTTP receiver for webhook deliveries: end-to-end tests point the
//! app at [`Receiver::url`], then inspect what arrived, and can make the
//! receiver fail or answer slowly. Written with `std` only (a listener
//! thread, one thread per connection), plus an independent Standard
//! Webhooks signature verifier that runs `python3`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a connection may stay silent before the receiver gives up on it.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request target, e.g. `/hooks`.
    pub path: String,
    /// Every header in arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked), decoded as UTF-8 (lossily).
    pub body: String,
    /// When the request had fully arrived (before any delay).
    pub at: Instant,
}

impl Received {
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    received: Vec<Received>,
    fail_remaining: usize,
    fail_status: u16,
    delay: Duration,
}

struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An HTTP server on 127.0.0.1 recording every request; answers
/// `204 No Content` unless told otherwise. Stops accepting when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver on a free local port.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let addr = listener.local_addr().expect("receiver address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                received: Vec::new(),
                fail_remaining: 0,
                fail_status: 204,
                delay: Duration::ZERO,
            }),
            arrived: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accepting);
                thread::spawn(move || {
                    // A broken connection only loses that request.
                    let _ = handle(stream, &shared);
                });
            }
        });
        Receiver { addr, shared }
    }

    /// The URL to deliver webhooks to, `http://127.0.0.1:PORT/hooks`.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.state().received.clone()
    }

    /// Waits until at least `n` requests have arrived and returns them all;
    /// panics if that takes longer than `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state();
        while state.received.len() < n {
            let now = Instant::now();
            if now >= deadline {
                let paths: Vec<&str> = state.received.iter().map(|r| r.path.as_str()).collect();
                panic!(
                    "webhook receiver: expected at least {n} request(s) within {timeout:?}, \
                     got {}: {paths:?}",
                    state.received.len()
                );
            }
            state = self
                .shared
                .arrived
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.received.clone()
    }

    /// The next `n` requests are answered with `status` (then back to 204).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut state = self.shared.state();
        state.fail_remaining = n;
        state.fail_status = status;
    }

    /// Every following request waits `delay` before being answered;
    /// `Duration::ZERO` answers promptly again.
    pub fn respond_slowly(&self, delay: Duration) {
        self.shared.state().delay = delay;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one request, records it, answers it and closes the connection.
fn handle(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let request = match read_request(&mut reader) {
        Ok(request) => request,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            respond(&mut writer, 400)?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let (status, delay) = {
        let mut state = shared.state();
        state.received.push(request);
        shared.arrived.notify_all();
        let status = if state.fail_remaining > 0 {
            state.fail_remaining -= 1;
            state.fail_status
        } else {
            204
        };
        (status, state.delay)
    };
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    respond(&mut writer, status)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// One CRLF- (or LF-) terminated line, without its terminator.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-request",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn read_request(reader: &mut impl BufRead) -> io::Result<Received> {
    let request_line = read_line(reader)?;
    let mut parts = request_line.split_whitespace();
    let (Some(_method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(invalid("not HTTP/1.x"));
    }
    let path = path.to_owned();

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("malformed header"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };

    let chunked =
        header("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(reader)?
    } else {
        let length = match header("content-length") {
            Some(length) => length
                .parse::<usize>()
                .map_err(|_| invalid("bad Content-Length"))?,
            None => 0,
        };
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };

    Ok(Received {
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    })
}

/// A `Transfer-Encoding: chunked` body, trailers skipped.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        if !read_line(reader)?.is_empty() {
            return Err(invalid("chunk not followed by CRLF"));
        }
    }
}

fn respond(stream: &mut TcpStream, status: u16) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };
    // A 204 carries no body and must not announce a length.
    let length = if status == 204 || (100..200).contains(&status) {
        ""
    } else {
        "Content-Length: 0\r\n"
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\n{length}Connection: close\r\n\r\n"
    )?;
    stream.flush()?;
    stream.shutdown(Shutdown::Both)
}

/// The Standard Webhooks check, in Python's standard library only, so the
/// app's own signing code is not what verifies it.
const VERIFY_PY: &str = r#"
import base64, hashlib, hmac, json, sys
d = json.load(sys.stdin)
secret = d["secret"]
ok = False
if secret.startswith("whsec_") and d["id"] is not None and d["timestamp"] is not None:
    key = base64.b64decode(secret[len("whsec_"):])
    content = "{}.{}.{}".format(d["id"], d["timestamp"], d["body"]).encode("utf-8")
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    for entry in (d["signature"] or "").split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode("utf-8"), expected):
            ok = True
print("true" if ok else "false")
"#;

/// Whether `received` carries a valid Standard Webhooks `v1` signature
/// (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`) for
/// `secret` (`whsec_<base64 key>`), checked independently by `python3`.
pub fn verify_signature(secret: &str, received: &Received) -> bool {
    let input = serde_json::json!({
        "secret": secret,
        "id": received.header("webhook-id"),
        "timestamp": received.header("webhook-timestamp"),
        "signature": received.header("webhook-signature"),
        "body": received.body,
    });
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(VERIFY_PY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3 to verify the webhook signature");
    child
        .stdin
        .take()
        .expect("python3 stdin")
        .write_all(input.to_string().as_bytes())
        .expect("send the webhook to python3");
    let output = child.wait_with_output().expect("wait for python3");
    assert!(
        output.status.success(),
        "the python3 signature verifier failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match String::from_utf8_lossy(&output.stdout).trim() {
        "true" => true,
        "false" => false,
        other => panic!("unexpected answer from the python3 signature verifier: {other:?}"),
    }
}

/// Sends a raw request to the receiver behind `url`; returns the status
/// code and how long the answer took.
fn send(url: &str, request: &str) -> (u16, Duration) {
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("receiver URL");
    let started = Instant::now();
    let mut stream = TcpStream::connect(authority).expect("connect to the receiver");
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let elapsed = started.elapsed();
    assert!(
        response.contains("Connection: close\r\n"),
        "response: {response:?}"
    );
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    (status, elapsed)
}

fn post(url: &str, body: &str) -> (u16, Duration) {
    send(
        url,
        &format!(
            "POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn records_a_post_with_headers_and_body() {
    let receiver = Receiver::start();
    let url = receiver.url();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/hooks"));
    assert!(receiver.received().is_empty());

    let body = r#"{"type":"sale.recorded","n":1}"#;
    let request = format!(
        "POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Webhook-Id: msg_1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(send(&url, &request).0, 204);

    let got = receiver.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/hooks");
    assert_eq!(got[0].body, body);
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(got[0].header("Webhook-Id"), Some("msg_1"));
    assert!(got[0]
        .headers
        .contains(&("webhook-id".to_owned(), "msg_1".to_owned())));
    assert_eq!(got[0].header("webhook-signature"), None);
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn decodes_a_chunked_body() {
    let receiver = Receiver::start();
    let request = "POST /hooks/chunked HTTP/1.1\r\nHost: x\r\n\
                   Transfer-Encoding: chunked\r\n\r\n\
                   7\r\n{\"a\": 1\r\nA;ext=1\r\n, \"b\": 22}\r\n0\r\nX-Trailer: t\r\n\r\n";
    assert_eq!(send(&receiver.url(), request).0, 204);
    let got = receiver.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].path, "/hooks/chunked");
    assert_eq!(got[0].body, r#"{"a": 1, "b": 22}"#);
}

#[test]
fn fail_next_answers_that_status_then_204() {
    let receiver = Receiver::start();
    let url = receiver.url();
    receiver.fail_next(2, 503);
    assert_eq!(post(&url, "1").0, 503);
    assert_eq!(post(&url, "2").0, 503);
    assert_eq!(post(&url, "3").0, 204);
    let bodies: Vec<String> = receiver
        .wait_for(3, Duration::from_secs(5))
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(bodies, ["1", "2", "3"]);
}

#[test]
fn respond_slowly_delays_without_blocking_others() {
    let receiver = Receiver::start();
    let url = receiver.url();
    let delay = Duration::from_secs(2);
    receiver.respond_slowly(delay);
    let slow = {
        let url = url.clone();
        thread::spawn(move || post(&url, "slow"))
    };
    // Recorded on arrival, before the delay.
    let got = receiver.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].body, "slow");

    receiver.respond_slowly(Duration::ZERO);
    let (status, elapsed) = post(&url, "fast");
    assert_eq!(status, 204);
    assert!(elapsed < delay / 2, "the second request took {elapsed:?}");
    assert!(!slow.is_finished(), "the slow answer came back too early");

    let (status, elapsed) = slow.join().expect("slow request");
    assert_eq!(status, 204);
    assert!(elapsed >= delay, "the slow request took only {elapsed:?}");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(got[0].at <= got[1].at);
}

#[test]
#[should_panic(expected = "expected at least 1 request(s)")]
fn wait_for_panics_on_timeout() {
    Receiver::start().wait_for(1, Duration::from_millis(50));
}

#[test]
fn verify_signature_matches_the_standard_webhooks_vector() {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let receiver = Receiver::start();
    let body = r#"{"test": 2432232314}"#;
    let request = format!(
        "POST /hooks HTTP/1.1\r\nHost: x\r\nwebhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\r\n\
         webhook-timestamp: 1614265330\r\n\
         webhook-signature: v1,bm90LWl0 v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(send(&receiver.url(), &request).0, 204);
    let got = receiver.wait_for(1, Duration::from_secs(5)).remove(0);
    assert!(verify_signature(SECRET, &got));

    let mut tampered = got.clone();
    tampered.body = r#"{"test": 2432232315}"#.to_owned();
    assert!(!verify_signature(SECRET, &tampered));
    assert!(!verify_signature(
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &got
    ));
    let mut unsigned = got;
    unsigned.headers.retain(|(n, _)| n != "webhook-signature");
    assert!(!verify_signature(SECRET, &unsigned));
}
