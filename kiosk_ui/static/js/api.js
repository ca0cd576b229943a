// The kiosk's only door to the agent: JSON in and out, the CSRF token on every change, and the
// agent's French error messages passed through unchanged.
import { T } from "./i18n.js";

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || [];
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// Automatic refreshes (none yet: a status poll, the sync queue) must pass {background: true}, so
// that they do not keep an unattended kiosk unlocked.
export async function api(method, path, body, { background = false } = {}) {
  const response = await send(method, path, body, { background, accept: "application/json" });
  if (response.status === 204) return null;
  if (!response.ok) throw await failure(response);
  try {
    return await response.json();
  } catch {
    return null;
  }
}

// A binary answer (the camera's photo, POST /cameras/snapshot) as a Blob; errors as api() says them.
export async function apiBlob(method, path) {
  const response = await send(method, path, undefined, { background: false, accept: "image/jpeg, application/json" });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

async function send(method, path, body, { background, accept }) {
  const headers = { Accept: accept };
  const form = body instanceof FormData;  // a file upload: the browser writes the multipart body
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (background) headers["X-Telecart-Background"] = "1";
  try {
    return await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    window.dispatchEvent(new CustomEvent("telecart:offline"));  // app.js says so and waits for the agent
    throw new ApiError(0, "network", T.networkError);
  }
}

// The agent's refusal as an ApiError (its French message), the session's end or lock announced.
async function failure(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const error = new ApiError(response.status, data?.error || "unknown", data?.message || T.genericError, data?.fields);
  error.duplicates = data?.duplicates || [];  // 409 likely_duplicate: the identities it may be
  if (error.code === "session_locked") window.dispatchEvent(new CustomEvent("telecart:locked"));
  else if (error.code === "not_logged_in" || error.code === "session_expired") {
    // Only a session that is gone signs out; a wrong password on the lock screen is just an error.
    window.dispatchEvent(new CustomEvent("telecart:signed-out"));
  }
  return error;
}
