// SPDX-License-Identifier: GPL-3.0-or-later
// The Tasks page: every action of the panel, newest first, with who asked
// for it and how it ended (the audit trail), and the log of the one chosen;
// refreshed every two seconds.
import { call } from "/api.js";
import { button, cell, header } from "/ui.js";

const body = document.querySelector("#tasks tbody");
const message = document.getElementById("message");

export function taskRow(t, withTarget) {
  const row = document.createElement("tr");
  row.dataset.task = t.id;
  row.className = `task-${t.status}`;
  cell(row, String(t.id));
  cell(row, t.kind);
  if (withTarget) {
    const td = cell(row, "");
    const a = document.createElement("a");
    a.href = `/service.html?name=${encodeURIComponent(t.target)}`;
    a.textContent = t.target;
    td.append(a);
  }
  cell(row, t.user);
  cell(row, t.started);
  cell(row, t.ended ?? "");
  cell(row, t.status, `status status-${t.status}`);
  cell(row, t.status === "failed" ? t.error : t.detail);
  if (withTarget) cell(row, "").append(button("log", "log", () => showLog(t.id)));
  return row;
}

// The log of the task chosen, followed while the page refreshes.
let shown = null;
async function showLog(id) {
  shown = id;
  const t = await call("GET", `/api/tasks/${id}`);
  const pre = document.getElementById("task-log");
  document.getElementById("task-log-title").textContent = `Log of task ${t.id} (${t.kind} ${t.target}, ${t.status})`;
  pre.textContent = t.log.length ? t.log.join("\n") : "(no log lines)";
  document.getElementById("task-log-section").hidden = false;
}

async function load() {
  try {
    const { tasks } = await call("GET", "/api/tasks");
    body.replaceChildren(...tasks.map((t) => taskRow(t, true)));
    message.textContent = "";
    if (shown !== null) await showLog(shown);
  } catch (e) {
    if (e.status === 401) window.location.assign("/login.html");
    else message.textContent = e.message;
  }
}

if (document.getElementById("tasks") && (await header())) {
  await load();
  setInterval(load, 2000);
}
