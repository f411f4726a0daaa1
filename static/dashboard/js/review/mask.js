// The editable mask at full resolution: alpha is the mask, brush adds, eraser removes, undo/redo by patches.
"use strict";

export class MaskLayer {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.canvas = makeCanvas(width, height);
    this.ctx = this.canvas.getContext("2d");
    // The state after the last finished stroke: a stroke's "before" patch is read from here.
    this.settled = makeCanvas(width, height);
    this.settledCtx = this.settled.getContext("2d", { willReadFrequently: true });
    this.undoStack = [];
    this.redoStack = [];
    this.savedId = 0;
    this.nextId = 1;
    this.stroke = null;
    this.brushCache = new Map();
  }

  // Start over from a stored mask version (a white image whose alpha is the mask).
  replace(image) {
    for (const ctx of [this.ctx, this.settledCtx]) {
      ctx.globalCompositeOperation = "copy";
      ctx.drawImage(image, 0, 0, this.width, this.height);
      ctx.globalCompositeOperation = "source-over";
    }
    this.undoStack = [];
    this.redoStack = [];
    this.savedId = 0;
  }

  // A version the server made (a mask tool's result) as one more step of the history: undo goes back
  // to what was there before. The patch covers only the box of changed pixels. The server stored it,
  // so the layer counts as saved.
  applyStored(image) {
    const { width, height } = this;
    const next = makeCanvas(width, height);
    const nextCtx = next.getContext("2d", { willReadFrequently: true });
    nextCtx.drawImage(image, 0, 0, width, height);
    const box = changedBox(this.settledCtx.getImageData(0, 0, width, height), nextCtx.getImageData(0, 0, width, height));
    if (box) {
      const [x0, y0, x1, y1] = box;
      const before = this.settledCtx.getImageData(x0, y0, x1 - x0, y1 - y0);
      const after = nextCtx.getImageData(x0, y0, x1 - x0, y1 - y0);
      const patch = { id: this.nextId++, x: x0, y: y0, before, after };
      this.put(after, patch);
      this.undoStack.push(patch);
      this.redoStack = [];
    }
    this.markSaved();
    return box !== null;
  }

  beginStroke(x, y, { radius, hardness, erase }) {
    this.stroke = { radius, hardness, erase, x, y, box: [x - radius, y - radius, x + radius, y + radius] };
    this.stamp(x, y);
  }

  extendStroke(x, y) {
    const s = this.stroke;
    if (!s) return;
    const distance = Math.hypot(x - s.x, y - s.y);
    const step = Math.max(0.75, s.radius * 0.25);
    // Stamps close enough together that a fast drag still paints a continuous line.
    for (let travelled = step; travelled <= distance; travelled += step) {
      const t = travelled / distance;
      this.stamp(s.x + (x - s.x) * t, s.y + (y - s.y) * t);
    }
    if (distance >= step) {
      s.x = x;
      s.y = y;
    }
    s.box = [Math.min(s.box[0], x - s.radius), Math.min(s.box[1], y - s.radius),
             Math.max(s.box[2], x + s.radius), Math.max(s.box[3], y + s.radius)];
  }

  endStroke() {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return false;
    const x0 = Math.max(0, Math.floor(s.box[0]) - 1), y0 = Math.max(0, Math.floor(s.box[1]) - 1);
    const x1 = Math.min(this.width, Math.ceil(s.box[2]) + 1), y1 = Math.min(this.height, Math.ceil(s.box[3]) + 1);
    if (x1 <= x0 || y1 <= y0) return false;
    const before = this.settledCtx.getImageData(x0, y0, x1 - x0, y1 - y0);
    const after = this.ctx.getImageData(x0, y0, x1 - x0, y1 - y0);
    this.settledCtx.putImageData(after, x0, y0);
    this.undoStack.push({ id: this.nextId++, x: x0, y: y0, before, after });
    this.redoStack = [];
    return true;
  }

  undo() {
    const patch = this.undoStack.pop();
    if (!patch) return false;
    this.put(patch.before, patch);
    this.redoStack.push(patch);
    return true;
  }

  redo() {
    const patch = this.redoStack.pop();
    if (!patch) return false;
    this.put(patch.after, patch);
    this.undoStack.push(patch);
    return true;
  }

  get canUndo() { return this.undoStack.length > 0; }
  get canRedo() { return this.redoStack.length > 0; }
  get dirty() { return this.topId() !== this.savedId; }

  markSaved() { this.savedId = this.topId(); }

  toBlob() {
    return new Promise((resolve, reject) => {
      this.canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the mask could not be encoded"))), "image/png");
    });
  }

  topId() {
    return this.undoStack.length ? this.undoStack[this.undoStack.length - 1].id : 0;
  }

  put(data, at) {
    this.ctx.putImageData(data, at.x, at.y);
    this.settledCtx.putImageData(data, at.x, at.y);
  }

  stamp(x, y) {
    const s = this.stroke;
    const brush = this.brush(s.radius, s.hardness);
    this.ctx.globalCompositeOperation = s.erase ? "destination-out" : "source-over";
    this.ctx.drawImage(brush, x - brush.width / 2, y - brush.height / 2);
    this.ctx.globalCompositeOperation = "source-over";
  }

  // A round white dab: opaque inside radius*hardness, fading to nothing at the radius.
  brush(radius, hardness) {
    const key = `${radius.toFixed(2)}:${hardness.toFixed(2)}`;
    let brush = this.brushCache.get(key);
    if (brush) return brush;
    const side = Math.ceil(radius * 2) + 2;
    brush = makeCanvas(side, side);
    const ctx = brush.getContext("2d");
    const c = side / 2;
    if (hardness >= 0.99) {
      ctx.fillStyle = "#fff";
    } else {
      const gradient = ctx.createRadialGradient(c, c, radius * hardness, c, c, radius);
      gradient.addColorStop(0, "rgba(255,255,255,1)");
      gradient.addColorStop(1, "rgba(255,255,255,0)");
      ctx.fillStyle = gradient;
    }
    ctx.beginPath();
    ctx.arc(c, c, radius, 0, Math.PI * 2);
    ctx.fill();
    if (this.brushCache.size > 32) this.brushCache.clear();
    this.brushCache.set(key, brush);
    return brush;
  }
}

// The box [x0, y0, x1, y1) where two same-sized ImageDatas differ, or null when they are equal.
function changedBox(a, b) {
  const width = a.width;
  const pa = new Uint32Array(a.data.buffer), pb = new Uint32Array(b.data.buffer);
  let x0 = width, y0 = -1, x1 = -1, y1 = -1;
  for (let y = 0, i = 0; y < a.height; y++) {
    let first = -1, last = -1;
    for (let x = 0; x < width; x++, i++) {
      if (pa[i] !== pb[i]) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 < 0) y0 = y;
    y1 = y;
    x0 = Math.min(x0, first);
    x1 = Math.max(x1, last);
  }
  return y0 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

export function makeCanvas(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}
