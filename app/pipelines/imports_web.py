"""Import / export screens: download CSVs; upload, map columns with a preview, watch progress."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required

from app.core.csv_export import csv_response
from app.core.errors import ValidationFailed
from app.core.htmx import render_page
from app.core.permissions import require
from app.core.web import browser_actor
from app.pipelines import exports, imports
from app.pipelines.exports_web import csv_or_progress

bp = Blueprint("imports", __name__, url_prefix="/pipelines/import-export")


@bp.route("/")
@login_required
def index():
    actor = browser_actor()
    require(actor, "crm.import", "crm.export")
    recent = imports.recent_imports(actor) if actor.can("crm.import") else []
    return render_page("pipelines/import_export/index.html", importers=imports.IMPORTERS, recent=recent,
                       recent_exports=exports.recent_exports(actor), errors={}, section="import")


@bp.route("/export/<kind>")
@login_required
def export(kind: str):
    """Every record of a kind you can see, in the columns an import reads back: the file
    at once when small, else an export job and its progress page."""
    imports.importer(kind)  # the kinds this page offers (404 for any other)
    return csv_or_progress(exports.export_now_or_later(browser_actor(), kind, {}, layout="import"))


@bp.route("/imports", methods=["POST"])
@login_required
def upload():
    actor = browser_actor()
    file = request.files.get("file")
    kind = request.form.get("kind", "")
    try:
        if kind not in imports.IMPORTERS:
            raise ValidationFailed({"kind": ["Choose what the file contains."]})
        started = imports.start_import(actor, kind, file.filename if file else "", file.read() if file else b"")
    except ValidationFailed as exc:
        return render_page("pipelines/import_export/index.html", importers=imports.IMPORTERS, status=422,
                           recent=imports.recent_imports(actor), errors=exc.errors, chosen_kind=kind,
                           section="import")
    return redirect(url_for("imports.mapping", import_id=started.id), 303)


def _chosen_mapping(headers: list[str]) -> dict:
    return {h: request.form.get(f"map-{i}", "") for i, h in enumerate(headers)}


@bp.route("/imports/<id:import_id>/mapping", methods=["GET", "POST"])
@login_required
def mapping(import_id: int):
    actor = browser_actor()
    upload = imports.get_import(actor, import_id)
    if upload.status != "mapping":
        return redirect(url_for("imports.progress", import_id=upload.id))
    spec = imports.importer(upload.kind)
    headers, _ = imports.read_rows(upload.content)
    chosen, errors, mode = upload.mapping, {}, request.form.get("mode", upload.mode)
    if request.method == "POST":
        chosen = _chosen_mapping(headers)
        if request.form.get("action") == "import":
            try:
                imports.queue_import(actor, upload.id, chosen, mode)
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                return redirect(url_for("imports.progress", import_id=upload.id), 303)
    _, rows = imports.preview(upload, {h: f for h, f in chosen.items() if f})
    return render_page("pipelines/import_export/mapping.html", block="preview", upload=upload, spec=spec,
                       headers=headers, chosen=chosen, rows=rows, errors=errors, mode=mode, section="import",
                       fields=spec.fields(),
                       status=422 if errors else 200)


@bp.route("/imports/<id:import_id>")
@login_required
def progress(import_id: int):
    upload = imports.get_import(browser_actor(), import_id)
    if upload.status == "mapping":
        return redirect(url_for("imports.mapping", import_id=upload.id))
    return render_page("pipelines/import_export/progress.html", block="progress", upload=upload,
                       spec=imports.importer(upload.kind), section="import")


@bp.route("/imports/<id:import_id>/errors.csv")
@login_required
def error_report(import_id: int):
    upload = imports.get_import(browser_actor(), import_id)
    rows = ({"row": e["row"], "field": field, "message": message}
            for e in upload.errors for field, messages in e["errors"].items() for message in messages)
    return csv_response(["row", "field", "message"], list(rows), f"import-{upload.id}-errors.csv")


@bp.route("/imports/<id:import_id>/cancel", methods=["POST"])
@login_required
def cancel(import_id: int):
    actor = browser_actor()
    upload = imports.get_import(actor, import_id)
    imports.discard_import(actor, upload.id)
    flash(f"Import of \u201c{upload.filename}\u201d discarded.", "success")
    return redirect(url_for("imports.index"), 303)
