//! Sessions in this process's memory (the default store): [`MemorySessions`] keeps at most
//! `max_sessions` sessions, each for `ttl` after its last use, and evicts the least recently
//! used when full. One lock guards the map and the recency index; every operation is a few map
//! updates, so the async trait answers inline. An expired session is dropped when it is next
//! touched, or by the periodic sweep, which walks the recency index from the oldest end.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use super::{Clock, MAX_TURNS, SessionStore, StoreError};
use crate::conversation::{Entity, Session, TurnRecord as Turn};

struct Entry {
    turns: VecDeque<Turn>,
    last_entity: Option<Entity>,
    last_used: Instant,
    /// Position in the recency index.
    tick: u64,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Entry>,
    /// tick → session id, oldest first.
    recency: BTreeMap<u64, String>,
    next_tick: u64,
}

impl Inner {
    /// The live entry of `id`, dropping it when it has expired.
    fn live(&mut self, id: &str, ttl: Duration, now: Instant) -> Option<&mut Entry> {
        let expired = self
            .sessions
            .get(id)
            .is_some_and(|e| now.duration_since(e.last_used) >= ttl);
        if expired {
            self.remove(id);
        }
        self.sessions.get_mut(id)
    }

    fn remove(&mut self, id: &str) -> bool {
        match self.sessions.remove(id) {
            Some(entry) => {
                self.recency.remove(&entry.tick);
                true
            }
            None => false,
        }
    }

    fn touch(&mut self, id: &str, now: Instant) {
        let tick = self.next_tick;
        self.next_tick += 1;
        if let Some(entry) = self.sessions.get_mut(id) {
            self.recency.remove(&entry.tick);
            entry.tick = tick;
            entry.last_used = now;
            self.recency.insert(tick, id.to_owned());
        }
    }
}

/// Sessions a sweep drops per hold of the lock, so that chats never wait long behind it.
const SWEEP_BATCH: usize = 1024;

/// Sessions in this process's memory.
pub(crate) struct MemorySessions {
    inner: Mutex<Inner>,
    ttl: Duration,
    max_sessions: usize,
    clock: Clock,
}

impl MemorySessions {
    /// A store keeping up to `max_sessions` sessions, each for `ttl` after its last use.
    #[cfg(test)]
    pub(crate) fn new(ttl: Duration, max_sessions: usize) -> Self {
        Self::with_clock(ttl, max_sessions, Clock::default())
    }

    /// [`MemorySessions::new`] reading the time from `clock`.
    pub(crate) fn with_clock(ttl: Duration, max_sessions: usize, clock: Clock) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            ttl,
            max_sessions: max_sessions.max(1),
            clock,
        }
    }

    /// Sessions currently held (expired ones may still count until touched or evicted).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().sessions.len()
    }

    fn last_entity_at(&self, session_id: &str, now: Instant) -> Option<Entity> {
        let mut inner = self.inner.lock();
        inner
            .live(session_id, self.ttl, now)
            .and_then(|e| e.last_entity.clone())
    }

    fn record_at(&self, session_id: &str, turn: Turn, entity: Option<Entity>, now: Instant) {
        let mut inner = self.inner.lock();
        if inner.live(session_id, self.ttl, now).is_none() {
            // Make room: the least recently used go first (expired ones are among them).
            while inner.sessions.len() >= self.max_sessions {
                let Some((_, oldest)) = inner.recency.pop_first() else {
                    break;
                };
                inner.sessions.remove(&oldest);
            }
            inner.sessions.insert(
                session_id.to_owned(),
                Entry {
                    turns: VecDeque::new(),
                    last_entity: None,
                    last_used: now,
                    tick: u64::MAX,
                },
            );
        }
        if let Some(entry) = inner.sessions.get_mut(session_id) {
            if entry.turns.len() == MAX_TURNS {
                entry.turns.pop_front();
            }
            entry.turns.push_back(turn);
            if entity.is_some() {
                entry.last_entity = entity;
            }
        }
        inner.touch(session_id, now);
    }

    fn get_at(&self, session_id: &str, now: Instant) -> Option<Session> {
        let mut inner = self.inner.lock();
        inner.live(session_id, self.ttl, now).map(|e| Session {
            turns: e.turns.iter().cloned().collect(),
            last_entity: e.last_entity.clone(),
        })
    }

    fn delete_at(&self, session_id: &str, now: Instant) -> bool {
        let mut inner = self.inner.lock();
        let existed = inner.live(session_id, self.ttl, now).is_some();
        inner.remove(session_id);
        existed
    }

    /// Drops expired sessions, least recently used first, until it meets a live one.
    fn sweep_at(&self, now: Instant) -> u64 {
        let mut gone = 0;
        loop {
            let mut inner = self.inner.lock();
            for _ in 0..SWEEP_BATCH {
                let Some((_, oldest)) = inner.recency.first_key_value() else {
                    return gone;
                };
                let expired = inner
                    .sessions
                    .get(oldest)
                    .is_none_or(|e| now.duration_since(e.last_used) >= self.ttl);
                if !expired {
                    return gone;
                }
                let oldest = oldest.clone();
                inner.remove(&oldest);
                gone += 1;
            }
        }
    }
}

#[tonic::async_trait]
impl SessionStore for MemorySessions {
    async fn last_entity(&self, session_id: &str) -> Result<Option<Entity>, StoreError> {
        Ok(self.last_entity_at(session_id, self.clock.instant()))
    }

    async fn record(
        &self,
        session_id: &str,
        turn: Turn,
        entity: Option<Entity>,
    ) -> Result<(), StoreError> {
        self.record_at(session_id, turn, entity, self.clock.instant());
        Ok(())
    }

    async fn get(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.get_at(session_id, self.clock.instant()))
    }

    async fn delete(&self, session_id: &str) -> Result<bool, StoreError> {
        Ok(self.delete_at(session_id, self.clock.instant()))
    }

    async fn sweep(&self) -> Result<u64, StoreError> {
        Ok(self.sweep_at(self.clock.instant()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(text: &str) -> Turn {
        Turn {
            user_message: text.into(),
            answer: format!("answer to {text}"),
            backend: None,
            time: std::time::SystemTime::UNIX_EPOCH,
        }
    }

    fn person(name: &str) -> Option<Entity> {
        Some(Entity::new("person_name", name))
    }

    #[tokio::test]
    async fn a_session_keeps_its_last_turns_and_entity() {
        let store = MemorySessions::new(Duration::from_secs(60), 10);
        assert_eq!(store.get("s").await.unwrap(), None);
        store
            .record("s", turn("q1"), person("Ada Lovelace"))
            .await
            .unwrap();
        store.record("s", turn("q2"), None).await.unwrap();
        let session = store.get("s").await.unwrap().unwrap();
        assert_eq!(session.turns.len(), 2);
        assert_eq!(session.turns[0].user_message, "q1");
        assert_eq!(
            session.last_entity,
            person("Ada Lovelace"),
            "None keeps the entity"
        );
        for i in 0..(MAX_TURNS + 5) {
            store
                .record("s", turn(&format!("t{i}")), None)
                .await
                .unwrap();
        }
        let session = store.get("s").await.unwrap().unwrap();
        assert_eq!(session.turns.len(), MAX_TURNS);
        assert_eq!(
            session.turns[0].user_message, "t5",
            "the oldest are dropped"
        );
        assert!(store.delete("s").await.unwrap());
        assert!(!store.delete("s").await.unwrap());
        assert_eq!(store.last_entity("s").await.unwrap(), None);
    }

    #[test]
    fn sessions_expire_after_the_ttl_since_last_use() {
        let store = MemorySessions::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        store.record_at("s", turn("q"), person("Ada Lovelace"), at(0));
        assert!(store.last_entity_at("s", at(59)).is_some());
        store.record_at("s", turn("q"), None, at(59));
        assert!(store.get_at("s", at(118)).is_some(), "use renews the ttl");
        assert_eq!(store.get_at("s", at(119)), None);
        assert_eq!(store.len(), 0, "an expired session is dropped when seen");
        assert!(!store.delete_at("s", at(120)));
    }

    #[tokio::test]
    async fn a_full_store_evicts_the_least_recently_used() {
        let store = MemorySessions::new(Duration::from_secs(60), 2);
        store.record("a", turn("q"), None).await.unwrap();
        store.record("b", turn("q"), None).await.unwrap();
        store.record("a", turn("q"), None).await.unwrap();
        store.record("c", turn("q"), None).await.unwrap();
        assert_eq!(store.len(), 2);
        assert!(store.get("a").await.unwrap().is_some());
        assert!(
            store.get("b").await.unwrap().is_none(),
            "b was least recently used"
        );
        assert!(store.get("c").await.unwrap().is_some());
    }
}
