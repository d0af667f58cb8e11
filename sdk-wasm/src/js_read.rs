//! Typed reads of plain JavaScript values: the parameters of JavaScript method calls.
//!
//! Each reader takes a value (or an object and a key) and returns the Rust value or a
//! [`ReadError`] naming the field. The rules are those of a serde derive over JavaScript values:
//! a field is absent when it is `undefined` and not a property (`key in object` is false); an
//! optional field is `None` when absent, `undefined` or `null`; a field with a default takes it
//! only when absent; integers are numbers that are safe integers within the type's range; lists
//! are arrays or other iterable objects; unknown fields are ignored. The package's `official.js`
//! reads the parameters it checks itself by the same rules.

use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

/// Why a JavaScript value could not be read: one pointer, so results carrying it stay small.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct ReadError(Box<ReadErrorKind>);

chorus_proto::boxed_error_kind!(ReadError, ReadErrorKind);

/// What kind of failure a [`ReadError`] is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadErrorKind {
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field, or the value itself, has the wrong type or is out of range.
    #[error("`{0}` is not {1}")]
    Invalid(&'static str, &'static str),
}

/// [`ReadErrorKind::Invalid`]: `name` is not `what`.
fn invalid(name: &'static str, what: &'static str) -> ReadError {
    ReadErrorKind::Invalid(name, what).into()
}

/// Checks that `value` is an object (not `null`); `name` is what an error calls it.
pub fn object(value: &JsValue, name: &'static str) -> Result<(), ReadError> {
    if value.is_object() {
        Ok(())
    } else {
        Err(invalid(name, "an object"))
    }
}

/// Field `key` of the object `obj`, or `None` when it is absent.
pub fn field(obj: &JsValue, key: &str) -> Option<JsValue> {
    let key = JsValue::from_str(key);
    let value = Reflect::get(obj, &key).unwrap_or_default();
    if value.is_undefined() && !Reflect::has(obj, &key).unwrap_or(false) {
        None
    } else {
        Some(value)
    }
}

/// Field `key` of `obj`, which must be present.
pub fn required(obj: &JsValue, key: &'static str) -> Result<JsValue, ReadError> {
    field(obj, key).ok_or_else(|| ReadErrorKind::Missing(key).into())
}

/// A string.
pub fn string(value: &JsValue, name: &'static str) -> Result<String, ReadError> {
    value.as_string().ok_or_else(|| invalid(name, "a string"))
}

/// A number that is an integer within `min..=max` (both safe integers).
pub fn integer(value: &JsValue, name: &'static str, min: f64, max: f64) -> Result<f64, ReadError> {
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
        .ok_or_else(|| invalid(name, "an integer in range"))
}

/// An `i32`.
pub fn int32(value: &JsValue, name: &'static str) -> Result<i32, ReadError> {
    integer(value, name, i32::MIN.into(), i32::MAX.into()).map(|n| n as i32)
}

/// A `u32`.
pub fn uint32(value: &JsValue, name: &'static str) -> Result<u32, ReadError> {
    integer(value, name, 0.0, u32::MAX.into()).map(|n| n as u32)
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `Array.from(value)`: the items of an iterable, or the exception iterating it threw.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    fn array_from(value: &JsValue) -> Result<Array, JsValue>;
}

/// The elements of an array or of another iterable object.
pub fn list(value: &JsValue, name: &'static str) -> Result<Vec<JsValue>, ReadError> {
    let iterable = Array::is_array(value)
        || (value.is_object()
            && Reflect::get(value, &js_sys::Symbol::iterator())
                .is_ok_and(|iterate| iterate.is_function()));
    match iterable.then(|| array_from(value)) {
        Some(Ok(items)) => Ok(items.to_vec()),
        _ => Err(invalid(name, "a list")),
    }
}

/// A list of strings.
pub fn strings(value: &JsValue, name: &'static str) -> Result<Vec<String>, ReadError> {
    let mut strings = Vec::new();
    for item in list(value, name)? {
        strings.push(string(&item, name)?);
    }
    Ok(strings)
}

/// Required field `key` of `obj`, read with `read`.
pub fn req<T>(
    obj: &JsValue,
    key: &'static str,
    read: fn(&JsValue, &'static str) -> Result<T, ReadError>,
) -> Result<T, ReadError> {
    read(&required(obj, key)?, key)
}

/// Optional field `key` of `obj`: `None` when absent, `undefined` or `null`.
pub fn opt<T>(
    obj: &JsValue,
    key: &'static str,
    read: fn(&JsValue, &'static str) -> Result<T, ReadError>,
) -> Result<Option<T>, ReadError> {
    match field(obj, key) {
        Some(value) if !value.is_null() && !value.is_undefined() => read(&value, key).map(Some),
        _ => Ok(None),
    }
}

/// Field `key` of `obj`, or `T::default()` when it is absent.
pub fn or_default<T: Default>(
    obj: &JsValue,
    key: &'static str,
    read: fn(&JsValue, &'static str) -> Result<T, ReadError>,
) -> Result<T, ReadError> {
    match field(obj, key) {
        Some(value) => read(&value, key),
        None => Ok(T::default()),
    }
}
