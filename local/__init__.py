"""The local stack: the product's real handlers on moto, with a controllable clock.

emulator.py  moto in server mode (DynamoDB serialised like the real service) + patches
template.py  reads the synthesised CDK template and resolves its intrinsics
deploy.py    creates the template's resources in moto (no second list to drift)
runtime.py   invokes a handler in-process, as Lambda would
router.py    what AWS does between the pieces: streams, schedules, async invokes
http_api.py  the API Gateway routes over HTTP, plus the local control API
stack.py     all of the above, started and stopped together
"""
