// Test forms of the developer page: send the form to the live API and show the raw answer.
"use strict";

function formFields(form) {
  const fields = {};
  for (const input of form.querySelectorAll("input")) fields[input.name] = input.value.trim();
  return fields;
}

function buildUrl(form, fields) {
  let path = form.dataset.path;
  for (const [name, value] of Object.entries(fields)) {
    const slot = "{" + name + "}";
    if (path.includes(slot)) {
      path = path.replace(slot, encodeURIComponent(value));
      delete fields[name];
    }
  }
  return path;
}

async function send(event) {
  event.preventDefault();
  const form = event.target;
  const out = form.querySelector(".response");
  const fields = formFields(form);
  let url = buildUrl(form, fields);
  const options = { method: form.dataset.method, headers: { Accept: "application/xml" } };
  if (options.method === "GET" || options.method === "DELETE") {
    // Empty filters are left out, so the server applies its defaults.
    const given = Object.entries(fields).filter(([, value]) => value !== "");
    url += "?" + new URLSearchParams(given).toString();
  } else {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(fields, null, 2);
    form.querySelector(".sent").textContent = options.body;
  }
  out.textContent = "…";
  try {
    const response = await fetch(url, options);
    out.textContent = `HTTP ${response.status}\n\n` + (await response.text());
  } catch (err) {
    out.textContent = "Request failed: " + err;
  }
}

for (const form of document.querySelectorAll("form.tryit")) form.addEventListener("submit", send);
