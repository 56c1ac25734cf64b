//! Typed access to a `serde_json::Value` tree that names the JSON path of anything mistyped.
//!
//! SARIF is read through these helpers rather than derived structs so that every type error
//! says exactly where it is (`runs[0].results[3].level`), unknown properties are ignored, and
//! JSON `null` is read as "absent" (several producers write `null` for unset properties).

use serde_json::{Map, Value};

use crate::ImportError;

pub(crate) type Obj = Map<String, Value>;

/// The reader for one input: carries its origin for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'o> {
    pub origin: &'o str,
}

/// `path.key`, or `path["key"]` when the key is not a plain identifier.
pub(crate) fn key_path(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    match (path.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_owned())),
    }
}

/// `path[index]`.
pub(crate) fn index_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `obj[key]`, with JSON `null` read as absent.
fn get<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

impl Reader<'_> {
    pub fn invalid(&self, path: impl Into<String>, problem: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            origin: self.origin.to_owned(),
            path: path.into(),
            problem: problem.into(),
        }
    }

    fn mistyped(&self, path: String, expected: &str, found: &Value) -> ImportError {
        self.invalid(
            path,
            format!("must be {expected}, found {}", type_name(found)),
        )
    }

    /// `value` (at `path`) as an object.
    pub fn object<'a>(&self, value: &'a Value, path: &str) -> Result<&'a Obj, ImportError> {
        value
            .as_object()
            .ok_or_else(|| self.mistyped(path.to_owned(), "an object", value))
    }

    /// `obj[key]` as an object, if present.
    pub fn opt_object<'a>(
        &self,
        obj: &'a Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a Obj>, ImportError> {
        match get(obj, key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.mistyped(key_path(path, key), "an object", other)),
        }
    }

    /// `obj[key]` as an array, if present.
    pub fn opt_array<'a>(
        &self,
        obj: &'a Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a [Value]>, ImportError> {
        match get(obj, key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(self.mistyped(key_path(path, key), "an array", other)),
        }
    }

    /// `obj[key]` as a string, if present.
    pub fn opt_str<'a>(
        &self,
        obj: &'a Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a str>, ImportError> {
        match get(obj, key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.mistyped(key_path(path, key), "a string", other)),
        }
    }

    /// `obj[key]` as an array index. SARIF writes `-1` for "no index", read as absent.
    pub fn opt_index(
        &self,
        obj: &Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<usize>, ImportError> {
        let Some(value) = get(obj, key) else {
            return Ok(None);
        };
        match value.as_i64() {
            Some(-1) => Ok(None),
            Some(n) if n >= 0 => Ok(usize::try_from(n).ok()),
            Some(_) => Err(self.invalid(
                key_path(path, key),
                "must be an index of 0 or more (or -1 for none)",
            )),
            None if value.as_u64().is_some() => Ok(None),
            None => Err(self.mistyped(key_path(path, key), "an integer", value)),
        }
    }

    /// `obj[key]` as a 1-based line or column. Values below 1 (which the schema forbids but some
    /// tools write for "unknown") and values beyond `u32` are read as absent.
    pub fn opt_position(
        &self,
        obj: &Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<u32>, ImportError> {
        let Some(value) = get(obj, key) else {
            return Ok(None);
        };
        if let Some(n) = value.as_i64() {
            return Ok(u32::try_from(n).ok().filter(|n| *n >= 1));
        }
        if value.as_u64().is_some() {
            return Ok(None);
        }
        Err(self.mistyped(key_path(path, key), "an integer", value))
    }

    /// `obj[key]` as a string of `allowed` (compared ignoring ASCII case), if present.
    pub fn opt_enum(
        &self,
        obj: &Obj,
        key: &str,
        path: &str,
        allowed: &'static [&'static str],
    ) -> Result<Option<&'static str>, ImportError> {
        let Some(value) = self.opt_str(obj, key, path)? else {
            return Ok(None);
        };
        allowed
            .iter()
            .find(|name| name.eq_ignore_ascii_case(value.trim()))
            .copied()
            .map(Some)
            .ok_or_else(|| {
                self.invalid(
                    key_path(path, key),
                    format!(
                        "is {}, which is not one of {}",
                        Value::String(value.chars().take(60).collect()),
                        allowed.join(", ")
                    ),
                )
            })
    }

    /// A SARIF `message` / `multiformatMessageString`'s `text`, if present.
    pub fn opt_text<'a>(
        &self,
        obj: &'a Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a str>, ImportError> {
        match self.opt_object(obj, key, path)? {
            Some(message) => self.opt_str(message, "text", &key_path(path, key)),
            None => Ok(None),
        }
    }
}

/// Property bags (`properties`) are free-form: these read what they can and ignore the rest.
pub(crate) mod bag {
    use super::{Obj, Value, get};

    /// `properties` of `obj`, if it is an object.
    pub fn properties(obj: &Obj) -> Option<&Obj> {
        get(obj, "properties").and_then(Value::as_object)
    }

    /// A string property.
    pub fn string<'a>(properties: Option<&'a Obj>, key: &str) -> Option<&'a str> {
        properties
            .and_then(|p| get(p, key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A number, or a string holding one (`"8.8"`).
    pub fn number(properties: Option<&Obj>, key: &str) -> Option<f64> {
        match properties.and_then(|p| get(p, key))? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|n| n.is_finite())
    }

    /// The string entries of `tags`.
    pub fn tags(properties: Option<&Obj>) -> impl Iterator<Item = &str> {
        properties
            .and_then(|p| get(p, "tags"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(key_path("", "runs"), "runs");
        assert_eq!(key_path("runs[0]", "tool"), "runs[0].tool");
        assert_eq!(
            key_path("runs[0].originalUriBaseIds", "%SRCROOT%"),
            "runs[0].originalUriBaseIds[\"%SRCROOT%\"]"
        );
        assert_eq!(index_path("runs", 2), "runs[2]");
    }

    #[test]
    fn typed_reads_name_the_path() {
        let reader = Reader { origin: "x.sarif" };
        let value = json!({"a": 1, "b": null, "c": "s", "i": -1, "j": -2, "l": 0});
        let obj = value.as_object().unwrap();
        assert_eq!(reader.opt_str(obj, "b", "r").unwrap(), None);
        assert_eq!(reader.opt_str(obj, "c", "r").unwrap(), Some("s"));
        let err = reader.opt_str(obj, "a", "r").unwrap_err().to_string();
        assert!(
            err.contains("`r.a` must be a string, found a number"),
            "{err}"
        );
        assert_eq!(reader.opt_index(obj, "i", "r").unwrap(), None);
        assert!(reader.opt_index(obj, "j", "r").is_err());
        assert_eq!(reader.opt_position(obj, "l", "r").unwrap(), None);
        assert_eq!(reader.opt_position(obj, "a", "r").unwrap(), Some(1));
        assert!(reader.opt_position(obj, "c", "r").is_err());
        let err = reader
            .opt_enum(obj, "c", "r", &["x", "y"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is \"s\", which is not one of x, y"), "{err}");
    }
}
