//! A whole set crossing between JS and the module as one JSON text: a read set made by
//! `JSON.parse` of the body it was read from, and a plain set to check or save written by one
//! walk and `JSON.stringify` (big integers included), read once in the module.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::{convert, set};
use crate::secrets::Secrets;
use crate::validate;

/// A set read from the server as one plain JS object, made by `JSON.parse` of the body it
/// was read from (`None` when it came from the cache): no second text of the set is printed
/// in the module's memory. The body has been read into `secrets` already, so it is JSON
/// text of one object (duplicate names keep their last value in both); the secrets holding
/// an integer `JSON.parse` would round are then replaced by their exact values.
pub(super) fn secrets_to_js(secrets: &Secrets, body: Option<Vec<u8>>) -> JsValue {
    let Some(text) = body.and_then(|body| String::from_utf8(body).ok()) else {
        return convert::secrets_to_js(secrets);
    };
    let Ok(js) = js_sys::JSON::parse(&text) else {
        return convert::secrets_to_js(secrets);
    };
    drop(text);
    for (name, value) in secrets.iter() {
        if holds_big_integer(value.expose()) {
            // The name is an own property (JSON.parse made it), so even "__proto__" is set
            // as data here.
            set(&js, name, &convert::to_js(value.expose()));
        }
    }
    js
}

/// Whether `value` holds an integer a JS number would round (beyond ±(2^53 − 1)).
fn holds_big_integer(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) => convert::is_big_integer(n),
        Value::Array(items) => items.iter().any(holds_big_integer),
        Value::Object(map) => map.values().any(holds_big_integer),
        _ => false,
    }
}

/// The compact JSON text of a plain object of secrets when it holds plain JSON data that
/// reads back as exactly the values the member-by-member conversion makes of it (BigInts as
/// their exact digits); `None` for anything else, which that conversion then names.
///
/// Crossing into the module once per value is most of what converting a large set costs;
/// one text crosses at once, is checked once (without building the set when it can be), and
/// `setAllSecrets` then sends it as it is.
pub(crate) fn plain_set_text(secrets: &JsValue) -> Option<String> {
    if !convert::is_plain_object(secrets) {
        return None;
    }
    let text = json_text_of_set(
        secrets,
        validate::MAX_VALUE_DEPTH as u32,
        convert::MAX_ITEMS as u32,
    );
    text.dyn_ref::<js_sys::JsString>().map(string_from_js)
}

/// A long JS string's text in the module's memory, written there by `TextEncoder.encodeInto`
/// into a buffer the size of its ASCII form, grown only for other characters: no copy in JS
/// first (wasm-bindgen's `TextEncoder.encode` path for strings), which in Chromium took
/// longer than reading the text in the module.
fn string_from_js(text: &js_sys::JsString) -> String {
    let units = text.length() as usize;
    let mut bytes: Vec<u8> = Vec::with_capacity(units);
    let mut read = 0;
    while read < units {
        let spare = bytes.spare_capacity_mut();
        let room = spare.len();
        // SAFETY: the view covers `spare`, memory the vector owns and does not use yet.
        // Handing the view to the module can grow its memory (wasm-bindgen's table of JS
        // values), which detaches the view rather than moving it: encodeInto then writes
        // nothing, and the next round makes a new view.
        let view = unsafe { Uint8Array::view_mut_raw(spare.as_mut_ptr().cast(), room) };
        let done = encode_into(text, read as u32, &view);
        let field = |name: &str| {
            Reflect::get(&done, &name.into())
                .ok()
                .and_then(|n| n.as_f64())
                .unwrap_or(0.0) as usize
        };
        let (now_read, written) = (field("read"), field("written"));
        // SAFETY: encodeInto wrote `written` bytes, whole characters, at the start of
        // `spare`, and never more than the view holds.
        unsafe { bytes.set_len(bytes.len() + written.min(room)) };
        read = now_read.min(units);
        // What is left takes at most 3 bytes per UTF-16 unit: the next round ends it.
        bytes.reserve((units - read) * 3);
    }
    // TextEncoder writes UTF-8 (a lone surrogate as U+FFFD), as wasm-bindgen's strings do.
    String::from_utf8(bytes).unwrap_or_default()
}

#[wasm_bindgen(inline_js = r#"
const MIN_I64 = -(2n ** 63n);
const MAX_U64 = 2n ** 64n - 1n;
const ENCODER = new TextEncoder();
export function encodeInto(text, from, view) {
  const done = ENCODER.encodeInto(from === 0 ? text : text.substring(from), view);
  return { read: from + done.read, written: done.written };
}
export function jsonTextOfSet(set, maxDepth, maxItems) {
  const { toJSON } = Object.prototype;
  if (toJSON !== undefined || Array.prototype.toJSON !== undefined) return undefined;
  let items = maxItems;
  let bigints = 0;
  // Whether JSON.stringify writes `v` as the module converts it, at `depth` inside its
  // secret's value (the set's own members are at depth 0), within the items left.
  const plain = (v, depth) => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return true;
      case "number":
        // An integer beyond 2^53 - 1 is a float to the module, which JSON.stringify does not
        // show: such a set takes the other path.
        return Number.isFinite(v) && (Number.isSafeInteger(v) || !Number.isInteger(v));
      case "bigint":
        bigints += 1;
        return v >= MIN_I64 && v <= MAX_U64;
      case "object":
        if (v === null) return true;
        break;
      default:
        return false;
    }
    if (depth >= maxDepth) return false;
    if (Array.isArray(v)) {
      // An array's own or inherited toJSON would change what JSON.stringify writes.
      if (v.toJSON !== undefined) return false;
      const n = v.length;
      if ((items -= n) < 0) return false;
      for (let i = 0; i < n; i++) if (!plain(v[i], depth + 1)) return false;
      return true;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== null && proto !== Object.prototype) return false;
    const keys = Object.keys(v);
    if ((items -= keys.length) < 0) return false;
    for (let i = 0; i < keys.length; i++) if (!plain(v[keys[i]], depth + 1)) return false;
    return true;
  };
  try {
    const keys = Object.keys(set);
    for (let i = 0; i < keys.length; i++) if (!plain(set[keys[i]], 0)) return undefined;
    // Checked first, then a plain JSON.stringify: with a replacer it is slower.
    if (bigints === 0) return JSON.stringify(set);
    if (BigInt.prototype.toJSON !== undefined) return undefined;
    // A BigInt is written as a marked string, then the marks are replaced by its digits; a
    // set whose own text holds the mark takes the other path.
    const mark = `vdk-bigint-${Math.random().toString(36).slice(2)}:`;
    const text = JSON.stringify(set, (_, v) => (typeof v === "bigint" ? mark + v : v));
    // Each piece after the first begins with a BigInt's digits and its closing quote.
    const pieces = text.split(`"${mark}`);
    if (pieces.length !== bigints + 1) return undefined;
    for (let i = 1; i < pieces.length; i++) {
      const end = pieces[i].indexOf('"');
      pieces[i] = pieces[i].slice(0, end) + pieces[i].slice(end + 1);
    }
    return pieces.join("");
  } catch {
    return undefined;
  }
}
"#)]
extern "C" {
    /// The compact JSON text of a plain object of secrets, when `JSON.stringify` gives exactly
    /// its members as the module would convert them one by one (BigInts as their exact
    /// digits); `undefined` for anything else: `undefined`, `NaN`, functions, class
    /// instances, `toJSON`, holes, integers beyond 2^53 − 1 held as JS numbers, BigInts beyond
    /// 64 bits, and nesting or sizes the conversion refuses.
    #[wasm_bindgen(js_name = jsonTextOfSet)]
    fn json_text_of_set(set: &JsValue, max_depth: u32, max_items: u32) -> JsValue;

    /// `TextEncoder.encodeInto` of `text` from UTF-16 unit `from` on into `view`: `{ read,
    /// written }`, `read` counted from the start of `text`.
    #[wasm_bindgen(js_name = encodeInto)]
    fn encode_into(text: &js_sys::JsString, from: u32, view: &Uint8Array) -> JsValue;
}
