"""URL converters shared by the HTML and JSON faces."""
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1  # a PostgreSQL integer


class RowIdConverter(IntegerConverter):
    """`<id:location_id>`: a row id, documented as 1..MAX_ROW_ID.

    A bigger number becomes 0, an id no row has, so it is a plain 404 rather than an
    overflow in the database (a 500). (Rejecting it in the converter instead makes
    Werkzeug answer some methods with a wrong 405.)
    """

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ROW_ID else 0

    @staticmethod
    def openapi_schema(converter) -> dict:
        return {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
