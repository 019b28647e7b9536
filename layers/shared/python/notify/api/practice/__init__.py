"""The practice API's routers, one module per concern."""
