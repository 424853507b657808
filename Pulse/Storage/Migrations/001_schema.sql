-- The tables of docs/design.md §4. IF NOT EXISTS: on a database the background jobs already fill, the
-- tables exist and are left as they are; only what is missing is created.
CREATE TABLE IF NOT EXISTS events (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    start_at   timestamptz NOT NULL,
    end_at     timestamptz NOT NULL,
    created_at timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS keywords (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id uuid NOT NULL REFERENCES events,
    query    text NOT NULL,
    name     text NOT NULL
);

CREATE TABLE IF NOT EXISTS uniq_entries (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    hashtags      text[],
    user_mentions text[],
    flat_text     text,
    kind          integer,
    created_at    timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS uniq_entry_keywords (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    uniq_entry_id uuid NOT NULL REFERENCES uniq_entries,
    keyword_id    uuid NOT NULL REFERENCES keywords,
    created_at    timestamptz NOT NULL
);

-- The view-model statement walks keywords by event, then links by keyword inside the window;
-- with uniq_entry_id included the links are read from the index alone.
CREATE INDEX IF NOT EXISTS keywords_event_id_idx ON keywords (event_id);
CREATE INDEX IF NOT EXISTS uniq_entry_keywords_keyword_created_idx
    ON uniq_entry_keywords (keyword_id, created_at) INCLUDE (uniq_entry_id);
-- The event list is ordered by start_at descending, then id.
CREATE INDEX IF NOT EXISTS events_start_at_id_idx ON events (start_at DESC, id);

-- API keys: only the SHA-256 of the key is stored (keys are 256 random bits, so a plain hash
-- cannot be brute-forced and needs no salt or slow KDF).
CREATE TABLE IF NOT EXISTS api_keys (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    key_hash   bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
