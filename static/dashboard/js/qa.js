// The QA check page: click either view to pin the note (original-image pixels), P passes, Ctrl+Enter sends back,
// Q gives the check back. The hold is renewed while the page is open, as on the review page.
"use strict";

import { postJSON } from "./http.js";
import { onShortcut, plainKey } from "./keys.js";
import { keepLease } from "./lease.js";

const root = document.getElementById("qa");
const width = Number(root.dataset.width);
const height = Number(root.dataset.height);
const pinX = document.getElementById("pin-x");
const pinY = document.getElementById("pin-y");
const pinState = document.getElementById("pin-state");
const note = document.getElementById("qa-note-input");
const sendBack = document.getElementById("send-back-form");
const passForm = document.getElementById("pass-form");
const status = document.getElementById("qa-status");
let leaving = false; // a decision or a give-back is on its way: no more renewals
let lost = false;

// The viewBox is the original's pixel grid, so the inverse screen matrix maps a click straight to a pixel.
function imagePoint(svg, event) {
  const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
  return { x: Math.floor(point.x), y: Math.floor(point.y) };
}

function pin(x, y) {
  pinX.value = x;
  pinY.value = y;
  for (const marker of document.querySelectorAll(".qa-marker")) {
    marker.setAttribute("cx", x);
    marker.setAttribute("cy", y);
    marker.setAttribute("visibility", "visible");
  }
  pinState.textContent = `Pinned at (${x}, ${y}).`;
  pinState.classList.remove("error");
  root.dataset.pinned = `${x},${y}`;
}

for (const svg of document.querySelectorAll(".qa-view")) {
  svg.addEventListener("click", (event) => {
    const { x, y } = imagePoint(svg, event);
    if (x < 0 || y < 0 || x >= width || y >= height) return;  // the margin around a fitted image
    pin(x, y);
  });
}

function loseCheck(message) {
  lost = true;
  for (const button of document.querySelectorAll("#pass, #send-back")) button.disabled = true;
  status.textContent = `You no longer hold this check: ${message}. Go back to the QA list.`;
  status.classList.add("error");
}

// Undecided, back to the list; a refused release (the hold had lapsed) changes nothing worth saying.
async function giveBack() {
  leaving = true;
  if (!lost) await postJSON(root.dataset.releaseUrl).catch(() => {});
  location.assign(root.dataset.listUrl);
}

passForm.addEventListener("submit", () => { leaving = true; });

sendBack.addEventListener("submit", (event) => {
  if (pinX.value === "" || pinY.value === "") {
    event.preventDefault();
    pinState.textContent = "Click the image to pin the note to the problem first.";
    pinState.classList.add("error");
  } else if (!note.value.trim()) {
    event.preventDefault();
    pinState.textContent = "Write what to fix in the note first.";
    pinState.classList.add("error");
    note.focus();
  } else {
    leaving = true;
  }
});

document.getElementById("back").addEventListener("click", (event) => {
  event.preventDefault();
  giveBack();
});

note.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    sendBack.requestSubmit();
  }
});

onShortcut((event) => {
  if (!plainKey(event)) return false;
  const key = event.key.toLowerCase();
  if (key === "p") {
    passForm.requestSubmit();
    return true;
  }
  if (key === "n") {
    note.focus();
    return true;
  }
  if (key === "q") {
    giveBack();
    return true;
  }
  return false;
});

keepLease(root.dataset.renewUrl, { paused: () => leaving || lost, lost: loseCheck });
