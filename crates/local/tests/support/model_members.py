"""Prints, for every operation of botocore's SQS and DynamoDB models, one sample value per
member of its input shape (and of batch entries), as JSON:
{"sqs": {"Op": {"members": {"Member": value}, "entries": {"Member": value}}}, "dynamodb": ...}

Samples come from shape_sample.py (enum values NONE and STANDARD ask for nothing; blobs are
base64 text, as in a JSON body). The test sends each alone and checks the answer.
"""
import json

import botocore.session

from shape_sample import sample

OFF = {"NONE", "STANDARD"}
BLOB = "eA=="


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
                members[name] = sample(member, OFF, BLOB)
            entry_list = shape.members.get("Entries")
            if entry_list is not None and entry_list.type_name == "list":
                entry = entry_list.member
                for name, member in entry.members.items():
                    entries[name] = sample(member, OFF, BLOB)
        out[op_name] = {"members": members, "entries": entries}
    return out


print(json.dumps({"sqs": walk("sqs"), "dynamodb": walk("dynamodb")}))
