// The dashboard in headless Chromium (Debian's, through playwright-core) against a live
// Pulse: snapshot numbers, live update of numbers and chart after INSERT + POST, the
// connection indicator through a server restart, and screenshots for people to look at.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import {
  connectDatabase, insertEntries, notify, readEnv, restartServer, sqlCounts, waitFor,
} from "./support/pulse.mjs";

test("the environment names the server, the database and the restart script", () => readEnv());

describe("dashboard /events/{id}", () => {
  let env;
  let db;
  let browser;
  let page;
  const pageErrors = [];

  // What the page shows, read from the markup contract: .count[data-query], #total, #chart.
  const shown = () => page.evaluate(() => ({
    state: document.getElementById("connection").dataset.state,
    total: Number(document.getElementById("total").dataset.value),
    queries: [...document.querySelectorAll(".count[data-query]")]
      .map((el) => ({ query: el.dataset.query, count: Number(el.dataset.value) })),
    chartSum: Number(document.getElementById("chart").dataset.sum),
    chartPoints: Number(document.getElementById("chart").dataset.points),
  }));

  const sameNumbers = (view, expected) =>
    view.total === expected.total &&
    JSON.stringify(view.queries) === JSON.stringify(expected.queries) &&
    view.chartSum === expected.queries.reduce((acc, q) => acc + q.count, 0);

  before(async () => {
    env = readEnv();
    db = await connectDatabase(env);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await db?.end();
  });

  test("shows the snapshot's numbers once joined", async () => {
    const response = await page.goto(`${env.url}/events/${env.eventId}`);
    assert.equal(response.status(), 200);
    const expected = await sqlCounts(db, env.eventId);
    await waitFor("the indicator to say live", async () => (await shown()).state === "live", 10_000);
    const view = await waitFor("the snapshot on screen", async () => {
      const v = await shown();
      return sameNumbers(v, expected) && v;
    }, 5000);
    assert.ok(view.chartPoints > 0, "chart has minutes");
    assert.deepEqual(pageErrors, []);
  });

  test("INSERT + POST changes the numbers and the chart within 2 s", async () => {
    const chart = page.locator("#chart canvas");
    const pixelsBefore = await chart.screenshot();
    await insertEntries(db, env.eventId, 5, 0);
    const expected = await sqlCounts(db, env.eventId);
    const posted = Date.now();
    await notify(env, "js_dashboard_insert");
    await waitFor("the new numbers on screen", async () => sameNumbers(await shown(), expected), 2000);
    const pixelsAfter = await chart.screenshot();
    assert.notDeepEqual(pixelsAfter, pixelsBefore, "the chart's pixels changed");
    assert.ok(Date.now() - posted < 2500, "in time");
  });

  test("a server restart shows reconnecting, then live with exact numbers", async () => {
    // Record every state the indicator takes, however briefly.
    await page.evaluate(() => {
      const el = document.getElementById("connection");
      window.pulseStates = [el.dataset.state];
      new MutationObserver(() => window.pulseStates.push(el.dataset.state))
        .observe(el, { attributes: true, attributeFilter: ["data-state"] });
    });
    await restartServer(env, "dashboard");
    await waitFor("the indicator to go through reconnecting and back to live", async () => {
      const states = await page.evaluate(() => window.pulseStates);
      const down = states.indexOf("reconnecting");
      return down > 0 && states.slice(down).includes("live") && states.at(-1) === "live";
    }, 30_000, 50);
    const expected = await sqlCounts(db, env.eventId);
    await waitFor("exact numbers after the rejoin", async () => sameNumbers(await shown(), expected), 5000);

    await insertEntries(db, env.eventId, 2, 1);
    const later = await sqlCounts(db, env.eventId);
    await notify(env, "js_dashboard_after_restart");
    await waitFor("live updates after the restart", async () => sameNumbers(await shown(), later), 2000);
    assert.deepEqual(pageErrors, []);
  });

  test("screenshots at desktop and phone size", async () => {
    for (const [name, width, height] of [["desktop", 1440, 900], ["phone", 390, 844]]) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(300); // the chart follows its container on the next frame
      const file = path.join(env.artifacts, `dashboard-${name}-${width}x${height}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name}: no horizontal scrolling (${overflow} px too wide)`);
    }
    const state = await page.locator("#connection").getAttribute("data-state");
    assert.equal(state, "live");
  });
});
