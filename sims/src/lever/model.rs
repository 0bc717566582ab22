//! The simulated account: stages, postings, opportunities with their tags and notes, and how
//! each is written on the wire (`{"data": ...}` envelopes, `expand` of stage and applications).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Posting {
    pub id: String,
    pub text: String,
    pub state: String,
    pub location: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: String,
    pub value: String,
    pub score: Option<u8>,
    pub perform_as: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: String,
    pub application_id: String,
    pub name: String,
    pub contact: String,
    pub email: String,
    pub stage: String,
    pub posting: String,
    pub archived: Option<Value>,
    pub tags: Vec<String>,
    pub notes: Vec<Note>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Everything the account holds.
#[derive(Debug, Default, Serialize)]
pub struct World {
    pub stages: Vec<Stage>,
    pub postings: BTreeMap<String, Posting>,
    pub opportunities: BTreeMap<String, Opportunity>,
    /// The last `updatedAt` handed out: strictly increasing, so listings order well.
    last_update: i64,
}

/// `POST /_sim/opportunities`.
#[derive(Debug, Deserialize)]
pub struct NewOpportunity {
    pub name: String,
    pub email: String,
    pub posting: String,
    #[serde(default)]
    pub stage: Option<String>,
}

impl World {
    pub fn new(stage_names: &[&str]) -> Self {
        let stages = stage_names
            .iter()
            .map(|text| Stage {
                id: uuid::Uuid::new_v4().to_string(),
                text: (*text).to_owned(),
            })
            .collect();
        Self {
            stages,
            ..Self::default()
        }
    }

    /// A time after every earlier one, near now.
    pub fn tick(&mut self) -> i64 {
        let now = chrono::Utc::now().timestamp_millis();
        self.last_update = now.max(self.last_update + 1);
        self.last_update
    }

    pub fn stage_by_id_or_name(&self, wanted: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| s.id == wanted || s.text.eq_ignore_ascii_case(wanted))
    }

    pub fn add_posting(&mut self, text: &str, location: &str, description: &str) -> Posting {
        let posting = Posting {
            id: uuid::Uuid::new_v4().to_string(),
            text: text.to_owned(),
            state: "published".to_owned(),
            location: location.to_owned(),
            description: description.to_owned(),
        };
        self.postings.insert(posting.id.clone(), posting.clone());
        posting
    }

    pub fn add_opportunity(&mut self, new: &NewOpportunity) -> Option<Opportunity> {
        if !self.postings.contains_key(&new.posting) {
            return None;
        }
        let stage = match &new.stage {
            Some(wanted) => self.stage_by_id_or_name(wanted)?.id.clone(),
            None => self.stages.first()?.id.clone(),
        };
        let now = self.tick();
        let opportunity = Opportunity {
            id: uuid::Uuid::new_v4().to_string(),
            application_id: uuid::Uuid::new_v4().to_string(),
            name: new.name.clone(),
            contact: uuid::Uuid::new_v4().to_string(),
            email: new.email.clone(),
            stage,
            posting: new.posting.clone(),
            archived: None,
            tags: Vec::new(),
            notes: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.opportunities
            .insert(opportunity.id.clone(), opportunity.clone());
        Some(opportunity)
    }

    /// The opportunity as `GET /opportunities/:id` shows it, with the `expand`s asked for.
    pub fn opportunity_json(&self, o: &Opportunity, expand: &[String]) -> Value {
        let expanded = |what: &str| expand.iter().any(|e| e == what);
        let stage = match self.stages.iter().find(|s| s.id == o.stage) {
            Some(stage) if expanded("stage") => json!({"id": stage.id, "text": stage.text}),
            _ => json!(o.stage),
        };
        let applications = if expanded("applications") {
            json!([{"id": o.application_id, "type": "posting", "posting": o.posting,
                    "opportunityId": o.id, "candidateId": o.id}])
        } else {
            json!([o.application_id])
        };
        json!({
            "id": o.id,
            "name": o.name,
            "contact": o.contact,
            "headline": "",
            "emails": [o.email],
            "phones": [],
            "stage": stage,
            "archived": o.archived,
            "tags": o.tags,
            "applications": applications,
            "createdAt": o.created_at,
            "updatedAt": o.updated_at,
        })
    }

    pub fn posting_json(p: &Posting) -> Value {
        json!({
            "id": p.id,
            "text": p.text,
            "state": p.state,
            "categories": {"location": p.location, "team": "", "commitment": ""},
            "content": {"description": p.description, "descriptionHtml": ""},
            "urls": {"show": format!("https://jobs.lever.co/sim/{}", p.id)},
        })
    }
}
