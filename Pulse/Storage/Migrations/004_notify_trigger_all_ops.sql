-- Trigger mode on every change of the links (docs/design.md §9), superseding the INSERT-only trigger of 002:
-- `pulse migrate` installs four statement-level triggers on uniq_entry_keywords that run this
-- function (one per operation: PostgreSQL allows transition tables only on a trigger of a single
-- event), or removes them, according to Notifications:DatabaseTrigger.
--   INSERT    NEW TABLE pulse_new_rows: the events of the new links;
--   UPDATE    OLD TABLE pulse_old_rows, NEW TABLE pulse_new_rows: the events of the links before and
--             after, so a link moved from one keyword (or event) to another updates both screens;
--   DELETE    OLD TABLE pulse_old_rows: the events of the links gone (spam removed: counts go down);
--   TRUNCATE  no rows to see (PostgreSQL gives TRUNCATE triggers no transition tables): every event
--             that has keywords, since every link of every event is gone. Each node then recomputes
--             each of them once; TRUNCATE is a maintenance step, not something background jobs do.
-- One pg_notify per distinct event a statement touched, not per row: a 1,000-row batch of one event
-- is one NOTIFY. Payload "<event id> update", as NotificationPayload reads it.
-- pulse_notify_events() of 002 is left in place, unused: a node of the previous version that runs
-- `pulse migrate` during a rolling upgrade still finds the function its trigger names.
CREATE OR REPLACE FUNCTION pulse_notify_link_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- PL/pgSQL plans a statement when it first runs it, per trigger: each trigger only ever runs
    -- the branch that names the transition tables it has.
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT k.event_id FROM pulse_new_rows n JOIN keywords k ON k.id = n.keyword_id) t;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT k.event_id
              FROM (SELECT keyword_id FROM pulse_old_rows UNION SELECT keyword_id FROM pulse_new_rows) l
              JOIN keywords k ON k.id = l.keyword_id) t;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT k.event_id FROM pulse_old_rows o JOIN keywords k ON k.id = o.keyword_id) t;
    ELSE
        PERFORM pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT event_id FROM keywords) t;
    END IF;

    RETURN NULL;
END
$$;
