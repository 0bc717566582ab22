//! Pure decisions of the flows: given an event, the tenant's settings and what Liaison knows,
//! what should happen. No I/O here; the flows execute these plans.

use serde::{Deserialize, Serialize};

use super::ports::{CandidateSpec, ProjectSpec, ResultState};
use crate::events::{AtsApplication, AtsJob};
use crate::tenant::{TenantConfig, WritebackMode};

/// The suite project's `external_ref` for an ATS job: how a lost equivalence is found again.
pub fn project_external_ref(ats_job_id: &str) -> String {
    format!("ats-job:{ats_job_id}")
}

/// The ATS-side id of a candidate in the equivalence table: the ATS's own id, else the email
/// (Gupy may leave the id out).
pub fn candidate_key(application: &AtsApplication) -> Option<String> {
    let candidate = &application.candidate;
    candidate
        .ats_candidate_id
        .clone()
        .filter(|id| !id.is_empty())
        .or_else(|| {
            candidate
                .email
                .as_deref()
                .map(|email| format!("email:{}", email.trim().to_lowercase()))
        })
}

pub fn project_spec(config: &TenantConfig, job: &AtsJob) -> ProjectSpec {
    ProjectSpec {
        external_ref: project_external_ref(&job.ats_job_id),
        title: job
            .title
            .clone()
            .unwrap_or_else(|| format!("Job {}", job.ats_job_id)),
        description: job.description.clone().unwrap_or_default(),
        location: job.location.clone().unwrap_or_default(),
        language: job
            .language
            .clone()
            .or_else(|| config.ats.language.clone())
            .unwrap_or_else(|| "pt-BR".to_owned()),
        starts_on: job.starts_on.clone().map(|d| date_only(&d)),
        ends_on: job.ends_on.clone().map(|d| date_only(&d)),
    }
}

/// `2021-11-12T14:46:56.816369` -> `2021-11-12`.
fn date_only(text: &str) -> String {
    text.get(..10).unwrap_or(text).to_owned()
}

pub fn candidate_spec(
    config: &TenantConfig,
    application: &AtsApplication,
) -> Option<CandidateSpec> {
    let candidate = &application.candidate;
    let email = candidate.email.clone().filter(|e| e.contains('@'))?;
    Some(CandidateSpec {
        external_ref: candidate.ats_candidate_id.clone(),
        first_name: candidate.first_name.clone().unwrap_or_default(),
        last_name: candidate.last_name.clone().unwrap_or_default(),
        email,
        phone: candidate.phone.clone(),
        locale: config
            .embed
            .locale
            .clone()
            .unwrap_or_else(|| "pt-BR".to_owned()),
    })
}

/// What an application's current state asks of its invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationWish {
    /// In the interview step: it should have a live invitation.
    Invited,
    /// Left the step, gave up or was reproved: a live invitation should be cancelled.
    NotInvited,
}

pub fn invitation_wish(application: &AtsApplication, interview_step: &str) -> InvitationWish {
    let in_step = application
        .step
        .as_deref()
        .is_some_and(|step| step.trim().eq_ignore_ascii_case(interview_step.trim()));
    let active = application
        .status
        .as_deref()
        .is_none_or(|status| status == "in_process");
    if in_step && active {
        InvitationWish::Invited
    } else {
        InvitationWish::NotInvited
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// The last outcome written back for an application, kept in the sync state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenOutcome {
    pub verdict: Verdict,
    /// How many times the verdict changed after the first one (keys later write-backs apart).
    pub changes: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Writeback {
    Tag {
        tag: String,
    },
    /// `score`: the average score (0-100) the comment reports.
    Comment {
        key_suffix: String,
        text: String,
        score: Option<u8>,
    },
}

/// The write-backs a result calls for, given the last outcome written. Nothing when the reviews
/// are not in yet or the verdict has not changed.
pub fn writeback_plan(
    config: &TenantConfig,
    result: &ResultState,
    previous: Option<&WrittenOutcome>,
) -> Option<(WrittenOutcome, Vec<Writeback>)> {
    let average = result.average_score?;
    if result.review_count == 0 {
        return None;
    }
    let settings = &config.writeback;
    let verdict = if average >= f64::from(settings.pass_score) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    if previous.is_some_and(|p| p.verdict == verdict) {
        return None;
    }
    let changes = previous.map_or(0, |p| p.changes + 1);
    let tag = match verdict {
        Verdict::Pass => settings.pass_tag.clone(),
        Verdict::Fail => settings.fail_tag.clone(),
    };
    let mut actions = Vec::new();
    if matches!(settings.mode, WritebackMode::Tags | WritebackMode::Both) {
        actions.push(Writeback::Tag { tag: tag.clone() });
    }
    let comment_wanted =
        matches!(settings.mode, WritebackMode::Comment | WritebackMode::Both) || previous.is_some();
    if comment_wanted {
        let mut text = match previous {
            Some(_) => format!("Video interview result changed: now {tag}."),
            None => format!("Video interview result: {tag}."),
        };
        text.push_str(&format!(
            " Average score {:.0}/100 from {} review{}",
            average,
            result.review_count,
            if result.review_count == 1 { "" } else { "s" }
        ));
        if let Some(recommendation) = &result.recommendation {
            text.push_str(&format!(", recommendation: {recommendation}"));
        }
        text.push('.');
        if let Some(url) = &result.review_url {
            text.push_str(&format!(" Reviews: {url}"));
        }
        actions.push(Writeback::Comment {
            key_suffix: format!("{changes}"),
            text,
            score: Some(average.round().clamp(0.0, 100.0) as u8),
        });
    }
    Some((WrittenOutcome { verdict, changes }, actions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::AtsCandidate;

    fn config(mode: &str) -> TenantConfig {
        let text = format!(
            r#"
slug = "acme"
name = "Acme"
[ats]
kind = "gupy"
base_url = "http://127.0.0.1:1"
token = "t"
webhook_secret = "w"
[suite]
base_url = "http://127.0.0.1:2"
client_id = "c"
client_secret = "s"
[writeback]
mode = "{mode}"
"#
        );
        TenantConfig::from_toml(&text).expect("valid")
    }

    fn result(average: Option<f64>, reviews: u32) -> ResultState {
        ResultState {
            invitation_id: "inv_1".to_owned(),
            status: "completed".to_owned(),
            average_score: average,
            recommendation: Some("advance".to_owned()),
            review_count: reviews,
            review_url: Some("http://suite/reviews/inv_1".to_owned()),
        }
    }

    fn application(step: Option<&str>, status: Option<&str>) -> AtsApplication {
        AtsApplication {
            ats_application_id: "1".to_owned(),
            ats_job_id: "2".to_owned(),
            step: step.map(str::to_owned),
            status: status.map(str::to_owned),
            candidate: AtsCandidate {
                email: Some("Maria@Example.com".to_owned()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn the_interview_step_asks_for_an_invitation_while_in_process() {
        let step = "Video interview";
        assert_eq!(
            invitation_wish(&application(Some("video interview "), None), step),
            InvitationWish::Invited
        );
        assert_eq!(
            invitation_wish(
                &application(Some("Video interview"), Some("in_process")),
                step
            ),
            InvitationWish::Invited
        );
        assert_eq!(
            invitation_wish(&application(Some("Video interview"), Some("give_up")), step),
            InvitationWish::NotInvited
        );
        assert_eq!(
            invitation_wish(&application(Some("Offer"), None), step),
            InvitationWish::NotInvited
        );
        assert_eq!(
            invitation_wish(&application(None, None), step),
            InvitationWish::NotInvited
        );
    }

    #[test]
    fn a_candidate_without_id_is_keyed_by_lowercased_email() {
        assert_eq!(
            candidate_key(&application(None, None)).as_deref(),
            Some("email:maria@example.com")
        );
    }

    #[test]
    fn no_writeback_before_the_reviews_are_in() {
        assert_eq!(
            writeback_plan(&config("tags"), &result(None, 0), None),
            None
        );
    }

    #[test]
    fn the_average_against_pass_score_picks_the_tag() {
        let (outcome, actions) =
            writeback_plan(&config("tags"), &result(Some(70.0), 2), None).expect("plan");
        assert_eq!(outcome.verdict, Verdict::Pass);
        assert_eq!(
            actions,
            [Writeback::Tag {
                tag: "Apto".to_owned()
            }]
        );
        let (outcome, actions) =
            writeback_plan(&config("tags"), &result(Some(69.4), 2), None).expect("plan");
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(
            actions,
            [Writeback::Tag {
                tag: "Inapto".to_owned()
            }]
        );
    }

    #[test]
    fn an_unchanged_verdict_writes_nothing_again() {
        let previous = WrittenOutcome {
            verdict: Verdict::Pass,
            changes: 0,
        };
        assert_eq!(
            writeback_plan(&config("both"), &result(Some(90.0), 3), Some(&previous)),
            None
        );
    }

    #[test]
    fn a_changed_verdict_tags_again_and_says_so_in_a_comment() {
        let previous = WrittenOutcome {
            verdict: Verdict::Pass,
            changes: 0,
        };
        let (outcome, actions) =
            writeback_plan(&config("tags"), &result(Some(40.0), 3), Some(&previous)).expect("plan");
        assert_eq!(
            outcome,
            WrittenOutcome {
                verdict: Verdict::Fail,
                changes: 1
            }
        );
        assert!(matches!(&actions[0], Writeback::Tag { tag } if tag == "Inapto"));
        assert!(
            matches!(&actions[1], Writeback::Comment { key_suffix, text, .. }
            if key_suffix == "1" && text.contains("changed") && text.contains("Inapto"))
        );
    }

    #[test]
    fn comment_mode_summarises_score_recommendation_and_link() {
        let (_, actions) =
            writeback_plan(&config("comment"), &result(Some(82.0), 3), None).expect("plan");
        let [Writeback::Comment { text, score, .. }] = actions.as_slice() else {
            panic!("{actions:?}")
        };
        assert_eq!(*score, Some(82));
        assert!(text.contains("82/100") && text.contains("3 reviews") && text.contains("advance"));
        assert!(text.contains("http://suite/reviews/inv_1"));
    }

    #[test]
    fn feed_dates_become_dates() {
        let job = AtsJob {
            ats_job_id: "af42dd".to_owned(),
            starts_on: Some("2021-11-12T14:46:56.816369".to_owned()),
            ..Default::default()
        };
        let spec = project_spec(&config("tags"), &job);
        assert_eq!(spec.starts_on.as_deref(), Some("2021-11-12"));
        assert_eq!(spec.external_ref, "ats-job:af42dd");
        assert_eq!(spec.title, "Job af42dd");
    }
}
