// Mouse and pen on the panes: paint or erase, draw keep/remove markers and hair bands, draw a region
// box, pan by dragging, zoom with the wheel.
"use strict";

import { isTyping } from "../keys.js";
import { MARK_TOOLS, beginMark, extendMark, markRadius, sendMarks } from "./tools.js";

const MIN_REGION = 8;

export function bindPointer(page) {
  const { view, stage } = page;
  let action = null;
  let spaceHeld = false;

  for (const canvas of Object.values(view.panes)) {
    canvas.addEventListener("pointerdown", (event) => start(event, canvas));
    canvas.addEventListener("pointermove", (event) => move(event, canvas));
    canvas.addEventListener("pointerup", (event) => finish(event, canvas));
    canvas.addEventListener("pointercancel", (event) => finish(event, canvas));
    canvas.addEventListener("pointerleave", () => {
      view.cursor = null;
      view.requestRender();
    });
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const at = view.toImage(canvas, event.clientX, event.clientY);
      view.zoomBy(Math.exp(-event.deltaY * 0.0015), at.px, at.py);
    }, { passive: false });
  }

  document.addEventListener("keydown", (event) => {
    if (event.code !== "Space" || isTyping(event.target)) return;
    event.preventDefault(); // no page scroll, no click on a focused button
    spaceHeld = true;
    stage.classList.add("panning");
  });
  document.addEventListener("keyup", (event) => {
    if (event.code !== "Space") return;
    spaceHeld = false;
    stage.classList.remove("panning");
  });

  function start(event, canvas) {
    const at = view.toImage(canvas, event.clientX, event.clientY);
    const painting = page.tool === "brush" || page.tool === "eraser";
    if (event.button === 1 || (event.button === 0 && (spaceHeld || page.tool === "pan"))) {
      action = { kind: "pan", x: event.clientX, y: event.clientY };
    } else if (event.button === 0 && painting) {
      if (!page.canEdit()) return;
      page.mask.beginStroke(at.x, at.y, { radius: page.size / 2, hardness: page.hardness, erase: page.tool === "eraser" });
      action = { kind: "paint" };
    } else if (event.button === 0 && page.tool in MARK_TOOLS) {
      if (!page.canEdit()) return;
      action = { kind: "mark", mark: beginMark(page, at.x, at.y) };
    } else if (event.button === 0 && page.tool === "region") {
      view.box = [at.x, at.y, at.x, at.y];
      action = { kind: "box" };
    } else {
      return;
    }
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
    view.requestRender();
  }

  function move(event, canvas) {
    const at = view.toImage(canvas, event.clientX, event.clientY);
    const marking = page.tool in MARK_TOOLS;
    const painting = page.tool === "brush" || page.tool === "eraser" || marking;
    view.cursor = painting && !spaceHeld ? { x: at.x, y: at.y, radius: marking ? markRadius(page) : page.size / 2 } : null;
    if (action?.kind === "pan") {
      view.panBy(event.clientX - action.x, event.clientY - action.y);
      action.x = event.clientX;
      action.y = event.clientY;
    } else if (action?.kind === "paint") {
      // Coalesced events: every sample the pointer reported since the last frame, so curves stay round.
      const samples = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const sample of samples.length ? samples : [event]) {
        const point = view.toImage(canvas, sample.clientX, sample.clientY);
        page.mask.extendStroke(point.x, point.y);
      }
    } else if (action?.kind === "mark") {
      const samples = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const sample of samples.length ? samples : [event]) {
        const point = view.toImage(canvas, sample.clientX, sample.clientY);
        extendMark(action.mark, point.x, point.y);
      }
    } else if (action?.kind === "box") {
      view.box[2] = at.x;
      view.box[3] = at.y;
    }
    view.requestRender();
  }

  function finish(event, canvas) {
    if (!action) return;
    const done = action;
    action = null;
    if (done.kind === "paint") {
      const at = view.toImage(canvas, event.clientX, event.clientY);
      page.mask.extendStroke(at.x, at.y);
      page.mask.endStroke();
      page.refresh();
    } else if (done.kind === "mark") {
      const at = view.toImage(canvas, event.clientX, event.clientY);
      extendMark(done.mark, at.x, at.y);
      sendMarks(page); // on release: the operator sees the result of each stroke at once
    } else if (done.kind === "box") {
      const [x0, y0, x1, y1] = view.box;
      view.box = null;
      const box = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)].map(Math.round);
      if (box[2] - box[0] >= MIN_REGION && box[3] - box[1] >= MIN_REGION) page.runRegion(box);
      else page.say(`Draw a box of at least ${MIN_REGION}×${MIN_REGION} image pixels.`, true);
    }
    view.requestRender();
  }
}
