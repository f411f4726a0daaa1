// Calls to the dashboard's JSON endpoints: same-origin, CSRF token in X-CSRFToken, errors as exceptions.
"use strict";

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

async function send(method, url, body, contentType) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(answer.message || `HTTP ${response.status}`);
    error.status = response.status;
    error.answer = answer; // the server's JSON, e.g. {"error": "staleVersion", "latest": N}
    throw error;
  }
  return answer;
}

export const getJSON = (url) => send("GET", url);
export const postJSON = (url, body = {}) => send("POST", url, JSON.stringify(body), "application/json");
export const postBlob = (url, blob) => send("POST", url, blob, blob.type || "application/octet-stream");
