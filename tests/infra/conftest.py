"""The CDK app is synthesised once per test session (jsii start-up is the slow part)."""

import pytest


@pytest.fixture(scope="session")
def synthesised():
    from aws_cdk.assertions import Template

    from infra.app import build_app

    app, stack = build_app()
    app.synth()
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="session")
def template(synthesised):
    return synthesised[1]
