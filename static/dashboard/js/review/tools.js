// The server's mask tools on the review page: keep/remove markers (refine), the hair band (matte) and
// cleanup. Each call names the version it was made on; its answer is the next version, loaded into the
// editor as one more undoable step. A 409 means another tab or tool saved first: that version is loaded.
"use strict";

import { postJSON } from "../http.js";
import { save } from "./decisions.js";

// The server's limits (dashboard/api.py): refine strokes and points, brush radii.
const MAX_STROKES = 50;
const MAX_POINTS = 5000;
const MAX_RADIUS = { keep: 200, remove: 200, matte: 100 };

export const MARK_TOOLS = { keep: "keep", remove: "remove", band: "matte" };

// Words for the cleanup settings; the keys, their ranges and starting values are the server's
// (orders/cleanup_settings.py), rendered into the page with the operator's own values.
const CLEANUP_LABELS = {
  fill_holes: ["Fill holes up to", "px"],
  remove_islands: ["Remove islands up to", "px"],
  keep_largest: ["Keep largest parts", "(0 = all)"],
  smooth: ["Smooth", "px"],
  grow: ["Grow (− shrinks)", "px"],
};

// --- markers and bands: captured by pointer.js, sent when the stroke ends --------------------------

// The brush size is a diameter, as for the brush; each tool's radius has the server's bounds.
export function markRadius(page) {
  return Math.max(1, Math.min(MAX_RADIUS[MARK_TOOLS[page.tool]], Math.round(page.size / 2)));
}

export function beginMark(page, x, y) {
  const mark = { mode: MARK_TOOLS[page.tool], radius: markRadius(page), points: [[x, y]] };
  page.view.marks.push(mark);
  return mark;
}

export function extendMark(mark, x, y) {
  const [lx, ly] = mark.points[mark.points.length - 1];
  // A point every quarter radius is plenty: the server joins them with round-ended lines.
  if (Math.hypot(x - lx, y - ly) >= Math.max(1, mark.radius / 4)) mark.points.push([x, y]);
}

// Sends every finished mark waiting on the page; marks drawn while a call runs go in the next one.
export function sendMarks(page) {
  if (page.busy || page.lost || !page.view.marks.length) return;
  page.guard(async () => {
    const waiting = page.view.marks;
    const band = waiting.find((m) => m.mode === "matte");
    const markers = waiting.filter((m) => m.mode !== "matte").slice(0, MAX_STROKES);
    const sent = markers.length ? markers : [band];
    try { // whatever happens, these marks are done with (a failure is said, not retried)
      await save(page); // the tools work on the stored latest version: store brush edits first
      if (markers.length) {
        const what = markers.every((m) => m.mode === "keep") ? "keep" : markers.every((m) => m.mode === "remove") ? "remove" : "keep/remove";
        await runTool(page, "refine", { strokes: markers.map(onWire) }, `Re-solving the mask from your ${what} marker…`,
                      `${what} marker`);
      } else {
        await runTool(page, "matte", { radius: band.radius, points: thin(band.points, MAX_POINTS) },
                      "Matting the hair band…", "hair band");
      }
    } finally {
      page.view.marks = page.view.marks.filter((m) => !sent.includes(m));
      page.view.requestRender();
    }
  }).then(() => sendMarks(page));
}

function onWire(mark, _index, all) {
  return { mode: mark.mode, radius: mark.radius, points: thin(mark.points, Math.floor(MAX_POINTS / all.length)) };
}

// At most `limit` points, spread evenly along the stroke, ends kept; rounded to 0.1 px.
function thin(points, limit) {
  let kept = points;
  if (points.length > limit) {
    const step = (points.length - 1) / (limit - 1);
    kept = Array.from({ length: limit }, (_, i) => points[Math.round(i * step)]);
  }
  return kept.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
}

// --- cleanup with the operator's remembered settings -----------------------------------------------

// The settings panel, filled with the operator's values as the server rendered them. Each change is
// stored on the server (one call after another, so the last change wins): another browser or a new
// sign-in finds it. Returns the settings object the C key runs with.
export function bindCleanupPanel(page, container) {
  const { fields, values, url } = JSON.parse(page.root.dataset.cleanup);
  const settings = { ...values };
  let storing = Promise.resolve();
  for (const { key, min, max } of fields) {
    const [label, unit] = CLEANUP_LABELS[key];
    const field = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "number", name: key, min, max, step: 1, value: settings[key] });
    input.addEventListener("change", () => {
      const value = Math.round(Number(input.value));
      if (!Number.isFinite(value) || value < min || value > max || input.value === "") {
        input.value = settings[key];
        page.say(`${label}: a whole number from ${min} to ${max}.`, true);
        return;
      }
      input.value = value;
      settings[key] = value;
      const sent = { ...settings };
      storing = storing.then(() => postJSON(url, sent)).catch((failure) => {
        page.say(`The cleanup settings could not be stored: ${failure.message}`, true);
      });
    });
    field.append(`${label} `, input, ` ${unit}`);
    container.append(field);
  }
  return settings;
}

export function runCleanup(page, settings) {
  if (!Object.values(settings).some((value) => value !== 0)) {
    page.say("Every cleanup setting is 0: open Cleanup settings and choose what to clean.", true);
    return;
  }
  page.guard(async () => {
    await save(page);
    await runTool(page, "cleanup", settings, "Cleaning up the mask…", "cleanup");
  });
}

// --- the call ------------------------------------------------------------------------------------

async function runTool(page, tool, body, working, label) {
  page.working(working);
  try {
    const answer = await postJSON(page.api + tool, { ...body, base_version: page.version });
    const changed = await page.applyVersion(answer.version);
    page.say(changed ? `The ${label} made version ${answer.version} (undo takes it back).`
                     : `The ${label} changed nothing; version ${answer.version} is the same mask.`);
  } catch (failure) {
    const latest = failure.answer?.latest;
    if (failure.status !== 409 || !Number.isInteger(latest)) throw failure;
    await page.applyVersion(latest);
    page.say(`Not applied: version ${latest} was saved meanwhile (another tab or tool). It is loaded now; ` +
             `check it and use the ${label} again.`, true);
  } finally {
    page.working(null);
  }
}
