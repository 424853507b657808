-- Trigger mode (docs/design.md §9): one NOTIFY per event a statement touched, not per row. The trigger
-- itself is created or dropped by `pulse migrate` according to Notifications:DatabaseTrigger;
-- this function is harmless when no trigger uses it. Payload: "<event id> update".
CREATE OR REPLACE FUNCTION pulse_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pulse_events', t.event_id::text || ' update')
    FROM (SELECT DISTINCT k.event_id FROM pulse_new_rows n JOIN keywords k ON k.id = n.keyword_id) t;
    RETURN NULL;
END
$$;
