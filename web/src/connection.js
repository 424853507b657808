// Joins "event:<id>" with the official phoenix client and reports three things:
// a snapshot on every (re)join, each broadcast payload, and the connection state.
import { Socket } from "phoenix";
import { reconnectAfterMs, rejoinAfterMs } from "./jitter.js";

// Past this long without a working join the indicator says "offline"; retries go on.
const offlineAfterMs = 30_000;

/**
 * @param {string} eventId
 * @param {{onSnapshot: Function, onUpdate: Function, onState: Function, onJoinError: Function}} handlers
 *   onState receives "live", "reconnecting" or "offline".
 */
export function connectToEvent(eventId, { onSnapshot, onUpdate, onState, onJoinError }) {
  const socket = new Socket("/socket", { params: {}, reconnectAfterMs, rejoinAfterMs });
  const topic = `event:${eventId}`;
  const channel = socket.channel(topic, {});
  let state = null;
  let downSince = null;
  let offlineTimer = null;

  const setState = (next) => {
    if (next !== state) {
      state = next;
      onState(next);
    }
  };

  const lost = () => {
    downSince ??= Date.now();
    clearTimeout(offlineTimer);
    const waited = Date.now() - downSince;
    if (!navigator.onLine || waited >= offlineAfterMs) {
      setState("offline");
    } else {
      setState("reconnecting");
      offlineTimer = setTimeout(lost, offlineAfterMs - waited);
    }
  };

  // Broadcasts carry any event name (the notifier's NAME, "update" from the trigger);
  // the channel-level hook sees every message of this join, replies and phx_* included.
  channel.onMessage = (event, payload) => {
    if (!event.startsWith("phx_") && !event.startsWith("chan_reply_") && payload?.queries) {
      onUpdate(payload);
    }
    return payload;
  };
  channel.onError(lost);
  socket.onError(lost);
  socket.onClose(lost);
  window.addEventListener("offline", lost);
  window.addEventListener("online", () => state !== "live" && lost());

  // The "ok" hook of the join push runs again on every automatic rejoin.
  channel
    .join()
    .receive("ok", (reply) => {
      downSince = null;
      clearTimeout(offlineTimer);
      setState("live");
      onSnapshot(reply.snapshot);
    })
    .receive("error", (reply) => {
      setState("offline");
      onJoinError(reply?.reason ?? "error");
    })
    .receive("timeout", lost);

  socket.connect();
  return { socket, channel };
}
