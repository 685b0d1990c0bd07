"""Prints, for every operation of botocore's SQS and DynamoDB models, one sample value per
member of its input shape (and of batch entries), as JSON:
{"sqs": {"Op": {"members": {"Member": value}, "entries": {"Member": value}}}, "dynamodb": ...}

Samples follow the shape: enums take their first value that asks for something (not NONE,
STANDARD or false), booleans are true, strings and lists respect their minimum length, and
structures carry their required members. The test sends each alone and checks the answer.
"""
import json

import botocore.session

OFF = {"NONE", "STANDARD"}


def sample(model, depth=0):
    kind = model.type_name
    if depth > 6:
        return None
    if kind == "structure":
        out = {}
        for name in model.required_members:
            out[name] = sample(model.members[name], depth + 1)
        if not out and model.members:
            name = next(iter(model.members))
            out[name] = sample(model.members[name], depth + 1)
        return out
    if kind == "list":
        return [sample(model.member, depth + 1)]
    if kind == "map":
        return {"k": sample(model.value, depth + 1)}
    if kind == "string":
        enum = model.enum
        if enum:
            for value in enum:
                if value not in OFF:
                    return value
            return enum[0]
        length = model.metadata.get("min", 1) or 1
        return "x" * max(1, length)
    if kind in ("integer", "long"):
        return max(1, model.metadata.get("min", 1))
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "blob":
        return "eA=="
    if kind == "timestamp":
        return 1700000000
    return None


def walk(service):
    model = botocore.session.get_session().get_service_model(service)
    out = {}
    for op_name in model.operation_names:
        op = model.operation_model(op_name)
        shape = op.input_shape
        members = {}
        entries = {}
        if shape is not None:
            for name, member in shape.members.items():
                members[name] = sample(member)
            entry_list = shape.members.get("Entries")
            if entry_list is not None and entry_list.type_name == "list":
                entry = entry_list.member
                for name, member in entry.members.items():
                    entries[name] = sample(member)
        out[op_name] = {"members": members, "entries": entries}
    return out


print(json.dumps({"sqs": walk("sqs"), "dynamodb": walk("dynamodb")}))
