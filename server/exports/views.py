"""REST resources that download an event's leads as CSV or XLSX."""

from __future__ import annotations

from flask.views import MethodView
from werkzeug.wrappers import Response

from server.auth.guard import authorize
from server.auth.principal import current_principal
from server.events.access import get_visible_event
from server.exports.service import EXPORTERS, XLSX_TYPE, csv_response, xlsx_response
from server.json_body import Blueprint

blp = Blueprint(
    "exports", __name__, url_prefix="/api/v1/events", description="Lead exports for spreadsheets."
)
_FILE = {"type": "string", "format": "binary"}


@blp.route("/<id:event_id>/leads.csv")
class LeadsCsv(MethodView):
    @authorize(*EXPORTERS)
    @blp.response(200, _FILE, content_type="text/csv", description="The leads, streamed.")
    def get(self, event_id: int) -> Response:
        """Download an event's leads as CSV (a rep gets only the leads they own)."""
        principal = current_principal()
        return csv_response(get_visible_event(principal, event_id), principal)


@blp.route("/<id:event_id>/leads.xlsx")
class LeadsXlsx(MethodView):
    @authorize(*EXPORTERS)
    @blp.response(200, _FILE, content_type=XLSX_TYPE, description="The leads, streamed.")
    def get(self, event_id: int) -> Response:
        """Download an event's leads as an Excel workbook (a rep gets only the leads they own)."""
        principal = current_principal()
        return xlsx_response(get_visible_event(principal, event_id), principal)
