// SPDX-License-Identifier: GPL-3.0-or-later
// The Login and Services pages of goe in Debian's chromium (playwright-core),
// against a goe serving a real xoe root (tests/scenario/goe_browser.sh sets
// the environment). Every page fails the test on a console error, an
// uncaught exception or a Content-Security-Policy violation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

// The service's state as xoe reads it.
function xoeState() {
  const out = execFileSync("xoe", ["--root", process.env.XOE_ROOT, "service", "show", service, "--json"]);
  return JSON.parse(out).service.state;
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
async function act(page, action) {
  await page.click(`tr[data-service="${service}"] button[data-action="${action}"]`);
  await page.locator("#confirm").waitFor({ state: "visible" });
  assert.match(await page.textContent("#confirm-text"), new RegExp(`${action} ${service}`));
  await page.click("#confirm-ok");
}

async function rowState(page) {
  return (await page.textContent(`tr[data-service="${service}"] td.state`)).trim();
}

// A POST from the page's own scripts (same origin, the session's cookie),
// with or without the session's CSRF token: its HTTP status.
async function postFromPage(page, path, withCsrf) {
  return page.evaluate(
    async ([path, withCsrf]) => {
      const headers = {};
      if (withCsrf) headers["X-CSRF-Token"] = (await (await fetch("/api/session")).json()).csrf;
      return (await fetch(path, { method: "POST", headers })).status;
    },
    [path, withCsrf],
  );
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
  assert.deepEqual(buttons.sort(), ["restart", "start"]);
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
