"""The two resolvers, each with its routers and its error answers. The handlers serve them;
the CDK app builds API Gateway's resources from their routes (infra/api.py), and
docs/api/*.json are their OpenAPI documents: one list of routes for all three."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from . import errors

TITLES = {"practice": "Patient notifications: practice API", "patient": "Patient notifications: patient pages"}


def practice_app() -> APIGatewayRestResolver:
    """Signed requests from a practice's system, JSON answers. Each app's routers are
    imported by its own factory: the webhook's function never loads the patient pages,
    nor the pages' function the practice API's event models."""
    from .practice import contract, events, patients, reads
    from .practice import recalls as practice_recalls

    app = APIGatewayRestResolver(enable_validation=True)
    for module in (events, reads, patients, practice_recalls, contract):
        app.include_router(module.router)
    errors.register_json(app)
    return app


def patient_app() -> APIGatewayRestResolver:
    """Pages behind a patient's link, HTML answers (JSON for the app)."""
    from .patient import app as app_routes
    from .patient import appointment, groups, offers, recalls
    from .patient.pages import page_error

    app = APIGatewayRestResolver(enable_validation=True)
    # Literal routes first: /l/{token}/receipt and /offer/... win over /l/{token}/{action}.
    for module in (app_routes, offers, recalls, groups, appointment):
        app.include_router(module.router)
    errors.register_pages(app, page_error(app))
    return app


APPS = {"practice": practice_app, "patient": patient_app}
METHODS = ("get", "put", "post", "delete", "patch")


def routes(app: APIGatewayRestResolver) -> list[tuple[str, str]]:
    """(path, METHOD) of every route, paths as API Gateway writes them (/l/{token})."""
    schema = app.get_openapi_schema()
    return [
        (path, method.upper())
        for path, item in (schema.paths or {}).items()
        for method in METHODS
        if getattr(item, method) is not None
    ]
