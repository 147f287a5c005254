/**
 * Small helpers the shared scenarios use to look at what a user would see.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

/** The non-empty lines of the file at `path`. */
export function readLines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter((line) => line.length > 0);
}

/** Asserts that `body` throws a `TracingError` with `code` (and a message matching `pattern`). */
export function expectTracingError(body: () => unknown, code: string, pattern?: RegExp): Error {
  let caught: unknown;
  try {
    body();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected a TracingError with code ${code}, nothing thrown`);
  const error = caught as Error & { code?: string };
  assert.equal(error.name, "TracingError", error.message);
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
  return error;
}

/** `items[index]`, failing the test when there is no such item. */
export function at<T>(items: ArrayLike<T>, index: number): T {
  const item = items[index];
  assert.ok(item !== undefined, `expected an item at index ${index}, found ${items.length} items`);
  return item;
}
