"""The table: appointments, patients, practices, ledger, links; its stream drives planning.

Functions get exactly the item operations their code calls (`grant`), never the
read/write bundles of `grant_read_write_data` (which include Scan, DeleteItem and
BatchWriteItem). A transaction needs the per-item actions (PutItem, UpdateItem,
ConditionCheckItem...) of what it writes; there is no "TransactWriteItems" permission.
"""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from cdk_nag import NagSuppressions
from constructs import Construct

INDEXES = ("gsi1", "gsi2")


class DataConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute="expires_at",
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in INDEXES:
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=f"{index}pk", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=f"{index}sk", type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )

    def grant(self, grantee: iam.IGrantable, *operations: str) -> None:
        """Allow exactly these item operations (`GetItem`, `Query`...) on the table, and
        queries on its indexes too."""
        items = [f"dynamodb:{op}" for op in operations if op != "Query"]
        if items:
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(actions=items, resources=[self.table.table_arn])
            )
        if "Query" in operations:
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"], resources=[self.table.table_arn, f"{self.table.table_arn}/index/*"]
                )
            )
            NagSuppressions.add_resource_suppressions(
                grantee,
                [
                    {
                        "id": "AwsSolutions-IAM5",
                        "reason": "Queries read the table's own secondary indexes (gsi1: calendars and "
                        "due recalls, gsi2: a patient's items); index/* names only them.",
                        "appliesTo": [{"regex": "/^Resource::<DataTable[0-9A-F]+\\.Arn>/index/\\*$/g"}],
                    }
                ],
                apply_to_children=True,
            )
