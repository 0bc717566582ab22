//! The URLs the demo prints: Liaison's admin console, the embed pages with fresh launch links,
//! the simulated ATS's requisition page (which embeds Liaison), and the simulators.

use secrecy::{ExposeSecret as _, SecretString};

use super::scenario::ScenarioOutcome;
use super::seed::TENANT;
use crate::web::launch::{self, LaunchSubject, MAX_LIFETIME_S};
use liaison_sim::gupy::RECRUITER;

/// One line of the "open these" list.
#[derive(Clone, Debug)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// An embed (or popup) URL on Liaison for `path`, with a launch link signed now for the
/// simulated ATS's recruiter, valid [`MAX_LIFETIME_S`] seconds.
pub fn launch_url(public_url: &str, secret: &SecretString, path: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let token = launch::sign(
        secret.expose_secret().as_bytes(),
        TENANT,
        &LaunchSubject {
            sub: RECRUITER.sub,
            email: RECRUITER.email,
            role: RECRUITER.role,
        },
        now,
        MAX_LIFETIME_S,
    );
    format!("{}{path}?launch={token}", public_url.trim_end_matches('/'))
}

pub fn embed_path(kind: &str, ats_id: i64) -> String {
    format!("/embed/{TENANT}/{kind}/{ats_id}")
}

/// Everything to open, in the order a visitor would.
pub fn links(
    public_url: &str,
    launch_secret: &SecretString,
    gupy_url: &str,
    suite_url: &str,
    outcome: Option<&ScenarioOutcome>,
) -> Vec<Link> {
    let link = |label: &str, url: String| Link {
        label: label.to_owned(),
        url,
    };
    let public_url = public_url.trim_end_matches('/');
    // The sign-in page: it answers 200 and leads to the console once the token is given.
    let mut links = vec![link(
        "Admin console (sign in with the admin token)",
        format!("{public_url}/admin/login"),
    )];
    if let Some(outcome) = outcome {
        links.push(link(
            "ATS requisition page (embeds Liaison)",
            format!("{gupy_url}/_sim/requisitions/{}", outcome.job_id),
        ));
        links.push(link(
            "Job page (embed)",
            launch_url(
                public_url,
                launch_secret,
                &embed_path("jobs", outcome.job_id),
            ),
        ));
        for id in &outcome.application_ids {
            links.push(link(
                "Application page (embed)",
                launch_url(public_url, launch_secret, &embed_path("applications", *id)),
            ));
        }
    }
    links.push(link(
        "Gupy simulator state",
        format!("{gupy_url}/_sim/state"),
    ));
    links.push(link(
        "Suite simulator state",
        format!("{suite_url}/_sim/state"),
    ));
    links
}
