'use strict';
// The Node.js baseline of docs/design.md §10 (issue 13): the contract subset the load scenarios use
// (POST /v1/events, GET /v1/events/{id}, GET /healthz, Phoenix V2 join, leave and heartbeat on
// /socket/websocket), written the way a strong Node developer would write it for fan-out:
// - each event is computed at most once per 500 ms window (leading and trailing edge), never per
//   request; joins and GETs are answered from the cached model (one computation shared when cold);
// - a broadcast is serialized once into one Buffer, and that Buffer is sent to every subscriber
//   (ws frames it without copying the payload);
// - a subscriber whose socket holds more than HIGH_WATER unsent bytes is slow: it keeps only the
//   newest frame per topic and gets it when its socket drains, so nobody else waits for it.
// Usage: node server.js --urls http://127.0.0.1:PORT --database-url postgres://… --api-key KEY
const http = require('node:http');
const { WebSocketServer } = require('ws');
const { Pool, types } = require('pg');

function argument(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const listenUrl = new URL(argument('urls', 'http://127.0.0.1:4000').split(';')[0]);
const databaseUrl = argument('database-url', process.env.DATABASE_URL);
const apiKey = argument('api-key', process.env.BASELINE_API_KEY);
if (!databaseUrl || !apiKey) {
  console.error('--database-url and --api-key are required');
  process.exit(2);
}

const WINDOW_MS = 500;
const HIGH_WATER = 64 * 1024;
const MAX_BODY = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

types.setTypeParser(20, Number); // count(*) as a number, not a string
const pool = new Pool({ connectionString: databaseUrl, max: 10 });

// ---- the view model (docs/design.md §5), three statements per computation ----

const HEADER_SQL = 'select name, start_at, end_at from events where id = $1';
const SIDES_SQL = 'select distinct query from keywords where event_id = $1';
// Each entry counts once per side, in the minute of its earliest link inside the window.
const MINUTES_SQL = `
  select query, date_trunc('minute', first_at, 'UTC') as minute, count(*) as n
  from (select k.query, l.uniq_entry_id, min(l.created_at) as first_at
        from keywords k join uniq_entry_keywords l on l.keyword_id = k.id
        where k.event_id = $1 and l.created_at >= $2 and l.created_at < $3
        group by k.query, l.uniq_entry_id) firsts
  group by query, minute`;
const TOTAL_SQL = `
  select count(distinct l.uniq_entry_id) as n
  from keywords k join uniq_entry_keywords l on l.keyword_id = k.id
  where k.event_id = $1 and l.created_at >= $2 and l.created_at < $3`;

const MINUTE = 60_000;
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

async function computeModel(id) {
  const header = await pool.query(HEADER_SQL, [id]);
  if (header.rowCount === 0) {
    return null;
  }

  const { name, start_at: startAt, end_at: endAt } = header.rows[0];
  const [sides, minutes, total] = await Promise.all([
    pool.query(SIDES_SQL, [id]),
    pool.query(MINUTES_SQL, [id, startAt, endAt]),
    pool.query(TOTAL_SQL, [id, startAt, endAt]),
  ]);
  const perSide = new Map(sides.rows.map((r) => [r.query, new Map()]));
  let latest = -Infinity;
  for (const r of minutes.rows) {
    perSide.get(r.query)?.set(r.minute.getTime(), r.n); // a side added between the statements waits for the next
    latest = Math.max(latest, r.minute.getTime());
  }

  const start = startAt.getTime();
  const first = start - (start % MINUTE);
  const until = Math.min(Date.now(), endAt.getTime());
  let last = until > start ? (until - 1) - ((until - 1) % MINUTE) : first;
  last = Math.max(last, latest);
  const queries = [...perSide.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((query) => {
    const counts = perSide.get(query);
    const series = [];
    let count = 0;
    for (let m = first; m <= last; m += MINUTE) {
      const n = counts.get(m) ?? 0;
      count += n;
      series.push({ date: iso(m), count: n });
    }

    return { query, count, time_series: series };
  });
  return { event_id: id, name, start_at: iso(start), end_at: iso(endAt.getTime()), total: total.rows[0].n, queries };
}

// ---- events: cache, coalescing, subscribers ----

const events = new Map();

function eventFor(id) {
  let e = events.get(id);
  if (!e) {
    e = { id, topic: 'event:' + id, json: null, content: null, version: 0, loading: null, running: false, timer: null, dirty: false, name: null, subscribers: new Set() };
    events.set(id, e);
  }

  return e;
}

// Computes and caches; true when the numbers changed (a new version).
async function refresh(e) {
  const model = await computeModel(e.id);
  if (model === null) {
    e.json = null;
    return false;
  }

  const content = JSON.stringify(model);
  if (content === e.content) {
    return false;
  }

  e.content = content;
  e.version += 1;
  e.json = content.slice(0, -1) + `,"version":${e.version},"computed_at":"${new Date().toISOString()}"}`;
  return true;
}

// The cached model's JSON, computed once for all concurrent callers when there is none.
async function cached(e) {
  if (e.json !== null) {
    return e.json;
  }

  if (!e.loading) {
    e.loading = refresh(e).finally(() => { e.loading = null; });
  }

  await e.loading;
  return e.json;
}

// Leading edge at once, then at most one start per window; the last notification is never dropped.
function notify(e, name) {
  e.name = name;
  if (e.running || e.timer) {
    e.dirty = true;
    return;
  }

  run(e);
}

async function run(e) {
  e.running = true;
  e.dirty = false;
  const name = e.name ?? 'update';
  e.name = null;
  e.timer = setTimeout(() => {
    e.timer = null;
    if (e.dirty && !e.running) {
      run(e);
    }
  }, WINDOW_MS);
  try {
    if (await refresh(e)) {
      broadcast(e, name);
    }
  } catch (error) {
    e.dirty = true;
    console.error(`computation of ${e.id} failed: ${error.message}`);
  } finally {
    e.running = false;
  }
}

function broadcast(e, name) {
  const frame = Buffer.from(`[null,null,${JSON.stringify(e.topic)},${JSON.stringify(name)},${e.json}]`);
  for (const ws of e.subscribers) {
    deliver(ws, e.topic, frame);
  }
}

function deliver(ws, topic, frame) {
  if (ws.readyState !== 1) {
    return;
  }

  if (ws.bufferedAmount <= HIGH_WATER) {
    ws.send(frame, { binary: false });
    return;
  }

  // Slow: the newest frame per topic waits for the socket to drain (ws exposes no drain event of
  // its own; its net.Socket does).
  ws.pendingFrames.set(topic, frame);
  if (!ws.waitingForDrain) {
    ws.waitingForDrain = true;
    ws._socket.once('drain', () => {
      ws.waitingForDrain = false;
      const frames = [...ws.pendingFrames];
      ws.pendingFrames.clear();
      for (const [t, f] of frames) {
        deliver(ws, t, f);
      }
    });
  }
}

// ---- Phoenix V2 over ws ----

function reply(ws, joinRef, ref, topic, status, responseJson) {
  ws.send(`[${JSON.stringify(joinRef)},${JSON.stringify(ref)},${JSON.stringify(topic)},"phx_reply",{"status":"${status}","response":${responseJson}}]`);
}

async function onMessage(ws, data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return;
  }

  if (!Array.isArray(message) || message.length !== 5) {
    return;
  }

  const [joinRef, ref, topic, event, payload] = message;
  if (event === 'heartbeat' && topic === 'phoenix') {
    reply(ws, joinRef, ref, topic, 'ok', '{}');
  } else if (event === 'phx_join') {
    const id = typeof topic === 'string' && topic.startsWith('event:') ? topic.slice(6).toLowerCase() : null;
    if (id === null || !UUID.test(id)) {
      reply(ws, joinRef, ref, topic, 'error', '{"reason":"unmatched topic"}');
      return;
    }

    const e = eventFor(id);
    const json = await cached(e);
    if (json === null) {
      events.delete(id);
      reply(ws, joinRef, ref, topic, 'error', '{"reason":"not found"}');
      return;
    }

    reply(ws, joinRef, ref, topic, 'ok', `{"channel":${JSON.stringify(topic)},"params":${JSON.stringify(payload ?? {})},"snapshot":${json}}`);
    e.subscribers.add(ws);
    ws.topics.add(e);
  } else if (event === 'phx_leave') {
    for (const e of ws.topics) {
      if (e.topic === topic) {
        e.subscribers.delete(ws);
        ws.topics.delete(e);
      }
    }

    reply(ws, joinRef, ref, topic, 'ok', '{}');
  }
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 65536, clientTracking: false });
wss.on('connection', (ws) => {
  ws.topics = new Set();
  ws.pendingFrames = new Map();
  ws.waitingForDrain = false;
  ws.on('message', (data) => { onMessage(ws, data.toString()).catch((error) => console.error(error.message)); });
  ws.on('close', () => {
    for (const e of ws.topics) {
      e.subscribers.delete(ws);
    }
  });
  ws.on('error', () => {});
});

// ---- HTTP ----

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body);
}

function authorized(req, url) {
  const header = req.headers.authorization;
  const key = header && header.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('api_key');
  return key === apiKey;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }

      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

async function onRequest(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/healthz') {
    res.writeHead(200);
    res.end();
    return;
  }

  if (!url.pathname.startsWith('/v1/')) {
    json(res, 404, '{"error":"not found"}');
    return;
  }

  if (!authorized(req, url)) {
    json(res, 401, '{"error":"unauthorized"}');
    return;
  }

  if (req.method === 'POST' && url.pathname === '/v1/events') {
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      json(res, 400, '{"error":"malformed"}');
      return;
    }

    const id = typeof body?.topic === 'string' && body.topic.startsWith('event:') ? body.topic.slice(6).toLowerCase() : '';
    if (!UUID.test(id) || typeof body.event !== 'string' || body.event === '' || String(body.payload?.event_id).toLowerCase() !== id) {
      json(res, 400, '{"error":"malformed"}');
      return;
    }

    const e = eventFor(id);
    if (await cached(e) === null) {
      events.delete(id);
      json(res, 404, '{"error":"not found"}');
      return;
    }

    notify(e, body.event);
    res.writeHead(204);
    res.end();
    return;
  }

  const match = /^\/v1\/events\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && match) {
    const id = match[1].toLowerCase();
    if (!UUID.test(id)) {
      json(res, 400, '{"error":"bad id"}');
      return;
    }

    const e = eventFor(id);
    const model = await cached(e);
    if (model === null) {
      events.delete(id);
      json(res, 404, '{"error":"not found"}');
      return;
    }

    json(res, 200, model);
    return;
  }

  json(res, 404, '{"error":"not found"}');
}

const server = http.createServer((req, res) => {
  onRequest(req, res).catch((error) => {
    console.error(error.message);
    if (!res.headersSent) {
      json(res, 503, '{"error":"database unavailable"}');
    }
  });
});
server.keepAliveTimeout = 120_000;
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  const vsn = url.searchParams.get('vsn') ?? '1.0.0';
  if (url.pathname !== '/socket/websocket' || !vsn.startsWith('2.0')) {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    return;
  }

  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(Number(listenUrl.port), listenUrl.hostname, () => console.log(`node baseline on ${listenUrl.href}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
