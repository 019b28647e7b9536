"""Logger and metrics shared by every function (one service name).

No tracer on the import path: the X-Ray SDK (powertools' Tracer) was half of every cold
start. Lambda's active tracing (infra/function_factory.py) still records each invocation,
its initialisation and the API Gateway and Step Functions hops around it (D14).
"""

from aws_lambda_powertools import Logger, Metrics

SERVICE = "patient-notify"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="PatientNotify", service=SERVICE)
