//! Sending one delivery. Plain-HTTP postback URLs get a hand-written HTTP/1.1 request carrying
//! exactly the subscription's headers plus `Host` and `Content-Length` (reqwest always adds
//! `Accept`, and the contract says Gupy sends nothing but `clientHeaders`). HTTPS URLs go
//! through reqwest.
//!
//! Plain connections are kept alive between deliveries, as any HTTP/1.1 sender of many webhooks
//! does: a connection whose answer was read to its end goes back to a small idle pool per
//! receiver.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use url::Url;

/// Headers the transport writes itself; a `clientHeaders` entry with these names is ignored.
const FRAMING_HEADERS: [&str; 4] = ["host", "content-length", "transfer-encoding", "connection"];

/// Idle connections kept per receiver.
const IDLE_PER_RECEIVER: usize = 64;

/// Longest answer head or body read before the connection is given up.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Idle plain connections by receiver (`host:port`).
#[derive(Default)]
pub struct IdleConnections(Mutex<HashMap<String, Vec<BufReader<TcpStream>>>>);

impl IdleConnections {
    /// An idle connection to `receiver` that the receiver has not closed meanwhile.
    fn take(&self, receiver: &str) -> Option<BufReader<TcpStream>> {
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = idle.get_mut(receiver)?;
        while let Some(connection) = pool.pop() {
            if open_and_quiet(&connection) {
                return Some(connection);
            }
        }
        None
    }

    fn give_back(&self, receiver: String, connection: BufReader<TcpStream>) {
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = idle.entry(receiver).or_default();
        if pool.len() < IDLE_PER_RECEIVER {
            pool.push(connection);
        }
    }
}

/// True when a read on the idle `connection` would block: the receiver neither closed it (a
/// read of 0) nor sent anything unasked (such as a `408` before closing).
fn open_and_quiet(connection: &BufReader<TcpStream>) -> bool {
    let mut probe = [0u8; 1];
    let would_block = |error: &std::io::Error| error.kind() == std::io::ErrorKind::WouldBlock;
    connection.buffer().is_empty()
        && matches!(connection.get_ref().try_read(&mut probe), Err(ref e) if would_block(e))
}

/// POSTs `body`; answers the status code, or why there was none.
pub async fn post(
    https: &reqwest::Client,
    idle: &IdleConnections,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
    timeout: Duration,
) -> Result<u16, String> {
    let parsed = Url::parse(url).map_err(|e| format!("bad postback URL: {e}"))?;
    match parsed.scheme() {
        "http" => tokio::time::timeout(timeout, post_plain(idle, &parsed, headers, &body))
            .await
            .map_err(|_| format!("no answer within {timeout:?}"))?,
        "https" => {
            let mut request = https.post(parsed).body(body).timeout(timeout);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            Ok(response.status().as_u16())
        }
        other => Err(format!("unsupported scheme {other:?}")),
    }
}

async fn post_plain(
    idle: &IdleConnections,
    url: &Url,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<u16, String> {
    let host = url.host_str().ok_or("postback URL without host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let receiver = format!("{host}:{port}");
    let request = request_bytes(url, host, headers, body);
    // A kept connection the receiver closed just now fails before any answer: the delivery
    // goes again once on a new connection. Any other outcome is the attempt's.
    if let Some(connection) = idle.take(&receiver) {
        match exchange(idle, &receiver, connection, &request).await {
            Err(Failure::Unanswered(_)) => {}
            outcome => return outcome.map_err(Failure::into_message),
        }
    }
    let connect_host = host.trim_start_matches('[').trim_end_matches(']');
    let stream = TcpStream::connect((connect_host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    exchange(idle, &receiver, BufReader::new(stream), &request)
        .await
        .map_err(Failure::into_message)
}

/// Why an exchange ended without a status.
enum Failure {
    /// Nothing of an answer arrived (the request may not have been read).
    Unanswered(String),
    /// An answer began and broke off.
    Broken(String),
}

impl Failure {
    fn into_message(self) -> String {
        match self {
            Self::Unanswered(message) | Self::Broken(message) => message,
        }
    }
}

/// The request: exactly the subscription's headers plus the framing.
fn request_bytes(url: &Url, host: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut head = format!("POST {target} HTTP/1.1\r\nHost: {authority}\r\n");
    for (name, value) in headers {
        let framing = FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str());
        let unsafe_text = |s: &str| s.contains(['\r', '\n']);
        if framing || unsafe_text(name) || unsafe_text(value) {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    request
}

/// Sends `request` on `connection` and reads the answer; the connection goes back to the idle
/// pool when it can carry another.
async fn exchange(
    idle: &IdleConnections,
    receiver: &str,
    mut connection: BufReader<TcpStream>,
    request: &[u8],
) -> Result<u16, Failure> {
    let stream = connection.get_mut();
    let unanswered = |e: std::io::Error| Failure::Unanswered(format!("write: {e}"));
    stream.write_all(request).await.map_err(unanswered)?;
    stream.flush().await.map_err(unanswered)?;
    let answer = read_answer(&mut connection).await?;
    if answer.reusable {
        idle.give_back(receiver.to_owned(), connection);
    }
    Ok(answer.status)
}

struct Answer {
    status: u16,
    /// Read to its end, and the receiver did not ask to close.
    reusable: bool,
}

/// Reads the status line, the headers, and a `Content-Length` body (which is discarded).
async fn read_answer(connection: &mut BufReader<TcpStream>) -> Result<Answer, Failure> {
    let mut line = String::new();
    read_line(connection, &mut line)
        .await
        .map_err(Failure::Unanswered)?;
    let status = parse_status_line(&line)
        .ok_or_else(|| Failure::Broken(format!("bad status line {line:?}")))?;
    let mut length: Option<u64> = None;
    let mut close = false;
    let mut head_bytes = line.len() as u64;
    loop {
        line.clear();
        read_line(connection, &mut line)
            .await
            .map_err(Failure::Broken)?;
        head_bytes += line.len() as u64;
        let header = line.trim_end();
        if header.is_empty() || head_bytes > MAX_ANSWER_BYTES {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok(),
            "connection" => close |= value.eq_ignore_ascii_case("close"),
            // A chunked body is not read here: the connection is not kept.
            "transfer-encoding" => close = true,
            _ => {}
        }
    }
    let reusable = match length {
        Some(length) if !close && head_bytes <= MAX_ANSWER_BYTES && length <= MAX_ANSWER_BYTES => {
            let mut rest = (&mut *connection).take(length);
            let skipped = tokio::io::copy(&mut rest, &mut tokio::io::sink())
                .await
                .map_err(|e| Failure::Broken(format!("read: {e}")))?;
            skipped == length
        }
        _ => false,
    };
    Ok(Answer { status, reusable })
}

async fn read_line(connection: &mut BufReader<TcpStream>, line: &mut String) -> Result<(), String> {
    let read = (&mut *connection)
        .take(MAX_ANSWER_BYTES)
        .read_line(line)
        .await
        .map_err(|e| format!("read: {e}"))?;
    if read == 0 {
        return Err("read: the receiver closed the connection".to_owned());
    }
    Ok(())
}

fn parse_status_line(line: &str) -> Option<u16> {
    let mut parts = line.split_whitespace();
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    parts
        .next()?
        .parse()
        .ok()
        .filter(|s| (100..=599).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_parse() {
        assert_eq!(parse_status_line("HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(parse_status_line("HTTP/1.0 503\r\n"), Some(503));
        assert_eq!(parse_status_line("SSH-2.0\r\n"), None);
        assert_eq!(parse_status_line(""), None);
    }
}
