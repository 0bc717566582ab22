//! The demo's scenario, played on the simulators through their `/_sim` controls over HTTP, the
//! way a person would click through an ATS and a suite: a job is published, the recruiter writes
//! its interview questions in the suite's project, three applications reach the interview step,
//! two interviews are completed with reviews. After each action it
//! waits (bounded) until Liaison's effect shows in the other partner, and says how long it took.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

/// How long one step may take before the demo gives up and says what it was waiting for.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(50);

/// The demo job and its candidates: (first name, last name, email).
pub const JOB_NAME: &str = "Backend Developer";
const CANDIDATES: [(&str, &str, &str); 3] = [
    ("Maria", "Silva", "maria.silva@example.com"),
    ("João", "Souza", "joao.souza@example.com"),
    ("Ana", "Costa", "ana.costa@example.com"),
];

/// The interview questions the recruiter writes in the project: (text, thinking seconds,
/// answer seconds, retakes). The job page shows them.
pub const QUESTIONS: [(&str, u32, u32, u32); 3] = [
    (
        "Tell us about a backend service you built and ran in production.",
        30,
        120,
        1,
    ),
    (
        "How would you design an API that many partners call at once?",
        60,
        180,
        1,
    ),
    (
        "Describe an incident you handled and what you changed after it.",
        30,
        120,
        0,
    ),
];

/// What the scenario created, for the URLs to print.
#[derive(Clone, Debug)]
pub struct ScenarioOutcome {
    pub job_id: i64,
    pub project_id: String,
    pub application_ids: Vec<i64>,
}

/// Where the partners are, and how to reach them (and Liaison, for the last check).
pub struct Scenario<'a> {
    pub http: &'a reqwest::Client,
    pub gupy_url: &'a str,
    pub suite_url: &'a str,
    pub interview_step: &'a str,
    pub pass_tag: &'a str,
    pub fail_tag: &'a str,
    /// An embed page's URL with a fresh launch link, for a kind (`jobs` or `applications`) and
    /// an ATS id.
    pub embed_url: &'a (dyn Fn(&str, i64) -> String + Sync),
}

/// Prints `[n/total] text (elapsed)`.
pub struct Progress<'a> {
    pub total: usize,
    pub out: &'a mut (dyn FnMut(&str) + Send),
}

impl Progress<'_> {
    fn step(&mut self, n: usize, text: &str, started: Instant) {
        let line = format!(
            "[{n}/{}] {text} ({:.1} s)",
            self.total,
            started.elapsed().as_secs_f64()
        );
        (self.out)(&line);
    }
}

pub const STEPS: usize = 4;

impl Scenario<'_> {
    pub async fn play(&self, progress: &mut Progress<'_>) -> anyhow::Result<ScenarioOutcome> {
        let started = Instant::now();
        let job_id = self.publish_job().await?;
        let ref_wanted = format!("ats-job:{job_id}");
        let project_id = self
            .wait_for("the job's project in the suite", |_, suite| {
                values(&suite["projects"])
                    .find(|p| p["external_ref"] == ref_wanted.as_str())
                    .and_then(|p| p["id"].as_str().map(str::to_owned))
            })
            .await?;
        self.write_questions(&project_id).await?;
        progress.step(
            1,
            &format!(
                "job \"{JOB_NAME}\" published in the ATS (#{job_id}) -> project {project_id} created in the suite, \
                 where the recruiter writes its {} interview questions",
                QUESTIONS.len()
            ),
            started,
        );

        let started = Instant::now();
        let mut application_ids = Vec::new();
        for (first, last, email) in CANDIDATES {
            application_ids.push(self.apply(job_id, first, last, email).await?);
        }
        for id in &application_ids {
            self.gupy_post(
                &format!("/_sim/applications/{id}/move"),
                json!({ "step": self.interview_step }),
            )
            .await?;
        }
        let invitations = self
            .wait_for("an invitation for each candidate", |_, suite| {
                let found: Vec<(String, String)> = values(&suite["invitations"])
                    .filter(|i| i["project_id"] == project_id.as_str())
                    .filter_map(|i| {
                        let email = suite["candidates"][i["candidate_id"].as_str()?]["email"]
                            .as_str()?
                            .to_owned();
                        Some((email, i["id"].as_str()?.to_owned()))
                    })
                    .collect();
                (found.len() >= CANDIDATES.len()).then_some(found)
            })
            .await?;
        progress.step(
            2,
            &format!(
                "{} applications moved to \"{}\" -> {} candidates invited in the suite",
                application_ids.len(),
                self.interview_step,
                invitations.len()
            ),
            started,
        );

        let started = Instant::now();
        let invitation_of = |email: &str| {
            invitations
                .iter()
                .find(|(e, _)| e == email)
                .map(|(_, id)| id.clone())
                .with_context(|| format!("no invitation for {email}"))
        };
        let passing = invitation_of(CANDIDATES[0].2)?;
        let failing = invitation_of(CANDIDATES[1].2)?;
        self.complete(
            &passing,
            json!([{"score": 85, "recommendation": "advance", "comment": "Clear, structured answers"},
                   {"score": 90, "recommendation": "advance", "comment": "Strong on system design"}]),
        )
        .await?;
        self.complete(
            &failing,
            json!([{"score": 45, "recommendation": "hold", "comment": "Vague on the basics"},
                   {"score": 55, "recommendation": "reject", "comment": "Not ready yet"}]),
        )
        .await?;
        let (pass_app, fail_app) = (application_ids[0], application_ids[1]);
        self.wait_for("the result tags and comments in the ATS", |gupy, _| {
            let done = |id: i64, tag: &str| {
                let record = &gupy["world"]["applications"][id.to_string()];
                let tagged = record["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t["name"] == tag));
                let commented = record["comments"].as_array().is_some_and(|comments| {
                    comments.iter().any(|c| {
                        c["text"]
                            .as_str()
                            .is_some_and(|t| t.starts_with("Video interview result"))
                    })
                });
                tagged && commented
            };
            (done(pass_app, self.pass_tag) && done(fail_app, self.fail_tag)).then_some(())
        })
        .await?;
        progress.step(
            3,
            &format!(
                "2 interviews completed with reviews -> tags \"{}\" and \"{}\" and result comments in the ATS",
                self.pass_tag, self.fail_tag
            ),
            started,
        );

        let started = Instant::now();
        let mut pages = vec![(self.embed_url)("jobs", job_id)];
        pages.extend(
            application_ids
                .iter()
                .map(|id| (self.embed_url)("applications", *id)),
        );
        for page in &pages {
            let response = self.http.get(page).send().await.with_context(|| {
                format!("cannot load {}", page.split('?').next().unwrap_or(page))
            })?;
            if !response.status().is_success() {
                bail!(
                    "the embed page {} answered {}",
                    page.split('?').next().unwrap_or(page),
                    response.status()
                );
            }
        }
        progress.step(
            4,
            &format!(
                "the embed pages answer for the job and its {} applications",
                application_ids.len()
            ),
            started,
        );
        Ok(ScenarioOutcome {
            job_id,
            project_id,
            application_ids,
        })
    }

    async fn publish_job(&self) -> anyhow::Result<i64> {
        let job = self
            .gupy_post(
                "/_sim/jobs",
                json!({
                    "name": JOB_NAME,
                    "description": "Builds and runs our hiring platform's APIs.",
                    "status": "published",
                }),
            )
            .await?;
        job["id"]
            .as_i64()
            .context("the Gupy simulator gave no job id")
    }

    async fn apply(
        &self,
        job_id: i64,
        first: &str,
        last: &str,
        email: &str,
    ) -> anyhow::Result<i64> {
        let application = self
            .gupy_post(
                &format!("/_sim/jobs/{job_id}/applications"),
                json!({"candidate": {"name": first, "lastName": last, "email": email}}),
            )
            .await?;
        application["id"]
            .as_i64()
            .context("the Gupy simulator gave no application id")
    }

    /// The recruiter writes the project's questions in the suite (its `/_sim` stand-in for the
    /// suite's editor): Liaison creates the project, the suite owns its questions.
    async fn write_questions(&self, project_id: &str) -> anyhow::Result<()> {
        let questions: Vec<Value> = QUESTIONS
            .iter()
            .map(|(text, thinking, answer, retakes)| {
                json!({
                    "text": text,
                    "thinking_seconds": thinking,
                    "answer_seconds": answer,
                    "retakes": retakes,
                })
            })
            .collect();
        let url = format!("{}/_sim/projects/{project_id}/questions", self.suite_url);
        put(self.http, &url, Value::Array(questions)).await?;
        Ok(())
    }

    async fn complete(&self, invitation: &str, reviews: Value) -> anyhow::Result<()> {
        let url = format!("{}/_sim/invitations/{invitation}/complete", self.suite_url);
        post(self.http, &url, json!({ "reviews": reviews })).await?;
        Ok(())
    }

    async fn gupy_post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        post(self.http, &format!("{}{path}", self.gupy_url), body).await
    }

    /// Polls both simulators' state until `found` answers, for at most [`STEP_TIMEOUT`].
    async fn wait_for<T>(
        &self,
        what: &str,
        found: impl Fn(&Value, &Value) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let gupy = get_json(self.http, &format!("{}/_sim/state", self.gupy_url)).await?;
            let suite = get_json(self.http, &format!("{}/_sim/state", self.suite_url)).await?;
            if let Some(value) = found(&gupy, &suite) {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {} s waiting for {what}; Liaison's log says why, and the \
                     simulators show their state at {}/_sim/state and {}/_sim/state",
                    STEP_TIMEOUT.as_secs(),
                    self.gupy_url,
                    self.suite_url
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

fn values(map: &Value) -> impl Iterator<Item = &Value> {
    map.as_object().into_iter().flat_map(|m| m.values())
}

async fn post(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    send(http.post(url).json(&body), url).await
}

async fn send(request: reqwest::RequestBuilder, url: &str) -> anyhow::Result<Value> {
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn put(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    send(http.put(url).json(&body), url).await
}

async fn get_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    response
        .json()
        .await
        .with_context(|| format!("{url} did not answer JSON"))
}
