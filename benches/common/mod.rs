//! What the benchmarks that drive a `liaison` process share: tuning from the environment, the
//! child process, a minimal HTTP/1.1 exchange and the process's CPU time. Each benchmark uses a
//! part of it.
#![allow(dead_code)]

use std::process::Child;

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `request` and reads one answer (headers and a `Content-Length` body); its status.
pub async fn exchange(
    connection: &mut tokio::net::TcpStream,
    request: &[u8],
    answer: &mut Vec<u8>,
) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let broken = || std::io::Error::other("unexpected answer");
    connection.write_all(request).await?;
    answer.clear();
    let mut chunk = [0u8; 2_048];
    loop {
        let read = connection.read(&mut chunk).await?;
        if read == 0 {
            return Err(broken());
        }
        answer.extend_from_slice(&chunk[..read]);
        let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&answer[..end]).map_err(|_| broken())?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        if answer.len() < end + 4 + length {
            continue;
        }
        return head
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .ok_or_else(broken);
    }
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime, in clock ticks (100 per second on Linux).
    (ticks(11) + ticks(12)) / 100.0
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
