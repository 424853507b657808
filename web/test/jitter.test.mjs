// Pure checks of the reconnect/rejoin schedules (run: node --test web/test/).
import assert from "node:assert/strict";
import { test } from "node:test";
import { jittered, reconnectAfterMs, rejoinAfterMs } from "../src/jitter.js";

test("jittered_RandomExtremes_SpansHalfToThreeHalvesOfBase", () => {
  assert.equal(jittered(1000, () => 0), 500);
  assert.equal(jittered(1000, () => 0.999999), 1500);
});

test("reconnectAfterMs_ManyBrowsers_SpreadOverAWindow", () => {
  const first = Array.from({ length: 200 }, () => reconnectAfterMs(1));
  assert.ok(Math.min(...first) >= 125 && Math.max(...first) <= 375, "first retry within 125..375 ms");
  assert.ok(new Set(first).size > 50, "not all browsers pick the same millisecond");
});

test("reconnectAfterMs_LateTries_CappedAtSevenAndAHalfSeconds", () => {
  for (const tries of [5, 6, 50]) {
    assert.ok(reconnectAfterMs(tries, () => 0.999999) <= 7500);
  }
});

test("rejoinAfterMs_Tries_GrowThenCap", () => {
  const mid = () => 0.5;
  assert.deepEqual([1, 2, 3, 4, 9].map((t) => rejoinAfterMs(t, mid)), [1000, 2000, 5000, 10000, 10000]);
});
