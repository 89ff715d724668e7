// SPDX-License-Identifier: GPL-3.0-or-later
// The Services page: every service with xoe monitor's measures, its last
// backup (red when stale or failed) and the actions the user's role allows,
// each after a confirmation, each a task followed to its end.
import { call } from "/api.js";
import { bytes, button, cell, confirmAction, duration, header, runTask } from "/ui.js";

const body = document.querySelector("#services tbody");
const message = document.getElementById("message");
// A backup older than this is stale (red), as xoe nightly backs up daily.
const staleSeconds = 26 * 3600;

async function act(service, action) {
  if (!(await confirmAction(`${action} ${service.name} (${service.role})?`))) return;
  await runTask(`/api/services/${encodeURIComponent(service.name)}/${action}`, undefined, message,
                `${action} ${service.name}`);
  await load();
}

function backupCell(row, s) {
  const age = s.backup_age_seconds;
  let text = s.last_backup ? `${duration(age)} ago` : "none";
  let bad = s.last_backup === null || age > staleSeconds;
  if (s.backup && s.backup.result === "failed") {
    text = `failed (task ${s.backup.task})${s.last_backup ? `; last good ${duration(age)} ago` : ""}`;
    bad = true;
  }
  const td = cell(row, text, `backup ${bad ? "stale" : "fresh"}`);
  if (s.backup && s.backup.error) td.title = s.backup.error;
}

function render(services) {
  body.replaceChildren();
  for (const s of services) {
    const row = document.createElement("tr");
    row.dataset.service = s.name;
    const name = cell(row, "");
    const a = document.createElement("a");
    a.href = `/service.html?name=${encodeURIComponent(s.name)}`;
    a.textContent = s.name;
    name.append(a);
    cell(row, s.role);
    cell(row, s.state + (s.state === "run" && !s.up ? " (not answering)" : ""), `state state-${s.state}`);
    cell(row, `${s.software} ${s.version}`);
    cell(row, s.state === "run" ? duration(s.seconds) : "");
    cell(row, bytes(s.memory_bytes));
    cell(row, bytes(s.db_bytes));
    cell(row, s.users ?? "?");
    cell(row, s.last_login ?? "never");
    backupCell(row, s);
    const td = cell(row, "");
    for (const action of s.actions) td.append(button(action, action, () => act(s, action)));
    body.append(row);
  }
}

async function load() {
  try {
    const data = await call("GET", "/api/services");
    render(data.services);
  } catch (e) {
    if (e.status === 401) window.location.assign("/login.html");
    else message.textContent = e.message;
  }
}

if (await header()) await load();
