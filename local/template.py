"""The synthesised CloudFormation template, with its intrinsic functions resolved against
the resources the local deploy created."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "cdk.out" / "PatientNotify.template.json"


class Template:
    def __init__(self, path: Path = TEMPLATE) -> None:
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `make synth` first")
        self.body: dict[str, Any] = json.loads(path.read_text())
        self.resources: dict[str, dict[str, Any]] = self.body["Resources"]
        self.parameters: dict[str, dict[str, Any]] = self.body.get("Parameters", {})
        self.conditions: dict[str, Any] = self.body.get("Conditions", {})

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub and Fn::If (with
    the template's conditions: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition).

    `ref(logical_id)` and `attr(logical_id, name)` come from the deploy, which knows
    the physical names it chose.
    """

    def __init__(
        self,
        ref: Callable[[str], str],
        attr: Callable[[str, str], str],
        pseudo: dict[str, str],
        parameters: dict[str, str],
        conditions: dict[str, Any] | None = None,
    ) -> None:
        self._ref = ref
        self._attr = attr
        self._pseudo = pseudo
        self._parameters = parameters
        self._conditions = conditions or {}

    def condition(self, name: str) -> bool:
        return self._truth(self._conditions[name])

    def _truth(self, expression: Any) -> bool:
        ((key, arg),) = expression.items()
        if key == "Fn::Equals":
            return str(self(arg[0])) == str(self(arg[1]))
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self._truth(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        raise NotImplementedError(f"condition {key}")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._lookup(arg)
            if key == "Fn::GetAtt":
                logical, name = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._attr(logical, name)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self(p)) for p in self(parts))
            if key == "Fn::Select":
                index, items = arg
                return self(items)[int(self(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self(text)).split(sep)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self(if_true if self.condition(name) else if_false)
        return {k: self(v) for k, v in value.items()}

    def _lookup(self, name: str) -> str:
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        return self._ref(name)

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        out = text
        for key, val in variables.items():
            out = out.replace("${" + key + "}", str(self(val)))
        while "${" in out:
            start = out.index("${")
            end = out.index("}", start)
            name = out[start + 2 : end]
            value = self._attr(*name.split(".", 1)) if "." in name else self._lookup(name)
            out = out[:start] + str(value) + out[end + 1 :]
        return out
