"""The JSON type of every watch message field, checked, never coerced (pure column expressions for
``watchlake.predict.messages``).

Spark's ``from_json`` coerces: any JSON value read as a string becomes its text (``12345`` became the device
"12345"), an integer read as a timestamp becomes epoch seconds, and a mistyped optional number becomes null as if it
were missing. So strings, times and optional numbers are parsed as variants, which keep the JSON type, and are typed
here only when the type is right. Integers and the motion arrays are parsed typed: Spark refuses a fraction, a
string or an overflow there (the field reads as null), and the only coercions left, the strings "NaN" and
"Infinity" in a number array, give non-finite numbers, which are refused as such.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
    VariantType,
)

from watchlake.schemas import MOTION_FIELDS, WATCH_MESSAGE_V2

# What a field's JSON value must be, by its Spark type (integer fields are checked by from_json itself).
_EXPECTED = {
    StringType(): "a string",
    TimestampType(): "a string (an ISO-8601 time)",
    DoubleType(): "a number",
}
VARIANT_FIELDS: tuple[str, ...] = tuple(f.name for f in WATCH_MESSAGE_V2.fields if f.dataType in _EXPECTED)
NUMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in WATCH_MESSAGE_V2.fields if f.dataType == DoubleType())
TEXT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in WATCH_MESSAGE_V2.fields if f.dataType in (StringType(), TimestampType())
)
# The message as from_json reads it: variants where Spark would coerce.
RAW_MESSAGE = StructType(
    [StructField(f.name, VariantType() if f.name in VARIANT_FIELDS else f.dataType) for f in WATCH_MESSAGE_V2]
)
INTEGER_BITS = {IntegerType(): 32, LongType(): 64}


def _is_number(json_type: Column) -> Column:
    """A variant type of a JSON number: BIGINT for integers, DECIMAL(p, s) or DOUBLE for the others."""
    return json_type.isin("BIGINT", "DOUBLE") | json_type.startswith("DECIMAL")


def _right_type(data_type: DataType, json_type: Column) -> Column:
    return _is_number(json_type) if data_type == DoubleType() else json_type == "STRING"


def typed_message(raw: Column, json_types: Column) -> Column:
    """The ``WATCH_MESSAGE_V2`` struct of a parsed ``RAW_MESSAGE``: a variant field of the wrong JSON type, or a
    time string that does not parse, is null (and :func:`field_problem` says why)."""
    fields = []
    for field in WATCH_MESSAGE_V2.fields:
        value = raw[field.name]
        if field.name in VARIANT_FIELDS:
            converted = F.try_variant_get(value, "$", field.dataType.simpleString())
            value = F.when(_right_type(field.dataType, json_types[field.name]), converted)
        fields.append(value.cast(field.dataType).alias(field.name))
    return F.struct(*fields)


def json_kind(json_type: Column) -> Column:
    """A variant type name (``schema_of_variant``) as the JSON kind it came from: "a string", "an array", ..."""
    return (
        F.when(json_type == "STRING", F.lit("a string"))
        .when(_is_number(json_type), F.lit("a number"))
        .when(json_type == "BOOLEAN", F.lit("true or false"))
        .when(json_type == "VOID", F.lit("null"))
        .when(json_type.startswith("ARRAY"), F.lit("an array"))
        .when(json_type.startswith("OBJECT"), F.lit("an object"))
        .otherwise(F.lower(json_type))
    )


def document_kind(json_type: Column) -> Column:
    """A top-level variant type name as the kind of JSON document it came from: "a JSON array", ..."""
    return (
        F.when(json_type == "STRING", F.lit("a JSON string"))
        .when(_is_number(json_type), F.lit("a JSON number"))
        .when(json_type == "BOOLEAN", F.lit("JSON true or false"))
        .when(json_type == "VOID", F.lit("JSON null"))
        .when(json_type.startswith("ARRAY"), F.lit("a JSON array"))
        .otherwise(F.concat(F.lit("JSON "), F.lower(json_type)))
    )


def _not_finite(value: Column) -> Column:
    return F.isnan(value) | (F.abs(value) == float("inf"))


def _first_non_finite(array: Column) -> Column:
    """The 0-based index of the first NaN or infinity in ``array`` (``array_position`` compares NaN as equal)."""
    found = (F.array_position(array, value) for value in (float("nan"), float("inf"), float("-inf")))
    return (F.least(*(F.when(position > 0, position) for position in found)) - 1).cast("int")


def _non_finite_element(name: str, text: Column) -> Column:
    """Why the motion array ``name`` holds a non-finite number: the strings "NaN" / "Infinity", which Spark's
    reader turns into numbers, are the wrong JSON type; a bare ``NaN`` or ``Infinity``, or ``1e400``, is not a
    finite number. The strict parse runs only for messages already refused here."""
    index = _first_non_finite(F.col("message")[name])
    element = F.element_at(
        F.try_variant_get(F.try_parse_json(text), f"$.{name}", "array<variant>"), index + 1
    )
    at = F.concat(F.lit(f"{name}["), index.cast("string"), F.lit("]"))
    return F.when(
        F.schema_of_variant(element) == "STRING",
        F.concat(
            F.lit("wrong JSON type for "), at, F.lit(f": a string where {_EXPECTED[DoubleType()]} belongs")
        ),
    ).otherwise(F.concat(at, F.lit(" is not a finite number")))


def non_finite_reason(text: Column) -> Column:
    """Why the first field (schema order) holding NaN, an infinity or a number beyond the double range (read as
    an infinity) is refused, naming the array element; null when no field does. ``text`` is the message's JSON.

    Lambda-free: NaN sorts above every number in Spark, so an array holds a non-finite number exactly when its
    maximum is NaN or +inf or its minimum -inf (nulls are skipped here and refused later)."""
    message = F.col("message")
    checks = []
    for field in WATCH_MESSAGE_V2.fields:
        if field.name in MOTION_FIELDS:
            array = message[field.name]
            highest = F.array_max(array)
            bad = F.isnan(highest) | (highest == float("inf")) | (F.array_min(array) == float("-inf"))
            checks.append(F.when(bad, _non_finite_element(field.name, text)))
        elif field.name in NUMBER_FIELDS:
            bad = _not_finite(message[field.name])
            checks.append(F.when(bad, F.lit(f"{field.name} is not a finite number")))
    return F.coalesce(*checks)


def field_problem(field: StructField) -> Column:
    """Why ``field`` of the message is unusable (missing, null though required, of the wrong JSON type, out of
    range, or a time that does not parse), or null when it is fine. Needs ``message``, ``json_types`` and
    ``keys`` (the object's keys) of ``with_parse_result``."""
    name = field.name
    value = F.col("message")[name]
    missing = F.lit(f"missing field: {name}")
    if field.name not in VARIANT_FIELDS:
        if isinstance(field.dataType, ArrayType):
            mistyped = f"{name} is not an array of numbers"
        else:
            mistyped = f"{name} is not an integer of at most {INTEGER_BITS[field.dataType]} bits"
        present = F.array_contains(F.col("keys"), name)
        return F.when(value.isNull(), F.when(present, F.lit(mistyped)).otherwise(missing))
    json_type = F.col("json_types")[name]
    absent = json_type.isNull() | (json_type == "VOID")
    problem = F.when(
        ~absent & ~_right_type(field.dataType, json_type), _wrong_type(name, field.dataType, json_type)
    )
    if field.dataType == TimestampType():
        problem = problem.when(~absent & value.isNull(), F.lit(f"{name} is not an ISO-8601 time"))
    if not field.nullable:
        required = F.when(json_type.isNull(), missing).when(absent, F.lit(f"required field is null: {name}"))
        problem = F.coalesce(required, problem)
    return problem


def _wrong_type(name: str, data_type: DataType, json_type: Column) -> Column:
    return F.concat(
        F.lit(f"wrong JSON type for {name}: "),
        json_kind(json_type),
        F.lit(f" where {_EXPECTED[data_type]} belongs"),
    )
