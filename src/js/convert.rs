//! Plain JavaScript values to JSON and back.
//!
//! JS → JSON walks the value itself rather than calling `JSON.stringify`, which would silently
//! turn `NaN` into `null` and drop `undefined`: here every value JSON cannot hold is a problem
//! that names the secret and where in it, never the value.

use js_sys::{Array, Object, Reflect};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::Problem;
use crate::numbers::{self, MAX_SAFE_INTEGER};
use crate::secrets::{self, SecretValue, Secrets};
use crate::text::{concat, decimal, push_decimal};
use crate::validate::{self, MAX_VALUE_DEPTH};

/// Converts a plain object of secrets; every problem is collected.
pub fn secrets_from_js(value: &JsValue) -> Result<Secrets, Vec<Problem>> {
    match convertible_secrets(value) {
        (secrets, problems) if problems.is_empty() => Ok(secrets),
        (_, problems) => Err(problems),
    }
}

/// The entries of a plain object of secrets, each converted or the problem why not; or the
/// problem that it is no plain object. The core makes the set ([`validate::converted_set`]).
pub fn secret_entries(
    value: &JsValue,
) -> Result<impl Iterator<Item = (String, Result<SecretValue, Problem>)>, Problem> {
    if !is_plain_object(value) {
        return Err(Problem::new(
            "",
            concat(&[
                "secrets must be a plain object of names and values, not ",
                &js_type(value),
            ]),
        ));
    }
    let mut items_left = MAX_ITEMS;
    let entries = Object::entries(value.unchecked_ref());
    Ok((0..entries.length()).map(move |i| {
        let pair: Array = entries.get(i).unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let converted = convert_value(&name, &pair.get(1), &mut items_left);
        (name, converted)
    }))
}

/// The problems of a set given as a JS value, as [`secret_entries`] and
/// [`validate::converted_set_problems`] find them.
///
/// Crossing from JS into wasm once per value is what costs most here, so a set of plain
/// JSON data (the usual case: the result of `JSON.parse`) crosses as one text instead, the
/// one `setAllSecrets` sends ([`super::set_text::plain_set_text`]: a walk in JS checks that
/// `JSON.stringify` gives exactly the values the conversion makes, BigInts as their digits),
/// and only then is the text read here. Anything else takes the member-by-member path, which
/// names the problem. Both give the same values, so the same problems.
pub fn set_problems(value: &JsValue, limits: &validate::Limits) -> Vec<Problem> {
    let text = super::set_text::plain_set_text(value);
    if let Some(problems) = text.and_then(|text| validate::text_set_problems(&text, limits)) {
        return problems;
    }
    match secret_entries(value) {
        Ok(entries) => validate::converted_set_problems(entries, limits),
        Err(problem) => vec![problem],
    }
}

/// The entries that convert, and the problems of those that do not.
fn convertible_secrets(value: &JsValue) -> (Secrets, Vec<Problem>) {
    match secret_entries(value) {
        Ok(entries) => validate::converted_set(entries),
        Err(problem) => (Secrets::new(), vec![problem]),
    }
}

/// Converts one secret's value.
pub fn value_from_js(name: &str, value: &JsValue) -> Result<SecretValue, Problem> {
    let mut items_left = MAX_ITEMS;
    convert_value(name, value, &mut items_left)
}

/// The most array items and object members one conversion takes, all values together. Each
/// takes at least two bytes of JSON, so this is far beyond any set a server accepts; it stops
/// a huge or sparse array from exhausting the module's memory, which would end it.
pub const MAX_ITEMS: usize = 4 * 1024 * 1024;

fn convert_value(
    name: &str,
    value: &JsValue,
    items_left: &mut usize,
) -> Result<SecretValue, Problem> {
    let mut path = String::new();
    to_json(value, 0, &mut path, items_left)
        .map(SecretValue::new)
        .map_err(|why| Problem::new(name, why))
}

/// JSON to a plain JS value (objects, not `Map`s). Integers beyond ±(2^53 − 1) become
/// `BigInt`s: a JS number would round them, and saving the set back would store the rounded
/// number.
pub fn to_js(value: &Value) -> JsValue {
    let text = secrets::json::to_string(value);
    let js = js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL);
    if !has_big_integer(value) {
        return js;
    }
    restore_big_integers(value, &js).unwrap_or(js)
}

/// A whole set as one plain JS object, big integers as in [`to_js`].
pub fn secrets_to_js(secrets: &Secrets) -> JsValue {
    let js = js_sys::JSON::parse(&secrets.to_json()).unwrap_or(JsValue::NULL);
    let rounded = secrets
        .iter()
        .filter(|(_, value)| has_big_integer(value.expose()));
    for (name, value) in rounded {
        if let Some(exact) = Reflect::get(&js, &name.into())
            .ok()
            .and_then(|item| restore_big_integers(value.expose(), &item))
        {
            let _ = Reflect::set(&js, &name.into(), &exact);
        }
    }
    js
}

/// Whether `value` holds an integer `JSON.parse` would round. Checked in Rust first, so that
/// the JS objects are only visited along the way to such integers (usually never).
fn has_big_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => is_big_integer(n),
        Value::Array(items) => items.iter().any(has_big_integer),
        Value::Object(map) => map.values().any(has_big_integer),
        _ => false,
    }
}

/// Puts back, into `js` (what `JSON.parse` made of `value`), every integer it rounded.
/// Returns the replacement when `js` itself is such an integer.
fn restore_big_integers(value: &Value, js: &JsValue) -> Option<JsValue> {
    match value {
        Value::Number(n) => big_integer(n),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if !has_big_integer(item) {
                    continue;
                }
                let index = i as u32;
                let child = Reflect::get_u32(js, index).ok()?;
                if let Some(exact) = restore_big_integers(item, &child) {
                    let _ = Reflect::set_u32(js, index, &exact);
                }
            }
            None
        }
        Value::Object(map) => {
            for (key, item) in map.iter().filter(|(_, item)| has_big_integer(item)) {
                let key = JsValue::from_str(key);
                let child = Reflect::get(js, &key).ok()?;
                // The key is an own property (JSON.parse made it), so even "__proto__" is
                // set as data here.
                if let Some(exact) = restore_big_integers(item, &child) {
                    let _ = Reflect::set(js, &key, &exact);
                }
            }
            None
        }
        _ => None,
    }
}

/// An integer a JS number cannot hold exactly, as a `BigInt`.
fn big_integer(n: &Number) -> Option<JsValue> {
    if !is_big_integer(n) {
        return None;
    }
    match n.as_i64() {
        Some(i) => Some(js_sys::BigInt::from(i).into()),
        None => n.as_u64().map(|u| js_sys::BigInt::from(u).into()),
    }
}

/// Whether a JS number would round `n`.
pub(crate) fn is_big_integer(n: &Number) -> bool {
    match n.as_i64() {
        Some(i) => i.unsigned_abs() > MAX_SAFE_INTEGER,
        None => n.as_u64().is_some_and(|u| u > MAX_SAFE_INTEGER),
    }
}

/// `path` is where inside the value we are (`.port`, `[2]`), for messages; `items_left` is
/// what remains of [`MAX_ITEMS`].
fn to_json(
    value: &JsValue,
    depth: usize,
    path: &mut String,
    items_left: &mut usize,
) -> Result<Value, String> {
    let at = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            concat(&[" at ", path])
        }
    };
    if value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    if value.is_bigint() {
        return big_integer_to_json(value).ok_or_else(|| {
            concat(&[
                numbers::BIG_INTEGER_BEYOND_64,
                &at(path),
                ", which JSON numbers here cannot hold exactly; store it as a string",
            ])
        });
    }
    if let Some(n) = value.as_f64() {
        return number(n).ok_or_else(|| {
            concat(&[
                "has a number JSON cannot hold (NaN or Infinity)",
                &at(path),
                "; use null or a string",
            ])
        });
    }
    if depth >= MAX_VALUE_DEPTH {
        // The rules' own words (a value that refers to itself is nested without end).
        return Err(validate::NESTED_TOO_DEEP.to_string());
    }
    let too_many = |path: &str| {
        concat(&[
            "holds more than ",
            &decimal(MAX_ITEMS as u64),
            " array items and object members",
            &at(path),
            ", far more than any set a server accepts; store less",
        ])
    };
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let length = array.length() as usize;
        *items_left = items_left
            .checked_sub(length)
            .ok_or_else(|| too_many(path))?;
        let mut items = Vec::with_capacity(length);
        for (i, item) in array.iter().enumerate() {
            let len = path.len();
            path.push('[');
            push_decimal(path, i as u64);
            path.push(']');
            items.push(to_json(&item, depth + 1, path, items_left)?);
            path.truncate(len);
        }
        return Ok(Value::Array(items));
    }
    if is_plain_object(value) {
        let mut map = Map::new();
        let entries = Object::entries(value.unchecked_ref());
        *items_left = items_left
            .checked_sub(entries.length() as usize)
            .ok_or_else(|| too_many(path))?;
        for entry in entries.iter() {
            let pair: Array = entry.unchecked_into();
            let key = pair.get(0).as_string().unwrap_or_default();
            let len = path.len();
            path.push('.');
            path.push_str(&key);
            let item = to_json(&pair.get(1), depth + 1, path, items_left)?;
            path.truncate(len);
            map.insert(key, item);
        }
        return Ok(Value::Object(map));
    }
    Err(concat(&[
        "has ",
        &js_type(value),
        &at(path),
        ", which JSON cannot hold; use strings, numbers, booleans, null, arrays and plain \
         objects",
    ]))
}

/// A `BigInt` as an exact JSON integer, if a 64-bit integer holds it.
fn big_integer_to_json(value: &JsValue) -> Option<Value> {
    let digits = value
        .unchecked_ref::<js_sys::BigInt>()
        .to_string(10)
        .ok()?
        .as_string()?;
    numbers::integer_from_digits(&digits).map(Value::Number)
}

/// A finite number as JSON, integers kept integral.
fn number(n: f64) -> Option<Value> {
    const MAX_SAFE: f64 = MAX_SAFE_INTEGER as f64;
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
        Some(Value::Number(Number::from(n as i64)))
    } else {
        Number::from_f64(n).map(Value::Number)
    }
}

/// An object literal or `Object.create(null)`, not a class instance (Date, Map, ...).
pub fn is_plain_object(value: &JsValue) -> bool {
    if !value.is_object() || Array::is_array(value) || value.is_function() {
        return false;
    }
    let proto = Object::get_prototype_of(value);
    proto.is_null() || proto == Object::get_prototype_of(&Object::new())
}

/// How to name a JS value's type in a message: `undefined`, `a BigInt`, `a Date`, ...
fn js_type(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_bigint() {
        return "a BigInt".into();
    }
    if value.is_symbol() {
        return "a Symbol".into();
    }
    if value.is_function() {
        return "a function".into();
    }
    if Array::is_array(value) {
        return "an array".into();
    }
    if value.is_object() {
        let constructor = Reflect::get(value, &"constructor".into())
            .ok()
            .and_then(|c| Reflect::get(&c, &"name".into()).ok())
            .and_then(|n| n.as_string())
            .filter(|n| !n.is_empty());
        return match constructor {
            Some(name) => concat(&["a ", &name]),
            None => "an object".into(),
        };
    }
    if value.as_string().is_some() {
        return "a string".into();
    }
    if value.as_f64().is_some() {
        return "a number".into();
    }
    "a value".into()
}
