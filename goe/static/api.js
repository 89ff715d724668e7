// SPDX-License-Identifier: GPL-3.0-or-later
// goe's calls to its own API: JSON, the session cookie, and the CSRF token
// in the X-CSRF-Token header of every state-changing request.

let csrf = null;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || res.statusText);
  return data;
}

// The session (user, role, CSRF token), or to the login page without one.
export async function session() {
  try {
    const s = await call("GET", "/api/session");
    csrf = s.csrf;
    return s;
  } catch (e) {
    if (e.status === 401) {
      window.location.assign("/login.html");
      return null;
    }
    throw e;
  }
}

export async function login(user, password) {
  const s = await call("POST", "/api/login", { user, password });
  csrf = s.csrf;
  return s;
}

export async function logout() {
  await call("POST", "/api/logout");
  csrf = null;
}
