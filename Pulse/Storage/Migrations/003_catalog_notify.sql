-- Catalogs (Storage/TableCopy.cs): every node keeps the active API keys and the event ids in memory.
-- A statement that changes either table notifies the channel 'pulse_catalog' with the table's name
-- at commit, and every node's LISTEN connection re-reads that table at once: a revoked or deleted key
-- stops working, a new event or key is found, within milliseconds on every node. One NOTIFY per
-- statement, not per row (PostgreSQL also folds equal notifications of one transaction into one).
-- TRUNCATE fires no row trigger, hence its own statement-level trigger.
CREATE OR REPLACE FUNCTION pulse_notify_catalog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pulse_catalog', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS pulse_catalog_api_keys ON api_keys;
CREATE TRIGGER pulse_catalog_api_keys AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION pulse_notify_catalog();

DROP TRIGGER IF EXISTS pulse_catalog_events ON events;
CREATE TRIGGER pulse_catalog_events AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION pulse_notify_catalog();
