//! The live partners: the suite client and the tenant's ATS adapter, seen through the sync
//! engine's ports.

mod ats;
mod suite;

use std::sync::Arc;

pub use ats::{AtsAdapterPort, ats_error};
pub use suite::{SuiteAdapter, partner_error};

use super::JobError;
use super::flows::{Partners, TenantPartners};
use crate::ats::shared::AtsShared;
use crate::suite::SuiteClients;
use crate::tenant::Tenant;

/// Partners built from the process's suite clients and the ATS adapter registry.
pub struct LivePartners {
    suite_clients: SuiteClients,
    ats_shared: AtsShared,
}

impl LivePartners {
    pub fn new(suite_clients: SuiteClients, ats_shared: AtsShared) -> Self {
        Self {
            suite_clients,
            ats_shared,
        }
    }
}

impl Partners for LivePartners {
    fn for_tenant(&self, tenant: &Tenant) -> Result<TenantPartners, JobError> {
        let client = self
            .suite_clients
            .for_tenant(tenant)
            .map_err(|error| JobError::from(partner_error(error)))?;
        Ok(TenantPartners {
            suite: Arc::new(SuiteAdapter::new(client)),
            ats: Arc::new(
                AtsAdapterPort::new(
                    crate::ats::adapter_for(tenant.config.ats.kind),
                    tenant.clone(),
                )
                .recording(self.suite_clients.calls().clone())
                .sharing(self.ats_shared.clone()),
            ),
        })
    }
}
