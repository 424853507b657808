// Reconnect and rejoin schedules with jitter.
//
// phoenix.js retries on fixed steps (10, 50, 100 ms … for the socket; 1, 2, 5 s for
// channels), so when a deploy drops every socket at once, every browser comes back in
// the same millisecond. Each delay here is drawn uniformly from [base/2, 3·base/2):
// the mean stays the base, and a crowd spreads over a whole base-wide window.

const reconnectBaseMs = [250, 500, 1000, 2000, 4000];
const rejoinBaseMs = [1000, 2000, 5000];
const maxBaseMs = 5000;

export function jittered(baseMs, random = Math.random) {
  return Math.round(baseMs / 2 + random() * baseMs);
}

/** Socket reconnect delay for attempt `tries` (1-based). */
export function reconnectAfterMs(tries, random = Math.random) {
  return jittered(reconnectBaseMs[tries - 1] ?? maxBaseMs, random);
}

/** Channel rejoin delay for attempt `tries` (1-based), after a join error or timeout. */
export function rejoinAfterMs(tries, random = Math.random) {
  return jittered(rejoinBaseMs[tries - 1] ?? maxBaseMs * 2, random);
}
