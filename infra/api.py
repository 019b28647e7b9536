"""The REST API: practice webhook (signed) and patient links, both Lambda proxies."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct


class ApiConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, webhook: lambda_.IFunction,
                 links: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.api = apigw.RestApi(
            self, "Api",
            deploy_options=apigw.StageOptions(
                stage_name="v1", tracing_enabled=True,
                throttling_rate_limit=200, throttling_burst_limit=400,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=False, protocol=True,
                    request_time=True, resource_path=True, response_length=True,
                    status=True, user=False)),
            cloud_watch_role=True,
        )
        validator = self.api.add_request_validator("Params", validate_request_parameters=True,
                                                 validate_request_body=True)
        webhook_integration = apigw.LambdaIntegration(webhook)
        links_integration = apigw.LambdaIntegration(links)

        practice = self.api.root.add_resource("v1").add_resource("practices") \
            .add_resource("{practice_id}")
        practice.add_resource("events").add_method(
            "POST", webhook_integration, request_validator=validator,
            request_parameters={"method.request.path.practice_id": True})
        # Signed reads: ledger (B5), notices (B6), SMS usage (C7).
        practice.add_resource("appointments").add_resource("{appointment_id}") \
            .add_method("GET", webhook_integration)
        practice.add_resource("patients").add_resource("{patient_id}") \
            .add_resource("messages").add_method("GET", webhook_integration)
        practice.add_resource("notices").add_method("GET", webhook_integration)
        practice.add_resource("usage").add_method("GET", webhook_integration)
        # Recalls: manual send (K4, K5), blocked numbers (K4), statistics (K6).
        practice.add_resource("recalls").add_method("POST", webhook_integration)
        blocked = practice.add_resource("blocked-numbers")
        blocked.add_method("GET", webhook_integration)
        blocked.add_resource("{number}").add_method("PUT", webhook_integration)
        practice.add_resource("statistics").add_method("GET", webhook_integration)

        link = self.api.root.add_resource("l").add_resource("{token}")
        link.add_method("GET", links_integration, request_validator=validator,
                        request_parameters={"method.request.path.token": True})
        link.add_resource("reschedule").add_method("GET", links_integration)
        link.add_resource("{action}").add_method("POST", links_integration)
        link.add_resource("receipt").add_method("POST", links_integration)
        link.add_resource("device").add_method("POST", links_integration)
        offer = link.add_resource("offer").add_resource("{slot_id}")
        offer.add_method("GET", links_integration)
        offer.add_method("POST", links_integration)
        # A recall's tracked link (K2): viewed, then the practice's booking page.
        self.api.root.add_resource("r").add_resource("{token}").add_method(
            "GET", links_integration, request_validator=validator,
            request_parameters={"method.request.path.token": True})

        NagSuppressions.add_resource_suppressions(self.api, [
            {"id": "AwsSolutions-APIG4", "reason": "Webhook requests are authenticated by the "
             "practice's HMAC signature in the function; patient links by their unguessable "
             "token. Neither caller can hold IAM or Cognito credentials."},
            {"id": "AwsSolutions-COG4", "reason": "No Cognito users: see APIG4."},
            {"id": "AwsSolutions-APIG3", "reason": "WAF is attached per environment by the "
             "platform team's firewall manager policy, not by this stack."},
            {"id": "AwsSolutions-IAM4", "reason": "API Gateway's CloudWatch role uses the "
             "AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy by design."},
        ], apply_to_children=True)
