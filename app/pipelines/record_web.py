"""What the contact and account screens share: which fields a form shows and with which
input, reading a posted form into service values, and service errors by input name."""
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import phonenumbers
from werkzeug.datastructures import MultiDict

from app.pipelines.common import custom_field_definitions

CUSTOM_PREFIX = "cf."
BULK_SHOWN = 50  # records a bulk delete's confirmation names; the rest are counted
INPUT_KINDS = {"text": "text", "number": "number", "date": "date", "choice": "select", "checkbox": "checkbox"}


@dataclass
class FieldSpec:
    """One input of a form / one editable line of a detail page."""

    name: str  # the service's field name, or "cf.<key>" for a custom field
    label: str
    kind: str = "text"  # text, email, tel, url, textarea, number, date, select, checkbox, tags
    choices: list = field(default_factory=list)  # (value, label) for select
    maxlength: int | None = None
    required: bool = False
    help: str = ""

    @property
    def is_custom(self) -> bool:
        return self.name.startswith(CUSTOM_PREFIX)

    @property
    def key(self) -> str:
        return self.name[len(CUSTOM_PREFIX):] if self.is_custom else self.name

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def custom_specs(entity: str) -> list[FieldSpec]:
    specs = []
    for definition in custom_field_definitions(entity):
        kind = INPUT_KINDS.get(definition.type, "text")
        choices = [(o, o) for o in definition.options or []] if kind == "select" else []
        specs.append(FieldSpec(f"{CUSTOM_PREFIX}{definition.key}", definition.label, kind, choices,
                               maxlength=500 if kind == "text" else None, required=definition.required))
    return specs


def raw_value(record, spec: FieldSpec):
    """The stored value behind a field (None when the record or value is missing)."""
    if record is None:
        return None
    if spec.is_custom:
        return (record.custom_fields or {}).get(spec.key)
    if spec.kind == "tags":
        return ", ".join(sorted((t.name for t in record.tags), key=str.lower))
    return getattr(record, spec.name, None)


def input_value(record, spec: FieldSpec, posted=None) -> str:
    """What the input shows: what was posted (after an error), else the stored value."""
    if posted is not None and spec.name in posted:
        return posted.get(spec.name) or ""
    value = raw_value(record, spec)
    if spec.kind == "checkbox":
        return "1" if value else ""
    return "" if value is None else str(value)


def pretty_phone(value: str | None) -> str:
    """+441174960201 -> "+44 117 496 0201" for reading; anything else as stored."""
    if not value or not value.startswith("+"):
        return value or ""
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def display_value(record, spec: FieldSpec) -> str:
    value = raw_value(record, spec)
    if spec.kind == "tel":
        return pretty_phone(value)
    if spec.kind == "checkbox":
        return "Yes" if value else "No"
    if value in (None, ""):
        return ""
    if spec.kind == "select":
        for choice, label in spec.choices:
            if str(choice) == str(value):
                return label
    return str(value)


def values_from_form(form, specs: list[FieldSpec], only: set[str] | None = None) -> dict:
    """Service values from a posted form: the named fields (all `specs` by default).

    A checkbox sends nothing when unticked, so every form carries a hidden "0" before it
    and the last value wins.
    """
    values: dict = {}
    custom: dict = {}
    for spec in specs:
        if only is not None and spec.name not in only:
            continue
        if spec.kind == "checkbox":
            sent = form.getlist(spec.name)
            value = sent[-1] if sent else "0"
        elif spec.name in form:
            value = form.get(spec.name, "")
        else:
            continue
        if spec.is_custom:
            custom[spec.key] = value
        else:
            values[spec.name] = value
    if custom:
        values["custom_fields"] = custom
    return values


def errors_by_input(errors: dict) -> dict[str, list[str]]:
    """Service error keys ("custom_fields.tier", "tags.0") as input names ("cf.tier", "tags")."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key.startswith("custom_fields."):
            name = CUSTOM_PREFIX + key[len("custom_fields."):]
        else:
            name = key.split(".")[0]
        out.setdefault(name, []).extend(messages)
    return out


def safe_next(url: str | None, prefix: str, fallback: str) -> str:
    """A same-site return address under `prefix` (after a bulk action), else `fallback`."""
    if not url:
        return fallback
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith(prefix) or "\\" in url:
        return fallback
    return url


def ids_from_form(form, name: str = "ids") -> list[int]:
    return [int(v) for v in form.getlist(name) if v.isdecimal() and len(v) < 10]


def form_version(form) -> int | None:
    """The record version a form was rendered with (its If-Match), None when absent."""
    raw = form.get("version", "")
    return int(raw) if raw.isdecimal() and len(raw) < 10 else None


def edit_one_field(actor, record_id: int, spec: FieldSpec, *, kind: str, load, save, permission: str,
                   detail_url: str):
    """A detail page's field edited in place: GET the input (or, with ?cancel, the value
    again), POST it; the line swaps back on success. `kind` names the templates folder
    (pipelines/<kind>s/_field*.html) and the record's name in them; `load(actor, id)` and
    `save(actor, id, values, version)` are the kind's service functions."""
    from flask import redirect, request

    from app.core.errors import PreconditionFailed, ValidationFailed
    from app.core.htmx import is_htmx, render_page
    from app.core.permissions import require
    from app.extensions import db

    line, form = f"pipelines/{kind}s/_field.html", f"pipelines/{kind}s/_field_form.html"
    record = load(actor, record_id)
    if request.method == "GET" and request.args.get("cancel"):
        return render_page(line, spec=spec, **{kind: record})
    require(actor, permission)
    if request.method == "GET":
        return render_page(form, spec=spec, errors={}, posted=None, **{kind: record})
    try:
        record = save(actor, record_id, values_from_form(request.form, [spec]), form_version(request.form))
    except (ValidationFailed, PreconditionFailed) as exc:
        db.session.rollback()
        errors = errors_by_input(exc.errors) or {spec.name: [exc.message]}
        # 422 for both: htmx swaps a 422 in (app config), so the message shows at the field.
        return render_page(form, spec=spec, errors=errors, posted=request.form, status=422,
                           **{kind: load(actor, record_id)})
    if not is_htmx():
        return redirect(detail_url, code=303)
    return render_page(line, spec=spec, saved=True, **{kind: record})


NO_CHOICE = "none"  # the bulk bar's "No owner": a choice, unlike the placeholder (which posts nothing)


def bulk_choice(form, name: str) -> str | None:
    """The value picked in a bulk bar's select: None while its placeholder ("Choose an
    owner…") is showing, "" for "No owner", else the value. Without the placeholder an
    Assign pressed without a choice silently took every ticked row's owner away."""
    value = form.get(name) or None
    return "" if value == NO_CHOICE else value


def with_list_query(url: str, list_query: str | None) -> str:
    """`url` with the list's query string (a form field, so anything a client sends),
    re-encoded: a raw CR/LF in it made the redirect's Location header a 500."""
    query = urlencode(parse_qsl(list_query or "", keep_blank_values=True))
    return f"{url}?{query}" if query else url


def chosen_ids(actor, form, list_spec, matching, name: str = "ids") -> tuple[list[int], bool]:
    """The ids a "with selected" form names, and whether they are "all N matching": the
    ticked rows, or (all_matching=1) every row the list's own search and filters match,
    re-run here from the list's query string (`list_query`) under the actor's visibility."""
    if form.get("all_matching") != "1":
        return ids_from_form(form, name), False
    params = list_spec.parse(MultiDict(parse_qsl(form.get("list_query", ""))))
    return matching(actor, params), True


def bulk_action(actor, *, kind: str, selected, matching, list_spec, bulk_delete, bulk_update, changes: dict):
    """A list's "with selected" form: export, delete (after a confirmation page), or one of
    `changes` ({action: (field, label)}) through the kind's bulk_update, on the ticked rows
    or all the rows matching the list (`matching(actor, params)` -> ids). `kind` is the
    singular ("contact"); its list is /pipelines/<kind>s and its endpoints <kind>s.*."""
    from flask import abort, flash, redirect, request, url_for

    from app.core.errors import ValidationFailed
    from app.core.htmx import render_page
    from app.core.permissions import require
    from app.extensions import db
    from app.pipelines import exports
    from app.pipelines.exports_web import csv_download

    plural = f"{kind}s"
    back = safe_next(request.form.get("next"), f"/pipelines/{plural}", url_for(f"{plural}.index"))
    action = request.form.get("action")
    try:
        ids, all_matching = chosen_ids(actor, request.form, list_spec, matching)
    except ValidationFailed as exc:
        flash(exc.message, "danger")
        return redirect(back, code=303)
    if not ids:
        flash(f"Select one or more {plural} first." if not all_matching else f"No {plural} match.", "warning")
        return redirect(back, code=303)
    if action == "export":
        if all_matching:  # the list's own export: it streams, or becomes a job when large
            return redirect(with_list_query(url_for(f"{plural}.export"), request.form.get("list_query")), code=303)
        return csv_download(exports.export_selected(actor, plural, ids))
    if action == "delete":
        require(actor, f"{plural}.delete")
        if request.form.get("confirmed") != "1":
            shown = selected(actor, ids[:BULK_SHOWN] if all_matching else ids)
            return render_page(f"pipelines/{plural}/confirm_bulk_delete.html", back=back,
                               count=len(ids) if all_matching else len(shown), all_matching=all_matching,
                               list_query=request.form.get("list_query", ""), **{plural: shown})
        count = bulk_delete(actor, ids)
        flash(f"{count} {kind}{'s' if count != 1 else ''} deleted.", "success")
        return redirect(back, code=303)
    if action not in changes:
        abort(400)
    name, label = changes[action]
    value = bulk_choice(request.form, name)
    if value is None:
        flash(f"Choose the new {label} first.", "warning")
        return redirect(back, code=303)
    try:
        count = bulk_update(actor, ids, {name: value})
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(back, code=303)
    flash(f"Changed the {label} of {count:,} {kind}{'s' if count != 1 else ''}.", "success")
    return redirect(back, code=303)
