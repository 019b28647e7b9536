"""The two HTTP APIs as powertools routers: the practice API (practice/, signed requests,
JSON) and the patient pages (patient/, link tokens, HTML). Cross-cutting checks are one
guard per API (guard.py); domain refusals become HTTP answers in one module (errors.py)."""
