"""List conventions shared by every list, HTML and JSON alike.

A `ListSpec` names what a resource's list can sort by, filter on and search in. From it
come the marshmallow schema that parses and documents the query string (`page`,
`per_page`, `sort`/`-field`, `direction`, `orderby`/`order`, `q`/`search`, named and
`filter[field]=a,b` filters, `format`), and `fetch_page()` that applies them to a select.
"""
import math
import re
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema
from sqlalchemy import Select, func, or_, select

from app.core.errors import ValidationFailed
from app.extensions import db

MAX_PER_PAGE = 100
MAX_FILTER_INT = 2**31 - 1  # a PostgreSQL integer
DEFAULT_PER_PAGE = 20
TRUE_WORDS = {"1", "true", "yes", "on", "active"}
FALSE_WORDS = {"0", "false", "no", "off", "inactive"}


@dataclass
class Filter:
    """A filterable column. `kind` is "str", "int" or "bool"; `choices` limits values;
    `aliases` maps other accepted spellings onto a choice (seed 002: status=1 is active)."""

    column: Any
    kind: str = "str"
    choices: tuple = ()
    description: str = ""
    aliases: dict = field(default_factory=dict)


@dataclass
class ListSpec:
    name: str
    sorts: dict[str, Any]
    default_sort: str
    default_direction: str = "asc"
    search: tuple = ()
    filters: dict[str, Filter] = field(default_factory=dict)
    # A callable (stmt, q) -> stmt that replaces the LIKE search (full-text search).
    search_with: Any = None
    # The permission a CSV of this list needs besides seeing the list (crm.export for CRM
    # records); None: whoever may see the list may download it. Checked by
    # app.core.exports.require_export, which every CSV path of a list goes through.
    export_permission: str | None = None
    _schema: type | None = None

    def args_schema(self) -> type:
        if self._schema is None:
            self._schema = _build_args_schema(self)
        return self._schema

    def parse_for_page(self, args) -> tuple["ListParams", str | None]:
        """For HTML lists: bad query values fall back to the defaults, with a message to show."""
        try:
            return self.parse(args), None
        except ValidationFailed as exc:
            return self.parse({}), exc.message

    def parse(self, args) -> "ListParams":
        """Parse a query-string mapping; bad values raise ValidationFailed (a 422)."""
        try:
            return self.args_schema()().load(args)
        except ValidationError as exc:
            raise ValidationFailed(flatten_errors(exc.messages)) from exc


@dataclass
class ListParams:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = ""
    direction: str = "asc"
    q: str | None = None
    filters: dict[str, list] = field(default_factory=dict)
    format: str = "json"
    # The list these params were parsed for (its export permission, for format=csv).
    spec: Any = field(default=None, repr=False, compare=False)

    def query_args(self, **overrides) -> dict:
        """The params as a query string mapping (for links), with overrides applied."""
        out = {"page": self.page, "per_page": self.per_page, "sort": self.sort, "direction": self.direction}
        if self.q:
            out["q"] = self.q
        for key, values in self.filters.items():
            out[key] = ",".join(_query_value(v) for v in values)
        out.update(overrides)
        return {k: v for k, v in out.items() if v not in (None, "")}


def _query_value(value) -> str:
    # Booleans go back out as 1/0, the way the filters document them.
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int | None:
        return (self.page - 1) * self.per_page + 1 if self.items else None

    @property
    def last_index(self) -> int | None:
        return self.first_index + len(self.items) - 1 if self.items else None

    def meta(self) -> dict:
        return {
            "current_page": self.page,
            "last_page": self.last_page,
            "per_page": self.per_page,
            "total": self.total,
            "from": self.first_index,
            "to": self.last_index,
        }


def _coerce(value: str, spec_filter: Filter, name: str):
    value = value.strip()
    value = spec_filter.aliases.get(value, value)
    if spec_filter.kind == "int":
        # Ids are database integers: a bigger number would overflow the query (a 500).
        if not value.lstrip("-").isdecimal() or abs(int(value)) > MAX_FILTER_INT:
            raise ValidationError(f"The {name} filter must be a whole number.")
        return int(value)
    if spec_filter.kind == "bool":
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(f"The {name} filter must be one of 1, 0, true, false.")
    if spec_filter.choices and value not in spec_filter.choices:
        accepted = (*spec_filter.choices, *spec_filter.aliases)
        raise ValidationError(f"The {name} filter must be one of: {', '.join(accepted)}.")
    return value


def _build_args_schema(spec: ListSpec) -> type:
    sort_values = sorted(spec.sorts) + sorted(f"-{s}" for s in spec.sorts)
    attrs: dict[str, Any] = {
        "page": fields.Integer(load_default=1, validate=validate.Range(min=1, error="The page must be at least 1.")),
        "per_page": fields.Integer(
            load_default=DEFAULT_PER_PAGE,
            validate=validate.Range(min=1, max=MAX_PER_PAGE, error="The per page must be between 1 and 100."),
        ),
        "sort": fields.String(
            validate=validate.OneOf(sort_values, error="The selected sort is invalid."),
            metadata={"description": f"One of {', '.join(sorted(spec.sorts))}; prefix - for descending."},
        ),
        "direction": fields.String(validate=validate.OneOf(["asc", "desc"], error="The selected direction is invalid.")),
        "orderby": fields.String(
            validate=validate.OneOf(sort_values, error="The selected orderby is invalid."),
            metadata={"description": "Alias of sort."},
        ),
        "order": fields.String(
            validate=validate.OneOf(["asc", "desc"], error="The selected order is invalid."),
            metadata={"description": "Alias of direction."},
        ),
        "q": fields.String(
            validate=[
                validate.Length(min=2, error="The q field must be at least 2 characters."),
                validate.Length(max=200, error="The q field may not be greater than 200 characters."),
            ],
            metadata={"description": "Search text, at least 2 characters."},
        ),
        "search": fields.String(
            validate=validate.Length(max=200), metadata={"description": "Legacy alias of q, used when q is absent."}
        ),
        "format": fields.String(load_default="json", validate=validate.OneOf(["json", "csv"])),
    }
    for name, spec_filter in spec.filters.items():
        desc = spec_filter.description or f"Filter by {name}; several values separated by commas."
        if spec_filter.choices:
            desc += f" Values: {', '.join((*spec_filter.choices, *spec_filter.aliases))}."
        attrs[name] = fields.String(metadata={"description": desc})
        attrs[f"filter__{name}"] = fields.String(data_key=f"filter[{name}]", metadata={"description": desc})

    class Meta:
        unknown = EXCLUDE

    attrs["Meta"] = Meta
    attrs["_spec"] = spec
    return type(f"{spec.name}ListArgs", (_ListArgsBase,), attrs)


class _ListArgsBase(Schema):
    _spec: ListSpec

    @pre_load
    def _drop_blanks(self, data, **kwargs):
        # HTML forms send empty inputs; an empty (or all-space) value means "not given",
        # and `q= a` is the one-character search it looks like.
        if not hasattr(data, "items"):
            return data
        data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in data.items() if v not in ("", None)}

    @validates_schema
    def _validate_filters(self, data, **kwargs):
        errors = {}
        for name, spec_filter in self._spec.filters.items():
            for key in (name, f"filter__{name}"):
                if key in data:
                    try:
                        [_coerce(v, spec_filter, name) for v in data[key].split(",") if v.strip()]
                    except ValidationError as exc:
                        errors[name if key == name else f"filter[{name}]"] = exc.messages
        if errors:
            raise ValidationError(errors)

    def load(self, data, **kwargs):
        if hasattr(data, "to_dict"):
            data = data.to_dict()  # first value of each key, as Flask's args do
        raw = super().load(data, **kwargs)
        return self._to_params(raw)

    def _to_params(self, raw: dict) -> ListParams:
        spec = self._spec
        sort = raw.get("sort") or raw.get("orderby") or spec.default_sort
        direction = raw.get("direction") or raw.get("order")
        if sort.startswith("-"):
            sort, direction = sort[1:], direction or "desc"
        direction = direction or spec.default_direction
        q = raw.get("q") or raw.get("search")
        filters = {}
        for name, spec_filter in spec.filters.items():
            value = raw.get(f"filter__{name}") or raw.get(name)
            values = [_coerce(v, spec_filter, name) for v in (value or "").split(",") if v.strip()]
            if values:  # "," alone names no value: no filter, as if it were not sent
                filters[name] = values
        return ListParams(
            page=raw["page"], per_page=raw["per_page"], sort=sort, direction=direction,
            q=q, filters=filters, format=raw["format"], spec=spec,
        )


def apply_list_params(stmt: Select, spec: ListSpec, params: ListParams) -> Select:
    """Filters and search from `params`; the order is applied by fetch_page/iter_rows."""
    for name, values in params.filters.items():
        column = spec.filters[name].column
        stmt = stmt.where(column.in_(values)) if len(values) > 1 else stmt.where(column == values[0])
    if params.q and spec.search_with is not None:
        return spec.search_with(stmt, params.q)
    if params.q and spec.search:
        pattern = f"%{escape_like(params.q.lower())}%"
        stmt = stmt.where(or_(*(func.lower(col).like(pattern, escape="\\") for col in spec.search)))
    return stmt


def ordered(stmt: Select, spec: ListSpec, params: ListParams) -> Select:
    column = spec.sorts[params.sort]
    primary = column.desc() if params.direction == "desc" else column.asc()
    # A unique tie-breaker keeps pages stable when many rows share a sort value.
    entity = stmt.column_descriptions[0]["entity"]
    return stmt.order_by(primary, entity.id.desc() if params.direction == "desc" else entity.id.asc())


def fetch_page(stmt: Select, spec: ListSpec, params: ListParams) -> Page:
    stmt = apply_list_params(stmt, spec, params)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    offset = (params.page - 1) * params.per_page
    # Past the end there is nothing to fetch, and a huge page number would overflow the
    # database's OFFSET (a bigint): answer the empty page without asking.
    rows = [] if offset >= total else db.session.scalars(
        ordered(stmt, spec, params).limit(params.per_page).offset(offset)
    ).all()
    return Page(items=list(rows), total=total, page=params.page, per_page=params.per_page)


def iter_rows(stmt: Select, spec: ListSpec, params: ListParams, batch: int = 500):
    """Every matching row in order, fetched in batches (for CSV exports)."""
    result = db.session.scalars(
        ordered(apply_list_params(stmt, spec, params), spec, params).execution_options(yield_per=batch)
    )
    yield from result


def matching_ids(stmt: Select, spec: ListSpec, params: ListParams, limit: int) -> list[int]:
    """The ids of every row the list's search and filters match, in list order (a bulk
    action on "all N matching"). More than `limit` is a 422: narrow the filters first."""
    entity = stmt.column_descriptions[0]["entity"]
    ordered_stmt = ordered(apply_list_params(stmt, spec, params), spec, params)
    ids = list(db.session.scalars(ordered_stmt.with_only_columns(entity.id).limit(limit + 1)))
    if len(ids) > limit:
        raise ValidationFailed({"all_matching": [
            f"A bulk action applies to at most {limit:,} records at a time; narrow the search or filters first."]})
    return ids


def in_chunks(items: list, size: int):
    """`items` in consecutive slices of at most `size` (bulk writes by id, a batch at a time)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {"json": {"a": {"b": [..]}}} -> {"a.b": [..]} with plain words."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, list):
        out[prefix or "_schema"] = [_humanize(prefix, m) for m in messages if isinstance(m, str)]
        for m in messages:
            if isinstance(m, dict):
                out.update(flatten_errors(m, prefix))
        return out
    for key, value in messages.items():
        if key in ("json", "query", "querystring", "form", "headers", "files") and not prefix:
            out.update(flatten_errors(value))
            continue
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten_errors(value, name))
        else:
            out[name] = [_humanize(name, m) for m in (value if isinstance(value, list) else [value])]
    return out


# marshmallow's messages, reworded the way every other 422 of ours reads (Laravel's words).
# A Length with both bounds says "between"; give fields two Length validators instead.
_PLAIN_WORDS = [
    (r"Missing data for required field\.", "The {label} field is required."),
    (r"Unknown field\.", "The {label} field is not allowed."),
    (r"Field may not be null\.", "The {label} field may not be null."),
    (r"Shorter than minimum length 1\.", "The {label} field is required."),
    (r"Shorter than minimum length (\d+)\.", "The {label} must be at least {0} characters."),
    (r"Longer than maximum length (\d+)\.", "The {label} may not be greater than {0} characters."),
    (r"Not a valid string\.", "The {label} must be a string."),
    (r"Not a valid integer\.", "The {label} must be an integer."),
    (r"Not a valid boolean\.", "The {label} field must be true or false."),
    (r"Not a valid list\.", "The {label} must be an array."),
    (r"Not a valid (aware |naive )?datetime\.", "The {label} must be a date and time with a time zone (ISO 8601)."),
    (r"Must be one of: .*", "The selected {label} is invalid."),
    (r"Invalid input type\.", "The request body must be a JSON object."),
]


def _humanize(name: str, message: str) -> str:
    label = name.rsplit(".", 1)[-1].replace("_", " ")
    for pattern, words in _PLAIN_WORDS:
        match = re.fullmatch(pattern, message)
        if match:
            return words.format(*match.groups(), label=label)
    return message
