//! What a sample payload would become for a tenant: the tenant's ATS adapter parses it exactly as
//! a delivery (JSON kinds) or a feed (xml-feed), and nothing is stored or enqueued.

use serde::Serialize;

pub use crate::ats::PreviewError;
use crate::ats::adapter_for;
use crate::events::{EventBody, InboundEvent};
use crate::tenant::Tenant;

/// One event the sample would produce.
#[derive(Clone, Debug, Serialize)]
pub struct PreviewEvent {
    pub event: InboundEvent,
    /// The ordering key's subject (`application:42`): events of one subject apply in order.
    pub subject: Option<String>,
    /// Whether the sync engine acts on it (an `ignored` event is only logged).
    pub acted_upon: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Preview {
    pub events: Vec<PreviewEvent>,
    /// Feed jobs that could not be read, with why.
    pub problems: Vec<String>,
}

fn item(event: InboundEvent) -> PreviewEvent {
    PreviewEvent {
        subject: event.subject(),
        acted_upon: !matches!(event.body, EventBody::Ignored),
        event,
    }
}

/// Parses `sample` as the tenant's ATS would send it.
pub async fn preview(tenant: &Tenant, sample: &str) -> Result<Preview, PreviewError> {
    let preview = adapter_for(tenant.config.ats.kind)
        .preview(tenant, sample)
        .await?;
    Ok(Preview {
        events: preview.events.into_iter().map(item).collect(),
        problems: preview.problems,
    })
}
