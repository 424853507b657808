-- Trigger mode and the incremental counts (docs/design.md §18): a tick reads only links inserted since
-- its previous snapshot, so it cannot see a link deleted or updated. The trigger function of 004 now
-- also names, on the channel 'pulse_repair', every event whose links a DELETE, UPDATE or TRUNCATE
-- touched; each node's next computation of that event then reads all its links. PostgreSQL delivers
-- one of equal notifications of a transaction (an INSERT's 'update' may come before the repair notice),
-- so a node also starts a computation on the repair notice itself. Without trigger mode the periodic
-- verification (Broadcast:VerifySeconds) repairs.
CREATE OR REPLACE FUNCTION pulse_notify_link_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT k.event_id FROM pulse_new_rows n JOIN keywords k ON k.id = n.keyword_id) t;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM pg_notify('pulse_repair', t.event_id::text), pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT k.event_id
              FROM (SELECT keyword_id FROM pulse_old_rows UNION SELECT keyword_id FROM pulse_new_rows) l
              JOIN keywords k ON k.id = l.keyword_id) t;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('pulse_repair', t.event_id::text), pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT k.event_id FROM pulse_old_rows o JOIN keywords k ON k.id = o.keyword_id) t;
    ELSE
        PERFORM pg_notify('pulse_repair', t.event_id::text), pg_notify('pulse_events', t.event_id::text || ' update')
        FROM (SELECT DISTINCT event_id FROM keywords) t;
    END IF;

    RETURN NULL;
END
$$;
