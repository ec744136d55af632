/** First key of the advisory lock that serialises the starts of one owner (the second is a hash of the owner). */
const START_LOCK = 0x7761_7973;

/**
 * The condition "a start of `p_owner` that has not finished", on `wayflow_sync_links l`: a link
 * left without an instance by an older version counts as a start; instances linked to the owner
 * by server code (`SyncLinks.link`, keys `link:…`) are not its starts and do not count.
 */
const UNFINISHED = `l.idempotency_key NOT LIKE 'link:%'
  AND (l.instance_id IS NULL OR EXISTS (SELECT 1 FROM wayflow_automation_instances i WHERE i.id = l.instance_id AND NOT i.finished))`;
const UNFINISHED_START = `l.owner = p_owner AND ${UNFINISHED}`;

/** Migration 1105's flagging of the links already stored: `open` when the link is an unfinished start. */
export const OPEN_STARTS_BACKFILL = `UPDATE wayflow_sync_links l SET open = true WHERE ${UNFINISHED}`;

/**
 * Migration 1104's text of the function (applied migrations are never edited; 1105 replaces
 * it by `recordStartFunction`), which records a start's key in one round trip: `wayflow_record_start(owner, key,
 * automation, instance id, now, max)`. With a cap (`max` not null) it first takes a
 * transaction advisory lock per owner, so concurrent starts of one owner wait for each
 * other's transaction; then inserts the key unless the owner already has `max` unfinished
 * starts (a plpgsql statement sees what committed before it began, after the lock), or takes
 * over a reservation left by an older version. It answers `recorded`, `earlier` with the
 * instance and automation of the start that holds the key, or `full`.
 */
export const recordStartFunction1104 = `
  CREATE OR REPLACE FUNCTION wayflow_record_start(p_owner text, p_key text, p_automation text, p_instance text, p_now double precision, p_max integer)
  RETURNS TABLE (outcome text, instance_id text, automation text) LANGUAGE plpgsql VOLATILE AS $body$
  #variable_conflict use_column
  BEGIN
    IF p_max IS NOT NULL THEN
      PERFORM pg_advisory_xact_lock(${START_LOCK}, hashtext(p_owner));
    END IF;
    INSERT INTO wayflow_sync_links AS s (owner, idempotency_key, automation, instance_id, created_at)
    SELECT p_owner, p_key, p_automation, p_instance, p_now
    WHERE p_max IS NULL OR (SELECT count(*) FROM wayflow_sync_links l WHERE ${UNFINISHED_START}) < p_max
    ON CONFLICT (owner, idempotency_key) DO UPDATE SET automation = EXCLUDED.automation, instance_id = EXCLUDED.instance_id, created_at = EXCLUDED.created_at
    WHERE s.instance_id IS NULL;
    IF FOUND THEN
      RETURN QUERY SELECT 'recorded'::text, NULL::text, NULL::text;
      RETURN;
    END IF;
    RETURN QUERY SELECT 'earlier'::text, l.instance_id, l.automation FROM wayflow_sync_links l
      WHERE l.owner = p_owner AND l.idempotency_key = p_key AND l.instance_id IS NOT NULL;
    IF NOT FOUND THEN
      RETURN QUERY SELECT CASE WHEN p_max IS NULL THEN 'recorded' ELSE 'full' END, NULL::text, NULL::text;
    END IF;
  END
  $body$
`;

/**
 * Which links count toward their owner's cap, kept in `wayflow_sync_links.open` by sync
 * migration 1105: a start key whose instance has not finished (or a reservation of an older
 * version, without an instance). The start sets it; these triggers clear it in the transaction
 * that finishes or deletes the instance (or inserts it finished: a start that ran to its end),
 * touching only that instance's links (no lock another transaction could hold in another order).
 */
export const openStartTriggers = [
  `CREATE OR REPLACE FUNCTION wayflow_sync_close_starts() RETURNS trigger LANGUAGE plpgsql AS $body$
  BEGIN
    UPDATE wayflow_sync_links SET open = false WHERE instance_id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END) AND open;
    RETURN NULL;
  END
  $body$`,
  `CREATE TRIGGER wayflow_sync_close_starts_finished AFTER UPDATE OF finished ON wayflow_automation_instances
    FOR EACH ROW WHEN (NEW.finished AND NOT OLD.finished) EXECUTE FUNCTION wayflow_sync_close_starts()`,
  `CREATE TRIGGER wayflow_sync_close_starts_inserted AFTER INSERT ON wayflow_automation_instances
    FOR EACH ROW WHEN (NEW.finished) EXECUTE FUNCTION wayflow_sync_close_starts()`,
  `CREATE TRIGGER wayflow_sync_close_starts_deleted AFTER DELETE ON wayflow_automation_instances
    FOR EACH ROW WHEN (NOT OLD.finished) EXECUTE FUNCTION wayflow_sync_close_starts()`,
];

/**
 * The function that records a start's key in one round trip: `wayflow_record_start(owner, key,
 * automation, instance id, now, max)`. With a cap (`max` not null) it first takes a
 * transaction advisory lock per owner, so concurrent starts of one owner wait for each
 * other's transaction; then inserts the key (open, unless it names an instance that has
 * finished) unless the owner already has `max` open starts, counted on the partial index of
 * open links and at most `max` of them (a plpgsql statement sees what committed before it
 * began, after the lock), or takes over a reservation left by an older version. It answers
 * `recorded`, `earlier` with the instance and automation of the start that holds the key, or `full`.
 */
export const recordStartFunction = `
  CREATE OR REPLACE FUNCTION wayflow_record_start(p_owner text, p_key text, p_automation text, p_instance text, p_now double precision, p_max integer)
  RETURNS TABLE (outcome text, instance_id text, automation text) LANGUAGE plpgsql VOLATILE AS $body$
  #variable_conflict use_column
  BEGIN
    IF p_max IS NOT NULL THEN
      PERFORM pg_advisory_xact_lock(${START_LOCK}, hashtext(p_owner));
    END IF;
    INSERT INTO wayflow_sync_links AS s (owner, idempotency_key, automation, instance_id, created_at, open)
    SELECT p_owner, p_key, p_automation, p_instance, p_now,
      NOT EXISTS (SELECT 1 FROM wayflow_automation_instances i WHERE i.id = p_instance AND i.finished)
    WHERE p_max IS NULL OR (SELECT count(*) FROM (SELECT 1 FROM wayflow_sync_links l WHERE l.owner = p_owner AND l.open LIMIT p_max) AS counted) < p_max
    ON CONFLICT (owner, idempotency_key) DO UPDATE SET automation = EXCLUDED.automation, instance_id = EXCLUDED.instance_id, created_at = EXCLUDED.created_at, open = EXCLUDED.open
    WHERE s.instance_id IS NULL;
    IF FOUND THEN
      RETURN QUERY SELECT 'recorded'::text, NULL::text, NULL::text;
      RETURN;
    END IF;
    RETURN QUERY SELECT 'earlier'::text, l.instance_id, l.automation FROM wayflow_sync_links l
      WHERE l.owner = p_owner AND l.idempotency_key = p_key AND l.instance_id IS NOT NULL;
    IF NOT FOUND THEN
      RETURN QUERY SELECT CASE WHEN p_max IS NULL THEN 'recorded' ELSE 'full' END, NULL::text, NULL::text;
    END IF;
  END
  $body$
`;
