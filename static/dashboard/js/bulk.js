// Bulk approval: pick drafts in the grid (or all of them) and approve them in one go.
"use strict";

import { onShortcut, plainKey } from "./keys.js";

const form = document.getElementById("bulk-form");

function boxes() {
  return form ? [...form.querySelectorAll('input[name="ticket"]')] : [];
}

function showCount() {
  const chosen = boxes().filter((box) => box.checked).length;
  document.getElementById("selected-count").textContent = `${chosen} selected`;
  document.getElementById("bulk-approve").disabled = chosen === 0;
}

function selectAll(checked) {
  for (const box of boxes()) box.checked = checked;
  showCount();
}

if (form) {
  form.addEventListener("change", showCount);
  document.getElementById("select-all").addEventListener("click", () => selectAll(true));
  document.getElementById("select-none").addEventListener("click", () => selectAll(false));
  showCount();
}

onShortcut((event) => {
  const key = event.key.toLowerCase();
  if (form && key === "a" && (event.ctrlKey || event.metaKey)) {
    selectAll(true);
    return true;
  }
  if (!plainKey(event)) return false;
  if (form && key === "a" && boxes().some((box) => box.checked)) {
    form.requestSubmit();
    return true;
  }
  if (key === "q") {
    location.assign(document.querySelector(".dash-top .brand").href);
    return true;
  }
  return false;
});
