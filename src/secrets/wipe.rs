//! Wiping values before their memory is freed: one value, and the lists and maps of values a
//! reader is still building.

use serde_json::{Map, Value};

use super::memory;

/// Overwrites every string in `value` with zeros before its memory is freed (best effort:
/// copies made earlier by serializers or transports are not reached, nor serde_json's scratch
/// copies of escaped strings, nor the parts of a value whose own reading failed).
pub(super) fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => memory::wipe(s),
        Value::Array(items) => items.wipe_all(),
        Value::Object(map) => map.wipe_all(),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// What a reader has taken from the text so far: wiped if it is dropped before being handed
/// on, as when the read fails half way or at trailing text. (One value is held as a
/// [`SecretValue`](super::SecretValue), which does the same.)
pub(crate) struct Pending<T: Wipeable>(pub(crate) T);

/// Collections of values a [`Pending`] can wipe.
pub(crate) trait Wipeable: Default {
    fn wipe_all(&mut self);
}

impl Wipeable for Vec<Value> {
    fn wipe_all(&mut self) {
        self.iter_mut().for_each(wipe);
    }
}

impl Wipeable for Map<String, Value> {
    fn wipe_all(&mut self) {
        self.values_mut().for_each(wipe);
    }
}

impl Wipeable for Vec<(String, Value)> {
    fn wipe_all(&mut self) {
        self.iter_mut().for_each(|(_, value)| wipe(value));
    }
}

impl<T: Wipeable> Pending<T> {
    /// Hands the values on; the caller is now responsible for them.
    pub(crate) fn into_inner(mut self) -> T {
        std::mem::take(&mut self.0)
    }
}

impl<T: Wipeable> Drop for Pending<T> {
    fn drop(&mut self) {
        self.0.wipe_all();
    }
}
