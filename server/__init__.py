"""leadbridge server: the Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import swagger_ui_bundle
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, redirect, send_from_directory, url_for
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from server import config
from server.extensions import api, db, migrate, tune_engine
from server.fields import MAX_ID

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


class IdConverter(IntegerConverter):
    """A path id that fits a database integer key; anything else is a 404."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def schema_name(schema: Any) -> str:
    """Name a schema in the OpenAPI document; a partial (PATCH) body gets its own name."""
    schema_class = schema if isinstance(schema, type) else type(schema)
    name = schema_class.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


def _api_settings() -> dict[str, Any]:
    return {
        "API_TITLE": "leadbridge",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served from the swagger-ui-bundle package, so the docs work on a venue's offline laptop.
        "OPENAPI_SWAGGER_UI_URL": "/api/swagger-ui/",
        "API_SPEC_OPTIONS": {
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
            "info": {
                "description": "Capture leads at trade shows and hand them to sales at once. "
                "Users log in at /api/v1/auth/login; tablets pair at /api/v1/devices/pair. "
                "Send the token as 'Authorization: Bearer <token>'.",
            },
        },
    }


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the leadbridge application."""
    from server.privacy.scrub import install_log_scrubbing

    # Before anything logs: no email address or phone number reaches any log handler.
    install_log_scrubbing()
    app = Flask(__name__, instance_path=config.instance_dir(), instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    given = test_config or {}
    app.config.update(_api_settings())
    app.config.update(config.from_environment(app.instance_path, given))
    app.config.update(given)
    config.size_connection_pool(app.config)
    config.hide_statement_parameters(app.config)
    config.encode_json_columns_fast(app.config)
    app.json.sort_keys = False
    app.url_map.converters["id"] = IdConverter

    db.init_app(app)
    with app.app_context():
        tune_engine(db.engine)
    from server.read_transactions import init_read_transactions

    init_read_transactions(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    api.init_app(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name)})

    from server import models  # noqa: F401 - registers every table with the metadata
    from server.ack.views import blp as ack_blp
    from server.auth.views import blp as auth_blp
    from server.devices.views import blp as devices_blp
    from server.errors import register_error_handlers
    from server.events.views import blp as events_blp
    from server.exports.views import blp as exports_blp
    from server.leads.views import blp as leads_blp
    from server.limits import init_limits
    from server.ops import init_ops
    from server.stats.views import blp as stats_blp
    from server.sync.views import blp as sync_blp
    from server.users.views import blp as users_blp
    from server.web import init_web

    for blueprint in (auth_blp, users_blp, events_blp, devices_blp, leads_blp, sync_blp):
        api.register_blueprint(blueprint)
    api.register_blueprint(stats_blp)
    api.register_blueprint(exports_blp)
    from server.privacy.views import blp as privacy_blp

    api.register_blueprint(privacy_blp)
    from server.alerts.views import blp as alerts_blp

    api.register_blueprint(alerts_blp)
    from server.crm.views import blp as crm_blp

    api.register_blueprint(crm_blp)
    app.register_blueprint(ack_blp)
    from server.attachments.photo_link import blp as card_photo_blp
    from server.attachments.storage import init_storage
    from server.attachments.views import blp as attachments_blp

    api.register_blueprint(attachments_blp)
    app.register_blueprint(card_photo_blp)
    init_storage(app)
    init_web(app)
    register_error_handlers(app)
    # Request ids first, so every later hook (and a 429) logs and answers with one.
    init_ops(app)
    init_limits(app)

    @app.get("/")
    def index() -> Response:
        # Browsers land on the web pages; the API documents itself at /api/docs.
        return redirect("/web/")

    @app.get("/favicon.ico")
    def favicon() -> Response:
        # Browsers ask for this before reading a page's <link rel="icon"> (and for the API).
        return redirect(url_for("static", filename="favicon.svg"), code=301)

    @app.get("/api/swagger-ui/<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return app
