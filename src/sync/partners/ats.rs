//! The tenant's ATS adapter seen through the sync engine's `AtsPort`.

use std::future::Future;
use std::sync::Arc;

use crate::ats::shared::AtsShared;
use crate::ats::{AdapterError, ApplicationRef, AtsAdapter, WriteBack};
use crate::events::{AtsApplication, AtsJob};
use crate::sync::ports::{AtsPort, PartnerError, PortFuture};
use crate::telemetry::PartnerCalls;
use crate::tenant::Tenant;

pub struct AtsAdapterPort {
    adapter: Arc<dyn AtsAdapter>,
    tenant: Tenant,
    /// Set around each adapter call: the adapters are process-wide (`telemetry::calls`).
    calls: PartnerCalls,
    /// Likewise: the state the tenant's processes share (Lever's OAuth grant).
    shared: Option<AtsShared>,
}

impl AtsAdapterPort {
    pub fn new(adapter: Arc<dyn AtsAdapter>, tenant: Tenant) -> Self {
        Self {
            adapter,
            tenant,
            calls: PartnerCalls::disabled(),
            shared: None,
        }
    }

    /// Gives the adapter's calls the application's shared ATS state.
    pub fn sharing(mut self, shared: AtsShared) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Runs an adapter call inside this port's recording and shared state.
    async fn scoped<T>(&self, work: impl Future<Output = T>) -> T {
        let recorded = self.calls.clone().scope(work);
        match self.shared.clone() {
            Some(shared) => shared.scope(recorded).await,
            None => recorded.await,
        }
    }

    /// Records the adapter's calls in `calls`.
    pub fn recording(mut self, calls: PartnerCalls) -> Self {
        self.calls = calls;
        self
    }
}

/// An ATS failure as the sync engine sees it, by [`AdapterError::is_transient`].
pub fn ats_error(error: AdapterError) -> PartnerError {
    match error {
        AdapterError::RateLimited { retry_after } => PartnerError::Transient {
            message: "rate limited by the ATS".to_owned(),
            retry_after,
        },
        AdapterError::NotFound(what) => PartnerError::NotFound(what),
        error @ AdapterError::Unanswered(_) => PartnerError::Unanswered(error.to_string()),
        error if error.is_transient() => PartnerError::Transient {
            message: error.to_string(),
            retry_after: None,
        },
        other => PartnerError::Permanent(other.to_string()),
    }
}

impl AtsPort for AtsAdapterPort {
    fn fetch_job(&self, ats_job_id: &str) -> PortFuture<'_, AtsJob> {
        let id = ats_job_id.to_owned();
        Box::pin(self.scoped(async move {
            self.adapter
                .fetch_job(&self.tenant, &id)
                .await
                .map_err(ats_error)
        }))
    }

    fn fetch_application(&self, ats_application_id: &str) -> PortFuture<'_, AtsApplication> {
        // The job is unknown here: only kinds that find applications by id alone emit the
        // events that lead here (`EventBody::ApplicationToRead`).
        let application = ApplicationRef {
            ats_job_id: String::new(),
            ats_application_id: ats_application_id.to_owned(),
        };
        Box::pin(self.scoped(async move {
            self.adapter
                .fetch_application(&self.tenant, &application)
                .await
                .map_err(ats_error)
        }))
    }

    fn add_tag(&self, ats_job_id: &str, ats_application_id: &str, tag: &str) -> PortFuture<'_, ()> {
        let application = ApplicationRef {
            ats_job_id: ats_job_id.to_owned(),
            ats_application_id: ats_application_id.to_owned(),
        };
        let write = WriteBack::Tag(tag.to_owned());
        Box::pin(self.scoped(async move {
            self.adapter
                .write_back(&self.tenant, &application, &write)
                .await
                .map_err(ats_error)
        }))
    }

    fn add_comment(
        &self,
        ats_job_id: &str,
        ats_application_id: &str,
        text: &str,
        score: Option<u8>,
    ) -> PortFuture<'_, Option<String>> {
        let application = ApplicationRef {
            ats_job_id: ats_job_id.to_owned(),
            ats_application_id: ats_application_id.to_owned(),
        };
        let write = WriteBack::Comment {
            text: text.to_owned(),
            score,
        };
        Box::pin(self.scoped(async move {
            self.adapter
                .write_back(&self.tenant, &application, &write)
                .await
                .map_err(ats_error)?;
            Ok(None)
        }))
    }

    fn can_write_back(&self) -> bool {
        self.adapter.writes_back_for(&self.tenant)
    }
}
