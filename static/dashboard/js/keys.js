// Keyboard shortcuts: ignored while the operator types in a field or a dialog is open.
"use strict";

const TYPING = 'input:not([type="range"]):not([type="checkbox"]):not([type="radio"]):not([type="color"]), textarea, select';

export function isTyping(target) {
  return Boolean(target && target.closest && target.closest(TYPING));
}

export function dialogOpen() {
  return document.querySelector("dialog[open]") !== null;
}

// handler(event) returns true when it used the key; the browser's default is then prevented.
export function onShortcut(handler) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || isTyping(event.target) || dialogOpen()) return;
    if (handler(event)) event.preventDefault();
  });
}

export function plainKey(event) {
  return !event.ctrlKey && !event.metaKey;
}
