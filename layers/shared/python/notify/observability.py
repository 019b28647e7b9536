"""Logger, tracer and metrics shared by every function (one service name)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "patient-notify"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="PatientNotify", service=SERVICE)
