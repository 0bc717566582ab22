//! Greenhouse calling the partner, with the customer's key.

use base64::Engine as _;
use reqwest::StatusCode;

use super::state::{SimState, TakeHomeTest, lock};
use super::wire::{Candidate, PartnerTest, SendTest, SentTest, TestStatus};

/// Greenhouse's side of the calls, as a library for tests and the `/_sim` controls.
#[derive(Clone)]
pub struct PartnerClient {
    pub state: SimState,
    http: reqwest::Client,
}

/// A partner's answer that Greenhouse would refuse: its status and body.
#[derive(Debug, thiserror::Error)]
#[error("the partner answered {status}: {body}")]
pub struct Refused {
    pub status: StatusCode,
    pub body: String,
}

impl PartnerClient {
    pub fn new(state: SimState) -> Self {
        let mut http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
        if let Some(pem) = &state.config().trust_pem {
            match reqwest::Certificate::from_pem(pem.as_bytes()) {
                Ok(cert) => http = http.add_root_certificate(cert),
                Err(error) => {
                    tracing::warn!(%error, "Greenhouse simulator: ignoring an unreadable trust_pem")
                }
            }
        }
        let http = http.build().unwrap_or_default();
        Self { state, http }
    }

    fn authorization(&self) -> String {
        let key = self.state.config().key;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        format!("Basic {encoded}")
    }

    fn url(&self, route: &str) -> String {
        let base = self.state.config().partner_base_url;
        format!("{}/{route}", base.trim_end_matches('/'))
    }

    async fn answer(response: reqwest::Response) -> Result<String, Refused> {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(body)
        } else {
            Err(Refused { status, body })
        }
    }

    fn transport(error: reqwest::Error) -> Refused {
        Refused {
            status: StatusCode::BAD_GATEWAY,
            body: error.to_string(),
        }
    }

    fn unreadable(error: serde_json::Error, body: &str) -> Refused {
        Refused {
            status: StatusCode::BAD_GATEWAY,
            body: format!("the answer breaks the contract ({error}): {body}"),
        }
    }

    /// `GET {list_tests}`.
    pub async fn list_tests(&self) -> Result<Vec<PartnerTest>, Refused> {
        let response = self
            .http
            .get(self.url("list_tests"))
            .header("authorization", self.authorization())
            .send()
            .await
            .map_err(Self::transport)?;
        let body = Self::answer(response).await?;
        serde_json::from_str(&body).map_err(|e| Self::unreadable(e, &body))
    }

    /// A Send Test click: a fresh take-home test URL for `email`, sent `times` times at once
    /// (a double click), answering each `partner_interview_id`.
    pub async fn send_test(
        &self,
        partner_test_id: &str,
        email: &str,
        times: usize,
    ) -> (TakeHomeTest, Vec<Result<String, Refused>>) {
        let (id, url) = self.state.new_test_url();
        let body = SendTest {
            partner_test_id: partner_test_id.to_owned(),
            candidate: Candidate {
                first_name: "Ana".to_owned(),
                last_name: "Lima".to_owned(),
                preferred_name: None,
                resume_url: None,
                phone_number: None,
                email: email.to_owned(),
                greenhouse_profile_url: format!(
                    "https://app.greenhouse.io/people/{id}?application_id={}",
                    id.len() as u64 * 1000 + 7
                ),
            },
            sent_by: Some("recruiter@example.org".to_owned()),
            url: url.clone(),
        };
        lock(&self.state.0.tests).insert(
            id.clone(),
            TakeHomeTest {
                url,
                partner_test_id: partner_test_id.to_owned(),
                candidate_email: email.to_owned(),
                ..TakeHomeTest::default()
            },
        );
        // Sent at once, each on its own task: a double click.
        let sends: Vec<_> = (0..times.max(1))
            .map(|_| {
                let (client, body) = (self.clone(), body.clone());
                tokio::spawn(async move { client.send_body(&body).await })
            })
            .collect();
        let mut answers = Vec::with_capacity(sends.len());
        for send in sends {
            answers.push(send.await.unwrap_or_else(|e| {
                Err(Refused {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    body: e.to_string(),
                })
            }));
        }
        let mut tests = lock(&self.state.0.tests);
        let test = tests.entry(id).or_default();
        for id in answers.iter().flatten() {
            test.partner_interview_ids.push(id.clone());
        }
        (test.clone(), answers)
    }

    /// `POST {send_test}` with `body`.
    pub async fn send_body(&self, body: &SendTest) -> Result<String, Refused> {
        let response = self
            .http
            .post(self.url("send_test"))
            .header("authorization", self.authorization())
            .json(body)
            .send()
            .await
            .map_err(Self::transport)?;
        let text = Self::answer(response).await?;
        let sent: SentTest = serde_json::from_str(&text).map_err(|e| Self::unreadable(e, &text))?;
        Ok(sent.partner_interview_id)
    }

    /// `GET {test_status}?partner_interview_id=`.
    pub async fn test_status(&self, partner_interview_id: &str) -> Result<TestStatus, Refused> {
        let mut url = url::Url::parse(&self.url("test_status")).map_err(|e| Refused {
            status: StatusCode::BAD_GATEWAY,
            body: e.to_string(),
        })?;
        url.query_pairs_mut()
            .append_pair("partner_interview_id", partner_interview_id);
        let response = self
            .http
            .get(url)
            .header("authorization", self.authorization())
            .send()
            .await
            .map_err(Self::transport)?;
        let body = Self::answer(response).await?;
        serde_json::from_str(&body).map_err(|e| Self::unreadable(e, &body))
    }

    /// `POST {response_error}`.
    pub async fn response_error(&self, report: &super::wire::ResponseError) -> Result<(), Refused> {
        let response = self
            .http
            .post(self.url("response_error"))
            .header("authorization", self.authorization())
            .json(report)
            .send()
            .await
            .map_err(Self::transport)?;
        Self::answer(response).await.map(|_| ())
    }
}
