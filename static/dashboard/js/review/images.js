// Image URLs of an order and loading them; sizes match the server's cached copies.
"use strict";

// The long sides the server keeps copies at (orders/derived.py SIZES); 0 = full size.
const SIZES = [160, 320, 640, 1280, 1920, 2560];

export function snapSize(needed, fullSide) {
  if (needed >= fullSide) return 0;
  const size = SIZES.find((s) => s >= needed);
  return size === undefined ? 0 : size;
}

export function originalUrl(files, size) {
  return `${files}original?size=${size}`;
}

export function maskUrl(files, version, size) {
  return `${files}mask/${version}?size=${size}&alpha=1`;
}

export async function loadImage(url) {
  const image = new Image();
  image.decoding = "async";
  image.src = url;
  await image.decode();
  return image;
}

// Warm the browser's cache for an order the operator will probably open next.
export function prefetch(urls) {
  for (const url of urls) {
    const image = new Image();
    image.fetchPriority = "low";
    image.src = url;
  }
}
