"""The schedule group for message schedules and the role Scheduler invokes with.

The group's name is left to CloudFormation (unique per stack) and the group is deleted
with the stack, schedules included: a fixed, retained name would make deleting and
re-creating the stack fail on "already exists" (and leave schedules that fire into
deleted functions).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct


class SchedulingConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group")
        self.group.apply_removal_policy(RemovalPolicy.DESTROY)
        self.group_name = self.group.ref  # Ref of a schedule group is its name
        self.role = iam.Role(self, "InvokeRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        dead_letters.grant_send_messages(self.role)
        self.dead_letters = dead_letters

    def allow_target(self, target: lambda_.IFunction) -> None:
        target.grant_invoke(self.role)
        NagSuppressions.add_resource_suppressions(
            self.role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "CDK's invoke grant names the function and its versions (':*').",
                    "appliesTo": [{"regex": "/^Resource::<Functions[A-Za-z_]+[0-9A-F]{8}\\.Arn>:\\*$/g"}],
                }
            ],
            apply_to_children=True,
        )

    def allow_planner(self, planner: lambda_.Function) -> None:
        """Create / delete schedules of this group only, passing only our role."""
        stack = Stack.of(self)
        planner.add_to_role_policy(
            iam.PolicyStatement(
                actions=["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
                resources=[
                    stack.format_arn(
                        service="scheduler", resource="schedule", resource_name=f"{self.group_name}/*"
                    )
                ],
            )
        )
        self.role.grant_pass_role(planner)
        NagSuppressions.add_resource_suppressions(
            planner,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Schedule names are per appointment (and per practice for recalls); "
                    "the wildcard is confined to our schedule group.",
                    "appliesTo": [{"regex": "/^Resource::arn:<AWS::Partition>:scheduler:.*/g"}],
                }
            ],
            apply_to_children=True,
        )
