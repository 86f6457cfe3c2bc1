"""Export screens: a large export's progress page (polled by htmx) and its download."""
from flask import Blueprint, redirect, send_file, url_for
from flask_login import login_required

from app.core.csv_export import csv_response
from app.core.errors import Conflict
from app.core.htmx import render_page
from app.core.web import browser_actor
from app.pipelines import exports
from app.pipelines.exports import CsvExport

bp = Blueprint("exports", __name__, url_prefix="/pipelines/import-export/exports")


def csv_download(result: CsvExport):
    return csv_response(result.columns, result.rows, result.filename)


def csv_or_progress(result):
    """A small export as the CSV itself; a large one's job: off to its progress page."""
    if isinstance(result, CsvExport):
        return csv_download(result)
    return redirect(url_for("exports.progress", export_id=result.id), 303)


@bp.route("/<id:export_id>")
@login_required
def progress(export_id: int):
    export = exports.get_export(browser_actor(), export_id)
    return _progress_page(export)


def _progress_page(export, status: int = 200, message: str | None = None):
    return render_page("pipelines/import_export/export_progress.html", block="progress", export=export,
                       kind=exports.export_kind(export.kind), section="import", message=message, status=status)


@bp.route("/<id:export_id>/download")
@login_required
def download(export_id: int):
    actor = browser_actor()
    try:
        export, path = exports.export_file(actor, export_id)
    except Conflict as exc:
        return _progress_page(exports.get_export(actor, export_id), status=409, message=exc.message)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=export.filename,
                     max_age=0, conditional=False, etag=False)
