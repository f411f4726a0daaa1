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

export const CLEANUP_FIELDS = [
  // [key, label, unit, min, max, default]
  ["fill_holes", "Fill holes up to", "px", 0, 25_000_000, 100],
  ["remove_islands", "Remove islands up to", "px", 0, 25_000_000, 100],
  ["keep_largest", "Keep largest parts", "(0 = all)", 0, 1000, 0],
  ["smooth", "Smooth", "px", 0, 100, 0],
  ["grow", "Grow (− shrinks)", "px", -100, 100, 0],
];

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

// Settings live in this browser's localStorage, one entry per operator name.
function settingsKey(page) {
  return `cleanup-settings:${page.operator}`;
}

export function loadCleanupSettings(page) {
  const settings = Object.fromEntries(CLEANUP_FIELDS.map(([key, , , , , fallback]) => [key, fallback]));
  try {
    const stored = JSON.parse(localStorage.getItem(settingsKey(page)) || "{}");
    for (const [key, , , min, max] of CLEANUP_FIELDS) {
      const value = stored[key];
      if (Number.isFinite(value) && value >= min && value <= max) settings[key] = value;
    }
  } catch (failure) {
    // a broken entry: the defaults
  }
  return settings;
}

export function storeCleanupSettings(page, settings) {
  try {
    localStorage.setItem(settingsKey(page), JSON.stringify(settings));
  } catch (failure) {
    page.say("The cleanup settings could not be remembered in this browser.", true);
  }
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
