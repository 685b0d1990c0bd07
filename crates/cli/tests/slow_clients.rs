//! Slow and idle clients cannot hold the stack: connections that sent half a request head are
//! closed after `--header-timeout` while the stack keeps answering `/health` and SQS; and
//! `--max-connections` caps how many are open at once (a new one waits for a free slot).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{aws_json, http, queue_depth, send_to, up, wait_until};

/// Opens `n` connections that each send the start of a request head and then nothing.
fn half_sent(endpoint: &str, n: usize) -> Vec<TcpStream> {
    let addr = endpoint.trim_start_matches("http://");
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Tar")
                .unwrap();
            s
        })
        .collect()
}

/// Whether the server closed `stream` (EOF or reset) within `wait`.
fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 answer may come before the close
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn half_sent_heads_are_closed_after_the_timeout_and_the_stack_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), &["--header-timeout", "6"]);
    let started = Instant::now();
    let mut slow = half_sent(&stack.endpoint, 300);

    // Meanwhile (well before the 6 s timeout): /health and an SQS call are answered.
    let t = Instant::now();
    assert_eq!(
        http(&stack.endpoint, "GET", "/health", &[], "").map(|r| r.0),
        Some(200)
    );
    send_to(&stack.endpoint, "dev-data-processing-dlq", "still serving");
    assert_eq!(queue_depth(&stack.endpoint, "dev-data-processing-dlq").0, 1);
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());

    // Nothing is closed well before the timeout...
    assert!(!closed_by_server(&mut slow[0], Duration::from_millis(500)));
    // ...and every one is closed soon after it.
    for (i, s) in slow.iter_mut().enumerate() {
        let left = Duration::from_secs(15).saturating_sub(started.elapsed());
        assert!(
            closed_by_server(s, left.max(Duration::from_millis(10))),
            "connection {i} still open {:?} after it was opened",
            started.elapsed()
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let (status, body) = aws_json(
        &stack.endpoint,
        "AmazonSQS.ListQueues",
        &serde_json::json!({}),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), &["--header-timeout", "2"]);
    let addr = stack.endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = Instant::now();
    assert!(closed_by_server(&mut s, Duration::from_secs(6)));
    assert!(
        idle.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        idle.elapsed()
    );
}

#[test]
fn max_connections_caps_open_connections_and_serving_resumes_when_they_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(
        &dir.path().join("data"),
        &["--max-connections", "20", "--header-timeout", "3"],
    );
    // Let the start-up probe's connection close.
    std::thread::sleep(Duration::from_millis(300));
    let opened = Instant::now();
    let _slow = half_sent(&stack.endpoint, 20);
    std::thread::sleep(Duration::from_millis(300));
    // The 21st waits in the backlog until a slot frees up (the slow ones time out at 3 s).
    let answered = http(&stack.endpoint, "GET", "/health", &[], "").map(|r| r.0);
    assert_eq!(answered, Some(200));
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_millis(2500),
        "answered after {waited:?}: the cap of 20 did not hold"
    );
    assert!(waited < Duration::from_secs(8), "{waited:?}");
    wait_until(Duration::from_secs(5), "an SQS answer", || {
        aws_json(
            &stack.endpoint,
            "AmazonSQS.ListQueues",
            &serde_json::json!({}),
        )
        .0 == 200
    });
}

#[test]
fn a_body_that_does_not_arrive_in_time_is_answered_408_and_the_connection_closed() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(&dir.path().join("data"), &["--body-timeout", "2"]);
    let addr = stack.endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let sent = Instant::now();
    s.write_all(
        format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n\
             Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{{"
        )
        .as_bytes(),
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("RequestTimeoutException"), "{answer}");
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
}
