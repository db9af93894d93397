"""Arrow schemas become the Spark struct JSON of Delta Sharing's `schemaString`."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from yishu.api.spark_schema import schema_string


def test_types_map_to_spark_names():
    schema = pa.schema([
        pa.field("a", pa.int32(), nullable=False), ("b", pa.float64()), ("c", pa.bool_()),
        ("d", pa.date32()), ("e", pa.timestamp("us", tz="UTC")), ("f", pa.decimal128(12, 2)),
        ("g", pa.list_(pa.string())), ("h", pa.struct([("x", pa.int16())])),
        ("i", pa.large_string()), ("j", pa.binary())])
    fields = json.loads(schema_string(schema))["fields"]
    assert [f["type"] for f in fields] == [
        "integer", "double", "boolean", "date", "timestamp", "decimal(12,2)",
        {"type": "array", "elementType": "string", "containsNull": True},
        {"type": "struct", "fields": [{"name": "x", "type": "short", "nullable": True,
                                       "metadata": {}}]},
        "string", "binary"]
    assert fields[0]["nullable"] is False and fields[1]["nullable"] is True


def test_a_type_without_a_spark_twin_is_refused():
    with pytest.raises(ValueError, match="uint64"):
        schema_string(pa.schema([("n", pa.uint64())]))
