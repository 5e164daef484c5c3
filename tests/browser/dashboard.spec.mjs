// A real-browser check of the dashboard: Debian's chromium, headless, driven by playwright-core,
// against the real server (vectorize_testkit: the product with scripted jobs). CTest runs it
// through run.sh (browser.dashboard).
//
//   VECTORIZE_TEST_KIT=build/vectorize_testkit node tests/browser/dashboard.spec.mjs
//
// Environment:
//   VECTORIZE_TEST_KIT   path of vectorize_testkit (required)
//   CHROMIUM             path of the browser (default /usr/bin/chromium)
//   PLAYWRIGHT_DIR       a folder whose node_modules holds playwright-core (default: this folder)
//   SCREENSHOT_DIR       where dashboard-*.png go (default /tmp)
//
// Loads the page, filters by status, sees progress arrive through the event stream and a task go
// R → D without reloading, opens a detail with
// the keyboard, cancels a running task through the confirmation dialog, checks the page made no
// request to another host and logged no error (CSP violations included), and saves screenshots
// at 1280×800 and 390×844. Exits non-zero on the first failure.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR || here, "noop.js"));
const { chromium } = require("playwright-core");

const KIT = process.env.VECTORIZE_TEST_KIT;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SCREENSHOT_DIR || "/tmp";
if (!KIT) {
  console.error("VECTORIZE_TEST_KIT must be the path of vectorize_testkit");
  process.exit(2);
}

const work = mkdtempSync(path.join(tmpdir(), "vz-browser-"));
const dataDir = path.join(work, "data");
mkdirSync(dataDir);
let server = null;
let context = null;

function log(...args) { console.log("[dashboard]", ...args); }
function check(cond, what) { if (!cond) throw new Error("check failed: " + what); log("ok:", what); }

function enqueue(type, count, inputs, tag) {
  const args = ["enqueue", "--data-dir", dataDir, "--type", type, "--count", String(count),
    "--inputs", JSON.stringify(inputs)];
  if (tag) args.push("--tag", tag);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VECTORIZE_")));
  const r = spawnSync(KIT, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`testkit enqueue failed: ${r.stderr}`);
  return r.stdout.split("\n").map((l) => l.trim()).filter((l) => /^[0-9a-f-]{36}$/i.test(l));
}

function startServer(extraEnv = {}) {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VECTORIZE_"))), ...extraEnv };
  server = spawn(KIT, ["serve", "--port", "0", "--data-dir", dataDir], { env, stdio: ["ignore", "pipe", "pipe"] });
  server.stderr.on("data", () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start in 30 s")), 30000);
    const rl = readline.createInterface({ input: server.stdout });
    rl.once("line", (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/[^\s]+)$/.exec(line.trim());
      if (!m) reject(new Error("unexpected first line: " + line)); else resolve(m[1]);
      server.stdout.on("data", () => {});
    });
    server.once("exit", (code) => reject(new Error("server exited with " + code)));
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null) return;
  const proc = server;
  proc.kill("SIGTERM");
  await new Promise((r) => {
    const t = setTimeout(() => { proc.kill("SIGKILL"); r(); }, 10000);
    proc.once("exit", () => { clearTimeout(t); r(); });
  });
}

async function api(base, p, init) {
  const r = await fetch(base + p, init);
  return { status: r.status, body: await r.json() };
}

async function main() {
  // Three training tasks of 6 s each (one worker runs them in turn), one that fails at once,
  // and a short tagged upload.
  const training = enqueue("training", 3, { ms: 200, steps: 30 });
  const failing = enqueue("evaluation", 1, { fail: "permanent" });
  enqueue("dataset_upload", 1, { ms: 100, steps: 10 }, "demo");
  check(training.length === 3 && failing.length === 1, "tasks enqueued");

  const base = await startServer();
  log("server at", base);

  context = await chromium.launchPersistentContext(path.join(work, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  const origin = new URL(base).origin;
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("response", (r) => { if (r.status() >= 400 && !/\/(cancel|retry)$/.test(r.url())) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  let streamOpened = false;
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.endsWith("/tasks/events") && r.status() === 200 &&
        (r.headers()["content-type"] || "").startsWith("text/event-stream")) streamOpened = true;
  });
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.origin !== origin) problems.push("request to another host: " + r.url());
  });

  // 1. Load.
  await page.goto(base + "/dashboard");
  await page.waitForFunction(() => document.querySelectorAll("#rows tr").length >= 5, null, { timeout: 30000 });
  check(true, "the table lists the 5 tasks");
  await page.waitForFunction(() => /Live/.test(document.getElementById("live-state").textContent));
  const chipCounts = await page.$$eval("#chips .chip", (cs) => cs.map((c) => c.textContent));
  check(chipCounts.length === 5, "five status chips: " + chipCounts.join(" | "));

  // Paging: "Older" is offered only when a task exists beyond the page — a page of exactly the
  // five tasks is the last one; a page of four has one more.
  {
    const pager = await context.newPage();
    const nextDisabled = () => pager.$eval("#next", (b) => b.disabled);
    await pager.goto(base + "/dashboard?limit=5");
    await pager.waitForFunction(() => document.querySelectorAll("#rows tr").length === 5, null, { timeout: 15000 });
    await pager.waitForFunction(() => /Live/.test(document.getElementById("live-state").textContent));
    check(await nextDisabled(), "a full page that is the last one offers no older page");
    await pager.goto(base + "/dashboard?limit=4");
    await pager.waitForFunction(() => document.querySelectorAll("#rows tr").length === 4 &&
      !document.getElementById("next").disabled, null, { timeout: 15000 });
    await pager.click("#next");
    await pager.waitForFunction(() => location.search.includes("offset=4") &&
      document.querySelectorAll("#rows tr").length === 1, null, { timeout: 15000 });
    check(await nextDisabled(), "page 2 of 4 + 1 shows the fifth task and offers no page 3");
    // The status counts follow the type filter: the one evaluation task, failed.
    await pager.goto(base + "/dashboard?task_type=evaluation");
    await pager.waitForFunction(() => document.querySelectorAll("#rows tr").length === 1 &&
      document.querySelector('#chips .chip[data-status="F"] .count').textContent === "1", null, { timeout: 15000 });
    const counts = await pager.$$eval("#chips .chip .count", (cs) => cs.map((c) => c.textContent));
    check(counts.join(" ") === "0 0 0 1 0", "counts for evaluation only (Q R D F C): " + counts.join(" "));
    await pager.close();
  }

  // 2. Filter by status (the Running checkbox): only running rows, and the filter is in the URL.
  await page.waitForFunction(() => document.querySelector('#rows tr[data-status="R"]'), null, { timeout: 30000 });
  await page.check("#fs-R");
  await page.waitForFunction(() => location.search.includes("status=R") &&
    [...document.querySelectorAll("#rows tr")].every((tr) => tr.dataset.status === "R"), null, { timeout: 15000 });
  const runningId = await page.$eval('#rows tr[data-status="R"]', (tr) => tr.dataset.id);
  check(true, "status filter R shows only running tasks; url " + new URL(page.url()).search);

  // 3. Live, through the event stream: the page holds GET tasks/events open, and a change made
  // by the server shows up in the row at once — here progress that only the stream reports
  // between re-reads — then, without a reload, the running task turns D.
  await page.waitForFunction(() => {
    const l = document.getElementById("live-state");
    return l.dataset.source === "events" && /\(stream\)/.test(l.textContent);
  }, null, { timeout: 15000 });
  check(streamOpened, "the page is live through the event stream (text/event-stream answered 200)");
  const progressBefore = await page.$eval(`#rows tr[data-id="${runningId}"] .col-progress`, (td) => td.textContent);
  await page.waitForFunction(([id, before]) => {
    const td = document.querySelector(`#rows tr[data-id="${id}"] .col-progress`);
    return td && td.textContent !== before;
  }, [runningId, progressBefore], { timeout: 30000, polling: 100 });
  check(true, "the running task's progress moves without a reload");
  await page.uncheck("#fs-R");
  await page.waitForFunction((id) => {
    const tr = document.querySelector(`#rows tr[data-id="${id}"]`);
    return tr && tr.dataset.status === "D";
  }, runningId, { timeout: 40000, polling: 200 });
  check(true, `task ${runningId.slice(0, 8)} went R → D live`);

  // A status chip filters too (and again clears it).
  await page.click('#chips .chip[data-status="F"]');
  await page.waitForFunction(() => location.search.includes("status=F") &&
    document.querySelectorAll("#rows tr").length === 1 &&
    document.querySelector("#rows tr").dataset.status === "F", null, { timeout: 15000 });
  check(true, "the F chip shows only the failed task");

  // 4. Keyboard: focus the failed row, Enter opens the detail with its error, Escape closes.
  await page.focus("#rows tr");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#detail:not([hidden]) .error-box", { timeout: 15000 });
  const err = await page.textContent("#detail .error-box");
  check(err.length > 0, "detail shows the error: " + err.trim().slice(0, 80));
  check(await page.$('#detail [data-action="retry"]') !== null, "a failed task offers Retry");
  check(new URL(page.url()).searchParams.get("task") === failing[0], "the open task is in the URL");
  await page.click('#detail [data-action="retry"]');
  await page.waitForSelector("#confirm[open]");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#confirm:not([open])", { state: "attached" });
  check(await page.isVisible("#detail") && (await api(base, "/tasks/" + failing[0])).body.task_status === "F",
    "Escape in the confirmation dialog retries nothing and keeps the detail open");
  await page.screenshot({ path: path.join(SHOTS, "dashboard-desktop-detail.png") });
  await page.keyboard.press("Escape");
  await page.waitForSelector("#detail", { state: "hidden" });
  const focusedRow = await page.evaluate(() => document.activeElement && document.activeElement.dataset.id);
  check(focusedRow === failing[0], "Escape closes the detail and gives focus back to the row");
  await page.click('#chips .chip[data-status="F"]');
  await page.waitForFunction(() => !location.search.includes("status="), null, { timeout: 15000 });

  // 5. Cancel a running task through the confirmation dialog.
  await page.waitForFunction((done) => {
    const tr = document.querySelector('#rows tr[data-status="R"]');
    return tr && tr.dataset.id !== done;
  }, runningId, { timeout: 30000, polling: 200 });
  const victim = await page.$eval('#rows tr[data-status="R"]', (tr) => tr.dataset.id);
  await page.click(`#rows tr[data-id="${victim}"]`);
  await page.waitForSelector('#detail [data-action="cancel"]', { timeout: 15000 });
  await page.click('#detail [data-action="cancel"]');
  await page.waitForSelector("#confirm[open]");
  await page.screenshot({ path: path.join(SHOTS, "dashboard-desktop-confirm.png") });
  await page.click("#confirm-yes");
  await page.waitForSelector("#detail .action-result", { timeout: 15000 });
  const answer = await page.textContent("#detail .action-result");
  check(/^20[02] /.test(answer), "the API's answer is shown: " + answer);
  await page.waitForFunction((id) => {
    const tr = document.querySelector(`#rows tr[data-id="${id}"]`);
    return tr && tr.dataset.status === "C";
  }, victim, { timeout: 30000, polling: 200 });
  const server_view = await api(base, "/tasks/" + victim);
  check(server_view.body.task_status === "C", "the server has the task cancelled");
  await page.waitForSelector('#detail [data-action="retry"]', { timeout: 15000 });
  check(true, "the cancelled task now offers Retry");
  await page.screenshot({ path: path.join(SHOTS, "dashboard-desktop-cancelled.png") });
  await page.keyboard.press("Escape");
  await page.waitForSelector("#detail", { state: "hidden" });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, "dashboard-desktop.png") });

  // 6. Phone size: the table becomes cards.
  const phone = await context.newPage();
  phone.on("console", (m) => { if (m.type() === "error") problems.push("phone console: " + m.text()); });
  phone.on("pageerror", (e) => problems.push("phone page error: " + e.message));
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(base + "/v1/api/?within_hours=24");
  await phone.waitForFunction(() => document.querySelectorAll("#rows tr").length >= 5, null, { timeout: 30000 });
  const headHidden = await phone.$eval(".tasks thead", (t) => getComputedStyle(t).display === "none");
  check(headHidden, "under 700 px the table is a list of cards (works under /v1/api/ too)");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, "no horizontal scrolling on a phone (overflow " + overflow + " px)");
  await phone.screenshot({ path: path.join(SHOTS, "dashboard-phone.png") });
  await phone.screenshot({ path: path.join(SHOTS, "dashboard-phone-full.png"), fullPage: true });

  // 7. Dark colour scheme.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.waitForTimeout(200);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg !== "rgb(246, 247, 249)", "prefers-color-scheme: dark changes the colours (" + bg + ")");
  await page.screenshot({ path: path.join(SHOTS, "dashboard-desktop-dark.png") });
  await phone.close();
  await page.close();  // it would go on polling the server stopped below

  // 8. With API keys: the page loads, asks for the key, keeps it in sessionStorage and sends it.
  await stopServer();
  const keyedBase = await startServer({ VECTORIZE_API_KEYS: "browser-key" });
  const keyed = await context.newPage();
  let sawBearer = false;
  keyed.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/tasks") && r.headers()["authorization"] === "Bearer browser-key") sawBearer = true;
  });
  keyed.on("pageerror", (e) => problems.push("keyed page error: " + e.message));
  await keyed.goto(keyedBase + "/");
  await keyed.waitForSelector("#notice:not([hidden])", { timeout: 15000 });
  const notice = await keyed.textContent("#notice");
  check(/API key/.test(notice), "without a key the page asks for one: " + notice);
  check(await keyed.evaluate(() => document.activeElement.id) === "apikey", "the key field has focus");
  await keyed.fill("#apikey", "browser-key");
  await keyed.keyboard.press("Enter");
  await keyed.waitForFunction(() => document.querySelectorAll("#rows tr").length >= 5, null, { timeout: 30000 });
  check(sawBearer, "API calls carry Authorization: Bearer");
  check(await keyed.evaluate(() => sessionStorage.getItem("vectorize.apiKey")) === "browser-key",
    "the key is kept in sessionStorage");
  check(await keyed.isHidden("#notice"), "the notice is gone once the key works");
  await keyed.waitForFunction(() => {
    const l = document.getElementById("live-state");
    return l.dataset.source === "events" && /\(stream\)/.test(l.textContent);
  }, null, { timeout: 15000 });
  check(true, "with the key (a session cookie for EventSource) the page streams events");
  await keyed.reload();
  await keyed.waitForFunction(() => document.querySelectorAll("#rows tr").length >= 5, null, { timeout: 30000 });
  check(await keyed.isHidden("#notice"), "after a reload the tab still has the key");

  check(problems.length === 0, "no console errors, page errors or foreign requests" +
    (problems.length ? ":\n  " + problems.join("\n  ") : ""));
  log("screenshots in", SHOTS);
}

let code = 0;
try {
  await main();
  log("PASS");
} catch (e) {
  console.error("[dashboard] FAIL:", e && e.stack ? e.stack : e);
  code = 1;
} finally {
  if (context) await context.close().catch(() => {});
  await stopServer().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
process.exit(code);
