// The review page: a screen-sized pair of images first, the full mask for editing right after,
// the full original when zoomed in; tools, shortcuts and decisions wired to the panes.
"use strict";

import { onShortcut } from "../keys.js";
import { approve, backToQueue, bindReject, keepReviewLease, runRegion, saveNow, skip } from "./decisions.js";
import { loadImage, maskUrl, originalUrl, prefetch, snapSize } from "./images.js";
import { MaskLayer } from "./mask.js";
import { bindPointer } from "./pointer.js";
import { MARK_TOOLS, bindCleanupPanel, runCleanup } from "./tools.js";
import { MARK_COLOURS, View } from "./view.js";

const root = document.getElementById("review");
const stage = document.getElementById("stage");
const $ = (id) => document.getElementById(id);

const page = {
  root,
  stage,
  ticket: root.dataset.ticket,
  width: Number(root.dataset.width),
  height: Number(root.dataset.height),
  files: root.dataset.files,
  api: root.dataset.api,
  version: Number(root.dataset.maskVersion),
  tool: "brush",
  size: Number($("brush-size").value),
  hardness: Number($("brush-hardness").value) / 100,
  mask: null,
  busy: false,
  lost: false,
  leaving: false,
  fullOriginal: "no",

  say(message, error = false) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", error);
  },

  refresh() {
    $("undo").disabled = !this.mask?.canUndo;
    $("redo").disabled = !this.mask?.canRedo;
    $("save").disabled = !this.mask?.dirty || this.busy;
    $("cleanup").disabled = this.busy || this.lost;
    for (const id of ["approve", "reject", "skip", "back"]) {
      const button = $(id); // a redo has no Reject: the customer already has the image
      if (button) button.disabled = this.busy || (this.lost && id !== "back");
    }
  },

  canEdit() {
    if (this.mask && !this.lost) return true;
    this.say(this.lost ? "This order is no longer yours." : "The full-resolution mask is still loading…", true);
    return false;
  },

  setVersion(version) {
    this.version = version;
    $("version").textContent = `version ${version}`;
  },

  // Progress while a mask tool runs on the server (a second or so at 12 MP); null ends it.
  working(message) {
    $("tool-progress").hidden = message === null;
    stage.classList.toggle("working", message !== null);
    if (message !== null) this.say(message);
  },

  // A version stored by the server (a mask tool, or another tab) into the editor, undoable.
  async applyVersion(version) {
    const image = await loadImage(maskUrl(this.files, version, 0));
    const changed = this.mask.applyStored(image);
    this.setVersion(version);
    this.view.requestRender();
    this.refresh();
    return changed;
  },

  async loadFullMask(version) {
    const image = await loadImage(maskUrl(this.files, version, 0));
    this.mask = this.mask || new MaskLayer(this.width, this.height);
    this.mask.replace(image);
    this.view.mask = this.mask.canvas;
    this.view.requestRender();
    this.refresh();
  },

  async guard(work) {
    if (this.busy) return;
    this.busy = true;
    this.refresh();
    try {
      await work();
    } catch (failure) {
      this.say(failure.message, true);
    } finally {
      this.busy = false;
      this.refresh();
    }
  },

  loseOrder(message) {
    this.lost = true;
    stage.classList.add("lost");
    this.say(`You no longer hold this order: ${message}. Go back to the queue.`, true);
    this.refresh();
  },

  runRegion(box) { return runRegion(this, box); },
};

page.view = new View(stage, { original: $("original-view"), cutout: $("cutout-view") }, page.width, page.height);

async function start() {
  const side = Math.max(page.width, page.height);
  const size = snapSize(page.view.fitSide(), side);
  try {
    const [original, mask] = await Promise.all([
      loadImage(originalUrl(page.files, size)), loadImage(maskUrl(page.files, page.version, size)),
    ]);
    page.view.original = original;
    page.view.mask = mask;
    page.view.render();
    page.fullOriginal = size === 0 ? "yes" : "no";
    page.say("");
    await page.loadFullMask(page.version);
    root.dataset.ready = "1"; // editing works from here on (tests and the bench wait for it)
    performance.mark("review-ready");
    if (root.dataset.nextFiles) {
      prefetch([originalUrl(root.dataset.nextFiles, size), maskUrl(root.dataset.nextFiles, root.dataset.nextMaskVersion, size)]);
    }
  } catch (failure) {
    page.say(`The images could not be loaded: ${failure.message}`, true);
  }
}

// Full resolution only once the operator zooms past what the screen-sized copy holds.
stage.addEventListener("zoom", async (event) => {
  const shown = page.view.original;
  if (page.fullOriginal !== "no" || !shown || event.detail.scale <= (shown.naturalWidth / page.width) * 1.05) return;
  page.fullOriginal = "loading";
  try {
    page.view.original = await loadImage(originalUrl(page.files, 0));
    page.fullOriginal = "yes";
    page.view.requestRender();
  } catch (failure) {
    page.fullOriginal = "no";
  }
});
stage.addEventListener("zoom", (event) => {
  $("zoom-level").textContent = `${Math.round(event.detail.scale * 100)} %`;
});

// --- tools and controls -----------------------------------------------------------------

// The swatch of a marker tool (keep, remove, hair band) is its stroke's colour; other tools have none.
const toolColour = (tool) => MARK_COLOURS[MARK_TOOLS[tool]];
for (const swatch of document.querySelectorAll("[data-swatch]")) swatch.style.background = toolColour(swatch.dataset.swatch);

function setTool(tool) {
  page.tool = tool;
  stage.dataset.tool = tool;
  for (const button of document.querySelectorAll("button[data-tool]")) {
    button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
    if (button.dataset.tool === tool) $("tool-name").textContent = button.firstChild.textContent.trim();
  }
  $("tool-swatch").hidden = !toolColour(tool);
  $("tool-swatch").style.background = toolColour(tool) || "";
  page.view.cursor = null;
  page.view.requestRender();
}

function setSize(size) {
  page.size = Math.min(400, Math.max(1, Math.round(size)));
  $("brush-size").value = page.size;
  $("brush-size-value").textContent = page.size;
}

function setHardness(percent) {
  const value = Math.min(100, Math.max(0, Math.round(percent)));
  page.hardness = value / 100;
  $("brush-hardness").value = value;
  $("brush-hardness-value").textContent = value;
}

function toggleOverlay() {
  page.view.overlay = !page.view.overlay;
  $("overlay").setAttribute("aria-pressed", String(page.view.overlay));
  page.view.requestRender();
}

// A redo's markup (the customer's call-outs drawn on the image) over the original, on demand.
async function toggleMarkup() {
  const button = $("markup");
  if (!button) return;
  if (!page.view.markup) {
    try {
      page.view.markup = await loadImage(root.dataset.markup + "?size=0");
    } catch (failure) {
      page.say(`The markup could not be loaded: ${failure.message}`, true);
      return;
    }
  }
  page.view.showMarkup = !page.view.showMarkup;
  button.setAttribute("aria-pressed", String(page.view.showMarkup));
  button.firstChild.textContent = page.view.showMarkup ? "Hide markup " : "Show markup ";
  page.view.requestRender();
}

function undo() {
  if (page.mask?.undo()) page.view.requestRender();
  page.refresh();
}

function redo() {
  if (page.mask?.redo()) page.view.requestRender();
  page.refresh();
}

const cleanupSettings = bindCleanupPanel(page, $("cleanup-fields"));

function cycleBackground() {
  $("background").value = page.view.cycleBackground();
}

const openReject = bindReject(page);

for (const button of document.querySelectorAll("[data-tool]")) {
  button.addEventListener("click", () => setTool(button.dataset.tool));
}
$("brush-size").addEventListener("input", (event) => setSize(Number(event.target.value)));
$("brush-hardness").addEventListener("input", (event) => setHardness(Number(event.target.value)));
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("save").addEventListener("click", () => saveNow(page));
$("overlay").addEventListener("click", toggleOverlay);
$("cleanup").addEventListener("click", () => runCleanup(page, cleanupSettings));
$("background").addEventListener("change", (event) => {
  page.view.background = event.target.value;
  page.view.requestRender();
});
$("bg-colour").addEventListener("input", (event) => {
  page.view.colour = event.target.value;
  page.view.background = "colour";
  $("background").value = "colour";
  page.view.requestRender();
});
$("zoom-fit").addEventListener("click", () => page.view.fit());
$("zoom-1").addEventListener("click", () => page.view.zoomTo(1));
$("approve").addEventListener("click", () => approve(page));
$("reject")?.addEventListener("click", openReject);
$("markup")?.addEventListener("click", toggleMarkup);
$("skip").addEventListener("click", () => skip(page));
$("back").addEventListener("click", () => backToQueue(page));

const KEYS = {
  a: () => approve(page),
  r: () => { if ($("reject")) openReject(); },
  u: toggleMarkup,
  n: () => skip(page),
  q: () => backToQueue(page),
  b: () => setTool("brush"),
  e: () => setTool("eraser"),
  m: () => setTool("region"),
  h: () => setTool("pan"),
  g: () => setTool("keep"),
  x: () => setTool("remove"),
  f: () => setTool("band"),
  c: () => runCleanup(page, cleanupSettings),
  z: undo,
  y: redo,
  s: () => saveNow(page),
  o: toggleOverlay,
  k: cycleBackground,
  "[": () => setSize(page.size / 1.25),
  "]": () => setSize(page.size * 1.25 + 0.5),
  "{": () => setHardness(page.hardness * 100 - 10),
  "}": () => setHardness(page.hardness * 100 + 10),
  1: () => page.view.zoomTo(1),
  0: () => page.view.fit(),
  "+": () => page.view.zoomBy(1.25),
  "=": () => page.view.zoomBy(1.25),
  "-": () => page.view.zoomBy(0.8),
};

onShortcut((event) => {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (event.ctrlKey || event.metaKey) {
    if (key === "z" && !event.shiftKey) undo();
    else if (key === "y" || (key === "z" && event.shiftKey)) redo();
    else if (key === "s") saveNow(page);
    else return false;
    return true;
  }
  const action = KEYS[key];
  if (!action) return false;
  action();
  return true;
});

window.addEventListener("beforeunload", (event) => {
  if (page.mask?.dirty && !page.leaving) event.preventDefault(); // unsaved edits: let the browser ask
});

setTool("brush");
bindPointer(page);
keepReviewLease(page);
page.refresh();
start();
