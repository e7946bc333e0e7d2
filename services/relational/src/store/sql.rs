//! The one [`RelationalStore`] implementation, generic over the engine: it builds every
//! statement with `statements`, runs it through the engine's pools, and turns database failures
//! into domain errors. A failure that means the database is gone drops the pools, so every call
//! answers UNAVAILABLE at once until `connect` succeeds again.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_query::{Alias, Expr, ExprTrait, Order as Dir, Query};
use tokio::sync::Notify;

use super::engine::{Engine, Pools};
use super::errors::{classify, is_unique_violation};
use super::{RelationalStore, Settings, statements};
use crate::error::{Error, Result};
use crate::order::{NewOrder, Order, Patch, Status, now_micros};
use crate::query::{Filter, Group, GroupBy, ListQuery, MAX_GROUPS, Page};

/// How often an automatically assigned id may collide with an explicit one before giving up.
const ID_ATTEMPTS: usize = 3;

/// The orders table on engine `E`.
pub(crate) struct SqlStore<E: Engine> {
    settings: Settings,
    pools: RwLock<Option<Pools<E::Db>>>,
    /// Set once the database has been opened: from then on a missing SQLite file is an outage,
    /// not something to create anew.
    opened: AtomicBool,
    trouble: Notify,
}

impl<E: Engine> SqlStore<E> {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            pools: RwLock::new(None),
            opened: AtomicBool::new(false),
            trouble: Notify::new(),
        }
    }

    /// The current pools, or UNAVAILABLE while disconnected.
    fn pools(&self) -> Result<Pools<E::Db>> {
        self.pools
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                Error::Unavailable(
                    "the database cannot be reached; the service reconnects by itself".into(),
                )
            })
    }

    /// Drops the pools (closing them in the background) and wakes the supervisor.
    fn disconnect(&self) {
        if E::keeps_data_in_pool(&self.settings) {
            return;
        }
        let old = self.pools.write().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(old) = old {
            tracing::warn!(
                engine = E::NAME,
                "lost the database; calls answer UNAVAILABLE"
            );
            tokio::spawn(async move { old.close().await });
        }
        self.trouble.notify_one();
    }

    /// The domain error for a database failure, disconnecting when the database is gone.
    fn fail(&self, err: sqlx::Error) -> Error {
        let failure = classify(err);
        if failure.connection_lost {
            self.disconnect();
        }
        if let Error::Internal(message) = &failure.error {
            tracing::error!(engine = E::NAME, %message, "database error");
        }
        failure.error
    }

    async fn version_of(&self, pools: &Pools<E::Db>, id: i64) -> Result<Option<i64>> {
        let mut conn = pools.write.get().await.map_err(|e| self.fail(e))?;
        let row: Option<(i64,)> =
            E::fetch_optional(&mut conn, E::build(&statements::version_of(id)))
                .await
                .map_err(|e| self.fail(e))?;
        Ok(row.map(|(v,)| v))
    }

    /// The error for a conditional write that matched no row.
    async fn missed(&self, pools: &Pools<E::Db>, id: i64, expected: Option<i64>) -> Error {
        match (self.version_of(pools, id).await, expected) {
            (Err(e), _) => e,
            (Ok(None), _) => Error::NotFound { id },
            (Ok(Some(actual)), Some(expected)) if actual != expected => Error::VersionMismatch {
                id,
                expected,
                actual,
            },
            (Ok(Some(_)), _) => Error::Conflict(format!("order {id} changed concurrently")),
        }
    }

    /// PostgreSQL: moves the id sequence past explicitly given ids.
    async fn sync_ids(&self, pools: &Pools<E::Db>) -> Result<()> {
        if !E::ID_SEQUENCE {
            return Ok(());
        }
        let mut conn = pools.write.get().await.map_err(|e| self.fail(e))?;
        E::execute(&mut conn, E::build(&statements::sync_id_sequence()))
            .await
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }
}

#[tonic::async_trait]
impl<E: Engine> RelationalStore for SqlStore<E> {
    fn engine(&self) -> &'static str {
        E::NAME
    }

    async fn create(&self, order: NewOrder) -> Result<Order> {
        let pools = self.pools()?;
        let statement = statements::insert(&order, now_micros());
        for attempt in 1..=ID_ATTEMPTS {
            let mut conn = pools.write.get().await.map_err(|e| self.fail(e))?;
            let inserted = E::fetch_optional::<Order>(&mut conn, E::build(&statement)).await;
            drop(conn);
            match inserted {
                Ok(Some(created)) => {
                    if order.id.is_some() && self.sync_ids(&pools).await.is_err() {
                        // The order is stored; a stale sequence only costs a retry later.
                        tracing::warn!("could not move the id sequence past {}", created.id);
                    }
                    return Ok(created);
                }
                Ok(None) => return Err(Error::Internal("the insert returned no row".into())),
                Err(e) if is_unique_violation(&e) => match order.id {
                    Some(id) => return Err(Error::AlreadyExists { id }),
                    None if E::ID_SEQUENCE && attempt < ID_ATTEMPTS => {
                        self.sync_ids(&pools).await?
                    }
                    None => return Err(self.fail(e)),
                },
                Err(e) => return Err(self.fail(e)),
            }
        }
        Err(Error::Conflict("no free id was found".into()))
    }

    async fn get(&self, id: i64) -> Result<Order> {
        let pools = self.pools()?;
        if let Some(found) = pools.direct.as_ref().and_then(|direct| direct.get(id)) {
            return found.ok_or(Error::NotFound { id });
        }
        let mut conn = pools.read.get().await.map_err(|e| self.fail(e))?;
        E::fetch_optional(&mut conn, E::build(&statements::get(id)))
            .await
            .map_err(|e| self.fail(e))?
            .ok_or(Error::NotFound { id })
    }

    async fn update(&self, id: i64, patch: Patch, expected_version: i64) -> Result<Order> {
        let pools = self.pools()?;
        let statement = statements::update(id, &patch, expected_version, now_micros());
        let mut conn = pools.write.get().await.map_err(|e| self.fail(e))?;
        let updated: Option<Order> = E::fetch_optional(&mut conn, E::build(&statement))
            .await
            .map_err(|e| self.fail(e))?;
        drop(conn);
        match updated {
            Some(order) => Ok(order),
            None => Err(self.missed(&pools, id, Some(expected_version)).await),
        }
    }

    async fn delete(&self, id: i64, expected_version: Option<i64>) -> Result<()> {
        let pools = self.pools()?;
        let statement = statements::delete(id, expected_version);
        let mut conn = pools.write.get().await.map_err(|e| self.fail(e))?;
        let deleted = E::execute(&mut conn, E::build(&statement))
            .await
            .map_err(|e| self.fail(e))?;
        drop(conn);
        if deleted == 0 {
            return Err(self.missed(&pools, id, expected_version).await);
        }
        Ok(())
    }

    async fn list(&self, query: ListQuery) -> Result<Page> {
        let pools = self.pools()?;
        let mut conn = pools.read.get().await.map_err(|e| self.fail(e))?;
        let (total,): (i64,) =
            E::fetch_optional(&mut conn, E::build(&statements::count(&query.filter)))
                .await
                .map_err(|e| self.fail(e))?
                .unwrap_or((0,));
        let mut orders: Vec<Order> = E::fetch_all(&mut conn, E::build(&statements::list(&query)))
            .await
            .map_err(|e| self.fail(e))?;
        let more = orders.len() > query.limit as usize;
        orders.truncate(query.limit as usize);
        Ok(Page {
            orders,
            more,
            total,
        })
    }

    async fn aggregate(&self, filter: Filter, group_by: GroupBy) -> Result<Vec<Group>> {
        let pools = self.pools()?;
        let statement = statements::aggregate(&filter, group_by);
        let mut conn = pools.read.get().await.map_err(|e| self.fail(e))?;
        let mut groups: Vec<Group> = E::fetch_all(&mut conn, E::build(&statement))
            .await
            .map_err(|e| self.fail(e))?;
        if groups.len() > MAX_GROUPS {
            return Err(Error::TooManyGroups { limit: MAX_GROUPS });
        }
        match group_by {
            GroupBy::Status => groups.sort_by_key(|g| Status::from_db(&g.key)),
            GroupBy::Customer | GroupBy::Product => groups.sort_by(|a, b| a.key.cmp(&b.key)),
        }
        Ok(groups)
    }

    async fn export_batch(&self, filter: &Filter, after_id: i64, limit: u32) -> Result<Vec<Order>> {
        let pools = self.pools()?;
        let statement = statements::export_batch(filter, after_id, limit);
        let mut conn = pools.read.get().await.map_err(|e| self.fail(e))?;
        E::fetch_all(&mut conn, E::build(&statement))
            .await
            .map_err(|e| self.fail(e))
    }

    async fn insert_missing(&self, orders: &[Order]) -> Result<u64> {
        if orders.is_empty() {
            return Ok(0);
        }
        let pools = self.pools()?;
        let mut conn = pools.write.get().await.map_err(|e| self.fail(e))?;
        let inserted = E::execute(&mut conn, E::build(&statements::insert_missing(orders)))
            .await
            .map_err(|e| self.fail(e))?;
        drop(conn);
        self.sync_ids(&pools).await?;
        Ok(inserted)
    }

    async fn connect(&self) -> Result<()> {
        if E::keeps_data_in_pool(&self.settings) && self.is_connected() {
            return Ok(());
        }
        let create = !self.opened.load(Ordering::SeqCst);
        let opened = E::open(&self.settings, create)
            .await
            .map_err(|e| classify(e).error)?;
        if let Err(e) = E::migrate(&opened.write).await {
            opened.write.close().await;
            opened.read.close().await;
            return Err(migrate_error(e));
        }
        let pools = opened
            .lease(self.settings.acquire_timeout)
            .await
            .map_err(|e| classify(e).error)?;
        let ready = async {
            E::probe(&self.settings, &pools)
                .await
                .map_err(|e| classify(e).error)?;
            // Rows may have been written with explicit ids by other means (a restore, psql).
            self.sync_ids(&pools).await
        };
        if let Err(e) = ready.await {
            pools.close().await;
            return Err(e);
        }
        self.opened.store(true, Ordering::SeqCst);
        let old = self
            .pools
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace(pools);
        if let Some(old) = old {
            tokio::spawn(async move { old.close().await });
        }
        Ok(())
    }

    async fn applied_migrations(&self) -> Result<Vec<(i64, String)>> {
        let pools = self.pools()?;
        let table = || Alias::new("_sqlx_migrations");
        let statement = Query::select()
            .columns([Alias::new("version"), Alias::new("description")])
            .from(table())
            .and_where(Expr::col(Alias::new("success")).eq(true))
            .order_by(Alias::new("version"), Dir::Asc)
            .to_owned();
        let mut conn = pools.read.get().await.map_err(|e| self.fail(e))?;
        E::fetch_all(&mut conn, E::build(&statement))
            .await
            .map_err(|e| self.fail(e))
    }

    fn is_connected(&self) -> bool {
        self.pools
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    async fn probe(&self) -> Result<()> {
        let pools = self.pools()?;
        match E::probe(&self.settings, &pools).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let error = classify(e).error;
                tracing::warn!(engine = E::NAME, %error, "database probe failed");
                self.disconnect();
                Err(error)
            }
        }
    }

    async fn trouble(&self) {
        self.trouble.notified().await;
    }
}

/// A failed migration: UNAVAILABLE when the database went away, otherwise a problem with the
/// migrations themselves (changed, missing or partly applied), which needs an operator.
fn migrate_error(err: sqlx::migrate::MigrateError) -> Error {
    match err {
        sqlx::migrate::MigrateError::Execute(e) => match classify(e).error {
            Error::Unavailable(m) => Error::Unavailable(m),
            other => Error::Internal(format!("migration failed: {other}")),
        },
        other => Error::Internal(format!("migrations: {other}")),
    }
}
