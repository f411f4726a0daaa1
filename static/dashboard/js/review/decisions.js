// What goes to the server: saving masks, approve, reject, skip, give back, region re-runs, the lease.
"use strict";

import { getJSON, postBlob, postJSON } from "../http.js";
import { keepLease } from "../lease.js";

const REGION_POLL_MS = 1000;
const REGION_WAIT_MS = 90_000;

export async function save(page) {
  if (!page.mask || !page.mask.dirty) return false;
  page.say("Saving the mask…");
  const blob = await page.mask.toBlob();
  const answer = await postBlob(page.api + "mask", blob);
  page.mask.markSaved();
  page.setVersion(answer.version);
  page.say(`Saved as version ${answer.version}.`);
  return true;
}

export const saveNow = (page) => page.guard(() => save(page));

export const approve = (page) => page.guard(async () => {
  await save(page); // the approval takes the latest stored version: store the edits first
  page.say("Approving…");
  await postJSON(page.api + "approve");
  await openNext(page, null);
});

export const skip = (page) => page.guard(async () => {
  await save(page);
  await openNext(page, page.ticket);
});

export const backToQueue = (page) => page.guard(async () => {
  await save(page);
  await postJSON(page.api + "release");
  leave(page, page.root.dataset.queueUrl);
});

export function runRegion(page, box) {
  return page.guard(async () => {
    await save(page);
    const before = page.version;
    await postJSON(page.api + "region", { box });
    page.say("Re-running the model on the box…");
    const deadline = Date.now() + REGION_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, REGION_POLL_MS));
      const versions = await getJSON(page.api + "versions");
      if (versions.latest > before) {
        // One more step of the history, like a brush stroke: undo brings back the mask before the re-run.
        await page.applyVersion(versions.latest);
        page.say(`The model's new mask for the box is version ${versions.latest} (undo takes it back).`);
        return;
      }
    }
    throw new Error("the re-run has not finished yet; its version will be there when you reopen the order");
  });
}

// Claim the next order and open it; with `release`, this one is given back (a skip).
async function openNext(page, release) {
  const answer = await postJSON(page.root.dataset.claimNextUrl, { release });
  if (!answer.ticket && release) {
    page.say("Nothing else is waiting; this order stays with you.");
    return;
  }
  leave(page, answer.url);
}

function leave(page, url) {
  page.leaving = true;
  location.assign(url);
}

export function bindReject(page) {
  const dialog = document.getElementById("reject-dialog");
  const form = document.getElementById("reject-form");
  const error = document.getElementById("reject-error");
  const reasons = [...form.querySelectorAll('input[name="reason"]')];

  form.addEventListener("submit", async (event) => {
    if (event.submitter && event.submitter.value === "cancel") return; // the dialog closes itself
    event.preventDefault();
    error.hidden = true;
    try {
      await postJSON(page.api + "reject", { reason: form.elements.reason.value, note: form.elements.note.value });
      dialog.close();
      page.say("Rejected.");
      await openNext(page, null);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  dialog.addEventListener("keydown", (event) => {
    const index = Number(event.key) - 1;
    if (event.target.tagName === "TEXTAREA" || !(index >= 0 && index < reasons.length)) return;
    event.preventDefault();
    reasons[index].checked = true;
    reasons[index].focus();
  });
  return () => {
    if (page.busy || page.lost) return;
    error.hidden = true;
    dialog.showModal();
    form.querySelector('input[name="reason"]:checked').focus();
  };
}

// A refusal means the order is no longer this operator's: the page says so and stops editing.
export function keepReviewLease(page) {
  keepLease(page.api + "renew", { paused: () => page.leaving || page.lost, lost: (message) => page.loseOrder(message) });
}
