// SPDX-License-Identifier: GPL-3.0-or-later
// The Copies page: training refresh from production (which backup it uses,
// what it overwrites) and students (disseminate a database to a group, the
// credentials shown once, the groups listed and removed). Each action is a
// task whose log is shown while it runs.
import { call } from "/api.js";
import { button, cell, confirmAction, header, waitTask } from "/ui.js";

const message = document.getElementById("message");
const taskLog = document.getElementById("task-log");
let canDisseminate = false;

function say(text, error) {
  message.textContent = text;
  message.className = error ? "error" : "";
}

// Starts a task, shows its log while it runs, says how it ended.
async function run(path, body, what) {
  say("");
  try {
    const { task } = await call("POST", path, body);
    say(`${what}: task ${task} running`);
    taskLog.hidden = false;
    const t = await waitTask(task, (t) => {
      taskLog.textContent = (t.log ?? []).join("\n");
    });
    if (t.status === "done") say(`${what}: task ${t.id} done: ${t.detail}`);
    else say(`${what}: task ${t.id} failed: ${t.error}`, true);
    return t;
  } catch (e) {
    if (e.status === 401) window.location.assign("/login.html");
    say(`${what}: ${e.message}`, true);
    return null;
  }
}

function renderRefresh(trainings) {
  const body = document.querySelector("#refresh tbody");
  body.replaceChildren();
  for (const t of trainings) {
    const row = document.createElement("tr");
    row.dataset.training = t.training;
    cell(row, t.training);
    cell(row, t.production ?? "(no production NAME-production or NAME)");
    cell(row, t.backup ? `${t.backup.archive} (${t.backup.time})` : "none", "backup");
    const overwrites = `the database ${t.overwrites.database} (${t.overwrites.backend}) and the data of ${t.training}`;
    cell(row, overwrites, "overwrites");
    const td = cell(row, "");
    if (t.refresh)
      td.append(button("refresh", "refresh", async () => {
        if (!(await confirmAction(`refresh ${t.training} from ${t.production}: restores its backup ${t.backup.archive} ` +
            `(${t.backup.time}) into ${t.training}, overwriting ${overwrites}?`))) return;
        await run("/api/copies/refresh", { training: t.training }, `refresh ${t.training}`);
        await load();
      }));
    body.append(row);
  }
}

function renderGroups(groups) {
  const body = document.querySelector("#groups tbody");
  body.replaceChildren();
  for (const g of groups) {
    const row = document.createElement("tr");
    row.dataset.group = g.group;
    cell(row, g.group);
    cell(row, g.service);
    const td = cell(row, "", "databases");
    for (const d of g.databases) {
      const div = document.createElement("div");
      div.dataset.login = d.login;
      div.textContent = `${d.login}: ${d.database} (${d.state}) ${d.url}`;
      td.append(div);
    }
    const actions = cell(row, "");
    if (g.remove)
      actions.append(button("remove", "remove", async () => {
        if (!(await confirmAction(`remove group ${g.group}: drops its ${g.databases.length} databases?`))) return;
        await run(`/api/copies/students/${encodeURIComponent(g.group)}/remove`, undefined, `remove ${g.group}`);
        await load();
      }));
    body.append(row);
  }
}

function renderSources(sources) {
  const select = document.getElementById("source");
  const chosen = select.value;
  select.replaceChildren();
  for (const s of sources) {
    const o = document.createElement("option");
    o.value = s.name;
    o.textContent = `${s.name} (${s.role})`;
    select.append(o);
  }
  if (chosen) select.value = chosen;
  canDisseminate = sources.length > 0;
  document.getElementById("disseminate-form").hidden = !canDisseminate;
}

async function load() {
  try {
    const d = await call("GET", "/api/copies");
    renderRefresh(d.trainings);
    renderSources(d.sources);
    renderGroups(d.groups);
  } catch (e) {
    if (e.status === 401) window.location.assign("/login.html");
    else say(e.message, true);
  }
}

// The credentials of a finished dissemination: read once from goe, shown
// in the page until it is left.
async function showCredentials(task) {
  const { credentials } = await call("POST", `/api/tasks/${task}/credentials`);
  const body = document.querySelector("#credentials tbody");
  body.replaceChildren();
  for (const c of credentials) {
    const row = document.createElement("tr");
    row.dataset.login = c.login;
    cell(row, c.login, "login");
    cell(row, c.password, "password");
    cell(row, c.database, "database");
    cell(row, c.url, "url");
    body.append(row);
  }
  document.getElementById("handed").hidden = false;
}

document.getElementById("disseminate-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const service = document.getElementById("source").value;
  const group = document.getElementById("group").value;
  const students = Number(document.getElementById("count").value);
  if (!(await confirmAction(`disseminate the database of ${service} to group ${group}: ${students} student copies?`))) return;
  const t = await run("/api/copies/students", { service, group, students }, `disseminate ${service}`);
  if (t?.status === "done") {
    try {
      await showCredentials(t.id);
    } catch (err) {
      say(err.message, true);
    }
  }
  await load();
});

if (await header()) await load();
