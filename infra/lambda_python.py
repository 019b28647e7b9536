"""The Python version of the Lambda runtime: the layer's wheels and bytecode are built for
it (infra/build_layer.py) and the functions run on it (infra/function_factory.py).

3.13 rather than 3.14: the layer ships precompiled bytecode, which needs an interpreter of
the runtime's version at build time, and 3.13 is the newest one our build machines have.
"""

VERSION = "3.13"
