// The QA list: C claims the next QA check and opens it.
"use strict";

import { onShortcut, plainKey } from "./keys.js";

const claimForm = document.getElementById("claim-next-form");

onShortcut((event) => {
  if (!plainKey(event) || event.key.toLowerCase() !== "c") return false;
  claimForm.requestSubmit();
  return true;
});
