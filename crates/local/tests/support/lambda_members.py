"""Every member of every Lambda operation the stack serves (from botocore's model) is either
honoured or refused by name. Each non-path member is sent with a sample value from its shape;
a member listed as refused must be answered with an error naming it and saying durapipe does
not support it, any other must not. Prints one JSON line: {"checked": n, "failures": [...]}.

Usage: python lambda_members.py <endpoint> <environment>
"""
import json
import sys
import time

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

from shape_sample import sample

endpoint, env = sys.argv[1], sys.argv[2]
lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
model = lam.meta.service_model

# The served operations and the members each refuses by name (all others are honoured).
REFUSED = {
    "Invoke": {"LogType", "ClientContext"},
    "GetFunction": set(),
    "GetFunctionConfiguration": set(),
    "ListFunctions": {"MasterRegion", "FunctionVersion"},
    "ListDurableExecutionsByFunction": set(),
    "GetDurableExecution": set(),
    "GetDurableExecutionHistory": set(),
    "GetDurableExecutionState": set(),
    "CheckpointDurableExecution": set(),
    "StopDurableExecution": set(),
}
# Enum values that ask for nothing (shape_sample.py samples the first other value).
OFF = {"NONE", "None", "STANDARD"}


# A durable execution to address: start the orchestrator asynchronously.
started = lam.invoke(FunctionName=f"{env}-orchestrator", InvocationType="Event", Payload=b"{}")
arn = started["ResponseMetadata"]["HTTPHeaders"]["x-amz-durable-execution-arn"]
time.sleep(0.5)
BASE = {
    "FunctionName": f"{env}-validate",
    "DurableExecutionArn": arn,
    "CallbackId": "x",
}

checked, failures = 0, []
for op, refused in REFUSED.items():
    shape = model.operation_model(op).input_shape
    method = getattr(lam, xform_name(op))
    base = {n: BASE[n] for n in shape.required_members if n in BASE}
    if op == "ListDurableExecutionsByFunction":
        base["FunctionName"] = f"{env}-orchestrator"
    if op == "GetDurableExecutionState" or op == "CheckpointDurableExecution":
        base["CheckpointToken"] = "not-a-token"
    for name, member in shape.members.items():
        if member.serialization.get("location") == "uri":
            continue
        params = dict(base)
        params[name] = sample(member, OFF, b"{}")
        try:
            method(**params)
            message = ""
        except ClientError as e:
            message = e.response.get("Error", {}).get("Message", "") or str(e.response)
        is_refused = "not supported by durapipe" in message and name in message
        if is_refused != (name in refused):
            failures.append({"op": op, "member": name, "refused": is_refused, "message": message})
        checked += 1
print(json.dumps({"checked": checked, "failures": failures}))
