"""A sample value for a botocore shape, shared by the member tests (lambda_members.py,
model_members.py), which send every member of an operation's input alone.

Samples follow the shape: enums take their first value that asks for something (not one of
`off`), booleans are true, strings and lists respect their minimum length, and structures carry
their required members (a structure without any carries its first member). Shapes nested more
than six deep sample as None, so recursive shapes end.
"""


def sample(shape, off, blob, depth=0):
    """One sample value for `shape`. `off` holds the enum values that ask for nothing (an enum
    of nothing else samples as its first value); `blob` is the value of a blob member (bytes
    for a boto3 client, base64 text for a JSON body)."""
    kind = shape.type_name
    if depth > 6:
        return None
    if kind == "structure":
        out = {}
        for name in shape.required_members:
            out[name] = sample(shape.members[name], off, blob, depth + 1)
        if not out and shape.members:
            name = next(iter(shape.members))
            out[name] = sample(shape.members[name], off, blob, depth + 1)
        return out
    if kind == "list":
        return [sample(shape.member, off, blob, depth + 1)]
    if kind == "map":
        return {"k": sample(shape.value, off, blob, depth + 1)}
    if kind == "string":
        enum = shape.enum
        if enum:
            for value in enum:
                if value not in off:
                    return value
            return enum[0]
        length = shape.metadata.get("min", 1) or 1
        return "x" * max(1, length)
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "blob":
        return blob
    if kind == "timestamp":
        return 1700000000
    return None
