"""The spec's rules as pure functions over small models: no AWS, no environment, no clock."""
