// A held order's lease (review or QA), renewed while its page is open: without renewals it lapses after
// REVIEW_LEASE_SECONDS and the order goes back to whoever claims it next.
"use strict";

import { postJSON } from "./http.js";

const LEASE_RENEWAL_MS = 60_000;

// paused(): nothing to renew now (leaving, or already lost); lost(message): the server refused, the order
// is no longer this person's. A network failure is not a refusal: the next renewal tries again.
export function keepLease(url, { paused, lost }) {
  setInterval(async () => {
    if (paused()) return;
    try {
      await postJSON(url);
    } catch (failure) {
      if (failure.status >= 400 && failure.status < 500) lost(failure.message);
    }
  }, LEASE_RENEWAL_MS);
}
