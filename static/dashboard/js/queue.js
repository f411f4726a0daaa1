// The queue: the count follows the server without a reload; C claims the next order.
"use strict";

import { getJSON } from "./http.js";
import { onShortcut, plainKey } from "./keys.js";

const POLL_MS = 10_000;
const count = document.getElementById("queue-count");
const claimForm = document.getElementById("claim-next-form");

async function refreshCount() {
  try {
    const answer = await getJSON(count.dataset.url);
    count.textContent = answer.count;
  } catch (error) {
    // A missed poll is harmless; the next one catches up.
  }
}

onShortcut((event) => {
  if (!plainKey(event)) return false;
  const key = event.key.toLowerCase();
  if (key === "c") {
    claimForm.requestSubmit();
    return true;
  }
  if (key === "b") {
    location.assign(document.querySelector('nav a[href$="/bulk"]').href);
    return true;
  }
  return false;
});

setInterval(refreshCount, POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refreshCount(); });
