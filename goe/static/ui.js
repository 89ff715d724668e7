// SPDX-License-Identifier: GPL-3.0-or-later
// What goe's pages share: the header (who is logged in, log out), the
// confirmation dialog, a task followed to its end, and the formats.
import { call, session, logout } from "/api.js";

export function bytes(n) {
  if (n === null || n === undefined) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function duration(s) {
  if (s === null || s === undefined) return "?";
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.append(td);
  return td;
}

export function button(text, action, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.action = action;
  b.addEventListener("click", onClick);
  return b;
}

// Asks in the page's <dialog id="confirm">; true when confirmed.
export function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// Follows task `id` until it ends; returns it (status done or failed).
export async function waitTask(id, onTick) {
  for (;;) {
    const t = await call("GET", `/api/tasks/${id}`);
    if (onTick) onTick(t);
    if (t.status !== "running") return t;
    await new Promise((r) => setTimeout(r, 500));
  }
}

// Starts an action (a POST answered with a task), follows it, and says in
// `message` how it ended. Returns the task, or null when it was refused.
export async function runTask(path, body, message, what) {
  message.textContent = "";
  message.className = "";
  try {
    const { task } = await call("POST", path, body);
    message.textContent = `${what}: task ${task} running`;
    const t = await waitTask(task);
    message.textContent = t.status === "done" ? `${what}: task ${t.id} done ${t.detail}` : `${what}: task ${t.id} failed: ${t.error}`;
    message.className = t.status === "done" ? "" : "error";
    return t;
  } catch (e) {
    if (e.status === 401) window.location.assign("/login.html");
    message.textContent = `${what}: ${e.message}`;
    message.className = "error";
    return null;
  }
}

// The session, shown in the header with its log out button; null (and to
// the login page) without one.
export async function header() {
  const me = await session();
  if (!me) return null;
  document.getElementById("who").textContent = `${me.user} (${me.role})`;
  document.getElementById("logout").addEventListener("click", async () => {
    await logout();
    window.location.assign("/login.html");
  });
  return me;
}
