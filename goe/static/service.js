// SPDX-License-Identifier: GPL-3.0-or-later
// A service's detail page: its configuration, the last lines of its log
// (followed every two seconds, or paused), its backups (back up now,
// verify, restore into a new service) and its history (the tasks run on it).
import { call } from "/api.js";
import { bytes, button, cell, confirmAction, header, runTask } from "/ui.js";

const name = new URLSearchParams(window.location.search).get("name") ?? "";
const message = document.getElementById("message");
const log = document.getElementById("log");
const follow = document.getElementById("follow");
let following = true;
let busy = false;

function taskRow(t) {
  const row = document.createElement("tr");
  row.dataset.task = t.id;
  row.className = `task-${t.status}`;
  for (const v of [String(t.id), t.kind, t.user, t.started, t.ended ?? ""]) cell(row, v);
  cell(row, t.status, `status status-${t.status}`);
  cell(row, t.status === "failed" ? t.error : t.detail);
  return row;
}

async function act(service, action, body, text) {
  if (!(await confirmAction(text))) return;
  busy = true;
  await runTask(`/api/services/${encodeURIComponent(service.name)}/${action}`, body, message, `${action} ${service.name}`);
  busy = false;
  await load();
}

// Restores an archive into a new service named in #restore-as, then shows
// its admin's credentials, read once from goe.
async function restoreAsNew(service, archive) {
  const as = document.getElementById("restore-as").value.trim();
  if (!(await confirmAction(`restore ${archive} into a new service ${as} (role test, neutralised)?`))) return;
  busy = true;
  const t = await runTask(`/api/services/${encodeURIComponent(service.name)}/restore`, { archive, as }, message,
    `restore ${archive} as ${as}`);
  if (t?.status === "done") {
    try {
      const { credentials } = await call("POST", `/api/tasks/${t.id}/credentials`);
      const body = document.querySelector("#restored-credentials tbody");
      body.replaceChildren();
      for (const c of credentials) {
        const row = document.createElement("tr");
        for (const k of ["login", "password", "database", "url"]) cell(row, c[k], k);
        body.append(row);
      }
      document.getElementById("restored").hidden = false;
    } catch (e) {
      message.textContent = e.message;
      message.className = "error";
    }
  }
  busy = false;
  await load();
}

// Restores an archive over the service named in #restore-into (typed again
// in #restore-confirm); goe backs it up first.
async function restoreOver(service, archive) {
  const into = document.getElementById("restore-into").value.trim();
  const confirm = document.getElementById("restore-confirm").value.trim();
  if (!(await confirmAction(`restore ${archive} over ${into}: backs ${into} up, then replaces its database and data?`)))
    return;
  busy = true;
  await runTask(`/api/services/${encodeURIComponent(service.name)}/restore`, { archive, into, confirm }, message,
    `restore ${archive} over ${into}`);
  busy = false;
  await load();
}

function render(d) {
  const s = d.service;
  document.getElementById("title").textContent = `${s.name} (${s.role})`;
  document.title = `goe: ${s.name}`;
  const summary = document.getElementById("summary");
  summary.replaceChildren();
  const fields = [
    ["State", s.state], ["Software", `${s.software} ${s.version}`], ["Role", s.role], ["URL", s.url],
    ["Port", String(s.port)], ["Database", `${s.database} (${s.backend})`], ["System user", s.user],
    ["Supervisor", s.supervisor || "?"], ["Modules", s.modules.length ? s.modules.join(", ") : "(base)"],
  ];
  for (const [k, v] of fields) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.field = k.toLowerCase().replace(" ", "-");
    summary.append(dt, dd);
  }
  const actions = document.getElementById("actions");
  actions.replaceChildren();
  for (const a of d.actions.filter((x) => x !== "verify" && x !== "restore"))
    actions.append(button(a === "backup" ? "back up now" : a, a, () => act(s, a, undefined, `${a} ${s.name} (${s.role})?`)));
  log.textContent = d.log.join("\n");
  log.scrollTop = log.scrollHeight;

  // An archive is verified when its newest verify task ended done (the
  // task's detail, or its error, starts with the archive's name).
  const verified = new Map();
  for (const t of d.tasks) {
    if (t.kind !== "verify" || t.status === "running") continue;
    const archive = (t.status === "done" ? t.detail : t.error).split(" ")[0];
    if (!verified.has(archive)) verified.set(archive, t.status === "done" ? "yes" : "failed");
  }
  document.getElementById("restore-form").hidden = !d.actions.includes("restore");
  const backups = document.querySelector("#backups tbody");
  backups.replaceChildren();
  for (const b of d.backups) {
    const row = document.createElement("tr");
    row.dataset.archive = b.archive;
    cell(row, b.time);
    cell(row, b.archive);
    cell(row, bytes(b.bytes));
    const v = verified.get(b.archive) ?? "no";
    cell(row, v, `verified verified-${v}`);
    const td = cell(row, "");
    if (d.actions.includes("verify"))
      td.append(button("verify", "verify", () =>
        act(s, "verify", { archive: b.archive }, `verify ${b.archive} (restored into a scratch service, then removed)?`)));
    if (d.actions.includes("restore")) {
      td.append(button("restore as new", "restore", () => restoreAsNew(s, b.archive)));
      td.append(button("restore over", "restore-over", () => restoreOver(s, b.archive)));
    }
    backups.append(row);
  }
  document.querySelector("#history tbody").replaceChildren(...d.tasks.map(taskRow));
}

async function load() {
  try {
    render(await call("GET", `/api/services/${encodeURIComponent(name)}`));
  } catch (e) {
    if (e.status === 401) window.location.assign("/login.html");
    else {
      message.textContent = e.message;
      message.className = "error";
    }
  }
}

follow.addEventListener("click", () => {
  following = !following;
  follow.textContent = following ? "Pause" : "Follow";
});

if (await header()) {
  await load();
  setInterval(() => {
    if (following && !busy) load();
  }, 2000);
}
