// The store's console in a real browser: Debian's Chromium, headless, driven
// by puppeteer-core (no browser download). Starts the real kvstore_server
// (port 0, in memory, --error_injection), loads /console, checks that it
// loaded nothing from elsewhere, arms seed.request through the page's form
// with a fault script, makes a request that fires it, and waits for the
// `fired` event and the request's journal entry to appear in the page's live
// table; the points table shows the fire. Saves a screenshot.
//
// Usage: node console_test.mjs SERVER_BINARY SCREENSHOT.png
// Exits 0 when every check holds; prints what failed otherwise.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const [server, screenshot] = process.argv.slice(2);
const chromium = process.env.KVSTORE_CHROMIUM || "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "kvstore-console-"));
const started = Date.now();

function fail(message) {
  console.error(`console_test: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

async function startStore() {
  const portFile = join(dir, "port");
  const store = spawn(server, ["--port=0", `--port_file=${portFile}`,
    "--in_memory", "--error_injection"], { stdio: "ignore" });
  for (let i = 0; i < 300 && !existsSync(portFile); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = existsSync(portFile) ? readFileSync(portFile, "utf8").trim() : "";
  if (!port) fail("the store did not start");
  return { store, base: `http://127.0.0.1:${port}` };
}

async function run() {
  const { store, base } = await startStore();
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const elsewhere = [];
    page.on("request", (r) => { if (!r.url().startsWith(base)) elsewhere.push(r.url()); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${base}/console`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(
      () => document.querySelector("#status").textContent === "live", { timeout: 30000 });
    await page.waitForSelector('#points tr[data-point="seed.request"]', { timeout: 30000 });

    // Arm through the form: two 503s for requests tagged "browser".
    await page.select("#arm-point", "seed.request");
    await page.select("#arm-form", "script");
    await page.type("#arm-text", "2*error(503)->off");
    await page.type("#arm-tag", "browser");
    await page.click('#arm button[type="submit"]');
    await page.waitForFunction(
      () => document.querySelector("#arm-result").textContent === "armed seed.request",
      { timeout: 30000 });
    await page.waitForSelector('#events tr[data-phase="armed"][data-injection="seed.request"]',
      { timeout: 30000 });

    // A request that fires it, from outside the page.
    const answer = await fetch(`${base}/set?from_browser_test=1`,
      { headers: { "X-Test-Tag": "browser" } });
    if (answer.status !== 503) fail(`the armed point answered ${answer.status}, not 503`);
    await page.waitForSelector('#events tr[data-phase="fired"][data-injection="seed.request"]',
      { timeout: 30000 });
    await page.waitForFunction(() => [...document.querySelectorAll(
      '#events tr[data-phase="request"]')].some((tr) => tr.textContent.includes("/set")
      && tr.textContent.includes("503") && tr.textContent.includes("seed.request")),
    { timeout: 30000 });
    await page.waitForFunction(() => {
      const tr = document.querySelector('#points tr[data-point="seed.request"]');
      return tr && tr.cells[3].textContent === "1" && tr.cells[5].textContent.includes("error 1/2");
    }, { timeout: 30000 });
    await page.waitForFunction(
      () => document.querySelector("#tables").textContent.includes("default: cf"),
      { timeout: 30000 });
    await page.screenshot({ path: screenshot });
    if (elsewhere.length) fail(`the page loaded from elsewhere: ${elsewhere.join(", ")}`);
    if (errors.length) fail(`script errors: ${errors.join("; ")}`);
    console.log(`console_test: ok in ${((Date.now() - started) / 1000).toFixed(1)} s;` +
      ` screenshot ${screenshot}`);
  } finally {
    await browser.close();
    store.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

run().catch((e) => {
  if (!process.exitCode) console.error(`console_test: ${e.message}`);
  process.exitCode = 1;
});
