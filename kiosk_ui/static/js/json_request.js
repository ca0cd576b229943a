// JSON (or a file's form) to the agent and JSON back, for the pages outside the kiosk (the specialist's, the technician's):
// the CSRF token on every change, the agent's French message on an error, a French word when the
// cart cannot be reached. The kiosk itself goes through api.js (its lock and sign-out events).
export async function jsonRequest(method, path, body, csrf, unreachable = "Le chariot ne répond pas. Vérifiez votre connexion puis réessayez.") {
  const headers = { Accept: "application/json" };
  const form = body instanceof FormData;  // a file: sent as multipart, the browser sets its boundary
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined || form ? body : JSON.stringify(body),
                                   credentials: "same-origin", cache: "no-store" });
  } catch {
    throw Object.assign(new Error(unreachable), { status: 0 });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(data?.message || "Une erreur est survenue."), { status: response.status, code: data?.error });
  return data;
}
