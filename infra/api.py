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

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from cdk_nag import NagSuppressions
from constructs import Construct

STAGE = "v1"
# Requests per second (steady) and burst, per method.
PRACTICE_LIMITS = (100, 200)
LINK_LIMITS = (50, 100)
# WAF rate-based rules: requests per client IP in any 5-minute window.
LINK_REQUESTS_PER_IP = 300
ALL_REQUESTS_PER_IP = 3000
LINK_PATHS = r"^/([^/]+/)?[lr]/"


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
        webhook_integration = apigw.LambdaIntegration(webhook)
        links_integration = apigw.LambdaIntegration(links)

        def practice_route(resource: apigw.IResource, method: str, **options) -> None:
            resource.add_method(method, webhook_integration, **options)
            self._methods.append((resource.path, method, PRACTICE_LIMITS))

        def link_route(resource: apigw.IResource, method: str, **options) -> None:
            resource.add_method(method, links_integration, **options)
            self._methods.append((resource.path, method, LINK_LIMITS))

        practice = self.api.root.add_resource("practices").add_resource("{practice_id}")
        practice_route(
            practice.add_resource("events"),
            "POST",
            request_validator=validator,
            request_parameters={"method.request.path.practice_id": True},
        )
        # Signed reads: ledger (B5), notices (B6), SMS usage (C7).
        practice_route(practice.add_resource("appointments").add_resource("{appointment_id}"), "GET")
        practice_route(
            practice.add_resource("patients").add_resource("{patient_id}").add_resource("messages"), "GET"
        )
        practice_route(practice.add_resource("notices"), "GET")
        practice_route(practice.add_resource("usage"), "GET")
        # Recalls: manual send (K4, K5), blocked numbers (K4), statistics (K6).
        practice_route(practice.add_resource("recalls"), "POST")
        blocked = practice.add_resource("blocked-numbers")
        practice_route(blocked, "GET")
        practice_route(blocked.add_resource("{number}"), "PUT")
        practice_route(practice.add_resource("statistics"), "GET")

        link = self.api.root.add_resource("l").add_resource("{token}")
        link_route(
            link, "GET", request_validator=validator, request_parameters={"method.request.path.token": True}
        )
        link_route(link.add_resource("reschedule"), "GET")
        link_route(link.add_resource("{action}"), "POST")
        link_route(link.add_resource("receipt"), "POST")
        link_route(link.add_resource("device"), "POST")
        offer = link.add_resource("offer").add_resource("{slot_id}")
        link_route(offer, "GET")
        link_route(offer, "POST")
        # A recall's tracked link (K2): the practice's booking page.
        link_route(
            self.api.root.add_resource("r").add_resource("{token}"),
            "GET",
            request_validator=validator,
            request_parameters={"method.request.path.token": True},
        )

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
