//! The session store's SQL, one statement per store operation, and how rows become the
//! chatbot's types. The tables are made by `migrations/postgres/`; see there for the layout.
//!
//! Each operation is ONE statement, hence one snapshot and one atomic change, even in
//! PostgreSQL's default READ COMMITTED isolation:
//! - [`RECORD`] upserts the session row first. `INSERT … ON CONFLICT DO UPDATE` takes the row's
//!   lock and, when it had to wait for a concurrent turn, updates the row as that turn left it,
//!   so concurrent turns of one session get consecutive numbers and none is lost. The turn then
//!   goes to its ring slot, and a session that had expired drops its old life's turns.
//! - Reads keep to live sessions (`last_used_us > cutoff`) and to the current life's turns
//!   (`seq >= first_seq`): an expired session is never read, swept or not.
//!
//! Plain SQL text rather than a query builder: the statements are fixed and PostgreSQL-only.

use sqlx::postgres::PgConnection;

use crate::conversation::{Backend, Entity, Session, TurnRecord};
use crate::store::MAX_TURNS;
use crate::store::clock::{from_micros, micros};

const LAST_ENTITY: &str = "SELECT entity_kind, entity_value FROM chat_sessions \
     WHERE id = $1 AND last_used_us > $2";

/// $1 id, $2/$3 the entity (kind, value) or NULLs, $4 now, $5 the expiry cutoff, $6 the user's
/// message, $7 the answer, $8 the backend, $9 the turn's time, $10 the history bound.
const RECORD: &str = r#"
WITH s AS (
    INSERT INTO chat_sessions AS s
        (id, last_seq, first_seq, entity_kind, entity_value, last_used_us)
    VALUES ($1, 1, 1, $2, $3, $4)
    ON CONFLICT (id) DO UPDATE SET
        last_seq = s.last_seq + 1,
        first_seq = CASE WHEN s.last_used_us <= $5 THEN s.last_seq + 1 ELSE s.first_seq END,
        entity_kind = CASE WHEN s.last_used_us <= $5 OR EXCLUDED.entity_kind IS NOT NULL
                           THEN EXCLUDED.entity_kind ELSE s.entity_kind END,
        entity_value = CASE WHEN s.last_used_us <= $5 OR EXCLUDED.entity_kind IS NOT NULL
                            THEN EXCLUDED.entity_value ELSE s.entity_value END,
        last_used_us = GREATEST(s.last_used_us, EXCLUDED.last_used_us)
    RETURNING s.last_seq AS seq, s.first_seq
), old_life AS (
    DELETE FROM chat_turns t USING s
    WHERE s.seq > 1 AND s.first_seq = s.seq
      AND t.session_id = $1 AND t.seq < s.first_seq AND t.slot <> s.seq % $10
)
INSERT INTO chat_turns AS t (session_id, slot, seq, user_message, answer, backend, time_us)
SELECT $1, (s.seq % $10)::integer, s.seq, $6, $7, $8, $9 FROM s
ON CONFLICT (session_id, slot) DO UPDATE SET
    seq = EXCLUDED.seq,
    user_message = EXCLUDED.user_message,
    answer = EXCLUDED.answer,
    backend = EXCLUDED.backend,
    time_us = EXCLUDED.time_us
WHERE t.seq < EXCLUDED.seq
"#;

const GET: &str = "SELECT s.entity_kind, s.entity_value, \
            t.user_message, t.answer, t.backend, t.time_us \
     FROM chat_sessions s \
     LEFT JOIN chat_turns t ON t.session_id = s.id AND t.seq >= s.first_seq \
     WHERE s.id = $1 AND s.last_used_us > $2 \
     ORDER BY t.seq";

const DELETE: &str = "DELETE FROM chat_sessions WHERE id = $1 RETURNING last_used_us > $2";

/// Expired sessions, oldest first, at most $2 of them; rows a turn holds are skipped (that
/// turn is renewing them), so replicas sweeping at once never wait for each other.
const SWEEP: &str = "DELETE FROM chat_sessions WHERE id IN ( \
        SELECT id FROM chat_sessions WHERE last_used_us <= $1 \
        ORDER BY last_used_us LIMIT $2 FOR UPDATE SKIP LOCKED)";

type EntityRow = (Option<String>, Option<String>);
type TurnRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// The session's last entity, when the session is live.
pub(super) async fn last_entity(
    conn: &mut PgConnection,
    id: &str,
    cutoff: i64,
) -> Result<Option<Entity>, sqlx::Error> {
    let row: Option<EntityRow> = sqlx::query_as(LAST_ENTITY)
        .bind(id)
        .bind(cutoff)
        .fetch_optional(conn)
        .await?;
    Ok(row.and_then(|(kind, value)| entity(kind, value)))
}

/// When a turn happens and which sessions have expired by then.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moment {
    /// Now, in microseconds since the epoch.
    pub(super) now: i64,
    /// Sessions last used at or before this have expired.
    pub(super) cutoff: i64,
}

/// Records `turn` (see [`RECORD`]).
pub(super) async fn record(
    conn: &mut PgConnection,
    id: &str,
    turn: &TurnRecord,
    entity: Option<&Entity>,
    at: Moment,
) -> Result<(), sqlx::Error> {
    sqlx::query(RECORD)
        .bind(id)
        .bind(entity.map(|e| e.kind.as_str()))
        .bind(entity.map(|e| e.value.as_str()))
        .bind(at.now)
        .bind(at.cutoff)
        .bind(turn.user_message.as_str())
        .bind(turn.answer.as_str())
        .bind(turn.backend.map(backend_name))
        .bind(micros(turn.time))
        .bind(MAX_TURNS as i64)
        .execute(conn)
        .await?;
    Ok(())
}

/// The live session `id` with its current turns, oldest first.
pub(super) async fn get(
    conn: &mut PgConnection,
    id: &str,
    cutoff: i64,
) -> Result<Option<Session>, sqlx::Error> {
    let rows: Vec<TurnRow> = sqlx::query_as(GET)
        .bind(id)
        .bind(cutoff)
        .fetch_all(conn)
        .await?;
    let Some((kind, value, ..)) = rows.first().cloned() else {
        return Ok(None);
    };
    let mut turns = Vec::with_capacity(rows.len());
    for (_, _, user_message, answer, backend, time) in rows {
        let (Some(user_message), Some(answer), Some(time)) = (user_message, answer, time) else {
            continue; // a session without turns: the outer join's one empty row
        };
        turns.push(TurnRecord {
            user_message,
            answer,
            backend: backend.as_deref().map(parse_backend).transpose()?,
            time: from_micros(time),
        });
    }
    Ok(Some(Session {
        turns,
        last_entity: entity(kind, value),
    }))
}

/// Deletes session `id`; whether it was live.
pub(super) async fn delete(
    conn: &mut PgConnection,
    id: &str,
    cutoff: i64,
) -> Result<bool, sqlx::Error> {
    let row: Option<(bool,)> = sqlx::query_as(DELETE)
        .bind(id)
        .bind(cutoff)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some_and(|(live,)| live))
}

/// Deletes up to `limit` sessions last used at or before `cutoff`; how many went.
pub(super) async fn sweep(
    conn: &mut PgConnection,
    cutoff: i64,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(SWEEP)
        .bind(cutoff)
        .bind(limit)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Proves the connection reaches a working database.
pub(super) async fn probe(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(conn).await.map(|_| ())
}

fn entity(kind: Option<String>, value: Option<String>) -> Option<Entity> {
    Some(Entity {
        kind: kind?,
        value: value?,
    })
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Graph => "graph",
        Backend::Vector => "vector",
        Backend::Relational => "relational",
    }
}

fn parse_backend(name: &str) -> Result<Backend, sqlx::Error> {
    match name {
        "graph" => Ok(Backend::Graph),
        "vector" => Ok(Backend::Vector),
        "relational" => Ok(Backend::Relational),
        other => Err(sqlx::Error::ColumnDecode {
            index: "backend".into(),
            source: format!("unknown backend '{other}' in the database").into(),
        }),
    }
}
