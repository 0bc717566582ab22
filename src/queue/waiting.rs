//! Named reads of the jobs waiting behind others in an ordering key, for the flows that fold the
//! work of later jobs into an earlier one.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};

use crate::ids::JobId;
use crate::store::{numbered_params, param_list};

/// Pending jobs in the ordering keys `$1..`, of events of the types after them.
const PENDING_OF_TYPES_SQL: &str = "
SELECT j.id, j.ordering_key FROM jobs j JOIN inbox_events e ON e.id = j.event_id
WHERE j.ordering_key IN ({keys}) AND j.status = 'pending' AND e.event_type IN ({types})";

/// Pending jobs of one ordering key (`$1`) after a job (`$2`), of events of the types after them.
const PENDING_AFTER_OF_TYPES_SQL: &str = "
SELECT j.id FROM jobs j JOIN inbox_events e ON e.id = j.event_id
WHERE j.ordering_key = $1 AND j.status = 'pending' AND j.id > $2
  AND e.event_type IN ({types})";

#[derive(FromQueryResult)]
struct WaitingRow {
    id: i64,
    ordering_key: String,
}

/// The pending jobs in `ordering_keys` whose event is of one of `event_types`, by ordering key
/// (job ids as stored, in no particular order). One statement.
pub async fn pending_of_event_types(
    db: &impl ConnectionTrait,
    ordering_keys: &[&str],
    event_types: &[&str],
) -> Result<HashMap<String, Vec<i64>>, DbErr> {
    let backend = db.get_database_backend();
    let sql = PENDING_OF_TYPES_SQL
        .replace("{keys}", &param_list(1, ordering_keys.len()))
        .replace(
            "{types}",
            &param_list(1 + ordering_keys.len(), event_types.len()),
        );
    let values = ordering_keys
        .iter()
        .map(|key| sea_orm::Value::from(*key))
        .chain(event_types.iter().map(|t| sea_orm::Value::from(*t)));
    let statement = Statement::from_sql_and_values(backend, numbered_params(backend, &sql), values);
    let mut pending: HashMap<String, Vec<i64>> = HashMap::new();
    for row in WaitingRow::find_by_statement(statement).all(db).await? {
        pending.entry(row.ordering_key).or_default().push(row.id);
    }
    Ok(pending)
}

/// The pending jobs of `ordering_key` enqueued after `after` whose event is of one of
/// `event_types`. One statement.
pub async fn pending_after_of_event_types(
    db: &impl ConnectionTrait,
    ordering_key: &str,
    after: JobId,
    event_types: &[&str],
) -> Result<Vec<JobId>, DbErr> {
    let backend = db.get_database_backend();
    let sql = PENDING_AFTER_OF_TYPES_SQL.replace("{types}", &param_list(3, event_types.len()));
    let mut values: Vec<sea_orm::Value> = vec![ordering_key.into(), after.0.into()];
    values.extend(event_types.iter().map(|t| (*t).into()));
    let statement = Statement::from_sql_and_values(backend, numbered_params(backend, &sql), values);
    Ok(db
        .query_all_raw(statement)
        .await?
        .iter()
        .filter_map(|row| row.try_get_by_index::<i64>(0).ok())
        .map(JobId)
        .collect())
}
