-- Ticks that read only what changed (docs/design.md §18): every link records the transaction that
-- wrote it, and Pulse reads the links whose transaction its previous snapshot did not see.
-- ADD COLUMN without a default is a catalog change only (no table rewrite, however many rows): the
-- links already there keep NULL and are read by the first full read of their event, which every
-- event gets. SET DEFAULT then applies to rows inserted from now on; pg_current_xact_id() is the
-- writer's top-level transaction id (xid8: 64 bits, it never wraps around).
-- ALTER TABLE waits for every transaction that holds the table, and everyone else then waits behind it:
-- give up after 10 s (the migration fails with that message and can be run again) rather than stall
-- the writers behind a long transaction. Transaction-local: it ends with the migration.
SET LOCAL lock_timeout = '10s';
ALTER TABLE uniq_entry_keywords ADD COLUMN IF NOT EXISTS pulse_xact xid8;
ALTER TABLE uniq_entry_keywords ALTER COLUMN pulse_xact SET DEFAULT pg_current_xact_id();

-- The delta read walks this index per keyword of its event: one range (from the previous snapshot's
-- xmax) and a few points (its in-progress transactions), so a tick reads its own event's new links
-- and nothing else, however long ago its previous read was and however many other battles write.
-- Partial: the links from before this migration are never looked up by it.
-- Right after the ADD COLUMN every existing link has NULL, so the partial index starts empty, but
-- building it reads the table once while this transaction holds ALTER TABLE's lock: on a busy table
-- of millions of links, docs/operations.md shows how to do both steps by hand first, CONCURRENTLY.
CREATE INDEX IF NOT EXISTS uniq_entry_keywords_keyword_xact_idx ON uniq_entry_keywords (keyword_id, pulse_xact) WHERE pulse_xact IS NOT NULL;
