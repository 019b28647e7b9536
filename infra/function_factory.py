"""One place that makes Lambda functions, so no Function(...) block is ever copied."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.lambda_python import VERSION
from infra.packaging import layer_dir, stage_function

RUNTIME = lambda_.Runtime(f"python{VERSION}", lambda_.RuntimeFamily.PYTHON)


class FunctionFactoryConstruct(Construct):
    """Creates `functions/<name>` with the shared layer, arm64, tracing and log retention."""

    def __init__(self, scope: Construct, construct_id: str, *, logs_key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.logs_key = logs_key
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            code=lambda_.Code.from_asset(str(layer_dir())),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="notify package, powertools, pynamodb, jinja2, babel, phonenumbers",
        )
        self.functions: dict[str, lambda_.Function] = {}

    def create(
        self, name: str, environment: dict[str, str], *, timeout_s: int = 30, memory_mb: int = 512
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH, encryption_key=self.logs_key
        )
        function = lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"functions.{name}.handler.lambda_handler",
            code=lambda_.Code.from_asset(str(stage_function(name))),
            layers=[self.layer],
            timeout=Duration.seconds(timeout_s),
            memory_size=memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": "patient-notify",
                "POWERTOOLS_METRICS_NAMESPACE": "PatientNotify",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
        NagSuppressions.add_resource_suppressions(
            function,
            [
                {
                    "id": "AwsSolutions-L1",
                    "reason": f"python{VERSION} (supported, not deprecated) so that the layer ships "
                    "bytecode compiled by the same Python: a cold start then skips compiling "
                    "the layer's modules (see infra/lambda_python.py).",
                }
            ],
        )
        # Active tracing writes X-Ray segments, which have no resource ARN.
        NagSuppressions.add_resource_suppressions(
            function,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "X-Ray PutTraceSegments / PutTelemetryRecords have no resource ARN.",
                    "appliesTo": ["Resource::*"],
                }
            ],
            apply_to_children=True,
        )
        self.functions[name] = function
        return function

    @staticmethod
    def allow_invoke(target: lambda_.Function, caller: lambda_.Function) -> None:
        """`caller` may invoke `target` (and only it: CDK adds its versions, ':*')."""
        target.grant_invoke(caller)
        NagSuppressions.add_resource_suppressions(
            caller,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "CDK's invoke grant names the function and its versions (':*').",
                    "appliesTo": [{"regex": "/^Resource::<Functions[A-Za-z_]+[0-9A-F]{8}\\.Arn>:\\*$/g"}],
                }
            ],
            apply_to_children=True,
        )
