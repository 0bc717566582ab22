//! Authorization-code grants in the database, shared by every Liaison process of a tenant: the
//! suite's, and those of ATSs that authorise Liaison the same way (Lever). One row per tenant and
//! party (`GrantParty`), one mechanism for all.
//!
//! Refresh tokens rotate and are single use: presenting one twice revokes the whole grant. So a
//! refresh is single flight across processes. A process takes the row's refresh lease with one
//! conditional UPDATE (only if nobody holds a live lease and the version is the one it read),
//! spends the refresh token, and commits the new refresh and access tokens, version + 1 and the
//! release in one UPDATE before using them. A process that loses the race waits for the version
//! to move and uses the winner's access token; it never replays the old refresh token. The
//! access token is shared through the row too, so processes do not each mint one.
//!
//! The one gap: a crash between the suite's answer and our commit loses the rotated refresh
//! token; the next refresh then fails with `invalid_grant` and an admin re-authorises.

use std::time::{Duration, Instant};

use rand::Rng as _;
use sea_orm::sea_query::{Condition, Expr, ExprTrait as _};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};

use super::auth::{AccessToken, GrantTokens, SuiteOAuth};
use super::error::SuiteError;
use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::store::entities::suite_grant;
use crate::store::is_unique_violation;
use crate::time::now_ms;

/// Whose grant a row is: the suite's, or an ATS's that uses the authorization code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GrantParty {
    Suite,
    /// The tenant's ATS, for the kinds that authorise by code (`ats::authorization`).
    Ats,
}

impl GrantParty {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suite => "suite",
            Self::Ats => "ats",
        }
    }

    /// The stored `party` value back, for rows read whole (master-key rotation).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "suite" => Some(Self::Suite),
            "ats" => Some(Self::Ats),
            _ => None,
        }
    }

    /// The associated data of a tenant's sealed grant tokens at this party.
    pub fn context(self, slug: &str) -> String {
        format!("{}-grant:{slug}", self.as_str())
    }

    /// The command an admin runs to (re-)authorise Liaison at this party.
    fn authorize_command(self) -> &'static str {
        match self {
            Self::Suite => "liaison tenant authorize-suite",
            Self::Ats => "liaison tenant authorize-ats",
        }
    }
}

/// The associated data of a tenant's sealed suite grant tokens.
pub fn grant_context(slug: &str) -> String {
    GrantParty::Suite.context(slug)
}

/// One tenant's grant row at one party.
#[derive(Clone)]
pub struct GrantStore {
    db: DatabaseConnection,
    key: MasterKey,
    party: GrantParty,
    tenant: TenantId,
    slug: String,
    /// How long a refresh lease lasts: longer than one token request can take.
    lease: Duration,
}

impl GrantStore {
    /// The tenant's suite grant (`for_party` for another party's).
    pub fn new(
        db: DatabaseConnection,
        key: MasterKey,
        tenant: TenantId,
        slug: &str,
        lease: Duration,
    ) -> Self {
        Self {
            db,
            key,
            party: GrantParty::Suite,
            tenant,
            slug: slug.to_owned(),
            lease,
        }
    }

    /// The same tenant's grant at `party`.
    pub fn for_party(mut self, party: GrantParty) -> Self {
        self.party = party;
        self
    }

    fn context(&self) -> String {
        self.party.context(&self.slug)
    }

    /// This grant's row and no other: the tenant's, at this party.
    fn this_row(&self) -> Condition {
        Condition::all()
            .add(suite_grant::Column::TenantId.eq(self.tenant.0))
            .add(suite_grant::Column::Party.eq(self.party.as_str()))
    }

    fn seal(&self, secret: &SecretString) -> String {
        self.key
            .seal(secret.expose_secret().as_bytes(), &self.context())
    }

    fn open(&self, sealed: &str) -> Result<SecretString, SuiteError> {
        let bytes = self
            .key
            .open(sealed, &self.context())
            .map_err(|e| SuiteError::Store(format!("cannot open the stored grant: {e}")))?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| SuiteError::Store("the stored grant is not text".to_owned()))
    }

    async fn load(&self) -> Result<Option<suite_grant::Model>, SuiteError> {
        Ok(suite_grant::Entity::find()
            .filter(self.this_row())
            .one(&self.db)
            .await?)
    }

    /// Stores the tokens of a fresh authorisation (the callback), replacing any earlier grant.
    pub async fn save_new_grant(&self, tokens: &GrantTokens) -> Result<(), SuiteError> {
        let now = now_ms();
        if self.load().await?.is_none() {
            let row = suite_grant::ActiveModel {
                tenant_id: Set(self.tenant.0),
                party: Set(self.party.as_str().to_owned()),
                sealed_refresh_token: Set(Some(self.seal(&tokens.refresh))),
                sealed_access_token: Set(Some(self.seal(tokens.access.secret()))),
                access_expires_at: Set(Some(tokens.access.expires_at_ms)),
                version: Set(1),
                refreshing_owner: Set(None),
                refreshing_until: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            match row.insert(&self.db).await {
                Ok(_) => return Ok(()),
                // Another callback inserted first: replace its tokens below.
                Err(error) if is_unique_violation(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        suite_grant::Entity::update_many()
            .col_expr(
                suite_grant::Column::SealedRefreshToken,
                Expr::value(self.seal(&tokens.refresh)),
            )
            .col_expr(
                suite_grant::Column::SealedAccessToken,
                Expr::value(self.seal(tokens.access.secret())),
            )
            .col_expr(
                suite_grant::Column::AccessExpiresAt,
                Expr::value(tokens.access.expires_at_ms),
            )
            .col_expr(
                suite_grant::Column::Version,
                Expr::col(suite_grant::Column::Version).add(1),
            )
            .col_expr(
                suite_grant::Column::RefreshingOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                suite_grant::Column::RefreshingUntil,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(suite_grant::Column::UpdatedAt, Expr::value(now))
            .filter(self.this_row())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A usable access token: the row's own when it is fresh (and not the one just refused),
    /// else a refresh under the lease, or the token of the process that refreshed meanwhile.
    pub async fn access_token(
        &self,
        oauth: &SuiteOAuth,
        rejected: Option<&AccessToken>,
    ) -> Result<AccessToken, SuiteError> {
        let give_up_at = Instant::now() + self.lease + Duration::from_secs(5);
        loop {
            let row = self
                .load()
                .await?
                .ok_or_else(|| not_authorised(self.party))?;
            if let Some(token) = self.usable_access(&row, rejected)? {
                return Ok(token);
            }
            let sealed_refresh = row
                .sealed_refresh_token
                .as_deref()
                .ok_or_else(|| not_authorised(self.party))?;
            let owner = uuid::Uuid::new_v4().to_string();
            if self.take_lease(&row, &owner).await? {
                let refresh = self.open(sealed_refresh)?;
                return self
                    .refresh_under_lease(oauth, &row, &refresh, &owner)
                    .await;
            }
            if Instant::now() >= give_up_at {
                return Err(SuiteError::transient(
                    "another process holds the refresh lease for too long",
                ));
            }
            // Another process is refreshing: wait for its commit (across processes there is
            // nothing to await, so a short jittered sleep, bounded by `give_up_at`).
            let pause = rand::rng().random_range(20..60);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    fn usable_access(
        &self,
        row: &suite_grant::Model,
        rejected: Option<&AccessToken>,
    ) -> Result<Option<AccessToken>, SuiteError> {
        let (Some(sealed), Some(expires)) = (&row.sealed_access_token, row.access_expires_at)
        else {
            return Ok(None);
        };
        let token = AccessToken::new(self.open(sealed)?, row.updated_at, expires);
        let refused = rejected.is_some_and(|rejected| token.same_as(rejected));
        Ok((token.is_fresh(now_ms()) && !refused).then_some(token))
    }

    /// The conditional UPDATE that makes one process the refresher of version `row.version`.
    async fn take_lease(&self, row: &suite_grant::Model, owner: &str) -> Result<bool, SuiteError> {
        let now = now_ms();
        let result = suite_grant::Entity::update_many()
            .col_expr(suite_grant::Column::RefreshingOwner, Expr::value(owner))
            .col_expr(
                suite_grant::Column::RefreshingUntil,
                Expr::value(now + self.lease.as_millis() as i64),
            )
            .filter(self.this_row())
            .filter(suite_grant::Column::Version.eq(row.version))
            .filter(
                Condition::any()
                    .add(suite_grant::Column::RefreshingUntil.is_null())
                    .add(suite_grant::Column::RefreshingUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn refresh_under_lease(
        &self,
        oauth: &SuiteOAuth,
        row: &suite_grant::Model,
        refresh: &SecretString,
        owner: &str,
    ) -> Result<AccessToken, SuiteError> {
        match oauth.refresh(refresh).await {
            Ok(tokens) => {
                self.commit(row, owner, &tokens).await?;
                Ok(tokens.access)
            }
            Err(error) => {
                // `invalid_grant`: the grant is gone; forget it so no process replays it.
                let forget =
                    matches!(&error, SuiteError::Auth { code, .. } if code == "invalid_grant");
                self.release(owner, forget).await?;
                Err(error)
            }
        }
    }

    /// Commits the rotated tokens and releases the lease, in one UPDATE fenced by our lease.
    /// Retried a few times: a lost commit would lose the only valid refresh token.
    async fn commit(
        &self,
        row: &suite_grant::Model,
        owner: &str,
        tokens: &GrantTokens,
    ) -> Result<(), SuiteError> {
        let mut last_error = None;
        for attempt in 0..3u64 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            let result = suite_grant::Entity::update_many()
                .col_expr(
                    suite_grant::Column::SealedRefreshToken,
                    Expr::value(self.seal(&tokens.refresh)),
                )
                .col_expr(
                    suite_grant::Column::SealedAccessToken,
                    Expr::value(self.seal(tokens.access.secret())),
                )
                .col_expr(
                    suite_grant::Column::AccessExpiresAt,
                    Expr::value(tokens.access.expires_at_ms),
                )
                .col_expr(suite_grant::Column::Version, Expr::value(row.version + 1))
                .col_expr(
                    suite_grant::Column::RefreshingOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    suite_grant::Column::RefreshingUntil,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(suite_grant::Column::UpdatedAt, Expr::value(now_ms()))
                .filter(self.this_row())
                .filter(suite_grant::Column::RefreshingOwner.eq(owner))
                .exec(&self.db)
                .await;
            match result {
                Ok(done) if done.rows_affected == 1 => return Ok(()),
                Ok(_) => {
                    tracing::error!(tenant = %self.slug, party = self.party.as_str(), "refresh lease lost before the commit");
                    return Err(SuiteError::auth(
                        "refresh_lease_lost",
                        "the refresh lease expired before the new tokens were stored",
                    ));
                }
                Err(error) => last_error = Some(error),
            }
        }
        tracing::error!(tenant = %self.slug, party = self.party.as_str(), "cannot store the rotated refresh token");
        Err(last_error.map_or_else(|| SuiteError::Store("commit failed".to_owned()), Into::into))
    }

    async fn release(&self, owner: &str, forget_tokens: bool) -> Result<(), SuiteError> {
        let mut update = suite_grant::Entity::update_many()
            .col_expr(
                suite_grant::Column::RefreshingOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                suite_grant::Column::RefreshingUntil,
                Expr::value(Option::<i64>::None),
            );
        if forget_tokens {
            update = update
                .col_expr(
                    suite_grant::Column::SealedRefreshToken,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    suite_grant::Column::SealedAccessToken,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    suite_grant::Column::Version,
                    Expr::col(suite_grant::Column::Version).add(1),
                )
                .col_expr(suite_grant::Column::UpdatedAt, Expr::value(now_ms()));
        }
        update
            .filter(self.this_row())
            .filter(suite_grant::Column::RefreshingOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

fn not_authorised(party: GrantParty) -> SuiteError {
    SuiteError::auth(
        &format!("{}_not_authorised", party.as_str()),
        format!(
            "no {} grant stored: run `{}` and approve",
            party.as_str(),
            party.authorize_command()
        ),
    )
}
