"""One module per outside service, exposing the few verbs the services need."""
