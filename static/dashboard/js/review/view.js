// Two panes (original, cutout) sharing one zoom and pan; everything in device pixels.
"use strict";

import { makeCanvas } from "./mask.js";

const BACKGROUNDS = ["checker", "white", "black", "colour"];
const MIN_SCALE = 0.02, MAX_SCALE = 32;
const TINT = "rgb(255, 0, 96)";
// Markers in colours far from the overlay's red tint and from each other: keep green, remove cyan, the hair
// band amber; each with a dark outline so it shows on light and dark photos alike. Drawn opaque, then laid
// over the image at MARK_ALPHA, so overlapping parts of a stroke do not darken.
export const MARK_COLOURS = { keep: "rgb(40, 230, 80)", remove: "rgb(0, 200, 255)", matte: "rgb(255, 190, 0)" };
const MARK_OUTLINE = "rgb(20, 20, 30)";
const MARK_ALPHA = 0.65;

export class View {
  constructor(stage, panes, width, height) {
    this.stage = stage;
    this.panes = panes; // { original: canvas, cutout: canvas }
    this.width = width;
    this.height = height;
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.fitted = true;
    this.original = null; // best loaded original (screen-sized, later full size)
    this.mask = null; // an image or canvas whose alpha is the mask, any resolution
    this.overlay = false;
    this.markup = null; // a redo's markup image, once loaded
    this.showMarkup = false;
    this.background = "checker";
    this.colour = "#3cb371";
    this.cursor = null; // { x, y, radius } in image pixels
    this.box = null; // region being drawn, image pixels
    this.marks = []; // keep/remove markers and hair bands not yet applied: { mode, radius, points }, image pixels
    this.scratch = makeCanvas(1, 1);
    this.pending = false;
    this.painted = false;
    this.checker = null;
    new ResizeObserver(() => this.resize()).observe(stage);
    this.resize();
  }

  get dpr() { return window.devicePixelRatio || 1; }

  resize() {
    for (const canvas of Object.values(this.panes)) {
      canvas.width = Math.max(1, Math.round(canvas.clientWidth * this.dpr));
      canvas.height = Math.max(1, Math.round(canvas.clientHeight * this.dpr));
    }
    this.scratch.width = this.panes.cutout.width;
    this.scratch.height = this.panes.cutout.height;
    if (this.fitted) this.fit();
    else this.requestRender();
  }

  // Long side, in device pixels, the image needs at "fit": what the first screen-sized copy must cover.
  fitSide() {
    return Math.ceil(Math.max(this.width, this.height) * this.fitScale());
  }

  fitScale() {
    const { width, height } = this.panes.cutout;
    return Math.min(width / this.width, height / this.height) * 0.98;
  }

  fit() {
    this.fitted = true;
    this.setScale(this.fitScale());
    const { width, height } = this.panes.cutout;
    this.ox = (width - this.width * this.scale) / 2;
    this.oy = (height - this.height * this.scale) / 2;
    this.requestRender();
  }

  // Zoom keeping the image point under (px, py) — device pixels in a pane — where it is.
  zoomTo(scale, px, py) {
    const { width, height } = this.panes.cutout;
    px = px ?? width / 2;
    py = py ?? height / 2;
    const ix = (px - this.ox) / this.scale, iy = (py - this.oy) / this.scale;
    this.setScale(scale);
    this.ox = px - ix * this.scale;
    this.oy = py - iy * this.scale;
    this.fitted = false;
    this.requestRender();
  }

  zoomBy(factor, px, py) { this.zoomTo(this.scale * factor, px, py); }

  panBy(dx, dy) {
    this.ox += dx * this.dpr;
    this.oy += dy * this.dpr;
    this.fitted = false;
    this.requestRender();
  }

  setScale(scale) {
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    this.stage.dispatchEvent(new CustomEvent("zoom", { detail: { scale: this.scale } }));
  }

  // Client (CSS) coordinates over a pane -> image pixels.
  toImage(canvas, clientX, clientY) {
    const rect = canvas.getBoundingClientRect();
    const px = (clientX - rect.left) * this.dpr, py = (clientY - rect.top) * this.dpr;
    return { x: (px - this.ox) / this.scale, y: (py - this.oy) / this.scale, px, py };
  }

  cycleBackground() {
    this.background = BACKGROUNDS[(BACKGROUNDS.indexOf(this.background) + 1) % BACKGROUNDS.length];
    this.requestRender();
    return this.background;
  }

  requestRender() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    this.describe();
    if (!this.original || !this.mask) return;
    this.renderOriginal();
    this.renderCutout();
    if (!this.painted) {
      this.painted = true;
      performance.mark("review-first-image");
    }
  }

  // Where the image is, for anyone (tests, debugging) mapping image pixels to the screen.
  describe() {
    const d = this.stage.dataset;
    d.scale = this.scale;
    d.offsetX = this.ox / this.dpr;
    d.offsetY = this.oy / this.dpr;
    d.dpr = this.dpr;
  }

  rect() {
    return [this.ox, this.oy, this.width * this.scale, this.height * this.scale];
  }

  prepare(ctx) {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = "source-over";
    ctx.globalAlpha = 1;
    // Below 1:1 smooth; at 1:1 and beyond show the pixels as they are.
    ctx.imageSmoothingEnabled = this.scale < 1;
    ctx.imageSmoothingQuality = "high";
  }

  renderOriginal() {
    const canvas = this.panes.original;
    const ctx = canvas.getContext("2d");
    this.prepare(ctx);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(this.original, ...this.rect());
    if (this.showMarkup && this.markup) {
      // Stretched over the original: customers draw on the image they were delivered, of the same framing.
      ctx.drawImage(this.markup, ...this.rect());
    }
    if (this.overlay) {
      // Tint what the mask removes, so the edge between kept and removed shows on the photo.
      const s = this.scratchContext();
      s.fillStyle = TINT;
      s.fillRect(...this.rect());
      s.globalCompositeOperation = "destination-out";
      s.drawImage(this.mask, ...this.rect());
      ctx.globalAlpha = 0.5;
      ctx.drawImage(this.scratch, 0, 0);
      ctx.globalAlpha = 1;
    }
    this.renderMarks(ctx);
  }

  renderCutout() {
    const canvas = this.panes.cutout;
    const ctx = canvas.getContext("2d");
    this.prepare(ctx);
    ctx.fillStyle = this.backgroundFill(ctx);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const s = this.scratchContext();
    s.drawImage(this.original, ...this.rect());
    s.globalCompositeOperation = "destination-in";
    s.drawImage(this.mask, ...this.rect());
    ctx.drawImage(this.scratch, 0, 0);
    this.renderMarks(ctx);
  }

  scratchContext() {
    const s = this.scratch.getContext("2d");
    this.prepare(s);
    s.clearRect(0, 0, this.scratch.width, this.scratch.height);
    return s;
  }

  backgroundFill(ctx) {
    if (this.background === "white") return "#fff";
    if (this.background === "black") return "#000";
    if (this.background === "colour") return this.colour;
    if (!this.checker) {
      const tile = makeCanvas(16, 16);
      const t = tile.getContext("2d");
      t.fillStyle = "#fff";
      t.fillRect(0, 0, 16, 16);
      t.fillStyle = "#ccc";
      t.fillRect(0, 0, 8, 8);
      t.fillRect(8, 8, 8, 8);
      this.checker = ctx.createPattern(tile, "repeat");
    }
    return this.checker;
  }

  // Markers and bands, the brush outline and the region box, on both panes.
  renderMarks(ctx) {
    if (this.marks.length) {
      const s = this.scratchContext(); // free again: each pane has drawn its scratch work already
      // Every outline first, then every colour: one stroke's outline never cuts across another stroke.
      for (const mark of this.marks) this.renderStroke(s, mark, MARK_OUTLINE, 1.5 * this.dpr);
      for (const mark of this.marks) this.renderStroke(s, mark, MARK_COLOURS[mark.mode], 0);
      ctx.globalAlpha = MARK_ALPHA;
      ctx.drawImage(this.scratch, 0, 0);
      ctx.globalAlpha = 1;
    }
    ctx.lineWidth = Math.max(1, this.dpr);
    if (this.cursor) {
      const r = Math.max(1, this.cursor.radius * this.scale);
      ctx.beginPath();
      ctx.arc(this.ox + this.cursor.x * this.scale, this.oy + this.cursor.y * this.scale, r, 0, Math.PI * 2);
      ctx.strokeStyle = "rgba(0,0,0,.7)";
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(this.ox + this.cursor.x * this.scale, this.oy + this.cursor.y * this.scale, r + ctx.lineWidth, 0, Math.PI * 2);
      ctx.strokeStyle = "rgba(255,255,255,.8)";
      ctx.stroke();
    }
    if (this.box) {
      const [x0, y0, x1, y1] = this.box;
      ctx.setLineDash([6 * this.dpr, 4 * this.dpr]);
      ctx.strokeStyle = "#ff0";
      ctx.strokeRect(this.ox + Math.min(x0, x1) * this.scale, this.oy + Math.min(y0, y1) * this.scale,
                     Math.abs(x1 - x0) * this.scale, Math.abs(y1 - y0) * this.scale);
      ctx.setLineDash([]);
    }
  }

  // One path at the stroke's full width, `spread` device pixels wider all round (the outline).
  renderStroke(ctx, mark, colour, spread) {
    const at = ([x, y]) => [this.ox + x * this.scale, this.oy + y * this.scale];
    const radius = Math.max(1, mark.radius * this.scale) + spread;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.beginPath();
    if (mark.points.length === 1) {
      ctx.arc(...at(mark.points[0]), radius, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.lineWidth = radius * 2;
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.moveTo(...at(mark.points[0]));
      for (const point of mark.points.slice(1)) ctx.lineTo(...at(point));
      ctx.stroke();
    }
    ctx.restore();
  }
}
