//! The webhook benchmark as a user measures it: `wrk` (a standard load generator) against a
//! server process, with pre-signed signed-json bodies of about 700 bytes, and the same load on
//! the FastAPI baseline (`baseline.rs`) in the same run.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use liaison::signature::hmac_sha256;

/// What wrk printed (its `done` hook writes one JSON line; see `signed_webhooks.lua`).
#[derive(Debug, serde::Deserialize)]
pub struct WrkSummary {
    pub requests: u64,
    pub duration_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub non_2xx: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub timeouts: u64,
}

impl WrkSummary {
    pub fn errors(&self) -> u64 {
        self.non_2xx + self.connect_errors + self.read_errors + self.write_errors + self.timeouts
    }
}

/// The load: `threads` wrk threads, `connections` keep-alive connections, for `duration`.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub threads: usize,
    pub connections: usize,
    pub duration: Duration,
}

/// Whether `wrk` is installed (`apt-get install wrk`).
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("wrk"))
}

/// Which delivery ids the requests carry. Liaison's signed-json reception takes the body's `id`
/// when there is one, else the SHA-256 of the body; the FastAPI baseline does the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryIds {
    /// No `id`: the ids are hashes, random like the UUIDv4 most ATSs send (the default).
    Hashed,
    /// `"id": "evt-<zero-padded n>"`: ids that grow with time, like Standard Webhooks' message
    /// ids or UUIDv7. New ids then land at the end of the delivery-id index, not anywhere in it.
    Ordered,
}

impl DeliveryIds {
    /// From `LIAISON_BENCH_DELIVERY_IDS` (`hashed`, the default, or `ordered`).
    pub fn from_env() -> anyhow::Result<Self> {
        match std::env::var("LIAISON_BENCH_DELIVERY_IDS").as_deref() {
            Err(_) | Ok("hashed") => Ok(Self::Hashed),
            Ok("ordered") => Ok(Self::Ordered),
            Ok(other) => {
                anyhow::bail!("LIAISON_BENCH_DELIVERY_IDS is `hashed` or `ordered`, not `{other}`")
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hashed => "hashed",
            Self::Ordered => "ordered",
        }
    }
}

/// A webhook of about 700 bytes, like an ATS's application event with its candidate.
pub fn body(n: u64, ids: DeliveryIds) -> String {
    let id = match ids {
        DeliveryIds::Hashed => String::new(),
        DeliveryIds::Ordered => format!(r#""id":"evt-{n:020}","#),
    };
    format!(
        r#"{{{id}"type":"application.moved","application_reference":"app-{n}","job_reference":"job-{job}","step":"Video interview","occurred_at":"2026-12-02T10:00:00Z","candidate":{{"reference":"cand-{n}","first_name":"Maria","last_name":"Silva {n}","email":"maria.silva.{n}@example.com","phone":"+55 11 91234-5678"}},"job":{{"title":"Senior backend engineer {job}","department":"Engineering","location":"São Paulo, SP, Brazil","remote":true}},"source":{{"channel":"careers-page","campaign":"winter-hiring-2026","referrer":"https://careers.example.com/jobs/{job}?utm_source=newsletter"}},"recruiter":{{"name":"Rita Recruiter","email":"rita@example.com"}},"notes":"Moved by the hiring manager after the phone screen."}}"#,
        job = n % 500
    )
}

/// Writes `count` signed requests, numbered from `first`, one per line as the Lua script reads
/// them (`<signature>\t<body>`).
pub fn write_requests(
    path: &Path,
    secret: &str,
    first: u64,
    count: u64,
    ids: DeliveryIds,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for n in first..first + count {
        let body = body(n, ids);
        let signature = hmac_sha256::sign(secret.as_bytes(), None, body.as_bytes());
        writeln!(out, "{signature}\t{body}")?;
    }
    out.flush()
}

/// Runs wrk against `base_url` + `webhook_path` with the requests in `requests`.
pub fn run(
    base_url: &str,
    webhook_path: &str,
    requests: &Path,
    load: Load,
) -> anyhow::Result<WrkSummary> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/inbound/signed_webhooks.lua");
    let output = Command::new("wrk")
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.duration.as_secs().max(1)))
        .arg("-s")
        .arg(&script)
        .arg(base_url)
        .arg("--")
        .arg(requests)
        .arg(webhook_path)
        .arg(load.threads.to_string())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| anyhow::anyhow!("wrk printed no summary: {stdout}"))?;
    Ok(serde_json::from_str(summary)?)
}
