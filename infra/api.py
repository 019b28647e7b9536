"""The REST API: practice webhook and API (signed) and patient links, both Lambda proxies.

The stage is `v1`, so the default URL of the webhook is `.../v1/practices/{id}/events`
and patient links are `.../v1/l/{token}`. Handlers route on the resource path and build
page URLs from the caller's own URL (notify/request_paths.py), so the same code works on
the default URL and behind a custom domain with a base-path mapping.

Throttling: API Gateway applies a stage's default limits to each method separately, and
every method here gets its own limits, lower for the public link routes than for the
practices' routes; a WAF web ACL adds per-client-IP rate rules (links tighter than the
rest). What all methods still share is the account's regional request quota and the
Lambda concurrency quota (docs/runbook.md, "Throttled requests").
"""

from __future__ import annotations

import re

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from cdk_nag import NagSuppressions
from constructs import Construct

from notify.api.apps import APPS, routes

STAGE = "v1"
# Requests per second (steady) and burst, per method.
PRACTICE_LIMITS = (100, 200)
LINK_LIMITS = (50, 100)
# WAF rate-based rules: requests per client IP in any 5-minute window.
LINK_REQUESTS_PER_IP = 300
ALL_REQUESTS_PER_IP = 3000
LINK_PATHS = r"^/([^/]+/)?[lrg]/"


class ApiConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        webhook: lambda_.IFunction,
        links: lambda_.IFunction,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self._methods: list[tuple[str, str, tuple[int, int]]] = []
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, encryption_key=logs_key
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            deploy=False,
            cloud_watch_role=True,
        )
        validator = self.api.add_request_validator(
            "Params", validate_request_parameters=True, validate_request_body=True
        )
        # Every route the two resolvers serve, and nothing else (an unknown path gets API
        # Gateway's 403 before any function runs); path parameters are required.
        for integration, name, limits in (
            (apigw.LambdaIntegration(webhook), "practice", PRACTICE_LIMITS),
            (apigw.LambdaIntegration(links), "patient", LINK_LIMITS),
        ):
            for path, method in routes(APPS[name]()):
                parameters = re.findall(r"{(\w+)}", path)
                self._resource(path).add_method(
                    method,
                    integration,
                    request_validator=validator,
                    request_parameters={f"method.request.path.{p}": True for p in parameters},
                )
                self._methods.append((path, method, limits))

        deployment = apigw.Deployment(self, "Deployment", api=self.api)
        self.stage = apigw.Stage(
            self,
            "Stage",
            deployment=deployment,
            stage_name=STAGE,
            tracing_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=False,
                http_method=True,
                ip=False,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=False,
            ),
            method_options={
                f"{path}/{method}": apigw.MethodDeploymentOptions(
                    throttling_rate_limit=rate, throttling_burst_limit=burst
                )
                for path, method, (rate, burst) in self._methods
            },
        )
        self.api.deployment_stage = self.stage
        self.web_acl = self._firewall()

        NagSuppressions.add_resource_suppressions(
            self.api,
            [
                {
                    "id": "AwsSolutions-APIG4",
                    "reason": "Practice requests are authenticated in the "
                    "function by the practice's signature (Standard Webhooks / RFC 9421); patient "
                    "links by their unguessable token. Neither caller holds IAM or Cognito credentials.",
                },
                {"id": "AwsSolutions-COG4", "reason": "No Cognito users: see APIG4."},
            ],
            apply_to_children=True,
        )
        NagSuppressions.add_resource_suppressions(
            self.api,
            [
                {
                    "id": "AwsSolutions-IAM4",
                    "reason": "API Gateway's account-level CloudWatch role "
                    "uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy by design.",
                    "appliesTo": [
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AmazonAPIGatewayPushToCloudWatchLogs"
                    ],
                },
            ],
            apply_to_children=True,
        )

    @property
    def url(self) -> str:
        """The stage's invoke URL (ends with a slash), the base of every patient link."""
        return self.api.url

    def _resource(self, path: str) -> apigw.IResource:
        """The resource of `path`, creating the missing parents."""
        resource = self.api.root
        for part in path.strip("/").split("/"):
            resource = resource.get_resource(part) or resource.add_resource(part)
        return resource

    def _firewall(self) -> wafv2.CfnWebACL:
        """Per-client-IP rate rules: the public link routes tighter than the rest."""

        def rate_rule(
            name: str, priority: int, limit: int, scope_down: wafv2.CfnWebACL.StatementProperty | None
        ) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=limit,
                        aggregate_key_type="IP",
                        evaluation_window_sec=300,
                        scope_down_statement=scope_down,
                    )
                ),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
                ),
            )

        # The link routes, on the default URL (/v1/l/...) and behind a custom domain with
        # or without a base path (/l/..., /notify/l/...).
        links = wafv2.CfnWebACL.StatementProperty(
            regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                regex_string=LINK_PATHS,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        # AWS's managed rules for request patterns known to exploit software (Log4j
        # lookups, Java deserialisation, localhost hosts...).
        known_bad_inputs = wafv2.CfnWebACL.RuleProperty(
            name="KnownBadInputs",
            priority=2,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet"
                )
            ),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name="KnownBadInputs", sampled_requests_enabled=True
            ),
        )
        acl = wafv2.CfnWebACL(
            self,
            "Firewall",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name="PatientNotifyApi", sampled_requests_enabled=True
            ),
            rules=[
                rate_rule("PatientLinksPerIp", 0, LINK_REQUESTS_PER_IP, links),
                rate_rule("AllRequestsPerIp", 1, ALL_REQUESTS_PER_IP, None),
                known_bad_inputs,
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "FirewallAssociation", web_acl_arn=acl.attr_arn, resource_arn=self.stage.stage_arn
        )
        return acl
