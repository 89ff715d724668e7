// SPDX-License-Identifier: GPL-3.0-or-later
// The Services page: every service with xoe monitor's measures and the
// actions the user's role allows, each after a confirmation.
import { call, session, logout } from "/api.js";

const body = document.querySelector("#services tbody");
const message = document.getElementById("message");
const dialog = document.getElementById("confirm");
// A backup older than this is stale (red), as xoe nightly backs up daily.
const staleSeconds = 26 * 3600;

function bytes(n) {
  if (n === null || n === undefined) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function duration(s) {
  if (s === null || s === undefined) return "?";
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.append(td);
  return td;
}

function confirmAction(text) {
  document.getElementById("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

async function act(service, action) {
  if (!(await confirmAction(`${action} ${service.name} (${service.role})?`))) return;
  message.textContent = "";
  try {
    await call("POST", `/api/services/${encodeURIComponent(service.name)}/${action}`);
  } catch (e) {
    message.textContent = `${action} ${service.name}: ${e.message}`;
  }
  await load();
}

function render(services) {
  body.replaceChildren();
  for (const s of services) {
    const row = document.createElement("tr");
    row.dataset.service = s.name;
    cell(row, s.name);
    cell(row, s.role);
    cell(row, s.state + (s.state === "run" && !s.up ? " (not answering)" : ""), `state state-${s.state}`);
    cell(row, `${s.software} ${s.version}`);
    cell(row, s.state === "run" ? duration(s.seconds) : "");
    cell(row, bytes(s.memory_bytes));
    cell(row, bytes(s.db_bytes));
    cell(row, s.users ?? "?");
    cell(row, s.last_login ?? "never");
    const age = s.backup_age_seconds;
    cell(row, s.last_backup ? `${duration(age)} ago` : "none",
         s.last_backup === null || age > staleSeconds ? "stale" : "");
    const td = cell(row, "");
    for (const a of s.actions) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = a;
      b.dataset.action = a;
      b.addEventListener("click", () => act(s, a));
      td.append(b);
    }
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

const me = await session();
if (me) {
  document.getElementById("who").textContent = `${me.user} (${me.role})`;
  document.getElementById("logout").addEventListener("click", async () => {
    await logout();
    window.location.assign("/login.html");
  });
  await load();
}
