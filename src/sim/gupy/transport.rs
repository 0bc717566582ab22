//! Sending one delivery. Plain-HTTP postback URLs get a hand-written HTTP/1.1 request carrying
//! exactly the subscription's headers plus `Host` and `Content-Length` (reqwest always adds
//! `Accept`, and the contract says Gupy sends nothing but `clientHeaders`). HTTPS URLs go
//! through reqwest.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use url::Url;

/// Headers the transport writes itself; a `clientHeaders` entry with these names is ignored.
const FRAMING_HEADERS: [&str; 4] = ["host", "content-length", "transfer-encoding", "connection"];

/// POSTs `body`; answers the status code, or why there was none.
pub async fn post(
    https: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
    timeout: Duration,
) -> Result<u16, String> {
    let parsed = Url::parse(url).map_err(|e| format!("bad postback URL: {e}"))?;
    match parsed.scheme() {
        "http" => tokio::time::timeout(timeout, post_plain(&parsed, headers, &body))
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

async fn post_plain(url: &Url, headers: &[(String, String)], body: &[u8]) -> Result<u16, String> {
    let host = url.host_str().ok_or("postback URL without host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let connect_host = host.trim_start_matches('[').trim_end_matches(']');
    let mut stream = TcpStream::connect((connect_host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;

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
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    stream
        .write_all(body)
        .await
        .map_err(|e| format!("write: {e}"))?;
    stream.flush().await.map_err(|e| format!("write: {e}"))?;

    // Only the status line matters; the connection is dropped after it.
    let mut status_line = String::new();
    BufReader::new(stream)
        .take(1024)
        .read_line(&mut status_line)
        .await
        .map_err(|e| format!("read: {e}"))?;
    parse_status_line(&status_line).ok_or_else(|| format!("bad status line {status_line:?}"))
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
