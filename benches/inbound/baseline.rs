//! The FastAPI baseline (`fastapi_receiver.py`): what a team would write instead of Liaison,
//! run with uvicorn as deployed. Its Python packages go into `target/bench-venv` the first time.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};

/// A running uvicorn; killed when dropped.
pub struct Baseline {
    child: Child,
    pub port: u16,
    database: PathBuf,
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/inbound")
}

/// The virtualenv's python, creating the venv and installing the pinned packages if needed.
fn python() -> anyhow::Result<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import fastapi, uvicorn, uvloop, httptools"])
            .status()
            .is_ok_and(|status| status.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    println!("installing the FastAPI baseline into {}", venv.display());
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()?;
    anyhow::ensure!(created.success(), "python3 -m venv failed");
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "-r"])
        .arg(bench_dir().join("requirements.txt"))
        .status()?;
    anyhow::ensure!(installed.success() && ready(&python), "pip install failed");
    Ok(python)
}

impl Baseline {
    /// Starts uvicorn (one worker, uvloop + httptools, no access log) on a free loopback port,
    /// with its SQLite file in `dir`.
    pub fn start(dir: &Path, secret: &str) -> anyhow::Result<Self> {
        let python = python()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let database = dir.join("baseline.db");
        let child = Command::new(python)
            .args([
                "-m",
                "uvicorn",
                "fastapi_receiver:app",
                "--host",
                "127.0.0.1",
            ])
            .args(["--port", &port.to_string()])
            .args(["--workers", "1", "--loop", "uvloop", "--http", "httptools"])
            .args(["--no-access-log", "--log-level", "warning"])
            .current_dir(bench_dir())
            .env("BASELINE_SECRET", secret)
            .env("BASELINE_DB", &database)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::null())
            .spawn()?;
        let baseline = Self {
            child,
            port,
            database,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "uvicorn did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(baseline)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Events committed so far.
    pub async fn stored(&self) -> anyhow::Result<u64> {
        let db = Database::connect(format!("sqlite://{}?mode=ro", self.database.display())).await?;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM events",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no count"))?;
        Ok(row.try_get::<i64>("", "n")? as u64)
    }
}
