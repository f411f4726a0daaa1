// "Time left" cells count down without a reload; overdue ones turn red.
"use strict";

export function duration(seconds) {
  seconds = Math.floor(seconds);
  if (seconds < 60) return `${seconds} s`;
  let minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  minutes %= 60;
  if (hours < 48) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function refreshTimesLeft(root = document) {
  const now = Date.now();
  for (const cell of root.querySelectorAll("[data-due]")) {
    const left = (Date.parse(cell.dataset.due) - now) / 1000;
    cell.textContent = (left < 0 ? "overdue " : "") + duration(Math.abs(left));
    cell.classList.toggle("overdue", left < 0);
  }
}
