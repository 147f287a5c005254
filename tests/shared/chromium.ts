/**
 * Opens a file in headless Chromium (Debian's `chromium`, or `$CHROMIUM`) once, taking a
 * screenshot and the DOM after load, and decodes the screenshot's pixels.
 */

import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { inflateSync } from "node:zlib";

export interface ChromiumView {
  /** Chromium's exit code. */
  code: number | null;
  /** The document after load, serialized (`--dump-dom`). */
  dom: string;
  /** Chromium's log (stderr). */
  log: string;
  /** The screenshot. */
  screenshot: Png;
}

/** Loads `path` in headless Chromium with a fresh profile and no network use of its own. */
export function viewInChromium(path: string, width = 1200, height = 700): ChromiumView {
  const workDir = mkdtempSync(join(tmpdir(), "tracing-bridge-chromium-"));
  try {
    const screenshot = join(workDir, "screenshot.png");
    const result = spawnSync(process.env.CHROMIUM ?? "chromium", [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${join(workDir, "profile")}`,
      "--enable-logging=stderr",
      `--window-size=${width},${height}`,
      `--screenshot=${screenshot}`,
      "--dump-dom",
      `file://${path}`,
    ], { encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    if (result.error) {
      throw new Error(
        `could not run chromium (install it with scripts/setup, or set CHROMIUM): ${result.error}`,
      );
    }
    return {
      code: result.status,
      dom: result.stdout,
      log: result.stderr,
      screenshot: decodePng(readFileSync(screenshot)),
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** An 8-bit RGBA image. */
export interface Png {
  width: number;
  height: number;
  /** RGBA bytes, row by row. */
  rgba: Uint8Array;
}

/** Decodes a non-interlaced 8-bit RGB or RGBA PNG (what Chromium's screenshots are). */
export function decodePng(bytes: Uint8Array): Png {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((byte, index) => bytes[index] === byte)) throw new Error("not a PNG");
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Uint8Array[] = [];
  for (let offset = 8; offset < bytes.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = bodyView.getUint32(0);
      height = bodyView.getUint32(4);
      const [depth, colorType, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) {
        throw new Error(`unsupported PNG: depth ${depth}, color type ${colorType}`);
      }
      channels = colorType === 6 ? 4 : 3;
    } else if (type === "IDAT") {
      data.push(body);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? -1; // past the end: a bad filter, thrown below
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const above = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const left = (x >= channels ? row[x - channels] : 0) ?? 0;
      const up = above[x] ?? 0;
      const upLeft = (x >= channels ? above[x - channels] : 0) ?? 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`bad PNG filter ${filter}`);
      row[x] = ((line[x] ?? 0) + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let index = 0; index < width * height; index++) {
    // Typed arrays: reads in bounds (the loop's limits), `?? 0` only for the types.
    rgba[index * 4] = pixels[index * channels] ?? 0;
    rgba[index * 4 + 1] = pixels[index * channels + 1] ?? 0;
    rgba[index * 4 + 2] = pixels[index * channels + 2] ?? 0;
    rgba[index * 4 + 3] = channels === 4 ? pixels[index * channels + 3] ?? 0 : 255;
  }
  return { width, height, rgba };
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const toLeft = Math.abs(estimate - left);
  const toUp = Math.abs(estimate - up);
  const toUpLeft = Math.abs(estimate - upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

/** How many pixels match `predicate(r, g, b)`. */
export function countPixels(
  image: Png,
  predicate: (red: number, green: number, blue: number) => boolean,
): number {
  let count = 0;
  for (let index = 0; index < image.rgba.length; index += 4) {
    const { rgba } = image;
    if (predicate(rgba[index] ?? 0, rgba[index + 1] ?? 0, rgba[index + 2] ?? 0)) count++;
  }
  return count;
}
