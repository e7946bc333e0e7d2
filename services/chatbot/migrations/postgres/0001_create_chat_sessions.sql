-- Version 1: chat sessions shared by every chatbot replica. Released migrations are never edited;
-- a change is a new file. Times are microseconds since the Unix epoch, UTC (as in the relational
-- service), taken from the clock of the replica that wrote them.
--
-- One row per session. Every turn updates it (ON CONFLICT DO UPDATE), which takes the row's lock:
-- the turns of one session are numbered one after the other by last_seq, never twice the same.
-- A session that expired but was not yet swept and is used again starts a new life: first_seq
-- moves past the old turns, which are never read again.
CREATE TABLE chat_sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    last_seq     BIGINT NOT NULL,
    first_seq    BIGINT NOT NULL,
    entity_kind  TEXT,
    entity_value TEXT,
    last_used_us BIGINT NOT NULL,
    CONSTRAINT chat_sessions_id_length CHECK (char_length(id) BETWEEN 1 AND 128),
    CONSTRAINT chat_sessions_entity_whole CHECK ((entity_kind IS NULL) = (entity_value IS NULL)),
    CONSTRAINT chat_sessions_seq_order CHECK (first_seq BETWEEN 1 AND last_seq)
);

-- The periodic sweep deletes the sessions unused for longer than the TTL, oldest first.
CREATE INDEX chat_sessions_last_used_idx ON chat_sessions (last_used_us);

-- The bounded history as a ring: turn number seq goes to slot seq % <history bound>, replacing
-- the turn that many turns older, so a session never holds more rows than the bound and no
-- statement has to trim it.
CREATE TABLE chat_turns (
    session_id   TEXT COLLATE "C" NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    slot         INTEGER NOT NULL,
    seq          BIGINT  NOT NULL,
    user_message TEXT    NOT NULL,
    answer       TEXT    NOT NULL,
    backend      TEXT,
    time_us      BIGINT  NOT NULL,
    PRIMARY KEY (session_id, slot),
    CONSTRAINT chat_turns_backend_known CHECK (backend IN ('graph', 'vector', 'relational')),
    CONSTRAINT chat_turns_seq_positive CHECK (seq >= 1)
);
