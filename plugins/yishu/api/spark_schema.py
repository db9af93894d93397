"""Arrow schemas as the Spark struct JSON that Delta Sharing's `schemaString` carries."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.types as t

_PRIMITIVES = ((t.is_boolean, "boolean"), (t.is_int8, "byte"), (t.is_int16, "short"),
               (t.is_int32, "integer"), (t.is_int64, "long"), (t.is_uint8, "short"),
               (t.is_uint16, "integer"), (t.is_uint32, "long"), (t.is_float32, "float"),
               (t.is_float64, "double"), (t.is_string, "string"),
               (t.is_large_string, "string"), (t.is_binary, "binary"),
               (t.is_large_binary, "binary"), (t.is_date, "date"),
               (t.is_timestamp, "timestamp"))


def spark_type(kind: pa.DataType) -> str | dict:
    for test, name in _PRIMITIVES:
        if test(kind):
            return name
    if t.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    if t.is_list(kind) or t.is_large_list(kind):
        return {"type": "array", "elementType": spark_type(kind.value_type),
                "containsNull": True}
    if t.is_struct(kind):
        return _struct(kind.field(i) for i in range(kind.num_fields))
    if t.is_map(kind):
        return {"type": "map", "keyType": spark_type(kind.key_type),
                "valueType": spark_type(kind.item_type), "valueContainsNull": True}
    # a published column of another type (uint64, time, dictionary…) has no Spark twin here
    raise ValueError(f"column type {kind} has no Delta Sharing (Spark) type")


def _struct(fields) -> dict:
    return {"type": "struct", "fields": [
        {"name": f.name, "type": spark_type(f.type), "nullable": f.nullable, "metadata": {}}
        for f in fields]}


def schema_string(schema: pa.Schema) -> str:
    return json.dumps(_struct(schema), ensure_ascii=False, separators=(",", ":"))
