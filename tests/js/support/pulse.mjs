// Shared helpers for the end-to-end tests: environment, SQL ground truth, notifications,
// server restarts. Every input comes from the environment; a missing one fails the test.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const required = ["PULSE_URL", "PULSE_API_KEY", "PULSE_DATABASE_URL", "PULSE_EVENT_ID", "PULSE_RESTART_SCRIPT"];

/** Reads every required variable, or throws one message naming all that are missing. */
export function readEnv() {
  const missing = required.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment: ${missing.join(", ")}. These tests run against a live Pulse: ` +
      "PULSE_URL (http://127.0.0.1:4000), PULSE_API_KEY, PULSE_DATABASE_URL, PULSE_EVENT_ID " +
      "(a running event with keywords), PULSE_RESTART_SCRIPT (restarts the server on the same port).");
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const artifacts = process.env.PULSE_ARTIFACTS || path.join(here, "..", "artifacts");
  fs.mkdirSync(artifacts, { recursive: true });
  return {
    url: process.env.PULSE_URL.replace(/\/+$/, ""),
    apiKey: process.env.PULSE_API_KEY,
    databaseUrl: process.env.PULSE_DATABASE_URL,
    eventId: process.env.PULSE_EVENT_ID.toLowerCase(),
    restartScript: process.env.PULSE_RESTART_SCRIPT,
    artifacts,
  };
}

/** pg takes URLs; Npgsql keyword strings ("Host=…;Username=…") are mapped by hand. */
export function pgConfig(databaseUrl) {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    return { connectionString: databaseUrl };
  }
  const keys = {
    host: "host", server: "host", port: "port", database: "database", db: "database",
    username: "user", "user id": "user", userid: "user", user: "user", password: "password",
  };
  const config = {};
  for (const part of databaseUrl.split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const key = keys[part.slice(0, at).trim().toLowerCase()];
    if (key) config[key] = part.slice(at + 1).trim();
  }
  if (config.port) config.port = Number(config.port);
  return config;
}

export async function connectDatabase(env) {
  const client = new pg.Client(pgConfig(env.databaseUrl));
  await client.connect();
  return client;
}

/** The numbers of docs/design.md §5 straight from SQL: per query and total, distinct entries in the window. */
export async function sqlCounts(db, eventId) {
  const perQuery = await db.query(
    `SELECT k.query, COUNT(DISTINCT uek.uniq_entry_id)::int AS count
       FROM events e
       JOIN keywords k ON k.event_id = e.id
       LEFT JOIN uniq_entry_keywords uek
         ON uek.keyword_id = k.id AND uek.created_at >= e.start_at AND uek.created_at < e.end_at
      WHERE e.id = $1
      GROUP BY k.query
      ORDER BY k.query COLLATE "C"`, [eventId]);
  const total = await db.query(
    `SELECT COUNT(DISTINCT uek.uniq_entry_id)::int AS total
       FROM events e
       JOIN keywords k ON k.event_id = e.id
       JOIN uniq_entry_keywords uek
         ON uek.keyword_id = k.id AND uek.created_at >= e.start_at AND uek.created_at < e.end_at
      WHERE e.id = $1`, [eventId]);
  assert.ok(perQuery.rows.length > 0, `event ${eventId} has no keywords (or does not exist)`);
  return { total: total.rows[0].total, queries: perQuery.rows.map((r) => ({ query: r.query, count: r.count })) };
}

/**
 * INSERTs `count` tweets for one keyword of the event (the first keyword of the `side`-th
 * query in code-point order), as the background jobs would. Their time is now, clamped into the event's window.
 * Returns the query (side) they count for.
 */
export async function insertEntries(db, eventId, count, side = 0) {
  const keywords = await db.query(
    `SELECT DISTINCT ON (query COLLATE "C") id, query FROM keywords WHERE event_id = $1
      ORDER BY query COLLATE "C", name COLLATE "C"`, [eventId]);
  assert.ok(keywords.rows.length > 0, `event ${eventId} has no keywords`);
  const keyword = keywords.rows[side % keywords.rows.length];
  await db.query(
    `WITH at AS (
       SELECT GREATEST(start_at, LEAST(now(), end_at - interval '1 millisecond')) AS t FROM events WHERE id = $1),
     entries AS (
       INSERT INTO uniq_entries (hashtags, user_mentions, flat_text, kind, created_at)
       SELECT ARRAY[$3::text], ARRAY[]::text[], $4::text, 1, at.t FROM at, generate_series(1, $2::int)
       RETURNING id, created_at)
     INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at)
     SELECT entries.id, $5::uuid, entries.created_at FROM entries`,
    [eventId, count, keyword.query, `pulse js test ${new Date().toISOString()}`, keyword.id]);
  return keyword.query;
}

/** POST /v1/events as a background job would after its INSERTs; expects 204. */
export async function notify(env, name) {
  const response = await fetch(`${env.url}/v1/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ topic: `event:${env.eventId}`, event: name, payload: { event_id: env.eventId } }),
  });
  assert.equal(response.status, 204, `POST /v1/events answered ${response.status}: ${await response.text()}`);
}

/** Asserts a view model carries exactly the SQL numbers, and its minutes add up to them. */
export function assertModelMatches(model, expected) {
  assert.equal(model.total, expected.total, "total");
  assert.deepEqual(model.queries.map((q) => [q.query, q.count]), expected.queries.map((q) => [q.query, q.count]), "per-query counts");
  for (const q of model.queries) {
    const sum = q.time_series.reduce((acc, point) => acc + point.count, 0);
    assert.equal(sum, q.count, `time_series of ${q.query} sums to its count`);
  }
}

export function modelMatches(model, expected) {
  try {
    assertModelMatches(model, expected);
    return true;
  } catch {
    return false;
  }
}

/** Runs PULSE_RESTART_SCRIPT (its output goes to a log in the artifacts folder); resolves when it exits 0. */
export function restartServer(env, label, timeoutMs = 90_000) {
  const log = fs.openSync(path.join(env.artifacts, `restart-${label}.log`), "a");
  const child = fs.existsSync(env.restartScript)
    ? spawn("bash", [env.restartScript], { stdio: ["ignore", log, log] })
    : spawn("sh", ["-c", env.restartScript], { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${env.restartScript} did not finish in ${timeoutMs} ms`)), timeoutMs);
    child.on("error", reject);
    // "exit", not "close": a server started in the background may hold the output open.
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${env.restartScript} exited with ${code}; see restart-${label}.log`));
    });
  });
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor(what, probe, timeoutMs = 5000, everyMs = 25) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
