"""The local stack: the product's real handlers on moto, with a controllable clock.

emulator.py       moto in server mode, in WSGI layers (serialised DynamoDB, faults, SES simulator)
moto_patches.py   every change made inside moto, its supported versions, checked at start
template.py       reads the synthesised CDK template and resolves its intrinsics
deploy.py         creates the template's resources in moto (no second list to drift)
iam.py            the roles' synthesised policies, enforced on every handler call
runtime.py        invokes a handler in-process, as Lambda would
router.py         what AWS does between the pieces, on the virtual clock:
  streams.py        Lambda's DynamoDB stream poller (filters, partial batches, DLQ)
  schedules.py      EventBridge Scheduler (one-shot and daily schedules)
  async_invokes.py  Lambda's async queue (retries, on-failure destinations)
  queues.py         Lambda's SQS poller (the paced SMS queue), on the virtual clock
  ttl.py            DynamoDB's TTL process (late, as on AWS)
http_api.py       the API Gateway routes over HTTP, plus the local control API
stack.py          all of the above, started and stopped together
"""
