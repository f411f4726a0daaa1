// On every dashboard page: the "?" shortcut list and live "time left" cells.
"use strict";

import { isTyping } from "./keys.js";
import { refreshTimesLeft } from "./timeleft.js";

const help = document.getElementById("help");

function toggleHelp() {
  if (help.open) help.close();
  else help.showModal();
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "?" || isTyping(event.target)) return;
  const other = document.querySelector("dialog[open]:not(#help)");
  if (other) return;
  event.preventDefault();
  toggleHelp();
});
for (const button of document.querySelectorAll(".help-open")) button.addEventListener("click", toggleHelp);

refreshTimesLeft();
setInterval(refreshTimesLeft, 30_000);
