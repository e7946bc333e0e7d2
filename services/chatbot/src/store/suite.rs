//! The session stores' behaviour, written once and run on each store through the trait: the
//! in-memory store as a normal test, PostgreSQL as `#[ignore = "needs PostgreSQL"]` (run with
//! `--include-ignored` and `CHATMESH_TEST_POSTGRES_URL`, as CI does). Whatever a chatbot replica
//! relies on is here: the bounded history, the last entity, the TTL since last use (on a clock
//! the test moves, the same jump for both stores), isolation per session id, every concurrent
//! turn recorded, and the sweep deleting exactly the expired sessions.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatmesh_runtime::auth::Secret;
use chatmesh_test_support::postgres::TestDatabase;

use super::{Clock, MAX_TURNS, MemorySessions, SessionStore, Settings, open_with};
use crate::conversation::{Backend, Entity, TurnRecord};

/// Instantiates each named `async fn(Kind)` test for both stores.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Memory).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL"]
                async fn $name() {
                    super::$name(super::Kind::Postgres).await
                }
            )*
        }
    };
}

both_stores!(
    a_session_keeps_its_last_turns_and_entity,
    sessions_expire_after_the_ttl_since_last_use,
    sessions_are_isolated_by_id,
    concurrent_turns_of_one_session_are_all_recorded,
    a_sweep_deletes_the_expired_sessions_only,
);

#[derive(Debug, Clone, Copy)]
enum Kind {
    Memory,
    Postgres,
}

const TTL: Duration = Duration::from_secs(60);

/// A store under test, the clock it reads, and where its sessions physically are.
struct Subject {
    store: Arc<dyn SessionStore>,
    clock: Clock,
    memory: Option<Arc<MemorySessions>>,
    db: Option<TestDatabase>,
}

impl Subject {
    async fn new(kind: Kind) -> Self {
        let clock = Clock::default();
        let mut settings = Settings {
            ttl: TTL,
            max_sessions: 10_000,
            url: None,
            max_connections: 8,
            timeout: Duration::from_secs(10),
        };
        match kind {
            Kind::Memory => {
                let memory = Arc::new(MemorySessions::with_clock(
                    settings.ttl,
                    settings.max_sessions,
                    clock.clone(),
                ));
                Self {
                    store: memory.clone(),
                    clock,
                    memory: Some(memory),
                    db: None,
                }
            }
            Kind::Postgres => {
                let db = TestDatabase::create().await;
                settings.url = Some(db.url.parse::<Secret>().unwrap());
                let opened = open_with(&settings, clock.clone()).unwrap();
                opened.database.unwrap().connect().await.unwrap();
                Self {
                    store: opened.sessions,
                    clock,
                    memory: None,
                    db: Some(db),
                }
            }
        }
    }

    /// Sessions physically held, expired or not.
    async fn held(&self) -> usize {
        match (&self.memory, &self.db) {
            (Some(memory), _) => memory.len(),
            (_, Some(db)) => {
                let rows = db.query("SELECT count(*)::text FROM chat_sessions").await;
                rows[0].parse().unwrap()
            }
            _ => unreachable!("a subject has a store"),
        }
    }

    async fn record(&self, id: &str, message: &str, entity: Option<Entity>) {
        self.store.record(id, turn(message), entity).await.unwrap();
    }

    async fn messages(&self, id: &str) -> Vec<String> {
        let session = self.store.get(id).await.unwrap();
        let turns = session.map(|s| s.turns).unwrap_or_default();
        turns.into_iter().map(|t| t.user_message).collect()
    }
}

/// A turn with a time in whole microseconds (what PostgreSQL keeps).
fn turn(text: &str) -> TurnRecord {
    TurnRecord {
        user_message: text.into(),
        answer: format!("answer to {text}"),
        backend: Some(Backend::Graph),
        time: UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456),
    }
}

fn person(name: &str) -> Option<Entity> {
    Some(Entity::new("person_name", name))
}

async fn a_session_keeps_its_last_turns_and_entity(kind: Kind) {
    let s = Subject::new(kind).await;
    assert_eq!(s.store.get("s").await.unwrap(), None);
    let mut first = turn("q1");
    first.backend = None;
    first.time = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
    s.store
        .record("s", first.clone(), person("Ada Lovelace"))
        .await
        .unwrap();
    s.record("s", "q2", None).await;
    let session = s.store.get("s").await.unwrap().unwrap();
    assert_eq!(session.turns, vec![first, turn("q2")], "every field kept");
    assert_eq!(
        session.last_entity,
        person("Ada Lovelace"),
        "None keeps the entity"
    );
    s.record("s", "q3", Some(Entity::new("order_id", "100001")))
        .await;
    assert_eq!(
        s.store.last_entity("s").await.unwrap(),
        Some(Entity::new("order_id", "100001"))
    );
    history_is_bounded_and_deletable(&s).await;
}

/// The second half of the turns test: the history keeps the newest turns; delete starts afresh.
async fn history_is_bounded_and_deletable(s: &Subject) {
    for i in 0..(MAX_TURNS + 5) {
        s.record("s", &format!("t{i}"), None).await;
    }
    let messages = s.messages("s").await;
    assert_eq!(messages.len(), MAX_TURNS);
    assert_eq!(messages[0], "t5", "the oldest are dropped");
    assert_eq!(messages[MAX_TURNS - 1], format!("t{}", MAX_TURNS + 4));
    assert!(s.store.delete("s").await.unwrap());
    assert!(!s.store.delete("s").await.unwrap());
    assert_eq!(s.store.last_entity("s").await.unwrap(), None);
    s.record("s", "again", None).await;
    let session = s.store.get("s").await.unwrap().unwrap();
    assert_eq!(session.turns.len(), 1, "a deleted session starts afresh");
    assert_eq!(session.last_entity, None);
}

async fn sessions_expire_after_the_ttl_since_last_use(kind: Kind) {
    let s = Subject::new(kind).await;
    s.record("s", "q", person("Ada Lovelace")).await;
    s.clock.advance(TTL - Duration::from_secs(1));
    assert!(s.store.last_entity("s").await.unwrap().is_some());
    s.record("s", "q", None).await;
    s.clock.advance(TTL - Duration::from_secs(1));
    assert!(
        s.store.get("s").await.unwrap().is_some(),
        "use renews the ttl"
    );
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(s.store.get("s").await.unwrap(), None);
    assert_eq!(s.store.last_entity("s").await.unwrap(), None);
    assert!(
        !s.store.delete("s").await.unwrap(),
        "an expired session did not exist"
    );
    an_expired_life_is_not_read(&s).await;
}

/// After expiry, nothing of the old life (turns, entity) comes back.
async fn an_expired_life_is_not_read(s: &Subject) {
    s.record("s", "q", person("Grace Hopper")).await;
    s.clock.advance(TTL);
    s.record("s", "new life", None).await;
    let session = s.store.get("s").await.unwrap().unwrap();
    assert_eq!(
        session.turns.len(),
        1,
        "nothing of the expired life is read"
    );
    assert_eq!(session.turns[0].user_message, "new life");
    assert_eq!(session.last_entity, None, "nor its entity");
    if let Some(db) = &s.db {
        let turns = db.query("SELECT count(*)::text FROM chat_turns").await;
        assert_eq!(turns, ["1"], "the expired life's turns are deleted");
    }
}

async fn sessions_are_isolated_by_id(kind: Kind) {
    let s = Subject::new(kind).await;
    s.record("a", "about Ada", person("Ada Lovelace")).await;
    s.record("A", "about Grace", person("Grace Hopper")).await;
    s.record("a:1", "nothing", None).await;
    assert_eq!(s.messages("a").await, ["about Ada"]);
    assert_eq!(
        s.messages("A").await,
        ["about Grace"],
        "ids are case-sensitive"
    );
    assert_eq!(
        s.store.last_entity("A").await.unwrap(),
        person("Grace Hopper")
    );
    assert_eq!(s.store.last_entity("a:1").await.unwrap(), None);
    assert!(s.store.delete("a").await.unwrap());
    assert_eq!(s.messages("A").await, ["about Grace"]);
    assert_eq!(s.messages("a:1").await, ["nothing"]);
}

/// `n` turns fired at once at session `id`, each from its own task.
async fn fire(s: &Subject, id: &str, n: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (store, id) = (Arc::clone(&s.store), id.to_owned());
        tasks.spawn(async move {
            let entity = Entity::new("order_id", i.to_string());
            store.record(&id, turn(&i.to_string()), Some(entity)).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
}

async fn concurrent_turns_of_one_session_are_all_recorded(kind: Kind) {
    let s = Subject::new(kind).await;
    fire(&s, "few", 64).await;
    let recorded: BTreeSet<usize> = s
        .messages("few")
        .await
        .iter()
        .map(|m| m.parse().unwrap())
        .collect();
    assert_eq!(recorded, (0..64).collect(), "every turn, each once");
    let last = s.store.last_entity("few").await.unwrap().unwrap();
    assert!(last.value.parse::<usize>().unwrap() < 64, "{last:?}");

    let n = MAX_TURNS + 40;
    fire(&s, "many", n).await;
    let messages = s.messages("many").await;
    let distinct: BTreeSet<&String> = messages.iter().collect();
    assert_eq!(messages.len(), MAX_TURNS, "bounded by the history limit");
    assert_eq!(distinct.len(), MAX_TURNS, "no turn twice");
    s.record("many", "after", None).await;
    let messages = s.messages("many").await;
    assert_eq!(
        (messages.len(), messages.last()),
        (MAX_TURNS, Some(&"after".into()))
    );
}

async fn a_sweep_deletes_the_expired_sessions_only(kind: Kind) {
    let s = Subject::new(kind).await;
    for id in ["old", "renewed", "fresh"] {
        s.record(id, "q", None).await;
    }
    s.clock.advance(Duration::from_secs(30));
    s.record("renewed", "q", None).await;
    s.clock.advance(Duration::from_secs(30));
    s.record("fresh", "q", None).await;
    assert_eq!(s.held().await, 3);
    assert_eq!(
        s.store.sweep().await.unwrap(),
        1,
        "only 'old' is 60 s unused"
    );
    the_rest_goes_at_the_ttl(&s).await;
}

/// The second sweep: what was left goes once the ttl passes, turns included.
async fn the_rest_goes_at_the_ttl(s: &Subject) {
    assert_eq!(s.held().await, 2);
    assert_eq!(s.store.get("old").await.unwrap(), None);
    assert_eq!(s.messages("renewed").await, ["q", "q"]);
    assert_eq!(s.store.sweep().await.unwrap(), 0);
    s.clock.advance(TTL);
    assert_eq!(s.store.sweep().await.unwrap(), 2);
    assert_eq!(s.held().await, 0);
    if let Some(db) = &s.db {
        let turns = db.query("SELECT count(*)::text FROM chat_turns").await;
        assert_eq!(turns, ["0"], "a swept session's turns go with it");
    }
}
