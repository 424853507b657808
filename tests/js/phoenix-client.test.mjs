// The official npm `phoenix` client on Node (transport: the `ws` package) against a live
// Pulse: join and snapshot, broadcast after INSERT + POST, heartbeat, leave, and the
// client's own rejoin after the server process restarts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Socket } from "phoenix";
import WebSocket from "ws";
import {
  assertModelMatches, connectDatabase, insertEntries, modelMatches, notify, readEnv,
  restartServer, sqlCounts, waitFor,
} from "./support/pulse.mjs";

// A missing variable must fail the run (not skip it): say which, as a failure of its own.
test("the environment names the server, the database and the restart script", () => readEnv());

describe("official phoenix client", () => {
  let env;
  let db;
  let socket;
  let topic;
  const closes = [];

  // Joins the topic and records every join reply and every broadcast (any event name).
  function join() {
    const channel = socket.channel(topic, { client: "pulse-js-tests" });
    const log = { joins: [], errors: [], broadcasts: [], channel };
    channel.onMessage = (event, payload) => {
      if (!event.startsWith("phx_") && !event.startsWith("chan_reply_")) {
        log.broadcasts.push({ event, payload });
      }
      return payload;
    };
    channel.join()
      .receive("ok", (reply) => log.joins.push(reply))
      .receive("error", (reply) => log.errors.push(reply));
    return log;
  }

  async function waitForBroadcast(log, from, expected, timeoutMs) {
    return waitFor(`a broadcast with total ${expected.total} (${JSON.stringify(expected.queries)})`,
      () => log.broadcasts.slice(from).find((b) => modelMatches(b.payload, expected)), timeoutMs);
  }

  before(async () => {
    env = readEnv();
    topic = `event:${env.eventId}`;
    db = await connectDatabase(env);
    // Short fixed delays keep the restart case quick; jitter is the dashboard's business.
    socket = new Socket(`${env.url.replace(/^http/, "ws")}/socket`, {
      transport: WebSocket,
      params: {},
      reconnectAfterMs: () => 200,
      rejoinAfterMs: () => 300,
    });
    socket.onClose((event) => closes.push(event?.code));
    socket.connect();
  });

  after(async () => {
    socket?.disconnect();
    await db?.end();
  });

  test("join replies ok with a snapshot equal to the SQL counts", async () => {
    const log = join();
    const [reply] = await waitFor("the join reply", () => (log.joins.length || log.errors.length) && log.joins, 5000);
    assert.deepEqual(log.errors, [], "join errors");
    assert.equal(reply.channel, topic);
    assert.deepEqual(reply.params, { client: "pulse-js-tests" });
    assert.equal(reply.snapshot.event_id, env.eventId);
    assertModelMatches(reply.snapshot, await sqlCounts(db, env.eventId));
    log.channel.leave();
  });

  test("INSERT + POST /v1/events brings a broadcast with the exact new numbers", async () => {
    const log = join();
    await waitFor("the join reply", () => log.joins.length, 5000);
    const before = log.broadcasts.length;
    await insertEntries(db, env.eventId, 3, 0);
    const expected = await sqlCounts(db, env.eventId);
    await notify(env, "js_client_insert");
    const broadcast = await waitForBroadcast(log, before, expected, 5000);
    // With the database trigger on, the INSERT may already have broadcast these numbers as "update".
    assert.ok(["js_client_insert", "update"].includes(broadcast.event), `event name ${broadcast.event}`);
    assert.ok(broadcast.payload.version > log.joins[0].snapshot.version, "version grows");
    log.channel.leave();
  });

  test("socket.ping (heartbeat on topic phoenix) is answered", async () => {
    const rtt = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no heartbeat reply in 5 s")), 5000);
      assert.equal(socket.ping((ms) => { clearTimeout(timer); resolve(ms); }), true, "socket connected");
    });
    assert.ok(rtt >= 0 && rtt < 5000, `round trip ${rtt} ms`);
  });

  test("leave replies ok and no broadcast follows", async () => {
    const log = join();
    await waitFor("the join reply", () => log.joins.length, 5000);
    const left = await new Promise((resolve) => {
      log.channel.leave().receive("ok", () => resolve("ok")).receive("timeout", () => resolve("timeout"));
    });
    assert.equal(left, "ok");
    const raw = [];
    const ref = socket.onMessage((message) => {
      if (message.topic === topic && !message.event.startsWith("phx_")) raw.push(message);
    });
    await insertEntries(db, env.eventId, 1, 1);
    await notify(env, "js_client_after_leave");
    // Coalescing holds a notification at most one 500 ms window; three windows is ample.
    await new Promise((r) => setTimeout(r, 1500));
    socket.off([ref]);
    assert.deepEqual(raw.map((m) => m.event), [], "messages on the left topic");
    assert.deepEqual(log.broadcasts, [], "broadcasts on the left channel");
  });

  test("after the server restarts the client rejoins on its own with exact numbers", async () => {
    const log = join();
    await waitFor("the join reply", () => log.joins.length, 5000);
    const closesBefore = closes.length;
    await restartServer(env, "phoenix-client");
    await waitFor("the socket to notice the restart", () => closes.length > closesBefore, 15_000);
    const rejoin = await waitFor("an automatic rejoin", () => log.joins[1], 30_000);
    assertModelMatches(rejoin.snapshot, await sqlCounts(db, env.eventId));

    const from = log.broadcasts.length;
    await insertEntries(db, env.eventId, 2, 1);
    const expected = await sqlCounts(db, env.eventId);
    await notify(env, "js_client_after_restart");
    await waitForBroadcast(log, from, expected, 5000);
    log.channel.leave();
  });
});
