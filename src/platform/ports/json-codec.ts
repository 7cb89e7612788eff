/**
 * The wire format every port uses, so the in-process and Redis implementations hand back the same
 * shapes: Dates become strings, `undefined` properties disappear, class instances become plain objects.
 */

/**
 * Serialises `value` to JSON. JSON has no top-level `undefined`, so it is encoded as `null`, the same
 * thing `JSON.stringify` does for `undefined` inside an array.
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/**
 * Parses text produced by `encodeJson`. The shape is the caller's claim (the port interfaces are generic
 * over what was stored), the same trust a Redis reply gets.
 */
export function decodeJson<T>(text: string): T {
  return JSON.parse(text);
}
