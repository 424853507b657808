// What pages do, interleaved on one server (or one nginx): plain requests, then an official
// phoenix client socket that joins, 20 times; each round's broadcast reaches every socket so far. Behind nginx with
// /socket/ through the keep-alive upstream (scripts/js-tests.sh, variant nginx-keepalive), every
// upgrade arrives on an upstream connection that served plain requests first: issue 10 measured
// 60 of 60 such upgrades refused with 400.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Socket } from "phoenix";
import WebSocket from "ws";
import { connectDatabase, insertEntries, modelMatches, notify, readEnv, sqlCounts, waitFor } from "./support/pulse.mjs";

const ROUNDS = 20;

test("the environment names the server, the database and the restart script", () => readEnv());

describe("a page's requests, then its socket, 20 rounds", () => {
  let env;
  let db;
  const sockets = [];
  const logs = []; // per socket, every broadcast it received

  before(async () => {
    env = readEnv();
    db = await connectDatabase(env);
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await db?.end();
  });

  test("every upgrade succeeds, joins with the SQL numbers, and every socket gets every broadcast", async () => {
    // PULSE_VIA=nginx when the clients talk to nginx: it names itself in Server, Pulse sends none.
    const via = process.env.PULSE_VIA ?? "direct";
    const failures = [];
    for (let round = 0; round < ROUNDS; round++) {
      try {
        const page = await fetch(`${env.url}/events/${env.eventId}`);
        assert.equal(page.status, 200, "dashboard page");
        await page.text();
        assert.equal((page.headers.get("server") ?? "").startsWith("nginx"), via === "nginx", `Server: ${page.headers.get("server")}`);
        const api = await fetch(`${env.url}/v1/events/${env.eventId}`, { headers: { Authorization: `Bearer ${env.apiKey}` } });
        assert.equal(api.status, 200, "GET /v1/events/{id}");
        await api.json();

        const errors = [];
        const socket = new Socket(`${env.url.replace(/^http/, "ws")}/socket`, {
          transport: WebSocket, params: {}, reconnectAfterMs: () => 60_000,
        });
        sockets.push(socket);
        socket.onError((error) => errors.push(error?.message ?? String(error)));
        socket.connect();
        const channel = socket.channel(`event:${env.eventId}`, {});
        const joined = [];
        const broadcasts = [];
        logs.push(broadcasts);
        channel.onMessage = (event, payload) => {
          if (!event.startsWith("phx_") && !event.startsWith("chan_reply_")) broadcasts.push(payload);
          return payload;
        };
        channel.join().receive("ok", (reply) => joined.push(reply)).receive("error", (reply) => errors.push(JSON.stringify(reply)));
        await waitFor(`round ${round}: the join reply (errors: ${errors.join("; ")})`, () => joined.length || errors.length, 5000);
        assert.deepEqual(errors, [], "socket errors");
        assert.ok(modelMatches(joined[0].snapshot, await sqlCounts(db, env.eventId)), "join snapshot equals SQL");

        await insertEntries(db, env.eventId, 1, round % 2);
        const expected = await sqlCounts(db, env.eventId);
        await notify(env, `js_round_${round}`);
        // Every socket so far, on either node, gets it: so the next join, wherever it lands, finds that node's
        // cached numbers up to date (a node refreshes its cache at the same tick as it broadcasts).
        await waitFor(`round ${round}: the broadcast on all ${logs.length} sockets`,
          () => logs.every((log) => log.some((b) => modelMatches(b, expected))), 5000);
      } catch (error) {
        failures.push(`round ${round}: ${error.message}`);
      }
    }
    assert.deepEqual(failures, [], `${ROUNDS - failures.length}/${ROUNDS} rounds succeeded`);
  });
});
