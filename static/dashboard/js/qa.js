// The QA check page: click either view to pin the note (original-image pixels), P passes, Ctrl+Enter sends back.
"use strict";

import { onShortcut, plainKey } from "./keys.js";

const root = document.getElementById("qa");
const width = Number(root.dataset.width);
const height = Number(root.dataset.height);
const pinX = document.getElementById("pin-x");
const pinY = document.getElementById("pin-y");
const pinState = document.getElementById("pin-state");
const note = document.getElementById("qa-note-input");
const sendBack = document.getElementById("send-back-form");
const passForm = document.getElementById("pass-form");

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
  }
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
    location.assign(root.dataset.listUrl);
    return true;
  }
  return false;
});
