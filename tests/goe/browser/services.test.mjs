// SPDX-License-Identifier: GPL-3.0-or-later
// The Login and Services pages of goe in Debian's chromium (playwright-core),
// against a goe serving a real xoe root (tests/scenario/goe_browser.sh sets
// the environment). Every page fails the test on a console error, an
// uncaught exception or a Content-Security-Policy violation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const url = process.env.GOE_URL;
const service = process.env.GOE_SERVICE;
const shots = process.env.GOE_SHOTS;
// The three passwords come in a file (0600), never on a command line.
const [adminPw, operatorPw, viewerPw] = readFileSync(process.env.GOE_PASSWORDS, "utf8").trim().split(" ");
const users = {
  admin: [process.env.GOE_ADMIN, adminPw],
  operator: [process.env.GOE_OPERATOR, operatorPw],
  viewer: [process.env.GOE_VIEWER, viewerPw],
};

function xoe(...args) {
  return JSON.parse(execFileSync("xoe", ["--root", process.env.XOE_ROOT, ...args, "--json"]));
}
// The service's state as xoe reads it.
function xoeState() {
  return xoe("service", "show", service).service.state;
}
// The file names of the service's archives, as xoe lists them.
function xoeBackups() {
  return xoe("backup", "list", service).backups.map((b) => b.archive.split("/").pop());
}

async function until(what, f, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    if (await f()) return;
    if (Date.now() > end) throw new Error(`timeout after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let browser;
const problems = [];  // console errors, page errors, CSP violations of every page

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.GOE_CHROMIUM, headless: true });
});
after(async () => {
  await browser?.close();
});

// A fresh context (its own cookies) and page, watched for problems.
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  await context.exposeBinding("__goeCsp", (_source, v) => problems.push(`CSP violation: ${v}`));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__goeCsp(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile || e.documentURI}`));
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  return page;
}

function noProblems() {
  const seen = problems.splice(0);
  assert.deepEqual(seen, [], "console errors or CSP violations");
}

async function login(page, role, password = users[role][1]) {
  await page.goto(`${url}/`);
  await page.waitForURL("**/login.html");
  await page.fill("#user", users[role][0]);
  await page.fill("#password", password);
  await page.click("#submit");
}

async function loggedIn(role) {
  const page = await newPage();
  await login(page, role);
  await page.waitForURL("**/services.html");
  await page.locator(`tr[data-service="${service}"]`).waitFor();
  return page;
}

// Clicks an action of the service's row and confirms it in the dialog.
async function act(page, action, scope = `tr[data-service="${service}"]`) {
  await page.click(`${scope} button[data-action="${action}"]`);
  await page.locator("#confirm").waitFor({ state: "visible" });
  assert.match(await page.textContent("#confirm-text"), new RegExp(`${action} ${service}`));
  await page.click("#confirm-ok");
}

async function rowState(page) {
  return (await page.textContent(`tr[data-service="${service}"] td.state`)).trim();
}

// A POST from the page's own scripts (same origin, the session's cookie),
// with or without the session's CSRF token: its HTTP status.
async function postFromPage(page, path, withCsrf, body) {
  return page.evaluate(
    async ([path, withCsrf, body]) => {
      const headers = { "Content-Type": "application/json" };
      if (withCsrf) headers["X-CSRF-Token"] = (await (await fetch("/api/session")).json()).csrf;
      return (await fetch(path, { method: "POST", headers, body: body ? JSON.stringify(body) : undefined })).status;
    },
    [path, withCsrf, body],
  );
}

// Drops chromium's console line of a refused request (`status`) that a test
// makes on purpose: a network log line, not a script error.
function expected(status) {
  for (let i = problems.length - 1; i >= 0; i--)
    if (new RegExp(`Failed to load resource: .* ${status}`).test(problems[i])) problems.splice(i, 1);
}

async function goTo(page, path, selector) {
  await page.goto(`${url}${path}`);
  await page.locator(selector).first().waitFor();
}

test("the watch catches a CSP violation (an inline script)", async () => {
  const page = await newPage();
  await page.goto(`${url}/login.html`);
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.inlineRan = true";
    document.body.append(s);
  });
  await until("the violation", () => problems.length > 0, 10);
  assert.equal(await page.evaluate(() => window.inlineRan), undefined, "an inline script ran");
  problems.splice(0);
  await page.context().close();
});

test("a wrong password is refused on the login page", async () => {
  const page = await newPage();
  await login(page, "admin", "not-the-password");
  await page.locator("#message").filter({ hasText: "wrong user or password" }).waitFor();
  assert.ok(page.url().endsWith("/login.html"));
  assert.equal(await page.inputValue("#password"), "");
  // The failed login is a 401 in the console's network log, not a script
  // error: drop chromium's "Failed to load resource" line of it alone.
  for (let i = problems.length - 1; i >= 0; i--)
    if (/Failed to load resource: .* 401/.test(problems[i])) problems.splice(i, 1);
  await page.screenshot({ path: `${shots}/goe-login.png` });
  noProblems();
  await page.context().close();
});

test("an admin sees the service's real state, stops and starts it through the page", async () => {
  const page = await loggedIn("admin");
  assert.equal(xoeState(), "run");
  assert.match(await rowState(page), /^run/);
  const cells = await page.locator(`tr[data-service="${service}"] td`).allTextContents();
  assert.equal(cells[1], "production");
  assert.match(cells[3], /^tryton 7\.0/);
  assert.match(cells[5], /iB$/, "memory measured");
  assert.match(cells[6], /iB$/, "database size measured");
  await page.screenshot({ path: `${shots}/goe-services.png` });

  await act(page, "stop");
  await until("xoe to say down", () => xoeState() === "down");
  await until("the page to say down", async () => /^down/.test(await rowState(page)));
  await act(page, "start");
  await until("xoe to say run", () => xoeState() === "run");
  await until("the page to say run", async () => /^run/.test(await rowState(page)));
  noProblems();
  await page.context().close();
});

test("an operator may start and restart production, not stop it", async () => {
  const page = await loggedIn("operator");
  const buttons = await page.locator(`tr[data-service="${service}"] button`).evaluateAll((b) =>
    b.map((x) => x.dataset.action));
  assert.deepEqual(buttons.sort(), ["backup", "restart", "start"]);
  assert.equal(await postFromPage(page, `/api/services/${service}/stop`, true), 403);
  assert.equal(xoeState(), "run");
  for (let i = problems.length - 1; i >= 0; i--)
    if (/Failed to load resource: .* 403/.test(problems[i])) problems.splice(i, 1);
  noProblems();
  await page.context().close();
});

test("a viewer sees the service and cannot act: no button, the POST refused", async () => {
  const page = await loggedIn("viewer");
  assert.match(await rowState(page), /^run/);
  assert.equal(await page.locator(`tr[data-service="${service}"] button`).count(), 0);
  for (const action of ["stop", "restart", "start"])
    assert.equal(await postFromPage(page, `/api/services/${service}/${action}`, true), 403, action);
  assert.equal(xoeState(), "run");
  for (let i = problems.length - 1; i >= 0; i--)
    if (/Failed to load resource: .* 403/.test(problems[i])) problems.splice(i, 1);
  noProblems();
  await page.context().close();
});

test("a request without the CSRF header is refused (403), nothing changes", async () => {
  const page = await loggedIn("admin");
  assert.equal(await postFromPage(page, `/api/services/${service}/stop`, false), 403);
  assert.equal(xoeState(), "run");
  for (let i = problems.length - 1; i >= 0; i--)
    if (/Failed to load resource: .* 403/.test(problems[i])) problems.splice(i, 1);
  noProblems();
  await page.context().close();
});

test("a backup onto a full disk is failed on Services (red) and in Tasks", async () => {
  // A 1 MiB filesystem as the root's backup folder (xoe_full_disk's way).
  const dir = `${process.env.XOE_ROOT}/var/lib/oe/xoe/backups`;
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "oe-bed-goe-small", dir]);
  const page = await loggedIn("operator");
  try {
    await act(page, "backup");
    await page.locator("#message.error").filter({ hasText: "failed" }).waitFor({ timeout: 120000 });
  } finally {
    execFileSync("umount", [dir]);
  }
  assert.deepEqual(xoeBackups(), []);
  const cell = page.locator(`tr[data-service="${service}"] td.backup`);
  await until("the red backup cell", async () => /failed/.test(await cell.textContent()));
  assert.match(await cell.getAttribute("class"), /stale/);
  await goTo(page, "/tasks.html", "#tasks tbody tr");
  const row = page.locator("#tasks tbody tr").first();
  const cells = await row.locator("td").allTextContents();
  assert.deepEqual(cells.slice(1, 4), ["backup", service, users.operator[0]]);
  assert.equal(cells[6], "failed");
  assert.match(cells[7], /space|full/i, "the error says the disk is full");
  assert.equal(xoeState(), "run");
  noProblems();
  await page.context().close();
});

test("the detail page: configuration, log, back up now, one task at a time", async () => {
  const page = await loggedIn("admin");
  await page.click(`tr[data-service="${service}"] a`);
  await page.waitForURL(`**/service.html?name=${service}`);
  const show = xoe("service", "show", service).service;
  await page.locator('dd[data-field="port"]').filter({ hasText: String(show.port) }).waitFor();
  assert.equal(await page.textContent('dd[data-field="system-user"]'), show.user);
  assert.equal(await page.textContent('dd[data-field="database"]'), `${show.database} (${show.backend})`);
  assert.ok((await page.textContent("#log")).trim().split("\n").length >= 3, "the log's last lines");
  await act(page, "backup", "#actions");
  await page.locator("#message").filter({ hasText: "done" }).waitFor({ timeout: 120000 });
  const made = xoeBackups();
  assert.equal(made.length, 1);
  assert.match(await page.textContent("#message"), new RegExp(made[0].replaceAll(".", "\\.")));
  await page.locator(`#backups tr[data-archive="${made[0]}"]`).waitFor();
  // The history names the backup, done, by this user.
  const h = await page.locator("#history tbody tr").first().locator("td").allTextContents();
  assert.deepEqual([h[1], h[2], h[5]], ["backup", users.admin[0], "done"]);

  // One running task per service: a stop while a backup runs is refused.
  const statuses = await page.evaluate(async (service) => {
    const csrf = (await (await fetch("/api/session")).json()).csrf;
    const post = (a) => fetch(`/api/services/${service}/${a}`, { method: "POST", headers: { "X-CSRF-Token": csrf } });
    const first = await post("backup");
    const second = await post("stop");
    const { task } = await first.json();
    for (;;) {
      const t = await (await fetch(`/api/tasks/${task}`)).json();
      if (t.status !== "running") return [first.status, second.status, t.status];
      await new Promise((r) => setTimeout(r, 300));
    }
  }, service);
  assert.deepEqual(statuses, [202, 409, "done"]);
  expected(409);
  assert.equal(xoeState(), "run");
  await page.screenshot({ path: `${shots}/goe-service.png`, fullPage: true });

  // Services shows the backup fresh (not red) now.
  await goTo(page, "/services.html", `tr[data-service="${service}"]`);
  const cell = page.locator(`tr[data-service="${service}"] td.backup`);
  assert.match(await cell.getAttribute("class"), /fresh/);
  assert.match(await cell.textContent(), /ago$/);
  noProblems();
  await page.context().close();
});

test("verify a backup from the detail page", async () => {
  const page = await loggedIn("operator");
  await goTo(page, `/service.html?name=${service}`, "#backups tbody tr");
  const archive = xoeBackups()[0];
  await act(page, "verify", `#backups tr[data-archive="${archive}"]`);
  await page.locator(`#backups tr[data-archive="${archive}"] td.verified-yes`).waitFor({ timeout: 300000 });
  assert.equal(xoeState(), "run");
  noProblems();
  await page.context().close();
});

test("a viewer sees the detail and Tasks pages and cannot act; bad names refused", async () => {
  const page = await loggedIn("viewer");
  await goTo(page, `/service.html?name=${service}`, "#backups tbody tr");
  assert.equal(await page.locator("#actions button, #backups button").count(), 0);
  const archive = xoeBackups()[0];
  assert.equal(await postFromPage(page, `/api/services/${service}/backup`, true), 403);
  assert.equal(await postFromPage(page, `/api/services/${service}/verify`, true, { archive }), 403);
  expected(403);
  const before = xoeBackups();
  const admin = await loggedIn("admin");
  assert.equal(await postFromPage(admin, `/api/services/${service}/verify`, true, { archive: "../../../etc/passwd" }), 404);
  assert.equal(await postFromPage(admin, `/api/services/${service}/verify`, true, { archive: `../${service}/${archive}` }), 404);
  assert.equal(await postFromPage(admin, `/api/services/nosuch-${service}/stop`, true), 404);
  expected(404);
  assert.deepEqual(xoeBackups(), before);
  await admin.context().close();

  await goTo(page, "/tasks.html", "#tasks tbody tr");
  const rows = await page.locator("#tasks tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
  const seen = rows.map((r) => `${r[1]} ${r[3]} ${r[6]}`).reverse();
  assert.deepEqual(seen, [
    `stop ${users.admin[0]} done`, `start ${users.admin[0]} done`, `backup ${users.operator[0]} failed`,
    `backup ${users.admin[0]} done`, `backup ${users.admin[0]} done`, `verify ${users.operator[0]} done`,
  ]);
  await page.screenshot({ path: `${shots}/goe-tasks.png`, fullPage: true });
  noProblems();
  await page.context().close();
});
