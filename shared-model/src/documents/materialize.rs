//! The bulk reader: a document, or one of its entries, read in one pass.
//!
//! autosurgeon's `Hydrate` (what [`super::read`] and [`super::get_entry`] use) looks every
//! field up by its key, and in automerge 0.12's columnar op set each lookup is a seek that costs
//! more as the document grows: 0.43 ms a sale in a 300-sale journal. automerge's own
//! materialisation (`ReadDoc::hydrate`) walks an object's ops once, and serde builds the
//! model's types from the value it returns: 0.14 ms a sale, and a whole 300-sale journal in
//! 41 ms against 134 ms (`BENCHMARKS.md`, "live copies and one-pass reads";
//! `examples/journal_read_bench.rs`).
//!
//! The two readers agree because every model type's serde form is the layout autosurgeon
//! writes: decimals, ids, dates and timestamps as strings (`codec`), structs as maps of their
//! fields, enums externally tagged, `None` as null or absent. `tests/documents.rs` holds them
//! equal on every record a journal carries and on arbitrary sales. A value serde cannot read
//! falls back to autosurgeon, so this reader never refuses what [`super::read`] accepts.
//!
//! Hand-written because neither crate converts between the two: autosurgeon reads only from a
//! document, and automerge's materialised value has no serde support.

use automerge::{ObjId, ReadDoc, ScalarValue, hydrate};
use autosurgeon::Hydrate;
use serde::de::DeserializeOwned;

use super::{Document, check_kind, check_schema};
use crate::error::{ModelError, ModelResult};

fn invalid(reason: String) -> ModelError {
    ModelError::Invalid {
        field: "document",
        reason,
    }
}

/// A materialised value as JSON, the form serde reads the model from. Counters, automerge
/// timestamps and bytes are no part of the model and are refused.
fn to_json(value: &hydrate::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        hydrate::Value::Scalar(s) => match s {
            ScalarValue::Str(s) => Json::String(s.to_string()),
            ScalarValue::Int(i) => Json::from(*i),
            ScalarValue::Uint(u) => Json::from(*u),
            ScalarValue::F64(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .ok_or_else(|| format!("{f} is not a number"))?,
            ScalarValue::Boolean(b) => Json::Bool(*b),
            ScalarValue::Null => Json::Null,
            other => return Err(format!("unexpected {other:?}")),
        },
        hydrate::Value::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(&v.value)?)))
                .collect::<Result<_, String>>()?,
        ),
        hydrate::Value::List(list) => Json::Array(
            list.iter()
                .map(|v| to_json(&v.value))
                .collect::<Result<_, String>>()?,
        ),
        hydrate::Value::Text(text) => Json::String(String::from(text)),
    })
}

/// A model value from a materialised one, without the fallback to autosurgeon (what the tests
/// that hold the two readers equal check).
pub fn from_value<T: DeserializeOwned>(value: &hydrate::Value) -> ModelResult<T> {
    let json = to_json(value).map_err(invalid)?;
    serde_json::from_value(json).map_err(|e| invalid(e.to_string()))
}

/// Reads a document, checking its kind and schema version, as [`super::read`] does. `doc` is an
/// `AutoCommit` or an `Automerge` (a sync repo's live copy).
pub fn read<D: Document + DeserializeOwned>(
    doc: &(impl ReadDoc + autosurgeon::ReadDoc),
) -> ModelResult<D> {
    check_kind::<D>(doc)?;
    let value = doc
        .hydrate(automerge::ROOT, None)
        .map_err(|e| invalid(e.to_string()));
    let value: D = match value.and_then(|v| from_value(&v)) {
        Ok(value) => value,
        Err(_) => autosurgeon::hydrate(doc).map_err(|e| invalid(e.to_string()))?,
    };
    check_schema(&value)?;
    Ok(value)
}

/// Reads the entry `key` of the map `map` (an object of `doc`); `None` when absent. `doc` is
/// an `AutoCommit` or an `Automerge` (a sync repo's live copy).
pub fn entry<T, D>(doc: &D, map: &ObjId, key: &str) -> ModelResult<Option<T>>
where
    T: DeserializeOwned + Hydrate,
    D: ReadDoc + autosurgeon::ReadDoc,
{
    let Some((value, obj)) = ReadDoc::get(doc, map, key).map_err(|e| invalid(e.to_string()))?
    else {
        return Ok(None);
    };
    if let automerge::Value::Scalar(scalar) = value {
        // One operation (a sale of schema 2 is its JSON in a string): read from the value
        // already looked up, as autosurgeon reads a scalar.
        return T::hydrate_scalar(scalar)
            .map(Some)
            .map_err(|e| invalid(e.to_string()));
    }
    let value = doc.hydrate(&obj, None).map_err(|e| invalid(e.to_string()));
    match value.and_then(|v| from_value(&v)) {
        Ok(value) => Ok(Some(value)),
        Err(_) => autosurgeon::hydrate_prop(doc, map, key)
            .map(Some)
            .map_err(|e| invalid(e.to_string())),
    }
}
