"""IAM, mirrored: every AWS call a handler makes is checked against the policies the
synthesised template gives that function's role, and refused as AWS refuses it
(AccessDeniedException) when no statement allows it.

moto does not enforce IAM, so without this a function could call an operation its role
lacks and every local test would still pass, while the first real call on AWS fails.
The check maps each call to the IAM action(s) and resource ARN(s) AWS authorises it
against (a DynamoDB transaction needs the per-item actions of what it writes; a
schedule creation also needs iam:PassRole on the role it hands to Scheduler).
Conditions are not evaluated (the policies here have none that narrow access).
"""

from __future__ import annotations

import fnmatch
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .template import Template

ACTING = threading.local()  # .function: the handler whose code is running on this thread


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in self.actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in self.resources
        )


class AccessDenied(Exception):
    pass


class PolicyBook:
    """The Allow statements of each function's role, resolved to local ARNs."""

    def __init__(
        self,
        template: Template,
        resolve: Callable[[Any], Any],
        function_names: dict[str, str],
        region: str,
        account: str,
    ) -> None:
        self.region, self.account = region, account
        role_of = {}
        for logical, resource in template.of_type("AWS::Lambda::Function").items():
            if logical in function_names:
                role_of[resource["Properties"]["Role"]["Fn::GetAtt"][0]] = function_names[logical]
        self.statements: dict[str, list[Statement]] = {name: [] for name in role_of.values()}
        for policy in template.of_type("AWS::IAM::Policy").values():
            properties = policy["Properties"]
            names = [role_of[r["Ref"]] for r in properties["Roles"] if r.get("Ref") in role_of]
            for raw in properties["PolicyDocument"]["Statement"]:
                if raw.get("Effect") != "Allow":
                    continue
                statement = Statement(
                    _listed(raw["Action"]), tuple(str(r) for r in _listed(resolve(raw["Resource"])))
                )
                for name in names:
                    self.statements[name].append(statement)
        # The statements do not change once read: each answer is kept (bounded: schedule
        # names make resources without end), a DynamoDB call's checked once per table.
        self._allowed = functools.lru_cache(maxsize=4096)(self._allows)

    def check(self, function: str, service: str, operation: str, params: dict[str, Any]) -> None:
        """Raise AccessDenied unless `function`'s role allows this call."""
        for action, resource in self.required(service, operation, params):
            if not self._allowed(function, action, resource):
                raise AccessDenied(f"{function} is not authorized to perform: {action} on resource: {resource}")

    def _allows(self, function: str, action: str, resource: str) -> bool:
        return any(s.allows(action, resource) for s in self.statements.get(function, []))

    # -- what AWS authorises each call against ----------------------------------------------
    def required(self, service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        if service == "dynamodb":
            return self._dynamodb(operation, params, arn)
        if service == "scheduler":
            group = params.get("GroupName", "default")
            needed = [(f"scheduler:{operation}", arn.format("scheduler", f"schedule/{group}/{params['Name']}"))]
            role = (params.get("Target") or {}).get("RoleArn")
            return needed + ([("iam:PassRole", role)] if role else [])
        if service == "lambda" and operation == "Invoke":
            name = params["FunctionName"]
            return [
                (
                    "lambda:InvokeFunction",
                    name if name.startswith("arn:") else arn.format("lambda", f"function:{name}"),
                )
            ]
        if service == "stepfunctions":
            return [(f"states:{operation}", params.get("stateMachineArn") or params.get("executionArn", "*"))]
        if service == "sns":
            if operation == "CreatePlatformEndpoint":
                return [("sns:CreatePlatformEndpoint", params["PlatformApplicationArn"])]
            target = params.get("TargetArn") or params.get("TopicArn") or params.get("EndpointArn") or "*"
            return [(f"sns:{operation}", target)]
        if service == "sesv2" and operation == "SendEmail":
            domain = params["FromEmailAddress"].rsplit("@", 1)[1]
            needed = [("ses:SendEmail", arn.format("ses", f"identity/{domain}"))]
            if params.get("ConfigurationSetName"):
                needed.append(
                    ("ses:SendEmail", arn.format("ses", f"configuration-set/{params['ConfigurationSetName']}"))
                )
            return needed
        if service == "sqs":
            # A queue URL ends in its account and name; SQS authorises against the queue's ARN.
            name = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
            return [(f"sqs:{operation}", arn.format("sqs", name))]
        if service == "kms":
            key = params["KeyId"]
            return [(f"kms:{operation}", key if key.startswith("arn:") else arn.format("kms", f"key/{key}"))]
        raise AccessDenied(f"no IAM mapping for {service}.{operation}: add it to local/iam.py")

    @staticmethod
    def _dynamodb(operation: str, params: dict[str, Any], arn: str) -> list[tuple[str, str]]:
        def table(name: str) -> str:
            return arn.format("dynamodb", f"table/{name}")

        if operation == "TransactWriteItems":
            per_item = {
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }
            return [
                (f"dynamodb:{per_item[kind]}", table(item["TableName"]))
                for entry in params["TransactItems"]
                for kind, item in entry.items()
            ]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", table(e["Get"]["TableName"])) for e in params["TransactItems"]]
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
        resource = table(params["TableName"])
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]


def _listed(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def enforce(book: PolicyBook) -> None:
    """Check every botocore call made while a handler runs (see ACTING)."""
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call
    if getattr(original, "_iam_enforced", False):
        original = original.__wrapped__  # type: ignore[attr-defined]

    def checked(self: Any, operation: str, params: dict[str, Any]) -> Any:
        function = getattr(ACTING, "function", None)
        if function is not None:
            try:
                book.check(function, self.meta.service_model.service_name, operation, params)
            except AccessDenied as exc:
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": str(exc)}}, operation
                ) from None
        return original(self, operation, params)

    checked._iam_enforced = True  # type: ignore[attr-defined]
    checked.__wrapped__ = original  # type: ignore[attr-defined]
    botocore.client.BaseClient._make_api_call = checked  # type: ignore[method-assign]
