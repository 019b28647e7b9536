"""The patient pages' routers, one module per concern."""
