// SPDX-License-Identifier: GPL-3.0-or-later
// The Copies page of goe in Debian's chromium (playwright-core), against a
// goe serving a real xoe root (tests/scenario/goe_browser.sh: a production
// Tryton 7.0 service GOE_SERVICE with backups made by services.test.mjs and
// a marker in its admin's name, GOE_MARKER, and its training service
// GOE_SERVICE-training): a training refresh that says which backup it uses
// and what it overwrites, read back in the training's database; a
// dissemination to three students whose logins work, the credentials shown
// once; the group listed and removed, read back through xoe; roles, CSRF,
// Origin and bad input refused with nothing changed. Any console error or
// CSP violation fails the test.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const url = process.env.GOE_URL;
const production = process.env.GOE_SERVICE;
const training = `${production}-training`;
const shots = process.env.GOE_SHOTS;
const [adminPw, operatorPw, viewerPw] = readFileSync(process.env.GOE_PASSWORDS, "utf8").trim().split(" ");
const users = {
  admin: [process.env.GOE_ADMIN, adminPw],
  operator: [process.env.GOE_OPERATOR, operatorPw],
  viewer: [process.env.GOE_VIEWER, viewerPw],
};
const group = "class1";

function xoe(...args) {
  return JSON.parse(execFileSync("xoe", ["--root", process.env.XOE_ROOT, ...args, "--json"]));
}
function xoeBackups(service) {
  return xoe("backup", "list", service).backups.map((b) => b.archive.split("/").pop());
}
function xoeStudents() {
  return xoe("students", "list").students;
}
// The admin's name in a service's SQLite database (the marker of a refresh).
function adminName(service) {
  const s = xoe("service", "show", service).service;
  const file = `${process.env.XOE_ROOT}/var/lib/oe/xoe/services/${service}/data/${s.database}.sqlite`;
  return execFileSync("sqlite3", [file, "SELECT name FROM res_user WHERE login = 'admin'"]).toString().trim();
}
// A Tryton JSON-RPC login at a database's URL: the user's id, or throws.
async function trytonLogin(dbUrl, login, password) {
  const res = await fetch(dbUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id: 1, method: "common.db.login", params: [login, { password }] }),
  });
  const answer = await res.json();
  if (!Array.isArray(answer.result)) throw new Error(`login of ${login} at ${dbUrl} refused: ${JSON.stringify(answer)}`);
  return answer.result[0];
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
const problems = [];
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.GOE_CHROMIUM, headless: true });
});
after(async () => {
  await browser?.close();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
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
  assert.deepEqual(problems.splice(0), [], "console errors or CSP violations");
}
function expected(status) {
  for (let i = problems.length - 1; i >= 0; i--)
    if (new RegExp(`Failed to load resource: .* ${status}`).test(problems[i])) problems.splice(i, 1);
}

async function copiesPage(role) {
  const page = await newPage();
  await page.goto(`${url}/`);
  await page.waitForURL("**/login.html");
  await page.fill("#user", users[role][0]);
  await page.fill("#password", users[role][1]);
  await page.click("#submit");
  await page.waitForURL("**/services.html");
  await page.click('nav a[href="/copies.html"]');
  await page.waitForURL("**/copies.html");
  await page.locator(`#refresh tr[data-training="${training}"]`).waitFor();
  return page;
}

// A request from the page's scripts: its status (and body).
async function fromPage(page, method, path, { csrf = true, body } = {}) {
  return page.evaluate(
    async ([method, path, csrf, body]) => {
      const headers = { "Content-Type": "application/json" };
      if (csrf) headers["X-CSRF-Token"] = (await (await fetch("/api/session")).json()).csrf;
      const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return [res.status, await res.json().catch(() => null)];
    },
    [method, path, csrf, body],
  );
}

test("an operator refreshes training from production: the page names the backup and what it overwrites", async () => {
  const marker = process.env.GOE_MARKER;
  assert.equal(adminName(production), marker);
  assert.ok(!adminName(training).startsWith(marker), adminName(training));
  const newest = xoeBackups(production)[0];
  assert.ok(newest, "services.test.mjs left a backup of production");
  const page = await copiesPage("operator");
  const row = page.locator(`#refresh tr[data-training="${training}"]`);
  const cells = await row.locator("td").allTextContents();
  assert.equal(cells[1], production);
  assert.match(cells[2], new RegExp(`^${newest.replaceAll(".", "\\.")} \\(`));
  const db = xoe("service", "show", training).service.database;
  assert.equal(cells[3], `the database ${db} (sqlite) and the data of ${training}`);
  await page.click(`#refresh tr[data-training="${training}"] button[data-action="refresh"]`);
  await page.locator("#confirm").waitFor({ state: "visible" });
  const question = await page.textContent("#confirm-text");
  assert.match(question, new RegExp(`refresh ${training} from ${production}`));
  assert.ok(question.includes(newest) && question.includes(`the database ${db}`), question);
  await page.click("#confirm-ok");
  await page.locator("#message").filter({ hasText: /done|failed/ }).waitFor({ timeout: 300000 });
  assert.match(await page.textContent("#message"), new RegExp(`done: ${training} refreshed from ${newest.replaceAll(".", "\\.")}`));
  const log = await page.textContent("#task-log");
  assert.match(log, new RegExp(`backup used: ${newest.replaceAll(".", "\\.")} of ${production}`));
  assert.match(log, new RegExp(`overwrites: the database ${db} \\(sqlite\\) and the data of ${training}`));
  // The effect, read in the training's database: production's marker, and
  // the neutralisation's visible one after it.
  assert.equal(adminName(training), `${marker} [training copy of ${production}]`);
  assert.equal(xoe("service", "show", training).service.state, "run");
  await page.screenshot({ path: `${shots}/goe-copies-refresh.png`, fullPage: true });
  // The task, with its log, on the Tasks page (the audit trail).
  await page.click('nav a[href="/tasks.html"]');
  const task = page.locator("#tasks tbody tr").first();
  await task.waitFor();
  const row2 = await task.locator("td").allTextContents();
  assert.deepEqual([row2[1], row2[2], row2[3], row2[6]], ["refresh", training, users.operator[0], "done"]);
  await task.locator('button[data-action="log"]').click();
  await page.locator("#task-log").filter({ hasText: `backup used: ${newest}` }).waitFor();
  assert.match(await page.textContent("#task-log"), /overwrites: the database/);
  await page.screenshot({ path: `${shots}/goe-tasks.png`, fullPage: true });
  noProblems();
  await page.context().close();
});

test("a viewer sees Copies and cannot act; refresh of production, CSRF, Origin and bad input refused", async () => {
  const viewer = await copiesPage("viewer");
  assert.equal(await viewer.locator("#refresh button, #groups button").count(), 0);
  assert.equal(await viewer.locator("#disseminate-form").isHidden(), true);
  assert.equal((await fromPage(viewer, "POST", "/api/copies/refresh", { body: { training } }))[0], 403);
  assert.equal((await fromPage(viewer, "POST", "/api/copies/students", { body: { service: training, group, students: 3 } }))[0], 403);
  expected(403);
  await viewer.context().close();

  const page = await copiesPage("operator");
  const before = xoe("backup", "list", production).backups.length;
  // No CSRF token; an operator refreshing a production (not a training).
  assert.equal((await fromPage(page, "POST", "/api/copies/refresh", { csrf: false, body: { training } }))[0], 403);
  assert.equal((await fromPage(page, "POST", "/api/copies/refresh", { body: { training: production } }))[0], 403);
  assert.equal((await fromPage(page, "POST", "/api/copies/students", { body: { service: production, group, students: 3 } }))[0], 403);
  expected(403);
  // Bad input: a bad group, a count out of range, an unknown service, no body.
  for (const body of [{ service: training, group: "../x", students: 3 }, { service: training, group: "Bad", students: 3 },
                      { service: training, group, students: 0 }, { service: training, group, students: 201 },
                      { service: training, group, students: "3" }, { service: "", group, students: 3 }])
    assert.equal((await fromPage(page, "POST", "/api/copies/students", { body }))[0], 400, JSON.stringify(body));
  assert.equal((await fromPage(page, "POST", "/api/copies/refresh", {}))[0], 400);
  expected(400);
  assert.equal((await fromPage(page, "POST", "/api/copies/students", { body: { service: `nosuch-${production}`, group, students: 3 } }))[0], 404);
  assert.equal((await fromPage(page, "POST", "/api/copies/students/nosuch/remove"))[0], 404);
  assert.equal((await fromPage(page, "POST", "/api/tasks/1/credentials"))[0], 410);
  expected(404);
  expected(410);
  assert.deepEqual(xoeStudents(), []);
  assert.equal(xoe("backup", "list", production).backups.length, before);
  noProblems();
  await page.context().close();

  // A foreign Origin (a plain HTTP request, as another site's page sends it).
  const res = await fetch(`${url}/api/copies/refresh`, {
    method: "POST",
    headers: { Origin: "http://evil.example", "Content-Type": "application/json" },
    body: JSON.stringify({ training }),
  });
  assert.equal(res.status, 403);
  // Not logged in.
  assert.equal((await fetch(`${url}/api/copies`)).status, 401);
});

test("an operator disseminates training's database to three students: credentials once, logins work, then removes the group", async () => {
  const page = await copiesPage("operator");
  await page.selectOption("#source", training);
  await page.fill("#group", group);
  await page.fill("#count", "3");
  await page.click("#disseminate");
  await page.locator("#confirm").waitFor({ state: "visible" });
  assert.match(await page.textContent("#confirm-text"), new RegExp(`disseminate the database of ${training} to group ${group}: 3`));
  await page.click("#confirm-ok");
  await page.locator("#message").filter({ hasText: /done|failed/ }).waitFor({ timeout: 300000 });
  assert.match(await page.textContent("#message"), /done: group class1: 3 databases/);
  await page.locator("#credentials tbody tr").nth(2).waitFor();
  const creds = await page.locator("#credentials tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Object.fromEntries([...tr.querySelectorAll("td")].map((td) => [td.className, td.textContent]))));
  assert.deepEqual(creds.map((c) => c.login), ["student01", "student02", "student03"]);
  // The page shows them; xoe lists the same databases (without a password).
  const listed = xoeStudents();
  assert.deepEqual(listed.map((d) => d.database).sort(), creds.map((c) => c.database).sort());
  for (const c of creds) assert.ok(await trytonLogin(c.url, c.login, c.password) > 0, c.login);
  // Wrong password refused: the logins are real.
  await assert.rejects(trytonLogin(creds[0].url, creds[0].login, "not-the-password"));
  // Shown once: the task's credentials are gone, and in no log of goe's.
  const task = Number((await page.textContent("#message")).match(/task (\d+)/)[1]);
  assert.equal((await fromPage(page, "POST", `/api/tasks/${task}/credentials`))[0], 410);
  expected(410);
  const [, t] = await fromPage(page, "GET", `/api/tasks/${task}`, { csrf: false });
  assert.equal(t.kind, "disseminate");
  assert.equal(t.log.length, 4);
  for (const c of creds) assert.ok(!JSON.stringify(t).includes(c.password), "a password in the task");
  await page.screenshot({ path: `${shots}/goe-copies.png`, fullPage: true });

  // The group, listed; reloaded, the credentials are no longer in the page.
  await page.reload();
  const g = page.locator(`#groups tr[data-group="${group}"]`);
  await g.waitFor();
  assert.equal(await page.locator("#handed").isHidden(), true);
  assert.equal(await g.locator("div[data-login]").count(), 3);
  await g.locator('button[data-action="remove"]').click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  assert.match(await page.textContent("#confirm-text"), /remove group class1: drops its 3 databases/);
  await page.click("#confirm-ok");
  await page.locator("#message").filter({ hasText: /done|failed/ }).waitFor({ timeout: 120000 });
  assert.match(await page.textContent("#message"), /done: group class1: 3 databases dropped/);
  assert.deepEqual(xoeStudents(), []);
  await until("the group to leave the page", async () => (await page.locator(`#groups tr[data-group="${group}"]`).count()) === 0);
  await assert.rejects(trytonLogin(creds[0].url, creds[0].login, creds[0].password));
  noProblems();
  await page.context().close();
});

test("an operator restores a backup into a new service that answers a Tryton login; its password shown once", async () => {
  const copy = `${production}-copy`;
  const archive = xoeBackups(production)[0];
  const page = await copiesPage("operator");
  await page.goto(`${url}/service.html?name=${production}`);
  const row = page.locator(`#backups tr[data-archive="${archive}"]`);
  await row.waitFor();
  // Bad input first: a taken name, a bad name, a path for an archive; nothing made.
  const before = xoe("service", "list").services.map((s) => s.name).sort();
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive, as: training } }))[0], 409);
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive, as: "Bad/Name" } }))[0], 400);
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive: `../${archive}`, as: copy } }))[0], 404);
  expected(409);
  expected(400);
  expected(404);
  assert.deepEqual(xoe("service", "list").services.map((s) => s.name).sort(), before);

  await page.fill("#restore-as", copy);
  await row.locator('button[data-action="restore"]').click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  assert.match(await page.textContent("#confirm-text"), new RegExp(`restore ${archive.replaceAll(".", "\\.")} into a new service ${copy}`));
  await page.click("#confirm-ok");
  await page.locator("#message").filter({ hasText: /done|failed/ }).waitFor({ timeout: 300000 });
  assert.match(await page.textContent("#message"), new RegExp(`done ${copy} restored from`));
  const cells = await page.locator("#restored-credentials tbody tr td").allTextContents();
  const [login, password, database, dbUrl] = cells;
  const show = xoe("service", "show", copy).service;
  assert.equal(show.role, "test");
  assert.equal(show.state, "run");
  assert.equal(database, show.database);
  assert.equal(login, show.admin_login ?? "admin");
  // The new service answers a Tryton login with the password shown, and its
  // data is production's (the marker).
  assert.ok(await trytonLogin(`http://127.0.0.1:${show.port}/${show.database}/`, login, password) > 0, dbUrl);
  assert.ok(adminName(copy).startsWith(`${process.env.GOE_MARKER} [`), adminName(copy));
  const task = Number((await page.textContent("#message")).match(/task (\d+)/)[1]);
  assert.equal((await fromPage(page, "POST", `/api/tasks/${task}/credentials`))[0], 410);
  expected(410);
  const [, t] = await fromPage(page, "GET", `/api/tasks/${task}`, { csrf: false });
  assert.ok(!JSON.stringify(t).includes(password), "the password in the task");
  await page.screenshot({ path: `${shots}/goe-restore.png`, fullPage: true });

  // A viewer may not restore.
  const viewer = await copiesPage("viewer");
  assert.equal((await fromPage(viewer, "POST", `/api/services/${production}/restore`, { body: { archive, as: `${copy}2` } }))[0], 403);
  expected(403);
  await viewer.context().close();
  noProblems();
  await page.context().close();
});

test("an operator restores a backup over training, typed name confirmed, after a backup of it; not over production", async () => {
  const archive = xoeBackups(production)[0];
  const file = `${process.env.XOE_ROOT}/var/lib/oe/xoe/services/${training}/data/${xoe("service", "show", training).service.database}.sqlite`;
  execFileSync("sqlite3", [file, "UPDATE res_user SET name = 'before-restore' WHERE login = 'admin'"]);
  const page = await copiesPage("operator");
  await page.goto(`${url}/service.html?name=${production}`);
  const row = page.locator(`#backups tr[data-archive="${archive}"]`);
  await row.waitFor();
  const before = xoeBackups(training);
  // A name typed wrong, none, production by an operator: refused, nothing done.
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive, into: training, confirm: production } }))[0], 400);
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive, into: training } }))[0], 400);
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive, into: production, confirm: production } }))[0], 403);
  assert.equal((await fromPage(page, "POST", `/api/services/${production}/restore`, { body: { archive, into: `nosuch-${production}`, confirm: `nosuch-${production}` } }))[0], 404);
  expected(400);
  expected(403);
  expected(404);
  assert.deepEqual(xoeBackups(training), before);
  assert.equal(adminName(training), "before-restore");

  await page.fill("#restore-into", training);
  await page.fill("#restore-confirm", training);
  await row.locator('button[data-action="restore-over"]').click();
  await page.locator("#confirm").waitFor({ state: "visible" });
  assert.match(await page.textContent("#confirm-text"), new RegExp(`over ${training}: backs ${training} up`));
  await page.click("#confirm-ok");
  await page.locator("#message").filter({ hasText: /done|failed/ }).waitFor({ timeout: 300000 });
  const text = await page.textContent("#message");
  const saved = text.match(/its previous state in (\S+)\)/)?.[1];
  assert.ok(saved, text);
  assert.match(text, new RegExp(`done ${training} restored from ${archive.replaceAll(".", "\\.")}`));
  // The backup made first is one of training's archives, the restore took production's data.
  assert.deepEqual(xoeBackups(training).filter((b) => !before.includes(b)), [saved]);
  assert.ok(adminName(training).startsWith(`${process.env.GOE_MARKER} [`), adminName(training));
  assert.equal(xoe("service", "show", training).service.state, "run");
  assert.equal(xoe("service", "show", training).service.role, "training");
  noProblems();
  await page.context().close();
});
